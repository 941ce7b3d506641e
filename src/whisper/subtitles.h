/* subtitles.h — a transcription's segments as plain text, SRT or WebVTT (the
 * official writers' layout); public, for `trident transcribe`. No state; thread-safe. */
#ifndef TRIDENT_WHISPER_SUBTITLES_H
#define TRIDENT_WHISPER_SUBTITLES_H

#include <stddef.h>

#include "whisper/engine.h"

/* Renders a result's segments as the reference's writers do: "txt" (each
 * segment's stripped text on its own line), "srt" (numbered cues,
 * HH:MM:SS,mmm) or "vtt" ("WEBVTT" header, [HH:]MM:SS.mmm); cue text is the
 * stripped segment text with "-->" written "->" (every segment is a cue, as
 * in the reference). Returns a string the caller frees, or NULL for an unknown format or OOM. */
char *whisper_result_format(const whisper_result *result, const char *format);

/* Writes seconds (>= 0, rounded to the millisecond) as [HH:]MM:SS<marker>mmm into
 * out (at least 32 bytes); hours appear when always_hours or when non-zero. */
void whisper_timestamp_format(double seconds, int always_hours, char decimal_marker, char *out, size_t out_size);

#endif
