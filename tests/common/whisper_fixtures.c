/* whisper_fixtures.c — the whisper-ref fixture cases and their paths. */
#include "whisper_fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

const whisper_fixture whisper_fixtures[] = {
    {"tiny-random-v2", NULL, "tiny-random-v2"},
    {"tiny-random-v3", NULL, "tiny-random-v3"},
    {"tiny-random-en", NULL, "tiny-random-en"},
    {"tiny-random-v2", "tiny-random-v2-lora-r8", "tiny-random-v2+tiny-random-v2-lora-r8"},
    {"tiny-random-v3", "tiny-random-v3-lora-r4-rslora", "tiny-random-v3+tiny-random-v3-lora-r4-rslora"},
};

const size_t whisper_fixture_count = sizeof whisper_fixtures / sizeof whisper_fixtures[0];

char *whisper_fixture_path(const char *fmt, const char *a, const char *b) {
    char rel[512];
    snprintf(rel, sizeof rel, fmt, a, b);
    return strdup(check_shared_path(rel));
}
