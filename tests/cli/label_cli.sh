#!/usr/bin/env bash
# tests/cli/label_cli.sh: labeling done entirely from the command line, as the web app
# will do it — a complete workflow through `posttrain label`:
#   users (two labelers, a reviewer), a prompt from --text-file, reviews, replies, a local
#   model's draft (stories260K post-trained for two steps with chatml) edited by its
#   assignee (edit distance reported and equal to a Python Levenshtein; the model's draft
#   kept), a draft through an OpenAI-compatible API (`posttrain serve`), rankings by both
#   labelers and `label stats` agreement, show (text and --json), list (messages, states,
#   queues), IDOR-style refusals, and `label export --format openai` read back by
#   `posttrain data stats`; usage errors exit 2.
# Skips (77) when ../shared/data has no stories260K or python3 is missing.
set -u
cd "$(dirname "$0")/../.."
P=${POSTTRAIN:-./posttrain}
S=${SHARED_DATA:-../shared/data}/llama2c
if [ ! -f "$S/stories260K.bin" ] || [ ! -f "$S/tok512.bin" ]; then
    echo "skip: $S/stories260K.bin or tok512.bin absent"; exit 77
fi
command -v python3 > /dev/null || { echo "skip: python3 absent (used to read the database back)"; exit 77; }
T=$(mktemp -d /tmp/label_cli.XXXXXX)
server=
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$T"' EXIT
fails=0 n=0
check() {  # check NAME EXPECTED ACTUAL
    n=$((n + 1))
    if [ "$2" == "$3" ]; then echo "ok    $1"; else
        echo "FAIL  $1"; echo "      want: $2"; echo "      got:  $3"; fails=$((fails + 1)); fi
}
# refused NAME RC_WANT GREP CMD...: the command exits RC_WANT and its stderr holds GREP.
refused() {
    local name=$1 want=$2 pat=$3; shift 3
    local err rc
    err=$("$@" 2>&1 > /dev/null); rc=$?
    n=$((n + 1))
    if [ $rc = "$want" ] && [[ "$err" == *"$pat"* ]]; then echo "ok    $name"; else
        echo "FAIL  $name"; echo "      want: exit $want, '$pat'"; echo "      got:  exit $rc, '$err'"
        fails=$((fails + 1)); fi
}
msgid() { sed -n 's/^message \([0-9][0-9]*\) .*/\1/p'; }  # the id of "message N (...)"
sql() { python3 -c 'import sqlite3,sys; print("|".join(str(r[0]) for r in sqlite3.connect(sys.argv[1]).execute(sys.argv[2], sys.argv[3:])))' "$DB" "$@"; }
field() { sed -n "s/^$1 *//p"; }
DB=$T/l.db

# --- a chat model to draft with
. tests/cli/lib/chat_model.sh
. tests/cli/lib/wait.sh
chat_model "$P" "$S" "$T"
M=$T/m

# --- the project and its people
check "init" "project demo (id 1)" "$("$P" label init "$DB" --project demo | head -1)"
for u in ann:labeler ben:labeler rita:reviewer; do
    "$P" label user add "$DB" --name "${u%%:*}" --role "${u#*:}" > /dev/null || { echo "FAIL  user add $u"; exit 1; }
done

# --- a prompt (from a file: the trailing newline goes), reviewed
printf 'What is 2+2?\nAnswer briefly.\n' > "$T/prompt.txt"
out=$("$P" label prompt "$DB" --project demo --category open_qa --text-file "$T/prompt.txt" --as ann)
check "prompt by ann" "message 1 (prompt in demo, open_qa, by ann, pending)" "$out"
root=$(msgid <<< "$out")
check "the prompt text is stored without the file's last newline" "$(printf 'What is 2+2?\nAnswer briefly.')" \
    "$(sql 'select text from messages where id = ?' "$root")"
refused "ben cannot reply to ann's pending prompt (IDOR: reads as missing)" 1 "message $root: not found or not yours to read" \
    "$P" label reply "$DB" "$root" --text "4" --as ben
refused "a labeler cannot review" 1 "review: needs role reviewer (ben is labeler)" \
    "$P" label review "$DB" "$root" accept --as ben
refused "ann cannot review her own prompt either" 1 "review: needs role reviewer (ann is labeler)" \
    "$P" label review "$DB" "$root" accept --as ann
check "rita's queue: review the prompt" "review 1 What is 2+2?…" \
    "$("$P" label list "$DB" --project demo --as rita | tr -s ' ')"
check "rita accepts it" "message $root accepted by rita" "$("$P" label review "$DB" "$root" accept --as rita)"
check "ben's queue now: reply to it" "reply 1 What is 2+2?…" \
    "$("$P" label list "$DB" --project demo --as ben | tr -s ' ')"

# --- replies by both labelers, one rejected with a reason
out=$("$P" label reply "$DB" "$root" --text "2+2 = 4" --as ben)
check "ben's reply is an assistant message" "message 2 (assistant reply to 1, by ben, pending)" "$out"
r_ben=$(msgid <<< "$out")
r_ann=$("$P" label reply "$DB" "$root" --text "Four." --as ann | msgid)
r_bad=$("$P" label reply "$DB" "$root" --text "5" --as ben | msgid)
check "three reply ids" "3 4" "$r_ann $r_bad"
refused "ann cannot read ben's pending reply (the same words as a missing id)" 1 "message $r_ben: not found or not yours to read" \
    "$P" label show "$DB" "$r_ben" --as ann
refused "...as for an id that does not exist" 1 "message 999: not found or not yours to read" \
    "$P" label show "$DB" 999 --as ann
refused "--as a user who does not exist" 1 "$DB: --as nobody: no user nobody" \
    "$P" label reply "$DB" "$root" --text x --as nobody

# --- a local model's draft, for ann
out=$("$P" label draft "$DB" "$root" --assign ann --model "$M" --max-tokens 24 --seed 1 --temperature 0 2> "$T/err")
rc=$?
check "draft by the local model (exit $rc): $(head -1 <<< "$out")" 1 \
    "$([ $rc = 0 ] && [[ "$(head -1 <<< "$out")" =~ ^draft\ 1\ \(reply\ to\ 1,\ assigned\ to\ ann,\ model\ .*/m,\ [0-9]+\ bytes\)$ ]] && echo 1)"
draft_text=$(tail -n +2 <<< "$out" | sed 's/^  //')
check "the printed draft is the stored one" "$draft_text" "$(sql 'select draft from drafts where id = 1')"
check "the draft's model is the model directory" "$M" "$(sql 'select model from drafts where id = 1')"
out2=$("$P" label draft "$DB" "$root" --assign ann --model "$M" --max-tokens 24 --seed 1 --temperature 0 2>&1)
check "the same seed drafts the same text" "$draft_text" "$(tail -n +2 <<< "$out2" | sed 's/^  //')"
refused "a labeler cannot draft for someone else" 1 "add draft for another user: needs role reviewer (ben is labeler)" \
    "$P" label draft "$DB" "$root" --assign ann --model "$M" --as ben
refused "a draft answers a user message, not an assistant one" 1 "message $r_ben is an assistant message" \
    "$P" label draft "$DB" "$r_ben" --assign ann --model "$M"
refused "--assign a user who does not exist" 1 "--assign zed: no user zed" \
    "$P" label draft "$DB" "$root" --assign zed --model "$M"
refused "a directory that is no model" 1 "$T/nope" \
    "$P" label draft "$DB" "$root" --assign ann --model "$T/nope"
check "ann's queue starts with her drafts" "edit_draft 1|edit_draft 2" \
    "$("$P" label list "$DB" --project demo --as ann | awk '$1 == "edit_draft" {print $1, $2}' | paste -sd '|')"
check "ben's queue has no drafts" "" "$("$P" label list "$DB" --project demo --as ben 2> /dev/null | grep edit_draft)"

# --- edits: only the assignee, once
refused "ben cannot edit ann's draft" 1 "draft 1: not found or not assigned to you" \
    "$P" label edit "$DB" 1 --text "mine now" --as ben
refused "nor can the reviewer (drafts are the assignee's to edit)" 1 "draft 1: not assigned to you" \
    "$P" label edit "$DB" 1 --text "mine now" --as rita
edited="The answer is 4."
out=$("$P" label edit "$DB" 1 --text "$edited" --as ann)
want_dist=$(python3 -c '
import sys
a, b = sys.argv[1], sys.argv[2]
prev = list(range(len(b) + 1))
for i, ca in enumerate(a, 1):
    cur = [i]
    for j, cb in enumerate(b, 1):
        cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
    prev = cur
print(prev[-1])' "$draft_text" "$edited")
check "the edit is saved as ann's reply, with its edit distance" \
    "draft 1 saved as message 5 (reply to 1, pending), edit distance $want_dist" "$out"
r_edit=$(sed -n 's/.* as message \([0-9]*\) .*/\1/p' <<< "$out")
check "the model's draft is kept next to the edit" "$draft_text|$edited|$want_dist|$r_edit" \
    "$(sql 'select draft || char(124) || edited || char(124) || edit_distance || char(124) || message_id from drafts where id = 1')"
check "the reply holds the edited text, by ann" "$edited|ann|assistant" \
    "$(sql 'select m.text || char(124) || u.name || char(124) || m.role from messages m join users u on u.id = m.author_id where m.id = ?' "$r_edit")"
refused "a draft is saved once" 1 "draft 1: already saved" "$P" label edit "$DB" 1 --text "again" --as ann

# --- reviews
for id in "$r_ben" "$r_ann" "$r_edit"; do
    check "rita accepts reply $id" "message $id accepted by rita" "$("$P" label review "$DB" "$id" accept --as rita)"
done
check "rita rejects a wrong answer with a reason" "message $r_bad rejected by rita: wrong sum" \
    "$("$P" label review "$DB" "$r_bad" reject --reason "wrong sum" --as rita)"
refused "ben cannot review (even a message of ann's)" 1 "review: needs role reviewer" \
    "$P" label review "$DB" "$r_ann" reject --as ben
refused "rita cannot review a nonexistent message" 1 "message 999: not found" \
    "$P" label review "$DB" 999 accept --as rita

# --- show
out=$("$P" label show "$DB" "$r_bad" --as rita)
check "show: the path, the state and the review reason" \
    "#1 user by ann, accepted, category open_qa|#4 assistant by ben, rejected (reason: wrong sum)  <- this message|replies: 0" \
    "$(grep -E '^(#|replies)' <<< "$out" | paste -sd '|')"
check "show: the texts, indented" "  What is 2+2?|  Answer briefly.|  5" "$(grep '^  [^#]' <<< "$out" | paste -sd '|')"
out=$("$P" label show "$DB" "$root")
check "show: the replies with id, author, state and first line" \
    "  #2 assistant by ben, accepted: 2+2 = 4|  #3 assistant by ann, accepted: Four.|  #4 assistant by ben, rejected: 5|  #5 assistant by ann, accepted: $edited" \
    "$(grep '^  #' <<< "$out" | paste -sd '|')"
refused "ben reads his own rejected reply" 0 "" \
    "$P" label show "$DB" "$r_bad" --as ben
check "show --json" "1|2|ann,ben|accepted,rejected|wrong sum|open_qa|0" \
    "$("$P" label show "$DB" "$r_bad" --json | python3 -c '
import json, sys
o = json.load(sys.stdin)
p = o["path"]
print("|".join([str(o["project_id"]), str(len(p)), ",".join(m["author"] for m in p), ",".join(m["state"] for m in p),
                p[1]["review_reason"], p[0]["category"], str(len(o["replies"]))]))')"
check "show --json of the root lists 4 replies" "2,3,4,5|accepted,accepted,rejected,accepted" \
    "$("$P" label show "$DB" "$root" --json | python3 -c '
import json, sys
r = json.load(sys.stdin)["replies"]
print(",".join(str(m["id"]) for m in r) + "|" + ",".join(m["state"] for m in r))')"

# --- a root with a system message (imported): show prints it; a draft answers below it
printf '%s\n' '{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Name a colour."}]}' > "$T/sys.jsonl"
"$P" label init "$DB" --project other > /dev/null
check "import a root with a system message" "imported 1 conversations: 1 messages added, 0 already there, 0 records skipped" \
    "$("$P" label import "$DB" --project other "$T/sys.jsonl")"
sys_root=$(sql "select id from messages where text = 'Name a colour.'")
check "show: the root's system message, then its text" "  [system]|  Be brief.|  [user]|  Name a colour." \
    "$("$P" label show "$DB" "$sys_root" | grep '^  [^#]' | paste -sd '|')"
check "show --json: the system message" "Be brief." \
    "$("$P" label show "$DB" "$sys_root" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["path"][0]["system"])')"
out=$("$P" label draft "$DB" "$sys_root" --assign rita --model "$M" --max-tokens 8 --seed 1 2>&1)
check "a draft under a system message ($(head -1 <<< "$out"))" 1 \
    "$([[ "$out" == "draft 3 (reply to $sys_root, assigned to rita, "* ]] && echo 1)"

# --- list
check "list: every message, one line each" "5" "$("$P" label list "$DB" --project demo | tail -n +2 | wc -l)"
check "list --state rejected" "4 1 assistant rejected ben - 5" \
    "$("$P" label list "$DB" --project demo --state rejected | tail -n +2 | tr -s ' ' | sed 's/^ //')"
check "list --state pending: none left" "" "$("$P" label list "$DB" --project demo --state pending | tail -n +2)"

# --- rankings by both labelers: they swap the top two of three
check "ann ranks" "ranking of the replies to 1 by ann: $r_edit > $r_ben > $r_ann" \
    "$("$P" label rank "$DB" "$root" "$r_edit,$r_ben,$r_ann" --as ann)"
check "ben ranks: his top two swapped" "ranking of the replies to 1 by ben: $r_ben > $r_edit > $r_ann" \
    "$("$P" label rank "$DB" "$root" "$r_ben,$r_edit,$r_ann" --as ben)"
refused "a rejected reply cannot be ranked" 1 "rank: message $r_bad was rejected" \
    "$P" label rank "$DB" "$root" "$r_ben,$r_bad" --as ben
refused "a message that is no reply of PARENT cannot be ranked" 1 "rank: message $root is not a reply to $root" \
    "$P" label rank "$DB" "$root" "$r_ben,$root" --as ben
out=$("$P" label stats "$DB" --project demo)
check "stats: agreement of ann and ben" \
    "66.7% of 3 reply pairs in the same order, Kendall tau 0.333 (1 ranking pairs)" "$(field agreement <<< "$out")"
check "stats: rankings" "2" "$(field rankings <<< "$out")"
check "stats: drafts, one saved, with its edit distance" "2 (saved 1, mean edit distance $want_dist.0)" "$(field drafts <<< "$out")"
check "stats: assistant messages by state" "4 (pending 0, accepted 3, rejected 1)" "$(field assistant <<< "$out")"
check "stats: per user (ann: 3 accepted, 1 open draft, 1 edited, 1 ranking)" "ann labeler 0 3 0 1 1 1 0" \
    "$(grep '^ann ' <<< "$out" | tr -s ' ')"
check "stats: rita's 5 reviews" "rita reviewer 0 0 0 0 0 0 5" "$(grep '^rita ' <<< "$out" | tr -s ' ')"

# --- export, read back
"$P" label export "$DB" --project demo --format openai --out "$T/sft.jsonl" 2> /dev/null
out=$("$P" data stats "$T/sft.jsonl")
check "data stats reads the openai export: one conversation per accepted reply" \
    "3 (conversations 3, token sequences 0, documents 0)" "$(field records <<< "$out")"
check "its messages" "system 0, user 3, assistant 3" "$(field messages <<< "$out")"
check "the edited draft is in the export, the rejected reply is not" "1 0" \
    "$(grep -c "\"content\":\"$edited\"" "$T/sft.jsonl") $(grep -c '"content":"5"' "$T/sft.jsonl")"
refused "a labeler cannot export" 1 "needs role reviewer (ann is labeler)" \
    "$P" label export "$DB" --project demo --format openai --as ann
refused "nor read the stats" 1 "needs role reviewer (ben is labeler)" "$P" label stats "$DB" --as ben
check "a reviewer exports the same lines as the local admin" "$(cat "$T/sft.jsonl")" \
    "$("$P" label export "$DB" --project demo --format openai --as rita)"
check "rankings export: one line per labeler" 2 "$("$P" label export "$DB" --project demo --format rankings | wc -l)"

# --- a draft through an OpenAI-compatible API (posttrain serve)
"$P" serve --model "$M" --port 0 --api-key K --quiet 2> "$T/serve.log" &
server=$!
port=$(serve_port "$T/serve.log")
if [ -z "$port" ]; then
    check "serve starts" "" "$(cat "$T/serve.log")"
else
    export LABEL_KEY=K
    out=$("$P" label draft "$DB" "$root" --assign ben --api-base "http://127.0.0.1:$port" --api-key-env LABEL_KEY \
        --api-model m --max-tokens 16 --seed 2 2>&1)
    rc=$?
    check "draft through the API: $(head -1 <<< "$out")" 1 \
        "$([ $rc = 0 ] && [[ "$(head -1 <<< "$out")" == "draft 4 (reply to 1, assigned to ben, model m, "* ]] && echo 1)"
    check "the API draft is stored for ben" "ben|m" \
        "$(sql 'select u.name || char(124) || d.model from drafts d join users u on u.id = d.assignee_id where d.id = 4')"
    refused "a wrong key is a clear error" 1 "HTTP 401" "$P" label draft "$DB" "$root" --assign ben \
        --api-base "http://127.0.0.1:$port" --api-model m
    kill "$server"; wait "$server" 2> /dev/null; server=
fi

# --- label serve DB: the web app alone, as `serve --label DB`
"$P" label serve "$DB" --port 0 --quiet 2> "$T/label_serve.log" &
server=$!
port=$(serve_port "$T/label_serve.log")
health=$(curl -s "http://127.0.0.1:$port/health" 2>&1)
login=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$port/label/" 2>&1)
check "label serve: the app without a model ($health)" 1 \
    "$([[ "$health" == *'"label":true'* ]] && [[ "$health" == *'"model":null'* ]] && [[ "$login" == "303 "*/label/login ]] && echo 1)"
kill "$server"; wait "$server" 2> /dev/null; server=
refused "label serve needs DB" 2 "expected DB" "$P" label serve --port 0

# --- usage errors exit 2
refused "review needs accept or reject" 2 "expected accept or reject" "$P" label review "$DB" 1 maybe
refused "rank needs --as" 2 "--as USER is required" "$P" label rank "$DB" 1 2,3
refused "rank ids are integers" 2 "expected a positive integer id" "$P" label rank "$DB" 1 2,x --as ann
refused "reply needs a text" 2 "--text TEXT or --text-file FILE" "$P" label reply "$DB" 1 --as ann
refused "not both --text and --text-file" 2 "--text TEXT or --text-file FILE" \
    "$P" label reply "$DB" 1 --text a --text-file "$T/prompt.txt"
refused "draft: a model or an API, not both" 2 "either --model DIR" \
    "$P" label draft "$DB" 1 --assign ann --model "$M" --api-base http://127.0.0.1:9
refused "draft needs --assign" 2 "--assign USER is required" "$P" label draft "$DB" 1 --model "$M"
refused "prompt: an unknown category" 2 "--category poetry" \
    "$P" label prompt "$DB" --project demo --category poetry --text x
refused "list: an unknown state" 2 "--state done" "$P" label list "$DB" --project demo --state done
refused "show: an id is a positive integer" 2 "expected a positive integer id" "$P" label show "$DB" 0
refused "edit needs --as" 2 "--as USER is required" "$P" label edit "$DB" 2 --text x
refused "a missing --text-file is an I/O error naming it" 1 "$T/none.txt" \
    "$P" label reply "$DB" 1 --text-file "$T/none.txt" --as ann

echo "$((n - fails)) passed, $fails failed"
[ $fails -eq 0 ]
