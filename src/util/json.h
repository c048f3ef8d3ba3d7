// json.h: text into a JSON string literal — the one escaper for the JSON written by hand
// (tokenizer files, the served model's raw text items).
#ifndef PT_JSON_H
#define PT_JSON_H

#include <stddef.h>

#include "util/buf.h"

// Appends s[0..n) as a quoted JSON string: " and \ escaped, \n \r \t by name, the other
// control bytes and DEL as \u00XX; every other byte as it is (UTF-8 passes through, and
// a NUL byte becomes \u0000 rather than ending the text).
int json_escape(Buf *b, const char *s, size_t n);

#endif
