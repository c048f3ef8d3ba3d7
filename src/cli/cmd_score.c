// cmd_score.c: `posttrain score` — the masked next-token loss of one sequence under a model.
//
//   posttrain score --model DIR (--ids 1,2,3,… | --text TEXT) [--mask 0,1,1,…] [--doc 0,0,1,…]
//                   [--json] [--logits] [--grads OUT.safetensors [--steps K]]
// A perplexity tool (like llama.cpp's) and the form the PyTorch parity tests call. Mask
// convention (everywhere in the project): mask[t] = 1 means token t is a target predicted
// from position t-1, so mask[0] never counts; without --mask every token after the first is.
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "model/model.h"
#include "train/adamw.h"
#include "util/buf.h"

static const char *help =
    "usage: posttrain score --model DIR (--ids 1,2,3,... | --text TEXT) [options]\n"
    "  prints the mean next-token negative log-likelihood over the target tokens, their count\n"
    "  and each target's log-probability\n"
    "  --model DIR       config.json + model.safetensors (or shards) in the Hugging Face layout\n"
    "  --ids LIST        token ids, comma-separated\n"
    "  --text TEXT       text encoded with DIR's tokenizer (no BOS added) instead of --ids\n"
    "  --mask LIST       per-token weights, one per id: mask[t] != 0 makes token t a target\n"
    "                    (predicted from position t-1) with that weight; mask[0] never counts.\n"
    "                    Default: every token after the first. loss = sum(w * nll) / count\n"
    "  --doc LIST        document id per token: attention stays within a document and\n"
    "                    positions restart at 0 for each one (packed sequences)\n"
    "  --logits          also print the last position's logits (V values)\n"
    "  --json            one object {\"loss\", \"count\", \"logprobs\", \"logits\"?}: logprobs has\n"
    "                    one entry per position 1..T-1, log p(token t | tokens < t), or null\n"
    "                    where token t is not a target\n"
    "  --grads OUT       debugging/verification aid: also run the backward and write every\n"
    "                    parameter's gradient as float32 grad.<HF name> to OUT.safetensors\n"
    "                    (tests/cli/grad_parity.sh compares them with PyTorch)\n"
    "  --steps K         with --grads: then take K steps of AdamW on this sequence (lr 1e-2,\n"
    "                    weight decay 0.1, clip 0.1, eps 1e-5, betas 0.9, 0.999) and also\n"
    "                    write the weights after them as after.<HF name> (verification aid)\n";

// Parses "1,2,3" (spaces allowed) into out; a bad number is a usage error naming it.
static int parse_list(const char *s, const char *opt, double *vals, int *n, int cap) {
    *n = 0;
    for (const char *p = s; *p;) {
        while (*p == ' ' || *p == ',') p++;
        if (!*p) break;
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || !isfinite(v) || (*end && *end != ',' && *end != ' '))
            return cli_usage("score", "%s: bad number at '%.20s'", opt, p);
        if (*n == cap) return cli_usage("score", "%s: more than %d values", opt, cap);
        vals[(*n)++] = v;
        p = end;
    }
    if (!*n) return cli_usage("score", "%s: empty list", opt);
    return 0;
}

// Fills ids (n) from --ids, or by encoding --text with the model directory's tokenizer.
static int get_ids(const char *ids_s, const char *text, const char *dir, IntVec *ids) {
    if (text) {
        Tokenizer *t;
        Err e = {0};
        if (tok_load(&t, dir, NULL, &e)) return cli_fail(&e);
        int rc = tok_encode(t, text, strlen(text), 0, ids, &e) ? cli_fail(&e) : 0;
        tok_free(t);
        if (!rc && !ids->len) rc = cli_usage("score", "--text encodes to no tokens");
        return rc;
    }
    int cap = (int)strlen(ids_s) / 2 + 1, n;
    double *v = malloc((size_t)cap * sizeof *v);
    int rc = !v || parse_list(ids_s, "--ids", v, &n, cap);
    for (int i = 0; !rc && i < n; i++) {
        if (v[i] != floor(v[i]) || v[i] < 0 || v[i] > INT32_MAX)
            rc = cli_usage("score", "--ids: %g is not a token id", v[i]);
        else ivec_push(ids, (int32_t)v[i]);
    }
    free(v);
    return rc ? 2 : 0;
}

// Reads an optional per-token list (--mask, --doc) of exactly T values into out.
static int get_per_token(const char *s, const char *opt, int T, double *out) {
    int n;
    if (parse_list(s, opt, out, &n, T + 1)) return 2;
    if (n != T) return cli_usage("score", "%s has %d values, but there are %d tokens", opt, n, T);
    return 0;
}

static void print_results(const Model *m, const float *logp, const float *mask, double loss,
                          int count, int json, int logits) {
    int T = m->acts.T, V = m->cfg.vocab_size;
    const float *last = m->acts.logits + (size_t)(T - 1) * V;  // (V)
    Buf b = {0};
    if (json) {
        buf_appendf(&b, "{\"loss\": %.9g, \"count\": %d, \"logprobs\": [", loss, count);
        for (int t = 1; t < T; t++) {
            int target = !mask || mask[t] != 0.0f;
            if (target) buf_appendf(&b, "%s%.9g", t > 1 ? ", " : "", logp[t]);
            else buf_appendf(&b, "%snull", t > 1 ? ", " : "");
        }
        buf_appendf(&b, "]");
        if (logits) {
            buf_appendf(&b, ", \"logits\": [");
            for (int i = 0; i < V; i++) buf_appendf(&b, "%s%.9g", i ? ", " : "", last[i]);
            buf_appendf(&b, "]");
        }
        buf_appendf(&b, "}\n");
    } else {
        buf_appendf(&b, "loss %.6f  (perplexity %.4f)  over %d target tokens\n", loss, exp(loss), count);
        buf_appendf(&b, "pos  token  logprob\n");
        for (int t = 1; t < T; t++) {
            if (mask && mask[t] == 0.0f) continue;
            buf_appendf(&b, "%3d  %5d  %.6f\n", t, m->acts.ids[t], logp[t]);
        }
        if (logits) {
            buf_appendf(&b, "logits at position %d:", T - 1);
            for (int i = 0; i < V; i++) buf_appendf(&b, " %.6g", last[i]);
            buf_appendf(&b, "\n");
        }
    }
    fwrite(b.data, 1, b.len, stdout);
    buf_free(&b);
}

// After a forward and loss: writes grad.<name> to path and, with steps > 0, runs that many
// steps of forward, backward, clip and AdamW (the first reusing this forward) and adds
// after.<name>, the weights after them.
static int dump_grads(Model *m, const IntVec *ids, const float *mask, const int32_t *doc, int steps,
                      const char *path, Err *e) {
    if (model_zero_grad(m, e) || model_backward(m, mask, 0, e)) return -1;
    const float *data[2] = {m->grads, m->params};
    const char *prefix[2] = {"grad.", "after."};
    if (steps <= 0) return model_dump_tensors(m, path, 1, data, prefix, e);
    AdamW opt;
    AdamWConfig cfg = {.lr = 1e-2f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-5f,
                       .weight_decay = 0.1f, .clip = 0.1f};
    float *g0 = malloc(m->n_params * sizeof *g0);
    if (!g0) return ERR(e, ERR_NOMEM, "out of memory");
    memcpy(g0, m->grads, m->n_params * sizeof *g0);
    int rc = adamw_init(&opt, m, &cfg, e);
    for (int k = 0; !rc && k < steps; k++) {
        double loss;
        if (k > 0)
            rc = model_forward(m, ids->data, doc, 1, (int)ids->len, e) ||
                 model_loss(m, mask, 0, NULL, &loss, NULL, e) || model_zero_grad(m, e) ||
                 model_backward(m, mask, 0, e);
        if (!rc) adamw_step(&opt, m, NULL);
    }
    data[0] = g0;
    if (!rc) rc = model_dump_tensors(m, path, 2, data, prefix, e);
    adamw_free(&opt);
    free(g0);
    return rc ? -1 : 0;
}

// Loads the model, runs the forward and the loss, prints.
static int score(const char *dir, const IntVec *ids, const float *mask, const int32_t *doc, int json,
                 int logits, const char *grads, int steps) {
    Model m;
    Err e = {0};
    if (model_load(&m, dir, &e)) return cli_fail(&e);
    int T = (int)ids->len, count, rc = 0;
    double loss;
    float *logp = malloc((size_t)T * sizeof *logp);
    if (!logp) rc = cli_usage("score", "out of memory");
    else if (model_forward(&m, ids->data, doc, 1, T, &e) || model_loss(&m, mask, 0, logp, &loss, &count, &e))
        rc = cli_fail(&e);
    else {
        print_results(&m, logp, mask, loss, count, json, logits);  // before steps change the model
        if (grads && dump_grads(&m, ids, mask, doc, steps, grads, &e)) rc = cli_fail(&e);
    }
    free(logp);
    model_free(&m);
    return rc;
}

int cmd_score(int argc, char **argv) {
    const char *dir = NULL, *ids_s = NULL, *text = NULL, *mask_s = NULL, *doc_s = NULL, *grads = NULL, *steps_s = NULL;
    int json = 0, logits = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], **slot = NULL;
        if (!strcmp(a, "--model")) slot = &dir;
        else if (!strcmp(a, "--ids")) slot = &ids_s;
        else if (!strcmp(a, "--text")) slot = &text;
        else if (!strcmp(a, "--mask")) slot = &mask_s;
        else if (!strcmp(a, "--doc")) slot = &doc_s;
        else if (!strcmp(a, "--grads")) slot = &grads;
        else if (!strcmp(a, "--steps")) slot = &steps_s;
        else if (!strcmp(a, "--json")) json = 1;
        else if (!strcmp(a, "--logits")) logits = 1;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(help, stdout);
            return 0;
        } else return cli_usage("score", "unknown argument %s\n%s", a, help);
        if (slot && !(*slot = cli_value(argc, argv, &i))) return 2;
    }
    if (!dir) return cli_usage("score", "--model DIR is required\n%s", help);
    int steps = steps_s ? atoi(steps_s) : 0;
    if (steps_s && (!grads || steps < 1 || steps > 1000))
        return cli_usage("score", "--steps takes 1..1000 and needs --grads");
    if (!ids_s == !text) return cli_usage("score", "give exactly one of --ids and --text\n%s", help);
    IntVec ids = {0};
    int T = 0, rc = get_ids(ids_s, text, dir, &ids);
    float *mask = NULL;
    int32_t *doc = NULL;
    double *tmp = NULL;
    if (!rc) {
        T = (int)ids.len;
        mask = mask_s ? malloc((size_t)T * sizeof *mask) : NULL;
        doc = doc_s ? malloc((size_t)T * sizeof *doc) : NULL;
        tmp = malloc((size_t)(T + 1) * sizeof *tmp);
        if (!tmp || (mask_s && !mask) || (doc_s && !doc)) rc = cli_usage("score", "out of memory");
    }
    if (!rc && mask_s && !(rc = get_per_token(mask_s, "--mask", T, tmp)))
        for (int t = 0; t < T; t++) mask[t] = (float)tmp[t];
    if (!rc && doc_s && !(rc = get_per_token(doc_s, "--doc", T, tmp)))
        for (int t = 0; t < T; t++) doc[t] = (int32_t)tmp[t];
    if (!rc) rc = score(dir, &ids, mask, doc, json, logits, grads, steps);
    free(tmp);
    free(mask);
    free(doc);
    ivec_free(&ids);
    return rc;
}
