#!/usr/bin/env bash
# tests/cli/model_parity.sh: the C forward pass (`posttrain score`) against the PyTorch
# reference (tests/torch/reference.py via run_reference.py) on random small models of each
# architecture — GPT-2, Llama (GQA, untied, odd sizes), Llama with llama3 rope scaling,
# Qwen2 (tied, q/k/v bias) — with loss masks and packed documents (--doc), and on the real
# stories260K after conversion. Per case: |loss diff|, the max abs diff of the last
# position's logits and of every target's log-prob, each relative to the logits' scale
# max(1, max|logits|), against a tolerance of 1e-4. Skips (77) when torch is missing.
set -u
cd "$(dirname "$0")/../.."
P=${POSTTRAIN:-./posttrain}
. tests/torch/env.sh
fails=0

# compare NAME DIR IDS MASK [DOC]: score with the C binary and the reference; print the diffs.
compare() {
    local name=$1 dir=$2 ids=$3 mask=$4 doc=${5:-}
    local dargs=() pargs=()
    [ -n "$mask" ] && dargs+=(--mask "$mask") && pargs+=(--mask "$mask")
    [ -n "$doc" ] && dargs+=(--doc "$doc") && pargs+=(--doc "$doc")
    if ! "$P" score --model "$dir" --ids "$ids" "${dargs[@]}" --json --logits > "$T/c.json" 2> "$T/c.err"; then
        echo "FAIL  $name: posttrain score failed: $(cat "$T/c.err")"; fails=$((fails + 1)); return
    fi
    if ! "$PY" tests/torch/run_reference.py --model "$dir" --ids "$ids" "${pargs[@]}" \
            --out "$T/ref.safetensors" > /dev/null 2> "$T/ref.err"; then
        echo "FAIL  $name: run_reference.py failed: $(tail -n 3 "$T/ref.err")"; fails=$((fails + 1)); return
    fi
    "$PY" - "$name" "$T/c.json" "$T/ref.safetensors" "$mask" <<'EOF' || fails=$((fails + 1))
import json, sys
sys.path.insert(0, "tests/torch")
import torch
from safetensors_io import load
name, cjson, ref, mask = sys.argv[1:5]
c = json.load(open(cjson))
r = load(ref)[0]
logits = r["logits"][0].double()                          # (T,V)
T = logits.shape[0]
scale = max(1.0, logits.abs().max().item())
d_loss = abs(c["loss"] - r["loss"].item())
d_logits = (torch.tensor(c["logits"], dtype=torch.float64) - logits[-1]).abs().max().item() / scale
# logprobs: one entry per position 1..T-1, null exactly where the mask is 0
m = [float(x) for x in mask.split(",")] if mask else [1.0] * T
ok_shape = len(c["logprobs"]) == T - 1
ok_nulls = ok_shape and all((v is None) == (m[t + 1] == 0) for t, v in enumerate(c["logprobs"]))
tol = 1e-4
ok = ok_shape and ok_nulls and d_loss <= tol * scale and d_logits <= tol and c["count"] == sum(1 for x in m[1:] if x)
print(f"{'ok  ' if ok else 'FAIL'}  {name}: loss {c['loss']:.6f} (ref {r['loss'].item():.6f}, diff {d_loss:.2e}), "
      f"last logits max diff/scale {d_logits:.2e} (scale {scale:.2f}, tol {tol:g}), count {c['count']}")
sys.exit(0 if ok else 1)
EOF
}

# logprob_check NAME DIR IDS: every per-token log-prob against the reference's log_softmax.
logprob_check() {
    local name=$1 dir=$2 ids=$3
    "$P" score --model "$dir" --ids "$ids" --json > "$T/c.json" &&
    "$PY" tests/torch/run_reference.py --model "$dir" --ids "$ids" --out "$T/ref.safetensors" > /dev/null &&
    "$PY" - "$name" "$T/c.json" "$T/ref.safetensors" "$ids" <<'EOF' || fails=$((fails + 1))
import json, sys
sys.path.insert(0, "tests/torch")
import torch
from safetensors_io import load
name, cjson, ref, ids = sys.argv[1:5]
c = json.load(open(cjson))
logits = load(ref)[0]["logits"][0].double()              # (T,V)
ids = torch.tensor([int(x) for x in ids.split(",")])
want = logits[:-1].log_softmax(-1).gather(-1, ids[1:, None]).squeeze(-1)  # (T-1)
got = torch.tensor(c["logprobs"], dtype=torch.float64)
scale = max(1.0, logits.abs().max().item())
d = (got - want).abs().max().item() / scale
ok = d <= 1e-4
print(f"{'ok  ' if ok else 'FAIL'}  {name}: {len(got)} log-probs, max diff/scale {d:.2e} (tol 1e-4)")
sys.exit(0 if ok else 1)
EOF
}

. tests/torch/models.sh
compare "gpt2" "$T/gpt2" "$ids12" "$mask12"
compare "gpt2 no mask" "$T/gpt2" "$ids12" ""
compare "gpt2 --doc" "$T/gpt2" "$ids12" "$mask12" "$doc12"
compare "llama GQA untied odd" "$T/llama" "$ids12,66" "$mask12,1"
compare "llama GQA untied odd --doc" "$T/llama" "$ids12,66" "$mask12,1" "$doc12,2"
compare "llama llama3 rope" "$T/llama3" "$ids36" ""
compare "qwen2 tied" "$T/qwen2" "$ids12" "$mask12"
compare "qwen2 tied --doc" "$T/qwen2" "$ids12" "" "$doc12"
compare "qwen2 non-contiguous --doc" "$T/qwen2" "$ids12" "$mask12" 0,0,1,1,0,0,2,2,1,1,0,0
logprob_check "llama3 rope log-probs" "$T/llama3" "$ids36"
logprob_check "gpt2 log-probs" "$T/gpt2" "$ids12"

# The real stories260K (llama2.c) after conversion to the HF layout; with its tokenizer,
# `--text` must score exactly what `--ids` of the same tokens scores.
S=${SHARED_DATA:-../shared/data}/llama2c
if [ -f "$S/stories260K.bin" ] && [ -f "$S/tok512.bin" ]; then
    if "$P" convert --help > /dev/null 2>&1; then
        "$P" convert "$S/stories260K.bin" "$T/stories" --tokenizer "$S/tok512.bin" > /dev/null ||
            { echo "FAIL  posttrain convert $S/stories260K.bin"; exit 1; }
    else
        "$PY" tests/torch/llama2c_to_hf.py "$S/stories260K.bin" "$T/stories" > /dev/null ||
            { echo "FAIL  llama2c_to_hf.py"; exit 1; }
        cp "$S/tok512.bin" "$T/stories/tokenizer.bin"
    fi
    text="Once upon a time, there was a little girl named Lily. She loved to play outside."
    sids=$(printf '%s' "$text" | "$P" tokenize --tokenizer "$T/stories" | tr ' ' ',')
    compare "stories260K (BOS + story text)" "$T/stories" "1,$sids" ""
    n=$(($(printf '%s' "$sids" | tr -cd , | wc -c) + 2))  # tokens, BOS included
    smask=$(seq 0 $((n - 1)) | awk '{ printf "%s%d", (NR > 1 ? "," : ""), ($1 >= 6) }')
    compare "stories260K masked (first 6 not targets)" "$T/stories" "1,$sids" "$smask"
    logprob_check "stories260K log-probs" "$T/stories" "1,$sids"
    a=$("$P" score --model "$T/stories" --text "$text" | head -n 1)
    b=$("$P" score --model "$T/stories" --ids "1,$sids" | head -n 1)
    if [ -n "$a" ] && [ "$a" == "$b" ]; then echo "ok    --text = --ids of its tokens: $a"
    else echo "FAIL  --text: '$a' vs --ids: '$b'"; fails=$((fails + 1)); fi
else
    echo "note: $S/stories260K.bin or tok512.bin missing, stories260K cases not run"
fi

# The threads split rows only, never a sum, so 1 and 4 threads agree bit for bit.
a=$(OMP_NUM_THREADS=1 "$P" score --model "$T/llama" --ids "$ids12" --json --logits)
b=$(OMP_NUM_THREADS=4 "$P" score --model "$T/llama" --ids "$ids12" --json --logits)
if [ -n "$a" ] && [ "$a" == "$b" ]; then echo "ok    1 and 4 threads give identical output"
else echo "FAIL  1 and 4 threads differ"; fails=$((fails + 1)); fi

# Errors name what is wrong.
out=$("$P" score --model "$T/gpt2" --ids 1,2,64 2>&1); rc=$?
if [ $rc -eq 1 ] && [[ "$out" == *"token id 64 at position 2"* ]]; then echo "ok    id >= vocab names the position"
else echo "FAIL  id >= vocab: rc $rc: $out"; fails=$((fails + 1)); fi
out=$("$P" score --model "$T/gpt2" --ids 1,2,3 --mask 0,1 2>&1); rc=$?
if [ $rc -eq 2 ] && [[ "$out" == *"--mask has 2 values, but there are 3 tokens"* ]]; then echo "ok    short --mask is a usage error"
else echo "FAIL  short --mask: rc $rc: $out"; fails=$((fails + 1)); fi

[ $fails -eq 0 ] && echo "all cases passed" || echo "$fails case(s) failed"
[ $fails -eq 0 ]
