/* dispatch.c — the dispatch floor's routes: GET /api/queue (the open queue in
 * order, overdue flags), POST /api/queue/next (claim the most urgent waiting
 * call) and POST /api/calls/{id}/{claim|release|dispatch|resolve|cancel|duplicate|override|notes}.
 * Who acts is the token's name (auth.c; the router checked the role). The
 * lifecycle rules and the atomic claim live in the store (store.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "server/internal.h"
#include "triage/triage.h"

/* Largest JSON body a lifecycle route reads. */
#define DISPATCH_BODY_MAX (16 * 1024)
/* ---- JSON ----------------------------------------------------------------- */

/* A queue that is overdue: waiting longer than --overdue-s in Q2 or Q3. */
static int call_overdue(const server *srv, const store_call *c, double now) {
    const char *q = store_call_effective_queue(c);
    return c->dispatch_state == STORE_DISPATCH_WAITING && q && (strncmp(q, "Q2", 2) == 0 || strncmp(q, "Q3", 2) == 0) &&
           now - c->waiting_since > srv->cfg.overdue_s;
}

json_t *dispatch_call_json(const server *srv, const store_call *c) {
    json_t *o = store_call_to_json(c);
    json_t *d = o ? json_object_get(o, "dispatch") : NULL;
    if (!d || json_object_set_new(d, "overdue", json_boolean(call_overdue(srv, c, clock_wall_s()))) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

/* {"id", "dispatch"} of c. */
static json_t *dispatch_state_json(const server *srv, const store_call *c) {
    json_t *d = store_dispatch_to_json(c);
    if (!d || json_object_set_new(d, "overdue", json_boolean(call_overdue(srv, c, clock_wall_s()))) != 0) {
        json_decref(d);
        return NULL;
    }
    return json_pack("{s:s, s:o}", "id", c->id, "dispatch", d);
}

/* ---- routes --------------------------------------------------------------- */

static int store_missing(struct mg_connection *conn, server *srv) {
    return http_send_error(conn, srv, 503, NULL, "no call store is configured (--db)");
}

int route_queue(struct mg_connection *conn, server *srv) {
    if (!srv->reg->store) return store_missing(conn, srv);
    const char *qs = mg_get_request_info(conn)->query_string;
    long long limit = STORE_LIST_DEFAULT;
    if (http_query_int(qs, "limit", STORE_LIST_MAX, &limit) < 0)
        return http_send_error(conn, srv, 400, NULL, "limit must be an integer between 0 and %d", STORE_LIST_MAX);
    /* held_by=NAME: the calls NAME holds (claimed or dispatched) instead of the open queue */
    char holder[STORE_ACTOR_MAX + 1];
    int held = http_query_text(qs, "held_by", holder, sizeof holder);
    if (held < 0 || (held == 0 && !*holder))
        return http_send_error(conn, srv, 400, NULL, "held_by must name a dispatcher (1 to %d bytes)", STORE_ACTOR_MAX);
    store_page page;
    char err[TRIDENT_ERR_SIZE];
    int rc = held == 0 ? store_held_list(srv->reg->store, holder, limit, &page, err, sizeof err)
                       : store_queue_list(srv->reg->store, limit, &page, err, sizeof err);
    if (rc) return http_send_error(conn, srv, 500, NULL, "%s", err);
    json_t *arr = json_array();
    long long overdue = 0;
    double now = clock_wall_s();
    for (size_t i = 0; arr && i < page.count; i++) {
        json_t *c = dispatch_call_json(srv, &page.items[i]);
        overdue += call_overdue(srv, &page.items[i], now);
        if (!c || json_array_append_new(arr, c) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    json_t *o = arr ? json_pack("{s:o, s:I, s:I, s:f}", "calls", arr, "total", (json_int_t)page.total, "overdue",
                                (json_int_t)overdue, "overdue_after_s", srv->cfg.overdue_s)
                    : NULL;
    store_page_clear(&page);
    if (!o) return http_send_error(conn, srv, 500, NULL, "out of memory listing the queue");
    return http_send_json(conn, srv, 200, o, NULL);
}

int route_queue_next(struct mg_connection *conn, server *srv, const access_identity *who) {
    if (!srv->reg->store) return store_missing(conn, srv);
    store_call *c = NULL;
    char err[TRIDENT_ERR_SIZE];
    int rc = store_queue_next(srv->reg->store, who->name, &c, err, sizeof err);
    if (rc == TRIDENT_ENOTFOUND) return http_send_bytes(conn, srv, 204, NULL, NULL, 0, NULL);
    if (rc) return http_send_error(conn, srv, rc == TRIDENT_EBUSY ? 503 : 500, NULL, "%s", err);
    log_info("dispatch", "claimed call=%s by=%s", c->id, who->name);
    service_events_publish(srv->reg->events, c, SERVICE_CHANGE_CLAIMED);
    json_t *o = dispatch_call_json(srv, c);
    store_call_free(c);
    if (!o) return http_send_error(conn, srv, 500, NULL, "out of memory");
    return http_send_json(conn, srv, 200, o, NULL);
}

/* A string member (absent or null → NULL); *bad set when present but not a string. */
static const char *member_text(json_t *o, const char *key, int *bad) {
    json_t *v = o ? json_object_get(o, key) : NULL;
    if (!v || json_is_null(v)) return NULL;
    if (!json_is_string(v)) {
        *bad = 1;
        return NULL;
    }
    return json_string_value(v);
}

/* The triage queue named q (exactly), or 0. */
static int queue_known(const char *q) {
    for (int i = TRIAGE_Q1_IMMEDIATE; q && i <= TRIAGE_Q5_REVIEW; i++)
        if (strcmp(q, triage_queue_name((triage_queue)i)) == 0) return 1;
    return 0;
}

int dispatch_action_parse(const char *name) {
    if (name && strcmp(name, "notes") == 0) return STORE_ACTION_NOTE;
    if (name && strcmp(name, "note") == 0) return STORE_ACTION_COUNT; /* the route is /notes */
    return (int)store_action_parse(name);
}

int route_call_action(struct mg_connection *conn, server *srv, const char *id, const char *action_name,
                      const access_identity *who) {
    if (!srv->reg->store) return store_missing(conn, srv);
    store_dispatch_request req = {.action = (store_action)dispatch_action_parse(action_name), .actor = who->name};
    if (req.action == STORE_ACTION_OVERRIDE && !access_role_allows(who->role, ACCESS_OVERRIDE)) {
        metrics_auth_record(&srv->metrics, 403);
        return http_send_error(conn, srv, 403, NULL, "%s is a %s: only a supervisor may override a call's queue",
                               who->name, access_role_name(who->role));
    }
    json_t *body = NULL;
    int status = http_body_json(conn, srv, DISPATCH_BODY_MAX, &body);
    if (status) return status;
    int bad = 0;
    req.note = member_text(body, req.action == STORE_ACTION_OVERRIDE ? "reason" : "note", &bad);
    req.of = member_text(body, "of", &bad);
    req.queue = member_text(body, "queue", &bad);
    char err[TRIDENT_ERR_SIZE];
    int rc = TRIDENT_OK;
    if (bad) rc = error_set(err, sizeof err, TRIDENT_EINVAL, "note, reason, of and queue must be strings");
    else if (req.action == STORE_ACTION_OVERRIDE && (!req.note || !req.note[0]))
        rc = error_set(err, sizeof err, TRIDENT_EINVAL, "override needs a non-empty \"reason\"");
    else if (req.action == STORE_ACTION_OVERRIDE && !queue_known(req.queue))
        rc = error_set(err, sizeof err, TRIDENT_EINVAL, "override needs \"queue\": Q1-IMMEDIATE, Q2-ELEVATED, "
                                                        "Q3-MONITOR, Q5-REVIEW or Q5-ROUTINE");
    else if (req.action == STORE_ACTION_DUPLICATE && !req.of)
        rc = error_set(err, sizeof err, TRIDENT_EINVAL, "duplicate needs \"of\": the id of the original call");
    store_call *c = NULL;
    if (!rc) rc = store_call_dispatch(srv->reg->store, id, &req, &c, err, sizeof err);
    json_decref(body);
    if (rc == TRIDENT_ECONFLICT) {
        json_t *cur = c ? dispatch_state_json(srv, c) : NULL;
        store_call_free(c);
        json_t *o = cur ? json_pack("{s:s, s:O}", "detail", err, "dispatch", json_object_get(cur, "dispatch")) : NULL;
        json_decref(cur);
        if (!o) return http_send_error(conn, srv, 409, NULL, "%s", err);
        return http_send_json(conn, srv, 409, o, NULL);
    }
    if (rc == TRIDENT_ENOTFOUND) return http_send_error(conn, srv, 404, NULL, "%s", err);
    if (rc) return http_send_error(conn, srv, rc == TRIDENT_EINVAL ? 400 : rc == TRIDENT_EBUSY ? 503 : 500, NULL, "%s", err);
    log_info("dispatch", "%s call=%s by=%s", store_action_name(req.action), c->id, who->name);
    service_events_publish(srv->reg->events, c, service_change_of_action(req.action));
    json_t *o = dispatch_state_json(srv, c);
    store_call_free(c);
    if (!o) return http_send_error(conn, srv, 500, NULL, "out of memory");
    return http_send_json(conn, srv, 200, o, NULL);
}
