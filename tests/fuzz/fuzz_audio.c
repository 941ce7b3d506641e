/* fuzz_audio.c — libFuzzer harness: decoding an upload from memory, in
 * process: audio_probe's structural pre-check (the one the server runs), then
 * libsndfile and libsoxr. Lengths are capped at 30 s so that one input stays
 * cheap; a hang inside libsndfile past the pre-check is a finding about
 * libsndfile (the server bounds it with the isolated decoder's deadline). */
#include <stdint.h>
#include <string.h>

#include "audio/audio.h"
#include "base/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char err[TRIDENT_ERR_SIZE];
    audio_decode_options opts = {.target_rate = AUDIO_SAMPLE_RATE, .max_seconds = 30};
    audio_pcm pcm;
    int rc = audio_decode_memory(data, size, &opts, &pcm, err, sizeof err);
    if (rc == 0) {
        /* a success holds finite, bounded samples */
        if (!pcm.samples || !pcm.n_samples || audio_pcm_validate(pcm.samples, pcm.n_samples, NULL, 0) != 0 ||
            audio_pcm_peak(pcm.samples, pcm.n_samples) > 1e6)
            __builtin_trap();
        audio_pcm_clear(&pcm);
    } else if (pcm.samples || !err[0]) {
        __builtin_trap(); /* an error leaves nothing behind and always says why */
    }
    return 0;
}
