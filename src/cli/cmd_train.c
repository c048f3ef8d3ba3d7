// cmd_train.c: `posttrain train` — options in, train_run (src/train/trainer.c), progress out.
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "train/trainer.h"

static const char *const USAGE =
    "usage: posttrain train --model DIR --data DIR|FILE... --out DIR [options]\n"
    "\n"
    "Trains the model further with the next-token loss: on the assistant tokens of\n"
    "conversations (--objective sft, the default) or on every token (pretrain).\n"
    "--data takes a directory from `posttrain data prepare`, or data files (any format of\n"
    "`posttrain data stats`: OpenAI/ShareGPT/Alpaca/... JSONL, {\"ids\",\"mask\"} lines, text).\n"
    "\n"
    "  --steps N            optimizer steps (default: --epochs over the data)\n"
    "  --epochs N           passes over the data (default 1)\n"
    "  --batch-size B       rows per micro-batch (default 4)\n"
    "  --grad-accum A       micro-batches per optimizer step (default 1)\n"
    "  --seq-len T          tokens per row (default 1024)\n"
    "  --lr LR              peak learning rate (default 2e-5)\n"
    "  --min-lr LR          floor of the decay (default 0)\n"
    "  --warmup N           linear warmup steps (default 0)\n"
    "  --schedule S         constant|linear|cosine (default constant)\n"
    "  --weight-decay WD    AdamW decay of the matrices (default 0)\n"
    "  --beta1 B --beta2 B --eps E   AdamW (default 0.9, 0.95, 1e-8)\n"
    "  --clip C             global gradient-norm limit, 0 = off (default 1)\n"
    "  --seed S             shuffling seed (default 0)\n"
    "  --no-pack            one conversation per row, padded (default: packed, attention\n"
    "                       kept within each conversation)\n"
    "  --no-shuffle         rows in data order\n"
    "  --objective O        sft|pretrain (default sft)\n"
    "  --template NAME      gpt4o|chatml|llama3 (default: the prepared data's, else gpt4o)\n"
    "  --tokenizer SPEC     (default: the model directory's) --vocab-dir DIR\n"
    "  --val-data FILE      validation files (a prepared directory brings its own split)\n"
    "  --eval-every N       validation loss every N steps (default: at the end)\n"
    "  --eval-batches N     micro-batches per validation (default: the whole split)\n"
    "  --save-every N       checkpoint every N steps (default: at the end)\n"
    "  --resume DIR         continue from a checkpoint (or OUT's latest) bit-identically\n"
    "  --dtype fp32|bf16    the final model's weights (default fp32)\n"
    "  --format NAME, --skip-bad   as in `posttrain data stats`\n"
    "  --quiet              no progress lines\n"
    "\n"
    "Writes OUT/{config.json,model.safetensors,tokenizer files}, OUT/metrics.jsonl,\n"
    "OUT/loss.svg, OUT/checkpoints/ and OUT/best/. Ctrl-C writes a checkpoint and stops.\n";

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig) { stop_flag = sig; }

static void fmt_time(char *out, size_t n, double s) {
    if (!isfinite(s) || s < 0) s = 0;
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(out, n, "%ldh%02ldm", t / 3600, t / 60 % 60);
    else if (t >= 60) snprintf(out, n, "%ldm%02lds", t / 60, t % 60);
    else snprintf(out, n, "%lds", t);
}

typedef struct {
    int quiet, tty;
} Ui;

static void progress(void *ctx, const TrainProgress *p) {
    Ui *ui = ctx;
    if (ui->quiet) return;
    char el[32], eta[32];
    fmt_time(el, sizeof el, p->elapsed_s);
    fmt_time(eta, sizeof eta, p->eta_s);
    if (p->is_val) {
        fprintf(stderr, "%sstep %d/%d | val loss %.4f\n", ui->tty ? "\r\033[K" : "", p->step,
                p->total, p->val_loss);
        return;
    }
    fprintf(stderr, "%sstep %d/%d | loss %.4f | lr %.2e | norm %.3f | %.0f tok/s | %s | ETA %s%s",
            ui->tty ? "\r\033[K" : "", p->step, p->total, p->loss, p->lr, p->grad_norm,
            p->tokens_per_s, el, eta, ui->tty && p->step < p->total ? "" : "\n");
    fflush(stderr);
}

static void log_line(void *ctx, const char *msg) {
    Ui *ui = ctx;
    if (ui->quiet) return;
    fprintf(stderr, "%s%s\n", ui->tty ? "\r\033[K" : "", msg);
}

static int parse_int(const char *cmd, const char *opt, const char *v, int min, int *out) {
    char *end;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || *end || end == v || x < min || x > 1000000000)
        return cli_usage(cmd, "%s: expected an integer >= %d, got '%s'", opt, min, v ? v : "");
    *out = (int)x;
    return 0;
}

static int parse_double(const char *cmd, const char *opt, const char *v, double *out) {
    char *end;
    double x = v ? strtod(v, &end) : 0;
    if (!v || *end || end == v || !isfinite(x))
        return cli_usage(cmd, "%s: expected a number, got '%s'", opt, v ? v : "");
    *out = x;
    return 0;
}

int cmd_train(int argc, char **argv) {
    const char *cmd = "train";
    TrainOptions o;
    train_options_default(&o);
    const char **data = calloc(argc, sizeof *data), **val = calloc(argc, sizeof *val);
    if (!data || !val) return 1;
    Ui ui = {.tty = isatty(2)};
    int rc = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        double d = 0;
        int k = 0;
#define VALUE() (cli_value(argc, argv, &i))
#define INT(dst, min) \
    if (parse_int(cmd, a, VALUE(), min, &k)) goto out; \
    dst = k
#define DBL(dst) \
    if (parse_double(cmd, a, VALUE(), &d)) goto out; \
    dst = d
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(USAGE, stdout);
            rc = 0;
            goto out;
        } else if (!strcmp(a, "--model")) {
            if (!(o.model_dir = VALUE())) goto out;
        } else if (!strcmp(a, "--out")) {
            if (!(o.out_dir = VALUE())) goto out;
        } else if (!strcmp(a, "--data") || !strcmp(a, "--val-data")) {
            const char **list = a[2] == 'd' ? data : val;
            int *n = a[2] == 'd' ? &o.n_data : &o.n_val;
            if (!(list[(*n)++] = VALUE())) goto out;
            while (i + 1 < argc && argv[i + 1][0] != '-') list[(*n)++] = argv[++i];
        } else if (!strcmp(a, "--resume")) {
            if (!(o.resume = VALUE())) goto out;
        } else if (!strcmp(a, "--tokenizer")) {
            if (!(o.tokenizer = VALUE())) goto out;
        } else if (!strcmp(a, "--vocab-dir")) {
            if (!(o.vocab_dir = VALUE())) goto out;
        } else if (!strcmp(a, "--template")) {
            if (!(o.template_name = VALUE())) goto out;
        } else if (!strcmp(a, "--steps")) {
            INT(o.steps, 1);
        } else if (!strcmp(a, "--epochs")) {
            DBL(o.epochs);
            if (!(o.epochs > 0)) {
                cli_usage(cmd, "--epochs must be > 0");
                goto out;
            }
        } else if (!strcmp(a, "--batch-size")) {
            INT(o.batch, 1);
        } else if (!strcmp(a, "--grad-accum")) {
            INT(o.grad_accum, 1);
        } else if (!strcmp(a, "--seq-len")) {
            INT(o.seq_len, 2);
        } else if (!strcmp(a, "--lr")) {
            DBL(o.sched.lr);
        } else if (!strcmp(a, "--min-lr")) {
            DBL(o.sched.min_lr);
        } else if (!strcmp(a, "--warmup")) {
            INT(o.sched.warmup, 0);
        } else if (!strcmp(a, "--schedule")) {
            const char *v = VALUE();
            if (!v) goto out;
            int s = schedule_parse(v);
            if (s < 0) {
                cli_usage(cmd, "--schedule: expected constant|linear|cosine, got '%s'", v);
                goto out;
            }
            o.sched.kind = (ScheduleKind)s;
        } else if (!strcmp(a, "--weight-decay")) {
            DBL(o.adam.weight_decay);
        } else if (!strcmp(a, "--beta1")) {
            DBL(o.adam.beta1);
        } else if (!strcmp(a, "--beta2")) {
            DBL(o.adam.beta2);
        } else if (!strcmp(a, "--eps")) {
            DBL(o.adam.eps);
        } else if (!strcmp(a, "--clip")) {
            DBL(o.adam.clip);
        } else if (!strcmp(a, "--seed")) {
            const char *v = VALUE();
            char *end;
            if (!v) goto out;
            o.seed = strtoull(v, &end, 10);
            if (*end || end == v) {
                cli_usage(cmd, "--seed: expected a non-negative integer, got '%s'", v);
                goto out;
            }
        } else if (!strcmp(a, "--no-pack")) {
            o.pack = false;
        } else if (!strcmp(a, "--no-shuffle")) {
            o.shuffle = false;
        } else if (!strcmp(a, "--objective")) {
            const char *v = VALUE();
            if (!v) goto out;
            if (!strcmp(v, "sft")) o.objective = OBJ_SFT;
            else if (!strcmp(v, "pretrain")) o.objective = OBJ_PRETRAIN;
            else {
                cli_usage(cmd, "--objective: expected sft|pretrain, got '%s'", v);
                goto out;
            }
        } else if (!strcmp(a, "--save-every")) {
            INT(o.save_every, 0);
        } else if (!strcmp(a, "--eval-every")) {
            INT(o.eval_every, 0);
        } else if (!strcmp(a, "--eval-batches")) {
            INT(o.eval_batches, 0);
        } else if (!strcmp(a, "--dtype")) {
            const char *v = VALUE();
            if (!v) goto out;
            if (!strcmp(v, "fp32") || !strcmp(v, "f32")) o.dtype = ST_F32;
            else if (!strcmp(v, "bf16")) o.dtype = ST_BF16;
            else {
                cli_usage(cmd, "--dtype: expected fp32 or bf16, got '%s'", v);
                goto out;
            }
        } else if (!strcmp(a, "--format")) {
            const char *v = VALUE();
            if (!v) goto out;
            int f = data_format_parse(v);
            if (f < 0) {
                cli_usage(cmd, "--format: unknown format '%s'", v);
                goto out;
            }
            o.reader.format = (DataFormat)f;
        } else if (!strcmp(a, "--skip-bad")) {
            o.reader.skip_bad = true;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            ui.quiet = 1;
        } else {
            cli_usage(cmd, "unknown option '%s' (see posttrain train --help)", a);
            goto out;
        }
#undef VALUE
#undef INT
#undef DBL
    }
    if (!o.model_dir && !o.resume) {
        cli_usage(cmd, "--model DIR is required");
        goto out;
    }
    if (!o.out_dir || !o.n_data) {
        cli_usage(cmd, "--out DIR and --data are required");
        goto out;
    }
    if (!o.model_dir) o.model_dir = o.resume;
    o.data = data, o.val_data = val;
    o.adam.lr = (float)o.sched.lr;
    o.stop = &stop_flag;
    o.progress = progress, o.log = log_line, o.ctx = &ui;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    Err e = {0};
    int r = train_run(&o, &e);
    if (r < 0) {
        rc = cli_fail(&e);
    } else if (r == 1) {
        fprintf(stderr, "\nstopped by signal %d: checkpoint written; continue with --resume %s\n",
                (int)stop_flag, o.out_dir);
        rc = 128 + (int)stop_flag;
    } else {
        rc = 0;
    }
out:
    free(data);
    free(val);
    return rc;
}
