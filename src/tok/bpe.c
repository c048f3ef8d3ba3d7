// bpe.c: byte-pair encoding of one pre-tokenized piece.
//
// The piece starts as symbols (bytes, or UTF-8 characters in SentencePiece mode); then
// the adjacent pair with the lowest rank is merged, leftmost first on ties, until no
// pair in the merge table remains. Short pieces (almost all of them) use a flat array
// and rescan; long ones (100 KB of one letter, base64 blobs) use a heap over a linked
// list, so the cost stays O(n log n) instead of the O(n^2) that tiktoken and HF pay.
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "tok/tok_impl.h"
#include "util/utf8.h"

#define FLAT_MAX 64  // pieces up to this many symbols use the flat rescan

static inline int32_t pair_rank(const Tokenizer *t, int32_t a, int32_t b, int32_t *merged) {
    const PairSlot *s = pairmap_get(&t->merges, a, b);
    if (!s) return INT_MAX;
    *merged = s->merged;
    return s->rank;
}

// Flat merge: ids[0..n) in place; ranks cached per pair and refreshed around each merge.
static size_t merge_flat(const Tokenizer *t, int32_t *ids, size_t n) {
    int32_t rank[FLAT_MAX], into[FLAT_MAX];
    for (size_t i = 0; i + 1 < n; i++) rank[i] = pair_rank(t, ids[i], ids[i + 1], &into[i]);
    while (n > 1) {
        size_t best = 0;
        for (size_t i = 1; i + 1 < n; i++)
            if (rank[i] < rank[best]) best = i;
        if (rank[best] == INT_MAX) break;
        ids[best] = into[best];
        memmove(ids + best + 1, ids + best + 2, (n - best - 2) * sizeof *ids);
        memmove(rank + best + 1, rank + best + 2, (n - best - 2) * sizeof *rank);
        memmove(into + best + 1, into + best + 2, (n - best - 2) * sizeof *into);
        n--;
        if (best > 0) rank[best - 1] = pair_rank(t, ids[best - 1], ids[best], &into[best - 1]);
        if (best + 1 < n) rank[best] = pair_rank(t, ids[best], ids[best + 1], &into[best]);
    }
    return n;
}

typedef struct {
    int32_t rank;
    int32_t left;          // position of the left symbol (positions keep text order)
    int32_t right;         // position of the right symbol when pushed
    int32_t lid, rid;      // their ids when pushed: a mismatch means the entry is stale
    int32_t merged;
} HeapItem;

static inline int heap_less(const HeapItem *a, const HeapItem *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

static void heap_push(HeapItem *h, size_t *n, HeapItem x) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!heap_less(&x, &h[p])) break;
        h[i] = h[p];
        i = p;
    }
    h[i] = x;
}

static HeapItem heap_pop(HeapItem *h, size_t *n) {
    HeapItem top = h[0], x = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && heap_less(&h[c + 1], &h[c])) c++;
        if (!heap_less(&h[c], &x)) break;
        h[i] = h[c];
        i = c;
    }
    h[i] = x;
    return top;
}

// Heap merge over a doubly linked list of symbols; returns the new count in ids.
static size_t merge_heap(const Tokenizer *t, int32_t *ids, size_t n) {
    int32_t *next = malloc(n * sizeof *next), *prev = malloc(n * sizeof *prev);
    // Each merge pushes at most 2 pairs: n-1 initial + 2 per merge ≤ 3n.
    HeapItem *heap = malloc(3 * n * sizeof *heap);
    if (!next || !prev || !heap) {
        free(next), free(prev), free(heap);
        return (size_t)-1;
    }
    size_t hn = 0;
    for (size_t i = 0; i < n; i++) {
        next[i] = i + 1 < n ? (int32_t)i + 1 : -1;
        prev[i] = (int32_t)i - 1;
    }
    for (size_t i = 0; i + 1 < n; i++) {
        int32_t m, r = pair_rank(t, ids[i], ids[i + 1], &m);
        if (r != INT_MAX)
            heap_push(heap, &hn, (HeapItem){r, (int32_t)i, (int32_t)i + 1, ids[i], ids[i + 1], m});
    }
    while (hn) {
        HeapItem it = heap_pop(heap, &hn);
        int32_t l = it.left, r = it.right;
        if (ids[l] != it.lid || next[l] != r || ids[r] != it.rid) continue;  // stale
        ids[l] = it.merged;
        ids[r] = -1;  // dead
        next[l] = next[r];
        if (next[r] >= 0) prev[next[r]] = l;
        int32_t m, rk;
        if (prev[l] >= 0 && (rk = pair_rank(t, ids[prev[l]], ids[l], &m)) != INT_MAX)
            heap_push(heap, &hn, (HeapItem){rk, prev[l], l, ids[prev[l]], ids[l], m});
        if (next[l] >= 0 && (rk = pair_rank(t, ids[l], ids[next[l]], &m)) != INT_MAX)
            heap_push(heap, &hn, (HeapItem){rk, l, next[l], ids[l], ids[next[l]], m});
    }
    size_t k = 0;
    for (int32_t i = 0; i >= 0; i = next[i]) ids[k++] = ids[i];
    free(next), free(prev), free(heap);
    return k;
}

int bpe_encode_piece(const Tokenizer *t, const uint8_t *s, size_t n, IntVec *out) {
    if (n == 0) return 0;
    if (t->whole_piece_first) {
        int32_t id = bytesmap_get(&t->lookup, s, n);
        if (id >= 0) return ivec_push(out, id);
    }
    // Initial symbols go straight into out; they are merged in place there.
    size_t base = out->len;
    if (ivec_reserve(out, n)) return -1;
    int32_t *ids = out->data + base;
    size_t m = 0;
    if (t->mode == TOK_MODE_BYTES) {
        for (size_t i = 0; i < n; i++)
            if ((ids[m++] = t->byte_id[s[i]]) < 0) return -2;
    } else {
        for (size_t i = 0; i < n;) {
            int l = utf8_seq_len(s + i, n - i);
            if (!l) l = 1;  // input was validated; stay safe on a stray byte
            int32_t id = bytesmap_get(&t->lookup, s + i, (size_t)l);
            if (id >= 0) {
                ids[m++] = id;
            } else {
                for (int k = 0; k < l; k++) {
                    int32_t b = t->byte_id[s[i + k]];
                    // Without byte fallback a whole unknown character is one <unk>.
                    if (b < 0) {
                        if (t->unk_id < 0) return -2;
                        ids[m++] = t->unk_id;
                        break;
                    }
                    ids[m++] = b;
                }
            }
            i += (size_t)l;
        }
    }
    size_t k = m <= FLAT_MAX ? merge_flat(t, ids, m) : merge_heap(t, ids, m);
    if (k == (size_t)-1) return -1;
    out->len = base + k;
    return 0;
}
