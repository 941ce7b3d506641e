/* transcribe.c — `trident transcribe` (placeholder until its issue lands). */
#include <stdio.h>

#include "cli/cli.h"

int cli_transcribe(int argc, char **argv) {
    (void)argc;
    (void)argv;
    fprintf(stderr, "trident transcribe: not available in this build yet\n");
    return 2;
}
