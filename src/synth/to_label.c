// to_label.c: conversations into a labeling project as drafts to edit (to_label.h).
#include "synth/to_label.h"

#include <stdlib.h>
#include <string.h>

int synth_label_open(SynthLabel *l, const char *db_path, const char *project, const char *assignee,
                     const char *model, Err *e) {
    memset(l, 0, sizeof *l);
    if (!(l->model = strdup(model && *model ? model : "synth"))) return ERR(e, ERR_NOMEM, "out of memory");
    if (label_db_open(&l->db, db_path, NULL, e) || label_user_local(&l->db, &l->actor, e)) goto fail;
    if (label_project_find(&l->db, &l->actor, project, &l->project_id, e)) {
        err_prefix(e, "%s: ", db_path);
        goto fail;
    }
    l->assignee_id = l->actor.id;
    if (assignee) {
        LabelUser u;
        if (label_user_find(&l->db, assignee, &u, e)) {
            err_prefix(e, "%s: assignee: ", db_path);
            goto fail;
        }
        l->assignee_id = u.id;
    }
    return 0;
fail:
    synth_label_close(l);
    return -1;
}

int synth_label_route(SynthLabel *l, const Conversation *c, Err *e) {
    int i = c->n > 0 && c->msgs[0].role == ROLE_SYSTEM ? 1 : 0;
    if (c->n - i < 2 || c->msgs[c->n - 1].role != ROLE_ASSISTANT)
        return ERR(e, ERR_ARG, "label: a conversation must end with an assistant message");
    if (label_tx_begin(&l->db, e)) return -1;
    int64_t parent = 0;
    int rc = label_prompt_create(&l->db, &l->actor, l->project_id, LCAT_CHAT, c->msgs[i].content, &parent, e);
    for (int k = i + 1; !rc && k < c->n - 1; k++)
        rc = label_reply_add(&l->db, &l->actor, parent, c->msgs[k].content, &parent, e);
    if (!rc) rc = label_draft_add(&l->db, &l->actor, parent, l->model, c->msgs[c->n - 1].content,
                                  l->assignee_id, NULL, e);
    if (label_tx_end(&l->db, rc, rc ? NULL : e)) rc = -1;
    if (!rc) l->routed++;
    return rc ? -1 : 0;
}

void synth_label_close(SynthLabel *l) {
    label_db_close(&l->db);
    free(l->model);
    memset(l, 0, sizeof *l);
}
