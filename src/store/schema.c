/* schema.c — the call store's schema as forward migrations, applied in order at
 * open by every backend (store/sqlite.c, store/postgres.c).
 *
 * The SQL is written once for both SQLite and PostgreSQL: TEXT, INTEGER and
 * DOUBLE PRECISION columns, CHECK constraints, plain indexes. Times are Unix
 * epoch seconds (DOUBLE PRECISION) so both backends sort and compare them the
 * same way; ids are UUID text. Never edit a released migration: add the next
 * one and raise STORE_SCHEMA_VERSION in store.h. */
#include "store/backend.h"

#include <stddef.h>

/* 1: the initial schema. */
static const char migration_1[] =
    "CREATE TABLE calls ("
    " id TEXT PRIMARY KEY CHECK (length(id) = 36),"
    " kind TEXT NOT NULL CHECK (kind IN ('upload', 'live')),"
    " status TEXT NOT NULL CHECK (status IN ('in_progress', 'completed', 'failed', 'interrupted')),"
    " created_at DOUBLE PRECISION NOT NULL,"
    " updated_at DOUBLE PRECISION NOT NULL,"
    " duration_s DOUBLE PRECISION NOT NULL DEFAULT 0,"
    " transcript TEXT NOT NULL DEFAULT '',"
    " confidence DOUBLE PRECISION NOT NULL DEFAULT 0,"
    " content_score DOUBLE PRECISION NOT NULL DEFAULT 0,"
    " distress_score DOUBLE PRECISION NOT NULL DEFAULT 0,"
    " queue TEXT,"
    " priority_level INTEGER NOT NULL DEFAULT 0,"
    " flag_audio_review INTEGER NOT NULL DEFAULT 0 CHECK (flag_audio_review IN (0, 1)),"
    " escalation_required INTEGER NOT NULL DEFAULT 0 CHECK (escalation_required IN (0, 1)),"
    " analysis_json TEXT,"
    " audio_path TEXT,"
    " filename TEXT,"
    " utterance_count INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE INDEX calls_created_idx ON calls (created_at, id);"
    "CREATE INDEX calls_kind_created_idx ON calls (kind, created_at, id);"
    "CREATE INDEX calls_queue_created_idx ON calls (queue, created_at, id);"
    "CREATE INDEX calls_status_idx ON calls (status)";

/* 2: every call ends in a true final state — statuses truncated and abandoned,
 * and status_reason (why it ended so). A CHECK constraint cannot be altered in
 * SQLite, so the table is rebuilt (same SQL for both backends); existing rows
 * keep their values, with no reason. */
static const char migration_2[] =
    "CREATE TABLE calls_v2 ("
    " id TEXT PRIMARY KEY CHECK (length(id) = 36),"
    " kind TEXT NOT NULL CHECK (kind IN ('upload', 'live')),"
    " status TEXT NOT NULL CHECK (status IN ('in_progress', 'completed', 'failed', 'interrupted', 'truncated',"
    " 'abandoned')),"
    " created_at DOUBLE PRECISION NOT NULL,"
    " updated_at DOUBLE PRECISION NOT NULL,"
    " duration_s DOUBLE PRECISION NOT NULL DEFAULT 0,"
    " transcript TEXT NOT NULL DEFAULT '',"
    " confidence DOUBLE PRECISION NOT NULL DEFAULT 0,"
    " content_score DOUBLE PRECISION NOT NULL DEFAULT 0,"
    " distress_score DOUBLE PRECISION NOT NULL DEFAULT 0,"
    " queue TEXT,"
    " priority_level INTEGER NOT NULL DEFAULT 0,"
    " flag_audio_review INTEGER NOT NULL DEFAULT 0 CHECK (flag_audio_review IN (0, 1)),"
    " escalation_required INTEGER NOT NULL DEFAULT 0 CHECK (escalation_required IN (0, 1)),"
    " analysis_json TEXT,"
    " audio_path TEXT,"
    " filename TEXT,"
    " utterance_count INTEGER NOT NULL DEFAULT 0,"
    " status_reason TEXT"
    ");"
    "INSERT INTO calls_v2 (id, kind, status, created_at, updated_at, duration_s, transcript, confidence,"
    " content_score, distress_score, queue, priority_level, flag_audio_review, escalation_required, analysis_json,"
    " audio_path, filename, utterance_count)"
    " SELECT id, kind, status, created_at, updated_at, duration_s, transcript, confidence, content_score,"
    " distress_score, queue, priority_level, flag_audio_review, escalation_required, analysis_json, audio_path,"
    " filename, utterance_count FROM calls;"
    "DROP TABLE calls;"
    "ALTER TABLE calls_v2 RENAME TO calls;"
    "CREATE INDEX calls_created_idx ON calls (created_at, id);"
    "CREATE INDEX calls_kind_created_idx ON calls (kind, created_at, id);"
    "CREATE INDEX calls_queue_created_idx ON calls (queue, created_at, id);"
    "CREATE INDEX calls_status_idx ON calls (status)";

/* 3: the dispatch lifecycle — each call's dispatch state, who holds it, the
 * duplicate link, a queue override and when it began waiting; the append-only
 * history; two partial indexes in queue order (the waiting calls for
 * claim-next, the open ones for GET /api/queue). Existing calls start waiting
 * since their creation (abandoned ones cancelled); the backend then resolves
 * those older than STORE_MIGRATION_RESOLVED_AGE_S (STORE_MIGRATION_3_AGE_SQL). */
static const char migration_3[] =
    "ALTER TABLE calls ADD COLUMN dispatch_state TEXT NOT NULL DEFAULT 'waiting' CHECK (dispatch_state IN"
    " ('waiting', 'claimed', 'dispatched', 'resolved', 'cancelled', 'duplicate'));"
    "ALTER TABLE calls ADD COLUMN claimed_by TEXT;"
    "ALTER TABLE calls ADD COLUMN duplicate_of TEXT;"
    "ALTER TABLE calls ADD COLUMN queue_override TEXT;"
    "ALTER TABLE calls ADD COLUMN waiting_since DOUBLE PRECISION NOT NULL DEFAULT 0;"
    "ALTER TABLE calls ADD COLUMN dispatch_updated_at DOUBLE PRECISION NOT NULL DEFAULT 0;"
    "UPDATE calls SET waiting_since = created_at, dispatch_updated_at = created_at;"
    "UPDATE calls SET dispatch_state = 'cancelled' WHERE status = 'abandoned';"
    "CREATE TABLE call_history ("
    " call_id TEXT NOT NULL REFERENCES calls (id),"
    " seq INTEGER NOT NULL,"
    " at DOUBLE PRECISION NOT NULL,"
    " actor TEXT NOT NULL,"
    " action TEXT NOT NULL,"
    " from_state TEXT NOT NULL,"
    " to_state TEXT NOT NULL,"
    " note TEXT,"
    " PRIMARY KEY (call_id, seq)"
    ");"
    "CREATE INDEX calls_waiting_idx ON calls ((" STORE_QUEUE_KEY "), waiting_since, id) WHERE dispatch_state = 'waiting';"
    "CREATE INDEX calls_open_idx ON calls ((" STORE_QUEUE_KEY "), waiting_since, id)"
    " WHERE dispatch_state IN ('waiting', 'claimed')";

/* 4: access control — API tokens (only a SHA-256 of each secret is kept; a
 * revoked token stays listed), the dashboard's sign-in sessions (also by
 * hash, ending with their token), and the audit log of who opened which
 * recording or transcript, when and from where (rows only appended). */
static const char migration_4[] =
    "CREATE TABLE api_tokens ("
    " name TEXT PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 128),"
    " role TEXT NOT NULL CHECK (role IN ('ingest', 'dispatcher', 'supervisor', 'viewer')),"
    " hash TEXT NOT NULL UNIQUE CHECK (length(hash) = 64),"
    " created_at DOUBLE PRECISION NOT NULL,"
    " last_used_at DOUBLE PRECISION,"
    " revoked_at DOUBLE PRECISION"
    ");"
    "CREATE TABLE sessions ("
    " hash TEXT PRIMARY KEY CHECK (length(hash) = 64),"
    " token_name TEXT NOT NULL REFERENCES api_tokens (name),"
    " created_at DOUBLE PRECISION NOT NULL,"
    " expires_at DOUBLE PRECISION NOT NULL"
    ");"
    "CREATE INDEX sessions_expires_idx ON sessions (expires_at);"
    "CREATE INDEX sessions_token_idx ON sessions (token_name);"
    "CREATE TABLE audit_log ("
    " at DOUBLE PRECISION NOT NULL,"
    " actor TEXT NOT NULL,"
    " role TEXT NOT NULL,"
    " action TEXT NOT NULL,"
    " call_id TEXT NOT NULL,"
    " address TEXT NOT NULL"
    ");"
    "CREATE INDEX audit_at_idx ON audit_log (at);"
    "CREATE INDEX audit_call_idx ON audit_log (call_id, at)";

/* 5: a live call's caller identity (the /ws/live caller parameter, e.g. the
 * number a telephony bridge passes on); NULL for uploads and older calls. */
static const char migration_5[] = "ALTER TABLE calls ADD COLUMN caller TEXT";

/* 6: the calls each dispatcher holds (store_held_list, the dashboard's "My
 * calls"), found without reading the calls nobody holds. */
static const char migration_6[] =
    "CREATE INDEX calls_held_idx ON calls (claimed_by, (" STORE_QUEUE_KEY "), waiting_since, id)"
    " WHERE " STORE_HELD_STATES;

const char *store_schema_sql(int to_version) {
    switch (to_version) {
    case 1: return migration_1;
    case 2: return migration_2;
    case 3: return migration_3;
    case 4: return migration_4;
    case 5: return migration_5;
    case 6: return migration_6;
    default: return NULL;
    }
}
