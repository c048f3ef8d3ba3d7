// model.c: model assembly — loading HF weights into one fp32 allocation, the activation
// arena, the forward pass through the layers of layers.c, and the masked cross-entropy.
//
// The architectures differ only in switches of ModelConfig (config.h): norm kind, learned
// positions or RoPE, GELU or SwiGLU, biases, tied head. tests/torch/reference.py is the
// executable spec; tests/cli/model_parity.sh compares against it.
#include "model/model.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/layers.h"
#include "model/safetensors.h"
#include "model/vmath.h"

// ----------------------------------------------------------------------------- weights

// The loaded tensor list: specs in model_config_tensors order, each at offs[i] in params.
typedef struct {
    const ModelTensorSpec *specs;
    const size_t *offs;
    size_t n;
    float *params;
} ParamTable;

static const float *param_get(const ParamTable *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

// The fp32 weights of the tensor named by fmt, or NULL when the config has none.
static const float *param_get(const ParamTable *p, const char *fmt, ...) {
    char name[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->specs[i].name, name)) return p->params + p->offs[i];
    return NULL;
}

// Checks that b starts right where a (n floats) ends, so a and b act as one fused matrix.
static int adjacent(const float *a, size_t n, const float *b, const char *what, Err *e) {
    if (a && b && a + n == b) return 0;
    return ERR(e, ERR_FORMAT, "internal: %s weights are not adjacent", what);
}

static int carve_gpt2(Model *m, const ParamTable *p, Err *e) {
    ModelWeights *w = &m->w;
    w->wte = param_get(p, "transformer.wte.weight");
    w->wpe = param_get(p, "transformer.wpe.weight");
    for (int l = 0; l < m->cfg.n_layer; l++) {
        LayerWeights *lw = &w->layers[l];
        const char *h = "transformer.h";
        lw->ln1_w = param_get(p, "%s.%d.ln_1.weight", h, l);
        lw->ln1_b = param_get(p, "%s.%d.ln_1.bias", h, l);
        lw->qkv_w = param_get(p, "%s.%d.attn.c_attn.weight", h, l);
        lw->qkv_b = param_get(p, "%s.%d.attn.c_attn.bias", h, l);
        lw->o_w = param_get(p, "%s.%d.attn.c_proj.weight", h, l);
        lw->o_b = param_get(p, "%s.%d.attn.c_proj.bias", h, l);
        lw->ln2_w = param_get(p, "%s.%d.ln_2.weight", h, l);
        lw->ln2_b = param_get(p, "%s.%d.ln_2.bias", h, l);
        lw->fc_w = param_get(p, "%s.%d.mlp.c_fc.weight", h, l);
        lw->fc_b = param_get(p, "%s.%d.mlp.c_fc.bias", h, l);
        lw->proj_w = param_get(p, "%s.%d.mlp.c_proj.weight", h, l);
        lw->proj_b = param_get(p, "%s.%d.mlp.c_proj.bias", h, l);
    }
    w->lnf_w = param_get(p, "transformer.ln_f.weight");
    w->lnf_b = param_get(p, "transformer.ln_f.bias");
    w->head = w->wte;
    return 0;
}

// Llama/Qwen2: q, k, v (and gate, up) are adjacent in the allocation, so each group is
// used as one fused matrix (QKV,C) or (2F,C), with its biases likewise.
static int carve_llama_layer(Model *m, const ParamTable *p, int l, Err *e) {
    const ModelConfig *c = &m->cfg;
    LayerWeights *lw = &m->w.layers[l];
    size_t C = c->hidden_size, F = c->intermediate_size, Q = (size_t)c->n_head * c->head_dim,
           KV = (size_t)c->n_kv_head * c->head_dim;
    const char *y = "model.layers";
    lw->ln1_w = param_get(p, "%s.%d.input_layernorm.weight", y, l);
    lw->qkv_w = param_get(p, "%s.%d.self_attn.q_proj.weight", y, l);
    if (adjacent(lw->qkv_w, Q * C, param_get(p, "%s.%d.self_attn.k_proj.weight", y, l), "k_proj", e) ||
        adjacent(lw->qkv_w, (Q + KV) * C, param_get(p, "%s.%d.self_attn.v_proj.weight", y, l), "v_proj", e))
        return -1;
    if (c->qkv_bias) {
        lw->qkv_b = param_get(p, "%s.%d.self_attn.q_proj.bias", y, l);
        if (adjacent(lw->qkv_b, Q, param_get(p, "%s.%d.self_attn.k_proj.bias", y, l), "k bias", e) ||
            adjacent(lw->qkv_b, Q + KV, param_get(p, "%s.%d.self_attn.v_proj.bias", y, l), "v bias", e))
            return -1;
    }
    lw->o_w = param_get(p, "%s.%d.self_attn.o_proj.weight", y, l);
    lw->o_b = param_get(p, "%s.%d.self_attn.o_proj.bias", y, l);
    lw->ln2_w = param_get(p, "%s.%d.post_attention_layernorm.weight", y, l);
    lw->fc_w = param_get(p, "%s.%d.mlp.gate_proj.weight", y, l);
    if (adjacent(lw->fc_w, F * C, param_get(p, "%s.%d.mlp.up_proj.weight", y, l), "up_proj", e))
        return -1;
    if (c->mlp_bias) {
        lw->fc_b = param_get(p, "%s.%d.mlp.gate_proj.bias", y, l);
        if (adjacent(lw->fc_b, F, param_get(p, "%s.%d.mlp.up_proj.bias", y, l), "up bias", e))
            return -1;
    }
    lw->proj_w = param_get(p, "%s.%d.mlp.down_proj.weight", y, l);
    lw->proj_b = param_get(p, "%s.%d.mlp.down_proj.bias", y, l);
    return 0;
}

static int carve_llama(Model *m, const ParamTable *p, Err *e) {
    ModelWeights *w = &m->w;
    w->wte = param_get(p, "model.embed_tokens.weight");
    for (int l = 0; l < m->cfg.n_layer; l++)
        if (carve_llama_layer(m, p, l, e)) return -1;
    w->lnf_w = param_get(p, "model.norm.weight");
    w->head = m->cfg.tied ? w->wte : param_get(p, "lm_head.weight");
    return 0;
}

// inv_freq[i] = theta^(-2i/D) in double, optionally Llama 3 scaled, then rounded to float
// and multiplied by the position in float, as reference.py and HF do.
static double rope_llama3_scale(const ModelConfig *c, double inv) {
    double ctx = c->rope_original_max_position, lo = c->rope_low_freq_factor,
           hi = c->rope_high_freq_factor, wavelen = 2.0 * M_PI / inv;
    if (wavelen > ctx / lo) return inv / c->rope_factor;  // long wavelengths: slowed
    if (wavelen < ctx / hi) return inv;                   // short ones: kept
    double blend = (ctx / wavelen - lo) / (hi - lo);
    return (1.0 - blend) * inv / c->rope_factor + blend * inv;
}

static int rope_tables(Model *m, Err *e) {
    const ModelConfig *c = &m->cfg;
    int half = c->head_dim / 2;
    size_t n = (size_t)c->max_position * half;
    m->rope_cos = malloc(n * sizeof(float));
    m->rope_sin = malloc(n * sizeof(float));
    if (!m->rope_cos || !m->rope_sin) return ERR(e, ERR_NOMEM, "out of memory for RoPE tables");
    for (int i = 0; i < half; i++) {
        double inv = 1.0 / pow(c->rope_theta, (double)(2 * i) / c->head_dim);
        if (c->rope_llama3) inv = rope_llama3_scale(c, inv);
        float f = (float)inv;
        for (int p = 0; p < c->max_position; p++) {
            float ang = (float)p * f;
            m->rope_cos[(size_t)p * half + i] = cosf(ang);
            m->rope_sin[(size_t)p * half + i] = sinf(ang);
        }
    }
    return 0;
}

// Converts every tensor of d into one fp32 allocation, in spec order, and carves m->w.
static int load_weights(Model *m, const StDir *d, Err *e) {
    ModelTensorSpec *specs = NULL;
    size_t n = 0, *offs = NULL;
    if (model_config_tensors(&m->cfg, &specs, &n, e)) return -1;
    int rc = -1;
    if (!(offs = malloc(n * sizeof *offs))) goto nomem;
    for (size_t i = 0; i < n; i++) {
        offs[i] = m->n_params;
        m->n_params += (size_t)specs[i].shape[0] * (specs[i].ndim == 2 ? (size_t)specs[i].shape[1] : 1);
    }
    if (!(m->params = malloc(m->n_params * sizeof(float)))) goto nomem;
    for (size_t i = 0; i < n; i++) {
        const StTensor *t = model_find_tensor(d, &specs[i]);
        if (!t) {  // model_config_check ran first, so this is a caller's mistake
            ERR(e, ERR_FORMAT, "%s: tensor %s: missing", d->dir, specs[i].name);
            goto done;
        }
        if (st_to_f32(t, m->params + offs[i], e)) {
            err_prefix(e, "%s: tensor %s: ", t->file, specs[i].name);
            goto done;
        }
    }
    if (!(m->w.layers = calloc((size_t)m->cfg.n_layer, sizeof *m->w.layers))) goto nomem;
    ParamTable p = {specs, offs, n, m->params};
    rc = m->cfg.arch == MODEL_ARCH_GPT2 ? carve_gpt2(m, &p, e) : carve_llama(m, &p, e);
    goto done;
nomem:
    ERR(e, ERR_NOMEM, "out of memory for %zu weights", m->n_params);
done:
    free(specs);
    free(offs);
    return rc;
}

int model_load(Model *m, const char *dir, Err *e) {
    memset(m, 0, sizeof *m);
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    StDir d = {0};
    int rc = -1;
    if (model_config_load(&m->cfg, path, e)) return -1;
    if (st_dir_open(&d, dir, e) || model_config_check(&m->cfg, &d, e) || load_weights(m, &d, e))
        goto done;
    if (m->cfg.pos == MODEL_POS_ROPE && rope_tables(m, e)) goto done;
    rc = 0;
done:
    st_dir_close(&d);
    if (rc) model_free(m);
    return rc;
}

void model_free(Model *m) {
    free(m->params);
    free(m->w.layers);
    free(m->rope_cos);
    free(m->rope_sin);
    free(m->acts.layers);
    free(m->arena);
    free(m->grads);
    free(m->grad_arena);
    memset(m, 0, sizeof *m);
}

// ----------------------------------------------------------------------------- activations

// Hands out 64-byte aligned pieces of one block; with base NULL it only counts.
typedef struct {
    char *base;
    size_t off;
} Carver;

static void *carve(Carver *cv, size_t bytes) {
    void *p = cv->base ? cv->base + cv->off : NULL;
    cv->off += (bytes + 63) & ~(size_t)63;
    return p;
}

static void carve_acts(const ModelConfig *c, ModelActs *a, Carver *cv) {
    size_t N = (size_t)a->B * a->T, C = c->hidden_size, F = c->intermediate_size, f = sizeof(float),
           QKV = (size_t)(c->n_head + 2 * c->n_kv_head) * c->head_dim, HD = (size_t)c->n_head * c->head_dim,
           FH = c->mlp == MODEL_MLP_SWIGLU ? 2 * F : F;
    a->ids = carve(cv, N * sizeof(int32_t));
    a->doc = carve(cv, N * sizeof(int32_t));
    a->pos = carve(cv, N * sizeof(int32_t));
    for (int l = 0; l < c->n_layer; l++) {
        LayerActs *la = &a->layers[l];
        la->resid = carve(cv, N * C * f);
        la->ln1 = carve(cv, N * C * f);
        la->ln1_mean = carve(cv, N * f);
        la->ln1_rstd = carve(cv, N * f);
        la->qkv = carve(cv, N * QKV * f);
        la->att = carve(cv, N * (size_t)a->T * c->n_head * f);
        la->atty = carve(cv, N * HD * f);
        la->attproj = carve(cv, N * C * f);
        la->resid2 = carve(cv, N * C * f);
        la->ln2 = carve(cv, N * C * f);
        la->ln2_mean = carve(cv, N * f);
        la->ln2_rstd = carve(cv, N * f);
        la->fch = carve(cv, N * FH * f);
        la->fch_act = carve(cv, N * F * f);
        la->fcproj = carve(cv, N * C * f);
    }
    a->out = carve(cv, N * C * f);
    a->lnf = carve(cv, N * C * f);
    a->lnf_mean = carve(cv, N * f);
    a->lnf_rstd = carve(cv, N * f);
    a->logits = carve(cv, N * (size_t)c->vocab_size * f);
    a->lse = carve(cv, N * f);
}

static int acts_alloc(Model *m, int B, int T, Err *e) {
    ModelActs *a = &m->acts;
    if (!(a->layers = calloc((size_t)m->cfg.n_layer, sizeof *a->layers)))
        return ERR(e, ERR_NOMEM, "out of memory");
    a->B = B;
    a->T = T;
    Carver cv = {0};
    carve_acts(&m->cfg, a, &cv);
    if (!(m->arena = malloc(cv.off))) {
        free(a->layers);
        memset(a, 0, sizeof *a);
        return ERR(e, ERR_NOMEM, "out of memory for activations (%zu bytes, B=%d T=%d)", cv.off, B, T);
    }
    m->arena_bytes = cv.off;
    m->cap_B = B;
    m->cap_T = T;
    cv = (Carver){m->arena, 0};
    carve_acts(&m->cfg, a, &cv);
    return 0;
}

// ----------------------------------------------------------------------------- forward

static void norm_forward(const Model *m, float *out, float *mean, float *rstd, const float *inp,
                         const float *w, const float *b, size_t N) {
    const ModelConfig *c = &m->cfg;
    if (c->norm == MODEL_NORM_LAYERNORM)
        layernorm_forward(out, mean, rstd, inp, w, b, N, c->hidden_size, (float)c->norm_eps);
    else
        rmsnorm_forward(out, rstd, inp, w, N, c->hidden_size, (float)c->norm_eps);
}

// One block: x (B,T,C) = la->resid -> next (B,T,C).
static void block_forward(Model *m, int l, float *next) {
    const ModelConfig *c = &m->cfg;
    const LayerWeights *w = &m->w.layers[l];
    LayerActs *la = &m->acts.layers[l];
    int B = m->acts.B, T = m->acts.T, C = c->hidden_size, F = c->intermediate_size,
        H = c->n_head, KVH = c->n_kv_head, D = c->head_dim, QKV = (H + 2 * KVH) * D;
    size_t N = (size_t)B * T;
    MatLayout lay = c->arch == MODEL_ARCH_GPT2 ? MAT_IN_OUT : MAT_OUT_IN;
    int swiglu = c->mlp == MODEL_MLP_SWIGLU;

    norm_forward(m, la->ln1, la->ln1_mean, la->ln1_rstd, la->resid, w->ln1_w, w->ln1_b, N);
    matmul_forward(la->qkv, la->ln1, w->qkv_w, w->qkv_b, N, C, QKV, lay);
    if (c->pos == MODEL_POS_ROPE)
        rope_forward(la->qkv, m->acts.pos, m->rope_cos, m->rope_sin, N, H, KVH, D);
    attention_forward(la->atty, la->att, la->qkv, m->acts.doc, B, T, H, KVH, D);
    matmul_forward(la->attproj, la->atty, w->o_w, w->o_b, N, H * D, C, lay);
    residual_forward(la->resid2, la->resid, la->attproj, N, C);

    norm_forward(m, la->ln2, la->ln2_mean, la->ln2_rstd, la->resid2, w->ln2_w, w->ln2_b, N);
    matmul_forward(la->fch, la->ln2, w->fc_w, w->fc_b, N, C, swiglu ? 2 * F : F, lay);
    if (swiglu) swiglu_forward(la->fch_act, la->fch, N, F);
    else gelu_forward(la->fch_act, la->fch, N, F);
    matmul_forward(la->fcproj, la->fch_act, w->proj_w, w->proj_b, N, F, C, lay);
    residual_forward(next, la->resid2, la->fcproj, N, C);
}

static int forward_check(const Model *m, const int32_t *ids, int B, int T, Err *e) {
    const ModelConfig *c = &m->cfg;
    if (B <= 0 || T <= 0) return ERR(e, ERR_ARG, "forward: empty batch (B=%d, T=%d)", B, T);
    if (m->arena && (B > m->cap_B || T > m->cap_T))
        return ERR(e, ERR_ARG, "forward: batch (B=%d, T=%d) larger than the first one (B=%d, T=%d)",
                   B, T, m->cap_B, m->cap_T);
    if (c->pos == MODEL_POS_LEARNED && T > c->max_position)
        return ERR(e, ERR_ARG, "forward: %d tokens, but the model has %d positions", T, c->max_position);
    for (size_t i = 0; i < (size_t)B * T; i++)
        if (ids[i] < 0 || ids[i] >= c->vocab_size)
            return ERR(e, ERR_ARG, "token id %d at position %zu (row %zu): outside the vocabulary [0, %d)",
                       ids[i], i % T, i / T, c->vocab_size);
    return 0;
}

int model_forward(Model *m, const int32_t *ids, const int32_t *doc, int B, int T, Err *e) {
    if (forward_check(m, ids, B, T, e)) return -1;
    if (!m->arena && acts_alloc(m, B, T, e)) return -1;
    const ModelConfig *c = &m->cfg;
    ModelActs *a = &m->acts;
    // A smaller batch reuses the arena with the first (B,T) strides ignored: the pointers
    // were carved for the larger size and every layer indexes by the B,T it is given.
    a->B = B;
    a->T = T;
    size_t N = (size_t)B * T;
    memcpy(a->ids, ids, N * sizeof *ids);
    if (doc) memcpy(a->doc, doc, N * sizeof *doc);
    else memset(a->doc, 0, N * sizeof *a->doc);
    positions_forward(a->pos, a->doc, B, T);
    if (c->pos == MODEL_POS_ROPE)
        for (size_t i = 0; i < N; i++)
            if (a->pos[i] >= c->max_position)
                return ERR(e, ERR_ARG, "forward: position %d beyond the RoPE table (%d positions)",
                           a->pos[i], c->max_position);
    embed_forward(a->layers[0].resid, a->ids, a->pos, m->w.wte, m->w.wpe, N, c->hidden_size);
    for (int l = 0; l < c->n_layer; l++)
        block_forward(m, l, l + 1 < c->n_layer ? a->layers[l + 1].resid : a->out);
    norm_forward(m, a->lnf, a->lnf_mean, a->lnf_rstd, a->out, m->w.lnf_w, m->w.lnf_b, N);
    matmul_forward(a->logits, a->lnf, m->w.head, NULL, N, c->hidden_size, c->vocab_size, MAT_OUT_IN);
    a->lse_ready = 0;
    return 0;
}

// ----------------------------------------------------------------------------- loss

// lse (N) = log sum exp of each logits row (N,V): the max in float, the sum of the
// exponentials (vexpf, vectorized) in double.
void model_logsumexp_rows(float *lse, const float *logits, size_t N, int V) {
#pragma omp parallel for schedule(static) if (N * V >= PAR_MIN)
    for (size_t n = 0; n < N; n++) {
        const float *z = logits + n * V;
        float mx = z[0];
#pragma omp simd reduction(max : mx)
        for (int i = 1; i < V; i++) mx = z[i] > mx ? z[i] : mx;
        double s = 0.0;
#pragma omp simd reduction(+ : s)
        for (int i = 0; i < V; i++) s += vexpf(z[i] - mx);
        lse[n] = (float)(mx + log(s));
    }
}

int model_loss(Model *m, const float *mask, double normaliser, float *logp, double *loss,
               int *count, Err *e) {
    ModelActs *a = &m->acts;
    if (!m->arena) return ERR(e, ERR_ARG, "loss: no forward has run");
    int B = a->B, T = a->T, V = m->cfg.vocab_size;
    model_logsumexp_rows(a->lse, a->logits, (size_t)B * T, V);
    a->lse_ready = 1;
    double sum = 0.0;
    int n = 0;
    for (int b = 0; b < B; b++) {
        for (int t = 0; t < T; t++) {
            size_t i = (size_t)b * T + t;
            float lp = 0.0f;
            if (t > 0) lp = a->logits[(i - 1) * V + a->ids[i]] - a->lse[i - 1];
            if (logp) logp[i] = lp;
            float wgt = t == 0 ? 0.0f : mask ? mask[i] : 1.0f;
            if (wgt == 0.0f) continue;
            sum += -(double)lp * wgt;
            n++;
        }
    }
    if (normaliser <= 0) normaliser = n;
    *loss = n ? sum / normaliser : 0.0;
    if (count) *count = n;
    return 0;
}
