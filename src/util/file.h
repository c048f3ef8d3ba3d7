// file.h: whole-file reads and atomic writes.
//
// file_write_atomic writes to PATH.tmp.PID, fsyncs it, renames it over PATH and fsyncs
// the directory: a reader sees the old file or the new one, never half of one, even
// if the process is killed mid-write.
#ifndef PT_FILE_H
#define PT_FILE_H

#include <stddef.h>

#include "util/err.h"

// Reads all of path (or stdin for "-") into a NUL-terminated malloc'd buffer.
int file_read_all(const char *path, char **out, size_t *len, Err *e);
int file_write_atomic(const char *path, const void *data, size_t len, Err *e);
int file_exists(const char *path);
// mkdir -p: creates each missing component of dir; an existing directory is fine.
int file_mkdir_p(const char *dir, Err *e);
int file_is_dir(const char *path);
// rm -r: removes path and, for a directory, everything under it; a missing path is fine.
int file_remove_tree(const char *path, Err *e);
// rename(2) then fsync of the target's directory, so the rename survives a crash.
int file_rename_durable(const char *from, const char *to, Err *e);
// Joins dir and name into out (size n); error if it does not fit.
int path_join(char *out, size_t n, const char *dir, const char *name, Err *e);

#endif
