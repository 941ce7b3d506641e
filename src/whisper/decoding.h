/* decoding.h — decoding one 30-s window into tokens (private to src/whisper/).
 *
 * As the official DecodingTask: the initial tokens (optionally <|startofprev|> +
 * prompt, then the sot sequence and <|notimestamps|> unless timestamps), then up
 * to sample_len steps of: decoder logits → logit filters (suppress blank at the
 * first sampled step; suppress the non-speech and control tokens; the timestamp
 * rules when timestamps are on) → token choice with the reference's
 * log-probability accounting. The choice is greedy (T = 0), sampling from
 * softmax(logits / T) for best_of candidates (T > 0), or beam search (beam.c);
 * the candidates are ranked as the official MaximumLikelihoodRanker does.
 * no_speech_prob comes from the unfiltered logits at the sot position of the
 * first pass. */
#ifndef TRIDENT_WHISPER_DECODING_H
#define TRIDENT_WHISPER_DECODING_H

#include "whisper/sampling.h"
#include "whisper/session.h"

typedef struct {
    int sample_len;       /* most tokens to sample (n_text_ctx / 2 = 224) */
    int suppress_blank;   /* 1: suppress encode(" ") + eot at the first sampled step */
    int timestamps;       /* 1: the official timestamp rules (ApplyTimestampRules) */
    int max_initial_timestamp_index; /* < 0: none; default 50 (1.0 s / 0.02 s) */
    double temperature;   /* 0: greedy or beam search; > 0: sampling (needs rng) */
    int beam_size;        /* > 1: beam search (temperature must be 0) */
    double patience;      /* beam search: keep round(beam_size · patience) finished candidates; <= 0: 1.0 */
    double length_penalty; /* < 0: none (rank by sum_logprob / length); else ((5 + length) / 6)^penalty */
    int best_of;          /* candidates sampled at temperature > 0 (<= 1: one) */
    rng_state *rng;       /* the generator for sampling (not owned) */
} whisper_decode_options;

/* The outcome of one decode call (the reference's DecodingResult). */
typedef struct {
    int *tokens;          /* sampled tokens without the final eot */
    double *logprobs;     /* log-probability of each, in the filtered distribution */
    int n_tokens;
    double sum_logprob;   /* includes the eot step when eot was sampled */
    double avg_logprob;   /* sum_logprob / (n_tokens + 1) */
    double no_speech_prob;
    double temperature;
    char *text;           /* decode(tokens).strip(), as the reference's result.text */
    double compression_ratio; /* of text */
} whisper_decoding;

/* One finished candidate of a decode (sampled tokens without eot). */
typedef struct {
    int *tokens;
    float *logprobs;
    int n;
    double sum_logprob;
} whisper_candidate;

/* Candidates in the order the reference's decoder collects them. */
typedef struct {
    whisper_candidate *items;
    int n, cap;
} whisper_candidates;

/* Appends a copy of tokens/logprobs (n each) with sum. Returns 0 or TRIDENT_ENOMEM. */
int whisper_candidates_add(whisper_candidates *c, const int *tokens, const float *logprobs, int n, double sum);
void whisper_candidates_clear(whisper_candidates *c);

/* Options with the reference's defaults for a model. */
whisper_decode_options whisper_decode_options_default(const whisper_model *m);

/* Applies the logit filters to the logits of the next token, given the tokens
 * so far (tokens[0 … n_tokens), of which the first sample_begin are the prompt). */
void whisper_logits_filter(const whisper_model *m, const whisper_decode_options *o, const int *tokens, int n_tokens,
                           int sample_begin, float *logits);

/* log(Σ exp(x[i])) over the finite entries of x, in double (-INFINITY when none
 * is finite); log_softmax(x)[i] = x[i] − this. */
double whisper_log_sum_exp(const float *x, int n);

/* Decodes the window whose audio features are in s->enc_out, starting from the
 * n_initial initial tokens (sot at sot_index). Fills *out (the caller frees it
 * with whisper_decoding_clear). Returns 0 or a TRIDENT_E* code. */
int whisper_decode(whisper_session *s, const int *initial, int n_initial, int sot_index,
                   const whisper_decode_options *o, whisper_decoding *out, char *err, size_t err_size);
void whisper_decoding_clear(whisper_decoding *d);

/* Beam search (beam.c): caches[0 … beam_size) hold the initial tokens' keys and
 * values, logits[b·n_vocab …] each beam's first next-token logits. Collects the
 * finished candidates as the official BeamSearchDecoder (update + finalize) does.
 * Returns 0 or a TRIDENT_E* code. */
int whisper_beam_search(whisper_session *s, whisper_kv_cache **caches, const whisper_decode_options *o,
                        const int *initial, int n_initial, float *logits, whisper_candidates *out, char *err,
                        size_t err_size);

/* The official MaximumLikelihoodRanker: the index of the candidate with the
 * highest sum_logprob / penalty (penalty = length, or ((5 + length) / 6)^lp). */
int whisper_candidates_rank(const whisper_candidates *c, double length_penalty);

/* The reference's text helpers: decode (timestamp tokens dropped, other special
 * tokens written as text), Python's str.strip(), and the zlib compression ratio.
 * Returned strings belong to the caller (NULL on OOM). */
char *whisper_text_decode(const whisper_model *m, const int *tokens, int n);
char *whisper_text_strip(const char *s);
double whisper_text_compression_ratio(const char *s);

#endif
