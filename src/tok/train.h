// train.h: training a byte-level BPE vocabulary from text (what `posttrain tokenizer train`
// runs), and writing it as a Hugging Face tokenizer.json.
//
// The result is a GPT-2/tiktoken-style tokenizer: a split regex cuts text into pieces,
// each piece starts as its UTF-8 bytes (ids 0..255 = byte values) and is merged by the
// learned pairs in training order. Special tokens get the ids after the merged tokens.
// See train.c for the algorithm.
#ifndef PT_TRAIN_H
#define PT_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef enum {
    BPE_STAGE_COUNT,  // splitting and counting the corpus: done/total in files (texts)
    BPE_STAGE_MERGE,  // learning merges: done/total in merges
} BpeStage;

// Called now and then from the calling thread (never from a worker), for a progress line.
typedef void (*BpeProgressFn)(void *ctx, BpeStage stage, int64_t done, int64_t total);

typedef struct {
    int32_t vocab_size;      // wanted size: 256 byte tokens + merges + specials
    const char *pattern;     // split regex, or a built-in encoding name; NULL: o200k_base
    const char *const *specials;  // control tokens (get the last ids); may be NULL
    int n_specials;
    int64_t min_frequency;   // a pair seen fewer times is never merged (≤ 1: any pair)
    int threads;             // piece counting threads; ≤ 0: OpenMP's default
    BpeProgressFn progress;  // may be NULL
    void *progress_ctx;
} BpeTrainOptions;

typedef struct {
    int32_t left, right, result;  // ids; merges[k] has rank k
} BpeMerge;

typedef struct {
    char *pattern;        // the split regex as written (not rewritten for PCRE2)
    int32_t n_tokens;     // ordinary tokens: ids 0..n_tokens-1 (0..255 are the bytes)
    uint8_t *pool;        // token bytes back to back
    size_t pool_len;
    uint32_t *tok_off, *tok_len;  // (n_tokens)
    BpeMerge *merges;     // in training order; more than n_tokens-256 when two merges
    int32_t n_merges;     // spell the same token ("a"+"bc", "ab"+"c")
    char **specials;      // special i has id n_tokens + i
    int n_specials;
    // What the corpus held, for reports.
    int64_t n_bytes, n_pieces, n_distinct;
} BpeVocab;

// Trains on whole files (UTF-8; "-" is stdin). Each file is split on its own, so a
// piece never spans two files; special-token spellings in the text are cut out first.
// Fails on an unreadable file or invalid UTF-8 (naming the file and byte offset).
// Stops early, with a smaller vocabulary, when no pair is left at min_frequency.
int bpe_train_files(const BpeTrainOptions *o, const char *const *paths, int n, BpeVocab *out,
                    Err *e);
// The same on in-memory texts (errors name them "text 1", "text 2", …).
int bpe_train_texts(const BpeTrainOptions *o, const char *const *texts, const size_t *lens,
                    int n, BpeVocab *out, Err *e);
void bpe_vocab_free(BpeVocab *v);

// Total ids: n_tokens + n_specials.
static inline int32_t bpe_vocab_size(const BpeVocab *v) { return v->n_tokens + v->n_specials; }

// Hugging Face tokenizer.json text (malloc'd, NUL-terminated).
int bpe_vocab_to_json(const BpeVocab *v, char **json, Err *e);
// Writes tokenizer.json to path atomically.
int bpe_vocab_save(const BpeVocab *v, const char *path, Err *e);

#endif
