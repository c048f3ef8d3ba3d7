// layers.c: forward passes of the decoder's layers (declared and shaped in layers.h).
//
// fp32, written from the model definitions (GPT-2, Llama, Qwen2 in HF transformers;
// tests/torch/reference.py is the executable spec). Matmuls go to oneDNN's sgemm; the rest
// are plain loops with OpenMP on the outer loop of the work that dominates. Each
// X_backward sits right after X_forward and adds (+=) into its gradient buffers, so
// gradients accumulate for free.
#include "model/layers.h"

#include <math.h>
#include <string.h>

#include <oneapi/dnnl/dnnl.h>

#include "model/vmath.h"

// ----------------------------------------------------------------------------- matmul

// The matmuls are most of the FLOPs, so they go to oneDNN's sgemm (row-major, threaded
// with the same OpenMP runtime as the rest). The bias is written into the output first and
// sgemm accumulates onto it (beta = 1); without a bias, beta = 0 overwrites.
void matmul_forward(float *out, const float *inp, const float *w, const float *bias, size_t N,
                    int IC, int OC, MatLayout layout) {
    float beta = 0.0f;
    if (bias) {
#pragma omp parallel for schedule(static) if (N * OC >= PAR_MIN)
        for (size_t n = 0; n < N; n++) memcpy(out + n * OC, bias, (size_t)OC * sizeof(float));
        beta = 1.0f;
    }
    if (layout == MAT_OUT_IN)  // out = inp @ W^T, W (OC,IC)
        dnnl_sgemm('N', 'T', (dnnl_dim_t)N, OC, IC, 1.0f, inp, IC, w, IC, beta, out, OC);
    else                       // out = inp @ W, W (IC,OC)
        dnnl_sgemm('N', 'N', (dnnl_dim_t)N, OC, IC, 1.0f, inp, IC, w, OC, beta, out, OC);
}

// dinp (N,IC) += dout @ W (as stored: W or W^T); dw += dout^T inp in W's layout;
// dbias (OC) += column sums of dout. Needs the forward's input.
void matmul_backward(float *dinp, float *dw, float *dbias, const float *dout, const float *inp,
                     const float *w, size_t N, int IC, int OC, MatLayout layout) {
    const dnnl_dim_t n = (dnnl_dim_t)N;
    if (layout == MAT_OUT_IN) {
        // dinp (N,IC) += dout (N,OC) @ W (OC,IC); dW (OC,IC) += dout^T (OC,N) @ inp (N,IC)
        dnnl_sgemm('N', 'N', n, IC, OC, 1.0f, dout, OC, w, IC, 1.0f, dinp, IC);
        dnnl_sgemm('T', 'N', OC, IC, n, 1.0f, dout, OC, inp, IC, 1.0f, dw, IC);
    } else {
        // dinp (N,IC) += dout (N,OC) @ W^T; dW (IC,OC) += inp^T (IC,N) @ dout (N,OC)
        dnnl_sgemm('N', 'T', n, IC, OC, 1.0f, dout, OC, w, OC, 1.0f, dinp, IC);
        dnnl_sgemm('T', 'N', IC, OC, n, 1.0f, inp, IC, dout, OC, 1.0f, dw, OC);
    }
    if (dbias) {
#pragma omp parallel for schedule(static) if (N * OC >= PAR_MIN)
        for (int o = 0; o < OC; o++) {
            float s = 0.0f;
            for (size_t r = 0; r < N; r++) s += dout[r * OC + o];
            dbias[o] += s;
        }
    }
}

// ----------------------------------------------------------------------------- norms

// Biased variance, as torch's LayerNorm. Caches mean and rstd.
void layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w,
                       const float *b, size_t N, int C, float eps) {
    for (size_t n = 0; n < N; n++) {
        const float *x = inp + n * C;
        float *y = out + n * C;
        float m = 0.0f, v = 0.0f;
        for (int i = 0; i < C; i++) m += x[i];
        m /= C;
        for (int i = 0; i < C; i++) v += (x[i] - m) * (x[i] - m);
        float r = 1.0f / sqrtf(v / C + eps);
        for (int i = 0; i < C; i++) y[i] = (x[i] - m) * r * w[i] + b[i];
        mean[n] = m;
        rstd[n] = r;
    }
}

// With xhat = (x - mean) rstd: dx = rstd (g - mean(g) - xhat mean(g xhat)), g = dy w.
// Uses the cached mean and rstd. db is NULL-safe for symmetry with the forward.
void layernorm_backward(float *dinp, float *dw, float *db, const float *dout, const float *inp,
                        const float *w, const float *mean, const float *rstd, size_t N, int C) {
    for (size_t n = 0; n < N; n++) {
        const float *dy = dout + n * C, *x = inp + n * C;
        float *dx = dinp + n * C, m = mean[n], r = rstd[n], gm = 0.0f, gxm = 0.0f;
        for (int i = 0; i < C; i++) {
            float g = dy[i] * w[i], xh = (x[i] - m) * r;
            gm += g;
            gxm += g * xh;
            dw[i] += dy[i] * xh;
            if (db) db[i] += dy[i];
        }
        gm /= C;
        gxm /= C;
        for (int i = 0; i < C; i++) dx[i] += r * (dy[i] * w[i] - gm - (x[i] - m) * r * gxm);
    }
}

// Llama's RMSNorm: no mean subtraction, no bias. Caches rstd.
void rmsnorm_forward(float *out, float *rstd, const float *inp, const float *w, size_t N, int C,
                     float eps) {
    for (size_t n = 0; n < N; n++) {
        const float *x = inp + n * C;
        float *y = out + n * C;
        float ss = 0.0f;
        for (int i = 0; i < C; i++) ss += x[i] * x[i];
        float r = 1.0f / sqrtf(ss / C + eps);
        for (int i = 0; i < C; i++) y[i] = x[i] * r * w[i];
        rstd[n] = r;
    }
}

// y = x rstd w: dx = rstd g - x rstd^3 mean(g x), g = dy w. Uses the cached rstd.
void rmsnorm_backward(float *dinp, float *dw, const float *dout, const float *inp, const float *w,
                      const float *rstd, size_t N, int C) {
    for (size_t n = 0; n < N; n++) {
        const float *dy = dout + n * C, *x = inp + n * C;
        float *dx = dinp + n * C, r = rstd[n], gx = 0.0f;
        for (int i = 0; i < C; i++) {
            gx += dy[i] * w[i] * x[i];
            dw[i] += dy[i] * x[i] * r;
        }
        gx /= C;
        for (int i = 0; i < C; i++) dx[i] += r * dy[i] * w[i] - x[i] * r * r * r * gx;
    }
}

// ----------------------------------------------------------------------------- embeddings

void embed_forward(float *out, const int32_t *ids, const int32_t *pos, const float *wte,
                   const float *wpe, size_t N, int C) {
    for (size_t n = 0; n < N; n++) {
        const float *e = wte + (size_t)ids[n] * C;  // (C)
        float *y = out + n * C;
        if (wpe) {
            const float *p = wpe + (size_t)pos[n] * C;  // (C)
            for (int i = 0; i < C; i++) y[i] = e[i] + p[i];
        } else {
            memcpy(y, e, (size_t)C * sizeof *y);
        }
    }
}

// Scatters dout (N,C) into the rows of dwte (V,C) and dwpe (P,C) (NULL without learned
// positions) that the forward read. Serial: two rows may share an id.
void embed_backward(float *dwte, float *dwpe, const float *dout, const int32_t *ids,
                    const int32_t *pos, size_t N, int C) {
    for (size_t n = 0; n < N; n++) {
        const float *dy = dout + n * C;
        float *de = dwte + (size_t)ids[n] * C;
        for (int i = 0; i < C; i++) de[i] += dy[i];
        if (dwpe) {
            float *dp = dwpe + (size_t)pos[n] * C;
            for (int i = 0; i < C; i++) dp[i] += dy[i];
        }
    }
}

void positions_forward(int32_t *pos, const int32_t *doc, int B, int T) {
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < T; t++) {
            int start = t;
            if (doc) {
                const int32_t *d = doc + (size_t)b * T;
                for (int s = 0; s < t; s++)
                    if (d[s] == d[t]) {
                        start = s;
                        break;
                    }
            } else {
                start = 0;
            }
            pos[(size_t)b * T + t] = t - start;
        }
    }
}

// ----------------------------------------------------------------------------- rope

// Rotates one head x (D) by the angles of row cs/sn (D/2): (x1, x2) -> (x1 c - x2 s,
// x2 c + x1 s) with x1 the first half, x2 the second (HF's rotate_half).
static void rope_head(float *x, const float *cs, const float *sn, int D) {
    int h = D / 2;
    for (int i = 0; i < h; i++) {
        float x1 = x[i], x2 = x[i + h];
        x[i] = x1 * cs[i] - x2 * sn[i];
        x[i + h] = x2 * cs[i] + x1 * sn[i];
    }
}

// Linear in q and k, so the backward needs only the tables and pos, not the inputs.
void rope_forward(float *qkv, const int32_t *pos, const float *cos_tab, const float *sin_tab,
                  size_t N, int H, int KVH, int D) {
    size_t QKV = (size_t)(H + 2 * KVH) * D;
    for (size_t n = 0; n < N; n++) {
        const float *cs = cos_tab + (size_t)pos[n] * (D / 2), *sn = sin_tab + (size_t)pos[n] * (D / 2);
        float *row = qkv + n * QKV;
        for (int h = 0; h < H + KVH; h++) rope_head(row + (size_t)h * D, cs, sn, D);  // q then k heads
    }
}

// The transpose of the rotation is the rotation by -angle: in place on dqkv (N,QKV), the
// q and k heads only (v is not rotated). Needs only pos and the tables.
void rope_backward(float *dqkv, const int32_t *pos, const float *cos_tab, const float *sin_tab,
                   size_t N, int H, int KVH, int D) {
    size_t QKV = (size_t)(H + 2 * KVH) * D;
    int half = D / 2;
    for (size_t n = 0; n < N; n++) {
        const float *cs = cos_tab + (size_t)pos[n] * half, *sn = sin_tab + (size_t)pos[n] * half;
        float *row = dqkv + n * QKV;
        for (int h = 0; h < H + KVH; h++) {
            float *g = row + (size_t)h * D;  // (D)
            for (int i = 0; i < half; i++) {
                float g1 = g[i], g2 = g[i + half];
                g[i] = g1 * cs[i] + g2 * sn[i];
                g[i + half] = g2 * cs[i] - g1 * sn[i];
            }
        }
    }
}

// ----------------------------------------------------------------------------- attention

// One query row: scores against allowed keys, softmax into p (T), weighted sum of values
// into y (D). Keys are allowed when s <= t and, with doc, in the same document. The dot
// products are simd reductions (a fixed summation order for a given build, any thread count).
static void attention_row(float *restrict y, float *restrict p, const float *restrict qkv,
                          const int32_t *doc, int t, int T, size_t QKV, size_t qoff, size_t koff,
                          size_t voff, int D) {
    const float *q = qkv + (size_t)t * QKV + qoff;  // (D)
    float scale = 1.0f / sqrtf((float)D), mx = -INFINITY;
    for (int s = 0; s < T; s++) {
        if (s > t || (doc && doc[s] != doc[t])) {
            p[s] = -INFINITY;
            continue;
        }
        const float *k = qkv + (size_t)s * QKV + koff;  // (D)
        float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
        for (int i = 0; i < D; i++) dot += q[i] * k[i];
        p[s] = dot * scale;
        if (p[s] > mx) mx = p[s];
    }
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int s = 0; s < T; s++) {
        p[s] = p[s] == -INFINITY ? 0.0f : vexpf(p[s] - mx);
        sum += p[s];
    }
    float inv = 1.0f / sum;
    for (int i = 0; i < D; i++) y[i] = 0.0f;
    for (int s = 0; s <= t; s++) {
        p[s] *= inv;
        if (p[s] == 0.0f) continue;
        const float *v = qkv + (size_t)s * QKV + voff;  // (D)
        const float ps = p[s];
#pragma omp simd
        for (int i = 0; i < D; i++) y[i] += ps * v[i];
    }
}

// The (b, h) pairs are independent: that is the parallel loop. Caches att (softmax).
void attention_forward(float *out, float *att, const float *qkv, const int32_t *doc, int B, int T,
                       int H, int KVH, int D) {
    size_t QKV = (size_t)(H + 2 * KVH) * D, HD = (size_t)H * D;
    int group = H / KVH;
#pragma omp parallel for collapse(2) schedule(static) if ((size_t)B * H * T * T * D >= PAR_MIN)
    for (int b = 0; b < B; b++) {
        for (int h = 0; h < H; h++) {
            const float *x = qkv + (size_t)b * T * QKV;  // (T,QKV)
            const int32_t *d = doc ? doc + (size_t)b * T : NULL;
            size_t qoff = (size_t)h * D, koff = HD + (size_t)(h / group) * D,
                   voff = HD + (size_t)KVH * D + (size_t)(h / group) * D;
            for (int t = 0; t < T; t++) {
                float *y = out + ((size_t)b * T + t) * HD + (size_t)h * D;       // (D)
                float *p = att + (((size_t)b * H + h) * T + t) * (size_t)T;     // (T)
                attention_row(y, p, x, d, t, T, QKV, qoff, koff, voff, D);
            }
        }
    }
}

// One query row's backward: dy (D) -> dq (D) and, for every allowed key s, dk_s and dv_s.
// dp (T) is scratch. Softmax backward: ds = p (dp - sum p dp), then scaled dot products.
// dqkv and qkv are different arrays (restrict), which lets the inner loops vectorize.
static void attention_row_backward(float *restrict dqkv, float *restrict dp,
                                   const float *restrict dy, const float *restrict p,
                                   const float *restrict qkv, int t, size_t QKV, size_t qoff,
                                   size_t koff, size_t voff, int D) {
    float scale = 1.0f / sqrtf((float)D), dot = 0.0f;
    const float *q = qkv + (size_t)t * QKV + qoff;  // (D)
    float *dq = dqkv + (size_t)t * QKV + qoff;      // (D)
    for (int s = 0; s <= t; s++) {
        dp[s] = 0.0f;
        if (p[s] == 0.0f) continue;
        const float *v = qkv + (size_t)s * QKV + voff;
        float *dv = dqkv + (size_t)s * QKV + voff;
        const float ps = p[s];
        float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
        for (int i = 0; i < D; i++) {
            acc += dy[i] * v[i];
            dv[i] += ps * dy[i];
        }
        dp[s] = acc;
        dot += ps * acc;
    }
    for (int s = 0; s <= t; s++) {
        if (p[s] == 0.0f) continue;
        const float ds = p[s] * (dp[s] - dot) * scale;
        const float *k = qkv + (size_t)s * QKV + koff;
        float *dk = dqkv + (size_t)s * QKV + koff;
#pragma omp simd
        for (int i = 0; i < D; i++) {
            dq[i] += ds * k[i];
            dk[i] += ds * q[i];
        }
    }
}

// dqkv (B,T,QKV) += the gradient of attention_forward given dout (B,T,H*D); needs the
// cached qkv (after RoPE) and att. Query heads of one group write the same dk/dv, so the
// parallel loop runs over (b, kv head). scratch (B,KVH,T).
void attention_backward(float *dqkv, float *scratch, const float *dout, const float *qkv,
                        const float *att, int B, int T, int H, int KVH, int D) {
    size_t QKV = (size_t)(H + 2 * KVH) * D, HD = (size_t)H * D;
    int group = H / KVH;
#pragma omp parallel for collapse(2) schedule(static) if ((size_t)B * H * T * T * D >= PAR_MIN)
    for (int b = 0; b < B; b++) {
        for (int kh = 0; kh < KVH; kh++) {
            const float *x = qkv + (size_t)b * T * QKV;  // (T,QKV)
            float *dx = dqkv + (size_t)b * T * QKV;      // (T,QKV)
            float *dp = scratch + ((size_t)b * KVH + kh) * T;  // (T)
            size_t koff = HD + (size_t)kh * D, voff = HD + (size_t)KVH * D + (size_t)kh * D;
            for (int h = kh * group; h < (kh + 1) * group; h++)
                for (int t = 0; t < T; t++) {
                    const float *dy = dout + ((size_t)b * T + t) * HD + (size_t)h * D;  // (D)
                    const float *p = att + (((size_t)b * H + h) * T + t) * (size_t)T;  // (T)
                    attention_row_backward(dx, dp, dy, p, x, t, QKV, (size_t)h * D, koff, voff, D);
                }
        }
    }
}

// ----------------------------------------------------------------------------- mlp

// GPT-2's "gelu_new": 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))).
void gelu_forward(float *out, const float *inp, size_t N, int F) {
    const float k = 0.7978845608028654f;  // sqrt(2/pi)
#pragma omp parallel for simd schedule(static) if (N * F >= PAR_MIN)
    for (size_t i = 0; i < N * F; i++) {
        float x = inp[i];
        out[i] = 0.5f * x * (1.0f + vtanhf(k * (x + 0.044715f * x * x * x)));
    }
}

// d/dx of 0.5 x (1 + tanh(u)), u = k (x + 0.044715 x^3). Recomputes from the cached input.
void gelu_backward(float *dinp, const float *inp, const float *dout, size_t N, int F) {
    const float k = 0.7978845608028654f;
#pragma omp parallel for simd schedule(static) if (N * F >= PAR_MIN)
    for (size_t i = 0; i < N * F; i++) {
        float x = inp[i], u = k * (x + 0.044715f * x * x * x), th = vtanhf(u);
        float du = k * (1.0f + 3.0f * 0.044715f * x * x);
        dinp[i] += dout[i] * (0.5f * (1.0f + th) + 0.5f * x * (1.0f - th * th) * du);
    }
}

void swiglu_forward(float *out, const float *inp, size_t N, int F) {
#pragma omp parallel for schedule(static) if (N * F >= PAR_MIN)
    for (size_t n = 0; n < N; n++) {
        const float *g = inp + n * 2 * F, *u = g + F;  // (F), (F)
        float *y = out + n * F;
#pragma omp simd
        for (int i = 0; i < F; i++) y[i] = g[i] * vsigmoidf(g[i]) * u[i];
    }
}

// y = silu(g) u: dg = dy u sig(g) (1 + g (1 - sig(g))), du = dy silu(g). dinp (N,2F)
// rows [dgate | dup]; needs the cached input (N,2F).
void swiglu_backward(float *dinp, const float *inp, const float *dout, size_t N, int F) {
#pragma omp parallel for schedule(static) if (N * F >= PAR_MIN)
    for (size_t n = 0; n < N; n++) {
        const float *g = inp + n * 2 * F, *u = g + F, *dy = dout + n * F;
        float *dg = dinp + n * 2 * F, *du = dg + F;
#pragma omp simd
        for (int i = 0; i < F; i++) {
            float sg = vsigmoidf(g[i]);
            dg[i] += dy[i] * u[i] * sg * (1.0f + g[i] * (1.0f - sg));
            du[i] += dy[i] * g[i] * sg;
        }
    }
}

void residual_forward(float *out, const float *a, const float *b, size_t N, int C) {
#pragma omp parallel for simd schedule(static) if (N * C >= PAR_MIN)
    for (size_t i = 0; i < N * C; i++) out[i] = a[i] + b[i];
}

void residual_backward(float *da, float *db, const float *dout, size_t N, int C) {
#pragma omp parallel for simd schedule(static) if (N * C >= PAR_MIN)
    for (size_t i = 0; i < N * C; i++) {
        da[i] += dout[i];
        db[i] += dout[i];
    }
}
