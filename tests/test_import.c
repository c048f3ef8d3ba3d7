// test_import.c: the llama2.c and llm.c importers on tiny checkpoints written by the test
// itself. Every stored value is unique (array number * 10000 + offset), so a value read back
// from the saved HF directory tells exactly where it came from: the q/k per-head row
// permutation, w1/w3/w2 -> gate/up/down, llm.c's transposed Conv1D weights and dropped
// vocab padding are checked value by value. Also every truncated, oversized and bad-header
// case, with the error naming the file and the array.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/import.h"
#include "check.h"
#include "fixture.h"

// A growing byte buffer for building checkpoint files.
typedef struct {
    uint8_t *b;
    size_t n;
} Bytes;

static void put(Bytes *o, const void *p, size_t n) {
    o->b = realloc(o->b, o->n + n);
    memcpy(o->b + o->n, p, n);
    o->n += n;
}

// Appends array number `id` of n float32 values id * 10000 + k.
static void put_f32(Bytes *o, int id, size_t n) {
    for (size_t k = 0; k < n; k++) {
        float v = (float)(id * 10000 + (int)k);
        put(o, &v, 4);
    }
}

static float value(int id, size_t k) { return (float)(id * 10000 + (int)k); }

static int has(const char *s, const char *a, const char *b) { return strstr(s, a) && (!b || strstr(s, b)); }

// Reads tensor name of d as float32 (malloc'd); NULL when absent.
static float *read_tensor(const StDir *d, const char *name, const StTensor **t) {
    *t = st_dir_find(d, name);
    if (!*t) return NULL;
    float *v = malloc((*t)->numel * sizeof *v + 4);
    Err e = {0};
    if (st_to_f32(*t, v, &e)) free(v), v = NULL;
    return v;
}

// ---------------------------------------------------------------------------------------
// llama2.c

enum { C = 8, H = 2, KVH = 1, D = C / H, F = 6, L = 2, V = 5, S = 3 };

// Array ids: 1 emb, 2 rms_att, 3 wq, 4 wk, 5 wv, 6 wo, 7 rms_ffn, 8 w1, 9 w2, 10 w3,
// 11 rms_final, 12/13 freq_cis, 14 wcls.
static Bytes llama2c_file(int shared) {
    Bytes o = {0};
    int32_t hdr[7] = {C, F, L, H, KVH, shared ? V : -V, S};
    put(&o, hdr, sizeof hdr);
    size_t n[14] = {V * C, L * C, L * C * C, L * KVH * D * C, L * KVH * D * C, L * C * C, L * C,
                    L * F * C, L * C * F, L * F * C, C, S * D / 2, S * D / 2, V * C};
    for (int k = 0; k < (shared ? 13 : 14); k++) put_f32(&o, k + 1, n[k]);
    return o;
}

// Converts path into dir and reopens it; returns 0 when config and tensors check out.
static int convert_and_open(const char *path, const char *dir, ModelConfig *c, StDir *d, Err *e) {
    ImportedModel m;
    if (import_any(&m, path, e)) return -1;
    int rc = import_save(&m, dir, ST_F32, e);
    import_free(&m);
    char cfg[600];
    snprintf(cfg, sizeof cfg, "%s/config.json", dir);
    return rc || model_config_load(c, cfg, e) || st_dir_open(d, dir, e) || model_config_check(c, d, e) ? -1 : 0;
}

// Row r of a (rows, C) matrix at layer i of array id starts with this value.
static float row_start(int id, int i, int rows, int r) { return value(id, ((size_t)i * rows + r) * C); }

static void test_llama2c_layout(int shared) {
    Bytes b = llama2c_file(shared);
    const char *path = tmp_path(shared ? "shared.bin" : "unshared.bin");
    write_bytes(path, b.b, b.n);
    free(b.b);
    Err e = {0};
    ModelConfig c;
    StDir d = {0};
    const char *dir = tmp_path(shared ? "out/shared" : "out/unshared");  // parents are created
    int rc = convert_and_open(path, dir, &c, &d, &e);
    CHECK(rc == 0, "llama2.c %s: converted, reopened, model_config_check passes %s", shared ? "shared" : "unshared", e.msg);
    if (rc) return;
    CHECK(c.arch == MODEL_ARCH_LLAMA && c.vocab_size == V && c.hidden_size == C && c.intermediate_size == F &&
              c.n_layer == L && c.n_head == H && c.n_kv_head == KVH && c.max_position == S &&
              c.norm_eps == 1e-5 && c.rope_theta == 10000 && c.bos_id == 1 && c.n_eos == 1 &&
              c.eos_ids[0] == 2 && c.tied == shared,
          "config: sizes, eps 1e-5, theta 1e4, bos 1, eos 2, tied=%d", shared);
    // q rows per head: new j < D/2 is old 2j, new D/2 + j is old 2j + 1 (D = 4: 0,2,1,3)
    static const int order[D] = {0, 2, 1, 3};
    int ok_q = 1, ok_k = 1;
    for (int i = 0; i < L; i++) {
        char name[96];
        const StTensor *t;
        snprintf(name, sizeof name, "model.layers.%d.self_attn.q_proj.weight", i);
        float *q = read_tensor(&d, name, &t);
        for (int r = 0; q && r < C; r++)
            for (int col = 0; col < C; col++)
                ok_q &= q[r * C + col] == row_start(3, i, C, (r / D) * D + order[r % D]) + col;
        snprintf(name, sizeof name, "model.layers.%d.self_attn.k_proj.weight", i);
        float *k = read_tensor(&d, name, &t);
        for (int r = 0; k && r < KVH * D; r++) ok_k &= k[r * C] == row_start(4, i, KVH * D, order[r % D]);
        ok_q &= q != NULL, ok_k &= k != NULL;
        free(q), free(k);
    }
    CHECK(ok_q, "q_proj rows permuted per head [0,2,1,3] (pairs -> halves), every value");
    CHECK(ok_k, "k_proj rows permuted the same way (1 kv head)");
    static const struct { const char *name; int id; size_t per_layer; } same[] = {
        {"model.layers.1.self_attn.v_proj.weight", 5, KVH * D * C}, {"model.layers.1.self_attn.o_proj.weight", 6, C * C},
        {"model.layers.1.mlp.gate_proj.weight", 8, F * C}, {"model.layers.1.mlp.down_proj.weight", 9, C * F},
        {"model.layers.1.mlp.up_proj.weight", 10, F * C}};
    for (size_t s = 0; s < sizeof same / sizeof *same; s++) {
        const StTensor *t;
        float *w = read_tensor(&d, same[s].name, &t);
        int ok = w != NULL;
        for (size_t k = 0; ok && k < t->numel; k++) ok &= w[k] == value(same[s].id, same[s].per_layer + k);
        CHECK(ok, "%s = array %d of layer 1, unpermuted", same[s].name, same[s].id);
        free(w);
    }
    const StTensor *t;
    float *n1 = read_tensor(&d, "model.layers.1.post_attention_layernorm.weight", &t);
    float *nf = read_tensor(&d, "model.norm.weight", &t);
    float *emb = read_tensor(&d, "model.embed_tokens.weight", &t);
    CHECK(n1 && nf && emb && n1[0] == value(7, C) && nf[C - 1] == value(11, C - 1) && emb[V * C - 1] == value(1, V * C - 1),
          "rms_ffn, rms_final, token_embedding land at the right names");
    free(n1), free(nf), free(emb);
    float *head = read_tensor(&d, "lm_head.weight", &t);
    CHECK(shared ? head == NULL : head && head[3] == value(14, 3), "lm_head.weight %s", shared ? "absent (tied)" : "= wcls");
    free(head);
    st_dir_close(&d);
}

static void expect_error(const char *path, const char *want1, const char *want2, const char *what) {
    ImportedModel m;
    Err e = {0};
    int rc = import_any(&m, path, &e);
    CHECK(rc != 0 && has(e.msg, want1, want2), "%s: %s", what, e.msg);
    if (!rc) import_free(&m);
}

static void test_llama2c_errors(void) {
    Bytes b = llama2c_file(0);
    const char *p = tmp_path("l2_bad.bin");
    write_bytes(p, b.b, b.n - 4);
    expect_error(p, "l2_bad.bin: truncated: array wcls", NULL, "llama2.c: one float short names wcls");
    write_bytes(p, b.b, 28 + 4 * (V * C + L * C + L * C * C + 3));
    expect_error(p, "l2_bad.bin: truncated: array wk", NULL, "llama2.c: cut inside wk names wk");
    Bytes big = {0};
    put(&big, b.b, b.n);
    put(&big, "\0\0\0\0", 4);
    write_bytes(p, big.b, big.n);
    expect_error(p, "l2_bad.bin: 4 bytes after the last array", NULL, "llama2.c: oversized");
    int32_t h[7];
    memcpy(h, b.b, sizeof h);
    h[5] = V;  // says shared, but the file carries wcls
    memcpy(big.b, h, sizeof h);
    write_bytes(p, big.b, b.n);
    expect_error(p, "bytes after the last array (freq_cis_imag)", "negative vocab_size", "llama2.c: shared header on an unshared file");
    h[5] = -V;
    h[3] = 3;  // 3 heads do not divide dim 8: detection refuses, the direct reader explains
    memcpy(big.b, h, sizeof h);
    write_bytes(p, big.b, b.n);
    expect_error(p, "l2_bad.bin: not a llama2.c", NULL, "llama2.c: bad header is not detected");
    ImportedModel m;
    Err e = {0};
    CHECK(import_llama2c(&m, p, &e) && has(e.msg, "bad llama2.c header", "n_heads=3"), "llama2.c: bad header named: %s", e.msg);
    write_bytes(p, b.b, 10);
    CHECK(import_llama2c(&m, p, &e) && has(e.msg, "shorter than the 28-byte header", NULL), "llama2.c: short header: %s", e.msg);
    free(b.b);
    free(big.b);
}

// ---------------------------------------------------------------------------------------
// llm.c

enum { GC = 4, GNH = 2, GL = 2, GV = 5, GVP = 8, GP = 3 };

// version 3 (fp32) or 5 (bf16; values stay below 256 so bf16 holds them exactly).
// Array ids 1..16 in llm.c's order; value id * 10000 + k (fp32) or (id * 16 + k) % 256 (bf16).
static float gvalue(int version, int id, size_t k) {
    return version == 3 ? value(id, k) : (float)((id * 16 + (int)k) % 256);
}

static Bytes llmc_file(int version) {
    Bytes o = {0};
    int32_t hdr[256] = {LLMC_MAGIC, version, GP, GV, GL, GNH, GC, GVP};
    put(&o, hdr, sizeof hdr);
    size_t n[16] = {GVP * GC, GP * GC, GL * GC, GL * GC, GL * 3 * GC * GC, GL * 3 * GC, GL * GC * GC, GL * GC,
                    GL * GC, GL * GC, GL * 4 * GC * GC, GL * 4 * GC, GL * GC * 4 * GC, GL * GC, GC, GC};
    for (int id = 1; id <= 16; id++)
        for (size_t k = 0; k < n[id - 1]; k++) {
            float v = gvalue(version, id, k);
            if (version == 3) {
                put(&o, &v, 4);
            } else {
                uint16_t bf = st_f32_to_bf16(v);
                put(&o, &bf, 2);
            }
        }
    return o;
}

// HF (in, out) weight name at layer 1 must equal llm.c array id (out, in) transposed.
static int transposed_ok(const StDir *d, int version, const char *name, int id, int in, int out) {
    const StTensor *t;
    float *w = read_tensor(d, name, &t);
    int ok = w && t->shape[0] == in && t->shape[1] == out;
    for (int r = 0; ok && r < in; r++)
        for (int c = 0; c < out; c++) ok &= w[r * out + c] == gvalue(version, id, (size_t)out * in + (size_t)c * in + r);
    free(w);
    return ok;
}

static void test_llmc_layout(int version) {
    Bytes b = llmc_file(version);
    const char *path = tmp_path(version == 3 ? "gpt2_fp32.bin" : "gpt2_bf16.bin");
    write_bytes(path, b.b, b.n);
    free(b.b);
    Err e = {0};
    CHECK(import_detect(path, &e) == IMPORT_LLMC, "llm.c v%d detected by its magic", version);
    ModelConfig c;
    StDir d = {0};
    int rc = convert_and_open(path, tmp_path(version == 3 ? "gpt2_fp32" : "gpt2_bf16"), &c, &d, &e);
    CHECK(rc == 0, "llm.c v%d: converted, reopened, model_config_check passes %s", version, e.msg);
    if (rc) return;
    CHECK(c.arch == MODEL_ARCH_GPT2 && c.vocab_size == GV && c.hidden_size == GC && c.n_layer == GL &&
              c.n_head == GNH && c.max_position == GP && c.intermediate_size == 4 * GC && c.tied,
          "llm.c v%d config: V (not Vp), C, L, NH, maxT, tied", version);
    const StTensor *t;
    float *wte = read_tensor(&d, "transformer.wte.weight", &t);
    int ok = wte && t->shape[0] == GV && t->shape[1] == GC;
    for (size_t k = 0; ok && k < GV * GC; k++) ok &= wte[k] == gvalue(version, 1, k);
    CHECK(ok, "wte: the first V of Vp rows, values in place (shape %lld x %lld)", t ? (long long)t->shape[0] : 0LL,
          t ? (long long)t->shape[1] : 0LL);
    free(wte);
    CHECK(transposed_ok(&d, version, "transformer.h.1.attn.c_attn.weight", 5, GC, 3 * GC),
          "c_attn.weight (C,3C) = qkvw (3C,C) transposed, layer 1");
    CHECK(transposed_ok(&d, version, "transformer.h.1.attn.c_proj.weight", 7, GC, GC), "attn.c_proj.weight transposed");
    CHECK(transposed_ok(&d, version, "transformer.h.1.mlp.c_fc.weight", 11, GC, 4 * GC), "mlp.c_fc.weight (C,4C) transposed");
    CHECK(transposed_ok(&d, version, "transformer.h.1.mlp.c_proj.weight", 13, 4 * GC, GC), "mlp.c_proj.weight (4C,C) transposed");
    float *qb = read_tensor(&d, "transformer.h.1.attn.c_attn.bias", &t);
    float *l2 = read_tensor(&d, "transformer.h.1.ln_2.bias", &t);
    float *fb = read_tensor(&d, "transformer.ln_f.bias", &t);
    float *pe = read_tensor(&d, "transformer.wpe.weight", &t);
    CHECK(qb && l2 && fb && pe && qb[0] == gvalue(version, 6, 3 * GC) && l2[1] == gvalue(version, 10, GC + 1) &&
              fb[3] == gvalue(version, 16, 3) && pe[GP * GC - 1] == gvalue(version, 2, GP * GC - 1),
          "biases, ln_2, ln_f and wpe land at the right names and layers");
    free(qb), free(l2), free(fb), free(pe);
    st_dir_close(&d);
}

static void test_llmc_errors(void) {
    Bytes b = llmc_file(3);
    const char *p = tmp_path("g_bad.bin");
    int32_t *h = (int32_t *)b.b;
    write_bytes(p, b.b, b.n - 4);
    expect_error(p, "g_bad.bin: truncated: array lnfb", NULL, "llm.c: one float short names lnfb");
    write_bytes(p, b.b, 1024 + 4 * (GVP * GC + GP * GC + 5));
    expect_error(p, "truncated: array ln1w", NULL, "llm.c: cut inside ln1w");
    h[1] = 5;  // bf16 header on fp32 data: twice the bytes needed
    write_bytes(p, b.b, b.n);
    expect_error(p, "bytes after the last array (lnfb)", NULL, "llm.c: version 5 header on fp32 data");
    h[1] = 4;
    write_bytes(p, b.b, b.n);
    expect_error(p, "llm.c version 4 not supported", NULL, "llm.c: bad version");
    h[1] = 3;
    h[7] = GV - 1;
    write_bytes(p, b.b, b.n);
    expect_error(p, "Vp >= V", NULL, "llm.c: padded vocab below vocab");
    ImportedModel m;
    Err e = {0};
    h[0] = 20240327;
    write_bytes(p, b.b, b.n);
    CHECK(import_llmc(&m, p, &e) && has(e.msg, "g_bad.bin: bad magic 20240327", NULL), "llm.c: bad magic: %s", e.msg);
    write_bytes(p, b.b, 100);
    CHECK(import_llmc(&m, p, &e) && has(e.msg, "shorter than the 1024-byte", NULL), "llm.c: short header: %s", e.msg);
    free(b.b);
}

int main(void) {
    if (fixture_init("pt_test_import")) return 1;
    test_llama2c_layout(1);
    test_llama2c_layout(0);
    test_llama2c_errors();
    test_llmc_layout(3);
    test_llmc_layout(5);
    test_llmc_errors();
    fixture_cleanup();
    return check_summary();
}
