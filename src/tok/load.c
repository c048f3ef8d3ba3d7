// load.c: tok_load — finds out what a tokenizer SPEC names and calls the right loader.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok/loaders.h"
#include "tok/tok_impl.h"
#include "util/file.h"

static bool ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

// "dir/o200k_base.tiktoken" -> "o200k_base"
static void stem(const char *path, char *out, size_t n) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(out, n, "%s", base);
    char *dot = strrchr(out, '.');
    if (dot) *dot = 0;
}

static int load_file(Tokenizer **out, const char *path, Err *e) {
    if (ends_with(path, ".tiktoken")) {
        char enc[128];
        stem(path, enc, sizeof enc);
        return tok_load_tiktoken(out, path, enc, e);
    }
    if (ends_with(path, ".json")) {
        if (ends_with(path, "encoder.json")) return tok_load_gpt2_files(out, path, e);
        // npm tiktoken's encoders/o200k_base.json: named after a built-in encoding.
        char enc[128];
        stem(path, enc, sizeof enc);
        if (tok_builtin_pattern(enc)) return tok_load_tiktoken_npm(out, path, enc, e);
        return tok_load_hf_json(out, path, e);
    }
    if (ends_with(path, ".bin")) return tok_load_llama2c(out, path, e);
    return ERR(e, ERR_ARG, "%s: unknown tokenizer file type (expected .tiktoken, "
               "tokenizer.json, encoder.json or a llama2.c .bin)", path);
}

int tok_load(Tokenizer **out, const char *spec, const char *vocab_dir, Err *e) {
    *out = NULL;
    char path[4096];
    if (file_is_dir(spec)) {
        // A model directory: the first tokenizer file we recognize, in this order.
        static const char *names[] = {"tokenizer.json", "tokenizer.bin", "encoder.json"};
        for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
            if (path_join(path, sizeof path, spec, names[i], e)) return -1;
            if (file_exists(path)) return load_file(out, path, e);
        }
        return ERR(e, ERR_ARG, "%s: no tokenizer.json, tokenizer.bin or encoder.json in this "
                   "directory", spec);
    }
    if (file_exists(spec)) return load_file(out, spec, e);
    if (tok_builtin_pattern(spec)) {
        const char *dir = vocab_dir ? vocab_dir : getenv("POSTTRAIN_VOCAB_DIR");
        if (!dir)
            return ERR(e, ERR_ARG, "%s: a built-in encoding needs its rank file: pass "
                       "--vocab-dir DIR (with %s.tiktoken in it) or set POSTTRAIN_VOCAB_DIR",
                       spec, spec);
        // gpt2 and r50k_base share their ranks; accept either file name.
        char name[160];
        snprintf(name, sizeof name, "%s.tiktoken", spec);
        if (path_join(path, sizeof path, dir, name, e)) return -1;
        if (!file_exists(path) && (!strcmp(spec, "gpt2") || !strcmp(spec, "r50k_base") ||
                                   !strcmp(spec, "p50k_base"))) {
            for (const char *alt = "gpt2\0r50k_base\0"; *alt; alt += strlen(alt) + 1) {
                snprintf(name, sizeof name, "%s.tiktoken", alt);
                if (path_join(path, sizeof path, dir, name, e)) return -1;
                if (file_exists(path)) break;
            }
        }
        if (!file_exists(path)) {
            // npm tiktoken's encoders/ folder holds NAME.json instead.
            snprintf(name, sizeof name, "%s.json", spec);
            if (path_join(path, sizeof path, dir, name, e)) return -1;
            if (file_exists(path)) return tok_load_tiktoken_npm(out, path, spec, e);
            return ERR(e, ERR_IO, "%s: no %s.tiktoken (or npm tiktoken's %s.json) in %s", spec,
                       spec, spec, dir);
        }
        return tok_load_tiktoken(out, path, spec, e);
    }
    return ERR(e, ERR_ARG, "%s: no such file or directory, and not a built-in encoding "
               "(gpt2, r50k_base, p50k_base, cl100k_base, o200k_base)", spec);
}
