/* kernels_impl.h — the per-ISA kernel variants behind kernels.h (private to kernels*.c).
 *
 * A variant provides the inner loops; kernels_gemm.c, kernels_attention.c and
 * kernels.c own tiling, threading and the choice of variant at run time. To add
 * one, write kernels_<isa>.c with these functions (or override some of another
 * variant's, as kernels_avx512.c does) and select it in whisper_kernels_variant(). */
#ifndef TRIDENT_WHISPER_KERNELS_IMPL_H
#define TRIDENT_WHISPER_KERNELS_IMPL_H

#include "whisper/kernels.h"

/* The GEMM micro-tile: MR rows of activations × NR columns of a packed panel. */
#define WHISPER_GEMM_MR 6
#define WHISPER_GEMM_NR 16
/* q8 weights: one fp16 scale per block of this many consecutive elements of a row. */
#define WHISPER_Q8_BLOCK 32

typedef struct {
    /* y[m][n] = x[m]·w[n] + b[n] for m in [m0, m1), n in [n0, n1); y row stride ldy, x row stride ldx
     * (the small-batch path: a few activation rows against each weight row) */
    void (*linear_tile)(float *y, int ldy, const float *x, int ldx, int m0, int m1, const whisper_matrix *w, int n0,
                        int n1, const float *b);
    /* y[n − n0] = x·w[n] for n in [n0, n1): one activation row, weights streamed once (not q8) */
    void (*gemv)(float *y, const float *x, const whisper_matrix *w, int n0, int n1);
    /* The same for q8 weights against an activation row quantised the same way
     * (whisper_q8_quantize_row: x[k] = xq[k]·xd[k / 32]): per block of 32 an exact
     * integer dot product, scaled by xd[b]·scale[n][b] and summed in fp32. */
    void (*gemv_q8)(float *y, const int8_t *xq, const float *xd, const whisper_matrix *w, int n0, int n1);
    /* The micro-tile: c[i][j] (row stride ldc) = (accumulate ? c[i][j] : 0) + Σ_k a[i][k]·p[k][j]
     * for i < mr ≤ MR, j < nr ≤ NR, k < kc; a has row stride lda; p is a packed panel [kc][NR]. */
    void (*gemm_tile)(float *c, int ldc, const float *a, int lda, const float *p, int kc, int mr, int nr,
                      int accumulate);
    /* Packs rows n0 … n0+nr−1 (nr ≤ NR), columns k0 … k0+kc−1 of w into the panel p[kc][NR]
     * (fp32, zero-padded for j ≥ nr). */
    void (*pack_panel)(float *p, const whisper_matrix *w, int n0, int nr, int k0, int kc);
    float (*dot)(const float *a, const float *b, int n);
    void (*axpy)(float *y, float a, const float *x, int n); /* y += a·x */
    /* s[t] = scale · q·k[t·ldk] for t < n (d_head dh): one query against n keys */
    void (*scores)(float *s, const float *q, const float *k, int ldk, int n, int dh, float scale);
    /* o[0 … dh) = Σ_t p[t]·v[t·ldv] for t < n (overwrites o) */
    void (*weighted_sum)(float *o, const float *p, const float *v, int ldv, int n, int dh);
    /* the same two with keys stored as int16 rows, key t scaled by ks[t·lds] (whisper_kv16),
     * and with values stored in fp16. scores_i16 quantises q the same way
     * (whisper_query_quantize) and takes integer dot products */
    void (*scores_i16)(float *s, const float *q, const int16_t *k, int ldk, const float *ks, int lds, int n, int dh,
                       float scale);
    void (*weighted_sum_f16)(float *o, const float *p, const uint16_t *v, int ldv, int n, int dh);
    void (*to_f16)(uint16_t *dst, const float *src, size_t n); /* round to nearest even */
    /* In place x *= scale for n ≥ 1 values, returns the largest result */
    float (*scale_max)(float *x, int n, float scale);
    /* In place x = exp(x − max) for n values, returns their sum (x all finite or -inf, max finite) */
    float (*exp_sum)(float *x, int n, float max);
    /* One layer-norm row: y = (x − mean) / √(var + eps) · g + b, mean and var accumulated in double */
    void (*norm_row)(float *y, const float *x, int n, const float *g, const float *b, float eps);
    void (*gelu)(float *x, size_t n); /* in place, erf form */
    /* whisper_q8_quantize_row (below); every variant gives the same bytes */
    void (*q8_quantize)(const float *x, int n, int8_t *q, float *scale);
    const char *name;
} whisper_kernel_variant;

extern const whisper_kernel_variant whisper_kernels_portable;
#if defined(__x86_64__) || defined(__i386__)
#define WHISPER_HAVE_AVX2_VARIANT 1
extern const whisper_kernel_variant whisper_kernels_avx2;
/* The AVX2 variant with AVX-512 (F, BW, VL, DQ, VNNI) GEMVs (kernels_avx512.c). */
const whisper_kernel_variant *whisper_kernels_avx512(void);
#endif

/* The variant this machine uses (base/cpu.h, capped by TRIDENT_CPU). */
const whisper_kernel_variant *whisper_kernels_variant(void);

/* Every variant this machine can run, portable first (at most 3); returns how many. */
int whisper_kernels_runnable(const whisper_kernel_variant *out[3]);

/* Quantises n values per block of WHISPER_Q8_BLOCK: scale[b] = max|x| / 127 over
 * the block, q[k] = x[k] · (127 / max|x|) rounded to nearest even (0 for an
 * all-zero block). The activations' rule before a q8 GEMV (the weights' scales
 * are fp16: quant.c); runs the machine's variant. */
void whisper_q8_quantize_row(const float *x, int n, int8_t *q, float *scale);

/* y[n] = x·w[n] + b[n] (b may be NULL) for n in [n0, n1): one activation row; for
 * q8 w, xq / xd is x quantised by whisper_q8_quantize_row. Each output is the same
 * whatever range it is computed in (the GEMV of whisper_linear). */
void whisper_gemv_rows(const whisper_kernel_variant *v, float *y, const float *x, const int8_t *xq, const float *xd,
                       const whisper_matrix *w, const float *b, int n0, int n1);

/* q as scores_i16 meets int16 keys: qq[i] = round-to-nearest-even(q[i] / scale),
 * |qq| ≤ WHISPER_QUERY_I16_MAX, scale = max|q| / WHISPER_QUERY_I16_MAX (returned;
 * 0 for an all-zero q). The bound keeps 4 products of int16 pairs within int32
 * (4 · 16383 · 32767 < 2³¹), the sum one vpmaddwd pair of zmm gives per lane. */
#define WHISPER_QUERY_I16_MAX 16383
float whisper_query_quantize(const float *q, int n, int16_t *qq);

/* One block of whisper_q8_quantize_row (n ≤ WHISPER_Q8_BLOCK values): the portable rule. */
void whisper_q8_quantize_block(const float *x, int n, int8_t *q, float *scale);

/* Σ over blocks b0 … ⌈K/32⌉−1 of (integer dot of xq and wq over the block)·xd[b]·sc[b]:
 * one q8 row against quantised activations, from block b0 on (the variants' tail). */
float whisper_q8_dot_tail(const int8_t *xq, const float *xd, const int8_t *wq, const uint16_t *sc, int b0, int K);

/* Packs a float source into a panel p[kc][NR]: element (k, j) of the panel is
 * src[(n0 + j)·ld + k0 + k] when transposed (rows of src are panel columns,
 * the weight layout), else src[(k0 + k)·ld + n0 + j]; zero for j ≥ nr. */
void whisper_pack_f32(float *p, const float *src, int ld, int transposed, int n0, int nr, int k0, int kc);

/* fp32 value of element k of row r of a q8 matrix. */
float whisper_q8_get(const whisper_matrix *w, int r, int k);

#endif
