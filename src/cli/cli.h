// cli.h: what the command files share: option parsing helpers and error printing.
// Only src/cli prints or exits; library code returns Err.
#ifndef PT_CLI_H
#define PT_CLI_H

#include <stdbool.h>

#include "tok/tok.h"
#include "util/err.h"

// Each command: argv[0] is the command name.
int cmd_demo(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_detokenize(int argc, char **argv);
int cmd_render(int argc, char **argv);
int cmd_tokenizer(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_data(int argc, char **argv);          // data stats (cmd_data.c), data prepare:
int cmd_data_prepare(int argc, char **argv);  // cmd_data_prepare.c
int cmd_sample(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_label(int argc, char **argv);

// Prints "posttrain: <msg>" to stderr (plus our source location with POSTTRAIN_DEBUG set)
// and returns 1, so commands can `return cli_fail(&e)`.
int cli_fail(const Err *e);
// Prints "posttrain CMD: <message>" for a usage error and returns 2.
int cli_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

// Takes the value of option argv[*i] (advancing *i); NULL with a usage message if missing.
const char *cli_value(int argc, char **argv, int *i);
// v as a finite number in [lo, hi] into *out: 0, or -1 after a usage message naming opt.
int cli_number(const char *cmd, const char *opt, const char *v, double lo, double hi, double *out);

// Options every tokenizer-using command takes: --tokenizer SPEC, --vocab-dir DIR,
// --special NAME=ID (repeatable). cli_tok_option consumes one of them if argv[*i] is one
// (returns 1), returns 0 if not, -1 on a usage error.
typedef struct {
    const char *spec;
    const char *vocab_dir;
    const char *specials[64];
    int n_specials;
} TokOptions;
int cli_tok_option(TokOptions *o, const char *cmd, int argc, char **argv, int *i);
// Loads the tokenizer and adds --special tokens; prints the error and returns NULL on failure.
Tokenizer *cli_tok_load(const TokOptions *o, const char *cmd);

#endif
