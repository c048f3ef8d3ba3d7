// engine.c: slots, the step and the one-stream loop of the inference engine (engine.h).
//
// Each slot has a Seq allocated at engine_open with its per-vocabulary arrays (counts,
// seen), so starting a sequence allocates only its copies of the prompt and the stops,
// and a step allocates nothing (its buffers grow only while a sequence's output does).
#include "infer/engine.h"

#include <limits.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "chat/export.h"
#include "infer/forward.h"
#include "infer/sample.h"
#include "infer/textout.h"
#include "model/model.h"

#define MAX_ENGINE_STOPS (MODEL_MAX_EOS + 2)

typedef enum { SEQ_FREE, SEQ_PREFILL, SEQ_DECODE, SEQ_DONE } SeqState;

struct Seq {
    Engine *en;
    int slot;
    SeqState state;
    IntVec prompt;          // (n_prompt) copied in
    IntVec out;             // generated ids
    int n_cached;           // positions of this slot's cache filled (or queued in this step)
    int max_new;            // most ids to generate (max_tokens and ctx)
    SampleParams p;
    int32_t *stop_ids;      // extra stop ids (n_stop_ids), copied
    int n_stop_ids;
    TextOut text;
    SampleRng rng;
    int32_t *counts;        // (V) occurrences in the output
    uint8_t *seen;          // (V) in prompt or output
    Buf ev_text;            // the event's text
    int32_t top_ids[ENGINE_MAX_LOGPROBS];
    float top_lps[ENGINE_MAX_LOGPROBS];
    SeqEvent ev;
    FinishReason finish;
    void *user;
};

struct Engine {
    Model model;
    KvModel km;
    Tokenizer *tok;
    const ChatTemplate *tpl;
    int ctx, max_seqs, prefill_chunk;
    Seq *seqs;              // (max_seqs) one per slot
    int32_t stops[MAX_ENGINE_STOPS];  // EOS ids and the template's end token
    int n_stops;
    SampleScratch scratch;
    int32_t *row_ids, *row_slot, *row_pos;  // (cap_rows) the rows of the next forward
    int32_t *out_rows;      // (max_seqs) rows whose logits are sampled
    Seq **out_seq;          // (max_seqs) and the sequence of each
    int n_rows, n_out;
};

const char *finish_reason_name(FinishReason r) {
    switch (r) {
    case FINISH_STOP: return "stop";
    case FINISH_LENGTH: return "length";
    case FINISH_CANCELLED: return "cancelled";
    default: return NULL;
    }
}

void engine_options_default(EngineOptions *o) {
    memset(o, 0, sizeof *o);
    o->max_seqs = 1;
}

void sample_params_default(SampleParams *p) {
    memset(p, 0, sizeof *p);
    p->temperature = 1.0f;
    p->top_p = 1.0f;
    p->repetition_penalty = 1.0f;
}

void gen_result_free(GenResult *r) {
    ivec_free(&r->ids);
    buf_free(&r->text);
    memset(r, 0, sizeof *r);
}

// ----------------------------------------------------------------------------- open / close

static void add_stop(Engine *en, int id) {
    if (id < 0 || id >= en->model.cfg.vocab_size || en->n_stops == MAX_ENGINE_STOPS) return;
    for (int i = 0; i < en->n_stops; i++)
        if (en->stops[i] == id) return;
    en->stops[en->n_stops++] = id;
}

// The template: a named one, else the one dir carries, else chatml when its tokens can be
// added (they may lie beyond the model's vocabulary: then chat cannot use them, but plain
// sampling is unaffected).
static int open_template(Engine *en, const char *dir, const char *name, Err *e) {
    if (name) {
        if (!(en->tpl = chat_template_find(name)))
            return ERR(e, ERR_ARG, "unknown template \"%s\" (known: %s)", name, chat_template_names());
        return chat_prepare_tokenizer(en->tok, en->tpl, e);
    }
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    Err ignored = {0};
    if (stat(path, &st) == 0 && chat_template_from_dir(dir, &en->tpl, &ignored) == 0 && en->tpl)
        return chat_prepare_tokenizer(en->tok, en->tpl, e);
    en->tpl = chat_template_find("chatml");
    if (en->tpl && chat_prepare_tokenizer(en->tok, en->tpl, &ignored)) en->tpl = NULL;
    return 0;
}

static int open_slots(Engine *en, Err *e) {
    int V = en->model.cfg.vocab_size, R = en->prefill_chunk + en->max_seqs;
    if (!(en->seqs = calloc((size_t)en->max_seqs, sizeof *en->seqs))) goto nomem;
    for (int s = 0; s < en->max_seqs; s++) {
        Seq *q = &en->seqs[s];
        q->en = en;
        q->slot = s;
        if (!(q->counts = calloc((size_t)V, sizeof *q->counts)) || !(q->seen = calloc((size_t)V, 1)))
            goto nomem;
    }
    en->row_ids = malloc((size_t)R * sizeof *en->row_ids);
    en->row_slot = malloc((size_t)R * sizeof *en->row_slot);
    en->row_pos = malloc((size_t)R * sizeof *en->row_pos);
    en->out_rows = malloc((size_t)en->max_seqs * sizeof *en->out_rows);
    en->out_seq = malloc((size_t)en->max_seqs * sizeof *en->out_seq);
    if (!en->row_ids || !en->row_slot || !en->row_pos || !en->out_rows || !en->out_seq ||
        sample_scratch_init(&en->scratch, V))
        goto nomem;
    return kv_model_init(&en->km, &en->model, en->max_seqs, en->ctx, R, en->max_seqs, e);
nomem:
    return ERR(e, ERR_NOMEM, "out of memory for %d sequence slots", en->max_seqs);
}

int engine_open(Engine **out, const char *model_dir, const EngineOptions *o, Err *e) {
    *out = NULL;
    EngineOptions def;
    if (!o) {
        engine_options_default(&def);
        o = &def;
    }
    if (o->max_seqs < 1 || o->max_seqs > 4096)
        return ERR(e, ERR_ARG, "engine: max_seqs %d outside [1, 4096]", o->max_seqs);
    if (o->ctx < 0 || o->prefill_chunk < 0 || o->threads < 0)
        return ERR(e, ERR_ARG, "engine: negative ctx, prefill_chunk or threads");
    Engine *en = calloc(1, sizeof *en);
    if (!en) return ERR(e, ERR_NOMEM, "out of memory");
    if (o->threads > 0) omp_set_num_threads(o->threads);
    if (model_load(&en->model, model_dir, e)) goto fail;
    const ModelConfig *c = &en->model.cfg;
    en->max_seqs = o->max_seqs;
    en->prefill_chunk = o->prefill_chunk ? o->prefill_chunk : 512;
    en->ctx = o->ctx ? o->ctx : c->max_position < 2048 ? c->max_position : 2048;
    if (en->ctx > c->max_position) {
        ERR(e, ERR_ARG, "engine: context %d above the model's max_position %d", en->ctx, c->max_position);
        goto fail;
    }
    if (tok_load(&en->tok, o->tokenizer ? o->tokenizer : model_dir, o->vocab_dir, e) ||
        open_template(en, model_dir, o->template_name, e) || open_slots(en, e))
        goto fail;
    for (int i = 0; i < c->n_eos; i++) add_stop(en, c->eos_ids[i]);
    add_stop(en, tok_eos_id(en->tok));
    if (en->tpl) add_stop(en, tok_special_id(en->tok, en->tpl->end));
    *out = en;
    return 0;
fail:
    engine_close(en);
    return -1;
}

static void seq_release(Seq *s) {
    ivec_free(&s->prompt);
    ivec_free(&s->out);
    free(s->stop_ids);
    s->stop_ids = NULL;
    s->n_stop_ids = 0;
    textout_free(&s->text);
    buf_free(&s->ev_text);
    s->state = SEQ_FREE;
    s->user = NULL;
}

void engine_close(Engine *en) {
    if (!en) return;
    if (en->seqs)
        for (int s = 0; s < en->max_seqs; s++) {
            seq_release(&en->seqs[s]);
            free(en->seqs[s].counts);
            free(en->seqs[s].seen);
        }
    free(en->seqs);
    kv_model_free(&en->km);
    sample_scratch_free(&en->scratch);
    free(en->row_ids);
    free(en->row_slot);
    free(en->row_pos);
    free(en->out_rows);
    free(en->out_seq);
    tok_free(en->tok);
    model_free(&en->model);
    free(en);
}

const ModelConfig *engine_model_config(const Engine *en) { return &en->model.cfg; }
const Tokenizer *engine_tokenizer(const Engine *en) { return en->tok; }
const ChatTemplate *engine_template(const Engine *en) { return en->tpl; }
int engine_ctx(const Engine *en) { return en->ctx; }
int engine_max_seqs(const Engine *en) { return en->max_seqs; }

int engine_free_slots(const Engine *en) {
    int n = 0;
    for (int s = 0; s < en->max_seqs; s++) n += en->seqs[s].state == SEQ_FREE;
    return n;
}

int engine_n_active(const Engine *en) {
    int n = 0;
    for (int s = 0; s < en->max_seqs; s++)
        n += en->seqs[s].state == SEQ_PREFILL || en->seqs[s].state == SEQ_DECODE;
    return n;
}

// ----------------------------------------------------------------------------- sequences

int seq_start(Engine *en, const int32_t *prompt, int n, const SampleParams *p,
              const EngineStops *stops, Seq **seq, Err *e) {
    *seq = NULL;
    int V = en->model.cfg.vocab_size;
    if (n < 1) return ERR(e, ERR_ARG, "empty prompt");
    if (n >= en->ctx)
        return ERR(e, ERR_ARG, "prompt of %d tokens: the context holds %d (prompt + output)", n, en->ctx);
    for (int i = 0; i < n; i++)
        if (prompt[i] < 0 || prompt[i] >= V)
            return ERR(e, ERR_ARG, "prompt token %d (id %d): outside the model's vocabulary [0, %d)",
                       i, prompt[i], V);
    SampleParams def;
    if (!p) {
        sample_params_default(&def);
        p = &def;
    }
    if (p->logprobs < 0 || p->logprobs > ENGINE_MAX_LOGPROBS)
        return ERR(e, ERR_ARG, "logprobs %d outside [0, %d]", p->logprobs, ENGINE_MAX_LOGPROBS);
    if (p->max_tokens < 0) return ERR(e, ERR_ARG, "max_tokens %d is negative", p->max_tokens);
    Seq *s = NULL;
    for (int k = 0; k < en->max_seqs && !s; k++)
        if (en->seqs[k].state == SEQ_FREE) s = &en->seqs[k];
    if (!s) return 1;
    s->p = *p;
    s->n_cached = 0;
    s->finish = FINISH_NONE;
    s->max_new = en->ctx - n;
    if (p->max_tokens > 0 && p->max_tokens < s->max_new) s->max_new = p->max_tokens;
    memset(&s->ev, 0, sizeof s->ev);
    memset(s->counts, 0, (size_t)V * sizeof *s->counts);
    memset(s->seen, 0, (size_t)V);
    sample_rng_seed(&s->rng, p->seed);
    if (ivec_append(&s->prompt, prompt, (size_t)n) ||
        textout_init(&s->text, stops ? stops->strings : NULL, stops ? stops->n_strings : 0))
        goto nomem;
    if (stops && stops->n_ids > 0) {
        if (!(s->stop_ids = malloc((size_t)stops->n_ids * sizeof *s->stop_ids))) goto nomem;
        memcpy(s->stop_ids, stops->ids, (size_t)stops->n_ids * sizeof *s->stop_ids);
        s->n_stop_ids = stops->n_ids;
    }
    for (int i = 0; i < n; i++) s->seen[prompt[i]] = 1;
    s->state = SEQ_PREFILL;
    *seq = s;
    return 0;
nomem:
    seq_release(s);
    return ERR(e, ERR_NOMEM, "out of memory");
}

const SeqEvent *seq_event(const Seq *s) { return &s->ev; }
bool seq_finished(const Seq *s) { return s->finish != FINISH_NONE; }
FinishReason seq_finish_reason(const Seq *s) { return s->finish; }
int seq_n_prompt(const Seq *s) { return (int)s->prompt.len; }
void seq_set_user(Seq *s, void *user) { s->user = user; }
void *seq_user(const Seq *s) { return s->user; }

const int32_t *seq_output(const Seq *s, int *n) {
    *n = (int)s->out.len;
    return s->out.data;
}

static void seq_finish(Seq *s, FinishReason r) {
    s->finish = r;
    s->ev.finish = r;
    s->state = SEQ_DONE;
}

void seq_cancel(Seq *s) {
    if (!s || s->state == SEQ_FREE || s->finish != FINISH_NONE) return;
    memset(&s->ev, 0, sizeof s->ev);
    seq_finish(s, FINISH_CANCELLED);
}

void seq_free(Seq *s) {
    if (s) seq_release(s);
}

// ----------------------------------------------------------------------------- the step

static bool is_stop(const Seq *s, int32_t id) {
    const Engine *en = s->en;
    for (int i = 0; i < s->n_stop_ids; i++)
        if (s->stop_ids[i] == id) return true;
    if (s->p.ignore_eos) return false;
    for (int i = 0; i < en->n_stops; i++)
        if (en->stops[i] == id) return true;
    return false;
}

// Samples s's next token from its logits row and settles its text and finish.
static int seq_accept(Seq *s, const float *logits, Err *e) {
    Engine *en = s->en;
    int V = en->model.cfg.vocab_size;
    float lse = sample_logsumexp(logits, V);
    int32_t id = sample_token(logits, &s->p, s->counts, s->seen, &s->rng, &en->scratch);
    s->ev.has_token = true;
    s->ev.token = id;
    s->ev.logprob = logits[id] - lse;
    if (s->p.logprobs > 0) {
        s->ev.n_top = sample_top_logprobs(logits, V, lse, s->p.logprobs, s->top_ids, s->top_lps);
        s->ev.top_ids = s->top_ids;
        s->ev.top_logprobs = s->top_lps;
    }
    if (ivec_push(&s->out, id)) return ERR(e, ERR_NOMEM, "out of memory");
    s->counts[id]++;
    s->seen[id] = 1;
    s->state = SEQ_DECODE;
    int rc = 0;
    if (is_stop(s, id)) {
        rc = textout_flush(&s->text, &s->ev_text);
        seq_finish(s, FINISH_STOP);
        s->ev.stop_token = true;
    } else {
        // The token's own bytes: tok_decode would drop SentencePiece's leading space at
        // the start of what it decodes, but a continuation keeps it.
        size_t len = 0;
        const uint8_t *b = tok_token_bytes(en->tok, id, &len);
        rc = textout_push(&s->text, b ? (const char *)b : "", b ? len : 0, &s->ev_text);
        if (rc == 1) seq_finish(s, FINISH_STOP), rc = 0;
        else if (rc == 0 && (int)s->out.len >= s->max_new) {
            rc = textout_flush(&s->text, &s->ev_text);
            seq_finish(s, FINISH_LENGTH);
        }
    }
    if (rc) return ERR(e, ERR_NOMEM, "out of memory");
    s->ev.text = s->ev_text.data;
    s->ev.text_len = s->ev_text.len;
    return 0;
}

// Runs the queued rows and samples the sequences whose logits were asked for.
static int flush_rows(Engine *en, Err *e) {
    if (en->n_rows == 0) return 0;
    int rc = kv_forward(&en->km, en->row_ids, en->row_slot, en->row_pos, en->n_rows, en->out_rows,
                        en->n_out, e);
    for (int k = 0; k < en->n_out && !rc; k++)
        rc = seq_accept(en->out_seq[k], en->km.logits + (size_t)k * en->model.cfg.vocab_size, e);
    en->n_rows = en->n_out = 0;
    return rc;
}

static int add_row(Engine *en, Seq *s, int32_t id, bool want_logits, Err *e) {
    if (en->n_rows == en->km.cap_rows && flush_rows(en, e)) return -1;
    int r = en->n_rows++;
    en->row_ids[r] = id;
    en->row_slot[r] = s->slot;
    en->row_pos[r] = s->n_cached++;
    if (want_logits) {
        en->out_rows[en->n_out] = r;
        en->out_seq[en->n_out++] = s;
    }
    return 0;
}

int engine_step(Engine *en, Err *e) {
    for (int k = 0; k < en->max_seqs; k++) {
        Seq *s = &en->seqs[k];
        if (s->state == SEQ_FREE) continue;
        memset(&s->ev, 0, sizeof s->ev);
        s->ev.finish = s->finish;
        s->ev_text.len = 0;
    }
    // Decode rows first (one each), then prompts; a full batch runs and the rest follow.
    int decoding = 0;
    for (int k = 0; k < en->max_seqs; k++) {
        Seq *s = &en->seqs[k];
        if (s->state != SEQ_DECODE) continue;
        if (add_row(en, s, s->out.data[s->out.len - 1], true, e)) return -1;
        decoding++;
    }
    // While others decode, a step takes at most prefill_chunk prompt tokens: a long prompt
    // is spread over several steps instead of stalling every running stream for all of it.
    // Alone, a prompt goes through in one step (more steps would only add overhead).
    int budget = decoding ? en->prefill_chunk : INT_MAX;
    for (int k = 0; k < en->max_seqs && budget > 0; k++) {
        Seq *s = &en->seqs[k];
        if (s->state != SEQ_PREFILL) continue;
        int n = (int)s->prompt.len;
        for (; s->n_cached < n && budget > 0; budget--)
            if (add_row(en, s, s->prompt.data[s->n_cached], s->n_cached == n - 1, e)) return -1;
    }
    return flush_rows(en, e);
}

// ----------------------------------------------------------------------------- one stream

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int engine_generate(Engine *en, const int32_t *prompt, int n, const SampleParams *p,
                    const EngineStops *stops, EngineTokenFn fn, void *ctx, GenResult *res,
                    Err *e) {
    if (res) memset(res, 0, sizeof *res);
    Seq *s;
    int rc = seq_start(en, prompt, n, p, stops, &s, e);
    if (rc == 1) return ERR(e, ERR_ARG, "engine: no free sequence slot");
    if (rc) return -1;
    double t0 = now_s(), t1 = t0;
    for (int step = 0; !seq_finished(s); step++) {
        if (engine_step(en, e)) {
            seq_free(s);
            return -1;
        }
        if (step == 0) t1 = now_s();
        const SeqEvent *ev = seq_event(s);
        if (res && ev->text_len && buf_append(&res->text, ev->text, ev->text_len)) {
            seq_free(s);
            return ERR(e, ERR_NOMEM, "out of memory");
        }
        if (fn && fn(ctx, ev)) seq_cancel(s);
    }
    if (res) {
        int k;
        const int32_t *ids = seq_output(s, &k);
        if (ivec_append(&res->ids, ids, (size_t)k)) {
            seq_free(s);
            return ERR(e, ERR_NOMEM, "out of memory");
        }
        res->finish = seq_finish_reason(s);
        res->n_prompt = n;
        res->n_generated = k;
        res->prefill_s = t1 - t0;
        res->decode_s = now_s() - t1;
    }
    seq_free(s);
    return 0;
}
