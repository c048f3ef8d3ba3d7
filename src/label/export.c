// export.c: JSONL exports of a project — SFT conversations (openai), trees (oasst) and
// rankings (for a reward model). Formats in export.h; JSON is written with cJSON, so
// every text is escaped exactly once, whatever it holds.
#include "label/export.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "label/access.h"
#include "label/tree.h"

enum { MAX_DEPTH = 10000 };  // recursion bound: a chain of 10k replies is not a conversation

int label_export_format_parse(const char *s) {
    static const char *const names[] = {"openai", "oasst", "rankings"};
    for (int i = 0; s && i < 3; i++)
        if (!strcmp(s, names[i])) return i;
    return -1;
}

static bool allowed(const TreeNode *x, const LabelExportOptions *o) {
    return x->state == LSTATE_ACCEPTED || (o->include_rejected && x->state == LSTATE_REJECTED);
}

// Prints j as one line of out and frees it.
static int put_line(cJSON *j, Buf *out, size_t *lines, Err *e) {
    char *s = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    if (!s || buf_append(out, s, strlen(s)) || buf_putc(out, '\n')) {
        free(s);
        return ERR(e, ERR_NOMEM, "out of memory");
    }
    free(s);
    (*lines)++;
    return 0;
}

static cJSON *chat_message(const char *role, const char *content, int weight) {
    cJSON *m = cJSON_CreateObject();
    if (!m || !cJSON_AddStringToObject(m, "role", role) || !cJSON_AddStringToObject(m, "content", content) ||
        (weight == 0 && !cJSON_AddNumberToObject(m, "weight", 0)))
        return cJSON_Delete(m), NULL;
    return m;
}

// The conversation root..path[n-1] as {"messages": [...]}, cut after its last assistant
// message; NULL in *conv (and 0 returned) when it has none.
static int path_conv(const Forest *f, const int *path, int n, bool weights, cJSON **conv) {
    *conv = NULL;
    int last = n - 1;
    while (last >= 0 && !f->v[path[last]].assistant) last--;
    if (last < 0) return 0;
    cJSON *j = cJSON_CreateObject(), *msgs = j ? cJSON_AddArrayToObject(j, "messages") : NULL;
    if (!msgs) return cJSON_Delete(j), -1;
    const TreeNode *root = &f->v[path[0]];
    if (root->system && !cJSON_AddItemToArray(msgs, chat_message("system", root->system, 1)))
        return cJSON_Delete(j), -1;
    for (int i = 0; i <= last; i++) {
        const TreeNode *x = &f->v[path[i]];
        int w = weights && x->assistant && x->state != LSTATE_ACCEPTED ? 0 : 1;
        if (!cJSON_AddItemToArray(msgs, chat_message(x->assistant ? "assistant" : "user", x->text, w)))
            return cJSON_Delete(j), -1;
    }
    *conv = j;
    return 0;
}

typedef struct {
    const Forest *f;
    const LabelExportOptions *o;
    int path[MAX_DEPTH];
    Buf *out;
    size_t *lines;
} Walk;

// Every root-to-leaf path under node k (already the path's depth-th element).
static int walk_paths(Walk *w, int k, int depth, Err *e) {
    if (depth >= MAX_DEPTH) return ERR(e, ERR_FORMAT, "message %lld: tree deeper than %d", (long long)w->f->v[k].id, MAX_DEPTH);
    w->path[depth] = k;
    const TreeNode *x = &w->f->v[k];
    bool leaf = true;
    for (int i = 0; i < x->n_kids; i++)
        if (allowed(&w->f->v[x->kids[i]], w->o)) {
            leaf = false;
            if (walk_paths(w, x->kids[i], depth + 1, e)) return -1;
        }
    if (!leaf) return 0;
    cJSON *conv;
    if (path_conv(w->f, w->path, depth + 1, w->o->include_rejected, &conv)) return ERR(e, ERR_NOMEM, "out of memory");
    return conv ? put_line(conv, w->out, w->lines, e) : 0;
}

// An oasst message object with its allowed replies, nested.
static cJSON *oasst_node(const Forest *f, int k, const LabelExportOptions *o, int depth, Err *e) {
    const TreeNode *x = &f->v[k];
    if (depth >= MAX_DEPTH) return ERR(e, ERR_FORMAT, "message %lld: tree deeper than %d", (long long)x->id, MAX_DEPTH), NULL;
    char id[32], parent[32], author[32];
    snprintf(id, sizeof id, "%lld", (long long)x->id);
    snprintf(parent, sizeof parent, "%lld", (long long)x->parent_id);
    snprintf(author, sizeof author, "%lld", (long long)x->author_id);
    cJSON *m = cJSON_CreateObject();
    bool ok = m && cJSON_AddStringToObject(m, "message_id", id) &&
              (x->parent_id ? cJSON_AddStringToObject(m, "parent_id", parent) != NULL
                            : cJSON_AddNullToObject(m, "parent_id") != NULL) &&
              cJSON_AddStringToObject(m, "user_id", author) &&
              cJSON_AddNumberToObject(m, "created", (double)x->created) &&
              cJSON_AddStringToObject(m, "text", x->text) &&
              cJSON_AddStringToObject(m, "role", x->assistant ? "assistant" : "prompter") &&
              cJSON_AddBoolToObject(m, "review_result", x->state == LSTATE_ACCEPTED) &&
              cJSON_AddFalseToObject(m, "deleted");
    if (ok && x->parent < 0 && x->category >= 0)
        ok = cJSON_AddStringToObject(m, "category", label_category_name(x->category)) != NULL;
    if (ok && x->parent < 0 && x->system) ok = cJSON_AddStringToObject(m, "system", x->system) != NULL;
    // rank: 0 = best among the ranked siblings, by mean position over all rankings.
    int rank = -1;
    if (ok && x->rank_n && x->parent >= 0) {
        const TreeNode *p = &f->v[x->parent];
        double mine = x->rank_sum / x->rank_n;
        rank = 0;
        for (int i = 0; i < p->n_kids; i++) {
            const TreeNode *s = &f->v[p->kids[i]];
            if (s == x || !s->rank_n || !allowed(s, o)) continue;
            double theirs = s->rank_sum / s->rank_n;
            if (theirs < mine || (theirs == mine && s->id < x->id)) rank++;
        }
    }
    if (ok) ok = (rank >= 0 ? cJSON_AddNumberToObject(m, "rank", rank) : cJSON_AddNullToObject(m, "rank")) != NULL;
    cJSON *replies = ok ? cJSON_AddArrayToObject(m, "replies") : NULL;
    if (!replies) return cJSON_Delete(m), ERR(e, ERR_NOMEM, "out of memory"), NULL;
    for (int i = 0; i < x->n_kids; i++) {
        if (!allowed(&f->v[x->kids[i]], o)) continue;
        cJSON *r = oasst_node(f, x->kids[i], o, depth + 1, e);
        if (!r) return cJSON_Delete(m), NULL;
        cJSON_AddItemToArray(replies, r);
    }
    return m;
}

// context: the messages root..k (the system message first, when the root has one).
static cJSON *context_of(const Forest *f, int k) {
    int chain[MAX_DEPTH], n = 0;
    for (int x = k; x >= 0 && n < MAX_DEPTH; x = f->v[x].parent) chain[n++] = x;
    cJSON *a = cJSON_CreateArray();
    const TreeNode *root = &f->v[chain[n - 1]];
    if (a && root->system && !cJSON_AddItemToArray(a, chat_message("system", root->system, 1)))
        return cJSON_Delete(a), NULL;
    for (int i = n - 1; a && i >= 0; i--) {
        const TreeNode *x = &f->v[chain[i]];
        if (!cJSON_AddItemToArray(a, chat_message(x->assistant ? "assistant" : "user", x->text, 1)))
            return cJSON_Delete(a), NULL;
    }
    return a;
}

// One line per ranking: rows come ordered by ranking, then position (best first).
static int export_rankings(LabelDb *d, const Forest *f, int64_t project_id, Buf *out, size_t *lines, Err *e) {
    sqlite3_stmt *st;
    if (label_prepare(d, "SELECT r.id, r.parent_id, u.name, i.message_id FROM rankings r "
                         "JOIN users u ON u.id = r.labeler_id JOIN ranking_items i ON i.ranking_id = r.id "
                         "JOIN messages m ON m.id = r.parent_id WHERE m.project_id = ? "
                         "ORDER BY r.id, i.position", &st, e))
        return -1;
    sqlite3_bind_int64(st, 1, project_id);
    cJSON *line = NULL, *ranked = NULL;
    int64_t cur = -1;
    int rc = 0, step;
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t rid = sqlite3_column_int64(st, 0);
        int parent = find_node(f, sqlite3_column_int64(st, 1));
        int item = find_node(f, sqlite3_column_int64(st, 3));
        if (parent < 0 || item < 0) continue;  // cannot happen: rows of this project
        if (rid != cur) {
            if (line) rc = put_line(line, out, lines, e);
            cur = rid;
            line = cJSON_CreateObject();
            cJSON *ctx = context_of(f, parent);
            if (rc || !line || !ctx || !cJSON_AddNumberToObject(line, "parent_id", (double)f->v[parent].id) ||
                !cJSON_AddStringToObject(line, "labeler", (const char *)sqlite3_column_text(st, 2)) ||
                !cJSON_AddItemToObject(line, "context", ctx) || !(ranked = cJSON_AddArrayToObject(line, "ranked"))) {
                if (!rc) rc = ERR(e, ERR_NOMEM, "out of memory");
                break;
            }
        }
        cJSON *r = cJSON_CreateObject();
        if (!r || !cJSON_AddNumberToObject(r, "message_id", (double)f->v[item].id) ||
            !cJSON_AddStringToObject(r, "text", f->v[item].text) || !cJSON_AddItemToArray(ranked, r))
            rc = ERR(e, ERR_NOMEM, "out of memory");
    }
    if (!rc && step != SQLITE_DONE) rc = label_sql_err(d, e, "rankings");
    sqlite3_finalize(st);
    if (!rc && line) return put_line(line, out, lines, e);
    cJSON_Delete(line);
    return rc;
}

int label_export(LabelDb *d, const LabelUser *actor, int64_t project_id, const LabelExportOptions *o,
                 Buf *out, size_t *lines, Err *e) {
    *lines = 0;
    if (access_role(actor, LROLE_REVIEWER, "export", e)) return -1;
    Forest f;
    if (forest_load(d, project_id, &f, e)) return -1;
    int rc = 0;
    if (o->format == LEXPORT_OPENAI) {
        Walk *w = malloc(sizeof *w);
        if (!w) rc = ERR(e, ERR_NOMEM, "out of memory");
        else *w = (Walk){.f = &f, .o = o, .out = out, .lines = lines};
        for (int r = 0; !rc && r < f.n_roots; r++)
            if (allowed(&f.v[f.roots[r]], o)) rc = walk_paths(w, f.roots[r], 0, e);
        free(w);
    } else if (o->format == LEXPORT_OASST) {
        for (int r = 0; !rc && r < f.n_roots; r++) {
            const TreeNode *x = &f.v[f.roots[r]];
            if (!allowed(x, o)) continue;
            char id[32];
            snprintf(id, sizeof id, "%lld", (long long)x->id);
            cJSON *prompt = oasst_node(&f, f.roots[r], o, 0, e), *tree = cJSON_CreateObject();
            if (!prompt || !tree || !cJSON_AddStringToObject(tree, "message_tree_id", id) ||
                !cJSON_AddStringToObject(tree, "tree_state", "ready_for_export")) {
                cJSON_Delete(prompt);
                cJSON_Delete(tree);
                rc = prompt ? ERR(e, ERR_NOMEM, "out of memory") : -1;
                break;
            }
            cJSON_AddItemToObject(tree, "prompt", prompt);
            rc = put_line(tree, out, lines, e);
        }
    } else
        rc = export_rankings(d, &f, project_id, out, lines, e);
    forest_free(&f);
    return rc;
}
