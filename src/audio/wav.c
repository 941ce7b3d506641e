/* wav.c — writing mono WAV files with libsndfile: whole recordings to a path
 * or to memory, and an appendable writer for live calls whose header is kept
 * up to date after every append. PCM16 is written as round(x·32768) clipped to
 * the int16 range, so that decoding (x / 32768) gives back PCM16 input exactly. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>

#include "audio/audio.h"
#include "audio/internal.h"
#include "base/error.h"

#define WAV_BLOCK 8192

struct audio_wav_writer {
    SNDFILE *sf;
    audio_wav_format format;
    size_t count;
    char path[1];
};

static int wav_args_check(int sample_rate, audio_wav_format format, char *err, size_t err_size) {
    if (sample_rate <= 0 || sample_rate > 768000)
        return error_set(err, err_size, TRIDENT_EINVAL, "cannot write WAV at %d Hz: the rate must be 1 to 768000 Hz", sample_rate);
    if (format != AUDIO_WAV_PCM16 && format != AUDIO_WAV_FLOAT)
        return error_set(err, err_size, TRIDENT_EINVAL, "unknown WAV sample format %d: use AUDIO_WAV_PCM16 or AUDIO_WAV_FLOAT",
                         (int)format);
    return TRIDENT_OK;
}

static SF_INFO wav_info(int sample_rate, audio_wav_format format) {
    SF_INFO info = {0};
    info.samplerate = sample_rate;
    info.channels = 1;
    info.format = SF_FORMAT_WAV | (format == AUDIO_WAV_FLOAT ? SF_FORMAT_FLOAT : SF_FORMAT_PCM_16);
    return info;
}

/* Writes n samples to sf in the given format. Returns 0 or TRIDENT_EIO. */
static int wav_put(SNDFILE *sf, audio_wav_format format, const float *x, size_t n, char *err, size_t err_size) {
    short block[WAV_BLOCK];
    size_t done = 0;
    while (done < n) {
        size_t m = n - done < WAV_BLOCK ? n - done : WAV_BLOCK;
        sf_count_t wrote;
        if (format == AUDIO_WAV_FLOAT) {
            wrote = sf_write_float(sf, x + done, (sf_count_t)m);
        } else {
            for (size_t i = 0; i < m; i++) {
                float v = x[done + i] * 32768.0f;
                v = v > 32767.0f ? 32767.0f : v < -32768.0f ? -32768.0f : v;
                block[i] = (short)lrintf(v);
            }
            wrote = sf_write_short(sf, block, (sf_count_t)m);
        }
        if (wrote != (sf_count_t)m)
            return error_set(err, err_size, TRIDENT_EIO, "writing WAV samples failed: %s", sf_strerror(sf));
        done += m;
    }
    return TRIDENT_OK;
}

int audio_wav_write_file(const char *path, const float *samples, size_t n_samples, int sample_rate,
                         audio_wav_format format, char *err, size_t err_size) {
    int rc = wav_args_check(sample_rate, format, err, err_size);
    if (rc) return rc;
    if (n_samples && (rc = audio_pcm_validate(samples, n_samples, err, err_size))) return rc;
    SF_INFO info = wav_info(sample_rate, format);
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    if (!sf) return error_set(err, err_size, TRIDENT_EIO, "cannot create %s: %s", path, sf_strerror(NULL));
    rc = wav_put(sf, format, samples, n_samples, err, err_size);
    if (sf_close(sf) != 0 && !rc) rc = error_set(err, err_size, TRIDENT_EIO, "closing %s failed", path);
    return rc;
}

/* ---- in memory ---------------------------------------------------------- */

int audio_wav_write_memory(const float *samples, size_t n_samples, int sample_rate, audio_wav_format format,
                           void **out, size_t *out_size, char *err, size_t err_size) {
    *out = NULL;
    *out_size = 0;
    int rc = wav_args_check(sample_rate, format, err, err_size);
    if (rc) return rc;
    if (n_samples && (rc = audio_pcm_validate(samples, n_samples, err, err_size))) return rc;
    audio_memfile m = audio_memfile_writer();
    SF_VIRTUAL_IO vio = audio_memfile_io();
    SF_INFO info = wav_info(sample_rate, format);
    SNDFILE *sf = sf_open_virtual(&vio, SFM_WRITE, &info, &m);
    if (!sf) {
        free(m.buf);
        return error_set(err, err_size, m.failed ? TRIDENT_ENOMEM : TRIDENT_EIO, "cannot encode WAV: %s",
                         sf_strerror(NULL));
    }
    rc = wav_put(sf, format, samples, n_samples, err, err_size);
    sf_close(sf);
    if (!rc && m.failed) rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory encoding WAV");
    if (rc) {
        free(m.buf);
        return m.failed ? TRIDENT_ENOMEM : rc;
    }
    *out = m.buf;
    *out_size = (size_t)m.size;
    return TRIDENT_OK;
}

/* ---- appendable writer -------------------------------------------------- */

int audio_wav_writer_open(const char *path, int sample_rate, audio_wav_format format, audio_wav_writer **out,
                          char *err, size_t err_size) {
    *out = NULL;
    int rc = wav_args_check(sample_rate, format, err, err_size);
    if (rc) return rc;
    size_t len = strlen(path);
    audio_wav_writer *w = calloc(1, sizeof *w + len);
    if (!w) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory opening %s", path);
    memcpy(w->path, path, len + 1);
    w->format = format;
    SF_INFO info = wav_info(sample_rate, format);
    w->sf = sf_open(path, SFM_WRITE, &info);
    if (!w->sf) {
        free(w);
        return error_set(err, err_size, TRIDENT_EIO, "cannot create %s: %s", path, sf_strerror(NULL));
    }
    /* Rewrite the header after every write: the file stays valid if we die. */
    sf_command(w->sf, SFC_SET_UPDATE_HEADER_AUTO, NULL, SF_TRUE);
    *out = w;
    return TRIDENT_OK;
}

int audio_wav_writer_append(audio_wav_writer *w, const float *samples, size_t n_samples, char *err,
                            size_t err_size) {
    if (!w) return error_set(err, err_size, TRIDENT_EINVAL, "no WAV writer");
    if (n_samples == 0) return TRIDENT_OK;
    int rc = audio_pcm_validate(samples, n_samples, err, err_size);
    if (rc) return rc;
    rc = wav_put(w->sf, w->format, samples, n_samples, err, err_size);
    if (rc) return rc;
    sf_write_sync(w->sf);
    w->count += n_samples;
    return TRIDENT_OK;
}

size_t audio_wav_writer_count(const audio_wav_writer *w) { return w ? w->count : 0; }

int audio_wav_writer_close(audio_wav_writer *w, char *err, size_t err_size) {
    if (!w) return TRIDENT_OK;
    int rc = TRIDENT_OK;
    if (sf_close(w->sf) != 0) rc = error_set(err, err_size, TRIDENT_EIO, "closing %s failed", w->path);
    free(w);
    return rc;
}
