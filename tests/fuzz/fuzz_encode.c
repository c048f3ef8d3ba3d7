// fuzz_encode.c: arbitrary bytes through tok_encode and back through tok_decode.
//
// At start-up the target writes a tiny byte-level rank file (the 256 single bytes and a
// few dozen merged tokens, chosen so that merges overlap and tie) under the names of
// four built-in encodings, and loads it four times: o200k_base, cl100k_base, gpt2 and
// p50k_edit split patterns and special tokens over the same ranks.
//
// Input: byte 0 chooses the tokenizer (bits 0-1) and the flags (bit 2 ALLOW_SPECIAL,
// bit 3 ADD_BOS, bit 4 ADD_EOS, bit 5 REPLACE_INVALID); the rest is the text.
// Properties:
//   - valid UTF-8 encodes, every id is in the vocabulary, and decode(encode(x)) == x
//     (less the EOS id when ADD_EOS asked for one);
//   - invalid UTF-8 fails without REPLACE_INVALID, and with it decodes to the text with
//     each bad byte replaced by U+FFFD;
//   - bit 6 set: the text is first mapped onto a few letters, so that with the gpt2
//     pattern it is one single pre-token piece; then its ids must equal a naive
//     reference BPE written here (lowest rank first, leftmost on ties), which checks
//     the engine's short (flat) and long (heap) merge loops against each other.
#include "fuzz_common.h"

#include "tok/loaders.h"

// The merged tokens, in rank order after the 256 bytes (rank = 256 + index).
static const char *const MERGES[] = {
    "th", "he", "in", "er", "an", " t", " a", "on", "re", "at", "en", "the", " the", "ing",
    "ed", "nd", "es", " s", "  ", "    ", "        ", "\n\n", "aa", "aaaa", "aaaaaaaa", "00",
    "000", "12", "123", "\xC3\xA9", "\xE7\x9A", "\xE7\x9A\x84", "ab", "abc", "bc", "abcd",
    "==", "AA", "AAAA", "++", "//", "{\"", "\":", "<|", "ta", "ea", "ne", "ha", "hat", "that",
    "tea", "ten", "net", "eat", "ate", "heat", "ch", "each", "teach", "ca", "cat", "ac", "ee",
    "eee", "ht", "nn", "tt", "tte", "ett", "ba", "abba", "aba", "bab", "xyz",
};
#define N_MERGES (sizeof MERGES / sizeof *MERGES)
#define LETTERS "abcehnt"  // the alphabet of the single-piece mode

static void build_set(void);

static const char *const ENCODINGS[4] = {"o200k_base", "cl100k_base", "gpt2", "p50k_edit"};
static Tokenizer *toks[4];

static void b64(const uint8_t *p, size_t n, char *out) {
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t k = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n) v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n) v |= p[i + 2];
        out[k++] = a[v >> 18 & 63];
        out[k++] = a[v >> 12 & 63];
        out[k++] = i + 1 < n ? a[v >> 6 & 63] : '=';
        out[k++] = i + 2 < n ? a[v & 63] : '=';
    }
    out[k] = 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    Buf f = {0};
    char enc[64];
    for (int b = 0; b < 256; b++) {
        uint8_t byte = (uint8_t)b;
        b64(&byte, 1, enc);
        buf_appendf(&f, "%s %d\n", enc, b);
    }
    for (size_t i = 0; i < N_MERGES; i++) {
        b64((const uint8_t *)MERGES[i], strlen(MERGES[i]), enc);
        buf_appendf(&f, "%s %zu\n", enc, 256 + i);
    }
    for (int k = 0; k < 4; k++) {
        char name[64];
        snprintf(name, sizeof name, "%s.tiktoken", ENCODINGS[k]);
        const char *path = fuzz_write(name, f.data, f.len);
        Err e = {0};
        if (tok_load_tiktoken(&toks[k], path, ENCODINGS[k], &e)) {
            fprintf(stderr, "fuzz_encode: cannot load the test vocabulary: %s\n", e.msg);
            abort();
        }
    }
    buf_free(&f);
    build_set();
    return 0;
}

// ---- the reference BPE ------------------------------------------------------------------

// Rank of the token spelled s[0..n), or -1, from a small hash set of the merged tokens
// built at start-up (independent of the engine's own tables).
#define SET_CAP 256  // > 2 x N_MERGES
static int16_t set[SET_CAP];  // rank - 255 of the token in the slot, 0 = empty

static uint32_t spell_hash(const char *s, size_t n) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 16777619u;
    return h;
}

static void build_set(void) {
    for (size_t i = 0; i < N_MERGES; i++) {
        uint32_t k = spell_hash(MERGES[i], strlen(MERGES[i])) % SET_CAP;
        while (set[k]) k = (k + 1) % SET_CAP;
        set[k] = (int16_t)(i + 1);
    }
}

static int rank_of(const char *s, size_t n) {
    if (n == 1) return (uint8_t)s[0];
    for (uint32_t k = spell_hash(s, n) % SET_CAP; set[k]; k = (k + 1) % SET_CAP) {
        const char *m = MERGES[set[k] - 1];
        if (strlen(m) == n && memcmp(m, s, n) == 0) return 255 + set[k];
    }
    return -1;
}

// Naive BPE of one piece: parts start as bytes; merge the adjacent pair whose
// concatenation has the lowest rank (leftmost on ties) until none is a token.
static size_t reference_bpe(const char *s, size_t n, int32_t *ids) {
    int whole = rank_of(s, n);
    if (whole >= 0) {
        ids[0] = whole;
        return 1;
    }
    size_t *start = malloc((n + 1) * sizeof *start), parts = n;
    for (size_t i = 0; i <= n; i++) start[i] = i;  // part i is s[start[i]..start[i+1])
    for (;;) {
        int best = -1;
        size_t at = 0;
        for (size_t i = 0; i + 1 < parts; i++) {
            int r = rank_of(s + start[i], start[i + 2] - start[i]);
            if (r >= 0 && (best < 0 || r < best)) best = r, at = i;
        }
        if (best < 0) break;
        memmove(start + at + 1, start + at + 2, (parts - at - 1) * sizeof *start);
        parts--;
    }
    for (size_t i = 0; i < parts; i++) ids[i] = rank_of(s + start[i], start[i + 1] - start[i]);
    free(start);
    return parts;
}

// ---- the target -------------------------------------------------------------------------

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0) return 0;
    uint8_t mode = data[0];
    const Tokenizer *t = toks[mode & 3];
    int flags = (mode & 4 ? TOK_ALLOW_SPECIAL : 0) | (mode & 8 ? TOK_ADD_BOS : 0) |
                (mode & 16 ? TOK_ADD_EOS : 0) | (mode & 32 ? TOK_REPLACE_INVALID : 0);
    const char *text = (const char *)data + 1;
    size_t len = size - 1;

    if (mode & 64) {  // one piece of letters, against the reference
        if (len > 600) return 0;  // the reference is quadratic
        t = toks[2];               // gpt2's pattern: " ?\p{L}+" keeps letters together
        char *s = malloc(len + 1);
        for (size_t i = 0; i < len; i++) s[i] = LETTERS[data[1 + i] % (sizeof LETTERS - 1)];
        IntVec ids = {0};
        Err e = {0};
        int rc = tok_encode(t, s, len, 0, &ids, &e);
        FUZZ_ASSERT(rc == 0, "encode failed: %s", e.msg);
        int32_t *want = malloc((len + 1) * sizeof *want);
        size_t n = len ? reference_bpe(s, len, want) : 0;
        FUZZ_ASSERT(ids.len == n, "%zu letters: %zu ids, the reference has %zu", len, ids.len, n);
        for (size_t i = 0; i < n; i++)
            FUZZ_ASSERT(ids.data[i] == want[i], "%zu letters: id %zu is %d, the reference has %d",
                        len, i, ids.data[i], want[i]);
        free(want);
        free(s);
        ivec_free(&ids);
        return 0;
    }

    IntVec ids = {0};
    Buf back = {0}, fixed = {0};
    Err e = {0};
    bool valid = utf8_find_invalid(text, len) == (size_t)-1;
    int rc = tok_encode(t, text, len, flags, &ids, &e);
    if (!valid && !(flags & TOK_REPLACE_INVALID)) {
        FUZZ_ASSERT(rc != 0, "invalid UTF-8 was encoded without TOK_REPLACE_INVALID");
    } else {
        FUZZ_ASSERT(rc == 0, "encode failed: %s", e.msg);
        size_t n = ids.len;
        if ((flags & TOK_ADD_EOS) && tok_eos_id(t) >= 0) {
            FUZZ_ASSERT(n > 0 && ids.data[n - 1] == tok_eos_id(t), "EOS missing");
            n--;
        }
        for (size_t i = 0; i < n; i++)
            FUZZ_ASSERT(ids.data[i] >= 0 && ids.data[i] < tok_vocab_size(t), "id out of range");
        rc = tok_decode(t, ids.data, n, &back, &e);
        FUZZ_ASSERT(rc == 0, "decode failed: %s", e.msg);
        const char *want = text;
        size_t want_len = len;
        if (!valid) {
            FUZZ_ASSERT(utf8_replace_invalid(text, len, &fixed) == 0, "out of memory");
            want = fixed.data;
            want_len = fixed.len;
        }
        FUZZ_ASSERT(back.len == want_len && (want_len == 0 || memcmp(back.data, want, want_len) == 0),
                    "decode(encode(x)) != x: %zu bytes in, %zu out", want_len, back.len);
        // Without ALLOW_SPECIAL no control token may come out of ordinary text.
        if (!(flags & TOK_ALLOW_SPECIAL))
            for (size_t i = 0; i < n; i++)
                FUZZ_ASSERT(!tok_is_special(t, ids.data[i]), "special id %d from plain text",
                            ids.data[i]);
    }
    ivec_free(&ids);
    buf_free(&back);
    buf_free(&fixed);
    return 0;
}
