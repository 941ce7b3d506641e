/* json.h — JSON strings from C text that may be NULL, empty or not valid
 * UTF-8 (jansson's json_string refuses the last: a transcript or a stored row
 * can end inside a multi-byte character). No state; thread-safe. */
#ifndef TRIDENT_BASE_JSON_H
#define TRIDENT_BASE_JSON_H

#include <jansson.h>

/* A JSON string of s (NULL: ""); bytes that do not start a well-formed UTF-8
 * sequence become U+FFFD, one per byte. Returns a new reference the caller
 * owns, or NULL when out of memory. */
json_t *json_text(const char *s);

/* JSON null when s is NULL or empty, else json_text(s). A new reference the
 * caller owns, or NULL when out of memory. */
json_t *json_text_or_null(const char *s);

#endif
