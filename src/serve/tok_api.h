// tok_api.h: the server's tokenizer endpoints, which let a client see what the model
// sees — and check that serving renders conversations exactly as training did.
//
//   POST /tokenize        {"content": "text", "add_special": false, "parse_special": false,
//                          "with_pieces": false}
//                      -> {"tokens": [ids]}, or with_pieces: {"tokens": [{"id", "piece",
//                          "special"}]} (piece: the token's text, or its bytes as an array
//                          of numbers when they are not valid UTF-8 on their own)
//   POST /detokenize      {"tokens": [ids]} -> {"content": "text"}
//   POST /apply-template  {"messages": [...], "add_generation_prompt": true, "with_pieces": false}
//                      -> {"prompt": "rendered text", "tokens": [...], "mask": [0/1 per token],
//                          "template": "chatml", "add_generation_prompt": true}
// add_special puts the tokenizer's BOS first; parse_special reads special tokens' spellings
// in the text as the tokens (off: they are plain text, as in chat messages). The mask is
// the training loss mask of `posttrain render` (1 on assistant tokens).
#ifndef PT_SERVE_TOK_API_H
#define PT_SERVE_TOK_API_H

#include <stddef.h>

#include "serve/api_error.h"
#include "serve/gen_request.h"

// Each reads the request body and sets *out to the response JSON (malloc'd), or fills a.
int tok_api_tokenize(const ServeModel *m, const char *body, size_t len, char **out, ApiError *a);
int tok_api_detokenize(const ServeModel *m, const char *body, size_t len, char **out, ApiError *a);
int tok_api_apply_template(const ServeModel *m, const char *body, size_t len, char **out, ApiError *a);

#endif
