/* mem.c — see mem.h. */
#include "base/mem.h"

#include <stdlib.h>

void *mem_alloc_aligned(size_t size) {
    /* C11's aligned_alloc wants a multiple of the alignment */
    size_t rounded = (size + MEM_ALIGN - 1) & ~(size_t)(MEM_ALIGN - 1);
    if (rounded < size) return NULL;
    return aligned_alloc(MEM_ALIGN, rounded ? rounded : MEM_ALIGN);
}
