// cmd_sample.c: `posttrain sample` — the base model as a document simulator: continue a
// text (or ids) with the inference engine, streaming the continuation.
//
//   posttrain sample --model DIR [--prompt TEXT | --prompt-ids 1,2,3] [-n N] [--temperature T]
//                    [--top-k K] [--top-p P] [--min-p P] [--repetition-penalty R] [--seed S]
//                    [--ids] [--bos | --no-bos] [--no-echo] [...]
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/sample_opts.h"
#include "infer/engine.h"
#include "util/buf.h"

static const char *help_head =
    "usage: posttrain sample --model DIR [--prompt TEXT | --prompt-ids 1,2,3] [options]\n"
    "  continues the prompt with the model and prints prompt + continuation to stdout as it\n"
    "  is generated; stops at EOS, a --stop string or -n tokens\n"
    "  --model DIR              config.json + model.safetensors + tokenizer files\n"
    "  --prompt TEXT            text to continue (may be empty with a BOS)\n"
    "  --prompt-ids LIST        token ids to continue, comma-separated (no BOS added)\n"
    "  --bos, --no-bos          with --prompt: put the tokenizer's BOS first, or not. Default:\n"
    "                           --bos for Llama and Qwen2 models whose tokenizer has one\n"
    "  --ids                    print the generated ids on one line, space-separated, instead\n"
    "                           of text (a final stop token such as EOS included)\n"
    "  --no-echo                print only the continuation, not the prompt\n";

static int parse_ids(const char *s, IntVec *out) {
    for (const char *p = s; *p;) {
        while (*p == ' ' || *p == ',') p++;
        if (!*p) break;
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || v < 0 || v > INT32_MAX || (*end && *end != ',' && *end != ' '))
            return cli_usage("sample", "--prompt-ids: bad id at '%.20s'", p);
        if (ivec_push(out, (int32_t)v)) return cli_usage("sample", "out of memory");
        p = end;
    }
    return 0;
}

typedef struct {
    bool ids;
} Stream;

static int on_token(void *ctx, const SeqEvent *ev) {
    const Stream *st = ctx;
    if (!st->ids && ev->text_len) {
        fwrite(ev->text, 1, ev->text_len, stdout);
        fflush(stdout);
    }
    return 0;
}

int cmd_sample(int argc, char **argv) {
    const char *dir = NULL, *prompt = NULL, *prompt_ids = NULL;
    int bos = -1;
    bool ids = false, echo = true;
    GenOptions go;
    gen_options_init(&go, 256);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = gen_option(&go, "sample", argc, argv, &i);
        if (r == 2) return 2;
        if (r == 1) continue;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("%s%s", help_head, gen_options_help);
            return 0;
        } else if (!strcmp(a, "--model")) {
            if (!(dir = cli_value(argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--prompt")) {
            if (!(prompt = cli_value(argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--prompt-ids")) {
            if (!(prompt_ids = cli_value(argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--bos")) {
            bos = 1;
        } else if (!strcmp(a, "--no-bos")) {
            bos = 0;
        } else if (!strcmp(a, "--ids")) {
            ids = true;
        } else if (!strcmp(a, "--no-echo")) {
            echo = false;
        } else {
            return cli_usage("sample", "unknown option '%s' (see --help)", a);
        }
    }
    if (!dir) return cli_usage("sample", "--model DIR is required");
    if (prompt && prompt_ids) return cli_usage("sample", "--prompt and --prompt-ids exclude each other");
    gen_options_finish(&go);

    Err e = {0};
    Engine *en;
    if (engine_open(&en, dir, &go.eo, &e)) return cli_fail(&e);
    const Tokenizer *t = engine_tokenizer(en);
    const ModelConfig *c = engine_model_config(en);
    IntVec pids = {0};
    int rc = 0;
    if (prompt_ids) {
        if ((rc = parse_ids(prompt_ids, &pids))) goto done;
    } else {
        if (bos < 0) bos = model_doc_bos(c, tok_bos_id(t));
        if (bos && tok_bos_id(t) < 0) {
            rc = cli_usage("sample", "--bos: the tokenizer has no BOS token");
            goto done;
        }
        const char *txt = prompt ? prompt : "";
        if (tok_encode(t, txt, strlen(txt), bos ? TOK_ADD_BOS : 0, &pids, &e)) {
            rc = cli_fail(&e);
            goto done;
        }
        // Nothing to condition on: start a document as GPT-2 does, from <|endoftext|>.
        if (pids.len == 0 && tok_eos_id(t) >= 0 && ivec_push(&pids, tok_eos_id(t))) goto done;
    }
    if (pids.len == 0) {
        rc = cli_usage("sample", "empty prompt and the tokenizer has no BOS or EOS to start from");
        goto done;
    }
    if (go.verbose)
        fprintf(stderr, "sample: %zu prompt tokens, temperature %g, top-k %d, top-p %g, min-p %g, "
                "seed %llu\n", pids.len, go.p.temperature, go.p.top_k, go.p.top_p, go.p.min_p,
                (unsigned long long)go.p.seed);
    if (echo && !ids && prompt) {
        fputs(prompt, stdout);
    } else if (echo && !ids) {
        // The prompt as text: its ordinary tokens' bytes (BOS and other specials left out).
        for (size_t i = 0; i < pids.len; i++) {
            size_t n = 0;
            const uint8_t *b = tok_token_bytes(t, pids.data[i], &n);
            if (b && !tok_is_special(t, pids.data[i]) && pids.data[i] != tok_bos_id(t))
                fwrite(b, 1, n, stdout);
        }
        fflush(stdout);
    }
    Stream st = {ids};
    EngineStops stops = {go.stops, go.n_stops, NULL, 0};
    GenResult res;
    if (engine_generate(en, pids.data, (int)pids.len, &go.p, &stops, on_token, &st, &res, &e)) {
        rc = cli_fail(&e);
        goto done;
    }
    if (ids)
        for (int i = 0; i < res.n_generated; i++) printf(i ? " %d" : "%d", res.ids.data[i]);
    printf("\n");
    fflush(stdout);
    if (go.verbose || isatty(2)) {
        gen_report_speed(stderr, res.n_prompt, res.n_generated, res.prefill_s, res.decode_s);
        if (go.verbose) fprintf(stderr, "finish: %s\n", finish_reason_name(res.finish));
    }
    gen_result_free(&res);
done:
    ivec_free(&pids);
    engine_close(en);
    return rc;
}
