/* encoder.c — the audio encoder's forward pass, as the official AudioEncoder:
 * conv1 (k3, pad 1) + GELU, conv2 (k3, stride 2, pad 1) + GELU, + positional
 * embedding, pre-LN residual blocks (self-attention, MLP), final layer norm.
 * The convolutions run as linear layers over im2col rows (PyTorch's conv weight
 * [out][in][3] is already the [out][in·3] matrix that needs); GELU is fused into
 * the linear layers that precede it (conv1, conv2, fc1). */
#include "whisper/encoder.h"

#include <string.h>

#include "whisper/kernels.h"

/* col[t][c·3 + k] = in(c, t·stride + k − 1), zero outside [0, n_in). in(c, t) = in[c·ld_c + t·ld_t]. */
static void im2col(float *col, const float *in, int n_ch, int n_in, int ld_c, int ld_t, int n_out, int stride) {
    for (int t = 0; t < n_out; t++) {
        float *row = col + (size_t)t * n_ch * 3;
        for (int k = 0; k < 3; k++) {
            int src = t * stride + k - 1;
            if (src < 0 || src >= n_in) {
                for (int c = 0; c < n_ch; c++) row[c * 3 + k] = 0.0f;
            } else {
                const float *p = in + (size_t)src * ld_t;
                for (int c = 0; c < n_ch; c++) row[c * 3 + k] = p[(size_t)c * ld_c];
            }
        }
    }
}

static void attention_block(whisper_session *s, float *x, int T, const whisper_attn_weights *w, int n_heads) {
    int d = s->model->hp.d_model;
    threadpool *pool = s->pool;
    whisper_layer_norm(pool, s->e_h, x, T, d, w->ln.g, w->ln.b, WHISPER_LN_EPS);
    whisper_linear(pool, s->e_q, s->e_h, T, &w->q.w, w->q.b);
    whisper_linear(pool, s->e_k, s->e_h, T, &w->k.w, w->k.b);
    whisper_linear(pool, s->e_v, s->e_h, T, &w->v.w, w->v.b);
    whisper_attention_args a = {s->e_q, s->e_k, s->e_v, s->e_a, d, d, d, d, T, T, n_heads, d / n_heads, 0, 0};
    whisper_attention(pool, &a, s->scores);
    whisper_linear(pool, s->e_h, s->e_a, T, &w->o.w, w->o.b);
    whisper_add(x, s->e_h, (size_t)T * d);
}

void whisper_encoder_forward(whisper_session *s, const float *mel, int ld_mel) {
    whisper_encoder_forward_ctx(s, mel, ld_mel, s->model->hp.n_audio_ctx);
}

void whisper_encoder_forward_ctx(whisper_session *s, const float *mel, int ld_mel, int n_ctx) {
    const whisper_model *m = s->model;
    const whisper_hparams *hp = &m->hp;
    int d = hp->d_model, T = n_ctx > 0 && n_ctx < hp->n_audio_ctx ? n_ctx : hp->n_audio_ctx, T1 = 2 * T;
    threadpool *pool = s->pool;
    float *x = s->enc_out;

    /* conv1 + GELU over the 3000 input frames, into e_q ([T1][d]) */
    im2col(s->e_big, mel, hp->n_mels, T1, ld_mel, 1, T1, 1);
    whisper_linear_gelu(pool, s->e_q, s->e_big, T1, &m->conv1, m->conv1_b);
    /* conv2 (stride 2) + GELU, + positional embedding */
    im2col(s->e_big, s->e_q, d, T1, 1, d, T, 2);
    whisper_linear_gelu(pool, x, s->e_big, T, &m->conv2, m->conv2_b);
    whisper_add(x, m->enc_pos, (size_t)T * d);

    for (int l = 0; l < hp->enc_layers; l++) {
        const whisper_layer_weights *L = &m->enc[l];
        attention_block(s, x, T, &L->self, hp->enc_heads);
        whisper_layer_norm(pool, s->e_h, x, T, d, L->ln_mlp.g, L->ln_mlp.b, WHISPER_LN_EPS);
        whisper_linear_gelu(pool, s->e_big, s->e_h, T, &L->fc1.w, L->fc1.b);
        whisper_linear(pool, s->e_h, s->e_big, T, &L->fc2.w, L->fc2.b);
        whisper_add(x, s->e_h, (size_t)T * d);
    }
    whisper_layer_norm(pool, x, x, T, d, m->enc_ln.g, m->enc_ln.b, WHISPER_LN_EPS);
    s->n_ctx = T;
    s->cross_ready = 0;
}
