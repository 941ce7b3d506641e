/* npy.h — reads NumPy .npy arrays (little-endian float32, C order) for tests. */
#ifndef TRIDENT_TEST_NPY_H
#define TRIDENT_TEST_NPY_H

#include <stddef.h>

typedef struct {
    float *data;     /* owned; free with npy_clear */
    int ndim;
    size_t shape[4];
    size_t count;    /* product of shape */
} npy_array;

/* Loads path into arr. Returns 0, or -1 with a message on stderr. */
int npy_load(const char *path, npy_array *arr);
void npy_clear(npy_array *arr);

/* max |a - b| over n elements, and max |b| (for relative tolerances). */
double npy_max_abs_diff(const float *a, const float *b, size_t n);
double npy_max_abs(const float *a, size_t n);

#endif
