/* session.h — per-decode state of one transcription (private to src/whisper/):
 * the thread pool, the encoder's scratch and output, the decoder's KV caches
 * (self-attention grows one token per step; cross-attention keys/values are
 * computed once per 30-s window) and its scratch. Allocated once in
 * whisper_session_new and reused across calls; used by one thread at a time. */
#ifndef TRIDENT_WHISPER_SESSION_H
#define TRIDENT_WHISPER_SESSION_H

#include <stdint.h>

#include "base/threadpool.h"
#include "whisper/model.h"

/* Self-attention keys and values of the tokens decoded so far, per decoder layer. */
typedef struct {
    float *k, *v;   /* [dec_layers][n_text_ctx][d_model] */
    int n;          /* tokens cached */
} whisper_kv_cache;

struct whisper_session {
    const whisper_model *model;
    threadpool *pool;
    float *scores;                  /* threadpool_size · max(n_audio_ctx, n_text_ctx) */

    /* encoder */
    float *enc_out;                 /* [n_audio_ctx][d]: the audio features of the current window */
    int n_ctx;                      /* the positions of enc_out in use (n_audio_ctx unless shortened) */
    float *e_big;                   /* im2col buffers and the MLP's hidden layer */
    float *e_h, *e_q, *e_k, *e_v, *e_a;

    /* decoder */
    whisper_kv_cache kv;
    whisper_kv_cache *extra_kv;     /* more caches for beam search / best_of (whisper_session_kv_reserve) */
    int n_extra_kv;
    /* the cross-attention keys / values as whisper_kv16 keeps them, laid out
     * [dec_layers][heads][n_audio_ctx][d / heads] (a head's rows contiguous);
     * cross_k_scale [dec_layers][heads][n_audio_ctx] */
    int16_t *cross_k;
    float *cross_k_scale;
    uint16_t *cross_v;
    int cross_ready;
    float *d_x, *d_h, *d_q, *d_a, *d_f; /* [n_text_ctx][d] ([n_text_ctx][dec_ffn] for d_f) */
    float *proj_scratch;            /* q8 models: whisper_q8_linear_top_exact's scratch (NULL otherwise) */
};

/* Makes sure the session has n self-attention caches (s->kv and n − 1 extra
 * ones, allocated on first use and kept). Returns 0 or TRIDENT_ENOMEM. */
int whisper_session_kv_reserve(whisper_session *s, int n);
/* Cache i (0: s->kv) of the n reserved. */
whisper_kv_cache *whisper_session_kv(whisper_session *s, int i);
/* Copies the first src->n positions of every layer of src into dst. */
void whisper_kv_cache_copy(const whisper_model *m, whisper_kv_cache *dst, const whisper_kv_cache *src);

#endif
