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
# Then, when a built llama2.c run.c is there ($LLAMA2C_RUN, default /tmp/l2c/run; this
# script fetches and builds nothing: it prints how to build one when absent), one stream
# against run.c on the same checkpoint: llama2.c's own .bin (stories260K, or a random one
# of s15m's / s110m's shape written by llama2c_random.c), run by run.c as it is and by
# `posttrain sample` after `posttrain convert`. Greedy from the prompt "x" over the first
# 256 positions, the two interleaved RUNC_REPS times; each prints its decode tokens/s
# (run.c's "achieved tok/s", posttrain's --verbose "decode"): the medians, their ratio,
# the load average, and how much of the two greedy texts agree.
#
# Environment: BENCH_THREADS (default 2), BENCH_PROMPT (128), BENCH_GEN (120),
# BENCH_PARALLEL (8), BENCH_REPS (3), BENCH_MODELS (default "stories260K s15m s110m"),
# LLAMA2C_RUN, BENCH_RUNC_REPS (5), SHARED_DATA (../shared/data: stories260K and the
# Llama 2 tokenizer.bin), PY, CC. Without torch only the run.c part runs, and the other
# way round.
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
RUNC=${LLAMA2C_RUN:-/tmp/l2c/run}
RUNC_REPS=${BENCH_RUNC_REPS:-5}
mkdir -p "$OUT"

HAVE_TORCH=1 HAVE_RUNC=1
"$PY" -c 'import torch' 2>/dev/null || HAVE_TORCH=0
[ -x "$RUNC" ] || HAVE_RUNC=0
NO_TORCH="bench/decode: $PY has no torch (apt-get install python3-torch): no PyTorch peer"
NO_RUNC="bench/decode: no llama2.c run.c at $RUNC, so no run.c peer. To add it, build one
  outside this tree (any commit of https://github.com/karpathy/llama2.c):
    mkdir -p /tmp/l2c && git clone https://github.com/karpathy/llama2.c /tmp/l2c/src &&
    gcc -Ofast -march=native -fopenmp /tmp/l2c/src/run.c -o /tmp/l2c/run -lm
  (its Makefile's 'runomp'; 'runfast' is -Ofast alone), or point LLAMA2C_RUN at a built run."
if [ $HAVE_TORCH = 0 ] && [ $HAVE_RUNC = 0 ]; then
    echo "$NO_TORCH" >&2; echo "$NO_RUNC" >&2; exit 1
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
export OMP_NUM_THREADS=$THREADS

if [ $HAVE_TORCH = 1 ]; then
    [ -f "$OUT/s15m/config.json" ] ||
        "$PY" tests/torch/make_model.py --arch llama --out "$OUT/s15m" --vocab 32000 --dim 288 \
            --layers 6 --heads 6 --hidden 768 --ctx 256 --tied
    [ -f "$OUT/s110m/config.json" ] ||
        "$PY" tests/torch/make_model.py --arch llama --out "$OUT/s110m" --vocab 32000 --dim 768 \
            --layers 12 --heads 12 --hidden 2048 --ctx 1024 --tied

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
else
    echo "$NO_TORCH"
fi

# ---- llama2.c run.c, one stream, on llama2.c's own checkpoint
if [ $HAVE_RUNC = 0 ]; then
    echo "$NO_RUNC"
    exit 0
fi
RAND=$OUT/llama2c_random
if [ ! -x "$RAND" ] || [ bench/decode/llama2c_random.c -nt "$RAND" ]; then
    $CC -O2 -o "$RAND" bench/decode/llama2c_random.c -lm
fi
STEPS=256
echo
echo "llama2.c run.c ($RUNC) against posttrain sample: one stream, greedy from \"x\" over"
echo "$STEPS positions, $THREADS thread(s), interleaved $RUNC_REPS times, decode tok/s"
for m in $MODELS; do
    tok=$S/tokenizer.bin
    case $m in
    stories260K) bin=$S/stories260K.bin tok=$S/tok512.bin dir=$OUT/stories260K ;;
    s15m) bin=$OUT/l2c_s15m.bin dir=$OUT/l2c_s15m shape="288 768 6 6 6 32000 256" ;;
    s110m) bin=$OUT/l2c_s110m.bin dir=$OUT/l2c_s110m shape="768 2048 12 12 12 32000 1024" ;;
    *) continue ;;
    esac
    if [ "$m" != stories260K ] && [ ! -f "$dir/config.json" ]; then
        "$RAND" "$bin" $shape
        ./posttrain convert "$bin" "$dir" --tokenizer "$tok" > /dev/null
    fi
    load0=$(cut -d' ' -f1-3 /proc/loadavg)
    pt_all=() rc_all=()
    for i in $(seq "$RUNC_REPS"); do
        # run.c forwards positions 0..STEPS-1 (the prompt's 2 tokens among them) and prints
        # the token the last one gives too: STEPS-1 tokens after the prompt. posttrain's
        # context counts that last token too, so the same context gives one token less.
        pt=$(./posttrain sample --model "$dir" --prompt x -n $((STEPS - 1)) --ctx $STEPS \
            --temperature 0 --ignore-eos --threads "$THREADS" --verbose 2>"$OUT/pt.err" \
            > "$OUT/pt.txt" && grep -o 'decode [0-9.]*' "$OUT/pt.err" | cut -d' ' -f2) || true
        rc=$("$RUNC" "$bin" -z "$tok" -t 0 -n $STEPS -i x 2>"$OUT/runc.err" > "$OUT/runc.txt" &&
            grep -o 'achieved tok/s: [0-9.]*' "$OUT/runc.err" | cut -d' ' -f3) || true
        if [ -z "$pt" ] || [ -z "$rc" ]; then
            echo "bench/decode: a run failed:"; cat "$OUT/pt.err" "$OUT/runc.err"; exit 1
        fi
        pt_all+=("$pt") rc_all+=("$rc")
    done
    "$PY" - "$m" "${pt_all[*]}" "${rc_all[*]}" "$load0" "$(cut -d' ' -f1-3 /proc/loadavg)" \
        "$OUT/pt.txt" "$OUT/runc.txt" <<'EOF'
import statistics, sys
m, pt, rc, l0, l1, ptf, rcf = sys.argv[1:]
pt, rc = [float(x) for x in pt.split()], [float(x) for x in rc.split()]
a, b = statistics.median(pt), statistics.median(rc)
print(f"== {m}  (load average {l0} before, {l1} after)")
print(f"  posttrain {a:9.1f} tok/s   runs: {' '.join(f'{x:.1f}' for x in pt)}")
print(f"  run.c     {b:9.1f} tok/s   runs: {' '.join(f'{x:.1f}' for x in rc)}")
print(f"  ratio     {a / b:8.2f}x")
x, y = open(ptf, 'rb').read(), open(rcf, 'rb').read()
n = 0
while n < min(len(x), len(y)) and x[n] == y[n]:
    n += 1
print(f"  greedy texts agree for the first {n} of {len(x)} / {len(y)} bytes")
EOF
done
