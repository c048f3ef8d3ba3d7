// test_loader.c: documents into (B,T) rows — the packed layout of a hand example token by
// token, unpacked padding, shuffles (same seed: same order; other epoch or seed: another),
// each document once per epoch, rows_per_epoch against the rows produced, and a restore
// from a saved state continuing bit-identically (across an epoch boundary too).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/loader.h"
#include "check.h"

enum { PAD = 99999 };

// Document j's token t is j * 1000 + t, so a row shows where each token came from.
static TokenSet *make_set(const size_t *lens, size_t n) {
    TokenSet *s = tokenset_new();
    Err e = {0};
    for (size_t j = 0; j < n; j++) {
        int32_t ids[4096];
        uint8_t mask[4096];
        for (size_t t = 0; t < lens[j]; t++) ids[t] = (int32_t)(j * 1000 + t), mask[t] = (t % 3) != 1;
        if (tokenset_add(s, ids, mask, lens[j], &e)) fprintf(stderr, "%s\n", e.msg), exit(1);
    }
    return s;
}

typedef struct {
    int B, T;
    int32_t *ids, *doc;
    float *mask;
} Batch;

static Batch batch_new(int B, int T) {
    size_t n = (size_t)B * T;
    return (Batch){B, T, calloc(n, 4), calloc(n, 4), calloc(n, 4)};
}
static void batch_free(Batch *b) { free(b->ids), free(b->doc), free(b->mask); }

static int next(Loader *l, Batch *b) {
    Err e = {0};
    return loader_next(l, b->ids, b->doc, b->mask, &e);
}

static Loader *open_loader(const TokenSet *s, int B, int T, bool pack, bool shuffle, uint64_t seed) {
    LoaderConfig c = {.B = B, .T = T, .pack = pack, .shuffle = shuffle, .seed = seed, .pad_id = PAD};
    Loader *l;
    Err e = {0};
    if (loader_open(&l, s, &c, &e)) fprintf(stderr, "%s\n", e.msg), exit(1);
    return l;
}

static int row_is(const Batch *b, int r, const int32_t *ids, const int32_t *doc, const float *mask) {
    size_t at = (size_t)r * b->T;
    for (int t = 0; t < b->T; t++) {
        if (b->ids[at + t] != ids[t] || b->doc[at + t] != doc[t] || b->mask[at + t] != mask[t]) {
            printf("      row %d, position %d: id %d doc %d mask %g; want %d %d %g\n", r, t,
                   b->ids[at + t], b->doc[at + t], b->mask[at + t], ids[t], doc[t], mask[t]);
            return 0;
        }
    }
    return 1;
}

// The document order of one epoch, read back from the rows' first tokens of each document.
static size_t epoch_docs(Loader *l, Batch *b, size_t *out, size_t max, uint64_t *rows) {
    size_t n = 0;
    *rows = 0;
    int got;
    while ((got = next(l, b)) > 0) {
        *rows += (uint64_t)got;
        for (size_t i = 0; i < (size_t)b->B * b->T; i++) {
            int start = i % b->T == 0 || b->doc[i] != b->doc[i - 1];
            if (start && b->ids[i] != PAD && n < max) out[n++] = (size_t)b->ids[i] / 1000;
        }
    }
    return n;
}

static int hash_batch(const Batch *b, uint64_t *h) {
    size_t n = (size_t)b->B * b->T;
    for (size_t i = 0; i < n; i++) {
        uint32_t m;
        memcpy(&m, &b->mask[i], 4);
        *h = (*h ^ (uint32_t)b->ids[i]) * 0x100000001b3ull;
        *h = (*h ^ (uint32_t)b->doc[i]) * 0x100000001b3ull;
        *h = (*h ^ m) * 0x100000001b3ull;
    }
    return 0;
}

int main(void) {
    Err e = {0};

    // ---- The hand example: T = 8, documents of 3, 4, 2, 10 and 1 tokens, in order.
    size_t lens[] = {3, 4, 2, 10, 1};
    TokenSet *s = make_set(lens, 5);
    Loader *l = open_loader(s, 2, 8, true, false, 0);
    Batch b = batch_new(2, 8);
    CHECK(loader_rows_per_epoch(l) == 4, "packed: rows_per_epoch = 4 (got %llu)",
          (unsigned long long)loader_rows_per_epoch(l));
    int got = next(l, &b);
    CHECK(got == 2, "batch 1: 2 rows with tokens");
    // Row 0: A (3) + B (4) = 7; C (2) would overflow, so one pad. First token of each
    // document is never a target; the rest is the document's mask (t % 3 != 1).
    CHECK(row_is(&b, 0, (int32_t[]){0, 1, 2, 1000, 1001, 1002, 1003, PAD},
                 (int32_t[]){0, 0, 0, 1, 1, 1, 1, 2}, (float[]){0, 0, 1, 0, 0, 1, 1, 0}),
          "row 0: A + B, then one padding token with its own doc id");
    CHECK(row_is(&b, 1, (int32_t[]){2000, 2001, PAD, PAD, PAD, PAD, PAD, PAD},
                 (int32_t[]){0, 0, 1, 1, 1, 1, 1, 1}, (float[]){0, 0, 0, 0, 0, 0, 0, 0}),
          "row 1: C alone (D does not fit in what is left), padded");
    got = next(l, &b);
    CHECK(got == 2, "batch 2: 2 rows with tokens");
    CHECK(row_is(&b, 0, (int32_t[]){3000, 3001, 3002, 3003, 3004, 3005, 3006, 3007},
                 (int32_t[]){0, 0, 0, 0, 0, 0, 0, 0}, (float[]){0, 0, 1, 1, 0, 1, 1, 0}),
          "row 2: D cut to T = 8");
    CHECK(row_is(&b, 1, (int32_t[]){4000, PAD, PAD, PAD, PAD, PAD, PAD, PAD},
                 (int32_t[]){0, 1, 1, 1, 1, 1, 1, 1}, (float[]){0, 0, 0, 0, 0, 0, 0, 0}),
          "row 3: E, padded");
    const LoaderStats *st = loader_stats(l);
    CHECK(st->truncated_docs == 1 && st->truncated_tokens == 2, "D counted as truncated (1 doc, 2 tokens)");
    CHECK(st->tokens == 18 && st->pad_tokens == 14 && st->docs == 5,
          "18 real tokens, 14 padding, 5 documents (got %llu, %llu, %llu)", (unsigned long long)st->tokens,
          (unsigned long long)st->pad_tokens, (unsigned long long)st->docs);
    got = next(l, &b);
    CHECK(got == 0 && loader_state(l).epoch == 1 && loader_state(l).cursor == 0,
          "then 0: the epoch has ended, and the state moves to epoch 1");
    CHECK(loader_state(l).rows == 4, "4 rows counted");
    got = next(l, &b);
    CHECK(got == 2 && b.ids[0] == 0, "the next call starts epoch 1 (unshuffled: the same order)");
    loader_free(l);

    // ---- all_targets: the data's mask is ignored, each document's first token still 0.
    LoaderConfig ac = {.B = 2, .T = 8, .pack = true, .shuffle = false, .pad_id = PAD, .all_targets = true};
    CHECK(loader_open(&l, s, &ac, &e) == 0 && next(l, &b) == 2 &&
              row_is(&b, 0, (int32_t[]){0, 1, 2, 1000, 1001, 1002, 1003, PAD},
                     (int32_t[]){0, 0, 0, 1, 1, 1, 1, 2}, (float[]){0, 1, 1, 0, 1, 1, 1, 0}),
          "all_targets: mask 1 but on each document's first token and the padding");
    loader_free(l);

    // ---- Unpacked: one document per row; the last batch has a row of padding only.
    l = open_loader(s, 2, 8, false, false, 0);
    CHECK(loader_rows_per_epoch(l) == 5, "unpacked: rows_per_epoch = 5 documents");
    next(l, &b);
    CHECK(row_is(&b, 0, (int32_t[]){0, 1, 2, PAD, PAD, PAD, PAD, PAD},
                 (int32_t[]){0, 0, 0, 1, 1, 1, 1, 1}, (float[]){0, 0, 1, 0, 0, 0, 0, 0}),
          "unpacked row 0: A and padding");
    CHECK(row_is(&b, 1, (int32_t[]){1000, 1001, 1002, 1003, PAD, PAD, PAD, PAD},
                 (int32_t[]){0, 0, 0, 0, 1, 1, 1, 1}, (float[]){0, 0, 1, 1, 0, 0, 0, 0}),
          "unpacked row 1: B and padding");
    next(l, &b);
    got = next(l, &b);
    CHECK(got == 1 && b.ids[0] == 4000 && b.ids[8] == PAD && b.doc[8] == 0 && b.mask[9] == 0,
          "last batch: 1 row with tokens, the other all padding");
    CHECK(next(l, &b) == 0, "then the end of the epoch");
    loader_free(l);
    batch_free(&b);
    tokenset_free(s);

    // ---- A larger set: random lengths (some empty, some over T).
    enum { N = 300, T = 64, B = 4 };
    size_t big[N];
    uint64_t x = 12345;
    for (int i = 0; i < N; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        big[i] = (x >> 33) % 90;  // 0..89: empty documents and ones longer than T
    }
    size_t nonempty = 0;
    for (int i = 0; i < N; i++) nonempty += big[i] > 0;
    s = make_set(big, N);
    b = batch_new(B, T);
    size_t *o1 = malloc(N * sizeof *o1), *o2 = malloc(N * sizeof *o2), *o3 = malloc(N * sizeof *o3);

    for (int pack = 1; pack >= 0; pack--) {
        const char *mode = pack ? "packed" : "unpacked";
        Loader *a = open_loader(s, B, T, pack, true, 7), *c = open_loader(s, B, T, pack, true, 7);
        Loader *d = open_loader(s, B, T, pack, true, 8);
        uint64_t want = loader_rows_per_epoch(a), rows, rows_c, rows_d;
        size_t n1 = epoch_docs(a, &b, o1, N, &rows);
        size_t n2 = epoch_docs(c, &b, o2, N, &rows_c);
        CHECK(rows == want, "%s: rows_per_epoch %llu = rows produced in epoch 0 (%llu)", mode,
              (unsigned long long)want, (unsigned long long)rows);
        CHECK(n1 == nonempty && n1 == n2 && !memcmp(o1, o2, n1 * sizeof *o1),
              "%s: the same seed gives the same order (%zu documents)", mode, n1);
        int seen[N] = {0}, once = 1;
        for (size_t i = 0; i < n1; i++) seen[o1[i]]++;
        for (int i = 0; i < N; i++) once &= seen[i] == (big[i] > 0);
        CHECK(once, "%s: each non-empty document exactly once per epoch, empty ones never", mode);
        want = loader_rows_per_epoch(a);
        size_t n3 = epoch_docs(a, &b, o3, N, &rows);
        CHECK(n3 == n1 && memcmp(o1, o3, n1 * sizeof *o1), "%s: epoch 1 is another order", mode);
        CHECK(rows == want, "%s: rows_per_epoch of epoch 1 = its rows (%llu)", mode, (unsigned long long)rows);
        size_t n4 = epoch_docs(d, &b, o3, N, &rows_d);
        CHECK(n4 == n1 && memcmp(o1, o3, n1 * sizeof *o1), "%s: seed 8 gives another order than seed 7", mode);
        loader_free(a), loader_free(c), loader_free(d);
        (void)rows_c;
    }

    // ---- Resume: N1 batches, save, M more; a fresh loader restored from the state gives
    // the same M batches, bit for bit (crossing the end of an epoch).
    for (int pack = 1; pack >= 0; pack--) {
        Loader *a = open_loader(s, B, T, pack, true, 42);
        uint64_t per = loader_rows_per_epoch(a);
        int first = (int)(per / B) - 3, more = 12;  // the epoch ends inside the 12
        for (int i = 0; i < first; i++) next(a, &b);
        LoaderState saved = loader_state(a);
        uint64_t h1 = 1469598103934665603ull, h2 = h1;
        int r1[32], r2[32];
        for (int i = 0; i < more; i++) r1[i] = next(a, &b), hash_batch(&b, &h1);
        Loader *f = open_loader(s, B, T, pack, true, 42);
        int rc = loader_restore(f, &saved, &e);
        for (int i = 0; i < more; i++) r2[i] = next(f, &b), hash_batch(&b, &h2);
        int zero = 0;
        for (int i = 0; i < more; i++) zero += r1[i] == 0;
        CHECK(rc == 0 && h1 == h2 && !memcmp(r1, r2, sizeof(int) * more) && zero == 1,
              "%s: restored after %d batches, the next %d (across the epoch's end) are bit-identical",
              pack ? "packed" : "unpacked", first, more);
        LoaderState s1 = loader_state(a), s2 = loader_state(f);
        CHECK(s1.epoch == s2.epoch && s1.cursor == s2.cursor && s1.rows == s2.rows && s1.epoch == 1,
              "%s: both end in the same state (epoch 1)", pack ? "packed" : "unpacked");
        LoaderState bad = {0, (uint64_t)N + 1, 0};
        CHECK(loader_restore(f, &bad, &e) == -1 && strstr(e.msg, "cursor"), "a state past the data is refused: %s", e.msg);
        loader_free(a), loader_free(f);
    }

    LoaderConfig zc = {.B = 0, .T = 8};
    CHECK(loader_open(&l, s, &zc, &e) == -1 && strstr(e.msg, "B=0"), "B = 0 is refused: %s", e.msg);
    TokenSet *empty = tokenset_new();
    l = open_loader(empty, 2, 8, true, true, 1);
    CHECK(loader_rows_per_epoch(l) == 0 && next(l, &b) == 0, "an empty set: 0 rows, every call ends an epoch");
    loader_free(l);
    tokenset_free(empty);
    loader_free(NULL);

    free(o1), free(o2), free(o3);
    batch_free(&b);
    tokenset_free(s);
    return check_summary();
}
