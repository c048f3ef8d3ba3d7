// export.h: writing the tokenizer and the chat template a model was trained with into its
// directory, so that training and serving cannot drift apart.
//
// After chat_export_tokenizer(t, spec, tpl, dir):
//   dir/tokenizer.json          Hugging Face format; the template's special tokens (added by
//                               chat_prepare_tokenizer) are in "added_tokens" at their ids;
//   dir/tokenizer_config.json   "chat_template" (Jinja, equivalent to chat_render, with
//                               add_generation_prompt), "eos_token" = the template's end
//                               token (the stop token), "bos_token", "added_tokens_decoder",
//                               and "posttrain_template": the template's name;
//   dir/special_tokens_map.json bos/eos and the template's specials.
// tok_load(dir) then gives t back: the same id for every text, the same token bytes and
// specials at the same ids, the same BOS. Its EOS is the template's end token (the stop
// token a chat model is served with), as tokenizer_config.json says.
//
// Where the tokens come from (spec, as given to tok_load):
//   a tokenizer.json (or a directory holding one): copied, new specials appended;
//   tiktoken ranks (a built-in encoding name, NAME.tiktoken, npm tiktoken's NAME.json):
//     written as byte-level BPE: merges derived from the ranks, the encoding's split
//     regex, ignore_merges (tiktoken's whole-piece rule);
//   a llama2.c tokenizer.bin: written as SentencePiece-style BPE with byte fallback (as
//     Llama 2's tokenizer.json), merges ordered by score (the file is read again for them).
// GPT-2 encoder.json + vocab.bpe is not supported (an error says so).
#ifndef PT_EXPORT_H
#define PT_EXPORT_H

#include <stdbool.h>

#include "chat/template.h"
#include "tok/tok.h"
#include "util/err.h"

// Writes the files above into out_dir (created if missing; each file atomically), then
// loads out_dir again and checks it against t. t must hold tpl's special tokens
// (chat_prepare_tokenizer).
int chat_export_tokenizer(const Tokenizer *t, const char *spec, const ChatTemplate *tpl,
                          const char *out_dir, Err *e);

// The template of a directory written by chat_export_tokenizer: tokenizer_config.json's
// "posttrain_template", else a "chat_template" that is one of the built-in templates'
// Jinja strings. An error names the file when neither.
int chat_template_from_dir(const char *dir, const ChatTemplate **tpl, Err *e);

// The Jinja chat template (Hugging Face's apply_chat_template) equivalent to chat_render
// with tpl; with_bos: the template emits tpl->bos first (chat_render does when the
// tokenizer has it). Returns a malloc'd string, NULL when out of memory.
char *chat_template_jinja(const ChatTemplate *tpl, bool with_bos);

#endif
