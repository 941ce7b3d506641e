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

/* The same for a large block that is streamed from memory again and again
 * (weights, a decoder's caches): from MEM_HUGE_MIN bytes on it starts on a
 * 2-MB boundary and asks the kernel for transparent huge pages
 * (madvise MADV_HUGEPAGE), so that streaming it takes one TLB entry per 2 MB
 * and the hardware prefetchers are not stopped at every 4-KB page. Zeroed.
 * The caller frees it with free(). */
#define MEM_HUGE_MIN ((size_t)2 << 20)
void *mem_alloc_streamed(size_t size);

#endif
