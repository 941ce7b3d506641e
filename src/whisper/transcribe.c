/* transcribe.c — long-form transcription: whisper_transcription_begin computes the
 * log-mel of the whole signal + 30 s of padding once; each
 * whisper_transcription_step is one iteration of the official transcribe() loop
 * (language detection before the first window when asked), on whichever session
 * it is given; whisper_transcribe runs them all on one session. Windows of 3000 frames from `seek`
 * (the last one zero-padded as pad_or_trim does), each decoded with temperature
 * fallback and the previous text as prompt, split into segments at timestamp
 * pairs, and `seek` moved past the last complete segment. */
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
#include "whisper/language.h"
#include "whisper/model.h"
#include "whisper/sampling.h"
#include "whisper/session.h"

#define N_FRAMES_WINDOW 3000 /* 30 s of 10-ms mel frames */
#define INPUT_STRIDE 2       /* mel frames per audio position (3000 / 1500) */
#define TIME_PRECISION 0.02  /* seconds per timestamp step */
#define MAX_BEAM 16

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
            return error_set(err, err_size, TRIDENT_EINVAL, "no language given for the initial tokens");
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
    if (p->beam_size < 0 || p->beam_size > MAX_BEAM)
        return error_set(err, err_size, TRIDENT_EINVAL, "beam size %d is out of range (1 to %d; 0 or 1 = greedy)",
                         p->beam_size, MAX_BEAM);
    if (p->beam_size > 1 && !(p->patience > 0))
        return error_set(err, err_size, TRIDENT_EINVAL, "patience must be > 0 (got %g)", p->patience);
    if (p->beam_size > 1 && nearbyint(p->beam_size * p->patience) < 1)
        return error_set(err, err_size, TRIDENT_EINVAL, "patience %g keeps no finished candidate", p->patience);
    if (p->best_of < 0 || p->best_of > 64)
        return error_set(err, err_size, TRIDENT_EINVAL, "best_of %d is out of range (1 to 64)", p->best_of);
    if (p->n_temperatures < 0 || (p->n_temperatures > 0 && !p->temperatures))
        return error_set(err, err_size, TRIDENT_EINVAL, "bad temperature schedule");
    for (int i = 0; i < p->n_temperatures; i++)
        if (!(p->temperatures[i] >= 0.0f) || !isfinite(p->temperatures[i]))
            return error_set(err, err_size, TRIDENT_EINVAL, "temperature %g must be a number >= 0",
                             (double)p->temperatures[i]);
    if (p->max_windows < 0) return error_set(err, err_size, TRIDENT_EINVAL, "max_windows must be >= 0");
    if (p->sample_len < 0) return error_set(err, err_size, TRIDENT_EINVAL, "sample_len must be >= 0");
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

/* The reference's segmentation of one window's tokens (d) with timestamps: split
 * at consecutive timestamp pairs (plus the tail when it ends in a single
 * timestamp); otherwise one segment ending at the last timestamp (or at the
 * window's end). Returns the frames to advance seek by, or TRIDENT_ENOMEM. */
static int segments_from_window(whisper_result *r, const whisper_model *m, const whisper_decoding *d, int seek,
                                int segment_size, int timestamps) {
    int tb = whisper_tokenizer_specials(m->tok)->timestamp_begin, n = d->n_tokens, rc;
    const int *t = d->tokens;
    double offset = seek * 0.01, duration = segment_size * 0.01, temp = d->temperature;
    if (!timestamps) {
        /* <|notimestamps|>: one segment per window. A model may still emit timestamp
         * tokens (random-weight ones do); the reference would split and seek at them,
         * we do not: they were not asked for, and the window's audio is all decoded. */
        if ((rc = segment_add(r, m, d, 0, n, seek, offset, offset + duration, temp))) return rc;
        return segment_size;
    }
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
        if (single_ending) return segment_size;
        return (t[last - 1] - tb) * INPUT_STRIDE;
    }
    for (int i = n - 1; i >= 0; i--)
        if (t[i] >= tb) {
            if (t[i] != tb) duration = (t[i] - tb) * TIME_PRECISION;
            break;
        }
    if ((rc = segment_add(r, m, d, 0, n, seek, offset, offset + duration, temp))) return rc;
    return segment_size;
}

/* Records a decode call as a window of the result. */
static int window_add(whisper_result *r, const whisper_model *m, const whisper_decoding *d, int seek) {
    whisper_window *grown = realloc(r->windows, (size_t)(r->n_windows + 1) * sizeof *grown);
    if (!grown) return TRIDENT_ENOMEM;
    r->windows = grown;
    r->n_windows++; /* counted even when incomplete so that whisper_result_free frees it */
    r->n_tokens += d->n_tokens;
    return window_fill(m, &r->windows[r->n_windows - 1], d, seek, d->temperature);
}

/* Growing list of token ids (all_tokens of the reference). */
typedef struct {
    int *ids;
    int n, cap;
} token_list;

static int token_list_add(token_list *l, const int *ids, int n) {
    if (l->n + n > l->cap) {
        int cap = l->cap ? l->cap : 256;
        while (cap < l->n + n) cap *= 2;
        int *grown = realloc(l->ids, (size_t)cap * sizeof *grown);
        if (!grown) return TRIDENT_ENOMEM;
        l->ids = grown;
        l->cap = cap;
    }
    if (n) memcpy(l->ids + l->n, ids, (size_t)n * sizeof *ids);
    l->n += n;
    return 0;
}

/* The official decode_with_fallback: decode at each temperature in turn until
 * the result is neither too repetitive (compression ratio) nor too unlikely
 * (avg_logprob), unless it is silence (no_speech_prob high and avg_logprob low).
 * Every attempt is recorded as a window; *out is the last one. */
static int decode_with_fallback(whisper_session *s, whisper_result *r, const whisper_transcribe_params *p,
                                const int *initial, int n_initial, int sot_index, int seek, rng_state *rng,
                                whisper_decoding *out, char *err, size_t err_size) {
    const whisper_model *m = s->model;
    static const float zero = 0.0f;
    const float *temps = p->n_temperatures > 0 ? p->temperatures : &zero;
    int n_temps = p->n_temperatures > 0 ? p->n_temperatures : 1;
    memset(out, 0, sizeof *out);
    for (int i = 0; i < n_temps; i++) {
        whisper_decode_options o = whisper_decode_options_default(m);
        o.timestamps = p->timestamps;
        o.temperature = temps[i];
        o.length_penalty = p->length_penalty;
        o.rng = rng;
        if (p->sample_len > 0 && p->sample_len < o.sample_len) o.sample_len = p->sample_len;
        if (o.temperature > 0) {
            o.best_of = p->best_of > 0 ? p->best_of : 1;
        } else {
            o.beam_size = p->beam_size > 1 ? p->beam_size : 1;
            o.patience = p->patience;
        }
        whisper_decoding_clear(out);
        double t0 = clock_now_ms();
        int rc = whisper_decode(s, initial, n_initial, sot_index, &o, out, err, err_size);
        r->decode_ms += clock_now_ms() - t0;
        if (rc) return rc;
        if (window_add(r, m, out, seek)) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory");
        int fallback = 0;
        if (p->compression_ratio_threshold > 0 && out->compression_ratio > p->compression_ratio_threshold)
            fallback = 1; /* too repetitive */
        int low = !isinf(p->logprob_threshold) && !isnan(p->logprob_threshold) && out->avg_logprob < p->logprob_threshold;
        if (low) fallback = 1; /* too unlikely */
        if (p->no_speech_threshold > 0 && out->no_speech_prob > p->no_speech_threshold && low)
            fallback = 0; /* silence */
        if (!fallback) break;
    }
    return 0;
}

/* "If a segment is instantaneous or does not contain text, clear it." */
static void segments_clear_empty(whisper_result *r, int from) {
    for (int i = from; i < r->n_segments; i++) {
        whisper_segment *g = &r->segments[i];
        int blank = 1;
        for (const char *c = g->text; c && *c && blank; c++) blank = *c == ' ' || (*c >= '\t' && *c <= '\r');
        if (g->start == g->end || blank) {
            g->text[0] = '\0';
            g->n_tokens = 0;
        }
    }
}

/* One long-form run (engine.h): everything of the official transcribe() loop
 * that outlives a window, so that its windows can be decoded one at a time on
 * any session of the model. */
struct whisper_transcription {
    const whisper_model *model;
    whisper_transcribe_params p; /* the caller's, pointing at the copies below; initial_prompt NULL (tokenized) */
    char *language, *task;       /* owned copies (or NULL) */
    float *temperatures;         /* owned copy (or NULL) */
    float *mel;                  /* [n_mels][n_frames]: the whole audio + 30 s of padding (owned) */
    int n_frames, content_frames;
    double audio_s;              /* the duration finish reports */
    int detect;                  /* language detection pending (done by the first step) */
    int initial[4], n_sot;       /* the sot sequence (once the language is known) */
    token_list all;              /* initial prompt + every kept segment's tokens */
    int n_prompt0, prompt_reset_since, seek, n_windows, max_prompt, zero_pad;
    int *init;                   /* scratch: [<|startofprev|> prev] + sot sequence */
    float *window;               /* scratch: one zero-padded 30-s mel window */
    double sum_kept, n_kept, sum_all, n_all;
    rng_state rng;
    whisper_result *r;           /* accumulating; moved out by finish */
    int done, failed;
};

void whisper_transcription_free(whisper_transcription *t) {
    if (!t) return;
    free(t->language);
    free(t->task);
    free(t->temperatures);
    free(t->mel);
    free(t->all.ids);
    free(t->init);
    free(t->window);
    whisper_result_free(t->r);
    free(t);
}

static char *str_copy(const char *s, int *oom) {
    if (!s) return NULL;
    char *c = strdup(s);
    if (!c) *oom = 1;
    return c;
}

/* Creates the run from a mel it takes ownership of (freed on failure too). */
static int transcription_new(const whisper_model *m, float *mel, int n_frames, int content_frames,
                             const whisper_transcribe_params *params, whisper_transcription **out, char *err,
                             size_t err_size) {
    *out = NULL;
    const whisper_special_tokens *sp = whisper_tokenizer_specials(m->tok);
    whisper_transcribe_params defaults = whisper_transcribe_params_default();
    const whisper_transcribe_params *p = params ? params : &defaults;
    int rc = params_check(p, err, err_size);
    if (rc) {
        free(mel);
        return rc;
    }
    if (content_frames <= 0) {
        free(mel);
        return error_set(err, err_size, TRIDENT_EINVAL, "no audio to transcribe (less than 10 ms)");
    }
    if (n_frames < content_frames + N_FRAMES_WINDOW || n_frames < 2 * m->hp.n_audio_ctx) {
        free(mel);
        return error_set(err, err_size, TRIDENT_EINVAL, "mel of %d frames is too short for %d frames of audio",
                         n_frames, content_frames);
    }
    int auto_lang = !p->language || strcmp(p->language, "auto") == 0;
    int initial[4];
    /* validate language and task before any work */
    int n_sot = whisper_initial_tokens(m, auto_lang ? (m->multilingual ? "en" : NULL) : p->language, p->task,
                                       p->timestamps, initial, err, err_size);
    if (n_sot < 0) {
        free(mel);
        return n_sot;
    }
    whisper_transcription *t = calloc(1, sizeof *t);
    if (!t) {
        free(mel);
        return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory");
    }
    t->mel = mel;
    t->model = m;
    t->p = *p;
    t->n_frames = n_frames;
    t->content_frames = content_frames;
    t->audio_s = content_frames * 0.01;
    int oom = 0;
    t->language = str_copy(p->language, &oom);
    t->task = str_copy(p->task, &oom);
    t->p.language = t->language;
    t->p.task = t->task;
    t->p.initial_prompt = NULL;
    if (p->n_temperatures > 0) {
        t->temperatures = malloc((size_t)p->n_temperatures * sizeof *t->temperatures);
        if (t->temperatures) memcpy(t->temperatures, p->temperatures, (size_t)p->n_temperatures * sizeof *t->temperatures);
        else oom = 1;
    }
    t->p.temperatures = t->temperatures;
    t->r = calloc(1, sizeof *t->r);
    t->max_prompt = m->hp.n_text_ctx / 2 - 1;
    t->init = malloc((size_t)(t->max_prompt + 1 + 4) * sizeof *t->init);
    t->window = malloc((size_t)m->hp.n_mels * N_FRAMES_WINDOW * sizeof *t->window);
    if (oom || !t->r || !t->init || !t->window) {
        whisper_transcription_free(t);
        return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory");
    }
    t->r->audio_s = content_frames * 0.01;

    if (m->multilingual && auto_lang) {
        t->detect = 1; /* needs a session: the first step detects */
    } else {
        const char *lang = m->multilingual ? p->language : "en";
        int lt = whisper_tokenizer_language_token(m->tok, lang);
        const char *code =
            lt >= 0 && sp->lang_begin >= 0 ? whisper_tokenizer_language_code(m->tok, lt - sp->lang_begin) : NULL;
        snprintf(t->r->language, sizeof t->r->language, "%s", code ? code : "en");
        t->n_sot = whisper_initial_tokens(m, t->r->language, p->task, p->timestamps, t->initial, err, err_size);
        if (t->n_sot < 0) {
            rc = t->n_sot;
            whisper_transcription_free(t);
            return rc;
        }
    }

    if (p->initial_prompt && *p->initial_prompt) {
        char *spaced = malloc(strlen(p->initial_prompt) + 2), *stripped = NULL;
        int *ids = NULL;
        size_t n_ids = 0;
        if (spaced) {
            stripped = whisper_text_strip(p->initial_prompt);
            if (stripped) sprintf(spaced, " %s", stripped);
        }
        rc = spaced && stripped ? whisper_tokenizer_encode(m->tok, spaced, &ids, &n_ids) : TRIDENT_ENOMEM;
        free(spaced);
        free(stripped);
        if (rc == 0) rc = token_list_add(&t->all, ids, (int)n_ids);
        free(ids);
        if (rc) {
            whisper_transcription_free(t);
            return error_set(err, err_size, rc, rc == TRIDENT_EINVAL ? "the prompt is not valid UTF-8" : "out of memory");
        }
        t->n_prompt0 = t->all.n;
    }
    rng_seed(&t->rng, p->seed);
    t->zero_pad = p->zero_pad_window > 0 || (p->zero_pad_window == 0 && content_frames > N_FRAMES_WINDOW);
    *out = t;
    return 0;
}

int whisper_transcription_begin_mel(const whisper_model *m, const float *mel, int n_frames, int content_frames,
                                    const whisper_transcribe_params *params, whisper_transcription **out, char *err,
                                    size_t err_size) {
    *out = NULL;
    if (!m || !mel || n_frames <= 0) return error_set(err, err_size, TRIDENT_EINVAL, "no model or no mel");
    size_t n = (size_t)m->hp.n_mels * (size_t)n_frames;
    float *copy = malloc(n * sizeof *copy);
    if (!copy) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory copying the mel");
    memcpy(copy, mel, n * sizeof *copy);
    return transcription_new(m, copy, n_frames, content_frames, params, out, err, err_size);
}

int whisper_transcription_begin(const whisper_model *m, const float *pcm, size_t n_samples,
                                const whisper_transcribe_params *params, whisper_transcription **out, char *err,
                                size_t err_size) {
    *out = NULL;
    if (!m) return error_set(err, err_size, TRIDENT_EINVAL, "no model");
    whisper_transcribe_params defaults = whisper_transcribe_params_default();
    const whisper_transcribe_params *p = params ? params : &defaults;
    int rc = params_check(p, err, err_size);
    if (rc) return rc;
    double t0 = clock_now_ms();
    float *mel = NULL;
    int n_frames = 0;
    rc = whisper_mel_compute(m->mel, pcm, n_samples, (size_t)WHISPER_WINDOW_SAMPLES, &mel, &n_frames, err, err_size);
    if (rc) return rc;
    double mel_ms = clock_now_ms() - t0;
    rc = transcription_new(m, mel, n_frames, n_frames - N_FRAMES_WINDOW, p, out, err, err_size);
    if (rc) return rc;
    (*out)->r->mel_ms = mel_ms;
    (*out)->audio_s = (double)n_samples / WHISPER_SAMPLE_RATE;
    return 0;
}

/* Whether the official loop would decode another window. */
static int transcription_more(const whisper_transcription *t) {
    return t->seek < t->content_frames && (t->p.max_windows == 0 || t->n_windows < t->p.max_windows);
}

#define AUDIO_CTX_STEP 64 /* encoder positions the fitted context is rounded up to */

/* Encoder positions for a window holding `frames` mel frames of audio. */
static int window_ctx(const whisper_model *m, const whisper_transcribe_params *p, int frames) {
    int full = m->hp.n_audio_ctx;
    if (!p->audio_ctx_fit || frames >= 2 * full) return full;
    int n = ((frames + 1) / 2 + AUDIO_CTX_STEP - 1) / AUDIO_CTX_STEP * AUDIO_CTX_STEP;
    return n < full ? n : full;
}

/* One iteration of the official transcribe() loop on session s. */
static int transcription_window(whisper_session *s, whisper_transcription *t, char *err, size_t err_size) {
    const whisper_model *m = t->model;
    const whisper_special_tokens *sp = whisper_tokenizer_specials(m->tok);
    const whisper_transcribe_params *p = &t->p;
    whisper_result *r = t->r;
    const int n_mels = m->hp.n_mels, n_frames = t->n_frames, content_frames = t->content_frames, seek = t->seek;
    int rc;
    if (t->detect) {
        /* the first 3000 frames of the padded signal's mel, as pad_or_trim(mel, N_FRAMES) */
        double t0 = clock_now_ms();
        whisper_encoder_forward_ctx(s, t->mel, n_frames, window_ctx(m, p, content_frames));
        r->encode_ms += clock_now_ms() - t0;
        if ((rc = whisper_language_detect(s, r, err, err_size))) return rc;
        t->n_sot = whisper_initial_tokens(m, r->language, p->task, p->timestamps, t->initial, err, err_size);
        if (t->n_sot < 0) return t->n_sot;
        t->detect = 0;
    }
    int segment_size = content_frames - seek < N_FRAMES_WINDOW ? content_frames - seek : N_FRAMES_WINDOW;
    int n_ctx = window_ctx(m, p, segment_size);
    double t0 = clock_now_ms();
    if (t->zero_pad && segment_size < N_FRAMES_WINDOW) {
        /* mel[:, seek : seek + segment_size], zero-padded to 3000 frames (pad_or_trim) */
        for (int c = 0; c < n_mels; c++) {
            float *row = t->window + (size_t)c * N_FRAMES_WINDOW;
            memcpy(row, t->mel + (size_t)c * n_frames + seek, (size_t)segment_size * sizeof *row);
            memset(row + segment_size, 0, (size_t)(N_FRAMES_WINDOW - segment_size) * sizeof *row);
        }
        whisper_encoder_forward_ctx(s, t->window, N_FRAMES_WINDOW, n_ctx);
    } else {
        /* mel[:, seek : seek + 3000] of the padded signal */
        whisper_encoder_forward_ctx(s, t->mel + seek, n_frames, n_ctx);
    }
    r->encode_ms += clock_now_ms() - t0;

    /* the initial tokens: [<|startofprev|> previous text] + the sot sequence */
    int n_init = 0, n_prev = t->all.n - t->prompt_reset_since;
    if (n_prev > 0 && sp->sot_prev >= 0) {
        if (n_prev > t->max_prompt) n_prev = t->max_prompt;
        t->init[n_init++] = sp->sot_prev;
        memcpy(t->init + n_init, t->all.ids + t->all.n - n_prev, (size_t)n_prev * sizeof *t->init);
        n_init += n_prev;
    }
    int sot_index = n_init;
    memcpy(t->init + n_init, t->initial, (size_t)t->n_sot * sizeof *t->init);
    n_init += t->n_sot;

    whisper_decoding d;
    rc = decode_with_fallback(s, r, p, t->init, n_init, sot_index, seek, &t->rng, &d, err, err_size);
    if (rc) {
        whisper_decoding_clear(&d);
        return rc;
    }
    if (t->n_windows == 0) r->no_speech_prob = d.no_speech_prob;
    t->n_windows++;
    t->sum_all += d.sum_logprob;
    t->n_all += d.n_tokens + 1;

    int skip = 0;
    if (p->no_speech_threshold > 0 && !isnan(d.no_speech_prob)) {
        skip = d.no_speech_prob > p->no_speech_threshold;
        if (!isinf(p->logprob_threshold) && !isnan(p->logprob_threshold) && d.avg_logprob > p->logprob_threshold)
            skip = 0;
    }
    if (skip) {
        t->seek += segment_size;
    } else {
        t->sum_kept += d.sum_logprob;
        t->n_kept += d.n_tokens + 1;
        int from = r->n_segments;
        int advance = segments_from_window(r, m, &d, seek, segment_size, p->timestamps);
        if (advance < 0) rc = TRIDENT_ENOMEM;
        if (rc == 0) segments_clear_empty(r, from);
        for (int i = from; rc == 0 && i < r->n_segments; i++)
            rc = token_list_add(&t->all, r->segments[i].tokens, r->segments[i].n_tokens);
        if (rc) {
            whisper_decoding_clear(&d);
            return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory building the result");
        }
        if (!p->condition_on_previous_text || d.temperature > 0.5) t->prompt_reset_since = t->all.n;
        t->seek += advance;
    }
    whisper_decoding_clear(&d);
    if (p->progress)
        p->progress(p->progress_ctx, (t->seek < content_frames ? t->seek : content_frames) * 0.01, r->audio_s);
    return 0;
}

int whisper_transcription_step(whisper_session *s, whisper_transcription *t, int *done, char *err, size_t err_size) {
    if (done) *done = 0;
    if (!s || !t) return error_set(err, err_size, TRIDENT_EINVAL, "no session or no transcription");
    if (t->failed) return error_set(err, err_size, TRIDENT_EINVAL, "the transcription failed earlier; free it");
    if (!t->r) return error_set(err, err_size, TRIDENT_EINVAL, "the transcription is already finished");
    if (s->model != t->model)
        return error_set(err, err_size, TRIDENT_EINVAL, "the session belongs to another model than the transcription");
    if (!t->done && transcription_more(t)) {
        int rc = transcription_window(s, t, err, err_size);
        if (rc) {
            t->failed = 1;
            return rc;
        }
    }
    t->done = !transcription_more(t);
    if (done) *done = t->done;
    return 0;
}

int whisper_transcription_finish(whisper_transcription *t, whisper_result **out, char *err, size_t err_size) {
    *out = NULL;
    if (!t) return error_set(err, err_size, TRIDENT_EINVAL, "no transcription");
    if (t->failed) return error_set(err, err_size, TRIDENT_EINVAL, "the transcription failed earlier; free it");
    if (!t->r) return error_set(err, err_size, TRIDENT_EINVAL, "the transcription is already finished");
    if (!t->done) return error_set(err, err_size, TRIDENT_EINVAL, "the transcription has windows left to decode");
    whisper_result *r = t->r;
    r->text = whisper_text_decode(t->model, t->all.ids + t->n_prompt0, t->all.n - t->n_prompt0);
    if (!r->text) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory building the result");
    /* confidence over the kept windows (all windows when every one was skipped) */
    r->avg_logprob = t->n_kept > 0 ? t->sum_kept / t->n_kept : t->n_all > 0 ? t->sum_all / t->n_all : 0.0;
    r->confidence = exp(r->avg_logprob);
    r->audio_s = t->audio_s;
    t->r = NULL;
    *out = r;
    return 0;
}

double whisper_transcription_progress(const whisper_transcription *t, double *total_s) {
    if (total_s) *total_s = t->content_frames * 0.01;
    return (t->seek < t->content_frames ? t->seek : t->content_frames) * 0.01;
}

/* Steps t to the end on one session and finishes it; frees t. */
static int transcription_run(whisper_session *s, whisper_transcription *t, whisper_result **out, char *err,
                             size_t err_size) {
    int done = 0, rc = 0;
    while (rc == 0 && !done) rc = whisper_transcription_step(s, t, &done, err, err_size);
    if (rc == 0) rc = whisper_transcription_finish(t, out, err, err_size);
    whisper_transcription_free(t);
    return rc;
}

int whisper_transcribe_mel(whisper_session *s, const float *mel, int n_frames, int content_frames,
                           const whisper_transcribe_params *params, whisper_result **out, char *err, size_t err_size) {
    *out = NULL;
    whisper_transcription *t = NULL;
    int rc = whisper_transcription_begin_mel(s->model, mel, n_frames, content_frames, params, &t, err, err_size);
    return rc ? rc : transcription_run(s, t, out, err, err_size);
}

int whisper_transcribe(whisper_session *s, const float *pcm, size_t n_samples, const whisper_transcribe_params *params,
                       whisper_result **out, char *err, size_t err_size) {
    *out = NULL;
    whisper_transcription *t = NULL;
    int rc = whisper_transcription_begin(s->model, pcm, n_samples, params, &t, err, err_size);
    return rc ? rc : transcription_run(s, t, out, err, err_size);
}
