/* json.c — see json.h. */
#include "base/json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"

json_t *json_text(const char *s) {
    if (!s) s = "";
    json_t *j = json_string(s);
    if (j) return j;
    size_t n = strlen(s);
    if (n > (SIZE_MAX - 1) / 3) return NULL;
    char *out = malloc(3 * n + 1);
    if (!out) return NULL;
    utf8_repair((const unsigned char *)s, n, out, UTF8_REPAIR_BYTES);
    j = json_string(out);
    free(out);
    return j;
}

json_t *json_text_or_null(const char *s) { return s && *s ? json_text(s) : json_null(); }
