// cmd_score.c: `posttrain score` — the masked next-token loss of sequences under a model.
//
//   posttrain score --model DIR (--ids 1,2,3,… | --text TEXT [--bos | --no-bos])
//                   [--mask 0,1,1,…] [--doc 0,0,1,…] [--json] [--logits]
//                   [--grads OUT.safetensors [--steps K]]
//   posttrain score --model DIR --ids-file FILE [--json] [--logits] [--grads OUT [--steps K]]
// A perplexity tool (like llama.cpp's) and the form the PyTorch parity tests call. Mask
// convention (everywhere in the project): mask[t] = 1 means token t is a target predicted
// from position t-1, so mask[0] never counts; without --mask every token after the first is.
// --text goes through DIR's tokenizer and, by default for Llama-like models (Llama, Qwen2)
// whose tokenizer has a BOS, gets that BOS in front, as llama.cpp's perplexity does; then
// every text token is a target. --ids-file scores B sequences in one forward of B rows
// padded to the longest (pads are never targets): a row's loss equals scoring it alone,
// the total is the loss over all rows' targets together (their weighted mean).
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "model/model.h"
#include "train/adamw.h"
#include "util/buf.h"
#include "util/file.h"

static const char *help =
    "usage: posttrain score --model DIR (--ids 1,2,3,... | --text TEXT | --ids-file FILE) [options]\n"
    "  prints the mean next-token negative log-likelihood over the target tokens, their count\n"
    "  and each target's log-probability\n"
    "  --model DIR       config.json + model.safetensors (or shards) in the Hugging Face layout\n"
    "  --ids LIST        token ids, comma-separated\n"
    "  --text TEXT       text encoded with DIR's tokenizer (tokenizer.json, tokenizer.bin, ...)\n"
    "                    instead of --ids\n"
    "  --bos, --no-bos   with --text: put the tokenizer's BOS first, or not. Default: --bos for\n"
    "                    Llama and Qwen2 models whose tokenizer has a BOS (as llama.cpp's\n"
    "                    perplexity), --no-bos for GPT-2. With a BOS every text token is a target\n"
    "  --ids-file FILE   a batch (- reads stdin): one sequence a line, ids separated by commas or\n"
    "                    spaces, or a JSON object {\"ids\": [...], \"mask\": [...], \"doc\": [...]}\n"
    "                    (mask, doc optional, as --mask and --doc); blank lines are skipped. All\n"
    "                    rows run in one forward, padded to the longest; prints each row's loss,\n"
    "                    count and perplexity, then the total over all rows' targets\n"
    "  --mask LIST       per-token weights, one per id: mask[t] != 0 makes token t a target\n"
    "                    (predicted from position t-1) with that weight; mask[0] never counts.\n"
    "                    Default: every token after the first. loss = sum(w * nll) / count\n"
    "  --doc LIST        document id per token: attention stays within a document and\n"
    "                    positions restart at 0 for each one (packed sequences)\n"
    "  --logits          also print the last position's logits (V values; per row with\n"
    "                    --ids-file: the row's last token)\n"
    "  --json            one object {\"loss\", \"count\", \"logprobs\", \"logits\"?}: logprobs has\n"
    "                    one entry per position 1..T-1, log p(token t | tokens < t), or null\n"
    "                    where token t is not a target. With --ids-file: {\"loss\", \"count\",\n"
    "                    \"rows\": [one such object per row]}, loss and count over all rows\n"
    "  --grads OUT       debugging/verification aid: also run the backward and write every\n"
    "                    parameter's gradient as float32 grad.<HF name> to OUT.safetensors\n"
    "                    (tests/cli/grad_parity.sh compares them with PyTorch)\n"
    "  --steps K         with --grads: then take K steps of AdamW on this sequence (lr 1e-2,\n"
    "                    weight decay 0.1, clip 0.1, eps 1e-5, betas 0.9, 0.999) and also\n"
    "                    write the weights after them as after.<HF name> (verification aid;\n"
    "                    with --ids-file the whole padded batch is the step's batch)\n";

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

// B sequences padded to T: what one forward scores.
typedef struct {
    int B, T;
    int32_t *ids;  // (B,T), pads 0
    float *mask;   // (B,T), or NULL: every token after the first of each row is a target
    int32_t *doc;  // (B,T) or NULL
    int *len;      // (B) each row's length before padding
} Batch;

static void batch_free(Batch *b) {
    free(b->ids);
    free(b->mask);
    free(b->doc);
    free(b->len);
    memset(b, 0, sizeof *b);
}

// Encodes --text with DIR's tokenizer; bos < 0 chooses (BOS for a non-GPT-2 model whose
// tokenizer has one).
static int text_ids(const char *dir, const char *text, int bos, IntVec *ids) {
    Tokenizer *t;
    Err e = {0};
    if (tok_load(&t, dir, NULL, &e)) return cli_fail(&e);
    int rc = 0;
    if (bos < 0) {
        ModelConfig c;
        char path[4096];
        if (path_join(path, sizeof path, dir, "config.json", &e) || model_config_load(&c, path, &e))
            rc = cli_fail(&e);
        else bos = model_doc_bos(&c, tok_bos_id(t));
    } else if (bos && tok_bos_id(t) < 0) {
        rc = cli_usage("score", "--bos: the tokenizer in %s has no BOS token", dir);
    }
    if (!rc && tok_encode(t, text, strlen(text), bos ? TOK_ADD_BOS : 0, ids, &e)) rc = cli_fail(&e);
    tok_free(t);
    if (!rc && !ids->len) rc = cli_usage("score", "--text encodes to no tokens");
    return rc;
}

// Checks and appends token ids (given as doubles) to ids; what names the source in messages.
static int push_ids(const double *v, int n, const char *what, IntVec *ids) {
    for (int i = 0; i < n; i++) {
        if (v[i] != floor(v[i]) || v[i] < 0 || v[i] > INT32_MAX)
            return cli_usage("score", "%s: %g is not a token id", what, v[i]);
        if (ivec_push(ids, (int32_t)v[i])) return cli_usage("score", "out of memory");
    }
    return 0;
}

// Fills ids from --ids, or by encoding --text with the model directory's tokenizer.
static int get_ids(const char *ids_s, const char *text, int bos, const char *dir, IntVec *ids) {
    if (text) return text_ids(dir, text, bos, ids);
    int cap = (int)strlen(ids_s) / 2 + 1, n;
    double *v = malloc((size_t)cap * sizeof *v);
    int rc = !v ? cli_usage("score", "out of memory") : parse_list(ids_s, "--ids", v, &n, cap);
    if (!rc) rc = push_ids(v, n, "--ids", ids);
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

// One {"ids": [...], "mask": [...], "doc": [...]} line: appends to ids, masks and docs
// (NaN / -1 fillers where the line has no mask / doc, so the three stay aligned).
static int json_row(const char *line, const char *where, IntVec *ids, Buf *masks, IntVec *docs,
                    int *any_doc) {
    cJSON *o = cJSON_Parse(line);
    int rc = 0;
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "ids");
    const cJSON *mk = cJSON_GetObjectItemCaseSensitive(o, "mask");
    const cJSON *dc = cJSON_GetObjectItemCaseSensitive(o, "doc");
    int n = cJSON_GetArraySize(a);
    int bad_mk = mk && !cJSON_IsNull(mk) && (!cJSON_IsArray(mk) || cJSON_GetArraySize(mk) != n);
    int bad_dc = dc && !cJSON_IsNull(dc) && (!cJSON_IsArray(dc) || cJSON_GetArraySize(dc) != n);
    if (!cJSON_IsObject(o)) rc = cli_usage("score", "%s: not a JSON object", where);
    else if (!cJSON_IsArray(a) || !n) rc = cli_usage("score", "%s: \"ids\": expected a non-empty array", where);
    else if (bad_mk || bad_dc)
        rc = cli_usage("score", "%s: \"%s\": expected an array of %d numbers, one per id", where,
                       bad_mk ? "mask" : "doc", n);
    int has_mask = !rc && cJSON_IsArray(mk), has_doc = !rc && cJSON_IsArray(dc);
    for (int i = 0; !rc && i < n; i++) {
        const cJSON *x = cJSON_GetArrayItem(a, i);
        const cJSON *w = has_mask ? cJSON_GetArrayItem(mk, i) : NULL;
        const cJSON *d = has_doc ? cJSON_GetArrayItem(dc, i) : NULL;
        double v = cJSON_IsNumber(x) ? x->valuedouble : -1;
        if (!cJSON_IsNumber(x))
            rc = cli_usage("score", "%s: ids[%d] is not a number", where, i);
        else if (w && (!cJSON_IsNumber(w) || !isfinite(w->valuedouble)))
            rc = cli_usage("score", "%s: mask[%d] is not a number", where, i);
        else if (d && (!cJSON_IsNumber(d) || d->valuedouble != floor(d->valuedouble) ||
                       d->valuedouble < 0 || d->valuedouble > INT32_MAX))
            rc = cli_usage("score", "%s: doc[%d] is not a document id", where, i);
        else if (!(rc = push_ids(&v, 1, where, ids))) {
            float fw = w ? (float)w->valuedouble : NAN;
            if (buf_append(masks, (const char *)&fw, sizeof fw) || ivec_push(docs, d ? (int32_t)d->valuedouble : -1))
                rc = cli_usage("score", "out of memory");
        }
    }
    *any_doc |= has_doc;
    cJSON_Delete(o);
    return rc;
}

// Reads --ids-file into a padded batch: lines of ids, or JSON objects with ids/mask/doc.
static int read_ids_file(const char *path, Batch *bt) {
    char *text;
    size_t n;
    Err e = {0};
    if (file_read_all(path, &text, &n, &e)) return cli_fail(&e);
    IntVec ids = {0}, docs = {0}, starts = {0};
    Buf masks = {0};
    int rc = 0, any_doc = 0, lineno = 0;
    double *v = NULL;
    for (char *line = text; !rc && line < text + n; lineno++) {
        char *nl = memchr(line, '\n', (size_t)(text + n - line)), *next = nl ? nl + 1 : text + n;
        if (nl) *nl = '\0';  // (the last line ends at file_read_all's terminator)
        for (char *c = line; *c; c++)
            if (*c == '\t' || *c == '\r') *c = ' ';
        size_t len = strlen(line);
        while (len && line[len - 1] == ' ') line[--len] = '\0';
        char *p = line + strspn(line, " ");
        char where[300];
        snprintf(where, sizeof where, "--ids-file %s:%d", path, lineno + 1);
        if (*p) {
            size_t before = ids.len;
            if (ivec_push(&starts, (int32_t)before)) rc = cli_usage("score", "out of memory");
            else if (*p == '{') rc = json_row(p, where, &ids, &masks, &docs, &any_doc);
            else {
                int cap = (int)strlen(p) / 2 + 1, k;
                free(v);
                v = malloc((size_t)cap * sizeof *v);
                rc = !v ? cli_usage("score", "out of memory") : parse_list(p, where, v, &k, cap);
                if (!rc) rc = push_ids(v, k, where, &ids);
                float nan = NAN;
                for (size_t i = before; !rc && i < ids.len; i++)
                    if (buf_append(&masks, (const char *)&nan, sizeof nan) || ivec_push(&docs, -1))
                        rc = cli_usage("score", "out of memory");
            }
        }
        line = next;
    }
    free(v);
    if (!rc && !starts.len) rc = cli_usage("score", "--ids-file %s: no sequences", path);
    if (!rc) {
        int B = (int)starts.len, T = 0;
        bt->len = malloc((size_t)B * sizeof *bt->len);
        for (int b = 0; bt->len && b < B; b++) {
            size_t end = b + 1 < B ? (size_t)starts.data[b + 1] : ids.len;
            bt->len[b] = (int)(end - (size_t)starts.data[b]);
            if (bt->len[b] > T) T = bt->len[b];
        }
        bt->B = B, bt->T = T;
        size_t bt_n = (size_t)B * T;
        bt->ids = calloc(bt_n, sizeof *bt->ids);
        bt->mask = calloc(bt_n, sizeof *bt->mask);
        bt->doc = any_doc ? calloc(bt_n, sizeof *bt->doc) : NULL;
        if (!bt->len || !bt->ids || !bt->mask || (any_doc && !bt->doc)) rc = cli_usage("score", "out of memory");
        const float *mk = (const float *)masks.data;
        for (int b = 0; !rc && b < B; b++) {
            size_t s = (size_t)starts.data[b];
            for (int t = 0; t < T; t++) {
                size_t i = (size_t)b * T + t;
                int real = t < bt->len[b];
                bt->ids[i] = real ? ids.data[s + t] : 0;
                // a row without a mask: every token after the first; pads never
                bt->mask[i] = !real ? 0.0f : isnan(mk[s + t]) ? (t > 0) : mk[s + t];
                // a row without doc ids is one document; pads continue the last one
                int32_t d = docs.data[s + (real ? t : bt->len[b] - 1)];
                if (bt->doc) bt->doc[i] = d < 0 ? 0 : d;
            }
        }
    }
    ivec_free(&ids);
    ivec_free(&docs);
    ivec_free(&starts);
    buf_free(&masks);
    free(text);
    return rc;
}

// Appends one sequence's JSON object (the single-sequence output format) to out.
static void append_json(Buf *b, double loss, int count, const float *logp, const float *mask, int T,
                        const float *logits, int V) {
    buf_appendf(b, "{\"loss\": %.9g, \"count\": %d, \"logprobs\": [", loss, count);
    for (int t = 1; t < T; t++) {
        int target = !mask || mask[t] != 0.0f;
        if (target) buf_appendf(b, "%s%.9g", t > 1 ? ", " : "", logp[t]);
        else buf_appendf(b, "%snull", t > 1 ? ", " : "");
    }
    buf_appendf(b, "]");
    if (logits) {
        buf_appendf(b, ", \"logits\": [");
        for (int i = 0; i < V; i++) buf_appendf(b, "%s%.9g", i ? ", " : "", logits[i]);
        buf_appendf(b, "]");
    }
    buf_appendf(b, "}");
}

static void print_results(const Model *m, const float *logp, const float *mask, double loss,
                          int count, int json, int logits) {
    int T = m->acts.T, V = m->cfg.vocab_size;
    const float *last = m->acts.logits + (size_t)(T - 1) * V;  // (V)
    Buf b = {0};
    if (json) {
        append_json(&b, loss, count, logp, mask, T, logits ? last : NULL, V);
        buf_appendf(&b, "\n");
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

// --ids-file: each row's loss (its weighted NLL sum in model_loss's order, over its own
// count, so exactly what scoring the row alone computes from the same log-probs), then
// the total.
static void print_batch(const Model *m, const Batch *bt, const float *logp, double loss, int count,
                        int json, int logits) {
    int T = bt->T, V = m->cfg.vocab_size;
    Buf b = {0};
    if (json) buf_appendf(&b, "{\"loss\": %.9g, \"count\": %d, \"rows\": [", loss, count);
    else buf_appendf(&b, "row  tokens  targets       loss  perplexity\n");
    for (int r = 0; r < bt->B; r++) {
        const float *lp = logp + (size_t)r * T, *mk = bt->mask + (size_t)r * T;
        double sum = 0.0;
        int n = 0;
        for (int t = 1; t < bt->len[r]; t++) {
            if (mk[t] == 0.0f) continue;
            sum += -(double)lp[t] * mk[t];
            n++;
        }
        double rl = n ? sum / n : 0.0;
        const float *last = m->acts.logits + ((size_t)r * T + bt->len[r] - 1) * V;
        if (json) {
            buf_appendf(&b, "%s", r ? ", " : "");
            append_json(&b, rl, n, lp, mk, bt->len[r], logits ? last : NULL, V);
        } else {
            buf_appendf(&b, "%3d  %6d  %7d  %9.6f  %10.4f\n", r, bt->len[r], n, rl, exp(rl));
        }
    }
    if (json) {
        buf_appendf(&b, "]}\n");
    } else {
        buf_appendf(&b, "total loss %.6f  (perplexity %.4f)  over %d target tokens in %d rows\n", loss,
                    exp(loss), count, bt->B);
        for (int r = 0; logits && r < bt->B; r++) {
            const float *last = m->acts.logits + ((size_t)r * T + bt->len[r] - 1) * V;
            buf_appendf(&b, "logits of row %d at position %d:", r, bt->len[r] - 1);
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
static int dump_grads(Model *m, const Batch *bt, int steps, const char *path, Err *e) {
    if (model_zero_grad(m, e) || model_backward(m, bt->mask, 0, e)) return -1;
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
            rc = model_forward(m, bt->ids, bt->doc, bt->B, bt->T, e) ||
                 model_loss(m, bt->mask, 0, NULL, &loss, NULL, e) || model_zero_grad(m, e) ||
                 model_backward(m, bt->mask, 0, e);
        if (!rc) adamw_step(&opt, m, NULL);
    }
    data[0] = g0;
    if (!rc) rc = model_dump_tensors(m, path, 2, data, prefix, e);
    adamw_free(&opt);
    free(g0);
    return rc ? -1 : 0;
}

// Loads the model, runs the forward and the loss, prints.
static int score(const char *dir, const Batch *bt, int batch, int json, int logits, const char *grads,
                 int steps) {
    Model m;
    Err e = {0};
    if (model_load(&m, dir, &e)) return cli_fail(&e);
    int count, rc = 0;
    double loss;
    float *logp = malloc((size_t)bt->B * bt->T * sizeof *logp);
    if (!logp) rc = cli_usage("score", "out of memory");
    else if (model_forward(&m, bt->ids, bt->doc, bt->B, bt->T, &e) ||
             model_loss(&m, bt->mask, 0, logp, &loss, &count, &e))
        rc = cli_fail(&e);
    else {
        // before steps change the model
        if (batch) print_batch(&m, bt, logp, loss, count, json, logits);
        else print_results(&m, logp, bt->mask, loss, count, json, logits);
        if (grads && dump_grads(&m, bt, steps, grads, &e)) rc = cli_fail(&e);
    }
    free(logp);
    model_free(&m);
    return rc;
}

int cmd_score(int argc, char **argv) {
    const char *dir = NULL, *ids_s = NULL, *text = NULL, *mask_s = NULL, *doc_s = NULL, *grads = NULL,
               *steps_s = NULL, *ids_file = NULL;
    int json = 0, logits = 0, bos = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], **slot = NULL;
        if (!strcmp(a, "--model")) slot = &dir;
        else if (!strcmp(a, "--ids")) slot = &ids_s;
        else if (!strcmp(a, "--text")) slot = &text;
        else if (!strcmp(a, "--ids-file")) slot = &ids_file;
        else if (!strcmp(a, "--mask")) slot = &mask_s;
        else if (!strcmp(a, "--doc")) slot = &doc_s;
        else if (!strcmp(a, "--grads")) slot = &grads;
        else if (!strcmp(a, "--steps")) slot = &steps_s;
        else if (!strcmp(a, "--json")) json = 1;
        else if (!strcmp(a, "--logits")) logits = 1;
        else if (!strcmp(a, "--bos")) bos = 1;
        else if (!strcmp(a, "--no-bos")) bos = 0;
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
    if (!!ids_s + !!text + !!ids_file != 1)
        return cli_usage("score", "give exactly one of --ids, --text and --ids-file\n%s", help);
    if (bos >= 0 && !text) return cli_usage("score", "--bos and --no-bos go with --text");
    if (ids_file && (mask_s || doc_s))
        return cli_usage("score", "--mask and --doc go with --ids or --text; with --ids-file give "
                         "them per line ({\"ids\": [...], \"mask\": [...], \"doc\": [...]})");
    Batch bt = {0};
    if (ids_file) {
        int rc = read_ids_file(ids_file, &bt);
        if (!rc) rc = score(dir, &bt, 1, json, logits, grads, steps);
        batch_free(&bt);
        return rc;
    }
    IntVec ids = {0};
    int T = 0, rc = get_ids(ids_s, text, bos, dir, &ids);
    double *tmp = NULL;
    if (!rc) {
        T = (int)ids.len;
        bt.B = 1, bt.T = T, bt.ids = ids.data;
        bt.mask = mask_s ? malloc((size_t)T * sizeof *bt.mask) : NULL;
        bt.doc = doc_s ? malloc((size_t)T * sizeof *bt.doc) : NULL;
        tmp = malloc((size_t)(T + 1) * sizeof *tmp);
        if (!tmp || (mask_s && !bt.mask) || (doc_s && !bt.doc)) rc = cli_usage("score", "out of memory");
    }
    if (!rc && mask_s && !(rc = get_per_token(mask_s, "--mask", T, tmp)))
        for (int t = 0; t < T; t++) bt.mask[t] = (float)tmp[t];
    if (!rc && doc_s && !(rc = get_per_token(doc_s, "--doc", T, tmp)))
        for (int t = 0; t < T; t++) bt.doc[t] = (int32_t)tmp[t];
    if (!rc) rc = score(dir, &bt, 0, json, logits, grads, steps);
    free(tmp);
    free(bt.mask);
    free(bt.doc);
    ivec_free(&ids);
    return rc;
}
