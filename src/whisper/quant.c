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
        int8_t *q = j->q + (size_t)r * K;
        for (int b = 0; b < nb; b++) {
            int k0 = b * WHISPER_Q8_BLOCK, k1 = k0 + WHISPER_Q8_BLOCK < K ? k0 + WHISPER_Q8_BLOCK : K;
            float amax = 0.0f;
            for (int k = k0; k < k1; k++) amax = fmaxf(amax, fabsf(buf[k]));
            float scale = amax / 127.0f, inv = amax > 0.0f ? 127.0f / amax : 0.0f;
            j->scales[(size_t)r * nb + b] = scale;
            for (int k = k0; k < k1; k++) {
                float v = nearbyintf(buf[k] * inv);
                q[k] = (int8_t)(v > 127.0f ? 127 : v < -127.0f ? -127 : (int)v);
            }
        }
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
