// reply.h: a generation's events (sched.h) as OpenAI response objects.
//
// Non-stream: the events of every choice are gathered, then one object:
//   chat:        {"id": "chatcmpl-…", "object": "chat.completion", "created", "model",
//                 "choices": [{"index", "message": {"role": "assistant", "content"},
//                              "logprobs": null | {"content": [{"token", "logprob", "bytes",
//                              "top_logprobs": […]}]}, "finish_reason": "stop" | "length"}],
//                 "usage": {"prompt_tokens", "completion_tokens", "total_tokens"}}
//   completions: {"object": "text_completion", "choices": [{"index", "text", "logprobs":
//                 null | {"tokens", "token_logprobs", "top_logprobs", "text_offset"},
//                 "finish_reason"}], …}
// Stream: each event becomes server-sent events, "data: {chunk}\n\n" — for chat a first
// delta {"role": "assistant", "content": ""}, content deltas, a last chunk with the
// finish_reason, then (stream_options.include_usage) a chunk with usage and no choices,
// and "data: [DONE]\n\n".
#ifndef PT_SERVE_REPLY_H
#define PT_SERVE_REPLY_H

#include <stdbool.h>

#include "serve/api_error.h"
#include "serve/gen_request.h"
#include "serve/sched.h"
#include "util/buf.h"

typedef struct ReplyChoice ReplyChoice;

typedef struct {
    const GenRequest *req;     // borrowed
    const Tokenizer *tok;      // borrowed: token strings for logprobs
    const char *model;         // borrowed
    char id[48];               // "chatcmpl-…" / "cmpl-…"
    long long created;         // unix seconds
    ReplyChoice *choices;      // (req->n)
    int n_done;                // choices finished
    int completion_tokens;
    ApiError error;            // the first failure of a choice (status 0: none)
} Reply;

int reply_init(Reply *r, const GenRequest *req, const Tokenizer *tok, const char *model,
               unsigned long long serial);
void reply_free(Reply *r);

// Takes one event. With sse (streaming), appends the chunks it makes to sse; without,
// gathers it for reply_json. -1 when out of memory.
int reply_feed(Reply *r, const GenEvent *ev, Buf *sse);
bool reply_done(const Reply *r);  // every choice has finished
// Streaming, after the last event: an error event if a choice failed, the usage chunk
// when asked, and [DONE].
int reply_stream_end(Reply *r, Buf *sse);
// Non-stream: the whole response object (malloc'd), or NULL when out of memory.
char *reply_json(Reply *r);

#endif
