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
 * 2*frame-point ones. The Viterbi never scans all 2N x 2N transitions: with
 * the triangular window the best unvoiced predecessor of every state on each
 * side of the diagonal comes from an upper envelope of line segments (O(N)
 * per frame), voiced predecessors are visited only when their score can
 * still reach a state's best, and predecessors outside the band (transition
 * log(DBL_MIN)) come from prefix/suffix maxima when they can matter at all.
 * Every candidate is scored in log space with librosa's operations; the
 * envelope only picks which ones (plus any neighbour within 1e-9 of it, as
 * exact ties between adjacent sources are common), so the decoded path is
 * the dense search's (tests compare against a dense reference).
 * Other windows use a bounded outward search from the diagonal instead.
 * Ties go to the lowest state index, as numpy's argmax does. */
#include "bio/pyin.h"

/* The inner loops (spectral sums, butterflies) only vectorise with GCC's
 * full cost model; -O2's "very cheap" one leaves them scalar. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3")
#endif

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "bio/fft.h"

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
    double *row_s;     /* [N] row sums of the local transition matrix */
    double logt_max;   /* the largest logt entry */
    int affine;        /* the window is c (hw + 1 - |e|): the envelope search applies */
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
    free(pl->row_s);
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
    size_t p = 4;
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
    pl->row_s = malloc((size_t)N * sizeof *pl->row_s);
    int rc = TRIDENT_ENOMEM;
    if (!w || !val || !row || !sums || !pl->row_sid || !pl->col_sid || !pl->row_s) goto done;
    triang(M, w);
    /* pad_center to N, then np.roll by N//2 + i + 1: row i holds at column
     * j = i + e the padded window at ((e - N//2 - 1) mod N) - lpad. */
    int lpad = (N - M) / 2;
    pl->affine = M % 2 == 1;
    for (int e = -hw; e <= hw; e++) {
        long q = (((long)e - N / 2 - 1) % N + N) % N - lpad;
        val[e + hw] = (q >= 0 && q < M) ? w[q] : 0.0;
        /* odd M: the window is 2 (hw + 1 - |e|) / (M + 1) */
        if (val[e + hw] != 2.0 * (hw + 1 - abs(e)) / (M + 1.0)) pl->affine = 0;
    }
    for (int k = 0; k < N; k++) {
        int lo = k - hw < 0 ? 0 : k - hw, hi = k + hw > N - 1 ? N - 1 : k + hw;
        for (int j = lo; j <= hi; j++) row[j] = val[j - k + hw];
        sums[k].s = 0.0 + np_pairwise_sum(row, (size_t)N);
        sums[k].k = k;
        pl->row_s[k] = sums[k].s;
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
    pl->block_path = !generic_acf && pl->frame % pl->hop == 0 && pl->nbk >= 2 && is_pow2(pl->hop) &&
                     pl->hop >= 4 && pl->max_period <= pl->hop;
    size_t L = pl->block_path ? (size_t)(2 * pl->hop) : next_pow2((size_t)pl->frame + (size_t)pl->max_period);
    if (bio_fft_init(&pl->fft, L)) goto nomem;
    return 0;
nomem:
    plan_free(pl);
    return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory planning pYIN");
}

/* ---- per-frame front end: autocorrelation -> candidates ----------------- */

typedef struct frame_out {
    int *ncand;     /* [n_frames] candidates per frame */
    int *cbin;      /* [n_frames * cap] pitch bins, ascending */
    double *clog;   /* [n_frames * cap] log(probability + eps) */
    double *ulog;   /* [n_frames] log((1 - voiced_prob)/N + eps) */
    double *vprob;  /* [n_frames] */
    float *rms;     /* [n_frames] */
} frame_out;

typedef struct frame_work {
    double *ring_x;  /* (nbk + 2) block spectra, L + 2 doubles each */
    double *ring_d;  /* (nbk + 2) block "D" spectra */
    double *ring_e;  /* (nbk + 2) block energies */
    double *spec;    /* L + 2 */
    double *buf;     /* L */
    double *acf;     /* L */
    double *fwork;   /* L */
    double *frame;   /* max_period first samples of the frame */
    double *dk;      /* max_period + 1 */
    double *yin;     /* n_tau */
    int *trough;     /* cap */
    int *first;      /* cap: first threshold index a trough is below */
    double *prob;    /* cap */
    int *cb;         /* cap */
    double *cp;      /* cap */
    int *order;      /* cap: threshold breakpoints */
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
    free(w->yin);
    free(w->trough);
    free(w->first);
    free(w->prob);
    free(w->cb);
    free(w->cp);
    free(w->order);
    memset(w, 0, sizeof *w);
}

static int work_init(frame_work *w, const pyin_plan *pl) {
    memset(w, 0, sizeof *w);
    size_t L = pl->fft.n, R = (size_t)pl->nbk + 2;
    if (pl->block_path) {
        w->ring_x = malloc(R * (L + 2) * sizeof(double));
        w->ring_d = malloc(R * (L + 2) * sizeof(double));
        w->ring_e = malloc(R * sizeof(double));
    }
    w->spec = malloc((L + 2) * sizeof(double));
    w->buf = malloc(L * sizeof(double));
    w->acf = malloc(L * sizeof(double));
    w->fwork = malloc(L * sizeof(double));
    w->frame = malloc((size_t)pl->max_period * sizeof(double));
    w->dk = malloc(((size_t)pl->max_period + 1) * sizeof(double));
    w->yin = malloc((size_t)pl->n_tau * sizeof(double));
    w->trough = malloc((size_t)pl->cap * sizeof(int));
    w->first = malloc((size_t)pl->cap * sizeof(int));
    w->prob = malloc((size_t)pl->cap * sizeof(double));
    w->cb = malloc((size_t)pl->cap * sizeof(int));
    w->cp = malloc((size_t)pl->cap * sizeof(double));
    w->order = malloc((size_t)pl->cap * sizeof(int));
    if ((pl->block_path && (!w->ring_x || !w->ring_d || !w->ring_e)) || !w->spec || !w->buf || !w->acf ||
        !w->fwork || !w->frame || !w->dk || !w->yin || !w->trough || !w->first || !w->prob || !w->cb ||
        !w->cp || !w->order) {
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

/* Spectrum and energy of block b (hop samples of the padded signal from b*hop). */
static void block_spectrum(const pyin_plan *pl, const float *pcm, long b, frame_work *w, double *X,
                           double *energy) {
    size_t L = pl->fft.n;
    long q0 = b * pl->hop;
    double e = 0.0;
    for (int i = 0; i < pl->hop; i++) {
        double v = padded(pl, pcm, q0 + i);
        w->buf[i] = v;
        e += v * v;
    }
    memset(w->buf + pl->hop, 0, (L - (size_t)pl->hop) * sizeof(double));
    bio_fft_forward(&pl->fft, w->buf, X, w->fwork);
    *energy = e;
}

/* Probabilities of the troughs of one CMND frame, then its pitch candidates. */
static void frame_candidates(const pyin_plan *pl, frame_work *w, size_t t, frame_out *fo) {
    const double *yin = w->yin;
    int n_tau = pl->n_tau, nt = pl->n_thr;
    int M = 0;
    /* util.localmin, with is_trough[0] = yin[0] < yin[1] */
    if (yin[0] < yin[1]) w->trough[M++] = 0;
    for (int i = 1; i < n_tau - 1; i++)
        if (yin[i] < yin[i - 1] && yin[i] <= yin[i + 1]) w->trough[M++] = i;
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
    for (int m = 0; m < M; m++) {
        double h = yin[w->trough[m]];
        int lo = 1, hi = nt + 1; /* smallest i in [1, nt] with h < thr[i], or nt + 1 */
        while (lo < hi) {
            int mid = (lo + hi) / 2;
            if (h < pl->thr[mid]) hi = mid;
            else lo = mid + 1;
        }
        w->first[m] = lo;
        w->prob[m] = 0.0;
        if (h < yin[w->trough[gmin]]) gmin = m;
    }
    /* Between consecutive distinct first[] values the set of troughs below the
     * threshold is fixed, so each trough's prior is constant there: sum the
     * beta probabilities of the interval once. */
    int nb = 0;
    for (int m = 0; m < M; m++)
        if (w->first[m] <= nt) w->order[nb++] = w->first[m];
    /* sort the breakpoints (small arrays: insertion sort), unique */
    for (int a = 1; a < nb; a++) {
        int v = w->order[a], b = a - 1;
        while (b >= 0 && w->order[b] > v) {
            w->order[b + 1] = w->order[b];
            b--;
        }
        w->order[b + 1] = v;
    }
    int nu = 0;
    for (int a = 0; a < nb; a++)
        if (nu == 0 || w->order[nu - 1] != w->order[a]) w->order[nu++] = w->order[a];
    for (int s = 0; s < nu; s++) {
        int i0 = w->order[s], i1 = s + 1 < nu ? w->order[s + 1] : nt + 1;
        double bs = 0.0;
        for (int i = i0; i < i1; i++) bs += pl->beta_probs[i - 1];
        if (bs == 0.0) continue;
        int count = 0;
        for (int m = 0; m < M; m++)
            if (w->first[m] <= i0) count++;
        int pos = 0;
        for (int m = 0; m < M; m++) {
            if (w->first[m] > i0) continue;
            w->prob[m] += pl->bfact[count] * pl->bexp[pos] * bs;
            pos++;
        }
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

/* CMND of one frame from its autocorrelation (w->acf) and first samples (w->frame). */
static void frame_cmnd(const pyin_plan *pl, frame_work *w) {
    int maxp = pl->max_period, minp = pl->min_period;
    const double *r = w->acf;
    double *dk = w->dk;
    /* d(k) = 2 (r(0) - r(k)) - sum_{m<k} y(m)^2, except that librosa zeroes
     * the running energy's first entry in place before using it, so d(1)
     * has no energy term at all. */
    double csum = w->frame[0] * w->frame[0];
    dk[0] = 0.0;
    dk[1] = 2 * (r[0] - r[1]);
    for (int k = 2; k <= maxp; k++) {
        double v = w->frame[k - 1];
        csum += v * v;
        dk[k] = 2 * (r[0] - r[k]) - csum;
    }
    double run = 0.0;
    for (int k = 1; k <= maxp; k++) {
        run += dk[k];
        if (k >= minp) {
            double cm = run / k;
            w->yin[k - minp] = dk[k] / (cm + DBL_MIN);
        }
    }
}

static void frames_run(const pyin_plan *pl, const float *pcm, size_t t0, size_t t1, frame_work *w,
                       frame_out *fo) {
    size_t L = pl->fft.n, S = L + 2;
    int nbk = pl->nbk;
    long R = nbk + 2;
    long next_x = (long)t0, next_d = (long)t0;
    for (size_t t = t0; t < t1; t++) {
        long q0 = (long)t * pl->hop;
        double energy = 0.0;
        if (pl->block_path) {
            long last = (long)t + nbk - 1;
            for (; next_x <= last; next_x++)
                block_spectrum(pl, pcm, next_x, w, w->ring_x + (next_x % R) * S, &w->ring_e[next_x % R]);
            for (; next_d <= last - 1; next_d++) {
                const double *X = w->ring_x + (next_d % R) * S, *Y = w->ring_x + ((next_d + 1) % R) * S;
                double *D = w->ring_d + (next_d % R) * S;
                for (size_t f = 0; f <= L / 2; f++) {
                    double xr = X[2 * f], xi = X[2 * f + 1], yr = Y[2 * f], yi = Y[2 * f + 1];
                    double s = (f & 1) ? -1.0 : 1.0; /* shift by hop = L/2 samples */
                    D[2 * f] = xr * xr + xi * xi + s * (xr * yr + xi * yi);
                    D[2 * f + 1] = s * (xr * yi - xi * yr);
                }
            }
            const double *restrict P = w->ring_x + (last % R) * S;
            double *restrict spec = w->spec;
            for (size_t f = 0; f <= L / 2; f++) {
                spec[2 * f] = P[2 * f] * P[2 * f] + P[2 * f + 1] * P[2 * f + 1];
                spec[2 * f + 1] = 0.0;
            }
            for (long b = (long)t; b < last; b++) {
                const double *restrict D = w->ring_d + (b % R) * S;
                for (size_t f = 0; f < S; f++) spec[f] += D[f];
            }
            for (long b = (long)t; b <= last; b++) energy += w->ring_e[b % R];
        } else {
            for (int i = 0; i < pl->frame; i++) {
                double v = padded(pl, pcm, q0 + i);
                w->buf[i] = v;
                energy += v * v;
            }
            memset(w->buf + pl->frame, 0, (L - (size_t)pl->frame) * sizeof(double));
            bio_fft_forward(&pl->fft, w->buf, w->spec, w->fwork);
            for (size_t f = 0; f <= L / 2; f++) {
                double xr = w->spec[2 * f], xi = w->spec[2 * f + 1];
                w->spec[2 * f] = xr * xr + xi * xi;
                w->spec[2 * f + 1] = 0.0;
            }
        }
        bio_fft_inverse(&pl->fft, w->spec, w->acf, w->fwork);
        for (int i = 0; i < pl->max_period; i++) w->frame[i] = padded(pl, pcm, q0 + i);
        frame_cmnd(pl, w);
        frame_candidates(pl, w, t, fo);
        fo->rms[t] = (float)sqrt(energy / pl->frame);
    }
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
    frames_run(job->pl, job->pcm, job->t0, job->t1, &w, job->fo);
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
    int bs = 0;
    for (int j = 1; j < S; j++)
        if (prev[j] > prev[bs]) bs = j;
    state[T - 1] = bs;
    for (size_t t = T - 1; t > 0; t--) state[t - 1] = ptr[t * S + state[t]];
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
    int bs = 0;
    for (int j = 1; j < S; j++)
        if (prev[j] > prev[bs]) bs = j;
    state[T - 1] = bs;
    for (size_t t = T - 1; t > 0; t--) state[t - 1] = ptr[t * (size_t)S + state[t]];
}

/* The envelope search. With a triangular window the linear-domain weight of
 * unvoiced source k for target j is Q_k (hw + 1 - |j - k|), Q_k =
 * exp(V_k - max V) / rowsum_k (the switch factor is common to all sources of
 * one half). On each side of the diagonal these are line segments whose
 * pairwise differences change sign at most once as j moves away from their
 * sources, so the upper envelope of one side is found for all j in O(N) with
 * a deque (each entry holds the first target it wins). The envelope only
 * chooses the source; its score is then computed in log space exactly as
 * librosa does, and compared exactly with the other candidates. */
typedef struct env_work {
    double *q;    /* [N] */
    double *qm;   /* [N] mirrored */
    int *dk;      /* [N] deque sources */
    int *dfrom;   /* [N] first target each deque entry wins */
    int *rw;      /* [N] best unvoiced source at or below j */
    int *lw;      /* [N] best unvoiced source at or above j */
    int *lwm;     /* [N] mirrored pass output */
    double *best; /* [2N] */
    int *bk;      /* [2N] */
} env_work;

/* For each j in [0, N): the k in [j - hw, j] maximising q[k] (k + hw + 1 - j). */
static void envelope_right(const double *q, int N, int hw, int *dk, int *dfrom, int *win) {
    int head = 0, tail = 0; /* deque dk[head..tail) */
    for (int j = 0; j < N; j++) {
        /* push source k2 = j */
        int k2 = j, from = j;
        double q2 = q[k2], c2 = (double)k2 + hw + 1;
        while (tail > head) {
            int k1 = dk[tail - 1];
            double q1 = q[k1], c1 = (double)k1 + hw + 1;
            long T; /* first j at which k2 beats k1 strictly, or k1 has expired */
            if (q2 >= q1) {
                T = k2;
            } else {
                double x = (q1 * c1 - q2 * c2) / (q1 - q2);
                T = x >= c1 ? (long)c1 : (long)floor(x) + 1;
                if (T < k2) T = k2;
            }
            if (T > (long)c1) T = (long)c1;
            if (T <= dfrom[tail - 1]) {
                tail--;
                continue;
            }
            from = (int)T;
            break;
        }
        if (tail == head) from = k2;
        dk[tail] = k2;
        dfrom[tail] = from;
        tail++;
        while (tail - head >= 2 && dfrom[head + 1] <= j) head++;
        win[j] = dk[head];
    }
}

static inline void take(double c, int K, double *best, int *bk) {
    if (c > *best || (c == *best && K < *bk)) {
        *best = c;
        *bk = K;
    }
}

static void viterbi_envelope(const pyin_plan *pl, const frame_out *fo, size_t T, double *prev, double *cur,
                             double *obs, uint16_t *ptr, int *state, vit_work *vw, env_work *ew) {
    int N = pl->N, S = 2 * N, hw = pl->hw;
    frame_obs(pl, fo, 0, obs);
    for (int j = 0; j < S; j++) prev[j] = obs[j] + (j < N ? pl->log_eps : pl->log_init_u);
    for (size_t t = 1; t < T; t++) {
        frame_obs(pl, fo, t, obs);
        const double *pu = prev + N, *pv = prev;
        double ref = pu[0], gmax;
        for (int k = 1; k < N; k++)
            if (pu[k] > ref) ref = pu[k];
        gmax = ref;
        for (int k = 0; k < N; k++)
            if (pv[k] > gmax) gmax = pv[k];
        for (int k = 0; k < N; k++) {
            ew->q[k] = exp(pu[k] - ref) / pl->row_s[k];
            ew->qm[N - 1 - k] = ew->q[k];
        }
        envelope_right(ew->q, N, hw, ew->dk, ew->dfrom, ew->rw);
        envelope_right(ew->qm, N, hw, ew->dk, ew->dfrom, ew->lwm);
        for (int j = 0; j < N; j++) ew->lw[j] = N - 1 - ew->lwm[N - 1 - j];

        /* Unvoiced sources: the envelope winner of each side, scored exactly.
         * Exact ties between adjacent sources are common (scores built from
         * the same peak) and numpy gives them to the lower index, so a
         * neighbour whose linear-domain weight is within 1e-9 of the winner's
         * is scored exactly too; anything further off cannot tie or win. */
        double lbmin = INFINITY;
        int cand[6];
        for (int j = 0; j < N; j++) {
            int kr = ew->rw[j], kl = ew->lw[j];
            int lo = j - hw < 0 ? 0 : j - hw, hi = j + hw > N - 1 ? N - 1 : j + hw;
            int nc = 0;
            if (ew->q[kr] == 0.0 || ew->q[kl] == 0.0) {
                nc = -1; /* underflow: search the band exactly */
            } else {
                double wr = ew->q[kr] * (hw + 1 - (j - kr)), wl = ew->q[kl] * (hw + 1 - (kl - j));
                double top = wr > wl ? wr : wl, tol = top * 1e-9;
                if (wr >= top - tol) {
                    cand[nc++] = kr;
                    if (kr > lo && ew->q[kr - 1] * (hw + 1 - (j - kr + 1)) >= top - tol) cand[nc++] = kr - 1;
                    if (kr < j && ew->q[kr + 1] * (hw + 1 - (j - kr - 1)) >= top - tol) cand[nc++] = kr + 1;
                }
                if (wl >= top - tol && kl != kr) {
                    cand[nc++] = kl;
                    if (kl > j && ew->q[kl - 1] * (hw + 1 - (kl - 1 - j)) >= top - tol) cand[nc++] = kl - 1;
                    if (kl < hi && ew->q[kl + 1] * (hw + 1 - (kl + 1 - j)) >= top - tol) cand[nc++] = kl + 1;
                }
            }
            for (int hb = 0; hb < 2; hb++) {
                int J = hb * N + j, h = hb == 0; /* sources are unvoiced */
                double best = -INFINITY;
                int bk = S;
                if (nc < 0) {
                    for (int k = lo; k <= hi; k++) take(pu[k] + logt_at(pl, k, h, j - k), N + k, &best, &bk);
                } else {
                    for (int c = 0; c < nc; c++) {
                        int k = cand[c];
                        take(pu[k] + logt_at(pl, k, h, j - k), N + k, &best, &bk);
                    }
                }
                ew->best[J] = best;
                ew->bk[J] = bk;
                if (best < lbmin) lbmin = best;
            }
        }
        /* Voiced sources that could reach some target's current best. They
         * come in ascending order after the unvoiced ones, so a tie goes to
         * this source only over an unvoiced incumbent (index >= N). */
        for (int k = 0; k < N; k++) {
            double v = pv[k];
            if (!(v + pl->logt_max >= lbmin)) continue;
            int lo = k - hw < 0 ? 0 : k - hw, hi = k + hw > N - 1 ? N - 1 : k + hw;
            for (int hb = 0; hb < 2; hb++) {
                const double *restrict lt = pl->logt + ((size_t)pl->row_sid[k] * 2 + (hb == 1)) * pl->n_e;
                double *restrict best = ew->best + (size_t)hb * N;
                int *restrict bk = ew->bk + (size_t)hb * N;
                for (int j = lo; j <= hi; j++) {
                    double c = v + lt[hw + j - k];
                    int up = c > best[j] || (c == best[j] && bk[j] >= N);
                    best[j] = up ? c : best[j];
                    bk[j] = up ? k : bk[j];
                }
            }
        }
        /* outside the band every transition is log(eps) */
        if (gmax + pl->log_eps >= lbmin) {
            for (int h = 0; h < 2; h++) {
                const double *v = prev + (size_t)h * N;
                double *pmv = vw->pmv + (size_t)h * N, *smv = vw->smv + (size_t)h * N;
                int *pmi = vw->pmi + (size_t)h * N, *smi = vw->smi + (size_t)h * N;
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
            for (int J = 0; J < S; J++) {
                int j = J % N, lo = j - hw, hi = j + hw;
                for (int ha = 0; ha < 2; ha++) {
                    size_t o = (size_t)ha * N;
                    if (lo > 0) take(vw->pmv[o + lo - 1] + pl->log_eps, ha * N + vw->pmi[o + lo - 1], &ew->best[J], &ew->bk[J]);
                    if (hi < N - 1)
                        take(vw->smv[o + hi + 1] + pl->log_eps, ha * N + vw->smi[o + hi + 1], &ew->best[J], &ew->bk[J]);
                }
            }
        }
        uint16_t *pt = ptr + t * (size_t)S;
        for (int J = 0; J < S; J++) {
            pt[J] = (uint16_t)ew->bk[J];
            cur[J] = obs[J] + ew->best[J];
        }
        double *tmp = prev;
        prev = cur;
        cur = tmp;
    }
    int bs = 0;
    for (int j = 1; j < S; j++)
        if (prev[j] > prev[bs]) bs = j;
    state[T - 1] = bs;
    for (size_t t = T - 1; t > 0; t--) state[t - 1] = ptr[t * (size_t)S + state[t]];
}

/* ---- driver ------------------------------------------------------------- */

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
    for (size_t i = 0; i < n; i++)
        if (!isfinite(pcm[i]))
            return error_set(err, err_size, TRIDENT_EINVAL, "sample %zu is not a finite number", i);
    bio_pyin_opts none = {0, 0, 0};
    if (!opts) opts = &none;
    pyin_plan pl;
    int rc = plan_init(&pl, n, p, opts->generic_acf, err, err_size);
    if (rc) return rc;
    size_t T = pl.n_frames;
    int N = pl.N, S = 2 * N;
    frame_out fo = {0};
    vit_work vw = {0};
    env_work ew = {0};
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
    prev = malloc((size_t)S * sizeof *prev);
    cur = malloc((size_t)S * sizeof *cur);
    obs = malloc((size_t)S * sizeof *obs);
    ptr = malloc(T * (size_t)S * sizeof *ptr);
    int levels = 1;
    while ((1 << levels) <= N) levels++;
    vw.levels = levels;
    vw.st = malloc((size_t)2 * levels * N * sizeof *vw.st);
    vw.pmv = malloc((size_t)2 * N * sizeof *vw.pmv);
    vw.smv = malloc((size_t)2 * N * sizeof *vw.smv);
    vw.pmi = malloc((size_t)2 * N * sizeof *vw.pmi);
    vw.smi = malloc((size_t)2 * N * sizeof *vw.smi);
    vw.lg = malloc(((size_t)N + 1) * sizeof *vw.lg);
    ew.q = malloc((size_t)N * sizeof *ew.q);
    ew.qm = malloc((size_t)N * sizeof *ew.qm);
    ew.dk = malloc((size_t)N * sizeof *ew.dk);
    ew.dfrom = malloc((size_t)N * sizeof *ew.dfrom);
    ew.rw = malloc((size_t)N * sizeof *ew.rw);
    ew.lw = malloc((size_t)N * sizeof *ew.lw);
    ew.lwm = malloc((size_t)N * sizeof *ew.lwm);
    ew.best = malloc((size_t)S * sizeof *ew.best);
    ew.bk = malloc((size_t)S * sizeof *ew.bk);
    if (!fo.ncand || !fo.cbin || !fo.clog || !fo.ulog || !fo.vprob || !fo.rms || !out->state || !out->bin_hz ||
        !prev || !cur || !obs || !ptr || !vw.st || !vw.pmv || !vw.smv || !vw.pmi || !vw.smi || !vw.lg ||
        !ew.q || !ew.qm || !ew.dk || !ew.dfrom || !ew.rw || !ew.lw || !ew.lwm || !ew.best || !ew.bk)
        goto nomem;
    vw.lg[0] = 0;
    for (int x = 1; x <= N; x++) vw.lg[x] = x == 1 ? 0 : vw.lg[x / 2] + 1;

    if (frames_run_all(&pl, pcm, p->n_threads, &fo)) goto nomem;
    if (opts->dense_viterbi)
        viterbi_dense(&pl, &fo, T, prev, cur, obs, ptr, out->state);
    else if (pl.affine && !opts->banded_viterbi)
        viterbi_envelope(&pl, &fo, T, prev, cur, obs, ptr, out->state, &vw, &ew);
    else
        viterbi_banded(&pl, &fo, T, prev, cur, obs, ptr, out->state, &vw);

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
    free(ew.q);
    free(ew.qm);
    free(ew.dk);
    free(ew.dfrom);
    free(ew.rw);
    free(ew.lw);
    free(ew.lwm);
    free(ew.best);
    free(ew.bk);
    plan_free(&pl);
    if (rc) bio_pyin_out_free(out);
    return rc;
}
