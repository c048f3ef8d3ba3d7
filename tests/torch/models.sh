# tests/torch/models.sh: sourced (after env.sh) by the parity tests of the C model against
# the PyTorch reference. Makes one random small model of each case in $T, and the id,
# mask and document lists the tests score them on.
make_model() {  # make_model DIR ARGS...
    local dir=$1; shift
    "$PY" tests/torch/make_model.py --out "$dir" "$@" > /dev/null || { echo "FAIL  make_model.py $*"; exit 1; }
}

make_model "$T/gpt2" --arch gpt2
make_model "$T/llama" --arch llama --odd --kv-heads 1 --untied --layers 3
# head_dim 16 (not C/H = 8) so that one frequency falls in llama3's blend band
make_model "$T/llama3" --arch llama --llama3-scaling --kv-heads 2 --head-dim 16 --seed 3
make_model "$T/qwen2" --arch qwen2 --tied --kv-heads 2 --seed 5

ids12=3,17,42,5,0,63,8,21,21,9,50,1
mask12=0,1,1,0,0,1,1,1,0,1,1,1
doc12=0,0,0,0,1,1,1,1,1,2,2,2
ids36=$(seq -s, 2 36)              # 35 tokens: RoPE positions past llama3's original context (32)
