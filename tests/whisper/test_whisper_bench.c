/* test_whisper_bench.c — `trident bench` on a fixture model: --json prints the
 * keys scripts rely on with plausible values, bad options exit with status 2.
 * Runs the built binary (TRIDENT_BINARY). Timings are not asserted. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "check.h"

static int run(const char *args, char **out) {
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "TRIDENT_MODEL= '%s' bench %s 2>/dev/null", TRIDENT_BINARY, args);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t cap = 1 << 16, n = 0;
    *out = calloc(cap, 1);
    if (*out) n = fread(*out, 1, cap - 1, p);
    (void)n;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void) {
    char args[2048], *out = NULL;
    snprintf(args, sizeof args, "--model '%s' --threads 2 --runs 1 --steps 2 --rtf-runs 0 --json",
             check_shared_path("whisper-ref/models/tiny-random-v2"));
    int rc = run(args, &out);
    CHECK(rc == 0, "bench --json exits 0 (%d)", rc);
    json_t *j = out ? json_loads(out, 0, NULL) : NULL;
    CHECK(j != NULL, "bench --json prints one JSON object:\n%s", out ? out : "");
    const char *keys[] = {"load_ms", "mel_ms", "encode_ms", "rtf", "peak_rss_mb"};
    for (size_t i = 0; j && i < sizeof keys / sizeof keys[0]; i++)
        CHECK(json_is_number(json_object_get(j, keys[i])), "key %s", keys[i]);
    json_t *d = json_object_get(j, "decode_ms_per_token");
    const char *ctx[] = {"1", "100", "200"};
    for (size_t i = 0; i < 3; i++)
        CHECK(json_number_value(json_object_get(d, ctx[i])) > 0, "decode_ms_per_token.%s > 0", ctx[i]);
    CHECK(json_number_value(json_object_get(j, "encode_ms")) > 0, "encode_ms > 0");
    CHECK(json_number_value(json_object_get(j, "peak_rss_mb")) > 0, "peak_rss_mb > 0");
    json_decref(j);
    free(out);

    snprintf(args, sizeof args, "--model '%s' --runs 1 --quant q8 --stages load --json",
             check_shared_path("whisper-ref/models/tiny-random-v2"));
    rc = run(args, &out);
    j = out ? json_loads(out, 0, NULL) : NULL;
    const char *quant = json_string_value(json_object_get(j, "quant"));
    CHECK(rc == 0 && quant && strcmp(quant, "q8") == 0, "bench --quant q8");
    json_decref(j);
    free(out);

    const char *bad[] = {"--model x --quant q4", "--model x --runs 0", "--model x --stages nothing", "--threads 2",
                         "--model x --bogus"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        rc = run(bad[i], &out);
        free(out);
        CHECK(rc == 2, "'%s' exits 2 (%d)", bad[i], rc);
    }
    return check_summary();
}
