/* vad.h — streaming voice-activity detection that cuts a live call into
 * utterances (included by audio/audio.h; include that).
 *
 * Energy-based: every 30-ms frame's energy (dBFS) is compared with an adaptive
 * noise floor (falls quickly to quiet frames, rises slowly); a frame is speech
 * when it is threshold_db above the floor and above an absolute minimum. An
 * utterance starts after onset_frames speech frames (with a little audio
 * before the onset kept as pre-roll) and ends after hangover_s of non-speech
 * (plus a short post-roll), or is cut at max_utterance_s (30 s, one Whisper
 * window) with the rest continuing as the next utterance. Utterances with less
 * than min_utterance_s of speech are dropped as clicks.
 *
 * Feed chunks of any size; completed utterances queue up and are taken with
 * audio_vad_next; audio_vad_flush closes the utterance in flight at the end of
 * the call. Sample positions count from the first sample ever fed. One
 * audio_vad belongs to one call (not thread-safe; no shared state). */
#ifndef TRIDENT_AUDIO_VAD_H
#define TRIDENT_AUDIO_VAD_H

#include <stddef.h>

typedef struct {
    int sample_rate;         /* Hz, default 16000 */
    double frame_ms;         /* analysis frame, default 30 */
    double threshold_db;     /* speech when energy > noise floor + this, default 10 */
    double min_energy_db;    /* frames quieter than this (dBFS) are never speech, default -50 */
    double noise_rise_db_s;  /* how fast the noise floor may rise, dB per second, default 15 */
    double noise_fall;       /* fraction of the gap closed per frame when falling, default 0.5 */
    double initial_floor_db; /* noise floor before any audio, default -60 */
    int onset_frames;        /* consecutive speech frames that start an utterance, default 2 */
    double hangover_s;       /* silence that ends an utterance, default 0.6 (the original used 1.5) */
    double min_utterance_s;  /* less speech than this (onset to last speech frame) is dropped, default 0.25 */
    double max_utterance_s;  /* hard cap, default 30 */
    double pre_roll_s;       /* audio kept before the onset, default 0.2 */
    double post_roll_s;      /* audio kept after the last speech frame, default 0.2 */
} audio_vad_config;

/* A completed utterance: samples [start, end) of the stream. samples holds
 * end - start floats owned by the caller (audio_utterance_clear). capped is 1
 * if the utterance was cut at max_utterance_s and speech continues. */
typedef struct {
    size_t start, end;
    float *samples;
    size_t n_samples;
    int capped;
} audio_utterance;

typedef struct audio_vad audio_vad;

/* Fills *cfg with the defaults above. */
void audio_vad_config_default(audio_vad_config *cfg);

/* Creates a detector (cfg NULL = defaults). Validates the configuration
 * (TRIDENT_EINVAL naming the bad field). The caller owns *out (audio_vad_free). */
int audio_vad_new(const audio_vad_config *cfg, audio_vad **out, char *err, size_t err_size);
void audio_vad_free(audio_vad *vad);

/* Feeds n samples (any n, including 0). Samples must be finite (EFORMAT).
 * Returns 0 or a TRIDENT_E* code; completed utterances become available
 * through audio_vad_next. */
int audio_vad_feed(audio_vad *vad, const float *samples, size_t n, char *err, size_t err_size);

/* End of the call: analyses the last partial frame and closes the utterance in
 * flight (kept if long enough). Further feeds continue the stream. */
int audio_vad_flush(audio_vad *vad, char *err, size_t err_size);

/* Takes the oldest completed utterance: returns 1 and fills *out (the caller
 * owns out->samples), or 0 if none is waiting. */
int audio_vad_next(audio_vad *vad, audio_utterance *out);

/* Frees u->samples and zeroes *u. NULL-safe. */
void audio_utterance_clear(audio_utterance *u);

/* 1 while an utterance is open (speech heard, not yet ended). */
int audio_vad_in_speech(const audio_vad *vad);
/* Samples fed so far. */
size_t audio_vad_position(const audio_vad *vad);
/* The current noise-floor estimate in dBFS (for logs and metrics). */
double audio_vad_noise_floor_db(const audio_vad *vad);

#endif
