// fmt_oasst.c: OpenAssistant (oasst1/oasst2) message trees -> conversation threads.
//
// Two shapes of the same data:
//   *.trees.jsonl: one tree per line, {"message_tree_id", "prompt": {message, "replies": [...]}}
//   message tables: one message per line {message_id, parent_id, role, text, lang, rank,
//                   deleted, review_result}; all lines are gathered, then linked by parent_id.
// A message has role "prompter" (-> user) or "assistant", and the roles alternate down a
// tree, a prompter at the root. A deleted message, or one with review_result false, is
// dropped with its whole subtree (each message counted in ReaderStats.deleted).
//
// Threads: every root-to-leaf path, ending at an assistant message. A path that would
// end on a prompter without a reply stops at the assistant before it, unless a longer
// thread already carries that assistant (so no thread is the prefix of another). With
// oasst_best_only, one thread per tree: at each step the best-ranked reply (lowest rank;
// replies without a rank last; ties: the first). With a lang filter, a thread any of whose
// messages has another lang is dropped (counted in ReaderStats.filtered).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/fmt.h"

enum { ROLE_PROMPTER = 0, ROLE_ASSIST = 1, MAX_DEPTH = 4096 };

typedef struct {
    char *id, *parent_id;  // message tables only
    const char *text;      // borrowed from the cJSON (trees) or owned (tables): see own_text
    char *own_text;
    char *lang;
    int role;
    double rank;
    bool has_rank, dead, visited, bad;
    int *kids;
    int nkids, capkids;
    size_t line;           // message tables: the line it came from
} ONode;

typedef struct {
    ONode *v;
    int n, cap;
} ONodes;

static void nodes_free(ONodes *ns) {
    for (int i = 0; i < ns->n; i++) {
        ONode *x = &ns->v[i];
        free(x->id);
        free(x->parent_id);
        free(x->own_text);
        free(x->lang);
        free(x->kids);
    }
    free(ns->v);
    memset(ns, 0, sizeof *ns);
}

static int nodes_add(ONodes *ns, Err *e) {
    if (ns->n == ns->cap) {
        int cap = ns->cap ? ns->cap * 2 : 64;
        ONode *v = realloc(ns->v, (size_t)cap * sizeof *v);
        if (!v) return ERR(e, ERR_NOMEM, "out of memory");
        ns->v = v;
        ns->cap = cap;
    }
    memset(&ns->v[ns->n], 0, sizeof ns->v[ns->n]);
    return ns->n++;
}

static int add_kid(ONode *p, int kid, Err *e) {
    if (p->nkids == p->capkids) {
        int cap = p->capkids ? p->capkids * 2 : 4;
        int *k = realloc(p->kids, (size_t)cap * sizeof *k);
        if (!k) return ERR(e, ERR_NOMEM, "out of memory");
        p->kids = k;
        p->capkids = cap;
    }
    p->kids[p->nkids++] = kid;
    return 0;
}

// The fields of one message object (at field path `at`) into x.
static int parse_message(FmtCtx *c, const cJSON *m, const char *at, ONode *x, Err *e) {
    if (!cJSON_IsObject(m)) return FMT_FAIL(c, DERR_FIELD, e, "%s: %s: expected an object", c->where, at);
    const char *role = fmt_str(m, "role");
    if (!role) return FMT_FAIL(c, DERR_FIELD, e, "%s: %s.role: expected a string", c->where, at);
    if (!strcmp(role, "prompter") || !strcmp(role, "user")) x->role = ROLE_PROMPTER;
    else if (!strcmp(role, "assistant")) x->role = ROLE_ASSIST;
    else
        return FMT_FAIL(c, DERR_ROLE, e, "%s: %s.role: expected prompter|assistant, got \"%.40s\"",
                        c->where, at, role);
    const cJSON *del = cJSON_GetObjectItemCaseSensitive(m, "deleted");
    const cJSON *rev = cJSON_GetObjectItemCaseSensitive(m, "review_result");
    x->dead = cJSON_IsTrue(del) || cJSON_IsFalse(rev);
    if (!(x->text = fmt_str(m, "text")) && !x->dead)
        return FMT_FAIL(c, DERR_FIELD, e, "%s: %s.text: expected a string", c->where, at);
    const cJSON *rank = cJSON_GetObjectItemCaseSensitive(m, "rank");
    if (rank && !cJSON_IsNull(rank) && !cJSON_IsNumber(rank))
        return FMT_FAIL(c, DERR_FIELD, e, "%s: %s.rank: expected a number or null", c->where, at);
    if ((x->has_rank = cJSON_IsNumber(rank))) x->rank = rank->valuedouble;
    return fmt_dup(&x->lang, fmt_str(m, "lang"), e);
}

// ---- threads ----

typedef struct {
    FmtCtx *c;
    ONodes *ns;
    int *path, depth;
    const char *where;  // of the tree's root
} Walk;

static bool has_live_kid(const ONodes *ns, const ONode *x) {
    for (int k = 0; k < x->nkids; k++)
        if (!ns->v[x->kids[k]].dead) return true;
    return false;
}

static int emit_path(Walk *w, Err *e) {
    const ONodes *ns = w->ns;
    const char *want = w->c->o->lang;
    if (want)
        for (int i = 0; i < w->depth; i++) {
            const char *l = ns->v[w->path[i]].lang;
            if (l && strcmp(l, want)) {
                w->c->stats->filtered++;
                return 0;
            }
        }
    DataRecord rec = {.kind = REC_CONV};
    int rc = 0;
    for (int i = 0; i < w->depth && !rc; i++) {
        const ONode *x = &ns->v[w->path[i]];
        rc = conv_add(&rec.conv, x->role == ROLE_ASSIST ? ROLE_ASSISTANT : ROLE_USER, x->text, 1, e);
    }
    if (!rc) rc = fmt_dup(&rec.lang, ns->v[w->path[0]].lang, e);
    if (!rc) {
        snprintf(rec.where, sizeof rec.where, "%s", w->where);
        const char *saved = w->c->where;
        w->c->where = w->where;
        rc = fmt_emit(w->c, &rec, e);
        w->c->where = saved;
    }
    data_record_free(&rec);
    return rc;
}

// The best of x's live children (a prompter child only if it has a live reply), or -1.
static int best_kid(const ONodes *ns, const ONode *x) {
    int best = -1;
    for (int k = 0; k < x->nkids; k++) {
        const ONode *y = &ns->v[x->kids[k]];
        if (y->dead || (y->role == ROLE_PROMPTER && !has_live_kid(ns, y))) continue;
        if (best < 0) { best = x->kids[k]; continue; }
        const ONode *b = &ns->v[best];
        if (y->has_rank && (!b->has_rank || y->rank < b->rank)) best = x->kids[k];
    }
    return best;
}

static int walk(Walk *w, int i, Err *e) {
    const ONodes *ns = w->ns;
    const ONode *x = &ns->v[i];
    if (w->depth == MAX_DEPTH)
        return FMT_FAIL(w->c, DERR_FIELD, e, "%s: a thread deeper than %d messages", w->where, MAX_DEPTH);
    w->path[w->depth++] = i;
    int rc = 0, went = 0;
    if (w->c->o->oasst_best_only) {
        int b = best_kid(ns, x);
        if (b >= 0) went = 1, rc = walk(w, b, e);
    } else {
        for (int k = 0; k < x->nkids && !rc; k++) {
            const ONode *y = &ns->v[x->kids[k]];
            // A prompter child without a live reply leads nowhere: x ends a thread instead.
            if (y->dead || (y->role == ROLE_PROMPTER && !has_live_kid(ns, y))) continue;
            went = 1;
            rc = walk(w, x->kids[k], e);
        }
    }
    if (!rc && !went && x->role == ROLE_ASSIST) rc = emit_path(w, e);
    w->depth--;
    return rc;
}

// Counts the messages of dead subtrees under (and at) i in stats.deleted.
static void count_dead(FmtCtx *c, ONodes *ns, int i, bool dead, int depth) {
    ONode *x = &ns->v[i];
    dead = dead || x->dead;
    x->dead = dead;
    if (dead) c->stats->deleted++;
    if (depth >= MAX_DEPTH) return;
    for (int k = 0; k < x->nkids; k++) count_dead(c, ns, x->kids[k], dead, depth + 1);
}

static int threads(FmtCtx *c, ONodes *ns, int root, const char *where, Err *e) {
    count_dead(c, ns, root, false, 0);
    if (ns->v[root].dead) return 0;
    Walk w = {c, ns, malloc(MAX_DEPTH * sizeof(int)), 0, where};
    if (!w.path) return ERR(e, ERR_NOMEM, "out of memory");
    int rc = walk(&w, root, e);
    free(w.path);
    return rc;
}

// ---- trees ----

static int tree_node(FmtCtx *c, ONodes *ns, const cJSON *m, int parent, Buf *at, int depth, Err *e) {
    int i = nodes_add(ns, e);
    if (i < 0) return -1;
    if (parse_message(c, m, at->data, &ns->v[i], e)) return -1;
    if (parent < 0 && ns->v[i].role != ROLE_PROMPTER)
        return FMT_FAIL(c, DERR_ROLE, e, "%s: %s.role: a tree starts with a prompter message",
                        c->where, at->data);
    if (parent >= 0 && ns->v[i].role == ns->v[parent].role)
        return FMT_FAIL(c, DERR_ROLE, e, "%s: %s.role: a reply to a %s message must be %s",
                        c->where, at->data, ns->v[parent].role ? "assistant" : "prompter",
                        ns->v[parent].role ? "prompter" : "assistant");
    if (parent >= 0 && add_kid(&ns->v[parent], i, e)) return -1;
    const cJSON *replies = cJSON_GetObjectItemCaseSensitive(m, "replies");
    if (!replies || cJSON_IsNull(replies)) return 0;
    if (!cJSON_IsArray(replies))
        return FMT_FAIL(c, DERR_FIELD, e, "%s: %s.replies: expected an array", c->where, at->data);
    if (depth >= MAX_DEPTH)
        return FMT_FAIL(c, DERR_FIELD, e, "%s: %s: a tree deeper than %d messages", c->where,
                        at->data, MAX_DEPTH);
    size_t len = at->len;
    int k = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, replies) {
        at->len = len;
        if (buf_appendf(at, ".replies[%d]", k++)) return ERR(e, ERR_NOMEM, "out of memory");
        if (tree_node(c, ns, r, i, at, depth + 1, e)) return -1;
    }
    at->len = len;
    at->data[len] = 0;
    return 0;
}

int fmt_oasst_tree(FmtCtx *c, const cJSON *j, Err *e) {
    const cJSON *prompt = cJSON_GetObjectItemCaseSensitive(j, "prompt");
    if (!cJSON_IsObject(prompt))
        return FMT_FAIL(c, DERR_FIELD, e, "%s: prompt: expected a message object", c->where);
    ONodes ns = {0};
    Buf at = {0};
    int rc = buf_append(&at, "prompt", 6) ? ERR(e, ERR_NOMEM, "out of memory") : 0;
    if (!rc) rc = tree_node(c, &ns, prompt, -1, &at, 0, e);
    if (!rc) rc = threads(c, &ns, 0, c->where, e);
    buf_free(&at);
    nodes_free(&ns);
    return rc;
}

// ---- message tables ----

struct OasstFlat {
    ONodes ns;
};

OasstFlat *oasst_flat_new(void) { return calloc(1, sizeof(OasstFlat)); }

void oasst_flat_free(OasstFlat *t) {
    if (!t) return;
    nodes_free(&t->ns);
    free(t);
}

int oasst_flat_add(OasstFlat *t, FmtCtx *c, const cJSON *j, Err *e) {
    const char *id = fmt_str(j, "message_id");
    const cJSON *parent = cJSON_GetObjectItemCaseSensitive(j, "parent_id");
    if (!id) return FMT_FAIL(c, DERR_FIELD, e, "%s: message_id: expected a string", c->where);
    if (parent && !cJSON_IsNull(parent) && !cJSON_IsString(parent))
        return FMT_FAIL(c, DERR_FIELD, e, "%s: parent_id: expected a string or null", c->where);
    ONode x = {0};
    if (parse_message(c, j, "message", &x, e)) {
        free(x.lang);
        return -1;
    }
    // The table outlives the line's cJSON: keep copies.
    const char *colon = strrchr(c->where, ':');
    x.line = colon ? strtoul(colon + 1, NULL, 10) : 0;
    int i = nodes_add(&t->ns, e);
    if (i < 0 || fmt_dup(&x.id, id, e) || fmt_dup(&x.parent_id, cJSON_IsString(parent) ?
                                                  parent->valuestring : NULL, e) ||
        fmt_dup(&x.own_text, x.text, e)) {
        free(x.id);
        free(x.parent_id);
        free(x.lang);
        if (i >= 0) t->ns.n--;
        return -1;
    }
    x.text = x.own_text;
    t->ns.v[i] = x;
    return 0;
}

static const ONodes *sort_ns;
static int by_id(const void *a, const void *b) {
    int r = strcmp(sort_ns->v[*(const int *)a].id, sort_ns->v[*(const int *)b].id);
    return r ? r : *(const int *)a - *(const int *)b;  // stable: the first line wins
}

static int find_id(const ONodes *ns, const int *order, const char *id) {
    int lo = 0, hi = ns->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2, r = strcmp(ns->v[order[mid]].id, id);
        if (r == 0) {
            while (mid > 0 && !strcmp(ns->v[order[mid - 1]].id, id)) mid--;
            return order[mid];
        }
        if (r < 0) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

// Marks i and everything under it visited (iteratively: a table may hold long chains).
static void mark(ONodes *ns, int i, int *stack) {
    int top = 0;
    stack[top++] = i;
    while (top) {
        ONode *x = &ns->v[stack[--top]];
        if (x->visited) continue;
        x->visited = true;
        for (int k = 0; k < x->nkids; k++)
            if (!ns->v[x->kids[k]].visited) stack[top++] = x->kids[k];
    }
}

int oasst_flat_finish(OasstFlat *t, FmtCtx *c, int (*bad)(void *arg, FmtCtx *c, Err *e),
                      void *arg, Err *e) {
    ONodes *ns = &t->ns;
    int n = ns->n, rc = 0;
    int *order = malloc((size_t)(n ? n : 1) * sizeof *order);
    int *stack = malloc((size_t)(n + 1) * sizeof *stack);
    if (!order || !stack) {
        free(order);
        free(stack);
        return ERR(e, ERR_NOMEM, "out of memory linking %d messages", n);
    }
    for (int i = 0; i < n; i++) order[i] = i;
    sort_ns = ns;
    qsort(order, (size_t)n, sizeof *order, by_id);
    char where[600];
    // Link children to parents; each fault is one bad record (at the line it came from).
    for (int i = 0; i < n && !rc; i++) {
        ONode *x = &ns->v[i];
        snprintf(where, sizeof where, "%s:%zu", c->file, x->line);
        c->where = where;
        int first = find_id(ns, order, x->id), p = x->parent_id ? find_id(ns, order, x->parent_id) : -1;
        c->kind = DERR_COUNT;
        if (first != i) {
            FMT_FAIL(c, DERR_FIELD, e, "%s: message_id: \"%.60s\" repeats line %zu", where, x->id,
                     ns->v[first].line);
        } else if (x->parent_id && p < 0) {
            FMT_FAIL(c, DERR_FIELD, e, "%s: parent_id: no message \"%.60s\" in the file", where,
                     x->parent_id);
        } else if (p >= 0 && ns->v[p].role == x->role) {
            FMT_FAIL(c, DERR_ROLE, e, "%s: role: a reply to a %s message must be %s", where,
                     x->role ? "assistant" : "prompter", x->role ? "prompter" : "assistant");
        } else if (!x->parent_id && x->role != ROLE_PROMPTER) {
            FMT_FAIL(c, DERR_ROLE, e, "%s: role: a tree starts with a prompter message", where);
        } else {
            if (p >= 0) rc = add_kid(&ns->v[p], i, e);
            continue;
        }
        x->bad = true;
        rc = bad(arg, c, e);
    }
    // A bad message and what hangs under it make no threads.
    for (int i = 0; i < n && !rc; i++)
        if (ns->v[i].bad) mark(ns, i, stack);
    // Threads from each root, in the order of the file; whatever no root reaches is a cycle.
    for (int i = 0; i < n && !rc; i++) {
        ONode *x = &ns->v[i];
        if (x->parent_id || x->visited) continue;
        snprintf(where, sizeof where, "%s:%zu", c->file, x->line);
        c->where = where;
        c->kind = DERR_COUNT;
        size_t queued = c->out->n;
        rc = threads(c, ns, i, where, e);
        if (rc) {  // a tree that fails makes no threads at all
            for (size_t k = queued; k < c->out->n; k++) data_record_free(&c->out->v[k]);
            c->out->n = queued;
            if (c->kind != DERR_COUNT) rc = bad(arg, c, e);
        }
        mark(ns, i, stack);
    }
    for (int i = 0; i < n && !rc; i++) {
        if (ns->v[i].visited) continue;
        snprintf(where, sizeof where, "%s:%zu", c->file, ns->v[i].line);
        c->where = where;
        c->kind = DERR_COUNT;
        FMT_FAIL(c, DERR_FIELD, e, "%s: parent_id: the messages from here on form a cycle", where);
        mark(ns, i, stack);
        rc = bad(arg, c, e);
    }
    free(order);
    free(stack);
    return rc;
}
