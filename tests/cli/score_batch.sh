#!/usr/bin/env bash
# tests/cli/score_batch.sh: `posttrain score --ids-file`, a batch of sequences scored in one
# forward of B rows padded to the longest (the pads are never targets).
#   rows = alone   on random models of each architecture (tests/torch/make_model.py): each
#                  row's loss, count and log-probs equal `score --ids` of that row alone
#                  (with its --mask / --doc), and the total is the weighted mean of the rows'
#                  losses (their targets together); rows of different lengths, plain id lines
#                  (commas, spaces) and JSON lines with a mask and document ids, mixed
#   gradients      `--ids-file … --grads` (the padded batch is one (B,T) step) against
#                  tests/torch/run_reference.py on the same padded rows and mask: every
#                  parameter's gradient (Llama GQA untied; Qwen2 with 2 AdamW steps and the
#                  weights after them) to 1e-4 relative (as tests/cli/grad_parity.sh, which
#                  runs single rows)
#   formats/errors the text table, --logits per row, and usage errors naming the line.
# Skips (77) without /usr/bin/python3 + torch (the models are made with it).
set -u
cd "$(dirname "$0")/../.."
P=${POSTTRAIN:-./posttrain}
. tests/torch/env.sh
fails=0
make_model() {  # make_model DIR ARGS... (the models of tests/torch/models.sh that run here)
    local dir=$1; shift
    "$PY" tests/torch/make_model.py --out "$dir" "$@" > /dev/null || { echo "FAIL  make_model.py $*"; exit 1; }
}
make_model "$T/gpt2" --arch gpt2
make_model "$T/llama" --arch llama --odd --kv-heads 1 --untied --layers 3
make_model "$T/qwen2" --arch qwen2 --tied --kv-heads 2 --seed 5

# Four rows, lengths 12, 5, 9, 2: plain, plain with spaces, JSON with mask + doc, JSON plain.
cat > "$T/rows.txt" <<'EOF'
3,17,42,5,0,63,8,21,21,9,50,1

 7 7 30, 2 11
{"ids": [4, 9, 9, 60, 1, 2, 33, 5, 12], "mask": [0, 1, 0.5, 0, 1, 1, 2, 1, 0], "doc": [0, 0, 0, 1, 1, 1, 1, 2, 2]}
{"ids": [40, 41]}
EOF
# The same rows as score --ids/--mask/--doc arguments ("ids|mask|doc").
alone=("3,17,42,5,0,63,8,21,21,9,50,1||" "7,7,30,2,11||"
       "4,9,9,60,1,2,33,5,12|0,1,0.5,0,1,1,2,1,0|0,0,0,1,1,1,1,2,2" "40,41||")

# rows_alone NAME DIR: the batch against each row scored alone.
rows_alone() {
    local name=$1 dir=$2 r=0
    if ! "$P" score --model "$dir" --ids-file "$T/rows.txt" --json > "$T/batch.json" 2> "$T/err"; then
        echo "FAIL  $name: score --ids-file failed: $(cat "$T/err")"; fails=$((fails + 1)); return
    fi
    : > "$T/alone.jsonl"
    for row in "${alone[@]}"; do
        IFS='|' read -r ids mask doc <<< "$row"
        local args=(--ids "$ids")
        [ -n "$mask" ] && args+=(--mask "$mask")
        [ -n "$doc" ] && args+=(--doc "$doc")
        "$P" score --model "$dir" "${args[@]}" --json >> "$T/alone.jsonl" || { echo "FAIL  $name: row $r alone"; fails=$((fails + 1)); return; }
        r=$((r + 1))
    done
    "$PY" - "$name" "$T/batch.json" "$T/alone.jsonl" <<'PYEOF' || fails=$((fails + 1))
import json, sys
name, bpath, apath = sys.argv[1:4]
batch = json.load(open(bpath))
alone = [json.loads(l) for l in open(apath)]
ok = len(batch["rows"]) == len(alone)
worst, exact = 0.0, True
for b, a in zip(batch["rows"], alone):
    ok = ok and b["count"] == a["count"] and len(b["logprobs"]) == len(a["logprobs"])
    ok = ok and all((x is None) == (y is None) for x, y in zip(b["logprobs"], a["logprobs"]))
    pairs = [(b["loss"], a["loss"])] + [(x, y) for x, y in zip(b["logprobs"], a["logprobs"]) if x is not None]
    for x, y in pairs:
        worst = max(worst, abs(x - y) / max(1.0, abs(y)))
        exact = exact and x == y
n = sum(a["count"] for a in alone)
total = sum(a["loss"] * a["count"] for a in alone) / n
d_total = abs(batch["loss"] - total) / max(1.0, abs(total))
ok = ok and worst <= 1e-6 and batch["count"] == n and d_total <= 1e-6
print(f"{'ok  ' if ok else 'FAIL'}  {name}: {len(alone)} rows (counts {[a['count'] for a in alone]}) = each alone: "
      f"max diff {worst:.1e}{' (bit-identical)' if exact else ''}; total {batch['loss']:.6f} over {batch['count']} "
      f"= the rows' weighted mean (diff {d_total:.1e}, tol 1e-6)")
sys.exit(0 if ok else 1)
PYEOF
}

rows_alone "gpt2" "$T/gpt2"
rows_alone "llama GQA untied odd" "$T/llama"
rows_alone "qwen2 tied" "$T/qwen2"

# grads NAME DIR [STEPS]: the padded batch's gradients (and weights after STEPS AdamW steps)
# against the reference on the same (B,T) ids, mask (pads 0) and documents.
grads() {
    local name=$1 dir=$2 steps=${3:-} cargs=() rargs=()
    [ -n "$steps" ] && cargs+=(--steps "$steps") &&
        rargs+=(--steps "$steps" --lr 1e-2 --weight-decay 0.1 --clip 0.1 --eps 1e-5)
    # the padded (4,12) batch: ids pad 0, mask 0 on pads (and at t = 0), doc continues
    local ids="3,17,42,5,0,63,8,21,21,9,50,1;7,7,30,2,11,0,0,0,0,0,0,0;4,9,9,60,1,2,33,5,12,0,0,0;40,41,0,0,0,0,0,0,0,0,0,0"
    local mask="0,1,1,1,1,1,1,1,1,1,1,1;0,1,1,1,1,0,0,0,0,0,0,0;0,1,0.5,0,1,1,2,1,0,0,0,0;0,1,0,0,0,0,0,0,0,0,0,0"
    local doc="0,0,0,0,0,0,0,0,0,0,0,0;0,0,0,0,0,0,0,0,0,0,0,0;0,0,0,1,1,1,1,2,2,2,2,2;0,0,0,0,0,0,0,0,0,0,0,0"
    if ! "$P" score --model "$dir" --ids-file "$T/rows.txt" "${cargs[@]}" --grads "$T/c.safetensors" > /dev/null 2> "$T/err"; then
        echo "FAIL  $name: score --ids-file --grads failed: $(cat "$T/err")"; fails=$((fails + 1)); return
    fi
    if ! "$PY" tests/torch/run_reference.py --model "$dir" --ids "$ids" --mask "$mask" --doc "$doc" "${rargs[@]}" \
            --out "$T/ref.safetensors" > /dev/null 2> "$T/ref.err"; then
        echo "FAIL  $name: run_reference.py failed: $(tail -n 3 "$T/ref.err")"; fails=$((fails + 1)); return
    fi
    "$PY" - "$name" "$T/c.safetensors" "$T/ref.safetensors" <<'PYEOF' || fails=$((fails + 1))
import sys
sys.path.insert(0, "tests/torch")
from safetensors_io import load
name, cpath, rpath = sys.argv[1:4]
c, r = load(cpath)[0], load(rpath)[0]
want = sorted(k for k in r if k.startswith(("grad.", "after.")))
ok, worst, bad = sorted(c) == want, (0.0, ""), []
for k in want:
    if k not in c or c[k].shape != r[k].shape:
        ok = False
        continue
    d = (c[k].double() - r[k].double()).abs().max().item() / max(r[k].double().abs().max().item(), 1e-30)
    if d > 1e-4:
        ok = False
        bad.append(f"  {k}: {d:.2e}")
    if d > worst[0]:
        worst = (d, k)
print(f"{'ok  ' if ok else 'FAIL'}  {name}: {len(want)} tensors, worst {worst[0]:.2e} ({worst[1]}), tol 1e-4")
if bad:
    print("\n".join(bad))
sys.exit(0 if ok else 1)
PYEOF
}

grads "llama batch (4 rows) gradients = torch" "$T/llama"
grads "qwen2 batch (4 rows) + 2 AdamW steps = torch" "$T/qwen2" 2

# check NAME OK DETAIL
check() {
    if [ "$2" = 1 ]; then echo "ok    $1"; else echo "FAIL  $1: $3"; fails=$((fails + 1)); fi
}
out=$("$P" score --model "$T/llama" --ids-file "$T/rows.txt")
lines=$(printf '%s\n' "$out" | wc -l)
check "text output: a header, one line per row, the total" \
    "$([ "$lines" -eq 6 ] && [[ "$(printf '%s\n' "$out" | head -n 1)" == "row  tokens  targets"* ]] &&
       [[ "$(printf '%s\n' "$out" | tail -n 1)" == "total loss "*" over 22 target tokens in 4 rows" ]] && echo 1)" "$out"
out=$("$P" score --model "$T/llama" --ids-file - --logits < "$T/rows.txt" | grep -c '^logits of row')
check "--ids-file - reads stdin; --logits prints each row's last logits" "$([ "$out" = 4 ] && echo 1)" "$out"
a=$("$P" score --model "$T/llama" --ids-file "$T/rows.txt" --json --logits |
    "$PY" -c 'import json,sys; print(json.load(sys.stdin)["rows"][1]["logits"][:3])')
b=$("$P" score --model "$T/llama" --ids 7,7,30,2,11 --json --logits |
    "$PY" -c 'import json,sys; print(json.load(sys.stdin)["logits"][:3])')
check "--json --logits: a row's logits are at its own last token, as alone" "$([ -n "$a" ] && [ "$a" = "$b" ] && echo 1)" "$a vs $b"

printf '1,2,3\n{"ids": [1, 2], "mask": [0]}\n' > "$T/bad.txt"
out=$("$P" score --model "$T/llama" --ids-file "$T/bad.txt" 2>&1); rc=$?
check "a JSON line's short mask is a usage error naming file:line" \
    "$([ $rc -eq 2 ] && [[ "$out" == *"bad.txt:2"*"mask"* ]] && echo 1)" "rc $rc: $out"
printf '1,2,3\n4,x,6\n' > "$T/bad.txt"
out=$("$P" score --model "$T/llama" --ids-file "$T/bad.txt" 2>&1); rc=$?
check "a bad id is a usage error naming file:line" \
    "$([ $rc -eq 2 ] && [[ "$out" == *"bad.txt:2: bad number at 'x,6'"* ]] && echo 1)" "rc $rc: $out"
printf '1,2,3\n1,2,1000\n' > "$T/bad.txt"
out=$("$P" score --model "$T/llama" --ids-file "$T/bad.txt" 2>&1); rc=$?
check "an id >= vocab names its row and position" \
    "$([ $rc -eq 1 ] && [[ "$out" == *"token id 1000 at position 2 (row 1)"* ]] && echo 1)" "rc $rc: $out"
printf '\n  \n' > "$T/bad.txt"
out=$("$P" score --model "$T/llama" --ids-file "$T/bad.txt" 2>&1); rc=$?
check "a file without sequences is a usage error" "$([ $rc -eq 2 ] && [[ "$out" == *"no sequences"* ]] && echo 1)" "rc $rc: $out"
out=$("$P" score --model "$T/llama" --ids-file "$T/rows.txt" --mask 0,1 2>&1); rc=$?
check "--mask with --ids-file is a usage error" "$([ $rc -eq 2 ] && [[ "$out" == *"per line"* ]] && echo 1)" "rc $rc: $out"
out=$("$P" score --model "$T/llama" --ids-file "$T/rows.txt" --ids 1,2 2>&1); rc=$?
check "--ids with --ids-file is a usage error" "$([ $rc -eq 2 ] && [[ "$out" == *"exactly one of"* ]] && echo 1)" "rc $rc: $out"

[ $fails -eq 0 ] && echo "all cases passed" || echo "$fails case(s) failed"
[ $fails -eq 0 ]
