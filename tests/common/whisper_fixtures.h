/* whisper_fixtures.h — the fixture cases of ../shared/whisper-ref that the
 * whisper parity, decoding and q8 tests all run: each model alone, and two
 * models with their LoRA adapters. */
#ifndef TRIDENT_TEST_WHISPER_FIXTURES_H
#define TRIDENT_TEST_WHISPER_FIXTURES_H

#include <stddef.h>

typedef struct {
    const char *model;    /* directory under whisper-ref/models/ */
    const char *lora;     /* directory under whisper-ref/lora/, or NULL */
    const char *expected; /* directory under whisper-ref/expected/ */
} whisper_fixture;

extern const whisper_fixture whisper_fixtures[];
extern const size_t whisper_fixture_count;

/* The shared-fixture path of fmt (two %s) filled with a and b. Returns a
 * malloc'd string the caller owns (free), or NULL when out of memory. */
char *whisper_fixture_path(const char *fmt, const char *a, const char *b);

#endif
