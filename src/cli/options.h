/* options.h — command-line value parsing shared by the trident subcommands. */
#ifndef TRIDENT_CLI_OPTIONS_H
#define TRIDENT_CLI_OPTIONS_H

#include "whisper/engine.h"

/* Parses s as a whole base-10 integer in [min, max] into *out. Returns 0, or -1
 * (leaving *out unchanged) when s is empty, has trailing text, overflows or is
 * out of range; the caller reports the error. */
int cli_int_parse(const char *s, int min, int max, int *out);

/* Parses a --quant value: "q8" (8-bit weights converted at load) or "none"
 * into *weights. Returns 0, or -1 (leaving *weights unchanged) otherwise. */
int cli_quant_parse(const char *s, whisper_weights *weights);

/* TRIDENT_AUDIO_CTX_FIT from the environment: 1 when set to "1" (the default of
 * --audio-ctx-fit for transcribe and analyze; serve reads it with its options). */
int cli_audio_ctx_fit_env(void);

#endif
