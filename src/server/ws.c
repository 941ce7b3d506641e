/* ws.c — WS /ws/live: the WebSocket adapter over a live-call session.
 *
 * In: binary messages of float32 little-endian 16-kHz mono PCM (any number of whole
 * samples per message, up to max_ws_message_bytes); a text message {"type":"end"}
 * (or "stop") ends the call gracefully. Out: the session's JSON events as text
 * messages. A bad message (length not a multiple of 4, NaN/Inf samples, other text,
 * too long) gets an "error" event; the call goes on, except after an oversized
 * message, which closes the connection (the call is finalised either way). */
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "base/error.h"
#include "base/log.h"
#include "server/internal.h"
#include "service/live.h"

typedef struct {
    server *srv;
    struct mg_connection *conn;
    live_call *call;
    unsigned char *msg; /* a fragmented message being assembled */
    size_t msg_len;
    int msg_opcode;
    int msg_dropping;   /* the message in flight exceeded the limit: discard to its end */
} ws_state;

static void ws_send(void *ctx, json_t *event) {
    ws_state *st = ctx;
    char *text = json_dumps(event, JSON_COMPACT);
    if (!text) return;
    mg_websocket_write(st->conn, MG_WEBSOCKET_OPCODE_TEXT, text, strlen(text));
    free(text);
}

/* Errors before a call exists (or after it ended). */
static void ws_send_error(ws_state *st, const char *message) {
    metrics_ws_record(&st->srv->metrics, 1);
    if (st->call) {
        live_call_error_emit(st->call, message);
        return;
    }
    json_t *ev = json_pack("{s:s, s:s}", "type", "error", "message", message);
    if (ev) ws_send(st, ev);
    json_decref(ev);
}

static int ws_connect(const struct mg_connection *conn, void *cbdata) {
    (void)conn;
    (void)cbdata;
    return 0; /* accept */
}

static void ws_ready(struct mg_connection *conn, void *cbdata) {
    server *srv = cbdata;
    metrics_request_record(&srv->metrics, ROUTE_WS_LIVE, 101, 0);
    ws_state *st = calloc(1, sizeof *st);
    if (!st) {
        static const char oom[] = "{\"type\":\"error\",\"message\":\"out of memory\"}";
        mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_TEXT, oom, sizeof oom - 1);
        mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, "", 0);
        return;
    }
    st->srv = srv;
    st->conn = conn;
    mg_set_user_connection_data(conn, st);
    char err[TRIDENT_ERR_SIZE];
    if (live_call_open(srv->reg, ws_send, st, &st->call, err, sizeof err) != 0) {
        log_warn("ws", "cannot open a live call: %s", err);
        ws_send_error(st, err);
        mg_websocket_write(conn, MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE, "", 0);
    }
}

static void ws_text(ws_state *st, const unsigned char *data, size_t len, int *keep_open) {
    json_t *j = json_loadb((const char *)data, len, 0, NULL);
    const char *type = j ? json_string_value(json_object_get(j, "type")) : NULL;
    if (type && (strcmp(type, "end") == 0 || strcmp(type, "stop") == 0)) {
        if (st->call) {
            live_call_close(st->call); /* emits call_ended */
            st->call = NULL;
        }
        *keep_open = 0;
    } else {
        ws_send_error(st, "text messages are not audio: send binary float32 little-endian 16-kHz mono PCM, "
                          "or {\"type\":\"end\"} to end the call");
    }
    json_decref(j);
}

static void ws_binary(ws_state *st, const unsigned char *data, size_t len, int *keep_open) {
    char err[TRIDENT_ERR_SIZE];
    if (!st->call) {
        ws_send_error(st, "the call has ended");
        return;
    }
    if (len == 0 || len % 4 != 0) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "binary message of %zu bytes is not whole float32 samples (length must be a positive multiple of 4)",
                 len);
        ws_send_error(st, msg);
        return;
    }
    float *pcm = malloc(len);
    if (!pcm) {
        ws_send_error(st, "out of memory");
        return;
    }
    size_t n = 0;
    int rc = audio_pcm_from_f32le(data, len, pcm, len / 4, &n, err, sizeof err);
    if (rc == 0) rc = live_call_feed(st->call, pcm, n, err, sizeof err);
    free(pcm);
    if (rc != 0) {
        ws_send_error(st, err);
        if (rc == TRIDENT_ELIMIT) {
            live_call_close(st->call);
            st->call = NULL;
            *keep_open = 0;
        }
    }
}

static int ws_data(struct mg_connection *conn, int flags, char *data, size_t len, void *cbdata) {
    (void)cbdata;
    ws_state *st = mg_get_user_connection_data(conn);
    if (!st) return 0;
    int opcode = flags & 0x0F, fin = (flags & 0x80) != 0;
    if (opcode == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE) return 0;
    if (opcode == 0x9 || opcode == 0xA) return 1; /* ping / pong */
    metrics_ws_record(&st->srv->metrics, 0);
    size_t limit = st->srv->cfg.max_ws_message_bytes;
    if (opcode != MG_WEBSOCKET_OPCODE_CONTINUATION) {
        st->msg_len = 0;
        st->msg_opcode = opcode;
        st->msg_dropping = 0;
    }
    if (st->msg_dropping) return 1;
    if (st->msg_len + len > limit) {
        char msg[160];
        snprintf(msg, sizeof msg, "WebSocket message exceeds the limit of %zu bytes (--max-ws-message-kb)", limit);
        ws_send_error(st, msg);
        st->msg_len = 0;
        st->msg_dropping = !fin;
        return 1;
    }
    const unsigned char *body = (const unsigned char *)data;
    size_t body_len = len;
    if (!fin || st->msg_len) { /* fragmented: assemble */
        unsigned char *m = realloc(st->msg, st->msg_len + len + 1);
        if (!m) {
            ws_send_error(st, "out of memory assembling a WebSocket message");
            st->msg_len = 0;
            st->msg_dropping = !fin;
            return 1;
        }
        st->msg = m;
        memcpy(m + st->msg_len, data, len);
        st->msg_len += len;
        if (!fin) return 1;
        body = st->msg;
        body_len = st->msg_len;
        st->msg_len = 0;
    }
    int keep_open = 1;
    if (st->msg_opcode == MG_WEBSOCKET_OPCODE_TEXT) ws_text(st, body, body_len, &keep_open);
    else if (st->msg_opcode == MG_WEBSOCKET_OPCODE_BINARY) ws_binary(st, body, body_len, &keep_open);
    else ws_send_error(st, "unsupported WebSocket opcode");
    return keep_open;
}

static void ws_close(const struct mg_connection *conn, void *cbdata) {
    (void)cbdata;
    ws_state *st = mg_get_user_connection_data(conn);
    if (!st) return;
    live_call_close(st->call); /* finalises the record; its call_ended may not reach a closed socket */
    st->call = NULL;
    mg_set_user_connection_data(conn, NULL);
    free(st->msg);
    free(st);
}

void ws_routes_register(server *srv) {
    mg_set_websocket_handler(srv->ctx, "/ws/live", ws_connect, ws_ready, ws_data, ws_close, srv);
}
