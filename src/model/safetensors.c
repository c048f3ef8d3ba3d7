// safetensors.c: the .safetensors reader (mmap + validated header), float conversions,
// the writer, and model directories with sharded checkpoints (see safetensors.h).
//
// Format: https://huggingface.co/docs/safetensors (and the reference crate's
// safetensors/src/tensor.rs). Validation follows the reference reader: the header must
// be a JSON object starting with '{', every dtype known, shape x dtype size equal to the
// byte length, and the regions must tile the data buffer with no gap or overlap.
#include "model/safetensors.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/file.h"

// The reference implementation refuses headers over 100 MB; so do we.
#define ST_MAX_HEADER ((uint64_t)100 * 1000 * 1000)

static const struct {
    const char *name;
    size_t size;
} dtypes[ST_DTYPE_COUNT] = {
    [ST_F32] = {"F32", 4},   [ST_F16] = {"F16", 2},   [ST_BF16] = {"BF16", 2},
    [ST_F64] = {"F64", 8},   [ST_I64] = {"I64", 8},   [ST_I32] = {"I32", 4},
    [ST_I16] = {"I16", 2},   [ST_I8] = {"I8", 1},     [ST_U64] = {"U64", 8},
    [ST_U32] = {"U32", 4},   [ST_U16] = {"U16", 2},   [ST_U8] = {"U8", 1},
    [ST_BOOL] = {"BOOL", 1}, [ST_F8_E4M3] = {"F8_E4M3", 1}, [ST_F8_E5M2] = {"F8_E5M2", 1},
};

const char *st_dtype_name(StDtype d) { return d < ST_DTYPE_COUNT ? dtypes[d].name : "?"; }
size_t st_dtype_size(StDtype d) { return d < ST_DTYPE_COUNT ? dtypes[d].size : 0; }

static int dtype_parse(const char *s, StDtype *out) {
    for (int i = 0; i < ST_DTYPE_COUNT; i++)
        if (strcmp(s, dtypes[i].name) == 0) return *out = (StDtype)i, 0;
    return -1;
}

// ---------------------------------------------------------------------------------------
// Scalar conversions, by bit manipulation so they are exact and need no FPU support.

static float bits_to_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

float st_bf16_to_f32(uint16_t h) { return bits_to_f32((uint32_t)h << 16); }

// IEEE half: 1 sign, 5 exponent (bias 15), 10 mantissa bits. Every half is exactly a float.
float st_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
    if (exp == 0x1f) return bits_to_f32(sign | 0x7f800000u | mant << 13);  // inf, nan (payload kept)
    if (exp != 0) return bits_to_f32(sign | (exp + 127 - 15) << 23 | mant << 13);
    if (mant == 0) return bits_to_f32(sign);  // ±0
    // Subnormal: mant * 2^-24. Shift the leading 1 up to the implicit bit's place.
    uint32_t e = 127 - 15 + 1;
    while (!(mant & 0x400)) mant <<= 1, e--;
    return bits_to_f32(sign | e << 23 | (mant & 0x3ff) << 13);
}

// Adds 0x7FFF plus the lowest kept bit, then truncates: ties go to the even result, and
// values past the largest bf16 become inf, as torch's round_to_nearest_even does.
uint16_t st_f32_to_bf16(float f) {
    if (isnan(f)) return 0x7fc0;
    uint32_t u;
    memcpy(&u, &f, 4);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
}

static uint16_t load_u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

int st_to_f32(const StTensor *t, float *out, Err *e) {
    const uint8_t *p = t->data;
    switch (t->dtype) {
    case ST_F32:
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        if (t->numel) memcpy(out, p, t->numel * 4);  // the file's byte order is the host's
        return 0;
#endif
        for (size_t i = 0; i < t->numel; i++) {
            uint32_t u = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 |
                         (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
            out[i] = bits_to_f32(u);
        }
        return 0;
    case ST_F16:
        for (size_t i = 0; i < t->numel; i++) out[i] = st_f16_to_f32(load_u16(p + 2 * i));
        return 0;
    case ST_BF16:
        for (size_t i = 0; i < t->numel; i++) out[i] = st_bf16_to_f32(load_u16(p + 2 * i));
        return 0;
    default:
        return ERR(e, ERR_UNSUPPORTED, "%s: tensor %s: dtype %s cannot be converted to F32 "
                   "(F32, F16 and BF16 can)", t->file, t->name, st_dtype_name(t->dtype));
    }
}

// ---------------------------------------------------------------------------------------
// Reading

void st_close(StFile *f) {
    if (f->map) munmap(f->map, f->map_len);
    for (size_t i = 0; i < f->n_meta; i++) free(f->meta_keys[i]), free(f->meta_vals[i]);
    free(f->meta_keys);
    free(f->meta_vals);
    free(f->tensors);
    free(f->names);
    free(f->path);
    memset(f, 0, sizeof *f);
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const StTensor *)a)->name, ((const StTensor *)b)->name);
}

static int by_begin(const void *a, const void *b) {
    const StTensor *x = *(const StTensor *const *)a, *y = *(const StTensor *const *)b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : x->end < y->end ? -1 : x->end > y->end;
}

// A JSON number that is a non-negative integer below 2^53 (exact in a double).
static int json_size(const cJSON *j, uint64_t *out) {
    if (!cJSON_IsNumber(j)) return -1;
    double v = j->valuedouble;
    if (!(v >= 0 && v < 9007199254740992.0) || v != floor(v)) return -1;
    *out = (uint64_t)v;
    return 0;
}

// Fills t from one header entry; data_len is the buffer's size.
static int parse_entry(const StFile *f, const cJSON *j, StTensor *t, size_t data_len, Err *e) {
    const char *nm = j->string;
    if (!cJSON_IsObject(j))
        return ERR(e, ERR_FORMAT, "%s: tensor %s: expected an object", f->path, nm);
    const cJSON *dt = cJSON_GetObjectItemCaseSensitive(j, "dtype");
    const cJSON *sh = cJSON_GetObjectItemCaseSensitive(j, "shape");
    const cJSON *off = cJSON_GetObjectItemCaseSensitive(j, "data_offsets");
    if (!cJSON_IsString(dt))
        return ERR(e, ERR_FORMAT, "%s: tensor %s: dtype: expected a string", f->path, nm);
    if (dtype_parse(dt->valuestring, &t->dtype) != 0)
        return ERR(e, ERR_FORMAT, "%s: tensor %s: unknown dtype \"%s\"", f->path, nm, dt->valuestring);
    if (!cJSON_IsArray(sh) || cJSON_GetArraySize(sh) > ST_MAX_DIMS)
        return ERR(e, ERR_FORMAT, "%s: tensor %s: shape: expected an array of at most %d sizes",
                   f->path, nm, ST_MAX_DIMS);
    size_t numel = 1;
    int overflow = 0;
    t->ndim = 0;
    for (const cJSON *d = sh->child; d; d = d->next) {
        uint64_t v;
        if (json_size(d, &v) != 0)
            return ERR(e, ERR_FORMAT, "%s: tensor %s: shape: expected non-negative integers", f->path, nm);
        t->shape[t->ndim++] = (int64_t)v;
        if (v && numel > SIZE_MAX / v) overflow = 1;
        numel *= v;
    }
    uint64_t b, en;
    if (!cJSON_IsArray(off) || cJSON_GetArraySize(off) != 2 || json_size(off->child, &b) != 0 ||
        json_size(off->child->next, &en) != 0 || b > en)
        return ERR(e, ERR_FORMAT, "%s: tensor %s: data_offsets: expected [begin, end] with "
                   "0 <= begin <= end", f->path, nm);
    if (en > data_len)
        return ERR(e, ERR_FORMAT, "%s: tensor %s: data_offsets [%llu, %llu] exceed the file "
                   "(data buffer is %zu bytes; truncated?)", f->path, nm, (unsigned long long)b,
                   (unsigned long long)en, data_len);
    size_t esz = dtypes[t->dtype].size;
    if (overflow || (numel && numel > SIZE_MAX / esz) || numel * esz != en - b)
        return ERR(e, ERR_FORMAT, "%s: tensor %s: shape x %s size is not data_offsets' %llu bytes",
                   f->path, nm, dtypes[t->dtype].name, (unsigned long long)(en - b));
    t->numel = numel;
    t->begin = b;
    t->end = en;
    t->file = f->path;
    return 0;
}

static int parse_metadata(StFile *f, const cJSON *m, Err *e) {
    if (!cJSON_IsObject(m))
        return ERR(e, ERR_FORMAT, "%s: __metadata__: expected an object", f->path);
    if (f->meta_keys) return ERR(e, ERR_FORMAT, "%s: __metadata__: listed twice", f->path);
    size_t n = (size_t)cJSON_GetArraySize(m);
    f->meta_keys = calloc(n + 1, sizeof *f->meta_keys);
    f->meta_vals = calloc(n + 1, sizeof *f->meta_vals);
    if (!f->meta_keys || !f->meta_vals) return ERR(e, ERR_NOMEM, "%s: out of memory", f->path);
    for (const cJSON *kv = m->child; kv; kv = kv->next) {
        if (!cJSON_IsString(kv))
            return ERR(e, ERR_FORMAT, "%s: __metadata__.%s: expected a string", f->path, kv->string);
        size_t i = f->n_meta++;  // counted first, so st_close frees a half-made pair
        f->meta_keys[i] = strdup(kv->string);
        f->meta_vals[i] = strdup(kv->valuestring);
        if (!f->meta_keys[i] || !f->meta_vals[i]) return ERR(e, ERR_NOMEM, "%s: out of memory", f->path);
    }
    return 0;
}

// Regions must tile [0, data_len): sorted by begin, each starts where the last ended.
static int check_regions(const StFile *f, size_t data_len, Err *e) {
    const StTensor **order = malloc((f->n_tensors + 1) * sizeof *order);
    if (!order) return ERR(e, ERR_NOMEM, "%s: out of memory", f->path);
    for (size_t i = 0; i < f->n_tensors; i++) order[i] = &f->tensors[i];
    qsort(order, f->n_tensors, sizeof *order, by_begin);
    size_t at = 0;
    int rc = 0;
    for (size_t i = 0; i < f->n_tensors && !rc; i++) {
        const StTensor *t = order[i];
        if (t->begin < at)
            rc = ERR(e, ERR_FORMAT, "%s: tensor %s: data_offsets [%zu, %zu] overlap tensor %s",
                     f->path, t->name, t->begin, t->end, order[i - 1]->name);
        else if (t->begin > at)
            rc = ERR(e, ERR_FORMAT, "%s: tensor %s: data_offsets [%zu, %zu] leave a gap after "
                     "byte %zu of the data buffer", f->path, t->name, t->begin, t->end, at);
        at = t->end;
    }
    if (!rc && at != data_len)
        rc = ERR(e, ERR_FORMAT, "%s: %zu bytes after the last tensor are not described by the "
                 "header", f->path, data_len - at);
    free(order);
    return rc;
}

// Parses and validates the JSON header (hdr, n bytes) against a data buffer of data_len.
static int parse_header(StFile *f, const char *hdr, size_t n, size_t data_len, Err *e) {
    if (n == 0 || hdr[0] != '{')
        return ERR(e, ERR_FORMAT, "%s: header does not start with '{' (not a safetensors file?)", f->path);
    cJSON *root = cJSON_ParseWithLength(hdr, n);
    if (!root || !cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return ERR(e, ERR_FORMAT, "%s: header is not a valid JSON object", f->path);
    }
    size_t count = 0, pool = 0;
    for (const cJSON *j = root->child; j; j = j->next)
        if (strcmp(j->string, "__metadata__") != 0) count++, pool += strlen(j->string) + 1;
    f->tensors = calloc(count + 1, sizeof *f->tensors);
    f->names = malloc(pool + 1);
    int rc = !f->tensors || !f->names ? ERR(e, ERR_NOMEM, "%s: out of memory", f->path) : 0;
    char *np = f->names;
    for (const cJSON *j = root->child; j && !rc; j = j->next) {
        if (strcmp(j->string, "__metadata__") == 0) {
            rc = parse_metadata(f, j, e);
            continue;
        }
        StTensor *t = &f->tensors[f->n_tensors++];
        t->name = strcpy(np, j->string);
        np += strlen(np) + 1;
        rc = parse_entry(f, j, t, data_len, e);
    }
    cJSON_Delete(root);
    if (rc) return rc;
    qsort(f->tensors, f->n_tensors, sizeof *f->tensors, by_name);
    for (size_t i = 1; i < f->n_tensors; i++)
        if (strcmp(f->tensors[i].name, f->tensors[i - 1].name) == 0)
            return ERR(e, ERR_FORMAT, "%s: tensor %s: listed twice in the header", f->path,
                       f->tensors[i].name);
    return check_regions(f, data_len, e);
}

static int map_file(StFile *f, Err *e) {
    int fd = open(f->path, O_RDONLY);
    if (fd < 0) return ERR(e, ERR_IO, "%s: cannot open: %s", f->path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return ERR(e, ERR_IO, "%s: not a regular file", f->path);
    }
    f->map_len = (size_t)st.st_size;
    if (f->map_len < 8) {
        close(fd);
        return ERR(e, ERR_FORMAT, "%s: %zu bytes, shorter than the 8-byte header length "
                   "(truncated?)", f->path, f->map_len);
    }
    void *m = mmap(NULL, f->map_len, PROT_READ, MAP_PRIVATE, fd, 0);
    int saved = errno;
    close(fd);
    if (m == MAP_FAILED) return ERR(e, ERR_IO, "%s: mmap failed: %s", f->path, strerror(saved));
    f->map = m;
    return 0;
}

int st_open(StFile *f, const char *path, Err *e) {
    memset(f, 0, sizeof *f);
    if (!(f->path = strdup(path))) return ERR(e, ERR_NOMEM, "%s: out of memory", path);
    int rc = map_file(f, e);
    if (!rc) {
        uint64_t n = 0;
        for (int i = 7; i >= 0; i--) n = n << 8 | f->map[i];
        if (n > ST_MAX_HEADER)
            rc = ERR(e, ERR_FORMAT, "%s: header length %llu is over the 100 MB limit", path,
                     (unsigned long long)n);
        else if (n > f->map_len - 8)
            rc = ERR(e, ERR_FORMAT, "%s: header length %llu exceeds the file (%zu bytes; "
                     "truncated?)", path, (unsigned long long)n, f->map_len);
        else
            rc = parse_header(f, (const char *)f->map + 8, (size_t)n, f->map_len - 8 - n, e);
        for (size_t i = 0; !rc && i < f->n_tensors; i++)
            f->tensors[i].data = f->map + 8 + n + f->tensors[i].begin;
    }
    if (rc) st_close(f);
    return rc;
}

const StTensor *st_find(const StFile *f, const char *name) {
    StTensor key = {.name = name};
    return f->n_tensors ? bsearch(&key, f->tensors, f->n_tensors, sizeof key, by_name) : NULL;
}

const char *st_metadata_get(const StFile *f, const char *key) {
    for (size_t i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta_keys[i], key) == 0) return f->meta_vals[i];
    return NULL;
}

// ---------------------------------------------------------------------------------------
// Writing

static int json_put_string(Buf *b, const char *s) {
    int rc = buf_putc(b, '"');
    for (; *s && !rc; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') rc = buf_putc(b, '\\') || buf_putc(b, (char)c);
        else if (c < 0x20) rc = buf_appendf(b, "\\u%04x", c);
        else rc = buf_putc(b, (char)c);
    }
    return rc || buf_putc(b, '"');
}

static int cmp_save(const void *a, const void *b) {
    return strcmp((*(const StSaveTensor *const *)a)->name, (*(const StSaveTensor *const *)b)->name);
}

static size_t save_numel(const StSaveTensor *t) {
    size_t n = 1;
    for (int d = 0; d < t->ndim; d++) n *= (size_t)t->shape[d];
    return n;
}

// The header for tensors in order[], padded with spaces to a multiple of 8 bytes.
static int save_header(Buf *h, const StSaveTensor **order, size_t n, StDtype dtype, int pt) {
    int rc = buf_putc(h, '{');
    if (pt) rc = rc || buf_appendf(h, "\"__metadata__\":{\"format\":\"pt\"}%s", n ? "," : "");
    size_t at = 0, esz = dtypes[dtype].size;
    for (size_t i = 0; i < n && !rc; i++) {
        const StSaveTensor *t = order[i];
        size_t bytes = save_numel(t) * esz;
        rc = (i && buf_putc(h, ',')) || json_put_string(h, t->name) ||
             buf_appendf(h, ":{\"dtype\":\"%s\",\"shape\":[", dtypes[dtype].name);
        for (int d = 0; d < t->ndim && !rc; d++)
            rc = buf_appendf(h, "%s%lld", d ? "," : "", (long long)t->shape[d]);
        rc = rc || buf_appendf(h, "],\"data_offsets\":[%zu,%zu]}", at, at + bytes);
        at += bytes;
    }
    rc = rc || buf_putc(h, '}');
    while (!rc && h->len % 8) rc = buf_putc(h, ' ');
    return rc;
}

static void put_values(uint8_t *p, const float *x, size_t n, StDtype dtype) {
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        if (dtype == ST_BF16) {
            uint16_t h = st_f32_to_bf16(x[i]);
            *p++ = (uint8_t)h, *p++ = (uint8_t)(h >> 8);
        } else {
            for (int k = 0; k < 4; k++) *p++ = (uint8_t)(u >> 8 * k);
        }
    }
}

static int save_check(const char *path, const StSaveTensor *ts, size_t n, StDtype dtype, Err *e) {
    if (dtype != ST_F32 && dtype != ST_BF16)
        return ERR(e, ERR_ARG, "%s: can only write F32 or BF16, not %s", path, st_dtype_name(dtype));
    for (size_t i = 0; i < n; i++) {
        if (!ts[i].name || !ts[i].name[0] || strcmp(ts[i].name, "__metadata__") == 0)
            return ERR(e, ERR_ARG, "%s: tensor %zu: empty or reserved name", path, i);
        if (ts[i].ndim < 0 || ts[i].ndim > ST_MAX_DIMS)
            return ERR(e, ERR_ARG, "%s: tensor %s: %d dimensions", path, ts[i].name, ts[i].ndim);
        size_t numel = 1;
        for (int d = 0; d < ts[i].ndim; d++) {
            uint64_t v = (uint64_t)ts[i].shape[d];
            if (ts[i].shape[d] < 0 || (v && numel > (SIZE_MAX / 4) / v))
                return ERR(e, ERR_ARG, "%s: tensor %s: bad shape", path, ts[i].name);
            numel *= v;
        }
        if (numel && !ts[i].data) return ERR(e, ERR_ARG, "%s: tensor %s: no data", path, ts[i].name);
    }
    return 0;
}

int st_save(const char *path, const StSaveTensor *ts, size_t n, StDtype dtype,
            int with_pt_metadata, Err *e) {
    if (save_check(path, ts, n, dtype, e)) return -1;
    const StSaveTensor **order = malloc((n + 1) * sizeof *order);
    Buf h = {0};
    uint8_t *out = NULL;
    int rc = 0;
    if (!order) return ERR(e, ERR_NOMEM, "%s: out of memory", path);
    for (size_t i = 0; i < n; i++) order[i] = &ts[i];
    qsort(order, n, sizeof *order, cmp_save);
    for (size_t i = 1; i < n && !rc; i++)
        if (strcmp(order[i]->name, order[i - 1]->name) == 0)
            rc = ERR(e, ERR_ARG, "%s: tensor %s: given twice", path, order[i]->name);
    if (!rc && save_header(&h, order, n, dtype, with_pt_metadata))
        rc = ERR(e, ERR_NOMEM, "%s: out of memory", path);
    size_t data = 0;
    for (size_t i = 0; i < n; i++) data += save_numel(order[i]) * dtypes[dtype].size;
    if (!rc && !(out = malloc(8 + h.len + data))) rc = ERR(e, ERR_NOMEM, "%s: out of memory", path);
    if (!rc) {
        for (int k = 0; k < 8; k++) out[k] = (uint8_t)((uint64_t)h.len >> 8 * k);
        memcpy(out + 8, h.data, h.len);
        uint8_t *p = out + 8 + h.len;
        for (size_t i = 0; i < n; i++) {
            size_t m = save_numel(order[i]);
            put_values(p, order[i]->data, m, dtype);
            p += m * dtypes[dtype].size;
        }
        rc = file_write_atomic(path, out, 8 + h.len + data, e);
    }
    free(out);
    free(order);
    buf_free(&h);
    return rc;
}

// ---------------------------------------------------------------------------------------
// Model directories

void st_dir_close(StDir *d) {
    for (size_t i = 0; i < d->n_files; i++) st_close(&d->files[i]);
    free(d->files);
    free(d->index);
    free(d->dir);
    memset(d, 0, sizeof *d);
}

static int by_ptr_name(const void *a, const void *b) {
    return strcmp((*(const StTensor *const *)a)->name, (*(const StTensor *const *)b)->name);
}

const StTensor *st_dir_find(const StDir *d, const char *name) {
    StTensor key = {.name = name};
    const StTensor *kp = &key;
    if (!d->n_index) return NULL;
    const StTensor **hit = bsearch(&kp, d->index, d->n_index, sizeof *d->index, by_ptr_name);
    return hit ? *hit : NULL;
}

// Opens shard `name` of dir as files[n_files++] unless it is open already.
static int dir_add_shard(StDir *d, const char *name, size_t *which, Err *e) {
    char p[4096];
    if (!name[0] || strchr(name, '/'))
        return ERR(e, ERR_FORMAT, "shard name \"%s\": expected a file name in the directory", name);
    if (path_join(p, sizeof p, d->dir, name, e)) return -1;
    for (size_t i = 0; i < d->n_files; i++)
        if (strcmp(d->files[i].path, p) == 0) return *which = i, 0;
    StFile *nf = realloc(d->files, (d->n_files + 1) * sizeof *nf);
    if (!nf) return ERR(e, ERR_NOMEM, "%s: out of memory", p);
    d->files = nf;
    if (st_open(&d->files[d->n_files], p, e)) return -1;
    *which = d->n_files++;
    return 0;
}

// Reads the index's weight_map, opens every shard it names, and checks each name is in
// the shard the index says.
static int dir_open_index(StDir *d, const char *ipath, Err *e) {
    char *text;
    size_t len;
    if (file_read_all(ipath, &text, &len, e)) return -1;
    cJSON *root = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *wm = cJSON_GetObjectItemCaseSensitive(root, "weight_map");
    int rc = 0;
    if (!root) rc = ERR(e, ERR_FORMAT, "%s: not valid JSON", ipath);
    else if (!cJSON_IsObject(wm)) rc = ERR(e, ERR_FORMAT, "%s: weight_map: expected an object", ipath);
    for (const cJSON *j = wm ? wm->child : NULL; j && !rc; j = j->next) {
        size_t which;
        if (!cJSON_IsString(j))
            rc = ERR(e, ERR_FORMAT, "%s: weight_map.%s: expected a shard file name", ipath, j->string);
        else if (dir_add_shard(d, j->valuestring, &which, e))
            rc = err_prefix(e, "%s: tensor %s: ", ipath, j->string);
        else if (!st_find(&d->files[which], j->string))
            rc = ERR(e, ERR_FORMAT, "%s: tensor %s: not in its shard %s", ipath, j->string,
                     d->files[which].path);
    }
    cJSON_Delete(root);
    return rc;
}

static int dir_build_index(StDir *d, Err *e) {
    size_t n = 0;
    for (size_t i = 0; i < d->n_files; i++) n += d->files[i].n_tensors;
    if (!(d->index = malloc((n + 1) * sizeof *d->index)))
        return ERR(e, ERR_NOMEM, "%s: out of memory", d->dir);
    for (size_t i = 0; i < d->n_files; i++)
        for (size_t k = 0; k < d->files[i].n_tensors; k++) d->index[d->n_index++] = &d->files[i].tensors[k];
    qsort(d->index, d->n_index, sizeof *d->index, by_ptr_name);
    for (size_t i = 1; i < d->n_index; i++)
        if (strcmp(d->index[i]->name, d->index[i - 1]->name) == 0)
            return ERR(e, ERR_FORMAT, "%s: tensor %s: in both %s and %s", d->dir, d->index[i]->name,
                       d->index[i - 1]->file, d->index[i]->file);
    return 0;
}

int st_dir_open(StDir *d, const char *dir, Err *e) {
    memset(d, 0, sizeof *d);
    char index[4096], single[4096];
    size_t which;
    if (!(d->dir = strdup(dir))) return ERR(e, ERR_NOMEM, "%s: out of memory", dir);
    int rc = path_join(index, sizeof index, dir, "model.safetensors.index.json", e) ||
             path_join(single, sizeof single, dir, "model.safetensors", e);
    if (!rc && file_exists(index)) rc = dir_open_index(d, index, e);
    else if (!rc && file_exists(single)) rc = dir_add_shard(d, "model.safetensors", &which, e);
    else if (!rc) rc = ERR(e, ERR_IO, "%s: no model.safetensors or model.safetensors.index.json", dir);
    if (!rc) rc = dir_build_index(d, e);
    if (rc) st_dir_close(d);
    return rc ? -1 : 0;
}
