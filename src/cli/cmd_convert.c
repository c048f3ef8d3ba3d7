// cmd_convert.c: `posttrain convert` — a llama2.c or llm.c checkpoint into the HF layout.
//
//   posttrain convert IN OUT_DIR [--dtype f32|bf16] [--tokenizer FILE]
// The input's format is told by its header (src/model/import.h). OUT_DIR gets config.json
// and model.safetensors, and with --tokenizer a copy of FILE as tokenizer.bin, so that the
// directory alone is enough for every model command (tok_load reads tokenizer.bin there).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "model/import.h"
#include "util/file.h"

static const char *help =
    "usage: posttrain convert IN OUT_DIR [--dtype f32|bf16] [--tokenizer FILE]\n"
    "  IN               a llama2.c checkpoint (.bin, version 0) or an llm.c gpt2_*.bin\n"
    "  OUT_DIR          created if needed; gets config.json and model.safetensors\n"
    "  --dtype f32|bf16 the tensors' type in model.safetensors (default f32)\n"
    "  --tokenizer FILE a llama2.c tokenizer (tokenizer.bin, tok512.bin), copied to\n"
    "                   OUT_DIR/tokenizer.bin\n";

// Copies the tokenizer file into dir as tokenizer.bin.
static int copy_tokenizer(const char *src, const char *dir, Err *e) {
    char path[4200], *data;
    size_t len;
    if (path_join(path, sizeof path, dir, "tokenizer.bin", e) || file_read_all(src, &data, &len, e))
        return -1;
    int rc = file_write_atomic(path, data, len, e);
    free(data);
    return rc;
}

int cmd_convert(int argc, char **argv) {
    const char *in = NULL, *out = NULL, *tok = NULL, *dtype_name = "f32";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--dtype")) {
            if (!(dtype_name = cli_value(argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--tokenizer") || !strcmp(a, "-t")) {
            if (!(tok = cli_value(argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(help, stdout);
            return 0;
        } else if (a[0] == '-' && a[1]) return cli_usage("convert", "unknown option %s\n%s", a, help);
        else if (!in) in = a;
        else if (!out) out = a;
        else return cli_usage("convert", "unexpected argument %s\n%s", a, help);
    }
    if (!in || !out) return cli_usage("convert", "needs IN and OUT_DIR\n%s", help);
    StDtype dtype;
    if (!strcmp(dtype_name, "f32")) dtype = ST_F32;
    else if (!strcmp(dtype_name, "bf16")) dtype = ST_BF16;
    else return cli_usage("convert", "--dtype %s: expected f32 or bf16", dtype_name);

    Err e = {0};
    ImportedModel m;
    if (import_any(&m, in, &e)) return cli_fail(&e);
    int rc = 0;
    if (import_save(&m, out, dtype, &e) || (tok && copy_tokenizer(tok, out, &e))) {
        rc = cli_fail(&e);
    } else {
        const ModelConfig *c = &m.cfg;
        printf("%s %s -> %s: %zu parameters (L=%d C=%d H=%d V=%d%s), %s, %s%s\n",
               import_format_name(m.format), in, model_arch_name(c->arch), m.n_params, c->n_layer,
               c->hidden_size, c->n_head, c->vocab_size, c->tied ? ", tied head" : "",
               dtype == ST_BF16 ? "bf16" : "f32", out, tok ? " (+ tokenizer.bin)" : "");
    }
    import_free(&m);
    return rc;
}
