/* engine.h — TRIDENT's Whisper inference engine: the header other modules
 * include (with subtitles.h for the CLI's text/SRT/VTT output and bench.h for
 * `trident bench`; the rest of src/whisper/ is private).
 *
 * A whisper_model is loaded once (Hugging Face Whisper directory + optional PEFT
 * LoRA adapter merged at load), is immutable afterwards and is shared by every
 * thread. Each concurrent transcription uses its own whisper_session (KV caches
 * and scratch buffers, reused across calls). Numerics and decoding rules follow
 * the official openai/whisper implementation (../shared/whisper-ref is the oracle).
 *
 * Ownership: every *_load / *_new has a *_free; results returned through out
 * parameters belong to the caller. */
#ifndef TRIDENT_WHISPER_ENGINE_H
#define TRIDENT_WHISPER_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#define WHISPER_SAMPLE_RATE 16000
#define WHISPER_WINDOW_SAMPLES (30 * WHISPER_SAMPLE_RATE)

typedef struct whisper_model whisper_model;
typedef struct whisper_session whisper_session;

typedef enum { WHISPER_WEIGHTS_NATIVE = 0, WHISPER_WEIGHTS_Q8 = 1 } whisper_weights;

typedef struct {
    const char *model_dir;   /* Hugging Face Whisper directory (required) */
    const char *lora_dir;    /* PEFT adapter directory, or NULL */
    int n_threads;           /* threads for each session's pool; <= 0: online cores */
    whisper_weights weights; /* WHISPER_WEIGHTS_Q8: 8-bit weights converted at load */
} whisper_load_params;

/* Loads a model (and merges the adapter). Returns 0 or a TRIDENT_E* code with a
 * message in err that names the offending file, field or tensor.
 * The caller owns *out and frees it with whisper_model_free (after every session). */
int whisper_model_load(const whisper_load_params *params, whisper_model **out, char *err, size_t err_size);
void whisper_model_free(whisper_model *model);

/* Facts about a loaded model. Strings belong to the model. */
typedef struct {
    const char *name;       /* directory base name, e.g. "whisper-large-v3" */
    const char *lora;       /* adapter base name or NULL */
    int n_mels, n_vocab, d_model, n_encoder_layers, n_decoder_layers, n_heads;
    int multilingual;       /* 0 for .en models */
    double load_ms;
    size_t weight_bytes;    /* bytes of weights as used for inference */
} whisper_model_info;
whisper_model_info whisper_model_info_get(const whisper_model *model);

/* A session: per-decode state for one thread at a time. The caller owns it;
 * free it before the model. n_threads <= 0 uses the model's default. */
int whisper_session_new(const whisper_model *model, int n_threads, whisper_session **out, char *err, size_t err_size);
void whisper_session_free(whisper_session *session);

typedef struct {
    const char *language;      /* "en", ... ; "auto" or NULL: detect (multilingual) / English (.en) */
    const char *task;          /* "transcribe" (default) or "translate" */
    int timestamps;            /* 1: timestamp tokens and segments; 0: <|notimestamps|> */
    int beam_size;             /* 0 or 1: greedy */
    double patience;           /* beam search patience (default 1.0) */
    double length_penalty;     /* < 0: none (candidates ranked by sum_logprob / length, as the official
                                * MaximumLikelihoodRanker); else by sum_logprob / ((5 + length) / 6)^penalty */
    const float *temperatures; /* fallback schedule; NULL: {0} */
    int n_temperatures;
    int best_of;               /* candidates at temperature > 0 (default 5) */
    uint64_t seed;             /* RNG seed for sampling */
    double compression_ratio_threshold; /* default 2.4; <= 0 disables */
    double logprob_threshold;           /* default -1.0; set to -INFINITY to disable */
    double no_speech_threshold;         /* default 0.6; <= 0 disables */
    int condition_on_previous_text;     /* default 1 */
    const char *initial_prompt;         /* or NULL */
    int max_windows;           /* 0: any length; N: at most N decoded windows (1: the first 30 s) */
    /* progress(ctx, seconds_done, seconds_total) after each window, or NULL */
    void (*progress)(void *ctx, double done_s, double total_s);
    void *progress_ctx;
    /* How a window that ends past the audio is filled. 1: with zero mel frames, as
     * the official transcribe() does (pad_or_trim(mel[:, seek:seek+size]); long.json).
     * -1: with the mel of the 30 s of zero samples appended to the audio, as the
     * official decode() on log_mel_spectrogram(audio, padding=N_SAMPLES)[:, :3000]
     * (greedy/beam fixtures). 0 (default): -1 for audio of one window (≤ 30 s),
     * 1 for longer audio — each matches its fixture. */
    int zero_pad_window;
    int sample_len;            /* most tokens per window; 0: n_text_ctx / 2 (224, the reference's) */
    /* 0 (default): every window is encoded as 30 s (n_audio_ctx positions), as the
     * model was trained. 1: a window with less than 30 s of audio is encoded over
     * its own frames only, rounded up to a multiple of 64 encoder positions (1.28 s;
     * whisper.cpp's audio_ctx) — much faster for short utterances, but it changes
     * the model's input and so may change the transcript. */
    int audio_ctx_fit;
} whisper_transcribe_params;

/* The name of a language code as the official LANGUAGES table has it ("en" →
 * "english"), or NULL for a code it does not list. A static string. */
const char *whisper_language_name(const char *code);

/* The defaults above (language "en" is NOT a default: language NULL = auto). */
whisper_transcribe_params whisper_transcribe_params_default(void);

typedef struct {
    int id;
    char *text;      /* the token's text as the reference decodes it alone (UTF-8, U+FFFD for split bytes) */
    double logprob;  /* log-probability of the filtered distribution */
} whisper_token;

/* One raw decode call (one 30-s window at one temperature). */
typedef struct {
    int seek;                  /* mel frame offset (10 ms units) */
    double temperature;
    whisper_token *tokens;     /* sampled tokens, no prompt, no final endoftext */
    int n_tokens;
    double sum_logprob, avg_logprob, no_speech_prob, compression_ratio;
    char *text;                /* the decode of tokens, stripped (the reference's DecodingResult.text) */
} whisper_window;

typedef struct {
    int seek;
    double start, end;         /* seconds */
    char *text;
    int *tokens;               /* ids, including timestamp tokens when timestamps are on */
    double *token_logprobs;    /* one per token */
    int n_tokens;
    double avg_logprob, no_speech_prob, confidence;
    double temperature, compression_ratio;
} whisper_segment;

typedef struct {
    char *text;
    char language[16];
    double confidence;         /* exp(avg_logprob) — the TRIDENT paper's Eq. 1 */
    double avg_logprob;        /* over all kept windows: sum_logprob / (tokens + 1 per window) */
    double no_speech_prob;     /* of the first window */
    whisper_segment *segments;
    int n_segments;
    whisper_window *windows;   /* every raw decode call, in order (fallbacks included) */
    int n_windows;
    struct { char code[16]; double prob; } *language_probs; /* sorted, descending; NULL unless detected */
    int n_language_probs;
    double mel_ms, encode_ms, decode_ms;
    int n_tokens;              /* tokens decoded in all windows */
    double audio_s;
} whisper_result;

/* Transcribes 16-kHz mono float PCM in [-1, 1]. Returns 0 or a TRIDENT_E* code.
 * The caller owns *out and frees it with whisper_result_free.
 * Audio of any length, as the official transcribe(): language detection on the
 * first window (language auto on multilingual models), greedy / beam search /
 * sampling with temperature fallback, timestamps and segments, the previous
 * text and initial_prompt as prompts. Invalid params (beam_size > 16, an
 * unknown language or task, translate on an English-only model, negative
 * temperatures) are TRIDENT_EINVAL with a message. */
int whisper_transcribe(whisper_session *session, const float *pcm, size_t n_samples,
                       const whisper_transcribe_params *params, whisper_result **out, char *err, size_t err_size);
void whisper_result_free(whisper_result *result);

/* Resumable long-form transcription: the loop of whisper_transcribe, one window at
 * a time, so that a scheduler can interleave the windows of several recordings.
 * A whisper_transcription holds everything of one run that is not per-session:
 * the log-mel of the whole audio (computed once by begin), seek, the previous
 * tokens for conditioning, the segments and decode attempts so far, the language,
 * the sampling RNG and the timings. Its windows may be decoded on any sessions of
 * the same model, one step at a time (one thread at a time per transcription);
 * begin + steps until done + finish give exactly whisper_transcribe's result
 * (which is implemented so).
 *
 * begin: validates params as whisper_transcribe does and copies what it keeps
 * (pcm is not referenced afterwards; language, task, temperatures and the
 * tokenized initial_prompt are copied). progress / progress_ctx are kept as given:
 * the callback is called after each step's window, from the stepping thread, so
 * its ctx must outlive the steps. The caller owns *out (whisper_transcription_free).
 * Returns 0 or a TRIDENT_E* code with a message. */
typedef struct whisper_transcription whisper_transcription;
int whisper_transcription_begin(const whisper_model *model, const float *pcm, size_t n_samples,
                                const whisper_transcribe_params *params, whisper_transcription **out, char *err,
                                size_t err_size);
/* Decodes exactly one 30-s window (with its temperature fallbacks; on multilingual
 * models with language auto, the first step also detects the language) on session,
 * which must belong to the transcription's model (TRIDENT_EINVAL otherwise).
 * *done (may be NULL) becomes 1 when no window is left (a step when done decodes
 * nothing). Returns 0 or a TRIDENT_E* code; after an error the transcription can
 * only be freed. */
int whisper_transcription_step(whisper_session *session, whisper_transcription *t, int *done, char *err,
                               size_t err_size);
/* Seconds of audio behind seek (the part transcribed so far); *total_s (may be
 * NULL) gets the audio's length. */
double whisper_transcription_progress(const whisper_transcription *t, double *total_s);
/* When done: moves the result (text, confidence, segments, windows, timings) out,
 * the same as whisper_transcribe's. The caller owns *out (whisper_result_free); t
 * must still be freed. TRIDENT_EINVAL before done, after an error or a second time. */
int whisper_transcription_finish(whisper_transcription *t, whisper_result **out, char *err, size_t err_size);
void whisper_transcription_free(whisper_transcription *t);

#endif
