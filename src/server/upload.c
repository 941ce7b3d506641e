/* upload.c — POST /api/analyze: multipart upload → decode → pipeline → store → JSON. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "audio/audio.h"
#include "base/error.h"
#include "base/json.h"
#include "base/log.h"
#include "server/internal.h"
#include "service/pipeline.h"

typedef struct {
    size_t limit;
    unsigned char *data;
    size_t size, cap;
    int found, too_big, oom, in_file;
    char filename[256];
} upload_form;

static int form_found(const char *key, const char *filename, char *path, size_t pathlen, void *user) {
    (void)path;
    (void)pathlen;
    upload_form *f = user;
    f->in_file = key && strcmp(key, "file") == 0 && !f->found;
    if (!f->in_file) return MG_FORM_FIELD_STORAGE_SKIP;
    f->found = 1;
    snprintf(f->filename, sizeof f->filename, "%s", filename ? filename : "");
    return MG_FORM_FIELD_STORAGE_GET;
}

static int form_get(const char *key, const char *value, size_t valuelen, void *user) {
    (void)key;
    upload_form *f = user;
    if (!f->in_file) return MG_FORM_FIELD_HANDLE_NEXT;
    if (f->size + valuelen > f->limit) {
        f->too_big = 1;
        return MG_FORM_FIELD_HANDLE_ABORT;
    }
    if (f->size + valuelen > f->cap) {
        size_t cap = f->cap ? f->cap : 65536;
        while (cap < f->size + valuelen) cap *= 2;
        if (cap > f->limit) cap = f->limit;
        unsigned char *d = realloc(f->data, cap);
        if (!d) {
            f->oom = 1;
            return MG_FORM_FIELD_HANDLE_ABORT;
        }
        f->data = d;
        f->cap = cap;
    }
    if (valuelen) memcpy(f->data + f->size, value, valuelen);
    f->size += valuelen;
    return MG_FORM_FIELD_HANDLE_GET;
}

static int form_stored(const char *path, long long size, void *user) {
    (void)path;
    (void)size;
    (void)user;
    return MG_FORM_FIELD_HANDLE_NEXT;
}

/* Stores the upload and its recording; returns 0 or an error code with err. */
static int upload_store(server *srv, const upload_form *f, const audio_pcm *pcm, const pipeline_signals *sig,
                        const pipeline_assessment *a, json_t *analysis, char id[STORE_ID_SIZE], char *err,
                        size_t err_size) {
    store *st = srv->reg->store;
    int rc = store_id_generate(id, err, err_size);
    if (rc != 0) return rc;
    char path[4096], name[64];
    const char *audio_name = NULL;
    if (store_recording_path(st, id, path, sizeof path, NULL, 0) == 0) {
        rc = audio_wav_write_file(path, pcm->samples, pcm->n_samples, pcm->sample_rate, AUDIO_WAV_PCM16, err, err_size);
        if (rc != 0) return rc;
        snprintf(name, sizeof name, "%s.wav", id);
        audio_name = name;
    }
    char *aj = json_dumps(analysis, JSON_COMPACT);
    if (!aj) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory storing the analysis");
    store_fields fields = {
        .duration_s = sig->duration_s,
        .transcript = sig->asr.text,
        .confidence = sig->confidence,
        .content_score = a->content_score,
        .distress_score = sig->distress,
        .queue = a->decision.queue_name,
        .priority_level = a->decision.priority_level,
        .flag_audio_review = a->decision.flag_audio_review,
        .escalation_required = a->decision.escalation_required,
        .analysis_json = aj,
        .utterance_count = 1,
    };
    rc = store_call_insert_complete(st, STORE_KIND_UPLOAD, id, f->filename[0] ? f->filename : NULL, &fields, audio_name,
                                    err, err_size);
    free(aj);
    return rc;
}

int route_analyze(struct mg_connection *conn, server *srv) {
    const struct mg_request_info *ri = mg_get_request_info(conn);
    size_t limit = srv->cfg.max_upload_bytes;
    const char *ctype = mg_get_header(conn, "Content-Type");
    if (!ctype || strncasecmp(ctype, "multipart/form-data", 19) != 0)
        return http_send_error(conn, srv, 415, "Connection: close\r\n",
                               "Content-Type must be multipart/form-data with the recording in a field named 'file' "
                               "(got %s)", ctype ? "another type" : "none");
    if (ri->content_length == 0)
        return http_send_error(conn, srv, 400, NULL, "empty request body: upload a recording in the form field 'file'");
    if (ri->content_length > 0 && (unsigned long long)ri->content_length > limit + 64 * 1024)
        return http_send_error(conn, srv, 413, "Connection: close\r\n",
                               "upload of %lld bytes exceeds the limit of %zu bytes (--max-upload-mb)",
                               ri->content_length, limit);
    upload_form f;
    memset(&f, 0, sizeof f);
    f.limit = limit;
    struct mg_form_data_handler fdh = {form_found, form_get, form_stored, &f};
    int fields = mg_handle_form_request(conn, &fdh);
    int status;
    char err[TRIDENT_ERR_SIZE];
    if (f.too_big) {
        status = http_send_error(conn, srv, 413, "Connection: close\r\n",
                                 "uploaded file exceeds the limit of %zu bytes (--max-upload-mb)", limit);
        goto done;
    }
    if (f.oom) {
        status = http_send_error(conn, srv, 503, "Retry-After: 5\r\n", "out of memory receiving the upload");
        goto done;
    }
    if (fields < 0 && !f.found) {
        status = http_send_error(conn, srv, 400, NULL, "malformed multipart/form-data body");
        goto done;
    }
    if (!f.found) {
        status = http_send_error(conn, srv, 422, NULL,
                                 "Field required: the recording must be sent in the multipart form field 'file'");
        goto done;
    }
    if (f.size == 0) {
        status = http_send_error(conn, srv, 400, NULL, "the uploaded file is empty");
        goto done;
    }
    audio_decode_options dopt = {.target_rate = AUDIO_SAMPLE_RATE, .max_seconds = srv->reg->cfg.max_call_s};
    audio_pcm pcm;
    int rc = audio_decode_memory(f.data, f.size, &dopt, &pcm, err, sizeof err);
    free(f.data);
    f.data = NULL;
    if (rc != 0) {
        status = http_send_error(conn, srv, http_status_for(rc), NULL, "could not use the uploaded file: %s%s", err,
                                 rc == TRIDENT_ELIMIT ? " (the server's limit is --max-call-s)" : "");
        goto done;
    }
    json_t *analysis = NULL;
    pipeline_signals sig;
    pipeline_assessment a;
    rc = pipeline_analyze_pcm(srv->reg, pcm.samples, pcm.n_samples, NULL, &analysis, &sig, &a, err, sizeof err);
    if (rc != 0) {
        audio_pcm_free(&pcm);
        status = http_send_error(conn, srv, http_status_for(rc), rc == TRIDENT_EBUSY ? "Retry-After: 5\r\n" : NULL, "%s",
                                 err);
        goto done;
    }
    char id[STORE_ID_SIZE] = "";
    if (srv->reg->store) {
        rc = upload_store(srv, &f, &pcm, &sig, &a, analysis, id, err, sizeof err);
        if (rc != 0) {
            log_error("server", "storing the analysed upload failed: %s", err);
            id[0] = '\0';
        }
    }
    audio_pcm_free(&pcm);
    pipeline_signals_clear(&sig);
    pipeline_assessment_clear(&a);
    if (id[0]) {
        char url[96];
        snprintf(url, sizeof url, "/api/calls/%s/audio", id);
        json_object_set_new(analysis, "call_id", json_string(id));
        json_object_set_new(analysis, "audio_url", json_string(url));
    } else {
        json_object_set_new(analysis, "call_id", json_null());
    }
    json_object_set_new(analysis, "filename", json_text(f.filename));
    status = http_send_json(conn, srv, 200, analysis, NULL);
done:
    free(f.data);
    return status;
}
