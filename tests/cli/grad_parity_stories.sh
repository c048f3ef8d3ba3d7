#!/usr/bin/env bash
# tests/cli/grad_parity_stories.sh: the C backward pass and AdamW against PyTorch on a real
# model: llama2.c's stories260K (L=5, C=64, 8 heads, 4 kv heads, V=512, tied head) converted
# to the Hugging Face layout by `posttrain convert`. `posttrain score --grads` writes every
# parameter's gradient (grad.<name>) and, with --steps 2, the weights after 2 AdamW steps
# (after.<name>: lr 1e-2, weight decay 0.1, clip 0.1, eps 1e-5); tests/torch/run_reference.py
# writes PyTorch's on the same directory. Cases: BOS + a story sentence unmasked, then
# masked (the prompt's first tokens are not targets) with two packed documents, then the
# 2 AdamW steps. Every tensor must agree: max |C - torch| / max |torch| <= 1e-4 (gradients
# relative to the tensor's largest gradient, weights to its largest weight). Skips (77)
# without /usr/bin/python3 + torch or without ../shared/data (SHARED_DATA).
set -u
cd "$(dirname "$0")/../.."
P=${POSTTRAIN:-./posttrain}
S=${SHARED_DATA:-../shared/data}/llama2c
. tests/torch/env.sh
if ! [ -f "$S/stories260K.bin" ] || ! [ -f "$S/tok512.bin" ]; then
    echo "skip: $S/stories260K.bin or tok512.bin missing (set SHARED_DATA)"
    exit 77
fi
fails=0

. tests/torch/grad_compare.sh

if ! "$P" convert "$S/stories260K.bin" "$T/stories" --tokenizer "$S/tok512.bin" > /dev/null; then
    echo "FAIL  posttrain convert $S/stories260K.bin"; exit 1
fi
text="Once upon a time, there was a little girl named Lily. She loved to play outside in the park."
sids=$(printf '%s' "$text" | "$P" tokenize --tokenizer "$T/stories" | tr ' ' ',')
ids="1,$sids"                                            # BOS + the text
n=$(($(printf '%s' "$ids" | tr -cd , | wc -c) + 1))
half=$((n / 2))
mask=$(seq 0 $((n - 1)) | awk '{ printf "%s%d", (NR > 1 ? "," : ""), ($1 >= 6) }')
doc=$(seq 0 $((n - 1)) | awk -v h=$half '{ printf "%s%d", (NR > 1 ? "," : ""), ($1 >= h) }')

compare "stories260K, BOS + $((n - 1)) text tokens" "$T/stories" "$ids" "" "" ""
compare "stories260K, masked (first 6 not targets), 2 packed documents" "$T/stories" "$ids" "$mask" "$doc" ""
compare "stories260K, 2 AdamW steps (weight decay, clipping)" "$T/stories" "$ids" "$mask" "" 2

[ $fails -eq 0 ] && echo "all cases passed" || echo "$fails case(s) failed"
[ $fails -eq 0 ]
