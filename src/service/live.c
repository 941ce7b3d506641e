/* live.c — live-call sessions: VAD segmentation, in-order utterance analysis on the
 * call's worker thread, running aggregates, store updates, recording, events. */
#include "service/live.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "base/clock.h"
#include "base/error.h"
#include "base/json.h"
#include "base/log.h"
#include "service/pipeline.h"
#include "service/record.h"

typedef struct utt_node {
    struct utt_node *next;
    audio_utterance u;
    int index;
} utt_node;

struct live_call {
    service_registry *reg;
    live_call *next; /* registry list, under reg->live_lock */
    char id[STORE_ID_SIZE];
    live_event_fn on_event;
    void *ctx;
    pthread_mutex_t event_lock; /* serialises event callbacks */

    /* feeder side */
    audio_vad *vad;
    audio_wav_writer *rec;
    char rec_name[64];
    size_t fed, max_samples, last_cut;
    int n_cut;
    int n_chunks;  /* audio messages accepted (the original's chunks_received) */
    int limit_hit; /* audio beyond max_samples was refused */

    /* the utterance queue, guarded by lock */
    pthread_mutex_t lock;
    pthread_cond_t cond;
    utt_node *head, *tail;
    int closing;
    pthread_t worker;
    int worker_started;

    /* aggregates: written by the worker only, read by close after the join */
    char *transcript;
    double conf_sum, dist_sum, dur_sum;
    /* the caller's reference speech level: the power mean over the opening
     * utterances' first seconds of speech, until it covers bio's reference_s */
    double ref_power, ref_s;
    int n_done, n_failed;
    char last_error[TRIDENT_ERR_SIZE]; /* the last utterance analysis failure */
    json_t *last_analysis;
    pipeline_assessment last;
};

const char *live_call_id(const live_call *call) { return call->id; }

static void live_emit(live_call *c, json_t *ev) {
    if (!ev) return;
    json_object_set_new(ev, "call_id", json_string(c->id));
    pthread_mutex_lock(&c->event_lock);
    if (c->on_event) c->on_event(c->ctx, ev);
    pthread_mutex_unlock(&c->event_lock);
    json_decref(ev);
}

void live_call_error_emit(live_call *c, const char *message) {
    json_t *ev = json_pack("{s:s}", "type", "error");
    if (ev) json_object_set_new(ev, "message", json_text(message));
    live_emit(c, ev);
}

static double samples_s(size_t n) { return (double)n / AUDIO_SAMPLE_RATE; }

static int text_append(char **text, const char *src) {
    size_t n = strlen(src);
    if (!n) return 0;
    size_t old = *text ? strlen(*text) : 0;
    char *t = realloc(*text, old + n + 2);
    if (!t) return TRIDENT_ENOMEM;
    if (old) t[old++] = ' ';
    memcpy(t + old, src, n + 1);
    *text = t;
    return 0;
}

/* Fills store fields from the running aggregates (strings borrowed). */
static void live_fields(const live_call *c, store_fields *f, const char *analysis_json) {
    record_fields_fill(f, samples_s(c->fed), c->transcript, c->dur_sum > 0 ? c->conf_sum / c->dur_sum : 0,
                       c->dur_sum > 0 ? c->dist_sum / c->dur_sum : 0, &c->last, analysis_json, c->n_done);
}

/* Extends the caller's reference level with this utterance's opening speech
 * until it covers bio's reference_s seconds; later utterances' energy term is
 * measured against it (the call's own opening, not each utterance's). */
static void live_reference_extend(live_call *c, const pipeline_signals *sig) {
    double want = bio_params_default().reference_s;
    if (c->ref_s >= want || !(sig->opening_speech_s > 0) || isnan(sig->opening_level_db)) return;
    double add = fmin(sig->opening_speech_s, want - c->ref_s);
    c->ref_power = (c->ref_power * c->ref_s + pow(10.0, sig->opening_level_db / 10.0) * add) / (c->ref_s + add);
    c->ref_s += add;
}

static void live_process(live_call *c, utt_node *node) {
    service_registry *reg = c->reg;
    double dur = samples_s(node->u.n_samples);
    live_emit(c, json_pack("{s:s, s:i, s:f, s:f, s:f}", "type", "processing_started", "utterance_index", node->index,
                           "start", samples_s(node->u.start), "end", samples_s(node->u.end), "duration", dur));
    pipeline_options opt = {.no_asr = 0,
                            .unbounded = 1,
                            .has_reference = c->ref_s > 0,
                            .reference_level_db = c->ref_s > 0 ? 10.0 * log10(c->ref_power) : 0};
    pipeline_signals sig;
    char err[TRIDENT_ERR_SIZE];
    int rc = pipeline_signals_compute(reg, node->u.samples, node->u.n_samples, &opt, &sig, err, sizeof err);
    if (rc != 0) {
        log_warn("live", "utterance analysis failed call_id=%s index=%d: %s", c->id, node->index, err);
        c->n_failed++;
        snprintf(c->last_error, sizeof c->last_error, "%s", err);
        live_call_error_emit(c, err);
        return;
    }
    live_reference_extend(c, &sig);
    if (text_append(&c->transcript, sig.asr.text) != 0) {
        pipeline_signals_clear(&sig);
        live_call_error_emit(c, "out of memory appending the transcript");
        return;
    }
    c->conf_sum += sig.confidence * dur;
    c->dist_sum += sig.distress * dur;
    c->dur_sum += dur;
    c->n_done++;
    double conf = c->conf_sum / c->dur_sum, dist = c->dist_sum / c->dur_sum;
    pipeline_assessment a;
    rc = pipeline_assess(reg, c->transcript ? c->transcript : "", conf, dist, &a, err, sizeof err);
    if (rc != 0) {
        pipeline_signals_clear(&sig);
        live_call_error_emit(c, err);
        return;
    }
    pipeline_assessment_clear(&c->last);
    c->last = a;
    json_t *analysis = pipeline_analysis_json(c->transcript ? c->transcript : "", conf, &sig, &a, reg);
    if (analysis) {
        json_object_set_new(analysis, "distress", json_real(dist));
        json_object_set_new(analysis, "content_score", json_real(a.content_score));
        json_object_set_new(analysis, "call_duration", json_real(samples_s(c->fed)));
        json_object_set_new(analysis, "utterance_count", json_integer(c->n_done));
    }
    json_decref(c->last_analysis);
    c->last_analysis = analysis;
    pthread_mutex_lock(&reg->live_lock);
    reg->utterances_done++;
    pthread_mutex_unlock(&reg->live_lock);
    if (reg->store && analysis) {
        char *aj = json_dumps(analysis, JSON_COMPACT);
        store_fields f;
        live_fields(c, &f, aj);
        if (!aj || store_call_update_progress(reg->store, c->id, &f, err, sizeof err) != 0) {
            log_error("live", "store update failed call_id=%s: %s", c->id, aj ? err : "out of memory");
            live_call_error_emit(c, "the call record could not be updated");
        } else {
            service_events_publish_id(reg->events, reg->store, c->id, SERVICE_CHANGE_TRIAGE);
        }
        free(aj);
    }
    json_t *ev = json_pack("{s:s, s:i, s:f, s:f, s:f, s:f, s:f, s:O, s:O, s:O, s:f, s:f, s:s}", "type",
                           "processing_complete", "utterance_index", node->index, "confidence", conf, "distress", dist,
                           "content_score", a.content_score, "chunk_confidence", sig.confidence, "chunk_distress",
                           sig.distress, "bio_acoustic", sig.bio_acoustic ? sig.bio_acoustic : json_null(), "nlp", a.nlp,
                           "triage", a.triage, "call_duration", samples_s(c->fed), "chunk_duration", dur, "asr_status",
                           sig.asr_status);
    if (ev) {
        json_object_set_new(ev, "transcript", json_text(c->transcript));
        json_object_set_new(ev, "transcript_chunk", json_text(sig.asr.text));
        json_object_set_new(ev, "distress_score", json_real(dist)); /* the original's name for distress */
        if (sig.asr_reason[0]) json_object_set_new(ev, "asr_reason", json_string(sig.asr_reason));
    }
    live_emit(c, ev);
    pipeline_signals_clear(&sig);
}

static void *live_worker(void *arg) {
    live_call *c = arg;
    pthread_mutex_lock(&c->lock);
    for (;;) {
        while (!c->head && !c->closing) pthread_cond_wait(&c->cond, &c->lock);
        utt_node *node = c->head;
        if (!node) break; /* closing and drained */
        c->head = node->next;
        if (!c->head) c->tail = NULL;
        pthread_mutex_unlock(&c->lock);
        live_process(c, node);
        audio_utterance_clear(&node->u);
        free(node);
        pthread_mutex_lock(&c->lock);
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

/* Moves completed utterances from the VAD to the worker's queue. */
static int live_drain(live_call *c) {
    audio_utterance u;
    while (audio_vad_next(c->vad, &u)) {
        utt_node *node = calloc(1, sizeof *node);
        if (!node) {
            audio_utterance_clear(&u);
            return TRIDENT_ENOMEM;
        }
        node->u = u;
        node->index = c->n_cut++;
        c->last_cut = u.end;
        pthread_mutex_lock(&c->lock);
        if (c->tail) c->tail->next = node;
        else c->head = node;
        c->tail = node;
        pthread_cond_signal(&c->cond);
        pthread_mutex_unlock(&c->lock);
    }
    return 0;
}

static void live_free(live_call *c) {
    audio_vad_free(c->vad);
    if (c->rec) audio_wav_writer_close(c->rec, NULL, 0);
    while (c->head) {
        utt_node *n = c->head;
        c->head = n->next;
        audio_utterance_clear(&n->u);
        free(n);
    }
    free(c->transcript);
    json_decref(c->last_analysis);
    pipeline_assessment_clear(&c->last);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lock);
    pthread_mutex_destroy(&c->event_lock);
    free(c);
}

/* Ends a record that never started (its recording, if any, unlinked), with the reason. */
static void live_store_failed(live_call *c, const char *why) {
    if (!c->reg->store) return;
    store_fields f = {.transcript = "", .status_reason = why};
    char err[TRIDENT_ERR_SIZE];
    if (store_call_finalize(c->reg->store, c->id, STORE_STATUS_FAILED, &f, NULL, err, sizeof err) != 0)
        log_error("live", "finalising the failed call record failed call_id=%s: %s", c->id, err);
}

int live_call_open(service_registry *reg, const char *caller, live_event_fn on_event, void *ctx, live_call **out,
                   char *err, size_t err_size) {
    *out = NULL;
    if (caller && store_caller_check(caller, err, err_size) != 0) return TRIDENT_EINVAL;
    live_call *c = calloc(1, sizeof *c);
    if (!c) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory opening a live call");
    c->reg = reg;
    c->on_event = on_event;
    c->ctx = ctx;
    c->max_samples = (size_t)(reg->cfg.max_call_s * AUDIO_SAMPLE_RATE);
    pthread_mutex_init(&c->event_lock, NULL);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    int rc = audio_vad_new(&reg->cfg.vad, &c->vad, err, err_size);
    if (rc != 0) goto fail;
    if ((rc = store_id_generate(c->id, err, err_size)) != 0) goto fail;
    if (reg->store) {
        /* The recording is linked from the start: after a crash the record still points to its valid WAV. */
        char path[4096];
        int recorded = store_recording_path(reg->store, c->id, path, sizeof path, NULL, 0) == 0;
        if (recorded) snprintf(c->rec_name, sizeof c->rec_name, "%s.wav", c->id);
        rc = store_call_create(reg->store, STORE_KIND_LIVE, c->id, NULL, caller, NULL, recorded ? c->rec_name : NULL, err,
                               err_size);
        if (rc != 0) goto fail;
        if (recorded && (rc = audio_wav_writer_open(path, AUDIO_SAMPLE_RATE, AUDIO_WAV_PCM16, &c->rec, err,
                                                    err_size)) != 0) {
            live_store_failed(c, err);
            goto fail;
        }
    }
    pthread_mutex_lock(&reg->live_lock);
    if (reg->closing) {
        pthread_mutex_unlock(&reg->live_lock);
        rc = error_set(err, err_size, TRIDENT_EBUSY, "the server is shutting down");
        live_store_failed(c, err);
        goto fail;
    }
    if (pthread_create(&c->worker, NULL, live_worker, c) != 0) {
        pthread_mutex_unlock(&reg->live_lock);
        rc = error_set(err, err_size, TRIDENT_ENOMEM, "cannot start the live call's worker thread");
        live_store_failed(c, err);
        goto fail;
    }
    c->worker_started = 1;
    c->next = reg->live_head;
    reg->live_head = c;
    reg->live_active++;
    reg->live_started++;
    pthread_mutex_unlock(&reg->live_lock);
    log_info("live", "Live call started call_id=%s", c->id);
    service_events_publish_id(reg->events, reg->store, c->id, SERVICE_CHANGE_CREATED);
    live_emit(c, json_pack("{s:s, s:i, s:f, s:f, s:s}", "type", "connected", "sample_rate", AUDIO_SAMPLE_RATE,
                           "max_call_s", reg->cfg.max_call_s, "vad_hangover_s", reg->cfg.vad.hangover_s, "message",
                           "Live processing ready. Start speaking..."));
    *out = c;
    return 0;
fail:
    live_free(c);
    return rc;
}

int live_call_feed(live_call *c, const float *pcm, size_t n, char *err, size_t err_size) {
    int rc = pipeline_pcm_check(pcm, n, err, err_size);
    if (rc != 0) return rc;
    int over = 0;
    if (c->fed + n > c->max_samples) {
        n = c->max_samples - c->fed;
        over = c->limit_hit = 1;
    }
    if (n) {
        if (c->rec && (rc = audio_wav_writer_append(c->rec, pcm, n, err, err_size)) != 0) return rc;
        if ((rc = audio_vad_feed(c->vad, pcm, n, err, err_size)) != 0) return rc;
        c->fed += n;
        if ((rc = live_drain(c)) != 0) return error_set(err, err_size, rc, "out of memory queueing an utterance");
    }
    c->n_chunks++;
    /* duration and chunks_received: the original front end's names (docs/api.md, compatibility) */
    double buffered = samples_s(c->fed - c->last_cut);
    live_emit(c, json_pack("{s:s, s:f, s:f, s:b, s:i, s:f, s:i}", "type", "buffer_update", "buffer_duration", buffered,
                           "call_duration", samples_s(c->fed), "in_speech", audio_vad_in_speech(c->vad), "utterances",
                           c->n_cut, "duration", buffered, "chunks_received", c->n_chunks));
    if (over)
        return error_set(err, err_size, TRIDENT_ELIMIT, "the call reached its length limit of %.0f s; audio after it is ignored",
                         c->reg->cfg.max_call_s);
    return 0;
}

int live_call_feed_f32le(live_call *c, const void *bytes, size_t len, char *err, size_t err_size) {
    if (len == 0 || len % 4 != 0)
        return error_set(err, err_size, TRIDENT_EINVAL, "%zu bytes are not whole float32 samples", len);
    float *pcm = malloc(len);
    if (!pcm) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory");
    size_t n = 0;
    int rc = audio_pcm_from_f32le(bytes, len, pcm, len / 4, &n, err, err_size);
    if (rc == 0) rc = live_call_feed(c, pcm, n, err, err_size);
    free(pcm);
    return rc;
}

/* The true final state of a call that ended as `how` said (see live.h), with its
 * reason in reason (always filled). */
static store_status live_final_status(const live_call *c, live_end how, const char *why, char *reason, size_t n) {
    double got = samples_s(c->fed);
    if (c->n_cut == 0) {
        snprintf(reason, n, "no speech in %.1f s of audio", got);
        return STORE_STATUS_ABANDONED;
    }
    if (c->n_done == 0) {
        snprintf(reason, n, "none of the %d utterances could be analysed: %s", c->n_failed, c->last_error);
        return STORE_STATUS_FAILED;
    }
    if (c->limit_hit) {
        snprintf(reason, n, "the call reached the %.0f-s length limit; audio after it was refused",
                 c->reg->cfg.max_call_s);
        return STORE_STATUS_TRUNCATED;
    }
    switch (how) {
    case LIVE_END_CLIENT:
        snprintf(reason, n, "ended by the caller after %.1f s", got);
        return STORE_STATUS_COMPLETED;
    case LIVE_END_LOST:
        snprintf(reason, n, "the connection was lost without a close handshake after %.1f s%s%s", got, why ? ": " : "",
                 why ? why : "");
        return STORE_STATUS_TRUNCATED;
    case LIVE_END_REFUSED:
        snprintf(reason, n, "closed by the server after %.1f s: %s", got, why ? why : "protocol error");
        return STORE_STATUS_TRUNCATED;
    case LIVE_END_SHUTDOWN:
    default:
        snprintf(reason, n, "the server shut down %.1f s into the call", got);
        return STORE_STATUS_INTERRUPTED;
    }
}

void live_call_close(live_call *c, live_end how, const char *why) {
    if (!c) return;
    service_registry *reg = c->reg;
    char err[TRIDENT_ERR_SIZE];
    if (audio_vad_flush(c->vad, err, sizeof err) == 0) live_drain(c);
    pthread_mutex_lock(&c->lock);
    c->closing = 1;
    pthread_cond_signal(&c->cond);
    pthread_mutex_unlock(&c->lock);
    if (c->worker_started) pthread_join(c->worker, NULL);
    int rec_ok = 0;
    if (c->rec) {
        rec_ok = audio_wav_writer_close(c->rec, err, sizeof err) == 0;
        if (!rec_ok) log_error("live", "recording could not be finalised call_id=%s: %s", c->id, err);
        c->rec = NULL;
    }
    char reason[TRIDENT_ERR_SIZE + 128];
    store_status status = live_final_status(c, how, why, reason, sizeof reason);
    /* The final analysis: the last utterance's, or (no speech analysed) the triage of
     * an empty transcript on zero confidence and distress. */
    json_t *final = c->last_analysis ? json_incref(c->last_analysis) : NULL;
    if (!final) {
        pipeline_assessment a;
        if (pipeline_assess(reg, "", 0, 0, &a, err, sizeof err) == 0) {
            pipeline_assessment_clear(&c->last);
            c->last = a;
            final = pipeline_analysis_json("", 0, NULL, &a, reg);
            if (final) {
                json_object_set_new(final, "distress", json_real(0));
                json_object_set_new(final, "content_score", json_real(a.content_score));
                json_object_set_new(final, "utterance_count", json_integer(0));
            }
        }
    }
    if (final) json_object_set_new(final, "call_duration", json_real(samples_s(c->fed)));
    if (reg->store) {
        char *aj = final ? json_dumps(final, JSON_COMPACT) : NULL;
        store_fields f;
        live_fields(c, &f, aj);
        f.status_reason = reason;
        if (status == STORE_STATUS_ABANDONED) { /* no speech: nothing to triage, in no queue */
            f.queue = NULL;
            f.priority_level = 0;
            f.flag_audio_review = f.escalation_required = 0;
        }
        if (store_call_finalize(reg->store, c->id, status, &f, rec_ok ? c->rec_name : NULL, err, sizeof err) != 0)
            log_error("live", "finalising the call record failed call_id=%s: %s", c->id, err);
        else
            service_events_publish_id(reg->events, reg->store, c->id, SERVICE_CHANGE_ENDED);
        free(aj);
    }
    json_t *ev = json_pack("{s:s, s:f, s:i, s:O, s:s}", "type", "call_ended", "call_duration", samples_s(c->fed),
                           "utterance_count", c->n_done, "final_analysis", final ? final : json_null(), "status",
                           store_status_name(status));
    if (ev) {
        json_object_set_new(ev, "status_reason", json_text(reason));
        /* the original backend's summary of the call, as its front end reads it */
        json_t *summary = json_pack("{s:s, s:f, s:f, s:f, s:O, s:i}", "call_id", c->id, "duration", samples_s(c->fed),
                                    "confidence", c->dur_sum > 0 ? c->conf_sum / c->dur_sum : 0, "distress_score",
                                    c->dur_sum > 0 ? c->dist_sum / c->dur_sum : 0, "triage",
                                    final ? json_object_get(final, "triage") : json_null(), "chunks_processed",
                                    c->n_chunks);
        if (summary) json_object_set_new(summary, "transcript", json_text(c->transcript ? c->transcript : ""));
        json_object_set_new(ev, "analysis", summary ? summary : json_null());
    }
    if (ev && rec_ok) {
        char url[96];
        snprintf(url, sizeof url, "/api/calls/%s/audio", c->id);
        json_object_set_new(ev, "audio_url", json_string(url));
    }
    live_emit(c, ev);
    json_decref(final);
    log_info("live", "Live call ended call_id=%s status=%s duration_s=%.2f utterances=%d", c->id,
             store_status_name(status), samples_s(c->fed), c->n_done);

    pthread_mutex_lock(&reg->live_lock);
    for (live_call **p = &reg->live_head; *p; p = &(*p)->next)
        if (*p == c) {
            *p = c->next;
            reg->live_active--;
            break;
        }
    pthread_mutex_unlock(&reg->live_lock);
    live_free(c);
}

void live_call_close_all(service_registry *reg) {
    pthread_mutex_lock(&reg->live_lock);
    reg->closing = 1;
    pthread_mutex_unlock(&reg->live_lock);
    for (;;) {
        pthread_mutex_lock(&reg->live_lock);
        live_call *c = reg->live_head;
        pthread_mutex_unlock(&reg->live_lock);
        if (!c) break;
        log_info("live", "Finalising live call at shutdown call_id=%s", c->id);
        live_call_close(c, LIVE_END_SHUTDOWN, NULL);
    }
}
