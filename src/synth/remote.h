// remote.h: an OpenAI-compatible chat API as a synth backend (libcurl).
//
// POST {base}/v1/chat/completions (base may already end in /v1), non-streaming, with
// "Authorization: Bearer KEY" when a key is given. Transient failures are retried with
// exponential backoff and jitter: HTTP 408, 429 and 5xx, timeouts, refused or dropped
// connections. The delay before retry k (0-based) is c/2 + uniform(0, c/2) with
// c = min(backoff_max, backoff * 2^k) ("equal jitter": clients that failed together do
// not retry together, and the wait still grows); a Retry-After header of a 429/503 is
// honored when longer. Other 4xx answers (401 bad key, 400 bad request, 404 no such
// model) are final: retrying cannot help, and the API's own error message is reported.
// A rate limit spaces request starts (every attempt) at least 1/rps seconds apart.
#ifndef PT_SYNTH_REMOTE_H
#define PT_SYNTH_REMOTE_H

#include <stdint.h>

#include "synth/backend.h"

typedef struct {
    const char *base;      // e.g. http://127.0.0.1:8080 or https://api.openai.com/v1
    const char *api_key;   // NULL: no Authorization header
    double timeout_s;      // whole request (default 120)
    int max_retries;       // retries after the first attempt (default 5)
    double backoff_s;      // first retry's scale (default 1)
    double backoff_max_s;  // cap of the scale (default 30)
    double rps;            // request starts per second (0: unlimited)
    uint64_t seed;         // of the jitter
    // Told before each retry's wait (may be NULL): attempt (1 = first retry), the delay,
    // and why ("HTTP 503: …", "Couldn't connect to server").
    void (*on_retry)(void *ctx, int attempt, int max_retries, double delay_s, const char *why);
    void *retry_ctx;
} RemoteOptions;

void remote_options_default(RemoteOptions *o);

typedef struct RemoteClient RemoteClient;

int remote_client_open(RemoteClient **c, const RemoteOptions *o, Err *e);
void remote_client_close(RemoteClient *c);  // accepts NULL

// A backend that asks model through c (borrowed: close the backend before the client).
int remote_backend_open(SynthBackend **b, RemoteClient *c, const char *model, Err *e);

// Requests made and retries taken so far (for the run's summary).
void remote_client_counts(const RemoteClient *c, long *requests, long *retries);

#endif
