/* scheduler.c — inference slots, the bounded FIFO job queue, per-window scheduling. */
#include "service/scheduler.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "base/threadpool.h"

/* A job lives on its submitter's stack until done is set. */
typedef struct infer_job {
    struct infer_job *next;
    const float *pcm;
    size_t n;
    double queued_ms, wait_ms, infer_ms;
    int done, rc;
    whisper_result *result;
    char err[TRIDENT_ERR_SIZE];
} infer_job;

typedef struct {
    infer_scheduler *sched;
    pthread_t thread;
    whisper_session *session;
    int started;
} infer_slot;

struct infer_scheduler {
    asr_service *asr;
    int n_slots, threads_per_slot, queue_max;
    char language[16];
    infer_slot *slots;
    pthread_mutex_t lock; /* guards the queue, stop, busy and the statistics */
    pthread_cond_t work;  /* a job was queued or stop was set */
    pthread_cond_t done;  /* some job finished */
    infer_job *head, *tail;
    int depth, busy, stop;
    int warm; /* set by infer_scheduler_prepare: idle slots create their sessions */
    long long jobs_done, jobs_failed, rejected;
    double wait_sum, infer_sum;
};

void asr_transcript_clear(asr_transcript *t) {
    free(t->text);
    memset(t, 0, sizeof *t);
}

static void slot_run_job(infer_slot *slot, infer_job *job) {
    infer_scheduler *s = slot->sched;
    const whisper_model *model = NULL;
    job->rc = asr_service_model_get(s->asr, &model, job->err, sizeof job->err);
    if (job->rc != 0) return;
    if (!slot->session) {
        job->rc = whisper_session_new(model, s->threads_per_slot, &slot->session, job->err, sizeof job->err);
        if (job->rc != 0) return;
    }
    whisper_transcribe_params p = whisper_transcribe_params_default();
    p.language = strcmp(s->language, "auto") == 0 ? NULL : s->language;
    p.timestamps = 0;
    p.max_windows = 1;
    p.condition_on_previous_text = 0;
    double t0 = clock_now_ms();
    job->rc = whisper_transcribe(slot->session, job->pcm, job->n, &p, &job->result, job->err, sizeof job->err);
    job->infer_ms = clock_now_ms() - t0;
}

/* Creates the slot's session ahead of its first job (the model is loaded). */
static void slot_session_prepare(infer_slot *slot) {
    const whisper_model *model = NULL;
    char err[TRIDENT_ERR_SIZE];
    if (asr_service_model_get(slot->sched->asr, &model, err, sizeof err) != 0 ||
        whisper_session_new(model, slot->sched->threads_per_slot, &slot->session, err, sizeof err) != 0)
        log_warn("scheduler", "inference session not prepared (the first job retries): %s", err);
}

static void *slot_main(void *arg) {
    infer_slot *slot = arg;
    infer_scheduler *s = slot->sched;
    int prepared = 0;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->head && !s->stop) {
            if (s->warm && !prepared) {
                prepared = 1;
                pthread_mutex_unlock(&s->lock);
                if (!slot->session) slot_session_prepare(slot);
                pthread_mutex_lock(&s->lock);
                continue;
            }
            pthread_cond_wait(&s->work, &s->lock);
        }
        if (!s->head) break; /* stop with an empty queue */
        infer_job *job = s->head;
        s->head = job->next;
        if (!s->head) s->tail = NULL;
        s->depth--;
        s->busy++;
        job->wait_ms = clock_now_ms() - job->queued_ms;
        pthread_mutex_unlock(&s->lock);
        slot_run_job(slot, job);
        pthread_mutex_lock(&s->lock);
        s->busy--;
        s->wait_sum += job->wait_ms;
        s->infer_sum += job->infer_ms;
        if (job->rc == 0) s->jobs_done++;
        else s->jobs_failed++;
        job->done = 1;
        pthread_cond_broadcast(&s->done);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

int infer_scheduler_new(asr_service *asr, const infer_scheduler_config *cfg, infer_scheduler **out, char *err,
                        size_t err_size) {
    *out = NULL;
    if (cfg->slots < 1 || cfg->slots > 256) return error_set(err, err_size, TRIDENT_EINVAL, "slots must be 1..256");
    if (cfg->queue_max < 1) return error_set(err, err_size, TRIDENT_EINVAL, "queue size must be at least 1");
    infer_scheduler *s = calloc(1, sizeof *s);
    if (!s) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory creating the scheduler");
    s->slots = calloc((size_t)cfg->slots, sizeof *s->slots);
    if (!s->slots) {
        free(s);
        return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory creating the scheduler");
    }
    s->asr = asr;
    s->n_slots = cfg->slots;
    s->queue_max = cfg->queue_max;
    s->threads_per_slot = cfg->threads_per_slot > 0 ? cfg->threads_per_slot : threadpool_cores() / cfg->slots;
    if (s->threads_per_slot < 1) s->threads_per_slot = 1;
    snprintf(s->language, sizeof s->language, "%s", cfg->language && *cfg->language ? cfg->language : "en");
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->work, NULL);
    pthread_cond_init(&s->done, NULL);
    for (int i = 0; i < s->n_slots; i++) {
        s->slots[i].sched = s;
        if (pthread_create(&s->slots[i].thread, NULL, slot_main, &s->slots[i]) != 0) {
            infer_scheduler_free(s);
            return error_set(err, err_size, TRIDENT_ENOMEM, "cannot start inference slot thread %d", i);
        }
        s->slots[i].started = 1;
    }
    *out = s;
    return 0;
}

void infer_scheduler_free(infer_scheduler *s) {
    if (!s) return;
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pthread_cond_broadcast(&s->work);
    pthread_mutex_unlock(&s->lock);
    for (int i = 0; i < s->n_slots; i++) {
        if (s->slots[i].started) pthread_join(s->slots[i].thread, NULL);
        whisper_session_free(s->slots[i].session);
    }
    pthread_cond_destroy(&s->work);
    pthread_cond_destroy(&s->done);
    pthread_mutex_destroy(&s->lock);
    free(s->slots);
    free(s);
}

void infer_scheduler_prepare(infer_scheduler *s) {
    pthread_mutex_lock(&s->lock);
    s->warm = 1;
    pthread_cond_broadcast(&s->work);
    pthread_mutex_unlock(&s->lock);
}

/* Queues job (bounded unless continuation) and waits for it. */
static int scheduler_run(infer_scheduler *s, infer_job *job, int continuation, char *err, size_t err_size) {
    pthread_mutex_lock(&s->lock);
    if (s->stop) {
        pthread_mutex_unlock(&s->lock);
        return error_set(err, err_size, TRIDENT_EBUSY, "the server is shutting down");
    }
    if (!continuation && s->depth >= s->queue_max) {
        s->rejected++;
        pthread_mutex_unlock(&s->lock);
        return error_set(err, err_size, TRIDENT_EBUSY, "inference queue is full (%d waiting); retry later", s->queue_max);
    }
    job->queued_ms = clock_now_ms();
    job->next = NULL;
    if (s->tail) s->tail->next = job;
    else s->head = job;
    s->tail = job;
    s->depth++;
    pthread_cond_signal(&s->work);
    while (!job->done) pthread_cond_wait(&s->done, &s->lock);
    pthread_mutex_unlock(&s->lock);
    if (job->rc != 0) return error_set(err, err_size, job->rc, "%s", job->err);
    return 0;
}

/* Appends src to *text with one separating space; returns 0 or TRIDENT_ENOMEM. */
static int text_append(char **text, const char *src) {
    while (*src && isspace((unsigned char)*src)) src++;
    size_t n = strlen(src);
    while (n && isspace((unsigned char)src[n - 1])) n--;
    if (!n) return 0;
    size_t old = *text ? strlen(*text) : 0;
    char *t = realloc(*text, old + n + 2);
    if (!t) return TRIDENT_ENOMEM;
    if (old) t[old++] = ' ';
    memcpy(t + old, src, n);
    t[old + n] = '\0';
    *text = t;
    return 0;
}

int infer_scheduler_transcribe(infer_scheduler *s, const float *pcm, size_t n_samples, int flags, asr_transcript *out,
                               char *err, size_t err_size) {
    memset(out, 0, sizeof *out);
    /* Wait for the (lazy) model load here, in the request's thread, so that a load
     * failure reaches every waiting request and the slots never block on it. */
    const whisper_model *model = NULL;
    int rc = asr_service_model_get(s->asr, &model, err, err_size);
    if (rc != 0) return rc;
    const size_t win = WHISPER_WINDOW_SAMPLES, min_tail = WHISPER_SAMPLE_RATE / 10;
    double sum_lp = 0, weight = 0;
    size_t off = 0;
    do {
        size_t n = n_samples - off < win ? n_samples - off : win;
        if (off > 0 && n < min_tail) break; /* a sliver after the last full window */
        infer_job job;
        memset(&job, 0, sizeof job);
        job.pcm = pcm + off;
        job.n = n;
        rc = scheduler_run(s, &job, off > 0 || (flags & INFER_UNBOUNDED), err, err_size);
        out->wait_ms += job.wait_ms;
        out->infer_ms += job.infer_ms;
        if (rc != 0) {
            whisper_result_free(job.result);
            asr_transcript_clear(out);
            return rc;
        }
        whisper_result *r = job.result;
        int toks = 0;
        for (int i = 0; i < r->n_segments; i++) toks += r->segments[i].n_tokens;
        sum_lp += r->avg_logprob * (toks + 1);
        weight += toks + 1;
        out->n_tokens += toks;
        if (out->n_windows == 0) {
            out->no_speech_prob = r->no_speech_prob;
            snprintf(out->language, sizeof out->language, "%s", r->language);
        }
        out->n_windows++;
        rc = text_append(&out->text, r->text ? r->text : "");
        whisper_result_free(r);
        if (rc != 0) {
            asr_transcript_clear(out);
            return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory joining transcripts");
        }
        off += n;
    } while (off < n_samples);
    if (!out->text && !(out->text = strdup(""))) {
        asr_transcript_clear(out);
        return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory");
    }
    out->avg_logprob = weight > 0 ? sum_lp / weight : 0;
    out->confidence = weight > 0 ? exp(out->avg_logprob) : 0;
    return 0;
}

void infer_scheduler_stats_get(infer_scheduler *s, infer_scheduler_stats *out) {
    pthread_mutex_lock(&s->lock);
    out->slots = s->n_slots;
    out->busy_slots = s->busy;
    out->queue_depth = s->depth;
    out->queue_max = s->queue_max;
    out->jobs_done = s->jobs_done;
    out->jobs_failed = s->jobs_failed;
    out->requests_rejected = s->rejected;
    out->wait_ms_sum = s->wait_sum;
    out->infer_ms_sum = s->infer_sum;
    pthread_mutex_unlock(&s->lock);
}
