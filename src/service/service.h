/* service.h — the service registry: the one instance of each shared service.
 *
 * The registry is created once by the process (`trident serve`, `trident analyze`)
 * and passed by pointer to everything that needs a service (no global variable):
 * the call store, the change feed, the ASR service (model + load state), the inference scheduler,
 * the configuration of the bio-acoustic / content / triage stages, and the table
 * of live calls in progress. Everything except the live-call table is read-only
 * after service_registry_open; the table is guarded by its own mutex (live_lock). */
#ifndef TRIDENT_SERVICE_SERVICE_H
#define TRIDENT_SERVICE_SERVICE_H

#include <pthread.h>
#include <stddef.h>

#include "audio/audio.h"
#include "bio/bio.h"
#include "content/content.h"
#include "service/asr.h"
#include "service/events.h"
#include "service/retention.h"
#include "service/scheduler.h"
#include "store/store.h"
#include "triage/triage.h"

typedef struct live_call live_call;

typedef struct {
    asr_config asr;
    infer_scheduler_config sched;
    const char *language;    /* decoding language ("en" default; "auto" detects): the pipeline's ASR parameters */
    const char *db;          /* store path or URL; NULL: no store (the CLI) */
    audio_vad_config vad;    /* live-call segmentation (hangover_s, max_utterance_s, ...) */
    double max_call_s;       /* longest live call or upload accepted, seconds */
    const char *decoder_exe; /* the binary uploads are decoded by (audio_isolation.exe; `trident
                              * serve`: itself); NULL: a forked child */
    const char *data_dir;    /* content lexicons and gazetteer; NULL: $TRIDENT_DATA or the built-in data dir */
    triage_params triage;    /* thresholds */
    bio_distress_model distress_model; /* the distress score's normalisation (bio.h) */
    int audio_ctx_fit;       /* 1: encode short utterances over their own frames (whisper_transcribe_params) */
    double retain_days;      /* closed calls older than this are deleted (retention.h); < 0 (default): kept */
} service_config;

/* Fills cfg with the defaults: 1 slot using every core, queue 16, language "en",
 * VAD defaults with a 0.6-s hangover and a 30-s cap, calls up to 1 hour, default
 * triage thresholds, the calibrated distress model. */
void service_config_default(service_config *cfg);

typedef struct service_registry {
    service_config cfg;       /* strings borrowed from the creator; they must outlive the registry */
    store *store;             /* NULL without a database */
    service_events *events;   /* the change feed (events.h); always present */
    retention_sweeper *retention; /* NULL unless cfg.retain_days >= 0 and there is a store */
    asr_service *asr;
    infer_scheduler *sched;
    content_lexicon *lexicon; /* loaded once, immutable, shared */
    double started_ms;        /* clock_now_ms() at open */
    pthread_mutex_t live_lock; /* guards live_head, live_active, live_closing */
    live_call *live_head;
    int live_active;
    int closing;              /* set by service_registry_close_live: new live calls are refused */
    long long live_started, utterances_done;
} service_registry;

/* Opens the store (logging "Initializing database..." / "Database initialized
 * successfully") when cfg->db is set, loads the content lexicon, creates the ASR
 * service (nothing loaded yet) and starts the inference slots. The caller owns *out (service_registry_close). */
int service_registry_open(const service_config *cfg, service_registry **out, char *err, size_t err_size);

/* Finalises every live call still open (their records are completed with what was
 * received), then stops the slots and closes the store. NULL-safe. */
void service_registry_close(service_registry *reg);

/* Seconds since the registry was opened. */
double service_registry_uptime_s(const service_registry *reg);

#endif
