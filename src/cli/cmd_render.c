// cmd_render.c: `posttrain render` — conversations through the chat protocol.
//
//   posttrain render --tokenizer SPEC --template gpt4o|chatml|llama3 [--special NAME=ID …]
//                    [--add-generation-prompt] [--json] FILE.jsonl
// One conversation per line ({"messages": [...]}). By default a colored token view on
// a terminal (plain brackets when piped); --json prints {"ids": [...], "mask": [...]}.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chat/template.h"
#include "chat/view.h"
#include "cli/cli.h"
#include "util/file.h"

static const char *help =
    "usage: posttrain render --tokenizer SPEC --template gpt4o|chatml|llama3 [options] FILE.jsonl\n"
    "  each line of FILE (or - for stdin) is {\"messages\": [{\"role\", \"content\", \"weight\"?}, ...]}\n"
    "  --json                   one line per conversation: {\"ids\": [...], \"mask\": [...]}\n"
    "  --add-generation-prompt  append the assistant header (no loss), for generation\n"
    "  --special NAME=ID        add or pin a special token (repeatable)\n"
    "  --color / --no-color     force the view's ANSI colors on or off\n";

static void print_json(const IntVec *ids, const IntVec *mask) {
    Buf b = {0};
    buf_append(&b, "{\"ids\":[", 8);
    for (size_t i = 0; i < ids->len; i++) buf_appendf(&b, i ? ",%d" : "%d", ids->data[i]);
    buf_append(&b, "],\"mask\":[", 10);
    for (size_t i = 0; i < mask->len; i++) buf_appendf(&b, i ? ",%d" : "%d", mask->data[i]);
    buf_append(&b, "]}\n", 3);
    fwrite(b.data, 1, b.len, stdout);
    buf_free(&b);
}

int cmd_render(int argc, char **argv) {
    TokOptions o = {0};
    const char *tname = NULL, *file = NULL;
    int json = 0, gen = 0, color = isatty(1);
    for (int i = 1; i < argc; i++) {
        int r = cli_tok_option(&o, "render", argc, argv, &i);
        if (r < 0) return 2;
        if (r) continue;
        const char *a = argv[i];
        if (!strcmp(a, "--template")) {
            if (!(tname = cli_value(argc, argv, &i))) return 2;
        } else if (!strcmp(a, "--json")) json = 1;
        else if (!strcmp(a, "--add-generation-prompt")) gen = 1;
        else if (!strcmp(a, "--color")) color = 1;
        else if (!strcmp(a, "--no-color")) color = 0;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(help, stdout);
            return 0;
        } else if (a[0] == '-' && a[1]) return cli_usage("render", "unknown option %s\n%s", a, help);
        else if (file) return cli_usage("render", "one FILE.jsonl only (got %s and %s)", file, a);
        else file = a;
    }
    if (!file) return cli_usage("render", "missing FILE.jsonl\n%s", help);
    if (!tname) return cli_usage("render", "--template %s is required", chat_template_names());
    const ChatTemplate *tpl = chat_template_find(tname);
    if (!tpl) return cli_usage("render", "unknown template '%s' (known: %s)", tname, chat_template_names());
    Tokenizer *t = cli_tok_load(&o, "render");
    if (!t) return 1;
    Err e = {0};
    char *data = NULL;
    size_t len;
    int rc = 0;
    if (chat_prepare_tokenizer(t, tpl, &e) || file_read_all(file, &data, &len, &e)) {
        rc = cli_fail(&e);
        goto done;
    }
    size_t lineno = 0, shown = 0;
    for (char *p = data, *end = data + len; p < end && !rc;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        char *next = nl ? nl + 1 : end;
        lineno++;
        size_t k = 0;
        while (k < n && (p[k] == ' ' || p[k] == '\t' || p[k] == '\r')) k++;
        if (k == n) {  // blank lines are allowed between conversations
            p = next;
            continue;
        }
        char where[4200];
        snprintf(where, sizeof where, "%s:%zu", strcmp(file, "-") ? file : "<stdin>", lineno);
        Conversation c = {0};
        IntVec ids = {0}, mask = {0};
        if (conv_parse_json(p, n, where, &c, &e) || chat_render(t, tpl, &c, gen, &ids, &mask, &e)) {
            if (strncmp(e.msg, where, strlen(where))) err_prefix(&e, "%s: ", where);
            rc = cli_fail(&e);
        } else if (json) {
            print_json(&ids, &mask);
        } else {
            Buf view = {0};
            if (chat_view_tokens(t, ids.data, mask.data, ids.len, color, &view, &e)) {
                rc = cli_fail(&e);
            } else {
                printf("%s── conversation %zu (%s, template %s) ──\n", shown ? "\n" : "", lineno,
                       where, tpl->name);
                fwrite(view.data, 1, view.len, stdout);
                shown++;
            }
            buf_free(&view);
        }
        conv_free(&c);
        ivec_free(&ids);
        ivec_free(&mask);
        p = next;
    }
done:
    free(data);
    tok_free(t);
    return rc;
}
