// base64.h: standard base64 (RFC 4648, with padding) decoding, as tiktoken rank files use.
#ifndef PT_BASE64_H
#define PT_BASE64_H

#include <stddef.h>
#include <stdint.h>

// Decodes s[0..n) into out (room for 3*n/4 bytes); returns the length or -1 if invalid.
long base64_decode(const char *s, size_t n, uint8_t *out);

#endif
