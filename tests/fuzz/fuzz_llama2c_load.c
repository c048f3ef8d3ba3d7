// fuzz_llama2c_load.c: arbitrary bytes as a llama2.c tokenizer.bin.
//
// The input is written to tokenizer.bin and loaded with tok_load_llama2c. A load may fail,
// with a message; a tokenizer it accepts (SentencePiece-style, one symbol per character,
// byte fallback) must encode and decode the fixed texts and the input without crashing.
// Round trips are not asserted: the file decides whether every character has a token.
#include "fuzz_common.h"

#include "tok/loaders.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Tokenizer *t = NULL;
    Err e = {0};
    int rc = tok_load_llama2c(&t, fuzz_write("tokenizer.bin", data, size), &e);
    fuzz_check_load(rc, t, &e, data, size, false);
    return 0;
}
