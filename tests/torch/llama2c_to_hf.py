"""llama2c_to_hf.py: converts a llama2.c checkpoint (legacy version-0 .bin) into the Hugging
Face Llama layout (config.json + model.safetensors), and reads llama2.c tokenizer files.

Why: the C importer (posttrain convert) must produce the same HF-layout tensors; this is the
independent reference it is checked against, and it lets reference.py run stories260K.

The .bin: 7 int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
vocab_size < 0 means an unshared classifier follows), then float32 arrays:
  token_embedding (V,C), rms_att (L,C), wq (L,C,C), wk (L,KVD,C), wv (L,KVD,C), wo (L,C,C),
  rms_ffn (L,C), w1 (L,H,C), w2 (L,C,H), w3 (L,H,C), rms_final (C),
  freq_cis_real (S,D/2), freq_cis_imag (S,D/2), [wcls (V,C)]
Matrices are [out, in] like nn.Linear. llama2.c's RoPE rotates adjacent pairs (0,1),(2,3),..
of each head; HF's rotates halves (i, i+D/2). Reordering each head's rows of wq and wk as
[0, 2, 4, .., 1, 3, 5, ..] maps one onto the other: the attention scores are unchanged
because q and k are permuted the same way, and v/wo are untouched.

  /usr/bin/python3 tests/torch/llama2c_to_hf.py stories260K.bin OUT_DIR
"""
import os
import struct
import sys

import numpy as np
import torch

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def read_llama2c(path):
    """-> (header dict, dict of raw llama2.c arrays as float32 torch tensors)."""
    with open(path, "rb") as f:
        blob = f.read()
    dim, hidden, layers, heads, kv_heads, vocab, seq = struct.unpack("<7i", blob[:28])
    hdr = {"dim": dim, "hidden_dim": hidden, "n_layers": layers, "n_heads": heads,
           "n_kv_heads": kv_heads, "vocab_size": abs(vocab), "seq_len": seq,
           "shared_classifier": vocab > 0}
    V, C, L, D = abs(vocab), dim, layers, dim // heads
    kvd = kv_heads * D
    shapes = [("token_embedding", (V, C)), ("rms_att", (L, C)), ("wq", (L, C, C)),
              ("wk", (L, kvd, C)), ("wv", (L, kvd, C)), ("wo", (L, C, C)), ("rms_ffn", (L, C)),
              ("w1", (L, hidden, C)), ("w2", (L, C, hidden)), ("w3", (L, hidden, C)),
              ("rms_final", (C,)), ("freq_cis_real", (seq, D // 2)),
              ("freq_cis_imag", (seq, D // 2))]
    if vocab < 0:
        shapes.append(("wcls", (V, C)))
    data = np.frombuffer(blob, dtype="<f4", offset=28)
    need = sum(int(np.prod(s)) for _, s in shapes)
    if data.size != need:
        raise ValueError(f"{path}: {data.size} floats after the header, expected {need}")
    raw, at = {}, 0
    for name, shape in shapes:
        n = int(np.prod(shape))
        raw[name] = torch.from_numpy(data[at:at + n].reshape(shape).copy())
        at += n
    return hdr, raw


def pairs_to_halves(w, n_heads):
    """w (n_heads*D, C) in llama2.c row order -> rows reordered per head for HF's RoPE.
    New row i < D/2 of a head is old row 2i; new row D/2 + i is old row 2i + 1."""
    rows, C = w.shape
    D = rows // n_heads
    order = torch.cat([torch.arange(0, D, 2), torch.arange(1, D, 2)])  # (D,)
    return w.view(n_heads, D, C)[:, order].reshape(rows, C)


def to_hf(hdr, raw):
    """-> (HF config dict, dict HF name -> tensor)."""
    L = hdr["n_layers"]
    cfg = {"architectures": ["LlamaForCausalLM"], "model_type": "llama",
           "vocab_size": hdr["vocab_size"], "hidden_size": hdr["dim"],
           "intermediate_size": hdr["hidden_dim"], "num_hidden_layers": L,
           "num_attention_heads": hdr["n_heads"], "num_key_value_heads": hdr["n_kv_heads"],
           "max_position_embeddings": hdr["seq_len"], "rms_norm_eps": 1e-5,
           "rope_theta": 10000.0, "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2,
           "tie_word_embeddings": hdr["shared_classifier"], "torch_dtype": "float32"}
    W = {"model.embed_tokens.weight": raw["token_embedding"], "model.norm.weight": raw["rms_final"]}
    for i in range(L):
        p = f"model.layers.{i}."
        W[p + "input_layernorm.weight"] = raw["rms_att"][i]
        W[p + "self_attn.q_proj.weight"] = pairs_to_halves(raw["wq"][i], hdr["n_heads"])
        W[p + "self_attn.k_proj.weight"] = pairs_to_halves(raw["wk"][i], hdr["n_kv_heads"])
        W[p + "self_attn.v_proj.weight"] = raw["wv"][i]
        W[p + "self_attn.o_proj.weight"] = raw["wo"][i]
        W[p + "post_attention_layernorm.weight"] = raw["rms_ffn"][i]
        W[p + "mlp.gate_proj.weight"] = raw["w1"][i]
        W[p + "mlp.down_proj.weight"] = raw["w2"][i]
        W[p + "mlp.up_proj.weight"] = raw["w3"][i]
    if not hdr["shared_classifier"]:
        W["lm_head.weight"] = raw["wcls"]
    return cfg, {k: v.contiguous() for k, v in W.items()}


def read_tokenizer(path, vocab_size):
    """llama2.c tokenizer.bin: int32 max_len, then per token float32 score, int32 len, bytes.
    -> list of byte strings."""
    with open(path, "rb") as f:
        blob = f.read()
    at, pieces = 4, []
    for _ in range(vocab_size):
        _score, n = struct.unpack("<fi", blob[at:at + 8])
        pieces.append(blob[at + 8:at + 8 + n])
        at += 8 + n
    return pieces


def decode(pieces, ids):
    """Concatenate pieces; byte tokens <0xXX> become that byte. -> str (UTF-8, replace)."""
    out = b""
    for i in ids:
        p = pieces[i]
        if len(p) == 6 and p.startswith(b"<0x") and p.endswith(b">"):
            out += bytes([int(p[3:5], 16)])
        else:
            out += p
    return out.decode("utf-8", errors="replace")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 2:
        raise SystemExit("usage: llama2c_to_hf.py MODEL.bin OUT_DIR")
    from make_model import write_model
    cfg, W = to_hf(*read_llama2c(argv[0]))
    write_model(argv[1], cfg, W)
    print(argv[1])


if __name__ == "__main__":
    main()
