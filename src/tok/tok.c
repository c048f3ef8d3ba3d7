// tok.c: building a Tokenizer (token table, specials, splits, merge table) and decoding.
// Encoding lives in encode.c (text -> pieces) and bpe.c (piece -> ids).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok/tok_impl.h"

Tokenizer *tok_new(const char *name, TokMode mode) {
    Tokenizer *t = calloc(1, sizeof *t);
    if (!t) return NULL;
    snprintf(t->name, sizeof t->name, "%s", name);
    t->mode = mode;
    t->unk_id = t->bos_id = t->eos_id = -1;
    for (int i = 0; i < 256; i++) t->byte_id[i] = -1;
    return t;
}

void tok_free(Tokenizer *t) {
    if (!t) return;
    free(t->tok_off);
    free(t->tok_len);
    free(t->is_special);
    free(t->pool);
    free(t->sym_pool);
    free(t->sym_off);
    free(t->sym_len);
    bytesmap_free(&t->lookup);
    pairmap_free(&t->merges);
    for (int i = 0; i < t->n_splits; i++) pcre2_code_free(t->splits[i].re);
    free(t->specials);
    free(t);
}

// The allocated length of the per-id arrays for n ids: the next power of two, so that
// loading a vocabulary id by id reallocates (and copies) log(n) times, not n times.
static size_t id_capacity(size_t n) {
    size_t c = 1024;
    while (c < n) c *= 2;
    return c;
}

// Grows the per-id arrays so that id is valid.
static int grow_ids(Tokenizer *t, int32_t id, Err *e) {
    if (id < 0) return ERR(e, ERR_ARG, "token id %d is negative", id);
    if (id < t->n_vocab) return 0;
    size_t n = (size_t)id + 1, cap = id_capacity(n);
    if (t->n_vocab == 0 || cap > id_capacity((size_t)t->n_vocab)) {
        uint32_t *off = realloc(t->tok_off, cap * sizeof *off);
        if (off) t->tok_off = off;
        uint32_t *len = realloc(t->tok_len, cap * sizeof *len);
        if (len) t->tok_len = len;
        uint8_t *sp = realloc(t->is_special, cap);
        if (sp) t->is_special = sp;
        if (!off || !len || !sp) return ERR(e, ERR_NOMEM, "out of memory growing vocabulary");
        if (t->sym_off) {
            uint32_t *so = realloc(t->sym_off, cap * sizeof *so);
            if (so) t->sym_off = so;
            uint32_t *sl = realloc(t->sym_len, cap * sizeof *sl);
            if (sl) t->sym_len = sl;
            if (!so || !sl) return ERR(e, ERR_NOMEM, "out of memory growing vocabulary");
        }
    }
    for (size_t i = (size_t)t->n_vocab; i < n; i++) {
        t->tok_off[i] = UINT32_MAX;
        t->tok_len[i] = 0;
        t->is_special[i] = 0;
        if (t->sym_off) t->sym_off[i] = UINT32_MAX, t->sym_len[i] = 0;
    }
    t->n_vocab = (int32_t)n;
    return 0;
}

static int pool_append(uint8_t **pool, size_t *len, size_t *cap, const void *p, size_t n,
                       bool *moved, Err *e) {
    if (*len + n > UINT32_MAX) return ERR(e, ERR_FORMAT, "vocabulary bytes exceed 4 GiB");
    if (*len + n > *cap) {
        size_t c = *cap ? *cap : 1 << 16;
        while (c < *len + n) c *= 2;
        uint8_t *q = realloc(*pool, c);
        if (!q) return ERR(e, ERR_NOMEM, "out of memory growing vocabulary");
        if (moved) *moved = q != *pool;
        *pool = q;
        *cap = c;
    }
    memcpy(*pool + *len, p, n);
    *len += n;
    return 0;
}

int tok_set_token(Tokenizer *t, int32_t id, const void *bytes, size_t len, Err *e) {
    if (grow_ids(t, id, e)) return -1;
    bool moved = false;
    size_t off = t->pool_len;
    if (pool_append(&t->pool, &t->pool_len, &t->pool_cap, bytes, len, &moved, e)) return -1;
    t->tok_off[id] = (uint32_t)off;
    t->tok_len[id] = (uint32_t)len;
    // The lookup map borrows pointers into the pool: rebuild it if the pool moved.
    if (moved && t->lookup.cap && !t->sym_pool) return tok_build_lookup(t, e);
    return 0;
}

int tok_set_symbol(Tokenizer *t, int32_t id, const void *bytes, size_t len, Err *e) {
    if (grow_ids(t, id, e)) return -1;
    if (!t->sym_off) {
        t->sym_off = malloc(id_capacity((size_t)t->n_vocab) * sizeof *t->sym_off);
        t->sym_len = calloc(id_capacity((size_t)t->n_vocab), sizeof *t->sym_len);
        if (!t->sym_off || !t->sym_len) return ERR(e, ERR_NOMEM, "out of memory");
        for (int32_t i = 0; i < t->n_vocab; i++) t->sym_off[i] = UINT32_MAX;
    }
    size_t off = t->sym_pool_len;
    bool moved = false;
    if (pool_append(&t->sym_pool, &t->sym_pool_len, &t->sym_pool_cap, bytes, len, &moved, e))
        return -1;
    t->sym_off[id] = (uint32_t)off;
    t->sym_len[id] = (uint32_t)len;
    if (moved && t->lookup.cap) return tok_build_lookup(t, e);
    return 0;
}

int tok_build_lookup(Tokenizer *t, Err *e) {
    bytesmap_free(&t->lookup);
    if (bytesmap_init(&t->lookup, (size_t)t->n_vocab)) return ERR(e, ERR_NOMEM, "out of memory");
    for (int32_t id = 0; id < t->n_vocab; id++) {
        if (t->is_special[id]) continue;
        const uint8_t *p;
        uint32_t len;
        if (t->sym_pool) {
            if (t->sym_off[id] == UINT32_MAX) continue;
            p = t->sym_pool + t->sym_off[id];
            len = t->sym_len[id];
        } else {
            if (t->tok_off[id] == UINT32_MAX) continue;
            p = t->pool + t->tok_off[id];
            len = t->tok_len[id];
        }
        if (len == 0) continue;
        // Two ids with the same bytes: the lower id wins, as in tiktoken's encoder map.
        if (bytesmap_get(&t->lookup, p, len) >= 0) continue;
        if (bytesmap_put(&t->lookup, p, len, id)) return ERR(e, ERR_NOMEM, "out of memory");
    }
    return 0;
}

// The lookup spelling of id.
static const uint8_t *symbol_of(const Tokenizer *t, int32_t id, uint32_t *len) {
    if (t->sym_pool) {
        if (t->sym_off[id] == UINT32_MAX) return NULL;
        *len = t->sym_len[id];
        return t->sym_pool + t->sym_off[id];
    }
    if (t->tok_off[id] == UINT32_MAX) return NULL;
    *len = t->tok_len[id];
    return t->pool + t->tok_off[id];
}

int tok_merges_from_ranks(Tokenizer *t, const int32_t *rank_of_id, Err *e) {
    // Every way to cut a token in two known tokens is a merge that yields it. Finding the
    // cuts is read-only lookups (the bulk of loading a 200k vocabulary): done in
    // parallel in blocks of ids, then inserted in id order so the table is the same.
    enum { BLOCK = 8192 };
    int32_t nblocks = (t->n_vocab + BLOCK - 1) / BLOCK;
    IntVec *found = calloc((size_t)nblocks, sizeof *found);  // (a, b, id) triples per block
    if (!found) return ERR(e, ERR_NOMEM, "out of memory");
    int oom = 0;
#pragma omp parallel for schedule(dynamic, 1) reduction(|| : oom)
    for (int32_t blk = 0; blk < nblocks; blk++) {
        int32_t end = (blk + 1) * BLOCK < t->n_vocab ? (blk + 1) * BLOCK : t->n_vocab;
        for (int32_t id = blk * BLOCK; id < end; id++) {
            uint32_t len;
            const uint8_t *p = symbol_of(t, id, &len);
            if (!p || len < 2 || t->is_special[id]) continue;
            for (uint32_t k = 1; k < len; k++) {
                int32_t a = bytesmap_get(&t->lookup, p, k);
                if (a < 0) continue;
                int32_t b = bytesmap_get(&t->lookup, p + k, len - k);
                if (b < 0) continue;
                int32_t triple[3] = {a, b, id};
                oom = oom || ivec_append(&found[blk], triple, 3);
            }
        }
    }
    // Sized by the real pair count: a smaller table is fewer cache misses when encoding.
    size_t total = 0;
    for (int32_t blk = 0; blk < nblocks; blk++) total += found[blk].len / 3;
    oom = oom || pairmap_init(&t->merges, total);
    for (int32_t blk = 0; blk < nblocks; blk++) {
        for (size_t i = 0; !oom && i < found[blk].len; i += 3) {
            const int32_t *x = found[blk].data + i;
            oom = pairmap_put(&t->merges, x[0], x[1], x[2], rank_of_id ? rank_of_id[x[2]] : x[2]);
        }
        ivec_free(&found[blk]);
    }
    free(found);
    return oom ? ERR(e, ERR_NOMEM, "out of memory") : 0;
}

int tok_add_special_ex(Tokenizer *t, const char *name, size_t len, int32_t id, bool always,
                       bool lstrip, bool rstrip, Err *e) {
    if (len == 0) return ERR(e, ERR_ARG, "special token with an empty spelling");
    for (int i = 0; i < t->n_specials; i++) {
        TokSpecial *s = &t->specials[i];
        if (s->len == len && memcmp(t->pool + s->off, name, len) == 0) {
            if (id < 0 || id == s->id) return 0;
            return ERR(e, ERR_ARG, "special token %.*s already has id %d, not %d", (int)len, name,
                       s->id, id);
        }
    }
    if (id < 0) id = t->n_vocab;
    if (id < t->n_vocab && t->tok_off[id] != UINT32_MAX)
        return ERR(e, ERR_ARG, "cannot add special token %.*s as id %d: the id is taken", (int)len,
                   name, id);
    if (tok_set_token(t, id, name, len, e)) return -1;
    t->is_special[id] = 1;
    if (t->n_specials == t->cap_specials) {
        int cap = t->cap_specials ? t->cap_specials * 2 : 16;
        TokSpecial *p = realloc(t->specials, (size_t)cap * sizeof *p);
        if (!p) return ERR(e, ERR_NOMEM, "out of memory");
        t->specials = p;
        t->cap_specials = cap;
    }
    // Keep specials sorted longest first, so the scan takes the longest match.
    int i = t->n_specials++;
    while (i > 0 && t->specials[i - 1].len < len) {
        t->specials[i] = t->specials[i - 1];
        i--;
    }
    t->specials[i] = (TokSpecial){.off = t->tok_off[id], .len = (uint32_t)len, .id = id,
                                  .always = always, .lstrip = lstrip, .rstrip = rstrip};
    t->special_first[(uint8_t)name[0]] = 1;
    return 0;
}

int tok_add_special(Tokenizer *t, const char *name, int32_t id, Err *e) {
    return tok_add_special_ex(t, name, strlen(name), id, false, false, false, e);
}

// Rust's regex and Oniguruma read \s as Unicode White_Space. PCRE2's UCP \s also takes
// U+180E and omits nothing else of note, so spell the class out to match them exactly.
#define WS_CLASS "\\t\\n\\x0B\\f\\r\\x20\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}"

// Rewrites \s and \S (inside and outside classes) into explicit White_Space classes.
static char *rewrite_ws(const char *pat) {
    Buf b = {0};
    bool in_class = false;
    for (const char *p = pat; *p; p++) {
        if (p[0] == '\\' && p[1]) {
            if (p[1] == 's') {
                buf_appendf(&b, in_class ? "%s" : "[%s]", WS_CLASS);
            } else if (p[1] == 'S' && !in_class) {
                buf_appendf(&b, "[^%s]", WS_CLASS);
            } else {
                // \S inside a class has no simple spelling; PCRE2's own is close enough.
                buf_append(&b, p, 2);
            }
            p++;
            continue;
        }
        if (*p == '[' && !in_class) in_class = true;
        else if (*p == ']' && in_class) in_class = false;
        buf_putc(&b, *p);
    }
    if (!b.data) buf_reserve(&b, 0);
    return b.data;
}

pcre2_code *tok_compile_regex(const char *pattern, Err *e) {
    char *pat = rewrite_ws(pattern);
    if (!pat) {
        ERR(e, ERR_NOMEM, "out of memory");
        return NULL;
    }
    int code;
    PCRE2_SIZE at;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP,
                                   &code, &at, NULL);
    free(pat);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof msg);
        ERR(e, ERR_FORMAT, "pre-tokenizer regex does not compile: %s (pattern: %s)", (char *)msg,
            pattern);
        return NULL;
    }
    pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);  // falls back to the interpreter if JIT is absent
    return re;
}

int tok_add_split(Tokenizer *t, const char *pattern, bool invert, Err *e) {
    int max = (int)(sizeof t->splits / sizeof t->splits[0]);
    if (t->n_splits == max)
        return ERR(e, ERR_UNSUPPORTED, "too many pre-tokenizer splits (max %d)", max);
    pcre2_code *re = tok_compile_regex(pattern, e);
    if (!re) return -1;
    t->splits[t->n_splits++] = (TokSplit){.re = re, .invert = invert};
    return 0;
}

int tok_decode(const Tokenizer *t, const int32_t *ids, size_t n, Buf *out, Err *e) {
    size_t start = out->len;
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id < 0 || id >= t->n_vocab || t->tok_off[id] == UINT32_MAX)
            return ERR(e, ERR_ARG, "id %d at position %zu is not in the vocabulary (size %d)", id, i,
                       t->n_vocab);
        if (buf_append(out, t->pool + t->tok_off[id], t->tok_len[id]))
            return ERR(e, ERR_NOMEM, "out of memory");
    }
    // SentencePiece prepends a space to the text it encodes; decoding takes it back.
    if (t->decode_strip_space && out->len > start && out->data[start] == ' ') {
        memmove(out->data + start, out->data + start + 1, out->len - start - 1);
        out->data[--out->len] = 0;
    }
    return 0;
}

int tok_vocab_size(const Tokenizer *t) { return t->n_vocab; }
const char *tok_name(const Tokenizer *t) { return t->name; }
int tok_bos_id(const Tokenizer *t) { return t->bos_id; }
int tok_eos_id(const Tokenizer *t) { return t->eos_id; }

const uint8_t *tok_token_bytes(const Tokenizer *t, int32_t id, size_t *len) {
    if (id < 0 || id >= t->n_vocab || t->tok_off[id] == UINT32_MAX) return NULL;
    *len = t->tok_len[id];
    return t->pool + t->tok_off[id];
}

int tok_is_special(const Tokenizer *t, int32_t id) {
    return id >= 0 && id < t->n_vocab && t->is_special[id];
}

int32_t tok_special_id(const Tokenizer *t, const char *name) {
    size_t len = strlen(name);
    for (int i = 0; i < t->n_specials; i++)
        if (t->specials[i].len == len && memcmp(t->pool + t->specials[i].off, name, len) == 0)
            return t->specials[i].id;
    return -1;
}
