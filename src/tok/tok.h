// tok.h: one tokenizer engine for many vocabulary formats.
//
// Every format (tiktoken rank files, Hugging Face tokenizer.json, llama2.c tokenizer.bin,
// GPT-2 encoder.json + vocab.bpe) loads into the same Tokenizer: a table of token bytes,
// a BPE merge table (pair -> merged token, rank), a pre-tokenizer (regex splits), an
// optional normalizer, and a list of special tokens. Encoding is text -> pre-token
// pieces -> BPE per piece; decoding is concatenating token bytes.
//
// Special tokens (<|im_start|>, <|endoftext|>, …) are control tokens, not text: encode
// treats their spelling in the input as ordinary text unless the caller passes
// TOK_ALLOW_SPECIAL. That is the seed's point: <|im_start|> is a new token, never typed.
#ifndef PT_TOK_H
#define PT_TOK_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/err.h"

typedef struct Tokenizer Tokenizer;

enum {
    TOK_ALLOW_SPECIAL = 1 << 0,   // match special tokens' spellings in the text
    TOK_ADD_BOS = 1 << 1,         // prepend the tokenizer's BOS id
    TOK_ADD_EOS = 1 << 2,         // append the tokenizer's EOS id
    TOK_REPLACE_INVALID = 1 << 3, // replace invalid UTF-8 by U+FFFD instead of failing
};

// The built-in encodings of tiktoken, by name: gpt2, r50k_base, p50k_base, cl100k_base,
// o200k_base. Returns its regex split pattern or NULL when the name is unknown.
const char *tok_builtin_pattern(const char *name);

// Loads a tokenizer from SPEC: a .tiktoken file, a tokenizer.json, a llama2.c
// tokenizer.bin, an encoder.json (vocab.bpe beside it), a model directory holding one
// of those, or a built-in encoding name (NAME.tiktoken is looked up in vocab_dir, or
// in $POSTTRAIN_VOCAB_DIR). vocab_dir may be NULL.
int tok_load(Tokenizer **out, const char *spec, const char *vocab_dir, Err *e);
void tok_free(Tokenizer *t);

// Appends the ids of text[0..len) to out.
int tok_encode(const Tokenizer *t, const char *text, size_t len, int flags, IntVec *out, Err *e);
// Appends the exact bytes of ids to out (special tokens as their spelling).
int tok_decode(const Tokenizer *t, const int32_t *ids, size_t n, Buf *out, Err *e);

int tok_vocab_size(const Tokenizer *t);            // max id + 1
const char *tok_name(const Tokenizer *t);          // e.g. "o200k_base", "tokenizer.json"
// The bytes of one token (borrowed); NULL for an id with no token.
const uint8_t *tok_token_bytes(const Tokenizer *t, int32_t id, size_t *len);
int tok_is_special(const Tokenizer *t, int32_t id);
// The id of a special token by its spelling, or -1.
int32_t tok_special_id(const Tokenizer *t, const char *name);
int tok_bos_id(const Tokenizer *t);  // -1 if none
int tok_eos_id(const Tokenizer *t);  // -1 if none

// The known id of a control token for this tokenizer's encoding (o200k_base:
// <|im_start|> = 200264, …), or -1 when the registry has none.
int32_t tok_registry_id(const Tokenizer *t, const char *name);

// Adds a special (control) token. id < 0 takes the next free id (vocab_size). Adding a
// spelling that already exists as a special token with the same id is a no-op; with a
// different id, or an id already used by another token, it is an error.
int tok_add_special(Tokenizer *t, const char *name, int32_t id, Err *e);

// Appends the byte-level (GPT-2 alphabet) spelling of bytes p[0..n) to b, escaped as the
// body of a JSON string: a vocabulary key or one side of a merge in a tokenizer.json.
int tok_byte_level_json(Buf *b, const uint8_t *p, size_t n);

#endif
