#!/usr/bin/env bash
# tests/cli/grad_parity_stories.sh: the C backward pass and AdamW against PyTorch on a real
# model: llama2.c's stories260K (L=5, C=64, 8 heads, 4 kv heads, V=512, tied head) converted
# to the Hugging Face layout by `posttrain convert`. `posttrain score --grads` writes every
# parameter's gradient (grad.<name>) and, with --steps 2, the weights after 2 AdamW steps
# (after.<name>: lr 1e-2, weight decay 0.1, clip 0.1, eps 1e-5); tests/torch/run_reference.py
# writes PyTorch's on the same directory. Cases: BOS + a story sentence unmasked, then
# masked (the prompt's first tokens are not targets) with two packed documents, then the
# 2 AdamW steps. Every tensor must agree: max |C - torch| / max |torch| <= 1e-4 (gradients
# relative to the tensor's largest gradient, weights to its largest weight). Skips (77)
# without /usr/bin/python3 + torch or without ../shared/data (SHARED_DATA).
set -u
cd "$(dirname "$0")/../.."
P=${POSTTRAIN:-./posttrain}
S=${SHARED_DATA:-../shared/data}/llama2c
. tests/torch/env.sh
if ! [ -f "$S/stories260K.bin" ] || ! [ -f "$S/tok512.bin" ]; then
    echo "skip: $S/stories260K.bin or tok512.bin missing (set SHARED_DATA)"
    exit 77
fi
fails=0

# compare NAME IDS MASK DOC STEPS: C against the reference on $T/stories.
compare() {
    local name=$1 ids=$2 mask=$3 doc=$4 steps=$5 dir=$T/stories
    local args=() cargs=() rargs=()
    [ -n "$mask" ] && args+=(--mask "$mask")
    [ -n "$doc" ] && args+=(--doc "$doc")
    [ -n "$steps" ] && cargs+=(--steps "$steps") &&
        rargs+=(--steps "$steps" --lr 1e-2 --weight-decay 0.1 --clip 0.1 --eps 1e-5)
    if ! "$P" score --model "$dir" --ids "$ids" "${args[@]}" "${cargs[@]}" --grads "$T/c.safetensors" > /dev/null 2> "$T/c.err"; then
        echo "FAIL  $name: posttrain score --grads failed: $(cat "$T/c.err")"; fails=$((fails + 1)); return
    fi
    if ! "$PY" tests/torch/run_reference.py --model "$dir" --ids "$ids" "${args[@]}" "${rargs[@]}" \
            --out "$T/ref.safetensors" > /dev/null 2> "$T/ref.err"; then
        echo "FAIL  $name: run_reference.py failed: $(tail -n 3 "$T/ref.err")"; fails=$((fails + 1)); return
    fi
    "$PY" - "$name" "$T/c.safetensors" "$T/ref.safetensors" <<'EOF' || fails=$((fails + 1))
import sys
sys.path.insert(0, "tests/torch")
from safetensors_io import load
name, cpath, rpath = sys.argv[1:4]
c, r = load(cpath)[0], load(rpath)[0]
tol, ok, lines = 1e-4, True, []
worst = {"grad.": (0.0, ""), "after.": (0.0, "")}
want = sorted(k for k in r if k.startswith(("grad.", "after.")))
if sorted(c) != want:
    ok = False
    lines.append(f"  tensor names differ: C only {sorted(set(c) - set(want))}, "
                 f"reference only {sorted(set(want) - set(c))}")
for k in want:
    if k not in c:
        continue
    g, ref = c[k].double(), r[k].double()
    if g.shape != ref.shape:
        ok = False
        lines.append(f"  {k}: shape {tuple(g.shape)} vs {tuple(ref.shape)}")
        continue
    d = (g - ref).abs().max().item() / max(ref.abs().max().item(), 1e-30)
    kind = "grad." if k.startswith("grad.") else "after."
    if d > worst[kind][0]:
        worst[kind] = (d, k)
    lines.append(f"  {'ok  ' if d <= tol else 'FAIL'} {k}: max diff / max|ref| {d:.2e}")
    ok = ok and d <= tol
n_grad = sum(k.startswith("grad.") for k in want)
msg = f"{n_grad} gradients, worst {worst['grad.'][0]:.2e} ({worst['grad.'][1]})"
if any(k.startswith("after.") for k in want):
    msg += f"; weights after the steps, worst {worst['after.'][0]:.2e} ({worst['after.'][1]})"
print(f"{'ok  ' if ok else 'FAIL'}  {name}: {msg}, tol {tol:g}")
if not ok:
    print("\n".join(lines))
sys.exit(0 if ok else 1)
EOF
}

if ! "$P" convert "$S/stories260K.bin" "$T/stories" --tokenizer "$S/tok512.bin" > /dev/null; then
    echo "FAIL  posttrain convert $S/stories260K.bin"; exit 1
fi
text="Once upon a time, there was a little girl named Lily. She loved to play outside in the park."
sids=$(printf '%s' "$text" | "$P" tokenize --tokenizer "$T/stories" | tr ' ' ',')
ids="1,$sids"                                            # BOS + the text
n=$(($(printf '%s' "$ids" | tr -cd , | wc -c) + 1))
half=$((n / 2))
mask=$(seq 0 $((n - 1)) | awk '{ printf "%s%d", (NR > 1 ? "," : ""), ($1 >= 6) }')
doc=$(seq 0 $((n - 1)) | awk -v h=$half '{ printf "%s%d", (NR > 1 ? "," : ""), ($1 >= h) }')

compare "stories260K, BOS + $((n - 1)) text tokens" "$ids" "" "" ""
compare "stories260K, masked (first 6 not targets), 2 packed documents" "$ids" "$mask" "$doc" ""
compare "stories260K, 2 AdamW steps (weight decay, clipping)" "$ids" "$mask" "" 2

[ $fails -eq 0 ] && echo "all cases passed" || echo "$fails case(s) failed"
[ $fails -eq 0 ]
