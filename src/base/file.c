/* file.c — whole-file reads, read-only memory maps, path helpers. */
#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"

int file_read_all(const char *path, size_t max_size, char **data, size_t *size, char *err, size_t err_size) {
    *data = NULL;
    *size = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return error_set(err, err_size, errno == ENOENT ? TRIDENT_ENOTFOUND : TRIDENT_EIO,
                             "cannot open %s: %s", path, strerror(errno));
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory reading %s", path);
    }
    for (;;) {
        if (len + 1 >= cap) {
            char *grown = realloc(buf, cap * 2);
            if (!grown) {
                free(buf);
                fclose(f);
                return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory reading %s", path);
            }
            buf = grown;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (max_size && len > max_size) {
            free(buf);
            fclose(f);
            return error_set(err, err_size, TRIDENT_ELIMIT, "%s is larger than %zu bytes", path, max_size);
        }
        if (got == 0) break;
    }
    int failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        return error_set(err, err_size, TRIDENT_EIO, "cannot read %s", path);
    }
    buf[len] = '\0';
    *data = buf;
    *size = len;
    return 0;
}

int file_map_open(const char *path, file_map *map, char *err, size_t err_size) {
    map->data = NULL;
    map->size = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return error_set(err, err_size, errno == ENOENT ? TRIDENT_ENOTFOUND : TRIDENT_EIO,
                                 "cannot open %s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return error_set(err, err_size, TRIDENT_EIO, "%s is not a regular file", path);
    }
    if (st.st_size > 0) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            close(fd);
            return error_set(err, err_size, TRIDENT_EIO, "cannot map %s: %s", path, strerror(errno));
        }
        map->data = p;
        map->size = (size_t)st.st_size;
    }
    close(fd);
    return 0;
}

void file_unmap(file_map *map) {
    if (map->data) munmap(map->data, map->size);
    map->data = NULL;
    map->size = 0;
}

int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

int path_join(char *out, size_t out_size, const char *dir, const char *name) {
    int n = snprintf(out, out_size, "%s/%s", dir, name);
    return (n < 0 || (size_t)n >= out_size) ? TRIDENT_ELIMIT : 0;
}
