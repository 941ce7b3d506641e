/* mem.h — cache-line-aligned heap blocks. No state; thread-safe. */
#ifndef TRIDENT_BASE_MEM_H
#define TRIDENT_BASE_MEM_H

#include <stddef.h>

/* The alignment of mem_alloc_aligned's blocks: one cache line, which also
 * covers every vector width the kernels use. */
#define MEM_ALIGN 64

/* A block of at least size bytes starting on a MEM_ALIGN boundary, or NULL
 * when memory is short. Vector loops over arrays that start on such a
 * boundary never split a load or store across two cache lines (the
 * bio-acoustic front end runs ~6 % faster so: bench/RESULTS.md). The caller
 * owns the block and frees it with free(). */
void *mem_alloc_aligned(size_t size);

#endif
