// layers.h: the decoder's layers, each a forward/backward pair of plain fp32 loops.
//
// Each backward adds (+=) into its gradient buffers. The forward's inputs stay in the
// caller's activation arena and the forward caches what its backward needs (the norms'
// mean and 1/std, attention's softmax probabilities). No layer allocates.
// Shapes: N rows (= B*T), B batch, T time, C channels, IC/OC matmul in/out channels,
// H query heads, KVH key/value heads, D head dim, QKV = (H + 2 KVH) * D, F MLP width.
#ifndef PT_MODEL_LAYERS_H
#define PT_MODEL_LAYERS_H

#include <stddef.h>
#include <stdint.h>

// Loops over fewer elements than this run on one thread: starting a parallel region
// costs microseconds (much more when the machine is busy), more than tiny models' layers.
#define PAR_MIN 65536

// How a weight matrix is stored: nn.Linear keeps (OC, IC); GPT-2's Conv1D keeps (IC, OC).
typedef enum { MAT_OUT_IN, MAT_IN_OUT } MatLayout;

// out (N,OC) = inp (N,IC) @ W + bias (OC, or NULL); W (OC,IC) or (IC,OC) per layout.
// The one matmul of the model, so a GEMM library can replace it in one place.
void matmul_forward(float *out, const float *inp, const float *w, const float *bias, size_t N,
                    int IC, int OC, MatLayout layout);
// dinp (N,IC) += dout (N,OC) times W (either layout); dw (as w) += dout^T inp; dbias (OC, or
// NULL) += column sums of dout. Needs inp, the forward's input.
void matmul_backward(float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                     const float *w, size_t N, int IC, int OC, MatLayout layout);

// out (N,C) = (inp - mean) * rstd * w + b; caches mean (N) and rstd (N) for the backward.
void layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w,
                       const float *b, size_t N, int C, float eps);
// dinp (N,C), dw (C), db (C, or NULL) += gradients given dout (N,C); needs inp, mean, rstd.
void layernorm_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                        const float *w, const float *mean, const float *rstd, size_t N, int C);
// out (N,C) = inp * rstd * w with rstd = 1/sqrt(mean(inp^2) + eps); caches rstd (N).
void rmsnorm_forward(float *out, float *rstd, const float *inp, const float *w, size_t N, int C,
                     float eps);
// dinp (N,C), dw (C) += gradients given dout (N,C); needs inp and rstd.
void rmsnorm_backward(float *dinp, float *dw, const float *dout, const float *inp, const float *w,
                      const float *rstd, size_t N, int C);

// out (N,C) = wte[ids] (+ wpe[pos] when wpe is not NULL); ids, pos (N).
void embed_forward(float *out, const int32_t *ids, const int32_t *pos, const float *wte,
                   const float *wpe, size_t N, int C);
// dwte (V,C) and dwpe (P,C, or NULL) += dout (N,C) scattered to the rows ids / pos.
void embed_backward(float *dwte, float *dwpe, const float *dout, const int32_t *ids,
                    const int32_t *pos, size_t N, int C);

// Rotates q and k of qkv (N, QKV) in place by angle pos * inv_freq, rotate-half style as
// HF Llama: pairs (x[i], x[i + D/2]) of each head. cos/sin tables (P, D/2); pos (N).
void rope_forward(float *qkv, const int32_t *pos, const float *cos_tab, const float *sin_tab,
                  size_t N, int H, int KVH, int D);
// In place on dqkv (N,QKV): the gradient through the rotation (the inverse rotation).
void rope_backward(float *dqkv, const int32_t *pos, const float *cos_tab, const float *sin_tab,
                   size_t N, int H, int KVH, int D);

// Causal attention within documents. qkv (B,T,QKV) rows [q heads | k heads | v heads];
// doc (B,T) document ids or NULL; out (B,T,H*D); att (B,H,T,T) caches the softmax
// probabilities (zero where not allowed). Query head h reads kv head h / (H/KVH).
void attention_forward(float *out, float *att, const float *qkv, const int32_t *doc, int B, int T,
                       int H, int KVH, int D);
// dqkv (B,T,QKV) += gradient given dout (B,T,H*D); needs the forward's qkv (after RoPE)
// and att. scratch (B,KVH,T) is overwritten.
void attention_backward(float *dqkv, float *scratch, const float *dout, const float *qkv,
                        const float *att, int B, int T, int H, int KVH, int D);

// out (N,F) = gelu_tanh(inp (N,F)).
void gelu_forward(float *out, const float *inp, size_t N, int F);
void gelu_backward(float *dinp, const float *inp, const float *dout, size_t N, int F);
// out (N,F) = silu(gate) * up, with inp (N,2F) rows [gate | up].
void swiglu_forward(float *out, const float *inp, size_t N, int F);
// dinp (N,2F) += [dgate | dup] given dout (N,F); needs inp (N,2F).
void swiglu_backward(float *dinp, const float *inp, const float *dout, size_t N, int F);

// out (N,C) = a + b (the residual stream).
void residual_forward(float *out, const float *a, const float *b, size_t N, int C);
// da, db (N,C) += dout (N,C).
void residual_backward(float *da, float *db, const float *dout, size_t N, int C);

// Positions (B,T) restarting at 0 for each document: pos[t] = t - (first s <= t with
// doc[s] == doc[t]); doc NULL gives pos[t] = t.
void positions_forward(int32_t *pos, const int32_t *doc, int B, int T);

#endif
