/* sampling.c — xoshiro256** (seeded by splitmix64) and the categorical draw
 * from softmax(logits / T) that the official GreedyDecoder does at T > 0. */
#include "whisper/sampling.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void whisper_rng_seed(whisper_rng *rng, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t v, int k) { return (v << k) | (v >> (64 - k)); }

uint64_t whisper_rng_next(whisper_rng *rng) {
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double whisper_rng_uniform(whisper_rng *rng) { return (double)(whisper_rng_next(rng) >> 11) * 0x1.0p-53; }

int whisper_sample_categorical(whisper_rng *rng, const float *logits, int n, double temperature) {
    float mx = -INFINITY;
    int last = -1;
    for (int i = 0; i < n; i++)
        if (logits[i] > mx) mx = logits[i];
    if (mx == -INFINITY) return -1;
    double total = 0.0;
    for (int i = 0; i < n; i++)
        if (logits[i] != -INFINITY) total += exp(((double)logits[i] - mx) / temperature);
    double u = whisper_rng_uniform(rng) * total, acc = 0.0;
    for (int i = 0; i < n; i++) {
        if (logits[i] == -INFINITY) continue;
        acc += exp(((double)logits[i] - mx) / temperature);
        last = i;
        if (u < acc) return i;
    }
    return last; /* rounding left u at the very top: the last finite entry */
}
