/* quant.c — converting weight matrices to 8-bit values with per-block fp32
 * scales (quant.h), row ranges split over the thread pool. */
#include "whisper/quant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "whisper/kernels_impl.h"

#define ROWS_PER_TASK 64

size_t whisper_q8_values_bytes(int rows, int cols) { return (size_t)rows * (size_t)cols; }

size_t whisper_q8_scales_count(int rows, int cols) {
    return (size_t)rows * (size_t)((cols + WHISPER_Q8_BLOCK - 1) / WHISPER_Q8_BLOCK);
}

typedef struct {
    const whisper_matrix *src;
    int8_t *q;
    float *scales;
    float *rows; /* one row of scratch per thread */
} quant_job;

static void quant_task(void *ctx, int task, int thread) {
    const quant_job *j = ctx;
    const whisper_matrix *w = j->src;
    int K = w->cols, nb = (K + WHISPER_Q8_BLOCK - 1) / WHISPER_Q8_BLOCK;
    int r0 = task * ROWS_PER_TASK, r1 = r0 + ROWS_PER_TASK < w->rows ? r0 + ROWS_PER_TASK : w->rows;
    float *buf = j->rows + (size_t)thread * K;
    for (int r = r0; r < r1; r++) {
        whisper_matrix_row(w, r, buf);
        whisper_q8_quantize_row(buf, K, j->q + (size_t)r * K, j->scales + (size_t)r * nb);
    }
}

int whisper_q8_quantize_into(const whisper_matrix *src, threadpool *pool, int8_t *q, float *scales,
                             whisper_matrix *out) {
    quant_job j = {src, q, scales, malloc((size_t)threadpool_size(pool) * (size_t)src->cols * sizeof(float))};
    if (!j.rows) return TRIDENT_ENOMEM;
    threadpool_run(pool, (src->rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK, quant_task, &j);
    free(j.rows);
    out->data = q;
    out->dtype = WHISPER_DTYPE_Q8;
    out->rows = src->rows;
    out->cols = src->cols;
    out->scales = scales;
    return 0;
}

/* ---- q8 projection with exact top entries ---- */

#define BOUND_ROWS_PER_TASK 4096
#define BOUND_MAX_TASKS 64

typedef struct {
    const whisper_matrix *q;
    const float *y;     /* one row of the q8 pass */
    const float *xabs;  /* [nb]: Σ|x| + 32·127·xd of each block of 32 (xd = max|x| / 127) */
    float *bound;       /* [q->rows] */
    float lower[BOUND_MAX_TASKS]; /* per task: max over its entries of y − bound */
    int rows_per_task;
} bound_job;

static void bound_task(void *ctx, int task, int thread) {
    (void)thread;
    bound_job *j = ctx;
    int nb = (j->q->cols + WHISPER_Q8_BLOCK - 1) / WHISPER_Q8_BLOCK;
    int v0 = task * j->rows_per_task, v1 = v0 + j->rows_per_task < j->q->rows ? v0 + j->rows_per_task : j->q->rows;
    float lower = -INFINITY;
    for (int v = v0; v < v1; v++) {
        const float *sc = j->q->scales + (size_t)v * nb;
        float e = 0.0f;
        for (int b = 0; b < nb; b++) e += sc[b] * j->xabs[b];
        /* quantisation error ≤ scale/2 · xabs per block (quant.h); 1e-3 relative and 1e-5 of
         * |y| absolute cover fp32 rounding of both passes */
        float bound = 0.5005f * e + 1e-5f * fabsf(j->y[v]) + 1e-6f;
        j->bound[v] = bound;
        if (j->y[v] - bound > lower) lower = j->y[v] - bound;
    }
    j->lower[task] = lower;
}

size_t whisper_q8_top_exact_scratch(const whisper_matrix *q) {
    return (size_t)q->rows + (size_t)q->cols + (size_t)(q->cols + WHISPER_Q8_BLOCK - 1) / WHISPER_Q8_BLOCK;
}

void whisper_q8_linear_top_exact(threadpool *pool, float *y, const float *x, int n_rows, const whisper_matrix *q,
                                 const whisper_matrix *exact, float *scratch) {
    int V = q->rows, K = q->cols, nb = (K + WHISPER_Q8_BLOCK - 1) / WHISPER_Q8_BLOCK;
    float *bound = scratch, *row = scratch + V, *xabs = row + K;
    whisper_linear(pool, y, x, n_rows, q, NULL);
    const whisper_kernel_variant *var = whisper_kernels_variant();
    bound_job j = {.q = q, .xabs = xabs, .bound = bound, .rows_per_task = BOUND_ROWS_PER_TASK};
    int n_tasks = (V + j.rows_per_task - 1) / j.rows_per_task;
    if (n_tasks > BOUND_MAX_TASKS) {
        j.rows_per_task = (V + BOUND_MAX_TASKS - 1) / BOUND_MAX_TASKS;
        n_tasks = (V + j.rows_per_task - 1) / j.rows_per_task;
    }
    for (int r = 0; r < n_rows; r++) {
        const float *xr = x + (size_t)r * K;
        float *yr = y + (size_t)r * V;
        for (int b = 0; b < nb; b++) {
            int k1 = (b + 1) * WHISPER_Q8_BLOCK < K ? (b + 1) * WHISPER_Q8_BLOCK : K;
            float a = 0.0f, amax = 0.0f;
            for (int k = b * WHISPER_Q8_BLOCK; k < k1; k++) a += fabsf(xr[k]), amax = fmaxf(amax, fabsf(xr[k]));
            a += (float)(WHISPER_Q8_BLOCK * 127) * (amax / 127.0f);
            xabs[b] = a;
        }
        j.y = yr;
        threadpool_run(pool, n_tasks, bound_task, &j);
        float lower = -INFINITY;
        for (int t = 0; t < n_tasks; t++) lower = j.lower[t] > lower ? j.lower[t] : lower;
        for (int v = 0; v < V; v++)
            if (yr[v] + bound[v] >= lower) {
                whisper_matrix_row(exact, v, row);
                yr[v] = var->dot(xr, row, K);
            }
    }
}

int whisper_q8_quantize(const whisper_matrix *src, threadpool *pool, whisper_q8_matrix *out) {
    memset(out, 0, sizeof *out);
    out->q = malloc(whisper_q8_values_bytes(src->rows, src->cols) + 1);
    out->scales = malloc((whisper_q8_scales_count(src->rows, src->cols) + 1) * sizeof(float));
    if (!out->q || !out->scales) {
        whisper_q8_matrix_free(out);
        return TRIDENT_ENOMEM;
    }
    int rc = whisper_q8_quantize_into(src, pool, out->q, out->scales, &out->m);
    if (rc) whisper_q8_matrix_free(out);
    return rc;
}

void whisper_q8_matrix_free(whisper_q8_matrix *q) {
    free(q->q);
    free(q->scales);
    memset(q, 0, sizeof *q);
}
