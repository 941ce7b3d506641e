/* transcribe.c — `trident transcribe`: one recording of any length through the
 * Whisper engine (+ LoRA), printed as text, as one JSON object (windows,
 * segments, tokens, confidence, language probabilities, timings) or as SRT /
 * WebVTT subtitles. Bad options exit with status 2 and a message. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/json.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "whisper/engine.h"
#include "whisper/subtitles.h"

#define MAX_TEMPERATURES 16

static void usage(FILE *out) {
    fprintf(out,
            "usage: trident transcribe --model DIR [--lora DIR] [--json] [--output-format txt|json|srt|vtt]\n"
            "                          [--language CODE|auto] [--task transcribe|translate]\n"
            "                          [--timestamps|--no-timestamps] [--beam-size N] [--patience P]\n"
            "                          [--length-penalty A] [--temperature T[,T...]] [--best-of N] [--seed N]\n"
            "                          [--compression-ratio-threshold X] [--logprob-threshold X]\n"
            "                          [--no-speech-threshold X] [--condition-on-previous-text on|off]\n"
            "                          [--prompt TEXT] [--threads N] [--quant q8] [--audio-ctx-fit] FILE\n"
            "\n"
            "Transcribes FILE (" AUDIO_ACCEPTED_FORMATS "; resampled to 16 kHz mono; any length)\n"
            "with a Hugging Face Whisper model directory and an optional PEFT LoRA adapter,\n"
            "following the official openai/whisper decoding and long-form rules.\n"
            "\n"
            "  --model DIR        Whisper directory (config.json, model.safetensors, vocab.json, ...)  [TRIDENT_MODEL]\n"
            "  --lora DIR         PEFT adapter directory (adapter_config.json + adapter_model.safetensors) [TRIDENT_LORA]\n"
            "  --json             same as --output-format json: text, language, language_probs (with auto),\n"
            "                     confidence, avg_logprob, no_speech_prob, segments (with per-token\n"
            "                     probabilities), windows (every decode, tokens with log-probabilities), timings\n"
            "  --output-format F  txt (default: the transcript), json, srt or vtt (subtitles; these turn\n"
            "                     timestamps on unless --no-timestamps is given)\n"
            "  --language CODE    spoken language (default en); auto = detect on multilingual models\n"
            "  --task T           transcribe (default) or translate (to English; multilingual models only)\n"
            "  --timestamps       predict timestamp tokens and split segments at them (default: off)\n"
            "  --beam-size N      1 = greedy (default); 2 to 16 = beam search at temperature 0\n"
            "  --patience P       beam search patience (default 1.0)\n"
            "  --length-penalty A rank candidates by sum_logprob / ((5 + length) / 6)^A (default: / length)\n"
            "  --temperature T    0 (default), or a fallback schedule such as 0,0.2,0.4,0.6,0.8,1.0\n"
            "  --best-of N        candidates sampled at temperatures > 0 (default 5)\n"
            "  --seed N           random seed for sampling (default 0); the same seed repeats the result\n"
            "  --compression-ratio-threshold X   re-decode when the text's zlib ratio > X (default 2.4; 0 = off)\n"
            "  --logprob-threshold X             re-decode when avg_logprob < X (default -1.0; -inf = off)\n"
            "  --no-speech-threshold X           silence when no_speech_prob > X and avg_logprob is low\n"
            "                                    (default 0.6; 0 = off)\n"
            "  --condition-on-previous-text on|off   previous windows' text as the prompt (default on)\n"
            "  --prompt TEXT      initial prompt (e.g. local place names to bias recognition)\n"
            "  --threads N        compute threads (default: online cores)                      [TRIDENT_THREADS]\n"
            "  --quant q8         8-bit decoder weights converted at load (faster; README, Performance)\n"
            "  --audio-ctx-fit    encode a window shorter than 30 s over its own frames only (faster;\n"
            "                     changes the model's input, so the transcript may differ) [TRIDENT_AUDIO_CTX_FIT=1]\n"
            "\n"
            "A progress line goes to stderr for recordings longer than 60 s.\n"
            "Exit status: 0 done, 1 failure (unreadable model or audio), 2 bad option.\n");
}

typedef enum { FORMAT_TXT, FORMAT_JSON, FORMAT_SRT, FORMAT_VTT } output_format;

typedef struct {
    const char *model, *lora, *language, *task, *prompt, *file;
    int timestamps, beam_size, best_of, threads, condition; /* timestamps, condition: -1 unset */
    int audio_ctx_fit;
    whisper_weights weights;
    output_format format;
    double patience, length_penalty, cr_threshold, lp_threshold, ns_threshold;
    unsigned long long seed;
    float temps[MAX_TEMPERATURES];
    int n_temps;
} options;

/* A number; "-inf"/"inf" only when allow_inf. */
static int parse_double(const char *s, int allow_inf, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || isnan(v) || (!allow_inf && isinf(v))) return -1;
    *out = v;
    return 0;
}

static int parse_temperatures(const char *s, options *o) {
    o->n_temps = 0;
    const char *p = s;
    for (;;) {
        char *end;
        errno = 0;
        double t = strtod(p, &end);
        if (errno || end == p || !isfinite(t) || t < 0 || o->n_temps == MAX_TEMPERATURES) return -1;
        o->temps[o->n_temps++] = (float)t;
        if (*end == '\0') return 0;
        if (*end != ',') return -1;
        p = end + 1;
    }
}

static int bad(const char *flag, const char *want, const char *v) {
    fprintf(stderr, "trident transcribe: %s needs %s, not '%s'\n", flag, want, v);
    return 2;
}

/* Returns 0, or the exit status for a bad command line (-1: --help shown). */
static int parse(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    o->model = getenv("TRIDENT_MODEL");
    o->audio_ctx_fit = cli_audio_ctx_fit_env();
    o->lora = getenv("TRIDENT_LORA");
    o->beam_size = 1;
    o->best_of = 5;
    o->patience = 1.0;
    o->length_penalty = -1.0;
    o->cr_threshold = 2.4;
    o->lp_threshold = -1.0;
    o->ns_threshold = 0.6;
    o->timestamps = -1;
    o->condition = -1;
    o->temps[0] = 0.0f;
    o->n_temps = 1;
    o->format = FORMAT_TXT;
    const char *env_threads = getenv("TRIDENT_THREADS");
    if (env_threads && *env_threads && cli_int_parse(env_threads, 0, 4096, &o->threads) != 0) {
        fprintf(stderr, "trident transcribe: TRIDENT_THREADS must be a number of threads\n");
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = 1;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return -1;
        } else if (strcmp(a, "--json") == 0) {
            o->format = FORMAT_JSON, takes = 0;
        } else if (strcmp(a, "--audio-ctx-fit") == 0) {
            o->audio_ctx_fit = 1, takes = 0;
        } else if (strcmp(a, "--timestamps") == 0) {
            o->timestamps = 1, takes = 0;
        } else if (strcmp(a, "--no-timestamps") == 0) {
            o->timestamps = 0, takes = 0;
        } else if (strncmp(a, "--", 2) == 0 && !v) {
            fprintf(stderr, "trident transcribe: %s needs a value (see --help)\n", a);
            return 2;
        } else if (strcmp(a, "--model") == 0) {
            o->model = v;
        } else if (strcmp(a, "--lora") == 0) {
            o->lora = v;
        } else if (strcmp(a, "--language") == 0) {
            o->language = v;
        } else if (strcmp(a, "--task") == 0) {
            if (strcmp(v, "transcribe") != 0 && strcmp(v, "translate") != 0)
                return bad(a, "transcribe or translate", v);
            o->task = v;
        } else if (strcmp(a, "--prompt") == 0) {
            o->prompt = v;
        } else if (strcmp(a, "--output-format") == 0) {
            if (strcmp(v, "txt") == 0) o->format = FORMAT_TXT;
            else if (strcmp(v, "json") == 0) o->format = FORMAT_JSON;
            else if (strcmp(v, "srt") == 0) o->format = FORMAT_SRT;
            else if (strcmp(v, "vtt") == 0) o->format = FORMAT_VTT;
            else return bad(a, "txt, json, srt or vtt", v);
        } else if (strcmp(a, "--beam-size") == 0) {
            if (cli_int_parse(v, 1, 16, &o->beam_size) != 0) return bad(a, "a number from 1 to 16", v);
        } else if (strcmp(a, "--best-of") == 0) {
            if (cli_int_parse(v, 1, 64, &o->best_of) != 0) return bad(a, "a number from 1 to 64", v);
        } else if (strcmp(a, "--patience") == 0) {
            if (parse_double(v, 0, &o->patience) != 0 || o->patience <= 0) return bad(a, "a number > 0", v);
        } else if (strcmp(a, "--length-penalty") == 0) {
            if (parse_double(v, 0, &o->length_penalty) != 0 || o->length_penalty < 0)
                return bad(a, "a number >= 0", v);
        } else if (strcmp(a, "--seed") == 0) {
            char *end;
            errno = 0;
            o->seed = strtoull(v, &end, 10);
            if (errno || end == v || *end || v[0] == '-') return bad(a, "a non-negative integer", v);
        } else if (strcmp(a, "--compression-ratio-threshold") == 0) {
            if (parse_double(v, 1, &o->cr_threshold) != 0) return bad(a, "a number", v);
        } else if (strcmp(a, "--logprob-threshold") == 0) {
            if (parse_double(v, 1, &o->lp_threshold) != 0) return bad(a, "a number (or -inf)", v);
        } else if (strcmp(a, "--no-speech-threshold") == 0) {
            if (parse_double(v, 0, &o->ns_threshold) != 0) return bad(a, "a number", v);
        } else if (strcmp(a, "--threads") == 0) {
            if (cli_int_parse(v, 1, 4096, &o->threads) != 0) return bad(a, "a positive number", v);
        } else if (strcmp(a, "--quant") == 0) {
            if (cli_quant_parse(v, &o->weights) != 0) return bad(a, "q8 or none", v);
        } else if (strcmp(a, "--temperature") == 0) {
            if (parse_temperatures(v, o) != 0) return bad(a, "T or T,T,... (numbers >= 0)", v);
        } else if (strcmp(a, "--condition-on-previous-text") == 0) {
            if (strcmp(v, "on") == 0) o->condition = 1;
            else if (strcmp(v, "off") == 0) o->condition = 0;
            else return bad(a, "on or off", v);
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "trident transcribe: unknown option '%s' (see --help)\n", a);
            return 2;
        } else {
            if (o->file) {
                fprintf(stderr, "trident transcribe: one FILE only ('%s' and '%s')\n", o->file, a);
                return 2;
            }
            o->file = a, takes = 0;
        }
        i += takes;
    }
    if (!o->model || !*o->model) {
        fprintf(stderr, "trident transcribe: --model DIR is required (or TRIDENT_MODEL)\n");
        return 2;
    }
    if (o->lora && !*o->lora) o->lora = NULL;
    if (!o->file) {
        fprintf(stderr, "trident transcribe: no FILE given (see --help)\n");
        return 2;
    }
    if (o->timestamps < 0) o->timestamps = o->format == FORMAT_SRT || o->format == FORMAT_VTT;
    return 0;
}

static json_t *jnum(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *result_json(const whisper_result *r, double load_ms) {
    json_t *o = json_object();
    json_object_set_new(o, "text", json_text(r->text));
    json_object_set_new(o, "language", json_text(r->language));
    if (r->n_language_probs > 0) {
        json_t *lp = json_array();
        for (int i = 0; i < r->n_language_probs; i++)
            json_array_append_new(lp, json_pack("[s f]", r->language_probs[i].code, r->language_probs[i].prob));
        json_object_set_new(o, "language_probs", lp);
    }
    json_object_set_new(o, "confidence", jnum(r->confidence));
    json_object_set_new(o, "avg_logprob", jnum(r->avg_logprob));
    json_object_set_new(o, "no_speech_prob", jnum(r->no_speech_prob));
    json_t *segs = json_array();
    for (int i = 0; i < r->n_segments; i++) {
        const whisper_segment *g = &r->segments[i];
        json_t *s = json_object(), *toks = json_array(), *probs = json_array();
        for (int t = 0; t < g->n_tokens; t++) {
            json_array_append_new(toks, json_integer(g->tokens[t]));
            json_array_append_new(probs, jnum(exp(g->token_logprobs[t])));
        }
        json_object_set_new(s, "seek", json_integer(g->seek));
        json_object_set_new(s, "start", jnum(g->start));
        json_object_set_new(s, "end", jnum(g->end));
        json_object_set_new(s, "text", json_text(g->text));
        json_object_set_new(s, "tokens", toks);
        json_object_set_new(s, "token_confidences", probs);
        json_object_set_new(s, "temperature", jnum(g->temperature));
        json_object_set_new(s, "avg_logprob", jnum(g->avg_logprob));
        json_object_set_new(s, "compression_ratio", jnum(g->compression_ratio));
        json_object_set_new(s, "no_speech_prob", jnum(g->no_speech_prob));
        json_object_set_new(s, "confidence", jnum(g->confidence));
        json_array_append_new(segs, s);
    }
    json_object_set_new(o, "segments", segs);
    json_t *wins = json_array();
    for (int i = 0; i < r->n_windows; i++) {
        const whisper_window *w = &r->windows[i];
        json_t *j = json_object(), *toks = json_array();
        for (int t = 0; t < w->n_tokens; t++) {
            json_t *tok = json_object();
            json_object_set_new(tok, "id", json_integer(w->tokens[t].id));
            json_object_set_new(tok, "text", json_text(w->tokens[t].text));
            json_object_set_new(tok, "logprob", jnum(w->tokens[t].logprob));
            json_object_set_new(tok, "confidence", jnum(exp(w->tokens[t].logprob)));
            json_array_append_new(toks, tok);
        }
        json_object_set_new(j, "seek", json_integer(w->seek));
        json_object_set_new(j, "temperature", json_real(w->temperature));
        json_object_set_new(j, "tokens", toks);
        json_object_set_new(j, "text", json_text(w->text));
        json_object_set_new(j, "sum_logprob", jnum(w->sum_logprob));
        json_object_set_new(j, "avg_logprob", jnum(w->avg_logprob));
        json_object_set_new(j, "no_speech_prob", jnum(w->no_speech_prob));
        json_object_set_new(j, "compression_ratio", jnum(w->compression_ratio));
        json_array_append_new(wins, j);
    }
    json_object_set_new(o, "windows", wins);
    json_t *tm = json_object();
    json_object_set_new(tm, "load_ms", json_real(load_ms));
    json_object_set_new(tm, "mel_ms", json_real(r->mel_ms));
    json_object_set_new(tm, "encode_ms", json_real(r->encode_ms));
    json_object_set_new(tm, "decode_ms", json_real(r->decode_ms));
    json_object_set_new(tm, "n_tokens", json_integer(r->n_tokens));
    json_object_set_new(o, "timings", tm);
    return o;
}

/* One line per window on stderr for long recordings. */
static void progress_line(void *ctx, double done_s, double total_s) {
    const char *file = ctx;
    fprintf(stderr, "trident transcribe: %s: %.1f / %.1f s (%.0f%%)\n", file, done_s, total_s,
            total_s > 0 ? 100.0 * done_s / total_s : 100.0);
}

int cli_transcribe(int argc, char **argv) {
    options o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    char err[TRIDENT_ERR_SIZE];

    audio_pcm pcm;
    rc = audio_decode_file(o.file, NULL, &pcm, err, sizeof err);
    if (rc) {
        fprintf(stderr, "trident transcribe: %s\n", err);
        return rc == TRIDENT_ELIMIT ? 2 : 1;
    }
    double seconds = (double)pcm.n_samples / AUDIO_SAMPLE_RATE;

    whisper_load_params lp = {o.model, o.lora, o.threads, o.weights};
    whisper_model *model = NULL;
    double t0 = clock_now_ms();
    rc = whisper_model_load(&lp, &model, err, sizeof err);
    double load_ms = clock_now_ms() - t0;
    if (rc) {
        fprintf(stderr, "trident transcribe: %s\n", err);
        audio_pcm_clear(&pcm);
        return 1;
    }
    whisper_session *session = NULL;
    rc = whisper_session_new(model, o.threads, &session, err, sizeof err);
    if (rc) {
        fprintf(stderr, "trident transcribe: %s\n", err);
        whisper_model_free(model);
        audio_pcm_clear(&pcm);
        return 1;
    }
    whisper_transcribe_params tp = whisper_transcribe_params_default();
    tp.language = o.language ? o.language : "en";
    if (o.task) tp.task = o.task;
    tp.timestamps = o.timestamps;
    tp.beam_size = o.beam_size;
    tp.patience = o.patience;
    tp.length_penalty = o.length_penalty;
    tp.temperatures = o.temps;
    tp.n_temperatures = o.n_temps;
    tp.audio_ctx_fit = o.audio_ctx_fit;
    tp.best_of = o.best_of;
    tp.seed = o.seed;
    tp.compression_ratio_threshold = o.cr_threshold;
    tp.logprob_threshold = o.lp_threshold;
    tp.no_speech_threshold = o.ns_threshold;
    tp.initial_prompt = o.prompt;
    if (o.condition >= 0) tp.condition_on_previous_text = o.condition;
    if (seconds > 60.0) {
        tp.progress = progress_line;
        tp.progress_ctx = (void *)o.file;
    }
    whisper_result *r = NULL;
    rc = whisper_transcribe(session, pcm.samples, pcm.n_samples, &tp, &r, err, sizeof err);
    int status = 0;
    if (rc) {
        fprintf(stderr, "trident transcribe: %s\n", err);
        status = rc == TRIDENT_EUNSUPPORTED || rc == TRIDENT_EINVAL ? 2 : 1;
    } else if (o.format == FORMAT_JSON) {
        json_t *j = result_json(r, load_ms);
        char *s = j ? json_dumps(j, JSON_INDENT(1) | JSON_REAL_PRECISION(10)) : NULL;
        if (s) {
            fputs(s, stdout);
            fputc('\n', stdout);
        } else {
            fprintf(stderr, "trident transcribe: out of memory writing JSON\n");
            status = 1;
        }
        free(s);
        json_decref(j);
    } else if (o.format == FORMAT_SRT || o.format == FORMAT_VTT) {
        char *s = whisper_result_format(r, o.format == FORMAT_SRT ? "srt" : "vtt");
        if (s) fputs(s, stdout);
        else {
            fprintf(stderr, "trident transcribe: out of memory writing subtitles\n");
            status = 1;
        }
        free(s);
    } else {
        const char *t = r->text ? r->text : "";
        size_t a = 0, b = strlen(t);
        while (a < b && (t[a] == ' ' || t[a] == '\t' || t[a] == '\n' || t[a] == '\r')) a++;
        while (b > a && (t[b - 1] == ' ' || t[b - 1] == '\t' || t[b - 1] == '\n' || t[b - 1] == '\r')) b--;
        printf("%.*s\n", (int)(b - a), t + a);
    }
    if (fflush(stdout) != 0) status = 1;
    whisper_result_free(r);
    whisper_session_free(session);
    whisper_model_free(model);
    audio_pcm_clear(&pcm);
    return status;
}
