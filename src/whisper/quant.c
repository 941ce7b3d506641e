/* quant.c — converting weight matrices to 8-bit values with per-block fp16
 * scales (quant.h), row ranges split over the thread pool, and the precision
 * rule that decides which of a model's matrices become 8-bit. */
#include "whisper/quant.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/floats.h"
#include "base/log.h"
#include "whisper/kernels_impl.h"
#include "whisper/model.h"

#define ROWS_PER_TASK 64

size_t whisper_q8_values_bytes(int rows, int cols) { return (size_t)rows * (size_t)cols; }

size_t whisper_q8_scales_count(int rows, int cols) {
    return (size_t)rows * (size_t)((cols + WHISPER_Q8_BLOCK - 1) / WHISPER_Q8_BLOCK);
}

typedef struct {
    const whisper_matrix *src;
    int8_t *q;
    uint16_t *scales;
    float *rows; /* one row of scratch per thread */
    atomic_int unrepresentable;
} quant_job;

#define FP16_MAX 65504.0f /* fp16's largest finite value */

/* One row of weights, per block of 32: the scale is max|w| / 127 rounded to the
 * nearest fp16, q = w / scale rounded to nearest even and kept within ±127.
 * The error stays within half a step: a value the rounded-down scale puts past
 * 127 is at most 127·2⁻¹¹ steps past it. Returns -1 (q and scale unusable)
 * when a block's scale exceeds fp16's range or a value is not finite. */
static int quantize_weight_row(const float *w, int n, int8_t *q, uint16_t *scale) {
    for (int k0 = 0, b = 0; k0 < n; k0 += WHISPER_Q8_BLOCK, b++) {
        int k1 = k0 + WHISPER_Q8_BLOCK < n ? k0 + WHISPER_Q8_BLOCK : n;
        float amax = 0.0f;
        for (int k = k0; k < k1; k++) {
            float a = fabsf(w[k]);
            if (isnan(a)) return -1;
            amax = a > amax ? a : amax;
        }
        if (!(amax / 127.0f <= FP16_MAX)) return -1;
        scale[b] = floats_fp32_to_fp16(amax / 127.0f);
        float d = whisper_fp16_to_fp32(scale[b]), inv = d > 0.0f ? 1.0f / d : 0.0f;
        for (int k = k0; k < k1; k++) {
            float v = nearbyintf(w[k] * inv);
            q[k] = (int8_t)(v > 127.0f ? 127 : v < -127.0f ? -127 : (int)v);
        }
    }
    return 0;
}

static void quant_task(void *ctx, int task, int thread) {
    quant_job *j = ctx;
    const whisper_matrix *w = j->src;
    int K = w->cols, nb = (K + WHISPER_Q8_BLOCK - 1) / WHISPER_Q8_BLOCK;
    int r0 = task * ROWS_PER_TASK, r1 = r0 + ROWS_PER_TASK < w->rows ? r0 + ROWS_PER_TASK : w->rows;
    float *buf = j->rows + (size_t)thread * K;
    for (int r = r0; r < r1; r++) {
        whisper_matrix_row(w, r, buf);
        if (quantize_weight_row(buf, K, j->q + (size_t)r * K, j->scales + (size_t)r * nb) != 0)
            atomic_store_explicit(&j->unrepresentable, 1, memory_order_relaxed);
    }
}

int whisper_q8_quantize_into(const whisper_matrix *src, threadpool *pool, int8_t *q, uint16_t *scales,
                             whisper_matrix *out) {
    quant_job j = {src, q, scales, malloc((size_t)threadpool_size(pool) * (size_t)src->cols * sizeof(float)), 0};
    if (!j.rows) return TRIDENT_ENOMEM;
    threadpool_run(pool, (src->rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK, quant_task, &j);
    free(j.rows);
    if (atomic_load(&j.unrepresentable)) return TRIDENT_ELIMIT;
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
    float lower[BOUND_MAX_TASKS]; /* per task (or per thread): max over its entries of y − bound */
    int rows_per_task;
} bound_job;

/* Writes the bounds of entries v0 … v1−1 of y; returns the largest y − bound among them.
 * Σ_b scale[v][b]·xabs[b] is a GEMV of the fp16 scales (a [rows][nb] matrix). */
static float bound_rows(const bound_job *j, const float *y, int v0, int v1) {
    int nb = (j->q->cols + WHISPER_Q8_BLOCK - 1) / WHISPER_Q8_BLOCK;
    whisper_matrix scales = {j->q->scales, WHISPER_DTYPE_F16, j->q->rows, nb, NULL};
    whisper_kernels_variant()->gemv(j->bound + v0, j->xabs, &scales, v0, v1);
    float lower = -INFINITY;
    for (int v = v0; v < v1; v++) {
        /* quantisation error ≤ scale/2 · xabs per block (quant.h); 1e-3 relative and 1e-5 of
         * |y| absolute cover fp32 rounding of both passes */
        float bound = 0.5005f * j->bound[v] + 1e-5f * fabsf(y[v]) + 1e-6f;
        j->bound[v] = bound;
        if (y[v] - bound > lower) lower = y[v] - bound;
    }
    return lower;
}

static void bound_task(void *ctx, int task, int thread) {
    (void)thread;
    bound_job *j = ctx;
    int v0 = task * j->rows_per_task, v1 = v0 + j->rows_per_task < j->q->rows ? v0 + j->rows_per_task : j->q->rows;
    j->lower[task] = bound_rows(j, j->y, v0, v1);
}

/* The single-row pass: the bounds of each GEMV task's outputs, while they and their scales are in cache. */
static void bound_after_gemv(void *ctx, const float *y, int v0, int v1, int thread) {
    bound_job *j = ctx;
    float lower = bound_rows(j, y, v0, v1);
    if (lower > j->lower[thread]) j->lower[thread] = lower;
}

size_t whisper_q8_top_exact_scratch(const whisper_matrix *q) {
    return (size_t)q->rows + (size_t)(q->cols + WHISPER_Q8_BLOCK - 1) / WHISPER_Q8_BLOCK;
}

void whisper_q8_linear_top_exact(threadpool *pool, float *y, const float *x, int n_rows, const whisper_matrix *q,
                                 const whisper_matrix *exact, float *scratch) {
    int V = q->rows, K = q->cols, nb = (K + WHISPER_Q8_BLOCK - 1) / WHISPER_Q8_BLOCK;
    int fused = n_rows == 1 && threadpool_size(pool) <= BOUND_MAX_TASKS;
    float *bound = scratch, *xabs = scratch + V;
    if (!fused) whisper_linear(pool, y, x, n_rows, q, NULL);
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
        int n_lower = n_tasks;
        if (fused) {
            n_lower = threadpool_size(pool);
            for (int t = 0; t < n_lower; t++) j.lower[t] = -INFINITY;
            whisper_gemv_then(pool, yr, xr, q, NULL, bound_after_gemv, &j);
        } else {
            j.y = yr;
            threadpool_run(pool, n_tasks, bound_task, &j);
        }
        float lower = -INFINITY;
        for (int t = 0; t < n_lower; t++) lower = j.lower[t] > lower ? j.lower[t] : lower;
        /* the candidates, as whisper_linear of exact computes them for this many rows
         * (one: the GEMV; several: the small-batch tile, whose rows do not interact) */
        for (int v = 0; v < V; v++)
            if (yr[v] + bound[v] >= lower) {
                if (n_rows == 1)
                    var->gemv(yr + v, xr, exact, v, v + 1);
                else
                    var->linear_tile(yr, 0, xr, 0, 0, 1, exact, v, v + 1, NULL);
            }
    }
}

int whisper_q8_quantize(const whisper_matrix *src, threadpool *pool, whisper_q8_matrix *out) {
    memset(out, 0, sizeof *out);
    out->q = malloc(whisper_q8_values_bytes(src->rows, src->cols) + 1);
    out->scales = malloc((whisper_q8_scales_count(src->rows, src->cols) + 1) * sizeof(uint16_t));
    if (!out->q || !out->scales) {
        whisper_q8_matrix_clear(out);
        return TRIDENT_ENOMEM;
    }
    int rc = whisper_q8_quantize_into(src, pool, out->q, out->scales, &out->m);
    if (rc) whisper_q8_matrix_clear(out);
    return rc;
}

void whisper_q8_matrix_clear(whisper_q8_matrix *q) {
    free(q->q);
    free(q->scales);
    memset(q, 0, sizeof *q);
}

/* ---- the precision rule: which decoder matrices become 8-bit ---- */

/* Attention logits (q·k/√d_head) whose rms reaches this are "hard": the softmax
 * is close to one-hot, and 8-bit weights' relative error (≈ 0.55 % rms for
 * Gaussian-like blocks of 32) moves each logit by ≈ √2 · 0.0055 · rms ≥ 0.06 —
 * enough to switch which key dominates wherever the top two are that close,
 * which turns a small weight error into a different attention output. Below it
 * the softmax is soft and its output moves in proportion to the error. */
#define Q8_HARD_LOGIT_RMS 8.0

/* E[y_j²] for each output j of y = LN(x)·Wᵀ + bias, the layer norm's normalised
 * features taken as independent with unit variance: Σ_k (g_k·w_jk)² +
 * (bias_j + Σ_k b_k·w_jk)². out has lin->w.rows entries; row is lin->w.cols
 * floats of scratch. */
static void linear_output_power(const whisper_linear_weights *lin, const whisper_norm_weights *ln, float *row,
                                double *out) {
    for (int j = 0; j < lin->w.rows; j++) {
        whisper_matrix_row(&lin->w, j, row);
        double var = 0, mean = lin->b ? lin->b[j] : 0.0;
        for (int k = 0; k < lin->w.cols; k++) {
            var += (double)ln->g[k] * ln->g[k] * row[k] * row[k];
            mean += (double)ln->b[k] * row[k];
        }
        out[j] = var + mean * mean;
    }
}

/* A data-free estimate of the rms of an attention's logits: with q and k
 * independent, a head's logit Σ_{j∈head} q_j·k_j / √d_head has variance
 * mean_{j∈head} E[q_j²]·E[k_j²], so over all heads the rms is
 * sqrt(mean_j E[q_j²]·E[k_j²]). q is fed by layer norm qn, k by kn. scratch
 * holds d_model floats, pq and pk d_model doubles each. */
static double attention_logit_rms(const whisper_linear_weights *q, const whisper_norm_weights *qn,
                                  const whisper_linear_weights *k, const whisper_norm_weights *kn, float *scratch,
                                  double *pq, double *pk) {
    linear_output_power(q, qn, scratch, pq);
    linear_output_power(k, kn, scratch, pk);
    double sum = 0;
    for (int j = 0; j < q->w.rows; j++) sum += pq[j] * pk[j];
    return sqrt(sum / q->w.rows);
}

/* Converts src to q8 in buffers the model owns, into *dst (which may be src). */
static int matrix_quantize_to(whisper_model *m, const whisper_matrix *src, whisper_matrix *dst, threadpool *pool) {
    size_t values = whisper_q8_values_bytes(src->rows, src->cols);
    size_t scales = whisper_q8_scales_count(src->rows, src->cols);
    int8_t *q = (int8_t *)whisper_model_alloc(m, (values + sizeof(float) - 1) / sizeof(float));
    uint16_t *sc = (uint16_t *)whisper_model_alloc(m, (scales + 1) / 2);
    if (!q || !sc) return TRIDENT_ENOMEM;
    whisper_matrix out;
    int rc = whisper_q8_quantize_into(src, pool, q, sc, &out);
    if (rc) return rc;
    *dst = out;
    return 0;
}

/* Converts one matrix to q8 in place (buffers the model owns); one q8 cannot
 * represent stays as it is. */
static int matrix_quantize(whisper_model *m, whisper_matrix *w, threadpool *pool) {
    size_t before = whisper_matrix_bytes(w);
    int rc = matrix_quantize_to(m, w, w, pool);
    if (rc == 0) m->weight_bytes = m->weight_bytes - before + whisper_matrix_bytes(w);
    if (rc == TRIDENT_ELIMIT) {
        log_warn("whisper", "8-bit weights: a %dx%d decoder matrix has values beyond q8's range (|w| > 127 x 65504 "
                 "or not finite); it stays as loaded", w->rows, w->cols);
        rc = 0;
    }
    return rc;
}

/* Makes a matrix 16-bit: an fp32 one (an fp32 checkpoint's, or LoRA-merged) is
 * rounded to fp16 in a buffer the model owns unless a value exceeds fp16's
 * range; fp16 and bf16 ones stay as loaded. */
static int matrix_16bit(whisper_model *m, whisper_matrix *w) {
    if (w->dtype != WHISPER_DTYPE_F32) return 0;
    size_t n = (size_t)w->rows * (size_t)w->cols;
    const float *src = w->data;
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(src[i]) <= FP16_MAX)) return 0;
    uint16_t *h = (uint16_t *)whisper_model_alloc(m, (n + 1) / 2);
    if (!h) return TRIDENT_ENOMEM;
    whisper_convert_fp16(h, src, n);
    size_t before = whisper_matrix_bytes(w);
    w->data = h;
    w->dtype = WHISPER_DTYPE_F16;
    m->weight_bytes = m->weight_bytes - before + whisper_matrix_bytes(w);
    return 0;
}

/* The decoder's per-step weights shrink: per decoder layer, self-attention
 * q/k/v/out, cross-attention q/out, fc1 and fc2 become q8, and the token
 * embedding (also the vocabulary projection) becomes 16-bit. The vocabulary
 * projection stays 16-bit because its errors go straight into the logits: 8-bit
 * moves them by ≈ 0.55 % of their rms, which swaps near-tied tokens
 * (README's q8 section has the measurements). The encoder and the
 * cross-attention k/v projections run as compute-bound GEMMs once per window,
 * where 8-bit weights would only add error (the GEMM widens every weight to
 * fp32 anyway); they stay as loaded (memory-mapped), as do the convolutions and
 * vectors.
 *
 * Exception: when a decoder attention is hard (attention_logit_rms ≥
 * Q8_HARD_LOGIT_RMS), the layer matrices whose outputs reach its logits — all
 * those of the layers before it and its own up to its q (and, for
 * self-attention, k) — become 16-bit instead; the later ones still become q8. */
int whisper_q8_model_convert(whisper_model *m, int n_threads, char *err, size_t err_size) {
    const int per_layer = 8, d = m->hp.d_model, n = per_layer * m->hp.dec_layers;
    whisper_matrix **mats = malloc((size_t)n * sizeof *mats);
    float *scratch = malloc((size_t)d * sizeof *scratch);
    double *pq = malloc((size_t)d * sizeof *pq), *pk = malloc((size_t)d * sizeof *pk);
    threadpool *pool = threadpool_new(n_threads);
    int rc = mats && scratch && pq && pk && pool ? 0 : TRIDENT_ENOMEM;
    const char *what =
        pool ? "out of memory converting weights to 8 bits" : "cannot start threads to convert weights to 8 bits";
    /* in the order of a decoder step; the first `keep` become 16-bit */
    int keep = 0, hard_layer = -1;
    const char *hard_kind = "";
    double hard_rms = 0;
    for (int l = 0; rc == 0 && l < m->hp.dec_layers; l++) {
        whisper_layer_weights *L = &m->dec[l];
        whisper_matrix *layer[] = {&L->self.q.w,  &L->self.k.w,  &L->self.v.w, &L->self.o.w,
                                   &L->cross.q.w, &L->cross.o.w, &L->fc1.w,    &L->fc2.w};
        memcpy(mats + per_layer * l, layer, sizeof layer);
        double self = attention_logit_rms(&L->self.q, &L->self.ln, &L->self.k, &L->self.ln, scratch, pq, pk);
        double cross = attention_logit_rms(&L->cross.q, &L->cross.ln, &L->cross.k, &m->enc_ln, scratch, pq, pk);
        /* up to self k (2 matrices of the layer) or cross q (5) */
        int upto = cross >= Q8_HARD_LOGIT_RMS ? 5 : self >= Q8_HARD_LOGIT_RMS ? 2 : 0;
        if (upto) {
            keep = per_layer * l + upto;
            hard_layer = l;
            hard_kind = upto == 5 ? "cross" : "self";
            hard_rms = upto == 5 ? cross : self;
        }
    }
    if (rc == 0 && keep)
        log_info("whisper", "8-bit weights: decoder layer %d's %s-attention is hard (logit rms ~%.1f >= %g); the %d of "
                 "%d decoder layer matrices upstream of it stay 16-bit",
                 hard_layer, hard_kind, hard_rms, Q8_HARD_LOGIT_RMS, keep, n);
    if (rc == 0) rc = matrix_16bit(m, &m->embed_tokens);
    if (rc == 0) rc = matrix_quantize_to(m, &m->embed_tokens, &m->proj_q8, pool);
    if (rc == TRIDENT_ELIMIT) { /* beyond q8's range: the 16-bit projection alone */
        memset(&m->proj_q8, 0, sizeof m->proj_q8);
        rc = 0;
    } else if (rc == 0) /* a step reads the 8-bit projection and only a few 16-bit rows */
        m->weight_bytes = m->weight_bytes - whisper_matrix_bytes(&m->embed_tokens) + whisper_matrix_bytes(&m->proj_q8);
    for (int i = 0; rc == 0 && i < n; i++) rc = i < keep ? matrix_16bit(m, mats[i]) : matrix_quantize(m, mats[i], pool);
    threadpool_free(pool);
    free(mats);
    free(scratch);
    free(pq);
    free(pk);
    if (rc) return error_set(err, err_size, rc, "%s", what);
    return 0;
}
