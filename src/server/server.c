/* server.c — civetweb start/stop, request framing checks, the request router
 * (with each route's permission), CORS preflight, the dashboard's web root. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/log.h"
#include "server/internal.h"

void server_config_default(server_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->host = "127.0.0.1";
    cfg->port = 8000;
    cfg->http_threads = 0;
    cfg->max_live_calls = 16;
    cfg->max_event_streams = 16;
    cfg->max_client_connections = 16;
    cfg->max_upload_bytes = (size_t)50 << 20;
    cfg->max_ws_message_bytes = (size_t)1 << 20;
    cfg->max_header_bytes = (size_t)16 << 10;
    cfg->request_timeout_ms = 10000;
    cfg->overdue_s = 120;
}

/* Splits "/api/calls/{id}[/audio]" style paths. Returns the route and sets *id
 * (a pointer into buf) for routes with an id. */
static server_route route_match(const char *path, char *buf, size_t buf_size, const char **id, const char **action) {
    *id = NULL;
    *action = NULL;
    if (strcmp(path, "/api/queue") == 0) return ROUTE_QUEUE;
    if (strcmp(path, "/api/queue/next") == 0) return ROUTE_QUEUE_NEXT;
    if (strcmp(path, "/api/events") == 0) return ROUTE_EVENTS;
    if (strcmp(path, "/api/session") == 0) return ROUTE_SESSION;
    if (strcmp(path, "/api/audit") == 0) return ROUTE_AUDIT;
    if (strcmp(path, "/api/tokens") == 0) return ROUTE_TOKENS;
    if (strcmp(path, "/") == 0) return ROUTE_ROOT;
    if (strcmp(path, "/health") == 0) return ROUTE_HEALTH;
    if (strcmp(path, "/ready") == 0) return ROUTE_READY;
    if (strcmp(path, "/metrics") == 0) return ROUTE_METRICS;
    if (strcmp(path, "/openapi.json") == 0) return ROUTE_OPENAPI;
    if (strcmp(path, "/api/analyze") == 0) return ROUTE_ANALYZE;
    if (strcmp(path, "/api/calls") == 0) return ROUTE_CALLS;
    if (strcmp(path, "/api/live-calls") == 0) return ROUTE_LIVE_CALLS;
    if (strcmp(path, "/ws/live") == 0) return ROUTE_WS_LIVE;
    if (strncmp(path, "/dashboard", 10) == 0 && (path[10] == '\0' || path[10] == '/')) return ROUTE_DASHBOARD;
    if (strcmp(path, "/v1/audio/transcriptions") == 0) return ROUTE_V1_TRANSCRIPTIONS;
    if (strcmp(path, "/v1/audio/translations") == 0) return ROUTE_V1_TRANSLATIONS;
    if (strcmp(path, "/v1/models") == 0) return ROUTE_V1_MODELS;
    if (strncmp(path, "/v1/models/", 11) == 0 && path[11] && !strchr(path + 11, '/')) return ROUTE_V1_MODEL;
    if (strncmp(path, "/v1/", 4) == 0) return ROUTE_V1_OTHER;
    const char *rest = NULL;
    server_route r = ROUTE_OTHER;
    if (strncmp(path, "/api/calls/", 11) == 0) {
        rest = path + 11;
        r = ROUTE_CALL;
    } else if (strncmp(path, "/api/live-calls/", 16) == 0) {
        rest = path + 16;
        r = ROUTE_LIVE_CALL;
    } else {
        return ROUTE_OTHER;
    }
    if (strlen(rest) >= buf_size) {
        /* Longer than any id: answer 404 without copying it. */
        snprintf(buf, buf_size, "%s", "");
        *id = buf;
        return r;
    }
    snprintf(buf, buf_size, "%s", rest);
    char *slash = r == ROUTE_CALL ? strchr(buf, '/') : NULL;
    if (slash) {
        *slash = '\0';
        *action = slash + 1;
        r = strcmp(*action, "audio") == 0 ? ROUTE_CALL_AUDIO : ROUTE_CALL_ACTION;
    }
    *id = buf;
    return r;
}

static int method_is(const struct mg_request_info *ri, const char *m) { return strcmp(ri->request_method, m) == 0; }

/* What a route needs (ACCESS_PERMISSION_COUNT: nothing — the API's description,
 * health, readiness, the dashboard's files, signing in). */
static access_permission route_permission(server_route route) {
    switch (route) {
    case ROUTE_ANALYZE:
    case ROUTE_V1_TRANSCRIPTIONS: /* a transcription client brings audio, like a telephony bridge */
    case ROUTE_V1_TRANSLATIONS:
    case ROUTE_V1_MODELS:
    case ROUTE_V1_MODEL:
    case ROUTE_V1_OTHER: return ACCESS_INGEST;
    case ROUTE_CALLS:
    case ROUTE_CALL:
    case ROUTE_CALL_AUDIO:
    case ROUTE_LIVE_CALLS:
    case ROUTE_LIVE_CALL:
    case ROUTE_QUEUE:
    case ROUTE_EVENTS: return ACCESS_READ;
    case ROUTE_QUEUE_NEXT:
    case ROUTE_CALL_ACTION: return ACCESS_DISPATCH;
    case ROUTE_METRICS:
    case ROUTE_AUDIT:
    case ROUTE_TOKENS: return ACCESS_ADMIN;
    default: return ACCESS_PERMISSION_COUNT;
    }
}

/* Checks the caller's credential for route (an unknown action is left to the router's 404).
 * Returns 0 (*who filled when the route needs one) or the status sent. */
static int route_check(struct mg_connection *conn, server *srv, server_route route, const char *action,
                       access_identity *who) {
    access_permission p = route_permission(route);
    if (p == ACCESS_PERMISSION_COUNT || (route == ROUTE_CALL_ACTION && dispatch_action_parse(action) == STORE_ACTION_COUNT))
        return 0;
    return auth_require(conn, srv, p, who);
}

static int server_dispatch_work(struct mg_connection *conn, server *srv) {
    const struct mg_request_info *ri = mg_get_request_info(conn);
    double t0 = clock_now_ms();
    const char *path = ri->local_uri_raw ? ri->local_uri_raw : ri->local_uri;
    if (!path) path = "";
    char idbuf[128];
    const char *id = NULL, *action = NULL;
    server_route route = route_match(path, idbuf, sizeof idbuf, &id, &action);
    int is_post = method_is(ri, "POST");
    int status;
    if (method_is(ri, "OPTIONS")) {
        /* a preflight: answered for everyone (browsers send no credentials), allowed only for listed origins */
        status = http_send_bytes(conn, srv, 204, NULL, NULL, 0,
                                 "Access-Control-Allow-Methods: GET, POST, DELETE, OPTIONS\r\n"
                                 "Access-Control-Allow-Headers: Content-Type, Authorization, X-Requested-With\r\n"
                                 "Access-Control-Max-Age: 600\r\n");
    } else {
        int is_get = method_is(ri, "GET") || method_is(ri, "HEAD");
        access_identity who;
        status = route_check(conn, srv, route, action, &who);
        switch (status ? ROUTE_COUNT : route) {
        case ROUTE_COUNT: break; /* refused: the answer is sent */
        case ROUTE_ROOT: status = is_get ? route_root(conn, srv) : -405; break;
        case ROUTE_HEALTH: status = is_get ? route_health(conn, srv) : -405; break;
        case ROUTE_READY: status = is_get ? route_ready(conn, srv) : -405; break;
        case ROUTE_METRICS: status = is_get ? route_metrics(conn, srv) : -405; break;
        case ROUTE_OPENAPI: status = is_get ? route_openapi(conn, srv) : -405; break;
        case ROUTE_ANALYZE: status = is_post ? route_analyze(conn, srv) : -405; break;
        case ROUTE_CALLS: status = is_get ? route_calls(conn, srv, 0) : -405; break;
        case ROUTE_LIVE_CALLS: status = is_get ? route_calls(conn, srv, 1) : -405; break;
        case ROUTE_CALL: status = is_get ? route_call(conn, srv, id, 0, &who) : -405; break;
        case ROUTE_LIVE_CALL: status = is_get ? route_call(conn, srv, id, 1, &who) : -405; break;
        case ROUTE_CALL_AUDIO: status = is_get ? route_call_audio(conn, srv, id, &who) : -405; break;
        case ROUTE_DASHBOARD: status = is_get ? route_static(conn, srv, path) : -405; break;
        case ROUTE_QUEUE: status = is_get ? route_queue(conn, srv) : -405; break;
        case ROUTE_QUEUE_NEXT: status = is_post ? route_queue_next(conn, srv, &who) : -405; break;
        case ROUTE_SESSION: status = route_session(conn, srv); break;
        case ROUTE_AUDIT: status = is_get ? route_audit(conn, srv) : -405; break;
        case ROUTE_TOKENS: status = is_get ? route_tokens(conn, srv) : -405; break;
        case ROUTE_EVENTS: status = is_get ? route_events(conn, srv) : -405; break;
        case ROUTE_CALL_ACTION:
            if (dispatch_action_parse(action) == STORE_ACTION_COUNT)
                status = http_send_error(conn, srv, 404, NULL, "Not Found");
            else status = is_post ? route_call_action(conn, srv, id, action, &who) : -405;
            break;
        case ROUTE_V1_TRANSCRIPTIONS:
        case ROUTE_V1_TRANSLATIONS:
        case ROUTE_V1_MODELS:
        case ROUTE_V1_MODEL:
        case ROUTE_V1_OTHER: status = route_openai(conn, srv, route, path); break;
        case ROUTE_WS_LIVE:
            status = http_send_error(conn, srv, 400, NULL, "/ws/live is a WebSocket endpoint: send an Upgrade request");
            break;
        default: status = http_send_error(conn, srv, 404, NULL, "Not Found"); break;
        }
        if (status == -405) status = http_send_error(conn, srv, 405, NULL, "Method Not Allowed");
    }
    /* an event stream's length is not a latency */
    metrics_request_record(&srv->metrics, route, status, route == ROUTE_EVENTS ? 0 : (clock_now_ms() - t0) / 1000.0);
    return status;
}

typedef struct {
    struct mg_connection *conn;
    server *srv;
    int status;
} dispatch_job;

static void dispatch_run(void *arg) {
    dispatch_job *j = arg;
    j->status = server_dispatch_work(j->conn, j->srv);
}

/* civetweb's request handler: every request is handled off the worker's small
 * stack (stack.c); 503 when no thread can be started. */
static int server_dispatch(struct mg_connection *conn, void *cbdata) {
    dispatch_job j = {conn, cbdata, 0};
    if (server_large_stack_run(dispatch_run, &j) != 0)
        j.status = http_send_error(conn, j.srv, 503, "Retry-After: 5\r\n", "cannot start a request thread; retry later");
    return j.status;
}

/* Before any handler: refuses a connection admission could not shut at accept, and
 * requests whose body framing is ambiguous (request smuggling: civetweb takes the
 * first of two Content-Length headers and lets Transfer-Encoding override
 * Content-Length, so a proxy in front could read another request than we do). */
static int server_begin_request(struct mg_connection *conn) {
    server *srv = mg_get_user_data(mg_get_context(conn));
    const struct mg_request_info *ri = mg_get_request_info(conn);
    if (!srv || !ri) return 0;
    int status = admission_request_check(conn, srv);
    if (status) return status;
    int n_cl = 0, n_te = 0;
    const char *cl = NULL, *te = NULL;
    for (int i = 0; i < ri->num_headers; i++) {
        const char *name = ri->http_headers[i].name;
        if (!name) continue;
        if (strcasecmp(name, "Content-Length") == 0) {
            n_cl++;
            cl = ri->http_headers[i].value;
        } else if (strcasecmp(name, "Transfer-Encoding") == 0) {
            n_te++;
            te = ri->http_headers[i].value;
        }
    }
    const char *why = NULL;
    if (n_cl > 1) why = "more than one Content-Length header";
    else if (n_te > 1) why = "more than one Transfer-Encoding header";
    else if (n_cl && n_te) why = "both Content-Length and Transfer-Encoding";
    else if (n_cl && (!cl || !cl[0] || strspn(cl, "0123456789") != strlen(cl) || strlen(cl) > 18))
        why = "a Content-Length that is not a decimal number";
    else if (n_te && (!te || strcasecmp(te, "chunked") != 0)) why = "a Transfer-Encoding other than chunked";
    if (!why) return 0;
    mg_disable_connection_keep_alive(conn);
    status = http_send_error(conn, srv, 400, "Connection: close\r\n",
                             "request refused: %s makes the body's length ambiguous", why);
    metrics_request_record(&srv->metrics, ROUTE_OTHER, status, 0);
    return status;
}

static int server_log_message(const struct mg_connection *conn, const char *message) {
    (void)conn;
    log_warn("server", "civetweb: %s", message);
    return 1;
}

/* civetweb's own errors (malformed or oversized request line/headers, ...) as JSON {"detail"}. */
static int server_http_error(struct mg_connection *conn, int status, const char *msg) {
    server *srv = mg_get_user_data(mg_get_context(conn));
    if (!srv) return 1; /* let civetweb answer */
    if (status == 400 || status == 413 || status == 431)
        http_send_error(conn, srv, status, "Connection: close\r\n",
                        "%s: the request line or headers are malformed or larger than the limit of %zu bytes "
                        "(--max-header-kb)",
                        msg && *msg ? msg : "Bad Request", srv->cfg.max_header_bytes);
    else
        http_send_error(conn, srv, status, NULL, "%s", msg && *msg ? msg : mg_get_response_code_text(conn, status));
    return 0;
}

int server_start(service_registry *reg, const server_config *cfg, server **out, char *err, size_t err_size) {
    *out = NULL;
    server *srv = calloc(1, sizeof *srv);
    if (!srv) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory creating the server");
    srv->reg = reg;
    srv->cfg = *cfg;
    if (srv->cfg.max_live_calls <= 0) srv->cfg.max_live_calls = 16;
    if (srv->cfg.max_client_connections <= 0) srv->cfg.max_client_connections = 16;
    if (srv->cfg.max_event_streams <= 0) srv->cfg.max_event_streams = 16;
    int held = srv->cfg.max_live_calls + srv->cfg.max_event_streams + srv->cfg.max_client_connections;
    int n_threads = cfg->http_threads > 0 ? cfg->http_threads : held + SERVER_THREAD_RESERVE;
    if (n_threads <= held) {
        int rc = error_set(err, err_size, TRIDENT_EINVAL,
                           "--http-threads %d is too few: one client may hold %d live calls (--max-live-calls) + %d "
                           "event streams (--max-event-streams) + %d connections (--max-client-connections), so at "
                           "least %d are needed for /health to answer",
                           n_threads, srv->cfg.max_live_calls, srv->cfg.max_event_streams,
                           srv->cfg.max_client_connections, held + 1);
        free(srv);
        return rc;
    }
    int arc = auth_init(srv, err, err_size);
    if (arc) {
        auth_clear(srv);
        free(srv);
        return arc;
    }
    if (!(srv->cfg.overdue_s > 0)) srv->cfg.overdue_s = 120;
    int tls = (cfg->tls_cert && *cfg->tls_cert) || (cfg->tls_key && *cfg->tls_key);
    if (tls) {
        int rc = tls_files_check(cfg->tls_cert, cfg->tls_key, err, err_size);
        if (rc) {
            auth_clear(srv);
            free(srv);
            return rc;
        }
    }
    metrics_init(&srv->metrics);
    admission_init(srv);
    if (static_root_resolve(cfg->web_root, srv->web_root, sizeof srv->web_root, srv->web_root_error,
                            sizeof srv->web_root_error) != 0) {
        srv->web_root[0] = '\0';
        log_warn("server", "dashboard unavailable: %s (--web-root)", srv->web_root_error);
    }
    char ports[300], threads[16], header[32], timeout[32];
    const char *host = cfg->host && *cfg->host ? cfg->host : "127.0.0.1";
    /* with TLS the one port speaks HTTPS and WSS only ('s'); plain HTTP to it fails its handshake */
    if (strchr(host, ':')) snprintf(ports, sizeof ports, "[%s]:%d%s", host, cfg->port, tls ? "s" : "");
    else snprintf(ports, sizeof ports, "%s:%d%s", host, cfg->port, tls ? "s" : "");
    snprintf(threads, sizeof threads, "%d", n_threads);
    snprintf(header, sizeof header, "%zu", cfg->max_header_bytes ? cfg->max_header_bytes : (size_t)16384);
    snprintf(timeout, sizeof timeout, "%d", cfg->request_timeout_ms > 0 ? cfg->request_timeout_ms : 10000);
    const char *options[] = {"listening_ports", ports, "num_threads", threads, "max_request_size", header,
                             "request_timeout_ms", timeout, "keep_alive_timeout_ms", "500",
                             /* a silent WebSocket is pinged every 5 s and closed after 6 unanswered pings;
                              * the client's pings are answered with pongs (RFC 6455 5.5.2) */
                             "websocket_timeout_ms", "5000", "enable_websocket_ping_pong", "yes",
                             "enable_keep_alive", "yes",
                             /* no CORS header from civetweb itself: http.c answers listed origins only */
                             "access_control_allow_origin", "",
                             /* recordings (mg_send_mime_file2) are not kept by browsers or proxies */
                             "static_file_cache_control", "no-store",
                             /* TLS 1.2 and later (read only when the port is 's') */
                             "ssl_protocol_version", "4", NULL};
    mg_init_library(MG_FEATURES_WEBSOCKET | (tls ? MG_FEATURES_TLS : 0));
    struct mg_callbacks cb;
    memset(&cb, 0, sizeof cb);
    cb.log_message = server_log_message;
    cb.http_error = server_http_error;
    cb.init_connection = admission_connection_open;
    cb.connection_close = admission_connection_close;
    cb.connection_closed = admission_connection_closed;
    cb.begin_request = server_begin_request;
    if (tls) cb.init_ssl = tls_context_init;
    srv->ctx = mg_start(&cb, srv, options);
    if (!srv->ctx) {
        admission_destroy(srv);
        metrics_destroy(&srv->metrics);
        auth_clear(srv);
        free(srv);
        if (tls)
            return error_set(err, err_size, TRIDENT_EIO,
                             "cannot listen with TLS on %s (address in use or not available, or civetweb could not "
                             "load OpenSSL's libssl.so: install libssl-dev; the log has civetweb's reason)",
                             ports);
        return error_set(err, err_size, TRIDENT_EIO, "cannot listen on %s (address in use or not available)", ports);
    }
    struct mg_server_port sp[4];
    int np = mg_get_server_ports(srv->ctx, 4, sp);
    pthread_mutex_lock(&srv->admit_lock); /* admission's scans read the port */
    srv->port = np > 0 ? sp[0].port : cfg->port;
    pthread_mutex_unlock(&srv->admit_lock);
    mg_set_request_handler(srv->ctx, "/", server_dispatch, srv);
    ws_routes_register(srv);
    int grc = admission_guard_start(srv);
    if (grc != 0) log_warn("server", "the WebSocket frame guard did not start (%s): frames are bounded only at 2 GB",
                           strerror(grc));
    char url[320];
    const char *scheme = tls ? "https" : "http";
    if (strchr(host, ':')) snprintf(url, sizeof url, "%s://[%s]:%d", scheme, host, srv->port);
    else snprintf(url, sizeof url, "%s://%s:%d", scheme, host, srv->port);
    log_info("server",
             "Listening url=%s port=%d threads=%d max_live_calls=%d max_event_streams=%d max_client_connections=%d "
             "tls=%s instance=%s",
             url, srv->port, n_threads, srv->cfg.max_live_calls, srv->cfg.max_event_streams,
             srv->cfg.max_client_connections, tls ? "on" : "off", service_events_instance(reg->events));
    if (srv->web_root[0]) log_info("server", "Dashboard url=%s/dashboard/ web_root=%s", url, srv->web_root);
    *out = srv;
    return 0;
}

int server_port(const server *srv) { return srv->port; }

void server_stop(server *srv) {
    if (!srv) return;
    pthread_mutex_lock(&srv->admit_lock);
    srv->stopping = 1; /* live calls still open end as interrupted; no new one is accepted */
    pthread_mutex_unlock(&srv->admit_lock);
    service_events_close(srv->reg->events); /* the event streams end now, not at their next keepalive */
    admission_guard_stop(srv);
    mg_stop(srv->ctx);
    admission_destroy(srv);
    metrics_destroy(&srv->metrics);
    auth_clear(srv);
    free(srv);
}
