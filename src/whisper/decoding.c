/* decoding.c — one window's decode: initial tokens, the logit filters, greedy
 * token choice and the reference's log-probability accounting (see decoding.h).
 * Beam search, sampling at temperature > 0 and the timestamp rules slot in at
 * the choose step and in whisper_logits_filter. */
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
    o.beam_size = 1;
    return o;
}

void whisper_logits_filter(const whisper_model *m, const whisper_decode_options *o, const int *tokens, int n_tokens,
                           int sample_begin, float *logits) {
    (void)tokens;
    int n_vocab = m->hp.n_vocab;
    if (o->suppress_blank && n_tokens == sample_begin)
        for (size_t i = 0; i < m->n_blank; i++)
            if (m->blank_tokens[i] >= 0 && m->blank_tokens[i] < n_vocab) logits[m->blank_tokens[i]] = -INFINITY;
    for (size_t i = 0; i < m->n_suppress; i++) logits[m->suppress_tokens[i]] = -INFINITY;
    /* the timestamp rules (ApplyTimestampRules) go here when o->timestamps */
}

/* log-sum-exp of the finite logits */
static double log_sum_exp(const float *x, int n) {
    float mx = -INFINITY;
    for (int i = 0; i < n; i++)
        if (x[i] > mx) mx = x[i];
    if (mx == -INFINITY) return -INFINITY;
    double sum = 0.0;
    for (int i = 0; i < n; i++)
        if (x[i] != -INFINITY) sum += exp((double)x[i] - mx);
    return mx + log(sum);
}

static int argmax(const float *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

void whisper_decoding_clear(whisper_decoding *d) {
    free(d->tokens);
    free(d->logprobs);
    free(d->text);
    memset(d, 0, sizeof *d);
}

int whisper_decode(whisper_session *s, const int *initial, int n_initial, int sot_index,
                   const whisper_decode_options *o, whisper_decoding *out, char *err, size_t err_size) {
    const whisper_model *m = s->model;
    const whisper_special_tokens *sp = whisper_tokenizer_specials(m->tok);
    int n_vocab = m->hp.n_vocab, n_ctx = m->hp.n_text_ctx;
    memset(out, 0, sizeof *out);
    if (o->beam_size > 1 || o->temperature != 0.0 || o->timestamps)
        return error_set(err, err_size, TRIDENT_EUNSUPPORTED,
                         "only greedy decoding at temperature 0 without timestamps is implemented");
    if (n_initial <= 0 || n_initial >= n_ctx || sot_index < 0 || sot_index >= n_initial)
        return error_set(err, err_size, TRIDENT_EINVAL, "bad initial tokens (%d)", n_initial);

    int cap = n_initial + o->sample_len + 1;
    int *tokens = malloc((size_t)cap * sizeof *tokens);
    double *lps = malloc((size_t)(o->sample_len + 1) * sizeof *lps);
    float *logits = malloc((size_t)n_initial * n_vocab * sizeof *logits);
    if (!tokens || !lps || !logits) {
        free(tokens);
        free(lps);
        free(logits);
        return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory decoding");
    }
    memcpy(tokens, initial, (size_t)n_initial * sizeof *tokens);
    int n = n_initial, rc = 0;

    if (!s->cross_ready) whisper_decoder_begin(s);
    s->kv.n = 0;
    rc = whisper_decoder_forward(s, &s->kv, tokens, n, 0, logits);
    if (rc) {
        rc = error_set(err, err_size, rc, "the initial tokens do not fit the decoder");
        goto done;
    }
    /* no_speech_prob: softmax of the unfiltered logits at the sot position */
    out->no_speech_prob = NAN;
    if (sp->no_speech >= 0 && sp->no_speech < n_vocab) {
        const float *row = logits + (size_t)sot_index * n_vocab;
        out->no_speech_prob = exp((double)row[sp->no_speech] - log_sum_exp(row, n_vocab));
    }
    float *cur = logits + (size_t)(n_initial - 1) * n_vocab;
    double sum = 0.0;
    int n_sampled = 0;
    for (int i = 0; i < o->sample_len; i++) {
        whisper_logits_filter(m, o, tokens, n, n_initial, cur);
        int next = argmax(cur, n_vocab);
        double lp = (double)cur[next] - log_sum_exp(cur, n_vocab);
        /* the previous token is never eot here: the loop stops at eot */
        sum += lp;
        tokens[n++] = next;
        if (next == sp->eot) break;
        lps[n_sampled++] = lp;
        if (n > n_ctx || i + 1 == o->sample_len) break;
        rc = whisper_decoder_forward(s, &s->kv, &next, 1, 0, logits);
        if (rc) {
            rc = error_set(err, err_size, rc, "decoder step failed at token %d", n);
            goto done;
        }
        cur = logits;
    }
    out->n_tokens = n_sampled;
    out->tokens = malloc((size_t)(n_sampled + 1) * sizeof *out->tokens);
    out->logprobs = malloc((size_t)(n_sampled + 1) * sizeof *out->logprobs);
    if (!out->tokens || !out->logprobs) {
        rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory decoding");
        goto done;
    }
    memcpy(out->tokens, tokens + n_initial, (size_t)n_sampled * sizeof *out->tokens);
    memcpy(out->logprobs, lps, (size_t)n_sampled * sizeof *out->logprobs);
    out->sum_logprob = sum;
    out->avg_logprob = sum / (n_sampled + 1);
    char *raw = whisper_text_decode(m, out->tokens, n_sampled);
    out->text = raw ? whisper_text_strip(raw) : NULL;
    free(raw);
    if (!out->text) {
        rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory decoding text");
        goto done;
    }
    out->compression_ratio = whisper_text_compression_ratio(out->text);
done:
    free(tokens);
    free(lps);
    free(logits);
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
