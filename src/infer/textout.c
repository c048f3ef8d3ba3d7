// textout.c: held-back text release (textout.h).
#define _GNU_SOURCE  // memmem
#include "infer/textout.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

int textout_init(TextOut *t, const char *const *stops, int n_stops) {
    memset(t, 0, sizeof *t);
    if (n_stops <= 0 || !stops) return 0;
    if (!(t->stops = calloc((size_t)n_stops, sizeof *t->stops))) return -1;
    for (int i = 0; i < n_stops; i++) {
        if (!stops[i] || !stops[i][0]) continue;
        if (!(t->stops[t->n_stops] = strdup(stops[i]))) {
            textout_free(t);
            return -1;
        }
        t->n_stops++;
    }
    return 0;
}

void textout_free(TextOut *t) {
    for (int i = 0; i < t->n_stops; i++) free(t->stops[i]);
    free(t->stops);
    buf_free(&t->pending);
    memset(t, 0, sizeof *t);
}

// Bytes at the end of s (n) that start a UTF-8 sequence still missing continuation bytes.
static size_t utf8_incomplete_tail(const char *s, size_t n) {
    const uint8_t *u = (const uint8_t *)s;
    for (size_t k = 1; k <= 3 && k <= n; k++) {
        uint8_t c = u[n - k];
        if ((c & 0xC0) == 0x80) continue;  // continuation byte: look further back
        size_t need = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
        return need > k ? k : 0;
    }
    return 0;
}

// Length of the longest tail of s (n) that is a proper prefix of some stop string.
static size_t stop_prefix_tail(const TextOut *t, const char *s, size_t n) {
    size_t best = 0;
    for (int i = 0; i < t->n_stops; i++) {
        size_t L = strlen(t->stops[i]);
        for (size_t k = (L - 1 < n ? L - 1 : n); k > best; k--)
            if (!memcmp(s + n - k, t->stops[i], k)) {
                best = k;
                break;
            }
    }
    return best;
}

// Moves pending[0..n) to out as valid UTF-8.
static int release(TextOut *t, size_t n, Buf *out) {
    if (n == 0) return 0;
    if (utf8_replace_invalid(t->pending.data, n, out)) return -1;
    memmove(t->pending.data, t->pending.data + n, t->pending.len - n);
    t->pending.len -= n;
    if (t->pending.data) t->pending.data[t->pending.len] = 0;
    return 0;
}

int textout_push(TextOut *t, const char *bytes, size_t n, Buf *out) {
    if (t->stopped) return 1;
    if (buf_append(&t->pending, bytes, n)) return -1;
    const char *s = t->pending.data;
    size_t len = t->pending.len;
    // The earliest stop string occurrence wins.
    size_t first = (size_t)-1;
    for (int i = 0; i < t->n_stops; i++) {
        const char *hit = memmem(s, len, t->stops[i], strlen(t->stops[i]));
        if (hit && (size_t)(hit - s) < first) first = (size_t)(hit - s);
    }
    if (first != (size_t)-1) {
        t->stopped = true;
        if (release(t, first, out)) return -1;
        t->pending.len = 0;
        return 1;
    }
    size_t hold = stop_prefix_tail(t, s, len), u = utf8_incomplete_tail(s, len);
    if (u > hold) hold = u;
    return release(t, len - hold, out);
}

int textout_flush(TextOut *t, Buf *out) {
    if (t->stopped) return 0;
    return release(t, t->pending.len, out);
}
