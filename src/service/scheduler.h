/* scheduler.h — the inference scheduler: N slots share the one ASR model.
 *
 * Each slot is a worker thread with its own whisper_session (created when the slot
 * first runs a job and reused afterwards). Jobs wait in one bounded FIFO queue.
 * A request is ONE long-form transcription (whisper_transcription: the official
 * seek logic and previous-text conditioning over the whole recording, its log-mel
 * computed once in the request's thread), and the unit of scheduling is one of
 * its 30-s windows: a slot takes the job at the head of the queue, decodes its
 * next window (whisper_transcription_step, with that window's temperature
 * fallbacks) and, unless that was the last, puts the job back at the queue's tail
 * — a round-robin between requests, on whichever slot is free. So a short upload
 * that arrives while a long one is being transcribed waits for at most the window
 * in flight on each slot, never for the whole long recording, and the long one's
 * transcript is exactly what `trident transcribe` gives with the same parameters.
 * Only a request's admission is subject to the queue bound (TRIDENT_EBUSY when
 * full: the server answers 503 + Retry-After); its later windows are always
 * re-queued. A caller that submits utterances one at a time (a live call) gets
 * them processed in order. On shutdown, a request between two windows fails with
 * TRIDENT_EBUSY.
 *
 * Thread safety: all functions may be called from any thread; the queue and the
 * statistics are guarded by the scheduler's one mutex. */
#ifndef TRIDENT_SERVICE_SCHEDULER_H
#define TRIDENT_SERVICE_SCHEDULER_H

#include <stddef.h>

#include "service/asr.h"

typedef struct infer_scheduler infer_scheduler;

typedef struct {
    int slots;            /* >= 1 */
    int threads_per_slot; /* <= 0: all cores / slots */
    int queue_max;        /* waiting jobs beyond which new requests are refused (>= 1) */
} infer_scheduler_config;

/* Starts the slot threads. The scheduler does not own asr. Free with infer_scheduler_free
 * (which finishes queued jobs' callers with an error and joins the threads). */
int infer_scheduler_new(asr_service *asr, const infer_scheduler_config *cfg, infer_scheduler **out, char *err,
                        size_t err_size);
void infer_scheduler_free(infer_scheduler *sched);

/* After a successful preload: every idle slot creates its session now, so that no
 * request pays for it. Returns at once (the slots work in the background). */
void infer_scheduler_prepare(infer_scheduler *sched);

/* Transcribes 16-kHz mono PCM with params (required; the pipeline's are
 * pipeline_asr_params) — waiting for a lazy model load if needed. Blocks until
 * done. Returns 0; TRIDENT_EBUSY when the queue is full (or on shutdown); or the
 * model's / engine's error with a message. flags: 0, INFER_UNBOUNDED or INFER_RESERVED. */
#define INFER_UNBOUNDED 1 /* flags: never refused for a full queue (a live call's utterances) */
#define INFER_RESERVED 2  /* flags: admitted by infer_scheduler_reserve; the place is used (and released) */
#define INFER_KEEP_RESULT 4 /* flags: out->result keeps the engine's whole result (segments for subtitles) */
int infer_scheduler_transcribe(infer_scheduler *sched, const float *pcm, size_t n_samples,
                               const whisper_transcribe_params *params, int flags, asr_transcript *out, char *err,
                               size_t err_size);

/* Admission before expensive preparation (an upload's decoding): takes a place
 * in the queue if one is free — places taken and jobs waiting together stay
 * within queue_max — else TRIDENT_EBUSY (counted as a rejected request). The
 * holder passes INFER_RESERVED to infer_scheduler_transcribe, which uses the
 * place, or gives it back with infer_scheduler_release. */
int infer_scheduler_reserve(infer_scheduler *sched, char *err, size_t err_size);
void infer_scheduler_release(infer_scheduler *sched);

typedef struct {
    int slots, busy_slots, queue_depth, queue_max, reserved;
    long long jobs_done, jobs_failed, requests_rejected;
    double wait_ms_sum, infer_ms_sum; /* over decoded windows (jobs_* count windows) */
} infer_scheduler_stats;
void infer_scheduler_stats_get(infer_scheduler *sched, infer_scheduler_stats *out);

#endif
