/* encoder.h — Whisper's audio encoder (private to src/whisper/). */
#ifndef TRIDENT_WHISPER_ENCODER_H
#define TRIDENT_WHISPER_ENCODER_H

#include "whisper/session.h"

/* Encodes one window of 2·n_audio_ctx (3000) mel frames: mel[c·ld_mel + t] for
 * mel bin c and frame t. The result, [n_audio_ctx][d_model], is left in
 * s->enc_out; the decoder's cross-attention cache is invalidated. */
void whisper_encoder_forward(whisper_session *s, const float *mel, int ld_mel);

#endif
