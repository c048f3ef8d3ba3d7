// server.c: the HTTP side of `posttrain serve` on libmicrohttpd (see server.h): request
// bodies, authentication, routing, and the wait for a generation's events — written as
// server-sent events as they come, or as one JSON object at the end.
#define _GNU_SOURCE  // POLLRDHUP
#include "serve/server.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "label/app.h"
#include "serve/gen_request.h"
#include "serve/reply.h"
#include "serve/sched.h"
#include "serve/sched_backend.h"
#include "serve/tok_api.h"
#include "serve/web.h"

// How often a waiting connection looks whether its client is still there.
#define POLL_MS 100

struct Server {
    Engine *en;              // borrowed; NULL: no model (the labeling app alone)
    Sched *sched;            // NULL without a model
    LabelApp *label;         // NULL: no --label
    SynthBackend *drafter;   // ours when it drafts through sched (else borrowed or NULL)
    bool own_drafter;
    struct MHD_Daemon *d;
    ServeOptions o;          // strings below are our copies
    char *host, *api_key, *model_id;
    ServeModel model;
    int port;
    long long started;       // unix seconds, for /v1/models
    atomic_ullong serial;    // numbers the completions' ids
    atomic_bool stopping;
    atomic_int open_requests;  // from their headers until their response is sent
};

// One request on a connection (MHD's per-request pointer).
typedef struct {
    Buf body;
    size_t seen;            // body bytes received
    bool responded;         // a response is queued already
    bool logged;            // a generation logs its own line
    int status;
    struct timespec t0;
    char line[200];         // "GET /health", for the access log
} Conn;

// One generation, from submit until its response is done with it.
typedef struct {
    Server *s;
    GenRequest req;
    Reply reply;
    SchedReq *sr;
    int fd;                 // the client's socket, polled to notice it leave
    Buf out;                // streaming: SSE bytes not yet handed to MHD
    size_t off;
    bool ended;             // streaming: [DONE] is in out
    bool gone;              // the client left before the end
    char path[40];
    struct timespec t0;
    struct timespec checked;  // when client_left last looked
} Gen;

void serve_options_default(ServeOptions *o) {
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->port = 8080;
    o->model_id = "model";
    o->max_body = 8u << 20;
    o->max_queue = 1024;
    o->grace_ms = 10000;
}

static double seconds_since(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

static void logf_(Server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(Server *s, const char *fmt, ...) {
    if (!s->o.log) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    s->o.log(s->o.log_ctx, line);
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
    Server *s = cls;
    if (!s->o.log) return;
    char line[1024];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && line[n - 1] == '\n') line[--n] = 0;
    logf_(s, "libmicrohttpd: %s", line);
}

// ----------------------------------------------------------------------------- responses

// Queues r with status, lets go of it (MHD keeps what it needs), and notes the request
// answered.
static enum MHD_Result queue(Conn *k, struct MHD_Connection *c, struct MHD_Response *r, int status) {
    enum MHD_Result rc = MHD_queue_response(c, (unsigned)status, r);
    MHD_destroy_response(r);
    k->responded = true;
    k->status = status;
    return rc;
}

// Queues body (malloc'd, taken) with status; CORS open, since the API is meant for any
// client, browsers on other origins included (auth is by key, not by cookie).
static enum MHD_Result respond(Conn *k, struct MHD_Connection *c, int status, const char *mime,
                               char *body, size_t len) {
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, mime);
    MHD_add_response_header(r, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    if (status == 401) MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    return queue(k, c, r, status);
}

static enum MHD_Result respond_json(Conn *k, struct MHD_Connection *c, int status, char *json) {
    if (!json) return MHD_NO;
    return respond(k, c, status, "application/json", json, strlen(json));
}

static enum MHD_Result respond_error(Conn *k, struct MHD_Connection *c, const ApiError *a) {
    return respond_json(k, c, a->status, api_error_json(a));
}

static enum MHD_Result respond_cjson(Conn *k, struct MHD_Connection *c, int status, cJSON *o) {
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return respond_json(k, c, status, s);
}

// ----------------------------------------------------------------------------- generation

// True when the client closed its end (a stop button, a killed script): recv sees EOF.
static bool client_gone(int fd) {
    if (fd < 0) return false;
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
    if (poll(&p, 1, 0) <= 0) return false;
    if (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) return true;
    char byte;
    return (p.revents & POLLIN) && recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

// Whether the client left, looked at every POLL_MS at most (events may keep coming).
static bool client_left(Gen *g) {
    if (seconds_since(&g->checked) * 1000 < POLL_MS) return false;
    clock_gettime(CLOCK_MONOTONIC, &g->checked);
    return client_gone(g->fd);
}

static void gen_log(Gen *g, int status) {
    logf_(g->s, "POST %s %d%s prompt=%zu completion=%d n=%d %.2fs%s", g->path, status,
          g->req.stream ? " stream" : "", g->req.prompt.len, g->reply.completion_tokens, g->req.n,
          seconds_since(&g->t0), g->gone ? " (client left: cancelled)" : "");
}

static void gen_free(Gen *g) {
    sched_release(g->s->sched, g->sr);
    reply_free(&g->reply);
    gen_request_free(&g->req);
    buf_free(&g->out);
    free(g);
}

// Feeds a list of events to the reply (and to out when streaming); frees the list.
static int gen_feed(Gen *g, GenEvent *evs, bool stream) {
    int rc = 0;
    for (GenEvent *ev = evs; ev; ev = ev->next) rc |= reply_feed(&g->reply, ev, stream ? &g->out : NULL);
    gen_events_free(evs);
    return rc;
}

// MHD asks for more of a streaming body: waits for events and turns them into SSE.
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
    Gen *g = cls;
    while (g->off == g->out.len) {
        if (g->ended) return MHD_CONTENT_READER_END_OF_STREAM;
        g->off = g->out.len = 0;
        if (reply_done(&g->reply)) {
            if (reply_stream_end(&g->reply, &g->out)) return MHD_CONTENT_READER_END_WITH_ERROR;
            g->ended = true;
            continue;
        }
        GenEvent *evs = sched_wait(g->s->sched, g->sr, POLL_MS);
        if (client_left(g)) {
            gen_events_free(evs);
            g->gone = true;
            return MHD_CONTENT_READER_END_WITH_ERROR;
        }
        if (gen_feed(g, evs, true)) return MHD_CONTENT_READER_END_WITH_ERROR;
    }
    size_t n = g->out.len - g->off < max ? g->out.len - g->off : max;
    memcpy(buf, g->out.data + g->off, n);
    g->off += n;
    return (ssize_t)n;
}

// The streaming response is destroyed: the request is over (done, or the client left).
static void stream_free(void *cls) {
    Gen *g = cls;
    if (!g->ended) g->gone = true;
    gen_log(g, 200);
    gen_free(g);
}

static enum MHD_Result generate(Server *s, Conn *k, struct MHD_Connection *c, GenKind kind, const char *url) {
    Gen *g = calloc(1, sizeof *g);
    if (!g) return MHD_NO;
    g->s = s;
    g->t0 = g->checked = k->t0;
    snprintf(g->path, sizeof g->path, "%s", url);
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
    g->fd = ci ? ci->connect_fd : -1;
    ApiError a = {0};
    if (gen_request_parse(&g->req, kind, k->body.data ? k->body.data : "", k->body.len, &s->model, &a)) {
        free(g);
        return respond_error(k, c, &a);
    }
    SchedJob job = {.prompt = g->req.prompt.data, .n_prompt = (int)g->req.prompt.len,
                    .params = g->req.params, .stops = (const char *const *)g->req.stops,
                    .n_stops = g->req.n_stops, .n = g->req.n};
    if (reply_init(&g->reply, &g->req, s->model.tok, s->model_id, ++s->serial) ||
        sched_submit(s->sched, &job, &g->sr, &a)) {
        if (!a.status) api_error(&a, 500, NULL, NULL, "out of memory");
        gen_free(g);
        return respond_error(k, c, &a);
    }
    k->logged = true;
    if (g->req.stream) {
        struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384,
                                                                   stream_read, g, stream_free);
        if (!r) {
            gen_free(g);
            return MHD_NO;
        }
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
        MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
        MHD_add_response_header(r, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, "*");
        return queue(k, c, r, 200);  // stream_free runs when MHD is done with r
    }
    // One thread per connection: this one may wait here, looking after its client.
    while (!reply_done(&g->reply)) {
        GenEvent *evs = sched_wait(s->sched, g->sr, POLL_MS);
        if (client_left(g)) {
            gen_events_free(evs);
            g->gone = true;
            gen_log(g, 499);
            gen_free(g);
            return MHD_NO;  // closes the connection
        }
        if (gen_feed(g, evs, false)) {
            gen_free(g);
            return MHD_NO;
        }
    }
    enum MHD_Result rc;
    if (g->reply.error.status) rc = respond_error(k, c, &g->reply.error);
    else rc = respond_json(k, c, 200, reply_json(&g->reply));
    gen_log(g, k->status);
    gen_free(g);
    return rc;
}

// ----------------------------------------------------------------------------- other endpoints

static cJSON *model_object(Server *s) {
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "id", s->model_id);
    cJSON_AddStringToObject(m, "object", "model");
    cJSON_AddNumberToObject(m, "created", (double)s->started);
    cJSON_AddStringToObject(m, "owned_by", "posttrain");
    // Beyond OpenAI's fields: what a client needs to size its requests.
    cJSON_AddNumberToObject(m, "context_length", s->model.ctx);
    cJSON_AddNumberToObject(m, "vocab_size", s->model.vocab_size);
    if (s->model.tpl) cJSON_AddStringToObject(m, "chat_template", s->model.tpl->name);
    else cJSON_AddNullToObject(m, "chat_template");
    return m;
}

static enum MHD_Result models(Server *s, Conn *k, struct MHD_Connection *c, const char *url) {
    if (!strcmp(url, "/v1/models")) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "object", "list");
        cJSON_AddItemToArray(cJSON_AddArrayToObject(o, "data"), model_object(s));
        return respond_cjson(k, c, 200, o);
    }
    const char *id = url + strlen("/v1/models/");
    if (!strcmp(id, s->model_id)) return respond_cjson(k, c, 200, model_object(s));
    ApiError a = {0};
    api_error(&a, 404, "model", "model_not_found", "The model '%.200s' does not exist: this server "
              "serves '%s'.", id, s->model_id);
    return respond_error(k, c, &a);
}

static enum MHD_Result health(Server *s, Conn *k, struct MHD_Connection *c) {
    SchedStats st = {0};
    if (s->sched) sched_stats(s->sched, &st);
    bool stopping = atomic_load(&s->stopping);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", stopping ? "stopping" : "ok");
    if (s->en) cJSON_AddStringToObject(o, "model", s->model_id);
    else cJSON_AddNullToObject(o, "model");
    cJSON_AddBoolToObject(o, "label", s->label != NULL);
    cJSON_AddNumberToObject(o, "slots", st.slots);
    cJSON_AddNumberToObject(o, "slots_busy", st.running);
    cJSON_AddNumberToObject(o, "queued", st.queued);
    cJSON_AddNumberToObject(o, "requests", (double)st.requests);
    cJSON_AddNumberToObject(o, "tokens_generated", (double)st.tokens);
    return respond_cjson(k, c, stopping ? 503 : 200, o);
}

typedef int (*TokFn)(const ServeModel *, const char *, size_t, char **, ApiError *);

static enum MHD_Result tok_endpoint(Server *s, Conn *k, struct MHD_Connection *c, TokFn fn) {
    char *out = NULL;
    ApiError a = {0};
    if (fn(&s->model, k->body.data ? k->body.data : "", k->body.len, &out, &a)) return respond_error(k, c, &a);
    return respond_json(k, c, 200, out);
}

static enum MHD_Result static_file(Conn *k, struct MHD_Connection *c, const WebFile *f, const char *mime) {
    struct MHD_Response *r = MHD_create_response_from_buffer(f->len, (void *)f->data, MHD_RESPMEM_PERSISTENT);
    if (!r) return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, mime);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
    return queue(k, c, r, 200);
}

// The labeling app's pages (src/label/app.h): the request's parts in, its response out,
// with headers that keep the pages to themselves — no script but our own (there is none),
// no framing, no sniffing, no caching of pages that hold people's work.
static enum MHD_Result label_route(Server *s, Conn *k, struct MHD_Connection *c, const char *url, const char *method) {
    char client[INET6_ADDRSTRLEN] = "?";
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, client, sizeof client);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, client, sizeof client);
    }
    LabelRequest rq = {
        .method = method, .path = url, .client = client,
        .cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, LABEL_COOKIE),
        .origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin"),
        .host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST),
        .content_type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE),
        .body = k->body.data, .body_len = k->body.len,
    };
    LabelResponse rs;
    label_app_handle(s->label, &rq, &rs);
    struct MHD_Response *r = MHD_create_response_from_buffer(rs.body.len, rs.body.data ? rs.body.data : "",
                                                            MHD_RESPMEM_MUST_COPY);
    if (!r) {
        label_response_free(&rs);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, rs.content_type);
    MHD_add_response_header(r, "Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; "
                            "form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Referrer-Policy", "same-origin");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (rs.location[0]) MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, rs.location);
    if (rs.cookie[0]) MHD_add_response_header(r, MHD_HTTP_HEADER_SET_COOKIE, rs.cookie);
    if (rs.disposition[0]) MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_DISPOSITION, rs.disposition);
    if (rs.retry_after > 0) {
        char v[24];
        snprintf(v, sizeof v, "%d", rs.retry_after);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, v);
    }
    enum MHD_Result rc = queue(k, c, r, rs.status);
    label_response_free(&rs);
    return rc;
}

// "Authorization: Bearer KEY", compared in constant time.
static bool authorized(Server *s, struct MHD_Connection *c) {
    if (!s->api_key) return true;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!h || strncasecmp(h, "Bearer ", 7)) return false;
    h += 7;
    size_t n = strlen(h), m = strlen(s->api_key);
    unsigned diff = n != m;
    for (size_t i = 0; i < m; i++) diff |= (unsigned char)s->api_key[i] ^ (unsigned char)(i < n ? h[i] : 0);
    return diff == 0;
}

static enum MHD_Result route(Server *s, Conn *k, struct MHD_Connection *c, const char *url, const char *method) {
    ApiError a = {0};
    bool get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), post = !strcmp(method, "POST");
    if (!strcmp(method, "OPTIONS")) {  // CORS preflight
        struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
        if (!r) return MHD_NO;
        MHD_add_response_header(r, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, "*");
        MHD_add_response_header(r, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
        MHD_add_response_header(r, "Access-Control-Allow-Headers", "Authorization, Content-Type");
        return queue(k, c, r, 204);
    }
    if (s->label && (!strcmp(url, "/label") || !strncmp(url, "/label/", 7))) return label_route(s, k, c, url, method);
    const char *mime;
    const WebFile *f = s->en || strcmp(url, "/") ? web_find(url, &mime) : NULL;
    if (f && get) return static_file(k, c, f, mime);
    if (!strcmp(url, "/health") && get) return health(s, k, c);
    if (!s->en && !strcmp(url, "/") && get && s->label) {  // no model to chat with: the labeling app
        struct MHD_Response *r = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
        if (!r) return MHD_NO;
        MHD_add_response_header(r, MHD_HTTP_HEADER_LOCATION, "/label/");
        return queue(k, c, r, 303);
    }

    static const struct {
        const char *path;
        bool post;
    } api[] = {{"/v1/chat/completions", true}, {"/v1/completions", true}, {"/tokenize", true},
               {"/detokenize", true}, {"/apply-template", true}, {"/v1/models", false}};
    int which = -1;
    for (int i = 0; i < (int)(sizeof api / sizeof *api); i++)
        if (!strcmp(url, api[i].path) || (!api[i].post && !strncmp(url, "/v1/models/", 11))) which = i;
    if (which < 0) {
        api_error(&a, 404, NULL, "not_found", "Unknown endpoint: %s %.200s", method, url);
        return respond_error(k, c, &a);
    }
    if (!authorized(s, c)) {
        api_error(&a, 401, NULL, "invalid_api_key", "Incorrect API key provided: send it as "
                  "\"Authorization: Bearer KEY\" (the server's --api-key).");
        return respond_error(k, c, &a);
    }
    if (!s->en) {
        api_error(&a, 503, NULL, "no_model", "This server runs without a model (start it with --model DIR).");
        return respond_error(k, c, &a);
    }
    if (api[which].post ? !post : !get) {
        api_error(&a, 405, NULL, "method_not_allowed", "%s wants %s, not %s.", url,
                  api[which].post ? "POST" : "GET", method);
        return respond_error(k, c, &a);
    }
    switch (which) {
    case 0: return generate(s, k, c, GEN_CHAT, url);
    case 1: return generate(s, k, c, GEN_COMPLETION, url);
    case 2: return tok_endpoint(s, k, c, tok_api_tokenize);
    case 3: return tok_endpoint(s, k, c, tok_api_detokenize);
    case 4: return tok_endpoint(s, k, c, tok_api_apply_template);
    default: return models(s, k, c, url);
    }
}

static enum MHD_Result too_large(Server *s, Conn *k, struct MHD_Connection *c) {
    ApiError a = {0};
    api_error(&a, 413, NULL, "request_too_large", "The request body is larger than %zu bytes "
              "(the server's --max-body).", s->o.max_body);
    return respond_error(k, c, &a);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls) {
    Server *s = cls;
    Conn *k = *con_cls;
    if (!k) {  // the headers are in; the body (if any) follows in the next calls
        if (!(k = calloc(1, sizeof *k))) return MHD_NO;
        atomic_fetch_add(&s->open_requests, 1);
        clock_gettime(CLOCK_MONOTONIC, &k->t0);
        snprintf(k->line, sizeof k->line, "%s %s", method, url);
        *con_cls = k;
        // A body far too large is refused before it is read (the connection then closes,
        // which some clients report as a failed upload rather than the 413).
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > 4 * s->o.max_body) return too_large(s, k, c);
        return MHD_YES;
    }
    if (*upload_size) {
        // A body over the limit is read and dropped, then answered with 413: MHD takes no
        // response mid-upload, and a client still sending would not see an early one. One
        // that goes on far beyond the limit is cut off.
        k->seen += *upload_size;
        if (k->seen > s->o.max_body) {
            *upload_size = 0;
            return k->seen > 4 * s->o.max_body ? MHD_NO : MHD_YES;
        }
        if (buf_append(&k->body, upload, *upload_size)) return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    if (k->responded) return MHD_YES;
    if (k->seen > s->o.max_body) return too_large(s, k, c);
    return route(s, k, c, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode why) {
    Server *s = cls;
    Conn *k = *con_cls;
    if (!k) return;
    if (!k->logged && k->status) logf_(s, "%s %d %.3fs", k->line, k->status, seconds_since(&k->t0));
    buf_free(&k->body);
    free(k);
    *con_cls = NULL;
    atomic_fetch_sub(&s->open_requests, 1);
}

// ----------------------------------------------------------------------------- lifecycle

static int resolve(const char *host, int port, struct sockaddr_storage *sa, Err *e) {
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res;
    char service[16];
    snprintf(service, sizeof service, "%d", port);
    int rc = getaddrinfo(host, service, &hints, &res);
    if (rc) return ERR(e, ERR_ARG, "--host %s: %s", host, gai_strerror(rc));
    memcpy(sa, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    return 0;
}

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

int server_start(Server **out, Engine *en, const ServeOptions *o, Err *e) {
    *out = NULL;
    Server *s = calloc(1, sizeof *s);
    if (!s) return ERR(e, ERR_NOMEM, "out of memory");
    s->en = en;
    s->o = *o;
    s->host = dup_or_null(o->host ? o->host : "127.0.0.1");
    s->api_key = o->api_key && o->api_key[0] ? strdup(o->api_key) : NULL;
    s->model_id = dup_or_null(o->model_id ? o->model_id : "model");
    s->started = (long long)time(NULL);
    if (en) {
        const ModelConfig *cfg = engine_model_config(en);
        const Tokenizer *tok = engine_tokenizer(en);
        s->model = (ServeModel){.id = s->model_id, .tok = tok, .tpl = engine_template(en),
                                .vocab_size = cfg->vocab_size, .ctx = engine_ctx(en),
                                .add_bos = model_doc_bos(cfg, tok_bos_id(tok))};
    }
    struct sockaddr_storage sa;
    if (!s->host || !s->model_id || (o->api_key && o->api_key[0] && !s->api_key)) {
        ERR(e, ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (!en && !o->label_db) {
        ERR(e, ERR_ARG, "nothing to serve: give a model, a labeling database, or both");
        goto fail;
    }
    if (resolve(s->host, o->port, &sa, e) || (en && sched_start(&s->sched, en, o->max_queue, e))) goto fail;
    if (o->label_db) {
        // Drafts come from the API named for them, else from the served model.
        s->drafter = o->label_drafter;
        if (!s->drafter && s->sched && s->model.tpl) {
            if (sched_backend_open(&s->drafter, s->sched, &s->model, e)) goto fail;
            s->own_drafter = true;
        }
        LabelAppOptions lo = {.db = o->label_db, .drafter = s->drafter, .draft_temperature = 0.8f,
                              .secure_cookie = o->label_secure_cookie};
        if (label_app_open(&s->label, &lo, e)) goto fail;
    }
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
                     MHD_USE_ITC | MHD_USE_ERROR_LOG | (sa.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
    s->d = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, on_request, s,
                            MHD_OPTION_EXTERNAL_LOGGER, mhd_log, s,  // first, as MHD wants
                            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)300,
                            MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
                            MHD_OPTION_END);
    if (!s->d) {
        ERR(e, ERR_IO, "cannot listen on %s port %d (in use, or not an address of this machine?)",
            s->host, o->port);
        goto fail;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
    s->port = di ? di->port : o->port;
    *out = s;
    return 0;
fail:
    server_free(s);
    return -1;
}

int server_port(const Server *s) { return s->port; }

void server_stop(Server *s) {
    if (!s || atomic_exchange(&s->stopping, true)) return;
    // No new connections; then the scheduler fails what waits and lets the rest finish.
    if (s->d) {
        MHD_socket fd = MHD_quiesce_daemon(s->d);
        if (fd != MHD_INVALID_SOCKET) close(fd);
    }
    if (s->sched) sched_stop(s->sched, s->o.grace_ms);
    // MHD_stop_daemon closes every connection, so first let the requests in flight send
    // their responses: the scheduler ends every generation within the grace time.
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (atomic_load(&s->open_requests) > 0 && seconds_since(&t0) * 1000 < s->o.grace_ms + 2000)
        nanosleep(&(struct timespec){.tv_nsec = 10 * 1000000L}, NULL);
    if (s->d) MHD_stop_daemon(s->d);  // waits for the connection threads
    s->d = NULL;
}

void server_free(Server *s) {
    if (!s) return;
    if (s->d) MHD_stop_daemon(s->d);
    label_app_close(s->label);
    if (s->own_drafter) synth_backend_close(s->drafter);
    sched_free(s->sched);
    free(s->host);
    free(s->api_key);
    free(s->model_id);
    free(s);
}
