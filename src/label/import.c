// import.c: data sets into message trees (rules in import.h).
#include "label/import.h"

#include <stdio.h>
#include <string.h>

#include "label/access.h"

// The id of parent's child (or the root, parent 0) with this role, text and system, or 0.
static int find_child(LabelDb *d, sqlite3_stmt *st, int64_t project_id, int64_t parent, bool assistant,
                      const char *text, const char *system, int64_t *id, Err *e) {
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, project_id);
    if (parent) sqlite3_bind_int64(st, 2, parent);
    else sqlite3_bind_null(st, 2);
    label_bind_text(st, 3, assistant ? "assistant" : "user");
    label_bind_text(st, 4, text);
    label_bind_text(st, 5, system);
    int rc = sqlite3_step(st);
    *id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : label_sql_err(d, e, "import");
}

// Why conversation c cannot be a path (NULL if it can).
static const char *misfit(const Conversation *c) {
    int i = c->n > 0 && c->msgs[0].role == ROLE_SYSTEM ? 1 : 0;
    if (i == c->n) return "no user message";
    for (int k = i; k < c->n; k++) {
        ChatRole want = (k - i) % 2 ? ROLE_ASSISTANT : ROLE_USER;
        if (c->msgs[k].role != want) return "roles do not alternate user, assistant, ... (after one system message)";
        if (label_text_check(c->msgs[k].content, "text", false, NULL)) return "an empty or over-long message";
    }
    return NULL;
}

static int import_conv(LabelDb *d, sqlite3_stmt *find, const LabelUser *actor, int64_t project_id,
                       const DataRecord *r, const LabelImportOptions *o, LabelImportStats *s, Err *e) {
    const Conversation *c = &r->conv;
    int i = c->n > 0 && c->msgs[0].role == ROLE_SYSTEM ? 1 : 0;
    const char *system = i ? c->msgs[0].content : NULL;
    int cat = label_category_parse(r->category);
    int64_t parent = 0;
    for (int k = i; k < c->n; k++) {
        bool assistant = c->msgs[k].role == ROLE_ASSISTANT;
        int64_t id;
        if (find_child(d, find, project_id, parent, assistant, c->msgs[k].content, k == i ? system : NULL, &id, e))
            return -1;
        if (id) s->merged++;
        else if (msg_insert(d, project_id, parent, assistant, c->msgs[k].content, k == i ? system : NULL,
                            k == i ? (cat >= 0 ? cat : -1) : -1, actor->id, o->state, &id, e))
            return -1;
        else s->messages++;
        parent = id;
    }
    return 0;
}

int label_import_file(LabelDb *d, const LabelUser *actor, int64_t project_id, const char *path,
                      const LabelImportOptions *o, LabelImportStats *s, Err *e) {
    if (access_role(actor, LROLE_ADMIN, "import", e)) return -1;
    DataReader *rd;
    if (data_reader_open(&rd, path, &o->reader, e)) return -1;
    sqlite3_stmt *find = NULL;
    DataRecord rec = {0};
    int rc = label_tx_begin(d, e);
    if (!rc) rc = label_prepare(d, "SELECT id FROM messages WHERE project_id = ?1 AND parent_id IS ?2 AND role = ?3 "
                                   "AND text = ?4 AND system IS ?5 LIMIT 1", &find, e);
    int got = 0;
    while (!rc && (got = data_reader_next(rd, &rec, e)) == 1) {
        const char *why = rec.kind != REC_CONV ? "not a conversation" : misfit(&rec.conv);
        if (why) {
            if (!s->skipped++) snprintf(s->first_skip, sizeof s->first_skip, "%s: %s", rec.where, why);
            continue;
        }
        s->records++;
        rc = import_conv(d, find, actor, project_id, &rec, o, s, e);
        if (rc) err_prefix(e, "%s: ", rec.where);
    }
    if (!rc && got < 0) rc = -1;
    sqlite3_finalize(find);
    data_record_free(&rec);
    data_reader_close(rd);
    return label_tx_end(d, rc, e);
}
