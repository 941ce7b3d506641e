/* test_bio.c — the bio-acoustic layer against librosa's own outputs
 * (../shared/bio-ref: pYIN, RMS and the TRIDENT distress features on real
 * speech), the fast paths against slow reference paths, and edge cases. */
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
    int rc = bio_pyin_run(pcm, n, &p, NULL, &po, err, sizeof err);
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
        bio_result_free(&r);
    }

    /* The front end in chunks out of order (a thread starting afresh or
     * continuing the blocks of its previous chunk): the same bits. */
    for (int portable = 0; portable <= 1; portable++) {
        bio_pyin_opts os = {.portable = portable, .fe_shuffle = 1};
        bio_pyin_out pso;
        rc = bio_pyin_run(pcm, n, &p, &os, &pso, err, sizeof err);
        CHECK(rc == 0, "%s: shuffled front-end chunks: %s", name, err);
        if (rc) continue;
        size_t diff = 0;
        for (size_t t = 0; t < T; t++)
            if (pso.state[t] != po.state[t] || pso.voiced_prob[t] != po.voiced_prob[t] || pso.rms[t] != po.rms[t])
                diff++;
        CHECK(diff == 0, "%s: %zu frames differ with shuffled front-end chunks (portable %d)", name, diff, portable);
        bio_pyin_out_free(&pso);
    }

    /* Every voiced state scored in every frame (what the search does only
     * where it cannot prove a state without a candidate off the path), on
     * one and two threads: the same bits. */
    for (int threads = 1; threads <= 2; threads++) {
        bio_params pa = p;
        pa.n_threads = threads;
        bio_pyin_opts oa = {.all_voiced = 1};
        bio_pyin_out pao;
        rc = bio_pyin_run(pcm, n, &pa, &oa, &pao, err, sizeof err);
        CHECK(rc == 0, "%s: every voiced state scored: %s", name, err);
        if (rc) continue;
        size_t diff = 0;
        for (size_t t = 0; t < T; t++) diff += pao.state[t] != po.state[t];
        CHECK(diff == 0, "%s: %zu frames differ with every voiced state scored (%d threads)", name, diff, threads);
        bio_pyin_out_free(&pao);
    }

    /* Two threads: the same bits whichever frames the helper shares (those
     * it manages to claim, several times; or all from the first, a middle
     * or the last frame; or every second or third), with the dispatched and
     * the portable kernels. */
    {
        bio_params p2 = p;
        p2.n_threads = 2;
        struct {
            size_t split_at;
            int stride, portable, runs;
        } mode[] = {{0, 1, 0, 5}, {1, 1, 0, 1}, {T / 2, 1, 0, 1}, {T - 1, 1, 0, 1}, {2, 2, 0, 1}, {T / 3, 3, 0, 1},
                    {0, 1, 1, 1}, {1, 1, 1, 1}, {5, 2, 1, 1}};
        for (size_t m = 0; m < sizeof mode / sizeof mode[0]; m++) {
            for (int run = 0; run < mode[m].runs; run++) {
                bio_pyin_opts o2 = {
                    .portable = mode[m].portable, .split_at = mode[m].split_at, .split_stride = mode[m].stride};
                bio_pyin_out p2o;
                rc = bio_pyin_run(pcm, n, &p2, &o2, &p2o, err, sizeof err);
                CHECK(rc == 0, "%s: 2 threads (split at %zu): %s", name, mode[m].split_at, err);
                if (rc) continue;
                size_t diff = 0;
                for (size_t t = 0; t < T; t++)
                    if (p2o.state[t] != po.state[t] || p2o.voiced_prob[t] != po.voiced_prob[t] ||
                        p2o.rms[t] != po.rms[t])
                        diff++;
                CHECK(diff == 0, "%s: %zu frames differ with 2 threads (split at %zu, portable %d)", name, diff,
                      mode[m].split_at, mode[m].portable);
                bio_pyin_out_free(&p2o);
            }
        }
        bio_result r2;
        rc = bio_analyze(pcm, n, &p2, &r2, err, sizeof err);
        CHECK(rc == 0, "%s: bio_analyze with 2 threads: %s", name, err);
        if (rc == 0) {
            size_t diff = 0;
            for (size_t t = 0; t < T; t++)
                if (r2.state[t] != po.state[t] || r2.voiced_prob[t] != po.voiced_prob[t] || r2.rms[t] != po.rms[t]) diff++;
            CHECK(diff == 0, "%s: %zu frames differ with 2 threads", name, diff);
            bio_result_free(&r2);
        }
    }

    /* The slow reference paths give the same answer: per-frame FFT
     * autocorrelation as librosa computes it with the dense 2N x 2N Viterbi,
     * and the bounded banded search (used for non-triangular windows). */
    bio_pyin_opts ref_opts[2] = {{.generic_acf = 1, .dense_viterbi = 1}, {.banded_viterbi = 1}};
    for (int v = 0; v < 2; v++) {
        bio_pyin_out slow;
        rc = bio_pyin_run(pcm, n, &p, &ref_opts[v], &slow, err, sizeof err);
        CHECK(rc == 0, "%s: reference run %d: %s", name, v, err);
        if (rc) continue;
        size_t diff = 0;
        double vpd = 0;
        for (size_t t = 0; t < T; t++) {
            if (slow.state[t] != po.state[t]) diff++;
            if (fabs(slow.voiced_prob[t] - po.voiced_prob[t]) > vpd) vpd = fabs(slow.voiced_prob[t] - po.voiced_prob[t]);
        }
        CHECK(diff == 0, "%s: %zu frames differ between the fast and reference path %d", name, diff, v);
        CHECK(vpd <= 1e-12, "%s: voiced_prob fast vs reference path %d: %.3g", name, v, vpd);
        bio_pyin_out_free(&slow);
    }

    /* The portable kernels give the same bits as the AVX2 ones (when the CPU
     * has AVX2; otherwise both runs are portable). */
    {
        bio_pyin_opts port = {.portable = 1};
        bio_pyin_out pp;
        rc = bio_pyin_run(pcm, n, &p, &port, &pp, err, sizeof err);
        CHECK(rc == 0, "%s: portable run: %s", name, err);
        if (rc == 0) {
            size_t diff = 0;
            for (size_t t = 0; t < T; t++)
                if (pp.state[t] != po.state[t] || pp.voiced_prob[t] != po.voiced_prob[t] || pp.rms[t] != po.rms[t])
                    diff++;
            CHECK(diff == 0, "%s: %zu frames differ between the portable and the dispatched kernels", name, diff);
            bio_pyin_out_free(&pp);
        }
    }

out_po:
    bio_pyin_out_free(&po);
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
        bio_result_free(&r);
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
        bio_result_free(&r);
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
        bio_result_free(&r);
    }

    /* a noisy sine through the reference paths: identical decoding */
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        double f = 150.0 + 60.0 * sin(2 * M_PI * 0.7 * (double)i / 16000.0);
        x[i] = (float)(0.3 * sin(2 * M_PI * f * (double)i / 16000.0) * (i % 20000 < 12000) +
                       0.05 * ((double)(seed >> 8) / 16777216.0 - 0.5));
    }
    {
        bio_pyin_out a, b;
        bio_pyin_opts ref = {.generic_acf = 1, .dense_viterbi = 1};
        int r1 = bio_pyin_run(x, n, &p, NULL, &a, err, sizeof err);
        int r2 = bio_pyin_run(x, n, &p, &ref, &b, err, sizeof err);
        CHECK(r1 == 0 && r2 == 0, "gliding sine runs: %s", err);
        if (r1 == 0 && r2 == 0) {
            size_t diff = 0, voiced = 0;
            for (size_t t = 0; t < a.n_frames; t++) {
                if (a.state[t] != b.state[t]) diff++;
                if (a.state[t] < a.n_pitch_bins) voiced++;
            }
            CHECK(diff == 0, "gliding sine: %zu frames differ between fast and reference paths", diff);
            CHECK(voiced > a.n_frames / 3, "gliding sine voiced %zu of %zu", voiced, a.n_frames);
        }
        if (r1 == 0) bio_pyin_out_free(&a);
        if (r2 == 0) bio_pyin_out_free(&b);
    }

    /* shorter than one hop, and empty: one or a few frames, nothing voiced */
    for (size_t i = 0; i < 100; i++) x[i] = (float)(0.5 * sin(2 * M_PI * 220.0 * (double)i / 16000.0));
    rc = bio_analyze(x, 100, &p, &r, err, sizeof err);
    CHECK(rc == 0, "100 samples: %s", err);
    if (rc == 0) {
        CHECK(r.frames == 1, "100 samples: %zu frames", r.frames);
        CHECK(result_finite(&r), "100 samples finite");
        bio_result_free(&r);
    }
    rc = bio_analyze(x, 0, &p, &r, err, sizeof err);
    CHECK(rc == 0, "0 samples: %s", err);
    if (rc == 0) {
        CHECK(r.frames == 1 && r.voiced_frames == 0 && r.distress_score == 0, "0 samples: %zu frames", r.frames);
        bio_result_free(&r);
    }

    /* bad input */
    x[10] = NAN;
    rc = bio_analyze(x, 1000, &p, &r, err, sizeof err);
    CHECK(rc == TRIDENT_EINVAL && strstr(err, "10"), "NaN sample rejected: rc %d %s", rc, err);
    x[10] = 0;
    /* anywhere in a longer input, on one and two threads and through the
     * reference paths: the first non-finite sample is named */
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
            for (int v = 0; v < 4; v++) {
                bio_params pt = p;
                pt.n_threads = v == 1 ? 2 : 1;
                bio_pyin_opts o = {.dense_viterbi = v == 2, .generic_acf = v == 3};
                bio_pyin_out po;
                rc = bio_pyin_run(y, n2, &pt, &o, &po, err, sizeof err);
                CHECK(rc == TRIDENT_EINVAL && strstr(err, want), "non-finite case %zu, variant %d: rc %d \"%s\"", c,
                      v, rc, err);
                if (rc == 0) bio_pyin_out_free(&po);
            }
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
    bio_result_free(&a);
    bio_result_free(&b);
    bio_result_free(NULL);
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

/* The monotone Viterbi search (as it runs, and scoring every voiced state
 * of every frame) against the dense one (same front end, so the same
 * scores) on inputs chosen for its corners: silence (every unvoiced
 * state's predecessors tie in mirrored pairs), tones at the lowest and the
 * highest pitch bins (winners among the edge rows, whose transition tables
 * differ), a gated tone (voicing switches), noise, a fast chirp (the best
 * predecessor moves across the band) and two simultaneous tones; with one
 * and two threads. */
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
        bio_pyin_out fast, two, dense, full;
        bio_pyin_opts dopt = {.dense_viterbi = 1}, fopt = {.all_voiced = 1};
        bio_params p2 = p;
        p2.n_threads = 2;
        int rc = bio_pyin_run(x, n, &p, NULL, &fast, err, sizeof err);
        CHECK(rc == 0, "monotone input %d: %s", kind, err);
        if (rc) continue;
        rc = bio_pyin_run(x, n, &p, &dopt, &dense, err, sizeof err);
        CHECK(rc == 0, "monotone input %d, dense: %s", kind, err);
        if (rc == 0) {
            size_t diff = 0;
            for (size_t t = 0; t < fast.n_frames; t++) diff += fast.state[t] != dense.state[t];
            CHECK(diff == 0, "monotone input %d: %zu of %zu states differ from the dense search", kind, diff,
                  fast.n_frames);
            rc = bio_pyin_run(x, n, &p, &fopt, &full, err, sizeof err);
            CHECK(rc == 0, "monotone input %d, every voiced state: %s", kind, err);
            if (rc == 0) {
                diff = 0;
                for (size_t t = 0; t < fast.n_frames; t++) diff += full.state[t] != dense.state[t];
                CHECK(diff == 0, "monotone input %d: %zu states differ with every voiced state scored", kind, diff);
                bio_pyin_out_free(&full);
            }
            bio_pyin_out_free(&dense);
        }
        rc = bio_pyin_run(x, n, &p2, NULL, &two, err, sizeof err);
        CHECK(rc == 0, "monotone input %d, 2 threads: %s", kind, err);
        if (rc == 0) {
            size_t diff = 0;
            for (size_t t = 0; t < fast.n_frames; t++) diff += fast.state[t] != two.state[t];
            CHECK(diff == 0, "monotone input %d: %zu states differ with 2 threads", kind, diff);
            bio_pyin_out_free(&two);
        }
        bio_pyin_out_free(&fast);
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
