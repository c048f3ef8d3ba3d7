// message.c: message trees as OpenAssistant builds them — a prompt (a user message with
// an InstructGPT task category) at the root, replies as children (several per message,
// roles alternating), each reviewed into accepted or rejected.
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "label/access.h"

static const char *const cat_names[LCAT_COUNT] = {
    "brainstorming", "classification", "extraction", "generation", "rewrite",
    "chat", "closed_qa", "open_qa", "summarization", "other"};

const char *label_category_name(LabelCategory c) { return c >= 0 && c < LCAT_COUNT ? cat_names[c] : "other"; }

int label_category_parse(const char *s) {
    if (!s) return -1;
    for (int i = 0; i < LCAT_COUNT; i++)
        if (!strcmp(s, cat_names[i])) return i;
    // Dolly's names for the same tasks (databricks-dolly-15k).
    static const struct { const char *from; LabelCategory to; } dolly[] = {
        {"creative_writing", LCAT_GENERATION}, {"general_qa", LCAT_OPEN_QA},
        {"information_extraction", LCAT_EXTRACTION}};
    for (size_t i = 0; i < sizeof dolly / sizeof *dolly; i++)
        if (!strcmp(s, dolly[i].from)) return dolly[i].to;
    return -1;
}

void label_message_free(LabelMessage *m) {
    free(m->text);
    free(m->system);
    free(m->review_reason);
    memset(m, 0, sizeof *m);
}

int msg_insert(LabelDb *d, int64_t project_id, int64_t parent_id, bool assistant, const char *text,
               const char *system, int category, int64_t author_id, LabelState state, int64_t *id, Err *e) {
    sqlite3_stmt *st;
    if (label_prepare(d, "INSERT INTO messages (project_id, parent_id, role, text, system, category, "
                         "author_id, created, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", &st, e))
        return -1;
    sqlite3_bind_int64(st, 1, project_id);
    if (parent_id) sqlite3_bind_int64(st, 2, parent_id);
    else sqlite3_bind_null(st, 2);
    label_bind_text(st, 3, assistant ? "assistant" : "user");
    label_bind_text(st, 4, text);
    label_bind_text(st, 5, system);
    label_bind_text(st, 6, category >= 0 ? label_category_name(category) : NULL);
    sqlite3_bind_int64(st, 7, author_id);
    sqlite3_bind_int64(st, 8, label_now());
    label_bind_text(st, 9, label_state_name(state));
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return label_sql_err(d, e, "add message");
    if (id) *id = sqlite3_last_insert_rowid(d->db);
    return 0;
}

static int project_exists(LabelDb *d, int64_t project_id, Err *e) {
    sqlite3_stmt *st;
    if (label_prepare(d, "SELECT 1 FROM projects WHERE id = ?", &st, e)) return -1;
    sqlite3_bind_int64(st, 1, project_id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) return 0;
    return rc == SQLITE_DONE ? ERR(e, ERR_ARG, "no project %lld", (long long)project_id)
                             : label_sql_err(d, e, "project");
}

int label_prompt_create(LabelDb *d, const LabelUser *actor, int64_t project_id, LabelCategory cat,
                        const char *text, int64_t *id, Err *e) {
    if (access_role(actor, LROLE_LABELER, "create prompt", e)) return -1;
    if ((int)cat < 0 || cat >= LCAT_COUNT) return ERR(e, ERR_ARG, "create prompt: bad category");
    if (label_text_check(text, "prompt", false, e) || project_exists(d, project_id, e)) return -1;
    return msg_insert(d, project_id, 0, false, text, NULL, cat, actor->id, LSTATE_PENDING, id, e);
}

int label_reply_add(LabelDb *d, const LabelUser *actor, int64_t parent_id, const char *text,
                    int64_t *id, Err *e) {
    MsgMeta p;
    if (label_text_check(text, "reply", false, e) || access_message(d, actor, parent_id, false, &p, e))
        return -1;
    if (p.state == LSTATE_REJECTED)
        return ERR(e, ERR_ARG, "message %lld was rejected: reply to another one", (long long)parent_id);
    return msg_insert(d, p.project_id, parent_id, !p.assistant, text, NULL, -1, actor->id,
                      LSTATE_PENDING, id, e);
}

int label_message_get(LabelDb *d, const LabelUser *actor, int64_t id, LabelMessage *m, Err *e) {
    memset(m, 0, sizeof *m);
    MsgMeta meta;
    if (access_message(d, actor, id, false, &meta, e)) return -1;
    sqlite3_stmt *st;
    if (label_prepare(d, "SELECT m.id, m.project_id, IFNULL(m.parent_id, 0), m.role, m.text, m.system, "
                         "m.category, m.author_id, u.name, m.created, m.state, m.review_reason "
                         "FROM messages m JOIN users u ON u.id = m.author_id WHERE m.id = ?", &st, e))
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    bool oom = false;
    if (rc == SQLITE_ROW) {
        m->id = sqlite3_column_int64(st, 0);
        m->project_id = sqlite3_column_int64(st, 1);
        m->parent_id = sqlite3_column_int64(st, 2);
        m->assistant = !strcmp((const char *)sqlite3_column_text(st, 3), "assistant");
        m->text = label_col_dup(st, 4, &oom);
        m->system = label_col_dup(st, 5, &oom);
        m->category = sqlite3_column_type(st, 6) == SQLITE_NULL
                          ? -1 : label_category_parse((const char *)sqlite3_column_text(st, 6));
        m->author_id = sqlite3_column_int64(st, 7);
        snprintf(m->author, sizeof m->author, "%s", (const char *)sqlite3_column_text(st, 8));
        m->created = sqlite3_column_int64(st, 9);
        m->state = label_state_parse((const char *)sqlite3_column_text(st, 10));
        m->review_reason = label_col_dup(st, 11, &oom);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW) return label_sql_err(d, e, "read message");
    if (oom || !m->text) {
        label_message_free(m);
        return ERR(e, ERR_NOMEM, "out of memory");
    }
    return 0;
}

// Runs a one-row UPDATE already bound; error unless exactly one row changed.
static int step_update(LabelDb *d, sqlite3_stmt *st, const char *what, Err *e) {
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : label_sql_err(d, e, what);
    if (!rc && sqlite3_changes(d->db) != 1) rc = ERR(e, ERR_ARG, "%s: nothing changed", what);
    sqlite3_finalize(st);
    return rc;
}

int label_message_edit(LabelDb *d, const LabelUser *actor, int64_t id, const char *text, Err *e) {
    MsgMeta m;
    if (label_text_check(text, "text", false, e) || access_message(d, actor, id, true, &m, e)) return -1;
    if (m.state != LSTATE_PENDING)  // admins pass access_message; reviewed text stays as reviewed
        return ERR(e, ERR_ARG, "message %lld: already reviewed", (long long)id);
    sqlite3_stmt *st;
    // "AND state = 'pending'": a review landing between the check and here wins.
    if (label_prepare(d, "UPDATE messages SET text = ? WHERE id = ? AND state = 'pending'", &st, e)) return -1;
    label_bind_text(st, 1, text);
    sqlite3_bind_int64(st, 2, id);
    return step_update(d, st, "edit message", e);
}

int label_review(LabelDb *d, const LabelUser *actor, int64_t id, bool accept, const char *reason, Err *e) {
    MsgMeta m;
    if (access_role(actor, LROLE_REVIEWER, "review", e) || access_message(d, actor, id, false, &m, e))
        return -1;
    if (m.author_id == actor->id) return ERR(e, ERR_ARG, "review: not your own message");
    if (reason && label_text_check(reason, "review reason", true, e)) return -1;
    sqlite3_stmt *st;
    if (label_prepare(d, "UPDATE messages SET state = ?, review_reason = ?, reviewer_id = ?, reviewed = ? "
                         "WHERE id = ?", &st, e))
        return -1;
    label_bind_text(st, 1, accept ? "accepted" : "rejected");
    label_bind_text(st, 2, reason);
    sqlite3_bind_int64(st, 3, actor->id);
    sqlite3_bind_int64(st, 4, label_now());
    sqlite3_bind_int64(st, 5, id);
    return step_update(d, st, "review", e);
}

int label_message_path(LabelDb *d, const LabelUser *actor, int64_t id, int64_t **ids, int *n, Err *e) {
    *ids = NULL;
    *n = 0;
    MsgMeta m;
    if (access_message(d, actor, id, false, &m, e)) return -1;
    // Walk up to the root, then reverse. Trees are shallow (a conversation's turns).
    int cap = 0;
    int64_t cur = id;
    while (cur) {
        if (*n == cap) {
            int64_t *p = realloc(*ids, (size_t)(cap = cap ? 2 * cap : 16) * sizeof *p);
            if (!p) return free(*ids), *ids = NULL, ERR(e, ERR_NOMEM, "out of memory");
            *ids = p;
        }
        (*ids)[(*n)++] = cur;
        if (*n > 100000) return free(*ids), *ids = NULL, ERR(e, ERR_FORMAT, "message %lld: parent cycle", (long long)id);
        if (access_message(d, actor, cur, false, &m, e)) return free(*ids), *ids = NULL, -1;
        cur = m.parent_id;
    }
    for (int i = 0; i < *n / 2; i++) {
        int64_t t = (*ids)[i];
        (*ids)[i] = (*ids)[*n - 1 - i];
        (*ids)[*n - 1 - i] = t;
    }
    return 0;
}

int label_message_replies(LabelDb *d, const LabelUser *actor, int64_t parent_id, int64_t **ids, int *n, Err *e) {
    *ids = NULL;
    *n = 0;
    MsgMeta m;
    if (access_message(d, actor, parent_id, false, &m, e)) return -1;
    sqlite3_stmt *st;
    // The read rule of access_message, as SQL: admins and reviewers all, labelers their
    // own and accepted ones.
    if (label_prepare(d, "SELECT id FROM messages WHERE parent_id = ?1 "
                         "AND (?3 >= 1 OR author_id = ?2 OR state = 'accepted') ORDER BY id", &st, e))
        return -1;
    sqlite3_bind_int64(st, 1, parent_id);
    sqlite3_bind_int64(st, 2, actor->id);
    sqlite3_bind_int(st, 3, actor->role);
    int rc, cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            int64_t *p = realloc(*ids, (size_t)(cap = cap ? 2 * cap : 8) * sizeof *p);
            if (!p) return sqlite3_finalize(st), free(*ids), *ids = NULL, *n = 0, ERR(e, ERR_NOMEM, "out of memory");
            *ids = p;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return free(*ids), *ids = NULL, *n = 0, label_sql_err(d, e, "replies");
    return 0;
}

int label_project_prompts(LabelDb *d, const LabelUser *actor, int64_t project_id, int max, int64_t **ids,
                          int *n, Err *e) {
    *ids = NULL;
    *n = 0;
    if (access_role(actor, LROLE_LABELER, "prompts", e)) return -1;
    if (max <= 0) return 0;
    if (!(*ids = malloc((size_t)max * sizeof **ids))) return ERR(e, ERR_NOMEM, "out of memory");
    sqlite3_stmt *st;
    // The read rule of access_message, as in label_message_replies; newest first.
    if (label_prepare(d, "SELECT id FROM messages WHERE project_id = ?1 AND parent_id IS NULL "
                         "AND (?3 >= 1 OR author_id = ?2 OR state = 'accepted') ORDER BY id DESC LIMIT ?4",
                      &st, e))
        return free(*ids), *ids = NULL, -1;
    sqlite3_bind_int64(st, 1, project_id);
    sqlite3_bind_int64(st, 2, actor->id);
    sqlite3_bind_int(st, 3, actor->role);
    sqlite3_bind_int(st, 4, max);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) (*ids)[(*n)++] = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return free(*ids), *ids = NULL, *n = 0, label_sql_err(d, e, "prompts");
    return 0;
}
