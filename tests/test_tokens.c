// test_tokens.c: TokenSet and shards — round trip through a file and an index.json,
// and every corruption the reader must name (magic, version, truncation, offsets, ids),
// plus the writer's atomicity (a failed write leaves the old shard and no temp file).
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/tokens.h"
#include "util/file.h"
#include "check.h"
#include "fixture.h"

static int same_doc(TokenDoc a, TokenDoc b) {
    return a.len == b.len && !memcmp(a.ids, b.ids, a.len * 4) && !memcmp(a.mask, b.mask, a.len);
}

static int same_sets(const TokenSet *a, const TokenSet *b) {
    if (tokenset_count(a) != tokenset_count(b) || tokenset_tokens(a) != tokenset_tokens(b)) return 0;
    for (size_t i = 0; i < tokenset_count(a); i++)
        if (!same_doc(tokenset_doc(a, i), tokenset_doc(b, i))) return 0;
    return 1;
}

static char *slurp(const char *path, size_t *n) {
    char *d = NULL;
    Err e = {0};
    if (file_read_all(path, &d, n, &e)) fprintf(stderr, "%s\n", e.msg), exit(1);
    return d;
}

// Writes a modified copy of the shard at src and returns the error opening it gives.
static const char *open_error(const char *bytes, size_t n, const char *name) {
    static Err e;
    const char *p = tmp_path(name);
    write_bytes(p, bytes, n);
    memset(&e, 0, sizeof e);
    TokenSet *s = NULL;
    if (tokenset_open(&s, p, NULL, &e) == 0) {
        tokenset_free(s);
        return "(opened without error)";
    }
    return e.msg;
}

static int has(const char *msg, const char *a, const char *b) {
    return strstr(msg, a) && (!b || strstr(msg, b));
}

static void put32(char *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(char *p, uint64_t v) { memcpy(p, &v, 8); }

static int count_tmp_files(void) {
    DIR *d = opendir(tmpdir);
    int n = 0;
    for (struct dirent *x; d && (x = readdir(d));) n += strstr(x->d_name, ".tmp.") != NULL;
    if (d) closedir(d);
    return n;
}

int main(void) {
    if (fixture_init("test_tokens")) return 1;
    Err e = {0};

    // An in-memory set: three documents, one empty, odd token count (mask padding).
    TokenSet *s = tokenset_new();
    int32_t a[] = {5, 6, 7, 8, 9}, b[] = {100, 3};
    uint8_t ma[] = {0, 1, 1, 0, 1}, mb[] = {0, 1};
    int rc = tokenset_add(s, a, ma, 5, &e) || tokenset_add(s, b, mb, 2, &e) ||
             tokenset_add(s, b, mb, 0, &e);
    CHECK(rc == 0 && tokenset_count(s) == 3 && tokenset_tokens(s) == 7, "in memory: 3 documents, 7 tokens");
    CHECK(tokenset_vocab(s) == 101, "in memory: vocab is max id + 1 (%d)", tokenset_vocab(s));
    TokenDoc d1 = tokenset_doc(s, 1);
    CHECK(d1.len == 2 && d1.ids[0] == 100 && d1.mask[1] == 1, "tokenset_doc returns a copy of document 1");
    int32_t neg = -1;
    CHECK(tokenset_add(s, &neg, ma, 1, &e) == -1 && strstr(e.msg, "negative id"), "a negative id is refused: %s", e.msg);

    // Round trip through one shard file.
    char p[512];
    snprintf(p, sizeof p, "%s", tmp_path("one.bin"));
    rc = shard_write(p, s, 0, 3, 128, &e);
    CHECK(rc == 0, "shard_write: %s", rc ? e.msg : "ok");
    size_t n;
    char *bytes = slurp(p, &n);
    // header 64 + ids 28 + mask 7 -> padded to file offset 104 + offsets 32 = 136
    CHECK(n == 136, "file size: header + ids + mask padded to 8 + offsets = 136 (got %zu)", n);
    CHECK(!memcmp(bytes, "PTSHARD1", 8) && bytes[8] == 1 && bytes[12] == 64 && bytes[32] == (char)128,
          "header: magic, version 1, 64 header bytes, vocab_size 128");
    TokenSet *r = NULL;
    rc = tokenset_open(&r, p, NULL, &e);
    CHECK(rc == 0 && same_sets(s, r), "a shard reads back the same documents, ids and masks");
    CHECK(rc == 0 && tokenset_vocab(r) == 128, "a shard's vocab is its header's vocab_size");
    CHECK(rc == 0 && tokenset_add(r, a, ma, 1, &e) == -1, "a mapped set is read-only");
    tokenset_free(r);

    // A sub-range and an empty shard.
    rc = shard_write(tmp_path("sub.bin"), s, 1, 1, 0, &e) || tokenset_open(&r, tmp_path("sub.bin"), NULL, &e);
    CHECK(rc == 0 && tokenset_count(r) == 1 && same_doc(tokenset_doc(r, 0), d1) && tokenset_vocab(r) == 101,
          "shard_write of [1, 2) with vocab_size 0 (max id + 1)");
    tokenset_free(r);
    rc = shard_write(tmp_path("empty.bin"), s, 0, 0, 50, &e) || tokenset_open(&r, tmp_path("empty.bin"), NULL, &e);
    CHECK(rc == 0 && tokenset_count(r) == 0 && tokenset_tokens(r) == 0, "an empty shard is valid");
    tokenset_free(r);
    CHECK(shard_write(tmp_path("x.bin"), s, 2, 5, 128, &e) == -1 && strstr(e.msg, "outside"),
          "a range past the end is an error: %s", e.msg);

    // Atomic writes: a failing write (an id over vocab_size) leaves the old file untouched
    // and no temp file behind.
    rc = shard_write(p, s, 0, 3, 50, &e);
    size_t n2;
    char *again = slurp(p, &n2);
    CHECK(rc == -1 && strstr(e.msg, "id 100 outside the vocabulary (50)"), "ids over vocab_size refused: %s", e.msg);
    CHECK(n2 == n && !memcmp(bytes, again, n), "the previous shard is intact after a failed write");
    CHECK(count_tmp_files() == 0, "no temp file left behind");
    free(again);
    CHECK(shard_write("/nonexistent-dir/x.bin", s, 0, 3, 128, &e) == -1 && strstr(e.msg, "cannot create"),
          "an unwritable path names the file: %s", e.msg);

    // Corruptions, each named.
    char *c = malloc(n);
    const char *m;
    memcpy(c, bytes, n), c[0] = 'X';
    m = open_error(c, n, "magic.bin");
    CHECK(has(m, "magic.bin", "bad magic"), "bad magic: %s", m);
    memcpy(c, bytes, n), put32(c + 8, 2);
    m = open_error(c, n, "version.bin");
    CHECK(has(m, "version.bin", "version 2"), "unknown version: %s", m);
    m = open_error(bytes, n - 8, "cut.bin");
    CHECK(has(m, "cut.bin", "truncated"), "truncated by 8 bytes: %s", m);
    m = open_error(bytes, 30, "short.bin");
    CHECK(has(m, "short.bin", "shorter than the 64-byte"), "shorter than the header: %s", m);
    m = open_error(bytes, 0, "zero.bin");
    CHECK(has(m, "zero.bin", "empty"), "an empty file: %s", m);
    memcpy(c, bytes, n), put64(c + 16, 1ull << 62);
    m = open_error(c, n, "huge.bin");
    CHECK(has(m, "huge.bin", "truncated or corrupt"), "absurd n_tokens: %s", m);
    memcpy(c, bytes, n), put64(c + 104 + 8, 6);  // offsets (at byte 104) were 0 5 7 7
    put64(c + 104 + 16, 3);
    m = open_error(c, n, "order.bin");
    CHECK(has(m, "order.bin", "offsets[2] = 3: decreasing"), "decreasing offsets: %s", m);
    memcpy(c, bytes, n), put64(c + 104 + 8, 99);
    m = open_error(c, n, "past.bin");
    CHECK(has(m, "past.bin", "past the last token"), "an offset past n_tokens: %s", m);
    memcpy(c, bytes, n), put64(c + 104 + 16, 6), put64(c + 104 + 24, 6);
    m = open_error(c, n, "last.bin");
    CHECK(has(m, "last.bin", "expected n_tokens = 7"), "a last offset short of n_tokens: %s", m);
    memcpy(c, bytes, n), put32(c + 64 + 4 * 2, 128);
    m = open_error(c, n, "id.bin");
    CHECK(has(m, "id.bin", "token 2: id 128 outside the vocabulary (128)"), "an id >= vocab_size: %s", m);
    memcpy(c, bytes, n), put32(c + 64, (uint32_t)-5);
    m = open_error(c, n, "negid.bin");
    CHECK(has(m, "negid.bin", "id -5"), "a negative id: %s", m);
    memcpy(c, bytes, n), c[64 + 28 + 1] = 3;
    m = open_error(c, n, "mask.bin");
    CHECK(has(m, "mask.bin", "mask 3"), "a mask value other than 0/1: %s", m);
    memcpy(c, bytes, n), c[40] = 1;
    m = open_error(c, n, "reserved.bin");
    CHECK(has(m, "reserved.bin", "reserved"), "nonzero reserved header bytes: %s", m);
    free(c);
    CHECK(tokenset_open(&r, tmp_path("missing.bin"), NULL, &e) == -1 && has(e.msg, "missing.bin", "cannot open"),
          "a missing file: %s", e.msg);

    // A directory with index.json: two train shards, an empty val split.
    rc = shard_write(tmp_path("train-00000.bin"), s, 0, 2, 128, &e) ||
         shard_write(tmp_path("train-00001.bin"), s, 2, 1, 128, &e);
    const char *index =
        "{\"vocab_size\": 128, \"splits\": {\"train\": {\"shards\": ["
        "{\"file\": \"train-00000.bin\", \"docs\": 2, \"tokens\": 7},"
        "{\"file\": \"train-00001.bin\", \"docs\": 1, \"tokens\": 0}]},"
        "\"val\": {\"shards\": []}}}";
    write_bytes(tmp_path("index.json"), index, strlen(index));
    rc = rc || tokenset_open(&r, tmpdir, "train", &e);
    CHECK(rc == 0 && same_sets(s, r), "index.json: two shards read as one set, in order");
    tokenset_free(r);
    rc = tokenset_open(&r, tmpdir, "val", &e);
    CHECK(rc == 0 && tokenset_count(r) == 0 && tokenset_vocab(r) == 128, "an empty val split knows its vocab");
    tokenset_free(r);
    CHECK(tokenset_open(&r, tmpdir, "test", &e) == -1 && has(e.msg, "index.json", "splits.test: no such split"),
          "an unknown split: %s", e.msg);
    const char *wrong =
        "{\"splits\": {\"train\": {\"shards\": [{\"file\": \"train-00000.bin\", \"docs\": 3, \"tokens\": 7}]}}}";
    write_bytes(tmp_path("index.json"), wrong, strlen(wrong));
    CHECK(tokenset_open(&r, tmpdir, "train", &e) == -1 && has(e.msg, "train-00000.bin", "index.json says 3"),
          "counts that disagree with the shard: %s", e.msg);
    const char *escape = "{\"splits\": {\"train\": {\"shards\": [{\"file\": \"../x.bin\", \"docs\": 0, \"tokens\": 0}]}}}";
    write_bytes(tmp_path("index.json"), escape, strlen(escape));
    CHECK(tokenset_open(&r, tmpdir, "train", &e) == -1 && has(e.msg, "shards[0].file", NULL),
          "a shard name with a path is refused: %s", e.msg);
    write_bytes(tmp_path("index.json"), "{", 1);
    CHECK(tokenset_open(&r, tmpdir, "train", &e) == -1 && has(e.msg, "index.json", "not valid JSON"),
          "a broken index.json: %s", e.msg);

    free(bytes);
    tokenset_free(s);
    fixture_cleanup();
    return check_summary();
}
