// train.c: learning a byte-level BPE vocabulary from a corpus (see train.h).
//
// Two stages:
//
// 1. Counting pieces. Each text is cut at special-token spellings, then split by the
//    pre-tokenizer regex exactly as encode.c splits it (HF Split, behavior Isolated: the
//    matches and the gaps between them are both pieces). Only distinct pieces matter to
//    BPE, so we keep a map piece -> number of occurrences. Large texts are cut into ~1 MB
//    units scanned in parallel; a unit's scan starts at its cut, which need not be where
//    the sequential scan would have a piece boundary, so after the parallel pass the
//    previous unit's scan is continued past the cut until it reaches a boundary the next
//    unit's scan also produced (a "state": the end of a regex match; from the same state
//    the two scans are the same from then on). That is usually one piece later. The
//    pieces are then counted in per-thread maps and summed, so the counts, and therefore
//    the vocabulary, are the same for any number of threads.
//
// 2. Learning merges, the standard incremental trainer: every distinct piece ("word")
//    is a sequence of token ids, starting with its bytes. We keep the count of every
//    adjacent pair (weighted by word counts), an index pair -> words that contain it,
//    and a max-heap of pairs by count. Each step pops the most frequent pair, merges it
//    inside only the words the index names, and applies the resulting changes of the
//    neighbouring pairs' counts. Heap entries are not updated in place: a popped entry
//    whose count is stale is pushed back with the current count (counts only fall,
//    except for pairs that gain from this step's merge, which get a fresh entry). So a
//    step costs the words it touches, not the corpus.
//
//    Ties: among pairs of equal count the one whose left token's bytes sort first
//    (memcmp order, a prefix before its extensions) wins, then the right token's bytes.
//    That order depends only on the bytes, never on ids or thread timing.
//
//    A merge can spell a token that already exists ("a"+"bc" after "ab"+"c"); it then
//    reuses that id, so the vocabulary grows by one per *new* token and training runs
//    until vocab_size ids exist. A pair that was merged before and shows up again (only
//    possible next to such a reused token) is merged without a second merge rule, so
//    every pair appears once in the merge list, as all tokenizer.json loaders expect.
#include "tok/train.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tok/tok_impl.h"
#include "util/file.h"
#include "util/utf8.h"

#define UNIT_BYTES (1u << 20)    // parallel scan unit
#define BATCH_BYTES (64u << 20)  // files are read and counted this many bytes at a time
#define ARENA_BLOCK (1u << 20)

// ---------------------------------------------------------------------------------
// Arena: bytes whose address never changes (keys of the borrowed-key BytesMaps).

typedef struct ArenaBlock {
    struct ArenaBlock *next;
    size_t used, cap;
    uint8_t data[];
} ArenaBlock;

typedef struct {
    ArenaBlock *head;
} Arena;

static const uint8_t *arena_copy(Arena *a, const void *p, size_t n) {
    ArenaBlock *b = a->head;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > ARENA_BLOCK ? n : ARENA_BLOCK;
        b = malloc(sizeof *b + cap);
        if (!b) return NULL;
        *b = (ArenaBlock){.next = a->head, .cap = cap};
        a->head = b;
    }
    uint8_t *q = b->data + b->used;
    memcpy(q, p, n);
    b->used += n;
    return q;
}

static void arena_free(Arena *a) {
    for (ArenaBlock *b = a->head, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    a->head = NULL;
}

// ---------------------------------------------------------------------------------
// Piece counts: distinct piece -> occurrences.

typedef struct {
    BytesMap index;         // piece bytes (in keys) -> word id
    Arena keys;
    const uint8_t **piece;  // (n) word id -> bytes
    uint32_t *len;          // (n)
    int64_t *count;         // (n)
    size_t n, cap;
    int64_t n_pieces, n_bytes;
} PieceCounts;

static int counts_add(PieceCounts *pc, const uint8_t *s, size_t n, int64_t c) {
    int32_t id = bytesmap_get(&pc->index, s, n);
    if (id >= 0) {
        pc->count[id] += c;
        return 0;
    }
    if (pc->n == pc->cap) {
        size_t cap = pc->cap ? pc->cap * 2 : 4096;
        const uint8_t **p = realloc(pc->piece, cap * sizeof *p);
        if (p) pc->piece = p;
        uint32_t *l = realloc(pc->len, cap * sizeof *l);
        if (l) pc->len = l;
        int64_t *k = realloc(pc->count, cap * sizeof *k);
        if (k) pc->count = k;
        if (!p || !l || !k || cap > INT32_MAX) return -1;
        pc->cap = cap;
    }
    const uint8_t *key = arena_copy(&pc->keys, s, n);
    if (!key || bytesmap_put(&pc->index, key, n, (int32_t)pc->n)) return -1;
    pc->piece[pc->n] = key;
    pc->len[pc->n] = (uint32_t)n;
    pc->count[pc->n++] = c;
    return 0;
}

static void counts_free(PieceCounts *pc) {
    bytesmap_free(&pc->index);
    arena_free(&pc->keys);
    free(pc->piece);
    free(pc->len);
    free(pc->count);
    memset(pc, 0, sizeof *pc);
}

// A worker's counts for one batch: keys borrowed from the batch's texts.
typedef struct {
    BytesMap index;  // piece -> slot in count
    const uint8_t **piece;
    uint32_t *len;
    int64_t *count;
    size_t n, cap;
    int failed;
} LocalCounts;

static int local_add(LocalCounts *lc, const uint8_t *s, size_t n) {
    int32_t id = bytesmap_get(&lc->index, s, n);
    if (id >= 0) {
        lc->count[id]++;
        return 0;
    }
    if (lc->n == lc->cap) {
        size_t cap = lc->cap ? lc->cap * 2 : 4096;
        const uint8_t **p = realloc(lc->piece, cap * sizeof *p);
        if (p) lc->piece = p;
        uint32_t *l = realloc(lc->len, cap * sizeof *l);
        if (l) lc->len = l;
        int64_t *k = realloc(lc->count, cap * sizeof *k);
        if (k) lc->count = k;
        if (!p || !l || !k || cap > INT32_MAX) return -1;
        lc->cap = cap;
    }
    if (bytesmap_put(&lc->index, s, n, (int32_t)lc->n)) return -1;
    lc->piece[lc->n] = s;
    lc->len[lc->n] = (uint32_t)n;
    lc->count[lc->n++] = 1;
    return 0;
}

static void local_free(LocalCounts *lc) {
    bytesmap_free(&lc->index);
    free(lc->piece);
    free(lc->len);
    free(lc->count);
    memset(lc, 0, sizeof *lc);
}

// ---------------------------------------------------------------------------------
// Splitting: specials cut a text into segments; the regex cuts segments into pieces.

typedef struct {
    pcre2_code *re;
    const char **specials;  // (n_specials) longest first
    size_t *special_len;
    int n_specials;
    uint8_t special_first[256];
} Splitter;

// A piece end, as (offset << 1) | state: state = 1 when the offset ends a regex match
// (or is the end of the segment), where a scan may resume and be in step.
typedef uint64_t PieceEnd;
#define END_AT(x) ((size_t)((x) >> 1))
#define END_STATE(x) ((int)((x) & 1))

typedef struct {
    const uint8_t *seg;  // the regex subject: one whole segment
    size_t seg_len;
    size_t start;        // a character boundary; the unit's scan begins here
    size_t stop;         // the scan runs to the first state at or past stop
    size_t end;          // where it did stop (a state)
    PieceEnd *ends;      // pieces, in order; later extended by the continuation
    size_t n_ends, cap_ends;
    size_t keep_from;    // first piece that counts (after the fix-up)
    size_t keep_start;   // where that piece starts
    int first_of_seg;    // 1: the first unit of its segment
    int failed;          // -1 out of memory, else a PCRE2 error code
} Unit;

static int push_end(Unit *u, size_t at, int state) {
    if (u->n_ends == u->cap_ends) {
        size_t cap = u->cap_ends ? u->cap_ends * 2 : 1024;
        PieceEnd *p = realloc(u->ends, cap * sizeof *p);
        if (!p) return -1;
        u->ends = p;
        u->cap_ends = cap;
    }
    u->ends[u->n_ends++] = ((PieceEnd)at << 1) | (PieceEnd)state;
    return 0;
}

// The scan of encode.c's split_run for one regex, from state `from` (position = gap
// start = from) until the gap start reaches `limit` or the segment ends. Appends piece
// ends to u and returns the state it stopped at, or (size_t)-1 on failure (u->failed).
static size_t scan(const Splitter *sp, pcre2_match_data *md, Unit *u, size_t from, size_t limit) {
    const uint8_t *s = u->seg;
    size_t n = u->seg_len, pos = from, gap = from;
    while (gap < limit && gap < n) {
        int rc = pcre2_match(sp->re, s, n, pos, PCRE2_NO_UTF_CHECK, md, NULL);
        if (rc == PCRE2_ERROR_NOMATCH) break;
        if (rc < 0) {
            u->failed = rc;
            return (size_t)-1;
        }
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        size_t ms = ov[0], me = ov[1];
        if (me == ms) {  // empty match: step over one character, the gap stays open
            if (ms >= n) break;
            pos = ms + 1;
            while (pos < n && (s[pos] & 0xC0) == 0x80) pos++;
            continue;
        }
        if ((ms > gap && push_end(u, ms, 0)) || push_end(u, me, 1)) {
            u->failed = -1;
            return (size_t)-1;
        }
        gap = pos = me;
    }
    if (gap < limit && gap < n) {  // no more matches: the rest is one gap piece
        if (push_end(u, n, 1)) {
            u->failed = -1;
            return (size_t)-1;
        }
        gap = n;
    }
    return gap;
}

// Whether u's own scan passed through state q (so a scan arriving at q is in step).
// Returns the index of the first piece after q, or -1.
static ptrdiff_t state_index(const Unit *u, size_t own_ends, size_t q) {
    if (q == u->start) return 0;
    size_t lo = 0, hi = own_ends;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (END_AT(u->ends[mid]) < q) lo = mid + 1;
        else hi = mid;
    }
    if (lo < own_ends && END_AT(u->ends[lo]) == q && END_STATE(u->ends[lo])) return (ptrdiff_t)lo + 1;
    return -1;
}

// Joins the units of one segment (units[0..k), scanned in parallel): continues each
// unit's scan until it meets a state of a following unit and marks what that one keeps.
// Returns 0 or the failure code of scan (see Unit.failed).
static int fix_up_segment(const Splitter *sp, pcre2_match_data *md, Unit *units, size_t k) {
    size_t cur = 0, q = units[0].end;
    for (size_t j = 1; j < k; j++) {
        Unit *u = &units[j];
        size_t own = u->n_ends;  // continuation pieces are appended to units[cur] only
        ptrdiff_t at;
        while ((at = state_index(u, own, q)) < 0 && q < u->end) {
            q = scan(sp, md, &units[cur], q, q + 1);
            if (q == (size_t)-1) return units[cur].failed;
        }
        if (at < 0) {  // units[cur] swallowed this unit whole: nothing of it counts
            u->keep_from = u->n_ends;
            continue;
        }
        u->keep_from = (size_t)at;
        u->keep_start = q;
        cur = j;
        q = u->end;
    }
    return 0;
}

// The spans between special-token spellings (longest spelling first at each position).
typedef struct {
    const uint8_t *s;
    size_t n;
} Span;

static int cut_specials(const Splitter *sp, const uint8_t *s, size_t n, Span **out, size_t *n_out,
                        size_t *cap) {
    size_t seg = 0;
    for (size_t i = 0; i <= n;) {
        size_t hit = 0;
        if (i < n && sp->special_first[s[i]]) {
            for (int k = 0; k < sp->n_specials && !hit; k++)
                if (sp->special_len[k] <= n - i && !memcmp(s + i, sp->specials[k], sp->special_len[k]))
                    hit = sp->special_len[k];
        }
        if (!hit && i < n) {
            i++;
            continue;
        }
        if (i > seg) {
            if (*n_out == *cap) {
                size_t c = *cap ? *cap * 2 : 64;
                Span *p = realloc(*out, c * sizeof *p);
                if (!p) return -1;
                *out = p;
                *cap = c;
            }
            (*out)[(*n_out)++] = (Span){s + seg, i - seg};
        }
        if (i == n) break;
        i += hit;
        seg = i;
    }
    return 0;
}

// Cuts spans into units of about UNIT_BYTES, each starting on a character boundary.
static int plan_units(const Span *spans, size_t n_spans, Unit **out, size_t *n_units) {
    size_t cap = 0, k = 0;
    Unit *u = NULL;
    for (size_t i = 0; i < n_spans; i++) {
        size_t start = 0;
        do {
            size_t stop = start + UNIT_BYTES;
            if (stop >= spans[i].n) stop = spans[i].n;
            while (stop < spans[i].n && (spans[i].s[stop] & 0xC0) == 0x80) stop++;
            if (k == cap) {
                cap = cap ? cap * 2 : 64;
                Unit *p = realloc(u, cap * sizeof *p);
                if (!p) {
                    free(u);
                    return -1;
                }
                u = p;
            }
            u[k++] = (Unit){.seg = spans[i].s, .seg_len = spans[i].n, .start = start, .stop = stop,
                            .keep_start = start, .first_of_seg = start == 0};
            start = stop;
        } while (start < spans[i].n);
    }
    *out = u;
    *n_units = k;
    return 0;
}

static int scan_error(int failed, Err *e) {
    if (failed == -1) return ERR(e, ERR_NOMEM, "out of memory splitting the corpus");
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(failed, msg, sizeof msg);
    return ERR(e, ERR_FORMAT, "pre-tokenizer regex failed: %s", (char *)msg);
}

// Counts the kept pieces of units into per-thread maps, then sums them into pc.
static int count_units(Unit *units, size_t n_units, int threads, PieceCounts *pc, Err *e) {
    LocalCounts *lc = calloc((size_t)threads, sizeof *lc);
    if (!lc) return ERR(e, ERR_NOMEM, "out of memory");
#pragma omp parallel num_threads(threads)
    {
        LocalCounts *my = &lc[omp_get_thread_num()];
        if (bytesmap_init(&my->index, 1 << 14)) my->failed = 1;
#pragma omp for schedule(dynamic, 1)
        for (size_t i = 0; i < n_units; i++) {
            const Unit *u = &units[i];
            size_t from = u->keep_start;
            for (size_t k = u->keep_from; k < u->n_ends && !my->failed; k++) {
                size_t to = END_AT(u->ends[k]);
                if (local_add(my, u->seg + from, to - from)) my->failed = 1;
                from = to;
            }
        }
    }
    int rc = 0;
    // Summing in thread order; the order only decides word ids, which nothing depends on.
    for (int t = 0; t < threads; t++) {
        if (lc[t].failed) rc = -1;
        for (size_t i = 0; i < lc[t].n && !rc; i++) {
            if (counts_add(pc, lc[t].piece[i], lc[t].len[i], lc[t].count[i])) rc = -1;
            pc->n_pieces += lc[t].count[i];
        }
        local_free(&lc[t]);
    }
    free(lc);
    return rc ? ERR(e, ERR_NOMEM, "out of memory counting pieces") : 0;
}

// Splits and counts a batch of texts (already checked to be UTF-8).
static int count_batch(const Splitter *sp, const Span *texts, size_t n_texts, int threads,
                       PieceCounts *pc, Err *e) {
    Span *spans = NULL;
    size_t n_spans = 0, cap = 0, n_units = 0;
    Unit *units = NULL;
    for (size_t i = 0; i < n_texts; i++) {
        if (cut_specials(sp, texts[i].s, texts[i].n, &spans, &n_spans, &cap)) goto oom;
        pc->n_bytes += (int64_t)texts[i].n;
    }
    if (plan_units(spans, n_spans, &units, &n_units)) goto oom;
    int failed = 0;
#pragma omp parallel num_threads(threads)
    {
        pcre2_match_data *md = pcre2_match_data_create_from_pattern(sp->re, NULL);
#pragma omp for schedule(dynamic, 1)
        for (size_t i = 0; i < n_units; i++) {
            Unit *u = &units[i];
            if (!md) u->failed = -1;
            else u->end = scan(sp, md, u, u->start, u->stop);
        }
        pcre2_match_data_free(md);
    }
    for (size_t i = 0; i < n_units && !failed; i++) failed = units[i].failed;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(sp->re, NULL);
    if (!md && !failed) failed = -1;
    for (size_t i = 0; i < n_units && !failed; i++) {
        size_t k = 1;
        while (i + k < n_units && !units[i + k].first_of_seg) k++;
        failed = fix_up_segment(sp, md, units + i, k);
        i += k - 1;
    }
    pcre2_match_data_free(md);
    int rc = failed ? scan_error(failed, e) : count_units(units, n_units, threads, pc, e);
    for (size_t i = 0; i < n_units; i++) free(units[i].ends);
    free(units);
    free(spans);
    return rc;
oom:
    free(spans);
    return ERR(e, ERR_NOMEM, "out of memory splitting the corpus");
}

// ---------------------------------------------------------------------------------
// Learning merges.

typedef struct {
    int32_t *w;  // words that contain (or once contained) the pair; no repeats in a row
    uint32_t n, cap;
} WordList;

typedef struct {
    int64_t count;
    int32_t pair;
} HeapEntry;

typedef struct {
    // Words: the distinct pieces as token sequences, shrinking as merges apply.
    int32_t *sym;       // all words' symbols back to back
    size_t *woff;       // (nw) start in sym
    uint32_t *wlen;     // (nw)
    const int64_t *wcount;  // (nw) borrowed from the PieceCounts
    uint32_t *wstamp;   // (nw) last step that merged in this word (skip repeats in a list)
    size_t nw;

    // Tokens: id -> bytes; bytes -> id to find a merge that respells an existing token.
    Arena tok_bytes;
    const uint8_t **tok;
    uint32_t *tok_len;
    int32_t n_tok, cap_tok;
    BytesMap tok_index;

    // Pairs: (a, b) -> pair id (PairMap's `merged` field), and per pair its state.
    PairMap pair_index;
    int32_t *pa, *pb;
    int64_t *pcount;
    WordList *where;
    uint32_t *pstamp;   // last step that raised the count (dedupes `touched`)
    int32_t *presult;   // merged token id once merged, else -1
    int32_t np, cap_p;

    HeapEntry *heap;
    size_t nh, cap_h;

    int32_t *touched;   // pairs whose count rose in this step
    size_t n_touched, cap_touched;
    uint32_t step;

    BpeMerge *merges;
    int32_t n_merges, cap_merges;
} Learner;

static int wordlist_push(WordList *l, int32_t w) {
    if (l->n && l->w[l->n - 1] == w) return 0;
    if (l->n == l->cap) {
        uint32_t cap = l->cap ? l->cap * 2 : 4;
        int32_t *p = realloc(l->w, cap * sizeof *p);
        if (!p) return -1;
        l->w = p;
        l->cap = cap;
    }
    l->w[l->n++] = w;
    return 0;
}

static int add_token(Learner *L, const uint8_t *bytes, size_t n) {
    if (L->n_tok == L->cap_tok) {
        int32_t cap = L->cap_tok * 2;
        const uint8_t **t = realloc(L->tok, (size_t)cap * sizeof *t);
        if (t) L->tok = t;
        uint32_t *l = realloc(L->tok_len, (size_t)cap * sizeof *l);
        if (l) L->tok_len = l;
        if (!t || !l) return -1;
        L->cap_tok = cap;
    }
    const uint8_t *p = arena_copy(&L->tok_bytes, bytes, n);
    if (!p || bytesmap_put(&L->tok_index, p, n, L->n_tok)) return -1;
    L->tok[L->n_tok] = p;
    L->tok_len[L->n_tok] = (uint32_t)n;
    return L->n_tok++;
}

// memcmp order of two tokens' bytes, a proper prefix first.
static int tok_cmp(const Learner *L, int32_t x, int32_t y) {
    if (x == y) return 0;
    uint32_t lx = L->tok_len[x], ly = L->tok_len[y];
    int c = memcmp(L->tok[x], L->tok[y], lx < ly ? lx : ly);
    return c ? c : (lx < ly ? -1 : lx > ly);
}

// Heap order: higher count first, then the tie rule of the header comment.
static int heap_before(const Learner *L, const HeapEntry *x, const HeapEntry *y) {
    if (x->count != y->count) return x->count > y->count;
    int c = tok_cmp(L, L->pa[x->pair], L->pa[y->pair]);
    if (!c) c = tok_cmp(L, L->pb[x->pair], L->pb[y->pair]);
    return c < 0;
}

static void sift_down(Learner *L, size_t i) {
    HeapEntry x = L->heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= L->nh) break;
        if (c + 1 < L->nh && heap_before(L, &L->heap[c + 1], &L->heap[c])) c++;
        if (!heap_before(L, &L->heap[c], &x)) break;
        L->heap[i] = L->heap[c];
        i = c;
    }
    L->heap[i] = x;
}

static int heap_push(Learner *L, int64_t count, int32_t pair) {
    if (L->nh == L->cap_h) {
        size_t cap = L->cap_h ? L->cap_h * 2 : 1024;
        HeapEntry *h = realloc(L->heap, cap * sizeof *h);
        if (!h) return -1;
        L->heap = h;
        L->cap_h = cap;
    }
    HeapEntry x = {count, pair};
    size_t i = L->nh++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!heap_before(L, &x, &L->heap[p])) break;
        L->heap[i] = L->heap[p];
        i = p;
    }
    L->heap[i] = x;
    return 0;
}

static HeapEntry heap_pop(Learner *L) {
    HeapEntry top = L->heap[0];
    L->heap[0] = L->heap[--L->nh];
    if (L->nh) sift_down(L, 0);
    return top;
}

// The id of pair (a, b), created with count 0 if new; -1 when out of memory.
static int32_t pair_id(Learner *L, int32_t a, int32_t b) {
    const PairSlot *s = pairmap_get(&L->pair_index, a, b);
    if (s) return s->merged;
    if (L->np == L->cap_p) {
        int32_t cap = L->cap_p ? L->cap_p * 2 : 4096;
        int32_t *pa = realloc(L->pa, (size_t)cap * sizeof *pa);
        if (pa) L->pa = pa;
        int32_t *pb = realloc(L->pb, (size_t)cap * sizeof *pb);
        if (pb) L->pb = pb;
        int64_t *pc = realloc(L->pcount, (size_t)cap * sizeof *pc);
        if (pc) L->pcount = pc;
        WordList *wl = realloc(L->where, (size_t)cap * sizeof *wl);
        if (wl) L->where = wl;
        uint32_t *ps = realloc(L->pstamp, (size_t)cap * sizeof *ps);
        if (ps) L->pstamp = ps;
        int32_t *pr = realloc(L->presult, (size_t)cap * sizeof *pr);
        if (pr) L->presult = pr;
        if (!pa || !pb || !pc || !wl || !ps || !pr) return -1;
        L->cap_p = cap;
    }
    int32_t id = L->np;
    if (pairmap_put(&L->pair_index, a, b, id, 0)) return -1;
    L->pa[id] = a;
    L->pb[id] = b;
    L->pcount[id] = 0;
    L->where[id] = (WordList){0};
    L->pstamp[id] = 0;
    L->presult[id] = -1;
    L->np++;
    return id;
}

// Adds d occurrences of pair (a, b) in word w. A rise records w in the pair's index and
// the pair in `touched`, so it gets a heap entry at the end of the step.
static int pair_change(Learner *L, int32_t a, int32_t b, int64_t d, int32_t w) {
    int32_t p = pair_id(L, a, b);
    if (p < 0) return -1;
    L->pcount[p] += d;
    if (d <= 0) return 0;
    if (wordlist_push(&L->where[p], w)) return -1;
    if (L->pstamp[p] != L->step) {
        L->pstamp[p] = L->step;
        if (L->n_touched == L->cap_touched) {
            size_t cap = L->cap_touched ? L->cap_touched * 2 : 1024;
            int32_t *t = realloc(L->touched, cap * sizeof *t);
            if (!t) return -1;
            L->touched = t;
            L->cap_touched = cap;
        }
        L->touched[L->n_touched++] = p;
    }
    return 0;
}

// The position of the first (a, b) in s[0..n), or n. Most of the trainer's time goes
// here on long pieces (CJK runs are one piece), so blocks of 8 are tested without
// branches, which the compiler turns into vector compares.
static uint32_t first_site(const int32_t *s, uint32_t n, int32_t a, int32_t b) {
    uint32_t i = 0;
    for (; i + 9 <= n; i += 8) {
        int hit = 0;
        for (int k = 0; k < 8; k++) hit |= (s[i + k] == a) & (s[i + k + 1] == b);
        if (hit) break;
    }
    for (; i + 1 < n; i++)
        if (s[i] == a && s[i + 1] == b) return i;
    return n;
}

// Replaces every (a, b) in word w by z, left to right, and moves the neighbours' counts:
// at each site  … L a b R …  becomes  … L z R …, so (L,a) and (b,R) lose the word's count
// and (L,z), (z,R) gain it. L is the already-rewritten left symbol, which makes runs
// such as "a b a b" -> "z z" come out right: (z,a) is added then removed again. Changes
// to (a, b) itself are skipped: the caller zeroes its count.
static int merge_word(Learner *L, int32_t w, int32_t a, int32_t b, int32_t z) {
    int32_t *s = L->sym + L->woff[w];
    uint32_t n = L->wlen[w];
    int64_t c = L->wcount[w];
    uint32_t i = first_site(s, n, a, b), out = i;
    while (i < n) {
        if (i + 1 < n && s[i] == a && s[i + 1] == b) {
            if (out > 0) {
                int32_t left = s[out - 1];
                if (!(left == a && a == b) && pair_change(L, left, a, -c, w)) return -1;
                if (pair_change(L, left, z, c, w)) return -1;
            }
            if (i + 2 < n) {
                int32_t right = s[i + 2];
                if (!(b == a && right == b) && pair_change(L, b, right, -c, w)) return -1;
                if (pair_change(L, z, right, c, w)) return -1;
            }
            s[out++] = z;
            i += 2;
        } else {
            s[out++] = s[i++];
        }
    }
    L->wlen[w] = out;
    return 0;
}

// The token that merging pair p yields: an existing one with those bytes, or a new one
// (then a merge rule is recorded). -1 when out of memory.
static int32_t merge_result(Learner *L, int32_t p) {
    if (L->presult[p] >= 0) return L->presult[p];
    int32_t a = L->pa[p], b = L->pb[p];
    size_t la = L->tok_len[a], lb = L->tok_len[b];
    uint8_t stack[256], *buf = la + lb <= sizeof stack ? stack : malloc(la + lb);
    if (!buf) return -1;
    memcpy(buf, L->tok[a], la);
    memcpy(buf + la, L->tok[b], lb);
    int32_t z = bytesmap_get(&L->tok_index, buf, la + lb);
    if (z < 0) z = add_token(L, buf, la + lb);
    if (buf != stack) free(buf);
    if (z < 0) return -1;
    if (L->n_merges == L->cap_merges) {
        int32_t cap = L->cap_merges ? L->cap_merges * 2 : 1024;
        BpeMerge *m = realloc(L->merges, (size_t)cap * sizeof *m);
        if (!m) return -1;
        L->merges = m;
        L->cap_merges = cap;
    }
    L->merges[L->n_merges++] = (BpeMerge){a, b, z};
    L->presult[p] = z;
    return z;
}

// One training step: merge pair p everywhere.
static int apply_merge(Learner *L, int32_t p) {
    int32_t z = merge_result(L, p);
    if (z < 0) return -1;
    int32_t a = L->pa[p], b = L->pb[p];
    L->step++;
    L->n_touched = 0;
    WordList where = L->where[p];  // p itself never rises here: z differs from a and b
    L->where[p] = (WordList){0};
    int rc = 0;
    for (uint32_t k = 0; k < where.n && !rc; k++) {
        int32_t w = where.w[k];
        if (L->wstamp[w] == L->step) continue;
        L->wstamp[w] = L->step;
        rc = merge_word(L, w, a, b, z);
    }
    free(where.w);
    L->pcount[p] = 0;
    for (size_t k = 0; k < L->n_touched && !rc; k++) {
        int32_t t = L->touched[k];
        if (L->pcount[t] > 0) rc = heap_push(L, L->pcount[t], t);
    }
    return rc;
}

static void learner_free(Learner *L) {
    free(L->sym);
    free(L->woff);
    free(L->wlen);
    free(L->wstamp);
    arena_free(&L->tok_bytes);
    free(L->tok);
    free(L->tok_len);
    bytesmap_free(&L->tok_index);
    pairmap_free(&L->pair_index);
    for (int32_t p = 0; p < L->np; p++) free(L->where[p].w);
    free(L->pa);
    free(L->pb);
    free(L->pcount);
    free(L->where);
    free(L->pstamp);
    free(L->presult);
    free(L->heap);
    free(L->touched);
    free(L->merges);
}

// Words as byte sequences, the 256 byte tokens, and the pair counts of the words.
static int learner_init(Learner *L, const PieceCounts *pc) {
    size_t total = 0;
    for (size_t w = 0; w < pc->n; w++) total += pc->len[w];
    L->nw = pc->n;
    L->wcount = pc->count;
    L->sym = malloc((total ? total : 1) * sizeof *L->sym);
    L->woff = malloc((pc->n + 1) * sizeof *L->woff);
    L->wlen = malloc((pc->n + 1) * sizeof *L->wlen);
    L->wstamp = calloc(pc->n + 1, sizeof *L->wstamp);
    L->cap_tok = 1024;
    L->tok = malloc((size_t)L->cap_tok * sizeof *L->tok);
    L->tok_len = malloc((size_t)L->cap_tok * sizeof *L->tok_len);
    if (!L->sym || !L->woff || !L->wlen || !L->wstamp || !L->tok || !L->tok_len) return -1;
    if (bytesmap_init(&L->tok_index, 4096) || pairmap_init(&L->pair_index, 1 << 16)) return -1;
    for (int b = 0; b < 256; b++) {
        uint8_t byte = (uint8_t)b;
        if (add_token(L, &byte, 1) < 0) return -1;
    }
    size_t off = 0;
    for (size_t w = 0; w < pc->n; w++) {
        L->woff[w] = off;
        L->wlen[w] = pc->len[w];
        for (uint32_t i = 0; i < pc->len[w]; i++) L->sym[off + i] = pc->piece[w][i];
        for (uint32_t i = 0; i + 1 < pc->len[w]; i++) {
            int32_t p = pair_id(L, L->sym[off + i], L->sym[off + i + 1]);
            if (p < 0) return -1;
            L->pcount[p] += pc->count[w];
            if (wordlist_push(&L->where[p], (int32_t)w)) return -1;
        }
        off += pc->len[w];
    }
    for (int32_t p = 0; p < L->np; p++)
        if (heap_push(L, L->pcount[p], p)) return -1;
    return 0;
}

// Merges until `target` tokens exist or no pair reaches min_frequency.
static int learn(Learner *L, int32_t target, int64_t min_frequency, const BpeTrainOptions *o) {
    int32_t first = L->n_tok, total = target - first, next_report = 256;
    if (o->progress) o->progress(o->progress_ctx, BPE_STAGE_MERGE, 0, total);
    while (L->n_tok < target && L->nh) {
        HeapEntry top = heap_pop(L);
        int64_t now = L->pcount[top.pair];
        if (top.count != now) {  // stale: its words changed since it was pushed
            if (now > 0 && heap_push(L, now, top.pair)) return -1;
            continue;
        }
        if (now < min_frequency || now <= 0) break;
        if (apply_merge(L, top.pair)) return -1;
        if (o->progress && L->n_tok - first >= next_report) {
            o->progress(o->progress_ctx, BPE_STAGE_MERGE, L->n_tok - first, total);
            next_report = L->n_tok - first + 256;
        }
    }
    if (o->progress) o->progress(o->progress_ctx, BPE_STAGE_MERGE, L->n_tok - first, total);
    return 0;
}

// ---------------------------------------------------------------------------------
// The driver: options, files, batches.

static int check_options(const BpeTrainOptions *o, Err *e) {
    if (o->n_specials < 0 || (o->n_specials && !o->specials))
        return ERR(e, ERR_ARG, "bad special-token list");
    for (int i = 0; i < o->n_specials; i++) {
        const char *s = o->specials[i];
        if (!s || !s[0]) return ERR(e, ERR_ARG, "special token %d has an empty spelling", i + 1);
        if (utf8_find_invalid(s, strlen(s)) != (size_t)-1)
            return ERR(e, ERR_ARG, "special token %d is not valid UTF-8", i + 1);
        for (int j = 0; j < i; j++)
            if (!strcmp(s, o->specials[j]))
                return ERR(e, ERR_ARG, "special token %s is given twice", s);
    }
    if (o->vocab_size < 256 + o->n_specials)
        return ERR(e, ERR_ARG, "vocab size %d is too small: it must hold the 256 byte tokens "
                   "and %d special token%s (at least %d)", o->vocab_size, o->n_specials,
                   o->n_specials == 1 ? "" : "s", 256 + o->n_specials);
    return 0;
}

// The split regex: a built-in encoding's (by name), the given one, or o200k_base's.
static const char *resolve_pattern(const BpeTrainOptions *o) {
    const char *p = o->pattern && o->pattern[0] ? o->pattern : "o200k_base";
    const char *builtin = tok_builtin_pattern(p);
    return builtin ? builtin : p;
}

static int splitter_init(Splitter *sp, const BpeTrainOptions *o, Err *e) {
    memset(sp, 0, sizeof *sp);
    if (!(sp->re = tok_compile_regex(resolve_pattern(o), e))) return -1;
    int n = o->n_specials;
    sp->specials = malloc((size_t)(n + 1) * sizeof *sp->specials);
    sp->special_len = malloc((size_t)(n + 1) * sizeof *sp->special_len);
    if (!sp->specials || !sp->special_len) return ERR(e, ERR_NOMEM, "out of memory");
    // Longest first, so a cut takes the longest spelling at a position (few: insertion sort).
    for (int i = 0; i < n; i++) {
        const char *s = o->specials[i];
        size_t len = strlen(s);
        int j = sp->n_specials++;
        for (; j > 0 && sp->special_len[j - 1] < len; j--) {
            sp->specials[j] = sp->specials[j - 1];
            sp->special_len[j] = sp->special_len[j - 1];
        }
        sp->specials[j] = s;
        sp->special_len[j] = len;
        sp->special_first[(uint8_t)s[0]] = 1;
    }
    return 0;
}

static void splitter_free(Splitter *sp) {
    pcre2_code_free(sp->re);
    free(sp->specials);
    free(sp->special_len);
}

static int check_utf8(const char *name, const char *s, size_t n, Err *e) {
    size_t bad = utf8_find_invalid(s, n);
    if (bad == (size_t)-1) return 0;
    return ERR(e, ERR_FORMAT, "%s: invalid UTF-8 at byte %zu (0x%02x)", name, bad,
               (unsigned)(uint8_t)s[bad]);
}

// Copies the learner's tokens and merges into out.
static int export_vocab(const Learner *L, const BpeTrainOptions *o, const PieceCounts *pc,
                        BpeVocab *out) {
    memset(out, 0, sizeof *out);
    size_t pool = 0;
    for (int32_t i = 0; i < L->n_tok; i++) pool += L->tok_len[i];
    out->pattern = strdup(resolve_pattern(o));
    out->pool = malloc(pool ? pool : 1);
    out->tok_off = malloc((size_t)L->n_tok * sizeof *out->tok_off);
    out->tok_len = malloc((size_t)L->n_tok * sizeof *out->tok_len);
    out->merges = malloc(((size_t)L->n_merges + 1) * sizeof *out->merges);
    out->specials = calloc((size_t)o->n_specials + 1, sizeof *out->specials);
    if (!out->pattern || !out->pool || !out->tok_off || !out->tok_len || !out->merges ||
        !out->specials)
        return -1;
    out->n_tokens = L->n_tok;
    for (int32_t i = 0; i < L->n_tok; i++) {
        out->tok_off[i] = (uint32_t)out->pool_len;
        out->tok_len[i] = L->tok_len[i];
        memcpy(out->pool + out->pool_len, L->tok[i], L->tok_len[i]);
        out->pool_len += L->tok_len[i];
    }
    if (L->n_merges) memcpy(out->merges, L->merges, (size_t)L->n_merges * sizeof *out->merges);
    out->n_merges = L->n_merges;
    for (int i = 0; i < o->n_specials; i++, out->n_specials++)
        if (!(out->specials[i] = strdup(o->specials[i]))) return -1;
    out->n_bytes = pc->n_bytes;
    out->n_pieces = pc->n_pieces;
    out->n_distinct = (int64_t)pc->n;
    return 0;
}

// Learns the merges from the counted pieces and fills out.
static int finish(const BpeTrainOptions *o, const PieceCounts *pc, BpeVocab *out, Err *e) {
    Learner L = {0};
    int64_t min_frequency = o->min_frequency > 1 ? o->min_frequency : 1;
    int rc = learner_init(&L, pc) || learn(&L, o->vocab_size - o->n_specials, min_frequency, o) ||
             export_vocab(&L, o, pc, out);
    learner_free(&L);
    if (rc) {
        bpe_vocab_free(out);
        return ERR(e, ERR_NOMEM, "out of memory learning merges");
    }
    return 0;
}

// Texts are read (or borrowed) in batches of about BATCH_BYTES; each batch is split and
// counted in parallel, then freed: the corpus is never all in memory, only its pieces.
typedef struct {
    const BpeTrainOptions *o;
    Splitter sp;
    PieceCounts pc;
    int threads;
    Span *batch;
    char **owned;  // (n_batch) texts to free after the batch; NULL entries are borrowed
    size_t n_batch, batch_bytes;
    int64_t texts_done, texts_total;  // for progress
} Run;

static int run_init(Run *r, const BpeTrainOptions *o, int n_texts, Err *e) {
    memset(r, 0, sizeof *r);
    r->o = o;
    r->texts_total = n_texts;
    r->threads = o->threads > 0 ? o->threads : omp_get_max_threads();
    if (check_options(o, e)) return -1;
    if (n_texts <= 0) return ERR(e, ERR_ARG, "no training text given");
    if (splitter_init(&r->sp, o, e)) return -1;
    r->batch = malloc((size_t)n_texts * sizeof *r->batch);
    r->owned = calloc((size_t)n_texts, sizeof *r->owned);
    if (!r->batch || !r->owned || bytesmap_init(&r->pc.index, 1 << 16))
        return ERR(e, ERR_NOMEM, "out of memory");
    return 0;
}

static int run_flush(Run *r, Err *e) {
    int rc = r->n_batch ? count_batch(&r->sp, r->batch, r->n_batch, r->threads, &r->pc, e) : 0;
    r->texts_done += (int64_t)r->n_batch;
    if (!rc && r->n_batch && r->o->progress)
        r->o->progress(r->o->progress_ctx, BPE_STAGE_COUNT, r->texts_done, r->texts_total);
    for (size_t i = 0; i < r->n_batch; i++) free(r->owned[i]);
    memset(r->owned, 0, r->n_batch * sizeof *r->owned);
    r->n_batch = r->batch_bytes = 0;
    return rc;
}

// Adds a checked text to the batch (taking ownership of `owned`, which may be NULL).
static int run_add(Run *r, const char *text, size_t len, char *owned, Err *e) {
    r->batch[r->n_batch] = (Span){(const uint8_t *)text, len};
    r->owned[r->n_batch++] = owned;
    r->batch_bytes += len;
    return r->batch_bytes >= BATCH_BYTES ? run_flush(r, e) : 0;
}

static int run_end(Run *r, BpeVocab *out, Err *e) {
    int rc = run_flush(r, e);
    if (!rc) rc = finish(r->o, &r->pc, out, e);
    splitter_free(&r->sp);
    counts_free(&r->pc);
    free(r->batch);
    free(r->owned);
    return rc;
}

static void run_abort(Run *r) {
    for (size_t i = 0; r->owned && i < r->n_batch; i++) free(r->owned[i]);
    splitter_free(&r->sp);
    counts_free(&r->pc);
    free(r->batch);
    free(r->owned);
}

int bpe_train_files(const BpeTrainOptions *o, const char *const *paths, int n, BpeVocab *out,
                    Err *e) {
    memset(out, 0, sizeof *out);
    Run r;
    if (run_init(&r, o, n, e)) goto fail;
    for (int i = 0; i < n; i++) {
        char *text;
        size_t len;
        if (file_read_all(paths[i], &text, &len, e)) goto fail;
        if (check_utf8(strcmp(paths[i], "-") ? paths[i] : "<stdin>", text, len, e)) {
            free(text);
            goto fail;
        }
        if (run_add(&r, text, len, text, e)) goto fail;
    }
    return run_end(&r, out, e);
fail:
    run_abort(&r);
    return -1;
}

int bpe_train_texts(const BpeTrainOptions *o, const char *const *texts, const size_t *lens,
                    int n, BpeVocab *out, Err *e) {
    memset(out, 0, sizeof *out);
    Run r;
    if (run_init(&r, o, n, e)) goto fail;
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "text %d", i + 1);
        if (check_utf8(name, texts[i], lens[i], e) || run_add(&r, texts[i], lens[i], NULL, e))
            goto fail;
    }
    return run_end(&r, out, e);
fail:
    run_abort(&r);
    return -1;
}

void bpe_vocab_free(BpeVocab *v) {
    if (!v) return;
    free(v->pattern);
    free(v->pool);
    free(v->tok_off);
    free(v->tok_len);
    free(v->merges);
    for (int i = 0; v->specials && i < v->n_specials; i++) free(v->specials[i]);
    free(v->specials);
    memset(v, 0, sizeof *v);
}
