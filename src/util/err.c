// err.c: filling and prefixing Err messages (see err.h).
#include "util/err.h"

#include <stdio.h>
#include <string.h>

int err_set(Err *e, ErrCode code, const char *src_file, int src_line, const char *fmt, ...) {
    if (!e) return -1;
    e->code = code;
    e->src_file = src_file;
    e->src_line = src_line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int err_prefix(Err *e, const char *fmt, ...) {
    if (!e) return -1;
    char head[512], old[sizeof e->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(old, e->msg, sizeof old);
    size_t hl = strlen(head);
    if (hl >= sizeof e->msg) hl = sizeof e->msg - 1;
    memcpy(e->msg, head, hl);
    snprintf(e->msg + hl, sizeof e->msg - hl, "%s", old);
    return -1;
}
