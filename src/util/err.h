// err.h: how library code reports failure.
//
// Every fallible function returns int (0 = ok, -1 = error) and fills an Err whose
// message names what a user can act on: "a.jsonl:12: messages[3].role: expected
// user|assistant". The source location of the report is kept apart (for --debug),
// so the message stays about the user's data, not our code. Only src/cli prints.
#ifndef PT_ERR_H
#define PT_ERR_H

#include <stdarg.h>

typedef enum {
    ERR_OK = 0,
    ERR_IO,       // a file could not be opened, read or written
    ERR_FORMAT,   // input is malformed (bad JSON, bad header, bad UTF-8, …)
    ERR_ARG,      // a caller or user passed a bad value
    ERR_NOMEM,    // allocation failed
    ERR_UNSUPPORTED,
} ErrCode;

typedef struct {
    ErrCode code;
    const char *src_file;  // where in our code the error was raised (borrowed, static)
    int src_line;
    char msg[1024];
} Err;

// Sets e (if not NULL) and returns -1, so callers can write `return ERR(e, ...)`.
int err_set(Err *e, ErrCode code, const char *src_file, int src_line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
// Prefixes the existing message with more context: "tokenizer.json: " + msg.
int err_prefix(Err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define ERR(e, code, ...) err_set((e), (code), __FILE__, __LINE__, __VA_ARGS__)

#endif
