// tiktoken.c: loads a tiktoken rank file (`*.tiktoken`).
//
// Format: one line per token, "<base64 of the token bytes> <rank>", the rank being the
// token id and the merge priority at once. The split pattern and the special tokens
// are not in the file: they come from the encoding's name (registry.c).
#include <stdlib.h>
#include <string.h>

#include "tok/registry.h"
#include "tok/tok_impl.h"
#include "util/base64.h"
#include "util/file.h"

int tok_load_tiktoken(Tokenizer **out, const char *path, const char *encoding, Err *e) {
    const char *pattern = tok_builtin_pattern(encoding);
    if (!pattern)
        return ERR(e, ERR_ARG, "%s: unknown tiktoken encoding '%s' (known: gpt2, r50k_base, "
                   "p50k_base, cl100k_base, o200k_base; name the file NAME.tiktoken)", path, encoding);
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
        if (rank < t->n_vocab && t->tok_off[rank] != UINT32_MAX) {
            ERR(e, ERR_FORMAT, "%s:%zu: rank: %ld appears twice", path, lineno, rank);
            goto fail;
        }
        if (tok_set_token(t, (int32_t)rank, bytes, (size_t)n, e)) goto fail;
        if (n == 1) t->byte_id[bytes[0]] = (int32_t)rank;
        p = nl ? nl + 1 : end;
    }
    free(data);
    data = NULL;
    for (int b = 0; b < 256; b++)
        if (t->byte_id[b] < 0) {
            ERR(e, ERR_FORMAT, "%s: no token for the single byte 0x%02x: not a byte-level BPE "
                "vocabulary", path, b);
            goto fail;
        }
    if (tok_build_lookup(t, e) || tok_merges_from_ranks(t, NULL, e) ||
        tok_add_split(t, pattern, false, e))
        goto fail;
    size_t nreg;
    const RegistryToken *reg = registry_tokens(&nreg);
    for (size_t i = 0; i < nreg; i++)
        if (reg[i].builtin && strcmp(reg[i].encoding, encoding) == 0 &&
            tok_add_special(t, reg[i].token, reg[i].id, e))
            goto fail;
    t->eos_id = tok_special_id(t, "<|endoftext|>");
    *out = t;
    return 0;
fail:
    free(data);
    tok_free(t);
    return -1;
}
