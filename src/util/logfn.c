// logfn.c: see logfn.h.
#include "util/logfn.h"

#include <stdarg.h>
#include <stdio.h>

void log_note(LogFn fn, void *ctx, const char *fmt, ...) {
    if (!fn) return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fn(ctx, msg);
}
