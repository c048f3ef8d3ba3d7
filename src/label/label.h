// label.h: the labeling model — projects, users, sessions, message trees, drafts,
// rankings, reviews and the work queue — as functions a CLI or an HTTP handler calls.
//
// Every function that reads or changes labeled data takes the acting user and checks
// permissions itself (access.c), so a handler only has to turn a session token into a
// LabelUser (label_session_user) and pass it on. A refused request fails with ERR_ARG
// and a message that does not tell whether the id exists (no probing other users' ids).
// Texts are UTF-8 C strings, stored and returned verbatim (escaping is the renderer's
// job: HTML for a page, JSON for an export).
#ifndef PT_LABEL_H
#define PT_LABEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chat/conv.h"
#include "label/db.h"
#include "util/err.h"

enum { LABEL_NAME_MAX = 64, LABEL_TEXT_MAX = 65536, LABEL_TOKEN_LEN = 64 };

typedef enum { LROLE_LABELER, LROLE_REVIEWER, LROLE_ADMIN } LabelRole;
const char *label_role_name(LabelRole r);
int label_role_parse(const char *s);  // -1 if unknown

typedef struct {
    int64_t id;
    char name[LABEL_NAME_MAX + 1];
    LabelRole role;
} LabelUser;

// ---- users (user.c) ----
// Adds a user (actor must be an admin). password may be NULL: the user cannot log in
// until one is set. Names are 1..64 printable characters, no spaces.
int label_user_add(LabelDb *d, const LabelUser *actor, const char *name, LabelRole role,
                   const char *password, int64_t *id, Err *e);
int label_user_set_password(LabelDb *d, const LabelUser *actor, int64_t user_id,
                            const char *password, Err *e);  // admin, or the user themself
// By name, with no permission check: for local commands and for handlers that already
// hold a user (to name an assignee), never for answering anonymous requests.
int label_user_find(LabelDb *d, const char *name, LabelUser *u, Err *e);
// The built-in admin that local commands (`posttrain label ...`) act as; it has no
// password, so it can never log in over the web. Created on first use.
int label_user_local(LabelDb *d, LabelUser *u, Err *e);
// Every user, by name (admins): *us malloc'd.
int label_user_list(LabelDb *d, const LabelUser *actor, LabelUser **us, int *n, Err *e);

// ---- sessions and CSRF (session.c) ----
enum { LABEL_SESSION_SECONDS = 7 * 24 * 3600 };
typedef struct {
    char token[LABEL_TOKEN_LEN + 1];  // the cookie value (hex); only its hash is stored
    char csrf[LABEL_TOKEN_LEN + 1];   // to echo in every state-changing form
    int64_t expires;
} LabelSession;
// Verifies name + password (a wrong name and a wrong password give the same error).
int label_user_verify(LabelDb *d, const char *name, const char *password, LabelUser *u, Err *e);
// Verifies name + password and opens a session valid until now + ttl (0: a week).
// A wrong name and a wrong password give the same error.
int label_login(LabelDb *d, const char *name, const char *password, int64_t now, int64_t ttl,
                LabelSession *s, LabelUser *u, Err *e);
// The user of a live session; an unknown or expired token is an error.
int label_session_user(LabelDb *d, const char *token, int64_t now, LabelUser *u, Err *e);
// The same, with the session's CSRF token (for the forms of the page being rendered).
int label_session_get(LabelDb *d, const char *token, int64_t now, LabelUser *u, char csrf[LABEL_TOKEN_LEN + 1],
                      Err *e);
// 0 if csrf is the session's CSRF token (constant-time compare), else an error.
int label_csrf_check(LabelDb *d, const char *token, const char *csrf, int64_t now, Err *e);
int label_logout(LabelDb *d, const char *token, Err *e);
int label_sessions_purge(LabelDb *d, int64_t now, Err *e);  // deletes expired sessions

// ---- projects (project.c) ----
extern const char label_default_guidelines[];  // guidelines.c: helpful, truthful, harmless
int label_project_create(LabelDb *d, const LabelUser *actor, const char *name,
                         const char *guidelines, int64_t *id, Err *e);  // admin; NULL: default
int label_project_find(LabelDb *d, const LabelUser *actor, const char *name, int64_t *id, Err *e);
typedef struct {
    int64_t id;
    char name[201];
} LabelProject;
int label_project_list(LabelDb *d, const LabelUser *actor, LabelProject **ps, int *n, Err *e);  // by id
int label_project_get(LabelDb *d, const LabelUser *actor, int64_t id, LabelProject *p, Err *e);
// *md: malloc'd Markdown the caller frees.
int label_project_guidelines(LabelDb *d, const LabelUser *actor, int64_t project_id, char **md, Err *e);

// ---- message trees (message.c) ----
// InstructGPT's task categories (Ouyang et al. 2022, table 1).
typedef enum {
    LCAT_BRAINSTORMING, LCAT_CLASSIFICATION, LCAT_EXTRACTION, LCAT_GENERATION, LCAT_REWRITE,
    LCAT_CHAT, LCAT_CLOSED_QA, LCAT_OPEN_QA, LCAT_SUMMARIZATION, LCAT_OTHER, LCAT_COUNT
} LabelCategory;
const char *label_category_name(LabelCategory c);
int label_category_parse(const char *s);  // also maps Dolly's names; -1 if unknown

typedef enum { LSTATE_PENDING, LSTATE_ACCEPTED, LSTATE_REJECTED } LabelState;
const char *label_state_name(LabelState s);

typedef struct {
    int64_t id, project_id, parent_id;  // parent_id 0: a prompt (root)
    bool assistant;                     // role: assistant, else user
    char *text;                         // owned
    char *system;                       // owned or NULL (roots)
    int category;                       // LabelCategory for roots, -1 otherwise
    int64_t author_id;
    char author[LABEL_NAME_MAX + 1];
    int64_t created;
    LabelState state;
    char *review_reason;                // owned or NULL
} LabelMessage;
void label_message_free(LabelMessage *m);

// A new prompt (user message at the root of a tree), pending review.
int label_prompt_create(LabelDb *d, const LabelUser *actor, int64_t project_id, LabelCategory cat,
                        const char *text, int64_t *id, Err *e);
// A reply to parent_id; its role is the other one (user <-> assistant). The parent must
// be readable by actor and not rejected.
int label_reply_add(LabelDb *d, const LabelUser *actor, int64_t parent_id, const char *text,
                    int64_t *id, Err *e);
int label_message_get(LabelDb *d, const LabelUser *actor, int64_t id, LabelMessage *m, Err *e);
// Changes the text of one's own pending message (admins: any pending message).
int label_message_edit(LabelDb *d, const LabelUser *actor, int64_t id, const char *text, Err *e);
// Accepts or rejects a message (reviewers and admins; not one's own). reason may be NULL.
int label_review(LabelDb *d, const LabelUser *actor, int64_t id, bool accept, const char *reason, Err *e);
// The path root..id (ids, root first): *ids malloc'd. Permission as label_message_get.
int label_message_path(LabelDb *d, const LabelUser *actor, int64_t id, int64_t **ids, int *n, Err *e);

// The replies of parent_id that actor may read (ids ascending, *ids malloc'd): what a
// page shows under a message, and what a ranking form offers.
int label_message_replies(LabelDb *d, const LabelUser *actor, int64_t parent_id, int64_t **ids, int *n, Err *e);

// ---- conversations and listings (conversation.c) ----
// The path root..id as a chat conversation (c is reset first; conv_free it): the root's
// system message, if any, then the messages with their roles. Permission as
// label_message_path. What a model continues to draft a reply to id.
int label_conversation(LabelDb *d, const LabelUser *actor, int64_t id, Conversation *c, Err *e);
// The messages of project_id that actor may read (ids ascending, *ids malloc'd), of one
// LabelState, or all with state -1.
int label_message_list(LabelDb *d, const LabelUser *actor, int64_t project_id, int state, int64_t **ids,
                       int *n, Err *e);

// The prompts (roots) of project_id that actor may read, newest first, at most max.
int label_project_prompts(LabelDb *d, const LabelUser *actor, int64_t project_id, int max, int64_t **ids,
                          int *n, Err *e);

// ---- drafts (draft.c) ----
typedef struct {
    int64_t id, parent_id, assignee_id, message_id;  // message_id 0: not saved yet
    char *model, *draft, *edited;                    // owned; edited NULL until saved
    int64_t edit_distance;                           // -1: unknown / not saved
} LabelDraft;
void label_draft_free(LabelDraft *x);
// A model's draft reply to parent_id, for assignee to edit (reviewers and admins; a
// labeler only for themself).
int label_draft_add(LabelDb *d, const LabelUser *actor, int64_t parent_id, const char *model,
                    const char *text, int64_t assignee_id, int64_t *id, Err *e);
int label_draft_get(LabelDb *d, const LabelUser *actor, int64_t id, LabelDraft *x, Err *e);
// The assignee's edit: stored with its edit distance, and added as a pending reply to the
// draft's parent (in one transaction). A draft is saved once.
int label_draft_save(LabelDb *d, const LabelUser *actor, int64_t id, const char *edited,
                     int64_t *message_id, Err *e);

// ---- rankings (rank.c) ----
// actor's ranking of replies of parent_id, best first: n >= 2 distinct children of the
// parent, none rejected. Replaces actor's earlier ranking of that parent.
int label_rank(LabelDb *d, const LabelUser *actor, int64_t parent_id, const int64_t *best_first,
               int n, Err *e);

// ---- the work queue (queue.c) ----
typedef enum { LTASK_REPLY, LTASK_EDIT_DRAFT, LTASK_RANK, LTASK_REVIEW } LabelTaskType;
const char *label_task_name(LabelTaskType t);
typedef struct {
    LabelTaskType type;
    int64_t id;          // the message (reply, rank, review) or the draft (edit_draft)
    int64_t project_id;
    char preview[121];   // the start of the text (UTF-8 cut at a code point)
} LabelTask;
// Open tasks for actor in project (0: all projects), at most max: drafts assigned to
// actor, accepted messages actor has not replied to that want replies, parents with 2+
// replies actor has not ranked, and (reviewers, admins) others' pending messages.
int label_queue_list(LabelDb *d, const LabelUser *actor, int64_t project_id, LabelTask **tasks,
                     int *n, int max, Err *e);

#endif
