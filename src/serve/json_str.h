// json_str.h: a JSON string from bytes that may hold NUL. cJSON keeps strings as C
// strings, so a model's text with a U+0000 in it (a byte-level model can emit byte 0)
// would be cut there; this writes the literal itself, "\u0000" included, and hands it to
// cJSON as a raw item.
#ifndef PT_SERVE_JSON_STR_H
#define PT_SERVE_JSON_STR_H

#include <cjson/cJSON.h>
#include <stddef.h>

// A cJSON item printing as the JSON string of s[0..n) (UTF-8 expected; bytes pass through
// as they are). NULL when out of memory.
cJSON *json_string_n(const char *s, size_t n);

#endif
