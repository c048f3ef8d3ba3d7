// loader.h: documents into (B,T) training rows — packed or padded, shuffled or in order,
// deterministic from a seed, and resumable from a small saved state.
//
// Each row has ids, a loss mask and document ids (the model's attention never crosses a
// document boundary and positions restart per document). Packed (default): whole documents
// are placed one after another into rows; a document that does not fit in what is left of
// a row starts the next row (the rest is padding); a document longer than T is cut to T
// (counted in LoaderStats.truncated_docs/tokens). Unpacked (--no-pack): one document per
// row, padded. Padding has id pad_id, mask 0, and a document id of its own.
// An epoch is one pass over the documents in a (seeded) shuffled order; the order of
// epoch k depends only on (seed, k).
#ifndef PT_DATA_LOADER_H
#define PT_DATA_LOADER_H

#include <stdbool.h>
#include <stdint.h>

#include "data/tokens.h"
#include "util/err.h"

typedef struct {
    int B, T;
    bool pack;     // default true
    bool shuffle;  // default true
    uint64_t seed;
    int32_t pad_id;
    bool all_targets;  // every token of a document after its first is a target (pretrain)
} LoaderConfig;

// Where the loader stands: all it needs to continue bit-identically after a restart.
typedef struct {
    uint64_t epoch;     // epochs completed
    uint64_t cursor;    // next document (index into the epoch's order)
    uint64_t rows;      // rows produced so far (all epochs)
} LoaderState;

typedef struct {
    uint64_t truncated_docs, truncated_tokens;
    uint64_t pad_tokens, tokens;  // padding and real tokens produced so far
    uint64_t docs;                // documents placed in rows so far
} LoaderStats;

typedef struct Loader Loader;

// s must outlive the loader.
int loader_open(Loader **l, const TokenSet *s, const LoaderConfig *c, Err *e);
// Fills ids, doc (int32) and mask (float, 0/1) of one (B,T) batch. Returns the number of
// rows that hold real tokens (B, or fewer at the very end of the epoch; the rest are all
// padding), and 0 when the epoch has ended (the next call starts the next epoch).
int loader_next(Loader *l, int32_t *ids, int32_t *doc, float *mask, Err *e);
// Rows one epoch gives (computed once, without producing them): for step counts and ETA.
uint64_t loader_rows_per_epoch(const Loader *l);
LoaderState loader_state(const Loader *l);
int loader_restore(Loader *l, const LoaderState *st, Err *e);
const LoaderStats *loader_stats(const Loader *l);
void loader_free(Loader *l);  // accepts NULL

#endif
