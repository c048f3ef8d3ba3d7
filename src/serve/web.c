// web.c: looks up the embedded web chat page's files by URL path (see web.h).
#include "serve/web.h"

#include <string.h>

static const char *mime_of(const char *path) {
    const char *dot = strrchr(path, '.');
    if (!dot) return "application/octet-stream";
    if (!strcmp(dot, ".html")) return "text/html; charset=utf-8";
    if (!strcmp(dot, ".js")) return "text/javascript; charset=utf-8";
    if (!strcmp(dot, ".css")) return "text/css; charset=utf-8";
    if (!strcmp(dot, ".svg")) return "image/svg+xml";
    if (!strcmp(dot, ".png")) return "image/png";
    return "application/octet-stream";
}

const WebFile *web_find(const char *url, const char **mime) {
    if (!strcmp(url, "/")) url = "/index.html";
    for (const WebFile *f = web_files; f->path; f++)
        if (!strcmp(f->path, url)) {
            *mime = mime_of(f->path);
            return f;
        }
    return NULL;
}
