/* pyin.c — probabilistic YIN pitch tracking and RMS, numerically equivalent to
 * librosa 0.11.0's pyin() and feature.rms() (Mauch & Dixon, "pYIN", ICASSP
 * 2014; de Cheveigné & Kawahara, "YIN", JASA 2002).
 *
 * The method, per frame of frame_length samples every hop_length samples
 * (centred: the signal is padded with frame_length/2 zeros on both sides):
 *   1. autocorrelation r(k) of the frame for lags k <= max_period, by FFT;
 *   2. difference d(k) = 2 (r(0) - r(k)) - sum_{m<k} y(m)^2 (d(1) without the
 *      energy term) and the cumulative mean normalised difference (CMND)
 *      d(k) / (mean of d(1..k)) for periods min_period..max_period
 *      (librosa's formulation, quirks included);
 *   3. troughs (local minima) of the CMND, each weighted by a beta(2, 18)
 *      prior over 100 thresholds and a Boltzmann prior over the troughs
 *      below each threshold; the global minimum also takes no_trough_prob
 *      of the thresholds it is above;
 *   4. each trough's period, refined by parabolic interpolation, becomes a
 *      candidate in a 0.1-semitone pitch bin (the longer period wins a
 *      shared bin); the candidates' probabilities sum to the voicing
 *      probability;
 *   5. Viterbi over 2N states (N voiced pitch bins, then their N unvoiced
 *      twins) with a triangular local transition between bins and a
 *      voicing switch probability, every probability p taken as log(p +
 *      DBL_MIN) as librosa does, ties to the lowest state index as numpy's
 *      argmax.
 * RMS comes from the same frames.
 *
 * The Viterbi's one idea. A state's best predecessor is an argmax over 2N
 * sources; split by the voicing of source and target, each of the four
 * parts is an argmax over the N pitch bins k of one half of the previous
 * scores, v[k] + L_k(j - k), where L_k is the log transition of source row
 * k. Inside the band (the bins the triangle reaches) L_k(e) = c_k + F(e),
 * with c_k a constant of the row (its normalisation and the switch
 * probability) and F = log(triangle), which is strictly concave: the
 * differences F(e) - F(e - 1) fall by at least mu > 0 per step. For targets
 * j < j' and sources k < k' in their bands, the score matrix then has
 * A[j][k] + A[j'][k'] - A[j][k'] - A[j'][k] >= mu (c_k and v[k] cancel).
 * Hence the best source (lowest index among equals) never moves down as the
 * target moves up, in exact arithmetic and also in the rounded one: were
 * opt(j) = k' > k = opt(j') for j < j', the rounded comparisons A[j][k'] >
 * A[j][k] and A[j'][k] >= A[j'][k'] would put that combination below 4
 * delta, delta bounding a rounded score's error, and mono_exact checks 8
 * delta < mu for the input's length (true below ~8 x 10^7 frames, a month of audio). So the
 * targets are solved divide and conquer: the middle target by a scan of its
 * band, each half only between the sources found at its ends (mono_search).
 * Sources outside the band (transition log(DBL_MIN)) come from prefix and
 * suffix maxima, and sources too low to reach any target's best are not
 * searched at all (vit_step). Every score is computed with librosa's own operations, so
 * the path is the dense search's, bit for bit (the tests decode the model
 * densely and compare).
 *
 * The file follows the method: numpy/scipy-compatible helpers; the plan
 * (what depends on the parameters only: threshold priors, pitch bins,
 * transition tables, the FFT); the front end of a frame (steps 1-4 and
 * RMS); the decoder (step 5); the entry points. It runs on the calling
 * thread; each call builds its own plan (well under a millisecond). */
#include "bio/pyin.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/floats.h"
#include "bio/fft.h"

/* ---- numpy/scipy-compatible helpers --------------------------------------- */

/* numpy's pairwise summation of a contiguous double array (the order np.sum
 * uses), so that sums round exactly as librosa's do. */
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

/* ---- the plan: everything that depends on the parameters only ------------- */

typedef struct pyin_plan {
    size_t n, n_frames; /* samples, frames */
    int frame, hop, pad;
    int min_period, max_period, n_tau, cap; /* cap: most troughs a frame can have */
    double sr, fmin;
    /* threshold priors */
    int n_thr;
    double *thr;        /* [n_thr + 1] thresholds linspace(0, 1) */
    double *beta_probs; /* [n_thr] beta probability of each threshold interval */
    double *beta_head;  /* [k] = np.sum(beta_probs[:k]), k in [0, n_thr] */
    double *bexp;       /* [cap] exp(-lambda k) */
    double *bfact;      /* [cap + 1] (1 - exp(-lambda)) / (1 - exp(-lambda n)): Boltzmann pmf = bfact[n] bexp[k] */
    double no_trough_prob;
    /* pitch bins and transitions */
    int N;
    double bins_per_octave;
    int hw;             /* the tables hold offsets e = j - k in [-hw, hw] */
    int e_lo, e_hi;     /* the band: offsets with a non-zero window */
    double *logt;       /* [distinct row sums][2][2 hw + 1]: log(switch * window / row sum + DBL_MIN) */
    const double **lt;  /* [2][N]: lt[h N + k][e] from bin k to bin k + e, h = 1 when the voicing switches */
    double mono_mu;     /* the least fall per step of F = log(window) on the band, less a margin */
    double lt_max[2];   /* [h]: the largest entry of the tables h */
    double log_eps;     /* log(DBL_MIN): every impossible transition or observation */
    double log_init_u;  /* log(1/N + DBL_MIN): the initial unvoiced states */
    bio_fft fft;        /* length >= frame + max_period: no circular wrap at the lags used */
} pyin_plan;

static void plan_clear(pyin_plan *pl) {
    free(pl->thr);
    free(pl->beta_probs);
    free(pl->beta_head);
    free(pl->bexp);
    free(pl->bfact);
    free(pl->logt);
    free((void *)pl->lt);
    bio_fft_clear(&pl->fft);
    memset(pl, 0, sizeof *pl);
}

size_t bio_frame_count(size_t n, const bio_params *p) {
    size_t frame = (size_t)p->frame_length, pad = frame / 2;
    if (p->hop_length <= 0 || n + 2 * pad < frame) return 0;
    return 1 + (n + 2 * pad - frame) / (size_t)p->hop_length;
}

/* librosa.sequence.transition_local(N, M, window="triangle", wrap=False)
 * kron'ed with transition_loop(2, 1 - switch_prob): every row k holds the
 * triangle centred on k, cut at the edges and normalised by its row sum,
 * times the same-voicing or switch probability. Rows with equal sums share
 * one table of log(probability + DBL_MIN) by offset. */
static int plan_transitions(pyin_plan *pl, const bio_params *p, char *err, size_t err_size) {
    int N = pl->N;
    double max_semitones = nearbyint(p->max_transition_rate * 12.0 * pl->hop / pl->sr); /* Python's round() */
    double width = max_semitones * ceil(1.0 / p->resolution) + 1.0;
    if (!(width >= 1.0) || width > N)
        return error_set(err, err_size, TRIDENT_EINVAL,
                         "pitch transition width %.0f must be in [1, %d] (max_transition_rate, resolution)", width,
                         N);
    int M = (int)width, hw = M / 2, n_e = 2 * hw + 1;
    pl->hw = hw;
    double *w = malloc((size_t)M * sizeof *w), *val = malloc((size_t)n_e * sizeof *val);
    double *row = calloc((size_t)N, sizeof *row), *sums = malloc((size_t)N * sizeof *sums);
    int *sid = malloc((size_t)N * sizeof *sid);
    pl->logt = malloc((size_t)N * 2 * (size_t)n_e * sizeof *pl->logt);
    pl->lt = malloc((size_t)2 * N * sizeof *pl->lt);
    int rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory building pYIN transitions");
    if (!w || !val || !row || !sums || !sid || !pl->logt || !pl->lt) goto done;
    triang(M, w);
    /* pad_center to N, then np.roll by N//2 + k + 1: row k holds at column
     * k + e the padded window at ((e - N//2 - 1) mod N) - lpad */
    int lpad = (N - M) / 2;
    pl->e_lo = hw + 1;
    pl->e_hi = -hw - 1;
    for (int e = -hw; e <= hw; e++) {
        long q = (((long)e - N / 2 - 1) % N + N) % N - lpad;
        val[e + hw] = (q >= 0 && q < M) ? w[q] : 0.0;
        if (val[e + hw] > 0.0) {
            pl->e_lo = e < pl->e_lo ? e : pl->e_lo;
            pl->e_hi = e;
        }
    }
    /* mu: the least -F'' step of F = log(window) on the band (a zero inside
     * the band makes it negative), less 1e-12 for the rounding of log */
    pl->mono_mu = INFINITY;
    for (int e = pl->e_lo + 1; e < pl->e_hi; e++) {
        double *v = val + hw + e;
        double d = v[0] > 0.0 ? 2.0 * log(v[0]) - log(v[-1]) - log(v[1]) : -1.0;
        pl->mono_mu = d < pl->mono_mu ? d : pl->mono_mu;
    }
    pl->mono_mu -= 1e-12;
    double p_same = 1.0 - p->switch_prob, ts[2] = {p_same, (1.0 - p_same) / 1.0};
    /* the argument also needs every table entry to be log(switch) +
     * log(window) - log(row sum) to a few ulp: no product near DBL_MIN */
    double wmin = INFINITY;
    for (int e = pl->e_lo; e <= pl->e_hi; e++) wmin = val[e + hw] < wmin ? val[e + hw] : wmin;
    int n_sid = 0;
    for (int k = 0; k < N; k++) {
        int lo = k - hw < 0 ? 0 : k - hw, hi = k + hw > N - 1 ? N - 1 : k + hw;
        for (int j = lo; j <= hi; j++) row[j] = val[j - k + hw];
        double s = np_pairwise_sum(row, (size_t)N);
        for (int j = lo; j <= hi; j++) row[j] = 0.0;
        for (sid[k] = 0; sid[k] < n_sid && sums[sid[k]] != s; sid[k]++) {
        }
        if (sid[k] < n_sid) continue;
        sums[n_sid++] = s;
        if (!((ts[0] < ts[1] ? ts[0] : ts[1]) * wmin / s >= 0x1p-960)) pl->mono_mu = -1.0;
        for (int h = 0; h < 2; h++)
            for (int e = 0; e < n_e; e++)
                pl->logt[((size_t)sid[k] * 2 + h) * n_e + e] = log(ts[h] * (val[e] / s) + DBL_MIN);
    }
    for (int h = 0; h < 2; h++) {
        pl->lt_max[h] = -INFINITY;
        for (int k = 0; k < N; k++) {
            pl->lt[(size_t)h * N + k] = pl->logt + ((size_t)sid[k] * 2 + h) * n_e + hw;
            for (int e = -hw; e <= hw; e++)
                pl->lt_max[h] = pl->lt[(size_t)h * N + k][e] > pl->lt_max[h] ? pl->lt[(size_t)h * N + k][e] : pl->lt_max[h];
        }
    }
    rc = 0;
    if (!(pl->mono_mu > 0.0))
        rc = error_set(err, err_size, TRIDENT_EINVAL,
                       "the pitch transition must be log-concave and far above DBL_MIN for exact decoding "
                       "(max_transition_rate, resolution, switch_prob)");
done:
    free(w);
    free(val);
    free(row);
    free(sums);
    free(sid);
    return rc;
}

static int plan_init(pyin_plan *pl, size_t n, const bio_params *p, char *err, size_t err_size) {
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
    pl->cap = (pl->n_tau + 1) / 2; /* troughs are never adjacent */
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
    /* np.linspace(0, 1, nt + 1): i * step, the last exactly 1; beta_probs
     * = np.diff(scipy.stats.beta.cdf(thresholds, a, b)) */
    double step = 1.0 / nt;
    for (int i = 0; i <= nt; i++) pl->thr[i] = i * step;
    pl->thr[nt] = 1.0;
    double prev = bio_betainc(p->beta_a, p->beta_b, pl->thr[0]);
    for (int i = 0; i < nt; i++) {
        double c = bio_betainc(p->beta_a, p->beta_b, pl->thr[i + 1]);
        pl->beta_probs[i] = c - prev;
        prev = c;
    }
    for (int k = 0; k <= nt; k++) pl->beta_head[k] = np_pairwise_sum(pl->beta_probs, (size_t)k);
    /* scipy.stats.boltzmann.pmf(k, lambda, n) = fact(n) * exp(-lambda k) */
    double lam = p->boltzmann_parameter;
    for (int k = 0; k < pl->cap; k++) pl->bexp[k] = exp(-lam * k);
    pl->bfact[0] = 0.0;
    for (int k = 1; k <= pl->cap; k++) pl->bfact[k] = (1.0 - exp(-lam)) / (1.0 - exp(-lam * k));

    int rc = plan_transitions(pl, p, err, err_size);
    if (rc) {
        plan_clear(pl);
        return rc;
    }
    size_t L = 8;
    while (L < (size_t)pl->frame + (size_t)pl->max_period) L *= 2;
    if (bio_fft_init(&pl->fft, L)) goto nomem;
    return 0;
nomem:
    plan_clear(pl);
    return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory planning pYIN");
}

/* ---- the front end: a frame's autocorrelation, CMND, troughs, candidates --- */

/* What the decoder needs of every frame (arrays of n_frames, or n_frames
 * cap for the candidates). */
typedef struct frame_obs {
    int *ncand;    /* candidates per frame */
    int *cbin;     /* their pitch bins, ascending */
    double *clog;  /* log(probability + DBL_MIN) */
    double *ulog;  /* log((1 - voiced_prob)/N + DBL_MIN): every unvoiced state */
    double *vprob; /* voicing probability */
    float *rms;
} frame_obs;

static void obs_clear(frame_obs *fo) {
    free(fo->ncand);
    free(fo->cbin);
    free(fo->clog);
    free(fo->ulog);
    free(fo->vprob);
    free(fo->rms);
    memset(fo, 0, sizeof *fo);
}

/* The front end's scratch, for one frame at a time. */
typedef struct frame_work {
    double *buf;   /* [L]: the frame, zero-padded; then its autocorrelation */
    double *Xr;    /* [L/2 + 1]: spectrum, then power spectrum */
    double *Xi;    /* [L/2 + 1] */
    double *fwork; /* [L] */
    double *dk;    /* [max_period + 1]: difference function */
    double *run;   /* [max_period + 1]: its running sums */
    double *yin;   /* [n_tau]: CMND at periods min_period.. */
    double *y0;    /* [max_period]: the frame's first samples */
    int *trough;   /* [cap] */
    double *hgt;   /* [cap]: their CMND values */
    double *prob;  /* [cap] */
    int *cb;       /* [cap] */
    double *cp;    /* [cap] */
} frame_work;

static void work_clear(frame_work *w) {
    void *a[] = {w->buf, w->Xr, w->Xi, w->fwork, w->dk, w->run, w->yin, w->y0, w->trough, w->hgt, w->prob, w->cb, w->cp};
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) free(a[i]);
    memset(w, 0, sizeof *w);
}

static int work_init(frame_work *w, const pyin_plan *pl) {
    size_t L = pl->fft.n, P = (size_t)pl->max_period + 1, C = (size_t)pl->cap;
    w->buf = malloc(L * sizeof(double));
    w->Xr = malloc((L / 2 + 1) * sizeof(double));
    w->Xi = malloc((L / 2 + 1) * sizeof(double));
    w->fwork = malloc(L * sizeof(double));
    w->dk = malloc(P * sizeof(double));
    w->run = malloc(P * sizeof(double));
    w->yin = malloc((size_t)pl->n_tau * sizeof(double));
    w->y0 = malloc(P * sizeof(double));
    w->trough = malloc(C * sizeof(int));
    w->hgt = malloc(C * sizeof(double));
    w->prob = malloc(C * sizeof(double));
    w->cb = malloc(C * sizeof(int));
    w->cp = malloc(C * sizeof(double));
    if (!w->buf || !w->Xr || !w->Xi || !w->fwork || !w->dk || !w->run || !w->yin || !w->y0 || !w->trough ||
        !w->hgt || !w->prob || !w->cb || !w->cp) {
        work_clear(w);
        return TRIDENT_ENOMEM;
    }
    return 0;
}

/* Step 1 and RMS: frame t of the zero-padded signal into w->buf (then its
 * autocorrelation r(0..max_period)) and w->y0; returns the frame's energy. */
static double frame_acf(const pyin_plan *pl, const float *pcm, size_t t, frame_work *w) {
    size_t L = pl->fft.n, m = L / 2;
    /* samples [a, b) of the frame exist; zeros around them (q0 <= n) */
    long q0 = (long)(t * (size_t)pl->hop) - pl->pad, a = q0 < 0 ? -q0 : 0;
    long b = q0 + pl->frame > (long)pl->n ? (long)pl->n - q0 : pl->frame;
    memset(w->buf, 0, (size_t)a * sizeof(double));
    for (long i = a; i < b; i++) w->buf[i] = (double)pcm[q0 + i];
    memset(w->buf + b, 0, (L - (size_t)b) * sizeof(double));
    double e[4] = {0.0, 0.0, 0.0, 0.0}; /* four partial sums: no single long chain of additions */
    for (long i = a; i < b; i++) e[i & 3] += w->buf[i] * w->buf[i];
    double energy = (e[0] + e[1]) + (e[2] + e[3]);
    memcpy(w->y0, w->buf, (size_t)pl->max_period * sizeof(double));
    bio_fft_forward(&pl->fft, w->buf, w->Xr, w->Xi, w->fwork);
    for (size_t k = 0; k <= m; k++) {
        w->Xr[k] = w->Xr[k] * w->Xr[k] + w->Xi[k] * w->Xi[k];
        w->Xi[k] = 0.0;
    }
    bio_fft_inverse(&pl->fft, w->Xr, w->Xi, w->buf, w->fwork);
    return energy;
}

/* Step 2: the CMND of the frame into w->yin, from r = w->buf and w->y0. */
static void frame_cmnd(const pyin_plan *pl, frame_work *w) {
    int maxp = pl->max_period, minp = pl->min_period;
    const double *r = w->buf, *y = w->y0;
    double *dk = w->dk, *run = w->run;
    /* d(k) = 2 (r(0) - r(k)) - sum_{m<k} y(m)^2, except that librosa zeroes
     * the running energy's first entry in place before using it, so d(1)
     * has no energy term at all. run[k] = d(1) + ... + d(k), in order. */
    double csum = y[0] * y[0];
    dk[1] = 2 * (r[0] - r[1]);
    run[1] = 0.0 + dk[1];
    for (int k = 2; k <= maxp; k++) {
        csum += y[k - 1] * y[k - 1];
        dk[k] = 2 * (r[0] - r[k]) - csum;
        run[k] = run[k - 1] + dk[k];
    }
    for (int k = minp; k <= maxp; k++) w->yin[k - minp] = dk[k] / (run[k] / k + DBL_MIN);
}

/* Steps 3 and 4: the troughs of the CMND, their probabilities, and frame
 * t's pitch candidates and voicing probability into fo. */
static void frame_candidates(const pyin_plan *pl, frame_work *w, size_t t, frame_obs *fo) {
    const double *yin = w->yin;
    int n_tau = pl->n_tau, nt = pl->n_thr, M = 0;
    /* util.localmin (yin[i] < yin[i - 1] and yin[i] <= yin[i + 1], the ends
     * padded with their own value), with is_trough[0] = yin[0] < yin[1] */
    if (yin[0] < yin[1]) w->trough[M++] = 0;
    for (int i = 1; i < n_tau - 1; i++)
        if (yin[i] < yin[i - 1] && yin[i] <= yin[i + 1]) w->trough[M++] = i;
    if (yin[n_tau - 1] < yin[n_tau - 2]) w->trough[M++] = n_tau - 1;
    /* Threshold i (thr[i], i in 1..nt) gives the n troughs below it the
     * Boltzmann prior of their rank among them, weighted by beta_probs[i -
     * 1]: probs = trough_prior.dot(beta_probs), summed over i in order. */
    double *hgt = w->hgt;
    int gmin = 0;
    for (int m = 0; m < M; m++) {
        hgt[m] = yin[w->trough[m]];
        w->prob[m] = 0.0;
        gmin = hgt[m] < hgt[gmin] ? m : gmin;
    }
    int above = 0; /* thresholds the lowest trough is not below: none is below them */
    for (int i = 1; i <= nt && M > 0; i++) above += !(hgt[gmin] < pl->thr[i]);
    for (int i = above + 1; i <= nt && M > 0; i++) {
        int n = 0;
        for (int m = 0; m < M; m++) n += hgt[m] < pl->thr[i];
        for (int m = 0, rank = 0; rank < n; m++)
            if (hgt[m] < pl->thr[i]) w->prob[m] += pl->bfact[n] * pl->bexp[rank++] * pl->beta_probs[i - 1];
    }
    /* the global minimum takes no_trough_prob of the thresholds it is not below */
    if (M > 0) w->prob[gmin] += pl->no_trough_prob * pl->beta_head[above];
    /* Candidates: the pitch bin of each trough with a non-zero probability,
     * walking the troughs backwards so that bins come out ascending (a
     * longer period is a lower pitch) and the longer period keeps a shared
     * bin (librosa's later assignment wins). */
    int nc = 0;
    for (int m = M - 1; m >= 0; m--) {
        if (w->prob[m] == 0.0) continue;
        int i = w->trough[m];
        double shift = 0.0; /* parabolic interpolation; none at the ends */
        if (i > 0 && i < n_tau - 1) {
            double a = yin[i + 1] + yin[i - 1] - 2 * yin[i];
            double b = (yin[i + 1] - yin[i - 1]) / 2;
            shift = fabs(b) >= fabs(a) ? 0.0 : -b / a;
        }
        double f0 = pl->sr / ((double)(pl->min_period + i) + shift);
        double bin = nearbyint(pl->bins_per_octave * log2(f0 / pl->fmin));
        if (bin < 0) bin = 0;
        if (bin >= pl->N) continue; /* clipped to N: an unvoiced state, overwritten by librosa */
        if (nc > 0 && w->cb[nc - 1] == (int)bin) continue;
        w->cb[nc] = (int)bin;
        w->cp[nc] = w->prob[m];
        nc++;
    }
    int *cb = fo->cbin + t * (size_t)pl->cap;
    double *cl = fo->clog + t * (size_t)pl->cap, vp = 0.0;
    for (int c = 0; c < nc; c++) {
        vp += w->cp[c];
        cb[c] = w->cb[c];
        cl[c] = log(w->cp[c] + DBL_MIN);
    }
    vp = vp < 0.0 ? 0.0 : vp > 1.0 ? 1.0 : vp;
    fo->ncand[t] = nc;
    fo->vprob[t] = vp;
    fo->ulog[t] = log((1.0 - vp) / pl->N + DBL_MIN);
}

/* The front end of every frame into fo (allocated here; obs_clear releases
 * it). Returns 0 or TRIDENT_ENOMEM. */
static int frames_run(const pyin_plan *pl, const float *pcm, frame_obs *fo) {
    size_t T = pl->n_frames, C = (size_t)pl->cap;
    frame_work w;
    memset(fo, 0, sizeof *fo);
    fo->ncand = malloc(T * sizeof *fo->ncand);
    fo->cbin = malloc(T * C * sizeof *fo->cbin);
    fo->clog = malloc(T * C * sizeof *fo->clog);
    fo->ulog = malloc(T * sizeof *fo->ulog);
    fo->vprob = malloc(T * sizeof *fo->vprob);
    fo->rms = malloc(T * sizeof *fo->rms);
    if (!fo->ncand || !fo->cbin || !fo->clog || !fo->ulog || !fo->vprob || !fo->rms || work_init(&w, pl)) {
        obs_clear(fo);
        return TRIDENT_ENOMEM;
    }
    for (size_t t = 0; t < T; t++) {
        double energy = frame_acf(pl, pcm, t, &w);
        frame_cmnd(pl, &w);
        frame_candidates(pl, &w, t, fo);
        fo->rms[t] = (float)sqrt(energy / pl->frame);
    }
    work_clear(&w);
    return 0;
}

/* ---- the decoder: the monotone Viterbi search and the backtrace ------------ */

/* Whether the search is exact for T frames: every score lies in [2 (T + 1)
 * log eps, 0] (a frame adds at worst a log eps observation and a log eps
 * transition), so a rounded score plus a transition is within delta = 1e-13
 * (a table entry's error: the log of a product above 2^-960, so above -666)
 * + 2^-52 |2 (T + 2) log eps| of the exact one; see the top comment. */
static int mono_exact(const pyin_plan *pl, size_t T) {
    double delta = 1e-13 + 0x1p-52 * -2.0 * pl->log_eps * ((double)T + 2.0);
    return 8.0 * delta < pl->mono_mu;
}

/* One part of a Viterbi step: sources v (one half of the previous scores)
 * reaching targets of one half through the tables lt (h of the plan), the
 * sources to search in ks (ascending bins), and where the best source of
 * each target goes: its score in best, its bin in arg (-1: none in the
 * band). */
typedef struct mono_part {
    const double *v;
    const double *const *lt;
    const int *ks;
    int e_lo, e_hi;
    double *best;
    int *arg;
} mono_part;

/* The best source of each target j in [jlo, jhi] among ks[ilo..ihi] and its
 * band [j - e_hi, j - e_lo]. The middle target scans the range; the targets
 * below it need only the sources up to its best, those above only the
 * sources from it (the top comment's argument holds for any subset of the
 * sources). A range of one source is every target's best where the band
 * reaches it. */
static void mono_search(const mono_part *p, int jlo, int jhi, int ilo, int ihi) {
    while (jlo <= jhi) {
        if (ilo >= ihi) {
            for (int j = jlo; j <= jhi; j++) {
                int k = ilo == ihi ? p->ks[ilo] : -1, in = k >= 0 && k >= j - p->e_hi && k <= j - p->e_lo;
                p->best[j] = in ? p->v[k] + p->lt[k][j - k] : -INFINITY;
                p->arg[j] = in ? k : -1;
            }
            return;
        }
        int j = jlo + (jhi - jlo) / 2, i0 = ilo, i1 = ihi, im = -1;
        while (i0 <= ihi && p->ks[i0] < j - p->e_hi) i0++;
        while (i1 >= i0 && p->ks[i1] > j - p->e_lo) i1--;
        double m = -INFINITY;
        if (i0 <= i1) {
            im = i0;
            m = p->v[p->ks[i0]] + p->lt[p->ks[i0]][j - p->ks[i0]];
        }
        for (int i = i0 + 1; i <= i1; i++) {
            int k = p->ks[i];
            double x = p->v[k] + p->lt[k][j - k];
            if (x > m) {
                m = x;
                im = i;
            }
        }
        p->best[j] = m;
        p->arg[j] = im < 0 ? -1 : p->ks[im];
        if (jlo < j) mono_search(p, jlo, j - 1, ilo, im < 0 ? ihi : im);
        jlo = j + 1; /* then the targets above, in this loop */
        ilo = im < 0 ? ilo : im;
    }
}

/* The decoder's scratch. */
typedef struct vit_work {
    double *pmv, *smv; /* [2N]: prefix and suffix maxima of each half of the previous scores */
    int *pmi, *smi;    /* [2N]: the first index reaching them */
    int *ks;           /* [N]: the sources one part searches */
    double *mb;        /* [N]: the part's best in-band score per target */
    int *mk;           /* [N]: its source */
    double *best;      /* [N]: one target half's best predecessor score */
    int *bk;           /* [N]: its state */
    double *obs;       /* [2N]: the frame's log observations */
} vit_work;

static void vit_clear(vit_work *vw) {
    void *a[] = {vw->pmv, vw->smv, vw->pmi, vw->smi, vw->ks, vw->mb, vw->mk, vw->best, vw->bk, vw->obs};
    for (size_t i = 0; i < sizeof a / sizeof a[0]; i++) free(a[i]);
    memset(vw, 0, sizeof *vw);
}

static int vit_init(vit_work *vw, int N) {
    size_t n = (size_t)N;
    vw->pmv = malloc(2 * n * sizeof(double));
    vw->smv = malloc(2 * n * sizeof(double));
    vw->pmi = malloc(2 * n * sizeof(int));
    vw->smi = malloc(2 * n * sizeof(int));
    vw->ks = malloc(n * sizeof(int));
    vw->mb = malloc(n * sizeof(double));
    vw->mk = malloc(n * sizeof(int));
    vw->best = malloc(n * sizeof(double));
    vw->bk = malloc(n * sizeof(int));
    vw->obs = malloc(2 * n * sizeof(double));
    if (!vw->pmv || !vw->smv || !vw->pmi || !vw->smi || !vw->ks || !vw->mb || !vw->mk || !vw->best || !vw->bk ||
        !vw->obs) {
        vit_clear(vw);
        return TRIDENT_ENOMEM;
    }
    return 0;
}

/* Frame t's log observations into obs[2N]: a voiced state's candidate, or
 * log eps; every unvoiced state the same. */
static void frame_log_obs(const pyin_plan *pl, const frame_obs *fo, size_t t, double *obs) {
    int N = pl->N;
    for (int j = 0; j < N; j++) obs[j] = pl->log_eps;
    for (int c = 0; c < fo->ncand[t]; c++) obs[fo->cbin[t * (size_t)pl->cap + c]] = fo->clog[t * (size_t)pl->cap + c];
    for (int j = N; j < 2 * N; j++) obs[j] = fo->ulog[t];
}

/* Prefix maxima of v[0..N) (pmv, the first index reaching them in pmi) and
 * suffix maxima (smv, smi): the best sources outside a target's band. */
static void oob_maxima(const double *v, int N, double *pmv, int *pmi, double *smv, int *smi) {
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

/* Offers predecessor state K with score c: it wins on a larger score, or on
 * an equal one with a lower index (numpy's argmax). */
static void take(double c, int K, double *best, int *bk) {
    if (c > *best || (c == *best && K < *bk)) {
        *best = c;
        *bk = K;
    }
}

/* One Viterbi step: cur[J] = obs[J] + max_K (prev[K] + log trans(K -> J))
 * for every state J, its argmax into ptr[J]. For each half of the targets,
 * the unvoiced sources come first; their best scores (bmin, the least of
 * them) then rule out every source whose score plus the largest transition
 * stays below bmin: such a source can neither beat nor tie any target's
 * best (rounding is monotone). That skips the voiced states without a
 * candidate (their observation is log eps) and, nearly always, the sources
 * outside the band. */
static void vit_step(const pyin_plan *pl, const double *prev, const double *obs, double *cur, uint16_t *ptr,
                     vit_work *vw) {
    int N = pl->N, have_oob[2] = {0, 0};
    double vmax[2] = {-INFINITY, -INFINITY};
    for (int K = 0; K < 2 * N; K++) vmax[K >= N] = prev[K] > vmax[K >= N] ? prev[K] : vmax[K >= N];
    for (int hb = 0; hb < 2; hb++) {
        double *best = vw->best, bmin = -INFINITY;
        int *bk = vw->bk;
        for (int j = 0; j < N; j++) {
            best[j] = -INFINITY;
            bk[j] = 2 * N;
        }
        for (int ha = 1; ha >= 0; ha--) {
            size_t o = (size_t)ha * N;
            const double *v = prev + o;
            double reach = pl->lt_max[ha != hb];
            int n = 0;
            for (int k = 0; k < N; k++)
                if (v[k] + reach >= bmin) vw->ks[n++] = k;
            mono_part part = {v, pl->lt + (size_t)(ha != hb) * N, vw->ks, pl->e_lo, pl->e_hi, vw->mb, vw->mk};
            mono_search(&part, 0, N - 1, 0, n - 1);
            for (int j = 0; j < N; j++)
                if (vw->mk[j] >= 0) take(vw->mb[j], (int)o + vw->mk[j], &best[j], &bk[j]);
            bmin = INFINITY;
            for (int j = 0; j < N; j++) bmin = best[j] < bmin ? best[j] : bmin;
            if (vmax[ha] + pl->log_eps < bmin) continue;
            if (!have_oob[ha]) oob_maxima(v, N, vw->pmv + o, vw->pmi + o, vw->smv + o, vw->smi + o);
            have_oob[ha] = 1;
            for (int j = 0; j < N; j++) {
                int below = j - pl->e_hi - 1, above = j - pl->e_lo + 1; /* the nearest sources out of the band */
                if (below >= 0) take(vw->pmv[o + below] + pl->log_eps, (int)o + vw->pmi[o + below], &best[j], &bk[j]);
                if (above < N) take(vw->smv[o + above] + pl->log_eps, (int)o + vw->smi[o + above], &best[j], &bk[j]);
            }
        }
        for (int j = 0; j < N; j++) {
            cur[hb * N + j] = obs[hb * N + j] + best[j];
            ptr[hb * N + j] = (uint16_t)bk[j];
        }
    }
}

/* The Viterbi decoding of every frame into state (T entries). Returns 0 or
 * TRIDENT_ENOMEM. */
static int viterbi(const pyin_plan *pl, const frame_obs *fo, int *state) {
    size_t T = pl->n_frames;
    int N = pl->N, S = 2 * N;
    vit_work vw;
    double *prev = malloc((size_t)S * sizeof *prev), *cur = malloc((size_t)S * sizeof *cur);
    uint16_t *ptr = malloc(T * (size_t)S * sizeof *ptr);
    int rc = TRIDENT_ENOMEM;
    if (!prev || !cur || !ptr || vit_init(&vw, N)) goto done;
    frame_log_obs(pl, fo, 0, vw.obs);
    for (int j = 0; j < S; j++) prev[j] = vw.obs[j] + (j < N ? pl->log_eps : pl->log_init_u);
    for (size_t t = 1; t < T; t++) {
        frame_log_obs(pl, fo, t, vw.obs);
        vit_step(pl, prev, vw.obs, cur, ptr + t * (size_t)S, &vw);
        double *x = prev;
        prev = cur;
        cur = x;
    }
    /* backtrace from the best final state (the lowest index among equals) */
    int s = 0;
    for (int j = 1; j < S; j++) s = prev[j] > prev[s] ? j : s;
    state[T - 1] = s;
    for (size_t t = T - 1; t > 0; t--) state[t - 1] = ptr[t * (size_t)S + state[t]];
    vit_clear(&vw);
    rc = 0;
done:
    free(prev);
    free(cur);
    free(ptr);
    return rc;
}

/* ---- entry points ------------------------------------------------------------ */

/* The checks, the plan and the front end shared by bio_pyin_run and
 * bio_pyin_hmm_build. On success the caller releases pl and fo. */
static int pyin_observe(const float *pcm, size_t n, const bio_params *p, pyin_plan *pl, frame_obs *fo, char *err,
                        size_t err_size) {
    if (!pcm && n > 0) return error_set(err, err_size, TRIDENT_EINVAL, "no samples given");
    size_t bad = n ? floats_first_nonfinite(pcm, n) : 0;
    if (bad < n) return error_set(err, err_size, TRIDENT_EINVAL, "sample %zu is not a finite number", bad);
    int rc = plan_init(pl, n, p, err, err_size);
    if (rc) return rc;
    if (2 * pl->N > UINT16_MAX || !mono_exact(pl, pl->n_frames)) {
        plan_clear(pl);
        return error_set(err, err_size, TRIDENT_EINVAL,
                         "%d pitch bins over %zu frames is beyond exact decoding (input too long?)", pl->N,
                         pl->n_frames);
    }
    if (frames_run(pl, pcm, fo)) {
        plan_clear(pl);
        return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory running pYIN on %zu samples", n);
    }
    return 0;
}

void bio_pyin_out_clear(bio_pyin_out *out) {
    if (!out) return;
    free(out->state);
    free(out->voiced_prob);
    free(out->rms);
    free(out->bin_hz);
    memset(out, 0, sizeof *out);
}

int bio_pyin_run(const float *pcm, size_t n, const bio_params *p, bio_pyin_out *out, char *err,
                 size_t err_size) {
    memset(out, 0, sizeof *out);
    pyin_plan pl;
    frame_obs fo;
    int rc = pyin_observe(pcm, n, p, &pl, &fo, err, err_size);
    if (rc) return rc;
    size_t T = pl.n_frames;
    int N = pl.N;
    out->state = malloc(T * sizeof *out->state);
    out->bin_hz = malloc((size_t)N * sizeof *out->bin_hz);
    if (!out->state || !out->bin_hz || viterbi(&pl, &fo, out->state)) {
        rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory decoding pYIN on %zu samples", n);
        bio_pyin_out_clear(out);
    } else {
        for (int k = 0; k < N; k++) out->bin_hz[k] = pl.fmin * pow(2.0, k / pl.bins_per_octave);
        out->n_frames = T;
        out->n_pitch_bins = N;
        out->voiced_prob = fo.vprob;
        out->rms = fo.rms;
        fo.vprob = NULL;
        fo.rms = NULL;
    }
    obs_clear(&fo);
    plan_clear(&pl);
    return rc;
}

void bio_pyin_hmm_clear(bio_pyin_hmm *hmm) {
    if (!hmm) return;
    free(hmm->log_init);
    free(hmm->log_trans);
    free(hmm->log_obs);
    memset(hmm, 0, sizeof *hmm);
}

int bio_pyin_hmm_build(const float *pcm, size_t n, const bio_params *p, bio_pyin_hmm *hmm, char *err,
                       size_t err_size) {
    memset(hmm, 0, sizeof *hmm);
    pyin_plan pl;
    frame_obs fo;
    int rc = pyin_observe(pcm, n, p, &pl, &fo, err, err_size);
    if (rc) return rc;
    size_t T = pl.n_frames, N = (size_t)pl.N, S = 2 * N;
    hmm->log_init = malloc(S * sizeof *hmm->log_init);
    hmm->log_trans = malloc(S * S * sizeof *hmm->log_trans);
    hmm->log_obs = malloc(T * S * sizeof *hmm->log_obs);
    if (!hmm->log_init || !hmm->log_trans || !hmm->log_obs) {
        rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory for the pYIN model of %zu frames", T);
        bio_pyin_hmm_clear(hmm);
    } else {
        hmm->n_frames = T;
        hmm->n_states = (int)S;
        for (size_t j = 0; j < S; j++) hmm->log_init[j] = j < N ? pl.log_eps : pl.log_init_u;
        for (size_t K = 0; K < S; K++)
            for (size_t J = 0; J < S; J++) {
                long e = (long)(J % N) - (long)(K % N);
                int h = (K < N) != (J < N);
                hmm->log_trans[K * S + J] = e >= -pl.hw && e <= pl.hw ? pl.lt[h * N + K % N][e] : pl.log_eps;
            }
        for (size_t t = 0; t < T; t++) frame_log_obs(&pl, &fo, t, hmm->log_obs + t * S);
    }
    obs_clear(&fo);
    plan_clear(&pl);
    return rc;
}
