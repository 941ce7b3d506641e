/* fuzz_ws_message.c — libFuzzer harness: the WebSocket live-call session
 * (src/server/ws.c), the code that handles every frame a /ws/live client sends.
 *
 * An input is a sequence of frames, each [flags: 1 byte = FIN, RSV1-3, opcode as
 * on the wire][length: 2 bytes little-endian][payload], cut short where the input
 * ends. Each input opens one live call on a registry without a model or store
 * (the analysis runs on the distress path), feeds the frames until the session
 * asks to close, then closes the session (a call still open ends as lost). Checked on every frame
 * the session writes: text frames are JSON objects with a "type", close frames
 * carry a status code and fit a control frame, and nothing is written after the
 * close frame. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "server/internal.h"
#include "service/service.h"

static service_registry *reg;

typedef struct {
    int closed; /* a close frame was written */
} fuzz_peer;

static void fuzz_write(void *ctx, int opcode, const void *data, size_t len) {
    fuzz_peer *p = ctx;
    if (p->closed) abort(); /* nothing may follow a close frame */
    if (opcode == MG_WEBSOCKET_OPCODE_TEXT) {
        json_t *j = json_loadb(data, len, 0, NULL);
        if (!j || !json_is_string(json_object_get(j, "type"))) abort();
        json_decref(j);
    } else if (opcode == MG_WEBSOCKET_OPCODE_CONNECTION_CLOSE) {
        if (len < 2 || len > 125) abort();
        p->closed = 1;
    } else if (opcode != MG_WEBSOCKET_OPCODE_PONG || len > 125) {
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    log_level_set(LOG_ERROR); /* a line per call would drown the fuzzer's output */
    service_config cfg;
    service_config_default(&cfg);
    cfg.sched.slots = 1;
    cfg.sched.threads_per_slot = 1;
    char err[TRIDENT_ERR_SIZE];
    if (service_registry_open(&cfg, &reg, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_ws_message: cannot open the service registry: %s\n", err);
        abort();
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fuzz_peer peer = {0};
    ws_session *s = NULL;
    char err[TRIDENT_ERR_SIZE];
    if (ws_session_open(reg, NULL, 4096, NULL, fuzz_write, &peer, &s, err, sizeof err) != 0) abort();
    size_t pos = 0;
    int open = 1;
    while (open && pos + 3 <= size) {
        int flags = data[pos];
        size_t len = (size_t)data[pos + 1] | (size_t)data[pos + 2] << 8;
        pos += 3;
        if (len > size - pos) len = size - pos;
        /* civetweb hands over a buffer it owns: give the session its own copy */
        unsigned char *frame = malloc(len ? len : 1);
        if (!frame) abort();
        memcpy(frame, data + pos, len);
        open = ws_session_frame(s, flags, frame, len);
        free(frame);
        pos += len;
    }
    ws_session_close(s, 0); /* joins a call being ended, if any */
    if (!open && !peer.closed) abort(); /* a session that ends the connection says so */
    return 0;
}
