#include "cli/cli.h"
int cmd_render(int argc, char **argv) { return cli_usage("render", "not yet built"); }
