/* service.c — the service registry: opens the store, the ASR service and the slots. */
#include "service/service.h"

#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "service/live.h"

void service_config_default(service_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->sched.slots = 1;
    cfg->sched.threads_per_slot = 0;
    cfg->sched.queue_max = 16;
    cfg->language = "en";
    audio_vad_config_default(&cfg->vad);
    cfg->vad.hangover_s = 0.6;
    cfg->vad.max_utterance_s = 30.0;
    cfg->max_call_s = 3600.0;
    triage_params_init(&cfg->triage);
    cfg->distress_model = BIO_DISTRESS_CALIBRATED;
    cfg->retain_days = -1;
}

int service_registry_open(const service_config *cfg, service_registry **out, char *err, size_t err_size) {
    *out = NULL;
    service_registry *reg = calloc(1, sizeof *reg);
    if (!reg) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory creating the service registry");
    reg->cfg = *cfg;
    reg->started_ms = clock_now_ms();
    pthread_mutex_init(&reg->live_lock, NULL);
    int rc = 0;
    if (cfg->db) {
        log_info("store", "Initializing database... db=%s", cfg->db);
        store_options so = {.recover_interrupted = 1};
        rc = store_open(cfg->db, &so, &reg->store, err, err_size);
        if (rc != 0) {
            log_error("store", "Database initialization failed: %s", err);
            goto fail;
        }
        store_info info;
        store_info_get(reg->store, &info);
        log_info("store", "Database initialized successfully backend=%s schema_version=%d recordings=%s recovered=%lld",
                 info.backend, info.schema_version, info.recordings_dir, (long long)info.recovered);
        if (cfg->retain_days >= 0 && (rc = retention_start(reg->store, cfg->retain_days, &reg->retention, err,
                                                           err_size)) != 0)
            goto fail;
    }
    rc = service_events_new(reg->store, &reg->events, err, err_size);
    if (rc != 0) goto fail;
    rc = triage_params_check(&cfg->triage, err, err_size);
    if (rc != 0) goto fail;
    rc = content_lexicon_load(cfg->data_dir, &reg->lexicon, err, err_size);
    if (rc != 0) goto fail;
    log_debug("content", "lexicon loaded phrases=%zu places=%zu", content_lexicon_phrase_count(reg->lexicon),
              content_lexicon_place_count(reg->lexicon));
    rc = asr_service_new(&cfg->asr, &reg->asr, err, err_size);
    if (rc != 0) goto fail;
    infer_scheduler_config sc = cfg->sched;
    if (sc.threads_per_slot <= 0 && cfg->asr.n_threads > 0) sc.threads_per_slot = cfg->asr.n_threads;
    rc = infer_scheduler_new(reg->asr, &sc, &reg->sched, err, err_size);
    if (rc != 0) goto fail;
    *out = reg;
    return 0;
fail:
    service_registry_close(reg);
    return rc;
}

void service_registry_close(service_registry *reg) {
    if (!reg) return;
    live_call_close_all(reg);
    retention_stop(reg->retention);
    service_events_free(reg->events); /* after the live calls' last changes */
    infer_scheduler_free(reg->sched);
    asr_service_free(reg->asr);
    content_lexicon_free(reg->lexicon);
    store_close(reg->store);
    pthread_mutex_destroy(&reg->live_lock);
    free(reg);
}

double service_registry_uptime_s(const service_registry *reg) { return (clock_now_ms() - reg->started_ms) / 1000.0; }
