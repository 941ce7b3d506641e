/* scheduler.c — inference slots, the bounded FIFO job queue, per-window scheduling:
 * a request is one whisper_transcription; a slot decodes one window of the job at
 * the head of the queue and puts the job back at the tail until it is done. */
#include "service/scheduler.h"

#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "base/threadpool.h"

/* One request: a whole transcription, decoded one window per turn. It lives on its
 * submitter's stack until done is set; between turns it waits in the queue. */
typedef struct infer_job {
    struct infer_job *next;
    whisper_transcription *t; /* owned by the submitter */
    double queued_ms, wait_ms, infer_ms;
    int steps, done, rc;
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
    infer_slot *slots;
    pthread_mutex_t lock; /* guards the queue, stop, busy and the statistics */
    pthread_cond_t work;  /* a job was queued or stop was set */
    pthread_cond_t done;  /* some job finished */
    infer_job *head, *tail;
    int depth, busy, stop;
    int reserved; /* places taken by infer_scheduler_reserve, not yet queued */
    int warm; /* set by infer_scheduler_prepare: idle slots create their sessions */
    long long jobs_done, jobs_failed, rejected;
    double wait_sum, infer_sum;
};

/* Decodes the job's next window on the slot's session; *finished when it was the
 * last one or failed. */
static void slot_run_step(infer_slot *slot, infer_job *job, int *finished) {
    infer_scheduler *s = slot->sched;
    const whisper_model *model = NULL;
    *finished = 1;
    job->rc = asr_service_model_get(s->asr, &model, job->err, sizeof job->err);
    if (job->rc != 0) return;
    if (!slot->session) {
        job->rc = whisper_session_new(model, s->threads_per_slot, &slot->session, job->err, sizeof job->err);
        if (job->rc != 0) return;
    }
    int done = 0;
    double t0 = clock_now_ms();
    job->rc = whisper_transcription_step(slot->session, job->t, &done, job->err, sizeof job->err);
    job->infer_ms += clock_now_ms() - t0;
    job->steps++;
    *finished = job->rc != 0 || done;
}

/* Creates the slot's session ahead of its first job (the model is loaded). */
static void slot_session_prepare(infer_slot *slot) {
    const whisper_model *model = NULL;
    char err[TRIDENT_ERR_SIZE];
    if (asr_service_model_get(slot->sched->asr, &model, err, sizeof err) != 0 ||
        whisper_session_new(model, slot->sched->threads_per_slot, &slot->session, err, sizeof err) != 0)
        log_warn("scheduler", "inference session not prepared (the first job retries): %s", err);
}

/* Appends job to the queue's tail and wakes one slot. The caller holds s->lock;
 * job stays the caller's (it waits for job->done). */
static void scheduler_job_enqueue(infer_scheduler *s, infer_job *job) {
    job->queued_ms = clock_now_ms();
    job->next = NULL;
    if (s->tail) s->tail->next = job;
    else s->head = job;
    s->tail = job;
    s->depth++;
    pthread_cond_signal(&s->work);
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
        double waited = clock_now_ms() - job->queued_ms;
        job->wait_ms += waited;
        s->wait_sum += waited;
        pthread_mutex_unlock(&s->lock);
        int finished = 1;
        double infer0 = job->infer_ms;
        slot_run_step(slot, job, &finished);
        pthread_mutex_lock(&s->lock);
        s->busy--;
        s->infer_sum += job->infer_ms - infer0;
        if (job->rc == 0) s->jobs_done++;
        else s->jobs_failed++;
        if (!finished && s->stop) {
            job->rc = TRIDENT_EBUSY;
            snprintf(job->err, sizeof job->err, "the server is shutting down");
            finished = 1;
        }
        if (finished) {
            job->done = 1;
            pthread_cond_broadcast(&s->done);
        } else {
            /* the next window waits its turn behind every job queued meanwhile */
            scheduler_job_enqueue(s, job);
        }
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

/* 1 when a new request must be refused (the caller holds s->lock). */
static int scheduler_full(const infer_scheduler *s) { return s->depth + s->reserved >= s->queue_max; }

static int scheduler_refuse(infer_scheduler *s, char *err, size_t err_size) {
    return error_set(err, err_size, TRIDENT_EBUSY, "inference queue is full (%d waiting); retry later", s->queue_max);
}

int infer_scheduler_reserve(infer_scheduler *s, char *err, size_t err_size) {
    pthread_mutex_lock(&s->lock);
    int stop = s->stop, full = !stop && scheduler_full(s);
    if (full) s->rejected++;
    else if (!stop) s->reserved++;
    pthread_mutex_unlock(&s->lock);
    if (stop) return error_set(err, err_size, TRIDENT_EBUSY, "the server is shutting down");
    return full ? scheduler_refuse(s, err, err_size) : 0;
}

void infer_scheduler_release(infer_scheduler *s) {
    pthread_mutex_lock(&s->lock);
    if (s->reserved > 0) s->reserved--;
    pthread_mutex_unlock(&s->lock);
}

/* Queues job (bounded unless flags say unbounded or reserved) and waits until
 * all its windows are done. A reserved place is used here, whatever the outcome. */
static int scheduler_run(infer_scheduler *s, infer_job *job, int flags, char *err, size_t err_size) {
    pthread_mutex_lock(&s->lock);
    if (flags & INFER_RESERVED) s->reserved--;
    if (s->stop) {
        pthread_mutex_unlock(&s->lock);
        return error_set(err, err_size, TRIDENT_EBUSY, "the server is shutting down");
    }
    if (!(flags & (INFER_UNBOUNDED | INFER_RESERVED)) && scheduler_full(s)) {
        s->rejected++;
        pthread_mutex_unlock(&s->lock);
        return scheduler_refuse(s, err, err_size);
    }
    scheduler_job_enqueue(s, job);
    while (!job->done) pthread_cond_wait(&s->done, &s->lock);
    pthread_mutex_unlock(&s->lock);
    if (job->rc != 0) return error_set(err, err_size, job->rc, "%s", job->err);
    return 0;
}

/* A copy of src without leading/trailing white space, or NULL when out of memory. */
static char *text_trimmed(const char *src) {
    while (*src && isspace((unsigned char)*src)) src++;
    size_t n = strlen(src);
    while (n && isspace((unsigned char)src[n - 1])) n--;
    char *t = malloc(n + 1);
    if (!t) return NULL;
    memcpy(t, src, n);
    t[n] = '\0';
    return t;
}

int infer_scheduler_transcribe(infer_scheduler *s, const float *pcm, size_t n_samples,
                               const whisper_transcribe_params *params, int flags, asr_transcript *out, char *err,
                               size_t err_size) {
    memset(out, 0, sizeof *out);
    if (!params) {
        if (flags & INFER_RESERVED) infer_scheduler_release(s);
        return error_set(err, err_size, TRIDENT_EINVAL, "no transcription parameters");
    }
    /* Wait for the (lazy) model load here, in the request's thread, so that a load
     * failure reaches every waiting request and the slots never block on it. */
    const whisper_model *model = NULL;
    int rc = asr_service_model_get(s->asr, &model, err, err_size);
    if (rc != 0) {
        if (flags & INFER_RESERVED) infer_scheduler_release(s);
        return rc;
    }
    /* refuse early when the queue is full, before the log-mel work (re-checked on admission) */
    pthread_mutex_lock(&s->lock);
    int full = !(flags & (INFER_UNBOUNDED | INFER_RESERVED)) && scheduler_full(s);
    if (full) s->rejected++;
    pthread_mutex_unlock(&s->lock);
    if (full) return scheduler_refuse(s, err, err_size);
    /* the log-mel of the whole recording, once, in the request's thread */
    infer_job job;
    memset(&job, 0, sizeof job);
    double t0 = clock_now_ms();
    rc = whisper_transcription_begin(model, pcm, n_samples, params, &job.t, err, err_size);
    if (rc != 0) {
        if (flags & INFER_RESERVED) infer_scheduler_release(s);
        return rc;
    }
    job.infer_ms = clock_now_ms() - t0;
    rc = scheduler_run(s, &job, flags, err, err_size);
    out->wait_ms = job.wait_ms;
    out->infer_ms = job.infer_ms;
    out->n_windows = job.steps;
    whisper_result *r = NULL;
    if (rc == 0) rc = whisper_transcription_finish(job.t, &r, err, err_size);
    whisper_transcription_free(job.t);
    if (rc != 0) {
        asr_transcript_clear(out);
        return rc;
    }
    for (int i = 0; i < r->n_segments; i++) out->n_tokens += r->segments[i].n_tokens;
    out->avg_logprob = r->avg_logprob;
    out->confidence = r->confidence; /* exp(avg_logprob), as the engine defines it */
    out->no_speech_prob = r->no_speech_prob;
    snprintf(out->language, sizeof out->language, "%s", r->language);
    out->text = text_trimmed(r->text ? r->text : "");
    if (flags & INFER_KEEP_RESULT) out->result = r;
    else whisper_result_free(r);
    if (!out->text) {
        double wait = out->wait_ms, infer = out->infer_ms;
        asr_transcript_clear(out);
        out->wait_ms = wait, out->infer_ms = infer;
        return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory copying the transcript");
    }
    return 0;
}

void infer_scheduler_stats_get(infer_scheduler *s, infer_scheduler_stats *out) {
    pthread_mutex_lock(&s->lock);
    out->slots = s->n_slots;
    out->busy_slots = s->busy;
    out->queue_depth = s->depth;
    out->queue_max = s->queue_max;
    out->reserved = s->reserved;
    out->jobs_done = s->jobs_done;
    out->jobs_failed = s->jobs_failed;
    out->requests_rejected = s->rejected;
    out->wait_ms_sum = s->wait_sum;
    out->infer_ms_sum = s->infer_sum;
    pthread_mutex_unlock(&s->lock);
}
