// bench_train_step.c: tokens/s of one training step (forward + masked loss + backward +
// AdamW with clipping) of posttrain's model, for bench/train_step/run.sh.
//
//   bench_train_step MODEL_DIR B T STEPS [WARMUP]   -> one JSON line on stdout
//   bench_train_step --sgemm N K M [REPS]            -> GFLOP/s of dnnl_sgemm (N,K)@(K,M)
//
// Input ids are seeded pseudo-random tokens; every token after the first is a target. The
// JSON line reports the median step time, tokens/s, time split (forward+loss, backward,
// optimizer), the model FLOPs per step (so run.sh can compare to the sgemm peak), and the
// peak RSS beside the arithmetic of params + grads + Adam moments + activations.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <oneapi/dnnl/dnnl.h>

#include "model/model.h"
#include "train/adamw.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int bench_sgemm(int N, int K, int M, int reps) {
    float *a = malloc((size_t)N * K * 4), *b = malloc((size_t)K * M * 4), *c = malloc((size_t)N * M * 4);
    if (!a || !b || !c) return 1;
    for (size_t i = 0; i < (size_t)N * K; i++) a[i] = (float)((i * 7919) % 1000) * 1e-3f;
    for (size_t i = 0; i < (size_t)K * M; i++) b[i] = (float)((i * 104729) % 1000) * 1e-3f;
    double best = 1e30;
    for (int r = 0; r < reps + 1; r++) {  // the first call warms oneDNN's kernels up
        double t0 = now();
        dnnl_sgemm('N', 'N', N, M, K, 1.0f, a, K, b, M, 0.0f, c, M);
        double dt = now() - t0;
        if (r > 0 && dt < best) best = dt;
    }
    printf("{\"N\": %d, \"K\": %d, \"M\": %d, \"gflops\": %.1f}\n", N, K, M, 2.0 * N * K * M / best * 1e-9);
    free(a);
    free(b);
    free(c);
    return 0;
}

// Matmul FLOPs of one forward over B*T tokens: 2 * tokens * (weights used in matmuls) plus
// attention's two (T,T) products per head. Training counts 3x (forward, two backward GEMMs).
static double forward_flops(const Model *m, int B, int T) {
    const ModelConfig *c = &m->cfg;
    double C = c->hidden_size, F = c->intermediate_size, H = c->n_head, KVH = c->n_kv_head,
           D = c->head_dim, V = c->vocab_size, L = c->n_layer;
    int gelu = c->arch == MODEL_ARCH_GPT2;
    double per_layer = C * (H + 2 * KVH) * D + H * D * C + (gelu ? 2 : 3) * C * F;
    double tokens = (double)B * T;
    double dense = 2.0 * tokens * (L * per_layer + V * C);
    double att = L * B * H * 2.0 * 2.0 * T * T * D * 0.5;  // causal: half the scores count
    return dense + att;
}

int main(int argc, char **argv) {
    if (argc >= 5 && !strcmp(argv[1], "--sgemm"))
        return bench_sgemm(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]), argc > 5 ? atoi(argv[5]) : 5);
    if (argc < 5) {
        fprintf(stderr, "usage: %s MODEL_DIR B T STEPS [WARMUP] | --sgemm N K M [REPS]\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    int B = atoi(argv[2]), T = atoi(argv[3]), steps = atoi(argv[4]);
    int warmup = argc > 5 ? atoi(argv[5]) : 2;
    Err e = {0};
    Model m;
    if (model_load(&m, dir, &e)) {
        fprintf(stderr, "bench_train_step: %s\n", e.msg);
        return 1;
    }
    int V = m.cfg.vocab_size;
    int32_t *ids = malloc((size_t)B * T * sizeof *ids);
    uint64_t x = 0x9E3779B97F4A7C15ull;
    for (int i = 0; i < B * T; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        ids[i] = (int32_t)(x % (uint64_t)V);
    }
    AdamWConfig ac = {.lr = 1e-4f, .beta1 = 0.9f, .beta2 = 0.95f, .eps = 1e-8f,
                      .weight_decay = 0.1f, .clip = 1.0f};
    AdamW opt;
    if (adamw_init(&opt, &m, &ac, &e)) {
        fprintf(stderr, "bench_train_step: %s\n", e.msg);
        return 1;
    }
    int total = warmup + steps;
    double *t_step = calloc(total, sizeof(double)), *t_fwd = calloc(total, sizeof(double)),
           *t_bwd = calloc(total, sizeof(double)), *t_opt = calloc(total, sizeof(double));
    double loss = 0, first_loss = 0;
    for (int s = 0; s < total; s++) {
        double t0 = now();
        if (model_forward(&m, ids, NULL, B, T, &e) ||
            model_loss(&m, NULL, 0, NULL, &loss, NULL, &e)) {
            fprintf(stderr, "bench_train_step: %s\n", e.msg);
            return 1;
        }
        double t1 = now();
        if (model_zero_grad(&m, &e) || model_backward(&m, NULL, 0, &e)) {
            fprintf(stderr, "bench_train_step: %s\n", e.msg);
            return 1;
        }
        double t2 = now();
        adamw_step(&opt, &m, NULL);
        double t3 = now();
        if (s == 0) first_loss = loss;
        t_fwd[s] = t1 - t0, t_bwd[s] = t2 - t1, t_opt[s] = t3 - t2, t_step[s] = t3 - t0;
        fprintf(stderr, "  posttrain step %d/%d: loss %.4f, %.3f s\n", s + 1, total, loss, t3 - t0);
    }
    double step = median(t_step + warmup, steps), fwd = median(t_fwd + warmup, steps),
           bwd = median(t_bwd + warmup, steps), optt = median(t_opt + warmup, steps);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double P = (double)m.n_params;
    printf("{\"tokens_per_s\": %.1f, \"step_s\": %.4f, \"forward_s\": %.4f, \"backward_s\": %.4f, "
           "\"optimizer_s\": %.4f, \"flops_per_step\": %.4e, \"params\": %zu, "
           "\"first_loss\": %.4f, \"last_loss\": %.4f, \"peak_rss_mb\": %.1f, "
           "\"params_mb\": %.1f, \"grads_mb\": %.1f, \"adam_mb\": %.1f, \"acts_mb\": %.1f, "
           "\"grad_acts_mb\": %.1f}\n",
           B * T / step, step, fwd, bwd, optt, 3.0 * forward_flops(&m, B, T), m.n_params,
           first_loss, loss, ru.ru_maxrss / 1024.0, P * 4 / 1048576, P * 4 / 1048576,
           P * 9 / 1048576, m.arena_bytes / 1048576.0, m.grad_arena_bytes / 1048576.0);
    adamw_free(&opt);
    model_free(&m);
    free(ids);
    free(t_step), free(t_fwd), free(t_bwd), free(t_opt);
    return 0;
}
