/* sampling.c — the categorical draw from softmax(logits / T) that the
 * official GreedyDecoder does at T > 0. */
#include "whisper/sampling.h"

#include <math.h>

int whisper_sample_categorical(rng_state *rng, const float *logits, int n, double temperature) {
    float mx = -INFINITY;
    int last = -1;
    for (int i = 0; i < n; i++)
        if (logits[i] > mx) mx = logits[i];
    if (mx == -INFINITY) return -1;
    double total = 0.0;
    for (int i = 0; i < n; i++)
        if (logits[i] != -INFINITY) total += exp(((double)logits[i] - mx) / temperature);
    double u = rng_uniform(rng) * total, acc = 0.0;
    for (int i = 0; i < n; i++) {
        if (logits[i] == -INFINITY) continue;
        acc += exp(((double)logits[i] - mx) / temperature);
        last = i;
        if (u < acc) return i;
    }
    return last; /* rounding left u at the very top: the last finite entry */
}
