// tokens.h: tokenized documents — the trainer's input — in memory or in binary shards.
//
// A TokenSet is a list of documents, each a run of token ids with a per-token loss weight
// (mask convention of the project: mask[t] = 1 means token t is a target). Shards on disk
// are memory-mapped; a TokenSet built in memory (from a pre-tokenized JSONL file, say) looks
// the same to the loader.
//
// Shard file (little-endian):
//   header  64 bytes: magic "PTSHARD1", u32 version (1), u32 header bytes (64),
//           u64 n_tokens, u64 n_docs, u32 vocab_size, 24 bytes reserved (zero)
//   ids     int32  [n_tokens]
//   mask    uint8  [n_tokens]   (padded with zeros to a multiple of 8 bytes of the file,
//                                so the offsets are 8-byte aligned in the mapping)
//   offsets uint64 [n_docs + 1] (document d is tokens offsets[d] .. offsets[d+1])
// A prepared directory holds train-NNNNN.bin, val-NNNNN.bin and index.json (splits, shard
// names, token/document counts, tokenizer spec, template, vocab size, seed).
#ifndef PT_DATA_TOKENS_H
#define PT_DATA_TOKENS_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef struct {
    const int32_t *ids;
    const uint8_t *mask;
    size_t len;
} TokenDoc;

typedef struct TokenSet TokenSet;

TokenSet *tokenset_new(void);  // an empty in-memory set; NULL on OOM
// Appends a copy of one document (in-memory sets only).
int tokenset_add(TokenSet *s, const int32_t *ids, const uint8_t *mask, size_t len, Err *e);
// Opens dir/index.json's shards of one split ("train" or "val") memory-mapped, or one shard
// file. Errors name the file (bad magic, truncated, offsets out of range).
int tokenset_open(TokenSet **s, const char *path, const char *split, Err *e);
size_t tokenset_count(const TokenSet *s);         // documents
size_t tokenset_tokens(const TokenSet *s);        // tokens over all documents
TokenDoc tokenset_doc(const TokenSet *s, size_t i);
int tokenset_vocab(const TokenSet *s);            // max id + 1 seen, or the shards' vocab_size
void tokenset_free(TokenSet *s);                  // accepts NULL

// Writes the documents [first, first + n) of s as one shard file, atomically.
int shard_write(const char *path, const TokenSet *s, size_t first, size_t n, int vocab_size,
                Err *e);
// The same for any list of documents (they may come from several sets). vocab_size <= 0:
// max id + 1. Every id must be below vocab_size and every mask 0 or 1.
int shard_write_docs(const char *path, const TokenDoc *docs, size_t n, int vocab_size, Err *e);

#endif
