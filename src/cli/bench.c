/* bench.c — `trident bench` (placeholder until its issue lands). */
#include <stdio.h>

#include "cli/cli.h"

int cli_bench(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "trident bench: not available in this build yet\n");
    return 2;
}
