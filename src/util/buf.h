// buf.h: growable byte buffers and int32 vectors, the two containers everything uses.
// A zeroed Buf/IntVec is empty and valid; *_free returns it to that state.
#ifndef PT_BUF_H
#define PT_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *data;  // always NUL-terminated when len > 0 or after buf_reserve
    size_t len, cap;
} Buf;

typedef struct {
    int32_t *data;
    size_t len, cap;
} IntVec;

int buf_reserve(Buf *b, size_t extra);  // room for extra more bytes (+ NUL); 0 or -1 (OOM)
int buf_append(Buf *b, const void *p, size_t n);
int buf_appendf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_putc(Buf *b, char c);
void buf_free(Buf *b);

int ivec_reserve(IntVec *v, size_t extra);
int ivec_push(IntVec *v, int32_t x);
int ivec_append(IntVec *v, const int32_t *p, size_t n);
void ivec_free(IntVec *v);

#endif
