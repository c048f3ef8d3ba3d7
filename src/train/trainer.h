// trainer.h: the training loop — the base model trained further with the same next-token
// algorithm, the loss on the tokens the mask marks (SFT) or on every token (pretrain).
//
// One optimizer step = grad_accum micro-batches of (batch, seq_len) rows from the loader.
// The loss of a step is sum over its targets of -log p / (targets in the whole step), so
// 4 micro-batches of 1 row give the same step as 1 micro-batch of 4 rows. The learning
// rate follows the schedule; AdamW with clipping updates the fp32 weights.
//
// The output directory:
//   config.json, model.safetensors, tokenizer files   the final model (HF layout)
//   metrics.jsonl      one line per step ({"step", "loss", "lr", "grad_norm", ...}) and per
//                      validation ({"step", "val_loss", ...})
//   loss.svg           the loss curve (train and validation)
//   checkpoints/step-NNNNNNN/   model + optimizer.bin + trainer_state.json, each written
//                      into a temporary directory and renamed, so a checkpoint is whole or
//                      absent; checkpoints/latest names the newest. Older ones are removed.
//   best/              the model with the lowest validation loss so far
// Resuming from a checkpoint continues bit-identically (same losses to the last bit) when
// the options and the thread count are the same.
#ifndef PT_TRAIN_TRAINER_H
#define PT_TRAIN_TRAINER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "data/reader.h"
#include "model/safetensors.h"
#include "train/adamw.h"
#include "train/schedule.h"
#include "util/err.h"

typedef enum { OBJ_SFT, OBJ_PRETRAIN } Objective;

typedef struct TrainProgress {
    int step, total;          // steps done, of total
    double loss, lr, grad_norm;
    long targets;             // target tokens in this step
    double tokens_per_s;      // real (non-padding) tokens per second, this run
    double elapsed_s, eta_s;
    int is_val;               // 1: a validation result (val_loss set)
    double val_loss;
} TrainProgress;

typedef struct {
    const char *model_dir;  // the base model (HF layout)
    const char *out_dir;
    const char *const *data;  // a prepared directory (posttrain data prepare), or data files
    int n_data;
    const char *const *val_data;  // files for the validation loss (a prepared dir has its own)
    int n_val;
    const char *resume;  // a checkpoint directory, or an output directory (its latest), or NULL
    const char *tokenizer, *vocab_dir;  // NULL: the model directory's tokenizer
    const char *template_name;          // NULL: the prepared data's, else gpt4o
    Objective objective;
    int steps;          // optimizer steps; 0: epochs over the data
    double epochs;      // used when steps == 0 (default 1)
    int batch, grad_accum, seq_len;
    bool pack, shuffle;
    uint64_t seed;
    Schedule sched;     // kind, lr, min_lr, warmup (total is set by the trainer)
    AdamWConfig adam;   // lr is overwritten each step by the schedule
    int save_every;     // steps between checkpoints; 0: only at the end (and on a signal)
    int eval_every;     // steps between validation losses; 0: only at the end
    int eval_batches;   // micro-batches per validation; 0: the whole split
    StDtype dtype;      // of the final model: ST_F32 (checkpoints are always F32)
    ReaderOptions reader;
    const volatile sig_atomic_t *stop;  // set (by a signal handler): checkpoint and return
    // Called after every step and every validation; may be NULL.
    void (*progress)(void *ctx, const TrainProgress *p);
    void (*log)(void *ctx, const char *msg);  // one-line notes (data sizes, resume, saves)
    void *ctx;
} TrainOptions;

// Defaults as the CLI documents them (lr 2e-5 constant, one epoch, batch 4, seq_len 1024...).
void train_options_default(TrainOptions *o);

// Runs the training. Returns 0 when done, 1 when stopped by *stop (a checkpoint was
// written), -1 on error.
int train_run(const TrainOptions *o, Err *e);

#endif
