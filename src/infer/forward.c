// forward.c: the cached forward (forward.h). Same layers and weights as model_forward
// (model.c), with the attention split in two: rows write their keys/values into their
// slot's cache, then each row attends over its slot's cache.
#include "infer/forward.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "model/layers.h"
#include "model/vmath.h"

// The cache of (slot s, layer l, kv head h): (X, D) rows of keys or values.
static inline size_t cache_off(const KvModel *km, int s, int l, int h) {
    const ModelConfig *c = &km->m->cfg;
    return ((((size_t)s * c->n_layer + l) * c->n_kv_head + h) * km->ctx) * c->head_dim;
}

int kv_model_init(KvModel *km, const Model *m, int n_slots, int ctx, int cap_rows, int cap_out,
                  Err *e) {
    memset(km, 0, sizeof *km);
    const ModelConfig *c = &m->cfg;
    if (n_slots < 1 || cap_rows < 1 || cap_out < 1)
        return ERR(e, ERR_ARG, "engine: slots, rows and outputs must be positive");
    if (ctx < 2 || ctx > c->max_position)
        return ERR(e, ERR_ARG, "engine: context %d outside [2, %d] (the model's max_position)", ctx,
                   c->max_position);
    km->m = m;
    km->n_slots = n_slots;
    km->ctx = ctx;
    km->cap_rows = cap_rows;
    km->cap_out = cap_out;
    km->n_threads = omp_get_max_threads();
    size_t R = cap_rows, C = c->hidden_size, F = c->intermediate_size,
           QKV = (size_t)(c->n_head + 2 * c->n_kv_head) * c->head_dim,
           HD = (size_t)c->n_head * c->head_dim, FH = c->mlp == MODEL_MLP_SWIGLU ? 2 * F : F,
           cache = (size_t)n_slots * c->n_layer * c->n_kv_head * ctx * c->head_dim;
    km->k_cache = calloc(cache, sizeof(float));
    km->v_cache = calloc(cache, sizeof(float));
    km->x = malloc(R * C * sizeof(float));
    km->ln = malloc(R * C * sizeof(float));
    km->mean = malloc(R * sizeof(float));
    km->rstd = malloc(R * sizeof(float));
    km->qkv = malloc(R * QKV * sizeof(float));
    km->atty = malloc(R * HD * sizeof(float));
    km->proj = malloc(R * C * sizeof(float));
    km->fch = malloc(R * FH * sizeof(float));
    km->fch_act = malloc(R * F * sizeof(float));
    km->lnf = malloc((size_t)cap_out * C * sizeof(float));
    km->logits = malloc((size_t)cap_out * c->vocab_size * sizeof(float));
    km->att = malloc((size_t)km->n_threads * ctx * sizeof(float));
    if (!km->k_cache || !km->v_cache || !km->x || !km->ln || !km->mean || !km->rstd || !km->qkv ||
        !km->atty || !km->proj || !km->fch || !km->fch_act || !km->lnf || !km->logits || !km->att) {
        kv_model_free(km);
        return ERR(e, ERR_NOMEM, "out of memory for the KV cache (%d slots x %d positions: %zu MB)",
                   n_slots, ctx, 2 * cache * sizeof(float) >> 20);
    }
    return 0;
}

void kv_model_free(KvModel *km) {
    free(km->k_cache);
    free(km->v_cache);
    free(km->x);
    free(km->ln);
    free(km->mean);
    free(km->rstd);
    free(km->qkv);
    free(km->atty);
    free(km->proj);
    free(km->fch);
    free(km->fch_act);
    free(km->lnf);
    free(km->logits);
    free(km->att);
    memset(km, 0, sizeof *km);
}

static void norm_rows(const KvModel *km, float *out, const float *inp, const float *w,
                      const float *b, size_t N) {
    const ModelConfig *c = &km->m->cfg;
    if (c->norm == MODEL_NORM_LAYERNORM)
        layernorm_forward(out, km->mean, km->rstd, inp, w, b, N, c->hidden_size, (float)c->norm_eps);
    else
        rmsnorm_forward(out, km->rstd, inp, w, N, c->hidden_size, (float)c->norm_eps);
}

// Copies each row's k and v (after RoPE) from qkv into its slot's cache of layer l.
static void cache_write(KvModel *km, int l, const int32_t *slot, const int32_t *pos, int N) {
    const ModelConfig *c = &km->m->cfg;
    int H = c->n_head, KVH = c->n_kv_head, D = c->head_dim;
    size_t QKV = (size_t)(H + 2 * KVH) * D, HD = (size_t)H * D;
    for (int n = 0; n < N; n++)
        for (int h = 0; h < KVH; h++) {
            size_t o = cache_off(km, slot[n], l, h) + (size_t)pos[n] * D;
            const float *row = km->qkv + n * QKV;
            memcpy(km->k_cache + o, row + HD + (size_t)h * D, D * sizeof(float));
            memcpy(km->v_cache + o, row + HD + (size_t)KVH * D + (size_t)h * D, D * sizeof(float));
        }
}

// y (D) = softmax(q . K[0..t] / sqrt(D)) V[0..t] for one row and head; K, V (X, D); p (t+1)
// scratch. The same arithmetic as layers.c's attention_row, so results agree closely.
static void attend(float *restrict y, float *restrict p, const float *restrict q,
                   const float *restrict K, const float *restrict V, int t, int D) {
    float scale = 1.0f / sqrtf((float)D), mx = -INFINITY;
    for (int s = 0; s <= t; s++) {
        const float *k = K + (size_t)s * D;
        float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
        for (int i = 0; i < D; i++) dot += q[i] * k[i];
        p[s] = dot * scale;
        if (p[s] > mx) mx = p[s];
    }
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (int s = 0; s <= t; s++) {
        p[s] = vexpf(p[s] - mx);
        sum += p[s];
    }
    float inv = 1.0f / sum;
    for (int i = 0; i < D; i++) y[i] = 0.0f;
    for (int s = 0; s <= t; s++) {
        const float ps = p[s] * inv;
        const float *v = V + (size_t)s * D;
#pragma omp simd
        for (int i = 0; i < D; i++) y[i] += ps * v[i];
    }
}

// out (M,OC) = inp (M,IC) @ W + bias for the few rows of a decode step. oneDNN's sgemm
// packs W for each call when M is small, which costs more than the product; a decode step
// is bound by reading the weights once, so this reads each weight once for all M rows.
// W (OC,IC): each output is M dot products over one row of W; W (IC,OC) (GPT-2's Conv1D):
// rows of W are added into the outputs, a block of columns per thread.
#define SMALL_M 16
static void matmul_small(float *out, const float *inp, const float *w, const float *bias, int M,
                         int IC, int OC, MatLayout lay, int threads) {
    if (lay == MAT_OUT_IN) {
#pragma omp parallel for schedule(static) num_threads(threads)
        for (int o = 0; o < OC; o++) {
            const float *restrict wr = w + (size_t)o * IC;
            float b = bias ? bias[o] : 0.0f;
            int r = 0;
            for (; r + 4 <= M; r += 4) {  // 4 rows: independent sums for one loaded weight
                const float *restrict x0 = inp + (size_t)r * IC, *restrict x1 = x0 + IC,
                                      *restrict x2 = x1 + IC, *restrict x3 = x2 + IC;
                float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
#pragma omp simd reduction(+ : a0, a1, a2, a3)
                for (int i = 0; i < IC; i++) {
                    a0 += wr[i] * x0[i];
                    a1 += wr[i] * x1[i];
                    a2 += wr[i] * x2[i];
                    a3 += wr[i] * x3[i];
                }
                out[(size_t)r * OC + o] = a0 + b;
                out[(size_t)(r + 1) * OC + o] = a1 + b;
                out[(size_t)(r + 2) * OC + o] = a2 + b;
                out[(size_t)(r + 3) * OC + o] = a3 + b;
            }
            for (; r < M; r++) {
                const float *restrict x = inp + (size_t)r * IC;
                float a = 0.0f;
#pragma omp simd reduction(+ : a)
                for (int i = 0; i < IC; i++) a += wr[i] * x[i];
                out[(size_t)r * OC + o] = a + b;
            }
        }
        return;
    }
    enum { BLK = 256 };
    int nblk = (OC + BLK - 1) / BLK;
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int k = 0; k < nblk; k++) {
        int o0 = k * BLK, n = OC - o0 < BLK ? OC - o0 : BLK;
        for (int r = 0; r < M; r++) {
            float *restrict y = out + (size_t)r * OC + o0;
            for (int j = 0; j < n; j++) y[j] = bias ? bias[o0 + j] : 0.0f;
        }
        for (int i = 0; i < IC; i++) {
            const float *restrict wr = w + (size_t)i * OC + o0;
            for (int r = 0; r < M; r++) {
                float *restrict y = out + (size_t)r * OC + o0;
                const float xi = inp[(size_t)r * IC + i];
#pragma omp simd
                for (int j = 0; j < n; j++) y[j] += xi * wr[j];
            }
        }
    }
}

static void matmul(float *out, const float *inp, const float *w, const float *bias, int M, int IC,
                   int OC, MatLayout lay, int threads) {
    if (M <= SMALL_M) matmul_small(out, inp, w, bias, M, IC, OC, lay, threads);
    else matmul_forward(out, inp, w, bias, (size_t)M, IC, OC, lay);
}

// Each (row, head) pair is independent: that is the parallel loop.
static void attention_rows(KvModel *km, int l, const int32_t *slot, const int32_t *pos, int N,
                           int threads) {
    const ModelConfig *c = &km->m->cfg;
    int H = c->n_head, KVH = c->n_kv_head, D = c->head_dim, group = H / KVH;
    size_t QKV = (size_t)(H + 2 * KVH) * D, HD = (size_t)H * D;
#pragma omp parallel for collapse(2) schedule(dynamic, 1) num_threads(threads)
    for (int n = 0; n < N; n++)
        for (int h = 0; h < H; h++) {
            size_t o = cache_off(km, slot[n], l, h / group);
            float *p = km->att + (size_t)omp_get_thread_num() * km->ctx;  // (X)
            attend(km->atty + n * HD + (size_t)h * D, p, km->qkv + n * QKV + (size_t)h * D,
                   km->k_cache + o, km->v_cache + o, pos[n], D);
        }
}

// Threads worth waking for a forward of N rows: a decode step of a small model is a few
// hundred microseconds, and every parallel region (a dozen per layer) costs a barrier —
// much more when the machine is busy and a worker has been descheduled. So about 4M
// multiply-adds (weights x rows, plus attention) per thread, at least one.
static int threads_for(const KvModel *km, const int32_t *pos, int N) {
    const ModelConfig *c = &km->m->cfg;
    double work = (double)km->m->n_params * N;
    for (int n = 0; n < N; n++) work += 2.0 * (pos[n] + 1) * c->n_head * c->head_dim * c->n_layer;
    int t = (int)(work / 4e6);
    return t < 1 ? 1 : t > km->n_threads ? km->n_threads : t;
}

int kv_forward(KvModel *km, const int32_t *ids, const int32_t *slot, const int32_t *pos, int N,
               const int32_t *out_rows, int n_out, Err *e) {
    const Model *m = km->m;
    const ModelConfig *c = &m->cfg;
    if (N < 1 || N > km->cap_rows || n_out < 0 || n_out > km->cap_out)
        return ERR(e, ERR_ARG, "engine: forward of %d rows (%d outputs): capacity %d (%d)", N, n_out,
                   km->cap_rows, km->cap_out);
    for (int n = 0; n < N; n++) {
        if (ids[n] < 0 || ids[n] >= c->vocab_size)
            return ERR(e, ERR_ARG, "token id %d: outside the vocabulary [0, %d)", ids[n], c->vocab_size);
        if (pos[n] < 0 || pos[n] >= km->ctx || slot[n] < 0 || slot[n] >= km->n_slots)
            return ERR(e, ERR_ARG, "engine: row %d at slot %d position %d: outside %d slots x %d",
                       n, slot[n], pos[n], km->n_slots, km->ctx);
    }
    for (int k = 0; k < n_out; k++)
        if (out_rows[k] < 0 || out_rows[k] >= N)
            return ERR(e, ERR_ARG, "engine: output row %d outside the %d rows", out_rows[k], N);
    int C = c->hidden_size, F = c->intermediate_size, H = c->n_head, KVH = c->n_kv_head,
        D = c->head_dim, QKV = (H + 2 * KVH) * D, swiglu = c->mlp == MODEL_MLP_SWIGLU;
    MatLayout lay = c->arch == MODEL_ARCH_GPT2 ? MAT_IN_OUT : MAT_OUT_IN;
    size_t R = N;
    // The layers and oneDNN take their thread count from the calling thread's OpenMP
    // setting: lowered for this forward, restored after.
    int threads = threads_for(km, pos, N), prev = omp_get_max_threads();
    if (threads != prev) omp_set_num_threads(threads);

    embed_forward(km->x, ids, pos, m->w.wte, m->w.wpe, R, C);
    for (int l = 0; l < c->n_layer; l++) {
        const LayerWeights *w = &m->w.layers[l];
        norm_rows(km, km->ln, km->x, w->ln1_w, w->ln1_b, R);
        matmul(km->qkv, km->ln, w->qkv_w, w->qkv_b, N, C, QKV, lay, threads);
        if (c->pos == MODEL_POS_ROPE)
            rope_forward(km->qkv, pos, m->rope_cos, m->rope_sin, R, H, KVH, D);
        cache_write(km, l, slot, pos, N);
        attention_rows(km, l, slot, pos, N, threads);
        matmul(km->proj, km->atty, w->o_w, w->o_b, N, H * D, C, lay, threads);
        residual_forward(km->x, km->x, km->proj, R, C);

        norm_rows(km, km->ln, km->x, w->ln2_w, w->ln2_b, R);
        matmul(km->fch, km->ln, w->fc_w, w->fc_b, N, C, swiglu ? 2 * F : F, lay, threads);
        if (swiglu) swiglu_forward(km->fch_act, km->fch, R, F);
        else gelu_forward(km->fch_act, km->fch, R, F);
        matmul(km->proj, km->fch_act, w->proj_w, w->proj_b, N, F, C, lay, threads);
        residual_forward(km->x, km->x, km->proj, R, C);
    }
    if (n_out > 0) {
        // The final norm is per row, so only the rows asked for go through it and the head.
        for (int k = 0; k < n_out; k++)
            memcpy(km->ln + (size_t)k * C, km->x + (size_t)out_rows[k] * C, C * sizeof(float));
        norm_rows(km, km->lnf, km->ln, m->w.lnf_w, m->w.lnf_b, n_out);
        matmul(km->logits, km->lnf, m->w.head, NULL, n_out, C, c->vocab_size, MAT_OUT_IN, threads);
    }
    if (threads != prev) omp_set_num_threads(prev);
    return 0;
}
