/* decoding.h — decoding one 30-s window into tokens (private to src/whisper/).
 *
 * As the official DecodingTask: the initial tokens (sot sequence, <|notimestamps|>),
 * then up to sample_len steps of: decoder logits → logit filters (suppress blank
 * at the first sampled step; suppress the non-speech and control tokens; the
 * timestamp rules when timestamps are on) → token choice (greedy today; beam
 * search and sampling plug in as other choosers) with the reference's
 * log-probability accounting. no_speech_prob comes from the unfiltered logits at
 * the sot position of the first pass. */
#ifndef TRIDENT_WHISPER_DECODING_H
#define TRIDENT_WHISPER_DECODING_H

#include "whisper/session.h"

typedef struct {
    int sample_len;       /* most tokens to sample (n_text_ctx / 2 = 224) */
    int suppress_blank;   /* 1: suppress encode(" ") + eot at the first sampled step */
    int timestamps;       /* 1: timestamp rules (not implemented yet: must be 0) */
    double temperature;   /* 0: greedy (the only mode implemented yet) */
    int beam_size;        /* 0/1: greedy */
} whisper_decode_options;

/* The outcome of one decode call (the reference's DecodingResult). */
typedef struct {
    int *tokens;          /* sampled tokens without the final eot */
    double *logprobs;     /* log-probability of each, in the filtered distribution */
    int n_tokens;
    double sum_logprob;   /* includes the eot step */
    double avg_logprob;   /* sum_logprob / (n_tokens + 1) */
    double no_speech_prob;
    char *text;           /* decode(tokens).strip(), as the reference's result.text */
    double compression_ratio; /* of text */
} whisper_decoding;

/* Options with the reference's defaults for a model. */
whisper_decode_options whisper_decode_options_default(const whisper_model *m);

/* Applies the logit filters to the logits of the next token, given the tokens
 * so far (tokens[0 … n_tokens), of which the first sample_begin are the prompt). */
void whisper_logits_filter(const whisper_model *m, const whisper_decode_options *o, const int *tokens, int n_tokens,
                           int sample_begin, float *logits);

/* Decodes the window whose audio features are in s->enc_out, starting from the
 * n_initial initial tokens (sot at sot_index). Fills *out (the caller frees it
 * with whisper_decoding_clear). Returns 0 or a TRIDENT_E* code. */
int whisper_decode(whisper_session *s, const int *initial, int n_initial, int sot_index,
                   const whisper_decode_options *o, whisper_decoding *out, char *err, size_t err_size);
void whisper_decoding_clear(whisper_decoding *d);

/* The reference's text helpers: decode (timestamp tokens dropped, other special
 * tokens written as text), Python's str.strip(), and the zlib compression ratio.
 * Returned strings belong to the caller (NULL on OOM). */
char *whisper_text_decode(const whisper_model *m, const int *tokens, int n);
char *whisper_text_strip(const char *s);
double whisper_text_compression_ratio(const char *s);

#endif
