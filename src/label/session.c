// session.c: login sessions and their CSRF tokens.
//
// A session token is 32 random bytes (randombytes_buf) as hex, handed to the browser as
// a cookie; the table keeps only its SHA-256, so a copy of the database opens no session.
// Each session has its own CSRF token, checked with a constant-time compare on every
// state-changing request. Expired sessions are refused and swept on login.
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "label/access.h"

static void random_hex(char out[LABEL_TOKEN_LEN + 1]) {
    unsigned char raw[LABEL_TOKEN_LEN / 2];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(out, LABEL_TOKEN_LEN + 1, raw, sizeof raw);
}

static void token_hash(const char *token, unsigned char h[crypto_hash_sha256_BYTES]) {
    crypto_hash_sha256(h, (const unsigned char *)token, strlen(token));
}

int label_sessions_purge(LabelDb *d, int64_t now, Err *e) {
    sqlite3_stmt *st;
    if (label_prepare(d, "DELETE FROM sessions WHERE expires <= ?", &st, e)) return -1;
    sqlite3_bind_int64(st, 1, now);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : label_sql_err(d, e, "purge sessions");
    sqlite3_finalize(st);
    return rc;
}

int label_user_verify(LabelDb *d, const char *name, const char *password, LabelUser *u, Err *e) {
    static const char refused[] = "login: wrong user name or password";
    if (!name || !password) return ERR(e, ERR_ARG, refused);
    sqlite3_stmt *st;
    if (label_prepare(d, "SELECT id, name, role, pwhash FROM users WHERE name = ?", &st, e)) return -1;
    label_bind_text(st, 1, name);
    bool ok = false;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_type(st, 3) == SQLITE_TEXT) {
        u->id = sqlite3_column_int64(st, 0);
        snprintf(u->name, sizeof u->name, "%s", (const char *)sqlite3_column_text(st, 1));
        u->role = label_role_parse((const char *)sqlite3_column_text(st, 2));
        ok = crypto_pwhash_str_verify((const char *)sqlite3_column_text(st, 3), password,
                                      strlen(password)) == 0;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return label_sql_err(d, e, "login");
    if (!ok) {
        memset(u, 0, sizeof *u);
        return ERR(e, ERR_ARG, refused);
    }
    return 0;
}

int label_login(LabelDb *d, const char *name, const char *password, int64_t now, int64_t ttl,
                LabelSession *s, LabelUser *u, Err *e) {
    if (label_user_verify(d, name, password, u, e)) return -1;
    sqlite3_stmt *st;
    int rc;
    random_hex(s->token);
    random_hex(s->csrf);
    s->expires = now + (ttl > 0 ? ttl : LABEL_SESSION_SECONDS);
    unsigned char h[crypto_hash_sha256_BYTES];
    token_hash(s->token, h);
    if (label_tx_begin(d, e)) return -1;
    rc = label_sessions_purge(d, now, e);
    if (!rc) rc = label_prepare(d, "INSERT INTO sessions (token_hash, user_id, csrf, created, expires) "
                                   "VALUES (?, ?, ?, ?, ?)", &st, e);
    if (!rc) {
        sqlite3_bind_blob(st, 1, h, sizeof h, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, u->id);
        label_bind_text(st, 3, s->csrf);
        sqlite3_bind_int64(st, 4, now);
        sqlite3_bind_int64(st, 5, s->expires);
        if (sqlite3_step(st) != SQLITE_DONE) rc = label_sql_err(d, e, "open session");
        sqlite3_finalize(st);
    }
    return label_tx_end(d, rc, e);
}

// The session row of token if live: user and (when csrf is not NULL) its CSRF token.
static int session_find(LabelDb *d, const char *token, int64_t now, LabelUser *u,
                        char csrf[LABEL_TOKEN_LEN + 1], Err *e) {
    static const char refused[] = "session: unknown or expired, log in again";
    if (!token || strlen(token) != LABEL_TOKEN_LEN) return ERR(e, ERR_ARG, refused);
    unsigned char h[crypto_hash_sha256_BYTES];
    token_hash(token, h);
    sqlite3_stmt *st;
    if (label_prepare(d, "SELECT u.id, u.name, u.role, s.csrf FROM sessions s JOIN users u ON u.id = s.user_id "
                         "WHERE s.token_hash = ? AND s.expires > ?", &st, e))
        return -1;
    sqlite3_bind_blob(st, 1, h, sizeof h, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, now);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        u->id = sqlite3_column_int64(st, 0);
        snprintf(u->name, sizeof u->name, "%s", (const char *)sqlite3_column_text(st, 1));
        u->role = label_role_parse((const char *)sqlite3_column_text(st, 2));
        snprintf(csrf, LABEL_TOKEN_LEN + 1, "%s", (const char *)sqlite3_column_text(st, 3));
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) return 0;
    if (rc == SQLITE_DONE) return ERR(e, ERR_ARG, refused);
    return label_sql_err(d, e, "session");
}

int label_session_user(LabelDb *d, const char *token, int64_t now, LabelUser *u, Err *e) {
    char csrf[LABEL_TOKEN_LEN + 1];
    return session_find(d, token, now, u, csrf, e);
}

int label_session_get(LabelDb *d, const char *token, int64_t now, LabelUser *u, char csrf[LABEL_TOKEN_LEN + 1],
                      Err *e) {
    return session_find(d, token, now, u, csrf, e);
}

int label_csrf_check(LabelDb *d, const char *token, const char *csrf, int64_t now, Err *e) {
    LabelUser u;
    char want[LABEL_TOKEN_LEN + 1];
    if (session_find(d, token, now, &u, want, e)) return -1;
    if (!csrf || strlen(csrf) != LABEL_TOKEN_LEN || sodium_memcmp(csrf, want, LABEL_TOKEN_LEN) != 0)
        return ERR(e, ERR_ARG, "csrf: token missing or wrong, reload the page");
    return 0;
}

int label_logout(LabelDb *d, const char *token, Err *e) {
    if (!token) return 0;
    unsigned char h[crypto_hash_sha256_BYTES];
    token_hash(token, h);
    sqlite3_stmt *st;
    if (label_prepare(d, "DELETE FROM sessions WHERE token_hash = ?", &st, e)) return -1;
    sqlite3_bind_blob(st, 1, h, sizeof h, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : label_sql_err(d, e, "logout");
    sqlite3_finalize(st);
    return rc;
}
