/* kernels_gemm.c — linear layers y = x·Wᵀ + b (and the fused GELU form) over
 * the thread pool, in three shapes:
 *  - one activation row (a decoder step): a GEMV that streams each weight row
 *    once, split into a few long row ranges (two per thread, at least
 *    GEMV_MIN_ROWS rows: a range is one sequential stream whose prefetch runs
 *    on into the next range, where short ranges restart cold and leave their
 *    ends unprefetched); against q8 weights the row is first
 *    quantised the same way (per block of 32) and the blocks are integer dot
 *    products, as whisper.cpp's q8_0 does; several layers of the same row
 *    (Q, K, V) share one pass over the pool and one quantised row;
 *  - a few rows (a decoder prompt): each weight row against up to 4 rows at once;
 *  - many rows (the encoder): a blocked GEMM. A task owns a block of MB rows ×
 *    NB columns; for each KC-deep slice it converts its weight columns (fp32,
 *    fp16, bf16 or q8) into fp32 panels [KC][NR] in a per-thread buffer that
 *    stays in L2, then runs the MR×NR register-tiled micro-kernel over its rows
 *    (MR activation rows stay in L1 across the panels); bias and GELU are
 *    applied per task at the end. Tall blocks make the conversion, not the
 *    multiply-adds, the part that shrinks: 768 rows measured ~7 % faster than
 *    192 on the base encoder (bench/RESULTS.md).
 * A GEMM's split depends only on the shapes, never on the thread count, and a
 * GEMV computes each output whole in one kernel call, so results are identical
 * for any pool. */
#include <stdlib.h>

#include "base/mem.h"
#include "whisper/kernels.h"
#include "whisper/kernels_impl.h"

#define KC 256         /* depth of a packed slice: NB·KC·4 bytes = 128 KiB per thread */
#define NB 128         /* columns per GEMM task (8 panels) */
#define MB 768         /* rows per GEMM task (a multiple of MR): a weight slice is
                          converted once per 768 rows (twice per 30-s window) */
#define GEMM_MIN_ROWS 16
#define GEMV_MIN_ROWS 64     /* weight rows per GEMV task, at least */
#define GEMV_TASKS_PER_THREAD 2
#define SMALL_TILE_M 64
#define SMALL_TILE_N 16

typedef struct {
    const whisper_kernel_variant *v;
    float *y;
    const float *x;
    const whisper_matrix *w;
    const float *b;
    int gelu;
    int M, N, K;
    int n_blocks;  /* tasks along N */
    int gemv_rows; /* GEMV: weight rows per task (a multiple of 4, the kernels' pass) */
    float *panels; /* GEMM: one NB·KC buffer per thread */
    int8_t *xq;    /* q8 GEMV: the quantised activation row and its block scales */
    float *xd;
    whisper_rows_fn then; /* GEMV: called on each task's outputs, or NULL */
    void *then_ctx;
} linear_job;

static void epilogue(const linear_job *j, int m0, int m1, int n0, int n1) {
    for (int m = m0; m < m1; m++) {
        float *row = j->y + (size_t)m * j->N;
        if (j->b)
            for (int n = n0; n < n1; n++) row[n] += j->b[n];
        if (j->gelu) j->v->gelu(row + n0, (size_t)(n1 - n0));
    }
}

static void gemm_task(void *ctx, int task, int thread) {
    const linear_job *j = ctx;
    const int MR = WHISPER_GEMM_MR, NR = WHISPER_GEMM_NR;
    int nb = task % j->n_blocks, mb = task / j->n_blocks;
    int n0 = nb * NB, n1 = n0 + NB < j->N ? n0 + NB : j->N;
    int m0 = mb * MB, m1 = m0 + MB < j->M ? m0 + MB : j->M;
    int n_panels = (n1 - n0 + NR - 1) / NR;
    float *pan = j->panels + (size_t)thread * NB * KC;
    for (int k0 = 0; k0 < j->K; k0 += KC) {
        int kc = j->K - k0 < KC ? j->K - k0 : KC;
        for (int p = 0; p < n_panels; p++) {
            int c0 = n0 + p * NR, nr = n1 - c0 < NR ? n1 - c0 : NR;
            j->v->pack_panel(pan + (size_t)p * kc * NR, j->w, c0, nr, k0, kc);
        }
        for (int m = m0; m < m1; m += MR) {
            int mr = m1 - m < MR ? m1 - m : MR;
            const float *a = j->x + (size_t)m * j->K + k0;
            for (int p = 0; p < n_panels; p++) {
                int c0 = n0 + p * NR, nr = n1 - c0 < NR ? n1 - c0 : NR;
                j->v->gemm_tile(j->y + (size_t)m * j->N + c0, j->N, a, j->K, pan + (size_t)p * kc * NR, kc, mr, nr,
                                k0 > 0);
            }
        }
    }
    epilogue(j, m0, m1, n0, n1);
}

void whisper_gemv_rows(const whisper_kernel_variant *v, float *y, const float *x, const int8_t *xq, const float *xd,
                       const whisper_matrix *w, const float *b, int n0, int n1) {
    if (w->dtype == WHISPER_DTYPE_Q8)
        v->gemv_q8(y + n0, xq, xd, w, n0, n1);
    else
        v->gemv(y + n0, x, w, n0, n1);
    if (b)
        for (int n = n0; n < n1; n++) y[n] += b[n];
}

static void gemv_task(void *ctx, int task, int thread) {
    (void)thread;
    const linear_job *j = ctx;
    int n0 = task * j->gemv_rows, n1 = n0 + j->gemv_rows < j->N ? n0 + j->gemv_rows : j->N;
    whisper_gemv_rows(j->v, j->y, j->x, j->xq, j->xd, j->w, j->b, n0, n1);
    if (j->gelu) j->v->gelu(j->y + n0, (size_t)(n1 - n0));
    if (j->then) j->then(j->then_ctx, j->y, n0, n1, thread);
}

static void small_task(void *ctx, int task, int thread) {
    (void)thread;
    const linear_job *j = ctx;
    int tm = task / j->n_blocks, tn = task % j->n_blocks;
    int m0 = tm * SMALL_TILE_M, m1 = m0 + SMALL_TILE_M < j->M ? m0 + SMALL_TILE_M : j->M;
    int n0 = tn * SMALL_TILE_N, n1 = n0 + SMALL_TILE_N < j->N ? n0 + SMALL_TILE_N : j->N;
    j->v->linear_tile(j->y, j->N, j->x, j->K, m0, m1, j->w, n0, n1, NULL);
    epilogue(j, m0, m1, n0, n1);
}

static void run(threadpool *pool, int n_tasks, long work, threadpool_fn fn, linear_job *j) {
    if (!pool || threadpool_size(pool) <= 1 || work < 32768) {
        for (int t = 0; t < n_tasks; t++) fn(j, t, 0);
        return;
    }
    threadpool_run(pool, n_tasks, fn, j);
}

/* Several GEMVs of one row in one pass over the pool: task t belongs to the
 * first job whose cumulative task count exceeds it. */
typedef struct {
    linear_job *jobs;
    int n, first[WHISPER_LINEAR_MULTI_MAX + 1];
} gemv_set;

static void gemv_set_task(void *ctx, int task, int thread) {
    const gemv_set *s = ctx;
    int i = 0;
    while (task >= s->first[i + 1]) i++;
    gemv_task(&s->jobs[i], task - s->first[i], thread);
}

/* Runs the GEMVs of jobs[0 … n) (one activation row, the same K): q8 weights
 * meet the row quantised once. Returns -1 (nothing run) when there is no memory
 * for the quantised row. */
static int gemv_multi(threadpool *pool, linear_job *jobs, int n) {
    int K = jobs[0].K, nb = (K + WHISPER_Q8_BLOCK - 1) / WHISPER_Q8_BLOCK, any_q8 = 0;
    int ranges = GEMV_TASKS_PER_THREAD * threadpool_size(pool);
    gemv_set s = {jobs, n, {0}};
    long work = 0;
    for (int i = 0; i < n; i++) {
        int rows = (jobs[i].N + ranges - 1) / ranges;
        rows = (rows + 3) / 4 * 4;
        jobs[i].gemv_rows = rows > GEMV_MIN_ROWS ? rows : GEMV_MIN_ROWS;
        any_q8 |= jobs[i].w->dtype == WHISPER_DTYPE_Q8;
        s.first[i + 1] = s.first[i] + (jobs[i].N + jobs[i].gemv_rows - 1) / jobs[i].gemv_rows;
        work += (long)jobs[i].N * K;
    }
    float *xd = NULL;
    if (any_q8) {
        xd = malloc((size_t)nb * sizeof(float) + (size_t)K);
        if (!xd) return -1;
        whisper_q8_quantize_row(jobs[0].x, K, (int8_t *)(xd + nb), xd);
        for (int i = 0; i < n; i++)
            if (jobs[i].w->dtype == WHISPER_DTYPE_Q8) jobs[i].xd = xd, jobs[i].xq = (int8_t *)(xd + nb);
    }
    if (n == 1)
        run(pool, s.first[1], work, gemv_task, jobs);
    else if (!pool || threadpool_size(pool) <= 1 || work < 32768)
        for (int t = 0; t < s.first[n]; t++) gemv_set_task(&s, t, 0);
    else
        threadpool_run(pool, s.first[n], gemv_set_task, &s);
    free(xd);
    return 0;
}

static void linear(threadpool *pool, float *y, const float *x, int M, const whisper_matrix *w, const float *b,
                   int gelu) {
    if (M <= 0 || w->rows <= 0) return;
    linear_job j = {whisper_kernels_variant(), y, x, w, b, gelu, M, w->rows, w->cols, 0, 0, NULL, NULL, NULL, NULL, NULL};
    long work = (long)M * j.N * j.K;
    if (M == 1 && gemv_multi(pool, &j, 1) == 0) return;
    /* M == 1 here only without memory for the quantised row: the small-batch path (fp32 activations) */
    if (M >= GEMM_MIN_ROWS) {
        int n_threads = threadpool_size(pool);
        j.panels = mem_alloc_aligned((size_t)n_threads * NB * KC * sizeof(float));
        if (j.panels) {
            j.n_blocks = (j.N + NB - 1) / NB;
            run(pool, j.n_blocks * ((M + MB - 1) / MB), work, gemm_task, &j);
            free(j.panels);
            return;
        }
        /* no memory for the panels: the unpacked path below (slower, same math) */
    }
    j.n_blocks = (j.N + SMALL_TILE_N - 1) / SMALL_TILE_N;
    run(pool, j.n_blocks * ((M + SMALL_TILE_M - 1) / SMALL_TILE_M), work, small_task, &j);
}

void whisper_linear(threadpool *pool, float *y, const float *x, int n_rows, const whisper_matrix *w, const float *b) {
    linear(pool, y, x, n_rows, w, b, 0);
}

void whisper_linear_multi(threadpool *pool, const float *x, int n_rows, const whisper_linear_out *outs, int n) {
    linear_job jobs[WHISPER_LINEAR_MULTI_MAX];
    int m = 0;
    for (int i = 0; i < n; i++) {
        const whisper_matrix *w = outs[i].w;
        if (n_rows == 1 && w->rows > 0) {
            linear_job j = {whisper_kernels_variant(), outs[i].y, x, w, outs[i].b, 0, 1, w->rows, w->cols, 0, 0, NULL,
                            NULL, NULL, NULL, NULL};
            jobs[m++] = j;
        }
    }
    if (n_rows == 1 && (m == 0 || gemv_multi(pool, jobs, m) == 0)) return;
    for (int i = 0; i < n; i++) linear(pool, outs[i].y, x, n_rows, outs[i].w, outs[i].b, 0);
}

void whisper_gemv_then(threadpool *pool, float *y, const float *x, const whisper_matrix *w, const float *b,
                       whisper_rows_fn then, void *ctx) {
    if (w->rows <= 0) return;
    linear_job j = {whisper_kernels_variant(), y, x, w, b, 0, 1, w->rows, w->cols, 0, 0, NULL, NULL, NULL, then, ctx};
    if (gemv_multi(pool, &j, 1) == 0) return;
    linear(pool, y, x, 1, w, b, 0); /* no memory for a quantised row */
    then(ctx, y, 0, w->rows, 0);
}

void whisper_linear_gelu(threadpool *pool, float *y, const float *x, int n_rows, const whisper_matrix *w,
                         const float *b) {
    linear(pool, y, x, n_rows, w, b, 1);
}
