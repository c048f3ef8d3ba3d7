// sched_backend.c: a synth backend over the scheduler (sched_backend.h). The prompt and
// the reply's text are synth's (synth_reply_prompt, synth_reply_text, as the local
// backend has them); the tokens in between come from the scheduler's events.
#include "serve/sched_backend.h"

#include <stdlib.h>

typedef struct {
    SynthBackend base;
    Sched *s;
    const ServeModel *m;
} SchedBackend;

static int sched_reply(SynthBackend *b, const Conversation *c, const SynthSample *smp, Buf *out, Err *e) {
    SchedBackend *sb = (SchedBackend *)b;
    const ServeModel *m = sb->m;
    IntVec ids = {0}, got = {0};
    SchedReq *r = NULL;
    int rc = -1;
    out->len = 0;
    if (!m->tpl) {
        ERR(e, ERR_ARG, "the served model has no chat template: it cannot draft replies");
        goto done;
    }
    if ((rc = synth_reply_prompt(m->tok, m->tpl, c, m->ctx, &ids, e))) goto done;
    rc = -1;
    SchedJob job = {.prompt = ids.data, .n_prompt = (int)ids.len, .n = 1};
    synth_sample_params(smp, &job.params);
    ApiError a = {0};
    if (sched_submit(sb->s, &job, &r, &a)) {
        ERR(e, ERR_IO, "draft: %s", a.message);
        goto done;
    }
    bool finished = false;
    while (!finished) {
        GenEvent *ev = sched_wait(sb->s, r, 1000);
        for (GenEvent *x = ev; x; x = x->next) {
            if (x->has_token && ivec_push(&got, x->token)) {
                gen_events_free(ev);
                ERR(e, ERR_NOMEM, "out of memory");
                goto done;
            }
            if (x->error_status) {
                ERR(e, ERR_IO, "draft: %s", x->text ? x->text : "generation failed");
                gen_events_free(ev);
                goto done;
            }
            if (x->finish != FINISH_NONE) finished = true;
        }
        gen_events_free(ev);
    }
    if (synth_reply_text(m->tok, m->tpl, got.data, got.len, out, e)) goto done;
    rc = 0;
done:
    if (r) sched_release(sb->s, r);
    ivec_free(&ids);
    ivec_free(&got);
    return rc;
}

static void sched_backend_close(SynthBackend *b) { free(b); }

int sched_backend_open(SynthBackend **out, Sched *s, const ServeModel *m, Err *e) {
    SchedBackend *sb = calloc(1, sizeof *sb);
    if (!sb) return ERR(e, ERR_NOMEM, "out of memory");
    sb->s = s;
    sb->m = m;
    sb->base.reply = sched_reply;
    sb->base.close = sched_backend_close;
    sb->base.name = m->id;
    *out = &sb->base;
    return 0;
}
