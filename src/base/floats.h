/* floats.h — checks over arrays of float samples and the fp32 → fp16
 * conversion. No state; thread-safe. */
#ifndef TRIDENT_BASE_FLOATS_H
#define TRIDENT_BASE_FLOATS_H

#include <stddef.h>
#include <stdint.h>

/* The index of the first element of x[0..n) that is NaN or infinite, or n
 * when all are finite. Reads whole blocks without branching on each value
 * (the compiler vectorises it), so a check of every sample costs little
 * next to the work on them. */
size_t floats_first_nonfinite(const float *x, size_t n);

/* The IEEE binary16 bit pattern of f, rounded to nearest even: overflow
 * gives infinity, NaN a NaN. The engine's fp16
 * copies and KV caches and model-gen's fp16 checkpoints use it. */
uint16_t floats_fp32_to_fp16(float f);

#endif
