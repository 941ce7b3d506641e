/* floats.c — see floats.h. */
#include "base/floats.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* A float is NaN or infinite when its exponent bits are all ones. */
#define EXP_BITS 0x7f800000u

static inline int nonfinite_at(const float *x, size_t i) {
    uint32_t u;
    memcpy(&u, x + i, sizeof u);
    return (u & EXP_BITS) == EXP_BITS;
}

/* Four floats as integer lanes (GCC/Clang vector extension: SSE2 or NEON
 * on the targets we build for, plain code elsewhere). */
typedef uint32_t u32x4 __attribute__((vector_size(16)));

size_t floats_first_nonfinite(const float *x, size_t n) {
    enum { BLOCK = 1024 };
    const u32x4 e = {EXP_BITS, EXP_BITS, EXP_BITS, EXP_BITS};
    size_t i = 0;
    for (; i + BLOCK <= n; i += BLOCK) {
        u32x4 bad = {0};
        for (size_t k = i; k < i + BLOCK; k += 4) {
            u32x4 v;
            memcpy(&v, x + k, sizeof v);
            bad |= (u32x4)((v & e) == e);
        }
        uint32_t any = bad[0] | bad[1] | bad[2] | bad[3];
        if (any) break;
    }
    for (; i < n; i++)
        if (nonfinite_at(x, i)) return i;
    return n;
}

uint16_t floats_fp32_to_fp16(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) return (uint16_t)(sign | 0x7c00 | (ax > 0x7f800000u ? 0x200 : 0)); /* inf, nan */
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00);                                  /* overflow */
    if (ax < 0x38800000u) { /* subnormal or zero: scale so that the fp16 step is 1, round to nearest even */
        float v;
        memcpy(&v, &ax, 4);
        float r = nearbyintf(v * 16777216.0f); /* 2^24 */
        return (uint16_t)(sign | (uint32_t)r);
    }
    uint32_t mant = ax & 0x7fffff, exp = (ax >> 23) - 127 + 15;
    uint32_t h = (exp << 10) | (mant >> 13), rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest == 0x1000 && (h & 1))) h++; /* carries into the exponent correctly */
    return (uint16_t)(sign | h);
}
