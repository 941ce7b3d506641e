/* pipeline.c — decode-free analysis of PCM: ASR ‖ bio-acoustics → content → triage → JSON. */
#include "service/pipeline.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "base/error.h"
#include "base/log.h"
#include "base/threadpool.h"
#include "bio/bio.h"

json_t *pipeline_json_text(const char *s) {
    if (!s) s = "";
    json_t *j = json_string(s);
    if (j) return j;
    /* Invalid UTF-8: copy valid sequences, replace each bad byte with U+FFFD. */
    size_t n = strlen(s);
    char *out = malloc(n * 3 + 1);
    if (!out) return NULL;
    size_t o = 0;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        int ok = len > 0 && i + len <= n;
        for (size_t k = 1; ok && k < len; k++) ok = (p[i + k] & 0xC0) == 0x80;
        if (ok && len > 1) {
            json_t *probe = json_stringn((const char *)p + i, len); /* rejects overlongs and surrogates */
            ok = probe != NULL;
            json_decref(probe);
        }
        if (ok) {
            memcpy(out + o, p + i, len);
            o += len;
            i += len;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            i++;
        }
    }
    out[o] = '\0';
    j = json_string(out);
    free(out);
    return j;
}

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

/* The bio-acoustic half of the pipeline: on its own thread beside ASR (one
 * thread: ASR has the cores), or alone on the caller, with a second thread
 * when the machine has two or more cores (half the latency; bio_analyze's
 * result does not depend on it). */
typedef struct {
    const float *pcm;
    size_t n;
    int n_threads;
    bio_result out;
    int rc;
    char err[TRIDENT_ERR_SIZE];
} bio_job;

static void *bio_thread(void *arg) {
    bio_job *j = arg;
    bio_params p = bio_params_default();
    p.n_threads = j->n_threads;
    j->rc = bio_analyze(j->pcm, j->n, &p, &j->out, j->err, sizeof j->err);
    return NULL;
}

int pipeline_signals_compute(service_registry *reg, const float *pcm, size_t n, const pipeline_options *opt,
                             pipeline_signals *out, char *err, size_t err_size) {
    memset(out, 0, sizeof *out);
    int rc = audio_pcm_validate(pcm, n, err, err_size);
    if (rc != 0) return rc;
    out->duration_s = audio_pcm_duration(n, AUDIO_SAMPLE_RATE);
    int want_asr = !(opt && opt->no_asr) && reg->cfg.asr.model_dir;
    bio_job bj = {.pcm = pcm, .n = n, .n_threads = !want_asr && threadpool_cores() > 1 ? 2 : 1};
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
        whisper_transcribe_params tp = pipeline_asr_params(reg->cfg.sched.language);
        tp.audio_ctx_fit = reg->cfg.audio_ctx_fit;
        rc = infer_scheduler_transcribe(reg->sched, pcm, n, &tp, opt && opt->unbounded ? INFER_UNBOUNDED : 0,
                                        &out->asr, aerr, sizeof aerr);
        if (rc == TRIDENT_EBUSY || rc == TRIDENT_ENOMEM) {
            if (threaded) pthread_join(th, NULL);
            if (bj.rc == 0) bio_result_free(&bj.out);
            pipeline_signals_clear(out);
            return error_set(err, err_size, rc, "%s", aerr);
        }
        if (rc != 0) {
            out->asr_status = "failed";
            snprintf(out->asr_reason, sizeof out->asr_reason, "ASR failed: %s; transcript empty, confidence 0", aerr);
            log_warn("pipeline", "ASR unavailable, triaging on distress: %s", aerr);
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
    out->distress = bj.out.distress_score;
    out->bio_acoustic = bio_result_to_json(&bj.out);
    bio_result_free(&bj.out);
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
    content_result_free(&cr);
    rc = triage_decide(&reg->cfg.triage, confidence, out->content_score, distress, out->escalating, &out->decision);
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
    bad |= json_object_set_new(o, "transcript", pipeline_json_text(transcript));
    bad |= json_object_set_new(o, "confidence", json_real(confidence));
    bad |= json_object_set(o, "nlp", a->nlp);
    if (sig) {
        bad |= json_object_set(o, "bio_acoustic", sig->bio_acoustic ? sig->bio_acoustic : json_null());
        asr_status st;
        memset(&st, 0, sizeof st);
        if (reg && reg->asr) asr_service_status(reg->asr, &st);
        json_t *asr = json_pack("{s:s, s:o, s:o, s:o, s:i, s:i, s:f, s:f}", "status", sig->asr_status ? sig->asr_status : "skipped",
                                "reason", sig->asr_reason[0] ? json_string(sig->asr_reason) : json_null(), "model",
                                st.name[0] ? json_string(st.name) : json_null(), "lora",
                                st.lora[0] ? json_string(st.lora) : json_null(), "windows", sig->asr.n_windows, "tokens",
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
