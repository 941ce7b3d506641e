/* test_whisper_transcription.c — the resumable long-form transcription
 * (whisper_transcription_begin / _step / _finish): stepping the 53-s call
 * (../shared/whisper-ref/calls_long_16k.wav) with two different sessions
 * alternately gives exactly whisper_transcribe's result (segments, every decode
 * attempt, text, confidence), which is long.json's segments for the fixture
 * model; progress callbacks come after each step; the same holds with language
 * detection, conditioning on the previous text and the temperature fallback
 * schedule with sampling; and misuse is an error, not a crash. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "base/error.h"
#include "check.h"
#include "whisper/engine.h"

static audio_pcm long_pcm;

typedef struct {
    int calls;
    double last_done, last_total, prev_done;
    int monotonic;
} progress_seen;

static void on_progress(void *ctx, double done, double total) {
    progress_seen *p = ctx;
    p->calls++;
    if (done < p->prev_done) p->monotonic = 0;
    p->prev_done = p->last_done = done;
    p->last_total = total;
}

/* a and b are identical in everything but timings. */
static void results_compare(const char *what, const whisper_result *a, const whisper_result *b) {
    CHECK(a->text && b->text && strcmp(a->text, b->text) == 0, "%s: text differs", what);
    CHECK(strcmp(a->language, b->language) == 0, "%s: language %s vs %s", what, a->language, b->language);
    CHECK(a->avg_logprob == b->avg_logprob && a->confidence == b->confidence &&
              a->no_speech_prob == b->no_speech_prob && a->n_tokens == b->n_tokens && a->audio_s == b->audio_s,
          "%s: avg_logprob %.9g vs %.9g, tokens %d vs %d", what, a->avg_logprob, b->avg_logprob, a->n_tokens,
          b->n_tokens);
    CHECK(a->n_language_probs == b->n_language_probs, "%s: language probabilities", what);
    for (int i = 0; i < a->n_language_probs && i < b->n_language_probs; i++)
        CHECK(a->language_probs[i].prob == b->language_probs[i].prob &&
                  strcmp(a->language_probs[i].code, b->language_probs[i].code) == 0,
              "%s: language probability %d", what, i);
    CHECK(a->n_segments == b->n_segments, "%s: %d vs %d segments", what, a->n_segments, b->n_segments);
    for (int i = 0; i < a->n_segments && i < b->n_segments; i++) {
        const whisper_segment *x = &a->segments[i], *y = &b->segments[i];
        int same = x->seek == y->seek && x->start == y->start && x->end == y->end && x->n_tokens == y->n_tokens &&
                   x->avg_logprob == y->avg_logprob && x->temperature == y->temperature && !strcmp(x->text, y->text);
        for (int t = 0; same && t < x->n_tokens; t++)
            same = x->tokens[t] == y->tokens[t] && x->token_logprobs[t] == y->token_logprobs[t];
        CHECK(same, "%s: segment %d differs", what, i);
    }
    CHECK(a->n_windows == b->n_windows, "%s: %d vs %d windows", what, a->n_windows, b->n_windows);
    for (int i = 0; i < a->n_windows && i < b->n_windows; i++) {
        const whisper_window *x = &a->windows[i], *y = &b->windows[i];
        int same = x->seek == y->seek && x->temperature == y->temperature && x->n_tokens == y->n_tokens &&
                   x->sum_logprob == y->sum_logprob && x->compression_ratio == y->compression_ratio;
        for (int t = 0; same && t < x->n_tokens; t++)
            same = x->tokens[t].id == y->tokens[t].id && x->tokens[t].logprob == y->tokens[t].logprob;
        CHECK(same, "%s: window %d differs", what, i);
    }
}

/* Steps with sessions s[0], s[1], s[0], ... and returns the finished result; *steps
 * counts the steps that decoded a window. */
static whisper_result *stepped(whisper_session *s[2], const whisper_model *m, const whisper_transcribe_params *tp,
                               int *steps, const char *what) {
    char err[TRIDENT_ERR_SIZE] = "";
    whisper_transcription *t = NULL;
    whisper_result *r = NULL;
    int rc = whisper_transcription_begin(m, long_pcm.samples, long_pcm.n_samples, tp, &t, err, sizeof err);
    CHECK(rc == 0, "%s: begin: %s", what, err);
    if (rc) return NULL;
    int done = 0;
    *steps = 0;
    while (rc == 0 && !done) {
        CHECK(whisper_transcription_finish(t, &r, err, sizeof err) == TRIDENT_EINVAL && !r,
              "%s: finish before done is refused", what);
        rc = whisper_transcription_step(s[*steps % 2], t, &done, err, sizeof err);
        (*steps)++;
        double total = 0, at = whisper_transcription_progress(t, &total);
        CHECK(at <= total && fabs(total - long_pcm.n_samples / 16000.0) < 0.01, "%s: progress %.2f of %.2f", what,
              at, total);
        CHECK(*steps < 100, "%s: too many steps", what);
        if (*steps >= 100) rc = -1;
    }
    CHECK(rc == 0, "%s: step %d: %s", what, *steps, err);
    if (rc == 0) {
        /* a step when done decodes nothing */
        rc = whisper_transcription_step(s[0], t, &done, err, sizeof err);
        CHECK(rc == 0 && done, "%s: a step after the end is a no-op", what);
        rc = whisper_transcription_finish(t, &r, err, sizeof err);
        CHECK(rc == 0, "%s: finish: %s", what, err);
        whisper_result *again = NULL;
        CHECK(whisper_transcription_finish(t, &again, err, sizeof err) == TRIDENT_EINVAL && !again,
              "%s: a second finish is refused", what);
        CHECK(whisper_transcription_step(s[0], t, &done, err, sizeof err) == TRIDENT_EINVAL,
              "%s: a step after finish is refused", what);
    }
    whisper_transcription_free(t);
    return r;
}

static void case_run(whisper_session *s[2], const whisper_model *m, whisper_transcribe_params tp, const char *what,
                     json_t *ref) {
    char err[TRIDENT_ERR_SIZE] = "";
    progress_seen one = {0, 0, 0, 0, 1}, two = {0, 0, 0, 0, 1};
    tp.progress = on_progress;
    tp.progress_ctx = &one;
    whisper_result *a = NULL;
    int rc = whisper_transcribe(s[0], long_pcm.samples, long_pcm.n_samples, &tp, &a, err, sizeof err);
    CHECK(rc == 0, "%s: whisper_transcribe: %s", what, err);
    tp.progress_ctx = &two;
    int steps = 0;
    whisper_result *b = stepped(s, m, &tp, &steps, what);
    if (a && b) {
        results_compare(what, a, b);
        int seeks = 0;
        for (int i = 0; i < b->n_windows; i++) seeks += i == 0 || b->windows[i].seek != b->windows[i - 1].seek;
        CHECK(steps == seeks && steps > 2, "%s: %d steps for %d windows", what, steps, seeks);
        CHECK(two.calls == steps && two.calls == one.calls && two.monotonic &&
                  fabs(two.last_done - two.last_total) < 1e-9 && fabs(two.last_total - b->audio_s) < 0.01,
              "%s: progress after each step (%d calls for %d steps, %.2f of %.2f s)", what, two.calls, steps,
              two.last_done, two.last_total);
        printf("%-44s %2d steps on 2 sessions = whisper_transcribe (%d segments, %d decode calls)\n", what, steps,
               b->n_segments, b->n_windows);
    }
    json_t *segs = ref ? json_object_get(ref, "segments") : NULL;
    if (b && segs) {
        CHECK(b->n_segments == (int)json_array_size(segs), "%s: %d segments, long.json has %zu", what, b->n_segments,
              json_array_size(segs));
        for (int i = 0; i < b->n_segments && i < (int)json_array_size(segs); i++) {
            json_t *g = json_array_get(segs, i), *toks = json_object_get(g, "tokens");
            int same = b->segments[i].seek == (int)json_integer_value(json_object_get(g, "seek")) &&
                       b->segments[i].n_tokens == (int)json_array_size(toks);
            for (int k = 0; same && k < b->segments[i].n_tokens; k++)
                same = b->segments[i].tokens[k] == (int)json_integer_value(json_array_get(toks, k));
            double ds = fabs(b->segments[i].start - json_number_value(json_object_get(g, "start")));
            double de = fabs(b->segments[i].end - json_number_value(json_object_get(g, "end")));
            CHECK(same && ds <= 0.01 && de <= 0.01, "%s: segment %d differs from long.json", what, i);
        }
    }
    whisper_result_free(a);
    whisper_result_free(b);
}

static int load(const char *name, whisper_model **m, whisper_session *s[2]) {
    char err[TRIDENT_ERR_SIZE] = "", dir[512], rel[256];
    snprintf(rel, sizeof rel, "whisper-ref/models/%s", name);
    snprintf(dir, sizeof dir, "%s", check_shared_path(rel));
    whisper_load_params lp = {dir, NULL, 2, WHISPER_WEIGHTS_NATIVE};
    int rc = whisper_model_load(&lp, m, err, sizeof err);
    CHECK(rc == 0, "%s: load: %s", name, err);
    if (rc) return rc;
    for (int i = 0; i < 2 && rc == 0; i++) {
        rc = whisper_session_new(*m, i + 1, &s[i], err, sizeof err);
        CHECK(rc == 0, "%s: session: %s", name, err);
    }
    return rc;
}

int main(void) {
    char err[TRIDENT_ERR_SIZE] = "";
    int rc = audio_decode_file(check_shared_path("whisper-ref/calls_long_16k.wav"), NULL, &long_pcm, err, sizeof err);
    CHECK(rc == 0, "calls_long_16k.wav: %s", err);
    if (rc) return check_summary();
    whisper_model *m = NULL, *m_en = NULL;
    whisper_session *s[2] = {NULL, NULL}, *s_en[2] = {NULL, NULL};
    if (load("tiny-random-v2", &m, s) == 0 && load("tiny-random-en", &m_en, s_en) == 0) {
        json_error_t je;
        json_t *ref = json_load_file(check_shared_path("whisper-ref/expected/tiny-random-v2/long.json"), 0, &je);
        CHECK(ref != NULL, "long.json: %s", je.text);
        static const float zero = 0.0f, schedule[] = {0.0f, 0.2f, 0.4f, 0.6f, 0.8f, 1.0f};

        /* long.json's parameters */
        whisper_transcribe_params tp = whisper_transcribe_params_default();
        tp.language = "en";
        tp.timestamps = 1;
        tp.condition_on_previous_text = 0;
        tp.temperatures = &zero;
        tp.n_temperatures = 1;
        case_run(s, m, tp, "long.json parameters", ref);

        /* language detection in the first step, previous-text prompts, fallback with sampling */
        tp = whisper_transcribe_params_default();
        tp.language = "auto";
        tp.timestamps = 1;
        tp.temperatures = schedule;
        tp.n_temperatures = 6;
        tp.seed = 7;
        tp.sample_len = 48;
        tp.initial_prompt = "Half Way Tree, Spanish Town";
        case_run(s, m, tp, "auto, prompt, conditioning, fallback", NULL);
        json_decref(ref);

        /* misuse */
        whisper_transcription *t = NULL;
        tp = whisper_transcribe_params_default();
        tp.language = "en";
        rc = whisper_transcription_begin(m, long_pcm.samples, long_pcm.n_samples, &tp, &t, err, sizeof err);
        CHECK(rc == 0, "begin: %s", err);
        if (rc == 0) {
            int done = 1;
            CHECK(whisper_transcription_step(s_en[0], t, &done, err, sizeof err) == TRIDENT_EINVAL && !done &&
                      strstr(err, "model"),
                  "a session of another model is refused: %s", err);
            CHECK(whisper_transcription_step(s[1], t, &done, err, sizeof err) == 0 && !done, "then a step works: %s",
                  err);
        }
        whisper_transcription_free(t);
        t = NULL;
        tp.beam_size = 17;
        CHECK(whisper_transcription_begin(m, long_pcm.samples, long_pcm.n_samples, &tp, &t, err, sizeof err) ==
                      TRIDENT_EINVAL && !t,
              "begin validates params: %s", err);
        tp.beam_size = 1;
        tp.language = "xx";
        CHECK(whisper_transcription_begin(m, long_pcm.samples, long_pcm.n_samples, &tp, &t, err, sizeof err) ==
                      TRIDENT_EINVAL && !t,
              "begin validates the language: %s", err);
        CHECK(whisper_transcription_begin(m, long_pcm.samples, 10, NULL, &t, err, sizeof err) == TRIDENT_EINVAL && !t,
              "begin refuses audio under 10 ms: %s", err);
        whisper_transcription_free(NULL);
    }
    for (int i = 0; i < 2; i++) {
        whisper_session_free(s[i]);
        whisper_session_free(s_en[i]);
    }
    whisper_model_free(m);
    whisper_model_free(m_en);
    audio_pcm_clear(&long_pcm);
    return check_summary();
}
