// test_model_config.c: config.json parsing for GPT-2, Llama (SmolLM2's real config,
// Llama 3.2-style rope_scaling) and Qwen2; save -> load round trips; the expected tensor
// names and shapes; and checkpoint checks (missing tensor, wrong shape) against small
// safetensors directories written by the test.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/config.h"
#include "check.h"
#include "fixture.h"

// The hub's openai-community/gpt2 config.json (the fields that matter).
static const char *gpt2_json =
    "{\"activation_function\": \"gelu_new\", \"architectures\": [\"GPT2LMHeadModel\"],"
    " \"bos_token_id\": 50256, \"eos_token_id\": 50256, \"layer_norm_epsilon\": 1e-05,"
    " \"model_type\": \"gpt2\", \"n_ctx\": 1024, \"n_embd\": 768, \"n_head\": 12, \"n_layer\": 12,"
    " \"n_positions\": 1024, \"vocab_size\": 50257}";

// Llama 3.2 1B's shape of config (rope_scaling llama3, eos list, explicit head_dim).
static const char *llama32_json =
    "{\"architectures\": [\"LlamaForCausalLM\"], \"bos_token_id\": 128000,"
    " \"eos_token_id\": [128001, 128008, 128009], \"head_dim\": 64, \"hidden_act\": \"silu\","
    " \"hidden_size\": 2048, \"intermediate_size\": 8192, \"max_position_embeddings\": 131072,"
    " \"num_attention_heads\": 32, \"num_hidden_layers\": 16, \"num_key_value_heads\": 8,"
    " \"rms_norm_eps\": 1e-05, \"rope_scaling\": {\"factor\": 32.0, \"high_freq_factor\": 4.0,"
    " \"low_freq_factor\": 1.0, \"original_max_position_embeddings\": 8192, \"rope_type\": \"llama3\"},"
    " \"rope_theta\": 500000.0, \"tie_word_embeddings\": true, \"vocab_size\": 128256}";

// Qwen2.5-0.5B's config (the fields that matter).
static const char *qwen_json =
    "{\"architectures\": [\"Qwen2ForCausalLM\"], \"bos_token_id\": 151643, \"eos_token_id\": 151643,"
    " \"hidden_act\": \"silu\", \"hidden_size\": 896, \"intermediate_size\": 4864,"
    " \"max_position_embeddings\": 32768, \"max_window_layers\": 24, \"model_type\": \"qwen2\","
    " \"num_attention_heads\": 14, \"num_hidden_layers\": 24, \"num_key_value_heads\": 2,"
    " \"rms_norm_eps\": 1e-06, \"rope_theta\": 1000000.0, \"sliding_window\": 32768,"
    " \"tie_word_embeddings\": true, \"use_sliding_window\": false, \"vocab_size\": 151936}";

static int parse(ModelConfig *c, const char *json, Err *e) {
    return model_config_parse(c, json, strlen(json), "config.json", e);
}

static const ModelTensorSpec *spec_find(const ModelTensorSpec *v, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0) return &v[i];
    return NULL;
}

static int spec_is(const ModelTensorSpec *v, size_t n, const char *name, int64_t d0, int64_t d1) {
    const ModelTensorSpec *s = spec_find(v, n, name);
    return s && s->shape[0] == d0 && (d1 ? s->ndim == 2 && s->shape[1] == d1 : s->ndim == 1);
}

static void test_smollm2(void) {
    const char *dir = getenv("SHARED_DATA") ? getenv("SHARED_DATA") : "../shared/data";
    char path[1024];
    snprintf(path, sizeof path, "%s/tokenizers/smollm2/config.json", dir);
    if (access(path, R_OK) != 0) {
        printf("skip  SmolLM2 config (no %s)\n", path);
        return;
    }
    ModelConfig c;
    Err e = {0};
    int rc = model_config_load(&c, path, &e);
    CHECK(rc == 0, "SmolLM2 config.json loads %s", e.msg);
    CHECK(c.arch == MODEL_ARCH_LLAMA && c.vocab_size == 49152 && c.hidden_size == 576 &&
              c.intermediate_size == 1536 && c.n_layer == 30 && c.n_head == 9 && c.n_kv_head == 3 &&
              c.head_dim == 64 && c.max_position == 8192, "SmolLM2 sizes: V 49152, C 576, F 1536, L 30, H 9, KVH 3, D 64");
    CHECK(c.norm_eps == 1e-5 && c.rope_theta == 100000 && !c.rope_llama3 && c.tied && c.bos_id == 1 &&
              c.n_eos == 1 && c.eos_ids[0] == 2, "SmolLM2 eps 1e-5, theta 1e5, no scaling, tied, bos 1, eos 2");
    CHECK(c.norm == MODEL_NORM_RMSNORM && c.pos == MODEL_POS_ROPE && c.mlp == MODEL_MLP_SWIGLU &&
              !c.qkv_bias && !c.o_bias && !c.mlp_bias, "SmolLM2: RMSNorm, RoPE, SwiGLU, no biases");
    ModelTensorSpec *v;
    size_t n;
    model_config_tensors(&c, &v, &n, &e);
    CHECK(n == 1 + 30 * 9 + 1, "SmolLM2: %zu tensors (embed + 9 per layer + norm, tied head)", n);
    CHECK(spec_is(v, n, "model.embed_tokens.weight", 49152, 576) &&
              spec_is(v, n, "model.layers.0.self_attn.q_proj.weight", 576, 576) &&
              spec_is(v, n, "model.layers.29.self_attn.k_proj.weight", 192, 576) &&
              spec_is(v, n, "model.layers.3.mlp.down_proj.weight", 576, 1536) &&
              spec_is(v, n, "model.layers.3.post_attention_layernorm.weight", 576, 0) &&
              spec_is(v, n, "model.norm.weight", 576, 0) && !spec_find(v, n, "lm_head.weight"),
          "SmolLM2 tensor names and (out, in) shapes");
    free(v);
}

static void test_archs(void) {
    ModelConfig c;
    Err e = {0};
    ModelTensorSpec *v;
    size_t n;
    int rc = parse(&c, gpt2_json, &e);
    CHECK(rc == 0 && c.arch == MODEL_ARCH_GPT2 && c.hidden_size == 768 && c.intermediate_size == 3072 &&
              c.head_dim == 64 && c.max_position == 1024 && c.tied && c.norm == MODEL_NORM_LAYERNORM &&
              c.pos == MODEL_POS_LEARNED && c.mlp == MODEL_MLP_GELU && c.qkv_bias && c.o_bias && c.mlp_bias,
          "GPT-2: n_inner null -> 4C, LayerNorm, learned positions, GELU, biases, tied %s", e.msg);
    model_config_tensors(&c, &v, &n, &e);
    CHECK(n == 4 + 12 * 12, "GPT-2: %zu tensors (wte, wpe, ln_f x2, 12 per layer)", n);
    CHECK(spec_is(v, n, "transformer.wte.weight", 50257, 768) && spec_is(v, n, "transformer.wpe.weight", 1024, 768) &&
              spec_is(v, n, "transformer.h.0.attn.c_attn.weight", 768, 2304) &&
              spec_is(v, n, "transformer.h.0.attn.c_attn.bias", 2304, 0) &&
              spec_is(v, n, "transformer.h.11.mlp.c_fc.weight", 768, 3072) &&
              spec_is(v, n, "transformer.h.11.mlp.c_proj.weight", 3072, 768) &&
              spec_is(v, n, "transformer.ln_f.bias", 768, 0) && !spec_find(v, n, "lm_head.weight"),
          "GPT-2 names, Conv1D weights (in, out)");
    free(v);

    rc = parse(&c, llama32_json, &e);
    CHECK(rc == 0 && c.rope_llama3 && c.rope_factor == 32 && c.rope_low_freq_factor == 1 &&
              c.rope_high_freq_factor == 4 && c.rope_original_max_position == 8192 && c.rope_theta == 500000 &&
              c.head_dim == 64 && c.n_eos == 3 && c.eos_ids[2] == 128009 && c.bos_id == 128000,
          "Llama 3.2: rope_scaling llama3, theta 5e5, eos list %s", e.msg);

    rc = parse(&c, qwen_json, &e);
    CHECK(rc == 0 && c.arch == MODEL_ARCH_QWEN2 && c.qkv_bias && !c.o_bias && !c.mlp_bias && c.head_dim == 64 &&
              c.n_kv_head == 2 && c.norm_eps == 1e-6 && c.rope_theta == 1e6, "Qwen2.5: q/k/v biases only %s", e.msg);
    model_config_tensors(&c, &v, &n, &e);
    CHECK(spec_is(v, n, "model.layers.0.self_attn.q_proj.bias", 896, 0) &&
              spec_is(v, n, "model.layers.0.self_attn.k_proj.bias", 128, 0) &&
              spec_is(v, n, "model.layers.0.self_attn.k_proj.weight", 128, 896) &&
              !spec_find(v, n, "model.layers.0.self_attn.o_proj.bias") && n == 2 + 24 * 12,
          "Qwen2.5 tensors: q/k/v biases, no o_proj bias (%zu)", n);
    free(v);

    // Llama defaults: kv heads = heads, theta 10000, untied -> lm_head.
    rc = parse(&c, "{\"model_type\": \"llama\", \"vocab_size\": 32, \"hidden_size\": 8, \"intermediate_size\": 16,"
               " \"num_hidden_layers\": 2, \"num_attention_heads\": 2}", &e);
    CHECK(rc == 0 && c.n_kv_head == 2 && c.rope_theta == 10000 && !c.tied && c.head_dim == 4 &&
              c.norm_eps == 1e-6 && c.bos_id == -1 && c.n_eos == 0, "Llama defaults (model_type only) %s", e.msg);
    model_config_tensors(&c, &v, &n, &e);
    CHECK(spec_is(v, n, "lm_head.weight", 32, 8), "untied Llama expects lm_head.weight (V, C)");
    free(v);
}

// Parsing json must fail with a message containing want1 and want2.
static void expect_error(const char *json, const char *want1, const char *want2, const char *what) {
    ModelConfig c;
    Err e = {0};
    int rc = parse(&c, json, &e);
    CHECK(rc != 0 && strstr(e.msg, want1) && (!want2 || strstr(e.msg, want2)), "%s: %s", what, e.msg);
}

static void test_errors(void) {
    const char *base = "\"vocab_size\": 32, \"hidden_size\": 8, \"intermediate_size\": 16, \"num_hidden_layers\": 2";
    char j[1024];
    expect_error("{\"architectures\": [\"MistralForCausalLM\"]}", "config.json: architectures: MistralForCausalLM",
                 "not supported", "unknown architecture");
    expect_error("{\"hidden_size\": 8}", "config.json: architectures", NULL, "no architecture at all");
    expect_error("{\"architectures\": [\"LlamaForCausalLM\"], \"vocab", "config.json", "JSON", "bad JSON");
    snprintf(j, sizeof j, "{\"model_type\": \"llama\", %s}", base);
    expect_error(j, "config.json: num_attention_heads: expected a positive integer", "missing", "missing heads");
    snprintf(j, sizeof j, "{\"model_type\": \"llama\", %s, \"num_attention_heads\": \"2\"}", base);
    expect_error(j, "config.json: num_attention_heads: expected a positive integer", NULL, "heads as a string");
    snprintf(j, sizeof j, "{\"model_type\": \"llama\", %s, \"num_attention_heads\": 2.5}", base);
    expect_error(j, "config.json: num_attention_heads: expected a positive integer", NULL, "fractional heads");
    snprintf(j, sizeof j, "{\"model_type\": \"llama\", %s, \"num_attention_heads\": 4, \"num_key_value_heads\": 3}", base);
    expect_error(j, "config.json: num_key_value_heads", "does not divide", "kv heads not dividing heads");
    snprintf(j, sizeof j, "{\"model_type\": \"llama\", %s, \"num_attention_heads\": 3}", base);
    expect_error(j, "config.json: num_attention_heads", "does not divide hidden_size", "heads not dividing C");
    snprintf(j, sizeof j, "{\"model_type\": \"llama\", %s, \"num_attention_heads\": 2, \"rms_norm_eps\": -1}", base);
    expect_error(j, "config.json: rms_norm_eps: expected a positive number", NULL, "negative eps");
    snprintf(j, sizeof j, "{\"model_type\": \"llama\", %s, \"num_attention_heads\": 2, \"tie_word_embeddings\": 1}", base);
    expect_error(j, "config.json: tie_word_embeddings: expected true or false", NULL, "tie as a number");
    snprintf(j, sizeof j, "{\"model_type\": \"llama\", %s, \"num_attention_heads\": 2, \"hidden_act\": \"relu\"}", base);
    expect_error(j, "config.json: hidden_act", "silu", "relu activation");
    snprintf(j, sizeof j, "{\"model_type\": \"llama\", %s, \"num_attention_heads\": 2, \"rope_scaling\": "
             "{\"rope_type\": \"yarn\", \"factor\": 4}}", base);
    expect_error(j, "config.json: rope_scaling.rope_type: \"yarn\"", "not supported", "yarn scaling");
    snprintf(j, sizeof j, "{\"model_type\": \"llama\", %s, \"num_attention_heads\": 2, \"rope_scaling\": "
             "{\"rope_type\": \"llama3\", \"factor\": 8}}", base);
    expect_error(j, "config.json: rope_scaling: low_freq_factor", "missing", "llama3 scaling without its factors");
    snprintf(j, sizeof j, "{\"model_type\": \"qwen2\", %s, \"num_attention_heads\": 2, \"use_sliding_window\": true}", base);
    expect_error(j, "config.json: use_sliding_window", "not supported", "Qwen2 sliding window");
    expect_error("{\"model_type\": \"gpt2\", \"vocab_size\": 10, \"n_embd\": 8, \"n_layer\": 1, \"n_head\": 2,"
                 " \"activation_function\": \"relu\"}", "config.json: activation_function", "gelu_new", "GPT-2 relu");
    expect_error("{\"model_type\": \"gpt2\", \"vocab_size\": 10, \"n_embd\": 8, \"n_layer\": 1, \"n_head\": 2,"
                 " \"eos_token_id\": \"x\"}", "config.json: eos_token_id", NULL, "eos id as a string");
    expect_error("{\"model_type\": \"gpt2\", \"vocab_size\": 10, \"n_embd\": 8, \"n_layer\": 1, \"n_head\": 2,"
                 " \"scale_attn_by_inverse_layer_idx\": true}", "config.json: scale_attn_by_inverse_layer_idx",
                 "not supported", "GPT-2 layer-scaled attention");
    ModelConfig c;
    Err e = {0};
    CHECK(model_config_load(&c, tmp_path("absent.json"), &e) != 0 && strstr(e.msg, "absent.json"),
          "missing file: %s", e.msg);
}

static int same_config(const ModelConfig *a, const ModelConfig *b) {
    return a->arch == b->arch && a->vocab_size == b->vocab_size && a->hidden_size == b->hidden_size &&
           a->intermediate_size == b->intermediate_size && a->n_layer == b->n_layer && a->n_head == b->n_head &&
           a->n_kv_head == b->n_kv_head && a->head_dim == b->head_dim && a->max_position == b->max_position &&
           a->norm_eps == b->norm_eps && a->norm == b->norm && a->pos == b->pos && a->mlp == b->mlp &&
           a->qkv_bias == b->qkv_bias && a->o_bias == b->o_bias && a->mlp_bias == b->mlp_bias &&
           a->tied == b->tied && a->rope_theta == b->rope_theta && a->rope_llama3 == b->rope_llama3 &&
           a->rope_factor == b->rope_factor && a->rope_low_freq_factor == b->rope_low_freq_factor &&
           a->rope_high_freq_factor == b->rope_high_freq_factor &&
           a->rope_original_max_position == b->rope_original_max_position && a->bos_id == b->bos_id &&
           a->n_eos == b->n_eos && memcmp(a->eos_ids, b->eos_ids, sizeof a->eos_ids) == 0;
}

static void test_save(void) {
    const char *jsons[] = {gpt2_json, llama32_json, qwen_json};
    for (int i = 0; i < 3; i++) {
        ModelConfig a, b;
        Err e = {0};
        int rc = parse(&a, jsons[i], &e);
        rc = rc || model_config_save(&a, tmp_path("config.json"), &e);
        rc = rc || model_config_load(&b, tmp_path("config.json"), &e);
        CHECK(rc == 0 && same_config(&a, &b), "%s: save -> load gives the same config %s",
              model_arch_name(a.arch), e.msg);
    }
}

// A tiny Llama checkpoint written from the config's own tensor list, minus skip, with
// bad (if not NULL) given a wrong shape.
static void write_checkpoint(const ModelConfig *c, const char *dir, const char *skip, const char *bad,
                             const char *strip_prefix) {
    ModelTensorSpec *v;
    size_t n;
    Err e = {0};
    model_config_tensors(c, &v, &n, &e);
    StSaveTensor *ts = calloc(n, sizeof *ts);
    int64_t wrong[2] = {3, 3};
    static float zeros[4096];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (skip && strcmp(v[i].name, skip) == 0) continue;
        const char *nm = v[i].name;
        if (strip_prefix && strncmp(nm, strip_prefix, strlen(strip_prefix)) == 0) nm += strlen(strip_prefix);
        ts[k++] = (StSaveTensor){nm, v[i].ndim, bad && !strcmp(v[i].name, bad) ? wrong : v[i].shape, zeros};
    }
    char p[600];
    snprintf(p, sizeof p, "%s/model.safetensors", dir);
    if (st_save(p, ts, k, ST_BF16, 1, &e)) printf("  save: %s\n", e.msg);
    free(ts);
    free(v);
}

static int check_dir(const ModelConfig *c, const char *dir, Err *e) {
    StDir d;
    if (st_dir_open(&d, dir, e)) return -1;
    int rc = model_config_check(c, &d, e);
    st_dir_close(&d);
    return rc;
}

static void test_check(void) {
    ModelConfig c;
    Err e = {0};
    parse(&c, "{\"architectures\": [\"Qwen2ForCausalLM\"], \"vocab_size\": 16, \"hidden_size\": 8,"
          " \"intermediate_size\": 12, \"num_hidden_layers\": 2, \"num_attention_heads\": 2,"
          " \"num_key_value_heads\": 1}", &e);
    const char *dir = tmp_path("ckpt");
    mkdir(dir, 0755);
    write_checkpoint(&c, dir, NULL, NULL, NULL);
    CHECK(check_dir(&c, dir, &e) == 0, "a complete Qwen2 checkpoint passes the check %s", e.msg);
    write_checkpoint(&c, dir, "model.layers.1.self_attn.v_proj.bias", NULL, NULL);
    CHECK(check_dir(&c, dir, &e) != 0 && strstr(e.msg, "tensor model.layers.1.self_attn.v_proj.bias: missing"),
          "missing tensor: %s", e.msg);
    write_checkpoint(&c, dir, NULL, "model.layers.0.mlp.up_proj.weight", NULL);
    CHECK(check_dir(&c, dir, &e) != 0 && strstr(e.msg, "model.safetensors: tensor model.layers.0.mlp.up_proj.weight: "
                                                "shape (3, 3), but config.json implies (12, 8)"),
          "wrong shape: %s", e.msg);
    write_checkpoint(&c, dir, "lm_head.weight", NULL, NULL);
    CHECK(check_dir(&c, dir, &e) != 0 && strstr(e.msg, "tensor lm_head.weight: missing"),
          "untied config without lm_head.weight: %s", e.msg);

    // GPT-2 as the hub stores it: names without "transformer.".
    parse(&c, "{\"model_type\": \"gpt2\", \"vocab_size\": 10, \"n_embd\": 8, \"n_layer\": 1, \"n_head\": 2,"
          " \"n_positions\": 16}", &e);
    write_checkpoint(&c, dir, NULL, NULL, "transformer.");
    CHECK(check_dir(&c, dir, &e) == 0, "a GPT-2 checkpoint without the transformer. prefix passes %s", e.msg);
    unlink(tmp_path("ckpt/model.safetensors"));
    rmdir(dir);
}

int main(void) {
    if (fixture_init("test_model_config")) return 1;
    test_smollm2();
    test_archs();
    test_errors();
    test_save();
    test_check();
    fixture_cleanup();
    return check_summary();
}
