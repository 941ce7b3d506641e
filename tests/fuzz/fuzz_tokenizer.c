/* fuzz_tokenizer.c — libFuzzer harness: the tokenizer files of a Whisper
 * directory (vocab.json, merges.txt, added_tokens.json). The input is split at
 * its first two NUL bytes into the three files (a missing part: no file);
 * a tokenizer that loads then encodes and decodes a short text. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "fuzz_common.h"
#include "whisper/tokenizer.h"

static const char *const files[3] = {"vocab.json", "merges.txt", "added_tokens.json"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *p = data, *end = data + size;
    for (int i = 0; i < 3; i++) {
        const uint8_t *nul = p ? memchr(p, 0, (size_t)(end - p)) : NULL;
        if (p) {
            fuzz_file_write(files[i], p, nul ? (size_t)(nul - p) : (size_t)(end - p), NULL, 0);
        } else {
            fuzz_file_remove(files[i]);
        }
        p = nul ? nul + 1 : NULL;
    }
    char err[TRIDENT_ERR_SIZE];
    whisper_tokenizer *tok = NULL;
    if (whisper_tokenizer_load(fuzz_dir(), &tok, err, sizeof err) == 0) {
        int *ids = NULL;
        size_t n = 0;
        if (whisper_tokenizer_encode(tok, " Help, fire at 12 King St\xc3\xa9!", &ids, &n) == 0) {
            char *text = whisper_tokenizer_decode(tok, ids, n, 0);
            free(text);
            free(ids);
        }
        whisper_tokenizer_free(tok);
    }
    return 0;
}
