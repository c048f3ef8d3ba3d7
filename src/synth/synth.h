// synth.h: UltraChat-style synthetic conversations (Ding et al. 2023): a "user" model
// plays a curious person asking about a topic, an "assistant" model answers, for N turns.
//
// The user model sees the conversation with the roles swapped — its system prompt (play a
// user curious about TOPIC, write only the next message), a kick-off request, its own
// earlier questions as "assistant" messages and the answers as "user" messages — so any
// chat model can play the user. A seed question, when given, is the first user message.
//
// Output: one OpenAI chat record per line, appended:
//   {"synth_id":"s42-t3-k0-5f0c1a2e","topic":"…","messages":[{"role":"user",…},…]}
// synth_id = seed, topic index, sample index k (--per-topic), and a hash of the topic's
// text: a resumed run (same seed) skips the ids already in the output (or in the dropped
// file), so a killed run continues where it stopped and writes no conversation twice, and
// an edited topic is generated anew. Duplicates — the same normalized conversation, or
// assistant turns whose MinHash similarity to a kept conversation reaches the threshold —
// and conversations that came out empty go to the dropped file with the reason, so they
// are not retried either. Every message's sampling seed derives from the run's seed and
// the id, so a resumed run produces what the uninterrupted one would have.
#ifndef PT_SYNTH_SYNTH_H
#define PT_SYNTH_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "synth/backend.h"
#include "synth/dedup.h"

typedef struct {
    char *topic;     // may be NULL when only a question is given
    char *question;  // the first user message, or NULL: the user model asks
} SynthTopic;

typedef struct {
    SynthTopic *items;
    size_t n, cap;
} SynthTopics;

// Reads topics: JSONL ({"topic": …, "question": …}, either or both) when the first
// non-blank character is '{', else text with one entry per line (a line ending in '?' is
// a seed question, any other a topic; blank lines and lines starting with '#' skipped).
int synth_topics_load(const char *path, SynthTopics *t, Err *e);
void synth_topics_free(SynthTopics *t);

// "s<seed>-t<index>-k<k>-<8 hex digits of a hash of the topic and question>".
void synth_make_id(char *out, size_t n, uint64_t seed, size_t index, int k, const SynthTopic *t);

typedef struct {
    int turns;                 // user + assistant pairs per conversation (default 3)
    int per_topic;             // conversations per topic (default 1)
    uint64_t seed;
    SynthSample user, assistant;     // sampling of each role (seed filled per message)
    const char *user_prompt;   // the user model's system prompt; "{topic}" is replaced
    const char *assistant_system;  // system message for the assistant, kept in the output
    double near_threshold;     // MinHash Jaccard at or above which a conversation is a
                               // near duplicate (default 0.8; > 1 turns it off)
    int fsync_every;           // lines between fsyncs (default 16)
    long limit;                // stop after this many conversations written (0: all)
} SynthOptions;

void synth_options_default(SynthOptions *o);
extern const char *synth_default_user_prompt;

typedef struct {
    size_t existing;     // records found in the output at start
    size_t torn_bytes;   // bytes of a torn last line cut at start (output + dropped)
    size_t done_before;  // conversations skipped because their id was done
    size_t written, exact_dup, near_dup, empty, too_long;
    size_t turns_written;  // user + assistant pairs in the written conversations
} SynthStats;

typedef struct {
    // After each conversation: its id and what became of it ("written", "exact_dup",
    // "near_dup", "empty", "too_long") with the similarity for near duplicates.
    void (*progress)(void *ctx, const SynthStats *st, const char *id, const char *verdict,
                     double sim);
    // After a conversation is written (may be NULL): e.g. route it to a labeling project.
    int (*on_written)(void *ctx, const char *id, const SynthTopic *t, const Conversation *c,
                      Err *e);
    void *ctx;
} SynthHooks;

// Generates the conversations of every topic not yet done into out_path (appended),
// dropped ones into dropped_path. user and assistant may be the same backend.
int synth_run(const SynthOptions *o, const SynthTopics *topics, SynthBackend *user,
              SynthBackend *assistant, const char *out_path, const char *dropped_path,
              const SynthHooks *hooks, SynthStats *st, Err *e);

#endif
