// demo.h: `posttrain demo` — the seed's whole story, offline, measured:
//   1 internet documents (corpus.c) -> 2 a BPE tokenizer trained on them -> 3 a small Llama
//   pretrained on them (the base model: a document simulator) -> 4 the protocol's new
//   special tokens added (embeddings grown) -> 5 labelers' conversations (convos.c) ->
//   6 SFT -> 7 base vs SFT on held-out prompts, same engine, same sampling (judge.c) ->
//   results.json and report.html.
// Every stage writes under out_dir and marks itself done last (a DONE file), so a re-run
// reuses finished stages; fresh removes out_dir first.
#ifndef PT_DEMO_DEMO_H
#define PT_DEMO_DEMO_H

#include <stdbool.h>
#include <stdint.h>

#include "train/trainer.h"
#include "util/err.h"

typedef struct {
    const char *out_dir;  // default "demo-out"
    bool quick;           // smaller corpus, model and runs: ~2 minutes
    bool fresh;           // start over
    uint64_t seed;
    // Output for a person: stage headings and notes (log), the trainer's step lines
    // (progress), text to show as it is (show: sampled text, the token view). May be NULL.
    void (*log)(void *ctx, const char *msg);
    void (*progress)(void *ctx, const TrainProgress *p);
    void (*show)(void *ctx, const char *text);
    void *ctx;
} DemoOptions;

int demo_run(const DemoOptions *o, Err *e);

#endif
