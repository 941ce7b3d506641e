/* kernels_avx512.c — the AVX-512 kernel variant (x86-64; chosen at run time by
 * kernels.c when base/cpu.h reports AVX-512 F/BW/VL/DQ and VNNI): the AVX2
 * variant with the decoder's GEMVs 16 lanes wide. fp32 / fp16 / bf16 weights
 * are widened 16 at a time (vcvtph2ps zmm) into FMAs, 4 weight rows per pass;
 * the last partial vector of a row is a masked load. q8 weights meet the
 * int8-quantised activations in vpdpbusd: 64 bytes (two blocks of 32) per
 * instruction, |x| as the unsigned operand and x's sign moved onto w. The
 * attention over 16-bit keys and values (whisper_kv16) takes vpmaddwd 32 pairs
 * wide for the scores and fp16 values 16 at a time. */
#include "whisper/kernels_impl.h"

#ifdef WHISPER_HAVE_AVX2_VARIANT

#include <immintrin.h>
#include <pthread.h>

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq,avx512vnni,avx2,fma,f16c")))

AVX512 static inline __m512 load_f32(const float *p) { return _mm512_loadu_ps(p); }
AVX512 static inline __m512 load_f32_mask(__mmask16 m, const float *p) { return _mm512_maskz_loadu_ps(m, p); }
AVX512 static inline __m512 load_f16(const uint16_t *p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)p));
}
AVX512 static inline __m512 load_f16_mask(__mmask16 m, const uint16_t *p) {
    return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, p));
}
AVX512 static inline __m512 load_bf16(const uint16_t *p) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_loadu_si256((const __m256i *)p)), 16));
}
AVX512 static inline __m512 load_bf16_mask(__mmask16 m, const uint16_t *p) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(m, p)), 16));
}

#define GEMV_PF_ROWS 8 /* software prefetch distance in weight rows */

/* 4 weight rows per pass against x, 16 elements per step, the rows GEMV_PF_ROWS
 * ahead prefetched meanwhile (128 bytes per step: a 16-wide fp16 step reads 32
 * bytes of each of 4 rows); rows past a multiple of 4 one at a time. */
#define DEFINE_GEMV(NAME, WTYPE, LOAD, LOAD_MASK)                                                                   \
    AVX512 static void NAME(float *y, const float *x, const WTYPE *w, int K, int n0, int n1, int n_rows) {          \
        int k16 = K / 16 * 16;                                                                                      \
        __mmask16 tail = (__mmask16)((1u << (K - k16)) - 1);                                                        \
        int n = n0;                                                                                                 \
        for (; n + 4 <= n1; n += 4) {                                                                               \
            const WTYPE *w0 = w + (size_t)n * K, *w1 = w0 + K, *w2 = w1 + K, *w3 = w2 + K;                          \
            __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                                             \
            const char *pf = (const char *)(w0 + (size_t)GEMV_PF_ROWS * K); /* GEMV_PF_ROWS rows ahead */            \
            size_t pf_bytes = (size_t)4 * K * sizeof(WTYPE), pf_off = 0;                                            \
            int prefetch = n + GEMV_PF_ROWS + 4 <= n_rows;                                                          \
            for (int k = 0; k < k16; k += 16) {                                                                     \
                if (prefetch && pf_off < pf_bytes) {                                                                \
                    _mm_prefetch(pf + pf_off, _MM_HINT_T0);                                                         \
                    _mm_prefetch(pf + pf_off + 64, _MM_HINT_T0);                                                    \
                    pf_off += 128;                                                                                  \
                }                                                                                                   \
                __m512 xv = _mm512_loadu_ps(x + k);                                                                 \
                a0 = _mm512_fmadd_ps(LOAD(w0 + k), xv, a0);                                                         \
                a1 = _mm512_fmadd_ps(LOAD(w1 + k), xv, a1);                                                         \
                a2 = _mm512_fmadd_ps(LOAD(w2 + k), xv, a2);                                                         \
                a3 = _mm512_fmadd_ps(LOAD(w3 + k), xv, a3);                                                         \
            }                                                                                                       \
            if (tail) {                                                                                             \
                __m512 xv = _mm512_maskz_loadu_ps(tail, x + k16);                                                   \
                a0 = _mm512_fmadd_ps(LOAD_MASK(tail, w0 + k16), xv, a0);                                            \
                a1 = _mm512_fmadd_ps(LOAD_MASK(tail, w1 + k16), xv, a1);                                            \
                a2 = _mm512_fmadd_ps(LOAD_MASK(tail, w2 + k16), xv, a2);                                            \
                a3 = _mm512_fmadd_ps(LOAD_MASK(tail, w3 + k16), xv, a3);                                            \
            }                                                                                                       \
            y[n - n0] = _mm512_reduce_add_ps(a0), y[n - n0 + 1] = _mm512_reduce_add_ps(a1);                         \
            y[n - n0 + 2] = _mm512_reduce_add_ps(a2), y[n - n0 + 3] = _mm512_reduce_add_ps(a3);                     \
        }                                                                                                           \
        for (; n < n1; n++) {                                                                                       \
            const WTYPE *w0 = w + (size_t)n * K;                                                                    \
            __m512 a0 = _mm512_setzero_ps();                                                                        \
            for (int k = 0; k < k16; k += 16) a0 = _mm512_fmadd_ps(LOAD(w0 + k), _mm512_loadu_ps(x + k), a0);       \
            if (tail)                                                                                               \
                a0 = _mm512_fmadd_ps(LOAD_MASK(tail, w0 + k16), _mm512_maskz_loadu_ps(tail, x + k16), a0);          \
            y[n - n0] = _mm512_reduce_add_ps(a0);                                                                   \
        }                                                                                                           \
    }

DEFINE_GEMV(gemv_f32, float, load_f32, load_f32_mask)
DEFINE_GEMV(gemv_f16, uint16_t, load_f16, load_f16_mask)
DEFINE_GEMV(gemv_bf16, uint16_t, load_bf16, load_bf16_mask)

AVX512 static void avx512_gemv(float *y, const float *x, const whisper_matrix *w, int n0, int n1) {
    switch (w->dtype) {
    case WHISPER_DTYPE_F32: gemv_f32(y, x, w->data, w->cols, n0, n1, w->rows); break;
    case WHISPER_DTYPE_F16: gemv_f16(y, x, w->data, w->cols, n0, n1, w->rows); break;
    case WHISPER_DTYPE_BF16: gemv_bf16(y, x, w->data, w->cols, n0, n1, w->rows); break;
    case WHISPER_DTYPE_Q8: break; /* gemv_q8 */
    }
}

/* xd[b]·wd[b] for blocks b0 … b0+15 of one row (lanes past the mask m zero):
 * the scales of a run of 8 block pairs, combined once per run. */
AVX512 static inline __m512 block_scales(const float *xd, const uint16_t *wd, int b0, __mmask16 m) {
    return _mm512_mul_ps(_mm512_maskz_loadu_ps(m, xd + b0), _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(m, wd + b0)));
}

/* Two blocks of one row: 16 int32 sums (lanes 0–7 block b, 8–15 block b+1) of
 * |x|·(w with x's sign), scaled lane-wise by their block's xd·wd (scale). */
AVX512 static inline __m512 q8_pair(__m512 acc, __m512i ax, __mmask64 neg, const int8_t *w, __m512 scale) {
    __m512i wv = _mm512_loadu_si512(w);
    wv = _mm512_mask_sub_epi8(wv, neg, _mm512_setzero_si512(), wv);
    __m512i d = _mm512_dpbusd_epi32(_mm512_setzero_si512(), ax, wv);
    return _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), scale, acc);
}

/* Blocks are taken in runs of 16 (8 pairs): each row's 16 block scales are
 * converted and multiplied by xd's in one vector per run, and each pair picks
 * its two out of it (one permute per row and pair). */
AVX512 static void avx512_gemv_q8(float *y, const int8_t *xq, const float *xd, const whisper_matrix *w, int n0,
                                  int n1) {
    const int B = WHISPER_Q8_BLOCK;
    const __m512i half = _mm512_set_epi32(1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0);
    int K = w->cols, nb = (K + B - 1) / B, paired = K / (2 * B) * 2; /* blocks taken in pairs */
    const int8_t *q = w->data;
    int n = n0;
    for (; n + 4 <= n1; n += 4) {
        const int8_t *w0 = q + (size_t)n * K, *w1 = w0 + K, *w2 = w1 + K, *w3 = w2 + K;
        const uint16_t *s0 = w->scales + (size_t)n * nb, *s1 = s0 + nb, *s2 = s1 + nb, *s3 = s2 + nb;
        __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
        const char *pf = (const char *)(w0 + (size_t)GEMV_PF_ROWS * K); /* as the float GEMV */
        int prefetch = n + GEMV_PF_ROWS + 4 <= w->rows; /* on into the next range: its rows come next */
        for (int b0 = 0; b0 < paired; b0 += 16) {
            int run = paired - b0 < 16 ? paired - b0 : 16;
            __mmask16 m = (__mmask16)((1u << run) - 1);
            __m512 c0 = block_scales(xd, s0, b0, m), c1 = block_scales(xd, s1, b0, m);
            __m512 c2 = block_scales(xd, s2, b0, m), c3 = block_scales(xd, s3, b0, m);
            for (int b = b0; b < b0 + run; b += 2) {
                int k = b * B;
                if (prefetch) /* 4 rows × 64 bytes consumed per step, 4 lines prefetched */
                    for (int l = 0; l < 4; l++) _mm_prefetch(pf + (size_t)(2 * b + l) * 64, _MM_HINT_T0);
                __m512i xv = _mm512_loadu_si512(xq + k), ax = _mm512_abs_epi8(xv);
                __mmask64 neg = _mm512_movepi8_mask(xv);
                __m512i pick = _mm512_add_epi32(half, _mm512_set1_epi32(b - b0));
                a0 = q8_pair(a0, ax, neg, w0 + k, _mm512_permutexvar_ps(pick, c0));
                a1 = q8_pair(a1, ax, neg, w1 + k, _mm512_permutexvar_ps(pick, c1));
                a2 = q8_pair(a2, ax, neg, w2 + k, _mm512_permutexvar_ps(pick, c2));
                a3 = q8_pair(a3, ax, neg, w3 + k, _mm512_permutexvar_ps(pick, c3));
            }
        }
        y[n - n0] = _mm512_reduce_add_ps(a0) + whisper_q8_dot_tail(xq, xd, w0, s0, paired, K);
        y[n - n0 + 1] = _mm512_reduce_add_ps(a1) + whisper_q8_dot_tail(xq, xd, w1, s1, paired, K);
        y[n - n0 + 2] = _mm512_reduce_add_ps(a2) + whisper_q8_dot_tail(xq, xd, w2, s2, paired, K);
        y[n - n0 + 3] = _mm512_reduce_add_ps(a3) + whisper_q8_dot_tail(xq, xd, w3, s3, paired, K);
    }
    for (; n < n1; n++) {
        const int8_t *w0 = q + (size_t)n * K;
        const uint16_t *s0 = w->scales + (size_t)n * nb;
        __m512 a0 = _mm512_setzero_ps();
        for (int b0 = 0; b0 < paired; b0 += 16) {
            int run = paired - b0 < 16 ? paired - b0 : 16;
            __m512 c0 = block_scales(xd, s0, b0, (__mmask16)((1u << run) - 1));
            for (int b = b0; b < b0 + run; b += 2) {
                __m512i xv = _mm512_loadu_si512(xq + b * B);
                __m512i pick = _mm512_add_epi32(half, _mm512_set1_epi32(b - b0));
                a0 = q8_pair(a0, _mm512_abs_epi8(xv), _mm512_movepi8_mask(xv), w0 + b * B,
                             _mm512_permutexvar_ps(pick, c0));
            }
        }
        y[n - n0] = _mm512_reduce_add_ps(a0) + whisper_q8_dot_tail(xq, xd, w0, s0, paired, K);
    }
}

/* scores_i16 for d_head 64 (others: the AVX2 kernel): one key is two zmm of
 * int16, two vpmaddwd against the quantised query summed in int32 (4 products
 * per lane, within range), 4 keys reduced together. */
AVX512 static inline __m256 key_dot_i16(const int16_t *kp, __m512i q0, __m512i q1) {
    __m512i a = _mm512_add_epi32(_mm512_madd_epi16(_mm512_loadu_si512(kp), q0),
                                 _mm512_madd_epi16(_mm512_loadu_si512(kp + 32), q1));
    __m512 f = _mm512_cvtepi32_ps(a);
    return _mm256_add_ps(_mm512_castps512_ps256(f), _mm512_extractf32x8_ps(f, 1));
}

AVX512 static void avx512_scores_i16(float *s, const float *q, const int16_t *k, int ldk, const float *ks, int lds,
                                     int n, int dh, float scale) {
    if (dh != 64) {
        whisper_kernels_avx2.scores_i16(s, q, k, ldk, ks, lds, n, dh, scale);
        return;
    }
    int16_t qq[64];
    float qs = whisper_query_quantize(q, 64, qq) * scale;
    __m512i q0 = _mm512_loadu_si512(qq), q1 = _mm512_loadu_si512(qq + 32);
    __m128 qsv = _mm_set1_ps(qs);
    int t = 0;
    for (; t + 4 <= n; t += 4) {
        const int16_t *k0 = k + (size_t)t * ldk;
        if (t + 16 + 4 <= n) /* 16 keys ahead, 2 lines each */
            for (int r = 0; r < 4; r++) {
                _mm_prefetch((const char *)(k0 + (size_t)(16 + r) * ldk), _MM_HINT_T0);
                _mm_prefetch((const char *)(k0 + (size_t)(16 + r) * ldk) + 64, _MM_HINT_T0);
            }
        __m256 a0 = key_dot_i16(k0, q0, q1), a1 = key_dot_i16(k0 + ldk, q0, q1);
        __m256 a2 = key_dot_i16(k0 + 2 * (size_t)ldk, q0, q1), a3 = key_dot_i16(k0 + 3 * (size_t)ldk, q0, q1);
        __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
        __m128 r = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
        const float *kst = ks + (size_t)t * lds;
        __m128 ksv = _mm_set_ps(kst[3 * (size_t)lds], kst[2 * (size_t)lds], kst[lds], kst[0]);
        _mm_storeu_ps(s + t, _mm_mul_ps(r, _mm_mul_ps(ksv, qsv)));
    }
    for (; t < n; t++) {
        __m256 a = key_dot_i16(k + (size_t)t * ldk, q0, q1);
        __m128 h = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
        h = _mm_add_ps(h, _mm_movehl_ps(h, h));
        h = _mm_add_ss(h, _mm_shuffle_ps(h, h, 1));
        s[t] = _mm_cvtss_f32(h) * (ks[(size_t)t * lds] * qs);
    }
}

/* o = Σ_t p[t]·v[t] over fp16 values for d_head 64 (others: the AVX2 kernel):
 * the output row in 4 zmm, a value row widened 16 at a time. */
AVX512 static void avx512_weighted_sum_f16(float *o, const float *p, const uint16_t *v, int ldv, int n, int dh) {
    if (dh != 64) {
        whisper_kernels_avx2.weighted_sum_f16(o, p, v, ldv, n, dh);
        return;
    }
    __m512 o0 = _mm512_setzero_ps(), o1 = o0, o2 = o0, o3 = o0;
    for (int t = 0; t < n; t++) {
        const uint16_t *vt = v + (size_t)t * ldv;
        if (t + 16 < n) { /* 16 rows ahead, 2 lines each */
            _mm_prefetch((const char *)(vt + (size_t)16 * ldv), _MM_HINT_T0);
            _mm_prefetch((const char *)(vt + (size_t)16 * ldv) + 64, _MM_HINT_T0);
        }
        __m512 pv = _mm512_set1_ps(p[t]);
        o0 = _mm512_fmadd_ps(pv, load_f16(vt), o0), o1 = _mm512_fmadd_ps(pv, load_f16(vt + 16), o1);
        o2 = _mm512_fmadd_ps(pv, load_f16(vt + 32), o2), o3 = _mm512_fmadd_ps(pv, load_f16(vt + 48), o3);
    }
    _mm512_storeu_ps(o, o0), _mm512_storeu_ps(o + 16, o1), _mm512_storeu_ps(o + 32, o2);
    _mm512_storeu_ps(o + 48, o3);
}

static whisper_kernel_variant avx512_variant;
static pthread_once_t avx512_once = PTHREAD_ONCE_INIT;

static void avx512_init(void) {
    avx512_variant = whisper_kernels_avx2;
    avx512_variant.gemv = avx512_gemv;
    avx512_variant.gemv_q8 = avx512_gemv_q8;
    avx512_variant.scores_i16 = avx512_scores_i16;
    avx512_variant.weighted_sum_f16 = avx512_weighted_sum_f16;
    avx512_variant.name = "avx512";
}

const whisper_kernel_variant *whisper_kernels_avx512(void) {
    pthread_once(&avx512_once, avx512_init);
    return &avx512_variant;
}

#endif
