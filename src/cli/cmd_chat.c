// cmd_chat.c: `posttrain chat` — a multi-turn conversation with a model in the terminal.
//
// Each turn renders the whole conversation through the chat template with the assistant
// header appended (add_generation_prompt), streams the reply token by token until the
// template's end token, parses it back (chat_parse_reply) and appends it. With stdin not a
// terminal, each line is one user turn and only the replies are printed, one per turn.
//
//   posttrain chat --model DIR [--system TEXT] [--template NAME] [sampling options]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "chat/conv.h"
#include "chat/template.h"
#include "chat/view.h"
#include "cli/cli.h"
#include "cli/sample_opts.h"
#include "infer/engine.h"
#include "util/buf.h"

static const char *help_head =
    "usage: posttrain chat --model DIR [--system TEXT] [--template NAME] [options]\n"
    "  a multi-turn chat: type a message, the reply streams back. Commands:\n"
    "    /reset         start over (the system prompt stays)\n"
    "    /system TEXT   set the system prompt (empty TEXT removes it)\n"
    "    /save FILE     append the conversation to FILE as one OpenAI JSONL line\n"
    "    /tokens        show the conversation's tokens as the model sees them\n"
    "    /quit          leave (so does end of input)\n"
    "  With stdin not a terminal, each line is a user turn and each reply is printed on\n"
    "  its own line.\n"
    "  --model DIR              a model directory (trained with a chat template)\n"
    "  --system TEXT            system prompt\n"
    "  --template NAME          gpt4o|chatml|llama3 (default: the one DIR carries)\n";

typedef struct {
    const Tokenizer *t;
    bool first;       // no text shown yet in this reply
    bool strip_space; // the tokenizer drops a leading space when decoding (SentencePiece)
} Stream;

static int on_token(void *ctx, const SeqEvent *ev) {
    Stream *st = ctx;
    const char *s = ev->text;
    size_t n = ev->text_len;
    if (st->first && n) {
        // Shown as it will be stored: chat_parse_reply decodes, which drops that space.
        if (st->strip_space && s[0] == ' ') s++, n--;
        st->first = false;
    }
    fwrite(s, 1, n, stdout);
    fflush(stdout);
    return 0;
}

// Whether tok_decode drops the leading space of what it decodes (SentencePiece does).
static bool decode_strips_space(const Tokenizer *t) {
    IntVec ids = {0};
    Buf out = {0};
    Err e = {0};
    bool strip = false;
    if (!tok_encode(t, " a", 2, 0, &ids, &e) && ids.len && !tok_decode(t, ids.data, ids.len, &out, &e))
        strip = out.len > 0 && out.data[0] != ' ';
    ivec_free(&ids);
    buf_free(&out);
    return strip;
}

// Sets (or, with "", removes) the system message, kept first.
static int set_system(Conversation *c, const char *text, Err *e) {
    if (c->n > 0 && c->msgs[0].role == ROLE_SYSTEM) {
        free(c->msgs[0].content);
        memmove(c->msgs, c->msgs + 1, (size_t)(c->n - 1) * sizeof *c->msgs);
        c->n--;
    }
    if (!*text) return 0;
    if (conv_add(c, ROLE_SYSTEM, text, 0, e)) return -1;
    ChatMessage m = c->msgs[c->n - 1];
    memmove(c->msgs + 1, c->msgs, (size_t)(c->n - 1) * sizeof *c->msgs);
    c->msgs[0] = m;
    return 0;
}

static int save_jsonl(const Conversation *c, const char *path) {
    cJSON *root = cJSON_CreateObject();
    char *s = root && !conv_to_json(root, c, false) ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    FILE *f = s ? fopen(path, "a") : NULL;
    int ok = f && fprintf(f, "%s\n", s) > 0;
    if (f && fclose(f)) ok = 0;
    free(s);
    if (!ok) fprintf(stderr, "posttrain chat: could not append to %s\n", path);
    return ok ? 0 : -1;
}

static void show_tokens(const Tokenizer *t, const ChatTemplate *tpl, const Conversation *c) {
    IntVec ids = {0}, mask = {0};
    Buf out = {0};
    Err e = {0};
    if (chat_render(t, tpl, c, false, &ids, &mask, &e) ||
        chat_view_tokens(t, ids.data, mask.data, ids.len, isatty(1), &out, &e)) {
        cli_fail(&e);
    } else {
        fputs(out.data ? out.data : "", stdout);
    }
    ivec_free(&ids);
    ivec_free(&mask);
    buf_free(&out);
}

// Checks that the template's tokens exist in the model's vocabulary.
static int check_template(const Engine *en, const ChatTemplate *tpl) {
    const Tokenizer *t = engine_tokenizer(en);
    int V = engine_model_config(en)->vocab_size;
    const char *need[] = {tpl->start, tpl->role_end, tpl->end};
    for (size_t i = 0; i < 3; i++) {
        if (!need[i]) continue;
        int32_t id = tok_special_id(t, need[i]);
        if (id < 0 || id >= V) {
            fprintf(stderr, "posttrain chat: the model has no embedding for %s of template %s "
                    "(id %d, vocabulary %d): chat needs a model post-trained with a chat template "
                    "(posttrain train --template %s)\n", need[i], tpl->name, id, V, tpl->name);
            return 1;
        }
    }
    return 0;
}

// One assistant turn: render, generate (streamed), parse, append. 0, or 1 on an error
// that leaves the conversation as it was before the user's message.
static int reply(Engine *en, const ChatTemplate *tpl, Conversation *c, GenOptions *go, int turn,
                 bool strip_space) {
    const Tokenizer *t = engine_tokenizer(en);
    IntVec ids = {0}, mask = {0};
    Buf content = {0};
    Err e = {0};
    GenResult res = {0};
    int rc = 1;
    if (chat_render(t, tpl, c, true, &ids, &mask, &e)) {
        cli_fail(&e);
        goto done;
    }
    if ((int)ids.len >= engine_ctx(en)) {
        fprintf(stderr, "posttrain chat: the conversation (%zu tokens) fills the context (%d): /reset\n",
                ids.len, engine_ctx(en));
        goto done;
    }
    SampleParams p = go->p;
    p.seed = go->p.seed + (uint64_t)turn;  // each turn differs, the whole chat replays
    Stream st = {t, true, strip_space};
    EngineStops stops = {go->stops, go->n_stops, NULL, 0};
    if (engine_generate(en, ids.data, (int)ids.len, &p, &stops, on_token, &st, &res, &e)) {
        cli_fail(&e);
        goto done;
    }
    printf("\n");
    fflush(stdout);
    bool ended;
    if (chat_parse_reply(t, tpl, res.ids.data, res.ids.len, &content, &ended, &e) ||
        conv_add(c, ROLE_ASSISTANT, content.data ? content.data : "", 1, &e)) {
        cli_fail(&e);
        goto done;
    }
    if (go->verbose) {
        gen_report_speed(stderr, res.n_prompt, res.n_generated, res.prefill_s, res.decode_s);
        fprintf(stderr, "finish: %s\n", finish_reason_name(res.finish));
    }
    rc = 0;
done:
    ivec_free(&ids);
    ivec_free(&mask);
    buf_free(&content);
    gen_result_free(&res);
    return rc;
}

int cmd_chat(int argc, char **argv) {
    const char *dir = NULL, *system = NULL;
    GenOptions go;
    gen_options_init(&go, 512);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int r = gen_option(&go, "chat", argc, argv, &i);
        if (r == 2) return 2;
        if (r == 1) continue;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            printf("%s%s", help_head, gen_options_help);
            return 0;
        } else if (!strcmp(a, "--model")) {
            if (!(dir = cli_value(argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--system")) {
            if (!(system = cli_value(argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--template")) {
            if (!(go.eo.template_name = cli_value(argc, argv, &i))) return 2;
        } else {
            return cli_usage("chat", "unknown option '%s' (see --help)", a);
        }
    }
    if (!dir) return cli_usage("chat", "--model DIR is required");
    gen_options_finish(&go);
    Err e = {0};
    Engine *en;
    if (engine_open(&en, dir, &go.eo, &e)) return cli_fail(&e);
    const ChatTemplate *tpl = engine_template(en);
    int rc = 0;
    if (!tpl) {
        rc = cli_usage("chat", "%s carries no chat template: pass --template %s", dir,
                       chat_template_names());
        engine_close(en);
        return rc;
    }
    if ((rc = check_template(en, tpl))) {
        engine_close(en);
        return rc;
    }
    bool interactive = isatty(0), strip = decode_strips_space(engine_tokenizer(en));
    if (interactive)
        fprintf(stderr, "chat with %s (template %s; /help for commands, /quit to leave)\n", dir, tpl->name);
    Conversation c = {0};
    char *sys = strdup(system ? system : "");
    if (!sys || set_system(&c, sys, &e)) {
        rc = cli_fail(&e);
        goto done;
    }
    char *line = NULL;
    size_t cap = 0;
    int turn = 0;
    for (;;) {
        if (interactive) {
            printf("> ");
            fflush(stdout);
        }
        ssize_t n = getline(&line, &cap, stdin);
        if (n < 0) break;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (n == 0) continue;
        if (!strcmp(line, "/quit") || !strcmp(line, "/exit")) break;
        if (!strcmp(line, "/help")) {
            fputs(help_head, stdout);
        } else if (!strcmp(line, "/reset")) {
            conv_free(&c);
            if (set_system(&c, sys, &e)) rc = cli_fail(&e);
            if (interactive) fprintf(stderr, "(conversation reset)\n");
        } else if (!strncmp(line, "/system", 7) && (line[7] == ' ' || !line[7])) {
            const char *s = line[7] ? line + 8 : "";
            free(sys);
            if (!(sys = strdup(s)) || set_system(&c, sys, &e)) rc = cli_fail(&e);
        } else if (!strncmp(line, "/save ", 6) && line[6]) {
            if (save_jsonl(&c, line + 6) == 0 && interactive)
                fprintf(stderr, "(saved %d messages to %s)\n", c.n, line + 6);
        } else if (!strcmp(line, "/tokens")) {
            show_tokens(engine_tokenizer(en), tpl, &c);
        } else if (line[0] == '/' && line[1] && line[1] != '/' && !strchr(line, ' ')) {
            fprintf(stderr, "unknown command %s (/help lists them)\n", line);
        } else {
            // "//text" sends "/text".
            const char *msg = line[0] == '/' && line[1] == '/' ? line + 1 : line;
            if (conv_add(&c, ROLE_USER, msg, 0, &e)) {
                rc = cli_fail(&e);
                break;
            }
            if (reply(en, tpl, &c, &go, turn++, strip)) {
                free(c.msgs[--c.n].content);  // drop the unanswered message
                if (!interactive) rc = 1;
            }
        }
        if (rc) break;
    }
    free(line);
done:
    free(sys);
    conv_free(&c);
    engine_close(en);
    return rc;
}
