/* check.c — assertion bookkeeping for the C tests. */
#include "check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/file.h"

static int check_passed, check_failed;

void check_record(int ok, const char *file, int line, const char *fmt, ...) {
    if (ok) {
        check_passed++;
        return;
    }
    check_failed++;
    fprintf(stderr, "FAIL %s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int check_summary(void) {
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}

int check_failures(void) { return check_failed; }

const char *check_shared_path(const char *relative) {
    static char buf[4096];
    const char *root = getenv("TRIDENT_SHARED");
    if (!root || !*root) root = TRIDENT_SHARED;
    snprintf(buf, sizeof buf, "%s/%s", root, relative);
    return buf;
}

char *check_read_file(const char *path, size_t *size) {
    char *data = NULL, err[256];
    size_t n = 0;
    if (file_read_all(path, 0, &data, &n, err, sizeof err) != 0) return NULL;
    if (size) *size = n;
    return data;
}
