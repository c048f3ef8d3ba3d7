// pages.c: the labeling app's HTML (see pages.h). Plain server-rendered forms: they work
// without script, post back to the same app, and carry the CSRF token in a hidden field.
#include "label/pages.h"

#include <cmark.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "label/stats.h"
#include "util/html.h"

// ---------------------------------------------------------------- writing helpers

// Markup goes in with buf_appendf, never user text: that goes through esc.
static void esc(Buf *b, const char *s) { html_escape(b, s); }

static void csrf_field(Page *p) {
    buf_appendf(p->b, "<input type=\"hidden\" name=\"csrf\" value=\"%s\">", p->csrf);  // hex: nothing to escape
}

static void head(Buf *b, const char *title) {
    buf_appendf(b,
                "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                "<link rel=\"stylesheet\" href=\"/label.css\"><title>");
    esc(b, title);
    buf_appendf(b, " · posttrain label</title></head>\n<body>");
}

// The page's top: title, the user, the navigation and the logout form.
static void open_page(Page *p, const char *title) {
    head(p->b, title);
    buf_appendf(p->b,
                "<header class=\"top\"><a class=\"brand\" href=\"/label/\">posttrain label</a><nav>"
                "<a href=\"/label/\">Queue</a>");
    if (p->u.role == LROLE_ADMIN) buf_appendf(p->b, "<a href=\"/label/admin\">Admin</a>");
    buf_appendf(p->b, "<a href=\"/label/account\">Account</a></nav><span class=\"who\">");
    esc(p->b, p->u.name);
    buf_appendf(p->b, " <small>(%s)</small></span><form method=\"post\" action=\"/label/logout\" class=\"inline\">",
                label_role_name(p->u.role));
    csrf_field(p);
    buf_appendf(p->b, "<button class=\"link\" type=\"submit\">Log out</button></form></header>\n<main>");
}

static void close_page(Buf *b) { buf_appendf(b, "</main></body></html>\n"); }

// Guidelines beside a task: Markdown through cmark with its safe default (raw HTML is
// left out and javascript:/data: links are dropped), so an admin's text cannot script.
static void guidelines_aside(Page *p, int64_t project_id) {
    char *md = NULL;
    Err e = {0};
    if (label_project_guidelines(p->d, &p->u, project_id, &md, &e)) return;
    char *html = cmark_markdown_to_html(md, strlen(md), CMARK_OPT_DEFAULT);
    buf_appendf(p->b, "<aside class=\"guidelines\"><h2>Guidelines</h2>");
    if (html) buf_append(p->b, html, strlen(html));
    buf_appendf(p->b, "</aside>");
    free(html);
    free(md);
}

static void when(Buf *b, int64_t t) {
    char s[32];
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(s, sizeof s, "%Y-%m-%d %H:%M UTC", &tm);
    buf_appendf(b, "<time>%s</time>", s);
}

static const char *role_of(const LabelMessage *m) { return m->assistant ? "assistant" : "user"; }

// One message as a card: role, id, author, state, category, then its text verbatim.
static void message_card(Page *p, const LabelMessage *m, bool current) {
    Buf *b = p->b;
    buf_appendf(b,
                "<article class=\"msg %s state-%s%s\" id=\"m%lld\"><header><span class=\"role\">%s</span> "
                "<a href=\"/label/message/%lld\">#%lld</a> by <b>",
                role_of(m), label_state_name(m->state), current ? " current" : "", (long long)m->id,
                m->assistant ? "Assistant" : "User", (long long)m->id, (long long)m->id);
    esc(b, m->author);
    buf_appendf(b, "</b> · ");
    when(b, m->created);
    buf_appendf(b, " · <span class=\"state %s\">%s</span>", label_state_name(m->state), label_state_name(m->state));
    if (m->category >= 0) buf_appendf(b, " · <span class=\"cat\">%s</span>", label_category_name(m->category));
    buf_appendf(b, "</header>");
    if (m->system && *m->system) {
        buf_appendf(b, "<div class=\"system\"><span class=\"role\">System</span><pre class=\"text\">\n");
        esc(b, m->system);
        buf_appendf(b, "</pre></div>");
    }
    buf_appendf(b, "<pre class=\"text\">\n");
    esc(b, m->text);
    buf_appendf(b, "</pre>");
    if (m->review_reason && *m->review_reason) {
        buf_appendf(b, "<p class=\"reason\">Review: ");
        esc(b, m->review_reason);
        buf_appendf(b, "</p>");
    }
    buf_appendf(b, "</article>\n");
}

// The conversation root..id, each message a card (the last one marked current).
static int thread(Page *p, int64_t id, LabelMessage *last, Err *e) {
    int64_t *ids = NULL;
    int n = 0;
    if (label_message_path(p->d, &p->u, id, &ids, &n, e)) return -1;
    buf_appendf(p->b, "<section class=\"thread\">");
    int rc = 0;
    for (int i = 0; i < n && !rc; i++) {
        LabelMessage m;
        if ((rc = label_message_get(p->d, &p->u, ids[i], &m, e))) break;
        message_card(p, &m, i == n - 1);
        if (i == n - 1 && last)
            *last = m;
        else
            label_message_free(&m);
    }
    buf_appendf(p->b, "</section>");
    free(ids);
    return rc;
}

// Every <pre> and <textarea> here opens with a newline: HTML drops one newline right
// after those tags, so a text that itself starts with one would otherwise lose it.
static void textarea(Buf *b, const char *name, const char *label, const char *value, int rows) {
    buf_appendf(b, "<label>%s<textarea name=\"%s\" rows=\"%d\" required maxlength=\"%d\">\n", label, name, rows,
                LABEL_TEXT_MAX);
    esc(b, value);
    buf_appendf(b, "</textarea></label>");
}

// ---------------------------------------------------------------- pages

void page_login(Buf *b, const char *error, const char *name) {
    head(b, "Log in");
    buf_appendf(b,
                "<main class=\"login\"><h1>posttrain label</h1><p>Log in to write, edit, rank and review "
                "conversations.</p>");
    if (error) {
        buf_appendf(b, "<p class=\"error\" role=\"alert\">");
        esc(b, error);
        buf_appendf(b, "</p>");
    }
    buf_appendf(b,
                "<form method=\"post\" action=\"/label/login\"><label>User name<input name=\"name\" "
                "autocomplete=\"username\" required value=\"");
    esc(b, name);
    buf_appendf(b,
                "\"></label><label>Password<input name=\"password\" type=\"password\" "
                "autocomplete=\"current-password\" required></label><button type=\"submit\">Log in</button>"
                "</form></main></body></html>\n");
}

void page_error(Page *p, int status, const char *msg, const char *text) {
    const char *title = status == 404   ? "Not found"
                        : status == 403 ? "Not allowed"
                        : status >= 500 ? "Server error"
                                        : "Not saved";
    if (p->u.id)
        open_page(p, title);
    else {
        head(p->b, title);
        buf_appendf(p->b, "<main>");
    }
    buf_appendf(p->b, "<h1>%s</h1><p class=\"error\" role=\"alert\">", title);
    esc(p->b, msg);
    buf_appendf(p->b, "</p>");
    if (text && *text) {
        buf_appendf(p->b,
                    "<p>What you sent, so nothing is lost (copy it before leaving):</p><textarea readonly "
                    "rows=\"8\" class=\"kept\">\n");
        esc(p->b, text);
        buf_appendf(p->b, "</textarea>");
    }
    buf_appendf(p->b, "<p><a href=\"/label/\">Back to the queue</a></p>");
    close_page(p->b);
}

static const char *task_verb(LabelTaskType t) {
    switch (t) {
        case LTASK_EDIT_DRAFT:
            return "Edit the model's draft";
        case LTASK_REVIEW:
            return "Review";
        case LTASK_RANK:
            return "Rank the replies to";
        default:
            return "Reply to";
    }
}

int page_home(Page *p, Err *e) {
    LabelProject *ps = NULL;
    LabelTask *t = NULL;
    int np = 0, nt = 0;
    if (label_project_list(p->d, &p->u, &ps, &np, e) || label_queue_list(p->d, &p->u, 0, &t, &nt, 100, e)) {
        free(ps);
        return -1;
    }
    open_page(p, "Queue");
    buf_appendf(p->b, "<h1>Your queue</h1>");
    if (!nt)
        buf_appendf(p->b, "<p class=\"empty\">Nothing waits for you. Write a prompt in a project below.</p>");
    else
        buf_appendf(p->b, "<ol class=\"queue\">");
    for (int i = 0; i < nt; i++) {
        const char *kind = t[i].type == LTASK_EDIT_DRAFT ? "draft" : "message";
        buf_appendf(p->b, "<li class=\"task %s\"><a href=\"/label/%s/%lld\">%s #%lld</a> <q>",
                    label_task_name(t[i].type), kind, (long long)t[i].id, task_verb(t[i].type), (long long)t[i].id);
        esc(p->b, t[i].preview);
        buf_appendf(p->b, "</q></li>");
    }
    if (nt) buf_appendf(p->b, "</ol>");
    buf_appendf(p->b, "<h2>Projects</h2><ul class=\"projects\">");
    for (int i = 0; i < np; i++) {
        buf_appendf(p->b, "<li><a href=\"/label/project/%lld\">", (long long)ps[i].id);
        esc(p->b, ps[i].name);
        buf_appendf(p->b, "</a></li>");
    }
    if (!np)
        buf_appendf(p->b, "<li class=\"empty\">No project yet%s.</li>",
                    p->u.role == LROLE_ADMIN ? ": create one under Admin" : "");
    buf_appendf(p->b, "</ul>");
    close_page(p->b);
    free(ps);
    free(t);
    return 0;
}

static void category_select(Buf *b) {
    buf_appendf(b, "<label>Category<select name=\"category\" required>");
    for (int c = 0; c < LCAT_COUNT; c++)
        buf_appendf(b, "<option value=\"%s\">%s</option>", label_category_name(c), label_category_name(c));
    buf_appendf(b, "</select></label>");
}

int page_project(Page *p, int64_t id, Err *e) {
    LabelProject pr;
    int64_t *ids = NULL;
    int n = 0;
    if (label_project_get(p->d, &p->u, id, &pr, e) || label_project_prompts(p->d, &p->u, id, 200, &ids, &n, e))
        return -1;
    open_page(p, pr.name);
    buf_appendf(p->b, "<div class=\"with-guidelines\"><div class=\"work\"><h1>");
    esc(p->b, pr.name);
    buf_appendf(p->b, "</h1>");
    if (p->u.role >= LROLE_REVIEWER)
        buf_appendf(p->b,
                    "<p class=\"tools\">Export accepted data: <a href=\"/label/project/%lld/export/openai\">OpenAI "
                    "JSONL</a> · <a href=\"/label/project/%lld/export/oasst\">oasst trees</a> · <a "
                    "href=\"/label/project/%lld/export/rankings\">rankings</a> · <a "
                    "href=\"/label/project/%lld/stats\">stats</a></p>",
                    (long long)id, (long long)id, (long long)id, (long long)id);
    buf_appendf(p->b,
                "<h2>Write a prompt</h2><p class=\"hint\">A request a user might make, in one of InstructGPT's "
                "task categories. Others then write the ideal response.</p>"
                "<form method=\"post\" action=\"/label/project/%lld/prompt\" class=\"task-form\">",
                (long long)id);
    csrf_field(p);
    category_select(p->b);
    textarea(p->b, "text", "Prompt", NULL, 5);
    buf_appendf(p->b, "<button type=\"submit\">Submit prompt</button></form><h2>Prompts</h2>");
    if (!n)
        buf_appendf(p->b, "<p class=\"empty\">No prompts you can see yet.</p>");
    else
        buf_appendf(p->b, "<ul class=\"prompts\">");
    for (int i = 0; i < n; i++) {
        LabelMessage m;
        if (label_message_get(p->d, &p->u, ids[i], &m, e)) continue;
        size_t len = strlen(m.text);
        buf_appendf(p->b,
                    "<li><a href=\"/label/message/%lld\">#%lld</a> <span class=\"state %s\">%s</span> "
                    "<span class=\"cat\">%s</span> <q>",
                    (long long)m.id, (long long)m.id, label_state_name(m.state), label_state_name(m.state),
                    label_category_name(m.category));
        size_t cut = len > 120 ? 120 : len;
        while (cut < len && ((unsigned char)m.text[cut] & 0xC0) == 0x80) cut--;  // at a code point
        html_escape_n(p->b, m.text, cut);
        buf_appendf(p->b, "%s</q></li>", cut < len ? "…" : "");
        label_message_free(&m);
    }
    if (n) buf_appendf(p->b, "</ul>");
    buf_appendf(p->b, "</div>");
    guidelines_aside(p, id);
    buf_appendf(p->b, "</div>");
    close_page(p->b);
    free(ids);
    return 0;
}

// The ranking form: every live reply with a position select (1 = best). Positions left
// empty leave that reply out; two or more must be ranked.
static void rank_form(Page *p, int64_t parent, LabelMessage *rs, int n) {
    buf_appendf(p->b,
                "<h2>Rank the replies</h2><p class=\"hint\">Order the replies from best (1) to worst by the "
                "guidelines: helpful, truthful, harmless.</p><form method=\"post\" action=\"/label/message/%lld/rank\" "
                "class=\"rank-form\">",
                (long long)parent);
    csrf_field(p);
    for (int i = 0; i < n; i++) {
        buf_appendf(p->b,
                    "<div class=\"rank-item\"><label>Position of #%lld <select name=\"rank_%lld\"><option "
                    "value=\"\">—</option>",
                    (long long)rs[i].id, (long long)rs[i].id);
        for (int k = 1; k <= n; k++) buf_appendf(p->b, "<option value=\"%d\">%d</option>", k, k);
        buf_appendf(p->b, "</select></label><pre class=\"text\">\n");
        esc(p->b, rs[i].text);
        buf_appendf(p->b, "</pre></div>");
    }
    buf_appendf(p->b, "<button type=\"submit\">Save ranking</button></form>");
}

int page_message(Page *p, int64_t id, Err *e) {
    LabelMessage cur = {0};
    Buf body = {0}, *page = p->b;
    p->b = &body;  // the thread is rendered first: it checks the user may read id
    int rc = thread(p, id, &cur, e);
    p->b = page;
    if (rc) {
        buf_free(&body);
        return -1;
    }
    int64_t *rids = NULL;
    int nr = 0;
    LabelMessage *rs = NULL;
    if (label_message_replies(p->d, &p->u, id, &rids, &nr, e)) goto fail;
    rs = calloc((size_t)nr + 1, sizeof *rs);
    if (!rs) {
        ERR(e, ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (int i = 0; i < nr; i++)
        if (label_message_get(p->d, &p->u, rids[i], &rs[i], e)) goto fail;

    char title[48];
    snprintf(title, sizeof title, "Message #%lld", (long long)id);
    open_page(p, title);
    buf_appendf(
        p->b,
        "<div class=\"with-guidelines\"><div class=\"work\"><p class=\"crumbs\"><a href=\"/label/project/%lld\">"
        "Project</a> › conversation</p>",
        (long long)cur.project_id);
    buf_append(p->b, body.data, body.len);

    bool own = cur.author_id == p->u.id;
    if (cur.state == LSTATE_PENDING && (own || p->u.role == LROLE_ADMIN)) {
        buf_appendf(p->b,
                    "<details class=\"edit\"><summary>Edit this message</summary><form method=\"post\" "
                    "action=\"/label/message/%lld/edit\">",
                    (long long)id);
        csrf_field(p);
        textarea(p->b, "text", "Text", cur.text, 6);
        buf_appendf(p->b, "<button type=\"submit\">Save edit</button></form></details>");
    }
    if (p->u.role >= LROLE_REVIEWER && !own) {
        buf_appendf(p->b,
                    "<h2>Review</h2><form method=\"post\" action=\"/label/message/%lld/review\" class=\"review-form\">",
                    (long long)id);
        csrf_field(p);
        buf_appendf(
            p->b,
            "<label>Reason (for a rejection)<input name=\"reason\" maxlength=\"2000\"></label>"
            "<button type=\"submit\" name=\"decision\" value=\"accept\">Accept</button> "
            "<button type=\"submit\" name=\"decision\" value=\"reject\" class=\"reject\">Reject</button></form>");
    }

    buf_appendf(p->b, "<h2>Replies (%d)</h2>", nr);
    for (int i = 0; i < nr; i++) message_card(p, &rs[i], false);
    int live = 0;
    for (int i = 0; i < nr; i++) live += rs[i].state != LSTATE_REJECTED;
    if (live >= 2) {
        LabelMessage *lv = calloc((size_t)live, sizeof *lv);
        if (lv) {
            int k = 0;
            for (int i = 0; i < nr; i++)
                if (rs[i].state != LSTATE_REJECTED) lv[k++] = rs[i];  // shallow: rs owns the texts
            rank_form(p, id, lv, live);
            free(lv);
        }
    }

    if (cur.state != LSTATE_REJECTED) {
        bool answer = !cur.assistant;  // the next message is the assistant's
        buf_appendf(p->b,
                    "<h2>%s</h2><p class=\"hint\">%s</p><form method=\"post\" action=\"/label/message/%lld/reply\" "
                    "class=\"reply-form\">",
                    answer ? "Write the ideal response" : "Continue as the user",
                    answer ? "Answer as the ideal assistant would, following the guidelines beside."
                           : "Write the user's next turn; others then answer it.",
                    (long long)id);
        csrf_field(p);
        textarea(p->b, "text", answer ? "Response" : "User message", NULL, 8);
        buf_appendf(p->b, "<button type=\"submit\">Submit</button></form>");
        if (answer && p->can_draft) {
            buf_appendf(p->b, "<h2>Start from a model draft</h2><p class=\"hint\">The model (");
            esc(p->b, p->model);
            buf_appendf(p->b,
                        ") writes a reply; you then edit it into the ideal one. Both versions are kept.</p>"
                        "<form method=\"post\" action=\"/label/message/%lld/draft\" class=\"draft-form\">",
                        (long long)id);
            csrf_field(p);
            if (p->u.role >= LROLE_REVIEWER) {
                buf_appendf(p->b, "<label>For user<input name=\"assignee\" value=\"");
                esc(p->b, p->u.name);
                buf_appendf(p->b, "\"></label>");
            }
            buf_appendf(p->b, "<button type=\"submit\">Draft a reply with the model</button></form>");
        }
    }
    buf_appendf(p->b, "</div>");
    guidelines_aside(p, cur.project_id);
    buf_appendf(p->b, "</div>");
    close_page(p->b);
    rc = 0;
    goto done;
fail:
    rc = -1;
done:
    for (int i = 0; rs && i < nr; i++) label_message_free(&rs[i]);
    free(rs);
    free(rids);
    label_message_free(&cur);
    buf_free(&body);
    return rc;
}

int page_draft(Page *p, int64_t id, Err *e) {
    LabelDraft x;
    if (label_draft_get(p->d, &p->u, id, &x, e)) return -1;
    Buf body = {0}, *page = p->b;
    LabelMessage parent = {0};
    p->b = &body;
    int rc = thread(p, x.parent_id, &parent, e);
    p->b = page;
    if (rc) {
        buf_free(&body);
        label_draft_free(&x);
        return -1;
    }
    char title[48];
    snprintf(title, sizeof title, "Draft #%lld", (long long)id);
    open_page(p, title);
    buf_appendf(
        p->b,
        "<div class=\"with-guidelines\"><div class=\"work\"><p class=\"crumbs\"><a href=\"/label/project/%lld\">"
        "Project</a> › <a href=\"/label/message/%lld\">conversation</a> › draft</p>",
        (long long)parent.project_id, (long long)x.parent_id);
    buf_append(p->b, body.data, body.len);
    buf_appendf(p->b, "<h2>The model's draft</h2><p class=\"hint\">Drafted by <b>");
    esc(p->b, x.model);
    buf_appendf(p->b, "</b>, kept as it was written.</p><pre class=\"text draft\">\n");
    esc(p->b, x.draft);
    buf_appendf(p->b, "</pre>");
    if (x.message_id) {
        buf_appendf(p->b, "<h2>Your edit</h2><pre class=\"text edited\">\n");
        esc(p->b, x.edited);
        buf_appendf(p->b,
                    "</pre><p>Edit distance <b class=\"distance\">%lld</b> · saved as <a href=\"/label/message/%lld\">"
                    "#%lld</a></p>",
                    (long long)x.edit_distance, (long long)x.message_id, (long long)x.message_id);
    } else if (x.assignee_id == p->u.id) {
        buf_appendf(p->b,
                    "<h2>Edit it into the ideal response</h2><form method=\"post\" action=\"/label/draft/%lld\" "
                    "class=\"edit-draft-form\">",
                    (long long)id);
        csrf_field(p);
        textarea(p->b, "text", "Response", x.draft, 10);
        buf_appendf(p->b, "<button type=\"submit\">Save response</button></form>");
    } else {
        buf_appendf(p->b, "<p class=\"hint\">Assigned to another user; not edited yet.</p>");
    }
    buf_appendf(p->b, "</div>");
    guidelines_aside(p, parent.project_id);
    buf_appendf(p->b, "</div>");
    close_page(p->b);
    label_message_free(&parent);
    label_draft_free(&x);
    buf_free(&body);
    return 0;
}

int page_admin(Page *p, Err *e) {
    LabelUser *us = NULL;
    LabelProject *ps = NULL;
    int nu = 0, np = 0;
    if (label_user_list(p->d, &p->u, &us, &nu, e) || label_project_list(p->d, &p->u, &ps, &np, e)) {
        free(us);
        return -1;
    }
    open_page(p, "Admin");
    buf_appendf(p->b,
                "<h1>Admin</h1><section class=\"admin\"><div><h2>New project</h2>"
                "<form method=\"post\" action=\"/label/admin/project\" class=\"project-form\">");
    csrf_field(p);
    buf_appendf(p->b, "<label>Name<input name=\"name\" required maxlength=\"200\"></label>");
    textarea(p->b, "guidelines", "Guidelines (Markdown)", label_default_guidelines, 12);
    buf_appendf(p->b, "<button type=\"submit\">Create project</button></form><h2>Projects</h2><ul>");
    for (int i = 0; i < np; i++) {
        buf_appendf(p->b, "<li><a href=\"/label/project/%lld\">", (long long)ps[i].id);
        esc(p->b, ps[i].name);
        buf_appendf(p->b, "</a></li>");
    }
    buf_appendf(
        p->b,
        "</ul></div><div><h2>New user</h2><form method=\"post\" action=\"/label/admin/user\" class=\"user-form\">");
    csrf_field(p);
    buf_appendf(p->b,
                "<label>Name<input name=\"name\" required maxlength=\"%d\" pattern=\"\\S+\"></label>"
                "<label>Role<select name=\"role\"><option>labeler</option><option>reviewer</option>"
                "<option>admin</option></select></label><label>Password<input name=\"password\" type=\"password\" "
                "autocomplete=\"new-password\" required minlength=\"8\"></label><button type=\"submit\">Add user"
                "</button></form><h2>Users</h2><table class=\"users\"><tr><th>Name</th><th>Role</th></tr>",
                LABEL_NAME_MAX);
    for (int i = 0; i < nu; i++) {
        buf_appendf(p->b, "<tr><td>");
        esc(p->b, us[i].name);
        buf_appendf(p->b, "</td><td>%s</td></tr>", label_role_name(us[i].role));
    }
    buf_appendf(p->b,
                "</table><h2>Set a user's password</h2><p class=\"hint\">For a forgotten one: it ends that user's "
                "sessions.</p><form method=\"post\" action=\"/label/admin/password\" class=\"password-form\">");
    csrf_field(p);
    buf_appendf(p->b, "<label>User<select name=\"name\">");
    for (int i = 0; i < nu; i++) {
        buf_appendf(p->b, "<option value=\"");
        esc(p->b, us[i].name);
        buf_appendf(p->b, "\">");
        esc(p->b, us[i].name);
        buf_appendf(p->b, "</option>");
    }
    buf_appendf(p->b,
                "</select></label><label>New password<input name=\"password\" type=\"password\" "
                "autocomplete=\"new-password\" required minlength=\"8\"></label><button type=\"submit\">Set password"
                "</button></form></div></section>");
    close_page(p->b);
    free(us);
    free(ps);
    return 0;
}

void page_account(Page *p) {
    open_page(p, "Account");
    buf_appendf(p->b, "<h1>Account</h1><p>");
    esc(p->b, p->u.name);
    buf_appendf(p->b,
                ", %s.</p><h2>Change your password</h2><p class=\"hint\">At least 8 characters. Every session of "
                "yours ends, this one too: you log in again with the new password.</p>"
                "<form method=\"post\" action=\"/label/account/password\" class=\"account-form\">",
                label_role_name(p->u.role));
    csrf_field(p);
    buf_appendf(p->b,
                "<label>Current password<input name=\"current\" type=\"password\" autocomplete=\"current-password\" "
                "required></label><label>New password<input name=\"password\" type=\"password\" "
                "autocomplete=\"new-password\" required minlength=\"8\"></label><label>New password again<input "
                "name=\"password2\" type=\"password\" autocomplete=\"new-password\" required minlength=\"8\"></label>"
                "<button type=\"submit\">Change password</button></form>");
    close_page(p->b);
}

int page_stats(Page *p, int64_t project_id, Err *e) {
    LabelProject pr;
    LabelStats s;
    if (label_project_get(p->d, &p->u, project_id, &pr, e) || label_stats(p->d, &p->u, project_id, &s, e)) return -1;
    open_page(p, "Stats");
    buf_appendf(p->b, "<h1>Stats · ");
    esc(p->b, pr.name);
    buf_appendf(p->b,
                "</h1><table class=\"stats\"><tr><th></th><th>pending</th><th>accepted</th><th>rejected</th></tr>");
    for (int r = 0; r < 2; r++)
        buf_appendf(p->b, "<tr><th>%s messages</th><td>%zu</td><td>%zu</td><td>%zu</td></tr>", r ? "assistant" : "user",
                    s.messages[r][0], s.messages[r][1], s.messages[r][2]);
    buf_appendf(p->b, "</table><p>%zu prompts · %zu drafts (%zu edited, mean edit distance %.1f) · %zu rankings</p>",
                s.prompts, s.drafts, s.drafts_saved, s.mean_edit_distance, s.rankings);
    buf_appendf(p->b,
                "<p>Ranking agreement: %zu ranking pairs compared, %zu of %zu reply pairs in the same order "
                "(%.0f%%), mean Kendall tau %.2f</p>",
                s.compared, s.concordant, s.item_pairs, 100 * s.agreement, s.mean_tau);
    buf_appendf(p->b, "<h2>By category</h2><table class=\"stats\">");
    for (int c = 0; c <= LCAT_COUNT; c++)
        if (s.by_category[c])
            buf_appendf(p->b, "<tr><th>%s</th><td>%zu</td></tr>", c < LCAT_COUNT ? label_category_name(c) : "(none)",
                        s.by_category[c]);
    buf_appendf(p->b,
                "</table><h2>By user</h2><table class=\"stats\"><tr><th>user</th><th>role</th><th>pending</th>"
                "<th>accepted</th><th>rejected</th><th>drafts open</th><th>drafts edited</th><th>rankings</th>"
                "<th>reviews</th></tr>");
    for (int i = 0; i < s.n_users; i++) {
        const LabelUserStats *u = &s.users[i];
        buf_appendf(p->b, "<tr><td>");
        esc(p->b, u->name);
        buf_appendf(
            p->b,
            "</td><td>%s</td><td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td><td>%zu</td></tr>",
            label_role_name(u->role), u->messages[0], u->messages[1], u->messages[2], u->drafts_open, u->drafts_saved,
            u->rankings, u->reviews);
    }
    buf_appendf(p->b, "</table>");
    close_page(p->b);
    label_stats_free(&s);
    return 0;
}
