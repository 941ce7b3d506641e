/* cpu.c — run-time CPU feature detection for SIMD dispatch. */
#include "base/cpu.h"

#include <cpuid.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static cpu_features cpu_cached;
static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;

/* F16C from CPUID leaf 1 (ECX bit 29): __builtin_cpu_supports("f16c") is a
 * GCC extension that clang (and so clang-tidy) rejects. */
static int cpu_has_f16c(void) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    return (ecx & bit_F16C) != 0;
}

/* AVX512-VNNI from CPUID leaf 7 sub-leaf 0 (ECX bit 11). */
static int cpu_has_avx512vnni(void) {
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    return (ecx & (1u << 11)) != 0;
}

static void cpu_detect(void) {
    __builtin_cpu_init();
    cpu_cached.avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && cpu_has_f16c();
    cpu_cached.avx512 = cpu_cached.avx2 && __builtin_cpu_supports("avx512f") &&
                        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
                        __builtin_cpu_supports("avx512dq") && cpu_has_avx512vnni();
    const char *cap = getenv("TRIDENT_CPU");
    if (cap) {
        if (strcmp(cap, "portable") == 0) cpu_cached.avx2 = cpu_cached.avx512 = 0;
        else if (strcmp(cap, "avx2") == 0) cpu_cached.avx512 = 0;
    }
}

cpu_features cpu_features_get(void) {
    pthread_once(&cpu_once, cpu_detect);
    return cpu_cached;
}

const char *cpu_features_name(void) {
    cpu_features f = cpu_features_get();
    return f.avx512 ? "avx512" : f.avx2 ? "avx2" : "portable";
}
