// db.c: opening the labeling store, its schema and the migrations between versions.
//
// The version lives in PRAGMA user_version (in the file header, so it changes atomically
// with the schema). migrations[i] takes a file from version i to i + 1; each runs in its
// own transaction together with the version bump, so a crash mid-migration leaves the
// older, consistent schema, and the next open runs the migration again.
#include "label/db.h"

#include <sodium.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const migrations[] = {
    // 0 -> 1: the first schema.
    "CREATE TABLE projects ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  guidelines TEXT NOT NULL,"          // Markdown shown to labelers
    "  created INTEGER NOT NULL);"
    "CREATE TABLE users ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  role TEXT NOT NULL CHECK (role IN ('labeler','reviewer','admin')),"
    "  pwhash TEXT,"                       // argon2id string; NULL: cannot log in
    "  created INTEGER NOT NULL);"
    "CREATE TABLE sessions ("
    "  token_hash BLOB PRIMARY KEY,"       // SHA-256 of the token: a leaked file leaks no session
    "  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
    "  csrf TEXT NOT NULL,"
    "  created INTEGER NOT NULL,"
    "  expires INTEGER NOT NULL);"
    "CREATE TABLE messages ("
    "  id INTEGER PRIMARY KEY,"
    "  project_id INTEGER NOT NULL REFERENCES projects(id),"
    "  parent_id INTEGER REFERENCES messages(id),"  // NULL: the prompt (root) of a tree
    "  role TEXT NOT NULL CHECK (role IN ('user','assistant')),"
    "  text TEXT NOT NULL,"
    "  system TEXT,"                       // roots only: an imported system message
    "  category TEXT,"                     // roots only: InstructGPT's task category
    "  author_id INTEGER NOT NULL REFERENCES users(id),"
    "  created INTEGER NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending','accepted','rejected')),"
    "  review_reason TEXT,"
    "  reviewer_id INTEGER REFERENCES users(id),"
    "  reviewed INTEGER);"
    // text in the index: import looks up "this parent's child with this text" per
    // message; without it a 20k-prompt import scanned every root per record (2 min).
    "CREATE INDEX messages_tree ON messages(project_id, parent_id, text);"
    "CREATE INDEX messages_parent ON messages(parent_id);"
    "CREATE INDEX messages_author ON messages(author_id);"
    "CREATE TABLE drafts ("
    "  id INTEGER PRIMARY KEY,"
    "  parent_id INTEGER NOT NULL REFERENCES messages(id),"
    "  model TEXT NOT NULL,"               // what drafted it
    "  draft TEXT NOT NULL,"               // the model's text, kept as it was
    "  assignee_id INTEGER NOT NULL REFERENCES users(id),"
    "  created INTEGER NOT NULL,"
    "  edited TEXT,"                       // the labeler's version; NULL: not yet edited
    "  edit_distance INTEGER,"             // Levenshtein over code points, draft -> edited
    "  message_id INTEGER REFERENCES messages(id),"  // the reply the edit became
    "  saved INTEGER);"
    "CREATE INDEX drafts_assignee ON drafts(assignee_id);"
    "CREATE TABLE rankings ("
    "  id INTEGER PRIMARY KEY,"
    "  parent_id INTEGER NOT NULL REFERENCES messages(id),"
    "  labeler_id INTEGER NOT NULL REFERENCES users(id),"
    "  created INTEGER NOT NULL,"
    "  UNIQUE (parent_id, labeler_id));"   // one ranking per labeler per parent, kept apart
    "CREATE TABLE ranking_items ("
    "  ranking_id INTEGER NOT NULL REFERENCES rankings(id) ON DELETE CASCADE,"
    "  message_id INTEGER NOT NULL REFERENCES messages(id),"
    "  position INTEGER NOT NULL,"         // 0 = best
    "  PRIMARY KEY (ranking_id, message_id));",
};
enum { N_MIGRATIONS = sizeof migrations / sizeof *migrations };
_Static_assert(N_MIGRATIONS == LABEL_SCHEMA_VERSION, "one migration per schema version");

int64_t label_now(void) { return (int64_t)time(NULL); }

int label_sql_err(LabelDb *d, Err *e, const char *what) {
    return ERR(e, ERR_IO, "%s: %s", what, d && d->db ? sqlite3_errmsg(d->db) : "no database");
}

int label_prepare(LabelDb *d, const char *sql, sqlite3_stmt **st, Err *e) {
    if (sqlite3_prepare_v2(d->db, sql, -1, st, NULL) != SQLITE_OK) {
        *st = NULL;
        return label_sql_err(d, e, "prepare");
    }
    return 0;
}

static int exec(LabelDb *d, const char *sql, Err *e) {
    char *msg = NULL;
    if (sqlite3_exec(d->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        ERR(e, ERR_IO, "%s", msg ? msg : sqlite3_errmsg(d->db));
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int label_tx_begin(LabelDb *d, Err *e) { return exec(d, "BEGIN IMMEDIATE", e); }

int label_tx_end(LabelDb *d, int ok, Err *e) {
    if (ok == 0) {
        if (exec(d, "COMMIT", e) == 0) return 0;
        ok = -1;  // fall through: roll back what did not commit
    }
    Err ignore = {0};
    if (sqlite3_get_autocommit(d->db) == 0) exec(d, "ROLLBACK", &ignore);
    return ok;
}

int label_db_version(LabelDb *d, int *version, Err *e) {
    sqlite3_stmt *st;
    if (label_prepare(d, "PRAGMA user_version", &st, e)) return -1;
    int rc = sqlite3_step(st) == SQLITE_ROW ? 0 : label_sql_err(d, e, "user_version");
    if (!rc) *version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return rc;
}

int label_db_check(LabelDb *d, Err *e) {
    sqlite3_stmt *st;
    if (label_prepare(d, "PRAGMA integrity_check", &st, e)) return -1;
    int rc = 0;
    if (sqlite3_step(st) != SQLITE_ROW) rc = label_sql_err(d, e, "integrity_check");
    else {
        const char *r = (const char *)sqlite3_column_text(st, 0);
        if (!r || strcmp(r, "ok")) rc = ERR(e, ERR_FORMAT, "integrity_check: %s", r ? r : "?");
    }
    sqlite3_finalize(st);
    return rc;
}

static int migrate(LabelDb *d, const char *path, Err *e) {
    int v;
    if (label_db_version(d, &v, e)) return -1;
    if (v > LABEL_SCHEMA_VERSION)
        return ERR(e, ERR_UNSUPPORTED, "%s: schema version %d is newer than this build's %d",
                   path, v, LABEL_SCHEMA_VERSION);
    for (; v < LABEL_SCHEMA_VERSION; v++) {
        if (label_tx_begin(d, e)) return -1;
        int rc = exec(d, migrations[v], e);
        char bump[64];  // our own integer, not user data
        snprintf(bump, sizeof bump, "PRAGMA user_version = %d", v + 1);
        if (!rc) rc = exec(d, bump, e);
        if (label_tx_end(d, rc, e)) return err_prefix(e, "%s: migration %d -> %d: ", path, v, v + 1);
    }
    return 0;
}

int label_db_open(LabelDb *d, const char *path, const LabelDbOptions *o, Err *e) {
    memset(d, 0, sizeof *d);
    LabelDbOptions def = {0};
    if (!o) o = &def;
    d->weak_hash = o->weak_hash_for_tests;
    // Password hashes and session tokens need libsodium (idempotent, thread-safe).
    if (sodium_init() < 0) return ERR(e, ERR_UNSUPPORTED, "libsodium failed to initialize");
    if (sqlite3_open_v2(path, &d->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        int rc = ERR(e, ERR_IO, "%s: %s", path, d->db ? sqlite3_errmsg(d->db) : "cannot open");
        label_db_close(d);
        return rc;
    }
    sqlite3_busy_timeout(d->db, o->busy_timeout_ms > 0 ? o->busy_timeout_ms : 5000);
    // Defensive mode refuses writes to the schema tables through SQL (a hardening
    // SQLite recommends for files a user may hand us).
    sqlite3_db_config(d->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
    int rc = exec(d, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;", e);
    if (!rc) rc = migrate(d, path, e);
    if (rc) {
        if (e && strncmp(e->msg, path, strlen(path))) err_prefix(e, "%s: ", path);
        label_db_close(d);
    }
    return rc;
}

void label_db_close(LabelDb *d) {
    if (d->db) sqlite3_close_v2(d->db);
    memset(d, 0, sizeof *d);
}
