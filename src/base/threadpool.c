/* threadpool.c — worker threads, a generation counter to start a run, an
 * atomic task counter to share it out, and a join word to end it.
 *
 * A run ends as soon as its tasks are done: the caller does not wait for
 * workers that were slow to wake (asleep, or preempted by another process on a
 * busy machine). The join word holds a "closed" bit and the number of workers
 * taking part; a worker joins only while the run is open, and the caller, once
 * the task counter is exhausted, closes the run and waits for the workers that
 * joined to finish the tasks they took. A worker that wakes after the close
 * goes back to waiting for the next run. */
#include "base/threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#define SPIN_ITERATIONS 20000
#define RUN_CLOSED 0x40000000 /* join word: the run takes no more workers */

struct threadpool {
    int n_threads;
    pthread_t *threads;
    pthread_mutex_t run_lock; /* serialises threadpool_run callers */
    pthread_mutex_t lock;     /* guards sleeping workers */
    pthread_cond_t wake;
    atomic_uint generation;   /* bumped once per run */
    atomic_int next_task;
    atomic_int join;          /* RUN_CLOSED | workers taking part in the current run */
    atomic_int quit;
    int n_tasks;
    threadpool_fn fn;
    void *ctx;
};

typedef struct {
    threadpool *pool;
    int index;
} worker_arg;

static void pool_work(threadpool *pool, int thread) {
    for (;;) {
        int task = atomic_fetch_add_explicit(&pool->next_task, 1, memory_order_relaxed);
        if (task >= pool->n_tasks) break;
        pool->fn(pool->ctx, task, thread);
    }
}

static void *pool_worker(void *p) {
    worker_arg *arg = p;
    threadpool *pool = arg->pool;
    int index = arg->index;
    free(arg);
    unsigned seen = 0; /* generation before the first run, even if the pool is already running one */
    for (;;) {
        int spins = 0;
        while (atomic_load_explicit(&pool->generation, memory_order_acquire) == seen &&
               !atomic_load(&pool->quit)) {
            if (++spins < SPIN_ITERATIONS) continue;
            pthread_mutex_lock(&pool->lock);
            while (atomic_load(&pool->generation) == seen && !atomic_load(&pool->quit))
                pthread_cond_wait(&pool->wake, &pool->lock);
            pthread_mutex_unlock(&pool->lock);
        }
        if (atomic_load(&pool->quit)) return NULL;
        seen = atomic_load(&pool->generation);
        int j = atomic_load_explicit(&pool->join, memory_order_acquire);
        while (!(j & RUN_CLOSED))
            if (atomic_compare_exchange_weak_explicit(&pool->join, &j, j + 1, memory_order_acq_rel,
                                                      memory_order_acquire)) {
                pool_work(pool, index);
                atomic_fetch_sub_explicit(&pool->join, 1, memory_order_acq_rel);
                break;
            }
    }
}

int threadpool_cores(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

threadpool *threadpool_new(int n_threads) {
    if (n_threads <= 0) n_threads = threadpool_cores();
    threadpool *pool = calloc(1, sizeof *pool);
    if (!pool) return NULL;
    pool->n_threads = n_threads;
    pthread_mutex_init(&pool->run_lock, NULL);
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    if (n_threads > 1) {
        pool->threads = calloc((size_t)n_threads - 1, sizeof *pool->threads);
        if (!pool->threads) goto fail;
        for (int i = 1; i < n_threads; i++) {
            worker_arg *arg = malloc(sizeof *arg);
            if (!arg) goto fail_started;
            arg->pool = pool;
            arg->index = i;
            if (pthread_create(&pool->threads[i - 1], NULL, pool_worker, arg) != 0) {
                free(arg);
                goto fail_started;
            }
            continue;
        fail_started:
            pool->n_threads = i; /* threads 1..i-1 were started */
            threadpool_free(pool);
            return NULL;
        }
    }
    return pool;
fail:
    free(pool->threads);
    free(pool);
    return NULL;
}

void threadpool_free(threadpool *pool) {
    if (!pool) return;
    pthread_mutex_lock(&pool->lock);
    atomic_store(&pool->quit, 1);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 1; i < pool->n_threads; i++) pthread_join(pool->threads[i - 1], NULL);
    pthread_mutex_destroy(&pool->run_lock);
    pthread_mutex_destroy(&pool->lock);
    pthread_cond_destroy(&pool->wake);
    free(pool->threads);
    free(pool);
}

int threadpool_size(const threadpool *pool) { return pool ? pool->n_threads : 1; }

void threadpool_run(threadpool *pool, int n_tasks, threadpool_fn fn, void *ctx) {
    if (n_tasks <= 0) return;
    if (!pool || pool->n_threads == 1 || n_tasks == 1) {
        for (int t = 0; t < n_tasks; t++) fn(ctx, t, 0);
        return;
    }
    pthread_mutex_lock(&pool->run_lock);
    pool->fn = fn;
    pool->ctx = ctx;
    pool->n_tasks = n_tasks;
    atomic_store(&pool->next_task, 0);
    atomic_store(&pool->join, 0);
    pthread_mutex_lock(&pool->lock);
    atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    pool_work(pool, 0);
    /* every task is taken: close the run, then wait for the workers that
     * joined it to finish theirs (yielding, in case one was preempted) */
    atomic_fetch_or_explicit(&pool->join, RUN_CLOSED, memory_order_acq_rel);
    for (int spins = 0; atomic_load_explicit(&pool->join, memory_order_acquire) != RUN_CLOSED; spins++)
        if (spins > 1000) sched_yield();
    pthread_mutex_unlock(&pool->run_lock);
}
