/* bio.h — bio-acoustic distress: pYIN pitch, RMS energy, jitter, distress score.
 *
 * bio_analyze runs the equivalent of librosa 0.11.0's
 *     f0, voiced, probs = librosa.pyin(y, fmin=50, fmax=400, sr=16000)
 *     rms = librosa.feature.rms(y=y)[0]
 * (every other parameter at librosa's default) on 16-kHz mono float samples
 * and derives the original TRIDENT distress features from them:
 *     D = 0.30 P + 0.35 V + 0.20 E + 0.15 J
 * with P the sex-adaptive pitch elevation of the voiced F0 mean, V = min(1,
 * CV(F0)/0.5), E = min(1, mean RMS/0.1), J = min(1, mean|dF0|/F0/0.02); every
 * feature is 0 when no frame is voiced. ../shared/bio-ref holds the oracle.
 *
 * Thread safety: concurrent calls are fine; each runs on the calling thread
 * and nothing is kept between calls. */
#ifndef TRIDENT_BIO_BIO_H
#define TRIDENT_BIO_BIO_H

#include <jansson.h>
#include <stddef.h>

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
    double w_pitch, w_instability, w_energy, w_jitter; /* 0.30, 0.35, 0.20, 0.15 */
    /* output */
    int keep_frames; /* non-zero: fill the per-frame arrays of bio_result */
} bio_params;

/* The defaults above. */
bio_params bio_params_default(void);

typedef struct bio_result {
    /* the features the server returns under "bio_acoustic" */
    double f0_mean;         /* Hz, mean F0 over voiced frames */
    double f0_std;          /* Hz, population standard deviation */
    double f0_cv;           /* f0_std / f0_mean */
    double pitch_elevation; /* P in [0, 1] */
    double instability;     /* V in [0, 1] */
    double energy;          /* E in [0, 1] */
    double jitter;          /* J in [0, 1] */
    double distress_score;  /* D in [0, 1] */
    size_t voiced_frames;
    size_t frames;
    /* intermediates */
    double rms_mean;   /* mean RMS over all frames (0 when nothing is voiced) */
    double jitter_raw; /* mean |dF0| / f0_mean before scaling and capping */
    /* Per-frame arrays (frames entries), only with params.keep_frames, owned
     * by the result and released by bio_result_free; NULL otherwise. */
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
void bio_result_free(bio_result *r);

/* {"f0_mean", "f0_cv", "pitch_elevation", "instability", "energy", "jitter",
 *  "distress_score", "voiced_frames", "frames"} — the server's "bio_acoustic"
 * object. Returns a new reference the caller owns, or NULL when out of memory. */
json_t *bio_result_to_json(const bio_result *r);

#endif
