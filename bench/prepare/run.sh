#!/usr/bin/env bash
# bench/prepare/run.sh: `posttrain data prepare` throughput — conversations/s and tokens/s.
#
# 1. Conversations: bench/tokenize's seeded mixed-text corpus (gen_corpus.mjs), cut into
#    multi-turn OpenAI-format conversations by gen_chats.mjs (cached in build/bench/).
# 2. The fixed cost (loading o200k_base, writing an index) from a one-conversation run.
# 3. data prepare (template gpt4o, --val 0.02) on 1 thread and on BENCH_THREADS, best of
#    BENCH_REPS wall-clock runs each; rates are over the time above the fixed cost, per
#    wall-clock second and per CPU second (the steadier figure on a shared machine).
# 4. A loud MISMATCH (and exit 1) if the shards of the two thread counts differ.
#
# Environment: BENCH_MB (corpus size, default 12), BENCH_SEED, BENCH_REPS (default 3),
# BENCH_THREADS (default: all cores). Needs node (and npm ci for the o200k_base ranks).
set -euo pipefail
cd "$(dirname "$0")/../.."

OUT=build/bench
MB=${BENCH_MB:-12}
SEED=${BENCH_SEED:-20240611}
REPS=${BENCH_REPS:-3}
THREADS=${BENCH_THREADS:-$(nproc)}
VOCAB=node_modules/tiktoken/encoders
mkdir -p "$OUT"
if ! command -v node >/dev/null || [ ! -f $VOCAB/o200k_base.json ]; then
    echo "bench/prepare: needs node and the npm tiktoken package (run npm ci)" >&2
    exit 1
fi
make -s -j2 build/release/posttrain  # (not ./posttrain: a copy in use elsewhere cannot be replaced)
P=build/release/posttrain

CORPUS=$OUT/corpus-${MB}mb-seed${SEED}.txt
if [ ! -s "$CORPUS" ]; then
    node bench/tokenize/gen_corpus.mjs "$CORPUS.tmp" "$MB" "$SEED"
    mv "$CORPUS.tmp" "$CORPUS"
fi
CHATS=$OUT/chats-${MB}mb-seed${SEED}.jsonl
if [ ! -s "$CHATS" ] || [ bench/prepare/gen_chats.mjs -nt "$CHATS" ]; then
    node bench/prepare/gen_chats.mjs "$CORPUS" "$CHATS.tmp" "$SEED"
    mv "$CHATS.tmp" "$CHATS"
fi
head -n 1 "$CHATS" > "$OUT/chats-one.jsonl"

prep() {  # prep FILE DIR THREADS: prints "wall_seconds cpu_seconds"; the summary goes to DIR.txt
    /usr/bin/time -f "%e %U %S" -o "$2.time" $P data prepare --tokenizer o200k_base \
        --vocab-dir $VOCAB --template gpt4o --val 0.02 --seed 1 --threads "$3" --out "$2" "$1" \
        > "$2.txt" 2>/dev/null
    awk '{ printf "%.3f %.3f", $1, $2 + $3 }' "$2.time"
}
best() {  # best FILE DIR THREADS: the fastest (wall clock) of REPS runs
    local b="" s
    for _ in $(seq "$REPS"); do
        s=$(prep "$@")
        b=$(awk -v a="$s" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ")
            print (b == "" || x[1] < y[1]) ? a : b }')
    done
    echo "$b"
}
fixed=$(best "$OUT/chats-one.jsonl" "$OUT/prep-one" 1)
t1=$(best "$CHATS" "$OUT/prep-t1" 1)
tn=$(best "$CHATS" "$OUT/prep-tn" "$THREADS")

S=$OUT/prep-t1.txt
records=$(sed -n 's/.*: \([0-9]*\) records -> .*/\1/p' "$S")
docs=$(sed -n 's/.* records -> \([0-9]*\) documents.*/\1/p' "$S")
tokens=$(awk '/^  (train|val) / { s += $4 } END { print s }' "$S")
dups=$(sed -n 's/.*duplicates \([0-9]*\),.*/\1/p' "$S")
echo "data prepare benchmark: $CHATS"
echo "  $records conversations ($dups repeated), $docs documents, $tokens tokens; o200k_base, template gpt4o"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
echo "fixed cost (tokenizer load, one conversation): ${fixed% *} s; best of $REPS; rates over the"
echo "time above the fixed cost, per wall-clock second and per CPU second (user + system)"
echo
printf '%8s %9s %9s %16s %14s %18s\n' threads "wall s" "cpu s" conversations/s tokens/s "tokens/cpu-s"
for row in "1 $t1" "$THREADS $tn"; do
    set -- $row
    awk -v th="$1" -v s="$2" -v c="$3" -v f="$fixed" -v r="$records" -v t="$tokens" 'BEGIN {
        split(f, fx, " "); w = s - fx[1]; if (w <= 0) w = s; u = c - fx[2]; if (u <= 0) u = c
        printf "%8d %9.3f %9.3f %16.0f %14.0f %18.0f\n", th, s, c, r / w, t / w, t / u }'
done

status=0
for f in "$OUT"/prep-t1/*; do
    if ! cmp -s "$f" "$OUT/prep-tn/$(basename "$f")"; then
        echo "!!!!!!!! MISMATCH: $(basename "$f") differs between 1 and $THREADS threads !!!!!!!!"
        status=1
    fi
done
[ $status -eq 0 ] && echo "shards and index.json identical for 1 and $THREADS threads"
exit $status
