/* bench.c — the engine's benchmark hooks (bench.h, `trident bench`): the cost
 * model of one encoder window and one decoder step, and timed runs of the mel
 * spectrogram, the encoder and single-token decoder steps at a chosen context,
 * driven through the encoder's and decoder's own entry points. */
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "whisper/decoder.h"
#include "whisper/encoder.h"
#include "whisper/bench.h"
#include "whisper/model.h"
#include "whisper/session.h"

#define N_FRAMES_WINDOW 3000

whisper_bench_costs whisper_bench_costs_get(const whisper_model *m) {
    const whisper_hparams *hp = &m->hp;
    double d = hp->d_model, T = hp->n_audio_ctx, T1 = 2.0 * T;
    whisper_bench_costs c;
    memset(&c, 0, sizeof c);
    /* conv1, conv2, then per layer q/k/v/o, QKᵀ and PV, fc1 + fc2 (2 flops per multiply-add) */
    c.encoder_flops = 2.0 * T1 * d * hp->n_mels * 3 + 2.0 * T * d * d * 3;
    c.encoder_flops += hp->enc_layers * (2.0 * T * d * d * 4 + 2.0 * 2.0 * T * T * d + 2.0 * 2.0 * T * d * hp->enc_ffn);
    double bytes = (double)whisper_matrix_bytes(m->proj_q8.data ? &m->proj_q8 : &m->embed_tokens);
    for (int l = 0; l < hp->dec_layers; l++) {
        const whisper_layer_weights *L = &m->dec[l];
        const whisper_matrix *used[] = {&L->self.q.w,  &L->self.k.w, &L->self.v.w, &L->self.o.w,
                                        &L->cross.q.w, &L->cross.o.w, &L->fc1.w,   &L->fc2.w};
        for (size_t i = 0; i < sizeof used / sizeof used[0]; i++) bytes += (double)whisper_matrix_bytes(used[i]);
    }
    c.decoder_bytes = bytes;
    c.kernels = whisper_kernels_path();
    return c;
}

int whisper_bench_encode(whisper_session *s, const float *pcm, size_t n_samples, double *mel_ms, double *encode_ms,
                         char *err, size_t err_size) {
    const whisper_model *m = s->model;
    if (n_samples > WHISPER_WINDOW_SAMPLES) n_samples = WHISPER_WINDOW_SAMPLES;
    float *mel = NULL;
    int n_frames = 0;
    double t0 = clock_now_ms();
    int rc = whisper_mel_compute(m->mel, pcm, n_samples, WHISPER_WINDOW_SAMPLES, &mel, &n_frames, err, err_size);
    double t1 = clock_now_ms();
    if (rc) return rc;
    if (n_frames < N_FRAMES_WINDOW) {
        free(mel);
        return error_set(err, err_size, TRIDENT_EINVAL, "mel has %d frames, fewer than one window", n_frames);
    }
    whisper_encoder_forward(s, mel, n_frames);
    double t2 = clock_now_ms();
    free(mel);
    *mel_ms = t1 - t0;
    *encode_ms = t2 - t1;
    return 0;
}

int whisper_bench_decode(whisper_session *s, int context, int n_steps, double *ms_per_token, char *err,
                         size_t err_size) {
    const whisper_model *m = s->model;
    const whisper_hparams *hp = &m->hp;
    if (context < 1 || n_steps < 1 || context + n_steps > hp->n_text_ctx)
        return error_set(err, err_size, TRIDENT_EINVAL, "context %d + %d steps does not fit the text context %d",
                         context, n_steps, hp->n_text_ctx);
    float *logits = malloc((size_t)hp->n_vocab * sizeof *logits);
    int *tokens = malloc((size_t)context * sizeof *tokens);
    if (!logits || !tokens) {
        free(logits);
        free(tokens);
        return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory");
    }
    /* ordinary text tokens (ids below the specials), as a decode would feed */
    for (int i = 0; i < context; i++) tokens[i] = 220 + (i * 37) % 5000 % hp->n_vocab;
    if (!s->cross_ready) whisper_decoder_begin(s);
    s->kv.n = 0;
    int rc = whisper_decoder_forward(s, &s->kv, tokens, context, context - 1, logits);
    double t0 = clock_now_ms();
    for (int i = 0; rc == 0 && i < n_steps; i++) {
        int tok = 220 + (context + i) % 5000 % hp->n_vocab;
        rc = whisper_decoder_forward(s, &s->kv, &tok, 1, 0, logits);
    }
    double t1 = clock_now_ms();
    free(logits);
    free(tokens);
    if (rc) return error_set(err, err_size, rc, "decoder step failed");
    *ms_per_token = (t1 - t0) / n_steps;
    return 0;
}
