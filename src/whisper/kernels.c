/* kernels.c — element conversion, q8 quantisation of a row, the portable kernel
 * variant, the run-time choice between it and the AVX2 / AVX-512 variants
 * (kernels_avx2.c, kernels_avx512.c), and the pointwise
 * kernels (layer norm, softmax). Linear layers are in kernels_gemm.c,
 * attention in kernels_attention.c. */
#include "whisper/kernels.h"

#include <math.h>
#include <string.h>

#include "base/cpu.h"
#include "base/floats.h"
#include "whisper/kernels_impl.h"

/* ---- element conversion, q8 quantisation ---- */

size_t whisper_dtype_size(whisper_dtype dtype) {
    return dtype == WHISPER_DTYPE_F32 ? 4 : dtype == WHISPER_DTYPE_Q8 ? 1 : 2;
}

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
    case WHISPER_DTYPE_Q8: /* without scales: the raw integers */
        for (size_t i = 0; i < n; i++) dst[i] = (float)((const int8_t *)src)[i];
        break;
    }
}

size_t whisper_matrix_bytes(const whisper_matrix *w) {
    size_t n = (size_t)w->rows * (size_t)w->cols * whisper_dtype_size(w->dtype);
    if (w->dtype == WHISPER_DTYPE_Q8)
        n += (size_t)w->rows * (size_t)((w->cols + WHISPER_Q8_BLOCK - 1) / WHISPER_Q8_BLOCK) * sizeof(uint16_t);
    return n;
}

float whisper_q8_get(const whisper_matrix *w, int r, int k) {
    int nb = (w->cols + WHISPER_Q8_BLOCK - 1) / WHISPER_Q8_BLOCK;
    return (float)((const int8_t *)w->data)[(size_t)r * w->cols + k] *
           whisper_fp16_to_fp32(w->scales[(size_t)r * nb + k / WHISPER_Q8_BLOCK]);
}

void whisper_q8_quantize_block(const float *x, int n, int8_t *q, float *scale) {
    float amax = 0.0f;
    for (int k = 0; k < n; k++) amax = fmaxf(amax, fabsf(x[k]));
    float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
    *scale = amax / 127.0f;
    for (int k = 0; k < n; k++) {
        float v = nearbyintf(x[k] * inv);
        q[k] = (int8_t)(v > 127.0f ? 127 : v < -127.0f ? -127 : (int)v);
    }
}

void whisper_q8_quantize_row(const float *x, int n, int8_t *q, float *scale) {
    whisper_kernels_variant()->q8_quantize(x, n, q, scale);
}

static void portable_q8_quantize(const float *x, int n, int8_t *q, float *scale) {
    for (int k0 = 0, b = 0; k0 < n; k0 += WHISPER_Q8_BLOCK, b++)
        whisper_q8_quantize_block(x + k0, n - k0 < WHISPER_Q8_BLOCK ? n - k0 : WHISPER_Q8_BLOCK, q + k0, scale + b);
}

/* Elements k0 … k0+kn−1 of row r of w as fp32. */
static void row_segment(const whisper_matrix *w, int r, int k0, int kn, float *out) {
    if (w->dtype == WHISPER_DTYPE_Q8) {
        for (int k = 0; k < kn; k++) out[k] = whisper_q8_get(w, r, k0 + k);
        return;
    }
    size_t es = whisper_dtype_size(w->dtype);
    whisper_convert_fp32(out, (const char *)w->data + ((size_t)r * (size_t)w->cols + (size_t)k0) * es, w->dtype,
                         (size_t)kn);
}

void whisper_matrix_row(const whisper_matrix *w, int r, float *out) { row_segment(w, r, 0, w->cols, out); }

void whisper_pack_f32(float *p, const float *src, int ld, int transposed, int n0, int nr, int k0, int kc) {
    const int NR = WHISPER_GEMM_NR;
    if (transposed) { /* panel rows written whole, one element from each source row */
        const float *rows[WHISPER_GEMM_NR];
        for (int j = 0; j < nr; j++) rows[j] = src + (size_t)(n0 + j) * ld + k0;
        for (int k = 0; k < kc; k++) {
            float *d = p + (size_t)k * NR;
            for (int j = 0; j < nr; j++) d[j] = rows[j][k];
            for (int j = nr; j < NR; j++) d[j] = 0.0f;
        }
    } else {
        for (int k = 0; k < kc; k++) {
            const float *row = src + (size_t)(k0 + k) * ld + n0;
            float *d = p + (size_t)k * NR;
            for (int j = 0; j < nr; j++) d[j] = row[j];
            for (int j = nr; j < NR; j++) d[j] = 0.0f;
        }
    }
}

/* ---- portable variant ---- */

#define CHUNK 256

static void portable_linear_tile(float *y, int ldy, const float *x, int ldx, int m0, int m1, const whisper_matrix *w,
                                 int n0, int n1, const float *b) {
    int K = w->cols;
    float wrow[CHUNK];
    for (int n = n0; n < n1; n++) {
        float bias = b ? b[n] : 0.0f;
        for (int m = m0; m < m1; m++) y[(size_t)m * ldy + n] = 0.0f;
        /* convert the weight row in chunks, accumulate every x row against each chunk */
        for (int k0 = 0; k0 < K; k0 += CHUNK) {
            int kn = K - k0 < CHUNK ? K - k0 : CHUNK;
            row_segment(w, n, k0, kn, wrow);
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

static void portable_gemv(float *y, const float *x, const whisper_matrix *w, int n0, int n1) {
    for (int n = n0; n < n1; n++) portable_linear_tile(y - n0, 0, x, 0, 0, 1, w, n, n + 1, NULL);
}

float whisper_q8_dot_tail(const int8_t *xq, const float *xd, const int8_t *wq, const uint16_t *sc, int b0, int K) {
    int nb = (K + WHISPER_Q8_BLOCK - 1) / WHISPER_Q8_BLOCK;
    float s = 0.0f;
    for (int b = b0; b < nb; b++) {
        int k1 = (b + 1) * WHISPER_Q8_BLOCK < K ? (b + 1) * WHISPER_Q8_BLOCK : K;
        int32_t d = 0;
        for (int k = b * WHISPER_Q8_BLOCK; k < k1; k++) d += xq[k] * wq[k];
        s += (float)d * (xd[b] * whisper_fp16_to_fp32(sc[b]));
    }
    return s;
}

static void portable_gemv_q8(float *y, const int8_t *xq, const float *xd, const whisper_matrix *w, int n0, int n1) {
    int K = w->cols, nb = (K + WHISPER_Q8_BLOCK - 1) / WHISPER_Q8_BLOCK;
    for (int n = n0; n < n1; n++)
        y[n - n0] = whisper_q8_dot_tail(xq, xd, (const int8_t *)w->data + (size_t)n * K, w->scales + (size_t)n * nb,
                                        0, K);
}

static void portable_gemm_tile(float *c, int ldc, const float *a, int lda, const float *p, int kc, int mr, int nr,
                               int accumulate) {
    const int NR = WHISPER_GEMM_NR;
    for (int i = 0; i < mr; i++) {
        float acc[WHISPER_GEMM_NR] = {0};
        const float *ai = a + (size_t)i * lda;
        for (int k = 0; k < kc; k++) {
            float av = ai[k];
            const float *pk = p + (size_t)k * NR;
            for (int j = 0; j < NR; j++) acc[j] += av * pk[j];
        }
        float *ci = c + (size_t)i * ldc;
        for (int j = 0; j < nr; j++) ci[j] = accumulate ? ci[j] + acc[j] : acc[j];
    }
}

static void portable_pack_panel(float *p, const whisper_matrix *w, int n0, int nr, int k0, int kc) {
    if (w->dtype == WHISPER_DTYPE_F32) {
        whisper_pack_f32(p, w->data, w->cols, 1, n0, nr, k0, kc);
        return;
    }
    const int NR = WHISPER_GEMM_NR;
    float seg[CHUNK];
    for (int j = 0; j < NR; j++)
        for (int c0 = 0; c0 < kc; c0 += CHUNK) {
            int cn = kc - c0 < CHUNK ? kc - c0 : CHUNK;
            if (j < nr) row_segment(w, n0 + j, k0 + c0, cn, seg);
            for (int k = 0; k < cn; k++) p[(size_t)(c0 + k) * NR + j] = j < nr ? seg[k] : 0.0f;
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

static void portable_scores(float *s, const float *q, const float *k, int ldk, int n, int dh, float scale) {
    for (int t = 0; t < n; t++) s[t] = portable_dot(q, k + (size_t)t * ldk, dh) * scale;
}

static void portable_weighted_sum(float *o, const float *p, const float *v, int ldv, int n, int dh) {
    for (int d = 0; d < dh; d++) o[d] = 0.0f;
    for (int t = 0; t < n; t++) portable_axpy(o, p[t], v + (size_t)t * ldv, dh);
}

float whisper_query_quantize(const float *q, int n, int16_t *qq) {
    float amax = 0.0f;
    for (int i = 0; i < n; i++) amax = fmaxf(amax, fabsf(q[i]));
    double inv = amax > 0.0f ? WHISPER_QUERY_I16_MAX / (double)amax : 0.0;
    for (int i = 0; i < n; i++) qq[i] = (int16_t)nearbyint(q[i] * inv);
    return amax / (float)WHISPER_QUERY_I16_MAX;
}

static void portable_scores_i16(float *s, const float *q, const int16_t *k, int ldk, const float *ks, int lds, int n,
                                int dh, float scale) {
    int16_t qq[WHISPER_MAX_D_HEAD];
    float qs = whisper_query_quantize(q, dh, qq) * scale;
    for (int t = 0; t < n; t++) {
        const int16_t *kt = k + (size_t)t * ldk;
        int64_t d = 0;
        for (int i = 0; i < dh; i++) d += (int32_t)qq[i] * kt[i];
        s[t] = (float)d * (ks[(size_t)t * lds] * qs);
    }
}

void whisper_keys_quantize(int16_t *q, float *scale, const float *k, int n, int d_head) {
    for (int t = 0; t < n; t++) {
        const float *row = k + (size_t)t * d_head;
        int16_t *out = q + (size_t)t * d_head;
        float amax = 0.0f;
        for (int i = 0; i < d_head; i++) amax = fmaxf(amax, fabsf(row[i]));
        scale[t] = amax / 32767.0f;
        double inv = amax > 0.0f ? 32767.0 / amax : 0.0; /* double: the product is exact enough to round */
        for (int i = 0; i < d_head; i++) out[i] = (int16_t)nearbyint(row[i] * inv);
    }
}

static void portable_weighted_sum_f16(float *o, const float *p, const uint16_t *v, int ldv, int n, int dh) {
    for (int d = 0; d < dh; d++) o[d] = 0.0f;
    for (int t = 0; t < n; t++)
        for (int d = 0; d < dh; d++) o[d] += p[t] * whisper_fp16_to_fp32(v[(size_t)t * ldv + d]);
}

static void portable_to_f16(uint16_t *dst, const float *src, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = floats_fp32_to_fp16(src[i]);
}

void whisper_convert_fp16(uint16_t *dst, const float *src, size_t n) { whisper_kernels_variant()->to_f16(dst, src, n); }

static float portable_scale_max(float *x, int n, float scale) {
    float mx = -INFINITY;
    for (int i = 0; i < n; i++) {
        x[i] *= scale;
        if (x[i] > mx) mx = x[i];
    }
    return mx;
}

static float portable_exp_sum(float *x, int n, float max) {
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    return (float)sum;
}

static void portable_norm_row(float *y, const float *x, int n, const float *g, const float *b, float eps) {
    double mean = 0.0, var = 0.0;
    for (int i = 0; i < n; i++) mean += x[i];
    mean /= n;
    for (int i = 0; i < n; i++) {
        double d = x[i] - mean;
        var += d * d;
    }
    var /= n;
    float inv = (float)(1.0 / sqrt(var + eps)), mu = (float)mean;
    for (int i = 0; i < n; i++) y[i] = (x[i] - mu) * inv * g[i] + b[i];
}

static void portable_gelu(float *x, size_t n) {
    for (size_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

const whisper_kernel_variant whisper_kernels_portable = {
    portable_linear_tile, portable_gemv,     portable_gemv_q8,   portable_gemm_tile, portable_pack_panel,
    portable_dot,         portable_axpy,     portable_scores,    portable_weighted_sum,
    portable_scores_i16,  portable_weighted_sum_f16,
    portable_to_f16,      portable_scale_max, portable_exp_sum,  portable_norm_row,
    portable_gelu,        portable_q8_quantize, "portable",
};

const whisper_kernel_variant *whisper_kernels_variant(void) {
#ifdef WHISPER_HAVE_AVX2_VARIANT
    cpu_features f = cpu_features_get();
    if (f.avx512) return whisper_kernels_avx512();
    if (f.avx2) return &whisper_kernels_avx2;
#endif
    return &whisper_kernels_portable;
}

int whisper_kernels_runnable(const whisper_kernel_variant *out[3]) {
    int n = 0;
    out[n++] = &whisper_kernels_portable;
#ifdef WHISPER_HAVE_AVX2_VARIANT
    cpu_features f = cpu_features_get();
    if (f.avx2) out[n++] = &whisper_kernels_avx2;
    if (f.avx512) out[n++] = whisper_kernels_avx512();
#endif
    return n;
}

const char *whisper_kernels_path(void) { return whisper_kernels_variant()->name; }

/* ---- layer norm, softmax ---- */

typedef struct {
    float *y;
    const float *x;
    int n_cols, n_rows, rows_per_task;
    const float *g, *b;
    float eps;
} norm_job;

static void norm_rows(const norm_job *j, int r0, int r1) {
    const whisper_kernel_variant *v = whisper_kernels_variant();
    size_t N = (size_t)j->n_cols;
    for (int r = r0; r < r1; r++) v->norm_row(j->y + (size_t)r * N, j->x + (size_t)r * N, j->n_cols, j->g, j->b, j->eps);
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
    float sum = whisper_kernels_variant()->exp_sum(x, n, mx);
    float inv = 1.0f / sum;
    for (int i = 0; i < n; i++) x[i] *= inv;
}
