/* pipeline.h — the analysis pipeline, one implementation for every entry point
 * (POST /api/analyze, live-call utterances, `trident analyze`):
 *
 *   PCM → ASR (scheduler) ‖ bio-acoustics (a second thread) → content → triage → JSON
 *
 * ASR failure is a signal, not an error: without a model, with --no-asr, or when the
 * model fails to load, the transcript is empty, confidence 0, the "asr" object says
 * why, and the distress path still triages. Only a full inference queue
 * (TRIDENT_EBUSY), bad audio and out-of-memory are errors.
 *
 * The analyze JSON: {"transcript", "confidence", "nlp": {"entities", "content_score"},
 * "bio_acoustic": {...}, "triage": {...}, "asr": {"status": "ok"|"skipped"|"failed",
 * "reason", "model", "lora", "windows", "tokens", "queue_wait_ms", "inference_ms"},
 * "duration"}.
 *
 * Thread-safe: uses only the registry's shared, read-only services. */
#ifndef TRIDENT_SERVICE_PIPELINE_H
#define TRIDENT_SERVICE_PIPELINE_H

#include <jansson.h>
#include <stddef.h>

#include "service/service.h"
#include "triage/triage.h"

typedef struct {
    int no_asr;      /* skip ASR (reason "ASR disabled (--no-asr)") */
    int unbounded;   /* never refused for a full queue (live calls) */
    int has_reference;         /* the caller's reference speech level is known (a live call's opening): */
    double reference_level_db; /* the calibrated energy term is measured against it, not this audio's start */
    int reserved;    /* the caller holds a place from infer_scheduler_reserve: it is used or released */
} pipeline_options;

/* The ASR parameters of every analysis (uploads, live-call utterances, `trident
 * analyze`), in `language` ("auto" or NULL: detect on multilingual models):
 * timestamp tokens on (segments, and the official long-form seek at timestamp
 * pairs), greedy decoding at temperature 0 with NO fallback schedule and NO
 * conditioning on the previous text, no initial prompt. Triage wants the first
 * pass: its confidence is the signal ("ASR failure is a feature" — re-sampling
 * at higher temperatures would hide a frightened caller's low confidence), its
 * latency is bounded (a fallback schedule can multiply the work by 6 × best_of),
 * and unconditioned windows cannot fall into repetition loops. The transcript
 * equals the text of `trident transcribe --json --language L --timestamps
 * --temperature 0 --condition-on-previous-text off` on the same audio and model
 * (trimmed). temperatures points at constant static data. */
whisper_transcribe_params pipeline_asr_params(const char *language);

/* What the voice and the words of one stretch of audio gave. Owned by the caller:
 * pipeline_signals_clear releases it. */
typedef struct {
    asr_transcript asr;   /* text is "" when ASR did not run */
    const char *asr_status; /* "ok", "skipped" (not requested / no model) or "failed" */
    char asr_reason[640]; /* why ASR did not run, "" when it did */
    double confidence;    /* asr.confidence = exp(the engine's avg_logprob: mean log-probability of
                           * the kept windows' tokens, one EOT per window), 0 without ASR */
    double distress;      /* bio-acoustic distress score in [0, 1] (the registry's distress model) */
    json_t *bio_acoustic; /* the bio module's "bio_acoustic" object (owned) */
    double opening_level_db; /* speech level of this audio's first seconds of speech (bio_result; NAN without speech) */
    double opening_speech_s; /* seconds of speech it is measured on (0 without speech) */
    double duration_s;
} pipeline_signals;
void pipeline_signals_clear(pipeline_signals *s);

/* Checks samples before any analysis: finite and |x| <= AUDIO_SAMPLE_MAX_ABS
 * (audio/audio.h: beyond it the samples are garbage, e.g. int16 values sent as
 * floats or 1e18, whose squares overflow the mel and pitch analyses).
 * Returns 0 or TRIDENT_EFORMAT with a message naming the first bad sample. */
int pipeline_pcm_check(const float *pcm, size_t n, char *err, size_t err_size);

/* Runs ASR and bio-acoustics concurrently on 16-kHz mono PCM. Returns 0,
 * TRIDENT_EBUSY (queue full), TRIDENT_EINVAL/EFORMAT (bad samples: see
 * pipeline_pcm_check) or TRIDENT_ENOMEM. confidence and distress are always
 * finite and in [0, 1]: an ASR result without a finite confidence counts as an
 * ASR failure, a non-finite distress is TRIDENT_EFORMAT. */
int pipeline_signals_compute(service_registry *reg, const float *pcm, size_t n, const pipeline_options *opt,
                             pipeline_signals *out, char *err, size_t err_size);

/* Content and triage on a transcript. */
typedef struct {
    json_t *nlp;            /* {"entities": {...}, "content_score"} (owned) */
    json_t *triage;         /* triage_result_to_json (owned) */
    triage_result decision;
    double content_score;
    int escalating;
} pipeline_assessment;
void pipeline_assessment_clear(pipeline_assessment *a);

/* confidence and distress in [0, 1]. Returns 0, TRIDENT_EINVAL (NaN/out-of-range
 * input) or TRIDENT_ENOMEM. */
int pipeline_assess(service_registry *reg, const char *transcript, double confidence, double distress,
                    pipeline_assessment *out, char *err, size_t err_size);

/* Builds the analyze JSON from the pieces (references are taken, not stolen).
 * Returns a new object or NULL when out of memory. */
json_t *pipeline_analysis_json(const char *transcript, double confidence, const pipeline_signals *sig,
                               const pipeline_assessment *a, const service_registry *reg);

/* The whole pipeline on one recording: *out is the analyze JSON (caller owns);
 * sig and a (optional, may be NULL) receive the pieces for storing. */
int pipeline_analyze_pcm(service_registry *reg, const float *pcm, size_t n, const pipeline_options *opt,
                         json_t **out, pipeline_signals *sig, pipeline_assessment *a, char *err, size_t err_size);

#endif
