// sample_opts.c: the generation options of `sample` and `chat` (sample_opts.h).
#include "cli/sample_opts.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

const char *gen_options_help =
    "  -n, --max-tokens N       most tokens to generate (the context limits it too)\n"
    "  --temperature T          0: greedy (argmax); default 1\n"
    "  --top-k K                keep the K most likely tokens (0: all, the default)\n"
    "  --top-p P                nucleus: the smallest set holding mass P (1: off)\n"
    "  --min-p P                drop tokens less likely than P times the most likely (0: off)\n"
    "  --repetition-penalty R   divide a positive logit (multiply a negative one) of tokens\n"
    "                           already in the prompt or output by R (1: off)\n"
    "  --frequency-penalty F    logit -= F x times the token was generated (0: off)\n"
    "  --presence-penalty P     logit -= P if the token was generated (0: off)\n"
    "  --seed S                 sampling seed (default: from the clock); the same seed and\n"
    "                           settings give the same text\n"
    "  --stop TEXT              stop before TEXT (repeatable; matched across tokens)\n"
    "  --ignore-eos             don't stop at EOS / end-of-turn tokens\n"
    "  --threads N              OpenMP threads (default: all cores)\n"
    "  --ctx N                  tokens per sequence, prompt + output (default: the model's\n"
    "                           max_position, at most 2048)\n"
    "  --tokenizer SPEC         tokenizer instead of the model directory's\n"
    "  --verbose                print settings and speed to stderr\n";

void gen_options_init(GenOptions *o, int dflt_n) {
    memset(o, 0, sizeof *o);
    sample_params_default(&o->p);
    o->p.max_tokens = dflt_n;
    engine_options_default(&o->eo);
}

int gen_option(GenOptions *o, const char *cmd, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    if (!strcmp(a, "--ignore-eos")) return o->p.ignore_eos = true, 1;
    if (!strcmp(a, "--verbose")) return o->verbose = true, 1;
    static const char *valued[] = {"-n", "--max-tokens", "--temperature", "--top-k", "--top-p",
                                   "--min-p", "--repetition-penalty", "--frequency-penalty",
                                   "--presence-penalty", "--seed", "--stop", "--threads", "--ctx",
                                   "--tokenizer"};
    size_t k = 0, nv = sizeof valued / sizeof *valued;
    while (k < nv && strcmp(a, valued[k])) k++;
    if (k == nv) return 0;
    const char *v = cli_value(argc, argv, i);
    if (!v) return 2;
    double x = 0;
    if (!strcmp(a, "--stop")) {
        if (o->n_stops == (int)(sizeof o->stops / sizeof *o->stops))
            return cli_usage(cmd, "too many --stop options"), 2;
        o->stops[o->n_stops++] = v;
    } else if (!strcmp(a, "--tokenizer")) {
        o->eo.tokenizer = v;
    } else if (!strcmp(a, "-n") || !strcmp(a, "--max-tokens")) {
        if (cli_number(cmd, a, v, 1, 1e9, &x)) return 2;
        o->p.max_tokens = (int)x;
    } else if (!strcmp(a, "--temperature")) {
        if (cli_number(cmd, a, v, 0, 100, &x)) return 2;
        o->p.temperature = (float)x;
    } else if (!strcmp(a, "--top-k")) {
        if (cli_number(cmd, a, v, 0, 1e9, &x)) return 2;
        o->p.top_k = (int)x;
    } else if (!strcmp(a, "--top-p")) {
        if (cli_number(cmd, a, v, 0, 1, &x)) return 2;
        o->p.top_p = (float)x;
    } else if (!strcmp(a, "--min-p")) {
        if (cli_number(cmd, a, v, 0, 1, &x)) return 2;
        o->p.min_p = (float)x;
    } else if (!strcmp(a, "--repetition-penalty")) {
        if (cli_number(cmd, a, v, 1e-3, 100, &x)) return 2;
        o->p.repetition_penalty = (float)x;
    } else if (!strcmp(a, "--frequency-penalty")) {
        if (cli_number(cmd, a, v, -2, 2, &x)) return 2;
        o->p.frequency_penalty = (float)x;
    } else if (!strcmp(a, "--presence-penalty")) {
        if (cli_number(cmd, a, v, -2, 2, &x)) return 2;
        o->p.presence_penalty = (float)x;
    } else if (!strcmp(a, "--seed")) {
        char *end;
        errno = 0;
        unsigned long long s = strtoull(v, &end, 10);
        if (!*v || *end || errno || *v == '-')
            return cli_usage(cmd, "--seed: expected a non-negative integer, got '%s'", v), 2;
        o->p.seed = s;
        o->seed_set = true;
    } else if (!strcmp(a, "--threads")) {
        if (cli_number(cmd, a, v, 1, 4096, &x)) return 2;
        o->eo.threads = (int)x;
    } else if (!strcmp(a, "--ctx")) {
        if (cli_number(cmd, a, v, 2, 1 << 24, &x)) return 2;
        o->eo.ctx = (int)x;
    }
    return 1;
}

void gen_options_finish(GenOptions *o) {
    if (!o->seed_set) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        o->p.seed = (uint64_t)ts.tv_sec * 1000000007ULL ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 32;
    }
}

void gen_report_speed(FILE *f, int n_prompt, int n_gen, double prefill_s, double decode_s) {
    // The first generated token comes out of the prefill step; the rest are decode steps.
    fprintf(f, "%d prompt + %d generated tokens: prefill %.1f tok/s (%.3f s), decode %.1f tok/s\n",
            n_prompt, n_gen, prefill_s > 0 ? n_prompt / prefill_s : 0.0, prefill_s,
            decode_s > 0 && n_gen > 1 ? (n_gen - 1) / decode_s : 0.0);
}
