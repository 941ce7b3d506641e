/* upload.c — an uploaded recording: admission, pre-checks, isolated decoding,
 * the pipeline and the stored call (see upload.h). */
#include "service/upload.h"

#include <stdio.h>
#include <stdlib.h>

#include "audio/audio.h"
#include "base/error.h"
#include "base/json.h"
#include "base/log.h"
#include "service/pipeline.h"
#include "service/record.h"

/* Stores the analysed upload and its recording; returns 0 or an error code with err. */
static int upload_store(service_registry *reg, const char *filename, const audio_pcm *pcm,
                        const pipeline_signals *sig, const pipeline_assessment *a, json_t *analysis,
                        char id[STORE_ID_SIZE], char *err, size_t err_size) {
    int rc = store_id_generate(id, err, err_size);
    if (rc != 0) return rc;
    char path[4096], name[64];
    const char *audio_name = NULL;
    if (store_recording_path(reg->store, id, path, sizeof path, NULL, 0) == 0) {
        rc = audio_wav_write_file(path, pcm->samples, pcm->n_samples, pcm->sample_rate, AUDIO_WAV_PCM16, err,
                                  err_size);
        if (rc != 0) return rc;
        snprintf(name, sizeof name, "%s.wav", id);
        audio_name = name;
    }
    char *aj = json_dumps(analysis, JSON_COMPACT);
    if (!aj) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory storing the analysis");
    store_fields fields;
    record_fields_fill(&fields, sig->duration_s, sig->asr.text, sig->confidence, sig->distress, a, aj, 1);
    rc = store_call_insert_complete(reg->store, STORE_KIND_UPLOAD, id, filename && *filename ? filename : NULL,
                                    &fields, audio_name, err, err_size);
    free(aj);
    return rc;
}

/* Probes and decodes the file under the bounds; the caller holds a queue place. */
static int upload_decode(service_registry *reg, const void *data, size_t size, audio_pcm *pcm, char *err,
                         size_t err_size) {
    audio_probe_info probe;
    int rc = audio_probe(data, size, "the uploaded audio", &probe, err, err_size);
    if (rc != 0) return rc;
    double declared = audio_probe_duration(&probe);
    if (declared > reg->cfg.max_call_s + 1)
        return error_set(err, err_size, TRIDENT_ELIMIT,
                         "the uploaded audio (%s) declares %.1f s; at most %.0f s are accepted", probe.container,
                         declared, reg->cfg.max_call_s);
    audio_decode_options dopt = {.target_rate = AUDIO_SAMPLE_RATE, .max_seconds = reg->cfg.max_call_s};
    audio_isolation iso = {.exe = reg->cfg.decoder_exe};
    return audio_decode_memory_isolated(data, size, &dopt, &iso, pcm, err, err_size);
}

int service_upload_transcribe(service_registry *reg, const void *data, size_t size,
                              const whisper_transcribe_params *params, whisper_result **out, double *duration_s,
                              char *err, size_t err_size) {
    *out = NULL;
    *duration_s = 0;
    int rc = infer_scheduler_reserve(reg->sched, err, err_size);
    if (rc != 0) return rc;
    /* the model first (a lazy load happens here): its failure is not the audio's */
    const whisper_model *model = NULL;
    char why[TRIDENT_ERR_SIZE];
    if (asr_service_model_get(reg->asr, &model, why, sizeof why) != 0) {
        infer_scheduler_release(reg->sched);
        return error_set(err, err_size, TRIDENT_ENOTFOUND, "the ASR model is unavailable: %s", why);
    }
    audio_pcm pcm;
    rc = upload_decode(reg, data, size, &pcm, err, err_size);
    if (rc == 0) {
        rc = pipeline_pcm_check(pcm.samples, pcm.n_samples, err, err_size);
        if (rc != 0) audio_pcm_clear(&pcm);
    }
    if (rc != 0) {
        infer_scheduler_release(reg->sched);
        return rc;
    }
    asr_transcript t;
    rc = infer_scheduler_transcribe(reg->sched, pcm.samples, pcm.n_samples, params,
                                    INFER_RESERVED | INFER_KEEP_RESULT, &t, err, err_size);
    *duration_s = (double)pcm.n_samples / AUDIO_SAMPLE_RATE;
    audio_pcm_clear(&pcm);
    if (rc != 0) return rc;
    *out = t.result;
    t.result = NULL;
    asr_transcript_clear(&t);
    return 0;
}

int service_upload_analyze(service_registry *reg, const void *data, size_t size, const char *filename, json_t **out,
                           char *err, size_t err_size) {
    *out = NULL;
    /* admission before any expensive work: a place in the inference queue */
    int rc = infer_scheduler_reserve(reg->sched, err, err_size);
    if (rc != 0) return rc;
    audio_pcm pcm;
    rc = upload_decode(reg, data, size, &pcm, err, err_size);
    if (rc != 0) {
        infer_scheduler_release(reg->sched);
        return rc;
    }
    json_t *analysis = NULL;
    pipeline_signals sig;
    pipeline_assessment a;
    pipeline_options opt = {.reserved = 1};
    rc = pipeline_analyze_pcm(reg, pcm.samples, pcm.n_samples, &opt, &analysis, &sig, &a, err, err_size);
    if (rc != 0) {
        audio_pcm_clear(&pcm);
        return rc;
    }
    char id[STORE_ID_SIZE] = "";
    if (reg->store) {
        char serr[TRIDENT_ERR_SIZE];
        if (upload_store(reg, filename, &pcm, &sig, &a, analysis, id, serr, sizeof serr) != 0) {
            log_error("upload", "storing the analysed upload failed: %s", serr);
            id[0] = '\0';
        } else {
            service_events_publish_id(reg->events, reg->store, id, SERVICE_CHANGE_CREATED);
        }
    }
    audio_pcm_clear(&pcm);
    pipeline_signals_clear(&sig);
    pipeline_assessment_clear(&a);
    int bad = 0;
    if (id[0]) {
        char url[96];
        snprintf(url, sizeof url, "/api/calls/%s/audio", id);
        bad |= json_object_set_new(analysis, "call_id", json_string(id));
        bad |= json_object_set_new(analysis, "audio_url", json_string(url));
    } else {
        bad |= json_object_set_new(analysis, "call_id", json_null());
    }
    bad |= json_object_set_new(analysis, "filename", json_text(filename ? filename : ""));
    if (bad) {
        json_decref(analysis);
        return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory building the analysis");
    }
    *out = analysis;
    return 0;
}
