/* encoder.h — Whisper's audio encoder (private to src/whisper/). */
#ifndef TRIDENT_WHISPER_ENCODER_H
#define TRIDENT_WHISPER_ENCODER_H

#include "whisper/session.h"

/* Encodes one window of 2·n_audio_ctx (3000) mel frames: mel[c·ld_mel + t] for
 * mel bin c and frame t. The result, [n_audio_ctx][d_model], is left in
 * s->enc_out; the decoder's cross-attention cache is invalidated. */
void whisper_encoder_forward(whisper_session *s, const float *mel, int ld_mel);

/* The same over the first 2·n_ctx frames only (0 < n_ctx ≤ n_audio_ctx): the
 * convolutions, the first n_ctx rows of the positional embedding and
 * self-attention over n_ctx positions, as whisper.cpp's audio_ctx. The decoder
 * then attends to those n_ctx positions (s->n_ctx). The model was trained on
 * full windows only, so this changes its input. */
void whisper_encoder_forward_ctx(whisper_session *s, const float *mel, int ld_mel, int n_ctx);

#endif
