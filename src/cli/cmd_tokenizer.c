// cmd_tokenizer.c: `posttrain tokenizer SUBCOMMAND`:
//
//   posttrain tokenizer train --vocab-size N [--pattern NAME|REGEX] [--special TOKEN]...
//                             [--min-frequency K] [--threads T] --out tokenizer.json FILES...
//   posttrain tokenizer export --tokenizer SPEC [--vocab-dir D] [--special NAME=ID]...
//                              --template NAME --out DIR          (not in the help yet)
//
// train parses options, calls the trainer (src/tok/train.h), writes the tokenizer.json and
// reports on stderr (a progress line too when stderr is a terminal). export adds the
// template's special tokens and writes the Hugging Face tokenizer files + chat template
// into DIR (src/chat/export.h), as a trained model directory carries them.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "chat/export.h"
#include "cli/cli.h"
#include "tok/train.h"

static const char *train_help =
    "usage: posttrain tokenizer train --vocab-size N --out tokenizer.json [options] FILES...\n"
    "  Learns a byte-level BPE vocabulary from UTF-8 text files (\"-\" is stdin) and writes\n"
    "  a Hugging Face tokenizer.json (vocab = 256 bytes + merges + specials).\n"
    "  --vocab-size N       total ids, special tokens included (at least 256 + specials)\n"
    "  --out PATH           where to write tokenizer.json (atomically)\n"
    "  --pattern P          split regex, or a built-in encoding name whose regex to use\n"
    "                       (gpt2, cl100k_base, o200k_base; default o200k_base)\n"
    "  --special TOKEN      a special token, ids after the merges (repeatable); its\n"
    "                       spelling in the corpus is cut out before counting\n"
    "  --min-frequency K    never merge a pair seen fewer than K times (default 2)\n"
    "  --threads T          threads for splitting and counting (default: all cores)\n";

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void show_progress(void *ctx, BpeStage stage, int64_t done, int64_t total) {
    (void)ctx;
    const char *what = stage == BPE_STAGE_COUNT ? "counting pieces" : "learning merges";
    fprintf(stderr, "\r\033[K%s: %lld/%lld", what, (long long)done, (long long)total);
    if (done == total || stage == BPE_STAGE_MERGE) fflush(stderr);
}

static int parse_int(const char *cmd, const char *opt, const char *v, long long min, long long *out) {
    char *end;
    long long x = v ? strtoll(v, &end, 10) : 0;
    if (!v || !*v || *end || x < min || x > INT32_MAX)
        return cli_usage(cmd, "%s needs an integer ≥ %lld", opt, min);
    *out = x;
    return 0;
}

static int tokenizer_train(int argc, char **argv) {
    const char *cmd = "tokenizer train", *out_path = NULL, *pattern = NULL;
    const char **specials = calloc((size_t)argc + 1, sizeof *specials);
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    int n_specials = 0, n_files = 0, rc = 0;
    long long vocab = -1, min_freq = 2, threads = 0;
    for (int i = 1; i < argc && !rc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(train_help, stdout);
            goto done;
        } else if (!strcmp(a, "--vocab-size")) {
            rc = parse_int(cmd, a, cli_value(argc, argv, &i), 1, &vocab);
        } else if (!strcmp(a, "--min-frequency")) {
            rc = parse_int(cmd, a, cli_value(argc, argv, &i), 0, &min_freq);
        } else if (!strcmp(a, "--threads")) {
            rc = parse_int(cmd, a, cli_value(argc, argv, &i), 1, &threads);
        } else if (!strcmp(a, "--out") || !strcmp(a, "-o")) {
            if (!(out_path = cli_value(argc, argv, &i))) rc = 2;
        } else if (!strcmp(a, "--pattern")) {
            if (!(pattern = cli_value(argc, argv, &i))) rc = 2;
        } else if (!strcmp(a, "--special")) {
            if (!(specials[n_specials++] = cli_value(argc, argv, &i))) rc = 2;
        } else if (a[0] == '-' && a[1]) {
            rc = cli_usage(cmd, "unknown option %s\n%s", a, train_help);
        } else {
            files[n_files++] = a;
        }
    }
    if (!rc && (vocab < 0 || !out_path || !n_files))
        rc = cli_usage(cmd, "--vocab-size, --out and at least one file are required\n%s", train_help);
    if (rc) goto done;

    BpeTrainOptions o = {.vocab_size = (int32_t)vocab, .pattern = pattern, .specials = specials,
                         .n_specials = n_specials, .min_frequency = min_freq,
                         .threads = (int)threads,
                         .progress = isatty(2) ? show_progress : NULL};
    BpeVocab v;
    Err e = {0};
    double t0 = now_s();
    if (bpe_train_files(&o, files, n_files, &v, &e) || bpe_vocab_save(&v, out_path, &e)) {
        if (o.progress) fputc('\n', stderr);
        rc = cli_fail(&e);
        goto done;
    }
    if (o.progress) fputc('\n', stderr);
    fprintf(stderr, "posttrain tokenizer: %d ids (%d merges, %d special) from %.1f MB, "
            "%lld pieces (%lld distinct), %.2f s -> %s\n", bpe_vocab_size(&v), v.n_merges,
            v.n_specials, v.n_bytes / 1e6, (long long)v.n_pieces, (long long)v.n_distinct,
            now_s() - t0, out_path);
    if (bpe_vocab_size(&v) < vocab)
        fprintf(stderr, "posttrain tokenizer: note: stopped at %d of %lld ids: no pair left that "
                "occurs %lld times or more\n", bpe_vocab_size(&v), vocab, min_freq);
    bpe_vocab_free(&v);
done:
    free(specials);
    free(files);
    return rc;
}

static int tokenizer_export(int argc, char **argv) {
    const char *cmd = "tokenizer export", *out_dir = NULL, *tname = NULL;
    TokOptions o = {0};
    for (int i = 1; i < argc; i++) {
        int r = cli_tok_option(&o, cmd, argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        if (!strcmp(argv[i], "--template")) {
            if (!(tname = cli_value(argc, argv, &i))) return 2;
        } else if (!strcmp(argv[i], "--out") || !strcmp(argv[i], "-o")) {
            if (!(out_dir = cli_value(argc, argv, &i))) return 2;
        } else {
            return cli_usage(cmd, "unknown argument %s", argv[i]);
        }
    }
    if (!o.spec || !tname || !out_dir)
        return cli_usage(cmd, "usage: posttrain tokenizer export --tokenizer SPEC [--vocab-dir D] "
                         "--template %s --out DIR", chat_template_names());
    const ChatTemplate *tpl = chat_template_find(tname);
    if (!tpl) return cli_usage(cmd, "--template: unknown template %s (known: %s)", tname,
                               chat_template_names());
    Tokenizer *t = cli_tok_load(&o, cmd);
    if (!t) return 1;
    Err e = {0};
    const ChatTemplate *back = NULL;
    int rc = 0;
    if (chat_prepare_tokenizer(t, tpl, &e) || chat_export_tokenizer(t, o.spec, tpl, out_dir, &e) ||
        chat_template_from_dir(out_dir, &back, &e))
        rc = cli_fail(&e);
    else
        fprintf(stderr, "posttrain tokenizer: %s: %d ids, template %s, stop token %s = %d\n",
                out_dir, tok_vocab_size(t), back->name, tpl->end, tok_special_id(t, tpl->end));
    tok_free(t);
    return rc;
}

int cmd_tokenizer(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "export")) {
        argv[1] = (char *)"tokenizer export";
        return tokenizer_export(argc - 1, argv + 1);
    }
    if (argc >= 2 && !strcmp(argv[1], "train")) {
        argv[1] = (char *)"tokenizer train";  // cli_value names the command by argv[0]
        return tokenizer_train(argc - 1, argv + 1);
    }
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        puts("usage: posttrain tokenizer train ...   (posttrain tokenizer train --help)");
        return 0;
    }
    return cli_usage("tokenizer", "expected a subcommand: train (see posttrain tokenizer train "
                     "--help)");
}
