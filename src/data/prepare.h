// prepare.h: data sets in, training shards out — `posttrain data prepare`.
//
// Records come from one reader per input file (reader.h). A conversation is rendered
// through the chat template (ids + loss mask); a pre-tokenized record passes through; a
// text record becomes a pretraining document: BOS and EOS where the tokenizer has them,
// every token a target but the first. Documents are tokenized on `threads` threads; the
// output never depends on the thread count. Then, in this order:
//   1. max_len: a longer document is cut to max_len if that keeps at least one target,
//      otherwise dropped; documents without any target are dropped too (all counted).
//   2. exact dedup: a document whose ids and mask equal an earlier one's (any file) is
//      counted as a duplicate and left out.
//   3. split: the round(val * N) documents with the smallest seeded hash of their content
//      are the validation split — the same documents whatever the thread count or order.
//   4. mix (train split only, when weights are given): weight w_i of file i (normalised to
//      sum 1) makes file i supply k = w_i * N_train of the N_train output documents (rounded
//      by largest remainder, so the k add up to N_train; N_train = the unique train documents):
//      every document floor(k/n) times plus a seeded sample of k mod n more (without
//      repetition), so a weight above a file's natural share up-samples by repetition and
//      one below it down-samples. Documents keep their file and record order.
// Shards of at most shard_tokens tokens go to out_dir as train-NNNNN.bin / val-NNNNN.bin,
// then index.json (docs/prepare.md) — written last, so a reader never sees an index that
// names missing shards.
#ifndef PT_DATA_PREPARE_H
#define PT_DATA_PREPARE_H

#include <stdint.h>

#include "chat/template.h"
#include "data/reader.h"
#include "tok/tok.h"
#include "util/err.h"

typedef struct {
    const char *path;
    double weight;  // share of the train split's documents; < 0: no weight given
} PrepareInput;

// Why records and documents were not written, per input file.
typedef struct {
    DataFormat format;       // as detected (or forced)
    size_t records;          // records the reader returned
    size_t bad[DERR_COUNT];  // the reader's bad records by kind (skipped with skip_bad)
    size_t bad_render;       // conversations the template could not render (skip_bad)
    size_t bad_tokens;       // token records with ids outside the vocabulary or masks not 0/1
    size_t deleted, filtered;  // oasst: the reader's counts
    size_t no_targets;       // documents without any target token (dropped)
    size_t truncated, truncated_tokens;  // cut to max_len, and the tokens cut
    size_t dropped;          // over max_len with no target in the first max_len tokens
    size_t duplicates;       // equal to an earlier document (of this or an earlier file)
    size_t docs;             // unique documents kept
    size_t val_docs;         // of those, in the val split
    size_t train_docs;       // documents written to train (with the mix's repetitions)
} PrepareFileStats;

typedef struct {
    size_t docs, tokens, targets, shards;
} PrepareSplitStats;

enum { PREP_TRAIN = 0, PREP_VAL = 1 };

typedef struct {
    PrepareFileStats *files;     // (n_inputs), owned
    int n_files;
    PrepareFileStats total;      // the sum over files
    PrepareSplitStats split[2];  // PREP_TRAIN, PREP_VAL
    int vocab_size;              // after the template's special tokens
} PrepareStats;

// What the progress callback sees: after each batch of records, and after each shard.
typedef struct {
    const char *file;    // the input being read, or NULL while writing
    size_t records;      // records of it read so far
    const char *shard;   // the shard just written (while writing), else NULL
    int done;            // 1 on the last call for this file
} PrepareProgress;

typedef struct {
    ReaderOptions reader;
    double val;               // fraction of unique documents held out, in [0, 1)
    uint64_t seed;
    size_t max_len;           // 0: no limit
    int threads;              // <= 0: OpenMP's default
    uint64_t shard_tokens;    // 0: 64M tokens per shard
    const char *tokenizer_spec, *template_name;  // recorded in index.json (may be NULL)
    void (*progress)(void *ctx, const PrepareProgress *p);
    void *progress_ctx;
} PrepareOptions;

// Prepares inputs into out_dir (created if missing). Adds the template's special tokens to
// t first (chat_prepare_tokenizer); t is only read after that, from several threads. tpl
// may be NULL when no input holds conversations. st is filled on success and on failure
// (what was counted so far); free it with prepare_stats_free.
int data_prepare(const char *out_dir, const PrepareInput *in, int n_in, Tokenizer *t,
                 const ChatTemplate *tpl, const PrepareOptions *o, PrepareStats *st, Err *e);
void prepare_stats_free(PrepareStats *st);  // accepts a zeroed one

// One record as a document (the pieces data_prepare runs per record, exposed for tests):
// ids and mask are appended. Returns -1 with e set on a record that cannot become one.
// t may be NULL for pre-tokenized records (their ids are then not checked against a
// vocabulary); conversations and text need it.
int prepare_record(const Tokenizer *t, const ChatTemplate *tpl, const DataRecord *r,
                   IntVec *ids, IntVec *mask, Err *e);

#endif
