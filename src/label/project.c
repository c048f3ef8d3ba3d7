// project.c: labeling projects — a name and the guidelines its labelers follow.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "label/access.h"

int label_project_create(LabelDb *d, const LabelUser *actor, const char *name,
                         const char *guidelines, int64_t *id, Err *e) {
    if (access_role(actor, LROLE_ADMIN, "create project", e)) return -1;
    if (!name || !*name || strlen(name) > 200) return ERR(e, ERR_ARG, "project name: 1 to 200 bytes");
    if (label_text_check(name, "project name", false, e)) return -1;
    if (!guidelines) guidelines = label_default_guidelines;
    if (label_text_check(guidelines, "guidelines", true, e)) return -1;
    sqlite3_stmt *st;
    if (label_prepare(d, "INSERT INTO projects (name, guidelines, created) VALUES (?, ?, ?)", &st, e))
        return -1;
    label_bind_text(st, 1, name);
    label_bind_text(st, 2, guidelines);
    sqlite3_bind_int64(st, 3, label_now());
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT) return ERR(e, ERR_ARG, "project %s already exists", name);
    if (rc != SQLITE_DONE) return label_sql_err(d, e, "create project");
    if (id) *id = sqlite3_last_insert_rowid(d->db);
    return 0;
}

int label_project_find(LabelDb *d, const LabelUser *actor, const char *name, int64_t *id, Err *e) {
    if (access_role(actor, LROLE_LABELER, "find project", e)) return -1;
    sqlite3_stmt *st;
    if (label_prepare(d, "SELECT id FROM projects WHERE name = ?", &st, e)) return -1;
    label_bind_text(st, 1, name);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) return 0;
    if (rc == SQLITE_DONE) return ERR(e, ERR_ARG, "no project %.200s", name ? name : "");
    return label_sql_err(d, e, "find project");
}

int label_project_guidelines(LabelDb *d, const LabelUser *actor, int64_t project_id, char **md, Err *e) {
    if (access_role(actor, LROLE_LABELER, "guidelines", e)) return -1;
    sqlite3_stmt *st;
    if (label_prepare(d, "SELECT guidelines FROM projects WHERE id = ?", &st, e)) return -1;
    sqlite3_bind_int64(st, 1, project_id);
    int rc = sqlite3_step(st);
    bool oom = false;
    *md = rc == SQLITE_ROW ? label_col_dup(st, 0, &oom) : NULL;
    sqlite3_finalize(st);
    if (oom) return ERR(e, ERR_NOMEM, "out of memory");
    if (rc == SQLITE_ROW) return 0;
    if (rc == SQLITE_DONE) return ERR(e, ERR_ARG, "no project %lld", (long long)project_id);
    return label_sql_err(d, e, "guidelines");
}

int label_project_list(LabelDb *d, const LabelUser *actor, LabelProject **ps, int *n, Err *e) {
    *ps = NULL;
    *n = 0;
    if (access_role(actor, LROLE_LABELER, "projects", e)) return -1;
    sqlite3_stmt *st;
    if (label_prepare(d, "SELECT id, name FROM projects ORDER BY id", &st, e)) return -1;
    int rc, cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            LabelProject *p = realloc(*ps, (size_t)(cap = cap ? 2 * cap : 8) * sizeof *p);
            if (!p) return sqlite3_finalize(st), free(*ps), *ps = NULL, *n = 0, ERR(e, ERR_NOMEM, "out of memory");
            *ps = p;
        }
        LabelProject *p = &(*ps)[(*n)++];
        p->id = sqlite3_column_int64(st, 0);
        snprintf(p->name, sizeof p->name, "%s", (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return free(*ps), *ps = NULL, *n = 0, label_sql_err(d, e, "projects");
    return 0;
}

int label_project_get(LabelDb *d, const LabelUser *actor, int64_t id, LabelProject *p, Err *e) {
    if (access_role(actor, LROLE_LABELER, "project", e)) return -1;
    sqlite3_stmt *st;
    if (label_prepare(d, "SELECT id, name FROM projects WHERE id = ?", &st, e)) return -1;
    sqlite3_bind_int64(st, 1, id);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        p->id = sqlite3_column_int64(st, 0);
        snprintf(p->name, sizeof p->name, "%s", (const char *)sqlite3_column_text(st, 1));
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) return 0;
    if (rc == SQLITE_DONE) return ERR(e, ERR_ARG, "no project %lld", (long long)id);
    return label_sql_err(d, e, "project");
}
