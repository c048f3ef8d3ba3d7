// utf8.h: UTF-8 validation and decoding (RFC 3629: no overlongs, no surrogates, ≤ U+10FFFF).
#ifndef PT_UTF8_H
#define PT_UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

// Length of the valid UTF-8 sequence starting at s (n bytes left), or 0 if invalid.
int utf8_seq_len(const uint8_t *s, size_t n);
// Returns the byte offset of the first invalid sequence, or (size_t)-1 if all valid.
size_t utf8_find_invalid(const char *s, size_t n);
// Copies s into out, each invalid byte replaced by U+FFFD (as the WHATWG decoder does per byte).
int utf8_replace_invalid(const char *s, size_t n, Buf *out);
// Decodes one code point (assumes valid); returns its byte length.
int utf8_decode(const uint8_t *s, uint32_t *cp);
// Encodes cp into out (4 bytes room); returns byte length.
int utf8_encode(uint32_t cp, char *out);

#endif
