// registry.c: what we know about the built-in encodings and their control tokens.
//
// tiktoken rank files hold ordinary tokens only; the special tokens of each encoding and
// the chat-protocol tokens that OpenAI's models use on top of them are listed here, so
// that o200k_base + the gpt4o template gives the seed's ids exactly
// (<|im_start|>=200264, <|im_end|>=200265, <|im_sep|>=200266).
#include <string.h>

#include "tok/registry.h"
#include "tok/tok_impl.h"

typedef struct {
    const char *encoding;
    const char *pattern;
} Encoding;

// Split patterns, as published with each encoding.
#define PAT_GPT2 "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+"
#define PAT_CL100K                                                                          \
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "               \
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define PAT_O200K                                                                           \
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]+" \
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+" \
    "[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\\p{N}{1,3}| "               \
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"

static const Encoding encodings[] = {
    {"gpt2", PAT_GPT2},
    {"r50k_base", PAT_GPT2},
    {"p50k_base", PAT_GPT2},
    {"p50k_edit", PAT_GPT2},
    {"cl100k_base", PAT_CL100K},
    {"o200k_base", PAT_O200K},
};

static const RegistryToken tokens[] = {
    // The encodings' own specials (tiktoken loads these with the ranks).
    {"gpt2", "<|endoftext|>", 50256, 1},
    {"r50k_base", "<|endoftext|>", 50256, 1},
    {"p50k_base", "<|endoftext|>", 50256, 1},
    {"p50k_edit", "<|endoftext|>", 50256, 1},
    {"p50k_edit", "<|fim_prefix|>", 50281, 1},
    {"p50k_edit", "<|fim_middle|>", 50282, 1},
    {"p50k_edit", "<|fim_suffix|>", 50283, 1},
    {"cl100k_base", "<|endoftext|>", 100257, 1},
    {"cl100k_base", "<|fim_prefix|>", 100258, 1},
    {"cl100k_base", "<|fim_middle|>", 100259, 1},
    {"cl100k_base", "<|fim_suffix|>", 100260, 1},
    {"cl100k_base", "<|endofprompt|>", 100276, 1},
    {"o200k_base", "<|endoftext|>", 199999, 1},
    {"o200k_base", "<|endofprompt|>", 200018, 1},
    // Chat-protocol tokens that OpenAI's chat models add on top (not in the rank files;
    // added on demand by a chat template).
    {"cl100k_base", "<|im_start|>", 100264, 0},
    {"cl100k_base", "<|im_end|>", 100265, 0},
    {"o200k_base", "<|im_start|>", 200264, 0},
    {"o200k_base", "<|im_end|>", 200265, 0},
    {"o200k_base", "<|im_sep|>", 200266, 0},
};

const char *tok_builtin_pattern(const char *name) {
    for (size_t i = 0; i < sizeof encodings / sizeof *encodings; i++)
        if (strcmp(encodings[i].encoding, name) == 0) return encodings[i].pattern;
    return NULL;
}

const RegistryToken *registry_tokens(size_t *n) {
    *n = sizeof tokens / sizeof *tokens;
    return tokens;
}

int32_t registry_id(const char *encoding, const char *token) {
    for (size_t i = 0; i < sizeof tokens / sizeof *tokens; i++)
        if (strcmp(tokens[i].encoding, encoding) == 0 && strcmp(tokens[i].token, token) == 0)
            return tokens[i].id;
    return -1;
}

int32_t tok_registry_id(const Tokenizer *t, const char *name) {
    int32_t id = registry_id(t->name, name);
    // A known id is only usable while it is free in this vocabulary.
    if (id >= 0 && id < t->n_vocab && t->tok_off[id] != UINT32_MAX) return -1;
    return id;
}
