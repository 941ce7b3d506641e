/* mem.c — see mem.h. */
#include "base/mem.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

void *mem_alloc_aligned(size_t size) {
    /* C11's aligned_alloc wants a multiple of the alignment */
    size_t rounded = (size + MEM_ALIGN - 1) & ~(size_t)(MEM_ALIGN - 1);
    if (rounded < size) return NULL;
    return aligned_alloc(MEM_ALIGN, rounded ? rounded : MEM_ALIGN);
}

void *mem_alloc_streamed(size_t size) {
    if (size < MEM_HUGE_MIN) {
        void *p = mem_alloc_aligned(size);
        if (p) memset(p, 0, size);
        return p;
    }
    size_t rounded = (size + MEM_HUGE_MIN - 1) & ~(MEM_HUGE_MIN - 1);
    if (rounded < size) return NULL;
    void *p = aligned_alloc(MEM_HUGE_MIN, rounded);
    if (!p) return NULL;
    (void)madvise(p, rounded, MADV_HUGEPAGE); /* a hint: without it the block still works */
    memset(p, 0, size);
    return p;
}
