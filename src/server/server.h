/* server.h — the TRIDENT HTTP + WebSocket server (civetweb) over the service registry.
 *
 * Routes (JSON compatible with the original FastAPI backend and its React front end):
 *   GET /  /health  /ready  /metrics
 *   POST /api/analyze (multipart field "file")
 *   GET /api/calls  /api/calls/{id}  /api/calls/{id}/audio
 *   GET /api/live-calls?limit&offset&queue  /api/live-calls/{id}
 *   WS  /ws/live (binary float32 16-kHz mono PCM in, JSON events out)
 *   GET /api/queue  POST /api/queue/next
 *   GET /api/events (every change to a call, as Server-Sent Events)
 *   POST /api/calls/{id}/{claim|release|dispatch|resolve|cancel|duplicate|override|notes}
 *        (a dispatcher's or supervisor's token; override: a supervisor's)
 *   GET|POST|DELETE /api/session (the dashboard's sign-in), GET /api/audit, GET /api/tokens
 *   GET /dashboard/... (the dispatcher dashboard's static files, from web_root)
 *   GET /openapi.json (docs/openapi.json: every route, compiled in)
 *   POST /v1/audio/transcriptions  /v1/audio/translations  GET /v1/models[/{id}]
 *        (OpenAI-compatible; errors {"error": {"message", "type", "param", "code"}})
 * Every route but /, /health, /ready, /dashboard/ and /api/session needs a token
 * (Authorization: Bearer) or a session cookie whose role allows it (auth.c), unless
 * auth is off (no token in the store, loopback or --insecure). Errors are
 * {"detail": "..."} with a 4xx/5xx status; CORS headers only for listed origins.
 * The server does not own the registry. */
#ifndef TRIDENT_SERVER_SERVER_H
#define TRIDENT_SERVER_SERVER_H

#include <stddef.h>

#include "service/service.h"

typedef struct {
    const char *host;           /* listening address, default "127.0.0.1" */
    int port;                   /* 0: any free port (see server_port) */
    int http_threads;           /* civetweb worker threads (each connection holds one); 0 (default): max_live_calls
                                 * + max_event_streams + max_client_connections + SERVER_THREAD_RESERVE; fewer than
                                 * the three + 1 is refused */
    int max_live_calls;         /* open /ws/live calls; the next upgrade gets 503 + Retry-After; default 16 */
    int max_event_streams;      /* open GET /api/events streams; the next gets 503 + Retry-After; default 16 */
    int max_client_connections; /* connections one client address holds at once (live calls aside), default 16 */
    size_t max_upload_bytes;    /* POST /api/analyze body limit, default 50 MB */
    size_t max_ws_message_bytes; /* one WebSocket message, default 1 MB */
    size_t max_header_bytes;    /* request line + headers, default 16 kB */
    int request_timeout_ms;     /* longest wait for a request's headers, and for each read of its body; default 10000 */
    const char *cors_origins;   /* origins (comma-separated) allowed to call the API and open /ws/live from
                                 * another site; NULL/"" (default): same origin only */
    int insecure;               /* 1: start on a non-loopback address even with no API token in the store */
    const char *web_root;       /* the dashboard's files; NULL: the compiled-in TRIDENT_WEB_DIR */
    double overdue_s;           /* a Q2/Q3 call waiting longer is flagged overdue; default 120 */
    const char *tls_cert;       /* PEM certificate chain: HTTPS and WSS on the port (with tls_key); NULL: plain HTTP */
    const char *tls_key;        /* PEM private key of tls_cert (unencrypted) */
} server_config;

void server_config_default(server_config *cfg);

/* Worker threads kept beyond what one client may hold, for everyone else (/health, the dashboard). */
#define SERVER_THREAD_RESERVE 8

typedef struct server server;

/* Starts listening (logs the URL). The caller owns *out and stops it with server_stop. */
int server_start(service_registry *reg, const server_config *cfg, server **out, char *err, size_t err_size);
/* The port actually listened on. */
int server_port(const server *srv);
/* Stops accepting, closes connections (live calls are finalised) and frees srv. NULL-safe. */
void server_stop(server *srv);

#endif
