// trainer.c: the training loop (see trainer.h): data, model, optimizer, then steps with
// validation, checkpoints, metrics and the loss curve. Checkpoint files are in checkpoint.c.
#include "train/trainer.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "chat/export.h"
#include "data/loader.h"
#include "model/model.h"
#include "train/checkpoint.h"
#include "train/dataset.h"
#include "train/plot.h"
#include "util/file.h"
#include "util/logfn.h"

void train_options_default(TrainOptions *o) {
    memset(o, 0, sizeof *o);
    o->epochs = 1.0;
    o->batch = 4;
    o->grad_accum = 1;
    o->seq_len = 1024;
    o->pack = o->shuffle = true;
    o->sched = (Schedule){.kind = SCHED_CONSTANT, .lr = 2e-5, .min_lr = 0.0, .warmup = 0};
    o->adam = (AdamWConfig){.lr = 2e-5f, .beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f,
                            .weight_decay = 0.0f, .clip = 1.0f};
    o->dtype = ST_F32;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

// Everything one run holds; freed by trainer_free.
typedef struct {
    const TrainOptions *o;
    Dataset ds;                     // documents, tokenizer (may be NULL), template
    char tok_dir[4200];             // OUT/tokenizer: its files with the template, or ""
    Loader *loader, *val_loader;
    Model m;
    AdamW opt;
    int total;                      // optimizer steps of the run
    Schedule sched;                 // the options' schedule with total set
    int step;                       // steps done
    double best_val;
    int32_t *ids, *doc;             // (A,B,T) the micro-batches of one step
    float *mask;                    // (A,B,T)
    double *hist_step, *hist_loss;  // the loss curve so far
    size_t n_hist, cap_hist;
    double *val_step, *val_loss;
    size_t n_val, cap_val;
    FILE *metrics;
} Trainer;

#define note(tr, ...) log_note((tr)->o->log, (tr)->o->ctx, __VA_ARGS__)

// ----------------------------------------------------------------------------- model

static int open_model(Trainer *tr, const char *dir, Err *e) {
    if (model_load(&tr->m, dir, e)) return -1;
    // The tokenizer may have grown (the template's special tokens): so does the model.
    int want = tr->ds.tok ? tok_vocab_size(tr->ds.tok) : 0;
    if (want > tr->m.cfg.vocab_size) {
        note(tr, "vocabulary %d -> %d (new rows: the mean of the existing embeddings)",
             tr->m.cfg.vocab_size, want);
        if (model_grow_vocab(&tr->m, want, e)) return -1;
    }
    int dv = tokenset_vocab(tr->ds.train), vv = tr->ds.val ? tokenset_vocab(tr->ds.val) : 0;
    if (dv < vv) dv = vv;
    if (dv > tr->m.cfg.vocab_size)
        return ERR(e, ERR_ARG, "the data has token id %d, outside the model's vocabulary of %d",
                   dv - 1, tr->m.cfg.vocab_size);
    return 0;
}

// The tokenizer as trained (the template's special tokens included) and the template, once,
// into OUT/tokenizer; every saved model copies these files.
static int export_tokenizer(Trainer *tr, Err *e) {
    if (!tr->ds.tok) return 0;
    if (!tr->ds.template_tokens) {  // pretraining: the tokenizer files as they came
        if (file_is_dir(tr->ds.tok_spec))
            snprintf(tr->tok_dir, sizeof tr->tok_dir, "%s", tr->ds.tok_spec);
        return 0;
    }
    if (path_join(tr->tok_dir, sizeof tr->tok_dir, tr->o->out_dir, "tokenizer", e) ||
        file_mkdir_p(tr->tok_dir, e) ||
        chat_export_tokenizer(tr->ds.tok, tr->ds.tok_spec, tr->ds.tpl, tr->tok_dir, e)) {
        tr->tok_dir[0] = 0;
        return -1;
    }
    return 0;
}

// ----------------------------------------------------------------------------- steps

// The next micro-batch, starting a new epoch when one ends.
static int next_batch(Loader *l, int32_t *ids, int32_t *doc, float *mask, Err *e) {
    int got = loader_next(l, ids, doc, mask, e);
    if (got == 0) got = loader_next(l, ids, doc, mask, e);
    return got < 0 ? -1 : 0;
}

// One optimizer step: fetch grad_accum micro-batches, count the targets of the whole step,
// then forward/backward each with that count as the loss normaliser, then AdamW.
static int train_step(Trainer *tr, double *loss, double *norm, long *targets, long *tokens,
                      Err *e) {
    const TrainOptions *o = tr->o;
    int A = o->grad_accum, B = o->batch, T = o->seq_len;
    size_t BT = (size_t)B * T;
    long n = 0;
    uint64_t before = loader_stats(tr->loader)->tokens;
    for (int a = 0; a < A; a++) {
        if (next_batch(tr->loader, tr->ids + a * BT, tr->doc + a * BT, tr->mask + a * BT, e))
            return -1;
        for (size_t i = 0; i < BT; i++) n += tr->mask[a * BT + i] != 0.0f;
    }
    if (model_zero_grad(&tr->m, e)) return -1;
    double sum = 0.0;
    for (int a = 0; a < A; a++) {
        double l;
        if (model_forward(&tr->m, tr->ids + a * BT, tr->doc + a * BT, B, T, e) ||
            model_loss(&tr->m, tr->mask + a * BT, n ? (double)n : 1.0, NULL, &l, NULL, e) ||
            model_backward(&tr->m, tr->mask + a * BT, n ? (double)n : 1.0, e))
            return -1;
        sum += l;
    }
    tr->opt.cfg.lr = (float)schedule_lr(&tr->sched, tr->step);
    adamw_step(&tr->opt, &tr->m, norm);
    *loss = sum;
    *targets = n;
    *tokens = (long)(loader_stats(tr->loader)->tokens - before);  // real, not padding
    return 0;
}

// The mean target loss over the validation split (or its first eval_batches micro-batches).
static int validate(Trainer *tr, double *out, Err *e) {
    const TrainOptions *o = tr->o;
    int B = o->batch, T = o->seq_len;
    LoaderState st = {0};
    if (loader_restore(tr->val_loader, &st, e)) return -1;  // always from the start
    double sum = 0.0;
    long n = 0;
    for (int k = 0; o->eval_batches <= 0 || k < o->eval_batches; k++) {
        int got = loader_next(tr->val_loader, tr->ids, tr->doc, tr->mask, e);
        if (got < 0) return -1;
        if (got == 0) break;
        double l;
        int c;
        if (model_forward(&tr->m, tr->ids, tr->doc, B, T, e) ||
            model_loss(&tr->m, tr->mask, 1.0, NULL, &l, &c, e))
            return -1;
        sum += l;
        n += c;
    }
    *out = n ? sum / n : NAN;
    return 0;
}

static int hist_push(double **xs, double **ys, size_t *n, size_t *cap, double x, double y) {
    if (*n == *cap) {
        size_t c = *cap ? 2 * *cap : 256;
        double *nx = realloc(*xs, c * sizeof **xs);
        if (!nx) return -1;
        *xs = nx;
        double *ny = realloc(*ys, c * sizeof **ys);
        if (!ny) return -1;
        *ys = ny;
        *cap = c;
    }
    (*xs)[*n] = x, (*ys)[*n] = y, (*n)++;
    return 0;
}

static int write_plot(Trainer *tr, Err *e) {
    char path[4200];
    if (path_join(path, sizeof path, tr->o->out_dir, "loss.svg", e)) return -1;
    PlotSeries s[2] = {
        {tr->hist_step, tr->hist_loss, tr->n_hist, "train loss", "#1f77b4", 0},
        {tr->val_step, tr->val_loss, tr->n_val, "validation loss", "#d62728", 1},
    };
    char title[256];
    snprintf(title, sizeof title, "%s: %s loss, step %d of %d",
             tr->o->objective == OBJ_SFT ? "SFT" : "pretrain", "masked next-token", tr->step,
             tr->total);
    return plot_svg(path, title, "optimizer step", "loss (nats per target token)", s,
                    tr->n_val ? 2 : 1, e);
}

// metrics.jsonl: on a resume, the lines after the checkpoint's step are dropped and the
// loss curve is rebuilt from the rest, so the file reads as one run.
static int open_metrics(Trainer *tr, Err *e) {
    char path[4200], *text = NULL;
    size_t len = 0;
    if (path_join(path, sizeof path, tr->o->out_dir, "metrics.jsonl", e)) return -1;
    Buf keep = {0};
    if (tr->step > 0 && file_exists(path)) {
        if (file_read_all(path, &text, &len, e)) return -1;
        for (char *line = text, *nl; line < text + len; line = nl + 1) {
            if (!(nl = memchr(line, '\n', text + len - line))) break;  // drop a torn last line
            cJSON *j = cJSON_ParseWithLength(line, nl - line);
            const cJSON *s = j ? cJSON_GetObjectItemCaseSensitive(j, "step") : NULL;
            if (cJSON_IsNumber(s) && s->valueint <= tr->step) {
                buf_append(&keep, line, nl - line + 1);
                const cJSON *l = cJSON_GetObjectItemCaseSensitive(j, "loss");
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "val_loss");
                if (cJSON_IsNumber(l))
                    hist_push(&tr->hist_step, &tr->hist_loss, &tr->n_hist, &tr->cap_hist,
                              s->valuedouble, l->valuedouble);
                if (cJSON_IsNumber(v))
                    hist_push(&tr->val_step, &tr->val_loss, &tr->n_val, &tr->cap_val,
                              s->valuedouble, v->valuedouble);
            }
            cJSON_Delete(j);
        }
        free(text);
    }
    int rc = file_write_atomic(path, keep.data ? keep.data : "", keep.len, e);
    buf_free(&keep);
    if (rc) return -1;
    if (!(tr->metrics = fopen(path, "a")))
        return ERR(e, ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    return 0;
}

static int save_checkpoint(Trainer *tr, const LoaderState *ls, Err *e) {
    CheckpointState cs = {.step = tr->step, .loader = *ls, .best_val = tr->best_val,
                          .seed = tr->o->seed, .batch = tr->o->batch,
                          .grad_accum = tr->o->grad_accum, .seq_len = tr->o->seq_len,
                          .pack = tr->o->pack, .shuffle = tr->o->shuffle,
                          .objective = tr->o->objective, .total = tr->total};
    char dir[4200];
    if (checkpoint_save(tr->o->out_dir, &tr->m, &tr->opt, &cs,
                        tr->tok_dir[0] ? tr->tok_dir : NULL, dir, sizeof dir, e))
        return -1;
    note(tr, "checkpoint: %s", dir);
    return 0;
}

// The final model (and best/) in the HF layout with the tokenizer and template beside it.
static int save_model(Trainer *tr, const char *dir, StDtype dtype, Err *e) {
    return model_save(&tr->m, dir, dtype, tr->tok_dir[0] ? tr->tok_dir : NULL, e);
}

static int run_validation(Trainer *tr, double elapsed, Err *e) {
    if (!tr->val_loader) return 0;
    double vl;
    if (validate(tr, &vl, e)) return -1;
    if (hist_push(&tr->val_step, &tr->val_loss, &tr->n_val, &tr->cap_val, tr->step, vl))
        return ERR(e, ERR_NOMEM, "out of memory");
    fprintf(tr->metrics, "{\"step\": %d, \"val_loss\": %.9g}\n", tr->step, vl);
    fflush(tr->metrics);
    if (tr->o->progress) {
        TrainProgress p = {.step = tr->step, .total = tr->total, .is_val = 1, .val_loss = vl,
                           .elapsed_s = elapsed};
        tr->o->progress(tr->o->ctx, &p);
    }
    if (isfinite(vl) && (!isfinite(tr->best_val) || vl < tr->best_val)) {
        tr->best_val = vl;
        char dir[4200];
        if (path_join(dir, sizeof dir, tr->o->out_dir, "best", e) ||
            save_model(tr, dir, tr->o->dtype, e))
            return -1;
        note(tr, "best validation loss %.4f at step %d: saved %s", vl, tr->step, dir);
    }
    return 0;
}

static void trainer_free(Trainer *tr) {
    loader_free(tr->loader);
    loader_free(tr->val_loader);
    dataset_free(&tr->ds);
    adamw_free(&tr->opt);
    model_free(&tr->m);
    free(tr->ids), free(tr->doc), free(tr->mask);
    free(tr->hist_step), free(tr->hist_loss), free(tr->val_step), free(tr->val_loss);
    if (tr->metrics) fclose(tr->metrics);
}

// For the resume tests: POSTTRAIN_TEST_KILL_AT_STEP=N kills the process (SIGKILL, as
// kill -9 would) right after step N; POSTTRAIN_TEST_SIGNAL_AT_STEP=N sends it SIGINT
// (the handler's checkpoint-and-stop path). Timing-free, so the tests are repeatable.
static void test_hook(int step) {
    const char *k = getenv("POSTTRAIN_TEST_KILL_AT_STEP");
    const char *s = getenv("POSTTRAIN_TEST_SIGNAL_AT_STEP");
    if (k && atoi(k) == step) raise(SIGKILL);
    if (s && atoi(s) == step) raise(SIGINT);
}

static int check_options(const TrainOptions *o, Err *e) {
    if (!o->model_dir && !o->resume) return ERR(e, ERR_ARG, "no model (--model)");
    if (!o->out_dir) return ERR(e, ERR_ARG, "no output directory (--out)");
    if (o->batch < 1 || o->grad_accum < 1 || o->seq_len < 2)
        return ERR(e, ERR_ARG, "batch size, grad accumulation >= 1 and seq len >= 2 needed");
    if (o->steps < 0 || (o->steps == 0 && !(o->epochs > 0)))
        return ERR(e, ERR_ARG, "--steps must be > 0, or --epochs > 0");
    if (!(o->sched.lr >= 0) || !(o->sched.min_lr >= 0) || o->sched.warmup < 0)
        return ERR(e, ERR_ARG, "lr, min lr and warmup must be >= 0");
    return 0;
}

int train_run(const TrainOptions *o, Err *e) {
    if (check_options(o, e)) return -1;
    Trainer tr = {.o = o, .best_val = NAN};
    int rc = -1;
    CheckpointState cs = {0};
    char resume_dir[4200] = "";
    if (o->resume && checkpoint_find(o->resume, resume_dir, sizeof resume_dir, e)) goto done;
    if (resume_dir[0] && checkpoint_load_state(resume_dir, &cs, e)) goto done;
    DatasetOptions dopt = {.data = o->data, .n_data = o->n_data, .val_data = o->val_data,
                           .n_val = o->n_val, .tokenizer = o->tokenizer,
                           .vocab_dir = o->vocab_dir, .model_dir = o->model_dir,
                           .template_name = o->template_name, .reader = o->reader,
                           .add_template_tokens = o->objective == OBJ_SFT || o->template_name,
                           .log = o->log, .ctx = o->ctx};
    if (file_mkdir_p(o->out_dir, e) || dataset_open(&tr.ds, &dopt, e) ||
        open_model(&tr, resume_dir[0] ? resume_dir : o->model_dir, e) || export_tokenizer(&tr, e))
        goto done;

    int B = o->batch, T = o->seq_len, A = o->grad_accum;
    LoaderConfig lc = {.B = B, .T = T, .pack = o->pack, .shuffle = o->shuffle, .seed = o->seed,
                       .pad_id = 0, .all_targets = o->objective == OBJ_PRETRAIN};
    if (loader_open(&tr.loader, tr.ds.train, &lc, e)) goto done;
    if (tr.ds.val && tokenset_count(tr.ds.val)) {
        LoaderConfig vc = lc;
        vc.shuffle = false;
        if (loader_open(&tr.val_loader, tr.ds.val, &vc, e)) goto done;
    }
    uint64_t rows = loader_rows_per_epoch(tr.loader);
    tr.total = o->steps > 0 ? o->steps
                            : (int)ceil(o->epochs * (double)rows / ((double)B * A));
    if (tr.total < 1) tr.total = 1;
    tr.sched = o->sched;
    tr.sched.total = tr.total;
    note(&tr, "%d steps of %d x %d rows of %d tokens (%llu rows per epoch, %s, %s)", tr.total,
         A, B, T, (unsigned long long)rows, o->pack ? "packed" : "one document per row",
         o->shuffle ? "shuffled" : "in order");

    size_t BT = (size_t)B * T;
    tr.ids = malloc((size_t)A * BT * sizeof *tr.ids);
    tr.doc = malloc((size_t)A * BT * sizeof *tr.doc);
    tr.mask = malloc((size_t)A * BT * sizeof *tr.mask);
    if (!tr.ids || !tr.doc || !tr.mask) {
        ERR(e, ERR_NOMEM, "out of memory for %d micro-batches", A);
        goto done;
    }
    AdamWConfig ac = o->adam;
    ac.lr = (float)o->sched.lr;
    if (adamw_init(&tr.opt, &tr.m, &ac, e)) goto done;
    if (resume_dir[0]) {
        if (checkpoint_check(&cs, o, tr.total, e) ||
            checkpoint_load_optimizer(resume_dir, &tr.opt, e) ||
            loader_restore(tr.loader, &cs.loader, e))
            goto done;
        tr.step = cs.step;
        tr.best_val = cs.best_val;
        note(&tr, "resumed from %s at step %d", resume_dir, tr.step);
    }
    if (open_metrics(&tr, e)) goto done;

    double t0 = now_s(), tokens_run = 0;
    int steps_run = 0;
    while (tr.step < tr.total) {
        if (o->stop && *o->stop) {
            LoaderState ls = loader_state(tr.loader);
            if (save_checkpoint(&tr, &ls, e) || write_plot(&tr, e)) goto done;
            rc = 1;
            goto done;
        }
        double loss, norm;
        long targets, tokens;
        double lr = schedule_lr(&tr.sched, tr.step);
        if (train_step(&tr, &loss, &norm, &targets, &tokens, e)) goto done;
        tr.step++, steps_run++;
        tokens_run += (double)tokens;
        double el = now_s() - t0, tps = tokens_run / el;
        fprintf(tr.metrics, "{\"step\": %d, \"loss\": %.17g, \"lr\": %.9g, \"grad_norm\": %.9g, "
                "\"targets\": %ld, \"tokens\": %ld, \"tokens_per_s\": %.1f, \"elapsed_s\": %.3f}\n",
                tr.step, loss, lr, norm, targets, tokens, tps, el);
        fflush(tr.metrics);
        if (hist_push(&tr.hist_step, &tr.hist_loss, &tr.n_hist, &tr.cap_hist, tr.step, loss)) {
            ERR(e, ERR_NOMEM, "out of memory");
            goto done;
        }
        if (o->progress) {
            TrainProgress p = {.step = tr.step, .total = tr.total, .loss = loss, .lr = lr,
                               .grad_norm = norm, .targets = targets, .tokens_per_s = tps,
                               .elapsed_s = el,
                               .eta_s = el / steps_run * (tr.total - tr.step)};
            o->progress(o->ctx, &p);
        }
        test_hook(tr.step);
        int last = tr.step == tr.total;
        if ((o->eval_every > 0 && tr.step % o->eval_every == 0) || last)
            if (run_validation(&tr, el, e)) goto done;
        if ((o->save_every > 0 && tr.step % o->save_every == 0) || last) {
            LoaderState ls = loader_state(tr.loader);
            if (save_checkpoint(&tr, &ls, e)) goto done;
        }
        if ((o->eval_every > 0 && tr.step % o->eval_every == 0) || last ||
            (o->save_every > 0 && tr.step % o->save_every == 0))
            if (write_plot(&tr, e)) goto done;
    }
    if (write_plot(&tr, e) || save_model(&tr, o->out_dir, o->dtype, e)) goto done;
    note(&tr, "model: %s (loss curve: %s/loss.svg, metrics: %s/metrics.jsonl)", o->out_dir,
         o->out_dir, o->out_dir);
    rc = 0;
done:
    trainer_free(&tr);
    return rc;
}
