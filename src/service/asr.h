/* asr.h — the one shared ASR service: the Whisper model (+ LoRA) and its load state.
 *
 * States: "loaded" (ready), "loading" (a load is in progress), "lazy" (preloading
 * failed or was not attempted: the first request that needs ASR loads it) and
 * "failed" (the last lazy load failed: the next request retries). A load happens
 * exactly once however many requests wait for it: concurrent callers of
 * asr_service_model_get block on one condition variable until the single loader
 * finishes, and a failed load is reported to every one of them.
 *
 * Thread safety: every function may be called from any thread; the state is
 * guarded by the service's one mutex (asr_service.lock). The loaded model is
 * immutable and shared; it lives until asr_service_free. */
#ifndef TRIDENT_SERVICE_ASR_H
#define TRIDENT_SERVICE_ASR_H

#include <stddef.h>

#include "whisper/engine.h"

typedef enum { ASR_STATE_LAZY = 0, ASR_STATE_LOADING, ASR_STATE_LOADED, ASR_STATE_FAILED } asr_state;

typedef struct {
    const char *model_dir; /* NULL: ASR unavailable (every request gets the no-ASR path) */
    const char *lora_dir;  /* or NULL */
    int n_threads;         /* threads per inference session; <= 0: all cores */
    int q8;                /* 1: 8-bit weights */
    int load_delay_ms;     /* testing aid (TRIDENT_TEST_LOAD_DELAY_MS): sleep before each load */
} asr_config;

typedef struct asr_service asr_service;

/* Creates the service in state "lazy" (nothing loaded yet). Strings in cfg are copied.
 * The caller owns *out and frees it with asr_service_free. */
int asr_service_new(const asr_config *cfg, asr_service **out, char *err, size_t err_size);
void asr_service_free(asr_service *asr);

/* Start-up preload: logs "Preloading ASR model (Whisper + LoRA)..." and then either
 * "ASR model preloaded successfully" or the error and "ASR model will be loaded on
 * first request (lazy loading)" (state stays "lazy"). Returns 0 or the load's error code. */
int asr_service_preload(asr_service *asr);

/* Returns the loaded model, loading it first if needed (exactly one loader; other
 * callers wait). Returns 0, or a TRIDENT_E* code with a message (no model configured,
 * or this load failed). The model belongs to the service. */
int asr_service_model_get(asr_service *asr, const whisper_model **model, char *err, size_t err_size);

/* A snapshot of the service for /health and /metrics. */
typedef struct {
    asr_state state;
    char name[256];   /* model directory base name ("" when none) */
    char lora[256];   /* adapter base name ("" when none) */
    double load_ms;   /* duration of the successful load, 0 before */
    char error[512];  /* the last load error ("" when none) */
    int loads_started;   /* load attempts (preload + lazy) */
    int loads_succeeded;
    int n_threads;
} asr_status;
void asr_service_status(asr_service *asr, asr_status *out);

/* "loaded", "loading", "lazy" or "failed". */
const char *asr_state_name(asr_state state);

/* One transcription (all windows), as infer_scheduler_transcribe (scheduler.h)
 * returns it. text is owned by the struct: asr_transcript_clear frees it. */
typedef struct {
    char *text;          /* UTF-8, leading/trailing spaces trimmed */
    double confidence;   /* exp(avg_logprob) (the engine's whisper_result.confidence) */
    double avg_logprob;  /* the engine's: sum_logprob / (tokens + 1 per window) over the kept
                          * windows (speech, not skipped as silence), each window's final decode */
    double no_speech_prob; /* of the first window */
    int n_windows;       /* 30-s windows decoded (scheduling turns; fallbacks not counted) */
    int n_tokens;        /* tokens in the transcript's segments */
    char language[16];
    double wait_ms;      /* total queue wait */
    double infer_ms;     /* total time in the engine (log-mel + every window) */
    whisper_result *result; /* the engine's whole result (segments, windows) with INFER_KEEP_RESULT, else NULL */
} asr_transcript;
void asr_transcript_clear(asr_transcript *t);

#endif
