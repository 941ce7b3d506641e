/* fft.h — a small double-precision real FFT, private to the bio-acoustic module.
 *
 * pYIN's autocorrelations must match librosa's float64 numbers closely enough
 * that every voicing decision and pitch bin comes out identical, so the FFT is
 * double precision (Debian's kissfft is float only). Spectra are kept split
 * (real parts and imaginary parts in two arrays), which is what the vector
 * code wants. The AVX2 path (chosen at bio_fft_init by run-time CPU
 * detection, TRIDENT_CPU=portable turns it off) performs exactly the same
 * floating-point operations in the same order as the portable one, so both
 * give bit-identical results. One plan per transform size; plans are
 * immutable after bio_fft_init and may be shared by threads. */
#ifndef TRIDENT_BIO_FFT_H
#define TRIDENT_BIO_FFT_H

#include <stddef.h>

typedef struct bio_fft {
    size_t n;      /* real transform length, a power of two >= 16 */
    size_t m;      /* complex length n/2 used internally */
    double *twr;   /* twiddles of the m-point complex FFT, span len's at [len/2, len): real parts */
    double *twi;   /* ... imaginary parts (forward sign) */
    double *twin;  /* ... imaginary parts negated (inverse) */
    double *rtwr;  /* e^{-2 pi i k / n} for k in [0, m/2] (the split steps' mirrors use -conj), real parts */
    double *rtwi;  /* ... imaginary parts */
    unsigned *rev; /* bit-reversal permutation of [0, m) */
    int avx2;      /* use the AVX2 kernels */
} bio_fft;

/* Prepares a plan for real transforms of length n (a power of two >= 16).
 * Returns 0 or TRIDENT_ENOMEM / TRIDENT_EINVAL. Free with bio_fft_free. */
int bio_fft_init(bio_fft *f, size_t n);
void bio_fft_free(bio_fft *f);

/* Real forward transform: x[0..n) -> X[k] = Xr[k] + i Xi[k], k in [0, n/2],
 * unnormalised (X[k] = sum x[j] e^{-2 pi i jk/n}). When half_zero is non-zero
 * the caller promises x[n/2..n) == 0 (only x[0..n/2) is read). work: n
 * doubles. */
void bio_fft_forward(const bio_fft *f, const double *x, int half_zero, double *Xr, double *Xi, double *work);

/* Real inverse transform of a Hermitian half spectrum Xr/Xi[0..n/2]:
 * x[j] = (1/n) sum_k X[k] e^{2 pi i jk/n} over the full spectrum, written for
 * j in [0, n_out) only (n_out <= n). The imaginary parts of X[0] and X[n/2]
 * are ignored. work: 2n doubles (may not alias x). */
void bio_fft_inverse(const bio_fft *f, const double *Xr, const double *Xi, double *x, size_t n_out,
                     double *work);

#endif
