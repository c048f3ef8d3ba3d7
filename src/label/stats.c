// stats.c: counts per type, state and labeler, and inter-labeler agreement on rankings.
#include "label/stats.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "label/access.h"

void label_stats_free(LabelStats *s) {
    free(s->users);
    memset(s, 0, sizeof *s);
}

void label_rank_compare(const int *pa, const int *pb, int n, size_t *concordant, size_t *discordant) {
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            int a = (pa[i] > pa[j]) - (pa[i] < pa[j]), b = (pb[i] > pb[j]) - (pb[i] < pb[j]);
            if (a * b > 0) (*concordant)++;
            else if (a * b < 0) (*discordant)++;
        }
}

// Runs a query (?1 = project, 0: all) and hands each row to fn.
static int each_row(LabelDb *d, const char *sql, int64_t project_id, void (*fn)(sqlite3_stmt *, LabelStats *),
                    LabelStats *s, Err *e) {
    sqlite3_stmt *st;
    if (label_prepare(d, sql, &st, e)) return -1;
    sqlite3_bind_int64(st, 1, project_id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) fn(st, s);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : label_sql_err(d, e, "stats");
}

static void row_messages(sqlite3_stmt *st, LabelStats *s) {
    bool assistant = !strcmp((const char *)sqlite3_column_text(st, 0), "assistant");
    int state = label_state_parse((const char *)sqlite3_column_text(st, 1));
    size_t n = (size_t)sqlite3_column_int64(st, 3);
    if (state >= 0) s->messages[assistant][state] += n;
    if (sqlite3_column_int(st, 2)) s->prompts += n;
}

static void row_categories(sqlite3_stmt *st, LabelStats *s) {
    int c = label_category_parse((const char *)sqlite3_column_text(st, 0));
    s->by_category[c >= 0 ? c : LCAT_COUNT] += (size_t)sqlite3_column_int64(st, 1);
}

static void row_drafts(sqlite3_stmt *st, LabelStats *s) {
    s->drafts = (size_t)sqlite3_column_int64(st, 0);
    s->drafts_saved = (size_t)sqlite3_column_int64(st, 1);
    s->mean_edit_distance = sqlite3_column_double(st, 2);
}

static void row_user(sqlite3_stmt *st, LabelStats *s) {
    LabelUserStats *u = &s->users[s->n_users++];
    memset(u, 0, sizeof *u);
    snprintf(u->name, sizeof u->name, "%s", (const char *)sqlite3_column_text(st, 0));
    u->role = label_role_parse((const char *)sqlite3_column_text(st, 1));
    for (int k = 0; k < 3; k++) u->messages[k] = (size_t)sqlite3_column_int64(st, 2 + k);
    u->drafts_open = (size_t)sqlite3_column_int64(st, 5);
    u->drafts_saved = (size_t)sqlite3_column_int64(st, 6);
    u->rankings = (size_t)sqlite3_column_int64(st, 7);
    u->reviews = (size_t)sqlite3_column_int64(st, 8);
}

static void row_ranking(sqlite3_stmt *st, LabelStats *s) { s->rankings = (size_t)sqlite3_column_int64(st, 0); }

// Agreement: rows (parent, ranking, message, position) ordered by parent, ranking. For
// each parent, every two rankings are compared on the messages both contain.
static int agreement(LabelDb *d, int64_t project_id, LabelStats *s, Err *e) {
    sqlite3_stmt *st;
    if (label_prepare(d, "SELECT r.parent_id, r.id, i.message_id, i.position FROM rankings r "
                         "JOIN ranking_items i ON i.ranking_id = r.id JOIN messages m ON m.id = r.parent_id "
                         "WHERE ?1 = 0 OR m.project_id = ?1 ORDER BY r.parent_id, r.id, i.position", &st, e))
        return -1;
    sqlite3_bind_int64(st, 1, project_id);
    typedef struct { int64_t parent, ranking, msg; int pos; } Row;
    Row *rows = NULL;
    size_t n = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (n == cap) {
            Row *p = realloc(rows, (cap = cap ? 2 * cap : 256) * sizeof *p);
            if (!p) return free(rows), sqlite3_finalize(st), ERR(e, ERR_NOMEM, "out of memory");
            rows = p;
        }
        rows[n++] = (Row){sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), sqlite3_column_int64(st, 2),
                          sqlite3_column_int(st, 3)};
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return free(rows), label_sql_err(d, e, "stats");
    double tau_sum = 0;
    int pa[64], pb[64];  // label_rank caps a ranking at 64 replies
    for (size_t g = 0; g < n;) {
        size_t end = g;
        while (end < n && rows[end].parent == rows[g].parent) end++;
        // Rankings within [g, end) are runs of equal .ranking.
        for (size_t a = g; a < end;) {
            size_t a_end = a;
            while (a_end < end && rows[a_end].ranking == rows[a].ranking) a_end++;
            for (size_t b = a_end; b < end;) {
                size_t b_end = b;
                while (b_end < end && rows[b_end].ranking == rows[b].ranking) b_end++;
                int k = 0;
                for (size_t i = a; i < a_end && k < 64; i++)
                    for (size_t j = b; j < b_end; j++)
                        if (rows[i].msg == rows[j].msg) {
                            pa[k] = rows[i].pos, pb[k++] = rows[j].pos;
                            break;
                        }
                if (k >= 2) {
                    size_t c = 0, dis = 0;
                    label_rank_compare(pa, pb, k, &c, &dis);
                    s->compared++;
                    s->item_pairs += c + dis;
                    s->concordant += c;
                    if (c + dis) tau_sum += ((double)c - (double)dis) / (double)(c + dis);
                }
                b = b_end;
            }
            a = a_end;
        }
        g = end;
    }
    free(rows);
    s->agreement = s->item_pairs ? (double)s->concordant / (double)s->item_pairs : 0;
    s->mean_tau = s->compared ? tau_sum / (double)s->compared : 0;
    return 0;
}

int label_stats(LabelDb *d, const LabelUser *actor, int64_t project_id, LabelStats *s, Err *e) {
    memset(s, 0, sizeof *s);
    if (access_role(actor, LROLE_REVIEWER, "stats", e)) return -1;
    sqlite3_stmt *st;
    if (label_prepare(d, "SELECT COUNT(*) FROM users", &st, e)) return -1;
    int n_users = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    if (!(s->users = calloc((size_t)n_users + 1, sizeof *s->users))) return ERR(e, ERR_NOMEM, "out of memory");
    int rc = each_row(d, "SELECT role, state, parent_id IS NULL, COUNT(*) FROM messages "
                         "WHERE ?1 = 0 OR project_id = ?1 GROUP BY 1, 2, 3", project_id, row_messages, s, e);
    if (!rc) rc = each_row(d, "SELECT IFNULL(category, ''), COUNT(*) FROM messages WHERE parent_id IS NULL "
                              "AND (?1 = 0 OR project_id = ?1) GROUP BY 1", project_id, row_categories, s, e);
    if (!rc) rc = each_row(d, "SELECT COUNT(*), COUNT(d.message_id), IFNULL(AVG(d.edit_distance), 0) "
                              "FROM drafts d JOIN messages m ON m.id = d.parent_id "
                              "WHERE ?1 = 0 OR m.project_id = ?1", project_id, row_drafts, s, e);
    if (!rc) rc = each_row(d, "SELECT COUNT(*) FROM rankings r JOIN messages m ON m.id = r.parent_id "
                              "WHERE ?1 = 0 OR m.project_id = ?1", project_id, row_ranking, s, e);
    // Per user; LIMIT keeps a user added since the COUNT above from overflowing the array.
    if (!rc) {
        char sql[2048];
        snprintf(sql, sizeof sql, "%s LIMIT %d",  // n_users: our own integer, not user data
                 "SELECT u.name, u.role,"
                 " (SELECT COUNT(*) FROM messages m WHERE m.author_id = u.id AND m.state = 'pending' AND (?1 = 0 OR m.project_id = ?1)),"
                 " (SELECT COUNT(*) FROM messages m WHERE m.author_id = u.id AND m.state = 'accepted' AND (?1 = 0 OR m.project_id = ?1)),"
                 " (SELECT COUNT(*) FROM messages m WHERE m.author_id = u.id AND m.state = 'rejected' AND (?1 = 0 OR m.project_id = ?1)),"
                 " (SELECT COUNT(*) FROM drafts x JOIN messages m ON m.id = x.parent_id WHERE x.assignee_id = u.id AND x.message_id IS NULL AND (?1 = 0 OR m.project_id = ?1)),"
                 " (SELECT COUNT(*) FROM drafts x JOIN messages m ON m.id = x.parent_id WHERE x.assignee_id = u.id AND x.message_id IS NOT NULL AND (?1 = 0 OR m.project_id = ?1)),"
                 " (SELECT COUNT(*) FROM rankings r JOIN messages m ON m.id = r.parent_id WHERE r.labeler_id = u.id AND (?1 = 0 OR m.project_id = ?1)),"
                 " (SELECT COUNT(*) FROM messages m WHERE m.reviewer_id = u.id AND (?1 = 0 OR m.project_id = ?1))"
                 " FROM users u ORDER BY u.name",
                 n_users);
        rc = each_row(d, sql, project_id, row_user, s, e);
    }
    if (!rc) rc = agreement(d, project_id, s, e);
    if (rc) label_stats_free(s);
    return rc;
}
