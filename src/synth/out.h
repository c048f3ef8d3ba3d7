// out.h: an append-only JSONL file that a killed run can resume without duplicates.
//
// Each record is one line written by one write(2) on an O_APPEND descriptor, so after a
// crash the file holds whole lines plus at most one torn line at the end (a write cut
// short by a full disk or a power loss; kill -9 does not tear a write). Opening scans
// the complete lines (the caller sees each, parsed, to rebuild its state: which ids are
// done, what the dedup index holds) and truncates a torn tail. fsync every few lines
// bounds what a power loss can take; closing fsyncs. An exclusive flock keeps a second
// run from appending to the same file at the same time.
#ifndef PT_SYNTH_OUT_H
#define PT_SYNTH_OUT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "util/err.h"

typedef struct {
    int fd;              // -1 when closed
    char *path;
    int fsync_every;     // lines between fsyncs (default 16)
    int unsynced;        // lines written since the last fsync
    size_t n_existing;   // complete lines found at open
    size_t torn_bytes;   // bytes of a torn last line removed at open (0: none)
} SynthOut;

// Called with each complete line found at open, parsed (obj) and raw (line: without its
// '\n', NUL-terminated). where is "PATH:LINE". Nonzero stops the open with e set.
typedef int (*SynthLineFn)(void *ctx, const cJSON *obj, const char *line, size_t len,
                           const char *where, Err *e);

// Opens (creating) path for appending. An existing line that is not a JSON object is an
// error naming its line (the file is not ours, or was edited); a torn last line (no
// final '\n') is cut off. fn may be NULL.
int synth_out_open(SynthOut *o, const char *path, SynthLineFn fn, void *ctx, Err *e);
// Appends one record: json (without '\n') + '\n' in a single write.
int synth_out_write(SynthOut *o, const char *json, size_t len, Err *e);
// fsyncs and closes; accepts a closed or zeroed-then-failed SynthOut.
int synth_out_close(SynthOut *o, Err *e);

#endif
