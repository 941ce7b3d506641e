/* test_whisper_decoding.c — issue 5's decoding against the official
 * implementation's outputs in ../shared/whisper-ref, through the library
 * (whisper_transcribe on the fixture audio), for every fixture model and
 * adapter: greedy with timestamps and beam search (windows[0]: tokens
 * identical, avg_logprob within 1e-3), language detection (top 5 of
 * language_probs: same order, probabilities within 1e-3) and long-form
 * transcription (segments: count, seeks and tokens identical, start/end within
 * 0.01 s). Then hand-checked behaviour on one model: temperature fallback, the
 * silence rule, seeded sampling and best_of, the initial prompt, conditioning on
 * the previous text, progress, parameter errors; and one case through the CLI.
 * Each model is loaded once. */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audio/audio.h"
#include "base/error.h"
#include "check.h"
#include "whisper/decoder.h"
#include "whisper/decoding.h"
#include "whisper/encoder.h"
#include "whisper/engine.h"
#include "whisper/model.h"
#include "whisper/sampling.h"
#include "whisper/session.h"
#include "whisper/subtitles.h"
#include "whisper/transcribe.h"
#include "whisper_fixtures.h"

static audio_pcm jfk, long_pcm;

/* tokens per window in the hand-checked tests (the fixtures use the reference's 224) */
#define SHORT 32

/* the largest differences seen, for the summary */
static double max_avg_diff, max_lang_diff, max_time_diff;

static json_t *load_json(const char *dir, const char *name) {
    char rel[512];
    snprintf(rel, sizeof rel, "whisper-ref/expected/%s/%s", dir, name);
    const char *p = check_shared_path(rel);
    if (access(p, R_OK) != 0) return NULL;
    json_error_t e;
    json_t *j = json_load_file(p, 0, &e);
    if (!j) fprintf(stderr, "cannot read %s: %s\n", p, e.text);
    return j;
}

/* Number of leading equal ids of ref (a JSON array) and ids; sets *same. */
static int tokens_compare(json_t *ref, const int *ids, int n, int *same) {
    int n_ref = (int)json_array_size(ref), i = 0;
    while (i < n_ref && i < n && (int)json_integer_value(json_array_get(ref, i)) == ids[i]) i++;
    *same = i == n_ref && i == n;
    return i;
}

static int window_ids(const whisper_window *w, int *ids) {
    for (int i = 0; i < w->n_tokens; i++) ids[i] = w->tokens[i].id;
    return w->n_tokens;
}

/* windows[0] of r against a greedy/beam fixture */
static void compare_window(const char *what, const char *name, const whisper_result *r, json_t *ref) {
    CHECK(r->n_windows >= 1, "%s %s: no window", name, what);
    if (r->n_windows < 1 || !ref) return;
    const whisper_window *w = &r->windows[0];
    int ids[512], same;
    int n = window_ids(w, ids);
    int prefix = tokens_compare(json_object_get(ref, "tokens"), ids, n, &same);
    CHECK(same, "%s %s: tokens differ (%d vs %zu, first difference at %d)", name, what, n,
          json_array_size(json_object_get(ref, "tokens")), prefix);
    double avg = json_number_value(json_object_get(ref, "avg_logprob"));
    double nsp = json_number_value(json_object_get(ref, "no_speech_prob"));
    char label[256];
    snprintf(label, sizeof label, "%s %s: avg_logprob", name, what);
    CHECK_NEAR(w->avg_logprob, avg, 1e-3, label);
    snprintf(label, sizeof label, "%s %s: no_speech_prob", name, what);
    CHECK_NEAR(w->no_speech_prob, nsp, 1e-4, label);
    const char *text = json_string_value(json_object_get(ref, "text"));
    CHECK(text && w->text && strcmp(text, w->text) == 0, "%s %s: text differs", name, what);
    if (fabs(w->avg_logprob - avg) > max_avg_diff) max_avg_diff = fabs(w->avg_logprob - avg);
    printf("%-46s %-16s %3d tokens %s  avg_logprob %.6f (ref %.6f, diff %.2g)\n", name, what, n,
           same ? "identical" : "DIFFER", w->avg_logprob, avg, fabs(w->avg_logprob - avg));
}

static whisper_result *run(whisper_session *s, const audio_pcm *pcm, const whisper_transcribe_params *tp,
                           const char *what) {
    char err[TRIDENT_ERR_SIZE] = "";
    whisper_result *r = NULL;
    int rc = whisper_transcribe(s, pcm->samples, pcm->n_samples, tp, &r, err, sizeof err);
    CHECK(rc == 0, "%s: %s", what, err);
    return rc == 0 ? r : NULL;
}

static void fixture_run(const whisper_fixture *f, whisper_session *s, const whisper_model *m) {
    char what[256];
    /* greedy with timestamps */
    json_t *ref = load_json(f->expected, "greedy_timestamps.json");
    CHECK(ref != NULL, "%s: greedy_timestamps.json", f->expected);
    whisper_transcribe_params tp = whisper_transcribe_params_default();
    tp.language = "en";
    tp.timestamps = 1;
    whisper_result *r = run(s, &jfk, &tp, f->expected);
    if (r) {
        compare_window("timestamps", f->expected, r, ref);
        /* every sampled timestamp pair is non-decreasing and the window starts with one */
        const whisper_window *w = &r->windows[0];
        int tb = whisper_tokenizer_specials(m->tok)->timestamp_begin, last = -1, ok = w->n_tokens > 0 &&
                                                                                    w->tokens[0].id >= tb;
        for (int i = 0; i < w->n_tokens; i++)
            if (w->tokens[i].id >= tb) {
                ok &= w->tokens[i].id >= last;
                last = w->tokens[i].id;
            }
        CHECK(ok, "%s: timestamps start the window and never decrease", f->expected);
        CHECK(r->n_segments >= 1 && r->segments[0].start >= 0 && r->segments[0].start <= 1.0,
              "%s: the first segment starts within max_initial_timestamp (1.0 s)", f->expected);
    }
    whisper_result_free(r);
    json_decref(ref);

    /* beam search, 5 beams */
    ref = load_json(f->expected, "beam5.json");
    CHECK(ref != NULL, "%s: beam5.json", f->expected);
    tp = whisper_transcribe_params_default();
    tp.language = "en";
    tp.beam_size = 5;
    r = run(s, &jfk, &tp, f->expected);
    if (r) compare_window("beam5", f->expected, r, ref);
    whisper_result_free(r);
    json_decref(ref);

    /* language detection */
    ref = load_json(f->expected, "language.json");
    if (m->multilingual) {
        CHECK(ref != NULL, "%s: language.json", f->expected);
        tp = whisper_transcribe_params_default();
        tp.language = "auto";
        tp.max_windows = 1;
        tp.sample_len = 1; /* the detection is what is checked here */
        r = run(s, &jfk, &tp, f->expected);
        json_t *top = json_object_get(ref, "top5");
        if (r && top) {
            CHECK(r->n_language_probs >= 5, "%s: at least 5 language probabilities", f->expected);
            double worst = 0;
            for (size_t i = 0; i < json_array_size(top) && (int)i < r->n_language_probs; i++) {
                const char *code = json_string_value(json_array_get(json_array_get(top, i), 0));
                double p = json_number_value(json_array_get(json_array_get(top, i), 1));
                CHECK(code && strcmp(code, r->language_probs[i].code) == 0, "%s: language %zu is %s, want %s",
                      f->expected, i, r->language_probs[i].code, code ? code : "?");
                snprintf(what, sizeof what, "%s: probability of %s", f->expected, code ? code : "?");
                CHECK_NEAR(r->language_probs[i].prob, p, 1e-3, what);
                if (fabs(r->language_probs[i].prob - p) > worst) worst = fabs(r->language_probs[i].prob - p);
            }
            double total = 0;
            for (int i = 0; i < r->n_language_probs; i++) total += r->language_probs[i].prob;
            CHECK_NEAR(total, 1.0, 1e-6, "language probabilities sum to 1");
            CHECK(strcmp(r->language, r->language_probs[0].code) == 0, "%s: transcribed in the top language",
                  f->expected);
            if (worst > max_lang_diff) max_lang_diff = worst;
            printf("%-46s language         %s %.4f  %s %.4f ... (max diff %.2g)\n", f->expected,
                   r->language_probs[0].code, r->language_probs[0].prob, r->language_probs[1].code,
                   r->language_probs[1].prob, worst);
        }
        whisper_result_free(r);
    }
    json_decref(ref);

    /* long-form */
    ref = load_json(f->expected, "long.json");
    if (ref) {
        tp = whisper_transcribe_params_default();
        tp.language = "en";
        tp.timestamps = 1;
        tp.condition_on_previous_text = 0;
        static const float zero = 0.0f;
        tp.temperatures = &zero;
        tp.n_temperatures = 1;
        r = run(s, &long_pcm, &tp, f->expected);
        json_t *segs = json_object_get(ref, "segments");
        if (r) {
            CHECK(r->n_segments == (int)json_array_size(segs), "%s long: %d segments, want %zu", f->expected,
                  r->n_segments, json_array_size(segs));
            double worst = 0;
            int all_same = 1;
            for (int i = 0; i < r->n_segments && i < (int)json_array_size(segs); i++) {
                json_t *g = json_array_get(segs, i);
                const whisper_segment *x = &r->segments[i];
                int same;
                tokens_compare(json_object_get(g, "tokens"), x->tokens, x->n_tokens, &same);
                all_same &= same;
                CHECK(same, "%s long: segment %d tokens differ", f->expected, i);
                CHECK(x->seek == (int)json_integer_value(json_object_get(g, "seek")), "%s long: segment %d seek %d",
                      f->expected, i, x->seek);
                double ds = fabs(x->start - json_number_value(json_object_get(g, "start")));
                double de = fabs(x->end - json_number_value(json_object_get(g, "end")));
                CHECK(ds <= 0.01 && de <= 0.01, "%s long: segment %d times %.2f-%.2f", f->expected, i, x->start,
                      x->end);
                if (ds > worst) worst = ds;
                if (de > worst) worst = de;
                snprintf(what, sizeof what, "%s long: segment %d avg_logprob", f->expected, i);
                CHECK_NEAR(x->avg_logprob, json_number_value(json_object_get(g, "avg_logprob")), 1e-3, what);
            }
            const char *text = json_string_value(json_object_get(ref, "text"));
            CHECK(text && r->text && strcmp(text, r->text) == 0, "%s long: text differs", f->expected);
            if (worst > max_time_diff) max_time_diff = worst;
            printf("%-46s long             %d segments %s  max start/end diff %.2g s\n", f->expected,
                   r->n_segments, all_same ? "identical" : "DIFFER", worst);
        }
        whisper_result_free(r);
        json_decref(ref);
    }
}

static int same_window_tokens(const whisper_window *a, const whisper_window *b) {
    if (a->n_tokens != b->n_tokens) return 0;
    for (int i = 0; i < a->n_tokens; i++)
        if (a->tokens[i].id != b->tokens[i].id) return 0;
    return 1;
}

/* Temperature fallback, the silence rule, seeded sampling, best_of. */
static void test_fallback(whisper_session *s) {
    static const float temps[] = {0.0f, 0.2f, 0.4f};
    json_t *greedy = load_json("tiny-random-v2", "greedy.json");
    whisper_transcribe_params tp = whisper_transcribe_params_default();
    tp.language = "en";
    tp.temperatures = temps;
    tp.n_temperatures = 3;
    tp.best_of = 2;
    tp.seed = 42;
    tp.sample_len = SHORT;
    /* every text compresses better than 0.01: each window is re-decoded at the next temperature */
    tp.compression_ratio_threshold = 0.01;
    tp.logprob_threshold = -INFINITY;
    whisper_result *a = run(s, &jfk, &tp, "fallback"), *b = run(s, &jfk, &tp, "fallback again");
    if (a && b) {
        CHECK(a->n_windows == 3, "fallback: %d windows, want 3 (T = 0, 0.2, 0.4)", a->n_windows);
        for (int i = 0; i < a->n_windows && i < 3; i++)
            CHECK(fabs(a->windows[i].temperature - temps[i]) < 1e-6, "fallback: window %d at T = %g", i,
                  a->windows[i].temperature);
        int ids[512], same;
        int n = window_ids(&a->windows[0], ids);
        int prefix = tokens_compare(json_object_get(greedy, "tokens"), ids, n, &same);
        CHECK(n == SHORT && prefix == SHORT, "fallback: the T = 0 attempt is the greedy decode (%d tokens)", n);
        CHECK(a->n_windows == b->n_windows && same_window_tokens(&a->windows[1], &b->windows[1]) &&
                  same_window_tokens(&a->windows[2], &b->windows[2]),
              "fallback: the same seed repeats the sampled windows");
        CHECK(!same_window_tokens(&a->windows[0], &a->windows[1]), "fallback: T = 0.2 samples other tokens");
        /* the transcript comes from the last attempt */
        CHECK(a->n_segments == 1 && fabs(a->segments[0].temperature - 0.4) < 1e-6,
              "fallback: the kept segment is from T = 0.4");
        /* avg_logprob of a window is its sum over (tokens + 1) */
        const whisper_window *w = &a->windows[2];
        double sum = 0;
        for (int i = 0; i < w->n_tokens; i++) sum += w->tokens[i].logprob;
        CHECK(sum >= w->sum_logprob - 1e-3, "fallback: token log-probs add up to at most sum_logprob (eot included)");
        CHECK_NEAR(w->avg_logprob, w->sum_logprob / (w->n_tokens + 1), 1e-9, "fallback: avg_logprob");
    }
    whisper_result_free(b);
    tp.seed = 43;
    b = run(s, &jfk, &tp, "fallback, other seed");
    if (a && b && b->n_windows == 3)
        CHECK(!same_window_tokens(&a->windows[1], &b->windows[1]), "fallback: another seed samples otherwise");
    whisper_result_free(a);
    whisper_result_free(b);

    /* the silence rule: no_speech_prob above its threshold with a low avg_logprob → no fallback, no segment */
    tp = whisper_transcribe_params_default();
    tp.language = "en";
    tp.temperatures = temps;
    tp.n_temperatures = 3;
    tp.logprob_threshold = 0.0;      /* every decode is "too unlikely" */
    tp.sample_len = SHORT;
    tp.no_speech_threshold = 1e-12;  /* and every window looks silent */
    a = run(s, &jfk, &tp, "silence");
    if (a) {
        CHECK(a->n_windows == 1, "silence: %d windows, want 1 (no fallback on silence)", a->n_windows);
        CHECK(a->n_segments == 0 && a->text && a->text[0] == '\0', "silence: the window is skipped (%d segments)",
              a->n_segments);
    }
    whisper_result_free(a);
    /* low avg_logprob without silence → every temperature is tried */
    tp.no_speech_threshold = 0.999;
    tp.max_windows = 1;
    a = run(s, &jfk, &tp, "low logprob");
    if (a) CHECK(a->n_windows == 3, "low logprob: %d windows, want 3", a->n_windows);
    whisper_result_free(a);

    /* best_of: one window at T = 0.5 from 4 candidates; deterministic with the seed */
    static const float half = 0.5f;
    tp = whisper_transcribe_params_default();
    tp.language = "en";
    tp.temperatures = &half;
    tp.n_temperatures = 1;
    tp.best_of = 3;
    tp.seed = 7;
    tp.max_windows = 1;
    tp.sample_len = SHORT;
    a = run(s, &jfk, &tp, "best_of");
    b = run(s, &jfk, &tp, "best_of again");
    if (a && b) {
        CHECK(a->n_windows == 1 && fabs(a->windows[0].temperature - 0.5) < 1e-6, "best_of: one window at T = 0.5");
        CHECK(same_window_tokens(&a->windows[0], &b->windows[0]), "best_of: the same seed repeats the result");
    }
    whisper_result_free(a);
    whisper_result_free(b);
    json_decref(greedy);
}

/* The sampler alone: frequencies follow softmax(logits / T); same seed, same stream. */
static void test_sampler(void) {
    rng_state r1, r2;
    rng_seed(&r1, 5);
    rng_seed(&r2, 5);
    int same = 1;
    for (int i = 0; i < 100; i++) same &= rng_next(&r1) == rng_next(&r2);
    CHECK(same, "rng: the same seed gives the same stream");
    float logits[3] = {0.0f, (float)log(3.0), -INFINITY};
    int counts[3] = {0, 0, 0};
    for (int i = 0; i < 40000; i++) counts[whisper_sample_categorical(&r1, logits, 3, 1.0)]++;
    CHECK(counts[2] == 0, "sampler: -inf is never drawn");
    CHECK_NEAR(counts[1] / 40000.0, 0.75, 0.01, "sampler: p = 3/4 at T = 1");
    counts[0] = counts[1] = 0;
    for (int i = 0; i < 40000; i++) counts[whisper_sample_categorical(&r1, logits, 3, 0.5)]++;
    CHECK_NEAR(counts[1] / 40000.0, 0.9, 0.01, "sampler: p = 9/10 at T = 0.5");
}

/* The initial prompt: " " + stripped text, encoded, after <|startofprev|>; not in the transcript. */
static void test_prompt(whisper_session *s, const whisper_model *m) {
    char err[TRIDENT_ERR_SIZE] = "";
    int *ids = NULL;
    size_t n_ids = 0;
    whisper_tokenizer_encode(m->tok, " Kingston Jamaica", &ids, &n_ids);
    /* worked out from vocab.json: "ĠKingston" = 33419, "ĠJamaica" = 42927 */
    CHECK(n_ids == 2 && ids[0] == 33419 && ids[1] == 42927, "prompt: encode(\" Kingston Jamaica\")");
    free(ids);

    whisper_transcribe_params tp = whisper_transcribe_params_default();
    tp.language = "en";
    tp.initial_prompt = "  Kingston Jamaica \n";
    tp.sample_len = SHORT;
    whisper_result *r = run(s, &jfk, &tp, "prompt");
    /* the same decode by hand */
    const whisper_special_tokens *sp = whisper_tokenizer_specials(m->tok);
    int init[8] = {sp->sot_prev, 33419, 42927, 0, 0, 0, 0, 0}, sot[4];
    int n_sot = whisper_initial_tokens(m, "en", "transcribe", 0, sot, err, sizeof err);
    memcpy(init + 3, sot, (size_t)n_sot * sizeof *sot);
    float *mel = NULL;
    int n_frames = 0;
    whisper_mel_compute(m->mel, jfk.samples, jfk.n_samples, WHISPER_WINDOW_SAMPLES, &mel, &n_frames, err, sizeof err);
    whisper_encoder_forward(s, mel, n_frames);
    whisper_decode_options o = whisper_decode_options_default(m);
    o.sample_len = SHORT;
    whisper_decoding d;
    int rc = whisper_decode(s, init, 3 + n_sot, 3, &o, &d, err, sizeof err);
    CHECK(rc == 0, "prompt: decode by hand: %s", err);
    if (r && rc == 0) {
        int ids2[512];
        int n = window_ids(&r->windows[0], ids2), same = n == d.n_tokens;
        for (int i = 0; same && i < n; i++) same = ids2[i] == d.tokens[i];
        CHECK(same, "prompt: the window decodes after <|startofprev|> Kingston Jamaica");
        json_t *g = load_json("tiny-random-v2", "greedy.json");
        int differs = 0;
        differs = tokens_compare(json_object_get(g, "tokens"), ids2, n, &same) < n;
        CHECK(differs, "prompt: the prompt changes the decode");
        json_decref(g);
        CHECK(strstr(r->text, "Kingston Jamaica") != r->text, "prompt: the prompt is not part of the transcript");
        CHECK(r->windows[0].no_speech_prob == d.no_speech_prob, "prompt: no_speech_prob read at the sot position");
    }
    if (rc == 0) whisper_decoding_clear(&d);
    free(mel);
    whisper_result_free(r);
}

/* Conditioning on the previous text: window 2 decodes after <|startofprev|> + window 1's tokens. */
typedef struct {
    int calls;
    double last_done, total;
} progress_seen;

static void on_progress(void *ctx, double done, double total) {
    progress_seen *p = ctx;
    p->calls++;
    p->last_done = done;
    p->total = total;
}

static void test_condition(whisper_session *s, const whisper_model *m) {
    char err[TRIDENT_ERR_SIZE] = "";
    static const float zero = 0.0f;
    whisper_transcribe_params tp = whisper_transcribe_params_default();
    tp.language = "en";
    tp.timestamps = 1;
    tp.temperatures = &zero;
    tp.n_temperatures = 1;
    tp.max_windows = 2;
    tp.sample_len = SHORT;
    progress_seen seen = {0, 0, 0};
    tp.progress = on_progress;
    tp.progress_ctx = &seen;
    whisper_result *r = run(s, &long_pcm, &tp, "condition on previous text");
    if (!r) return;
    CHECK(r->n_windows == 2, "condition: two windows (max_windows 2), got %d", r->n_windows);
    CHECK(seen.calls == 2 && fabs(seen.total - long_pcm.n_samples / 16000.0) < 0.01 &&
              seen.last_done > r->windows[1].seek * 0.01 && seen.last_done <= seen.total,
          "condition: progress after each window (%d calls, %.2f of %.2f s)", seen.calls, seen.last_done, seen.total);
    if (r->n_windows == 2) {
        /* window 1's segments are the prompt of window 2 */
        int prev[512], n_prev = 0;
        for (int i = 0; i < r->n_segments && r->segments[i].seek == r->windows[0].seek; i++)
            for (int t = 0; t < r->segments[i].n_tokens && n_prev < 512; t++) prev[n_prev++] = r->segments[i].tokens[t];
        const whisper_special_tokens *sp = whisper_tokenizer_specials(m->tok);
        int max_prompt = m->hp.n_text_ctx / 2 - 1, keep = n_prev < max_prompt ? n_prev : max_prompt;
        int init[512], n = 0;
        init[n++] = sp->sot_prev;
        memcpy(init + n, prev + n_prev - keep, (size_t)keep * sizeof *init);
        n += keep;
        int sot_index = n, sot[4];
        int n_sot = whisper_initial_tokens(m, "en", "transcribe", 1, sot, err, sizeof err);
        memcpy(init + n, sot, (size_t)n_sot * sizeof *sot);
        n += n_sot;
        float *mel = NULL;
        int n_frames = 0;
        whisper_mel_compute(m->mel, long_pcm.samples, long_pcm.n_samples, WHISPER_WINDOW_SAMPLES, &mel, &n_frames, err,
                            sizeof err);
        whisper_encoder_forward(s, mel + r->windows[1].seek, n_frames);
        whisper_decode_options o = whisper_decode_options_default(m);
        o.timestamps = 1;
        o.sample_len = SHORT;
        whisper_decoding d;
        int rc = whisper_decode(s, init, n, sot_index, &o, &d, err, sizeof err);
        CHECK(rc == 0, "condition: decode by hand: %s", err);
        if (rc == 0) {
            int ids[512];
            int k = window_ids(&r->windows[1], ids), same = k == d.n_tokens;
            for (int i = 0; same && i < k; i++) same = ids[i] == d.tokens[i];
            CHECK(same, "condition: window 2 = decode after <|startofprev|> + window 1's %d tokens", keep);
            whisper_decoding_clear(&d);
        }
        free(mel);
    }
    whisper_result_free(r);
}

static void test_errors(whisper_session *s, whisper_session *s_en) {
    char err[TRIDENT_ERR_SIZE] = "";
    whisper_result *r = NULL;
    whisper_transcribe_params tp = whisper_transcribe_params_default();
    tp.language = "en";
    tp.beam_size = 17;
    CHECK(whisper_transcribe(s, jfk.samples, jfk.n_samples, &tp, &r, err, sizeof err) == TRIDENT_EINVAL &&
              strstr(err, "beam size"), "beam size 17: %s", err);
    tp = whisper_transcribe_params_default();
    tp.language = "xx";
    CHECK(whisper_transcribe(s, jfk.samples, jfk.n_samples, &tp, &r, err, sizeof err) == TRIDENT_EINVAL &&
              strstr(err, "xx"), "unknown language: %s", err);
    tp = whisper_transcribe_params_default();
    tp.task = "summarise";
    CHECK(whisper_transcribe(s, jfk.samples, jfk.n_samples, &tp, &r, err, sizeof err) == TRIDENT_EINVAL &&
              strstr(err, "summarise"), "unknown task: %s", err);
    tp = whisper_transcribe_params_default();
    tp.task = "translate";
    CHECK(whisper_transcribe(s_en, jfk.samples, jfk.n_samples, &tp, &r, err, sizeof err) == TRIDENT_EINVAL &&
              strstr(err, "translate"), "translate on an English-only model: %s", err);
    static const float neg = -0.5f;
    tp = whisper_transcribe_params_default();
    tp.temperatures = &neg;
    tp.n_temperatures = 1;
    CHECK(whisper_transcribe(s, jfk.samples, jfk.n_samples, &tp, &r, err, sizeof err) == TRIDENT_EINVAL,
          "negative temperature: %s", err);
    CHECK(r == NULL, "no result on error");
    /* language auto on an English-only model is English; translate on a multilingual one works */
    tp = whisper_transcribe_params_default();
    tp.language = "auto";
    tp.max_windows = 1;
    tp.sample_len = SHORT;
    r = run(s_en, &jfk, &tp, "auto on .en");
    if (r) CHECK(strcmp(r->language, "en") == 0 && r->n_language_probs == 0, "auto on .en: en, no detection");
    whisper_result_free(r);
    tp = whisper_transcribe_params_default();
    tp.language = "es";
    tp.task = "translate";
    tp.sample_len = SHORT;
    r = run(s, &jfk, &tp, "translate");
    if (r) CHECK(strcmp(r->language, "es") == 0 && r->n_windows == 1, "translate: runs");
    whisper_result_free(r);
}

/* Runs the trident binary with args; returns its stdout (caller frees) and sets *status. */
static char *cli_run(const char *args, int *status) {
    char cmd[4096], out[64];
    snprintf(out, sizeof out, "/tmp/trident-decoding-test-%d.out", (int)getpid());
    snprintf(cmd, sizeof cmd, "TRIDENT_MODEL= TRIDENT_LORA= '%s' transcribe %s >%s", TRIDENT_BINARY, args, out);
    int st = system(cmd);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    FILE *f = fopen(out, "rb");
    char *text = calloc(1, 1 << 22);
    if (f && text) {
        size_t n = fread(text, 1, (1 << 22) - 1, f);
        text[n] = '\0';
    }
    if (f) fclose(f);
    remove(out);
    return text;
}

/* Through the CLI: --timestamps --json reproduces greedy_timestamps.json in windows[0];
 * --language auto gives language_probs as language.json; --output-format srt / vtt. */
static void test_cli(void) {
    char args[2048], model[512], lora[512], wav[512];
    snprintf(model, sizeof model, "%s", check_shared_path("whisper-ref/models/tiny-random-v2"));
    snprintf(lora, sizeof lora, "%s", check_shared_path("whisper-ref/lora/tiny-random-v2-lora-r8"));
    snprintf(wav, sizeof wav, "%s", check_shared_path("whisper-ref/jfk.wav"));
    int status;
    snprintf(args, sizeof args, "--model '%s' --lora '%s' --json --timestamps --language auto --threads 2 '%s'", model,
             lora, wav);
    char *out = cli_run(args, &status);
    json_error_t e;
    json_t *j = out ? json_loads(out, 0, &e) : NULL;
    CHECK(status == 0 && j, "cli --json --timestamps --language auto: status %d", status);
    const char *name = "tiny-random-v2+tiny-random-v2-lora-r8";
    json_t *lang = load_json(name, "language.json"), *ts = load_json(name, "greedy_timestamps.json");
    if (j && lang) {
        json_t *lp = json_object_get(j, "language_probs"), *top = json_object_get(lang, "top5");
        CHECK(json_array_size(lp) >= 5, "cli: language_probs has the top 5");
        int ok = 1;
        for (size_t i = 0; i < 5 && i < json_array_size(lp); i++) {
            json_t *got = json_array_get(lp, i), *want = json_array_get(top, i);
            ok &= strcmp(json_string_value(json_array_get(got, 0)), json_string_value(json_array_get(want, 0))) == 0;
            ok &= fabs(json_number_value(json_array_get(got, 1)) - json_number_value(json_array_get(want, 1))) <= 1e-3;
        }
        CHECK(ok, "cli: language_probs top 5 = language.json");
        const char *top_code = json_string_value(json_array_get(json_array_get(top, 0), 0));
        CHECK(top_code && strcmp(json_string_value(json_object_get(j, "language")), top_code) == 0,
              "cli: language is the detected one");
    }
    json_decref(j);
    free(out);
    snprintf(args, sizeof args, "--model '%s' --lora '%s' --json --timestamps --language en --threads 2 '%s'", model, lora,
             wav);
    out = cli_run(args, &status);
    j = out ? json_loads(out, 0, &e) : NULL;
    if (j && ts) {
        json_t *w = json_array_get(json_object_get(j, "windows"), 0), *toks = json_object_get(w, "tokens");
        int ids[512], n = 0, same;
        for (size_t i = 0; i < json_array_size(toks) && n < 512; i++)
            ids[n++] = (int)json_integer_value(json_object_get(json_array_get(toks, i), "id"));
        tokens_compare(json_object_get(ts, "tokens"), ids, n, &same);
        CHECK(same, "cli: windows[0] tokens = greedy_timestamps.json");
        CHECK_NEAR(json_number_value(json_object_get(w, "avg_logprob")),
                   json_number_value(json_object_get(ts, "avg_logprob")), 1e-3, "cli: avg_logprob");
        json_t *seg = json_array_get(json_object_get(j, "segments"), 0);
        CHECK(json_array_size(json_object_get(seg, "token_confidences")) == json_array_size(json_object_get(seg, "tokens")),
              "cli: a confidence per segment token");
        json_t *t0 = json_array_get(toks, 0);
        CHECK_NEAR(json_number_value(json_object_get(t0, "confidence")), exp(json_number_value(json_object_get(t0, "logprob"))),
                   1e-9, "cli: token confidence = exp(logprob)");
    } else {
        CHECK(0, "cli --json --timestamps --language en: status %d", status);
    }
    json_decref(j);
    free(out);
    snprintf(args, sizeof args, "--model '%s' --output-format srt --language en --threads 2 '%s'", model, wav);
    out = cli_run(args, &status);
    CHECK(status == 0 && out && strncmp(out, "1\n00:00:00,", 11) == 0 && strstr(out, " --> 00:00:"),
          "cli srt: %d '%.40s'", status, out ? out : "");
    free(out);
    snprintf(args, sizeof args, "--model '%s' --beam-size 17 '%s'", model, wav);
    out = cli_run(args, &status);
    CHECK(status == 2, "cli: --beam-size 17 is refused (%d)", status);
    free(out);
    snprintf(args, sizeof args, "--model '%s' --beam-size 0 '%s'", model, wav);
    out = cli_run(args, &status);
    CHECK(status == 2, "cli: --beam-size 0 is refused (%d)", status);
    free(out);
    json_decref(lang);
    json_decref(ts);
}

/* Output formats with hand-written expectations (the official writers' layout). */
static void test_formats(void) {
    char t[32];
    whisper_timestamp_format(0.0, 0, '.', t, sizeof t);
    CHECK(strcmp(t, "00:00.000") == 0, "timestamp 0: %s", t);
    whisper_timestamp_format(3.72, 1, ',', t, sizeof t);
    CHECK(strcmp(t, "00:00:03,720") == 0, "timestamp 3.72 srt: %s", t);
    whisper_timestamp_format(3661.0005, 0, '.', t, sizeof t);
    CHECK(strcmp(t, "01:01:01.000") == 0 || strcmp(t, "01:01:01.001") == 0, "timestamp 3661.0005: %s", t);
    whisper_timestamp_format(59.9996, 0, '.', t, sizeof t);
    CHECK(strcmp(t, "01:00.000") == 0, "timestamp 59.9996 rounds up to a minute: %s", t);
    whisper_timestamp_format(7322.25, 1, ',', t, sizeof t);
    CHECK(strcmp(t, "02:02:02,250") == 0, "timestamp 7322.25: %s", t);

    whisper_segment segs[3];
    memset(segs, 0, sizeof segs);
    char a[] = " Help, there is a fire --> on Hope Road ", b[] = "  Send someone", c[] = " ";
    segs[0].start = 0.42, segs[0].end = 3.72, segs[0].text = a;
    segs[1].start = 3.72, segs[1].end = 3725.5, segs[1].text = b;
    segs[2].start = 3725.5, segs[2].end = 3730.0, segs[2].text = c;
    whisper_result r;
    memset(&r, 0, sizeof r);
    r.segments = segs;
    r.n_segments = 3;
    char *srt = whisper_result_format(&r, "srt"), *vtt = whisper_result_format(&r, "vtt"),
         *txt = whisper_result_format(&r, "txt");
    const char *want_srt = "1\n00:00:00,420 --> 00:00:03,720\nHelp, there is a fire -> on Hope Road\n\n"
                           "2\n00:00:03,720 --> 01:02:05,500\nSend someone\n\n"
                           "3\n01:02:05,500 --> 01:02:10,000\n\n\n";
    const char *want_vtt = "WEBVTT\n\n"
                           "00:00.420 --> 00:03.720\nHelp, there is a fire -> on Hope Road\n\n"
                           "00:03.720 --> 01:02:05.500\nSend someone\n\n"
                           "01:02:05.500 --> 01:02:10.000\n\n\n";
    const char *want_txt = "Help, there is a fire --> on Hope Road\nSend someone\n\n";
    CHECK(srt && strcmp(srt, want_srt) == 0, "srt:\n%s", srt ? srt : "(null)");
    CHECK(vtt && strcmp(vtt, want_vtt) == 0, "vtt:\n%s", vtt ? vtt : "(null)");
    CHECK(txt && strcmp(txt, want_txt) == 0, "txt:\n%s", txt ? txt : "(null)");
    CHECK(whisper_result_format(&r, "docx") == NULL, "unknown format: NULL");
    free(srt);
    free(vtt);
    free(txt);
    r.n_segments = 0;
    vtt = whisper_result_format(&r, "vtt");
    CHECK(vtt && strcmp(vtt, "WEBVTT\n\n") == 0, "vtt without segments");
    free(vtt);
    srt = whisper_result_format(&r, "srt");
    CHECK(srt && srt[0] == '\0', "srt without segments is empty");
    free(srt);
}

static int load(const whisper_fixture *f, whisper_model **m, whisper_session **s) {
    char err[TRIDENT_ERR_SIZE] = "", model_dir[512], lora_dir[512];
    char rel[512];
    snprintf(rel, sizeof rel, "whisper-ref/models/%s", f->model);
    snprintf(model_dir, sizeof model_dir, "%s", check_shared_path(rel));
    if (f->lora) {
        snprintf(rel, sizeof rel, "whisper-ref/lora/%s", f->lora);
        snprintf(lora_dir, sizeof lora_dir, "%s", check_shared_path(rel));
    }
    whisper_load_params lp = {model_dir, f->lora ? lora_dir : NULL, 2, WHISPER_WEIGHTS_NATIVE};
    int rc = whisper_model_load(&lp, m, err, sizeof err);
    CHECK(rc == 0, "%s: load: %s", f->expected, err);
    if (rc) return rc;
    rc = whisper_session_new(*m, 2, s, err, sizeof err);
    CHECK(rc == 0, "%s: session: %s", f->expected, err);
    if (rc) whisper_model_free(*m);
    return rc;
}

int main(int argc, char **argv) {
    char err[TRIDENT_ERR_SIZE] = "";
    int only_cli = argc > 1 && strcmp(argv[1], "--cli") == 0;
    int rc = audio_decode_file(check_shared_path("whisper-ref/jfk.wav"), NULL, &jfk, err, sizeof err);
    CHECK(rc == 0, "jfk.wav: %s", err);
    rc |= audio_decode_file(check_shared_path("whisper-ref/calls_long_16k.wav"), NULL, &long_pcm, err, sizeof err);
    CHECK(rc == 0, "calls_long_16k.wav: %s", err);
    if (rc) return check_summary();
    test_sampler();
    test_formats();
    whisper_model *m_v2 = NULL, *m_en = NULL;
    whisper_session *s_v2 = NULL, *s_en = NULL;
    for (size_t i = 0; !only_cli && i < whisper_fixture_count; i++) {
        whisper_model *m;
        whisper_session *s;
        if (load(&whisper_fixtures[i], &m, &s)) continue;
        fixture_run(&whisper_fixtures[i], s, m);
        if (i == 0) m_v2 = m, s_v2 = s;
        else if (i == 2) m_en = m, s_en = s;
        else {
            whisper_session_free(s);
            whisper_model_free(m);
        }
    }
    if (m_v2 && m_en) {
        test_fallback(s_v2);
        test_prompt(s_v2, m_v2);
        test_condition(s_en, m_en);
        test_errors(s_v2, s_en);
    }
    test_cli();
    printf("max |avg_logprob diff| %.3g  max |language prob diff| %.3g  max |segment time diff| %.3g s\n", max_avg_diff,
           max_lang_diff, max_time_diff);
    whisper_session_free(s_v2);
    whisper_model_free(m_v2);
    whisper_session_free(s_en);
    whisper_model_free(m_en);
    audio_pcm_clear(&jfk);
    audio_pcm_clear(&long_pcm);
    return check_summary();
}
