// remote.c: the OpenAI-compatible chat client with retries and a rate limit (remote.h).
#include "synth/remote.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

struct RemoteClient {
    RemoteOptions o;
    char *url;        // the chat completions endpoint
    char *auth;       // "Authorization: Bearer KEY" or NULL
    CURL *curl;       // reused: keeps the connection alive between requests
    uint64_t rng;     // xorshift64* state of the jitter
    double next_start;  // monotonic time before which no request may start (rate limit)
    long requests, retries;
};

typedef struct {
    SynthBackend base;
    RemoteClient *c;  // borrowed
    char *model;
} RemoteBackend;

void remote_options_default(RemoteOptions *o) {
    memset(o, 0, sizeof *o);
    o->timeout_s = 120;
    o->max_retries = 5;
    o->backoff_s = 1;
    o->backoff_max_s = 30;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void sleep_s(double s) {
    if (s <= 0) return;
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    while (nanosleep(&ts, &ts) && errno == EINTR) {}
}

static double uniform(RemoteClient *c) {  // [0, 1)
    c->rng ^= c->rng >> 12;
    c->rng ^= c->rng << 25;
    c->rng ^= c->rng >> 27;
    return (double)((c->rng * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

int remote_client_open(RemoteClient **out, const RemoteOptions *o, Err *e) {
    *out = NULL;
    if (!o->base || !*o->base) return ERR(e, ERR_ARG, "no API base URL");
    if (strncmp(o->base, "http://", 7) && strncmp(o->base, "https://", 8))
        return ERR(e, ERR_ARG, "API base '%s': expected an http:// or https:// URL", o->base);
    if (curl_global_init(CURL_GLOBAL_DEFAULT)) return ERR(e, ERR_IO, "libcurl: global init failed");
    RemoteClient *c = calloc(1, sizeof *c);
    if (!c) return ERR(e, ERR_NOMEM, "out of memory");
    c->o = *o;
    c->rng = (o->seed ^ 0x9e3779b97f4a7c15ull) | 1;
    // base, without trailing slashes, then /v1 unless it is there already.
    size_t n = strlen(o->base);
    while (n > 0 && o->base[n - 1] == '/') n--;
    bool has_v1 = n >= 3 && !strncmp(o->base + n - 3, "/v1", 3);
    c->url = malloc(n + 32);
    if (c->url) snprintf(c->url, n + 32, "%.*s%s/chat/completions", (int)n, o->base, has_v1 ? "" : "/v1");
    if (o->api_key && *o->api_key) {
        size_t k = strlen(o->api_key) + 32;
        if ((c->auth = malloc(k))) snprintf(c->auth, k, "Authorization: Bearer %s", o->api_key);
    }
    c->curl = curl_easy_init();
    if (!c->url || (o->api_key && *o->api_key && !c->auth) || !c->curl) {
        remote_client_close(c);
        return ERR(e, ERR_NOMEM, "libcurl: could not create a handle");
    }
    *out = c;
    return 0;
}

void remote_client_close(RemoteClient *c) {
    if (!c) return;
    if (c->curl) curl_easy_cleanup(c->curl);
    free(c->url);
    free(c->auth);
    free(c);
}

void remote_client_counts(const RemoteClient *c, long *requests, long *retries) {
    *requests = c->requests;
    *retries = c->retries;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
    return buf_append(ud, p, size * n) ? 0 : size * n;
}

// Keeps Retry-After (delta-seconds form; the HTTP-date form is rare from APIs).
static size_t on_header(char *p, size_t size, size_t n, void *ud) {
    size_t len = size * n;
    if (len > 12 && !strncasecmp(p, "Retry-After:", 12)) {
        char tmp[64];
        size_t k = len - 12 < sizeof tmp - 1 ? len - 12 : sizeof tmp - 1;
        memcpy(tmp, p + 12, k);
        tmp[k] = 0;
        char *end;
        double v = strtod(tmp, &end);
        if (end != tmp && v >= 0) *(double *)ud = v;
    }
    return len;
}

static char *request_body(const char *model, const Conversation *conv, const SynthSample *s) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "model", model);
    int rc = conv_to_json(root, conv, false);
    cJSON_AddNumberToObject(root, "temperature", s->temperature);
    cJSON_AddNumberToObject(root, "top_p", s->top_p);
    if (s->max_tokens > 0) cJSON_AddNumberToObject(root, "max_tokens", s->max_tokens);
    // A JSON number is a double: keep the seed within its exact integers.
    cJSON_AddNumberToObject(root, "seed", (double)(s->seed & ((1ull << 53) - 1)));
    char *body = rc ? NULL : cJSON_PrintUnformatted(root);  // NULL: out of memory
    cJSON_Delete(root);
    return body;
}

// The API's error message ({"error": {"message": …}}), else the body's start.
static void error_text(const Buf *body, char *out, size_t n) {
    cJSON *j = body->len ? cJSON_ParseWithLength(body->data, body->len) : NULL;
    const cJSON *err = cJSON_GetObjectItemCaseSensitive(j, "error");
    const cJSON *msg = cJSON_IsObject(err) ? cJSON_GetObjectItemCaseSensitive(err, "message") : err;
    if (cJSON_IsString(msg)) snprintf(out, n, "%s", msg->valuestring);
    else if (body->len) snprintf(out, n, "%.200s", body->data);
    else snprintf(out, n, "(empty body)");
    cJSON_Delete(j);
}

static int parse_reply(const char *url, const Buf *body, Buf *out, Err *e) {
    cJSON *j = cJSON_ParseWithLength(body->data ? body->data : "", body->len);
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(j, "choices");
    const cJSON *c0 = cJSON_IsArray(choices) ? cJSON_GetArrayItem(choices, 0) : NULL;
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(c0, "message");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(msg, "content");
    int rc = 0;
    out->len = 0;
    if (cJSON_IsString(content)) {
        if (buf_append(out, content->valuestring, strlen(content->valuestring)))
            rc = ERR(e, ERR_NOMEM, "out of memory");
    } else if (!cJSON_IsNull(content) || !msg) {  // null content: an empty reply
        rc = ERR(e, ERR_FORMAT, "POST %s: the answer has no choices[0].message.content: %.200s",
                 url, body->data ? body->data : "");
    }
    if (!rc && buf_reserve(out, 0)) rc = ERR(e, ERR_NOMEM, "out of memory");
    cJSON_Delete(j);
    return rc;
}

static int chat(RemoteClient *c, const char *model, const Conversation *conv, const SynthSample *s,
                Buf *out, Err *e) {
    char *body = request_body(model, conv, s);
    if (!body) return ERR(e, ERR_NOMEM, "out of memory");
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    if (c->auth) hdr = curl_slist_append(hdr, c->auth);
    Buf resp = {0};
    char why[512] = "";
    int rc = -1;
    for (int attempt = 0;; attempt++) {
        if (c->o.rps > 0) {  // space request starts 1/rps apart
            double t = now_s();
            if (c->next_start > t) sleep_s(c->next_start - t);
            c->next_start = (c->next_start > t ? c->next_start : t) + 1 / c->o.rps;
        }
        CURL *h = c->curl;
        curl_easy_reset(h);
        resp.len = 0;
        double retry_after = -1;
        char curl_err[CURL_ERROR_SIZE] = "";
        curl_easy_setopt(h, CURLOPT_URL, c->url);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, &retry_after);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // timeouts without SIGALRM
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(c->o.timeout_s * 1000));
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                         (long)(fmin(c->o.timeout_s, 10) * 1000));
        curl_easy_setopt(h, CURLOPT_USERAGENT, "posttrain-synth");
        c->requests++;
        CURLcode cr = curl_easy_perform(h);
        long status = 0;
        bool retry;
        if (cr != CURLE_OK) {
            snprintf(why, sizeof why, "%s", *curl_err ? curl_err : curl_easy_strerror(cr));
            // Transport failures worth another try; a bad URL or TLS setup is not.
            retry = cr == CURLE_OPERATION_TIMEDOUT || cr == CURLE_COULDNT_CONNECT ||
                    cr == CURLE_COULDNT_RESOLVE_HOST || cr == CURLE_GOT_NOTHING ||
                    cr == CURLE_SEND_ERROR || cr == CURLE_RECV_ERROR || cr == CURLE_PARTIAL_FILE;
        } else {
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
            if (status == 200) {
                rc = parse_reply(c->url, &resp, out, e);
                break;
            }
            char msg[400];
            error_text(&resp, msg, sizeof msg);
            snprintf(why, sizeof why, "HTTP %ld: %s", status, msg);
            retry = status == 408 || status == 429 || status >= 500;
        }
        if (!retry) {
            ERR(e, ERR_IO, "POST %s: %s", c->url, why);
            break;
        }
        if (attempt >= c->o.max_retries) {
            ERR(e, ERR_IO, "POST %s: gave up after %d attempt%s: %s", c->url, attempt + 1,
                attempt ? "s" : "", why);
            break;
        }
        double cap = fmin(c->o.backoff_max_s, c->o.backoff_s * ldexp(1, attempt));
        double delay = cap / 2 + uniform(c) * cap / 2;
        if (retry_after > delay) delay = fmin(retry_after, c->o.backoff_max_s);
        c->retries++;
        if (c->o.on_retry) c->o.on_retry(c->o.retry_ctx, attempt + 1, c->o.max_retries, delay, why);
        sleep_s(delay);
    }
    curl_slist_free_all(hdr);
    buf_free(&resp);
    free(body);
    return rc;
}

static int remote_reply(SynthBackend *b, const Conversation *conv, const SynthSample *s, Buf *out,
                        Err *e) {
    RemoteBackend *rb = (RemoteBackend *)b;
    return chat(rb->c, rb->model, conv, s, out, e);
}

static void remote_close(SynthBackend *b) {
    RemoteBackend *rb = (RemoteBackend *)b;
    free(rb->model);
    free(rb);
}

int remote_backend_open(SynthBackend **out, RemoteClient *c, const char *model, Err *e) {
    *out = NULL;
    RemoteBackend *rb = calloc(1, sizeof *rb);
    if (!rb || !(rb->model = strdup(model ? model : ""))) {
        free(rb);
        return ERR(e, ERR_NOMEM, "out of memory");
    }
    rb->c = c;
    rb->base.reply = remote_reply;
    rb->base.close = remote_close;
    rb->base.name = rb->model;
    *out = &rb->base;
    return 0;
}
