/* postgres.c — the PostgreSQL backend of the call store (libpq), for several
 * TRIDENT instances sharing one database.
 *
 * One connection per store, guarded by one mutex (pg_store.lock), like the
 * SQLite backend. Every data statement is prepared once (PQprepare) and run
 * with text parameters (PQexecPrepared); the only SQL sent as text is the
 * constant schema. A broken connection is reset (and the statements prepared
 * again) before the next statement; a statement that fails mid-flight is
 * reported, never silently retried.
 *
 * Schema: the same migrations as SQLite (store/schema.c), applied in one
 * transaction that holds an advisory lock, so instances starting together
 * migrate once. The tables live in the connection's search_path schema.
 *
 * Crash recovery: store_options.recover_interrupted is ignored here — other
 * instances may be writing the calls that are in progress; they are left
 * alone and counted in store_counts.in_progress. Recordings: only where
 * store_options.recordings_dir says (no database directory to put them in). */
#include "store/backend.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"

/* Serialises migrations between instances (any constant; "TRID"). */
#define PG_MIGRATION_LOCK "1414678852"

typedef struct {
    PGconn *conn;
    pthread_mutex_t lock;
    char *url; /* for the listener's connection of its own */
} pg_store;

/* A call finalised as abandoned (no speech) leaves the queue at once ($1: the new status). */
#define PG_ABANDONED_CANCELS "dispatch_state = CASE WHEN $1::text = 'abandoned' THEN 'cancelled' ELSE dispatch_state END"

#define PG_LIST_WHERE                                                                             \
    " WHERE ($1::text IS NULL OR kind = $1::text) AND ($2::text IS NULL OR status = $2::text)" \
    " AND ($3::text IS NULL OR queue = $3::text)"

static const struct {
    const char *name;
    int nparams;
    const char *sql;
} pg_statements[] = {
    {"trident_notify", 1, "SELECT pg_notify('" STORE_NOTIFY_CHANNEL "', $1::text)"},
    {"trident_insert", 20,
     "INSERT INTO calls " STORE_INSERT_COLUMNS
     " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $4, $4)"},
    {"trident_update_fields", 17,
     "UPDATE calls SET status = $1::text, updated_at = $2::double precision, "
     "audio_path = CASE WHEN $5::integer = 1 THEN audio_path ELSE $4::text END, "
     "duration_s = $6, transcript = $7, confidence = $8, content_score = $9, distress_score = $10, queue = $11, "
     "priority_level = $12, flag_audio_review = $13, escalation_required = $14, analysis_json = $15, "
     "utterance_count = $16, status_reason = $17, " PG_ABANDONED_CANCELS " WHERE id = $3::text AND status = 'in_progress'"},
    {"trident_update_status", 5,
     "UPDATE calls SET status = $1::text, updated_at = $2::double precision, "
     "audio_path = CASE WHEN $5::integer = 1 THEN audio_path ELSE $4::text END, " PG_ABANDONED_CANCELS
     " WHERE id = $3::text AND status = 'in_progress'"},
    {"trident_status_of", 1, "SELECT status FROM calls WHERE id = $1::text"},
    {"trident_get", 1, "SELECT " STORE_CALL_COLUMNS " FROM calls WHERE id = $1::text"},
    {"trident_list", 5,
     "SELECT " STORE_CALL_COLUMNS " FROM calls" PG_LIST_WHERE
     " ORDER BY created_at DESC, id COLLATE \"C\" DESC LIMIT $4::bigint OFFSET $5::bigint"},
    {"trident_list_count", 3, "SELECT count(*) FROM calls" PG_LIST_WHERE},
    {"trident_counts", 0,
     "SELECT count(*), coalesce(sum(CASE WHEN kind = 'upload' THEN 1 ELSE 0 END), 0), "
     "coalesce(sum(CASE WHEN kind = 'live' THEN 1 ELSE 0 END), 0), "
     "coalesce(sum(CASE WHEN status = 'in_progress' THEN 1 ELSE 0 END), 0), "
     "coalesce(sum(CASE WHEN status = 'interrupted' THEN 1 ELSE 0 END), 0) FROM calls"},
    /* Row locks taken inside a dispatch transaction: the next waiting call
     * skips rows another transaction holds, so concurrent claim-next calls on
     * any number of instances each get a different call. */
    {"trident_next", 0, STORE_QUEUE_NEXT_SELECT " FOR UPDATE SKIP LOCKED"},
    {"trident_lock_row", 1, "SELECT dispatch_state, claimed_by FROM calls WHERE id = $1::text FOR UPDATE"},
    {"trident_dispatch_update", 7,
     "UPDATE calls SET dispatch_state = $2::text, claimed_by = $3::text, waiting_since = CASE WHEN $4::integer = 1 "
     "THEN $5::double precision ELSE waiting_since END, duplicate_of = coalesce($6::text, duplicate_of), "
     "queue_override = coalesce($7::text, queue_override), dispatch_updated_at = $5::double precision "
     "WHERE id = $1::text"},
    {"trident_history_insert", 7,
     "INSERT INTO call_history (call_id, seq, at, actor, action, from_state, to_state, note) VALUES ($1::text, "
     "(SELECT coalesce(max(seq), 0) + 1 FROM call_history WHERE call_id = $1::text), $2, $3, $4, $5, $6, $7)"},
    {"trident_history", 1, "SELECT " STORE_HISTORY_COLUMNS " FROM call_history WHERE call_id = $1::text ORDER BY seq"},
    {"trident_queue", 1, STORE_QUEUE_SELECT " LIMIT $1::bigint"},
    {"trident_queue_count", 0, "SELECT count(*) FROM calls WHERE dispatch_state IN ('waiting', 'claimed')"},
    {"trident_held", 2,
     "SELECT " STORE_CALL_COLUMNS " FROM calls WHERE claimed_by = $1::text AND " STORE_HELD_STATES STORE_QUEUE_ORDER
     " LIMIT $2::bigint"},
    {"trident_held_count", 1, "SELECT count(*) FROM calls WHERE claimed_by = $1::text AND " STORE_HELD_STATES},
};

/* ---- errors and execution ------------------------------------------------- */

/* Copies a libpq message without its trailing newline. */
static void pg_message(const char *msg, char *out, size_t n) {
    snprintf(out, n, "%s", msg ? msg : "unknown error");
    size_t len = strlen(out);
    while (len && (out[len - 1] == '\n' || out[len - 1] == ' ')) out[--len] = '\0';
}

static int pg_result_error(pg_store *q, PGresult *res, const char *what, char *err, size_t n) {
    char msg[TRIDENT_ERR_SIZE];
    pg_message(res ? PQresultErrorMessage(res) : PQerrorMessage(q->conn), msg, sizeof msg);
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (!res || PQstatus(q->conn) != CONNECTION_OK || (state && strncmp(state, "08", 2) == 0))
        return error_set(err, n, TRIDENT_EIO, "%s: lost the PostgreSQL connection: %s", what, msg);
    if (state && strcmp(state, "53100") == 0) return error_set(err, n, TRIDENT_EIO, "%s: disk full: %s", what, msg);
    if (state && strcmp(state, "53200") == 0) return error_set(err, n, TRIDENT_ENOMEM, "%s: %s", what, msg);
    return error_set(err, n, TRIDENT_EDB, "%s: %s", what, msg);
}

/* Runs constant SQL (no parameters); returns 0 or a TRIDENT_E* code. */
static int pg_exec_sql(pg_store *q, const char *sql, const char *what, char *err, size_t n) {
    PGresult *res = PQexec(q->conn, sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    int out = (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) ? TRIDENT_OK : pg_result_error(q, res, what, err, n);
    PQclear(res);
    return out;
}

static int pg_prepare_all(pg_store *q, char *err, size_t n) {
    int out = pg_exec_sql(q, "SET extra_float_digits = 3", "configuring the session", err, n);
    for (size_t i = 0; !out && i < sizeof pg_statements / sizeof pg_statements[0]; i++) {
        PGresult *res = PQprepare(q->conn, pg_statements[i].name, pg_statements[i].sql, pg_statements[i].nparams, NULL);
        if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) out = pg_result_error(q, res, "preparing a statement", err, n);
        PQclear(res);
    }
    return out;
}

/* Makes sure the connection is usable: resets a broken one and prepares again. */
static int pg_ensure(pg_store *q, char *err, size_t n) {
    if (PQstatus(q->conn) == CONNECTION_OK) return TRIDENT_OK;
    log_warn("store", "PostgreSQL connection lost, reconnecting");
    PQreset(q->conn);
    if (PQstatus(q->conn) != CONNECTION_OK) {
        char msg[TRIDENT_ERR_SIZE];
        pg_message(PQerrorMessage(q->conn), msg, sizeof msg);
        return error_set(err, n, TRIDENT_EIO, "cannot reconnect to PostgreSQL: %s", msg);
    }
    return pg_prepare_all(q, err, n);
}

/* Runs a prepared statement; on success *res holds the result (PQclear it). */
static int pg_run(pg_store *q, int stmt, const char *const *values, PGresult **res, const char *what, char *err,
                  size_t n) {
    *res = NULL;
    int out = pg_ensure(q, err, n);
    if (out) return out;
    PGresult *r = PQexecPrepared(q->conn, pg_statements[stmt].name, pg_statements[stmt].nparams, values, NULL, NULL, 0);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
        if (state && strcmp(state, "23505") == 0) out = error_set(err, n, TRIDENT_EINVAL, "a call with that id already exists");
        else out = pg_result_error(q, r, what, err, n);
        PQclear(r);
        return out;
    }
    *res = r;
    return TRIDENT_OK;
}

enum {
    ST_NOTIFY, ST_INSERT, ST_UPDATE_FIELDS, ST_UPDATE_STATUS, ST_STATUS_OF, ST_GET, ST_LIST, ST_LIST_COUNT, ST_COUNTS, ST_NEXT,
    ST_LOCK_ROW, ST_DISPATCH_UPDATE, ST_HISTORY_INSERT, ST_HISTORY, ST_QUEUE, ST_QUEUE_COUNT, ST_HELD, ST_HELD_COUNT
};

/* ---- parameters and rows -------------------------------------------------- */

/* Text forms of numeric parameters: doubles round-trip exactly with %.17g. */
typedef struct {
    char buf[16][32];
    int used;
} pg_numbers;

static const char *num_double(pg_numbers *b, double v) {
    char *s = b->buf[b->used++];
    snprintf(s, sizeof b->buf[0], "%.17g", v);
    return s;
}

static const char *num_int(pg_numbers *b, long long v) {
    char *s = b->buf[b->used++];
    snprintf(s, sizeof b->buf[0], "%lld", v);
    return s;
}

/* Fills 12 parameters (duration .. status_reason) from f. */
static void fields_params(const char **p, pg_numbers *b, const store_fields *f) {
    p[0] = num_double(b, f->duration_s);
    p[1] = f->transcript ? f->transcript : "";
    p[2] = num_double(b, f->confidence);
    p[3] = num_double(b, f->content_score);
    p[4] = num_double(b, f->distress_score);
    p[5] = f->queue;
    p[6] = num_int(b, f->priority_level);
    p[7] = num_int(b, f->flag_audio_review ? 1 : 0);
    p[8] = num_int(b, f->escalation_required ? 1 : 0);
    p[9] = f->analysis_json;
    p[10] = num_int(b, f->utterance_count);
    p[11] = f->status_reason;
}

static double val_double(PGresult *r, int row, int col) { return strtod(PQgetvalue(r, row, col), NULL); }
static long long val_int(PGresult *r, int row, int col) { return strtoll(PQgetvalue(r, row, col), NULL, 10); }

/* store_row_reader over one row of a result selecting STORE_CALL_COLUMNS. */
typedef struct {
    PGresult *res;
    int row;
} pg_row;

static const char *col_text(void *row, store_column col, int *failed) {
    const pg_row *p = row;
    (void)failed; /* libpq holds every value as text already */
    return PQgetisnull(p->res, p->row, (int)col) ? NULL : PQgetvalue(p->res, p->row, (int)col);
}

static double col_real(void *row, store_column col) {
    const pg_row *p = row;
    return val_double(p->res, p->row, (int)col);
}

static long long col_integer(void *row, store_column col) {
    const pg_row *p = row;
    return val_int(p->res, p->row, (int)col);
}

/* Fills c from row `row` of r. Returns 0 or TRIDENT_ENOMEM. */
static int row_read(PGresult *r, int row, store_call *c) {
    pg_row p = {.res = r, .row = row};
    const store_row_reader reader = {.row = &p, .text = col_text, .real = col_real, .integer = col_integer};
    return store_call_row_read(&reader, c);
}

/* ---- backend functions ---------------------------------------------------- */

static int pg_insert(void *impl, const store_row *row, char *err, size_t n) {
    pg_store *q = impl;
    pg_numbers b = {.used = 0};
    const char *p[20];
    p[0] = row->id;
    p[1] = store_kind_name(row->kind);
    p[2] = store_status_name(row->status);
    p[3] = num_double(&b, row->now);
    p[4] = p[3];
    fields_params(p + 5, &b, row->fields);
    p[17] = row->audio_path;
    p[18] = row->filename;
    p[19] = row->caller;
    pthread_mutex_lock(&q->lock);
    PGresult *res = NULL;
    int out = pg_run(q, ST_INSERT, p, &res, "storing a call", err, n);
    PQclear(res);
    pthread_mutex_unlock(&q->lock);
    if (out == TRIDENT_EINVAL) error_set(err, n, TRIDENT_EINVAL, "a call with id %s already exists", row->id);
    return out;
}

static int pg_update(void *impl, const char *id, store_status new_status, double now, const store_fields *fields,
                     const char *audio_path, char *err, size_t n) {
    pg_store *q = impl;
    pg_numbers b = {.used = 0};
    const char *p[17];
    int keep_audio = new_status == STORE_STATUS_IN_PROGRESS;
    p[0] = store_status_name(new_status);
    p[1] = num_double(&b, now);
    p[2] = id;
    p[3] = keep_audio ? NULL : audio_path;
    p[4] = num_int(&b, keep_audio);
    if (fields) fields_params(p + 5, &b, fields);
    pthread_mutex_lock(&q->lock);
    PGresult *res = NULL;
    /* One UPDATE statement: atomic on its own (autocommit). */
    int out = pg_run(q, fields ? ST_UPDATE_FIELDS : ST_UPDATE_STATUS, p, &res, "updating a call", err, n);
    if (!out && strcmp(PQcmdTuples(res), "0") == 0) {
        PQclear(res);
        const char *sp[1] = {id};
        out = pg_run(q, ST_STATUS_OF, sp, &res, "reading a call's status", err, n);
        if (!out) {
            if (PQntuples(res) > 0)
                out = error_set(err, n, TRIDENT_EINVAL, "call %s is %s, not in progress", id, PQgetvalue(res, 0, 0));
            else out = error_set(err, n, TRIDENT_ENOTFOUND, "call %s not found", id);
        }
    }
    PQclear(res);
    pthread_mutex_unlock(&q->lock);
    return out;
}

static int pg_get(void *impl, const char *id, store_call **out, char *err, size_t n) {
    pg_store *q = impl;
    const char *p[1] = {id};
    pthread_mutex_lock(&q->lock);
    PGresult *res = NULL;
    int rc = pg_run(q, ST_GET, p, &res, "reading a call", err, n);
    store_call *c = NULL;
    if (!rc && PQntuples(res) == 0) rc = error_set(err, n, TRIDENT_ENOTFOUND, "call %s not found", id);
    if (!rc) {
        c = calloc(1, sizeof *c);
        if (!c || row_read(res, 0, c) != TRIDENT_OK) rc = error_set(err, n, TRIDENT_ENOMEM, "out of memory reading a call");
    }
    PQclear(res);
    pthread_mutex_unlock(&q->lock);
    if (rc) {
        store_call_free(c);
        return rc;
    }
    *out = c;
    return TRIDENT_OK;
}

/* A page of calls and the count of all that match, in one snapshot: count_stmt
 * (with count_params) then list_stmt (with list_params); what names it in errors. */
static int pg_page_read(pg_store *q, int count_stmt, const char *const *count_params, int list_stmt,
                        const char *const *list_params, const char *what, store_page *page, char *err, size_t n) {
    store_call *items = NULL;
    size_t count = 0;
    int64_t total = 0;
    pthread_mutex_lock(&q->lock);
    int out = pg_ensure(q, err, n);
    if (!out) out = pg_exec_sql(q, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "starting a read", err, n);
    int in_tx = out == TRIDENT_OK;
    PGresult *res = NULL;
    if (!out) out = pg_run(q, count_stmt, count_params, &res, what, err, n);
    if (!out) total = val_int(res, 0, 0);
    PQclear(res);
    res = NULL;
    if (!out) out = pg_run(q, list_stmt, list_params, &res, what, err, n);
    if (!out) {
        int rows = PQntuples(res);
        items = calloc(rows > 0 ? (size_t)rows : 1, sizeof *items);
        if (!items) out = error_set(err, n, TRIDENT_ENOMEM, "out of memory %s", what);
        for (int i = 0; !out && i < rows; i++) {
            int r = row_read(res, i, &items[count]);
            count++;
            if (r) out = error_set(err, n, r, "out of memory %s", what);
        }
    }
    PQclear(res);
    if (in_tx) pg_exec_sql(q, out ? "ROLLBACK" : "COMMIT", "ending a read", NULL, 0);
    pthread_mutex_unlock(&q->lock);
    return store_page_finish(page, items, count, total, out);
}

static int pg_list(void *impl, const store_filter *f, store_page *page, char *err, size_t n) {
    pg_numbers b = {.used = 0};
    const char *p[5];
    p[0] = f->kind == STORE_KIND_ANY ? NULL : store_kind_name(f->kind);
    p[1] = f->status == STORE_STATUS_ANY ? NULL : store_status_name(f->status);
    p[2] = f->queue;
    p[3] = num_int(&b, f->limit);
    p[4] = num_int(&b, f->offset);
    return pg_page_read(impl, ST_LIST_COUNT, p, ST_LIST, p, "listing calls", page, err, n);
}

/* The body of pg_dispatch, inside its transaction. */
static int dispatch_locked(pg_store *q, const char *id, const store_dispatch_request *req, double now,
                           char acted[STORE_ID_SIZE], char *err, size_t n) {
    PGresult *res = NULL;
    int out = TRIDENT_OK;
    if (!id) {
        out = pg_run(q, ST_NEXT, NULL, &res, "finding the next waiting call", err, n);
        if (!out && PQntuples(res) == 0) out = error_set(err, n, TRIDENT_ENOTFOUND, "no call is waiting");
        if (!out) snprintf(acted, STORE_ID_SIZE, "%s", PQgetvalue(res, 0, 0));
        PQclear(res);
        if (out) return out;
    } else {
        snprintf(acted, STORE_ID_SIZE, "%s", id);
    }
    const char *p1[1] = {acted};
    out = pg_run(q, ST_LOCK_ROW, p1, &res, "reading a call's dispatch state", err, n);
    if (!out && PQntuples(res) == 0) out = error_set(err, n, TRIDENT_ENOTFOUND, "call %s not found", acted);
    char state[32] = "", holder[STORE_ACTOR_MAX + 1] = "";
    int no_holder = 1;
    if (!out) {
        snprintf(state, sizeof state, "%s", PQgetvalue(res, 0, 0));
        no_holder = PQgetisnull(res, 0, 1);
        snprintf(holder, sizeof holder, "%s", PQgetvalue(res, 0, 1));
    }
    PQclear(res);
    if (out) return out;
    if (req->action == STORE_ACTION_DUPLICATE) {
        const char *po[1] = {req->of};
        out = pg_run(q, ST_STATUS_OF, po, &res, "reading the original call", err, n);
        if (!out && PQntuples(res) == 0) out = error_set(err, n, TRIDENT_ENOTFOUND, "the original call %s not found", req->of);
        PQclear(res);
        if (out) return out;
    }
    store_dispatch_state cur = store_dispatch_parse(state);
    store_dispatch_decision d;
    if ((out = store_dispatch_decide(acted, req, cur, no_holder ? NULL : holder, &d, err, n))) return out;
    pg_numbers b = {.used = 0};
    const char *now_s = num_double(&b, now);
    const char *pu[7] = {acted, store_dispatch_name(d.to), d.claimed_by, num_int(&b, d.wait_again), now_s,
                         req->action == STORE_ACTION_DUPLICATE ? req->of : NULL,
                         req->action == STORE_ACTION_OVERRIDE ? req->queue : NULL};
    out = pg_run(q, ST_DISPATCH_UPDATE, pu, &res, "updating a call's dispatch state", err, n);
    PQclear(res);
    if (out) return out;
    const char *ph[7] = {acted, now_s, req->actor, store_action_name(req->action), store_dispatch_name(cur),
                         store_dispatch_name(d.to), req->note};
    out = pg_run(q, ST_HISTORY_INSERT, ph, &res, "appending to a call's history", err, n);
    PQclear(res);
    return out;
}

static int pg_dispatch(void *impl, const char *id, const store_dispatch_request *req, double now,
                       char acted[STORE_ID_SIZE], char *err, size_t n) {
    pg_store *q = impl;
    pthread_mutex_lock(&q->lock);
    int out = pg_ensure(q, err, n);
    if (!out) out = pg_exec_sql(q, "BEGIN", "starting a transaction", err, n);
    if (!out) {
        out = dispatch_locked(q, id, req, now, acted, err, n);
        if (!out) out = pg_exec_sql(q, "COMMIT", "committing a dispatch change", err, n);
        if (out) pg_exec_sql(q, "ROLLBACK", "rolling back", NULL, 0);
    }
    pthread_mutex_unlock(&q->lock);
    return out;
}

static int pg_queue(void *impl, const char *holder, int64_t limit, store_page *page, char *err, size_t n) {
    pg_numbers b = {.used = 0};
    if (holder) {
        const char *p[2] = {holder, num_int(&b, limit)};
        return pg_page_read(impl, ST_HELD_COUNT, p, ST_HELD, p, "listing the calls a dispatcher holds", page, err, n);
    }
    const char *p[1] = {num_int(&b, limit)};
    return pg_page_read(impl, ST_QUEUE_COUNT, NULL, ST_QUEUE, p, "listing the queue", page, err, n);
}

static int pg_history(void *impl, const char *id, store_history_entry **outp, size_t *count, char *err, size_t n) {
    pg_store *q = impl;
    const char *p[1] = {id};
    pthread_mutex_lock(&q->lock);
    PGresult *res = NULL;
    int out = pg_run(q, ST_HISTORY, p, &res, "reading a call's history", err, n);
    store_history_entry *h = NULL;
    int rows = out ? 0 : PQntuples(res);
    if (rows > 0) {
        h = calloc((size_t)rows, sizeof *h);
        if (!h) out = error_set(err, n, TRIDENT_ENOMEM, "out of memory reading a call's history");
    }
    int failed = 0;
    for (int i = 0; h && i < rows; i++) {
        h[i].seq = (int)val_int(res, i, 0);
        h[i].at = val_double(res, i, 1);
        h[i].actor = store_strdup_or_null(PQgetvalue(res, i, 2), &failed);
        h[i].action = store_strdup_or_null(PQgetvalue(res, i, 3), &failed);
        h[i].from_state = store_strdup_or_null(PQgetvalue(res, i, 4), &failed);
        h[i].to_state = store_strdup_or_null(PQgetvalue(res, i, 5), &failed);
        h[i].note = PQgetisnull(res, i, 6) ? NULL : store_strdup_or_null(PQgetvalue(res, i, 6), &failed);
    }
    PQclear(res);
    pthread_mutex_unlock(&q->lock);
    if (!out && failed) out = error_set(err, n, TRIDENT_ENOMEM, "out of memory reading a call's history");
    if (out) {
        store_history_free(h, h ? (size_t)rows : 0);
        return out;
    }
    *outp = h;
    *count = (size_t)rows;
    return TRIDENT_OK;
}

static int pg_counts(void *impl, store_counts *c, char *err, size_t n) {
    pg_store *q = impl;
    pthread_mutex_lock(&q->lock);
    PGresult *res = NULL;
    int out = pg_run(q, ST_COUNTS, NULL, &res, "counting calls", err, n);
    if (!out) {
        c->total_calls = val_int(res, 0, 0);
        c->uploads = val_int(res, 0, 1);
        c->live_calls_saved = val_int(res, 0, 2);
        c->in_progress = val_int(res, 0, 3);
        c->interrupted = val_int(res, 0, 4);
    }
    PQclear(res);
    pthread_mutex_unlock(&q->lock);
    return out;
}

/* ---- notifications -------------------------------------------------------- */

static int pg_notify(void *impl, const char *payload, char *err, size_t n) {
    pg_store *q = impl;
    const char *p[1] = {payload};
    PGresult *res = NULL;
    pthread_mutex_lock(&q->lock);
    int out = pg_run(q, ST_NOTIFY, p, &res, "sending a change notification", err, n);
    pthread_mutex_unlock(&q->lock);
    PQclear(res);
    return out;
}

/* The listener: a connection of its own, LISTENing on the channel (application_name
 * trident_events, so an operator can tell it apart). */
static int pg_listener_open(void *impl, void **out, char *err, size_t n) {
    pg_store *q = impl;
    const char *keys[] = {"dbname", "application_name", NULL};
    const char *values[] = {q->url, STORE_NOTIFY_CHANNEL, NULL};
    PGconn *c = PQconnectdbParams(keys, values, 1); /* expand_dbname: the URL is the connection string */
    if (!c) return error_set(err, n, TRIDENT_ENOMEM, "out of memory connecting the change listener");
    int rc = TRIDENT_OK;
    if (PQstatus(c) != CONNECTION_OK) {
        char msg[TRIDENT_ERR_SIZE];
        pg_message(PQerrorMessage(c), msg, sizeof msg);
        rc = error_set(err, n, TRIDENT_EIO, "the change listener cannot connect to PostgreSQL: %s", msg);
    } else {
        PGresult *res = PQexec(c, "LISTEN " STORE_NOTIFY_CHANNEL);
        if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) {
            char msg[TRIDENT_ERR_SIZE];
            pg_message(PQerrorMessage(c), msg, sizeof msg);
            rc = error_set(err, n, TRIDENT_EIO, "the change listener cannot LISTEN: %s", msg);
        }
        PQclear(res);
    }
    if (rc) {
        PQfinish(c);
        return rc;
    }
    *out = c;
    return TRIDENT_OK;
}

static int pg_listener_wait(void *listener, int timeout_ms, char **payload, char *err, size_t n) {
    PGconn *c = listener;
    for (int round = 0; round < 2; round++) {
        if (!PQconsumeInput(c) || PQstatus(c) != CONNECTION_OK) {
            char msg[TRIDENT_ERR_SIZE];
            pg_message(PQerrorMessage(c), msg, sizeof msg);
            return error_set(err, n, TRIDENT_EIO, "the change listener lost its PostgreSQL connection: %s", msg);
        }
        PGnotify *nt = PQnotifies(c);
        if (nt) {
            *payload = strdup(nt->extra ? nt->extra : "");
            PQfreemem(nt);
            if (!*payload) return error_set(err, n, TRIDENT_ENOMEM, "out of memory reading a notification");
            return 1;
        }
        if (round) break;
        struct pollfd pfd = {.fd = PQsocket(c), .events = POLLIN};
        if (pfd.fd < 0) return error_set(err, n, TRIDENT_EIO, "the change listener has no PostgreSQL connection");
        int r = poll(&pfd, 1, timeout_ms);
        if (r < 0 && errno != EINTR) return error_set(err, n, TRIDENT_EIO, "waiting for notifications: %s", strerror(errno));
        if (r <= 0) return 0;
    }
    return 0;
}

static void pg_listener_close(void *listener) { PQfinish(listener); }

static int pg_exec(void *impl, const store_stmt *stmts, size_t n_stmts, const char *const *params, store_rows *out,
                   char *err, size_t n) {
    pg_store *q = impl;
    if (out) memset(out, 0, sizeof *out);
    pthread_mutex_lock(&q->lock);
    int res = pg_ensure(q, err, n);
    if (!res && n_stmts > 1) res = pg_exec_sql(q, "BEGIN", "starting a transaction", err, n);
    for (size_t i = 0; !res && i < n_stmts; i++) {
        PGresult *r = PQexecParams(q->conn, stmts[i].sql, stmts[i].nparams, NULL, params, NULL, NULL, 0);
        ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
            if (state && (strcmp(state, "23505") == 0 || strcmp(state, "23503") == 0)) {
                char msg[TRIDENT_ERR_SIZE];
                pg_message(PQresultErrorMessage(r), msg, sizeof msg);
                res = error_set(err, n, TRIDENT_ECONFLICT, "%s", msg);
            } else {
                res = pg_result_error(q, r, "running a statement", err, n);
            }
        } else if (out && i + 1 == n_stmts) {
            const char *tuples = PQcmdTuples(r);
            out->changes = tuples && *tuples ? strtoll(tuples, NULL, 10) : 0;
            int rows = PQntuples(r), cols = PQnfields(r);
            if (rows > 0 && cols > 0) {
                out->cells = calloc((size_t)rows * (size_t)cols, sizeof *out->cells);
                if (!out->cells) res = error_set(err, n, TRIDENT_ENOMEM, "out of memory reading rows");
            }
            for (int row = 0; out->cells && row < rows; row++)
                for (int c = 0; c < cols; c++) {
                    if (PQgetisnull(r, row, c)) continue;
                    char *v = strdup(PQgetvalue(r, row, c));
                    if (!v) res = error_set(err, n, TRIDENT_ENOMEM, "out of memory reading rows");
                    out->cells[(size_t)row * (size_t)cols + (size_t)c] = v;
                }
            out->rows = out->cells ? rows : 0;
            out->cols = cols;
        }
        PQclear(r);
    }
    if (!res && n_stmts > 1) res = pg_exec_sql(q, "COMMIT", "committing a transaction", err, n);
    if (res && n_stmts > 1) pg_exec_sql(q, "ROLLBACK", "rolling back", NULL, 0);
    pthread_mutex_unlock(&q->lock);
    if (res && out) store_rows_clear(out);
    return res;
}

static void pg_close(void *impl) {
    pg_store *q = impl;
    if (!q) return;
    free(q->url);
    PQfinish(q->conn);
    pthread_mutex_destroy(&q->lock);
    free(q);
}

static const store_backend postgres_backend = {
    .name = "postgresql",
    .close = pg_close,
    .exec = pg_exec,
    .insert = pg_insert,
    .update = pg_update,
    .get = pg_get,
    .list = pg_list,
    .counts = pg_counts,
    .dispatch = pg_dispatch,
    .queue = pg_queue,
    .history = pg_history,
    .notify = pg_notify,
    .listener_open = pg_listener_open,
    .listener_wait = pg_listener_wait,
    .listener_close = pg_listener_close,
};

/* ---- open and migrate ----------------------------------------------------- */

/* One integer from constant SQL. */
static int pg_query_int(pg_store *q, const char *sql, long long *v, const char *what, char *err, size_t n) {
    PGresult *res = PQexec(q->conn, sql);
    int out = TRIDENT_OK;
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) < 1) out = pg_result_error(q, res, what, err, n);
    else *v = PQgetisnull(res, 0, 0) ? 0 : val_int(res, 0, 0);
    PQclear(res);
    return out;
}

static int pg_migrate(pg_store *q, const char *where, int *version, char *err, size_t n) {
    int out = pg_exec_sql(q, "BEGIN", "starting the schema migration", err, n);
    if (out) return out;
    long long has_version = 0, has_calls = 0, current = 0;
    out = pg_exec_sql(q, "SELECT pg_advisory_xact_lock(" PG_MIGRATION_LOCK ")", "locking the schema", err, n);
    if (!out)
        out = pg_query_int(q, "SELECT (to_regclass('schema_version') IS NOT NULL)::integer", &has_version,
                           "reading the schema", err, n);
    if (!out && !has_version) {
        out = pg_query_int(q, "SELECT (to_regclass('calls') IS NOT NULL)::integer", &has_calls, "reading the schema",
                           err, n);
        if (!out && has_calls)
            out = error_set(err, n, TRIDENT_EFORMAT,
                            "PostgreSQL database %s has a calls table but no schema_version: not a TRIDENT call store",
                            where);
        if (!out) out = pg_exec_sql(q, STORE_SCHEMA_VERSION_TABLE, "creating the schema_version table", err, n);
    }
    if (!out)
        out = pg_query_int(q, "SELECT coalesce(max(version), 0) FROM schema_version", &current,
                           "reading the schema version", err, n);
    if (!out && current > STORE_SCHEMA_VERSION)
        out = error_set(err, n, TRIDENT_EUNSUPPORTED,
                        "PostgreSQL database %s has schema version %lld, newer than this build of trident understands "
                        "(%d); use a newer trident or another database",
                        where, current, STORE_SCHEMA_VERSION);
    for (int v = (int)current + 1; !out && v <= STORE_SCHEMA_VERSION; v++) {
        char what[64];
        snprintf(what, sizeof what, "applying schema migration %d", v);
        out = pg_exec_sql(q, store_schema_sql(v), what, err, n);
        if (!out) {
            pg_numbers b = {.used = 0};
            const char *p[2] = {num_int(&b, v), num_double(&b, clock_wall_s())};
            PGresult *res =
                PQexecParams(q->conn, "INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)", 2, NULL, p,
                             NULL, NULL, 0);
            if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) out = pg_result_error(q, res, what, err, n);
            PQclear(res);
        }
        if (!out && v == 3) {
            pg_numbers b = {.used = 0};
            const char *p[1] = {num_double(&b, clock_wall_s() - STORE_MIGRATION_RESOLVED_AGE_S)};
            PGresult *res = PQexecParams(q->conn, STORE_MIGRATION_3_AGE_SQL, 1, NULL, p, NULL, NULL, 0);
            if (!res || PQresultStatus(res) != PGRES_COMMAND_OK) out = pg_result_error(q, res, what, err, n);
            PQclear(res);
        }
        if (!out) log_info("store", "applied schema migration version=%d", v);
    }
    if (!out) out = pg_exec_sql(q, "COMMIT", "committing the schema migration", err, n);
    if (out) pg_exec_sql(q, "ROLLBACK", "rolling back", NULL, 0);
    else *version = STORE_SCHEMA_VERSION;
    return out;
}

/* The URL without password or query (which may hold one) for messages and /health. */
static void url_redact(const char *url, char *out, size_t n) {
    const char *scheme_end = strstr(url, "://");
    if (!scheme_end) {
        snprintf(out, n, "postgresql://");
        return;
    }
    const char *auth = scheme_end + 3;
    size_t auth_len = strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *c = auth; c < auth + auth_len; c++)
        if (*c == '@') at = c;
    const char *host = at ? at + 1 : auth;
    int user_len = 0;
    if (at) user_len = (int)strcspn(auth, ":@");
    const char *path = auth + auth_len;
    int path_len = (int)strcspn(path, "?#");
    snprintf(out, n, "%.*s%.*s%s%.*s%.*s", (int)(auth - url), url, user_len, auth, at ? "@" : "",
             (int)(auth + auth_len - host), host, path_len, path);
}

int store_postgres_open(store *s, const char *url, const store_options *opt, char *err, size_t n) {
    url_redact(url, s->location, sizeof s->location);
    pg_store *q = calloc(1, sizeof *q);
    if (!q) return error_set(err, n, TRIDENT_ENOMEM, "out of memory opening the store");
    if (pthread_mutex_init(&q->lock, NULL) != 0) {
        free(q);
        return error_set(err, n, TRIDENT_ENOMEM, "cannot create the store's mutex");
    }
    q->conn = PQconnectdb(url);
    q->url = strdup(url);
    int out = TRIDENT_OK;
    if (!q->conn || !q->url) {
        out = error_set(err, n, TRIDENT_ENOMEM, "out of memory connecting to PostgreSQL");
    } else if (PQstatus(q->conn) != CONNECTION_OK) {
        char msg[TRIDENT_ERR_SIZE];
        pg_message(PQerrorMessage(q->conn), msg, sizeof msg);
        out = error_set(err, n, TRIDENT_EIO, "cannot connect to PostgreSQL at %s: %s", s->location, msg);
    } else if (PQsetClientEncoding(q->conn, "UTF8") != 0) {
        out = error_set(err, n, TRIDENT_EDB, "PostgreSQL at %s does not accept UTF-8", s->location);
    }
    if (!out) out = pg_exec_sql(q, "SET client_min_messages = warning", "configuring the session", err, n);
    if (!out) out = pg_migrate(q, s->location, &s->schema_version, err, n);
    if (!out) out = pg_prepare_all(q, err, n);
    if (out) {
        pg_close(q);
        return out;
    }
    if (opt->recover_interrupted)
        log_info("store", "PostgreSQL: calls in progress are left to the instances that own them");
    s->ops = &postgres_backend;
    s->impl = q;
    return TRIDENT_OK;
}
