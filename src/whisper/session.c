/* session.c — creating and freeing a whisper_session (its buffers are sized
 * once from the model's hyper-parameters and reused by every call). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/mem.h"
#include "whisper/session.h"
#include "whisper/quant.h"

static void *alloc_zeroed(size_t n, size_t size, int *failed) {
    void *p = calloc(n ? n : 1, size);
    if (!p) *failed = 1;
    return p;
}

static float *alloc_floats(size_t n, int *failed) { return alloc_zeroed(n, sizeof(float), failed); }

/* A buffer every decoder step streams (the caches): zeroed, on huge pages where the kernel gives them. */
static void *alloc_streamed(size_t n, size_t size, int *failed) {
    void *p = n && size <= SIZE_MAX / n ? mem_alloc_streamed(n * size) : NULL;
    if (!p) *failed = 1;
    return p;
}

int whisper_session_new(const whisper_model *model, int n_threads, whisper_session **out, char *err, size_t err_size) {
    *out = NULL;
    if (!model) return error_set(err, err_size, TRIDENT_EINVAL, "no model");
    whisper_session *s = calloc(1, sizeof *s);
    if (!s) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory creating a session");
    s->model = model;
    s->n_ctx = model->hp.n_audio_ctx;
    s->pool = threadpool_new(n_threads > 0 ? n_threads : model->n_threads);
    if (!s->pool) {
        free(s);
        return error_set(err, err_size, TRIDENT_ENOMEM, "cannot start the session's threads");
    }
    const whisper_hparams *hp = &model->hp;
    size_t d = (size_t)hp->d_model, T = (size_t)hp->n_audio_ctx, T1 = 2 * T, C = (size_t)hp->n_mels;
    size_t tc = (size_t)hp->n_text_ctx, L = (size_t)hp->dec_layers;
    size_t big = T1 * C * 3;
    if (T * d * 3 > big) big = T * d * 3;
    if (T * (size_t)hp->enc_ffn > big) big = T * (size_t)hp->enc_ffn;
    size_t ctx = T > tc ? T : tc;
    int failed = 0;
    s->scores = alloc_floats((size_t)threadpool_size(s->pool) * ctx, &failed);
    s->enc_out = alloc_floats(T * d, &failed);
    s->e_big = alloc_floats(big, &failed);
    s->e_h = alloc_floats(T * d, &failed);
    s->e_q = alloc_floats(T1 * d, &failed);
    s->e_k = alloc_floats(T * d, &failed);
    s->e_v = alloc_floats(T * d, &failed);
    s->e_a = alloc_floats(T * d, &failed);
    s->kv.k = alloc_streamed(L * tc * d, sizeof(float), &failed);
    s->kv.v = alloc_streamed(L * tc * d, sizeof(float), &failed);
    s->cross_k = alloc_streamed(L * T * d, sizeof(int16_t), &failed);
    s->cross_k_scale = alloc_floats(L * T * (size_t)hp->dec_heads, &failed);
    s->cross_v = alloc_streamed(L * T * d, sizeof(uint16_t), &failed);
    if (model->weights == WHISPER_WEIGHTS_Q8)
        s->proj_scratch = alloc_floats(whisper_q8_top_exact_scratch(&model->proj_q8), &failed);
    s->d_x = alloc_floats(tc * d, &failed);
    s->d_h = alloc_floats(tc * d, &failed);
    s->d_q = alloc_floats(tc * d, &failed);
    s->d_a = alloc_floats(tc * d, &failed);
    s->d_f = alloc_floats(tc * (size_t)hp->dec_ffn, &failed);
    if (failed) {
        whisper_session_free(s);
        return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory allocating a session's buffers");
    }
    *out = s;
    return 0;
}

void whisper_session_free(whisper_session *s) {
    if (!s) return;
    threadpool_free(s->pool);
    float *bufs[] = {s->scores, s->enc_out, s->e_big, s->e_h, s->e_q, s->e_k, s->e_v, s->e_a, s->kv.k,
                     s->kv.v, s->cross_k_scale, s->d_x, s->d_h, s->d_q, s->d_a, s->d_f};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
    free(s->cross_k);
    free(s->cross_v);
    free(s->proj_scratch);
    for (int i = 0; i < s->n_extra_kv; i++) {
        free(s->extra_kv[i].k);
        free(s->extra_kv[i].v);
    }
    free(s->extra_kv);
    free(s);
}

int whisper_session_kv_reserve(whisper_session *s, int n) {
    if (n - 1 <= s->n_extra_kv) return 0;
    const whisper_hparams *hp = &s->model->hp;
    size_t per = (size_t)hp->dec_layers * hp->n_text_ctx * hp->d_model;
    whisper_kv_cache *grown = realloc(s->extra_kv, (size_t)(n - 1) * sizeof *grown);
    if (!grown) return TRIDENT_ENOMEM;
    s->extra_kv = grown;
    while (s->n_extra_kv < n - 1) {
        whisper_kv_cache *c = &s->extra_kv[s->n_extra_kv];
        c->k = malloc(per * sizeof(float));
        c->v = malloc(per * sizeof(float));
        c->n = 0;
        if (!c->k || !c->v) {
            free(c->k);
            free(c->v);
            return TRIDENT_ENOMEM;
        }
        s->n_extra_kv++;
    }
    return 0;
}

whisper_kv_cache *whisper_session_kv(whisper_session *s, int i) { return i == 0 ? &s->kv : &s->extra_kv[i - 1]; }

void whisper_kv_cache_copy(const whisper_model *m, whisper_kv_cache *dst, const whisper_kv_cache *src) {
    const whisper_hparams *hp = &m->hp;
    size_t layer = (size_t)hp->n_text_ctx * hp->d_model, used = (size_t)src->n * hp->d_model;
    for (int l = 0; l < hp->dec_layers; l++) {
        memcpy(dst->k + l * layer, src->k + l * layer, used * sizeof(float));
        memcpy(dst->v + l * layer, src->v + l * layer, used * sizeof(float));
    }
    dst->n = src->n;
}
