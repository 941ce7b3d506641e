/* test_utf8.c — base/utf8: which sequences are well-formed (every 1-, 2- and
 * 3-byte input against an independent decoder, 4-byte ones around every
 * boundary) and the repair policies, on inputs allocated to their exact size
 * so that AddressSanitizer sees any read past the end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/utf8.h"
#include "check.h"

/* The textbook definition: the lead byte gives the length, continuation bytes
 * are 10xxxxxx, and the decoded value is in the range of that length, not a
 * surrogate and at most U+10FFFF. */
static size_t reference_len(const unsigned char *s, size_t n) {
    size_t len = s[0] < 0x80 ? 1 : (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : (s[0] & 0xF8) == 0xF0 ? 4 : 0;
    if (len == 0 || len > n) return 0;
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    uint32_t cp = len == 1 ? s[0] : s[0] & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
    return len;
}

/* utf8_sequence_len on a heap copy of exactly n bytes. */
static size_t seq_len(const unsigned char *s, size_t n) {
    unsigned char *copy = malloc(n);
    if (!copy) return (size_t)-1;
    memcpy(copy, s, n);
    size_t len = utf8_sequence_len(copy, n);
    free(copy);
    return len;
}

static void test_sequence_len(void) {
    size_t bad = 0, valid = 0;
    unsigned char b[4];
    for (unsigned x = 0; x < 256; x++) {
        b[0] = (unsigned char)x;
        if (utf8_sequence_len(b, 1) != reference_len(b, 1)) bad++;
        for (unsigned y = 0; y < 256; y++) {
            b[1] = (unsigned char)y;
            if (utf8_sequence_len(b, 2) != reference_len(b, 2)) bad++;
            for (unsigned z = 0; z < 256; z++) {
                b[2] = (unsigned char)z;
                size_t got = utf8_sequence_len(b, 3);
                if (got != reference_len(b, 3)) bad++;
                valid += got == 3;
            }
        }
    }
    CHECK(bad == 0, "every 1-, 2- and 3-byte input as the reference decoder (%zu differ)", bad);
    CHECK(valid == 0x10000 - 0x800 - 0x800, "3-byte sequences: U+0800..U+FFFF without surrogates (%zu)", valid);

    /* 4 bytes: every lead and second byte, the last two at the edges of the continuation range */
    static const unsigned char edges[] = {0x00, 0x7F, 0x80, 0xBF, 0xC0, 0xFF};
    bad = 0;
    for (unsigned x = 0xF0; x < 0x100; x++)
        for (unsigned y = 0; y < 256; y++)
            for (size_t i = 0; i < sizeof edges; i++)
                for (size_t j = 0; j < sizeof edges; j++) {
                    b[0] = (unsigned char)x, b[1] = (unsigned char)y, b[2] = edges[i], b[3] = edges[j];
                    if (utf8_sequence_len(b, 4) != reference_len(b, 4)) bad++;
                }
    CHECK(bad == 0, "4-byte inputs as the reference decoder (%zu differ)", bad);

    /* the boundaries by name, each on a buffer of its exact size */
    CHECK(seq_len((const unsigned char *)"\xF0\x90\x80\x80", 4) == 4, "U+10000");
    CHECK(seq_len((const unsigned char *)"\xF4\x8F\xBF\xBF", 4) == 4, "U+10FFFF");
    CHECK(seq_len((const unsigned char *)"\xF4\x90\x80\x80", 4) == 0, "above U+10FFFF");
    CHECK(seq_len((const unsigned char *)"\xED\x9F\xBF", 3) == 3 && seq_len((const unsigned char *)"\xED\xA0\x80", 3) == 0,
          "U+D7FF, then a surrogate");
    CHECK(seq_len((const unsigned char *)"\xC0\xAF", 2) == 0 && seq_len((const unsigned char *)"\xE0\x9F\xBF", 3) == 0,
          "overlong forms");
    CHECK(seq_len((const unsigned char *)"\xF0\x9F\x98", 3) == 0 && seq_len((const unsigned char *)"\xE6", 1) == 0,
          "a sequence cut by the end of the input");
    CHECK(seq_len((const unsigned char *)"\x80", 1) == 0 && seq_len((const unsigned char *)"\xF5\x80\x80\x80", 4) == 0,
          "a lone continuation byte, a lead byte above F4");
}

/* utf8_repair of in (n bytes, copied to a buffer of that size) into a buffer of exactly 3n + 1 bytes. */
static int repaired(const char *in, size_t n, unsigned policy, const char *want, size_t want_len) {
    unsigned char *src = malloc(n ? n : 1);
    char *out = malloc(3 * n + 1);
    int ok = 0;
    if (src && out) {
        memcpy(src, in, n);
        size_t len = utf8_repair(src, n, out, policy);
        ok = len == want_len && memcmp(out, want, want_len) == 0 && out[len] == '\0';
    }
    free(src);
    free(out);
    return ok;
}
#define REPAIRED(in, policy, want) repaired(in, sizeof in - 1, policy, want, sizeof want - 1)

static void test_repair(void) {
    /* per byte: every byte that does not start a well-formed sequence */
    CHECK(REPAIRED("caf\xC3\xA9 \xFF\xFE broken \xE2\x82 end\x01", UTF8_REPAIR_BYTES,
                   "caf\xC3\xA9 \xEF\xBF\xBD\xEF\xBF\xBD broken \xEF\xBF\xBD\xEF\xBF\xBD end\x01"),
          "bytes: one U+FFFD per bad byte, controls kept");
    CHECK(REPAIRED("caf\xC3\xA9 \xFF\xFE broken \xE2\x82 end\x01", UTF8_REPAIR_BYTES | UTF8_REPAIR_CONTROLS,
                   "caf\xC3\xA9 \xEF\xBF\xBD\xEF\xBF\xBD broken \xEF\xBF\xBD\xEF\xBF\xBD end "),
          "bytes + controls: the control becomes a space");
    CHECK(REPAIRED("a\tb\nc\r\x7F\x1F" "d", UTF8_REPAIR_BYTES | UTF8_REPAIR_CONTROLS, "a\tb\nc   d"),
          "controls: tab and newline stay, CR, DEL and the rest of C0 become spaces");
    CHECK(REPAIRED("a\0b", UTF8_REPAIR_BYTES, "a\0b") && REPAIRED("a\0b", UTF8_REPAIR_BYTES | UTF8_REPAIR_CONTROLS, "a b"),
          "a NUL byte is copied, or becomes a space with controls");

    /* maximal subparts, as Python's bytes.decode("utf-8", errors="replace") */
    CHECK(REPAIRED("\xE6\x88", UTF8_REPAIR_SUBPARTS, "\xEF\xBF\xBD"), "subparts: a truncated sequence is one U+FFFD");
    CHECK(REPAIRED("\xE6\x88", UTF8_REPAIR_BYTES, "\xEF\xBF\xBD\xEF\xBF\xBD"), "bytes: ... and two per byte");
    CHECK(REPAIRED("\xF1\x80\x80\xE6\x88\xBF", UTF8_REPAIR_SUBPARTS, "\xEF\xBF\xBD\xE6\x88\xBF"),
          "subparts: 3 of 4 bytes, then a whole character");
    CHECK(REPAIRED("\xF0\x80\x80", UTF8_REPAIR_SUBPARTS, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"),
          "subparts: F0 needs 90..BF next, so each byte is its own subpart");
    CHECK(REPAIRED("\xED\xA0\x80", UTF8_REPAIR_SUBPARTS, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"),
          "subparts: a surrogate");
    CHECK(REPAIRED("\xFF\xFE" "A\x80", UTF8_REPAIR_SUBPARTS, "\xEF\xBF\xBD\xEF\xBF\xBD" "A\xEF\xBF\xBD"),
          "subparts: bytes that cannot start a sequence");
    CHECK(REPAIRED("\xF0\x9F\x98\x80 ok", UTF8_REPAIR_SUBPARTS, "\xF0\x9F\x98\x80 ok") &&
              REPAIRED("\xF0\x9F\x98\x80 ok", UTF8_REPAIR_BYTES, "\xF0\x9F\x98\x80 ok"),
          "well-formed text is copied unchanged");
    CHECK(REPAIRED("", UTF8_REPAIR_BYTES, ""), "empty input");

    /* the worst case fills the 3n + 1 bytes exactly */
    enum { N = 1000 };
    unsigned char *bad = malloc(N);
    char *out = malloc(3 * N + 1);
    CHECK(bad && out, "buffers");
    if (bad && out) {
        memset(bad, 0xFF, N);
        size_t len = utf8_repair(bad, N, out, UTF8_REPAIR_BYTES);
        CHECK(len == 3 * N && utf8_sequence_len((const unsigned char *)out, len) == 3, "1000 bad bytes: 3000 bytes out");
    }
    free(bad);
    free(out);
}

int main(void) {
    test_sequence_len();
    test_repair();
    return check_summary();
}
