/* quant.h — 8-bit weights (private to src/whisper/): a weight matrix converted
 * at load to int8 with one fp16 scale per block of 32 consecutive elements of a
 * row (symmetric, scale = max|w| / 127 over the block rounded up to fp16,
 * q = round(w / scale)): whisper.cpp's q8_0 bytes, 34 per 32 weights.
 * The kernels read such a matrix as WHISPER_DTYPE_Q8 (kernels.h). Which of a
 * model's matrices are converted is decided here too (whisper_q8_model_convert). */
#ifndef TRIDENT_WHISPER_QUANT_H
#define TRIDENT_WHISPER_QUANT_H

#include <stdint.h>

#include "base/threadpool.h"
#include "whisper/engine.h"
#include "whisper/kernels.h"

/* Bytes of the int8 values and of the scales of a rows × cols q8 matrix. */
size_t whisper_q8_values_bytes(int rows, int cols);
size_t whisper_q8_scales_count(int rows, int cols);

/* Quantises src (fp32, fp16 or bf16) into q (rows·cols int8) and scales
 * (whisper_q8_scales_count fp16 values), both supplied by the caller, and returns the
 * q8 view of them in *out (it points into q and scales). pool may be NULL.
 * Returns 0, TRIDENT_ENOMEM (its per-thread row scratch) or TRIDENT_ELIMIT (a
 * value is not finite or a block's scale exceeds fp16's range: *out unset). */
int whisper_q8_quantize_into(const whisper_matrix *src, threadpool *pool, int8_t *q, uint16_t *scales,
                             whisper_matrix *out);

/* y[r][v] ≈ x[r] · exact[v] for r < n_rows, v < q->rows, from the q8 copy q of
 * exact (exact: the same matrix in fp32/fp16/bf16), with every entry that could
 * be its row's maximum recomputed from exact. Per row: a pass with q and a
 * bound on each entry's error from q's scales (for a single row, in the same
 * pool run, while the outputs and scales are in cache). A single row is multiplied with
 * its activations quantised too (x = x̂ + e, |e| ≤ xd/2, whisper_linear's q8
 * GEMV): per block |x·w − x̂·ŵ| ≤ |x|·wd/2 + |e|·|ŵ| ≤ wd·(Σ|x|/2 + 32·127·xd/2),
 * which also bounds the fp32-activation pass of several rows; slack is added
 * for fp32 rounding. Entries whose bound reaches the
 * largest lower bound are recomputed exactly, as whisper_linear of exact
 * computes them for that many rows. So each row's argmax and the values near
 * it are exact's (bit for bit), the other entries carry q8's error. Used for the
 * vocabulary projection, where a few near-top logits decide the token.
 * scratch: whisper_q8_top_exact_scratch(q) floats owned by the caller. */
void whisper_q8_linear_top_exact(threadpool *pool, float *y, const float *x, int n_rows, const whisper_matrix *q,
                                 const whisper_matrix *exact, float *scratch);
size_t whisper_q8_top_exact_scratch(const whisper_matrix *q);

/* A q8 matrix that owns its buffers. */
typedef struct {
    whisper_matrix m;
    int8_t *q;
    uint16_t *scales;
} whisper_q8_matrix;

/* Quantises src into buffers the caller owns through *out (whisper_q8_matrix_clear).
 * Returns 0, TRIDENT_ENOMEM or TRIDENT_ELIMIT (as whisper_q8_quantize_into). */
int whisper_q8_quantize(const whisper_matrix *src, threadpool *pool, whisper_q8_matrix *out);
void whisper_q8_matrix_clear(whisper_q8_matrix *q);

/* `--quant q8` on a loaded model (the precision rule is at the function in
 * quant.c): the decoder's per-step matrices become q8 or 16-bit in buffers the
 * model owns, and m->weight_bytes follows. n_threads <= 0: online cores.
 * Returns 0 or a TRIDENT_E* code with a message. */
int whisper_q8_model_convert(whisper_model *m, int n_threads, char *err, size_t err_size);

#endif
