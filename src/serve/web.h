// web.h: the web chat page's static files (src/serve/web/), embedded in the binary at build
// time by scripts/embed_web.sh, so `posttrain serve` needs nothing beside itself.
#ifndef PT_WEB_H
#define PT_WEB_H

#include <stddef.h>

typedef struct {
    const char *path;           // "/index.html"
    const unsigned char *data;  // the file's bytes (static)
    size_t len;
} WebFile;

// The embedded files, ended by a zeroed entry (generated: build/…/gen/web_files.c).
extern const WebFile web_files[];

// The file served at a URL path ("/" is /index.html); NULL if none. *mime: its type.
const WebFile *web_find(const char *url, const char **mime);

#endif
