"""torch_decode.py: the PyTorch CPU peer of bench_decode.c — KV-cached greedy decoding of a
Llama-architecture model in the HF layout (config.json + model.safetensors), written the
way a PyTorch user would for inference: fused q|k|v and gate|up matmuls, a preallocated
cache per layer (B, KVH, ctx, D), one forward over the prompt (causal mask), then one
token per step, logits of the last position only, fp32, torch.no_grad, the same threads.
Prints one JSON line: prefill tokens/s, single-stream decode tokens/s, aggregate decode
tokens/s with B sequences in one batch (median of REPS, after a warm-up), and the greedy
ids of the single stream (run.sh compares them with posttrain's).

  /usr/bin/python3 bench/decode/torch_decode.py --model DIR --prompt 128 --gen 120 \
      --parallel 8 --reps 3 --threads 2
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../tests/torch"))
from safetensors_io import load  # noqa: E402


class Llama:
    def __init__(self, d):
        cfg = json.load(open(os.path.join(d, "config.json")))
        if cfg.get("model_type") not in ("llama", "qwen2"):
            sys.exit("torch_decode.py: Llama/Qwen2 models only")
        W = load(os.path.join(d, "model.safetensors"))[0]
        self.C = cfg["hidden_size"]
        self.L = cfg["num_hidden_layers"]
        self.H = cfg["num_attention_heads"]
        self.KVH = cfg.get("num_key_value_heads") or self.H
        self.D = cfg.get("head_dim") or self.C // self.H
        self.eps = cfg.get("rms_norm_eps", 1e-6)
        self.theta = cfg.get("rope_theta", 10000.0)
        self.emb = W["model.embed_tokens.weight"]
        self.head = W.get("lm_head.weight", self.emb)
        self.norm = W["model.norm.weight"]
        self.layers = []
        for i in range(self.L):
            p = f"model.layers.{i}."
            g = lambda n: W[p + n]  # noqa: E731
            qkv_b = None
            if p + "self_attn.q_proj.bias" in W:
                qkv_b = torch.cat([g("self_attn.q_proj.bias"), g("self_attn.k_proj.bias"),
                                   g("self_attn.v_proj.bias")])
            self.layers.append(dict(
                ln1=g("input_layernorm.weight"), ln2=g("post_attention_layernorm.weight"),
                qkv=torch.cat([g("self_attn.q_proj.weight"), g("self_attn.k_proj.weight"),
                               g("self_attn.v_proj.weight")]).contiguous(), qkv_b=qkv_b,
                o=g("self_attn.o_proj.weight"),
                gu=torch.cat([g("mlp.gate_proj.weight"), g("mlp.up_proj.weight")]).contiguous(),
                down=g("mlp.down_proj.weight")))
        self.F = self.layers[0]["down"].shape[1]

    def rmsnorm(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * w

    def alloc(self, B, ctx):
        inv = 1.0 / self.theta ** (torch.arange(0, self.D, 2).float() / self.D)
        ang = torch.outer(torch.arange(ctx).float(), inv)
        self.cos, self.sin = torch.cat([ang.cos()] * 2, -1), torch.cat([ang.sin()] * 2, -1)
        self.kc = [torch.zeros(B, self.KVH, ctx, self.D) for _ in range(self.L)]
        self.vc = [torch.zeros(B, self.KVH, ctx, self.D) for _ in range(self.L)]

    def rope(self, x, p0, T):  # x (B, h, T, D)
        c, s = self.cos[p0:p0 + T], self.sin[p0:p0 + T]
        a, b = x.chunk(2, -1)
        return x * c + torch.cat([-b, a], -1) * s

    def forward(self, ids, p0):
        """ids (B, T) at positions p0.. -> logits of the last position (B, V)."""
        B, T = ids.shape
        H, KVH, D = self.H, self.KVH, self.D
        x = self.emb[ids]
        mask = None
        if T > 1:
            mask = torch.full((T, p0 + T), float("-inf")).triu(p0 + 1)
        for l, w in enumerate(self.layers):
            h = self.rmsnorm(x, w["ln1"])
            qkv = h @ w["qkv"].t()
            if w["qkv_b"] is not None:
                qkv = qkv + w["qkv_b"]
            q, k, v = qkv.split([H * D, KVH * D, KVH * D], -1)
            q = self.rope(q.view(B, T, H, D).transpose(1, 2), p0, T)
            k = self.rope(k.view(B, T, KVH, D).transpose(1, 2), p0, T)
            self.kc[l][:, :, p0:p0 + T] = k
            self.vc[l][:, :, p0:p0 + T] = v.view(B, T, KVH, D).transpose(1, 2)
            K, V = self.kc[l][:, :, :p0 + T], self.vc[l][:, :, :p0 + T]
            if KVH != H:
                K, V = K.repeat_interleave(H // KVH, 1), V.repeat_interleave(H // KVH, 1)
            att = (q @ K.transpose(-1, -2)) / D ** 0.5
            if mask is not None:
                att = att + mask
            y = (att.softmax(-1) @ V).transpose(1, 2).reshape(B, T, H * D)
            x = x + y @ w["o"].t()
            gu = self.rmsnorm(x, w["ln2"]) @ w["gu"].t()
            g, u = gu.split([self.F, self.F], -1)
            x = x + (torch.nn.functional.silu(g) * u) @ w["down"].t()
        return self.rmsnorm(x[:, -1], self.norm) @ self.head.t()


def run(m, prompts, gen):
    """Greedy: (prefill seconds, decode seconds, ids of row 0)."""
    B, P = prompts.shape
    m.alloc(B, P + gen)
    t0 = time.perf_counter()
    tok = m.forward(prompts, 0).argmax(-1)
    t1 = time.perf_counter()
    out = [tok[0].item()]
    for g in range(1, gen):
        tok = m.forward(tok.view(B, 1), P + g - 1).argmax(-1)
        out.append(tok[0].item())
    return t1 - t0, time.perf_counter() - t1, out


def make_prompt(n, V, k):  # the same ids as bench_decode.c's make_prompt
    s, p = (12345 + 7919 * k) & 0xFFFFFFFF, []
    for _ in range(n):
        s = (s * 1664525 + 1013904223) & 0xFFFFFFFF
        p.append(3 + (s >> 8) % (V - 3))
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--prompt", type=int, default=128)
    ap.add_argument("--gen", type=int, default=120)
    ap.add_argument("--parallel", type=int, default=8)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_grad_enabled(False)
    m = Llama(a.model)
    V = m.emb.shape[0]
    one = torch.tensor([make_prompt(a.prompt, V, 0)])
    many = torch.tensor([make_prompt(a.prompt, V, k) for k in range(a.parallel)])
    run(m, one, a.gen)  # warm-up
    pre, dec, agg = [], [], []
    for _ in range(a.reps):
        ps, ds, ids = run(m, one, a.gen)
        pre.append(a.prompt / ps)
        dec.append((a.gen - 1) / ds)
    for _ in range(a.reps):
        _, ds, _ = run(m, many, a.gen)
        agg.append(a.parallel * (a.gen - 1) / ds)
    print(json.dumps({"prefill_tps": statistics.median(pre), "decode_tps": statistics.median(dec),
                      "agg_tps": statistics.median(agg), "parallel": a.parallel,
                      "prompt": a.prompt, "gen": a.gen, "ids": ids}))


if __name__ == "__main__":
    main()
