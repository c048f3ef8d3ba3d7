"""make_model.py: writes a random small model directory (config.json + model.safetensors, F32)
in the Hugging Face layout, for the parity tests of the C model against reference.py.

Why: tests need many small models of each architecture with awkward shapes (odd sizes that
are not multiples of 8, grouped-query attention, tied and untied heads) and no downloads.
Norm weights are drawn around 1 and biases around 0 (not exactly 1/0) so that mistakes in
how they are applied show up in the outputs and gradients.

  /usr/bin/python3 tests/torch/make_model.py --arch llama --out DIR [--odd] [--kv-heads 2]
"""
import argparse
import json
import os
import sys

import torch

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_io import save as st_save  # noqa: E402

ARCH = {"gpt2": "GPT2LMHeadModel", "llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM"}


def make_config(arch, vocab=64, dim=32, layers=2, heads=4, kv_heads=None, hidden=None,
                ctx=64, tied=None, rope_theta=10000.0, llama3_scaling=False, head_dim=None):
    """-> a HF config.json dict."""
    if arch == "gpt2":
        return {"architectures": [ARCH[arch]], "model_type": "gpt2", "vocab_size": vocab,
                "n_embd": dim, "n_layer": layers, "n_head": heads, "n_positions": ctx,
                "n_inner": hidden, "activation_function": "gelu_new",
                "layer_norm_epsilon": 1e-5, "tie_word_embeddings": True,
                "torch_dtype": "float32"}
    c = {"architectures": [ARCH[arch]], "model_type": arch, "vocab_size": vocab,
         "hidden_size": dim, "num_hidden_layers": layers, "num_attention_heads": heads,
         "num_key_value_heads": kv_heads or heads, "intermediate_size": hidden or 3 * dim,
         "max_position_embeddings": ctx, "rms_norm_eps": 1e-5, "rope_theta": rope_theta,
         "hidden_act": "silu", "tie_word_embeddings": bool(tied), "torch_dtype": "float32"}
    if head_dim:
        c["head_dim"] = head_dim
    if llama3_scaling:  # small original context so every band (long/blend/short) is used
        c["rope_scaling"] = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0,
                             "high_freq_factor": 4.0, "original_max_position_embeddings": 32}
    return c


def random_weights(cfg_dict, seed=0, dtype=torch.float32):
    """-> dict HF name -> random tensor for the config (reference.Config reads the same dict)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from reference import Config
    cfg = Config(cfg_dict)
    g = torch.Generator().manual_seed(seed)

    def mat(*shape, std=0.02 * 5):
        return (torch.randn(*shape, generator=g, dtype=torch.float64) * std).to(dtype)

    def norm(n):
        return (1 + 0.1 * torch.randn(n, generator=g, dtype=torch.float64)).to(dtype)

    C, V, Hd = cfg.dim, cfg.vocab, cfg.hidden
    W = {}
    if cfg.arch == "gpt2":
        W["transformer.wte.weight"] = mat(V, C, std=0.3)
        W["transformer.wpe.weight"] = mat(cfg.max_pos, C, std=0.1)
        for i in range(cfg.layers):
            p = f"transformer.h.{i}."
            for ln in ("ln_1", "ln_2"):
                W[p + ln + ".weight"], W[p + ln + ".bias"] = norm(C), mat(C)
            W[p + "attn.c_attn.weight"], W[p + "attn.c_attn.bias"] = mat(C, 3 * C), mat(3 * C)
            W[p + "attn.c_proj.weight"], W[p + "attn.c_proj.bias"] = mat(C, C), mat(C)
            W[p + "mlp.c_fc.weight"], W[p + "mlp.c_fc.bias"] = mat(C, Hd), mat(Hd)
            W[p + "mlp.c_proj.weight"], W[p + "mlp.c_proj.bias"] = mat(Hd, C), mat(C)
        W["transformer.ln_f.weight"], W["transformer.ln_f.bias"] = norm(C), mat(C)
        return W
    D, H, KV = cfg.head_dim, cfg.heads, cfg.kv_heads
    W["model.embed_tokens.weight"] = mat(V, C, std=0.3)
    for i in range(cfg.layers):
        p = f"model.layers.{i}."
        W[p + "input_layernorm.weight"] = norm(C)
        W[p + "post_attention_layernorm.weight"] = norm(C)
        for n, rows in (("q", H * D), ("k", KV * D), ("v", KV * D)):
            W[p + f"self_attn.{n}_proj.weight"] = mat(rows, C, std=0.2)
            if cfg.qkv_bias:
                W[p + f"self_attn.{n}_proj.bias"] = mat(rows)
        W[p + "self_attn.o_proj.weight"] = mat(C, H * D)
        W[p + "mlp.gate_proj.weight"] = mat(Hd, C)
        W[p + "mlp.up_proj.weight"] = mat(Hd, C)
        W[p + "mlp.down_proj.weight"] = mat(C, Hd)
    W["model.norm.weight"] = norm(C)
    if not cfg.tied:
        W["lm_head.weight"] = mat(V, C, std=0.3)
    return W


def write_model(out, cfg_dict, weights, dtype="F32"):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(cfg_dict, f, indent=2)
    st_save(os.path.join(out, "model.safetensors"), weights, {"format": "pt"}, dtype=dtype)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", choices=sorted(ARCH), required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--vocab", type=int, default=64)
    ap.add_argument("--dim", type=int, default=32)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--kv-heads", type=int, default=None, help="< heads for GQA (llama/qwen2)")
    ap.add_argument("--hidden", type=int, default=None, help="MLP width")
    ap.add_argument("--head-dim", type=int, default=None, help="explicit head_dim (llama/qwen2)")
    ap.add_argument("--ctx", type=int, default=64)
    ap.add_argument("--odd", action="store_true",
                    help="odd sizes: vocab 67, dim 30 (3 heads of 10), hidden 53, ctx 37")
    ap.add_argument("--untied", action="store_true", help="separate lm_head (llama/qwen2)")
    ap.add_argument("--tied", action="store_true", help="head tied to embeddings")
    ap.add_argument("--rope-theta", type=float, default=10000.0)
    ap.add_argument("--llama3-scaling", action="store_true")
    ap.add_argument("--dtype", choices=["F32", "F16", "BF16"], default="F32")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    if a.odd:
        a.vocab, a.dim, a.heads, a.hidden, a.ctx = 67, 30, 3, 53, 37
        if a.kv_heads and a.heads % a.kv_heads:
            a.kv_heads = 1
    cfg = make_config(a.arch, a.vocab, a.dim, a.layers, a.heads, a.kv_heads, a.hidden, a.ctx,
                      tied=a.tied and not a.untied, rope_theta=a.rope_theta,
                      llama3_scaling=a.llama3_scaling, head_dim=a.head_dim)
    cfg["torch_dtype"] = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}[a.dtype]
    write_model(a.out, cfg, random_weights(cfg, a.seed), a.dtype)
    print(a.out)


if __name__ == "__main__":
    main()
