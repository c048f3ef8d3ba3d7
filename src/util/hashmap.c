// hashmap.c: open addressing with linear probing, load ≤ 1/2 (see hashmap.h).
#include "util/hashmap.h"

#include <stdlib.h>
#include <string.h>

// 64-bit FNV-1a over 8-byte words then a final avalanche: cheap on the short keys
// (1–16 bytes) that dominate vocabularies.
uint64_t hash_bytes(const void *p, size_t n) {
    const uint8_t *s = p;
    uint64_t h = 0xcbf29ce484222325ull ^ n;
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0x100000001b3ull;
        h ^= h >> 29;
        s += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, s, n);
    h = (h ^ w) * 0x100000001b3ull;
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ull;
    h ^= h >> 32;
    return h;
}

// Callers size a map by a vocabulary's largest id, which a corrupt or sparse file can
// make huge (a 3 KB rank file with one rank near 10^7): the *_init functions take at
// most this many expected entries and let the map grow as entries arrive.
#define HINT_MAX ((size_t)1 << 20)

static size_t cap_for(size_t expected) {
    size_t cap = 16;
    while (cap < expected * 2 + 2) cap *= 2;
    return cap;
}

static int bytesmap_alloc(BytesMap *m, size_t cap) {
    m->cap = cap;
    m->n = 0;
    m->slots = calloc(m->cap, sizeof *m->slots);
    return m->slots ? 0 : -1;
}

int bytesmap_init(BytesMap *m, size_t expected) {
    return bytesmap_alloc(m, cap_for(expected < HINT_MAX ? expected : HINT_MAX));
}

// Growing doubles the capacity.
static int bytesmap_grow(BytesMap *m) {
    BytesMap bigger;
    if (bytesmap_alloc(&bigger, m->cap * 2)) return -1;
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key) bytesmap_put(&bigger, m->slots[i].key, m->slots[i].len, m->slots[i].val);
    free(m->slots);
    *m = bigger;
    return 0;
}

static inline uint64_t key_head(const uint8_t *key, size_t len) {
    uint64_t h = 0;
    memcpy(&h, key, len < 8 ? len : 8);
    return h;
}

static inline int key_equal(const BytesSlot *s, uint64_t head, const uint8_t *key, size_t len) {
    return s->len == len && s->head == head && (len <= 8 || memcmp(s->key + 8, key + 8, len - 8) == 0);
}

int bytesmap_put(BytesMap *m, const uint8_t *key, size_t len, int32_t val) {
    if ((m->n + 1) * 2 > m->cap && bytesmap_grow(m)) return -1;
    size_t mask = m->cap - 1, i = hash_bytes(key, len) & mask;
    uint64_t head = key_head(key, len);
    for (;; i = (i + 1) & mask) {
        BytesSlot *s = &m->slots[i];
        if (!s->key) {
            s->head = head;
            s->key = key;
            s->len = (uint32_t)len;
            s->val = val;
            m->n++;
            return 0;
        }
        if (key_equal(s, head, key, len)) {
            s->val = val;
            return 0;
        }
    }
}

int32_t bytesmap_get(const BytesMap *m, const uint8_t *key, size_t len) {
    if (!m->cap) return -1;
    size_t mask = m->cap - 1, i = hash_bytes(key, len) & mask;
    uint64_t head = key_head(key, len);
    for (;; i = (i + 1) & mask) {
        const BytesSlot *s = &m->slots[i];
        if (!s->key) return -1;
        if (key_equal(s, head, key, len)) return s->val;
    }
}

void bytesmap_free(BytesMap *m) {
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static inline uint64_t pair_hash(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return k;
}

static int pairmap_alloc(PairMap *m, size_t cap) {
    m->cap = cap;
    m->n = 0;
    m->slots = malloc(m->cap * sizeof *m->slots);
    if (!m->slots) return -1;
    for (size_t i = 0; i < m->cap; i++) m->slots[i].key = UINT64_MAX;
    return 0;
}

int pairmap_init(PairMap *m, size_t expected) {
    return pairmap_alloc(m, cap_for(expected < HINT_MAX ? expected : HINT_MAX));
}

static int pairmap_grow(PairMap *m) {
    PairMap bigger;
    if (pairmap_alloc(&bigger, m->cap * 2)) return -1;
    for (size_t i = 0; i < m->cap; i++) {
        PairSlot *s = &m->slots[i];
        if (s->key != UINT64_MAX)
            pairmap_put(&bigger, (int32_t)(s->key >> 32), (int32_t)(uint32_t)s->key, s->merged, s->rank);
    }
    free(m->slots);
    *m = bigger;
    return 0;
}

int pairmap_put(PairMap *m, int32_t a, int32_t b, int32_t merged, int32_t rank) {
    if ((m->n + 1) * 2 > m->cap && pairmap_grow(m)) return -1;
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    size_t mask = m->cap - 1, i = pair_hash(key) & mask;
    for (;; i = (i + 1) & mask) {
        PairSlot *s = &m->slots[i];
        if (s->key == UINT64_MAX) {
            s->key = key;
            s->merged = merged;
            s->rank = rank;
            m->n++;
            return 0;
        }
        if (s->key == key) {
            if (rank < s->rank) {
                s->merged = merged;
                s->rank = rank;
            }
            return 0;
        }
    }
}

const PairSlot *pairmap_get(const PairMap *m, int32_t a, int32_t b) {
    if (!m->cap) return NULL;
    uint64_t key = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
    size_t mask = m->cap - 1, i = pair_hash(key) & mask;
    for (;; i = (i + 1) & mask) {
        const PairSlot *s = &m->slots[i];
        if (s->key == key) return s;
        if (s->key == UINT64_MAX) return NULL;
    }
}

void pairmap_free(PairMap *m) {
    free(m->slots);
    memset(m, 0, sizeof *m);
}
