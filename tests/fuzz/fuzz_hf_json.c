// fuzz_hf_json.c: arbitrary bytes as a Hugging Face tokenizer.json.
//
// The input is written to tokenizer.json in a directory of its own (no
// tokenizer_config.json beside it) and loaded with tok_load_hf_json. A load may fail, but
// with a message; a tokenizer it accepts must encode and decode the fixed texts and the
// input without crashing. No round-trip property: normalizers may change the text, and a
// vocabulary without byte fallback maps unknown characters to <unk>.
#include "fuzz_common.h"

#include "tok/loaders.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    Tokenizer *t = NULL;
    Err e = {0};
    int rc = tok_load_hf_json(&t, fuzz_write("tokenizer.json", data, size), &e);
    fuzz_check_load(rc, t, &e, data, size, false);
    return 0;
}
