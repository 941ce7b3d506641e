/* beam.c — beam search as the official BeamSearchDecoder does it: every step
 * each live beam proposes its beam_size + 1 most likely next tokens, the
 * proposals are ranked by cumulative log-probability (float32, as PyTorch
 * accumulates it), proposals ending in eot become finished candidates (at most
 * round(beam_size · patience) are kept) and the best beam_size others continue.
 * Each beam has its own self-attention cache; caches follow their beams by
 * pointer, and a beam chosen twice gets a copy. When too few candidates finish,
 * the live beams are added at the end as the reference's finalize() does. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "whisper/decoder.h"
#include "whisper/decoding.h"

typedef struct {
    int *tokens;  /* initial + sampled */
    float *lps;   /* per sampled token */
    float sum;
} beam_seq;

typedef struct {
    int src, token;
    float lp, score;
    int order;    /* insertion order, for a stable sort */
} proposal;

static int proposal_cmp(const void *a, const void *b) {
    const proposal *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return x->order - y->order;
}

/* The k largest entries of row (k <= 64), descending; ties keep the lower id. */
static int top_k(const float *row, int n, int k, int *ids) {
    int have = 0;
    for (int i = 0; i < n; i++) {
        float v = row[i];
        if (have == k && !(v > row[ids[k - 1]])) continue;
        int p = have < k ? have++ : k - 1;
        while (p > 0 && v > row[ids[p - 1]]) {
            ids[p] = ids[p - 1];
            p--;
        }
        ids[p] = i;
    }
    return have;
}

static int round_half_even(double x) { return (int)nearbyint(x); }

int whisper_beam_search(whisper_session *s, whisper_kv_cache **caches, const whisper_decode_options *o,
                        const int *initial, int n_initial, float *logits, whisper_candidates *out, char *err,
                        size_t err_size) {
    const whisper_model *m = s->model;
    const whisper_special_tokens *sp = whisper_tokenizer_specials(m->tok);
    int B = o->beam_size, K = B + 1, n_vocab = m->hp.n_vocab, n_ctx = m->hp.n_text_ctx;
    int max_cand = round_half_even(B * (o->patience > 0 ? o->patience : 1.0));
    if (B < 2 || B > 32) return error_set(err, err_size, TRIDENT_EINVAL, "beam size %d is out of range", B);
    if (max_cand < 1) return error_set(err, err_size, TRIDENT_EINVAL, "patience %g keeps no candidate", o->patience);
    int cap = n_initial + o->sample_len + 1, rc = 0, ids[64];
    beam_seq cur[32], nxt[32];
    proposal *props = malloc((size_t)B * K * sizeof *props);
    int *buf_t = malloc((size_t)2 * B * cap * sizeof *buf_t);
    float *buf_l = malloc((size_t)2 * B * cap * sizeof *buf_l);
    if (!props || !buf_t || !buf_l) {
        rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory for beam search");
        goto out;
    }
    for (int j = 0; j < B; j++) {
        cur[j].tokens = buf_t + (size_t)j * cap;
        nxt[j].tokens = buf_t + (size_t)(B + j) * cap;
        cur[j].lps = buf_l + (size_t)j * cap;
        nxt[j].lps = buf_l + (size_t)(B + j) * cap;
        memcpy(cur[j].tokens, initial, (size_t)n_initial * sizeof *initial);
        cur[j].sum = 0.0f;
    }
    int n = n_initial, completed = 0;
    for (int step = 0; step < o->sample_len; step++) {
        int n_props = 0, ns = n - n_initial;
        for (int j = 0; j < B; j++) {
            /* identical beams (all of them at the first step) propose the same sequences once */
            int dup = 0;
            for (int i = 0; i < j && !dup; i++) dup = memcmp(cur[i].tokens, cur[j].tokens, (size_t)n * sizeof(int)) == 0;
            if (dup) continue;
            float *row = logits + (size_t)j * n_vocab;
            whisper_logits_filter(m, o, cur[j].tokens, n, n_initial, row);
            double lse = whisper_log_sum_exp(row, n_vocab);
            int got = top_k(row, n_vocab, K, ids);
            for (int t = 0; t < got; t++) {
                proposal *p = &props[n_props];
                p->src = j;
                p->token = ids[t];
                p->lp = (float)((double)row[ids[t]] - lse);
                p->score = cur[j].sum + p->lp;
                p->order = n_props++;
            }
        }
        qsort(props, (size_t)n_props, sizeof *props, proposal_cmp);
        int saved = 0, src[32];
        for (int i = 0; i < n_props && saved < B; i++) {
            const proposal *p = &props[i];
            const beam_seq *from = &cur[p->src];
            if (p->token == sp->eot) {
                if (out->n < max_cand && (rc = whisper_candidates_add(out, from->tokens + n_initial, from->lps, ns,
                                                                      p->score))) {
                    rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory for beam search");
                    goto out;
                }
                continue;
            }
            beam_seq *to = &nxt[saved];
            memcpy(to->tokens, from->tokens, (size_t)n * sizeof(int));
            memcpy(to->lps, from->lps, (size_t)ns * sizeof(float));
            to->tokens[n] = p->token;
            to->lps[ns] = p->lp;
            to->sum = p->score;
            src[saved++] = p->src;
        }
        if (saved < B) {
            rc = error_set(err, err_size, TRIDENT_EINVAL, "beam search ran out of candidates");
            goto out;
        }
        for (int j = 0; j < B; j++) {
            beam_seq t = cur[j];
            cur[j] = nxt[j];
            nxt[j] = t;
        }
        /* the caches follow their beams; a beam chosen twice gets a copy */
        whisper_kv_cache *old[32], *spare[32];
        int used[32] = {0}, n_spare = 0;
        for (int j = 0; j < B; j++) old[j] = caches[j];
        for (int j = 0; j < B; j++) {
            caches[j] = used[src[j]] ? NULL : old[src[j]];
            used[src[j]] = 1;
        }
        for (int j = 0; j < B; j++)
            if (!used[j]) spare[n_spare++] = old[j];
        for (int j = 0; j < B; j++)
            if (!caches[j]) {
                caches[j] = spare[--n_spare];
                whisper_kv_cache_copy(m, caches[j], old[src[j]]);
            }
        n++;
        completed = out->n >= max_cand;
        if (completed || n > n_ctx || step + 1 == o->sample_len) break;
        for (int j = 0; j < B; j++) {
            rc = whisper_decoder_forward(s, caches[j], &cur[j].tokens[n - 1], 1, 0, logits + (size_t)j * n_vocab);
            if (rc) {
                rc = error_set(err, err_size, rc, "decoder step failed at token %d", n);
                goto out;
            }
        }
    }
    /* finalize: not enough finished candidates → add the live beams, best first */
    if (out->n < B) {
        int order[32];
        for (int j = 0; j < B; j++) order[j] = j;
        for (int a = 1; a < B; a++) /* descending by sum; among equals the later beam first */
            for (int b = a; b > 0 && (cur[order[b]].sum > cur[order[b - 1]].sum ||
                                      (cur[order[b]].sum == cur[order[b - 1]].sum && order[b] > order[b - 1]));
                 b--) {
                int t = order[b];
                order[b] = order[b - 1];
                order[b - 1] = t;
            }
        for (int i = 0; i < B && out->n < B; i++) {
            const beam_seq *q = &cur[order[i]];
            if (whisper_candidates_add(out, q->tokens + n_initial, q->lps, n - n_initial, q->sum)) {
                rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory for beam search");
                goto out;
            }
        }
    }
out:
    free(props);
    free(buf_t);
    free(buf_l);
    return rc;
}
