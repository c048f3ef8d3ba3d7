// queue.c: a user's open tasks — what the web app's "next task" page lists.
//
// A labeler sees only work addressed to them or open to everyone: their assigned drafts,
// accepted messages they have not replied to that still want replies (fewer than
// LABEL_WANT_REPLIES live ones, as OpenAssistant grows each node to a few siblings),
// and parents with 2+ live replies they have not ranked. Reviewers and admins also get
// others' pending messages to review.
#include <stdlib.h>
#include <string.h>

#include "label/access.h"

enum { LABEL_WANT_REPLIES = 3 };

static const char *const task_names[] = {"reply", "edit_draft", "rank", "review"};
const char *label_task_name(LabelTaskType t) { return task_names[t]; }

// One query per task type; ?1 actor, ?2 project (0: all), ?3 limit, ?4 replies wanted. Replies by actor
// or by anyone to its own message are not asked of the same user twice.
static const char *const task_sql[] = {
    [LTASK_REPLY] =
        "SELECT m.id, m.project_id, m.text FROM messages m WHERE m.state = 'accepted' "
        "AND (?2 = 0 OR m.project_id = ?2) AND m.author_id != ?1 "
        "AND NOT EXISTS (SELECT 1 FROM messages c WHERE c.parent_id = m.id AND c.author_id = ?1) "
        "AND (SELECT COUNT(*) FROM messages c WHERE c.parent_id = m.id AND c.state != 'rejected') < ?4 "
        "ORDER BY m.id LIMIT ?3",
    [LTASK_EDIT_DRAFT] =
        "SELECT d.id, m.project_id, d.draft FROM drafts d JOIN messages m ON m.id = d.parent_id "
        "WHERE d.assignee_id = ?1 AND d.message_id IS NULL AND (?2 = 0 OR m.project_id = ?2) "
        "ORDER BY d.id LIMIT ?3",
    [LTASK_RANK] =
        "SELECT m.id, m.project_id, m.text FROM messages m WHERE m.state = 'accepted' "
        "AND (?2 = 0 OR m.project_id = ?2) "
        "AND (SELECT COUNT(*) FROM messages c WHERE c.parent_id = m.id AND c.state = 'accepted') >= 2 "
        "AND NOT EXISTS (SELECT 1 FROM rankings r WHERE r.parent_id = m.id AND r.labeler_id = ?1) "
        "ORDER BY m.id LIMIT ?3",
    [LTASK_REVIEW] =
        ("SELECT m.id, m.project_id, m.text FROM messages m WHERE m.state = 'pending' "
         "AND (?2 = 0 OR m.project_id = ?2) AND m.author_id != ?1 ORDER BY m.id LIMIT ?3"),
};

// Copies the start of text into out (size n), cut at a code point boundary.
static void preview(char *out, size_t n, const char *text) {
    size_t len = text ? strlen(text) : 0;
    if (len >= n) {
        len = n - 1;
        while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80) len--;  // continuation byte
    }
    if (len) memcpy(out, text, len);
    out[len] = 0;
}

int label_queue_list(LabelDb *d, const LabelUser *actor, int64_t project_id, LabelTask **tasks,
                     int *n, int max, Err *e) {
    *tasks = NULL;
    *n = 0;
    if (access_role(actor, LROLE_LABELER, "queue", e)) return -1;
    if (max <= 0) return 0;
    LabelTask *t = calloc((size_t)max, sizeof *t);
    if (!t) return ERR(e, ERR_NOMEM, "out of memory");
    int k = 0;
    // Drafts first: they are assigned, so nobody else will do them.
    static const LabelTaskType order[] = {LTASK_EDIT_DRAFT, LTASK_REVIEW, LTASK_RANK, LTASK_REPLY};
    for (size_t o = 0; o < sizeof order / sizeof *order && k < max; o++) {
        LabelTaskType type = order[o];
        if (type == LTASK_REVIEW && actor->role < LROLE_REVIEWER) continue;
        sqlite3_stmt *st;
        if (label_prepare(d, task_sql[type], &st, e)) return free(t), -1;
        sqlite3_bind_int64(st, 1, actor->id);
        sqlite3_bind_int64(st, 2, project_id);
        sqlite3_bind_int(st, 3, max - k);
        if (type == LTASK_REPLY) sqlite3_bind_int(st, 4, LABEL_WANT_REPLIES);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && k < max) {
            t[k].type = type;
            t[k].id = sqlite3_column_int64(st, 0);
            t[k].project_id = sqlite3_column_int64(st, 1);
            preview(t[k].preview, sizeof t[k].preview, (const char *)sqlite3_column_text(st, 2));
            k++;
        }
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return free(t), label_sql_err(d, e, "queue");
    }
    *tasks = t;
    *n = k;
    return 0;
}
