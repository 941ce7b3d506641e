/* kernels_attention.c — multi-head scaled dot-product attention over the thread pool.
 *
 * Long non-causal query runs (the encoder's 1500×1500 per head) take the blocked
 * path: each head's keys and values are first packed once into GEMM panels; then
 * a task takes QB queries of one head, computes their scores against every key
 * with the GEMM micro-kernel into a per-thread QB × n_kv buffer (≤ 300 KB, it
 * stays in L2), exponentiates them in place (the softmax's normalisation is
 * applied to the output rows instead of the scores) and multiplies them by the
 * packed values, KC keys at a time. Short runs (decoder steps, prompts, causal)
 * and 16-bit keys/values (whisper_kv16) go row by row: scores, softmax, weighted
 * sum of values.
 * A decoder step can fuse its projections in: one task per head computes the
 * head's slices of Q (and K, V) and then its attention, one pool run in all. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "whisper/kernels.h"
#include "whisper/kernels_impl.h"

#define QB 48           /* queries per blocked task (a multiple of MR) */
#define KV_KC 256       /* keys per slice of the P·V product */
#define BLOCKED_MIN_Q 64
#define ROW_Q_BLOCK 16

/* Elements from one head's first key (value) to the next head's. */
static size_t kv_head(const whisper_attention_args *a) { return a->kv_head ? a->kv_head : (size_t)a->d_head; }

/* ---- row by row ---- */

typedef struct {
    const whisper_kernel_variant *v;
    const whisper_attention_args *a;
    const whisper_kv16 *kv; /* 16-bit keys and values instead of a->k / a->v, or NULL */
    float *scratch;
    int q_blocks;
} row_job;

static void row_task(void *ctx, int task, int thread) {
    const row_job *j = ctx;
    const whisper_attention_args *a = j->a;
    int h = task / j->q_blocks, qb = task % j->q_blocks;
    int i0 = qb * ROW_Q_BLOCK, i1 = i0 + ROW_Q_BLOCK < a->n_q ? i0 + ROW_Q_BLOCK : a->n_q;
    int dh = a->d_head;
    float scale = 1.0f / sqrtf((float)dh);
    float *s = j->scratch + (size_t)thread * a->n_kv;
    for (int i = i0; i < i1; i++) {
        const float *q = a->q + (size_t)i * a->ldq + (size_t)h * dh;
        int n_keys = a->causal ? a->n_kv - a->n_q + i + 1 : a->n_kv;
        if (j->kv)
            j->v->scores_i16(s, q, j->kv->k + h * kv_head(a), a->ldk, j->kv->k_scale + h * kv_head(a) / (size_t)dh,
                             a->ldk / dh, n_keys, dh, scale);
        else
            j->v->scores(s, q, a->k + h * kv_head(a), a->ldk, n_keys, dh, scale);
        whisper_softmax(s, n_keys);
        float *o = a->out + (size_t)i * a->ldo + (size_t)h * dh;
        if (j->kv)
            j->v->weighted_sum_f16(o, s, j->kv->v + h * kv_head(a), a->ldv, n_keys, dh);
        else
            j->v->weighted_sum(o, s, a->v + h * kv_head(a), a->ldv, n_keys, dh);
    }
}

/* ---- blocked ---- */

typedef struct {
    const whisper_kernel_variant *v;
    const whisper_attention_args *a;
    float *kp, *vp;          /* packed keys [head][key panel][d_head][NR], values [head][dim panel][n_kv][NR] */
    size_t kp_head, vp_head; /* floats per head */
    int k_panels, v_panels, q_blocks;
    float *scores;           /* per thread: QB × n_kv */
} blocked_job;

static void pack_task(void *ctx, int h, int thread) {
    (void)thread;
    const blocked_job *j = ctx;
    const whisper_attention_args *a = j->a;
    const int NR = WHISPER_GEMM_NR;
    int dh = a->d_head;
    for (int p = 0; p < j->k_panels; p++) {
        int nr = a->n_kv - p * NR < NR ? a->n_kv - p * NR : NR;
        whisper_pack_f32(j->kp + h * j->kp_head + (size_t)p * dh * NR, a->k + h * kv_head(a), a->ldk, 1, p * NR, nr,
                         0, dh);
    }
    for (int p = 0; p < j->v_panels; p++) {
        int nr = dh - p * NR < NR ? dh - p * NR : NR;
        whisper_pack_f32(j->vp + h * j->vp_head + (size_t)p * a->n_kv * NR, a->v + h * kv_head(a), a->ldv, 0, p * NR,
                         nr, 0, a->n_kv);
    }
}

static void blocked_task(void *ctx, int task, int thread) {
    const blocked_job *j = ctx;
    const whisper_attention_args *a = j->a;
    const int MR = WHISPER_GEMM_MR, NR = WHISPER_GEMM_NR;
    int h = task / j->q_blocks, qb = task % j->q_blocks, dh = a->d_head, n_kv = a->n_kv;
    int i0 = qb * QB, i1 = i0 + QB < a->n_q ? i0 + QB : a->n_q;
    float *S = j->scores + (size_t)thread * QB * n_kv;
    const float *kp = j->kp + h * j->kp_head, *vp = j->vp + h * j->vp_head;
    float scale = 1.0f / sqrtf((float)dh), inv_sum[QB];
    /* S = Q·Kᵀ */
    for (int m = i0; m < i1; m += MR) {
        int mr = i1 - m < MR ? i1 - m : MR;
        const float *q = a->q + (size_t)m * a->ldq + (size_t)h * dh;
        for (int p = 0; p < j->k_panels; p++) {
            int nr = n_kv - p * NR < NR ? n_kv - p * NR : NR;
            j->v->gemm_tile(S + (size_t)(m - i0) * n_kv + p * NR, n_kv, q, a->ldq, kp + (size_t)p * dh * NR, dh, mr,
                            nr, 0);
        }
    }
    /* unnormalised softmax of scale·S, row by row */
    for (int i = 0; i < i1 - i0; i++) {
        float *s = S + (size_t)i * n_kv;
        inv_sum[i] = 1.0f / j->v->exp_sum(s, n_kv, j->v->scale_max(s, n_kv, scale));
    }
    /* O = P·V */
    for (int k0 = 0; k0 < n_kv; k0 += KV_KC) {
        int kc = n_kv - k0 < KV_KC ? n_kv - k0 : KV_KC;
        for (int m = i0; m < i1; m += MR) {
            int mr = i1 - m < MR ? i1 - m : MR;
            float *o = a->out + (size_t)m * a->ldo + (size_t)h * dh;
            for (int p = 0; p < j->v_panels; p++) {
                int nr = dh - p * NR < NR ? dh - p * NR : NR;
                j->v->gemm_tile(o + p * NR, a->ldo, S + (size_t)(m - i0) * n_kv + k0, n_kv,
                                vp + (size_t)p * n_kv * NR + (size_t)k0 * NR, kc, mr, nr, k0 > 0);
            }
        }
    }
    for (int i = i0; i < i1; i++) {
        float *o = a->out + (size_t)i * a->ldo + (size_t)h * dh, f = inv_sum[i - i0];
        for (int d = 0; d < dh; d++) o[d] *= f;
    }
}

static int blocked(threadpool *pool, const whisper_attention_args *a) {
    const int NR = WHISPER_GEMM_NR;
    blocked_job j;
    memset(&j, 0, sizeof j);
    j.v = whisper_kernels_variant();
    j.a = a;
    j.k_panels = (a->n_kv + NR - 1) / NR;
    j.v_panels = (a->d_head + NR - 1) / NR;
    j.q_blocks = (a->n_q + QB - 1) / QB;
    j.kp_head = (size_t)j.k_panels * a->d_head * NR;
    j.vp_head = (size_t)j.v_panels * a->n_kv * NR;
    size_t n_threads = (size_t)threadpool_size(pool);
    j.kp = mem_alloc_aligned((j.kp_head + j.vp_head) * (size_t)a->n_heads * sizeof(float));
    j.scores = mem_alloc_aligned(n_threads * QB * (size_t)a->n_kv * sizeof(float));
    if (!j.kp || !j.scores) {
        free(j.kp);
        free(j.scores);
        return -1;
    }
    j.vp = j.kp + j.kp_head * (size_t)a->n_heads;
    threadpool_run(pool, a->n_heads, pack_task, &j);
    threadpool_run(pool, a->n_heads * j.q_blocks, blocked_task, &j);
    free(j.kp);
    free(j.scores);
    return 0;
}

static void rows(threadpool *pool, const whisper_attention_args *args, const whisper_kv16 *kv, float *scratch) {
    row_job j = {whisper_kernels_variant(), args, kv, scratch, (args->n_q + ROW_Q_BLOCK - 1) / ROW_Q_BLOCK};
    int n_tasks = args->n_heads * j.q_blocks;
    /* one head of one query over its keys is worth a task once the keys span
     * a few hundred KB: a decoder step's cross-attention (1500 keys) is */
    if (!pool || (long)args->n_q * args->n_kv * args->n_heads * args->d_head < 32768) {
        for (int t = 0; t < n_tasks; t++) row_task(&j, t, 0);
        return;
    }
    threadpool_run(pool, n_tasks, row_task, &j);
}

/* ---- a decoder step's projections and attention, per head ---- */

typedef struct {
    row_job att;
    const whisper_step_proj *p;
    const float *x;
    const int8_t *xq; /* x quantised, when a projection is q8 */
    const float *xd;
} step_job;

static void step_task(void *ctx, int h, int thread) {
    step_job *j = ctx;
    const whisper_step_proj *p = j->p;
    int n0 = h * j->att.a->d_head, n1 = n0 + j->att.a->d_head;
    whisper_gemv_rows(j->att.v, p->q, j->x, j->xq, j->xd, p->wq, p->bq, n0, n1);
    if (p->wk) {
        whisper_gemv_rows(j->att.v, p->k, j->x, j->xq, j->xd, p->wk, p->bk, n0, n1);
        whisper_gemv_rows(j->att.v, p->v, j->x, j->xq, j->xd, p->wv, p->bv, n0, n1);
    }
    row_task(&j->att, h, thread);
}

int whisper_attention_step(threadpool *pool, const float *x, const whisper_step_proj *p,
                           const whisper_attention_args *args, const whisper_kv16 *kv, float *scratch) {
    const whisper_matrix *ws[3] = {p->wq, p->wk, p->wv};
    int K = p->wq->cols, nb = (K + WHISPER_Q8_BLOCK - 1) / WHISPER_Q8_BLOCK, any_q8 = 0;
    for (int i = 0; i < 3; i++) any_q8 |= ws[i] && ws[i]->dtype == WHISPER_DTYPE_Q8;
    float *xd = NULL;
    if (any_q8) {
        xd = malloc((size_t)nb * sizeof(float) + (size_t)K);
        if (!xd) return -1;
        whisper_q8_quantize_row(x, K, (int8_t *)(xd + nb), xd);
    }
    step_job j = {{whisper_kernels_variant(), args, kv, scratch, 1}, p, x, xd ? (int8_t *)(xd + nb) : NULL, xd};
    threadpool_run(pool, args->n_heads, step_task, &j);
    free(xd);
    return 0;
}

void whisper_attention(threadpool *pool, const whisper_attention_args *args, float *scratch) {
    if (!args->causal && args->n_q >= BLOCKED_MIN_Q && blocked(pool, args) == 0) return;
    rows(pool, args, NULL, scratch);
}

void whisper_attention_kv16(threadpool *pool, const whisper_attention_args *args, const whisper_kv16 *kv,
                            float *scratch) {
    rows(pool, args, kv, scratch);
}
