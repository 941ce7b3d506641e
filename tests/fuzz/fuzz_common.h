/* fuzz_common.h — what the libFuzzer harnesses share: a private scratch
 * directory per process and writing one fuzz input into a file in it (the
 * loaders under test read files by path, as they do in production). */
#ifndef TRIDENT_FUZZ_COMMON_H
#define TRIDENT_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* The process's scratch directory (created on first use, under /dev/shm when
 * it exists, else /tmp). Never NULL: aborts when it cannot be created. */
const char *fuzz_dir(void);

/* Writes data to <fuzz_dir()>/name, replacing it; writes path (the full name)
 * when path is not NULL. Aborts on I/O errors (they are not findings). */
void fuzz_file_write(const char *name, const uint8_t *data, size_t size, char *path, size_t path_size);

/* Removes <fuzz_dir()>/name if present. */
void fuzz_file_remove(const char *name);

#endif
