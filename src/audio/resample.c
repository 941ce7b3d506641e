/* resample.c — sample-rate conversion of mono float PCM with libsoxr (high
 * quality): a one-shot converter (audio_resample) and the streaming resampler
 * that decode.c feeds chunk by chunk, so long files never sit in memory at
 * their source rate. */
#include <stdlib.h>
#include <string.h>

#include <soxr.h>

#include "audio/audio.h"
#include "audio/internal.h"
#include "base/error.h"

struct audio_resampler {
    soxr_t soxr;
    double ratio; /* rate_out / rate_in */
};

int audio_fbuf_reserve(audio_fbuf *b, size_t extra) {
    if (extra <= b->cap - b->len) return TRIDENT_OK;
    if (extra > ((size_t)-1) / sizeof(float) / 2 - b->len) return TRIDENT_ENOMEM;
    size_t need = b->len + extra;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < need) cap *= 2;
    float *p = realloc(b->data, cap * sizeof(float));
    if (!p) return TRIDENT_ENOMEM;
    b->data = p;
    b->cap = cap;
    return TRIDENT_OK;
}

static int rates_check(int rate_in, int rate_out, char *err, size_t err_size) {
    if (rate_in <= 0 || rate_out <= 0)
        return error_set(err, err_size, TRIDENT_EINVAL, "cannot resample from %d Hz to %d Hz: rates must be positive",
                         rate_in, rate_out);
    return TRIDENT_OK;
}

int audio_resampler_new(int rate_in, int rate_out, audio_resampler **out, char *err, size_t err_size) {
    *out = NULL;
    int rc = rates_check(rate_in, rate_out, err, err_size);
    if (rc) return rc;
    audio_resampler *r = calloc(1, sizeof *r);
    if (!r) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory creating a resampler");
    soxr_error_t e = NULL;
    soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
    soxr_quality_spec_t q = soxr_quality_spec(SOXR_HQ, 0);
    soxr_runtime_spec_t rt = soxr_runtime_spec(1); /* one thread: callers parallelise across files */
    r->soxr = soxr_create((double)rate_in, (double)rate_out, 1, &e, &io, &q, &rt);
    if (!r->soxr || e) {
        if (r->soxr) soxr_delete(r->soxr);
        free(r);
        return error_set(err, err_size, TRIDENT_EINVAL, "cannot create a resampler from %d Hz to %d Hz: %s", rate_in,
                         rate_out, e ? e : "unknown soxr error");
    }
    r->ratio = (double)rate_out / (double)rate_in;
    *out = r;
    return TRIDENT_OK;
}

/* Runs soxr on in (NULL = flush) until all input is consumed and, when
 * flushing, until no more output comes. */
static int resampler_run(audio_resampler *r, const float *in, size_t n, audio_fbuf *dst, char *err,
                         size_t err_size) {
    size_t done_in = 0;
    for (;;) {
        size_t left = in ? n - done_in : 0;
        size_t want = (size_t)((double)left * r->ratio) + 1024;
        if (audio_fbuf_reserve(dst, want))
            return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory resampling audio");
        size_t idone = 0, odone = 0;
        soxr_error_t e = soxr_process(r->soxr, in ? in + done_in : NULL, left, in ? &idone : NULL,
                                      dst->data + dst->len, dst->cap - dst->len, &odone);
        if (e) return error_set(err, err_size, TRIDENT_EINVAL, "resampling failed: %s", e);
        dst->len += odone;
        done_in += idone;
        if (in) {
            if (done_in >= n) return TRIDENT_OK;
            if (idone == 0 && odone == 0)
                return error_set(err, err_size, TRIDENT_EINVAL, "resampling made no progress");
        } else if (odone == 0) {
            return TRIDENT_OK;
        }
    }
}

int audio_resampler_process(audio_resampler *r, const float *in, size_t n, audio_fbuf *dst, char *err,
                            size_t err_size) {
    if (n == 0) return TRIDENT_OK;
    return resampler_run(r, in, n, dst, err, err_size);
}

int audio_resampler_finish(audio_resampler *r, audio_fbuf *dst, char *err, size_t err_size) {
    return resampler_run(r, NULL, 0, dst, err, err_size);
}

void audio_resampler_free(audio_resampler *r) {
    if (!r) return;
    soxr_delete(r->soxr);
    free(r);
}

int audio_resample(const float *in, size_t n_in, int rate_in, int rate_out, float **out, size_t *n_out,
                   char *err, size_t err_size) {
    *out = NULL;
    *n_out = 0;
    int rc = rates_check(rate_in, rate_out, err, err_size);
    if (rc) return rc;
    if (rate_in == rate_out) {
        float *copy = malloc((n_in ? n_in : 1) * sizeof(float));
        if (!copy) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory copying %zu samples", n_in);
        if (n_in) memcpy(copy, in, n_in * sizeof(float));
        *out = copy;
        *n_out = n_in;
        return TRIDENT_OK;
    }
    audio_resampler *r = NULL;
    rc = audio_resampler_new(rate_in, rate_out, &r, err, err_size);
    if (rc) return rc;
    audio_fbuf buf = {0};
    rc = audio_resampler_process(r, in, n_in, &buf, err, err_size);
    if (!rc) rc = audio_resampler_finish(r, &buf, err, err_size);
    audio_resampler_free(r);
    if (rc) {
        free(buf.data);
        return rc;
    }
    if (!buf.data) {
        buf.data = malloc(sizeof(float));
        if (!buf.data) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory resampling audio");
    }
    *out = buf.data;
    *n_out = buf.len;
    return TRIDENT_OK;
}
