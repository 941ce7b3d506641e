/* mel.h — Whisper's log-mel spectrogram (private to src/whisper/).
 *
 * As the official log_mel_spectrogram: STFT with n_fft 400, hop 160, periodic
 * Hann window, centred with reflect padding, the last frame dropped; power
 * spectrum through n_mels Slaney-normalised mel filters (librosa.filters.mel,
 * sr 16000, fmin 0, fmax 8000, htk=False) computed in code; log10(max(x, 1e-10));
 * floor at (global max − 8); then (x + 4) / 4. The audio is padded with
 * pad_samples zeros before the STFT and the global max is taken over the whole
 * padded signal. */
#ifndef TRIDENT_WHISPER_MEL_H
#define TRIDENT_WHISPER_MEL_H

#include <stddef.h>

#define WHISPER_N_FFT 400
#define WHISPER_HOP 160

typedef struct whisper_mel whisper_mel;

/* Builds the filter bank and FFT plan for n_mels (80 or 128). Immutable; safe to
 * share between threads. The caller owns *out (whisper_mel_free). */
int whisper_mel_new(int n_mels, whisper_mel **out, char *err, size_t err_size);
void whisper_mel_free(whisper_mel *mel);

/* Computes the log-mel spectrogram of pcm (n_samples at 16 kHz) followed by
 * pad_samples zeros. *out is [n_mels][*n_frames] row-major (frame index fastest),
 * *n_frames = (n_samples + pad_samples) / 160. Returns 0 or a TRIDENT_E* code;
 * the caller owns *out (free()). Thread-safe (each call has its own FFT plan). */
int whisper_mel_compute(const whisper_mel *mel, const float *pcm, size_t n_samples, size_t pad_samples,
                        float **out, int *n_frames, char *err, size_t err_size);

#endif
