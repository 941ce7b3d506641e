/* transcribe.h — transcription entry points below the public API (private to
 * src/whisper/; tests use whisper_transcribe_mel to start from a reference mel). */
#ifndef TRIDENT_WHISPER_TRANSCRIBE_H
#define TRIDENT_WHISPER_TRANSCRIBE_H

#include "whisper/engine.h"

/* As whisper_transcribe, from a log-mel spectrogram mel[c·n_frames + t] of the
 * audio followed by 30 s of padding (n_frames ≥ content_frames + 3000);
 * content_frames is the audio's own frame count (n_samples / 160). */
int whisper_transcribe_mel(whisper_session *s, const float *mel, int n_frames, int content_frames,
                           const whisper_transcribe_params *params, whisper_result **out, char *err, size_t err_size);

/* As whisper_transcription_begin, from such a mel (copied; the caller keeps mel).
 * The caller owns *out (whisper_transcription_free). */
int whisper_transcription_begin_mel(const whisper_model *m, const float *mel, int n_frames, int content_frames,
                                    const whisper_transcribe_params *params, whisper_transcription **out, char *err,
                                    size_t err_size);

/* The initial tokens for a language/task ("transcribe"/"translate") and timestamp
 * mode: sot, <|lang|>, <|task|> (multilingual only), then <|notimestamps|> unless
 * timestamps. Writes up to 4 ids to out, returns how many, or a TRIDENT_E* code. */
int whisper_initial_tokens(const whisper_model *m, const char *language, const char *task, int timestamps, int out[4],
                           char *err, size_t err_size);

#endif
