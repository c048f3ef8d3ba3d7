// hashmap.h: two open-addressing hash maps sized once at build time.
//
// BytesMap: byte string -> int32 (the vocabulary: token bytes -> id). Keys are borrowed:
//   they must outlive the map (they point into the tokenizer's byte pool).
// PairMap: (int32 a, int32 b) -> (int32 merged id, int32 rank) (the BPE merge table).
#ifndef PT_HASHMAP_H
#define PT_HASHMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t head;       // the key's first 8 bytes (zero-padded): most keys are compared
                         // here, without touching the key's own memory
    const uint8_t *key;  // borrowed
    uint32_t len;
    int32_t val;
} BytesSlot;

typedef struct {
    BytesSlot *slots;
    size_t cap, n;  // cap is a power of two, n ≤ cap/2
} BytesMap;

typedef struct {
    uint64_t key;  // (a << 32) | b, with UINT64_MAX marking an empty slot
    int32_t merged, rank;
} PairSlot;

typedef struct {
    PairSlot *slots;
    size_t cap, n;
} PairMap;

uint64_t hash_bytes(const void *p, size_t n);

int bytesmap_init(BytesMap *m, size_t expected);
// Inserts or overwrites; returns -1 on OOM.
int bytesmap_put(BytesMap *m, const uint8_t *key, size_t len, int32_t val);
// Returns the value or -1 when absent.
int32_t bytesmap_get(const BytesMap *m, const uint8_t *key, size_t len);
void bytesmap_free(BytesMap *m);

int pairmap_init(PairMap *m, size_t expected);
// Keeps the entry with the lower rank when the pair is already present.
int pairmap_put(PairMap *m, int32_t a, int32_t b, int32_t merged, int32_t rank);
// Returns the slot or NULL when absent.
const PairSlot *pairmap_get(const PairMap *m, int32_t a, int32_t b);
void pairmap_free(PairMap *m);

#endif
