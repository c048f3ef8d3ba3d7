// app.h: the labeling web app — every page under /label/ — as one function from a
// request to a response, so the HTTP server (src/serve/server.c) only moves bytes.
//
// Pages are rendered on the server as plain HTML forms (no script needed): login, the
// user's queue, a project with its guidelines and prompts, a message thread with forms
// to reply, edit, review, rank and ask the model for a draft, a draft to edit, admin
// (projects and users), stats and JSONL exports. Every form that changes something
// carries the session's CSRF token; every user text goes through html_escape.
//
// Sessions are a cookie (HttpOnly, SameSite=Strict, Path=/label/) holding a random token
// whose hash the database keeps (label.h). Failed logins are limited per client address
// and per user name. Requests run one at a time on the database (one SQLite handle
// behind a mutex); a model draft is generated outside that lock.
#ifndef PT_LABEL_APP_H
#define PT_LABEL_APP_H

#include <stdbool.h>
#include <stddef.h>

#include "synth/backend.h"
#include "util/buf.h"
#include "util/err.h"

#define LABEL_COOKIE "pt_label"

typedef struct {
    const char *method;        // "GET", "POST", ...
    const char *path;          // the URL path, starting "/label" (no query string)
    const char *cookie;        // the LABEL_COOKIE cookie's value, or NULL
    const char *origin;        // the Origin header, or NULL
    const char *host;          // the Host header, or NULL
    const char *client;        // the client's address (login limits)
    const char *content_type;  // or NULL
    const char *body;          // the request body (may hold NULs: length is body_len)
    size_t body_len;
} LabelRequest;

typedef struct {
    int status;
    const char *content_type;  // static
    Buf body;
    char location[256];        // a redirect's target, or ""
    char cookie[256];          // a Set-Cookie value, or ""
    char disposition[160];     // a Content-Disposition value (downloads), or ""
    int retry_after;           // seconds, for 429; 0: none
} LabelResponse;

typedef struct {
    const char *db;            // the labeling database (label init makes one; opened, migrated)
    SynthBackend *drafter;     // NULL: no model drafts; borrowed, reply() called one at a time
    int draft_max_tokens;      // 0: 256
    float draft_temperature;   // for drafts
    bool secure_cookie;        // add Secure to the cookie (the server sits behind HTTPS)
    bool weak_hash_for_tests;  // see LabelDbOptions
} LabelAppOptions;

typedef struct LabelApp LabelApp;

int label_app_open(LabelApp **a, const LabelAppOptions *o, Err *e);
void label_app_close(LabelApp *a);  // accepts NULL
// Answers rq into rs (zeroed first; label_response_free it). Never fails: errors are
// pages (or JSON for exports) with their status.
void label_app_handle(LabelApp *a, const LabelRequest *rq, LabelResponse *rs);
void label_response_free(LabelResponse *rs);

#endif
