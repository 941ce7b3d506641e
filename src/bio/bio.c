/* bio.c — bio_analyze: pYIN + RMS (pyin.c) turned into TRIDENT's distress
 * features under both models (bio.h), and the "bio_acoustic" JSON object.
 *
 * The paper's features follow the original system exactly (see
 * ../shared/bio-ref): statistics over voiced frames only, population standard
 * deviation, sex-adaptive pitch elevation, RMS averaged over all frames,
 * jitter as the mean absolute difference between consecutive voiced F0 values
 * (consecutive in the list of voiced frames) relative to the mean, and
 * everything zero when no frame is voiced. The calibrated ones are computed
 * from the same per-frame output on the speech frames. */
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
    p.distress_model = BIO_DISTRESS_CALIBRATED;
    p.speech_gate_db = 25.0;
    p.pitch_window_st = 8.0;
    p.movement_calm_st = 0.35;
    p.movement_span_st = 0.25;
    p.level_span_db = 10.0;
    p.reference_s = 3.0;
    p.reference_level_db = NAN;
    p.keep_frames = 0;
    return p;
}

const char *bio_distress_model_name(bio_distress_model m) {
    return m == BIO_DISTRESS_PAPER ? "paper" : "calibrated";
}

int bio_distress_model_parse(const char *s, bio_distress_model *out) {
    if (s && strcmp(s, "calibrated") == 0)
        *out = BIO_DISTRESS_CALIBRATED;
    else if (s && strcmp(s, "paper") == 0)
        *out = BIO_DISTRESS_PAPER;
    else
        return -1;
    return 0;
}

static double clip01(double x) { return x < 0.0 ? 0.0 : x > 1.0 ? 1.0 : x; }

static double pitch_elevation(double f0_mean, const bio_params *p) {
    if (f0_mean < p->pitch_split_hz) return clip01((f0_mean - p->low_base_hz) / p->low_span_hz);
    return clip01((f0_mean - p->high_base_hz) / p->high_span_hz);
}

static void terms_score(bio_terms *t, const bio_params *p) {
    t->distress_score = p->w_pitch * t->pitch_elevation + p->w_instability * t->instability +
                        p->w_energy * t->energy + p->w_jitter * t->jitter;
}

/* The paper's features from per-frame F0 (Hz of the decoded bin), voicing
 * flags (state < N) and RMS. */
static void paper_compute(const bio_pyin_out *po, const bio_params *p, bio_result *r) {
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
    r->paper.pitch_elevation = pitch_elevation(mean, p);
    r->paper.instability = fmin(1.0, r->f0_cv / p->cv_full);
    r->rms_mean = rsum / (double)T;
    r->paper.energy = fmin(1.0, r->rms_mean / p->rms_full);
    if (nv >= 2) {
        r->jitter_raw = dsum / (double)(nv - 1) / mean;
        r->paper.jitter = fmin(1.0, r->jitter_raw / p->jitter_full);
    }
    terms_score(&r->paper, p);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of v[0..n) (n >= 1; v is reordered). */
static double median_of(double *v, size_t n) {
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The calibrated model's features and terms. st[t] is scratch for T frames:
 * the pitch in semitones (re 100 Hz) of speech frames, NAN elsewhere; tmp
 * another T doubles. */
static void calibrated_compute(const bio_pyin_out *po, const bio_params *p, double *st, double *tmp,
                               bio_result *r) {
    size_t T = po->n_frames;
    int N = po->n_pitch_bins;
    r->reference_level_db = NAN;
    if (r->voiced_frames == 0) return;
    /* the speech peak level: the 95th percentile (nearest rank below) of frame RMS */
    for (size_t t = 0; t < T; t++) tmp[t] = po->rms[t];
    qsort(tmp, T, sizeof *tmp, cmp_double);
    double gate = tmp[(size_t)(0.95 * (double)(T - 1))] * pow(10.0, -p->speech_gate_db / 20.0);
    size_t n = 0;
    for (size_t t = 0; t < T; t++) {
        st[t] = NAN;
        if (po->state[t] < N && po->rms[t] > 0 && po->rms[t] >= gate) {
            st[t] = 12.0 * log2(po->bin_hz[po->state[t]] / 100.0);
            tmp[n++] = st[t];
        }
    }
    if (n == 0) return;
    /* the window around the median pitch, re-centred on what it holds */
    double centre = median_of(tmp, n);
    for (int it = 0; it < 3; it++) {
        size_t k = 0;
        for (size_t t = 0; t < T; t++)
            if (!isnan(st[t]) && fabs(st[t] - centre) <= p->pitch_window_st) tmp[k++] = st[t];
        if (k == 0) break;
        centre = median_of(tmp, k);
    }
    double hz_sum = 0.0, pow_sum = 0.0, ref_pow = 0.0;
    size_t ns = 0, ref_n = 0, ref_want = (size_t)lround(p->reference_s * p->sample_rate / p->hop_length);
    if (ref_want == 0) ref_want = 1;
    for (size_t t = 0; t < T; t++) {
        if (isnan(st[t])) continue;
        if (fabs(st[t] - centre) > p->pitch_window_st) {
            st[t] = NAN;
            continue;
        }
        double pw = (double)po->rms[t] * po->rms[t];
        hz_sum += 100.0 * exp2(st[t] / 12.0);
        pow_sum += pw;
        if (ref_n < ref_want) {
            ref_pow += pw;
            ref_n++;
        }
        ns++;
    }
    if (ns == 0) return;
    double mean = hz_sum / (double)ns, ss = 0.0;
    for (size_t t = 0; t < T; t++)
        if (!isnan(st[t])) {
            double d = 100.0 * exp2(st[t] / 12.0) - mean;
            ss += d * d;
        }
    /* movement of the 3-frame moving average, where three speech frames are consecutive */
    double move = 0.0, prev = NAN;
    size_t nm = 0;
    for (size_t t = 1; t + 1 < T; t++) {
        double a = NAN;
        if (!isnan(st[t - 1]) && !isnan(st[t]) && !isnan(st[t + 1])) a = (st[t - 1] + st[t] + st[t + 1]) / 3.0;
        if (!isnan(a) && !isnan(prev)) {
            move += fabs(a - prev);
            nm++;
        }
        prev = a;
    }
    r->speech_frames = ns;
    r->speech_f0_mean = mean;
    r->speech_f0_cv = sqrt(ss / (double)ns) / mean;
    r->pitch_movement_st = nm ? move / (double)nm : 0.0;
    r->speech_level_db = 10.0 * log10(pow_sum / (double)ns);
    r->opening_level_db = 10.0 * log10(ref_pow / (double)ref_n);
    r->opening_speech_s = (double)ref_n * p->hop_length / p->sample_rate;
    r->reference_level_db = isnan(p->reference_level_db) ? r->opening_level_db : p->reference_level_db;
    bio_terms *c = &r->calibrated;
    c->pitch_elevation = pitch_elevation(mean, p);
    c->instability = fmin(1.0, r->speech_f0_cv / p->cv_full);
    c->jitter = clip01((r->pitch_movement_st - p->movement_calm_st) / p->movement_span_st);
    c->energy = clip01((r->speech_level_db - r->reference_level_db) / p->level_span_db);
    terms_score(c, p);
}

/* Both models; the top-level terms from the one params selects. Returns 0 or TRIDENT_ENOMEM. */
static int features_compute(const bio_pyin_out *po, const bio_params *p, bio_result *r, char *err,
                            size_t err_size) {
    paper_compute(po, p, r);
    size_t T = po->n_frames;
    double *scratch = malloc(2 * (T ? T : 1) * sizeof *scratch);
    if (!scratch) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory for %zu bio frames", T);
    calibrated_compute(po, p, scratch, scratch + T, r);
    free(scratch);
    const bio_terms *use = p->distress_model == BIO_DISTRESS_PAPER ? &r->paper : &r->calibrated;
    r->distress_model = p->distress_model == BIO_DISTRESS_PAPER ? BIO_DISTRESS_PAPER : BIO_DISTRESS_CALIBRATED;
    r->pitch_elevation = use->pitch_elevation;
    r->instability = use->instability;
    r->energy = use->energy;
    r->jitter = use->jitter;
    r->distress_score = use->distress_score;
    return 0;
}

int bio_analyze(const float *pcm, size_t n, const bio_params *params, bio_result *out, char *err,
                size_t err_size) {
    memset(out, 0, sizeof *out);
    bio_params defaults = bio_params_default();
    const bio_params *p = params ? params : &defaults;
    if (!(p->speech_gate_db > 0 && p->pitch_window_st > 0 && p->movement_span_st > 0 && p->level_span_db > 0 &&
          p->reference_s > 0 && isfinite(p->movement_calm_st) && isfinite(p->speech_gate_db) &&
          !isinf(p->reference_level_db) && (p->distress_model == BIO_DISTRESS_CALIBRATED ||
                                            p->distress_model == BIO_DISTRESS_PAPER)))
        return error_set(err, err_size, TRIDENT_EINVAL, "invalid distress calibration parameters");
    bio_pyin_out po;
    int rc = bio_pyin_run(pcm, n, p, &po, err, err_size);
    if (rc) return rc;
    rc = features_compute(&po, p, out, err, err_size);
    if (rc) {
        bio_pyin_out_clear(&po);
        memset(out, 0, sizeof *out);
        return rc;
    }
    if (p->keep_frames) {
        size_t T = po.n_frames;
        out->f0 = malloc(T * sizeof *out->f0);
        out->voiced = malloc(T * sizeof *out->voiced);
        out->state = malloc(T * sizeof *out->state);
        if (!out->f0 || !out->voiced || !out->state) {
            bio_result_clear(out);
            bio_pyin_out_clear(&po);
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
    bio_pyin_out_clear(&po);
    return 0;
}

void bio_result_clear(bio_result *r) {
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

/* Sets the (key, value) pairs on o; json_object_set_new takes the reference even on
 * failure (and a NULL value fails). Returns 0, or -1 when any failed. */
typedef struct {
    const char *key;
    json_t *value;
} json_field;

static int fields_set(json_t *o, json_field *f, size_t n) {
    int ok = o != NULL;
    for (size_t i = 0; i < n; i++) {
        if (!o) json_decref(f[i].value);
        else if (json_object_set_new(o, f[i].key, f[i].value)) ok = 0;
    }
    return ok ? 0 : -1;
}

static json_t *terms_json(const bio_terms *t) {
    json_t *o = json_object();
    json_field f[] = {
        {"pitch_elevation", json_real(t->pitch_elevation)},
        {"instability", json_real(t->instability)},
        {"energy", json_real(t->energy)},
        {"jitter", json_real(t->jitter)},
        {"distress_score", json_real(t->distress_score)},
    };
    if (fields_set(o, f, sizeof f / sizeof f[0]) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *bio_result_to_json(const bio_result *r) {
    json_t *o = json_object(), *features = json_object(), *models = json_object();
    json_field ff[] = {
        {"f0_std", json_real(r->f0_std)},
        {"rms_mean", json_real(r->rms_mean)},
        {"jitter_raw", json_real(r->jitter_raw)},
        {"speech_frames", json_integer((json_int_t)r->speech_frames)},
        {"speech_f0_mean", json_real(r->speech_f0_mean)},
        {"speech_f0_cv", json_real(r->speech_f0_cv)},
        {"pitch_movement_st", json_real(r->pitch_movement_st)},
        {"speech_level_db", r->speech_frames ? json_real(r->speech_level_db) : json_null()},
        {"opening_level_db", r->speech_frames ? json_real(r->opening_level_db) : json_null()},
        {"reference_level_db", isnan(r->reference_level_db) ? json_null() : json_real(r->reference_level_db)},
        {"opening_speech_s", json_real(r->opening_speech_s)},
    };
    json_field mf[] = {
        {"paper", terms_json(&r->paper)},
        {"calibrated", terms_json(&r->calibrated)},
    };
    json_field f[] = {
        {"f0_mean", json_real(r->f0_mean)},
        {"f0_cv", json_real(r->f0_cv)},
        {"pitch_elevation", json_real(r->pitch_elevation)},
        {"instability", json_real(r->instability)},
        {"energy", json_real(r->energy)},
        {"jitter", json_real(r->jitter)},
        {"distress_score", json_real(r->distress_score)},
        {"voiced_frames", json_integer((json_int_t)r->voiced_frames)},
        {"frames", json_integer((json_int_t)r->frames)},
        {"distress_model", json_string(bio_distress_model_name(r->distress_model))},
        {"features", features},
        {"models", models},
    };
    /* each call consumes its values whatever happens; features and models are owned by f from here */
    int bad = fields_set(features, ff, sizeof ff / sizeof ff[0]);
    bad |= fields_set(models, mf, sizeof mf / sizeof mf[0]);
    bad |= fields_set(o, f, sizeof f / sizeof f[0]);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}
