// html.c: HTML escaping (see html.h).
#include "util/html.h"

#include <string.h>

int html_escape_n(Buf *b, const char *s, size_t n) {
    size_t run = 0;  // bytes since the last escaped one, appended in one go
    for (size_t i = 0; i < n; i++) {
        const char *ref = NULL;
        switch (s[i]) {
        case '&': ref = "&amp;"; break;
        case '<': ref = "&lt;"; break;
        case '>': ref = "&gt;"; break;
        case '"': ref = "&quot;"; break;
        case '\'': ref = "&#39;"; break;
        default: continue;
        }
        if (buf_append(b, s + run, i - run) || buf_append(b, ref, strlen(ref))) return -1;
        run = i + 1;
    }
    return buf_append(b, s + run, n - run);
}

int html_escape(Buf *b, const char *s) { return s ? html_escape_n(b, s, strlen(s)) : 0; }
