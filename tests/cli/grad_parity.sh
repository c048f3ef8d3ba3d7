#!/usr/bin/env bash
# tests/cli/grad_parity.sh: the C backward pass against PyTorch. For random small models of
# each architecture (tests/torch/make_model.py) — GPT-2, Llama (GQA, untied, odd sizes),
# Llama with llama3 rope scaling, Qwen2 (tied, q/k/v bias) — with loss masks and packed
# documents (--doc), `posttrain score --grads` writes d loss / d parameter for every
# parameter and tests/torch/run_reference.py writes PyTorch's grad.<name>. Every tensor must
# agree: max abs diff / max |reference grad| <= 1e-4. Prints a summary line per case, and
# every tensor's diff when a case fails. Skips (77) when torch is missing.
set -u
cd "$(dirname "$0")/../.."
P=${POSTTRAIN:-./posttrain}
. tests/torch/env.sh
fails=0

. tests/torch/grad_compare.sh
. tests/torch/models.sh
wmask12=0,1,0.5,0,0,2,1,1,0,1,0.25,1  # weighted targets
compare "gpt2" "$T/gpt2" "$ids12" ""
compare "gpt2 masked" "$T/gpt2" "$ids12" "$mask12"
compare "gpt2 masked --doc" "$T/gpt2" "$ids12" "$mask12" "$doc12"
compare "llama GQA untied odd" "$T/llama" "$ids12,66" ""
compare "llama GQA untied odd weighted mask --doc" "$T/llama" "$ids12,66" "$wmask12,1" "$doc12,2"
compare "llama llama3 rope" "$T/llama3" "$ids36" ""
compare "qwen2 tied masked" "$T/qwen2" "$ids12" "$mask12"
compare "qwen2 tied non-contiguous --doc" "$T/qwen2" "$ids12" "" 0,0,1,1,0,0,2,2,1,1,0,0
# AdamW: two steps with weight decay and clipping, after.<name> against torch's arithmetic
compare "gpt2 masked + 2 AdamW steps" "$T/gpt2" "$ids12" "$mask12" "" 2
compare "llama GQA untied + 2 AdamW steps" "$T/llama" "$ids12,66" "$mask12,1" "$doc12,2" 2
compare "qwen2 tied + 2 AdamW steps" "$T/qwen2" "$ids12" "" "" 2

# The backward's threads split rows, heads or weight rows, never one sum, so 1 and 4
# threads write identical gradient files.
OMP_NUM_THREADS=1 "$P" score --model "$T/llama" --ids "$ids12" --doc "$doc12" --grads "$T/g1.safetensors" > /dev/null
OMP_NUM_THREADS=4 "$P" score --model "$T/llama" --ids "$ids12" --doc "$doc12" --grads "$T/g4.safetensors" > /dev/null
if cmp -s "$T/g1.safetensors" "$T/g4.safetensors"; then echo "ok    1 and 4 threads give identical gradients"
else echo "FAIL  1 and 4 threads give different gradients"; fails=$((fails + 1)); fi

[ $fails -eq 0 ] && echo "all cases passed" || echo "$fails case(s) failed"
[ $fails -eq 0 ]
