/* test_whisper_kernels.c — the numeric kernels against plain double-precision
 * references: fp16/bf16 conversion, linear layers for fp32/fp16/bf16 weights on
 * the portable and AVX2 variants (odd sizes hit every tail), threaded vs not,
 * layer norm, GELU, softmax and causal / full attention. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cpu.h"
#include "base/threadpool.h"
#include "check.h"
#include "whisper/kernels.h"
#include "whisper/kernels_impl.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static float frand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((double)(rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

/* round-to-nearest-even fp32 → fp16 / bf16 bit patterns (test-side, normal range) */
static uint16_t to_bf16(float f) {
    uint32_t b;
    memcpy(&b, &f, 4);
    b += 0x7fff + ((b >> 16) & 1);
    return (uint16_t)(b >> 16);
}

static void test_conversion(void) {
    CHECK(whisper_fp16_to_fp32(0x3c00) == 1.0f, "fp16 1.0");
    CHECK(whisper_fp16_to_fp32(0xc000) == -2.0f, "fp16 -2.0");
    CHECK(whisper_fp16_to_fp32(0x7bff) == 65504.0f, "fp16 max");
    CHECK(whisper_fp16_to_fp32(0x0001) == ldexpf(1.0f, -24), "fp16 smallest subnormal");
    CHECK(whisper_fp16_to_fp32(0x03ff) == ldexpf(1023.0f, -24), "fp16 largest subnormal");
    CHECK(isinf(whisper_fp16_to_fp32(0x7c00)) && whisper_fp16_to_fp32(0xfc00) < 0, "fp16 inf");
    CHECK(isnan(whisper_fp16_to_fp32(0x7e00)), "fp16 nan");
    CHECK(whisper_fp16_to_fp32(0x8000) == 0.0f && signbit(whisper_fp16_to_fp32(0x8000)), "fp16 -0");
    CHECK(whisper_bf16_to_fp32(0x3f80) == 1.0f && whisper_bf16_to_fp32(0xc040) == -3.0f, "bf16");
    /* every fp16 value round-trips through the exact formula */
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        uint32_t e = (h >> 10) & 31, m = h & 1023;
        if (e == 31) continue;
        double v = e ? ldexp(1.0 + m / 1024.0, (int)e - 15) : ldexp(m / 1024.0, -14);
        if (h & 0x8000) v = -v;
        if ((double)whisper_fp16_to_fp32((uint16_t)h) != v) bad++;
    }
    CHECK(bad == 0, "all finite fp16 values exact (%d wrong)", bad);
}

/* A weight matrix in dtype with values w (as stored: w is what the dtype holds). */
typedef struct {
    whisper_matrix m;
    float *exact; /* the stored values as fp32 */
    void *data;
} test_matrix;

static test_matrix make_matrix(int rows, int cols, whisper_dtype dt) {
    test_matrix t;
    size_t n = (size_t)rows * cols;
    t.exact = malloc(n * sizeof(float));
    t.data = malloc(n * whisper_dtype_size(dt));
    for (size_t i = 0; i < n; i++) {
        float v = frand();
        if (dt == WHISPER_DTYPE_F32) {
            ((float *)t.data)[i] = v;
            t.exact[i] = v;
        } else if (dt == WHISPER_DTYPE_BF16) {
            uint16_t b = to_bf16(v);
            ((uint16_t *)t.data)[i] = b;
            t.exact[i] = whisper_bf16_to_fp32(b);
        } else {
            /* pick an fp16 pattern directly: sign, exponent 10..16, random mantissa */
            uint16_t h = (uint16_t)(((rng >> 20) & 1) << 15 | (10 + (rng >> 30) % 7) << 10 | ((rng >> 40) & 1023));
            (void)frand();
            ((uint16_t *)t.data)[i] = h;
            t.exact[i] = whisper_fp16_to_fp32(h);
        }
    }
    t.m.data = t.data;
    t.m.dtype = dt;
    t.m.rows = rows;
    t.m.cols = cols;
    return t;
}

static void test_linear(void) {
    const int sizes[][3] = {{1, 1, 1}, {1, 67, 19}, {7, 67, 19}, {5, 8, 16}, {70, 130, 33}, {3, 256, 64}};
    threadpool *pool = threadpool_new(3);
    cpu_features cf = cpu_features_get();
    for (int dt = 0; dt < 3; dt++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            int M = sizes[s][0], K = sizes[s][1], N = sizes[s][2];
            test_matrix w = make_matrix(N, K, (whisper_dtype)dt);
            float *x = malloc((size_t)M * K * sizeof *x), *b = malloc((size_t)N * sizeof *b);
            float *y = malloc((size_t)M * N * sizeof *y), *y2 = malloc((size_t)M * N * sizeof *y2);
            double *ref = malloc((size_t)M * N * sizeof *ref);
            for (int i = 0; i < M * K; i++) x[i] = frand();
            for (int i = 0; i < N; i++) b[i] = frand();
            double scale = 1.0;
            for (int m = 0; m < M; m++)
                for (int n = 0; n < N; n++) {
                    double acc = b[n];
                    for (int k = 0; k < K; k++) acc += (double)x[m * K + k] * w.exact[(size_t)n * K + k];
                    ref[m * N + n] = acc;
                    if (fabs(acc) > scale) scale = fabs(acc);
                }
            double tol = 1e-5 * scale * sqrt((double)K);
            const whisper_kernel_variant *vars[2] = {&whisper_kernels_portable, NULL};
#ifdef WHISPER_HAVE_AVX2_VARIANT
            if (cf.avx2) vars[1] = &whisper_kernels_avx2;
#endif
            for (int v = 0; v < 2; v++) {
                if (!vars[v]) continue;
                vars[v]->linear_tile(y, N, x, K, 0, M, &w.m, 0, N, b);
                double worst = 0;
                for (int i = 0; i < M * N; i++) worst = fmax(worst, fabs(y[i] - ref[i]));
                CHECK(worst <= tol, "%s linear dtype %d %dx%dx%d: error %g > %g", vars[v]->name, dt, M, K, N, worst, tol);
            }
            whisper_linear(NULL, y, x, M, &w.m, b);
            whisper_linear(pool, y2, x, M, &w.m, b);
            CHECK(memcmp(y, y2, (size_t)M * N * sizeof *y) == 0, "threaded linear equals single-threaded (dtype %d)", dt);
            whisper_linear(pool, y2, x, M, &w.m, NULL);
            double worst = 0;
            for (int m = 0; m < M; m++)
                for (int n = 0; n < N; n++) worst = fmax(worst, fabs(y2[m * N + n] - (ref[m * N + n] - b[n])));
            CHECK(worst <= tol, "linear without bias: %g", worst);
            /* row access converts exactly */
            float *row = malloc((size_t)K * sizeof *row);
            whisper_matrix_row(&w.m, N - 1, row);
            CHECK(memcmp(row, w.exact + (size_t)(N - 1) * K, (size_t)K * sizeof *row) == 0, "matrix row dtype %d", dt);
            free(row);
            free(x), free(b), free(y), free(y2), free(ref), free(w.exact), free(w.data);
        }
    threadpool_free(pool);
}

static void test_pointwise(void) {
    float g[5] = {-3.0f, -1.0f, 0.0f, 0.5f, 2.0f};
    whisper_gelu(NULL, g, 5);
    const double want[5] = {-0.00404969631, -0.158655254, 0.0, 0.345731116, 1.95449974};
    for (int i = 0; i < 5; i++) CHECK_NEAR(g[i], want[i], 1e-6, "gelu (erf form)");

    float s[4] = {1.0f, 2.0f, -INFINITY, 3.0f};
    whisper_softmax(s, 4);
    double z = exp(1) + exp(2) + exp(3);
    CHECK_NEAR(s[0], exp(1) / z, 1e-6, "softmax 0");
    CHECK(s[2] == 0.0f, "softmax of -inf is 0");
    CHECK_NEAR(s[0] + s[1] + s[2] + s[3], 1.0, 1e-6, "softmax sums to 1");

    enum { R = 40, C = 96 };
    float x[R * C], y[R * C], gn[C], bn[C];
    for (int i = 0; i < R * C; i++) x[i] = frand() * 3 + 1;
    for (int i = 0; i < C; i++) gn[i] = 1 + frand() * 0.1f, bn[i] = frand() * 0.1f;
    threadpool *pool = threadpool_new(2);
    whisper_layer_norm(pool, y, x, R, C, gn, bn, 1e-5f);
    double worst = 0;
    for (int r = 0; r < R; r++) {
        double mean = 0, var = 0;
        for (int i = 0; i < C; i++) mean += x[r * C + i];
        mean /= C;
        for (int i = 0; i < C; i++) var += (x[r * C + i] - mean) * (x[r * C + i] - mean);
        var /= C;
        for (int i = 0; i < C; i++)
            worst = fmax(worst, fabs(y[r * C + i] - ((x[r * C + i] - mean) / sqrt(var + 1e-5) * gn[i] + bn[i])));
    }
    CHECK(worst < 1e-5, "layer norm: %g", worst);
    threadpool_free(pool);
}

static void test_attention(void) {
    enum { NQ = 5, NKV = 37, H = 3, DH = 16, D = H * DH };
    float q[NQ * D], k[NKV * D], v[NKV * D], out[NQ * D], scratch[4 * NKV];
    for (int i = 0; i < NQ * D; i++) q[i] = frand();
    for (int i = 0; i < NKV * D; i++) k[i] = frand(), v[i] = frand();
    for (int causal = 0; causal < 2; causal++) {
        whisper_attention_args a = {q, k, v, out, D, D, D, D, NQ, NKV, H, DH, causal};
        whisper_attention(NULL, &a, scratch);
        double worst = 0;
        for (int h = 0; h < H; h++)
            for (int i = 0; i < NQ; i++) {
                int n = causal ? NKV - NQ + i + 1 : NKV;
                double w[NKV], mx = -1e300, z = 0;
                for (int t = 0; t < n; t++) {
                    double s = 0;
                    for (int d = 0; d < DH; d++) s += (double)q[i * D + h * DH + d] * k[t * D + h * DH + d];
                    w[t] = s / sqrt((double)DH);
                    mx = fmax(mx, w[t]);
                }
                for (int t = 0; t < n; t++) z += (w[t] = exp(w[t] - mx));
                for (int d = 0; d < DH; d++) {
                    double o = 0;
                    for (int t = 0; t < n; t++) o += w[t] / z * v[t * D + h * DH + d];
                    worst = fmax(worst, fabs(o - out[i * D + h * DH + d]));
                }
            }
        CHECK(worst < 1e-5, "attention (causal %d): %g", causal, worst);
    }
}

int main(void) {
    printf("kernel path: %s\n", whisper_kernels_path());
    test_conversion();
    test_linear();
    test_pointwise();
    test_attention();
    return check_summary();
}
