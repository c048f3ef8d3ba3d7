#!/usr/bin/env bash
# tests/cli/convert.sh: `posttrain convert` against independent PyTorch code.
#   llm.c     a random gpt2 .bin (odd sizes, padded vocab) written here: llm.c's forward on
#             the raw (out, in) arrays = tests/torch/reference.py on the converted directory.
#   llama2.c  the real stories260K.bin: every tensor bit-identical to tests/torch/
#             llama2c_to_hf.py's, the same config, --dtype bf16 = torch's rounding, and greedy
#             decoding of the C-converted directory writes llama2.c's TinyStories opening.
# Plus the command-line errors. Skips (77) without /usr/bin/python3 + torch, or (after the
# llm.c part) without ../shared/data (SHARED_DATA).
set -u
cd "$(dirname "$0")/../.."
P=${POSTTRAIN:-./posttrain}
D=${SHARED_DATA:-../shared/data}/llama2c
. tests/torch/env.sh
fails=0 n=0
check() {  # check NAME EXPECTED ACTUAL
    n=$((n + 1))
    if [ "$2" == "$3" ]; then echo "ok    $1"; else
        echo "FAIL  $1"; echo "      want: $2"; echo "      got:  $3"; fails=$((fails + 1)); fi
}

# ---------------------------------------------------------------------------- llm.c
$PY - "$T/gpt2_tiny.bin" <<'PYEOF'
import struct, sys
import numpy as np
maxT, V, L, NH, C, Vp = 7, 11, 2, 3, 12, 16
hdr = [20240326, 3, maxT, V, L, NH, C, Vp] + [0] * 248
sizes = [Vp * C, maxT * C, L * C, L * C, L * 3 * C * C, L * 3 * C, L * C * C, L * C, L * C, L * C,
         L * 4 * C * C, L * 4 * C, L * C * 4 * C, L * C, C, C]
rng = np.random.default_rng(5)
vals = np.concatenate([rng.standard_normal(n).astype("<f4") * 0.5 for n in sizes])
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<256i", *hdr) + vals.tobytes())
PYEOF
out=$($P convert "$T/gpt2_tiny.bin" "$T/gpt2"); rc=$?
check "llm.c: convert exits 0" 0 $rc
check "llm.c: one-line summary" "llm.c $T/gpt2_tiny.bin -> GPT2LMHeadModel: 4008 parameters (L=2 C=12 H=3 V=11, tied head), f32, $T/gpt2" "$out"
$PY - "$T/gpt2_tiny.bin" "$T/gpt2" <<'PYEOF'
import math, struct, sys
import numpy as np, torch
sys.path.insert(0, "tests/torch")
import reference as R
blob = open(sys.argv[1], "rb").read()
maxT, V, L, NH, C, Vp = struct.unpack("<6i", blob[8:32])
flat = torch.from_numpy(np.frombuffer(blob, "<f4", offset=1024).astype(np.float64))
shapes = [("wte", (Vp, C)), ("wpe", (maxT, C)), ("ln1w", (L, C)), ("ln1b", (L, C)),
          ("qkvw", (L, 3 * C, C)), ("qkvb", (L, 3 * C)), ("attprojw", (L, C, C)), ("attprojb", (L, C)),
          ("ln2w", (L, C)), ("ln2b", (L, C)), ("fcw", (L, 4 * C, C)), ("fcb", (L, 4 * C)),
          ("fcprojw", (L, C, 4 * C)), ("fcprojb", (L, C)), ("lnfw", (C,)), ("lnfb", (C,))]
W, at = {}, 0
for name, shape in shapes:
    k = math.prod(shape)
    W[name], at = flat[at:at + k].view(shape), at + k
def ln(x, w, b):
    mu = x.mean(-1, keepdim=True)
    return (x - mu) / torch.sqrt(((x - mu) ** 2).mean(-1, keepdim=True) + 1e-5) * w + b
def llmc_forward(ids):  # llm.c train_gpt2.c's layers, matrices (out, in): y = x W^T + b
    T, hs = len(ids), C // NH
    x = W["wte"][ids] + W["wpe"][:T]
    for l in range(L):
        qkv = ln(x, W["ln1w"][l], W["ln1b"][l]) @ W["qkvw"][l].T + W["qkvb"][l]
        q, k, v = (qkv[:, i * C:(i + 1) * C].view(T, NH, hs).transpose(0, 1) for i in range(3))
        att = (q @ k.transpose(1, 2) / math.sqrt(hs)).masked_fill(
            torch.ones(T, T).triu(1).bool(), float("-inf")).softmax(-1)
        y = (att @ v).transpose(0, 1).reshape(T, C)
        x = x + y @ W["attprojw"][l].T + W["attprojb"][l]
        h = ln(x, W["ln2w"][l], W["ln2b"][l]) @ W["fcw"][l].T + W["fcb"][l]
        h = 0.5 * h * (1 + torch.tanh(math.sqrt(2 / math.pi) * (h + 0.044715 * h ** 3)))
        x = x + h @ W["fcprojw"][l].T + W["fcprojb"][l]
    return (ln(x, W["lnfw"], W["lnfb"]) @ W["wte"].T)[:, :V]  # padded rows dropped
ids = [3, 0, 10, 7, 7, 1, 9]
cfg, P = R.load_model(sys.argv[2], torch.float64)
with torch.no_grad():
    ref = llmc_forward(ids)
    d = (R.forward(cfg, P, torch.tensor([ids]))[0] - ref).abs().max().item()
ok = d < 1e-10
print(f"{'ok  ' if ok else 'FAIL'}  llm.c forward on the raw arrays = reference.py on the converted "
      f"directory: max abs diff {d:.1e} (float64, logits up to {ref.abs().max().item():.1f}, "
      f"{len(ids)} positions, V={V} of Vp={Vp})")
sys.exit(0 if ok else 1)
PYEOF
check "llm.c: logits agree" 0 $?

if ! [ -f "$D/stories260K.bin" ] || ! [ -f "$D/tok512.bin" ]; then
    echo "$((n - fails)) passed, $fails failed"
    [ $fails -eq 0 ] || exit 1
    echo "skip: $D/stories260K.bin or tok512.bin missing (set SHARED_DATA)"
    exit 77
fi

# ---------------------------------------------------------------------------- llama2.c
out=$($P convert "$D/stories260K.bin" "$T/c/sub" --tokenizer "$D/tok512.bin"); rc=$?
check "llama2.c: convert exits 0" 0 $rc
check "llama2.c: one-line summary" "llama2.c $D/stories260K.bin -> LlamaForCausalLM: 260032 parameters (L=5 C=64 H=8 V=512, tied head), f32, $T/c/sub (+ tokenizer.bin)" "$out"
check "tokenizer copied byte for byte" yes "$(cmp -s "$D/tok512.bin" "$T/c/sub/tokenizer.bin" && echo yes)"
$P convert "$D/stories260K.bin" "$T/bf16" --dtype bf16 >/dev/null
$PY tests/torch/llama2c_to_hf.py "$D/stories260K.bin" "$T/py" >/dev/null || { echo "FAIL  llama2c_to_hf.py"; exit 1; }

$PY - "$T/c/sub" "$T/py" "$T/bf16" "$D/tok512.bin" <<'PYEOF'
import json, os, sys
import torch
sys.path.insert(0, "tests/torch")
import llama2c_to_hf as L2, reference as R, safetensors_io as S
c_dir, py_dir, bf_dir, tok = sys.argv[1:5]
fails = 0
def check(name, ok, detail=""):
    global fails
    fails += not ok
    print(f"{'ok  ' if ok else 'FAIL'}  {name}  {detail}")
C, _ = S.load(os.path.join(c_dir, "model.safetensors"), keep_dtype=True)
Py, _ = S.load(os.path.join(py_dir, "model.safetensors"), keep_dtype=True)
same = sorted(C) == sorted(Py)
diff = [k for k in sorted(C) if k in Py and not (C[k].dtype == Py[k].dtype and torch.equal(C[k], Py[k]))]
check("C and PyTorch converters: the same tensor names", same, f"{len(C)} vs {len(Py)}")
check("every tensor bit-identical (dtype, shape, values)", same and not diff, f"differ: {diff[:3]}")
cc, pc = (json.load(open(os.path.join(d, "config.json"))) for d in (c_dir, py_dir))
keys = [k for k in pc if k in cc and cc[k] != pc[k]]
check("config.json agrees on every key the PyTorch converter writes", not keys and set(pc) <= set(cc),
      f"differ: {keys}")
B, _ = S.load(os.path.join(bf_dir, "model.safetensors"), keep_dtype=True)
bad = [k for k in C if B[k].dtype != torch.bfloat16 or not torch.equal(B[k], C[k].to(torch.bfloat16))]
check("--dtype bf16 = torch's float32 -> bfloat16 rounding", not bad, f"differ: {bad[:3]}")
cfg, P = R.load_model(c_dir)
pieces = L2.read_tokenizer(tok, cfg.vocab)
want = " Once upon a time, there was a little girl named Lily"
ids = [1]
with torch.no_grad():
    while len(L2.decode(pieces, ids[1:])) < len(want) and len(ids) < 64:
        ids.append(int(R.forward(cfg, P, torch.tensor([ids]))[0, -1].argmax()))
text = L2.decode(pieces, ids[1:])
check("greedy decoding of the C-converted model (reference.py)", text.startswith(want), repr(text))
sys.exit(1 if fails else 0)
PYEOF
check "llama2.c: tensor comparison and greedy text" 0 $?

# ---------------------------------------------------------------------------- errors
err=$($P convert "$D/tok512.bin" "$T/x" 2>&1); rc=$?
check "a non-checkpoint is an error naming the file" "1 yes" "$rc $(echo "$err" | grep -q "tok512.bin: not a llama2.c" && echo yes)"
head -c 200000 "$D/stories260K.bin" > "$T/cut.bin"
err=$($P convert "$T/cut.bin" "$T/x" 2>&1); rc=$?
check "a truncated checkpoint names the short array" "1 yes" "$rc $(echo "$err" | grep -q "cut.bin: truncated: array wq" && echo yes)"
err=$($P convert "$D/stories260K.bin" "$T/x" --dtype f16 2>&1); rc=$?
check "--dtype f16 is a usage error" "2 yes" "$rc $(echo "$err" | grep -q "expected f32 or bf16" && echo yes)"
err=$($P convert "$D/stories260K.bin" 2>&1); rc=$?
check "a missing OUT_DIR is a usage error" "2 yes" "$rc $(echo "$err" | grep -q "needs IN and OUT_DIR" && echo yes)"
check "no directory left by failed runs" no "$([ -e "$T/x" ] && echo yes || echo no)"

echo "$((n - fails)) passed, $fails failed"
[ $fails -eq 0 ]
