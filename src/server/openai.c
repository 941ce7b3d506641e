/* openai.c — the OpenAI-compatible audio API, so that clients and tools written
 * for OpenAI's Whisper endpoint can use TRIDENT as their Whisper server:
 *   POST /v1/audio/transcriptions, POST /v1/audio/translations (multipart/form-data
 *        as the official SDKs send it: file, model, language, prompt,
 *        response_format json|text|srt|vtt|verbose_json, temperature,
 *        timestamp_granularities[])
 *   GET  /v1/models, /v1/models/{id}
 * Errors are OpenAI's {"error": {"message", "type", "param", "code"}}. The audio
 * goes through the upload path (service/upload.h: admission, pre-checks, the
 * isolated decoder) and ASR alone: a transcription client is not a caller, so
 * nothing is triaged or stored. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "base/json.h"
#include "base/utf8.h"
#include "server/internal.h"
#include "service/upload.h"
#include "whisper/subtitles.h"

#define OPENAI_MODEL_ALIAS "whisper-1" /* the model name OpenAI's clients send by default */
#define OPENAI_PROMPT_MAX 4096         /* bytes of prompt (the engine keeps its last 223 tokens) */

/* Sends OpenAI's {"error": {...}} (http_openai_error). Returns status. */
static int openai_error(struct mg_connection *conn, const server *srv, int status, const char *headers,
                        const char *param, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
static int openai_error(struct mg_connection *conn, const server *srv, int status, const char *headers,
                        const char *param, const char *code, const char *fmt, ...) {
    char msg[TRIDENT_ERR_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return http_send_json(conn, srv, status, http_openai_error(status, param, code, msg), headers);
}

/* ---- models ---- */

/* The model ids served: the alias and the loaded model's directory name ("" when
 * no model is configured: no ids). */
static int model_known(const asr_status *as, const char *id) {
    return as->name[0] && (strcmp(id, OPENAI_MODEL_ALIAS) == 0 || strcmp(id, as->name) == 0);
}

static json_t *model_json(const server *srv, const char *id) {
    time_t created = time(NULL) - (time_t)service_registry_uptime_s(srv->reg);
    return json_pack("{s:o, s:s, s:I, s:s}", "id", json_text(id), "object", "model", "created", (json_int_t)created,
                     "owned_by", "trident");
}

static int route_models(struct mg_connection *conn, server *srv) {
    asr_status as;
    asr_service_status(srv->reg->asr, &as);
    json_t *data = json_array();
    if (data && as.name[0]) {
        json_array_append_new(data, model_json(srv, OPENAI_MODEL_ALIAS));
        json_array_append_new(data, model_json(srv, as.name));
    }
    return http_send_json(conn, srv, 200, data ? json_pack("{s:s, s:o}", "object", "list", "data", data) : NULL, NULL);
}

static int route_model(struct mg_connection *conn, server *srv, const char *id) {
    asr_status as;
    asr_service_status(srv->reg->asr, &as);
    if (!model_known(&as, id))
        return openai_error(conn, srv, 404, NULL, "model", "model_not_found", "The model '%s' does not exist", id);
    return http_send_json(conn, srv, 200, model_json(srv, id), NULL);
}

/* ---- the form ---- */

typedef enum { FMT_JSON, FMT_TEXT, FMT_SRT, FMT_VTT, FMT_VERBOSE_JSON } openai_format;

/* The form's fields, as multipart_parts_walk finds them. A text field is kept
 * only if it fits its buffer (too_long names the first that did not). */
typedef struct {
    multipart_file file;
    char model[256], language[32], response_format[32], temperature[32], stream[16];
    char prompt[OPENAI_PROMPT_MAX + 1];
    int has_model, has_language, has_format, has_temperature, has_prompt, has_stream;
    int word, bad_granularity;    /* timestamp_granularities[]: "word" asked; a value neither segment nor word */
    char bad_value[64];           /* the bad granularity, repaired for the message */
    const char *too_long;         /* the first field longer than its buffer */
    const char *not_text;         /* the first text field that is not UTF-8 or holds NUL */
} openai_form;

/* Copies a text field's value into buf (NUL-terminated); 0, or -1 when too long
 * or not UTF-8 text. */
static int field_copy(const multipart_part *p, char *buf, size_t size, int *has) {
    if (*has) return 0; /* the first of repeated fields counts */
    if (p->size >= size) return -1;
    for (size_t i = 0; i < p->size;) {
        size_t n = p->data[i] ? utf8_sequence_len(p->data + i, p->size - i) : 0;
        if (n == 0) return -1;
        i += n;
    }
    memcpy(buf, p->data, p->size);
    buf[p->size] = '\0';
    *has = 1;
    return 0;
}

static void form_part(void *ctx, const multipart_part *p) {
    openai_form *f = ctx;
    struct {
        const char *name;
        char *buf;
        size_t size;
        int *has;
    } text[] = {{"model", f->model, sizeof f->model, &f->has_model},
                {"language", f->language, sizeof f->language, &f->has_language},
                {"response_format", f->response_format, sizeof f->response_format, &f->has_format},
                {"temperature", f->temperature, sizeof f->temperature, &f->has_temperature},
                {"prompt", f->prompt, sizeof f->prompt, &f->has_prompt},
                {"stream", f->stream, sizeof f->stream, &f->has_stream}};
    if (strcmp(p->name, "file") == 0) {
        if (!f->file.found) {
            f->file.found = 1;
            f->file.data = p->data;
            f->file.size = p->size;
            snprintf(f->file.filename, sizeof f->file.filename, "%s", p->filename);
            f->file.has_filename = p->has_filename;
        }
        return;
    }
    if (strcmp(p->name, "timestamp_granularities[]") == 0 || strcmp(p->name, "timestamp_granularities") == 0) {
        if (p->size == 4 && memcmp(p->data, "word", 4) == 0) {
            f->word = 1;
        } else if (!(p->size == 7 && memcmp(p->data, "segment", 7) == 0) && !f->bad_granularity) {
            f->bad_granularity = 1;
            char raw[sizeof f->bad_value / 3];
            size_t n = p->size < sizeof raw - 1 ? p->size : sizeof raw - 1;
            memcpy(raw, p->data, n);
            utf8_repair((const unsigned char *)raw, n, f->bad_value, UTF8_REPAIR_BYTES | UTF8_REPAIR_CONTROLS);
        }
        return;
    }
    for (size_t i = 0; i < sizeof text / sizeof text[0]; i++) {
        if (strcmp(p->name, text[i].name) != 0) continue;
        if (field_copy(p, text[i].buf, text[i].size, text[i].has) != 0) {
            if (p->size >= text[i].size) {
                if (!f->too_long) f->too_long = text[i].name;
            } else if (!f->not_text) {
                f->not_text = text[i].name;
            }
        }
        return;
    }
    /* other fields (include[], chunking_strategy, ...) are ignored */
}

static int format_parse(const char *s, openai_format *out) {
    static const char *const names[] = {"json", "text", "srt", "vtt", "verbose_json"};
    for (int i = 0; i < 5; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = (openai_format)i;
            return 0;
        }
    return -1;
}

/* ---- the answer ---- */

/* The result's text without its leading and trailing white space, into a new
 * JSON string (NULL when out of memory). */
static json_t *text_trimmed_json(const char *text) {
    const char *s = text ? text : "";
    while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\n' || s[n - 1] == '\t' || s[n - 1] == '\r')) n--;
    char *t = malloc(n + 1);
    if (!t) return NULL;
    memcpy(t, s, n);
    t[n] = '\0';
    json_t *j = json_text(t);
    free(t);
    return j;
}

static json_t *num(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *verbose_json(const whisper_result *r, int translate, double duration_s) {
    json_t *segs = json_array();
    for (int i = 0; segs && i < r->n_segments; i++) {
        const whisper_segment *g = &r->segments[i];
        json_t *toks = json_array();
        for (int t = 0; toks && t < g->n_tokens; t++) json_array_append_new(toks, json_integer(g->tokens[t]));
        json_t *s = toks ? json_pack("{s:i, s:i, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "id", i, "seek", g->seek,
                                     "start", num(g->start), "end", num(g->end), "text", json_text(g->text),
                                     "tokens", toks, "temperature", num(g->temperature), "avg_logprob",
                                     num(g->avg_logprob), "compression_ratio", num(g->compression_ratio),
                                     "no_speech_prob", num(g->no_speech_prob))
                         : NULL;
        if (!s || json_array_append_new(segs, s) != 0) {
            json_decref(segs);
            return NULL;
        }
    }
    const char *lang = whisper_language_name(r->language);
    return segs ? json_pack("{s:s, s:o, s:f, s:o, s:o}", "task", translate ? "translate" : "transcribe", "language",
                            json_text(lang ? lang : r->language), "duration", duration_s, "text",
                            text_trimmed_json(r->text), "segments", segs)
                : NULL;
}

static int answer_send(struct mg_connection *conn, server *srv, const whisper_result *r, openai_format fmt,
                       int translate, double duration_s) {
    if (fmt == FMT_JSON) {
        json_t *usage = json_pack("{s:s, s:I}", "type", "duration", "seconds", (json_int_t)ceil(duration_s));
        return http_send_json(conn, srv, 200, json_pack("{s:o, s:o}", "text", text_trimmed_json(r->text), "usage", usage),
                              NULL);
    }
    if (fmt == FMT_VERBOSE_JSON) return http_send_json(conn, srv, 200, verbose_json(r, translate, duration_s), NULL);
    char *body = NULL;
    if (fmt == FMT_TEXT) {
        json_t *t = text_trimmed_json(r->text); /* the text repaired to UTF-8 */
        const char *s = t ? json_string_value(t) : NULL;
        size_t n = s ? strlen(s) : 0;
        body = s ? malloc(n + 2) : NULL;
        if (body) {
            memcpy(body, s, n);
            memcpy(body + n, "\n", 2);
        }
        json_decref(t);
    } else {
        body = whisper_result_format(r, fmt == FMT_SRT ? "srt" : "vtt");
    }
    if (!body) return openai_error(conn, srv, 500, NULL, NULL, NULL, "out of memory building the response");
    int status = http_send_bytes(conn, srv, 200, fmt == FMT_VTT ? "text/vtt; charset=utf-8" : "text/plain; charset=utf-8",
                                 body, strlen(body), NULL);
    free(body);
    return status;
}

/* Maps a service error to OpenAI's answer. */
static int service_error(struct mg_connection *conn, server *srv, int rc, const char *err) {
    switch (rc) {
    case TRIDENT_EBUSY: return openai_error(conn, srv, 503, "Retry-After: 5\r\n", NULL, "server_busy", "%s", err);
    case TRIDENT_ELIMIT:
        return openai_error(conn, srv, 413, NULL, "file", "audio_too_long",
                            "%s (the server's limit is --max-call-s)", err);
    case TRIDENT_EFORMAT:
        return openai_error(conn, srv, 400, NULL, "file", "invalid_audio", "could not use the uploaded file: %s", err);
    case TRIDENT_EINVAL: return openai_error(conn, srv, 400, NULL, NULL, "invalid_value", "%s", err);
    case TRIDENT_ENOTFOUND: return openai_error(conn, srv, 503, NULL, "model", "model_unavailable", "%s", err);
    default: return openai_error(conn, srv, 500, NULL, NULL, NULL, "%s", err);
    }
}

/* Validates the form into params; returns 0 or the status of the error sent. */
static int form_check(struct mg_connection *conn, server *srv, openai_form *f, openai_format *fmt, float temps[6],
                      int *n_temps) {
    if (f->too_long)
        return openai_error(conn, srv, 400, NULL, f->too_long, "invalid_value", "'%s' is too long", f->too_long);
    if (f->not_text)
        return openai_error(conn, srv, 400, NULL, f->not_text, "invalid_value", "'%s' must be UTF-8 text",
                            f->not_text);
    if (!f->file.found)
        return openai_error(conn, srv, 400, NULL, "file", "missing_required_parameter",
                            "you must provide a 'file': the audio in the multipart form field 'file'");
    if (f->file.size == 0) return openai_error(conn, srv, 400, NULL, "file", "invalid_audio", "the uploaded file is empty");
    if (f->file.size > srv->cfg.max_upload_bytes)
        return openai_error(conn, srv, 413, NULL, "file", "file_too_large",
                            "the uploaded file exceeds the limit of %zu bytes (--max-upload-mb)",
                            srv->cfg.max_upload_bytes);
    if (!f->has_model || !f->model[0])
        return openai_error(conn, srv, 400, NULL, "model", "missing_required_parameter",
                            "you must provide a 'model' (" OPENAI_MODEL_ALIAS " or an id from GET /v1/models)");
    asr_status as;
    asr_service_status(srv->reg->asr, &as);
    if (!as.name[0])
        return openai_error(conn, srv, 503, NULL, "model", "model_unavailable",
                            "this server has no ASR model configured (trident serve --model)");
    if (!model_known(&as, f->model))
        return openai_error(conn, srv, 400, NULL, "model", "model_not_found",
                            "the model '%s' does not exist: use " OPENAI_MODEL_ALIAS " or %s (GET /v1/models)",
                            f->model, as.name);
    *fmt = FMT_JSON;
    if (f->has_format && format_parse(f->response_format, fmt) != 0)
        return openai_error(conn, srv, 400, NULL, "response_format", "invalid_value",
                            "'%s' is not one of json, text, srt, vtt, verbose_json - 'response_format'",
                            f->response_format);
    if (f->bad_granularity)
        return openai_error(conn, srv, 400, NULL, "timestamp_granularities[]", "invalid_value",
                            "'%s' is not one of segment, word - 'timestamp_granularities[]'", f->bad_value);
    if (f->word)
        return openai_error(conn, srv, 400, NULL, "timestamp_granularities[]", "unsupported_value",
                            "word timestamps are not supported by this server: ask for segment (verbose_json)");
    if (f->has_stream && strcmp(f->stream, "false") != 0)
        return openai_error(conn, srv, 400, NULL, "stream", "unsupported_value",
                            "streaming is not supported by this server: leave 'stream' out or false");
    if (f->has_language && f->language[0] && !whisper_language_name(f->language))
        return openai_error(conn, srv, 400, NULL, "language", "invalid_value",
                            "'%s' is not a language code Whisper knows (ISO-639-1, e.g. en, es, fr)", f->language);
    double t = 0;
    if (f->has_temperature && f->temperature[0]) {
        char *end;
        t = strtod(f->temperature, &end);
        if (*end || !(t >= 0 && t <= 1))
            return openai_error(conn, srv, 400, NULL, "temperature", "invalid_value",
                                "'temperature' must be a number between 0 and 1, got '%s'", f->temperature);
    }
    /* OpenAI's rule (the official CLI's): from the temperature up in steps of 0.2
     * while the result fails the compression-ratio or log-probability checks */
    *n_temps = 0;
    for (double v = t; v <= 1.0 + 1e-9 && *n_temps < 6; v += 0.2) temps[(*n_temps)++] = (float)v;
    return 0;
}

static int route_audio(struct mg_connection *conn, server *srv, int translate) {
    unsigned char *body;
    size_t size;
    char boundary[80];
    upload_refusal refusal;
    int status = upload_form_read(conn, srv, &body, &size, boundary, sizeof boundary, &refusal);
    if (status != 0)
        return openai_error(conn, srv, status, refusal.headers, status == 413 ? "file" : NULL,
                            status == 413 ? "file_too_large" : "invalid_request", "%s", refusal.message);
    openai_form *f = calloc(1, sizeof *f);
    if (!f) {
        free(body);
        return openai_error(conn, srv, 503, "Retry-After: 5\r\n", NULL, "server_busy", "out of memory");
    }
    char err[TRIDENT_ERR_SIZE];
    openai_format fmt = FMT_JSON;
    float temps[6];
    int n_temps = 0;
    if (multipart_parts_walk(body, size, boundary, form_part, f, err, sizeof err) != 0)
        status = openai_error(conn, srv, 400, NULL, NULL, "invalid_request", "%s", err);
    else
        status = form_check(conn, srv, f, &fmt, temps, &n_temps);
    if (status == 0) {
        whisper_transcribe_params p = whisper_transcribe_params_default();
        const char *lang = f->has_language && f->language[0] ? f->language : srv->reg->cfg.language;
        p.language = lang && strcmp(lang, "auto") != 0 ? lang : NULL;
        p.task = translate ? "translate" : "transcribe";
        p.timestamps = 1;
        p.temperatures = temps;
        p.n_temperatures = n_temps;
        p.initial_prompt = f->has_prompt && f->prompt[0] ? f->prompt : NULL;
        p.audio_ctx_fit = srv->reg->cfg.audio_ctx_fit;
        whisper_result *r = NULL;
        double duration = 0;
        int rc = service_upload_transcribe(srv->reg, f->file.data, f->file.size, &p, &r, &duration, err, sizeof err);
        if (rc == 0) status = answer_send(conn, srv, r, fmt, translate, duration);
        else status = service_error(conn, srv, rc, err);
        whisper_result_free(r);
    }
    free(f);
    free(body);
    return status;
}

int route_openai(struct mg_connection *conn, server *srv, server_route route, const char *path) {
    const char *m = mg_get_request_info(conn)->request_method;
    int is_get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0, is_post = strcmp(m, "POST") == 0;
    switch (route) {
    case ROUTE_V1_TRANSCRIPTIONS:
    case ROUTE_V1_TRANSLATIONS:
        if (is_post) return route_audio(conn, srv, route == ROUTE_V1_TRANSLATIONS);
        break;
    case ROUTE_V1_MODELS:
        if (is_get) return route_models(conn, srv);
        break;
    case ROUTE_V1_MODEL:
        if (is_get) return route_model(conn, srv, path + strlen("/v1/models/"));
        break;
    default:
        return openai_error(conn, srv, 404, NULL, NULL, "unknown_url", "Unknown request URL: %s %s", m, path);
    }
    return openai_error(conn, srv, 405, NULL, NULL, "method_not_allowed", "Method %s is not allowed on %s", m, path);
}
