/* pyin.c — probabilistic YIN pitch tracking and RMS, numerically equivalent to
 * librosa 0.11.0's pyin() and feature.rms() (Mauch & Dixon, "pYIN", ICASSP
 * 2014; de Cheveigné & Kawahara, "YIN", JASA 2002).
 *
 * The pipeline, per frame of frame_length samples every hop_length samples
 * (centred: the signal is padded with frame_length/2 zeros on both sides):
 *   1. autocorrelation r(k) of the whole frame for lags k <= max_period;
 *   2. difference d(k) = 2 (r(0) - r(k)) - sum_{m<k} y(m)^2 (d(1) without the
 *      energy term) and the cumulative mean normalised difference
 *      d(k) / (mean of d(1..k)), for periods min_period..max_period
 *      (librosa's formulation, quirks included);
 *   3. troughs (local minima), each weighted by a beta(2, 18) prior over 100
 *      thresholds and a Boltzmann prior over the troughs under each threshold;
 *      the global minimum takes no_trough_prob of the thresholds it is above;
 *   4. each trough's period, refined by parabolic interpolation, becomes a
 *      candidate in a 0.1-semitone pitch bin (last trough wins a shared bin);
 *   5. Viterbi over 2N states (N voiced pitch bins, N unvoiced twins) with a
 *      triangular local transition, a voicing switch probability, and log
 *      probabilities floored at log(DBL_MIN) exactly as librosa does.
 *
 * Speed. Frames overlap 4:1, so the autocorrelation is assembled from the
 * spectra of hop-sized blocks: a frame's r(k) is the sum over its blocks of
 * (block x itself) + (block x the next block, inside the frame), which is one
 * 2*hop-point real FFT per block and one inverse per frame instead of two
 * 2*frame-point ones. The Viterbi never scans all 2N x 2N transitions:
 * log(triangle) is strictly concave on the band, so (while the scores'
 * rounding error stays far below the concavity margin, which holds up to
 * ~5 x 10^7 frames) the best unvoiced predecessor of a state, ties to the
 * lowest index, never moves down as the state moves up. Every eighth
 * unvoiced state is solved coarse to fine, each by an exact scan of the
 * predecessors between those of two already solved states; the seven
 * between two of those together, one per vector lane; a voiced state
 * between the predecessors of its unvoiced neighbours (see the monotone
 * search). A voiced state without a pitch candidate is not scored at all
 * when the frame proves it cannot be on the path (its unvoiced twin beats
 * it by ~700, log eps, for every successor; see frame_targets);
 * voiced predecessors are visited only when their score can still reach a
 * state's best, and predecessors outside the band (transition log(DBL_MIN))
 * come from prefix/suffix maxima when they can matter at all. Every score
 * is computed with librosa's operations, so the decoded path is the dense
 * search's (tests compare against a dense reference).
 * Where the search's conditions fail (a window whose log is not concave on
 * the band, or that many frames) a bounded outward search from the
 * diagonal is used instead.
 * Ties go to the lowest state index, as numpy's argmax does.
 *
 * The plan for the default parameters (transition tables, threshold priors,
 * FFT twiddles) is built once per process and shared read-only. The hot
 * loops of the front end (FFT stages and split steps, block-pair and frame
 * spectra, the sample copy with its energy, the CMND divisions, the trough
 * scan) have AVX2 versions chosen at run time (TRIDENT_CPU=portable keeps
 * the portable ones); they perform the same IEEE operations in the same
 * order as the portable code, without FMA, so both paths give bit-identical
 * results (tests compare them). A trough's first threshold comes from a
 * guess (thresholds are i / n) corrected by exact comparisons, and the
 * breakpoints between thresholds are read off a bit set in ascending order
 * instead of sorted. No optimisation pragmas: the vector code is written
 * with intrinsics. The predecessor scans read per-state rows of the
 * transition tables (built with the plan), four predecessors per vector
 * step, or per-predecessor rows, four or eight states per step. Each
 * frame's scores are written in one vector pass that also yields the
 * bounds the next frame needs. The input's NaN/inf check is part of the
 * front end's sample copies (see padded_copy).
 * With n_threads >= 2 both threads run the front end in chunks of 16
 * frames claimed in order: the helper until none is left, the caller
 * whenever the frame it is to decode is not ready yet; the caller decodes
 * each frame as soon as its chunk has published it. Once the front end is
 * done the helper shares every frame it can claim: each thread scores its
 * part of the states (a split point moved each frame towards equal work),
 * with release/acquire counters between frames (see vit_ctx). Every
 * state is scored by the same operations whichever thread owns it and its
 * predecessor is the exact best whatever the bounds of its scan, so the
 * output does not depend on the number of threads or on timing (tests
 * check it). */
#include "bio/pyin.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/floats.h"
#include "base/mem.h"
#include "bio/fft.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define BIO_X86 1
#include <immintrin.h>
/* AVX2 without FMA: the vector code performs exactly the portable code's
 * IEEE operations, so both paths give bit-identical results (POPCNT comes
 * with every AVX2 CPU). */
#define BIO_AVX2 __attribute__((target("avx2,popcnt")))
#else
#define BIO_X86 0
#endif

/* ---- numpy-compatible helpers ------------------------------------------ */

/* numpy's pairwise summation of a contiguous double array (the order np.sum
 * uses), so that row sums round exactly as librosa's do. */
static double np_pairwise_sum(const double *a, size_t n) {
    if (n < 8) {
        double res = 0.0;
        for (size_t i = 0; i < n; i++) res += a[i];
        return res;
    }
    if (n <= 128) {
        double r[8];
        for (int j = 0; j < 8; j++) r[j] = a[j];
        size_t i;
        for (i = 8; i < n - (n % 8); i += 8)
            for (int j = 0; j < 8; j++) r[j] += a[i + j];
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) res += a[i];
        return res;
    }
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    return np_pairwise_sum(a, n2) + np_pairwise_sum(a + n2, n - n2);
}

/* Python's round() for a double: nearest integer, halves to even. */
static double py_round(double x) { return nearbyint(x); }

/* Continued fraction of I_x(a, b) (modified Lentz), valid for x < (a+1)/(a+b+2). */
static double betainc_cf(double a, double b, double x) {
    const double tiny = 1e-300;
    double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
    if (fabs(d) < tiny) d = tiny;
    d = 1.0 / d;
    double f = d;
    for (int m = 1; m <= 1000; m++) {
        double m2 = 2.0 * m;
        double num = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
        d = 1.0 + num * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1.0 + num / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        f *= d * c;
        num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
        d = 1.0 + num * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1.0 + num / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        double delta = d * c;
        f *= delta;
        if (fabs(delta - 1.0) < 1e-16) break;
    }
    double lbeta = lgamma(a) + lgamma(b) - lgamma(a + b);
    return exp(a * log(x) + b * log1p(-x) - lbeta) * f / a;
}

double bio_betainc(double a, double b, double x) {
    if (!(x > 0.0)) return 0.0;
    if (x >= 1.0) return 1.0;
    /* The smaller tail is computed directly and the other as 1 - it, so values
     * that round to exactly 1 (thresholds near 1) do so as in scipy. */
    if (x < (a + 1.0) / (a + b + 2.0)) return betainc_cf(a, b, x);
    return 1.0 - betainc_cf(b, a, 1.0 - x);
}

/* ---- the plan: everything that depends on parameters only --------------- */

/* The monotone search solves every GROUP-th unvoiced target by itself and
 * the others GROUP at a time, one per vector lane (a multiple of 4): 8
 * measured ~10 % faster than 4 overall, 16 no faster than 8. The rows of
 * pyin_plan.lq carry LQ_PAD = GROUP entries of -inf on either side, as a
 * group reads up to GROUP past each end of the band. */
enum { GROUP = 8, LQ_PAD = GROUP };

typedef struct pyin_plan {
    size_t n;             /* samples */
    size_t n_frames;
    int frame, hop, pad;
    int min_period, max_period, n_tau, cap; /* cap: most troughs a frame can have */
    double sr, fmin;
    /* threshold priors */
    int n_thr;
    double *thr;        /* n_thr + 1 thresholds linspace(0, 1) */
    double *beta_probs; /* n_thr */
    double *beta_head;  /* [k] = np.sum(beta_probs[:k]), k in [0, n_thr] */
    double *bexp;       /* exp(-lambda k), k < cap */
    double *bfact;      /* (1 - exp(-lambda)) / (1 - exp(-lambda n)), n in [0, cap] */
    double no_trough_prob;
    /* pitch bins */
    int N;
    double bins_per_octave;
    /* transitions */
    int hw;            /* predecessors k of j within |j - k| <= hw are in the band */
    int n_e;           /* 2 hw + 1 offsets e = j - k */
    int n_sid;         /* distinct row sums of the local transition matrix */
    int *row_sid;      /* [N] row -> index of its row sum (ascending sums) */
    int *col_sid;      /* [N] column -> smallest row-sum index among its band rows */
    double *logt;      /* [n_sid][2][n_e]: log(switch * local + eps); h 0 same voicing, 1 switch */
    double *logb;      /* [n_sid][2][hw + 1]: max of logt over |e| >= d (+ margin) */
    double log_eps;    /* log(DBL_MIN): every impossible transition or observation */
    double log_init_u; /* log(1/N + eps): initial unvoiced states */
    const double **ltp; /* [2][N]: [h][k] points at logt's centre for row k: ltp[h N + k][e], |e| <= hw */
    double logt_max;   /* the largest logt entry */
    double diag_min[2]; /* [h]: the smallest diagonal entry (e = 0) of table h over all rows */
    double *lq;        /* [n_sid][n_e + 2 LQ_PAD]: the same-voicing rows of logt, -inf LQ_PAD entries either side */
    const double **lqp; /* [N]: lqp[k][e] = ltp[k][e] for |e| <= hw, -inf for hw < |e| <= hw + LQ_PAD */
    int *iota;         /* [N]: 0, 1, ..., N - 1 (the list of every target) */
    double *wrow;      /* [2][N][wrow_stride]: [h][j][k - j + hw] = ltp[h N + k][j - k], -inf outside the band */
    int wrow_stride;   /* >= 2 hw + 4 (a vector scan reads 3 entries past the band) */
    double mono_mu;    /* the smallest -F'' step of F = log(window) on the band, less a margin (<= 0: not concave) */
    /* autocorrelation */
    int block_path;    /* frames assembled from hop-sized blocks */
    int nbk;           /* blocks per frame */
    bio_fft fft;       /* 2*hop (block path) or >= frame + max_period (generic) */
} pyin_plan;

static void plan_free(pyin_plan *pl) {
    free(pl->thr);
    free(pl->beta_probs);
    free(pl->beta_head);
    free(pl->bexp);
    free(pl->bfact);
    free(pl->row_sid);
    free(pl->col_sid);
    free(pl->logt);
    free(pl->logb);
    free(pl->wrow);
    free(pl->iota);
    free(pl->lq);
    free((void *)pl->lqp);
    free((void *)pl->ltp);
    bio_fft_free(&pl->fft);
    memset(pl, 0, sizeof *pl);
}

size_t bio_frame_count(size_t n, const bio_params *p) {
    size_t frame = (size_t)p->frame_length, pad = frame / 2;
    if (p->hop_length <= 0 || n + 2 * pad < frame) return 0;
    return 1 + (n + 2 * pad - frame) / (size_t)p->hop_length;
}

static int is_pow2(long x) { return x > 0 && (x & (x - 1)) == 0; }

static size_t next_pow2(size_t x) {
    size_t p = 16;
    while (p < x) p <<= 1;
    return p;
}

/* scipy.signal.windows.triang(M, sym=True) */
static void triang(int M, double *w) {
    int half = (M + 1) / 2;
    if (M % 2 == 0) {
        for (int n = 1; n <= half; n++) w[n - 1] = (2.0 * n - 1.0) / M;
        for (int i = 0; i < half; i++) w[half + i] = w[half - 1 - i];
    } else {
        for (int n = 1; n <= half; n++) w[n - 1] = 2.0 * n / (M + 1.0);
        for (int i = 0; i < half - 1; i++) w[half + i] = w[half - 2 - i];
    }
}

typedef struct sum_idx {
    double s;
    int k;
} sum_idx;

static int cmp_sum_idx(const void *a, const void *b) {
    const sum_idx *x = a, *y = b;
    if (x->s < y->s) return -1;
    if (x->s > y->s) return 1;
    return x->k - y->k;
}

/* librosa.sequence.transition_local(N, M, window="triangle", wrap=False)
 * kron'ed with transition_loop(2, 1 - switch_prob), kept as per-row-sum
 * tables of log(probability + DBL_MIN) by offset. */
static int plan_transitions(pyin_plan *pl, const bio_params *p, char *err, size_t err_size) {
    int N = pl->N;
    double max_semitones = py_round(p->max_transition_rate * 12.0 * pl->hop / pl->sr);
    double width_d = max_semitones * ceil(1.0 / p->resolution) + 1.0;
    if (!(width_d >= 1.0) || width_d > N)
        return error_set(err, err_size, TRIDENT_EINVAL,
                         "pitch transition width %.0f must be in [1, %d] (max_transition_rate, resolution)",
                         width_d, N);
    int M = (int)width_d;
    int hw = M / 2, n_e = 2 * hw + 1;
    pl->hw = hw;
    pl->n_e = n_e;
    double *w = malloc((size_t)M * sizeof *w);
    double *val = malloc((size_t)n_e * sizeof *val);
    double *row = calloc((size_t)N, sizeof *row);
    sum_idx *sums = malloc((size_t)N * sizeof *sums);
    double *ssum = NULL;
    pl->row_sid = malloc((size_t)N * sizeof *pl->row_sid);
    pl->col_sid = malloc((size_t)N * sizeof *pl->col_sid);
    pl->ltp = malloc((size_t)2 * N * sizeof *pl->ltp);
    int rc = TRIDENT_ENOMEM;
    if (!w || !val || !row || !sums || !pl->row_sid || !pl->col_sid || !pl->ltp)
        goto done;
    triang(M, w);
    /* pad_center to N, then np.roll by N//2 + i + 1: row i holds at column
     * j = i + e the padded window at ((e - N//2 - 1) mod N) - lpad. */
    int lpad = (N - M) / 2;
    for (int e = -hw; e <= hw; e++) {
        long q = (((long)e - N / 2 - 1) % N + N) % N - lpad;
        val[e + hw] = (q >= 0 && q < M) ? w[q] : 0.0;
    }
    /* the monotone search needs log(window) strictly concave on the band
     * (the triangle's is): mono_mu bounds its -F'' steps from below, less
     * 1e-12 for the rounding of log here and in the tables */
    pl->mono_mu = val[0] > 0.0 && val[2 * hw] > 0.0 ? INFINITY : -1.0;
    for (int e = 1; e < 2 * hw; e++) {
        double d = val[e] > 0.0 ? 2.0 * log(val[e]) - log(val[e - 1]) - log(val[e + 1]) : -1.0;
        if (d < pl->mono_mu) pl->mono_mu = d;
    }
    pl->mono_mu -= 1e-12;
    for (int k = 0; k < N; k++) {
        int lo = k - hw < 0 ? 0 : k - hw, hi = k + hw > N - 1 ? N - 1 : k + hw;
        for (int j = lo; j <= hi; j++) row[j] = val[j - k + hw];
        sums[k].s = 0.0 + np_pairwise_sum(row, (size_t)N);
        sums[k].k = k;
        for (int j = lo; j <= hi; j++) row[j] = 0.0;
    }
    qsort(sums, (size_t)N, sizeof *sums, cmp_sum_idx);
    ssum = malloc((size_t)N * sizeof *ssum);
    if (!ssum) goto done;
    int n_sid = 0;
    for (int i = 0; i < N; i++) {
        if (i == 0 || sums[i].s != sums[i - 1].s) ssum[n_sid++] = sums[i].s;
        pl->row_sid[sums[i].k] = n_sid - 1;
    }
    pl->n_sid = n_sid;
    for (int j = 0; j < N; j++) {
        int lo = j - hw < 0 ? 0 : j - hw, hi = j + hw > N - 1 ? N - 1 : j + hw;
        int m = pl->row_sid[lo];
        for (int k = lo + 1; k <= hi; k++)
            if (pl->row_sid[k] < m) m = pl->row_sid[k];
        pl->col_sid[j] = m;
    }
    pl->logt = malloc((size_t)n_sid * 2 * (size_t)n_e * sizeof *pl->logt);
    pl->logb = malloc((size_t)n_sid * 2 * (size_t)(hw + 1) * sizeof *pl->logb);
    if (!pl->logt || !pl->logb) goto done;
    pl->logt_max = -INFINITY;
    double p_same = 1.0 - p->switch_prob;
    double ts[2] = {p_same, (1.0 - p_same) / 1.0};
    /* the monotone search also needs every table entry to be log(switch) +
     * log(w) - log(s) to a few ulp: no product near DBL_MIN */
    double wmin = INFINITY;
    for (int e = 0; e < n_e; e++) wmin = val[e] < wmin ? val[e] : wmin;
    if (!((ts[0] < ts[1] ? ts[0] : ts[1]) * wmin / ssum[n_sid - 1] >= 0x1p-960)) pl->mono_mu = -1.0;
    for (int s = 0; s < n_sid; s++) {
        for (int h = 0; h < 2; h++) {
            double *lt = pl->logt + ((size_t)s * 2 + h) * n_e;
            for (int e = 0; e < n_e; e++) {
                int mirror = n_e - 1 - e;
                if (mirror < e && val[mirror] == val[e])
                    lt[e] = lt[mirror];
                else
                    lt[e] = log(ts[h] * (val[e] / ssum[s]) + DBL_MIN);
                if (lt[e] > pl->logt_max) pl->logt_max = lt[e];
            }
            double *lb = pl->logb + ((size_t)s * 2 + h) * (hw + 1);
            double m = -INFINITY;
            for (int d = hw; d >= 0; d--) {
                if (lt[hw + d] > m) m = lt[hw + d];
                if (lt[hw - d] > m) m = lt[hw - d];
                lb[d] = m + 1e-9 * (1.0 + fabs(m));
            }
        }
    }
    for (int h = 0; h < 2; h++) {
        pl->diag_min[h] = INFINITY;
        for (int k = 0; k < N; k++) {
            pl->ltp[(size_t)h * N + k] = pl->logt + ((size_t)pl->row_sid[k] * 2 + h) * n_e + hw;
            if (pl->ltp[(size_t)h * N + k][0] < pl->diag_min[h]) pl->diag_min[h] = pl->ltp[(size_t)h * N + k][0];
        }
    }
    pl->iota = malloc((size_t)N * sizeof *pl->iota);
    size_t lqw = (size_t)n_e + 2 * LQ_PAD;
    pl->lq = malloc((size_t)n_sid * lqw * sizeof *pl->lq);
    pl->lqp = malloc((size_t)N * sizeof *pl->lqp);
    if (!pl->iota || !pl->lq || !pl->lqp) goto done;
    for (int j = 0; j < N; j++) pl->iota[j] = j;
    for (int sd = 0; sd < n_sid; sd++)
        for (size_t i = 0; i < lqw; i++) {
            long e = (long)i - LQ_PAD - hw;
            pl->lq[(size_t)sd * lqw + i] =
                e >= -hw && e <= hw ? pl->logt[(size_t)sd * 2 * n_e + (size_t)(e + hw)] : -INFINITY;
        }
    for (int k = 0; k < N; k++) pl->lqp[k] = pl->lq + (size_t)pl->row_sid[k] * lqw + LQ_PAD + hw;
    int RW = (2 * hw + 4 + 3) & ~3;
    pl->wrow_stride = RW;
    pl->wrow = malloc((size_t)2 * N * RW * sizeof *pl->wrow);
    if (!pl->wrow) goto done;
    for (int h = 0; h < 2; h++)
        for (int j = 0; j < N; j++)
            for (int i = 0; i < RW; i++) {
                int k = j - hw + i;
                pl->wrow[((size_t)h * N + j) * RW + i] =
                    i <= 2 * hw && k >= 0 && k < N ? pl->ltp[(size_t)h * N + k][j - k] : -INFINITY;
            }
    rc = 0;
done:
    free(w);
    free(val);
    free(row);
    free(sums);
    free(ssum);
    if (rc == TRIDENT_ENOMEM) error_set(err, err_size, rc, "out of memory building pYIN transitions");
    return rc;
}

static int plan_init(pyin_plan *pl, size_t n, const bio_params *p, int generic_acf, char *err,
                     size_t err_size) {
    memset(pl, 0, sizeof *pl);
    if (!(p->sample_rate > 0) || !(p->fmin > 0) || !(p->fmax > p->fmin) || !(p->fmax <= p->sample_rate / 2))
        return error_set(err, err_size, TRIDENT_EINVAL,
                         "pYIN needs 0 < fmin < fmax <= sample_rate/2 (fmin %g, fmax %g, rate %g)", p->fmin,
                         p->fmax, p->sample_rate);
    if (p->frame_length < 4 || p->frame_length > (1 << 20) || p->hop_length <= 0 || p->hop_length > (1 << 20))
        return error_set(err, err_size, TRIDENT_EINVAL, "bad pYIN framing (frame %d, hop %d)", p->frame_length,
                         p->hop_length);
    if (p->n_thresholds < 1 || p->n_thresholds > 100000 || !(p->beta_a > 0) || !(p->beta_b > 0) ||
        !(p->boltzmann_parameter > 0) || !(p->resolution > 0 && p->resolution < 1) ||
        !(p->max_transition_rate > 0) || !(p->switch_prob > 0 && p->switch_prob < 1) ||
        !(p->no_trough_prob >= 0 && p->no_trough_prob <= 1))
        return error_set(err, err_size, TRIDENT_EINVAL, "pYIN parameter out of range");
    pl->n = n;
    pl->sr = p->sample_rate;
    pl->fmin = p->fmin;
    pl->frame = p->frame_length;
    pl->hop = p->hop_length;
    pl->pad = p->frame_length / 2;
    pl->n_frames = bio_frame_count(n, p);
    if (pl->n_frames == 0)
        return error_set(err, err_size, TRIDENT_EINVAL, "input of %zu samples is shorter than one frame", n);
    pl->min_period = (int)floor(p->sample_rate / p->fmax);
    double maxp = ceil(p->sample_rate / p->fmin);
    pl->max_period = maxp < p->frame_length - 1 ? (int)maxp : p->frame_length - 1;
    pl->n_tau = pl->max_period - pl->min_period + 1;
    if (pl->min_period < 1 || pl->n_tau < 3 || p->sample_rate / p->fmin >= p->frame_length - 1)
        return error_set(err, err_size, TRIDENT_EINVAL,
                         "fmin %g Hz is too low for frame_length %d at %g Hz (or fmax too close)", p->fmin,
                         p->frame_length, p->sample_rate);
    pl->cap = (pl->n_tau + 1) / 2;
    double bpo = 12.0 * ceil(1.0 / p->resolution);
    double nb = floor(bpo * log2(p->fmax / p->fmin)) + 1.0;
    if (nb < 2 || nb > 16000)
        return error_set(err, err_size, TRIDENT_EINVAL, "%.0f pitch bins is out of range (resolution)", nb);
    pl->N = (int)nb;
    pl->bins_per_octave = bpo;
    pl->log_eps = log(DBL_MIN);
    pl->log_init_u = log(1.0 / pl->N + DBL_MIN);
    pl->no_trough_prob = p->no_trough_prob;

    int nt = p->n_thresholds;
    pl->n_thr = nt;
    pl->thr = malloc((size_t)(nt + 1) * sizeof *pl->thr);
    pl->beta_probs = malloc((size_t)nt * sizeof *pl->beta_probs);
    pl->beta_head = malloc((size_t)(nt + 1) * sizeof *pl->beta_head);
    pl->bexp = malloc((size_t)pl->cap * sizeof *pl->bexp);
    pl->bfact = malloc((size_t)(pl->cap + 1) * sizeof *pl->bfact);
    if (!pl->thr || !pl->beta_probs || !pl->beta_head || !pl->bexp || !pl->bfact) goto nomem;
    /* np.linspace(0, 1, nt + 1): i * step, the last exactly 1. */
    double step = 1.0 / nt;
    for (int i = 0; i <= nt; i++) pl->thr[i] = i * step;
    pl->thr[nt] = 1.0;
    double prev = bio_betainc(p->beta_a, p->beta_b, pl->thr[0]);
    for (int i = 0; i < nt; i++) {
        double c = bio_betainc(p->beta_a, p->beta_b, pl->thr[i + 1]);
        pl->beta_probs[i] = c - prev;
        prev = c;
    }
    for (int k = 0; k <= nt; k++) pl->beta_head[k] = 0.0 + np_pairwise_sum(pl->beta_probs, (size_t)k);
    double lam = p->boltzmann_parameter;
    for (int k = 0; k < pl->cap; k++) pl->bexp[k] = exp(-lam * k);
    pl->bfact[0] = 0.0;
    for (int k = 1; k <= pl->cap; k++) pl->bfact[k] = (1.0 - exp(-lam)) / (1.0 - exp(-lam * k));

    int rc = plan_transitions(pl, p, err, err_size);
    if (rc) {
        plan_free(pl);
        return rc;
    }

    pl->nbk = pl->frame / pl->hop;
    pl->block_path = !generic_acf && pl->frame % pl->hop == 0 && pl->nbk >= 2 && pl->nbk <= 64 && is_pow2(pl->hop) &&
                     pl->hop >= 8 && pl->max_period <= pl->hop;
    size_t L = pl->block_path ? (size_t)(2 * pl->hop) : next_pow2((size_t)pl->frame + (size_t)pl->max_period);
    if (bio_fft_init(&pl->fft, L)) goto nomem;
    return 0;
nomem:
    plan_free(pl);
    return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory planning pYIN");
}

/* The plan for librosa's default parameters (the only ones TRIDENT uses) is
 * built once per process, on first use, and then only read: its transition
 * tables, threshold priors and FFT twiddles are shared by every call and
 * thread. It is never freed (it lives as long as the process). */
static pthread_once_t default_plan_once = PTHREAD_ONCE_INIT;
static pyin_plan default_plan;
static int default_plan_ok;

static void default_plan_build(void) {
    bio_params d = bio_params_default();
    char err[TRIDENT_ERR_SIZE];
    default_plan_ok = plan_init(&default_plan, 0, &d, 0, err, sizeof err) == 0;
}

/* The shared plan when p's pYIN parameters are the defaults (NULL otherwise,
 * or when it could not be built). */
static const pyin_plan *default_plan_for(const bio_params *p) {
    bio_params d = bio_params_default();
    if (p->sample_rate != d.sample_rate || p->fmin != d.fmin || p->fmax != d.fmax ||
        p->frame_length != d.frame_length || p->hop_length != d.hop_length || p->n_thresholds != d.n_thresholds ||
        p->beta_a != d.beta_a || p->beta_b != d.beta_b || p->boltzmann_parameter != d.boltzmann_parameter ||
        p->resolution != d.resolution || p->max_transition_rate != d.max_transition_rate ||
        p->switch_prob != d.switch_prob || p->no_trough_prob != d.no_trough_prob)
        return NULL;
    if (pthread_once(&default_plan_once, default_plan_build) != 0) return NULL;
    return default_plan_ok ? &default_plan : NULL;
}

/* ---- per-frame front end: autocorrelation -> candidates ----------------- */

typedef struct frame_out {
    int *ncand;     /* [n_frames] candidates per frame */
    int *cbin;      /* [n_frames * cap] pitch bins, ascending */
    double *clog;   /* [n_frames * cap] log(probability + eps) */
    double *ulog;   /* [n_frames] log((1 - voiced_prob)/N + eps) */
    double *vprob;  /* [n_frames] */
    float *rms;     /* [n_frames] */
    _Atomic int bad_sample; /* a non-finite sample was read (and zeroed: see padded_copy) */
} frame_out;

/* One thread's front-end buffers. The arrays the vector loops stream
 * through start on cache lines (mem_alloc_aligned), and hp keeps the
 * imaginary halves on 32-byte boundaries. */
typedef struct frame_work {
    size_t hp;       /* spectrum stride: L/2 + 1 rounded up to 4; real parts, then imaginary parts */
    double *ring_x;  /* (nbk + 2) block spectra, 2 hp doubles each */
    double *ring_d;  /* (nbk + 2) block "D" spectra */
    double *ring_e;  /* (nbk + 2) block energies */
    double *spec;    /* 2 hp */
    double *buf;     /* L */
    double *acf;     /* max_period + 1 */
    double *fwork;   /* 2 L */
    double *frame;   /* max_period first samples of the frame */
    double *dk;      /* max_period + 1 */
    double *run;     /* max_period + 1: running sums of dk */
    double *yin;     /* n_tau */
    int *trough;     /* cap */
    int *first;      /* cap: first threshold index a trough is below */
    double *prob;    /* cap */
    int *cb;         /* cap */
    double *cp;      /* cap */
    int *order;      /* cap: threshold breakpoints */
    uint64_t *marks; /* (n_thr + 2 + 63) / 64 words, all zero between frames: breakpoints as bits */
    int nw;          /* words of a trough bit set: (cap + 63) / 64 */
    uint64_t *tbits; /* [n_thr + 2][nw], all zero between frames: the troughs whose first threshold is i */
    uint64_t *on;    /* [nw] */
    int *tcount;     /* [n_thr + 2], all zero between frames: how many troughs have first threshold i */
    long run_x0;     /* block path: the first block of the blocks computed in a row so far */
    long next_x;     /* ... the next block spectrum to compute */
    long next_d;     /* ... the next block-pair spectrum to compute */
} frame_work;

static void work_free(frame_work *w) {
    free(w->ring_x);
    free(w->ring_d);
    free(w->ring_e);
    free(w->spec);
    free(w->buf);
    free(w->acf);
    free(w->fwork);
    free(w->frame);
    free(w->dk);
    free(w->run);
    free(w->yin);
    free(w->trough);
    free(w->first);
    free(w->prob);
    free(w->cb);
    free(w->cp);
    free(w->order);
    free(w->marks);
    free(w->tbits);
    free(w->on);
    free(w->tcount);
    memset(w, 0, sizeof *w);
}

static int work_init(frame_work *w, const pyin_plan *pl) {
    memset(w, 0, sizeof *w);
    w->run_x0 = w->next_x = w->next_d = -1; /* no blocks yet */
    size_t L = pl->fft.n, R = (size_t)pl->nbk + 2;
    w->hp = (L / 2 + 1 + 3) & ~(size_t)3;
    size_t S = 2 * w->hp;
    if (pl->block_path) {
        w->ring_x = mem_alloc_aligned(R * S * sizeof(double));
        w->ring_d = mem_alloc_aligned(R * S * sizeof(double));
        w->ring_e = malloc(R * sizeof(double));
    }
    w->spec = mem_alloc_aligned(S * sizeof(double));
    w->buf = mem_alloc_aligned(L * sizeof(double));
    w->acf = mem_alloc_aligned(((size_t)pl->max_period + 1) * sizeof(double));
    w->fwork = mem_alloc_aligned(2 * L * sizeof(double));
    w->frame = mem_alloc_aligned((size_t)pl->max_period * sizeof(double));
    w->dk = mem_alloc_aligned(((size_t)pl->max_period + 1) * sizeof(double));
    w->run = mem_alloc_aligned(((size_t)pl->max_period + 1) * sizeof(double));
    w->yin = mem_alloc_aligned((size_t)pl->n_tau * sizeof(double));
    w->trough = malloc(((size_t)pl->cap + 4) * sizeof(int)); /* + 4: the vector scan stores 4 at a time */
    w->first = malloc((size_t)pl->cap * sizeof(int));
    w->prob = malloc((size_t)pl->cap * sizeof(double));
    w->cb = malloc((size_t)pl->cap * sizeof(int));
    w->cp = malloc((size_t)pl->cap * sizeof(double));
    w->order = malloc((size_t)pl->cap * sizeof(int));
    w->marks = calloc(((size_t)pl->n_thr + 2 + 63) / 64, sizeof(uint64_t));
    w->nw = (pl->cap + 63) / 64;
    w->tbits = calloc(((size_t)pl->n_thr + 2) * (size_t)w->nw, sizeof(uint64_t));
    w->on = malloc((size_t)w->nw * sizeof(uint64_t));
    w->tcount = calloc((size_t)pl->n_thr + 2, sizeof(int));
    if ((pl->block_path && (!w->ring_x || !w->ring_d || !w->ring_e)) || !w->spec || !w->buf || !w->acf ||
        !w->fwork || !w->frame || !w->dk || !w->run || !w->yin || !w->trough || !w->first || !w->prob ||
        !w->cb || !w->cp || !w->order || !w->marks || !w->tbits || !w->on || !w->tcount) {
        work_free(w);
        return TRIDENT_ENOMEM;
    }
    return 0;
}

/* Sample q of the zero-padded signal. */
static inline double padded(const pyin_plan *pl, const float *pcm, long q) {
    long i = q - pl->pad;
    return (i >= 0 && (size_t)i < pl->n) ? (double)pcm[i] : 0.0;
}

#if BIO_X86
/* The interior case of padded_copy: lane l of the vector sum is e[l]. */
BIO_AVX2 static double copy_energy_avx2(const float *src, int len, double *dst) {
    __m256d acc = _mm256_setzero_pd();
    int i = 0;
    for (; i + 4 <= len; i += 4) {
        __m256d v = _mm256_cvtps_pd(_mm_loadu_ps(src + i));
        _mm256_storeu_pd(dst + i, v);
        acc = _mm256_add_pd(acc, _mm256_mul_pd(v, v));
    }
    double e[4];
    _mm256_storeu_pd(e, acc);
    for (; i < len; i++) {
        double v = (double)src[i];
        dst[i] = v;
        e[i & 3] += v * v;
    }
    return (e[0] + e[1]) + (e[2] + e[3]);
}
#endif

/* Copies samples [q0, q0 + len) of the zero-padded signal to dst as doubles
 * and returns their energy (four interleaved partial sums e[i mod 4], so the
 * additions do not form one long dependency chain). */
static double padded_copy_raw(const pyin_plan *pl, const float *pcm, long q0, int len, double *dst) {
    double e[4] = {0.0, 0.0, 0.0, 0.0};
    long i0 = q0 - pl->pad;
    if (i0 >= 0 && (size_t)i0 + (size_t)len <= pl->n) {
        const float *src = pcm + i0;
#if BIO_X86
        if (pl->fft.avx2) return copy_energy_avx2(src, len, dst);
#endif
        for (int i = 0; i < len; i++) {
            double v = (double)src[i];
            dst[i] = v;
            e[i & 3] += v * v;
        }
    } else {
        for (int i = 0; i < len; i++) {
            double v = padded(pl, pcm, q0 + i);
            dst[i] = v;
            e[i & 3] += v * v;
        }
    }
    return (e[0] + e[1]) + (e[2] + e[3]);
}

/* padded_copy_raw, checked: the energy of finite samples is finite (a
 * float squared cannot overflow a double, nor can a frame's sum of them),
 * so a non-finite energy means a non-finite sample. Its copy is zeroed,
 * so that nothing downstream sees one, and fo->bad_sample is set: the
 * caller rejects the input once the threads are done. Every sample is
 * read through here, so this is the whole input check, at no extra pass
 * over the samples. */
static double padded_copy(const pyin_plan *pl, const float *pcm, long q0, int len, double *dst, frame_out *fo) {
    double e = padded_copy_raw(pl, pcm, q0, len, dst);
    if (isfinite(e)) return e;
    memset(dst, 0, (size_t)len * sizeof *dst);
    atomic_store_explicit(&fo->bad_sample, 1, memory_order_relaxed);
    return 0.0;
}

/* Spectrum (split, stride w->hp) and energy of block b (hop samples of the
 * padded signal from b*hop, zero-padded to L = 2 hop: the transform is told
 * that the second half is zero and does not read it). */
static void block_spectrum(const pyin_plan *pl, const float *pcm, long b, frame_work *w, double *X,
                           double *energy, frame_out *fo) {
    *energy = padded_copy(pl, pcm, b * pl->hop, pl->hop, w->buf, fo);
    /* the next block's samples arrive while this one is transformed: a
     * block is read once, and one hop is too short a stream for the
     * hardware prefetcher to pick up in time */
    long nx = (b + 1) * pl->hop - pl->pad;
    for (long i = nx < 0 ? 0 : nx; i < nx + pl->hop && (size_t)i < pl->n; i += 16) __builtin_prefetch(pcm + i);
    bio_fft_forward(&pl->fft, w->buf, 1, X, X + w->hp, w->fwork);
}

/* The "D" spectrum of a block pair: |X|^2 + (X conj-times Y shifted by hop =
 * L/2 samples, i.e. the sign (-1)^f) for bins f in [0, nb). */
static void pair_spectrum_c(const double *X, const double *Y, double *D, size_t hp, size_t nb) {
    const double *Xr = X, *Xi = X + hp, *Yr = Y, *Yi = Y + hp;
    double *Dr = D, *Di = D + hp;
    for (size_t f = 0; f < nb; f++) {
        double xr = Xr[f], xi = Xi[f], yr = Yr[f], yi = Yi[f];
        double s = (f & 1) ? -1.0 : 1.0;
        Dr[f] = xr * xr + xi * xi + s * (xr * yr + xi * yi);
        Di[f] = s * (xr * yi - xi * yr);
    }
}

/* spec = |P|^2 + D_0 + ... + D_{nd-1} (in this order), bins [0, nb). */
static void frame_spectrum_c(const double *P, const double *const *D, int nd, double *spec, size_t hp, size_t nb) {
    for (size_t f = 0; f < nb; f++) {
        double sr = P[f] * P[f] + P[hp + f] * P[hp + f], si = 0.0;
        for (int b = 0; b < nd; b++) {
            sr += D[b][f];
            si += D[b][hp + f];
        }
        spec[f] = sr;
        spec[hp + f] = si;
    }
}

#if BIO_X86
BIO_AVX2 static void pair_spectrum_avx2(const double *X, const double *Y, double *D, size_t hp, size_t nb) {
    const double *Xr = X, *Xi = X + hp, *Yr = Y, *Yi = Y + hp;
    double *Dr = D, *Di = D + hp;
    const __m256d sg = _mm256_setr_pd(1.0, -1.0, 1.0, -1.0);
    size_t f = 0;
    for (; f + 4 <= nb; f += 4) {
        __m256d xr = _mm256_loadu_pd(Xr + f), xi = _mm256_loadu_pd(Xi + f);
        __m256d yr = _mm256_loadu_pd(Yr + f), yi = _mm256_loadu_pd(Yi + f);
        __m256d p = _mm256_add_pd(_mm256_mul_pd(xr, xr), _mm256_mul_pd(xi, xi));
        __m256d c = _mm256_add_pd(_mm256_mul_pd(xr, yr), _mm256_mul_pd(xi, yi));
        __m256d q = _mm256_sub_pd(_mm256_mul_pd(xr, yi), _mm256_mul_pd(xi, yr));
        _mm256_storeu_pd(Dr + f, _mm256_add_pd(p, _mm256_mul_pd(sg, c)));
        _mm256_storeu_pd(Di + f, _mm256_mul_pd(sg, q));
    }
    pair_spectrum_c(X + f, Y + f, D + f, hp, nb - f); /* f is even: the sign pattern continues */
}

BIO_AVX2 static void frame_spectrum_avx2(const double *P, const double *const *D, int nd, double *spec, size_t hp,
                                         size_t nb) {
    size_t f = 0;
    for (; f + 4 <= nb; f += 4) {
        __m256d pr = _mm256_loadu_pd(P + f), pi = _mm256_loadu_pd(P + hp + f);
        __m256d sr = _mm256_add_pd(_mm256_mul_pd(pr, pr), _mm256_mul_pd(pi, pi)), si = _mm256_setzero_pd();
        for (int b = 0; b < nd; b++) {
            sr = _mm256_add_pd(sr, _mm256_loadu_pd(D[b] + f));
            si = _mm256_add_pd(si, _mm256_loadu_pd(D[b] + hp + f));
        }
        _mm256_storeu_pd(spec + f, sr);
        _mm256_storeu_pd(spec + hp + f, si);
    }
    for (; f < nb; f++) {
        double sr = P[f] * P[f] + P[hp + f] * P[hp + f], si = 0.0;
        for (int b = 0; b < nd; b++) {
            sr += D[b][f];
            si += D[b][hp + f];
        }
        spec[f] = sr;
        spec[hp + f] = si;
    }
}

/* pair_spectrum_avx2 of (X, P) into D2 and frame_spectrum_avx2 of P with
 * (D0, D1, D2) in one pass: the frame's newest pair is used where it is
 * made. The same operations in the same order as the two calls. */
BIO_AVX2 static void pair_frame_spectrum_avx2(const double *X, const double *P, double *D2, const double *D0,
                                              const double *D1, double *spec, size_t hp, size_t nb) {
    const __m256d sg = _mm256_setr_pd(1.0, -1.0, 1.0, -1.0);
    size_t f = 0;
    for (; f + 4 <= nb; f += 4) {
        __m256d xr = _mm256_loadu_pd(X + f), xi = _mm256_loadu_pd(X + hp + f);
        __m256d yr = _mm256_loadu_pd(P + f), yi = _mm256_loadu_pd(P + hp + f);
        __m256d p = _mm256_add_pd(_mm256_mul_pd(xr, xr), _mm256_mul_pd(xi, xi));
        __m256d c = _mm256_add_pd(_mm256_mul_pd(xr, yr), _mm256_mul_pd(xi, yi));
        __m256d q = _mm256_sub_pd(_mm256_mul_pd(xr, yi), _mm256_mul_pd(xi, yr));
        __m256d dr = _mm256_add_pd(p, _mm256_mul_pd(sg, c)), di = _mm256_mul_pd(sg, q);
        _mm256_storeu_pd(D2 + f, dr);
        _mm256_storeu_pd(D2 + hp + f, di);
        __m256d sr = _mm256_add_pd(_mm256_mul_pd(yr, yr), _mm256_mul_pd(yi, yi)), si = _mm256_setzero_pd();
        sr = _mm256_add_pd(sr, _mm256_loadu_pd(D0 + f));
        si = _mm256_add_pd(si, _mm256_loadu_pd(D0 + hp + f));
        sr = _mm256_add_pd(sr, _mm256_loadu_pd(D1 + f));
        si = _mm256_add_pd(si, _mm256_loadu_pd(D1 + hp + f));
        _mm256_storeu_pd(spec + f, _mm256_add_pd(sr, dr));
        _mm256_storeu_pd(spec + hp + f, _mm256_add_pd(si, di));
    }
    pair_spectrum_c(X + f, P + f, D2 + f, hp, nb - f); /* f is even: the sign pattern continues */
    const double *dl[3] = {D0 + f, D1 + f, D2 + f};
    frame_spectrum_c(P + f, dl, 3, spec + f, hp, nb - f);
}
#endif

/* Interior troughs i in [1, n - 1) of yin (yin[i] < yin[i - 1] and
 * yin[i] <= yin[i + 1]), ascending, appended to trough[M..]; returns the new M. */
static int troughs_c(const double *yin, int n, int *trough, int M) {
    for (int i = 1; i < n - 1; i++)
        if (yin[i] < yin[i - 1] && yin[i] <= yin[i + 1]) trough[M++] = i;
    return M;
}

#if BIO_X86
/* troughs_c four lags at a time: the comparison mask indexes a table of the
 * set lanes, which are stored as one 4-int vector (trough[] has 4 spare
 * entries) while M advances by their count. */
BIO_AVX2 static int troughs_avx2(const double *yin, int n, int *trough, int M) {
    static const int32_t lanes[16][4] = {{0, 0, 0, 0}, {0, 0, 0, 0}, {1, 0, 0, 0}, {0, 1, 0, 0},
                                         {2, 0, 0, 0}, {0, 2, 0, 0}, {1, 2, 0, 0}, {0, 1, 2, 0},
                                         {3, 0, 0, 0}, {0, 3, 0, 0}, {1, 3, 0, 0}, {0, 1, 3, 0},
                                         {2, 3, 0, 0}, {0, 2, 3, 0}, {1, 2, 3, 0}, {0, 1, 2, 3}};
    int i = 1;
    for (; i + 4 <= n - 1; i += 4) {
        __m256d y = _mm256_loadu_pd(yin + i);
        __m256d lt = _mm256_cmp_pd(y, _mm256_loadu_pd(yin + i - 1), _CMP_LT_OQ);
        __m256d le = _mm256_cmp_pd(y, _mm256_loadu_pd(yin + i + 1), _CMP_LE_OQ);
        int mask = _mm256_movemask_pd(_mm256_and_pd(lt, le));
        __m128i idx = _mm_add_epi32(_mm_set1_epi32(i), _mm_loadu_si128((const __m128i *)(const void *)lanes[mask]));
        _mm_storeu_si128((__m128i *)(void *)(trough + M), idx);
        M += __builtin_popcount((unsigned)mask);
    }
    for (; i < n - 1; i++)
        if (yin[i] < yin[i - 1] && yin[i] <= yin[i + 1]) trough[M++] = i;
    return M;
}
#endif

/* The first threshold index i in [1, nt] with h < thr[i], nt + 1 when there
 * is none: a guess from thr[i] = i / nt, corrected by comparisons with the
 * thresholds themselves (which are increasing), so the result is exact. */
static inline int thr_first(const pyin_plan *pl, double h) {
    int nt = pl->n_thr;
    const double *thr = pl->thr;
    if (!(h < thr[nt])) return nt + 1;
    double g = h * nt;
    int i = g < 1.0 ? 1 : g >= nt ? nt : (int)g + 1;
    while (i > 1 && h < thr[i - 1]) i--;
    while (!(h < thr[i])) i++;
    return i;
}

/* Probabilities of the troughs of one CMND frame, then its pitch candidates. */
static void frame_candidates(const pyin_plan *pl, frame_work *w, size_t t, frame_out *fo) {
    const double *yin = w->yin;
    int n_tau = pl->n_tau, nt = pl->n_thr;
    int M = 0;
    /* util.localmin, with is_trough[0] = yin[0] < yin[1] */
    if (yin[0] < yin[1]) w->trough[M++] = 0;
#if BIO_X86
    if (pl->fft.avx2)
        M = troughs_avx2(yin, n_tau, w->trough, M);
    else
#endif
        M = troughs_c(yin, n_tau, w->trough, M);
    if (yin[n_tau - 1] < yin[n_tau - 2]) w->trough[M++] = n_tau - 1;
    int *cb = fo->cbin + t * (size_t)pl->cap;
    double *cl = fo->clog + t * (size_t)pl->cap;
    if (M == 0) {
        fo->ncand[t] = 0;
        fo->vprob[t] = 0.0;
        fo->ulog[t] = log((1.0 - 0.0) / pl->N + DBL_MIN);
        return;
    }
    /* first[m]: the first threshold index i in 1..nt with height < thr[i]
     * (nt + 1 when none): thresholds are increasing, so trough m is below
     * exactly the thresholds i >= first[m]. */
    int gmin = 0;
    int wlo = (nt + 1) / 64, whi = 0; /* words of marks in use */
    for (int m = 0; m < M; m++) {
        double h = yin[w->trough[m]];
        int f = thr_first(pl, h);
        w->first[m] = f;
        w->prob[m] = 0.0;
        gmin = h < yin[w->trough[gmin]] ? m : gmin;
        if (f <= nt) {
            w->marks[f / 64] |= (uint64_t)1 << (f % 64);
            w->tbits[(size_t)f * w->nw + (size_t)m / 64] |= (uint64_t)1 << (m % 64);
            w->tcount[f]++;
            wlo = f / 64 < wlo ? f / 64 : wlo;
            whi = f / 64 > whi ? f / 64 : whi;
        }
    }
    /* Between consecutive distinct first[] values (the breakpoints, read off
     * the bit marks in ascending order) the set of troughs below the
     * threshold is fixed, so each trough's prior is constant there: sum the
     * beta probabilities of the interval once. */
    int nu = 0;
    for (int wd = wlo; wd <= whi; wd++) {
        uint64_t bits = w->marks[wd];
        w->marks[wd] = 0;
        while (bits) {
            w->order[nu++] = wd * 64 + __builtin_ctzll(bits);
            bits &= bits - 1;
        }
    }
    /* The troughs below threshold i0 (first[m] <= i0) are the union of
     * tbits over the breakpoints so far; in trough order they get bexp[0],
     * bexp[1], ... (librosa adds an exact 0 to the others: skipped). */
    int nw = w->nw, count = 0;
    for (int q = 0; q < nw; q++) w->on[q] = 0;
    for (int s = 0; s < nu; s++) {
        int i0 = w->order[s], i1 = s + 1 < nu ? w->order[s + 1] : nt + 1;
        uint64_t *tb = w->tbits + (size_t)i0 * nw;
        for (int q = 0; q < nw; q++) {
            w->on[q] |= tb[q];
            tb[q] = 0;
        }
        count += w->tcount[i0];
        w->tcount[i0] = 0;
        double bs = 0.0;
        for (int i = i0; i < i1; i++) bs += pl->beta_probs[i - 1];
        if (bs == 0.0) continue;
        double f = pl->bfact[count];
        int pos = 0;
        for (int q = 0; q < nw; q++)
            for (uint64_t bits = w->on[q]; bits; bits &= bits - 1)
                w->prob[q * 64 + __builtin_ctzll(bits)] += f * pl->bexp[pos++] * bs;
    }
    w->prob[gmin] += pl->no_trough_prob * pl->beta_head[w->first[gmin] - 1];

    /* Candidates: pitch bin of each trough with non-zero probability; a later
     * (longer-period) trough overwrites an earlier one in the same bin. Walk
     * the troughs backwards so bins come out ascending. */
    int nc = 0;
    int last_bin = -1;
    for (int m = M - 1; m >= 0; m--) {
        if (w->prob[m] == 0.0) continue;
        int i = w->trough[m];
        double shift = 0.0;
        if (i > 0 && i < n_tau - 1) {
            double a = yin[i + 1] + yin[i - 1] - 2 * yin[i];
            double b = (yin[i + 1] - yin[i - 1]) / 2;
            shift = fabs(b) >= fabs(a) ? 0.0 : -b / a;
        }
        double period = (double)(pl->min_period + i) + shift;
        double f0 = pl->sr / period;
        double bin = nearbyint(pl->bins_per_octave * log2(f0 / pl->fmin));
        if (bin < 0) bin = 0;
        if (bin >= pl->N) continue; /* clipped to N: lands in the unvoiced half, overwritten */
        int ib = (int)bin;
        if (ib == last_bin) continue; /* the later trough already holds this bin */
        last_bin = ib;
        w->cb[nc] = ib;
        w->cp[nc] = w->prob[m];
        nc++;
    }
    /* bins are non-increasing in m; the backwards walk gives them ascending */
    double vp = 0.0;
    for (int c = 0; c < nc; c++) {
        vp += w->cp[c];
        cb[c] = w->cb[c];
        cl[c] = log(w->cp[c] + DBL_MIN);
    }
    if (vp < 0) vp = 0;
    if (vp > 1) vp = 1;
    fo->ncand[t] = nc;
    fo->vprob[t] = vp;
    fo->ulog[t] = log((1.0 - vp) / pl->N + DBL_MIN);
}

/* yin[k - minp] = dk[k] / (run[k] / k + DBL_MIN) for k in [k0, maxp]. */
static void cmnd_divide_c(const double *dk, const double *run, double *yin, int minp, int k0, int maxp) {
    for (int k = k0; k <= maxp; k++) {
        double cm = run[k] / k;
        yin[k - minp] = dk[k] / (cm + DBL_MIN);
    }
}

#if BIO_X86
BIO_AVX2 static void cmnd_divide_avx2(const double *dk, const double *run, double *yin, int minp, int maxp) {
    int k = minp;
    const __m256d tiny = _mm256_set1_pd(DBL_MIN), four = _mm256_set1_pd(4.0);
    __m256d kv = _mm256_setr_pd(k, k + 1, k + 2, k + 3);
    for (; k + 3 <= maxp; k += 4) {
        __m256d cm = _mm256_div_pd(_mm256_loadu_pd(run + k), kv);
        _mm256_storeu_pd(yin + k - minp, _mm256_div_pd(_mm256_loadu_pd(dk + k), _mm256_add_pd(cm, tiny)));
        kv = _mm256_add_pd(kv, four);
    }
    cmnd_divide_c(dk, run, yin, minp, k, maxp);
}
#endif

/* CMND of one frame from its autocorrelation (w->acf) and first samples (w->frame). */
static void frame_cmnd(const pyin_plan *pl, frame_work *w) {
    int maxp = pl->max_period, minp = pl->min_period;
    const double *r = w->acf;
    double *dk = w->dk, *run = w->run;
    /* d(k) = 2 (r(0) - r(k)) - sum_{m<k} y(m)^2, except that librosa zeroes
     * the running energy's first entry in place before using it, so d(1)
     * has no energy term at all. run[k] = d(1) + ... + d(k), in order. */
    double csum = w->frame[0] * w->frame[0];
    dk[0] = 0.0;
    dk[1] = 2 * (r[0] - r[1]);
    double acc = 0.0 + dk[1];
    run[1] = acc;
    for (int k = 2; k <= maxp; k++) {
        double v = w->frame[k - 1];
        csum += v * v;
        dk[k] = 2 * (r[0] - r[k]) - csum;
        acc += dk[k];
        run[k] = acc;
    }
#if BIO_X86
    if (pl->fft.avx2) {
        cmnd_divide_avx2(dk, run, w->yin, minp, maxp);
        return;
    }
#endif
    cmnd_divide_c(dk, run, w->yin, minp, minp, maxp);
}

/* The front end of frames [t0, t1) into fo. On the block path the ring
 * keeps the thread's last blocks between calls, so a run that continues
 * where the thread's previous one ended computes no block twice. pub (may
 * be NULL) gets the number of frames finished so far, stored with release
 * after each frame. */
static void frames_run(const pyin_plan *pl, const float *pcm, size_t t0, size_t t1, frame_work *w, frame_out *fo,
                       _Atomic long *pub) {
    size_t L = pl->fft.n, hp = w->hp, S = 2 * hp, nb = L / 2 + 1;
    int nbk = pl->nbk;
    long R = nbk + 2;
    /* the ring holds blocks [max(run_x0, next_x - R), next_x) and pairs
     * [max(run_x0, next_d - R), next_d); otherwise start afresh at t0 */
    long lo_x = w->next_x - R > w->run_x0 ? w->next_x - R : w->run_x0;
    long lo_d = w->next_d - R > w->run_x0 ? w->next_d - R : w->run_x0;
    if (!((long)t0 >= lo_x && (long)t0 <= w->next_x && (long)t0 >= lo_d && (long)t0 <= w->next_d))
        w->run_x0 = w->next_x = w->next_d = (long)t0;
    long next_x = w->next_x, next_d = w->next_d;
    const double *dl[64];
    for (size_t t = t0; t < t1; t++) {
        long q0 = (long)t * pl->hop;
        double energy = 0.0;
        if (pl->block_path) {
            long last = (long)t + nbk - 1;
            for (; next_x <= last; next_x++)
                block_spectrum(pl, pcm, next_x, w, w->ring_x + (next_x % R) * S, &w->ring_e[next_x % R], fo);
            /* the usual case: only the newest pair is missing, made with the frame spectrum */
            int fuse = 0;
#if BIO_X86
            fuse = pl->fft.avx2 && nbk == 4 && next_d == last - 1;
#endif
            for (; next_d <= last - 1 - fuse; next_d++) {
                const double *X = w->ring_x + (next_d % R) * S, *Y = w->ring_x + ((next_d + 1) % R) * S;
                double *D = w->ring_d + (next_d % R) * S;
#if BIO_X86
                if (pl->fft.avx2)
                    pair_spectrum_avx2(X, Y, D, hp, nb);
                else
#endif
                    pair_spectrum_c(X, Y, D, hp, nb);
            }
            const double *P = w->ring_x + (last % R) * S;
            int nd = 0;
            for (long b = (long)t; b < last; b++) dl[nd++] = w->ring_d + (b % R) * S;
#if BIO_X86
            if (fuse) {
                pair_frame_spectrum_avx2(w->ring_x + ((last - 1) % R) * S, P, w->ring_d + ((last - 1) % R) * S,
                                         dl[0], dl[1], w->spec, hp, nb);
                next_d++;
            } else if (pl->fft.avx2)
                frame_spectrum_avx2(P, dl, nd, w->spec, hp, nb);
            else
#endif
                frame_spectrum_c(P, dl, nd, w->spec, hp, nb);
            for (long b = (long)t; b <= last; b++) energy += w->ring_e[b % R];
        } else {
            energy = padded_copy(pl, pcm, q0, pl->frame, w->buf, fo);
            memset(w->buf + pl->frame, 0, (L - (size_t)pl->frame) * sizeof(double));
            bio_fft_forward(&pl->fft, w->buf, (size_t)pl->frame <= L / 2, w->spec, w->spec + hp, w->fwork);
            frame_spectrum_c(w->spec, dl, 0, w->spec, hp, nb);
        }
        bio_fft_inverse(&pl->fft, w->spec, w->spec + hp, w->acf, (size_t)pl->max_period + 1, w->fwork);
        padded_copy(pl, pcm, q0, pl->max_period, w->frame, fo);
        frame_cmnd(pl, w);
        frame_candidates(pl, w, t, fo);
        fo->rms[t] = (float)sqrt(energy / pl->frame);
        if (pub) atomic_store_explicit(pub, (long)(t + 1 - t0), memory_order_release);
    }
    w->next_x = next_x;
    w->next_d = next_d;
}

/* A chunk of frames for one thread. */
typedef struct frames_job {
    const pyin_plan *pl;
    const float *pcm;
    size_t t0, t1;
    frame_out *fo;
    int rc;
} frames_job;

static void *frames_thread(void *arg) {
    frames_job *job = arg;
    frame_work w;
    job->rc = work_init(&w, job->pl);
    if (job->rc) return NULL;
    frames_run(job->pl, job->pcm, job->t0, job->t1, &w, job->fo, NULL);
    work_free(&w);
    return NULL;
}

/* Runs the front end over all frames on n_threads threads (the caller is
 * one of them). Frames are independent, so the results do not depend on the
 * split. Returns 0 or TRIDENT_ENOMEM. */
static int frames_run_all(const pyin_plan *pl, const float *pcm, int n_threads, frame_out *fo) {
    size_t T = pl->n_frames;
    if (n_threads > 16) n_threads = 16;
    if ((size_t)n_threads > T / 16) n_threads = (int)(T / 16);
    if (n_threads < 1) n_threads = 1;
    frames_job jobs[16];
    pthread_t tid[16];
    int started[16] = {0};
    for (int i = 0; i < n_threads; i++) {
        jobs[i] = (frames_job){pl, pcm, T * (size_t)i / (size_t)n_threads, T * (size_t)(i + 1) / (size_t)n_threads, fo, 0};
        if (i > 0) started[i] = pthread_create(&tid[i], NULL, frames_thread, &jobs[i]) == 0;
    }
    /* chunks whose thread could not start run here */
    frames_thread(&jobs[0]);
    for (int i = 1; i < n_threads; i++) {
        if (started[i])
            pthread_join(tid[i], NULL);
        else
            frames_thread(&jobs[i]);
    }
    for (int i = 0; i < n_threads; i++)
        if (jobs[i].rc) return jobs[i].rc;
    return 0;
}

/* ---- Viterbi ------------------------------------------------------------ */


/* Log observation of state j at frame t, from the sparse candidate list. */
static void frame_obs(const pyin_plan *pl, const frame_out *fo, size_t t, double *obs) {
    int N = pl->N;
    for (int j = 0; j < N; j++) obs[j] = pl->log_eps;
    const int *cb = fo->cbin + t * (size_t)pl->cap;
    const double *cl = fo->clog + t * (size_t)pl->cap;
    for (int c = 0; c < fo->ncand[t]; c++) obs[cb[c]] = cl[c];
    for (int j = N; j < 2 * N; j++) obs[j] = fo->ulog[t];
}

static inline double logt_at(const pyin_plan *pl, int k, int h, int e) {
    return pl->logt[((size_t)pl->row_sid[k] * 2 + h) * pl->n_e + (size_t)(e + pl->hw)];
}

/* The end of every Viterbi pass: the best final state (the lowest index among
 * equals, as numpy's argmax) and the path back through the backpointers
 * ptr[t][state] (S states per frame, T frames). */
static void viterbi_backtrace(const double *last, int S, const uint16_t *ptr, size_t T, int *state) {
    int bs = 0;
    for (int j = 1; j < S; j++)
        if (last[j] > last[bs]) bs = j;
    state[T - 1] = bs;
    for (size_t t = T - 1; t > 0; t--) state[t - 1] = ptr[t * (size_t)S + state[t]];
}

/* Reference: all 2N predecessors of every state (tests only). */
static void viterbi_dense(const pyin_plan *pl, const frame_out *fo, size_t T, double *prev, double *cur,
                          double *obs, uint16_t *ptr, int *state) {
    int N = pl->N, S = 2 * N;
    frame_obs(pl, fo, 0, obs);
    for (int j = 0; j < S; j++) prev[j] = obs[j] + (j < N ? pl->log_eps : pl->log_init_u);
    for (size_t t = 1; t < T; t++) {
        frame_obs(pl, fo, t, obs);
        for (int j = 0; j < S; j++) {
            double best = -INFINITY;
            int bk = 0;
            for (int k = 0; k < S; k++) {
                int kk = k % N, jj = j % N, h = (k < N) != (j < N);
                int e = jj - kk;
                double lt = (e >= -pl->hw && e <= pl->hw) ? logt_at(pl, kk, h, e) : pl->log_eps;
                double c = prev[k] + lt;
                if (c > best) {
                    best = c;
                    bk = k;
                }
            }
            ptr[t * S + j] = (uint16_t)bk;
            cur[j] = obs[j] + best;
        }
        memcpy(prev, cur, (size_t)S * sizeof *prev);
    }
    viterbi_backtrace(prev, S, ptr, T, state);
}

typedef struct vit_work {
    double *st;    /* [2][levels][N] sparse tables of range maxima */
    double *pmv;   /* [2][N] prefix maxima */
    int *pmi;      /* [2][N] their first index */
    double *smv;   /* [2][N] suffix maxima */
    int *smi;      /* [2][N] their first index */
    int *lg;       /* [N + 1] floor(log2) */
    int levels;
} vit_work;

static inline double rmq(const vit_work *vw, const double *st, int N, int a, int b) {
    int l = vw->lg[b - a + 1];
    const double *row = st + (size_t)l * N;
    double x = row[a], y = row[b - (1 << l) + 1];
    return x > y ? x : y;
}

static void viterbi_banded(const pyin_plan *pl, const frame_out *fo, size_t T, double *prev, double *cur,
                           double *obs, uint16_t *ptr, int *state, vit_work *vw) {
    int N = pl->N, S = 2 * N, hw = pl->hw, L = vw->levels;
    frame_obs(pl, fo, 0, obs);
    for (int j = 0; j < S; j++) prev[j] = obs[j] + (j < N ? pl->log_eps : pl->log_init_u);
    for (size_t t = 1; t < T; t++) {
        frame_obs(pl, fo, t, obs);
        /* range-maximum tables and prefix/suffix maxima of the previous scores */
        for (int h = 0; h < 2; h++) {
            const double *v = prev + (size_t)h * N;
            double *st = vw->st + (size_t)h * L * N;
            memcpy(st, v, (size_t)N * sizeof *st);
            for (int l = 1; l < L; l++) {
                const double *a = st + (size_t)(l - 1) * N;
                double *o = st + (size_t)l * N;
                int half = 1 << (l - 1);
                for (int i = 0; i + (1 << l) <= N; i++) o[i] = a[i] > a[i + half] ? a[i] : a[i + half];
            }
            double *pmv = vw->pmv + (size_t)h * N, *smv = vw->smv + (size_t)h * N;
            int *pmi = vw->pmi + (size_t)h * N, *smi = vw->smi + (size_t)h * N;
            pmv[0] = v[0];
            pmi[0] = 0;
            for (int i = 1; i < N; i++) {
                if (v[i] > pmv[i - 1]) {
                    pmv[i] = v[i];
                    pmi[i] = i;
                } else {
                    pmv[i] = pmv[i - 1];
                    pmi[i] = pmi[i - 1];
                }
            }
            smv[N - 1] = v[N - 1];
            smi[N - 1] = N - 1;
            for (int i = N - 2; i >= 0; i--) {
                if (v[i] >= smv[i + 1]) {
                    smv[i] = v[i];
                    smi[i] = i;
                } else {
                    smv[i] = smv[i + 1];
                    smi[i] = smi[i + 1];
                }
            }
        }
        uint16_t *pt = ptr + t * (size_t)S;
        for (int J = 0; J < S; J++) {
            int hb = J >= N, j = J - hb * N;
            int lo = j - hw < 0 ? 0 : j - hw, hi = j + hw > N - 1 ? N - 1 : j + hw;
            double best = -INFINITY;
            int bk = S;
            /* diagonals of both halves first: usually the best */
            for (int ha = 0; ha < 2; ha++) {
                int K = ha * N + j;
                double c = prev[K] + logt_at(pl, j, ha != hb, 0);
                if (c > best || (c == best && K < bk)) {
                    best = c;
                    bk = K;
                }
            }
            for (int ha = 0; ha < 2; ha++) {
                int h = ha != hb, base = ha * N;
                const double *st = vw->st + (size_t)ha * L * N;
                const double *lb = pl->logb + ((size_t)pl->col_sid[j] * 2 + h) * (hw + 1);
                for (int d = 1; d <= hw; d++) {
                    int kl = j - d, kr = j + d;
                    int has_l = kl >= lo, has_r = kr <= hi;
                    if (!has_l && !has_r) break;
                    double ub = -INFINITY;
                    if (has_l) ub = rmq(vw, st, N, lo, kl);
                    if (has_r) {
                        double u2 = rmq(vw, st, N, kr, hi);
                        if (u2 > ub) ub = u2;
                    }
                    if (ub + lb[d] < best) break;
                    if (has_l) {
                        double c = prev[base + kl] + logt_at(pl, kl, h, d);
                        if (c > best || (c == best && base + kl < bk)) {
                            best = c;
                            bk = base + kl;
                        }
                    }
                    if (has_r) {
                        double c = prev[base + kr] + logt_at(pl, kr, h, -d);
                        if (c > best || (c == best && base + kr < bk)) {
                            best = c;
                            bk = base + kr;
                        }
                    }
                }
                /* outside the band every transition is log(eps) */
                if (lo > 0) {
                    double c = vw->pmv[(size_t)ha * N + lo - 1] + pl->log_eps;
                    int K = base + vw->pmi[(size_t)ha * N + lo - 1];
                    if (c > best || (c == best && K < bk)) {
                        best = c;
                        bk = K;
                    }
                }
                if (hi < N - 1) {
                    double c = vw->smv[(size_t)ha * N + hi + 1] + pl->log_eps;
                    int K = base + vw->smi[(size_t)ha * N + hi + 1];
                    if (c > best || (c == best && K < bk)) {
                        best = c;
                        bk = K;
                    }
                }
            }
            pt[J] = (uint16_t)bk;
            cur[J] = obs[J] + best;
        }
        double *tmp = prev;
        prev = cur;
        cur = tmp;
    }
    viterbi_backtrace(prev, S, ptr, T, state);
}

/* The monotone search. An unvoiced source k reaches target j (|j - k| <=
 * hw) with the score pu[k] + logt_k[j - k], where logt_k is librosa's
 * rounded log(switch * w(j - k) / s_k + eps). In exact arithmetic that is
 * pu[k] + c_k + F(j - k) with F = log w, and F is strictly concave on the
 * band (w is the triangle), so the 2 x 2 "mixed differences" of the score
 * matrix are all at least mono_mu > 0 (the smallest -F'' step; c_k cancels):
 * the matrix is inverse Monge. The rounded scores are within delta of the
 * exact ones, and as long as 8 delta < mono_mu (mono_exact: true unless the
 * scores reach ~1e11, some 5 x 10^7 frames) the best source under numpy's
 * rule (largest rounded score, lowest index) is non-decreasing in j: if j <
 * j' had opt(j) = k' > k = opt(j'), the four rounded comparisons would give
 * a mixed difference of at most 4 delta. So each target's source lies
 * between those of two already solved targets. The unvoiced targets (the
 * same-voicing table) are solved coarse to fine: every GROUP-th one (j0,
 * then j0 + G s, j0 + G s/2, j0 + 3 G s/2, ...), each by an exact scan
 * between its neighbours' sources (a target's row of wrow); then the
 * GROUP - 1 between two of those together, over the sources between
 * theirs, one target per vector lane (a source's row of lq). The two
 * tables differ by a constant (log switch) in exact arithmetic, so the
 * same argument across them (a rounded voiced score is within 2 delta of
 * its unvoiced twin's plus that constant: a mixed difference of at most 8
 * delta) puts the best source of voiced target j between those of
 * unvoiced targets j - 1 and j + 1: each voiced state scored takes one
 * short scan. A few thousand source evaluations a frame for N = 361 in
 * all, instead of 2 x 361 x 141. Every score is
 * computed with librosa's operations, and a scan of a superset of the
 * bounds within the band finds the same source, so the vector scans may
 * read a few sources past their ends. */
typedef struct oob_work { /* one thread's scratch: out-of-band maxima (see out_of_band) */
    double *pmv;  /* [2N] prefix maxima of the previous scores, per half */
    int *pmi;     /* [2N] their first index */
    double *smv;  /* [2N] suffix maxima */
    int *smi;     /* [2N] their first index */
} oob_work;

/* Whether the monotone search is exact for T frames: every score lies in
 * [2 (T + 2) log eps, 0] (a frame adds at worst two log eps), so a rounded
 * score is within 1e-14 (the tables' error) + 2^-52 |score| of the exact
 * one. */
static int mono_exact(const pyin_plan *pl, size_t T) {
    double delta = 1e-14 + 0x1p-52 * -2.0 * pl->log_eps * ((double)T + 2.0);
    return 8.0 * delta < pl->mono_mu;
}

/* One scan: the best source k in [a, b] of a target whose table row is w
 * (indexed by k): its score pu[k] + w[k] into *m and the first k reaching
 * it into *kb. */
static void mono_scan_c(const double *pu, const double *w, int a, int b, double *m, int *kb) {
    double bm = pu[a] + w[a];
    int ib = a;
    for (int k = a + 1; k <= b; k++) {
        double x = pu[k] + w[k];
        if (x > bm) {
            bm = x;
            ib = k;
        }
    }
    *m = bm;
    *kb = ib;
}

#if BIO_X86
BIO_AVX2 static double hmax_avx2(__m256d v) {
    __m128d x = _mm_max_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    x = _mm_max_sd(x, _mm_unpackhi_pd(x, x));
    return _mm_cvtsd_f64(x);
}

BIO_AVX2 static double hmin_avx2(__m256d v) {
    __m128d x = _mm_min_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    x = _mm_min_sd(x, _mm_unpackhi_pd(x, x));
    return _mm_cvtsd_f64(x);
}

/* The lowest index held by a lane whose value equals m (indices as doubles). */
BIO_AVX2 static inline int first_at_avx2(__m256d v, __m256d idx, double m) {
    __m256d c = _mm256_blendv_pd(_mm256_set1_pd(1e9), idx, _mm256_cmp_pd(v, _mm256_set1_pd(m), _CMP_EQ_OQ));
    __m128d x = _mm_min_pd(_mm256_castpd256_pd128(c), _mm256_extractf128_pd(c, 1));
    return _mm_cvttsd_si32(_mm_min_sd(x, _mm_unpackhi_pd(x, x)));
}

/* All four lanes set to the largest lane of v. */
BIO_AVX2 __attribute__((always_inline)) static inline __m256d bcast_max_avx2(__m256d v) {
    v = _mm256_max_pd(v, _mm256_permute2f128_pd(v, v, 1));
    return _mm256_max_pd(v, _mm256_permute_pd(v, 5));
}

/* The same, four sources per step. A range of at most four sources (most
 * of them) takes one step: the maximum broadcast to every lane, and the
 * first lane equal to it. Longer ones keep in each lane its largest score
 * and the first index reaching it, then merge the lanes. Reads up to
 * pu[b + 3] and w[b + 3] (the rows hold -inf past the band, the scores 4
 * spare zeros). */
BIO_AVX2 static inline void mono_scan_avx2(const double *pu, const double *w, int a, int b, double *m, int *kb) {
    __m256d x = _mm256_add_pd(_mm256_loadu_pd(pu + a), _mm256_loadu_pd(w + a));
    if (b - a < 4) {
        __m256d mm = bcast_max_avx2(x);
        *kb = a + __builtin_ctz((unsigned)_mm256_movemask_pd(_mm256_cmp_pd(x, mm, _CMP_EQ_OQ)));
        *m = _mm256_cvtsd_f64(mm);
        return;
    }
    const __m256d four = _mm256_set1_pd(4.0);
    __m256d kk = _mm256_add_pd(_mm256_set1_pd((double)a), _mm256_setr_pd(0, 1, 2, 3));
    __m256d bm = x, ib = kk;
    for (int k = a + 4; k <= b; k += 4) {
        kk = _mm256_add_pd(kk, four);
        x = _mm256_add_pd(_mm256_loadu_pd(pu + k), _mm256_loadu_pd(w + k));
        ib = _mm256_blendv_pd(ib, kk, _mm256_cmp_pd(x, bm, _CMP_GT_OQ));
        bm = _mm256_max_pd(x, bm);
    }
    *m = hmax_avx2(bm);
    *kb = first_at_avx2(bm, ib, *m);
}
#endif

/* What the monotone search of one half of one frame reads and writes,
 * copied into locals so that the compiler keeps them in registers across
 * the stores. */
typedef struct mono_ctx {
    const double *pu;   /* the previous frame's unvoiced scores */
    const double *w;    /* target j's row of the half's table is w + j * step, indexed by source k */
    size_t step;        /* wrow_stride - 1 */
    int *kb;            /* the unvoiced targets' best sources, indexed by target */
    double *best;       /* the half's best scores, indexed by target */
    int *bk;            /* their sources (N + k), indexed by target */
    const double **lqp; /* the plan's lqp (unvoiced half) */
    const double *const *lts; /* the plan's switch rows ltp + N (voiced half) */
    int N, hw;
} mono_ctx;

/* The search of half h (0: unvoiced targets, through the same-voicing
 * table; 1: voiced ones, through the switch table) into best and bk (the
 * half's offset added here), with the unvoiced targets' sources in kb. */
static inline mono_ctx mono_ctx_for(const pyin_plan *pl, const double *pu, int h, int *kb, double *best,
                                    int *bk) {
    size_t RW = (size_t)pl->wrow_stride, off = h ? 0 : (size_t)pl->N;
    mono_ctx c = {pu,       pl->wrow + (size_t)h * pl->N * RW + pl->hw, RW - 1,         kb,    best + off,
                  bk + off, pl->lqp,                                    pl->ltp + pl->N, pl->N, pl->hw};
    return c;
}

/* The best source within [lo, hi] (and its band) of target j, into best,
 * bk and *k; returns its score. */
__attribute__((always_inline)) static inline double mono_one(const mono_ctx *c, int j, int lo, int hi, int *k,
                                                             int avx2) {
    int a = j - c->hw > lo ? j - c->hw : lo, b = j + c->hw < hi ? j + c->hw : hi;
    const double *w = c->w + (size_t)j * c->step;
    double m;
#if BIO_X86
    if (avx2)
        mono_scan_avx2(c->pu, w, a, b, &m, k);
    else
#endif
        mono_scan_c(c->pu, w, a, b, &m, k);
    c->best[j] = m;
    c->bk[j] = c->N + *k;
    return m;
}

/* Unvoiced targets j0 + i q for i in [0, n) (n >= 1) by the monotone
 * search: the first over its whole band, the s-th from the first's source
 * up, then the odd multiples of s/2, s/4, ..., each between the sources of
 * its two solved neighbours (the last of a level has no right neighbour).
 * Returns the smallest score written. */
__attribute__((always_inline)) static inline double mono_targets(const mono_ctx *c, int j0, int n, int q,
                                                                 int avx2) {
    int *kb = c->kb;
    int jn = j0 + (n - 1) * q, khi = jn + c->hw > c->N - 1 ? c->N - 1 : jn + c->hw;
    int s = 1;
    while (2 * s < n) s *= 2;
    double lbmin = mono_one(c, j0, 0, khi, &kb[j0], avx2), m;
    if (s < n) {
        m = mono_one(c, j0 + s * q, kb[j0], khi, &kb[j0 + s * q], avx2);
        lbmin = m < lbmin ? m : lbmin;
    }
    for (s /= 2; s >= 1; s /= 2) {
        int i = s;
        for (; i + s < n; i += 2 * s) {
            int j = j0 + i * q;
            m = mono_one(c, j, kb[j - s * q], kb[j + s * q], &kb[j], avx2);
            lbmin = m < lbmin ? m : lbmin;
        }
        if (i < n) {
            int j = j0 + i * q;
            m = mono_one(c, j, kb[j - s * q], khi, &kb[j], avx2);
            lbmin = m < lbmin ? m : lbmin;
        }
    }
    return lbmin;
}

#if BIO_X86
/* Unvoiced targets t .. t + GROUP - 1 (the last already solved, and solved
 * again identically), one per lane, over the sources [kb[t - 1],
 * kb[t + GROUP - 1]]: a superset of each one's bounds within its band
 * (lqp's rows hold -inf past the band; the first source among equals
 * wins, as sources ascend). Returns the smallest score. */
BIO_AVX2 static inline double mono_group_avx2(const mono_ctx *c, int t) {
    enum { V = GROUP / 4 };
    int k0 = c->kb[t - 1], k1 = c->kb[t + GROUP - 1];
    __m256d bm[V], ib[V];
    for (int v = 0; v < V; v++) {
        bm[v] = _mm256_set1_pd(-INFINITY);
        ib[v] = _mm256_setzero_pd();
    }
    for (int k = k0; k <= k1; k++) {
        __m256d p = _mm256_set1_pd(c->pu[k]), kk = _mm256_set1_pd((double)k);
        const double *row = c->lqp[k] + (t - k);
        for (int v = 0; v < V; v++) {
            __m256d x = _mm256_add_pd(p, _mm256_loadu_pd(row + 4 * v));
            ib[v] = _mm256_blendv_pd(ib[v], kk, _mm256_cmp_pd(x, bm[v], _CMP_GT_OQ));
            bm[v] = _mm256_max_pd(x, bm[v]);
        }
    }
    __m256d mn = bm[0];
    for (int v = 0; v < V; v++) {
        _mm256_storeu_pd(c->best + t + 4 * v, bm[v]);
        __m128i ki = _mm256_cvttpd_epi32(ib[v]);
        _mm_storeu_si128((__m128i *)(void *)(c->kb + t + 4 * v), ki);
        _mm_storeu_si128((__m128i *)(void *)(c->bk + t + 4 * v), _mm_add_epi32(ki, _mm_set1_epi32(c->N)));
        mn = _mm256_min_pd(mn, bm[v]);
    }
    return hmin_avx2(mn);
}
#endif

/* The unvoiced targets [j0, j1): every GROUP-th by the monotone search,
 * then the GROUP - 1 between each two of those from their sources, then
 * the last few one by one. Returns the smallest score written. */
__attribute__((always_inline)) static inline double mono_unvoiced(const mono_ctx *c, int j0, int j1, int avx2) {
    int n = j1 - j0, m = (n - 1) / GROUP + 1;
    double lbmin = mono_targets(c, j0, m, GROUP, avx2), x;
    for (int i = 0; i + 1 < m; i++) {
        int t = j0 + GROUP * i + 1;
#if BIO_X86
        if (avx2) {
            x = mono_group_avx2(c, t);
            lbmin = x < lbmin ? x : lbmin;
            continue;
        }
#endif
        for (int j = t; j < t + GROUP - 1; j++) {
            x = mono_one(c, j, c->kb[t - 1], c->kb[t + GROUP - 1], &c->kb[j], avx2);
            lbmin = x < lbmin ? x : lbmin;
        }
    }
    int khi = j1 - 1 + c->hw > c->N - 1 ? c->N - 1 : j1 - 1 + c->hw;
    for (int j = j0 + GROUP * (m - 1) + 1; j < j1; j++) {
        x = mono_one(c, j, c->kb[j - 1], khi, &c->kb[j], avx2);
        lbmin = x < lbmin ? x : lbmin;
    }
    return lbmin;
}

/* The voiced targets vl[0..nv) (within [j0, j1), whose unvoiced targets are
 * solved), each between the sources of unvoiced targets j - 1 and j + 1
 * (its band's ends past [j0, j1)). Returns the smallest score written, or
 * +inf. */
__attribute__((always_inline)) static inline double mono_voiced(const mono_ctx *c, const int *vl, int nv, int j0,
                                                                int j1, int avx2) {
    double lbmin = INFINITY;
    for (int i = 0; i < nv; i++) {
        int j = vl[i], k;
        int lo = j > j0 ? c->kb[j - 1] : 0, hi = j + 1 < j1 ? c->kb[j + 1] : c->N - 1;
        lo = lo > j - c->hw ? lo : j - c->hw; /* within the band */
        hi = hi < j + c->hw ? hi : j + c->hw;
        double x;
        if (hi - lo < 8) {
            /* a short scan: the sources' rows (hot) rather than the target's (cold) */
            double m = c->pu[lo] + c->lts[lo][j - lo];
            k = lo;
            for (int q = lo + 1; q <= hi; q++) {
                double y = c->pu[q] + c->lts[q][j - q];
                if (y > m) {
                    m = y;
                    k = q;
                }
            }
            c->best[j] = m;
            c->bk[j] = c->N + k;
            x = m;
        } else {
            x = mono_one(c, j, lo, hi, &k, avx2);
        }
        lbmin = x < lbmin ? x : lbmin;
    }
    return lbmin;
}

#if BIO_X86
BIO_AVX2 __attribute__((flatten)) static double mono_unvoiced_avx2(const mono_ctx *c, int j0, int j1) {
    return mono_unvoiced(c, j0, j1, 1);
}

BIO_AVX2 __attribute__((flatten)) static double mono_voiced_avx2(const mono_ctx *c, const int *vl, int nv, int j0,
                                                                 int j1) {
    return mono_voiced(c, vl, nv, j0, j1, 1);
}
#endif

/* The best unvoiced source of the unvoiced targets [j0, j1) (vl == NULL)
 * or of the voiced targets vl[0..nv) within [j0, j1) (after those), with
 * the AVX2 kernels when avx2 is set (and compiled in), into best, bk (and
 * kb: the unvoiced ones). Returns the smallest score written. */
static double mono_half(const pyin_plan *pl, const double *pu, const int *vl, int nv, int j0, int j1, int *kb,
                        double *best, int *bk, int avx2) {
    mono_ctx c = mono_ctx_for(pl, pu, vl != NULL, kb, best, bk);
#if BIO_X86
    if (avx2) return vl ? mono_voiced_avx2(&c, vl, nv, j0, j1) : mono_unvoiced_avx2(&c, j0, j1);
#endif
    (void)avx2;
    return vl ? mono_voiced(&c, vl, nv, j0, j1, 0) : mono_unvoiced(&c, j0, j1, 0);
}

static inline void take(double c, int K, double *best, int *bk) {
    if (c > *best || (c == *best && K < *bk)) {
        *best = c;
        *bk = K;
    }
}

/* Voiced source k (score v) offered to targets j in [lo, hi] of one half:
 * it takes a target on a larger score, or on an equal one held by an
 * unvoiced source (index >= N; numpy's argmax keeps the lowest index). */
static void voiced_source_c(double v, int k, const double *lt, double *best, int *bk, int lo, int hi, int N) {
    for (int j = lo; j <= hi; j++) {
        double c = v + lt[j - k];
        int up = c > best[j] || (c == best[j] && bk[j] >= N);
        best[j] = up ? c : best[j];
        bk[j] = up ? k : bk[j];
    }
}

#if BIO_X86
BIO_AVX2 static void voiced_source_avx2(double v, int k, const double *lt, double *best, int *bk, int lo, int hi,
                                        int N) {
    const __m256d vv = _mm256_set1_pd(v);
    const __m256i kk = _mm256_set1_epi64x(k), nm1 = _mm256_set1_epi64x((long long)N - 1);
    const __m256i pick = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
    int j = lo;
    for (; j + 3 <= hi; j += 4) {
        __m256d c = _mm256_add_pd(vv, _mm256_loadu_pd(lt + j - k));
        __m256d b = _mm256_loadu_pd(best + j);
        __m256i bi = _mm256_cvtepi32_epi64(_mm_loadu_si128((const __m128i *)(const void *)(bk + j)));
        __m256d eq = _mm256_cmp_pd(c, b, _CMP_EQ_OQ), gt = _mm256_cmp_pd(c, b, _CMP_GT_OQ);
        __m256d ge = _mm256_castsi256_pd(_mm256_cmpgt_epi64(bi, nm1));
        __m256d up = _mm256_or_pd(gt, _mm256_and_pd(eq, ge));
        _mm256_storeu_pd(best + j, _mm256_blendv_pd(b, c, up));
        __m256i nb = _mm256_castpd_si256(
            _mm256_blendv_pd(_mm256_castsi256_pd(bi), _mm256_castsi256_pd(kk), up));
        __m256i packed = _mm256_permutevar8x32_epi32(nb, pick);
        _mm_storeu_si128((__m128i *)(void *)(bk + j), _mm256_castsi256_si128(packed));
    }
    voiced_source_c(v, k, lt, best, bk, j, hi, N);
}
#endif

/* The scores of n targets of one half from their best predecessors:
 * cur[i] = a + best[i], backpointers bk[i] narrowed into pt[i]. Returns
 * the largest and the smallest score in mm[0] and mm[1]. */
static void emit_c(const double *best, const int *bk, double a, int n, double *cur, uint16_t *pt, double *mm) {
    double hi = -INFINITY, lo = INFINITY;
    for (int i = 0; i < n; i++) {
        cur[i] = a + best[i];
        hi = cur[i] > hi ? cur[i] : hi;
        lo = cur[i] < lo ? cur[i] : lo;
        pt[i] = (uint16_t)bk[i];
    }
    mm[0] = hi;
    mm[1] = lo;
}

#if BIO_X86
BIO_AVX2 static void emit_avx2(const double *best, const int *bk, double a, int n, double *cur, uint16_t *pt,
                               double *mm) {
    __m256d va = _mm256_set1_pd(a), vhi = _mm256_set1_pd(-INFINITY), vlo = _mm256_set1_pd(INFINITY);
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        __m256d c = _mm256_add_pd(va, _mm256_loadu_pd(best + i));
        _mm256_storeu_pd(cur + i, c);
        vhi = _mm256_max_pd(vhi, c);
        vlo = _mm256_min_pd(vlo, c);
    }
    double hi = hmax_avx2(vhi), lo = hmin_avx2(vlo);
    for (; i < n; i++) {
        cur[i] = a + best[i];
        hi = cur[i] > hi ? cur[i] : hi;
        lo = cur[i] < lo ? cur[i] : lo;
    }
    i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(bk + i));
        __m256i p = _mm256_permute4x64_epi64(_mm256_packus_epi32(v, v), 0x08);
        _mm_storeu_si128((__m128i *)(void *)(pt + i), _mm256_castsi256_si128(p));
    }
    for (; i < n; i++) pt[i] = (uint16_t)bk[i];
    mm[0] = hi;
    mm[1] = lo;
}
#endif

/* emit with the AVX2 kernel when avx2 is set (and compiled in). */
static void emit_any(const double *best, const int *bk, double a, int n, double *cur, uint16_t *pt, double *mm,
                     int avx2) {
#if BIO_X86
    if (avx2) {
        emit_avx2(best, bk, a, n, cur, pt, mm);
        return;
    }
#endif
    (void)avx2;
    emit_c(best, bk, a, n, cur, pt, mm);
}

/* The decoder's state, shared by the calling thread and (with two threads)
 * the helper. Frame t's scores live in sc[t & 1].
 *
 * Two threads: the caller drives; each thread's slot counts frames (seq,
 * stored with release after the data it covers, read with acquire before
 * that data is used). Frame t opens when all of frame t - 1 is done (caller
 * seq t, with the score bounds of frame t - 1 and the split point h of
 * frame t in its slot). Each frame's targets are [0, h) and [h, N): the caller scores
 * [h, N), then claims [0, h) unless the helper has (claimed becomes
 * 2t + who, by compare-and-swap); the helper claims as soon as it sees the
 * frame open, scores [0, h) and publishes seq t + 1 with the bounds of its
 * scores. Every target needs all of the previous frame's scores, so before
 * opening frame t + 1 the caller waits for the helper's seq t + 1 when the
 * helper shared frame t. A helper that is busy (front end) or descheduled
 * costs the caller nothing: it never waits for a frame the helper has not
 * claimed.
 *
 * The front end runs in chunks of FE_CHUNK frames, claimed in order from an
 * atomic counter (fe_next) by whichever thread needs work: the helper runs
 * chunks until none is left, then shares frames; the caller, when the frame
 * it is to decode is not ready yet, runs the next unclaimed chunk instead of
 * waiting (so neither thread idles while front-end work remains, whatever
 * the relative speed of the two cores). Each chunk's count of finished
 * frames (fe_done) is stored with release after every frame. */
typedef struct vit_bounds { /* what the next frame needs to know of all or part of a frame's scores */
    double vmax; /* the largest voiced score */
    double umax; /* the largest unvoiced score */
    double umin; /* the smallest unvoiced score */
    int sparse;  /* the frame stored -inf for its voiced states without a candidate (see frame_targets) */
    int sparse_before; /* so did the frame before it */
} vit_bounds;

typedef struct vit_slot {
    _Alignas(64) _Atomic long seq; /* caller: the frame open; helper: 1 + the last frame it shared */
    vit_bounds b;                  /* bounds of the scores of the thread's last frame (or part) */
    int h;                         /* caller: the split of the frame it opens (helper: targets [0, h)) */
} vit_slot;

typedef struct vit_thread { /* one thread's scratch */
    oob_work ew;
    frame_work fw;
} vit_thread;

enum { FE_CHUNK = 16 }; /* frames per front-end chunk (two threads) */

typedef struct fe_count { /* one cache line each: a thread publishing one chunk does not disturb a reader of another */
    _Alignas(64) _Atomic long n;
} fe_count;

typedef struct vit_ctx {
    const pyin_plan *pl;
    const float *pcm;
    frame_out *fo;
    size_t T;
    double *sc[2];     /* [2N + 4] scores of frame t in sc[t & 1] (4 spare zeros for the vector scan) */
    uint16_t *ptr;     /* [T][2N] backpointers */
    int *kb;           /* [N] the best unvoiced source of each entry of a half's target list */
    double *best;      /* [2N] best predecessor score of each target */
    int *bk;           /* [2N] its source */
    int all_voiced;    /* tests (bio_pyin_opts): score every voiced state of every frame */
    vit_thread th[2];  /* [0] the caller's scratch, [1] the helper's */
    int two;           /* a helper thread shares the front end, then frames */
    size_t n_chunks;   /* front-end chunks: [c FE_CHUNK, (c + 1) FE_CHUNK) */
    fe_count *fe_done; /* [n_chunks] frames of each chunk finished */
    size_t split_at;   /* tests (bio_pyin_opts) */
    int split_stride;
    _Alignas(64) _Atomic long fe_next; /* the next front-end chunk to claim */
    _Alignas(64) _Atomic long claimed; /* 2t + who for the last frame claimed: 0 caller, 1 helper */
    _Atomic long helper_done;          /* 1 once the helper thread is done with this context */
    vit_slot slot[2];  /* [0] the caller's, [1] the helper's */
} vit_ctx;


static inline void cpu_relax(void) {
#if BIO_X86
    _mm_pause();
#endif
}

/* Waits until *a >= v: spins briefly, then yields the core at every check,
 * so a partner that was preempted gets to run. */
static void wait_at_least(_Atomic long *a, long v) {
    for (int i = 0; atomic_load_explicit(a, memory_order_acquire) < v; i++) {
        if (i < 4096)
            cpu_relax();
        else
            sched_yield();
    }
}

/* Runs the next unclaimed front-end chunk on thread th. Returns 1, or 0
 * when every chunk has been claimed. */
static int fe_run_chunk(vit_ctx *vc, vit_thread *th) {
    long c = atomic_fetch_add_explicit(&vc->fe_next, 1, memory_order_relaxed);
    if ((size_t)c >= vc->n_chunks) return 0;
    size_t t0 = (size_t)c * FE_CHUNK, t1 = t0 + FE_CHUNK < vc->T ? t0 + FE_CHUNK : vc->T;
    frames_run(vc->pl, vc->pcm, t0, t1, &th->fw, vc->fo, &vc->fe_done[c].n);
    return 1;
}

/* With two threads: returns once the front end of frame t is done, running
 * unclaimed chunks on th meanwhile rather than waiting. */
static void frame_ready(vit_ctx *vc, vit_thread *th, size_t t) {
    if (!vc->two) return;
    size_t c = t / FE_CHUNK;
    long need = (long)(t - c * FE_CHUNK) + 1;
    for (int i = 0; atomic_load_explicit(&vc->fe_done[c].n, memory_order_acquire) < need; i++) {
        if (fe_run_chunk(vc, th))
            i = 0;
        else if (i < 4096)
            cpu_relax();
        else
            sched_yield();
    }
}

/* Claims frame t for `who`: 1 when it is now ours, 0 when the other thread
 * has it (or a later frame). */
static int frame_claim(vit_ctx *vc, size_t t, long who) {
    long c = atomic_load_explicit(&vc->claimed, memory_order_acquire);
    while (c < 2 * (long)t)
        if (atomic_compare_exchange_weak_explicit(&vc->claimed, &c, 2 * (long)t + who, memory_order_acq_rel,
                                                  memory_order_acquire))
            return 1;
    return 0;
}

/* The targets one thread scores in one frame: for j in [j0, j1), every
 * unvoiced state N + j and the voiced states j listed in vl[0..nv)
 * (ascending); all_v: vl lists every j in [j0, j1). */
typedef struct vit_part {
    int j0, j1;
    const int *vl;
    int nv;
    int all_v;
} vit_part;

/* Voiced source k (score v) offered to the targets of part within its
 * band. */
static void voiced_one(const pyin_plan *pl, double v, int k, const vit_part *pt, double *best, int *bk) {
    int N = pl->N, hw = pl->hw;
    int lo = k - hw < pt->j0 ? pt->j0 : k - hw, hi = k + hw > pt->j1 - 1 ? pt->j1 - 1 : k + hw;
    for (int hb = 0; hb < 2; hb++) {
        const double *lt = pl->ltp[(size_t)(hb == 1) * N + k];
        if (hb == 0 && !pt->all_v) {
            for (int i = 0; i < pt->nv && pt->vl[i] <= hi; i++)
                if (pt->vl[i] >= lo) voiced_source_c(v, k, lt, best, bk, pt->vl[i], pt->vl[i], N);
            continue;
        }
#if BIO_X86
        if (pl->fft.avx2) {
            voiced_source_avx2(v, k, lt, best + (size_t)hb * N, bk + (size_t)hb * N, lo, hi, N);
            continue;
        }
#endif
        voiced_source_c(v, k, lt, best + (size_t)hb * N, bk + (size_t)hb * N, lo, hi, N);
    }
}

#if BIO_X86
/* voiced_targets' filter four sources at a time (the same test). */
BIO_AVX2 static void voiced_filter_avx2(const pyin_plan *pl, const double *pv, double lbmin, int k0, int k1,
                                        const vit_part *pt, double *best, int *bk) {
    const __m256d lm = _mm256_set1_pd(pl->logt_max), lb = _mm256_set1_pd(lbmin);
    int k = k0;
    for (; k + 3 <= k1; k += 4) {
        __m256d v = _mm256_loadu_pd(pv + k);
        unsigned mask = (unsigned)_mm256_movemask_pd(_mm256_cmp_pd(_mm256_add_pd(v, lm), lb, _CMP_GE_OQ));
        for (; mask; mask &= mask - 1) {
            int kk = k + __builtin_ctz(mask);
            voiced_one(pl, pv[kk], kk, pt, best, bk);
        }
    }
    for (; k <= k1; k++)
        if (pv[k] + pl->logt_max >= lbmin) voiced_one(pl, pv[k], k, pt, best, bk);
}
#endif

/* Voiced sources (scores pv) offered to the targets of part, skipping
 * those that cannot reach lbmin (no target's best is below it): all of
 * them, or (pcb != NULL: the previous frame was sparse) only its
 * candidates pcb[0..pnc), ascending, the others being -inf. They come in
 * ascending order after the unvoiced ones, so a tie goes to a voiced
 * source only over an unvoiced incumbent (index >= N). */
static void voiced_targets(const pyin_plan *pl, const double *pv, double lbmin, const vit_part *pt, double *best,
                           int *bk, const int *pcb, int pnc) {
    int N = pl->N, hw = pl->hw;
    int k0 = pt->j0 - hw < 0 ? 0 : pt->j0 - hw, k1 = pt->j1 - 1 + hw > N - 1 ? N - 1 : pt->j1 - 1 + hw;
    if (pcb) {
        for (int c = 0; c < pnc && pcb[c] <= k1; c++) {
            int k = pcb[c];
            if (k >= k0 && pv[k] + pl->logt_max >= lbmin) voiced_one(pl, pv[k], k, pt, best, bk);
        }
        return;
    }
#if BIO_X86
    if (pl->fft.avx2) {
        voiced_filter_avx2(pl, pv, lbmin, k0, k1, pt, best, bk);
        return;
    }
#endif
    for (int k = k0; k <= k1; k++)
        if (pv[k] + pl->logt_max >= lbmin) voiced_one(pl, pv[k], k, pt, best, bk);
}

/* The sources outside target J's band (pitch bin j) offered to it, from
 * the prefix and suffix maxima in ew. */
static void out_of_band_one(const pyin_plan *pl, const oob_work *ew, int J, int j, double *best, int *bk) {
    int N = pl->N, lo = j - pl->hw, hi = j + pl->hw;
    for (int ha = 0; ha < 2; ha++) {
        size_t o = (size_t)ha * N;
        if (lo > 0) take(ew->pmv[o + lo - 1] + pl->log_eps, ha * N + ew->pmi[o + lo - 1], &best[J], &bk[J]);
        if (hi < N - 1) take(ew->smv[o + hi + 1] + pl->log_eps, ha * N + ew->smi[o + hi + 1], &best[J], &bk[J]);
    }
}

/* Sources outside the band (transition log eps) offered to the targets of
 * part, from prefix and suffix maxima of the previous scores (computed
 * into ew, over all of prev). */
static void out_of_band(const pyin_plan *pl, const double *prev, oob_work *ew, const vit_part *pt, double *best,
                        int *bk) {
    int N = pl->N;
    for (int h = 0; h < 2; h++) {
        const double *v = prev + (size_t)h * N;
        double *pmv = ew->pmv + (size_t)h * N, *smv = ew->smv + (size_t)h * N;
        int *pmi = ew->pmi + (size_t)h * N, *smi = ew->smi + (size_t)h * N;
        pmv[0] = v[0];
        pmi[0] = 0;
        for (int i = 1; i < N; i++) {
            int up = v[i] > pmv[i - 1];
            pmv[i] = up ? v[i] : pmv[i - 1];
            pmi[i] = up ? i : pmi[i - 1];
        }
        smv[N - 1] = v[N - 1];
        smi[N - 1] = N - 1;
        for (int i = N - 2; i >= 0; i--) {
            int up = v[i] >= smv[i + 1];
            smv[i] = up ? v[i] : smv[i + 1];
            smi[i] = up ? i : smi[i + 1];
        }
    }
    for (int i = 0; i < pt->nv; i++) out_of_band_one(pl, ew, pt->vl[i], pt->vl[i], best, bk);
    for (int j = pt->j0; j < pt->j1; j++) out_of_band_one(pl, ew, N + j, j, best, bk);
}

/* Scores of frame t for targets [j0, j1) (th: the calling thread's
 * scratch): the best predecessors, then the observation (log eps on
 * voiced states without a candidate, the frame's unvoiced log
 * probability). b holds on entry the bounds of all the previous frame's
 * scores and on return those of the targets' new scores.
 *
 * A voiced state without a candidate ("dead": observation log eps) is
 * scored only when the frame cannot prove that it is never on the path.
 * Its score is at most dead_ub = log eps + (the previous frame's largest
 * score + the largest transition), and every unvoiced score of this
 * frame is at least u_lb = its observation + (the previous frame's
 * smallest unvoiced score + the smallest same-voicing diagonal): each
 * state's own unvoiced twin is one of its predecessors (additions round
 * monotonically, so both bounds hold for the rounded scores). When u_lb +
 * the smallest diagonal exceeds dead_ub + the largest transition (with a
 * margin of 1 for rounding, scores being far below 1e11: mono_exact),
 * every target of the next frame has a predecessor (its unvoiced twin)
 * strictly better than any dead state, and so has the final argmax (u_lb >
 * dead_ub): no dead state can be on the decoded path, whatever its score.
 * Such a frame ("sparse") stores -inf for its dead states (and leaves their
 * backpointers unwritten: never read), which changes no comparison that
 * decides the path, nor the frame's largest score, and skips their
 * predecessor search; the next frame offers only the candidates as voiced
 * predecessors. A frame gives
 * up the proof only when its unvoiced observation is log eps (voicing
 * probability 1) or the scores spread over ~700 (log eps), and then scores
 * every voiced state. */
static void frame_targets(vit_ctx *vc, vit_thread *th, size_t t, int j0, int j1, vit_bounds *b) {
    const pyin_plan *pl = vc->pl;
    const frame_out *fo = vc->fo;
    int N = pl->N, avx2 = BIO_X86 && pl->fft.avx2;
    const double *prev = vc->sc[(t - 1) & 1];
    double *cur = vc->sc[t & 1];
    double gmax = b->vmax > b->umax ? b->vmax : b->umax;
    /* the unvoiced targets need nothing of frame t's front end */
    double lbmin = mono_half(pl, prev + N, NULL, 0, j0, j1, vc->kb, vc->best, vc->bk, avx2);
    frame_ready(vc, th, t);
    double ul = fo->ulog[t];
    const int *cb = fo->cbin + t * (size_t)pl->cap;
    const double *cl = fo->clog + t * (size_t)pl->cap;
    int c0 = 0, c1;
    while (c0 < fo->ncand[t] && cb[c0] < j0) c0++;
    for (c1 = c0; c1 < fo->ncand[t] && cb[c1] < j1; c1++) {
    }
    vit_part part = {j0, j1, cb + c0, c1 - c0, 0};
    double dead_ub = pl->log_eps + (gmax + pl->logt_max), u_lb = ul + (b->umin + pl->diag_min[0]);
    double dmin = pl->diag_min[0] < pl->diag_min[1] ? pl->diag_min[0] : pl->diag_min[1];
    if (vc->all_voiced || !(u_lb + dmin > dead_ub + pl->logt_max + 1.0)) {
        part.vl = pl->iota + j0;
        part.nv = j1 - j0;
        part.all_v = 1;
    }
    if (part.nv) {
        double m = mono_half(pl, prev + N, part.vl, part.nv, j0, j1, vc->kb, vc->best, vc->bk, avx2);
        lbmin = m < lbmin ? m : lbmin;
    }
    const int *pcb = b->sparse ? fo->cbin + (t - 1) * (size_t)pl->cap : NULL;
    voiced_targets(pl, prev, lbmin, &part, vc->best, vc->bk, pcb, b->sparse ? fo->ncand[t - 1] : 0);
    if (gmax + pl->log_eps >= lbmin) out_of_band(pl, prev, &th->ew, &part, vc->best, vc->bk);
    uint16_t *pt = vc->ptr + t * (size_t)(2 * N);
    double mu[2], mv[2] = {-INFINITY, INFINITY};
    emit_any(vc->best + N + j0, vc->bk + N + j0, ul, j1 - j0, cur + N + j0, pt + N + j0, mu, avx2);
    if (part.all_v) {
        emit_any(vc->best + j0, vc->bk + j0, pl->log_eps, j1 - j0, cur + j0, pt + j0, mv, avx2);
    } else if (b->sparse_before) {
        /* cur holds frame t - 2's scores, -inf but at its candidates */
        const int *qb = fo->cbin + (t - 2) * (size_t)pl->cap;
        for (int c = 0; c < fo->ncand[t - 2]; c++)
            if (qb[c] >= j0 && qb[c] < j1) cur[qb[c]] = -INFINITY;
    } else {
        for (int j = j0; j < j1; j++) cur[j] = -INFINITY;
    }
    /* a candidate's log probability is >= log eps, so the voiced maximum
     * is the larger of mv[0] and the candidates' scores */
    for (int c = c0; c < c1; c++) {
        int j = cb[c];
        cur[j] = cl[c] + vc->best[j];
        pt[j] = (uint16_t)vc->bk[j];
        mv[0] = cur[j] > mv[0] ? cur[j] : mv[0];
    }
    b->vmax = mv[0];
    b->umax = mu[0];
    b->umin = mu[1];
    b->sparse_before = b->sparse;
    b->sparse = !part.all_v;
}

/* The bounds of two parts of one frame merged into b (both parts make the
 * same sparse decision). */
static void bounds_merge(vit_bounds *b, const vit_bounds *x) {
    b->vmax = x->vmax > b->vmax ? x->vmax : b->vmax;
    b->umax = x->umax > b->umax ? x->umax : b->umax;
    b->umin = x->umin < b->umin ? x->umin : b->umin;
}

/* The decoder on the calling thread (see vit_ctx for the two-thread
 * protocol); the decoded states go to state. Leaves the caller's seq at T,
 * which tells the helper to stop. */
static void viterbi_mono(vit_ctx *vc, int *state) {
    const pyin_plan *pl = vc->pl;
    const frame_out *fo = vc->fo;
    int N = pl->N, S = 2 * N;
    size_t T = vc->T;
    vit_thread *th = &vc->th[0];
    vit_slot *me = &vc->slot[0], *helper = &vc->slot[1];
    frame_ready(vc, th, 0);
    double *first = vc->sc[0];
    double u0 = fo->ulog[0] + pl->log_init_u; /* every unvoiced state's first score */
    vit_bounds b = {-INFINITY, u0, u0, 0, 0};
    for (int j = 0; j < N; j++) first[j] = pl->log_eps + pl->log_eps;
    for (int c = 0; c < fo->ncand[0]; c++) first[fo->cbin[c]] = fo->clog[c] + pl->log_eps;
    for (int j = 0; j < N; j++) b.vmax = first[j] > b.vmax ? first[j] : b.vmax;
    for (int j = N; j < S; j++) first[j] = u0;
    int shared = 0; /* the last frame was shared with the helper */
    int h = N / 2;  /* the split of the shared frames' targets, moved towards equal work */
    for (size_t t = 1; t < T; t++) {
        if (!vc->two) {
            frame_targets(vc, th, t, 0, N, &b);
            continue;
        }
        if (shared) {
            /* the helper's targets are [0, h): give it more when it is
             * done first, fewer when it is late (this changes only who
             * scores which target) */
            if (atomic_load_explicit(&helper->seq, memory_order_acquire) >= (long)t)
                h = h + 2 < N - N / 8 ? h + 2 : h;
            else
                h = h - 2 > N / 8 ? h - 2 : h;
            wait_at_least(&helper->seq, (long)t);
            bounds_merge(&b, &helper->b);
        }
        /* frame t - 1 is done: frame t is open */
        me->b = b;
        me->h = h;
        atomic_store_explicit(&me->seq, (long)t, memory_order_release);
        /* tests: leave this frame to the helper */
        if (vc->split_at && t >= vc->split_at && (t - vc->split_at) % (size_t)vc->split_stride == 0) {
            frame_ready(vc, th, T - 1);
            while (atomic_load_explicit(&vc->claimed, memory_order_acquire) != 2 * (long)t + 1) sched_yield();
        }
        int k = me->h;
        vit_bounds rest = b;
        frame_targets(vc, th, t, k, N, &b);
        shared = !frame_claim(vc, t, 0);
        if (!shared) {
            frame_targets(vc, th, t, 0, k, &rest);
            bounds_merge(&b, &rest);
        }
    }
    if (shared) wait_at_least(&helper->seq, (long)T);
    viterbi_backtrace(vc->sc[(T - 1) & 1], S, vc->ptr, T, state);
    if (vc->two) atomic_store_explicit(&me->seq, (long)T, memory_order_release);
}

/* Allocates one thread's out-of-band scratch for N pitch bins. Returns 0 or
 * -1; either way oob_free releases what was allocated. */
static int oob_alloc(oob_work *ew, int N) {
    memset(ew, 0, sizeof *ew);
    ew->pmv = malloc((size_t)2 * N * sizeof *ew->pmv);
    ew->pmi = malloc((size_t)2 * N * sizeof *ew->pmi);
    ew->smv = malloc((size_t)2 * N * sizeof *ew->smv);
    ew->smi = malloc((size_t)2 * N * sizeof *ew->smi);
    return ew->pmv && ew->pmi && ew->smv && ew->smi ? 0 : -1;
}

static void oob_free(oob_work *ew) {
    free(ew->pmv);
    free(ew->pmi);
    free(ew->smv);
    free(ew->smi);
    memset(ew, 0, sizeof *ew);
}

/* One thread's scratch (front end and decoding). Returns 0 or -1; either
 * way vit_thread_free releases what was allocated. */
static int vit_thread_init(vit_thread *th, const pyin_plan *pl) {
    memset(th, 0, sizeof *th);
    int a = oob_alloc(&th->ew, pl->N), b = work_init(&th->fw, pl);
    return a || b ? -1 : 0;
}

static void vit_thread_free(vit_thread *th) {
    oob_free(&th->ew);
    work_free(&th->fw);
}

/* The helper's work: front-end chunks until none is left, then the
 * targets [0, h) of every frame it manages to claim, until the caller's seq
 * reaches T. */
static void helper_run(vit_ctx *vc) {
    vit_thread *th = &vc->th[1];
    /* its scratch comes from this thread's own heap, away from the
     * caller's (no cache line written by both); without it the caller
     * does everything */
    if (vit_thread_init(th, vc->pl)) return;
    while (fe_run_chunk(vc, th)) {
    }
    vit_slot *me = &vc->slot[1], *caller = &vc->slot[0];
    for (;;) {
        long t = atomic_load_explicit(&caller->seq, memory_order_acquire);
        if (t >= (long)vc->T) return;
        if (t >= 1 && frame_claim(vc, (size_t)t, 1)) {
            /* the caller does not touch its slot again before our seq t + 1 */
            vit_bounds b = caller->b;
            frame_targets(vc, th, (size_t)t, 0, caller->h, &b);
            me->b = b;
            atomic_store_explicit(&me->seq, t + 1, memory_order_release);
        }
        wait_at_least(&caller->seq, t + 1); /* the next frame opens */
    }
}

/* The helper thread (detached): helper_run, then helper_done, after which
 * it no longer touches vc, so the caller need not wait for the thread's
 * exit (a join cost ~0.1 ms of a ~6 ms run). */
static void *helper_thread(void *arg) {
    vit_ctx *vc = arg;
    helper_run(vc);
    atomic_store_explicit(&vc->helper_done, 1, memory_order_release);
    return NULL;
}

/* The monotone path: front end and decoding into ptr and state, on the
 * caller alone or (n_threads >= 2 and at least 32 frames) with a helper
 * thread that shares the front end and then the frames it claims (see
 * vit_ctx); if the thread cannot be started, everything runs here. Returns
 * 0 or -1 (out of memory). */
static int pyin_mono(const pyin_plan *pl, const float *pcm, const bio_params *p, const bio_pyin_opts *opts,
                     frame_out *fo, uint16_t *ptr, int *state) {
    size_t T = pl->n_frames;
    int N = pl->N;
    vit_ctx ctx, *vc = &ctx; /* on the stack: the helper is done with it before it goes */
    memset(vc, 0, sizeof *vc);
    vc->pl = pl;
    vc->pcm = pcm;
    vc->fo = fo;
    vc->T = T;
    vc->ptr = ptr;
    vc->split_at = opts->split_at;
    vc->split_stride = opts->split_stride > 0 ? opts->split_stride : 1;
    vc->all_voiced = opts->all_voiced;
    vc->n_chunks = (T + FE_CHUNK - 1) / FE_CHUNK;
    atomic_init(&vc->fe_next, 0);
    atomic_init(&vc->claimed, 0);
    atomic_init(&vc->helper_done, 0);
    atomic_init(&vc->slot[0].seq, 0);
    atomic_init(&vc->slot[1].seq, 0);
    int rc = -1;
    int helper = p->n_threads >= 2 && T >= 32;
    vc->sc[0] = calloc((size_t)2 * N + 4, sizeof(double));
    vc->sc[1] = calloc((size_t)2 * N + 4, sizeof(double));
    vc->kb = malloc((size_t)N * sizeof *vc->kb);
    vc->best = malloc((size_t)2 * N * sizeof *vc->best);
    vc->bk = malloc((size_t)2 * N * sizeof *vc->bk);
    vc->fe_done = helper ? mem_alloc_aligned(vc->n_chunks * sizeof *vc->fe_done) : NULL;
    if (!vc->sc[0] || !vc->sc[1] || !vc->kb || !vc->best || !vc->bk || (helper && !vc->fe_done) ||
        vit_thread_init(&vc->th[0], pl))
        goto done;
    if (helper) {
        for (size_t c = 0; c < vc->n_chunks; c++) atomic_init(&vc->fe_done[c].n, 0);
        pthread_attr_t attr;
        pthread_t tid;
        if (pthread_attr_init(&attr) == 0) {
            vc->two = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
                      pthread_create(&tid, &attr, helper_thread, vc) == 0;
            pthread_attr_destroy(&attr);
        }
    }
    if (!vc->two && opts->fe_shuffle) {
        for (size_t i = 0; i < vc->n_chunks; i++) {
            size_t c = i % 4 < 2 && (i ^ 1) < vc->n_chunks ? i ^ 1 : i; /* 1, 0, 2, 3, 5, 4, 6, 7, ... */
            size_t c0 = c * FE_CHUNK, c1 = c0 + FE_CHUNK < T ? c0 + FE_CHUNK : T;
            frames_run(pl, pcm, c0, c1, &vc->th[0].fw, fo, NULL);
        }
    } else if (!vc->two) {
        frames_run(pl, pcm, 0, T, &vc->th[0].fw, fo, NULL);
    }
    viterbi_mono(vc, state);
    if (vc->two) wait_at_least(&vc->helper_done, 1);
    rc = 0;
done:
    free(vc->sc[0]);
    free(vc->sc[1]);
    free(vc->kb);
    free(vc->best);
    free(vc->bk);
    free(vc->fe_done);
    vit_thread_free(&vc->th[0]);
    vit_thread_free(&vc->th[1]);
    return rc;
}

void bio_pyin_out_free(bio_pyin_out *out) {
    if (!out) return;
    free(out->state);
    free(out->voiced_prob);
    free(out->rms);
    free(out->bin_hz);
    memset(out, 0, sizeof *out);
}

int bio_pyin_run(const float *pcm, size_t n, const bio_params *p, const bio_pyin_opts *opts,
                 bio_pyin_out *out, char *err, size_t err_size) {
    memset(out, 0, sizeof *out);
    if (!pcm && n > 0) return error_set(err, err_size, TRIDENT_EINVAL, "no samples given");
    bio_pyin_opts none = {0};
    if (!opts) opts = &none;
    pyin_plan pl;
    const pyin_plan *shared = opts->generic_acf || opts->portable ? NULL : default_plan_for(p);
    int rc = 0;
    if (shared) {
        pl = *shared; /* read-only tables shared; only the input size is per call */
        pl.n = n;
        pl.n_frames = bio_frame_count(n, p);
        if (pl.n_frames == 0)
            return error_set(err, err_size, TRIDENT_EINVAL, "input of %zu samples is shorter than one frame", n);
    } else {
        rc = plan_init(&pl, n, p, opts->generic_acf, err, err_size);
        if (rc) return rc;
        if (opts->portable) pl.fft.avx2 = 0;
    }
    size_t T = pl.n_frames;
    int N = pl.N, S = 2 * N;
    frame_out fo = {0};
    atomic_init(&fo.bad_sample, 0);
    vit_work vw = {0};
    double *prev = NULL, *cur = NULL, *obs = NULL;
    uint16_t *ptr = NULL;
    rc = TRIDENT_ENOMEM;
    if (S > 65535) {
        rc = error_set(err, err_size, TRIDENT_EINVAL, "too many pitch bins (%d)", N);
        goto done;
    }
    fo.ncand = malloc(T * sizeof *fo.ncand);
    fo.cbin = malloc(T * (size_t)pl.cap * sizeof *fo.cbin);
    fo.clog = malloc(T * (size_t)pl.cap * sizeof *fo.clog);
    fo.ulog = malloc(T * sizeof *fo.ulog);
    fo.vprob = malloc(T * sizeof *fo.vprob);
    fo.rms = malloc(T * sizeof *fo.rms);
    out->state = malloc(T * sizeof *out->state);
    out->bin_hz = malloc((size_t)N * sizeof *out->bin_hz);
    ptr = malloc(T * (size_t)S * sizeof *ptr);
    if (!fo.ncand || !fo.cbin || !fo.clog || !fo.ulog || !fo.vprob || !fo.rms || !out->state || !out->bin_hz || !ptr)
        goto nomem;

    if (mono_exact(&pl, T) && !opts->dense_viterbi && !opts->banded_viterbi) {
        if (pyin_mono(&pl, pcm, p, opts, &fo, ptr, out->state)) goto nomem;
    } else {
        prev = malloc((size_t)S * sizeof *prev);
        cur = malloc((size_t)S * sizeof *cur);
        obs = malloc((size_t)S * sizeof *obs);
        int levels = 1;
        while ((1 << levels) <= N) levels++;
        vw.levels = levels;
        vw.st = malloc((size_t)2 * levels * N * sizeof *vw.st);
        vw.pmv = malloc((size_t)2 * N * sizeof *vw.pmv);
        vw.smv = malloc((size_t)2 * N * sizeof *vw.smv);
        vw.pmi = malloc((size_t)2 * N * sizeof *vw.pmi);
        vw.smi = malloc((size_t)2 * N * sizeof *vw.smi);
        vw.lg = malloc(((size_t)N + 1) * sizeof *vw.lg);
        if (!prev || !cur || !obs || !vw.st || !vw.pmv || !vw.smv || !vw.pmi || !vw.smi || !vw.lg) goto nomem;
        vw.lg[0] = 0;
        for (int x = 1; x <= N; x++) vw.lg[x] = x == 1 ? 0 : vw.lg[x / 2] + 1;
        if (frames_run_all(&pl, pcm, p->n_threads, &fo)) goto nomem;
        if (opts->dense_viterbi)
            viterbi_dense(&pl, &fo, T, prev, cur, obs, ptr, out->state);
        else
            viterbi_banded(&pl, &fo, T, prev, cur, obs, ptr, out->state, &vw);
    }

    if (atomic_load_explicit(&fo.bad_sample, memory_order_relaxed)) {
        rc = error_set(err, err_size, TRIDENT_EINVAL, "sample %zu is not a finite number",
                       floats_first_nonfinite(pcm, n));
        goto done;
    }
    for (int k = 0; k < N; k++) out->bin_hz[k] = pl.fmin * pow(2.0, k / pl.bins_per_octave);
    out->n_frames = T;
    out->n_pitch_bins = N;
    out->voiced_prob = fo.vprob;
    out->rms = fo.rms;
    fo.vprob = NULL;
    fo.rms = NULL;
    rc = 0;
    goto done;
nomem:
    rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory running pYIN on %zu samples", n);
done:
    free(fo.ncand);
    free(fo.cbin);
    free(fo.clog);
    free(fo.ulog);
    free(fo.vprob);
    free(fo.rms);
    free(prev);
    free(cur);
    free(obs);
    free(ptr);
    free(vw.st);
    free(vw.pmv);
    free(vw.smv);
    free(vw.pmi);
    free(vw.smi);
    free(vw.lg);
    if (!shared) plan_free(&pl);
    if (rc) bio_pyin_out_free(out);
    return rc;
}
