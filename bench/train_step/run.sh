#!/usr/bin/env bash
# bench/train_step/run.sh: one training step (forward, loss, backward, AdamW + clipping) of
# posttrain's model against the same model shape in PyTorch CPU fp32, side by side.
#
# For each shape (GPT-2: L=4 C=256 H=4 V=50257; Llama/SmolLM-like scaled down: L=4 C=384
# H=6 KVH=2 F=1024 V=49152 tied), both at B=4 T=256 on the same thread count:
#   - tokens/s of posttrain (bench_train_step.c) and PyTorch (torch_train_step.py), median
#     step after warm-up, and their ratio;
#   - achieved GFLOP/s (model matmul FLOPs x 3 per step) as a fraction of the measured
#     dnnl_sgemm peak on this machine (a 1024^3 GEMM);
#   - peak RSS against params + grads + Adam moments + activations (+ their gradients).
#
# Environment: BENCH_THREADS (default 2), BENCH_STEPS (default 5), BENCH_B, BENCH_T,
# PY (default /usr/bin/python3, which has Debian's python3-torch), CC.
set -euo pipefail
cd "$(dirname "$0")/../.."

OUT=build/bench/train_step
THREADS=${BENCH_THREADS:-2}
STEPS=${BENCH_STEPS:-5}
B=${BENCH_B:-4}
T=${BENCH_T:-256}
PY=${PY:-/usr/bin/python3}
CC=${CC:-gcc}
mkdir -p "$OUT"

if ! "$PY" -c 'import torch' 2>/dev/null; then
    echo "bench/train_step: $PY has no torch (apt-get install python3-torch)" >&2
    exit 1
fi

make -s -j2 build/release/libposttrain.a
DRIVER=$OUT/bench_train_step
if [ ! -x "$DRIVER" ] || [ bench/train_step/bench_train_step.c -nt "$DRIVER" ] ||
   [ build/release/libposttrain.a -nt "$DRIVER" ]; then
    $CC -O3 -march=native -std=gnu11 -fopenmp -fno-trapping-math -Isrc -o "$DRIVER" bench/train_step/bench_train_step.c \
        build/release/libposttrain.a -lpcre2-8 -lcjson -lutf8proc -ldnnl -lzstd -lz -lm
fi

# Random models in the HF layout (kept for later runs).
[ -f "$OUT/gpt2/config.json" ] ||
    "$PY" tests/torch/make_model.py --arch gpt2 --out "$OUT/gpt2" --vocab 50257 --dim 256 \
        --layers 4 --heads 4 --ctx 1024
[ -f "$OUT/llama/config.json" ] ||
    "$PY" tests/torch/make_model.py --arch llama --out "$OUT/llama" --vocab 49152 --dim 384 \
        --layers 4 --heads 6 --kv-heads 2 --hidden 1024 --tied --ctx 2048

export OMP_NUM_THREADS=$THREADS
echo "threads: $THREADS, B=$B T=$T, median of $STEPS steps after 2 warm-up steps"
PEAK=$("$DRIVER" --sgemm 1024 1024 1024 5)
echo "dnnl_sgemm peak (1024^3): $PEAK"

for shape in gpt2 llama; do
    echo "== $shape"
    PT=$("$DRIVER" "$OUT/$shape" "$B" "$T" "$STEPS" 2)
    TO=$("$PY" bench/train_step/torch_train_step.py --config "$OUT/$shape/config.json" \
        --batch "$B" --seq "$T" --steps "$STEPS" --threads "$THREADS")
    "$PY" - "$PEAK" "$PT" "$TO" <<'EOF'
import json, sys
peak, pt, to = (json.loads(a) for a in sys.argv[1:])
gf = pt["flops_per_step"] / pt["step_s"] * 1e-9
gf_t = pt["flops_per_step"] / to["step_s"] * 1e-9
print(f"  params {pt['params']:,}; loss {pt['first_loss']:.3f} -> {pt['last_loss']:.3f}")
print(f"  {'':10} {'tokens/s':>9} {'step s':>7} {'fwd':>6} {'bwd':>6} {'adamw':>6} {'GFLOP/s':>8} {'of peak':>7} {'RSS MB':>7}")
for name, r, g in (("posttrain", pt, gf), ("pytorch", to, gf_t)):
    print(f"  {name:10} {r['tokens_per_s']:9.1f} {r['step_s']:7.3f} {r['forward_s']:6.3f} "
          f"{r['backward_s']:6.3f} {r['optimizer_s']:6.3f} {g:8.1f} {g / peak['gflops']:7.1%} "
          f"{r['peak_rss_mb']:7.1f}")
print(f"  ratio posttrain / pytorch: {pt['tokens_per_s'] / to['tokens_per_s']:.2f}x")
arith = pt["params_mb"] + pt["grads_mb"] + pt["adam_mb"] + pt["acts_mb"] + pt["grad_acts_mb"]
print(f"  posttrain memory: params {pt['params_mb']:.1f} + grads {pt['grads_mb']:.1f} + "
      f"AdamW {pt['adam_mb']:.1f} (m, v, decay flags) + activations {pt['acts_mb']:.1f} + "
      f"their gradients {pt['grad_acts_mb']:.1f} = {arith:.1f} MB; peak RSS {pt['peak_rss_mb']:.1f} MB")
EOF
done

# The same GPT-2 shape through the real trainer (`posttrain train`: loader with packing,
# documents of 20-400 random tokens, masks, checkpoint at the end): its tokens/s should
# match the bare step's above, i.e. data loading never stalls the step.
echo "== gpt2 through posttrain train (packed rows)"
make -s -j2 posttrain
DOCS=$OUT/random_docs.jsonl
[ -f "$DOCS" ] || "$PY" - "$DOCS" <<'EOF2'
import json, random, sys
r = random.Random(0)
with open(sys.argv[1], "w") as f:
    for _ in range(400):
        n = r.randint(20, 400)
        f.write(json.dumps({"ids": [r.randrange(50257) for _ in range(n)],
                            "mask": [0] * (n // 4) + [1] * (n - n // 4)}) + "\n")
EOF2
rm -rf "$OUT/trainer_out"
./posttrain train --model "$OUT/gpt2" --data "$DOCS" --out "$OUT/trainer_out" --seq-len "$T" \
    --batch-size "$B" --steps $((STEPS + 2)) --lr 1e-4 --quiet
"$PY" - "$OUT/trainer_out/metrics.jsonl" <<'EOF2'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"loss"' in l]
per = [b["tokens"] / (b["elapsed_s"] - a["elapsed_s"]) for a, b in zip(rows[1:], rows[2:])]
print(f"  posttrain train: {statistics.median(per):.1f} real tokens/s per step (median of "
      f"{len(per)}; padding not counted), loss {rows[0]['loss']:.3f} -> {rows[-1]['loss']:.3f}")
EOF2
