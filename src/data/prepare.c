// prepare.c: records -> documents -> dedup -> split -> mix -> shards + index.json.
// The contract (and the order of the steps) is in prepare.h; index.json in docs/prepare.md.
//
// Records are read in batches of BATCH; each batch is tokenized by OpenMP threads into
// one slot per record, then folded into the per-file document sets in record order, on
// one thread. That order, never the threads', decides everything after.
#include "data/prepare.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/rng.h"
#include "data/tokens.h"
#include "util/file.h"
#include "util/hashmap.h"

#define BATCH 2048
#define DEFAULT_SHARD_TOKENS (64ull << 20)

int prepare_record(const Tokenizer *t, const ChatTemplate *tpl, const DataRecord *r,
                   IntVec *ids, IntVec *mask, Err *e) {
    size_t start = ids->len;
    if (!t && r->kind != REC_TOKENS)
        return ERR(e, ERR_ARG, "%s: %s needs a tokenizer, and none was given", r->where,
                   r->kind == REC_CONV ? "a conversation" : "a text document");
    switch (r->kind) {
    case REC_CONV:
        if (!tpl) return ERR(e, ERR_ARG, "%s: a conversation, but no chat template was given", r->where);
        if (chat_render(t, tpl, &r->conv, false, ids, mask, e))
            return err_prefix(e, "%s: ", r->where);
        return 0;
    case REC_TOKENS: {
        int32_t V = t ? tok_vocab_size(t) : INT32_MAX;  // no tokenizer: the model checks ids
        if (r->mask.len != r->ids.len)
            return ERR(e, ERR_FORMAT, "%s: %zu ids but %zu mask values", r->where, r->ids.len,
                       r->mask.len);
        for (size_t i = 0; i < r->ids.len; i++) {
            if (r->ids.data[i] < 0 || r->ids.data[i] >= V)
                return ERR(e, ERR_FORMAT, "%s: ids[%zu]: %d outside the vocabulary (%d tokens)",
                           r->where, i, r->ids.data[i], V);
            size_t n;  // an id in a gap of the vocabulary (o200k_base: 200019..200263) means nothing
            if (t && !tok_token_bytes(t, r->ids.data[i], &n))
                return ERR(e, ERR_FORMAT, "%s: ids[%zu]: no token has id %d", r->where, i,
                           r->ids.data[i]);
            if (r->mask.data[i] != 0 && r->mask.data[i] != 1)
                return ERR(e, ERR_FORMAT, "%s: mask[%zu]: %d, expected 0 or 1", r->where, i,
                           r->mask.data[i]);
        }
        if (ivec_append(ids, r->ids.data, r->ids.len) || ivec_append(mask, r->mask.data, r->mask.len))
            return ERR(e, ERR_NOMEM, "%s: out of memory", r->where);
        return 0;
    }
    case REC_TEXT:
        // BOS/EOS only where the tokenizer has them (tok_encode skips a missing one).
        if (tok_encode(t, r->text.data ? r->text.data : "", r->text.len, TOK_ADD_BOS | TOK_ADD_EOS,
                       ids, e))
            return err_prefix(e, "%s: ", r->where);
        // Every token is a target except the first, which nothing before it predicts.
        if (ivec_reserve(mask, ids->len - start))
            return ERR(e, ERR_NOMEM, "%s: out of memory", r->where);
        for (size_t i = start; i < ids->len; i++) mask->data[mask->len++] = i > start;
        return 0;
    }
    return ERR(e, ERR_ARG, "%s: unknown record kind %d", r->where, (int)r->kind);
}

// ---------------------------------------------------------------------------------------
// Exact dedup: content hash -> (file, document), open addressing; equal hashes are
// compared token by token, so a hash collision never loses a document.

typedef struct {
    uint64_t hash;
    uint32_t file;  // UINT32_MAX: empty slot
    size_t doc;
} Seen;

typedef struct {
    Seen *slots;
    size_t cap, n;
} SeenSet;

static uint64_t doc_hash(const int32_t *ids, const uint8_t *mask, size_t len) {
    uint64_t a = hash_bytes(ids, len * sizeof *ids), b = hash_bytes(mask, len);
    return rng_mix(a, b + len);
}

static int seen_grow(SeenSet *s) {
    size_t cap = s->cap ? s->cap * 2 : 4096;
    Seen *ns = malloc(cap * sizeof *ns);
    if (!ns) return -1;
    for (size_t i = 0; i < cap; i++) ns[i].file = UINT32_MAX;
    for (size_t i = 0; i < s->cap; i++) {
        if (s->slots[i].file == UINT32_MAX) continue;
        size_t j = s->slots[i].hash & (cap - 1);
        while (ns[j].file != UINT32_MAX) j = (j + 1) & (cap - 1);
        ns[j] = s->slots[i];
    }
    free(s->slots);
    s->slots = ns;
    s->cap = cap;
    return 0;
}

static bool doc_equal(TokenDoc a, TokenDoc b) {
    return a.len == b.len && !memcmp(a.ids, b.ids, a.len * sizeof *a.ids) &&
           !memcmp(a.mask, b.mask, a.len);
}

// 1 if d is already in s (from any of sets), 0 after adding it as (file, doc), -1 on OOM.
static int seen_check_add(SeenSet *s, TokenSet **sets, TokenDoc d, uint64_t h, uint32_t file,
                          size_t doc) {
    if ((s->n + 1) * 2 > s->cap && seen_grow(s)) return -1;
    size_t j = h & (s->cap - 1);
    for (; s->slots[j].file != UINT32_MAX; j = (j + 1) & (s->cap - 1))
        if (s->slots[j].hash == h && doc_equal(tokenset_doc(sets[s->slots[j].file], s->slots[j].doc), d))
            return 1;
    s->slots[j] = (Seen){h, file, doc};
    s->n++;
    return 0;
}

// ---------------------------------------------------------------------------------------
// Reading and tokenizing

typedef struct {
    IntVec ids, mask;
    int rc;
    Err e;
} Slot;

typedef struct {
    TokenSet **sets;   // (n_in) unique documents per file
    uint64_t **hash;   // (n_in) their content hashes
    SeenSet seen;
    DataRecord *recs;  // (BATCH)
    Slot *slots;       // (BATCH)
} Work;

// Folds one tokenized record into file f's documents (max_len, targets, dedup).
static int keep_doc(Work *w, const PrepareOptions *o, uint32_t f, Slot *sl, PrepareFileStats *fs,
                    Err *e) {
    size_t len = sl->ids.len, targets = 0;
    uint8_t *m = malloc(len ? len : 1);
    if (!m) return ERR(e, ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < len; i++) targets += (m[i] = (uint8_t)sl->mask.data[i]);
    int rc = 0;
    if (targets == 0) {
        fs->no_targets++;
        goto done;
    }
    if (o->max_len && len > o->max_len) {
        size_t kept = 0;
        for (size_t i = 0; i < o->max_len; i++) kept += m[i];
        if (!kept) {
            fs->dropped++;
            goto done;
        }
        fs->truncated++;
        fs->truncated_tokens += len - o->max_len;
        len = o->max_len;
    }
    TokenDoc d = {sl->ids.data, m, len};
    uint64_t h = doc_hash(d.ids, d.mask, len);
    int dup = seen_check_add(&w->seen, w->sets, d, h, f, tokenset_count(w->sets[f]));
    if (dup < 0) rc = ERR(e, ERR_NOMEM, "out of memory (dedup table)");
    else if (dup) fs->duplicates++;
    else {
        size_t n = tokenset_count(w->sets[f]);
        if ((n & (n - 1)) == 0) {  // powers of two: the hash list doubles
            uint64_t *nh = realloc(w->hash[f], (n ? 2 * n : 1) * sizeof *nh);
            if (!nh) rc = ERR(e, ERR_NOMEM, "out of memory");
            else w->hash[f] = nh;
        }
        if (!rc) rc = tokenset_add(w->sets[f], d.ids, d.mask, len, e);
        if (!rc) {
            w->hash[f][n] = h;
            fs->docs++;
        }
    }
done:
    free(m);
    return rc;
}

// Reads, tokenizes and folds every record of input f.
static int read_file(Work *w, const PrepareInput *in, uint32_t f, const Tokenizer *t,
                     const ChatTemplate *tpl, const PrepareOptions *o, int threads,
                     PrepareFileStats *fs, Err *e) {
    DataReader *r = NULL;
    if (data_reader_open(&r, in->path, &o->reader, e)) return -1;
    fs->format = data_reader_format(r);
    int rc = 0, more = 1;
    size_t records = 0;
    while (more && !rc) {
        int n = 0;
        while (n < BATCH && (more = data_reader_next(r, &w->recs[n], e)) == 1) n++;
        // A reader error comes after the n records before it: those are tokenized first, so
        // the error reported is the first in record order.
        Err read_err;
        if (more < 0) read_err = *e;
        // Tokenizing is nearly all of the time; records are independent and the tokenizer
        // is read-only here, so each thread takes records off a shared counter.
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads)
        for (int i = 0; i < n; i++) {
            Slot *sl = &w->slots[i];
            sl->ids.len = sl->mask.len = 0;
            sl->rc = prepare_record(t, tpl, &w->recs[i], &sl->ids, &sl->mask, &sl->e);
        }
        for (int i = 0; i < n && !rc; i++) {
            Slot *sl = &w->slots[i];
            if (sl->rc) {
                if (sl->e.code == ERR_NOMEM || !o->reader.skip_bad) {
                    *e = sl->e;
                    rc = -1;
                } else if (w->recs[i].kind == REC_TOKENS) fs->bad_tokens++;
                else fs->bad_render++;
                continue;
            }
            rc = keep_doc(w, o, f, sl, fs, e);
        }
        records += (size_t)n;
        if (more < 0 && !rc) {
            *e = read_err;
            rc = -1;
        }
        if (o->progress && !rc)
            o->progress(o->progress_ctx, &(PrepareProgress){in->path, records, NULL, !more});
    }
    const ReaderStats *rs = data_reader_stats(r);
    fs->records = rs->records;
    memcpy(fs->bad, rs->bad, sizeof fs->bad);
    fs->deleted = rs->deleted;
    fs->filtered = rs->filtered;
    data_reader_close(r);
    return rc;
}

// ---------------------------------------------------------------------------------------
// Split and mix

typedef struct {
    uint64_t key;
    uint32_t file;
    size_t doc;
} Ranked;

static int by_key(const void *a, const void *b) {
    const Ranked *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    if (x->file != y->file) return x->file < y->file ? -1 : 1;
    return x->doc < y->doc ? -1 : x->doc > y->doc;
}

// Marks is_val[f][d] for the round(val * N) documents of smallest key = mix(seed, hash).
static int choose_val(Work *w, int n_in, const PrepareOptions *o, uint8_t **is_val, Err *e) {
    size_t N = 0;
    for (int f = 0; f < n_in; f++) N += tokenset_count(w->sets[f]);
    size_t want = (size_t)llround(o->val * (double)N);
    if (want == 0) return 0;
    if (want > N) want = N;
    Ranked *r = malloc(N * sizeof *r);
    if (!r) return ERR(e, ERR_NOMEM, "out of memory (split)");
    size_t k = 0;
    for (int f = 0; f < n_in; f++)
        for (size_t d = 0; d < tokenset_count(w->sets[f]); d++)
            r[k++] = (Ranked){rng_mix(o->seed ^ 0x76616c2d73706c74ull, w->hash[f][d]), (uint32_t)f, d};
    qsort(r, N, sizeof *r, by_key);
    for (size_t i = 0; i < want; i++) is_val[r[i].file][r[i].doc] = 1;
    free(r);
    return 0;
}

// copies[d] for the train documents of file f (n of them, listed in idx): k in all, as
// prepare.h describes (each floor(k/n) times, k mod n more drawn without repetition).
static void mix_copies(const size_t *idx, size_t n, size_t k, uint64_t seed, uint32_t f,
                       uint32_t *copies, size_t *pick) {
    for (size_t i = 0; i < n; i++) copies[idx[i]] = (uint32_t)(k / n);
    size_t extra = k % n;
    if (!extra) return;
    for (size_t i = 0; i < n; i++) pick[i] = i;
    Rng r;
    rng_seed(&r, rng_mix(seed ^ 0x6d69782d66696c65ull, f));
    for (size_t i = 0; i < extra; i++) {  // a partial Fisher–Yates: the first `extra` picks
        size_t j = i + (size_t)rng_below(&r, n - i), tmp = pick[i];
        pick[i] = pick[j];
        pick[j] = tmp;
        copies[idx[pick[i]]]++;
    }
}

// want[f] = file f's share of n_train by its weight, rounded by largest remainder (ties to
// the earlier file) so that the shares of the weighted files add up to n_train exactly.
static int mix_shares(const PrepareInput *in, int n_in, double wsum, size_t n_train, size_t *want) {
    double *frac = malloc((size_t)n_in * sizeof *frac);
    if (!frac) return -1;
    size_t given = 0;
    for (int f = 0; f < n_in; f++) {
        double x = in[f].weight >= 0 ? in[f].weight / wsum * (double)n_train : 0;
        want[f] = (size_t)floor(x);
        frac[f] = in[f].weight >= 0 ? x - floor(x) : -1;
        given += want[f];
    }
    for (; given < n_train; given++) {
        int best = -1;
        for (int f = 0; f < n_in; f++)
            if (frac[f] >= 0 && (best < 0 || frac[f] > frac[best])) best = f;
        if (best < 0) break;
        want[best]++;
        frac[best] = -1;
    }
    free(frac);
    return 0;
}

// ---------------------------------------------------------------------------------------
// Writing

typedef struct {
    TokenDoc *docs;
    size_t n, cap;
} DocList;

static int list_push(DocList *l, TokenDoc d) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        TokenDoc *nd = realloc(l->docs, cap * sizeof *nd);
        if (!nd) return -1;
        l->docs = nd;
        l->cap = cap;
    }
    l->docs[l->n++] = d;
    return 0;
}

// Writes one split's documents as shards of at most max_tokens tokens (at least one
// document each); lists them in arr and counts them into ss.
static int write_split(const char *dir, const char *name, const DocList *l, uint64_t max_tokens,
                       int vocab, const PrepareOptions *o, cJSON *arr, PrepareSplitStats *ss,
                       Err *e) {
    size_t d = 0;
    while (d < l->n) {
        size_t first = d;
        uint64_t tokens = 0;
        while (d < l->n && (d == first || tokens + l->docs[d].len <= max_tokens)) {
            tokens += l->docs[d].len;
            for (size_t i = 0; i < l->docs[d].len; i++) ss->targets += l->docs[d].mask[i];
            d++;
        }
        char fname[64], path[4096];
        snprintf(fname, sizeof fname, "%s-%05zu.bin", name, ss->shards);
        if (path_join(path, sizeof path, dir, fname, e) ||
            shard_write_docs(path, l->docs + first, d - first, vocab, e))
            return -1;
        cJSON *s = cJSON_CreateObject();
        if (!s || !cJSON_AddItemToArray(arr, s) || !cJSON_AddStringToObject(s, "file", fname) ||
            !cJSON_AddNumberToObject(s, "docs", (double)(d - first)) ||
            !cJSON_AddNumberToObject(s, "tokens", (double)tokens))
            return ERR(e, ERR_NOMEM, "out of memory (index.json)");
        ss->shards++;
        ss->docs += d - first;
        ss->tokens += tokens;
        if (o->progress) o->progress(o->progress_ctx, &(PrepareProgress){NULL, 0, path, 0});
    }
    return 0;
}

static void add_counts(cJSON *o, const PrepareFileStats *s) {
    cJSON_AddNumberToObject(o, "records", (double)s->records);
    cJSON_AddNumberToObject(o, "docs", (double)s->docs);
    cJSON_AddNumberToObject(o, "train_docs", (double)s->train_docs);
    cJSON_AddNumberToObject(o, "val_docs", (double)s->val_docs);
    cJSON_AddNumberToObject(o, "duplicates", (double)s->duplicates);
    cJSON_AddNumberToObject(o, "truncated", (double)s->truncated);
    cJSON_AddNumberToObject(o, "truncated_tokens", (double)s->truncated_tokens);
    cJSON_AddNumberToObject(o, "dropped", (double)s->dropped);
    cJSON_AddNumberToObject(o, "no_targets", (double)s->no_targets);
    cJSON_AddNumberToObject(o, "deleted", (double)s->deleted);
    cJSON_AddNumberToObject(o, "filtered", (double)s->filtered);
    cJSON *bad = cJSON_AddObjectToObject(o, "bad");
    if (!bad) return;
    for (int k = 0; k < DERR_COUNT; k++)
        cJSON_AddNumberToObject(bad, data_err_kind_name((DataErrKind)k), (double)s->bad[k]);
    cJSON_AddNumberToObject(bad, "render", (double)s->bad_render);
    cJSON_AddNumberToObject(bad, "tokens", (double)s->bad_tokens);
}

static cJSON *split_json(cJSON *splits, const char *name, cJSON **shards) {
    cJSON *s = cJSON_AddObjectToObject(splits, name);
    *shards = s ? cJSON_AddArrayToObject(s, "shards") : NULL;
    return s;
}

static void sum_stats(PrepareStats *st) {
    PrepareFileStats *t = &st->total;
    memset(t, 0, sizeof *t);
    for (int f = 0; f < st->n_files; f++) {
        const PrepareFileStats *s = &st->files[f];
        t->records += s->records;
        for (int k = 0; k < DERR_COUNT; k++) t->bad[k] += s->bad[k];
        t->bad_render += s->bad_render;
        t->bad_tokens += s->bad_tokens;
        t->deleted += s->deleted;
        t->filtered += s->filtered;
        t->no_targets += s->no_targets;
        t->truncated += s->truncated;
        t->truncated_tokens += s->truncated_tokens;
        t->dropped += s->dropped;
        t->duplicates += s->duplicates;
        t->docs += s->docs;
        t->val_docs += s->val_docs;
        t->train_docs += s->train_docs;
    }
}

// Builds the train/val lists (split, then mix), writes the shards and index.json.
static int write_out(const char *dir, Work *w, const PrepareInput *in, int n_in, int vocab,
                     const PrepareOptions *o, PrepareStats *st, Err *e) {
    int rc = 0;
    uint8_t **is_val = calloc((size_t)n_in, sizeof *is_val);
    uint32_t **copies = calloc((size_t)n_in, sizeof *copies);
    size_t *want = calloc((size_t)n_in, sizeof *want);
    size_t *idx = NULL, *pick = NULL, max_n = 1;
    DocList train = {0}, val = {0};
    cJSON *root = cJSON_CreateObject();
    if (!is_val || !copies || !want || !root) rc = ERR(e, ERR_NOMEM, "out of memory");
    for (int f = 0; f < n_in && !rc; f++) {
        size_t n = tokenset_count(w->sets[f]);
        if (n > max_n) max_n = n;
        if (!(is_val[f] = calloc(n ? n : 1, 1)) || !(copies[f] = calloc(n ? n : 1, sizeof **copies)))
            rc = ERR(e, ERR_NOMEM, "out of memory");
    }
    if (!rc && (!(idx = malloc(max_n * sizeof *idx)) || !(pick = malloc(max_n * sizeof *pick))))
        rc = ERR(e, ERR_NOMEM, "out of memory");
    if (!rc) rc = choose_val(w, n_in, o, is_val, e);

    // The mix: weights (normalised) over the train documents.
    double wsum = 0;
    size_t n_train = 0;
    for (int f = 0; f < n_in && !rc; f++) {
        if (in[f].weight >= 0) wsum += in[f].weight;
        for (size_t d = 0; d < tokenset_count(w->sets[f]); d++) n_train += !is_val[f][d];
    }
    if (!rc && wsum > 0 && mix_shares(in, n_in, wsum, n_train, want)) rc = ERR(e, ERR_NOMEM, "out of memory");
    for (int f = 0; f < n_in && !rc; f++) {
        size_t n = 0;
        for (size_t d = 0; d < tokenset_count(w->sets[f]); d++)
            if (!is_val[f][d]) idx[n++] = d;
        size_t k = wsum > 0 && in[f].weight >= 0 ? want[f] : n;
        if (k > 0 && n == 0) {
            rc = ERR(e, ERR_ARG, "%s: weight %g asks for %zu training documents, but the file has "
                     "none", in[f].path, in[f].weight, k);
            break;
        }
        if (n) mix_copies(idx, n, k, o->seed, (uint32_t)f, copies[f], pick);
        st->files[f].train_docs = k;
        st->files[f].val_docs = tokenset_count(w->sets[f]) - n;
    }
    for (int f = 0; f < n_in && !rc; f++) {
        for (size_t d = 0; d < tokenset_count(w->sets[f]) && !rc; d++) {
            TokenDoc doc = tokenset_doc(w->sets[f], d);
            if (is_val[f][d]) rc = list_push(&val, doc);
            for (uint32_t c = 0; c < copies[f][d] && !rc; c++) rc = list_push(&train, doc);
            if (rc) rc = ERR(e, ERR_NOMEM, "out of memory");
        }
    }

    cJSON *splits = NULL, *tr = NULL, *va = NULL, *tr_sh = NULL, *va_sh = NULL;
    uint64_t max_tokens = o->shard_tokens ? o->shard_tokens : DEFAULT_SHARD_TOKENS;
    if (!rc) {
        cJSON_AddStringToObject(root, "format", "posttrain-shards");
        cJSON_AddNumberToObject(root, "version", 1);
        if (o->tokenizer_spec) cJSON_AddStringToObject(root, "tokenizer", o->tokenizer_spec);
        if (o->template_name) cJSON_AddStringToObject(root, "template", o->template_name);
        cJSON_AddNumberToObject(root, "vocab_size", vocab);
        if (o->seed <= (1ull << 53)) cJSON_AddNumberToObject(root, "seed", (double)o->seed);
        else {
            char s[32];
            snprintf(s, sizeof s, "%llu", (unsigned long long)o->seed);
            cJSON_AddStringToObject(root, "seed", s);
        }
        cJSON_AddNumberToObject(root, "val_fraction", o->val);
        cJSON_AddNumberToObject(root, "max_len", (double)o->max_len);
        splits = cJSON_AddObjectToObject(root, "splits");
        tr = splits ? split_json(splits, "train", &tr_sh) : NULL;
        va = splits ? split_json(splits, "val", &va_sh) : NULL;
        if (!tr_sh || !va_sh) rc = ERR(e, ERR_NOMEM, "out of memory (index.json)");
    }
    if (!rc) rc = write_split(dir, "train", &train, max_tokens, vocab, o, tr_sh, &st->split[PREP_TRAIN], e);
    if (!rc) rc = write_split(dir, "val", &val, max_tokens, vocab, o, va_sh, &st->split[PREP_VAL], e);
    sum_stats(st);
    if (!rc) {
        const cJSON *pairs[2] = {tr, va};
        for (int s = 0; s < 2; s++) {
            cJSON_AddNumberToObject((cJSON *)pairs[s], "docs", (double)st->split[s].docs);
            cJSON_AddNumberToObject((cJSON *)pairs[s], "tokens", (double)st->split[s].tokens);
            cJSON_AddNumberToObject((cJSON *)pairs[s], "targets", (double)st->split[s].targets);
        }
        cJSON *tot = cJSON_AddObjectToObject(root, "stats");
        if (tot) add_counts(tot, &st->total);
        cJSON *inputs = cJSON_AddArrayToObject(root, "inputs");
        for (int f = 0; inputs && f < n_in; f++) {
            cJSON *x = cJSON_CreateObject();
            if (!x || !cJSON_AddItemToArray(inputs, x)) break;
            cJSON_AddStringToObject(x, "path", in[f].path);
            cJSON_AddStringToObject(x, "format", data_format_name(st->files[f].format));
            if (in[f].weight >= 0) cJSON_AddNumberToObject(x, "weight", in[f].weight);
            add_counts(x, &st->files[f]);
        }
        char *text = cJSON_Print(root), path[4096];
        if (!text) rc = ERR(e, ERR_NOMEM, "out of memory (index.json)");
        else {
            size_t len = strlen(text);
            text[len] = '\n';  // cJSON_Print's NUL becomes the final newline
            rc = path_join(path, sizeof path, dir, "index.json", e) ||
                 file_write_atomic(path, text, len + 1, e) ? -1 : 0;
            free(text);
        }
    }
    // Shards a bigger earlier run left past the new ones' numbers: the index no longer names
    // them, and a directory listing should not suggest otherwise.
    for (int s = 0; s < 2 && !rc; s++) {
        for (size_t k = st->split[s].shards;; k++) {
            char fname[64], path[4096];
            snprintf(fname, sizeof fname, "%s-%05zu.bin", s ? "val" : "train", k);
            if (path_join(path, sizeof path, dir, fname, NULL) || unlink(path) != 0) break;
        }
    }
    cJSON_Delete(root);
    for (int f = 0; f < n_in; f++) {
        if (is_val) free(is_val[f]);
        if (copies) free(copies[f]);
    }
    free(is_val);
    free(copies);
    free(want);
    free(idx);
    free(pick);
    free(train.docs);
    free(val.docs);
    return rc;
}

// ---------------------------------------------------------------------------------------

int data_prepare(const char *out_dir, const PrepareInput *in, int n_in, Tokenizer *t,
                 const ChatTemplate *tpl, const PrepareOptions *o, PrepareStats *st, Err *e) {
    memset(st, 0, sizeof *st);
    if (n_in <= 0) return ERR(e, ERR_ARG, "no input files");
    if (!(o->val >= 0 && o->val < 1))
        return ERR(e, ERR_ARG, "val fraction %g: expected 0 <= val < 1", o->val);
    if (tpl && chat_prepare_tokenizer(t, tpl, e)) return -1;
    st->vocab_size = tok_vocab_size(t);
    if (!(st->files = calloc((size_t)n_in, sizeof *st->files))) return ERR(e, ERR_NOMEM, "out of memory");
    st->n_files = n_in;
    int threads = o->threads > 0 ? o->threads : omp_get_max_threads();
    Work w = {0};
    int rc = 0;
    w.sets = calloc((size_t)n_in, sizeof *w.sets);
    w.hash = calloc((size_t)n_in, sizeof *w.hash);
    w.recs = calloc(BATCH, sizeof *w.recs);
    w.slots = calloc(BATCH, sizeof *w.slots);
    if (!w.sets || !w.hash || !w.recs || !w.slots) rc = ERR(e, ERR_NOMEM, "out of memory");
    for (int f = 0; f < n_in && !rc; f++)
        if (!(w.sets[f] = tokenset_new())) rc = ERR(e, ERR_NOMEM, "out of memory");
    if (!rc) rc = file_mkdir_p(out_dir, e);
    for (int f = 0; f < n_in && !rc; f++)
        rc = read_file(&w, &in[f], (uint32_t)f, t, tpl, o, threads, &st->files[f], e);
    if (!rc) rc = write_out(out_dir, &w, in, n_in, st->vocab_size, o, st, e);
    else sum_stats(st);
    for (int i = 0; w.recs && i < BATCH; i++) data_record_free(&w.recs[i]);
    for (int i = 0; w.slots && i < BATCH; i++) {
        ivec_free(&w.slots[i].ids);
        ivec_free(&w.slots[i].mask);
    }
    for (int f = 0; f < n_in; f++) {
        if (w.sets) tokenset_free(w.sets[f]);
        if (w.hash) free(w.hash[f]);
    }
    free(w.sets);
    free(w.hash);
    free(w.recs);
    free(w.slots);
    free(w.seen.slots);
    return rc;
}

void prepare_stats_free(PrepareStats *st) {
    free(st->files);
    memset(st, 0, sizeof *st);
}
