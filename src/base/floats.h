/* floats.h — checks over arrays of float samples. No state; thread-safe. */
#ifndef TRIDENT_BASE_FLOATS_H
#define TRIDENT_BASE_FLOATS_H

#include <stddef.h>

/* The index of the first element of x[0..n) that is NaN or infinite, or n
 * when all are finite. Reads whole blocks without branching on each value
 * (the compiler vectorises it), so a check of every sample costs little
 * next to the work on them. */
size_t floats_first_nonfinite(const float *x, size_t n);

#endif
