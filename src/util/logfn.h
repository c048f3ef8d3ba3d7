// logfn.h: the one-line notes library code hands to its caller (a CLI prints them, a test
// may ignore them): a callback and its context, and a printf-style helper.
#ifndef PT_LOGFN_H
#define PT_LOGFN_H

typedef void (*LogFn)(void *ctx, const char *msg);

// Formats the message and calls fn(ctx, msg); nothing when fn is NULL. Messages longer
// than 2 KB are cut.
void log_note(LogFn fn, void *ctx, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
