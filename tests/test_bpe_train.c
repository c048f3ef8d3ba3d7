// test_bpe_train.c: the BPE trainer (src/tok/train.h) on corpora small enough to work
// out the merges by hand, the parallel splitter against the sequential one, the
// tokenizer.json it writes, and the errors for bad input.
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tok/tok.h"
#include "tok/tok_impl.h"  // tok_compile_regex, for a sequential reference split
#include "tok/train.h"
#include "util/file.h"
#include "check.h"


// The bytes of token id as a C string (test tokens are short and printable).
static const char *tok_str(const BpeVocab *v, int32_t id) {
    static char buf[8][64];
    static int k;
    char *b = buf[k++ % 8];
    snprintf(b, 64, "%.*s", (int)v->tok_len[id], (const char *)v->pool + v->tok_off[id]);
    return b;
}

// The merges as "left+right" joined by spaces, e.g. "a+a a+b aa+ab".
static const char *merges_str(const BpeVocab *v) {
    static char out[4096];
    size_t n = 0;
    out[0] = 0;
    for (int32_t k = 0; k < v->n_merges && n < sizeof out - 64; k++)
        n += (size_t)snprintf(out + n, sizeof out - n, "%s%s+%s", k ? " " : "",
                              tok_str(v, v->merges[k].left), tok_str(v, v->merges[k].right));
    return out;
}

static int train1(const char *text, int vocab, int min_freq, const char *pattern, BpeVocab *v,
                  Err *e) {
    BpeTrainOptions o = {.vocab_size = vocab, .min_frequency = min_freq, .pattern = pattern,
                         .threads = 2};
    size_t len = strlen(text);
    return bpe_train_texts(&o, &text, &len, 1, v, e);
}

// The textbook example: "aaabdaaabac" is one piece; aa (4), then ab and aa·a tie at 2
// and "a" sorts before "aa", then aa·ab; after that every pair occurs once.
static void test_textbook(void) {
    BpeVocab v;
    Err e = {0};
    int rc = train1("aaabdaaabac", 300, 1, NULL, &v, &e);
    CHECK(rc == 0, "textbook corpus trains (%s)", rc ? e.msg : "");
    if (rc) return;
    CHECK(!strcmp(merges_str(&v), "a+a a+b aa+ab a+c aaab+ac aaab+d aaabd+aaabac"),
          "textbook merges, ties by bytes: %s", merges_str(&v));
    CHECK(v.n_tokens == 263 && v.merges[0].result == 256 && v.merges[6].result == 262,
          "stops when no pair is left: %d tokens", v.n_tokens);
    CHECK(v.n_pieces == 1 && v.n_distinct == 1 && v.n_bytes == 11, "one piece of 11 bytes");
    bpe_vocab_free(&v);

    rc = train1("aaabdaaabac", 300, 2, NULL, &v, &e);
    CHECK(rc == 0 && v.n_merges == 3 && !strcmp(merges_str(&v), "a+a a+b aa+ab"),
          "--min-frequency 2 keeps the 3 merges of pairs seen twice: %s", merges_str(&v));
    bpe_vocab_free(&v);

    rc = train1("aaabdaaabac", 258, 1, NULL, &v, &e);
    CHECK(rc == 0 && v.n_merges == 2 && v.n_tokens == 258, "vocab size 258 stops after 2 merges");
    bpe_vocab_free(&v);
}

// Counts are weighted by piece frequency, and ties go to the smaller left token, then the
// smaller right token: pieces "ab" " ab" " ab" " cd" " cd".
static void test_weights_and_ties(void) {
    BpeVocab v;
    Err e = {0};
    int rc = train1("ab ab ab cd cd", 300, 2, NULL, &v, &e);
    CHECK(rc == 0 && !strcmp(merges_str(&v), "a+b  +ab  +c  c+d"),
          "weighted counts and byte-order ties: %s", rc ? e.msg : merges_str(&v));
    CHECK(rc == 0 && v.n_pieces == 5 && v.n_distinct == 3, "5 pieces, 3 distinct (o200k split)");
    bpe_vocab_free(&v);
}

// Special tokens are cut out before splitting: no pair spans one, and they take the ids
// after the merged tokens.
static void test_specials(void) {
    const char *sp[] = {"<|endoftext|>", "<|pad|>"};
    BpeTrainOptions o = {.vocab_size = 300, .specials = sp, .n_specials = 2, .min_frequency = 1};
    const char *text = "xy<|endoftext|>xy<|endoftext|>xy<|pad|>";
    size_t len = strlen(text);
    BpeVocab v;
    Err e = {0};
    int rc = bpe_train_texts(&o, &text, &len, 1, &v, &e);
    CHECK(rc == 0 && !strcmp(merges_str(&v), "x+y"), "specials are cut out: merges %s",
          rc ? e.msg : merges_str(&v));
    CHECK(rc == 0 && v.n_pieces == 3 && v.n_specials == 2 && bpe_vocab_size(&v) == 259,
          "3 pieces; 257 tokens + 2 specials = %d ids", rc ? -1 : bpe_vocab_size(&v));
    bpe_vocab_free(&v);
}

// Pieces of one sequential scan of the o200k_base regex (matches and the gaps between).
static long long sequential_pieces(const char *text, size_t n) {
    Err e = {0};
    pcre2_code *re = tok_compile_regex(tok_builtin_pattern("o200k_base"), &e);
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    long long pieces = 0;
    size_t pos = 0;
    while (pos < n && pcre2_match(re, (PCRE2_SPTR)text, n, pos, PCRE2_NO_UTF_CHECK, md, NULL) > 0) {
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        pieces += 1 + (ov[0] > pos);  // this pattern never matches empty
        pos = ov[1];
    }
    pieces += pos < n;
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return pieces;
}

// The parallel splitter cuts texts into 1 MB units; the fix-up must give exactly the
// pieces of one sequential scan: a 2.5 MB word is one piece (units 2 and 3 are swallowed),
// and a text with pieces across every cut counts the same with 1 and 4 threads.
static void test_parallel_split(void) {
    size_t n = 5u << 19;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = 0;
    BpeVocab v;
    Err e = {0};
    int rc = train1(big, 260, 1, NULL, &v, &e);
    CHECK(rc == 0 && v.n_pieces == 1 && v.n_distinct == 1,
          "a 2.5 MB word spanning three units is one piece (%lld)", (long long)v.n_pieces);
    CHECK(rc == 0 && !strcmp(merges_str(&v), "x+x xx+xx xxxx+xxxx xxxxxxxx+xxxxxxxx"),
          "x-run merges double: %s", merges_str(&v));
    bpe_vocab_free(&v);

    // Words, digits, runs of spaces and newlines of varying length, 3.5 MB.
    size_t k = 0;
    unsigned seed = 12345;
    char *text = realloc(big, 7u << 19);
    while (k < (7u << 19) - 64) {
        seed = seed * 1103515245u + 12345u;
        unsigned r = seed >> 16;
        const char *w[] = {"the", "Cat", "runs", "3141", "  ", "\n\n", "   ", "!?", "é", "中文"};
        k += (size_t)snprintf(text + k, 64, "%s%s", w[r % 10], r & 0x100 ? " " : "");
    }
    text[k] = 0;
    BpeTrainOptions o1 = {.vocab_size = 400, .min_frequency = 2, .threads = 1},
                    o4 = {.vocab_size = 400, .min_frequency = 2, .threads = 4};
    BpeVocab a, b;
    const char *texts[] = {text};
    int ra = bpe_train_texts(&o1, texts, &k, 1, &a, &e);
    int rb = bpe_train_texts(&o4, texts, &k, 1, &b, &e);
    long long want = sequential_pieces(text, k);
    CHECK(ra == 0 && a.n_pieces == want, "3.5 MB in 1 MB units: %lld pieces, as one sequential "
          "scan (%lld)", (long long)a.n_pieces, want);
    CHECK(ra == 0 && rb == 0 && a.n_pieces == b.n_pieces && a.n_distinct == b.n_distinct &&
              a.n_merges == b.n_merges &&
              !memcmp(a.merges, b.merges, (size_t)a.n_merges * sizeof *a.merges),
          "1 and 4 threads: same pieces (%lld, %lld) and merges", (long long)a.n_pieces,
          (long long)b.n_pieces);
    bpe_vocab_free(&a);
    bpe_vocab_free(&b);
    free(text);
}

// tokenizer.json: parses, and holds what a Hugging Face loader needs.
static void test_json(void) {
    const char *sp[] = {"<|endoftext|>"};
    BpeTrainOptions o = {.vocab_size = 300, .specials = sp, .n_specials = 1, .min_frequency = 2};
    const char *text = "ab ab ab cd cd \"q\\\"q\\\" \x01\x01";
    size_t len = strlen(text);
    BpeVocab v;
    Err e = {0};
    char path[] = "/tmp/test_bpe_train.XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0) close(fd);
    int rc = bpe_train_texts(&o, &text, &len, 1, &v, &e) || bpe_vocab_save(&v, path, &e);
    CHECK(rc == 0, "trains and saves tokenizer.json (%s)", rc ? e.msg : "");
    if (rc) return;
    char *json;
    size_t n;
    cJSON *j = file_read_all(path, &json, &n, &e) ? NULL : cJSON_Parse(json);
    CHECK(j != NULL, "the file is valid JSON");
    cJSON *model = cJSON_GetObjectItem(j, "model"), *vocab = cJSON_GetObjectItem(model, "vocab");
    cJSON *merges = cJSON_GetObjectItem(model, "merges"), *added = cJSON_GetObjectItem(j, "added_tokens");
    CHECK(cJSON_GetArraySize(vocab) == v.n_tokens && cJSON_GetArraySize(merges) == v.n_merges,
          "vocab has %d entries, merges %d", cJSON_GetArraySize(vocab), cJSON_GetArraySize(merges));
    cJSON *first = cJSON_GetArrayItem(merges, 0), *sp0 = cJSON_GetArrayItem(added, 0);
    CHECK(cJSON_IsString(first) && !strcmp(first->valuestring, "a b") &&
              cJSON_GetObjectItem(vocab, "ab") && cJSON_GetObjectItem(vocab, "ab")->valueint == 256,
          "first merge \"a b\" -> id 256");
    CHECK(cJSON_GetObjectItem(vocab, "\xC4\xA0") && cJSON_GetObjectItem(vocab, "\xC4\xA0")->valueint == 32 &&
              cJSON_GetObjectItem(vocab, "\xC4\x80") && cJSON_GetObjectItem(vocab, "\xC4\x80")->valueint == 0 &&
              cJSON_GetObjectItem(vocab, "\"") && cJSON_GetObjectItem(vocab, "\\"),
          "byte-level keys: space is U+0120, byte 0 is U+0100, quote and backslash escaped");
    CHECK(sp0 && cJSON_GetObjectItem(sp0, "id")->valueint == v.n_tokens &&
              !strcmp(cJSON_GetObjectItem(sp0, "content")->valuestring, "<|endoftext|>") &&
              cJSON_IsTrue(cJSON_GetObjectItem(sp0, "special")),
          "added token <|endoftext|> has id %d", v.n_tokens);
    cJSON *pre = cJSON_GetObjectItem(j, "pre_tokenizer");
    cJSON *split = cJSON_GetArrayItem(cJSON_GetObjectItem(pre, "pretokenizers"), 0);
    const char *re = cJSON_GetObjectItem(cJSON_GetObjectItem(split, "pattern"), "Regex")->valuestring;
    CHECK(!strcmp(re, tok_builtin_pattern("o200k_base")), "Split regex is o200k_base's, as written");
    cJSON_Delete(j);
    free(json);
    unlink(path);
    bpe_vocab_free(&v);
}

static void test_errors(void) {
    BpeVocab v;
    Err e = {0};
    int rc = train1("abc", 255, 1, NULL, &v, &e);
    CHECK(rc != 0 && e.code == ERR_ARG && strstr(e.msg, "vocab size 255"), "vocab size < 256: %s", e.msg);

    const char *sp[] = {"<s>"};
    BpeTrainOptions o = {.vocab_size = 256, .specials = sp, .n_specials = 1};
    const char *text = "abc";
    size_t len = 3;
    rc = bpe_train_texts(&o, &text, &len, 1, &v, &e);
    CHECK(rc != 0 && strstr(e.msg, "at least 257"), "no room for the special: %s", e.msg);

    const char *dup[] = {"<s>", "<s>"};
    o = (BpeTrainOptions){.vocab_size = 300, .specials = dup, .n_specials = 2};
    rc = bpe_train_texts(&o, &text, &len, 1, &v, &e);
    CHECK(rc != 0 && strstr(e.msg, "twice"), "a special given twice: %s", e.msg);

    rc = train1("abc", 300, 1, "(unclosed", &v, &e);
    CHECK(rc != 0 && strstr(e.msg, "does not compile"), "bad regex: %s", e.msg);

    o = (BpeTrainOptions){.vocab_size = 300};
    const char *missing[] = {"/nonexistent/corpus.txt"};
    rc = bpe_train_files(&o, missing, 1, &v, &e);
    CHECK(rc != 0 && e.code == ERR_IO && strstr(e.msg, "/nonexistent/corpus.txt"),
          "unreadable file: %s", e.msg);

    char path[] = "/tmp/test_bpe_train_bad.XXXXXX";
    int fd = mkstemp(path);
    if (fd >= 0) {
        (void)!write(fd, "good\ntext\xff\xfe", 11);
        close(fd);
    }
    const char *bad[] = {path};
    rc = bpe_train_files(&o, bad, 1, &v, &e);
    CHECK(rc != 0 && e.code == ERR_FORMAT && strstr(e.msg, path) &&
              strstr(e.msg, "invalid UTF-8 at byte 9"),
          "invalid UTF-8 names file and offset: %s", e.msg);
    unlink(path);

    const char *overlong = "ok \xC0\xAF";
    rc = train1(overlong, 300, 1, NULL, &v, &e);
    CHECK(rc != 0 && strstr(e.msg, "text 1: invalid UTF-8 at byte 3"), "in-memory text: %s", e.msg);

    rc = bpe_train_files(&o, NULL, 0, &v, &e);
    CHECK(rc != 0 && e.code == ERR_ARG, "no files: %s", e.msg);
}

int main(void) {
    test_textbook();
    test_weights_and_ties();
    test_specials();
    test_parallel_split();
    test_json();
    test_errors();
    return check_summary();
}
