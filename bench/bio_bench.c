/* bio_bench.c — times bio_analyze (pYIN + RMS + distress) on 30 s of real
 * speech: the bio-ref inputs concatenated (and repeated to reach 30 s).
 *
 *   bench_bio [SHARED_DIR] [RUNS]
 *
 * Prints the median and minimum of RUNS (default 15, at least 7) runs in ms,
 * with the per-frame analysis on one thread (the default) and on two. For
 * one thread it also prints the median CPU time of the calling thread, which
 * stays meaningful when other processes compete for the cores (wall time then
 * includes the time the thread waited to be scheduled). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/error.h"
#include "bio/bio.h"

static float *wav_append(const char *path, float *pcm, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char h[12];
    float *out = NULL;
    if (fread(h, 1, 12, f) != 12 || memcmp(h, "RIFF", 4) || memcmp(h + 8, "WAVE", 4)) goto done;
    for (;;) {
        unsigned char c[8];
        if (fread(c, 1, 8, f) != 8) goto done;
        uint32_t len = c[4] | c[5] << 8 | c[6] << 16 | (uint32_t)c[7] << 24;
        if (memcmp(c, "data", 4)) {
            if (fseek(f, len + (len & 1), SEEK_CUR)) goto done;
            continue;
        }
        size_t m = len / 2;
        out = realloc(pcm, (*n + m) * sizeof *out);
        if (!out) goto done;
        for (size_t i = 0; i < m; i++) {
            unsigned char s[2];
            if (fread(s, 1, 2, f) != 2) break;
            out[*n + i] = (float)(int16_t)(s[0] | s[1] << 8) / 32768.0f;
        }
        *n += m;
        break;
    }
done:
    fclose(f);
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
    for (int threads = 1; threads <= 2; threads++) {
        bio_params p = bio_params_default();
        p.n_threads = threads;
        for (int i = -1; i < runs; i++) { /* one warm-up run */
            double c0 = thread_cpu_ms();
            double t0 = clock_now_ms();
            if (bio_analyze(speech, want, &p, &r, err, sizeof err)) {
                fprintf(stderr, "bench_bio: %s\n", err);
                return 1;
            }
            double t1 = clock_now_ms();
            double c1 = thread_cpu_ms();
            if (i >= 0) {
                ms[i] = t1 - t0;
                cpu[i] = c1 - c0;
            }
            bio_result_free(&r);
        }
        qsort(ms, (size_t)runs, sizeof *ms, cmp_double);
        qsort(cpu, (size_t)runs, sizeof *cpu, cmp_double);
        printf("bio_analyze, 30.0 s of speech (%zu frames, %zu voiced, distress %.4f), %d thread%s: "
               "median %.2f ms, min %.2f ms over %d runs",
               r.frames, r.voiced_frames, r.distress_score, threads, threads > 1 ? "s" : "", ms[runs / 2], ms[0],
               runs);
        if (threads == 1) printf(" (thread CPU time: median %.2f ms)", cpu[runs / 2]);
        printf("\n");
    }
    free(ms);
    free(cpu);
    free(speech);
    return 0;
}
