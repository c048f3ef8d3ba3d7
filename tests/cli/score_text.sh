#!/usr/bin/env bash
# tests/cli/score_text.sh: `posttrain score --text` goes through the model directory's
# tokenizer, with the BOS convention of llama.cpp's perplexity: by default the tokenizer's
# BOS is put first for Llama-like models (Llama, Qwen2) whose tokenizer has one, and not for
# GPT-2; --bos / --no-bos choose. Each case compares `--text` with `--ids` of the tokens
# `posttrain tokenize --tokenizer DIR [--bos]` gives (the same first output line: loss,
# perplexity, count).
#   random models (tests/torch/make_model.py, V = 300) with a tokenizer.json trained here
#   and a tokenizer_config.json naming <|endoftext|> as BOS: Llama (BOS by default), GPT-2
#   (none by default), Qwen2 without tokenizer_config.json (no BOS: --bos is an error)
#   stories260K converted with tokenizer.bin (llama2.c's, BOS 1), when ../shared has it
# Skips (77) without /usr/bin/python3 + torch.
set -u
cd "$(dirname "$0")/../.."
P=${POSTTRAIN:-./posttrain}
S=${SHARED_DATA:-../shared/data}/llama2c
. tests/torch/env.sh
fails=0
check() {  # check NAME OK DETAIL
    if [ "$2" = 1 ]; then echo "ok    $1"; else echo "FAIL  $1: $3"; fails=$((fails + 1)); fi
}
first() { "$P" score "$@" 2>&1 | head -n 1; }
# same NAME DIR "TEXT-OPTIONS" IDS: score --text TEXT OPTIONS = score --ids IDS
same() {
    local name=$1 dir=$2 opts=$3 ids=$4
    local a b
    a=$(first --model "$dir" --text "$text" $opts)
    b=$(first --model "$dir" --ids "$ids")
    check "$name: $a" "$([[ "$a" == loss* ]] && [ "$a" = "$b" ] && echo 1)" "--text '$a' vs --ids '$b'"
}
text="Once upon a time, there was a little girl named Lily. She loved to play outside."

# A byte-level BPE tokenizer of 300 ids (299 = <|endoftext|>), BOS per tokenizer_config.json.
mkdir -p "$T/tok"
for i in 1 2 3 4 5 6 7 8; do printf '%s\n' "$text" "The quick brown fox jumps over the lazy dog."; done > "$T/corpus.txt"
"$P" tokenizer train --vocab-size 300 --special "<|endoftext|>" --out "$T/tok/tokenizer.json" "$T/corpus.txt" > /dev/null 2>&1 ||
    { echo "FAIL  tokenizer train"; exit 1; }
mk() {  # mk DIR BOS(0/1) MAKE_MODEL_ARGS...
    local dir=$1 bos=$2; shift 2
    "$PY" tests/torch/make_model.py --out "$dir" --vocab 300 "$@" > /dev/null || { echo "FAIL  make_model.py $*"; exit 1; }
    cp "$T/tok/tokenizer.json" "$dir/"
    [ "$bos" = 1 ] && echo '{"bos_token": "<|endoftext|>"}' > "$dir/tokenizer_config.json"
    return 0
}
mk "$T/llama" 1 --arch llama --kv-heads 2
mk "$T/gpt2" 1 --arch gpt2
mk "$T/qwen2" 0 --arch qwen2 --kv-heads 1
ids=$(printf '%s' "$text" | "$P" tokenize --tokenizer "$T/llama" | tr ' ' ',')
check "the trained tokenizer has BOS 299" "$([ "$(printf x | "$P" tokenize --tokenizer "$T/llama" --bos | cut -d' ' -f1)" = 299 ] && echo 1)" ""

same "llama, tokenizer with a BOS: --text = BOS + the text's ids" "$T/llama" "" "299,$ids"
same "llama --bos: the same" "$T/llama" "--bos" "299,$ids"
same "llama --no-bos: the text's ids only" "$T/llama" "--no-bos" "$ids"
same "gpt2, tokenizer with a BOS: no BOS by default" "$T/gpt2" "" "$ids"
same "gpt2 --bos: BOS first" "$T/gpt2" "--bos" "299,$ids"
same "qwen2, tokenizer without a BOS: none" "$T/qwen2" "" "$ids"
n=$(($(printf '%s' "$ids" | tr -cd , | wc -c) + 2))  # tokens with the BOS
mask=$(seq 0 $((n - 1)) | awk '{ printf "%s%d", (NR > 1 ? "," : ""), ($1 >= 3) }')
a=$(first --model "$T/llama" --text "$text" --mask "$mask")
b=$(first --model "$T/llama" --ids "299,$ids" --mask "$mask")
check "--text with --mask: the mask counts the BOS too ($n values)" "$([[ "$a" == loss* ]] && [ "$a" = "$b" ] && echo 1)" "'$a' vs '$b'"

out=$("$P" score --model "$T/qwen2" --text "$text" --bos 2>&1); rc=$?
check "--bos when the tokenizer has no BOS is a usage error" "$([ $rc -eq 2 ] && [[ "$out" == *"has no BOS"* ]] && echo 1)" "rc $rc: $out"
out=$("$P" score --model "$T/llama" --ids 1,2,3 --bos 2>&1); rc=$?
check "--bos with --ids is a usage error" "$([ $rc -eq 2 ] && [[ "$out" == *"go with --text"* ]] && echo 1)" "rc $rc: $out"
rm "$T/gpt2/tokenizer.json"
out=$("$P" score --model "$T/gpt2" --text "$text" 2>&1); rc=$?
check "--text without a tokenizer in the directory names it" "$([ $rc -eq 1 ] && [[ "$out" == *"no tokenizer.json"* ]] && echo 1)" "rc $rc: $out"

if [ -f "$S/stories260K.bin" ] && [ -f "$S/tok512.bin" ]; then
    "$P" convert "$S/stories260K.bin" "$T/stories" --tokenizer "$S/tok512.bin" > /dev/null ||
        { echo "FAIL  posttrain convert $S/stories260K.bin"; exit 1; }
    sids=$(printf '%s' "$text" | "$P" tokenize --tokenizer "$T/stories" | tr ' ' ',')
    same "stories260K (tokenizer.bin, BOS 1): --text = 1 + the text's ids" "$T/stories" "" "1,$sids"
    same "stories260K --no-bos" "$T/stories" "--no-bos" "$sids"
else
    echo "note: $S/stories260K.bin or tok512.bin missing, stories260K cases not run"
fi

[ $fails -eq 0 ] && echo "all cases passed" || echo "$fails case(s) failed"
[ $fails -eq 0 ]
