// to_label.h: generated conversations into a labeling project (src/label) as "edit this
// draft" work: the turns before the last answer become a message tree (a prompt and its
// replies, pending review), and the last assistant answer a model draft on the last
// user message, assigned to a labeler who edits it (InstructGPT-style demonstrations
// seeded by a model, the edit distance kept as a measure of the model's help).
//
// Each conversation goes in one transaction: the project gets all of it or none. synth
// writes the JSONL line first and routes after, so a run killed between the two leaves
// that one conversation out of the project (it is in the JSONL; `posttrain label
// import` can add it) rather than adding it twice on resume.
#ifndef PT_SYNTH_TO_LABEL_H
#define PT_SYNTH_TO_LABEL_H

#include "chat/conv.h"
#include "label/label.h"

typedef struct {
    LabelDb db;
    LabelUser actor;     // the built-in local admin
    int64_t project_id;
    int64_t assignee_id; // who edits the drafts
    char *model;         // the drafts' model name
    size_t routed;
} SynthLabel;

// Opens db_path and finds project (it must exist: `posttrain label init DB --project P`)
// and assignee (a user name; NULL: the local admin).
int synth_label_open(SynthLabel *l, const char *db_path, const char *project, const char *assignee,
                     const char *model, Err *e);
// c: an optional system message (not kept: prompts carry none), then user, assistant, …,
// ending with an assistant message.
int synth_label_route(SynthLabel *l, const Conversation *c, Err *e);
void synth_label_close(SynthLabel *l);

#endif
