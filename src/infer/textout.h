// textout.h: turning a stream of token bytes into text that is safe to show as it comes.
//
// Tokens end in the middle of characters (byte-level BPE, byte fallback) and stop
// strings span tokens, so text is held back until it is settled:
//   - an incomplete UTF-8 sequence at the end waits for its continuation bytes;
//   - a tail that is the start of some stop string waits until it is either completed
//     (a stop: the stop string and everything after it are dropped) or broken.
// Released text is valid UTF-8 (invalid bytes become U+FFFD). A stop string can never
// start inside text that was already released, because its first bytes would have been
// held back.
#ifndef PT_INFER_TEXTOUT_H
#define PT_INFER_TEXTOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

typedef struct {
    char **stops;      // owned copies of the stop strings (non-empty ones)
    int n_stops;
    Buf pending;       // decoded bytes not released yet
    bool stopped;      // a stop string matched
} TextOut;

// Copies the stop strings (NULL or empty ones are ignored). 0 or -1 (out of memory).
int textout_init(TextOut *t, const char *const *stops, int n_stops);
void textout_free(TextOut *t);

// Adds a token's bytes and appends to out what can be released now. Returns 1 when a stop
// string matched (t->stopped; nothing more is accepted), 0 otherwise, -1 out of memory.
int textout_push(TextOut *t, const char *bytes, size_t n, Buf *out);
// Releases whatever is held back (the sequence ended for another reason): an incomplete
// UTF-8 tail becomes U+FFFD.
int textout_flush(TextOut *t, Buf *out);

#endif
