// tiktoken.c: loads a tiktoken rank file (`*.tiktoken`).
//
// Format: one line per token, "<base64 of the token bytes> <rank>", the rank being the
// token id and the merge priority at once. The split pattern and the special tokens
// are not in the file: they come from the encoding's name (registry.c). The same ranks
// in npm tiktoken's JSON form load through tok_load_tiktoken_npm.
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "tok/registry.h"
#include "tok/tok_impl.h"
#include "util/base64.h"
#include "util/file.h"

// Sets token `rank` to bytes; the first error wins. Single bytes fill byte_id.
static int add_rank(Tokenizer *t, const uint8_t *bytes, long n, long rank, Err *e) {
    if (rank < t->n_vocab && t->tok_off[rank] != UINT32_MAX)
        return ERR(e, ERR_FORMAT, "rank %ld appears twice", rank);
    if (tok_set_token(t, (int32_t)rank, bytes, (size_t)n, e)) return -1;
    if (n == 1) t->byte_id[bytes[0]] = (int32_t)rank;
    return 0;
}

// Everything after the ranks are in: checks, lookup, merges, split pattern, specials.
static int finish(Tokenizer *t, const char *path, const char *encoding, const char *pattern,
                  Err *e) {
    for (int b = 0; b < 256; b++)
        if (t->byte_id[b] < 0)
            return ERR(e, ERR_FORMAT, "%s: no token for the single byte 0x%02x: not a byte-level "
                       "BPE vocabulary", path, b);
    if (tok_build_lookup(t, e) || tok_merges_from_ranks(t, NULL, e) ||
        tok_add_split(t, pattern, false, e))
        return -1;
    size_t nreg;
    const RegistryToken *reg = registry_tokens(&nreg);
    for (size_t i = 0; i < nreg; i++)
        if (reg[i].builtin && strcmp(reg[i].encoding, encoding) == 0 &&
            tok_add_special(t, reg[i].token, reg[i].id, e))
            return -1;
    t->eos_id = tok_special_id(t, "<|endoftext|>");
    return 0;
}

static const char *pattern_for(const char *path, const char *encoding, Err *e) {
    const char *pattern = tok_builtin_pattern(encoding);
    if (!pattern)
        ERR(e, ERR_ARG, "%s: unknown tiktoken encoding '%s' (known: gpt2, r50k_base, "
            "p50k_base, cl100k_base, o200k_base; name the file NAME.tiktoken)", path, encoding);
    return pattern;
}

int tok_load_tiktoken(Tokenizer **out, const char *path, const char *encoding, Err *e) {
    const char *pattern = pattern_for(path, encoding, e);
    if (!pattern) return -1;
    char *data;
    size_t len;
    if (file_read_all(path, &data, &len, e)) return -1;
    Tokenizer *t = tok_new(encoding, TOK_MODE_BYTES);
    if (!t) {
        free(data);
        return ERR(e, ERR_NOMEM, "out of memory");
    }
    t->whole_piece_first = true;  // tiktoken emits a piece that is a token without merging
    uint8_t bytes[1024];
    size_t lineno = 0;
    for (char *p = data, *end = data + len; p < end;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *eol = nl ? nl : end;
        lineno++;
        if (eol > p && eol[-1] == '\r') eol--;
        if (eol == p) {  // blank line (a trailing one is common)
            p = nl ? nl + 1 : end;
            continue;
        }
        char *sp = memchr(p, ' ', (size_t)(eol - p));
        if (!sp) {
            ERR(e, ERR_FORMAT, "%s:%zu: expected '<base64> <rank>'", path, lineno);
            goto fail;
        }
        if ((size_t)(sp - p) > sizeof bytes * 4 / 3) {
            ERR(e, ERR_FORMAT, "%s:%zu: token longer than %zu bytes", path, lineno, sizeof bytes);
            goto fail;
        }
        long n = base64_decode(p, (size_t)(sp - p), bytes);
        char *rend;
        long rank = strtol(sp + 1, &rend, 10);
        if (n <= 0) {
            ERR(e, ERR_FORMAT, "%s:%zu: token: invalid base64", path, lineno);
            goto fail;
        }
        if (rend != eol || rank < 0 || rank > 10000000) {
            ERR(e, ERR_FORMAT, "%s:%zu: rank: expected an integer in 0..10000000", path, lineno);
            goto fail;
        }
        if (add_rank(t, bytes, n, rank, e)) {
            err_prefix(e, "%s:%zu: ", path, lineno);
            goto fail;
        }
        p = nl ? nl + 1 : end;
    }
    free(data);
    data = NULL;
    if (finish(t, path, encoding, pattern, e)) goto fail;
    *out = t;
    return 0;
fail:
    free(data);
    tok_free(t);
    return -1;
}

// npm tiktoken's encoders/NAME.json: {"pat_str", "special_tokens", "bpe_ranks"} where
// bpe_ranks is "! <first rank> <base64> <base64> …", each token one rank after the
// previous, a new "! <rank>" starting a new run. This lets a fresh clone use the ranks
// that the npm package ships, with no other download.
int tok_load_tiktoken_npm(Tokenizer **out, const char *path, const char *encoding, Err *e) {
    const char *pattern = pattern_for(path, encoding, e);
    if (!pattern) return -1;
    char *data;
    size_t len;
    if (file_read_all(path, &data, &len, e)) return -1;
    cJSON *j = cJSON_ParseWithLength(data, len);
    free(data);
    cJSON *ranks = cJSON_GetObjectItemCaseSensitive(j, "bpe_ranks");
    if (!cJSON_IsString(ranks)) {
        cJSON_Delete(j);
        return ERR(e, ERR_FORMAT, "%s: bpe_ranks: expected a string (is this npm tiktoken's "
                   "encoders/NAME.json?)", path);
    }
    Tokenizer *t = tok_new(encoding, TOK_MODE_BYTES);
    if (!t) {
        cJSON_Delete(j);
        return ERR(e, ERR_NOMEM, "out of memory");
    }
    t->whole_piece_first = true;
    uint8_t bytes[1024];
    long rank = -1;
    size_t field = 0;
    for (char *p = ranks->valuestring; *p;) {
        while (*p == ' ' || *p == '\n') p++;
        if (!*p) break;
        char *w = p;
        while (*p && *p != ' ' && *p != '\n') p++;
        size_t wl = (size_t)(p - w);
        field++;
        if (wl == 1 && *w == '!') {  // "! <rank>": the next token's rank
            char *rend;
            rank = strtol(p, &rend, 10);
            if (rend == p || rank < 0 || rank > 10000000) {
                ERR(e, ERR_FORMAT, "%s: bpe_ranks: word %zu: expected a rank after '!'", path, field);
                goto fail;
            }
            p = rend;
            continue;
        }
        long n = wl <= sizeof bytes * 4 / 3 ? base64_decode(w, wl, bytes) : -1;
        if (rank < 0 || n <= 0) {
            ERR(e, ERR_FORMAT, "%s: bpe_ranks: word %zu: invalid token", path, field);
            goto fail;
        }
        if (add_rank(t, bytes, n, rank++, e)) {
            err_prefix(e, "%s: bpe_ranks: ", path);
            goto fail;
        }
    }
    cJSON_Delete(j);
    j = NULL;
    if (finish(t, path, encoding, pattern, e)) goto fail;
    *out = t;
    return 0;
fail:
    cJSON_Delete(j);
    tok_free(t);
    return -1;
}
