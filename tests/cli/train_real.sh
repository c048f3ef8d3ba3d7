#!/usr/bin/env bash
# tests/cli/train_real.sh: a real data set through the whole recipe from the command line
# (docs/training.md): stories260K converted -> `data stats` -> `data prepare` (chatml, a
# validation split) -> `train` (SFT, a few steps, checkpoint) -> `eval` of the base and the
# trained model on the held-out split: the trained model's target loss must be lower.
# Needs ../shared/data (skips with the reason otherwise).
set -u
cd "$(dirname "$0")/../.."
P=${POSTTRAIN:-./posttrain}
S=${SHARED_DATA:-../shared/data}
if [ ! -f "$S/llama2c/stories260K.bin" ] || [ ! -f "$S/datasets/llama_factory/alpaca_en_demo.json" ]; then
    echo "skip: $S/llama2c/stories260K.bin or $S/datasets/llama_factory/alpaca_en_demo.json missing"
    exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
ok() { echo "ok    $1"; }
fail() { echo "FAIL  $1"; fails=$((fails + 1)); }
DATA=("$S/datasets/llama_factory/alpaca_en_demo.json" "$S/datasets/llama_factory/identity.json")

"$P" convert "$S/llama2c/stories260K.bin" "$T/base" --tokenizer "$S/llama2c/tok512.bin" > /dev/null ||
    fail "convert"
out=$("$P" data stats "${DATA[@]}" 2>&1)
echo "$out" | grep -q 'records *1090' && ok "data stats: 1090 records" || fail "data stats: $out"
"$P" data prepare --tokenizer "$T/base" --template chatml --val 0.05 --max-len 256 --seed 3 \
    --out "$T/prep" "${DATA[@]}" > "$T/prep.log" 2>&1 || fail "data prepare: $(tail -n 3 "$T/prep.log")"
grep -q 'val ' "$T/prep.log" && ok "data prepare: $(grep -E '^ +(train|val) ' "$T/prep.log" | tr -s ' ' | tr '\n' ';')" ||
    fail "prepare summary: $(cat "$T/prep.log")"
"$P" train --model "$T/base" --data "$T/prep" --out "$T/sft" --seq-len 256 --batch-size 4 \
    --lr 2e-3 --steps 12 --warmup 2 --schedule cosine --eval-every 6 --save-every 6 --quiet 2> "$T/train.log" ||
    fail "train: $(tail -n 3 "$T/train.log")"
[ -s "$T/sft/model.safetensors" ] && [ -s "$T/sft/loss.svg" ] && [ -f "$T/sft/checkpoints/latest" ] &&
    [ "$(grep -c val_loss "$T/sft/metrics.jsonl")" = 2 ] && ok "train: model, loss.svg, checkpoint, 2 validations" ||
    fail "train outputs: $(ls "$T/sft")"
b=$("$P" eval --model "$T/base" --data "$T/prep" --seq-len 256 --json) || fail "eval base"
a=$("$P" eval --model "$T/sft" --data "$T/prep" --seq-len 256 --json) || fail "eval sft"
/usr/bin/python3 - "$b" "$a" <<'EOF' && ok "eval on the val split: base $(echo "$b" | grep -o '"loss": [0-9.]*') -> trained $(echo "$a" | grep -o '"loss": [0-9.]*')" || fail "eval: base $b / trained $a"
import json, sys
b, a = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert b["split"] == a["split"] == "val" and a["targets"] == b["targets"] > 0, (a, b)
assert a["loss"] < b["loss"] - 0.5, (a["loss"], b["loss"])
EOF
# The trained model's directory carries the template: chat uses it without options.
printf 'Hello\n' | "$P" chat --model "$T/sft" --temperature 0 -n 8 > "$T/chat" 2>&1 &&
    ok "chat on the trained model: $(head -c 60 "$T/chat" | tr '\n' ' ')" || fail "chat: $(cat "$T/chat")"

[ $fails -eq 0 ] && echo "all cases passed" || echo "$fails case(s) failed"
[ $fails -eq 0 ]
