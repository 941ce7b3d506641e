/* npy.c — a minimal .npy reader: version 1/2 headers, '<f4', C order. */
#include "npy.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int npy_load(const char *path, npy_array *arr) {
    memset(arr, 0, sizeof *arr);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "npy: cannot open %s\n", path);
        return -1;
    }
    unsigned char magic[10];
    if (fread(magic, 1, 10, f) != 10 || memcmp(magic, "\x93NUMPY", 6) != 0) goto bad;
    size_t hlen;
    if (magic[6] == 1) {
        hlen = (size_t)magic[8] | ((size_t)magic[9] << 8);
    } else {
        unsigned char b[2];
        if (fread(b, 1, 2, f) != 2) goto bad;
        hlen = (size_t)magic[8] | ((size_t)magic[9] << 8) | ((size_t)b[0] << 16) | ((size_t)b[1] << 24);
    }
    char *hdr = calloc(1, hlen + 1);
    if (!hdr || fread(hdr, 1, hlen, f) != hlen) {
        free(hdr);
        goto bad;
    }
    if (!strstr(hdr, "'<f4'") || strstr(hdr, "'fortran_order': True")) {
        fprintf(stderr, "npy: %s is not a C-order float32 array\n", path);
        free(hdr);
        fclose(f);
        return -1;
    }
    char *s = strchr(strstr(hdr, "'shape'"), '(');
    arr->count = 1;
    while (s && *s && *s != ')') {
        s++;
        while (*s == ' ') s++;
        if (*s == ')') break;
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (end == s || arr->ndim == 4) break;
        arr->shape[arr->ndim++] = v;
        arr->count *= v;
        s = strchr(end, ',') ? strchr(end, ',') : strchr(end, ')');
        if (s && *s == ')') break;
    }
    free(hdr);
    arr->data = malloc(arr->count * sizeof(float));
    if (!arr->data || fread(arr->data, sizeof(float), arr->count, f) != arr->count) {
        npy_clear(arr);
        goto bad;
    }
    fclose(f);
    return 0;
bad:
    fprintf(stderr, "npy: %s is not a readable .npy file\n", path);
    fclose(f);
    return -1;
}

void npy_clear(npy_array *arr) {
    free(arr->data);
    arr->data = NULL;
}

double npy_max_abs_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > m || isnan(d)) m = isnan(d) ? INFINITY : d;
    }
    return m;
}

double npy_max_abs(const float *a, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++)
        if (fabs((double)a[i]) > m) m = fabs((double)a[i]);
    return m;
}
