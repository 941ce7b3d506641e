/* events.c — the change feed: a ring of the latest changes for the readers (the
 * server's event streams), and the relay between servers sharing PostgreSQL. */
#include "service/events.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"

/* How long the relay waits for a notification before it looks at its stop flag,
 * and between two attempts to reconnect. */
#define RELAY_POLL_MS 500
#define RELAY_RETRY_MS 1000

struct service_events {
    store *st;
    char instance[SERVICE_INSTANCE_SIZE];
    pthread_mutex_t lock; /* guards everything below */
    pthread_cond_t cond;  /* a change was appended, or the feed closed / the relay is stopping */
    char *ring[SERVICE_EVENTS_RING];
    uint64_t head; /* changes ever appended; change k sits at ring[k % SERVICE_EVENTS_RING] */
    int closed;
    long long published, relayed, dropped;
    /* the relay */
    pthread_t relay;
    int relay_started, relay_stop, relay_up;
};

static const char *const change_names[SERVICE_CHANGE_COUNT] = {
    "created", "triage", "claimed", "released", "dispatched", "resolved", "cancelled", "duplicate", "override",
    "note", "ended"};

const char *service_change_name(service_change c) {
    return c >= SERVICE_CHANGE_CREATED && c < SERVICE_CHANGE_COUNT ? change_names[c] : "unknown";
}

service_change service_change_of_action(store_action a) {
    switch (a) {
    case STORE_ACTION_CLAIM: return SERVICE_CHANGE_CLAIMED;
    case STORE_ACTION_RELEASE: return SERVICE_CHANGE_RELEASED;
    case STORE_ACTION_DISPATCH: return SERVICE_CHANGE_DISPATCHED;
    case STORE_ACTION_RESOLVE: return SERVICE_CHANGE_RESOLVED;
    case STORE_ACTION_CANCEL: return SERVICE_CHANGE_CANCELLED;
    case STORE_ACTION_DUPLICATE: return SERVICE_CHANGE_DUPLICATE;
    case STORE_ACTION_OVERRIDE: return SERVICE_CHANGE_OVERRIDE;
    case STORE_ACTION_NOTE:
    default: return SERVICE_CHANGE_NOTE;
    }
}

/* Appends a change line (taken over) and wakes the readers (under ev->lock). */
static void ring_append(service_events *ev, char *line) {
    char **slot = &ev->ring[ev->head % SERVICE_EVENTS_RING];
    free(*slot);
    *slot = line;
    ev->head++;
    pthread_cond_broadcast(&ev->cond);
}

/* A deadline timeout_ms from now on the condition variable's clock (CLOCK_MONOTONIC). */
static struct timespec deadline_in(int timeout_ms) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}

/* ---- the relay ------------------------------------------------------------- */

/* A change line from another server, checked and written again by us (a
 * notification is only text: it must be one of our change objects), or NULL when
 * it is malformed or our own. Ownership: the caller frees the result. */
static char *relay_line(const service_events *ev, const char *payload) {
    json_t *j = json_loads(payload, JSON_REJECT_DUPLICATES, NULL);
    json_t *id = json_object_get(j, "id"), *change = json_object_get(j, "change"), *state = json_object_get(j, "state"),
           *queue = json_object_get(j, "queue"), *server = json_object_get(j, "server"), *at = json_object_get(j, "at");
    char *line = NULL;
    if (json_is_object(j) && json_object_size(j) == 6 && json_is_string(id) && store_id_valid(json_string_value(id)) &&
        json_is_string(change) && json_is_string(state) && (json_is_string(queue) || json_is_null(queue)) &&
        json_is_string(server) && json_is_number(at) && strcmp(json_string_value(server), ev->instance) != 0)
        line = json_dumps(j, JSON_COMPACT); /* compact: never a newline inside, one SSE data line */
    json_decref(j);
    return line;
}

static void *relay_main(void *arg) {
    service_events *ev = arg;
    store_listener *l = NULL;
    int warned = 0;
    char err[TRIDENT_ERR_SIZE];
    pthread_mutex_lock(&ev->lock);
    while (!ev->relay_stop) {
        pthread_mutex_unlock(&ev->lock);
        int rc = 0;
        char *payload = NULL;
        if (!l) {
            rc = store_listener_open(ev->st, &l, err, sizeof err);
            if (rc == 0) {
                log_info("events", "relaying changes between servers channel=%s instance=%s", STORE_NOTIFY_CHANNEL,
                         ev->instance);
                warned = 0;
            } else if (!warned) {
                log_warn("events", "cannot relay changes from other servers, retrying every %d ms: %s", RELAY_RETRY_MS,
                         err);
                warned = 1;
            }
        } else {
            rc = store_listener_wait(l, RELAY_POLL_MS, &payload, err, sizeof err);
            if (rc < 0) {
                log_warn("events", "the change relay lost its connection, reconnecting: %s", err);
                store_listener_close(l);
                l = NULL;
            }
        }
        char *line = payload ? relay_line(ev, payload) : NULL;
        free(payload);
        pthread_mutex_lock(&ev->lock);
        ev->relay_up = l != NULL;
        if (line) {
            ring_append(ev, line);
            ev->relayed++;
        }
        if (!l && !ev->relay_stop) {
            struct timespec ts = deadline_in(RELAY_RETRY_MS);
            while (!ev->relay_stop && pthread_cond_timedwait(&ev->cond, &ev->lock, &ts) != ETIMEDOUT) {}
        }
    }
    ev->relay_up = 0;
    pthread_mutex_unlock(&ev->lock);
    store_listener_close(l);
    return NULL;
}

/* ---- the feed -------------------------------------------------------------- */

int service_events_new(store *st, service_events **out, char *err, size_t err_size) {
    *out = NULL;
    char uuid[STORE_ID_SIZE];
    int rc = store_id_generate(uuid, err, err_size);
    if (rc) return rc;
    service_events *ev = calloc(1, sizeof *ev);
    if (!ev) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory creating the change feed");
    ev->st = st;
    memcpy(ev->instance, uuid, 8); /* 12 random hex digits: the UUID's first two groups */
    memcpy(ev->instance + 8, uuid + 9, 4);
    ev->instance[12] = '\0';
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&ev->lock, NULL);
    pthread_cond_init(&ev->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (store_shared(st)) {
        if (pthread_create(&ev->relay, NULL, relay_main, ev) != 0) {
            service_events_free(ev);
            return error_set(err, err_size, TRIDENT_ENOMEM, "cannot start the change relay's thread");
        }
        ev->relay_started = 1;
    }
    *out = ev;
    return 0;
}

void service_events_free(service_events *ev) {
    if (!ev) return;
    if (ev->relay_started) {
        pthread_mutex_lock(&ev->lock);
        ev->relay_stop = 1;
        pthread_cond_broadcast(&ev->cond);
        pthread_mutex_unlock(&ev->lock);
        pthread_join(ev->relay, NULL);
    }
    for (size_t i = 0; i < SERVICE_EVENTS_RING; i++) free(ev->ring[i]);
    pthread_cond_destroy(&ev->cond);
    pthread_mutex_destroy(&ev->lock);
    free(ev);
}

const char *service_events_instance(const service_events *ev) { return ev->instance; }

void service_events_publish(service_events *ev, const store_call *c, service_change change) {
    if (!ev || !c) return;
    const char *queue = store_call_effective_queue(c);
    json_t *j = json_pack("{s:s, s:s, s:s, s:o, s:s, s:f}", "id", c->id, "change", service_change_name(change), "state",
                          store_dispatch_name(c->dispatch_state), "queue", queue ? json_string(queue) : json_null(),
                          "server", ev->instance, "at", clock_wall_s());
    char *line = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!line) {
        log_error("events", "out of memory publishing a change call_id=%s change=%s", c->id, service_change_name(change));
        return;
    }
    char err[TRIDENT_ERR_SIZE];
    if (store_shared(ev->st) && store_notify(ev->st, line, err, sizeof err) != 0)
        log_warn("events", "the other servers were not told of a change call_id=%s change=%s: %s", c->id,
                 service_change_name(change), err);
    pthread_mutex_lock(&ev->lock);
    ring_append(ev, line);
    ev->published++;
    pthread_mutex_unlock(&ev->lock);
}

void service_events_publish_id(service_events *ev, store *st, const char *id, service_change change) {
    if (!ev || !st) return;
    store_call *c = NULL;
    char err[TRIDENT_ERR_SIZE];
    if (store_call_get(st, id, &c, err, sizeof err) != 0) {
        log_warn("events", "cannot read the call to publish its change call_id=%s change=%s: %s", id,
                 service_change_name(change), err);
        return;
    }
    service_events_publish(ev, c, change);
    store_call_free(c);
}

uint64_t service_events_cursor(service_events *ev) {
    pthread_mutex_lock(&ev->lock);
    uint64_t h = ev->head;
    pthread_mutex_unlock(&ev->lock);
    return h;
}

int service_events_next(service_events *ev, uint64_t *cursor, int timeout_ms, char **out) {
    *out = NULL;
    struct timespec ts = deadline_in(timeout_ms > 0 ? timeout_ms : 0);
    int rc = 0;
    pthread_mutex_lock(&ev->lock);
    while (!ev->closed && *cursor >= ev->head)
        if (pthread_cond_timedwait(&ev->cond, &ev->lock, &ts) == ETIMEDOUT) break;
    if (ev->closed) {
        rc = -1;
    } else if (*cursor < ev->head) {
        if (ev->head - *cursor > SERVICE_EVENTS_RING) { /* fell behind: the oldest kept comes next */
            ev->dropped += (long long)(ev->head - *cursor - SERVICE_EVENTS_RING);
            *cursor = ev->head - SERVICE_EVENTS_RING;
        }
        *out = strdup(ev->ring[*cursor % SERVICE_EVENTS_RING]);
        (*cursor)++;
        rc = *out ? 1 : 0; /* out of memory: skipped, like a change the reader fell behind on */
    }
    pthread_mutex_unlock(&ev->lock);
    return rc;
}

void service_events_close(service_events *ev) {
    if (!ev) return;
    pthread_mutex_lock(&ev->lock);
    ev->closed = 1;
    pthread_cond_broadcast(&ev->cond);
    pthread_mutex_unlock(&ev->lock);
}

void service_events_stats_get(service_events *ev, service_events_stats *out) {
    memset(out, 0, sizeof *out);
    if (!ev) return;
    pthread_mutex_lock(&ev->lock);
    out->published = ev->published;
    out->relayed = ev->relayed;
    out->dropped = ev->dropped;
    out->relay = ev->relay_started;
    out->relay_up = ev->relay_up;
    pthread_mutex_unlock(&ev->lock);
}
