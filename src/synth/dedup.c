// dedup.c: exact hashes and MinHash signatures of normalized text (dedup.h).
#include "synth/dedup.h"

#include <stdlib.h>
#include <string.h>

#include "util/hashmap.h"

// --- U64Set

static int u64set_grow(U64Set *s) {
    size_t cap = s->cap ? s->cap * 2 : 64;
    uint64_t *slots = calloc(cap, sizeof *slots);
    if (!slots) return -1;
    for (size_t i = 0; i < s->cap; i++) {
        uint64_t k = s->slots[i];
        if (!k) continue;
        size_t j = (size_t)(k * 0x9e3779b97f4a7c15ull >> 7) & (cap - 1);
        while (slots[j]) j = (j + 1) & (cap - 1);
        slots[j] = k;
    }
    free(s->slots);
    s->slots = slots;
    s->cap = cap;
    return 0;
}

int u64set_add(U64Set *s, uint64_t k) {
    if (!k) {
        if (s->has_zero) return 0;
        s->has_zero = true;
        return 1;
    }
    if ((s->n + 1) * 2 > s->cap && u64set_grow(s)) return -1;
    size_t j = (size_t)(k * 0x9e3779b97f4a7c15ull >> 7) & (s->cap - 1);
    for (; s->slots[j]; j = (j + 1) & (s->cap - 1))
        if (s->slots[j] == k) return 0;
    s->slots[j] = k;
    s->n++;
    return 1;
}

bool u64set_has(const U64Set *s, uint64_t k) {
    if (!k) return s->has_zero;
    if (!s->cap) return false;
    size_t j = (size_t)(k * 0x9e3779b97f4a7c15ull >> 7) & (s->cap - 1);
    for (; s->slots[j]; j = (j + 1) & (s->cap - 1))
        if (s->slots[j] == k) return true;
    return false;
}

void u64set_free(U64Set *s) {
    free(s->slots);
    memset(s, 0, sizeof *s);
}

// --- normalization

static bool is_word_byte(unsigned char c) {
    return c >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int dedup_normalize(const char *s, size_t n, Buf *out) {
    if (buf_reserve(out, n)) return -1;
    bool gap = false, any = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!is_word_byte(c)) {
            gap = any;
            continue;
        }
        if (gap) out->data[out->len++] = ' ';
        out->data[out->len++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
        gap = false;
        any = true;
    }
    out->data[out->len] = 0;
    return 0;
}

uint64_t dedup_hash(const char *s, size_t n) {
    Buf b = {0};
    if (dedup_normalize(s, n, &b)) return 0;
    uint64_t h = hash_bytes(b.data ? b.data : "", b.len);
    buf_free(&b);
    return h;
}

// --- shingles and MinHash

static uint64_t mix64(uint64_t x) {  // splitmix64's finalizer: a good 64-bit mixer
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

typedef void (*ShingleFn)(void *ctx, uint64_t h);

// Calls fn with the hash of each DEDUP_SHINGLE-word window of the normalized text (one
// window of all the words when there are fewer). Returns the number of windows.
static size_t shingles(const char *s, size_t n, ShingleFn fn, void *ctx) {
    Buf b = {0};
    if (dedup_normalize(s, n, &b) || !b.len) {
        buf_free(&b);
        return 0;
    }
    // Word starts; a window runs from start[i] to the end of word i + SHINGLE - 1.
    size_t nw = 1;
    for (size_t i = 0; i < b.len; i++) nw += b.data[i] == ' ';
    size_t *start = malloc((nw + 1) * sizeof *start), w = 0;
    if (!start) {
        buf_free(&b);
        return 0;
    }
    start[w++] = 0;
    for (size_t i = 0; i < b.len; i++)
        if (b.data[i] == ' ') start[w++] = i + 1;
    start[nw] = b.len + 1;  // one past the (virtual) space after the last word
    size_t count = 0;
    size_t k = nw < DEDUP_SHINGLE ? nw : DEDUP_SHINGLE;
    for (size_t i = 0; i + k <= nw; i++, count++) {
        size_t a = start[i], z = start[i + k] - 1;
        fn(ctx, hash_bytes(b.data + a, z - a));
    }
    free(start);
    buf_free(&b);
    return count;
}

static void minhash_add(void *ctx, uint64_t h) {
    MinHash *m = ctx;
    for (int i = 0; i < DEDUP_K; i++) {
        // K hash functions: h mixed with a fixed per-function salt.
        uint32_t v = (uint32_t)(mix64(h ^ mix64((uint64_t)i + 1)) >> 32);
        if (v < m->min[i]) m->min[i] = v;
    }
}

void minhash_compute(const char *s, size_t n, MinHash *m) {
    for (int i = 0; i < DEDUP_K; i++) m->min[i] = UINT32_MAX;
    m->empty = shingles(s, n, minhash_add, m) == 0;
}

double minhash_similarity(const MinHash *a, const MinHash *b) {
    if (a->empty || b->empty) return 0;
    int eq = 0;
    for (int i = 0; i < DEDUP_K; i++) eq += a->min[i] == b->min[i];
    return (double)eq / DEDUP_K;
}

static void set_add(void *ctx, uint64_t h) { u64set_add(ctx, h); }

double shingle_jaccard(const char *a, size_t na, const char *b, size_t nb) {
    U64Set sa = {0}, sb = {0};
    shingles(a, na, set_add, &sa);
    shingles(b, nb, set_add, &sb);
    size_t inter = 0, ka = sa.n + sa.has_zero, kb = sb.n + sb.has_zero;
    for (size_t i = 0; i < sa.cap; i++)
        if (sa.slots[i] && u64set_has(&sb, sa.slots[i])) inter++;
    if (sa.has_zero && sb.has_zero) inter++;
    size_t uni = ka + kb - inter;
    u64set_free(&sa);
    u64set_free(&sb);
    return uni ? (double)inter / (double)uni : 0;
}

// --- the index

void dedup_init(DedupIndex *d, double threshold) {
    memset(d, 0, sizeof *d);
    d->threshold = threshold;
}

int dedup_check_add(DedupIndex *d, const char *full, size_t nfull, const char *near, size_t nnear,
                    DedupVerdict *v, double *sim) {
    double best = 0;
    uint64_t h = dedup_hash(full, nfull);
    *v = DEDUP_NEW;
    if (u64set_has(&d->exact, h)) {
        *v = DEDUP_EXACT;
        best = 1;
    }
    MinHash m;
    if (*v == DEDUP_NEW && d->threshold <= 1) {
        minhash_compute(near, nnear, &m);
        for (size_t i = 0; i < d->n; i++) {
            double s = minhash_similarity(&m, &d->sigs[i]);
            if (s > best) best = s;
        }
        if (!m.empty && best >= d->threshold) *v = DEDUP_NEAR;
    }
    if (sim) *sim = best;
    if (*v != DEDUP_NEW) return 0;
    if (u64set_add(&d->exact, h) < 0) return -1;
    if (d->threshold <= 1 && !m.empty) {
        if (d->n == d->cap) {
            size_t cap = d->cap ? d->cap * 2 : 64;
            MinHash *p = realloc(d->sigs, cap * sizeof *p);
            if (!p) return -1;
            d->sigs = p;
            d->cap = cap;
        }
        d->sigs[d->n++] = m;
    }
    return 0;
}

void dedup_free(DedupIndex *d) {
    u64set_free(&d->exact);
    free(d->sigs);
    memset(d, 0, sizeof *d);
}
