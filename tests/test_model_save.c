// test_model_save.c: model_save and model_grow_vocab on random tiny models written by the
// test (GPT-2 tied, Llama untied with GQA, Qwen2 tied with q/k/v biases).
// Save: F32 reloads with every parameter and the forward logits bit for bit, and a second
// save of the reload gives byte-identical files; a tied model writes no lm_head.weight;
// BF16 reloads as the BF16 rounding of each weight; tokenizer files are copied, others not.
// Grow by 3: old rows unchanged, new rows the mean of the old ones, other weights
// unchanged, the old vocabulary's logits unchanged bit for bit, and the saved directory
// reloads with the new size and passes model_config_check.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/model.h"
#include "util/file.h"
#include "model_fixture.h"
#include "check.h"
#include "fixture.h"

typedef struct {
    const char *name;
    const char *json;
} TinyModel;

static const TinyModel models[] = {
    {"gpt2_tied",
     "{\"architectures\": [\"GPT2LMHeadModel\"], \"model_type\": \"gpt2\", \"vocab_size\": 13,"
     " \"n_embd\": 12, \"n_layer\": 2, \"n_head\": 3, \"n_positions\": 16, \"n_inner\": null,"
     " \"activation_function\": \"gelu_new\", \"layer_norm_epsilon\": 1e-5}"},
    {"llama_untied",
     "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", \"vocab_size\": 11,"
     " \"hidden_size\": 8, \"intermediate_size\": 7, \"num_hidden_layers\": 2,"
     " \"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"max_position_embeddings\": 16,"
     " \"rms_norm_eps\": 1e-5, \"tie_word_embeddings\": false}"},
    {"qwen2_tied",
     "{\"architectures\": [\"Qwen2ForCausalLM\"], \"model_type\": \"qwen2\", \"vocab_size\": 17,"
     " \"hidden_size\": 12, \"intermediate_size\": 9, \"num_hidden_layers\": 1,"
     " \"num_attention_heads\": 2, \"num_key_value_heads\": 1, \"max_position_embeddings\": 16,"
     " \"rms_norm_eps\": 1e-6, \"tie_word_embeddings\": true}"},
};

#define N_MODELS (sizeof models / sizeof *models)
static const int32_t ids[8] = {1, 5, 2, 9, 0, 3, 7, 4};  // forward as (B,T) = (2,4)

// xorshift32 -> [-0.5, 0.5), with a fractional part that needs all 23 mantissa bits.
static float rnd(uint32_t *s) {
    *s ^= *s << 13, *s ^= *s >> 17, *s ^= *s << 5;
    return (float)((*s >> 8) * (1.0 / 16777216.0)) - 0.5f;
}

static void die(const char *what, const Err *e) {
    printf("setup: %s: %s\n", what, e->msg);
    exit(1);
}

// Writes config.json and random F32 weights into tmpdir/NAME; returns the directory.
static float save_value(void *ctx, const ModelTensorSpec *t, int norm_w) {
    (void)t, (void)norm_w;
    return rnd(ctx);
}

static const char *write_model(const TinyModel *t, uint32_t seed) {
    static char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", tmpdir, t->name);
    Err e = {0};
    if (fixture_model_write(dir, t->name, t->json, save_value, &seed, &e)) die(t->name, &e);
    return dir;
}

static int files_equal(const char *a, const char *b) {
    char *x, *y;
    size_t nx, ny;
    Err e = {0};
    if (file_read_all(a, &x, &nx, &e)) return 0;
    if (file_read_all(b, &y, &ny, &e)) return free(x), 0;
    int eq = nx == ny && !memcmp(x, y, nx);
    free(x);
    free(y);
    return eq;
}

// The logits (2,4,V) of a forward on ids, copied out; NULL on error.
static float *logits_of(Model *m) {
    Err e = {0};
    if (model_forward(m, ids, NULL, 2, 4, &e)) {
        printf("forward: %s\n", e.msg);
        return NULL;
    }
    size_t n = 8 * (size_t)m->cfg.vocab_size;
    float *out = malloc(n * sizeof *out);
    memcpy(out, m->acts.logits, n * sizeof *out);
    return out;
}

static void test_save_f32(const TinyModel *t, const char *src) {
    Model a, b;
    Err e = {0};
    char out1[600], out2[600], p1[700], p2[700];
    snprintf(out1, sizeof out1, "%s/%s.f32/nested", tmpdir, t->name);  // parents are created
    snprintf(out2, sizeof out2, "%s/%s.f32again", tmpdir, t->name);
    if (model_load(&a, src, &e)) die("load", &e);
    int rc = model_save(&a, out1, ST_F32, NULL, &e);
    CHECK(rc == 0, "%s: save F32 (%s)", t->name, rc ? e.msg : "ok");
    rc = model_load(&b, out1, &e);
    CHECK(rc == 0, "%s: the saved F32 directory loads (%s)", t->name, rc ? e.msg : "ok");
    if (rc) return model_free(&a);
    CHECK(a.n_params == b.n_params && !memcmp(a.params, b.params, a.n_params * sizeof(float)),
          "%s: all %zu parameters reload bit for bit", t->name, a.n_params);
    CHECK(b.cfg.vocab_size == a.cfg.vocab_size && b.cfg.tied == a.cfg.tied && b.cfg.arch == a.cfg.arch,
          "%s: the config reloads with the same vocab, head and architecture", t->name);
    float *la = logits_of(&a), *lb = logits_of(&b);
    CHECK(la && lb && !memcmp(la, lb, 8 * (size_t)a.cfg.vocab_size * sizeof(float)),
          "%s: forward logits (2,4,%d) bit for bit", t->name, a.cfg.vocab_size);
    free(la);
    free(lb);
    rc = model_save(&b, out2, ST_F32, NULL, &e);
    snprintf(p1, sizeof p1, "%s/model.safetensors", out1);
    snprintf(p2, sizeof p2, "%s/model.safetensors", out2);
    int same = rc == 0 && files_equal(p1, p2);
    snprintf(p1, sizeof p1, "%s/config.json", out1);
    snprintf(p2, sizeof p2, "%s/config.json", out2);
    CHECK(same && files_equal(p1, p2), "%s: saving the reload gives byte-identical files", t->name);
    StFile f = {0};
    snprintf(p1, sizeof p1, "%s/model.safetensors", out1);
    rc = st_open(&f, p1, &e);
    CHECK(rc == 0 && (st_find(&f, "lm_head.weight") != NULL) == !a.cfg.tied,
          "%s: lm_head.weight %s", t->name, a.cfg.tied ? "not written (tied)" : "written (untied)");
    st_close(&f);
    model_free(&a);
    model_free(&b);
}

static void test_save_bf16(const TinyModel *t, const char *src) {
    Model a, b;
    Err e = {0};
    char out[600], path[700];
    snprintf(out, sizeof out, "%s/%s.bf16", tmpdir, t->name);
    if (model_load(&a, src, &e)) die("load", &e);
    int rc = model_save(&a, out, ST_BF16, NULL, &e) || model_load(&b, out, &e);
    CHECK(rc == 0, "%s: save BF16 and reload (%s)", t->name, rc ? e.msg : "ok");
    if (rc) return model_free(&a);
    size_t bad = 0, changed = 0;
    for (size_t i = 0; i < a.n_params; i++) {
        float want = st_bf16_to_f32(st_f32_to_bf16(a.params[i]));
        bad += memcmp(&want, &b.params[i], sizeof want) != 0;
        changed += want != a.params[i];
    }
    CHECK(bad == 0 && changed > 0, "%s: BF16 reload = BF16 rounding of all %zu weights (%zu mismatches, %zu rounded)",
          t->name, a.n_params, bad, changed);
    StFile f = {0};
    snprintf(path, sizeof path, "%s/model.safetensors", out);
    rc = st_open(&f, path, &e);
    CHECK(rc == 0 && f.n_tensors > 0 && f.tensors[0].dtype == ST_BF16, "%s: the file's dtype is BF16", t->name);
    st_close(&f);
    model_free(&a);
    model_free(&b);
}

static void test_save_tokenizer_and_errors(const char *src) {
    static const char *copied[] = {"tokenizer.json", "tokenizer_config.json", "tokenizer.bin", "cl100k.tiktoken"};
    char path[700];
    const char *out = tmp_path("with_tok");
    for (size_t i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/%s", src, copied[i]);
        write_bytes(path, copied[i], strlen(copied[i]));  // the content is the name
    }
    snprintf(path, sizeof path, "%s/notes.txt", src);
    write_bytes(path, "x", 1);
    Model m;
    Err e = {0};
    if (model_load(&m, src, &e)) die("load", &e);
    int rc = model_save(&m, out, ST_F32, src, &e);
    int ok = rc == 0;
    for (size_t i = 0; i < 4 && ok; i++) {
        char a[700], b[700];
        snprintf(a, sizeof a, "%s/%s", src, copied[i]);
        snprintf(b, sizeof b, "%s/%s", out, copied[i]);
        ok = files_equal(a, b);
    }
    snprintf(path, sizeof path, "%s/notes.txt", out);
    CHECK(ok && !file_exists(path), "tokenizer files copied, other files not (%s)", rc ? e.msg : "ok");
    rc = model_save(&m, out, ST_F16, NULL, &e);
    CHECK(rc == -1 && strstr(e.msg, "F32 or BF16"), "F16 output refused: %s", e.msg);
    snprintf(path, sizeof path, "%s/notes.txt", src);
    rc = model_save(&m, path, ST_F32, NULL, &e);
    CHECK(rc == -1 && strstr(e.msg, "not a directory"), "a file as the directory: %s", e.msg);
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", out);
    write_bytes(path, "{}", 2);
    rc = model_save(&m, out, ST_F32, NULL, &e);
    CHECK(rc == 0 && !file_exists(path), "a stale shard index is removed (%s)", rc ? e.msg : "ok");
    model_free(&m);
}

// Checks rows [0,V) of g (V2,C) equal those of a and rows [V,V2) the column means of a.
static int rows_grown(const float *a, const float *g, int V, int V2, int C) {
    if (memcmp(a, g, (size_t)V * C * sizeof *a)) return 0;
    for (int c = 0; c < C; c++) {
        double s = 0.0;
        for (int v = 0; v < V; v++) s += a[(size_t)v * C + c];
        float mean = (float)(s / V);
        for (int v = V; v < V2; v++)
            if (g[(size_t)v * C + c] != mean) return 0;
    }
    return 1;
}

// Every tensor except the V-sized ones must be unchanged.
static int others_unchanged(const Model *a, const Model *g) {
    ModelTensorSpec *s1, *s2;
    size_t n1, n2, o1 = 0, o2 = 0;
    Err e = {0};
    if (model_config_tensors(&a->cfg, &s1, &n1, &e) || model_config_tensors(&g->cfg, &s2, &n2, &e)) return 0;
    int ok = n1 == n2;
    for (size_t i = 0; i < n1 && ok; i++) {
        size_t k1 = (size_t)s1[i].shape[0] * (s1[i].ndim == 2 ? (size_t)s1[i].shape[1] : 1);
        size_t k2 = (size_t)s2[i].shape[0] * (s2[i].ndim == 2 ? (size_t)s2[i].shape[1] : 1);
        if (k1 == k2) ok = !memcmp(a->params + o1, g->params + o2, k1 * sizeof(float));
        o1 += k1;
        o2 += k2;
    }
    free(s1);
    free(s2);
    return ok;
}

static int old_logits_equal(const float *la, const float *lg, int V, int V2) {
    for (int n = 0; n < 8; n++)
        if (memcmp(la + (size_t)n * V, lg + (size_t)n * V2, (size_t)V * sizeof *la)) return 0;
    return 1;
}

static void test_grow(const TinyModel *t, const char *src) {
    Model a, g, r;
    Err e = {0};
    if (model_load(&a, src, &e) || model_load(&g, src, &e)) die("load", &e);
    int V = a.cfg.vocab_size, V2 = V + 3, C = a.cfg.hidden_size;
    Model z;
    if (model_load(&z, src, &e)) die("load", &e);
    int rc = model_zero_grad(&z, &e) || model_grow_vocab(&z, V2, &e);
    CHECK(rc != 0 && strstr(e.msg, "before the first forward") && z.cfg.vocab_size == V,
          "%s: growing once gradients exist refused: %s", t->name, e.msg);
    model_free(&z);
    rc = model_grow_vocab(&g, V - 1, &e);
    CHECK(rc == -1 && strstr(e.msg, "smaller"), "%s: shrinking refused: %s", t->name, e.msg);
    rc = model_grow_vocab(&g, V2, &e);
    CHECK(rc == 0 && g.cfg.vocab_size == V2 && g.n_params == a.n_params + (size_t)(a.cfg.tied ? 3 : 6) * C,
          "%s: grown to V = %d (%s)", t->name, g.cfg.vocab_size, rc ? e.msg : "ok");
    if (rc) return model_free(&a), model_free(&g);
    CHECK(rows_grown(a.w.wte, g.w.wte, V, V2, C), "%s: embedding: old rows kept, 3 new rows = mean", t->name);
    CHECK(a.cfg.tied ? g.w.head == g.w.wte : rows_grown(a.w.head, g.w.head, V, V2, C),
          "%s: head %s", t->name, a.cfg.tied ? "still the embedding" : "old rows kept, new rows = mean");
    CHECK(others_unchanged(&a, &g), "%s: every other tensor unchanged", t->name);
    float *la = logits_of(&a), *lg = logits_of(&g);
    CHECK(la && lg && old_logits_equal(la, lg, V, V2), "%s: logits of the old %d columns bit for bit", t->name, V);
    free(la);
    free(lg);
    int32_t new_ids[4] = {V, V + 1, V + 2, 0};
    rc = model_forward(&g, new_ids, NULL, 1, 4, &e);
    CHECK(rc == 0, "%s: the new ids run forward (%s)", t->name, rc ? e.msg : "ok");
    rc = model_grow_vocab(&g, V2 + 1, &e);
    CHECK(rc == -1 && strstr(e.msg, "before the first forward"), "%s: growing after a forward refused: %s",
          t->name, e.msg);

    char out[600];
    snprintf(out, sizeof out, "%s/%s.grown", tmpdir, t->name);
    StDir d = {0};
    rc = model_save(&g, out, ST_F32, NULL, &e) || model_load(&r, out, &e);
    CHECK(rc == 0 && r.cfg.vocab_size == V2 && r.n_params == g.n_params &&
              !memcmp(r.params, g.params, g.n_params * sizeof(float)),
          "%s: the grown model saves and reloads bit for bit with V = %d (%s)", t->name, V2, rc ? e.msg : "ok");
    if (!rc) model_free(&r);
    rc = st_dir_open(&d, out, &e) || model_config_check(&g.cfg, &d, &e);
    CHECK(rc == 0, "%s: the grown directory passes model_config_check (%s)", t->name, rc ? e.msg : "ok");
    st_dir_close(&d);
    model_free(&a);
    model_free(&g);
}

int main(void) {
    if (fixture_init("test_model_save")) return 1;
    for (size_t i = 0; i < N_MODELS; i++) {
        const char *src = write_model(&models[i], 0x9E3779B9u + (uint32_t)i);
        test_save_f32(&models[i], src);
        test_save_bf16(&models[i], src);
        test_grow(&models[i], src);
    }
    test_save_tokenizer_and_errors(write_model(&models[1], 7));
    fixture_cleanup();
    return check_summary();
}
