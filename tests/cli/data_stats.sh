#!/usr/bin/env bash
# tests/cli/data_stats.sh: `posttrain data stats` — fixtures of every format written here,
# compressed input, bad records, the JSON form; then the real samples in ../shared/data
# (skipped, with the reason, when absent) and token counts (when npm tiktoken is there).
set -u
P=${POSTTRAIN:-./posttrain}
D=${SHARED_DATA:-../shared/data}/datasets
V=node_modules/tiktoken/encoders
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0 n=0
check() {  # check NAME EXPECTED ACTUAL
    n=$((n + 1))
    if [ "$2" == "$3" ]; then echo "ok    $1"; else
        echo "FAIL  $1"; echo "      want: $2"; echo "      got:  $3"; fails=$((fails + 1)); fi
}
# field NAME: the value of one row of the table ("messages  system 0, ...")
field() { sed -n "s/^$1 *//p"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

cat > "$T/chat.jsonl" <<'J'
{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is 2+2?"},{"role":"assistant","content":"2+2 = 4"}]}
{"messages":[{"role":"robot","content":"x"}]}
{"messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function"}]}
{"messages":[{"role":"user","content":"hé"},{"role":"assistant","content":"ok","weight":0}]}
J
out=$($P data stats --skip-bad "$T/chat.jsonl")
check "records" "2 (conversations 2, token sequences 0, documents 0)" "$(echo "$out" | field records)"
check "messages per role" "system 1, user 2, assistant 2" "$(echo "$out" | field messages)"
check "chars per role (characters, not bytes)" "system 9, user 14, assistant 9" "$(echo "$out" | field chars)"
check "bad records by kind" "json 0, utf8 0, field 0, role 1, tools 1, too_long 0" "$(echo "$out" | field 'bad records')"
check "the first bad record of a kind is shown with file:line" "yes" \
    "$(echo "$out" | grep -q "first role .*chat.jsonl:2: messages\[0\].role" && echo yes)"
err=$($P data stats "$T/chat.jsonl" 2>&1); rc=$?
check "without --skip-bad the first bad record stops it" "1 yes" \
    "$rc $(echo "$err" | grep -q 'chat.jsonl:2: messages\[0\].role: expected system|user|assistant, got "robot"' && echo yes)"

# Dolly (gzip), UltraChat (zstd), ShareGPT as a .json array, Alpaca, tokens, text: one run.
printf '%s\n' '{"instruction":"Name a fish.","context":"","response":"Tope","category":"classification"}' \
    '{"instruction":"When?","context":"In 2000.","response":"2000","category":"closed_qa"}' | gzip > "$T/dolly.jsonl.gz"
if command -v zstd >/dev/null; then
    echo '{"id":"0","data":["q1","a1","q2","a2"]}' | zstd -q > "$T/ultra.jsonl.zst"
else
    echo '{"id":"0","data":["q1","a1","q2","a2"]}' > "$T/ultra.jsonl.zst"  # plain is sniffed as plain
fi
printf '[\n {"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}\n]\n' > "$T/sg.json"
echo '{"instruction":"Add","input":"2 and 2","output":"4"}' > "$T/alpaca.jsonl"
echo '{"ids":[1,2,3],"mask":[0,1,1]}' > "$T/tok.jsonl"
printf 'a plain document\n' > "$T/doc.txt"
out=$($P data stats "$T/dolly.jsonl.gz" "$T/ultra.jsonl.zst" "$T/sg.json" "$T/alpaca.jsonl" "$T/tok.jsonl" "$T/doc.txt")
check "formats detected per file" "6 (sharegpt 1, alpaca 1, dolly 1, ultrachat 1, tokens 1, text 1)" "$(echo "$out" | field files)"
check "records by kind" "7 (conversations 5, token sequences 1, documents 1)" "$(echo "$out" | field records)"
check "turns" "mean 1.20, max 2 (user messages per conversation)" "$(echo "$out" | field turns)"
check "Dolly categories" "classification 1, closed_qa 1" "$(echo "$out" | field categories)"

# Formats forced, oasst options, --max-line.
cat > "$T/flat.jsonl" <<'J'
{"message_id":"p1","parent_id":null,"role":"prompter","text":"P1","lang":"en"}
{"message_id":"a1","parent_id":"p1","role":"assistant","text":"A1","lang":"en","rank":1}
{"message_id":"a2","parent_id":"p1","role":"assistant","text":"A2","lang":"en","rank":0}
{"message_id":"a3","parent_id":"p1","role":"assistant","text":"A3","lang":"en","deleted":true}
{"message_id":"p2","parent_id":null,"role":"prompter","text":"P2","lang":"de"}
{"message_id":"b1","parent_id":"p2","role":"assistant","text":"B1","lang":"de"}
J
check "oasst table: every thread" "3" "$($P data stats --json "$T/flat.jsonl" | json "d['records']")"
check "oasst table: --best-only --lang en" "1 1 1" \
    "$($P data stats --json --best-only --lang en "$T/flat.jsonl" | json "d['records'], d['oasst_filtered'], d['oasst_deleted']")"
check "oasst line in the table" "deleted or failed-review messages 1, threads dropped by --lang 0" \
    "$($P data stats "$T/flat.jsonl" | field oasst)"
check "--format forces a format" "1 0" \
    "$(echo '{"text":"t","messages":[]}' | $P data stats --json --format text - | json "d['documents'], d['conversations']")"
{ printf '{"text":"'; head -c 300000 /dev/zero | tr '\0' x; printf '"}\n'; } > "$T/long.jsonl"
echo '{"text":"short"}' >> "$T/long.jsonl"
check "--max-line: a longer line is counted and skipped" "1 1" \
    "$($P data stats --json --skip-bad --max-line 100000 "$T/long.jsonl" | json "d['records'], d['bad']['too_long']")"
printf '{"text":"ok"}\n{"text":"bad \xff"}\n' > "$T/u8.jsonl"
err=$($P data stats "$T/u8.jsonl" 2>&1)
check "invalid UTF-8 names line and byte" "yes" "$(echo "$err" | grep -q 'u8.jsonl:2: invalid UTF-8 at byte 13' && echo yes)"
err=$($P data stats --format nope "$T/u8.jsonl" 2>&1); rc=$?
check "unknown --format is a usage error" "2 yes" "$rc $(echo "$err" | grep -q "unknown format 'nope'" && echo yes)"
err=$(echo '{"question":"x"}' | $P data stats - 2>&1); rc=$?
check "undetectable keys are named" "1 yes" "$rc $(echo "$err" | grep -q '<stdin>:1: cannot tell the data format from the keys {"question"}' && echo yes)"

if [ -f $V/o200k_base.json ]; then
    echo '{"messages":[{"role":"user","content":"What is 2+2?"},{"role":"assistant","content":"2+2 = 4"}]}' > "$T/seed.jsonl"
    check "tokens per role with a tokenizer and template (the seed: 21 ids, 7 targets)" "21 7 7 6 8" \
        "$($P data stats --json --tokenizer o200k_base --vocab-dir $V --template gpt4o "$T/seed.jsonl" |
           json "d['tokens']['total'], d['tokens']['targets'], d['tokens']['user'], d['tokens']['assistant'], d['tokens']['template']")"
    err=$($P data stats --tokenizer o200k_base --vocab-dir $V "$T/seed.jsonl" 2>&1); rc=$?
    check "--tokenizer without --template is a usage error" "2" "$rc"
else
    echo "skip  token counts: npm tiktoken missing (npm ci)"
fi

if [ -d "$D" ]; then
    out=$($P data stats --skip-bad "$D/llama_factory/glaive_toolcall_en_demo.json")
    check "glaive_toolcall: all 300 records refused as tool use" "json 0, utf8 0, field 0, role 0, tools 300, too_long 0" \
        "$(echo "$out" | field 'bad records')"
    check "toy_chat_fine_tuning: the cookbook's role counts" "system 4, user 7, assistant 8" \
        "$($P data stats "$D/openai_chat/toy_chat_fine_tuning.jsonl" | field messages)"
    check "sharegpt_zh: 4379 human and 4372 gpt turns (SOURCES.md)" "system 0, user 4379, assistant 4372" \
        "$($P data stats "$D/sharegpt/sharegpt_zh_1K_format.jsonl" | field messages)"
    check "oasst2 trees: threads, best en threads, dropped, deleted" "506 49 68 92" \
        "$($P data stats --json "$D/oasst/oasst2_filtered.trees.jsonl" | json "d['records']") $($P data stats --json --best-only --lang en "$D/oasst/oasst2_filtered.trees.jsonl" | json "d['records'], d['oasst_filtered'], d['oasst_deleted']")"
    check "mt_bench: 80 questions in 8 categories" "80 8" \
        "$($P data stats --json "$D/mt_bench/mt_bench_question.jsonl" | json "d['records'], len(d['categories'])")"
    check "several real files in one run" "4 (openai 1, sharegpt 1, alpaca 2)" \
        "$($P data stats "$D/openai_chat/toy_chat_fine_tuning.jsonl" "$D/sharegpt/sharegpt_zh_1K_format.jsonl" "$D/alpaca/belle_dev1K.jsonl" "$D/llama_factory/alpaca_en_demo.json" | field files)"
else
    echo "skip  real samples: $D is absent"
fi

echo "$((n - fails)) passed, $fails failed"
[ $fails -eq 0 ]
