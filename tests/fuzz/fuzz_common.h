// fuzz_common.h: helpers shared by the libFuzzer targets in tests/fuzz.
//
// The loaders read files, so each target writes its input into a private temporary
// directory (under /dev/shm when it exists, to keep the file system out of the loop)
// and loads it from there. fuzz_exercise then runs a loaded tokenizer over a few fixed
// texts and over the input itself, so a loader that accepts a malformed vocabulary
// must still give a tokenizer that encodes and decodes without crashing.
#ifndef PT_FUZZ_COMMON_H
#define PT_FUZZ_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tok/tok.h"
#include "util/utf8.h"

static char fuzz_dir[256];

static void fuzz_cleanup(void) {
    // Only the files the targets write; the directory itself last.
    static const char *names[] = {"tokenizer.json", "tokenizer.bin", "tokenizer_config.json",
                                  "fuzz.tiktoken", "fuzz.json", "o200k_base.tiktoken",
                                  "cl100k_base.tiktoken", "gpt2.tiktoken", "p50k_edit.tiktoken"};
    char p[512];
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(p, sizeof p, "%s/%s", fuzz_dir, names[i]);
        unlink(p);
    }
    rmdir(fuzz_dir);
}

// The path of name inside the target's temporary directory (made on first use).
static const char *fuzz_path(const char *name) {
    static char p[512];
    if (!fuzz_dir[0]) {
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(fuzz_dir, sizeof fuzz_dir, "%s/posttrain-fuzz.XXXXXX", base);
        if (!mkdtemp(fuzz_dir)) {
            perror("mkdtemp");
            abort();
        }
        atexit(fuzz_cleanup);
    }
    snprintf(p, sizeof p, "%s/%s", fuzz_dir, name);
    return p;
}

// Writes data to name in the temporary directory; returns its path.
static const char *fuzz_write(const char *name, const void *data, size_t size) {
    const char *p = fuzz_path(name);
    FILE *f = fopen(p, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size)) {
        perror(p);
        abort();
    }
    fclose(f);
    return p;
}

// A failed property: print what and stop, so libFuzzer saves the input as a crash.
#define FUZZ_ASSERT(cond, ...)                                   \
    do {                                                         \
        if (!(cond)) {                                           \
            fprintf(stderr, "fuzz property failed: " __VA_ARGS__); \
            fprintf(stderr, "\n");                               \
            abort();                                             \
        }                                                        \
    } while (0)

// Encodes text with flags and decodes the ids; with roundtrip, a valid UTF-8 text must
// come back byte for byte. Errors (unknown symbols without <unk>, …) are allowed.
static void fuzz_encode_decode(const Tokenizer *t, const char *text, size_t len, int flags,
                               bool roundtrip) {
    IntVec ids = {0};
    Buf back = {0};
    Err e = {0};
    if (tok_encode(t, text, len, flags, &ids, &e) == 0) {
        for (size_t i = 0; i < ids.len; i++)
            FUZZ_ASSERT(ids.data[i] >= 0 && ids.data[i] < tok_vocab_size(t),
                        "id %d at %zu is outside the vocabulary (%d)", ids.data[i], i,
                        tok_vocab_size(t));
        int rc = tok_decode(t, ids.data, ids.len, &back, &e);
        FUZZ_ASSERT(rc == 0, "decode of encode output failed: %s", e.msg);
        if (roundtrip && utf8_find_invalid(text, len) == (size_t)-1)
            FUZZ_ASSERT(back.len == len && (len == 0 || memcmp(back.data, text, len) == 0),
                        "decode(encode(x)) != x (%zu bytes in, %zu out)", len, back.len);
    }
    ivec_free(&ids);
    buf_free(&back);
}

// Runs a freshly loaded tokenizer over fixed texts and the fuzz input.
static void fuzz_exercise(const Tokenizer *t, const uint8_t *data, size_t size, bool roundtrip) {
    static const char *texts[] = {
        "", "Hello, world! It's 2024 and we're testing 12345 tokens.\n\n  indented\ttab",
        "<|endoftext|> <s> </s> <unk> [CLS] \xE2\x96\x81 x", "caf\xC3\xA9 \xE7\x9A\x84\xE4\xB8\x80 "
        "\xF0\x9F\x98\x80", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "\xFF\xFE invalid \xC3"};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        fuzz_encode_decode(t, texts[i], strlen(texts[i]), 0, roundtrip);
        fuzz_encode_decode(t, texts[i], strlen(texts[i]), TOK_ALLOW_SPECIAL | TOK_REPLACE_INVALID,
                           false);
    }
    fuzz_encode_decode(t, (const char *)data, size < 512 ? size : 512, TOK_REPLACE_INVALID, false);
    // Every id with bytes decodes on its own (specials as their spelling); the others are
    // refused with a message.
    Buf out = {0};
    for (int32_t id = 0; id < tok_vocab_size(t) && id < 4096; id++) {
        size_t len;
        const uint8_t *b = tok_token_bytes(t, id, &len);
        Err e = {0};
        out.len = 0;
        int rc = tok_decode(t, &id, 1, &out, &e);
        FUZZ_ASSERT(b ? rc == 0 : rc != 0 && e.msg[0], "decode of id %d: rc %d with%s bytes", id,
                    rc, b ? "" : "out");
    }
    buf_free(&out);
}

// The end of every loader target: a load that succeeded must give a tokenizer that
// survives fuzz_exercise; one that failed must say why. Frees t.
static void fuzz_check_load(int rc, Tokenizer *t, const Err *e, const uint8_t *data, size_t size,
                            bool roundtrip) {
    if (rc == 0) {
        FUZZ_ASSERT(t != NULL, "load succeeded without a tokenizer");
        fuzz_exercise(t, data, size, roundtrip);
        tok_free(t);
    } else {
        FUZZ_ASSERT(e->msg[0] != 0, "load failed without a message");
    }
}

#endif
