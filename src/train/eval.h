// eval.h: how well a model predicts a data split — the masked loss the trainer minimises,
// its perplexity, and next-token accuracy, for the target tokens (the assistant's replies
// under SFT masks) and separately for the context tokens (system/user turns and template
// tokens: every other token of a document after its first).
#ifndef PT_TRAIN_EVAL_H
#define PT_TRAIN_EVAL_H

#include <stdbool.h>

#include "model/model.h"
#include "train/dataset.h"
#include "util/err.h"

typedef struct {
    int batch, seq_len;
    bool pack;
    int max_batches;  // 0: the whole split
} EvalOptions;

typedef struct {
    long docs;                   // documents evaluated (cut to seq_len)
    long targets, context;       // token counts
    double target_loss, context_loss;  // mean -log p, nats
    double target_acc, context_acc;    // argmax == the next token
} EvalResult;

// Evaluates m on every document of s, in order (rows as the trainer builds them).
int eval_run(Model *m, const TokenSet *s, const EvalOptions *o, EvalResult *r, Err *e);

#endif
