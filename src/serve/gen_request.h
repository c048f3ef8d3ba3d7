// gen_request.h: an OpenAI generation request — POST /v1/chat/completions or
// /v1/completions — checked and turned into prompt ids and sampling settings.
//
// Field names, types and limits follow OpenAI's API reference: messages | prompt, model,
// max_tokens / max_completion_tokens, temperature, top_p, n, stop, seed, stream,
// stream_options.include_usage, logprobs (+ top_logprobs for chat), frequency_penalty,
// presence_penalty; plus top_k, min_p, repetition_penalty and ignore_eos as llama.cpp and
// vLLM take them. null means "not given". Any mistake is a 400 naming the field (a wrong model is
// a 404), never a crash.
//
// Chat messages are rendered with the model's chat template plus the assistant header
// (add_generation_prompt), the same rendering training uses, so serving sees exactly
// the token sequence the model was fine-tuned on.
#ifndef PT_SERVE_GEN_REQUEST_H
#define PT_SERVE_GEN_REQUEST_H

#include <stdbool.h>

#include "chat/template.h"
#include "infer/engine.h"
#include "serve/api_error.h"
#include "tok/tok.h"

// The served model, as requests see it (all borrowed).
typedef struct {
    const char *id;            // the name /v1/models lists and requests must use
    const Tokenizer *tok;
    const ChatTemplate *tpl;   // NULL: the model has no chat template
    int vocab_size;            // the model's V: prompt ids must lie below it
    int ctx;                   // tokens per sequence
    bool add_bos;              // completions prompts start with BOS (not GPT-2)
} ServeModel;

typedef enum { GEN_CHAT, GEN_COMPLETION } GenKind;

#define GEN_MAX_STOPS 16
#define GEN_MAX_N 16

typedef struct {
    GenKind kind;
    IntVec prompt;
    SampleParams params;
    char *stops[GEN_MAX_STOPS];  // owned
    int n_stops;
    int n;                       // choices
    bool stream;
    bool include_usage;          // stream_options.include_usage
    bool logprobs;               // report log-probabilities
    int top_logprobs;            // alternatives per token
} GenRequest;

// Parses and checks body (len bytes). On error fills a (status 400/404) and returns -1.
int gen_request_parse(GenRequest *g, GenKind kind, const char *body, size_t len,
                      const ServeModel *m, ApiError *a);
void gen_request_free(GenRequest *g);

// A prompt's token budget against the context: 400 context_length_exceeded when the
// prompt leaves no room (shared with /apply-template's report).
int gen_check_length(const ServeModel *m, int n_prompt, const char *param, ApiError *a);

#endif
