/* dispatch.c — the dispatch floor's routes: dispatcher identities (--dispatchers
 * FILE, bearer tokens), GET /api/queue (the open queue in order, overdue
 * flags), POST /api/queue/next (claim the most urgent waiting call) and
 * POST /api/calls/{id}/{claim|release|dispatch|resolve|cancel|duplicate|override|notes}.
 * The lifecycle rules and the atomic claim live in the store (store.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "server/internal.h"
#include "triage/triage.h"

/* Largest JSON body a lifecycle route reads. */
#define DISPATCH_BODY_MAX (16 * 1024)
/* Longest token in the dispatchers file. */
#define DISPATCH_TOKEN_MAX 256

/* ---- the dispatchers file ------------------------------------------------- */

void dispatchers_free(server_dispatcher *d, size_t count) {
    for (size_t i = 0; d && i < count; i++) {
        free(d[i].token);
        free(d[i].name);
    }
    free(d);
}

/* Parses one "token<TAB>name<TAB>role" line (modified in place) into *out. */
static int dispatcher_line(char *line, int lineno, const char *path, server_dispatcher *out, char *err, size_t n) {
    char *tab1 = strchr(line, '\t');
    char *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
    if (!tab1 || !tab2 || strchr(tab2 + 1, '\t'))
        return error_set(err, n, TRIDENT_EFORMAT, "%s line %d: expected token<TAB>name<TAB>role", path, lineno);
    *tab1 = *tab2 = '\0';
    const char *token = line, *name = tab1 + 1, *role = tab2 + 1;
    size_t tlen = strlen(token);
    if (tlen < 16 || tlen > DISPATCH_TOKEN_MAX)
        return error_set(err, n, TRIDENT_EFORMAT, "%s line %d: a token is 16..%d characters", path, lineno,
                         DISPATCH_TOKEN_MAX);
    for (size_t i = 0; i < tlen; i++)
        if ((unsigned char)token[i] <= 0x20 || (unsigned char)token[i] >= 0x7f)
            return error_set(err, n, TRIDENT_EFORMAT, "%s line %d: a token is printable ASCII without spaces", path,
                             lineno);
    if (!name[0] || strlen(name) > STORE_ACTOR_MAX)
        return error_set(err, n, TRIDENT_EFORMAT, "%s line %d: a name is 1..%d bytes", path, lineno, STORE_ACTOR_MAX);
    if (strcmp(role, "dispatcher") == 0) out->can_dispatch = 1;
    else if (strcmp(role, "viewer") == 0) out->can_dispatch = 0;
    else return error_set(err, n, TRIDENT_EFORMAT, "%s line %d: role must be dispatcher or viewer", path, lineno);
    out->token = strdup(token);
    out->name = strdup(name);
    if (!out->token || !out->name) return error_set(err, n, TRIDENT_ENOMEM, "out of memory reading %s", path);
    return TRIDENT_OK;
}

int dispatchers_load(const char *path, server_dispatcher **out, size_t *count, char *err, size_t n) {
    *out = NULL;
    *count = 0;
    char *text = NULL;
    size_t size = 0;
    int rc = file_read_all(path, 1 << 20, &text, &size, err, n);
    if (rc) return rc;
    server_dispatcher *d = NULL;
    size_t used = 0;
    int lineno = 0;
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); !rc && line; line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        size_t len = strlen(line);
        if (len && line[len - 1] == '\r') line[--len] = '\0';
        if (!len || line[0] == '#') continue;
        server_dispatcher *nd = realloc(d, (used + 1) * sizeof *nd);
        if (!nd) {
            rc = error_set(err, n, TRIDENT_ENOMEM, "out of memory reading %s", path);
            break;
        }
        d = nd;
        memset(&d[used], 0, sizeof d[used]);
        rc = dispatcher_line(line, lineno, path, &d[used], err, n);
        used++;
        for (size_t i = 0; !rc && i + 1 < used; i++)
            if (strcmp(d[i].token, d[used - 1].token) == 0)
                rc = error_set(err, n, TRIDENT_EFORMAT, "%s line %d: the token of an earlier line again", path, lineno);
    }
    free(text);
    if (!rc && used == 0) rc = error_set(err, n, TRIDENT_EFORMAT, "%s lists no dispatcher", path);
    if (rc) {
        dispatchers_free(d, used);
        return rc;
    }
    *out = d;
    *count = used;
    return TRIDENT_OK;
}

/* Compares without an early exit on the first differing byte. */
static int token_equal(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = la != lb;
    for (size_t i = 0; i < la && i < lb; i++) diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

/* The dispatcher allowed to change calls, or NULL after answering 401/403 (*status set). */
static const server_dispatcher *dispatcher_require(struct mg_connection *conn, server *srv, int *status) {
    if (srv->n_dispatchers == 0) {
        *status = http_send_error(conn, srv, 403, NULL,
                                  "dispatch is disabled: configure dispatchers with --dispatchers FILE "
                                  "(TRIDENT_DISPATCHERS; lines token<TAB>name<TAB>role)");
        return NULL;
    }
    const char *auth = mg_get_header(conn, "Authorization");
    const char *challenge = "WWW-Authenticate: Bearer realm=\"trident\"\r\n";
    if (!auth || strncmp(auth, "Bearer ", 7) != 0 || !auth[7]) {
        *status = http_send_error(conn, srv, 401, challenge, "an Authorization: Bearer TOKEN header is required");
        return NULL;
    }
    const server_dispatcher *found = NULL;
    for (size_t i = 0; i < srv->n_dispatchers; i++)
        if (token_equal(auth + 7, srv->dispatchers[i].token)) found = &srv->dispatchers[i];
    if (!found) {
        *status = http_send_error(conn, srv, 401, challenge, "unknown token");
        return NULL;
    }
    if (!found->can_dispatch) {
        *status = http_send_error(conn, srv, 403, NULL, "%s is a viewer and cannot change calls", found->name);
        return NULL;
    }
    return found;
}

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
    store_page page;
    char err[TRIDENT_ERR_SIZE];
    int rc = store_queue_list(srv->reg->store, limit, &page, err, sizeof err);
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

int route_queue_next(struct mg_connection *conn, server *srv) {
    if (!srv->reg->store) return store_missing(conn, srv);
    int status = 0;
    const server_dispatcher *who = dispatcher_require(conn, srv, &status);
    if (!who) return status;
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

/* Reads a JSON object body (empty → NULL *out, allowed). Returns 0 or the status sent. */
static int body_json(struct mg_connection *conn, server *srv, json_t **out) {
    *out = NULL;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    if (ri->content_length > DISPATCH_BODY_MAX)
        return http_send_error(conn, srv, 413, "Connection: close\r\n", "the body is larger than %d bytes",
                               DISPATCH_BODY_MAX);
    char *buf = malloc(DISPATCH_BODY_MAX + 1);
    if (!buf) return http_send_error(conn, srv, 503, "Retry-After: 5\r\n", "out of memory");
    size_t size = 0;
    for (;;) {
        int r = mg_read(conn, buf + size, DISPATCH_BODY_MAX + 1 - size);
        if (r <= 0) break;
        size += (size_t)r;
        if (size > DISPATCH_BODY_MAX) {
            free(buf);
            return http_send_error(conn, srv, 413, "Connection: close\r\n", "the body is larger than %d bytes",
                                   DISPATCH_BODY_MAX);
        }
    }
    if (ri->content_length > 0 && size < (size_t)ri->content_length) {
        free(buf);
        return http_send_error(conn, srv, 400, "Connection: close\r\n", "the body ended before its Content-Length");
    }
    if (size == 0) {
        free(buf);
        return 0;
    }
    char err[TRIDENT_ERR_SIZE];
    int rc = json_input_parse(buf, size, out, err, sizeof err);
    free(buf);
    if (rc) return http_send_error(conn, srv, 400, NULL, "%s", err);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return http_send_error(conn, srv, 400, NULL, "the body must be a JSON object");
    }
    return 0;
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

int route_call_action(struct mg_connection *conn, server *srv, const char *id, const char *action_name) {
    if (!srv->reg->store) return store_missing(conn, srv);
    int status = 0;
    const server_dispatcher *who = dispatcher_require(conn, srv, &status);
    if (!who) return status;
    json_t *body = NULL;
    if ((status = body_json(conn, srv, &body)) != 0) return status;
    store_dispatch_request req = {.action = (store_action)dispatch_action_parse(action_name), .actor = who->name};
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
