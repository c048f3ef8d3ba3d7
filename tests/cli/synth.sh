#!/usr/bin/env bash
# tests/cli/synth.sh: `posttrain synth` end to end on stories260K post-trained for two
# steps with chatml (the model rambles; the test checks the machinery, not the prose).
#   local:  --model writes one OpenAI line per topic with the asked turns; the same seed
#           gives the same file; `data stats` reads it.
#   resume: a run killed with SIGKILL mid-way, plus a torn last line, then resumed gives
#           exactly the uninterrupted run's lines: no id twice, none missing.
#   remote: against `posttrain serve --api-key K` on a free loopback port: conversations
#           through /v1/chat/completions; a wrong key is a clean 401 error, not retried;
#           a closed port is retried with backoff, then a clear error.
#   label:  --label-db routes each conversation into a labeling project as a draft to edit.
#   usage errors exit 2.
# Skips (77) when ../shared/data has no stories260K.
set -u
cd "$(dirname "$0")/../.."
P=${POSTTRAIN:-./posttrain}
S=${SHARED_DATA:-../shared/data}/llama2c
if [ ! -f "$S/stories260K.bin" ] || [ ! -f "$S/tok512.bin" ]; then
    echo "skip: $S/stories260K.bin or tok512.bin absent"; exit 77
fi
T=$(mktemp -d /tmp/synth.XXXXXX)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$T"' EXIT
fails=0
check() {  # check NAME OK DETAIL
    if [ "$2" = 1 ]; then echo "ok    $1"; else echo "FAIL  $1: $3"; fails=$((fails + 1)); fi
}
ids() { grep -o '"synth_id":"[^"]*"' "$1" | sort; }

. tests/cli/lib/chat_model.sh
. tests/cli/lib/wait.sh
chat_model "$P" "$S" "$T"
M=$T/m

# --- local
printf '# animals\ncats\ndogs\nWhy is the sky blue?\nthe sea\n' > "$T/topics.txt"
"$P" synth --model "$M" --topics "$T/topics.txt" --out "$T/a.jsonl" --turns 2 --max-tokens 24 \
    --seed 3 > "$T/out" 2> "$T/err"
rc=$?
n=$(wc -l < "$T/a.jsonl")
msgs=$(grep -c '"messages":\[{"role":"user".*{"role":"assistant".*{"role":"user".*{"role":"assistant"' "$T/a.jsonl")
check "local: 4 topics -> 4 lines of 2 turns ($(cat "$T/out"))" \
    "$([ $rc = 0 ] && [ "$n" = 4 ] && [ "$msgs" = 4 ] && echo 1)" "rc $rc, $n lines, $msgs with 2 turns: $(cat "$T/err")"
q=$(grep -c '"messages":\[{"role":"user","content":"Why is the sky blue?"}' "$T/a.jsonl")
check "local: the seed question is the first user message" "$([ "$q" = 1 ] && echo 1)" "$(cat "$T/a.jsonl")"
"$P" synth --model "$M" --topics "$T/topics.txt" --out "$T/a2.jsonl" --turns 2 --max-tokens 24 \
    --seed 3 --quiet > /dev/null 2>&1
check "local: the same seed gives the same file" "$(cmp -s "$T/a.jsonl" "$T/a2.jsonl" && echo 1)" "differ"
out=$("$P" synth --model "$M" --topics "$T/topics.txt" --out "$T/a.jsonl" --turns 2 --max-tokens 24 --seed 3 2>&1)
check "local: a second run finds all done: $(echo "$out" | head -1)" \
    "$([[ "$out" == *"0 written"*"4 done before"* ]] && [ "$(wc -l < "$T/a.jsonl")" = 4 ] && echo 1)" "$out"
stats=$("$P" data stats "$T/a.jsonl" 2>&1)
check "data stats reads the output" \
    "$([[ "$stats" == *"conversations 4"* ]] && [[ "$stats" == *"user 8, assistant 8"* ]] && echo 1)" "$stats"

# --- into a labeling project as drafts to edit
"$P" label init "$T/l.db" --project synth > /dev/null 2>&1 &&
    "$P" label user add "$T/l.db" --name ann --role labeler > /dev/null 2>&1 ||
    { echo "FAIL  label init: $("$P" label init "$T/l.db" --project synth 2>&1)"; exit 1; }
out=$("$P" synth --model "$M" --topics "$T/topics.txt" --out "$T/l.jsonl" --turns 2 --max-tokens 24 --seed 3 \
    --label-db "$T/l.db" --label-project synth --label-assignee ann --quiet 2>&1)
rc=$?
stats=$("$P" label stats "$T/l.db" 2>&1)
check "--label-db: 4 drafts for ann, the earlier turns as messages" \
    "$([ $rc = 0 ] && [[ "$out" == *"4 drafts added to project synth"* ]] && grep -Eq '^drafts +4 ' <<< "$stats" &&
       grep -Eq '^ann +labeler .* 4 ' <<< "$stats" && grep -Eq '^user +8 ' <<< "$stats" && echo 1)" "rc $rc: $out $stats"
out=$("$P" synth --model "$M" --topics "$T/topics.txt" --out "$T/l2.jsonl" --label-db "$T/l.db" --label-project nope 2>&1)
check "--label-project that does not exist: a clear error" "$([[ "$out" == *"no project nope"* ]] && echo 1)" "$out"

# --- kill -9 mid-run, then resume
for i in $(seq 1 12); do echo "animals of kind $i"; done > "$T/t12.txt"
run12() { "$P" synth --model "$M" --topics "$T/t12.txt" --out "$1" --turns 2 --max-tokens 32 --seed 9 --quiet --threads 1; }
run12 "$T/full.jsonl" > /dev/null 2>&1
"$P" synth --model "$M" --topics "$T/t12.txt" --out "$T/cut.jsonl" --turns 2 --max-tokens 32 --seed 9 --quiet --threads 1 \
    > /dev/null 2>&1 &
pid=$!
wait_lines "$T/cut.jsonl" 3  # at most ~20 s
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
before=$(wc -l < "$T/cut.jsonl")
printf '{"synth_id":"s9-t' >> "$T/cut.jsonl"  # a torn record, as a crash mid-write leaves
out=$(run12 "$T/cut.jsonl" 2>&1)
rc=$?
check "killed after $before of 12, resumed: $(echo "$out" | tail -1)" \
    "$([ $rc = 0 ] && [ "$before" -lt 12 ] && [[ "$out" == *"torn last line"* ]] && echo 1)" "rc $rc before $before: $out"
dups=$(ids "$T/cut.jsonl" | uniq -d | wc -l)
check "resumed file: 12 lines, no id twice, the same ids as an uninterrupted run" \
    "$([ "$(wc -l < "$T/cut.jsonl")" = 12 ] && [ "$dups" = 0 ] && [ "$(ids "$T/cut.jsonl")" = "$(ids "$T/full.jsonl")" ] && echo 1)" \
    "$(wc -l < "$T/cut.jsonl") lines, $dups duplicate ids"
check "resumed file = the uninterrupted one, line for line" "$(cmp -s "$T/cut.jsonl" "$T/full.jsonl" && echo 1)" "differ"

# --- kill -9 mid-run while routing into a labeling project: the file opens cleanly, and
# the accepted work already in it is all there (SQLite's own integrity check, via Python)
"$P" label init "$T/k.db" --project k > /dev/null 2>&1 &&
    "$P" label import "$T/k.db" --project k "$T/full.jsonl" > /dev/null 2>&1 ||
    { echo "FAIL  label import: $("$P" label import "$T/k.db" --project k "$T/full.jsonl" 2>&1)"; exit 1; }
accepted_before=$("$P" label stats "$T/k.db" | sed -n 's/^assistant .*accepted \([0-9]*\),.*/\1/p')
"$P" synth --model "$M" --topics "$T/t12.txt" --out "$T/k.jsonl" --turns 2 --max-tokens 32 --seed 9 --quiet --threads 1 \
    --label-db "$T/k.db" --label-project k > /dev/null 2>&1 &
pid=$!
wait_lines "$T/k.jsonl" 3  # at most ~20 s
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
lines=$(wc -l < "$T/k.jsonl")
integrity=$(/usr/bin/python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA integrity_check").fetchone()[0])' "$T/k.db" 2>&1)
stats=$("$P" label stats "$T/k.db" 2>&1)
accepted_after=$(sed -n 's/^assistant .*accepted \([0-9]*\),.*/\1/p' <<< "$stats")
drafts=$(sed -n 's/^drafts *\([0-9]*\) .*/\1/p' <<< "$stats")
check "kill -9 with --label-db after $lines lines: integrity $integrity, accepted $accepted_after of $accepted_before, $drafts drafts" \
    "$([ "$integrity" = ok ] && [ -n "$accepted_before" ] && [ "$accepted_before" -gt 0 ] && [ "$accepted_after" = "$accepted_before" ] &&
       [ "$drafts" -le "$lines" ] && [ "$drafts" -ge $((lines - 1)) ] && echo 1)" "$stats"

# --- remote, against posttrain serve
"$P" serve --model "$M" --port 0 --api-key K --quiet 2> "$T/serve.log" &
server=$!
port=$(serve_port "$T/serve.log")
if [ -z "$port" ]; then
    echo "FAIL  serve did not start: $(cat "$T/serve.log")"; exit 1
fi
export SYNTH_KEY=K BAD_KEY=nope
out=$("$P" synth --api-base "http://127.0.0.1:$port" --api-key-env SYNTH_KEY --api-model m \
    --topics "$T/topics.txt" --out "$T/r.jsonl" --turns 2 --max-tokens 16 --seed 1 2>&1)
rc=$?
n=$(wc -l < "$T/r.jsonl")
check "remote: 4 conversations through /v1/chat/completions ($(echo "$out" | tail -1))" \
    "$([ $rc = 0 ] && [ "$n" = 4 ] && [[ "$out" == *"0 retries"* ]] && echo 1)" "rc $rc, $n lines: $out"
out=$("$P" synth --api-base "http://127.0.0.1:$port/v1/" --api-key-env BAD_KEY --api-model m \
    --topics "$T/topics.txt" --out "$T/r2.jsonl" --retries 3 --backoff 0.05 2>&1)
rc=$?
check "remote: a wrong key is a clean 401 error, not retried" \
    "$([ $rc = 1 ] && [[ "$out" == *"HTTP 401: Incorrect API key"* ]] && [[ "$out" == *"1 requests, 0 retries"* ]] && echo 1)" "rc $rc: $out"
kill $server; wait $server 2>/dev/null; server=
start=$SECONDS
out=$("$P" synth --api-base "http://127.0.0.1:$port" --api-model m --topics "$T/topics.txt" \
    --out "$T/r3.jsonl" --retries 2 --backoff 0.05 --timeout 5 2>&1)
rc=$?
check "remote: a closed port is retried twice with backoff, then a clear error" \
    "$([ $rc = 1 ] && [[ "$out" == *"retry 1/2 in"* ]] && [[ "$out" == *"retry 2/2 in"* ]] && [[ "$out" == *"gave up after 3 attempts"* ]] && [ $((SECONDS - start)) -lt 5 ] && echo 1)" "rc $rc: $out"

# --- usage
"$P" synth --topics "$T/topics.txt" --out "$T/u.jsonl" > /dev/null 2>&1; r1=$?
"$P" synth --model "$M" --api-base http://x --api-model m --topics "$T/topics.txt" --out "$T/u.jsonl" > /dev/null 2>&1; r2=$?
"$P" synth --api-base http://x --api-model m --api-key-env PT_NO_SUCH_VAR --topics "$T/topics.txt" --out "$T/u.jsonl" > /dev/null 2>&1; r3=$?
"$P" synth --model "$M" --topics "$T/topics.txt" --out "$T/u.jsonl" --near-dup 2 > /dev/null 2>&1; r4=$?
check "usage errors exit 2 (no model, both, unset key variable, --near-dup 2)" \
    "$([ $r1 = 2 ] && [ $r2 = 2 ] && [ $r3 = 2 ] && [ $r4 = 2 ] && echo 1)" "$r1 $r2 $r3 $r4"

echo "$fails failed"
[ $fails = 0 ]
