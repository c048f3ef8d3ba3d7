// safetensors.h: reading and writing Hugging Face .safetensors files and model directories.
//
// Format (https://huggingface.co/docs/safetensors, "Format"): an 8-byte little-endian
// header length N, N bytes of JSON {"NAME": {"dtype", "shape", "data_offsets": [begin,
// end]}, "__metadata__": {str: str}}, then the data buffer; offsets are relative to the
// buffer's start. A file is mmapped read-only and every entry validated on open, so a
// tensor's bytes can be used without further checks. A model directory holds
// model.safetensors, or model.safetensors.index.json ("weight_map": name -> shard) and
// its shards; StDir looks a name up across all of them.
#ifndef PT_SAFETENSORS_H
#define PT_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "util/err.h"

typedef enum {
    ST_F32, ST_F16, ST_BF16,  // convertible to float32
    ST_F64, ST_I64, ST_I32, ST_I16, ST_I8, ST_U64, ST_U32, ST_U16, ST_U8, ST_BOOL,
    ST_F8_E4M3, ST_F8_E5M2,   // known, listed, but not converted
    ST_DTYPE_COUNT,
} StDtype;

#define ST_MAX_DIMS 8

typedef struct {
    const char *name;     // points into the owning StFile's name pool
    const char *file;     // the owning file's path (borrowed), for messages
    StDtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    size_t numel;         // product of shape (1 for a scalar)
    size_t begin, end;    // data_offsets, relative to the data buffer
    const uint8_t *data;  // borrowed from the mmap: end - begin bytes, maybe unaligned
} StTensor;

typedef struct {
    char *path;
    uint8_t *map;         // the whole file, mmapped read-only
    size_t map_len;
    StTensor *tensors;    // sorted by name
    size_t n_tensors;
    char *names;          // pool for the names
    char **meta_keys, **meta_vals;  // "__metadata__", in file order
    size_t n_meta;
} StFile;

typedef struct {
    char *dir;
    StFile *files;        // one per shard
    size_t n_files;
    const StTensor **index;  // every tensor of every shard, sorted by name
    size_t n_index;
} StDir;

// A tensor to write: float32 values, shape[0..ndim) (borrowed).
typedef struct {
    const char *name;
    int ndim;
    const int64_t *shape;
    const float *data;    // numel values
} StSaveTensor;

const char *st_dtype_name(StDtype d);
size_t st_dtype_size(StDtype d);

// Opens and validates path; on error f is left zeroed and e names the file and tensor.
int st_open(StFile *f, const char *path, Err *e);
void st_close(StFile *f);  // accepts a zeroed StFile
const StTensor *st_find(const StFile *f, const char *name);  // NULL when absent
const char *st_metadata_get(const StFile *f, const char *key);  // NULL when absent

// Converts t to float32 into out (t->numel values): exact for F32, F16 and BF16; other
// dtypes are an error naming the dtype.
int st_to_f32(const StTensor *t, float *out, Err *e);

// Writes tensors as dtype (ST_F32 or ST_BF16, the latter rounded to nearest even as torch
// does) to path, atomically. The header lists tensors sorted by name, data in the same
// order, padded with spaces to a multiple of 8 bytes; with_pt_metadata adds
// "__metadata__": {"format": "pt"}, which transformers' loader expects.
int st_save(const char *path, const StSaveTensor *tensors, size_t n, StDtype dtype,
            int with_pt_metadata, Err *e);

// Opens a model directory: model.safetensors.index.json and its shards if the index
// exists, else model.safetensors. A name in two shards, a shard that cannot be opened or
// an index entry missing from its shard is an error naming both.
int st_dir_open(StDir *d, const char *dir, Err *e);
void st_dir_close(StDir *d);  // accepts a zeroed StDir
const StTensor *st_dir_find(const StDir *d, const char *name);

// Exact scalar conversions (exposed for tests).
float st_f16_to_f32(uint16_t h);
float st_bf16_to_f32(uint16_t h);
uint16_t st_f32_to_bf16(float f);  // round to nearest even; NaN -> 0x7FC0 as in torch

#endif
