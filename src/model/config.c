// config.c: config.json <-> ModelConfig, and the checkpoint tensors a config implies.
//
// Fields and defaults follow transformers' GPT2Config, LlamaConfig and Qwen2Config. Sizes
// are required (a default there would silently build a different model); the rest take
// the class defaults. A present field of the wrong type is always an error. Tensor names
// follow modeling_gpt2.py (Conv1D weights stored (in, out)) and modeling_llama.py /
// modeling_qwen2.py (nn.Linear weights stored (out, in)).
#include "model/config.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/file.h"

static const char *arch_names[] = {"GPT2LMHeadModel", "LlamaForCausalLM", "Qwen2ForCausalLM"};
static const char *model_types[] = {"gpt2", "llama", "qwen2"};

const char *model_arch_name(ModelArch a) { return a <= MODEL_ARCH_QWEN2 ? arch_names[a] : "?"; }

bool model_doc_bos(const ModelConfig *c, int32_t bos_id) { return c->arch != MODEL_ARCH_GPT2 && bos_id >= 0; }

// ---------------------------------------------------------------------------------------
// Typed field access: each either fills *out or fails naming path and key.

typedef struct {
    const cJSON *root;
    const char *path;
    Err *e;
} Fields;

static const cJSON *field(const Fields *f, const char *key) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(f->root, key);
    return cJSON_IsNull(j) ? NULL : j;  // null reads as absent: HF writes null for "unset"
}

static int is_int(const cJSON *j) {
    return cJSON_IsNumber(j) && j->valuedouble == floor(j->valuedouble) &&
           fabs(j->valuedouble) < 2147483648.0;
}

// A positive integer; absent takes def, or is an error when def is 0.
static int get_pos_int(const Fields *f, const char *key, int def, int *out) {
    const cJSON *j = field(f, key);
    if (!j && def > 0) return *out = def, 0;
    if (!is_int(j) || j->valuedouble < 1)
        return ERR(f->e, ERR_FORMAT, "%s: %s: expected a positive integer%s", f->path, key,
                   j ? "" : " (missing)");
    *out = (int)j->valuedouble;
    return 0;
}

static int get_pos_num(const Fields *f, const char *key, double def, double *out) {
    const cJSON *j = field(f, key);
    if (!j && def > 0) return *out = def, 0;
    if (!cJSON_IsNumber(j) || !(j->valuedouble > 0) || isinf(j->valuedouble))
        return ERR(f->e, ERR_FORMAT, "%s: %s: expected a positive number%s", f->path, key,
                   j ? "" : " (missing)");
    *out = j->valuedouble;
    return 0;
}

static int get_bool(const Fields *f, const char *key, bool def, bool *out) {
    const cJSON *j = field(f, key);
    if (!j) return *out = def, 0;
    if (!cJSON_IsBool(j)) return ERR(f->e, ERR_FORMAT, "%s: %s: expected true or false", f->path, key);
    *out = cJSON_IsTrue(j);
    return 0;
}

// A string that must be one of the allowed values (absent: the first).
static int get_choice(const Fields *f, const char *key, const char *const *allowed, int n) {
    const cJSON *j = field(f, key);
    if (!j) return 0;
    if (cJSON_IsString(j))
        for (int i = 0; i < n; i++)
            if (strcmp(j->valuestring, allowed[i]) == 0) return 0;
    return ERR(f->e, ERR_UNSUPPORTED, "%s: %s: expected \"%s\"%s", f->path, key, allowed[0],
               n > 1 ? " (or an equivalent)" : "");
}

// bos_token_id: an id or absent; eos_token_id: an id, a list of ids, or absent.
static int get_token_ids(const Fields *f, ModelConfig *c) {
    const cJSON *b = field(f, "bos_token_id"), *s = field(f, "eos_token_id");
    c->bos_id = -1;
    if (b && (!is_int(b) || b->valuedouble < 0))
        return ERR(f->e, ERR_FORMAT, "%s: bos_token_id: expected a token id", f->path);
    if (b) c->bos_id = (int)b->valuedouble;
    const cJSON *one = cJSON_IsArray(s) ? s->child : s;
    for (; one; one = cJSON_IsArray(s) ? one->next : NULL) {
        if (!is_int(one) || one->valuedouble < 0 || c->n_eos == MODEL_MAX_EOS)
            return ERR(f->e, ERR_FORMAT, "%s: eos_token_id: expected a token id or a list of at "
                       "most %d", f->path, MODEL_MAX_EOS);
        c->eos_ids[c->n_eos++] = (int)one->valuedouble;
    }
    return 0;
}

// ---------------------------------------------------------------------------------------
// Per architecture

static int parse_gpt2(const Fields *f, ModelConfig *c) {
    static const char *const act[] = {"gelu_new", "gelu_pytorch_tanh"};
    const cJSON *inner = field(f, "n_inner");
    if (get_pos_int(f, "vocab_size", 0, &c->vocab_size) || get_pos_int(f, "n_embd", 0, &c->hidden_size) ||
        get_pos_int(f, "n_layer", 0, &c->n_layer) || get_pos_int(f, "n_head", 0, &c->n_head) ||
        get_pos_int(f, "n_positions", 1024, &c->max_position) ||
        get_pos_num(f, "layer_norm_epsilon", 1e-5, &c->norm_eps) ||
        get_choice(f, "activation_function", act, 2) || get_bool(f, "tie_word_embeddings", true, &c->tied))
        return -1;
    c->intermediate_size = 4 * c->hidden_size;
    if (inner && get_pos_int(f, "n_inner", 0, &c->intermediate_size)) return -1;
    // Attention variants GPT2Config can switch on; the model code implements plain GPT-2.
    bool by_layer = false, upcast = false, scaled = true;
    if (get_bool(f, "scale_attn_by_inverse_layer_idx", false, &by_layer) ||
        get_bool(f, "reorder_and_upcast_attn", false, &upcast) ||
        get_bool(f, "scale_attn_weights", true, &scaled))
        return -1;
    if (by_layer || upcast || !scaled)
        return ERR(f->e, ERR_UNSUPPORTED, "%s: %s: this GPT-2 attention variant is not supported",
                   f->path, by_layer ? "scale_attn_by_inverse_layer_idx" : upcast ?
                   "reorder_and_upcast_attn" : "scale_attn_weights");
    if (c->hidden_size % c->n_head)
        return ERR(f->e, ERR_FORMAT, "%s: n_head: %d does not divide n_embd %d", f->path, c->n_head,
                   c->hidden_size);
    c->n_kv_head = c->n_head;
    c->head_dim = c->hidden_size / c->n_head;
    c->norm = MODEL_NORM_LAYERNORM;
    c->pos = MODEL_POS_LEARNED;
    c->mlp = MODEL_MLP_GELU;
    c->qkv_bias = c->o_bias = c->mlp_bias = true;
    return 0;
}

static int parse_rope_scaling(const Fields *f, ModelConfig *c) {
    const cJSON *rs = field(f, "rope_scaling");
    if (!rs) return 0;
    if (!cJSON_IsObject(rs))
        return ERR(f->e, ERR_FORMAT, "%s: rope_scaling: expected an object or null", f->path);
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(rs, "rope_type");
    if (!type) type = cJSON_GetObjectItemCaseSensitive(rs, "type");
    if (cJSON_IsString(type) && strcmp(type->valuestring, "default") == 0) return 0;
    if (!cJSON_IsString(type) || strcmp(type->valuestring, "llama3") != 0)
        return ERR(f->e, ERR_UNSUPPORTED, "%s: rope_scaling.rope_type: \"%s\" is not supported "
                   "(llama3 and default are)", f->path, cJSON_IsString(type) ? type->valuestring : "?");
    char sub_path[512];
    snprintf(sub_path, sizeof sub_path, "%s: rope_scaling", f->path);
    Fields sub = {rs, sub_path, f->e};
    c->rope_llama3 = true;
    if (get_pos_num(&sub, "factor", 0, &c->rope_factor) ||
        get_pos_num(&sub, "low_freq_factor", 0, &c->rope_low_freq_factor) ||
        get_pos_num(&sub, "high_freq_factor", 0, &c->rope_high_freq_factor) ||
        get_pos_int(&sub, "original_max_position_embeddings", 0, &c->rope_original_max_position))
        return -1;
    if (c->rope_high_freq_factor <= c->rope_low_freq_factor)
        return ERR(f->e, ERR_FORMAT, "%s: rope_scaling: high_freq_factor must exceed low_freq_factor",
                   f->path);
    return 0;
}

// Llama and Qwen2 share their fields; Qwen2 adds q/k/v biases and has no sliding window here.
static int parse_llama(const Fields *f, ModelConfig *c) {
    static const char *const act[] = {"silu", "swish"};
    bool attn_bias = false, mlp_bias = false, sliding = false;
    int qwen = c->arch == MODEL_ARCH_QWEN2;
    if (get_pos_int(f, "vocab_size", 0, &c->vocab_size) || get_pos_int(f, "hidden_size", 0, &c->hidden_size) ||
        get_pos_int(f, "intermediate_size", 0, &c->intermediate_size) ||
        get_pos_int(f, "num_hidden_layers", 0, &c->n_layer) ||
        get_pos_int(f, "num_attention_heads", 0, &c->n_head) ||
        get_pos_int(f, "num_key_value_heads", c->n_head, &c->n_kv_head) ||
        get_pos_int(f, "max_position_embeddings", qwen ? 32768 : 2048, &c->max_position) ||
        get_pos_num(f, "rms_norm_eps", 1e-6, &c->norm_eps) ||
        get_pos_num(f, "rope_theta", 10000, &c->rope_theta) || get_choice(f, "hidden_act", act, 2) ||
        get_bool(f, "tie_word_embeddings", false, &c->tied) ||
        get_bool(f, "attention_bias", false, &attn_bias) || get_bool(f, "mlp_bias", false, &mlp_bias) ||
        get_bool(f, "use_sliding_window", false, &sliding) || parse_rope_scaling(f, c))
        return -1;
    if (qwen && sliding)
        return ERR(f->e, ERR_UNSUPPORTED, "%s: use_sliding_window: true is not supported", f->path);
    if (c->n_head % c->n_kv_head)
        return ERR(f->e, ERR_FORMAT, "%s: num_key_value_heads: %d does not divide num_attention_heads %d",
                   f->path, c->n_kv_head, c->n_head);
    if (!field(f, "head_dim") && c->hidden_size % c->n_head)
        return ERR(f->e, ERR_FORMAT, "%s: num_attention_heads: %d does not divide hidden_size %d",
                   f->path, c->n_head, c->hidden_size);
    if (get_pos_int(f, "head_dim", c->hidden_size / c->n_head, &c->head_dim)) return -1;
    if (c->head_dim % 2)
        return ERR(f->e, ERR_FORMAT, "%s: head_dim: %d is odd (RoPE rotates pairs)", f->path, c->head_dim);
    c->norm = MODEL_NORM_RMSNORM;
    c->pos = MODEL_POS_ROPE;
    c->mlp = MODEL_MLP_SWIGLU;
    c->qkv_bias = qwen || attn_bias;
    c->o_bias = !qwen && attn_bias;
    c->mlp_bias = !qwen && mlp_bias;
    return 0;
}

// The architecture: architectures[0] if given, else model_type.
static int parse_arch(const Fields *f, ModelArch *a) {
    const cJSON *archs = field(f, "architectures"), *mt = field(f, "model_type");
    const cJSON *name = cJSON_IsArray(archs) ? archs->child : archs;
    const char *const *table = name ? arch_names : model_types;
    if (!name) name = mt;
    if (!cJSON_IsString(name))
        return ERR(f->e, ERR_FORMAT, "%s: architectures: expected [\"GPT2LMHeadModel\"], "
                   "[\"LlamaForCausalLM\"] or [\"Qwen2ForCausalLM\"]", f->path);
    for (int i = 0; i <= MODEL_ARCH_QWEN2; i++)
        if (strcmp(name->valuestring, table[i]) == 0) return *a = (ModelArch)i, 0;
    return ERR(f->e, ERR_UNSUPPORTED, "%s: %s: %s is not supported (GPT2LMHeadModel, "
               "LlamaForCausalLM and Qwen2ForCausalLM are)", f->path, table == arch_names ?
               "architectures" : "model_type", name->valuestring);
}

int model_config_parse(ModelConfig *c, const char *json, size_t len, const char *path, Err *e) {
    memset(c, 0, sizeof *c);
    cJSON *root = cJSON_ParseWithLength(json, len);
    Fields f = {root, path, e};
    int rc = 0;
    if (!cJSON_IsObject(root)) rc = ERR(e, ERR_FORMAT, "%s: not a valid JSON object", path);
    else if (!(rc = parse_arch(&f, &c->arch)))
        rc = c->arch == MODEL_ARCH_GPT2 ? parse_gpt2(&f, c) : parse_llama(&f, c);
    if (!rc) rc = get_token_ids(&f, c);
    cJSON_Delete(root);
    if (rc) memset(c, 0, sizeof *c);
    return rc;
}

int model_config_load(ModelConfig *c, const char *path, Err *e) {
    char *text;
    size_t len;
    if (file_read_all(path, &text, &len, e)) return -1;
    int rc = model_config_parse(c, text, len, path, e);
    free(text);
    return rc;
}

// ---------------------------------------------------------------------------------------
// Writing

static void add_gpt2(cJSON *o, const ModelConfig *c) {
    cJSON_AddNumberToObject(o, "vocab_size", c->vocab_size);
    cJSON_AddNumberToObject(o, "n_embd", c->hidden_size);
    cJSON_AddNumberToObject(o, "n_layer", c->n_layer);
    cJSON_AddNumberToObject(o, "n_head", c->n_head);
    cJSON_AddNumberToObject(o, "n_positions", c->max_position);
    cJSON_AddNumberToObject(o, "n_ctx", c->max_position);
    if (c->intermediate_size == 4 * c->hidden_size) cJSON_AddNullToObject(o, "n_inner");
    else cJSON_AddNumberToObject(o, "n_inner", c->intermediate_size);
    cJSON_AddStringToObject(o, "activation_function", "gelu_new");
    cJSON_AddNumberToObject(o, "layer_norm_epsilon", c->norm_eps);
}

static void add_llama(cJSON *o, const ModelConfig *c) {
    cJSON_AddNumberToObject(o, "vocab_size", c->vocab_size);
    cJSON_AddNumberToObject(o, "hidden_size", c->hidden_size);
    cJSON_AddNumberToObject(o, "intermediate_size", c->intermediate_size);
    cJSON_AddNumberToObject(o, "num_hidden_layers", c->n_layer);
    cJSON_AddNumberToObject(o, "num_attention_heads", c->n_head);
    cJSON_AddNumberToObject(o, "num_key_value_heads", c->n_kv_head);
    if (c->head_dim * c->n_head != c->hidden_size) cJSON_AddNumberToObject(o, "head_dim", c->head_dim);
    cJSON_AddStringToObject(o, "hidden_act", "silu");
    cJSON_AddNumberToObject(o, "max_position_embeddings", c->max_position);
    cJSON_AddNumberToObject(o, "rms_norm_eps", c->norm_eps);
    cJSON_AddNumberToObject(o, "rope_theta", c->rope_theta);
    if (!c->rope_llama3) {
        cJSON_AddNullToObject(o, "rope_scaling");
    } else {
        cJSON *rs = cJSON_AddObjectToObject(o, "rope_scaling");
        cJSON_AddStringToObject(rs, "rope_type", "llama3");
        cJSON_AddNumberToObject(rs, "factor", c->rope_factor);
        cJSON_AddNumberToObject(rs, "low_freq_factor", c->rope_low_freq_factor);
        cJSON_AddNumberToObject(rs, "high_freq_factor", c->rope_high_freq_factor);
        cJSON_AddNumberToObject(rs, "original_max_position_embeddings", c->rope_original_max_position);
    }
    if (c->arch == MODEL_ARCH_LLAMA) {
        cJSON_AddBoolToObject(o, "attention_bias", c->qkv_bias);
        cJSON_AddBoolToObject(o, "mlp_bias", c->mlp_bias);
    } else {
        cJSON_AddBoolToObject(o, "use_sliding_window", false);
    }
}

int model_config_save(const ModelConfig *c, const char *path, Err *e) {
    return model_config_save_as(c, path, "float32", e);
}

int model_config_save_as(const ModelConfig *c, const char *path, const char *torch_dtype, Err *e) {
    cJSON *o = cJSON_CreateObject();
    cJSON *archs = cJSON_AddArrayToObject(o, "architectures");
    cJSON_AddItemToArray(archs, cJSON_CreateString(model_arch_name(c->arch)));
    cJSON_AddStringToObject(o, "model_type", model_types[c->arch]);
    if (c->arch == MODEL_ARCH_GPT2) add_gpt2(o, c);
    else add_llama(o, c);
    cJSON_AddBoolToObject(o, "tie_word_embeddings", c->tied);
    if (c->bos_id >= 0) cJSON_AddNumberToObject(o, "bos_token_id", c->bos_id);
    if (c->n_eos == 1) cJSON_AddNumberToObject(o, "eos_token_id", c->eos_ids[0]);
    if (c->n_eos > 1) cJSON_AddItemToObject(o, "eos_token_id", cJSON_CreateIntArray(c->eos_ids, c->n_eos));
    cJSON_AddStringToObject(o, "torch_dtype", torch_dtype);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text) return ERR(e, ERR_NOMEM, "%s: out of memory", path);
    size_t n = strlen(text);
    text[n] = '\n';  // cJSON_Print's NUL becomes the final newline; n + 1 bytes are written
    int rc = file_write_atomic(path, text, n + 1, e);
    free(text);
    return rc;
}

// ---------------------------------------------------------------------------------------
// Expected tensors

typedef struct {
    ModelTensorSpec *v;
    size_t n, cap;
} Specs;

static void spec_add(Specs *s, int64_t d0, int64_t d1, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

// Adds one tensor of shape (d0) when d1 is 0, else (d0, d1); the array was sized up front.
static void spec_add(Specs *s, int64_t d0, int64_t d1, const char *fmt, ...) {
    ModelTensorSpec *t = &s->v[s->n++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->name, sizeof t->name, fmt, ap);
    va_end(ap);
    t->ndim = d1 ? 2 : 1;
    t->shape[0] = d0;
    t->shape[1] = d1;
}

static void specs_gpt2(const ModelConfig *c, Specs *s) {
    int64_t C = c->hidden_size, F = c->intermediate_size;
    spec_add(s, c->vocab_size, C, "transformer.wte.weight");
    spec_add(s, c->max_position, C, "transformer.wpe.weight");
    for (int i = 0; i < c->n_layer; i++) {
        const char *h = "transformer.h";
        spec_add(s, C, 0, "%s.%d.ln_1.weight", h, i);
        spec_add(s, C, 0, "%s.%d.ln_1.bias", h, i);
        spec_add(s, C, 3 * C, "%s.%d.attn.c_attn.weight", h, i);  // Conv1D: (in, out)
        spec_add(s, 3 * C, 0, "%s.%d.attn.c_attn.bias", h, i);
        spec_add(s, C, C, "%s.%d.attn.c_proj.weight", h, i);
        spec_add(s, C, 0, "%s.%d.attn.c_proj.bias", h, i);
        spec_add(s, C, 0, "%s.%d.ln_2.weight", h, i);
        spec_add(s, C, 0, "%s.%d.ln_2.bias", h, i);
        spec_add(s, C, F, "%s.%d.mlp.c_fc.weight", h, i);
        spec_add(s, F, 0, "%s.%d.mlp.c_fc.bias", h, i);
        spec_add(s, F, C, "%s.%d.mlp.c_proj.weight", h, i);
        spec_add(s, C, 0, "%s.%d.mlp.c_proj.bias", h, i);
    }
    spec_add(s, C, 0, "transformer.ln_f.weight");
    spec_add(s, C, 0, "transformer.ln_f.bias");
}

static void specs_llama_layer(const ModelConfig *c, Specs *s, int i) {
    int64_t C = c->hidden_size, F = c->intermediate_size, Q = (int64_t)c->n_head * c->head_dim,
            KV = (int64_t)c->n_kv_head * c->head_dim;
    const char *l = "model.layers";
    spec_add(s, C, 0, "%s.%d.input_layernorm.weight", l, i);
    spec_add(s, Q, C, "%s.%d.self_attn.q_proj.weight", l, i);
    spec_add(s, KV, C, "%s.%d.self_attn.k_proj.weight", l, i);
    spec_add(s, KV, C, "%s.%d.self_attn.v_proj.weight", l, i);
    if (c->qkv_bias) {
        spec_add(s, Q, 0, "%s.%d.self_attn.q_proj.bias", l, i);
        spec_add(s, KV, 0, "%s.%d.self_attn.k_proj.bias", l, i);
        spec_add(s, KV, 0, "%s.%d.self_attn.v_proj.bias", l, i);
    }
    spec_add(s, C, Q, "%s.%d.self_attn.o_proj.weight", l, i);
    if (c->o_bias) spec_add(s, C, 0, "%s.%d.self_attn.o_proj.bias", l, i);
    spec_add(s, C, 0, "%s.%d.post_attention_layernorm.weight", l, i);
    spec_add(s, F, C, "%s.%d.mlp.gate_proj.weight", l, i);
    spec_add(s, F, C, "%s.%d.mlp.up_proj.weight", l, i);
    spec_add(s, C, F, "%s.%d.mlp.down_proj.weight", l, i);
    if (c->mlp_bias) {
        spec_add(s, F, 0, "%s.%d.mlp.gate_proj.bias", l, i);
        spec_add(s, F, 0, "%s.%d.mlp.up_proj.bias", l, i);
        spec_add(s, C, 0, "%s.%d.mlp.down_proj.bias", l, i);
    }
}

int model_config_tensors(const ModelConfig *c, ModelTensorSpec **out, size_t *n, Err *e) {
    Specs s = {0};
    s.cap = 8 + (size_t)c->n_layer * 16;  // at most 16 per layer, 4 outside, + lm_head
    if (!(s.v = calloc(s.cap, sizeof *s.v))) return ERR(e, ERR_NOMEM, "out of memory");
    if (c->arch == MODEL_ARCH_GPT2) {
        specs_gpt2(c, &s);
    } else {
        spec_add(&s, c->vocab_size, c->hidden_size, "model.embed_tokens.weight");
        for (int i = 0; i < c->n_layer; i++) specs_llama_layer(c, &s, i);
        spec_add(&s, c->hidden_size, 0, "model.norm.weight");
    }
    if (!c->tied) spec_add(&s, c->vocab_size, c->hidden_size, "lm_head.weight");
    *out = s.v;
    *n = s.n;
    return 0;
}

const StTensor *model_find_tensor(const StDir *d, const ModelTensorSpec *spec) {
    const StTensor *t = st_dir_find(d, spec->name);
    static const char prefix[] = "transformer.";
    if (!t && strncmp(spec->name, prefix, sizeof prefix - 1) == 0)
        t = st_dir_find(d, spec->name + sizeof prefix - 1);
    return t;
}

static void shape_str(char *out, size_t n, int ndim, const int64_t *shape) {
    size_t at = (size_t)snprintf(out, n, "(");
    for (int i = 0; i < ndim && at < n; i++)
        at += (size_t)snprintf(out + at, n - at, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (at < n) snprintf(out + at, n - at, ")");
}

int model_config_check(const ModelConfig *c, const StDir *d, Err *e) {
    ModelTensorSpec *specs;
    size_t n;
    if (model_config_tensors(c, &specs, &n, e)) return -1;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        const ModelTensorSpec *s = &specs[i];
        const StTensor *t = model_find_tensor(d, s);
        char want[64], got[128];
        shape_str(want, sizeof want, s->ndim, s->shape);
        if (!t) {
            rc = ERR(e, ERR_FORMAT, "%s: tensor %s: missing (%s expects it, shape %s)", d->dir,
                     s->name, model_arch_name(c->arch), want);
            break;
        }
        shape_str(got, sizeof got, t->ndim, t->shape);
        if (strcmp(want, got) != 0)
            rc = ERR(e, ERR_FORMAT, "%s: tensor %s: shape %s, but config.json implies %s", t->file,
                     s->name, got, want);
        else if (t->dtype != ST_F32 && t->dtype != ST_F16 && t->dtype != ST_BF16)
            rc = ERR(e, ERR_UNSUPPORTED, "%s: tensor %s: dtype %s (F32, F16 or BF16 expected)", t->file,
                     s->name, st_dtype_name(t->dtype));
    }
    free(specs);
    return rc;
}
