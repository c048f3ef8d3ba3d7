// eval.c: loss, perplexity and accuracy of a model on a split (see eval.h).
#include "train/eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/loader.h"

int eval_run(Model *m, const TokenSet *s, const EvalOptions *o, EvalResult *r, Err *e) {
    memset(r, 0, sizeof *r);
    int B = o->batch, T = o->seq_len, V = m->cfg.vocab_size;
    size_t BT = (size_t)B * T;
    // Two loaders over the same documents in the same order: one gives the targets' mask,
    // the other marks every predictable token; the difference is the context.
    LoaderConfig c = {.B = B, .T = T, .pack = o->pack, .shuffle = false};
    LoaderConfig ca = c;
    ca.all_targets = true;
    Loader *lt = NULL, *la = NULL;
    int32_t *ids = malloc(BT * sizeof *ids), *doc = malloc(BT * sizeof *doc);
    float *mt = malloc(BT * sizeof *mt), *ma = malloc(BT * sizeof *ma), *logp = malloc(BT * sizeof *logp);
    int rc = -1;
    if (!ids || !doc || !mt || !ma || !logp) {
        ERR(e, ERR_NOMEM, "out of memory");
        goto done;
    }
    if (loader_open(&lt, s, &c, e) || loader_open(&la, s, &ca, e)) goto done;
    double tl = 0, cl = 0;
    long th = 0, ch = 0;
    for (int k = 0; o->max_batches <= 0 || k < o->max_batches; k++) {
        int got = loader_next(lt, ids, doc, mt, e);
        if (got < 0 || loader_next(la, ids, doc, ma, e) < 0) goto done;
        if (got == 0) break;
        r->docs = (long)loader_state(lt).cursor;
        double unused;
        if (model_forward(m, ids, doc, B, T, e) ||
            model_loss(m, NULL, 0, logp, &unused, NULL, e))
            goto done;
        for (size_t i = 0; i < BT; i++) {
            if (ma[i] == 0.0f) continue;  // a document's first token, or padding
            const float *z = m->acts.logits + (i - 1) * (size_t)V;  // the row that predicts i
            int best = 0;
            for (int v = 1; v < V; v++)
                if (z[v] > z[best]) best = v;
            int hit = best == ids[i];
            if (mt[i] != 0.0f) tl -= logp[i], th += hit, r->targets++;
            else cl -= logp[i], ch += hit, r->context++;
        }
    }
    r->target_loss = r->targets ? tl / r->targets : NAN;
    r->context_loss = r->context ? cl / r->context : NAN;
    r->target_acc = r->targets ? (double)th / r->targets : NAN;
    r->context_acc = r->context ? (double)ch / r->context : NAN;
    rc = 0;
done:
    loader_free(lt);
    loader_free(la);
    free(ids), free(doc), free(mt), free(ma), free(logp);
    return rc;
}
