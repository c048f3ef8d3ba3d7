// rank.c: rankings — a labeler orders the replies of one message best first, as
// OpenAssistant and InstructGPT's comparison data do. Each labeler's ranking is kept
// apart (UNIQUE(parent, labeler)), so agreement between labelers can be measured
// (stats.c) and a reward model can be trained on each or on their consensus.
#include "label/access.h"

int label_rank(LabelDb *d, const LabelUser *actor, int64_t parent_id, const int64_t *best_first,
               int n, Err *e) {
    MsgMeta p, c;
    if (access_message(d, actor, parent_id, false, &p, e)) return -1;
    if (n < 2 || n > 64) return ERR(e, ERR_ARG, "rank: 2 to 64 replies, got %d", n);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < i; j++)
            if (best_first[i] == best_first[j])
                return ERR(e, ERR_ARG, "rank: message %lld listed twice", (long long)best_first[i]);
        if (access_message(d, actor, best_first[i], false, &c, e)) return -1;
        if (c.parent_id != parent_id)
            return ERR(e, ERR_ARG, "rank: message %lld is not a reply to %lld", (long long)best_first[i],
                       (long long)parent_id);
        if (c.state == LSTATE_REJECTED)
            return ERR(e, ERR_ARG, "rank: message %lld was rejected", (long long)best_first[i]);
    }
    if (label_tx_begin(d, e)) return -1;
    sqlite3_stmt *st;
    // Replacing: the old ranking's items go with it (ON DELETE CASCADE).
    int rc = label_prepare(d, "DELETE FROM rankings WHERE parent_id = ? AND labeler_id = ?", &st, e);
    if (!rc) {
        sqlite3_bind_int64(st, 1, parent_id);
        sqlite3_bind_int64(st, 2, actor->id);
        if (sqlite3_step(st) != SQLITE_DONE) rc = label_sql_err(d, e, "rank");
        sqlite3_finalize(st);
    }
    int64_t rid = 0;
    if (!rc && !(rc = label_prepare(d, "INSERT INTO rankings (parent_id, labeler_id, created) VALUES (?, ?, ?)",
                                    &st, e))) {
        sqlite3_bind_int64(st, 1, parent_id);
        sqlite3_bind_int64(st, 2, actor->id);
        sqlite3_bind_int64(st, 3, label_now());
        if (sqlite3_step(st) != SQLITE_DONE) rc = label_sql_err(d, e, "rank");
        rid = sqlite3_last_insert_rowid(d->db);
        sqlite3_finalize(st);
    }
    if (!rc && !(rc = label_prepare(d, "INSERT INTO ranking_items (ranking_id, message_id, position) "
                                       "VALUES (?, ?, ?)", &st, e))) {
        for (int i = 0; i < n && !rc; i++) {
            sqlite3_bind_int64(st, 1, rid);
            sqlite3_bind_int64(st, 2, best_first[i]);
            sqlite3_bind_int(st, 3, i);
            if (sqlite3_step(st) != SQLITE_DONE) rc = label_sql_err(d, e, "rank");
            sqlite3_reset(st);
        }
        sqlite3_finalize(st);
    }
    return label_tx_end(d, rc, e);
}
