"""reference.py: an independent, plain-PyTorch decoder-only transformer used as the
numerical reference for the C model (src/model/).

Why: the C forward/backward/AdamW must match PyTorch. This file is written from the model
definitions, not from the transformers library, and works on a dict of tensors named
exactly as Hugging Face names them, so the same model.safetensors feeds both sides.

Covers, configured from a HF config.json dict:
  gpt2   GPT2LMHeadModel: LayerNorm with bias, learned positions, GELU (tanh), fused c_attn;
         HF Conv1D weights are stored [in, out] (y = x @ W + b); head tied to wte.
  llama  LlamaForCausalLM: RMSNorm, RoPE rotating halves (rope_theta, rope_scaling
         "llama3"), SwiGLU, grouped-query attention, tied or untied head.
  qwen2  Qwen2ForCausalLM: llama plus q/k/v bias.
Optional per-token document ids (B,T): attention stays within a document and positions
restart at 0 for each document.

Training math: masked cross-entropy (mask[t] = 1: token t is a target predicted from
position t-1), global-norm clipping as torch.nn.utils.clip_grad_norm_, and AdamW exactly as
torch.optim.AdamW (single-tensor path), decay on matrices only (not embeddings, norms, biases).
"""
import json
import math
import os

import torch
import torch.nn.functional as F

from safetensors_io import load as st_load

EMBEDDINGS = ("transformer.wte.weight", "transformer.wpe.weight", "model.embed_tokens.weight")


# ----------------------------------------------------------------------------- config
class Config:
    """The few numbers the forward needs, read from a HF config.json dict."""

    def __init__(self, d):
        self.raw = d
        mt = d.get("model_type") or _arch_to_type(d.get("architectures", [""])[0])
        self.arch = mt
        if mt == "gpt2":
            self.dim, self.layers = d["n_embd"], d["n_layer"]
            self.heads = self.kv_heads = d["n_head"]
            self.hidden = d.get("n_inner") or 4 * self.dim
            self.eps = d.get("layer_norm_epsilon", 1e-5)
            self.max_pos = d.get("n_positions", 1024)
            self.tied, self.qkv_bias = True, True
            if d.get("scale_attn_by_inverse_layer_idx") or d.get("reorder_and_upcast_attn"):
                raise ValueError("gpt2 variants with layer-scaled attention are not covered")
        elif mt in ("llama", "qwen2", "mistral"):
            self.dim, self.layers = d["hidden_size"], d["num_hidden_layers"]
            self.heads = d["num_attention_heads"]
            self.kv_heads = d.get("num_key_value_heads") or self.heads
            self.hidden = d["intermediate_size"]
            self.eps = d.get("rms_norm_eps", 1e-6)
            self.max_pos = d.get("max_position_embeddings", 2048)
            self.tied = bool(d.get("tie_word_embeddings", False))
            self.qkv_bias = mt == "qwen2" or bool(d.get("attention_bias", False))
            self.rope_theta = float(d.get("rope_theta", 10000.0))
            self.rope_scaling = d.get("rope_scaling")
        else:
            raise ValueError(f"unsupported model_type {mt!r}")
        self.vocab = d["vocab_size"]
        self.head_dim = d.get("head_dim") or self.dim // self.heads
        if self.heads % self.kv_heads:
            raise ValueError("num_attention_heads must be a multiple of num_key_value_heads")


def _arch_to_type(a):
    return {"GPT2LMHeadModel": "gpt2", "LlamaForCausalLM": "llama",
            "Qwen2ForCausalLM": "qwen2", "MistralForCausalLM": "mistral"}.get(a, a)


def load_model(model_dir, dtype=torch.float32):
    """-> (Config, dict HF name -> leaf tensor requiring grad) from config.json + safetensors."""
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = Config(json.load(f))
    tensors = {}
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            files = sorted(set(json.load(f)["weight_map"].values()))
    else:
        files = ["model.safetensors"]
    for fn in files:
        tensors.update(st_load(os.path.join(model_dir, fn))[0])
    return cfg, make_params(cfg, tensors, dtype)


def make_params(cfg, tensors, dtype=torch.float32):
    """Copy tensors to `dtype` leaves with requires_grad; accept GPT-2 names without prefix."""
    params = {}
    for name, t in tensors.items():
        if cfg.arch == "gpt2" and not name.startswith("transformer.") and name != "lm_head.weight":
            name = "transformer." + name
        if name.endswith(".attn.bias") or name.endswith(".attn.masked_bias"):
            continue  # GPT-2's stored causal-mask buffers, not parameters
        if name == "lm_head.weight" and cfg.tied:
            continue
        params[name] = t.detach().to(dtype).clone().requires_grad_(True)
    return params


# ----------------------------------------------------------------------------- layers
def layer_norm(x, w, b, eps):
    """x (..., C) -> (..., C): (x - mean) / sqrt(var + eps) * w + b, biased variance."""
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)
    return (x - mu) * torch.rsqrt(var + eps) * w + b


def rms_norm(x, w, eps):
    """x (..., C) -> (..., C): x / sqrt(mean(x^2) + eps) * w."""
    return x * torch.rsqrt((x * x).mean(-1, keepdim=True) + eps) * w


def gelu_tanh(x):
    """GELU, tanh approximation (GPT-2's "gelu_new")."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x ** 3)))


def rope_inv_freq(cfg, dtype):
    """(head_dim/2,) inverse frequencies theta^(-2i/d), with Llama 3 scaling if configured."""
    d = cfg.head_dim
    inv = 1.0 / (cfg.rope_theta ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    rs = cfg.rope_scaling
    if rs and (rs.get("rope_type") or rs.get("type")) == "llama3":
        inv = _llama3_scale(inv, rs)
    elif rs and (rs.get("rope_type") or rs.get("type")) not in (None, "default"):
        raise ValueError(f"rope_scaling {rs} not covered")
    return inv.to(dtype)


def _llama3_scale(inv, rs):
    """Llama 3.1: long wavelengths slowed by `factor`, short ones kept, a smooth blend between."""
    factor, lo, hi = rs["factor"], rs.get("low_freq_factor", 1.0), rs.get("high_freq_factor", 4.0)
    ctx = rs["original_max_position_embeddings"]
    wavelen = 2 * math.pi / inv
    long_wl, short_wl = ctx / lo, ctx / hi          # wavelength thresholds
    blend = (ctx / wavelen - lo) / (hi - lo)        # 0 at long_wl .. 1 at short_wl
    mid = (1 - blend) * inv / factor + blend * inv
    out = torch.where(wavelen > long_wl, inv / factor, inv)
    in_mid = (wavelen <= long_wl) & (wavelen >= short_wl)
    return torch.where(in_mid, mid, out)


def rope(x, pos, inv_freq):
    """x (B,H,T,D), pos (B,T) ints -> x rotated: halves (x1, x2) -> (x1 c - x2 s, x2 c + x1 s)."""
    ang = pos.to(inv_freq.dtype)[:, None, :, None] * inv_freq  # (B,1,T,D/2)
    c, s = torch.cos(ang).to(x.dtype), torch.sin(ang).to(x.dtype)
    h = x.shape[-1] // 2
    x1, x2 = x[..., :h], x[..., h:]
    return torch.cat([x1 * c - x2 * s, x2 * c + x1 * s], dim=-1)


def positions_and_mask(ids, doc):
    """ids (B,T), doc (B,T) or None -> pos (B,T) restarting per document, allowed (B,1,T,T)."""
    B, T = ids.shape
    t = torch.arange(T)
    causal = t[None, :] <= t[:, None]                                # (T,T) key <= query
    if doc is None:
        return t.expand(B, T), causal[None, None]
    same = doc[:, :, None] == doc[:, None, :]                        # (B,T,T)
    allowed = same & causal[None]
    start = torch.where(same & causal[None], t[None, None, :], T).min(-1).values  # (B,T)
    return t[None, :] - start, allowed[:, None]


def attention(q, k, v, allowed):
    """q (B,H,T,D), k/v (B,KV,T,D), allowed (B,1,T,T) bool -> (B,H,T,D).
    Query head h reads kv head h // (H/KV) (grouped-query attention)."""
    group = q.shape[1] // k.shape[1]
    if group > 1:
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
    att = (q @ k.transpose(-1, -2)) / math.sqrt(q.shape[-1])           # (B,H,T,T)
    att = att.masked_fill(~allowed, float("-inf")).softmax(-1)
    return att @ v


def _heads(x, n):
    """(B,T,n*D) -> (B,n,T,D)."""
    B, T, _ = x.shape
    return x.view(B, T, n, -1).transpose(1, 2)


def _merge(x):
    """(B,H,T,D) -> (B,T,H*D)."""
    B, H, T, D = x.shape
    return x.transpose(1, 2).reshape(B, T, H * D)


# ----------------------------------------------------------------------------- blocks
def gpt2_block(cfg, P, i, x, allowed):
    p = f"transformer.h.{i}."
    h = layer_norm(x, P[p + "ln_1.weight"], P[p + "ln_1.bias"], cfg.eps)
    qkv = h @ P[p + "attn.c_attn.weight"] + P[p + "attn.c_attn.bias"]   # (B,T,3C)
    q, k, v = qkv.split(cfg.dim, dim=-1)
    a = attention(_heads(q, cfg.heads), _heads(k, cfg.heads), _heads(v, cfg.heads), allowed)
    x = x + _merge(a) @ P[p + "attn.c_proj.weight"] + P[p + "attn.c_proj.bias"]
    h = layer_norm(x, P[p + "ln_2.weight"], P[p + "ln_2.bias"], cfg.eps)
    h = gelu_tanh(h @ P[p + "mlp.c_fc.weight"] + P[p + "mlp.c_fc.bias"])  # (B,T,4C)
    return x + h @ P[p + "mlp.c_proj.weight"] + P[p + "mlp.c_proj.bias"]


def _linear(x, P, name, bias):
    """HF nn.Linear: weight [out, in]; y = x W^T (+ b)."""
    y = x @ P[name + ".weight"].t()
    return y + P[name + ".bias"] if bias else y


def llama_block(cfg, P, i, x, pos, inv_freq, allowed):
    p = f"model.layers.{i}."
    h = rms_norm(x, P[p + "input_layernorm.weight"], cfg.eps)
    q = _heads(_linear(h, P, p + "self_attn.q_proj", cfg.qkv_bias), cfg.heads)     # (B,H,T,D)
    k = _heads(_linear(h, P, p + "self_attn.k_proj", cfg.qkv_bias), cfg.kv_heads)  # (B,KV,T,D)
    v = _heads(_linear(h, P, p + "self_attn.v_proj", cfg.qkv_bias), cfg.kv_heads)
    q, k = rope(q, pos, inv_freq), rope(k, pos, inv_freq)
    x = x + _linear(_merge(attention(q, k, v, allowed)), P, p + "self_attn.o_proj", False)
    h = rms_norm(x, P[p + "post_attention_layernorm.weight"], cfg.eps)
    g = F.silu(_linear(h, P, p + "mlp.gate_proj", False)) * _linear(h, P, p + "mlp.up_proj", False)
    return x + _linear(g, P, p + "mlp.down_proj", False)


def forward(cfg, P, ids, doc=None):
    """ids (B,T) int64, doc (B,T) or None -> logits (B,T,V) in the params' dtype."""
    pos, allowed = positions_and_mask(ids, doc)
    if cfg.arch == "gpt2":
        x = P["transformer.wte.weight"][ids] + P["transformer.wpe.weight"][pos]  # (B,T,C)
        for i in range(cfg.layers):
            x = gpt2_block(cfg, P, i, x, allowed)
        x = layer_norm(x, P["transformer.ln_f.weight"], P["transformer.ln_f.bias"], cfg.eps)
        return x @ P["transformer.wte.weight"].t()
    emb = P["model.embed_tokens.weight"]
    x = emb[ids]
    inv_freq = rope_inv_freq(cfg, emb.dtype)
    for i in range(cfg.layers):
        x = llama_block(cfg, P, i, x, pos, inv_freq, allowed)
    x = rms_norm(x, P["model.norm.weight"], cfg.eps)
    head = emb if cfg.tied else P["lm_head.weight"]
    return x @ head.t()


# ----------------------------------------------------------------------------- training math
def masked_loss(logits, ids, mask=None, normaliser=None):
    """logits (B,T,V), ids (B,T), mask (B,T) weights or None -> scalar.
    Token t (t >= 1) is predicted from position t-1 with weight mask[t]; mask[:,0] never counts.
    Sum of weighted NLLs / normaliser (default: the number of targets, i.e. nonzero weights)."""
    B, T, V = logits.shape
    logp = logits[:, :-1].log_softmax(-1)                                    # (B,T-1,V)
    nll = -logp.gather(-1, ids[:, 1:, None]).squeeze(-1)                     # (B,T-1)
    w = torch.ones_like(nll) if mask is None else mask[:, 1:].to(nll.dtype)
    if normaliser is None:
        normaliser = float((w != 0).sum())
    return (nll * w).sum() / normaliser


def decays(name, t, decay_embeddings=False):
    """Weight decay applies to matrices (2-D) except the embeddings, unless asked."""
    return t.dim() == 2 and (decay_embeddings or name not in EMBEDDINGS)


def clip_grad_norm(grads, max_norm):
    """In place on a list of grads; returns the pre-clip global L2 norm (as clip_grad_norm_)."""
    total = torch.norm(torch.stack([torch.norm(g, 2) for g in grads]), 2)
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(coef)
    return total


class AdamW:
    """torch.optim.AdamW's arithmetic written out, per tensor, in the same order of operations."""

    def __init__(self, params, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01,
                 decay_embeddings=False):
        self.P, self.lr, self.b1, self.b2, self.eps = params, lr, betas[0], betas[1], eps
        self.wd = {n: (weight_decay if decays(n, t, decay_embeddings) else 0.0)
                   for n, t in params.items()}
        self.m = {n: torch.zeros_like(t) for n, t in params.items()}
        self.v = {n: torch.zeros_like(t) for n, t in params.items()}
        self.t = 0

    @torch.no_grad()
    def step(self):
        self.t += 1
        bc1, bc2 = 1 - self.b1 ** self.t, 1 - self.b2 ** self.t
        for n, p in self.P.items():
            if p.grad is None:
                continue
            g, m, v = p.grad, self.m[n], self.v[n]
            p.mul_(1 - self.lr * self.wd[n])                  # decoupled weight decay
            m.mul_(self.b1).add_(g, alpha=1 - self.b1)        # first moment
            v.mul_(self.b2).addcmul_(g, g, value=1 - self.b2)  # second moment
            denom = (v.sqrt() / math.sqrt(bc2)).add_(self.eps)
            p.addcdiv_(m, denom, value=-self.lr / bc1)


def train_steps(cfg, P, ids, mask=None, doc=None, steps=1, lr=1e-3, betas=(0.9, 0.999),
                eps=1e-8, weight_decay=0.01, clip=None, normaliser=None, decay_embeddings=False):
    """Run `steps` of forward, backward, clip, AdamW on the same batch; returns the losses."""
    opt = AdamW(P, lr, betas, eps, weight_decay, decay_embeddings)
    losses = []
    for _ in range(steps):
        for p in P.values():
            p.grad = None
        loss = masked_loss(forward(cfg, P, ids, doc), ids, mask, normaliser)
        loss.backward()
        if clip:
            clip_grad_norm([p.grad for p in P.values() if p.grad is not None], clip)
        opt.step()
        losses.append(loss.item())
    return losses
