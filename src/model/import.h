// import.h: foreign checkpoints -> the Hugging Face layout (config.json + model.safetensors).
//
// Two formats, both a fixed int32 header followed by flat arrays:
//   llama2.c  (karpathy/llama2.c, export.py "legacy" version 0): Llama with adjacent-pair RoPE;
//             the q/k rows are permuted per head into HF's rotate-half order (llama2c.c).
//   llm.c     (karpathy/llm.c, train_gpt2.c gpt2_*.bin, magic 20240326, version 3 fp32 or
//             5 bf16): GPT-2; Linear weights are transposed into HF's Conv1D (in, out) (llmc.c).
// An import holds every tensor as float32 under its HF name, plus the ModelConfig;
// import_save writes them into a directory that st_dir_open and transformers both read.
#ifndef PT_MODEL_IMPORT_H
#define PT_MODEL_IMPORT_H

#include <stddef.h>
#include <stdint.h>

#include "model/config.h"
#include "model/safetensors.h"
#include "util/err.h"

typedef enum { IMPORT_UNKNOWN, IMPORT_LLAMA2C, IMPORT_LLMC } ImportFormat;

#define LLMC_MAGIC 20240326

typedef struct {
    char name[96];       // HF name
    int ndim;            // 1 or 2
    int64_t shape[2];
    float *data;         // owned, numel values
} ImportTensor;

typedef struct {
    ImportFormat format;
    ModelConfig cfg;
    ImportTensor *t;     // in HF layer order
    size_t n, cap;
    size_t n_params;     // sum of numel over t
} ImportedModel;

// Guesses the format from the first bytes of path: llm.c's magic, else a plausible
// llama2.c header. IMPORT_UNKNOWN with e set when neither fits.
ImportFormat import_detect(const char *path, Err *e);
const char *import_format_name(ImportFormat f);  // "llama2.c", "llm.c"

// Each reads the whole file, checks its size against the header exactly (the error names
// the file and the first array that is short, or the bytes left over) and maps it to HF.
int import_llama2c(ImportedModel *m, const char *path, Err *e);
int import_llmc(ImportedModel *m, const char *path, Err *e);
int import_any(ImportedModel *m, const char *path, Err *e);  // by import_detect

// Creates dir (and parents) and writes config.json and model.safetensors (ST_F32 or ST_BF16).
int import_save(const ImportedModel *m, const char *dir, StDtype dtype, Err *e);
void import_free(ImportedModel *m);  // accepts a zeroed ImportedModel

// Shared by the two readers (defined in llama2c.c).
// Appends a zeroed tensor of shape (d0) when d1 is 0, else (d0, d1); NULL when out of memory.
ImportTensor *import_add(ImportedModel *m, const char *name, int64_t d0, int64_t d1, Err *e);
// a * b, or SIZE_MAX when it overflows (sizes from a header are untrusted).
size_t import_mul(size_t a, size_t b);

#endif
