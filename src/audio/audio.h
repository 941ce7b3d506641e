/* audio.h — the shared audio module: decoding, resampling, WAV writing, PCM
 * utilities and (via audio/vad.h, included here) voice-activity detection.
 *
 * Everything downstream (engine, bio-acoustics, server, CLI) works on mono
 * float PCM at 16 kHz. This header turns any file libsndfile can read — WAV
 * (PCM 8/16/24/32-bit, float, µ-law, A-law), FLAC, OGG (Vorbis, Opus), MP3 —
 * from a path or from a memory buffer into exactly that: channels are mixed
 * down to their mean, the rate is converted with libsoxr (high quality).
 * Integer PCM is scaled the usual way (int16 / 32768). Bad input (not audio,
 * truncated, empty, NaN/Inf or huge samples, absurd sizes) is a TRIDENT_EFORMAT /
 * TRIDENT_ELIMIT error whose message says what is wrong and what is accepted.
 *
 * All functions are thread-safe: they keep no state between calls, except the
 * objects (audio_wav_writer, audio_vad) which belong to one caller at a time. */
#ifndef TRIDENT_AUDIO_AUDIO_H
#define TRIDENT_AUDIO_AUDIO_H

#include <stddef.h>
#include <stdint.h>

#include "audio/vad.h"

/* The rate every decoded signal is delivered at unless asked otherwise. */
#define AUDIO_SAMPLE_RATE 16000
/* Default cap on decoded duration (seconds); audio_decode_options.max_seconds. */
#define AUDIO_DEFAULT_MAX_SECONDS 7200.0

/* The largest sample magnitude a decoded file may hold. Float audio is nominally
 * within [-1, 1]; up to 64 (36 dB over full scale) passes, beyond it the
 * samples are garbage (e.g. 1e18) that would overflow the analyses. */
#define AUDIO_SAMPLE_MAX_ABS 64.0f

/* One-line list of accepted formats, for error messages and --help texts. */
#define AUDIO_ACCEPTED_FORMATS                                                                         \
    "WAV (PCM 8/16/24/32-bit, float, u-law, A-law), FLAC, OGG (Vorbis, Opus), MP3"

/* Mono float PCM. samples is owned by the struct: release with audio_pcm_clear. */
typedef struct {
    float *samples;
    size_t n_samples;
    int sample_rate;     /* rate of samples (AUDIO_SAMPLE_RATE unless asked otherwise) */
    int source_rate;     /* the file's own rate */
    int source_channels; /* the file's channel count before the mix-down */
    char source_format[96]; /* short description, e.g. "WAV PCM 16-bit" or "FLAC" */
} audio_pcm;

typedef struct {
    int target_rate;    /* 0 = AUDIO_SAMPLE_RATE */
    double max_seconds; /* longest accepted input; 0 = AUDIO_DEFAULT_MAX_SECONDS */
} audio_decode_options;

/* ---- decode.c ---------------------------------------------------------- */

/* Decodes the audio file at path into mono float PCM at opts->target_rate
 * (opts may be NULL for the defaults). On success *out holds the samples,
 * owned by the caller (audio_pcm_clear); on error *out is zeroed and a negative
 * TRIDENT_E* code is returned: ENOTFOUND/EIO (cannot open), EFORMAT (not audio
 * libsndfile reads, truncated, no samples, NaN/Inf samples), ELIMIT (longer
 * than max_seconds, absurd channel count or rate), ENOMEM. */
int audio_decode_file(const char *path, const audio_decode_options *opts, audio_pcm *out, char *err,
                      size_t err_size);

/* The same for an encoded file held in memory (an upload). data is only read
 * during the call; size 0 is an EFORMAT error ("empty"). Both run audio_probe
 * first; both refuse a file whose header declares more than max_seconds, or
 * more than max_seconds x 768000 samples over all channels (the decoding
 * cost), before reading any sample. */
int audio_decode_memory(const void *data, size_t size, const audio_decode_options *opts, audio_pcm *out,
                        char *err, size_t err_size);

/* Frees pcm->samples and zeroes *pcm. NULL-safe; safe on a zeroed struct. */
void audio_pcm_clear(audio_pcm *pcm);

/* ---- probe.c ----------------------------------------------------------- */

/* What an encoded file's header declares. */
typedef struct {
    const char *container; /* "WAV", "FLAC", "OGG" or "MP3" (static) */
    int sample_rate;       /* 0 when the header does not say (OGG, MP3) */
    int channels;          /* 0 when the header does not say */
    int64_t frames;        /* declared length in frames; -1 when unknown */
} audio_probe_info;

/* The structural pre-check every decode runs before libsndfile sees the
 * bytes: the container must be an accepted one (RIFF/WAVE, FLAC, OGG, MP3, by
 * magic bytes); a WAV file's chunks must fit in the file and its LIST
 * sub-chunks in their LIST. Fills *out with what the header declares. what
 * names the input in messages. Returns 0 or TRIDENT_EFORMAT. Reads data only. */
int audio_probe(const void *data, size_t size, const char *what, audio_probe_info *out, char *err, size_t err_size);

/* Declared duration in seconds, or -1 when the header does not state it. */
double audio_probe_duration(const audio_probe_info *info);

/* ---- isolate.c --------------------------------------------------------- */

/* Bounds on decoding untrusted audio in a child process. */
typedef struct {
    double max_wall_s;       /* the decoder is killed after this; 0: 10 s + max_seconds / 100 */
    size_t max_memory_bytes; /* address space the decoder may add; 0: derived from max_seconds */
    const char *exe;         /* an executable whose main hands `exe AUDIO_DECODER_ARG ...` to
                              * audio_decoder_main (the server: its own binary); NULL: fork */
} audio_isolation;

/* The first argument that makes a program run audio_decoder_main. */
#define AUDIO_DECODER_ARG "__trident-decoder"

/* audio_decode_memory in a child process, so that a hang or a crash inside
 * libsndfile cannot take the caller with it. The child is spawned from iso->exe
 * (the upload copied into a memfd: no page-table copy, the cost does not grow
 * with the caller's memory) or, without exe, forked (no exec; its cost grows
 * with the caller's anonymous memory). It runs under RLIMIT_CPU and RLIMIT_AS
 * (not in sanitizer builds, whose shadow memory defeats RLIMIT_AS), is killed
 * at the wall-clock deadline, and sends the PCM back over a pipe. iso may be
 * NULL for the defaults. Returns what audio_decode_memory returns, or
 * TRIDENT_EFORMAT when the decoder was killed, crashed or ran out of its
 * memory (the message says which), TRIDENT_EIO/ENOMEM when no child could be
 * started. *out as for audio_decode_memory (caller frees). */
int audio_decode_memory_isolated(const void *data, size_t size, const audio_decode_options *opts,
                                 const audio_isolation *iso, audio_pcm *out, char *err, size_t err_size);

/* The decoder process's main (argv[1] == AUDIO_DECODER_ARG): the encoded file
 * on stdin (a seekable memfd), the result on stdout. Returns the exit status. */
int audio_decoder_main(int argc, char **argv);

/* ---- resample.c -------------------------------------------------------- */

/* Converts mono float PCM from rate_in to rate_out with libsoxr (high quality).
 * *out (caller frees with free()) receives *n_out ≈ n_in·rate_out/rate_in
 * samples; equal rates give a copy. Returns 0 or TRIDENT_EINVAL/ENOMEM. */
int audio_resample(const float *in, size_t n_in, int rate_in, int rate_out, float **out, size_t *n_out,
                   char *err, size_t err_size);

/* ---- wav.c ------------------------------------------------------------- */

typedef enum {
    AUDIO_WAV_PCM16 = 0, /* 16-bit integer PCM: round(x·32768), clipped */
    AUDIO_WAV_FLOAT = 1, /* 32-bit IEEE float */
} audio_wav_format;

/* Writes mono PCM (sample_rate Hz) as a WAV file at path (replaced if present).
 * Samples must be finite (EINVAL otherwise). Returns 0 or TRIDENT_EIO/EINVAL. */
int audio_wav_write_file(const char *path, const float *samples, size_t n_samples, int sample_rate,
                         audio_wav_format format, char *err, size_t err_size);

/* Encodes mono PCM as a WAV file in memory. *out (caller frees with free())
 * holds *out_size bytes. Returns 0 or TRIDENT_EINVAL/ENOMEM. */
int audio_wav_write_memory(const float *samples, size_t n_samples, int sample_rate, audio_wav_format format,
                           void **out, size_t *out_size, char *err, size_t err_size);

/* An appendable WAV file (a live call's recording): the header is rewritten
 * after every append, so the file on disk is a valid WAV of everything
 * appended so far even if the process dies. */
typedef struct audio_wav_writer audio_wav_writer;

/* Creates (truncates) path. The caller owns *out and closes it with
 * audio_wav_writer_close. Returns 0 or TRIDENT_EIO/EINVAL/ENOMEM. */
int audio_wav_writer_open(const char *path, int sample_rate, audio_wav_format format, audio_wav_writer **out,
                          char *err, size_t err_size);
/* Appends finite samples and flushes them to the file. Returns 0 or EINVAL/EIO. */
int audio_wav_writer_append(audio_wav_writer *w, const float *samples, size_t n_samples, char *err,
                            size_t err_size);
/* Samples written so far. */
size_t audio_wav_writer_count(const audio_wav_writer *w);
/* Finalises and closes the file, frees w. NULL-safe. Returns 0 or TRIDENT_EIO. */
int audio_wav_writer_close(audio_wav_writer *w, char *err, size_t err_size);

/* ---- pcm.c ------------------------------------------------------------- */

/* Duration in seconds of n_samples at sample_rate (0 if the rate is not positive). */
double audio_pcm_duration(size_t n_samples, int sample_rate);

/* Root mean square of x (0 for n == 0). Accumulates in double. */
double audio_pcm_rms(const float *x, size_t n);

/* Largest |x| (0 for n == 0). */
double audio_pcm_peak(const float *x, size_t n);

/* 0 if every sample is finite, else TRIDENT_EFORMAT naming the first bad
 * sample (index, NaN or ±Inf). */
int audio_pcm_validate(const float *x, size_t n, char *err, size_t err_size);

/* Validates and converts raw little-endian float32 bytes (a WebSocket chunk):
 * n_bytes must be a positive multiple of 4 and every value finite. Writes
 * n_bytes/4 samples to out (capacity out_cap samples) and sets *n_out.
 * Returns 0, TRIDENT_EFORMAT (bad length, non-finite value, empty) or
 * TRIDENT_ELIMIT (out_cap too small). out may alias nothing in bytes. */
int audio_pcm_from_f32le(const void *bytes, size_t n_bytes, float *out, size_t out_cap, size_t *n_out,
                         char *err, size_t err_size);

/* Converts interleaved int16 PCM to float (x / 32768). */
void audio_pcm_from_s16(const int16_t *in, size_t n, float *out);

#endif
