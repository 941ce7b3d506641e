/* json_input.c — the one way JSON from a client is parsed: nesting depth checked
 * by a linear scan before jansson (whose parser recurses once per level) sees it.
 *
 * civetweb's worker threads have ~100-KB stacks; jansson's recursive descent
 * overflows them at a nesting depth of ~900 ('[' * 1000 + ']' * 1000 killed the
 * process). The scan counts '[' and '{' outside strings (honouring backslash
 * escapes) and refuses anything deeper than the limit, so the parser's
 * recursion is bounded by the limit whatever the input. */

#include "base/error.h"
#include "server/internal.h"

int json_input_depth_check(const char *data, size_t len, int max_depth, char *err, size_t err_size) {
    int depth = 0, in_string = 0;
    for (size_t i = 0; i < len; i++) {
        char ch = data[i];
        if (in_string) {
            if (ch == '\\') i++; /* the escaped character cannot end the string */
            else if (ch == '"') in_string = 0;
        } else if (ch == '"') {
            in_string = 1;
        } else if (ch == '[' || ch == '{') {
            if (++depth > max_depth)
                return error_set(err, err_size, TRIDENT_EINVAL,
                                 "JSON nested deeper than %d levels (at byte %zu) is refused", max_depth, i);
        } else if ((ch == ']' || ch == '}') && depth > 0) {
            depth--;
        }
    }
    return 0;
}

int json_input_parse(const char *data, size_t len, json_t **out, char *err, size_t err_size) {
    *out = NULL;
    int rc = json_input_depth_check(data, len, JSON_INPUT_MAX_DEPTH, err, err_size);
    if (rc != 0) return rc;
    json_error_t jerr;
    json_t *j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!j) return error_set(err, err_size, TRIDENT_EINVAL, "invalid JSON: %s (byte %d)", jerr.text, jerr.position);
    *out = j;
    return 0;
}
