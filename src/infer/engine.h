// engine.h: the inference engine — a model with per-sequence KV caches, sampling and stop
// handling, for one stream (posttrain sample / chat) and for a server that batches many
// requests continuously (posttrain serve).
//
// Model: an Engine holds the model, its tokenizer and chat template, and max_seqs slots.
// Each slot owns a KV cache of ctx positions (L, KVH, ctx, D for keys and for values).
// A sequence (Seq) occupies one slot from seq_start to seq_free.
//
// The step: engine_step advances every unfinished sequence by one token, except one whose
// prompt is still being read.
//   - sequences started since the last step are prefilled: their prompt goes through the
//     model in GEMM-based forwards, filling the cache; the last position's logits give
//     their first token. While other sequences decode, a step reads at most prefill_chunk
//     prompt tokens (oldest slot first), so a long prompt takes several steps — producing
//     no token until it is read — instead of stalling every running stream; with nothing
//     else running, the whole prompt goes in one step;
//   - the other unfinished sequences decode together: one forward whose matmul rows are
//     the sequences (rows = sequences, each attending over its own cache).
// After the step, seq_event(s) tells what s produced: the token, its log-probability
// (and the top-k alternatives when asked), the text released, and whether s finished.
// A step allocates nothing; all buffers are sized at engine_open for (max_seqs, ctx).
//
// Text: each token contributes its own bytes (tok_token_bytes; SentencePiece's strip of
// a leading space at the start of a decode is not applied, so a continuation keeps its
// space; a stop token contributes nothing). The released text is UTF-8-safe (an incomplete
// multi-byte character is held back until it completes) and stop-string-safe (text that
// could be the start of a stop string is held back until it is resolved; a matched stop
// string and what follows it are never released). When a sequence finishes for another
// reason, held-back text is released (incomplete UTF-8 as U+FFFD).
//
// Stops (finish_reason "stop"): the template's end token, the model's EOS ids (config.json
// eos_token_id) and the tokenizer's EOS, extra stop ids, stop strings. The stop token is
// reported as the step's token but contributes no text. "length": max_tokens generated or
// the slot's ctx full. "cancelled": seq_cancel.
//
// Threading: an Engine is single-threaded. All calls on an engine and its sequences
// (seq_start, engine_step, seq_event, seq_cancel, seq_free, engine_generate) must come
// from one thread at a time — a server runs them on its scheduler thread and hands
// requests in and events out through its own queues. engine_step uses OpenMP/oneDNN
// threads internally (EngineOptions.threads). The objects returned by
// engine_model_config, engine_tokenizer and engine_template are immutable after
// engine_open and may be read (e.g. tok_encode / tok_decode) from any thread while the
// engine runs, until engine_close.
#ifndef PT_INFER_ENGINE_H
#define PT_INFER_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chat/template.h"
#include "model/config.h"
#include "tok/tok.h"
#include "util/buf.h"
#include "util/err.h"

typedef struct Engine Engine;
typedef struct Seq Seq;

#define ENGINE_MAX_LOGPROBS 20  // most top alternatives a sequence may report per token

typedef struct {
    int max_seqs;        // parallel slots (default 1)
    int ctx;             // max tokens per sequence, prompt + generated (0: the model's
                         // max_position, at most 2048)
    int threads;         // OpenMP threads (0: leave the runtime's default)
    int prefill_chunk;   // most prompt tokens per forward, and per step while others decode (0: 512)
    const char *tokenizer;      // tokenizer spec (tok_load); NULL: the model directory
    const char *vocab_dir;      // for built-in tokenizer names; may be NULL
    const char *template_name;  // chat template: NULL uses the one the model directory
                                // carries (chat_template_from_dir), else "chatml" when its
                                // special tokens can be added; a name overrides the dir
} EngineOptions;

void engine_options_default(EngineOptions *o);

// Loads model_dir (config.json + safetensors), its tokenizer and chat template, and
// sizes the slots. The tokenizer gets the template's special tokens
// (chat_prepare_tokenizer). Errors name the file at fault.
int engine_open(Engine **en, const char *model_dir, const EngineOptions *o, Err *e);
void engine_close(Engine *en);  // accepts NULL; frees unfreed sequences too

const ModelConfig *engine_model_config(const Engine *en);
const Tokenizer *engine_tokenizer(const Engine *en);
const ChatTemplate *engine_template(const Engine *en);  // NULL when there is none
int engine_ctx(const Engine *en);        // tokens per sequence
int engine_max_seqs(const Engine *en);
int engine_free_slots(const Engine *en); // slots not held by a sequence
int engine_n_active(const Engine *en);   // sequences started and not finished

typedef struct {
    float temperature;         // 0: greedy (argmax); default 1
    int top_k;                 // keep the k most likely (0: all)
    float top_p;               // nucleus: smallest set with mass >= top_p (1: off)
    float min_p;               // drop tokens with p < min_p * p_max (0: off)
    float repetition_penalty;  // CTRL/HF: logit / r if > 0 else * r, for tokens seen in
                               // prompt or output (1: off)
    float frequency_penalty;   // OpenAI: logit -= f * count in the output so far (0: off)
    float presence_penalty;    // OpenAI: logit -= p if it occurred in the output (0: off)
    uint64_t seed;             // per-sequence RNG: same seed + settings + prompt = same tokens
    int max_tokens;            // most tokens to generate (0: until ctx is full)
    int logprobs;              // top alternatives to report per token (0..ENGINE_MAX_LOGPROBS)
    bool ignore_eos;           // don't stop at EOS / end tokens (benchmarks)
} SampleParams;
// Log-probabilities are log-softmax of the model's raw logits, before penalties,
// temperature and truncation (the model's distribution, not the sampler's).

void sample_params_default(SampleParams *p);

typedef struct {
    const char *const *strings;  // stop strings (copied by seq_start); may be NULL
    int n_strings;
    const int32_t *ids;          // extra stop token ids; may be NULL
    int n_ids;
} EngineStops;

typedef enum {
    FINISH_NONE = 0,
    FINISH_STOP,       // a stop token or stop string
    FINISH_LENGTH,     // max_tokens, or the context is full
    FINISH_CANCELLED,  // seq_cancel
} FinishReason;

const char *finish_reason_name(FinishReason r);  // "stop", "length", "cancelled", NULL

// What a sequence produced in the last engine_step. Pointers are valid until the next
// engine_step or seq_free.
typedef struct {
    bool has_token;           // a token was produced this step
    int32_t token;
    float logprob;            // log p(token) under the raw logits
    int n_top;                // = SampleParams.logprobs (0 unless asked)
    const int32_t *top_ids;   // (n_top) most likely tokens, descending
    const float *top_logprobs;
    const char *text;         // UTF-8 text released this step (not NUL-terminated, may be
    size_t text_len;          // empty with a token, or hold several tokens' text)
    FinishReason finish;      // set from the step in which the sequence finished on
    bool stop_token;          // token is the stop token that ended it (finish is STOP; the
                              // token has no text), not a stop string or a reply token
} SeqEvent;

// Starts a sequence on a free slot. The prompt (n >= 1 ids, each in [0, V)) and stops are
// copied. Returns 0 with *seq set; 1 when no slot is free (nothing set: queue and retry
// after a seq_free); -1 on error (empty prompt, an id out of range, n >= ctx: e says).
// The prompt is prefilled by the next engine_step.
int seq_start(Engine *en, const int32_t *prompt, int n, const SampleParams *p,
              const EngineStops *stops, Seq **seq, Err *e);

// One step for all unfinished sequences (see above). A step with none does nothing.
int engine_step(Engine *en, Err *e);

const SeqEvent *seq_event(const Seq *s);
bool seq_finished(const Seq *s);
FinishReason seq_finish_reason(const Seq *s);
const int32_t *seq_output(const Seq *s, int *n);  // the generated ids so far (stop token included)
int seq_n_prompt(const Seq *s);
// Caller's pointer carried with the sequence (a server's request), NULL by default.
void seq_set_user(Seq *s, void *user);
void *seq_user(const Seq *s);

// Finishes s with FINISH_CANCELLED now (no more tokens; its event is cleared). The slot
// stays held until seq_free.
void seq_cancel(Seq *s);
// Releases s and its slot (finished or not). s is invalid afterwards. Accepts NULL.
void seq_free(Seq *s);

// --- One stream, start to end (sample, chat) ---

// Called after each step with the sequence's event; return nonzero to stop (the result
// then finishes as cancelled).
typedef int (*EngineTokenFn)(void *ctx, const SeqEvent *ev);

typedef struct {
    IntVec ids;             // the generated ids (a final stop token included)
    Buf text;               // the released text (stop string excluded)
    FinishReason finish;
    int n_prompt, n_generated;
    double prefill_s, decode_s;  // wall time of the prefill step, and of the rest
} GenResult;

void gen_result_free(GenResult *r);

// Runs one sequence to its end on a free slot (an error when none is free): seq_start,
// engine_step until finished, fn (may be NULL) after each step. res (may be NULL) is
// overwritten (caller frees with gen_result_free).
int engine_generate(Engine *en, const int32_t *prompt, int n, const SampleParams *p,
                    const EngineStops *stops, EngineTokenFn fn, void *ctx, GenResult *res,
                    Err *e);

#endif
