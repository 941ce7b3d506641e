/* test_whisper_kernels.c — the numeric kernels against plain double-precision
 * references: fp16/bf16 conversion, linear layers for fp32/fp16/bf16/q8 weights
 * (q8 against its own dequantised values) on every variant this CPU runs
 * (portable, AVX2, AVX-512) — the few-rows tile, the GEMV, the q8 GEMV on
 * quantised activations and that quantisation, several layers of one input in
 * one pass, the GEMM micro-kernel with packed panels, and
 * whisper_linear / whisper_linear_gelu through all three shapes (odd sizes hit
 * every tail, K and N span several blocks) —, threaded vs not, q8 quantisation
 * error bounds, layer norm, GELU and exp (vector approximations vs libm),
 * softmax, causal / full / blocked attention (fp32 and 16-bit keys/values), the
 * attention kernels of every variant against the portable ones, a decoder
 * step's attention fused with its projections per head, and
 * the q8 vocabulary projection with exact top entries on near-tied rows. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cpu.h"
#include "base/error.h"
#include "base/floats.h"
#include "base/threadpool.h"
#include "check.h"
#include "whisper/kernels.h"
#include "whisper/kernels_impl.h"
#include "whisper/quant.h"

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

static test_matrix make_matrix_float(int rows, int cols, whisper_dtype dt);

/* q8: quantised from random fp32 values; exact holds the dequantised values. */
static test_matrix make_matrix(int rows, int cols, whisper_dtype dt) {
    if (dt != WHISPER_DTYPE_Q8) return make_matrix_float(rows, cols, dt);
    test_matrix f = make_matrix_float(rows, cols, WHISPER_DTYPE_F32), t;
    whisper_q8_matrix q;
    CHECK(whisper_q8_quantize(&f.m, NULL, &q) == 0, "q8 quantize");
    t.m = q.m;
    t.exact = f.exact;
    /* one allocation for the test to free: values then scales */
    size_t nv = whisper_q8_values_bytes(rows, cols), ns = whisper_q8_scales_count(rows, cols);
    char *buf = malloc(nv + ns * sizeof(uint16_t) + 16);
    uint16_t *sc = (uint16_t *)(buf + (nv + 15) / 16 * 16);
    memcpy(buf, q.q, nv);
    memcpy(sc, q.scales, ns * sizeof(uint16_t));
    t.m.data = buf;
    t.m.scales = sc;
    t.data = buf;
    whisper_q8_matrix_clear(&q);
    /* the quantisation error is at most half a step of each block's scale */
    double worst = 0;
    int nb = (cols + WHISPER_Q8_BLOCK - 1) / WHISPER_Q8_BLOCK;
    for (int r = 0; r < rows; r++)
        for (int k = 0; k < cols; k++) {
            float deq = whisper_q8_get(&t.m, r, k);
            double step = whisper_fp16_to_fp32(sc[(size_t)r * nb + k / WHISPER_Q8_BLOCK]);
            worst = fmax(worst, fabs(deq - f.exact[(size_t)r * cols + k]) / (0.5 * step + 1e-30));
            t.exact[(size_t)r * cols + k] = deq;
        }
    CHECK(worst <= 1.0001, "q8 error within half a step (%g steps)", worst / 2);
    free(f.data);
    return t;
}

static test_matrix make_matrix_float(int rows, int cols, whisper_dtype dt) {
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

/* x replaced by its q8 quantisation's values (whisper_q8_quantize_row), which quantise to themselves. */
static void quantized_values(float *x, int K) {
    int8_t *q = malloc((size_t)K);
    float *d = malloc(sizeof(float) * (size_t)(K / WHISPER_Q8_BLOCK + 1));
    whisper_q8_quantize_row(x, K, q, d);
    for (int k = 0; k < K; k++) x[k] = (float)q[k] * d[k / WHISPER_Q8_BLOCK];
    free(q), free(d);
}

static void test_linear(void) {
    const int sizes[][3] = {{1, 1, 1},     {1, 67, 19},   {7, 67, 19},  {5, 8, 16},  {70, 130, 33},
                            {3, 256, 64},  {1, 300, 141}, {16, 40, 17}, {37, 517, 150}, {61, 96, 300}};
    threadpool *pool = threadpool_new(3);
    const whisper_kernel_variant *vars[3];
    int n_vars = whisper_kernels_runnable(vars);
    for (int dt = 0; dt < 4; dt++)
        for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
            int M = sizes[s][0], K = sizes[s][1], N = sizes[s][2];
            test_matrix w = make_matrix(N, K, (whisper_dtype)dt);
            float *x = malloc((size_t)M * K * sizeof *x), *b = malloc((size_t)N * sizeof *b);
            float *y = malloc((size_t)M * N * sizeof *y), *y2 = malloc((size_t)M * N * sizeof *y2);
            double *ref = malloc((size_t)M * N * sizeof *ref);
            for (int i = 0; i < M * K; i++) x[i] = frand();
            if (dt == WHISPER_DTYPE_Q8 && M == 1) quantized_values(x, K); /* the GEMV quantises x: test_gemv_q8 */
            for (int i = 0; i < N; i++) b[i] = frand();
            double scale = 1.0;
            for (int m = 0; m < M; m++)
                for (int n = 0; n < N; n++) {
                    double acc = b[n];
                    for (int k = 0; k < K; k++) acc += (double)x[m * K + k] * w.exact[(size_t)n * K + k];
                    ref[m * N + n] = acc;
                    if (fabs(acc) > scale) scale = fabs(acc);
                }
            double tol = 1e-5 * scale * sqrt((double)K), worst;
            for (int v = 0; v < n_vars; v++) {
                /* few-rows tile */
                vars[v]->linear_tile(y, N, x, K, 0, M, &w.m, 0, N, b);
                worst = 0;
                for (int i = 0; i < M * N; i++) worst = fmax(worst, fabs(y[i] - ref[i]));
                CHECK(worst <= tol, "%s linear dtype %d %dx%dx%d: error %g > %g", vars[v]->name, dt, M, K, N, worst, tol);
                /* GEMV of the first row, in two row ranges (q8: test_gemv_q8) */
                int half = N / 2;
                if (dt != WHISPER_DTYPE_Q8) {
                    vars[v]->gemv(y, x, &w.m, 0, half);
                    vars[v]->gemv(y + half, x, &w.m, half, N);
                    worst = 0;
                    for (int n = 0; n < N; n++) worst = fmax(worst, fabs(y[n] + b[n] - ref[n]));
                    CHECK(worst <= tol, "%s gemv dtype %d %dx%d: error %g", vars[v]->name, dt, K, N, worst);
                }
                /* packed panels + micro-tiles, K split in two slices */
                const int MR = WHISPER_GEMM_MR, NR = WHISPER_GEMM_NR;
                int k_split = K > 8 ? K / 2 : K;
                float *pan = aligned_alloc(64, (size_t)((K + NR) * NR * sizeof(float) + 63) / 64 * 64);
                for (int n0 = 0; n0 < N; n0 += NR) {
                    int nr = N - n0 < NR ? N - n0 : NR;
                    for (int k0 = 0; k0 < K; k0 += k_split) {
                        int kc = K - k0 < k_split ? K - k0 : k_split;
                        vars[v]->pack_panel(pan, &w.m, n0, nr, k0, kc);
                        for (int j = nr; j < NR; j++) CHECK(pan[(size_t)(kc - 1) * NR + j] == 0.0f, "panel padding");
                        for (int m = 0; m < M; m += MR) {
                            int mr = M - m < MR ? M - m : MR;
                            vars[v]->gemm_tile(y + (size_t)m * N + n0, N, x + (size_t)m * K + k0, K, pan, kc, mr, nr,
                                               k0 > 0);
                        }
                    }
                }
                free(pan);
                worst = 0;
                for (int m = 0; m < M; m++)
                    for (int n = 0; n < N; n++) worst = fmax(worst, fabs(y[m * N + n] + b[n] - ref[m * N + n]));
                CHECK(worst <= tol, "%s gemm tiles dtype %d %dx%dx%d: error %g", vars[v]->name, dt, M, K, N, worst);
            }
            whisper_linear(NULL, y, x, M, &w.m, b);
            worst = 0;
            for (int i = 0; i < M * N; i++) worst = fmax(worst, fabs(y[i] - ref[i]));
            CHECK(worst <= tol, "whisper_linear dtype %d %dx%dx%d: error %g > %g", dt, M, K, N, worst, tol);
            whisper_linear(pool, y2, x, M, &w.m, b);
            CHECK(memcmp(y, y2, (size_t)M * N * sizeof *y) == 0, "threaded linear equals single-threaded (dtype %d)", dt);
            whisper_linear(pool, y2, x, M, &w.m, NULL);
            worst = 0;
            for (int m = 0; m < M; m++)
                for (int n = 0; n < N; n++) worst = fmax(worst, fabs(y2[m * N + n] - (ref[m * N + n] - b[n])));
            CHECK(worst <= tol, "linear without bias: %g", worst);
            whisper_linear_gelu(pool, y2, x, M, &w.m, b);
            worst = 0;
            for (int i = 0; i < M * N; i++) {
                double g = 0.5 * ref[i] * (1.0 + erf(ref[i] / sqrt(2.0)));
                worst = fmax(worst, fabs(y2[i] - g));
            }
            CHECK(worst <= tol + 1e-6 * scale, "linear + GELU dtype %d %dx%dx%d: error %g", dt, M, K, N, worst);
            /* row access converts exactly */
            float *row = malloc((size_t)K * sizeof *row);
            whisper_matrix_row(&w.m, N - 1, row);
            CHECK(memcmp(row, w.exact + (size_t)(N - 1) * K, (size_t)K * sizeof *row) == 0, "matrix row dtype %d", dt);
            free(row);
            free(x), free(b), free(y), free(y2), free(ref), free(w.exact), free(w.data);
        }
    threadpool_free(pool);
}

/* The q8 GEMV against activations quantised per block: every variant's
 * gemv_q8 against a double reference of the quantised activations times the
 * stored weights (integer block sums are exact, so only fp32 scaling and
 * summation differ), every variant against the portable one, and
 * whisper_linear of one row — which quantises x itself — against the same
 * reference and, within the bound of quant.h, against fp32 activations. */
static void test_gemv_q8(void) {
    const int sizes[][2] = {{1, 5}, {31, 7}, {64, 4}, {96, 13}, {200, 9}, {384, 37}, {512, 66}, {1536, 21}};
    const whisper_kernel_variant *vars[3];
    int n_vars = whisper_kernels_runnable(vars);
    threadpool *pool = threadpool_new(2);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int K = sizes[s][0], N = sizes[s][1], nb = (K + WHISPER_Q8_BLOCK - 1) / WHISPER_Q8_BLOCK;
        test_matrix w = make_matrix(N, K, WHISPER_DTYPE_Q8);
        float *x = malloc(sizeof(float) * K), *xd = malloc(sizeof(float) * nb), *y = malloc(sizeof(float) * N);
        float *y0 = malloc(sizeof(float) * N);
        int8_t *xq = malloc((size_t)K);
        double *ref = malloc(sizeof(double) * N), *ref_f = malloc(sizeof(double) * N);
        for (int k = 0; k < K; k++) x[k] = frand() * (k % 7 == 3 ? 4.0f : 1.0f);
        if (K > 40) x[40] = 0.0f;
        whisper_q8_quantize_row(x, K, xq, xd);
        double scale = 1.0;
        for (int n = 0; n < N; n++) {
            double a = 0, f = 0;
            for (int k = 0; k < K; k++) {
                a += (double)xq[k] * xd[k / WHISPER_Q8_BLOCK] * w.exact[(size_t)n * K + k];
                f += (double)x[k] * w.exact[(size_t)n * K + k];
            }
            ref[n] = a, ref_f[n] = f;
            scale = fmax(scale, fabs(a));
        }
        double tol = 1e-5 * scale * sqrt((double)K);
        for (int v = 0; v < n_vars; v++) {
            int half = N / 2;
            vars[v]->gemv_q8(y, xq, xd, &w.m, 0, half);
            vars[v]->gemv_q8(y + half, xq, xd, &w.m, half, N);
            double worst = 0, diff = 0;
            for (int n = 0; n < N; n++) worst = fmax(worst, fabs(y[n] - ref[n]));
            CHECK(worst <= tol, "%s gemv_q8 %dx%d: error %g > %g", vars[v]->name, K, N, worst, tol);
            if (v == 0) memcpy(y0, y, sizeof(float) * N);
            for (int n = 0; n < N; n++) diff = fmax(diff, fabs(y[n] - y0[n]));
            CHECK(diff <= tol, "%s gemv_q8 %dx%d vs portable: %g", vars[v]->name, K, N, diff);
        }
        whisper_linear(pool, y, x, 1, &w.m, NULL);
        double worst = 0, outside = 0;
        for (int n = 0; n < N; n++) {
            worst = fmax(worst, fabs(y[n] - ref[n]));
            /* the activations' share of quant.h's bound: |e|·|ŵ| ≤ xd/2 · Σ|ŵ| per block */
            double bound = 0;
            for (int k = 0; k < K; k++) bound += 0.5 * xd[k / WHISPER_Q8_BLOCK] * fabs(w.exact[(size_t)n * K + k]);
            outside += fabs(y[n] - ref_f[n]) > bound * 1.001 + tol;
        }
        CHECK(worst <= tol, "whisper_linear q8 one row %dx%d: error %g vs quantised activations", K, N, worst);
        CHECK(outside == 0, "whisper_linear q8 one row %dx%d: %g entries outside the activation error bound", K, N,
              outside);
        free(x), free(xd), free(y), free(y0), free(xq), free(ref), free(ref_f), free(w.exact), free(w.data);
    }
    threadpool_free(pool);
}

/* Several layers of one input (Q, K, V): whisper_linear_multi gives exactly
 * whisper_linear's values for each, with mixed q8 / fp16 weights, on one row
 * (one pass over the pool) and on three, threaded or not. */
static void test_linear_multi(void) {
    enum { K = 200, R = 3 };
    const int rows[3] = {70, 129, 64};
    const whisper_dtype dts[3] = {WHISPER_DTYPE_Q8, WHISPER_DTYPE_F16, WHISPER_DTYPE_Q8};
    test_matrix w[3];
    float x[R * K], bias[129], *y[3], *ref[3];
    for (int i = 0; i < R * K; i++) x[i] = frand();
    for (int i = 0; i < 129; i++) bias[i] = frand();
    whisper_linear_out outs[3];
    for (int i = 0; i < 3; i++) {
        w[i] = make_matrix(rows[i], K, dts[i]);
        y[i] = malloc(sizeof(float) * R * rows[i]);
        ref[i] = malloc(sizeof(float) * R * rows[i]);
        outs[i] = (whisper_linear_out){y[i], &w[i].m, i == 1 ? NULL : bias};
    }
    threadpool *pool = threadpool_new(2);
    for (int t = 0; t < 4; t++) {
        threadpool *p = t & 1 ? pool : NULL;
        int n_rows = t < 2 ? 1 : R;
        for (int i = 0; i < 3; i++) whisper_linear(p, ref[i], x, n_rows, &w[i].m, outs[i].b);
        whisper_linear_multi(p, x, n_rows, outs, 3);
        for (int i = 0; i < 3; i++)
            CHECK(memcmp(y[i], ref[i], sizeof(float) * n_rows * rows[i]) == 0,
                  "linear_multi layer %d, %d rows%s: whisper_linear's values", i, n_rows, p ? ", threaded" : "");
    }
    threadpool_free(pool);
    for (int i = 0; i < 3; i++) free(y[i]), free(ref[i]), free(w[i].exact), free(w[i].data);
}

/* A decoder step's attention with its projections per head
 * (whisper_attention_step) gives exactly the values of whisper_linear and
 * whisper_attention: self-attention (Q, K, V; the new cache row written) over
 * fp32 caches and cross-attention (Q only) over 16-bit keys/values, with q8 and
 * fp16 weights, threaded or not. */
static void test_attention_step(void) {
    enum { H = 3, DH = 64, D = H * DH, T = 150 };
    threadpool *pool = threadpool_new(2);
    float x[D], bias[3][D];
    for (int i = 0; i < D; i++) x[i] = frand(), bias[0][i] = frand(), bias[1][i] = frand(), bias[2][i] = frand();
    float *kc = malloc(sizeof(float) * 2 * T * D), *vc = kc + T * D, *kc2 = malloc(sizeof(float) * 2 * T * D);
    float *vc2 = kc2 + T * D, *scratch = malloc(sizeof(float) * 2 * T);
    int16_t *k16 = malloc(sizeof(int16_t) * 2 * T * D), *k16h = k16 + T * D;
    uint16_t *v16 = malloc(sizeof(uint16_t) * 2 * T * D), *v16h = v16 + T * D;
    float *ks = malloc(sizeof(float) * 2 * T * H), *ksh = ks + T * H, *kf = malloc(sizeof(float) * T * D);
    float *kh = malloc(sizeof(float) * 2 * T * D), *vh = kh + T * D;
    for (int i = 0; i < 2 * T * D; i++) kc[i] = frand();
    for (int i = 0; i < T * D; i++) kf[i] = frand() * 20.0f; /* keys up to 20, as the rsLoRA fixture's */
    whisper_keys_quantize(k16, ks, kf, T * H, DH);       /* rows of DH: key t of head h is row t·H + h */
    for (int i = 0; i < T * D; i++) { /* fp16 patterns of magnitude 1/8 … 1 */
        v16[i] = (uint16_t)(((rng >> 20) & 1) << 15 | (12 + (rng >> 30) % 3) << 10 | ((rng >> 40) & 1023));
        (void)frand();
    }
    whisper_kv16 kv = {k16, ks, v16}, kvh = {k16h, ksh, v16h};
    for (int dt = 0; dt < 2; dt++)
        for (int t = 0; t < 2; t++) {
            threadpool *p = t ? pool : NULL;
            test_matrix w[3];
            for (int i = 0; i < 3; i++) w[i] = make_matrix(D, D, dt ? WHISPER_DTYPE_F16 : WHISPER_DTYPE_Q8);
            float q[D], out[D], q_ref[D], out_ref[D];
            int pos = T - 1;
            /* self-attention at position pos */
            memcpy(kc2, kc, sizeof(float) * 2 * T * D);
            whisper_linear(p, q_ref, x, 1, &w[0].m, bias[0]);
            whisper_linear(p, kc2 + (size_t)pos * D, x, 1, &w[1].m, bias[1]);
            whisper_linear(p, vc2 + (size_t)pos * D, x, 1, &w[2].m, bias[2]);
            whisper_attention_args ref = {q_ref, kc2, vc2, out_ref, D, D, D, D, 1, T, H, DH, 1, 0};
            whisper_attention(p, &ref, scratch);
            whisper_step_proj sp = {&w[0].m, &w[1].m, &w[2].m, bias[0], bias[1], bias[2], q,
                                    kc + (size_t)pos * D, vc + (size_t)pos * D};
            whisper_attention_args a = {q, kc, vc, out, D, D, D, D, 1, T, H, DH, 1, 0};
            CHECK(whisper_attention_step(p, x, &sp, &a, NULL, scratch) == 0, "attention step runs");
            CHECK(memcmp(q, q_ref, sizeof q) == 0 && memcmp(out, out_ref, sizeof out) == 0 &&
                      memcmp(kc, kc2, sizeof(float) * 2 * T * D) == 0,
                  "self-attention step (%s weights%s) equals linear + attention", dt ? "fp16" : "q8",
                  p ? ", threaded" : "");
            /* cross-attention over 16-bit keys and values */
            whisper_linear(p, q_ref, x, 1, &w[0].m, NULL);
            whisper_attention_args cref = {q_ref, NULL, NULL, out_ref, D, D, D, D, 1, T, H, DH, 0, 0};
            whisper_attention_kv16(p, &cref, &kv, scratch);
            whisper_step_proj cp = {&w[0].m, NULL, NULL, NULL, NULL, NULL, q, NULL, NULL};
            whisper_attention_args ca = {q, NULL, NULL, out, D, D, D, D, 1, T, H, DH, 0, 0};
            CHECK(whisper_attention_step(p, x, &cp, &ca, &kv, scratch) == 0, "cross step runs");
            CHECK(memcmp(q, q_ref, sizeof q) == 0 && memcmp(out, out_ref, sizeof out) == 0,
                  "cross-attention step (%s weights%s) equals linear + attention", dt ? "fp16" : "q8",
                  p ? ", threaded" : "");
            /* the same keys and values laid out head by head ([head][key][d_head]) */
            for (int h = 0; h < H; h++)
                for (int t2 = 0; t2 < T; t2++) {
                    ksh[h * T + t2] = ks[t2 * H + h];
                    for (int i = 0; i < DH; i++) {
                        k16h[((size_t)h * T + t2) * DH + i] = k16[(size_t)t2 * D + h * DH + i];
                        v16h[((size_t)h * T + t2) * DH + i] = v16[(size_t)t2 * D + h * DH + i];
                        kh[((size_t)h * T + t2) * DH + i] = kc[(size_t)t2 * D + h * DH + i];
                        vh[((size_t)h * T + t2) * DH + i] = vc[(size_t)t2 * D + h * DH + i];
                    }
                }
            whisper_attention_args hm = {q, NULL, NULL, out, D, DH, DH, D, 1, T, H, DH, 0, (size_t)T * DH};
            CHECK(whisper_attention_step(p, x, &cp, &hm, &kvh, scratch) == 0 && memcmp(out, out_ref, sizeof out) == 0,
                  "cross-attention step over head-major 16-bit keys/values%s", p ? ", threaded" : "");
            whisper_attention_args rows = {q_ref, kc, vc, out_ref, D, D, D, D, 1, T, H, DH, 0, 0};
            whisper_attention(p, &rows, scratch);
            hm.k = kh, hm.v = vh;
            whisper_attention(p, &hm, scratch);
            CHECK(memcmp(out, out_ref, sizeof out) == 0, "attention over head-major fp32 keys/values%s",
                  p ? ", threaded" : "");
            for (int i = 0; i < 3; i++) free(w[i].exact), free(w[i].data);
        }
    free(kc), free(kc2), free(k16), free(v16), free(ks), free(kf), free(kh), free(scratch);
    threadpool_free(pool);
}

/* Per-block quantisation of an activation row: every variant writes the
 * portable rule's bytes and scales (odd lengths, an all-zero block, values on
 * the rounding half-way points and at ±max), and the rule holds. */
static void test_q8_quantize(void) {
    const int sizes[] = {1, 7, 31, 32, 33, 96, 200, 384, 1031};
    const whisper_kernel_variant *vars[3];
    int n_vars = whisper_kernels_runnable(vars);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int K = sizes[s], nb = (K + WHISPER_Q8_BLOCK - 1) / WHISPER_Q8_BLOCK;
        float *x = malloc(sizeof(float) * K), *d0 = malloc(sizeof(float) * nb), *d = malloc(sizeof(float) * nb);
        int8_t *q0 = malloc((size_t)K), *q = malloc((size_t)K);
        for (int k = 0; k < K; k++) x[k] = frand() * (k % 5 == 1 ? 30.0f : 1.0f);
        for (int k = 32; k < 64 && k < K; k++) x[k] = 0.0f;          /* an all-zero block */
        for (int k = 64; k < 96 && k < K; k++) x[k] = (float)(k - 80) + 0.5f; /* max 15.5: 127/15.5 · (j+0.5) */
        if (K > 100) x[100] = -x[101] * 1000.0f;                     /* a block's max negative */
        vars[0]->q8_quantize(x, K, q0, d0);
        for (int k = 0; k < K; k++) {
            float sc = d0[k / WHISPER_Q8_BLOCK], amax = sc * 127.0f;
            CHECK(q0[k] >= -127 && fabsf(x[k] - q0[k] * sc) <= 0.5001f * sc + 1e-6f * amax,
                  "portable q8 quantisation of x[%d] = %g: %d · %g", k, x[k], q0[k], sc);
        }
        for (int v = 1; v < n_vars; v++) {
            vars[v]->q8_quantize(x, K, q, d);
            CHECK(memcmp(q, q0, (size_t)K) == 0 && memcmp(d, d0, sizeof(float) * nb) == 0,
                  "%s q8 quantisation of %d values equals the portable one", vars[v]->name, K);
        }
        free(x), free(d0), free(d), free(q0), free(q);
    }
}

/* Weights quantised at load: fp16 scales (max|w| / 127 rounded to nearest), every
 * element within half a step — also in blocks whose scale rounds down, where
 * the largest value lands just past 127 steps — and a matrix q8 cannot
 * represent (a scale beyond fp16, a NaN) refused. */
static void test_q8_weights(void) {
    enum { R = 6, K = 96 };
    static float w[R * K];
    for (int i = 0; i < R * K; i++) w[i] = frand();
    /* rows 0-1: block maxima m for which fp16(m / 127) < m / 127, so |w| / scale > 127 */
    for (int r = 0; r < 2; r++)
        for (int b = 0; b < K / WHISPER_Q8_BLOCK; b++) {
            float m = 127.0f * (1.0f + (float)(2 * b + 1) / 4096.0f) * (r ? 1e-3f : 1.0f);
            w[r * K + b * WHISPER_Q8_BLOCK] = (b & 1) ? -m : m;
            for (int k = 1; k < WHISPER_Q8_BLOCK; k++) w[r * K + b * WHISPER_Q8_BLOCK + k] = m * frand() * 0.99f;
        }
    for (int k = 0; k < K; k++) w[2 * K + k] = 0.0f; /* an all-zero row */
    whisper_matrix src = {w, WHISPER_DTYPE_F32, R, K, NULL};
    whisper_q8_matrix q;
    CHECK(whisper_q8_quantize(&src, NULL, &q) == 0, "q8 weights quantised");
    int nb = K / WHISPER_Q8_BLOCK, rounded_down = 0;
    double worst = 0;
    for (int r = 0; r < R; r++)
        for (int b = 0; b < nb; b++) {
            float want = 0.0f;
            for (int k = 0; k < WHISPER_Q8_BLOCK; k++) want = fmaxf(want, fabsf(w[r * K + b * WHISPER_Q8_BLOCK + k]));
            want /= 127.0f;
            uint16_t h = q.scales[r * nb + b];
            CHECK(h == floats_fp32_to_fp16(want), "row %d block %d: scale is max|w| / 127 in fp16", r, b);
            double d = whisper_fp16_to_fp32(h);
            rounded_down += d < want;
            for (int k = b * WHISPER_Q8_BLOCK; k < (b + 1) * WHISPER_Q8_BLOCK; k++) {
                double e = fabs(w[r * K + k] - q.q[r * K + k] * d);
                CHECK(q.q[r * K + k] >= -127, "q8 weight %d,%d within ±127", r, k);
                if (d > 0) worst = fmax(worst, e / d);
                else CHECK(q.q[r * K + k] == 0, "zero block gives zero");
            }
        }
    CHECK(rounded_down >= 4, "the test has blocks whose scale rounds down (%d)", rounded_down);
    CHECK(worst <= 0.5 + 1e-4, "q8 weights within half a step of their block's fp16 scale (%g)", worst);
    whisper_q8_matrix_clear(&q);
    w[3 * K + 5] = 127.0f * 65520.0f; /* its scale is not a finite fp16 */
    CHECK(whisper_q8_quantize(&src, NULL, &q) == TRIDENT_ELIMIT && !q.q, "a scale beyond fp16 is refused");
    w[3 * K + 5] = NAN;
    CHECK(whisper_q8_quantize(&src, NULL, &q) == TRIDENT_ELIMIT && !q.q, "a NaN weight is refused");
}

/* The vector exp (softmax) and erf (GELU) of every variant against libm. */
static void test_approximations(void) {
    const whisper_kernel_variant *vars[3];
    int n_vars = whisper_kernels_runnable(vars);
    enum { N = 4099 };
    static float x[N], g[N];
    for (int v = 0; v < n_vars; v++) {
        for (int i = 0; i < N; i++) x[i] = -100.0f + 100.0f * i / (N - 1); /* −100 … 0 */
        x[7] = -INFINITY;
        float sum = vars[v]->exp_sum(x, N, 0.0f);
        double worst = 0, ref_sum = 0;
        for (int i = 0; i < N; i++) {
            double want = i == 7 ? 0.0 : exp((double)(-100.0f + 100.0f * i / (N - 1)));
            ref_sum += want;
            worst = fmax(worst, fabs(x[i] - want) / fmax(want, 1e-30) * (want > 1e-30));
        }
        CHECK(x[7] == 0.0f, "%s exp(-inf) = 0", vars[v]->name);
        CHECK(worst < 1e-6, "%s exp relative error %g", vars[v]->name, worst);
        CHECK(fabs(sum - ref_sum) / ref_sum < 1e-6, "%s exp sum", vars[v]->name);
        for (int i = 0; i < N; i++) g[i] = -12.0f + 24.0f * i / (N - 1);
        vars[v]->gelu(g, N);
        worst = 0;
        for (int i = 0; i < N; i++) {
            double t = -12.0 + 24.0 * (float)(i) / (N - 1), xv = (float)t;
            worst = fmax(worst, fabs(g[i] - 0.5 * xv * (1.0 + erf(xv / sqrt(2.0)))));
        }
        CHECK(worst < 2e-6, "%s gelu absolute error %g", vars[v]->name, worst);
    }
}

static void test_pointwise(void) {
    float g[5] = {-3.0f, -1.0f, 0.0f, 0.5f, 2.0f};
    whisper_kernels_variant()->gelu(g, 5);
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

static void attention_case(threadpool *pool, int NQ, int NKV, int H, int DH) {
    threadpool *own = pool ? NULL : threadpool_new(2);
    if (!pool) pool = own;
    int D = H * DH;
    float *q = malloc(sizeof(float) * NQ * D), *k = malloc(sizeof(float) * NKV * D), *v = malloc(sizeof(float) * NKV * D);
    float *out = malloc(sizeof(float) * NQ * D), *scratch = malloc(sizeof(float) * 4 * NKV);
    double *w = malloc(sizeof(double) * NKV);
    for (int i = 0; i < NQ * D; i++) q[i] = frand();
    for (int i = 0; i < NKV * D; i++) k[i] = frand(), v[i] = frand();
    for (int causal = 0; causal < 2; causal++) {
        whisper_attention_args a = {q, k, v, out, D, D, D, D, NQ, NKV, H, DH, causal, 0};
        whisper_attention(own ? NULL : pool, &a, scratch);
        double worst = 0;
        for (int h = 0; h < H; h++)
            for (int i = 0; i < NQ; i++) {
                int n = causal ? NKV - NQ + i + 1 : NKV;
                double mx = -1e300, z = 0;
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
        CHECK(worst < 1e-5, "attention %dx%d heads %d d_head %d (causal %d): %g", NQ, NKV, H, DH, causal, worst);
    }
    /* the same with 16-bit keys and values: against the fp32 result on the stored values */
    int16_t *k16 = malloc(sizeof(int16_t) * NKV * D);
    uint16_t *v16 = malloc(sizeof(uint16_t) * NKV * D);
    float *ks = malloc(sizeof(float) * NKV * H), *out16 = malloc(sizeof(float) * NQ * D);
    whisper_keys_quantize(k16, ks, k, NKV * H, DH);
    whisper_convert_fp16(v16, v, (size_t)NKV * D);
    double steps = 0; /* the largest key error in steps of its row: half a step, + 32767 × 2⁻²⁴ for the fp32 scale */
    for (int i = 0; i < NKV * D; i++) {
        steps = fmax(steps, fabs(k[i] - (double)k16[i] * ks[i / DH]) / ks[i / DH]);
        k[i] = k16[i] * ks[i / DH];
        v[i] = whisper_fp16_to_fp32(v16[i]);
    }
    CHECK(steps <= 0.5 + 32767.0 / 16777216.0, "int16 keys within half a step of their row's scale: %g", steps);
    whisper_kv16 kv = {k16, ks, v16};
    for (int causal = 0; causal < 2; causal++) {
        whisper_attention_args a = {q, k, v, out, D, D, D, D, NQ, NKV, H, DH, causal, 0};
        whisper_attention(NULL, &a, scratch);
        whisper_attention_args a16 = {q, NULL, NULL, out16, D, D, D, D, NQ, NKV, H, DH, causal, 0};
        whisper_attention_kv16(pool, &a16, &kv, scratch);
        double worst = 0;
        for (int i = 0; i < NQ * D; i++) worst = fmax(worst, fabs(out[i] - out16[i]));
        CHECK(worst < 1e-5, "16-bit KV attention %dx%d (causal %d): %g", NQ, NKV, causal, worst);
    }
    free(k16), free(v16), free(ks), free(out16);
    free(q), free(k), free(v), free(out), free(scratch), free(w);
    threadpool_free(own);
}

/* The attention kernels of every variant against the portable ones: scores and
 * weighted sums over fp32, int16-with-scale (keys) and fp16 (values) rows, for
 * d_head 64 (the vector paths) and 40 (the generic ones), a key count that is not
 * a multiple of 4, rows d_head·3 apart (several heads interleaved). */
static void test_attention_kernels(void) {
    const whisper_kernel_variant *vars[3];
    int n_vars = whisper_kernels_runnable(vars);
    enum { N = 37, LD = 64 * 3 };
    static float q[64], k[N * LD], v[N * LD], p[N], ks[N * 3], s[3][N], o[3][64];
    static int16_t kq[N * LD];
    static uint16_t v16[N * LD];
    for (int i = 0; i < 64; i++) q[i] = frand();
    for (int i = 0; i < N * LD; i++) k[i] = frand() * 8, v[i] = frand();
    for (int i = 0; i < N; i++) p[i] = (frand() + 1) / N;
    whisper_keys_quantize(kq, ks, k, N * 3, 64);
    whisper_convert_fp16(v16, v, (size_t)N * LD);
    const int dhs[2] = {64, 40};
    for (int c = 0; c < 2; c++) {
        int dh = dhs[c];
        for (int kind = 0; kind < 4; kind++) {
            double worst = 0, ref_max = 0;
            for (int x = 0; x < n_vars; x++) {
                int is_scores = kind < 2, out_n = is_scores ? N : dh;
                float *out = is_scores ? s[x] : o[x];
                switch (kind) {
                case 0: vars[x]->scores(out, q, k, LD, N, dh, 0.125f); break;
                case 1: vars[x]->scores_i16(out, q, kq, LD, ks, LD / 64, N, dh, 0.125f); break;
                case 2: vars[x]->weighted_sum(out, p, v, LD, N, dh); break;
                case 3: vars[x]->weighted_sum_f16(out, p, v16, LD, N, dh); break;
                }
                for (int i = 0; i < out_n; i++) {
                    if (x == 0) ref_max = fmax(ref_max, fabs(out[i]));
                    else worst = fmax(worst, fabs(out[i] - (is_scores ? s[0] : o[0])[i]));
                }
            }
            static const char *names[4] = {"scores", "scores_i16", "weighted_sum", "weighted_sum_f16"};
            CHECK(worst <= 1e-5 * ref_max, "%s (d_head %d): variants differ from portable by %g (max %g)", names[kind],
                  dh, worst, ref_max);
        }
    }
    /* scores_i16 is the score of the stored query and key (each row scaled by its own scale),
     * and the stored query is within half a step of q */
    int16_t qq[64];
    float qs = whisper_query_quantize(q, 64, qq);
    double qerr = 0;
    for (int i = 0; i < 64; i++) qerr = fmax(qerr, fabs(q[i] - (double)qq[i] * qs) / qs);
    CHECK(qerr <= 0.5 + WHISPER_QUERY_I16_MAX / 16777216.0, "query within half a step: %g", qerr);
    for (int x = 0; x < n_vars; x++) {
        vars[x]->scores_i16(s[x], q, kq, LD, ks, LD / 64, N, 64, 0.125f);
        double worst = 0, mx = 0;
        for (int t = 0; t < N; t++) {
            double d = 0;
            for (int i = 0; i < 64; i++) d += (double)qq[i] * qs * kq[t * LD + i] * ks[t * 3];
            worst = fmax(worst, fabs(s[x][t] - d * 0.125)), mx = fmax(mx, fabs(d * 0.125));
        }
        CHECK(worst < 1e-6 * mx, "%s scores_i16 against double: %g (max %g)", vars[x]->name, worst, mx);
    }
}

/* fp32 → fp16: both variants agree with each other and with the exact rounding rule. */
static void test_fp16_rounding(void) {
    const whisper_kernel_variant *vars[3];
    int n_vars = whisper_kernels_runnable(vars);
    enum { N = 20000 };
    static float x[N];
    static uint16_t h[3][N];
    for (int i = 0; i < N; i++) x[i] = ldexpf(frand(), (int)(i % 40) - 28); /* subnormal … overflow-free range */
    x[0] = 65520.0f, x[1] = -1e6f, x[2] = 0.0f, x[3] = -0.0f, x[4] = ldexpf(1.0f, -25), x[5] = ldexpf(3.0f, -26);
    int bad = 0;
    for (int v = 0; v < n_vars; v++) {
        vars[v]->to_f16(h[v], x, N);
        for (int i = 0; i < N; i++) {
            /* nearest fp16 value: no other pattern is strictly closer */
            double want = x[i], got = whisper_fp16_to_fp32(h[v][i]);
            if (isinf(got)) {
                bad += fabs(want) < 65520.0;
                continue;
            }
            double up = whisper_fp16_to_fp32((uint16_t)(h[v][i] + 1)), dn = whisper_fp16_to_fp32((uint16_t)(h[v][i] - 1));
            if ((h[v][i] & 0x7fff) != 0 && (h[v][i] & 0x7fff) != 0x7bff)
                bad += fabs(up - want) < fabs(got - want) || fabs(dn - want) < fabs(got - want);
        }
    }
    CHECK(bad == 0, "fp32 → fp16 rounds to nearest (%d wrong)", bad);
    for (int v = 1; v < n_vars; v++)
        CHECK(memcmp(h[0], h[v], sizeof h[0]) == 0, "portable and %s fp16 rounding agree", vars[v]->name);
}

/* The q8 projection with exact top entries: on a vocabulary-shaped fp16 matrix
 * whose rows include near-copies of each other (ties within q8's error, where a
 * plain 8-bit pass picks the wrong row), every row's argmax and its value equal
 * the 16-bit matrix's, and every other entry is within its error bound of it. */
static void test_q8_top_exact(void) {
    enum { V = 3001, K = 200, R = 7 }; /* K not a multiple of the block; V odd */
    test_matrix w = make_matrix(V, K, WHISPER_DTYPE_F16);
    uint16_t *h = w.data;
    /* rows 2i+1 = row 2i with one element nudged by one fp16 ulp: near-ties */
    for (int v = 1; v < V; v += 2) {
        memcpy(h + (size_t)v * K, h + (size_t)(v - 1) * K, K * sizeof *h);
        h[(size_t)v * K + v % K] ^= 1;
        for (int k = 0; k < K; k++) w.exact[(size_t)v * K + k] = whisper_fp16_to_fp32(h[(size_t)v * K + k]);
    }
    whisper_q8_matrix q;
    CHECK(whisper_q8_quantize(&w.m, NULL, &q) == 0, "q8 copy of the projection");
    float *x = malloc(sizeof(float) * R * K), *ref = malloc(sizeof(float) * R * V), *got = malloc(sizeof(float) * R * V);
    float *plain = malloc(sizeof(float) * R * V), *scratch = malloc(sizeof(float) * whisper_q8_top_exact_scratch(&q.m));
    for (int i = 0; i < R * K; i++) x[i] = frand();
    threadpool *pool = threadpool_new(2);
    int wrong = 0, wrong_plain = 0, far = 0, wrong_one = 0;
    float *one = malloc(sizeof(float) * V), *ref_one = malloc(sizeof(float) * V);
    for (int trial = 0; trial < 40; trial++) {
        /* aim each row of x at a random near-tied pair, so the top two differ by ~1 ulp of a weight */
        for (int r = 0; r < R; r++) {
            int v = 2 * (int)((rng >> 33) % (V / 2));
            (void)frand();
            for (int k = 0; k < K; k++) x[r * K + k] = 0.05f * frand() + w.exact[(size_t)v * K + k];
        }
        whisper_linear(NULL, ref, x, R, &w.m, NULL);
        whisper_linear(NULL, plain, x, R, &q.m, NULL);
        whisper_q8_linear_top_exact(trial & 1 ? pool : NULL, got, x, R, &q.m, &w.m, scratch);
        for (int r = 0; r < R; r++) {
            const float *rr = ref + (size_t)r * V, *gr = got + (size_t)r * V, *pr = plain + (size_t)r * V;
            int a = 0, b = 0, c = 0;
            for (int v = 1; v < V; v++) {
                a = rr[v] > rr[a] ? v : a;
                b = gr[v] > gr[b] ? v : b;
                c = pr[v] > pr[c] ? v : c;
            }
            wrong += a != b || fabsf(gr[b] - rr[a]) > 1e-4f * (1 + fabsf(rr[a]));
            /* one row alone (a decoder step): the q8 pass quantises its activations too,
             * and the 16-bit projection of one row is the GEMV's */
            whisper_q8_linear_top_exact(trial & 1 ? pool : NULL, one, x + (size_t)r * K, 1, &q.m, &w.m, scratch);
            whisper_linear(NULL, ref_one, x + (size_t)r * K, 1, &w.m, NULL);
            int d = 0, e = 0;
            for (int v = 1; v < V; v++) d = one[v] > one[d] ? v : d, e = ref_one[v] > ref_one[e] ? v : e;
            wrong_one += e != d || one[d] != ref_one[e];
            wrong_plain += a != c;
            const float *xr = x + (size_t)r * K;
            for (int v = 0; v < V; v++) {
                double bound = 0;
                for (int k = 0; k < K; k++) {
                    int blk = k / WHISPER_Q8_BLOCK, nb = (K + WHISPER_Q8_BLOCK - 1) / WHISPER_Q8_BLOCK;
                    bound += 0.5 * whisper_fp16_to_fp32(q.m.scales[(size_t)v * nb + blk]) * fabs(xr[k]);
                }
                far += fabs(gr[v] - rr[v]) > bound * 1.001 + 1e-4;
            }
        }
    }
    CHECK(wrong == 0, "q8 top-exact: argmax and its value equal the 16-bit projection's (%d rows wrong)", wrong);
    CHECK(wrong_one == 0, "q8 top-exact, one row: argmax and its value equal the 16-bit projection's (%d wrong)",
          wrong_one);
    CHECK(wrong_plain > 0, "the near-ties do defeat a plain 8-bit pass (%d of %d rows)", wrong_plain, 40 * R);
    CHECK(far == 0, "q8 top-exact: every entry within its error bound (%d outside)", far);
    threadpool_free(pool);
    whisper_q8_matrix_clear(&q);
    free(x), free(ref), free(got), free(plain), free(scratch), free(w.exact), free(w.data), free(one), free(ref_one);
}

static void test_attention(void) {
    threadpool *pool = threadpool_new(3);
    attention_case(NULL, 5, 37, 3, 16);   /* row by row */
    attention_case(pool, 1, 300, 2, 64);  /* a decoder step */
    attention_case(NULL, 3, 203, 2, 64);  /* causal prompt rows, key counts not a multiple of 4 */
    attention_case(NULL, 100, 77, 2, 24); /* blocked (non-causal), panel tails */
    attention_case(pool, 131, 301, 3, 64); /* blocked, threaded, several key slices */
    threadpool_free(pool);
}

int main(void) {
    printf("kernel path: %s\n", whisper_kernels_path());
    test_conversion();
    test_linear();
    test_gemv_q8();
    test_q8_quantize();
    test_q8_weights();
    test_linear_multi();
    test_attention_step();
    test_attention_kernels();
    test_approximations();
    test_fp16_rounding();
    test_pointwise();
    test_attention();
    test_q8_top_exact();
    return check_summary();
}
