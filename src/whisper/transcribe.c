/* transcribe.c — whisper_transcribe: audio → mel → per-window encode + decode →
 * segments, text and confidence, as the official transcribe() does for one
 * 30-s window (greedy, temperature 0). The long-form loop (seek over windows,
 * temperature fallback, prompts, timestamps) is issue 5: options that need it
 * are rejected with TRIDENT_EUNSUPPORTED rather than ignored. */
#include "whisper/transcribe.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/clock.h"
#include "base/error.h"
#include "whisper/decoder.h"
#include "whisper/decoding.h"
#include "whisper/encoder.h"
#include "whisper/model.h"
#include "whisper/session.h"

#define N_FRAMES_WINDOW 3000 /* 30 s of 10-ms mel frames */
#define TIME_PRECISION 0.02

whisper_transcribe_params whisper_transcribe_params_default(void) {
    whisper_transcribe_params p;
    memset(&p, 0, sizeof p);
    p.task = "transcribe";
    p.beam_size = 1;
    p.patience = 1.0;
    p.length_penalty = -1.0;
    p.best_of = 5;
    p.compression_ratio_threshold = 2.4;
    p.logprob_threshold = -1.0;
    p.no_speech_threshold = 0.6;
    p.condition_on_previous_text = 1;
    return p;
}

int whisper_initial_tokens(const whisper_model *m, const char *language, const char *task, int timestamps, int out[4],
                           char *err, size_t err_size) {
    const whisper_special_tokens *sp = whisper_tokenizer_specials(m->tok);
    int n = 0;
    out[n++] = sp->sot;
    int translate = task && strcmp(task, "translate") == 0;
    if (task && !translate && strcmp(task, "transcribe") != 0)
        return error_set(err, err_size, TRIDENT_EINVAL, "unknown task \"%s\" (transcribe or translate)", task);
    if (m->multilingual) {
        if (!language || strcmp(language, "auto") == 0)
            return error_set(err, err_size, TRIDENT_EUNSUPPORTED,
                             "language detection is not implemented yet; give the language (e.g. en)");
        int lt = whisper_tokenizer_language_token(m->tok, language);
        if (lt < 0) return error_set(err, err_size, TRIDENT_EINVAL, "unknown language \"%s\"", language);
        out[n++] = lt;
        out[n++] = translate ? sp->translate : sp->transcribe;
    } else {
        if (language && strcmp(language, "auto") != 0 && strcasecmp(language, "en") != 0 &&
            strcasecmp(language, "english") != 0)
            return error_set(err, err_size, TRIDENT_EINVAL, "%s is an English-only model; language \"%s\" is not available",
                             m->name, language);
        if (translate)
            return error_set(err, err_size, TRIDENT_EINVAL, "%s is an English-only model; it cannot translate", m->name);
    }
    if (!timestamps) out[n++] = sp->no_timestamps;
    return n;
}

void whisper_result_free(whisper_result *r) {
    if (!r) return;
    free(r->text);
    for (int i = 0; i < r->n_segments; i++) {
        free(r->segments[i].text);
        free(r->segments[i].tokens);
        free(r->segments[i].token_logprobs);
    }
    free(r->segments);
    for (int i = 0; i < r->n_windows; i++) {
        for (int t = 0; t < r->windows[i].n_tokens; t++) free(r->windows[i].tokens[t].text);
        free(r->windows[i].tokens);
        free(r->windows[i].text);
    }
    free(r->windows);
    free(r->language_probs);
    free(r);
}

static int params_check(const whisper_transcribe_params *p, char *err, size_t err_size) {
    if (p->beam_size > 1)
        return error_set(err, err_size, TRIDENT_EUNSUPPORTED, "beam search (beam size %d) is not implemented yet",
                         p->beam_size);
    if (p->timestamps)
        return error_set(err, err_size, TRIDENT_EUNSUPPORTED, "timestamps are not implemented yet");
    if (p->n_temperatures > 1)
        return error_set(err, err_size, TRIDENT_EUNSUPPORTED,
                         "temperature fallback (%d temperatures) is not implemented yet", p->n_temperatures);
    if (p->n_temperatures == 1 && p->temperatures && p->temperatures[0] != 0.0f)
        return error_set(err, err_size, TRIDENT_EUNSUPPORTED, "sampling at temperature %g is not implemented yet",
                         (double)p->temperatures[0]);
    if (p->initial_prompt && *p->initial_prompt)
        return error_set(err, err_size, TRIDENT_EUNSUPPORTED, "initial prompts are not implemented yet");
    return 0;
}

/* Copies a decoding into window w (seek, temperature). */
static int window_fill(const whisper_model *m, whisper_window *w, const whisper_decoding *d, int seek, double temp) {
    memset(w, 0, sizeof *w);
    w->seek = seek;
    w->temperature = temp;
    w->tokens = calloc((size_t)(d->n_tokens ? d->n_tokens : 1), sizeof *w->tokens);
    w->text = strdup(d->text ? d->text : "");
    if (!w->tokens || !w->text) return TRIDENT_ENOMEM;
    for (int i = 0; i < d->n_tokens; i++) {
        w->tokens[i].id = d->tokens[i];
        w->tokens[i].logprob = d->logprobs[i];
        w->tokens[i].text = whisper_text_decode(m, &d->tokens[i], 1);
        w->n_tokens = i + 1;
        if (!w->tokens[i].text) return TRIDENT_ENOMEM;
    }
    w->sum_logprob = d->sum_logprob;
    w->avg_logprob = d->avg_logprob;
    w->no_speech_prob = d->no_speech_prob;
    w->compression_ratio = d->compression_ratio;
    return 0;
}

/* Appends a segment of tokens [a, b) of the decoding (the reference's new_segment:
 * its text is the decode of the tokens below eot). */
static int segment_add(whisper_result *r, const whisper_model *m, const whisper_decoding *d, int a, int b, int seek,
                       double start, double end, double temp) {
    const whisper_special_tokens *sp = whisper_tokenizer_specials(m->tok);
    whisper_segment *grown = realloc(r->segments, (size_t)(r->n_segments + 1) * sizeof *grown);
    if (!grown) return TRIDENT_ENOMEM;
    r->segments = grown;
    whisper_segment *g = &r->segments[r->n_segments];
    memset(g, 0, sizeof *g);
    int n = b - a;
    g->tokens = malloc((size_t)(n ? n : 1) * sizeof *g->tokens);
    g->token_logprobs = malloc((size_t)(n ? n : 1) * sizeof *g->token_logprobs);
    int *text_tokens = malloc((size_t)(n ? n : 1) * sizeof *text_tokens);
    int n_text = 0;
    if (g->tokens && g->token_logprobs && text_tokens) {
        for (int i = 0; i < n; i++) {
            g->tokens[i] = d->tokens[a + i];
            g->token_logprobs[i] = d->logprobs[a + i];
            if (d->tokens[a + i] < sp->eot) text_tokens[n_text++] = d->tokens[a + i];
        }
        g->text = whisper_tokenizer_decode(m->tok, text_tokens, (size_t)n_text, 0);
    }
    free(text_tokens);
    r->n_segments++; /* counted even when incomplete so that whisper_result_free frees it */
    if (!g->tokens || !g->token_logprobs || !g->text) return TRIDENT_ENOMEM;
    g->n_tokens = n;
    g->seek = seek;
    g->start = start;
    g->end = end;
    g->avg_logprob = d->avg_logprob;
    g->no_speech_prob = d->no_speech_prob;
    g->confidence = exp(d->avg_logprob);
    g->temperature = temp;
    g->compression_ratio = d->compression_ratio;
    return 0;
}

/* The reference's segmentation of one window's tokens: split at consecutive
 * timestamp pairs; otherwise one segment ending at the last timestamp (or at the
 * window's end). Returns 0 or TRIDENT_ENOMEM. */
static int segments_from_window(whisper_result *r, const whisper_model *m, const whisper_decoding *d, int seek,
                                int segment_size, double temp) {
    int tb = whisper_tokenizer_specials(m->tok)->timestamp_begin, n = d->n_tokens, rc;
    const int *t = d->tokens;
    double offset = seek * 0.01, duration = segment_size * 0.01;
    int single_ending = n >= 2 ? (t[n - 2] < tb && t[n - 1] >= tb) : (n == 1 && t[0] >= tb);
    int n_consec = 0;
    for (int i = 1; i < n; i++)
        if (t[i - 1] >= tb && t[i] >= tb) n_consec++;
    if (n_consec > 0) {
        int last = 0;
        for (int i = 1; i <= n; i++) {
            int is_slice = i < n ? (t[i - 1] >= tb && t[i] >= tb) : single_ending;
            if (!is_slice) continue;
            int a = last, b = i;
            double start = offset + (t[a] - tb) * TIME_PRECISION, end = offset + (t[b - 1] - tb) * TIME_PRECISION;
            if ((rc = segment_add(r, m, d, a, b, seek, start, end, temp))) return rc;
            last = i;
        }
        return 0;
    }
    for (int i = n - 1; i >= 0; i--)
        if (t[i] >= tb) {
            if (t[i] != tb) duration = (t[i] - tb) * TIME_PRECISION;
            break;
        }
    return segment_add(r, m, d, 0, n, seek, offset, offset + duration, temp);
}

int whisper_transcribe_mel(whisper_session *s, const float *mel, int n_frames, int content_frames,
                           const whisper_transcribe_params *params, whisper_result **out, char *err, size_t err_size) {
    *out = NULL;
    const whisper_model *m = s->model;
    whisper_transcribe_params defaults = whisper_transcribe_params_default();
    const whisper_transcribe_params *p = params ? params : &defaults;
    int rc = params_check(p, err, err_size);
    if (rc) return rc;
    if (content_frames <= 0)
        return error_set(err, err_size, TRIDENT_EINVAL, "no audio to transcribe (less than 10 ms)");
    if (n_frames < content_frames + N_FRAMES_WINDOW || n_frames < 2 * m->hp.n_audio_ctx)
        return error_set(err, err_size, TRIDENT_EINVAL, "mel of %d frames is too short for %d frames of audio",
                         n_frames, content_frames);
    if (content_frames > N_FRAMES_WINDOW && p->max_windows != 1)
        return error_set(err, err_size, TRIDENT_EUNSUPPORTED,
                         "audio longer than 30 s (%.1f s) is not supported yet; only the first window can be "
                         "transcribed", content_frames * 0.01);
    int initial[4];
    int n_initial = whisper_initial_tokens(m, p->language, p->task, p->timestamps, initial, err, err_size);
    if (n_initial < 0) return n_initial;

    whisper_result *r = calloc(1, sizeof *r);
    if (!r) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory");
    const char *lang = m->multilingual ? p->language : "en";
    int lt = whisper_tokenizer_language_token(m->tok, lang);
    const whisper_special_tokens *sp = whisper_tokenizer_specials(m->tok);
    const char *code = lt >= 0 && sp->lang_begin >= 0 ? whisper_tokenizer_language_code(m->tok, lt - sp->lang_begin) : NULL;
    snprintf(r->language, sizeof r->language, "%s", code ? code : lang);
    r->audio_s = content_frames * 0.01;

    whisper_decode_options o = whisper_decode_options_default(m);
    whisper_decoding d;
    memset(&d, 0, sizeof d);
    int seek = 0, segment_size = content_frames - seek < N_FRAMES_WINDOW ? content_frames - seek : N_FRAMES_WINDOW;

    /* The window is mel[:, seek : seek + 3000] of the padded signal's spectrogram,
     * as the reference's decode() on log_mel_spectrogram(audio, padding=N_SAMPLES)
     * (greedy.json). The reference's long-form transcribe() instead zero-pads a
     * shorter last segment (pad_or_trim); issue 5's long-form loop must do that
     * for windows that end past the audio. */
    double t0 = clock_now_ms();
    whisper_encoder_forward(s, mel + seek, n_frames);
    double t1 = clock_now_ms();
    r->encode_ms += t1 - t0;
    rc = whisper_decode(s, initial, n_initial, 0, &o, &d, err, err_size);
    r->decode_ms += clock_now_ms() - t1;
    if (rc) goto fail;

    r->windows = calloc(1, sizeof *r->windows);
    if (!r->windows) goto oom;
    r->n_windows = 1;
    if (window_fill(m, &r->windows[0], &d, seek, 0.0)) goto oom;
    r->n_tokens += d.n_tokens;

    int skip = 0;
    if (p->no_speech_threshold > 0 && !isnan(d.no_speech_prob)) {
        skip = d.no_speech_prob > p->no_speech_threshold;
        if (!isinf(p->logprob_threshold) && d.avg_logprob > p->logprob_threshold) skip = 0;
    }
    if (!skip && segments_from_window(r, m, &d, seek, segment_size, 0.0)) goto oom;

    /* text: the decode of every kept token (the reference's result["text"]) */
    int total = 0;
    for (int i = 0; i < r->n_segments; i++) total += r->segments[i].n_tokens;
    int *all = malloc((size_t)(total ? total : 1) * sizeof *all);
    if (!all) goto oom;
    total = 0;
    for (int i = 0; i < r->n_segments; i++) {
        memcpy(all + total, r->segments[i].tokens, (size_t)r->segments[i].n_tokens * sizeof *all);
        total += r->segments[i].n_tokens;
    }
    r->text = whisper_text_decode(m, all, total);
    free(all);
    if (!r->text) goto oom;
    /* confidence over the kept windows (all windows when every one was skipped) */
    r->avg_logprob = d.avg_logprob;
    r->confidence = exp(r->avg_logprob);
    r->no_speech_prob = d.no_speech_prob;
    whisper_decoding_clear(&d);
    if (p->progress) p->progress(p->progress_ctx, r->audio_s, r->audio_s);
    *out = r;
    return 0;
oom:
    rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory building the result");
fail:
    whisper_decoding_clear(&d);
    whisper_result_free(r);
    return rc;
}

int whisper_transcribe(whisper_session *s, const float *pcm, size_t n_samples, const whisper_transcribe_params *params,
                       whisper_result **out, char *err, size_t err_size) {
    *out = NULL;
    const whisper_model *m = s->model;
    whisper_transcribe_params defaults = whisper_transcribe_params_default();
    const whisper_transcribe_params *p = params ? params : &defaults;
    int rc = params_check(p, err, err_size);
    if (rc) return rc;
    if (n_samples > (size_t)30 * WHISPER_SAMPLE_RATE && p->max_windows != 1)
        return error_set(err, err_size, TRIDENT_EUNSUPPORTED,
                         "audio longer than 30 s (%.1f s) is not supported yet", (double)n_samples / WHISPER_SAMPLE_RATE);
    const size_t window = (size_t)30 * WHISPER_SAMPLE_RATE;
    size_t used = n_samples > window ? window : n_samples; /* max_windows == 1 */
    double t0 = clock_now_ms();
    float *mel = NULL;
    int n_frames = 0;
    rc = whisper_mel_compute(m->mel, pcm, used, window, &mel, &n_frames, err, err_size);
    if (rc) return rc;
    double mel_ms = clock_now_ms() - t0;
    int content = n_frames - N_FRAMES_WINDOW;
    rc = whisper_transcribe_mel(s, mel, n_frames, content, p, out, err, err_size);
    free(mel);
    if (rc == 0) {
        (*out)->mel_ms = mel_ms;
        (*out)->audio_s = (double)n_samples / WHISPER_SAMPLE_RATE;
    }
    return rc;
}
