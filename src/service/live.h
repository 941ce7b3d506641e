/* live.h — live-call sessions, independent of the transport (WebSocket, tests, CLI).
 *
 * The caller feeds float PCM (16 kHz mono) as it arrives. Voice-activity detection
 * (audio/vad.h) cuts it into utterances (silence hangover, 30-s cap); each utterance
 * is analysed in order on the call's own worker thread: ASR (through the scheduler,
 * never refused for a full queue) ‖ bio-acoustics, then confidence and distress are
 * averaged over the utterances so far weighted by duration (each utterance's
 * calibrated energy term measured against the call's opening speech level: the
 * first 3 s of speech of its first utterances), content is scored on the
 * whole transcript so far, triage decides, and the store record is updated — so a
 * crash mid-call loses at most the utterance in flight. The whole call is recorded
 * to <recordings>/<id>.wav as it arrives, linked to the record from the start (a
 * crash leaves a valid WAV that the interrupted record still points to).
 * live_call_close flushes the last utterance, finalises the record in a true
 * final state (live_end below) and emits call_ended.
 *
 * Events are JSON objects {"type": ..., ...} passed to the callback: "connected"
 * (call_id), "buffer_update", "processing_started", "processing_complete",
 * "error", "call_ended". The callback runs on the feeding thread or the worker
 * thread (never both at once for one call: calls are serialised by the call's
 * event mutex) and must not call back into the call.
 *
 * Threads: one live_call belongs to one feeder; the registry's live table is
 * guarded by reg->live_lock. */
#ifndef TRIDENT_SERVICE_LIVE_H
#define TRIDENT_SERVICE_LIVE_H

#include <jansson.h>
#include <stddef.h>

#include "service/service.h"

/* event is borrowed for the duration of the call. */
typedef void (*live_event_fn)(void *ctx, json_t *event);

/* Opens a live call: creates its in_progress record (with caller, the caller's
 * identity, NULL when unknown; checked by store_caller_check) and recording,
 * starts its worker and emits "connected". The caller owns *out and must
 * live_call_close it. TRIDENT_EBUSY when the server is shutting down,
 * TRIDENT_EINVAL for a caller the store refuses. */
int live_call_open(service_registry *reg, const char *caller, live_event_fn on_event, void *ctx, live_call **out,
                   char *err, size_t err_size);

/* The call's id (36-char UUID). */
const char *live_call_id(const live_call *call);

/* Feeds samples. Returns 0; TRIDENT_EFORMAT (samples refused by
 * pipeline_pcm_check: non-finite or beyond ±AUDIO_SAMPLE_MAX_ABS; nothing is kept);
 * TRIDENT_ELIMIT (the call reached its length limit: the rest is refused). Emits
 * "buffer_update" (and queues completed utterances for analysis). */
int live_call_feed(live_call *call, const float *pcm, size_t n, char *err, size_t err_size);

/* Feeds samples as they arrive on the wire: little-endian float32, len a positive
 * multiple of 4 (else TRIDENT_EINVAL). Otherwise as live_call_feed. */
int live_call_feed_f32le(live_call *call, const void *bytes, size_t len, char *err, size_t err_size);

/* Reports an error event to the call's client ({"type":"error","message":...}). */
void live_call_error_emit(live_call *call, const char *message);

/* How a call ended, as the transport saw it. The stored status follows from it:
 * LIVE_END_CLIENT → completed, LIVE_END_LOST and LIVE_END_REFUSED → truncated,
 * LIVE_END_SHUTDOWN → interrupted — except that a call in which no speech was
 * heard is abandoned, and one whose every utterance failed to be analysed is
 * failed (the reason is the last analysis error). */
typedef enum {
    LIVE_END_CLIENT = 0, /* the caller ended it ({"type":"end"}, a WebSocket close frame) */
    LIVE_END_LOST,       /* the connection dropped without a close handshake */
    LIVE_END_REFUSED,    /* the server ended it: length limit, oversized message, protocol error */
    LIVE_END_SHUTDOWN,   /* the server is stopping */
} live_end;

/* Ends the call: analyses what is left, finalises the record (status from how,
 * status_reason from why — may be NULL — and how much audio arrived) and the
 * recording, emits "call_ended" (with "status" and "status_reason"), joins the
 * worker and frees call. NULL-safe. */
void live_call_close(live_call *call, live_end how, const char *why);

/* Closes every live call still open (graceful shutdown). */
void live_call_close_all(service_registry *reg);

#endif
