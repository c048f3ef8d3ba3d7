// conversation.c: a message tree seen from outside — the path root..id as a chat
// Conversation (what a model is asked to continue: `posttrain label draft`, the web
// app's "draft a reply"), and a project's messages as a list (`posttrain label list`).
#include <stdlib.h>
#include <string.h>

#include "label/access.h"

int label_conversation(LabelDb *d, const LabelUser *actor, int64_t id, Conversation *c, Err *e) {
    memset(c, 0, sizeof *c);
    int64_t *ids = NULL;
    int n = 0;
    if (label_message_path(d, actor, id, &ids, &n, e)) return -1;
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        LabelMessage m;
        if ((rc = label_message_get(d, actor, ids[i], &m, e))) break;
        if (i == 0 && m.system && *m.system) rc = conv_add(c, ROLE_SYSTEM, m.system, 0, e);
        if (!rc) rc = conv_add(c, m.assistant ? ROLE_ASSISTANT : ROLE_USER, m.text, 1, e);
        label_message_free(&m);
    }
    free(ids);
    if (rc) conv_free(c), memset(c, 0, sizeof *c);
    return rc ? -1 : 0;
}

int label_message_list(LabelDb *d, const LabelUser *actor, int64_t project_id, int state, int64_t **ids,
                       int *n, Err *e) {
    *ids = NULL;
    *n = 0;
    if (access_role(actor, LROLE_LABELER, "list messages", e)) return -1;
    if (state < -1 || state > LSTATE_REJECTED) return ERR(e, ERR_ARG, "list messages: bad state %d", state);
    sqlite3_stmt *st;
    // The read rule of access_message as SQL (as label_message_replies): admins and
    // reviewers all, labelers their own and accepted ones (draft context aside: those
    // are reached through the draft, not listed).
    if (label_prepare(d, "SELECT id FROM messages WHERE project_id = ?1 "
                         "AND (?3 >= 1 OR author_id = ?2 OR state = 'accepted') "
                         "AND (?4 IS NULL OR state = ?4) ORDER BY id", &st, e))
        return -1;
    sqlite3_bind_int64(st, 1, project_id);
    sqlite3_bind_int64(st, 2, actor->id);
    sqlite3_bind_int(st, 3, actor->role);
    label_bind_text(st, 4, state >= 0 ? label_state_name(state) : NULL);
    int rc, cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            int64_t *p = realloc(*ids, (size_t)(cap = cap ? 2 * cap : 64) * sizeof *p);
            if (!p) {
                sqlite3_finalize(st);
                free(*ids);
                *ids = NULL, *n = 0;
                return ERR(e, ERR_NOMEM, "out of memory");
            }
            *ids = p;
        }
        (*ids)[(*n)++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        free(*ids);
        *ids = NULL, *n = 0;
        return label_sql_err(d, e, "list messages");
    }
    return 0;
}
