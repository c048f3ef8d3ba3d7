// fuzz_tiktoken_load.c: arbitrary bytes as a tiktoken rank file.
//
// The input is written to fuzz.tiktoken and loaded as the gpt2 encoding (its split pattern
// and <|endoftext|> = 50256). An input that starts with '{' goes to the loader of npm
// tiktoken's encoders/NAME.json instead (the same ranks packed as one JSON string).
// Either load may fail; one that succeeds gives a byte-level tokenizer (every byte has a
// token, or the load is refused), so decode(encode(x)) == x must hold for valid UTF-8.
#include "fuzz_common.h"

#include "tok/loaders.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Tokenizer *t = NULL;
    Err e = {0};
    int rc;
    if (size > 0 && data[0] == '{')
        rc = tok_load_tiktoken_npm(&t, fuzz_write("fuzz.json", data, size), "gpt2", &e);
    else
        rc = tok_load_tiktoken(&t, fuzz_write("fuzz.tiktoken", data, size), "gpt2", &e);
    fuzz_check_load(rc, t, &e, data, size, true);
    return 0;
}
