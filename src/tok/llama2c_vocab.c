// llama2c_vocab.c: loads a llama2.c tokenizer file (tokenizer.bin, tok512.bin).
//
// The format is karpathy/llama2.c's (tokenizer.py writes it, run.c's build_tokenizer reads
// it), native-endian:
//   int32 max_token_length
//   then for ids 0, 1, 2, ... up to the end of the file:
//     float32 score, int32 len, len bytes of token text (SentencePiece's ▁ already ' ')
// Ids 0, 1, 2 are "<unk>", "\n<s>\n" (BOS), "\n</s>\n" (EOS); ids 3..258 are "<0x00>" ..
// "<0xFF>", the byte-fallback tokens that run.c addresses as byte + 3.
//
// Encoding follows run.c's encode(): a dummy ' ' in front of non-empty text, one symbol per
// UTF-8 character (its byte tokens when the character is no token), then, again and again,
// the adjacent pair whose concatenation is the token with the highest score merges (the
// leftmost pair on a tie). In engine terms: SentencePiece CHARS mode, symbols spelled with
// ▁ for ' ', and merge ranks that order the tokens by score. Decoding drops the dummy ' '.
//
// One difference from run.c, on purpose: a literal "▁" in the text encodes like a space
// (as SentencePiece and HF's Llama 2 tokenizer do), where run.c falls back to its 3 bytes.
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok/loaders.h"
#include "tok/tok_impl.h"
#include "util/file.h"

#define N_FIXED 259           // <unk>, <s>, </s> and the 256 byte tokens
#define MAX_TOKEN_LEN 65536   // a sanity bound on the header's max_token_length

typedef struct {
    const char *path;
    const uint8_t *data;
    size_t len, pos;
    Tokenizer *t;
    Err *e;
    float *score;  // (cap) per id
    int32_t n, cap;
} L2c;

static int read_i32(L2c *r, int32_t id, const char *field, int32_t *out) {
    *out = 0;
    if (r->len - r->pos < 4) {
        if (id < 0)
            return ERR(r->e, ERR_FORMAT, "%s: header: %s: the file is only %zu bytes", r->path,
                       field, r->len);
        return ERR(r->e, ERR_FORMAT, "%s: token %d: %s: the file ends at byte %zu (truncated)",
                   r->path, id, field, r->len);
    }
    memcpy(out, r->data + r->pos, 4);
    r->pos += 4;
    return 0;
}

// "\n<s>\n" -> "<s>": the special's spelling without the newlines llama2.c wraps it in.
static int add_special(L2c *r, int32_t id, const uint8_t *p, int32_t len) {
    while (len > 0 && *p == '\n') p++, len--;
    while (len > 0 && p[len - 1] == '\n') len--;
    if (len == 0) return ERR(r->e, ERR_FORMAT, "%s: token %d: an empty control token", r->path, id);
    if (tok_add_special_ex(r->t, (const char *)p, (size_t)len, id, false, false, false, r->e))
        return err_prefix(r->e, "%s: token %d: ", r->path, id);
    return 0;
}

// Ids 3..258 must be the byte tokens, in order: run.c's byte fallback is byte + 3.
static int add_byte_token(L2c *r, int32_t id, const uint8_t *p, int32_t len) {
    int b = id - 3;
    char want[8];
    snprintf(want, sizeof want, "<0x%02X>", b);
    if (len != 6 || memcmp(p, want, 6) != 0)
        return ERR(r->e, ERR_FORMAT,
                   "%s: token %d: text: expected the byte token %s, found \"%.*s\"", r->path, id,
                   want, len > 20 ? 20 : len, (const char *)p);
    uint8_t byte = (uint8_t)b;
    r->t->byte_id[b] = id;
    if (tok_set_symbol(r->t, id, p, 6, r->e)) return -1;
    return tok_set_token(r->t, id, &byte, 1, r->e);
}

// An ordinary token: decoded as its text, looked up with ▁ for each ' '.
static int add_text_token(L2c *r, int32_t id, const uint8_t *p, int32_t len) {
    Buf sym = {0};
    for (int32_t i = 0; i < len; i++) {
        if (p[i] == ' ') buf_append(&sym, "\xE2\x96\x81", 3);
        else buf_putc(&sym, (char)p[i]);
    }
    int rc = !sym.data ? ERR(r->e, ERR_NOMEM, "out of memory")
                       : tok_set_symbol(r->t, id, sym.data, sym.len, r->e);
    buf_free(&sym);
    return rc ? -1 : tok_set_token(r->t, id, p, (size_t)len, r->e);
}

static int read_token(L2c *r, int32_t max_len) {
    int32_t id = r->n, len;
    float score;
    if (r->len - r->pos < 4)
        return ERR(r->e, ERR_FORMAT, "%s: token %d: score: the file ends at byte %zu (truncated)",
                   r->path, id, r->len);
    memcpy(&score, r->data + r->pos, 4);
    r->pos += 4;
    if (read_i32(r, id, "len", &len)) return -1;
    if (len < 1 || len > max_len)
        return ERR(r->e, ERR_FORMAT, "%s: token %d: len: %d is outside 1..max_token_length (%d)",
                   r->path, id, len, max_len);
    if (r->len - r->pos < (size_t)len)
        return ERR(r->e, ERR_FORMAT, "%s: token %d: text: %d bytes expected, %zu left (truncated)",
                   r->path, id, len, r->len - r->pos);
    if (id == r->cap) {
        int32_t cap = r->cap ? r->cap * 2 : 1024;
        float *s = realloc(r->score, (size_t)cap * sizeof *s);
        if (!s) return ERR(r->e, ERR_NOMEM, "out of memory");
        r->score = s;
        r->cap = cap;
    }
    r->score[id] = score;
    const uint8_t *p = r->data + r->pos;
    r->pos += (size_t)len;
    r->n++;
    if (id < 3) return add_special(r, id, p, len);
    if (id < N_FIXED) return add_byte_token(r, id, p, len);
    return add_text_token(r, id, p, len);
}

typedef struct {
    float score;
    int32_t id;
} Scored;

static int by_score_desc(const void *a, const void *b) {
    const Scored *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

// Merge ranks from scores: a higher score merges first, equal scores share a rank (so the
// engine's leftmost-on-tie rule is run.c's "first pair with a strictly greater score").
// run.c starts from a best score of -1e10 and compares with >, so a token scored at or
// below it (or NaN) never merges.
static int32_t *ranks_from_scores(const float *score, int32_t n) {
    Scored *order = malloc((size_t)n * sizeof *order);
    int32_t *rank = malloc((size_t)n * sizeof *rank);
    if (!order || !rank) {
        free(order), free(rank);
        return NULL;
    }
    int32_t m = 0;
    for (int32_t i = 0; i < n; i++) {
        rank[i] = INT_MAX;
        if (!isnan(score[i]) && score[i] > -1e10f) order[m++] = (Scored){score[i], i};
    }
    qsort(order, (size_t)m, sizeof *order, by_score_desc);
    for (int32_t k = 0, r = 0; k < m; k++) {
        if (k > 0 && order[k].score != order[k - 1].score) r++;
        rank[order[k].id] = r;
    }
    free(order);
    return rank;
}

static int build(L2c *r) {
    int32_t max_len;
    if (read_i32(r, -1, "max_token_length", &max_len)) return -1;
    if (max_len < 1 || max_len > MAX_TOKEN_LEN)
        return ERR(r->e, ERR_FORMAT, "%s: header: max_token_length: %d is outside 1..%d", r->path,
                   max_len, MAX_TOKEN_LEN);
    while (r->pos < r->len)
        if (read_token(r, max_len)) return -1;
    if (r->n < N_FIXED)
        return ERR(r->e, ERR_FORMAT, "%s: only %d tokens; a llama2.c vocabulary starts with %d "
                   "(<unk>, <s>, </s> and 256 byte tokens)", r->path, r->n, N_FIXED);
    Tokenizer *t = r->t;
    t->unk_id = 0;
    t->bos_id = 1;
    t->eos_id = 2;
    t->sp_prepend = t->sp_replace_space = true;
    t->decode_strip_space = true;
    if (tok_build_lookup(t, r->e)) return -1;
    int32_t *rank = ranks_from_scores(r->score, r->n);
    if (!rank) return ERR(r->e, ERR_NOMEM, "out of memory");
    int rc = tok_merges_from_ranks(t, rank, r->e);
    free(rank);
    return rc;
}

int tok_load_llama2c(Tokenizer **out, const char *path, Err *e) {
    char *data;
    size_t len;
    if (file_read_all(path, &data, &len, e)) return -1;
    const char *slash = strrchr(path, '/');
    L2c r = {.path = path, .data = (const uint8_t *)data, .len = len, .e = e};
    r.t = tok_new(slash ? slash + 1 : path, TOK_MODE_CHARS);
    int rc = r.t ? build(&r) : ERR(e, ERR_NOMEM, "out of memory");
    free(data);
    free(r.score);
    if (rc) {
        tok_free(r.t);
        return -1;
    }
    *out = r.t;
    return 0;
}
