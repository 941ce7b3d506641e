/* safetensors.h — strict reader for the safetensors format (private to src/whisper/).
 *
 * A safetensors file is an 8-byte little-endian header length N, N bytes of JSON
 * ({"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}})
 * and the tensor bytes. Files are memory-mapped; every header field is checked
 * (length, JSON, dtype, shape × dtype size = end − begin, offsets inside the file,
 * no two tensors overlapping, alignment) before any tensor byte is touched.
 * A set may span several shards listed by a model.safetensors.index.json.
 * Immutable after open; safe to share between threads. */
#ifndef TRIDENT_WHISPER_SAFETENSORS_H
#define TRIDENT_WHISPER_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "whisper/kernels.h"

#define SAFETENSORS_MAX_DIMS 4

typedef struct {
    const char *name;     /* belongs to the set */
    whisper_dtype dtype;
    int ndim;
    int64_t shape[SAFETENSORS_MAX_DIMS];
    const void *data;     /* inside the memory map; aligned to the element size */
    size_t nbytes;
    int file;             /* index of the shard that holds it */
} safetensors_tensor;

typedef struct safetensors safetensors;

/* Opens one file. Returns 0 or a TRIDENT_E* code with a message naming the file
 * and (where it applies) the tensor. The caller owns *out (safetensors_free). */
int safetensors_open(const char *path, safetensors **out, char *err, size_t err_size);

/* Opens dir/<stem>.safetensors, or the shards listed in dir/<stem>.safetensors.index.json
 * when that exists. ENOTFOUND when neither exists. The caller owns *out. */
int safetensors_open_dir(const char *dir, const char *stem, safetensors **out, char *err, size_t err_size);

void safetensors_free(safetensors *st);

/* The tensor called name, or NULL. The pointer belongs to the set. */
const safetensors_tensor *safetensors_find(const safetensors *st, const char *name);
/* Tensors in name order; *n receives the count. */
const safetensors_tensor *safetensors_tensors(const safetensors *st, size_t *n);
/* Bytes mapped (all shards). */
size_t safetensors_mapped_bytes(const safetensors *st);

/* "F32", "F16", "BF16". */
const char *safetensors_dtype_name(whisper_dtype dtype);

#endif
