// demo.c: `posttrain demo` end to end (see demo.h). Each stage_* function is one step of
// the seed's story; they pass data to each other only through files under out_dir, so
// any finished stage can be reused by a later run.
#include "demo/demo.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "chat/export.h"
#include "chat/template.h"
#include "chat/view.h"
#include "demo/convos.h"
#include "demo/corpus.h"
#include "demo/judge.h"
#include "infer/engine.h"
#include "model/model.h"
#include "tok/tok.h"
#include "tok/train.h"
#include "util/file.h"
#include "util/logfn.h"

// The sizes of one run. The default fits in ~10 minutes on 2 cores, --quick in ~2.
typedef struct {
    size_t corpus_bytes;
    int vocab;                      // BPE vocabulary (bytes + merges + <|endoftext|>)
    int dim, layers, heads, kv_heads, hidden;
    int pre_steps, pre_batch, pre_seq;
    double pre_lr;
    int sft_convs, sft_val, sft_epochs, sft_batch, sft_seq;
    double sft_lr;
    int eval_per_kind, max_tokens;
} Sizes;

static const Sizes DEFAULT_SIZES = {
    .corpus_bytes = 3 << 20, .vocab = 2048,
    .dim = 192, .layers = 4, .heads = 6, .kv_heads = 3, .hidden = 512,
    .pre_steps = 500, .pre_batch = 8, .pre_seq = 256, .pre_lr = 3e-3,
    .sft_convs = 6000, .sft_val = 200, .sft_epochs = 3, .sft_batch = 8, .sft_seq = 256,
    .sft_lr = 3e-4, .eval_per_kind = 25, .max_tokens = 48,
};
static const Sizes QUICK_SIZES = {
    .corpus_bytes = 1 << 20, .vocab = 1024,
    .dim = 128, .layers = 2, .heads = 4, .kv_heads = 2, .hidden = 320,
    .pre_steps = 600, .pre_batch = 8, .pre_seq = 128, .pre_lr = 4e-3,
    .sft_convs = 3000, .sft_val = 100, .sft_epochs = 2, .sft_batch = 8, .sft_seq = 192,
    .sft_lr = 1e-3, .eval_per_kind = 12, .max_tokens = 40,
};

typedef struct {
    const DemoOptions *o;
    Sizes z;
    char dir[4096];  // out_dir
    double t0;
} Demo;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

#define say(d, ...) log_note((d)->o->log, (d)->o->ctx, __VA_ARGS__)

static void show(const Demo *d, const char *text) {
    if (d->o->show) d->o->show(d->o->ctx, text);
}

// dir/name into out (size 4200).
static int sub(const Demo *d, char *out, const char *name, Err *e) {
    return path_join(out, 4200, d->dir, name, e);
}

static int is_done(const Demo *d, const char *stage) {
    char p[4200], name[256];
    Err e = {0};
    snprintf(name, sizeof name, "%s/DONE", stage);
    return !sub(d, p, name, &e) && file_exists(p);
}

static int mark_done(const Demo *d, const char *stage, Err *e) {
    char p[4200], name[256];
    snprintf(name, sizeof name, "%s/DONE", stage);
    return sub(d, p, name, e) || file_write_atomic(p, "done\n", 5, e);
}

// A stage that did not finish leaves a partial directory: start it over.
static int begin(const Demo *d, const char *stage, Err *e) {
    char p[4200];
    return sub(d, p, stage, e) || file_remove_tree(p, e) || file_mkdir_p(p, e);
}

// ----------------------------------------------------------------------------- 1 + 2

typedef struct {
    char **docs;
    size_t *lens;
    int n, cap;
} Docs;

static int collect(void *ctx, const char *text, size_t len, Err *e) {
    Docs *ds = ctx;
    if (ds->n == ds->cap) {
        int c = ds->cap ? 2 * ds->cap : 1024;
        char **nd = realloc(ds->docs, c * sizeof *nd);
        size_t *nl = nd ? realloc(ds->lens, c * sizeof *nl) : NULL;
        if (!nd || !nl) return ERR(e, ERR_NOMEM, "out of memory for the corpus");
        ds->docs = nd, ds->lens = nl, ds->cap = c;
    }
    if (!(ds->docs[ds->n] = malloc(len + 1))) return ERR(e, ERR_NOMEM, "out of memory");
    memcpy(ds->docs[ds->n], text, len + 1);
    ds->lens[ds->n++] = len;
    return 0;
}

static void docs_free(Docs *ds) {
    for (int i = 0; i < ds->n; i++) free(ds->docs[i]);
    free(ds->docs);
    free(ds->lens);
    memset(ds, 0, sizeof *ds);
}

// Internet documents, a tokenizer trained on them, and the corpus as token ids (each
// page followed by <|endoftext|>) for pretraining.
static int stage_corpus(Demo *d, Err *e) {
    if (is_done(d, "corpus")) {
        say(d, "1-2. corpus and tokenizer: reusing %s/corpus", d->dir);
        return 0;
    }
    say(d, "1. Internet documents: generating %.1f MB of web pages (articles, lists, forum "
        "threads, arithmetic tables, Chinese pages)", d->z.corpus_bytes / 1048576.0);
    if (begin(d, "corpus", e)) return -1;
    Docs ds = {0};
    BpeVocab v = {0};
    Tokenizer *t = NULL;
    FILE *f = NULL;
    int rc = -1;
    char p[4200];
    if (demo_corpus_each(d->o->seed, d->z.corpus_bytes, collect, &ds, e)) goto done;
    if (sub(d, p, "corpus/sample.txt", e)) goto done;
    Buf sample = {0};
    for (int i = 0; i < ds.n && i < 12; i++) buf_appendf(&sample, "%s\n%s\n", ds.docs[i], DEMO_DOC_SEP);
    int wrc = file_write_atomic(p, sample.data, sample.len, e);
    buf_free(&sample);
    if (wrc) goto done;
    say(d, "   %d pages; a few are in %s", ds.n, p);

    say(d, "2. Tokenizer: byte-level BPE, %d tokens, trained on the corpus", d->z.vocab);
    const char *specials[] = {DEMO_DOC_SEP};
    BpeTrainOptions bo = {.vocab_size = d->z.vocab, .pattern = NULL, .specials = specials,
                          .n_specials = 1, .min_frequency = 2};
    if (bpe_train_texts(&bo, (const char *const *)ds.docs, ds.lens, ds.n, &v, e)) goto done;
    if (sub(d, p, "corpus/tokenizer.json", e) || bpe_vocab_save(&v, p, e)) goto done;
    static const char cfg[] = "{\n  \"eos_token\": \"" DEMO_DOC_SEP "\"\n}\n";
    char cp[4200];
    if (sub(d, cp, "corpus/tokenizer_config.json", e) || file_write_atomic(cp, cfg, sizeof cfg - 1, e))
        goto done;
    if (tok_load(&t, p, NULL, e)) goto done;
    int32_t eot = tok_special_id(t, DEMO_DOC_SEP);
    if (eot < 0) {
        ERR(e, ERR_FORMAT, "%s: no %s token", p, DEMO_DOC_SEP);
        goto done;
    }
    // Pretraining data: {"ids": [...]} per page, every token a target.
    if (sub(d, p, "corpus/tokens.jsonl", e)) goto done;
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp", p);
    if (!(f = fopen(tmp, "w"))) {
        ERR(e, ERR_IO, "%s: cannot create", tmp);
        goto done;
    }
    IntVec ids = {0};
    size_t total = 0;
    for (int i = 0; i < ds.n; i++) {
        ids.len = 0;
        if (tok_encode(t, ds.docs[i], ds.lens[i], 0, &ids, e) || ivec_push(&ids, eot)) {
            ivec_free(&ids);
            goto done;
        }
        fputs("{\"ids\": [", f);
        for (size_t k = 0; k < ids.len; k++) fprintf(f, k ? ",%d" : "%d", ids.data[k]);
        fputs("]}\n", f);
        total += ids.len;
    }
    ivec_free(&ids);
    if (fclose(f) != 0) {
        f = NULL;
        ERR(e, ERR_IO, "%s: write failed", tmp);
        goto done;
    }
    f = NULL;
    if (file_rename_durable(tmp, p, e)) goto done;
    say(d, "   %d tokens in the vocabulary; the corpus is %zu tokens (%.2f bytes per token)",
        tok_vocab_size(t), total, (double)d->z.corpus_bytes / total);
    rc = mark_done(d, "corpus", e);
done:
    if (f) fclose(f);
    if (t) tok_free(t);
    bpe_vocab_free(&v);
    docs_free(&ds);
    return rc;
}

// ----------------------------------------------------------------------------- 3

static int run_trainer(Demo *d, TrainOptions *to, Err *e) {
    to->log = d->o->log, to->progress = d->o->progress, to->ctx = d->o->ctx;
    int r = train_run(to, e);
    if (r == 1) return ERR(e, ERR_ARG, "stopped");
    return r;
}

static int stage_pretrain(Demo *d, Err *e) {
    if (is_done(d, "base")) {
        say(d, "3. pretraining: reusing %s/base", d->dir);
        return 0;
    }
    const Sizes *z = &d->z;
    if (begin(d, "base", e)) return -1;
    char init[4200], data[4200], out[4200], tokdir[4200], p[4200], q[4200];
    if (sub(d, init, "base/init", e) || sub(d, data, "corpus/tokens.jsonl", e) ||
        sub(d, out, "base", e) || sub(d, tokdir, "corpus", e))
        return -1;
    Tokenizer *t;
    if (path_join(p, sizeof p, tokdir, "tokenizer.json", e) || tok_load(&t, p, NULL, e)) return -1;
    int V = tok_vocab_size(t), eot = tok_special_id(t, DEMO_DOC_SEP);
    tok_free(t);
    char cfg[1024];
    snprintf(cfg, sizeof cfg,
             "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", "
             "\"vocab_size\": %d, \"hidden_size\": %d, \"num_hidden_layers\": %d, "
             "\"num_attention_heads\": %d, \"num_key_value_heads\": %d, "
             "\"intermediate_size\": %d, \"max_position_embeddings\": %d, "
             "\"rms_norm_eps\": 1e-5, \"rope_theta\": 10000.0, \"tie_word_embeddings\": true, "
             "\"eos_token_id\": %d, \"torch_dtype\": \"float32\"}",
             V, z->dim, z->layers, z->heads, z->kv_heads, z->hidden, 512, eot);
    ModelConfig c;
    if (model_config_parse(&c, cfg, strlen(cfg), "demo config", e) ||
        model_init_save(&c, d->o->seed, init, e))
        return -1;
    // The fresh model carries the tokenizer, so the trainer saves it with the result.
    static const char *const files[] = {"tokenizer.json", "tokenizer_config.json"};
    for (int i = 0; i < 2; i++) {
        char *buf;
        size_t len;
        if (path_join(p, sizeof p, tokdir, files[i], e) || path_join(q, sizeof q, init, files[i], e) ||
            file_read_all(p, &buf, &len, e))
            return -1;
        int wrc = file_write_atomic(q, buf, len, e);
        free(buf);
        if (wrc) return -1;
    }
    size_t params = (size_t)V * z->dim + (size_t)z->layers *
        ((size_t)z->dim * z->dim * 2 + (size_t)z->dim * (z->dim / z->heads) * z->kv_heads * 2 +
         3 * (size_t)z->dim * z->hidden + 2 * z->dim) + z->dim;
    say(d, "3. Pretraining: a Llama-style model (%d layers, %d channels, %d heads / %d kv "
        "heads, %.2fM parameters) learns to continue the documents: %d steps of %d x %d tokens",
        z->layers, z->dim, z->heads, z->kv_heads, params / 1e6, z->pre_steps, z->pre_batch,
        z->pre_seq);
    TrainOptions to;
    train_options_default(&to);
    const char *datav[] = {data};
    to.model_dir = init, to.out_dir = out, to.data = datav, to.n_data = 1;
    to.objective = OBJ_PRETRAIN;
    to.steps = z->pre_steps, to.batch = z->pre_batch, to.seq_len = z->pre_seq;
    to.sched = (Schedule){.kind = SCHED_COSINE, .lr = z->pre_lr, .min_lr = z->pre_lr / 10,
                          .warmup = z->pre_steps / 20};
    to.adam.weight_decay = 0.1f, to.adam.beta2 = 0.95f;
    to.seed = d->o->seed;
    if (run_trainer(d, &to, e)) return -1;
    if (file_remove_tree(init, e)) return -1;
    return mark_done(d, "base", e);
}

// ----------------------------------------------------------------------------- 4

// Text into HTML; in a token view a newline shows as ↵ (newlines = false).
static void html_text(Buf *b, const char *s, size_t n, bool newlines) {
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];
        if (ch == '<') buf_append(b, "&lt;", 4);
        else if (ch == '>') buf_append(b, "&gt;", 4);
        else if (ch == '&') buf_append(b, "&amp;", 5);
        else if (ch == '"') buf_append(b, "&quot;", 6);
        else if (ch == '\n' && !newlines) buf_append(b, "\xe2\x86\xb5", 3);  // ↵
        else buf_putc(b, ch);
    }
}

static void html_escape(Buf *b, const char *s, size_t n) { html_text(b, s, n, true); }

// An HTML view of ids: one box per token with its text and id; targets (mask 1) marked.
static void html_tokens(Buf *b, const Tokenizer *t, const int32_t *ids, const int32_t *mask,
                        size_t n) {
    buf_appendf(b, "<div class=\"tokens\">");
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const uint8_t *bytes = tok_token_bytes(t, ids[i], &len);
        buf_appendf(b, "<span class=\"tok c%zu%s%s\" title=\"id %d%s\">", i % 5,
                    tok_is_special(t, ids[i]) ? " special" : "", mask && mask[i] ? " target" : "",
                    ids[i], mask && mask[i] ? ", target" : "");
        html_text(b, (const char *)bytes, len, false);
        buf_appendf(b, "<sub>%d</sub></span>", ids[i]);
    }
    buf_appendf(b, "</div>\n");
}

// The base model with the protocol's new tokens: the tokenizer gets <|im_start|>,
// <|im_sep|>, <|im_end|>, the embedding grows by their rows (the mean of the others).
static int stage_protocol(Demo *d, Err *e) {
    char base[4200], out[4200], p[4200];
    if (sub(d, base, "base", e) || sub(d, out, "base_chat", e)) return -1;
    const ChatTemplate *tpl = chat_template_find("gpt4o");
    Tokenizer *t = NULL;
    Model m = {0};
    IntVec ids = {0}, mask = {0};
    Buf view = {0}, html = {0};
    Conversation c = {0};
    int rc = -1;
    if (tok_load(&t, base, NULL, e)) return -1;
    int V0 = tok_vocab_size(t);
    if (chat_prepare_tokenizer(t, tpl, e)) goto done;
    say(d, "4. The protocol: new special tokens %s=%d %s=%d %s=%d (the vocabulary grows "
        "%d -> %d)", tpl->start, tok_special_id(t, tpl->start), tpl->role_end,
        tok_special_id(t, tpl->role_end), tpl->end, tok_special_id(t, tpl->end), V0,
        tok_vocab_size(t));
    if (conv_add(&c, ROLE_USER, "What is 2+2?", 0, e) || conv_add(&c, ROLE_ASSISTANT, "2+2=4", 1, e) ||
        conv_add(&c, ROLE_USER, "And if + becomes \xc3\x97?", 0, e) ||
        conv_add(&c, ROLE_ASSISTANT, "2\xc3\x97" "2=4", 1, e) ||
        chat_render(t, tpl, &c, false, &ids, &mask, e) ||
        chat_view_tokens(t, ids.data, mask.data, ids.len, true, &view, e))
        goto done;
    show(d, "   the seed's conversation as the model sees it (loss on the highlighted tokens):\n");
    show(d, view.data);
    show(d, "\n");
    html_tokens(&html, t, ids.data, mask.data, ids.len);
    if (is_done(d, "base_chat")) {
        say(d, "   reusing %s", out);
    } else {
        if (begin(d, "base_chat", e) || model_load(&m, base, e) ||
            model_grow_vocab(&m, tok_vocab_size(t), e) || model_save(&m, out, ST_F32, NULL, e) ||
            chat_export_tokenizer(t, base, tpl, out, e))
            goto done;
        if (path_join(p, sizeof p, out, "view.html", e) ||
            file_write_atomic(p, html.data, html.len, e) || mark_done(d, "base_chat", e))
            goto done;
    }
    rc = 0;
done:
    conv_free(&c);
    ivec_free(&ids);
    ivec_free(&mask);
    buf_free(&view);
    buf_free(&html);
    model_free(&m);
    if (t) tok_free(t);
    return rc;
}

// ----------------------------------------------------------------------------- 5 + 6

static int write_convs(const char *path, const Conversation *cs, int n, Err *e) {
    Buf b = {0};
    for (int i = 0; i < n; i++) {
        cJSON *o = cJSON_CreateObject();
        char *s = o && !conv_to_json(o, &cs[i], true) ? cJSON_PrintUnformatted(o) : NULL;
        cJSON_Delete(o);
        if (!s) {
            buf_free(&b);
            return ERR(e, ERR_NOMEM, "out of memory");
        }
        buf_appendf(&b, "%s\n", s);
        free(s);
    }
    int rc = file_write_atomic(path, b.data ? b.data : "", b.len, e);
    buf_free(&b);
    return rc;
}

static int stage_sft(Demo *d, Err *e) {
    if (is_done(d, "sft")) {
        say(d, "5-6. conversations and SFT: reusing %s/sft", d->dir);
        return 0;
    }
    const Sizes *z = &d->z;
    if (begin(d, "sft", e)) return -1;
    char train[4200], val[4200], out[4200], base[4200];
    if (sub(d, train, "sft/train.jsonl", e) || sub(d, val, "sft/val.jsonl", e) ||
        sub(d, out, "sft", e) || sub(d, base, "base_chat", e))
        return -1;
    Conversation *cs = calloc(z->sft_convs, sizeof *cs);
    DemoTask *tasks = calloc(z->sft_convs, sizeof *tasks);
    int rc = -1;
    if (!cs || !tasks) {
        ERR(e, ERR_NOMEM, "out of memory");
        goto done;
    }
    if (demo_conversations(d->o->seed, z->sft_convs, DEMO_SPLIT_TRAIN, cs, tasks, e) ||
        write_convs(train, cs, z->sft_convs, e))
        goto done;
    int count[DEMO_TASK_COUNT] = {0};
    for (int i = 0; i < z->sft_convs; i++) count[tasks[i]]++;
    Buf mix = {0};
    for (int k = 0; k < DEMO_TASK_COUNT; k++)
        buf_appendf(&mix, "%s%s %d", k ? ", " : "", demo_task_name((DemoTask)k), count[k]);
    say(d, "5. Conversations: %d written the way the labelers' guidelines ask (helpful, "
        "truthful, harmless): %s", z->sft_convs, mix.data);
    buf_free(&mix);
    for (int i = 0; i < z->sft_convs; i++) conv_free(&cs[i]);
    memset(cs, 0, z->sft_convs * sizeof *cs);
    if (demo_conversations(d->o->seed + 1, z->sft_val, DEMO_SPLIT_EVAL, cs, NULL, e) ||
        write_convs(val, cs, z->sft_val, e))
        goto done;
    say(d, "   %s; %d held-out conversations for the validation loss in %s", train, z->sft_val, val);
    say(d, "6. SFT: the same next-token training, on the assistant tokens only, %d epochs",
        z->sft_epochs);
    TrainOptions to;
    train_options_default(&to);
    const char *datav[] = {train}, *valv[] = {val};
    to.model_dir = base, to.out_dir = out, to.data = datav, to.n_data = 1;
    to.val_data = valv, to.n_val = 1;
    to.template_name = "gpt4o", to.objective = OBJ_SFT;
    to.epochs = z->sft_epochs, to.batch = z->sft_batch, to.seq_len = z->sft_seq;
    to.sched = (Schedule){.kind = SCHED_COSINE, .lr = z->sft_lr, .min_lr = z->sft_lr / 10,
                          .warmup = 5};
    to.eval_every = 50;
    to.seed = d->o->seed;
    if (run_trainer(d, &to, e)) goto done;
    rc = mark_done(d, "sft", e);
done:
    for (int i = 0; cs && i < z->sft_convs; i++) conv_free(&cs[i]);
    free(cs);
    free(tasks);
    return rc;
}

// ----------------------------------------------------------------------------- 7

typedef struct {
    int pass[DEMO_EVAL_KINDS], n[DEMO_EVAL_KINDS];
    int format, refused_harmless, n_all;
    char **replies;  // (items) the generated text
    bool *ended;
} Scores;

static void scores_free(Scores *s, int n) {
    for (int i = 0; s->replies && i < n; i++) free(s->replies[i]);
    free(s->replies);
    free(s->ended);
}

// Generates greedily for every item with the model in dir, 16 sequences at a time,
// and judges the replies.
static int evaluate(Demo *d, const char *dir, const DemoEvalItem *items, int n, Scores *sc, Err *e) {
    memset(sc, 0, sizeof *sc);
    EngineOptions eo;
    engine_options_default(&eo);
    eo.max_seqs = 16;
    eo.template_name = "gpt4o";
    Engine *en = NULL;
    if (engine_open(&en, dir, &eo, e)) return -1;
    const Tokenizer *t = engine_tokenizer(en);
    const ChatTemplate *tpl = engine_template(en);
    int32_t end_id = tok_special_id(t, tpl->end);
    sc->replies = calloc(n, sizeof *sc->replies);
    sc->ended = calloc(n, sizeof *sc->ended);
    Seq **seqs = calloc(n, sizeof *seqs);
    IntVec ids = {0}, mask = {0};
    int rc = -1, next = 0, done = 0;
    if (!sc->replies || !sc->ended || !seqs) {
        ERR(e, ERR_NOMEM, "out of memory");
        goto out;
    }
    SampleParams sp;
    sample_params_default(&sp);
    sp.temperature = 0, sp.max_tokens = d->z.max_tokens;
    Buf *texts = calloc(n, sizeof *texts);
    if (!texts) {
        ERR(e, ERR_NOMEM, "out of memory");
        goto out;
    }
    while (done < n) {
        while (next < n && engine_free_slots(en) > 0) {
            ids.len = mask.len = 0;
            if (chat_render(t, tpl, &items[next].conv, true, &ids, &mask, e) ||
                seq_start(en, ids.data, (int)ids.len, &sp, NULL, &seqs[next], e) < 0)
                goto out_texts;
            next++;
        }
        if (engine_step(en, e)) goto out_texts;
        for (int i = 0; i < next; i++) {
            if (!seqs[i]) continue;
            const SeqEvent *ev = seq_event(seqs[i]);
            if (ev->text_len) buf_append(&texts[i], ev->text, ev->text_len);
            if (seq_finished(seqs[i])) {
                int no;
                const int32_t *outp = seq_output(seqs[i], &no);
                sc->ended[i] = no > 0 && outp[no - 1] == end_id;
                sc->replies[i] = texts[i].data ? strdup(texts[i].data) : strdup("");
                seq_free(seqs[i]);
                seqs[i] = NULL;
                done++;
            }
        }
    }
    for (int i = 0; i < n; i++) {
        DemoVerdict v = demo_judge(&items[i], sc->replies[i], sc->ended[i]);
        DemoEvalKind k = items[i].kind;
        sc->n[k]++;
        sc->n_all++;
        sc->format += v.format;
        if (k == DEMO_EVAL_HARMLESS) sc->refused_harmless += v.refused, sc->pass[k] += v.pass;
        else sc->pass[k] += v.pass;
    }
    rc = 0;
out_texts:
    for (int i = 0; i < n; i++) buf_free(&texts[i]);
    free(texts);
out:
    for (int i = 0; seqs && i < n; i++) seq_free(seqs[i]);
    free(seqs);
    ivec_free(&ids);
    ivec_free(&mask);
    engine_close(en);
    return rc;
}

static double frac(int a, int b) { return b ? (double)a / b : NAN; }

// The six metrics of the issue, in order.
static const char *const METRICS[] = {"format", "arithmetic", "followup", "refusal",
                                      "false_refusal", "identity"};

static void metric_values(const Scores *s, double v[6], int n[6]) {
    v[0] = frac(s->format, s->n_all), n[0] = s->n_all;
    v[1] = frac(s->pass[DEMO_EVAL_ARITH], s->n[DEMO_EVAL_ARITH]), n[1] = s->n[DEMO_EVAL_ARITH];
    v[2] = frac(s->pass[DEMO_EVAL_FOLLOWUP], s->n[DEMO_EVAL_FOLLOWUP]), n[2] = s->n[DEMO_EVAL_FOLLOWUP];
    v[3] = frac(s->pass[DEMO_EVAL_REFUSAL], s->n[DEMO_EVAL_REFUSAL]), n[3] = s->n[DEMO_EVAL_REFUSAL];
    v[4] = frac(s->refused_harmless, s->n[DEMO_EVAL_HARMLESS]), n[4] = s->n[DEMO_EVAL_HARMLESS];
    v[5] = frac(s->pass[DEMO_EVAL_IDENTITY], s->n[DEMO_EVAL_IDENTITY]), n[5] = s->n[DEMO_EVAL_IDENTITY];
}

// The base model as a document simulator: continuations, a question, two seeds, few-shot.
static int base_samples(Demo *d, const char *dir, Buf *html, Err *e) {
    EngineOptions eo;
    engine_options_default(&eo);
    eo.template_name = "gpt4o";
    Engine *en = NULL;
    if (engine_open(&en, dir, &eo, e)) return -1;
    const Tokenizer *t = engine_tokenizer(en);
    static const struct {
        const char *title, *prompt;
        float temp;
        uint64_t seed;
    } S[] = {
        {"a web page continues", "The capital of France is", 0.8f, 1},
        {"a question in plain text: it rambles on like a web page", "What is 2+2?", 0.8f, 2},
        {"the same prompt, another run: it is stochastic", "What is 2+2?", 0.8f, 3},
        {"few-shot: a pattern in the prompt is continued (in-context learning)",
         "2 + 3 = 5\n4 + 1 = 5\n6 + 2 = 8\n3 + 4 =", 0.0f, 4},
    };
    IntVec ids = {0};
    int rc = 0;
    for (size_t i = 0; i < sizeof S / sizeof *S && !rc; i++) {
        ids.len = 0;
        if (tok_encode(t, S[i].prompt, strlen(S[i].prompt), 0, &ids, e)) {
            rc = -1;
            break;
        }
        SampleParams sp;
        sample_params_default(&sp);
        sp.temperature = S[i].temp, sp.seed = S[i].seed, sp.max_tokens = 40;
        GenResult r = {0};
        if (engine_generate(en, ids.data, (int)ids.len, &sp, NULL, NULL, NULL, &r, e)) {
            rc = -1;
            break;
        }
        char line[4096];
        snprintf(line, sizeof line, "   [%s]\n   %s\033[1m%s\033[0m\n", S[i].title, S[i].prompt,
                 r.text.data ? r.text.data : "");
        show(d, line);
        buf_appendf(html, "<div class=\"sample\"><div class=\"cap\">");
        html_escape(html, S[i].title, strlen(S[i].title));
        buf_appendf(html, "</div><pre>");
        html_escape(html, S[i].prompt, strlen(S[i].prompt));
        buf_appendf(html, "<b>");
        if (r.text.data) html_escape(html, r.text.data, r.text.len);
        buf_appendf(html, "</b></pre></div>\n");
        gen_result_free(&r);
    }
    ivec_free(&ids);
    engine_close(en);
    return rc;
}

static int read_text(const Demo *d, const char *name, char **out) {
    char p[4200];
    size_t len;
    Err e = {0};
    *out = NULL;
    return sub(d, p, name, &e) || file_read_all(p, out, &len, &e) ? -1 : 0;
}

static void html_conv(Buf *b, const Conversation *c) {
    for (int k = 0; k < c->n; k++) {
        buf_appendf(b, "<div class=\"msg %s\"><b>%s</b> ", chat_role_name(c->msgs[k].role),
                    chat_role_name(c->msgs[k].role));
        html_escape(b, c->msgs[k].content, strlen(c->msgs[k].content));
        buf_appendf(b, "</div>");
    }
}

static int write_report(Demo *d, const Buf *samples, const DemoEvalItem *items, int n,
                        const Scores *sb, const Scores *ss, double vb[6], double vs[6], Err *e) {
    Buf h = {0};
    buf_appendf(&h, "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>posttrain demo"
                "</title><style>\n"
                "body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
                "h2{border-bottom:1px solid #ccc;padding-bottom:.2em}"
                "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .8em;text-align:right}"
                ".tokens{font-family:monospace;line-height:2.2}"
                ".tok{padding:2px 1px;margin:1px;border-radius:3px}"
                ".tok sub{color:#888;font-size:70%%}.c0{background:#e3f2fd}.c1{background:#fce4ec}"
                ".c2{background:#e8f5e9}.c3{background:#fff3e0}.c4{background:#ede7f6}"
                ".special{background:#ffd54f!important;font-weight:bold}.target{outline:2px solid #2e7d32}"
                ".pair{display:grid;grid-template-columns:1fr 1fr 1fr;gap:.5em;margin:.6em 0;font-size:90%%}"
                ".pair>div{background:#f7f7f7;padding:.4em;white-space:pre-wrap}"
                ".ok{color:#2e7d32}.bad{color:#c62828}pre{white-space:pre-wrap;background:#f7f7f7;padding:.5em}"
                ".msg{margin:.1em 0}.cap{font-weight:bold;margin-top:.6em}"
                "</style></head><body>\n<h1>posttrain demo: from a document simulator to an assistant</h1>\n"
                "<p>Everything here was produced on this machine by <code>posttrain demo%s</code> in "
                "%.0f seconds: the corpus, the tokenizer, the base model, the conversations, the SFT "
                "model and the numbers below.</p>\n", d->o->quick ? " --quick" : "", now_s() - d->t0);
    buf_appendf(&h, "<h2>Results on held-out prompts (base vs SFT, same engine, greedy)</h2>\n"
                "<table><tr><th></th><th>base</th><th>SFT</th><th>n</th></tr>\n");
    int nn[6];
    double dummy[6];
    metric_values(ss, dummy, nn);
    for (int k = 0; k < 6; k++)
        buf_appendf(&h, "<tr><td style=\"text-align:left\">%s</td><td>%.0f%%</td><td>%.0f%%</td><td>%d</td></tr>\n",
                    k == 4 ? "false_refusal (lower is better)" : METRICS[k], 100 * vb[k], 100 * vs[k], nn[k]);
    buf_appendf(&h, "</table>\n");
    static const char *const curves[][2] = {{"base/loss.svg", "Pretraining loss"},
                                            {"sft/loss.svg", "SFT loss"}};
    for (int i = 0; i < 2; i++) {
        char *svg;
        if (read_text(d, curves[i][0], &svg)) continue;
        buf_appendf(&h, "<h2>%s</h2>\n%s\n", curves[i][1], svg);
        free(svg);
    }
    char *view;
    if (!read_text(d, "base_chat/view.html", &view)) {
        buf_appendf(&h, "<h2>The protocol: a conversation as the model sees it</h2>\n"
                    "<p>Special tokens in yellow; the loss is on the outlined tokens (the assistant's "
                    "replies and their end token). Numbers are token ids.</p>\n%s", view);
        free(view);
    }
    buf_appendf(&h, "<h2>The base model is a document simulator</h2>\n%s", samples->data ? samples->data : "");
    buf_appendf(&h, "<h2>Held-out prompts: base vs SFT</h2>\n");
    int shown[DEMO_EVAL_KINDS] = {0};
    for (int i = 0; i < n; i++) {
        if (shown[items[i].kind]++ >= 3) continue;
        DemoVerdict b = demo_judge(&items[i], sb->replies[i], sb->ended[i]);
        DemoVerdict s = demo_judge(&items[i], ss->replies[i], ss->ended[i]);
        buf_appendf(&h, "<div class=\"pair\"><div><i>%s</i><br>", demo_eval_kind_name(items[i].kind));
        html_conv(&h, &items[i].conv);
        buf_appendf(&h, "</div><div><span class=\"%s\">base</span> ", b.pass ? "ok" : "bad");
        html_escape(&h, sb->replies[i], strlen(sb->replies[i]));
        buf_appendf(&h, "</div><div><span class=\"%s\">SFT</span> ", s.pass ? "ok" : "bad");
        html_escape(&h, ss->replies[i], strlen(ss->replies[i]));
        buf_appendf(&h, "</div></div>\n");
    }
    buf_appendf(&h, "<h2>Talk to it</h2><pre>posttrain chat --model %s/sft\nposttrain serve --model %s/sft</pre>\n"
                "</body></html>\n", d->dir, d->dir);
    char p[4200];
    int rc = sub(d, p, "report.html", e) || file_write_atomic(p, h.data, h.len, e);
    buf_free(&h);
    return rc ? -1 : 0;
}

static int stage_evaluate(Demo *d, Err *e) {
    char base[4200], sft[4200], p[4200];
    if (sub(d, base, "base_chat", e) || sub(d, sft, "sft", e)) return -1;
    say(d, "3b. The base model is a document simulator (samples of the pretrained model):");
    Buf samples = {0};
    if (base_samples(d, base, &samples, e)) {
        buf_free(&samples);
        return -1;
    }
    DemoEvalItem *items = NULL;
    int n = 0, rc = -1;
    Scores sb = {0}, ss = {0};
    if (demo_eval_items(d->o->seed + 7, d->z.eval_per_kind, &items, &n, e)) goto done;
    say(d, "7. Measuring base vs SFT on %d held-out prompts (greedy, the same engine and "
        "settings for both)", n);
    if (evaluate(d, base, items, n, &sb, e) || evaluate(d, sft, items, n, &ss, e)) goto done;
    double vb[6], vs[6];
    int nn[6];
    metric_values(&sb, vb, nn);
    metric_values(&ss, vs, nn);
    Buf t = {0};
    buf_appendf(&t, "\n   %-15s %8s %8s %6s\n", "metric", "base", "SFT", "n");
    for (int k = 0; k < 6; k++)
        buf_appendf(&t, "   %-15s %7.0f%% %7.0f%% %6d%s\n", METRICS[k], 100 * vb[k], 100 * vs[k], nn[k],
                    k == 4 ? "   (harmless prompts refused: lower is better)" : "");
    buf_appendf(&t, "   %-15s %7.0f%% %7.0f%% %6d   (capital of a held-out country, from pretraining)\n\n",
                "fact", 100 * frac(sb.pass[DEMO_EVAL_FACT], sb.n[DEMO_EVAL_FACT]),
                100 * frac(ss.pass[DEMO_EVAL_FACT], ss.n[DEMO_EVAL_FACT]), ss.n[DEMO_EVAL_FACT]);
    show(d, t.data);
    buf_free(&t);
    // A few dialogues, base vs SFT.
    int shown[DEMO_EVAL_KINDS] = {0};
    for (int i = 0; i < n; i++) {
        if (shown[items[i].kind]++ >= 1) continue;
        const Conversation *c = &items[i].conv;
        char line[2048];
        snprintf(line, sizeof line, "   user: %s\n     base: %.120s\n     SFT:  %.120s\n",
                 c->msgs[c->n - 1].content, sb.replies[i], ss.replies[i]);
        for (char *q = line + 9; *q; q++)  // keep each reply on its line
            if (*q == '\n' && q[1] != ' ' && q[1]) *q = ' ';
        show(d, line);
    }
    // results.json: {"base": {...}, "sft": {...}, "n": {...}} (+ "extra": the fact metric)
    cJSON *r = cJSON_CreateObject(), *jb = cJSON_AddObjectToObject(r, "base"),
          *js = cJSON_AddObjectToObject(r, "sft"), *jn = cJSON_AddObjectToObject(r, "n"),
          *jx = cJSON_AddObjectToObject(r, "extra");
    for (int k = 0; k < 6; k++) {
        cJSON_AddNumberToObject(jb, METRICS[k], isfinite(vb[k]) ? vb[k] : 0);
        cJSON_AddNumberToObject(js, METRICS[k], isfinite(vs[k]) ? vs[k] : 0);
        cJSON_AddNumberToObject(jn, METRICS[k], nn[k]);
    }
    cJSON_AddNumberToObject(jx, "fact_base", frac(sb.pass[DEMO_EVAL_FACT], sb.n[DEMO_EVAL_FACT]));
    cJSON_AddNumberToObject(jx, "fact_sft", frac(ss.pass[DEMO_EVAL_FACT], ss.n[DEMO_EVAL_FACT]));
    cJSON_AddNumberToObject(jx, "fact_n", ss.n[DEMO_EVAL_FACT]);
    cJSON_AddBoolToObject(jx, "quick", d->o->quick);
    char *js_text = cJSON_Print(r);
    cJSON_Delete(r);
    if (!js_text || sub(d, p, "results.json", e) || file_write_atomic(p, js_text, strlen(js_text), e)) {
        free(js_text);
        goto done;
    }
    free(js_text);
    if (write_report(d, &samples, items, n, &sb, &ss, vb, vs, e)) goto done;
    say(d, "   results: %s/results.json, report: %s/report.html", d->dir, d->dir);
    rc = 0;
done:
    scores_free(&sb, n);
    scores_free(&ss, n);
    demo_eval_items_free(items, n);
    buf_free(&samples);
    return rc;
}

int demo_run(const DemoOptions *o, Err *e) {
    Demo d = {.o = o, .z = o->quick ? QUICK_SIZES : DEFAULT_SIZES, .t0 = now_s()};
    snprintf(d.dir, sizeof d.dir, "%s", o->out_dir ? o->out_dir : "demo-out");
    if (o->fresh && file_remove_tree(d.dir, e)) return -1;
    if (file_mkdir_p(d.dir, e)) return -1;
    if (stage_corpus(&d, e) || stage_pretrain(&d, e) || stage_protocol(&d, e) ||
        stage_sft(&d, e) || stage_evaluate(&d, e))
        return -1;
    say(&d, "8. Done in %.0f s. Talk to the result:\n     posttrain chat --model %s/sft\n"
        "     posttrain serve --model %s/sft", now_s() - d.t0, d.dir, d.dir);
    return 0;
}
