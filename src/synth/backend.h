// backend.h: what synth asks of a model — the next message of a conversation — whether
// the model runs here (local.c, the engine) or behind an OpenAI-compatible API (remote.c).
#ifndef PT_SYNTH_BACKEND_H
#define PT_SYNTH_BACKEND_H

#include <stdint.h>

#include "chat/conv.h"
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

// A reply as text to keep: surrounding whitespace trimmed, invalid UTF-8 (a reply cut
// inside a character, a model's stray byte tokens) turned into U+FFFD. -1: out of memory.
int synth_reply_clean(Buf *b);

static inline void synth_backend_close(SynthBackend *b) {
    if (b && b->close) b->close(b);
}

#endif
