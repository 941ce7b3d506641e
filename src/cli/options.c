/* options.c — command-line value parsing shared by the trident subcommands. */
#include "cli/options.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int cli_int_parse(const char *s, int min, int max, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) return -1;
    *out = (int)v;
    return 0;
}

int cli_quant_parse(const char *s, whisper_weights *weights) {
    if (strcmp(s, "q8") == 0)
        *weights = WHISPER_WEIGHTS_Q8;
    else if (strcmp(s, "none") == 0)
        *weights = WHISPER_WEIGHTS_NATIVE;
    else
        return -1;
    return 0;
}

int cli_audio_ctx_fit_env(void) {
    const char *e = getenv("TRIDENT_AUDIO_CTX_FIT");
    return e && strcmp(e, "1") == 0;
}
