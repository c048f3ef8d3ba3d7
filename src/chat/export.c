// export.c: a trained model's tokenizer and chat template, written as Hugging Face files
// (see export.h).
//
// Only tok.h's public API is used: the token table (bytes and special flag per id), BOS,
// and the source file named by spec for what the Tokenizer does not expose (the JSON of a
// tokenizer.json, the scores of a llama2.c file). tiktoken's merges are recomputed from
// the ranks.
//
// Why tiktoken ranks become an exact Hugging Face BPE: when tiktoken's BPE forms a token T
// inside a piece, the merges inside T's bytes are exactly those of BPE run on T's bytes
// alone (a merge across T's edge would have prevented T), so the pair that forms T is
// always the last pair of BPE(T) — one merge per token, ranked by T's rank. Pairs of the
// full rank table that are not such last pairs are never the lowest-ranked pair present,
// so leaving them out changes nothing. Tokens that BPE(T) cannot reach are only ever
// emitted whole, which ignore_merges (tiktoken's whole-piece rule) keeps.
#include "chat/export.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "util/buf.h"
#include "util/file.h"
#include "util/hashmap.h"
#include "util/json.h"
#include "util/utf8.h"

#define SPACE_MARK "\xE2\x96\x81"  // ▁ U+2581
#define N_L2C_FIXED 259            // llama2.c: <unk>, <s>, </s>, 256 byte tokens

typedef enum { SRC_HF_JSON, SRC_TIKTOKEN, SRC_LLAMA2C } SrcKind;

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

// What kind of file spec names (as tok_load reads it) and its path (empty for a built-in
// encoding name).
static int resolve_source(const char *spec, char *path, size_t n, SrcKind *kind, Err *e) {
    path[0] = 0;
    if (file_is_dir(spec)) {
        static const char *names[] = {"tokenizer.json", "tokenizer.bin", "encoder.json"};
        for (int i = 0; i < 3; i++) {
            if (path_join(path, n, spec, names[i], e)) return -1;
            if (!file_exists(path)) continue;
            if (i == 2) break;
            *kind = i == 0 ? SRC_HF_JSON : SRC_LLAMA2C;
            return 0;
        }
        if (!file_exists(path))
            return ERR(e, ERR_ARG, "%s: no tokenizer.json or tokenizer.bin in this directory", spec);
    } else if (file_exists(spec)) {
        snprintf(path, n, "%s", spec);
        if (ends_with(spec, ".tiktoken")) {
            *kind = SRC_TIKTOKEN;
            return 0;
        }
        if (ends_with(spec, ".bin")) {
            *kind = SRC_LLAMA2C;
            return 0;
        }
        if (ends_with(spec, ".json") && !ends_with(spec, "encoder.json")) {
            const char *base = strrchr(spec, '/');
            char stem[128];
            snprintf(stem, sizeof stem, "%s", base ? base + 1 : spec);
            stem[strlen(stem) - 5] = 0;
            *kind = tok_builtin_pattern(stem) ? SRC_TIKTOKEN : SRC_HF_JSON;
            return 0;
        }
    } else if (tok_builtin_pattern(spec)) {
        *kind = SRC_TIKTOKEN;
        return 0;
    }
    if (ends_with(path, "encoder.json"))
        return ERR(e, ERR_UNSUPPORTED, "%s: exporting a GPT-2 encoder.json + vocab.bpe tokenizer "
                   "is not supported (use its tokenizer.json, or the gpt2 tiktoken encoding)", spec);
    return ERR(e, ERR_ARG, "%s: not a tokenizer this export knows (tokenizer.json, tiktoken ranks "
               "or a llama2.c tokenizer.bin)", spec);
}

// ---- JSON text -------------------------------------------------------------------------------

static const uint8_t *token(const Tokenizer *t, int32_t id, size_t *len) {
    return tok_token_bytes(t, id, len);
}

// added_tokens: every special (control) token of t, in id order.
static int json_added_tokens(Buf *b, const Tokenizer *t) {
    int rc = buf_appendf(b, "  \"added_tokens\": [");
    bool first = true;
    for (int32_t id = 0; id < tok_vocab_size(t) && !rc; id++) {
        size_t len;
        const uint8_t *p = token(t, id, &len);
        if (!p || !tok_is_special(t, id)) continue;
        rc = buf_appendf(b, "%s\n    {\"id\": %d, \"content\": ", first ? "" : ",", id) ||
             json_escape(b, (const char *)p, len) ||
             buf_appendf(b, ", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, "
                            "\"normalized\": false, \"special\": true}");
        first = false;
    }
    return rc || buf_appendf(b, "%s],\n", first ? "" : "\n  ");
}

// ---- tiktoken ranks -> byte-level BPE --------------------------------------------------------

typedef struct {
    int32_t a, b, into;
    float score;  // llama2.c: the merged token's score (higher merges first)
    int32_t cut;  // llama2.c: where the key is cut, for a stable order
} Merge;

typedef struct {
    Merge *m;
    size_t n, cap;
} Merges;

static int merges_push(Merges *v, Merge m) {
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 4096;
        Merge *p = realloc(v->m, cap * sizeof *p);
        if (!p) return -1;
        v->m = p;
        v->cap = cap;
    }
    v->m[v->n++] = m;
    return 0;
}

// token bytes -> lowest id, ordinary tokens only (the engine's lookup).
static int bytes_index(const Tokenizer *t, BytesMap *map, Err *e) {
    if (bytesmap_init(map, (size_t)tok_vocab_size(t))) return ERR(e, ERR_NOMEM, "out of memory");
    for (int32_t id = 0; id < tok_vocab_size(t); id++) {
        size_t len;
        const uint8_t *p = token(t, id, &len);
        if (!p || !len || tok_is_special(t, id) || bytesmap_get(map, p, len) >= 0) continue;
        if (bytesmap_put(map, p, len, id)) return ERR(e, ERR_NOMEM, "out of memory");
    }
    return 0;
}

// Runs tiktoken's BPE on the bytes of token T (ranks = ids, every pair whose concatenation
// is a token) without the whole-piece shortcut. When it ends in T, the last merge is T's
// merge. sym/off/len: room for n entries.
static void tiktoken_merge_of(const BytesMap *map, int32_t T, const uint8_t *p, size_t n,
                              int32_t *sym, size_t *off, size_t *len, Merges *out, int *oom) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        sym[k] = bytesmap_get(map, p + i, 1);
        if (sym[k] < 0) return;  // a byte with no token: not byte-level
        off[k] = i, len[k] = 1, k++;
    }
    int32_t last_a = -1, last_b = -1;
    while (k > 1) {
        size_t best = SIZE_MAX;
        int32_t best_rank = INT32_MAX;
        for (size_t i = 0; i + 1 < k; i++) {
            int32_t r = bytesmap_get(map, p + off[i], len[i] + len[i + 1]);
            if (r >= 0 && r < best_rank) best_rank = r, best = i;
        }
        if (best == SIZE_MAX) break;
        last_a = sym[best], last_b = sym[best + 1];
        sym[best] = best_rank;
        len[best] += len[best + 1];
        memmove(sym + best + 1, sym + best + 2, (k - best - 2) * sizeof *sym);
        memmove(off + best + 1, off + best + 2, (k - best - 2) * sizeof *off);
        memmove(len + best + 1, len + best + 2, (k - best - 2) * sizeof *len);
        k--;
    }
    if (k == 1 && sym[0] == T && last_a >= 0 &&
        merges_push(out, (Merge){last_a, last_b, T, 0, 0}))
        *oom = 1;
}

static int tiktoken_merges(const Tokenizer *t, Merges *out, Err *e) {
    BytesMap map = {0};
    if (bytes_index(t, &map, e)) return -1;
    size_t maxlen = 1;
    for (int32_t id = 0; id < tok_vocab_size(t); id++) {
        size_t len;
        if (token(t, id, &len) && !tok_is_special(t, id) && len > maxlen) maxlen = len;
    }
    int32_t *sym = malloc(maxlen * sizeof *sym);
    size_t *off = malloc(maxlen * sizeof *off), *len = malloc(maxlen * sizeof *len);
    int oom = !sym || !off || !len;
    for (int32_t id = 0; id < tok_vocab_size(t) && !oom; id++) {
        size_t n;
        const uint8_t *p = token(t, id, &n);
        if (!p || n < 2 || tok_is_special(t, id) || bytesmap_get(&map, p, n) != id) continue;
        tiktoken_merge_of(&map, id, p, n, sym, off, len, out, &oom);
    }
    free(sym), free(off), free(len);
    bytesmap_free(&map);
    return oom ? ERR(e, ERR_NOMEM, "out of memory") : 0;
}

static int write_tiktoken_json(const Tokenizer *t, Buf *b, Err *e) {
    const char *pattern = tok_builtin_pattern(tok_name(t));
    if (!pattern)
        return ERR(e, ERR_ARG, "tokenizer %s: not a built-in tiktoken encoding", tok_name(t));
    Merges mg = {0};
    if (tiktoken_merges(t, &mg, e)) return -1;
    int rc = buf_appendf(b, "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n"
                            "  \"padding\": null,\n") ||
             json_added_tokens(b, t) ||
             buf_appendf(b, "  \"normalizer\": null,\n"
                            "  \"pre_tokenizer\": {\n"
                            "    \"type\": \"Sequence\",\n"
                            "    \"pretokenizers\": [\n"
                            "      {\"type\": \"Split\", \"pattern\": {\"Regex\": ") ||
             json_escape(b, pattern, strlen(pattern)) ||
             buf_appendf(b, "}, \"behavior\": \"Isolated\", \"invert\": false},\n"
                            "      {\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
                            "\"trim_offsets\": true, \"use_regex\": false}\n    ]\n  },\n"
                            "  \"post_processor\": null,\n"
                            "  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
                            "\"trim_offsets\": true, \"use_regex\": true},\n"
                            "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n"
                            "    \"unk_token\": null,\n    \"continuing_subword_prefix\": null,\n"
                            "    \"end_of_word_suffix\": null,\n    \"fuse_unk\": false,\n"
                            "    \"byte_fallback\": false,\n    \"ignore_merges\": true,\n"
                            "    \"vocab\": {");
    bool first = true;
    for (int32_t id = 0; id < tok_vocab_size(t) && !rc; id++) {
        size_t len;
        const uint8_t *p = token(t, id, &len);
        if (!p || tok_is_special(t, id)) continue;
        rc = buf_appendf(b, "%s\n      \"", first ? "" : ",") || tok_byte_level_json(b, p, len) ||
             buf_appendf(b, "\": %d", id);
        first = false;
    }
    rc = rc || buf_appendf(b, "\n    },\n    \"merges\": [");
    for (size_t k = 0; k < mg.n && !rc; k++) {
        size_t la, lb;
        const uint8_t *pa = token(t, mg.m[k].a, &la), *pb = token(t, mg.m[k].b, &lb);
        rc = buf_appendf(b, "%s\n      \"", k ? "," : "") || tok_byte_level_json(b, pa, la) ||
             buf_putc(b, ' ') || tok_byte_level_json(b, pb, lb) || buf_putc(b, '"');
    }
    rc = rc || buf_appendf(b, "%s]\n  }\n}\n", mg.n ? "\n    " : "");
    free(mg.m);
    return rc ? ERR(e, ERR_NOMEM, "out of memory writing tokenizer.json") : 0;
}

// ---- llama2.c -> SentencePiece-style BPE -----------------------------------------------------

// The scores of a llama2.c file (score[id] for its n tokens), checked against t's tokens.
static int read_l2c_scores(const Tokenizer *t, const char *path, float **score, int32_t *n,
                           Err *e) {
    char *data;
    size_t len, pos = 4;
    if (file_read_all(path, &data, &len, e)) return -1;
    int32_t cap = tok_vocab_size(t), k = 0;
    float *s = malloc(((size_t)cap + 1) * sizeof *s);
    int rc = s ? 0 : ERR(e, ERR_NOMEM, "out of memory");
    if (!rc && len < 4) rc = ERR(e, ERR_FORMAT, "%s: truncated", path);
    while (!rc && pos < len) {
        int32_t l;
        if (len - pos < 8 || k >= cap) {
            rc = ERR(e, ERR_FORMAT, "%s: token %d: the file does not match the tokenizer", path, k);
            break;
        }
        memcpy(&s[k], data + pos, 4);
        memcpy(&l, data + pos + 4, 4);
        pos += 8;
        size_t tl;
        const uint8_t *p = token(t, k, &tl);
        if (l < 1 || len - pos < (size_t)l || !p ||
            (k >= N_L2C_FIXED && (tl != (size_t)l || memcmp(p, data + pos, tl) != 0)))
            rc = ERR(e, ERR_FORMAT, "%s: token %d: the file does not match the tokenizer "
                     "being exported", path, k);
        pos += (size_t)l;
        k++;
    }
    free(data);
    if (!rc && k < N_L2C_FIXED) rc = ERR(e, ERR_FORMAT, "%s: only %d tokens", path, k);
    if (rc) {
        free(s);
        return -1;
    }
    *score = s;
    *n = k;
    return 0;
}

// The vocabulary key of a llama2.c token: <0xXX> for the byte tokens, the spelling of a
// control token, else the text with ▁ for each space.
static int sp_key(const Tokenizer *t, int32_t id, Buf *k) {
    size_t len;
    const uint8_t *p = token(t, id, &len);
    k->len = 0;
    if (id >= 3 && id < N_L2C_FIXED) return buf_appendf(k, "<0x%02X>", id - 3);
    for (size_t i = 0; i < len; i++)
        if (p[i] == ' ' ? buf_append(k, SPACE_MARK, 3) : buf_putc(k, (char)p[i])) return -1;
    if (!k->data) return buf_reserve(k, 0);
    return 0;
}

static int by_score(const void *x, const void *y) {
    const Merge *a = x, *b = y;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    if (a->into != b->into) return a->into < b->into ? -1 : 1;
    return (a->cut > b->cut) - (a->cut < b->cut);
}

// llama2.c's merges, as the loader builds them: every cut of a token's key into two keys,
// ranked by the token's score (run.c never merges a score ≤ -1e10 or NaN).
static int l2c_merges(const Tokenizer *t, Buf *keys, int32_t n, const float *score,
                      Merges *out, Err *e) {
    BytesMap map = {0};
    if (bytesmap_init(&map, (size_t)n)) return ERR(e, ERR_NOMEM, "out of memory");
    int oom = 0;
    for (int32_t id = 3; id < n && !oom; id++)
        if (bytesmap_get(&map, (uint8_t *)keys[id].data, keys[id].len) < 0)
            oom = bytesmap_put(&map, (uint8_t *)keys[id].data, keys[id].len, id);
    for (int32_t id = 3; id < n && !oom; id++) {
        if (isnan(score[id]) || !(score[id] > -1e10f)) continue;
        const uint8_t *p = (const uint8_t *)keys[id].data;
        for (size_t k = 1; k < keys[id].len && !oom; k++) {
            int32_t a = bytesmap_get(&map, p, k), b = bytesmap_get(&map, p + k, keys[id].len - k);
            if (a >= 0 && b >= 0) oom = merges_push(out, (Merge){a, b, id, score[id], (int32_t)k});
        }
    }
    bytesmap_free(&map);
    if (oom) return ERR(e, ERR_NOMEM, "out of memory");
    qsort(out->m, out->n, sizeof *out->m, by_score);
    return 0;
}

static int write_l2c_json(const Tokenizer *t, const char *path, Buf *b, Err *e) {
    float *score;
    int32_t n;
    if (read_l2c_scores(t, path, &score, &n, e)) return -1;
    Buf *keys = calloc((size_t)n, sizeof *keys);
    Merges mg = {0};
    int rc = keys ? 0 : ERR(e, ERR_NOMEM, "out of memory");
    for (int32_t id = 0; id < n && !rc; id++) {
        if (sp_key(t, id, &keys[id])) rc = ERR(e, ERR_NOMEM, "out of memory");
        else if (memchr(keys[id].data, ' ', keys[id].len))
            rc = ERR(e, ERR_UNSUPPORTED, "%s: token %d has a space in its key", path, id);
    }
    if (!rc) rc = l2c_merges(t, keys, n, score, &mg, e);
    if (!rc) {
        size_t bl;
        const uint8_t *bos = token(t, 1, &bl);
        rc = buf_appendf(b, "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n"
                            "  \"padding\": null,\n") ||
             json_added_tokens(b, t) ||
             buf_appendf(b, "  \"normalizer\": {\"type\": \"Sequence\", \"normalizers\": [\n"
                            "    {\"type\": \"Prepend\", \"prepend\": \"" SPACE_MARK "\"},\n"
                            "    {\"type\": \"Replace\", \"pattern\": {\"String\": \" \"}, "
                            "\"content\": \"" SPACE_MARK "\"}]},\n"
                            "  \"pre_tokenizer\": null,\n"
                            "  \"post_processor\": {\"type\": \"TemplateProcessing\",\n"
                            "    \"single\": [{\"SpecialToken\": {\"id\": ") ||
             json_escape(b, (const char *)bos, bl) ||
             buf_appendf(b, ", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}],\n"
                            "    \"pair\": [{\"SpecialToken\": {\"id\": ") ||
             json_escape(b, (const char *)bos, bl) ||
             buf_appendf(b, ", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}, "
                            "{\"SpecialToken\": {\"id\": ") ||
             json_escape(b, (const char *)bos, bl) ||
             buf_appendf(b, ", \"type_id\": 1}}, {\"Sequence\": {\"id\": \"B\", \"type_id\": 1}}],\n"
                            "    \"special_tokens\": {") ||
             json_escape(b, (const char *)bos, bl) || buf_appendf(b, ": {\"id\": ") ||
             json_escape(b, (const char *)bos, bl) || buf_appendf(b, ", \"ids\": [1], \"tokens\": [") ||
             json_escape(b, (const char *)bos, bl) ||
             buf_appendf(b, "]}}},\n"
                            "  \"decoder\": {\"type\": \"Sequence\", \"decoders\": [\n"
                            "    {\"type\": \"Replace\", \"pattern\": {\"String\": \"" SPACE_MARK
                            "\"}, \"content\": \" \"},\n"
                            "    {\"type\": \"ByteFallback\"}, {\"type\": \"Fuse\"},\n"
                            "    {\"type\": \"Strip\", \"content\": \" \", \"start\": 1, "
                            "\"stop\": 0}]},\n"
                            "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n"
                            "    \"unk_token\": ") ||
             json_escape(b, keys[0].data, keys[0].len) ||
             buf_appendf(b, ",\n    \"continuing_subword_prefix\": null,\n"
                            "    \"end_of_word_suffix\": null,\n    \"fuse_unk\": true,\n"
                            "    \"byte_fallback\": true,\n    \"ignore_merges\": false,\n"
                            "    \"vocab\": {");
        for (int32_t id = 0; id < n && !rc; id++)
            rc = buf_appendf(b, "%s\n      ", id ? "," : "") ||
                 json_escape(b, keys[id].data, keys[id].len) || buf_appendf(b, ": %d", id);
        rc = rc || buf_appendf(b, "\n    },\n    \"merges\": [");
        for (size_t k = 0; k < mg.n && !rc; k++) {
            Buf *ka = &keys[mg.m[k].a], *kb = &keys[mg.m[k].b];
            Buf pair = {0};
            rc = buf_append(&pair, ka->data, ka->len) || buf_putc(&pair, ' ') ||
                 buf_append(&pair, kb->data, kb->len) ||
                 buf_appendf(b, "%s\n      ", k ? "," : "") ||
                 json_escape(b, pair.data, pair.len);
            buf_free(&pair);
        }
        rc = rc || buf_appendf(b, "%s]\n  }\n}\n", mg.n ? "\n    " : "");
        if (rc) rc = ERR(e, ERR_NOMEM, "out of memory writing tokenizer.json");
    }
    for (int32_t id = 0; keys && id < n; id++) buf_free(&keys[id]);
    free(keys);
    free(mg.m);
    free(score);
    return rc;
}

// ---- tokenizer.json -> the same file with the new specials -------------------------------------

static cJSON *read_json(const char *path, Err *e) {
    char *data;
    size_t len;
    if (file_read_all(path, &data, &len, e)) return NULL;
    cJSON *j = cJSON_ParseWithLength(data, len);
    free(data);
    if (!cJSON_IsObject(j)) {
        cJSON_Delete(j);
        ERR(e, ERR_FORMAT, "%s: not a JSON object", path);
        return NULL;
    }
    return j;
}

static cJSON *added_token_json(int32_t id, const uint8_t *p, size_t len) {
    cJSON *o = cJSON_CreateObject();
    char *s = malloc(len + 1);
    if (!o || !s) {
        cJSON_Delete(o);
        free(s);
        return NULL;
    }
    memcpy(s, p, len);
    s[len] = 0;
    bool ok = cJSON_AddNumberToObject(o, "id", id) && cJSON_AddStringToObject(o, "content", s) &&
              cJSON_AddFalseToObject(o, "single_word") && cJSON_AddFalseToObject(o, "lstrip") &&
              cJSON_AddFalseToObject(o, "rstrip") && cJSON_AddFalseToObject(o, "normalized") &&
              cJSON_AddTrueToObject(o, "special");
    free(s);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

// Appends to added_tokens each special of t that the file does not list yet.
static int write_hf_json(const Tokenizer *t, const char *path, Buf *b, Err *e) {
    cJSON *root = read_json(path, e);
    if (!root) return -1;
    cJSON *added = cJSON_GetObjectItemCaseSensitive(root, "added_tokens");
    int rc = 0;
    if (!added || cJSON_IsNull(added)) {
        cJSON_DeleteItemFromObjectCaseSensitive(root, "added_tokens");
        added = cJSON_AddArrayToObject(root, "added_tokens");
    }
    if (!cJSON_IsArray(added)) rc = ERR(e, ERR_FORMAT, "%s: added_tokens: expected an array", path);
    for (int32_t id = 0; id < tok_vocab_size(t) && !rc; id++) {
        size_t len;
        const uint8_t *p = token(t, id, &len);
        if (!p || !tok_is_special(t, id)) continue;
        bool listed = false;
        const cJSON *a;
        cJSON_ArrayForEach(a, added) {
            const cJSON *aid = cJSON_GetObjectItemCaseSensitive(a, "id");
            if (cJSON_IsNumber(aid) && aid->valuedouble == id) listed = true;
        }
        if (listed) continue;
        cJSON *o = added_token_json(id, p, len);
        if (!o || !cJSON_AddItemToArray(added, o)) {
            cJSON_Delete(o);
            rc = ERR(e, ERR_NOMEM, "out of memory");
        }
    }
    char *s = rc ? NULL : cJSON_Print(root);
    if (!rc && !s) rc = ERR(e, ERR_NOMEM, "out of memory");
    if (!rc && (buf_append(b, s, strlen(s)) || buf_putc(b, '\n')))
        rc = ERR(e, ERR_NOMEM, "out of memory");
    free(s);
    cJSON_Delete(root);
    return rc;
}

// ---- chat template ---------------------------------------------------------------------------

// A Jinja string literal: '…' with quotes, backslashes and newlines escaped.
static int jinja_literal(Buf *b, const char *s) {
    int rc = buf_putc(b, '\'');
    for (; *s && !rc; s++) {
        if (*s == '\n') rc = buf_append(b, "\\n", 2);
        else if (*s == '\'' || *s == '\\') rc = buf_putc(b, '\\') || buf_putc(b, *s);
        else rc = buf_putc(b, *s);
    }
    return rc || buf_putc(b, '\'');
}

// '<start>' + ROLE + '<role_end>' + 'suffix' — the header, ROLE a Jinja expression or literal.
static int jinja_header(Buf *b, const ChatTemplate *tpl, const char *role_expr) {
    Buf tail = {0};
    int rc = buf_appendf(&tail, "%s%s", tpl->role_end ? tpl->role_end : "", tpl->header_suffix);
    rc = rc || jinja_literal(b, tpl->start) || buf_appendf(b, " + %s", role_expr);
    if (!rc && tail.len) rc = buf_appendf(b, " + ") || jinja_literal(b, tail.data);
    buf_free(&tail);
    return rc;
}

char *chat_template_jinja(const ChatTemplate *tpl, bool with_bos) {
    Buf b = {0};
    int rc = 0;
    if (with_bos && tpl->bos) rc = buf_appendf(&b, "{{ ") || jinja_literal(&b, tpl->bos) ||
                                    buf_appendf(&b, " }}");
    rc = rc || buf_appendf(&b, "{%% for message in messages %%}{{ ") ||
         jinja_header(&b, tpl, "message['role']") ||
         buf_appendf(&b, tpl->trim_content ? " + (message['content'] | trim) + "
                                           : " + message['content'] + ") ||
         jinja_literal(&b, tpl->end);
    if (!rc && *tpl->after_end) rc = buf_appendf(&b, " + ") || jinja_literal(&b, tpl->after_end);
    rc = rc || buf_appendf(&b, " }}{%% endfor %%}{%% if add_generation_prompt %%}{{ ") ||
         jinja_header(&b, tpl, "'assistant'") || buf_appendf(&b, " }}{%% endif %%}");
    if (rc) {
        buf_free(&b);
        return NULL;
    }
    return b.data;
}

// ---- tokenizer_config.json, special_tokens_map.json ------------------------------------------

static char *spelling(const Tokenizer *t, int32_t id) {
    size_t len;
    const uint8_t *p = token(t, id, &len);
    if (!p) return NULL;
    char *s = malloc(len + 1);
    if (s) memcpy(s, p, len), s[len] = 0;
    return s;
}

// Sets o[name] = v (replacing an existing member); false when out of memory.
static bool set_item(cJSON *o, const char *name, cJSON *v) {
    if (!v) return false;
    if (cJSON_GetObjectItemCaseSensitive(o, name)) return cJSON_ReplaceItemInObjectCaseSensitive(o, name, v);
    return cJSON_AddItemToObject(o, name, v);
}

static bool set_string(cJSON *o, const char *name, const char *s) {
    return set_item(o, name, s ? cJSON_CreateString(s) : cJSON_CreateNull());
}

// added_tokens_decoder: {"id": {content, lstrip, normalized, rstrip, single_word, special}}
// from the added_tokens of the tokenizer.json just written.
static cJSON *added_tokens_decoder(const char *tokenizer_json) {
    cJSON *root = cJSON_Parse(tokenizer_json), *dec = cJSON_CreateObject();
    const cJSON *a;
    bool ok = root && dec;
    const cJSON *list = ok ? cJSON_GetObjectItemCaseSensitive(root, "added_tokens") : NULL;
    cJSON_ArrayForEach(a, list) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "id");
        if (!cJSON_IsNumber(id)) continue;
        cJSON *o = cJSON_CreateObject();
        static const char *fields[] = {"content", "lstrip", "normalized", "rstrip", "single_word",
                                       "special"};
        for (int i = 0; o && i < 6; i++) {
            const cJSON *v = cJSON_GetObjectItemCaseSensitive(a, fields[i]);
            cJSON *c = v ? cJSON_Duplicate(v, 1) : cJSON_CreateBool(i == 5);
            if (!c || !cJSON_AddItemToObject(o, fields[i], c)) ok = false;
        }
        char key[16];
        snprintf(key, sizeof key, "%d", (int)id->valuedouble);
        if (!o || !cJSON_AddItemToObject(dec, key, o)) ok = false;
    }
    cJSON_Delete(root);
    if (!ok) {
        cJSON_Delete(dec);
        return NULL;
    }
    return dec;
}

static int write_json_file(const char *dir, const char *name, const cJSON *j, Err *e) {
    char path[4200];
    if (path_join(path, sizeof path, dir, name, e)) return -1;
    char *s = cJSON_Print(j);
    if (!s) return ERR(e, ERR_NOMEM, "out of memory");
    size_t n = strlen(s);
    char *t = realloc(s, n + 2);
    if (!t) {
        free(s);
        return ERR(e, ERR_NOMEM, "out of memory");
    }
    t[n] = '\n', t[n + 1] = 0;
    int rc = file_write_atomic(path, t, n + 1, e);
    free(t);
    return rc;
}

// tokenizer_config.json: the source's (beside its tokenizer.json) when there is one, with
// the fields that say how the model was trained set.
static int write_config(const Tokenizer *t, const ChatTemplate *tpl, SrcKind kind,
                        const char *src_path, const char *tokenizer_json, const char *out_dir,
                        Err *e) {
    cJSON *cfg = NULL;
    if (kind == SRC_HF_JSON) {
        char cpath[4200];
        const char *slash = strrchr(src_path, '/');
        int dir = slash ? (int)(slash - src_path + 1) : 0;
        snprintf(cpath, sizeof cpath, "%.*stokenizer_config.json", dir, src_path);
        if (file_exists(cpath) && !(cfg = read_json(cpath, e))) return -1;
    }
    if (!cfg) {
        cfg = cJSON_CreateObject();
        if (!cfg) return ERR(e, ERR_NOMEM, "out of memory");
        bool ok = set_string(cfg, "tokenizer_class", "PreTrainedTokenizerFast") &&
                  set_item(cfg, "clean_up_tokenization_spaces", cJSON_CreateFalse());
        if (ok && kind == SRC_LLAMA2C) {
            char *unk = spelling(t, 0);
            ok = unk && set_string(cfg, "unk_token", unk);
            free(unk);
        }
        if (!ok) {
            cJSON_Delete(cfg);
            return ERR(e, ERR_NOMEM, "out of memory");
        }
    }
    bool with_bos = tpl->bos && tok_special_id(t, tpl->bos) >= 0;
    char *jinja = chat_template_jinja(tpl, with_bos);
    char *bos = tok_bos_id(t) >= 0 ? spelling(t, tok_bos_id(t)) : NULL;
    bool ok = jinja && (tok_bos_id(t) < 0 || bos) && set_string(cfg, "bos_token", bos) &&
              set_string(cfg, "eos_token", tpl->end) &&
              set_item(cfg, "added_tokens_decoder", added_tokens_decoder(tokenizer_json)) &&
              set_string(cfg, "chat_template", jinja) &&
              set_string(cfg, "posttrain_template", tpl->name);
    free(jinja);
    int rc = ok ? write_json_file(out_dir, "tokenizer_config.json", cfg, e)
                : ERR(e, ERR_NOMEM, "out of memory");
    cJSON_Delete(cfg);
    if (rc) {
        free(bos);
        return -1;
    }
    // special_tokens_map.json: the same BOS/EOS, and the template's other control tokens.
    cJSON *map = cJSON_CreateObject(), *extra = cJSON_CreateArray();
    ok = map && extra && (!bos || set_string(map, "bos_token", bos)) &&
         set_string(map, "eos_token", tpl->end);
    const char *names[] = {tpl->start, tpl->role_end};
    for (int i = 0; ok && i < 2; i++)
        if (names[i]) ok = cJSON_AddItemToArray(extra, cJSON_CreateString(names[i]));
    ok = ok && cJSON_AddItemToObject(map, "additional_special_tokens", extra);
    if (!ok) cJSON_Delete(extra);
    rc = ok ? write_json_file(out_dir, "special_tokens_map.json", map, e)
            : ERR(e, ERR_NOMEM, "out of memory");
    cJSON_Delete(map);
    free(bos);
    return rc;
}

// ---- the check -------------------------------------------------------------------------------

// Loads out_dir and compares it with t: every id's bytes and special flag, BOS, EOS = the
// template's end token, and the ids of a probe text.
static int check_reload(const Tokenizer *t, const ChatTemplate *tpl, const char *out_dir, Err *e) {
    static const char probe[] =
        "Hello, world! It's 2+2=4 isn't it? \n\n  def f(x):\n\treturn x**2  # ok\n"
        "naïve café, 你好世界, Привет, مرحبا, नमस्ते 🤖👩‍💻 1234567 <|im_start|> <s>   end";
    Tokenizer *u;
    if (tok_load(&u, out_dir, NULL, e)) return err_prefix(e, "reloading the export: ");
    int rc = 0;
    int32_t n = tok_vocab_size(t);
    if (tok_vocab_size(u) != n)
        rc = ERR(e, ERR_FORMAT, "%s: the written tokenizer has %d ids, not %d", out_dir,
                 tok_vocab_size(u), n);
    for (int32_t id = 0; id < n && !rc; id++) {
        size_t la, lb;
        const uint8_t *a = token(t, id, &la), *b = token(u, id, &lb);
        if (!a != !b || (a && (la != lb || memcmp(a, b, la))) ||
            tok_is_special(t, id) != tok_is_special(u, id))
            rc = ERR(e, ERR_FORMAT, "%s: the written tokenizer differs at id %d", out_dir, id);
    }
    if (!rc && (tok_bos_id(u) != tok_bos_id(t) || tok_eos_id(u) != tok_special_id(t, tpl->end)))
        rc = ERR(e, ERR_FORMAT, "%s: the written tokenizer has BOS %d, EOS %d (expected %d, %d)",
                 out_dir, tok_bos_id(u), tok_eos_id(u), tok_bos_id(t), tok_special_id(t, tpl->end));
    IntVec x = {0}, y = {0};
    for (int flags = 0; flags <= TOK_ALLOW_SPECIAL && !rc; flags += TOK_ALLOW_SPECIAL) {
        x.len = y.len = 0;
        if (tok_encode(t, probe, sizeof probe - 1, flags, &x, e) ||
            tok_encode(u, probe, sizeof probe - 1, flags, &y, e))
            rc = -1;
        else if (x.len != y.len || (x.len && memcmp(x.data, y.data, x.len * sizeof *x.data)))
            rc = ERR(e, ERR_FORMAT, "%s: the written tokenizer encodes a probe text differently",
                     out_dir);
    }
    ivec_free(&x), ivec_free(&y);
    tok_free(u);
    return rc;
}

// ---- entry points ----------------------------------------------------------------------------

int chat_export_tokenizer(const Tokenizer *t, const char *spec, const ChatTemplate *tpl,
                          const char *out_dir, Err *e) {
    const char *need[] = {tpl->start, tpl->role_end, tpl->end};
    for (int i = 0; i < 3; i++)
        if (need[i] && tok_special_id(t, need[i]) < 0)
            return ERR(e, ERR_ARG, "template %s: the tokenizer has no %s token (call "
                       "chat_prepare_tokenizer first)", tpl->name, need[i]);
    char src[4200];
    SrcKind kind;
    if (resolve_source(spec, src, sizeof src, &kind, e) || file_mkdir_p(out_dir, e)) return -1;
    Buf json = {0};
    int rc = kind == SRC_HF_JSON    ? write_hf_json(t, src, &json, e)
             : kind == SRC_LLAMA2C ? write_l2c_json(t, src, &json, e)
                                   : write_tiktoken_json(t, &json, e);
    char path[4200];
    if (!rc) rc = path_join(path, sizeof path, out_dir, "tokenizer.json", e);
    if (!rc) rc = file_write_atomic(path, json.data, json.len, e);
    if (!rc) rc = write_config(t, tpl, kind, src, json.data, out_dir, e);
    buf_free(&json);
    if (!rc) rc = check_reload(t, tpl, out_dir, e);
    return rc;
}

int chat_template_from_dir(const char *dir, const ChatTemplate **tpl, Err *e) {
    char path[4200];
    *tpl = NULL;
    if (path_join(path, sizeof path, dir, "tokenizer_config.json", e)) return -1;
    if (!file_exists(path))
        return ERR(e, ERR_ARG, "%s: no tokenizer_config.json, so no chat template (pass "
                   "--template %s)", dir, chat_template_names());
    cJSON *cfg = read_json(path, e);
    if (!cfg) return -1;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(cfg, "posttrain_template");
    const cJSON *jinja = cJSON_GetObjectItemCaseSensitive(cfg, "chat_template");
    int rc = 0;
    if (cJSON_IsString(name)) {
        *tpl = chat_template_find(name->valuestring);
        if (!*tpl)
            rc = ERR(e, ERR_FORMAT, "%s: posttrain_template: unknown template \"%.60s\" "
                     "(known: %s)", path, name->valuestring, chat_template_names());
    } else if (name && !cJSON_IsNull(name)) {
        rc = ERR(e, ERR_FORMAT, "%s: posttrain_template: expected a string", path);
    } else if (cJSON_IsString(jinja)) {
        char names[64], *save = NULL;
        snprintf(names, sizeof names, "%s", chat_template_names());
        for (char *s = strtok_r(names, "|", &save); s && !*tpl && !rc;
             s = strtok_r(NULL, "|", &save)) {
            const ChatTemplate *c = chat_template_find(s);
            for (int bos = 0; c && bos < 2 && !*tpl; bos++) {
                char *j = chat_template_jinja(c, bos);
                if (!j) rc = ERR(e, ERR_NOMEM, "out of memory");
                else if (!strcmp(j, jinja->valuestring)) *tpl = c;
                free(j);
            }
        }
        if (!rc && !*tpl)
            rc = ERR(e, ERR_FORMAT, "%s: its chat_template is none of posttrain's templates (%s) "
                     "and there is no posttrain_template field; pass --template", path,
                     chat_template_names());
    } else {
        rc = ERR(e, ERR_FORMAT, "%s: no posttrain_template or chat_template field; pass "
                 "--template %s", path, chat_template_names());
    }
    cJSON_Delete(cfg);
    return rc;
}
