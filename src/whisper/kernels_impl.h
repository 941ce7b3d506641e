/* kernels_impl.h — the per-ISA kernel variants behind kernels.h (private to kernels*.c).
 *
 * A variant provides the inner loops; kernels.c owns tiling, threading and the
 * choice of variant at run time. To add one (AVX-512, packed weights, q8), write
 * kernels_<isa>.c with these functions and select it in kernels.c. */
#ifndef TRIDENT_WHISPER_KERNELS_IMPL_H
#define TRIDENT_WHISPER_KERNELS_IMPL_H

#include "whisper/kernels.h"

typedef struct {
    /* y[m][n] = x[m]·w[n] + b[n] for m in [m0, m1), n in [n0, n1); y row stride ldy, x row stride ldx */
    void (*linear_tile)(float *y, int ldy, const float *x, int ldx, int m0, int m1, const whisper_matrix *w, int n0,
                        int n1, const float *b);
    float (*dot)(const float *a, const float *b, int n);
    void (*axpy)(float *y, float a, const float *x, int n); /* y += a·x */
    const char *name;
} whisper_kernel_variant;

extern const whisper_kernel_variant whisper_kernels_portable;
#if defined(__x86_64__) || defined(__i386__)
#define WHISPER_HAVE_AVX2_VARIANT 1
extern const whisper_kernel_variant whisper_kernels_avx2;
#endif

#endif
