#!/usr/bin/env bash
# tests/cli/train.sh: `posttrain train` end to end on small random models.
#   1. two steps of the trainer = two AdamW steps of the PyTorch reference on the same row
#      (weight decay, clipping), for Llama (GQA, untied) and GPT-2 — padding included;
#   2. gradient accumulation 4 x 1 row = one micro-batch of 4 rows (loss normalised by the
#      targets of the whole step);
#   3. packing: 4 documents packed in one row = the same 4 unpacked in 4 rows;
#   4. masked tokens give exactly zero gradient: changing a masked target changes nothing;
#   5. kill -9 after step 4, resume from the step-3 checkpoint: the same losses and the same
#      final weights, to the bit, as an uninterrupted run; the same for SIGINT (checkpoint
#      and stop);
#   6. the output directory: metrics.jsonl, loss.svg, checkpoints/latest, a model that
#      `posttrain score` loads; bad options and bad data give clear errors.
# Skips (77) when torch is missing.
set -u
cd "$(dirname "$0")/../.."
P=${POSTTRAIN:-./posttrain}
. tests/torch/env.sh
. tests/torch/models.sh
fails=0
ok() { echo "ok    $1"; }
fail() { echo "FAIL  $1"; fails=$((fails + 1)); }

# max relative difference of the tensors two safetensors files share (prefix strips
# "after." from the reference's names); prints it, exits 1 above tol.
cmp_weights() {  # cmp_weights A B PREFIX TOL
    "$PY" - "$@" <<'EOF'
import sys
sys.path.insert(0, "tests/torch")
from safetensors_io import load
a, b = load(sys.argv[1])[0], load(sys.argv[2])[0]
pre, tol = sys.argv[3], float(sys.argv[4])
b = {k[len(pre):]: v for k, v in b.items() if k.startswith(pre)}
common = sorted(set(a) & set(b))
if not common:
    print("no common tensors"); sys.exit(1)
worst = max((((a[k].double() - b[k].double()).abs().max() / b[k].double().abs().max().clamp(min=1e-30)).item(), k) for k in common)
print(f"{len(common)} tensors, worst {worst[0]:.2e} ({worst[1]})")
sys.exit(0 if worst[0] <= tol else 1)
EOF
}

jsonl_row() {  # jsonl_row IDS MASK -> {"ids": [...], "mask": [...]}
    echo "{\"ids\": [$1], \"mask\": [$2]}"
}

# 1. Two trainer steps against two reference AdamW steps on one row.
opts=(--no-shuffle --no-pack --batch-size 1 --lr 1e-2 --weight-decay 0.1 --clip 0.1 --eps 1e-5
      --beta1 0.9 --beta2 0.999 --steps 2 --quiet)
for case in "llama $T/llama $ids12,66 $mask12,1" "gpt2 $T/gpt2 $ids12 $mask12"; do
    set -- $case
    jsonl_row "$3" "$4" > "$T/one.jsonl"
    if ! "$P" train --model "$2" --data "$T/one.jsonl" --out "$T/o1" --seq-len 16 "${opts[@]}" 2> "$T/err"; then
        fail "$1: train failed: $(cat "$T/err")"; continue
    fi
    "$PY" tests/torch/run_reference.py --model "$2" --ids "$3" --mask "$4" --steps 2 --lr 1e-2 \
        --weight-decay 0.1 --clip 0.1 --eps 1e-5 --out "$T/ref.safetensors" > /dev/null 2>&1 ||
        { fail "$1: run_reference.py failed"; continue; }
    if r=$(cmp_weights "$T/o1/model.safetensors" "$T/ref.safetensors" after. 1e-4); then
        ok "$1: weights after 2 trainer steps = PyTorch AdamW (row padded 13 -> 16): $r"
    else
        fail "$1: weights after 2 trainer steps differ from PyTorch: $r"
    fi
    rm -rf "$T/o1"
done

# Four documents of different lengths for 2. and 3.
{
    jsonl_row 3,17,42,5,0,63 0,0,1,1,1,1
    jsonl_row 8,21,21,9,50,1,7,7,2 0,1,1,0,1,1,1,1,1
    jsonl_row 11,12,13,14 0,0,0,1
    jsonl_row 40,41,42,43,44,45,46 0,0,1,1,1,1,1
} > "$T/four.jsonl"
# eps 1e-4: AdamW's first step is about lr * sign(g), which would amplify the rounding
# differences of near-zero gradients (other matmul shapes, other summation orders).
base=(--model "$T/llama" --data "$T/four.jsonl" --no-shuffle --steps 1 --lr 1e-3 --eps 1e-4 --quiet)

# 2. Accumulation: 4 micro-batches of 1 row = 1 micro-batch of 4 rows.
"$P" train "${base[@]}" --no-pack --seq-len 10 --batch-size 4 --grad-accum 1 --out "$T/b4" 2> "$T/err" &&
"$P" train "${base[@]}" --no-pack --seq-len 10 --batch-size 1 --grad-accum 4 --out "$T/a4" 2>> "$T/err" ||
    fail "accumulation runs failed: $(cat "$T/err")"
if r=$(cmp_weights "$T/a4/model.safetensors" "$T/b4/model.safetensors" "" 1e-5); then
    ok "grad accumulation 4 x 1 = batch 4: $r"
else
    fail "grad accumulation 4 x 1 != batch 4: $r"
fi
l1=$(sed -n 's/.*"loss": \([^,]*\),.*/\1/p' "$T/a4/metrics.jsonl")
l2=$(sed -n 's/.*"loss": \([^,]*\),.*/\1/p' "$T/b4/metrics.jsonl")
"$PY" -c "import sys; sys.exit(abs($l1 - $l2) > 1e-5 * abs($l2))" &&
    ok "grad accumulation: same step loss ($l1 vs $l2)" || fail "accumulation loss $l1 vs $l2"

# 3. Packing: the 4 documents in one row of 32 (attention kept within each) = 4 rows.
"$P" train "${base[@]}" --seq-len 32 --batch-size 1 --out "$T/pk" 2> "$T/err" || fail "packed run failed: $(cat "$T/err")"
if r=$(cmp_weights "$T/pk/model.safetensors" "$T/b4/model.safetensors" "" 1e-5); then
    ok "packing with document masks = unpacked rows: $r"
else
    fail "packing != unpacked: $r"
fi

# 4. Masked targets contribute exactly nothing: the last two tokens have mask 0, and
#    changing them (they are never inputs to a target) leaves every gradient bit-identical.
"$P" score --model "$T/llama" --ids 3,17,42,5,0,63,8,21 --mask 0,1,1,0,1,1,0,0 --grads "$T/g1.st" > /dev/null &&
"$P" score --model "$T/llama" --ids 3,17,42,5,0,63,50,2 --mask 0,1,1,0,1,1,0,0 --grads "$T/g2.st" > /dev/null ||
    fail "score --grads failed"
cmp -s "$T/g1.st" "$T/g2.st" && ok "masked targets: gradients bit-identical when they change" ||
    fail "masked targets changed the gradients"

# 5. Resume. A reference run of 6 steps (shuffled, packed, accumulation 2) ...
for i in $(seq 1 12); do jsonl_row "$i,$((i + 3)),$((i * 2 % 60)),$((i + 9)),7" 0,1,1,1,1; done > "$T/twelve.jsonl"
run=(--model "$T/qwen2" --data "$T/twelve.jsonl" --seq-len 12 --batch-size 2 --grad-accum 2
     --steps 6 --save-every 3 --lr 3e-3 --schedule cosine --warmup 2 --weight-decay 0.1 --seed 7 --quiet)
"$P" train "${run[@]}" --out "$T/full" 2> "$T/err" || fail "reference run failed: $(cat "$T/err")"
# ... then one killed with SIGKILL after step 4 (the checkpoint of step 3 is the latest) ...
POSTTRAIN_TEST_KILL_AT_STEP=4 "$P" train "${run[@]}" --out "$T/killed" 2> /dev/null
rc=$?
[ $rc -eq 137 ] && [ "$(cat "$T/killed/checkpoints/latest")" = step-0000003 ] &&
    ok "kill -9 after step 4 leaves checkpoint step 3 (exit $rc)" || fail "kill: exit $rc, latest $(cat "$T/killed/checkpoints/latest" 2>&1)"
"$P" train "${run[@]}" --out "$T/killed" --resume "$T/killed" 2> "$T/err" || fail "resume failed: $(cat "$T/err")"
losses() { grep -o '"loss": [^,]*' "$1/metrics.jsonl"; }
if [ "$(losses "$T/full")" = "$(losses "$T/killed")" ] && [ "$(losses "$T/full" | wc -l)" = 6 ]; then
    ok "resume after kill -9: the 6 losses equal the uninterrupted run's to the last bit"
else
    fail "resume after kill -9: losses differ"; diff <(losses "$T/full") <(losses "$T/killed")
fi
cmp -s "$T/full/model.safetensors" "$T/killed/model.safetensors" &&
    ok "resume after kill -9: final weights bit-identical" || fail "resume: final weights differ"
# ... and one stopped by SIGINT after step 2: it checkpoints step 2 and exits 130.
POSTTRAIN_TEST_SIGNAL_AT_STEP=2 "$P" train "${run[@]}" --out "$T/int" 2> /dev/null
rc=$?
[ $rc -eq 130 ] && [ "$(cat "$T/int/checkpoints/latest")" = step-0000002 ] &&
    ok "SIGINT: checkpoint of step 2, exit 130" || fail "SIGINT: exit $rc, latest $(cat "$T/int/checkpoints/latest" 2>&1)"
"$P" train "${run[@]}" --out "$T/int" --resume "$T/int/checkpoints/step-0000002" 2> "$T/err" ||
    fail "resume after SIGINT failed: $(cat "$T/err")"
cmp -s "$T/full/model.safetensors" "$T/int/model.safetensors" && [ "$(losses "$T/full")" = "$(losses "$T/int")" ] &&
    ok "resume after SIGINT: bit-identical losses and weights" || fail "resume after SIGINT differs"
"$P" train "${run[@]}" --batch-size 1 --out "$T/int" --resume "$T/int" 2> "$T/err"
grep -q 'batch-size' "$T/err" && ok "resume with another --batch-size is refused: $(cat "$T/err")" ||
    fail "resume with changed options: $(cat "$T/err")"

# 6. The output directory.
[ -s "$T/full/loss.svg" ] && grep -q '<polyline' "$T/full/loss.svg" && ok "loss.svg has a curve" || fail "loss.svg"
[ -f "$T/full/checkpoints/step-0000006/optimizer.bin" ] && [ ! -d "$T/full/checkpoints/step-0000003" ] &&
    ok "checkpoints: the last kept, older removed" || fail "checkpoints: $(ls "$T/full/checkpoints")"
"$P" score --model "$T/full" --ids 1,4,2,10,7 > /dev/null && ok "the trained model loads in score" || fail "score on the output"

# eval: the target loss of one document is score's masked loss; targets + context = all.
jsonl_row 3,17,42,5,0,63,8,21 0,1,1,0,1,1,0,1 > "$T/ev.jsonl"
ev=$("$P" eval --model "$T/llama" --data "$T/ev.jsonl" --seq-len 8 --json)
sc=$("$P" score --model "$T/llama" --ids 3,17,42,5,0,63,8,21 --mask 0,1,1,0,1,1,0,1 --json)
"$PY" - "$ev" "$sc" <<'EOF' && ok "eval: loss = score's masked loss, 5 targets + 2 context tokens" || fail "eval vs score: $ev / $sc"
import json, sys
ev, sc = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert abs(ev["loss"] - sc["loss"]) <= 1e-5 * abs(sc["loss"]), (ev, sc)
assert ev["targets"] == 5 and ev["context_tokens"] == 2 and ev["documents"] == 1, ev
EOF

err=$("$P" train --model "$T/llama" --data "$T/four.jsonl" --out "$T/x" --steps 0 2>&1)
[ $? -eq 2 ] && ok "--steps 0 is a usage error: $err" || fail "--steps 0: $err"
printf '{"ids": [1, 2, 3], "mask": [0, 1]}\n' > "$T/bad.jsonl"
err=$("$P" train --model "$T/llama" --data "$T/bad.jsonl" --out "$T/x" --steps 1 2>&1)
[ $? -eq 1 ] && echo "$err" | grep -q 'bad.jsonl:1' && ok "bad data names file and line: $err" || fail "bad data: $err"
printf '{"ids": [1, 2, 300], "mask": [0, 1, 1]}\n' > "$T/big.jsonl"
err=$("$P" train --model "$T/llama" --data "$T/big.jsonl" --out "$T/x" --steps 1 2>&1)
[ $? -eq 1 ] && echo "$err" | grep -q 'vocabulary' && ok "an id beyond the vocabulary: $err" || fail "big id: $err"

[ $fails -eq 0 ] && echo "all cases passed" || echo "$fails case(s) failed"
[ $fails -eq 0 ]
