/* bio.h — bio-acoustic distress: pYIN pitch, RMS energy, jitter, distress score.
 *
 * bio_analyze runs the equivalent of librosa 0.11.0's
 *     f0, voiced, probs = librosa.pyin(y, fmin=50, fmax=400, sr=16000)
 *     rms = librosa.feature.rms(y=y)[0]
 * (every other parameter at librosa's default) on 16-kHz mono float samples
 * and scores distress with the paper's weights, D = 0.30 P + 0.35 V + 0.20 E +
 * 0.15 J, under two normalisations of the four terms (both always computed):
 *
 * - paper (the original TRIDENT formula, ../shared/bio-ref is its oracle): on
 *   every voiced frame, P the sex-adaptive pitch elevation of the mean F0,
 *   V = min(1, CV(F0)/0.5), E = min(1, mean RMS/0.1), J = min(1, mean|dF0|/F0/0.02).
 *   E follows the recording level and J counts pYIN's octave jumps and frame
 *   noise, so calm speech scores 0.4-0.6.
 * - calibrated (the default): on the speech frames — voiced, RMS within
 *   speech_gate_db of the recording's speech peak (the 95th percentile of frame
 *   RMS), F0 within pitch_window_st semitones of their median (octave and
 *   sub-harmonic errors, hum and line noise in pauses drop out) — P and V are
 *   the paper's functions of that track's F0 mean and CV; J = clip((m -
 *   movement_calm_st) / movement_span_st) with m the mean frame-to-frame pitch
 *   movement in semitones of the 3-frame-smoothed track (calm reference
 *   speech: ~0.35); E = clip((L - R) / level_span_db) with L the speech level
 *   (power mean of the speech frames' RMS, dB) and R the caller's reference
 *   level: the first reference_s seconds of speech of this audio, or the one
 *   the caller gives (a live call's opening). Gain leaves every calibrated
 *   term unchanged, a telephone band, codec or line noise moves D by at most
 *   0.03 on the test recordings (DESIGN.md); loudness only counts as a rise
 *   over the caller's own opening.
 *
 * Every feature and term is 0 when no frame is voiced (calibrated: no speech frame).
 *
 * Thread safety: concurrent calls are fine; each runs on the calling thread
 * and nothing is kept between calls. */
#ifndef TRIDENT_BIO_BIO_H
#define TRIDENT_BIO_BIO_H

#include <jansson.h>
#include <stddef.h>

/* Which normalisation makes bio_result's distress_score (and top-level terms). */
typedef enum {
    BIO_DISTRESS_CALIBRATED = 0, /* level- and line-independent terms (the default) */
    BIO_DISTRESS_PAPER = 1       /* the original formula */
} bio_distress_model;

/* "calibrated" or "paper" (static strings). */
const char *bio_distress_model_name(bio_distress_model m);

/* Parses "calibrated" or "paper" into *out. Returns 0, or -1 (out unchanged). */
int bio_distress_model_parse(const char *s, bio_distress_model *out);

typedef struct bio_params {
    /* pYIN (librosa.pyin's parameters and defaults) */
    double sample_rate;         /* 16000: the rate of the samples given */
    double fmin;                /* 50 Hz */
    double fmax;                /* 400 Hz */
    int frame_length;           /* 2048 */
    int hop_length;             /* 512 (frame_length / 4) */
    int n_thresholds;           /* 100 */
    double beta_a, beta_b;      /* 2, 18: beta prior over the thresholds */
    double boltzmann_parameter; /* 2 */
    double resolution;          /* 0.1 semitone */
    double max_transition_rate; /* 35.92 octaves per second */
    double switch_prob;         /* 0.01 */
    double no_trough_prob;      /* 0.01 */
    /* distress (the original TRIDENT formula) */
    double pitch_split_hz;          /* 165: below, the low-voice elevation scale applies */
    double low_base_hz, low_span_hz;   /* 120, 80 */
    double high_base_hz, high_span_hz; /* 200, 100 */
    double cv_full;                 /* 0.5: CV(F0) that gives instability 1 */
    double rms_full;                /* 0.1: mean RMS that gives energy 1 */
    double jitter_full;             /* 0.02: relative mean |dF0| that gives jitter 1 */
    double w_pitch, w_instability, w_energy, w_jitter; /* 0.30, 0.35, 0.20, 0.15 (both models) */
    /* distress, the calibrated model (see the top of this file) */
    bio_distress_model distress_model; /* BIO_DISTRESS_CALIBRATED */
    double speech_gate_db;      /* 25: speech frames are within this of the speech peak level */
    double pitch_window_st;     /* 8: ... and within this many semitones of their median F0 */
    double movement_calm_st;    /* 0.35: smoothed pitch movement per frame of calm speech (J = 0) */
    double movement_span_st;    /* 0.25: movement above that which gives J = 1 */
    double level_span_db;       /* 10: speech level above the reference that gives E = 1 */
    double reference_s;         /* 3: seconds of speech that make the reference level */
    double reference_level_db;  /* NAN: measure the reference on this audio; else the caller's
                                   (dBFS, e.g. a live call's opening: bio_result.reference_level_db) */
    /* output */
    int keep_frames; /* non-zero: fill the per-frame arrays of bio_result */
} bio_params;

/* The defaults above. */
bio_params bio_params_default(void);

/* The four terms and the score of one model. */
typedef struct bio_terms {
    double pitch_elevation; /* P in [0, 1] */
    double instability;     /* V in [0, 1] */
    double energy;          /* E in [0, 1] */
    double jitter;          /* J in [0, 1] */
    double distress_score;  /* D in [0, 1] */
} bio_terms;

typedef struct bio_result {
    /* the features the server returns under "bio_acoustic" */
    double f0_mean;         /* Hz, mean F0 over voiced frames */
    double f0_std;          /* Hz, population standard deviation */
    double f0_cv;           /* f0_std / f0_mean */
    double pitch_elevation; /* P in [0, 1]  } the terms of params.distress_model: */
    double instability;     /* V in [0, 1]  } a copy of paper or calibrated */
    double energy;          /* E in [0, 1]  } */
    double jitter;          /* J in [0, 1]  } */
    double distress_score;  /* D in [0, 1]  } */
    bio_distress_model distress_model;
    size_t voiced_frames;
    size_t frames;
    bio_terms paper;      /* the original formula */
    bio_terms calibrated; /* the calibrated model */
    /* intermediates of the paper's terms */
    double rms_mean;   /* mean RMS over all frames (0 when nothing is voiced) */
    double jitter_raw; /* mean |dF0| / f0_mean before scaling and capping */
    /* features of the calibrated terms (0 when there is no speech frame) */
    size_t speech_frames;
    double speech_f0_mean;     /* Hz, mean F0 of the speech frames (P) */
    double speech_f0_cv;       /* their population CV (V) */
    double pitch_movement_st;  /* mean |change| per frame of their 3-frame-smoothed pitch, semitones (J) */
    double speech_level_db;    /* power mean of their RMS, dBFS (E) */
    double opening_level_db;   /* the same over the first reference_s seconds of speech */
    double opening_speech_s;   /* seconds of speech that opening level is measured on */
    double reference_level_db; /* the reference E was measured against: params.reference_level_db,
                                  or opening_level_db when that is NAN (NAN without speech) */
    /* Per-frame arrays (frames entries), only with params.keep_frames, owned
     * by the result and released by bio_result_clear; NULL otherwise. */
    double *f0;              /* Hz of the decoded pitch bin (librosa's best guess, set on unvoiced frames too) */
    unsigned char *voiced;   /* 1 where pYIN decided the frame is voiced */
    double *voiced_prob;     /* pYIN's voicing probability */
    float *rms;              /* librosa.feature.rms */
    int *state;              /* Viterbi state: pitch bin, + n_pitch_bins when unvoiced */
} bio_result;

/* Analyses n samples at params->sample_rate (16 kHz for TRIDENT) and fills out
 * (all fields; out is overwritten, not freed first). params may be NULL for
 * the defaults. n may be 0 (librosa then sees one silent frame). Returns 0 or
 * TRIDENT_EINVAL (bad parameters, NaN/infinite samples) / TRIDENT_ENOMEM with
 * a message in err. On error out holds no memory. */
int bio_analyze(const float *pcm, size_t n, const bio_params *params, bio_result *out,
                char *err, size_t err_size);

/* Releases the per-frame arrays of r (if any) and clears them. r may be NULL. */
void bio_result_clear(bio_result *r);

/* The server's "bio_acoustic" object: {"f0_mean", "f0_cv", "pitch_elevation",
 * "instability", "energy", "jitter", "distress_score" (the terms of the model
 * in use), "voiced_frames", "frames", "distress_model", "features": {"f0_std",
 * "rms_mean", "jitter_raw", "speech_frames", "speech_f0_mean", "speech_f0_cv",
 * "pitch_movement_st", "speech_level_db", "opening_level_db",
 * "reference_level_db" (these three null without speech), "opening_speech_s"}, "models": {"paper": {the five terms},
 * "calibrated": {...}}}. Returns a new reference the caller owns, or NULL when
 * out of memory. */
json_t *bio_result_to_json(const bio_result *r);

#endif
