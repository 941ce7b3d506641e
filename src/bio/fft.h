/* fft.h — a small double-precision FFT, private to the bio-acoustic module.
 *
 * pYIN's autocorrelations must match librosa's float64 numbers closely enough
 * that every voicing decision and pitch bin comes out identical, so the FFT is
 * double precision (Debian's kissfft is float only). One plan per transform
 * size; plans are immutable after bio_fft_init and may be shared by threads. */
#ifndef TRIDENT_BIO_FFT_H
#define TRIDENT_BIO_FFT_H

#include <stddef.h>

typedef struct bio_fft {
    size_t n;      /* real transform length, a power of two >= 4 */
    size_t m;      /* complex length n/2 used internally */
    double *tw;    /* per-stage twiddles of the m-point complex FFT, interleaved re,im */
    double *rtw;   /* e^{-2 pi i k / n} for k in [0, m), interleaved re,im */
    unsigned *rev; /* bit-reversal permutation of [0, m) */
} bio_fft;

/* Prepares a plan for real transforms of length n (a power of two >= 4).
 * Returns 0 or TRIDENT_ENOMEM / TRIDENT_EINVAL. Free with bio_fft_free. */
int bio_fft_init(bio_fft *f, size_t n);
void bio_fft_free(bio_fft *f);

/* Real forward transform: x[0..n) -> X[0..n/2] as n+2 interleaved doubles,
 * unnormalised (X[k] = sum x[j] e^{-2 pi i jk/n}). work: n doubles. */
void bio_fft_forward(const bio_fft *f, const double *x, double *X, double *work);

/* Real inverse transform of a Hermitian half spectrum X[0..n/2] (n+2 doubles):
 * x[j] = (1/n) sum_k X[k] e^{2 pi i jk/n} over the full spectrum. The imaginary
 * parts of X[0] and X[n/2] are ignored. work: n doubles (may not alias x). */
void bio_fft_inverse(const bio_fft *f, const double *X, double *x, double *work);

#endif
