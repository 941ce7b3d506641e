/* backend.h — private to src/store: the table of functions a store backend
 * (sqlite.c, postgres.c) implements, and the handle they share with store.c.
 *
 * store.c validates every argument (ids, statuses, filters, analysis JSON,
 * audio paths) before it calls a backend, so backends receive canonical
 * lowercase ids and clamped filters only. */
#ifndef TRIDENT_STORE_BACKEND_H
#define TRIDENT_STORE_BACKEND_H

#include <limits.h>

#include "store/store.h"

/* A row to insert (create / insert_complete). */
typedef struct {
    const char *id;
    store_kind kind;
    store_status status;
    double now;
    const char *filename;
    const char *caller;
    const store_fields *fields; /* never NULL (store.c passes zeroes) */
    const char *audio_path;
} store_row;

/* One statement for store_backend.exec: SQL that SQLite and PostgreSQL both
 * accept, reading its parameters as $1 .. $nparams (the first nparams of the
 * shared parameter array; text, NULL for SQL NULL; each backend converts them
 * to the columns' types). */
typedef struct {
    const char *sql;
    int nparams;
} store_stmt;

/* The rows of store_backend.exec's last statement: cells[r * cols + c] is the
 * text of column c of row r (NULL for SQL NULL), owned (store_rows_clear). */
typedef struct {
    char **cells;
    int rows, cols;
    int64_t changes; /* rows the last statement inserted, updated or deleted */
} store_rows;
void store_rows_clear(store_rows *r);

typedef struct {
    const char *name;
    void (*close)(void *impl);
    /* Runs stmts in order, in one write transaction when there are several;
     * out (may be NULL) receives the last one's rows. A unique or key
     * violation is TRIDENT_ECONFLICT (and rolls back). */
    int (*exec)(void *impl, const store_stmt *stmts, size_t n_stmts, const char *const *params, store_rows *out,
                char *err, size_t n);
    int (*insert)(void *impl, const store_row *row, char *err, size_t n);
    /* Updates fields of an in_progress call; new_status is in_progress (the
     * audio path is kept) or a final status (audio_path is written, NULL
     * unlinks the recording); fields NULL keeps them. */
    int (*update)(void *impl, const char *id, store_status new_status, double now, const store_fields *fields,
                  const char *audio_path, char *err, size_t n);
    int (*get)(void *impl, const char *id, store_call **out, char *err, size_t n);
    int (*list)(void *impl, const store_filter *f, store_page *out, char *err, size_t n);
    int (*counts)(void *impl, store_counts *out, char *err, size_t n);
    /* One dispatch transaction: lock call id (NULL: the first waiting call in
     * queue order, skipping locked rows; none → TRIDENT_ENOTFOUND), decide
     * with store_dispatch_decide, update, append the history row, commit. The
     * id acted on is written to acted_id (also on TRIDENT_ECONFLICT). */
    int (*dispatch)(void *impl, const char *id, const store_dispatch_request *req, double now,
                    char acted_id[STORE_ID_SIZE], char *err, size_t n);
    /* The open queue, or with holder the calls it holds (limit already clamped). */
    int (*queue)(void *impl, const char *holder, int64_t limit, store_page *out, char *err, size_t n);
    int (*history)(void *impl, const char *id, store_history_entry **out, size_t *count, char *err, size_t n);
    /* Notifications (NULL for a store nobody shares): send one; a listener on a
     * connection of its own (open returns it in *out), its wait and close. */
    int (*notify)(void *impl, const char *payload, char *err, size_t n);
    int (*listener_open)(void *impl, void **out, char *err, size_t n);
    int (*listener_wait)(void *listener, int timeout_ms, char **payload, char *err, size_t n);
    void (*listener_close)(void *listener);
} store_backend;

struct store {
    const store_backend *ops;
    void *impl;
    char location[PATH_MAX];       /* path or password-less URL */
    char recordings_dir[PATH_MAX]; /* "" when none */
    int schema_version;
    int64_t recovered;
};

/* Backend constructors: fill s->impl, s->ops, s->schema_version, s->recovered
 * and (SQLite) the default recordings dir; return 0 or TRIDENT_E*. */
int store_sqlite_open(store *s, const char *path, const store_options *opt, char *err, size_t n);
int store_postgres_open(store *s, const char *url, const store_options *opt, char *err, size_t n);

/* ---- shared by the backends (defined in store.c and schema.c) ---- */

/* The columns every backend selects to read a call, in store_column order. */
#define STORE_CALL_COLUMNS                                                                                      \
    "id, kind, status, created_at, updated_at, duration_s, transcript, confidence, content_score, "         \
    "distress_score, queue, priority_level, flag_audio_review, escalation_required, analysis_json, audio_path, " \
    "filename, utterance_count, status_reason, dispatch_state, claimed_by, duplicate_of, queue_override, "     \
    "waiting_since, dispatch_updated_at, caller"

typedef enum {
    STORE_COL_ID = 0,
    STORE_COL_KIND,
    STORE_COL_STATUS,
    STORE_COL_CREATED_AT,
    STORE_COL_UPDATED_AT,
    STORE_COL_DURATION,
    STORE_COL_TRANSCRIPT,
    STORE_COL_CONFIDENCE,
    STORE_COL_CONTENT_SCORE,
    STORE_COL_DISTRESS_SCORE,
    STORE_COL_QUEUE,
    STORE_COL_PRIORITY_LEVEL,
    STORE_COL_FLAG_AUDIO_REVIEW,
    STORE_COL_ESCALATION_REQUIRED,
    STORE_COL_ANALYSIS_JSON,
    STORE_COL_AUDIO_PATH,
    STORE_COL_FILENAME,
    STORE_COL_UTTERANCE_COUNT,
    STORE_COL_STATUS_REASON,
    STORE_COL_DISPATCH_STATE,
    STORE_COL_CLAIMED_BY,
    STORE_COL_DUPLICATE_OF,
    STORE_COL_QUEUE_OVERRIDE,
    STORE_COL_WAITING_SINCE,
    STORE_COL_DISPATCH_UPDATED_AT,
    STORE_COL_CALLER,
} store_column;

/* The column list of an INSERT, in store_row parameter order: id, kind,
 * status, created_at, updated_at, the 12 store_fields columns (duration_s ..
 * status_reason), audio_path, filename, caller (parameter 20); then
 * waiting_since and dispatch_updated_at, both bound to the creation time
 * (parameter 4). Backends add their placeholders. */
#define STORE_INSERT_COLUMNS                                                                                    \
    "(id, kind, status, created_at, updated_at, duration_s, transcript, confidence, content_score, "        \
    "distress_score, queue, priority_level, flag_audio_review, escalation_required, analysis_json, "         \
    "utterance_count, status_reason, audio_path, filename, caller, waiting_since, dispatch_updated_at)"

/* One result row of a query selecting STORE_CALL_COLUMNS, as a backend exposes
 * it to store_call_row_read. */
typedef struct {
    void *row; /* the backend's cursor (a statement, a result and row index) */
    /* The text of column col, or NULL for SQL NULL; borrowed (valid while the
     * row is). Sets *failed when the backend cannot produce it (out of memory). */
    const char *(*text)(void *row, store_column col, int *failed);
    double (*real)(void *row, store_column col);
    long long (*integer)(void *row, store_column col);
} store_row_reader;

/* Fills *c (overwritten) from the row r describes; the strings are copies
 * owned by c. Returns 0 or TRIDENT_ENOMEM; on failure the strings copied so far
 * are still in c: release them with store_call_free or store_page_clear. */
int store_call_row_read(const store_row_reader *r, store_call *c);

/* Ends a backend's list: with rc 0, hands items[0 .. count) and total to page;
 * otherwise frees them (the strings of each item and the array). Returns rc. */
int store_page_finish(store_page *page, store_call *items, size_t count, int64_t total, int rc);

/* The queue-order key (an expression both backends index): the override, else
 * the triage queue, untriaged calls last. Text order is the urgency order:
 * Q1-IMMEDIATE < Q2-ELEVATED < Q3-MONITOR < Q5-REVIEW < Q5-ROUTINE < Q9. */
#define STORE_QUEUE_KEY "coalesce(queue_override, queue, 'Q9')"
/* Queue order, and the open queue's rows in it (both backends; the LIMIT is theirs). */
#define STORE_QUEUE_ORDER " ORDER BY " STORE_QUEUE_KEY ", waiting_since, id"
#define STORE_QUEUE_SELECT \
    "SELECT " STORE_CALL_COLUMNS " FROM calls WHERE dispatch_state IN ('waiting', 'claimed')" STORE_QUEUE_ORDER
/* The states of the calls a dispatcher holds (with claimed_by = the dispatcher; schema 6 indexes them). */
#define STORE_HELD_STATES "dispatch_state IN ('claimed', 'dispatched')"
/* The first waiting call in queue order (the backend adds its locking clause). */
#define STORE_QUEUE_NEXT_SELECT \
    "SELECT id FROM calls WHERE dispatch_state = 'waiting' ORDER BY " STORE_QUEUE_KEY ", waiting_since, id LIMIT 1"
/* The SQL run right after migration 3 with parameter 1 = now -
 * STORE_MIGRATION_RESOLVED_AGE_S (SQLite and PostgreSQL both read $1). */
#define STORE_MIGRATION_3_AGE_SQL \
    "UPDATE calls SET dispatch_state = 'resolved' WHERE dispatch_state = 'waiting' AND created_at < $1"

/* What a dispatch action does to a call whose current state is cur (held by
 * claimed_by, NULL if none; status is its call status). Fills the new state and
 * holder; TRIDENT_ECONFLICT with a message when the state forbids it. */
typedef struct {
    store_dispatch_state to;
    const char *claimed_by; /* borrowed: the actor, the old holder, or NULL */
    int wait_again;         /* waiting_since := now */
} store_dispatch_decision;
int store_dispatch_decide(const char *id, const store_dispatch_request *req, store_dispatch_state cur,
                          const char *claimed_by, store_dispatch_decision *d, char *err, size_t n);

/* Reads one history row whose columns are seq, at, actor, action, from_state,
 * to_state, note (in this order: STORE_HISTORY_COLUMNS). */
#define STORE_HISTORY_COLUMNS "seq, at, actor, action, from_state, to_state, note"

/* Duplicates a string (NULL → NULL); sets *failed on allocation failure. */
char *store_strdup_or_null(const char *s, int *failed);
/* The SQL of the migration that takes the schema from version to_version - 1
 * to to_version (1..STORE_SCHEMA_VERSION; NULL otherwise): one or more
 * statements separated by ';' that both SQLite and PostgreSQL accept, without
 * the schema_version bookkeeping (the backend records the version in the same
 * transaction). Migration 1 is the initial schema. */
const char *store_schema_sql(int to_version);
/* Creates the version table if needed (same SQL for both backends). */
#define STORE_SCHEMA_VERSION_TABLE \
    "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)"

#endif
