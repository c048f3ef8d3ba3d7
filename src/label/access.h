// access.h: who may see and change what — the one place the permission rules live —
// and the small checks every entry point shares (label-internal).
//
// Rules: admins may do everything; reviewers read everything and review others' work;
// a labeler reads their own messages and accepted ones (the shared trees they build on),
// changes only their own pending messages, and sees only drafts assigned to them (with
// the conversation above each) and their own rankings. A refusal reads the same as a missing id (no probing).
#ifndef PT_LABEL_ACCESS_H
#define PT_LABEL_ACCESS_H

#include "label/label.h"

typedef struct {
    int64_t id, project_id, parent_id, author_id;
    bool assistant;
    LabelState state;
} MsgMeta;

// 0 if actor is non-NULL with at least role min; an error naming what was refused.
int access_role(const LabelUser *actor, LabelRole min, const char *what, Err *e);
// Loads message id's metadata and checks actor may read it (write: change it).
int access_message(LabelDb *d, const LabelUser *actor, int64_t id, bool write, MsgMeta *m, Err *e);
// Checks text: non-NULL, valid UTF-8, 1..LABEL_TEXT_MAX bytes (empty allowed if allow_empty).
int label_text_check(const char *text, const char *field, bool allow_empty, Err *e);
// A malloc'd copy of a text column (NULL for SQL NULL); sets *oom when allocation failed.
char *label_col_dup(sqlite3_stmt *st, int col, bool *oom);
// Binds text as TEXT (SQLITE_TRANSIENT: SQLite copies it); NULL binds SQL NULL.
int label_bind_text(sqlite3_stmt *st, int i, const char *text);
int label_state_parse(const char *s);
// Inserts one message row (no permission check: callers have done it). parent 0: a root;
// system, category < 0: none.
int msg_insert(LabelDb *d, int64_t project_id, int64_t parent_id, bool assistant, const char *text,
               const char *system, int category, int64_t author_id, LabelState state, int64_t *id, Err *e);

#endif
