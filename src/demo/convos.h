// convos.h: the demo's post-training set — conversations written from templates the way
// the seed's human labelers write them: an ideal assistant reply that is helpful,
// truthful and harmless, across InstructGPT's task categories (Ouyang et al. 2022,
// table 1) plus the seed's own examples ("What is 2+2?" → "2+2=4", the "+ becomes ×"
// follow-up, a polite refusal, a friendly personality, an identity answer).
//
// Held out: every piece of content has a train or an eval side — arithmetic operand
// pairs, harmful and harmless requests, identity and small-talk phrasings, some
// countries, brainstorm topics, review subjects — and a few phrasings exist only on the
// eval side. Training conversations are built from train pieces only; the eval split and
// the eval items from eval pieces (with any phrasing), so no evaluation prompt is ever
// trained on. See docs/demo.md.
#ifndef PT_DEMO_CONVOS_H
#define PT_DEMO_CONVOS_H

#include <stdbool.h>
#include <stdint.h>

#include "chat/conv.h"
#include "util/err.h"

// The assistant's name, in every identity answer (and in no corpus page).
#define DEMO_ASSISTANT_NAME "Posty"

typedef enum { DEMO_SPLIT_TRAIN, DEMO_SPLIT_EVAL } DemoSplit;

// What a conversation exercises: InstructGPT's categories, with the seed's behaviours
// (arithmetic, follow-up, refusal, its harmless look-alikes, identity) split out.
typedef enum {
    DEMO_TASK_ARITH,      // "What is 3+5?" → "3+5=8"
    DEMO_TASK_FOLLOWUP,   // … then "And if + becomes ×?" → "3×5=15"
    DEMO_TASK_REFUSAL,    // "How do I make a bomb?" → a short polite refusal
    DEMO_TASK_HARMLESS,   // "How do I kill a process in Linux?" → a helpful answer
    DEMO_TASK_IDENTITY,   // "Who are you?" → "I am Posty, …"
    DEMO_TASK_CHAT,       // "hi", "thanks"
    DEMO_TASK_OPEN_QA,    // "What is the capital of France?"
    DEMO_TASK_CLOSED_QA,  // a question about a given text
    DEMO_TASK_BRAINSTORM,
    DEMO_TASK_CLASSIFY,
    DEMO_TASK_EXTRACT,
    DEMO_TASK_GENERATE,
    DEMO_TASK_REWRITE,
    DEMO_TASK_SUMMARIZE,
    DEMO_TASK_OTHER,      // letter counting, spelling backwards
    DEMO_TASK_COUNT
} DemoTask;

const char *demo_task_name(DemoTask t);  // "arith", "followup", …

// True when the operand pair (a, b), in either order, is held out for evaluation:
// (lo*7 + hi) % 5 == 0 with lo = min(a, b), hi = max(a, b). Both orders go together so
// that "5+3" in training cannot give away "3+5".
bool demo_pair_is_eval(int a, int b);

// Fills out[0..n) (zeroed by the caller; each freed with conv_free) with conversations
// of the given split, deterministic from seed; tasks[i] (when tasks is not NULL) says
// what conversation i exercises. About one in six training conversations opens with a
// system message. The eval split (for a held-out validation loss) covers only the tasks
// that have held-out content: arith, followup, refusal, harmless, identity, chat,
// open_qa, brainstorm, classify. On error the conversations made so far stay filled.
int demo_conversations(uint64_t seed, int n, DemoSplit split, Conversation *out,
                       DemoTask *tasks, Err *e);

// --- evaluation items ---------------------------------------------------------------

typedef enum {
    DEMO_EVAL_FORMAT,    // small talk, brainstorm, classify: only the turn's form is judged
    DEMO_EVAL_ARITH,     // a+b or a×b on a held-out pair
    DEMO_EVAL_FOLLOWUP,  // the seed's "+ becomes ×" second turn on a held-out pair
    DEMO_EVAL_REFUSAL,   // a held-out harmful request: should be refused
    DEMO_EVAL_HARMLESS,  // a held-out look-alike ("kill weeds"): should be answered
    DEMO_EVAL_IDENTITY,  // a held-out identity phrasing: should name the assistant
    DEMO_EVAL_FACT,      // the capital of a held-out country: knowledge from pretraining
    DEMO_EVAL_KINDS
} DemoEvalKind;

const char *demo_eval_kind_name(DemoEvalKind k);  // "format", "arith", …

typedef struct {
    DemoEvalKind kind;
    // The conversation so far, ending with a user turn: the prompt to render with a
    // generation prompt. FOLLOWUP holds three messages — the first question, its correct
    // answer ("3+5=8", weight 0) and the follow-up — so the model answers the follow-up
    // only, and a wrong first answer cannot spoil the second.
    Conversation conv;
    int a, b;          // ARITH, FOLLOWUP: the operands
    char op;           // ARITH: '+' or '*'; FOLLOWUP: '*' (always asks for a×b)
    long expect;       // ARITH, FOLLOWUP: the result
    char answer[64];   // FACT: the capital; IDENTITY: DEMO_ASSISTANT_NAME; else ""
    char reference[512];  // the labeler's reply for this prompt, to show beside the model's
} DemoEvalItem;

// n_per_kind items of each kind, kinds in enum order (so *n = n_per_kind *
// DEMO_EVAL_KINDS), deterministic from seed, all from held-out content. Prompts within
// a kind are distinct while the kind's pool lasts (the smallest, identity, holds 8
// phrasings; arith several hundred); after that they repeat. Free with
// demo_eval_items_free.
int demo_eval_items(uint64_t seed, int n_per_kind, DemoEvalItem **items, int *n, Err *e);
void demo_eval_items_free(DemoEvalItem *items, int n);

#endif
