/* pyin.h — the pYIN tracker and RMS behind bio_analyze; private to src/bio
 * (and its tests, which compare the fast paths with slow reference ones). */
#ifndef TRIDENT_BIO_PYIN_H
#define TRIDENT_BIO_PYIN_H

#include <stddef.h>

#include "bio/bio.h"

/* Per-frame output of bio_pyin_run; arrays of n_frames entries, owned by the
 * struct and released with bio_pyin_out_free. */
typedef struct bio_pyin_out {
    size_t n_frames;
    int n_pitch_bins;    /* N: states are 0..N-1 voiced, N..2N-1 unvoiced */
    int *state;          /* Viterbi state per frame */
    double *voiced_prob; /* pYIN voicing probability */
    float *rms;          /* librosa.feature.rms with the same framing */
    double *bin_hz;      /* N bin frequencies fmin * 2^(k / bins_per_octave) */
} bio_pyin_out;

/* Reference switches for tests: generic_acf computes every frame's
 * autocorrelation with one big FFT (as librosa does) instead of the shared
 * block spectra; dense_viterbi searches all 2N predecessors of every state;
 * banded_viterbi uses the bounded outward search instead of the monotone
 * one (the path taken where that one's conditions fail); portable keeps the portable
 * kernels even where AVX2 is available (they must give identical bits);
 * split_at >= 1 (with params n_threads >= 2) makes the calling thread leave
 * frames split_at, split_at + split_stride, ... (stride 0 means 1) to be
 * shared with the helper thread, waiting for it there, instead of sharing
 * whichever frames the helper happens to claim, so tests can check that the
 * result does not depend on which frames are shared. fe_shuffle (one
 * thread) runs the front end in chunks in the order 1, 0, 2, 3, 5, 4, 6, 7,
 * ..., as two threads may claim them, so that tests can check that a thread
 * continuing its previous chunk or starting afresh gives the same bits.
 * all_voiced makes the monotone search score every voiced state of every
 * frame, as it does only where it cannot prove a state without a pitch
 * candidate off the path, so that tests can check both ways agree. */
typedef struct bio_pyin_opts {
    int generic_acf;
    int dense_viterbi;
    int banded_viterbi;
    int portable;
    size_t split_at;
    int split_stride;
    int fe_shuffle;
    int all_voiced;
} bio_pyin_opts;

/* Number of frames librosa produces for n samples (centred framing). */
size_t bio_frame_count(size_t n, const bio_params *p);

/* Runs pYIN + RMS. opts may be NULL. Returns 0 or a TRIDENT_E* code with err
 * filled; on error out holds no memory. */
int bio_pyin_run(const float *pcm, size_t n, const bio_params *p, const bio_pyin_opts *opts,
                 bio_pyin_out *out, char *err, size_t err_size);
void bio_pyin_out_free(bio_pyin_out *out);

/* Regularised incomplete beta function I_x(a, b) (scipy.stats.beta.cdf). */
double bio_betainc(double a, double b, double x);

#endif
