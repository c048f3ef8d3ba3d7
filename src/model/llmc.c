// llmc.c: llm.c GPT-2 checkpoints (gpt2_*.bin) -> HF GPT2LMHeadModel.
//
// Format (karpathy/llm.c train_gpt2.c gpt2_build_from_checkpoint, fill_in_parameter_sizes):
// 256 int32 header: [0] magic 20240326, [1] version (3: float32 params; 5: bfloat16, from
// train_gpt2.cu), [2] maxT (P), [3] V, [4] L, [5] NH, [6] C, [7] Vp (V padded up for the GPU
// kernels); then 16 arrays, matrices (out, in) as nn.Linear:
//   wte (Vp,C), wpe (P,C), ln1w (L,C), ln1b (L,C), qkvw (L,3C,C), qkvb (L,3C),
//   attprojw (L,C,C), attprojb (L,C), ln2w (L,C), ln2b (L,C), fcw (L,4C,C), fcb (L,4C),
//   fcprojw (L,C,4C), fcprojb (L,C), lnfw (C), lnfb (C).
// HF's GPT-2 uses Conv1D, whose weight is (in, out): every matrix but wte/wpe is transposed.
// The rows of wte beyond V are padding and dropped.
#include "model/import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/file.h"

enum { P_WTE, P_WPE, P_LN1W, P_LN1B, P_QKVW, P_QKVB, P_ATTPROJW, P_ATTPROJB, P_LN2W, P_LN2B,
       P_FCW, P_FCB, P_FCPROJW, P_FCPROJB, P_LNFW, P_LNFB, P_COUNT };
static const char *const p_names[P_COUNT] = {
    "wte", "wpe", "ln1w", "ln1b", "qkvw", "qkvb", "attprojw", "attprojb", "ln2w", "ln2b",
    "fcw", "fcb", "fcprojw", "fcprojb", "lnfw", "lnfb"};

typedef struct {
    int version, P, V, L, NH, C, Vp;
    size_t esize;  // bytes per value: 4 (fp32) or 2 (bf16)
} LlmcHeader;

// One array of the file: n values starting at p, in the header's dtype.
typedef struct {
    const uint8_t *p;
    size_t n;
} LlmcArray;

static float llmc_get(const LlmcHeader *h, const LlmcArray *a, size_t k) {
    if (h->esize == 2) {
        uint16_t b;
        memcpy(&b, a->p + 2 * k, 2);
        return st_bf16_to_f32(b);
    }
    float f;
    memcpy(&f, a->p + 4 * k, 4);
    return f;
}

static int llmc_header(LlmcHeader *h, const uint8_t *data, size_t len, const char *path, Err *e) {
    int32_t r[256];
    if (len < sizeof r) return ERR(e, ERR_FORMAT, "%s: %zu bytes, shorter than the 1024-byte llm.c header", path, len);
    memcpy(r, data, sizeof r);
    if (r[0] != LLMC_MAGIC)
        return ERR(e, ERR_FORMAT, "%s: bad magic %d (llm.c checkpoints start with %d)", path, r[0], LLMC_MAGIC);
    if (r[1] != 3 && r[1] != 5)
        return ERR(e, ERR_UNSUPPORTED, "%s: llm.c version %d not supported (3: fp32, 5: bf16)", path, r[1]);
    *h = (LlmcHeader){r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[1] == 5 ? 2 : 4};
    if (h->P <= 0 || h->V <= 0 || h->L <= 0 || h->NH <= 0 || h->C <= 0 || h->Vp < h->V || h->C % h->NH)
        return ERR(e, ERR_FORMAT, "%s: bad llm.c header (maxT=%d V=%d L=%d NH=%d C=%d Vp=%d): sizes must "
                   "be positive, Vp >= V, NH must divide C", path, h->P, h->V, h->L, h->NH, h->C, h->Vp);
    return 0;
}

// Points a[k] at each array; the file size must match the header exactly.
static int llmc_locate(const LlmcHeader *h, const uint8_t *data, size_t len, const char *path,
                       LlmcArray a[P_COUNT], Err *e) {
    size_t C = h->C, L = h->L, LC = import_mul(L, C), CC = import_mul(C, C);
    size_t n[P_COUNT] = {
        import_mul(h->Vp, C), import_mul(h->P, C), LC, LC, import_mul(L, import_mul(3, CC)), import_mul(L, 3 * C),
        import_mul(L, CC), LC, LC, LC, import_mul(L, import_mul(4, CC)), import_mul(L, 4 * C),
        import_mul(L, import_mul(4, CC)), LC, C, C};
    size_t at = 1024;
    for (int k = 0; k < P_COUNT; k++) {
        size_t bytes = import_mul(n[k], h->esize);
        if (bytes > len - at)
            return ERR(e, ERR_FORMAT, "%s: truncated: array %s needs %zu bytes at offset %zu but only "
                       "%zu remain (header maxT=%d V=%d Vp=%d L=%d C=%d, %s)", path, p_names[k], bytes,
                       at, len - at, h->P, h->V, h->Vp, h->L, h->C, h->esize == 2 ? "bf16" : "fp32");
        a[k] = (LlmcArray){data + at, n[k]};
        at += bytes;
    }
    if (at != len)
        return ERR(e, ERR_FORMAT, "%s: %zu bytes after the last array (lnfb): the header does not "
                   "describe this file", path, len - at);
    return 0;
}

// Adds name (d0, d1) = values off .. off + d0*d1 of a, transposed when tr (a holds (d1, d0)).
static int add_from(ImportedModel *m, const LlmcHeader *h, const char *name, int64_t d0, int64_t d1,
                    const LlmcArray *a, size_t off, int tr, Err *e) {
    ImportTensor *t = import_add(m, name, d0, d1, e);
    if (!t) return -1;
    size_t R = (size_t)d0, K = d1 ? (size_t)d1 : 1;
    for (size_t r = 0; r < R; r++)
        for (size_t c = 0; c < K; c++)
            t->data[r * K + c] = llmc_get(h, a, off + (tr ? c * R + r : r * K + c));
    return 0;
}

static int llmc_layer(ImportedModel *m, const LlmcHeader *h, const LlmcArray a[P_COUNT], int i, Err *e) {
    size_t C = h->C;
    char n[96];
#define NAME(s) (snprintf(n, sizeof n, "transformer.h.%d.%s", i, s), n)
    return add_from(m, h, NAME("ln_1.weight"), C, 0, &a[P_LN1W], i * C, 0, e) ||
           add_from(m, h, NAME("ln_1.bias"), C, 0, &a[P_LN1B], i * C, 0, e) ||
           add_from(m, h, NAME("attn.c_attn.weight"), C, 3 * C, &a[P_QKVW], i * 3 * C * C, 1, e) ||
           add_from(m, h, NAME("attn.c_attn.bias"), 3 * C, 0, &a[P_QKVB], i * 3 * C, 0, e) ||
           add_from(m, h, NAME("attn.c_proj.weight"), C, C, &a[P_ATTPROJW], i * C * C, 1, e) ||
           add_from(m, h, NAME("attn.c_proj.bias"), C, 0, &a[P_ATTPROJB], i * C, 0, e) ||
           add_from(m, h, NAME("ln_2.weight"), C, 0, &a[P_LN2W], i * C, 0, e) ||
           add_from(m, h, NAME("ln_2.bias"), C, 0, &a[P_LN2B], i * C, 0, e) ||
           add_from(m, h, NAME("mlp.c_fc.weight"), C, 4 * C, &a[P_FCW], i * 4 * C * C, 1, e) ||
           add_from(m, h, NAME("mlp.c_fc.bias"), 4 * C, 0, &a[P_FCB], i * 4 * C, 0, e) ||
           add_from(m, h, NAME("mlp.c_proj.weight"), 4 * C, C, &a[P_FCPROJW], i * 4 * C * C, 1, e) ||
           add_from(m, h, NAME("mlp.c_proj.bias"), C, 0, &a[P_FCPROJB], i * C, 0, e) ? -1 : 0;
#undef NAME
}

static void llmc_config(ModelConfig *c, const LlmcHeader *h) {
    memset(c, 0, sizeof *c);
    c->arch = MODEL_ARCH_GPT2;
    c->vocab_size = h->V;
    c->hidden_size = h->C;
    c->intermediate_size = 4 * h->C;
    c->n_layer = h->L;
    c->n_head = c->n_kv_head = h->NH;
    c->head_dim = h->C / h->NH;
    c->max_position = h->P;
    c->norm_eps = 1e-5;  // llm.c layernorm_forward
    c->norm = MODEL_NORM_LAYERNORM;
    c->pos = MODEL_POS_LEARNED;
    c->mlp = MODEL_MLP_GELU;
    c->qkv_bias = c->o_bias = c->mlp_bias = true;
    c->tied = true;  // llm.c's classifier is wte
    c->bos_id = -1;
    if (h->V == 50257) {  // GPT-2's <|endoftext|>, HF's bos and eos
        c->bos_id = c->eos_ids[0] = 50256;
        c->n_eos = 1;
    }
}

int import_llmc(ImportedModel *m, const char *path, Err *e) {
    memset(m, 0, sizeof *m);
    char *data;
    size_t len;
    if (file_read_all(path, &data, &len, e)) return -1;
    LlmcHeader h = {0};
    LlmcArray a[P_COUNT];
    int rc = llmc_header(&h, (const uint8_t *)data, len, path, e) ||
             llmc_locate(&h, (const uint8_t *)data, len, path, a, e) ? -1 : 0;
    if (!rc) {
        m->format = IMPORT_LLMC;
        llmc_config(&m->cfg, &h);
        size_t C = h.C;
        rc = add_from(m, &h, "transformer.wte.weight", h.V, C, &a[P_WTE], 0, 0, e) ||  // first V of Vp rows
             add_from(m, &h, "transformer.wpe.weight", h.P, C, &a[P_WPE], 0, 0, e) ? -1 : 0;
        for (int i = 0; i < h.L && !rc; i++) rc = llmc_layer(m, &h, a, i, e);
        if (!rc)
            rc = add_from(m, &h, "transformer.ln_f.weight", C, 0, &a[P_LNFW], 0, 0, e) ||
                 add_from(m, &h, "transformer.ln_f.bias", C, 0, &a[P_LNFB], 0, 0, e) ? -1 : 0;
    }
    free(data);
    if (rc) import_free(m);
    return rc;
}
