/* analyze.c — `trident analyze` (placeholder until its issue lands). */
#include <stdio.h>

#include "cli/cli.h"

int cli_analyze(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "trident analyze: not available in this build yet\n");
    return 2;
}
