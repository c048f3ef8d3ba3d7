// main.c: the posttrain command line — dispatch to one file per command.
#include <stdarg.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *help;
} commands[] = {
    {"demo", cmd_demo, "the whole story offline: pretrain a tiny model, SFT it, measure base vs SFT"},
    {"tokenize", cmd_tokenize, "text on stdin -> token ids"},
    {"detokenize", cmd_detokenize, "token ids on stdin -> text"},
    {"render", cmd_render, "conversations (JSONL) -> tokens + loss mask, shown or as JSON"},
    {"tokenizer", cmd_tokenizer, "tokenizer tools: `tokenizer train` builds a BPE vocabulary"},
    {"convert", cmd_convert, "llama2.c / llm.c checkpoint -> HF model directory (config.json + safetensors)"},
    {"score", cmd_score, "the masked next-token loss (and log-probs, logits) of ids under a model"},
    {"train", cmd_train, "SFT / continued pretraining: masked next-token training of a model"},
    {"eval", cmd_eval, "masked loss, perplexity and token accuracy of a model on data"},
    {"data", cmd_data, "data sets: `data stats` counts what is in them, `data prepare` tokenizes them"},
    {"sample", cmd_sample, "continue a text with a model (the base model as a document simulator)"},
    {"chat", cmd_chat, "multi-turn chat with a model in the terminal (or one turn per stdin line)"},
    {"serve", cmd_serve, "OpenAI-compatible HTTP API with continuous batching, and a web chat page"},
    {"synth", cmd_synth, "synthetic conversations: a user model asks, an assistant model answers (local or API)"},
    {"label", cmd_label, "labeling store: projects, users, message trees, drafts, rankings; import/export"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: posttrain COMMAND [options]   (posttrain COMMAND --help for more)\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].help);
}

int cli_fail(const Err *e) {
    fprintf(stderr, "posttrain: error: %s\n", e->msg);
    if (getenv("POSTTRAIN_DEBUG") && e->src_file)
        fprintf(stderr, "  (raised at %s:%d)\n", e->src_file, e->src_line);
    return 1;
}

int cli_usage(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "posttrain %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return 2;
}

const char *cli_value(int argc, char **argv, int *i) {
    if (*i + 1 >= argc) {
        fprintf(stderr, "posttrain %s: option %s needs a value\n", argv[0], argv[*i]);
        return NULL;
    }
    return argv[++*i];
}

int cli_number(const char *cmd, const char *opt, const char *v, double lo, double hi, double *out) {
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (!*v || *end || errno || !isfinite(x) || x < lo || x > hi) {
        cli_usage(cmd, "%s: expected a number in [%g, %g], got '%s'", opt, lo, hi, v);
        return -1;
    }
    *out = x;
    return 0;
}

int cli_tok_option(TokOptions *o, const char *cmd, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    if (!strcmp(a, "--tokenizer") || !strcmp(a, "-t")) {
        return (o->spec = cli_value(argc, argv, i)) ? 1 : -1;
    } else if (!strcmp(a, "--vocab-dir")) {
        return (o->vocab_dir = cli_value(argc, argv, i)) ? 1 : -1;
    } else if (!strcmp(a, "--special")) {
        const char *v = cli_value(argc, argv, i);
        if (!v) return -1;
        if (o->n_specials == (int)(sizeof o->specials / sizeof *o->specials)) {
            cli_usage(cmd, "too many --special options");
            return -1;
        }
        o->specials[o->n_specials++] = v;
        return 1;
    }
    return 0;
}

Tokenizer *cli_tok_load(const TokOptions *o, const char *cmd) {
    if (!o->spec) {
        cli_usage(cmd, "--tokenizer SPEC is required (a .tiktoken file, tokenizer.json, "
                       "llama2.c .bin, model directory, or built-in name with --vocab-dir)");
        return NULL;
    }
    Err e = {0};
    Tokenizer *t;
    if (tok_load(&t, o->spec, o->vocab_dir, &e)) {
        cli_fail(&e);
        return NULL;
    }
    for (int k = 0; k < o->n_specials; k++) {
        // NAME=ID, or NAME alone for the next free id.
        char name[256];
        const char *s = o->specials[k], *eq = strrchr(s, '=');
        long id = -1;
        size_t n = eq ? (size_t)(eq - s) : strlen(s);
        if (eq) {
            char *end;
            id = strtol(eq + 1, &end, 10);
            if (*end || id < 0 || end == eq + 1) {
                cli_usage(cmd, "--special %s: expected NAME=ID with a non-negative integer ID", s);
                tok_free(t);
                return NULL;
            }
        }
        if (n == 0 || n >= sizeof name) {
            cli_usage(cmd, "--special %s: bad token name", s);
            tok_free(t);
            return NULL;
        }
        memcpy(name, s, n);
        name[n] = 0;
        if (tok_add_special(t, name, (int32_t)id, &e)) {
            cli_fail(&e);
            tok_free(t);
            return NULL;
        }
    }
    return t;
}

// OpenMP threads waiting at a barrier spin first (libgomp: ~300k iterations) and sleep
// only after. On a busy machine a spinning thread holds the core its partner needs, and
// small models — many short parallel regions — ran 3-20x slower than with a short spin.
// libgomp reads its environment before main, so the setting takes one re-exec of
// ourselves; an explicit OMP_WAIT_POLICY or GOMP_SPINCOUNT is left alone.
static void short_omp_spin(char **argv) {
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return;
    if (setenv("GOMP_SPINCOUNT", "1000", 1) == 0) execv("/proc/self/exe", argv);
    // exec failed (no /proc?): go on with libgomp's defaults
}

int main(int argc, char **argv) {
    short_omp_spin(argv);
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "posttrain: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
