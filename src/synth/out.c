// out.c: the resumable JSONL writer (out.h).
#include "synth/out.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>


static int scan(SynthOut *o, char *data, size_t len, SynthLineFn fn, void *ctx, Err *e) {
    size_t line = 0, pos = 0;
    while (pos < len) {
        char *nl = memchr(data + pos, '\n', len - pos);
        if (!nl) break;  // torn tail: the caller truncates it
        line++;
        size_t n = (size_t)(nl - (data + pos));
        *nl = 0;
        const char *s = data + pos;
        pos += n + 1;
        size_t k = 0;
        while (k < n && (s[k] == ' ' || s[k] == '\t' || s[k] == '\r')) k++;
        if (k == n) continue;  // blank line: not a record
        char where[1200];
        snprintf(where, sizeof where, "%s:%zu", o->path, line);
        cJSON *obj = cJSON_ParseWithLength(s, n);
        if (!cJSON_IsObject(obj)) {
            cJSON_Delete(obj);
            return ERR(e, ERR_FORMAT, "%s: not a JSON object: the output file holds something "
                       "other than this command's records", where);
        }
        o->n_existing++;
        int rc = fn ? fn(ctx, obj, s, n, where, e) : 0;
        cJSON_Delete(obj);
        if (rc) return -1;
    }
    return 0;
}

int synth_out_open(SynthOut *o, const char *path, SynthLineFn fn, void *ctx, Err *e) {
    memset(o, 0, sizeof *o);
    o->fd = -1;
    o->fsync_every = 16;
    if (!(o->path = strdup(path))) return ERR(e, ERR_NOMEM, "out of memory");
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) {
        ERR(e, ERR_IO, "%s: %s", path, strerror(errno));
        goto fail;
    }
    o->fd = fd;
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        ERR(e, ERR_IO, "%s: %s", path, errno == EWOULDBLOCK
            ? "another run is writing this file (it holds its lock)" : strerror(errno));
        goto fail;
    }
    struct stat st;
    if (fstat(fd, &st)) {
        ERR(e, ERR_IO, "%s: %s", path, strerror(errno));
        goto fail;
    }
    size_t len = (size_t)st.st_size, got = 0;
    char *data = malloc(len + 1);
    if (!data) {
        ERR(e, ERR_NOMEM, "%s: out of memory reading %zu bytes", path, len);
        goto fail;
    }
    while (got < len) {
        ssize_t r = pread(fd, data + got, len - got, (off_t)got);
        if (r <= 0) {
            free(data);
            ERR(e, ERR_IO, "%s: read: %s", path, r ? strerror(errno) : "file shrank");
            goto fail;
        }
        got += (size_t)r;
    }
    data[len] = 0;
    // The end of the last complete line; what follows is a torn record.
    size_t keep = len;
    while (keep > 0 && data[keep - 1] != '\n') keep--;
    int rc = scan(o, data, len, fn, ctx, e);
    free(data);
    if (rc) goto fail;
    if (keep < len) {
        if (ftruncate(fd, (off_t)keep) || fsync(fd)) {
            ERR(e, ERR_IO, "%s: truncating a torn last line: %s", path, strerror(errno));
            goto fail;
        }
        o->torn_bytes = len - keep;
    }
    return 0;
fail:
    if (o->fd >= 0) close(o->fd);
    o->fd = -1;
    free(o->path);
    o->path = NULL;
    return -1;
}

int synth_out_write(SynthOut *o, const char *json, size_t len, Err *e) {
    char *line = malloc(len + 1);
    if (!line) return ERR(e, ERR_NOMEM, "out of memory");
    memcpy(line, json, len);
    line[len] = '\n';
    size_t done = 0;
    // One write() holds the whole line; the loop only matters when the kernel writes
    // less (a full disk, a signal), and a torn line from that is cut at the next open.
    while (done < len + 1) {
        ssize_t w = write(o->fd, line + done, len + 1 - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            free(line);
            return ERR(e, ERR_IO, "%s: write: %s", o->path, w ? strerror(errno) : "no progress");
        }
        done += (size_t)w;
    }
    free(line);
    if (++o->unsynced >= o->fsync_every) {
        if (fsync(o->fd)) return ERR(e, ERR_IO, "%s: fsync: %s", o->path, strerror(errno));
        o->unsynced = 0;
    }
    return 0;
}

int synth_out_close(SynthOut *o, Err *e) {
    int rc = 0;
    if (o->fd >= 0) {
        if (fsync(o->fd)) rc = ERR(e, ERR_IO, "%s: fsync: %s", o->path, strerror(errno));
        if (close(o->fd) && !rc) rc = ERR(e, ERR_IO, "%s: close: %s", o->path, strerror(errno));
    }
    o->fd = -1;
    free(o->path);
    o->path = NULL;
    return rc;
}
