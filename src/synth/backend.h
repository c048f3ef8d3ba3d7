// backend.h: what synth asks of a model — the next message of a conversation — whether
// the model runs here (local.c, the engine) or behind an OpenAI-compatible API (remote.c).
#ifndef PT_SYNTH_BACKEND_H
#define PT_SYNTH_BACKEND_H

#include <stdint.h>

#include "chat/conv.h"
#include "chat/template.h"
#include "infer/engine.h"
#include "util/buf.h"
#include "util/err.h"

typedef struct {
    float temperature;  // 0: greedy
    float top_p;        // 1: off
    int max_tokens;     // most tokens of one message
    uint64_t seed;      // per message: the same seed and prompt give the same reply
} SynthSample;

typedef struct SynthBackend {
    // Writes the assistant reply to c (c's last message is the user's) into out (reset
    // first). Returns 0, 1 when c no longer fits the model's context (the conversation
    // ends there), or -1 with e set. A reply may be empty.
    int (*reply)(struct SynthBackend *b, const Conversation *c, const SynthSample *s, Buf *out,
                 Err *e);
    void (*close)(struct SynthBackend *b);  // frees b; NULL-safe through synth_backend_close
    const char *name;                       // for messages: the model dir or API model
} SynthBackend;

// What a backend on a local engine shares (reply.c), whether it calls the engine itself
// (local.c) or through a server's scheduler (serve/sched_backend.c):
// The prompt asking for the assistant's reply to c: c rendered with tpl plus the
// assistant header, the renderer training used. 0, 1 when it leaves no room in ctx for
// one token of reply, or -1 with e set.
int synth_reply_prompt(const Tokenizer *t, const ChatTemplate *tpl, const Conversation *c, int ctx, IntVec *ids,
                       Err *e);
void synth_sample_params(const SynthSample *s, SampleParams *p);  // defaults plus s
// The reply's text from the generated ids (the end token and what follows dropped) into
// out, NUL-terminated.
int synth_reply_text(const Tokenizer *t, const ChatTemplate *tpl, const int32_t *ids, size_t n, Buf *out,
                     Err *e);

// A reply as text to keep: surrounding whitespace trimmed, invalid UTF-8 (a reply cut
// inside a character, a model's stray byte tokens) turned into U+FFFD. -1: out of memory.
int synth_reply_clean(Buf *b);

static inline void synth_backend_close(SynthBackend *b) {
    if (b && b->close) b->close(b);
}

#endif
