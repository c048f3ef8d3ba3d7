// cmd_data_prepare.c: `posttrain data prepare` — data sets into training shards.
//
//   posttrain data prepare --tokenizer SPEC [--vocab-dir DIR] --template NAME --out DIR
//       [--mix a.jsonl:0.7,b.jsonl:0.3] [--val 0.02] [--seed S] [--max-len N]
//       [--threads N] [--format NAME] [--skip-bad] FILES…
// What happens to each record, and how --mix and --val choose documents, is in
// src/data/prepare.h; the output directory (shards + index.json) in docs/prepare.md.
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "data/prepare.h"

static const char *help =
    "usage: posttrain data prepare --tokenizer SPEC --template NAME --out DIR [options] FILES...\n"
    "  FILES                 conversation data sets (JSONL, .gz/.zst), token or text files\n"
    "  --template NAME       chat template: gpt4o|chatml|llama3\n"
    "  --out DIR             where train-NNNNN.bin, val-NNNNN.bin and index.json go\n"
    "  --mix A:W,B:W,...     share of the train documents each file supplies (normalised;\n"
    "                        above a file's natural share its documents repeat)\n"
    "  --val F               fraction of unique documents held out for validation (0.02)\n"
    "  --seed S              seed of the split, the mix's sampling (0)\n"
    "  --max-len N           cut longer documents to N tokens (dropped if no target is left)\n"
    "  --threads N           tokenizing threads (all cores); the output is the same for any N\n"
    "  --format NAME         force the input format (auto-detected by default)\n"
    "  --skip-bad            count and skip bad records instead of stopping at the first\n"
    "  --vocab-dir DIR, --special NAME=ID   as for every tokenizer command\n";

typedef struct {
    int tty;
} Progress;

static void on_progress(void *ctx, const PrepareProgress *p) {
    const Progress *pr = ctx;
    if (p->file && p->done) fprintf(stderr, "%sread %s: %zu records\n", pr->tty ? "\r\033[K" : "",
                                    p->file, p->records);
    else if (p->file && pr->tty) fprintf(stderr, "\r\033[Kreading %s: %zu records", p->file, p->records);
    else if (p->shard) fprintf(stderr, "wrote %s\n", p->shard);
}

static int parse_number(const char *cmd, const char *opt, const char *s, double lo, double hi,
                        double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi)
        return cli_usage(cmd, "%s %s: expected a number in [%g, %g]", opt, s, lo, hi);
    *out = v;
    return 0;
}

static int parse_u64(const char *cmd, const char *opt, const char *s, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end || s[0] == '-')
        return cli_usage(cmd, "%s %s: expected a non-negative integer", opt, s);
    *out = v;
    return 0;
}

// --mix "a.jsonl:0.7,b.jsonl:0.3": each item's weight follows its last ':'. Adds the
// weights to in[] (a file not among FILES is appended).
static int parse_mix(char *mix, PrepareInput *in, int *n_in, int max_in) {
    const char *cmd = "data prepare";
    for (char *item = strtok(mix, ","); item; item = strtok(NULL, ",")) {
        char *colon = strrchr(item, ':');
        if (!colon || colon == item)
            return cli_usage(cmd, "--mix item '%s': expected FILE:WEIGHT", item);
        *colon = 0;
        double w = 0;
        if (parse_number(cmd, "--mix weight", colon + 1, 0, 1e12, &w)) return 2;
        int f = 0;
        while (f < *n_in && strcmp(in[f].path, item)) f++;
        if (f == *n_in) {
            if (*n_in == max_in) return cli_usage(cmd, "too many input files");
            in[(*n_in)++] = (PrepareInput){item, -1};
        }
        if (in[f].weight >= 0) return cli_usage(cmd, "--mix names %s twice", item);
        in[f].weight = w;
    }
    for (int f = 0; f < *n_in; f++)
        if (in[f].weight < 0)
            return cli_usage(cmd, "--mix gives no weight to %s (with --mix, every file needs one)",
                             in[f].path);
    return 0;
}

static void print_bad(FILE *f, const char *label, const PrepareFileStats *s) {
    fprintf(f, "%s", label);
    for (int k = 0; k < DERR_COUNT; k++)
        fprintf(f, "%s %s %zu", k ? "," : "", data_err_kind_name((DataErrKind)k), s->bad[k]);
    fprintf(f, ", render %zu, tokens %zu\n", s->bad_render, s->bad_tokens);
}

static void print_summary(const char *out, const PrepareInput *in, const PrepareStats *st) {
    printf("prepared %s (vocab size %d)\n", out, st->vocab_size);
    for (int f = 0; f < st->n_files; f++) {
        const PrepareFileStats *s = &st->files[f];
        printf("  %s (%s): %zu records -> %zu documents (%zu train", in[f].path,
               data_format_name(s->format), s->records, s->docs, s->train_docs);
        if (in[f].weight >= 0) printf(" at weight %g", in[f].weight);
        printf(", %zu val)\n", s->val_docs);
    }
    static const char *names[2] = {"train", "val"};
    for (int k = 0; k < 2; k++) {
        const PrepareSplitStats *s = &st->split[k];
        printf("  %-5s  %zu documents, %zu tokens, %zu masked (target) tokens, %zu shard%s\n",
               names[k], s->docs, s->tokens, s->targets, s->shards, s->shards == 1 ? "" : "s");
    }
    const PrepareFileStats *t = &st->total;
    printf("  duplicates %zu, truncated %zu (%zu tokens cut), dropped %zu, no targets %zu\n",
           t->duplicates, t->truncated, t->truncated_tokens, t->dropped, t->no_targets);
    print_bad(stdout, "  bad records:", t);
    if (t->deleted || t->filtered)
        printf("  oasst: %zu deleted messages, %zu threads filtered by language\n", t->deleted,
               t->filtered);
}

int cmd_data_prepare(int argc, char **argv) {
    const char *cmd = "data prepare";
    TokOptions to = {0};
    const char *tname = NULL, *out = NULL, *format = NULL;
    char *mix = NULL;
    PrepareOptions o = {.val = 0.02};
    PrepareInput *in = calloc((size_t)argc + 1, sizeof *in);
    int n_in = 0, rc = 2;
    if (!in) return cli_usage(cmd, "out of memory");
    for (int i = 1; i < argc; i++) {
        int r = cli_tok_option(&to, cmd, argc, argv, &i);
        if (r < 0) goto done;
        if (r) continue;
        const char *a = argv[i], *v = NULL;
        double d = 0;
        uint64_t u = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(help, stdout);
            rc = 0;
            goto done;
        } else if (!strcmp(a, "--skip-bad")) {
            o.reader.skip_bad = true;
        } else if (a[0] == '-' && a[1]) {
            if (!strcmp(a, "--template") || !strcmp(a, "--out") || !strcmp(a, "--mix") ||
                !strcmp(a, "--val") || !strcmp(a, "--seed") || !strcmp(a, "--max-len") ||
                !strcmp(a, "--threads") || !strcmp(a, "--format")) {
                if (!(v = cli_value(argc, argv, &i))) goto done;
            } else {
                cli_usage(cmd, "unknown option %s\n%s", a, help);
                goto done;
            }
            if (!strcmp(a, "--template")) tname = v;
            else if (!strcmp(a, "--out")) out = v;
            else if (!strcmp(a, "--mix")) {
                free(mix);
                if (!(mix = strdup(v))) goto done;
            } else if (!strcmp(a, "--format")) format = v;
            else if (!strcmp(a, "--val")) {
                if (parse_number(cmd, a, v, 0, 0.999999, &d)) goto done;
                o.val = d;
            } else if (!strcmp(a, "--seed")) {
                if (parse_u64(cmd, a, v, &o.seed)) goto done;
            } else if (!strcmp(a, "--max-len")) {
                if (parse_u64(cmd, a, v, &u)) goto done;
                o.max_len = (size_t)u;
            } else if (!strcmp(a, "--threads")) {
                if (parse_u64(cmd, a, v, &u) || u == 0 || u > 1024) {
                    cli_usage(cmd, "--threads %s: expected 1 to 1024", v);
                    goto done;
                }
                o.threads = (int)u;
            }
        } else {
            in[n_in++] = (PrepareInput){a, -1};
        }
    }
    if (mix && parse_mix(mix, in, &n_in, argc)) goto done;
    if (!n_in) {
        cli_usage(cmd, "no input FILES\n%s", help);
        goto done;
    }
    if (!out) {
        cli_usage(cmd, "--out DIR is required");
        goto done;
    }
    if (!tname) {
        cli_usage(cmd, "--template %s is required", chat_template_names());
        goto done;
    }
    const ChatTemplate *tpl = chat_template_find(tname);
    if (!tpl) {
        cli_usage(cmd, "unknown template '%s' (known: %s)", tname, chat_template_names());
        goto done;
    }
    if (format) {
        int f = data_format_parse(format);
        if (f < 0) {
            cli_usage(cmd, "unknown --format '%s'", format);
            goto done;
        }
        o.reader.format = (DataFormat)f;
    }
    Tokenizer *t = cli_tok_load(&to, cmd);
    if (!t) {
        rc = 1;
        goto done;
    }
    Progress pr = {isatty(2)};
    o.tokenizer_spec = to.spec;
    o.template_name = tpl->name;
    o.progress = on_progress;
    o.progress_ctx = &pr;
    PrepareStats st;
    Err e = {0};
    if (data_prepare(out, in, n_in, t, tpl, &o, &st, &e)) {
        rc = cli_fail(&e);
        const PrepareFileStats *s = &st.total;
        size_t bad = s->bad_render + s->bad_tokens;
        for (int k = 0; k < DERR_COUNT; k++) bad += s->bad[k];
        if (bad && o.reader.skip_bad) print_bad(stderr, "posttrain: bad records counted before the error:", s);
    } else {
        print_summary(out, in, &st);
        rc = 0;
    }
    prepare_stats_free(&st);
    tok_free(t);
done:
    free(mix);
    free(in);
    return rc;
}
