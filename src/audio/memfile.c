/* memfile.c — a file in memory for libsndfile's virtual I/O: read-only over
 * an upload (decode.c) or growing as libsndfile writes a WAV (wav.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/internal.h"

static sf_count_t memfile_length(void *user) { return ((audio_memfile *)user)->size; }

static sf_count_t memfile_seek(sf_count_t offset, int whence, void *user) {
    audio_memfile *m = user;
    sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : m->size;
    sf_count_t p = base + offset;
    if (p < 0) p = 0;
    /* A writer may seek past the end (the gap reads as zeros once written). */
    if (!m->writable && p > m->size) p = m->size;
    m->pos = p;
    return p;
}

static sf_count_t memfile_read(void *ptr, sf_count_t count, void *user) {
    audio_memfile *m = user;
    sf_count_t left = m->size - m->pos;
    if (count > left) count = left;
    if (count <= 0) return 0;
    memcpy(ptr, m->data + m->pos, (size_t)count);
    m->pos += count;
    return count;
}

static sf_count_t memfile_write(const void *ptr, sf_count_t count, void *user) {
    audio_memfile *m = user;
    if (!m->writable || count <= 0) return 0;
    sf_count_t end = m->pos + count;
    if (end > m->cap) {
        sf_count_t cap = m->cap ? m->cap : 65536;
        while (cap < end) cap *= 2;
        unsigned char *p = realloc(m->buf, (size_t)cap);
        if (!p) {
            m->failed = 1;
            return 0;
        }
        m->buf = p;
        m->data = p;
        m->cap = cap;
    }
    if (m->pos > m->size) memset(m->buf + m->size, 0, (size_t)(m->pos - m->size));
    memcpy(m->buf + m->pos, ptr, (size_t)count);
    m->pos = end;
    if (end > m->size) m->size = end;
    return count;
}

static sf_count_t memfile_tell(void *user) { return ((audio_memfile *)user)->pos; }

audio_memfile audio_memfile_reader(const void *data, size_t size) {
    audio_memfile m = {.data = data, .size = (sf_count_t)size};
    return m;
}

audio_memfile audio_memfile_writer(void) {
    audio_memfile m = {.writable = 1};
    return m;
}

SF_VIRTUAL_IO audio_memfile_io(void) {
    SF_VIRTUAL_IO io = {.get_filelen = memfile_length,
                        .seek = memfile_seek,
                        .read = memfile_read,
                        .write = memfile_write,
                        .tell = memfile_tell};
    return io;
}
