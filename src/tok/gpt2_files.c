// gpt2_files.c: loads GPT-2's original vocabulary: encoder.json with vocab.bpe beside it.
//
// The format is the one openai/gpt-2 publishes and reads in src/encoder.py:
//   encoder.json  {"token": id, ...}: 50257 tokens spelled in GPT-2's byte-level alphabet
//                 (each byte is one printable character; see tok_byte_level_decode),
//                 "<|endoftext|>" = 50256 among them.
//   vocab.bpe     a "#version: 0.2" line, then one merge per line, "a b", highest priority
//                 first: the line's index is the merge's rank.
// The split pattern is GPT-2's (tok_builtin_pattern("gpt2")); <|endoftext|> becomes a
// special token and the EOS.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "tok/loaders.h"
#include "tok/tok_impl.h"
#include "util/file.h"

#define MAX_TOKEN 1024  // bytes; GPT-2's longest token is far shorter
#define MAX_ID (1 << 24)
#define EOT "<|endoftext|>"

typedef struct {
    const char *enc_path;
    char bpe_path[4096];
    Tokenizer *t;
    Err *e;
    BytesMap keys;   // encoder.json key -> id (keys borrowed from the cJSON tree)
    int32_t eot_id;  // <|endoftext|>'s id in encoder.json, or -1
} Gpt2;

static int add_entry(Gpt2 *g, const cJSON *v) {
    const char *key = v->string;
    size_t len = strlen(key);
    double d = v->valuedouble;
    // Range first: converting an out-of-range double to an integer is undefined.
    if (!cJSON_IsNumber(v) || !(d >= 0 && d <= MAX_ID) || d != (double)(int64_t)d)
        return ERR(g->e, ERR_FORMAT, "%s: \"%.40s\": expected an integer id in 0..%d",
                   g->enc_path, key, MAX_ID);
    int32_t id = (int32_t)d;
    if (len == 0 || len > MAX_TOKEN)
        return ERR(g->e, ERR_FORMAT, "%s: token %d: length must be 1..%d bytes", g->enc_path, id,
                   MAX_TOKEN);
    if (bytesmap_get(&g->keys, (const uint8_t *)key, len) >= 0)
        return ERR(g->e, ERR_FORMAT, "%s: \"%.40s\" appears twice", g->enc_path, key);
    if (bytesmap_put(&g->keys, (const uint8_t *)key, len, id))
        return ERR(g->e, ERR_NOMEM, "out of memory");
    if (!strcmp(key, EOT)) {  // a control token, added as a special below
        g->eot_id = id;
        return 0;
    }
    uint8_t bytes[MAX_TOKEN];
    int n = tok_byte_level_decode(key, len, bytes);
    if (n < 0)
        return ERR(g->e, ERR_FORMAT, "%s: \"%.40s\": not spelled in GPT-2's byte-level alphabet",
                   g->enc_path, key);
    if (id < g->t->n_vocab && g->t->tok_off[id] != UINT32_MAX)
        return ERR(g->e, ERR_FORMAT, "%s: \"%.40s\": id %d is used by another token too",
                   g->enc_path, key, id);
    if (n == 1 && g->t->byte_id[bytes[0]] < 0) g->t->byte_id[bytes[0]] = id;
    return tok_set_token(g->t, id, bytes, (size_t)n, g->e);
}

static int load_encoder(Gpt2 *g, const cJSON *root) {
    if (!cJSON_IsObject(root) || cJSON_GetArraySize(root) == 0)
        return ERR(g->e, ERR_FORMAT, "%s: expected a non-empty JSON object {token: id}",
                   g->enc_path);
    if (bytesmap_init(&g->keys, (size_t)cJSON_GetArraySize(root)))
        return ERR(g->e, ERR_NOMEM, "out of memory");
    const cJSON *v;
    cJSON_ArrayForEach(v, root) {
        if (add_entry(g, v)) return -1;
    }
    for (int b = 0; b < 256; b++)
        if (g->t->byte_id[b] < 0)
            return ERR(g->e, ERR_FORMAT, "%s: no token for the single byte 0x%02x", g->enc_path, b);
    return 0;
}

static int32_t key_id(const Gpt2 *g, const char *s, size_t n) {
    return bytesmap_get(&g->keys, (const uint8_t *)s, n);
}

// One "a b" line of vocab.bpe, rank = its index among the merge lines.
static int add_merge(Gpt2 *g, const char *line, size_t len, size_t lineno, int32_t rank) {
    const char *sp = memchr(line, ' ', len);
    const char *end = line + len;
    if (!sp || sp == line || sp + 1 == end || memchr(sp + 1, ' ', (size_t)(end - sp - 1)))
        return ERR(g->e, ERR_FORMAT, "%s:%zu: expected \"a b\"", g->bpe_path, lineno);
    size_t alen = (size_t)(sp - line), blen = len - alen - 1;
    int32_t a = key_id(g, line, alen), b = key_id(g, sp + 1, blen);
    if (a < 0 || b < 0)
        return ERR(g->e, ERR_FORMAT, "%s:%zu: \"%.*s\" is not in encoder.json", g->bpe_path, lineno,
                   (int)(a < 0 ? alen : blen), a < 0 ? line : sp + 1);
    char cat[2 * MAX_TOKEN];
    if (alen + blen > sizeof cat)
        return ERR(g->e, ERR_FORMAT, "%s:%zu: merged token too long", g->bpe_path, lineno);
    memcpy(cat, line, alen);
    memcpy(cat + alen, sp + 1, blen);
    int32_t into = key_id(g, cat, alen + blen);
    if (into < 0)
        return ERR(g->e, ERR_FORMAT, "%s:%zu: the merged token \"%.*s\" is not in encoder.json",
                   g->bpe_path, lineno, (int)(alen + blen), cat);
    if (pairmap_put(&g->t->merges, a, b, into, rank)) return ERR(g->e, ERR_NOMEM, "out of memory");
    return 0;
}

static int load_merges(Gpt2 *g) {
    char *data;
    size_t len;
    if (file_read_all(g->bpe_path, &data, &len, g->e)) return -1;
    int rc = pairmap_init(&g->t->merges, len / 8 + 1) ? ERR(g->e, ERR_NOMEM, "out of memory") : 0;
    size_t lineno = 0;
    int32_t rank = 0;
    for (char *p = data, *end = data + len; p < end && rc == 0;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *eol = nl ? nl : end;
        lineno++;
        if (eol > p && eol[-1] == '\r') eol--;
        bool header = lineno == 1 && eol - p >= 8 && memcmp(p, "#version", 8) == 0;
        if (!header && eol > p) rc = add_merge(g, p, (size_t)(eol - p), lineno, rank++);
        p = nl ? nl + 1 : end;
    }
    free(data);
    return rc;
}

static int build(Gpt2 *g, const cJSON *root) {
    const char *slash = strrchr(g->enc_path, '/');
    int dir = slash ? (int)(slash - g->enc_path + 1) : 0;
    if (snprintf(g->bpe_path, sizeof g->bpe_path, "%.*svocab.bpe", dir, g->enc_path) >=
        (int)sizeof g->bpe_path)
        return ERR(g->e, ERR_ARG, "%s: path too long", g->enc_path);
    if (!file_exists(g->bpe_path))
        return ERR(g->e, ERR_IO, "%s: vocab.bpe, its merge list, is not beside it (looked for %s)",
                   g->enc_path, g->bpe_path);
    g->t = tok_new("encoder.json", TOK_MODE_BYTES);
    if (!g->t) return ERR(g->e, ERR_NOMEM, "out of memory");
    if (load_encoder(g, root) || load_merges(g) || tok_build_lookup(g->t, g->e) ||
        tok_add_split(g->t, tok_builtin_pattern("gpt2"), false, g->e) ||
        tok_add_special(g->t, EOT, g->eot_id, g->e))
        return -1;
    g->t->eos_id = tok_special_id(g->t, EOT);
    return 0;
}

int tok_load_gpt2_files(Tokenizer **out, const char *encoder_json_path, Err *e) {
    char *data;
    size_t len;
    if (file_read_all(encoder_json_path, &data, &len, e)) return -1;
    cJSON *root = cJSON_ParseWithLength(data, len);
    free(data);
    if (!root) return ERR(e, ERR_FORMAT, "%s: not valid JSON", encoder_json_path);
    Gpt2 g = {.enc_path = encoder_json_path, .e = e, .eot_id = -1};
    int rc = build(&g, root);
    cJSON_Delete(root);
    bytesmap_free(&g.keys);
    if (rc) {
        tok_free(g.t);
        return -1;
    }
    *out = g.t;
    return 0;
}
