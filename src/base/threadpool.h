/* threadpool.h — a fixed set of worker threads that run data-parallel loops.
 *
 * threadpool_run splits a loop of n_tasks iterations over the pool's threads
 * (the calling thread takes part) and returns when every iteration is done.
 * Tasks are handed out one at a time from an atomic counter, so uneven tasks
 * balance. A run never waits for a worker that has not started on it (asleep,
 * or preempted on a busy machine): the threads that are there share the work.
 * Calls from different threads on one pool are serialised; a pool of one
 * thread runs everything on the caller. Workers spin briefly between runs
 * before they sleep, so back-to-back small runs (decoder steps) stay cheap. */
#ifndef TRIDENT_BASE_THREADPOOL_H
#define TRIDENT_BASE_THREADPOOL_H

typedef struct threadpool threadpool;

/* fn(ctx, task, thread): task in [0, n_tasks), thread in [0, threadpool_size). */
typedef void (*threadpool_fn)(void *ctx, int task, int thread);

/* Creates a pool with n_threads threads in all (the caller counts as one);
 * n_threads <= 0 means the number of online cores. Returns NULL on failure.
 * The caller owns the pool and frees it with threadpool_free. */
threadpool *threadpool_new(int n_threads);
void threadpool_free(threadpool *pool);

/* Number of threads that run tasks (including the caller). */
int threadpool_size(const threadpool *pool);

/* Runs fn for every task in [0, n_tasks) and waits for all of them.
 * pool may be NULL: then everything runs on the caller. */
void threadpool_run(threadpool *pool, int n_tasks, threadpool_fn fn, void *ctx);

/* Number of online cores (at least 1). */
int threadpool_cores(void);

#endif
