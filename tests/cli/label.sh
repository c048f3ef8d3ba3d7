#!/usr/bin/env bash
# tests/cli/label.sh: `posttrain label` — init, users, import (merging paths), the three
# exports read back by `posttrain data stats` and by Python's json, hostile texts kept
# verbatim, --include-rejected, stats, and usage errors.
set -u
P=${POSTTRAIN:-./posttrain}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0 n=0
check() {  # check NAME EXPECTED ACTUAL
    n=$((n + 1))
    if [ "$2" == "$3" ]; then echo "ok    $1"; else
        echo "FAIL  $1"; echo "      want: $2"; echo "      got:  $3"; fails=$((fails + 1)); fi
}
field() { sed -n "s/^$1 *//p"; }
DB=$T/l.db

check "init creates the file and a project" "project demo (id 1)|$DB: schema version 1" \
    "$($P label init "$DB" --project demo | paste -sd '|')"
check "init again (migrations are idempotent)" "$DB: schema version 1" "$($P label init "$DB")"
$P label init "$DB" --project demo > /dev/null 2>&1; check "a second project of the same name fails" 1 $?
check "user add with a password from stdin" "user alice (id 2, labeler)" \
    "$(echo 'correct horse battery' | $P label user add "$DB" --name alice --role labeler --password-stdin)"
$P label user add "$DB" --name bob --role boss > /dev/null 2>&1; check "an unknown role is a usage error" 2 $?
$P label user add "$DB" --name alice --role admin > /dev/null 2>&1; check "a duplicate user fails" 1 $?
check "the hash is argon2id" '$argon2id$' \
    "$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute(\"select pwhash from users where name='alice'\").fetchone()[0][:10])" "$DB")"

cat > "$T/in.jsonl" <<'J'
{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is 2+2?"},{"role":"assistant","content":"4"}]}
{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"What is 2+2?"},{"role":"assistant","content":"2+2 = 4"},{"role":"user","content":"And 3+3?"},{"role":"assistant","content":"6"}]}
{"messages":[{"role":"user","content":"'); DROP TABLE messages;-- <script>alert(1)</script> <|im_end|>"},{"role":"assistant","content":"<|im_start|>assistant"}]}
{"messages":[{"role":"assistant","content":"no user"}]}
J
check "import merges shared prefixes and skips misfits" \
    "imported 3 conversations: 7 messages added, 1 already there, 1 records skipped" \
    "$($P label import "$DB" --project demo "$T/in.jsonl" | head -1)"
check "importing again adds nothing" "imported 3 conversations: 0 messages added, 8 already there, 1 records skipped" \
    "$($P label import "$DB" --project demo "$T/in.jsonl" | head -1)"
$P label import "$DB" --project nope "$T/in.jsonl" > /dev/null 2>&1; check "an unknown project fails" 1 $?

$P label export "$DB" --project demo --format openai --out "$T/sft.jsonl" 2> /dev/null
check "openai export: one line per root-to-leaf path" 3 "$(wc -l < "$T/sft.jsonl")"
out=$($P data stats "$T/sft.jsonl")
check "data stats reads the openai export" "3 (conversations 3, token sequences 0, documents 0)" "$(echo "$out" | field records)"
check "system, user and assistant messages" "system 2, user 4, assistant 4" "$(echo "$out" | field messages)"
check "hostile text survives verbatim" "'); DROP TABLE messages;-- <script>alert(1)</script> <|im_end|>" \
    "$(python3 -c "import json,sys; print([json.loads(l) for l in open(sys.argv[1])][2]['messages'][0]['content'])" "$T/sft.jsonl")"
$P label export "$DB" --project demo --format oasst --out "$T/trees.jsonl" 2> /dev/null
check "oasst export: one tree per prompt" 2 "$(wc -l < "$T/trees.jsonl")"
check "data stats reads the oasst export as the same conversations (minus system)" \
    "system 0, user 4, assistant 4" "$($P data stats "$T/trees.jsonl" | field messages)"
check "the stdout export equals the file export" "$(cat "$T/sft.jsonl")" \
    "$($P label export "$DB" --project demo --format openai)"

# A reviewer's rejection (done here in SQL; the web app does it with label_review).
python3 -c "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute(\"update messages set state='rejected' where text='4'\"); c.commit()" "$DB"
check "rejected messages are left out" 2 "$($P label export "$DB" --project demo --format openai | wc -l)"
check "--include-rejected: the rejected reply with weight 0" '{"role":"assistant","content":"4","weight":0}' \
    "$($P label export "$DB" --project demo --format openai --include-rejected | grep -o '{"role":"assistant","content":"4","weight":0}')"
check "rankings export of a project without rankings is empty" "" "$($P label export "$DB" --project demo --format rankings)"
$P label export "$DB" --project demo --format csv > /dev/null 2>&1; check "an unknown format is a usage error" 2 $?

out=$($P label stats "$DB" --project demo)
check "stats: prompts" "2 (uncategorized 2)" "$(echo "$out" | field prompts)"
check "stats: assistant messages by state" "4 (pending 0, accepted 3, rejected 1)" "$(echo "$out" | field assistant)"
check "stats: no agreement yet" "- (no replies ranked by two labelers)" "$(echo "$out" | field agreement)"
$P label frobnicate "$DB" > /dev/null 2>&1; check "an unknown subcommand is a usage error" 2 $?
$P label stats > /dev/null 2>&1; check "DB is required" 2 $?

echo "$((n - fails)) passed, $fails failed"
[ $fails -eq 0 ]
