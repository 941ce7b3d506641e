/* events.h — the change feed: every change to a stored call, as one JSON line,
 * for the dashboards (the server's GET /api/events streams it).
 *
 * A change is {"id", "change", "state", "queue", "server", "at"}: the call's id,
 * what happened (service_change_name), its dispatch state and effective queue
 * after the change (queue null while untriaged), the instance that made it and
 * when (Unix seconds). Uploads (created), live calls (created at the start,
 * triage after each analysed utterance, ended) and every dispatch action
 * publish one; publishing never fails the change itself (a change that cannot
 * be published is logged).
 *
 * The feed keeps the last SERVICE_EVENTS_RING changes in a ring with sequence
 * numbers; each reader keeps a cursor and waits for what follows it, so a
 * publisher never waits for a reader (a reader more than the ring behind skips
 * to the oldest change kept). With a shared store (PostgreSQL) every change is
 * also sent to the other servers (store_notify), and a relay thread of the feed
 * listens on a connection of its own and appends theirs (reconnecting every
 * second while the database is unreachable); its own changes come back through
 * it and are skipped by their instance id.
 *
 * Threads: every function is thread-safe. The registry owns the feed. */
#ifndef TRIDENT_SERVICE_EVENTS_H
#define TRIDENT_SERVICE_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

#define SERVICE_EVENTS_RING 512
/* Bytes of an instance id including its NUL. */
#define SERVICE_INSTANCE_SIZE 16

typedef enum {
    SERVICE_CHANGE_CREATED = 0, /* stored: an upload analysed, a live call started */
    SERVICE_CHANGE_TRIAGE,      /* a live call's triage was decided again (after an utterance) */
    SERVICE_CHANGE_CLAIMED,
    SERVICE_CHANGE_RELEASED,
    SERVICE_CHANGE_DISPATCHED,
    SERVICE_CHANGE_RESOLVED,
    SERVICE_CHANGE_CANCELLED,
    SERVICE_CHANGE_DUPLICATE,
    SERVICE_CHANGE_OVERRIDE,
    SERVICE_CHANGE_NOTE,
    SERVICE_CHANGE_ENDED, /* a live call ended (its final state is stored) */
    SERVICE_CHANGE_COUNT
} service_change;

typedef struct service_events service_events;

typedef struct {
    long long published; /* changes made here */
    long long relayed;   /* changes received from other servers */
    long long dropped;   /* changes a reader skipped, more than the ring behind */
    int relay;           /* 1 when the store is shared (a relay runs) */
    int relay_up;        /* 1 while its listener is connected */
} service_events_stats;

/* "created", "triage", "claimed", ... ("unknown" beyond the range). */
const char *service_change_name(service_change c);
/* The change a dispatcher's action makes (claim → claimed, ...). */
service_change service_change_of_action(store_action a);

/* Creates the feed (st may be NULL: no store, nothing relayed) with a fresh
 * random instance id, and starts the relay thread when st is shared. The caller
 * owns *out (service_events_free). */
int service_events_new(store *st, service_events **out, char *err, size_t err_size);
/* Stops the relay (its connection closed) and frees the feed; no reader may be waiting. NULL-safe. */
void service_events_free(service_events *ev);
/* This server's instance id (hex digits). */
const char *service_events_instance(const service_events *ev);

/* Publishes change for c as it is now (state and effective queue from c). */
void service_events_publish(service_events *ev, const store_call *c, service_change change);
/* Publishes change for call id, reading its current state from st first. */
void service_events_publish_id(service_events *ev, store *st, const char *id, service_change change);

/* Readers. The cursor of a new reader: only changes published after this call
 * reach it. */
uint64_t service_events_cursor(service_events *ev);
/* Waits up to timeout_ms for the change after *cursor: 1 with *out (a malloc'ed
 * JSON line without a newline, the caller frees it; *cursor advanced), 0 when
 * none came, -1 once service_events_close was called. */
int service_events_next(service_events *ev, uint64_t *cursor, int timeout_ms, char **out);
/* Wakes every reader and makes every later wait return -1 (the server is
 * stopping). Publishing goes on (other servers still hear of changes). */
void service_events_close(service_events *ev);

void service_events_stats_get(service_events *ev, service_events_stats *out);

#endif
