// bench_decode.c: the inference engine's speed on one model — prefill tokens/s, single-
// stream decode tokens/s, and aggregate decode tokens/s with S sequences in parallel
// (continuous batching: one forward per step, rows = sequences). Greedy, EOS ignored, so
// every run generates exactly G tokens. Prints one JSON line (bench/decode/run.sh reads it).
//
//   bench_decode MODEL_DIR TOKENIZER PROMPT_LEN GEN PARALLEL REPS
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "infer/engine.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void die(const Err *e) {
    fprintf(stderr, "bench_decode: %s\n", e->msg);
    exit(1);
}

// Prompt k: seeded ids in [3, V) (past BOS/EOS of llama2.c vocabularies).
static void make_prompt(int32_t *p, int n, int V, int k) {
    uint32_t s = 12345u + 7919u * (uint32_t)k;
    for (int i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        p[i] = 3 + (int32_t)((s >> 8) % (uint32_t)(V - 3));
    }
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: bench_decode MODEL_DIR TOKENIZER PROMPT_LEN GEN PARALLEL REPS\n");
        return 2;
    }
    const char *dir = argv[1];
    int P = atoi(argv[3]), G = atoi(argv[4]), S = atoi(argv[5]), R = atoi(argv[6]);
    EngineOptions o;
    engine_options_default(&o);
    o.tokenizer = argv[2];
    o.max_seqs = S;
    o.ctx = P + G;
    Err e = {0};
    Engine *en;
    if (engine_open(&en, dir, &o, &e)) die(&e);
    int V = engine_model_config(en)->vocab_size;
    SampleParams p;
    sample_params_default(&p);
    p.temperature = 0;
    p.ignore_eos = true;
    p.max_tokens = G;
    int32_t *prompts = malloc((size_t)S * P * sizeof *prompts);
    for (int k = 0; k < S; k++) make_prompt(prompts + (size_t)k * P, P, V, k);

    // Single stream: prefill (the first step: the prompt forward and the first token) and
    // decode (the other G-1 steps), after one warm-up run.
    double *pre = calloc((size_t)R, sizeof *pre), *dec = calloc((size_t)R, sizeof *dec);
    GenResult r;
    if (engine_generate(en, prompts, P, &p, NULL, NULL, NULL, &r, &e)) die(&e);
    gen_result_free(&r);
    for (int i = 0; i < R; i++) {
        if (engine_generate(en, prompts, P, &p, NULL, NULL, NULL, &r, &e)) die(&e);
        pre[i] = P / r.prefill_s;
        dec[i] = (r.n_generated - 1) / r.decode_s;
        if (i < R - 1) gen_result_free(&r);
    }
    // S sequences started together: all prefilled in the first step, then decoded as one
    // batch. Aggregate = generated tokens of all sequences / time of the decode steps.
    double *agg = calloc((size_t)R, sizeof *agg);
    for (int i = 0; i < R; i++) {
        Seq **seqs = calloc((size_t)S, sizeof *seqs);
        for (int k = 0; k < S; k++)
            if (seq_start(en, prompts + (size_t)k * P, P, &p, NULL, &seqs[k], &e)) die(&e);
        if (engine_step(en, &e)) die(&e);
        double t0 = now_s();
        while (engine_n_active(en) > 0)
            if (engine_step(en, &e)) die(&e);
        agg[i] = (double)S * (G - 1) / (now_s() - t0);
        for (int k = 0; k < S; k++) seq_free(seqs[k]);
        free(seqs);
    }
    printf("{\"prefill_tps\": %.2f, \"decode_tps\": %.2f, \"agg_tps\": %.2f, \"parallel\": %d, "
           "\"prompt\": %d, \"gen\": %d, \"ids\": [", median(pre, R), median(dec, R), median(agg, R),
           S, P, G);
    for (int i = 0; i < r.n_generated; i++) printf(i ? ", %d" : "%d", r.ids.data[i]);
    printf("]}\n");
    gen_result_free(&r);
    free(pre);
    free(dec);
    free(agg);
    free(prompts);
    engine_close(en);
    return 0;
}
