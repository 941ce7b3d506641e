/* sampling.h — the categorical sampler used when decoding at temperature > 0
 * (private to src/whisper/), drawing from base/rng.h's generator: one decode
 * uses one generator from one thread. */
#ifndef TRIDENT_WHISPER_SAMPLING_H
#define TRIDENT_WHISPER_SAMPLING_H

#include "base/rng.h"

/* Draws an index from softmax(logits / temperature) over n logits (entries of
 * -INFINITY are never drawn). temperature must be > 0. Returns -1 when no
 * logit is finite. */
int whisper_sample_categorical(rng_state *rng, const float *logits, int n, double temperature);

#endif
