// sched.c: the scheduler thread and its queues (see sched.h).
//
// One mutex guards the queue, the requests' event lists and flags; the engine itself is
// touched only by the scheduler thread, and engine_step runs without the lock so that
// connections can queue and take events meanwhile.
#include "serve/sched.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct SchedReq {
    SchedReq *next;          // in the queue
    int32_t *prompt;
    int n_prompt;
    SampleParams params;
    char **stops;
    int n_stops;
    int n;                   // choices
    int n_started;           // choices that got a sequence (or failed to)
    int n_live;              // sequences in the engine
    bool cancelled;          // the connection let go: no more events
    bool queued;
    int refs;                // the connection + the scheduler
    GenEvent *head, **tail;  // events not taken yet
    pthread_cond_t cv;       // signalled when events arrive
};

typedef struct {
    Seq *seq;
    SchedReq *req;
    int choice;
} Running;

struct Sched {
    Engine *en;               // borrowed; only the thread calls it
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;
    pthread_cond_t work;      // signalled on submit, cancel and stop
    SchedReq *qhead, *qtail;  // FIFO of requests with choices still to start
    int queued;               // choices waiting
    int max_queue;
    Running *run;             // (slots) the running sequences; the thread's own
    int n_run, slots;
    bool stopping;
    struct timespec deadline; // when stopping: cancel what still runs after this
    uint64_t requests, tokens;
};

static void now_plus(struct timespec *t, int ms) {
    clock_gettime(CLOCK_MONOTONIC, t);
    t->tv_sec += ms / 1000;
    t->tv_nsec += (long)(ms % 1000) * 1000000L;
    if (t->tv_nsec >= 1000000000L) {
        t->tv_sec++;
        t->tv_nsec -= 1000000000L;
    }
}

static bool past(const struct timespec *t) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

void gen_events_free(GenEvent *ev) {
    while (ev) {
        GenEvent *next = ev->next;
        free(ev);
        ev = next;
    }
}

static void req_free(SchedReq *r) {
    gen_events_free(r->head);
    free(r->prompt);
    for (int i = 0; i < r->n_stops; i++) free(r->stops[i]);
    free(r->stops);
    pthread_cond_destroy(&r->cv);
    free(r);
}

// Under the lock.
static void req_unref(SchedReq *r) {
    if (--r->refs == 0) req_free(r);
}

// Appends an event to r (under the lock) and wakes its connection. Out of memory loses
// the event; the request then still ends, through its finish event or a cancel.
static void push_event(SchedReq *r, int choice, const SeqEvent *ev, FinishReason finish,
                       int error_status, const char *msg) {
    if (r->cancelled) return;
    const char *text = msg ? msg : ev ? ev->text : NULL;
    size_t text_len = msg ? strlen(msg) : ev ? ev->text_len : 0;
    int n_top = ev && ev->has_token ? ev->n_top : 0;
    size_t size = sizeof(GenEvent) + (size_t)n_top * (sizeof(int32_t) + sizeof(float)) + text_len + 1;
    GenEvent *g = calloc(1, size);
    if (!g) return;
    g->choice = choice;
    g->top_ids = (int32_t *)(g + 1);
    g->top_logprobs = (float *)(g->top_ids + n_top);
    g->text = (char *)(g->top_logprobs + n_top);
    if (ev && ev->has_token) {
        g->has_token = true;
        g->token = ev->token;
        g->logprob = ev->logprob;
        g->stop_token = ev->stop_token;
        g->n_top = n_top;
        if (n_top) {
            memcpy(g->top_ids, ev->top_ids, (size_t)n_top * sizeof(int32_t));
            memcpy(g->top_logprobs, ev->top_logprobs, (size_t)n_top * sizeof(float));
        }
    }
    if (text_len) memcpy(g->text, text, text_len);
    g->text_len = text_len;
    g->finish = finish;
    g->error_status = error_status;
    *r->tail = g;
    r->tail = &g->next;
    pthread_cond_signal(&r->cv);
}

// A choice that will not run: its last event is an error.
static void fail_choice(SchedReq *r, int choice, int status, const char *msg) {
    push_event(r, choice, NULL, FINISH_CANCELLED, status, msg);
}

// Takes r off the queue head (under the lock).
static void dequeue_head(Sched *s) {
    SchedReq *r = s->qhead;
    s->qhead = r->next;
    if (!s->qhead) s->qtail = NULL;
    r->next = NULL;
    r->queued = false;
}

// The scheduler lets go of r when all its choices have started and ended.
static void maybe_done(SchedReq *r) {
    if (r->n_started == r->n && r->n_live == 0 && !r->queued) req_unref(r);
}

static void drop_running(Sched *s, int i) {
    Running *u = &s->run[i];
    seq_free(u->seq);
    u->req->n_live--;
    SchedReq *r = u->req;
    s->run[i] = s->run[--s->n_run];
    maybe_done(r);
}

// Queued requests: cancelled ones leave; when stopping, all fail.
static void sweep_queue(Sched *s) {
    SchedReq **pp = &s->qhead, *last = NULL;
    while (*pp) {
        SchedReq *r = *pp;
        if (r->cancelled || s->stopping) {
            for (int c = r->n_started; c < r->n; c++)
                fail_choice(r, c, 503, "the server is shutting down");
            s->queued -= r->n - r->n_started;
            r->n_started = r->n;
            *pp = r->next;
            r->next = NULL;
            r->queued = false;
            maybe_done(r);
        } else {
            last = r;
            pp = &r->next;
        }
    }
    s->qtail = last;
}

// Starts queued choices while slots are free (under the lock).
static void admit(Sched *s) {
    while (s->qhead && s->n_run < s->slots) {
        SchedReq *r = s->qhead;
        int c = r->n_started++;
        s->queued--;
        SampleParams p = r->params;
        p.seed += (uint64_t)c;
        EngineStops stops = {.strings = (const char *const *)r->stops, .n_strings = r->n_stops};
        Seq *seq = NULL;
        Err e = {0};
        int rc = seq_start(s->en, r->prompt, r->n_prompt, &p, &stops, &seq, &e);
        if (rc == 0) {
            s->run[s->n_run++] = (Running){seq, r, c};
            r->n_live++;
        } else if (rc == 1) {  // the engine has no free slot after all: retry later
            r->n_started--;
            s->queued++;
            break;
        } else {
            fail_choice(r, c, 400, e.msg);
        }
        if (c == 0) s->requests++;
        if (r->n_started == r->n) {
            dequeue_head(s);
            maybe_done(r);
        }
    }
}

// After a step: hand each sequence's output to its request; free the finished ones.
static void collect(Sched *s, int step_rc, const Err *e) {
    for (int i = 0; i < s->n_run;) {
        Running *u = &s->run[i];
        if (step_rc) {
            fail_choice(u->req, u->choice, 500, e->msg);
            drop_running(s, i);
            continue;
        }
        const SeqEvent *ev = seq_event(u->seq);
        bool done = seq_finished(u->seq);
        if (ev->has_token) s->tokens++;
        if (ev->has_token || ev->text_len || done)
            push_event(u->req, u->choice, ev, done ? seq_finish_reason(u->seq) : FINISH_NONE, 0, NULL);
        if (done) drop_running(s, i);
        else i++;
    }
}

// Running sequences whose connection left, or all of them once the grace time is over.
static void cancel_running(Sched *s) {
    bool expired = s->stopping && past(&s->deadline);
    for (int i = 0; i < s->n_run;) {
        Running *u = &s->run[i];
        if (u->req->cancelled || expired) {
            if (!u->req->cancelled)
                fail_choice(u->req, u->choice, 503, "the server is shutting down");
            drop_running(s, i);
        } else {
            i++;
        }
    }
}

static void *sched_main(void *arg) {
    Sched *s = arg;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        cancel_running(s);
        sweep_queue(s);
        admit(s);
        if (s->n_run == 0) {
            if (s->stopping) break;
            pthread_cond_wait(&s->work, &s->mu);
            continue;
        }
        pthread_mutex_unlock(&s->mu);
        Err e = {0};
        int rc = engine_step(s->en, &e);
        pthread_mutex_lock(&s->mu);
        collect(s, rc, &e);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

int sched_start(Sched **out, Engine *en, int max_queue, Err *e) {
    Sched *s = calloc(1, sizeof *s);
    if (!s) return ERR(e, ERR_NOMEM, "out of memory");
    s->en = en;
    s->slots = engine_max_seqs(en);
    s->max_queue = max_queue;
    s->run = calloc((size_t)s->slots, sizeof *s->run);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->work, &ca);
    pthread_condattr_destroy(&ca);
    if (!s->run) {
        sched_free(s);
        return ERR(e, ERR_NOMEM, "out of memory");
    }
    int rc = pthread_create(&s->thread, NULL, sched_main, s);
    if (rc) {
        sched_free(s);
        return ERR(e, ERR_IO, "cannot start the scheduler thread: %s", strerror(rc));
    }
    s->thread_started = true;
    *out = s;
    return 0;
}

void sched_stop(Sched *s, int grace_ms) {
    pthread_mutex_lock(&s->mu);
    if (!s->stopping) {
        s->stopping = true;
        now_plus(&s->deadline, grace_ms);
    }
    pthread_cond_signal(&s->work);
    pthread_mutex_unlock(&s->mu);
}

void sched_free(Sched *s) {
    if (!s) return;
    if (s->thread_started) {
        sched_stop(s, 0);  // keeps the grace time of an earlier stop
        pthread_join(s->thread, NULL);
    }
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->work);
    free(s->run);
    free(s);
}

int sched_submit(Sched *s, const SchedJob *job, SchedReq **out, ApiError *a) {
    SchedReq *r = calloc(1, sizeof *r);
    if (!r) return api_error(a, 500, NULL, NULL, "out of memory");
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cv, &ca);
    pthread_condattr_destroy(&ca);
    r->tail = &r->head;
    r->n = job->n;
    r->params = job->params;
    r->n_prompt = job->n_prompt;
    r->prompt = malloc((size_t)job->n_prompt * sizeof(int32_t));
    r->stops = job->n_stops ? calloc((size_t)job->n_stops, sizeof(char *)) : NULL;
    bool oom = !r->prompt || (job->n_stops && !r->stops);
    if (!oom) memcpy(r->prompt, job->prompt, (size_t)job->n_prompt * sizeof(int32_t));
    for (int i = 0; !oom && i < job->n_stops; i++, r->n_stops++)
        oom = !(r->stops[i] = strdup(job->stops[i]));
    if (oom) {
        req_free(r);
        return api_error(a, 500, NULL, NULL, "out of memory");
    }
    pthread_mutex_lock(&s->mu);
    if (s->stopping || s->queued + r->n > s->max_queue) {
        bool stopping = s->stopping;
        pthread_mutex_unlock(&s->mu);
        req_free(r);
        return stopping ? api_error(a, 503, NULL, NULL, "the server is shutting down")
                        : api_error(a, 503, NULL, NULL, "the server is overloaded: %d requests "
                                    "are waiting; retry later", s->max_queue);
    }
    r->refs = 2;
    r->queued = true;
    if (s->qtail) s->qtail->next = r;
    else s->qhead = r;
    s->qtail = r;
    s->queued += r->n;
    pthread_cond_signal(&s->work);
    pthread_mutex_unlock(&s->mu);
    *out = r;
    return 0;
}

GenEvent *sched_wait(Sched *s, SchedReq *r, int timeout_ms) {
    pthread_mutex_lock(&s->mu);
    if (!r->head && timeout_ms > 0) {
        struct timespec until;
        now_plus(&until, timeout_ms);
        while (!r->head && pthread_cond_timedwait(&r->cv, &s->mu, &until) != ETIMEDOUT) {}
    }
    GenEvent *list = r->head;
    r->head = NULL;
    r->tail = &r->head;
    pthread_mutex_unlock(&s->mu);
    return list;
}

void sched_release(Sched *s, SchedReq *r) {
    if (!r) return;
    pthread_mutex_lock(&s->mu);
    r->cancelled = true;
    pthread_cond_signal(&s->work);
    req_unref(r);
    pthread_mutex_unlock(&s->mu);
}

void sched_stats(Sched *s, SchedStats *st) {
    pthread_mutex_lock(&s->mu);
    *st = (SchedStats){.slots = s->slots, .running = s->n_run, .queued = s->queued,
                       .requests = s->requests, .tokens = s->tokens};
    pthread_mutex_unlock(&s->mu);
}
