// draft.c: model drafts that labelers edit — the draft is kept as the model wrote it,
// next to the labeler's version and the edit distance between them (how much human work
// the model saved: a small distance means the model was nearly right).
#include <stdlib.h>
#include <string.h>

#include "label/access.h"
#include "label/lev.h"

void label_draft_free(LabelDraft *x) {
    free(x->model);
    free(x->draft);
    free(x->edited);
    memset(x, 0, sizeof *x);
}

int label_draft_add(LabelDb *d, const LabelUser *actor, int64_t parent_id, const char *model,
                    const char *text, int64_t assignee_id, int64_t *id, Err *e) {
    MsgMeta p;
    // A labeler may ask the model for a draft to edit themself; handing drafts to others
    // is a reviewer's job.
    if (access_role(actor, assignee_id == (actor ? actor->id : -1) ? LROLE_LABELER : LROLE_REVIEWER,
                    "add draft for another user", e) ||
        label_text_check(model, "model", false, e) ||
        label_text_check(text, "draft", true, e) || access_message(d, actor, parent_id, false, &p, e))
        return -1;
    sqlite3_stmt *st;
    if (label_prepare(d, "INSERT INTO drafts (parent_id, model, draft, assignee_id, created) "
                         "VALUES (?, ?, ?, ?, ?)", &st, e))
        return -1;
    sqlite3_bind_int64(st, 1, parent_id);
    label_bind_text(st, 2, model);
    label_bind_text(st, 3, text);
    sqlite3_bind_int64(st, 4, assignee_id);
    sqlite3_bind_int64(st, 5, label_now());
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT) return ERR(e, ERR_ARG, "add draft: no user %lld", (long long)assignee_id);
    if (rc != SQLITE_DONE) return label_sql_err(d, e, "add draft");
    if (id) *id = sqlite3_last_insert_rowid(d->db);
    return 0;
}

int label_draft_get(LabelDb *d, const LabelUser *actor, int64_t id, LabelDraft *x, Err *e) {
    memset(x, 0, sizeof *x);
    if (access_role(actor, LROLE_LABELER, "draft", e)) return -1;
    sqlite3_stmt *st;
    if (label_prepare(d, "SELECT id, parent_id, assignee_id, IFNULL(message_id, 0), model, draft, edited, "
                         "IFNULL(edit_distance, -1) FROM drafts WHERE id = ?", &st, e))
        return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    bool oom = false, mine = false;
    if (rc == SQLITE_ROW) {
        x->id = sqlite3_column_int64(st, 0);
        x->parent_id = sqlite3_column_int64(st, 1);
        x->assignee_id = sqlite3_column_int64(st, 2);
        x->message_id = sqlite3_column_int64(st, 3);
        mine = x->assignee_id == actor->id || actor->role >= LROLE_REVIEWER;
        if (mine) {
            x->model = label_col_dup(st, 4, &oom);
            x->draft = label_col_dup(st, 5, &oom);
            x->edited = label_col_dup(st, 6, &oom);
            x->edit_distance = sqlite3_column_int64(st, 7);
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return label_sql_err(d, e, "draft");
    if (!mine) {
        memset(x, 0, sizeof *x);
        return ERR(e, ERR_ARG, "draft %lld: not found or not assigned to you", (long long)id);
    }
    if (oom) return label_draft_free(x), ERR(e, ERR_NOMEM, "out of memory");
    return 0;
}

int label_draft_save(LabelDb *d, const LabelUser *actor, int64_t id, const char *edited,
                     int64_t *message_id, Err *e) {
    LabelDraft x;
    if (label_text_check(edited, "edited draft", false, e) || label_draft_get(d, actor, id, &x, e)) return -1;
    int rc = 0;
    if (x.assignee_id != actor->id) rc = ERR(e, ERR_ARG, "draft %lld: not assigned to you", (long long)id);
    else if (x.message_id) rc = ERR(e, ERR_ARG, "draft %lld: already saved", (long long)id);
    int64_t dist = rc ? -1 : label_levenshtein(x.draft, strlen(x.draft), edited, strlen(edited));
    int64_t parent = x.parent_id;
    label_draft_free(&x);
    if (rc) return -1;

    // The reply and the draft's record of it land together or not at all.
    MsgMeta p;
    if (label_tx_begin(d, e)) return -1;
    int64_t mid = 0;
    rc = access_message(d, actor, parent, false, &p, e);
    if (!rc) rc = msg_insert(d, p.project_id, parent, !p.assistant, edited, NULL, -1, actor->id,
                             LSTATE_PENDING, &mid, e);
    sqlite3_stmt *st;
    if (!rc && !(rc = label_prepare(d, "UPDATE drafts SET edited = ?, edit_distance = ?, message_id = ?, "
                                       "saved = ? WHERE id = ? AND message_id IS NULL", &st, e))) {
        label_bind_text(st, 1, edited);
        if (dist >= 0) sqlite3_bind_int64(st, 2, dist);
        else sqlite3_bind_null(st, 2);
        sqlite3_bind_int64(st, 3, mid);
        sqlite3_bind_int64(st, 4, label_now());
        sqlite3_bind_int64(st, 5, id);
        if (sqlite3_step(st) != SQLITE_DONE) rc = label_sql_err(d, e, "save draft");
        else if (sqlite3_changes(d->db) != 1) rc = ERR(e, ERR_ARG, "draft %lld: already saved", (long long)id);
        sqlite3_finalize(st);
    }
    if (label_tx_end(d, rc, e)) return -1;
    if (message_id) *message_id = mid;
    return 0;
}
