/* test_whisper_audio_ctx.c — the fitted encoder context
 * (whisper_transcribe_params.audio_ctx_fit, whisper_encoder_forward_ctx) on the
 * fixture model tiny-random-v2:
 *  - off (the default): the encoder over the full context gives the same output
 *    as whisper_encoder_forward, and a transcription with the field set to 0
 *    equals one with the defaults, also after a fitted run on the same session;
 *  - on: jfk.wav (11 s) is encoded over its own frames only — the positions in
 *    use are a multiple of 64 that covers the audio and fewer than 1500 —, the
 *    encoder output is finite and the decode yields tokens and text (which
 *    differ from the full window's: the model's input changed); on the 53-s
 *    call the full windows keep the whole context and the result is complete.
 * Asserted is behaviour, not equality with the full-window transcript. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "base/error.h"
#include "check.h"
#include "npy.h"
#include "whisper/encoder.h"
#include "whisper/engine.h"
#include "whisper/model.h"
#include "whisper/session.h"
#include "whisper_fixtures.h"

static int same_result(const whisper_result *a, const whisper_result *b) {
    if (!a->text || !b->text || strcmp(a->text, b->text) != 0 || a->n_windows != b->n_windows) return 0;
    for (int w = 0; w < a->n_windows; w++) {
        const whisper_window *x = &a->windows[w], *y = &b->windows[w];
        if (x->n_tokens != y->n_tokens || x->sum_logprob != y->sum_logprob) return 0;
        for (int i = 0; i < x->n_tokens; i++)
            if (x->tokens[i].id != y->tokens[i].id) return 0;
    }
    return 1;
}

static void encoder_cases(whisper_session *s) {
    const whisper_model *m = s->model;
    char *mel_path = whisper_fixture_path("whisper-ref/expected/%s/%s", "tiny-random-v2", "mel.npy");
    npy_array mel = {0};
    CHECK(npy_load(mel_path, &mel) == 0, "mel.npy");
    free(mel_path);
    if (!mel.data) return;
    size_t n = (size_t)m->hp.n_audio_ctx * m->hp.d_model;
    float *full = malloc(n * sizeof *full);
    whisper_encoder_forward(s, mel.data, (int)mel.shape[1]);
    memcpy(full, s->enc_out, n * sizeof *full);
    CHECK(s->n_ctx == m->hp.n_audio_ctx, "full encode uses every position (%d)", s->n_ctx);
    whisper_encoder_forward_ctx(s, mel.data, (int)mel.shape[1], m->hp.n_audio_ctx);
    CHECK(memcmp(full, s->enc_out, n * sizeof *full) == 0, "encoder_forward_ctx at the full context = encoder_forward");
    whisper_encoder_forward_ctx(s, mel.data, (int)mel.shape[1], 64);
    int finite = 1;
    for (size_t i = 0; i < (size_t)64 * m->hp.d_model; i++) finite &= isfinite(s->enc_out[i]) != 0;
    CHECK(s->n_ctx == 64 && finite, "a 64-position encode: n_ctx %d, output finite %d", s->n_ctx, finite);
    free(full);
    npy_clear(&mel);
}

int main(void) {
    char err[TRIDENT_ERR_SIZE] = "";
    audio_pcm jfk = {0}, call = {0};
    int rc = audio_decode_file(check_shared_path("whisper-ref/jfk.wav"), NULL, &jfk, err, sizeof err);
    if (rc == 0) rc = audio_decode_file(check_shared_path("whisper-ref/calls_long_16k.wav"), NULL, &call, err, sizeof err);
    CHECK(rc == 0, "audio: %s", err);
    char *dir = whisper_fixture_path("whisper-ref/models/%s%s", "tiny-random-v2", "");
    whisper_load_params lp = {dir, NULL, 2, WHISPER_WEIGHTS_NATIVE};
    whisper_model *m = NULL;
    whisper_session *s = NULL;
    if (rc == 0) rc = whisper_model_load(&lp, &m, err, sizeof err);
    if (rc == 0) rc = whisper_session_new(m, 2, &s, err, sizeof err);
    CHECK(rc == 0, "model: %s", err);
    if (rc == 0) {
        encoder_cases(s);
        whisper_transcribe_params tp = whisper_transcribe_params_default();
        tp.language = "en";
        tp.max_windows = 1;
        whisper_result *def = NULL, *off = NULL, *fit = NULL, *again = NULL, *fit_long = NULL;
        rc = whisper_transcribe(s, jfk.samples, jfk.n_samples, &tp, &def, err, sizeof err);
        CHECK(rc == 0 && s->n_ctx == m->hp.n_audio_ctx, "default: %s (n_ctx %d)", err, s->n_ctx);
        tp.audio_ctx_fit = 0;
        if (rc == 0) rc = whisper_transcribe(s, jfk.samples, jfk.n_samples, &tp, &off, err, sizeof err);
        CHECK(rc == 0 && same_result(def, off), "audio_ctx_fit 0 = the default: %s", err);

        tp.audio_ctx_fit = 1;
        int frames = (int)(jfk.n_samples / 160);
        if (rc == 0) rc = whisper_transcribe(s, jfk.samples, jfk.n_samples, &tp, &fit, err, sizeof err);
        CHECK(rc == 0, "fitted jfk: %s", err);
        if (rc == 0) {
            printf("jfk.wav: %d frames encoded as %d positions; %d tokens: %.60s\n", frames, s->n_ctx,
                   fit->windows[0].n_tokens, fit->text);
            CHECK(s->n_ctx % 64 == 0 && 2 * s->n_ctx >= frames && s->n_ctx < m->hp.n_audio_ctx,
                  "fitted context %d for %d frames", s->n_ctx, frames);
            CHECK(fit->n_windows == 1 && fit->windows[0].n_tokens > 0 && fit->text && fit->text[0],
                  "fitted jfk decodes a transcript");
        }
        tp.audio_ctx_fit = 0;
        if (rc == 0) rc = whisper_transcribe(s, jfk.samples, jfk.n_samples, &tp, &again, err, sizeof err);
        CHECK(rc == 0 && same_result(def, again), "full context again after a fitted run: same result (%s)", err);

        tp.audio_ctx_fit = 1;
        tp.max_windows = 0;
        if (rc == 0) rc = whisper_transcribe(s, call.samples, call.n_samples, &tp, &fit_long, err, sizeof err);
        CHECK(rc == 0, "fitted 53-s call: %s", err);
        if (rc == 0) {
            printf("calls_long_16k.wav: %d windows, last encoded as %d positions\n", fit_long->n_windows, s->n_ctx);
            CHECK(fit_long->n_windows >= 2 && fit_long->text && fit_long->text[0], "fitted call: %d windows",
                  fit_long->n_windows);
            CHECK(fit_long->windows[0].seek == 0 && s->n_ctx <= m->hp.n_audio_ctx, "fitted call windows");
        }
        whisper_result_free(def);
        whisper_result_free(off);
        whisper_result_free(fit);
        whisper_result_free(again);
        whisper_result_free(fit_long);
    }
    whisper_session_free(s);
    whisper_model_free(m);
    free(dir);
    audio_pcm_clear(&jfk);
    audio_pcm_clear(&call);
    return check_summary();
}
