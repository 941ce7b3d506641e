/* asr.c — the shared ASR service: preload, lazy load exactly once, state for /health. */
#include "service/asr.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"

struct asr_service {
    pthread_mutex_t lock; /* guards every field below except cfg strings (immutable) */
    pthread_cond_t changed;
    char *model_dir, *lora_dir;
    int n_threads, q8, load_delay_ms;
    asr_state state;
    whisper_model *model;
    double load_ms;
    char error[512];
    int loads_started, loads_succeeded;
};

const char *asr_state_name(asr_state state) {
    switch (state) {
    case ASR_STATE_LOADED: return "loaded";
    case ASR_STATE_LOADING: return "loading";
    case ASR_STATE_FAILED: return "failed";
    default: return "lazy";
    }
}

static char *dup_or_null(const char *s) { return s && *s ? strdup(s) : NULL; }

int asr_service_new(const asr_config *cfg, asr_service **out, char *err, size_t err_size) {
    *out = NULL;
    asr_service *asr = calloc(1, sizeof *asr);
    if (!asr) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory creating the ASR service");
    asr->model_dir = dup_or_null(cfg->model_dir);
    asr->lora_dir = dup_or_null(cfg->lora_dir);
    if ((cfg->model_dir && *cfg->model_dir && !asr->model_dir) || (cfg->lora_dir && *cfg->lora_dir && !asr->lora_dir)) {
        free(asr->model_dir);
        free(asr->lora_dir);
        free(asr);
        return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory creating the ASR service");
    }
    asr->n_threads = cfg->n_threads;
    asr->q8 = cfg->q8;
    asr->load_delay_ms = cfg->load_delay_ms > 0 ? cfg->load_delay_ms : 0;
    asr->state = ASR_STATE_LAZY;
    pthread_mutex_init(&asr->lock, NULL);
    pthread_cond_init(&asr->changed, NULL);
    *out = asr;
    return 0;
}

void asr_service_free(asr_service *asr) {
    if (!asr) return;
    whisper_model_free(asr->model);
    pthread_cond_destroy(&asr->changed);
    pthread_mutex_destroy(&asr->lock);
    free(asr->model_dir);
    free(asr->lora_dir);
    free(asr);
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

/* Runs one load outside the lock; the caller has set state LOADING. */
static int asr_load_once(asr_service *asr, char *err, size_t err_size) {
    if (asr->load_delay_ms) sleep_ms(asr->load_delay_ms);
    whisper_load_params lp = {asr->model_dir, asr->lora_dir, asr->n_threads,
                              asr->q8 ? WHISPER_WEIGHTS_Q8 : WHISPER_WEIGHTS_NATIVE};
    whisper_model *model = NULL;
    double t0 = clock_now_ms();
    int rc = whisper_model_load(&lp, &model, err, err_size);
    double ms = clock_now_ms() - t0;
    pthread_mutex_lock(&asr->lock);
    if (rc == 0) {
        asr->model = model;
        asr->load_ms = ms;
        asr->error[0] = '\0';
        asr->loads_succeeded++;
        asr->state = ASR_STATE_LOADED;
    } else {
        snprintf(asr->error, sizeof asr->error, "%s", err);
    }
    pthread_cond_broadcast(&asr->changed);
    pthread_mutex_unlock(&asr->lock);
    return rc;
}

/* Ends a failed load: sets state (LAZY or FAILED) under the lock and wakes every
 * request waiting for the outcome. */
static void asr_state_settle(asr_service *asr, asr_state state) {
    pthread_mutex_lock(&asr->lock);
    asr->state = state;
    pthread_cond_broadcast(&asr->changed);
    pthread_mutex_unlock(&asr->lock);
}

int asr_service_preload(asr_service *asr) {
    char err[TRIDENT_ERR_SIZE] = "";
    log_info("asr", "Preloading ASR model (Whisper + LoRA)... model=%s lora=%s", asr->model_dir ? asr->model_dir : "(none)",
             asr->lora_dir ? asr->lora_dir : "(none)");
    if (!asr->model_dir) {
        pthread_mutex_lock(&asr->lock);
        snprintf(asr->error, sizeof asr->error, "no model configured (--model or TRIDENT_MODEL)");
        pthread_mutex_unlock(&asr->lock);
        log_error("asr", "Failed to preload ASR model: no model configured (--model or TRIDENT_MODEL)");
        log_warn("asr", "ASR model will be loaded on first request (lazy loading)");
        return TRIDENT_ENOTFOUND;
    }
    pthread_mutex_lock(&asr->lock);
    if (asr->state == ASR_STATE_LOADED || asr->state == ASR_STATE_LOADING) {
        pthread_mutex_unlock(&asr->lock);
        return 0;
    }
    asr->state = ASR_STATE_LOADING;
    asr->loads_started++;
    pthread_mutex_unlock(&asr->lock);
    int rc = asr_load_once(asr, err, sizeof err);
    if (rc == 0) {
        asr_status st;
        asr_service_status(asr, &st);
        log_info("asr", "ASR model preloaded successfully model=%s lora=%s load_ms=%.1f", st.name, st.lora[0] ? st.lora : "none",
                 st.load_ms);
        return 0;
    }
    asr_state_settle(asr, ASR_STATE_LAZY);
    log_error("asr", "Failed to preload ASR model: %s", err);
    log_warn("asr", "ASR model will be loaded on first request (lazy loading)");
    return rc;
}

int asr_service_model_get(asr_service *asr, const whisper_model **model, char *err, size_t err_size) {
    *model = NULL;
    if (!asr->model_dir)
        return error_set(err, err_size, TRIDENT_ENOTFOUND, "no ASR model configured (--model or TRIDENT_MODEL)");
    pthread_mutex_lock(&asr->lock);
    for (;;) {
        if (asr->state == ASR_STATE_LOADED) {
            *model = asr->model;
            pthread_mutex_unlock(&asr->lock);
            return 0;
        }
        if (asr->state != ASR_STATE_LOADING) break;
        /* Someone else loads: wait for the outcome and share it. */
        int started = asr->loads_started;
        while (asr->state == ASR_STATE_LOADING) pthread_cond_wait(&asr->changed, &asr->lock);
        if (asr->state == ASR_STATE_LOADED) continue;
        if (asr->loads_started == started) { /* that load failed: report it to this waiter */
            int code = error_set(err, err_size, TRIDENT_EIO, "ASR model failed to load: %s", asr->error);
            pthread_mutex_unlock(&asr->lock);
            return code;
        }
    }
    /* This request loads (lazy load, or a retry after a failed one). */
    asr->state = ASR_STATE_LOADING;
    asr->loads_started++;
    int attempt = asr->loads_started;
    pthread_mutex_unlock(&asr->lock);
    log_info("asr", "Loading ASR model on first use (lazy loading) attempt=%d", attempt);
    char lerr[TRIDENT_ERR_SIZE] = "";
    int rc = asr_load_once(asr, lerr, sizeof lerr);
    if (rc == 0) {
        asr_status st;
        asr_service_status(asr, &st);
        log_info("asr", "ASR model loaded successfully model=%s lora=%s load_ms=%.1f", st.name, st.lora[0] ? st.lora : "none",
                 st.load_ms);
        pthread_mutex_lock(&asr->lock);
        *model = asr->model;
        pthread_mutex_unlock(&asr->lock);
        return 0;
    }
    asr_state_settle(asr, ASR_STATE_FAILED);
    log_error("asr", "Lazy ASR model load failed (a later request retries): %s", lerr);
    return error_set(err, err_size, rc, "ASR model failed to load: %s", lerr);
}

static void base_name(const char *path, char *out, size_t out_size) {
    out[0] = '\0';
    if (!path) return;
    size_t len = strlen(path);
    while (len > 1 && path[len - 1] == '/') len--;
    size_t start = len;
    while (start > 0 && path[start - 1] != '/') start--;
    snprintf(out, out_size, "%.*s", (int)(len - start), path + start);
}

void asr_service_status(asr_service *asr, asr_status *out) {
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&asr->lock);
    out->state = asr->state;
    if (asr->model) {
        whisper_model_info info = whisper_model_info_get(asr->model);
        snprintf(out->name, sizeof out->name, "%s", info.name ? info.name : "");
        snprintf(out->lora, sizeof out->lora, "%s", info.lora ? info.lora : "");
    } else {
        base_name(asr->model_dir, out->name, sizeof out->name);
        base_name(asr->lora_dir, out->lora, sizeof out->lora);
    }
    out->load_ms = asr->load_ms;
    snprintf(out->error, sizeof out->error, "%s", asr->error);
    out->loads_started = asr->loads_started;
    out->loads_succeeded = asr->loads_succeeded;
    out->n_threads = asr->n_threads;
    pthread_mutex_unlock(&asr->lock);
}

void asr_transcript_clear(asr_transcript *t) {
    free(t->text);
    whisper_result_free(t->result);
    memset(t, 0, sizeof *t);
}
