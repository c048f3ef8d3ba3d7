"""torch_train_step.py: the PyTorch CPU peer of bench_train_step.c — the same model shape
written the way a PyTorch user would (nn.Linear, nn.LayerNorm, F.softmax attention, as in
nanoGPT), fp32, trained with torch.optim.AdamW and clip_grad_norm_, on the same number of
threads. Prints one JSON line: tokens/s (median step), step time split, peak RSS.

  /usr/bin/python3 bench/train_step/torch_train_step.py --config DIR/config.json \
      --batch 4 --seq 256 --steps 5 --threads 2
"""
import argparse
import json
import math
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, n, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope_tables(T, D, theta):
    inv = 1.0 / theta ** (torch.arange(0, D, 2).float() / D)
    ang = torch.outer(torch.arange(T).float(), inv)
    return torch.cat([ang.cos(), ang.cos()], -1), torch.cat([ang.sin(), ang.sin()], -1)


def rotate_half(x):
    a, b = x.chunk(2, -1)
    return torch.cat([-b, a], -1)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        C, H, KVH, D, Fd = c["C"], c["H"], c["KVH"], c["D"], c["F"]
        llama = c["llama"]
        self.ln1 = RMSNorm(C, 1e-5) if llama else nn.LayerNorm(C)
        self.ln2 = RMSNorm(C, 1e-5) if llama else nn.LayerNorm(C)
        self.qkv = nn.Linear(C, (H + 2 * KVH) * D, bias=not llama or c["qkv_bias"])
        self.o = nn.Linear(H * D, C, bias=not llama)
        self.fc = nn.Linear(C, (2 if llama else 1) * Fd, bias=not llama)
        self.proj = nn.Linear(Fd, C, bias=not llama)

    def forward(self, x, mask, cos, sin):
        c = self.c
        B, T, _ = x.shape
        H, KVH, D = c["H"], c["KVH"], c["D"]
        q, k, v = self.qkv(self.ln1(x)).split([H * D, KVH * D, KVH * D], -1)
        q = q.view(B, T, H, D).transpose(1, 2)
        k = k.view(B, T, KVH, D).transpose(1, 2)
        v = v.view(B, T, KVH, D).transpose(1, 2)
        if c["llama"]:
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            if KVH != H:
                k = k.repeat_interleave(H // KVH, 1)
                v = v.repeat_interleave(H // KVH, 1)
        att = (q @ k.transpose(-2, -1)) / math.sqrt(D)
        att = F.softmax(att.masked_fill(mask, float("-inf")), -1)
        y = (att @ v).transpose(1, 2).reshape(B, T, H * D)
        x = x + self.o(y)
        h = self.fc(self.ln2(x))
        if c["llama"]:
            g, u = h.chunk(2, -1)
            h = F.silu(g) * u
        else:
            h = F.gelu(h, approximate="tanh")
        return x + self.proj(h)


class Model(nn.Module):
    def __init__(self, c, T):
        super().__init__()
        self.c = c
        self.wte = nn.Embedding(c["V"], c["C"])
        self.wpe = None if c["llama"] else nn.Embedding(c["P"], c["C"])
        self.blocks = nn.ModuleList(Block(c) for _ in range(c["L"]))
        self.lnf = RMSNorm(c["C"], 1e-5) if c["llama"] else nn.LayerNorm(c["C"])
        self.head = None if c["tied"] else nn.Linear(c["C"], c["V"], bias=False)
        self.register_buffer("mask", torch.triu(torch.ones(T, T, dtype=torch.bool), 1))
        cos, sin = rope_tables(T, c["D"], c["theta"])
        self.register_buffer("cos", cos)
        self.register_buffer("sin", sin)

    def forward(self, ids):
        B, T = ids.shape
        x = self.wte(ids)
        if self.wpe is not None:
            x = x + self.wpe(torch.arange(T))
        for b in self.blocks:
            x = b(x, self.mask[:T, :T], self.cos[:T], self.sin[:T])
        x = self.lnf(x)
        return x @ (self.wte.weight if self.head is None else self.head.weight).t()


def shape_of(cfg):
    llama = cfg.get("model_type") != "gpt2"
    if llama:
        C, H = cfg["hidden_size"], cfg["num_attention_heads"]
        return dict(llama=True, V=cfg["vocab_size"], C=C, L=cfg["num_hidden_layers"], H=H,
                    KVH=cfg.get("num_key_value_heads", H), D=cfg.get("head_dim", C // H),
                    F=cfg["intermediate_size"], P=cfg["max_position_embeddings"],
                    tied=cfg.get("tie_word_embeddings", False),
                    qkv_bias=cfg.get("model_type") == "qwen2", theta=cfg.get("rope_theta", 1e4))
    C, H = cfg["n_embd"], cfg["n_head"]
    return dict(llama=False, V=cfg["vocab_size"], C=C, L=cfg["n_layer"], H=H, KVH=H, D=C // H,
                F=cfg.get("n_inner") or 4 * C, P=cfg["n_positions"], tied=True,
                qkv_bias=True, theta=1e4)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    c = shape_of(json.load(open(a.config)))
    model = Model(c, a.seq)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), eps=1e-8,
                            weight_decay=0.1)
    ids = torch.randint(0, c["V"], (a.batch, a.seq))
    times = {"step": [], "forward": [], "backward": [], "optimizer": []}
    for s in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        logits = model(ids)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, c["V"]), ids[:, 1:].reshape(-1))
        t1 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t2 = time.perf_counter()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        t3 = time.perf_counter()
        print(f"  pytorch step {s + 1}/{a.warmup + a.steps}: loss {loss.item():.4f}, "
              f"{t3 - t0:.3f} s", file=sys.stderr)
        if s >= a.warmup:
            for k, v in zip(times, (t3 - t0, t1 - t0, t2 - t1, t3 - t2)):
                times[k].append(v)
    med = {k: statistics.median(v) for k, v in times.items()}
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"tokens_per_s": round(a.batch * a.seq / med["step"], 1),
                      "step_s": round(med["step"], 4), "forward_s": round(med["forward"], 4),
                      "backward_s": round(med["backward"], 4),
                      "optimizer_s": round(med["optimizer"], 4), "peak_rss_mb": round(rss, 1),
                      "torch": torch.__version__}))


if __name__ == "__main__":
    main()
