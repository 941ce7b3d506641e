/* kernels_avx2.c — the AVX2/FMA/F16C kernel variant (x86-64; chosen at run time
 * by kernels.c when base/cpu.h reports AVX2). fp16, bf16 and q8 weights are
 * widened to fp32 in registers, 8 at a time: in the GEMV (4 weight rows per
 * pass, each streamed once), in the small-batch row kernel and while packing
 * GEMM panels (8×8 register transposes). The q8 GEMV instead multiplies int8
 * weights by int8-quantised activations (maddubs/madd). The GEMM micro-kernel keeps a 6×16
 * tile of the output in 12 ymm accumulators. exp (for softmax) and erf (for
 * GELU) are polynomial approximations with relative error ~1e-7. */
#include "whisper/kernels_impl.h"

#include "base/floats.h"

#ifdef WHISPER_HAVE_AVX2_VARIANT

#include <immintrin.h>
#include <math.h>
#include <stdlib.h>

#define AVX2 __attribute__((target("avx2,fma,f16c")))

AVX2 static inline float hsum(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
    return _mm_cvtss_f32(lo);
}

AVX2 static inline __m256 load_f16(const uint16_t *p) { return _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)p)); }

AVX2 static inline __m256 load_bf16(const uint16_t *p) {
    __m256i v = _mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(v, 16));
}

/* One weight row (K elements, loaded by LOAD) against up to 4 activation rows. */
#define DEFINE_ROW_KERNEL(NAME, WTYPE, LOAD, SCALAR)                                                             \
    AVX2 static void NAME(float *out, const float *const *xs, int nx, const WTYPE *w, int K) {                     \
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                                              \
        int k = 0;                                                                                               \
        if (nx == 4) {                                                                                           \
            for (; k + 8 <= K; k += 8) {                                                                         \
                __m256 wv = LOAD(w + k);                                                                         \
                a0 = _mm256_fmadd_ps(_mm256_loadu_ps(xs[0] + k), wv, a0);                                        \
                a1 = _mm256_fmadd_ps(_mm256_loadu_ps(xs[1] + k), wv, a1);                                        \
                a2 = _mm256_fmadd_ps(_mm256_loadu_ps(xs[2] + k), wv, a2);                                        \
                a3 = _mm256_fmadd_ps(_mm256_loadu_ps(xs[3] + k), wv, a3);                                        \
            }                                                                                                    \
            out[0] = hsum(a0), out[1] = hsum(a1), out[2] = hsum(a2), out[3] = hsum(a3);                          \
        } else {                                                                                                 \
            __m256 acc[4] = {a0, a1, a2, a3};                                                                    \
            for (; k + 8 <= K; k += 8) {                                                                         \
                __m256 wv = LOAD(w + k);                                                                         \
                for (int i = 0; i < nx; i++) acc[i] = _mm256_fmadd_ps(_mm256_loadu_ps(xs[i] + k), wv, acc[i]);   \
            }                                                                                                    \
            for (int i = 0; i < nx; i++) out[i] = hsum(acc[i]);                                                  \
        }                                                                                                        \
        for (; k < K; k++) {                                                                                     \
            float wk = SCALAR(w[k]);                                                                             \
            for (int i = 0; i < nx; i++) out[i] += xs[i][k] * wk;                                                \
        }                                                                                                        \
    }

#define ID(x) (x)
DEFINE_ROW_KERNEL(row_f32, float, _mm256_loadu_ps, ID)
DEFINE_ROW_KERNEL(row_f16, uint16_t, load_f16, _cvtsh_ss)
DEFINE_ROW_KERNEL(row_bf16, uint16_t, load_bf16, whisper_bf16_to_fp32)

/* One fp32 weight row against activation rows [m0, m1): y[m·ldy] = x[m]·row + bias. */
AVX2 static void avx2_linear_tile_f(float *y, int ldy, const float *x, int ldx, int m0, int m1, const whisper_matrix *f,
                                    float bias) {
    for (int m = m0; m < m1; m += 4) {
        int nx = m1 - m < 4 ? m1 - m : 4;
        const float *xs[4];
        float out[4];
        for (int i = 0; i < nx; i++) xs[i] = x + (size_t)(m + i) * ldx;
        row_f32(out, xs, nx, f->data, f->cols);
        for (int i = 0; i < nx; i++) y[(size_t)(m + i) * ldy] = out[i] + bias;
    }
}

/* 8 consecutive elements k … k+7 of row r as fp32. */
AVX2 static inline __m256 load_row8(const whisper_matrix *w, int r, int k) {
    size_t i = (size_t)r * (size_t)w->cols + (size_t)k;
    switch (w->dtype) {
    case WHISPER_DTYPE_F32: return _mm256_loadu_ps((const float *)w->data + i);
    case WHISPER_DTYPE_F16: return load_f16((const uint16_t *)w->data + i);
    case WHISPER_DTYPE_BF16: return load_bf16((const uint16_t *)w->data + i);
    case WHISPER_DTYPE_Q8: break;
    }
    if ((k & (WHISPER_Q8_BLOCK - 1)) > WHISPER_Q8_BLOCK - 8) { /* straddles two blocks */
        float v[8];
        for (int j = 0; j < 8; j++) v[j] = whisper_q8_get(w, r, k + j);
        return _mm256_loadu_ps(v);
    }
    int nb = (w->cols + WHISPER_Q8_BLOCK - 1) / WHISPER_Q8_BLOCK;
    __m256 q = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)((const int8_t *)w->data + i))));
    return _mm256_mul_ps(q, _mm256_set1_ps(_cvtsh_ss(w->scales[(size_t)r * nb + k / WHISPER_Q8_BLOCK])));
}

AVX2 static inline float get_one(const whisper_matrix *w, int r, int k) {
    size_t i = (size_t)r * (size_t)w->cols + (size_t)k;
    switch (w->dtype) {
    case WHISPER_DTYPE_F32: return ((const float *)w->data)[i];
    case WHISPER_DTYPE_F16: return _cvtsh_ss(((const uint16_t *)w->data)[i]);
    case WHISPER_DTYPE_BF16: return whisper_bf16_to_fp32(((const uint16_t *)w->data)[i]);
    case WHISPER_DTYPE_Q8: break;
    }
    return whisper_q8_get(w, r, k);
}

AVX2 static void avx2_linear_tile(float *y, int ldy, const float *x, int ldx, int m0, int m1, const whisper_matrix *w,
                                  int n0, int n1, const float *b) {
    int K = w->cols;
    if (w->dtype == WHISPER_DTYPE_Q8) { /* dequantise each row once, then the fp32 kernel */
        float *row = malloc((size_t)K * sizeof *row);
        if (!row) {
            whisper_kernels_portable.linear_tile(y, ldy, x, ldx, m0, m1, w, n0, n1, b);
            return;
        }
        whisper_matrix f = {row, WHISPER_DTYPE_F32, 1, K, NULL};
        for (int n = n0; n < n1; n++) {
            int k = 0;
            for (; k + 8 <= K; k += 8) _mm256_storeu_ps(row + k, load_row8(w, n, k));
            for (; k < K; k++) row[k] = whisper_q8_get(w, n, k);
            float bias = b ? b[n] : 0.0f;
            avx2_linear_tile_f(y + n, ldy, x, ldx, m0, m1, &f, bias);
        }
        free(row);
        return;
    }
    size_t es = whisper_dtype_size(w->dtype);
    for (int n = n0; n < n1; n++) {
        const void *wr = (const char *)w->data + (size_t)n * (size_t)K * es;
        float bias = b ? b[n] : 0.0f;
        for (int m = m0; m < m1; m += 4) {
            int nx = m1 - m < 4 ? m1 - m : 4;
            const float *xs[4] = {0};
            float out[4] = {0};
            for (int i = 0; i < nx; i++) xs[i] = x + (size_t)(m + i) * ldx;
            switch (w->dtype) {
            case WHISPER_DTYPE_F32: row_f32(out, xs, nx, wr, K); break;
            case WHISPER_DTYPE_F16: row_f16(out, xs, nx, wr, K); break;
            case WHISPER_DTYPE_BF16: row_bf16(out, xs, nx, wr, K); break;
            case WHISPER_DTYPE_Q8: break; /* handled above */
            }
            for (int i = 0; i < nx; i++) y[(size_t)(m + i) * ldy + n] = out[i] + bias;
        }
    }
}

/* ---- GEMV: one activation row, 4 weight rows per pass ---- */

#ifndef GEMV_PF_ROWS
#define GEMV_PF_ROWS 8 /* software prefetch distance in weight rows */
#endif

#define DEFINE_GEMV(NAME, WTYPE, LOAD, SCALAR)                                                                       \
    AVX2 static void NAME(float *y, const float *x, const WTYPE *w, int K, int n0, int n1, int n_rows) {               \
        int n = n0;                                                                                                  \
        for (; n + 4 <= n1; n += 4) {                                                                                \
            const WTYPE *w0 = w + (size_t)n * K, *w1 = w0 + K, *w2 = w1 + K, *w3 = w2 + K;                           \
            __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                                              \
            int k = 0;                                                                                               \
            const char *pf = (const char *)(w0 + (size_t)GEMV_PF_ROWS * K); /* GEMV_PF_ROWS rows ahead */             \
            size_t pf_bytes = (size_t)4 * K * sizeof(WTYPE), pf_off = 0;                                             \
            for (; k + 8 <= K; k += 8) {                                                                             \
                if (n + GEMV_PF_ROWS + 4 <= n_rows && pf_off < pf_bytes) {                                           \
                    _mm_prefetch(pf + pf_off, _MM_HINT_T0);                                                          \
                    _mm_prefetch(pf + pf_off + 64, _MM_HINT_T0);                                                     \
                    pf_off += 128;                                                                                   \
                }                                                                                                    \
                __m256 xv = _mm256_loadu_ps(x + k);                                                                  \
                a0 = _mm256_fmadd_ps(LOAD(w0 + k), xv, a0);                                                          \
                a1 = _mm256_fmadd_ps(LOAD(w1 + k), xv, a1);                                                          \
                a2 = _mm256_fmadd_ps(LOAD(w2 + k), xv, a2);                                                          \
                a3 = _mm256_fmadd_ps(LOAD(w3 + k), xv, a3);                                                          \
            }                                                                                                        \
            float s0 = hsum(a0), s1 = hsum(a1), s2 = hsum(a2), s3 = hsum(a3);                                        \
            for (; k < K; k++) {                                                                                     \
                s0 += x[k] * SCALAR(w0[k]), s1 += x[k] * SCALAR(w1[k]);                                              \
                s2 += x[k] * SCALAR(w2[k]), s3 += x[k] * SCALAR(w3[k]);                                              \
            }                                                                                                        \
            y[n - n0] = s0, y[n - n0 + 1] = s1, y[n - n0 + 2] = s2, y[n - n0 + 3] = s3;                              \
        }                                                                                                            \
        for (; n < n1; n++) {                                                                                        \
            const WTYPE *w0 = w + (size_t)n * K;                                                                     \
            __m256 a0 = _mm256_setzero_ps();                                                                         \
            int k = 0;                                                                                               \
            for (; k + 8 <= K; k += 8) a0 = _mm256_fmadd_ps(LOAD(w0 + k), _mm256_loadu_ps(x + k), a0);               \
            float s0 = hsum(a0);                                                                                     \
            for (; k < K; k++) s0 += x[k] * SCALAR(w0[k]);                                                           \
            y[n - n0] = s0;                                                                                          \
        }                                                                                                            \
    }

DEFINE_GEMV(gemv_f32, float, _mm256_loadu_ps, ID)
DEFINE_GEMV(gemv_f16, uint16_t, load_f16, _cvtsh_ss)
DEFINE_GEMV(gemv_bf16, uint16_t, load_bf16, whisper_bf16_to_fp32)

/* q8 against quantised activations: per block of 32, |x| (unsigned) times w
 * with x's sign (vpsignb) → maddubs to 16-bit pairs (|x|, |w| ≤ 127: no
 * saturation) → madd to 8 int32 sums, converted and scaled by xd·wd once. */
AVX2 static inline __m256 q8_block_dot(__m256 acc, __m256i ax, __m256i xv, const int8_t *w, float d) {
    __m256i sw = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *)w), xv);
    __m256i p = _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sw), _mm256_set1_epi16(1));
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(p), _mm256_set1_ps(d), acc);
}

AVX2 static void avx2_gemv_q8(float *y, const int8_t *xq, const float *xd, const whisper_matrix *w, int n0, int n1) {
    const int B = WHISPER_Q8_BLOCK;
    int K = w->cols, nb = (K + B - 1) / B, full = K / B;
    const int8_t *q = w->data;
    int n = n0;
    for (; n + 4 <= n1; n += 4) {
        const int8_t *w0 = q + (size_t)n * K, *w1 = w0 + K, *w2 = w1 + K, *w3 = w2 + K;
        const uint16_t *s0 = w->scales + (size_t)n * nb, *s1 = s0 + nb, *s2 = s1 + nb, *s3 = s2 + nb;
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        const char *pf = (const char *)(w0 + (size_t)GEMV_PF_ROWS * K);
        int prefetch = n + GEMV_PF_ROWS + 4 <= w->rows; /* on into the next range: its rows come next */
        for (int b = 0; b < full; b++) {
            int k = b * B;
            if (prefetch) { /* 4 rows × 32 bytes consumed per step, 2 lines prefetched */
                _mm_prefetch(pf + (size_t)b * 128, _MM_HINT_T0);
                _mm_prefetch(pf + (size_t)b * 128 + 64, _MM_HINT_T0);
            }
            __m256i xv = _mm256_loadu_si256((const __m256i *)(xq + k)), ax = _mm256_abs_epi8(xv);
            a0 = q8_block_dot(a0, ax, xv, w0 + k, xd[b] * _cvtsh_ss(s0[b]));
            a1 = q8_block_dot(a1, ax, xv, w1 + k, xd[b] * _cvtsh_ss(s1[b]));
            a2 = q8_block_dot(a2, ax, xv, w2 + k, xd[b] * _cvtsh_ss(s2[b]));
            a3 = q8_block_dot(a3, ax, xv, w3 + k, xd[b] * _cvtsh_ss(s3[b]));
        }
        y[n - n0] = hsum(a0) + whisper_q8_dot_tail(xq, xd, w0, s0, full, K);
        y[n - n0 + 1] = hsum(a1) + whisper_q8_dot_tail(xq, xd, w1, s1, full, K);
        y[n - n0 + 2] = hsum(a2) + whisper_q8_dot_tail(xq, xd, w2, s2, full, K);
        y[n - n0 + 3] = hsum(a3) + whisper_q8_dot_tail(xq, xd, w3, s3, full, K);
    }
    for (; n < n1; n++) {
        const int8_t *w0 = q + (size_t)n * K;
        const uint16_t *s0 = w->scales + (size_t)n * nb;
        __m256 a0 = _mm256_setzero_ps();
        for (int b = 0; b < full; b++) {
            __m256i xv = _mm256_loadu_si256((const __m256i *)(xq + b * B));
            a0 = q8_block_dot(a0, _mm256_abs_epi8(xv), xv, w0 + b * B, xd[b] * _cvtsh_ss(s0[b]));
        }
        y[n - n0] = hsum(a0) + whisper_q8_dot_tail(xq, xd, w0, s0, full, K);
    }
}

AVX2 static void avx2_gemv(float *y, const float *x, const whisper_matrix *w, int n0, int n1) {
    switch (w->dtype) {
    case WHISPER_DTYPE_F32: gemv_f32(y, x, w->data, w->cols, n0, n1, w->rows); break;
    case WHISPER_DTYPE_F16: gemv_f16(y, x, w->data, w->cols, n0, n1, w->rows); break;
    case WHISPER_DTYPE_BF16: gemv_bf16(y, x, w->data, w->cols, n0, n1, w->rows); break;
    case WHISPER_DTYPE_Q8: break; /* gemv_q8 */
    }
}

/* ---- GEMM micro-kernel and panel packing ---- */

#define MR WHISPER_GEMM_MR
#define NR WHISPER_GEMM_NR

AVX2 static inline void tile_6x16(float *c, int ldc, const float *const *a, const float *p, int kc, int accumulate,
                                  int mr, int nr) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00;
    __m256 c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
    for (int k = 0; k < kc; k++) {
        __m256 b0 = _mm256_load_ps(p + (size_t)k * NR), b1 = _mm256_load_ps(p + (size_t)k * NR + 8), av;
        av = _mm256_broadcast_ss(a0 + k), c00 = _mm256_fmadd_ps(av, b0, c00), c01 = _mm256_fmadd_ps(av, b1, c01);
        av = _mm256_broadcast_ss(a1 + k), c10 = _mm256_fmadd_ps(av, b0, c10), c11 = _mm256_fmadd_ps(av, b1, c11);
        av = _mm256_broadcast_ss(a2 + k), c20 = _mm256_fmadd_ps(av, b0, c20), c21 = _mm256_fmadd_ps(av, b1, c21);
        av = _mm256_broadcast_ss(a3 + k), c30 = _mm256_fmadd_ps(av, b0, c30), c31 = _mm256_fmadd_ps(av, b1, c31);
        av = _mm256_broadcast_ss(a4 + k), c40 = _mm256_fmadd_ps(av, b0, c40), c41 = _mm256_fmadd_ps(av, b1, c41);
        av = _mm256_broadcast_ss(a5 + k), c50 = _mm256_fmadd_ps(av, b0, c50), c51 = _mm256_fmadd_ps(av, b1, c51);
    }
    __m256 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
    if (mr == MR && nr == NR) {
        for (int i = 0; i < MR; i++) {
            float *ci = c + (size_t)i * ldc;
            if (accumulate) {
                acc[i][0] = _mm256_add_ps(acc[i][0], _mm256_loadu_ps(ci));
                acc[i][1] = _mm256_add_ps(acc[i][1], _mm256_loadu_ps(ci + 8));
            }
            _mm256_storeu_ps(ci, acc[i][0]);
            _mm256_storeu_ps(ci + 8, acc[i][1]);
        }
        return;
    }
    float tmp[NR];
    for (int i = 0; i < mr; i++) {
        float *ci = c + (size_t)i * ldc;
        _mm256_storeu_ps(tmp, acc[i][0]);
        _mm256_storeu_ps(tmp + 8, acc[i][1]);
        for (int j = 0; j < nr; j++) ci[j] = accumulate ? ci[j] + tmp[j] : tmp[j];
    }
}

AVX2 static void avx2_gemm_tile(float *c, int ldc, const float *a, int lda, const float *p, int kc, int mr, int nr,
                                int accumulate) {
    const float *rows[MR];
    for (int i = 0; i < MR; i++) rows[i] = a + (size_t)(i < mr ? i : 0) * lda; /* rows past mr recompute row 0 */
    tile_6x16(c, ldc, rows, p, kc, accumulate, mr, nr);
}

/* Transposes 8 vectors (rows) in place into 8 columns. */
AVX2 static inline void transpose8(__m256 r[8]) {
    __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
    __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
    __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
    __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xee);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xee);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xee);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xee);
    r[0] = _mm256_permute2f128_ps(u0, u4, 0x20), r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
    r[2] = _mm256_permute2f128_ps(u2, u6, 0x20), r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
    r[4] = _mm256_permute2f128_ps(u0, u4, 0x31), r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
    r[6] = _mm256_permute2f128_ps(u2, u6, 0x31), r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

AVX2 static void avx2_pack_panel(float *p, const whisper_matrix *w, int n0, int nr, int k0, int kc) {
    int k8 = kc / 8 * 8;
    for (int g = 0; g < NR; g += 8) {
        for (int k = 0; k < k8; k += 8) {
            __m256 r[8];
            for (int i = 0; i < 8; i++)
                r[i] = g + i < nr ? load_row8(w, n0 + g + i, k0 + k) : _mm256_setzero_ps();
            transpose8(r);
            for (int i = 0; i < 8; i++) _mm256_store_ps(p + (size_t)(k + i) * NR + g, r[i]);
        }
        for (int k = k8; k < kc; k++)
            for (int i = 0; i < 8; i++) p[(size_t)k * NR + g + i] = g + i < nr ? get_one(w, n0 + g + i, k0 + k) : 0.0f;
    }
}

/* ---- exp and erf ---- */

/* e^x for x ≤ 88; 0 below −87.3 (and for −inf). Cephes-style range reduction + degree-6 polynomial. */
AVX2 static inline __m256 exp8(__m256 x) {
    const __m256 lo = _mm256_set1_ps(-87.33654f);
    __m256 zero_mask = _mm256_cmp_ps(x, lo, _CMP_LT_OQ);
    x = _mm256_min_ps(_mm256_max_ps(x, lo), _mm256_set1_ps(88.3762626647949f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    x = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    x = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), x);
    __m256 y = _mm256_set1_ps(1.9875691500E-4f);
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507E-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073E-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894E-2f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459E-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201E-1f));
    y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
    /* 2^n, split in two factors so that n = 128 (x near 88.7) stays representable */
    __m256i ni = _mm256_cvtps_epi32(n);
    __m256i h = _mm256_srai_epi32(ni, 1);
    __m256 p1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(h, _mm256_set1_epi32(127)), 23));
    __m256 p2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(ni, h), _mm256_set1_epi32(127)), 23));
    y = _mm256_mul_ps(_mm256_mul_ps(y, p1), p2);
    return _mm256_andnot_ps(zero_mask, y);
}

AVX2 static float avx2_exp_sum(float *x, int n, float max) {
    __m256 mv = _mm256_set1_ps(max), acc = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), mv));
        _mm256_storeu_ps(x + i, e);
        acc = _mm256_add_ps(acc, e);
    }
    double sum = hsum(acc);
    for (; i < n; i++) {
        x[i] = expf(x[i] - max);
        sum += x[i];
    }
    return (float)sum;
}

/* erf(x) by Abramowitz & Stegun 7.1.26 (|error| ≤ 1.5e-7), odd in x. */
AVX2 static inline __m256 erf8(__m256 x) {
    const __m256 sign_bit = _mm256_set1_ps(-0.0f);
    __m256 sign = _mm256_and_ps(x, sign_bit), ax = _mm256_andnot_ps(sign_bit, x);
    __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(_mm256_set1_ps(0.3275911f), ax, _mm256_set1_ps(1.0f)));
    __m256 y = _mm256_set1_ps(1.061405429f);
    y = _mm256_fmadd_ps(y, t, _mm256_set1_ps(-1.453152027f));
    y = _mm256_fmadd_ps(y, t, _mm256_set1_ps(1.421413741f));
    y = _mm256_fmadd_ps(y, t, _mm256_set1_ps(-0.284496736f));
    y = _mm256_fmadd_ps(y, t, _mm256_set1_ps(0.254829592f));
    y = _mm256_mul_ps(y, t);
    __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(ax, ax)));
    __m256 r = _mm256_fnmadd_ps(y, e, _mm256_set1_ps(1.0f));
    return _mm256_or_ps(r, sign);
}

AVX2 static void avx2_gelu(float *x, size_t n) {
    const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f), r2 = _mm256_set1_ps(0.70710678118654752f);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256 g = _mm256_mul_ps(_mm256_mul_ps(half, v), _mm256_add_ps(one, erf8(_mm256_mul_ps(v, r2))));
        _mm256_storeu_ps(x + i, g);
    }
    for (; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

AVX2 static float avx2_dot(const float *a, const float *b, int n) {
    __m256 acc = _mm256_setzero_ps();
    int i = 0;
    for (; i + 8 <= n; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
    float s = hsum(acc);
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

AVX2 static void avx2_axpy(float *y, float a, const float *x, int n) {
    __m256 av = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_fmadd_ps(av, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += a * x[i];
}

#define ATT_PF_KEYS 16 /* keys / values prefetched ahead: a head's rows are d_model apart, not sequential */

AVX2 static inline void prefetch_row(const void *p, size_t bytes) {
    for (size_t o = 0; o < bytes; o += 64) _mm_prefetch((const char *)p + o, _MM_HINT_T0);
}

/* Attention kernels. Scores are one query against n keys: for d_head 64 (every
 * Whisper size) the query stays in registers and 4 keys' sums are reduced
 * together; other sizes go key by key. WSUM (below) is o = Σ_t p[t]·v[t] over
 * values stored as T — for d_head 64 the output row stays in 8 registers. */
#define KEY_DOT(KP)                                                                                               \
    _mm256_add_ps(_mm256_add_ps(_mm256_fmadd_ps(_mm256_loadu_ps(KP), q0, _mm256_mul_ps(_mm256_loadu_ps(KP + 8), q1)), \
                                _mm256_fmadd_ps(_mm256_loadu_ps(KP + 16), q2,                                   \
                                                _mm256_mul_ps(_mm256_loadu_ps(KP + 24), q3))),                  \
                  _mm256_add_ps(_mm256_fmadd_ps(_mm256_loadu_ps(KP + 32), q4,                                   \
                                                _mm256_mul_ps(_mm256_loadu_ps(KP + 40), q5)),                   \
                                _mm256_fmadd_ps(_mm256_loadu_ps(KP + 48), q6,                                   \
                                                _mm256_mul_ps(_mm256_loadu_ps(KP + 56), q7))))

/* 4 keys' 8-lane sums → their 4 totals */
AVX2 static inline __m128 sum4(__m256 a0, __m256 a1, __m256 a2, __m256 a3) {
    __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
    return _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
}

AVX2 static void avx2_scores(float *s, const float *q, const float *k, int ldk, int n, int dh, float scale) {
    if (dh != 64) {
        for (int t = 0; t < n; t++) {
            const float *kt = k + (size_t)t * ldk;
            __m256 acc = _mm256_setzero_ps();
            int i = 0;
            for (; i + 8 <= dh; i += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(kt + i), acc);
            float d = hsum(acc);
            for (; i < dh; i++) d += q[i] * kt[i];
            s[t] = d * scale;
        }
        return;
    }
    __m256 q0 = _mm256_loadu_ps(q), q1 = _mm256_loadu_ps(q + 8), q2 = _mm256_loadu_ps(q + 16);
    __m256 q3 = _mm256_loadu_ps(q + 24), q4 = _mm256_loadu_ps(q + 32), q5 = _mm256_loadu_ps(q + 40);
    __m256 q6 = _mm256_loadu_ps(q + 48), q7 = _mm256_loadu_ps(q + 56);
    __m128 sc = _mm_set1_ps(scale);
    int t = 0;
    for (; t + 4 <= n; t += 4) {
        const float *k0 = k + (size_t)t * ldk;
        if (t + ATT_PF_KEYS + 4 <= n)
            for (int r = 0; r < 4; r++) prefetch_row(k0 + (size_t)(ATT_PF_KEYS + r) * ldk, 64 * sizeof(float));
        __m128 r = sum4(KEY_DOT(k0), KEY_DOT(k0 + ldk), KEY_DOT(k0 + 2 * (size_t)ldk), KEY_DOT(k0 + 3 * (size_t)ldk));
        _mm_storeu_ps(s + t, _mm_mul_ps(r, sc));
    }
    for (; t < n; t++) s[t] = hsum(KEY_DOT(k + (size_t)t * ldk)) * scale;
}

/* One int16 key of 64 against the int16 query in q0…q3: vpmaddwd pairs summed
 * two at a time in int32 (4 products per lane, within range), then in fp32. */
AVX2 static inline __m256 key_dot_i16(const int16_t *kp, __m256i q0, __m256i q1, __m256i q2, __m256i q3) {
    __m256i a = _mm256_add_epi32(_mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)kp), q0),
                                 _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(kp + 16)), q1));
    __m256i b = _mm256_add_epi32(_mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(kp + 32)), q2),
                                 _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *)(kp + 48)), q3));
    return _mm256_add_ps(_mm256_cvtepi32_ps(a), _mm256_cvtepi32_ps(b));
}

AVX2 static void avx2_scores_i16(float *s, const float *q, const int16_t *k, int ldk, const float *ks, int lds, int n,
                                 int dh, float scale) {
    int16_t qq[WHISPER_MAX_D_HEAD];
    float qs = whisper_query_quantize(q, dh, qq) * scale;
    if (dh != 64) {
        for (int t = 0; t < n; t++) {
            const int16_t *kt = k + (size_t)t * ldk;
            __m256 acc = _mm256_setzero_ps();
            int i = 0;
            for (; i + 16 <= dh; i += 16)
                acc = _mm256_add_ps(acc, _mm256_cvtepi32_ps(_mm256_madd_epi16(
                                             _mm256_loadu_si256((const __m256i *)(kt + i)),
                                             _mm256_loadu_si256((const __m256i *)(qq + i)))));
            float d = hsum(acc);
            for (; i < dh; i++) d += (float)((int32_t)qq[i] * kt[i]);
            s[t] = d * (ks[(size_t)t * lds] * qs);
        }
        return;
    }
    __m256i q0 = _mm256_loadu_si256((const __m256i *)qq), q1 = _mm256_loadu_si256((const __m256i *)(qq + 16));
    __m256i q2 = _mm256_loadu_si256((const __m256i *)(qq + 32)), q3 = _mm256_loadu_si256((const __m256i *)(qq + 48));
    __m128 qsv = _mm_set1_ps(qs);
    int t = 0;
    for (; t + 4 <= n; t += 4) {
        const int16_t *k0 = k + (size_t)t * ldk;
        if (t + ATT_PF_KEYS + 4 <= n)
            for (int r = 0; r < 4; r++) prefetch_row(k0 + (size_t)(ATT_PF_KEYS + r) * ldk, 64 * sizeof(int16_t));
        __m128 r = sum4(key_dot_i16(k0, q0, q1, q2, q3), key_dot_i16(k0 + ldk, q0, q1, q2, q3),
                        key_dot_i16(k0 + 2 * (size_t)ldk, q0, q1, q2, q3),
                        key_dot_i16(k0 + 3 * (size_t)ldk, q0, q1, q2, q3));
        const float *kst = ks + (size_t)t * lds;
        __m128 ksv = _mm_set_ps(kst[3 * (size_t)lds], kst[2 * (size_t)lds], kst[lds], kst[0]);
        _mm_storeu_ps(s + t, _mm_mul_ps(r, _mm_mul_ps(ksv, qsv)));
    }
    for (; t < n; t++) s[t] = hsum(key_dot_i16(k + (size_t)t * ldk, q0, q1, q2, q3)) * (ks[(size_t)t * lds] * qs);
}

#define DEFINE_WSUM(WSUM, T, LOAD, SCALAR)                                                                       \
    AVX2 static void WSUM(float *o, const float *p, const T *v, int ldv, int n, int dh) {                        \
        if (dh != 64) {                                                                                          \
            for (int d = 0; d < dh; d++) o[d] = 0.0f;                                                            \
            for (int t = 0; t < n; t++) {                                                                        \
                const T *vt = v + (size_t)t * ldv;                                                               \
                __m256 pv = _mm256_set1_ps(p[t]);                                                                \
                int i = 0;                                                                                       \
                for (; i + 8 <= dh; i += 8)                                                                      \
                    _mm256_storeu_ps(o + i, _mm256_fmadd_ps(pv, LOAD(vt + i), _mm256_loadu_ps(o + i)));          \
                for (; i < dh; i++) o[i] += p[t] * SCALAR(vt[i]);                                                \
            }                                                                                                    \
            return;                                                                                              \
        }                                                                                                        \
        __m256 o0 = _mm256_setzero_ps(), o1 = o0, o2 = o0, o3 = o0, o4 = o0, o5 = o0, o6 = o0, o7 = o0;          \
        for (int t = 0; t < n; t++) {                                                                            \
            const T *vt = v + (size_t)t * ldv;                                                                   \
            if (t + ATT_PF_KEYS < n) prefetch_row(vt + (size_t)ATT_PF_KEYS * ldv, 64 * sizeof(T));              \
            __m256 pv = _mm256_broadcast_ss(p + t);                                                              \
            o0 = _mm256_fmadd_ps(pv, LOAD(vt), o0), o1 = _mm256_fmadd_ps(pv, LOAD(vt + 8), o1);                  \
            o2 = _mm256_fmadd_ps(pv, LOAD(vt + 16), o2), o3 = _mm256_fmadd_ps(pv, LOAD(vt + 24), o3);            \
            o4 = _mm256_fmadd_ps(pv, LOAD(vt + 32), o4), o5 = _mm256_fmadd_ps(pv, LOAD(vt + 40), o5);            \
            o6 = _mm256_fmadd_ps(pv, LOAD(vt + 48), o6), o7 = _mm256_fmadd_ps(pv, LOAD(vt + 56), o7);            \
        }                                                                                                        \
        _mm256_storeu_ps(o, o0), _mm256_storeu_ps(o + 8, o1), _mm256_storeu_ps(o + 16, o2);                      \
        _mm256_storeu_ps(o + 24, o3), _mm256_storeu_ps(o + 32, o4), _mm256_storeu_ps(o + 40, o5);                \
        _mm256_storeu_ps(o + 48, o6), _mm256_storeu_ps(o + 56, o7);                                              \
    }

DEFINE_WSUM(avx2_weighted_sum, float, _mm256_loadu_ps, ID)
DEFINE_WSUM(avx2_weighted_sum_f16, uint16_t, load_f16, _cvtsh_ss)

AVX2 static void avx2_to_f16(uint16_t *dst, const float *src, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) dst[i] = floats_fp32_to_fp16(src[i]);
}

AVX2 static float avx2_scale_max(float *x, int n, float scale) {
    __m256 sc = _mm256_set1_ps(scale), m = _mm256_set1_ps(-INFINITY);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + i), sc);
        _mm256_storeu_ps(x + i, v);
        m = _mm256_max_ps(m, v);
    }
    __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
    h = _mm_max_ps(h, _mm_movehl_ps(h, h));
    h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
    float mx = _mm_cvtss_f32(h);
    for (; i < n; i++) {
        x[i] *= scale;
        if (x[i] > mx) mx = x[i];
    }
    return mx;
}

/* Sums in double over 4-lane accumulators (the order differs from the
 * portable loop's by rounding only). */
AVX2 static void avx2_norm_row(float *y, const float *x, int n, const float *g, const float *b, float eps) {
    __m256d s0 = _mm256_setzero_pd(), s1 = s0;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(v)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)));
    }
    double t[4];
    _mm256_storeu_pd(t, _mm256_add_pd(s0, s1));
    double mean = (t[0] + t[1]) + (t[2] + t[3]);
    for (int k = i; k < n; k++) mean += x[k];
    mean /= n;
    __m256d mu = _mm256_set1_pd(mean), v0 = _mm256_setzero_pd(), v1 = v0;
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        __m256d d0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(v)), mu);
        __m256d d1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)), mu);
        v0 = _mm256_fmadd_pd(d0, d0, v0);
        v1 = _mm256_fmadd_pd(d1, d1, v1);
    }
    _mm256_storeu_pd(t, _mm256_add_pd(v0, v1));
    double var = (t[0] + t[1]) + (t[2] + t[3]);
    for (int k = i; k < n; k++) var += (x[k] - mean) * (x[k] - mean);
    var /= n;
    float inv = (float)(1.0 / sqrt(var + eps)), muf = (float)mean;
    __m256 vi = _mm256_set1_ps(inv), vm = _mm256_set1_ps(muf);
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 d = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm), vi);
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(d, _mm256_loadu_ps(g + i), _mm256_loadu_ps(b + i)));
    }
    for (; i < n; i++) y[i] = (x[i] - muf) * inv * g[i] + b[i];
}

/* Whole blocks 8 lanes at a time: max|x| over 32 values, x·(127/max) rounded to
 * nearest even (vroundps, as nearbyintf), packed to int8; the scale and its
 * inverse are computed as the portable rule does, so the bytes are the same. */
#define ROUND_EVEN (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC) /* an immediate, also at -O0 */

AVX2 static void avx2_q8_quantize(const float *x, int n, int8_t *q, float *scale) {
    const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    int k0 = 0, b = 0;
    for (; k0 + WHISPER_Q8_BLOCK <= n; k0 += WHISPER_Q8_BLOCK, b++) {
        __m256 v0 = _mm256_loadu_ps(x + k0), v1 = _mm256_loadu_ps(x + k0 + 8);
        __m256 v2 = _mm256_loadu_ps(x + k0 + 16), v3 = _mm256_loadu_ps(x + k0 + 24);
        __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_and_ps(v0, abs_mask), _mm256_and_ps(v1, abs_mask)),
                                 _mm256_max_ps(_mm256_and_ps(v2, abs_mask), _mm256_and_ps(v3, abs_mask)));
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
        float amax = _mm_cvtss_f32(h), inv = amax > 0.0f ? 127.0f / amax : 0.0f;
        scale[b] = amax / 127.0f;
        __m256 iv = _mm256_set1_ps(inv);
        __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v0, iv), ROUND_EVEN));
        __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v1, iv), ROUND_EVEN));
        __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v2, iv), ROUND_EVEN));
        __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v3, iv), ROUND_EVEN));
        /* packs saturate at ±127 here (|x·inv| ≤ 127 up to rounding), then undo their lane interleave */
        __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
        p = _mm256_max_epi8(p, _mm256_set1_epi8(-127));
        _mm256_storeu_si256((__m256i *)(q + k0), _mm256_permutevar8x32_epi32(p, order));
    }
    if (k0 < n) whisper_q8_quantize_block(x + k0, n - k0, q + k0, scale + b);
}

const whisper_kernel_variant whisper_kernels_avx2 = {
    avx2_linear_tile, avx2_gemv,    avx2_gemv_q8,   avx2_gemm_tile, avx2_pack_panel, avx2_dot,          avx2_axpy,
    avx2_scores,      avx2_weighted_sum, avx2_scores_i16, avx2_weighted_sum_f16, avx2_to_f16, avx2_scale_max,
    avx2_exp_sum,     avx2_norm_row,     avx2_gelu,       avx2_q8_quantize, "avx2",
};

#endif
