#!/usr/bin/env bash
# tests/cli/tokenize.sh: the exact command-line forms of tokenize / detokenize / render.
set -u
P=${POSTTRAIN:-./posttrain}
V=node_modules/tiktoken/encoders
[ -f $V/o200k_base.json ] || { echo "npm tiktoken missing (npm ci)"; exit 77; }
fails=0 n=0
check() {  # check NAME EXPECTED ACTUAL
    n=$((n + 1))
    if [ "$2" == "$3" ]; then echo "ok    $1"; else
        echo "FAIL  $1"; echo "      want: $2"; echo "      got:  $3"; fails=$((fails + 1)); fi
}
check "tokenize prints ids on one line" "4827 382 220 17 10 17 30" \
    "$(printf 'What is 2+2?' | $P tokenize --tokenizer o200k_base --vocab-dir $V)"
check "--count" "7" "$(printf 'What is 2+2?' | $P tokenize --tokenizer o200k_base --vocab-dir $V --count)"
check "--pieces" "$(printf '4827\tWhat\n382\t is')" \
    "$(printf 'What is' | $P tokenize --tokenizer o200k_base --vocab-dir $V --pieces)"
check "specials are text by default" "27 91 419 1440 919 91 29" \
    "$(printf '<|endoftext|>' | $P tokenize --tokenizer o200k_base --vocab-dir $V)"
check "--allow-special matches them" "199999" \
    "$(printf '<|endoftext|>' | $P tokenize --tokenizer o200k_base --vocab-dir $V --allow-special)"
check "--eos adds <|endoftext|>" "13225 199999" \
    "$(printf 'Hello' | $P tokenize --tokenizer o200k_base --vocab-dir $V --eos)"
check "--special NAME=ID" "200264 13225" \
    "$(printf '<|im_start|>Hello' | $P tokenize --tokenizer o200k_base --vocab-dir $V --special '<|im_start|>=200264' --allow-special)"
check "detokenize" "What is 2+2?" \
    "$(echo '4827 382 220 17 10 17 30' | $P detokenize --tokenizer o200k_base --vocab-dir $V)"

err=$(printf 'ok \xff\xfe bad' | $P tokenize --tokenizer o200k_base --vocab-dir $V 2>&1); rc=$?
check "invalid UTF-8 is a clear error" "1 yes" "$rc $(echo "$err" | grep -q 'not valid UTF-8 at byte 3' && echo yes)"
check "--replace-invalid (ids checked against tiktoken)" "525 156517 4790" \
    "$(printf 'ok \xff\xfe bad' | $P tokenize --tokenizer o200k_base --vocab-dir $V --replace-invalid 2>&1 | cut -d" " -f1-3)"
err=$(echo 'x' | $P tokenize --tokenizer nope 2>&1); rc=$?
check "unknown tokenizer names the spec" "1 yes" "$rc $(echo "$err" | grep -q "nope: no such file" && echo yes)"
err=$(echo '99999999' | $P detokenize --tokenizer o200k_base --vocab-dir $V 2>&1); rc=$?
check "unknown id is a clear error" "1 yes" "$rc $(echo "$err" | grep -q 'id 99999999' && echo yes)"

seed='200264 1428 200266 4827 382 220 17 10 17 30 200265 200264 173781 200266 17 10 17 314 220 19 200265'
got=$($P render --tokenizer o200k_base --vocab-dir $V --template gpt4o --json docs/examples/seed.jsonl | head -1)
check "render --json: the seed's ids" "{\"ids\":[${seed// /,}],\"mask\":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,1,1,1,1,1,1,1]}" "$got"
got=$(echo '{"messages":[{"role":"user","content":"What is 2+2?"}]}' |
      $P render --tokenizer o200k_base --vocab-dir $V --template gpt4o --json --add-generation-prompt -)
check "render --add-generation-prompt" '{"ids":[200264,1428,200266,4827,382,220,17,10,17,30,200265,200264,173781,200266],"mask":[0,0,0,0,0,0,0,0,0,0,0,0,0,0]}' "$got"
got=$($P render --tokenizer o200k_base --vocab-dir $V --template gpt4o --no-color docs/examples/seed.jsonl | sed -n 2p)
check "render view marks targets" "[<|im_start|>][user][<|im_sep|>][What][ is][ ][2][+][2][?][<|im_end|>][<|im_start|>][assistant][<|im_sep|>]{2}{+}{2}{ =}{ }{4}{<|im_end|>}" "$got"
got=$($P render --tokenizer gpt2 --vocab-dir $V --template gpt4o --json docs/examples/seed.jsonl | head -1 | cut -c1-40)
check "a vocabulary without chat tokens gets them as new ids" '{"ids":[50257,7220,50258,2061,318,362,10' "$got"
err=$(printf '{"messages":[]}\n{"messages":[{"role":"robot","content":"x"}]}\n' |
      $P render --tokenizer o200k_base --vocab-dir $V --template gpt4o --json - 2>&1); rc=$?
check "render error names line and field" "1 yes" "$rc $(echo "$err" | grep -q '<stdin>:2: messages\[0\].role' && echo yes)"
err=$($P render --tokenizer o200k_base --vocab-dir $V --template nope docs/examples/seed.jsonl 2>&1); rc=$?
check "unknown template" "2 yes" "$rc $(echo "$err" | grep -q "unknown template 'nope'" && echo yes)"

echo "$((n - fails)) passed, $fails failed"
[ $fails -eq 0 ]
