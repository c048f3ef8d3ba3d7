#!/usr/bin/env bash
# tests/cli/data_prepare.sh: `posttrain data prepare` on fixtures written here.
#   - a 420-line OpenAI JSONL (400 distinct conversations + 20 repeated lines): the
#     summary's counts, dedup, the exact val size, byte-identical output for --threads 1
#     and 2, and (with python3) every shard document equal to `render --json`'s ids + mask
#   - --mix (down- and up-sampling), --max-len (truncated vs dropped), tokens and text
#     records, --skip-bad and the errors, --seed changing the split
#   - ../shared/data's toy_chat_fine_tuning.jsonl when present
set -u
cd "$(dirname "$0")/../.."
P=${POSTTRAIN:-./posttrain}
V=node_modules/tiktoken/encoders
[ -f $V/o200k_base.json ] || { echo "npm tiktoken missing (npm ci)"; exit 77; }
SHARED=${SHARED_DATA:-../shared/data}
T=$(mktemp -d /tmp/data_prepare.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0 n=0
check() {  # check NAME EXPECTED ACTUAL
    n=$((n + 1))
    if [ "$2" == "$3" ]; then echo "ok    $1"; else
        echo "FAIL  $1"; echo "      want: $2"; echo "      got:  $3"; fails=$((fails + 1)); fi
}
prep() { $P data prepare --tokenizer o200k_base --vocab-dir $V --template gpt4o "$@"; }
# jget FILE EXPR: one value of index.json (python3 when present, else a grep on cJSON's layout)
jget() {
    python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1" 2>/dev/null
}

# ---------------------------------------------------------------------------- fixture
for i in $(seq 1 400); do
    printf '{"messages":[{"role":"system","content":"You are helpful."},{"role":"user","content":"What is %d times %d?"},{"role":"assistant","content":"%d times %d is %d."}]}\n' \
        $i $((i % 7 + 2)) $i $((i % 7 + 2)) $((i * (i % 7 + 2)))
done > "$T/chat.jsonl"
sed -n '1,20p' "$T/chat.jsonl" >> "$T/chat.jsonl"  # 20 exact repeats

out=$(prep --out "$T/a" --val 0.1 --seed 3 --threads 1 "$T/chat.jsonl" 2>/dev/null); rc=$?
check "prepare exits 0" 0 $rc
check "summary: records and documents" "yes" "$(grep -q "420 records -> 400 documents (360 train, 40 val)" <<<"$out" && echo yes)"
check "summary: 20 duplicates counted" "yes" "$(grep -q "duplicates 20," <<<"$out" && echo yes)"
check "val split: round(0.1 x 400 unique) = 40 documents" "yes" "$(grep -q "val    40 documents" <<<"$out" && echo yes)"
check "shards and index.json written" "index.json train-00000.bin val-00000.bin" "$(cd "$T/a" && echo *)"
prep --out "$T/b" --val 0.1 --seed 3 --threads 2 "$T/chat.jsonl" >/dev/null 2>&1
same=yes
for f in "$T"/a/*; do cmp -s "$f" "$T/b/$(basename "$f")" || same="no: $(basename "$f")"; done
check "--threads 1 and --threads 2 write the same bytes" yes "$same"
prep --out "$T/c" --val 0.1 --seed 4 --threads 2 "$T/chat.jsonl" >/dev/null 2>&1
check "another --seed: another val split" "yes" "$(cmp -s "$T/a/val-00000.bin" "$T/c/val-00000.bin" || echo yes)"

if command -v python3 >/dev/null; then
    $P render --tokenizer o200k_base --vocab-dir $V --template gpt4o --json "$T/chat.jsonl" > "$T/rendered.jsonl"
    python3 - "$T/a" "$T/rendered.jsonl" <<'PYEOF'
import json, struct, sys
d, rendered = sys.argv[1], sys.argv[2]
idx = json.load(open(f"{d}/index.json"))
def shard(path):
    b = open(path, "rb").read()
    assert b[:8] == b"PTSHARD1", path
    nt, nd = struct.unpack_from("<QQ", b, 16)
    ids = struct.unpack_from(f"<{nt}i", b, 64)
    mask = b[64 + 4 * nt: 64 + 5 * nt]
    off_at = (64 + 5 * nt + 7) // 8 * 8
    off = struct.unpack_from(f"<{nd + 1}Q", b, off_at)
    assert len(b) == off_at + 8 * (nd + 1)
    return [(tuple(ids[off[i]:off[i + 1]]), tuple(mask[off[i]:off[i + 1]])) for i in range(nd)]
docs = {s: [x for sh in idx["splits"][s]["shards"] for x in shard(f"{d}/{sh['file']}")] for s in ("train", "val")}
want = set()
for line in open(rendered):
    r = json.loads(line)
    want.add((tuple(r["ids"]), tuple(r["mask"])))
got = docs["train"] + docs["val"]
ok = len(got) == len(set(got)) == len(want) == 400 and set(got) == want
ok = ok and not (set(docs["train"]) & set(docs["val"]))
print(f"{'ok  ' if ok else 'FAIL'}  shards hold exactly the 400 distinct rendered conversations "
      f"(train {len(docs['train'])} + val {len(docs['val'])}, disjoint), ids and masks = render --json")
sys.exit(0 if ok else 1)
PYEOF
    check "shard contents (python3 reader)" 0 $?
    check "index.json: vocab size after the template's specials" 200267 "$(jget "$T/a/index.json" 'd["vocab_size"]')"
else
    echo "skip  shard contents (no python3)"
fi

# ---------------------------------------------------------------------------- --mix
head -100 "$T/chat.jsonl" > "$T/m1.jsonl"
sed -n '201,250p' "$T/chat.jsonl" > "$T/m2.jsonl"
out=$(prep --out "$T/mix" --val 0 --mix "$T/m1.jsonl:0.5,$T/m2.jsonl:0.5" "$T/m1.jsonl" "$T/m2.jsonl" 2>/dev/null); rc=$?
check "--mix 0.5/0.5 of 100 + 50 documents: 75 each (the second up-sampled)" "0 2" \
    "$rc $(grep -c "(75 train at weight 0.5, 0 val)" <<<"$out")"
out=$(prep --out "$T/mix2" --val 0 --mix "$T/m1.jsonl:3,$T/m2.jsonl:1" "$T/m1.jsonl" 2>/dev/null); rc=$?
check "--mix 3:1 is normalised (150 -> 113 + 37, largest remainder); a --mix file not in FILES is added" "0 yes yes" \
    "$rc $(grep -q "m1.jsonl (openai): 100 records -> 100 documents (113 train" <<<"$out" && echo yes) $(grep -q "m2.jsonl (openai): 50 records -> 50 documents (37 train" <<<"$out" && echo yes)"
err=$(prep --out "$T/x" --mix "$T/m1.jsonl:1" "$T/m1.jsonl" "$T/m2.jsonl" 2>&1); rc=$?
check "--mix must weigh every file" "2 yes" "$rc $(grep -q "gives no weight to $T/m2.jsonl" <<<"$err" && echo yes)"
err=$(prep --out "$T/x" --mix "$T/m1.jsonl" "$T/m1.jsonl" 2>&1); rc=$?
check "--mix item without a weight" "2 yes" "$rc $(grep -q "expected FILE:WEIGHT" <<<"$err" && echo yes)"

# ---------------------------------------------------------------------------- --max-len
long=$(printf 'word %.0s' $(seq 1 300))
{
    printf '{"messages":[{"role":"user","content":"hi"},{"role":"assistant","content":"%s"}]}\n' "$long"
    printf '{"messages":[{"role":"user","content":"%s"},{"role":"assistant","content":"ok"}]}\n' "$long"
    printf '{"messages":[{"role":"user","content":"short"},{"role":"assistant","content":"fine"}]}\n'
} > "$T/long.jsonl"
out=$(prep --out "$T/len" --val 0 --max-len 64 "$T/long.jsonl" 2>/dev/null); rc=$?
check "--max-len 64: a long reply is cut (targets kept), a long prompt is dropped" "0 yes" \
    "$rc $(grep -q "truncated 1 (246 tokens cut), dropped 1," <<<"$out" && echo yes)"
check "--max-len: 2 documents of 64 + 10 tokens" "yes" "$(grep -q "train  2 documents, 74 tokens" <<<"$out" && echo yes)"

# ---------------------------------------------------------------------------- tokens, text
printf '{"ids":[1,2,3],"mask":[0,1,1]}\n{"ids":[7,8]}\n' > "$T/tok.jsonl"
out=$(prep --out "$T/tok" --val 0 "$T/tok.jsonl" 2>/dev/null); rc=$?
check "token records pass through" "0 yes" "$rc $(grep -q "train  2 documents, 5 tokens, 3 masked" <<<"$out" && echo yes)"
printf '{"ids":[1,999999]}\n' > "$T/badtok.jsonl"
err=$(prep --out "$T/x" "$T/badtok.jsonl" 2>&1); rc=$?
check "an id outside the vocabulary names the record" "1 yes" "$rc $(grep -q "badtok.jsonl:1: ids\[1\]: 999999 outside the vocabulary" <<<"$err" && echo yes)"
printf '{"text":"Hello world"}\n' > "$T/text.jsonl"
out=$(prep --out "$T/text" --val 0 "$T/text.jsonl" 2>/dev/null); rc=$?
# o200k_base: "Hello world" = 13225 2375, then EOS <|endoftext|>; no BOS; the first token no target
check "text records: every token a target but the first, EOS appended" "0 yes" \
    "$rc $(grep -q "train  1 documents, 3 tokens, 2 masked" <<<"$out" && echo yes)"

# ---------------------------------------------------------------------------- bad records
{ head -3 "$T/chat.jsonl"; echo '{"messages": [ broken'; sed -n '4,5p' "$T/chat.jsonl"; } > "$T/bad.jsonl"
err=$(prep --out "$T/x" "$T/bad.jsonl" 2>&1); rc=$?
check "a bad record stops the run, naming file and line" "1 yes" "$rc $(grep -q "bad.jsonl:4" <<<"$err" && echo yes)"
out=$(prep --out "$T/skip" --val 0 --skip-bad "$T/bad.jsonl" 2>/dev/null); rc=$?
check "--skip-bad counts it by kind" "0 yes yes" "$rc $(grep -q "bad records: json 1," <<<"$out" && echo yes) $(grep -q "train  5 documents" <<<"$out" && echo yes)"
err=$(prep --out "$T/x" 2>&1); rc=$?
check "no FILES is a usage error" 2 $rc
err=$($P data prepare --tokenizer o200k_base --vocab-dir $V --out "$T/x" "$T/chat.jsonl" 2>&1); rc=$?
check "--template is required" "2 yes" "$rc $(grep -q "template" <<<"$err" && echo yes)"
err=$(prep --out "$T/x" --val 1.5 "$T/chat.jsonl" 2>&1); rc=$?
check "--val outside [0, 1) is a usage error" 2 $rc
err=$(prep --out "$T/x" --format nope "$T/chat.jsonl" 2>&1); rc=$?
check "an unknown --format" "2 yes" "$rc $(grep -q "unknown --format 'nope'" <<<"$err" && echo yes)"

# ---------------------------------------------------------------------------- shared data
TOY=$SHARED/datasets/openai_chat/toy_chat_fine_tuning.jsonl
if [ -f "$TOY" ]; then
    out=$(prep --out "$T/toy1" --threads 1 "$TOY" 2>/dev/null); rc=$?
    prep --out "$T/toy2" --threads 2 "$TOY" >/dev/null 2>&1
    check "toy_chat_fine_tuning.jsonl: 5 conversations, 8218 tokens" "0 yes" \
        "$rc $(grep -q "train  5 documents, 8218 tokens, 8053 masked" <<<"$out" && echo yes)"
    check "toy: --threads 1 and 2 give the same shard" yes \
        "$(cmp -s "$T/toy1/train-00000.bin" "$T/toy2/train-00000.bin" && cmp -s "$T/toy1/index.json" "$T/toy2/index.json" && echo yes)"
else
    echo "skip  $TOY absent (set SHARED_DATA)"
fi

echo "$((n - fails)) passed, $fails failed"
[ $fails -eq 0 ]
