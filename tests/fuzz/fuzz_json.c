/* fuzz_json.c — libFuzzer harness: the JSON documents TRIDENT reads from
 * outside with jansson — a model's config.json and a PEFT adapter's
 * adapter_config.json (target_modules lists and regexes, rank/alpha patterns,
 * layers_to_transform). The first byte picks the document; the rest is its
 * text. The adapter's config is checked against the fixture model
 * tiny-random-v2, loaded once; the scratch directories hold no weights, so a
 * config that passes ends at the missing tensor file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/error.h"
#include "fuzz_common.h"
#include "whisper/engine.h"
#include "whisper/lora.h"

static whisper_model *model;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    char err[TRIDENT_ERR_SIZE];
    whisper_load_params p = {.model_dir = TRIDENT_SHARED "/whisper-ref/models/tiny-random-v2", .n_threads = 1};
    if (whisper_model_load(&p, &model, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_json: cannot load the fixture model: %s\n", err);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    char err[TRIDENT_ERR_SIZE];
    if (data[0] & 1) {
        fuzz_file_write("adapter_config.json", data + 1, size - 1, NULL, 0);
        (void)whisper_lora_apply(model, fuzz_dir(), err, sizeof err);
    } else {
        fuzz_file_write("config.json", data + 1, size - 1, NULL, 0);
        whisper_load_params p = {.model_dir = fuzz_dir(), .n_threads = 1};
        whisper_model *m = NULL;
        if (whisper_model_load(&p, &m, err, sizeof err) == 0) whisper_model_free(m);
    }
    return 0;
}
