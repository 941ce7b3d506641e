/* test_bio.c — the bio-acoustic layer against librosa's own outputs
 * (../shared/bio-ref: pYIN, RMS and the TRIDENT distress features on real
 * speech), the monotone Viterbi search against a dense reference decoder of
 * the same model, and edge cases. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "base/error.h"
#include "bio/bio.h"
#include "bio/pyin.h"
#include "check.h"

/* ---- fixtures ------------------------------------------------------------ */

/* Reads a 16-kHz reference input through the audio module: libsndfile
 * normalises PCM16 to int16 / 32768, exactly as the reference did, and a
 * 16-kHz file is not resampled. The caller frees the samples with free(). */
static float *wav_read(const char *path, size_t *n, int *rate) {
    char err[TRIDENT_ERR_SIZE];
    audio_pcm a;
    if (audio_decode_file(path, NULL, &a, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return NULL;
    }
    *n = a.n_samples;
    *rate = a.source_rate;
    return a.samples;
}

static double num(json_t *v) { return json_is_null(v) ? NAN : json_number_value(v); }

/* ---- the reference decoder ------------------------------------------------- */

/* librosa's viterbi() over the dense model: every state's 2N predecessors,
 * the first of equal scores (numpy's argmax). Returns the T states
 * (malloc'ed, the caller frees) or NULL when out of memory. */
static int *dense_viterbi(const bio_pyin_hmm *m) {
    size_t T = m->n_frames, S = (size_t)m->n_states;
    double *prev = malloc(S * sizeof *prev), *cur = malloc(S * sizeof *cur);
    int *ptr = malloc(T * S * sizeof *ptr), *state = malloc(T * sizeof *state);
    if (!prev || !cur || !ptr || !state) {
        free(state);
        state = NULL;
        goto done;
    }
    for (size_t j = 0; j < S; j++) prev[j] = m->log_obs[j] + m->log_init[j];
    for (size_t t = 1; t < T; t++) {
        for (size_t j = 0; j < S; j++) {
            double best = -INFINITY;
            size_t bk = 0;
            for (size_t k = 0; k < S; k++) {
                double c = prev[k] + m->log_trans[k * S + j];
                if (c > best) {
                    best = c;
                    bk = k;
                }
            }
            ptr[t * S + j] = (int)bk;
            cur[j] = m->log_obs[t * S + j] + best;
        }
        double *x = prev;
        prev = cur;
        cur = x;
    }
    size_t s = 0;
    for (size_t j = 1; j < S; j++) s = prev[j] > prev[s] ? j : s;
    state[T - 1] = (int)s;
    for (size_t t = T - 1; t > 0; t--) state[t - 1] = ptr[t * S + (size_t)state[t]];
done:
    free(prev);
    free(cur);
    free(ptr);
    return state;
}

/* The number of frames whose state differs between po (bio_pyin_run on
 * pcm) and the dense decoding of the same model; (size_t)-1 on an error. */
static size_t dense_diff(const float *pcm, size_t n, const bio_params *p, const bio_pyin_out *po) {
    char err[TRIDENT_ERR_SIZE];
    bio_pyin_hmm m;
    int rc = bio_pyin_hmm_build(pcm, n, p, &m, err, sizeof err);
    CHECK(rc == 0, "dense model: %s", err);
    if (rc) return (size_t)-1;
    int *ref = dense_viterbi(&m);
    CHECK(ref != NULL, "dense decoding: out of memory");
    size_t diff = (size_t)-1;
    if (ref && m.n_frames == po->n_frames) {
        diff = 0;
        for (size_t t = 0; t < m.n_frames; t++) diff += ref[t] != po->state[t];
    }
    free(ref);
    bio_pyin_hmm_clear(&m);
    return diff;
}

/* ---- the oracle ------------------------------------------------------------ */

static void check_reference(const char *name) {
    char rel[256];
    snprintf(rel, sizeof rel, "bio-ref/inputs/%s.wav", name);
    size_t n = 0;
    int rate = 0;
    float *pcm = wav_read(check_shared_path(rel), &n, &rate);
    CHECK(pcm != NULL, "%s: read %s", name, rel);
    if (!pcm) return;
    snprintf(rel, sizeof rel, "bio-ref/%s.json", name);
    json_error_t jerr;
    json_t *ref = json_load_file(check_shared_path(rel), 0, &jerr);
    CHECK(ref != NULL, "%s: load %s: %s", name, rel, jerr.text);
    if (!ref) {
        free(pcm);
        return;
    }
    CHECK(rate == 16000, "%s: rate %d", name, rate);
    CHECK((size_t)json_integer_value(json_object_get(ref, "n_samples")) == n, "%s: %zu samples", name, n);

    bio_params p = bio_params_default();
    char err[TRIDENT_ERR_SIZE];
    bio_pyin_out po;
    int rc = bio_pyin_run(pcm, n, &p, &po, err, sizeof err);
    CHECK(rc == 0, "%s: bio_pyin_run: %s", name, err);
    if (rc) goto out;
    size_t T = (size_t)json_integer_value(json_object_get(ref, "n_frames"));
    CHECK(po.n_frames == T, "%s: %zu frames, librosa %zu", name, po.n_frames, T);
    if (po.n_frames != T) goto out_po;
    json_t *jf0 = json_object_get(ref, "f0"), *jvf = json_object_get(ref, "voiced_flag"),
           *jvp = json_object_get(ref, "voiced_probs"), *jrms = json_object_get(ref, "rms"),
           *jbest = json_object_get(ref, "f0_best_guess"), *jbin = json_object_get(ref, "pitch_bin"),
           *jst = json_object_get(ref, "viterbi_state");
    int N = po.n_pitch_bins;
    size_t bad_state = 0, bad_voicing = 0;
    double max_f0 = 0, max_best = 0, max_vp = 0, max_rms = 0;
    for (size_t t = 0; t < T; t++) {
        int s = po.state[t];
        int rs = (int)json_integer_value(json_array_get(jst, t));
        int voiced = s < N, rvoiced = json_is_true(json_array_get(jvf, t));
        if (s != rs || s % N != (int)json_integer_value(json_array_get(jbin, t))) {
            if (bad_state < 5) fprintf(stderr, "  %s frame %zu: state %d, librosa %d\n", name, t, s, rs);
            bad_state++;
        }
        if (voiced != rvoiced) bad_voicing++;
        double f = po.bin_hz[s % N];
        double rb = num(json_array_get(jbest, t));
        double e = fabs(f - rb) / rb;
        if (e > max_best) max_best = e;
        if (voiced && rvoiced) {
            double rf = num(json_array_get(jf0, t));
            e = fabs(f - rf) / rf;
            if (e > max_f0) max_f0 = e;
        }
        e = fabs(po.voiced_prob[t] - num(json_array_get(jvp, t)));
        if (e > max_vp) max_vp = e;
        double rr = num(json_array_get(jrms, t));
        e = rr > 0 ? fabs(po.rms[t] - rr) / rr : fabs(po.rms[t]);
        if (e > max_rms) max_rms = e;
    }
    CHECK(bad_state == 0, "%s: %zu of %zu frames differ in Viterbi state / pitch bin", name, bad_state, T);
    CHECK(bad_voicing == 0, "%s: %zu voicing decisions differ", name, bad_voicing);
    CHECK(max_f0 <= 1e-9, "%s: f0 relative error %.3g", name, max_f0);
    CHECK(max_best <= 1e-9, "%s: f0 best guess relative error %.3g", name, max_best);
    CHECK(max_vp <= 1e-6, "%s: voiced_probs error %.3g", name, max_vp);
    CHECK(max_rms <= 1e-5, "%s: rms relative error %.3g", name, max_rms);

    /* the features through the public API */
    p.keep_frames = 1;
    bio_result r;
    rc = bio_analyze(pcm, n, &p, &r, err, sizeof err);
    CHECK(rc == 0, "%s: bio_analyze: %s", name, err);
    if (rc == 0) {
        json_t *jfeat = json_object_get(ref, "features"), *jint = json_object_get(ref, "feature_intermediates");
        struct {
            const char *key;
            double mine, tol;
        } f[] = {
            {"f0_mean", r.f0_mean, 1e-6},
            {"f0_std", r.f0_std, 1e-6},
            {"f0_cv", r.f0_cv, 1e-6},
            {"pitch_elevation", r.paper.pitch_elevation, 1e-6}, /* the oracle is the paper's formula */
            {"instability", r.paper.instability, 1e-6},
            {"energy", r.paper.energy, 1e-4}, /* librosa averaged float32 RMS in float32 */
            {"jitter", r.paper.jitter, 1e-6},
            {"distress", r.paper.distress_score, 1e-4},
        };
        double max_feat = 0, max_f32 = 0; /* exact features; those with librosa's float32 RMS mean */
        for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
            double want = num(json_object_get(jfeat, f[i].key));
            char what[96];
            snprintf(what, sizeof what, "%s: %s", name, f[i].key);
            CHECK_NEAR(f[i].mine, want, f[i].tol, what);
            double *m = f[i].tol > 1e-6 ? &max_f32 : &max_feat;
            if (fabs(f[i].mine - want) > *m) *m = fabs(f[i].mine - want);
        }
        CHECK(r.voiced_frames == (size_t)json_integer_value(json_object_get(jint, "n_voiced")), "%s: n_voiced %zu",
              name, r.voiced_frames);
        CHECK(r.frames == T, "%s: frames %zu", name, r.frames);
        double jr = num(json_object_get(jint, "jitter_raw"));
        double rm = num(json_object_get(jint, "rms_mean_float64_accum"));
        double rm32 = num(json_object_get(jint, "rms_mean"));
        char what[96];
        snprintf(what, sizeof what, "%s: jitter_raw", name);
        CHECK_NEAR(r.jitter_raw, jr, 1e-6, what);
        snprintf(what, sizeof what, "%s: rms_mean (float64 accumulation)", name);
        CHECK_NEAR(r.rms_mean, rm, 1e-6, what);
        snprintf(what, sizeof what, "%s: rms_mean (float32 accumulation)", name);
        CHECK_NEAR(r.rms_mean, rm32, 1e-4, what);
        for (size_t t = 0; t < T; t++) {
            if (r.state[t] != po.state[t] || r.f0[t] != po.bin_hz[po.state[t] % N] ||
                r.voiced[t] != (po.state[t] < N)) {
                CHECK(0, "%s: per-frame arrays of bio_analyze differ at frame %zu", name, t);
                break;
            }
        }
        printf("%s: %zu frames, %zu voiced; state/bin/voicing mismatches %zu/%zu; max f0 rel %.2g, "
               "voiced_probs abs %.2g, rms rel %.2g, features abs %.2g (energy/distress %.2g), "
               "jitter_raw %.2g, rms_mean %.2g\n",
               name, T, r.voiced_frames, bad_state, bad_voicing, max_f0, max_vp, max_rms, max_feat, max_f32,
               fabs(r.jitter_raw - jr), fabs(r.rms_mean - rm));
        bio_result_clear(&r);
    }

    /* The dense reference decoder of the same model: the same path. */
    size_t diff = dense_diff(pcm, n, &p, &po);
    CHECK(diff == 0, "%s: %zu frames differ between the monotone search and the dense decoder", name, diff);

out_po:
    bio_pyin_out_clear(&po);
out:
    json_decref(ref);
    free(pcm);
}

/* ---- properties and edge cases -------------------------------------------- */

static int result_finite(const bio_result *r) {
    double v[] = {r->f0_mean, r->f0_std, r->f0_cv, r->pitch_elevation, r->instability, r->energy,
                  r->jitter, r->distress_score, r->rms_mean, r->jitter_raw, r->paper.distress_score,
                  r->calibrated.distress_score, r->speech_f0_mean, r->speech_f0_cv, r->pitch_movement_st,
                  r->speech_level_db, r->opening_level_db, r->opening_speech_s};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
        if (!isfinite(v[i])) return 0;
    return 1;
}

static void check_edges(void) {
    char err[TRIDENT_ERR_SIZE];
    bio_params p = bio_params_default();
    p.keep_frames = 1;
    bio_result r;

    /* silence: nothing voiced, every feature 0 */
    size_t n = 3 * 16000;
    float *x = calloc(n, sizeof *x);
    CHECK(x != NULL, "calloc");
    if (!x) return;
    int rc = bio_analyze(x, n, &p, &r, err, sizeof err);
    CHECK(rc == 0, "silence: %s", err);
    if (rc == 0) {
        CHECK(r.frames == 1 + n / 512, "silence frames %zu", r.frames);
        CHECK(r.voiced_frames == 0, "silence voiced %zu", r.voiced_frames);
        CHECK(r.f0_mean == 0 && r.f0_cv == 0 && r.pitch_elevation == 0 && r.instability == 0 && r.energy == 0 &&
                  r.jitter == 0 && r.distress_score == 0,
              "silence features all zero");
        int finite = 1;
        for (size_t t = 0; t < r.frames; t++)
            if (!isfinite(r.f0[t]) || !isfinite(r.voiced_prob[t]) || !isfinite(r.rms[t]) || r.voiced_prob[t] != 0 ||
                r.rms[t] != 0)
                finite = 0;
        CHECK(finite, "silence per-frame values finite and zero");
        bio_result_clear(&r);
    }

    /* a 220 Hz sine: voiced, on the 220 Hz bin */
    for (size_t i = 0; i < n; i++) x[i] = (float)(0.5 * sin(2 * M_PI * 220.0 * (double)i / 16000.0));
    rc = bio_analyze(x, n, &p, &r, err, sizeof err);
    CHECK(rc == 0, "sine: %s", err);
    if (rc == 0) {
        CHECK(r.voiced_frames >= r.frames - 6, "sine voiced %zu of %zu", r.voiced_frames, r.frames);
        double worst = 0;
        for (size_t t = 4; t + 4 < r.frames; t++)
            if (r.voiced[t] && fabs(r.f0[t] - 220.0) > worst) worst = fabs(r.f0[t] - 220.0);
        CHECK(worst < 220.0 * (pow(2.0, 1.0 / 240) - 1) + 1e-9, "sine f0 within half a bin of 220 Hz (off %.3f)",
              worst);
        CHECK_NEAR(r.f0_mean, 220.0, 1.0, "sine f0_mean");
        CHECK(r.f0_cv < 0.01, "sine f0_cv %g", r.f0_cv);
        CHECK_NEAR(r.pitch_elevation, 0.2, 0.01, "sine pitch_elevation");
        CHECK(result_finite(&r), "sine features finite");
        bio_result_clear(&r);
    }

    /* clipped noise: no NaN anywhere */
    uint32_t seed = 12345;
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        double v = 3.0 * ((double)(seed >> 8) / 16777216.0 - 0.5);
        x[i] = (float)(v > 1 ? 1 : v < -1 ? -1 : v);
    }
    rc = bio_analyze(x, n, &p, &r, err, sizeof err);
    CHECK(rc == 0, "noise: %s", err);
    if (rc == 0) {
        int finite = result_finite(&r);
        for (size_t t = 0; t < r.frames; t++)
            if (!isfinite(r.f0[t]) || !isfinite(r.voiced_prob[t]) || !isfinite(r.rms[t])) finite = 0;
        CHECK(finite, "clipped noise: all values finite");
        CHECK(r.distress_score >= 0 && r.distress_score <= 1, "noise distress %g", r.distress_score);
        bio_result_clear(&r);
    }

    /* a noisy sine through the dense decoder: identical decoding */
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        double f = 150.0 + 60.0 * sin(2 * M_PI * 0.7 * (double)i / 16000.0);
        x[i] = (float)(0.3 * sin(2 * M_PI * f * (double)i / 16000.0) * (i % 20000 < 12000) +
                       0.05 * ((double)(seed >> 8) / 16777216.0 - 0.5));
    }
    {
        bio_pyin_out a;
        int r1 = bio_pyin_run(x, n, &p, &a, err, sizeof err);
        CHECK(r1 == 0, "gliding sine run: %s", err);
        if (r1 == 0) {
            size_t diff = dense_diff(x, n, &p, &a), voiced = 0;
            for (size_t t = 0; t < a.n_frames; t++)
                if (a.state[t] < a.n_pitch_bins) voiced++;
            CHECK(diff == 0, "gliding sine: %zu frames differ from the dense decoder", diff);
            CHECK(voiced > a.n_frames / 3, "gliding sine voiced %zu of %zu", voiced, a.n_frames);
            bio_pyin_out_clear(&a);
        }
    }

    /* shorter than one hop, and empty: one or a few frames, nothing voiced */
    for (size_t i = 0; i < 100; i++) x[i] = (float)(0.5 * sin(2 * M_PI * 220.0 * (double)i / 16000.0));
    rc = bio_analyze(x, 100, &p, &r, err, sizeof err);
    CHECK(rc == 0, "100 samples: %s", err);
    if (rc == 0) {
        CHECK(r.frames == 1, "100 samples: %zu frames", r.frames);
        CHECK(result_finite(&r), "100 samples finite");
        bio_result_clear(&r);
    }
    rc = bio_analyze(x, 0, &p, &r, err, sizeof err);
    CHECK(rc == 0, "0 samples: %s", err);
    if (rc == 0) {
        CHECK(r.frames == 1 && r.voiced_frames == 0 && r.distress_score == 0, "0 samples: %zu frames", r.frames);
        bio_result_clear(&r);
    }

    /* bad input */
    x[10] = NAN;
    rc = bio_analyze(x, 1000, &p, &r, err, sizeof err);
    CHECK(rc == TRIDENT_EINVAL && strstr(err, "10"), "NaN sample rejected: rc %d %s", rc, err);
    x[10] = 0;
    /* anywhere in a longer input, through the run and the dense model: the
     * first non-finite sample is named */
    {
        size_t n2 = 3 * 16000;
        float *y = calloc(n2, sizeof *y);
        CHECK(y != NULL, "calloc");
        struct {
            size_t at[2];
            float v[2];
        } cases[] = {{{n2 - 1, n2 - 1}, {INFINITY, INFINITY}},
                     {{31337, n2 - 5}, {-INFINITY, NAN}},
                     {{0, 20000}, {NAN, NAN}},
                     {{17000, 17001}, {NAN, INFINITY}}};
        for (size_t c = 0; y && c < sizeof cases / sizeof cases[0]; c++) {
            for (size_t i = 0; i < n2; i++) y[i] = (float)(0.3 * sin(2 * M_PI * 140.0 * (double)i / 16000.0));
            y[cases[c].at[0]] = cases[c].v[0];
            y[cases[c].at[1]] = cases[c].v[1];
            char want[32];
            snprintf(want, sizeof want, "sample %zu ", cases[c].at[0]);
            bio_pyin_out po;
            rc = bio_pyin_run(y, n2, &p, &po, err, sizeof err);
            CHECK(rc == TRIDENT_EINVAL && strstr(err, want), "non-finite case %zu: rc %d \"%s\"", c, rc, err);
            if (rc == 0) bio_pyin_out_clear(&po);
            bio_pyin_hmm m;
            rc = bio_pyin_hmm_build(y, n2, &p, &m, err, sizeof err);
            CHECK(rc == TRIDENT_EINVAL && strstr(err, want), "non-finite case %zu, dense model: rc %d \"%s\"", c,
                  rc, err);
            if (rc == 0) bio_pyin_hmm_clear(&m);
        }
        free(y);
    }
    bio_params bad = bio_params_default();
    bad.fmax = 9000;
    rc = bio_analyze(x, 1000, &bad, &r, err, sizeof err);
    CHECK(rc == TRIDENT_EINVAL, "fmax above Nyquist rejected: rc %d", rc);
    bad = bio_params_default();
    bad.fmin = 5;
    rc = bio_analyze(x, 1000, &bad, &r, err, sizeof err);
    CHECK(rc == TRIDENT_EINVAL, "fmin too low for the frame rejected: rc %d", rc);
    bad = bio_params_default();
    bad.switch_prob = 1e-300; /* switch transitions near DBL_MIN: beyond the exact decoder's proof */
    rc = bio_analyze(x, 1000, &bad, &r, err, sizeof err);
    CHECK(rc == TRIDENT_EINVAL && strstr(err, "exact decoding"), "switch_prob 1e-300 rejected: rc %d %s", rc, err);
    rc = bio_analyze(NULL, 1000, NULL, &r, err, sizeof err);
    CHECK(rc == TRIDENT_EINVAL, "NULL samples rejected");
    free(x);

    /* defaults reproduce a NULL params call */
    float tone[8000];
    for (int i = 0; i < 8000; i++) tone[i] = (float)(0.4 * sin(2 * M_PI * 180.0 * i / 16000.0));
    bio_result a, b;
    int r1 = bio_analyze(tone, 8000, NULL, &a, err, sizeof err);
    bio_params d = bio_params_default();
    int r2 = bio_analyze(tone, 8000, &d, &b, err, sizeof err);
    CHECK(r1 == 0 && r2 == 0 && a.distress_score == b.distress_score && a.f0 == NULL,
          "NULL params = defaults, no frames kept");

    /* JSON: exactly the server's bio_acoustic shape */
    json_t *j = bio_result_to_json(&a);
    CHECK(j != NULL && json_object_size(j) == 12, "json object with 12 keys");
    const char *keys[] = {"f0_mean", "f0_cv", "pitch_elevation", "instability", "energy", "jitter",
                          "distress_score", "voiced_frames", "frames", "distress_model", "features", "models"};
    for (size_t i = 0; j && i < 12; i++) CHECK(json_object_get(j, keys[i]) != NULL, "json key %s", keys[i]);
    if (j) {
        json_t *m = json_object_get(j, "models");
        CHECK(json_object_size(json_object_get(j, "features")) == 11 && json_object_size(m) == 2, "json features, models");
        CHECK(json_real_value(json_object_get(json_object_get(m, "paper"), "distress_score")) == a.paper.distress_score &&
                  json_real_value(json_object_get(json_object_get(m, "calibrated"), "distress_score")) ==
                      a.calibrated.distress_score,
              "json models");
        CHECK(strcmp(json_string_value(json_object_get(j, "distress_model")), "calibrated") == 0, "json model name");
        CHECK(json_is_integer(json_object_get(j, "frames")) &&
                  json_integer_value(json_object_get(j, "frames")) == (json_int_t)a.frames,
              "json frames");
        CHECK(json_real_value(json_object_get(j, "distress_score")) == a.distress_score, "json distress");
    }
    json_decref(j);
    bio_result_clear(&a);
    bio_result_clear(&b);
    bio_result_clear(NULL);
}

/* ---- the two distress models ----------------------------------------------- */

static void check_models(void) {
    size_t n = 0;
    int rate = 0;
    float *pcm = wav_read(check_shared_path("bio-ref/inputs/c1_16k.wav"), &n, &rate);
    CHECK(pcm != NULL, "read c1_16k");
    if (!pcm) return;
    float *quiet = malloc(n * sizeof *quiet);
    CHECK(quiet != NULL, "malloc");
    if (!quiet) {
        free(pcm);
        return;
    }
    for (size_t i = 0; i < n; i++) quiet[i] = pcm[i] * 0.25f; /* -12 dB */
    char err[TRIDENT_ERR_SIZE];
    bio_params p = bio_params_default();
    bio_result a, b, c;
    int rc = bio_analyze(pcm, n, &p, &a, err, sizeof err) | bio_analyze(quiet, n, &p, &b, err, sizeof err);
    CHECK(rc == 0, "analyse c1 at two levels: %s", err);
    if (rc == 0) {
        /* calibrated by default, the top-level terms are its terms */
        CHECK(a.distress_model == BIO_DISTRESS_CALIBRATED && a.distress_score == a.calibrated.distress_score &&
                  a.energy == a.calibrated.energy && a.jitter == a.calibrated.jitter,
              "default model calibrated");
        CHECK(a.calibrated.distress_score < 0.35 && a.paper.distress_score > 0.5, "c1 calm: calibrated %.3f, paper %.3f",
              a.calibrated.distress_score, a.paper.distress_score);
        /* -12 dB: the same speech frames and calibrated terms; the paper's energy drops */
        CHECK(a.speech_frames == b.speech_frames && fabs(a.calibrated.distress_score - b.calibrated.distress_score) < 1e-9,
              "calibrated D at -12 dB: %.6f vs %.6f", b.calibrated.distress_score, a.calibrated.distress_score);
        CHECK(fabs(a.speech_level_db - b.speech_level_db - 12.04) < 0.01, "speech level -12 dB: %.3f vs %.3f",
              b.speech_level_db, a.speech_level_db);
        CHECK(b.paper.energy < a.paper.energy * 0.3, "paper energy follows the level");
        CHECK(a.opening_speech_s > 2.9 && a.opening_speech_s < 3.1 && a.reference_level_db == a.opening_level_db,
              "reference: the opening 3 s of speech (%.3f s)", a.opening_speech_s);
        /* octave errors and pause noise stay out of the speech frames */
        CHECK(a.speech_frames < a.voiced_frames && a.speech_f0_cv < a.f0_cv, "speech frames %zu of %zu voiced",
              a.speech_frames, a.voiced_frames);
        /* a given reference 6 dB below this audio's opening: E = 0.6 with level_span_db 10 */
        bio_params q = p;
        q.reference_level_db = a.reference_level_db - 6.0;
        rc = bio_analyze(pcm, n, &q, &c, err, sizeof err);
        CHECK(rc == 0 && c.opening_level_db == a.opening_level_db && c.reference_level_db == q.reference_level_db,
              "given reference used");
        if (rc == 0)
            CHECK(fabs(c.calibrated.energy - (a.speech_level_db - q.reference_level_db) / 10.0) < 1e-12 &&
                      c.calibrated.energy > 0.5,
                  "energy over the given reference %.3f", c.calibrated.energy);
        /* the paper model selects the paper's terms; the calibrated ones are still computed */
        q = p;
        q.distress_model = BIO_DISTRESS_PAPER;
        rc = bio_analyze(pcm, n, &q, &c, err, sizeof err);
        CHECK(rc == 0 && c.distress_model == BIO_DISTRESS_PAPER && c.distress_score == a.paper.distress_score &&
                  c.instability == a.paper.instability && c.calibrated.distress_score == a.calibrated.distress_score,
              "paper model");
    }
    /* bad calibration parameters are refused */
    bio_params bad[6];
    for (int i = 0; i < 6; i++) bad[i] = p;
    bad[0].speech_gate_db = 0;
    bad[1].pitch_window_st = NAN;
    bad[2].movement_span_st = -1;
    bad[3].reference_s = 0;
    bad[4].reference_level_db = INFINITY;
    bad[5].distress_model = (bio_distress_model)7;
    for (int i = 0; i < 6; i++)
        CHECK(bio_analyze(pcm, 16000, &bad[i], &c, err, sizeof err) == TRIDENT_EINVAL, "bad calibration %d refused", i);
    /* names */
    bio_distress_model m = BIO_DISTRESS_CALIBRATED;
    CHECK(bio_distress_model_parse("paper", &m) == 0 && m == BIO_DISTRESS_PAPER &&
              strcmp(bio_distress_model_name(m), "paper") == 0 && bio_distress_model_parse("Paper", &m) == -1 &&
              bio_distress_model_parse(NULL, &m) == -1 && m == BIO_DISTRESS_PAPER,
          "model names");
    free(quiet);
    free(pcm);
}

static void check_betainc(void) {
    /* I_x(2, 18) = 1 - (1-x)^18 (1 + 18x) */
    double worst = 0;
    for (int i = 0; i <= 100; i++) {
        double x = i / 100.0;
        double want = 1.0 - pow(1 - x, 18) * (1 + 18 * x);
        double e = fabs(bio_betainc(2, 18, x) - want);
        if (e > worst) worst = e;
    }
    CHECK(worst < 1e-14, "betainc(2, 18) error %.3g", worst);
    CHECK(bio_betainc(2, 18, 0.9) == 1.0 && bio_betainc(2, 18, 0.89) < 1.0, "betainc rounds to 1 where scipy does");
    CHECK_NEAR(bio_betainc(0.5, 0.5, 0.25), 1.0 / 3.0, 1e-14, "betainc(0.5, 0.5, 0.25) = 1/3");
}

/* The monotone Viterbi search against the dense decoder of the same model
 * on inputs chosen for its corners: silence (every unvoiced state's
 * predecessors tie in mirrored pairs), tones at the lowest and the highest
 * pitch bins (winners among the edge rows, whose transition tables
 * differ), a gated tone (voicing switches), noise, a fast chirp (the best
 * predecessor moves across the band) and two simultaneous tones; with the
 * default transition and one whose band is asymmetric. */
static void check_monotone(void) {
    char err[TRIDENT_ERR_SIZE];
    bio_params p = bio_params_default();
    size_t n = 2 * 16000;
    float *x = malloc(n * sizeof *x);
    CHECK(x != NULL, "malloc");
    if (!x) return;
    uint64_t seed = 1;
    for (int kind = 0; kind < 7; kind++) {
        for (size_t i = 0; i < n; i++) {
            double t = (double)i / 16000.0;
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            double r = (double)(seed >> 11) / 9007199254740992.0 * 2.0 - 1.0;
            double v = 0.0;
            switch (kind) {
            case 1: v = 0.5 * sin(2 * M_PI * 50.5 * t); break;
            case 2: v = 0.5 * sin(2 * M_PI * 398.0 * t); break;
            case 3: v = fmod(t, 0.3) < 0.15 ? 0.4 * sin(2 * M_PI * 130.0 * t) + 0.01 * r : 0.01 * r; break;
            case 4: v = 0.3 * r; break;
            case 5: v = 0.5 * sin(2 * M_PI * (50.0 * t + 87.5 * t * t)); break;
            case 6: v = 0.3 * sin(2 * M_PI * 80.0 * t) + 0.3 * sin(2 * M_PI * 310.0 * t); break;
            default: break;
            }
            x[i] = (float)v;
        }
        /* the default transition (a triangle of odd width 141), and one of
         * even width (13 semitones of 3 bins + 1: 40), whose band is one bin
         * longer on one side */
        for (int even = 0; even <= 1; even++) {
            bio_params pk = p;
            if (even) {
                pk.resolution = 1.0 / 3.0;
                pk.max_transition_rate = 33.85;
            }
            bio_pyin_out fast;
            int rc = bio_pyin_run(x, n, &pk, &fast, err, sizeof err);
            CHECK(rc == 0, "monotone input %d (even width %d): %s", kind, even, err);
            if (rc) continue;
            size_t diff = dense_diff(x, n, &pk, &fast);
            CHECK(diff == 0, "monotone input %d (even width %d): %zu of %zu states differ from the dense decoder",
                  kind, even, diff, fast.n_frames);
            bio_pyin_out_clear(&fast);
        }
    }
    free(x);
}

int main(void) {
    check_betainc();
    const char *names[] = {"jfk", "c1_16k", "c2_16k"};
    for (size_t i = 0; i < 3; i++) check_reference(names[i]);
    check_edges();
    check_models();
    check_monotone();
    return check_summary();
}
