// tok_impl.h: the Tokenizer struct, shared by the engine and the format loaders.
// Only src/tok/*.c includes this; everything else goes through tok.h.
#ifndef PT_TOK_IMPL_H
#define PT_TOK_IMPL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>

#include "tok/tok.h"
#include "util/hashmap.h"

// How a piece of text becomes the first BPE symbols.
typedef enum {
    TOK_MODE_BYTES,  // byte-level (tiktoken, GPT-2, Llama 3, Qwen): one symbol per byte
    TOK_MODE_CHARS,  // SentencePiece-style: one symbol per UTF-8 character, bytes as fallback
} TokMode;

// What a split step does with the regex matches (HF SplitDelimiterBehavior).
typedef enum {
    TOK_SPLIT_ISOLATED,     // matches and the gaps between them are all pieces
    TOK_SPLIT_REMOVED,      // matches are dropped, gaps kept
    TOK_SPLIT_MERGED_PREV,  // a match is glued to the gap before it
    TOK_SPLIT_MERGED_NEXT,  // a match is glued to the gap after it
    TOK_SPLIT_CONTIGUOUS,   // runs of adjacent matches (or gaps) become one piece
} TokSplitBehavior;

typedef struct {
    pcre2_code *re;
    bool invert;  // HF Split(invert=true): the matches are the gaps
    TokSplitBehavior behavior;
} TokSplit;

typedef struct {
    uint32_t off, len;  // spelling in the byte pool
    int32_t id;
    bool always;  // HF non-special added token: matched even without TOK_ALLOW_SPECIAL
    bool lstrip, rstrip;  // HF added-token flags: swallow whitespace on that side
} TokSpecial;

struct Tokenizer {
    char name[64];
    TokMode mode;

    // The vocabulary: token id -> bytes (the decoded form: raw bytes, spaces not ▁).
    int32_t n_vocab;      // max id + 1
    uint32_t *tok_off;    // (n_vocab) offset into pool, UINT32_MAX = no token with this id
    uint32_t *tok_len;    // (n_vocab)
    uint8_t *is_special;  // (n_vocab)
    uint8_t *pool;        // all token bytes back to back
    size_t pool_len, pool_cap;

    // Encoding tables. `lookup` maps the spelling of a symbol as it appears after
    // normalization to its id: the token bytes, or in CHARS mode the SentencePiece
    // spelling (with ▁ for space) kept in sym_pool.
    BytesMap lookup;
    uint8_t *sym_pool;    // NULL: symbols are spelled as the token bytes
    uint32_t *sym_off, *sym_len;  // (n_vocab) when sym_pool is set
    size_t sym_pool_len, sym_pool_cap;
    PairMap merges;        // (left id, right id) -> merged id, rank (lower merges first)
    int32_t byte_id[256];  // BYTES: symbol for each byte; CHARS: byte-fallback id or -1
    int32_t unk_id;        // CHARS mode: id for a character with no symbol and no fallback
    bool whole_piece_first;  // a piece that is itself a token is emitted as is
                             // (tiktoken; HF ignore_merges)

    // Pre-tokenizer: each split runs on the pieces of the previous one (HF Sequence;
    // Digits is a split on \p{N} too).
    TokSplit splits[8];  // (some tokenizer.json files chain five or more Split steps)
    int n_splits;

    // Normalizer.
    bool nfc;                 // Unicode NFC (Qwen)
    bool sp_prepend;          // prepend ▁ to the text (SentencePiece add_dummy_prefix)
    bool sp_prepend_first;    // ... only to the segment at the start of the text (HF Metaspace
                              // prepend_scheme "first": not after a special token)
    bool sp_prepend_if_missing;  // ... only when it does not start with ▁ already (Metaspace)
    bool sp_replace_space;    // every ' ' becomes ▁ (U+2581)
    bool byte_level_prefix_space;  // HF ByteLevel(add_prefix_space): prepend ' '
    bool decode_strip_space;  // drop one leading ' ' of the decoded text (undoes sp_prepend)

    // Special tokens, matched longest-first at each position.
    TokSpecial *specials;
    int n_specials, cap_specials;
    uint8_t special_first[256];  // 1 if some special spelling starts with this byte

    int32_t bos_id, eos_id;
};

// Building a tokenizer (used by the loaders).
Tokenizer *tok_new(const char *name, TokMode mode);
// Sets the bytes of token id, growing the table. Returns the pool offset or -1.
int tok_set_token(Tokenizer *t, int32_t id, const void *bytes, size_t len, Err *e);
// Adds a special token spelled name with id (see tok_add_special) and flags.
int tok_add_special_ex(Tokenizer *t, const char *name, size_t len, int32_t id, bool always,
                       bool lstrip, bool rstrip, Err *e);
// Compiles pattern with PCRE2 (UTF + UCP, JIT when available), \s and \S rewritten to mean
// Unicode White_Space as in Rust's regex and Oniguruma. NULL (e filled) if it does not
// compile. Shared by tok_add_split and the BPE trainer (train.c), so both split alike.
pcre2_code *tok_compile_regex(const char *pattern, Err *e);
// Compiles pattern (tok_compile_regex) and appends it as a split step.
int tok_add_split(Tokenizer *t, const char *pattern, bool invert, Err *e);
// Gives token id a lookup spelling other than its bytes (CHARS mode: "▁the" for " the").
int tok_set_symbol(Tokenizer *t, int32_t id, const void *bytes, size_t len, Err *e);
// (Re)builds `lookup` from the token table; call after all tokens are set. Specials are
// not in it: they are matched by the special-token scan only.
int tok_build_lookup(Tokenizer *t, Err *e);
// GPT-2's byte-level alphabet (bytelevel.c): the code point that spells byte b, and the
// reverse: decodes a vocabulary key whose characters each stand for one byte into out
// (room for len bytes), returning the byte count, or -1 when a character is not in the
// alphabet.
uint32_t tok_byte_level_char(uint8_t b);
int tok_byte_level_decode(const char *key, size_t len, uint8_t *out);
// Derives merges from token ranks, the way tiktoken defines BPE: a pair (a, b) merges
// into the token spelled a+b, with that token's rank (= id) as priority.
int tok_merges_from_ranks(Tokenizer *t, const int32_t *rank_of_id, Err *e);

// Encodes one pre-tokenized piece (already normalized) and appends its ids.
// Returns 0, -1 (out of memory) or -2 (a symbol has no token and there is no <unk>).
int bpe_encode_piece(const Tokenizer *t, const uint8_t *s, size_t n, IntVec *out);

#endif
