// loader.c: documents into (B,T) rows (see loader.h; the layout is drawn in docs/prepare.md).
//
// Every row starts at a document boundary (a document that does not fit starts the next
// row; one longer than T loses its tail), so "the next document of the epoch's order" is
// the whole position: LoaderState is (epoch, cursor, rows), and the order of an epoch is
// recomputed from (seed, epoch) on restore. Empty documents are left out of the order.
#include "data/loader.h"

#include <stdlib.h>
#include <string.h>

#include "data/rng.h"

struct Loader {
    const TokenSet *s;      // borrowed
    LoaderConfig c;
    uint64_t *order;        // (n) this epoch's documents, indices into s
    uint64_t *docs;         // (n) the non-empty documents, in set order
    size_t n;
    LoaderState st;
    uint64_t epoch_rows;    // rows the current epoch gives
    LoaderStats stats;
};

// Packs lengths greedily as loader_next does, counting rows: the same rule in one place.
static uint64_t count_rows(const Loader *l) {
    uint64_t rows = 0, used = 0, T = (uint64_t)l->c.T;
    for (size_t i = 0; i < l->n; i++) {
        uint64_t len = tokenset_doc(l->s, l->order[i]).len;
        if (len > T) len = T;
        if (!l->c.pack || used + len > T) {
            rows += used > 0;
            used = 0;
        }
        used += len;
    }
    return rows + (used > 0);
}

// The order of epoch k: a Fisher–Yates shuffle seeded by (seed, k) alone, so any epoch can
// be rebuilt without replaying the ones before it.
static void make_order(Loader *l) {
    memcpy(l->order, l->docs, l->n * sizeof *l->order);
    if (l->c.shuffle) {
        Rng r;
        rng_seed(&r, rng_mix(l->c.seed, l->st.epoch));
        rng_shuffle_u64(&r, l->order, l->n);
    }
    l->epoch_rows = count_rows(l);
}

int loader_open(Loader **out, const TokenSet *s, const LoaderConfig *c, Err *e) {
    *out = NULL;
    if (c->B <= 0 || c->T <= 0) return ERR(e, ERR_ARG, "loader: B=%d T=%d: both must be positive",
                                          c->B, c->T);
    Loader *l = calloc(1, sizeof *l);
    size_t total = tokenset_count(s);
    if (l) {
        l->docs = malloc((total ? total : 1) * sizeof *l->docs);
        l->order = malloc((total ? total : 1) * sizeof *l->order);
    }
    if (!l || !l->docs || !l->order) {
        loader_free(l);
        return ERR(e, ERR_NOMEM, "loader: out of memory for %zu documents", total);
    }
    l->s = s;
    l->c = *c;
    for (size_t i = 0; i < total; i++)
        if (tokenset_doc(s, i).len) l->docs[l->n++] = i;
    make_order(l);
    *out = l;
    return 0;
}

// Fills one row from the cursor on; returns the tokens placed (0: the epoch has no more).
static int fill_row(Loader *l, int32_t *ids, int32_t *doc, float *mask) {
    int T = l->c.T, used = 0, k = 0;
    while (l->st.cursor < l->n) {
        TokenDoc d = tokenset_doc(l->s, l->order[l->st.cursor]);
        int len = d.len > (size_t)T ? T : (int)d.len;
        if (used + len > T) break;  // starts the next row (len <= T, so only when used > 0)
        if (d.len > (size_t)T) {
            l->stats.truncated_docs++;
            l->stats.truncated_tokens += d.len - (size_t)T;
        }
        memcpy(ids + used, d.ids, (size_t)len * sizeof *ids);
        for (int t = 0; t < len; t++) {
            doc[used + t] = k;
            // A document's first token would be predicted from the previous document's last
            // position, across the boundary the attention does not cross: never a target.
            mask[used + t] = t == 0 ? 0.0f : l->c.all_targets ? 1.0f : (float)d.mask[t];
        }
        used += len;
        k++;
        l->stats.docs++;
        l->st.cursor++;
        if (!l->c.pack) break;
    }
    for (int t = used; t < T; t++) {  // padding: its own document id, no loss
        ids[t] = l->c.pad_id;
        doc[t] = k;
        mask[t] = 0.0f;
    }
    l->stats.tokens += (uint64_t)used;
    l->stats.pad_tokens += (uint64_t)(T - used);
    return used;
}

int loader_next(Loader *l, int32_t *ids, int32_t *doc, float *mask, Err *e) {
    size_t T = (size_t)l->c.T;
    if (l->st.cursor >= l->n) {  // the epoch ended on the last call: report it, start the next
        for (int b = 0; b < l->c.B; b++) {
            for (size_t t = 0; t < T; t++) {
                ids[b * T + t] = l->c.pad_id;
                doc[b * T + t] = 0;
                mask[b * T + t] = 0.0f;
            }
        }
        l->st.epoch++;
        l->st.cursor = 0;
        make_order(l);
        return 0;
    }
    int real = 0;
    for (int b = 0; b < l->c.B; b++) {
        size_t at = (size_t)b * T;
        // Rows after the epoch's last document are all padding (and not counted in stats).
        if (l->st.cursor >= l->n) {
            for (size_t t = 0; t < T; t++) {
                ids[at + t] = l->c.pad_id;
                doc[at + t] = 0;
                mask[at + t] = 0.0f;
            }
            continue;
        }
        fill_row(l, ids + at, doc + at, mask + at);
        real++;
    }
    l->st.rows += (uint64_t)real;
    return real;
}

uint64_t loader_rows_per_epoch(const Loader *l) { return l->epoch_rows; }

LoaderState loader_state(const Loader *l) { return l->st; }

int loader_restore(Loader *l, const LoaderState *st, Err *e) {
    if (st->cursor > l->n)
        return ERR(e, ERR_ARG, "loader state: cursor %llu past the %zu documents of an epoch "
                   "(a state saved for other data?)", (unsigned long long)st->cursor, l->n);
    l->st = *st;
    make_order(l);
    return 0;
}

const LoaderStats *loader_stats(const Loader *l) { return &l->stats; }

void loader_free(Loader *l) {
    if (!l) return;
    free(l->order);
    free(l->docs);
    free(l);
}
