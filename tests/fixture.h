// fixture.h: a scratch directory for tests that write files (checkpoints, configs).
// fixture_init makes /tmp/NAME.XXXXXX, tmp_path names a file in it, write_bytes writes
// one (a test fixture that cannot be written is a broken machine: exit), and
// fixture_cleanup removes the directory.
#ifndef PT_FIXTURE_H
#define PT_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

static char tmpdir[256];

static int fixture_init(const char *name) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/%s.XXXXXX", name);
    if (mkdtemp(tmpdir)) return 0;
    perror("mkdtemp");
    return -1;
}

static void fixture_cleanup(void) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
}

// Up to 4 paths may be in use at once.
static const char *tmp_path(const char *name) {
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", tmpdir, name);
    return p[k];
}

static inline void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) perror(path), exit(1);
    fclose(f);
}

#endif
