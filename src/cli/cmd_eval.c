// cmd_eval.c: `posttrain eval` — the masked loss and token accuracy of a model on data.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "train/dataset.h"
#include "train/eval.h"

static const char *const USAGE =
    "usage: posttrain eval --model DIR --data DIR|FILE... [options]\n"
    "\n"
    "The mean next-token loss (nats), perplexity and accuracy of DIR's model on the target\n"
    "tokens (where the loss mask is 1: the assistant's replies) and on the context tokens\n"
    "(every other token after a document's first).\n"
    "\n"
    "  --split val|train    a prepared directory's split (default: val if it has documents)\n"
    "  --batch-size B       rows per forward (default 4)\n"
    "  --seq-len T          tokens per row; longer documents are cut (default 1024)\n"
    "  --no-pack            one document per row\n"
    "  --max-batches N      stop after N batches\n"
    "  --template NAME, --tokenizer SPEC, --vocab-dir DIR, --format NAME, --skip-bad\n"
    "  --json               one JSON object\n";

int cmd_eval(int argc, char **argv) {
    const char *cmd = "eval", *model_dir = NULL, *split = NULL;
    const char **data = calloc(argc, sizeof *data);
    DatasetOptions d = {0};
    EvalOptions eo = {.batch = 4, .seq_len = 1024, .pack = true};
    int json = 0, rc = 2;
    if (!data) return 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(USAGE, stdout);
            rc = 0;
            goto out;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--no-pack")) {
            eo.pack = false;
        } else if (!strcmp(a, "--skip-bad")) {
            d.reader.skip_bad = true;
        } else if (!strcmp(a, "--data")) {
            if (!(data[d.n_data++] = cli_value(argc, argv, &i))) goto out;
            while (i + 1 < argc && argv[i + 1][0] != '-') data[d.n_data++] = argv[++i];
        } else if (!(v = cli_value(argc, argv, &i))) {
            goto out;
        } else if (!strcmp(a, "--model")) {
            model_dir = v;
        } else if (!strcmp(a, "--split")) {
            split = v;
        } else if (!strcmp(a, "--template")) {
            d.template_name = v;
        } else if (!strcmp(a, "--tokenizer")) {
            d.tokenizer = v;
        } else if (!strcmp(a, "--vocab-dir")) {
            d.vocab_dir = v;
        } else if (!strcmp(a, "--format")) {
            int f = data_format_parse(v);
            if (f < 0) {
                cli_usage(cmd, "--format: unknown format '%s'", v);
                goto out;
            }
            d.reader.format = (DataFormat)f;
        } else if (!strcmp(a, "--batch-size") || !strcmp(a, "--seq-len") ||
                   !strcmp(a, "--max-batches")) {
            char *end;
            long x = strtol(v, &end, 10);
            int min = a[2] == 'm' ? 0 : a[2] == 's' ? 2 : 1;
            if (*end || end == v || x < min || x > 1 << 24) {
                cli_usage(cmd, "%s: expected an integer >= %d, got '%s'", a, min, v);
                goto out;
            }
            *(a[2] == 'b' ? &eo.batch : a[2] == 's' ? &eo.seq_len : &eo.max_batches) = (int)x;
        } else {
            cli_usage(cmd, "unknown option '%s' (see posttrain eval --help)", a);
            goto out;
        }
    }
    if (!model_dir || !d.n_data) {
        cli_usage(cmd, "--model DIR and --data are required");
        goto out;
    }
    if (split && strcmp(split, "val") && strcmp(split, "train")) {
        cli_usage(cmd, "--split: expected val or train, got '%s'", split);
        goto out;
    }
    d.data = data, d.model_dir = model_dir;
    d.add_template_tokens = true;
    Err e = {0};
    Dataset ds;
    Model m;
    EvalResult r;
    if (dataset_open(&ds, &d, &e)) {
        rc = cli_fail(&e);
        goto out;
    }
    const TokenSet *s = ds.train;
    const char *sname = "train";
    if ((!split || !strcmp(split, "val")) && ds.val && tokenset_count(ds.val)) s = ds.val, sname = "val";
    else if (split && !strcmp(split, "val")) {
        ERR(&e, ERR_ARG, "the data has no validation split");
        rc = cli_fail(&e);
        dataset_free(&ds);
        goto out;
    }
    if (model_load(&m, model_dir, &e)) {
        rc = cli_fail(&e);
        dataset_free(&ds);
        goto out;
    }
    // Data prepared with a chat template may use special tokens the base model lacks:
    // evaluate it as training would start, with those rows at the mean embedding.
    int want = tokenset_vocab(s), tv = ds.tok ? tok_vocab_size(ds.tok) : 0;
    if (tv >= want && want > m.cfg.vocab_size && model_grow_vocab(&m, tv, &e)) {
        rc = cli_fail(&e);
    } else if (tokenset_vocab(s) > m.cfg.vocab_size) {
        ERR(&e, ERR_ARG, "the data has token id %d, outside the model's vocabulary of %d",
            tokenset_vocab(s) - 1, m.cfg.vocab_size);
        rc = cli_fail(&e);
    } else if (eval_run(&m, s, &eo, &r, &e)) {
        rc = cli_fail(&e);
    } else {
        if (json)
            printf("{\"split\": \"%s\", \"documents\": %ld, \"loss\": %.6f, \"perplexity\": %.4f, "
                   "\"targets\": %ld, \"accuracy\": %.6f, \"context_loss\": %.6f, "
                   "\"context_tokens\": %ld, \"context_accuracy\": %.6f}\n",
                   sname, r.docs, r.target_loss, exp(r.target_loss), r.targets, r.target_acc,
                   r.context_loss, r.context, r.context_acc);
        else
            printf("%s split, %ld documents\n"
                   "  targets (assistant): loss %.4f  perplexity %.3f  accuracy %.2f%%  over %ld tokens\n"
                   "  context (prompts):   loss %.4f  perplexity %.3f  accuracy %.2f%%  over %ld tokens\n",
                   sname, r.docs, r.target_loss, exp(r.target_loss), 100 * r.target_acc, r.targets,
                   r.context_loss, exp(r.context_loss), 100 * r.context_acc, r.context);
        rc = 0;
    }
    model_free(&m);
    dataset_free(&ds);
out:
    free(data);
    return rc;
}
