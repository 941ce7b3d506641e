/* test_json.c — base/json: strings from NULL, empty, valid and invalid UTF-8
 * text, and JSON null for what has no value. */
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "check.h"

/* 1 when j is a JSON string equal to want (want_len bytes). Releases j. */
static int is_string(json_t *j, const char *want, size_t want_len) {
    int ok = json_is_string(j) && json_string_length(j) == want_len && memcmp(json_string_value(j), want, want_len) == 0;
    json_decref(j);
    return ok;
}
#define IS_STRING(j, want) is_string(j, want, sizeof want - 1)

static int is_null(json_t *j) {
    int ok = json_is_null(j);
    json_decref(j);
    return ok;
}

int main(void) {
    CHECK(IS_STRING(json_text("caf\xC3\xA9"), "caf\xC3\xA9"), "valid UTF-8 as is");
    CHECK(IS_STRING(json_text(NULL), ""), "NULL: the empty string");
    CHECK(IS_STRING(json_text(""), ""), "empty: the empty string");
    CHECK(IS_STRING(json_text("ab\xE2\x82" "c\xFF"), "ab\xEF\xBF\xBD\xEF\xBF\xBD" "c\xEF\xBF\xBD"),
          "invalid UTF-8: one U+FFFD per bad byte");
    CHECK(IS_STRING(json_text("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"), "a surrogate is not copied");
    CHECK(IS_STRING(json_text("tab\tline\n\x01"), "tab\tline\n\x01"), "control characters are kept (JSON escapes them)");

    CHECK(is_null(json_text_or_null(NULL)), "or_null: NULL is null");
    CHECK(is_null(json_text_or_null("")), "or_null: empty is null");
    CHECK(IS_STRING(json_text_or_null("Hope Road"), "Hope Road"), "or_null: text is a string");
    CHECK(IS_STRING(json_text_or_null("H\xFFpe"), "H\xEF\xBF\xBDpe"), "or_null: invalid text is repaired");

    /* what comes out always dumps and parses back */
    json_t *o = json_pack("{s:o, s:o}", "a", json_text("\xC0\xAF x"), "b", json_text_or_null(NULL));
    char *dump = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_t *back = dump ? json_loads(dump, 0, NULL) : NULL;
    CHECK(back && json_is_null(json_object_get(back, "b")) &&
              strcmp(json_string_value(json_object_get(back, "a")), "\xEF\xBF\xBD\xEF\xBF\xBD x") == 0,
          "a repaired string round-trips through json_dumps / json_loads");
    json_decref(back);
    free(dump);
    json_decref(o);
    return check_summary();
}
