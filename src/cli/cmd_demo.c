// cmd_demo.c: `posttrain demo` — runs src/demo/demo.c and shows its progress.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "demo/demo.h"

static const char *const USAGE =
    "usage: posttrain demo [--out DIR] [--quick] [--fresh] [--seed S]\n"
    "\n"
    "The seed's story, offline, on this CPU: generate internet documents, train a tokenizer\n"
    "and a small base model on them (a document simulator), add the chat protocol's special\n"
    "tokens, write labeler-style conversations, fine-tune (SFT), and measure base vs SFT on\n"
    "held-out prompts. Writes everything under DIR (default demo-out): results.json,\n"
    "report.html, the models (base/, base_chat/, sft/). A re-run reuses finished stages.\n"
    "\n"
    "  --quick    a smaller run (about 2 minutes instead of 10)\n"
    "  --fresh    start over (removes DIR first)\n"
    "  --seed S   the seed of every generated thing (default 1)\n";

typedef struct {
    int tty;
} Ui;

static void log_line(void *ctx, const char *msg) {
    Ui *ui = ctx;
    fprintf(stderr, "%s%s\n", ui->tty ? "\r\033[K" : "", msg);
}

static void show(void *ctx, const char *text) {
    Ui *ui = ctx;
    if (ui->tty) fputs("\r\033[K", stderr);
    fputs(text, stderr);
}

static void progress(void *ctx, const TrainProgress *p) {
    Ui *ui = ctx;
    if (p->is_val) {
        fprintf(stderr, "%s   step %d/%d: validation loss %.4f\n", ui->tty ? "\r\033[K" : "",
                p->step, p->total, p->val_loss);
        return;
    }
    // On a terminal one line updates in place; in a log, every 10th step and the last.
    if (!ui->tty && p->step % 10 && p->step != p->total) return;
    fprintf(stderr, "%s   step %d/%d  loss %.4f  lr %.2e  %.0f tok/s  ETA %.0fs%s",
            ui->tty ? "\r\033[K" : "", p->step, p->total, p->loss, p->lr, p->tokens_per_s,
            isfinite(p->eta_s) ? p->eta_s : 0, ui->tty && p->step < p->total ? "" : "\n");
    fflush(stderr);
}

int cmd_demo(int argc, char **argv) {
    DemoOptions o = {.out_dir = "demo-out", .seed = 1};
    Ui ui = {.tty = isatty(2)};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(USAGE, stdout);
            return 0;
        } else if (!strcmp(a, "--quick")) {
            o.quick = true;
        } else if (!strcmp(a, "--fresh")) {
            o.fresh = true;
        } else if (!strcmp(a, "--out")) {
            if (!(o.out_dir = cli_value(argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--seed")) {
            const char *v = cli_value(argc, argv, &i);
            char *end;
            if (!v) return 2;
            o.seed = strtoull(v, &end, 10);
            if (*end || end == v) return cli_usage("demo", "--seed: expected an integer, got '%s'", v);
        } else {
            return cli_usage("demo", "unknown option '%s' (see posttrain demo --help)", a);
        }
    }
    o.log = log_line, o.progress = progress, o.show = show, o.ctx = &ui;
    Err e = {0};
    if (demo_run(&o, &e)) return cli_fail(&e);
    return 0;
}
