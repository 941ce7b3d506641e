/* retention.c — the retention sweeps (retention.h): one at start-up on the
 * caller's thread, then one an hour on a thread that stop wakes at once. */
#include "service/retention.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"

struct retention_sweeper {
    store *store;
    double keep_s;
    pthread_t thread;
    pthread_mutex_t lock; /* guards stop and deleted */
    pthread_cond_t wake;
    int stop;
    int64_t deleted;
};

/* One sweep; logs what it did (a failure is logged, and the next sweep tries again). */
static void sweep(retention_sweeper *r) {
    char err[TRIDENT_ERR_SIZE];
    int64_t n = 0;
    int rc = store_retention_sweep(r->store, clock_wall_s() - r->keep_s, &n, err, sizeof err);
    pthread_mutex_lock(&r->lock);
    r->deleted += n;
    pthread_mutex_unlock(&r->lock);
    if (rc) log_error("retention", "sweep failed after deleting %lld calls: %s", (long long)n, err);
    else if (n) log_info("retention", "deleted calls past retention count=%lld retain_days=%g", (long long)n,
                         r->keep_s / 86400.0);
}

static void *retention_main(void *arg) {
    retention_sweeper *r = arg;
    pthread_mutex_lock(&r->lock);
    while (!r->stop) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += RETENTION_SWEEP_INTERVAL_S;
        while (!r->stop && pthread_cond_timedwait(&r->wake, &r->lock, &until) != ETIMEDOUT) {
        }
        if (r->stop) break;
        pthread_mutex_unlock(&r->lock);
        sweep(r);
        pthread_mutex_lock(&r->lock);
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

int retention_start(store *s, double days, retention_sweeper **out, char *err, size_t err_size) {
    *out = NULL;
    retention_sweeper *r = calloc(1, sizeof *r);
    if (!r) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory starting the retention sweeps");
    r->store = s;
    r->keep_s = days * 86400.0;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->wake, NULL);
    log_info("retention", "recordings and transcripts are deleted after retain_days=%g (closed calls; swept at "
                          "start-up and every %d s)",
             days, RETENTION_SWEEP_INTERVAL_S);
    sweep(r);
    if (pthread_create(&r->thread, NULL, retention_main, r) != 0) {
        pthread_cond_destroy(&r->wake);
        pthread_mutex_destroy(&r->lock);
        free(r);
        return error_set(err, err_size, TRIDENT_ENOMEM, "cannot start the retention thread");
    }
    *out = r;
    return TRIDENT_OK;
}

int64_t retention_deleted(retention_sweeper *r) {
    pthread_mutex_lock(&r->lock);
    int64_t n = r->deleted;
    pthread_mutex_unlock(&r->lock);
    return n;
}

void retention_stop(retention_sweeper *r) {
    if (!r) return;
    pthread_mutex_lock(&r->lock);
    r->stop = 1;
    pthread_cond_signal(&r->wake);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->thread, NULL);
    pthread_cond_destroy(&r->wake);
    pthread_mutex_destroy(&r->lock);
    free(r);
}
