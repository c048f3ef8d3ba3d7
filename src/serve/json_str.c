// json_str.c: JSON string literals of byte ranges (see json_str.h).
#include "serve/json_str.h"

#include <stdio.h>

#include "util/buf.h"

cJSON *json_string_n(const char *s, size_t n) {
    Buf b = {0};
    int rc = buf_putc(&b, '"');
    for (size_t i = 0; i < n && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': rc = buf_append(&b, "\\\"", 2); break;
        case '\\': rc = buf_append(&b, "\\\\", 2); break;
        case '\n': rc = buf_append(&b, "\\n", 2); break;
        case '\r': rc = buf_append(&b, "\\r", 2); break;
        case '\t': rc = buf_append(&b, "\\t", 2); break;
        default: rc = c < 0x20 ? buf_appendf(&b, "\\u%04x", c) : buf_putc(&b, (char)c);
        }
    }
    if (rc == 0) rc = buf_putc(&b, '"');
    cJSON *item = rc == 0 ? cJSON_CreateRaw(b.data) : NULL;
    buf_free(&b);
    return item;
}
