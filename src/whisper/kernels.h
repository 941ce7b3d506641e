/* kernels.h — the engine's numeric kernels (private to src/whisper/).
 *
 * The math of the forward pass, separated from the plumbing: linear layers
 * (y = x·Wᵀ + b) over fp32 activations and fp32 / fp16 / bf16 / q8 weights (fp16,
 * bf16 and q8 are converted to fp32 in registers or in small per-thread packed
 * panels, never copied whole; a single row against q8 weights is quantised to
 * int8 per block of 32 instead, for integer dot products), layer norm, exact erf GELU (fused into the linear
 * layer where asked), softmax and multi-head attention (blocked so that one
 * head's scores stay in cache). Each kernel has a portable C path, an
 * AVX2/FMA/F16C path and (GEMVs) an AVX-512 path, chosen at run time (base/cpu.h); the hot ones split their
 * work over a thread pool (NULL pool = run on the caller). Results do not depend
 * on the thread count. Callers only see whisper_matrix and the functions below;
 * the variants live behind kernels_impl.h. */
#ifndef TRIDENT_WHISPER_KERNELS_H
#define TRIDENT_WHISPER_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "base/threadpool.h"

typedef enum { WHISPER_DTYPE_F32 = 0, WHISPER_DTYPE_F16 = 1, WHISPER_DTYPE_BF16 = 2, WHISPER_DTYPE_Q8 = 3 } whisper_dtype;

/* A row-major weight matrix [rows][cols] (PyTorch's [out_features][in_features]).
 * data is not owned: it points into a memory map or into a buffer the model owns.
 * WHISPER_DTYPE_Q8: data is int8 [rows][cols] and scales is fp16 (bit patterns)
 * [rows][ceil(cols / 32)]: element (r, k) = data[r][k] · scales[r][k / 32] — the
 * bytes of whisper.cpp's q8_0, 34 per 32 weights. */
typedef struct {
    const void *data;
    whisper_dtype dtype;
    int rows, cols;
    const uint16_t *scales; /* q8 only: fp16; not owned */
} whisper_matrix;

/* Bytes of one element of dtype (q8: 1, the scales not counted). */
size_t whisper_dtype_size(whisper_dtype dtype);

/* fp16 / bf16 bit patterns to float (exact). */
float whisper_fp16_to_fp32(uint16_t h);
float whisper_bf16_to_fp32(uint16_t h);

/* Bytes of w's elements (and scales) as stored. */
size_t whisper_matrix_bytes(const whisper_matrix *w);

/* Copies row r of w into out (cols floats), converting to fp32. */
void whisper_matrix_row(const whisper_matrix *w, int r, float *out);

/* Converts n elements of dtype at src into fp32 dst (not for q8: use whisper_matrix_row). */
void whisper_convert_fp32(float *dst, const void *src, whisper_dtype dtype, size_t n);

/* fp32 → fp16 bit patterns, round to nearest even (for fp16 KV caches; one
 * value: base/floats.h's floats_fp32_to_fp16). */
void whisper_convert_fp16(uint16_t *dst, const float *src, size_t n);

/* y[m][n] = Σ_k x[m][k]·w[n][k] (+ b[n] when b is non-NULL), for m < n_rows.
 * x is [n_rows][w->cols], y is [n_rows][w->rows], both contiguous; y must not alias x. */
void whisper_linear(threadpool *pool, float *y, const float *x, int n_rows, const whisper_matrix *w, const float *b);

/* Several linear layers of the same input: outs[i].y = x·outs[i].wᵀ + outs[i].b
 * for i < n ≤ WHISPER_LINEAR_MULTI_MAX, each as whisper_linear computes it (the
 * same values). A single row takes one pass over the pool for all of them. */
#define WHISPER_LINEAR_MULTI_MAX 4
typedef struct {
    float *y;
    const whisper_matrix *w;
    const float *b;
} whisper_linear_out;

void whisper_linear_multi(threadpool *pool, const float *x, int n_rows, const whisper_linear_out *outs, int n);

/* whisper_linear of one row (y = x·Wᵀ + b) that also calls then(ctx, y, n0, n1,
 * thread) on each range [n0, n1) of outputs once they are written, on the thread
 * that wrote them (thread < threadpool_size(pool)): a pass over the outputs
 * while they are in cache, in the same run of the pool. */
typedef void (*whisper_rows_fn)(void *ctx, const float *y, int n0, int n1, int thread);
void whisper_gemv_then(threadpool *pool, float *y, const float *x, const whisper_matrix *w, const float *b,
                       whisper_rows_fn then, void *ctx);

/* y = GELU(x·Wᵀ + b) with the exact erf form (PyTorch's default GELU: x·Φ(x)),
 * applied while the output block is in cache. */
void whisper_linear_gelu(threadpool *pool, float *y, const float *x, int n_rows, const whisper_matrix *w,
                         const float *b);

/* Row-wise layer norm over n_cols with gain g and bias b: y may equal x. */
void whisper_layer_norm(threadpool *pool, float *y, const float *x, int n_rows, int n_cols,
                        const float *g, const float *b, float eps);

/* y[i] += x[i] for i < n. */
void whisper_add(float *y, const float *x, size_t n);

/* In place softmax of n values (entries of -INFINITY get probability 0). */
void whisper_softmax(float *x, int n);

/* Multi-head scaled dot-product attention, rows of width n_heads·d_head:
 * out[i] = softmax(q[i]·kᵀ / sqrt(d_head)) · v per head, over keys 0 … n_kv−1;
 * with causal, query i sits at position n_kv − n_q + i and sees keys up to it.
 * q, k, v, out have row strides ldq, ldk, ldv, ldo (floats); head h's keys and
 * values start kv_head·h elements into k and v (0: d_head, rows holding every
 * head; a head-major layout [head][key][d_head] has ldk = ldv = d_head). scratch holds at least
 * threadpool_size(pool) · n_kv floats. Long query runs (the encoder) use a blocked
 * path with its own buffers; if those cannot be allocated it falls back to the
 * row-by-row path. */
typedef struct {
    const float *q, *k, *v;
    float *out;
    int ldq, ldk, ldv, ldo;
    int n_q, n_kv, n_heads, d_head;
    int causal;
    size_t kv_head;
} whisper_attention_args;

void whisper_attention(threadpool *pool, const whisper_attention_args *args, float *scratch);

/* Keys and values kept in 16 bits (the decoder's cross-attention cache): a key
 * row of d_head elements is int16 with one fp32 scale (element ≈ k·scale, the
 * scale max|row| / 32767: at most half a step from the fp32 value, 1/65534 of
 * the row's largest, where fp16 rounds a large key by up to 1/2048 of itself —
 * and a key's error is multiplied by the query into the logits); values are fp16.
 * Strides are args->ldk / ldv elements, head h starts args->kv_head·h elements
 * in; the scale of the key row starting at element e is k_scale[e / d_head]. */
typedef struct {
    const int16_t *k;
    const float *k_scale;
    const uint16_t *v;
} whisper_kv16;

/* The largest d_head attention over whisper_kv16 takes (Whisper's is 64). */
#define WHISPER_MAX_D_HEAD 256

/* Quantises n key rows of d_head floats (row stride d_head) as whisper_kv16 keeps
 * them: q[t][i] = round-to-nearest-even(k[t][i] / scale[t]), scale[t] = max|k[t]| / 32767
 * (0 for an all-zero row). */
void whisper_keys_quantize(int16_t *q, float *scale, const float *k, int n, int d_head);

/* whisper_attention over keys and values stored as whisper_kv16 (args->k, args->v
 * ignored): half the bytes of fp32 for a decoder step to read. Each query row of
 * a head is quantised to int16 too (scale max|q| / 16383) and meets the keys in
 * integer dot products. d_head ≤ WHISPER_MAX_D_HEAD. Always the row-by-row path. */
void whisper_attention_kv16(threadpool *pool, const whisper_attention_args *args, const whisper_kv16 *kv,
                            float *scratch);

/* One decoder step's attention with its input projections, in one pool run of
 * one task per head: task h computes head h's slice of q = x·wqᵀ + bq (and, for
 * self-attention, of k and v, written to the caches' current row) and then
 * head h's attention of args (n_q = 1; args->q is p->q), over kv when non-NULL
 * (as whisper_attention_kv16), else over args->k / args->v. wk, wv NULL: the keys
 * and values are all there already (cross-attention). The values are those of
 * whisper_linear and whisper_attention. x has wq->cols floats. Returns 0, or -1
 * (nothing done) without memory for x quantised for q8 weights. */
typedef struct {
    const whisper_matrix *wq, *wk, *wv;
    const float *bq, *bk, *bv;
    float *q, *k, *v; /* outputs: q (d_model floats), the K and V caches' rows for this step */
} whisper_step_proj;

int whisper_attention_step(threadpool *pool, const float *x, const whisper_step_proj *p,
                           const whisper_attention_args *args, const whisper_kv16 *kv, float *scratch);

/* "avx512", "avx2" or "portable": the path the kernels take on this machine. */
const char *whisper_kernels_path(void);

#endif
