// export.h: a project's labeled data out, as JSONL (docs/label.md has examples).
//
//   openai    {"messages": [{"role", "content", "weight"?}]} per root-to-leaf path of
//             accepted messages, cut after the last assistant message (the SFT format
//             src/data/reader.h reads)
//   oasst     one tree per line, oasst1's *.trees.jsonl shape: {"message_tree_id",
//             "prompt": {"message_id", "role": "prompter"|"assistant", "text",
//             "review_result", "rank", "replies": [...]}}
//   rankings  one line per labeler's ranking: {"parent_id", "labeler", "context":
//             [messages root..parent], "ranked": [{"message_id", "text"}] best first}
#ifndef PT_LABEL_EXPORT_H
#define PT_LABEL_EXPORT_H

#include "label/label.h"
#include "util/buf.h"

typedef enum { LEXPORT_OPENAI, LEXPORT_OASST, LEXPORT_RANKINGS } LabelExportFormat;
int label_export_format_parse(const char *s);  // "openai" | "oasst" | "rankings"; -1 if none

typedef struct {
    LabelExportFormat format;
    // Rejected messages too (never pending ones): in openai, a rejected assistant message
    // gets weight 0 (context, not a target); in oasst, review_result false.
    bool include_rejected;
} LabelExportOptions;

// Appends the JSONL of project_id to out (reviewers and admins); *lines: lines written.
int label_export(LabelDb *d, const LabelUser *actor, int64_t project_id, const LabelExportOptions *o,
                 Buf *out, size_t *lines, Err *e);

#endif
