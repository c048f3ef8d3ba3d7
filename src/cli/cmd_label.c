// cmd_label.c: `posttrain label SUBCOMMAND` — the labeling store from the command line.
//
//   posttrain label init DB [--project NAME] [--guidelines FILE.md]
//   posttrain label user add DB --name N --role labeler|reviewer|admin [--password-stdin]
//   posttrain label import DB --project P [--format F] [--skip-bad] [--state S] FILES...
//   posttrain label export DB --project P --format openai|oasst|rankings [--include-rejected] [--out FILE]
//   posttrain label stats DB [--project P]
// Local commands act as the built-in "local-admin" user (label_user_local): whoever can
// write the file is its admin. The web app (posttrain serve) acts as logged-in users.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "label/export.h"
#include "label/import.h"
#include "label/label.h"
#include "label/stats.h"
#include "util/file.h"

static const char *help =
    "usage: posttrain label init DB [--project NAME] [--guidelines FILE.md]\n"
    "       posttrain label user add DB --name N --role labeler|reviewer|admin [--password-stdin]\n"
    "       posttrain label import DB --project P [--format F] [--skip-bad] [--state accepted|pending] FILES...\n"
    "       posttrain label export DB --project P --format openai|oasst|rankings [--include-rejected]\n"
    "                              [--out FILE]\n"
    "       posttrain label stats DB [--project P]\n"
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
    "                  agreement of labelers who ranked the same replies\n";

typedef struct {
    const char *db, *project, *name, *role, *format, *out, *guidelines, *state;
    bool password_stdin, include_rejected, skip_bad;
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
                       : !strcmp(s, "--state") ? &a->state : NULL;
        if (v) {
            if (!(*v = cli_value(argc, argv, &i))) return 2;
        } else if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            fputs(help, stdout);
            return -1;
        } else if (!strcmp(s, "--password-stdin")) a->password_stdin = true;
        else if (!strcmp(s, "--include-rejected")) a->include_rejected = true;
        else if (!strcmp(s, "--skip-bad")) a->skip_bad = true;
        else if (s[0] == '-' && s[1]) return cli_usage(cmd, "unknown option %s", s);
        else if (!a->db) a->db = s;
        else a->files[a->n_files++] = s;
    }
    if (!a->db) return cli_usage(cmd, "the database file DB is required");
    return 0;
}

// Opens DB and finds the local admin (and --project, when named).
static int open_db(LabelDb *d, const Args *a, LabelUser *me, int64_t *project, Err *e) {
    if (label_db_open(d, a->db, NULL, e)) return -1;
    if (label_user_local(d, me, e) || (project && label_project_find(d, me, a->project, project, e))) {
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

int cmd_label(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(help, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
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
    if (!rc && a.n_files && strcmp(sub, "import")) rc = cli_usage(cmd, "unexpected argument %s", a.files[0]);
    if (!rc) {
        if (!strcmp(sub, "init")) rc = do_init(&a);
        else if (user_add) rc = do_user_add(&a);
        else if (!strcmp(sub, "import")) rc = do_import(&a);
        else if (!strcmp(sub, "export")) rc = do_export(&a);
        else if (!strcmp(sub, "stats")) rc = do_stats(&a);
        else rc = cli_usage("label", "unknown subcommand %s (init, user add, import, export, stats)", sub);
    }
    free(files);
    return rc;
}
