// test_tok_loaders.c: the tokenizer.json, encoder.json + vocab.bpe and llama2.c loaders.
//   - error paths: truncated or inconsistent llama2.c files, tokenizer.json with a missing
//     model, bad merges, wrong types, unsupported components, a bad tokenizer_config.json,
//     encoder.json without vocab.bpe: each load fails with a message naming the file and
//     the field (and, under `make asan`, without leaks);
//   - behaviour the shared data cannot show: llama2.c merge ties, HF Split behaviors,
//     Metaspace (prepend_scheme, split), BOS/EOS from the config or the template.
// Writes its files into a fresh temporary directory. Prints one line per check.
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tok/tok.h"
#include "util/file.h"
#include "check.h"

static char dir[64];


// ---- files ----------------------------------------------------------------------------------

typedef struct {
    char s[256];
} Path;

// dir/name
static Path path_of(const char *name) {
    Path p;
    snprintf(p.s, sizeof p.s, "%s/%s", dir, name);
    return p;
}

static void put(const char *name, const void *data, size_t len) {
    FILE *f = fopen(path_of(name).s, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        perror(name);
        exit(1);
    }
    fclose(f);
}

static void put_str(const char *name, const char *s) { put(name, s, strlen(s)); }

// Loads path and expects an error whose message holds every one of the strings.
static void expect_error(const char *what, const char *path, ...) {
    Tokenizer *t = NULL;
    Err e = {0};
    int rc = tok_load(&t, path, NULL, &e);
    bool ok = rc != 0 && t == NULL;
    va_list ap;
    va_start(ap, path);
    for (const char *s; (s = va_arg(ap, const char *));) ok = ok && strstr(e.msg, s);
    va_end(ap);
    CHECK(ok, "%s: %s", what, rc ? e.msg : "(loaded without error)");
    tok_free(t);
}

static Tokenizer *load_ok(const char *what, const char *path) {
    Tokenizer *t = NULL;
    Err e = {0};
    int rc = tok_load(&t, path, NULL, &e);
    CHECK(rc == 0, "%s loads%s%s", what, rc ? ": " : "", rc ? e.msg : "");
    return rc ? NULL : t;
}

// Encodes text and compares with the ids in want ("4 1 5").
static void expect_ids(Tokenizer *t, const char *what, const char *text, int flags, const char *want) {
    IntVec v = {0};
    Err e = {0};
    char got[512] = "";
    if (tok_encode(t, text, strlen(text), flags, &v, &e)) snprintf(got, sizeof got, "error: %.400s", e.msg);
    for (size_t i = 0, n = 0; i < v.len && n < sizeof got - 12; i++)
        n += (size_t)snprintf(got + n, sizeof got - n, i ? " %d" : "%d", v.data[i]);
    CHECK(strcmp(got, want) == 0, "%s: \"%s\" -> [%s] (want [%s])", what, text, got, want);
    ivec_free(&v);
}

static void expect_decode(Tokenizer *t, const char *what, const int32_t *ids, size_t n, const char *want) {
    Buf b = {0};
    Err e = {0};
    int rc = tok_decode(t, ids, n, &b, &e);
    CHECK(rc == 0 && b.len == strlen(want) && memcmp(b.data, want, b.len) == 0,
          "%s: decodes to \"%.*s\" (want \"%s\")", what, rc ? 0 : (int)b.len, rc ? "" : b.data, want);
    buf_free(&b);
}

// ---- llama2.c tokenizer.bin -----------------------------------------------------------------

typedef struct {
    Buf b;
} Bin;

static void bin_token(Bin *w, float score, const char *s, int32_t len) {
    buf_append(&w->b, &score, 4);
    buf_append(&w->b, &len, 4);
    buf_append(&w->b, s, strlen(s));
}

// A small llama2.c vocabulary: the 259 fixed tokens, then " ", "a", "b", "c", "ab", "bc"
// (ids 259..264) with the scores given for ab and bc.
static void make_llama2c(Bin *w, float ab, float bc) {
    int32_t max_len = 7;
    w->b.len = 0;
    buf_append(&w->b, &max_len, 4);
    bin_token(w, 0, "<unk>", 5);
    bin_token(w, 0, "\n<s>\n", 5);
    bin_token(w, 0, "\n</s>\n", 6);
    for (int i = 0; i < 256; i++) {
        char s[8];
        snprintf(s, sizeof s, "<0x%02X>", i);
        bin_token(w, 0, s, 6);
    }
    const char *rest[] = {" ", "a", "b", "c", "ab", "bc"};
    float score[] = {-1, -2, -3, -4, ab, bc};
    for (int i = 0; i < 6; i++) bin_token(w, score[i], rest[i], (int32_t)strlen(rest[i]));
}

static void test_llama2c(void) {
    Bin w = {0};
    Path path = path_of("tok.bin");
    const char *p = path.s;
    put_str("tok.bin", "");
    expect_error("llama2c: empty file", p, "tok.bin", "header: max_token_length", NULL);
    int32_t zero = 0;
    put("tok.bin", &zero, 4);
    expect_error("llama2c: max_token_length 0", p, "tok.bin", "max_token_length: 0", NULL);

    make_llama2c(&w, -5, -6);
    size_t full = w.b.len;
    put("tok.bin", w.b.data, 4 + 2);  // cut inside token 0's score
    expect_error("llama2c: truncated score", p, "tok.bin", "token 0: score", "truncated", NULL);
    put("tok.bin", w.b.data, 4 + 6);  // inside token 0's len
    expect_error("llama2c: truncated len", p, "tok.bin", "token 0: len", "truncated", NULL);
    put("tok.bin", w.b.data, full - 1);  // inside the last token's text
    expect_error("llama2c: truncated text", p, "tok.bin", "token 264: text", "truncated", NULL);
    put("tok.bin", w.b.data, 4 + 8 + 5 + 8 + 5);  // only two tokens
    expect_error("llama2c: too few tokens", p, "tok.bin", "only 2 tokens", NULL);

    Bin bad = {0};
    make_llama2c(&bad, -5, -6);
    int32_t neg = -3;
    memcpy(bad.b.data + 4 + 4, &neg, 4);  // token 0's len
    put("tok.bin", bad.b.data, bad.b.len);
    expect_error("llama2c: negative len", p, "tok.bin", "token 0: len: -3", NULL);
    make_llama2c(&bad, -5, -6);
    size_t off = 4 + (8 + 5) + (8 + 5) + (8 + 6) + 2 * (8 + 6) + 8;  // token 5's text
    memcpy(bad.b.data + off, "<0x77>", 6);
    put("tok.bin", bad.b.data, bad.b.len);
    expect_error("llama2c: byte token out of place", p, "tok.bin", "token 5: text",
                 "expected the byte token <0x02>", NULL);
    int32_t big = 99;
    make_llama2c(&bad, -5, -6);
    memcpy(bad.b.data + 4 + 4, &big, 4);
    put("tok.bin", bad.b.data, bad.b.len);
    expect_error("llama2c: len beyond max_token_length", p, "tok.bin", "token 0: len: 99",
                 "max_token_length (7)", NULL);
    buf_free(&bad.b);

    // run.c merges the pair with the strictly highest score, the leftmost on a tie.
    // " abc": [" ", a, b, c]; ab and bc score alike -> (ab)(c); bc higher -> (a)(bc).
    make_llama2c(&w, -5, -5);
    put("tok.bin", w.b.data, w.b.len);
    Tokenizer *t = load_ok("llama2c: small vocabulary", p);
    if (t) {
        expect_ids(t, "llama2c tie", "abc", 0, "259 263 262");
        expect_ids(t, "llama2c byte fallback", "a\xC3\xA9", 0, "259 260 198 172");
        expect_ids(t, "llama2c specials as text", "<s>", 0, "259 63 118 65");
        expect_ids(t, "llama2c specials allowed", "<s>", TOK_ALLOW_SPECIAL | TOK_ADD_EOS, "1 2");
        int32_t ids[] = {1, 259, 263, 262, 36};  // 36: the byte token of '!'
        expect_decode(t, "llama2c", ids + 1, 4, "abc!");
        expect_decode(t, "llama2c after BOS", ids, 4, "<s> abc");
        CHECK(tok_bos_id(t) == 1 && tok_eos_id(t) == 2, "llama2c: BOS 1, EOS 2");
        tok_free(t);
    }
    make_llama2c(&w, -6, -5);
    put("tok.bin", w.b.data, w.b.len);
    if ((t = load_ok("llama2c: bc scored higher", p))) {
        expect_ids(t, "llama2c higher score wins", "abc", 0, "259 260 264");
        tok_free(t);
    }
    buf_free(&w.b);
}

// ---- tokenizer.json -------------------------------------------------------------------------

// A SentencePiece-style model with the given pre_tokenizer / normalizer / decoder JSON.
static void put_sp_json(const char *normalizer, const char *pre, const char *decoder) {
    char s[4096];
    snprintf(s, sizeof s,
             "{\"added_tokens\": [{\"id\": 0, \"content\": \"<unk>\", \"special\": true},"
             " {\"id\": 7, \"content\": \"<s>\", \"special\": true}],\n"
             " \"normalizer\": %s, \"pre_tokenizer\": %s, \"decoder\": %s,\n"
             " \"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": ["
             "{\"SpecialToken\": {\"id\": \"<s>\", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\"}}],"
             " \"special_tokens\": {\"<s>\": {\"id\": \"<s>\", \"ids\": [7]}}},\n"
             " \"model\": {\"type\": \"BPE\", \"unk_token\": \"<unk>\", \"byte_fallback\": false,\n"
             "  \"vocab\": {\"<unk>\": 0, \"\xE2\x96\x81\": 1, \"a\": 2, \"b\": 3, \"\xE2\x96\x81" "a\": 4,"
             " \"\xE2\x96\x81" "b\": 5, \"\xE2\x96\x81\xE2\x96\x81\": 6, \"<s>\": 7},\n"
             "  \"merges\": [\"\xE2\x96\x81 \xE2\x96\x81\", \"\xE2\x96\x81 a\", [\"\xE2\x96\x81\", \"b\"]]}}",
             normalizer, pre, decoder);
    put_str("tokenizer.json", s);
}

static void test_sentencepiece_json(void) {
    Path path = path_of("tokenizer.json");
    const char *p = path.s;
    const char *prepend = "{\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"Prepend\", "
                          "\"prepend\": \"\xE2\x96\x81\"}, {\"type\": \"Replace\", \"pattern\": "
                          "{\"String\": \" \"}, \"content\": \"\xE2\x96\x81\"}]}";
    const char *strip = "{\"type\": \"Sequence\", \"decoders\": [{\"type\": \"Strip\", "
                        "\"content\": \" \", \"start\": 1, \"stop\": 0}]}";
    put_sp_json(prepend, "null", strip);
    Tokenizer *t = load_ok("tokenizer.json: Llama 2 style (Prepend + Replace)", p);
    if (t) {
        // No pre-tokenizer: "▁a▁▁b" merges ▁▁ first (rank 0), then ▁a.
        expect_ids(t, "sp", "a  b", 0, "4 6 3");
        expect_ids(t, "sp prefix after special", "a<s>a", TOK_ALLOW_SPECIAL, "4 7 4");
        expect_ids(t, "sp BOS from template", "a", TOK_ADD_BOS, "7 4");
        expect_ids(t, "sp unknown char is <unk>", "x", 0, "1 0");
        int32_t ids[] = {4, 6, 3};
        expect_decode(t, "sp strip", ids, 3, "a  b");
        tok_free(t);
    }
    const char *meta = "{\"type\": \"Metaspace\", \"replacement\": \"\xE2\x96\x81\", "
                       "\"prepend_scheme\": \"%s\", \"split\": %s}";
    char pre[256];
    snprintf(pre, sizeof pre, meta, "first", "true");
    put_sp_json("null", pre, "{\"type\": \"Metaspace\", \"replacement\": \"\xE2\x96\x81\", "
                "\"prepend_scheme\": \"first\", \"split\": true}");
    if ((t = load_ok("tokenizer.json: Metaspace first + split", p))) {
        expect_ids(t, "metaspace split", "a  b", 0, "4 1 5");
        expect_ids(t, "metaspace no double prefix", " a", 0, "4");
        expect_ids(t, "metaspace first: not after a special", "a<s>a", TOK_ALLOW_SPECIAL, "4 7 2");
        expect_ids(t, "metaspace first: text starting with a special", "<s>a", TOK_ALLOW_SPECIAL, "7 2");
        int32_t ids[] = {4, 1, 5};
        expect_decode(t, "metaspace", ids, 3, "a  b");
        tok_free(t);
    }
    snprintf(pre, sizeof pre, meta, "always", "false");
    put_sp_json("null", pre, "null");
    if ((t = load_ok("tokenizer.json: Metaspace always, no split", p))) {
        expect_ids(t, "metaspace no split", "a  b", 0, "4 6 3");
        expect_ids(t, "metaspace always", "a<s>a", TOK_ALLOW_SPECIAL, "4 7 4");
        tok_free(t);
    }
}

// A character-level model over a, b, "-" with tokens "a-", "-b", "--" and a Split on "-".
static void put_split_json(const char *behavior, bool invert) {
    char s[2048];
    snprintf(s, sizeof s,
             "{\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"String\": \"-\"},"
             " \"behavior\": \"%s\", \"invert\": %s},"
             " \"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 1, \"-\": 2, \"a-\": 3,"
             " \"-b\": 4, \"--\": 5, \"ab\": 6}, \"merges\": [\"- -\", \"a -\", \"- b\", \"a b\"]}}",
             behavior, invert ? "true" : "false");
    put_str("tokenizer.json", s);
}

static void test_split_behaviors(void) {
    static const struct {
        const char *behavior;
        bool invert;
        const char *want;  // for "a-b--a"
    } cases[] = {
        {"Isolated", false, "0 2 1 2 2 0"},           // a | - | b | - | - | a
        {"Removed", false, "0 1 0"},                  // a | b | a
        {"Removed", true, "2 2 2"},                   // - | - | -  (the gaps go)
        {"MergedWithPrevious", false, "3 1 2 2 0"},   // a- | b- | - | a   (b- is b, -)
        {"MergedWithNext", false, "0 4 2 2 0"},       // a | -b | - | -a   (-a is -, a)
        {"Contiguous", false, "0 2 1 5 0"},           // a | - | b | -- | a
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        put_split_json(cases[i].behavior, cases[i].invert);
        Tokenizer *t = load_ok(cases[i].behavior, path_of("tokenizer.json").s);
        if (!t) continue;
        char what[64];
        snprintf(what, sizeof what, "Split %s%s", cases[i].behavior, cases[i].invert ? " invert" : "");
        expect_ids(t, what, "a-b--a", 0, cases[i].want);
        tok_free(t);
    }
}

static void test_json_errors(void) {
    Path path = path_of("tokenizer.json");
    const char *p = path.s;
    const char *vocab = "\"vocab\": {\"a\": 0, \"b\": 1, \"ab\": 2}";
    char s[1024];
#define JSON_CASE(what, field, ...)                    \
    do {                                               \
        snprintf(s, sizeof s, __VA_ARGS__);            \
        put_str("tokenizer.json", s);                  \
        expect_error(what, p, "tokenizer.json", field, NULL); \
    } while (0)
    JSON_CASE("json: syntax", "invalid JSON at line 2", "{\"model\":\n {,}");
    JSON_CASE("json: truncated", "invalid JSON", "{\"model\": {\"type\": \"BPE\", %s", vocab);
    JSON_CASE("json: top level", "expected a JSON object", "[1, 2]");
    JSON_CASE("json: no model", "model: missing", "{\"normalizer\": null}");
    JSON_CASE("json: model type", "model: expected an object", "{\"model\": 3}");
    JSON_CASE("json: WordPiece", "model.type: WordPiece is not supported",
              "{\"model\": {\"type\": \"WordPiece\", %s}}", vocab);
    JSON_CASE("json: vocab type", "model.vocab: expected an object",
              "{\"model\": {\"type\": \"BPE\", \"vocab\": [1], \"merges\": []}}");
    JSON_CASE("json: vocab id type", "model.vocab[\"b\"]: expected an integer id",
              "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": \"1\"}, \"merges\": []}}");
    JSON_CASE("json: negative id", "model.vocab[\"a\"]: expected an integer id",
              "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": -1}, \"merges\": []}}");
    JSON_CASE("json: id used twice", "id 0 is used by another key",
              "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"a\": 0, \"b\": 0}, \"merges\": []}}");
    JSON_CASE("json: no merges", "model.merges: missing", "{\"model\": {\"type\": \"BPE\", %s}}", vocab);
    JSON_CASE("json: merge number", "model.merges[1]: expected \"a b\" or [a, b]",
              "{\"model\": {\"type\": \"BPE\", %s, \"merges\": [\"a b\", 17]}}", vocab);
    JSON_CASE("json: merge three parts", "model.merges[0]: expected",
              "{\"model\": {\"type\": \"BPE\", %s, \"merges\": [\"a b a\"]}}", vocab);
    JSON_CASE("json: merge pair of three", "model.merges[0]: expected",
              "{\"model\": {\"type\": \"BPE\", %s, \"merges\": [[\"a\", \"b\", \"c\"]]}}", vocab);
    JSON_CASE("json: merge unknown", "model.merges[0]: \"zz\" is not in model.vocab",
              "{\"model\": {\"type\": \"BPE\", %s, \"merges\": [\"zz b\"]}}", vocab);
    JSON_CASE("json: merge result unknown", "model.merges[0]: the merged token \"ba\"",
              "{\"model\": {\"type\": \"BPE\", %s, \"merges\": [\"b a\"]}}", vocab);
    JSON_CASE("json: added_tokens type", "added_tokens: expected an array",
              "{\"added_tokens\": {}, \"model\": {\"type\": \"BPE\", %s, \"merges\": []}}", vocab);
    JSON_CASE("json: added token id", "added_tokens[0].id: expected an integer id",
              "{\"added_tokens\": [{\"content\": \"<x>\"}], \"model\": {\"type\": \"BPE\", %s, "
              "\"merges\": []}}", vocab);
    JSON_CASE("json: added token content", "added_tokens[0].content",
              "{\"added_tokens\": [{\"id\": 5, \"content\": 5}], \"model\": {\"type\": \"BPE\", %s, "
              "\"merges\": []}}", vocab);
    JSON_CASE("json: added token flag", "added_tokens[0].special: expected true or false",
              "{\"added_tokens\": [{\"id\": 5, \"content\": \"<x>\", \"special\": 1}], \"model\": "
              "{\"type\": \"BPE\", %s, \"merges\": []}}", vocab);
    JSON_CASE("json: normalizer", "normalizer.normalizers[1].type: Lowercase is not supported",
              "{\"normalizer\": {\"type\": \"Sequence\", \"normalizers\": [{\"type\": \"NFC\"}, "
              "{\"type\": \"Lowercase\"}]}, \"model\": {\"type\": \"BPE\", %s, \"merges\": []}}", vocab);
    JSON_CASE("json: pre-tokenizer", "pre_tokenizer.type: UnicodeScripts is not supported",
              "{\"pre_tokenizer\": {\"type\": \"UnicodeScripts\"}, \"model\": {\"type\": \"BPE\", %s, "
              "\"merges\": []}}", vocab);
    JSON_CASE("json: split behavior", "pre_tokenizer.pretokenizers[0].behavior: unknown behavior Sideways",
              "{\"pre_tokenizer\": {\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Split\", "
              "\"pattern\": {\"Regex\": \"a\"}, \"behavior\": \"Sideways\"}]}, \"model\": "
              "{\"type\": \"BPE\", %s, \"merges\": []}}", vocab);
    JSON_CASE("json: split regex", "pre_tokenizer: pre-tokenizer regex does not compile",
              "{\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": {\"Regex\": \"(a\"}, "
              "\"behavior\": \"Isolated\"}, \"model\": {\"type\": \"BPE\", %s, \"merges\": []}}", vocab);
    JSON_CASE("json: split pattern", "pre_tokenizer.pattern: expected",
              "{\"pre_tokenizer\": {\"type\": \"Split\", \"pattern\": 3, \"behavior\": \"Isolated\"}, "
              "\"model\": {\"type\": \"BPE\", %s, \"merges\": []}}", vocab);
    JSON_CASE("json: template", "post_processor.single[0]: expected",
              "{\"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [5]}, \"model\": "
              "{\"type\": \"BPE\", %s, \"merges\": []}}", vocab);
    JSON_CASE("json: word suffix", "model.end_of_word_suffix: \"</w>\" is not supported",
              "{\"model\": {\"type\": \"BPE\", \"end_of_word_suffix\": \"</w>\", %s, \"merges\": []}}", vocab);
#undef JSON_CASE

    // tokenizer_config.json beside it: BOS/EOS as strings or {"content": ...}.
    snprintf(s, sizeof s, "{\"added_tokens\": [{\"id\": 3, \"content\": \"<e>\", \"special\": true}],"
             " \"model\": {\"type\": \"BPE\", %s, \"merges\": [\"a b\"]}}", vocab);
    put_str("tokenizer.json", s);
    put_str("tokenizer_config.json", "{\"bos_token\": 42}");
    expect_error("config: bos type", p, "tokenizer_config.json", "bos_token: expected a string", NULL);
    put_str("tokenizer_config.json", "{\"eos_token\": \"<nope>\"}");
    expect_error("config: eos unknown", p, "tokenizer_config.json", "eos_token: \"<nope>\" is not a token", NULL);
    put_str("tokenizer_config.json", "{\"bos_token\": ");
    expect_error("config: syntax", p, "tokenizer_config.json", "not a JSON object", NULL);
    put_str("tokenizer_config.json", "{\"bos_token\": \"ab\", \"eos_token\": {\"content\": \"<e>\"}}");
    Tokenizer *t = load_ok("config: BOS/EOS", p);
    if (t) {
        CHECK(tok_bos_id(t) == 2 && tok_eos_id(t) == 3, "config: BOS %d EOS %d (want 2, 3)",
              tok_bos_id(t), tok_eos_id(t));
        expect_ids(t, "char-level BPE", "aab", 0, "0 2");
        tok_free(t);
    }
    unlink(path_of("tokenizer_config.json").s);
}

// ---- GPT-2 encoder.json + vocab.bpe ---------------------------------------------------------

// GPT-2's alphabet: the character that spells byte b, as UTF-8.
static void byte_char(int b, char out[3]) {
    int cp = b, n = 0;
    bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
    if (!printable) {
        for (int x = 0; x < b; x++)
            if (!((x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || x >= 0xAE)) n++;
        cp = 256 + n;
    }
    if (cp < 0x80) out[0] = (char)cp, out[1] = 0;
    else out[0] = (char)(0xC0 | cp >> 6), out[1] = (char)(0x80 | (cp & 0x3F)), out[2] = 0;
}

// The 256 byte tokens (id = byte), then "Ġt" 256, "he" 257, "Ġthe" 258, <|endoftext|> 259.
static void put_encoder(bool all_bytes) {
    Buf b = {0};
    buf_append(&b, "{", 1);
    for (int i = all_bytes ? 0 : 1; i < 256; i++) {
        char c[3];
        byte_char(i, c);
        if (c[0] == '"' || c[0] == '\\') buf_appendf(&b, "\"\\%s\": %d, ", c, i);
        else buf_appendf(&b, "\"%s\": %d, ", c, i);
    }
    buf_appendf(&b, "\"\xC4\xA0t\": 256, \"he\": 257, \"\xC4\xA0the\": 258, \"<|endoftext|>\": 259}");
    put("encoder.json", b.data, b.len);
    buf_free(&b);
}

static void test_gpt2(void) {
    Path path = path_of("encoder.json");
    const char *p = path.s;
    put_encoder(true);
    unlink(path_of("vocab.bpe").s);
    expect_error("gpt2: no vocab.bpe", p, "encoder.json", "vocab.bpe", "not beside it", NULL);
    put_str("vocab.bpe", "#version: 0.2\n\xC4\xA0 t\nh e\n\xC4\xA0t he\nnonsense\n");
    expect_error("gpt2: bad merge line", p, "vocab.bpe:5", "expected \"a b\"", NULL);
    put_str("vocab.bpe", "#version: 0.2\n\xC4\xA0 t\nh zz\n");
    expect_error("gpt2: merge of unknown token", p, "vocab.bpe:3", "\"zz\" is not in encoder.json", NULL);
    put_str("vocab.bpe", "#version: 0.2\n\xC4\xA0 t\nh e\n\xC4\xA0t he\n");
    put_encoder(false);
    expect_error("gpt2: missing byte", p, "encoder.json", "no token for the single byte 0x00", NULL);
    put_str("encoder.json", "[1]");
    expect_error("gpt2: not an object", p, "encoder.json", "expected a non-empty JSON object", NULL);
    put_str("encoder.json", "{\"a\": ");
    expect_error("gpt2: bad JSON", p, "encoder.json", "not valid JSON", NULL);
    put_encoder(true);
    Tokenizer *t = load_ok("gpt2: small encoder.json + vocab.bpe", p);
    if (t) {
        expect_ids(t, "gpt2", "the the<|endoftext|>", TOK_ALLOW_SPECIAL, "116 257 258 259");
        CHECK(tok_eos_id(t) == 259, "gpt2: EOS is <|endoftext|>");
        int32_t ids[] = {258, 259};
        expect_decode(t, "gpt2", ids, 2, " the<|endoftext|>");
        tok_free(t);
    }
}

// ---- the shared data, when present ----------------------------------------------------------

static void test_shared(void) {
    const char *root = getenv("SHARED_DATA") ? getenv("SHARED_DATA") : "../shared/data";
    char p[4096];
    snprintf(p, sizeof p, "%s/llama2c/tokenizer.bin", root);
    if (!file_exists(p)) {
        printf("skip  shared data (%s not found)\n", p);
        return;
    }
    Tokenizer *t = load_ok("llama2c tokenizer.bin", p);
    if (t) {  // llama2.c test.c, test 1
        expect_ids(t, "tokenizer.bin", "I believe the meaning of life is", TOK_ADD_BOS,
                   "1 306 4658 278 6593 310 2834 338");
        tok_free(t);
    }
    snprintf(p, sizeof p, "%s/tokenizers/llama3/tokenizer.json", root);
    if ((t = load_ok("llama3 tokenizer.json", p))) {
        CHECK(tok_bos_id(t) == 128000 && tok_eos_id(t) == 128001, "llama3: BOS/EOS from the config");
        expect_ids(t, "llama3", "Hello world", TOK_ADD_BOS, "128000 9906 1917");
        tok_free(t);
    }
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/test_tok_loaders.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_llama2c();
    test_sentencepiece_json();
    test_split_behaviors();
    test_json_errors();
    test_gpt2();
    test_shared();
    const char *names[] = {"tok.bin", "tokenizer.json", "tokenizer_config.json", "encoder.json",
                           "vocab.bpe"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) unlink(path_of(names[i]).s);
    rmdir(dir);
    return check_summary();
}
