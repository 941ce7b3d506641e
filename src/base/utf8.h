/* utf8.h — UTF-8 validation and repair. Well-formed means what Unicode,
 * PostgreSQL, jansson and Python accept: no overlong forms, no surrogates,
 * nothing above U+10FFFF. No allocation, no state; thread-safe. */
#ifndef TRIDENT_BASE_UTF8_H
#define TRIDENT_BASE_UTF8_H

#include <stddef.h>

/* The length (1–4) of the well-formed UTF-8 sequence that starts at s[0]
 * (n > 0 bytes readable there), or 0 when the bytes there are not one. */
size_t utf8_sequence_len(const unsigned char *s, size_t n);

/* utf8_repair's policy: one of the first two, optionally | UTF8_REPAIR_CONTROLS. */
enum {
    /* one U+FFFD for each byte that does not start a well-formed sequence
     * (text bound for the store and for JSON) */
    UTF8_REPAIR_BYTES = 0,
    /* one U+FFFD for each maximal subpart of an ill-formed sequence (a lead
     * byte followed by the continuation bytes that are still valid for it, or
     * a single byte that cannot start a sequence), as Python's
     * bytes.decode("utf-8", errors="replace") (the tokenizer's decoding) */
    UTF8_REPAIR_SUBPARTS = 1,
    /* also: C0 control characters other than tab and newline, and DEL, become a space */
    UTF8_REPAIR_CONTROLS = 2,
};

/* Copies n bytes of in to out as well-formed UTF-8: well-formed sequences are
 * copied, what is not becomes U+FFFD under policy (UTF8_REPAIR_*). out must
 * hold 3*n + 1 bytes; the result is NUL-terminated and its length (without
 * the NUL) is returned. */
size_t utf8_repair(const unsigned char *in, size_t n, char *out, unsigned policy);

#endif
