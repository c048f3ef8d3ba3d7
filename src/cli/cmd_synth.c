// cmd_synth.c: `posttrain synth` — UltraChat-style synthetic conversations from a topic
// list, with a local model (the engine) or an OpenAI-compatible API (docs/synth.md).
//
//   posttrain synth --topics FILE --out FILE.jsonl (--model DIR | --api-base URL --api-model NAME)
//                   [--turns N] [--per-topic N] [--seed S] [sampling, dedup, retry options]
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "synth/local.h"
#include "synth/remote.h"
#include "synth/synth.h"
#include "synth/to_label.h"

static const char *help =
    "usage: posttrain synth --topics FILE --out FILE.jsonl (--model DIR | --api-base URL --api-model NAME) [options]\n"
    "  A user model asks about each topic and an assistant model answers, for --turns turns;\n"
    "  each conversation is appended to --out as one OpenAI chat line {\"synth_id\", \"topic\",\n"
    "  \"messages\"}. Run it again with the same options to resume: ids already in --out (or in\n"
    "  the dropped file) are skipped. Duplicates and empty conversations go to the dropped file.\n"
    "  --topics FILE            one topic per line (a line ending in '?' is a seed question),\n"
    "                           or JSONL with \"topic\" and/or \"question\"\n"
    "  --out FILE               output JSONL (appended)\n"
    "  --dropped FILE           duplicates and empty conversations (default: OUT with .dropped.jsonl)\n"
    "  --turns N                user + assistant pairs per conversation (default 3)\n"
    "  --per-topic N            conversations per topic (default 1)\n"
    "  --seed S                 run seed: part of every id and sampling seed (default 0)\n"
    "  --temperature T          sampling temperature of both models (default 1; 0: greedy)\n"
    "  --top-p P                nucleus sampling (default 1: off)\n"
    "  --max-tokens N           most tokens per message (default 256)\n"
    "  --user-temperature T     the user model's temperature, if different\n"
    "  --user-prompt TEXT       the user model's instructions; {topic} is replaced\n"
    "  --system TEXT            a system message for the assistant, kept in the output\n"
    "  --near-dup J             near-duplicate threshold: MinHash Jaccard of the assistant turns\n"
    "                           (default 0.8; 'off' disables)\n"
    "  --limit N                stop after N conversations written\n"
    "  --fsync-every N          lines between fsyncs of the output (default 16)\n"
    "  --quiet                  no line per conversation\n"
    "  --label-db DB            also route each conversation into a labeling project as a\n"
    "  --label-project P        draft to edit: earlier turns as messages, the last answer as a\n"
    "  --label-assignee NAME    model draft assigned to NAME (default: the local admin)\n"
    " local models:\n"
    "  --model DIR              the assistant (and, without --user-model, the user) model\n"
    "  --user-model DIR         another model for the user\n"
    "  --template NAME          chat template (default: the directory's)\n"
    "  --ctx N, --threads N     engine context and threads\n"
    " a remote OpenAI-compatible API (POST BASE/v1/chat/completions):\n"
    "  --api-base URL           e.g. http://127.0.0.1:8080 or https://api.openai.com/v1\n"
    "  --api-key-env VAR        the environment variable holding the API key\n"
    "  --api-model NAME         the assistant's model name\n"
    "  --user-api-model NAME    the user's model name (default: --api-model)\n"
    "  --timeout S              seconds per request (default 120)\n"
    "  --retries N              retries on 429/5xx/timeouts/connection errors (default 5)\n"
    "  --backoff S              first retry's delay scale, doubling each retry (default 1, max 30)\n"
    "  --rps R                  at most R requests per second (default: no limit)\n";

typedef struct {
    size_t total;
    bool quiet;
    SynthLabel *label;  // NULL: no --label-db
} Progress;

static int on_written(void *ctx, const char *id, const SynthTopic *t, const Conversation *c, Err *e) {
    Progress *p = ctx;
    if (p->label && synth_label_route(p->label, c, e)) return err_prefix(e, "%s: ", id);
    return 0;
}

static void on_progress(void *ctx, const SynthStats *st, const char *id, const char *verdict, double sim) {
    Progress *p = ctx;
    if (p->quiet) return;
    size_t n = st->done_before + st->written + st->exact_dup + st->near_dup + st->empty + st->too_long;
    if (!strcmp(verdict, "near_dup"))
        fprintf(stderr, "[%zu/%zu] %s near_dup (similarity %.2f)\n", n, p->total, id, sim);
    else
        fprintf(stderr, "[%zu/%zu] %s %s\n", n, p->total, id, verdict);
}

static void on_retry(void *ctx, int attempt, int max, double delay, const char *why) {
    fprintf(stderr, "posttrain synth: retry %d/%d in %.2fs: %s\n", attempt, max, delay, why);
}

static char *default_dropped(const char *out) {
    size_t n = strlen(out);
    char *p = malloc(n + 16);
    if (!p) return NULL;
    if (n > 6 && !strcmp(out + n - 6, ".jsonl")) snprintf(p, n + 16, "%.*s.dropped.jsonl", (int)(n - 6), out);
    else snprintf(p, n + 16, "%s.dropped", out);
    return p;
}

int cmd_synth(int argc, char **argv) {
    const char *topics_path = NULL, *out = NULL, *dropped = NULL, *model = NULL, *user_model = NULL;
    const char *api_base = NULL, *api_key_env = NULL, *api_model = NULL, *user_api_model = NULL;
    const char *label_db = NULL, *label_project = NULL, *label_assignee = NULL;
    SynthOptions o;
    synth_options_default(&o);
    EngineOptions eo;
    engine_options_default(&eo);
    RemoteOptions ro;
    remote_options_default(&ro);
    double x, user_temp = -1;
    Progress prog = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(help, stdout);
            return 0;
        }
        if (!strcmp(a, "--quiet")) {
            prog.quiet = true;
            continue;
        }
        if (strncmp(a, "--", 2)) return cli_usage("synth", "unexpected argument '%s' (see --help)", a);
        if (!(v = cli_value(argc, argv, &i))) return 2;
        if (!strcmp(a, "--topics")) topics_path = v;
        else if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--dropped")) dropped = v;
        else if (!strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "--user-model")) user_model = v;
        else if (!strcmp(a, "--template")) eo.template_name = v;
        else if (!strcmp(a, "--api-base")) api_base = v;
        else if (!strcmp(a, "--api-key-env")) api_key_env = v;
        else if (!strcmp(a, "--api-model")) api_model = v;
        else if (!strcmp(a, "--user-api-model")) user_api_model = v;
        else if (!strcmp(a, "--user-prompt")) o.user_prompt = v;
        else if (!strcmp(a, "--label-db")) label_db = v;
        else if (!strcmp(a, "--label-project")) label_project = v;
        else if (!strcmp(a, "--label-assignee")) label_assignee = v;
        else if (!strcmp(a, "--system")) o.assistant_system = v;
        else if (!strcmp(a, "--seed")) {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(v, &end, 10);
            if (!*v || *end || errno || *v == '-')
                return cli_usage("synth", "--seed: expected a non-negative integer, got '%s'", v);
            o.seed = s;
        } else if (!strcmp(a, "--near-dup")) {
            if (!strcmp(v, "off")) o.near_threshold = 2;
            else if (cli_number("synth", a, v, 0, 1, &o.near_threshold)) return 2;
        } else {
            static const struct { const char *name; double lo, hi; } nums[] = {
                {"--turns", 1, 1000}, {"--per-topic", 1, 1e6}, {"--temperature", 0, 100},
                {"--user-temperature", 0, 100}, {"--top-p", 0, 1}, {"--max-tokens", 1, 1e7},
                {"--limit", 1, 1e12}, {"--fsync-every", 1, 1e9}, {"--ctx", 2, 1 << 24},
                {"--threads", 1, 4096}, {"--timeout", 0.001, 1e6}, {"--retries", 0, 100},
                {"--backoff", 0, 3600}, {"--rps", 0, 1e6},
            };
            size_t k = 0, nn = sizeof nums / sizeof *nums;
            while (k < nn && strcmp(a, nums[k].name)) k++;
            if (k == nn) return cli_usage("synth", "unknown option '%s' (see --help)", a);
            if (cli_number("synth", a, v, nums[k].lo, nums[k].hi, &x)) return 2;
            switch (k) {
            case 0: o.turns = (int)x; break;
            case 1: o.per_topic = (int)x; break;
            case 2: o.user.temperature = o.assistant.temperature = (float)x; break;
            case 3: user_temp = x; break;
            case 4: o.user.top_p = o.assistant.top_p = (float)x; break;
            case 5: o.user.max_tokens = o.assistant.max_tokens = (int)x; break;
            case 6: o.limit = (long)x; break;
            case 7: o.fsync_every = (int)x; break;
            case 8: eo.ctx = (int)x; break;
            case 9: eo.threads = (int)x; break;
            case 10: ro.timeout_s = x; break;
            case 11: ro.max_retries = (int)x; break;
            case 12: ro.backoff_s = x; break;
            case 13: ro.rps = x; break;
            }
        }
    }
    if (user_temp >= 0) o.user.temperature = (float)user_temp;
    if (!topics_path) return cli_usage("synth", "--topics FILE is required");
    if (!out) return cli_usage("synth", "--out FILE is required");
    if (!model == !api_base)
        return cli_usage("synth", "give either --model DIR (local) or --api-base URL (remote)");
    if (user_model && !model) return cli_usage("synth", "--user-model needs --model");
    if (api_base && !api_model) return cli_usage("synth", "--api-base needs --api-model NAME");
    if (!label_db != !label_project) return cli_usage("synth", "--label-db and --label-project go together");
    if (label_assignee && !label_db) return cli_usage("synth", "--label-assignee needs --label-db");
    const char *key = NULL;
    if (api_key_env) {
        key = getenv(api_key_env);
        if (!key || !*key)
            return cli_usage("synth", "--api-key-env %s: the variable is not set", api_key_env);
    }

    Err e = {0};
    SynthTopics topics;
    if (synth_topics_load(topics_path, &topics, &e)) return cli_fail(&e);
    char *dropped_own = dropped ? NULL : default_dropped(out);
    SynthBackend *user = NULL, *asst = NULL;
    RemoteClient *rc_client = NULL;
    SynthLabel label = {0};
    int rc = 1;
    if (!dropped && !dropped_own) {
        ERR(&e, ERR_NOMEM, "out of memory");
        goto fail;
    }
    if (model) {
        if (local_backend_open(&asst, model, &eo, &e)) goto fail;
        if (user_model && local_backend_open(&user, user_model, &eo, &e)) goto fail;
    } else {
        ro.base = api_base;
        ro.api_key = key;
        ro.seed = o.seed;
        ro.on_retry = on_retry;
        if (remote_client_open(&rc_client, &ro, &e) || remote_backend_open(&asst, rc_client, api_model, &e))
            goto fail;
        if (user_api_model && remote_backend_open(&user, rc_client, user_api_model, &e)) goto fail;
    }
    if (label_db) {
        if (synth_label_open(&label, label_db, label_project, label_assignee, asst->name, &e)) goto fail;
        prog.label = &label;
    }
    prog.total = topics.n * (size_t)o.per_topic;
    SynthHooks hooks = {on_progress, on_written, &prog};
    SynthStats st;
    int r = synth_run(&o, &topics, user ? user : asst, asst, out, dropped ? dropped : dropped_own,
                      &hooks, &st, &e);
    // The counts, also after a failure: what is in the files is kept and resumes.
    if (st.torn_bytes)
        fprintf(stderr, "posttrain synth: cut a torn last line (%zu bytes) left by a killed run\n",
                st.torn_bytes);
    printf("synth: %zu written (%zu turns), %zu exact duplicates, %zu near duplicates, %zu empty, "
           "%zu too long; %zu done before (%zu records in %s at start)\n",
           st.written, st.turns_written, st.exact_dup, st.near_dup, st.empty, st.too_long,
           st.done_before, st.existing, out);
    if (rc_client) {
        long req, ret;
        remote_client_counts(rc_client, &req, &ret);
        printf("synth: %ld requests, %ld retries\n", req, ret);
    }
    if (label_db) printf("synth: %zu drafts added to project %s in %s\n", label.routed, label_project, label_db);
    if (r) goto fail;
    rc = 0;
    goto done;
fail:
    rc = cli_fail(&e);
done:
    synth_label_close(&label);
    synth_backend_close(user);
    synth_backend_close(asst);
    remote_client_close(rc_client);
    synth_topics_free(&topics);
    free(dropped_own);
    return rc;
}
