/* bench.h — the engine's benchmark hooks for `trident bench` (public): the
 * cost model of a model and timed runs of one stage on a session. The timed
 * functions return 0 or a TRIDENT_E* code with a message in err. */
#ifndef TRIDENT_WHISPER_BENCH_H
#define TRIDENT_WHISPER_BENCH_H

#include <stddef.h>

#include "whisper/engine.h"

typedef struct {
    double encoder_flops;  /* floating-point operations of one 30-s encoder window */
    double decoder_bytes;  /* weight bytes one decoder step reads (layers + vocabulary projection) */
    const char *kernels;   /* the kernel path in use: "avx2", "portable", ... */
} whisper_bench_costs;
whisper_bench_costs whisper_bench_costs_get(const whisper_model *model);
/* Log-mel of pcm padded to one 30-s window (*mel_ms), then the encoder on it (*encode_ms). */
int whisper_bench_encode(whisper_session *session, const float *pcm, size_t n_samples, double *mel_ms,
                         double *encode_ms, char *err, size_t err_size);
/* After whisper_bench_encode: fills the self-attention cache with `context` tokens,
 * then times n_steps single-token decoder steps from there (*ms_per_token, the mean). */
int whisper_bench_decode(whisper_session *session, int context, int n_steps, double *ms_per_token, char *err,
                         size_t err_size);

#endif
