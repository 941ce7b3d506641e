/* rng.h — the seedable random number generator: xoshiro256** seeded through
 * splitmix64. The same seed gives the same stream on every platform, so a
 * transcription with a fixed --seed repeats exactly (whisper's sampling) and
 * `trident model-gen` writes the same weights. An rng_state is plain data
 * owned by its user (no allocation); one generator is used from one thread. */
#ifndef TRIDENT_BASE_RNG_H
#define TRIDENT_BASE_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
} rng_state;

/* Seeds rng from seed (any value, 0 included). */
void rng_seed(rng_state *rng, uint64_t seed);

/* The next 64 random bits. */
uint64_t rng_next(rng_state *rng);

/* A uniform double in [0, 1) with 53 random bits. */
double rng_uniform(rng_state *rng);

#endif
