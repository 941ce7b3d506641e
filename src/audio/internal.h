/* internal.h — declarations shared by the files of src/audio/ only (other
 * modules include audio/audio.h): the streaming resampler that decode.c
 * drives chunk by chunk, and the in-memory file that decode.c reads uploads
 * from and wav.c encodes into. */
#ifndef TRIDENT_AUDIO_INTERNAL_H
#define TRIDENT_AUDIO_INTERNAL_H

#include <stddef.h>

#include <sndfile.h>

/* A growable float buffer: data[0 .. len) valid, cap allocated. */
typedef struct {
    float *data;
    size_t len, cap;
} audio_fbuf;

/* Makes room for at least extra more samples. Returns 0 or TRIDENT_ENOMEM. */
int audio_fbuf_reserve(audio_fbuf *b, size_t extra);

/* Streaming mono float resampler (libsoxr, high quality). */
typedef struct audio_resampler audio_resampler;

/* Creates a resampler from rate_in to rate_out. The caller owns *out
 * (audio_resampler_free). Returns 0 or TRIDENT_EINVAL/ENOMEM. */
int audio_resampler_new(int rate_in, int rate_out, audio_resampler **out, char *err, size_t err_size);
/* Converts n input samples and appends the output to dst. */
int audio_resampler_process(audio_resampler *r, const float *in, size_t n, audio_fbuf *dst, char *err,
                            size_t err_size);
/* Drains the filter's delay line into dst at the end of the input. */
int audio_resampler_finish(audio_resampler *r, audio_fbuf *dst, char *err, size_t err_size);
void audio_resampler_free(audio_resampler *r);

/* A file in memory for sf_open_virtual (memfile.c): pass &m as the user data
 * and audio_memfile_io() as the I/O table. One belongs to one SNDFILE. */
typedef struct {
    const unsigned char *data; /* what reads see: the input, or buf */
    unsigned char *buf;        /* a writer's bytes; the caller frees it (free()) after sf_close */
    sf_count_t size, cap, pos;
    int writable;
    int failed; /* a write ran out of memory */
} audio_memfile;

/* Reads size bytes at data (borrowed; must outlive the SNDFILE). Writes fail. */
audio_memfile audio_memfile_reader(const void *data, size_t size);
/* An empty file that grows as libsndfile writes to it. */
audio_memfile audio_memfile_writer(void);
/* The libsndfile virtual I/O table over an audio_memfile. */
SF_VIRTUAL_IO audio_memfile_io(void);

#endif
