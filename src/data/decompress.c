// decompress.c: plain / gzip / zstd byte streams and a bounded line reader (see decompress.h).
#include "data/decompress.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

enum { IN_CHUNK = 1 << 16, LINE_CHUNK = 1 << 20 };

struct DStream {
    int fd;
    DStreamKind kind;
    char path[512];           // for messages
    uint8_t in[IN_CHUNK];     // compressed input (or the sniffed bytes of a plain file)
    size_t in_pos, in_len;
    bool in_eof;
    z_stream z;
    bool z_live;
    ZSTD_DCtx *zd;
    size_t zstd_left;         // last ZSTD_decompressStream hint: 0 at a frame boundary
    bool ended;               // the compressed stream finished cleanly
};

static int fill(DStream *s, Err *e) {
    if (s->in_pos < s->in_len || s->in_eof) return 0;
    for (;;) {
        ssize_t r = read(s->fd, s->in, IN_CHUNK);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return ERR(e, ERR_IO, "%s: read failed: %s", s->path, strerror(errno));
        s->in_pos = 0;
        s->in_len = (size_t)r;
        if (r == 0) s->in_eof = true;
        return 0;
    }
}

int dstream_open(DStream **out, const char *path, Err *e) {
    *out = NULL;
    DStream *s = calloc(1, sizeof *s);
    if (!s) return ERR(e, ERR_NOMEM, "%s: out of memory", path);
    bool in = !strcmp(path, "-");
    snprintf(s->path, sizeof s->path, "%s", in ? "<stdin>" : path);
    s->fd = in ? 0 : open(path, O_RDONLY);
    if (s->fd < 0) {
        ERR(e, ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        free(s);
        return -1;
    }
    // Sniff: read until 4 bytes are there or the stream ends (a pipe may give fewer).
    while (s->in_len < 4 && !s->in_eof) {
        ssize_t r = read(s->fd, s->in + s->in_len, IN_CHUNK - s->in_len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            ERR(e, ERR_IO, "%s: read failed: %s", s->path, strerror(errno));
            dstream_close(s);
            return -1;
        }
        if (r == 0) s->in_eof = true;
        s->in_len += (size_t)r;
    }
    const uint8_t *m = s->in;
    if (s->in_len >= 2 && m[0] == 0x1f && m[1] == 0x8b) {
        s->kind = DSTREAM_GZIP;
        // 16 + MAX_WBITS: a gzip header, not zlib's.
        if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK) {
            ERR(e, ERR_NOMEM, "%s: cannot start the gzip decoder", s->path);
            dstream_close(s);
            return -1;
        }
        s->z_live = true;
    } else if (s->in_len >= 4 && m[0] == 0x28 && m[1] == 0xb5 && m[2] == 0x2f && m[3] == 0xfd) {
        s->kind = DSTREAM_ZSTD;
        if (!(s->zd = ZSTD_createDCtx())) {
            ERR(e, ERR_NOMEM, "%s: cannot start the zstd decoder", s->path);
            dstream_close(s);
            return -1;
        }
    }
    *out = s;
    return 0;
}

// A decoder may hold output back when the caller's buffer filled up, so an empty input
// only means a truncated stream when the decoder also gives nothing more.
static int read_gzip(DStream *s, uint8_t *buf, size_t n, size_t *got, Err *e) {
    uInt room = n > UINT32_MAX ? UINT32_MAX : (uInt)n;
    s->z.next_out = buf;
    s->z.avail_out = room;
    while (s->z.avail_out == room && !s->ended) {
        if (fill(s, e)) return -1;
        bool none = s->in_pos == s->in_len;
        s->z.next_in = s->in + s->in_pos;
        s->z.avail_in = (uInt)(s->in_len - s->in_pos);
        int rc = inflate(&s->z, Z_NO_FLUSH);
        s->in_pos = s->in_len - s->z.avail_in;
        if (rc == Z_STREAM_END) {
            // Another member may follow (gzip files may be concatenated).
            if (fill(s, e)) return -1;
            if (s->in_pos == s->in_len) s->ended = true;
            else inflateReset(&s->z);
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            return ERR(e, ERR_FORMAT, "%s: corrupt gzip data: %s", s->path,
                       s->z.msg ? s->z.msg : "inflate failed");
        } else if (none && s->z.avail_out == room) {
            return ERR(e, ERR_FORMAT, "%s: truncated gzip data (the file ends mid-stream)",
                       s->path);
        }
    }
    *got = (size_t)(s->z.next_out - buf);
    return 0;
}

static int read_zstd(DStream *s, uint8_t *buf, size_t n, size_t *got, Err *e) {
    ZSTD_outBuffer out = {buf, n, 0};
    while (out.pos == 0) {
        if (fill(s, e)) return -1;
        bool none = s->in_pos == s->in_len;
        if (none && s->zstd_left == 0) break;  // the end, at a frame boundary
        ZSTD_inBuffer in = {s->in, s->in_len, s->in_pos};
        size_t rc = ZSTD_decompressStream(s->zd, &out, &in);
        s->in_pos = in.pos;
        if (ZSTD_isError(rc))
            return ERR(e, ERR_FORMAT, "%s: corrupt zstd data: %s", s->path, ZSTD_getErrorName(rc));
        s->zstd_left = rc;
        if (none && out.pos == 0)
            return ERR(e, ERR_FORMAT, "%s: truncated zstd data (the file ends mid-frame)", s->path);
    }
    *got = out.pos;
    return 0;
}

int dstream_read(DStream *s, void *buf, size_t n, size_t *got, Err *e) {
    *got = 0;
    if (n == 0) return 0;
    if (s->kind == DSTREAM_GZIP) return read_gzip(s, buf, n, got, e);
    if (s->kind == DSTREAM_ZSTD) return read_zstd(s, buf, n, got, e);
    if (s->in_pos < s->in_len) {  // the sniffed bytes first
        size_t k = s->in_len - s->in_pos < n ? s->in_len - s->in_pos : n;
        memcpy(buf, s->in + s->in_pos, k);
        s->in_pos += k;
        *got = k;
        return 0;
    }
    if (s->in_eof) return 0;
    for (;;) {
        ssize_t r = read(s->fd, buf, n);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return ERR(e, ERR_IO, "%s: read failed: %s", s->path, strerror(errno));
        if (r == 0) s->in_eof = true;
        *got = (size_t)r;
        return 0;
    }
}

DStreamKind dstream_kind(const DStream *s) { return s->kind; }

void dstream_close(DStream *s) {
    if (!s) return;
    if (s->z_live) inflateEnd(&s->z);
    ZSTD_freeDCtx(s->zd);
    if (s->fd > 0) close(s->fd);
    free(s);
}

// ---- lines ----

struct LineReader {
    DStream *s;
    size_t max_line;
    char *buf;              // holds bytes [start, end) not yet returned
    size_t start, end, cap;
    size_t scanned;         // bytes after start already known to hold no '\n'
    size_t lineno;
    bool eof;
};

int linereader_open(LineReader **out, const char *path, size_t max_line, Err *e) {
    *out = NULL;
    LineReader *r = calloc(1, sizeof *r);
    if (!r) return ERR(e, ERR_NOMEM, "%s: out of memory", path);
    r->max_line = max_line ? max_line : (size_t)64 << 20;
    if (dstream_open(&r->s, path, e)) {
        free(r);
        return -1;
    }
    *out = r;
    return 0;
}

// Reads one more chunk after end, growing the buffer up to max_line + chunk (after
// moving what is left to the front). Sets eof at the end of the stream.
static int more(LineReader *r, Err *e) {
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->end - r->start);
        r->end -= r->start;
        r->start = 0;
    }
    size_t chunk = r->max_line < LINE_CHUNK ? r->max_line + 1 : LINE_CHUNK;
    if (r->cap - r->end < chunk) {
        size_t cap = r->cap ? r->cap : chunk + 1;
        while (cap - r->end < chunk) cap *= 2;
        char *p = realloc(r->buf, cap);
        if (!p) return ERR(e, ERR_NOMEM, "out of memory reading a line of %zu bytes", r->end);
        r->buf = p;
        r->cap = cap;
    }
    size_t got;
    if (dstream_read(r->s, r->buf + r->end, r->cap - r->end - 1, &got, e)) return -1;
    if (got == 0) r->eof = true;
    r->end += got;
    return 0;
}

// Drops bytes up to and including the next newline; *dropped counts them.
static int skip_line(LineReader *r, size_t *dropped, bool *terminated, Err *e) {
    for (;;) {
        char *nl = memchr(r->buf + r->start, '\n', r->end - r->start);
        if (nl) {
            size_t k = (size_t)(nl - (r->buf + r->start));
            *dropped += k;
            r->start += k + 1;
            *terminated = true;
            return 0;
        }
        *dropped += r->end - r->start;
        r->start = r->end = 0;
        if (r->eof) {
            *terminated = false;
            return 0;
        }
        if (more(r, e)) return -1;
    }
}

int linereader_next(LineReader *r, Line *out, Err *e) {
    memset(out, 0, sizeof *out);
    r->scanned = 0;
    for (;;) {
        char *base = r->buf + r->start;
        size_t have = r->end - r->start;
        char *nl = have > r->scanned ? memchr(base + r->scanned, '\n', have - r->scanned) : NULL;
        size_t len = nl ? (size_t)(nl - base) : have;
        if (len > r->max_line) {
            // Too long: report its length so far and drop the rest, never holding it all.
            size_t dropped = 0;
            bool term;
            out->lineno = ++r->lineno;
            out->too_long = true;
            if (skip_line(r, &dropped, &term, e)) return -1;
            out->len = dropped;
            out->unterminated = !term;
            return 1;
        }
        if (nl || (r->eof && have)) {
            out->lineno = ++r->lineno;
            out->unterminated = !nl;
            if (len && base[len - 1] == '\r') len--;
            base[len] = 0;  // there is always room: the buffer keeps one spare byte
            out->p = base;
            out->len = len;
            r->start += nl ? (size_t)(nl - base) + 1 : have;
            return 1;
        }
        if (r->eof) return 0;
        r->scanned = have;
        if (more(r, e)) return -1;
    }
}

int linereader_peek(LineReader *r, Err *e) {
    size_t i = 0;
    for (;;) {
        for (; r->start + i < r->end; i++) {
            unsigned char c = (unsigned char)r->buf[r->start + i];
            if (c != ' ' && c != '\t' && c != '\r' && c != '\n') return c;
        }
        if (r->eof || i > r->max_line) return -1;
        if (more(r, e)) return -2;
    }
}

int linereader_slurp(LineReader *r, size_t max, char **out, size_t *len, size_t *first_line,
                     Err *e) {
    *out = NULL;
    *len = 0;
    *first_line = r->lineno + 1;
    size_t n = r->end - r->start, cap = n + LINE_CHUNK;
    char *b = malloc(cap + 1);
    if (!b) return ERR(e, ERR_NOMEM, "out of memory");
    if (n) memcpy(b, r->buf + r->start, n);
    r->start = r->end = 0;
    for (;;) {
        if (n > max) {
            free(b);
            return ERR(e, ERR_FORMAT, "%s: over the limit of %zu bytes for a whole-file "
                       "record (a .json array or .txt document)", r->s->path, max);
        }
        if (cap - n < LINE_CHUNK / 2) {
            char *p = realloc(b, cap * 2 + 1);
            if (!p) {
                free(b);
                return ERR(e, ERR_NOMEM, "out of memory reading %zu bytes", n);
            }
            b = p;
            cap *= 2;
        }
        size_t got;
        if (dstream_read(r->s, b + n, cap - n, &got, e)) {
            free(b);
            return -1;
        }
        if (got == 0) break;
        n += got;
    }
    r->eof = true;
    b[n] = 0;
    *out = b;
    *len = n;
    return 0;
}

DStreamKind linereader_kind(const LineReader *r) { return dstream_kind(r->s); }

void linereader_close(LineReader *r) {
    if (!r) return;
    dstream_close(r->s);
    free(r->buf);
    free(r);
}
