/* access.c — the store's access-control tables (schema 4): API tokens, sign-in
 * sessions, the audit log; and the retention sweep. Written once for both
 * backends through store_backend.exec (SQL both SQLite and PostgreSQL accept,
 * text parameters). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "store/backend.h"

/* Calls deleted per transaction by the retention sweep. */
#define RETENTION_BATCH 100

void store_rows_clear(store_rows *r) {
    if (!r) return;
    for (size_t i = 0; r->cells && i < (size_t)r->rows * (size_t)r->cols; i++) free(r->cells[i]);
    free(r->cells);
    memset(r, 0, sizeof *r);
}

static const char *cell(const store_rows *r, int row, int col) { return r->cells[(size_t)row * (size_t)r->cols + (size_t)col]; }

static double cell_double(const store_rows *r, int row, int col) {
    const char *t = cell(r, row, col);
    return t ? strtod(t, NULL) : 0;
}

/* Text of a double that both backends read back exactly. */
static void num_text(char *buf, size_t n, double v) { snprintf(buf, n, "%.17g", v); }

static int run(store *s, const store_stmt *stmts, size_t n_stmts, const char *const *params, store_rows *out, char *err,
               size_t n) {
    return s->ops->exec(s->impl, stmts, n_stmts, params, out, err, n);
}

/* ---- tokens ---------------------------------------------------------------- */

int store_token_insert(store *s, const char *name, const char *role, const char *hash, double now, char *err,
                       size_t err_size) {
    char at[32];
    num_text(at, sizeof at, now);
    const char *p[4] = {name, role, hash, at};
    const store_stmt st = {"INSERT INTO api_tokens (name, role, hash, created_at) VALUES ($1, $2, $3, $4)", 4};
    int rc = run(s, &st, 1, p, NULL, err, err_size);
    if (rc == TRIDENT_ECONFLICT)
        error_set(err, err_size, rc, "a token named '%s' exists already (a revoked name stays taken)", name);
    return rc;
}

void store_token_clear(store_token *t) {
    if (!t) return;
    free(t->name);
    free(t->role);
    memset(t, 0, sizeof *t);
}

void store_token_list_free(store_token *t, size_t count) {
    for (size_t i = 0; t && i < count; i++) store_token_clear(&t[i]);
    free(t);
}

/* Copies row `row` of r (name, role, created_at, last_used_at, revoked_at) into *t. */
static int token_from_row(const store_rows *r, int row, store_token *t) {
    memset(t, 0, sizeof *t);
    int failed = 0;
    t->name = store_strdup_or_null(cell(r, row, 0), &failed);
    t->role = store_strdup_or_null(cell(r, row, 1), &failed);
    t->created_at = cell_double(r, row, 2);
    t->last_used_at = cell_double(r, row, 3);
    t->revoked_at = cell_double(r, row, 4);
    return failed || !t->name || !t->role ? TRIDENT_ENOMEM : TRIDENT_OK;
}

int store_token_list(store *s, store_token **out, size_t *count, char *err, size_t err_size) {
    *out = NULL;
    *count = 0;
    const store_stmt st = {"SELECT name, role, created_at, last_used_at, revoked_at FROM api_tokens "
                           "ORDER BY created_at, name",
                           0};
    store_rows r;
    int rc = run(s, &st, 1, NULL, &r, err, err_size);
    if (rc) return rc;
    size_t rows = (size_t)r.rows;
    store_token *t = rows ? calloc(rows, sizeof *t) : NULL;
    if (rows && !t) rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory listing tokens");
    for (size_t i = 0; !rc && i < rows; i++)
        if (token_from_row(&r, (int)i, &t[i])) rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory listing tokens");
    store_rows_clear(&r);
    if (rc) {
        store_token_list_free(t, t ? rows : 0);
        return rc;
    }
    *out = t;
    *count = t ? rows : 0;
    return TRIDENT_OK;
}

int store_token_revoke(store *s, const char *name, double now, char *err, size_t err_size) {
    char at[32];
    num_text(at, sizeof at, now);
    const char *p[2] = {name, at};
    const store_stmt st[2] = {{"DELETE FROM sessions WHERE token_name = $1", 1},
                              {"UPDATE api_tokens SET revoked_at = $2 WHERE name = $1 AND revoked_at IS NULL", 2}};
    store_rows r;
    int rc = run(s, st, 2, p, &r, err, err_size);
    if (rc) return rc;
    int64_t changed = r.changes;
    store_rows_clear(&r);
    if (changed == 1) return TRIDENT_OK;
    const store_stmt q = {"SELECT count(*) FROM api_tokens WHERE name = $1", 1};
    if ((rc = run(s, &q, 1, p, &r, err, err_size))) return rc;
    int exists = r.rows == 1 && cell(&r, 0, 0) && strcmp(cell(&r, 0, 0), "0") != 0;
    store_rows_clear(&r);
    if (exists) return error_set(err, err_size, TRIDENT_ECONFLICT, "token '%s' is revoked already", name);
    return error_set(err, err_size, TRIDENT_ENOTFOUND, "no token named '%s'", name);
}

/* The one token row a lookup statement selects, or TRIDENT_ENOTFOUND. */
static int token_lookup(store *s, const store_stmt *st, const char *const *p, store_token *out, char *err,
                        size_t err_size) {
    memset(out, 0, sizeof *out);
    store_rows r;
    int rc = run(s, st, 1, p, &r, err, err_size);
    if (rc) return rc;
    if (r.rows != 1) rc = error_set(err, err_size, TRIDENT_ENOTFOUND, "unknown or revoked token");
    else if (token_from_row(&r, 0, out)) rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory reading a token");
    store_rows_clear(&r);
    if (rc) store_token_clear(out);
    return rc;
}

int store_token_find(store *s, const char *hash, store_token *out, char *err, size_t err_size) {
    const char *p[1] = {hash};
    const store_stmt st = {"SELECT name, role, created_at, last_used_at, revoked_at FROM api_tokens "
                           "WHERE hash = $1 AND revoked_at IS NULL",
                           1};
    return token_lookup(s, &st, p, out, err, err_size);
}

int store_session_find(store *s, const char *hash, double now, store_token *out, char *err, size_t err_size) {
    char at[32];
    num_text(at, sizeof at, now);
    const char *p[2] = {hash, at};
    const store_stmt st = {"SELECT t.name, t.role, t.created_at, t.last_used_at, t.revoked_at FROM sessions s "
                           "JOIN api_tokens t ON t.name = s.token_name "
                           "WHERE s.hash = $1 AND s.expires_at > $2 AND t.revoked_at IS NULL",
                           2};
    return token_lookup(s, &st, p, out, err, err_size);
}

int store_token_touch(store *s, const char *name, double now, char *err, size_t err_size) {
    char at[32];
    num_text(at, sizeof at, now);
    const char *p[2] = {name, at};
    const store_stmt st = {"UPDATE api_tokens SET last_used_at = $2 WHERE name = $1", 2};
    return run(s, &st, 1, p, NULL, err, err_size);
}

int store_token_active_count(store *s, int64_t *count, char *err, size_t err_size) {
    const store_stmt st = {"SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL", 0};
    store_rows r;
    int rc = run(s, &st, 1, NULL, &r, err, err_size);
    if (rc) return rc;
    *count = r.rows == 1 && cell(&r, 0, 0) ? strtoll(cell(&r, 0, 0), NULL, 10) : 0;
    store_rows_clear(&r);
    return TRIDENT_OK;
}

/* ---- sessions -------------------------------------------------------------- */

int store_session_insert(store *s, const char *hash, const char *token_name, double now, double expires_at, char *err,
                         size_t err_size) {
    char at[32], until[32];
    num_text(at, sizeof at, now);
    num_text(until, sizeof until, expires_at);
    const char *p[4] = {at, hash, token_name, until};
    const store_stmt st[2] = {{"DELETE FROM sessions WHERE expires_at <= $1", 1},
                              {"INSERT INTO sessions (hash, token_name, created_at, expires_at) VALUES ($2, $3, $1, $4)",
                               4}};
    return run(s, st, 2, p, NULL, err, err_size);
}

int store_session_delete(store *s, const char *hash, char *err, size_t err_size) {
    const char *p[1] = {hash};
    const store_stmt st = {"DELETE FROM sessions WHERE hash = $1", 1};
    return run(s, &st, 1, p, NULL, err, err_size);
}

/* ---- audit log ------------------------------------------------------------- */

int store_audit_insert(store *s, const store_audit_entry *e, char *err, size_t err_size) {
    char at[32];
    num_text(at, sizeof at, e->at);
    const char *p[6] = {at, e->actor, e->role, e->action, e->call_id, e->address ? e->address : ""};
    const store_stmt st = {"INSERT INTO audit_log (at, actor, role, action, call_id, address) "
                           "VALUES ($1, $2, $3, $4, $5, $6)",
                           6};
    return run(s, &st, 1, p, NULL, err, err_size);
}

void store_audit_free(store_audit_entry *a, size_t count) {
    for (size_t i = 0; a && i < count; i++) {
        free(a[i].actor);
        free(a[i].role);
        free(a[i].action);
        free(a[i].call_id);
        free(a[i].address);
    }
    free(a);
}

int store_audit_list(store *s, const char *call_id, int64_t limit, int64_t offset, store_audit_entry **out,
                     size_t *count, int64_t *total, char *err, size_t err_size) {
    *out = NULL;
    *count = 0;
    *total = 0;
    if (limit < 0 || offset < 0) return error_set(err, err_size, TRIDENT_EINVAL, "limit and offset must be >= 0");
    if (limit == 0) limit = STORE_LIST_DEFAULT;
    if (limit > STORE_LIST_MAX) limit = STORE_LIST_MAX;
    char lim[32], off[32];
    snprintf(lim, sizeof lim, "%lld", (long long)limit);
    snprintf(off, sizeof off, "%lld", (long long)offset);
    /* PostgreSQL wants every parameter used: each statement takes the first of its array */
    const char *p_all[2] = {lim, off}, *p_one[3] = {call_id, lim, off};
    const store_stmt all[2] = {{"SELECT count(*) FROM audit_log", 0},
                               {"SELECT at, actor, role, action, call_id, address FROM audit_log "
                                "ORDER BY at DESC LIMIT $1 OFFSET $2",
                                2}};
    const store_stmt one[2] = {{"SELECT count(*) FROM audit_log WHERE call_id = $1", 1},
                               {"SELECT at, actor, role, action, call_id, address FROM audit_log WHERE call_id = $1 "
                                "ORDER BY at DESC LIMIT $2 OFFSET $3",
                                3}};
    const store_stmt *st = call_id ? one : all;
    const char *const *p = call_id ? p_one : p_all;
    store_rows r;
    int rc = run(s, &st[0], 1, p, &r, err, err_size);
    if (rc) return rc;
    *total = r.rows == 1 && cell(&r, 0, 0) ? strtoll(cell(&r, 0, 0), NULL, 10) : 0;
    store_rows_clear(&r);
    if ((rc = run(s, &st[1], 1, p, &r, err, err_size))) return rc;
    store_audit_entry *a = r.rows ? calloc((size_t)r.rows, sizeof *a) : NULL;
    int failed = r.rows && !a;
    for (int i = 0; a && i < r.rows; i++) {
        a[i].at = cell_double(&r, i, 0);
        a[i].actor = store_strdup_or_null(cell(&r, i, 1), &failed);
        a[i].role = store_strdup_or_null(cell(&r, i, 2), &failed);
        a[i].action = store_strdup_or_null(cell(&r, i, 3), &failed);
        a[i].call_id = store_strdup_or_null(cell(&r, i, 4), &failed);
        a[i].address = store_strdup_or_null(cell(&r, i, 5), &failed);
    }
    int rows = r.rows;
    store_rows_clear(&r);
    if (failed) {
        store_audit_free(a, a ? (size_t)rows : 0);
        return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory reading the audit log");
    }
    *out = a;
    *count = a ? (size_t)rows : 0;
    return TRIDENT_OK;
}

/* ---- retention ------------------------------------------------------------- */

/* A call past its retention that no one is working on. */
#define RETENTION_WHERE                                                                    \
    " created_at < $1 AND status <> 'in_progress'"                                       \
    " AND dispatch_state NOT IN ('waiting', 'claimed', 'dispatched')"

int store_retention_sweep(store *s, double cutoff, int64_t *deleted, char *err, size_t err_size) {
    *deleted = 0;
    char before[32], batch[16];
    num_text(before, sizeof before, cutoff);
    snprintf(batch, sizeof batch, "%d", RETENTION_BATCH);
    for (;;) {
        const char *pick_p[2] = {before, batch};
        const store_stmt pick = {"SELECT id, audio_path FROM calls WHERE" RETENTION_WHERE
                                 " ORDER BY created_at, id LIMIT $2",
                                 2};
        store_rows r;
        int rc = run(s, &pick, 1, pick_p, &r, err, err_size);
        if (rc) return rc;
        if (r.rows == 0) {
            store_rows_clear(&r);
            return TRIDENT_OK;
        }
        int64_t done = 0;
        for (int i = 0; !rc && i < r.rows; i++) {
            const char *id = cell(&r, i, 0), *audio = cell(&r, i, 1);
            /* the recording first: a crash between the two leaves a row without its file, never a file without its row */
            if (audio && s->recordings_dir[0] && !strchr(audio, '/') && audio[0] != '.') {
                char path[PATH_MAX + 64];
                snprintf(path, sizeof path, "%s/%s", s->recordings_dir, audio);
                if (unlink(path) != 0 && errno != ENOENT)
                    rc = error_set(err, err_size, TRIDENT_EIO, "cannot delete recording %s: %s", path, strerror(errno));
            }
            const char *p[2] = {before, id};
            const store_stmt st[2] = {
                {"DELETE FROM call_history WHERE call_id IN (SELECT id FROM calls WHERE id = $2 AND" RETENTION_WHERE ")",
                 2},
                {"DELETE FROM calls WHERE id = $2 AND" RETENTION_WHERE, 2}};
            store_rows d;
            if (!rc && !(rc = run(s, st, 2, p, &d, err, err_size))) {
                done += d.changes;
                store_rows_clear(&d);
            }
        }
        int rows = r.rows;
        store_rows_clear(&r);
        *deleted += done;
        if (rc) return rc;
        if (rows < RETENTION_BATCH) return TRIDENT_OK;
    }
}
