// server.h: `posttrain serve` — an OpenAI-compatible HTTP server over one Engine, with the
// web chat page, on libmicrohttpd.
//
// Threads: libmicrohttpd runs one thread per connection; a connection parses its request,
// renders the prompt (the tokenizer is read-only and shared) and hands it to the
// scheduler (sched.h), whose single thread owns the engine. The connection then waits
// for its events — a streaming reply writes each as server-sent events as it comes —
// and polls its socket meanwhile, so a client that goes away cancels its sequences.
//
// Endpoints: POST /v1/chat/completions, POST /v1/completions, GET /v1/models, GET /health,
// POST /tokenize, /detokenize, /apply-template (tok_api.h), and the page at / (web.h).
// With an API key every endpoint but the page and /health wants "Authorization: Bearer KEY".
#ifndef PT_SERVE_SERVER_H
#define PT_SERVE_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "infer/engine.h"
#include "util/err.h"

typedef struct {
    const char *host;        // address to listen on (default "127.0.0.1")
    int port;                // 0: any free port (server_port tells which)
    const char *api_key;     // NULL: no authentication
    const char *model_id;    // the name /v1/models lists
    size_t max_body;         // largest request body (413 above)
    int max_queue;           // most choices waiting for a slot (503 above)
    int grace_ms;            // on stop: how long running requests may finish
    // The labeling app under /label/ (src/label/app.h): its database, or NULL for none.
    const char *label_db;
    struct SynthBackend *label_drafter;  // drafts from here (a remote API); NULL: the served model
    bool label_secure_cookie;            // cookies marked Secure (behind an HTTPS proxy)
    // Access log and notices, one line each (without newline); may be NULL. Called from
    // connection threads, so it must be thread-safe (a single fprintf is).
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
} ServeOptions;

void serve_options_default(ServeOptions *o);

typedef struct Server Server;

// Starts listening and the scheduler; en is borrowed until server_free. en may be NULL
// when o->label_db is set: the labeling app alone (the API then answers 503).
int server_start(Server **s, Engine *en, const ServeOptions *o, Err *e);
int server_port(const Server *s);
// Stops accepting connections, lets running requests finish (grace_ms), fails the
// queued ones, and closes every connection. Then server_free.
void server_stop(Server *s);
void server_free(Server *s);  // accepts NULL

#endif
