/* cpu.h — run-time CPU feature detection for SIMD dispatch (x86-64).
 *
 * Detection runs once (pthread_once) on the first call; both functions are
 * thread-safe and return static data. */
#ifndef TRIDENT_BASE_CPU_H
#define TRIDENT_BASE_CPU_H

typedef struct {
    int avx2;     /* AVX2 + FMA + F16C */
    int avx512;   /* AVX-512 F + BW + VL + DQ + VNNI (Ice Lake, Zen 4 and later) */
} cpu_features;

/* The features of this CPU, detected once. TRIDENT_CPU=portable|avx2|avx512 in
 * the environment caps them (to test every path on one machine). */
cpu_features cpu_features_get(void);
/* "avx512", "avx2" or "portable": the best path cpu_features_get allows. */
const char *cpu_features_name(void);

#endif
