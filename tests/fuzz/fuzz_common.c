/* fuzz_common.c — the harnesses' scratch directory and file writing. */
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];

const char *fuzz_dir(void) {
    if (!dir[0]) {
        struct stat st;
        const char *base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
        snprintf(dir, sizeof dir, "%s/trident-fuzz-XXXXXX", base);
        if (!mkdtemp(dir)) {
            perror("fuzz: mkdtemp");
            abort();
        }
    }
    return dir;
}

void fuzz_file_write(const char *name, const uint8_t *data, size_t size, char *path, size_t path_size) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", fuzz_dir(), name);
    FILE *f = fopen(p, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror("fuzz: write");
        abort();
    }
    if (path) snprintf(path, path_size, "%s", p);
}

void fuzz_file_remove(const char *name) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", fuzz_dir(), name);
    unlink(p);
}
