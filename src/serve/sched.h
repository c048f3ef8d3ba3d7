// sched.h: continuous batching — one scheduler thread owns the Engine; HTTP threads hand
// it requests and take back what each sequence produced.
//
// A request (SchedReq) is one prompt with n choices, each a sequence in the engine. The
// thread loops: drop cancelled work, admit queued choices into free slots (FIFO; a
// request may start some choices now and the rest as slots free up), run one
// engine_step for every running sequence (new ones prefill, the others decode one token
// together), and append each sequence's output to its request's event list, waking the
// connection thread that waits on it. Requests beyond the slots wait in the queue.
//
// Lifetime: a SchedReq is shared by the connection (until sched_release) and the
// scheduler (until its last sequence is freed); whichever lets go last frees it. A
// connection that goes away calls sched_release early: the request is cancelled and its
// slots are freed at the next step.
#ifndef PT_SERVE_SCHED_H
#define PT_SERVE_SCHED_H

#include <stdbool.h>
#include <stdint.h>

#include "infer/engine.h"
#include "serve/api_error.h"

typedef struct Sched Sched;
typedef struct SchedReq SchedReq;

// What one sequence produced in one step, or how it ended. One allocation.
typedef struct GenEvent {
    struct GenEvent *next;
    int choice;               // 0..n-1
    bool has_token;
    int32_t token;
    float logprob;            // log p(token), raw logits
    int n_top;                // alternatives (when the request asked for logprobs)
    int32_t *top_ids;
    float *top_logprobs;
    char *text;               // UTF-8 released this step (NUL-terminated; may be "")
    size_t text_len;
    FinishReason finish;      // FINISH_NONE until the choice's last event
    bool stop_token;          // token is the stop token (SeqEvent.stop_token)
    int error_status;         // nonzero: the choice failed (text holds the message)
} GenEvent;

void gen_events_free(GenEvent *ev);  // frees a list

typedef struct {
    const int32_t *prompt;       // copied
    int n_prompt;
    SampleParams params;         // choice i samples with seed + i
    const char *const *stops;    // stop strings, copied
    int n_stops;
    int n;                       // choices (>= 1)
} SchedJob;

typedef struct {
    int slots;            // engine slots (--parallel)
    int running;          // sequences in the engine
    int queued;           // choices waiting for a slot
    uint64_t requests;    // requests admitted since start
    uint64_t tokens;      // tokens generated since start
} SchedStats;

// Starts the scheduler thread on en (borrowed: from now on only that thread touches it).
// max_queue: most choices waiting beyond the slots before submits are refused (503).
int sched_start(Sched **s, Engine *en, int max_queue, Err *e);
// Stops taking requests; queued ones fail (503), running ones may finish for grace_ms,
// then are cancelled. Returns at once; sched_free waits for the thread.
void sched_stop(Sched *s, int grace_ms);
// Joins the thread (after sched_stop) and frees s. Accepts NULL.
void sched_free(Sched *s);

// Queues a request; *out is the caller's until sched_release. Fails with 503 when the
// server is stopping or the queue is full.
int sched_submit(Sched *s, const SchedJob *job, SchedReq **out, ApiError *a);
// Takes the request's new events (a list for the caller to gen_events_free), waiting up
// to timeout_ms for some; NULL when none came.
GenEvent *sched_wait(Sched *s, SchedReq *r, int timeout_ms);
// The connection is done with r: cancels what still runs; r is invalid afterwards.
void sched_release(Sched *s, SchedReq *r);

void sched_stats(Sched *s, SchedStats *st);

#endif
