/* fft.c — the plain real FFT of fft.h.
 *
 * The n real samples are packed as m = n/2 complex ones, z[j] = x[2j] +
 * i x[2j+1]; an iterative radix-2 transform (decimation in time, input in
 * bit-reversed order) gives Z, and the split step turns Z into the real
 * signal's spectrum: with E[k] = (Z[k] + conj Z[m-k]) / 2 and O[k] = (Z[k] -
 * conj Z[m-k]) / 2i the spectra of the even and odd samples, X[k] = E[k] +
 * e^{-2 pi i k/n} O[k]. The inverse runs the split backwards and computes
 * the complex inverse as the conjugate of the forward transform of the
 * conjugate. The butterflies of one stage read and write contiguous runs,
 * which the compiler vectorises (on x86-64 also for AVX2, chosen when the
 * program loads: see FFT_CLONES). */
#include "bio/fft.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

void bio_fft_clear(bio_fft *f) {
    free(f->twr);
    free(f->twi);
    free(f->sr);
    free(f->si);
    free(f->rev);
    memset(f, 0, sizeof *f);
}

int bio_fft_init(bio_fft *f, size_t n) {
    memset(f, 0, sizeof *f);
    if (n < 8 || (n & (n - 1)) != 0 || n > ((size_t)1 << 30)) return TRIDENT_EINVAL;
    size_t m = n / 2;
    f->n = n;
    f->m = m;
    f->twr = malloc(m * sizeof *f->twr);
    f->twi = malloc(m * sizeof *f->twi);
    f->sr = malloc(m * sizeof *f->sr);
    f->si = malloc(m * sizeof *f->si);
    f->rev = malloc(m * sizeof *f->rev);
    if (!f->twr || !f->twi || !f->sr || !f->si || !f->rev) {
        bio_fft_clear(f);
        return TRIDENT_ENOMEM;
    }
    f->twr[0] = 1.0;
    f->twi[0] = 0.0;
    for (size_t h = 1; h < m; h *= 2)
        for (size_t j = 0; j < h; j++) {
            double a = -M_PI * (double)j / (double)h;
            f->twr[h + j] = cos(a);
            f->twi[h + j] = sin(a);
        }
    for (size_t k = 0; k < m; k++) {
        double a = -2.0 * M_PI * (double)k / (double)n;
        f->sr[k] = cos(a);
        f->si[k] = sin(a);
    }
    int bits = 0;
    while (((size_t)1 << bits) < m) bits++;
    for (size_t j = 0; j < m; j++) {
        unsigned r = 0;
        for (int b = 0; b < bits; b++) r |= (unsigned)((j >> b) & 1) << (bits - 1 - b);
        f->rev[j] = r;
    }
    return 0;
}

/* One stage's butterflies over one block: a' = a + w b, b' = a - w b for the
 * h pairs (a[j], b[j]) with twiddles w[j]. */
static void butterflies(double *restrict ar, double *restrict ai, double *restrict br, double *restrict bi,
                        const double *restrict wr, const double *restrict wi, size_t h) {
    for (size_t j = 0; j < h; j++) {
        double tr = wr[j] * br[j] - wi[j] * bi[j];
        double ti = wr[j] * bi[j] + wi[j] * br[j];
        br[j] = ar[j] - tr;
        bi[j] = ai[j] - ti;
        ar[j] += tr;
        ai[j] += ti;
    }
}

/* On x86-64 the compiler also builds the transform for AVX2 and the loader
 * picks that build where the CPU has it: the same IEEE operations (no
 * FMA), four lanes instead of two, so the same bits. */
#if defined(__x86_64__) && defined(__GNUC__)
#define FFT_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define FFT_CLONES
#endif

/* The m-point complex forward transform in place: zr/zi hold the input in
 * bit-reversed order and get the spectrum in natural order. The first two
 * stages (twiddles 1 and -i) go together, four points at a time. */
FFT_CLONES static void complex_forward(const bio_fft *f, double *zr, double *zi) {
    size_t m = f->m;
    for (size_t s = 0; s < m; s += 4) {
        double *r = zr + s, *i = zi + s;
        double ar = r[0] + r[1], ai = i[0] + i[1], br = r[0] - r[1], bi = i[0] - i[1];
        double cr = r[2] + r[3], ci = i[2] + i[3], dr = r[2] - r[3], di = i[2] - i[3];
        r[0] = ar + cr;
        i[0] = ai + ci;
        r[2] = ar - cr;
        i[2] = ai - ci;
        r[1] = br + di; /* b + (-i) d */
        i[1] = bi - dr;
        r[3] = br - di;
        i[3] = bi + dr;
    }
    for (size_t h = 4; h < m; h *= 2)
        for (size_t s = 0; s < m; s += 2 * h)
            butterflies(zr + s, zi + s, zr + s + h, zi + s + h, f->twr + h, f->twi + h, h);
}

void bio_fft_forward(const bio_fft *f, const double *x, double *restrict Xr, double *restrict Xi, double *work) {
    size_t m = f->m;
    double *restrict zr = work, *restrict zi = work + m;
    const unsigned *restrict rev = f->rev;
    const double *restrict sr = f->sr, *restrict si = f->si;
    for (size_t j = 0; j < m; j++) { /* rev is its own inverse: gathered reads, sequential writes */
        zr[j] = x[2 * rev[j]];
        zi[j] = x[2 * rev[j] + 1];
    }
    complex_forward(f, zr, zi);
    Xr[0] = zr[0] + zi[0];
    Xi[0] = 0.0;
    Xr[m] = zr[0] - zi[0];
    Xi[m] = 0.0;
    for (size_t k = 1; k < m; k++) {
        /* a = Z[k], b = conj Z[m-k] */
        double ar = zr[k], ai = zi[k], br = zr[m - k], bi = -zi[m - k];
        double er = 0.5 * (ar + br), ei = 0.5 * (ai + bi);
        double orr = 0.5 * (ai - bi), oi = -0.5 * (ar - br); /* (a - b) / 2i */
        Xr[k] = er + (sr[k] * orr - si[k] * oi);
        Xi[k] = ei + (sr[k] * oi + si[k] * orr);
    }
}

void bio_fft_inverse(const bio_fft *f, const double *restrict Xr, const double *restrict Xi, double *restrict x,
                     double *restrict work) {
    size_t m = f->m;
    double *zr = work, *zi = work + m, *tr = x, *ti = x + m; /* x holds conj Z until the end */
    const unsigned *restrict rev = f->rev;
    const double *restrict sr = f->sr, *restrict si = f->si;
    /* k = 0: X[0] and X[n/2] are real */
    tr[0] = 0.5 * (Xr[0] + Xr[m]);
    ti[0] = -0.5 * (Xr[0] - Xr[m]);
    for (size_t k = 1; k < m; k++) {
        /* a = X[k], b = conj X[m-k]: E = (a + b) / 2, e^{-2 pi i k/n} O = (a - b) / 2 */
        double ar = Xr[k], ai = Xi[k], br = Xr[m - k], bi = -Xi[m - k];
        double er = 0.5 * (ar + br), ei = 0.5 * (ai + bi);
        double dr = 0.5 * (ar - br), di = 0.5 * (ai - bi);
        double orr = dr * sr[k] + di * si[k], oi = di * sr[k] - dr * si[k];
        tr[k] = er - oi; /* conj Z[k] = conj(E + i O) */
        ti[k] = -(ei + orr);
    }
    for (size_t j = 0; j < m; j++) {
        zr[j] = tr[rev[j]];
        zi[j] = ti[rev[j]];
    }
    complex_forward(f, zr, zi);
    double scale = 1.0 / (double)m;
    for (size_t j = 0; j < m; j++) {
        x[2 * j] = zr[j] * scale;
        x[2 * j + 1] = -zi[j] * scale;
    }
}
