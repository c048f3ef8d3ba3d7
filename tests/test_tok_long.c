// test_tok_long.c: very long pre-token pieces through the o200k_base tokenizer.
//
// 100 KB of one letter, of a base64 blob, of spaces, of digits and of one CJK character:
// each must round-trip (decode(encode(x)) == x) with a plausible token count. The
// merge loop's cost is not timed here (the machine is shared and noisy); instead the
// work is checked through its result: 10x the input must give about 10x the tokens,
// which also catches a merge that gives up or truncates on long pieces. The timings
// (posttrain near-linear, tiktoken quadratic) are in bench/tokenize.
//
// Needs ${SHARED_DATA:-../shared/data}/tokenizers/tiktoken/o200k_base.tiktoken or npm
// tiktoken's encoders/o200k_base.json; skips (exit 77) without either. Prints one line per check.
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok/tok.h"
#include "util/file.h"
#include "check.h"

// A fixed pseudo-random sequence, so every run tests the same text.
static uint32_t rng_state = 12345;
static uint32_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return rng_state;
}

typedef enum { LETTER, BASE64, SPACES, DIGITS, CJK } Kind;
static const char *kind_name[] = {"'a' run", "base64 blob", "space run", "digit run", "CJK run"};

// n bytes of the kind (CJK: n rounded down to whole 3-byte characters).
static char *make_text(Kind k, size_t n, size_t *len) {
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char *s = malloc(n + 1);
    if (!s) exit(1);
    rng_state = 12345;  // so the 10 KB text is the prefix of the 100 KB one
    if (k == CJK) n -= n % 3;
    for (size_t i = 0; i < n; i++) {
        switch (k) {
        case LETTER: s[i] = 'a'; break;
        case BASE64: s[i] = b64[rng() & 63]; break;
        case SPACES: s[i] = ' '; break;
        case DIGITS: s[i] = (char)('0' + rng() % 10); break;
        case CJK: s[i] = "\xE7\x9A\x84"[i % 3]; break;  // U+7684 的, repeated
        }
    }
    s[n] = 0;
    *len = n;
    return s;
}

// Encodes text; checks the round trip; returns the token count (0 on failure).
static size_t encode_check(const Tokenizer *t, Kind k, size_t n) {
    size_t len;
    char *s = make_text(k, n, &len);
    IntVec ids = {0};
    Buf back = {0};
    Err e = {0};
    int rc = tok_encode(t, s, len, 0, &ids, &e);
    CHECK(rc == 0, "%s, %zu bytes: encodes (%zu tokens)%s%s", kind_name[k], len, ids.len,
          rc ? ": " : "", rc ? e.msg : "");
    size_t count = rc ? 0 : ids.len;
    if (rc == 0) {
        rc = tok_decode(t, ids.data, ids.len, &back, &e);
        CHECK(rc == 0 && back.len == len && memcmp(back.data, s, len) == 0,
              "%s, %zu bytes: decode(encode(x)) == x", kind_name[k], len);
    }
    ivec_free(&ids);
    buf_free(&back);
    free(s);
    return count;
}

int main(void) {
    // The rank file from ../shared/data, else the same ranks as npm tiktoken ships them.
    const char *shared = getenv("SHARED_DATA");
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizers/tiktoken/o200k_base.tiktoken",
             shared && *shared ? shared : "../shared/data");
    if (!file_exists(path))
        snprintf(path, sizeof path, "node_modules/tiktoken/encoders/o200k_base.json");
    if (!file_exists(path)) {
        printf("skip: no o200k_base ranks in ../shared/data or node_modules (run npm ci)\n");
        return 77;
    }
    Tokenizer *t;
    Err e = {0};
    if (tok_load(&t, path, NULL, &e)) {
        printf("FAIL  loading %s: %s\n", path, e.msg);
        return 1;
    }

    // The longest token bounds how few tokens a text can take.
    size_t maxlen = 1;
    for (int32_t id = 0; id < tok_vocab_size(t); id++) {
        size_t l;
        if (!tok_is_special(t, id) && tok_token_bytes(t, id, &l) && l > maxlen) maxlen = l;
    }

    const size_t small = 10 * 1000, big = 100 * 1000;
    for (Kind k = LETTER; k <= CJK; k++) {
        size_t c10 = encode_check(t, k, small);
        size_t c100 = encode_check(t, k, big);
        if (!c10 || !c100) continue;
        // Sane: no token is empty or longer than the longest in the vocabulary, and a long
        // run of one repeated unit must use long tokens, not fall back to single bytes.
        size_t len = k == CJK ? big - big % 3 : big;
        CHECK(c100 >= len / maxlen && c100 <= len, "%s: %zu tokens for %zu bytes is within "
              "[bytes / longest token (%zu), bytes]", kind_name[k], c100, len, maxlen);
        // Random base64 compresses poorly (~0.7 tokens a byte); digits split in threes; the
        // CJK character is one token (3 bytes); letters and spaces have long tokens.
        size_t most = len / 4;
        if (k == BASE64) most = len * 4 / 5;
        if (k == DIGITS) most = len / 3 + 1;
        if (k == CJK) most = len / 3;
        CHECK(c100 <= most, "%s: %zu tokens <= %zu (long tokens used)", kind_name[k], c100, most);
        // Linear: 10x the text, 10x the tokens (within 5%; exact for the repeated runs up
        // to the piece ends).
        double ratio = (double)c100 / (double)c10;
        CHECK(ratio > 9.5 && ratio < 10.5, "%s: 10 KB -> %zu tokens, 100 KB -> %zu tokens "
              "(x%.3f, expected ~x10)", kind_name[k], c10, c100, ratio);
    }

    // A run of one letter is one piece: its tokens are the longest 'a' tokens, so the count
    // is the same for every length that divides evenly, whichever merge path is taken.
    size_t c_flat = encode_check(t, LETTER, 64), c_heap = encode_check(t, LETTER, 64 * 1000);
    CHECK(c_flat && c_heap == 1000 * c_flat, "'a' run: 64 bytes -> %zu tokens, 64000 bytes -> "
          "%zu tokens (x1000 expected: the short and the long merge agree)", c_flat, c_heap);

    tok_free(t);
    return check_summary();
}
