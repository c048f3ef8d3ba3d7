// adamw.c: AdamW and global-norm clipping on the model's fp32 weights (see adamw.h).
// The order of operations follows torch.optim.AdamW's single-tensor path so that the
// weights after a few steps match PyTorch to float rounding.
#include "train/adamw.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/layers.h"  // PAR_MIN

static int is_embedding(const char *name) {
    return !strcmp(name, "transformer.wte.weight") || !strcmp(name, "transformer.wpe.weight") ||
           !strcmp(name, "model.embed_tokens.weight");
}

// Marks the decayed parameters: tensors in model_config_tensors order, as Model.params.
static int mark_decay(AdamW *o, const Model *model, Err *e) {
    ModelTensorSpec *specs;
    size_t n, off = 0;
    if (model_config_tensors(&model->cfg, &specs, &n, e)) return -1;
    for (size_t i = 0; i < n; i++) {
        size_t len = (size_t)specs[i].shape[0] * (specs[i].ndim == 2 ? (size_t)specs[i].shape[1] : 1);
        int d = specs[i].ndim == 2 && (o->cfg.decay_embeddings || !is_embedding(specs[i].name));
        memset(o->decay + off, d, len);
        off += len;
    }
    free(specs);
    return 0;
}

int adamw_init(AdamW *o, const Model *model, const AdamWConfig *cfg, Err *e) {
    memset(o, 0, sizeof *o);
    o->cfg = *cfg;
    o->n = model->n_params;
    o->m = calloc(o->n, sizeof *o->m);
    o->v = calloc(o->n, sizeof *o->v);
    o->decay = malloc(o->n);
    if (!o->m || !o->v || !o->decay) {
        adamw_free(o);
        return ERR(e, ERR_NOMEM, "out of memory for AdamW state (%zu params)", model->n_params);
    }
    if (mark_decay(o, model, e)) {
        adamw_free(o);
        return -1;
    }
    return 0;
}

void adamw_free(AdamW *o) {
    free(o->m);
    free(o->v);
    free(o->decay);
    memset(o, 0, sizeof *o);
}

// The global L2 norm of g (n), summed in double.
static double grad_norm(const float *g, size_t n) {
    double s = 0.0;
#pragma omp parallel for reduction(+ : s) schedule(static) if (n >= PAR_MIN)
    for (size_t i = 0; i < n; i++) s += (double)g[i] * g[i];
    return sqrt(s);
}

void adamw_step(AdamW *o, Model *model, double *norm) {
    const AdamWConfig *c = &o->cfg;
    float *p = model->params, *g = model->grads;
    double total = grad_norm(g, o->n);
    if (norm) *norm = total;
    // clip_grad_norm_: coef = min(1, max_norm / (total + 1e-6)), applied to every grad.
    float coef = c->clip > 0 ? (float)fmin(1.0, c->clip / (total + 1e-6)) : 1.0f;
    o->t++;
    float bc1 = 1.0f - powf(c->beta1, (float)o->t), bc2 = 1.0f - powf(c->beta2, (float)o->t);
    float step = c->lr / bc1, sbc2 = sqrtf(bc2);
#pragma omp parallel for schedule(static) if (o->n >= PAR_MIN)
    for (size_t i = 0; i < o->n; i++) {
        float gi = coef < 1.0f ? g[i] * coef : g[i];
        if (o->decay[i]) p[i] *= 1.0f - c->lr * c->weight_decay;  // decoupled decay
        o->m[i] = o->m[i] * c->beta1 + gi * (1.0f - c->beta1);
        o->v[i] = o->v[i] * c->beta2 + gi * gi * (1.0f - c->beta2);
        p[i] -= step * o->m[i] / (sqrtf(o->v[i]) / sbc2 + c->eps);
    }
}
