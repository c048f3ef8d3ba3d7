// test_model.c: the Model's load errors and forward/loss contracts on tiny models written by
// the test (config.json + model.safetensors). Numerical parity with PyTorch is
// tests/cli/model_parity.sh; here: a missing or mis-shaped tensor is an error naming it, an
// id outside the vocabulary names its position, the arena's size limit, and the loss's
// mask/normaliser convention on an all-zero model (uniform logits, so every -log p = log V).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/model.h"
#include "util/file.h"
#include "check.h"

static char tmpdir[256];

// A Llama with GQA (2 heads, 1 kv head), V = 11.
static const char *tiny_json =
    "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", \"vocab_size\": 11,"
    " \"hidden_size\": 8, \"intermediate_size\": 6, \"num_hidden_layers\": 1,"
    " \"num_attention_heads\": 2, \"num_key_value_heads\": 1, \"max_position_embeddings\": 16,"
    " \"rms_norm_eps\": 1e-5, \"tie_word_embeddings\": false}";

// Writes the tiny model into tmpdir/NAME with zero weights; tensor `skip` is left out and
// tensor `bad` gets one row too many (NULL: none).
static const char *write_tiny(const char *name, const char *skip, const char *bad) {
    static char dir[512];
    char path[600];
    snprintf(dir, sizeof dir, "%s/%s", tmpdir, name);
    mkdir(dir, 0755);
    Err e = {0};
    ModelConfig c;
    ModelTensorSpec *specs;
    size_t n, k = 0;
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (file_write_atomic(path, tiny_json, strlen(tiny_json), &e) ||
        model_config_parse(&c, tiny_json, strlen(tiny_json), path, &e) ||
        model_config_tensors(&c, &specs, &n, &e)) {
        printf("setup: %s\n", e.msg);
        exit(1);
    }
    StSaveTensor *ts = calloc(n, sizeof *ts);
    static float zeros[4096];
    for (size_t i = 0; i < n; i++) {
        if (skip && !strcmp(specs[i].name, skip)) continue;
        if (bad && !strcmp(specs[i].name, bad)) specs[i].shape[0]++;
        ts[k++] = (StSaveTensor){specs[i].name, specs[i].ndim, specs[i].shape, zeros};
    }
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (st_save(path, ts, k, ST_F32, 1, &e)) {
        printf("setup: %s\n", e.msg);
        exit(1);
    }
    free(ts);
    free(specs);
    return dir;
}

static void test_load_errors(void) {
    Model m;
    Err e = {0};
    const char *k = "model.layers.0.self_attn.k_proj.weight";
    int rc = model_load(&m, write_tiny("missing", k, NULL), &e);
    CHECK(rc == -1 && strstr(e.msg, k) && strstr(e.msg, "missing"), "missing tensor named: %s", e.msg);
    CHECK(m.params == NULL && m.arena == NULL, "a failed load leaves the model zeroed");
    model_free(&m);
    const char *nw = "model.norm.weight";
    rc = model_load(&m, write_tiny("badshape", NULL, nw), &e);
    CHECK(rc == -1 && strstr(e.msg, nw) && strstr(e.msg, "shape (9)"), "wrong shape named: %s", e.msg);
    rc = model_load(&m, "/nonexistent/model", &e);
    CHECK(rc == -1 && strstr(e.msg, "config.json"), "missing directory: %s", e.msg);
}

static void test_forward_contracts(void) {
    Model m;
    Err e = {0};
    int rc = model_load(&m, write_tiny("ok", NULL, NULL), &e);
    CHECK(rc == 0, "tiny model loads (%s)", rc ? e.msg : "ok");
    if (rc) return;
    int32_t ids[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    int32_t doc[10] = {0, 0, 1, 1, 1, 0, 0, 0, 3, 3};
    float mask[10] = {1, 1, 0, 2, 1, 0, 0, 1, 0, 0};  // mask[0] and mask[5] (t = 0) never count
    double loss, logv = log(11.0);
    int count;
    float logp[10];
    rc = model_forward(&m, ids, NULL, 2, 5, &e) || model_loss(&m, NULL, 0, logp, &loss, &count, &e);
    CHECK(rc == 0 && count == 8 && fabs(loss - logv) < 1e-6,
          "zero model, no mask: count %d (want 8), loss %.7f (want log 11 = %.7f)", count, loss, logv);
    CHECK(logp[0] == 0.0f && logp[5] == 0.0f && fabsf(logp[1] + (float)logv) < 1e-6f,
          "logp is 0 at t = 0 and -log V at a target (%g)", logp[1]);
    rc = model_forward(&m, ids, doc, 2, 5, &e) || model_loss(&m, mask, 0, NULL, &loss, &count, &e);
    CHECK(rc == 0 && count == 4 && fabs(loss - 5 * logv / 4) < 1e-6,
          "mask 1,[1,0,2,1],0,[0,0,1,0,0] with docs: count %d (want 4), loss %.7f (want 5 log 11 / 4: weights 1+2+1+1)",
          count, loss);
    rc = model_loss(&m, mask, 8.0, NULL, &loss, &count, &e);
    CHECK(rc == 0 && fabs(loss - 5 * logv / 8) < 1e-6, "caller's normaliser 8: loss %.7f", loss);
    ids[7] = 11;
    rc = model_forward(&m, ids, NULL, 2, 5, &e);
    CHECK(rc == -1 && strstr(e.msg, "token id 11 at position 2 (row 1)"), "id >= V names the position: %s", e.msg);
    ids[7] = -1;
    rc = model_forward(&m, ids, NULL, 1, 10, &e);
    CHECK(rc == -1 && strstr(e.msg, "larger than the first one"), "a larger batch is refused: %s", e.msg);
    rc = model_forward(&m, ids, NULL, 1, 3, &e);
    CHECK(rc == 0 && m.acts.T == 3, "a smaller batch reuses the arena");
    model_free(&m);
    CHECK(m.params == NULL, "model_free zeroes");
    model_free(&m);  // twice is fine
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/test_model.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_load_errors();
    test_forward_contracts();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd)) printf("note: could not remove %s\n", tmpdir);
    return check_summary();
}
