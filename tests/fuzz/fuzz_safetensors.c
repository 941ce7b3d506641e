/* fuzz_safetensors.c — libFuzzer harness: the safetensors header parser
 * (8-byte length, JSON header, dtype/shape/offset checks) on arbitrary files. */
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "fuzz_common.h"
#include "whisper/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char path[512], err[TRIDENT_ERR_SIZE];
    fuzz_file_write("model.safetensors", data, size, path, sizeof path);
    safetensors *st = NULL;
    if (safetensors_open(path, &st, err, sizeof err) == 0) {
        size_t n = 0;
        const safetensors_tensor *t = safetensors_tensors(st, &n);
        volatile unsigned char sink = 0;
        for (size_t i = 0; i < n; i++) {
            (void)safetensors_find(st, t[i].name);
            /* every tensor's bytes must lie inside the mapping */
            if (t[i].nbytes) sink ^= ((const unsigned char *)t[i].data)[0] ^ ((const unsigned char *)t[i].data)[t[i].nbytes - 1];
        }
        (void)sink;
        safetensors_free(st);
    }
    return 0;
}
