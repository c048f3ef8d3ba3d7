"""test_reference.py: self-checks of the PyTorch reference (reference.py and friends) before
the C model is compared against it. Each check prints one line; the last line is
"N passed, N failed". Exit 0 when all pass, 1 otherwise, 77 when torch is missing.

Checks:
  (a) autograd gradients = central finite differences (float64), gpt2 / llama / qwen2
  (b) our AdamW (+ clipping) = torch.optim.AdamW + clip_grad_norm_, decay/no-decay groups
  (c) a packed sequence of two documents (document ids) = the two run separately
  (d) attention with kv heads == heads = plain multi-head attention; GQA = its MHA expansion
  (e) stories260K (llama2.c): greedy text from BOS, and llama2.c's own adjacent-pair RoPE
      forward on the raw .bin weights = the permuted HF-layout model
  (f) safetensors round trip (F32, F16, BF16, F64, I64), BF16 rounding to nearest even
  (g) building blocks against torch.nn.functional, llama3 RoPE bands, run_reference.py CLI

  /usr/bin/python3 tests/torch/test_reference.py      (SHARED_DATA overrides ../shared/data)
"""
import contextlib
import io
import math
import os
import subprocess
import sys
import tempfile
import time

try:
    import numpy as np
    import torch
    import torch.nn.functional as F
except ImportError as e:  # the suite treats 77 as "skipped"
    print(f"skip: torch/numpy not importable by {sys.executable} ({e})")
    sys.exit(77)

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import llama2c_to_hf as L2  # noqa: E402
import make_model as MM  # noqa: E402
import reference as R  # noqa: E402
import safetensors_io as S  # noqa: E402

RESULTS = {"passed": 0, "failed": 0}


def check(name, ok, detail=""):
    RESULTS["passed" if ok else "failed"] += 1
    print(f"{'ok  ' if ok else 'FAIL'}  {name}{'  ' + detail if detail else ''}", flush=True)


def skip(name, reason):
    print(f"skip  {name}  {reason}", flush=True)


def tiny(arch, seed=0, dtype=torch.float64, **kw):
    """-> (Config, params) of a random tiny model."""
    cfg_dict = MM.make_config(arch, **kw)
    cfg = R.Config(cfg_dict)
    return cfg, R.make_params(cfg, MM.random_weights(cfg_dict, seed), dtype)


TINY = {  # odd sizes, GQA, tied and untied, llama3 scaling, explicit head_dim
    "gpt2": dict(vocab=13, dim=12, layers=2, heads=3, hidden=19, ctx=16),
    "llama": dict(vocab=13, dim=12, layers=2, heads=4, kv_heads=2, hidden=17, ctx=16,
                  tied=False, llama3_scaling=True),
    "qwen2": dict(vocab=11, dim=10, layers=2, heads=2, kv_heads=1, hidden=7, ctx=16,
                  tied=True, head_dim=6),
}


# ----------------------------------------------------------------------------- (a)
def check_gradients():
    g = torch.Generator().manual_seed(1)
    for arch, kw in TINY.items():
        cfg, P = tiny(arch, seed=3, **kw)
        ids = torch.randint(0, cfg.vocab, (2, 7), generator=g)
        mask = torch.rand(2, 7, generator=g, dtype=torch.float64).round() * 1.5  # weights 0/1.5
        mask[:, 1] = 1.0
        doc = torch.tensor([[0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0, 0]])

        def loss_fn():
            return R.masked_loss(R.forward(cfg, P, ids, doc), ids, mask, normaliser=3.0)

        loss_fn().backward()
        worst, h, missing = 0.0, 1e-6, []
        with torch.no_grad():
            for name, p in P.items():
                if p.grad is None or not p.grad.abs().sum() > 0:
                    missing.append(name)
                    continue
                flat, gflat = p.view(-1), p.grad.view(-1)
                picks = torch.randperm(flat.numel(), generator=g)[:5]
                for j in picks.tolist():
                    old = flat[j].item()
                    flat[j] = old + h
                    up = loss_fn().item()
                    flat[j] = old - h
                    down = loss_fn().item()
                    flat[j] = old
                    fd = (up - down) / (2 * h)
                    worst = max(worst, abs(fd - gflat[j].item()) / max(1.0, abs(fd)))
        check(f"(a) finite-difference gradients {arch}", worst < 1e-7 and not missing,
              f"max rel err {worst:.1e} over {len(P)} tensors" +
              (f"; no gradient: {missing}" if missing else ""))


# ----------------------------------------------------------------------------- (b)
def check_adamw():
    g = torch.Generator().manual_seed(2)
    for arch, clip in (("gpt2", 0.5), ("llama", 10.0)):  # clipping active / not needed
        cfg, P = tiny(arch, seed=5, dtype=torch.float32, **TINY[arch])
        Q = {n: t.detach().clone().requires_grad_(True) for n, t in P.items()}
        ids = torch.randint(0, cfg.vocab, (2, 9), generator=g)
        hp = dict(lr=3e-2, betas=(0.85, 0.99), eps=1e-7, weight_decay=0.1)
        steps = 3
        R.train_steps(cfg, P, ids, steps=steps, clip=clip, **hp)
        decay = [t for n, t in Q.items() if R.decays(n, t)]
        plain = [t for n, t in Q.items() if not R.decays(n, t)]
        opt = torch.optim.AdamW([{"params": decay}, {"params": plain, "weight_decay": 0.0}],
                                foreach=False, **hp)
        norms = []
        for _ in range(steps):
            opt.zero_grad()
            R.masked_loss(R.forward(cfg, Q, ids), ids).backward()
            norms.append(float(torch.nn.utils.clip_grad_norm_(list(Q.values()), clip)))
            opt.step()
        diff = max((P[n] - Q[n]).abs().max().item() for n in P)
        check(f"(b) AdamW + clipping = torch.optim.AdamW {arch}", diff == 0.0,
              f"max abs diff {diff:.1e}; grad norms {', '.join(f'{x:.2f}' for x in norms)} "
              f"(clip {clip}); decayed {len(decay)} of {len(Q)} tensors")
    cases = [("transformer.wte.weight", 2, False), ("transformer.wpe.weight", 2, False),
             ("transformer.h.0.ln_1.weight", 1, False), ("transformer.h.0.attn.c_attn.weight", 2, True),
             ("transformer.h.0.attn.c_attn.bias", 1, False), ("model.embed_tokens.weight", 2, False),
             ("lm_head.weight", 2, True), ("model.layers.0.mlp.up_proj.weight", 2, True),
             ("model.norm.weight", 1, False)]
    got = [R.decays(n, torch.zeros([2] * nd)) for n, nd, _ in cases]
    want = [w for _, _, w in cases]
    check("(b) weight decay only on non-embedding matrices", got == want, str(got))


# ----------------------------------------------------------------------------- (c)
def check_documents():
    g = torch.Generator().manual_seed(3)
    for arch, kw in TINY.items():
        cfg, P = tiny(arch, seed=7, **kw)
        a = torch.randint(0, cfg.vocab, (1, 5), generator=g)
        b = torch.randint(0, cfg.vocab, (1, 6), generator=g)
        doc = torch.tensor([[4] * 5 + [9] * 6])
        with torch.no_grad():
            packed = R.forward(cfg, P, torch.cat([a, b], 1), doc)
            sep = torch.cat([R.forward(cfg, P, a), R.forward(cfg, P, b)], 1)
            plain = R.forward(cfg, P, torch.cat([a, b], 1))
        diff = (packed - sep).abs().max().item()
        leak = (plain[:, 5:] - sep[:, 5:]).abs().max().item()
        check(f"(c) packed documents = separate runs {arch}", diff < 1e-12 and leak > 1e-3,
              f"max abs diff {diff:.1e} (without doc ids: {leak:.1e})")


# ----------------------------------------------------------------------------- (d)
def check_gqa():
    g = torch.Generator().manual_seed(4)
    B, H, T, D = 2, 3, 6, 5
    q, k, v = (torch.randn(B, H, T, D, generator=g, dtype=torch.float64) for _ in range(3))
    _, allowed = R.positions_and_mask(torch.zeros(B, T, dtype=torch.long), None)
    got = R.attention(q, k, v, allowed)
    want = torch.empty_like(got)
    for bi in range(B):
        for h in range(H):
            for t in range(T):
                s = torch.stack([q[bi, h, t] @ k[bi, h, j] for j in range(t + 1)]) / math.sqrt(D)
                w = torch.exp(s - s.max())
                want[bi, h, t] = (w[:, None] * v[bi, h, :t + 1]).sum(0) / w.sum()
    d = (got - want).abs().max().item()
    check("(d) attention with kv heads == heads = plain MHA loop", d < 1e-12, f"max abs diff {d:.1e}")

    kw = dict(TINY["llama"], heads=6, kv_heads=2, dim=12)
    cfg, P = tiny("llama", seed=9, **kw)
    mha_cfg = R.Config(MM.make_config("llama", **dict(kw, kv_heads=6)))
    group, Dh = cfg.heads // cfg.kv_heads, cfg.head_dim
    Q = {}
    for n, t in P.items():
        if n.endswith(("k_proj.weight", "v_proj.weight")):  # copy each kv head to its group
            t = t.view(cfg.kv_heads, Dh, -1).repeat_interleave(group, 0).reshape(-1, t.shape[1])
        Q[n] = t
    ids = torch.randint(0, cfg.vocab, (2, 8), generator=g)
    with torch.no_grad():
        d = (R.forward(cfg, P, ids) - R.forward(mha_cfg, Q, ids)).abs().max().item()
    check("(d) GQA (6 heads, 2 kv) = MHA with duplicated k/v heads", d < 1e-12,
          f"max abs diff {d:.1e}")


# ----------------------------------------------------------------------------- (e)
def llama2c_forward(hdr, raw, ids):
    """llama2.c's run.c forward, on the raw .bin arrays, adjacent-pair RoPE from the stored
    freq_cis tables. ids list -> logits (T,V). One token at a time with a kv cache."""
    C, L, H, KV = hdr["dim"], hdr["n_layers"], hdr["n_heads"], hdr["n_kv_heads"]
    D, eps = C // H, 1e-5
    kc = [[] for _ in range(L)]
    vc = [[] for _ in range(L)]

    def rms(x, w):
        return x / torch.sqrt((x * x).mean() + eps) * w

    def rotate(x, pos):  # x (n*D,): pairs (2i, 2i+1) of each head turned by freq pos, i % (D/2)
        xr, xi = x[0::2].clone(), x[1::2].clone()
        fr = raw["freq_cis_real"][pos].repeat(x.numel() // D)
        fi = raw["freq_cis_imag"][pos].repeat(x.numel() // D)
        out = torch.empty_like(x)
        out[0::2], out[1::2] = xr * fr - xi * fi, xr * fi + xi * fr
        return out

    rows = []
    for pos, tok in enumerate(ids):
        x = raw["token_embedding"][tok].clone()
        for li in range(L):
            h = rms(x, raw["rms_att"][li])
            q = rotate(raw["wq"][li] @ h, pos)
            kc[li].append(rotate(raw["wk"][li] @ h, pos))
            vc[li].append(raw["wv"][li] @ h)
            K, V = torch.stack(kc[li]), torch.stack(vc[li])   # (pos+1, KV*D)
            att = torch.empty(C, dtype=x.dtype)
            for hh in range(H):
                kv = hh // (H // KV)
                s = K[:, kv * D:(kv + 1) * D] @ q[hh * D:(hh + 1) * D] / math.sqrt(D)
                att[hh * D:(hh + 1) * D] = s.softmax(0) @ V[:, kv * D:(kv + 1) * D]
            x = x + raw["wo"][li] @ att
            h = rms(x, raw["rms_ffn"][li])
            a = raw["w1"][li] @ h
            x = x + raw["w2"][li] @ (a * torch.sigmoid(a) * (raw["w3"][li] @ h))
        x = rms(x, raw["rms_final"])
        rows.append((raw["token_embedding"] if hdr["shared_classifier"] else raw["wcls"]) @ x)
    return torch.stack(rows)


def check_stories():
    root = os.environ.get("SHARED_DATA") or os.path.join(HERE, "..", "..", "..", "shared", "data")
    binp = os.path.join(root, "llama2c", "stories260K.bin")
    tokp = os.path.join(root, "llama2c", "tok512.bin")
    if not (os.path.exists(binp) and os.path.exists(tokp)):
        skip("(e) stories260K", f"{binp} or tok512.bin missing (set SHARED_DATA)")
        return
    hdr, raw = L2.read_llama2c(binp)
    cfg_dict, W = L2.to_hf(hdr, raw)
    with tempfile.TemporaryDirectory() as d:  # through the files, as the C tests will
        MM.write_model(d, cfg_dict, W)
        cfg, P = R.load_model(d)
    pieces = L2.read_tokenizer(tokp, hdr["vocab_size"])
    want = " Once upon a time, there was a little girl named Lily. She loved to play"
    ids = [1]
    with torch.no_grad():  # float32, as the C model will run it
        while len(L2.decode(pieces, ids[1:])) < len(want) and len(ids) < 64:
            ids.append(int(R.forward(cfg, P, torch.tensor([ids]))[0, -1].argmax()))
        text = L2.decode(pieces, ids[1:])
        check("(e) stories260K greedy from BOS", text.startswith(want), repr(text))
        # both sides in float64, so the difference measures the layout, not rounding
        P64 = R.make_params(cfg, {n: t.detach() for n, t in P.items()}, torch.float64)
        hf = R.forward(cfg, P64, torch.tensor([ids]))[0]
        raw64 = {n: t.double() for n, t in raw.items()}
        # run.c computes the table itself: angle = pos * 10000^(-2j/D); the file stores it
        # in float32, so in float64 use the formula (checked against the stored table)
        D = hdr["dim"] // hdr["n_heads"]
        ang = torch.arange(hdr["seq_len"], dtype=torch.float64)[:, None] * \
            10000.0 ** (-torch.arange(0, D, 2, dtype=torch.float64) / D)
        tab = max((raw64["freq_cis_real"] - ang.cos()).abs().max().item(),
                  (raw64["freq_cis_imag"] - ang.sin()).abs().max().item())
        raw64["freq_cis_real"], raw64["freq_cis_imag"] = ang.cos(), ang.sin()
        ref = llama2c_forward(hdr, raw64, ids)
        d32 = (R.forward(cfg, P, torch.tensor([ids]))[0] - llama2c_forward(hdr, raw, ids))
    d = (hf - ref).abs().max().item()
    check("(e) llama2.c pair-RoPE forward = permuted HF layout", d <= 1e-5 and tab < 1e-4,
          f"max abs diff {d:.1e} in float64 ({d32.abs().max().item():.1e} in float32 with the "
          f"stored freq_cis, which is within {tab:.0e} of the formula) over "
          f"{len(ids)} positions (logits up to {ref.abs().max().item():.1f})")
    unperm = dict(W)
    for i in range(hdr["n_layers"]):
        unperm[f"model.layers.{i}.self_attn.q_proj.weight"] = raw["wq"][i]
        unperm[f"model.layers.{i}.self_attn.k_proj.weight"] = raw["wk"][i]
    with torch.no_grad():
        bad = R.forward(cfg, R.make_params(cfg, unperm), torch.tensor([ids]))[0]
    d2 = (bad - ref).abs().max().item()
    check("(e) without the q/k permutation the outputs differ", d2 > 1e-2, f"max abs diff {d2:.1e}")


# ----------------------------------------------------------------------------- (f)
def check_safetensors():
    g = torch.Generator().manual_seed(6)
    x = torch.randn(3, 5, generator=g) * torch.logspace(-8, 8, 5)
    T = {"a.f32": x, "b.f64": x.double(), "c.i64": torch.arange(7), "d.scalar": torch.tensor(2.5)}
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "t.safetensors")
        S.save(p, T, {"format": "pt", "note": "x"})
        with open(p, "rb") as f:
            n = int.from_bytes(f.read(8), "little")
            head = f.read(n)
        back, meta = S.load(p, keep_dtype=True)
        ok = (n % 8 == 0 and head.rstrip(b" ").endswith(b"}") and meta == {"format": "pt", "note": "x"}
              and all(torch.equal(back[k], T[k]) and back[k].dtype == T[k].dtype for k in T))
        check("(f) safetensors round trip F32/F64/I64/scalar, header padded", ok,
              f"header {n} bytes")
        for dt, tdt in (("F16", torch.float16), ("BF16", torch.bfloat16)):
            S.save(p, {"x": x}, dtype=dt)
            back, _ = S.load(p, keep_dtype=True)
            back32, _ = S.load(p)
            want = x.to(tdt)
            ok = (back["x"].dtype == tdt and torch.equal(back["x"], want)
                  and back32["x"].dtype == torch.float32 and torch.equal(back32["x"], want.float()))
            check(f"(f) safetensors {dt} write/read = torch's conversion", ok)
    one = 1.0
    cases = [(one + 2 ** -8, one), (one + 3 * 2 ** -8, one + 2 ** -6),  # ties go to even
             (one + 2 ** -8 + 2 ** -20, one + 2 ** -7), (-(one + 3 * 2 ** -8), -(one + 2 ** -6)),
             (3.4e38, float("inf")), (1e-40, 1e-40)]
    xs = np.array([c[0] for c in cases], dtype=np.float32)
    got = S.bf16_bits_to_f32(S.f32_to_bf16_bits(xs))
    exp = np.array([c[1] for c in cases], dtype=np.float32)
    exp[-1] = torch.tensor([1e-40]).to(torch.bfloat16).float().item()
    nan = S.bf16_bits_to_f32(S.f32_to_bf16_bits(np.array([np.nan], dtype=np.float32)))
    many = torch.randn(100000, generator=g) * 10 ** torch.randint(-30, 30, (100000,), generator=g)
    mine = torch.from_numpy(S.bf16_bits_to_f32(S.f32_to_bf16_bits(many.numpy())))
    check("(f) BF16 rounds to nearest even (ties, overflow, subnormal, NaN, 1e5 randoms)",
          np.array_equal(got, exp) and np.isnan(nan[0])
          and torch.equal(mine, many.to(torch.bfloat16).float()), f"{got.tolist()}")


# ----------------------------------------------------------------------------- (g)
def check_blocks():
    g = torch.Generator().manual_seed(8)
    x = torch.randn(4, 7, 9, generator=g, dtype=torch.float64) * 3
    w, b = torch.randn(9, generator=g, dtype=torch.float64), torch.randn(9, generator=g, dtype=torch.float64)
    d1 = (R.gelu_tanh(x) - F.gelu(x, approximate="tanh")).abs().max().item()
    d2 = (R.layer_norm(x, w, b, 1e-5) - F.layer_norm(x, (9,), w, b, 1e-5)).abs().max().item()
    check("(g) gelu_tanh and layer_norm = torch.nn.functional", max(d1, d2) < 1e-12,
          f"{d1:.1e}, {d2:.1e}")
    logits = torch.randn(2, 6, 11, generator=g, dtype=torch.float64)
    ids = torch.randint(0, 11, (2, 6), generator=g)
    mask = torch.tensor([[1, 0, 1, 1, 0, 2], [0, 1, 1, 0, 0, 0]], dtype=torch.float64)
    ce = F.cross_entropy(logits[:, :-1].reshape(-1, 11), ids[:, 1:].reshape(-1), reduction="none")
    ce = ce.view(2, 5)
    want = (ce * mask[:, 1:]).sum() / 5  # 5 targets: mask[0] never counts
    d3 = abs(R.masked_loss(logits, ids, mask).item() - want.item())
    d4 = abs(R.masked_loss(logits, ids).item() - ce.mean().item())
    d5 = abs(R.masked_loss(logits, ids, mask, normaliser=7.0).item() - (ce * mask[:, 1:]).sum().item() / 7)
    check("(g) masked loss = cross_entropy (mask[0] ignored, weights, normaliser)",
          max(d3, d4, d5) < 1e-12, f"{d3:.1e}, {d4:.1e}, {d5:.1e}")
    cfg = R.Config(MM.make_config("llama", dim=64, heads=1, llama3_scaling=True))
    base = R.Config(MM.make_config("llama", dim=64, heads=1))
    s, p = R.rope_inv_freq(cfg, torch.float64), R.rope_inv_freq(base, torch.float64)
    wl = 2 * math.pi / p
    hi_ok = torch.equal(s[wl < 8], p[wl < 8])              # short wavelengths kept
    lo_ok = torch.allclose(s[wl > 32], p[wl > 32] / 8)      # long ones divided by factor
    mid = (wl >= 8) & (wl <= 32)
    mid_ok = bool(((s[mid] < p[mid]) & (s[mid] > p[mid] / 8)).all()) and int(mid.sum()) > 0
    check("(g) llama3 RoPE scaling: short kept, long / factor, blend between",
          hi_ok and lo_ok and mid_ok, f"bands {int((wl < 8).sum())}/{int(mid.sum())}/{int((wl > 32).sum())}")
    _, allowed = R.positions_and_mask(torch.zeros(1, 6, dtype=torch.long), None)
    pos, allowed2 = R.positions_and_mask(torch.zeros(1, 6, dtype=torch.long),
                                         torch.tensor([[0, 0, 1, 1, 1, 2]]))
    check("(g) positions restart per document", pos.tolist() == [[0, 1, 0, 1, 2, 0]]
          and not bool(allowed2[0, 0, 2, 1]) and bool(allowed2[0, 0, 4, 2]), str(pos.tolist()))


def check_cli():
    with tempfile.TemporaryDirectory() as d:
        m, out = os.path.join(d, "m"), os.path.join(d, "ref.safetensors")
        with contextlib.redirect_stdout(io.StringIO()):  # it prints the directory
            MM.main(["--arch", "qwen2", "--out", m, "--odd", "--kv-heads", "1", "--seed", "4"])
        args = ["--model", m, "--ids", "1,5,7,2,9;3,4,5,6,66", "--mask", "0,1,1,0,1;0,1,1,1,1",
                "--doc", "0,0,1,1,1;0,0,0,0,0", "--steps", "2", "--lr", "1e-2",
                "--weight-decay", "0.1", "--clip", "0.5", "--out", out]
        r = subprocess.run([sys.executable, os.path.join(HERE, "run_reference.py")] + args,
                           capture_output=True, text=True)
        if r.returncode:
            check("(g) run_reference.py CLI", False, r.stderr.strip()[-300:])
            return
        T, meta = S.load(out)
        cfg, P = R.load_model(m)
        ids = torch.tensor([[1, 5, 7, 2, 9], [3, 4, 5, 6, 66]])
        mask = torch.tensor([[0, 1, 1, 0, 1], [0, 1, 1, 1, 1]], dtype=torch.float32)
        doc = torch.tensor([[0, 0, 1, 1, 1], [0] * 5])
        loss = R.masked_loss(R.forward(cfg, P, ids, doc), ids, mask)
        loss.backward()
        ok = (abs(T["loss"].item() - loss.item()) < 1e-6 and T["logits"].shape == (2, 5, 67)
              and all(torch.allclose(T["grad." + n], p.grad, atol=1e-7) for n, p in P.items())
              and all("after." + n in T for n in P) and T["losses"].shape == (2,)
              and not torch.equal(T["after.model.norm.weight"], P["model.norm.weight"]))
        check("(g) run_reference.py CLI writes logits, loss, every gradient, weights after AdamW",
              ok, f"{len(T)} tensors, loss {T['loss'].item():.5f}")


def main():
    torch.set_num_threads(1)  # tiny tensors: threads only add contention on a busy machine
    torch.manual_seed(0)
    start = time.time()
    for fn in (check_gradients, check_adamw, check_documents, check_gqa, check_stories,
               check_safetensors, check_blocks, check_cli):
        t0 = time.time()
        try:
            fn()
        except Exception as e:  # a crash in one group is a failure, the rest still run
            import traceback
            traceback.print_exc()
            check(f"{fn.__name__} raised", False, f"{type(e).__name__}: {e}")
        print(f"      {fn.__name__}: {time.time() - t0:.1f}s", flush=True)
    print(f"({time.time() - start:.1f}s, torch {torch.__version__})")
    print(f"{RESULTS['passed']} passed, {RESULTS['failed']} failed")
    sys.exit(1 if RESULTS["failed"] else 0)


if __name__ == "__main__":
    main()
