// pages.h: the labeling app's HTML pages (label-internal; app.c routes to them).
//
// Every page function writes one whole HTML document into p->b. User text goes through
// html_escape only; guidelines go through cmark, which drops raw HTML and unsafe links.
// A page returns 0, or -1 with e set (the id is missing or not the user's: the caller
// answers 404 with e's message).
#ifndef PT_LABEL_PAGES_H
#define PT_LABEL_PAGES_H

#include <stdbool.h>

#include "label/label.h"
#include "util/buf.h"

typedef struct {
    LabelDb *d;
    LabelUser u;                      // the logged-in user (u.id 0 on the login page)
    char csrf[LABEL_TOKEN_LEN + 1];   // echoed by every form
    bool can_draft;                   // a model is there to draft replies
    const char *model;                // its name (when can_draft)
    Buf *b;
} Page;

void page_login(Buf *b, const char *error, const char *name);
// An error page with status text; text (may be NULL) is the submitted text that was not
// saved, shown again so nothing typed is lost.
void page_error(Page *p, int status, const char *msg, const char *text);
int page_home(Page *p, Err *e);
int page_project(Page *p, int64_t id, Err *e);
int page_message(Page *p, int64_t id, Err *e);
int page_draft(Page *p, int64_t id, Err *e);
int page_admin(Page *p, Err *e);
void page_account(Page *p);
int page_stats(Page *p, int64_t project_id, Err *e);

#endif
