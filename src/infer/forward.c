// forward.c: the cached forward (forward.h). Same layers and weights as model_forward
// (model.c), with the attention split in two: rows write their keys/values into their
// slot's cache, then each row attends over its slot's cache.
#include "infer/forward.h"

#include <math.h>
#include <omp.h>
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "model/layers.h"
#include "model/vmath.h"

// The cache of (slot s, layer l, kv head h): (X, D) rows of keys or values.
static inline size_t cache_off(const KvModel *km, int s, int l, int h) {
    const ModelConfig *c = &km->m->cfg;
    return ((((size_t)s * c->n_layer + l) * c->n_kv_head + h) * km->ctx) * c->head_dim;
}

// A decode step streams every weight once (stories15M: 61 MB a token, more than the L3),
// so it runs at the memory's pace. With 4 KB pages that is a TLB miss and a page walk
// every 4 KB, and the hardware prefetcher stops at each page's end: backed by 2 MB pages
// the weights stream about 15% faster. The weights are one malloc'ed block filled by the
// loader; MADV_COLLAPSE (Linux 6.1+) moves its whole 2 MB stretches into huge pages now
// (tens of ms for 61 MB, once; a block under 2 MB has none). An older kernel, or no huge
// page free, leaves the pages as they are.
static void weights_to_hugepages(const Model *m) {
#ifdef __linux__
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25  // <linux/mman.h>; glibc's <sys/mman.h> lacks it
#endif
    const uintptr_t HP = (uintptr_t)2 << 20;
    uintptr_t a = ((uintptr_t)m->params + HP - 1) & ~(HP - 1),
              b = ((uintptr_t)(m->params + m->n_params)) & ~(HP - 1);
    if (m->params && b > a) (void)madvise((void *)a, b - a, MADV_COLLAPSE);
#endif
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
    weights_to_hugepages(m);
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
static void attend_scalar(float *restrict y, float *restrict p, const float *restrict q,
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

#if defined(__AVX2__) && defined(__FMA__)
static inline float hsum8(__m256 v) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_add_ss(h, _mm_movehdup_ps(h)));
}

// {sum of a[0], ..., sum of a[7]}: three rounds of hadd and a swap of halves, instead of
// eight separate horizontal sums.
static inline __m256 hsum8x8(const __m256 a[8]) {
    __m256 s03 = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3])),
           s47 = _mm256_hadd_ps(_mm256_hadd_ps(a[4], a[5]), _mm256_hadd_ps(a[6], a[7]));
    return _mm256_add_ps(_mm256_permute2f128_ps(s03, s47, 0x20),
                         _mm256_permute2f128_ps(s03, s47, 0x31));
}

// attend_scalar for D a multiple of 8, where a head is whole vectors. Scores: 8 positions
// at once, their dot products reduced together. Output: each 8 lanes of y summed over the
// positions in 4 independent accumulators (a sum through y in memory makes every position
// wait on the last one's store), scaled by 1/sum once at the end.
static void attend(float *restrict y, float *restrict p, const float *restrict q,
                   const float *restrict K, const float *restrict V, int t, int D) {
    if (D % 8) {
        attend_scalar(y, p, q, K, V, t, D);
        return;
    }
    const float scale = 1.0f / sqrtf((float)D);
    int s = 0;
    for (; s + 8 <= t + 1; s += 8) {
        __m256 acc[8];
        for (int j = 0; j < 8; j++) acc[j] = _mm256_setzero_ps();
        for (int i = 0; i < D; i += 8) {
            __m256 qv = _mm256_loadu_ps(q + i);
#pragma GCC unroll 8
            for (int j = 0; j < 8; j++) {
                const float *k = K + (size_t)(s + j) * D + i;
                acc[j] = _mm256_fmadd_ps(qv, _mm256_loadu_ps(k), acc[j]);
            }
        }
        _mm256_storeu_ps(p + s, _mm256_mul_ps(hsum8x8(acc), _mm256_set1_ps(scale)));
    }
    for (; s <= t; s++) {
        __m256 acc = _mm256_setzero_ps();
        const float *k = K + (size_t)s * D;
        for (int i = 0; i < D; i += 8)
            acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(k + i), acc);
        p[s] = hsum8(acc) * scale;
    }
    float mx = p[0];
    for (s = 1; s <= t; s++) mx = p[s] > mx ? p[s] : mx;
    float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
    for (s = 0; s <= t; s++) {
        p[s] = vexpf(p[s] - mx);
        sum += p[s];
    }
    const __m256 inv = _mm256_set1_ps(1.0f / sum);
    for (int i = 0; i < D; i += 8) {
        __m256 y0 = _mm256_setzero_ps(), y1 = y0, y2 = y0, y3 = y0;
        for (s = 0; s + 4 <= t + 1; s += 4) {
            const float *v = V + (size_t)s * D + i;
            y0 = _mm256_fmadd_ps(_mm256_set1_ps(p[s]), _mm256_loadu_ps(v), y0);
            y1 = _mm256_fmadd_ps(_mm256_set1_ps(p[s + 1]), _mm256_loadu_ps(v + D), y1);
            y2 = _mm256_fmadd_ps(_mm256_set1_ps(p[s + 2]), _mm256_loadu_ps(v + 2 * D), y2);
            y3 = _mm256_fmadd_ps(_mm256_set1_ps(p[s + 3]), _mm256_loadu_ps(v + 3 * D), y3);
        }
        for (; s <= t; s++)
            y0 = _mm256_fmadd_ps(_mm256_set1_ps(p[s]), _mm256_loadu_ps(V + (size_t)s * D + i), y0);
        __m256 sum4 = _mm256_add_ps(_mm256_add_ps(y0, y1), _mm256_add_ps(y2, y3));
        _mm256_storeu_ps(y + i, _mm256_mul_ps(sum4, inv));
    }
}
#else
static void attend(float *restrict y, float *restrict p, const float *restrict q,
                   const float *restrict K, const float *restrict V, int t, int D) {
    attend_scalar(y, p, q, K, V, t, D);
}
#endif

// w . x over n floats, for the decode kernel below. Four accumulators: each FMA waits on
// the last one into its accumulator (4 cycles), so one accumulator would run at a quarter
// of the FMA rate, and a slow loop issues its loads late, which costs even when memory
// bound. A row of W is read front to back, a sequential run that the hardware prefetcher
// follows (4 adjacent rows read vector by vector, interleaved, measured slower).
#if defined(__AVX2__) && defined(__FMA__)
static inline float dot_row(const float *restrict w, const float *restrict x, int n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 8), _mm256_loadu_ps(x + i + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 16), _mm256_loadu_ps(x + i + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i + 24), _mm256_loadu_ps(x + i + 24), a3);
    }
    for (; i + 8 <= n; i += 8)
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(w + i), _mm256_loadu_ps(x + i), a0);
    float s = hsum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    for (; i < n; i++) s += w[i] * x[i];
    return s;
}

// w . x and w . y: the same sums in the same order as two dot_row calls (a row gets the
// same bits decoded alone or in a batch), with each loaded weight used twice, which is
// what a batched step is bound by.
static inline void dot_row2(float *sx, float *sy, const float *restrict w, const float *restrict x,
                            const float *restrict y, int n) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256 w0 = _mm256_loadu_ps(w + i), w1 = _mm256_loadu_ps(w + i + 8),
               w2 = _mm256_loadu_ps(w + i + 16), w3 = _mm256_loadu_ps(w + i + 24);
        a0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + i), a0);
        b0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(y + i), b0);
        a1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x + i + 8), a1);
        b1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(y + i + 8), b1);
        a2 = _mm256_fmadd_ps(w2, _mm256_loadu_ps(x + i + 16), a2);
        b2 = _mm256_fmadd_ps(w2, _mm256_loadu_ps(y + i + 16), b2);
        a3 = _mm256_fmadd_ps(w3, _mm256_loadu_ps(x + i + 24), a3);
        b3 = _mm256_fmadd_ps(w3, _mm256_loadu_ps(y + i + 24), b3);
    }
    for (; i + 8 <= n; i += 8) {
        __m256 w0 = _mm256_loadu_ps(w + i);
        a0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x + i), a0);
        b0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(y + i), b0);
    }
    float s = hsum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3))),
          t = hsum8(_mm256_add_ps(_mm256_add_ps(b0, b1), _mm256_add_ps(b2, b3)));
    for (; i < n; i++) {
        s += w[i] * x[i];
        t += w[i] * y[i];
    }
    *sx = s;
    *sy = t;
}
#else
static inline float dot_row(const float *restrict w, const float *restrict x, int n) {
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int i = 0; i < n; i++) s += w[i] * x[i];
    return s;
}

static inline void dot_row2(float *sx, float *sy, const float *restrict w, const float *restrict x,
                            const float *restrict y, int n) {
    *sx = dot_row(w, x, n);
    *sy = dot_row(w, y, n);
}
#endif

// out (M,OC) = inp (M,IC) @ W + bias for the few rows of a decode step. oneDNN's sgemm
// packs W for each call when M is small, which costs more than the product; a decode step
// is bound by reading the weights once, so this reads each weight once for all M rows.
// W (OC,IC): each output is M dot products over one row of W (the row stays in L1 across
// the M rows), outputs [o0, o1) here; W (IC,OC) (GPT-2's Conv1D): rows of W are added into
// the outputs, blocks of BLK columns [k0, k1) here.
#define SMALL_M 16
enum { BLK = 256 };
static inline void small_out(float *out, const float *inp, const float *w, const float *bias, int M,
                             int IC, int OC, int o) {
    const float *wr = w + (size_t)o * IC;
    float b = bias ? bias[o] : 0.0f;
    int r = 0;
    for (; r + 2 <= M; r += 2) {
        float s0, s1;
        dot_row2(&s0, &s1, wr, inp + (size_t)r * IC, inp + (size_t)(r + 1) * IC, IC);
        out[(size_t)r * OC + o] = s0 + b;
        out[(size_t)(r + 1) * OC + o] = s1 + b;
    }
    if (r < M) out[(size_t)r * OC + o] = dot_row(wr, inp + (size_t)r * IC, IC) + b;
}

// One row (a single stream's decode step) is bound by memory: the outputs go in 4 quarters
// taken in turn (o0 + j, o0 + q + j, o0 + 2q + j, ...), four sequential streams through W
// that keep more reads in flight than one (stories15M: 10-30% faster; 8 streams were
// slower). More rows are bound by arithmetic, where one stream measured faster. Each
// output is the same sum either way.
static void small_out_in(float *out, const float *inp, const float *w, const float *bias, int M,
                         int IC, int OC, int o0, int o1) {
    int q = M == 1 ? (o1 - o0) / 4 : 0;
    for (int j = 0; j < q; j++)
        for (int k = 0; k < 4; k++) small_out(out, inp, w, bias, M, IC, OC, o0 + k * q + j);
    for (int o = o0 + 4 * q; o < o1; o++) small_out(out, inp, w, bias, M, IC, OC, o);
}

static void small_in_out(float *out, const float *inp, const float *w, const float *bias, int M,
                         int IC, int OC, int k0, int k1) {
    for (int k = k0; k < k1; k++) {
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

// One thread calls the loop directly: an OpenMP region costs ~0.5 us even with a team of
// one, and a decode step has a dozen of them per layer (a tiny model's step is ~100 us).
// Several split the range in equal contiguous parts, as schedule(static) would.
static void matmul_small(float *out, const float *inp, const float *w, const float *bias, int M,
                         int IC, int OC, MatLayout lay, int threads) {
    int n = lay == MAT_OUT_IN ? OC : (OC + BLK - 1) / BLK;
    if (threads <= 1) {
        if (lay == MAT_OUT_IN) small_out_in(out, inp, w, bias, M, IC, OC, 0, n);
        else small_in_out(out, inp, w, bias, M, IC, OC, 0, n);
        return;
    }
#pragma omp parallel num_threads(threads)
    {
        int t = omp_get_thread_num(), nt = omp_get_num_threads();
        int a = (int)((long)n * t / nt), b = (int)((long)n * (t + 1) / nt);
        if (lay == MAT_OUT_IN) small_out_in(out, inp, w, bias, M, IC, OC, a, b);
        else small_in_out(out, inp, w, bias, M, IC, OC, a, b);
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
    if (threads <= 1) {  // no OpenMP region (matmul_small says why)
        for (int n = 0; n < N; n++)
            for (int h = 0; h < H; h++) {
                size_t o = cache_off(km, slot[n], l, h / group);
                attend(km->atty + n * HD + (size_t)h * D, km->att, km->qkv + n * QKV + (size_t)h * D,
                       km->k_cache + o, km->v_cache + o, pos[n], D);
            }
        return;
    }
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
