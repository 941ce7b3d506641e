/* test_audio_bad.c — malformed input never crashes the decoder and always gets
 * a clear error: not audio, truncated headers and data, empty input, NaN/Inf
 * and huge samples, absurd channel counts and rates, corrupted headers, chunk
 * sizes that hang libsndfile (refused by audio_probe), and the bounds of the
 * isolated decoder (deadline, memory). Also runs under AddressSanitizer in CI
 * (label asan). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audio/audio.h"
#include "base/error.h"
#include "check.h"

static void put16(unsigned char *p, unsigned v) {
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
}
/* A 4- or 8-byte RIFF tag (bytes, not a C string: no NUL is written). */
static void put_tag(unsigned char *p, const char *tag) {
    for (size_t i = 0; tag[i]; i++) p[i] = (unsigned char)tag[i];
}
static void put32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
}

/* A canonical 44-byte-header WAV: tag 1 = PCM, 3 = IEEE float. Returns its size. */
static size_t make_wav(unsigned char *buf, unsigned tag, unsigned channels, uint32_t rate, unsigned bits,
                       uint32_t data_claimed, const void *data, size_t data_len) {
    put_tag(buf, "RIFF");
    put32(buf + 4, (uint32_t)(36 + data_len));
    put_tag(buf + 8, "WAVEfmt ");
    put32(buf + 16, 16);
    put16(buf + 20, tag);
    put16(buf + 22, channels);
    put32(buf + 24, rate);
    put32(buf + 28, rate * channels * bits / 8);
    put16(buf + 32, channels * bits / 8);
    put16(buf + 34, bits);
    put_tag(buf + 36, "data");
    put32(buf + 40, data_claimed);
    if (data_len) memcpy(buf + 44, data, data_len);
    return 44 + data_len;
}

static int decode_mem(const void *p, size_t n, char *err, size_t err_size) {
    audio_pcm pcm;
    int rc = audio_decode_memory(p, n, NULL, &pcm, err, err_size);
    if (rc == 0) {
        CHECK(pcm.samples && pcm.n_samples > 0, "success without samples");
        CHECK(audio_pcm_validate(pcm.samples, pcm.n_samples, NULL, 0) == 0, "success with non-finite samples");
    } else {
        CHECK(pcm.samples == NULL && pcm.n_samples == 0, "failure left samples behind");
        CHECK(err[0] != '\0', "failure (%d) without a message", rc);
    }
    audio_pcm_clear(&pcm);
    return rc;
}

static void expect(int rc, int want, const char *err, const char *needle, const char *what) {
    CHECK(rc == want, "%s: got %d (%s), want %d", what, rc, err, want);
    if (needle) CHECK(strstr(err, needle) != NULL, "%s: message '%s' lacks '%s'", what, err, needle);
    printf("%-28s -> %s\n", what, err);
}

/* Chunk sizes libsndfile 1.2.0 mishandles: refused before it sees them. */
static void test_chunk_sizes(void) {
    char err[TRIDENT_ERR_SIZE];
    audio_pcm pcm;
    /* the 153-byte file on which sf_open never returns */
    const char *hang = check_shared_path("repro/libsndfile-hang.wav");
    size_t n = 0;
    unsigned char *bytes = (unsigned char *)check_read_file(hang, &n);
    CHECK(bytes && n == 153, "read %s", hang);
    if (bytes) {
        int rc = decode_mem(bytes, n, err, sizeof err);
        expect(rc, TRIDENT_EFORMAT, err, "LIST sub-chunk", "libsndfile-hang.wav");
        audio_probe_info info;
        CHECK(audio_probe(bytes, n, "x", &info, err, sizeof err) == TRIDENT_EFORMAT, "probe the hang file");
        free(bytes);
    }
    CHECK(audio_decode_file(hang, NULL, &pcm, err, sizeof err) == TRIDENT_EFORMAT && strstr(err, "LIST"),
          "the hang file by path: %s", err);

    /* a good WAV with an INFO list before its data, then with a sub-chunk size that wraps 32 bits */
    int16_t s16[400];
    for (int i = 0; i < 400; i++) s16[i] = (int16_t)(3000 * sin(i * 0.05));
    unsigned char w[44 + 24 + sizeof s16];
    make_wav(w, 1, 1, 16000, 16, sizeof s16, s16, sizeof s16);
    memmove(w + 36 + 24, w + 36, 8 + sizeof s16); /* make room for the LIST before "data" */
    put_tag(w + 36, "LIST");
    put32(w + 40, 16);
    put_tag(w + 44, "INFOISFT");
    put32(w + 52, 4);
    put_tag(w + 56, "abc");
    w[59] = 0;
    put32(w + 4, (uint32_t)(sizeof w - 8));
    err[0] = 0;
    int rc = decode_mem(w, sizeof w, err, sizeof err);
    CHECK(rc == 0, "WAV with an INFO list: %s", err);
    audio_probe_info info;
    CHECK(audio_probe(w, sizeof w, "x", &info, err, sizeof err) == 0 && info.frames == 400 &&
              info.sample_rate == 16000 && info.channels == 1 && strcmp(info.container, "WAV") == 0,
          "probe: %lld frames", (long long)info.frames);
    put32(w + 52, 0xfffffff7u);
    rc = decode_mem(w, sizeof w, err, sizeof err);
    expect(rc, TRIDENT_EFORMAT, err, "declares 4294967288 bytes", "LIST sub-chunk size wraps");
    /* a chunk before the data larger than the file */
    put32(w + 52, 4);
    put32(w + 40, 100000);
    rc = decode_mem(w, sizeof w, err, sizeof err);
    expect(rc, TRIDENT_EFORMAT, err, "chunk 'LIST'", "chunk larger than the file");
    /* a container that is not accepted */
    memcpy(w, "FORM", 4);
    rc = decode_mem(w, sizeof w, err, sizeof err);
    expect(rc, TRIDENT_EFORMAT, err, "not in an accepted audio format", "AIFF-like magic");
}

/* The isolated decoder: the same result as in-process; killed at its deadline;
 * stopped by its memory bound (not in sanitizer builds, which skip RLIMIT_AS). */
static void test_isolated(void) {
    char err[TRIDENT_ERR_SIZE];
    size_t n = 0;
    unsigned char *jfk = (unsigned char *)check_read_file(check_shared_path("audio/jfk.wav"), &n);
    CHECK(jfk != NULL, "read jfk.wav");
    if (!jfk) return;
    audio_pcm a, b;
    int rc = audio_decode_memory(jfk, n, NULL, &a, err, sizeof err);
    CHECK(rc == 0, "in-process: %s", err);
    /* forked, and spawned from the trident binary (the server's way) */
    audio_isolation spawned = {.exe = TRIDENT_BINARY};
    const audio_isolation *ways[2] = {NULL, &spawned};
    for (int w = 0; w < 2; w++) {
        rc = audio_decode_memory_isolated(jfk, n, NULL, ways[w], &b, err, sizeof err);
        CHECK(rc == 0, "isolated (%s): %s", w ? "spawned" : "forked", err);
        if (rc == 0 && a.samples) {
            CHECK(a.n_samples == b.n_samples && memcmp(a.samples, b.samples, a.n_samples * sizeof(float)) == 0 &&
                      b.source_rate == 16000 && b.source_channels == 1 &&
                      strcmp(a.source_format, b.source_format) == 0,
                  "isolated decode (%s) differs", w ? "spawned" : "forked");
        }
        audio_pcm_clear(&b);
    }
    rc = audio_decode_memory_isolated(jfk, 30, NULL, &spawned, &b, err, sizeof err);
    expect(rc, TRIDENT_EFORMAT, err, "accepted formats", "spawned: truncated header");
    audio_isolation missing = {.exe = "/nonexistent/trident"};
    rc = audio_decode_memory_isolated(jfk, n, NULL, &missing, &b, err, sizeof err);
    CHECK(rc < 0 && b.samples == NULL && err[0], "a missing decoder binary is an error: %d %s", rc, err);
    printf("%-28s -> %s\n", "spawned: no such binary", err);
    audio_pcm_clear(&a);
    /* errors cross the process boundary unchanged */
    rc = audio_decode_memory_isolated(jfk, 30, NULL, NULL, &b, err, sizeof err);
    expect(rc, TRIDENT_EFORMAT, err, "accepted formats", "isolated: truncated header");
    audio_decode_options shorter = {.max_seconds = 5};
    rc = audio_decode_memory_isolated(jfk, n, &shorter, NULL, &b, err, sizeof err);
    expect(rc, TRIDENT_ELIMIT, err, "at most 5 s", "isolated: over max_seconds");
    /* ten minutes of 48-kHz audio cannot be decoded and resampled in 1 ms */
    size_t frames = 48000 * 600;
    size_t big_len = 44 + frames * 2;
    unsigned char *big = calloc(1, big_len);
    CHECK(big != NULL, "allocate 10 minutes");
    if (big) {
        make_wav(big, 1, 1, 48000, 16, (uint32_t)(frames * 2), NULL, 0);
        audio_isolation fast = {.max_wall_s = 0.001};
        rc = audio_decode_memory_isolated(big, big_len, NULL, &fast, &b, err, sizeof err);
        expect(rc, TRIDENT_EFORMAT, err, "could not be decoded within", "isolated: past the deadline");
        CHECK(b.samples == NULL, "samples after a kill");
        fast.exe = TRIDENT_BINARY;
        rc = audio_decode_memory_isolated(big, big_len, NULL, &fast, &b, err, sizeof err);
        expect(rc, TRIDENT_EFORMAT, err, "could not be decoded within", "spawned: past the deadline");
        audio_isolation tight = {.max_memory_bytes = (size_t)8 << 20};
        rc = audio_decode_memory_isolated(big, big_len, NULL, &tight, &b, err, sizeof err);
#if defined(__SANITIZE_ADDRESS__)
        CHECK(rc == 0, "sanitizer build: no RLIMIT_AS, the decode completes: %s", err);
        printf("%-28s -> decoded (no RLIMIT_AS under the sanitizer)\n", "isolated: memory bound");
#else
        CHECK(rc == TRIDENT_EFORMAT && (strstr(err, "memory") || strstr(err, "signal")),
              "isolated: memory bound: %d %s", rc, err);
        printf("%-28s -> %s\n", "isolated: memory bound", err);
        tight.exe = TRIDENT_BINARY;
        rc = audio_decode_memory_isolated(big, big_len, NULL, &tight, &b, err, sizeof err);
        CHECK(rc == TRIDENT_EFORMAT && (strstr(err, "memory") || strstr(err, "signal")),
              "spawned: memory bound: %d %s", rc, err);
        printf("%-28s -> %s\n", "spawned: memory bound", err);
#endif
        audio_pcm_clear(&b);
        free(big);
    }
    free(jfk);
}

int main(void) {
    char err[TRIDENT_ERR_SIZE];
    int rc;

    /* Not audio. */
    const char *text = "This is a plain text file, certainly not audio.\nLine two.\n";
    err[0] = 0;
    rc = decode_mem(text, strlen(text), err, sizeof err);
    expect(rc, TRIDENT_EFORMAT, err, "accepted formats", "text bytes");
    CHECK(strstr(err, "FLAC") && strstr(err, "WAV"), "message lists formats: %s", err);

    /* Empty input. */
    err[0] = 0;
    rc = decode_mem("", 0, err, sizeof err);
    expect(rc, TRIDENT_EFORMAT, err, "empty", "empty buffer");
    err[0] = 0;
    rc = decode_mem(NULL, 0, err, sizeof err);
    expect(rc, TRIDENT_EFORMAT, err, "empty", "NULL buffer");

    /* Files: missing, empty, text, directory. */
    char dir[] = "/tmp/trident-audio-bad-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char path[256];
    audio_pcm pcm;
    snprintf(path, sizeof path, "%s/missing.wav", dir);
    rc = audio_decode_file(path, NULL, &pcm, err, sizeof err);
    expect(rc, TRIDENT_ENOTFOUND, err, "missing.wav", "missing file");
    snprintf(path, sizeof path, "%s/empty.wav", dir);
    FILE *f = fopen(path, "wb");
    if (f) fclose(f);
    rc = audio_decode_file(path, NULL, &pcm, err, sizeof err);
    expect(rc, TRIDENT_EFORMAT, err, "empty", "empty file");
    snprintf(path, sizeof path, "%s/notes.wav", dir);
    f = fopen(path, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    rc = audio_decode_file(path, NULL, &pcm, err, sizeof err);
    expect(rc, TRIDENT_EFORMAT, err, "accepted formats", "text file named .wav");
    rc = audio_decode_file(dir, NULL, &pcm, err, sizeof err);
    CHECK(rc < 0 && pcm.samples == NULL, "directory: %d %s", rc, err);
    printf("%-28s -> %s\n", "directory", err);
    rc = audio_decode_file(NULL, NULL, &pcm, err, sizeof err);
    CHECK(rc == TRIDENT_EINVAL, "NULL path");
    unlink(path);
    snprintf(path, sizeof path, "%s/empty.wav", dir);
    unlink(path);
    rmdir(dir);

    /* A good small WAV, then every truncation of it. */
    int16_t pcm16[200];
    for (int i = 0; i < 200; i++) pcm16[i] = (int16_t)(i * 150 - 15000);
    unsigned char wav[44 + sizeof pcm16 + 64];
    size_t wav_len = make_wav(wav, 1, 1, 16000, 16, sizeof pcm16, pcm16, sizeof pcm16);
    err[0] = 0;
    CHECK(decode_mem(wav, wav_len, err, sizeof err) == 0, "good WAV: %s", err);
    err[0] = 0;
    rc = decode_mem(wav, 20, err, sizeof err);
    expect(rc, TRIDENT_EFORMAT, err, "accepted formats", "truncated WAV header");
    err[0] = 0;
    rc = decode_mem(wav, 44, err, sizeof err);
    expect(rc, TRIDENT_EFORMAT, err, NULL, "header only, no data");
    int ok = 0, failed = 0;
    for (size_t n = 1; n < wav_len; n++) {
        err[0] = 0;
        rc = decode_mem(wav, n, err, sizeof err);
        if (rc == 0)
            ok++;
        else
            failed++;
    }
    printf("%-28s -> %d decoded (truncated data), %d rejected\n", "every prefix", ok, failed);
    CHECK(failed >= 40, "short prefixes rejected (%d)", failed);

    /* Data chunk that claims far more than the file holds. */
    make_wav(wav, 1, 1, 16000, 16, 0x7ffffff0u, pcm16, sizeof pcm16);
    err[0] = 0;
    rc = decode_mem(wav, wav_len, err, sizeof err);
    printf("%-28s -> rc %d %s\n", "data size lies", rc, rc ? err : "(decoded what is there)");

    /* NaN and Inf in a float WAV. */
    float fl[64];
    for (int i = 0; i < 64; i++) fl[i] = 0.1f * (float)sin(i);
    fl[37] = NAN;
    unsigned char fwav[44 + sizeof fl];
    size_t fwav_len = make_wav(fwav, 3, 1, 16000, 32, sizeof fl, fl, sizeof fl);
    err[0] = 0;
    rc = decode_mem(fwav, fwav_len, err, sizeof err);
    expect(rc, TRIDENT_EFORMAT, err, "NaN", "float WAV with NaN");
    CHECK(strstr(err, "frame 37") != NULL, "NaN position: %s", err);
    fl[37] = 0;
    fl[5] = -INFINITY;
    fwav_len = make_wav(fwav, 3, 1, 16000, 32, sizeof fl, fl, sizeof fl);
    rc = decode_mem(fwav, fwav_len, err, sizeof err);
    expect(rc, TRIDENT_EFORMAT, err, "-Inf", "float WAV with -Inf");
    /* ... also after resampling (48 kHz source) and in a stereo file. */
    fl[5] = INFINITY;
    fwav_len = make_wav(fwav, 3, 2, 48000, 32, sizeof fl, fl, sizeof fl);
    rc = decode_mem(fwav, fwav_len, err, sizeof err);
    expect(rc, TRIDENT_EFORMAT, err, "+Inf", "stereo 48 kHz with +Inf");

    /* Finite but huge samples: refused, naming the sample. */
    fl[5] = 1e20f;
    fwav_len = make_wav(fwav, 3, 1, 16000, 32, sizeof fl, fl, sizeof fl);
    rc = decode_mem(fwav, fwav_len, err, sizeof err);
    expect(rc, TRIDENT_EFORMAT, err, "magnitude 1e+20 at frame 5", "float WAV with 1e20");
    fl[5] = 0;

    /* Absurd parameters. */
    wav_len = make_wav(wav, 1, 1, 1, 16, sizeof pcm16, pcm16, sizeof pcm16);
    rc = decode_mem(wav, wav_len, err, sizeof err);
    CHECK(rc == TRIDENT_ELIMIT || rc == TRIDENT_EFORMAT, "1 Hz: %d %s", rc, err);
    printf("%-28s -> %s\n", "1 Hz sample rate", err);
    wav_len = make_wav(wav, 1, 1000, 16000, 16, sizeof pcm16, pcm16, sizeof pcm16);
    rc = decode_mem(wav, wav_len, err, sizeof err);
    CHECK(rc == TRIDENT_ELIMIT || rc == TRIDENT_EFORMAT, "1000 channels: %d %s", rc, err);
    printf("%-28s -> %s\n", "1000 channels", err);
    wav_len = make_wav(wav, 1, 0, 16000, 16, sizeof pcm16, pcm16, sizeof pcm16);
    rc = decode_mem(wav, wav_len, err, sizeof err);
    CHECK(rc < 0, "0 channels: %d %s", rc, err);
    printf("%-28s -> %s\n", "0 channels", err);

    /* Corrupted headers: deterministic byte flips in the first 64 bytes. */
    wav_len = make_wav(wav, 1, 1, 16000, 16, sizeof pcm16, pcm16, sizeof pcm16);
    unsigned char fuzz[sizeof wav];
    uint32_t seed = 12345;
    int fuzz_ok = 0;
    for (int it = 0; it < 2000; it++) {
        memcpy(fuzz, wav, wav_len);
        for (int k = 0; k < 3; k++) {
            seed = seed * 1664525u + 1013904223u;
            size_t pos = (seed >> 8) % 64;
            seed = seed * 1664525u + 1013904223u;
            fuzz[pos] = (unsigned char)(seed >> 24);
        }
        err[0] = 0;
        fuzz_ok += decode_mem(fuzz, wav_len, err, sizeof err) == 0;
    }
    printf("%-28s -> %d of 2000 still decodable, none crashed\n", "corrupted headers", fuzz_ok);

    test_chunk_sizes();
    test_isolated();

    /* Random bytes, and random bytes behind real magic numbers. */
    static const char *magics[] = {"", "RIFF", "fLaC", "OggS", "ID3", "\xff\xfb"};
    unsigned char junk[4096];
    for (size_t m = 0; m < sizeof magics / sizeof magics[0]; m++) {
        for (size_t i = 0; i < sizeof junk; i++) {
            seed = seed * 1664525u + 1013904223u;
            junk[i] = (unsigned char)(seed >> 24);
        }
        memcpy(junk, magics[m], strlen(magics[m]));
        err[0] = 0;
        rc = decode_mem(junk, sizeof junk, err, sizeof err);
        printf("%-28s -> rc %d %s\n", m ? magics[m] : "random bytes", rc, rc ? err : "");
        if (m == 0) CHECK(rc == TRIDENT_EFORMAT, "random bytes accepted");
    }
    return check_summary();
}
