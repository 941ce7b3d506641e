/* decoder.h — Whisper's text decoder with KV caches (private to src/whisper/). */
#ifndef TRIDENT_WHISPER_DECODER_H
#define TRIDENT_WHISPER_DECODER_H

#include "whisper/session.h"

/* Computes the cross-attention keys and values of s->enc_out for every layer
 * (once per window) and empties the self-attention cache. */
void whisper_decoder_begin(whisper_session *s);

/* Runs n tokens at positions kv->n … kv->n+n−1 (appending them to the cache) and
 * writes the logits of rows first_row … n−1 to logits ([n − first_row][n_vocab]).
 * Returns 0, or TRIDENT_ELIMIT when the text context (n_text_ctx) would overflow. */
int whisper_decoder_forward(whisper_session *s, whisper_kv_cache *kv, const int *tokens, int n, int first_row,
                            float *logits);

#endif
