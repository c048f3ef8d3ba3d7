// sample_opts.h: the generation options `sample` and `chat` share — sampling settings,
// engine settings, and reporting speed.
#ifndef PT_CLI_SAMPLE_OPTS_H
#define PT_CLI_SAMPLE_OPTS_H

#include <stdbool.h>
#include <stdio.h>

#include "infer/engine.h"

typedef struct {
    SampleParams p;
    EngineOptions eo;
    bool seed_set;
    bool verbose;
    const char *stops[16];  // --stop, repeatable
    int n_stops;
} GenOptions;

// Defaults: temperature 1, top-p 1 (off), no penalties, max_tokens = dflt_n.
void gen_options_init(GenOptions *o, int dflt_n);

// Consumes argv[*i] if it is one of the shared options (advancing *i past its value):
// returns 1, 0 when it is not one, 2 after printing a usage error.
//   -n N | --max-tokens N, --temperature T, --top-k K, --top-p P, --min-p P,
//   --repetition-penalty R, --frequency-penalty F, --presence-penalty P, --seed S,
//   --stop TEXT, --ignore-eos, --threads N, --ctx N, --tokenizer SPEC, --verbose
int gen_option(GenOptions *o, const char *cmd, int argc, char **argv, int *i);

// The help lines of those options.
extern const char *gen_options_help;

// A seed from the clock when none was given (printed with --verbose).
void gen_options_finish(GenOptions *o);

// "N tokens, prefill X tok/s, decode Y tok/s" on f.
void gen_report_speed(FILE *f, int n_prompt, int n_gen, double prefill_s, double decode_s);

#endif
