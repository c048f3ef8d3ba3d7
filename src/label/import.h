// import.h: prompts and conversations from any data set src/data/reader.h reads, into a
// project's trees.
//
// A conversation becomes a path from a root: a leading system message is kept on the
// root, then user/assistant messages must alternate from a user message. Paths merge
// with what is there — an existing message with the same parent, role and text is
// reused — so importing every root-to-leaf path of an oasst tree rebuilds the tree, and
// importing a file twice adds nothing. A record that is a lone user message is a prompt
// waiting for replies. Each file is one transaction: it lands whole or not at all.
#ifndef PT_LABEL_IMPORT_H
#define PT_LABEL_IMPORT_H

#include "data/reader.h"
#include "label/label.h"

typedef struct {
    LabelState state;     // state of new messages (the CLI's default: accepted)
    ReaderOptions reader; // format, skip_bad, ... as for `data stats`
} LabelImportOptions;

typedef struct {
    size_t records;       // conversations read
    size_t messages;      // messages added
    size_t merged;        // messages already there (reused)
    size_t skipped;       // records that are not conversations, or whose roles do not fit
    char first_skip[512]; // why the first skipped record was skipped
} LabelImportStats;

// Imports path into project_id as actor (admins). Counts add up into *s.
int label_import_file(LabelDb *d, const LabelUser *actor, int64_t project_id, const char *path,
                      const LabelImportOptions *o, LabelImportStats *s, Err *e);

#endif
