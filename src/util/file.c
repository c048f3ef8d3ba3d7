// file.c: whole-file reads and atomic writes (temp file + fsync + rename + fsync dir).
#define _GNU_SOURCE  // nftw
#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int file_read_all(const char *path, char **out, size_t *len, Err *e) {
    int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY);
    if (fd < 0) return ERR(e, ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    struct stat st;
    if (fd != 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) cap = (size_t)st.st_size + 1;
    char *buf = malloc(cap);
    if (!buf) goto oom;
    for (;;) {
        if (n + 1 >= cap) {
            char *p = realloc(buf, cap *= 2);
            if (!p) goto oom;
            buf = p;
        }
        ssize_t r = read(fd, buf + n, cap - n - 1);
        if (r < 0) {
            if (errno == EINTR) continue;
            int saved = errno;
            free(buf);
            if (fd) close(fd);
            return ERR(e, ERR_IO, "%s: read failed: %s", path, strerror(saved));
        }
        if (r == 0) break;
        n += (size_t)r;
    }
    if (fd) close(fd);
    buf[n] = 0;
    *out = buf;
    *len = n;
    return 0;
oom:
    free(buf);
    if (fd) close(fd);
    return ERR(e, ERR_NOMEM, "%s: out of memory reading file", path);
}

// A rename is durable only once the directory entry is on disk: fsync the directory.
static void sync_parent(const char *path) {
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
}

int file_write_atomic(const char *path, const void *data, size_t len, Err *e) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp)
        return ERR(e, ERR_ARG, "%s: path too long", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) return ERR(e, ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t w = write(fd, p, left);
        if (w < 0) {
            if (errno == EINTR) continue;
            int saved = errno;
            close(fd);
            unlink(tmp);
            return ERR(e, ERR_IO, "%s: write failed: %s", tmp, strerror(saved));
        }
        p += w;
        left -= (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        int saved = errno;
        unlink(tmp);
        return ERR(e, ERR_IO, "%s: fsync/close failed: %s", tmp, strerror(saved));
    }
    if (rename(tmp, path) != 0) {
        int saved = errno;
        unlink(tmp);
        return ERR(e, ERR_IO, "%s: rename failed: %s", path, strerror(saved));
    }
    sync_parent(path);
    return 0;
}

int file_rename_durable(const char *from, const char *to, Err *e) {
    if (rename(from, to) != 0)
        return ERR(e, ERR_IO, "%s: cannot rename to %s: %s", from, to, strerror(errno));
    sync_parent(to);
    return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

int file_remove_tree(const char *path, Err *e) {
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : ERR(e, ERR_IO, "%s: %s", path, strerror(errno));
    if (nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
        return ERR(e, ERR_IO, "%s: cannot remove: %s", path, strerror(errno));
    return 0;
}

int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

int file_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int path_join(char *out, size_t n, const char *dir, const char *name, Err *e) {
    size_t dl = strlen(dir);
    int slash = dl > 0 && dir[dl - 1] != '/';
    if ((size_t)snprintf(out, n, "%s%s%s", dir, slash ? "/" : "", name) >= n)
        return ERR(e, ERR_ARG, "%s/%s: path too long", dir, name);
    return 0;
}

int file_mkdir_p(const char *dir, Err *e) {
    char p[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof p) return ERR(e, ERR_ARG, "%s: bad directory name", dir);
    memcpy(p, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != 0) continue;
        char c = p[i];
        p[i] = 0;
        if (mkdir(p, 0777) && errno != EEXIST)
            return ERR(e, ERR_IO, "%s: cannot create directory: %s", p, strerror(errno));
        p[i] = c;
    }
    if (!file_is_dir(dir)) return ERR(e, ERR_IO, "%s: exists and is not a directory", dir);
    return 0;
}
