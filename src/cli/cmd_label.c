// cmd_label.c: `posttrain label SUBCOMMAND` — the labeling store from the command line.
//
//   posttrain label init DB [--project NAME] [--guidelines FILE.md]
//   posttrain label user add DB --name N --role labeler|reviewer|admin [--password-stdin]
//   posttrain label import DB --project P [--format F] [--skip-bad] [--state S] FILES...
//   posttrain label export DB --project P --format openai|oasst|rankings [--include-rejected] [--out FILE]
//   posttrain label stats DB [--project P]
//   posttrain label show DB ID [--as USER] [--json]
//   posttrain label list DB --project P [--state S] [--as USER]
//   posttrain label prompt DB --project P --category C (--text T | --text-file F) [--as USER]
//   posttrain label reply DB PARENT (--text T | --text-file F) [--as USER]
//   posttrain label draft DB PARENT --assign USER (--model DIR | --api-base URL ...) [sampling]
//   posttrain label edit DB DRAFT_ID (--text T | --text-file F) --as USER
//   posttrain label rank DB PARENT ID,ID,... --as USER
//   posttrain label review DB ID accept|reject [--reason TEXT] [--as USER]
//   posttrain label serve DB [serve options]     (= posttrain serve --label DB ...)
// Local commands act as the built-in "local-admin" user (label_user_local): whoever can
// write the file is its admin; --as USER acts as that user instead (it must exist), with
// that user's permissions — so the command line does what the web app does for a
// logged-in user. The web app (posttrain serve) acts as logged-in users.
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "label/export.h"
#include "label/import.h"
#include "label/label.h"
#include "label/stats.h"
#include "synth/local.h"
#include "synth/remote.h"
#include "util/file.h"
#include "util/utf8.h"

static const char *help =
    "usage: posttrain label init DB [--project NAME] [--guidelines FILE.md]\n"
    "       posttrain label user add DB --name N --role labeler|reviewer|admin [--password-stdin]\n"
    "       posttrain label import DB --project P [--format F] [--skip-bad] [--state accepted|pending] FILES...\n"
    "       posttrain label export DB --project P --format openai|oasst|rankings [--include-rejected]\n"
    "                              [--out FILE]\n"
    "       posttrain label stats DB [--project P]\n"
    "       posttrain label show DB ID [--as USER] [--json]\n"
    "       posttrain label list DB --project P [--state pending|accepted|rejected] [--as USER]\n"
    "       posttrain label prompt DB --project P --category C (--text TEXT | --text-file F) [--as USER]\n"
    "       posttrain label reply DB PARENT (--text TEXT | --text-file F) [--as USER]\n"
    "       posttrain label draft DB PARENT --assign USER (--model DIR | --api-base URL [--api-key-env VAR]\n"
    "                             [--api-model NAME]) [--temperature T] [--max-tokens N] [--seed S] [--as USER]\n"
    "       posttrain label edit DB DRAFT_ID (--text TEXT | --text-file F) --as USER\n"
    "       posttrain label rank DB PARENT ID,ID,... --as USER\n"
    "       posttrain label review DB ID accept|reject [--reason TEXT] [--as USER]\n"
    "       posttrain label serve DB [--model DIR] [--port N] [any posttrain serve option]\n"
    "  The labeling store: a SQLite file of projects, users, message trees (prompts and\n"
    "  replies, reviewed), model drafts with their edits, and rankings (docs/label.md).\n"
    "  init            create DB (or migrate it) and optionally a project with the default\n"
    "                  guidelines (helpful, truthful, harmless) or FILE.md\n"
    "  user add        add a user; --password-stdin reads the password from the first line\n"
    "                  of stdin (without one the user cannot log in)\n"
    "  import          conversations and prompts from any data set `data stats` reads\n"
    "                  (--format, --skip-bad as there); new messages get --state (accepted)\n"
    "  export          openai: conversations (every root-to-leaf path of accepted messages);\n"
    "                  oasst: trees; rankings: one line per labeler's ranking.\n"
    "                  --include-rejected adds rejected messages (weight 0 in openai)\n"
    "  stats           messages per role and state, per user, drafts, rankings, and the\n"
    "                  agreement of labelers who ranked the same replies\n"
    "  show            a message, the path root..ID above it (role, author, state, review\n"
    "                  reason, text; the root's category and system message) and its\n"
    "                  replies (id, state, first line); --json: one JSON object\n"
    "  list            the project's messages, one line each (id, parent, role, state,\n"
    "                  author, category, preview), of one --state or all; with --as, that\n"
    "                  user's work queue instead (task, id, preview)\n"
    "  prompt          a new prompt (pending review); --category: brainstorming,\n"
    "                  classification, extraction, generation, rewrite, chat, closed_qa,\n"
    "                  open_qa, summarization, other\n"
    "  reply           a reply to PARENT (the other role: user <-> assistant), pending\n"
    "  draft           asks a model for an assistant reply to the conversation root..PARENT\n"
    "                  (PARENT a user message) and stores it as a draft for --assign to\n"
    "                  edit. --model DIR: a local model post-trained with a chat template;\n"
    "                  --api-base URL: an OpenAI-compatible API (key from --api-key-env).\n"
    "                  --temperature (default 1; 0: greedy), --max-tokens (default 256),\n"
    "                  --seed (default 0)\n"
    "  edit            the assignee's edit of a draft: saved as a pending reply, the draft\n"
    "                  kept as the model wrote it, with the edit distance between the two\n"
    "  rank            --as USER's ranking of replies of PARENT, best first\n"
    "  review          accept or reject a message (reviewers and admins; not their own)\n"
    "  serve           the labeling web app at http://HOST:PORT/label/ (posttrain serve --label\n"
    "                  DB; with --model DIR its model drafts replies for labelers to edit)\n"
    "  --as USER       act as USER (must exist) with USER's permissions, in every subcommand;\n"
    "                  without it, as the built-in local-admin\n"
    "  --text-file F   the text from file F ('-': stdin), one trailing newline dropped\n";

typedef struct {
    const char *db, *project, *name, *role, *format, *out, *guidelines, *state;
    const char *as, *reason, *text, *text_file, *category, *assign, *model, *api_base, *api_key_env,
        *api_model, *temperature, *max_tokens, *seed;
    bool password_stdin, include_rejected, skip_bad, json;
    const char **files;
    int n_files;
} Args;

// Parses the options every subcommand shares; argv[0] is the subcommand. Returns 0, -1
// after printing --help, or the exit code of a usage error.
static int parse(int argc, char **argv, const char *cmd, Args *a) {
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        const char **v = !strcmp(s, "--project") ? &a->project : !strcmp(s, "--name") ? &a->name
                       : !strcmp(s, "--role") ? &a->role : !strcmp(s, "--format") ? &a->format
                       : !strcmp(s, "--out") ? &a->out : !strcmp(s, "--guidelines") ? &a->guidelines
                       : !strcmp(s, "--state") ? &a->state : !strcmp(s, "--as") ? &a->as
                       : !strcmp(s, "--reason") ? &a->reason : !strcmp(s, "--text") ? &a->text
                       : !strcmp(s, "--text-file") ? &a->text_file : !strcmp(s, "--category") ? &a->category
                       : !strcmp(s, "--assign") ? &a->assign : !strcmp(s, "--model") ? &a->model
                       : !strcmp(s, "--api-base") ? &a->api_base : !strcmp(s, "--api-key-env") ? &a->api_key_env
                       : !strcmp(s, "--api-model") ? &a->api_model : !strcmp(s, "--temperature") ? &a->temperature
                       : !strcmp(s, "--max-tokens") ? &a->max_tokens : !strcmp(s, "--seed") ? &a->seed : NULL;
        if (v) {
            if (!(*v = cli_value(argc, argv, &i))) return 2;
        } else if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            fputs(help, stdout);
            return -1;
        } else if (!strcmp(s, "--password-stdin")) a->password_stdin = true;
        else if (!strcmp(s, "--include-rejected")) a->include_rejected = true;
        else if (!strcmp(s, "--skip-bad")) a->skip_bad = true;
        else if (!strcmp(s, "--json")) a->json = true;
        else if (s[0] == '-' && s[1]) return cli_usage(cmd, "unknown option %s", s);
        else if (!a->db) a->db = s;
        else a->files[a->n_files++] = s;
    }
    if (!a->db) return cli_usage(cmd, "the database file DB is required");
    return 0;
}

// Opens DB and finds the acting user — --as USER (it must exist), else the local admin —
// and --project, when named.
static int open_db(LabelDb *d, const Args *a, LabelUser *me, int64_t *project, Err *e) {
    if (label_db_open(d, a->db, NULL, e)) return -1;
    int rc = a->as ? label_user_find(d, a->as, me, e) : label_user_local(d, me, e);
    if (rc && a->as) err_prefix(e, "--as %s: ", a->as);
    if (rc || (project && label_project_find(d, me, a->project, project, e))) {
        label_db_close(d);
        return -1;
    }
    return 0;
}

static int do_init(const Args *a) {
    Err e = {0};
    LabelDb d;
    LabelUser me;
    if (open_db(&d, a, &me, NULL, &e)) return cli_fail(&e);
    int rc = 0, v = 0;
    char *md = NULL;
    if (a->project) {
        size_t n;
        if (a->guidelines && file_read_all(a->guidelines, &md, &n, &e)) rc = -1;
        int64_t id;
        if (!rc) rc = label_project_create(&d, &me, a->project, md, &id, &e);
        if (!rc) printf("project %s (id %lld)\n", a->project, (long long)id);
    }
    if (!rc) rc = label_db_version(&d, &v, &e);
    if (!rc) printf("%s: schema version %d\n", a->db, v);
    free(md);
    label_db_close(&d);
    return rc ? cli_fail(&e) : 0;
}

static int do_user_add(const Args *a) {
    if (!a->name || !a->role) return cli_usage("label user add", "--name and --role are required");
    int role = label_role_parse(a->role);
    if (role < 0) return cli_usage("label user add", "--role %s: expected labeler, reviewer or admin", a->role);
    char pw[1100] = "";
    if (a->password_stdin) {
        if (!fgets(pw, sizeof pw, stdin)) return cli_usage("label user add", "--password-stdin: no password on stdin");
        pw[strcspn(pw, "\r\n")] = 0;
    }
    Err e = {0};
    LabelDb d;
    LabelUser me;
    if (open_db(&d, a, &me, NULL, &e)) return cli_fail(&e);
    int64_t id;
    int rc = label_user_add(&d, &me, a->name, role, a->password_stdin ? pw : NULL, &id, &e);
    if (!rc) printf("user %s (id %lld, %s%s)\n", a->name, (long long)id, a->role,
                    a->password_stdin ? "" : ", no password: cannot log in yet");
    label_db_close(&d);
    memset(pw, 0, sizeof pw);
    return rc ? cli_fail(&e) : 0;
}

static int do_import(const Args *a) {
    if (!a->project || !a->n_files) return cli_usage("label import", "--project and FILES are required");
    LabelImportOptions o = {.state = LSTATE_ACCEPTED, .reader.skip_bad = a->skip_bad};
    if (a->format) {
        int f = data_format_parse(a->format);
        if (f < 0) return cli_usage("label import", "unknown --format %s", a->format);
        o.reader.format = f;
    }
    if (a->state) {
        if (!strcmp(a->state, "pending")) o.state = LSTATE_PENDING;
        else if (strcmp(a->state, "accepted")) return cli_usage("label import", "--state: accepted or pending");
    }
    Err e = {0};
    LabelDb d;
    LabelUser me;
    int64_t project;
    if (open_db(&d, a, &me, &project, &e)) return cli_fail(&e);
    LabelImportStats s = {0};
    int rc = 0;
    for (int i = 0; i < a->n_files && !rc; i++) rc = label_import_file(&d, &me, project, a->files[i], &o, &s, &e);
    label_db_close(&d);
    if (rc) return cli_fail(&e);
    printf("imported %zu conversations: %zu messages added, %zu already there, %zu records skipped\n",
           s.records, s.messages, s.merged, s.skipped);
    if (s.skipped) printf("first skipped: %s\n", s.first_skip);
    return 0;
}

static int do_export(const Args *a) {
    if (!a->project || !a->format) return cli_usage("label export", "--project and --format are required");
    int f = label_export_format_parse(a->format);
    if (f < 0) return cli_usage("label export", "--format %s: expected openai, oasst or rankings", a->format);
    Err e = {0};
    LabelDb d;
    LabelUser me;
    int64_t project;
    if (open_db(&d, a, &me, &project, &e)) return cli_fail(&e);
    LabelExportOptions o = {.format = f, .include_rejected = a->include_rejected};
    Buf out = {0};
    size_t lines;
    int rc = label_export(&d, &me, project, &o, &out, &lines, &e);
    label_db_close(&d);
    if (!rc && a->out && strcmp(a->out, "-")) {
        rc = file_write_atomic(a->out, out.data ? out.data : "", out.len, &e);
        if (!rc) fprintf(stderr, "%s: %zu lines\n", a->out, lines);
    } else if (!rc && out.len && fwrite(out.data, 1, out.len, stdout) != out.len)
        rc = ERR(&e, ERR_IO, "stdout: write failed");
    buf_free(&out);
    return rc ? cli_fail(&e) : 0;
}

static int do_stats(const Args *a) {
    Err e = {0};
    LabelDb d;
    LabelUser me;
    int64_t project = 0;
    if (open_db(&d, a, &me, a->project ? &project : NULL, &e)) return cli_fail(&e);
    LabelStats s;
    int rc = label_stats(&d, &me, project, &s, &e);
    label_db_close(&d);
    if (rc) return cli_fail(&e);
    printf("prompts     %zu (", s.prompts);
    const char *sep = "";
    for (int c = 0; c <= LCAT_COUNT; c++)
        if (s.by_category[c]) {
            printf("%s%s %zu", sep, c < LCAT_COUNT ? label_category_name(c) : "uncategorized", s.by_category[c]);
            sep = ", ";
        }
    printf(")\n");
    for (int r = 0; r < 2; r++)
        printf("%-11s %zu (pending %zu, accepted %zu, rejected %zu)\n", r ? "assistant" : "user",
               s.messages[r][0] + s.messages[r][1] + s.messages[r][2], s.messages[r][0], s.messages[r][1],
               s.messages[r][2]);
    printf("drafts      %zu (saved %zu, mean edit distance %.1f)\n", s.drafts, s.drafts_saved, s.mean_edit_distance);
    printf("rankings    %zu\n", s.rankings);
    if (s.compared)
        printf("agreement   %.1f%% of %zu reply pairs in the same order, Kendall tau %.3f (%zu ranking pairs)\n",
               100 * s.agreement, s.item_pairs, s.mean_tau, s.compared);
    else
        printf("agreement   - (no replies ranked by two labelers)\n");
    printf("\n%-20s %-8s %7s %8s %8s %6s %6s %8s %7s\n", "user", "role", "pending", "accepted", "rejected",
           "drafts", "edited", "rankings", "reviews");
    for (int i = 0; i < s.n_users; i++) {
        const LabelUserStats *u = &s.users[i];
        printf("%-20s %-8s %7zu %8zu %8zu %6zu %6zu %8zu %7zu\n", u->name, label_role_name(u->role), u->messages[0],
               u->messages[1], u->messages[2], u->drafts_open, u->drafts_saved, u->rankings, u->reviews);
    }
    label_stats_free(&s);
    return 0;
}

// ---- the labeling work itself: show, list, prompt, reply, draft, edit, rank, review ----

// A positive message / draft id from the command line; a usage error (2) if not.
static int parse_id(const char *cmd, const char *what, const char *s, int64_t *id) {
    char *end;
    errno = 0;
    long long v = s ? strtoll(s, &end, 10) : 0;
    if (!s || !*s || *end || errno || v <= 0)
        return cli_usage(cmd, "%s: expected a positive integer id, got '%s'", what, s ? s : "");
    *id = v;
    return 0;
}


// Prefixes e with the DB file and returns cli_fail's code.
static int fail_db(const Args *a, Err *e) {
    err_prefix(e, "%s: ", a->db);
    return cli_fail(e);
}

// The text of --text or --text-file (exactly one; '-' is stdin): *out malloc'd. A file's
// one trailing newline goes (an editor's or echo's, not part of the text).
static int read_text(const char *cmd, const Args *a, char **out, Err *e, int *usage) {
    *out = NULL;
    *usage = 0;
    if (!a->text == !a->text_file) {
        *usage = cli_usage(cmd, "give the text with --text TEXT or --text-file FILE (one of them)");
        return -1;
    }
    if (a->text) {
        if (!(*out = strdup(a->text))) return ERR(e, ERR_NOMEM, "out of memory");
        return 0;
    }
    size_t n;
    if (file_read_all(a->text_file, out, &n, e)) return -1;
    if (n && (*out)[n - 1] == '\n') (*out)[--n] = 0;
    if (n && (*out)[n - 1] == '\r') (*out)[--n] = 0;
    return 0;
}

// The first line of text, at most max bytes (cut at a code point), "…" when shortened.
static void first_line(char *out, size_t size, const char *text, size_t max) {
    size_t n = strcspn(text, "\r\n");
    bool more = text[n] != 0;
    if (max > size - 4) max = size - 4;
    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80) n--;
        more = true;
    }
    memcpy(out, text, n);
    strcpy(out + n, more ? "…" : "");
}

// "text" with every line indented by two spaces.
static void print_indented(const char *text) {
    const char *p = text;
    do {
        size_t n = strcspn(p, "\n");
        printf("  %.*s\n", (int)n, p);
        p += n;
    } while (*p++);
}

static cJSON *message_json(const LabelMessage *m) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "id", (double)m->id);
    if (m->parent_id) cJSON_AddNumberToObject(o, "parent_id", (double)m->parent_id);
    else cJSON_AddNullToObject(o, "parent_id");
    cJSON_AddStringToObject(o, "role", m->assistant ? "assistant" : "user");
    cJSON_AddStringToObject(o, "author", m->author);
    cJSON_AddStringToObject(o, "state", label_state_name(m->state));
    if (m->review_reason) cJSON_AddStringToObject(o, "review_reason", m->review_reason);
    else cJSON_AddNullToObject(o, "review_reason");
    if (!m->parent_id) {
        if (m->category >= 0) cJSON_AddStringToObject(o, "category", label_category_name(m->category));
        else cJSON_AddNullToObject(o, "category");
        if (m->system) cJSON_AddStringToObject(o, "system", m->system);
    }
    cJSON_AddNumberToObject(o, "created", (double)m->created);
    cJSON_AddStringToObject(o, "text", m->text);
    return o;
}

static int do_show(const Args *a) {
    const char *cmd = "label show";
    int64_t id = 0;
    if (a->n_files != 1) return cli_usage(cmd, "expected DB ID");
    if (parse_id(cmd, "ID", a->files[0], &id)) return 2;
    Err e = {0};
    LabelDb d;
    LabelUser me;
    if (open_db(&d, a, &me, NULL, &e)) return fail_db(a, &e);
    int64_t *path = NULL, *kids = NULL;
    int n_path = 0, n_kids = 0, rc = label_message_path(&d, &me, id, &path, &n_path, &e);
    if (!rc) rc = label_message_replies(&d, &me, id, &kids, &n_kids, &e);
    cJSON *root = a->json ? cJSON_CreateObject() : NULL, *jpath = NULL, *jkids = NULL;
    if (root) {
        cJSON_AddNumberToObject(root, "id", (double)id);
        cJSON_AddNumberToObject(root, "project_id", 0);  // set from the root below
        jpath = cJSON_AddArrayToObject(root, "path");
        jkids = cJSON_AddArrayToObject(root, "replies");
    }
    for (int i = 0; i < n_path && !rc; i++) {
        LabelMessage m;
        if ((rc = label_message_get(&d, &me, path[i], &m, &e))) break;
        if (root) {
            if (i == 0) cJSON_SetNumberValue(cJSON_GetObjectItem(root, "project_id"), (double)m.project_id);
            cJSON_AddItemToArray(jpath, message_json(&m));
        } else {
            printf("%s#%lld %s by %s, %s", i ? "\n" : "", (long long)m.id, m.assistant ? "assistant" : "user",
                   m.author, label_state_name(m.state));
            if (m.review_reason && *m.review_reason) printf(" (reason: %s)", m.review_reason);
            if (!m.parent_id) printf(", category %s", m.category >= 0 ? label_category_name(m.category) : "-");
            printf("%s\n", path[i] == id ? "  <- this message" : "");
            if (m.system && *m.system) {
                printf("  [system]\n");
                print_indented(m.system);
                printf("  [%s]\n", m.assistant ? "assistant" : "user");
            }
            print_indented(m.text);
        }
        label_message_free(&m);
    }
    if (!rc && !root) printf("\nreplies: %d\n", n_kids);
    for (int i = 0; i < n_kids && !rc; i++) {
        LabelMessage m;
        if ((rc = label_message_get(&d, &me, kids[i], &m, &e))) break;
        char line[200];
        first_line(line, sizeof line, m.text, 72);
        if (root) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "id", (double)m.id);
            cJSON_AddStringToObject(o, "role", m.assistant ? "assistant" : "user");
            cJSON_AddStringToObject(o, "author", m.author);
            cJSON_AddStringToObject(o, "state", label_state_name(m.state));
            cJSON_AddStringToObject(o, "first_line", line);
            cJSON_AddItemToArray(jkids, o);
        } else {
            printf("  #%lld %s by %s, %s: %s\n", (long long)m.id, m.assistant ? "assistant" : "user", m.author,
                   label_state_name(m.state), line);
        }
        label_message_free(&m);
    }
    if (!rc && root) {
        char *s = cJSON_PrintUnformatted(root);
        if (!s) rc = ERR(&e, ERR_NOMEM, "out of memory");
        else printf("%s\n", s);
        free(s);
    }
    cJSON_Delete(root);
    free(path);
    free(kids);
    label_db_close(&d);
    return rc ? fail_db(a, &e) : 0;
}

static int do_list(const Args *a) {
    const char *cmd = "label list";
    if (a->n_files) return cli_usage(cmd, "unexpected argument %s", a->files[0]);
    if (!a->project) return cli_usage(cmd, "--project is required");
    int state = -1;
    if (a->state) {
        if (a->as) return cli_usage(cmd, "--state lists messages; with --as the queue is listed (not both)");
        for (int s = 0; s <= LSTATE_REJECTED; s++)
            if (!strcmp(a->state, label_state_name(s))) state = s;
        if (state < 0) return cli_usage(cmd, "--state %s: expected pending, accepted or rejected", a->state);
    }
    Err e = {0};
    LabelDb d;
    LabelUser me;
    int64_t project;
    if (open_db(&d, a, &me, NULL, &e)) return fail_db(a, &e);
    int rc = label_project_find(&d, &me, a->project, &project, &e);
    if (!rc && a->as) {  // the user's queue
        LabelTask *t = NULL;
        int n = 0;
        rc = label_queue_list(&d, &me, project, &t, &n, 10000, &e);
        for (int i = 0; i < n; i++) {
            char line[200];
            first_line(line, sizeof line, t[i].preview, 72);
            printf("%-10s %6lld  %s\n", label_task_name(t[i].type), (long long)t[i].id, line);
        }
        if (!rc && !n) fprintf(stderr, "%s: no open tasks for %s in project %s\n", a->db, me.name, a->project);
        free(t);
    } else if (!rc) {
        int64_t *ids = NULL;
        int n = 0;
        rc = label_message_list(&d, &me, project, state, &ids, &n, &e);
        if (!rc) printf("%6s %6s %-9s %-8s %-16s %-13s %s\n", "id", "parent", "role", "state", "author",
                        "category", "text");
        for (int i = 0; i < n && !rc; i++) {
            LabelMessage m;
            if ((rc = label_message_get(&d, &me, ids[i], &m, &e))) break;
            char parent[24], line[200];
            snprintf(parent, sizeof parent, m.parent_id ? "%lld" : "-", (long long)m.parent_id);
            first_line(line, sizeof line, m.text, 60);
            printf("%6lld %6s %-9s %-8s %-16s %-13s %s\n", (long long)m.id, parent,
                   m.assistant ? "assistant" : "user", label_state_name(m.state), m.author,
                   m.category >= 0 ? label_category_name(m.category) : "-", line);
            label_message_free(&m);
        }
        free(ids);
    }
    label_db_close(&d);
    return rc ? fail_db(a, &e) : 0;
}

static int do_prompt(const Args *a) {
    const char *cmd = "label prompt";
    if (a->n_files) return cli_usage(cmd, "unexpected argument %s", a->files[0]);
    if (!a->project || !a->category) return cli_usage(cmd, "--project and --category are required");
    int cat = label_category_parse(a->category);
    if (cat < 0)
        return cli_usage(cmd, "--category %s: expected brainstorming, classification, extraction, generation, "
                              "rewrite, chat, closed_qa, open_qa, summarization or other", a->category);
    Err e = {0};
    char *text;
    int usage;
    if (read_text(cmd, a, &text, &e, &usage)) return usage ? usage : cli_fail(&e);
    LabelDb d;
    LabelUser me;
    int64_t project, id;
    int rc = open_db(&d, a, &me, NULL, &e);
    if (!rc) {
        rc = label_project_find(&d, &me, a->project, &project, &e);
        if (!rc) rc = label_prompt_create(&d, &me, project, cat, text, &id, &e);
        if (!rc) printf("message %lld (prompt in %s, %s, by %s, pending)\n", (long long)id, a->project,
                        label_category_name(cat), me.name);
        label_db_close(&d);
    }
    free(text);
    return rc ? fail_db(a, &e) : 0;
}

static int do_reply(const Args *a) {
    const char *cmd = "label reply";
    int64_t parent = 0, id = 0;
    if (a->n_files != 1) return cli_usage(cmd, "expected DB PARENT");
    if (parse_id(cmd, "PARENT", a->files[0], &parent)) return 2;
    Err e = {0};
    char *text;
    int usage;
    if (read_text(cmd, a, &text, &e, &usage)) return usage ? usage : cli_fail(&e);
    LabelDb d;
    LabelUser me;
    int rc = open_db(&d, a, &me, NULL, &e);
    if (!rc) {
        rc = label_reply_add(&d, &me, parent, text, &id, &e);
        LabelMessage m;
        if (!rc && !(rc = label_message_get(&d, &me, id, &m, &e))) {
            printf("message %lld (%s reply to %lld, by %s, pending)\n", (long long)id,
                   m.assistant ? "assistant" : "user", (long long)parent, me.name);
            label_message_free(&m);
        }
        label_db_close(&d);
    }
    free(text);
    return rc ? fail_db(a, &e) : 0;
}

static void on_retry(void *ctx, int attempt, int max, double delay, const char *why) {
    fprintf(stderr, "posttrain label draft: retry %d/%d in %.2fs: %s\n", attempt, max, delay, why);
}

static int do_draft(const Args *a) {
    const char *cmd = "label draft";
    int64_t parent = 0;
    if (a->n_files != 1) return cli_usage(cmd, "expected DB PARENT");
    if (parse_id(cmd, "PARENT", a->files[0], &parent)) return 2;
    if (!a->assign) return cli_usage(cmd, "--assign USER is required (who edits the draft)");
    if (!a->model == !a->api_base) return cli_usage(cmd, "give either --model DIR (local) or --api-base URL (remote)");
    if (a->model && (a->api_key_env || a->api_model))
        return cli_usage(cmd, "--api-key-env and --api-model go with --api-base, not --model");
    SynthSample s = {.temperature = 1, .top_p = 1, .max_tokens = 256};
    double x;
    if (a->temperature) {
        if (cli_number(cmd, "--temperature", a->temperature, 0, 100, &x)) return 2;
        s.temperature = (float)x;
    }
    if (a->max_tokens) {
        if (cli_number(cmd, "--max-tokens", a->max_tokens, 1, 1e7, &x)) return 2;
        s.max_tokens = (int)x;
    }
    if (a->seed) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(a->seed, &end, 10);
        if (!*a->seed || *end || errno || *a->seed == '-')
            return cli_usage(cmd, "--seed: expected a non-negative integer, got '%s'", a->seed);
        s.seed = v;
    }
    const char *key = NULL;
    if (a->api_key_env && (!(key = getenv(a->api_key_env)) || !*key))
        return cli_usage(cmd, "--api-key-env %s: the variable is not set", a->api_key_env);

    Err e = {0};
    LabelDb d;
    LabelUser me, assignee;
    Conversation c = {0};
    SynthBackend *b = NULL;
    RemoteClient *client = NULL;
    Buf reply = {0};
    int64_t id = 0;
    if (open_db(&d, a, &me, NULL, &e)) return fail_db(a, &e);
    // Everything the database can refuse is checked before the model is loaded.
    int rc = label_user_find(&d, a->assign, &assignee, &e);
    if (rc) err_prefix(&e, "--assign %s: ", a->assign);
    // label_draft_add's rule, checked early so a refusal does not wait for the model.
    if (!rc && assignee.id != me.id && me.role < LROLE_REVIEWER)
        rc = ERR(&e, ERR_ARG, "add draft for another user: needs role reviewer (%s is %s)", me.name,
                 label_role_name(me.role));
    if (!rc) rc = label_conversation(&d, &me, parent, &c, &e);
    if (!rc && (!c.n || c.msgs[c.n - 1].role != ROLE_USER))
        rc = ERR(&e, ERR_ARG, "message %lld is an assistant message: a model drafts assistant replies, "
                 "so PARENT must be a user message", (long long)parent);
    if (!rc) {
        if (a->model) {
            EngineOptions eo;
            engine_options_default(&eo);
            rc = local_backend_open(&b, a->model, &eo, &e);
        } else {
            RemoteOptions ro;
            remote_options_default(&ro);
            ro.base = a->api_base;
            ro.api_key = key;
            ro.seed = s.seed;
            ro.on_retry = on_retry;
            rc = remote_client_open(&client, &ro, &e);
            if (!rc) rc = remote_backend_open(&b, client, a->api_model ? a->api_model : "", &e);
        }
    }
    if (!rc) {
        int r = b->reply(b, &c, &s, &reply, &e);
        if (r == 1)
            rc = ERR(&e, ERR_ARG, "message %lld: the conversation (%d messages) does not fit the model's "
                     "context", (long long)parent, c.n);
        else if (r < 0) rc = -1;
        else rc = synth_reply_clean(&reply) ? ERR(&e, ERR_NOMEM, "out of memory") : 0;
    }
    const char *model = a->model ? a->model : a->api_model && *a->api_model ? a->api_model : a->api_base;
    if (!rc) rc = label_draft_add(&d, &me, parent, model, reply.data, assignee.id, &id, &e);
    if (!rc) {
        printf("draft %lld (reply to %lld, assigned to %s, model %s, %zu bytes)\n", (long long)id,
               (long long)parent, assignee.name, model, reply.len);
        if (reply.len) print_indented(reply.data);
    }
    buf_free(&reply);
    conv_free(&c);
    synth_backend_close(b);
    remote_client_close(client);
    label_db_close(&d);
    return rc ? fail_db(a, &e) : 0;
}

static int do_edit(const Args *a) {
    const char *cmd = "label edit";
    int64_t id = 0, mid = 0;
    if (a->n_files != 1) return cli_usage(cmd, "expected DB DRAFT_ID");
    if (parse_id(cmd, "DRAFT_ID", a->files[0], &id)) return 2;
    if (!a->as) return cli_usage(cmd, "--as USER is required (the draft's assignee)");
    Err e = {0};
    char *text;
    int usage;
    if (read_text(cmd, a, &text, &e, &usage)) return usage ? usage : cli_fail(&e);
    LabelDb d;
    LabelUser me;
    int rc = open_db(&d, a, &me, NULL, &e);
    if (!rc) {
        rc = label_draft_save(&d, &me, id, text, &mid, &e);
        LabelDraft x;
        if (!rc && !(rc = label_draft_get(&d, &me, id, &x, &e))) {
            printf("draft %lld saved as message %lld (reply to %lld, pending), edit distance %lld\n",
                   (long long)id, (long long)mid, (long long)x.parent_id, (long long)x.edit_distance);
            label_draft_free(&x);
        }
        label_db_close(&d);
    }
    free(text);
    return rc ? fail_db(a, &e) : 0;
}

static int do_rank(const Args *a) {
    const char *cmd = "label rank";
    int64_t parent = 0;
    if (a->n_files != 2) return cli_usage(cmd, "expected DB PARENT ID,ID,... (best first)");
    if (parse_id(cmd, "PARENT", a->files[0], &parent)) return 2;
    if (!a->as) return cli_usage(cmd, "--as USER is required (whose ranking it is)");
    int64_t ids[64];
    int n = 0;
    const char *p = a->files[1];
    while (1) {
        size_t len = strcspn(p, ",");
        char one[32];
        if (n == 64) return cli_usage(cmd, "at most 64 replies");
        snprintf(one, sizeof one, "%.*s", len < sizeof one ? (int)len : (int)sizeof one - 1, p);
        if (len >= sizeof one || parse_id(cmd, "ID,ID,...", one, &ids[n])) return 2;
        n++;
        if (!p[len]) break;
        p += len + 1;
    }
    Err e = {0};
    LabelDb d;
    LabelUser me;
    if (open_db(&d, a, &me, NULL, &e)) return fail_db(a, &e);
    int rc = label_rank(&d, &me, parent, ids, n, &e);
    label_db_close(&d);
    if (rc) return fail_db(a, &e);
    printf("ranking of the replies to %lld by %s:", (long long)parent, me.name);
    for (int i = 0; i < n; i++) printf("%s%lld", i ? " > " : " ", (long long)ids[i]);
    printf("\n");
    return 0;
}

static int do_review(const Args *a) {
    const char *cmd = "label review";
    int64_t id = 0;
    if (a->n_files != 2) return cli_usage(cmd, "expected DB ID accept|reject");
    if (parse_id(cmd, "ID", a->files[0], &id)) return 2;
    bool accept = !strcmp(a->files[1], "accept");
    if (!accept && strcmp(a->files[1], "reject"))
        return cli_usage(cmd, "expected accept or reject, got '%s'", a->files[1]);
    Err e = {0};
    LabelDb d;
    LabelUser me;
    if (open_db(&d, a, &me, NULL, &e)) return fail_db(a, &e);
    int rc = label_review(&d, &me, id, accept, a->reason, &e);
    label_db_close(&d);
    if (rc) return fail_db(a, &e);
    printf("message %lld %s by %s%s%s\n", (long long)id, accept ? "accepted" : "rejected", me.name,
           a->reason ? ": " : "", a->reason ? a->reason : "");
    return 0;
}

int cmd_label(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    // `label serve DB [serve options]` is `serve --label DB [...]`: the web app alone, or
    // with --model for drafts.
    if (!strcmp(sub, "serve")) {
        if (argc < 3 || argv[2][0] == '-')
            return cli_usage("label serve", "expected DB, then any `posttrain serve` options");
        char **sv = calloc((size_t)argc + 1, sizeof *sv);
        if (!sv) return fprintf(stderr, "posttrain: out of memory\n"), 1;
        sv[0] = "serve";
        sv[1] = "--label";
        sv[2] = argv[2];
        for (int i = 3; i < argc; i++) sv[i] = argv[i];
        int rc = cmd_serve(argc, sv);
        free(sv);
        return rc;
    }
    bool user_add = !strcmp(sub, "user") && argc > 2 && !strcmp(argv[2], "add");
    int skip = user_add ? 2 : 1;  // argv + skip: the subcommand's own argv[0]
    Args a = {0};
    const char **files = calloc((size_t)argc, sizeof *files);
    if (!files) return fprintf(stderr, "posttrain: out of memory\n"), 1;
    a.files = files;
    char cmd[64];
    snprintf(cmd, sizeof cmd, "label %s", user_add ? "user add" : sub);
    int rc = parse(argc - skip, argv + skip, cmd, &a);
    if (rc < 0) return free(files), 0;  // --help
    // Subcommands with positional arguments after DB check their own count.
    static const char *const positional[] = {"import", "show", "reply", "draft", "edit", "rank", "review"};
    bool takes_args = false;
    for (size_t i = 0; i < sizeof positional / sizeof *positional; i++) takes_args |= !strcmp(sub, positional[i]);
    if (!rc && a.n_files && !takes_args) rc = cli_usage(cmd, "unexpected argument %s", a.files[0]);
    if (!rc) {
        if (!strcmp(sub, "init")) rc = do_init(&a);
        else if (user_add) rc = do_user_add(&a);
        else if (!strcmp(sub, "import")) rc = do_import(&a);
        else if (!strcmp(sub, "export")) rc = do_export(&a);
        else if (!strcmp(sub, "stats")) rc = do_stats(&a);
        else if (!strcmp(sub, "show")) rc = do_show(&a);
        else if (!strcmp(sub, "list")) rc = do_list(&a);
        else if (!strcmp(sub, "prompt")) rc = do_prompt(&a);
        else if (!strcmp(sub, "reply")) rc = do_reply(&a);
        else if (!strcmp(sub, "draft")) rc = do_draft(&a);
        else if (!strcmp(sub, "edit")) rc = do_edit(&a);
        else if (!strcmp(sub, "rank")) rc = do_rank(&a);
        else if (!strcmp(sub, "review")) rc = do_review(&a);
        else rc = cli_usage("label", "unknown subcommand %s (init, user add, import, export, stats, show, list, "
                                     "prompt, reply, draft, edit, rank, review, serve)", sub);
    }
    free(files);
    return rc;
}
