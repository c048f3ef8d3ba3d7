#!/usr/bin/env bash
# tests/cli/infer.sh: `posttrain sample` and `posttrain chat` on stories260K (llama2.c's
# TinyStories model, converted here).
#   sample: greedy from BOS is the known story; --prompt continues the text; --ids prints
#     one line of N ids; the same seed gives the same text, another seed other text; a
#     --stop string ends the text before it; bad options are usage errors (exit 2).
#   chat: the model post-trained here for 30 steps on two chatml conversations answers
#     them back greedily with piped stdin (one line = one turn); /tokens shows the
#     rendered conversation, /save appends it as OpenAI JSONL, /reset and /system work;
#     a model without the template's tokens is refused with a clear error.
# Skips (77) when ../shared/data has no stories260K.
set -u
cd "$(dirname "$0")/../.."
P=${POSTTRAIN:-./posttrain}
S=${SHARED_DATA:-../shared/data}/llama2c
if [ ! -f "$S/stories260K.bin" ] || [ ! -f "$S/tok512.bin" ]; then
    echo "skip: $S/stories260K.bin or tok512.bin absent"; exit 77
fi
T=$(mktemp -d /tmp/infer.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0
check() {  # check NAME OK DETAIL
    if [ "$2" = 1 ]; then echo "ok    $1"; else echo "FAIL  $1: $3"; fails=$((fails + 1)); fi
}

"$P" convert "$S/stories260K.bin" "$T/stories" --tokenizer "$S/tok512.bin" > /dev/null 2>&1 ||
    { echo "FAIL  convert stories260K"; exit 1; }
M=$T/stories

# --- sample
out=$("$P" sample --model "$M" --prompt "" --temperature 0 -n 40 2> "$T/err")
want=" Once upon a time, there was a little girl named Lily. She loved to play outside in the park."
check "sample greedy from BOS: ${out:0:70}..." "$([[ "$out" == "$want"* ]] && echo 1)" "got '$out' $(cat "$T/err")"

out=$("$P" sample --model "$M" --prompt "Once upon a time" --temperature 0 -n 12 2>&1)
check "sample continues --prompt: $out" \
    "$([[ "$out" == "Once upon a time, there was a little girl named Lily"* ]] && echo 1)" "got '$out'"

ids=$("$P" sample --model "$M" --prompt-ids 1 --temperature 0 -n 20 --ids 2>&1)
check "sample --ids: 20 ids on one line ($ids)" \
    "$([ "$(echo "$ids" | wc -l)" = 1 ] && [ "$(echo "$ids" | wc -w)" = 20 ] && [[ "$ids" =~ ^[0-9\ ]+$ ]] && echo 1)" "got '$ids'"
# The same ids from the text form: BOS first is the default for a Llama model.
ids2=$("$P" sample --model "$M" --prompt "" --bos --temperature 0 -n 20 --ids 2>&1)
check "sample --prompt '' --bos = --prompt-ids 1" "$([ "$ids" = "$ids2" ] && echo 1)" "'$ids' vs '$ids2'"

a=$("$P" sample --model "$M" --prompt "Tom had a dog" --temperature 1 --top-p 0.9 --seed 7 -n 40 2>&1)
b=$("$P" sample --model "$M" --prompt "Tom had a dog" --temperature 1 --top-p 0.9 --seed 7 -n 40 2>&1)
c=$("$P" sample --model "$M" --prompt "Tom had a dog" --temperature 1 --top-p 0.9 --seed 8 -n 40 2>&1)
check "sample --seed 7 twice: same text; --seed 8: other text" \
    "$([ "$a" = "$b" ] && [ "$a" != "$c" ] && echo 1)" "a='$a' b='$b' c='$c'"

out=$("$P" sample --model "$M" --prompt "" --temperature 0 -n 40 --stop "girl" 2>&1)
check "sample --stop girl: '$out'" "$([ "$out" = " Once upon a time, there was a little " ] && echo 1)" "got '$out'"

out=$("$P" sample --model "$M" --prompt "" --temperature 0 -n 5 --top-k 1 --temperature 2 --ids 2>&1)
check "sample --top-k 1 at temperature 2 = greedy" "$([ "$out" = "$(echo "$ids" | cut -d' ' -f1-5)" ] && echo 1)" "got '$out'"

"$P" sample --model "$M" --prompt x --top-p 2 > /dev/null 2>&1; rc=$?
"$P" sample --model "$M" --bogus > /dev/null 2>&1; rc2=$?
"$P" sample --prompt x > /dev/null 2>&1; rc3=$?
check "sample usage errors exit 2 (--top-p 2, unknown option, no --model)" \
    "$([ $rc = 2 ] && [ $rc2 = 2 ] && [ $rc3 = 2 ] && echo 1)" "exits $rc $rc2 $rc3"
err=$("$P" sample --model "$T/nope" --prompt x 2>&1); rc=$?
check "sample on a missing model: exit 1, the file named" "$([ $rc = 1 ] && [[ "$err" == *nope* ]] && echo 1)" "$rc $err"

# --- chat
cat > "$T/conv.jsonl" <<'EOF'
{"messages":[{"role":"user","content":"Tell me a story."},{"role":"assistant","content":"Once upon a time, there was a little girl named Lily."}]}
{"messages":[{"role":"user","content":"Who is Tom?"},{"role":"assistant","content":"Tom is a boy. He likes to play."}]}
EOF
"$P" train --model "$M" --data "$T/conv.jsonl" --out "$T/chat" --template chatml --steps 30 \
    --lr 3e-3 --seq-len 64 --batch-size 2 --quiet > "$T/err" 2>&1 ||
    { echo "FAIL  train a chat model: $(cat "$T/err")"; exit 1; }
printf 'Tell me a story.\n/tokens\nWho is Tom?\n/save %s\n/reset\n/system Be brief.\nWho is Tom?\n/save %s\n/quit\nnever read\n' \
    "$T/saved.jsonl" "$T/saved.jsonl" |
    "$P" chat --model "$T/chat" --template chatml --temperature 0 -n 40 > "$T/out" 2> "$T/err"
rc=$?
r1=$(sed -n 1p "$T/out")
check "chat reply 1: $r1" "$([ $rc = 0 ] && [ "$r1" = "Once upon a time, there was a little girl named Lily." ] && echo 1)" "rc $rc: $(cat "$T/out" "$T/err")"
check "chat /tokens shows the rendered turns" \
    "$(grep -q '<|im_start|>' "$T/out" && grep -q '<|im_end|>' "$T/out" && grep -q ' tokens, ' "$T/out" && echo 1)" "$(cat "$T/out")"
n=$(grep -c '^Tom is a boy. He likes to play.$' "$T/out")
check "chat replies 2 and 3 (after /reset + /system): Tom is a boy. He likes to play. (x$n)" "$([ "$n" = 2 ] && echo 1)" "$(cat "$T/out")"
check "chat stops at /quit (the line after it is not a turn)" "$(! grep -q 'never' "$T/out" && echo 1)" "$(cat "$T/out")"
l1=$(sed -n 1p "$T/saved.jsonl"); l2=$(sed -n 2p "$T/saved.jsonl")
w1='{"messages":[{"role":"user","content":"Tell me a story."},{"role":"assistant","content":"Once upon a time, there was a little girl named Lily."},{"role":"user","content":"Who is Tom?"},{"role":"assistant","content":"Tom is a boy. He likes to play."}]}'
w2='{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Who is Tom?"},{"role":"assistant","content":"Tom is a boy. He likes to play."}]}'
check "chat /save appends OpenAI JSONL (4 messages, then system + 2 after /reset)" \
    "$([ "$l1" = "$w1" ] && [ "$l2" = "$w2" ] && echo 1)" "got: $l1 / $l2"
# The saved conversation renders with the same template (a training-data round trip).
"$P" render --tokenizer "$T/chat" --template chatml --json "$T/saved.jsonl" > /dev/null 2>&1
check "the saved JSONL is valid training data (posttrain render reads it)" "$([ $? = 0 ] && echo 1)" ""

err=$(echo hi | "$P" chat --model "$M" --template chatml 2>&1); rc=$?
check "chat on a model without chatml's tokens: exit 1, says why" \
    "$([ $rc = 1 ] && [[ "$err" == *"post-trained with a chat template"* ]] && echo 1)" "rc $rc: $err"

[ $fails -eq 0 ] && echo "all passed" || { echo "$fails failed"; exit 1; }
