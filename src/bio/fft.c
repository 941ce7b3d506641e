/* fft.c — double-precision radix-2 FFT for pYIN's autocorrelations.
 *
 * A real transform of length n runs as an n/2-point complex FFT on the even
 * samples packed as real parts and the odd ones as imaginary parts, followed
 * (or, for the inverse, preceded) by the usual split step, done for the
 * mirror pair k, m - k at once (one complex product). The complex FFT is
 * an iterative decimation-in-time radix-2 transform on split arrays (real
 * parts, imaginary parts) with one contiguous twiddle table per stage, so the
 * inner loops stream through memory. The bit-reversal permutation is fused
 * with the first two stages (spans 2 and 4). Every step has a portable
 * version and an AVX2 one (target attribute, chosen at run time) that
 * perform the same IEEE operations in the same order — no FMA contraction,
 * which -std=c11 turns off and the "avx2" target alone cannot emit — so both
 * paths agree bit for bit. The AVX2 code runs the first two stages on four
 * groups at a time (contiguous loads, then a 4x4 transpose) and the later
 * stages in pairs (spans len and 2 len in one pass over the data, the same
 * butterflies and twiddles as two radix-2 passes); the last stage, which
 * the inverse prunes, stays single. Tables and buffers start on 32-byte
 * boundaries and every stage's twiddles at a multiple of four, so no
 * vector access but the split steps' mirrored ones splits a cache line. */
#include "bio/fft.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/cpu.h"
#include "base/error.h"
#include "base/mem.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define BIO_FFT_X86 1
#include <immintrin.h>
#define AVX2_FN __attribute__((target("avx2")))
#else
#define BIO_FFT_X86 0
#endif

int bio_fft_init(bio_fft *f, size_t n) {
    memset(f, 0, sizeof *f);
    if (n < 16 || (n & (n - 1)) != 0) return TRIDENT_EINVAL;
    size_t m = n / 2;
    f->n = n;
    f->m = m;
    f->twr = mem_alloc_aligned(m * sizeof *f->twr);
    f->twi = mem_alloc_aligned(m * sizeof *f->twi);
    f->twin = mem_alloc_aligned(m * sizeof *f->twin);
    f->rtwr = mem_alloc_aligned((m / 2 + 1) * sizeof *f->rtwr);
    f->rtwi = mem_alloc_aligned((m / 2 + 1) * sizeof *f->rtwi);
    f->rev = malloc(m * sizeof *f->rev);
    if (!f->twr || !f->twi || !f->twin || !f->rtwr || !f->rtwi || !f->rev) {
        bio_fft_free(f);
        return TRIDENT_ENOMEM;
    }
    const double two_pi = 6.283185307179586476925286766559;
    f->twr[0] = f->twi[0] = f->twin[0] = 0.0; /* unused */
    /* The stage with butterflies of span len uses e^{-2 pi i k/len}, k < len/2,
     * stored from offset len/2 (entry 0 is unused), so that every stage's
     * vectors of four start on 32-byte boundaries as the table does. */
    for (size_t len = 2; len <= m; len <<= 1) {
        size_t half = len / 2;
        for (size_t k = 0; k < half; k++) {
            double a = -two_pi * (double)k / (double)len;
            f->twr[half + k] = cos(a);
            f->twi[half + k] = sin(a);
            f->twin[half + k] = -sin(a);
        }
    }
    for (size_t k = 0; k <= m / 2; k++) {
        double a = -two_pi * (double)k / (double)n;
        f->rtwr[k] = cos(a);
        f->rtwi[k] = sin(a);
    }
    unsigned bits = 0;
    while (((size_t)1 << bits) < m) bits++;
    for (size_t i = 0; i < m; i++) {
        unsigned r = 0;
        for (unsigned b = 0; b < bits; b++)
            if (i & ((size_t)1 << b)) r |= 1u << (bits - 1 - b);
        f->rev[i] = r;
    }
#if BIO_FFT_X86
    f->avx2 = cpu_features_get().avx2;
#endif
    return 0;
}

void bio_fft_free(bio_fft *f) {
    free(f->twr);
    free(f->twi);
    free(f->twin);
    free(f->rtwr);
    free(f->rtwi);
    free(f->rev);
    memset(f, 0, sizeof *f);
}

/* Bit-reversal permutation of (sr, si) into (zr, zi) fused with the span-2
 * and span-4 stages. si may be NULL with half_zero: then sr holds
 * interleaved real samples (re, im, re, im, ...) of which only the first half
 * is non-zero. wi: the span-4 twiddles' imaginary parts (sign included). */
static void stages_first(const bio_fft *f, const double *sr, const double *si, int interleaved, int half_zero,
                         const double *wi, double *zr, double *zi) {
    size_t m = f->m;
    const double w0r = f->twr[2], w0i = wi[2], w1r = f->twr[3], w1i = wi[3];
    for (size_t i = 0; i < m; i += 4) {
        double ar[4] = {0, 0, 0, 0}, ai[4] = {0, 0, 0, 0};
        for (int q = 0; q < 4; q += 1 + (half_zero != 0)) {
            size_t r = f->rev[i + (size_t)q];
            if (interleaved) {
                ar[q] = sr[2 * r];
                ai[q] = sr[2 * r + 1];
            } else {
                ar[q] = sr[r];
                ai[q] = si[r];
            }
        }
        /* span 2: (z0, z1) -> (z0 + z1, z0 - z1); with half_zero z1, z3 are 0 */
        double p0r, p0i, p1r, p1i, p2r, p2i, p3r, p3i;
        if (half_zero) {
            p0r = p1r = ar[0];
            p0i = p1i = ai[0];
            p2r = p3r = ar[2];
            p2i = p3i = ai[2];
        } else {
            p0r = ar[0] + ar[1];
            p0i = ai[0] + ai[1];
            p1r = ar[0] - ar[1];
            p1i = ai[0] - ai[1];
            p2r = ar[2] + ar[3];
            p2i = ai[2] + ai[3];
            p3r = ar[2] - ar[3];
            p3i = ai[2] - ai[3];
        }
        /* span 4 */
        double tr = p2r * w0r - p2i * w0i, ti = p2r * w0i + p2i * w0r;
        zr[i] = p0r + tr;
        zi[i] = p0i + ti;
        zr[i + 2] = p0r - tr;
        zi[i + 2] = p0i - ti;
        tr = p3r * w1r - p3i * w1i;
        ti = p3r * w1i + p3i * w1r;
        zr[i + 1] = p1r + tr;
        zi[i + 1] = p1i + ti;
        zr[i + 3] = p1r - tr;
        zi[i + 3] = p1i - ti;
    }
}

/* Butterfly k of a radix-2 stage: (a, b) <- (a + w·b, a − w·b); only the first
 * output when only_a. The AVX2 stage uses it for its tail, so both paths do the
 * same operations in the same order. */
static inline void butterfly(double *ar, double *ai, double *br, double *bi, const double *wr, const double *wi,
                             size_t k, int only_a) {
    double xr = br[k], xi = bi[k];
    double tr = xr * wr[k] - xi * wi[k], ti = xr * wi[k] + xi * wr[k];
    double a0 = ar[k], a1 = ai[k];
    ar[k] = a0 + tr;
    ai[k] = a1 + ti;
    if (!only_a) {
        br[k] = a0 - tr;
        bi[k] = a1 - ti;
    }
}

/* One radix-2 stage of span len on butterflies k in [0, kmax) of every group;
 * only_a: write the first output of each butterfly only (the last stage of a
 * pruned inverse). */
static void stage_c(double *zr, double *zi, size_t m, size_t len, const double *twr, const double *twi,
                    size_t kmax, int only_a) {
    size_t half = len / 2;
    const double *wr = twr + half, *wi = twi + half;
    for (size_t g = 0; g < m; g += len) {
        double *ar = zr + g, *ai = zi + g, *br = ar + half, *bi = ai + half;
        for (size_t k = 0; k < kmax; k++) butterfly(ar, ai, br, bi, wr, wi, k, only_a);
    }
}

/* Forward split: X[k] = E + W^k O, E = (Z[k] + conj Z[m-k])/2, O = -i (Z[k] - conj Z[m-k])/2,
 * for k in [k0, k1) together with its mirror X[m-k] = conj(E - W^k O)
 * (E and O at m - k are the conjugates of those at k, W^(m-k) = -conj W^k),
 * so each pair costs one product; k1 <= m/2 + 1 (at k = m/2 the mirror is k
 * itself and its value is the mirror formula's). */
static void split_fwd_c(const bio_fft *f, const double *zr, const double *zi, double *Xr, double *Xi, size_t k0,
                        size_t k1) {
    size_t m = f->m;
    for (size_t k = k0; k < k1; k++) {
        double ar = zr[k], ai = zi[k];
        double br = zr[m - k], bi = -zi[m - k];
        double er = 0.5 * (ar + br), ei = 0.5 * (ai + bi);
        double or_ = 0.5 * (ai - bi), oi = -0.5 * (ar - br);
        double wr = f->rtwr[k], wi = f->rtwi[k];
        double pr = or_ * wr - oi * wi, pi = or_ * wi + oi * wr;
        Xr[k] = er + pr;
        Xi[k] = ei + pi;
        Xr[m - k] = er - pr;
        Xi[m - k] = -(ei - pi);
    }
}

/* Inverse split into natural order: Z[k] = E[k] + i O[k], E = X[k] + conj X[m-k],
 * O = (X[k] - conj X[m-k]) conj(W^k), for k in [k0, k1), k0 >= 1, together
 * with its mirror Z[m-k] = conj(E) + i conj(O) (as in split_fwd_c; k1 <= m/2 + 1). */
static void split_inv_c(const bio_fft *f, const double *Xr, const double *Xi, double *Zr, double *Zi, size_t k0,
                        size_t k1) {
    size_t m = f->m;
    for (size_t k = k0; k < k1; k++) {
        double ar = Xr[k], ai = Xi[k];
        double br = Xr[m - k], bi = -Xi[m - k];
        double er = ar + br, ei = ai + bi;
        double dr = ar - br, di = ai - bi;
        double wr = f->rtwr[k], wi = -f->rtwi[k];
        double or_ = dr * wr - di * wi, oi = dr * wi + di * wr;
        Zr[k] = er - oi;
        Zi[k] = ei + or_;
        Zr[m - k] = er + oi;
        Zi[m - k] = or_ - ei;
    }
}

#if BIO_FFT_X86
AVX2_FN static void stage_avx2(double *zr, double *zi, size_t m, size_t len, const double *twr, const double *twi,
                               size_t kmax, int only_a) {
    size_t half = len / 2;
    const double *wr = twr + half, *wi = twi + half;
    for (size_t g = 0; g < m; g += len) {
        double *ar = zr + g, *ai = zi + g, *br = ar + half, *bi = ai + half;
        size_t k = 0;
        for (; k + 4 <= kmax; k += 4) {
            __m256d xr = _mm256_loadu_pd(br + k), xi = _mm256_loadu_pd(bi + k);
            __m256d vr = _mm256_loadu_pd(wr + k), vi = _mm256_loadu_pd(wi + k);
            __m256d tr = _mm256_sub_pd(_mm256_mul_pd(xr, vr), _mm256_mul_pd(xi, vi));
            __m256d ti = _mm256_add_pd(_mm256_mul_pd(xr, vi), _mm256_mul_pd(xi, vr));
            __m256d a0 = _mm256_loadu_pd(ar + k), a1 = _mm256_loadu_pd(ai + k);
            _mm256_storeu_pd(ar + k, _mm256_add_pd(a0, tr));
            _mm256_storeu_pd(ai + k, _mm256_add_pd(a1, ti));
            if (!only_a) {
                _mm256_storeu_pd(br + k, _mm256_sub_pd(a0, tr));
                _mm256_storeu_pd(bi + k, _mm256_sub_pd(a1, ti));
            }
        }
        for (; k < kmax; k++) butterfly(ar, ai, br, bi, wr, wi, k, only_a);
    }
}

/* Two consecutive radix-2 stages (spans len and 2 len, len >= 8) in one pass:
 * elements k, k + len/2, k + len, k + 3 len/2 of every group of 2 len go
 * through their two span-len butterflies and then their two span-2len ones,
 * the same operations as stage_avx2 twice, with half the loads and stores. */
AVX2_FN static void stage_pair_avx2(double *zr, double *zi, size_t m, size_t len, const double *twr,
                                    const double *twi) {
    size_t half = len / 2;
    const double *ar_ = twr + half, *ai_ = twi + half; /* span len */
    const double *br_ = twr + len, *bi_ = twi + len;   /* span 2 len */
    for (size_t g = 0; g < m; g += 2 * len) {
        double *r = zr + g, *i = zi + g;
        for (size_t k = 0; k < half; k += 4) {
            __m256d Ar = _mm256_loadu_pd(r + k), Ai = _mm256_loadu_pd(i + k);
            __m256d Br = _mm256_loadu_pd(r + k + half), Bi = _mm256_loadu_pd(i + k + half);
            __m256d Cr = _mm256_loadu_pd(r + k + len), Ci = _mm256_loadu_pd(i + k + len);
            __m256d Dr = _mm256_loadu_pd(r + k + len + half), Di = _mm256_loadu_pd(i + k + len + half);
            __m256d wr = _mm256_loadu_pd(ar_ + k), wi = _mm256_loadu_pd(ai_ + k);
            /* span len: (A, B) and (C, D), twiddle k */
            __m256d tr = _mm256_sub_pd(_mm256_mul_pd(Br, wr), _mm256_mul_pd(Bi, wi));
            __m256d ti = _mm256_add_pd(_mm256_mul_pd(Br, wi), _mm256_mul_pd(Bi, wr));
            Br = _mm256_sub_pd(Ar, tr);
            Bi = _mm256_sub_pd(Ai, ti);
            Ar = _mm256_add_pd(Ar, tr);
            Ai = _mm256_add_pd(Ai, ti);
            tr = _mm256_sub_pd(_mm256_mul_pd(Dr, wr), _mm256_mul_pd(Di, wi));
            ti = _mm256_add_pd(_mm256_mul_pd(Dr, wi), _mm256_mul_pd(Di, wr));
            Dr = _mm256_sub_pd(Cr, tr);
            Di = _mm256_sub_pd(Ci, ti);
            Cr = _mm256_add_pd(Cr, tr);
            Ci = _mm256_add_pd(Ci, ti);
            /* span 2 len: (A, C) with twiddle k, (B, D) with twiddle k + len/2 */
            wr = _mm256_loadu_pd(br_ + k);
            wi = _mm256_loadu_pd(bi_ + k);
            tr = _mm256_sub_pd(_mm256_mul_pd(Cr, wr), _mm256_mul_pd(Ci, wi));
            ti = _mm256_add_pd(_mm256_mul_pd(Cr, wi), _mm256_mul_pd(Ci, wr));
            _mm256_storeu_pd(r + k, _mm256_add_pd(Ar, tr));
            _mm256_storeu_pd(i + k, _mm256_add_pd(Ai, ti));
            _mm256_storeu_pd(r + k + len, _mm256_sub_pd(Ar, tr));
            _mm256_storeu_pd(i + k + len, _mm256_sub_pd(Ai, ti));
            wr = _mm256_loadu_pd(br_ + k + half);
            wi = _mm256_loadu_pd(bi_ + k + half);
            tr = _mm256_sub_pd(_mm256_mul_pd(Dr, wr), _mm256_mul_pd(Di, wi));
            ti = _mm256_add_pd(_mm256_mul_pd(Dr, wi), _mm256_mul_pd(Di, wr));
            _mm256_storeu_pd(r + k + half, _mm256_add_pd(Br, tr));
            _mm256_storeu_pd(i + k + half, _mm256_add_pd(Bi, ti));
            _mm256_storeu_pd(r + k + len + half, _mm256_sub_pd(Br, tr));
            _mm256_storeu_pd(i + k + len + half, _mm256_sub_pd(Bi, ti));
        }
    }
}

/* Input q of the four groups of stages_first_avx2 (see below), at offset o:
 * real parts in *re, imaginary parts in *im. */
AVX2_FN __attribute__((always_inline)) static inline void first_load(const double *sr, const double *si,
                                                                     int interleaved, size_t o, __m256d *re,
                                                                     __m256d *im) {
    if (interleaved) {
        __m256d v0 = _mm256_loadu_pd(sr + 2 * o), v1 = _mm256_loadu_pd(sr + 2 * o + 4);
        *re = _mm256_unpacklo_pd(v0, v1);
        *im = _mm256_unpackhi_pd(v0, v1);
    } else {
        *re = _mm256_loadu_pd(sr + o);
        *im = _mm256_loadu_pd(si + o);
    }
}

/* stages_first for m >= 16 with the groups in vector lanes. Group g (outputs
 * 4g .. 4g + 3) reads inputs rev(4g) + {0, m/2, m/4, 3m/4}; the four groups
 * h + {0, 1, 2, 3} m/16 have rev(4g) = rev(4h) + {0, 2, 1, 3}, so each input
 * of the four is one contiguous load (interleaved input: two loads
 * unpacked, lanes in the order {0, 2, 1, 3}). The butterflies run across
 * lanes exactly as in stages_first; a 4x4 transpose gives each group its four
 * contiguous outputs. */
AVX2_FN __attribute__((always_inline)) static inline void first_body(const bio_fft *f, const double *sr,
                                                                     const double *si, int interleaved,
                                                                     int half_zero, const double *wi, double *zr,
                                                                     double *zi) {
    size_t m = f->m, q4 = m / 4, g4 = m / 16;
    const __m256d w0r = _mm256_set1_pd(f->twr[2]), w0i = _mm256_set1_pd(wi[2]);
    const __m256d w1r = _mm256_set1_pd(f->twr[3]), w1i = _mm256_set1_pd(wi[3]);
    /* lane l holds group h + d_l m/16 */
    const size_t d1 = interleaved ? 1 : 2, d2 = interleaved ? 2 : 1;
    for (size_t h = 0; h < g4; h++) {
        size_t base = f->rev[4 * h];
        __m256d a0r, a0i, a2r, a2i, p0r, p0i, p1r, p1i, p2r, p2i, p3r, p3i;
        first_load(sr, si, interleaved, base, &a0r, &a0i);
        first_load(sr, si, interleaved, base + q4, &a2r, &a2i);
        if (half_zero) {
            p0r = p1r = a0r;
            p0i = p1i = a0i;
            p2r = p3r = a2r;
            p2i = p3i = a2i;
        } else {
            __m256d a1r, a1i, a3r, a3i;
            first_load(sr, si, interleaved, base + 2 * q4, &a1r, &a1i);
            first_load(sr, si, interleaved, base + 3 * q4, &a3r, &a3i);
            p0r = _mm256_add_pd(a0r, a1r);
            p0i = _mm256_add_pd(a0i, a1i);
            p1r = _mm256_sub_pd(a0r, a1r);
            p1i = _mm256_sub_pd(a0i, a1i);
            p2r = _mm256_add_pd(a2r, a3r);
            p2i = _mm256_add_pd(a2i, a3i);
            p3r = _mm256_sub_pd(a2r, a3r);
            p3i = _mm256_sub_pd(a2i, a3i);
        }
        __m256d tr = _mm256_sub_pd(_mm256_mul_pd(p2r, w0r), _mm256_mul_pd(p2i, w0i));
        __m256d ti = _mm256_add_pd(_mm256_mul_pd(p2r, w0i), _mm256_mul_pd(p2i, w0r));
        __m256d z0r = _mm256_add_pd(p0r, tr), z0i = _mm256_add_pd(p0i, ti);
        __m256d z2r = _mm256_sub_pd(p0r, tr), z2i = _mm256_sub_pd(p0i, ti);
        tr = _mm256_sub_pd(_mm256_mul_pd(p3r, w1r), _mm256_mul_pd(p3i, w1i));
        ti = _mm256_add_pd(_mm256_mul_pd(p3r, w1i), _mm256_mul_pd(p3i, w1r));
        __m256d z1r = _mm256_add_pd(p1r, tr), z1i = _mm256_add_pd(p1i, ti);
        __m256d z3r = _mm256_sub_pd(p1r, tr), z3i = _mm256_sub_pd(p1i, ti);
        /* 4x4 transposes: row l = element l of z0..z3 */
        __m256d t0 = _mm256_unpacklo_pd(z0r, z1r), t1 = _mm256_unpackhi_pd(z0r, z1r);
        __m256d t2 = _mm256_unpacklo_pd(z2r, z3r), t3 = _mm256_unpackhi_pd(z2r, z3r);
        __m256d u0 = _mm256_unpacklo_pd(z0i, z1i), u1 = _mm256_unpackhi_pd(z0i, z1i);
        __m256d u2 = _mm256_unpacklo_pd(z2i, z3i), u3 = _mm256_unpackhi_pd(z2i, z3i);
        size_t g0 = 4 * h, ga = 4 * (h + d1 * g4), gb = 4 * (h + d2 * g4), g3 = 4 * (h + 3 * g4);
        _mm256_storeu_pd(zr + g0, _mm256_permute2f128_pd(t0, t2, 0x20));
        _mm256_storeu_pd(zi + g0, _mm256_permute2f128_pd(u0, u2, 0x20));
        _mm256_storeu_pd(zr + ga, _mm256_permute2f128_pd(t1, t3, 0x20));
        _mm256_storeu_pd(zi + ga, _mm256_permute2f128_pd(u1, u3, 0x20));
        _mm256_storeu_pd(zr + gb, _mm256_permute2f128_pd(t0, t2, 0x31));
        _mm256_storeu_pd(zi + gb, _mm256_permute2f128_pd(u0, u2, 0x31));
        _mm256_storeu_pd(zr + g3, _mm256_permute2f128_pd(t1, t3, 0x31));
        _mm256_storeu_pd(zi + g3, _mm256_permute2f128_pd(u1, u3, 0x31));
    }
}

AVX2_FN static void stages_first_avx2(const bio_fft *f, const double *sr, const double *si, int interleaved,
                                      int half_zero, const double *wi, double *zr, double *zi) {
    if (interleaved && half_zero)
        first_body(f, sr, si, 1, 1, wi, zr, zi);
    else if (interleaved)
        first_body(f, sr, si, 1, 0, wi, zr, zi);
    else
        first_body(f, sr, si, 0, half_zero, wi, zr, zi);
}

/* x[2j] = zr[j] s, x[2j + 1] = zi[j] s for 2j < n_out (interleaving, as the
 * portable loop in bio_fft_inverse). */
AVX2_FN static size_t interleave_avx2(const double *zr, const double *zi, double s, double *x, size_t n_out) {
    const __m256d sc = _mm256_set1_pd(s);
    size_t j = 0;
    for (; 2 * j + 8 <= n_out; j += 4) {
        __m256d a = _mm256_mul_pd(_mm256_loadu_pd(zr + j), sc), b = _mm256_mul_pd(_mm256_loadu_pd(zi + j), sc);
        __m256d lo = _mm256_unpacklo_pd(a, b), hi = _mm256_unpackhi_pd(a, b);
        _mm256_storeu_pd(x + 2 * j, _mm256_permute2f128_pd(lo, hi, 0x20));
        _mm256_storeu_pd(x + 2 * j + 4, _mm256_permute2f128_pd(lo, hi, 0x31));
    }
    return j;
}

static inline __m256d AVX2_FN rev4(__m256d v) { return _mm256_permute4x64_pd(v, 0x1B); }

/* The split steps in pairs (k, m - k), four pairs a step: k = 1..3 one at
 * a time, then vectors from k = 4 to m/2 - 1, so that the loads of z, X and
 * the twiddles at k and the stores there start on 32-byte boundaries (the
 * mirrored ones at m - k - 3 do not), then k = m/2. The same operations as
 * split_fwd_c / split_inv_c lane by lane; the mirrored lanes are reversed
 * on the way in and out; negation flips the sign bit, as C's unary minus. */
AVX2_FN static void split_fwd_avx2(const bio_fft *f, const double *zr, const double *zi, double *Xr, double *Xi) {
    size_t m = f->m, k = 4;
    split_fwd_c(f, zr, zi, Xr, Xi, 1, 4);
    const __m256d half = _mm256_set1_pd(0.5), nhalf = _mm256_set1_pd(-0.5), sign = _mm256_set1_pd(-0.0);
    for (; k + 4 <= m / 2; k += 4) {
        __m256d ar = _mm256_loadu_pd(zr + k), ai = _mm256_loadu_pd(zi + k);
        __m256d br = rev4(_mm256_loadu_pd(zr + m - k - 3));
        __m256d bi = _mm256_xor_pd(sign, rev4(_mm256_loadu_pd(zi + m - k - 3)));
        __m256d er = _mm256_mul_pd(half, _mm256_add_pd(ar, br)), ei = _mm256_mul_pd(half, _mm256_add_pd(ai, bi));
        __m256d or_ = _mm256_mul_pd(half, _mm256_sub_pd(ai, bi)), oi = _mm256_mul_pd(nhalf, _mm256_sub_pd(ar, br));
        __m256d wr = _mm256_loadu_pd(f->rtwr + k), wi = _mm256_loadu_pd(f->rtwi + k);
        __m256d pr = _mm256_sub_pd(_mm256_mul_pd(or_, wr), _mm256_mul_pd(oi, wi));
        __m256d pi = _mm256_add_pd(_mm256_mul_pd(or_, wi), _mm256_mul_pd(oi, wr));
        _mm256_storeu_pd(Xr + k, _mm256_add_pd(er, pr));
        _mm256_storeu_pd(Xi + k, _mm256_add_pd(ei, pi));
        _mm256_storeu_pd(Xr + m - k - 3, rev4(_mm256_sub_pd(er, pr)));
        _mm256_storeu_pd(Xi + m - k - 3, rev4(_mm256_xor_pd(sign, _mm256_sub_pd(ei, pi))));
    }
    split_fwd_c(f, zr, zi, Xr, Xi, k, m / 2 + 1);
}

AVX2_FN static void split_inv_avx2(const bio_fft *f, const double *Xr, const double *Xi, double *Zr, double *Zi) {
    size_t m = f->m, k = 4;
    split_inv_c(f, Xr, Xi, Zr, Zi, 1, 4);
    const __m256d sign = _mm256_set1_pd(-0.0);
    for (; k + 4 <= m / 2; k += 4) {
        __m256d ar = _mm256_loadu_pd(Xr + k), ai = _mm256_loadu_pd(Xi + k);
        __m256d br = rev4(_mm256_loadu_pd(Xr + m - k - 3));
        __m256d bi = _mm256_xor_pd(sign, rev4(_mm256_loadu_pd(Xi + m - k - 3)));
        __m256d er = _mm256_add_pd(ar, br), ei = _mm256_add_pd(ai, bi);
        __m256d dr = _mm256_sub_pd(ar, br), di = _mm256_sub_pd(ai, bi);
        __m256d wr = _mm256_loadu_pd(f->rtwr + k), wi = _mm256_xor_pd(sign, _mm256_loadu_pd(f->rtwi + k));
        __m256d or_ = _mm256_sub_pd(_mm256_mul_pd(dr, wr), _mm256_mul_pd(di, wi));
        __m256d oi = _mm256_add_pd(_mm256_mul_pd(dr, wi), _mm256_mul_pd(di, wr));
        _mm256_storeu_pd(Zr + k, _mm256_sub_pd(er, oi));
        _mm256_storeu_pd(Zi + k, _mm256_add_pd(ei, or_));
        _mm256_storeu_pd(Zr + m - k - 3, rev4(_mm256_add_pd(er, oi)));
        _mm256_storeu_pd(Zi + m - k - 3, rev4(_mm256_sub_pd(or_, ei)));
    }
    split_inv_c(f, Xr, Xi, Zr, Zi, k, m / 2 + 1);
}
#endif

/* Stages of span 8 .. m; the last one limited to butterflies k < last_kmax
 * (first outputs only when limited). */
static void stages_rest(const bio_fft *f, double *zr, double *zi, const double *twi, size_t last_kmax) {
    size_t m = f->m, len = 8;
#if BIO_FFT_X86
    /* pairs of stages below the last one, which may be limited */
    if (f->avx2)
        for (; 4 * len <= m; len <<= 2) stage_pair_avx2(zr, zi, m, len, f->twr, twi);
#endif
    for (; len <= m; len <<= 1) {
        size_t kmax = len / 2;
        int only_a = 0;
        if (len == m && last_kmax < kmax) {
            kmax = last_kmax;
            only_a = 1;
        }
#if BIO_FFT_X86
        if (f->avx2) {
            stage_avx2(zr, zi, m, len, f->twr, twi, kmax, only_a);
            continue;
        }
#endif
        stage_c(zr, zi, m, len, f->twr, twi, kmax, only_a);
    }
}

void bio_fft_forward(const bio_fft *f, const double *x, int half_zero, double *Xr, double *Xi, double *work) {
    size_t m = f->m;
    double *zr = work, *zi = work + m;
#if BIO_FFT_X86
    if (f->avx2 && m >= 16)
        stages_first_avx2(f, x, NULL, 1, half_zero, f->twi, zr, zi);
    else
#endif
        stages_first(f, x, NULL, 1, half_zero, f->twi, zr, zi);
    stages_rest(f, zr, zi, f->twi, m / 2);
    Xr[0] = zr[0] + zi[0];
    Xi[0] = 0.0;
    Xr[m] = zr[0] - zi[0];
    Xi[m] = 0.0;
#if BIO_FFT_X86
    if (f->avx2) {
        split_fwd_avx2(f, zr, zi, Xr, Xi);
        return;
    }
#endif
    split_fwd_c(f, zr, zi, Xr, Xi, 1, m / 2 + 1);
}

void bio_fft_inverse(const bio_fft *f, const double *Xr, const double *Xi, double *x, size_t n_out,
                     double *work) {
    size_t m = f->m;
    double *Zr = work, *Zi = work + m, *zr = work + 2 * m, *zi = work + 3 * m;
    /* k = 0: the imaginary parts of X[0] and X[m] are taken as 0 */
    {
        double ar = Xr[0], br = Xr[m];
        double er = ar + br, dr = ar - br;
        double wr = f->rtwr[0], wi = -f->rtwi[0];
        double or_ = dr * wr - 0.0 * wi, oi = dr * wi + 0.0 * wr;
        Zr[0] = er - oi;
        Zi[0] = 0.0 + or_;
    }
#if BIO_FFT_X86
    if (f->avx2)
        split_inv_avx2(f, Xr, Xi, Zr, Zi);
    else
#endif
        split_inv_c(f, Xr, Xi, Zr, Zi, 1, m / 2 + 1);
#if BIO_FFT_X86
    if (f->avx2 && m >= 16)
        stages_first_avx2(f, Zr, Zi, 0, 0, f->twin, zr, zi);
    else
#endif
        stages_first(f, Zr, Zi, 0, 0, f->twin, zr, zi);
    if (n_out > f->n) n_out = f->n;
    size_t need = (n_out + 1) / 2; /* complex outputs z[0..need) */
    stages_rest(f, zr, zi, f->twin, need);
    double scale = 1.0 / (double)f->n;
    size_t j0 = 0;
#if BIO_FFT_X86
    if (f->avx2) j0 = interleave_avx2(zr, zi, scale, x, n_out);
#endif
    for (size_t j = j0; 2 * j < n_out; j++) {
        x[2 * j] = zr[j] * scale;
        if (2 * j + 1 < n_out) x[2 * j + 1] = zi[j] * scale;
    }
}
