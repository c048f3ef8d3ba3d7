// checkpoint.h: what a training run writes so that it can stop at any moment and continue
// bit-identically: the model (F32, HF layout), the AdamW moments, and the trainer's state
// (step, data position, best validation loss, and the options the run must keep).
//
//   OUT/checkpoints/step-0000120/  config.json, model.safetensors, tokenizer files,
//                                  optimizer.bin, trainer_state.json
//   OUT/checkpoints/latest         "step-0000120"
// A checkpoint is built in OUT/checkpoints/.tmp-step-…, then renamed into place, then
// `latest` is replaced (atomically); only then are older checkpoints removed. A run killed
// at any point leaves `latest` naming a whole checkpoint.
#ifndef PT_TRAIN_CHECKPOINT_H
#define PT_TRAIN_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "data/loader.h"
#include "model/model.h"
#include "train/adamw.h"
#include "train/trainer.h"

typedef struct {
    int step, total;
    LoaderState loader;
    double best_val;  // NaN: none yet
    uint64_t seed;
    int batch, grad_accum, seq_len;
    bool pack, shuffle;
    int objective;
} CheckpointState;

// Saves a checkpoint under out_dir/checkpoints (see above); *dir gets its path.
// tok_dir (or NULL): the directory of the run's tokenizer files (tokenizer.json and
// tokenizer_config.json with the chat template), copied into every saved model so that
// serving uses exactly what training used.
int checkpoint_save(const char *out_dir, const Model *m, const AdamW *opt,
                    const CheckpointState *cs, const char *tok_dir, char *dir, size_t n,
                    Err *e);

// path is a checkpoint directory (it has trainer_state.json) or an output directory (its
// checkpoints/latest); *dir gets the checkpoint directory.
int checkpoint_find(const char *path, char *dir, size_t n, Err *e);
int checkpoint_load_state(const char *dir, CheckpointState *cs, Err *e);
// A resumed run must read the same data the same way: the options that decide which rows
// each step sees must equal the checkpoint's; an error names the first that differs.
int checkpoint_check(const CheckpointState *cs, const TrainOptions *o, int total, Err *e);
int checkpoint_load_optimizer(const char *dir, AdamW *opt, Err *e);

#endif
