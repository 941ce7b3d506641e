/* transcribe.c — `trident transcribe`: one recording through the Whisper engine
 * (+ LoRA), printed as text or as one JSON object (windows, segments, tokens,
 * confidence, timings). Options that the engine does not implement yet are
 * rejected with exit status 2, never ignored. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "base/clock.h"
#include "base/error.h"
#include "cli/cli.h"
#include "whisper/engine.h"

#define MAX_TEMPERATURES 16

static void usage(FILE *out) {
    fprintf(out,
            "usage: trident transcribe --model DIR [--lora DIR] [--json] [--language CODE|auto]\n"
            "                          [--timestamps|--no-timestamps] [--beam-size N] [--temperature T[,T...]]\n"
            "                          [--condition-on-previous-text on|off] [--prompt TEXT] [--threads N] FILE\n"
            "\n"
            "Transcribes FILE (" AUDIO_ACCEPTED_FORMATS "; resampled to 16 kHz mono)\n"
            "with a Hugging Face Whisper model directory and an optional PEFT LoRA adapter.\n"
            "\n"
            "  --model DIR        Whisper directory (config.json, model.safetensors, vocab.json, ...)  [TRIDENT_MODEL]\n"
            "  --lora DIR         PEFT adapter directory (adapter_config.json + adapter_model.safetensors) [TRIDENT_LORA]\n"
            "  --json             print one JSON object: text, language, confidence, avg_logprob,\n"
            "                     no_speech_prob, segments, windows (tokens with log-probabilities), timings\n"
            "  --language CODE    spoken language (default en; auto = detect: not implemented yet)\n"
            "  --no-timestamps    decode without timestamps (default; --timestamps: not implemented yet)\n"
            "  --beam-size N      1 = greedy (default; beam search: not implemented yet)\n"
            "  --temperature T    0 (default; sampling and fallback schedules: not implemented yet)\n"
            "  --condition-on-previous-text on|off   for audio longer than 30 s (not implemented yet)\n"
            "  --prompt TEXT      initial prompt (not implemented yet)\n"
            "  --threads N        compute threads (default: online cores)                      [TRIDENT_THREADS]\n"
            "\n"
            "Exit status: 0 done, 1 failure (unreadable model or audio), 2 bad or unsupported option.\n");
}

typedef struct {
    const char *model, *lora, *language, *prompt, *file;
    int json, timestamps, beam_size, threads, condition; /* condition: -1 unset */
    float temps[MAX_TEMPERATURES];
    int n_temps;
} options;

static int parse_int(const char *s, int min, int max, int *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) return -1;
    *out = (int)v;
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

/* Returns 0, or the exit status for a bad command line. */
static int parse(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    o->model = getenv("TRIDENT_MODEL");
    o->lora = getenv("TRIDENT_LORA");
    o->beam_size = 1;
    o->condition = -1;
    o->temps[0] = 0.0f;
    o->n_temps = 1;
    const char *env_threads = getenv("TRIDENT_THREADS");
    if (env_threads && *env_threads && parse_int(env_threads, 0, 4096, &o->threads) != 0) {
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
            o->json = 1, takes = 0;
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
        } else if (strcmp(a, "--prompt") == 0) {
            o->prompt = v;
        } else if (strcmp(a, "--beam-size") == 0) {
            if (parse_int(v, 1, 64, &o->beam_size) != 0) {
                fprintf(stderr, "trident transcribe: --beam-size needs a number from 1 to 64, not '%s'\n", v);
                return 2;
            }
        } else if (strcmp(a, "--threads") == 0) {
            if (parse_int(v, 1, 4096, &o->threads) != 0) {
                fprintf(stderr, "trident transcribe: --threads needs a positive number, not '%s'\n", v);
                return 2;
            }
        } else if (strcmp(a, "--temperature") == 0) {
            if (parse_temperatures(v, o) != 0) {
                fprintf(stderr, "trident transcribe: --temperature needs T or T,T,... (numbers >= 0), not '%s'\n", v);
                return 2;
            }
        } else if (strcmp(a, "--condition-on-previous-text") == 0) {
            if (strcmp(v, "on") == 0) o->condition = 1;
            else if (strcmp(v, "off") == 0) o->condition = 0;
            else {
                fprintf(stderr, "trident transcribe: --condition-on-previous-text takes on or off, not '%s'\n", v);
                return 2;
            }
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
    /* what the engine does not do yet: refuse up front */
    const char *no = NULL;
    if (o->beam_size > 1) no = "beam search (--beam-size > 1)";
    else if (o->timestamps) no = "--timestamps";
    else if (o->n_temps > 1) no = "temperature fallback (more than one --temperature)";
    else if (o->temps[0] != 0.0f) no = "sampling at --temperature > 0";
    else if (o->prompt) no = "--prompt";
    if (no) {
        fprintf(stderr, "trident transcribe: %s is not implemented yet\n", no);
        return 2;
    }
    return 0;
}

static json_t *jstr(const char *s) {
    json_t *j = json_string(s ? s : "");
    return j ? j : json_string("");
}

static json_t *jnum(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *result_json(const whisper_result *r, double load_ms) {
    json_t *o = json_object();
    json_object_set_new(o, "text", jstr(r->text));
    json_object_set_new(o, "language", jstr(r->language));
    json_object_set_new(o, "confidence", jnum(r->confidence));
    json_object_set_new(o, "avg_logprob", jnum(r->avg_logprob));
    json_object_set_new(o, "no_speech_prob", jnum(r->no_speech_prob));
    json_t *segs = json_array();
    for (int i = 0; i < r->n_segments; i++) {
        const whisper_segment *g = &r->segments[i];
        json_t *s = json_object(), *toks = json_array();
        for (int t = 0; t < g->n_tokens; t++) json_array_append_new(toks, json_integer(g->tokens[t]));
        json_object_set_new(s, "seek", json_integer(g->seek));
        json_object_set_new(s, "start", jnum(g->start));
        json_object_set_new(s, "end", jnum(g->end));
        json_object_set_new(s, "text", jstr(g->text));
        json_object_set_new(s, "tokens", toks);
        json_object_set_new(s, "avg_logprob", jnum(g->avg_logprob));
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
            json_object_set_new(tok, "text", jstr(w->tokens[t].text));
            json_object_set_new(tok, "logprob", jnum(w->tokens[t].logprob));
            json_array_append_new(toks, tok);
        }
        json_object_set_new(j, "seek", json_integer(w->seek));
        json_object_set_new(j, "temperature", json_real(w->temperature));
        json_object_set_new(j, "tokens", toks);
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
    if (pcm.n_samples > (size_t)WHISPER_WINDOW_SAMPLES) {
        fprintf(stderr,
                "trident transcribe: %s is %.1f s long; audio longer than 30 s (long-form transcription%s) is not "
                "implemented yet\n",
                o.file, seconds, o.condition == 1 ? ", --condition-on-previous-text on" : "");
        audio_pcm_free(&pcm);
        return 2;
    }

    whisper_load_params lp = {o.model, o.lora, o.threads, WHISPER_WEIGHTS_NATIVE};
    whisper_model *model = NULL;
    double t0 = clock_now_ms();
    rc = whisper_model_load(&lp, &model, err, sizeof err);
    double load_ms = clock_now_ms() - t0;
    if (rc) {
        fprintf(stderr, "trident transcribe: %s\n", err);
        audio_pcm_free(&pcm);
        return 1;
    }
    whisper_model_info info = whisper_model_info_get(model);
    const char *language = o.language ? o.language : "en";
    if (strcmp(language, "auto") == 0 && info.multilingual) {
        fprintf(stderr, "trident transcribe: --language auto (language detection) is not implemented yet; give the "
                        "language, e.g. --language en\n");
        whisper_model_free(model);
        audio_pcm_free(&pcm);
        return 2;
    }
    whisper_session *session = NULL;
    rc = whisper_session_new(model, o.threads, &session, err, sizeof err);
    if (rc) {
        fprintf(stderr, "trident transcribe: %s\n", err);
        whisper_model_free(model);
        audio_pcm_free(&pcm);
        return 1;
    }
    whisper_transcribe_params tp = whisper_transcribe_params_default();
    tp.language = language;
    tp.timestamps = o.timestamps;
    tp.beam_size = o.beam_size;
    tp.temperatures = o.temps;
    tp.n_temperatures = o.n_temps;
    tp.initial_prompt = o.prompt;
    if (o.condition >= 0) tp.condition_on_previous_text = o.condition;
    whisper_result *r = NULL;
    rc = whisper_transcribe(session, pcm.samples, pcm.n_samples, &tp, &r, err, sizeof err);
    int status = 0;
    if (rc) {
        fprintf(stderr, "trident transcribe: %s\n", err);
        status = rc == TRIDENT_EUNSUPPORTED || rc == TRIDENT_EINVAL ? 2 : 1;
    } else if (o.json) {
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
    audio_pcm_free(&pcm);
    return status;
}
