// sample.c: the sampler (sample.h).
#include "infer/sample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/vmath.h"

void sample_rng_seed(SampleRng *r, uint64_t seed) {
    // splitmix64: any seed, 0 included, gives a well-mixed nonzero state
    uint64_t z = seed + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    r->s = z ? z : 0x2545f4914f6cdd1dULL;
}

float sample_rng_uniform(SampleRng *r) {
    r->s ^= r->s >> 12;  // xorshift64*
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    uint64_t x = r->s * 0x2545f4914f6cdd1dULL;
    return (float)(x >> 40) * (1.0f / 16777216.0f);
}

int sample_scratch_init(SampleScratch *s, int V) {
    s->V = V;
    s->z = malloc((size_t)V * sizeof *s->z);
    s->idx = malloc((size_t)V * sizeof *s->idx);
    if (s->z && s->idx) return 0;
    sample_scratch_free(s);
    return -1;
}

void sample_scratch_free(SampleScratch *s) {
    free(s->z);
    free(s->idx);
    memset(s, 0, sizeof *s);
}

// "a ranks before b": larger value first, lower id on ties.
static inline int before(const float *z, int32_t a, int32_t b) {
    return z[a] > z[b] || (z[a] == z[b] && a < b);
}

static const float *sort_key;  // qsort has no context argument; sampling is single-threaded
static int cmp_desc(const void *pa, const void *pb) {
    int32_t a = *(const int32_t *)pa, b = *(const int32_t *)pb;
    return before(sort_key, a, b) ? -1 : before(sort_key, b, a) ? 1 : 0;
}

// Reorders idx (n) so its first k entries are the k best by z, in order. Small k (the
// common case) keeps a sorted window by insertion: O(n k) worst, about O(n) in practice.
static void top_k_select(const float *z, int32_t *idx, int n, int k) {
    if (k > 64) {
        sort_key = z;
        qsort(idx, (size_t)n, sizeof *idx, cmp_desc);
        return;
    }
    int m = 0;  // idx[0..m) sorted best-first
    for (int i = 0; i < n; i++) {
        int32_t id = idx[i];
        if (m == k && !before(z, id, idx[k - 1])) continue;
        int j = m < k ? m++ : k - 1;
        while (j > 0 && before(z, id, idx[j - 1])) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = id;
    }
}

static void apply_penalties(float *z, int V, const SampleParams *p, const int32_t *counts,
                            const uint8_t *seen) {
    if (p->repetition_penalty != 1.0f && p->repetition_penalty > 0.0f && seen)
        for (int i = 0; i < V; i++)
            if (seen[i]) z[i] = z[i] > 0.0f ? z[i] / p->repetition_penalty : z[i] * p->repetition_penalty;
    if ((p->frequency_penalty != 0.0f || p->presence_penalty != 0.0f) && counts)
        for (int i = 0; i < V; i++)
            if (counts[i] > 0) z[i] -= p->frequency_penalty * counts[i] + p->presence_penalty;
}

int32_t sample_token(const float *logits, const SampleParams *p, const int32_t *counts,
                     const uint8_t *seen, SampleRng *rng, SampleScratch *s) {
    int V = s->V;
    float *z = s->z;
    memcpy(z, logits, (size_t)V * sizeof *z);
    apply_penalties(z, V, p, counts, seen);
    if (p->temperature <= 0.0f || p->top_k == 1) {
        int32_t best = 0;
        for (int i = 1; i < V; i++)
            if (z[i] > z[best]) best = i;
        return best;
    }
    float inv_t = 1.0f / p->temperature;
    for (int i = 0; i < V; i++) z[i] *= inv_t;
    int32_t *idx = s->idx;
    int n = V;
    for (int i = 0; i < V; i++) idx[i] = i;
    int sorted = 0;
    if (p->top_k > 0 && p->top_k < V) {
        top_k_select(z, idx, V, p->top_k);
        n = p->top_k;
        sorted = 1;
    }
    // Softmax over the candidates, in place in z (only candidates are read from now on).
    float mx = -INFINITY;
    for (int i = 0; i < n; i++) mx = z[idx[i]] > mx ? z[idx[i]] : mx;
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        float e = vexpf(z[idx[i]] - mx);
        z[idx[i]] = e;
        sum += e;
    }
    if (p->top_p > 0.0f && p->top_p < 1.0f && n > 1) {
        if (!sorted) {
            // Tokens below (1 - top_p) / (n - 1) of the mass together hold less than
            // 1 - top_p, so the nucleus lies among the others: sort only those.
            float cut = (float)((1.0 - p->top_p) / (n - 1) * sum);
            int m = 0;
            for (int i = 0; i < n; i++)
                if (z[idx[i]] >= cut) idx[m++] = idx[i];
            n = m;
            sort_key = z;
            qsort(idx, (size_t)n, sizeof *idx, cmp_desc);
        }
        double acc = 0.0, target = p->top_p * sum;
        int m = 0;
        while (m < n) {
            acc += z[idx[m++]];
            if (acc >= target) break;
        }
        n = m;
    }
    if (p->min_p > 0.0f) {
        float pmax = 0.0f;
        for (int i = 0; i < n; i++) pmax = z[idx[i]] > pmax ? z[idx[i]] : pmax;
        float cut = p->min_p * pmax;
        int m = 0;
        for (int i = 0; i < n; i++)
            if (z[idx[i]] >= cut) idx[m++] = idx[i];
        n = m;
    }
    double total = 0.0;
    for (int i = 0; i < n; i++) total += z[idx[i]];
    double r = sample_rng_uniform(rng) * total, acc = 0.0;
    for (int i = 0; i < n; i++) {
        acc += z[idx[i]];
        if (r < acc) return idx[i];
    }
    return idx[n - 1];  // rounding left r at the very top
}

float sample_logsumexp(const float *logits, int V) {
    float mx = logits[0];
    for (int i = 1; i < V; i++) mx = logits[i] > mx ? logits[i] : mx;
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int i = 0; i < V; i++) s += vexpf(logits[i] - mx);
    return (float)(mx + log(s));
}

int sample_top_logprobs(const float *logits, int V, float lse, int n, int32_t *ids, float *lps) {
    if (n > V) n = V;
    if (n <= 0) return 0;
    int m = 0;  // ids[0..m) sorted best-first, as top_k_select
    for (int32_t id = 0; id < V; id++) {
        if (m == n && !before(logits, id, ids[n - 1])) continue;
        int j = m < n ? m++ : n - 1;
        while (j > 0 && before(logits, id, ids[j - 1])) {
            ids[j] = ids[j - 1];
            j--;
        }
        ids[j] = id;
    }
    for (int i = 0; i < n; i++) lps[i] = logits[ids[i]] - lse;
    return n;
}
