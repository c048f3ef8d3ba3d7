// cmd_serve.c: `posttrain serve` — the OpenAI-compatible HTTP server and web chat page
// (src/serve/server.h) over one model, until SIGINT or SIGTERM.
//
//   posttrain serve --model DIR [--host 127.0.0.1] [--port 8080] [--api-key KEY]
//                   [--parallel N] [--ctx N] [--label DB] [...]
//   posttrain serve --label DB [...]          (the labeling app alone, no model)
// SIGINT/SIGTERM are blocked in every thread and taken by sigwait here, so no handler
// runs inside the engine or libmicrohttpd: the server stops accepting, lets running
// replies finish (--grace seconds), fails queued ones with 503, and exits 0.
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "infer/engine.h"
#include "serve/server.h"
#include "synth/remote.h"

static const char *help =
    "usage: posttrain serve --model DIR [--label DB] [options]\n"
    "       posttrain serve --label DB [--draft-api-base URL] [options]\n"
    "  OpenAI-compatible API (/v1/chat/completions, /v1/completions, /v1/models) with\n"
    "  continuous batching, /health, /tokenize, /detokenize, /apply-template, and a web chat\n"
    "  page at http://HOST:PORT/ (see docs/serve.md)\n"
    "  --model DIR        model directory (config.json + safetensors + tokenizer)\n"
    "  --host ADDR        address to listen on (default 127.0.0.1; 0.0.0.0 or :: for all)\n"
    "  --port N           TCP port (default 8080; 0 picks a free one, printed at start)\n"
    "  --api-key KEY      require \"Authorization: Bearer KEY\" (default: $POSTTRAIN_API_KEY,\n"
    "                     else none); the page and /health stay open\n"
    "  --parallel N       sequences decoded together, each with its own KV cache (default 4);\n"
    "                     more requests wait in a queue\n"
    "  --ctx N            tokens per sequence, prompt + reply (default: the model's, at most 2048)\n"
    "  --name NAME        the model's name in the API (default: DIR's last component)\n"
    "  --template NAME    chat template gpt4o|chatml|llama3 (default: the model directory's)\n"
    "  --tokenizer SPEC   tokenizer (default: the model directory's); --vocab-dir DIR\n"
    "  --threads N        CPU threads for the model (default: all)\n"
    "  --max-body BYTES   largest request body (default 8388608; 413 above)\n"
    "  --max-queue N      most requests waiting for a slot (default 1024; 503 above)\n"
    "  --grace SECONDS    on SIGINT/SIGTERM, how long running replies may finish (default 10)\n"
    "  --quiet            no access log\n"
    "  --label DB         also serve the labeling app at /label/ on DB (posttrain label init DB;\n"
    "                     see docs/label.md); with --model its model drafts replies to edit\n"
    "  --draft-api-base URL --draft-model NAME  draft with that model of an OpenAI-compatible\n"
    "                     API instead (--draft-api-key-env VAR names the variable holding its key)\n"
    "  --secure-cookie    mark the labeling session cookie Secure (behind an HTTPS proxy)\n";

static void log_line(void *ctx, const char *line) {
    (void)ctx;
    fprintf(stderr, "%s\n", line);
}

static int int_opt(const char *v, const char *name, long lo, long hi, long *out) {
    char *end;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || *end || end == v || x < lo || x > hi)
        return cli_usage("serve", "%s: expected an integer in [%ld, %ld], got '%s'", name, lo, hi, v ? v : "");
    *out = x;
    return 0;
}

// The model's name: DIR's last path component ("models/stories/" -> "stories").
static void dir_name(const char *dir, char *out, size_t cap) {
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/') n--;
    size_t b = n;
    while (b > 0 && dir[b - 1] != '/') b--;
    snprintf(out, cap, "%.*s", (int)(n - b), dir + b);
}

int cmd_serve(int argc, char **argv) {
    ServeOptions so;
    serve_options_default(&so);
    EngineOptions eo;
    engine_options_default(&eo);
    eo.max_seqs = 4;
    const char *dir = NULL, *name = NULL, *draft_base = NULL, *draft_key_env = NULL, *draft_model = NULL;
    bool quiet = false;
    so.api_key = getenv("POSTTRAIN_API_KEY");
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        long v = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(help, stdout);
            return 0;
        }
        if (!strcmp(a, "--quiet") || !strcmp(a, "--secure-cookie")) {
            if (a[2] == 'q') quiet = true;
            else so.label_secure_cookie = true;
            continue;
        }
        const char *val = cli_value(argc, argv, &i);
        if (!val) return 2;
        if (!strcmp(a, "--model")) dir = val;
        else if (!strcmp(a, "--host")) so.host = val;
        else if (!strcmp(a, "--api-key")) so.api_key = val;
        else if (!strcmp(a, "--name")) name = val;
        else if (!strcmp(a, "--template")) eo.template_name = val;
        else if (!strcmp(a, "--tokenizer")) eo.tokenizer = val;
        else if (!strcmp(a, "--vocab-dir")) eo.vocab_dir = val;
        else if (!strcmp(a, "--label")) so.label_db = val;
        else if (!strcmp(a, "--draft-api-base")) draft_base = val;
        else if (!strcmp(a, "--draft-api-key-env")) draft_key_env = val;
        else if (!strcmp(a, "--draft-model")) draft_model = val;
        else if (!strcmp(a, "--port")) {
            if (int_opt(val, a, 0, 65535, &v)) return 2;
            so.port = (int)v;
        } else if (!strcmp(a, "--parallel")) {
            if (int_opt(val, a, 1, 4096, &v)) return 2;
            eo.max_seqs = (int)v;
        } else if (!strcmp(a, "--ctx")) {
            if (int_opt(val, a, 2, 1 << 20, &v)) return 2;
            eo.ctx = (int)v;
        } else if (!strcmp(a, "--threads")) {
            if (int_opt(val, a, 1, 4096, &v)) return 2;
            eo.threads = (int)v;
        } else if (!strcmp(a, "--max-body")) {
            if (int_opt(val, a, 1024, LONG_MAX, &v)) return 2;
            so.max_body = (size_t)v;
        } else if (!strcmp(a, "--max-queue")) {
            if (int_opt(val, a, 0, 1 << 24, &v)) return 2;
            so.max_queue = (int)v;
        } else if (!strcmp(a, "--grace")) {
            if (int_opt(val, a, 0, 24 * 3600, &v)) return 2;
            so.grace_ms = (int)v * 1000;
        } else {
            return cli_usage("serve", "unknown option %s (see posttrain serve --help)", a);
        }
    }
    if (!dir && !so.label_db)
        return cli_usage("serve", "--model DIR or --label DB is required (see posttrain serve --help)");
    if (draft_base && !so.label_db) return cli_usage("serve", "--draft-api-base drafts for --label DB: give it");
    if (!draft_base != !draft_model) return cli_usage("serve", "--draft-api-base and --draft-model go together");
    const char *draft_key = NULL;
    if (draft_key_env && !(draft_key = getenv(draft_key_env)))
        return cli_usage("serve", "--draft-api-key-env %s: the variable is not set", draft_key_env);
    char id[256];
    if (name) snprintf(id, sizeof id, "%s", name);
    else if (dir) dir_name(dir, id, sizeof id);
    else snprintf(id, sizeof id, "none");
    so.model_id = id;
    if (!quiet) so.log = log_line;

    // Block the stop signals before any thread exists (OpenMP's included): they inherit
    // the mask, and only sigwait below takes the signals.
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);  // a client that left is noticed by the write's error instead

    Err e = {0};
    Engine *en = NULL;
    Server *srv = NULL;
    RemoteClient *rc = NULL;
    SynthBackend *drafter = NULL;
    if (draft_base) {
        RemoteOptions ro;
        remote_options_default(&ro);
        ro.base = draft_base;
        ro.api_key = draft_key;
        ro.max_retries = 2;  // a person waits on the page
        if (remote_client_open(&rc, &ro, &e) || remote_backend_open(&drafter, rc, draft_model, &e)) {
            remote_client_close(rc);
            return cli_fail(&e);
        }
        so.label_drafter = drafter;
    }
    if ((dir && engine_open(&en, dir, &eo, &e)) || server_start(&srv, en, &so, &e)) {
        engine_close(en);
        synth_backend_close(drafter);
        remote_client_close(rc);
        return cli_fail(&e);
    }
    if (en) {
        const ChatTemplate *tpl = engine_template(en);
        const ModelConfig *cfg = engine_model_config(en);
        bool chat = tpl && tok_special_id(engine_tokenizer(en), tpl->end) < cfg->vocab_size;
        fprintf(stderr, "posttrain serve: %s (%s, ctx %d, %d parallel, template %s%s)%s\n", id,
                model_arch_name(cfg->arch), engine_ctx(en), engine_max_seqs(en), tpl ? tpl->name : "none",
                tpl && !chat ? ": its tokens lie beyond the model's vocabulary, chat is off" : "",
                so.api_key && so.api_key[0] ? ", API key required" : "");
    }
    if (so.label_db)
        fprintf(stderr, "posttrain serve: labeling app on %s at /label/ (drafts: %s)\n", so.label_db,
                draft_base ? draft_base : en ? id : "none");
    // Tests and scripts read this line for the port (--port 0).
    fprintf(stderr, "posttrain serve: listening on http://%s%s%s:%d/\n",
            strchr(so.host, ':') ? "[" : "", so.host, strchr(so.host, ':') ? "]" : "", server_port(srv));

    int sig = 0;
    sigwait(&stop, &sig);
    fprintf(stderr, "posttrain serve: %s: stopping (running replies get %d s)\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM", so.grace_ms / 1000);
    server_stop(srv);
    server_free(srv);
    engine_close(en);
    synth_backend_close(drafter);
    remote_client_close(rc);
    fprintf(stderr, "posttrain serve: stopped\n");
    return 0;
}
