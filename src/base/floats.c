/* floats.c — see floats.h. */
#include "base/floats.h"

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
