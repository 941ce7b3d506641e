/* serve.c — `trident serve` (placeholder until its issue lands). */
#include <stdio.h>

#include "cli/cli.h"

int cli_serve(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "trident serve: not available in this build yet\n");
    return 2;
}
