// buf.c: growable byte buffer and int32 vector (see buf.h). Growth doubles capacity.
#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int buf_reserve(Buf *b, size_t extra) {
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) return -1;
    b->data = p;
    b->cap = cap;
    b->data[b->len] = 0;
    return 0;
}

int buf_append(Buf *b, const void *p, size_t n) {
    if (buf_reserve(b, n)) return -1;
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
    return 0;
}

int buf_putc(Buf *b, char c) { return buf_append(b, &c, 1); }

int buf_appendf(Buf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || buf_reserve(b, (size_t)n)) return -1;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void buf_free(Buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int ivec_reserve(IntVec *v, size_t extra) {
    size_t need = v->len + extra;
    if (need <= v->cap) return 0;
    size_t cap = v->cap ? v->cap : 64;
    while (cap < need) cap *= 2;
    int32_t *p = realloc(v->data, cap * sizeof *p);
    if (!p) return -1;
    v->data = p;
    v->cap = cap;
    return 0;
}

int ivec_push(IntVec *v, int32_t x) {
    if (v->len == v->cap && ivec_reserve(v, 1)) return -1;
    v->data[v->len++] = x;
    return 0;
}

int ivec_append(IntVec *v, const int32_t *p, size_t n) {
    if (ivec_reserve(v, n)) return -1;
    if (n) memcpy(v->data + v->len, p, n * sizeof *p);
    v->len += n;
    return 0;
}

void ivec_free(IntVec *v) {
    free(v->data);
    v->data = NULL;
    v->len = v->cap = 0;
}
