/* test_audio.c — decoding, resampling, WAV writing and PCM utilities on real
 * recordings (../shared/audio) and on espeak-ng speech converted by sox at
 * test time into many formats and rates. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sndfile.h>

#include "audio/audio.h"
#include "base/error.h"
#include "check.h"

static char tmpdir[256];

/* 1 if a[i] == b[i] for every i (values, not bytes). */
static int floats_equal(const float *a, const float *b, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i]) return 0;
    return 1;
}

static int run(const char *cmd) {
    int rc = system(cmd);
    CHECK(rc == 0, "command failed (%d): %s", rc, cmd);
    return rc;
}

/* Largest normalised cross-correlation of a and b over lags in [-max_lag, max_lag]. */
static double xcorr_max(const float *a, size_t na, const float *b, size_t nb, int max_lag) {
    double best = -1;
    for (int lag = -max_lag; lag <= max_lag; lag++) {
        double sab = 0, saa = 0, sbb = 0;
        for (size_t i = 0; i < na; i++) {
            long j = (long)i + lag;
            if (j < 0 || (size_t)j >= nb) continue;
            sab += (double)a[i] * b[j];
            saa += (double)a[i] * a[i];
            sbb += (double)b[j] * b[j];
        }
        double c = saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : 0;
        if (c > best) best = c;
    }
    return best;
}

/* Decodes path from the file and from memory; both must agree exactly. */
static int decode_both(const char *path, audio_pcm *out) {
    char err[TRIDENT_ERR_SIZE] = "";
    int rc = audio_decode_file(path, NULL, out, err, sizeof err);
    CHECK(rc == 0, "decode %s: %s", path, err);
    if (rc) return rc;
    size_t size = 0;
    char *bytes = check_read_file(path, &size);
    CHECK(bytes != NULL, "read %s", path);
    audio_pcm mem;
    rc = audio_decode_memory(bytes, size, NULL, &mem, err, sizeof err);
    CHECK(rc == 0, "decode %s from memory: %s", path, err);
    if (rc == 0) {
        CHECK(mem.n_samples == out->n_samples &&
                  memcmp(mem.samples, out->samples, mem.n_samples * sizeof(float)) == 0,
              "%s: memory and file decodes differ", path);
        audio_pcm_clear(&mem);
    }
    free(bytes);
    return 0;
}

static void test_shared_recordings(void) {
    static const struct {
        const char *name;
        int rate;
        size_t frames;
    } files[] = {{"audio/jfk.wav", 16000, 176000},
                 {"audio/call_1_calm.wav", 48000, 787096},
                 {"audio/call_2_calm.wav", 48000, 724696},
                 {"whisper-ref/calls_long_16k.wav", 16000, 0}};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        audio_pcm pcm;
        if (decode_both(check_shared_path(files[i].name), &pcm)) continue;
        CHECK(pcm.sample_rate == 16000, "%s: rate %d", files[i].name, pcm.sample_rate);
        CHECK(pcm.source_rate == files[i].rate, "%s: source rate %d", files[i].name, pcm.source_rate);
        CHECK(pcm.source_channels == 1, "%s: channels %d", files[i].name, pcm.source_channels);
        CHECK(strstr(pcm.source_format, "WAV") != NULL, "%s: format '%s'", files[i].name, pcm.source_format);
        if (files[i].frames) {
            double want = (double)files[i].frames / files[i].rate;
            double got = audio_pcm_duration(pcm.n_samples, pcm.sample_rate);
            CHECK_NEAR(got, want, 1.0 / 16000 + 1e-9, files[i].name);
        } else {
            CHECK_NEAR(audio_pcm_duration(pcm.n_samples, 16000), 52.9, 0.1, files[i].name);
        }
        double rms = audio_pcm_rms(pcm.samples, pcm.n_samples);
        CHECK(rms > 0.01 && rms < 0.5, "%s: rms %.4f", files[i].name, rms);
        /* resampling may overshoot clipped peaks a little; nothing is clipped */
        CHECK(audio_pcm_peak(pcm.samples, pcm.n_samples) <= 1.2, "%s: peak", files[i].name);
        CHECK(audio_pcm_validate(pcm.samples, pcm.n_samples, NULL, 0) == 0, "%s: finite", files[i].name);
        printf("%-32s %6d Hz -> %zu samples (%.3f s), %s\n", files[i].name, pcm.source_rate, pcm.n_samples,
               audio_pcm_duration(pcm.n_samples, 16000), pcm.source_format);
        audio_pcm_clear(&pcm);
    }
    /* PCM16 at 16 kHz decodes to exactly int16 / 32768. */
    SF_INFO info = {0};
    SNDFILE *sf = sf_open(check_shared_path("audio/jfk.wav"), SFM_READ, &info);
    CHECK(sf != NULL, "sf_open jfk");
    if (sf) {
        short *s = malloc((size_t)info.frames * sizeof(short));
        audio_pcm pcm;
        char err[TRIDENT_ERR_SIZE];
        if (s && sf_readf_short(sf, s, info.frames) == info.frames &&
            audio_decode_file(check_shared_path("audio/jfk.wav"), NULL, &pcm, err, sizeof err) == 0) {
            size_t bad = 0;
            for (size_t i = 0; i < pcm.n_samples; i++) bad += pcm.samples[i] != (float)s[i] / 32768.0f;
            CHECK(bad == 0, "jfk: %zu samples differ from int16/32768", bad);
            audio_pcm_clear(&pcm);
        }
        free(s);
        sf_close(sf);
    }
}

/* Writes a file with libsndfile's own encoders (formats sox lacks here). */
static int write_with_sndfile(const char *path, int format, int rate, const float *x, size_t n) {
    SF_INFO info = {.samplerate = rate, .channels = 1, .format = format};
    if (!sf_format_check(&info)) return -1;
    SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
    if (!sf) return -1;
    sf_count_t w = sf_writef_float(sf, x, (sf_count_t)n);
    sf_close(sf);
    return w == (sf_count_t)n ? 0 : -1;
}

static void test_generated_formats(void) {
    char cmd[2048], path[512];
    snprintf(path, sizeof path, "%s/speech.wav", tmpdir);
    snprintf(cmd, sizeof cmd,
             "espeak-ng -w %s 'Help, there is a fire at the house on King Street in Kingston. "
             "My granny cannot breathe and the smoke is everywhere.'",
             path);
    if (run(cmd)) return;
    audio_pcm ref;
    if (decode_both(path, &ref)) return;
    CHECK(ref.source_rate == 22050, "espeak rate %d", ref.source_rate);
    double ref_s = audio_pcm_duration(ref.n_samples, 16000);
    CHECK(ref_s > 3.0, "espeak duration %.2f", ref_s);

    static const struct {
        const char *file, *sox_args;
        double min_corr;
    } conv[] = {
        {"s.flac", "", 0.99},
        {"s.ogg", "-C 5", 0.97},
        {"s_ulaw.wav", "-e u-law", 0.98},
        {"s_alaw.wav", "-e a-law", 0.98},
        {"s_8k.wav", "-r 8000", 0.98},
        {"s_stereo44k.wav", "-r 44100 -c 2", 0.99},
        {"s_float.wav", "-e floating-point -b 32", 0.99},
        {"s_pcm24_48k.wav", "-b 24 -r 48000", 0.99},
        {"s_pcm32.wav", "-b 32 -e signed-integer", 0.99},
        {"s_u8.wav", "-b 8 -e unsigned-integer", 0.99},
        {"s_16k.flac", "-r 16000", 0.99},
    };
    for (size_t i = 0; i < sizeof conv / sizeof conv[0]; i++) {
        char out[512];
        snprintf(out, sizeof out, "%s/%s", tmpdir, conv[i].file);
        snprintf(cmd, sizeof cmd, "sox %s %s %s", path, conv[i].sox_args, out);
        if (run(cmd)) continue;
        audio_pcm pcm;
        if (decode_both(out, &pcm)) continue;
        double s = audio_pcm_duration(pcm.n_samples, pcm.sample_rate);
        double corr = xcorr_max(ref.samples, ref.n_samples, pcm.samples, pcm.n_samples, 400);
        printf("%-18s %-28s %6d Hz %d ch -> %.3f s, corr %.4f\n", conv[i].file, pcm.source_format, pcm.source_rate,
               pcm.source_channels, s, corr);
        CHECK(pcm.sample_rate == 16000, "%s: rate", conv[i].file);
        CHECK(fabs(s - ref_s) <= 0.01 * ref_s, "%s: duration %.3f vs %.3f", conv[i].file, s, ref_s);
        CHECK(corr >= conv[i].min_corr, "%s: correlation %.4f < %.2f", conv[i].file, corr, conv[i].min_corr);
        audio_pcm_clear(&pcm);
    }

    /* Opus and MP3 through libsndfile's encoders, where this libsndfile has them. */
    static const struct {
        const char *file;
        int format, rate;
    } sfconv[] = {{"s.opus", SF_FORMAT_OGG | SF_FORMAT_OPUS, 48000},
                  {"s.mp3", SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 16000}};
    for (size_t i = 0; i < sizeof sfconv / sizeof sfconv[0]; i++) {
        char out[512];
        snprintf(out, sizeof out, "%s/%s", tmpdir, sfconv[i].file);
        float *x = NULL;
        size_t n = 0;
        char err[TRIDENT_ERR_SIZE];
        if (audio_resample(ref.samples, ref.n_samples, 16000, sfconv[i].rate, &x, &n, err, sizeof err) != 0 ||
            write_with_sndfile(out, sfconv[i].format, sfconv[i].rate, x, n) != 0) {
            printf("%-18s skipped: this libsndfile cannot write it\n", sfconv[i].file);
            free(x);
            continue;
        }
        free(x);
        audio_pcm pcm;
        if (decode_both(out, &pcm)) continue;
        double s = audio_pcm_duration(pcm.n_samples, pcm.sample_rate);
        double corr = xcorr_max(ref.samples, ref.n_samples, pcm.samples, pcm.n_samples, 1600);
        printf("%-18s %-28s %6d Hz %d ch -> %.3f s, corr %.4f\n", sfconv[i].file, pcm.source_format,
               pcm.source_rate, pcm.source_channels, s, corr);
        /* lossy codecs add encoder delay/padding: allow 5 % + 0.1 s */
        CHECK(fabs(s - ref_s) <= 0.05 * ref_s + 0.1, "%s: duration %.3f vs %.3f", sfconv[i].file, s, ref_s);
        CHECK(corr >= 0.95, "%s: correlation %.4f", sfconv[i].file, corr);
        audio_pcm_clear(&pcm);
    }

    /* Stereo with one silent channel: the mix-down is the mean (half). */
    snprintf(path, sizeof path, "%s/left_only.wav", tmpdir);
    float *st = malloc(ref.n_samples * 2 * sizeof(float));
    if (st) {
        for (size_t i = 0; i < ref.n_samples; i++) {
            st[2 * i] = ref.samples[i];
            st[2 * i + 1] = 0;
        }
        SF_INFO info = {.samplerate = 16000, .channels = 2, .format = SF_FORMAT_WAV | SF_FORMAT_FLOAT};
        SNDFILE *sf = sf_open(path, SFM_WRITE, &info);
        CHECK(sf != NULL, "write stereo");
        if (sf) {
            sf_writef_float(sf, st, (sf_count_t)ref.n_samples);
            sf_close(sf);
            audio_pcm pcm;
            if (decode_both(path, &pcm) == 0) {
                CHECK(pcm.source_channels == 2 && pcm.n_samples == ref.n_samples, "stereo: %d ch %zu",
                      pcm.source_channels, pcm.n_samples);
                double maxd = 0;
                for (size_t i = 0; i < pcm.n_samples && i < ref.n_samples; i++)
                    maxd = fmax(maxd, fabs(pcm.samples[i] - 0.5 * ref.samples[i]));
                CHECK(maxd < 1e-7, "stereo mix-down is not the mean (%.3g)", maxd);
                audio_pcm_clear(&pcm);
            }
        }
        free(st);
    }

    /* A different target rate and a duration limit through the options. */
    audio_decode_options opts = {.target_rate = 8000};
    audio_pcm pcm8;
    char err[TRIDENT_ERR_SIZE] = "";
    snprintf(path, sizeof path, "%s/speech.wav", tmpdir);
    CHECK(audio_decode_file(path, &opts, &pcm8, err, sizeof err) == 0 && pcm8.sample_rate == 8000, "8 kHz: %s",
          err);
    CHECK(fabs(audio_pcm_duration(pcm8.n_samples, 8000) - ref_s) < 0.01 * ref_s, "8 kHz duration");
    audio_pcm_clear(&pcm8);
    opts = (audio_decode_options){.max_seconds = 1.0};
    CHECK(audio_decode_file(path, &opts, &pcm8, err, sizeof err) == TRIDENT_ELIMIT && pcm8.samples == NULL,
          "max_seconds: %s", err);
    CHECK(strstr(err, "1 s") != NULL, "limit message: %s", err);
    audio_pcm_clear(&ref);
}

static void test_resample(void) {
    /* A 1-kHz sine at 48 kHz becomes a 1-kHz sine at 16 kHz. */
    size_t n = 48000;
    float *x = malloc(n * sizeof(float));
    if (!x) return;
    for (size_t i = 0; i < n; i++) x[i] = 0.5f * (float)sin(2 * M_PI * 1000.0 * (double)i / 48000.0);
    float *y = NULL;
    size_t m = 0;
    char err[TRIDENT_ERR_SIZE] = "";
    CHECK(audio_resample(x, n, 48000, 16000, &y, &m, err, sizeof err) == 0, "resample: %s", err);
    CHECK(m >= 15990 && m <= 16010, "resampled length %zu", m);
    double maxd = 0;
    for (size_t i = 1000; i + 1000 < m; i++) /* away from the edges */
        maxd = fmax(maxd, fabs(y[i] - 0.5 * sin(2 * M_PI * 1000.0 * (double)i / 16000.0)));
    CHECK(maxd < 1e-3, "resampled sine error %.3g", maxd);
    free(y);
    CHECK(audio_resample(x, n, 16000, 16000, &y, &m, err, sizeof err) == 0 && m == n &&
              memcmp(x, y, n * sizeof(float)) == 0,
          "same-rate copy");
    free(y);
    CHECK(audio_resample(x, n, 0, 16000, &y, &m, err, sizeof err) == TRIDENT_EINVAL && !y, "rate 0 rejected");
    free(x);
}

static void test_wav_writer(void) {
    char err[TRIDENT_ERR_SIZE] = "", path[512];
    size_t n = 16000;
    float *x = malloc(n * sizeof(float));
    if (!x) return;
    for (size_t i = 0; i < n; i++) x[i] = (float)((int)(i * 7919 % 65536) - 32768) / 32768.0f;
    for (int f = 0; f < 2; f++) {
        audio_wav_format fmt = f ? AUDIO_WAV_FLOAT : AUDIO_WAV_PCM16;
        snprintf(path, sizeof path, "%s/w%d.wav", tmpdir, f);
        CHECK(audio_wav_write_file(path, x, n, 16000, fmt, err, sizeof err) == 0, "write: %s", err);
        audio_pcm pcm;
        if (decode_both(path, &pcm) == 0) {
            CHECK(pcm.n_samples == n && memcmp(pcm.samples, x, n * sizeof(float)) == 0,
                  "format %d: WAV round trip is not exact", f);
            CHECK(strstr(pcm.source_format, f ? "float" : "16 bit") != NULL, "format '%s'", pcm.source_format);
            audio_pcm_clear(&pcm);
        }
        void *mem = NULL;
        size_t size = 0;
        CHECK(audio_wav_write_memory(x, n, 16000, fmt, &mem, &size, err, sizeof err) == 0, "memory: %s", err);
        CHECK(size == 44 + n * (f ? 4 : 2) || size > n * (f ? 4 : 2), "memory WAV size %zu", size);
        if (mem) {
            audio_pcm pcm2;
            CHECK(audio_decode_memory(mem, size, NULL, &pcm2, err, sizeof err) == 0 && pcm2.n_samples == n &&
                      memcmp(pcm2.samples, x, n * sizeof(float)) == 0,
                  "memory WAV round trip: %s", err);
            audio_pcm_clear(&pcm2);
        }
        free(mem);
    }
    /* Clipping instead of wrap-around. */
    float loud[3] = {1.5f, -2.0f, 0.25f};
    snprintf(path, sizeof path, "%s/clip.wav", tmpdir);
    CHECK(audio_wav_write_file(path, loud, 3, 16000, AUDIO_WAV_PCM16, err, sizeof err) == 0, "clip: %s", err);
    audio_pcm c;
    if (audio_decode_file(path, NULL, &c, err, sizeof err) == 0) {
        CHECK(c.n_samples == 3 && c.samples[0] == 32767 / 32768.0f && c.samples[1] == -1.0f && c.samples[2] == 0.25f,
              "clipped values %g %g %g", c.samples[0], c.samples[1], c.samples[2]);
        audio_pcm_clear(&c);
    }
    /* NaN refused by the writers. */
    float bad[2] = {0.0f, NAN};
    CHECK(audio_wav_write_file(path, bad, 2, 16000, AUDIO_WAV_FLOAT, err, sizeof err) == TRIDENT_EFORMAT,
          "NaN written");
    CHECK(audio_wav_write_file(path, x, n, 0, AUDIO_WAV_FLOAT, err, sizeof err) == TRIDENT_EINVAL, "rate 0");

    /* Appendable writer: valid after every append, even before close. */
    snprintf(path, sizeof path, "%s/live.wav", tmpdir);
    audio_wav_writer *w = NULL;
    CHECK(audio_wav_writer_open(path, 16000, AUDIO_WAV_PCM16, &w, err, sizeof err) == 0, "open: %s", err);
    if (w) {
        for (int k = 0; k < 3; k++) {
            CHECK(audio_wav_writer_append(w, x + (size_t)k * 4000, 4000, err, sizeof err) == 0, "append: %s", err);
            audio_pcm part;
            CHECK(audio_decode_file(path, NULL, &part, err, sizeof err) == 0 &&
                      part.n_samples == (size_t)(k + 1) * 4000,
                  "after append %d: %zu samples (%s)", k, part.n_samples, err);
            audio_pcm_clear(&part);
        }
        CHECK(audio_wav_writer_append(w, bad, 2, err, sizeof err) == TRIDENT_EFORMAT, "append NaN refused");
        CHECK(audio_wav_writer_count(w) == 12000, "count %zu", audio_wav_writer_count(w));
        CHECK(audio_wav_writer_close(w, err, sizeof err) == 0, "close: %s", err);
        audio_pcm all;
        CHECK(audio_decode_file(path, NULL, &all, err, sizeof err) == 0 && all.n_samples == 12000 &&
                  floats_equal(all.samples, x, 12000),
              "live recording content: %s", err);
        audio_pcm_clear(&all);
    }
    CHECK(audio_wav_writer_open("/nonexistent-dir/x.wav", 16000, AUDIO_WAV_PCM16, &w, err, sizeof err) ==
                  TRIDENT_EIO &&
              w == NULL,
          "unwritable path");
    free(x);
}

static void test_pcm_utils(void) {
    char err[TRIDENT_ERR_SIZE] = "";
    CHECK_NEAR(audio_pcm_duration(16000, 16000), 1.0, 0, "duration");
    CHECK_NEAR(audio_pcm_duration(10, 0), 0.0, 0, "duration rate 0");
    float sq[4] = {0.5f, -0.5f, 0.5f, -0.5f};
    CHECK_NEAR(audio_pcm_rms(sq, 4), 0.5, 1e-12, "rms");
    CHECK_NEAR(audio_pcm_rms(NULL, 0), 0.0, 0, "rms empty");
    CHECK_NEAR(audio_pcm_peak(sq, 4), 0.5, 0, "peak");

    unsigned char bytes[12];
    float vals[3] = {0.25f, -1.0f, 3.0f};
    for (int i = 0; i < 3; i++) { /* explicit little-endian layout */
        uint32_t u;
        memcpy(&u, &vals[i], 4);
        for (int b = 0; b < 4; b++) bytes[4 * i + b] = (unsigned char)(u >> (8 * b));
    }
    float out[3];
    size_t n = 99;
    CHECK(audio_pcm_from_f32le(bytes, 12, out, 3, &n, err, sizeof err) == 0 && n == 3 && out[0] == 0.25f &&
              out[1] == -1.0f && out[2] == 3.0f,
          "f32le: %s", err);
    CHECK(audio_pcm_from_f32le(bytes, 10, out, 3, &n, err, sizeof err) == TRIDENT_EFORMAT && n == 0 &&
              strstr(err, "multiple") == NULL && strstr(err, "4 bytes") != NULL,
          "f32le odd length: %s", err);
    CHECK(audio_pcm_from_f32le(bytes, 0, out, 3, &n, err, sizeof err) == TRIDENT_EFORMAT, "f32le empty");
    CHECK(audio_pcm_from_f32le(bytes, 12, out, 2, &n, err, sizeof err) == TRIDENT_ELIMIT, "f32le capacity");
    uint32_t nan_bits = 0x7fc00000u, inf_bits = 0xff800000u;
    for (int b = 0; b < 4; b++) bytes[4 + b] = (unsigned char)(nan_bits >> (8 * b));
    CHECK(audio_pcm_from_f32le(bytes, 12, out, 3, &n, err, sizeof err) == TRIDENT_EFORMAT && strstr(err, "NaN"),
          "f32le NaN: %s", err);
    for (int b = 0; b < 4; b++) bytes[4 + b] = (unsigned char)(inf_bits >> (8 * b));
    CHECK(audio_pcm_from_f32le(bytes, 12, out, 3, &n, err, sizeof err) == TRIDENT_EFORMAT && strstr(err, "-Inf"),
          "f32le -Inf: %s", err);
    float inf[2] = {0, INFINITY};
    CHECK(audio_pcm_validate(inf, 2, err, sizeof err) == TRIDENT_EFORMAT && strstr(err, "sample 1 is +Inf"),
          "validate: %s", err);
    int16_t s16[3] = {-32768, 0, 16384};
    float f16[3];
    audio_pcm_from_s16(s16, 3, f16);
    CHECK(f16[0] == -1.0f && f16[1] == 0.0f && f16[2] == 0.5f, "s16");
}

int main(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/trident-audio-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_shared_recordings();
    test_generated_formats();
    test_resample();
    test_wav_writer();
    test_pcm_utils();
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return check_summary();
}
