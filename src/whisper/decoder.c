/* decoder.c — the text decoder's forward pass, as the official TextDecoder:
 * token + positional embedding, pre-LN residual blocks (causal self-attention
 * over the KV cache, cross-attention over the window's audio features — the
 * s->n_ctx positions the encoder produced —, MLP),
 * final layer norm, logits = x · embed_tokensᵀ (the tied output projection).
 * A single-token step runs each attention with its input projections as one
 * pool run of one task per head (whisper_attention_step).
 * The cross-attention keys and values are kept in 16 bits (whisper_kv16: keys
 * int16 with a scale per row, values fp16): a decoder step streams them once
 * per layer, a quarter to a third of its memory traffic, and fp32 would double
 * that. Keys are not fp16: a key's rounding error is multiplied by the query
 * into the attention logits, and fp16 keys move the rsLoRA fixture's logits by
 * 5e-3 of their range (its keys reach 23, where fp16's step is 1/64). q8
 * models project to the vocabulary with the 8-bit copy and recompute the
 * near-top logits from the 16-bit embedding (quant.h), so the chosen token is
 * the one the 16-bit projection gives. */
#include "whisper/decoder.h"


#include "base/error.h"
#include "base/threadpool.h"
#include "whisper/kernels.h"
#include "whisper/quant.h"

/* Rows [n][d] of keys k and values v into one layer of the cross-attention
 * cache, laid out [head][n_audio_ctx][d_head] (whisper_kv16): one task per head. */
typedef struct {
    const whisper_hparams *hp;
    const float *k, *v;
    int n;
    int16_t *kq;
    float *k_scale;
    uint16_t *v16;
} head_major_job;

static void to_head_major(void *ctx, int h, int thread) {
    (void)thread;
    const head_major_job *j = ctx;
    int d = j->hp->d_model, dh = d / j->hp->dec_heads;
    for (int t = 0; t < j->n; t++) {
        size_t from = (size_t)t * d + (size_t)h * dh, row = (size_t)h * j->hp->n_audio_ctx + (size_t)t;
        whisper_keys_quantize(j->kq + row * dh, j->k_scale + row, j->k + from, 1, dh);
        whisper_convert_fp16(j->v16 + row * dh, j->v + from, (size_t)dh);
    }
}

void whisper_decoder_begin(whisper_session *s) {
    const whisper_model *m = s->model;
    const whisper_hparams *hp = &m->hp;
    size_t per_layer = (size_t)hp->n_audio_ctx * hp->d_model;
    for (int l = 0; l < hp->dec_layers; l++) {
        const whisper_attn_weights *c = &m->dec[l].cross;
        /* computed in fp32 (encoder scratch), kept head by head in 16 bits */
        whisper_linear(s->pool, s->e_k, s->enc_out, s->n_ctx, &c->k.w, c->k.b);
        whisper_linear(s->pool, s->e_v, s->enc_out, s->n_ctx, &c->v.w, c->v.b);
        head_major_job j = {hp, s->e_k, s->e_v, s->n_ctx, s->cross_k + l * per_layer,
                            s->cross_k_scale + l * per_layer / (size_t)(hp->d_model / hp->dec_heads),
                            s->cross_v + l * per_layer};
        threadpool_run(s->pool, hp->dec_heads, to_head_major, &j);
    }
    s->cross_ready = 1;
    s->kv.n = 0;
}

int whisper_decoder_forward(whisper_session *s, whisper_kv_cache *kv, const int *tokens, int n, int first_row,
                            float *logits) {
    const whisper_model *m = s->model;
    const whisper_hparams *hp = &m->hp;
    int d = hp->d_model, pos0 = kv->n, dh = d / hp->dec_heads;
    threadpool *pool = s->pool;
    if (n <= 0 || pos0 + n > hp->n_text_ctx || first_row < 0 || first_row >= n) return TRIDENT_ELIMIT;
    for (int i = 0; i < n; i++)
        if (tokens[i] < 0 || tokens[i] >= hp->n_vocab) return TRIDENT_EINVAL;

    float *x = s->d_x;
    for (int i = 0; i < n; i++) {
        float *row = x + (size_t)i * d;
        whisper_matrix_row(&m->embed_tokens, tokens[i], row);
        whisper_add(row, m->dec_pos + (size_t)(pos0 + i) * d, (size_t)d);
    }
    size_t self_layer = (size_t)hp->n_text_ctx * d, cross_layer = (size_t)hp->n_audio_ctx * d;
    for (int l = 0; l < hp->dec_layers; l++) {
        const whisper_layer_weights *L = &m->dec[l];
        float *kc = kv->k + l * self_layer, *vc = kv->v + l * self_layer;
        /* causal self-attention over the cache */
        whisper_layer_norm(pool, s->d_h, x, n, d, L->self.ln.g, L->self.ln.b, WHISPER_LN_EPS);
        float *k_new = kc + (size_t)pos0 * d, *v_new = vc + (size_t)pos0 * d;
        whisper_attention_args sa = {s->d_q, kc, vc, s->d_a, d, d, d, d, n, pos0 + n, hp->dec_heads, dh, 1, 0};
        whisper_step_proj sp = {&L->self.q.w, &L->self.k.w, &L->self.v.w, L->self.q.b, L->self.k.b, L->self.v.b,
                                s->d_q, k_new, v_new};
        if (n > 1 || whisper_attention_step(pool, s->d_h, &sp, &sa, NULL, s->scores) != 0) {
            whisper_linear_out qkv[3] = {{s->d_q, &L->self.q.w, L->self.q.b},
                                         {k_new, &L->self.k.w, L->self.k.b},
                                         {v_new, &L->self.v.w, L->self.v.b}};
            whisper_linear_multi(pool, s->d_h, n, qkv, 3);
            whisper_attention(pool, &sa, s->scores);
        }
        whisper_linear(pool, s->d_h, s->d_a, n, &L->self.o.w, L->self.o.b);
        whisper_add(x, s->d_h, (size_t)n * d);
        /* cross-attention over the audio features */
        whisper_layer_norm(pool, s->d_h, x, n, d, L->cross.ln.g, L->cross.ln.b, WHISPER_LN_EPS);
        whisper_attention_args ca = {s->d_q, NULL, NULL, s->d_a, d, dh, dh, d, n, s->n_ctx, hp->dec_heads, dh, 0,
                                     (size_t)hp->n_audio_ctx * dh};
        whisper_kv16 ckv = {s->cross_k + l * cross_layer, s->cross_k_scale + l * cross_layer / dh,
                            s->cross_v + l * cross_layer};
        whisper_step_proj cp = {&L->cross.q.w, NULL, NULL, L->cross.q.b, NULL, NULL, s->d_q, NULL, NULL};
        if (n > 1 || whisper_attention_step(pool, s->d_h, &cp, &ca, &ckv, s->scores) != 0) {
            whisper_linear(pool, s->d_q, s->d_h, n, &L->cross.q.w, L->cross.q.b);
            whisper_attention_kv16(pool, &ca, &ckv, s->scores);
        }
        whisper_linear(pool, s->d_h, s->d_a, n, &L->cross.o.w, L->cross.o.b);
        whisper_add(x, s->d_h, (size_t)n * d);
        /* MLP */
        whisper_layer_norm(pool, s->d_h, x, n, d, L->ln_mlp.g, L->ln_mlp.b, WHISPER_LN_EPS);
        whisper_linear_gelu(pool, s->d_f, s->d_h, n, &L->fc1.w, L->fc1.b);
        whisper_linear(pool, s->d_h, s->d_f, n, &L->fc2.w, L->fc2.b);
        whisper_add(x, s->d_h, (size_t)n * d);
    }
    kv->n = pos0 + n;
    whisper_layer_norm(pool, s->d_h, x + (size_t)first_row * d, n - first_row, d, m->dec_ln.g, m->dec_ln.b,
                       WHISPER_LN_EPS);
    if (s->proj_scratch)
        whisper_q8_linear_top_exact(pool, logits, s->d_h, n - first_row, &m->proj_q8, &m->embed_tokens,
                                    s->proj_scratch);
    else
        whisper_linear(pool, logits, s->d_h, n - first_row, &m->embed_tokens, NULL);
    return 0;
}
