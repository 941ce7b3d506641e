/* test_whisper_parity.c — the engine against the official implementation's
 * outputs in ../shared/whisper-ref for every fixture model and adapter: encoder
 * output from the reference mel, teacher-forced logits, greedy tokens, text,
 * avg_logprob, no_speech_prob; then the whole path from jfk.wav. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "base/error.h"
#include "check.h"
#include "npy.h"
#include "whisper/decoder.h"
#include "whisper/decoding.h"
#include "whisper/encoder.h"
#include "whisper/engine.h"
#include "whisper/model.h"
#include "whisper/session.h"
#include "whisper/transcribe.h"
#include "whisper_fixtures.h"

static json_t *load_json(const char *dir, const char *name) {
    char *p = whisper_fixture_path("whisper-ref/expected/%s/%s", dir, name);
    json_error_t e;
    json_t *j = json_load_file(p, 0, &e);
    if (!j) fprintf(stderr, "cannot read %s: %s\n", p, e.text);
    free(p);
    return j;
}

static int load_npy(const char *dir, const char *name, npy_array *a) {
    char *p = whisper_fixture_path("whisper-ref/expected/%s/%s", dir, name);
    int rc = npy_load(p, a);
    free(p);
    return rc;
}

static void run_fixture(const whisper_fixture *f) {
    char err[TRIDENT_ERR_SIZE] = "", what[256];
    char *model_dir = whisper_fixture_path("whisper-ref/models/%s%s", f->model, "");
    char *lora_dir = f->lora ? whisper_fixture_path("whisper-ref/lora/%s%s", f->lora, "") : NULL;
    whisper_load_params lp = {model_dir, lora_dir, 2, WHISPER_WEIGHTS_NATIVE};
    whisper_model *m = NULL;
    int rc = whisper_model_load(&lp, &m, err, sizeof err);
    CHECK(rc == 0, "%s: load: %s", f->expected, err);
    if (rc) goto out;
    whisper_session *s = NULL;
    rc = whisper_session_new(m, 2, &s, err, sizeof err);
    CHECK(rc == 0, "%s: session: %s", f->expected, err);
    if (rc) goto out_model;

    /* encoder from the reference mel */
    npy_array mel = {0}, enc = {0}, logits = {0};
    if (load_npy(f->expected, "mel.npy", &mel) == 0 && load_npy(f->expected, "encoder.npy", &enc) == 0) {
        CHECK(mel.shape[0] == (size_t)m->hp.n_mels && mel.shape[1] == 3000, "%s: mel shape", f->expected);
        whisper_encoder_forward(s, mel.data, (int)mel.shape[1]);
        size_t n = (size_t)m->hp.n_audio_ctx * m->hp.d_model;
        CHECK(enc.count == n, "%s: encoder.npy size", f->expected);
        double diff = npy_max_abs_diff(s->enc_out, enc.data, n), ref = npy_max_abs(enc.data, n);
        printf("%-48s encoder  max|diff| %.3g  max|ref| %.3g  rel %.3g\n", f->expected, diff, ref, diff / ref);
        snprintf(what, sizeof what, "%s: encoder max|diff|/max|ref|", f->expected);
        CHECK_NEAR(diff / ref, 0.0, 2e-3, what);
    } else {
        CHECK(0, "%s: cannot read mel.npy / encoder.npy", f->expected);
    }

    /* teacher-forced logits */
    json_t *meta = load_json(f->expected, "meta.json");
    json_t *lt = json_object_get(meta, "logits_tokens");
    if (json_is_array(lt) && load_npy(f->expected, "logits.npy", &logits) == 0) {
        int n = (int)json_array_size(lt), toks[64];
        for (int i = 0; i < n && i < 64; i++) toks[i] = (int)json_integer_value(json_array_get(lt, i));
        float *out = malloc((size_t)n * m->hp.n_vocab * sizeof *out);
        whisper_decoder_begin(s);
        rc = whisper_decoder_forward(s, &s->kv, toks, n, 0, out);
        CHECK(rc == 0, "%s: decoder forward", f->expected);
        CHECK(logits.count == (size_t)n * m->hp.n_vocab, "%s: logits.npy size", f->expected);
        double diff = npy_max_abs_diff(out, logits.data, logits.count), ref = npy_max_abs(logits.data, logits.count);
        printf("%-48s logits   max|diff| %.3g  max|ref| %.3g  rel %.3g\n", f->expected, diff, ref, diff / ref);
        snprintf(what, sizeof what, "%s: logits max|diff|/max|ref|", f->expected);
        CHECK_NEAR(diff / ref, 0.0, 2e-3, what);
        free(out);
        /* the first initial tokens must be what the engine builds for language en */
        int init[4];
        int ni = whisper_initial_tokens(m, "en", "transcribe", 0, init, err, sizeof err);
        CHECK(ni > 0 && ni <= n, "%s: initial tokens: %s", f->expected, err);
        for (int i = 0; i < ni && i < n; i++) CHECK(init[i] == toks[i], "%s: initial token %d", f->expected, i);
    } else {
        CHECK(0, "%s: cannot read meta.json / logits.npy", f->expected);
    }
    json_decref(meta);

    /* greedy decode from the reference mel */
    json_t *g = load_json(f->expected, "greedy.json");
    if (g && mel.data) {
        whisper_encoder_forward(s, mel.data, (int)mel.shape[1]);
        int init[4];
        int ni = whisper_initial_tokens(m, "en", "transcribe", 0, init, err, sizeof err);
        whisper_decode_options o = whisper_decode_options_default(m);
        whisper_decoding d;
        rc = whisper_decode(s, init, ni, 0, &o, &d, err, sizeof err);
        CHECK(rc == 0, "%s: decode: %s", f->expected, err);
        if (rc == 0) {
            json_t *gt = json_object_get(g, "tokens");
            int n_ref = (int)json_array_size(gt), same = n_ref == d.n_tokens, first_diff = -1;
            for (int i = 0; i < n_ref && i < d.n_tokens; i++)
                if ((int)json_integer_value(json_array_get(gt, i)) != d.tokens[i]) {
                    same = 0;
                    if (first_diff < 0) first_diff = i;
                }
            CHECK(same, "%s: greedy tokens differ (%d vs %d tokens, first difference at %d)", f->expected, d.n_tokens,
                  n_ref, first_diff);
            const char *text = json_string_value(json_object_get(g, "text"));
            CHECK(text && strcmp(text, d.text) == 0, "%s: greedy text differs:\n  got  %s\n  want %s", f->expected,
                  d.text, text ? text : "?");
            double avg = json_number_value(json_object_get(g, "avg_logprob"));
            double nsp = json_number_value(json_object_get(g, "no_speech_prob"));
            double cr = json_number_value(json_object_get(g, "compression_ratio"));
            printf("%-48s greedy   %d tokens %s  avg_logprob %.6f (ref %.6f)  no_speech %.3g (ref %.3g)\n",
                   f->expected, d.n_tokens, same ? "identical" : "DIFFER", d.avg_logprob, avg, d.no_speech_prob, nsp);
            snprintf(what, sizeof what, "%s: avg_logprob", f->expected);
            CHECK_NEAR(d.avg_logprob, avg, 1e-3, what);
            snprintf(what, sizeof what, "%s: no_speech_prob", f->expected);
            CHECK_NEAR(d.no_speech_prob, nsp, 1e-4, what);
            if (json_is_number(json_object_get(g, "compression_ratio"))) {
                snprintf(what, sizeof what, "%s: compression_ratio", f->expected);
                CHECK_NEAR(d.compression_ratio, cr, 1e-9, what);
            }
            whisper_decoding_clear(&d);
        }
    } else {
        CHECK(0, "%s: cannot read greedy.json", f->expected);
    }

    /* the whole path: jfk.wav → mel → encoder → greedy (public API) */
    audio_pcm pcm = {0};
    rc = audio_decode_file(check_shared_path("whisper-ref/jfk.wav"), NULL, &pcm, err, sizeof err);
    CHECK(rc == 0, "jfk.wav: %s", err);
    if (rc == 0 && g) {
        whisper_transcribe_params tp = whisper_transcribe_params_default();
        tp.language = "en";
        whisper_result *r = NULL;
        rc = whisper_transcribe(s, pcm.samples, pcm.n_samples, &tp, &r, err, sizeof err);
        CHECK(rc == 0, "%s: transcribe: %s", f->expected, err);
        if (rc == 0) {
            json_t *gt = json_object_get(g, "tokens");
            int n_ref = (int)json_array_size(gt), same = r->n_windows == 1 && r->windows[0].n_tokens == n_ref;
            for (int i = 0; same && i < n_ref; i++)
                same = (int)json_integer_value(json_array_get(gt, i)) == r->windows[0].tokens[i].id;
            CHECK(same, "%s: end-to-end tokens differ from greedy.json", f->expected);
            double avg = json_number_value(json_object_get(g, "avg_logprob"));
            snprintf(what, sizeof what, "%s: end-to-end avg_logprob", f->expected);
            CHECK_NEAR(r->avg_logprob, avg, 1e-3, what);
            snprintf(what, sizeof what, "%s: end-to-end confidence = exp(avg_logprob)", f->expected);
            CHECK_NEAR(r->confidence, exp(r->avg_logprob), 1e-12, what);
            const char *text = json_string_value(json_object_get(g, "text"));
            CHECK(text && r->windows[0].text && strcmp(text, r->windows[0].text) == 0, "%s: end-to-end text differs",
                  f->expected);
            printf("%-48s jfk.wav  %d tokens %s  avg_logprob %.6f (ref %.6f)\n", f->expected, r->windows[0].n_tokens,
                   same ? "identical" : "DIFFER", r->avg_logprob, avg);
            whisper_result_free(r);
        }
    }
    audio_pcm_clear(&pcm);
    json_decref(g);
    npy_clear(&mel);
    npy_clear(&enc);
    npy_clear(&logits);
    whisper_session_free(s);
out_model:
    whisper_model_free(m);
out:
    free(model_dir);
    free(lora_dir);
}

int main(void) {
    for (size_t i = 0; i < whisper_fixture_count; i++) run_fixture(&whisper_fixtures[i]);
    return check_summary();
}
