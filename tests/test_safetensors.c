// test_safetensors.c: the safetensors reader and writer — round trips in F32 and BF16,
// exact F16/BF16 decoding on known bit patterns, torch's bf16 rounding, sharded model
// directories, and every malformed-file case with the message naming file and tensor.
// Fixtures are written into a fresh temporary directory by the test itself.
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/safetensors.h"
#include "check.h"
#include "fixture.h"

// A file with header text hdr (length given explicitly by hlen, which may lie) and data.
static const char *write_st(const char *name, const char *hdr, uint64_t hlen, const void *data,
                            size_t n) {
    size_t hl = strlen(hdr);
    uint8_t *b = malloc(8 + hl + n + 1);
    for (int k = 0; k < 8; k++) b[k] = (uint8_t)(hlen >> 8 * k);
    memcpy(b + 8, hdr, hl);
    if (n) memcpy(b + 8 + hl, data, n);
    const char *p = tmp_path(name);
    write_bytes(p, b, 8 + hl + n);
    free(b);
    return p;
}

static const char *write_hdr(const char *name, const char *hdr, size_t data_len) {
    uint8_t *zeros = calloc(1, data_len + 1);
    const char *p = write_st(name, hdr, strlen(hdr), zeros, data_len);
    free(zeros);
    return p;
}

static int has(const char *s, const char *a, const char *b) {
    return strstr(s, a) && (!b || strstr(s, b));
}

// Opening path must fail with a message containing want1 and want2.
static void expect_open_error(const char *path, const char *want1, const char *want2, const char *what) {
    StFile f;
    Err e = {0};
    int rc = st_open(&f, path, &e);
    CHECK(rc != 0 && has(e.msg, want1, want2), "%s: %s", what, e.msg);
    CHECK(f.map == NULL && f.tensors == NULL, "%s: a failed open leaves the StFile zeroed", what);
}

static void test_scalars(void) {
    static const struct { uint16_t h; float want; } f16[] = {
        {0x0000, 0.0f}, {0x3c00, 1.0f}, {0xc000, -2.0f}, {0x3555, 0.333251953125f},
        {0x7bff, 65504.0f}, {0x0400, 6.103515625e-05f}, {0x0001, 5.9604644775390625e-08f},
        {0x03ff, 6.097555160522461e-05f}, {0x8001, -5.9604644775390625e-08f}, {0x0200, 3.0517578125e-05f},
    };
    int ok = 1;
    for (size_t i = 0; i < sizeof f16 / sizeof *f16; i++) ok &= st_f16_to_f32(f16[i].h) == f16[i].want;
    CHECK(ok, "F16 decodes normals, max, min normal and subnormals exactly");
    float nz = st_f16_to_f32(0x8000);
    CHECK(nz == 0 && signbit(nz), "F16 0x8000 is -0");
    CHECK(isinf(st_f16_to_f32(0x7c00)) && st_f16_to_f32(0x7c00) > 0 && isinf(st_f16_to_f32(0xfc00)) &&
              st_f16_to_f32(0xfc00) < 0, "F16 ±inf");
    float qn = st_f16_to_f32(0x7e01);
    uint32_t qb;
    memcpy(&qb, &qn, 4);
    CHECK(isnan(qn) && qb == 0x7fc02000u, "F16 NaN keeps its payload (0x7e01 -> 0x7fc02000)");
    // Every half is a float: the decode must be monotonic over all positive finite halves.
    int mono = 1;
    for (uint32_t h = 1; h < 0x7c00; h++) mono &= st_f16_to_f32((uint16_t)h) > st_f16_to_f32((uint16_t)(h - 1));
    CHECK(mono, "F16 decode is strictly increasing over 0x0000..0x7bff");

    CHECK(st_bf16_to_f32(0x3f80) == 1.0f && st_bf16_to_f32(0xc040) == -3.0f &&
              st_bf16_to_f32(0x0001) == 9.183549615799121e-41f, "BF16 decodes 1, -3 and a subnormal");

    // Rounding, as torch.tensor([...]).to(torch.bfloat16).view(torch.int16).
    static const struct { uint32_t in; uint16_t want; } rt[] = {
        {0x3f800000, 0x3f80},  // 1.0 exact
        {0x3f808000, 0x3f80},  // tie, lower is even: down
        {0x3f818000, 0x3f82},  // tie, lower is odd: up
        {0x3f808001, 0x3f81},  // just past the tie: up
        {0x3f807fff, 0x3f80},  // just below the tie: down
        {0x7f7fffff, 0x7f80},  // FLT_MAX rounds to inf
        {0x7f800000, 0x7f80},  // inf
        {0xff800000, 0xff80},  // -inf
        {0x80000000, 0x8000},  // -0
        {0x00000001, 0x0000},  // tiniest subnormal rounds to 0
        {0xbfc08000, 0xbfc0},  // negative tie, even: down in magnitude
        {0x7fc00001, 0x7fc0},  // NaN -> canonical
        {0xffc00000, 0x7fc0},  // negative NaN -> canonical positive, as torch
    };
    ok = 1;
    for (size_t i = 0; i < sizeof rt / sizeof *rt; i++) {
        float f;
        memcpy(&f, &rt[i].in, 4);
        uint16_t got = st_f32_to_bf16(f);
        if (got != rt[i].want) printf("  bf16(0x%08x) = 0x%04x, want 0x%04x\n", rt[i].in, got, rt[i].want), ok = 0;
    }
    CHECK(ok, "F32 -> BF16 rounds to nearest even, overflows to inf, NaN -> 0x7fc0");
}

static void test_round_trip(StDtype dt) {
    static const int64_t s_w[] = {3, 4}, s_b[] = {4}, s_0[] = {0, 5};
    float w[12], b[4] = {0.5f, -1.25f, 1e30f, 3.0e-39f};
    for (int i = 0; i < 12; i++) w[i] = (float)i * 0.37f - 2.0f;
    StSaveTensor ts[] = {{"model.w", 2, s_w, w}, {"a\"quoted\\name", 1, s_b, b},
                         {"empty", 2, s_0, NULL}, {"scalar", 0, NULL, b}};
    const char *p = tmp_path(dt == ST_F32 ? "rt_f32.safetensors" : "rt_bf16.safetensors");
    Err e = {0};
    int rc = st_save(p, ts, 4, dt, 1, &e);
    CHECK(rc == 0, "%s: save 4 tensors %s", st_dtype_name(dt), e.msg);
    StFile f;
    rc = st_open(&f, p, &e);
    CHECK(rc == 0 && f.n_tensors == 4, "%s: reopen: %s", st_dtype_name(dt), rc ? e.msg : "4 tensors");
    if (rc) return;
    uint64_t hl = 0;
    for (int k = 7; k >= 0; k--) hl = hl << 8 | f.map[k];
    CHECK(hl % 8 == 0, "%s: header length %llu is a multiple of 8",
          st_dtype_name(dt), (unsigned long long)hl);
    const char *fmt = st_metadata_get(&f, "format");
    CHECK(fmt && strcmp(fmt, "pt") == 0, "%s: __metadata__ format = pt", st_dtype_name(dt));
    const StTensor *t = st_find(&f, "model.w");
    CHECK(t && t->dtype == dt && t->ndim == 2 && t->shape[0] == 3 && t->shape[1] == 4 && t->numel == 12,
          "%s: model.w is (3,4) %s", st_dtype_name(dt), st_dtype_name(dt));
    float back[12];
    int same = t && st_to_f32(t, back, &e) == 0;
    for (int i = 0; same && i < 12; i++)
        same &= back[i] == (dt == ST_F32 ? w[i] : st_bf16_to_f32(st_f32_to_bf16(w[i])));
    CHECK(same, "%s: model.w values come back %s", st_dtype_name(dt), dt == ST_F32 ? "bit for bit" : "bf16-rounded");
    t = st_find(&f, "a\"quoted\\name");
    same = t && st_to_f32(t, back, &e) == 0;
    for (int i = 0; same && i < 4; i++)
        same &= back[i] == (dt == ST_F32 ? b[i] : st_bf16_to_f32(st_f32_to_bf16(b[i])));
    CHECK(same, "%s: a name with quotes and backslashes round-trips", st_dtype_name(dt));
    t = st_find(&f, "empty");
    CHECK(t && t->numel == 0 && t->begin == t->end, "%s: a (0,5) tensor has no bytes", st_dtype_name(dt));
    t = st_find(&f, "scalar");
    CHECK(t && t->ndim == 0 && t->numel == 1, "%s: a scalar has shape [] and one value", st_dtype_name(dt));
    CHECK(!st_find(&f, "missing"), "%s: st_find of an absent name is NULL", st_dtype_name(dt));
    st_close(&f);
    st_close(&f);  // a closed StFile is zeroed: closing again is harmless
}

static void test_reader_errors(void) {
    uint8_t four[4] = {0};
    write_bytes(tmp_path("tiny.safetensors"), four, 4);
    expect_open_error(tmp_path("tiny.safetensors"), "tiny.safetensors", "truncated", "4-byte file");

    const char *ok_hdr = "{\"model.layers.3.mlp.up_proj.weight\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}";
    expect_open_error(write_st("hlen.safetensors", ok_hdr, 1000, NULL, 0), "hlen.safetensors",
                      "header length 1000 exceeds the file", "header length past EOF");
    // The same header with only 8 of its 16 data bytes: the tensor is named.
    expect_open_error(write_hdr("trunc.safetensors", ok_hdr, 8), "trunc.safetensors: tensor "
                      "model.layers.3.mlp.up_proj.weight: data_offsets [0, 16] exceed the file", "truncated?",
                      "truncated data");
    expect_open_error(write_hdr("badjson.safetensors", "{\"a\":{\"dtype\":\"F32\",", 0),
                      "badjson.safetensors", "not a valid JSON", "bad JSON");
    expect_open_error(write_hdr("notobj.safetensors", "[1,2]", 0), "notobj.safetensors", "'{'",
                      "header not an object");
    expect_open_error(write_hdr("dtype.safetensors", "{\"w\":{\"dtype\":\"F12\",\"shape\":[1],"
                      "\"data_offsets\":[0,4]}}", 4), "dtype.safetensors: tensor w", "unknown dtype \"F12\"",
                      "unknown dtype");
    expect_open_error(write_hdr("shape.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],"
                      "\"data_offsets\":[0,8]}}", 8), "shape.safetensors: tensor w", "not data_offsets' 8 bytes",
                      "shape x dtype != end - begin");
    expect_open_error(write_hdr("neg.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],"
                      "\"data_offsets\":[0,4]}}", 4), "neg.safetensors: tensor w", "shape", "negative size");
    expect_open_error(write_hdr("off.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],"
                      "\"data_offsets\":[8,4]}}", 8), "off.safetensors: tensor w", "data_offsets",
                      "begin > end");
    expect_open_error(write_hdr("overlap.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],"
                      "\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12),
                      "overlap.safetensors: tensor b", "overlap tensor a", "overlapping regions");
    expect_open_error(write_hdr("gap.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
                      "\"data_offsets\":[4,8]}}", 8), "gap.safetensors: tensor a", "gap", "gap before a tensor");
    expect_open_error(write_hdr("tail.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
                      "\"data_offsets\":[0,4]}}", 12), "tail.safetensors", "8 bytes after the last tensor",
                      "trailing bytes");
    expect_open_error(write_hdr("dup.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],"
                      "\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8),
                      "dup.safetensors: tensor a", "listed twice", "duplicate names");
    expect_open_error(write_hdr("meta.safetensors", "{\"__metadata__\":{\"format\":1}}", 0),
                      "meta.safetensors: __metadata__.format", "string", "non-string metadata");
    expect_open_error(tmp_path("absent.safetensors"), "absent.safetensors", "cannot open", "missing file");

    // A known but unconvertible dtype opens; converting it names the dtype.
    StFile f;
    Err e = {0};
    int rc = st_open(&f, write_hdr("i64.safetensors", "{\"ids\":{\"dtype\":\"I64\",\"shape\":[2],"
                                   "\"data_offsets\":[0,16]}}", 16), &e);
    float out[2];
    CHECK(rc == 0 && st_to_f32(st_find(&f, "ids"), out, &e) != 0 && has(e.msg, "tensor ids", "I64"),
          "I64 opens, but converting it is an error naming the dtype: %s", e.msg);
    st_close(&f);

    // F16 through the file path, with an unaligned data buffer (header of odd length).
    const uint8_t f16[] = {0x00, 0x3c, 0x01, 0x00, 0x00, 0xfc};
    const char *h16 = "{\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[0,6]}}";
    rc = st_open(&f, write_st("f16.safetensors", h16, strlen(h16), f16, 6), &e);
    const StTensor *t = rc ? NULL : st_find(&f, "h");
    CHECK(t != NULL, "F16 file with an unaligned data buffer opens %s", rc ? e.msg : "");
    float h3[3];
    CHECK(t && st_to_f32(t, h3, &e) == 0 && h3[0] == 1.0f && h3[1] == 5.9604644775390625e-08f &&
              isinf(h3[2]) && h3[2] < 0, "F16 tensor [1, 2^-24, -inf] from disk");
    st_close(&f);
}

static void test_dir(void) {
    static const int64_t s2[] = {2};
    const float a[2] = {1, 2}, b[2] = {3, 4}, c[2] = {5, 6};
    Err e = {0};
    char d[512];
    snprintf(d, sizeof d, "%s/sharded", tmpdir);
    mkdir(d, 0755);
    StSaveTensor s1[] = {{"model.embed_tokens.weight", 1, s2, a}, {"model.norm.weight", 1, s2, b}};
    StSaveTensor sb[] = {{"lm_head.weight", 1, s2, c}};
    st_save(tmp_path("sharded/model-00001-of-00002.safetensors"), s1, 2, ST_F32, 1, &e);
    st_save(tmp_path("sharded/model-00002-of-00002.safetensors"), sb, 1, ST_BF16, 1, &e);
    const char *idx = "{\"metadata\":{\"total_size\":20},\"weight_map\":{"
                      "\"lm_head.weight\":\"model-00002-of-00002.safetensors\","
                      "\"model.embed_tokens.weight\":\"model-00001-of-00002.safetensors\","
                      "\"model.norm.weight\":\"model-00001-of-00002.safetensors\"}}";
    write_bytes(tmp_path("sharded/model.safetensors.index.json"), idx, strlen(idx));
    StDir dir;
    int rc = st_dir_open(&dir, d, &e);
    CHECK(rc == 0 && dir.n_files == 2 && dir.n_index == 3, "sharded directory: 2 shards, 3 tensors %s", e.msg);
    const StTensor *t = rc ? NULL : st_dir_find(&dir, "lm_head.weight");
    float v[2];
    CHECK(t && t->dtype == ST_BF16 && st_to_f32(t, v, &e) == 0 && v[0] == 5 && v[1] == 6 &&
              strstr(t->file, "00002"), "lm_head.weight found in shard 2 (BF16)");
    t = rc ? NULL : st_dir_find(&dir, "model.norm.weight");
    CHECK(t && st_to_f32(t, v, &e) == 0 && v[0] == 3 && strstr(t->file, "00001"), "model.norm.weight in shard 1");
    CHECK(rc == 0 && !st_dir_find(&dir, "nope"), "an absent name is NULL across shards");
    st_dir_close(&dir);
    st_dir_close(&dir);

    // The index names a shard that is not there.
    const char *idx2 = "{\"weight_map\":{\"lm_head.weight\":\"model-00003-of-00003.safetensors\"}}";
    write_bytes(tmp_path("sharded/model.safetensors.index.json"), idx2, strlen(idx2));
    rc = st_dir_open(&dir, d, &e);
    CHECK(rc != 0 && has(e.msg, "tensor lm_head.weight", "model-00003-of-00003.safetensors: cannot open"),
          "missing shard: %s", e.msg);
    // The index puts a tensor in the wrong shard.
    const char *idx3 = "{\"weight_map\":{\"lm_head.weight\":\"model-00001-of-00002.safetensors\"}}";
    write_bytes(tmp_path("sharded/model.safetensors.index.json"), idx3, strlen(idx3));
    rc = st_dir_open(&dir, d, &e);
    CHECK(rc != 0 && has(e.msg, "tensor lm_head.weight", "not in its shard"), "tensor not in its shard: %s", e.msg);
    const char *idx4 = "{\"weight_map\":{\"x\":\"../escape.safetensors\"}}";
    write_bytes(tmp_path("sharded/model.safetensors.index.json"), idx4, strlen(idx4));
    rc = st_dir_open(&dir, d, &e);
    CHECK(rc != 0 && has(e.msg, "tensor x", "expected a file name"), "shard outside the directory: %s", e.msg);
    unlink(tmp_path("sharded/model.safetensors.index.json"));
    unlink(tmp_path("sharded/model-00001-of-00002.safetensors"));
    unlink(tmp_path("sharded/model-00002-of-00002.safetensors"));

    // A single-file directory; then an empty one.
    st_save(tmp_path("sharded/model.safetensors"), s1, 2, ST_F32, 0, &e);
    rc = st_dir_open(&dir, d, &e);
    CHECK(rc == 0 && dir.n_files == 1 && st_dir_find(&dir, "model.embed_tokens.weight"),
          "directory with one model.safetensors");
    st_dir_close(&dir);
    unlink(tmp_path("sharded/model.safetensors"));
    rc = st_dir_open(&dir, d, &e);
    CHECK(rc != 0 && has(e.msg, "sharded", "no model.safetensors"), "empty directory: %s", e.msg);
    rmdir(d);
}

static void test_save_errors(void) {
    static const int64_t s1[] = {1};
    const float x = 1;
    StSaveTensor dup[] = {{"w", 1, s1, &x}, {"w", 1, s1, &x}};
    Err e = {0};
    CHECK(st_save(tmp_path("x.safetensors"), dup, 2, ST_F32, 0, &e) != 0 && has(e.msg, "tensor w", "twice"),
          "saving a name twice is refused: %s", e.msg);
    CHECK(st_save(tmp_path("x.safetensors"), dup, 1, ST_F16, 0, &e) != 0 && has(e.msg, "F16", NULL),
          "saving as F16 is refused: %s", e.msg);
    static const int64_t neg[] = {2, -3};
    StSaveTensor bad = {"w.neg", 2, neg, &x};
    CHECK(st_save(tmp_path("x.safetensors"), &bad, 1, ST_F32, 0, &e) != 0 && has(e.msg, "tensor w.neg", "bad shape"),
          "a negative size is refused: %s", e.msg);
    CHECK(access(tmp_path("x.safetensors"), F_OK) != 0, "refused saves leave no file behind");
    CHECK(st_save("/nonexistent-dir/x.safetensors", dup, 1, ST_F32, 0, &e) != 0 &&
              has(e.msg, "/nonexistent-dir/x.safetensors", NULL), "unwritable path: %s", e.msg);
}

int main(void) {
    if (fixture_init("test_safetensors")) return 1;
    test_scalars();
    test_round_trip(ST_F32);
    test_round_trip(ST_BF16);
    test_reader_errors();
    test_dir();
    test_save_errors();
    fixture_cleanup();
    return check_summary();
}
