// config.h: a Hugging Face config.json as a ModelConfig, and the tensors it implies.
//
// Three architectures, as transformers defines them (models/gpt2, models/llama and
// models/qwen2, configuration_*.py for the fields and defaults, modeling_*.py for the
// tensor names): GPT2LMHeadModel, LlamaForCausalLM and Qwen2ForCausalLM. Their
// differences are normalised into a few switches (norm, positions, mlp, biases, tied
// head) so the model code needs no per-architecture branches beyond names.
// Shapes: V vocab, C hidden, F MLP inner, L layers, H heads, KVH key/value heads,
// D head dim, P max positions.
#ifndef PT_MODEL_CONFIG_H
#define PT_MODEL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/safetensors.h"
#include "util/err.h"

typedef enum { MODEL_ARCH_GPT2, MODEL_ARCH_LLAMA, MODEL_ARCH_QWEN2 } ModelArch;
typedef enum { MODEL_NORM_LAYERNORM, MODEL_NORM_RMSNORM } ModelNorm;  // LayerNorm has a bias
typedef enum { MODEL_POS_LEARNED, MODEL_POS_ROPE } ModelPos;
typedef enum { MODEL_MLP_GELU, MODEL_MLP_SWIGLU } ModelMlp;  // GELU is the tanh form (gelu_new)

#define MODEL_MAX_EOS 8

typedef struct {
    ModelArch arch;
    int vocab_size;         // V
    int hidden_size;        // C
    int intermediate_size;  // F (GPT-2: n_inner, or 4C when null)
    int n_layer;            // L
    int n_head;             // H
    int n_kv_head;          // KVH (GPT-2: H)
    int head_dim;           // D (C / H unless config.json gives head_dim)
    int max_position;       // P
    double norm_eps;        // layer_norm_epsilon / rms_norm_eps
    ModelNorm norm;
    ModelPos pos;
    ModelMlp mlp;
    bool qkv_bias;          // q/k/v projections have biases (GPT-2, Qwen2, Llama attention_bias)
    bool o_bias;            // output projection has a bias (GPT-2, Llama attention_bias)
    bool mlp_bias;          // MLP projections have biases (GPT-2, Llama mlp_bias)
    bool tied;              // the LM head is the token embedding
    // RoPE (pos == MODEL_POS_ROPE)
    double rope_theta;      // default 10000
    bool rope_llama3;       // rope_scaling {"rope_type": "llama3", ...}; else no scaling
    double rope_factor, rope_low_freq_factor, rope_high_freq_factor;
    int rope_original_max_position;
    int bos_id;             // -1 when absent
    int eos_ids[MODEL_MAX_EOS];  // eos_token_id may be a list (Llama 3)
    int n_eos;
} ModelConfig;

// One expected checkpoint tensor, under HF's name. GPT-2's Conv1D weights are (in, out).
typedef struct {
    char name[96];
    int ndim;
    int64_t shape[2];
} ModelTensorSpec;

const char *model_arch_name(ModelArch a);  // "GPT2LMHeadModel", …
// Whether a plain-text (document) prompt starts with BOS, given the tokenizer's BOS id
// (-1: none). Llama-family models saw one at the start of every training document;
// GPT-2 has no BOS (its <|endoftext|> only separates documents). One rule for sample,
// score and serve's completions.
bool model_doc_bos(const ModelConfig *c, int32_t bos_id);

// Parses config.json text (len bytes); path names the file in messages such as
// "config.json: num_attention_heads: expected a positive integer".
int model_config_parse(ModelConfig *c, const char *json, size_t len, const char *path, Err *e);
int model_config_load(ModelConfig *c, const char *path, Err *e);
// Writes c as a config.json that transformers loads (atomically).
int model_config_save(const ModelConfig *c, const char *path, Err *e);
// The same with torch_dtype set to the weights' type ("float32", "bfloat16").
int model_config_save_as(const ModelConfig *c, const char *path, const char *torch_dtype, Err *e);

// The tensors a checkpoint for c holds, in layer order; *out is malloc'd (caller frees).
int model_config_tensors(const ModelConfig *c, ModelTensorSpec **out, size_t *n, Err *e);
// Finds spec's tensor in d, also without GPT-2's "transformer." prefix (the hub's gpt2
// checkpoints were saved from GPT2Model); NULL when absent.
const StTensor *model_find_tensor(const StDir *d, const ModelTensorSpec *spec);
// Checks that d has every tensor of c with the right shape; the error names the first
// missing or mis-shaped tensor. Extra tensors (GPT-2's attn.bias masks, rotary
// inv_freq buffers) are ignored.
int model_config_check(const ModelConfig *c, const StDir *d, Err *e);

#endif
