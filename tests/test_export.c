// test_export.c: chat_export_tokenizer and chat_template_from_dir (src/chat/export.h).
//   - a small tiktoken rank file (with a token BPE cannot reach, kept by ignore_merges), a
//     small byte-level tokenizer.json with a tokenizer_config.json, and a small llama2.c
//     file are exported with a template; tok_load(dir) must encode 3000 random strings to
//     the same ids as the source tokenizer (with the template's specials added), keep
//     every token and special, and have the template's end token as EOS;
//   - tokenizer_config.json names the template, carries its Jinja chat_template, keeps the
//     source config's other fields; chat_template_from_dir reads it back (also from a
//     config that only has the Jinja string), and fails clearly without either;
//   - when present: o200k_base from npm tiktoken's encoders (node_modules) and llama2.c's
//     tokenizer.bin from ../shared/data.
// Files go to a fresh temporary directory.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "chat/export.h"
#include "chat/template.h"
#include "tok/tok.h"
#include "util/buf.h"
#include "util/file.h"
#include "check.h"

static char dir[64];

static void path_of(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", dir, name); }

static void put(const char *name, const void *data, size_t len) {
    char p[256];
    path_of(p, sizeof p, name);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        perror(name);
        exit(1);
    }
    fclose(f);
}

static void put_str(const char *name, const char *s) { put(name, s, strlen(s)); }

static uint32_t rng_state = 12345;
static uint32_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

// Random strings over alphabet (pieces of it, so multi-byte characters stay whole).
static void random_text(Buf *b, const char *const *alphabet, int n_alpha, int max_len) {
    b->len = 0;
    int n = (int)(rnd() % (uint32_t)max_len);
    for (int i = 0; i < n; i++) {
        const char *s = alphabet[rnd() % (uint32_t)n_alpha];
        buf_append(b, s, strlen(s));
    }
    buf_reserve(b, 0);
}

// Encodes n random texts (and the fixed ones) with both tokenizers; counts mismatches.
static void same_ids(const char *what, const Tokenizer *a, const Tokenizer *b,
                     const char *const *alphabet, int n_alpha, int n, int flags) {
    static const char *fixed[] = {"", " ", "Hello world", "  two  spaces\n\nand lines\n",
                                  "<|im_start|>user<|im_sep|>hi<|im_end|>", "café 你好 🤖",
                                  "ABC", "ABCD", " ABC!ABC"};
    enum { N_FIXED = sizeof fixed / sizeof *fixed };
    Buf text = {0};
    IntVec x = {0}, y = {0};
    int bad = 0, errs = 0;
    const char *first = NULL;
    for (int i = 0; i < n + N_FIXED; i++) {
        const char *s;
        if (i < N_FIXED) {
            s = fixed[i];
        } else {
            random_text(&text, alphabet, n_alpha, 24);
            s = text.data;
        }
        Err e = {0};
        x.len = y.len = 0;
        if (tok_encode(a, s, strlen(s), flags, &x, &e) || tok_encode(b, s, strlen(s), flags, &y, &e)) {
            errs++;
            continue;
        }
        if (x.len != y.len || (x.len && memcmp(x.data, y.data, x.len * sizeof *x.data))) {
            if (!bad++) first = i < N_FIXED ? s : "(random)";
        }
    }
    CHECK(bad == 0 && errs == 0, "%s: %d texts, %d mismatches, %d errors%s%s", what, n + N_FIXED, bad,
          errs, first ? ", first: " : "", first ? first : "");
    buf_free(&text);
    ivec_free(&x), ivec_free(&y);
}

// Every id's bytes and special flag, BOS, and EOS = the template's end token.
static void same_table(const char *what, const Tokenizer *t, const Tokenizer *u,
                       const ChatTemplate *tpl) {
    int bad = tok_vocab_size(t) != tok_vocab_size(u);
    for (int32_t id = 0; !bad && id < tok_vocab_size(t); id++) {
        size_t la = 0, lb = 0;
        const uint8_t *a = tok_token_bytes(t, id, &la), *b = tok_token_bytes(u, id, &lb);
        bad = !a != !b || (a && (la != lb || memcmp(a, b, la))) || tok_is_special(t, id) != tok_is_special(u, id);
    }
    CHECK(!bad, "%s: %d ids, same bytes and specials", what, tok_vocab_size(t));
    CHECK(tok_bos_id(u) == tok_bos_id(t), "%s: BOS %d", what, tok_bos_id(u));
    CHECK(tok_eos_id(u) == tok_special_id(t, tpl->end), "%s: EOS is %s (%d)", what, tpl->end,
          tok_eos_id(u));
}

static cJSON *read_config(const char *out) {
    char p[512], *data;
    size_t len;
    Err e = {0};
    snprintf(p, sizeof p, "%s/tokenizer_config.json", out);
    if (file_read_all(p, &data, &len, &e)) return NULL;
    cJSON *j = cJSON_Parse(data);
    free(data);
    return j;
}

static const char *config_string(const cJSON *cfg, const char *name) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(cfg, name);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

// Loads spec, prepares tpl, exports to dir/out, reloads, compares. Returns the reloaded
// tokenizer's check results through CHECK; alphabet drives the random texts.
static void roundtrip(const char *what, const char *spec, const char *vocab_dir, const char *tname,
                      const char *out_name, const char *const *alphabet, int n_alpha, int n_texts) {
    char out[256];
    path_of(out, sizeof out, out_name);
    const ChatTemplate *tpl = chat_template_find(tname);
    Tokenizer *t = NULL, *u = NULL;
    Err e = {0};
    int rc = tok_load(&t, spec, vocab_dir, &e);
    if (!rc) rc = chat_prepare_tokenizer(t, tpl, &e);
    if (!rc) rc = chat_export_tokenizer(t, spec, tpl, out, &e);
    CHECK(rc == 0, "%s: export with %s%s%s", what, tname, rc ? ": " : "", rc ? e.msg : "");
    if (!rc) rc = tok_load(&u, out, NULL, &e);
    CHECK(rc == 0, "%s: tok_load(dir)%s%s", what, rc ? ": " : "", rc ? e.msg : "");
    if (!rc) {
        same_table(what, t, u, tpl);
        same_ids(what, t, u, alphabet, n_alpha, n_texts, 0);
        same_ids(what, t, u, alphabet, n_alpha, n_texts / 4, TOK_ALLOW_SPECIAL);
        const ChatTemplate *back = NULL;
        rc = chat_template_from_dir(out, &back, &e);
        CHECK(rc == 0 && back == tpl, "%s: chat_template_from_dir gives %s%s", what, tname,
              rc ? e.msg : "");
        cJSON *cfg = read_config(out);
        char *jinja = chat_template_jinja(tpl, tpl->bos && tok_special_id(t, tpl->bos) >= 0);
        const char *eos = config_string(cfg, "eos_token"), *j = config_string(cfg, "chat_template");
        CHECK(eos && !strcmp(eos, tpl->end) && j && jinja && !strcmp(j, jinja) &&
                  cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(cfg, "added_tokens_decoder")),
              "%s: tokenizer_config.json has eos_token %s, the Jinja template, added_tokens_decoder",
              what, tpl->end);
        free(jinja);
        cJSON_Delete(cfg);
    }
    tok_free(t);
    tok_free(u);
}

// ---- sources --------------------------------------------------------------------------------

static const char *const ascii_alpha[] = {"a", "b", "c", "x", "y", "z", "q", " ", "  ", "\n", "ab", "abc",
                                          "xyz", "'s", "1", "23", "!", "é", "你", "<|im_end|>", "ABC", " ABC"};
#define N_ASCII (int)(sizeof ascii_alpha / sizeof *ascii_alpha)

// A tiktoken file named cl100k_base.tiktoken (the name picks the split pattern and the
// registry): the 256 bytes (in GPT-2's order is not needed: rank = the byte), then merges.
static void make_tiktoken(void) {
    // "ABC" has no "AB" or "BC": BPE never reaches it, only a whole piece "ABC" is it.
    static const char *tokens[] = {"ab", "bc", "abc", "xyz", " a", " ab", "  ", "\n\n", "yz",
                                   " x", "qq", "qqqq", "é", "ABC"};
    Buf b = {0};
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    int rank = 0;
    for (int i = 0; i < 256 + (int)(sizeof tokens / sizeof *tokens); i++) {
        uint8_t s[16];
        size_t n;
        if (i < 256) s[0] = (uint8_t)i, n = 1;
        else n = strlen(tokens[i - 256]), memcpy(s, tokens[i - 256], n);
        for (size_t k = 0; k < n; k += 3) {  // base64
            uint32_t v = (uint32_t)s[k] << 16 | (k + 1 < n ? (uint32_t)s[k + 1] << 8 : 0) |
                         (k + 2 < n ? s[k + 2] : 0);
            char q[4] = {b64[v >> 18 & 63], b64[v >> 12 & 63], k + 1 < n ? b64[v >> 6 & 63] : '=',
                         k + 2 < n ? b64[v & 63] : '='};
            buf_append(&b, q, 4);
        }
        buf_appendf(&b, " %d\n", rank++);
    }
    put("cl100k_base.tiktoken", b.data, b.len);
    buf_free(&b);
}

// A small byte-level tokenizer.json (GPT-2 alphabet: " " is "Ġ") and its config.
static void make_hf_json(void) {
    char p[256];
    path_of(p, sizeof p, "hf");
    Err e = {0};
    file_mkdir_p(p, &e);
    Buf b = {0};
    buf_appendf(&b, "{\"version\": \"1.0\", \"added_tokens\": [{\"id\": 0, \"content\": \"<|endoftext|>\", "
                    "\"special\": true}],\n \"normalizer\": null,\n"
                    " \"pre_tokenizer\": {\"type\": \"ByteLevel\", \"add_prefix_space\": false, "
                    "\"use_regex\": true},\n \"post_processor\": null, \"decoder\": {\"type\": \"ByteLevel\"},\n"
                    " \"model\": {\"type\": \"BPE\", \"vocab\": {\"<|endoftext|>\": 0");
    // bytes 1..256 as ids: byte b has id b + 1
    for (int c = 0; c < 256; c++) {
        uint32_t cp = (c >= 0x21 && c <= 0x7E) || (c >= 0xA1 && c <= 0xAC) || c >= 0xAE ? (uint32_t)c : 0;
        if (!cp) {
            int k = 0;
            for (int x = 0; x < c; x++)
                if (!((x >= 0x21 && x <= 0x7E) || (x >= 0xA1 && x <= 0xAC) || x >= 0xAE)) k++;
            cp = 0x100 + (uint32_t)k;
        }
        char u[8] = {0};
        if (cp < 0x80) u[0] = (char)cp;
        else u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 63));
        if (c == '"' || c == '\\') buf_appendf(&b, ", \"\\%s\": %d", u, c + 1);
        else buf_appendf(&b, ", \"%s\": %d", u, c + 1);
    }
    buf_appendf(&b, ", \"ab\": 257, \"Ġa\": 258, \"Ġab\": 259, \"xy\": 260, \"xyz\": 261},\n"
                    "  \"merges\": [\"a b\", \"Ġ a\", \"Ġa b\", \"x y\", \"xy z\"]}}\n");
    put("hf/tokenizer.json", b.data, b.len);
    buf_free(&b);
    put_str("hf/tokenizer_config.json", "{\"model_max_length\": 512, \"eos_token\": \"<|endoftext|>\", "
                                        "\"tokenizer_class\": \"GPT2Tokenizer\"}\n");
}

// A small llama2.c file: <unk>, <s>, </s>, 256 byte tokens, then a few pieces by score.
static void make_llama2c(void) {
    Buf b = {0};
    int32_t max_len = 8;
    buf_append(&b, &max_len, 4);
    const char *fixed[] = {"<unk>", "\n<s>\n", "\n</s>\n"};
    for (int i = 0; i < 259; i++) {
        char s[8];
        if (i < 3) snprintf(s, sizeof s, "%s", fixed[i]);
        else snprintf(s, sizeof s, "<0x%02X>", i - 3);
        float score = 0;
        int32_t len = (int32_t)strlen(s);
        buf_append(&b, &score, 4), buf_append(&b, &len, 4), buf_append(&b, s, (size_t)len);
    }
    const char *rest[] = {" ", "a", "b", "c", "x", "y", "z", "q", "ab", "bc", " a", " ab", "abc",
                          "xy", "yz", " x", "é", "你"};
    for (int i = 0; i < (int)(sizeof rest / sizeof *rest); i++) {
        float score = -(float)i;
        int32_t len = (int32_t)strlen(rest[i]);
        buf_append(&b, &score, 4), buf_append(&b, &len, 4), buf_append(&b, rest[i], (size_t)len);
    }
    put("tok.bin", b.data, b.len);
    buf_free(&b);
}

// ---- chat_template_from_dir errors and Jinja-only configs ------------------------------------

static void test_from_dir(void) {
    char p[256];
    path_of(p, sizeof p, "cfg");
    Err e = {0};
    file_mkdir_p(p, &e);
    const ChatTemplate *tpl = NULL;
    int rc = chat_template_from_dir(p, &tpl, &e);
    CHECK(rc && strstr(e.msg, "no tokenizer_config.json"), "from_dir: no config: %s", e.msg);
    put_str("cfg/tokenizer_config.json", "{\"eos_token\": \"</s>\"}");
    rc = chat_template_from_dir(p, &tpl, &e);
    CHECK(rc && strstr(e.msg, "tokenizer_config.json") && strstr(e.msg, "--template"),
          "from_dir: no template fields: %s", e.msg);
    put_str("cfg/tokenizer_config.json", "{\"posttrain_template\": \"vicuna\"}");
    rc = chat_template_from_dir(p, &tpl, &e);
    CHECK(rc && strstr(e.msg, "vicuna"), "from_dir: unknown name: %s", e.msg);
    put_str("cfg/tokenizer_config.json", "{\"chat_template\": \"{{ messages }}\"}");
    rc = chat_template_from_dir(p, &tpl, &e);
    CHECK(rc && strstr(e.msg, "none of"), "from_dir: foreign Jinja: %s", e.msg);
    const char *names[] = {"gpt4o", "chatml", "llama3"};
    for (int i = 0; i < 3; i++) {
        for (int bos = 0; bos < 2; bos++) {
            const ChatTemplate *want = chat_template_find(names[i]);
            char *j = chat_template_jinja(want, bos);
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "chat_template", j);
            char *s = cJSON_Print(o);
            put_str("cfg/tokenizer_config.json", s);
            rc = chat_template_from_dir(p, &tpl, &e);
            CHECK(rc == 0 && tpl == want, "from_dir: %s's Jinja (bos %d) is recognised", names[i], bos);
            free(s), free(j);
            cJSON_Delete(o);
        }
    }
    char *j = chat_template_jinja(chat_template_find("chatml"), false);
    CHECK(j && !strcmp(j, "{% for message in messages %}{{ '<|im_start|>' + message['role'] + "
                          "'\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
                          "{% if add_generation_prompt %}{{ '<|im_start|>' + 'assistant' + '\\n' }}"
                          "{% endif %}"),
          "chatml Jinja: %s", j ? j : "(null)");
    free(j);
}

static void test_errors(void) {
    Tokenizer *t = NULL;
    Err e = {0};
    char spec[256], out[256];
    path_of(spec, sizeof spec, "cl100k_base.tiktoken");
    path_of(out, sizeof out, "out-err");
    if (tok_load(&t, spec, NULL, &e)) return;
    int rc = chat_export_tokenizer(t, spec, chat_template_find("gpt4o"), out, &e);
    CHECK(rc && strstr(e.msg, "<|im_start|>") && strstr(e.msg, "chat_prepare_tokenizer"),
          "export without the template's specials: %s", e.msg);
    chat_prepare_tokenizer(t, chat_template_find("chatml"), &e);
    rc = chat_export_tokenizer(t, "/nonexistent/thing", chat_template_find("chatml"), out, &e);
    CHECK(rc && strstr(e.msg, "/nonexistent/thing"), "export from a bad spec: %s", e.msg);
    tok_free(t);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/test_export.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    char p[256];
    make_tiktoken();
    make_hf_json();
    make_llama2c();
    path_of(p, sizeof p, "cl100k_base.tiktoken");
    roundtrip("tiktoken", p, NULL, "gpt4o", "out-tt", ascii_alpha, N_ASCII, 3000);
    path_of(p, sizeof p, "hf");
    roundtrip("tokenizer.json", p, NULL, "chatml", "out-hf", ascii_alpha, N_ASCII, 3000);
    char out[256];
    path_of(out, sizeof out, "out-hf");
    cJSON *cfg = read_config(out);
    const cJSON *mml = cJSON_GetObjectItemCaseSensitive(cfg, "model_max_length");
    const char *cls = config_string(cfg, "tokenizer_class");
    CHECK(cJSON_IsNumber(mml) && mml->valuedouble == 512 && cls && !strcmp(cls, "GPT2Tokenizer"),
          "tokenizer.json: the source config's other fields are kept");
    cJSON_Delete(cfg);
    path_of(p, sizeof p, "tok.bin");
    roundtrip("llama2.c", p, NULL, "llama3", "out-l2c", ascii_alpha, N_ASCII, 3000);
    // Exporting a directory written by the export again gives the same files' tokenizer.
    path_of(p, sizeof p, "out-tt");
    roundtrip("re-export", p, NULL, "gpt4o", "out-tt2", ascii_alpha, N_ASCII, 500);
    test_from_dir();
    test_errors();

    if (file_exists("node_modules/tiktoken/encoders/o200k_base.json")) {
        static const char *const words[] = {"the", " cat", "Model", " GPU", "isn't", " we'll", " 3.5",
                                            "1024", "  ", "\n", "\t", "数据", "東京", "🙂", " naïve",
                                            " café", "x+y", "(a)", "...", "—", "'", "\"", "_", "ID42",
                                            "<|im_start|>", "<|endoftext|>"};
        roundtrip("o200k_base (npm)", "o200k_base", "node_modules/tiktoken/encoders", "gpt4o",
                  "out-o200k", words, (int)(sizeof words / sizeof *words), 2000);
    } else {
        printf("skip  o200k_base (node_modules/tiktoken/encoders missing: run npm ci)\n");
    }
    const char *root = getenv("SHARED_DATA") ? getenv("SHARED_DATA") : "../shared/data";
    snprintf(p, sizeof p, "%s/llama2c/tokenizer.bin", root);
    if (file_exists(p)) {
        static const char *const words[] = {"the", " cat", "Once", " upon", " a", " time", "  ",
                                            "   ", "\n", "\t", "数据", "🙂", " naïve", "1024", "'s",
                                            ",", ".", "<s>", "</s>", "<|im_start|>"};
        roundtrip("llama2.c tokenizer.bin", p, NULL, "chatml", "out-l2c-meta", words,
                  (int)(sizeof words / sizeof *words), 2000);
    } else {
        printf("skip  llama2.c tokenizer.bin (%s not found)\n", p);
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) printf("note: could not remove %s\n", dir);
    return check_summary();
}
