/* decode.c — audio files (from a path or from memory) to mono float PCM at
 * 16 kHz: the bytes pass audio_probe, libsndfile reads the container and
 * codec, channels are averaged, libsoxr converts the rate, chunk by chunk so
 * that memory stays proportional to the output. A file is read through a
 * read-only mapping, so both entry points decode the same way. Every way a
 * file can be bad ends in a clear error. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sndfile.h>

#include "audio/audio.h"
#include "audio/internal.h"
#include "base/error.h"

#define DECODE_CHUNK_FRAMES 16384
#define DECODE_MAX_CHANNELS 64
#define DECODE_MIN_RATE 1000
#define DECODE_MAX_RATE 768000
/* Input samples (frames x channels) decoded per accepted second at most: the
 * decoding cost bound (mono at the highest rate, or 48 kHz with 16 channels). */
#define DECODE_MAX_SAMPLES_PER_S 768000.0

/* "WAV (Microsoft), Signed 16 bit PCM" from the libsndfile format word. */
static void format_describe(int format, char *buf, size_t size) {
    SF_FORMAT_INFO major = {.format = format & SF_FORMAT_TYPEMASK};
    SF_FORMAT_INFO sub = {.format = format & SF_FORMAT_SUBMASK};
    const char *mname = sf_command(NULL, SFC_GET_FORMAT_INFO, &major, sizeof major) == 0 && major.name
                            ? major.name
                            : "unknown container";
    const char *sname =
        sf_command(NULL, SFC_GET_FORMAT_INFO, &sub, sizeof sub) == 0 && sub.name ? sub.name : "unknown encoding";
    snprintf(buf, size, "%s, %s", mname, sname);
}

/* Reads the whole of an opened file into out. what names the input in messages. */
static int decode_sndfile(SNDFILE *sf, const SF_INFO *info, const char *what, const audio_decode_options *opts,
                          audio_pcm *out, char *err, size_t err_size) {
    int target = opts && opts->target_rate > 0 ? opts->target_rate : AUDIO_SAMPLE_RATE;
    double max_s = opts && opts->max_seconds > 0 ? opts->max_seconds : AUDIO_DEFAULT_MAX_SECONDS;
    int ch = info->channels, rate = info->samplerate;

    if (ch < 1 || ch > DECODE_MAX_CHANNELS)
        return error_set(err, err_size, TRIDENT_ELIMIT, "%s has %d channels; at most %d are accepted", what, ch,
                         DECODE_MAX_CHANNELS);
    if (rate < DECODE_MIN_RATE || rate > DECODE_MAX_RATE)
        return error_set(err, err_size, TRIDENT_ELIMIT, "%s has a sample rate of %d Hz; %d to %d Hz are accepted",
                         what, rate, DECODE_MIN_RATE, DECODE_MAX_RATE);
    if (target < DECODE_MIN_RATE || target > DECODE_MAX_RATE)
        return error_set(err, err_size, TRIDENT_EINVAL, "target rate %d Hz is out of range; %d to %d Hz are accepted",
                         target, DECODE_MIN_RATE, DECODE_MAX_RATE);
    double max_frames = max_s * rate;
    double max_input = max_s * DECODE_MAX_SAMPLES_PER_S; /* over all channels */
    if (info->frames > 0 && info->frames != SF_COUNT_MAX && (double)info->frames > max_frames + rate)
        return error_set(err, err_size, TRIDENT_ELIMIT, "%s is %.1f s long; at most %.0f s are accepted", what,
                         (double)info->frames / rate, max_s);
    if (info->frames > 0 && info->frames != SF_COUNT_MAX && (double)info->frames * ch > max_input)
        return error_set(err, err_size, TRIDENT_ELIMIT,
                         "%s holds %.0f samples (%d channels at %d Hz); at most %.0f are decoded for %.0f s", what,
                         (double)info->frames * ch, ch, rate, max_input, max_s);

    memset(out, 0, sizeof *out);
    format_describe(info->format, out->source_format, sizeof out->source_format);
    out->source_rate = rate;
    out->source_channels = ch;
    out->sample_rate = target;

    int rc = TRIDENT_OK;
    audio_resampler *rs = NULL;
    audio_fbuf dst = {0};
    float *chunk = malloc((size_t)DECODE_CHUNK_FRAMES * (size_t)ch * sizeof(float));
    float *mono = malloc((size_t)DECODE_CHUNK_FRAMES * sizeof(float));
    if (!chunk || !mono) {
        rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory decoding %s", what);
        goto done;
    }
    if (rate != target && (rc = audio_resampler_new(rate, target, &rs, err, err_size))) goto done;

    size_t total = 0;
    for (;;) {
        sf_count_t got = sf_readf_float(sf, chunk, DECODE_CHUNK_FRAMES);
        if (got <= 0) break;
        size_t n = (size_t)got;
        for (size_t i = 0; i < n; i++) {
            const float *f = chunk + i * (size_t)ch;
            float s;
            if (ch == 1) {
                s = f[0];
            } else {
                double acc = 0;
                for (int c = 0; c < ch; c++) acc += f[c];
                s = (float)(acc / ch);
            }
            if (!isfinite(s)) {
                int bad_ch = 0;
                for (int c = 0; c < ch; c++)
                    if (!isfinite(f[c])) bad_ch = c;
                float v = f[bad_ch];
                rc = error_set(err, err_size, TRIDENT_EFORMAT,
                               "%s contains an invalid sample (%s) at frame %zu (%.3f s), channel %d; audio must "
                               "hold finite values",
                               what, isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf", total + i,
                               (double)(total + i) / rate, bad_ch);
                goto done;
            }
            if (fabsf(s) > AUDIO_SAMPLE_MAX_ABS) {
                int bad_ch = 0;
                for (int c = 0; c < ch; c++)
                    if (fabsf(f[c]) > fabsf(f[bad_ch])) bad_ch = c;
                rc = error_set(err, err_size, TRIDENT_EFORMAT,
                               "%s contains a sample of magnitude %g at frame %zu (%.3f s), channel %d; audio "
                               "samples must lie within [-1, 1] (magnitudes above %g are refused)",
                               what, (double)fabsf(f[bad_ch]), total + i, (double)(total + i) / rate, bad_ch,
                               (double)AUDIO_SAMPLE_MAX_ABS);
                goto done;
            }
            mono[i] = s;
        }
        total += n;
        if ((double)total > max_frames || (double)total * ch > max_input) {
            rc = error_set(err, err_size, TRIDENT_ELIMIT, "%s is longer than the %.0f s accepted", what, max_s);
            goto done;
        }
        if (rs) {
            if ((rc = audio_resampler_process(rs, mono, n, &dst, err, err_size))) goto done;
        } else {
            if (audio_fbuf_reserve(&dst, n)) {
                rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory decoding %s", what);
                goto done;
            }
            memcpy(dst.data + dst.len, mono, n * sizeof(float));
            dst.len += n;
        }
    }
    if (sf_error(sf) != SF_ERR_NO_ERROR && total == 0) {
        rc = error_set(err, err_size, TRIDENT_EFORMAT, "%s could not be decoded (libsndfile: %s); accepted formats: %s",
                       what, sf_strerror(sf), AUDIO_ACCEPTED_FORMATS);
        goto done;
    }
    if (total == 0) {
        rc = error_set(err, err_size, TRIDENT_EFORMAT, "%s (%s) contains no audio samples", what, out->source_format);
        goto done;
    }
    if (rs && (rc = audio_resampler_finish(rs, &dst, err, err_size))) goto done;
    if (dst.len == 0) {
        rc = error_set(err, err_size, TRIDENT_EFORMAT, "%s is too short to resample (%zu samples at %d Hz)", what,
                       total, rate);
        goto done;
    }
    /* The resampler's output is finite for finite input, but stay defensive. */
    if ((rc = audio_pcm_validate(dst.data, dst.len, err, err_size))) goto done;
    out->samples = dst.data;
    out->n_samples = dst.len;
    dst.data = NULL;

done:
    audio_resampler_free(rs);
    free(chunk);
    free(mono);
    free(dst.data);
    if (rc) memset(out, 0, sizeof *out);
    return rc;
}

static int open_error(const char *what, char *err, size_t err_size) {
    /* libsndfile's last open error (static text). Some decoders report a
     * misleading "file does not exist" for corrupt data: say what it is. */
    const char *why = sf_strerror(NULL);
    if (!why || strstr(why, "does not exist") || strstr(why, "No Error")) why = "unrecognised or corrupt data";
    return error_set(err, err_size, TRIDENT_EFORMAT,
                     "%s is not an audio file that can be decoded (libsndfile: %s); accepted formats: %s", what, why,
                     AUDIO_ACCEPTED_FORMATS);
}

/* Probes and decodes data; what names it in messages. */
static int decode_bytes(const void *data, size_t size, const char *what, const audio_decode_options *opts,
                        audio_pcm *out, char *err, size_t err_size) {
    memset(out, 0, sizeof *out);
    audio_probe_info probe;
    int rc = audio_probe(data, size, what, &probe, err, err_size);
    if (rc != 0) return rc;
    audio_memfile m = audio_memfile_reader(data, size);
    SF_VIRTUAL_IO vio = audio_memfile_io();
    SF_INFO info = {0};
    SNDFILE *sf = sf_open_virtual(&vio, SFM_READ, &info, &m);
    if (!sf) return open_error(what, err, err_size);
    rc = decode_sndfile(sf, &info, what, opts, out, err, err_size);
    sf_close(sf);
    return rc;
}

int audio_decode_file(const char *path, const audio_decode_options *opts, audio_pcm *out, char *err,
                      size_t err_size) {
    memset(out, 0, sizeof *out);
    if (!path || !*path) return error_set(err, err_size, TRIDENT_EINVAL, "no audio file path given");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return error_set(err, err_size, e == ENOENT ? TRIDENT_ENOTFOUND : TRIDENT_EIO, "cannot open %s: %s", path,
                         strerror(e));
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return error_set(err, err_size, TRIDENT_EIO, "cannot read %s: %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return error_set(err, err_size, TRIDENT_EIO, "cannot read %s: not a regular file", path);
    }
    if (st.st_size == 0) {
        close(fd);
        return error_set(err, err_size, TRIDENT_EFORMAT, "%s is empty (0 bytes); accepted formats: %s", path,
                         AUDIO_ACCEPTED_FORMATS);
    }
    void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (map == MAP_FAILED) return error_set(err, err_size, TRIDENT_EIO, "cannot read %s: %s", path, strerror(e));
    int rc = decode_bytes(map, (size_t)st.st_size, path, opts, out, err, err_size);
    munmap(map, (size_t)st.st_size);
    return rc;
}

int audio_decode_memory(const void *data, size_t size, const audio_decode_options *opts, audio_pcm *out,
                        char *err, size_t err_size) {
    memset(out, 0, sizeof *out);
    if (!data || size == 0)
        return error_set(err, err_size, TRIDENT_EFORMAT, "the audio upload is empty (0 bytes); accepted formats: %s",
                         AUDIO_ACCEPTED_FORMATS);
    return decode_bytes(data, size, "the uploaded audio", opts, out, err, err_size);
}

void audio_pcm_clear(audio_pcm *pcm) {
    if (!pcm) return;
    free(pcm->samples);
    memset(pcm, 0, sizeof *pcm);
}
