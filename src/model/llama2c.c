// llama2c.c: llama2.c checkpoints (legacy version-0 .bin) -> HF LlamaForCausalLM, and the
// pieces both importers share (tensor list, save, detection).
//
// Format (llama2.c export.py legacy_export, run.c read_checkpoint): 7 int32 dim (C),
// hidden_dim (F), n_layers (L), n_heads (H), n_kv_heads (KVH), vocab_size (V; negative means
// an unshared classifier follows), seq_len (S); then float32 arrays, matrices (out, in):
//   token_embedding (V,C), rms_att (L,C), wq (L,C,C), wk (L,KVH*D,C), wv (L,KVH*D,C),
//   wo (L,C,C), rms_ffn (L,C), w1 (L,F,C), w2 (L,C,F), w3 (L,F,C), rms_final (C),
//   freq_cis_real (S,D/2), freq_cis_imag (S,D/2), [wcls (V,C)]     with D = C/H.
// llama2.c's RoPE turns adjacent pairs (2i, 2i+1) of a head, HF's turns (i, i+D/2): each
// head's rows of wq and wk are reordered [0,2,4,..,1,3,5,..] (tests/torch/llama2c_to_hf.py).
// The freq_cis tables are dropped: HF recomputes the same angles from rope_theta 10000.
#include "model/import.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/file.h"

// ---------------------------------------------------------------------------------------
// Shared by the importers

const char *import_format_name(ImportFormat f) {
    return f == IMPORT_LLAMA2C ? "llama2.c" : f == IMPORT_LLMC ? "llm.c" : "unknown";
}

size_t import_mul(size_t a, size_t b) {
    size_t r;
    return __builtin_mul_overflow(a, b, &r) ? SIZE_MAX : r;
}

ImportTensor *import_add(ImportedModel *m, const char *name, int64_t d0, int64_t d1, Err *e) {
    if (m->n == m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 64;
        ImportTensor *t = realloc(m->t, cap * sizeof *t);
        if (!t) return ERR(e, ERR_NOMEM, "out of memory"), NULL;
        m->t = t;
        m->cap = cap;
    }
    size_t numel = (size_t)d0 * (size_t)(d1 ? d1 : 1);
    ImportTensor *t = &m->t[m->n];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = d1 ? 2 : 1;
    t->shape[0] = d0;
    t->shape[1] = d1;
    if (!(t->data = calloc(numel ? numel : 1, sizeof(float))))
        return ERR(e, ERR_NOMEM, "%s: out of memory (%zu values)", name, numel), NULL;
    m->n++;
    m->n_params += numel;
    return t;
}

void import_free(ImportedModel *m) {
    for (size_t i = 0; i < m->n; i++) free(m->t[i].data);
    free(m->t);
    memset(m, 0, sizeof *m);
}

int import_save(const ImportedModel *m, const char *dir, StDtype dtype, Err *e) {
    char path[4200];
    if (file_mkdir_p(dir, e) || path_join(path, sizeof path, dir, "config.json", e) ||
        model_config_save_as(&m->cfg, path, dtype == ST_BF16 ? "bfloat16" : "float32", e) || path_join(path, sizeof path, dir, "model.safetensors", e))
        return -1;
    StSaveTensor *s = calloc(m->n ? m->n : 1, sizeof *s);
    if (!s) return ERR(e, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < m->n; i++)
        s[i] = (StSaveTensor){m->t[i].name, m->t[i].ndim, m->t[i].shape, m->t[i].data};
    int rc = st_save(path, s, m->n, dtype, 1, e);
    free(s);
    return rc;
}

// A llama2.c header is 7 positive int32 (vocab may be negative) with C divisible by H.
static int llama2c_header_ok(const int32_t h[7]) {
    for (int k = 0; k < 7; k++)
        if ((k == 5 ? (h[k] == 0 || h[k] == INT32_MIN) : h[k] <= 0)) return 0;
    return h[0] % h[3] == 0 && h[3] % h[4] == 0 && (h[0] / h[3]) % 2 == 0;
}

ImportFormat import_detect(const char *path, Err *e) {
    FILE *f = fopen(path, "rb");
    if (!f) return ERR(e, ERR_IO, "%s: %s", path, strerror(errno)), IMPORT_UNKNOWN;
    int32_t h[7] = {0};
    size_t got = fread(h, 1, sizeof h, f);
    fclose(f);
    if (got >= 4 && h[0] == LLMC_MAGIC) return IMPORT_LLMC;
    if (got == sizeof h && llama2c_header_ok(h)) return IMPORT_LLAMA2C;
    ERR(e, ERR_FORMAT, "%s: not a llama2.c (version 0) or llm.c (magic %d) checkpoint", path, LLMC_MAGIC);
    return IMPORT_UNKNOWN;
}

int import_any(ImportedModel *m, const char *path, Err *e) {
    switch (import_detect(path, e)) {
    case IMPORT_LLAMA2C: return import_llama2c(m, path, e);
    case IMPORT_LLMC: return import_llmc(m, path, e);
    default: return -1;
    }
}

// ---------------------------------------------------------------------------------------
// llama2.c

typedef struct {
    int C, F, L, H, KVH, V, S, D;
    bool shared;  // the classifier is the token embedding
} L2Header;

// The arrays in file order; the pointers are filled by l2_locate.
enum { A_EMB, A_RMS_ATT, A_WQ, A_WK, A_WV, A_WO, A_RMS_FFN, A_W1, A_W2, A_W3, A_RMS_FINAL,
       A_FREQ_RE, A_FREQ_IM, A_WCLS, A_COUNT };
static const char *const l2_names[A_COUNT] = {
    "token_embedding", "rms_att", "wq", "wk", "wv", "wo", "rms_ffn", "w1", "w2", "w3",
    "rms_final", "freq_cis_real", "freq_cis_imag", "wcls"};

static void l2_sizes(const L2Header *h, size_t n[A_COUNT]) {
    size_t C = h->C, F = h->F, L = h->L, V = h->V, S = h->S, KV = (size_t)h->KVH * h->D;
    n[A_EMB] = import_mul(V, C);
    n[A_RMS_ATT] = n[A_RMS_FFN] = import_mul(L, C);
    n[A_WQ] = n[A_WO] = import_mul(L, import_mul(C, C));
    n[A_WK] = n[A_WV] = import_mul(L, import_mul(KV, C));
    n[A_W1] = n[A_W2] = n[A_W3] = import_mul(L, import_mul(F, C));
    n[A_RMS_FINAL] = C;
    n[A_FREQ_RE] = n[A_FREQ_IM] = import_mul(S, (size_t)h->D / 2);
    n[A_WCLS] = h->shared ? 0 : n[A_EMB];
}

// Points a[k] at each array of the file (len bytes); exact size or an error naming the array.
static int l2_locate(const L2Header *h, const uint8_t *data, size_t len, const char *path,
                     const float *a[A_COUNT], Err *e) {
    size_t n[A_COUNT], at = 28;
    l2_sizes(h, n);
    for (int k = 0; k < A_COUNT; k++) {
        size_t bytes = import_mul(n[k], 4);
        if (bytes > len - at)
            return ERR(e, ERR_FORMAT, "%s: truncated: array %s needs %zu bytes at offset %zu but "
                       "only %zu remain (header dim=%d hidden_dim=%d n_layers=%d vocab=%d)",
                       path, l2_names[k], bytes, at, len - at, h->C, h->F, h->L, h->V);
        a[k] = (const float *)(data + at);
        at += bytes;
    }
    if (at != len)
        return ERR(e, ERR_FORMAT, "%s: %zu bytes after the last array (%s): the header does not "
                   "describe this file%s", path, len - at, h->shared ? "freq_cis_imag" : "wcls",
                   h->shared ? " (a negative vocab_size would add an unshared classifier)" : "");
    return 0;
}

static int l2_header(L2Header *h, const uint8_t *data, size_t len, const char *path, Err *e) {
    int32_t r[7];
    if (len < sizeof r) return ERR(e, ERR_FORMAT, "%s: %zu bytes, shorter than the 28-byte header", path, len);
    memcpy(r, data, sizeof r);
    if (!llama2c_header_ok(r))
        return ERR(e, ERR_FORMAT, "%s: bad llama2.c header (dim=%d hidden_dim=%d n_layers=%d n_heads=%d "
                   "n_kv_heads=%d vocab_size=%d seq_len=%d): sizes must be positive, n_heads must "
                   "divide dim into an even head size, n_kv_heads must divide n_heads",
                   path, r[0], r[1], r[2], r[3], r[4], r[5], r[6]);
    *h = (L2Header){r[0], r[1], r[2], r[3], r[4], r[5] < 0 ? -r[5] : r[5], r[6], r[0] / r[3], r[5] > 0};
    return 0;
}

// Copies one (rows, C) matrix of heads, reordering each head's D rows from llama2.c's
// pair order to HF's halves: new row j < D/2 is old row 2j, new row D/2 + j is old 2j + 1.
static void pairs_to_halves(float *dst, const float *src, int heads, int D, int C) {
    for (int h = 0; h < heads; h++)
        for (int j = 0; j < D; j++) {
            int old = j < D / 2 ? 2 * j : 2 * (j - D / 2) + 1;
            memcpy(dst + ((size_t)h * D + j) * C, src + ((size_t)h * D + old) * C, (size_t)C * 4);
        }
}

// Adds tensor name (d0, d1) holding a copy of src.
static int add_copy(ImportedModel *m, const char *name, int64_t d0, int64_t d1, const float *src, Err *e) {
    ImportTensor *t = import_add(m, name, d0, d1, e);
    if (!t) return -1;
    memcpy(t->data, src, (size_t)d0 * (size_t)(d1 ? d1 : 1) * 4);
    return 0;
}

static int l2_layer(ImportedModel *m, const L2Header *h, const float *a[A_COUNT], int i, Err *e) {
    size_t C = h->C, F = h->F, KV = (size_t)h->KVH * h->D;
    char n[96];
#define NAME(s) (snprintf(n, sizeof n, "model.layers.%d.%s", i, s), n)
    if (add_copy(m, NAME("input_layernorm.weight"), C, 0, a[A_RMS_ATT] + i * C, e)) return -1;
    ImportTensor *q = import_add(m, NAME("self_attn.q_proj.weight"), C, C, e);
    if (!q) return -1;
    pairs_to_halves(q->data, a[A_WQ] + i * C * C, h->H, h->D, h->C);
    ImportTensor *k = import_add(m, NAME("self_attn.k_proj.weight"), KV, C, e);
    if (!k) return -1;
    pairs_to_halves(k->data, a[A_WK] + i * KV * C, h->KVH, h->D, h->C);
    if (add_copy(m, NAME("self_attn.v_proj.weight"), KV, C, a[A_WV] + i * KV * C, e) ||
        add_copy(m, NAME("self_attn.o_proj.weight"), C, C, a[A_WO] + i * C * C, e) ||
        add_copy(m, NAME("post_attention_layernorm.weight"), C, 0, a[A_RMS_FFN] + i * C, e) ||
        add_copy(m, NAME("mlp.gate_proj.weight"), F, C, a[A_W1] + i * F * C, e) ||  // w1
        add_copy(m, NAME("mlp.up_proj.weight"), F, C, a[A_W3] + i * F * C, e) ||    // w3
        add_copy(m, NAME("mlp.down_proj.weight"), C, F, a[A_W2] + i * C * F, e))    // w2
        return -1;
#undef NAME
    return 0;
}

static void l2_config(ModelConfig *c, const L2Header *h) {
    memset(c, 0, sizeof *c);
    c->arch = MODEL_ARCH_LLAMA;
    c->vocab_size = h->V;
    c->hidden_size = h->C;
    c->intermediate_size = h->F;
    c->n_layer = h->L;
    c->n_head = h->H;
    c->n_kv_head = h->KVH;
    c->head_dim = h->D;
    c->max_position = h->S;
    c->norm_eps = 1e-5;  // run.c's rmsnorm
    c->norm = MODEL_NORM_RMSNORM;
    c->pos = MODEL_POS_ROPE;
    c->mlp = MODEL_MLP_SWIGLU;
    c->tied = h->shared;
    c->rope_theta = 10000.0;  // run.c: 1 / 10000^(head_dim_index / head_size)
    c->bos_id = 1;            // sentencepiece <s>, </s>
    c->eos_ids[0] = 2;
    c->n_eos = 1;
}

int import_llama2c(ImportedModel *m, const char *path, Err *e) {
    memset(m, 0, sizeof *m);
    char *data;
    size_t len;
    if (file_read_all(path, &data, &len, e)) return -1;
    L2Header h = {0};
    const float *a[A_COUNT] = {0};
    int rc = l2_header(&h, (const uint8_t *)data, len, path, e) ||
             l2_locate(&h, (const uint8_t *)data, len, path, a, e) ? -1 : 0;
    if (!rc) {
        m->format = IMPORT_LLAMA2C;
        l2_config(&m->cfg, &h);
        rc = add_copy(m, "model.embed_tokens.weight", h.V, h.C, a[A_EMB], e);
        for (int i = 0; i < h.L && !rc; i++) rc = l2_layer(m, &h, a, i, e);
        if (!rc) rc = add_copy(m, "model.norm.weight", h.C, 0, a[A_RMS_FINAL], e);
        if (!rc && !h.shared) rc = add_copy(m, "lm_head.weight", h.V, h.C, a[A_WCLS], e);
    }
    free(data);
    if (rc) import_free(m);
    return rc;
}
