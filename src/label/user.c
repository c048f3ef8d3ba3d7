// user.c: labelers, reviewers and admins, with argon2id password hashes.
//
// Hashes are libsodium's crypto_pwhash_str strings ("$argon2id$v=19$m=...,t=...,p=1$salt$hash"):
// they carry their own salt and cost, so verification needs nothing else and the cost
// can rise later without touching old rows.
#include <sodium.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "label/access.h"

static int hash_password(LabelDb *d, const char *pw, char out[crypto_pwhash_STRBYTES], Err *e) {
    size_t n = strlen(pw);
    if (n < 8 || n > 1024) return ERR(e, ERR_ARG, "password: 8 to 1024 bytes, got %zu", n);
    unsigned long long ops = d->weak_hash ? crypto_pwhash_OPSLIMIT_MIN : crypto_pwhash_OPSLIMIT_INTERACTIVE;
    size_t mem = d->weak_hash ? crypto_pwhash_MEMLIMIT_MIN : crypto_pwhash_MEMLIMIT_INTERACTIVE;
    if (crypto_pwhash_str(out, pw, n, ops, mem)) return ERR(e, ERR_NOMEM, "password hash: out of memory");
    return 0;
}

static int name_check(const char *name, Err *e) {
    size_t n = name ? strlen(name) : 0;
    if (n < 1 || n > LABEL_NAME_MAX) return ERR(e, ERR_ARG, "user name: 1 to %d characters", LABEL_NAME_MAX);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c <= ' ' || c == 0x7f)  // printable, no spaces: names appear in logs and tables
            return ERR(e, ERR_ARG, "user name: no spaces or control characters");
    }
    return label_text_check(name, "user name", false, e);
}

static int insert_user(LabelDb *d, const char *name, LabelRole role, const char *hash, int64_t *id, Err *e) {
    sqlite3_stmt *st;
    if (label_prepare(d, "INSERT INTO users (name, role, pwhash, created) VALUES (?, ?, ?, ?)", &st, e))
        return -1;
    label_bind_text(st, 1, name);
    label_bind_text(st, 2, label_role_name(role));
    label_bind_text(st, 3, hash);
    sqlite3_bind_int64(st, 4, label_now());
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc == SQLITE_CONSTRAINT) return ERR(e, ERR_ARG, "user %s already exists", name);
    if (rc != SQLITE_DONE) return label_sql_err(d, e, "add user");
    if (id) *id = sqlite3_last_insert_rowid(d->db);
    return 0;
}

int label_user_add(LabelDb *d, const LabelUser *actor, const char *name, LabelRole role,
                   const char *password, int64_t *id, Err *e) {
    if (access_role(actor, LROLE_ADMIN, "add user", e) || name_check(name, e)) return -1;
    if ((int)role < LROLE_LABELER || role > LROLE_ADMIN) return ERR(e, ERR_ARG, "add user: bad role");
    char hash[crypto_pwhash_STRBYTES];
    if (password && hash_password(d, password, hash, e)) return -1;
    return insert_user(d, name, role, password ? hash : NULL, id, e);
}

int label_user_set_password(LabelDb *d, const LabelUser *actor, int64_t user_id,
                            const char *password, Err *e) {
    if (!actor || (actor->id != user_id && access_role(actor, LROLE_ADMIN, "set password", e)))
        return actor ? -1 : ERR(e, ERR_ARG, "set password: not logged in");
    char hash[crypto_pwhash_STRBYTES];
    if (!password) return ERR(e, ERR_ARG, "set password: missing");
    if (hash_password(d, password, hash, e)) return -1;
    sqlite3_stmt *st;
    if (label_tx_begin(d, e)) return -1;
    int rc = label_prepare(d, "UPDATE users SET pwhash = ? WHERE id = ?", &st, e);
    if (!rc) {
        label_bind_text(st, 1, hash);
        sqlite3_bind_int64(st, 2, user_id);
        if (sqlite3_step(st) != SQLITE_DONE) rc = label_sql_err(d, e, "set password");
        else if (sqlite3_changes(d->db) != 1) rc = ERR(e, ERR_ARG, "set password: no user %lld", (long long)user_id);
        sqlite3_finalize(st);
    }
    // A new password ends every session opened with the old one.
    if (!rc && label_prepare(d, "DELETE FROM sessions WHERE user_id = ?", &st, e) == 0) {
        sqlite3_bind_int64(st, 1, user_id);
        if (sqlite3_step(st) != SQLITE_DONE) rc = label_sql_err(d, e, "end sessions");
        sqlite3_finalize(st);
    } else if (!rc) rc = -1;
    return label_tx_end(d, rc, e);
}

int label_user_find(LabelDb *d, const char *name, LabelUser *u, Err *e) {
    sqlite3_stmt *st;
    if (label_prepare(d, "SELECT id, name, role FROM users WHERE name = ?", &st, e)) return -1;
    label_bind_text(st, 1, name);
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        u->id = sqlite3_column_int64(st, 0);
        snprintf(u->name, sizeof u->name, "%s", (const char *)sqlite3_column_text(st, 1));
        u->role = label_role_parse((const char *)sqlite3_column_text(st, 2));
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_ROW) return 0;
    if (rc == SQLITE_DONE) return ERR(e, ERR_ARG, "no user %.64s", name ? name : "");
    return label_sql_err(d, e, "find user");
}

int label_user_local(LabelDb *d, LabelUser *u, Err *e) {
    static const char local[] = "local-admin";
    Err e2 = {0};
    if (label_user_find(d, local, u, &e2) == 0)
        return u->role == LROLE_ADMIN ? 0 : ERR(e, ERR_ARG, "user %s exists but is not an admin", local);
    // INSERT OR IGNORE: two local commands racing both end up with the one row.
    sqlite3_stmt *st;
    if (label_prepare(d, "INSERT OR IGNORE INTO users (name, role, pwhash, created) "
                         "VALUES (?, 'admin', NULL, ?)", &st, e))
        return -1;
    label_bind_text(st, 1, local);
    sqlite3_bind_int64(st, 2, label_now());
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return label_sql_err(d, e, "add local admin");
    if (label_user_find(d, local, u, e)) return -1;
    if (u->role != LROLE_ADMIN) return ERR(e, ERR_ARG, "user %s exists but is not an admin", local);
    return 0;
}

int label_user_list(LabelDb *d, const LabelUser *actor, LabelUser **us, int *n, Err *e) {
    *us = NULL;
    *n = 0;
    if (access_role(actor, LROLE_ADMIN, "list users", e)) return -1;
    sqlite3_stmt *st;
    if (label_prepare(d, "SELECT id, name, role FROM users ORDER BY name", &st, e)) return -1;
    int rc, cap = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == cap) {
            LabelUser *p = realloc(*us, (size_t)(cap = cap ? 2 * cap : 8) * sizeof *p);
            if (!p) return sqlite3_finalize(st), free(*us), *us = NULL, *n = 0, ERR(e, ERR_NOMEM, "out of memory");
            *us = p;
        }
        LabelUser *u = &(*us)[(*n)++];
        u->id = sqlite3_column_int64(st, 0);
        snprintf(u->name, sizeof u->name, "%s", (const char *)sqlite3_column_text(st, 1));
        u->role = label_role_parse((const char *)sqlite3_column_text(st, 2));
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) return free(*us), *us = NULL, *n = 0, label_sql_err(d, e, "list users");
    return 0;
}
