#!/usr/bin/env bash
# tests/fuzz/run.sh: builds the libFuzzer targets and runs each for a short while.
#
#   bash tests/fuzz/run.sh [SECONDS]     total budget, split evenly (default 20, or $FUZZ_SECONDS)
#   FUZZ_TARGETS="fuzz_encode" bash tests/fuzz/run.sh 600    one target, longer
#
# Skips (exit 77, reason printed last) when clang or its libFuzzer runtime is missing.
# Fails on any crash, sanitizer report, leak, timeout or out-of-memory; the input that
# did it is saved as tests/fuzz/out/TARGET-{crash,leak,timeout,oom}-* (out/ is git-ignored), and
# build/fuzz/TARGET FILE replays it. New corpus entries accumulate in
# tests/fuzz/out/corpus/TARGET, so repeated runs go deeper; the seeds in
# tests/fuzz/corpus/TARGET are only read.
set -u
cd "$(dirname "$0")"
CLANG=${CLANG:-clang}
BUDGET=${1:-${FUZZ_SECONDS:-20}}
TARGETS=(${FUZZ_TARGETS:-fuzz_encode fuzz_tiktoken_load fuzz_hf_json fuzz_llama2c_load fuzz_safetensors fuzz_data_reader fuzz_form})
BUILD=../../build/fuzz
OUT=out

if ! command -v "$CLANG" >/dev/null; then
    echo "skip: $CLANG not found (apt-get install clang)"
    exit 77
fi
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return 0; }' > "$probe/p.c"
if ! "$CLANG" -fsanitize=fuzzer,address,undefined -o "$probe/p" "$probe/p.c" 2>/dev/null; then
    echo "skip: $CLANG has no libFuzzer runtime (-fsanitize=fuzzer does not link)"
    exit 77
fi
# OpenMP for the library objects: clang's libomp, else GCC's libgomp, else none.
printf '#include <omp.h>\nint main(void) { return omp_get_max_threads() < 1; }\n' > "$probe/omp.c"
OPENMP=
for flag in -fopenmp -fopenmp=libgomp; do
    if "$CLANG" $flag -o "$probe/omp" "$probe/omp.c" 2>/dev/null; then OPENMP=$flag; break; fi
done

make -s -j2 CLANG="$CLANG" OPENMP="$OPENMP" || { echo "FAIL: the fuzz targets do not build"; exit 1; }

per=$((BUDGET / ${#TARGETS[@]}))
[ $per -ge 1 ] || per=1
mkdir -p "$OUT"
status=0
for t in "${TARGETS[@]}"; do
    mkdir -p "$OUT/corpus/$t"
    dict=()
    [ -f "${t#fuzz_}.dict" ] && dict=(-dict="${t#fuzz_}.dict")
    # -timeout: one input may take 10 s at most; -rss_limit_mb: the whole run 2 GiB.
    # -seed: the suite's short run tries the same inputs each time (FUZZ_SEED=0 for a
    # random seed in longer runs by hand).
    "$BUILD/$t" "${dict[@]}" -seed="${FUZZ_SEED:-1}" -max_total_time=$per -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$OUT/$t-" \
        "$OUT/corpus/$t" "corpus/$t" > "$OUT/$t.log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$OUT/$t.log" | tail -n 1)
    if [ $rc -eq 0 ]; then
        printf 'ok    %-20s %ss, %s inputs\n' "$t" "$per" "${runs:-?}"
    else
        status=1
        printf 'FAIL  %-20s exit %d after %s inputs (log: tests/fuzz/%s/%s.log)\n' "$t" $rc \
            "${runs:-?}" "$OUT" "$t"
        grep -a -E -m 1 -A 12 'ERROR|runtime error|fuzz property failed|Timeout|out-of-memory|leak' \
            "$OUT/$t.log" | sed 's/^/    | /'
        ls "$OUT/$t"-* 2>/dev/null | sed 's/^/    saved: tests\/fuzz\//'
    fi
done
exit $status
