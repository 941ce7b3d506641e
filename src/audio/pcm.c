/* pcm.c — small utilities on float PCM: duration, RMS, peak, validation, and
 * the conversion of raw little-endian float32 bytes (live-call chunks) and
 * int16 samples to float. */
#include <math.h>
#include <string.h>

#include "audio/audio.h"
#include "base/error.h"
#include "base/floats.h"

double audio_pcm_duration(size_t n_samples, int sample_rate) {
    return sample_rate > 0 ? (double)n_samples / (double)sample_rate : 0.0;
}

double audio_pcm_rms(const float *x, size_t n) {
    if (n == 0) return 0.0;
    double acc = 0;
    for (size_t i = 0; i < n; i++) acc += (double)x[i] * (double)x[i];
    return sqrt(acc / (double)n);
}

double audio_pcm_peak(const float *x, size_t n) {
    double peak = 0;
    for (size_t i = 0; i < n; i++) {
        double a = fabs((double)x[i]);
        if (a > peak) peak = a;
    }
    return peak;
}

static const char *nonfinite_name(float v) { return isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf"; }

int audio_pcm_validate(const float *x, size_t n, char *err, size_t err_size) {
    size_t i = floats_first_nonfinite(x, n);
    if (i < n)
        return error_set(err, err_size, TRIDENT_EFORMAT, "sample %zu is %s; audio must hold finite values", i,
                         nonfinite_name(x[i]));
    return TRIDENT_OK;
}

int audio_pcm_from_f32le(const void *bytes, size_t n_bytes, float *out, size_t out_cap, size_t *n_out,
                         char *err, size_t err_size) {
    *n_out = 0;
    if (n_bytes == 0)
        return error_set(err, err_size, TRIDENT_EFORMAT, "empty audio chunk; expected float32 little-endian samples");
    if (n_bytes % 4 != 0)
        return error_set(err, err_size, TRIDENT_EFORMAT,
                         "audio chunk of %zu bytes is not a whole number of float32 samples (4 bytes each)", n_bytes);
    size_t n = n_bytes / 4;
    if (n > out_cap)
        return error_set(err, err_size, TRIDENT_ELIMIT, "audio chunk of %zu samples exceeds the %zu allowed", n,
                         out_cap);
    const unsigned char *b = bytes;
    for (size_t i = 0; i < n; i++) {
        const unsigned char *p = b + 4 * i;
        uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        float v;
        memcpy(&v, &u, sizeof v);
        if (!isfinite(v))
            return error_set(err, err_size, TRIDENT_EFORMAT,
                             "audio chunk sample %zu is %s; samples must be finite float32 values", i,
                             nonfinite_name(v));
        out[i] = v;
    }
    *n_out = n;
    return TRIDENT_OK;
}

void audio_pcm_from_s16(const int16_t *in, size_t n, float *out) {
    for (size_t i = 0; i < n; i++) out[i] = (float)in[i] * (1.0f / 32768.0f);
}
