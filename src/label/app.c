// app.c: the labeling web app's routing, sessions, CSRF and login limits, and the form
// actions (see app.h). Pages are rendered by pages.c.
//
// Routes (N, D are ids; every one but the login page wants a session):
//   GET  /label/                          the user's queue and the projects
//   GET  /label/login   POST /label/login  POST /label/logout
//   GET  /label/project/N                  guidelines, prompt form, prompts
//   POST /label/project/N/prompt           category, text
//   GET  /label/project/N/stats            GET /label/project/N/export/openai|oasst|rankings
//   GET  /label/message/N                  the thread, replies, and forms for:
//   POST /label/message/N/reply|edit|review|rank|draft
//   GET  /label/draft/D    POST /label/draft/D   a model draft and its edit
//   GET  /label/admin      POST /label/admin/project|user|password
//   GET  /label/account    POST /label/account/password   (one's own password)
// A successful POST redirects (303) to the page that shows its result.
#include "label/app.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "label/export.h"
#include "label/label.h"
#include "label/pages.h"
#include "util/form.h"

// Failed logins allowed per user name and per client address within the window; more
// are refused (429) without checking the password, until the window has passed. The
// address allows more, since a team behind one proxy shares it. A full table never
// gives up a locked slot, so flooding it cannot buy a locked name fresh guesses.
enum { LOGIN_MAX_FAILS = 10, LOGIN_MAX_FAILS_ADDR = 100, LOGIN_WINDOW_S = 15 * 60, LIMIT_SLOTS = 4096 };

typedef struct {
    char key[96];     // "ip:ADDR" or "user:NAME"; "" when free
    int fails;
    int64_t since;    // start of the window
} LimitSlot;

struct LabelApp {
    LabelDb db;
    pthread_mutex_t lock;        // the database handle and the limits, one request at a time
    pthread_mutex_t draft_lock;  // the drafter, one reply at a time
    SynthBackend *drafter;
    int draft_max_tokens;
    float draft_temperature;
    bool secure_cookie;
    LimitSlot limits[LIMIT_SLOTS];
};

int label_app_open(LabelApp **out, const LabelAppOptions *o, Err *e) {
    *out = NULL;
    if (sodium_init() < 0) return ERR(e, ERR_IO, "libsodium failed to initialise");
    LabelApp *a = calloc(1, sizeof *a);
    if (!a) return ERR(e, ERR_NOMEM, "out of memory");
    LabelDbOptions dbo = {.weak_hash_for_tests = o->weak_hash_for_tests};
    if (label_db_open(&a->db, o->db, &dbo, e)) {
        free(a);
        return -1;
    }
    pthread_mutex_init(&a->lock, NULL);
    pthread_mutex_init(&a->draft_lock, NULL);
    a->drafter = o->drafter;
    a->draft_max_tokens = o->draft_max_tokens > 0 ? o->draft_max_tokens : 256;
    a->draft_temperature = o->draft_temperature;
    a->secure_cookie = o->secure_cookie;
    *out = a;
    return 0;
}

void label_app_close(LabelApp *a) {
    if (!a) return;
    label_db_close(&a->db);
    pthread_mutex_destroy(&a->lock);
    pthread_mutex_destroy(&a->draft_lock);
    free(a);
}

void label_response_free(LabelResponse *rs) { buf_free(&rs->body); }

// ---------------------------------------------------------------- responses

static void html(LabelResponse *rs, int status) {
    rs->status = status;
    rs->content_type = "text/html; charset=utf-8";
}

static void redirect(LabelResponse *rs, const char *to) {
    rs->status = 303;
    rs->content_type = "text/plain; charset=utf-8";
    snprintf(rs->location, sizeof rs->location, "%s", to);
    rs->body.len = 0;
    buf_appendf(&rs->body, "See %s\n", rs->location);
}

// A redirect to prefix + id ("/label/message/" 12).
static void redirect_id(LabelResponse *rs, const char *prefix, int64_t id) {
    char to[128];
    snprintf(to, sizeof to, "%s%lld", prefix, (long long)id);
    redirect(rs, to);
}

static void error_page(Page *p, LabelResponse *rs, int status, const char *msg, const char *text) {
    rs->body.len = 0;
    page_error(p, status, msg, text);
    html(rs, status);
}

// ---------------------------------------------------------------- login limits

static LimitSlot *limit_slot(LabelApp *a, const char *key, int64_t now, bool create) {
    LimitSlot *free_slot = NULL, *oldest = NULL;
    for (int i = 0; i < LIMIT_SLOTS; i++) {
        LimitSlot *s = &a->limits[i];
        if (s->key[0] && now - s->since >= LOGIN_WINDOW_S) s->key[0] = 0;  // window over
        if (!s->key[0]) {
            if (!free_slot) free_slot = s;
            continue;
        }
        if (!strcmp(s->key, key)) return s;
        if (s->fails < LOGIN_MAX_FAILS && (!oldest || s->since < oldest->since)) oldest = s;
    }
    if (!create) return NULL;
    LimitSlot *s = free_slot ? free_slot : oldest;  // full: the oldest unlocked window gives way
    if (!s) return NULL;                            // every slot locked: nothing more is counted
    snprintf(s->key, sizeof s->key, "%s", key);
    s->fails = 0;
    s->since = now;
    return s;
}

static bool limited(LabelApp *a, const char *key, int max, int64_t now, int *retry) {
    LimitSlot *s = limit_slot(a, key, now, false);
    if (!s || s->fails < max) return false;
    *retry = (int)(s->since + LOGIN_WINDOW_S - now);
    return true;
}

// ---------------------------------------------------------------- requests

// "/label/message/12/rank" after prefix "/label/message/": id 12, rest "rank" ("" if none).
static bool path_id(const char *path, const char *prefix, int64_t *id, const char **rest) {
    size_t n = strlen(prefix);
    if (strncmp(path, prefix, n)) return false;
    const char *s = path + n;
    if (*s < '1' || *s > '9') return false;
    int64_t v = 0;
    while (*s >= '0' && *s <= '9') {
        if (v > (INT64_MAX - 9) / 10) return false;
        v = v * 10 + (*s++ - '0');
    }
    if (*s && *s != '/') return false;
    *id = v;
    *rest = *s ? s + 1 : s;
    return true;
}

// A POST from another site's page is refused: when the browser names the page's origin,
// it must be this server (scheme://HOST as the Host header has it). The CSRF token is the
// main guard; this one also covers the login form, which has no session yet.
// Either scheme is this server: behind an HTTPS proxy the browser's origin is https.
static bool same_origin(const LabelRequest *rq) {
    if (!rq->origin) return true;  // not a browser, or an old one: the token decides
    const char *o = rq->origin;
    if (!strncasecmp(o, "http://", 7)) o += 7;
    else if (!strncasecmp(o, "https://", 8)) o += 8;
    else return false;
    return rq->host && !strcasecmp(o, rq->host);
}

static void set_cookie(LabelApp *a, LabelResponse *rs, const char *token, int64_t max_age) {
    snprintf(rs->cookie, sizeof rs->cookie, LABEL_COOKIE "=%s; Path=/label/; Max-Age=%lld; HttpOnly; SameSite=Strict%s",
             token, (long long)max_age, a->secure_cookie ? "; Secure" : "");
}

static void login(LabelApp *a, const LabelRequest *rq, const Form *f, LabelResponse *rs) {
    const char *name = form_get(f, "name"), *pw = form_get(f, "password");
    int64_t now = label_now();
    char ipkey[96], userkey[96];
    snprintf(ipkey, sizeof ipkey, "ip:%s", rq->client ? rq->client : "?");
    snprintf(userkey, sizeof userkey, "user:%.64s", name ? name : "");
    int retry = 0;
    if (limited(a, ipkey, LOGIN_MAX_FAILS_ADDR, now, &retry) || limited(a, userkey, LOGIN_MAX_FAILS, now, &retry)) {
        page_login(&rs->body, "Too many failed logins: wait a few minutes and try again.", name);
        html(rs, 429);
        rs->retry_after = retry > 0 ? retry : 1;
        return;
    }
    LabelSession s;
    LabelUser u;
    Err e = {0};
    if (label_login(&a->db, name, pw, now, 0, &s, &u, &e)) {
        LimitSlot *ip = limit_slot(a, ipkey, now, true), *user = limit_slot(a, userkey, now, true);
        if (ip) ip->fails++;
        if (user) user->fails++;
        page_login(&rs->body, "Wrong user name or password.", name);
        html(rs, 401);
        return;
    }
    LimitSlot *us = limit_slot(a, userkey, now, false);
    if (us) us->key[0] = 0;  // a success clears the name's count (not the address's)
    set_cookie(a, rs, s.token, s.expires - now);
    redirect(rs, "/label/");
}

// The reply ids of a ranking form: fields rank_<id> = position (1 = best); empty ones
// leave that reply out. Positions must be distinct.
static int ranking(const Form *f, int64_t **ids, int *n, Err *e) {
    *ids = NULL;
    *n = 0;
    int64_t *id = calloc((size_t)f->n + 1, sizeof *id);
    long *pos = calloc((size_t)f->n + 1, sizeof *pos);
    if (!id || !pos) return free(id), free(pos), ERR(e, ERR_NOMEM, "out of memory");
    int k = 0;
    for (int i = 0; i < f->n; i++) {
        const char *nm = f->f[i].name, *v = f->f[i].value;
        if (strncmp(nm, "rank_", 5) || !*v) continue;
        char *end1, *end2;
        long long m = strtoll(nm + 5, &end1, 10);
        long p = strtol(v, &end2, 10);
        if (*end1 || m <= 0 || *end2 || p <= 0 || p > f->n) {
            free(id), free(pos);
            return ERR(e, ERR_ARG, "rank: field %s = '%.20s' is not a position", nm, v);
        }
        for (int j = 0; j < k; j++)
            if (pos[j] == p) return free(id), free(pos), ERR(e, ERR_ARG, "rank: two replies at position %ld", p);
        id[k] = m;
        pos[k++] = p;
    }
    // Insertion sort by position: a handful of replies.
    for (int i = 1; i < k; i++)
        for (int j = i; j > 0 && pos[j - 1] > pos[j]; j--) {
            long tp = pos[j];
            pos[j] = pos[j - 1], pos[j - 1] = tp;
            int64_t ti = id[j];
            id[j] = id[j - 1], id[j - 1] = ti;
        }
    free(pos);
    if (k < 2) return free(id), ERR(e, ERR_ARG, "rank: give positions to two replies or more");
    *ids = id;
    *n = k;
    return 0;
}

// Asks the model for a reply to message id and files it as a draft for assignee. The
// database lock is let go while the model writes (seconds), so others keep working.
static int draft(LabelApp *a, const LabelUser *u, int64_t id, const char *assignee, int64_t *draft_id,
                 int64_t *assignee_id, Err *e) {
    Conversation c;
    LabelUser as = *u;
    if (assignee && *assignee && strcmp(assignee, u->name) && label_user_find(&a->db, assignee, &as, e)) return -1;
    // label_draft_add's rule, checked before the model spends seconds on a refused draft.
    if (as.id != u->id && u->role < LROLE_REVIEWER)
        return ERR(e, ERR_ARG, "draft: only reviewers and admins assign drafts to others");
    LabelMessage m;
    if (label_message_get(&a->db, u, id, &m, e)) return -1;
    bool user_turn = !m.assistant;
    label_message_free(&m);
    if (!user_turn) return ERR(e, ERR_ARG, "draft: message %lld is the assistant's; drafts answer a user's turn",
                               (long long)id);
    if (label_conversation(&a->db, u, id, &c, e)) return -1;
    pthread_mutex_unlock(&a->lock);
    Buf text = {0};
    uint64_t seed;
    randombytes_buf(&seed, sizeof seed);  // drafts of the same prompt differ, to be ranked
    SynthSample s = {.temperature = a->draft_temperature, .top_p = 0.95f, .max_tokens = a->draft_max_tokens,
                     .seed = seed};
    pthread_mutex_lock(&a->draft_lock);
    int rc = a->drafter->reply(a->drafter, &c, &s, &text, e);
    pthread_mutex_unlock(&a->draft_lock);
    conv_free(&c);
    pthread_mutex_lock(&a->lock);
    if (rc == 1) rc = ERR(e, ERR_ARG, "draft: the conversation no longer fits the model's context");
    if (!rc && synth_reply_clean(&text)) rc = ERR(e, ERR_NOMEM, "out of memory");
    if (!rc) rc = label_draft_add(&a->db, u, id, a->drafter->name, text.data ? text.data : "", as.id, draft_id, e);
    *assignee_id = as.id;
    buf_free(&text);
    return rc;
}

// The form actions: on success a redirect, on failure an error page keeping the text.
static void action(LabelApp *a, Page *p, const char *path, const Form *f, LabelResponse *rs) {
    Err e = {0};
    int64_t id, out = 0;
    const char *rest, *text = form_get(f, "text");
    LabelUser *u = &p->u;
    int status = 400;
    if (!strcmp(path, "/label/admin/project")) {
        if (!label_project_create(&a->db, u, form_get(f, "name"), form_get(f, "guidelines"), &out, &e))
            return redirect_id(rs, "/label/project/", out);
        text = form_get(f, "guidelines");
    } else if (!strcmp(path, "/label/admin/user")) {
        int role = label_role_parse(form_get(f, "role"));
        const char *pw = form_get(f, "password");
        if (role < 0) ERR(&e, ERR_ARG, "role: expected labeler, reviewer or admin");
        else if (!pw || strlen(pw) < 8) ERR(&e, ERR_ARG, "password: at least 8 characters");
        else if (!label_user_add(&a->db, u, form_get(f, "name"), role, pw, &out, &e))
            return redirect(rs, "/label/admin");
    } else if (!strcmp(path, "/label/admin/password")) {
        LabelUser who;
        const char *pw = form_get(f, "password");
        if (!pw || strlen(pw) < 8) ERR(&e, ERR_ARG, "password: at least 8 characters");
        else if (u->role != LROLE_ADMIN) ERR(&e, ERR_ARG, "set password: needs role admin"), status = 403;
        else if (!label_user_find(&a->db, form_get(f, "name"), &who, &e) &&
                 !label_user_set_password(&a->db, u, who.id, pw, &e))
            return redirect(rs, "/label/admin");
    } else if (!strcmp(path, "/label/account/password")) {
        const char *cur = form_get(f, "current"), *pw = form_get(f, "password"), *pw2 = form_get(f, "password2");
        char userkey[96];
        int retry = 0;
        LabelUser me;
        int64_t now = label_now();
        snprintf(userkey, sizeof userkey, "user:%.64s", u->name);
        // The current password is guessed against the same limit as a login.
        if (limited(a, userkey, LOGIN_MAX_FAILS, now, &retry)) {
            ERR(&e, ERR_ARG, "too many wrong passwords: wait a few minutes");
            status = 429;
            rs->retry_after = retry > 0 ? retry : 1;
        } else if (label_user_verify(&a->db, u->name, cur ? cur : "", &me, &e)) {
            LimitSlot *l = limit_slot(a, userkey, now, true);
            if (l) l->fails++;
            ERR(&e, ERR_ARG, "the current password is wrong");
            status = 403;
        } else if (!pw || strlen(pw) < 8) ERR(&e, ERR_ARG, "password: at least 8 characters");
        else if (!pw2 || strcmp(pw, pw2)) ERR(&e, ERR_ARG, "the two new passwords differ");
        else if (!label_user_set_password(&a->db, u, u->id, pw, &e)) {
            set_cookie(a, rs, "", 0);  // every session of the user has ended
            return redirect(rs, "/label/login");
        }
        text = NULL;  // never echo passwords
    } else if (path_id(path, "/label/project/", &id, &rest) && !strcmp(rest, "prompt")) {
        int cat = label_category_parse(form_get(f, "category"));
        if (cat < 0) ERR(&e, ERR_ARG, "category: not one of InstructGPT's categories");
        else if (!label_prompt_create(&a->db, u, id, cat, text, &out, &e))
            return redirect_id(rs, "/label/message/", out);
    } else if (path_id(path, "/label/message/", &id, &rest)) {
        if (!strcmp(rest, "reply")) {
            if (!label_reply_add(&a->db, u, id, text, &out, &e)) return redirect_id(rs, "/label/message/", out);
        } else if (!strcmp(rest, "edit")) {
            if (!label_message_edit(&a->db, u, id, text, &e)) return redirect_id(rs, "/label/message/", id);
        } else if (!strcmp(rest, "review")) {
            const char *d = form_get(f, "decision"), *reason = form_get(f, "reason");
            text = reason;
            if (!d || (strcmp(d, "accept") && strcmp(d, "reject"))) ERR(&e, ERR_ARG, "decision: accept or reject");
            else if (!label_review(&a->db, u, id, !strcmp(d, "accept"), reason && *reason ? reason : NULL, &e))
                return redirect_id(rs, "/label/message/", id);
        } else if (!strcmp(rest, "rank")) {
            int64_t *ids;
            int n;
            if (!ranking(f, &ids, &n, &e)) {
                int rc = label_rank(&a->db, u, id, ids, n, &e);
                free(ids);
                if (!rc) return redirect_id(rs, "/label/message/", id);
            }
        } else if (!strcmp(rest, "draft")) {
            int64_t assignee = 0;
            if (!a->drafter) {
                ERR(&e, ERR_ARG, "no model to draft with: start the server with --model or --draft-api-base");
                status = 409;
            } else if (!draft(a, u, id, form_get(f, "assignee"), &out, &assignee, &e)) {
                if (assignee == u->id) return redirect_id(rs, "/label/draft/", out);
                return redirect_id(rs, "/label/message/", id);
            } else if (e.code == ERR_IO) status = 502;  // the model failed, not the request
        } else {
            ERR(&e, ERR_ARG, "no such action: %.100s", path);
            status = 404;
        }
    } else if (path_id(path, "/label/draft/", &id, &rest) && !*rest) {
        if (!label_draft_save(&a->db, u, id, text, &out, &e)) return redirect_id(rs, "/label/message/", out);
    } else {
        ERR(&e, ERR_ARG, "no such form: POST %.100s", path);
        status = 404;
    }
    if (e.code == ERR_NOMEM || (e.code == ERR_IO && status == 400)) status = 500;
    error_page(p, rs, status, e.msg, text);
}

// The GET pages and downloads.
static void get(LabelApp *a, Page *p, const char *path, LabelResponse *rs) {
    Err e = {0};
    int64_t id;
    const char *rest;
    int rc = -1;
    if (!strcmp(path, "/label/")) rc = page_home(p, &e);
    else if (!strcmp(path, "/label/account")) {
        page_account(p);
        rc = 0;
    }
    else if (!strcmp(path, "/label/admin")) {
        if (p->u.role != LROLE_ADMIN) return error_page(p, rs, 403, "The admin page is for admins.", NULL);
        rc = page_admin(p, &e);
    } else if (path_id(path, "/label/project/", &id, &rest)) {
        if (!*rest) rc = page_project(p, id, &e);
        else if (!strcmp(rest, "stats")) rc = page_stats(p, id, &e);
        else if (!strncmp(rest, "export/", 7)) {
            LabelExportOptions o = {.format = label_export_format_parse(rest + 7)};
            size_t lines;
            if ((int)o.format < 0) ERR(&e, ERR_ARG, "export: format openai, oasst or rankings");
            else if (!label_export(&a->db, &p->u, id, &o, &rs->body, &lines, &e)) {
                rs->status = 200;
                rs->content_type = "application/jsonl; charset=utf-8";
                snprintf(rs->disposition, sizeof rs->disposition, "attachment; filename=\"project-%lld-%s.jsonl\"",
                         (long long)id, rest + 7);
                return;
            }
            rs->body.len = 0;
        } else ERR(&e, ERR_ARG, "no such page");
    } else if (path_id(path, "/label/message/", &id, &rest) && !*rest) rc = page_message(p, id, &e);
    else if (path_id(path, "/label/draft/", &id, &rest) && !*rest) rc = page_draft(p, id, &e);
    else ERR(&e, ERR_ARG, "no such page: %.100s", path);
    if (!rc) return html(rs, 200);
    rs->body.len = 0;
    error_page(p, rs, e.code == ERR_NOMEM || e.code == ERR_IO ? 500 : 404, e.msg, NULL);
}

// Browsers send a textarea's line breaks as CRLF (HTML's form encoding); the store keeps
// text as people and data sets write it, with LF.
static void form_unix_newlines(Form *f) {
    for (int i = 0; i < f->n; i++) {
        char *r = f->f[i].value, *w = r;
        for (; *r; r++)
            if (!(r[0] == '\r' && r[1] == '\n')) *w++ = *r;
        *w = 0;
    }
}

static void handle_locked(LabelApp *a, const LabelRequest *rq, LabelResponse *rs) {
    const char *path = rq->path;
    bool getm = !strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD"), post = !strcmp(rq->method, "POST");
    Page p = {.d = &a->db, .b = &rs->body, .can_draft = a->drafter != NULL,
              .model = a->drafter ? a->drafter->name : NULL};
    if (!strcmp(path, "/label")) return redirect(rs, "/label/");
    if (!getm && !post) return error_page(&p, rs, 405, "Only GET and POST here.", NULL);
    if (post && !same_origin(rq)) return error_page(&p, rs, 403, "Cross-site form posts are refused.", NULL);
    Form f = {0};
    if (post) {
        Err e = {0};
        if (!rq->content_type || strncasecmp(rq->content_type, "application/x-www-form-urlencoded", 33))
            return error_page(&p, rs, 415, "Forms are posted as application/x-www-form-urlencoded.", NULL);
        if (form_parse(&f, rq->body ? rq->body : "", rq->body_len, &e)) return error_page(&p, rs, 400, e.msg, NULL);
        form_unix_newlines(&f);
    }
    Err e = {0};
    LabelUser u;
    bool logged_in = rq->cookie && !label_session_get(&a->db, rq->cookie, label_now(), &u, p.csrf, &e);
    if (!strcmp(path, "/label/login")) {
        if (post) login(a, rq, &f, rs);
        else if (logged_in) redirect(rs, "/label/");
        else {
            page_login(&rs->body, NULL, NULL);
            html(rs, 200);
        }
        form_free(&f);
        return;
    }
    if (!logged_in) {
        // Pages send the browser to the login form; posts (and anything scripted) get 401.
        form_free(&f);
        if (getm) {
            redirect(rs, "/label/login");
            return;
        }
        page_login(&rs->body, "Your session has ended: log in again (what you sent was not saved).", NULL);
        html(rs, 401);
        return;
    }
    p.u = u;
    if (post) {
        Err ce = {0};
        if (label_csrf_check(&a->db, rq->cookie, form_get(&f, "csrf"), label_now(), &ce))
            error_page(&p, rs, 403, ce.msg, form_get(&f, "text"));
        else if (!strcmp(path, "/label/logout")) {
            label_logout(&a->db, rq->cookie, &ce);
            set_cookie(a, rs, "", 0);
            redirect(rs, "/label/login");
        } else action(a, &p, path, &f, rs);
    } else get(a, &p, path, rs);
    form_free(&f);
}

void label_app_handle(LabelApp *a, const LabelRequest *rq, LabelResponse *rs) {
    memset(rs, 0, sizeof *rs);
    pthread_mutex_lock(&a->lock);
    handle_locked(a, rq, rs);
    pthread_mutex_unlock(&a->lock);
    if (!rs->status) rs->status = 500;
    if (!rs->content_type) rs->content_type = "text/plain; charset=utf-8";
}
