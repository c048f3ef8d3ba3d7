// test_grad_fd.c: the backward pass (model_backward) against finite differences of
// the loss (model_forward + model_loss), independently of PyTorch, on tiny random models
// written by the test:
//   gpt2_tied      GPT-2: LayerNorm + biases, learned positions, Conv1D (in, out) weights,
//                  GELU, tied head
//   llama_gqa      Llama: untied head, GQA (4 heads, 2 kv heads), odd MLP width
//   qwen2_tied     Qwen2: q/k/v biases, tied head, GQA (2 heads, 1 kv head), head_dim 6
//                  (not C/H)
//   llama_bias     Llama with attention_bias and mlp_bias (o_proj and MLP biases), llama3
//                  rope scaling, a single kv head
// Each runs one batch (B,T) = (2,8) of packed documents (document ids, positions restarting)
// with a loss mask holding zeros and weights 0.5 and 2. For every tensor, 5 entries — the 2
// with the largest |analytic gradient| and 3 at random — are perturbed (weights are about
// 0.5) and the derivative of the loss (a double, from the fp32 forward) is taken by the
// five-point stencil fd = (8 (f(h) - f(-h)) - (f(2h) - f(-2h))) / 12h, h = 2e-2, whose
// truncation error is O(h^4). An entry passes when |fd - g| <= rtol |g| + atol with rtol
// 1e-2 and atol 2e-5, which covers the fp32 forward's rounding (about 2e-7 in the loss, times
// 1.5 / h); the largest gradients are about 0.5. Then the same comparison with the analytic
// gradient scaled by 1.05 must fail at the largest entry of every tensor whose gradient is
// not (near) zero, so a gradient 5% off cannot pass. Prints per model the worst |fd - g| /
// tolerance and the worst relative error at the largest entries. (h 1e-2 with the plain
// central difference left too little margin: fp32 noise and truncation error meet there.)
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/model.h"
#include "model_fixture.h"
#include "check.h"
#include "fixture.h"

#define B 2
#define T 8
#define N_TOP 2
#define N_RANDOM 3
#define H_STEP 2e-2
#define RTOL 1e-2
#define ATOL 2e-5
#define WRONG_SCALE 1.05

typedef struct {
    const char *name;
    const char *json;
} FdModel;

static const FdModel models[] = {
    {"gpt2_tied",
     "{\"architectures\": [\"GPT2LMHeadModel\"], \"model_type\": \"gpt2\", \"vocab_size\": 13,"
     " \"n_embd\": 12, \"n_layer\": 2, \"n_head\": 3, \"n_positions\": 16, \"n_inner\": null,"
     " \"activation_function\": \"gelu_new\", \"layer_norm_epsilon\": 1e-5}"},
    {"llama_gqa",
     "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", \"vocab_size\": 11,"
     " \"hidden_size\": 8, \"intermediate_size\": 7, \"num_hidden_layers\": 2,"
     " \"num_attention_heads\": 4, \"num_key_value_heads\": 2, \"max_position_embeddings\": 16,"
     " \"rms_norm_eps\": 1e-5, \"tie_word_embeddings\": false}"},
    {"qwen2_tied",
     "{\"architectures\": [\"Qwen2ForCausalLM\"], \"model_type\": \"qwen2\", \"vocab_size\": 17,"
     " \"hidden_size\": 12, \"intermediate_size\": 9, \"num_hidden_layers\": 2,"
     " \"num_attention_heads\": 2, \"num_key_value_heads\": 1, \"head_dim\": 6,"
     " \"max_position_embeddings\": 16, \"rms_norm_eps\": 1e-6, \"tie_word_embeddings\": true}"},
    {"llama_bias",
     "{\"architectures\": [\"LlamaForCausalLM\"], \"model_type\": \"llama\", \"vocab_size\": 9,"
     " \"hidden_size\": 8, \"intermediate_size\": 10, \"num_hidden_layers\": 1,"
     " \"num_attention_heads\": 2, \"num_key_value_heads\": 1, \"max_position_embeddings\": 16,"
     " \"rms_norm_eps\": 1e-5, \"tie_word_embeddings\": true, \"attention_bias\": true,"
     " \"mlp_bias\": true, \"rope_theta\": 500.0, \"rope_scaling\": {\"rope_type\": \"llama3\","
     " \"factor\": 4.0, \"low_freq_factor\": 1.0, \"high_freq_factor\": 2.0,"
     " \"original_max_position_embeddings\": 6}}"},
};
#define N_MODELS (sizeof models / sizeof *models)

// Two rows of packed documents; ids are taken modulo V. Row 1's documents are not
// contiguous (0 comes back), which the model treats as one more document boundary.
static const int32_t ids_raw[B * T] = {3, 7, 1, 12, 5, 0, 8, 2, /**/ 6, 6, 10, 4, 9, 1, 11, 3};
static const int32_t doc[B * T] = {0, 0, 0, 1, 1, 1, 1, 1, /**/ 0, 0, 0, 0, 2, 2, 0, 0};
static const float mask[B * T] = {0, 1, 1, 0, 1, 1, 0.5f, 2, /**/ 0, 0, 1, 1, 1, 0, 1, 1};

static uint32_t rng = 12345;
static uint32_t next_u32(void) {
    rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
    return rng;
}
static float rnd(void) { return (float)((next_u32() >> 8) * (1.0 / 16777216.0)) - 0.5f; }  // [-0.5, 0.5)

static void die(const char *what, const Err *e) {
    printf("setup: %s: %s\n", what, e->msg);
    exit(1);
}

static size_t numel(const ModelTensorSpec *s) {
    return (size_t)s->shape[0] * (s->ndim == 2 ? (size_t)s->shape[1] : 1);
}

// config.json + random F32 weights in [-0.5, 0.5) (norm weights 1 + that) in tmpdir/NAME.
static float fd_value(void *ctx, const ModelTensorSpec *t, int norm_w) {
    (void)ctx, (void)t;
    return rnd() + (norm_w ? 1.0f : 0.0f);
}

static const char *write_model(const FdModel *fm) {
    const char *dir = tmp_path(fm->name);
    Err e = {0};
    if (fixture_model_write(dir, fm->name, fm->json, fd_value, NULL, &e)) die(fm->name, &e);
    return dir;
}

static double loss_of(Model *m, const int32_t *ids) {
    Err e = {0};
    double loss;
    if (model_forward(m, ids, doc, B, T, &e) || model_loss(m, mask, 0, NULL, &loss, NULL, &e))
        die("forward", &e);
    return loss;
}

static int passes(double fd, double g) { return fabs(fd - g) <= RTOL * fabs(g) + ATOL; }

static void check_model(const FdModel *fm) {
    Model m;
    Err e = {0};
    if (model_load(&m, write_model(fm), &e)) die("load", &e);
    int V = m.cfg.vocab_size;
    int32_t ids[B * T];
    for (int i = 0; i < B * T; i++) ids[i] = ids_raw[i] % V;
    double loss0 = loss_of(&m, ids);
    if (model_zero_grad(&m, &e) || model_backward(&m, mask, 0, &e)) die("backward", &e);
    float *g = malloc(m.n_params * sizeof *g);
    memcpy(g, m.grads, m.n_params * sizeof *g);

    int threads = omp_get_max_threads();
    omp_set_num_threads(1);  // hundreds of tiny forwards: threads only cost here
    ModelTensorSpec *specs;
    size_t n_specs, off = 0;
    if (model_config_tensors(&m.cfg, &specs, &n_specs, &e)) die("tensors", &e);
    int n_checked = 0, n_bad = 0, n_scaled = 0, n_scaled_caught = 0;
    double worst_top_rel = 0, worst_ratio = 0, gmax_all = 0;
    const char *worst_top_name = "", *worst_ratio_name = "";
    for (size_t i = 0; i < m.n_params; i++) gmax_all = fmax(gmax_all, fabs(g[i]));
    for (size_t s = 0; s < n_specs; s++) {
        size_t k = numel(&specs[s]);
        float *p = m.params + off;
        const float *gs = g + off;
        size_t pick[N_TOP + N_RANDOM];
        int n_pick = 0;
        // the N_TOP largest |g|, then N_RANDOM others
        for (int t = 0; t < N_TOP && t < (int)k; t++) {
            size_t best = k;
            for (size_t j = 0; j < k; j++) {
                int taken = 0;
                for (int q = 0; q < n_pick; q++) taken |= pick[q] == j;
                if (!taken && (best == k || fabsf(gs[j]) > fabsf(gs[best]))) best = j;
            }
            pick[n_pick++] = best;
        }
        for (int r = 0; r < N_RANDOM && (size_t)n_pick < k; r++) {
            size_t j;
            int taken;
            do {
                j = next_u32() % k;
                taken = 0;
                for (int q = 0; q < n_pick; q++) taken |= pick[q] == j;
            } while (taken);
            pick[n_pick++] = j;
        }
        int tensor_ok = 1;
        double top_fd = 0;
        for (int q = 0; q < n_pick; q++) {
            size_t j = pick[q];
            float w0 = p[j];
            double f[4];
            static const double mult[4] = {1, -1, 2, -2};
            for (int z = 0; z < 4; z++) {
                p[j] = w0 + (float)(mult[z] * H_STEP);
                f[z] = loss_of(&m, ids);
            }
            p[j] = w0;
            // five-point stencil: truncation error O(h^4)
            double fdv = (8 * (f[0] - f[1]) - (f[2] - f[3])) / (12 * H_STEP);
            double fd = fdv, an = gs[j];
            double ratio = fabs(fd - an) / (RTOL * fabs(an) + ATOL);
            if (ratio > worst_ratio) worst_ratio = ratio, worst_ratio_name = specs[s].name;
            if (q < N_TOP && fabs(an) > 100 * ATOL) {
                double rel = fabs(fd - an) / fabs(an);
                if (rel > worst_top_rel) worst_top_rel = rel, worst_top_name = specs[s].name;
            }
            if (q == 0) top_fd = fd;
            n_checked++;
            if (!passes(fd, an)) {
                tensor_ok = 0;
                n_bad++;
                printf("      %s[%zu]: analytic %.6e, finite difference %.6e\n", specs[s].name, j, an, fd);
            }
        }
        // A gradient 5% too large must fail at the tensor's largest entry, unless the
        // tensor's gradient is zero in exact arithmetic (then both sides are rounding noise).
        if (n_pick && fabs(gs[pick[0]]) > 1e-3 * gmax_all) {
            n_scaled++;
            n_scaled_caught += !passes(top_fd, WRONG_SCALE * gs[pick[0]]);
        }
        if (!tensor_ok) printf("FAIL  %s: %s: finite differences disagree\n", fm->name, specs[s].name);
        off += k;
    }
    CHECK(off == m.n_params, "%s: the tensors cover all %zu parameters", fm->name, m.n_params);
    CHECK(n_bad == 0, "%s: %zu tensors, %d entries: |fd - g| <= %g |g| + %g everywhere (loss %.4f; "
          "worst |fd - g| / tolerance %.3f at %s; worst relative error at the largest entries %.2e at %s)",
          fm->name, n_specs, n_checked, RTOL, ATOL, loss0, worst_ratio, worst_ratio_name, worst_top_rel,
          worst_top_name);
    CHECK(n_scaled > 0 && n_scaled_caught == n_scaled,
          "%s: the gradient scaled by %.2f fails at the largest entry of %d of %d tensors with a "
          "nonzero gradient (all must)", fm->name, WRONG_SCALE, n_scaled_caught, n_scaled);
    omp_set_num_threads(threads);
    free(specs);
    free(g);
    model_free(&m);
}

int main(void) {
    if (fixture_init("test_grad_fd")) return 1;
    for (size_t i = 0; i < N_MODELS; i++) check_model(&models[i]);
    fixture_cleanup();
    return check_summary();
}
