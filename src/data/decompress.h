// decompress.h: a file as a stream of bytes, and that stream as lines, whatever the
// compression.
//
// The compression is told by the first bytes, not the name (so stdin works too): gzip
// (1f 8b, concatenated members included) through zlib, zstd (28 b5 2f fd, concatenated
// frames included) through libzstd, anything else is read as it is.
//
// Lines are returned one at a time from a buffer that never grows past the line limit
// (plus one read chunk): a longer line is reported as too long, with its bytes dropped
// up to the next newline, so a 1 GB line costs no more memory than a line at the limit.
#ifndef PT_DATA_DECOMPRESS_H
#define PT_DATA_DECOMPRESS_H

#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

typedef enum { DSTREAM_PLAIN, DSTREAM_GZIP, DSTREAM_ZSTD } DStreamKind;

typedef struct DStream DStream;

// Opens path ("-" is stdin) and sniffs its compression.
int dstream_open(DStream **s, const char *path, Err *e);
// Reads up to n decompressed bytes; *got is 0 only at the end of the stream.
// Errors name the file ("a.jsonl.gz: corrupt gzip data: ...").
int dstream_read(DStream *s, void *buf, size_t n, size_t *got, Err *e);
DStreamKind dstream_kind(const DStream *s);
void dstream_close(DStream *s);  // accepts NULL

typedef struct {
    const char *p;     // the line without its "\n" (and without a "\r" before it); valid
                       // until the next call; NULL when too_long
    size_t len;        // its length (for a too-long line: the bytes it had)
    size_t lineno;     // 1-based
    bool too_long;     // over the limit: the bytes were dropped
    bool unterminated; // the stream ended inside this line (no final newline)
} Line;

typedef struct LineReader LineReader;

// max_line: the longest line returned, in bytes (0: 64 MiB).
int linereader_open(LineReader **r, const char *path, size_t max_line, Err *e);
// 1 with *out filled, 0 at the end, -1 on an I/O or decompression error.
int linereader_next(LineReader *r, Line *out, Err *e);
// The first byte that is not white space from here on, without consuming anything
// (-1 at the end of the stream, -2 on an error). Reads ahead at most max_line bytes.
int linereader_peek(LineReader *r, Err *e);
// The rest of the stream as one NUL-terminated malloc'd buffer, at most max bytes
// (more is an ERR_FORMAT error). *first_line is the line number its first byte sits on.
int linereader_slurp(LineReader *r, size_t max, char **out, size_t *len, size_t *first_line,
                     Err *e);
DStreamKind linereader_kind(const LineReader *r);
void linereader_close(LineReader *r);  // accepts NULL

#endif
