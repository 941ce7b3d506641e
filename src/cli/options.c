/* options.c — command-line value parsing shared by the trident subcommands. */
#include "cli/options.h"

#include <errno.h>
#include <stdlib.h>

int cli_int_parse(const char *s, int min, int max, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) return -1;
    *out = (int)v;
    return 0;
}
