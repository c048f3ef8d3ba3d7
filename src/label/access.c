// access.c: the permission rules (see access.h) and the checks every entry point shares.
#include "label/access.h"

#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

static const char *const role_names[] = {"labeler", "reviewer", "admin"};
static const char *const state_names[] = {"pending", "accepted", "rejected"};

const char *label_role_name(LabelRole r) { return role_names[r]; }
const char *label_state_name(LabelState s) { return state_names[s]; }

int label_role_parse(const char *s) {
    for (int i = 0; s && i < 3; i++)
        if (!strcmp(s, role_names[i])) return i;
    return -1;
}

int label_state_parse(const char *s) {
    for (int i = 0; s && i < 3; i++)
        if (!strcmp(s, state_names[i])) return i;
    return -1;
}

int access_role(const LabelUser *actor, LabelRole min, const char *what, Err *e) {
    if (!actor) return ERR(e, ERR_ARG, "%s: not logged in", what);
    if (actor->role < min)
        return ERR(e, ERR_ARG, "%s: needs role %s (%s is %s)", what, role_names[min], actor->name,
                   role_names[actor->role]);
    return 0;
}

// 1 if message id is the parent of a draft assigned to actor, or an ancestor of one:
// the assignee needs the conversation so far to edit a draft, reviewed or not (model
// pipelines such as `posttrain synth --label` file whole pending paths).
static int draft_context(LabelDb *d, const LabelUser *actor, int64_t id) {
    sqlite3_stmt *st;
    Err ignore = {0};
    if (label_prepare(d, "WITH RECURSIVE up(id) AS ("
                         "  SELECT parent_id FROM drafts WHERE assignee_id = ?2"
                         "  UNION SELECT m.parent_id FROM messages m JOIN up ON m.id = up.id"
                         "  WHERE m.parent_id IS NOT NULL)"
                         " SELECT 1 FROM up WHERE id = ?1 LIMIT 1", &st, &ignore))
        return -1;
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, actor->id);
    int rc = sqlite3_step(st) == SQLITE_ROW ? 1 : 0;
    sqlite3_finalize(st);
    return rc;
}

int access_message(LabelDb *d, const LabelUser *actor, int64_t id, bool write, MsgMeta *m, Err *e) {
    if (!actor) return ERR(e, ERR_ARG, "message %lld: not logged in", (long long)id);
    sqlite3_stmt *st;
    if (label_prepare(d, "SELECT id, project_id, IFNULL(parent_id, 0), author_id, role, state "
                         "FROM messages WHERE id = ?", &st, e))
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    bool found = rc == SQLITE_ROW;
    if (found) {
        m->id = sqlite3_column_int64(st, 0);
        m->project_id = sqlite3_column_int64(st, 1);
        m->parent_id = sqlite3_column_int64(st, 2);
        m->author_id = sqlite3_column_int64(st, 3);
        m->assistant = !strcmp((const char *)sqlite3_column_text(st, 4), "assistant");
        m->state = label_state_parse((const char *)sqlite3_column_text(st, 5));
    }
    sqlite3_finalize(st);
    if (!found && rc != SQLITE_DONE) return label_sql_err(d, e, "read message");
    bool own = found && m->author_id == actor->id;
    bool ok = found && (actor->role == LROLE_ADMIN ||
                        (write ? own && m->state == LSTATE_PENDING
                               : own || actor->role == LROLE_REVIEWER || m->state == LSTATE_ACCEPTED));
    if (found && !ok && !write && draft_context(d, actor, id) == 1) ok = true;
    // The same words whether the id is missing or not ours: ids are not to be probed.
    if (!ok) return ERR(e, ERR_ARG, "message %lld: not found or not yours to %s", (long long)id,
                        write ? "change" : "read");
    return 0;
}

int label_text_check(const char *text, const char *field, bool allow_empty, Err *e) {
    if (!text) return ERR(e, ERR_ARG, "%s: missing", field);
    size_t n = strlen(text);
    if (!n && !allow_empty) return ERR(e, ERR_ARG, "%s: empty", field);
    if (n > LABEL_TEXT_MAX) return ERR(e, ERR_ARG, "%s: %zu bytes, more than %d", field, n, LABEL_TEXT_MAX);
    size_t bad = utf8_find_invalid(text, n);
    if (bad != (size_t)-1) return ERR(e, ERR_ARG, "%s: invalid UTF-8 at byte %zu", field, bad);
    return 0;
}

char *label_col_dup(sqlite3_stmt *st, int col, bool *oom) {
    const char *s = (const char *)sqlite3_column_text(st, col);
    if (!s) return NULL;
    char *c = strdup(s);
    if (!c) *oom = true;
    return c;
}

int label_bind_text(sqlite3_stmt *st, int i, const char *text) {
    return text ? sqlite3_bind_text(st, i, text, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i);
}
