/* utf8.h — UTF-8 helpers for the tokenizer (private to src/whisper/).
 *
 * Strict decoding of one code point, encoding, and the Unicode classes that the
 * GPT-2 pre-tokenizer pattern needs (\p{L}, \p{N}, \s). Decoding arbitrary
 * bytes with replacement characters is base/utf8.h's utf8_repair
 * (UTF8_REPAIR_SUBPARTS). No allocation, no state. */
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

#endif
