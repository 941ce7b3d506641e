/* queue_bench.c — the dispatch queue in a surge: N waiting calls (default
 * 10 000, spread over the five queues) in a fresh SQLite store, then times the
 * queue-order query (store_queue_list, first page of 50 and of 1000),
 * claim-next (store_queue_next) and the calls one dispatcher holds
 * (store_held_list), and prints SQLite's plan for each query (the partial
 * indexes of schemas 3 and 6, no sort step).
 *
 * usage: bench_queue [N] [DIR]   (DIR: where the database goes, default /tmp) */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/error.h"
#include "store/backend.h"
#include "store/store.h"

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Inserts n waiting calls in one transaction (the store API commits each call on its own). */
static int seed(const char *path, int n) {
    static const char *queues[] = {"Q1-IMMEDIATE", "Q2-ELEVATED", "Q3-MONITOR", "Q5-REVIEW", "Q5-ROUTINE"};
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db,
                                "INSERT INTO calls (id, kind, status, created_at, updated_at, queue, waiting_since, "
                                "dispatch_updated_at) VALUES (?1, 'upload', 'completed', ?2, ?2, ?3, ?2, ?2)",
                                -1, &st, NULL);
    double t0 = clock_wall_s() - n;
    char err[TRIDENT_ERR_SIZE];
    for (int i = 0; rc == SQLITE_OK && i < n; i++) {
        char id[STORE_ID_SIZE];
        if (store_id_generate(id, err, sizeof err) != 0) return -1;
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        sqlite3_bind_double(st, 2, t0 + i);
        sqlite3_bind_text(st, 3, queues[(i * 7) % 5], -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, "ANALYZE", NULL, NULL, NULL);
    if (rc != SQLITE_OK) fprintf(stderr, "seeding: %s\n", sqlite3_errmsg(db));
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

static void plan(const char *path, const char *sql) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char q[2048];
    snprintf(q, sizeof q, "EXPLAIN QUERY PLAN %s", sql);
    if (sqlite3_open(path, &db) == SQLITE_OK && sqlite3_prepare_v2(db, q, -1, &st, NULL) == SQLITE_OK)
        while (sqlite3_step(st) == SQLITE_ROW) printf("    plan: %s\n", (const char *)sqlite3_column_text(st, 3));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

/* Median milliseconds of `runs` store_queue_list calls with limit. */
static double time_list(store *s, int64_t limit, int runs, int64_t *total) {
    double *ms = malloc((size_t)runs * sizeof *ms);
    char err[TRIDENT_ERR_SIZE];
    for (int i = 0; ms && i < runs; i++) {
        store_page p;
        double t = clock_now_ms();
        if (store_queue_list(s, limit, &p, err, sizeof err) != 0) {
            fprintf(stderr, "queue list: %s\n", err);
            exit(1);
        }
        ms[i] = clock_now_ms() - t;
        *total = p.total;
        store_page_clear(&p);
    }
    qsort(ms, (size_t)runs, sizeof *ms, cmp_double);
    double med = ms ? ms[runs / 2] : -1;
    free(ms);
    return med;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 10000;
    const char *dir = argc > 2 ? argv[2] : "/tmp";
    if (n <= 0) {
        fprintf(stderr, "usage: bench_queue [N] [DIR]\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/trident-queue-bench-%d.db", dir, (int)getpid());
    char err[TRIDENT_ERR_SIZE];
    store *s = NULL;
    if (store_open(path, NULL, &s, err, sizeof err) != 0) {
        fprintf(stderr, "open: %s\n", err);
        return 1;
    }
    store_close(s);
    if (seed(path, n) != 0) return 1;
    if (store_open(path, NULL, &s, err, sizeof err) != 0) {
        fprintf(stderr, "reopen: %s\n", err);
        return 1;
    }
    printf("queue bench: %d waiting calls, SQLite %s, %s\n", n, sqlite3_libversion(), path);
    int64_t total = 0;
    double first = time_list(s, 50, 51, &total);
    printf("  GET /api/queue order query, first 50:   median %.3f ms (total %lld)\n", first, (long long)total);
    double big = time_list(s, 1000, 21, &total);
    printf("  GET /api/queue order query, first 1000: median %.3f ms\n", big);
    plan(path, STORE_QUEUE_SELECT " LIMIT 50");
    enum { CLAIMS = 200 };
    double ms[CLAIMS];
    for (int i = 0; i < CLAIMS; i++) {
        store_call *c = NULL;
        double t = clock_now_ms();
        if (store_queue_next(s, "bench", &c, err, sizeof err) != 0) {
            fprintf(stderr, "claim: %s\n", err);
            return 1;
        }
        ms[i] = clock_now_ms() - t;
        store_call_free(c);
    }
    qsort(ms, CLAIMS, sizeof ms[0], cmp_double);
    printf("  POST /api/queue/next claim (store):     median %.3f ms, max %.3f ms (n=%d; includes the fsync)\n",
           ms[CLAIMS / 2], ms[CLAIMS - 1], CLAIMS);
    plan(path, STORE_QUEUE_NEXT_SELECT);
    /* the calls one dispatcher holds (the dashboard's My calls): the CLAIMS just taken */
    double held[51];
    for (int i = 0; i < 51; i++) {
        store_page p;
        double t = clock_now_ms();
        if (store_held_list(s, "bench", 50, &p, err, sizeof err) != 0) {
            fprintf(stderr, "held: %s\n", err);
            return 1;
        }
        held[i] = clock_now_ms() - t;
        total = p.total;
        store_page_clear(&p);
    }
    qsort(held, 51, sizeof held[0], cmp_double);
    printf("  GET /api/queue?held_by= (one dispatcher's %lld calls, first 50): median %.3f ms\n", (long long)total,
           held[25]);
    plan(path, "SELECT id FROM calls WHERE claimed_by = 'bench' AND " STORE_HELD_STATES STORE_QUEUE_ORDER " LIMIT 50");
    store_close(s);
    char aux[4200];
    unlink(path);
    snprintf(aux, sizeof aux, "%s-wal", path);
    unlink(aux);
    snprintf(aux, sizeof aux, "%s-shm", path);
    unlink(aux);
    return 0;
}
