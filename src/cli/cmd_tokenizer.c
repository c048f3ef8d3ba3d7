#include "cli/cli.h"
int cmd_tokenizer(int argc, char **argv) { return cli_usage("tokenizer", "not yet built"); }
