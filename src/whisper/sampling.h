/* sampling.h — the seedable random number generator and the categorical
 * sampler used when decoding at temperature > 0 (private to src/whisper/).
 *
 * The generator is xoshiro256** seeded through splitmix64: the same seed gives
 * the same stream on every platform, so a transcription with a fixed --seed
 * repeats exactly. A whisper_rng is plain data owned by its user (no
 * allocation); one decode uses one generator from one thread. */
#ifndef TRIDENT_WHISPER_SAMPLING_H
#define TRIDENT_WHISPER_SAMPLING_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} whisper_rng;

/* Seeds rng from seed (any value, 0 included). */
void whisper_rng_seed(whisper_rng *rng, uint64_t seed);

/* The next 64 random bits. */
uint64_t whisper_rng_next(whisper_rng *rng);

/* A uniform double in [0, 1) with 53 random bits. */
double whisper_rng_uniform(whisper_rng *rng);

/* Draws an index from softmax(logits / temperature) over n logits (entries of
 * -INFINITY are never drawn). temperature must be > 0. Returns -1 when no
 * logit is finite. */
int whisper_sample_categorical(whisper_rng *rng, const float *logits, int n, double temperature);

#endif
