# chat_model.sh: sourced by tests/cli/*.sh that need a small chat model (synth, label_cli).
#
# chat_model P S T: llama2.c's stories260K (S: the llama2c data folder) converted, then
# fine-tuned for two steps on two conversations with the chatml template, which adds the
# template's tokens; the model lands in T/m. Not a good assistant: the tests check the
# plumbing, not the prose. Exits the test with FAIL when a step fails.
chat_model() {
    local P=$1 S=$2 T=$3
    "$P" convert "$S/stories260K.bin" "$T/base" --tokenizer "$S/tok512.bin" > /dev/null 2>&1 ||
        { echo "FAIL  convert stories260K"; exit 1; }
    cat > "$T/conv.jsonl" <<'JSON'
{"messages":[{"role":"user","content":"Tell me a story."},{"role":"assistant","content":"Once upon a time, there was a little girl named Lily. She liked to play outside."}]}
{"messages":[{"role":"user","content":"Who is Tom?"},{"role":"assistant","content":"Tom is a boy. He has a big red ball."}]}
JSON
    "$P" train --model "$T/base" --data "$T/conv.jsonl" --out "$T/m" --steps 2 --template chatml \
        --seq-len 128 --batch-size 2 --lr 1e-3 --quiet > "$T/err" 2>&1 ||
        { echo "FAIL  train a chat model: $(cat "$T/err")"; exit 1; }
}
