/* pyin.h — the pYIN tracker and RMS behind bio_analyze; private to src/bio
 * (and its tests, which decode the same model with a dense reference
 * Viterbi). */
#ifndef TRIDENT_BIO_PYIN_H
#define TRIDENT_BIO_PYIN_H

#include <stddef.h>

#include "bio/bio.h"

/* Per-frame output of bio_pyin_run; arrays of n_frames entries, owned by the
 * struct and released with bio_pyin_out_clear. */
typedef struct bio_pyin_out {
    size_t n_frames;
    int n_pitch_bins;    /* N: states are 0..N-1 voiced, N..2N-1 unvoiced */
    int *state;          /* Viterbi state per frame */
    double *voiced_prob; /* pYIN voicing probability */
    float *rms;          /* librosa.feature.rms with the same framing */
    double *bin_hz;      /* N bin frequencies fmin * 2^(k / bins_per_octave) */
} bio_pyin_out;

/* Number of frames librosa produces for n samples (centred framing). */
size_t bio_frame_count(size_t n, const bio_params *p);

/* Runs pYIN + RMS on the calling thread. Returns 0 or a TRIDENT_E* code with
 * err filled (bad parameters, non-finite samples, out of memory); on error
 * out holds no memory. */
int bio_pyin_run(const float *pcm, size_t n, const bio_params *p, bio_pyin_out *out, char *err,
                 size_t err_size);
void bio_pyin_out_clear(bio_pyin_out *out);

/* The hidden Markov model that bio_pyin_run decodes, written out densely as
 * librosa's viterbi() receives it (log(p + tiny) everywhere), for a
 * reference decoder. S = 2N states; arrays owned by the struct. */
typedef struct bio_pyin_hmm {
    size_t n_frames;
    int n_states;
    double *log_init;  /* [S] */
    double *log_trans; /* [S][S]: from the row's state to the column's */
    double *log_obs;   /* [n_frames][S] */
} bio_pyin_hmm;

/* Builds the model of n samples (same checks and errors as bio_pyin_run;
 * on error hmm holds no memory). bio_pyin_hmm_clear releases its arrays. */
int bio_pyin_hmm_build(const float *pcm, size_t n, const bio_params *p, bio_pyin_hmm *hmm, char *err,
                       size_t err_size);
void bio_pyin_hmm_clear(bio_pyin_hmm *hmm);

/* Regularised incomplete beta function I_x(a, b) (scipy.stats.beta.cdf). */
double bio_betainc(double a, double b, double x);

#endif
