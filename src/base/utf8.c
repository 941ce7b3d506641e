/* utf8.c — see utf8.h. The valid ranges of each byte are Unicode's table 3-7
 * (well-formed UTF-8 byte sequences). */
#include "base/utf8.h"

/* For a lead byte b: the number of continuation bytes it needs (0 for ASCII,
 * -1 if b cannot start a sequence) and the valid range of the second byte. */
static int utf8_lead(unsigned char b, unsigned char *lo, unsigned char *hi) {
    *lo = 0x80;
    *hi = 0xBF;
    if (b < 0x80) return 0;
    if (b >= 0xC2 && b <= 0xDF) return 1;
    if (b == 0xE0) {
        *lo = 0xA0;
        return 2;
    }
    if (b == 0xED) { /* no surrogates */
        *hi = 0x9F;
        return 2;
    }
    if (b >= 0xE1 && b <= 0xEF) return 2;
    if (b == 0xF0) {
        *lo = 0x90;
        return 3;
    }
    if (b == 0xF4) { /* nothing above U+10FFFF */
        *hi = 0x8F;
        return 3;
    }
    if (b >= 0xF1 && b <= 0xF3) return 3;
    return -1;
}

/* Length of the valid prefix of the sequence starting at in[0] (n > 0 bytes):
 * the whole sequence length when it is well-formed, else the maximal subpart
 * (at least 1). *ok is set to 1 for a well-formed sequence. */
static size_t utf8_span(const unsigned char *in, size_t n, int *ok) {
    unsigned char lo, hi;
    int need = utf8_lead(in[0], &lo, &hi);
    *ok = 0;
    if (need < 0) return 1;
    size_t len = 1;
    for (int k = 0; k < need; k++, len++) {
        if (len >= n) return len;
        unsigned char c = in[len];
        if (k == 0 ? (c < lo || c > hi) : (c < 0x80 || c > 0xBF)) return len;
    }
    *ok = 1;
    return len;
}

size_t utf8_sequence_len(const unsigned char *s, size_t n) {
    int ok;
    size_t len = utf8_span(s, n, &ok);
    return ok ? len : 0;
}

size_t utf8_repair(const unsigned char *in, size_t n, char *out, unsigned policy) {
    const int controls = (policy & UTF8_REPAIR_CONTROLS) != 0, subparts = (policy & UTF8_REPAIR_SUBPARTS) != 0;
    size_t i = 0, o = 0;
    while (i < n) {
        unsigned char c = in[i];
        if (c < 0x80) {
            out[o++] = controls && (c < 0x20 || c == 0x7F) && c != '\t' && c != '\n' ? ' ' : (char)c;
            i++;
            continue;
        }
        int ok;
        size_t len = utf8_span(in + i, n - i, &ok);
        if (ok) {
            for (size_t k = 0; k < len; k++) out[o++] = (char)in[i + k];
        } else {
            out[o++] = (char)0xEF; /* U+FFFD */
            out[o++] = (char)0xBF;
            out[o++] = (char)0xBD;
            if (!subparts) len = 1;
        }
        i += len;
    }
    out[o] = '\0';
    return o;
}
