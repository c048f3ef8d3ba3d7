// template.h: the chat protocol — a conversation becomes one 1-D sequence of token ids
// plus a per-token loss mask, through special tokens that post-training adds.
//
// The seed's example with the gpt4o template and o200k_base:
//   <|im_start|>user<|im_sep|>What is 2+2?<|im_end|><|im_start|>assistant<|im_sep|>2+2 = 4<|im_end|>
//   200264 1428 200266 4827 382 220 17 10 17 30 200265 200264 173781 200266 17 10 17 314 220 19 200265
//   mask: 1 on "2+2 = 4" and its closing <|im_end|> (the model learns to stop), 0 elsewhere.
//
// Mask convention everywhere in posttrain: mask[t] = 1 means token t is a target
// (predicted from position t-1).
#ifndef PT_TEMPLATE_H
#define PT_TEMPLATE_H

#include <stdbool.h>

#include "chat/conv.h"
#include "tok/tok.h"

typedef struct {
    const char *name;
    const char *bos;            // special emitted once at the start if the tokenizer has it
    const char *start;          // special before the role name
    const char *role_end;       // special after the role name, or NULL
    const char *header_suffix;  // text after the role (and role_end): "\n", "\n\n" or ""
    const char *end;            // special closing each message (the stop token)
    const char *after_end;      // text after end (chatml's "\n"), or ""
    bool trim_content;          // strip surrounding whitespace of content (llama3 does)
} ChatTemplate;

// The built-in templates: gpt4o, chatml, llama3. NULL if unknown.
const ChatTemplate *chat_template_find(const char *name);
// "gpt4o|chatml|llama3", for messages.
const char *chat_template_names(void);

// Makes sure the tokenizer has the template's special tokens: a missing one is added
// with its known id for this encoding (o200k_base: <|im_start|>=200264, …) or the next
// free id — the seed's point that these are new tokens, added in post-training.
int chat_prepare_tokenizer(Tokenizer *t, const ChatTemplate *tpl, Err *e);

// Renders c into ids and mask (appended; same length). With add_generation_prompt, the
// assistant header is appended (no loss), as HF's add_generation_prompt does.
int chat_render(const Tokenizer *t, const ChatTemplate *tpl, const Conversation *c,
                bool add_generation_prompt, IntVec *ids, IntVec *mask, Err *e);

// Parses generated ids (what followed the assistant header) back into the reply text:
// stops at the template's end token or the tokenizer's EOS. *ended tells whether it did.
int chat_parse_reply(const Tokenizer *t, const ChatTemplate *tpl, const int32_t *ids, size_t n,
                     Buf *content, bool *ended, Err *e);

#endif
