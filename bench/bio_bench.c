/* bio_bench.c — times bio_analyze (pYIN + RMS + distress) on 30 s of real
 * speech: the bio-ref inputs concatenated (and repeated to reach 30 s).
 *
 *   bench_bio [SHARED_DIR] [RUNS]
 *
 * Prints the median and minimum of RUNS (default 15, at least 7) runs in ms
 * (bio_analyze runs on the calling thread), and the median CPU time of the
 * thread, which stays meaningful when other processes compete for the cores
 * (wall time then includes the time the thread waited to be scheduled). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audio/audio.h"
#include "base/clock.h"
#include "base/error.h"
#include "bio/bio.h"

/* Appends the samples of a WAV file (decoded by the audio module; the bio-ref
 * inputs are 16 kHz, so nothing is resampled) to pcm. Returns the grown
 * buffer, or NULL (pcm untouched) on failure. */
static float *wav_append(const char *path, float *pcm, size_t *n) {
    char err[TRIDENT_ERR_SIZE];
    audio_pcm a;
    if (audio_decode_file(path, NULL, &a, err, sizeof err) != 0) {
        fprintf(stderr, "bench_bio: %s\n", err);
        return NULL;
    }
    float *out = realloc(pcm, (*n + a.n_samples) * sizeof *out);
    if (out) {
        memcpy(out + *n, a.samples, a.n_samples * sizeof *out);
        *n += a.n_samples;
    }
    audio_pcm_clear(&a);
    return out;
}

static double thread_cpu_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    const char *shared = argc > 1 ? argv[1] : getenv("TRIDENT_SHARED");
    if (!shared) shared = "../shared";
    int runs = argc > 2 ? atoi(argv[2]) : 15;
    if (runs < 7) runs = 7;
    const char *names[] = {"jfk", "c1_16k", "c2_16k"};
    float *pcm = NULL;
    size_t n = 0;
    for (size_t i = 0; i < 3; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/bio-ref/inputs/%s.wav", shared, names[i]);
        float *p = wav_append(path, pcm, &n);
        if (!p) {
            fprintf(stderr, "bench_bio: cannot read %s\n", path);
            free(pcm);
            return 1;
        }
        pcm = p;
    }
    size_t want = 30 * 16000;
    float *speech = malloc(want * sizeof *speech);
    if (!speech) return 1;
    for (size_t i = 0; i < want; i++) speech[i] = pcm[i % n];
    free(pcm);

    double *ms = malloc((size_t)runs * sizeof *ms);
    double *cpu = malloc((size_t)runs * sizeof *cpu);
    if (!ms || !cpu) return 1;
    char err[TRIDENT_ERR_SIZE];
    bio_result r;
    for (int i = -1; i < runs; i++) { /* one warm-up run */
        double c0 = thread_cpu_ms();
        double t0 = clock_now_ms();
        if (bio_analyze(speech, want, NULL, &r, err, sizeof err)) {
            fprintf(stderr, "bench_bio: %s\n", err);
            return 1;
        }
        double t1 = clock_now_ms();
        double c1 = thread_cpu_ms();
        if (i >= 0) {
            ms[i] = t1 - t0;
            cpu[i] = c1 - c0;
        }
        bio_result_clear(&r);
    }
    qsort(ms, (size_t)runs, sizeof *ms, cmp_double);
    qsort(cpu, (size_t)runs, sizeof *cpu, cmp_double);
    printf("bio_analyze, 30.0 s of speech (%zu frames, %zu voiced, distress %.4f): median %.2f ms, min %.2f ms "
           "over %d runs (thread CPU time: median %.2f ms)\n",
           r.frames, r.voiced_frames, r.distress_score, ms[runs / 2], ms[0], runs, cpu[runs / 2]);
    free(ms);
    free(cpu);
    free(speech);
    return 0;
}
