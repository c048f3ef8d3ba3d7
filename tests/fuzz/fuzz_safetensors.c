// fuzz_safetensors.c: arbitrary bytes as a .safetensors file.
//
// The input is written to model.safetensors and opened with st_open. A file may be
// refused, with a message; a file it accepts must keep its promises: every tensor's
// region lies inside the mapping and matches shape x dtype size, st_find finds each name,
// and F32/F16/BF16 tensors convert. Those are then written back with st_save (F32) and
// reopened: the values must come back bit for bit.
#include "fuzz_common.h"

#include "model/safetensors.h"

static void remove_files(void) {
    unlink(fuzz_path("model.safetensors"));
    unlink(fuzz_path("back.safetensors"));
}

static int convertible(const StTensor *t) {
    return t->dtype == ST_F32 || t->dtype == ST_F16 || t->dtype == ST_BF16;
}

// Converts the convertible tensors of f (non-empty names) into values, saves them as F32,
// reopens the file and compares.
static void round_trip(const StFile *f) {
    StSaveTensor *ts = calloc(f->n_tensors + 1, sizeof *ts);
    float **vals = calloc(f->n_tensors + 1, sizeof *vals);
    size_t n = 0;
    Err e = {0};
    for (size_t i = 0; i < f->n_tensors; i++) {
        const StTensor *t = &f->tensors[i];
        if (!convertible(t) || !t->name[0]) continue;
        vals[n] = malloc(t->numel * sizeof(float) + 1);
        FUZZ_ASSERT(st_to_f32(t, vals[n], &e) == 0, "tensor %s: %s", t->name, e.msg);
        ts[n] = (StSaveTensor){t->name, t->ndim, t->shape, vals[n]};
        n++;
    }
    const char *p = fuzz_path("back.safetensors");
    FUZZ_ASSERT(st_save(p, ts, n, ST_F32, 1, &e) == 0, "save failed: %s", e.msg);
    StFile g;
    FUZZ_ASSERT(st_open(&g, p, &e) == 0, "reopen of a saved file failed: %s", e.msg);
    FUZZ_ASSERT(g.n_tensors == n, "%zu tensors saved, %zu read back", n, g.n_tensors);
    for (size_t i = 0; i < n; i++) {
        const StTensor *t = st_find(&g, ts[i].name);
        FUZZ_ASSERT(t && t->dtype == ST_F32 && t->ndim == ts[i].ndim, "tensor %s lost", ts[i].name);
        float *back = malloc(t->numel * sizeof(float) + 1);
        FUZZ_ASSERT(st_to_f32(t, back, &e) == 0, "reconvert %s: %s", t->name, e.msg);
        FUZZ_ASSERT(memcmp(back, vals[i], t->numel * sizeof(float)) == 0, "tensor %s changed", t->name);
        free(back);
    }
    st_close(&g);
    for (size_t i = 0; i < n; i++) free(vals[i]);
    free(vals);
    free(ts);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int registered;
    const char *p = fuzz_write("model.safetensors", data, size);
    if (!registered) registered = 1, atexit(remove_files);  // runs before fuzz_cleanup's rmdir
    StFile f;
    Err e = {0};
    if (st_open(&f, p, &e) != 0) {
        FUZZ_ASSERT(e.msg[0] != 0, "open failed without a message");
        FUZZ_ASSERT(f.map == NULL && f.tensors == NULL, "a failed open left memory behind");
        return 0;
    }
    for (size_t i = 0; i < f.n_tensors; i++) {
        const StTensor *t = &f.tensors[i];
        FUZZ_ASSERT(t->data >= f.map && t->data + (t->end - t->begin) <= f.map + f.map_len,
                    "tensor %s outside the file", t->name);
        FUZZ_ASSERT(t->numel * st_dtype_size(t->dtype) == t->end - t->begin, "tensor %s size", t->name);
        FUZZ_ASSERT(st_find(&f, t->name) == t, "st_find(%s) misses", t->name);
        if (!convertible(t)) {
            float one;
            FUZZ_ASSERT(st_to_f32(t, &one, &e) != 0 && e.msg[0], "%s converted", st_dtype_name(t->dtype));
        }
    }
    round_trip(&f);
    st_close(&f);
    return 0;
}
