/* bio.c — bio_analyze: pYIN + RMS (pyin.c) turned into TRIDENT's distress
 * features, and the "bio_acoustic" JSON object.
 *
 * The features follow the original system exactly (see ../shared/bio-ref):
 * statistics over voiced frames only, population standard deviation,
 * sex-adaptive pitch elevation, RMS averaged over all frames, jitter as the
 * mean absolute difference between consecutive voiced F0 values (consecutive
 * in the list of voiced frames) relative to the mean, and everything zero
 * when no frame is voiced. */
#include "bio/bio.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "bio/pyin.h"

bio_params bio_params_default(void) {
    bio_params p;
    memset(&p, 0, sizeof p);
    p.sample_rate = 16000.0;
    p.fmin = 50.0;
    p.fmax = 400.0;
    p.frame_length = 2048;
    p.hop_length = 512;
    p.n_thresholds = 100;
    p.beta_a = 2.0;
    p.beta_b = 18.0;
    p.boltzmann_parameter = 2.0;
    p.resolution = 0.1;
    p.max_transition_rate = 35.92;
    p.switch_prob = 0.01;
    p.no_trough_prob = 0.01;
    p.pitch_split_hz = 165.0;
    p.low_base_hz = 120.0;
    p.low_span_hz = 80.0;
    p.high_base_hz = 200.0;
    p.high_span_hz = 100.0;
    p.cv_full = 0.5;
    p.rms_full = 0.1;
    p.jitter_full = 0.02;
    p.w_pitch = 0.30;
    p.w_instability = 0.35;
    p.w_energy = 0.20;
    p.w_jitter = 0.15;
    p.keep_frames = 0;
    return p;
}

static double clip01(double x) { return x < 0.0 ? 0.0 : x > 1.0 ? 1.0 : x; }

/* The distress features from per-frame F0 (Hz of the decoded bin), voicing
 * flags (state < N) and RMS. */
static void features_compute(const bio_pyin_out *po, const bio_params *p, bio_result *r) {
    size_t T = po->n_frames, nv = 0;
    int N = po->n_pitch_bins;
    double sum = 0.0;
    for (size_t t = 0; t < T; t++)
        if (po->state[t] < N) {
            sum += po->bin_hz[po->state[t]];
            nv++;
        }
    r->frames = T;
    r->voiced_frames = nv;
    if (nv == 0) return; /* every feature stays 0 */
    double mean = sum / (double)nv;
    double ss = 0.0, dsum = 0.0, prev = 0.0;
    size_t seen = 0;
    for (size_t t = 0; t < T; t++) {
        if (po->state[t] >= N) continue;
        double f = po->bin_hz[po->state[t]];
        ss += (f - mean) * (f - mean);
        if (seen > 0) dsum += fabs(f - prev);
        prev = f;
        seen++;
    }
    double rsum = 0.0;
    for (size_t t = 0; t < T; t++) rsum += po->rms[t];
    r->f0_mean = mean;
    r->f0_std = sqrt(ss / (double)nv);
    r->f0_cv = mean > 0 ? r->f0_std / mean : 0.0;
    if (mean < p->pitch_split_hz)
        r->pitch_elevation = clip01((mean - p->low_base_hz) / p->low_span_hz);
    else
        r->pitch_elevation = clip01((mean - p->high_base_hz) / p->high_span_hz);
    r->instability = fmin(1.0, r->f0_cv / p->cv_full);
    r->rms_mean = rsum / (double)T;
    r->energy = fmin(1.0, r->rms_mean / p->rms_full);
    if (nv >= 2) {
        r->jitter_raw = dsum / (double)(nv - 1) / mean;
        r->jitter = fmin(1.0, r->jitter_raw / p->jitter_full);
    }
    r->distress_score = p->w_pitch * r->pitch_elevation + p->w_instability * r->instability +
                        p->w_energy * r->energy + p->w_jitter * r->jitter;
}

int bio_analyze(const float *pcm, size_t n, const bio_params *params, bio_result *out, char *err,
                size_t err_size) {
    memset(out, 0, sizeof *out);
    bio_params defaults = bio_params_default();
    const bio_params *p = params ? params : &defaults;
    bio_pyin_out po;
    int rc = bio_pyin_run(pcm, n, p, &po, err, err_size);
    if (rc) return rc;
    features_compute(&po, p, out);
    if (p->keep_frames) {
        size_t T = po.n_frames;
        out->f0 = malloc(T * sizeof *out->f0);
        out->voiced = malloc(T * sizeof *out->voiced);
        out->state = malloc(T * sizeof *out->state);
        if (!out->f0 || !out->voiced || !out->state) {
            bio_result_free(out);
            bio_pyin_out_free(&po);
            return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory for %zu bio frames", T);
        }
        for (size_t t = 0; t < T; t++) {
            int s = po.state[t], N = po.n_pitch_bins;
            out->state[t] = s;
            out->voiced[t] = s < N;
            out->f0[t] = po.bin_hz[s % N];
        }
        out->voiced_prob = po.voiced_prob;
        out->rms = po.rms;
        po.voiced_prob = NULL;
        po.rms = NULL;
    }
    bio_pyin_out_free(&po);
    return 0;
}

void bio_result_free(bio_result *r) {
    if (!r) return;
    free(r->f0);
    free(r->voiced);
    free(r->voiced_prob);
    free(r->rms);
    free(r->state);
    r->f0 = NULL;
    r->voiced = NULL;
    r->voiced_prob = NULL;
    r->rms = NULL;
    r->state = NULL;
}

json_t *bio_result_to_json(const bio_result *r) {
    json_t *o = json_object();
    if (!o) return NULL;
    struct {
        const char *key;
        json_t *value;
    } fields[] = {
        {"f0_mean", json_real(r->f0_mean)},
        {"f0_cv", json_real(r->f0_cv)},
        {"pitch_elevation", json_real(r->pitch_elevation)},
        {"instability", json_real(r->instability)},
        {"energy", json_real(r->energy)},
        {"jitter", json_real(r->jitter)},
        {"distress_score", json_real(r->distress_score)},
        {"voiced_frames", json_integer((json_int_t)r->voiced_frames)},
        {"frames", json_integer((json_int_t)r->frames)},
    };
    int ok = 1;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        /* json_object_set_new takes the reference even on failure (and a NULL value fails) */
        if (json_object_set_new(o, fields[i].key, fields[i].value)) ok = 0;
    }
    if (!ok) {
        json_decref(o);
        return NULL;
    }
    return o;
}
