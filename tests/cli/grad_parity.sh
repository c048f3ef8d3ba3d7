#!/usr/bin/env bash
# tests/cli/grad_parity.sh: the C backward pass against PyTorch. For random small models of
# each architecture (tests/torch/make_model.py) — GPT-2, Llama (GQA, untied, odd sizes),
# Llama with llama3 rope scaling, Qwen2 (tied, q/k/v bias) — with loss masks and packed
# documents (--doc), `posttrain score --grads` writes d loss / d parameter for every
# parameter and tests/torch/run_reference.py writes PyTorch's grad.<name>. Every tensor must
# agree: max abs diff / max |reference grad| <= 1e-4. Prints a summary line per case, and
# every tensor's diff when a case fails. Skips (77) when torch is missing.
set -u
cd "$(dirname "$0")/../.."
P=${POSTTRAIN:-./posttrain}
. tests/torch/env.sh
fails=0

# compare NAME DIR IDS MASK [DOC [STEPS]]: with STEPS, also the weights after that many
# AdamW steps (score --steps: lr 1e-2, weight decay 0.1, clip 0.1, eps 1e-5) as after.<name>.
compare() {
    local name=$1 dir=$2 ids=$3 mask=$4 doc=${5:-} steps=${6:-}
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
tol, worst, lines, ok = 1e-4, (0.0, ""), [], True
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
    # after.<name>: relative to the weight's scale; grad.<name>: to the gradient's
    d = (g - ref).abs().max().item() / max(ref.abs().max().item(), 1e-30)
    if d > worst[0]:
        worst = (d, k)
    lines.append(f"  {'ok  ' if d <= tol else 'FAIL'} {k}: max diff / max|grad| {d:.2e}")
    ok = ok and d <= tol
print(f"{'ok  ' if ok else 'FAIL'}  {name}: {len(want)} tensors, worst {worst[0]:.2e} ({worst[1]}), tol {tol:g}")
if not ok:
    print("\n".join(lines))
sys.exit(0 if ok else 1)
EOF
}

. tests/torch/models.sh
wmask12=0,1,0.5,0,0,2,1,1,0,1,0.25,1  # weighted targets
compare "gpt2" "$T/gpt2" "$ids12" ""
compare "gpt2 masked" "$T/gpt2" "$ids12" "$mask12"
compare "gpt2 masked --doc" "$T/gpt2" "$ids12" "$mask12" "$doc12"
compare "llama GQA untied odd" "$T/llama" "$ids12,66" ""
compare "llama GQA untied odd weighted mask --doc" "$T/llama" "$ids12,66" "$wmask12,1" "$doc12,2"
compare "llama llama3 rope" "$T/llama3" "$ids36" ""
compare "qwen2 tied masked" "$T/qwen2" "$ids12" "$mask12"
compare "qwen2 tied non-contiguous --doc" "$T/qwen2" "$ids12" "" 0,0,1,1,0,0,2,2,1,1,0,0
# AdamW: two steps with weight decay and clipping, after.<name> against torch's arithmetic
compare "gpt2 masked + 2 AdamW steps" "$T/gpt2" "$ids12" "$mask12" "" 2
compare "llama GQA untied + 2 AdamW steps" "$T/llama" "$ids12,66" "$mask12,1" "$doc12,2" 2
compare "qwen2 tied + 2 AdamW steps" "$T/qwen2" "$ids12" "" "" 2

# The backward's threads split rows, heads or weight rows, never one sum, so 1 and 4
# threads write identical gradient files.
OMP_NUM_THREADS=1 "$P" score --model "$T/llama" --ids "$ids12" --doc "$doc12" --grads "$T/g1.safetensors" > /dev/null
OMP_NUM_THREADS=4 "$P" score --model "$T/llama" --ids "$ids12" --doc "$doc12" --grads "$T/g4.safetensors" > /dev/null
if cmp -s "$T/g1.safetensors" "$T/g4.safetensors"; then echo "ok    1 and 4 threads give identical gradients"
else echo "FAIL  1 and 4 threads give different gradients"; fails=$((fails + 1)); fi

[ $fails -eq 0 ] && echo "all cases passed" || echo "$fails case(s) failed"
[ $fails -eq 0 ]
