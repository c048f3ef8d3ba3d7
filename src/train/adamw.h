// adamw.h: AdamW exactly as torch.optim.AdamW (bias correction, decoupled weight decay),
// with global-norm gradient clipping as torch.nn.utils.clip_grad_norm_, on fp32 master
// weights. Weight decay applies to 2-D weights other than the embeddings (wte, wpe,
// embed_tokens) unless decay_embeddings; never to norms and biases. The moments live in
// one allocation laid out as Model.params. tests/torch/reference.py (AdamW) is the spec.
#ifndef PT_TRAIN_ADAMW_H
#define PT_TRAIN_ADAMW_H

#include <stdint.h>

#include "model/model.h"
#include "util/err.h"

typedef struct {
    float lr, beta1, beta2, eps, weight_decay;
    float clip;            // global gradient-norm limit; <= 0: no clipping
    int decay_embeddings;  // also decay the embedding matrices
} AdamWConfig;

typedef struct {
    AdamWConfig cfg;
    size_t n;        // = Model.n_params
    float *m, *v;    // (n) first and second moments
    uint8_t *decay;  // (n) 1 where weight decay applies
    int t;           // steps taken
} AdamW;

int adamw_init(AdamW *o, const Model *model, const AdamWConfig *cfg, Err *e);
void adamw_free(AdamW *o);  // accepts a zeroed AdamW

// Clips model->grads to cfg.clip (when > 0) and updates model->params by one step.
// *norm (when not NULL) gets the global gradient norm before clipping.
void adamw_step(AdamW *o, Model *model, double *norm);

#endif
