/* model_gen.c — `trident model-gen` (placeholder until its issue lands). */
#include <stdio.h>

#include "cli/cli.h"

int cli_model_gen(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "trident model-gen: not available in this build yet\n");
    return 2;
}
