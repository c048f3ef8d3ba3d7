// loaders.h: one loader per vocabulary format; tok_load (load.c) picks among them.
#ifndef PT_LOADERS_H
#define PT_LOADERS_H

#include "tok/tok.h"

// tiktoken rank file; encoding names the split pattern and specials (registry.c).
int tok_load_tiktoken(Tokenizer **out, const char *path, const char *encoding, Err *e);
// The same ranks as npm tiktoken ships them (encoders/NAME.json).
int tok_load_tiktoken_npm(Tokenizer **out, const char *path, const char *encoding, Err *e);
// Hugging Face tokenizer.json (+ tokenizer_config.json beside it, for BOS/EOS).
int tok_load_hf_json(Tokenizer **out, const char *path, Err *e);
// GPT-2 encoder.json with vocab.bpe beside it.
int tok_load_gpt2_files(Tokenizer **out, const char *encoder_json_path, Err *e);
// llama2.c tokenizer.bin / tok512.bin.
int tok_load_llama2c(Tokenizer **out, const char *path, Err *e);

#endif
