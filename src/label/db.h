// db.h: the labeling store — one SQLite file per labeling effort.
//
// The file holds projects, users, sessions, message trees, drafts and rankings (schema
// in db.c, described in docs/label.md). It is opened in WAL mode with foreign keys on,
// a busy timeout and synchronous=FULL: a labeler's work is slow to make, so every
// commit reaches the disk. Every statement is prepared with bound parameters, and every
// write that spans statements runs in one transaction, so a process killed mid-write
// leaves the file as it was before that write or after it.
#ifndef PT_LABEL_DB_H
#define PT_LABEL_DB_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"

// The schema version this build writes; older files are migrated on open.
#define LABEL_SCHEMA_VERSION 1

typedef struct {
    // Argon2id cost for new password hashes. false: libsodium's INTERACTIVE limits (the
    // production default). true: the MIN limits, ~1000x cheaper — for tests only, where
    // hundreds of hashes would otherwise take minutes. Verification reads the cost from
    // the stored hash, so the choice never affects existing users.
    bool weak_hash_for_tests;
    int busy_timeout_ms;  // 0: 5000
} LabelDbOptions;

typedef struct {
    sqlite3 *db;
    bool weak_hash;
} LabelDb;

// Opens (creating if missing) and migrates path. o may be NULL (defaults).
int label_db_open(LabelDb *d, const char *path, const LabelDbOptions *o, Err *e);
void label_db_close(LabelDb *d);  // accepts a zeroed LabelDb

// The file's schema version (PRAGMA user_version).
int label_db_version(LabelDb *d, int *version, Err *e);
// PRAGMA integrity_check == "ok": 0; otherwise an error with SQLite's first complaint.
int label_db_check(LabelDb *d, Err *e);

// Transactions: BEGIN IMMEDIATE takes the write lock up front, so two writers queue on
// the busy timeout instead of failing half-way. label_tx_end commits when ok == 0 and
// rolls back otherwise; it returns ok, or -1 if the commit itself failed. They do not
// nest: the label_* functions that write several rows open their own.
int label_tx_begin(LabelDb *d, Err *e);
int label_tx_end(LabelDb *d, int ok, Err *e);

// Prepares sql (a constant: user data is bound, never formatted in); -1 with e on error.
int label_prepare(LabelDb *d, const char *sql, sqlite3_stmt **st, Err *e);
// An Err from SQLite's last error on d, prefixed with what we were doing.
int label_sql_err(LabelDb *d, Err *e, const char *what);
// Seconds since the epoch (the clock every created/expires column uses).
int64_t label_now(void);

#endif
