// model.h: the decoder-only transformer (GPT-2, Llama, Qwen2) built from a ModelConfig and a
// Hugging Face safetensors directory, its forward pass and the masked cross-entropy; the
// backward (gradients laid out as the weights) is in backward.c.
//
// Memory: the weights, converted to fp32, live in one allocation in the order of
// model_config_tensors (so q/k/v and gate/up sit side by side and act as fused matrices);
// the activations live in a second one, sized once for (B,T) on the first forward and
// reused. A forward allocates nothing. Layers are in layers.c.
// Shapes: B batch, T time, V vocab, C hidden, F MLP width, L layers, H heads, KVH kv heads,
// D head dim, QKV = (H + 2 KVH) D, P max positions.
#ifndef PT_MODEL_MODEL_H
#define PT_MODEL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "model/config.h"
#include "util/err.h"

typedef struct {
    const float *ln1_w, *ln1_b;    // (C), (C) or NULL (RMSNorm)
    const float *qkv_w, *qkv_b;    // GPT-2 c_attn (C,QKV); Llama q|k|v_proj (QKV,C); bias (QKV) or NULL
    const float *o_w, *o_b;        // GPT-2 c_proj (C,C); Llama o_proj (C,H*D); bias (C) or NULL
    const float *ln2_w, *ln2_b;    // (C), (C) or NULL
    const float *fc_w, *fc_b;      // GPT-2 c_fc (C,F); Llama gate|up_proj (2F,C); bias or NULL
    const float *proj_w, *proj_b;  // GPT-2 mlp.c_proj (F,C); Llama down_proj (C,F); bias or NULL
} LayerWeights;

typedef struct {
    const float *wte;            // (V,C) token embedding
    const float *wpe;            // (P,C) learned positions, or NULL (RoPE)
    LayerWeights *layers;        // (L)
    const float *lnf_w, *lnf_b;  // (C), (C) or NULL
    const float *head;           // (V,C): wte when tied
} ModelWeights;

// What one layer's forward leaves behind for its backward.
typedef struct {
    float *resid;      // (B,T,C) the layer's input (the residual stream)
    float *ln1;        // (B,T,C)
    float *ln1_mean;   // (B,T) LayerNorm only
    float *ln1_rstd;   // (B,T)
    float *qkv;        // (B,T,QKV) after bias and RoPE
    float *att;        // (B,H,T,T) softmax probabilities
    float *atty;       // (B,T,H*D) attention output before o_proj
    float *attproj;    // (B,T,C)
    float *resid2;     // (B,T,C) resid + attproj
    float *ln2;        // (B,T,C)
    float *ln2_mean;   // (B,T)
    float *ln2_rstd;   // (B,T)
    float *fch;        // (B,T,F) GELU input, or (B,T,2F) [gate | up]
    float *fch_act;    // (B,T,F) GELU or SwiGLU output
    float *fcproj;     // (B,T,C)
} LayerActs;

typedef struct {
    int B, T;          // the last forward's sizes (at most cap_B, cap_T)
    int32_t *ids;      // (B,T) copied in
    int32_t *doc;      // (B,T) copied in; all zeros (one document) when the forward had none
    int32_t *pos;      // (B,T) positions, restarting per document
    LayerActs *layers; // (L)
    float *out;        // (B,T,C) last layer's output
    float *lnf;        // (B,T,C)
    float *lnf_mean;   // (B,T)
    float *lnf_rstd;   // (B,T)
    float *logits;     // (B,T,V)
    float *lse;        // (B,T) log-sum-exp of each logits row (set by model_loss)
    int lse_ready;     // lse belongs to the current logits
} ModelActs;

typedef struct {
    ModelConfig cfg;
    float *params;     // all weights, fp32, one allocation
    size_t n_params;
    ModelWeights w;
    float *rope_cos, *rope_sin;  // (P, D/2) each, RoPE models only
    void *arena;       // the activations, one allocation (NULL before the first forward)
    size_t arena_bytes;
    int cap_B, cap_T;  // the (B,T) the arena was sized for
    ModelActs acts;
    float *grads;      // (n_params) d loss / d params, laid out as params; NULL until needed
    void *grad_arena;  // activation gradients, one allocation sized for (cap_B, cap_T)
    size_t grad_arena_bytes;
} Model;

// Loads dir/config.json and dir's safetensors: checks every tensor's presence and shape
// (errors name the tensor) and converts the weights to fp32. m is zeroed on error.
int model_load(Model *m, const char *dir, Err *e);
void model_free(Model *m);  // accepts a zeroed Model

// Runs the forward on ids (B,T) with optional doc (B,T) document ids; the logits land in
// m->acts.logits (B,T,V). The first call sizes the arena for (B,T); later calls may not be
// larger in B or T. An id outside [0, V) is an error naming its position, as is T above P
// for learned positions.
int model_forward(Model *m, const int32_t *ids, const int32_t *doc, int B, int T, Err *e);

// Masked next-token cross-entropy on the last forward. Token t >= 1 of each row is a target
// predicted from position t-1 with weight mask[t] (mask (B,T) or NULL: weight 1 for every
// t >= 1; mask[b][0] never counts). loss = sum of weight * -log p / normaliser, where
// normaliser <= 0 means the number of targets (nonzero weights; the loss is 0 when there
// are none). Fills logp (B,T) when not NULL: log p(ids[t] | prefix) for t >= 1, 0 at t = 0;
// *count (when not NULL) gets the number of targets.
int model_loss(Model *m, const float *mask, double normaliser, float *logp, double *loss,
               int *count, Err *e);

// lse (N) = log-sum-exp of each row of logits (N,V).
void model_logsumexp_rows(float *lse, const float *logits, size_t N, int V);

// Sets every parameter gradient to zero (allocating m->grads on the first call).
int model_zero_grad(Model *m, Err *e);
// Adds d loss / d params of the last forward into m->grads (backward.c), for the loss of
// model_loss with the same mask and normaliser. The first call allocates the gradients
// and the activation-gradient arena; later calls allocate nothing.
int model_backward(Model *m, const float *mask, double normaliser, Err *e);
// Writes n_sets arrays laid out as params (the weights, m->grads, …) as float32 tensors
// named prefix[k] + HF name to path, e.g. "grad.model.norm.weight" (verification aid).
int model_dump_tensors(const Model *m, const char *path, int n_sets, const float *const *data,
                       const char *const *prefix, Err *e);

// Writes m into dir (created if missing) in the HF layout: model.safetensors as dtype
// (ST_F32, which reloads bit for bit, or ST_BF16; a tied head is not written), then
// config.json, each atomically; a stale model.safetensors.index.json there is removed.
// With src_dir (may be NULL), the tokenizer files found there (tokenizer.json,
// tokenizer_config.json, special_tokens_map.json, tokenizer.bin, *.tiktoken) are copied. (save.c)
int model_save(const Model *m, const char *dir, StDtype dtype, const char *src_dir, Err *e);

// Writes a freshly initialised model for c into dir (config.json + model.safetensors,
// F32): GPT-2's init, deterministic from seed. What pretraining starts from. (init.c)
int model_init_save(const ModelConfig *c, uint64_t seed, const char *dir, Err *e);

// Grows the vocabulary to new_vocab >= V: the embedding (and an untied head) get new rows,
// each the column mean of the existing rows (in double, stored fp32); the weights move to
// a new block. Must run before the first forward and before gradients exist (both are
// sized by V): an error otherwise. (save.c)
int model_grow_vocab(Model *m, int new_vocab, Err *e);

#endif
