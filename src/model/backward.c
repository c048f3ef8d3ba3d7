// backward.c: the model-level backward pass — d loss / d every parameter, after
// model_forward and for the masked cross-entropy of model_loss.
//
// Gradients live in m->grads, one allocation laid out exactly as m->params, so the
// gradient of a weight pointer p is m->grads + (p - m->params) (a tied head lands in the
// embedding's rows for free). Activation gradients live in m->grad_arena, sized once for
// (cap_B, cap_T). Layers (and what each backward reads from the forward) are in layers.c;
// tests/cli/grad_parity.sh compares every gradient with PyTorch (tests/torch).
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/layers.h"
#include "model/vmath.h"
#include "model/model.h"
#include "model/safetensors.h"

// Activation gradients of one backward; shapes use the arena's capacity N = cap_B*cap_T.
typedef struct {
    float *dres;      // (N,C) d of the residual stream at the current layer boundary
    float *dres2;     // (N,C) d of the mid-block residual (resid2)
    float *dln;       // (N,C) d of a norm's output
    float *dqkv;      // (N,QKV)
    float *datty;     // (N,H*D)
    float *dfch;      // (N,F) or (N,2F)
    float *dfch_act;  // (N,F)
    float *dlogits;   // (N,V)
    float *scratch;   // (B,KVH,T) attention backward's per-row dp
} GradActs;

// Carves ga from base (or, with base NULL, only counts); returns the bytes used.
static size_t carve_grad_acts(const Model *m, GradActs *ga, char *base) {
    const ModelConfig *c = &m->cfg;
    size_t N = (size_t)m->cap_B * m->cap_T, C = c->hidden_size, F = c->intermediate_size,
           QKV = (size_t)(c->n_head + 2 * c->n_kv_head) * c->head_dim,
           HD = (size_t)c->n_head * c->head_dim, FH = c->mlp == MODEL_MLP_SWIGLU ? 2 * F : F;
    size_t sizes[] = {N * C, N * C, N * C, N * QKV, N * HD, N * FH, N * F,
                      N * (size_t)c->vocab_size, (size_t)m->cap_B * c->n_kv_head * m->cap_T};
    float **slots[] = {&ga->dres, &ga->dres2, &ga->dln, &ga->dqkv, &ga->datty,
                       &ga->dfch, &ga->dfch_act, &ga->dlogits, &ga->scratch};
    size_t off = 0;
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        *slots[i] = base ? (float *)(base + off) : NULL;
        off += (sizes[i] * sizeof(float) + 63) & ~(size_t)63;
    }
    return off;
}

// The gradient buffer of weight p (NULL for an absent weight).
static float *grad_of(const Model *m, const float *p) {
    return p ? m->grads + (p - m->params) : NULL;
}

int model_zero_grad(Model *m, Err *e) {
    if (!m->grads && !(m->grads = malloc(m->n_params * sizeof(float))))
        return ERR(e, ERR_NOMEM, "out of memory for %zu gradients", m->n_params);
    memset(m->grads, 0, m->n_params * sizeof(float));
    return 0;
}

// dlogits (B,T,V): row t-1 gets (softmax - onehot(ids[t])) * weight[t] / normaliser for
// every target t; other rows are zero. normaliser <= 0 means the number of targets.
static void loss_backward(Model *m, float *dlogits, const float *mask, double normaliser) {
    ModelActs *a = &m->acts;
    int B = a->B, T = a->T, V = m->cfg.vocab_size;
    if (normaliser <= 0) {
        int n = 0;
        for (int b = 0; b < B; b++)
            for (int t = 1; t < T; t++) n += (mask ? mask[(size_t)b * T + t] : 1.0f) != 0.0f;
        normaliser = n ? n : 1;
    }
    if (!a->lse_ready) {  // model_loss has not run on these logits
        model_logsumexp_rows(a->lse, a->logits, (size_t)B * T, V);
        a->lse_ready = 1;
    }
#pragma omp parallel for schedule(static) if ((size_t)B * T * V >= PAR_MIN)
    for (size_t i = 0; i < (size_t)B * T; i++) {
        float *dz = dlogits + i * V;  // (V)
        const float *z = a->logits + i * V;
        int t = (int)(i % T);
        float wgt = t + 1 < T ? (mask ? mask[i + 1] : 1.0f) : 0.0f;
        if (wgt == 0.0f) {
            memset(dz, 0, (size_t)V * sizeof *dz);
            continue;
        }
        const float scale = (float)(wgt / normaliser), lse = a->lse[i];
#pragma omp simd
        for (int v = 0; v < V; v++) dz[v] = vexpf(z[v] - lse) * scale;
        dz[a->ids[i + 1]] -= scale;
    }
}

static void norm_backward(const Model *m, float *dinp, const float *dout, const float *inp,
                          const float *w, const float *b, const float *mean, const float *rstd,
                          size_t N) {
    int C = m->cfg.hidden_size;
    if (m->cfg.norm == MODEL_NORM_LAYERNORM)
        layernorm_backward(dinp, grad_of(m, w), grad_of(m, b), dout, inp, w, mean, rstd, N, C);
    else
        rmsnorm_backward(dinp, grad_of(m, w), dout, inp, w, rstd, N, C);
}

// One block in reverse: ga->dres (N,C) holds d of the block's output on entry and d of its
// input (la->resid) on return.
static void block_backward(Model *m, int l, GradActs *ga) {
    const ModelConfig *c = &m->cfg;
    const LayerWeights *w = &m->w.layers[l];
    const LayerActs *la = &m->acts.layers[l];
    int B = m->acts.B, T = m->acts.T, C = c->hidden_size, F = c->intermediate_size,
        H = c->n_head, KVH = c->n_kv_head, D = c->head_dim, QKV = (H + 2 * KVH) * D;
    size_t N = (size_t)B * T, fs = sizeof(float);
    MatLayout lay = c->arch == MODEL_ARCH_GPT2 ? MAT_IN_OUT : MAT_OUT_IN;
    int swiglu = c->mlp == MODEL_MLP_SWIGLU, FH = swiglu ? 2 * F : F;

    // MLP: next = resid2 + proj(act(fc(ln2(resid2)))); dres is d next = d fcproj.
    memcpy(ga->dres2, ga->dres, N * C * fs);
    memset(ga->dfch_act, 0, N * F * fs);
    matmul_backward(ga->dfch_act, grad_of(m, w->proj_w), grad_of(m, w->proj_b), ga->dres,
                    la->fch_act, w->proj_w, N, F, C, lay);
    memset(ga->dfch, 0, N * FH * fs);
    if (swiglu) swiglu_backward(ga->dfch, la->fch, ga->dfch_act, N, F);
    else gelu_backward(ga->dfch, la->fch, ga->dfch_act, N, F);
    memset(ga->dln, 0, N * C * fs);
    matmul_backward(ga->dln, grad_of(m, w->fc_w), grad_of(m, w->fc_b), ga->dfch, la->ln2,
                    w->fc_w, N, C, FH, lay);
    norm_backward(m, ga->dres2, ga->dln, la->resid2, w->ln2_w, w->ln2_b, la->ln2_mean,
                  la->ln2_rstd, N);

    // Attention: resid2 = resid + o(attn(rope(qkv(ln1(resid))))); dres2 is d attproj.
    memcpy(ga->dres, ga->dres2, N * C * fs);
    memset(ga->datty, 0, N * (size_t)H * D * fs);
    matmul_backward(ga->datty, grad_of(m, w->o_w), grad_of(m, w->o_b), ga->dres2, la->atty,
                    w->o_w, N, H * D, C, lay);
    memset(ga->dqkv, 0, N * QKV * fs);
    attention_backward(ga->dqkv, ga->scratch, ga->datty, la->qkv, la->att, B, T, H, KVH, D);
    if (c->pos == MODEL_POS_ROPE)
        rope_backward(ga->dqkv, m->acts.pos, m->rope_cos, m->rope_sin, N, H, KVH, D);
    memset(ga->dln, 0, N * C * fs);
    matmul_backward(ga->dln, grad_of(m, w->qkv_w), grad_of(m, w->qkv_b), ga->dqkv, la->ln1,
                    w->qkv_w, N, C, QKV, lay);
    norm_backward(m, ga->dres, ga->dln, la->resid, w->ln1_w, w->ln1_b, la->ln1_mean,
                  la->ln1_rstd, N);
}

static int backward_alloc(Model *m, Err *e) {
    if (!m->grads && model_zero_grad(m, e)) return -1;
    if (m->grad_arena) return 0;
    GradActs ga;
    size_t bytes = carve_grad_acts(m, &ga, NULL);
    if (!(m->grad_arena = malloc(bytes)))
        return ERR(e, ERR_NOMEM, "out of memory for activation gradients (%zu bytes)", bytes);
    m->grad_arena_bytes = bytes;
    return 0;
}

int model_backward(Model *m, const float *mask, double normaliser, Err *e) {
    if (!m->arena) return ERR(e, ERR_ARG, "backward: no forward has run");
    if (backward_alloc(m, e)) return -1;
    const ModelConfig *c = &m->cfg;
    const ModelActs *a = &m->acts;
    GradActs ga;
    carve_grad_acts(m, &ga, m->grad_arena);
    size_t N = (size_t)a->B * a->T;
    int C = c->hidden_size;

    loss_backward(m, ga.dlogits, mask, normaliser);
    memset(ga.dln, 0, N * C * sizeof(float));
    matmul_backward(ga.dln, grad_of(m, m->w.head), NULL, ga.dlogits, a->lnf, m->w.head, N, C,
                    c->vocab_size, MAT_OUT_IN);
    memset(ga.dres, 0, N * C * sizeof(float));
    norm_backward(m, ga.dres, ga.dln, a->out, m->w.lnf_w, m->w.lnf_b, a->lnf_mean, a->lnf_rstd, N);
    for (int l = c->n_layer - 1; l >= 0; l--) block_backward(m, l, &ga);
    embed_backward(grad_of(m, m->w.wte), grad_of(m, m->w.wpe), ga.dres, a->ids, a->pos, N, C);
    return 0;
}

int model_dump_tensors(const Model *m, const char *path, int n_sets, const float *const *data,
                       const char *const *prefix, Err *e) {
    ModelTensorSpec *specs = NULL;
    size_t n = 0;
    if (model_config_tensors(&m->cfg, &specs, &n, e)) return -1;
    size_t nt = n * (size_t)n_sets;
    StSaveTensor *ts = calloc(nt, sizeof *ts);
    char (*names)[sizeof specs->name + 16] = calloc(nt, sizeof *names);
    int rc = -1;
    if (!ts || !names) {
        ERR(e, ERR_NOMEM, "out of memory");
        goto done;
    }
    for (int k = 0; k < n_sets; k++) {
        size_t off = 0;
        for (size_t i = 0; i < n; i++) {
            size_t j = (size_t)k * n + i;
            snprintf(names[j], sizeof names[j], "%s%s", prefix[k], specs[i].name);
            ts[j] = (StSaveTensor){names[j], specs[i].ndim, specs[i].shape, data[k] + off};
            off += (size_t)specs[i].shape[0] * (specs[i].ndim == 2 ? (size_t)specs[i].shape[1] : 1);
        }
    }
    rc = st_save(path, ts, nt, ST_F32, 0, e);
done:
    free(ts);
    free(names);
    free(specs);
    return rc;
}
