// hf_json.c: loads a Hugging Face `tokenizer.json` whose model is BPE.
//
// The format is the serialization of the Rust `tokenizers` library (huggingface/tokenizers:
// tokenizer/serialization.rs and the serde impls of each normalizer, pre-tokenizer,
// post-processor, decoder and model). The parts read here:
//   { "added_tokens":   [{"id", "content", "special", "lstrip", "rstrip", ...}],
//     "normalizer":     null | NFC | Prepend | Replace | Sequence{normalizers},
//     "pre_tokenizer":  null | ByteLevel | Split | Digits | Metaspace | Whitespace |
//                       WhitespaceSplit | Punctuation | Sequence{pretokenizers},
//     "post_processor": TemplateProcessing / Roberta / Bert / Sequence (for BOS/EOS only),
//     "decoder":        Strip / Metaspace (for the SentencePiece leading space only),
//     "model": {"type": "BPE", "vocab": {key: id}, "merges": ["a b", ...] | [["a", "b"], ...],
//               "unk_token", "byte_fallback", "ignore_merges", ...} }
//
// Two families of BPE vocabularies share the format:
//   byte-level (GPT-2, Llama 3, Qwen, SmolLM2): a ByteLevel pre-tokenizer; vocabulary keys
//     spell bytes with GPT-2's printable alphabet (' ' is "Ġ"); TOK_MODE_BYTES.
//   SentencePiece-style (Llama 2, Mistral): keys are text with ▁ for space and <0xXX> for
//     byte-fallback tokens; TOK_MODE_CHARS, the key is the lookup spelling (tok_set_symbol)
//     and the decoded text the token bytes.
// BOS/EOS come from tokenizer_config.json beside the file when it names them, else from
// the post-processor's template.
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cjson/cJSON.h>

#include "tok/loaders.h"
#include "tok/registry.h"
#include "tok/tok_impl.h"
#include "util/file.h"
#include "util/utf8.h"

#define MAX_ID (1 << 24)  // larger ids are a corrupt file, not a vocabulary
#define MAX_DEPTH 8       // nesting of Sequence normalizers / pre-tokenizers / decoders
#define SPACE_MARK "\xE2\x96\x81"  // ▁ U+2581, SentencePiece's visible space

typedef struct {
    const char *path;
    Tokenizer *t;
    Err *e;
    BytesMap keys;      // vocabulary key as spelled in the JSON -> id (keys borrowed from cJSON)
    uint8_t *is_added;  // (added_cap) 1 for ids that added_tokens defines
    int32_t added_cap;
    uint8_t *scratch;   // room for one decoded key or one merge concatenation
    size_t scratch_cap;
    int32_t tpl_bos, tpl_eos;  // BOS/EOS of the post-processor's template, or -1
} Hf;

// Fills e with "PATH: " + the message and returns -1.
static int fail(Hf *h, ErrCode code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(Hf *h, ErrCode code, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ERR(h->e, code, "%s: %s", h->path, msg);
    return -1;  // (spelled out so that the compiler sees out-parameters are set on 0)
}

static const cJSON *member(const cJSON *o, const char *name) {
    return cJSON_GetObjectItemCaseSensitive(o, name);
}

static bool absent(const cJSON *v) { return !v || cJSON_IsNull(v); }

// An optional boolean member: absent or null gives def.
static int get_bool(Hf *h, const cJSON *o, const char *name, const char *where, bool def,
                    bool *out) {
    const cJSON *v = member(o, name);
    *out = def;
    if (absent(v)) return 0;
    if (!cJSON_IsBool(v)) return fail(h, ERR_FORMAT, "%s.%s: expected true or false", where, name);
    *out = cJSON_IsTrue(v);
    return 0;
}

// An optional string member: absent or null gives NULL.
static int get_string(Hf *h, const cJSON *o, const char *name, const char *where,
                      const char **out) {
    const cJSON *v = member(o, name);
    *out = NULL;
    if (absent(v)) return 0;
    if (!cJSON_IsString(v)) return fail(h, ERR_FORMAT, "%s.%s: expected a string", where, name);
    *out = v->valuestring;
    return 0;
}

// A component's "type" string (where names the component for messages).
static int get_type(Hf *h, const cJSON *o, const char *where, const char **out) {
    if (!cJSON_IsObject(o)) return fail(h, ERR_FORMAT, "%s: expected an object or null", where);
    if (get_string(h, o, "type", where, out)) return -1;
    if (!*out) return fail(h, ERR_FORMAT, "%s.type: missing", where);
    return 0;
}

// A token id: an integer in 0..MAX_ID.
static int get_id(Hf *h, const cJSON *v, const char *where, int32_t *out) {
    *out = -1;
    // Range first: converting an out-of-range double to an integer is undefined.
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 && v->valuedouble <= MAX_ID) ||
        v->valuedouble != (double)(int64_t)v->valuedouble)
        return fail(h, ERR_FORMAT, "%s: expected an integer id in 0..%d", where, MAX_ID);
    *out = (int32_t)v->valuedouble;
    return 0;
}

static int need_scratch(Hf *h, size_t n) {
    if (n <= h->scratch_cap) return 0;
    uint8_t *p = realloc(h->scratch, n);
    if (!p) return ERR(h->e, ERR_NOMEM, "out of memory");
    h->scratch = p;
    h->scratch_cap = n;
    return 0;
}

static int32_t key_id(const Hf *h, const char *s, size_t n) {
    return bytesmap_get(&h->keys, (const uint8_t *)s, n);
}

// The id of a token named in the model, a config or a template: a special first, then
// the vocabulary.
static int32_t named_id(const Hf *h, const char *s) {
    int32_t id = tok_special_id(h->t, s);
    return id >= 0 ? id : key_id(h, s, strlen(s));
}

// Loads one component (a normalizer, pre-tokenizer, decoder or post-processor) at where.
typedef int (*LoadFn)(Hf *h, const cJSON *x, const char *where, int depth);

// HF's Sequence components: runs load on each element of o[list], at "where.list[i]".
static int load_sequence(Hf *h, const cJSON *o, const char *list, const char *where, int depth,
                         LoadFn load) {
    const cJSON *arr = member(o, list), *x;
    if (!cJSON_IsArray(arr)) return fail(h, ERR_FORMAT, "%s.%s: expected an array", where, list);
    if (depth >= MAX_DEPTH) return fail(h, ERR_FORMAT, "%s: nested too deeply", where);
    int i = 0;
    cJSON_ArrayForEach(x, arr) {
        char sub[256];
        snprintf(sub, sizeof sub, "%s.%s[%d]", where, list, i++);
        if (load(h, x, sub, depth + 1)) return -1;
    }
    return 0;
}

// ---- model.vocab -----------------------------------------------------------------------------

// "<0x0A>" -> 0x0A; -1 if key is not a byte-fallback token.
static int byte_token_value(const char *key, size_t len) {
    if (len != 6 || memcmp(key, "<0x", 3) != 0 || key[5] != '>') return -1;
    int v = 0;
    for (int i = 3; i < 5; i++) {
        char c = key[i];
        int d = c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10
              : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

// Byte-level key -> token bytes. A key outside the alphabet cannot come out of byte-level
// BPE (some files list added tokens such as "<｜begin▁of▁sentence｜>" in the vocabulary
// too); it keeps its UTF-8 spelling so that decoding still shows it.
static int set_byte_level_token(Hf *h, int32_t id, const char *key, size_t len) {
    if (need_scratch(h, len)) return -1;
    int n = tok_byte_level_decode(key, len, h->scratch);
    if (n < 0) return tok_set_token(h->t, id, key, len, h->e);
    if (n == 1 && h->t->byte_id[h->scratch[0]] < 0) h->t->byte_id[h->scratch[0]] = id;
    return tok_set_token(h->t, id, h->scratch, (size_t)n, h->e);
}

// SentencePiece-style key: looked up as spelled ("▁the"), decoded as text (" the"), and
// "<0xXX>" decodes to that byte.
static int set_sp_token(Hf *h, int32_t id, const char *key, size_t len) {
    if (tok_set_symbol(h->t, id, key, len, h->e)) return -1;
    int b = byte_token_value(key, len);
    if (b >= 0) {
        uint8_t byte = (uint8_t)b;
        return tok_set_token(h->t, id, &byte, 1, h->e);
    }
    if (need_scratch(h, len)) return -1;
    size_t n = 0;
    for (size_t i = 0; i < len;) {
        if (len - i >= 3 && memcmp(key + i, SPACE_MARK, 3) == 0) {
            h->scratch[n++] = ' ';
            i += 3;
        } else {
            h->scratch[n++] = (uint8_t)key[i++];
        }
    }
    return tok_set_token(h->t, id, h->scratch, n, h->e);
}

static int load_vocab(Hf *h, const cJSON *model) {
    const cJSON *vocab = member(model, "vocab");
    if (!cJSON_IsObject(vocab))
        return fail(h, ERR_FORMAT, "model.vocab: %s", vocab ? "expected an object {token: id}"
                                                            : "missing");
    int n = cJSON_GetArraySize(vocab);
    if (n == 0) return fail(h, ERR_FORMAT, "model.vocab: empty");
    if (bytesmap_init(&h->keys, (size_t)n)) return ERR(h->e, ERR_NOMEM, "out of memory");
    const cJSON *v;
    cJSON_ArrayForEach(v, vocab) {
        const char *key = v->string;
        size_t len = strlen(key);
        char where[96];
        snprintf(where, sizeof where, "model.vocab[\"%.40s\"]", key);
        int32_t id;
        if (get_id(h, v, where, &id)) return -1;
        if (len == 0) return fail(h, ERR_FORMAT, "model.vocab: empty token (id %d)", id);
        if (key_id(h, key, len) >= 0)
            return fail(h, ERR_FORMAT, "%s: the key appears twice", where);
        if (bytesmap_put(&h->keys, (const uint8_t *)key, len, id))
            return ERR(h->e, ERR_NOMEM, "out of memory");
        if (id < h->added_cap && h->is_added[id]) continue;  // added_tokens defines it
        if (id < h->t->n_vocab && h->t->tok_off[id] != UINT32_MAX)
            return fail(h, ERR_FORMAT, "%s: id %d is used by another key too", where, id);
        int rc = h->t->mode == TOK_MODE_BYTES ? set_byte_level_token(h, id, key, len)
                                              : set_sp_token(h, id, key, len);
        if (rc) return -1;
    }
    return 0;
}

// ---- model.merges ---------------------------------------------------------------------------

// One merge: the pair's ids and the id of their concatenation.
static int add_merge(Hf *h, size_t i, const char *a, size_t alen, const char *b, size_t blen) {
    int32_t ia = key_id(h, a, alen), ib = key_id(h, b, blen);
    if (ia < 0 || ib < 0) {
        const char *miss = ia < 0 ? a : b;
        int mlen = (int)(ia < 0 ? alen : blen);
        return fail(h, ERR_FORMAT, "model.merges[%zu]: \"%.*s\" is not in model.vocab", i,
                    mlen > 40 ? 40 : mlen, miss);
    }
    if (need_scratch(h, alen + blen)) return -1;
    memcpy(h->scratch, a, alen);
    memcpy(h->scratch + alen, b, blen);
    int32_t into = key_id(h, (const char *)h->scratch, alen + blen);
    if (into < 0)
        return fail(h, ERR_FORMAT, "model.merges[%zu]: the merged token \"%.*s\" is not in "
                    "model.vocab", i, (int)(alen + blen > 40 ? 40 : alen + blen), h->scratch);
    if (pairmap_put(&h->t->merges, ia, ib, into, (int32_t)i))
        return ERR(h->e, ERR_NOMEM, "out of memory");
    return 0;
}

// A merge is "a b" (exactly one space: keys never hold a plain space) or, since
// tokenizers 0.20, ["a", "b"].
static int load_merge(Hf *h, size_t i, const cJSON *m) {
    if (cJSON_IsString(m)) {
        const char *s = m->valuestring, *sp = strchr(s, ' ');
        if (sp && sp > s && sp[1] && !strchr(sp + 1, ' '))
            return add_merge(h, i, s, (size_t)(sp - s), sp + 1, strlen(sp + 1));
    } else if (cJSON_IsArray(m) && cJSON_GetArraySize(m) == 2) {
        const cJSON *a = cJSON_GetArrayItem(m, 0), *b = cJSON_GetArrayItem(m, 1);
        if (cJSON_IsString(a) && cJSON_IsString(b) && a->valuestring[0] && b->valuestring[0])
            return add_merge(h, i, a->valuestring, strlen(a->valuestring), b->valuestring,
                             strlen(b->valuestring));
    }
    return fail(h, ERR_FORMAT, "model.merges[%zu]: expected \"a b\" or [a, b]", i);
}

static int load_merges(Hf *h, const cJSON *model) {
    const cJSON *merges = member(model, "merges");
    if (!cJSON_IsArray(merges))
        return fail(h, ERR_FORMAT, "model.merges: %s", merges ? "expected an array" : "missing");
    size_t n = (size_t)cJSON_GetArraySize(merges), i = 0;
    if (pairmap_init(&h->t->merges, n ? n : 1)) return ERR(h->e, ERR_NOMEM, "out of memory");
    const cJSON *m;
    cJSON_ArrayForEach(m, merges) {
        if (load_merge(h, i++, m)) return -1;
    }
    return 0;
}

// ---- the rest of model ----------------------------------------------------------------------

// model.type must be BPE (files from before tokenizers 0.9 omit it; merges says BPE).
static int check_model(Hf *h, const cJSON *model) {
    const char *type;
    if (get_string(h, model, "type", "model", &type)) return -1;
    if (!type && !member(model, "merges")) return fail(h, ERR_FORMAT, "model.type: missing");
    if (type && strcmp(type, "BPE") != 0)
        return fail(h, ERR_UNSUPPORTED, "model.type: %s is not supported (only BPE)", type);
    // Word-suffix BPE (CLIP, old subword-nmt exports) splices markers into words.
    static const char *affixes[] = {"continuing_subword_prefix", "end_of_word_suffix"};
    for (int i = 0; i < 2; i++) {
        const char *s;
        if (get_string(h, model, affixes[i], "model", &s)) return -1;
        if (s && *s) return fail(h, ERR_UNSUPPORTED, "model.%s: \"%s\" is not supported",
                                 affixes[i], s);
    }
    return 0;
}

// unk_token, byte_fallback, ignore_merges. (dropout is a training-time option and is not
// applied: encoding stays deterministic.)
static int load_model_options(Hf *h, const cJSON *model) {
    Tokenizer *t = h->t;
    bool byte_fallback, ignore_merges;
    const char *unk;
    if (get_bool(h, model, "byte_fallback", "model", false, &byte_fallback) ||
        get_bool(h, model, "ignore_merges", "model", false, &ignore_merges) ||
        get_string(h, model, "unk_token", "model", &unk))
        return -1;
    t->whole_piece_first = ignore_merges;
    // An unk_token missing from the vocabulary is tolerated, as HF does until it is needed.
    if (unk) t->unk_id = named_id(h, unk);
    if (byte_fallback && t->mode == TOK_MODE_CHARS) {
        for (int b = 0; b < 256; b++) {
            char name[8];
            snprintf(name, sizeof name, "<0x%02X>", b);
            t->byte_id[b] = key_id(h, name, 6);
        }
    }
    return 0;
}

// ---- added_tokens ---------------------------------------------------------------------------

// First pass: check each entry's id and remember which ids are added tokens.
static int scan_added(Hf *h, const cJSON *added) {
    if (absent(added)) return 0;
    if (!cJSON_IsArray(added)) return fail(h, ERR_FORMAT, "added_tokens: expected an array");
    int32_t max = -1;
    const cJSON *a;
    int i = 0;
    cJSON_ArrayForEach(a, added) {
        char where[48];
        snprintf(where, sizeof where, "added_tokens[%d].id", i++);
        if (!cJSON_IsObject(a))
            return fail(h, ERR_FORMAT, "added_tokens[%d]: expected an object", i - 1);
        int32_t id;
        if (get_id(h, member(a, "id"), where, &id)) return -1;
        if (id > max) max = id;
    }
    h->added_cap = max + 1;
    h->is_added = calloc((size_t)h->added_cap + 1, 1);
    if (!h->is_added) return ERR(h->e, ERR_NOMEM, "out of memory");
    cJSON_ArrayForEach(a, added) h->is_added[(int32_t)member(a, "id")->valuedouble] = 1;
    return 0;
}

// Second pass, after the vocabulary. The project's rule: non-special added tokens (words a
// user added) match in any text, special ones only where the caller allows specials; so
// always = !special.
static int add_added(Hf *h, const cJSON *added) {
    if (absent(added)) return 0;
    const cJSON *a;
    int i = 0;
    cJSON_ArrayForEach(a, added) {
        char where[48];
        snprintf(where, sizeof where, "added_tokens[%d]", i++);
        const char *content;
        bool special, lstrip, rstrip;
        if (get_string(h, a, "content", where, &content) ||
            get_bool(h, a, "special", where, false, &special) ||
            get_bool(h, a, "lstrip", where, false, &lstrip) ||
            get_bool(h, a, "rstrip", where, false, &rstrip))
            return -1;
        if (!content || !*content)
            return fail(h, ERR_FORMAT, "%s.content: expected a non-empty string", where);
        int32_t id = (int32_t)member(a, "id")->valuedouble;
        if (tok_add_special_ex(h->t, content, strlen(content), id, !special, lstrip, rstrip, h->e))
            return err_prefix(h->e, "%s: %s: ", h->path, where);
    }
    return 0;
}

// ---- normalizer -----------------------------------------------------------------------------

static int load_normalizer(Hf *h, const cJSON *n, const char *where, int depth) {
    if (absent(n)) return 0;
    const char *type;
    if (get_type(h, n, where, &type)) return -1;
    if (!strcmp(type, "Sequence"))
        return load_sequence(h, n, "normalizers", where, depth, load_normalizer);
    if (!strcmp(type, "NFC")) {
        h->t->nfc = true;
        return 0;
    }
    if (!strcmp(type, "Prepend")) {  // SentencePiece's dummy prefix
        const char *p;
        if (get_string(h, n, "prepend", where, &p)) return -1;
        if (!p || strcmp(p, SPACE_MARK) != 0)
            return fail(h, ERR_UNSUPPORTED, "%s.prepend: only \"" SPACE_MARK "\" is supported",
                        where);
        h->t->sp_prepend = true;
        return 0;
    }
    if (!strcmp(type, "Replace")) {  // SentencePiece's ' ' -> ▁
        const cJSON *pat = member(n, "pattern");
        const char *from = NULL, *to;
        if (cJSON_IsObject(pat) && get_string(h, pat, "String", where, &from)) return -1;
        if (get_string(h, n, "content", where, &to)) return -1;
        if (!from || !to || strcmp(from, " ") != 0 || strcmp(to, SPACE_MARK) != 0)
            return fail(h, ERR_UNSUPPORTED,
                        "%s: only Replace(\" \", \"" SPACE_MARK "\") is supported", where);
        h->t->sp_replace_space = true;
        return 0;
    }
    return fail(h, ERR_UNSUPPORTED, "%s.type: %s is not supported", where, type);
}

// ---- pre_tokenizer --------------------------------------------------------------------------

// Adds a split step with HF's behavior.
static int add_split(Hf *h, const char *pattern, bool invert, TokSplitBehavior b,
                     const char *where) {
    if (tok_add_split(h->t, pattern, invert, h->e))
        return err_prefix(h->e, "%s: %s: ", h->path, where);
    h->t->splits[h->t->n_splits - 1].behavior = b;
    return 0;
}

static int parse_behavior(Hf *h, const cJSON *o, const char *where, TokSplitBehavior *out) {
    static const char *names[] = {"Isolated", "Removed", "MergedWithPrevious", "MergedWithNext",
                                  "Contiguous"};
    const char *s;
    if (get_string(h, o, "behavior", where, &s)) return -1;
    if (!s) return fail(h, ERR_FORMAT, "%s.behavior: missing", where);
    for (int i = 0; i < 5; i++)
        if (!strcmp(s, names[i])) {
            *out = (TokSplitBehavior)i;
            return 0;
        }
    return fail(h, ERR_FORMAT, "%s.behavior: unknown behavior %s", where, s);
}

// A literal string as a PCRE2 pattern: ASCII punctuation escaped, the rest as is.
static char *escape_literal(const char *s) {
    Buf b = {0};
    for (; *s; s++) {
        char c = *s;
        if ((unsigned char)c < 0x80 && !(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z') &&
            !(c >= 'A' && c <= 'Z'))
            buf_putc(&b, '\\');
        buf_putc(&b, c);
    }
    if (!b.data) buf_reserve(&b, 0);
    return b.data;
}

static int load_split(Hf *h, const cJSON *p, const char *where) {
    const cJSON *pat = member(p, "pattern");
    const char *re = NULL, *lit = NULL;
    if (cJSON_IsObject(pat) &&
        (get_string(h, pat, "Regex", where, &re) || get_string(h, pat, "String", where, &lit)))
        return -1;
    if (!re && !lit)
        return fail(h, ERR_FORMAT, "%s.pattern: expected {\"Regex\": ...} or {\"String\": ...}",
                    where);
    TokSplitBehavior b;
    bool invert;
    if (parse_behavior(h, p, where, &b) || get_bool(h, p, "invert", where, false, &invert))
        return -1;
    if (re) return add_split(h, re, invert, b, where);
    if (!*lit) return fail(h, ERR_FORMAT, "%s.pattern.String: empty", where);
    char *esc = escape_literal(lit);
    if (!esc) return ERR(h->e, ERR_NOMEM, "out of memory");
    int rc = add_split(h, esc, invert, b, where);
    free(esc);
    return rc;
}

// ByteLevel: GPT-2's split (use_regex) and a leading space (add_prefix_space). HF adds that
// space to each piece of the steps before it; the engine adds it per segment, which is
// the same only when ByteLevel comes first.
static int load_byte_level(Hf *h, const cJSON *p, const char *where) {
    bool prefix, use_regex;
    if (get_bool(h, p, "add_prefix_space", where, true, &prefix) ||
        get_bool(h, p, "use_regex", where, true, &use_regex))
        return -1;
    if (prefix && h->t->n_splits > 0)
        return fail(h, ERR_UNSUPPORTED, "%s.add_prefix_space: true after another pre-tokenizer "
                    "is not supported", where);
    h->t->byte_level_prefix_space = prefix;
    if (!use_regex) return 0;
    return add_split(h, tok_builtin_pattern("gpt2"), false, TOK_SPLIT_ISOLATED, where);
}

// Metaspace: ' ' -> ▁, a ▁ in front (prepend_scheme, or the older add_prefix_space), and
// with split, one piece per word (each ▁ starts a piece).
static int load_metaspace(Hf *h, const cJSON *p, const char *where) {
    Tokenizer *t = h->t;
    const char *rep, *scheme;
    bool legacy_prefix, split;
    if (get_string(h, p, "replacement", where, &rep) ||
        get_string(h, p, "prepend_scheme", where, &scheme) ||
        get_bool(h, p, "add_prefix_space", where, true, &legacy_prefix) ||
        get_bool(h, p, "split", where, true, &split))
        return -1;
    if (!rep || strcmp(rep, SPACE_MARK) != 0)
        return fail(h, ERR_UNSUPPORTED, "%s.replacement: only \"" SPACE_MARK "\" is supported",
                    where);
    if (t->mode != TOK_MODE_CHARS || t->n_splits > 0)
        return fail(h, ERR_UNSUPPORTED, "%s: Metaspace is supported only as the first "
                    "pre-tokenizer of a SentencePiece-style vocabulary", where);
    if (!scheme) scheme = legacy_prefix ? "always" : "never";
    if (strcmp(scheme, "always") && strcmp(scheme, "first") && strcmp(scheme, "never"))
        return fail(h, ERR_FORMAT, "%s.prepend_scheme: expected always, first or never", where);
    t->sp_replace_space = true;
    if (strcmp(scheme, "never") != 0) {
        t->sp_prepend = t->sp_prepend_if_missing = true;
        t->sp_prepend_first = !strcmp(scheme, "first");
    }
    return split ? add_split(h, SPACE_MARK, false, TOK_SPLIT_MERGED_NEXT, where) : 0;
}

// Each step becomes a split of the engine; their order is kept (HF runs each step on the
// pieces of the previous one, and so does encode.c).
static int load_pretok(Hf *h, const cJSON *p, const char *where, int depth) {
    if (absent(p)) return 0;
    const char *type;
    if (get_type(h, p, where, &type)) return -1;
    if (!strcmp(type, "Sequence"))
        return load_sequence(h, p, "pretokenizers", where, depth, load_pretok);
    if (!strcmp(type, "Split")) return load_split(h, p, where);
    if (!strcmp(type, "ByteLevel")) return load_byte_level(h, p, where);
    if (!strcmp(type, "Metaspace")) return load_metaspace(h, p, where);
    if (!strcmp(type, "Digits")) {
        bool single;
        if (get_bool(h, p, "individual_digits", where, false, &single)) return -1;
        // Rust's char::is_numeric is \p{N}: the digits of every script, not just 0-9.
        return add_split(h, single ? "\\p{N}" : "\\p{N}+", false, TOK_SPLIT_ISOLATED, where);
    }
    if (!strcmp(type, "Whitespace"))  // keep words and punctuation runs, drop spaces
        return add_split(h, "\\w+|[^\\w\\s]+", true, TOK_SPLIT_REMOVED, where);
    if (!strcmp(type, "WhitespaceSplit"))
        return add_split(h, "\\s+", false, TOK_SPLIT_REMOVED, where);
    if (!strcmp(type, "Punctuation")) {  // HF is_punc: Unicode P or ASCII punctuation
        TokSplitBehavior b = TOK_SPLIT_ISOLATED;
        if (member(p, "behavior") && parse_behavior(h, p, where, &b)) return -1;
        return add_split(h, "[\\p{P}!-/:-@\\[-`{-~]", false, b, where);
    }
    return fail(h, ERR_UNSUPPORTED, "%s.type: %s is not supported", where, type);
}

// ---- decoder --------------------------------------------------------------------------------

// Only one decoder effect is not implied by the token bytes: dropping the leading space that
// SentencePiece's dummy prefix adds (Strip(" ", start=1) or Metaspace with a prepend scheme).
static int load_decoder(Hf *h, const cJSON *d, const char *where, int depth) {
    if (absent(d)) return 0;
    const char *type;
    if (get_type(h, d, where, &type)) return -1;
    if (!strcmp(type, "Sequence"))
        return load_sequence(h, d, "decoders", where, depth, load_decoder);
    if (!strcmp(type, "Strip")) {
        const char *content;
        const cJSON *start = member(d, "start"), *stop = member(d, "stop");
        if (get_string(h, d, "content", where, &content)) return -1;
        if (!cJSON_IsNumber(start) || (stop && !cJSON_IsNumber(stop)))
            return fail(h, ERR_FORMAT, "%s: expected numbers start and stop", where);
        if (start->valueint > 1 || (stop && stop->valueint != 0) || !content ||
            strcmp(content, " ") != 0)
            return fail(h, ERR_UNSUPPORTED, "%s: only Strip(\" \", start=1, stop=0) is supported",
                        where);
        if (start->valueint == 1) h->t->decode_strip_space = true;
        return 0;
    }
    if (!strcmp(type, "Metaspace")) {
        const char *scheme;
        bool legacy_prefix;
        if (get_string(h, d, "prepend_scheme", where, &scheme) ||
            get_bool(h, d, "add_prefix_space", where, true, &legacy_prefix))
            return -1;
        h->t->decode_strip_space = scheme ? strcmp(scheme, "never") != 0 : legacy_prefix;
    }
    return 0;  // ByteLevel, Replace(▁), ByteFallback, Fuse: the token bytes already say it
}

// ---- BOS / EOS ------------------------------------------------------------------------------

// tokenizer_config.json's bos_token / eos_token: "<s>", {"content": "<s>", ...} or null.
static int config_token(Hf *h, const char *cpath, const cJSON *cfg, const char *field,
                        int32_t *id) {
    const cJSON *v = member(cfg, field);
    if (absent(v)) return 0;
    if (cJSON_IsObject(v)) v = member(v, "content");
    if (!cJSON_IsString(v))
        return ERR(h->e, ERR_FORMAT, "%s: %s: expected a string or {\"content\": string}", cpath,
                   field);
    *id = named_id(h, v->valuestring);
    if (*id < 0)
        return ERR(h->e, ERR_FORMAT, "%s: %s: \"%.60s\" is not a token of %s", cpath, field,
                   v->valuestring, h->path);
    return 0;
}

static int load_config(Hf *h, int32_t *bos, int32_t *eos) {
    char cpath[4096];
    const char *slash = strrchr(h->path, '/');
    int dir = slash ? (int)(slash - h->path + 1) : 0;
    int n = snprintf(cpath, sizeof cpath, "%.*stokenizer_config.json", dir, h->path);
    if (n >= (int)sizeof cpath || !file_exists(cpath)) return 0;
    char *data;
    size_t len;
    if (file_read_all(cpath, &data, &len, h->e)) return -1;
    cJSON *cfg = cJSON_ParseWithLength(data, len);
    free(data);
    int rc = -1;
    if (!cJSON_IsObject(cfg)) ERR(h->e, ERR_FORMAT, "%s: not a JSON object", cpath);
    else if (!config_token(h, cpath, cfg, "bos_token", bos) &&
             !config_token(h, cpath, cfg, "eos_token", eos))
        rc = 0;
    cJSON_Delete(cfg);
    return rc;
}

// A TemplateProcessing special token: its id from "special_tokens", else by name.
static int template_id(Hf *h, const cJSON *pp, const cJSON *item, const char *where, int32_t *id) {
    const char *name;
    if (get_string(h, item, "id", where, &name)) return -1;
    if (!name) return fail(h, ERR_FORMAT, "%s.id: missing", where);
    const cJSON *st = member(member(pp, "special_tokens"), name);
    const cJSON *ids = member(st, "ids");
    if (cJSON_IsArray(ids) && cJSON_GetArraySize(ids) >= 1)
        return get_id(h, cJSON_GetArrayItem(ids, 0), where, id);
    *id = named_id(h, name);
    if (*id < 0) return fail(h, ERR_FORMAT, "%s.id: \"%.60s\" is not a token", where, name);
    return 0;
}

// "single": [{"SpecialToken": BOS}, {"Sequence": A}, {"SpecialToken": EOS}]
static int template_bos_eos(Hf *h, const cJSON *pp, const char *where) {
    const cJSON *single = member(pp, "single");
    if (!cJSON_IsArray(single)) return fail(h, ERR_FORMAT, "%s.single: expected an array", where);
    bool seen_seq = false;
    const cJSON *x;
    int i = 0;
    cJSON_ArrayForEach(x, single) {
        char sub[256];
        snprintf(sub, sizeof sub, "%s.single[%d]", where, i++);
        const cJSON *sp = member(x, "SpecialToken");
        if (member(x, "Sequence")) {
            seen_seq = true;
        } else if (cJSON_IsObject(sp)) {
            int32_t id = -1;
            if (template_id(h, pp, sp, sub, &id)) return -1;
            if (!seen_seq) h->tpl_bos = id;
            else if (h->tpl_eos < 0) h->tpl_eos = id;
        } else {
            return fail(h, ERR_FORMAT,
                        "%s: expected {\"SpecialToken\": ...} or {\"Sequence\": ...}", sub);
        }
    }
    return 0;
}

// Roberta/Bert: "cls": ["<s>", 0], "sep": ["</s>", 2].
static int pair_id(Hf *h, const cJSON *pp, const char *field, const char *where, int32_t *id) {
    const cJSON *v = member(pp, field);
    char sub[256];
    snprintf(sub, sizeof sub, "%s.%s", where, field);
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 2)
        return fail(h, ERR_FORMAT, "%s: expected [token, id]", sub);
    return get_id(h, cJSON_GetArrayItem(v, 1), sub, id);
}

// Sets tpl_bos / tpl_eos from a post-processor (others, such as ByteLevel, add no tokens).
static int load_post_processor(Hf *h, const cJSON *pp, const char *where, int depth) {
    if (absent(pp)) return 0;
    const char *type;
    if (get_type(h, pp, where, &type)) return -1;
    if (!strcmp(type, "TemplateProcessing")) return template_bos_eos(h, pp, where);
    if (!strcmp(type, "RobertaProcessing") || !strcmp(type, "BertProcessing"))
        return pair_id(h, pp, "cls", where, &h->tpl_bos) ||
                       pair_id(h, pp, "sep", where, &h->tpl_eos)
                   ? -1
                   : 0;
    if (!strcmp(type, "Sequence"))
        return load_sequence(h, pp, "processors", where, depth, load_post_processor);
    return 0;
}

// tokenizer_config.json wins where it names a token; the template fills the rest.
static int load_bos_eos(Hf *h, const cJSON *root) {
    int32_t bos = -1, eos = -1;
    if (load_config(h, &bos, &eos) ||
        load_post_processor(h, member(root, "post_processor"), "post_processor", 0))
        return -1;
    h->t->bos_id = bos >= 0 ? bos : h->tpl_bos;
    h->t->eos_id = eos >= 0 ? eos : h->tpl_eos;
    return 0;
}

// ---- the whole file -------------------------------------------------------------------------

// Byte-level when a ByteLevel pre-tokenizer maps the text to GPT-2's alphabet.
static bool has_byte_level(const cJSON *p, int depth) {
    if (!cJSON_IsObject(p) || depth > MAX_DEPTH) return false;
    const cJSON *type = member(p, "type");
    if (cJSON_IsString(type) && !strcmp(type->valuestring, "ByteLevel")) return true;
    const cJSON *x;
    cJSON_ArrayForEach(x, member(p, "pretokenizers")) if (has_byte_level(x, depth + 1)) return true;
    return false;
}

static int build(Hf *h, const cJSON *root) {
    if (!cJSON_IsObject(root)) return fail(h, ERR_FORMAT, "expected a JSON object");
    const cJSON *model = member(root, "model");
    if (!cJSON_IsObject(model))
        return fail(h, ERR_FORMAT, "model: %s", model ? "expected an object" : "missing");
    if (check_model(h, model)) return -1;
    const cJSON *pre = member(root, "pre_tokenizer"), *added = member(root, "added_tokens");
    const char *slash = strrchr(h->path, '/');
    TokMode mode = has_byte_level(pre, 0) ? TOK_MODE_BYTES : TOK_MODE_CHARS;
    h->t = tok_new(slash ? slash + 1 : h->path, mode);
    if (!h->t) return ERR(h->e, ERR_NOMEM, "out of memory");
    if (scan_added(h, added) || load_vocab(h, model) || load_merges(h, model) ||
        add_added(h, added) || load_model_options(h, model) ||
        load_normalizer(h, member(root, "normalizer"), "normalizer", 0) ||
        load_pretok(h, pre, "pre_tokenizer", 0) ||
        load_decoder(h, member(root, "decoder"), "decoder", 0) || tok_build_lookup(h->t, h->e) ||
        load_bos_eos(h, root))
        return -1;
    return 0;
}

// Parses the file; a syntax error names its line and column.
static cJSON *parse(Hf *h, const char *data, size_t len) {
    const char *end = data;
    cJSON *root = cJSON_ParseWithLengthOpts(data, len, &end, false);
    if (root) return root;
    if (!end || end < data || end > data + len) end = data;
    int line = 1, col = 1;
    for (const char *p = data; p < end; p++, col++)
        if (*p == '\n') line++, col = 0;
    fail(h, ERR_FORMAT, "invalid JSON at line %d, column %d", line, col);
    return NULL;
}

int tok_load_hf_json(Tokenizer **out, const char *path, Err *e) {
    char *data;
    size_t len;
    if (file_read_all(path, &data, &len, e)) return -1;
    Hf h = {.path = path, .e = e, .tpl_bos = -1, .tpl_eos = -1};
    cJSON *root = parse(&h, data, len);
    free(data);
    if (!root) return -1;
    int rc = build(&h, root);
    cJSON_Delete(root);
    bytesmap_free(&h.keys);
    free(h.is_added);
    free(h.scratch);
    if (rc) {
        tok_free(h.t);
        return -1;
    }
    *out = h.t;
    return 0;
}
