/* file.h — whole-file reads, read-only memory maps, path helpers.
 * No shared state: every function is thread-safe. */
#ifndef TRIDENT_BASE_FILE_H
#define TRIDENT_BASE_FILE_H

#include <stddef.h>

/* Reads a whole file into a NUL-terminated buffer (the NUL is not counted in
 * *size). Returns 0 or a TRIDENT_E* code with a message naming the path.
 * The caller owns *data and frees it with free(). max_size 0 means no limit. */
int file_read_all(const char *path, size_t max_size, char **data, size_t *size, char *err, size_t err_size);

/* A read-only, private memory map of a whole file. */
typedef struct {
    void *data;  /* NULL for an empty file */
    size_t size;
} file_map;

/* Maps path read-only. Returns 0 or a TRIDENT_E* code. The mapping belongs to
 * *map until file_unmap releases it (file_unmap on a zeroed map is a no-op). */
int file_map_open(const char *path, file_map *map, char *err, size_t err_size);
void file_unmap(file_map *map);

/* Returns 1 if path exists (any type), 0 if not. */
int file_exists(const char *path);

/* Writes "dir/name" into out (out_size bytes). Returns 0, or TRIDENT_ELIMIT when it does not fit. */
int path_join(char *out, size_t out_size, const char *dir, const char *name);

#endif
