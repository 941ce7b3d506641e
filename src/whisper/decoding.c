/* decoding.c — one window's decode (see decoding.h): the initial pass, the
 * logit filters (suppress blank, suppress tokens, the timestamp rules), greedy
 * and sampled token choice for one or best_of sequences, the candidates'
 * ranking and the reference's log-probability accounting. Beam search is in
 * beam.c, the random generator in sampling.c. */
#include "whisper/decoding.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/error.h"
#include "whisper/decoder.h"

whisper_decode_options whisper_decode_options_default(const whisper_model *m) {
    whisper_decode_options o;
    memset(&o, 0, sizeof o);
    o.sample_len = m->hp.n_text_ctx / 2;
    o.suppress_blank = 1;
    o.max_initial_timestamp_index = 50;
    o.beam_size = 1;
    o.patience = 1.0;
    o.length_penalty = -1.0;
    o.best_of = 1;
    return o;
}

/* log-sum-exp of the finite logits (decoding.h) */
double whisper_log_sum_exp(const float *x, int n) {
    float mx = -INFINITY;
    for (int i = 0; i < n; i++)
        if (x[i] > mx) mx = x[i];
    if (mx == -INFINITY) return -INFINITY;
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        if (x[i] != -INFINITY) sum += exp((double)x[i] - mx);
    return mx + log(sum);
}

static void mask_range(float *logits, int a, int b) {
    for (int i = a; i < b; i++) logits[i] = -INFINITY;
}

/* The official ApplyTimestampRules for one sequence. */
static void timestamp_rules(const whisper_model *m, const whisper_decode_options *o, const int *tokens, int n_tokens,
                            int sample_begin, float *logits) {
    const whisper_special_tokens *sp = whisper_tokenizer_specials(m->tok);
    int n_vocab = m->hp.n_vocab, tb = sp->timestamp_begin;
    if (tb < 0 || tb >= n_vocab) return;
    if (sp->no_timestamps >= 0) logits[sp->no_timestamps] = -INFINITY;
    const int *seq = tokens + sample_begin;
    int n = n_tokens - sample_begin;
    /* timestamps come in pairs, except directly before eot */
    int last_ts = n >= 1 && seq[n - 1] >= tb;
    int penult_ts = n < 2 || seq[n - 2] >= tb;
    if (last_ts) {
        if (penult_ts) mask_range(logits, tb, n_vocab); /* must be text (or eot) */
        else mask_range(logits, 0, sp->eot);             /* must be a timestamp or eot */
    }
    /* timestamps never decrease, and a segment has a non-zero length */
    int last_stamp = -1;
    for (int i = n - 1; i >= 0; i--)
        if (seq[i] >= tb) {
            last_stamp = seq[i];
            break;
        }
    if (last_stamp >= 0) {
        int upto = last_ts && !penult_ts ? last_stamp : last_stamp + 1;
        mask_range(logits, tb, upto < n_vocab ? upto : n_vocab);
    }
    if (n == 0) {
        mask_range(logits, 0, tb); /* the first sampled token is a timestamp */
        if (o->max_initial_timestamp_index >= 0) {
            int last_allowed = tb + o->max_initial_timestamp_index;
            if (last_allowed + 1 < n_vocab) mask_range(logits, last_allowed + 1, n_vocab);
        }
    }
    /* a timestamp is forced when the timestamps' total probability beats every text token */
    double ts_lse = whisper_log_sum_exp(logits + tb, n_vocab - tb);
    float max_text = -INFINITY;
    for (int i = 0; i < tb; i++)
        if (logits[i] > max_text) max_text = logits[i];
    if (ts_lse > (double)max_text) mask_range(logits, 0, tb);
}

void whisper_logits_filter(const whisper_model *m, const whisper_decode_options *o, const int *tokens, int n_tokens,
                           int sample_begin, float *logits) {
    int n_vocab = m->hp.n_vocab;
    if (o->suppress_blank && n_tokens == sample_begin)
        for (size_t i = 0; i < m->n_blank; i++)
            if (m->blank_tokens[i] >= 0 && m->blank_tokens[i] < n_vocab) logits[m->blank_tokens[i]] = -INFINITY;
    for (size_t i = 0; i < m->n_suppress; i++) logits[m->suppress_tokens[i]] = -INFINITY;
    if (o->timestamps) timestamp_rules(m, o, tokens, n_tokens, sample_begin, logits);
}

static int argmax(const float *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

int whisper_candidates_add(whisper_candidates *c, const int *tokens, const float *logprobs, int n, double sum) {
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 8;
        whisper_candidate *grown = realloc(c->items, (size_t)cap * sizeof *grown);
        if (!grown) return TRIDENT_ENOMEM;
        c->items = grown;
        c->cap = cap;
    }
    whisper_candidate *x = &c->items[c->n];
    x->tokens = malloc((size_t)(n ? n : 1) * sizeof *x->tokens);
    x->logprobs = malloc((size_t)(n ? n : 1) * sizeof *x->logprobs);
    if (!x->tokens || !x->logprobs) {
        free(x->tokens);
        free(x->logprobs);
        return TRIDENT_ENOMEM;
    }
    if (n) {
        memcpy(x->tokens, tokens, (size_t)n * sizeof *tokens);
        memcpy(x->logprobs, logprobs, (size_t)n * sizeof *logprobs);
    }
    x->n = n;
    x->sum_logprob = sum;
    c->n++;
    return 0;
}

void whisper_candidates_clear(whisper_candidates *c) {
    for (int i = 0; i < c->n; i++) {
        free(c->items[i].tokens);
        free(c->items[i].logprobs);
    }
    free(c->items);
    memset(c, 0, sizeof *c);
}

int whisper_candidates_rank(const whisper_candidates *c, double length_penalty) {
    int best = 0;
    double best_score = -INFINITY;
    for (int i = 0; i < c->n; i++) {
        double len = c->items[i].n, penalty = length_penalty < 0 ? len : pow((5.0 + len) / 6.0, length_penalty);
        double score = penalty > 0 ? c->items[i].sum_logprob / penalty : c->items[i].sum_logprob;
        if (i == 0 || score > best_score) {
            best = i;
            best_score = score;
        }
    }
    return best;
}

void whisper_decoding_clear(whisper_decoding *d) {
    free(d->tokens);
    free(d->logprobs);
    free(d->text);
    memset(d, 0, sizeof *d);
}

/* Greedy (T = 0) or sampled (T > 0) decoding of n_group independent sequences
 * in lockstep, as the official GreedyDecoder: a sequence that sampled eot keeps
 * it; the loop ends when every sequence has, or after sample_len steps. */
static int greedy_run(whisper_session *s, whisper_kv_cache **caches, int n_group, const whisper_decode_options *o,
                      const int *initial, int n_initial, float *logits, whisper_candidates *out, char *err,
                      size_t err_size) {
    const whisper_model *m = s->model;
    const whisper_special_tokens *sp = whisper_tokenizer_specials(m->tok);
    int n_vocab = m->hp.n_vocab, n_ctx = m->hp.n_text_ctx, cap = n_initial + o->sample_len + 1, rc = 0;
    int *tokens = malloc((size_t)n_group * cap * sizeof *tokens);
    float *lps = malloc((size_t)n_group * cap * sizeof *lps);
    float *sums = calloc((size_t)n_group, sizeof *sums);
    int *done = calloc((size_t)n_group, sizeof *done);
    if (!tokens || !lps || !sums || !done) {
        rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory decoding");
        goto out;
    }
    for (int g = 0; g < n_group; g++) memcpy(tokens + (size_t)g * cap, initial, (size_t)n_initial * sizeof *tokens);
    int n = n_initial;
    for (int i = 0; i < o->sample_len; i++) {
        int all_done = 1;
        for (int g = 0; g < n_group; g++) {
            int *seq = tokens + (size_t)g * cap;
            float *row = logits + (size_t)g * n_vocab;
            if (done[g]) {
                seq[n] = sp->eot;
                continue;
            }
            whisper_logits_filter(m, o, seq, n, n_initial, row);
            int next = o->temperature > 0 ? whisper_sample_categorical(o->rng, row, n_vocab, o->temperature)
                                          : argmax(row, n_vocab);
            if (next < 0) next = sp->eot;
            float lp = (float)((double)row[next] - whisper_log_sum_exp(row, n_vocab));
            sums[g] += lp;
            lps[(size_t)g * cap + n - n_initial] = lp;
            seq[n] = next;
            if (next == sp->eot) done[g] = 1;
            else all_done = 0;
        }
        n++;
        if (all_done || n > n_ctx || i + 1 == o->sample_len) break;
        for (int g = 0; g < n_group; g++) {
            if (done[g]) continue;
            int *seq = tokens + (size_t)g * cap;
            rc = whisper_decoder_forward(s, caches[g], &seq[n - 1], 1, 0, logits + (size_t)g * n_vocab);
            if (rc) {
                rc = error_set(err, err_size, rc, "decoder step failed at token %d", n);
                goto out;
            }
        }
    }
    for (int g = 0; g < n_group; g++) {
        const int *seq = tokens + (size_t)g * cap + n_initial;
        int len = 0;
        while (len < n - n_initial && seq[len] != sp->eot) len++;
        if (whisper_candidates_add(out, seq, lps + (size_t)g * cap, len, sums[g])) {
            rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory decoding");
            goto out;
        }
    }
out:
    free(tokens);
    free(lps);
    free(sums);
    free(done);
    return rc;
}

int whisper_decode(whisper_session *s, const int *initial, int n_initial, int sot_index,
                   const whisper_decode_options *o, whisper_decoding *out, char *err, size_t err_size) {
    const whisper_model *m = s->model;
    const whisper_special_tokens *sp = whisper_tokenizer_specials(m->tok);
    int n_vocab = m->hp.n_vocab, n_ctx = m->hp.n_text_ctx;
    memset(out, 0, sizeof *out);
    int beam = o->beam_size > 1;
    if (beam && o->temperature > 0)
        return error_set(err, err_size, TRIDENT_EINVAL, "beam search is only for temperature 0");
    if (o->temperature > 0 && !o->rng)
        return error_set(err, err_size, TRIDENT_EINVAL, "sampling at temperature %g needs a random generator",
                         o->temperature);
    if (n_initial <= 0 || n_initial >= n_ctx || sot_index < 0 || sot_index >= n_initial)
        return error_set(err, err_size, TRIDENT_EINVAL, "bad initial tokens (%d)", n_initial);
    int n_group = beam ? o->beam_size : (o->temperature > 0 && o->best_of > 1 ? o->best_of : 1);
    if (n_group > 64) return error_set(err, err_size, TRIDENT_EINVAL, "at most 64 sequences per window");
    if (whisper_session_kv_reserve(s, n_group))
        return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory for %d decoder caches", n_group);
    whisper_kv_cache *caches[64];
    for (int g = 0; g < n_group; g++) caches[g] = whisper_session_kv(s, g);

    int n_rows = n_initial - sot_index, rc = 0;
    size_t rows = (size_t)(n_rows > n_group ? n_rows : n_group);
    float *logits = malloc(rows * n_vocab * sizeof *logits);
    whisper_candidates cands = {0};
    if (!logits) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory decoding");

    if (!s->cross_ready) whisper_decoder_begin(s);
    caches[0]->n = 0;
    rc = whisper_decoder_forward(s, caches[0], initial, n_initial, sot_index, logits);
    if (rc) {
        rc = error_set(err, err_size, rc, "the initial tokens do not fit the decoder");
        goto done;
    }
    /* no_speech_prob: softmax of the unfiltered logits at the sot position */
    out->no_speech_prob = NAN;
    if (sp->no_speech >= 0 && sp->no_speech < n_vocab)
        out->no_speech_prob = exp((double)logits[sp->no_speech] - whisper_log_sum_exp(logits, n_vocab));
    /* every sequence starts from the initial tokens' last logits and cache */
    memmove(logits, logits + (size_t)(n_rows - 1) * n_vocab, (size_t)n_vocab * sizeof *logits);
    for (int g = 1; g < n_group; g++) {
        memcpy(logits + (size_t)g * n_vocab, logits, (size_t)n_vocab * sizeof *logits);
        whisper_kv_cache_copy(m, caches[g], caches[0]);
    }
    rc = beam ? whisper_beam_search(s, caches, o, initial, n_initial, logits, &cands, err, err_size)
              : greedy_run(s, caches, n_group, o, initial, n_initial, logits, &cands, err, err_size);
    if (rc) goto done;
    if (cands.n == 0) {
        rc = error_set(err, err_size, TRIDENT_EINVAL, "the decoder produced no candidate");
        goto done;
    }
    const whisper_candidate *best = &cands.items[whisper_candidates_rank(&cands, o->length_penalty)];
    int k = best->n;
    out->n_tokens = k;
    out->tokens = malloc((size_t)(k + 1) * sizeof *out->tokens);
    out->logprobs = malloc((size_t)(k + 1) * sizeof *out->logprobs);
    if (!out->tokens || !out->logprobs) {
        rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory decoding");
        goto done;
    }
    for (int i = 0; i < k; i++) {
        out->tokens[i] = best->tokens[i];
        out->logprobs[i] = best->logprobs[i];
    }
    out->sum_logprob = best->sum_logprob;
    out->avg_logprob = best->sum_logprob / (k + 1);
    out->temperature = o->temperature;
    char *raw = whisper_text_decode(m, out->tokens, k);
    out->text = raw ? whisper_text_strip(raw) : NULL;
    free(raw);
    if (!out->text) {
        rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory decoding text");
        goto done;
    }
    out->compression_ratio = whisper_text_compression_ratio(out->text);
done:
    free(logits);
    whisper_candidates_clear(&cands);
    if (rc) whisper_decoding_clear(out);
    return rc;
}

/* ---- text helpers ---- */

char *whisper_text_decode(const whisper_model *m, const int *tokens, int n) {
    const whisper_special_tokens *sp = whisper_tokenizer_specials(m->tok);
    int *kept = malloc((size_t)(n > 0 ? n : 1) * sizeof *kept);
    if (!kept) return NULL;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (tokens[i] < sp->timestamp_begin) kept[k++] = tokens[i];
    char *s = whisper_tokenizer_decode(m->tok, kept, (size_t)k, 0);
    free(kept);
    return s;
}

/* Length of the Python-whitespace character at s[i] (0 if none). */
static size_t space_len(const unsigned char *s, size_t i, size_t n) {
    unsigned char c = s[i];
    if (c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f)) return 1;
    if (c == 0xc2 && i + 1 < n && (s[i + 1] == 0x85 || s[i + 1] == 0xa0)) return 2;
    if (c == 0xe1 && i + 2 < n && s[i + 1] == 0x9a && s[i + 2] == 0x80) return 3; /* U+1680 */
    if (c == 0xe2 && i + 2 < n) {
        unsigned b1 = s[i + 1], b2 = s[i + 2];
        if (b1 == 0x80 && ((b2 >= 0x80 && b2 <= 0x8a) || b2 == 0xa8 || b2 == 0xa9 || b2 == 0xaf)) return 3;
        if (b1 == 0x81 && b2 == 0x9f) return 3; /* U+205F */
    }
    if (c == 0xe3 && i + 2 < n && s[i + 1] == 0x80 && s[i + 2] == 0x80) return 3; /* U+3000 */
    return 0;
}

char *whisper_text_strip(const char *str) {
    const unsigned char *s = (const unsigned char *)str;
    size_t n = strlen(str), a = 0, b = n, l;
    while (a < n && (l = space_len(s, a, n)) > 0) a += l;
    /* trailing: scan forward, remembering where the last run of spaces began */
    size_t i = a, last_non = a;
    while (i < n) {
        l = space_len(s, i, n);
        if (l) {
            i += l;
        } else {
            i++;
            while (i < n && (s[i] & 0xc0) == 0x80) i++;
            last_non = i;
        }
    }
    b = last_non;
    char *out = malloc(b - a + 1);
    if (!out) return NULL;
    memcpy(out, str + a, b - a);
    out[b - a] = '\0';
    return out;
}

double whisper_text_compression_ratio(const char *s) {
    size_t n = strlen(s);
    uLongf cap = compressBound((uLong)n);
    unsigned char *buf = malloc(cap ? cap : 1);
    if (!buf) return 0.0;
    double ratio = 0.0;
    if (compress2(buf, &cap, (const Bytef *)s, (uLong)n, Z_DEFAULT_COMPRESSION) == Z_OK && cap > 0)
        ratio = (double)n / (double)cap;
    free(buf);
    return ratio;
}
