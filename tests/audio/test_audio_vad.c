/* test_audio_vad.c — voice-activity segmentation on real speech (jfk.wav)
 * and digital silence: two utterances around a pause, the 30-s cap on
 * continuous speech, nothing from silence or steady background noise, results
 * independent of the chunk size, configuration and input errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "base/error.h"
#include "check.h"

#define SR ((size_t)16000) /* samples per second, as a size for sample arithmetic */
#define MAX_UTT 16

typedef struct {
    audio_utterance u[MAX_UTT];
    int n;
} utt_list;

static void list_clear(utt_list *l) {
    for (int i = 0; i < l->n; i++) audio_utterance_clear(&l->u[i]);
    l->n = 0;
}

/* Moves the utterances waiting in v into out (those beyond MAX_UTT are freed). */
static void collect(audio_vad *v, utt_list *out) {
    audio_utterance u;
    while (audio_vad_next(v, &u)) {
        if (out->n < MAX_UTT)
            out->u[out->n++] = u;
        else
            audio_utterance_clear(&u);
    }
}

/* Feeds x in chunks of `chunk` samples (0 = all at once), flushes, collects. */
static void run_vad(const audio_vad_config *cfg, const float *x, size_t n, size_t chunk, utt_list *out) {
    char err[TRIDENT_ERR_SIZE] = "";
    audio_vad *v = NULL;
    memset(out, 0, sizeof *out);
    CHECK(audio_vad_new(cfg, &v, err, sizeof err) == 0, "vad_new: %s", err);
    if (!v) return;
    size_t pos = 0;
    while (pos < n) {
        size_t m = chunk == 0 || chunk > n - pos ? n - pos : chunk;
        CHECK(audio_vad_feed(v, x + pos, m, err, sizeof err) == 0, "feed: %s", err);
        pos += m;
        collect(v, out);
    }
    CHECK(audio_vad_position(v) == n, "position %zu", audio_vad_position(v));
    CHECK(audio_vad_flush(v, err, sizeof err) == 0, "flush: %s", err);
    collect(v, out);
    CHECK(!audio_vad_in_speech(v), "still in speech after flush");
    audio_vad_free(v);
}

/* Appends jfk.wav [t0, t1) seconds to dst at *pos. */
static void put(float *dst, size_t *pos, const audio_pcm *src, double t0, double t1) {
    size_t a = (size_t)(t0 * SR), b = (size_t)(t1 * SR);
    memcpy(dst + *pos, src->samples + a, (b - a) * sizeof(float));
    *pos += b - a;
}

static void check_slices(const utt_list *l, const float *x, const char *what) {
    for (int i = 0; i < l->n; i++) {
        const audio_utterance *u = &l->u[i];
        CHECK(u->end > u->start && u->n_samples == u->end - u->start, "%s: utterance %d range", what, i);
        CHECK(memcmp(u->samples, x + u->start, u->n_samples * sizeof(float)) == 0,
              "%s: utterance %d samples are not the stream's", what, i);
        if (i) CHECK(u->start >= l->u[i - 1].end, "%s: utterances %d and %d overlap", what, i - 1, i);
    }
}

static void print_list(const char *what, const utt_list *l) {
    printf("%s:", what);
    for (int i = 0; i < l->n; i++)
        printf(" [%.2f, %.2f)%s", (double)l->u[i].start / SR, (double)l->u[i].end / SR, l->u[i].capped ? "cap" : "");
    printf("\n");
}

int main(void) {
    char err[TRIDENT_ERR_SIZE] = "";
    audio_pcm jfk;
    if (audio_decode_file(check_shared_path("audio/jfk.wav"), NULL, &jfk, err, sizeof err) != 0) {
        CHECK(0, "decode jfk.wav: %s", err);
        return check_summary();
    }
    audio_vad_config cfg;
    audio_vad_config_default(&cfg);
    CHECK(cfg.hangover_s == 0.6 && cfg.max_utterance_s == 30.0 && cfg.frame_ms == 30.0, "defaults");

    /* speech + silence + speech: 0.5 s zeros, "And so my fellow Americans"
     * (jfk 0.3-2.1 s), 2 s zeros, "ask not what your country can do for you"
     * (jfk 3.25-4.35 s), 1 s zeros. */
    {
        size_t cap = 8 * SR, n = 0;
        float *x = calloc(cap, sizeof(float));
        if (!x) return 1;
        n += SR / 2;
        size_t s1 = n;
        put(x, &n, &jfk, 0.3, 2.1);
        size_t e1 = n;
        n += 2 * SR;
        size_t s2 = n;
        put(x, &n, &jfk, 3.25, 4.35);
        size_t e2 = n;
        n += SR;
        CHECK(n <= cap, "test signal fits");
        static const size_t chunks[] = {0, 1, 7, 160, 480, 1000, 4096, 16000};
        utt_list first = {0};
        for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
            utt_list l;
            run_vad(NULL, x, n, chunks[c], &l);
            if (c == 0) print_list("speech+silence+speech", &l);
            CHECK(l.n == 2, "chunk %zu: %d utterances, want 2", chunks[c], l.n);
            check_slices(&l, x, "two utterances");
            if (l.n == 2) {
                const size_t tol_before = (size_t)(0.25 * SR), tol_after = (size_t)(0.1 * SR);
                CHECK(l.u[0].start + tol_before >= s1 && l.u[0].start <= s1 + tol_after, "start 1 at %.3f s",
                      (double)l.u[0].start / SR);
                CHECK(l.u[0].end + (size_t)(0.3 * SR) >= e1 && l.u[0].end <= e1 + (size_t)(0.3 * SR),
                      "end 1 at %.3f s (speech ends %.3f)", (double)l.u[0].end / SR, (double)e1 / SR);
                CHECK(l.u[1].start + tol_before >= s2 && l.u[1].start <= s2 + tol_after, "start 2 at %.3f s",
                      (double)l.u[1].start / SR);
                CHECK(l.u[1].end + (size_t)(0.3 * SR) >= e2 && l.u[1].end <= e2 + (size_t)(0.3 * SR),
                      "end 2 at %.3f s (speech ends %.3f)", (double)l.u[1].end / SR, (double)e2 / SR);
                CHECK(!l.u[0].capped && !l.u[1].capped, "not capped");
            }
            if (c == 0) {
                first = l;
                continue;
            }
            CHECK(l.n == first.n, "chunk %zu: count differs", chunks[c]);
            for (int i = 0; i < l.n && i < first.n; i++)
                CHECK(l.u[i].start == first.u[i].start && l.u[i].end == first.u[i].end,
                      "chunk %zu: utterance %d differs", chunks[c], i);
            list_clear(&l);
        }
        list_clear(&first);

        /* A longer hangover than the pause joins the two. */
        audio_vad_config slow = cfg;
        slow.hangover_s = 2.5;
        utt_list l;
        run_vad(&slow, x, n, 480, &l);
        CHECK(l.n == 1, "hangover 2.5 s: %d utterances, want 1", l.n);
        list_clear(&l);

        /* The end of the call closes the utterance in flight. */
        run_vad(NULL, x, e2, 333, &l);
        CHECK(l.n == 2 && l.u[1].end == e2, "flush: %d utterances, last ends %.3f", l.n,
              l.n ? (double)l.u[l.n - 1].end / SR : 0.0);
        list_clear(&l);
        free(x);
    }

    /* 40 s of continuous speech (jfk's voiced stretches back to back) is cut
     * at exactly 30 s; the rest is the next utterance. */
    {
        static const double seg[][2] = {{0.3, 2.1}, {3.25, 4.35}, {5.4, 7.5}, {8.2, 10.4}};
        size_t n = 40 * SR, pos = 0;
        float *x = malloc((n + 3 * SR) * sizeof(float));
        if (!x) return 1;
        for (int k = 0; pos < n; k = (k + 1) % 4) put(x, &pos, &jfk, seg[k][0], seg[k][1]);
        utt_list l;
        run_vad(NULL, x, n, 1600, &l);
        print_list("40 s continuous", &l);
        check_slices(&l, x, "continuous");
        CHECK(l.n == 2, "40 s continuous: %d utterances, want 2", l.n);
        if (l.n == 2) {
            CHECK(l.u[0].capped && l.u[0].n_samples == 30 * SR, "first: %zu samples capped %d", l.u[0].n_samples,
                  l.u[0].capped);
            CHECK(l.u[0].start <= SR / 10, "first starts at %.3f", (double)l.u[0].start / SR);
            CHECK(l.u[1].start == l.u[0].end && !l.u[1].capped, "second continues at the cut");
            CHECK(l.u[1].end + SR / 2 >= n, "second ends at %.3f", (double)l.u[1].end / SR);
        }
        list_clear(&l);
        /* A shorter cap, for a configurable limit. */
        audio_vad_config c10 = cfg;
        c10.max_utterance_s = 10;
        run_vad(&c10, x, n, 0, &l);
        CHECK(l.n == 4, "10-s cap: %d utterances, want 4", l.n);
        for (int i = 0; i < l.n; i++) CHECK(l.u[i].n_samples <= 10 * SR, "10-s cap: utterance %d too long", i);
        list_clear(&l);
        free(x);
    }

    /* Silence: digital zeros, and steady background hiss at -45 dBFS. */
    {
        size_t n = 60 * SR;
        float *x = calloc(n, sizeof(float));
        if (!x) return 1;
        utt_list l;
        run_vad(NULL, x, n, 4800, &l);
        CHECK(l.n == 0, "60 s of zeros: %d utterances", l.n);
        list_clear(&l);
        uint32_t seed = 7;
        double amp = pow(10.0, -45.0 / 20.0) * sqrt(3.0); /* uniform noise with RMS -45 dBFS */
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1664525u + 1013904223u;
            x[i] = (float)(amp * ((double)(seed >> 8) / (double)(1u << 24) * 2.0 - 1.0));
        }
        run_vad(NULL, x, n, 4800, &l);
        CHECK(l.n == 0, "60 s of -45 dBFS noise: %d utterances", l.n);
        list_clear(&l);
        /* ... and speech over that noise is still found. */
        size_t at = 10 * SR;
        for (size_t i = 0; i < (size_t)(1.8 * SR); i++) x[at + i] += jfk.samples[(size_t)(0.3 * SR) + i];
        run_vad(NULL, x, n, 4800, &l);
        print_list("speech in noise", &l);
        CHECK(l.n == 1, "speech in noise: %d utterances", l.n);
        if (l.n == 1)
            CHECK(l.u[0].start + SR / 2 >= at && l.u[0].start <= at + SR / 10, "speech in noise at %.2f",
                  (double)l.u[0].start / SR);
        list_clear(&l);
        free(x);
    }

    /* Configuration and input errors. */
    {
        audio_vad *v = NULL;
        audio_vad_config bad = cfg;
        bad.hangover_s = -1;
        CHECK(audio_vad_new(&bad, &v, err, sizeof err) == TRIDENT_EINVAL && !v && strstr(err, "hangover_s"),
              "bad hangover: %s", err);
        bad = cfg;
        bad.min_utterance_s = 40;
        CHECK(audio_vad_new(&bad, &v, err, sizeof err) == TRIDENT_EINVAL && strstr(err, "min_utterance_s"),
              "bad min: %s", err);
        bad = cfg;
        bad.frame_ms = NAN;
        CHECK(audio_vad_new(&bad, &v, err, sizeof err) == TRIDENT_EINVAL, "NaN frame");
        CHECK(audio_vad_new(NULL, &v, err, sizeof err) == 0 && v, "defaults: %s", err);
        float nan[3] = {0, NAN, 0};
        CHECK(audio_vad_feed(v, nan, 3, err, sizeof err) == TRIDENT_EFORMAT, "NaN fed");
        CHECK(audio_vad_feed(v, NULL, 0, err, sizeof err) == 0, "empty feed");
        audio_utterance u;
        CHECK(audio_vad_next(v, &u) == 0 && u.samples == NULL, "nothing queued");
        audio_vad_free(v);
        audio_vad_free(NULL);
        audio_utterance_clear(NULL);
    }
    audio_pcm_clear(&jfk);
    return check_summary();
}
