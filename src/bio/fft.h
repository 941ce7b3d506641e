/* fft.h — a plain double-precision real FFT, private to the bio-acoustic
 * module.
 *
 * pYIN's autocorrelations must match librosa's float64 numbers closely enough
 * that every voicing decision and pitch bin comes out identical, so the FFT is
 * double precision (Debian's kissfft is built for float only). A real
 * transform of length n is one complex radix-2 transform of length n/2 plus a
 * split step. Spectra are split: real parts and imaginary parts in two
 * arrays. A plan is immutable after bio_fft_init and may be shared. */
#ifndef TRIDENT_BIO_FFT_H
#define TRIDENT_BIO_FFT_H

#include <stddef.h>

typedef struct bio_fft {
    size_t n;      /* real transform length, a power of two >= 8 */
    size_t m;      /* n/2: the complex transform's length */
    double *twr;   /* [m]: at [h + j], j < h, e^{-i pi j / h} for the stage of half-size h: real parts */
    double *twi;   /* ... imaginary parts */
    double *sr;    /* [m]: e^{-2 pi i k / n} for the split step: real parts */
    double *si;    /* ... imaginary parts */
    unsigned *rev; /* [m]: bit-reversal permutation of [0, m) */
} bio_fft;

/* Prepares a plan for real transforms of length n (a power of two >= 8).
 * Returns 0 or TRIDENT_ENOMEM / TRIDENT_EINVAL; on error f holds no memory.
 * bio_fft_clear releases the plan's tables. */
int bio_fft_init(bio_fft *f, size_t n);
void bio_fft_clear(bio_fft *f);

/* Real forward transform: x[0..n) -> X[k] = Xr[k] + i Xi[k] for k in
 * [0, n/2], unnormalised (X[k] = sum_j x[j] e^{-2 pi i jk/n}). work: n
 * doubles. No two of x, Xr, Xi, work may overlap. */
void bio_fft_forward(const bio_fft *f, const double *x, double *restrict Xr, double *restrict Xi, double *work);

/* Real inverse transform of a Hermitian half spectrum Xr/Xi[0..n/2]: x[j] =
 * (1/n) sum_k X[k] e^{2 pi i jk/n} over the full spectrum, so that it undoes
 * bio_fft_forward. The imaginary parts of X[0] and X[n/2] are ignored. work:
 * n doubles. No two of Xr, Xi, x, work may overlap. */
void bio_fft_inverse(const bio_fft *f, const double *restrict Xr, const double *restrict Xi, double *restrict x,
                     double *restrict work);

#endif
