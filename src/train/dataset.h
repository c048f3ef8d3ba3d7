// dataset.h: what training and evaluation read — token documents from a prepared
// directory (`posttrain data prepare`) or straight from data files — plus the tokenizer and
// chat template that belong to them.
#ifndef PT_TRAIN_DATASET_H
#define PT_TRAIN_DATASET_H

#include <stdbool.h>

#include "chat/template.h"
#include "data/reader.h"
#include "data/tokens.h"
#include "tok/tok.h"
#include "util/err.h"

typedef struct {
    const char *const *data;  // one prepared directory, or data files
    int n_data;
    const char *const *val_data;  // validation files (a prepared directory has its own split)
    int n_val;
    const char *tokenizer, *vocab_dir;  // NULL: model_dir's tokenizer
    const char *model_dir;
    const char *template_name;          // NULL: the prepared data's, else gpt4o
    bool add_template_tokens;  // give the tokenizer the template's special tokens (SFT,
                               // eval); pretraining on text leaves the vocabulary alone
    ReaderOptions reader;
    void (*log)(void *ctx, const char *msg);
    void *ctx;
} DatasetOptions;

typedef struct {
    Tokenizer *tok;            // NULL when the model directory has none and none was given
    const ChatTemplate *tpl;
    char tok_spec[4096];       // what the tokenizer was loaded from (a SPEC for tok_load)
    bool template_tokens;      // tok has the template's special tokens
    TokenSet *train, *val;     // val may be NULL or empty
} Dataset;

// Loads the tokenizer (with the template's special tokens added) and the documents. Data
// files are read in file order, one document per record, without dedup or split (that
// is `data prepare`'s job); a conversation needs a tokenizer, pre-tokenized records don't.
int dataset_open(Dataset *d, const DatasetOptions *o, Err *e);
void dataset_free(Dataset *d);  // accepts a zeroed one

#endif
