#!/usr/bin/env bash
# tests/run.sh: runs the whole suite (make test / make asan call it).
#
# A suite is one of:
#   $TEST_BIN/test_*      C unit tests (tests/test_*.c, built by make)
#   tests/cli/*.sh        command-line tests against $POSTTRAIN
#   tests/js/*.test.mjs   parity tests against npm references (node's test runner)
#   tests/fuzz/run.sh     a short fuzz run (only where clang's libFuzzer is installed)
# Each passes (exit 0), fails, or skips (exit 77, with the reason printed). The last line
# is the count: "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.."
: "${POSTTRAIN:=$PWD/posttrain}"
: "${TEST_BIN:=$PWD/build/release/tests}"
export POSTTRAIN TEST_BIN
export SHARED_DATA="${SHARED_DATA:-$PWD/../shared/data}"
pass=0 fail=0 skip=0 failed=()

run() {  # run NAME CMD...
    local name=$1; shift
    local start=$SECONDS
    "$@" > "/tmp/posttrain-test.$$.log" 2>&1
    local rc=$?
    if [ $rc -eq 0 ]; then
        pass=$((pass + 1)); printf 'ok    %-40s %3ds\n' "$name" $((SECONDS - start))
    elif [ $rc -eq 77 ]; then
        skip=$((skip + 1)); printf 'skip  %-40s %s\n' "$name" "$(tail -n 1 /tmp/posttrain-test.$$.log)"
    else
        fail=$((fail + 1)); failed+=("$name"); printf 'FAIL  %-40s (exit %d)\n' "$name" $rc
        tail -n 40 "/tmp/posttrain-test.$$.log" | sed 's/^/    | /'
    fi
    rm -f "/tmp/posttrain-test.$$.log"
}

for t in "$TEST_BIN"/test_*; do
    [ -x "$t" ] && run "$(basename "$t")" "$t"
done
for t in tests/cli/*.sh; do
    [ -f "$t" ] && run "cli/$(basename "$t" .sh)" bash "$t"
done
if command -v node >/dev/null && [ -d node_modules ]; then
    for t in tests/js/*.test.mjs; do
        [ -f "$t" ] && run "js/$(basename "$t" .test.mjs)" node --test "$t"
    done
else
    echo "skip  js/*  (node or node_modules missing: run npm ci)"; skip=$((skip + 1))
fi
if [ -z "${SANITIZED:-}" ] && [ -f tests/fuzz/run.sh ]; then
    run "fuzz/short" bash tests/fuzz/run.sh
fi

echo
[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
