// tokens.c: TokenSet — documents in memory, or memory-mapped shards — and the shard writer.
// The shard format is in tokens.h; docs/prepare.md describes index.json.
//
// Everything a shard claims is checked when it is opened (sizes against the file length,
// offsets, every id against vocab_size), so the loader and the trainer can index the
// mapped arrays without checks of their own.
#include "data/tokens.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/file.h"

#define SHARD_MAGIC "PTSHARD1"
#define SHARD_VERSION 1
#define SHARD_HEADER 64

typedef struct {
    char *path;
    uint8_t *map;
    size_t map_len;
    const int32_t *ids;
    const uint8_t *mask;
    const uint64_t *off;    // (n_docs + 1)
    uint64_t n_docs, n_tokens;
    uint64_t first_doc;     // index of its first document in the set
} Shard;

struct TokenSet {
    // In memory (tokenset_new / tokenset_add).
    int32_t *ids;
    uint8_t *mask;
    size_t n_tokens, tok_cap;
    uint64_t *off;          // (n_docs + 1) once anything is added
    size_t n_docs, off_cap;
    int vocab;
    // Mapped (tokenset_open): the documents are the shards', in order.
    Shard *shards;
    size_t n_shards;
};

TokenSet *tokenset_new(void) { return calloc(1, sizeof(TokenSet)); }

int tokenset_add(TokenSet *s, const int32_t *ids, const uint8_t *mask, size_t len, Err *e) {
    if (s->shards) return ERR(e, ERR_ARG, "tokenset_add: the set is memory-mapped (read-only)");
    for (size_t i = 0; i < len; i++)
        if (ids[i] < 0) return ERR(e, ERR_ARG, "document %zu: token %zu: negative id %d",
                                   s->n_docs, i, ids[i]);
    if (s->n_tokens + len > s->tok_cap) {
        size_t cap = s->tok_cap ? s->tok_cap : 1024;
        while (cap < s->n_tokens + len) cap *= 2;
        int32_t *ni = realloc(s->ids, cap * sizeof *ni);
        if (ni) s->ids = ni;
        uint8_t *nm = ni ? realloc(s->mask, cap) : NULL;
        if (!nm) return ERR(e, ERR_NOMEM, "out of memory adding a document of %zu tokens", len);
        s->mask = nm;
        s->tok_cap = cap;
    }
    if (s->n_docs + 2 > s->off_cap) {
        size_t cap = s->off_cap ? s->off_cap * 2 : 256;
        uint64_t *no = realloc(s->off, cap * sizeof *no);
        if (!no) return ERR(e, ERR_NOMEM, "out of memory adding document %zu", s->n_docs);
        s->off = no;
        s->off_cap = cap;
        if (s->n_docs == 0) s->off[0] = 0;
    }
    if (len) {
        memcpy(s->ids + s->n_tokens, ids, len * sizeof *ids);
        if (mask) memcpy(s->mask + s->n_tokens, mask, len);
        else memset(s->mask + s->n_tokens, 1, len);
    }
    for (size_t i = 0; i < len; i++)
        if (ids[i] >= s->vocab) s->vocab = ids[i] + 1;
    s->n_tokens += len;
    s->off[++s->n_docs] = s->n_tokens;
    return 0;
}

size_t tokenset_count(const TokenSet *s) { return s->n_docs; }
size_t tokenset_tokens(const TokenSet *s) { return s->n_tokens; }
int tokenset_vocab(const TokenSet *s) { return s->vocab; }

TokenDoc tokenset_doc(const TokenSet *s, size_t i) {
    if (!s->shards) {
        size_t a = s->off[i], b = s->off[i + 1];
        return (TokenDoc){s->ids + a, s->mask + a, b - a};
    }
    // Few shards: a binary search over their first documents.
    size_t lo = 0, hi = s->n_shards;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (s->shards[mid].first_doc <= i) lo = mid;
        else hi = mid;
    }
    const Shard *sh = &s->shards[lo];
    size_t d = i - sh->first_doc, a = sh->off[d], b = sh->off[d + 1];
    return (TokenDoc){sh->ids + a, sh->mask + a, b - a};
}

void tokenset_free(TokenSet *s) {
    if (!s) return;
    for (size_t i = 0; i < s->n_shards; i++) {
        if (s->shards[i].map) munmap(s->shards[i].map, s->shards[i].map_len);
        free(s->shards[i].path);
    }
    free(s->shards);
    free(s->ids);
    free(s->mask);
    free(s->off);
    free(s);
}

// ---------------------------------------------------------------------------------------
// Reading shards

static uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

// Byte offsets of the three arrays. The mask is padded so the offsets start on a multiple
// of 8 bytes of the file (the map is page-aligned, so they can be read in place). Returns
// -1 when the sizes overflow: a corrupt header.
static int shard_layout(uint64_t n_tokens, uint64_t n_docs, uint64_t *mask_at, uint64_t *off_at,
                        uint64_t *end) {
    if (n_tokens > (UINT64_MAX / 8) || n_docs > (UINT64_MAX / 16)) return -1;
    *mask_at = SHARD_HEADER + 4 * n_tokens;
    *off_at = (*mask_at + n_tokens + 7) / 8 * 8;
    *end = *off_at + 8 * (n_docs + 1);
    return 0;
}

// Checks one mapped shard from header to the last id; sets the array pointers.
static int shard_check(Shard *sh, int *vocab, Err *e) {
    const char *p = sh->path;
    const uint8_t *m = sh->map;
    if (sh->map_len < SHARD_HEADER)
        return ERR(e, ERR_FORMAT, "%s: %zu bytes, shorter than the %d-byte shard header "
                   "(truncated?)", p, sh->map_len, SHARD_HEADER);
    if (memcmp(m, SHARD_MAGIC, 8))
        return ERR(e, ERR_FORMAT, "%s: not a posttrain shard (bad magic; expected \"%s\")", p,
                   SHARD_MAGIC);
    uint32_t version = rd32(m + 8), hbytes = rd32(m + 12);
    if (version != SHARD_VERSION)
        return ERR(e, ERR_UNSUPPORTED, "%s: shard version %u (this build reads %d)", p, version,
                   SHARD_VERSION);
    if (hbytes != SHARD_HEADER)
        return ERR(e, ERR_FORMAT, "%s: header size %u, expected %d", p, hbytes, SHARD_HEADER);
    sh->n_tokens = rd64(m + 16);
    sh->n_docs = rd64(m + 24);
    uint32_t v = rd32(m + 32);
    for (int i = 36; i < SHARD_HEADER; i++)
        if (m[i]) return ERR(e, ERR_FORMAT, "%s: header byte %d: reserved, must be zero", p, i);
    if (v == 0 || v > INT32_MAX)
        return ERR(e, ERR_FORMAT, "%s: vocab_size %u out of range", p, v);
    uint64_t mask_at = 0, off_at = 0, end = 0;
    if (shard_layout(sh->n_tokens, sh->n_docs, &mask_at, &off_at, &end) || end != sh->map_len)
        return ERR(e, ERR_FORMAT, "%s: %zu bytes, but the header's %llu tokens and %llu documents "
                   "need %llu (truncated or corrupt)", p, sh->map_len,
                   (unsigned long long)sh->n_tokens, (unsigned long long)sh->n_docs,
                   (unsigned long long)end);
    sh->ids = (const int32_t *)(m + SHARD_HEADER);
    sh->mask = m + mask_at;
    sh->off = (const uint64_t *)(m + off_at);
    if (sh->off[0] != 0)
        return ERR(e, ERR_FORMAT, "%s: offsets[0] is %llu, expected 0", p,
                   (unsigned long long)sh->off[0]);
    for (uint64_t d = 0; d < sh->n_docs; d++)
        if (sh->off[d + 1] < sh->off[d] || sh->off[d + 1] > sh->n_tokens)
            return ERR(e, ERR_FORMAT, "%s: offsets[%llu] = %llu: %s", p, (unsigned long long)d + 1,
                       (unsigned long long)sh->off[d + 1],
                       sh->off[d + 1] < sh->off[d] ? "decreasing" : "past the last token");
    if (sh->off[sh->n_docs] != sh->n_tokens)
        return ERR(e, ERR_FORMAT, "%s: the last offset is %llu, expected n_tokens = %llu", p,
                   (unsigned long long)sh->off[sh->n_docs], (unsigned long long)sh->n_tokens);
    for (uint64_t i = 0; i < sh->n_tokens; i++) {
        if ((uint32_t)sh->ids[i] >= v)
            return ERR(e, ERR_FORMAT, "%s: token %llu: id %d outside the vocabulary (%u)", p,
                       (unsigned long long)i, sh->ids[i], v);
        if (sh->mask[i] > 1)
            return ERR(e, ERR_FORMAT, "%s: token %llu: mask %u, expected 0 or 1", p,
                       (unsigned long long)i, sh->mask[i]);
    }
    for (uint64_t i = mask_at + sh->n_tokens; i < off_at; i++)
        if (m[i]) return ERR(e, ERR_FORMAT, "%s: byte %llu: mask padding must be zero", p,
                             (unsigned long long)i);
    *vocab = (int)v;
    return 0;
}

static int shard_map(Shard *sh, const char *path, Err *e) {
    if (!(sh->path = strdup(path))) return ERR(e, ERR_NOMEM, "%s: out of memory", path);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return ERR(e, ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ERR(e, ERR_IO, "%s: not a regular file", path);
    }
    sh->map_len = (size_t)st.st_size;
    if (sh->map_len == 0) {
        close(fd);
        return ERR(e, ERR_FORMAT, "%s: empty file (truncated?)", path);
    }
    void *m = mmap(NULL, sh->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
    int saved = errno;
    close(fd);
    if (m == MAP_FAILED) return ERR(e, ERR_IO, "%s: mmap failed: %s", path, strerror(saved));
    sh->map = m;
    return 0;
}

// Appends the shard at path to s (mapped and checked).
static int add_shard(TokenSet *s, const char *path, Err *e) {
    Shard *ns = realloc(s->shards, (s->n_shards + 1) * sizeof *ns);
    if (!ns) return ERR(e, ERR_NOMEM, "%s: out of memory", path);
    s->shards = ns;
    Shard *sh = &s->shards[s->n_shards++];
    memset(sh, 0, sizeof *sh);
    int v = 0;
    if (shard_map(sh, path, e) || shard_check(sh, &v, e)) return -1;
    if (s->n_shards > 1 && v != s->vocab)
        return ERR(e, ERR_FORMAT, "%s: vocab_size %d, but %s has %d", path, v,
                   s->shards[0].path, s->vocab);
    sh->first_doc = s->n_docs;
    s->vocab = v;
    s->n_docs += sh->n_docs;
    s->n_tokens += sh->n_tokens;
    return 0;
}

static const cJSON *member(const cJSON *o, const char *name) {
    return cJSON_GetObjectItemCaseSensitive(o, name);
}

// A non-negative integer field of o (JSON numbers are doubles: exact up to 2^53).
static int get_count(const cJSON *o, const char *name, const char *where, uint64_t *out, Err *e) {
    const cJSON *v = member(o, name);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 9007199254740992.0 ||
        v->valuedouble != (double)(uint64_t)v->valuedouble)
        return ERR(e, ERR_FORMAT, "%s.%s: expected a non-negative integer", where, name);
    *out = (uint64_t)v->valuedouble;
    return 0;
}

// Maps the shards that dir/index.json lists for split, checking the index's counts.
static int open_index(TokenSet *s, const char *dir, const char *split, Err *e) {
    char ipath[4096], spath[4096];
    if (path_join(ipath, sizeof ipath, dir, "index.json", e)) return -1;
    char *text = NULL;
    size_t len;
    if (file_read_all(ipath, &text, &len, e)) return -1;
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    int rc = 0;
    const cJSON *sp = NULL, *shards = NULL;
    uint64_t want_vocab = 0;
    if (!root) rc = ERR(e, ERR_FORMAT, "%s: not valid JSON", ipath);
    else if (!cJSON_IsObject(sp = member(member(root, "splits"), split)))
        rc = ERR(e, ERR_FORMAT, "%s: splits.%s: no such split", ipath, split);
    else if (!cJSON_IsArray(shards = member(sp, "shards")))
        rc = ERR(e, ERR_FORMAT, "%s: splits.%s.shards: expected an array", ipath, split);
    else if (member(root, "vocab_size") && get_count(root, "vocab_size", ipath, &want_vocab, e))
        rc = -1;
    int k = 0;
    for (const cJSON *sh = shards ? shards->child : NULL; sh && !rc; sh = sh->next, k++) {
        char where[4200];
        snprintf(where, sizeof where, "%s: splits.%s.shards[%d]", ipath, split, k);
        const cJSON *f = member(sh, "file");
        uint64_t docs = 0, tokens = 0;
        if (!cJSON_IsString(f) || !f->valuestring[0] || strchr(f->valuestring, '/'))
            rc = ERR(e, ERR_FORMAT, "%s.file: expected a file name", where);
        else if (get_count(sh, "docs", where, &docs, e) || get_count(sh, "tokens", where, &tokens, e) ||
                 path_join(spath, sizeof spath, dir, f->valuestring, e) || add_shard(s, spath, e))
            rc = -1;
        else if (s->shards[s->n_shards - 1].n_docs != docs || s->shards[s->n_shards - 1].n_tokens != tokens)
            rc = ERR(e, ERR_FORMAT, "%s: holds %llu documents and %llu tokens, but index.json "
                     "says %llu and %llu", spath, (unsigned long long)s->shards[s->n_shards - 1].n_docs,
                     (unsigned long long)s->shards[s->n_shards - 1].n_tokens,
                     (unsigned long long)docs, (unsigned long long)tokens);
        else if (want_vocab && (uint64_t)s->vocab != want_vocab)
            rc = ERR(e, ERR_FORMAT, "%s: vocab_size %d, but index.json says %llu", spath, s->vocab,
                     (unsigned long long)want_vocab);
    }
    // An empty split (val with --val 0) is a valid, empty set that knows its vocabulary.
    if (!rc && s->n_shards == 0 && want_vocab) s->vocab = (int)want_vocab;
    cJSON_Delete(root);
    return rc;
}

int tokenset_open(TokenSet **out, const char *path, const char *split, Err *e) {
    *out = NULL;
    TokenSet *s = tokenset_new();
    if (!s) return ERR(e, ERR_NOMEM, "%s: out of memory", path);
    s->shards = calloc(1, sizeof *s->shards);  // marks the set as mapped, even when empty
    int rc = s->shards ? 0 : ERR(e, ERR_NOMEM, "%s: out of memory", path);
    if (!rc) rc = file_is_dir(path) ? open_index(s, path, split ? split : "train", e)
                                    : add_shard(s, path, e);
    if (rc) {
        tokenset_free(s);
        return -1;
    }
    *out = s;
    return 0;
}

// ---------------------------------------------------------------------------------------
// Writing shards

static void wr32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void wr64(uint8_t *p, uint64_t v) {
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

// Writes n bytes to f, or fails naming the file.
static int put(FILE *f, const void *p, size_t n, const char *path, Err *e) {
    if (n && fwrite(p, 1, n, f) != n)
        return ERR(e, ERR_IO, "%s: write failed: %s", path, strerror(errno));
    return 0;
}

// The arrays go out in pieces through stdio, so a 64M-token shard never needs a second
// copy in memory; the file appears under its name only once complete and synced.
static int write_body(FILE *f, const char *tmp, const TokenDoc *docs, size_t n,
                      uint64_t n_tokens, int vocab_size, Err *e) {
    uint8_t h[SHARD_HEADER] = {0};
    memcpy(h, SHARD_MAGIC, 8);
    wr32(h + 8, SHARD_VERSION);
    wr32(h + 12, SHARD_HEADER);
    wr64(h + 16, n_tokens);
    wr64(h + 24, n);
    wr32(h + 32, (uint32_t)vocab_size);
    if (put(f, h, sizeof h, tmp, e)) return -1;
    for (size_t d = 0; d < n; d++) {  // the project is little-endian only (x86-64, arm64)
        if (put(f, docs[d].ids, docs[d].len * sizeof(int32_t), tmp, e)) return -1;
    }
    for (size_t d = 0; d < n; d++) {
        if (put(f, docs[d].mask, docs[d].len, tmp, e)) return -1;
    }
    uint64_t mask_at = 0, off_at = 0, end = 0;
    shard_layout(n_tokens, n, &mask_at, &off_at, &end);
    static const uint8_t zeros[8] = {0};
    if (put(f, zeros, (size_t)(off_at - mask_at - n_tokens), tmp, e)) return -1;
    uint64_t at = 0;
    uint8_t b[8];
    for (size_t d = 0; d <= n; d++) {
        wr64(b, at);
        if (put(f, b, 8, tmp, e)) return -1;
        if (d < n) at += docs[d].len;
    }
    return 0;
}

int shard_write_docs(const char *path, const TokenDoc *docs, size_t n, int vocab_size, Err *e) {
    uint64_t n_tokens = 0;
    int max_id = -1;
    for (size_t d = 0; d < n; d++) {
        for (size_t i = 0; i < docs[d].len; i++) {
            int32_t id = docs[d].ids[i];
            if (id < 0 || (vocab_size > 0 && id >= vocab_size))
                return ERR(e, ERR_ARG, "%s: document %zu: token %zu: id %d outside the vocabulary "
                           "(%d)", path, d, i, id, vocab_size);
            if (docs[d].mask[i] > 1)
                return ERR(e, ERR_ARG, "%s: document %zu: token %zu: mask %u, expected 0 or 1",
                           path, d, i, docs[d].mask[i]);
            if (id > max_id) max_id = id;
        }
        n_tokens += docs[d].len;
    }
    if (vocab_size <= 0) vocab_size = max_id + 1 > 0 ? max_id + 1 : 1;
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof tmp)
        return ERR(e, ERR_ARG, "%s: path too long", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) return ERR(e, ERR_IO, "%s: cannot create (as %s): %s", path, tmp, strerror(errno));
    int rc = write_body(f, tmp, docs, n, n_tokens, vocab_size, e);
    if (!rc && (fflush(f) != 0 || fsync(fileno(f)) != 0))
        rc = ERR(e, ERR_IO, "%s: flush/fsync failed: %s", tmp, strerror(errno));
    if (fclose(f) != 0 && !rc) rc = ERR(e, ERR_IO, "%s: close failed: %s", tmp, strerror(errno));
    if (!rc && rename(tmp, path) != 0)
        rc = ERR(e, ERR_IO, "%s: rename failed: %s", path, strerror(errno));
    if (rc) {
        unlink(tmp);
        return rc;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY);  // makes the rename durable
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

int shard_write(const char *path, const TokenSet *s, size_t first, size_t n, int vocab_size,
                Err *e) {
    if (first > s->n_docs || n > s->n_docs - first)
        return ERR(e, ERR_ARG, "%s: documents [%zu, %zu) outside the set's %zu", path, first,
                   first + n, s->n_docs);
    TokenDoc *docs = malloc((n ? n : 1) * sizeof *docs);
    if (!docs) return ERR(e, ERR_NOMEM, "%s: out of memory", path);
    for (size_t i = 0; i < n; i++) docs[i] = tokenset_doc(s, first + i);
    int rc = shard_write_docs(path, docs, n, vocab_size > 0 ? vocab_size : s->vocab, e);
    free(docs);
    return rc;
}
