/* mel.c — Whisper's log-mel spectrogram, numerically as the official
 * log_mel_spectrogram: reflect-padded STFT (n_fft 400, hop 160, periodic
 * Hann) with kissfft's real FFT, power spectrum, Slaney mel filter bank (as
 * librosa.filters.mel with htk=False and norm="slaney", computed here), log10
 * with a 1e-10 clamp, floor at global max − 8, then (x + 4) / 4.
 *
 * The filter bank is stored sparsely (each triangular filter touches a few
 * consecutive FFT bins). Frames that see only zeros (the 30-s padding) skip the
 * FFT. The kissfft plan holds scratch memory, so each call allocates its own. */
#include "whisper/mel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <kissfft/kiss_fftr.h>

#include "base/error.h"

#define MEL_N_BINS (WHISPER_N_FFT / 2 + 1)
#define MEL_SR 16000.0

struct whisper_mel {
    int n_mels;
    float window[WHISPER_N_FFT];
    int *first;     /* [n_mels] first FFT bin with a non-zero weight */
    int *count;     /* [n_mels] number of consecutive bins */
    float *weights; /* [n_mels][MEL_N_BINS], only [first, first+count) used */
};

/* Slaney's mel scale: linear below 1 kHz, logarithmic above. */
static double mel_from_hz(double hz) {
    const double f_sp = 200.0 / 3.0, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
    const double logstep = log(6.4) / 27.0;
    if (hz >= min_log_hz) return min_log_mel + log(hz / min_log_hz) / logstep;
    return hz / f_sp;
}

static double hz_from_mel(double mel) {
    const double f_sp = 200.0 / 3.0, min_log_hz = 1000.0, min_log_mel = min_log_hz / f_sp;
    const double logstep = log(6.4) / 27.0;
    if (mel >= min_log_mel) return min_log_hz * exp(logstep * (mel - min_log_mel));
    return f_sp * mel;
}

int whisper_mel_new(int n_mels, whisper_mel **out, char *err, size_t err_size) {
    *out = NULL;
    if (n_mels < 1 || n_mels > 512)
        return error_set(err, err_size, TRIDENT_EINVAL, "mel: %d mel bins requested; Whisper uses 80 or 128", n_mels);
    whisper_mel *m = calloc(1, sizeof *m);
    double *edges = malloc((size_t)(n_mels + 2) * sizeof(double));
    if (m) {
        m->first = calloc((size_t)n_mels, sizeof(int));
        m->count = calloc((size_t)n_mels, sizeof(int));
        m->weights = calloc((size_t)n_mels * MEL_N_BINS, sizeof(float));
    }
    if (!m || !edges || !m->first || !m->count || !m->weights) {
        free(edges);
        whisper_mel_free(m);
        return error_set(err, err_size, TRIDENT_ENOMEM, "mel: out of memory building the filter bank");
    }
    m->n_mels = n_mels;
    for (int i = 0; i < WHISPER_N_FFT; i++) /* periodic Hann */
        m->window[i] = (float)(0.5 - 0.5 * cos(2.0 * M_PI * i / WHISPER_N_FFT));

    /* n_mels + 2 band edges equally spaced on the mel scale from 0 Hz to sr/2. */
    double mel_lo = mel_from_hz(0.0), mel_hi = mel_from_hz(MEL_SR / 2);
    for (int i = 0; i < n_mels + 2; i++)
        edges[i] = hz_from_mel(mel_lo + (mel_hi - mel_lo) * i / (n_mels + 1));
    for (int i = 0; i < n_mels; i++) {
        double lo = edges[i], mid = edges[i + 1], hi = edges[i + 2];
        double enorm = 2.0 / (hi - lo); /* Slaney: constant area per filter */
        float *w = m->weights + (size_t)i * MEL_N_BINS;
        int first = -1, last = -1;
        for (int k = 0; k < MEL_N_BINS; k++) {
            double f = k * MEL_SR / WHISPER_N_FFT;
            double lower = (f - lo) / (mid - lo), upper = (hi - f) / (hi - mid);
            double v = fmin(lower, upper);
            if (v <= 0) continue;
            w[k] = (float)v * (float)enorm; /* librosa stores float32, then scales in float32 */
            if (first < 0) first = k;
            last = k;
        }
        m->first[i] = first < 0 ? 0 : first;
        m->count[i] = first < 0 ? 0 : last - first + 1;
    }
    free(edges);
    *out = m;
    return TRIDENT_OK;
}

void whisper_mel_free(whisper_mel *mel) {
    if (!mel) return;
    free(mel->first);
    free(mel->count);
    free(mel->weights);
    free(mel);
}

/* Index into the reflect-padded signal of length n (n > n_fft/2). */
static size_t reflect_index(long j, size_t n) {
    if (j < 0) return (size_t)(-j);
    if ((size_t)j >= n) return 2 * (n - 1) - (size_t)j;
    return (size_t)j;
}

int whisper_mel_compute(const whisper_mel *mel, const float *pcm, size_t n_samples, size_t pad_samples,
                        float **out, int *n_frames, char *err, size_t err_size) {
    *out = NULL;
    *n_frames = 0;
    if (!mel) return error_set(err, err_size, TRIDENT_EINVAL, "mel: no filter bank");
    if (n_samples && !pcm) return error_set(err, err_size, TRIDENT_EINVAL, "mel: no samples");
    size_t n = n_samples + pad_samples;
    if (n <= WHISPER_N_FFT / 2)
        return error_set(err, err_size, TRIDENT_EINVAL,
                         "mel: %zu samples (with padding) are too few for reflect padding of %d", n, WHISPER_N_FFT / 2);
    size_t frames = n / WHISPER_HOP; /* STFT gives n/hop + 1 frames; the last is dropped */
    if (frames > (size_t)1 << 26)
        return error_set(err, err_size, TRIDENT_ELIMIT, "mel: %zu frames is more than this engine accepts", frames);
    const int n_mels = mel->n_mels;
    float *spec = malloc((size_t)n_mels * frames * sizeof(float));
    kiss_fftr_cfg fft = kiss_fftr_alloc(WHISPER_N_FFT, 0, NULL, NULL);
    if (!spec || !fft) {
        free(spec);
        kiss_fftr_free(fft);
        return error_set(err, err_size, TRIDENT_ENOMEM, "mel: out of memory for %zu frames", frames);
    }

    /* Pass 1: mel power per frame (linear), and its global maximum. */
    kiss_fft_scalar buf[WHISPER_N_FFT];
    kiss_fft_cpx bins[MEL_N_BINS];
    float power[MEL_N_BINS];
    float max_power = 0.0f;
    for (size_t t = 0; t < frames; t++) {
        long start = (long)(t * WHISPER_HOP) - WHISPER_N_FFT / 2;
        int nonzero = 0;
        if (start >= 0 && (size_t)start + WHISPER_N_FFT <= n_samples) {
            const float *src = pcm + start;
            for (int k = 0; k < WHISPER_N_FFT; k++) {
                buf[k] = src[k] * mel->window[k];
                nonzero |= src[k] != 0.0f;
            }
        } else {
            for (int k = 0; k < WHISPER_N_FFT; k++) {
                size_t idx = reflect_index(start + k, n);
                float x = idx < n_samples ? pcm[idx] : 0.0f;
                buf[k] = x * mel->window[k];
                nonzero |= x != 0.0f;
            }
        }
        if (!nonzero) { /* zero input: zero spectrum, no FFT needed */
            for (int i = 0; i < n_mels; i++) spec[(size_t)i * frames + t] = 0.0f;
            continue;
        }
        kiss_fftr(fft, buf, bins);
        for (int k = 0; k < MEL_N_BINS; k++) power[k] = bins[k].r * bins[k].r + bins[k].i * bins[k].i;
        for (int i = 0; i < n_mels; i++) {
            const float *w = mel->weights + (size_t)i * MEL_N_BINS;
            int k0 = mel->first[i], k1 = k0 + mel->count[i];
            float acc = 0.0f;
            for (int k = k0; k < k1; k++) acc += w[k] * power[k];
            if (acc > max_power) max_power = acc;
            spec[(size_t)i * frames + t] = acc;
        }
    }
    kiss_fftr_free(fft);

    /* Pass 2: log10(max(x, 1e-10)), floored at max - 8, then (x + 4) / 4.
     * Values at or below the floor all map to one constant: no log needed. */
    const float log_max = log10f(max_power > 1e-10f ? max_power : 1e-10f);
    const float floor_log = log_max - 8.0f;
    float floor_lin = powf(10.0f, floor_log);
    if (floor_lin < 1e-10f) floor_lin = 1e-10f;
    const float floor_out = ((floor_log > -10.0f ? floor_log : -10.0f) + 4.0f) / 4.0f;
    size_t total = (size_t)n_mels * frames;
    for (size_t i = 0; i < total; i++) {
        float v = spec[i];
        if (v <= floor_lin) {
            spec[i] = floor_out;
        } else {
            float l = log10f(v);
            spec[i] = ((l > floor_log ? l : floor_log) + 4.0f) / 4.0f;
        }
    }
    *out = spec;
    *n_frames = (int)frames;
    return TRIDENT_OK;
}
