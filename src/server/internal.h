/* internal.h — private to src/server: the server object, response helpers, routes, metrics. */
#ifndef TRIDENT_SERVER_INTERNAL_H
#define TRIDENT_SERVER_INTERNAL_H

#include <civetweb.h>
#include <jansson.h>
#include <pthread.h>

#include "base/error.h"
#include "server/server.h"
#include "service/access.h"

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
    ROUTE_QUEUE,
    ROUTE_QUEUE_NEXT,
    ROUTE_CALL_ACTION,
    ROUTE_EVENTS,
    ROUTE_SESSION,
    ROUTE_AUDIT,
    ROUTE_TOKENS,
    ROUTE_V1_TRANSCRIPTIONS,
    ROUTE_V1_TRANSLATIONS,
    ROUTE_V1_MODELS,
    ROUTE_V1_MODEL,
    ROUTE_V1_OTHER,
    ROUTE_OPENAPI,
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
    long long refused[4]; /* by metrics_refusal: connections and calls refused or cut */
    long long auth_401, auth_403; /* requests refused: no or a bad credential; a role without the right */
} server_metrics;

/* admission.c's bookkeeping, guarded by admit_lock: the TCP connections seen on
 * the listening port (by peer address and port) and how many each client address
 * holds. */
typedef struct {
    int family;              /* AF_INET or AF_INET6 */
    unsigned char addr[16];
} admit_addr;
typedef struct admit_client {
    struct admit_client *next;
    admit_addr addr;
    int conns;               /* admitted connections holding a worker (live calls aside) */
} admit_client;
typedef struct server_conn server_conn;
typedef struct admit_conn {
    struct admit_conn *next;
    admit_addr addr;
    int port;
    int counted;             /* holds one of its client's slots */
    int fd;                  /* its socket, -1 when unknown (counted at begin_request) or closing */
    server_conn *live;       /* the live call's connection data while it is open, else NULL */
    unsigned long guard_frames;      /* the frame guard's view: frames delivered at its last look */
    unsigned long long guard_base;   /* bytes consumed from the socket when a frame was last seen */
} admit_conn;

struct server {
    service_registry *reg;
    server_config cfg;
    struct mg_context *ctx;
    int port;
    server_metrics metrics;
    pthread_mutex_t admit_lock; /* guards clients, conns and live_calls */
    admit_client *clients;
    admit_conn *conns;
    int admit_blind;            /* /proc/self/fd unreadable: clients are counted at begin_request instead */
    int live_calls;             /* accepted /ws/live connections (the --max-live-calls cap) */
    int event_streams;          /* open GET /api/events streams (the --max-event-streams cap) */
    int stopping;               /* set by server_stop (under admit_lock): open live calls end as interrupted */
    pthread_t guard;            /* the frame guard's thread (admission.c) */
    pthread_cond_t guard_wake;  /* wakes it to stop (with admit_lock) */
    int guard_running, guard_stop;
    char web_root[4096];         /* real path of the dashboard's files; "" when unavailable */
    char web_root_error[256];    /* why it is unavailable */
    char **cors;                 /* the --cors-origin allow-list (auth.c) */
    size_t n_cors;
    int auth_may_open;           /* loopback or --insecure: served without tokens while the store holds none */
    int auth_state;              /* 1 while auth is on (atomic; auth.c logs its changes) */
};

/* metrics.c */
void metrics_init(server_metrics *m);
void metrics_destroy(server_metrics *m);
void metrics_request_record(server_metrics *m, server_route route, int status, double seconds);
void metrics_ws_record(server_metrics *m, int is_error);
/* Why a connection was refused or cut (admission.c). */
typedef enum {
    METRICS_REFUSED_CLIENT_LIMIT = 0, /* over --max-client-connections */
    METRICS_REFUSED_LIVE_CAP,         /* a live call over --max-live-calls */
    METRICS_REFUSED_FRAME,            /* a live call shut by the frame guard */
    METRICS_REFUSED_EVENT_CAP,        /* an event stream over --max-event-streams */
} metrics_refusal;
void metrics_refusal_record(server_metrics *m, metrics_refusal why);
/* A request refused by access control (status 401 or 403). */
void metrics_auth_record(server_metrics *m, int status);
const char *route_label(server_route route);
/* Writes the Prometheus text exposition into a malloc'ed string (caller frees), or NULL. */
char *metrics_render(server *srv);

/* Runs fn(arg) on a thread with a large stack (stack.c) and waits for it.
 * Returns 0, or -1 when no thread could be started (fn did not run). */
int server_large_stack_run(void (*fn)(void *), void *arg);

/* http.c: responses. Each returns the status sent. body is stolen (decref'd). */
int http_send_json(struct mg_connection *conn, const server *srv, int status, json_t *body, const char *extra_headers);
/* {"detail": message}; under /v1/ OpenAI's {"error": {...}} (http_openai_error), so an
 * OpenAI client reads every refusal (401, 403, 503 ...) the same way. */
int http_send_error(struct mg_connection *conn, const server *srv, int status, const char *extra_headers,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* OpenAI's error body {"error": {"message", "type", "param", "code"}}: type
 * invalid_request_error below 500, server_error from 500; param and code may be NULL
 * (JSON null). A new reference, or NULL when out of memory. */
json_t *http_openai_error(int status, const char *param, const char *code, const char *message);
int http_send_bytes(struct mg_connection *conn, const server *srv, int status, const char *content_type,
                    const void *data, size_t size, const char *extra_headers);
/* Maps a TRIDENT_E* code from decoding/validation to an HTTP status. */
int http_status_for(int code);
/* Reads a JSON object body of at most max bytes (empty: *out NULL, allowed).
 * Returns 0 (*out a new reference or NULL) or the status sent (400, 413). */
int http_body_json(struct mg_connection *conn, server *srv, size_t max, json_t **out);
/* The headers every API response carries: nosniff, no referrer, no framing. */
#define HTTP_SECURITY_HEADERS                                                                         \
    "X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\nX-Frame-Options: DENY\r\n" \
    "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"

/* auth.c: access control */
/* Reads the --cors-origin list and decides whether the server may start:
 * tokens in the store (auth on), none on loopback (auth off, logged), none
 * elsewhere (refused unless --insecure; logged either way). */
int auth_init(server *srv, char *err, size_t n);
void auth_clear(server *srv);
/* Who is asking: a bearer token, else the session cookie, else (auth off)
 * "local", a supervisor. Returns 0 with *who filled, or the status sent (401, 503). */
int auth_identify(struct mg_connection *conn, server *srv, access_identity *who);
/* auth_identify, then 403 unless who's role allows p. Returns 0 or the status sent. */
int auth_require(struct mg_connection *conn, server *srv, access_permission p, access_identity *who);
/* The CORS header for the request's Origin when it is on the allow-list (into out;
 * returns 1), else out is "" (returns 0): same origin only. */
int http_cors_header(const struct mg_connection *conn, const server *srv, char *out, size_t n);
/* The WebSocket upgrade's checks: the Origin (own or allow-listed; none: a
 * non-browser client) and a credential allowing ACCESS_INGEST. 0, or the status sent. */
int auth_ws_check(struct mg_connection *conn, server *srv);
/* Appends an audit row (who opened action "call" or "recording" of call_id, from
 * the client's address). 0, or 503 sent when it cannot be written. */
int auth_audit(struct mg_connection *conn, server *srv, const access_identity *who, const char *action,
               const char *call_id);
int route_session(struct mg_connection *conn, server *srv);
int route_audit(struct mg_connection *conn, server *srv);
int route_tokens(struct mg_connection *conn, server *srv);

/* routes.c */
/* Reads an optional integer query parameter in 0..max; returns 0, 1 (absent) or -1 (bad). */
int http_query_int(const char *qs, const char *name, long long max, long long *out);
/* Reads the first query parameter name, percent-decoded ('+' stays a plus, as in
 * a phone number), into out (size bytes); returns 0, 1 (absent) or -1 (longer
 * than size - 1 bytes as sent, or holding an encoded NUL). */
int http_query_text(const char *qs, const char *name, char *out, size_t size);
int route_root(struct mg_connection *conn, server *srv);
int route_health(struct mg_connection *conn, server *srv);
int route_ready(struct mg_connection *conn, server *srv);
int route_metrics(struct mg_connection *conn, server *srv);
int route_calls(struct mg_connection *conn, server *srv, int live_only);
/* The call and audio routes write an audit row for who before they answer. */
int route_call(struct mg_connection *conn, server *srv, const char *id, int live_only, const access_identity *who);
int route_call_audio(struct mg_connection *conn, server *srv, const char *id, const access_identity *who);

/* dispatch.c: the dispatch floor (who: the token's identity, checked by the router) */
/* The store_action of a URL's last segment (claim … override, "notes"), or STORE_ACTION_COUNT. */
int dispatch_action_parse(const char *name);
/* store_call_to_json with dispatch.overdue; a new reference, or NULL when out of memory. */
json_t *dispatch_call_json(const server *srv, const store_call *c);
int route_queue(struct mg_connection *conn, server *srv);
int route_queue_next(struct mg_connection *conn, server *srv, const access_identity *who);
int route_call_action(struct mg_connection *conn, server *srv, const char *id, const char *action,
                      const access_identity *who);

/* events.c: GET /api/events, the change feed as Server-Sent Events (until the
 * client goes or the server stops). */
int route_events(struct mg_connection *conn, server *srv);

/* openapi.c: GET /openapi.json (docs/openapi.json, compiled in) */
int route_openapi(struct mg_connection *conn, server *srv);

/* openai.c: the OpenAI-compatible routes (ROUTE_V1_*; path is the request's) */
int route_openai(struct mg_connection *conn, server *srv, server_route route, const char *path);

/* upload.c */
int route_analyze(struct mg_connection *conn, server *srv);
#define UPLOAD_FORM_OVERHEAD (64 * 1024) /* multipart headers and other fields beyond the file */
/* A request refused before its form is parsed: the status, extra headers and why. */
typedef struct {
    int status;
    const char *headers; /* static text, or NULL */
    char message[TRIDENT_ERR_SIZE];
} upload_refusal;
/* Fills *r and returns status. */
int upload_refuse(upload_refusal *r, int status, const char *headers, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Reads a multipart/form-data upload (at most --max-upload-mb + UPLOAD_FORM_OVERHEAD):
 * the Content-Type's boundary into boundary, the whole body into *body (caller
 * frees). Returns 0, or the status of a refusal described in *r (415 not
 * multipart, 400 empty / no boundary / truncated, 413 too large, 503 out of
 * memory); nothing has been sent. */
int upload_form_read(struct mg_connection *conn, const server *srv, unsigned char **body, size_t *size,
                     char *boundary, size_t boundary_size, upload_refusal *r);

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
/* One part as multipart_parts_walk sees it; valid during the callback only. */
typedef struct {
    const char *name;          /* its Content-Disposition name ("" when none) */
    const unsigned char *data; /* points into the body */
    size_t size;
    const char *filename;      /* "" when none */
    int has_filename;
} multipart_part;
/* Calls fn(ctx, part) for every part of body, in order, and checks the body up to
 * its closing delimiter. Returns 0, or TRIDENT_EFORMAT as multipart_file_find
 * (parts before the fault have been passed to fn). */
int multipart_parts_walk(const void *body, size_t size, const char *boundary,
                         void (*fn)(void *ctx, const multipart_part *part), void *ctx, char *err, size_t err_size);

/* tls.c: HTTPS and WSS */
/* Checks that cert (PEM chain) and key (PEM private key) are readable, parse and
 * belong together. Returns 0 or a TRIDENT_E* code with a message naming the file. */
int tls_files_check(const char *cert, const char *key, char *err, size_t err_size);
/* civetweb's init_ssl callback (user_data: the server): loads cfg.tls_cert and
 * cfg.tls_key into civetweb's SSL_CTX. Returns 1 (done) or -1 (logged). */
int tls_context_init(void *ssl_ctx, void *user_data);

/* static.c: the dashboard's files under /dashboard/ */
/* Resolves dir (NULL/"": the compiled-in TRIDENT_WEB_DIR) to a real directory path in out. */
int static_root_resolve(const char *dir, char *out, size_t out_size, char *err, size_t err_size);
int route_static(struct mg_connection *conn, server *srv, const char *path);

/* json_input.c: every JSON document from a client goes through json_input_parse. */
#define JSON_INPUT_MAX_DEPTH 32
/* 0 when no '[' / '{' outside strings nests deeper than max_depth; else TRIDENT_EINVAL naming the byte. */
int json_input_depth_check(const char *data, size_t len, int max_depth, char *err, size_t err_size);
/* Parses a client's JSON (depth-checked, duplicate keys refused). On success *out
 * is a new reference owned by the caller; else TRIDENT_EINVAL with a message. */
int json_input_parse(const char *data, size_t len, json_t **out, char *err, size_t err_size);

/* admission.c: what one client may hold, on civetweb's thread-per-connection model.
 * Per-connection state (civetweb's user connection data) for every connection. */
typedef struct ws_session ws_session;
struct server_conn {
    int live;        /* holds one of the --max-live-calls slots */
    ws_session *ws;  /* the live call on this connection, if any */
    char caller[STORE_CALLER_MAX + 1]; /* /ws/live?caller=..., checked at the upgrade; "" when none */
    unsigned long frames; /* WebSocket frames delivered (atomic: the frame guard reads it) */
};
void admission_init(server *srv);
void admission_destroy(server *srv);
/* civetweb callbacks: counting new connections (refusing those over their
 * client's limit at once) and releasing a connection's slots. */
int admission_connection_open(const struct mg_connection *conn, void **conn_data);
void admission_connection_close(const struct mg_connection *conn);
void admission_connection_closed(const struct mg_connection *conn);
/* For begin_request: 0 when the request's connection was admitted; otherwise
 * answers 503 and returns the status (only when accept-time counting is blind). */
int admission_request_check(struct mg_connection *conn, server *srv);
/* The WebSocket connect handler's check: takes a live-call slot (moving the
 * connection out of its address's count) and returns 0, or answers 503 with
 * Retry-After and returns 1 (civetweb then refuses the upgrade). */
int admission_live_acquire(struct mg_connection *conn, server *srv);
/* An event stream's slot (--max-event-streams; like a live call, it moves the
 * connection out of its address's count): 0 when taken, else the 503 answered
 * and its status. admission_events_release gives the slot back. */
int admission_events_acquire(struct mg_connection *conn, server *srv);
void admission_events_release(server *srv);
/* The frame guard: civetweb 1.15 allocates a WebSocket frame's declared length
 * (up to 2 GB) and reads all of it before the data handler sees any, so the
 * message limit alone cannot bound what one frame makes the server hold. Every
 * 20 ms the guard looks at each live call whose socket it knows: the bytes
 * civetweb has consumed from the socket (TCP_INFO bytes received less the unread
 * queue) since the last frame it delivered; past --max-ws-message-kb + 1/8 +
 * 64 KB the socket is shut down (the worker's read fails, the call ends), logged
 * and counted. Started by server_start, stopped by server_stop; 0 or an errno. */
int admission_guard_start(server *srv);
void admission_guard_stop(server *srv);
/* A frame delivered on a live connection (the data handler, every frame). */
void admission_frame_seen(server_conn *sc);

/* ws.c: WS /ws/live. The session is independent of the socket (the fuzz harness
 * drives it directly); the civetweb adapter writes its frames. */
typedef void (*ws_write_fn)(void *ctx, int opcode, const void *data, size_t len);
/* Opens the live call of caller (NULL: unknown; see live_call_open); its
 * "connected" event goes out through write. metrics may be NULL. The caller owns
 * *out (ws_session_close). */
int ws_session_open(service_registry *reg, server_metrics *metrics, size_t max_message_bytes, const char *caller,
                    ws_write_fn write, void *ctx, ws_session **out, char *err, size_t err_size);
/* One frame as civetweb delivers it (flags: FIN, RSV1-3 and opcode, the frame's
 * first byte). Returns 1 to go on reading, 0 when the connection must close (a
 * close frame has been sent). */
int ws_session_frame(ws_session *s, int flags, const unsigned char *data, size_t len);
/* Ends the session and frees it: a call still open is finalised as lost, or
 * interrupted when stopping is set. NULL-safe. */
void ws_session_close(ws_session *s, int stopping);
void ws_routes_register(server *srv);

#endif
