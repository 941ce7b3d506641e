/* upload.h — one uploaded recording, from its encoded bytes to a stored call:
 *
 *   admission (a place in the inference queue, else TRIDENT_EBUSY)
 *   → audio_probe: accepted container, sound structure, declared duration
 *     within max_call_s — all before any decoding
 *   → decoding in a child process under a deadline and memory bound
 *     (audio_decode_memory_isolated)
 *   → the pipeline (ASR ‖ bio-acoustics → content → triage)
 *   → the store: the call (status completed) and its recording.
 *
 * Transport-independent: the server's POST /api/analyze parses the request and
 * maps the result codes to HTTP statuses. Thread-safe. */
#ifndef TRIDENT_SERVICE_UPLOAD_H
#define TRIDENT_SERVICE_UPLOAD_H

#include <jansson.h>
#include <stddef.h>

#include "service/service.h"

/* Analyses and stores the file data[0 .. size) sent as filename (NULL or "":
 * none). On success *out is the analyze JSON (pipeline.h) plus "call_id"
 * (null without a store or when storing failed, which is logged), "audio_url"
 * and "filename"; the caller owns it. Errors: TRIDENT_EBUSY (the queue is
 * full or the server is shutting down), TRIDENT_EFORMAT (not accepted audio,
 * malformed, undecodable within the bounds, bad samples), TRIDENT_ELIMIT
 * (longer than max_call_s, declared or decoded), TRIDENT_ENOMEM/EIO. */
int service_upload_analyze(service_registry *reg, const void *data, size_t size, const char *filename, json_t **out,
                           char *err, size_t err_size);

/* Transcribes the file for a transcription client (the OpenAI-compatible
 * routes): the same admission, pre-checks and isolated decoding as an
 * analysis, then ASR alone with the client's params (required) — no triage,
 * nothing stored. On success *out is the engine's result (caller frees with
 * whisper_result_free) and *duration_s the decoded audio's length. Errors as
 * service_upload_analyze, plus TRIDENT_ENOTFOUND when no model is configured
 * or it cannot be loaded (checked before the audio is decoded; the message
 * says why) and TRIDENT_EINVAL for params the engine refuses (an unknown
 * language, translate on an English-only model). */
int service_upload_transcribe(service_registry *reg, const void *data, size_t size,
                              const whisper_transcribe_params *params, whisper_result **out, double *duration_s,
                              char *err, size_t err_size);

#endif
