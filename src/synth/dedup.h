// dedup.h: exact and near-duplicate detection for generated conversations.
//
// Exact: a 64-bit hash of the normalized text (Unicode case folded where ASCII, runs of
// whitespace and punctuation collapsed to one space), so "Hello,  World!" = "hello world".
// Near: MinHash over word 3-shingles of the normalized text (Broder 1997): K hash
// functions, the signature keeps each one's minimum over the shingles, and the fraction
// of equal positions estimates the Jaccard similarity of the two shingle sets
// (standard error about sqrt(J(1-J)/K), 0.04 at J = 0.8 with K = 128).
// The index compares a new signature with every kept one: O(kept) per check, fine for
// the tens of thousands of conversations one run makes.
#ifndef PT_SYNTH_DEDUP_H
#define PT_SYNTH_DEDUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define DEDUP_K 128      // MinHash functions per signature
#define DEDUP_SHINGLE 3  // words per shingle

// A set of 64-bit keys (open addressing; the key 0 is stored apart).
typedef struct {
    uint64_t *slots;
    size_t cap, n;
    bool has_zero;
} U64Set;

int u64set_add(U64Set *s, uint64_t k);  // 1 when added, 0 when already present, -1 OOM
bool u64set_has(const U64Set *s, uint64_t k);
void u64set_free(U64Set *s);

// Normalized text (appended to out): lowercased ASCII, every run of characters that are
// not letters or digits (ASCII punctuation, whitespace) becomes one space, trimmed.
// Non-ASCII bytes are kept as they are.
int dedup_normalize(const char *s, size_t n, Buf *out);

uint64_t dedup_hash(const char *s, size_t n);  // of the normalized text

typedef struct {
    uint32_t min[DEDUP_K];
    bool empty;  // no words: never near anything
} MinHash;

void minhash_compute(const char *s, size_t n, MinHash *m);  // of the normalized text
double minhash_similarity(const MinHash *a, const MinHash *b);  // estimated Jaccard
// The exact Jaccard similarity of the two texts' shingle sets (for tests and reports).
double shingle_jaccard(const char *a, size_t na, const char *b, size_t nb);

typedef struct {
    U64Set exact;
    MinHash *sigs;
    size_t n, cap;
    double threshold;  // near duplicate when similarity >= threshold (> 1: off)
} DedupIndex;

typedef enum { DEDUP_NEW = 0, DEDUP_EXACT, DEDUP_NEAR } DedupVerdict;

void dedup_init(DedupIndex *d, double threshold);
// Checks full (the text hashed exactly) and near (the text compared by MinHash) against
// the index; a DEDUP_NEW text is added. *sim (may be NULL) gets the best similarity seen.
int dedup_check_add(DedupIndex *d, const char *full, size_t nfull, const char *near, size_t nnear,
                    DedupVerdict *v, double *sim);
void dedup_free(DedupIndex *d);

#endif
