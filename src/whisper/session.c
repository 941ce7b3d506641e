/* session.c — creating and freeing a whisper_session (its buffers are sized
 * once from the model's hyper-parameters and reused by every call). */
#include <stdlib.h>

#include "base/error.h"
#include "whisper/session.h"

static float *alloc_floats(size_t n, int *failed) {
    float *p = calloc(n ? n : 1, sizeof(float));
    if (!p) *failed = 1;
    return p;
}

int whisper_session_new(const whisper_model *model, int n_threads, whisper_session **out, char *err, size_t err_size) {
    *out = NULL;
    if (!model) return error_set(err, err_size, TRIDENT_EINVAL, "no model");
    whisper_session *s = calloc(1, sizeof *s);
    if (!s) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory creating a session");
    s->model = model;
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
    s->kv.k = alloc_floats(L * tc * d, &failed);
    s->kv.v = alloc_floats(L * tc * d, &failed);
    s->cross_k = alloc_floats(L * T * d, &failed);
    s->cross_v = alloc_floats(L * T * d, &failed);
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
                     s->kv.v, s->cross_k, s->cross_v, s->d_x, s->d_h, s->d_q, s->d_a, s->d_f};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) free(bufs[i]);
    free(s);
}
