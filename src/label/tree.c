// tree.c: loading a project's message trees into memory for export.
//
// Rows come ordered by id; a reply always has a larger id than its parent (it was
// inserted after it), so each parent is already placed when its children arrive.
#include "label/tree.h"

#include <stdlib.h>
#include <string.h>

#include "label/access.h"

void forest_free(Forest *f) {
    for (int i = 0; i < f->n; i++) {
        free(f->v[i].text);
        free(f->v[i].system);
        free(f->v[i].kids);
    }
    free(f->v);
    free(f->roots);
    memset(f, 0, sizeof *f);
}

static int push_int(int **a, int *n, int x) {
    // Grows in powers of two: capacity is implied by n.
    if ((*n & (*n - 1)) == 0) {
        int *p = realloc(*a, (size_t)(*n ? 2 * *n : 1) * sizeof *p);
        if (!p) return -1;
        *a = p;
    }
    (*a)[(*n)++] = x;
    return 0;
}

// Binary search of id among the nodes (ordered by id).
int find_node(const Forest *f, int64_t id) {
    int lo = 0, hi = f->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (f->v[mid].id == id) return mid;
        if (f->v[mid].id < id) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

int forest_load(LabelDb *d, int64_t project_id, Forest *f, Err *e) {
    memset(f, 0, sizeof *f);
    sqlite3_stmt *st;
    if (label_prepare(d, "SELECT id, IFNULL(parent_id, 0), author_id, created, role, state, category, text, system "
                         "FROM messages WHERE project_id = ? ORDER BY id", &st, e))
        return -1;
    sqlite3_bind_int64(st, 1, project_id);
    int rc, cap = 0;
    bool oom = false;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && !oom) {
        if (f->n == cap) {
            TreeNode *p = realloc(f->v, (size_t)(cap = cap ? 2 * cap : 256) * sizeof *p);
            if (!p) { oom = true; break; }
            f->v = p;
        }
        TreeNode *x = &f->v[f->n];
        memset(x, 0, sizeof *x);
        x->id = sqlite3_column_int64(st, 0);
        x->parent_id = sqlite3_column_int64(st, 1);
        x->author_id = sqlite3_column_int64(st, 2);
        x->created = sqlite3_column_int64(st, 3);
        x->assistant = !strcmp((const char *)sqlite3_column_text(st, 4), "assistant");
        x->state = label_state_parse((const char *)sqlite3_column_text(st, 5));
        x->category = sqlite3_column_type(st, 6) == SQLITE_NULL
                          ? -1 : label_category_parse((const char *)sqlite3_column_text(st, 6));
        x->text = label_col_dup(st, 7, &oom);
        x->system = label_col_dup(st, 8, &oom);
        x->parent = -1;
        f->n++;
        // A parent outside the project cannot be made through the API; such a row is
        // exported as a root rather than dropped.
        x->parent = x->parent_id ? find_node(f, x->parent_id) : -1;
        if (x->parent >= 0 ? push_int(&f->v[x->parent].kids, &f->v[x->parent].n_kids, f->n - 1)
                           : push_int(&f->roots, &f->n_roots, f->n - 1))
            oom = true;
    }
    sqlite3_finalize(st);
    if (oom) return forest_free(f), ERR(e, ERR_NOMEM, "out of memory");
    if (rc != SQLITE_DONE) return forest_free(f), label_sql_err(d, e, "load messages");

    if (label_prepare(d, "SELECT i.message_id, i.position FROM ranking_items i "
                         "JOIN messages m ON m.id = i.message_id WHERE m.project_id = ?", &st, e))
        return forest_free(f), -1;
    sqlite3_bind_int64(st, 1, project_id);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int k = find_node(f, sqlite3_column_int64(st, 0));
        if (k >= 0) f->v[k].rank_sum += sqlite3_column_int(st, 1), f->v[k].rank_n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return forest_free(f), label_sql_err(d, e, "load rankings");
    return 0;
}
