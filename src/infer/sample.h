// sample.h: choosing the next token from a row of logits, and the log-probabilities the
// engine reports.
//
// The pipeline (SampleParams in engine.h), on a copy of the logits:
//   1. penalties: repetition (CTRL / Hugging Face: a seen token's logit z becomes z / r
//      when z > 0, else z * r; "seen" = in the prompt or the output), then frequency and
//      presence (OpenAI: z -= f * count_in_output + p * [count_in_output > 0]);
//   2. temperature 0 (or top_k 1): the argmax, lowest id on ties — no randomness;
//   3. otherwise z / temperature, then top-k (the k largest, ties by lower id), softmax,
//      top-p (the smallest prefix, by probability, with mass >= top_p), min-p (drop
//      p < min_p * p_max), and a draw from what is left, renormalised, with the
//      sequence's own RNG (xorshift64*, seeded by splitmix64 from the seed): the same
//      seed, settings and logits give the same token.
// Log-probabilities are of the raw logits: log_softmax before penalties, temperature and
// truncation (what the model says, as OpenAI's logprobs), not of the sampler's distribution.
#ifndef PT_INFER_SAMPLE_H
#define PT_INFER_SAMPLE_H

#include <stdint.h>

#include "infer/engine.h"

typedef struct {
    uint64_t s;
} SampleRng;

void sample_rng_seed(SampleRng *r, uint64_t seed);
float sample_rng_uniform(SampleRng *r);  // [0, 1)

// Scratch for one call at a time: V floats and V ints.
typedef struct {
    float *z;        // (V) working logits / probabilities
    int32_t *idx;    // (V) candidate ids
    int V;
} SampleScratch;

int sample_scratch_init(SampleScratch *s, int V);
void sample_scratch_free(SampleScratch *s);

// The next token from logits (V, untouched). counts (V): occurrences of each id in the
// output so far; seen (V): nonzero for ids in the prompt or the output. Either may be NULL
// when no penalty asks for it.
int32_t sample_token(const float *logits, const SampleParams *p, const int32_t *counts,
                     const uint8_t *seen, SampleRng *rng, SampleScratch *s);

// log sum exp of logits (V), in double as model_logsumexp_rows.
float sample_logsumexp(const float *logits, int V);
// The n most likely ids of logits (V) in descending order (ties: lower id first) with
// their log-probabilities logits - lse. Returns n (at most V).
int sample_top_logprobs(const float *logits, int V, float lse, int n, int32_t *ids, float *lps);

#endif
