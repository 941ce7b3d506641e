/* routes.c — the read-only routes: API info, health, readiness, metrics, stored calls (a call with its dispatch
 * state and history; opening one, or its recording, is written to the audit log first). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/json.h"
#include "base/log.h"
#include "server/internal.h"

/* The routes GET / lists (docs/openapi.json describes them in full). */
static const char *const route_endpoints[] = {
    "GET /health", "GET /ready", "GET /metrics", "GET /openapi.json", "POST /v1/audio/transcriptions",
    "POST /v1/audio/translations", "GET /v1/models", "GET /v1/models/{id}", "POST /api/analyze", "GET /api/calls",
    "GET /api/calls/{id}", "GET /api/calls/{id}/audio", "GET /api/live-calls", "GET /api/live-calls/{id}",
    "WS /ws/live", "GET /api/queue", "POST /api/queue/next",
    "POST /api/calls/{id}/{claim|release|dispatch|resolve|cancel|duplicate|override|notes}", "GET /api/events",
    "GET|POST|DELETE /api/session", "GET /api/audit", "GET /api/tokens", "GET /"};

int route_root(struct mg_connection *conn, server *srv) {
    json_t *endpoints = json_array();
    for (size_t i = 0; endpoints && i < sizeof route_endpoints / sizeof route_endpoints[0]; i++)
        if (json_array_append_new(endpoints, json_string(route_endpoints[i])) != 0) {
            json_decref(endpoints);
            endpoints = NULL;
        }
    json_t *o = endpoints ? json_pack("{s:s, s:s, s:s, s:o}", "name", "TRIDENT emergency-call triage API", "version",
                                      TRIDENT_VERSION, "docs", "GET /openapi.json (OpenAPI 3); README.md, section API",
                                      "endpoints", endpoints)
                          : NULL;
    return http_send_json(conn, srv, 200, o, NULL);
}

int route_health(struct mg_connection *conn, server *srv) {
    service_registry *reg = srv->reg;
    asr_status as;
    asr_service_status(reg->asr, &as);
    json_t *model = json_pack("{s:s, s:o, s:o, s:f, s:o, s:i, s:i}", "state", asr_state_name(as.state), "name",
                              json_text_or_null(as.name), "lora", json_text_or_null(as.lora), "load_ms", as.load_ms, "error",
                              json_text_or_null(as.error), "loads_started", as.loads_started, "loads_succeeded",
                              as.loads_succeeded);
    json_t *db;
    long long total = 0, live_saved = 0, in_progress = 0, interrupted = 0;
    if (reg->store) {
        store_info info;
        store_info_get(reg->store, &info);
        store_counts sc;
        char err[TRIDENT_ERR_SIZE];
        int rc = store_counts_get(reg->store, &sc, err, sizeof err);
        if (rc == 0) {
            total = sc.total_calls;
            live_saved = sc.live_calls_saved;
            in_progress = sc.in_progress;
            interrupted = sc.interrupted;
        }
        /* a SQLite file by its name only: the server's directories are nobody's business */
        const char *slash = strcmp(info.backend, "sqlite") == 0 ? strrchr(info.location, '/') : NULL;
        db = json_pack("{s:s, s:s, s:s, s:i, s:o}", "status", rc == 0 ? "connected" : "error", "backend", info.backend,
                       "location", slash ? slash + 1 : info.location, "schema_version", info.schema_version, "error",
                       rc == 0 ? json_null() : json_string(err));
        if (db) {
            json_object_set_new(db, "calls_in_progress", json_integer(in_progress));
            json_object_set_new(db, "calls_interrupted", json_integer(interrupted));
        }
    } else {
        db = json_pack("{s:s}", "status", "none");
    }
    pthread_mutex_lock(&reg->live_lock);
    int live = reg->live_active;
    pthread_mutex_unlock(&reg->live_lock);
    const char *status = as.state == ASR_STATE_LOADED ? "healthy" : as.state == ASR_STATE_LOADING ? "loading" : "degraded";
    json_t *o = json_pack("{s:s, s:o, s:b, s:o, s:I, s:I, s:i, s:f, s:s}", "status", status, "model", model,
                          "model_loaded", as.state == ASR_STATE_LOADED, "database", db, "total_calls", (json_int_t)total,
                          "live_calls_saved", (json_int_t)live_saved, "live_sessions", live, "uptime_s",
                          service_registry_uptime_s(reg), "version", TRIDENT_VERSION);
    return http_send_json(conn, srv, 200, o, NULL);
}

int route_ready(struct mg_connection *conn, server *srv) {
    asr_status as;
    asr_service_status(srv->reg->asr, &as);
    int ok = as.state == ASR_STATE_LOADED;
    json_t *o = json_pack("{s:b, s:s}", "ready", ok, "model_state", asr_state_name(as.state));
    return http_send_json(conn, srv, ok ? 200 : 503, o, ok ? NULL : "Retry-After: 1\r\n");
}

int route_metrics(struct mg_connection *conn, server *srv) {
    char *text = metrics_render(srv);
    if (!text) return http_send_error(conn, srv, 500, NULL, "out of memory rendering metrics");
    int rc = http_send_bytes(conn, srv, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text), NULL);
    free(text);
    return rc;
}

int http_query_int(const char *qs, const char *name, long long max, long long *out) {
    if (!qs) return 1;
    char buf[32];
    int n = mg_get_var(qs, strlen(qs), name, buf, sizeof buf);
    if (n == -1) return 1;
    if (n < 0 || n == 0) return -1;
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno || *end || v < 0 || v > max) return -1;
    *out = v;
    return 0;
}

int http_query_text(const char *qs, const char *name, char *out, size_t size) {
    size_t nlen = strlen(name);
    for (const char *p = qs; p && *p;) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            size_t vlen = len - nlen - 1;
            if (vlen >= size) return -1; /* decoding never lengthens: too long */
            int n = mg_url_decode(p + nlen + 1, (int)vlen, out, (int)size, 0); /* 0: '+' stays a plus */
            if (n < 0 || strlen(out) != (size_t)n) return -1; /* an encoded NUL */
            return 0;
        }
        p = end ? end + 1 : NULL;
    }
    return 1;
}

static int store_missing(struct mg_connection *conn, server *srv) {
    return http_send_error(conn, srv, 503, NULL, "no call store is configured (--db)");
}

int route_calls(struct mg_connection *conn, server *srv, int live_only) {
    if (!srv->reg->store) return store_missing(conn, srv);
    const char *qs = mg_get_request_info(conn)->query_string;
    long long limit = STORE_LIST_DEFAULT, offset = 0;
    if (http_query_int(qs, "limit", STORE_LIST_MAX, &limit) < 0)
        return http_send_error(conn, srv, 400, NULL, "limit must be an integer between 0 and %d", STORE_LIST_MAX);
    if (http_query_int(qs, "offset", LLONG_MAX / 2, &offset) < 0)
        return http_send_error(conn, srv, 400, NULL, "offset must be a non-negative integer");
    char queue[64] = "", status_s[32] = "", kind_s[32] = "";
    store_filter f = {STORE_KIND_ANY, STORE_STATUS_ANY, NULL, limit, offset};
    if (qs) {
        int n = mg_get_var(qs, strlen(qs), "queue", queue, sizeof queue);
        if (n < -1) return http_send_error(conn, srv, 400, NULL, "queue is too long");
        if (n > 0) f.queue = queue;
        n = mg_get_var(qs, strlen(qs), "status", status_s, sizeof status_s);
        if (n > 0) {
            f.status = store_status_parse(status_s);
            if (f.status == STORE_STATUS_ANY)
                return http_send_error(conn, srv, 400, NULL,
                                       "status must be in_progress, completed, failed or interrupted");
        } else if (n < -1) {
            return http_send_error(conn, srv, 400, NULL, "status is too long");
        }
        n = mg_get_var(qs, strlen(qs), "kind", kind_s, sizeof kind_s);
        if (n > 0 && !live_only) {
            f.kind = store_kind_parse(kind_s);
            if (f.kind == STORE_KIND_ANY) return http_send_error(conn, srv, 400, NULL, "kind must be upload or live");
        } else if (n < -1) {
            return http_send_error(conn, srv, 400, NULL, "kind is too long");
        }
    }
    if (live_only) f.kind = STORE_KIND_LIVE;
    store_page page;
    char err[TRIDENT_ERR_SIZE];
    int rc = store_call_list(srv->reg->store, &f, &page, err, sizeof err);
    if (rc != 0) return http_send_error(conn, srv, rc == TRIDENT_EINVAL ? 400 : 500, NULL, "%s", err);
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < page.count; i++) {
        json_t *c = store_call_to_json(&page.items[i]);
        if (!c || json_array_append_new(arr, c) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    json_t *o = arr ? json_pack("{s:o, s:I, s:I, s:I}", "calls", arr, "total", (json_int_t)page.total, "limit",
                                (json_int_t)limit, "offset", (json_int_t)offset)
                    : NULL;
    store_page_clear(&page);
    if (!o) return http_send_error(conn, srv, 500, NULL, "out of memory listing calls");
    return http_send_json(conn, srv, 200, o, NULL);
}

int route_call(struct mg_connection *conn, server *srv, const char *id, int live_only, const access_identity *who) {
    if (!srv->reg->store) return store_missing(conn, srv);
    store_call *c = NULL;
    char err[TRIDENT_ERR_SIZE];
    int rc = store_call_get(srv->reg->store, id, &c, err, sizeof err);
    if (rc == TRIDENT_ENOTFOUND || (rc == 0 && live_only && c->kind != STORE_KIND_LIVE)) {
        store_call_free(c);
        return http_send_error(conn, srv, 404, NULL, live_only ? "Live call not found" : "Call not found");
    }
    if (rc != 0) return http_send_error(conn, srv, 500, NULL, "%s", err);
    int status = auth_audit(conn, srv, who, "call", c->id);
    if (status) {
        store_call_free(c);
        return status;
    }
    json_t *o = dispatch_call_json(srv, c);
    store_history_entry *h = NULL;
    size_t hn = 0;
    rc = store_call_history(srv->reg->store, c->id, &h, &hn, err, sizeof err);
    store_call_free(c);
    if (rc != 0) {
        json_decref(o);
        return http_send_error(conn, srv, 500, NULL, "%s", err);
    }
    json_t *hj = store_history_to_json(h, hn);
    store_history_free(h, hn);
    if (!o || !hj || json_object_set_new(o, "history", hj) != 0) {
        json_decref(o);
        return http_send_error(conn, srv, 500, NULL, "out of memory");
    }
    return http_send_json(conn, srv, 200, o, NULL);
}

int route_call_audio(struct mg_connection *conn, server *srv, const char *id, const access_identity *who) {
    if (!srv->reg->store) return store_missing(conn, srv);
    char path[4096], err[TRIDENT_ERR_SIZE];
    int rc = store_call_audio_file(srv->reg->store, id, path, sizeof path, err, sizeof err);
    if (rc == TRIDENT_ENOTFOUND) return http_send_error(conn, srv, 404, NULL, "No recording for this call");
    if (rc != 0) return http_send_error(conn, srv, 500, NULL, "%s", err);
    /* the id is a valid UUID now (store_call_audio_file checked it) */
    int status = auth_audit(conn, srv, who, "recording", id);
    if (status) return status;
    char cors[512], hdr[1024];
    http_cors_header(conn, srv, cors, sizeof cors);
    /* civetweb adds Cache-Control: no-store (static_file_cache_control); the last header has no CRLF */
    snprintf(hdr, sizeof hdr, "%s" HTTP_SECURITY_HEADERS "Content-Disposition: inline; filename=\"%s.wav\"", cors, id);
    mg_send_mime_file2(conn, path, "audio/wav", hdr);
    return 200;
}
