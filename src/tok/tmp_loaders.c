#include "tok/loaders.h"
int tok_load_hf_json(Tokenizer **out, const char *path, Err *e) { return ERR(e, ERR_UNSUPPORTED, "todo"); }
int tok_load_gpt2_files(Tokenizer **out, const char *p, Err *e) { return ERR(e, ERR_UNSUPPORTED, "todo"); }
int tok_load_llama2c(Tokenizer **out, const char *path, Err *e) { return ERR(e, ERR_UNSUPPORTED, "todo"); }
