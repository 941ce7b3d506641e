/* probe.c — the structural pre-check an encoded file passes before libsndfile
 * sees it: the container must be one of the accepted formats (by its magic
 * bytes), a RIFF/WAVE file's chunks must fit in the file, and the sub-chunks
 * of its LIST chunks must fit in their LIST (libsndfile 1.2.0 adds a LIST
 * sub-chunk's size to a 32-bit counter: a size near 2^32 wraps it and
 * sf_open never returns). The declared format and duration are read from the
 * header where the container states them (WAV, FLAC), so that a caller can
 * refuse a too long file before decoding it. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "audio/audio.h"
#include "base/error.h"

static uint32_t le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static unsigned le16(const unsigned char *p) { return (unsigned)p[0] | (unsigned)p[1] << 8; }

static int tag_is(const unsigned char *p, const char *tag) { return memcmp(p, tag, 4) == 0; }

/* A chunk id for messages: printable bytes as is, others as '?'. */
static void tag_text(const unsigned char *p, char out[5]) {
    for (int i = 0; i < 4; i++) out[i] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
    out[4] = '\0';
}

/* The sub-chunks of a LIST chunk's body p[0 .. len), tokenised as libsndfile
 * does: "INFO"/"adtl" are bare markers, "data" or four zero bytes end the
 * list, any other id is followed by a size that must fit in the list. */
static int list_check(const unsigned char *p, size_t len, size_t at, const char *what, char *err, size_t err_size) {
    size_t pos = 0;
    while (len - pos >= 4) {
        const unsigned char *id = p + pos;
        pos += 4;
        if (tag_is(id, "INFO") || tag_is(id, "adtl")) continue;
        if (tag_is(id, "data") || le32(id) == 0) return 0;
        char t[5];
        tag_text(id, t);
        if (tag_is(id, "exif"))
            return error_set(err, err_size, TRIDENT_EFORMAT,
                             "%s is a malformed WAV file: LIST sub-chunk 'exif' at byte %zu is not accepted; "
                             "accepted formats: %s",
                             what, at + pos - 4, AUDIO_ACCEPTED_FORMATS);
        if (len - pos < 4) return 0; /* libsndfile stops at the end of the list */
        uint64_t size = le32(p + pos);
        pos += 4;
        size += size & 1;
        if (size > len - pos)
            return error_set(err, err_size, TRIDENT_EFORMAT,
                             "%s is a malformed WAV file: LIST sub-chunk '%s' at byte %zu declares %llu bytes but "
                             "its LIST holds only %zu more; accepted formats: %s",
                             what, t, at + pos - 8, (unsigned long long)size, len - pos, AUDIO_ACCEPTED_FORMATS);
        pos += (size_t)size;
    }
    return 0;
}

/* WAVE format tags whose frames are data bytes / block align. */
static int wav_tag_is_linear(unsigned tag) { return tag == 1 || tag == 3 || tag == 6 || tag == 7 || tag == 0xFFFE; }

static int riff_check(const unsigned char *d, size_t size, const char *what, audio_probe_info *out, char *err,
                      size_t err_size) {
    size_t pos = 12;
    unsigned tag = 0, block_align = 0;
    int have_fmt = 0;
    while (size - pos >= 8) {
        const unsigned char *id = d + pos;
        uint64_t csize = le32(d + pos + 4);
        size_t body = pos + 8, avail = size - body;
        char t[5];
        tag_text(id, t);
        if (tag_is(id, "data")) {
            uint64_t have = csize < avail ? csize : avail;
            if (have_fmt && wav_tag_is_linear(tag) && block_align > 0) out->frames = (int64_t)(have / block_align);
            if (csize >= avail) return 0; /* the samples run to the end of the file */
        } else if (csize > avail) {
            return error_set(err, err_size, TRIDENT_EFORMAT,
                             "%s is a malformed WAV file: chunk '%s' at byte %zu declares %llu bytes but only %zu "
                             "remain; accepted formats: %s",
                             what, t, pos, (unsigned long long)csize, avail, AUDIO_ACCEPTED_FORMATS);
        } else if (tag_is(id, "LIST")) {
            int rc = list_check(d + body, (size_t)csize, body, what, err, err_size);
            if (rc) return rc;
        } else if (tag_is(id, "fmt ") && csize >= 16 && !have_fmt) {
            have_fmt = 1;
            tag = le16(d + body);
            out->channels = (int)le16(d + body + 2);
            out->sample_rate = (int)le32(d + body + 4);
            block_align = le16(d + body + 12);
        }
        pos = body + (size_t)csize;
        if (csize & 1) {
            if (pos == size) return 0;
            pos++;
        }
    }
    return 0;
}

/* FLAC: "fLaC", then metadata blocks, the first being STREAMINFO (34 bytes):
 * 20 bits rate, 3 bits channels - 1, 5 bits bits - 1, 36 bits total samples (0: unknown). */
static void flac_streaminfo(const unsigned char *d, size_t size, audio_probe_info *out) {
    if (size < 42 || (d[4] & 0x7f) != 0) return;
    const unsigned char *s = d + 8;
    out->sample_rate = (int)((unsigned)s[10] << 12 | (unsigned)s[11] << 4 | (unsigned)s[12] >> 4);
    out->channels = ((s[12] >> 1) & 7) + 1;
    uint64_t total = (uint64_t)(s[13] & 0x0f) << 32 | (uint64_t)s[14] << 24 | (uint64_t)s[15] << 16 |
                     (uint64_t)s[16] << 8 | s[17];
    if (total > 0) out->frames = (int64_t)total;
}

int audio_probe(const void *data, size_t size, const char *what, audio_probe_info *out, char *err, size_t err_size) {
    memset(out, 0, sizeof *out);
    out->frames = -1;
    if (!what) what = "the audio";
    if (!data || size == 0)
        return error_set(err, err_size, TRIDENT_EFORMAT, "%s is empty (0 bytes); accepted formats: %s", what,
                         AUDIO_ACCEPTED_FORMATS);
    const unsigned char *d = data;
    if (size >= 12 && tag_is(d, "RIFF") && tag_is(d + 8, "WAVE")) {
        out->container = "WAV";
        return riff_check(d, size, what, out, err, err_size);
    }
    if (size >= 4 && tag_is(d, "fLaC")) {
        out->container = "FLAC";
        flac_streaminfo(d, size, out);
        return 0;
    }
    if (size >= 4 && tag_is(d, "OggS")) {
        out->container = "OGG";
        return 0;
    }
    if ((size >= 3 && memcmp(d, "ID3", 3) == 0) || (size >= 2 && d[0] == 0xFF && (d[1] & 0xE0) == 0xE0)) {
        out->container = "MP3";
        return 0;
    }
    return error_set(err, err_size, TRIDENT_EFORMAT,
                     "%s is not in an accepted audio format (unrecognised or corrupt header); accepted formats: %s",
                     what, AUDIO_ACCEPTED_FORMATS);
}

double audio_probe_duration(const audio_probe_info *info) {
    if (info->frames < 0 || info->sample_rate <= 0) return -1;
    return (double)info->frames / info->sample_rate;
}
