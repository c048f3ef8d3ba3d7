"""run_reference.py: the command-line face of reference.py, for the C parity tests.

Given a model directory and a batch of token ids (+ optional loss mask and document ids),
writes one safetensors file holding everything the C side must reproduce:
  logits            (B,T,V)  forward output at the initial weights
  loss              (1,)     masked cross-entropy (sum of weighted NLL / normaliser)
  grad.<name>       d loss / d parameter, for every parameter, HF names
and with --steps K:
  losses            (K,)     the loss before each of the K AdamW steps
  after.<name>      every parameter after K steps of forward, backward, clip, AdamW
Values are float32 unless --dtype f64 (then the whole computation runs in float64).

  /usr/bin/python3 tests/torch/run_reference.py --model DIR --ids 1,5,7,2 [--mask 0,1,1,1] \
      [--doc 0,0,1,1] [--steps 2 --lr 1e-3 --weight-decay 0.1 --clip 1.0] --out ref.safetensors
Batches: rows separated by ';' (--ids "1,2,3;4,5,6"), same for --mask and --doc.
"""
import argparse
import os
import sys

import torch

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference as R  # noqa: E402
from safetensors_io import save as st_save  # noqa: E402


def parse_rows(text, dtype):
    """ "1,2,3;4,5,6" -> tensor (2,3); a leading @ reads the text from a file."""
    if text.startswith("@"):
        with open(text[1:]) as f:
            text = f.read()
    rows = [[float(x) for x in r.replace(" ", ",").split(",") if x.strip()]
            for r in text.replace("\n", ";").split(";") if r.strip()]
    if len({len(r) for r in rows}) != 1:
        raise SystemExit("rows of different lengths")
    return torch.tensor(rows, dtype=torch.float64).to(dtype)


def compute(a):
    dtype = torch.float64 if a.dtype == "f64" else torch.float32
    cfg, P = R.load_model(a.model, dtype)
    ids = parse_rows(a.ids, torch.int64)
    mask = parse_rows(a.mask, dtype) if a.mask else None
    doc = parse_rows(a.doc, torch.int64) if a.doc else None
    for t, n in ((mask, "--mask"), (doc, "--doc")):
        if t is not None and t.shape != ids.shape:
            raise SystemExit(f"{n} shape {tuple(t.shape)} != ids shape {tuple(ids.shape)}")
    out = {}
    logits = R.forward(cfg, P, ids, doc)
    loss = R.masked_loss(logits, ids, mask, a.normaliser)
    loss.backward()
    out["logits"], out["loss"] = logits.detach(), loss.detach().reshape(1)
    for n, p in P.items():
        out["grad." + n] = p.grad.detach().clone() if p.grad is not None else torch.zeros_like(p)
    if a.steps:
        losses = R.train_steps(cfg, P, ids, mask, doc, a.steps, a.lr, (a.beta1, a.beta2), a.eps,
                               a.weight_decay, a.clip, a.normaliser, a.decay_embeddings)
        out["losses"] = torch.tensor(losses, dtype=dtype)
        for n, p in P.items():
            out["after." + n] = p.detach().clone()
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--ids", required=True)
    ap.add_argument("--mask")
    ap.add_argument("--doc", help="document id per token (packed sequences)")
    ap.add_argument("--normaliser", type=float, help="loss divisor (default: number of targets)")
    ap.add_argument("--out", required=True)
    ap.add_argument("--dtype", choices=["f32", "f64"], default="f32")
    ap.add_argument("--steps", type=int, default=0, help="AdamW steps on the same batch")
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--beta1", type=float, default=0.9)
    ap.add_argument("--beta2", type=float, default=0.999)
    ap.add_argument("--eps", type=float, default=1e-8)
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--clip", type=float, default=None, help="global gradient norm limit")
    ap.add_argument("--decay-embeddings", action="store_true")
    ap.add_argument("--threads", type=int, default=1,
                    help="torch threads (1: small models run fastest and reproducibly)")
    a = ap.parse_args(argv)
    torch.set_num_threads(a.threads)
    out = compute(a)
    meta = {k: v for k, v in vars(a).items() if v is not None and k not in ("ids", "mask", "doc", "threads")}
    st_save(a.out, out, meta)
    print(f"loss {out['loss'].item():.9g}  wrote {len(out)} tensors to {a.out}")


if __name__ == "__main__":
    main()
