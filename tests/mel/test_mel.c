/* test_mel.c — the log-mel spectrogram against the official implementation's
 * output (../shared/whisper-ref/expected/NAME/mel.npy, 80 and 128 bins) on
 * jfk.wav with 30 s of padding, plus the error paths. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audio/audio.h"
#include "base/error.h"
#include "check.h"
#include "npy.h"
#include "whisper/mel.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void compare_one(const char *name, const audio_pcm *pcm) {
    char rel[512];
    snprintf(rel, sizeof rel, "whisper-ref/expected/%s/mel.npy", name);
    npy_array ref;
    if (npy_load(check_shared_path(rel), &ref) != 0) return; /* not every fixture has a mel */
    CHECK(ref.ndim == 2 && ref.shape[1] == 3000, "%s: reference shape", name);
    int n_mels = (int)ref.shape[0];
    char err[TRIDENT_ERR_SIZE] = "";
    whisper_mel *mel = NULL;
    int rc = whisper_mel_new(n_mels, &mel, err, sizeof err);
    CHECK(rc == 0, "%s: whisper_mel_new(%d): %s", name, n_mels, err);
    float *out = NULL;
    int frames = 0;
    double t0 = now_ms();
    rc = whisper_mel_compute(mel, pcm->samples, pcm->n_samples, 480000, &out, &frames, err, sizeof err);
    double t1 = now_ms();
    CHECK(rc == 0, "%s: whisper_mel_compute: %s", name, err);
    CHECK(frames == (int)((pcm->n_samples + 480000) / 160), "%s: %d frames", name, frames);
    if (rc == 0 && frames >= 3000) {
        double max_diff = 0;
        for (int i = 0; i < n_mels; i++)
            for (int t = 0; t < 3000; t++) {
                double d = fabs((double)out[(size_t)i * frames + t] - ref.data[(size_t)i * 3000 + t]);
                if (d > max_diff) max_diff = d;
            }
        printf("%s: n_mels=%d frames=%d max_abs_diff=%.3g (%.2f ms)\n", name, n_mels, frames, max_diff, t1 - t0);
        CHECK(max_diff <= 1e-4, "%s: mel max abs diff %.3g > 1e-4", name, max_diff);
    }
    free(out);
    whisper_mel_free(mel);
    npy_clear(&ref);
}

int main(void) {
    char err[TRIDENT_ERR_SIZE] = "";
    audio_pcm pcm;
    int rc = audio_decode_file(check_shared_path("whisper-ref/jfk.wav"), NULL, &pcm, err, sizeof err);
    CHECK(rc == 0, "decode jfk.wav: %s", err);
    if (rc) return check_summary();
    CHECK(pcm.n_samples == 176000 && pcm.sample_rate == 16000, "jfk.wav: %zu samples", pcm.n_samples);

    DIR *d = opendir(check_shared_path("whisper-ref/expected"));
    CHECK(d != NULL, "open whisper-ref/expected");
    int compared = 0;
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            int before = check_failures();
            compare_one(e->d_name, &pcm);
            compared += check_failures() == before;
        }
        closedir(d);
    }
    CHECK(compared >= 5, "compared %d fixtures", compared);

    /* Timing of a full 30-s window without padding, for information only. */
    whisper_mel *mel = NULL;
    CHECK(whisper_mel_new(128, &mel, err, sizeof err) == 0, "new 128: %s", err);
    float *x = malloc(480000 * sizeof(float));
    if (mel && x) {
        for (size_t i = 0; i < 480000; i++) x[i] = pcm.samples[i % pcm.n_samples];
        float *out = NULL;
        int frames = 0;
        double best = 1e9;
        for (int r = 0; r < 5; r++) {
            double t0 = now_ms();
            rc = whisper_mel_compute(mel, x, 480000, 0, &out, &frames, err, sizeof err);
            double t = now_ms() - t0;
            if (t < best) best = t;
            CHECK(rc == 0 && frames == 3000, "30 s window: %s", err);
            free(out);
            out = NULL;
        }
        printf("30 s of speech, 128 bins: %.2f ms\n", best);
    }
    free(x);

    /* Error paths. */
    whisper_mel *bad = NULL;
    CHECK(whisper_mel_new(0, &bad, err, sizeof err) == TRIDENT_EINVAL && bad == NULL, "n_mels 0 rejected");
    if (mel) {
        float *out = NULL;
        int frames = 0;
        float tiny[10] = {0};
        CHECK(whisper_mel_compute(mel, tiny, 10, 0, &out, &frames, err, sizeof err) == TRIDENT_EINVAL && !out,
              "too short rejected");
        CHECK(whisper_mel_compute(mel, NULL, 0, 480000, &out, &frames, err, sizeof err) == 0 && frames == 3000,
              "pure padding: %s", err);
        if (out) {
            /* all-zero input: log10(1e-10) = -10 everywhere, floor = -18, (−10+4)/4 */
            CHECK_NEAR(out[0], -1.5, 1e-6, "silence value");
        }
        free(out);
    }
    whisper_mel_free(mel);
    audio_pcm_clear(&pcm);
    return check_summary();
}
