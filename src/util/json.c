// json.c: JSON string literals (see json.h).
#include "util/json.h"

int json_escape(Buf *b, const char *s, size_t n) {
    int rc = buf_putc(b, '"');
    for (size_t i = 0; i < n && !rc; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': rc = buf_append(b, "\\\"", 2); break;
        case '\\': rc = buf_append(b, "\\\\", 2); break;
        case '\n': rc = buf_append(b, "\\n", 2); break;
        case '\r': rc = buf_append(b, "\\r", 2); break;
        case '\t': rc = buf_append(b, "\\t", 2); break;
        default: rc = c < 0x20 || c == 0x7F ? buf_appendf(b, "\\u%04x", c) : buf_putc(b, (char)c);
        }
    }
    return rc || buf_putc(b, '"');
}
