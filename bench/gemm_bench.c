/* gemm_bench.c — the machine's limits beside the engine's kernels: memory read
 * bandwidth, OpenBLAS cblas_sgemm (when built with it) and whisper_linear on
 * the encoder's GEMM shapes, the decoder's GEMV shapes (f32 / f16 / q8 weights)
 * and encoder-sized attention. Medians of several runs; 2 threads by default.
 *
 *   bench_gemm [threads] [d_model]       (d_model 384 tiny, 512 base, 768 small) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/threadpool.h"
#include "whisper/kernels.h"
#include "whisper/quant.h"
#ifdef TRIDENT_HAVE_OPENBLAS
#include <cblas.h>
void openblas_set_num_threads(int);
#endif

#define RUNS 7

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

static float *randoms(size_t n, uint64_t seed) {
    float *p = malloc(n * sizeof *p);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        p[i] = (float)((double)(seed >> 40) / 16777216.0 - 0.5);
    }
    return p;
}

typedef struct {
    const float *src;
    size_t n;
    double *sums;
} read_job;

static void read_task(void *ctx, int task, int thread) {
    (void)thread;
    read_job *j = ctx;
    size_t chunk = j->n / 32, i0 = (size_t)task * chunk; /* in uint64 words */
    const uint64_t *p = (const uint64_t *)j->src + i0;
    uint64_t a = 0, b = 0, c = 0, e = 0;
    for (size_t i = 0; i < chunk; i += 4) a ^= p[i], b ^= p[i + 1], c ^= p[i + 2], e ^= p[i + 3];
    j->sums[task] = (double)(a ^ b ^ c ^ e);
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2, d = argc > 2 ? atoi(argv[2]) : 512;
    threadpool *pool = threadpool_new(threads);
    double t[RUNS];

    /* memory read bandwidth: 512 MB touched line by line */
    size_t nbw = (size_t)128 << 20;
    float *big = randoms(nbw, 1);
    double sums[16];
    read_job rj = {big, nbw, sums};
    for (int r = 0; r < RUNS; r++) {
        double t0 = clock_now_ms();
        threadpool_run(pool, 16, read_task, &rj);
        t[r] = clock_now_ms() - t0;
    }
    printf("memory read          %8.1f GB/s (%d threads)\n", nbw * 4.0 / (median(t, RUNS) * 1e6), threads);
    free(big);

    int T = 1500, shapes[][2] = {{d, d}, {4 * d, d}, {d, 4 * d}}; /* N, K */
    for (size_t s = 0; s < 3; s++) {
        int N = shapes[s][0], K = shapes[s][1];
        float *x = randoms((size_t)T * K, 2), *w = randoms((size_t)N * K, 3), *y = randoms((size_t)T * N, 4);
        double flops = 2.0 * T * N * K;
#ifdef TRIDENT_HAVE_OPENBLAS
        openblas_set_num_threads(threads);
        for (int r = 0; r < RUNS; r++) {
            double t0 = clock_now_ms();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, N, K, 1.0f, x, K, w, K, 0.0f, y, N);
            t[r] = clock_now_ms() - t0;
        }
        printf("openblas sgemm %4dx%4dx%4d %7.2f ms %6.1f GFLOP/s\n", T, N, K, median(t, RUNS),
               flops / (median(t, RUNS) * 1e6));
#endif
        uint16_t *h = malloc((size_t)N * K * 2);
        for (size_t i = 0; i < (size_t)N * K; i++) {
            float v = w[i];
            h[i] = (uint16_t)(v == 0 ? 0 : 0x3000 + ((uint32_t)(fabsf(v) * 1023) & 0x3ff) + (v < 0 ? 0x8000 : 0));
        }
        whisper_matrix mats[2] = {{w, WHISPER_DTYPE_F32, N, K, NULL}, {h, WHISPER_DTYPE_F16, N, K, NULL}};
        for (int m = 0; m < 2; m++) {
            for (int r = 0; r < RUNS; r++) {
                double t0 = clock_now_ms();
                whisper_linear(pool, y, x, T, &mats[m], NULL);
                t[r] = clock_now_ms() - t0;
            }
            printf("whisper_linear %s %4dx%4dx%4d %7.2f ms %6.1f GFLOP/s\n", m ? "f16" : "f32", T, N, K,
                   median(t, RUNS), flops / (median(t, RUNS) * 1e6));
        }
        free(x), free(w), free(y), free(h);
    }

    /* decoder GEMV: the vocabulary projection 51865 × d */
    {
        int N = 51865, K = d;
        float *x = randoms((size_t)K, 5), *w = randoms((size_t)N * K, 6), *y = malloc((size_t)N * sizeof *y);
        uint16_t *h = malloc((size_t)N * K * 2);
        for (size_t i = 0; i < (size_t)N * K; i++) h[i] = 0x3000 + (uint16_t)(i & 0x3ff);
        whisper_q8_matrix q;
        whisper_matrix wf = {w, WHISPER_DTYPE_F32, N, K, NULL}, wh = {h, WHISPER_DTYPE_F16, N, K, NULL};
        if (whisper_q8_quantize(&wf, pool, &q) != 0) return 1;
        const whisper_matrix *ms[3] = {&wf, &wh, &q.m};
        const char *names[3] = {"f32", "f16", "q8"};
        for (int m = 0; m < 3; m++) {
            for (int r = 0; r < RUNS; r++) {
                double t0 = clock_now_ms();
                whisper_linear(pool, y, x, 1, ms[m], NULL);
                t[r] = clock_now_ms() - t0;
            }
            double bytes = (double)whisper_matrix_bytes(ms[m]);
            printf("gemv %s %5dx%4d      %7.3f ms %6.1f GB/s\n", names[m], N, K, median(t, RUNS),
                   bytes / (median(t, RUNS) * 1e6));
        }
        whisper_q8_matrix_clear(&q);
        free(x), free(w), free(y), free(h);
    }

    /* encoder attention: 1500 × 1500, d_head 64 */
    {
        int H = d / 64;
        float *q = randoms((size_t)T * d, 7), *k = randoms((size_t)T * d, 8), *v = randoms((size_t)T * d, 9);
        float *o = malloc((size_t)T * d * sizeof *o), *scratch = malloc((size_t)threads * T * sizeof *scratch);
        whisper_attention_args a = {q, k, v, o, d, d, d, d, T, T, H, 64, 0, 0};
        for (int r = 0; r < RUNS; r++) {
            double t0 = clock_now_ms();
            whisper_attention(pool, &a, scratch);
            t[r] = clock_now_ms() - t0;
        }
        double flops = 4.0 * T * T * d;
        printf("attention %dx%d x %d heads %7.2f ms %6.1f GFLOP/s\n", T, T, H, median(t, RUNS),
               flops / (median(t, RUNS) * 1e6));
        whisper_attention_args a1 = {q, k, v, o, d, d, d, d, 1, T, H, 64, 0, 0};
        for (int r = 0; r < RUNS; r++) {
            double t0 = clock_now_ms();
            for (int i = 0; i < 10; i++) whisper_attention(pool, &a1, scratch);
            t[r] = (clock_now_ms() - t0) / 10;
        }
        printf("attention 1x%d (decoder cross) %7.3f ms %6.1f GB/s\n", T, median(t, RUNS),
               2.0 * T * d * 4 / (median(t, RUNS) * 1e6));
        free(q), free(k), free(v), free(o), free(scratch);
    }
    threadpool_free(pool);
    return 0;
}
