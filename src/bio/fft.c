/* fft.c — double-precision radix-2 FFT for pYIN's autocorrelations.
 *
 * A real transform of length n runs as an n/2-point complex FFT on the even
 * samples packed as real parts and the odd ones as imaginary parts, followed
 * (or, for the inverse, preceded) by the usual split step. The complex FFT is
 * an iterative decimation-in-time radix-2 transform with one contiguous
 * twiddle table per stage, so the inner loops stream through memory. */
#include "bio/fft.h"

/* The butterflies only vectorise with GCC's full cost model. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

int bio_fft_init(bio_fft *f, size_t n) {
    memset(f, 0, sizeof *f);
    if (n < 4 || (n & (n - 1)) != 0) return TRIDENT_EINVAL;
    size_t m = n / 2;
    f->n = n;
    f->m = m;
    f->tw = malloc(2 * m * sizeof *f->tw);
    f->rtw = malloc(2 * m * sizeof *f->rtw);
    f->rev = malloc(m * sizeof *f->rev);
    if (!f->tw || !f->rtw || !f->rev) {
        bio_fft_free(f);
        return TRIDENT_ENOMEM;
    }
    const double two_pi = 6.283185307179586476925286766559;
    /* Stage with butterflies of span len uses e^{-2 pi i k/len}, k < len/2,
     * stored from offset len/2 - 1. */
    for (size_t len = 2; len <= m; len <<= 1) {
        size_t half = len / 2;
        double *w = f->tw + 2 * (half - 1);
        for (size_t k = 0; k < half; k++) {
            double a = -two_pi * (double)k / (double)len;
            w[2 * k] = cos(a);
            w[2 * k + 1] = sin(a);
        }
    }
    for (size_t k = 0; k < m; k++) {
        double a = -two_pi * (double)k / (double)n;
        f->rtw[2 * k] = cos(a);
        f->rtw[2 * k + 1] = sin(a);
    }
    unsigned bits = 0;
    while (((size_t)1 << bits) < m) bits++;
    for (size_t i = 0; i < m; i++) {
        unsigned r = 0;
        for (unsigned b = 0; b < bits; b++)
            if (i & ((size_t)1 << b)) r |= 1u << (bits - 1 - b);
        f->rev[i] = r;
    }
    return 0;
}

void bio_fft_free(bio_fft *f) {
    free(f->tw);
    free(f->rtw);
    free(f->rev);
    memset(f, 0, sizeof *f);
}

/* In-place m-point complex FFT of z (interleaved) whose input is already in
 * bit-reversed order. sign = +1 forward (the stored twiddles), -1 inverse
 * (their conjugates); unnormalised. */
static void fft_complex(const bio_fft *f, double *z, double sign) {
    size_t m = f->m;
    /* Span 2: twiddle 1. */
    for (size_t i = 0; i < m; i += 2) {
        double *a = z + 2 * i, *b = a + 2;
        double br = b[0], bi = b[1];
        b[0] = a[0] - br;
        b[1] = a[1] - bi;
        a[0] += br;
        a[1] += bi;
    }
    for (size_t len = 4; len <= m; len <<= 1) {
        size_t half = len / 2;
        const double *w = f->tw + 2 * (half - 1);
        for (size_t i = 0; i < m; i += len) {
            double *a = z + 2 * i, *b = a + 2 * half;
            for (size_t k = 0; k < half; k++) {
                double wr = w[2 * k], wi = sign * w[2 * k + 1];
                double xr = b[2 * k], xi = b[2 * k + 1];
                double tr = xr * wr - xi * wi, ti = xr * wi + xi * wr;
                double ar = a[2 * k], ai = a[2 * k + 1];
                a[2 * k] = ar + tr;
                a[2 * k + 1] = ai + ti;
                b[2 * k] = ar - tr;
                b[2 * k + 1] = ai - ti;
            }
        }
    }
}

void bio_fft_forward(const bio_fft *f, const double *x, double *X, double *work) {
    size_t m = f->m;
    for (size_t j = 0; j < m; j++) {
        size_t r = f->rev[j];
        work[2 * r] = x[2 * j];
        work[2 * r + 1] = x[2 * j + 1];
    }
    fft_complex(f, work, 1.0);
    /* Split: X[k] = E + W^k O with E = (Z[k] + conj Z[m-k])/2, O = -i (Z[k] - conj Z[m-k])/2. */
    X[0] = work[0] + work[1];
    X[1] = 0.0;
    X[2 * m] = work[0] - work[1];
    X[2 * m + 1] = 0.0;
    for (size_t k = 1; k < m; k++) {
        double ar = work[2 * k], ai = work[2 * k + 1];
        double br = work[2 * (m - k)], bi = -work[2 * (m - k) + 1];
        double er = 0.5 * (ar + br), ei = 0.5 * (ai + bi);
        double or_ = 0.5 * (ai - bi), oi = -0.5 * (ar - br);
        double wr = f->rtw[2 * k], wi = f->rtw[2 * k + 1];
        X[2 * k] = er + (or_ * wr - oi * wi);
        X[2 * k + 1] = ei + (or_ * wi + oi * wr);
    }
}

void bio_fft_inverse(const bio_fft *f, const double *X, double *x, double *work) {
    size_t m = f->m;
    /* Z[k] = E[k] + i O[k], E = X[k] + conj X[m-k], O = (X[k] - conj X[m-k]) conj(W^k),
     * then z = IFFT_m(Z): x[2j] = Re z[j] / n, x[2j+1] = Im z[j] / n. */
    for (size_t k = 0; k < m; k++) {
        double ar = X[2 * k], ai = k == 0 ? 0.0 : X[2 * k + 1];
        double br = X[2 * (m - k)], bi = k == 0 ? 0.0 : -X[2 * (m - k) + 1];
        double er = ar + br, ei = ai + bi;
        double dr = ar - br, di = ai - bi;
        double wr = f->rtw[2 * k], wi = -f->rtw[2 * k + 1];
        double or_ = dr * wr - di * wi, oi = dr * wi + di * wr;
        size_t r = f->rev[k];
        work[2 * r] = er - oi;
        work[2 * r + 1] = ei + or_;
    }
    fft_complex(f, work, -1.0);
    double scale = 1.0 / (double)f->n;
    for (size_t j = 0; j < m; j++) {
        x[2 * j] = work[2 * j] * scale;
        x[2 * j + 1] = work[2 * j + 1] * scale;
    }
}
