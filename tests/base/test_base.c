/* test_base.c — thread pool, files, errors, clock formatting, log lines, float checks,
 * fp16 conversion, the random number generator, aligned blocks. */
#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/file.h"
#include "base/floats.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rng.h"
#include "base/threadpool.h"
#include "check.h"

static void add_task(void *ctx, int task, int thread) {
    atomic_long *sum = ctx;
    atomic_fetch_add(sum, task + 1);
    (void)thread;
}

/* Per-task counters of one run, and the threads that ran them. */
typedef struct {
    atomic_int count[64];
    atomic_int busy[8]; /* tasks in progress per thread index: must never exceed 1 */
    atomic_int overlap;
    int slow;           /* task 0 sleeps this many microseconds */
} run_log;

static void log_task(void *ctx, int task, int thread) {
    run_log *r = ctx;
    if (atomic_fetch_add(&r->busy[thread], 1) != 0) atomic_fetch_add(&r->overlap, 1);
    if (task == 0 && r->slow) {
        struct timespec ts = {0, r->slow * 1000L};
        nanosleep(&ts, NULL);
    }
    atomic_fetch_add(&r->count[task], 1);
    atomic_fetch_sub(&r->busy[thread], 1);
}

/* Many back-to-back runs of varying size, some with a slow task and with
 * workers left to fall asleep in between: every task runs exactly once, no
 * thread index runs two tasks at once, and nothing of a run happens after
 * threadpool_run returned (the logs of finished runs are checked again at the
 * end). */
static void test_threadpool_runs(void) {
    enum { ROUNDS = 3000 };
    run_log *logs = calloc(ROUNDS, sizeof *logs);
    threadpool *pool = threadpool_new(3);
    CHECK(logs && pool, "pool and logs");
    if (!logs || !pool) return;
    int bad = 0;
    for (int r = 0; r < ROUNDS; r++) {
        int n = 1 + (r * 7) % 64;
        logs[r].slow = r % 97 == 0 ? 2000 : 0;
        if (r % 500 == 499) {
            struct timespec ts = {0, 5 * 1000 * 1000L}; /* past the workers' spin: they sleep */
            nanosleep(&ts, NULL);
        }
        threadpool_run(pool, n, log_task, &logs[r]);
        for (int t = 0; t < 64; t++) bad += atomic_load(&logs[r].count[t]) != (t < n);
    }
    CHECK(bad == 0, "every task ran exactly once before threadpool_run returned (%d wrong counts)", bad);
    threadpool_free(pool);
    int late = 0, overlap = 0;
    for (int r = 0; r < ROUNDS; r++) {
        int n = 1 + (r * 7) % 64;
        for (int t = 0; t < 64; t++) late += atomic_load(&logs[r].count[t]) != (t < n);
        overlap += atomic_load(&logs[r].overlap);
    }
    CHECK(late == 0, "no task ran after its run returned (%d)", late);
    CHECK(overlap == 0, "no thread index ran two tasks at once (%d)", overlap);
    free(logs);
}

/* floats_first_nonfinite: every kind of non-finite value, in the first
 * block, at block edges, in the tail after the last whole block, and the
 * first of two; subnormals and the largest finite values are finite. */
static void test_floats(void) {
    enum { N = 3 * 1024 + 37 };
    static float x[N];
    for (size_t i = 0; i < N; i++) x[i] = (float)i * 0.5f - 700.0f;
    x[5] = FLT_MAX;
    x[6] = -FLT_MAX;
    x[7] = FLT_TRUE_MIN;
    CHECK(floats_first_nonfinite(x, N) == N, "all finite");
    CHECK(floats_first_nonfinite(x, 0) == 0, "empty");
    const float bad[3] = {NAN, INFINITY, -INFINITY};
    const size_t at[] = {0, 1, 1023, 1024, 2047, 3 * 1024, N - 1};
    for (size_t b = 0; b < 3; b++)
        for (size_t a = 0; a < sizeof at / sizeof at[0]; a++) {
            float keep = x[at[a]];
            x[at[a]] = bad[b];
            CHECK(floats_first_nonfinite(x, N) == at[a], "value %zu at %zu found", b, at[a]);
            CHECK(floats_first_nonfinite(x, at[a]) == at[a], "value %zu at %zu is past n", b, at[a]);
            x[at[a]] = keep;
        }
    x[2000] = NAN;
    x[1500] = INFINITY;
    CHECK(floats_first_nonfinite(x, N) == 1500, "the first of two");
}

/* mem_alloc_aligned: MEM_ALIGN-aligned blocks of every size around the
 * alignment (including 0), usable to their last byte (ASan checks the
 * bound), and NULL for a size that cannot be rounded up; the same for
 * mem_alloc_streamed's blocks, zeroed and 2-MB aligned when large. */
static void test_mem(void) {
    for (size_t size = 0; size <= 3 * MEM_ALIGN + 1; size++) {
        unsigned char *p = mem_alloc_aligned(size);
        CHECK(p != NULL, "block of %zu bytes", size);
        CHECK((uintptr_t)p % MEM_ALIGN == 0, "block of %zu bytes at %p is aligned", size, (void *)p);
        if (size) memset(p, 0xa5, size);
        free(p);
    }
    CHECK(mem_alloc_aligned(SIZE_MAX - 1) == NULL, "a size that overflows when rounded up");
    /* mem_alloc_streamed: zeroed; from MEM_HUGE_MIN on, on a 2-MB boundary */
    const size_t sizes[] = {0, 1, 4096, MEM_HUGE_MIN - 1, MEM_HUGE_MIN, 5 * MEM_HUGE_MIN + 12345};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        unsigned char *p = mem_alloc_streamed(sizes[i]);
        CHECK(p != NULL, "streamed block of %zu bytes", sizes[i]);
        if (!p) continue;
        size_t align = sizes[i] >= MEM_HUGE_MIN ? MEM_HUGE_MIN : MEM_ALIGN, nonzero = 0;
        CHECK((uintptr_t)p % align == 0, "streamed block of %zu bytes aligned to %zu", sizes[i], align);
        for (size_t k = 0; k < sizes[i]; k++) nonzero += p[k] != 0;
        CHECK(nonzero == 0, "streamed block of %zu bytes is zeroed", sizes[i]);
        if (sizes[i]) memset(p, 0xa5, sizes[i]);
        free(p);
    }
    CHECK(mem_alloc_streamed(SIZE_MAX - 1) == NULL, "a streamed size that overflows when rounded up");
}

/* floats_fp32_to_fp16 against an independent decoding: every finite half h
 * comes back from its value, a value halfway between two halves goes to the
 * even one, and past the largest half to infinity; with a compiler that has
 * _Float16, also every 97th float bit pattern against its conversion. */
static double half_value(uint16_t h) {
    int e = (h >> 10) & 0x1f, m = h & 0x3ff;
    double v = e == 0 ? ldexp(m, -24) : ldexp(1024 + m, e - 25);
    return h & 0x8000 ? -v : v;
}

static void test_fp16(void) {
    size_t bad = 0;
    for (uint32_t h = 0; h < 0x10000; h++) {
        if (((h >> 10) & 0x1f) == 0x1f) continue; /* inf, nan */
        double v = half_value((uint16_t)h);
        if (floats_fp32_to_fp16((float)v) != h) bad++;
        uint32_t next = (h & 0x7fff) + 1;
        if (next < 0x7c00) { /* the midpoint to the next half up in magnitude (exact in fp32) */
            double mid = (v + half_value((uint16_t)(next | (h & 0x8000)))) / 2;
            uint16_t even = (h & 1) ? (uint16_t)(next | (h & 0x8000)) : (uint16_t)h;
            if (floats_fp32_to_fp16((float)mid) != even) bad++;
        }
    }
    CHECK(bad == 0, "fp16: every finite half and every midpoint (%zu wrong)", bad);
    CHECK(floats_fp32_to_fp16(65520.0f) == 0x7c00 && floats_fp32_to_fp16(-1e30f) == 0xfc00, "fp16: overflow to inf");
    CHECK(floats_fp32_to_fp16(INFINITY) == 0x7c00, "fp16: inf");
    uint16_t nan16 = floats_fp32_to_fp16(NAN);
    CHECK((nan16 & 0x7c00) == 0x7c00 && (nan16 & 0x3ff) != 0, "fp16: nan");
    CHECK(floats_fp32_to_fp16(ldexpf(1.0f, -26)) == 0 && floats_fp32_to_fp16(-ldexpf(1.0f, -26)) == 0x8000,
          "fp16: below half the smallest subnormal, a signed zero");
#ifdef __FLT16_MAX__
    bad = 0;
    for (uint64_t bits = 0; bits < 0x100000000ull; bits += 97) {
        uint32_t b = (uint32_t)bits;
        float f;
        memcpy(&f, &b, sizeof f);
        if (isnan(f)) continue;
        _Float16 want = (_Float16)f;
        uint16_t w;
        memcpy(&w, &want, sizeof w);
        if (floats_fp32_to_fp16(f) != w) bad++;
    }
    CHECK(bad == 0, "fp16: as the compiler's _Float16 (%zu differ)", bad);
#endif
}

/* rng: the stream of xoshiro256** seeded by splitmix64 (values from an
 * independent implementation of the published algorithms), repeatable, and
 * rng_uniform in [0, 1). */
static void test_rng(void) {
    rng_state a, b;
    rng_seed(&a, 5);
    CHECK(rng_next(&a) == 0x49d55178ca54cf69ull && rng_next(&a) == 0x9a22115a4d2624dcull &&
              rng_next(&a) == 0xa648b1ccf0bbbbaeull,
          "seed 5: the first three values");
    rng_seed(&a, 0);
    CHECK(rng_next(&a) == 0x99ec5f36cb75f2b4ull, "seed 0 works");
    rng_seed(&a, 42);
    rng_seed(&b, 42);
    int same = 1, in_range = 1;
    double sum = 0;
    for (int i = 0; i < 100000; i++) {
        double u = rng_uniform(&a);
        same &= u == rng_uniform(&b);
        in_range &= u >= 0.0 && u < 1.0;
        sum += u;
    }
    CHECK(same, "the same seed gives the same stream");
    CHECK(in_range, "uniform values in [0, 1)");
    CHECK_NEAR(sum / 100000, 0.5, 0.005, "uniform mean");
}

int main(void) {
    test_floats();
    test_fp16();
    test_rng();
    test_mem();
    for (int threads = 1; threads <= 4; threads++) {
        threadpool *pool = threadpool_new(threads);
        CHECK(pool != NULL, "threadpool_new(%d)", threads);
        CHECK(threadpool_size(pool) == threads, "size %d", threadpool_size(pool));
        for (int round = 0; round < 200; round++) {
            atomic_long sum = 0;
            int n = round % 37;
            threadpool_run(pool, n, add_task, &sum);
            CHECK(sum == (long)n * (n + 1) / 2, "threads=%d n=%d sum=%ld", threads, n, (long)sum);
        }
        threadpool_free(pool);
    }
    test_threadpool_runs();

    char err[TRIDENT_ERR_SIZE];
    char *data;
    size_t size;
    int rc = file_read_all("/nonexistent/trident", 0, &data, &size, err, sizeof err);
    CHECK(rc == TRIDENT_ENOTFOUND, "missing file rc=%d", rc);
    CHECK(strstr(err, "/nonexistent/trident") != NULL, "message names the path: %s", err);
    rc = file_read_all(TRIDENT_SOURCE_DIR "/CMakeLists.txt", 0, &data, &size, err, sizeof err);
    CHECK(rc == 0 && size > 100 && data[size] == '\0', "read CMakeLists.txt");
    free(data);
    rc = file_read_all(TRIDENT_SOURCE_DIR "/CMakeLists.txt", 10, &data, &size, err, sizeof err);
    CHECK(rc == TRIDENT_ELIMIT, "size limit enforced rc=%d", rc);
    file_map map;
    rc = file_map_open(TRIDENT_SOURCE_DIR "/CMakeLists.txt", &map, err, sizeof err);
    CHECK(rc == 0 && map.size > 100 && memcmp(map.data, "#", 1) == 0, "map CMakeLists.txt");
    file_unmap(&map);
    CHECK(error_set(err, sizeof err, TRIDENT_EINVAL, "x=%d", 3) == TRIDENT_EINVAL && strcmp(err, "x=3") == 0,
          "error_set formats and returns the code");

    /* clock_iso8601: exact formatting, and times from a bad row never crash. */
    char iso[32];
    clock_iso8601(1700000000.25, iso, sizeof iso);
    CHECK(strcmp(iso, "2023-11-14T22:13:20.250Z") == 0, "iso8601 %s", iso);
    clock_iso8601(-0.5, iso, sizeof iso);
    CHECK(strcmp(iso, "1969-12-31T23:59:59.500Z") == 0, "iso8601 before the epoch %s", iso);
    clock_iso8601(NAN, iso, sizeof iso);
    CHECK(strcmp(iso, "1970-01-01T00:00:00.000Z") == 0, "iso8601 of NaN %s", iso);
    clock_iso8601(INFINITY, iso, sizeof iso);
    CHECK(strcmp(iso, "1970-01-01T00:00:00.000Z") == 0, "iso8601 of Inf %s", iso);

    /* log lines: one line each, even with a module name longer than the line buffer. */
    FILE *logf = tmpfile();
    CHECK(logf != NULL, "tmpfile");
    if (logf) {
        log_stream_set(logf);
        log_level_set(LOG_INFO);
        log_debug("test", "hidden");
        log_info("test", "shown key=%d", 7);
        char module[4096];
        memset(module, 'm', sizeof module - 1);
        module[sizeof module - 1] = '\0';
        log_warn(module, "cut");
        log_stream_set(NULL);
        rewind(logf);
        char line[4096];
        CHECK(fgets(line, sizeof line, logf) && strcmp(line, "INFO test: shown key=7\n") == 0, "log line");
        CHECK(fgets(line, sizeof line, logf) && strncmp(line, "WARN mmm", 8) == 0 && line[strlen(line) - 1] == '\n',
              "long module name is cut into one line");
        CHECK(!fgets(line, sizeof line, logf), "nothing else logged");
        fclose(logf);
    }
    return check_summary();
}
