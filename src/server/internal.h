/* internal.h — private to src/server: the server object, response helpers, routes, metrics. */
#ifndef TRIDENT_SERVER_INTERNAL_H
#define TRIDENT_SERVER_INTERNAL_H

#include <civetweb.h>
#include <jansson.h>
#include <pthread.h>

#include "server/server.h"

typedef enum {
    ROUTE_ROOT = 0,
    ROUTE_HEALTH,
    ROUTE_READY,
    ROUTE_METRICS,
    ROUTE_ANALYZE,
    ROUTE_CALLS,
    ROUTE_CALL,
    ROUTE_CALL_AUDIO,
    ROUTE_LIVE_CALLS,
    ROUTE_LIVE_CALL,
    ROUTE_WS_LIVE,
    ROUTE_DASHBOARD,
    ROUTE_OTHER,
    ROUTE_COUNT
} server_route;

#define METRICS_BUCKETS 12

/* Request counters and latency histograms per route; guarded by lock. */
typedef struct {
    pthread_mutex_t lock;
    long long requests[ROUTE_COUNT][6]; /* by status class: index status/100 (1xx..5xx) */
    long long latency_buckets[ROUTE_COUNT][METRICS_BUCKETS];
    long long latency_count[ROUTE_COUNT];
    double latency_sum[ROUTE_COUNT];
    long long ws_messages, ws_errors;
} server_metrics;

struct server {
    service_registry *reg;
    server_config cfg;
    struct mg_context *ctx;
    int port;
    server_metrics metrics;
    char web_root[4096];         /* real path of the dashboard's files; "" when unavailable */
    char web_root_error[256];    /* why it is unavailable */
};

/* metrics.c */
void metrics_init(server_metrics *m);
void metrics_destroy(server_metrics *m);
void metrics_request_record(server_metrics *m, server_route route, int status, double seconds);
void metrics_ws_record(server_metrics *m, int is_error);
const char *route_label(server_route route);
/* Writes the Prometheus text exposition into a malloc'ed string (caller frees), or NULL. */
char *metrics_render(server *srv);

/* http.c: responses. Each returns the status sent. body is stolen (decref'd). */
int http_send_json(struct mg_connection *conn, const server *srv, int status, json_t *body, const char *extra_headers);
int http_send_error(struct mg_connection *conn, const server *srv, int status, const char *extra_headers,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
int http_send_bytes(struct mg_connection *conn, const server *srv, int status, const char *content_type,
                    const void *data, size_t size, const char *extra_headers);
/* Maps a TRIDENT_E* code from decoding/validation to an HTTP status. */
int http_status_for(int code);

/* routes.c */
int route_root(struct mg_connection *conn, server *srv);
int route_health(struct mg_connection *conn, server *srv);
int route_ready(struct mg_connection *conn, server *srv);
int route_metrics(struct mg_connection *conn, server *srv);
int route_calls(struct mg_connection *conn, server *srv, int live_only);
int route_call(struct mg_connection *conn, server *srv, const char *id, int live_only);
int route_call_audio(struct mg_connection *conn, server *srv, const char *id);

/* upload.c */
int route_analyze(struct mg_connection *conn, server *srv);

/* multipart.c: multipart/form-data bodies in memory */
/* The boundary parameter of a Content-Type (quoted or not, among other
 * parameters; 1 to 70 characters) into out. Returns 0 or -1 (absent/invalid). */
int multipart_boundary_parse(const char *content_type, char *out, size_t out_size);
typedef struct {
    int found;
    const unsigned char *data; /* points into the body */
    size_t size;
    char filename[256];
    int has_filename;
} multipart_file;
/* Finds the first part named field in body. Returns 0 (out->found says whether
 * it was there) or TRIDENT_EFORMAT with a message: no opening delimiter, no
 * closing delimiter (a truncated body), malformed part headers. */
int multipart_file_find(const void *body, size_t size, const char *boundary, const char *field, multipart_file *out,
                        char *err, size_t err_size);

/* static.c: the dashboard's files under /dashboard/ */
/* Resolves dir (NULL/"": the compiled-in TRIDENT_WEB_DIR) to a real directory path in out. */
int static_root_resolve(const char *dir, char *out, size_t out_size, char *err, size_t err_size);
int route_static(struct mg_connection *conn, server *srv, const char *path);

/* ws.c */
void ws_routes_register(server *srv);

#endif
