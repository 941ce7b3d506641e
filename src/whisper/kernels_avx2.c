/* kernels_avx2.c — the AVX2/FMA/F16C kernel variant (x86-64; chosen at run time
 * by kernels.c when base/cpu.h reports AVX2). fp16 and bf16 weights are widened
 * to fp32 in registers, 8 at a time. */
#include "whisper/kernels_impl.h"

#ifdef WHISPER_HAVE_AVX2_VARIANT

#include <immintrin.h>

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
DEFINE_ROW_KERNEL(row_f16, uint16_t, load_f16, whisper_fp16_to_fp32)
DEFINE_ROW_KERNEL(row_bf16, uint16_t, load_bf16, whisper_bf16_to_fp32)

AVX2 static void avx2_linear_tile(float *y, int ldy, const float *x, int ldx, int m0, int m1, const whisper_matrix *w,
                                  int n0, int n1, const float *b) {
    int K = w->cols;
    size_t es = whisper_dtype_size(w->dtype);
    for (int n = n0; n < n1; n++) {
        const void *wr = (const char *)w->data + (size_t)n * (size_t)K * es;
        float bias = b ? b[n] : 0.0f;
        for (int m = m0; m < m1; m += 4) {
            int nx = m1 - m < 4 ? m1 - m : 4;
            const float *xs[4];
            float out[4];
            for (int i = 0; i < nx; i++) xs[i] = x + (size_t)(m + i) * ldx;
            switch (w->dtype) {
            case WHISPER_DTYPE_F32: row_f32(out, xs, nx, wr, K); break;
            case WHISPER_DTYPE_F16: row_f16(out, xs, nx, wr, K); break;
            case WHISPER_DTYPE_BF16: row_bf16(out, xs, nx, wr, K); break;
            }
            for (int i = 0; i < nx; i++) y[(size_t)(m + i) * ldy + n] = out[i] + bias;
        }
    }
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

const whisper_kernel_variant whisper_kernels_avx2 = {
    avx2_linear_tile, avx2_dot, avx2_axpy, "avx2",
};

#endif
