/* ws.c — WS /ws/live: a live-call session over WebSocket frames, and its civetweb adapter.
 *
 * In: binary messages of float32 little-endian 16-kHz mono PCM (any number of whole
 * samples per message, up to max_ws_message_bytes); a text message {"type":"end"}
 * (or "stop") ends the call gracefully, as does a close frame. Out: the session's
 * JSON events as text messages. A bad message (length not a multiple of 4,
 * samples refused by pipeline_pcm_check, other text) gets an "error" event and the
 * call goes on. The connection is closed with a close frame (RFC 6455 7.4) after
 * {"type":"end"} (1000), the call's length limit (1000), an oversized message
 * (1009), or a protocol error (1002: reserved bits set — no extension is ever
 * negotiated —, an unknown opcode, a fragmented or over-long control frame, a
 * continuation out of place); a client's close frame is answered with one.
 * After {"type":"end"} or the length limit, the call is finalised on a thread of
 * its own, so that the connection's thread goes on reading (civetweb answers the
 * client's keepalive pings) while the last utterance is analysed; frames after
 * that are ignored.
 *
 * civetweb 1.15 unmasks client frames itself and answers pings with pongs
 * (enable_websocket_ping_pong); the mask bit never reaches this code, so an
 * unmasked client frame cannot be refused here (README, Server). It also
 * allocates a frame's declared length before reading it; the frame guard
 * (admission.c) cuts a connection whose frame outgrows the message limit. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "server/internal.h"
#include "service/live.h"

#define WS_FIN 0x80
#define WS_RSV 0x70
#define WS_CLOSE_NORMAL 1000
#define WS_CLOSE_PROTOCOL 1002
#define WS_CLOSE_TOO_BIG 1009
#define WS_CLOSE_INTERNAL 1011
#define WS_CLOSE_TRY_LATER 1013

struct ws_session {
    service_registry *reg;
    server_metrics *metrics; /* NULL: not counted */
    size_t max_message;
    ws_write_fn write;
    void *ctx;
    live_call *call;
    unsigned char *msg; /* a fragmented message being assembled */
    size_t msg_len;
    int msg_opcode;     /* 0: no message in progress */
    int msg_dropping;   /* the message in flight exceeded the limit: discard to its end */
    /* the call being ended by the closer thread (the session writes nothing else meanwhile) */
    int ending;
    pthread_t closer;
    live_call *ending_call;
    live_end ending_how;
    int ending_code;
    char ending_why[160];
};

static void ws_event(void *ctx, json_t *event) {
    ws_session *s = ctx;
    char *text = json_dumps(event, JSON_COMPACT);
    if (!text) return;
    s->write(s->ctx, MG_WEBSOCKET_OPCODE_TEXT, text, strlen(text));
    free(text);
}

/* An "error" event: through the call when there is one, else directly. */
static void ws_error(ws_session *s, const char *message) {
    if (s->metrics) metrics_ws_record(s->metrics, 1);
    if (s->call) {
        live_call_error_emit(s->call, message);
        return;
    }
    json_t *ev = json_pack("{s:s, s:s}", "type", "error", "message", message);
    if (ev) ws_event(s, ev);
    json_decref(ev);
}

/* Sends a close frame (status code + reason, RFC 6455 5.5.1). */
static void ws_close_send(ws_session *s, int code, const char *reason) {
    unsigned char frame[125];
    size_t n = strlen(reason);
    if (n > sizeof frame - 2) n = sizeof frame - 2;
    frame[0] = (unsigned char)(code >> 8);
    frame[1] = (unsigned char)(code & 0xff);
    memcpy(frame + 2, reason, n);
    s->write(s->ctx, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, frame, n + 2);
}

/* Ends the call (if still open) as how, then closes the connection with code. Returns 0 (close). */
static int ws_finish(ws_session *s, live_end how, int code, const char *why) {
    if (s->call) {
        live_call_close(s->call, how, why); /* emits call_ended */
        s->call = NULL;
    }
    ws_close_send(s, code, why ? why : "");
    return 0;
}

static void *ws_closer(void *arg) {
    ws_session *s = arg;
    live_call_close(s->ending_call, s->ending_how, s->ending_why); /* emits call_ended */
    ws_close_send(s, s->ending_code, s->ending_why);
    return NULL;
}

/* Ends the call on the closer thread and goes on reading (returns 1); the client's
 * close frame in answer ends the connection. Synchronous when no thread can start. */
static int ws_finish_async(ws_session *s, live_end how, int code, const char *why) {
    s->ending_call = s->call;
    s->ending_how = how;
    s->ending_code = code;
    snprintf(s->ending_why, sizeof s->ending_why, "%s", why);
    s->call = NULL;
    s->ending = 1;
    if (pthread_create(&s->closer, NULL, ws_closer, s) != 0) {
        ws_closer(s);
        s->ending = 2; /* done, no thread to join */
    }
    return 1;
}

/* A protocol error: an error event naming it, the call truncated, close 1002. */
static int ws_protocol_error(ws_session *s, const char *what) {
    char msg[200];
    snprintf(msg, sizeof msg, "WebSocket protocol error: %s", what);
    ws_error(s, msg);
    return ws_finish(s, LIVE_END_REFUSED, WS_CLOSE_PROTOCOL, msg);
}

int ws_session_open(service_registry *reg, server_metrics *metrics, size_t max_message_bytes, const char *caller,
                    ws_write_fn write, void *ctx, ws_session **out, char *err, size_t err_size) {
    *out = NULL;
    ws_session *s = calloc(1, sizeof *s);
    if (!s) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory opening a live call");
    s->reg = reg;
    s->metrics = metrics;
    s->max_message = max_message_bytes;
    s->write = write;
    s->ctx = ctx;
    int rc = live_call_open(reg, caller, ws_event, s, &s->call, err, err_size);
    if (rc != 0) {
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

static int ws_text(ws_session *s, const unsigned char *data, size_t len) {
    char err[TRIDENT_ERR_SIZE];
    json_t *j = NULL;
    if (json_input_parse((const char *)data, len, &j, err, sizeof err) != 0) {
        char msg[TRIDENT_ERR_SIZE + 160];
        snprintf(msg, sizeof msg, "text message refused (%s); send binary float32 little-endian 16-kHz mono PCM, "
                                  "or {\"type\":\"end\"} to end the call", err);
        ws_error(s, msg);
        return 1;
    }
    const char *type = json_string_value(json_object_get(j, "type"));
    int end = type && (strcmp(type, "end") == 0 || strcmp(type, "stop") == 0);
    json_decref(j);
    if (end) return ws_finish_async(s, LIVE_END_CLIENT, WS_CLOSE_NORMAL, "call ended");
    ws_error(s, "text messages are not audio: send binary float32 little-endian 16-kHz mono PCM, "
                "or {\"type\":\"end\"} to end the call");
    return 1;
}

static int ws_binary(ws_session *s, const unsigned char *data, size_t len) {
    char err[TRIDENT_ERR_SIZE];
    if (!s->call) {
        ws_error(s, "the call has ended");
        return 1;
    }
    if (len == 0 || len % 4 != 0) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "binary message of %zu bytes is not whole float32 samples (length must be a positive multiple of 4)",
                 len);
        ws_error(s, msg);
        return 1;
    }
    int rc = live_call_feed_f32le(s->call, data, len, err, sizeof err);
    if (rc == 0) return 1;
    ws_error(s, err);
    if (rc == TRIDENT_ELIMIT)
        return ws_finish_async(s, LIVE_END_REFUSED, WS_CLOSE_NORMAL, "the call reached its length limit");
    return 1;
}

/* A client's close frame: the call ends as the caller's, and the close is answered
 * with the client's status code (1002 for a malformed close payload). */
static int ws_peer_close(ws_session *s, const unsigned char *data, size_t len) {
    int code = WS_CLOSE_NORMAL;
    if (len == 1) return ws_protocol_error(s, "a close frame's payload of 1 byte");
    if (len >= 2) {
        code = data[0] << 8 | data[1];
        int valid = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
        if (!valid) return ws_protocol_error(s, "a close frame with an invalid status code");
    }
    return ws_finish(s, LIVE_END_CLIENT, code, "");
}

int ws_session_frame(ws_session *s, int flags, const unsigned char *data, size_t len) {
    int opcode = flags & 0x0F, fin = (flags & WS_FIN) != 0;
    if (s->ending) return opcode != MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE; /* the close reply ends the connection */
    if (s->metrics) metrics_ws_record(s->metrics, 0);
    if (flags & WS_RSV) return ws_protocol_error(s, "reserved bits set without a negotiated extension");
    if (opcode >= 0x8) {
        if (!fin || len > 125) return ws_protocol_error(s, "a control frame that is fragmented or over 125 bytes");
        if (opcode == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE) return ws_peer_close(s, data, len);
        if (opcode == MG_WEBSOCKET_OPCODE_PING) {
            s->write(s->ctx, MG_WEBSOCKET_OPCODE_PONG, data, len);
            return 1;
        }
        if (opcode == MG_WEBSOCKET_OPCODE_PONG) return 1;
        return ws_protocol_error(s, "an unknown control opcode");
    }
    if (opcode != MG_WEBSOCKET_OPCODE_CONTINUATION && opcode != MG_WEBSOCKET_OPCODE_TEXT &&
        opcode != MG_WEBSOCKET_OPCODE_BINARY)
        return ws_protocol_error(s, "an unknown data opcode");
    if (opcode == MG_WEBSOCKET_OPCODE_CONTINUATION) {
        if (!s->msg_opcode) return ws_protocol_error(s, "a continuation frame without a message to continue");
    } else {
        if (s->msg_opcode) return ws_protocol_error(s, "a new message before the fragmented one ended");
        s->msg_opcode = opcode;
        s->msg_len = 0;
        s->msg_dropping = 0;
    }
    int msg_opcode = s->msg_opcode;
    if (fin) s->msg_opcode = 0;
    if (s->msg_dropping) return 1;
    if (len > s->max_message || s->msg_len + len > s->max_message) {
        char msg[160];
        snprintf(msg, sizeof msg, "WebSocket message exceeds the limit of %zu bytes (--max-ws-message-kb)",
                 s->max_message);
        ws_error(s, msg);
        return ws_finish(s, LIVE_END_REFUSED, WS_CLOSE_TOO_BIG, msg);
    }
    const unsigned char *body = data;
    size_t body_len = len;
    if (!fin || s->msg_len) { /* fragmented: assemble */
        unsigned char *m = realloc(s->msg, s->msg_len + len + 1);
        if (!m) {
            ws_error(s, "out of memory assembling a WebSocket message");
            s->msg_len = 0;
            s->msg_dropping = !fin;
            return 1;
        }
        s->msg = m;
        if (len) memcpy(m + s->msg_len, data, len);
        s->msg_len += len;
        if (!fin) return 1;
        body = s->msg;
        body_len = s->msg_len;
        s->msg_len = 0;
    }
    if (msg_opcode == MG_WEBSOCKET_OPCODE_TEXT) return ws_text(s, body, body_len);
    return ws_binary(s, body, body_len);
}

void ws_session_close(ws_session *s, int stopping) {
    if (!s) return;
    if (s->ending == 1) pthread_join(s->closer, NULL);
    if (s->call) live_call_close(s->call, stopping ? LIVE_END_SHUTDOWN : LIVE_END_LOST, NULL);
    free(s->msg);
    free(s);
}

/* ---- the civetweb adapter ---------------------------------------------------- */

static void ws_conn_write(void *ctx, int opcode, const void *data, size_t len) {
    mg_websocket_write(ctx, opcode, data, len);
}

/* The caller parameter of an upgrade, checked (400 naming what is wrong: returns
 * non-zero) and kept in the connection's data for the call. */
static int ws_caller_take(struct mg_connection *c, server *srv) {
    server_conn *sc = mg_get_user_connection_data(c);
    const struct mg_request_info *ri = mg_get_request_info(c);
    char caller[STORE_CALLER_MAX + 1] = "", err[TRIDENT_ERR_SIZE] = "";
    int q = http_query_text(ri ? ri->query_string : NULL, "caller", caller, sizeof caller);
    if (q < 0) snprintf(err, sizeof err, "the caller is longer than %d bytes or holds an encoded NUL", STORE_CALLER_MAX);
    if (q < 0 || (q == 0 && store_caller_check(caller, err, sizeof err) != 0)) {
        mg_disable_connection_keep_alive(c);
        int status = http_send_error(c, srv, 400, "Connection: close\r\n",
                                     "caller refused: %s; send ?caller= with up to %d bytes of printable UTF-8, "
                                     "percent-encoded (e.g. caller=%%2B18765550100 or caller=+18765550100)",
                                     err, STORE_CALLER_MAX);
        metrics_request_record(&srv->metrics, ROUTE_WS_LIVE, status, 0);
        return 1;
    }
    if (sc) snprintf(sc->caller, sizeof sc->caller, "%s", caller);
    return 0;
}

typedef struct {
    struct mg_connection *conn;
    server *srv;
    int refused;
} ws_connect_job;

static void ws_connect_run(void *arg) {
    ws_connect_job *j = arg;
    j->refused = auth_ws_check(j->conn, j->srv) != 0 || ws_caller_take(j->conn, j->srv) != 0 ||
                 admission_live_acquire(j->conn, j->srv) != 0;
}

/* The upgrade: the Origin and the credential (auth.c; a store query, so off the
 * worker's small stack), the caller parameter, then a live-call slot. Non-zero refuses it (the answer is sent). */
static int ws_connect(const struct mg_connection *conn, void *cbdata) {
    /* civetweb passes the connection const; answering the refusal writes to it. */
    ws_connect_job j = {(struct mg_connection *)conn, cbdata, 1};
    if (server_large_stack_run(ws_connect_run, &j) != 0) {
        http_send_error(j.conn, j.srv, 503, "Retry-After: 5\r\nConnection: close\r\n",
                        "cannot start a request thread; retry later");
        return 1;
    }
    return j.refused;
}

static void ws_ready_work(struct mg_connection *conn, server *srv) {
    metrics_request_record(&srv->metrics, ROUTE_WS_LIVE, 101, 0);
    server_conn *sc = mg_get_user_connection_data(conn);
    char err[TRIDENT_ERR_SIZE];
    ws_session *s = NULL;
    int rc = sc ? ws_session_open(srv->reg, &srv->metrics, srv->cfg.max_ws_message_bytes,
                                  sc->caller[0] ? sc->caller : NULL, ws_conn_write, conn, &s, err, sizeof err)
                : error_set(err, sizeof err, TRIDENT_ENOMEM, "out of memory accepting the connection");
    if (rc != 0) {
        log_warn("ws", "cannot open a live call: %s", err);
        char ev[TRIDENT_ERR_SIZE + 64];
        json_t *j = json_pack("{s:s, s:s}", "type", "error", "message", err);
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        snprintf(ev, sizeof ev, "%s", text ? text : "{\"type\":\"error\",\"message\":\"cannot open a live call\"}");
        free(text);
        json_decref(j);
        mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_TEXT, ev, strlen(ev));
        unsigned char close[2] = {(rc == TRIDENT_EBUSY ? WS_CLOSE_TRY_LATER : WS_CLOSE_INTERNAL) >> 8,
                                  (rc == TRIDENT_EBUSY ? WS_CLOSE_TRY_LATER : WS_CLOSE_INTERNAL) & 0xff};
        mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, (const char *)close, sizeof close);
        return;
    }
    sc->ws = s;
}

static void ws_close_work(const struct mg_connection *conn, server *srv) {
    server_conn *sc = mg_get_user_connection_data(conn);
    if (!sc) return;
    pthread_mutex_lock(&srv->admit_lock);
    int stopping = srv->stopping;
    pthread_mutex_unlock(&srv->admit_lock);
    ws_session_close(sc->ws, stopping); /* its call_ended may not reach a closed socket */
    sc->ws = NULL;
}

/* civetweb's callbacks: each runs its work off the worker's small stack
 * (stack.c; JSON and the call's analysis go deep), or inline when no thread
 * can be started. */
typedef struct {
    struct mg_connection *conn;
    server *srv;
    int flags;
    const unsigned char *data;
    size_t len;
    int keep_open;
} ws_callback;

static void ws_ready_run(void *arg) {
    ws_callback *e = arg;
    ws_ready_work(e->conn, e->srv);
}

static void ws_ready(struct mg_connection *conn, void *cbdata) {
    ws_callback e = {.conn = conn, .srv = cbdata};
    if (server_large_stack_run(ws_ready_run, &e) != 0) ws_ready_run(&e);
}

static void ws_data_run(void *arg) {
    ws_callback *e = arg;
    server_conn *sc = mg_get_user_connection_data(e->conn);
    /* no session: the call could not be opened, close */
    e->keep_open = sc && sc->ws ? ws_session_frame(sc->ws, e->flags, e->data, e->len) : 0;
}

static int ws_data(struct mg_connection *conn, int flags, char *data, size_t len, void *cbdata) {
    admission_frame_seen(mg_get_user_connection_data(conn));
    ws_callback e = {.conn = conn, .srv = cbdata, .flags = flags, .data = (const unsigned char *)data, .len = len};
    if (server_large_stack_run(ws_data_run, &e) != 0) ws_data_run(&e);
    return e.keep_open;
}

static void ws_close_run(void *arg) {
    ws_callback *e = arg;
    ws_close_work(e->conn, e->srv);
}

static void ws_close(const struct mg_connection *conn, void *cbdata) {
    /* civetweb passes the connection const; the work only reads its user data */
    ws_callback e = {.conn = (struct mg_connection *)conn, .srv = cbdata};
    if (server_large_stack_run(ws_close_run, &e) != 0) ws_close_run(&e);
}

void ws_routes_register(server *srv) {
    mg_set_websocket_handler(srv->ctx, "/ws/live", ws_connect, ws_ready, ws_data, ws_close, srv);
}
