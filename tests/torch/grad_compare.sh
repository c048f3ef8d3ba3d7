# tests/torch/grad_compare.sh: sourced (after env.sh) by the gradient parity tests.
# compare NAME DIR IDS MASK [DOC [STEPS]]: `posttrain score --grads` (d loss / d every
# parameter, and with STEPS the weights after that many AdamW steps: lr 1e-2, weight decay
# 0.1, clip 0.1, eps 1e-5) against tests/torch/run_reference.py on model DIR. Every tensor
# must agree: max |C - torch| / max |torch| <= 1e-4. Counts failures in $fails.
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

