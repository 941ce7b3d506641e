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

const char *store_schema_sql(int to_version) {
    switch (to_version) {
    case 1: return migration_1;
    default: return NULL;
    }
}
