/* sqlite.c — the SQLite backend of the call store (the default).
 *
 * One connection per store, guarded by one mutex (sqlite_store.lock): every
 * backend function takes it for its whole duration, so prepared statements are
 * never shared between threads mid-use. The connection is opened with
 * SQLITE_OPEN_NOMUTEX because that mutex already serialises it. Other
 * processes may open the same file (WAL allows readers beside one writer);
 * busy_timeout makes them wait instead of failing.
 *
 * Settings: WAL journal, synchronous=FULL (a committed utterance survives a
 * power cut; writes are one per utterance, so the cost is negligible),
 * foreign keys on, extended result codes. Only prepared statements with bound
 * parameters touch data; the only SQL run as text is the constant schema.
 *
 * Schema: table schema_version (one row per applied migration) and the
 * migrations of store/schema.c, applied in order in one IMMEDIATE transaction
 * at open. A database whose version is newer than STORE_SCHEMA_VERSION is
 * refused; so are files that are not SQLite, and SQLite databases that hold
 * other tables but no schema_version (not ours). */
#include "store/backend.h"

#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"

typedef struct {
    sqlite3 *db;
    pthread_mutex_t lock;
    sqlite3_stmt *begin_immediate, *begin_read, *commit, *rollback;
    sqlite3_stmt *insert, *update_fields, *update_status, *status_of, *get, *list, *list_count, *counts;
    sqlite3_stmt *next, *lock_row, *dispatch_update, *history_insert, *history, *queue, *queue_count, *held, *held_count;
} sqlite_store;

/* A call finalised as abandoned (no speech) leaves the queue at once (?1: the new status). */
#define ABANDONED_CANCELS "dispatch_state = CASE WHEN ?1 = 'abandoned' THEN 'cancelled' ELSE dispatch_state END"

#define LIST_WHERE " WHERE (?1 IS NULL OR kind = ?1) AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR queue = ?3)"

/* ---- errors --------------------------------------------------------------- */

/* Maps a SQLite result code to a TRIDENT_E* code with a message naming what failed. */
static int sq_error(sqlite3 *db, int rc, const char *what, char *err, size_t n) {
    int primary = rc & 0xff;
    const char *msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    switch (primary) {
    case SQLITE_NOMEM: return error_set(err, n, TRIDENT_ENOMEM, "%s: out of memory", what);
    case SQLITE_NOTADB:
        return error_set(err, n, TRIDENT_EFORMAT, "%s: the file is not a SQLite database", what);
    case SQLITE_CORRUPT: return error_set(err, n, TRIDENT_EFORMAT, "%s: the database is corrupt (%s)", what, msg);
    case SQLITE_FULL: return error_set(err, n, TRIDENT_EIO, "%s: disk full (%s)", what, msg);
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM: return error_set(err, n, TRIDENT_EIO, "%s: %s", what, msg);
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return error_set(err, n, TRIDENT_EBUSY, "%s: the database is locked by another process (%s)", what, msg);
    default: return error_set(err, n, TRIDENT_EDB, "%s: %s", what, msg);
    }
}

/* Runs a statement that returns no rows (or whose rows are ignored) and resets it. */
static int step_done(sqlite_store *q, sqlite3_stmt *st, const char *what, char *err, size_t n) {
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    }
    int out = rc == SQLITE_DONE ? TRIDENT_OK : sq_error(q->db, rc, what, err, n);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return out;
}

static void rollback(sqlite_store *q) {
    if (!sqlite3_get_autocommit(q->db)) step_done(q, q->rollback, "rollback", NULL, 0);
}

/* ---- binding and reading -------------------------------------------------- */

static int bind_text(sqlite3_stmt *st, int i, const char *s) {
    return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

/* Binds the store_fields columns starting at parameter `first` (11 parameters). */
static int bind_fields(sqlite3_stmt *st, int first, const store_fields *f) {
    int rc = SQLITE_OK;
    int i = first;
    if (rc == SQLITE_OK) rc = sqlite3_bind_double(st, i++, f->duration_s);
    if (rc == SQLITE_OK) rc = bind_text(st, i++, f->transcript ? f->transcript : "");
    if (rc == SQLITE_OK) rc = sqlite3_bind_double(st, i++, f->confidence);
    if (rc == SQLITE_OK) rc = sqlite3_bind_double(st, i++, f->content_score);
    if (rc == SQLITE_OK) rc = sqlite3_bind_double(st, i++, f->distress_score);
    if (rc == SQLITE_OK) rc = bind_text(st, i++, f->queue);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int(st, i++, f->priority_level);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int(st, i++, f->flag_audio_review ? 1 : 0);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int(st, i++, f->escalation_required ? 1 : 0);
    if (rc == SQLITE_OK) rc = bind_text(st, i++, f->analysis_json);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int(st, i++, f->utterance_count);
    if (rc == SQLITE_OK) rc = bind_text(st, i++, f->status_reason);
    return rc;
}

/* store_row_reader over the current row of a statement selecting STORE_CALL_COLUMNS. */
static const char *col_text(void *row, store_column col, int *failed) {
    sqlite3_stmt *st = row;
    if (sqlite3_column_type(st, (int)col) == SQLITE_NULL) return NULL;
    const unsigned char *t = sqlite3_column_text(st, (int)col);
    if (!t) *failed = 1; /* SQLite could not convert the value: out of memory */
    return (const char *)t;
}

static double col_real(void *row, store_column col) { return sqlite3_column_double(row, (int)col); }

static long long col_integer(void *row, store_column col) { return sqlite3_column_int64(row, (int)col); }

/* Fills c from the current row of st. Returns 0 or TRIDENT_ENOMEM. */
static int row_read(sqlite3_stmt *st, store_call *c) {
    const store_row_reader r = {.row = st, .text = col_text, .real = col_real, .integer = col_integer};
    return store_call_row_read(&r, c);
}

/* ---- backend functions ---------------------------------------------------- */

static int sq_insert(void *impl, const store_row *row, char *err, size_t n) {
    sqlite_store *q = impl;
    sqlite3_stmt *st = q->insert;
    pthread_mutex_lock(&q->lock);
    int rc = bind_text(st, 1, row->id);
    if (rc == SQLITE_OK) rc = bind_text(st, 2, store_kind_name(row->kind));
    if (rc == SQLITE_OK) rc = bind_text(st, 3, store_status_name(row->status));
    if (rc == SQLITE_OK) rc = sqlite3_bind_double(st, 4, row->now);
    if (rc == SQLITE_OK) rc = sqlite3_bind_double(st, 5, row->now);
    if (rc == SQLITE_OK) rc = bind_fields(st, 6, row->fields);
    if (rc == SQLITE_OK) rc = bind_text(st, 18, row->audio_path);
    if (rc == SQLITE_OK) rc = bind_text(st, 19, row->filename);
    if (rc == SQLITE_OK) rc = bind_text(st, 20, row->caller);
    int out;
    if (rc != SQLITE_OK) {
        out = sq_error(q->db, rc, "storing a call", err, n);
        sqlite3_clear_bindings(st);
    } else {
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) out = TRIDENT_OK;
        else if (rc == SQLITE_CONSTRAINT_PRIMARYKEY)
            out = error_set(err, n, TRIDENT_EINVAL, "a call with id %s already exists", row->id);
        else out = sq_error(q->db, rc, "storing a call", err, n);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    pthread_mutex_unlock(&q->lock);
    return out;
}

/* Called inside the write transaction when an update changed no row. */
static int explain_no_update(sqlite_store *q, const char *id, char *err, size_t n) {
    sqlite3_stmt *st = q->status_of;
    int out;
    int rc = bind_text(st, 1, id);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        out = error_set(err, n, TRIDENT_EINVAL, "call %s is %s, not in progress", id,
                        (const char *)sqlite3_column_text(st, 0));
    else if (rc == SQLITE_DONE) out = error_set(err, n, TRIDENT_ENOTFOUND, "call %s not found", id);
    else out = sq_error(q->db, rc, "reading a call's status", err, n);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return out;
}

static int sq_update(void *impl, const char *id, store_status new_status, double now, const store_fields *fields,
                     const char *audio_path, char *err, size_t n) {
    sqlite_store *q = impl;
    pthread_mutex_lock(&q->lock);
    int out = step_done(q, q->begin_immediate, "starting a transaction", err, n);
    if (out == TRIDENT_OK) {
        sqlite3_stmt *st = fields ? q->update_fields : q->update_status;
        int rc = bind_text(st, 1, store_status_name(new_status));
        if (rc == SQLITE_OK) rc = sqlite3_bind_double(st, 2, now);
        if (rc == SQLITE_OK) rc = bind_text(st, 3, id);
        if (rc == SQLITE_OK) rc = bind_text(st, 4, new_status == STORE_STATUS_IN_PROGRESS ? NULL : audio_path);
        if (rc == SQLITE_OK) rc = sqlite3_bind_int(st, 5, new_status == STORE_STATUS_IN_PROGRESS);
        if (rc == SQLITE_OK && fields) rc = bind_fields(st, 6, fields);
        if (rc != SQLITE_OK) {
            out = sq_error(q->db, rc, "updating a call", err, n);
            sqlite3_clear_bindings(st);
        } else {
            out = step_done(q, st, "updating a call", err, n);
        }
        if (out == TRIDENT_OK && sqlite3_changes(q->db) == 0) out = explain_no_update(q, id, err, n);
        if (out == TRIDENT_OK) out = step_done(q, q->commit, "committing a call update", err, n);
        if (out != TRIDENT_OK) rollback(q);
    }
    pthread_mutex_unlock(&q->lock);
    return out;
}

static int sq_get(void *impl, const char *id, store_call **out, char *err, size_t n) {
    sqlite_store *q = impl;
    store_call *c = calloc(1, sizeof *c);
    if (!c) return error_set(err, n, TRIDENT_ENOMEM, "out of memory reading a call");
    pthread_mutex_lock(&q->lock);
    sqlite3_stmt *st = q->get;
    int res;
    int rc = bind_text(st, 1, id);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        res = row_read(st, c);
        if (res) error_set(err, n, res, "out of memory reading a call");
    } else if (rc == SQLITE_DONE) {
        res = error_set(err, n, TRIDENT_ENOTFOUND, "call %s not found", id);
    } else {
        res = sq_error(q->db, rc, "reading a call", err, n);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    pthread_mutex_unlock(&q->lock);
    if (res) {
        store_call_free(c);
        return res;
    }
    *out = c;
    return TRIDENT_OK;
}

static int bind_filter(sqlite3_stmt *st, const store_filter *f) {
    int rc = bind_text(st, 1, f->kind == STORE_KIND_ANY ? NULL : store_kind_name(f->kind));
    if (rc == SQLITE_OK) rc = bind_text(st, 2, f->status == STORE_STATUS_ANY ? NULL : store_status_name(f->status));
    if (rc == SQLITE_OK) rc = bind_text(st, 3, f->queue);
    return rc;
}

static int sq_list(void *impl, const store_filter *f, store_page *page, char *err, size_t n) {
    sqlite_store *q = impl;
    store_call *items = calloc((size_t)f->limit, sizeof *items);
    if (!items) return error_set(err, n, TRIDENT_ENOMEM, "out of memory listing calls");
    size_t count = 0;
    int64_t total = 0;
    pthread_mutex_lock(&q->lock);
    /* One read transaction: the count and the page come from the same snapshot. */
    int out = step_done(q, q->begin_read, "starting a read", err, n);
    if (out == TRIDENT_OK) {
        sqlite3_stmt *st = q->list_count;
        int rc = bind_filter(st, f);
        if (rc == SQLITE_OK) rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) total = sqlite3_column_int64(st, 0);
        else out = sq_error(q->db, rc, "counting calls", err, n);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    if (out == TRIDENT_OK) {
        sqlite3_stmt *st = q->list;
        int rc = bind_filter(st, f);
        if (rc == SQLITE_OK) rc = sqlite3_bind_int64(st, 4, f->limit);
        if (rc == SQLITE_OK) rc = sqlite3_bind_int64(st, 5, f->offset);
        if (rc != SQLITE_OK) out = sq_error(q->db, rc, "listing calls", err, n);
        while (out == TRIDENT_OK && count < (size_t)f->limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            int r = row_read(st, &items[count]);
            count++;
            if (r) out = error_set(err, n, r, "out of memory listing calls");
        }
        if (out == TRIDENT_OK && rc != SQLITE_ROW && rc != SQLITE_DONE) out = sq_error(q->db, rc, "listing calls", err, n);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    if (!sqlite3_get_autocommit(q->db)) step_done(q, q->commit, "ending a read", NULL, 0);
    pthread_mutex_unlock(&q->lock);
    return store_page_finish(page, items, count, total, out);
}

/* Copies column col of the current row (text or NULL) into out; returns 1 when NULL. */
static int column_copy(sqlite3_stmt *st, int col, char *out, size_t size) {
    const unsigned char *t = sqlite3_column_text(st, col);
    snprintf(out, size, "%s", t ? (const char *)t : "");
    return t == NULL;
}

/* The body of sq_dispatch, inside its write transaction. */
static int dispatch_locked(sqlite_store *q, const char *id, const store_dispatch_request *req, double now,
                           char acted[STORE_ID_SIZE], char *err, size_t n) {
    int rc, out = TRIDENT_OK;
    if (!id) {
        rc = sqlite3_step(q->next);
        if (rc == SQLITE_ROW) column_copy(q->next, 0, acted, STORE_ID_SIZE);
        else if (rc == SQLITE_DONE) out = error_set(err, n, TRIDENT_ENOTFOUND, "no call is waiting");
        else out = sq_error(q->db, rc, "finding the next waiting call", err, n);
        sqlite3_reset(q->next);
        if (out) return out;
    } else {
        snprintf(acted, STORE_ID_SIZE, "%s", id);
    }
    char state[32] = "", holder[STORE_ACTOR_MAX + 1] = "";
    int no_holder = 1;
    rc = bind_text(q->lock_row, 1, acted);
    if (rc == SQLITE_OK) rc = sqlite3_step(q->lock_row);
    if (rc == SQLITE_ROW) {
        column_copy(q->lock_row, 0, state, sizeof state);
        no_holder = column_copy(q->lock_row, 1, holder, sizeof holder);
    } else if (rc == SQLITE_DONE) {
        out = error_set(err, n, TRIDENT_ENOTFOUND, "call %s not found", acted);
    } else {
        out = sq_error(q->db, rc, "reading a call's dispatch state", err, n);
    }
    sqlite3_reset(q->lock_row);
    sqlite3_clear_bindings(q->lock_row);
    if (out) return out;
    if (req->action == STORE_ACTION_DUPLICATE) {
        rc = bind_text(q->status_of, 1, req->of);
        if (rc == SQLITE_OK) rc = sqlite3_step(q->status_of);
        if (rc == SQLITE_DONE) out = error_set(err, n, TRIDENT_ENOTFOUND, "the original call %s not found", req->of);
        else if (rc != SQLITE_ROW) out = sq_error(q->db, rc, "reading the original call", err, n);
        sqlite3_reset(q->status_of);
        sqlite3_clear_bindings(q->status_of);
        if (out) return out;
    }
    store_dispatch_state cur = store_dispatch_parse(state);
    store_dispatch_decision d;
    if ((out = store_dispatch_decide(acted, req, cur, no_holder ? NULL : holder, &d, err, n))) return out;
    sqlite3_stmt *st = q->dispatch_update;
    rc = bind_text(st, 1, acted);
    if (rc == SQLITE_OK) rc = bind_text(st, 2, store_dispatch_name(d.to));
    if (rc == SQLITE_OK) rc = bind_text(st, 3, d.claimed_by);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int(st, 4, d.wait_again);
    if (rc == SQLITE_OK) rc = sqlite3_bind_double(st, 5, now);
    if (rc == SQLITE_OK) rc = bind_text(st, 6, req->action == STORE_ACTION_DUPLICATE ? req->of : NULL);
    if (rc == SQLITE_OK) rc = bind_text(st, 7, req->action == STORE_ACTION_OVERRIDE ? req->queue : NULL);
    out = rc == SQLITE_OK ? step_done(q, st, "updating a call's dispatch state", err, n)
                          : sq_error(q->db, rc, "updating a call's dispatch state", err, n);
    sqlite3_clear_bindings(st);
    if (out) return out;
    st = q->history_insert;
    rc = bind_text(st, 1, acted);
    if (rc == SQLITE_OK) rc = sqlite3_bind_double(st, 2, now);
    if (rc == SQLITE_OK) rc = bind_text(st, 3, req->actor);
    if (rc == SQLITE_OK) rc = bind_text(st, 4, store_action_name(req->action));
    if (rc == SQLITE_OK) rc = bind_text(st, 5, store_dispatch_name(cur));
    if (rc == SQLITE_OK) rc = bind_text(st, 6, store_dispatch_name(d.to));
    if (rc == SQLITE_OK) rc = bind_text(st, 7, req->note);
    out = rc == SQLITE_OK ? step_done(q, st, "appending to a call's history", err, n)
                          : sq_error(q->db, rc, "appending to a call's history", err, n);
    sqlite3_clear_bindings(st);
    return out;
}

static int sq_dispatch(void *impl, const char *id, const store_dispatch_request *req, double now,
                       char acted[STORE_ID_SIZE], char *err, size_t n) {
    sqlite_store *q = impl;
    pthread_mutex_lock(&q->lock);
    /* BEGIN IMMEDIATE takes the database's write lock first: between this
     * connection's read of the state and its update no other connection (or
     * process) can write. */
    int out = step_done(q, q->begin_immediate, "starting a transaction", err, n);
    if (out == TRIDENT_OK) {
        out = dispatch_locked(q, id, req, now, acted, err, n);
        if (out == TRIDENT_OK) out = step_done(q, q->commit, "committing a dispatch change", err, n);
        if (out != TRIDENT_OK) rollback(q);
    }
    pthread_mutex_unlock(&q->lock);
    return out;
}

static int sq_queue(void *impl, const char *holder, int64_t limit, store_page *page, char *err, size_t n) {
    sqlite_store *q = impl;
    store_call *items = calloc((size_t)limit, sizeof *items);
    if (!items) return error_set(err, n, TRIDENT_ENOMEM, "out of memory listing the queue");
    size_t count = 0;
    int64_t total = 0;
    /* the open queue, or the calls holder holds: parameter 1 is the holder, then the limit */
    sqlite3_stmt *count_st = holder ? q->held_count : q->queue_count, *st = holder ? q->held : q->queue;
    int p = holder ? 2 : 1;
    pthread_mutex_lock(&q->lock);
    int out = step_done(q, q->begin_read, "starting a read", err, n);
    if (out == TRIDENT_OK) {
        int rc = holder ? sqlite3_bind_text(count_st, 1, holder, -1, SQLITE_TRANSIENT) : SQLITE_OK;
        if (rc == SQLITE_OK) rc = sqlite3_step(count_st);
        if (rc == SQLITE_ROW) total = sqlite3_column_int64(count_st, 0);
        else out = sq_error(q->db, rc, "counting the queue", err, n);
        sqlite3_reset(count_st);
        sqlite3_clear_bindings(count_st);
    }
    if (out == TRIDENT_OK) {
        int rc = holder ? sqlite3_bind_text(st, 1, holder, -1, SQLITE_TRANSIENT) : SQLITE_OK;
        if (rc == SQLITE_OK) rc = sqlite3_bind_int64(st, p, limit);
        if (rc != SQLITE_OK) out = sq_error(q->db, rc, "listing the queue", err, n);
        while (out == TRIDENT_OK && count < (size_t)limit && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            int r = row_read(st, &items[count]);
            count++;
            if (r) out = error_set(err, n, r, "out of memory listing the queue");
        }
        if (out == TRIDENT_OK && rc != SQLITE_ROW && rc != SQLITE_DONE) out = sq_error(q->db, rc, "listing the queue", err, n);
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    if (!sqlite3_get_autocommit(q->db)) step_done(q, q->commit, "ending a read", NULL, 0);
    pthread_mutex_unlock(&q->lock);
    return store_page_finish(page, items, count, total, out);
}

static int sq_history(void *impl, const char *id, store_history_entry **outp, size_t *count, char *err, size_t n) {
    sqlite_store *q = impl;
    store_history_entry *h = NULL;
    size_t used = 0, cap = 0;
    int failed = 0, out = TRIDENT_OK, rc;
    pthread_mutex_lock(&q->lock);
    sqlite3_stmt *st = q->history;
    int bound = bind_text(st, 1, id);
    rc = bound;
    while (bound == SQLITE_OK && !failed && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (used == cap) {
            size_t ncap = cap ? 2 * cap : 8;
            store_history_entry *nh = realloc(h, ncap * sizeof *nh);
            if (!nh) {
                failed = 1;
                break;
            }
            h = nh;
            cap = ncap;
        }
        store_history_entry *e = &h[used++];
        memset(e, 0, sizeof *e);
        e->seq = sqlite3_column_int(st, 0);
        e->at = sqlite3_column_double(st, 1);
        e->actor = store_strdup_or_null((const char *)sqlite3_column_text(st, 2), &failed);
        e->action = store_strdup_or_null((const char *)sqlite3_column_text(st, 3), &failed);
        e->from_state = store_strdup_or_null((const char *)sqlite3_column_text(st, 4), &failed);
        e->to_state = store_strdup_or_null((const char *)sqlite3_column_text(st, 5), &failed);
        e->note = store_strdup_or_null((const char *)sqlite3_column_text(st, 6), &failed);
    }
    if (failed) out = error_set(err, n, TRIDENT_ENOMEM, "out of memory reading a call's history");
    else if (rc != SQLITE_DONE) out = sq_error(q->db, rc, "reading a call's history", err, n);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    pthread_mutex_unlock(&q->lock);
    if (out) {
        store_history_free(h, used);
        return out;
    }
    *outp = h;
    *count = used;
    return TRIDENT_OK;
}

static int sq_counts(void *impl, store_counts *c, char *err, size_t n) {
    sqlite_store *q = impl;
    pthread_mutex_lock(&q->lock);
    sqlite3_stmt *st = q->counts;
    int out = TRIDENT_OK;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        c->total_calls = sqlite3_column_int64(st, 0);
        c->uploads = sqlite3_column_int64(st, 1);
        c->live_calls_saved = sqlite3_column_int64(st, 2);
        c->in_progress = sqlite3_column_int64(st, 3);
        c->interrupted = sqlite3_column_int64(st, 4);
    } else {
        out = sq_error(q->db, rc, "counting calls", err, n);
    }
    sqlite3_reset(st);
    pthread_mutex_unlock(&q->lock);
    return out;
}

/* Runs one statement of sq_exec; collects its rows into out when out is non-NULL. */
static int exec_one(sqlite_store *q, const store_stmt *stmt, const char *const *params, store_rows *out, char *err,
                    size_t n) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(q->db, stmt->sql, -1, &st, NULL);
    for (int i = 0; rc == SQLITE_OK && i < stmt->nparams; i++) {
        char name[16];
        snprintf(name, sizeof name, "$%d", i + 1);
        int idx = sqlite3_bind_parameter_index(st, name);
        if (idx > 0) rc = bind_text(st, idx, params[i]);
    }
    int res = TRIDENT_OK;
    int cols = rc == SQLITE_OK ? sqlite3_column_count(st) : 0;
    size_t cap = 0;
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW || !out) continue;
        if ((size_t)(out->rows + 1) * (size_t)cols > cap) {
            size_t ncap = cap ? cap * 2 : (size_t)cols * 16;
            char **c = realloc(out->cells, ncap * sizeof *c);
            if (!c) {
                res = error_set(err, n, TRIDENT_ENOMEM, "out of memory reading rows");
                break;
            }
            out->cells = c;
            cap = ncap;
        }
        for (int c = 0; c < cols; c++) {
            const unsigned char *t = sqlite3_column_text(st, c);
            char **cell = &out->cells[(size_t)out->rows * (size_t)cols + (size_t)c];
            *cell = t ? strdup((const char *)t) : NULL;
            if (t && !*cell) res = error_set(err, n, TRIDENT_ENOMEM, "out of memory reading rows");
        }
        out->rows++;
        out->cols = cols;
        if (res) break;
    }
    if (!res && rc != SQLITE_DONE) {
        if ((rc & 0xff) == SQLITE_CONSTRAINT && rc != SQLITE_CONSTRAINT_CHECK && rc != SQLITE_CONSTRAINT_NOTNULL)
            res = error_set(err, n, TRIDENT_ECONFLICT, "%s", sqlite3_errmsg(q->db));
        else
            res = sq_error(q->db, rc, "running a statement", err, n);
    }
    if (out) out->changes = sqlite3_changes(q->db);
    sqlite3_finalize(st);
    return res;
}

static int sq_exec(void *impl, const store_stmt *stmts, size_t n_stmts, const char *const *params, store_rows *out,
                   char *err, size_t n) {
    sqlite_store *q = impl;
    if (out) memset(out, 0, sizeof *out);
    pthread_mutex_lock(&q->lock);
    int res = n_stmts > 1 ? step_done(q, q->begin_immediate, "starting a transaction", err, n) : TRIDENT_OK;
    for (size_t i = 0; !res && i < n_stmts; i++)
        res = exec_one(q, &stmts[i], params, i + 1 == n_stmts ? out : NULL, err, n);
    if (!res && n_stmts > 1) res = step_done(q, q->commit, "committing a transaction", err, n);
    if (res) rollback(q);
    pthread_mutex_unlock(&q->lock);
    if (res && out) store_rows_clear(out);
    return res;
}

static void sq_close(void *impl) {
    sqlite_store *q = impl;
    if (!q) return;
    sqlite3_stmt **all[] = {&q->begin_immediate, &q->begin_read, &q->commit, &q->rollback, &q->insert,
                            &q->update_fields, &q->update_status, &q->status_of, &q->get, &q->list,
                            &q->list_count, &q->counts, &q->next, &q->lock_row, &q->dispatch_update,
                            &q->history_insert, &q->history, &q->queue, &q->queue_count, &q->held, &q->held_count};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) sqlite3_finalize(*all[i]);
    if (q->db) {
        /* The last connection to close checkpoints the WAL into the database file. */
        int rc = sqlite3_close(q->db);
        if (rc != SQLITE_OK) log_error("store", "closing the SQLite database failed: %s", sqlite3_errstr(rc));
    }
    pthread_mutex_destroy(&q->lock);
    free(q);
}

static const store_backend sqlite_backend = {
    .name = "sqlite",
    .close = sq_close,
    .exec = sq_exec,
    .insert = sq_insert,
    .update = sq_update,
    .get = sq_get,
    .list = sq_list,
    .counts = sq_counts,
    .dispatch = sq_dispatch,
    .queue = sq_queue,
    .history = sq_history,
};

/* ---- open and migrate ----------------------------------------------------- */

static int prepare(sqlite_store *q, const char *sql, sqlite3_stmt **st, char *err, size_t n) {
    int rc = sqlite3_prepare_v3(q->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
    if (rc != SQLITE_OK) return sq_error(q->db, rc, "preparing a statement", err, n);
    return TRIDENT_OK;
}

/* A single-row, single-column integer query on constant SQL (no parameters). */
static int query_int(sqlite_store *q, const char *sql, int64_t *value, const char *what, char *err, size_t n) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(q->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    int out = TRIDENT_OK;
    if (rc == SQLITE_ROW) *value = sqlite3_column_int64(st, 0);
    else out = sq_error(q->db, rc, what, err, n);
    sqlite3_finalize(st);
    return out;
}

/* A pragma that returns one text row (journal_mode); copies the answer into out. */
static int pragma_text(sqlite_store *q, const char *sql, char *out, size_t out_size, char *err, size_t n) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(q->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    int res = TRIDENT_OK;
    if (rc == SQLITE_ROW) snprintf(out, out_size, "%s", (const char *)sqlite3_column_text(st, 0));
    else res = sq_error(q->db, rc, sql, err, n);
    sqlite3_finalize(st);
    return res;
}

static int exec(sqlite_store *q, const char *sql, const char *what, char *err, size_t n) {
    int rc = sqlite3_exec(q->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) return sq_error(q->db, rc, what, err, n);
    return TRIDENT_OK;
}

/* Brings the schema to STORE_SCHEMA_VERSION in one transaction; sets *version. */
/* Migration 5's file step: the default recordings directory became one per database
 * (<db>-recordings; it was <db dir>/recordings, shared by every database in the
 * folder), so this database's own recordings move from `from` to `to` inside the
 * migration's transaction. After a crash before the commit, the next attempt
 * finds the recordings already moved at their new place and skips them; a
 * recording missing from both stays missing, as before. */
static int recordings_move(sqlite_store *q, const char *from, const char *to, char *err, size_t n) {
    struct stat st;
    if (stat(from, &st) != 0 || !S_ISDIR(st.st_mode)) return TRIDENT_OK; /* nothing was recorded there */
    if (mkdir(to, 0750) != 0 && errno != EEXIST)
        return error_set(err, n, TRIDENT_EIO, "cannot create the recordings directory '%s': %s", to, strerror(errno));
    sqlite3_stmt *sel = NULL;
    int rc = sqlite3_prepare_v2(q->db, "SELECT audio_path FROM calls WHERE audio_path IS NOT NULL", -1, &sel, NULL);
    int out = TRIDENT_OK;
    long long moved = 0;
    while (!out && rc == SQLITE_OK && (rc = sqlite3_step(sel)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(sel, 0);
        char src[PATH_MAX], dst[PATH_MAX];
        if (!name || snprintf(src, sizeof src, "%s/%s", from, name) >= (int)sizeof src ||
            snprintf(dst, sizeof dst, "%s/%s", to, name) >= (int)sizeof dst || lstat(dst, &st) == 0)
            continue;
        if (rename(src, dst) == 0) moved++;
        else if (errno != ENOENT)
            out = error_set(err, n, TRIDENT_EIO, "moving recording '%s' to '%s' (recordings are kept per database): %s",
                            src, to, strerror(errno));
        rc = SQLITE_OK;
    }
    if (!out && rc != SQLITE_DONE && rc != SQLITE_OK) out = sq_error(q->db, rc, "reading the recordings to move", err, n);
    sqlite3_finalize(sel);
    if (!out && moved) log_info("store", "moved this database's recordings count=%lld from=%s to=%s", moved, from, to);
    return out;
}

static int migrate(sqlite_store *q, const char *path, const char *rec_from, const char *rec_to, int *version,
                   char *err, size_t n) {
    int out = exec(q, "BEGIN IMMEDIATE", "starting the schema migration", err, n);
    if (out) return out;
    int64_t has_version = 0, other_tables = 0, current = 0;
    out = query_int(q, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'",
                    &has_version, "reading the schema", err, n);
    if (!out && !has_version) {
        out = query_int(q, "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'", &other_tables,
                        "reading the schema", err, n);
        if (!out && other_tables)
            out = error_set(err, n, TRIDENT_EFORMAT,
                            "'%s' is a SQLite database but not a TRIDENT call store (it has tables but no schema_version)",
                            path);
        if (!out) out = exec(q, STORE_SCHEMA_VERSION_TABLE, "creating the schema_version table", err, n);
    }
    if (!out)
        out = query_int(q, "SELECT coalesce(max(version), 0) FROM schema_version", &current, "reading the schema version",
                        err, n);
    if (!out && current > STORE_SCHEMA_VERSION)
        out = error_set(err, n, TRIDENT_EUNSUPPORTED,
                        "'%s' has schema version %lld, newer than this build of trident understands (%d); "
                        "use a newer trident or another database",
                        path, (long long)current, STORE_SCHEMA_VERSION);
    for (int v = (int)current + 1; !out && v <= STORE_SCHEMA_VERSION; v++) {
        char what[64];
        snprintf(what, sizeof what, "applying schema migration %d", v);
        out = exec(q, store_schema_sql(v), what, err, n);
        sqlite3_stmt *st = NULL;
        if (!out) {
            int rc = sqlite3_prepare_v2(q->db, "INSERT INTO schema_version (version, applied_at) VALUES (?1, ?2)", -1,
                                        &st, NULL);
            if (rc == SQLITE_OK) rc = sqlite3_bind_int(st, 1, v);
            if (rc == SQLITE_OK) rc = sqlite3_bind_double(st, 2, clock_wall_s());
            if (rc == SQLITE_OK) rc = sqlite3_step(st);
            if (rc != SQLITE_DONE) out = sq_error(q->db, rc, what, err, n);
            sqlite3_finalize(st);
        }
        if (!out && v == 3) {
            int rc = sqlite3_prepare_v2(q->db, STORE_MIGRATION_3_AGE_SQL, -1, &st, NULL);
            if (rc == SQLITE_OK) rc = sqlite3_bind_double(st, 1, clock_wall_s() - STORE_MIGRATION_RESOLVED_AGE_S);
            if (rc == SQLITE_OK) rc = sqlite3_step(st);
            if (rc != SQLITE_DONE) out = sq_error(q->db, rc, what, err, n);
            sqlite3_finalize(st);
        }
        if (!out && v == 5 && rec_from && rec_from[0] && rec_to[0]) out = recordings_move(q, rec_from, rec_to, err, n);
        if (!out) log_info("store", "applied schema migration version=%d", v);
    }
    if (!out) out = exec(q, "COMMIT", "committing the schema migration", err, n);
    if (out) sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
    else *version = current > STORE_SCHEMA_VERSION ? (int)current : STORE_SCHEMA_VERSION;
    return out;
}

/* Checks what can be checked before SQLite tries, so the messages are clear. */
static int path_precheck(const char *path, char *err, size_t n) {
    char copy[PATH_MAX];
    if (snprintf(copy, sizeof copy, "%s", path) >= (int)sizeof copy)
        return error_set(err, n, TRIDENT_ELIMIT, "database path is too long");
    const char *dir = dirname(copy);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return error_set(err, n, TRIDENT_EIO, "cannot open database '%s': directory '%s' does not exist", path, dir);
    if (stat(path, &st) == 0) {
        if (!S_ISREG(st.st_mode)) return error_set(err, n, TRIDENT_EIO, "database '%s' is not a regular file", path);
        if (access(path, R_OK | W_OK) != 0)
            return error_set(err, n, TRIDENT_EIO, "database '%s' is not readable and writable: %s", path, strerror(errno));
    } else if (errno != ENOENT) {
        return error_set(err, n, TRIDENT_EIO, "cannot open database '%s': %s", path, strerror(errno));
    }
    if (access(dir, W_OK | X_OK) != 0)
        return error_set(err, n, TRIDENT_EIO,
                         "cannot open database '%s': directory '%s' is not writable (SQLite keeps its -wal and -shm "
                         "files beside the database): %s",
                         path, dir, strerror(errno));
    return TRIDENT_OK;
}

static int open_connection(sqlite_store *q, const char *path, const store_options *opt, store *s, char *err, size_t n) {
    int memory = strcmp(path, ":memory:") == 0;
    int out;
    if (!memory && (out = path_precheck(path, err, n))) return out;
    int rc = sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        char what[PATH_MAX + 32];
        snprintf(what, sizeof what, "cannot open database '%s'", path);
        return sq_error(q->db, rc, what, err, n);
    }
    sqlite3_extended_result_codes(q->db, 1);
    sqlite3_busy_timeout(q->db, opt->busy_timeout_ms > 0 ? opt->busy_timeout_ms : 5000);

    /* The first read of the header is where a non-database file shows. */
    int64_t tables = 0;
    char what[PATH_MAX + 32];
    snprintf(what, sizeof what, "cannot open database '%s'", path);
    if ((out = query_int(q, "SELECT count(*) FROM sqlite_master", &tables, what, err, n))) return out;

    char mode[32] = "";
    if ((out = pragma_text(q, "PRAGMA journal_mode = WAL", mode, sizeof mode, err, n))) return out;
    if (!memory && strcmp(mode, "wal") != 0)
        return error_set(err, n, TRIDENT_EDB, "database '%s' could not be switched to WAL mode (journal_mode is %s)", path,
                         mode);
    if ((out = exec(q, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", "configuring the database", err, n)))
        return out;
    int64_t fk = 0;
    if ((out = query_int(q, "PRAGMA foreign_keys", &fk, "configuring the database", err, n))) return out;
    if (fk != 1) return error_set(err, n, TRIDENT_EDB, "this SQLite build cannot enforce foreign keys");

    /* The default recordings directory, one per database: <db>-recordings beside
     * it (as SQLite's own <db>-wal); before schema 5 it was <db dir>/recordings. */
    char legacy[PATH_MAX] = "";
    if (!memory) {
        char real[PATH_MAX], dir[PATH_MAX];
        if (!realpath(path, real)) snprintf(real, sizeof real, "%s", path);
        snprintf(dir, sizeof dir, "%s", real);
        const char *d = dirname(dir);
        if (snprintf(s->recordings_dir, sizeof s->recordings_dir, "%s-recordings", real) >= (int)sizeof s->recordings_dir ||
            snprintf(legacy, sizeof legacy, "%s/recordings", strcmp(d, "/") == 0 ? "" : d) >= (int)sizeof legacy)
            s->recordings_dir[0] = legacy[0] = '\0';
    }
    if ((out = migrate(q, path, opt->recordings_dir ? NULL : legacy, s->recordings_dir, &s->schema_version, err, n)))
        return out;

    if (opt->recover_interrupted) {
        sqlite3_stmt *st = NULL;
        rc = sqlite3_prepare_v2(q->db,
                                "UPDATE calls SET status = 'interrupted', updated_at = ?1, status_reason = "
                                "'the server stopped while the call was in progress (recovered at the next start)' "
                                "WHERE status = 'in_progress'",
                                -1, &st, NULL);
        if (rc == SQLITE_OK) rc = sqlite3_bind_double(st, 1, clock_wall_s());
        if (rc == SQLITE_OK) rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) s->recovered = sqlite3_changes(q->db);
        sqlite3_finalize(st);
        if (rc != SQLITE_DONE) return sq_error(q->db, rc, "marking interrupted calls", err, n);
    }

    if ((out = prepare(q, "BEGIN IMMEDIATE", &q->begin_immediate, err, n)) ||
        (out = prepare(q, "BEGIN", &q->begin_read, err, n)) || (out = prepare(q, "COMMIT", &q->commit, err, n)) ||
        (out = prepare(q, "ROLLBACK", &q->rollback, err, n)) ||
        (out = prepare(q,
                       "INSERT INTO calls " STORE_INSERT_COLUMNS " VALUES "
                       "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?4, ?4)",
                       &q->insert, err, n)) ||
        /* ?4 (audio path) is written only when finishing (?5 = 0). */
        (out = prepare(q,
                       "UPDATE calls SET status = ?1, updated_at = ?2, audio_path = CASE WHEN ?5 THEN audio_path ELSE ?4 END, "
                       "duration_s = ?6, transcript = ?7, confidence = ?8, content_score = ?9, distress_score = ?10, "
                       "queue = ?11, priority_level = ?12, flag_audio_review = ?13, escalation_required = ?14, "
                       "analysis_json = ?15, utterance_count = ?16, status_reason = ?17, " ABANDONED_CANCELS
                       " WHERE id = ?3 AND status = 'in_progress'",
                       &q->update_fields, err, n)) ||
        (out = prepare(q,
                       "UPDATE calls SET status = ?1, updated_at = ?2, audio_path = CASE WHEN ?5 THEN audio_path ELSE ?4 END, "
                       ABANDONED_CANCELS " WHERE id = ?3 AND status = 'in_progress'",
                       &q->update_status, err, n)) ||
        (out = prepare(q, "SELECT status FROM calls WHERE id = ?1", &q->status_of, err, n)) ||
        (out = prepare(q, "SELECT " STORE_CALL_COLUMNS " FROM calls WHERE id = ?1", &q->get, err, n)) ||
        (out = prepare(q,
                       "SELECT " STORE_CALL_COLUMNS " FROM calls" LIST_WHERE
                       " ORDER BY created_at DESC, id DESC LIMIT ?4 OFFSET ?5",
                       &q->list, err, n)) ||
        (out = prepare(q, "SELECT count(*) FROM calls" LIST_WHERE, &q->list_count, err, n)) ||
        (out = prepare(q,
                       "SELECT count(*), coalesce(sum(kind = 'upload'), 0), coalesce(sum(kind = 'live'), 0), "
                       "coalesce(sum(status = 'in_progress'), 0), coalesce(sum(status = 'interrupted'), 0) FROM calls",
                       &q->counts, err, n)) ||
        (out = prepare(q, STORE_QUEUE_NEXT_SELECT, &q->next, err, n)) ||
        (out = prepare(q, "SELECT dispatch_state, claimed_by FROM calls WHERE id = ?1", &q->lock_row, err, n)) ||
        (out = prepare(q,
                       "UPDATE calls SET dispatch_state = ?2, claimed_by = ?3, waiting_since = CASE WHEN ?4 THEN ?5 "
                       "ELSE waiting_since END, duplicate_of = coalesce(?6, duplicate_of), queue_override = "
                       "coalesce(?7, queue_override), dispatch_updated_at = ?5 WHERE id = ?1",
                       &q->dispatch_update, err, n)) ||
        (out = prepare(q,
                       "INSERT INTO call_history (call_id, seq, at, actor, action, from_state, to_state, note) VALUES "
                       "(?1, (SELECT coalesce(max(seq), 0) + 1 FROM call_history WHERE call_id = ?1), ?2, ?3, ?4, ?5, "
                       "?6, ?7)",
                       &q->history_insert, err, n)) ||
        (out = prepare(q, "SELECT " STORE_HISTORY_COLUMNS " FROM call_history WHERE call_id = ?1 ORDER BY seq",
                       &q->history, err, n)) ||
        (out = prepare(q, STORE_QUEUE_SELECT " LIMIT ?1", &q->queue, err, n)) ||
        (out = prepare(q, "SELECT count(*) FROM calls WHERE dispatch_state IN ('waiting', 'claimed')", &q->queue_count,
                       err, n)) ||
        (out = prepare(q,
                       "SELECT " STORE_CALL_COLUMNS " FROM calls WHERE claimed_by = ?1 AND " STORE_HELD_STATES
                       STORE_QUEUE_ORDER " LIMIT ?2",
                       &q->held, err, n)) ||
        (out = prepare(q, "SELECT count(*) FROM calls WHERE claimed_by = ?1 AND " STORE_HELD_STATES, &q->held_count, err,
                       n)))
        return out;
    return TRIDENT_OK;
}

int store_sqlite_open(store *s, const char *path, const store_options *opt, char *err, size_t n) {
    sqlite_store *q = calloc(1, sizeof *q);
    if (!q) return error_set(err, n, TRIDENT_ENOMEM, "out of memory opening the store");
    if (pthread_mutex_init(&q->lock, NULL) != 0) {
        free(q);
        return error_set(err, n, TRIDENT_ENOMEM, "cannot create the store's mutex");
    }
    int out = open_connection(q, path, opt, s, err, n);
    if (out) {
        sq_close(q);
        return out;
    }
    s->ops = &sqlite_backend;
    s->impl = q;
    if (strcmp(path, ":memory:") == 0) {
        snprintf(s->location, sizeof s->location, ":memory:");
        return TRIDENT_OK;
    }
    char real[PATH_MAX];
    if (!realpath(path, real)) snprintf(real, sizeof real, "%s", path);
    snprintf(s->location, sizeof s->location, "%s", real);
    return TRIDENT_OK;
}
