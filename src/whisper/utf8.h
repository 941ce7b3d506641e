/* utf8.h — UTF-8 helpers for the tokenizer (private to src/whisper/).
 *
 * Strict decoding of one code point, encoding, the Unicode classes that the
 * GPT-2 pre-tokenizer pattern needs (\p{L}, \p{N}, \s) and decoding of arbitrary
 * bytes with replacement characters exactly as Python's
 * bytes.decode("utf-8", errors="replace") does. No allocation, no state. */
#ifndef TRIDENT_WHISPER_UTF8_H
#define TRIDENT_WHISPER_UTF8_H

#include <stddef.h>
#include <stdint.h>

enum {
    WHISPER_UTF8_OTHER = 0,  /* neither letter, number nor white space */
    WHISPER_UTF8_LETTER = 1, /* general category L* (Lu Ll Lt Lm Lo) */
    WHISPER_UTF8_NUMBER = 2, /* general category N* (Nd Nl No) */
    WHISPER_UTF8_SPACE = 3,  /* the White_Space property (what \s matches) */
};

/* The class of code point cp (one of WHISPER_UTF8_*). */
int whisper_utf8_class(uint32_t cp);

/* Decodes the well-formed UTF-8 sequence at s[*pos] (n bytes in s), stores the
 * code point in *cp and advances *pos. Returns 0, or -1 if the bytes there are not
 * well-formed UTF-8 (overlong forms, surrogates and values above U+10FFFF are
 * rejected); *pos is then unchanged. */
int whisper_utf8_next(const unsigned char *s, size_t n, size_t *pos, uint32_t *cp);

/* Writes the UTF-8 form of cp (<= U+10FFFF) to out and returns its length (1–4). */
size_t whisper_utf8_encode(uint32_t cp, unsigned char out[4]);

/* Decodes n arbitrary bytes to UTF-8 the way Python's
 * bytes.decode("utf-8", errors="replace") does: well-formed sequences are copied,
 * and each maximal subpart of an ill-formed sequence (a lead byte followed by the
 * continuation bytes that are still valid for it, or a single byte that cannot
 * start a sequence) becomes one U+FFFD. out must hold 3*n + 1 bytes; the result
 * is NUL-terminated and its length (without the NUL) is returned. */
size_t whisper_utf8_decode_replace(const unsigned char *in, size_t n, char *out);

#endif
