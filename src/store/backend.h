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
    const store_fields *fields; /* never NULL (store.c passes zeroes) */
    const char *audio_path;
} store_row;

typedef struct {
    const char *name;
    void (*close)(void *impl);
    int (*insert)(void *impl, const store_row *row, char *err, size_t n);
    /* Updates fields of an in_progress call; new_status is in_progress,
     * completed or failed; fields NULL keeps them; audio_path NULL keeps none. */
    int (*update)(void *impl, const char *id, store_status new_status, double now, const store_fields *fields,
                  const char *audio_path, char *err, size_t n);
    int (*get)(void *impl, const char *id, store_call **out, char *err, size_t n);
    int (*list)(void *impl, const store_filter *f, store_page *out, char *err, size_t n);
    int (*counts)(void *impl, store_counts *out, char *err, size_t n);
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

/* Shared by backends. */
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
