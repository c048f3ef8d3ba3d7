#!/usr/bin/env bash
# bench/decode/run.sh: the inference engine (src/infer) against a KV-cached PyTorch loop,
# side by side, on the same thread count.
#
# Models (Llama architecture, fp32):
#   stories260K  llama2.c's TinyStories model (L=5 C=64 H=8 KVH=4 V=512), converted
#   s15m         random, stories15M's shape (L=6 C=288 H=6 F=768 V=32000, tied)
#   s110m        random, stories110M's shape (L=12 C=768 H=12 F=2048 V=32000, tied)
# For each: a prompt of PROMPT seeded ids, GEN greedy tokens (EOS ignored), median of REPS
# after a warm-up:
#   - prefill tokens/s (the prompt in one forward, plus the first token);
#   - single-stream decode tokens/s;
#   - aggregate decode tokens/s with PARALLEL sequences decoded together (posttrain: one
#     engine step = one forward whose rows are the sequences; PyTorch: a batch of PARALLEL);
#   - the ratio posttrain / PyTorch of each, and how many of the greedy ids agree (random
#     weights, fp32 both: they should agree until rounding breaks a near tie).
# bench_decode.c drives the engine; torch_decode.py is the peer.
#
# Environment: BENCH_THREADS (default 2), BENCH_PROMPT (128), BENCH_GEN (120),
# BENCH_PARALLEL (8), BENCH_REPS (3), BENCH_MODELS (default "stories260K s15m s110m"),
# SHARED_DATA (../shared/data: stories260K and the Llama 2 tokenizer.bin), PY, CC.
set -euo pipefail
cd "$(dirname "$0")/../.."

OUT=build/bench/decode
THREADS=${BENCH_THREADS:-2}
PROMPT=${BENCH_PROMPT:-128}
GEN=${BENCH_GEN:-120}
PAR=${BENCH_PARALLEL:-8}
REPS=${BENCH_REPS:-3}
MODELS=${BENCH_MODELS:-stories260K s15m s110m}
S=${SHARED_DATA:-../shared/data}/llama2c
PY=${PY:-/usr/bin/python3}
CC=${CC:-gcc}
mkdir -p "$OUT"

if ! "$PY" -c 'import torch' 2>/dev/null; then
    echo "bench/decode: $PY has no torch (apt-get install python3-torch)" >&2; exit 1
fi
if [ ! -f "$S/stories260K.bin" ] || [ ! -f "$S/tokenizer.bin" ]; then
    echo "bench/decode: needs $S/stories260K.bin, tok512.bin and tokenizer.bin" >&2; exit 1
fi

make -s -j2 posttrain build/release/libposttrain.a
DRIVER=$OUT/bench_decode
if [ ! -x "$DRIVER" ] || [ bench/decode/bench_decode.c -nt "$DRIVER" ] ||
   [ build/release/libposttrain.a -nt "$DRIVER" ]; then
    $CC -O3 -march=native -std=gnu11 -fopenmp -fno-trapping-math -Isrc -o "$DRIVER" \
        bench/decode/bench_decode.c build/release/libposttrain.a \
        -lpcre2-8 -lcjson -lutf8proc -ldnnl -lzstd -lz -lm
fi

# The models (kept for later runs).
[ -f "$OUT/stories260K/config.json" ] ||
    ./posttrain convert "$S/stories260K.bin" "$OUT/stories260K" --tokenizer "$S/tok512.bin" > /dev/null
[ -f "$OUT/s15m/config.json" ] ||
    "$PY" tests/torch/make_model.py --arch llama --out "$OUT/s15m" --vocab 32000 --dim 288 \
        --layers 6 --heads 6 --hidden 768 --ctx 256 --tied
[ -f "$OUT/s110m/config.json" ] ||
    "$PY" tests/torch/make_model.py --arch llama --out "$OUT/s110m" --vocab 32000 --dim 768 \
        --layers 12 --heads 12 --hidden 2048 --ctx 1024 --tied

export OMP_NUM_THREADS=$THREADS
echo "threads: $THREADS, prompt $PROMPT, generate $GEN (greedy), $PAR parallel, median of $REPS"
for m in $MODELS; do
    tok=$S/tokenizer.bin
    [ "$m" = stories260K ] && tok=$S/tok512.bin
    echo "== $m"
    PT=$("$DRIVER" "$OUT/$m" "$tok" "$PROMPT" "$GEN" "$PAR" "$REPS")
    TO=$("$PY" bench/decode/torch_decode.py --model "$OUT/$m" --prompt "$PROMPT" --gen "$GEN" \
        --parallel "$PAR" --reps "$REPS" --threads "$THREADS")
    "$PY" - "$PT" "$TO" <<'EOF'
import json, sys
pt, to = (json.loads(a) for a in sys.argv[1:])
par = pt["parallel"]
print(f"  {'':10} {'prefill tok/s':>14} {'decode tok/s':>13} {f'{par} parallel tok/s':>18} {'x single':>9}")
for name, r in (("posttrain", pt), ("pytorch", to)):
    print(f"  {name:10} {r['prefill_tps']:14.1f} {r['decode_tps']:13.1f} {r['agg_tps']:18.1f} "
          f"{r['agg_tps'] / r['decode_tps']:8.2f}x")
print(f"  {'ratio':10} {pt['prefill_tps'] / to['prefill_tps']:13.2f}x "
      f"{pt['decode_tps'] / to['decode_tps']:12.2f}x {pt['agg_tps'] / to['agg_tps']:17.2f}x")
same = 0
for a, b in zip(pt["ids"], to["ids"]):
    if a != b:
        break
    same += 1
print(f"  greedy ids agree for the first {same} of {len(pt['ids'])} tokens")
EOF
done
