/* pipeline.c — decode-free analysis of PCM: ASR ‖ bio-acoustics → content → triage → JSON. */
#include "service/pipeline.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "base/error.h"
#include "base/json.h"
#include "base/log.h"
#include "bio/bio.h"

whisper_transcribe_params pipeline_asr_params(const char *language) {
    static const float first_pass[] = {0.0f}; /* no fallback: see pipeline.h */
    /* the official defaults (greedy, the usual thresholds), then what the
     * pipeline's first pass changes */
    whisper_transcribe_params p = whisper_transcribe_params_default();
    p.language = language && *language && strcmp(language, "auto") != 0 ? language : NULL;
    p.timestamps = 1;
    p.temperatures = first_pass;
    p.n_temperatures = 1;
    p.condition_on_previous_text = 0;
    return p;
}

void pipeline_signals_clear(pipeline_signals *s) {
    asr_transcript_clear(&s->asr);
    json_decref(s->bio_acoustic);
    memset(s, 0, sizeof *s);
}

void pipeline_assessment_clear(pipeline_assessment *a) {
    json_decref(a->nlp);
    json_decref(a->triage);
    memset(a, 0, sizeof *a);
}

/* The bio-acoustic half of the pipeline: on its own thread beside ASR, or
 * on the caller when ASR is skipped (bio_analyze itself runs on one thread). */
typedef struct {
    const float *pcm;
    size_t n;
    bio_distress_model model;
    double reference_level_db; /* NAN: this audio's own opening */
    bio_result out;
    int rc;
    char err[TRIDENT_ERR_SIZE];
} bio_job;

static void *bio_thread(void *arg) {
    bio_job *j = arg;
    bio_params p = bio_params_default();
    p.distress_model = j->model;
    p.reference_level_db = j->reference_level_db;
    j->rc = bio_analyze(j->pcm, j->n, &p, &j->out, j->err, sizeof j->err);
    return NULL;
}

int pipeline_pcm_check(const float *pcm, size_t n, char *err, size_t err_size) {
    int rc = audio_pcm_validate(pcm, n, err, err_size);
    if (rc != 0) return rc;
    for (size_t i = 0; i < n; i++)
        if (fabsf(pcm[i]) > AUDIO_SAMPLE_MAX_ABS)
            return error_set(err, err_size, TRIDENT_EFORMAT,
                             "sample %zu is %g; float PCM must lie within [-1, 1] (magnitudes above %g are refused)", i,
                             (double)pcm[i], (double)AUDIO_SAMPLE_MAX_ABS);
    return 0;
}

int pipeline_signals_compute(service_registry *reg, const float *pcm, size_t n, const pipeline_options *opt,
                             pipeline_signals *out, char *err, size_t err_size) {
    memset(out, 0, sizeof *out);
    int reserved = opt && opt->reserved;
    int want_asr = !(opt && opt->no_asr) && reg->cfg.asr.model_dir;
    int rc = pipeline_pcm_check(pcm, n, err, err_size);
    if (reserved && (rc != 0 || !want_asr)) infer_scheduler_release(reg->sched);
    if (rc != 0) return rc;
    out->duration_s = audio_pcm_duration(n, AUDIO_SAMPLE_RATE);
    bio_job bj = {.pcm = pcm,
                  .n = n,
                  .model = reg->cfg.distress_model,
                  .reference_level_db = opt && opt->has_reference ? opt->reference_level_db : NAN};
    pthread_t th;
    int threaded = want_asr && pthread_create(&th, NULL, bio_thread, &bj) == 0;
    if (!threaded) bio_thread(&bj);
    if (!want_asr) {
        out->asr_status = "skipped";
        snprintf(out->asr_reason, sizeof out->asr_reason, "%s",
                 opt && opt->no_asr ? "ASR disabled (--no-asr): transcript empty, confidence 0; triaged on distress"
                                    : "no ASR model configured: transcript empty, confidence 0; triaged on distress");
    } else {
        char aerr[TRIDENT_ERR_SIZE] = "";
        whisper_transcribe_params tp = pipeline_asr_params(reg->cfg.language);
        tp.audio_ctx_fit = reg->cfg.audio_ctx_fit;
        int flags = (opt && opt->unbounded ? INFER_UNBOUNDED : 0) | (reserved ? INFER_RESERVED : 0);
        rc = infer_scheduler_transcribe(reg->sched, pcm, n, &tp, flags, &out->asr, aerr, sizeof aerr);
        if (rc == TRIDENT_EBUSY || rc == TRIDENT_ENOMEM) {
            if (threaded) pthread_join(th, NULL);
            if (bj.rc == 0) bio_result_clear(&bj.out);
            pipeline_signals_clear(out);
            return error_set(err, err_size, rc, "%s", aerr);
        }
        if (rc != 0) {
            out->asr_status = "failed";
            snprintf(out->asr_reason, sizeof out->asr_reason, "ASR failed: %s; transcript empty, confidence 0", aerr);
            log_warn("pipeline", "ASR unavailable, triaging on distress: %s", aerr);
        } else if (!(out->asr.confidence >= 0 && out->asr.confidence <= 1)) {
            /* never reached with checked samples; kept so no NaN can reach triage or the store */
            out->asr_status = "failed";
            snprintf(out->asr_reason, sizeof out->asr_reason,
                     "ASR failed: confidence %g is not a probability; transcript dropped, confidence 0",
                     out->asr.confidence);
            log_warn("pipeline", "%s", out->asr_reason);
            asr_transcript_clear(&out->asr);
        } else {
            out->asr_status = "ok";
            out->confidence = out->asr.confidence;
        }
    }
    if (threaded) pthread_join(th, NULL);
    if (bj.rc != 0) {
        pipeline_signals_clear(out);
        return error_set(err, err_size, bj.rc, "bio-acoustic analysis failed: %s", bj.err);
    }
    if (!(bj.out.distress_score >= 0 && bj.out.distress_score <= 1)) {
        double d = bj.out.distress_score;
        bio_result_clear(&bj.out);
        pipeline_signals_clear(out);
        return error_set(err, err_size, TRIDENT_EFORMAT, "bio-acoustic analysis gave distress %g, not in [0, 1]", d);
    }
    out->distress = bj.out.distress_score;
    out->opening_level_db = bj.out.speech_frames ? bj.out.opening_level_db : NAN;
    out->opening_speech_s = bj.out.opening_speech_s;
    out->bio_acoustic = bio_result_to_json(&bj.out);
    bio_result_clear(&bj.out);
    if (!out->asr.text) out->asr.text = strdup("");
    if (!out->bio_acoustic || !out->asr.text) {
        pipeline_signals_clear(out);
        return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory");
    }
    return 0;
}

int pipeline_assess(service_registry *reg, const char *transcript, double confidence, double distress,
                    pipeline_assessment *out, char *err, size_t err_size) {
    memset(out, 0, sizeof *out);
    if (!(confidence >= 0 && confidence <= 1)) return error_set(err, err_size, TRIDENT_EINVAL, "confidence must be in [0, 1]");
    if (!(distress >= 0 && distress <= 1)) return error_set(err, err_size, TRIDENT_EINVAL, "distress must be in [0, 1]");
    content_result cr;
    int rc = content_extract(reg->lexicon, transcript ? transcript : "", &cr);
    if (rc != 0) return error_set(err, err_size, rc, "content extraction failed (%s)", error_name(rc));
    out->content_score = cr.content_score;
    out->escalating = cr.escalating;
    out->nlp = content_result_to_json(&cr);
    const content_indicator_hit *critical = content_result_critical(&cr);
    const triage_words words = {.escalating = cr.escalating,
                                .critical = critical ? content_indicator_name(critical->id) : NULL,
                                .critical_matched = critical ? critical->matched : NULL,
                                .serious = cr.serious,
                                .minor = cr.minor,
                                .routine = cr.routine,
                                .concern = cr.concern};
    rc = triage_decide_words(&reg->cfg.triage, confidence, out->content_score, distress, &words, &out->decision);
    content_result_clear(&cr);
    if (rc != 0) {
        pipeline_assessment_clear(out);
        return error_set(err, err_size, rc, "triage failed: invalid input");
    }
    out->triage = triage_result_to_json(&out->decision);
    if (!out->nlp || !out->triage) {
        pipeline_assessment_clear(out);
        return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory building the analysis");
    }
    return 0;
}

json_t *pipeline_analysis_json(const char *transcript, double confidence, const pipeline_signals *sig,
                               const pipeline_assessment *a, const service_registry *reg) {
    json_t *o = json_object();
    if (!o) return NULL;
    int bad = 0;
    bad |= json_object_set_new(o, "transcript", json_text(transcript));
    bad |= json_object_set_new(o, "confidence", json_real(confidence));
    bad |= json_object_set(o, "nlp", a->nlp);
    if (sig) {
        bad |= json_object_set(o, "bio_acoustic", sig->bio_acoustic ? sig->bio_acoustic : json_null());
        asr_status st;
        memset(&st, 0, sizeof st);
        if (reg && reg->asr) asr_service_status(reg->asr, &st);
        json_t *asr = json_pack("{s:s, s:o, s:o, s:o, s:i, s:i, s:f, s:f}", "status", sig->asr_status ? sig->asr_status : "skipped",
                                "reason", json_text_or_null(sig->asr_reason), "model",
                                json_text_or_null(st.name), "lora",
                                json_text_or_null(st.lora), "windows", sig->asr.n_windows, "tokens",
                                sig->asr.n_tokens, "queue_wait_ms", sig->asr.wait_ms, "inference_ms", sig->asr.infer_ms);
        bad |= json_object_set_new(o, "asr", asr);
        bad |= json_object_set_new(o, "duration", json_real(sig->duration_s));
    }
    bad |= json_object_set(o, "triage", a->triage);
    if (bad) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int pipeline_analyze_pcm(service_registry *reg, const float *pcm, size_t n, const pipeline_options *opt,
                         json_t **out, pipeline_signals *sig_out, pipeline_assessment *a_out, char *err,
                         size_t err_size) {
    *out = NULL;
    pipeline_signals sig;
    int rc = pipeline_signals_compute(reg, pcm, n, opt, &sig, err, err_size);
    if (rc != 0) return rc;
    pipeline_assessment a;
    rc = pipeline_assess(reg, sig.asr.text, sig.confidence, sig.distress, &a, err, err_size);
    if (rc != 0) {
        pipeline_signals_clear(&sig);
        return rc;
    }
    *out = pipeline_analysis_json(sig.asr.text, sig.confidence, &sig, &a, reg);
    if (!*out) rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory building the analysis");
    if (sig_out && rc == 0) *sig_out = sig;
    else pipeline_signals_clear(&sig);
    if (a_out && rc == 0) *a_out = a;
    else pipeline_assessment_clear(&a);
    return rc;
}
