// registry.h: built-in encodings (split patterns) and known control-token ids.
#ifndef PT_REGISTRY_H
#define PT_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *encoding;  // tiktoken encoding name
    const char *token;     // spelling
    int32_t id;
    int builtin;           // 1: part of the encoding itself; 0: a chat token added on demand
} RegistryToken;

const RegistryToken *registry_tokens(size_t *n);
// The known id of token in encoding, or -1.
int32_t registry_id(const char *encoding, const char *token);

#endif
