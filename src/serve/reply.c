// reply.c: OpenAI response objects and stream chunks from generation events (see reply.h).
#include "serve/reply.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "serve/json_str.h"
#include "util/utf8.h"

struct ReplyChoice {
    Buf text;             // the released text so far
    int n_tokens;
    FinishReason finish;
    bool done;
    bool role_sent;       // streaming chat: the first delta carries the role
    cJSON *lp;            // non-stream logprobs: chat {"content": […]}, completions {tokens, …}
};

int reply_init(Reply *r, const GenRequest *req, const Tokenizer *tok, const char *model,
               unsigned long long serial) {
    memset(r, 0, sizeof *r);
    r->req = req;
    r->tok = tok;
    r->model = model;
    r->created = (long long)time(NULL);
    // Unique per server run and request: start time and a serial number.
    snprintf(r->id, sizeof r->id, "%s-%llx%06llx", req->kind == GEN_CHAT ? "chatcmpl" : "cmpl",
             r->created, serial & 0xffffff);
    r->choices = calloc((size_t)req->n, sizeof *r->choices);
    return r->choices ? 0 : -1;
}

void reply_free(Reply *r) {
    if (r->choices)
        for (int i = 0; i < r->req->n; i++) {
            buf_free(&r->choices[i].text);
            cJSON_Delete(r->choices[i].lp);
        }
    free(r->choices);
    r->choices = NULL;
}

bool reply_done(const Reply *r) { return r->n_done == r->req->n; }

// A token's text for logprobs: valid UTF-8 (a token may hold part of a character; it
// becomes U+FFFD here, and "bytes" keeps the exact bytes, as OpenAI does).
static cJSON *token_text(const Tokenizer *t, int32_t id, cJSON **bytes_out) {
    size_t n = 0;
    const uint8_t *b = tok_token_bytes(t, id, &n);
    Buf s = {0};
    if (b && utf8_replace_invalid((const char *)b, n, &s)) return NULL;
    cJSON *str = json_string_n(s.data ? s.data : "", s.len);
    buf_free(&s);
    if (bytes_out) {
        *bytes_out = cJSON_CreateArray();
        for (size_t i = 0; i < n && *bytes_out; i++)
            cJSON_AddItemToArray(*bytes_out, cJSON_CreateNumber(b[i]));
    }
    return str;
}

// The same as a C string, for an object key (a NUL byte ends it there).
static char *token_key(const Tokenizer *t, int32_t id) {
    size_t n = 0;
    const uint8_t *b = tok_token_bytes(t, id, &n);
    Buf s = {0};
    if (b && n && utf8_replace_invalid((const char *)b, n, &s)) return NULL;
    return s.data ? s.data : strdup("");
}

// Chat: {"token", "logprob", "bytes", "top_logprobs": [{"token", "logprob", "bytes"}]}.
static cJSON *chat_logprob(const Reply *r, const GenEvent *ev) {
    cJSON *o = cJSON_CreateObject(), *bytes = NULL;
    cJSON_AddItemToObject(o, "token", token_text(r->tok, ev->token, &bytes));
    cJSON_AddNumberToObject(o, "logprob", ev->logprob);
    cJSON_AddItemToObject(o, "bytes", bytes);
    cJSON *top = cJSON_AddArrayToObject(o, "top_logprobs");
    for (int k = 0; k < ev->n_top; k++) {
        cJSON *t = cJSON_CreateObject(), *tb = NULL;
        cJSON_AddItemToObject(t, "token", token_text(r->tok, ev->top_ids[k], &tb));
        cJSON_AddNumberToObject(t, "logprob", ev->top_logprobs[k]);
        cJSON_AddItemToObject(t, "bytes", tb);
        cJSON_AddItemToArray(top, t);
    }
    return o;
}

// Completions: appends the token to {"tokens", "token_logprobs", "top_logprobs", "text_offset"}.
static void completion_logprob(const Reply *r, cJSON *lp, const GenEvent *ev, size_t offset) {
    cJSON_AddItemToArray(cJSON_GetObjectItem(lp, "tokens"), token_text(r->tok, ev->token, NULL));
    cJSON_AddItemToArray(cJSON_GetObjectItem(lp, "token_logprobs"), cJSON_CreateNumber(ev->logprob));
    cJSON *top = cJSON_CreateObject();
    for (int k = 0; k < ev->n_top; k++) {
        char *name = token_key(r->tok, ev->top_ids[k]);
        if (name && !cJSON_GetObjectItemCaseSensitive(top, name))
            cJSON_AddNumberToObject(top, name, ev->top_logprobs[k]);
        free(name);
    }
    cJSON_AddItemToArray(cJSON_GetObjectItem(lp, "top_logprobs"), top);
    cJSON_AddItemToArray(cJSON_GetObjectItem(lp, "text_offset"), cJSON_CreateNumber((double)offset));
}

static cJSON *new_logprobs(GenKind kind) {
    cJSON *lp = cJSON_CreateObject();
    if (kind == GEN_CHAT) {
        cJSON_AddArrayToObject(lp, "content");
    } else {
        cJSON_AddArrayToObject(lp, "tokens");
        cJSON_AddArrayToObject(lp, "token_logprobs");
        cJSON_AddArrayToObject(lp, "top_logprobs");
        cJSON_AddArrayToObject(lp, "text_offset");
    }
    return lp;
}

static cJSON *envelope(const Reply *r, const char *object) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "id", r->id);
    cJSON_AddStringToObject(o, "object", object);
    cJSON_AddNumberToObject(o, "created", (double)r->created);
    cJSON_AddStringToObject(o, "model", r->model);
    return o;
}

static cJSON *usage(const Reply *r) {
    cJSON *u = cJSON_CreateObject();
    int p = (int)r->req->prompt.len;
    cJSON_AddNumberToObject(u, "prompt_tokens", p);
    cJSON_AddNumberToObject(u, "completion_tokens", r->completion_tokens);
    cJSON_AddNumberToObject(u, "total_tokens", p + r->completion_tokens);
    return u;
}

// Appends "data: <o>\n\n" and deletes o.
static int sse_put(Buf *sse, cJSON *o) {
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!s) return -1;
    int rc = buf_appendf(sse, "data: %s\n\n", s);
    free(s);
    return rc;
}

// One streaming chunk for choice i: content delta (or text), logprobs, finish_reason.
static cJSON *chunk(const Reply *r, int i, const char *text, size_t len, cJSON *lp, const char *finish) {
    bool chat = r->req->kind == GEN_CHAT;
    cJSON *o = envelope(r, chat ? "chat.completion.chunk" : "text_completion");
    cJSON *choices = cJSON_AddArrayToObject(o, "choices"), *c = cJSON_CreateObject();
    cJSON_AddItemToArray(choices, c);
    cJSON_AddNumberToObject(c, "index", i);
    if (chat) {
        cJSON *delta = cJSON_AddObjectToObject(c, "delta");
        if (!r->choices[i].role_sent) cJSON_AddStringToObject(delta, "role", "assistant");
        if (text) cJSON_AddItemToObject(delta, "content", json_string_n(text, len));
    } else {
        cJSON_AddItemToObject(c, "text", json_string_n(text ? text : "", len));
    }
    if (lp) cJSON_AddItemToObject(c, "logprobs", lp);
    else cJSON_AddNullToObject(c, "logprobs");
    if (finish) cJSON_AddStringToObject(c, "finish_reason", finish);
    else cJSON_AddNullToObject(c, "finish_reason");
    return o;
}

static int feed_stream(Reply *r, ReplyChoice *ch, const GenEvent *ev, bool lp_token, Buf *sse) {
    int i = ev->choice, rc = 0;
    bool chat = r->req->kind == GEN_CHAT;
    if (chat && !ch->role_sent) {
        rc |= sse_put(sse, chunk(r, i, "", 0, NULL, NULL));
        ch->role_sent = true;
    }
    if (ev->text_len || lp_token) {
        cJSON *lp = NULL;
        if (lp_token) {
            lp = new_logprobs(r->req->kind);
            if (chat) cJSON_AddItemToArray(cJSON_GetObjectItem(lp, "content"), chat_logprob(r, ev));
            else completion_logprob(r, lp, ev, ch->text.len);
        }
        rc |= sse_put(sse, chunk(r, i, ev->text, ev->text_len, lp, NULL));
    }
    if (ch->done && !ev->error_status)
        rc |= sse_put(sse, chunk(r, i, NULL, 0, NULL, finish_reason_name(ch->finish)));
    return rc;
}

int reply_feed(Reply *r, const GenEvent *ev, Buf *sse) {
    if (ev->choice < 0 || ev->choice >= r->req->n) return 0;
    ReplyChoice *ch = &r->choices[ev->choice];
    if (ch->done) return 0;
    if (ev->error_status) {
        if (!r->error.status) api_error(&r->error, ev->error_status, NULL, NULL, "%s", ev->text);
    } else if (ev->finish == FINISH_CANCELLED && !r->error.status) {
        api_error(&r->error, 503, NULL, NULL, "the generation was cancelled");
    }
    if (ev->has_token) {
        ch->n_tokens++;
        r->completion_tokens++;
    }
    // Logprobs cover the reply's tokens, not the end token that stopped it (it has no text).
    bool lp_token = r->req->logprobs && ev->has_token && !ev->stop_token;
    if (ev->finish != FINISH_NONE) {
        ch->done = true;
        ch->finish = ev->finish;
        r->n_done++;
    }
    int rc = 0;
    if (sse) rc = feed_stream(r, ch, ev, lp_token, sse);
    if (lp_token && !sse) {
        if (!ch->lp) ch->lp = new_logprobs(r->req->kind);
        if (r->req->kind == GEN_CHAT)
            cJSON_AddItemToArray(cJSON_GetObjectItem(ch->lp, "content"), chat_logprob(r, ev));
        else
            completion_logprob(r, ch->lp, ev, ch->text.len);
    }
    if (!ev->error_status && ev->text_len && buf_append(&ch->text, ev->text, ev->text_len)) rc = -1;
    return rc;
}

int reply_stream_end(Reply *r, Buf *sse) {
    int rc = 0;
    if (r->error.status) {
        char *err = api_error_json(&r->error);
        rc |= err ? buf_appendf(sse, "data: %s\n\n", err) : -1;
        free(err);
    }
    if (r->req->include_usage) {
        cJSON *o = envelope(r, r->req->kind == GEN_CHAT ? "chat.completion.chunk" : "text_completion");
        cJSON_AddArrayToObject(o, "choices");
        cJSON_AddItemToObject(o, "usage", usage(r));
        rc |= sse_put(sse, o);
    }
    rc |= buf_appendf(sse, "data: [DONE]\n\n");
    return rc;
}

char *reply_json(Reply *r) {
    bool chat = r->req->kind == GEN_CHAT;
    cJSON *o = envelope(r, chat ? "chat.completion" : "text_completion");
    cJSON *choices = cJSON_AddArrayToObject(o, "choices");
    for (int i = 0; i < r->req->n; i++) {
        ReplyChoice *ch = &r->choices[i];
        cJSON *c = cJSON_CreateObject();
        cJSON_AddItemToArray(choices, c);
        cJSON_AddNumberToObject(c, "index", i);
        cJSON *text = json_string_n(ch->text.data ? ch->text.data : "", ch->text.len);
        if (chat) {
            cJSON *m = cJSON_AddObjectToObject(c, "message");
            cJSON_AddStringToObject(m, "role", "assistant");
            cJSON_AddItemToObject(m, "content", text);
        } else {
            cJSON_AddItemToObject(c, "text", text);
        }
        if (r->req->logprobs) {
            if (!ch->lp) ch->lp = new_logprobs(r->req->kind);
            cJSON_AddItemToObject(c, "logprobs", ch->lp);
            ch->lp = NULL;  // now owned by o
        } else {
            cJSON_AddNullToObject(c, "logprobs");
        }
        const char *finish = finish_reason_name(ch->finish);
        if (finish) cJSON_AddStringToObject(c, "finish_reason", finish);
        else cJSON_AddNullToObject(c, "finish_reason");
    }
    cJSON_AddItemToObject(o, "usage", usage(r));
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return s;
}
