/* kernels.c — the portable kernels, tiling/threading of the hot loops and the
 * run-time choice between the portable and AVX2 variants (kernels_avx2.c). */
#include "whisper/kernels.h"

#include <math.h>
#include <string.h>

#include "base/cpu.h"
#include "whisper/kernels_impl.h"

/* ---- element conversion ---- */

size_t whisper_dtype_size(whisper_dtype dtype) { return dtype == WHISPER_DTYPE_F32 ? 4 : 2; }

float whisper_fp16_to_fp32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
    if (exp == 0) {
        if (mant == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            int e = -1;
            do {
                e++;
                mant <<= 1;
            } while (!(mant & 0x400));
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((mant & 0x3ff) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (mant << 13);
    } else {
        bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

float whisper_bf16_to_fp32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

void whisper_convert_fp32(float *dst, const void *src, whisper_dtype dtype, size_t n) {
    switch (dtype) {
    case WHISPER_DTYPE_F32: memcpy(dst, src, n * sizeof(float)); break;
    case WHISPER_DTYPE_F16:
        for (size_t i = 0; i < n; i++) dst[i] = whisper_fp16_to_fp32(((const uint16_t *)src)[i]);
        break;
    case WHISPER_DTYPE_BF16:
        for (size_t i = 0; i < n; i++) dst[i] = whisper_bf16_to_fp32(((const uint16_t *)src)[i]);
        break;
    }
}

void whisper_matrix_row(const whisper_matrix *w, int r, float *out) {
    const char *row = (const char *)w->data + (size_t)r * (size_t)w->cols * whisper_dtype_size(w->dtype);
    whisper_convert_fp32(out, row, w->dtype, (size_t)w->cols);
}

/* ---- portable variant ---- */

static void portable_linear_tile(float *y, int ldy, const float *x, int ldx, int m0, int m1, const whisper_matrix *w,
                                 int n0, int n1, const float *b) {
    int K = w->cols;
    float wrow[256];
    for (int n = n0; n < n1; n++) {
        const char *wr = (const char *)w->data + (size_t)n * (size_t)K * whisper_dtype_size(w->dtype);
        float bias = b ? b[n] : 0.0f;
        for (int m = m0; m < m1; m++) y[(size_t)m * ldy + n] = 0.0f;
        /* convert the weight row in chunks, accumulate every x row against each chunk */
        for (int k0 = 0; k0 < K; k0 += 256) {
            int kn = K - k0 < 256 ? K - k0 : 256;
            whisper_convert_fp32(wrow, wr + (size_t)k0 * whisper_dtype_size(w->dtype), w->dtype, (size_t)kn);
            for (int m = m0; m < m1; m++) {
                const float *xr = x + (size_t)m * ldx + k0;
                float s = 0.0f;
                for (int k = 0; k < kn; k++) s += xr[k] * wrow[k];
                y[(size_t)m * ldy + n] += s;
            }
        }
        for (int m = m0; m < m1; m++) y[(size_t)m * ldy + n] += bias;
    }
}

static float portable_dot(const float *a, const float *b, int n) {
    float s = 0.0f;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

static void portable_axpy(float *y, float a, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] += a * x[i];
}

const whisper_kernel_variant whisper_kernels_portable = {
    portable_linear_tile, portable_dot, portable_axpy, "portable",
};

static const whisper_kernel_variant *variant(void) {
#ifdef WHISPER_HAVE_AVX2_VARIANT
    if (cpu_features_get().avx2) return &whisper_kernels_avx2;
#endif
    return &whisper_kernels_portable;
}

const char *whisper_kernels_path(void) { return variant()->name; }

/* ---- linear ---- */

#define TILE_M 64
#define TILE_N 16

typedef struct {
    const whisper_kernel_variant *v;
    float *y;
    const float *x;
    const whisper_matrix *w;
    const float *b;
    int M, tiles_n;
} linear_job;

static void linear_task(void *ctx, int task, int thread) {
    (void)thread;
    const linear_job *j = ctx;
    int tm = task / j->tiles_n, tn = task % j->tiles_n;
    int m0 = tm * TILE_M, m1 = m0 + TILE_M < j->M ? m0 + TILE_M : j->M;
    int n0 = tn * TILE_N, n1 = n0 + TILE_N < j->w->rows ? n0 + TILE_N : j->w->rows;
    j->v->linear_tile(j->y, j->w->rows, j->x, j->w->cols, m0, m1, j->w, n0, n1, j->b);
}

void whisper_linear(threadpool *pool, float *y, const float *x, int n_rows, const whisper_matrix *w, const float *b) {
    if (n_rows <= 0 || w->rows <= 0) return;
    linear_job j = {variant(), y, x, w, b, n_rows, (w->rows + TILE_N - 1) / TILE_N};
    int tiles_m = (n_rows + TILE_M - 1) / TILE_M;
    long work = (long)n_rows * w->rows * w->cols;
    if (!pool || threadpool_size(pool) <= 1 || work < 32768) {
        for (int t = 0; t < tiles_m * j.tiles_n; t++) linear_task(&j, t, 0);
        return;
    }
    threadpool_run(pool, tiles_m * j.tiles_n, linear_task, &j);
}

/* ---- layer norm, GELU, softmax ---- */

typedef struct {
    float *y;
    const float *x;
    int n_cols, n_rows, rows_per_task;
    const float *g, *b;
    float eps;
} norm_job;

static void norm_rows(const norm_job *j, int r0, int r1) {
    int N = j->n_cols;
    for (int r = r0; r < r1; r++) {
        const float *x = j->x + (size_t)r * N;
        float *y = j->y + (size_t)r * N;
        double mean = 0.0, var = 0.0;
        for (int i = 0; i < N; i++) mean += x[i];
        mean /= N;
        for (int i = 0; i < N; i++) {
            double d = x[i] - mean;
            var += d * d;
        }
        var /= N;
        float inv = (float)(1.0 / sqrt(var + j->eps)), mu = (float)mean;
        for (int i = 0; i < N; i++) y[i] = (x[i] - mu) * inv * j->g[i] + j->b[i];
    }
}

static void norm_task(void *ctx, int task, int thread) {
    (void)thread;
    const norm_job *j = ctx;
    int r0 = task * j->rows_per_task, r1 = r0 + j->rows_per_task < j->n_rows ? r0 + j->rows_per_task : j->n_rows;
    norm_rows(j, r0, r1);
}

void whisper_layer_norm(threadpool *pool, float *y, const float *x, int n_rows, int n_cols, const float *g,
                        const float *b, float eps) {
    norm_job j = {y, x, n_cols, n_rows, 32, g, b, eps};
    if (!pool || n_rows <= 32) {
        norm_rows(&j, 0, n_rows);
        return;
    }
    threadpool_run(pool, (n_rows + 31) / 32, norm_task, &j);
}

typedef struct {
    float *x;
    size_t n, chunk;
} gelu_job;

static void gelu_range(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

static void gelu_task(void *ctx, int task, int thread) {
    (void)thread;
    const gelu_job *j = ctx;
    size_t i0 = (size_t)task * j->chunk, i1 = i0 + j->chunk < j->n ? i0 + j->chunk : j->n;
    gelu_range(j->x + i0, i1 - i0);
}

void whisper_gelu(threadpool *pool, float *x, size_t n) {
    const size_t chunk = 16384;
    if (!pool || n <= chunk) {
        gelu_range(x, n);
        return;
    }
    gelu_job j = {x, n, chunk};
    threadpool_run(pool, (int)((n + chunk - 1) / chunk), gelu_task, &j);
}

void whisper_add(float *y, const float *x, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] += x[i];
}

void whisper_softmax(float *x, int n) {
    float mx = -INFINITY;
    for (int i = 0; i < n; i++)
        if (x[i] > mx) mx = x[i];
    if (mx == -INFINITY) { /* nothing allowed: leave zeros rather than NaN */
        for (int i = 0; i < n; i++) x[i] = 0.0f;
        return;
    }
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - mx);
        sum += x[i];
    }
    float inv = (float)(1.0 / sum);
    for (int i = 0; i < n; i++) x[i] *= inv;
}

/* ---- attention ---- */

#define ATTN_Q_BLOCK 16

typedef struct {
    const whisper_kernel_variant *v;
    const whisper_attention_args *a;
    float *scratch;
    int q_blocks;
} attn_job;

static void attn_task(void *ctx, int task, int thread) {
    const attn_job *j = ctx;
    const whisper_attention_args *a = j->a;
    int h = task / j->q_blocks, qb = task % j->q_blocks;
    int i0 = qb * ATTN_Q_BLOCK, i1 = i0 + ATTN_Q_BLOCK < a->n_q ? i0 + ATTN_Q_BLOCK : a->n_q;
    int dh = a->d_head;
    float scale = 1.0f / sqrtf((float)dh);
    float *s = j->scratch + (size_t)thread * a->n_kv;
    for (int i = i0; i < i1; i++) {
        const float *q = a->q + (size_t)i * a->ldq + (size_t)h * dh;
        int n_keys = a->causal ? a->n_kv - a->n_q + i + 1 : a->n_kv;
        for (int t = 0; t < n_keys; t++) s[t] = j->v->dot(q, a->k + (size_t)t * a->ldk + (size_t)h * dh, dh) * scale;
        whisper_softmax(s, n_keys);
        float *o = a->out + (size_t)i * a->ldo + (size_t)h * dh;
        memset(o, 0, (size_t)dh * sizeof *o);
        for (int t = 0; t < n_keys; t++) j->v->axpy(o, s[t], a->v + (size_t)t * a->ldv + (size_t)h * dh, dh);
    }
}

void whisper_attention(threadpool *pool, const whisper_attention_args *args, float *scratch) {
    attn_job j = {variant(), args, scratch, (args->n_q + ATTN_Q_BLOCK - 1) / ATTN_Q_BLOCK};
    int n_tasks = args->n_heads * j.q_blocks;
    if (!pool || (long)args->n_q * args->n_kv < 4096) {
        for (int t = 0; t < n_tasks; t++) attn_task(&j, t, 0);
        return;
    }
    threadpool_run(pool, n_tasks, attn_task, &j);
}
