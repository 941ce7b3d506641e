/* test_whisper_q8.c — 8-bit weights (--quant q8) against the float model on
 * every fixture case of ../shared/whisper-ref (3 models, 2 adapters):
 *  - teacher-forced: the reference greedy tokens (greedy.json, which the float
 *    engine reproduces exactly) are fed to both models from the reference mel;
 *    at every position the q8 model's next-token argmax is compared with the
 *    float model's, and the largest logit difference is reported relative to
 *    the largest logit;
 *  - free-running: greedy decodes of jfk.wav by both models through the public
 *    API; the share of positions with the same token is reported;
 *  - which decoder matrices became 8-bit and the weight bytes before and after.
 * Asserted: issue 6's target, teacher-forced agreement >= 99 % over all five
 * cases, and the mixed precision quant.c chooses (token embedding 16-bit; every
 * decoder layer matrix 8-bit except the 13 that the rsLoRA case's hard
 * attention keeps 16-bit). The figures printed here are the ones README's
 * Performance section quotes. */
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
#include "whisper/encoder.h"
#include "whisper/engine.h"
#include "whisper/model.h"
#include "whisper/session.h"
#include "whisper/transcribe.h"
#include "whisper_fixtures.h"

typedef struct {
    long tf_same, tf_total;     /* teacher-forced argmax agreement */
    long fr_same, fr_total;     /* free-running token agreement */
    double max_logit_err, max_logit_rel;
} totals;

static int argmax(const float *x, int n) {
    int best = 0;
    for (int i = 1; i < n; i++)
        if (x[i] > x[best]) best = i;
    return best;
}

/* Logits of rows ni−1 … ni+n−1 for init + tokens from mel: [(n + 1)][n_vocab], caller frees.
 * The initial tokens in one call, then one token per call, as a greedy decode
 * runs (single rows take the GEMV, whose q8 path quantises the activations). */
static float *teacher_forced(whisper_session *s, const npy_array *mel, const int *seq, int ni, int n) {
    const whisper_model *m = s->model;
    size_t V = (size_t)m->hp.n_vocab;
    float *out = malloc((size_t)(n + 1) * V * sizeof *out);
    if (!out) return NULL;
    whisper_encoder_forward(s, mel->data, (int)mel->shape[1]);
    whisper_decoder_begin(s);
    int rc = whisper_decoder_forward(s, &s->kv, seq, ni, ni - 1, out);
    for (int i = 0; rc == 0 && i < n; i++) rc = whisper_decoder_forward(s, &s->kv, seq + ni + i, 1, 0, out + (i + 1) * V);
    if (rc) {
        free(out);
        return NULL;
    }
    return out;
}

static void run_fixture(const whisper_fixture *f, const audio_pcm *jfk, totals *t) {
    char err[TRIDENT_ERR_SIZE] = "";
    char *model_dir = whisper_fixture_path("whisper-ref/models/%s%s", f->model, "");
    char *lora_dir = f->lora ? whisper_fixture_path("whisper-ref/lora/%s%s", f->lora, "") : NULL;
    whisper_model *mf = NULL, *mq = NULL;
    whisper_session *sf = NULL, *sq = NULL;
    whisper_load_params lp = {model_dir, lora_dir, 2, WHISPER_WEIGHTS_NATIVE};
    int rc = whisper_model_load(&lp, &mf, err, sizeof err);
    CHECK(rc == 0, "%s: load float: %s", f->expected, err);
    lp.weights = WHISPER_WEIGHTS_Q8;
    if (rc == 0) rc = whisper_model_load(&lp, &mq, err, sizeof err);
    CHECK(rc == 0, "%s: load q8: %s", f->expected, err);
    if (rc == 0) rc = whisper_session_new(mf, 2, &sf, err, sizeof err);
    if (rc == 0) rc = whisper_session_new(mq, 2, &sq, err, sizeof err);
    CHECK(rc == 0, "%s: sessions: %s", f->expected, err);
    if (rc) goto out;
    /* which matrices became 8-bit: every decoder layer matrix it converts, except
     * in the rsLoRA case, whose hard attention keeps the 13 upstream of layer 1's
     * cross-attention logits 16-bit; the token embedding is always 16-bit */
    int n_q8 = 0, n_mats = 0;
    for (int l = 0; l < mq->hp.dec_layers; l++) {
        const whisper_layer_weights *L = &mq->dec[l];
        const whisper_matrix *mats[] = {&L->self.q.w,  &L->self.k.w,  &L->self.v.w, &L->self.o.w,
                                        &L->cross.q.w, &L->cross.o.w, &L->fc1.w,    &L->fc2.w};
        for (size_t i = 0; i < sizeof mats / sizeof mats[0]; i++, n_mats++) n_q8 += mats[i]->dtype == WHISPER_DTYPE_Q8;
    }
    int hard = f->lora && strstr(f->lora, "rslora");
    size_t bytes_f = whisper_model_info_get(mf).weight_bytes, bytes_q = whisper_model_info_get(mq).weight_bytes;
    printf("%-48s 8-bit decoder layer matrices %d/%d, weight bytes %zu -> %zu\n", f->expected, n_q8, n_mats, bytes_f,
           bytes_q);
    CHECK(n_q8 == (hard ? n_mats - 13 : n_mats), "%s: %d of %d decoder layer matrices are 8-bit", f->expected, n_q8,
          n_mats);
    CHECK(mq->embed_tokens.dtype == WHISPER_DTYPE_F16 || mq->embed_tokens.dtype == WHISPER_DTYPE_BF16,
          "%s: the token embedding is 16-bit", f->expected);
    CHECK(bytes_q < bytes_f, "%s: q8 weights are smaller", f->expected);

    /* teacher-forced over the fixture's greedy tokens */
    char *mel_path = whisper_fixture_path("whisper-ref/expected/%s/%s", f->expected, "mel.npy");
    char *greedy_path = whisper_fixture_path("whisper-ref/expected/%s/%s", f->expected, "greedy.json");
    npy_array mel = {0};
    json_t *g = json_load_file(greedy_path, 0, NULL);
    int seq[512], ni = whisper_initial_tokens(mf, "en", "transcribe", 0, seq, err, sizeof err);
    json_t *gt = json_object_get(g, "tokens");
    int n = (int)json_array_size(gt);
    CHECK(npy_load(mel_path, &mel) == 0 && g && ni > 0 && n > 0 && ni + n < 448, "%s: fixture inputs", f->expected);
    if (mel.data && g && ni > 0 && n > 0 && ni + n < 448) {
        for (int i = 0; i < n; i++) seq[ni + i] = (int)json_integer_value(json_array_get(gt, i));
        float *lf = teacher_forced(sf, &mel, seq, ni, n), *lq = teacher_forced(sq, &mel, seq, ni, n);
        CHECK(lf && lq, "%s: teacher-forced decode", f->expected);
        if (lf && lq) {
            int V = mf->hp.n_vocab, same = 0;
            double err_max = 0, ref_max = 0;
            for (int r = 0; r <= n; r++) {
                same += argmax(lf + (size_t)r * V, V) == argmax(lq + (size_t)r * V, V);
                for (int v = 0; v < V; v++) {
                    err_max = fmax(err_max, fabs(lf[(size_t)r * V + v] - lq[(size_t)r * V + v]));
                    ref_max = fmax(ref_max, fabs(lf[(size_t)r * V + v]));
                }
            }
            printf("%-48s teacher-forced argmax agreement %d/%d, max|logit diff| %.4g (max|logit| %.3g, rel %.3g)\n",
                   f->expected, same, n + 1, err_max, ref_max, err_max / ref_max);
            t->tf_same += same;
            t->tf_total += n + 1;
            t->max_logit_err = fmax(t->max_logit_err, err_max);
            t->max_logit_rel = fmax(t->max_logit_rel, err_max / ref_max);
        }
        free(lf);
        free(lq);
    }
    npy_clear(&mel);
    json_decref(g);
    free(mel_path);
    free(greedy_path);

    /* free-running greedy decodes of jfk.wav */
    whisper_transcribe_params tp = whisper_transcribe_params_default();
    tp.language = "en";
    tp.max_windows = 1;
    whisper_result *rf = NULL, *rq = NULL;
    rc = whisper_transcribe(sf, jfk->samples, jfk->n_samples, &tp, &rf, err, sizeof err);
    if (rc == 0) rc = whisper_transcribe(sq, jfk->samples, jfk->n_samples, &tp, &rq, err, sizeof err);
    CHECK(rc == 0, "%s: transcribe: %s", f->expected, err);
    if (rc == 0 && rf->n_windows > 0 && rq->n_windows > 0) {
        const whisper_window *a = &rf->windows[0], *b = &rq->windows[0];
        int len = a->n_tokens > b->n_tokens ? a->n_tokens : b->n_tokens, same = 0;
        for (int i = 0; i < a->n_tokens && i < b->n_tokens; i++) same += a->tokens[i].id == b->tokens[i].id;
        printf("%-48s free-running greedy agreement %d/%d tokens (float %d, q8 %d)\n", f->expected, same, len,
               a->n_tokens, b->n_tokens);
        t->fr_same += same;
        t->fr_total += len;
    }
    whisper_result_free(rf);
    whisper_result_free(rq);
out:
    whisper_session_free(sf);
    whisper_session_free(sq);
    whisper_model_free(mf);
    whisper_model_free(mq);
    free(model_dir);
    free(lora_dir);
}

int main(void) {
    audio_pcm jfk = {0};
    char err[TRIDENT_ERR_SIZE];
    int rc = audio_decode_file(check_shared_path("whisper-ref/jfk.wav"), NULL, &jfk, err, sizeof err);
    CHECK(rc == 0, "jfk.wav: %s", err);
    totals t = {0};
    if (rc == 0)
        for (size_t i = 0; i < whisper_fixture_count; i++) run_fixture(&whisper_fixtures[i], &jfk, &t);
    audio_pcm_clear(&jfk);
    double tf = t.tf_total ? (double)t.tf_same / t.tf_total : 0, fr = t.fr_total ? (double)t.fr_same / t.fr_total : 0;
    printf("q8 vs float: teacher-forced %ld/%ld = %.2f%%, free-running %ld/%ld = %.2f%%, max|logit diff| %.4g "
           "(rel %.3g)\n",
           t.tf_same, t.tf_total, 100 * tf, t.fr_same, t.fr_total, 100 * fr, t.max_logit_err, t.max_logit_rel);
    /* Issue 6's target. These random models have ~10 positions per case whose
     * top two logits are within 0.03, so the margin is small: a broken quantiser
     * (wrong block scale or layout) agrees on almost none, and an 8-bit
     * vocabulary projection alone swaps 5–9 more positions — 1114/1125 here,
     * under 99 % for most other roundings of the same size (README's q8 section). */
    CHECK(t.tf_total == 5 * 225, "teacher-forced positions compared: %ld", t.tf_total);
    CHECK(tf >= 0.99, "teacher-forced q8 agreement %.2f%% < 99%%", 100 * tf);
    return check_summary();
}
