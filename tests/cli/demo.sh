#!/usr/bin/env bash
# tests/cli/demo.sh: `posttrain demo --quick` end to end — corpus, tokenizer, pretraining,
# the protocol's tokens, conversations, SFT, base-vs-SFT evaluation — then checks what it
# wrote: results.json with the six metrics as fractions and loose bounds (the base model
# never writes a proper assistant turn, SFT mostly does), report.html (and a Chromium
# screenshot of it in build/artifacts/ when Chromium is installed), the models, and that a
# second run reuses every stage. Skipped under the sanitizers: training takes minutes
# there, and the same code paths run in tests/cli/train.sh.
set -u
cd "$(dirname "$0")/../.."
P=${POSTTRAIN:-./posttrain}
PY=/usr/bin/python3
if [ -n "${SANITIZED:-}" ]; then
    echo "skip: the demo trains for minutes; under ASan it would take too long (train.sh covers its code)"
    exit 77
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
ok() { echo "ok    $1"; }
fail() { echo "FAIL  $1"; fails=$((fails + 1)); }

start=$(date +%s)
if "$P" demo --quick --out "$T/d" > "$T/log" 2>&1; then
    ok "posttrain demo --quick finished in $(($(date +%s) - start)) s"
else
    fail "demo failed: $(tail -n 5 "$T/log")"
fi
tail -n 25 "$T/log" | sed 's/^/      /'

"$PY" - "$T/d/results.json" <<'EOF' && ok "results.json: six metrics in [0,1], base format < 10%, SFT format >= 60%" || fail "results.json"
import json, sys
r = json.load(open(sys.argv[1]))
names = ["format", "arithmetic", "followup", "refusal", "false_refusal", "identity"]
for side in ("base", "sft"):
    assert sorted(r[side]) == sorted(names), r[side]
    assert all(0 <= r[side][k] <= 1 for k in names), r[side]
assert all(r["n"][k] > 0 for k in names), r["n"]
# The base model has never seen the protocol; SFT teaches it the format.
assert r["base"]["format"] < 0.1, r["base"]
assert r["sft"]["format"] >= 0.6, r["sft"]
print("   ", {k: (round(r["base"][k], 2), round(r["sft"][k], 2)) for k in names})
EOF

for f in report.html base/model.safetensors base/loss.svg base_chat/tokenizer.json sft/model.safetensors \
         sft/tokenizer_config.json sft/loss.svg sft/metrics.jsonl corpus/tokenizer.json; do
    [ -s "$T/d/$f" ] || fail "missing $f"
done
grep -q '<svg' "$T/d/report.html" && grep -q 'im_end' "$T/d/report.html" &&
    ok "report.html has the loss curves and the token view" || fail "report.html content"
grep -q '"posttrain_template"' "$T/d/sft/tokenizer_config.json" &&
    ok "the SFT model carries its chat template" || fail "sft/tokenizer_config.json has no template"

# A re-run reuses the finished stages (no training): it only evaluates again.
"$P" demo --quick --out "$T/d" > "$T/log2" 2>&1 && grep -q 'reusing' "$T/log2" &&
    ! grep -q 'tok/s' "$T/log2" && ok "a second run reuses every training stage" ||
    fail "re-run: $(tail -n 3 "$T/log2")"

# The trained model answers in the terminal.
printf 'What is 2+3?\n' | "$P" chat --model "$T/d/sft" --temperature 0 > "$T/chat" 2>&1 &&
    [ -s "$T/chat" ] && ok "posttrain chat answers: $(head -c 80 "$T/chat" | tr '\n' ' ')" ||
    fail "chat on the demo's model: $(cat "$T/chat")"

if [ -x /usr/bin/chromium ]; then
    mkdir -p build/artifacts
    if timeout 60 /usr/bin/chromium --headless --no-sandbox --disable-gpu --window-size=1200,2600 \
            --screenshot="$PWD/build/artifacts/demo-report.png" "file://$T/d/report.html" > /dev/null 2>&1 &&
        [ -s build/artifacts/demo-report.png ]; then
        ok "report.html rendered in Chromium: build/artifacts/demo-report.png"
    else
        fail "Chromium could not render report.html"
    fi
else
    echo "note: no /usr/bin/chromium, report screenshot not taken"
fi

[ $fails -eq 0 ] && echo "all cases passed" || echo "$fails case(s) failed"
[ $fails -eq 0 ]
