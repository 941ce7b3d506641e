/* store.h — the call store: every analysed call (uploads and live calls) with
 * its transcript, scores, triage decision, full analysis JSON and recording.
 *
 * One interface, several backends behind a table of function pointers
 * (store/backend.h, private): SQLite (default; a file path or "sqlite:PATH")
 * and PostgreSQL ("postgres://..." / "postgresql://...").
 *
 * Ids. A call id is a random UUID version 4 in canonical lowercase text form
 * ("3f2b9c1e-8a4d-4c6b-9e21-5d7f0a1b2c3d", 36 characters), drawn from
 * getrandom(2). Ids are not guessable and never collide between instances
 * sharing one PostgreSQL database. Ids arriving from HTTP are untrusted:
 * every function taking an id validates it with store_id_valid first, and
 * anything that is not a canonical UUID (path fragments, SQL, 10 kB strings,
 * empty, non-UTF-8) is TRIDENT_ENOTFOUND without touching the database.
 * Upper-case hex is accepted and normalised to lower case.
 *
 * Recordings live beside the database, one directory per database:
 * <db file>-recordings/<id>.wav (or store_options.recordings_dir; PostgreSQL
 * has only that one). The store hands out the path
 * (store_recording_path); the audio module writes the WAV file; the store keeps
 * the recording's file name relative to that directory in the call's row.
 *
 * Live calls: store_call_create (in_progress, its recording linked from the
 * start: the WAV on disk is valid at every moment) → store_call_update_progress
 * after each utterance (transcript so far, aggregates, analysis JSON; one
 * transaction each, so a crash mid-call loses at most the utterance in flight)
 * → store_call_finalize (a final status with its reason, recording, final
 * analysis). Final statuses: completed, truncated, abandoned, failed,
 * interrupted — a call is never left in_progress by a process that ended.
 * Uploads: store_call_insert_complete in one step.
 *
 * Crash recovery: a call still in_progress when its process died stays stored
 * with everything written up to its last utterance and its recording linked. If
 * store_options.recover_interrupted is set (the server sets it: it owns every
 * live call in its database), store_open marks those calls status
 * "interrupted" (status_reason says so); otherwise
 * they are left alone (another process may still be writing them). Either
 * way store_counts reports them, and /health can show them.
 *
 * Dispatch (schema 3): every call also has a dispatch state — waiting →
 * claimed (by one dispatcher) → dispatched → resolved, or released (back to
 * waiting), cancelled, duplicate (of another call). A call enters waiting when
 * it is stored (a live call when it starts); a call finalised as abandoned is
 * cancelled at once and never waits. Every change made through
 * store_call_dispatch is one write transaction that reads the call's current
 * state (locked: SELECT … FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite),
 * decides by the rules of store_call_dispatch, updates the call and appends
 * one row to its history (call_history: who, when, what, from, to, note; rows
 * are never changed or deleted). store_queue_next picks the most urgent waiting
 * call and claims it in the same kind of transaction (SKIP LOCKED on
 * PostgreSQL), so no call is ever handed to two dispatchers, on one server or
 * on several sharing a database. The queue order: effective queue (the
 * override if any, else the triage queue; untriaged last), then the longest
 * waiting first (waiting_since), then id — one query over a partial index.
 *
 * Threads: a store handle may be used from any number of threads at once.
 * Each backend keeps one connection guarded by one mutex (its `lock`,
 * DESIGN: a shared service is guarded by one named mutex); writes to SQLite
 * are serialised by the database anyway, and each statement is short.
 *
 * Errors: 0 or a negative TRIDENT_E* code (base/error.h) with a message in
 * err (TRIDENT_ERR_SIZE bytes is enough). TRIDENT_ENOTFOUND for an unknown or
 * invalid id, TRIDENT_EDB for database failures, TRIDENT_EFORMAT for a file
 * that is not a TRIDENT database, TRIDENT_EUNSUPPORTED for a newer schema. */
#ifndef TRIDENT_STORE_STORE_H
#define TRIDENT_STORE_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The schema version this build writes and understands (see store/schema.c). */
#define STORE_SCHEMA_VERSION 6
/* Bytes for an id including its NUL. */
#define STORE_ID_SIZE 37
/* store_call_list: limit 0 means this many; larger limits are clamped to STORE_LIST_MAX. */
#define STORE_LIST_DEFAULT 50
#define STORE_LIST_MAX 1000

typedef struct store store;

typedef enum { STORE_KIND_ANY = -1, STORE_KIND_UPLOAD = 0, STORE_KIND_LIVE = 1 } store_kind;

typedef enum {
    STORE_STATUS_ANY = -1,
    STORE_STATUS_IN_PROGRESS = 0,
    STORE_STATUS_COMPLETED = 1,
    STORE_STATUS_FAILED = 2,
    STORE_STATUS_INTERRUPTED = 3, /* was in_progress when its process stopped (or the server shut down) */
    STORE_STATUS_TRUNCATED = 4,   /* ended before the caller finished: connection lost, length limit, closed on a protocol error */
    STORE_STATUS_ABANDONED = 5,   /* a live connection that carried no speech */
} store_status;

/* A call's dispatch state. */
typedef enum {
    STORE_DISPATCH_ANY = -1,
    STORE_DISPATCH_WAITING = 0,
    STORE_DISPATCH_CLAIMED = 1,
    STORE_DISPATCH_DISPATCHED = 2,
    STORE_DISPATCH_RESOLVED = 3,
    STORE_DISPATCH_CANCELLED = 4,
    STORE_DISPATCH_DUPLICATE = 5,
} store_dispatch_state;

/* What a dispatcher does to a call (store_call_dispatch). */
typedef enum {
    STORE_ACTION_CLAIM = 0, /* waiting → claimed by the actor */
    STORE_ACTION_RELEASE,   /* claimed by the actor → waiting (waits again from now) */
    STORE_ACTION_DISPATCH,  /* claimed by the actor → dispatched */
    STORE_ACTION_RESOLVE,   /* claimed or dispatched by the actor → resolved */
    STORE_ACTION_CANCEL,    /* waiting, or claimed by the actor → cancelled */
    STORE_ACTION_DUPLICATE, /* waiting, or claimed by the actor → duplicate (of another call) */
    STORE_ACTION_OVERRIDE,  /* waiting, or claimed by the actor: queue replaced; reason (note) mandatory */
    STORE_ACTION_NOTE,      /* any state: a note in the history; note mandatory */
    STORE_ACTION_COUNT
} store_action;

/* Seconds after which a call stored before schema 3 counts as resolved when
 * migrating (younger ones become waiting). */
#define STORE_MIGRATION_RESOLVED_AGE_S 86400.0
/* Longest dispatcher name and note stored. */
#define STORE_ACTOR_MAX 128
#define STORE_NOTE_MAX 4096

typedef struct {
    store_action action;
    const char *actor; /* the dispatcher's name (required, 1..STORE_ACTOR_MAX bytes) */
    const char *note;  /* optional (the reason for OVERRIDE, the text for NOTE: required) */
    const char *of;    /* DUPLICATE: the id of the call this one duplicates */
    const char *queue; /* OVERRIDE: the queue the call moves to (a triage queue name) */
} store_dispatch_request;

/* One history row. Strings owned by the array (store_history_free). */
typedef struct {
    int seq;            /* 1, 2, ... per call */
    double at;          /* Unix epoch seconds */
    char *actor;
    char *action;       /* store_action_name */
    char *from_state;   /* store_dispatch_name */
    char *to_state;
    char *note;         /* NULL when none */
} store_history_entry;

typedef struct {
    /* Directory for recordings; NULL means "<db file>-recordings" beside a SQLite file.
     * Created (mode 0750) if missing. A ":memory:" SQLite database has no
     * recordings directory unless one is given here. */
    const char *recordings_dir;
    /* How long a statement waits for a lock held by another connection (ms; 0 → 5000). */
    int busy_timeout_ms;
    /* Mark calls left in_progress by a previous process as interrupted at open. */
    int recover_interrupted;
} store_options;

/* What a call's row holds besides its id, kind, status and times: the values
 * the caller writes. Strings are borrowed (copied by the store); NULL is the
 * same as "" for transcript, and "no value" for the others. */
typedef struct {
    double duration_s;
    const char *transcript;
    double confidence;     /* 0..1 */
    double content_score;  /* 0..1 */
    double distress_score; /* 0..1 */
    const char *queue;     /* "Q1-IMMEDIATE" ... "Q5-ROUTINE", or NULL */
    int priority_level;    /* 1..5, 0 when not triaged yet */
    int flag_audio_review;
    int escalation_required;
    const char *analysis_json; /* the full analysis as the API returns it; must parse as JSON (or NULL) */
    int utterance_count;
    const char *status_reason; /* why the call ended as it did (truncated, failed, ...), or NULL */
} store_fields;

/* A stored call as read back. Owned by the caller: free with store_call_free
 * (or store_page_clear for a page's items). Strings are never NULL except where
 * noted. */
typedef struct {
    char id[STORE_ID_SIZE];
    store_kind kind;
    store_status status;
    double created_at; /* Unix epoch seconds */
    double updated_at;
    double duration_s;
    char *transcript;
    double confidence;
    double content_score;
    double distress_score;
    char *queue;         /* NULL when not triaged */
    int priority_level;
    int flag_audio_review;
    int escalation_required;
    char *analysis_json; /* NULL when none was stored */
    char *audio_path;    /* file name relative to the recordings directory, or NULL */
    char *filename;      /* an upload's original file name, or NULL */
    int utterance_count;
    char *status_reason; /* NULL when none was stored */
    store_dispatch_state dispatch_state;
    char *claimed_by;     /* the dispatcher holding (or who last held) the call, or NULL */
    char *duplicate_of;   /* DUPLICATE: the original call's id, else NULL */
    char *queue_override; /* the queue a dispatcher moved the call to, or NULL */
    double waiting_since; /* when it last entered waiting (created, or released) */
    double dispatch_updated_at;
    char *caller;         /* the caller's identity given when a live call started (schema 5), or NULL */
} store_call;

typedef struct {
    store_kind kind;     /* STORE_KIND_ANY for all */
    store_status status; /* STORE_STATUS_ANY for all */
    const char *queue;   /* exact queue name, or NULL for all */
    int64_t limit;       /* 0 → STORE_LIST_DEFAULT; clamped to STORE_LIST_MAX; negative → EINVAL */
    int64_t offset;      /* >= 0 */
} store_filter;

/* A page of calls, newest first (created_at, then id, descending). */
typedef struct {
    store_call *items;
    size_t count;  /* items on this page */
    int64_t total; /* calls matching the filter, all pages */
} store_page;

typedef struct {
    int64_t total_calls;      /* every stored call */
    int64_t uploads;          /* kind upload */
    int64_t live_calls_saved; /* kind live, any status */
    int64_t in_progress;      /* status in_progress (live now, or left by another process) */
    int64_t interrupted;      /* status interrupted */
} store_counts;

typedef struct {
    const char *backend;        /* "sqlite" or "postgresql" */
    const char *location;       /* the database path, or the URL without its password */
    const char *recordings_dir; /* "" when there is none */
    int schema_version;
    int64_t recovered;          /* calls marked interrupted by this open */
} store_info;

/* Opens (creating if needed) and migrates the store named by url_or_path:
 * "PATH", "sqlite:PATH" or "sqlite://PATH" (":memory:" allowed), or
 * "postgres://..." / "postgresql://...". opt may be NULL for defaults.
 * On success *out owns the handle; release it with store_close. */
int store_open(const char *url_or_path, const store_options *opt, store **out, char *err, size_t err_size);
/* Closes the handle (NULL is fine). No call may be in flight on it. */
void store_close(store *s);
/* Describes the open store; the strings live as long as the handle. */
void store_info_get(const store *s, store_info *out);

/* Writes a fresh random UUID v4 into id. Returns 0 or TRIDENT_EIO. */
int store_id_generate(char id[STORE_ID_SIZE], char *err, size_t err_size);
/* 1 if id is a canonical UUID text (36 chars, hex digits and four hyphens), else 0. */
int store_id_valid(const char *id);

/* The absolute path for the recording of call id (<recordings dir>/<id>.wav)
 * in out. TRIDENT_ENOTFOUND for an invalid id, TRIDENT_EUNSUPPORTED when the
 * store has no recordings directory, TRIDENT_ELIMIT when out is too small. */
int store_recording_path(const store *s, const char *id, char *out, size_t out_size, char *err, size_t err_size);
/* The absolute path of call id's stored recording, if the call exists, has a
 * recording and the file is there; TRIDENT_ENOTFOUND otherwise. */
int store_call_audio_file(store *s, const char *id, char *out, size_t out_size, char *err, size_t err_size);

/* Longest caller identity, in bytes. */
#define STORE_CALLER_MAX 64
/* 0 when caller is a caller identity the store keeps: 1 to STORE_CALLER_MAX bytes
 * of well-formed UTF-8 without control characters (C0, DEL, C1); else
 * TRIDENT_EINVAL saying what is wrong. */
int store_caller_check(const char *caller, char *err, size_t err_size);

/* Creates a call in status in_progress (a live call, or an upload still being
 * analysed). If id[0] is '\0', a fresh id is generated and written into id;
 * otherwise id must be valid and unused. caller (NULL: unknown) must pass
 * store_caller_check. fields may be NULL; audio_path (the recording being
 * written, relative to the recordings directory) may be NULL. */
int store_call_create(store *s, store_kind kind, char id[STORE_ID_SIZE], const char *filename, const char *caller,
                      const store_fields *fields, const char *audio_path, char *err, size_t err_size);
/* Replaces an in_progress call's fields (transcript so far, aggregates,
 * analysis JSON) in one transaction. TRIDENT_ENOTFOUND for an unknown id,
 * TRIDENT_EINVAL if the call is no longer in progress. */
int store_call_update_progress(store *s, const char *id, const store_fields *fields, char *err, size_t err_size);
/* Ends an in_progress call with a final status (completed, failed,
 * interrupted, truncated or abandoned), its final fields (may be NULL to keep
 * the last progress) and its recording's file name relative to the recordings
 * directory (e.g. "<id>.wav"; NULL for none; must not contain '/' or start
 * with '.'). */
int store_call_finalize(store *s, const char *id, store_status status, const store_fields *fields,
                        const char *audio_path, char *err, size_t err_size);
/* Stores a finished call (an upload) in one step, status completed. id as in
 * store_call_create (generate the id first with store_id_generate when the
 * recording must be written under it before the row exists). */
int store_call_insert_complete(store *s, store_kind kind, char id[STORE_ID_SIZE], const char *filename,
                               const store_fields *fields, const char *audio_path, char *err, size_t err_size);

/* Reads call id. On success *out is owned by the caller (store_call_free). */
int store_call_get(store *s, const char *id, store_call **out, char *err, size_t err_size);
void store_call_free(store_call *c);
/* Reads a page of calls matching filter (NULL: all, default limit). On success
 * out is filled and owned by the caller (store_page_clear). */
int store_call_list(store *s, const store_filter *filter, store_page *out, char *err, size_t err_size);
void store_page_clear(store_page *page);
/* Counts for /health and /metrics. */
int store_counts_get(store *s, store_counts *out, char *err, size_t err_size);

/* Applies a dispatcher's action to call id in one transaction (see the top of
 * this file) and appends it to the history. On success, if out is non-NULL,
 * *out is the call as it is now (owned by the caller: store_call_free).
 * TRIDENT_ENOTFOUND (unknown id, or DUPLICATE's original unknown),
 * TRIDENT_EINVAL (bad request: no actor, no reason, unknown queue, a call
 * duplicating itself), TRIDENT_ECONFLICT when the call's current state forbids
 * the action (claimed by another dispatcher, already final, ...) — then, if out
 * is non-NULL, *out is the call as it is (for the 409 answer). */
int store_call_dispatch(store *s, const char *id, const store_dispatch_request *req, store_call **out, char *err,
                        size_t err_size);
/* Claims the most urgent waiting call for actor, atomically. *out (owned by the
 * caller) is the claimed call; TRIDENT_ENOTFOUND when no call is waiting. */
int store_queue_next(store *s, const char *actor, store_call **out, char *err, size_t err_size);
/* The open queue: waiting and claimed calls in queue order (see above), at
 * most limit (0 → STORE_LIST_DEFAULT, clamped to STORE_LIST_MAX); total counts them all. */
int store_queue_list(store *s, int64_t limit, store_page *out, char *err, size_t err_size);
/* The calls dispatcher holds: claimed or dispatched by it (not yet resolved,
 * cancelled or released), in queue order, at most limit (as store_queue_list);
 * total counts them all. One indexed query (schema 6), however many calls are stored. */
int store_held_list(store *s, const char *holder, int64_t limit, store_page *out, char *err, size_t err_size);
/* Call id's history, oldest first. On success *out (owned by the caller:
 * store_history_free) holds *count entries (*out may be NULL when 0). */
int store_call_history(store *s, const char *id, store_history_entry **out, size_t *count, char *err, size_t err_size);
void store_history_free(store_history_entry *h, size_t count);
/* [{"seq", "at" (ISO-8601), "by", "action", "from", "to", "note"}], a new reference or NULL (out of memory). */
json_t *store_history_to_json(const store_history_entry *h, size_t count);
/* {"state", "claimed_by", "duplicate_of", "queue" (effective), "queue_override",
 * "waiting_since" (ISO-8601), "updated_at"}: a new reference or NULL. */
json_t *store_dispatch_to_json(const store_call *c);
/* The queue the call is ordered by: the override if any, else its triage queue (NULL: untriaged). */
const char *store_call_effective_queue(const store_call *c);

/* Change notifications between processes sharing a store (PostgreSQL LISTEN/NOTIFY on
 * channel STORE_NOTIFY_CHANNEL; a SQLite file has one server, which needs none).
 * A payload is text of at most STORE_NOTIFY_MAX bytes. */
#define STORE_NOTIFY_CHANNEL "trident_events"
#define STORE_NOTIFY_MAX 7000
/* 1 when other servers may share this store and learn of its changes only by notification (PostgreSQL). */
int store_shared(const store *s);
/* Sends payload to every listener of the channel, this process's included, after
 * the statements already committed. TRIDENT_EUNSUPPORTED when the store is not
 * shared, TRIDENT_EINVAL for a payload over STORE_NOTIFY_MAX. */
int store_notify(store *s, const char *payload, char *err, size_t err_size);
/* A connection of its own listening on the channel. */
typedef struct store_listener store_listener;
/* Opens a listener (TRIDENT_EUNSUPPORTED when the store is not shared). The caller
 * owns *out (store_listener_close). */
int store_listener_open(const store *s, store_listener **out, char *err, size_t err_size);
/* Waits up to timeout_ms for the next notification: 1 with *payload (malloc'ed,
 * the caller frees it), 0 when none came, or a negative TRIDENT_E* code when the
 * connection is lost (close the listener and open another). */
int store_listener_wait(store_listener *l, int timeout_ms, char **payload, char *err, size_t err_size);
void store_listener_close(store_listener *l);

/* "waiting", "claimed", ... and "claim", "release", ... (static; "any"/"unknown" otherwise), and back
 * (STORE_DISPATCH_ANY / STORE_ACTION_COUNT for an unknown name). */
const char *store_dispatch_name(store_dispatch_state st);
store_dispatch_state store_dispatch_parse(const char *name);
const char *store_action_name(store_action a);
store_action store_action_parse(const char *name);

/* "upload"/"live", "in_progress"/"completed"/"failed"/"interrupted"/"truncated"/"abandoned" (static
 * strings; "any" for the ANY values); and back (returns STORE_KIND_ANY /
 * STORE_STATUS_ANY for an unknown name or NULL). */
const char *store_kind_name(store_kind kind);
const char *store_status_name(store_status status);
store_kind store_kind_parse(const char *name);
store_status store_status_parse(const char *name);

/* The API's JSON for a call: {"id", "kind", "status", "created_at" (ISO-8601),
 * "updated_at", "duration", "transcript", "confidence", "content_score",
 * "distress_score", "queue", "priority_level", "flag_audio_review",
 * "escalation_required", "flags": {"audio_review", "escalation_required"},
 * "filename", "caller" (or null), "utterance_count", "status_reason" (or null), "analysis" (the
 * stored analysis object, or null), "audio_url" ("/api/calls/<id>/audio", only
 * when a recording exists), "dispatch" (store_dispatch_to_json)}.
 * Returns a new reference owned by the caller, or NULL when out of memory. */
json_t *store_call_to_json(const store_call *c);

/* ---- access control (schema 4; store/access.c) ------------------------------
 * API tokens are kept by name with their role and the hex SHA-256 of their
 * secret (the secret itself is never stored); a revoked token stays listed
 * and its name stays taken, so the history and the audit log keep meaning
 * one holder. Sessions (the dashboard's sign-in) are kept by the hash of
 * their id and end at their expiry or when their token is revoked. The audit
 * log is append-only. Roles are checked by the database (ingest, dispatcher,
 * supervisor, viewer); their meaning is service/access.h's. */

#define STORE_HASH_HEX 64 /* a SHA-256 in lowercase hex, without its NUL */

typedef struct {
    char *name;
    char *role;
    double created_at;
    double last_used_at; /* 0: never used */
    double revoked_at;   /* 0: active */
} store_token;

/* Adds a token. TRIDENT_ECONFLICT when the name (or the hash) is taken. */
int store_token_insert(store *s, const char *name, const char *role, const char *hash, double now, char *err,
                       size_t err_size);
/* Every token, oldest first. *out (owned: store_token_list_free) holds *count. */
int store_token_list(store *s, store_token **out, size_t *count, char *err, size_t err_size);
void store_token_list_free(store_token *t, size_t count);
/* Revokes the token named name and ends its sessions. TRIDENT_ENOTFOUND for an
 * unknown name, TRIDENT_ECONFLICT when it is already revoked. */
int store_token_revoke(store *s, const char *name, double now, char *err, size_t err_size);
/* The active token whose secret hashes to hash into *out (strings owned:
 * store_token_clear); TRIDENT_ENOTFOUND when none (unknown or revoked). */
int store_token_find(store *s, const char *hash, store_token *out, char *err, size_t err_size);
/* The active token of the unexpired session whose id hashes to hash. */
int store_session_find(store *s, const char *hash, double now, store_token *out, char *err, size_t err_size);
void store_token_clear(store_token *t);
/* Records that token name was used at now. */
int store_token_touch(store *s, const char *name, double now, char *err, size_t err_size);
/* How many tokens are active (not revoked). */
int store_token_active_count(store *s, int64_t *count, char *err, size_t err_size);
/* Opens a session for token name until expires_at (expired sessions are
 * deleted in the same transaction). TRIDENT_ECONFLICT for an unknown token. */
int store_session_insert(store *s, const char *hash, const char *token_name, double now, double expires_at, char *err,
                         size_t err_size);
/* Ends the session whose id hashes to hash (nothing when there is none). */
int store_session_delete(store *s, const char *hash, char *err, size_t err_size);

/* One audit row: who (a token's name and role) opened what (action:
 * "recording" or "call") of which call, when (epoch seconds), from where. */
typedef struct {
    double at;
    char *actor;
    char *role;
    char *action;
    char *call_id;
    char *address;
} store_audit_entry;
/* Appends e (its strings borrowed). */
int store_audit_insert(store *s, const store_audit_entry *e, char *err, size_t err_size);
/* A page of the audit log, newest first, only call_id's rows unless it is
 * NULL; limit and offset as store_filter's. *out (owned: store_audit_free)
 * holds *count rows; *total counts every matching row. */
int store_audit_list(store *s, const char *call_id, int64_t limit, int64_t offset, store_audit_entry **out,
                     size_t *count, int64_t *total, char *err, size_t err_size);
void store_audit_free(store_audit_entry *a, size_t count);

/* Retention: deletes every call created before cutoff (epoch seconds) that is
 * closed — not in progress, and not waiting, claimed or dispatched — with its
 * history and its recording (the file first, then the rows, in batches).
 * *deleted counts the calls deleted. */
int store_retention_sweep(store *s, double cutoff, int64_t *deleted, char *err, size_t err_size);

#endif
