// view.h: a tokenizer-playground view of ids (like tiktokenizer): each token's text on an
// alternating background, special tokens highlighted, targets of the loss marked.
#ifndef PT_VIEW_H
#define PT_VIEW_H

#include <stdbool.h>

#include "tok/tok.h"

// Appends the view of ids (and mask, may be NULL) to out. color: ANSI escapes for a
// terminal; without, tokens are bracketed as [text] and targets as {text}.
int chat_view_tokens(const Tokenizer *t, const int32_t *ids, const int32_t *mask, size_t n,
                     bool color, Buf *out, Err *e);

#endif
