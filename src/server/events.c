/* events.c — GET /api/events: the change feed (service/events.h) as Server-Sent
 * Events, for the dashboards.
 *
 * The stream opens with "retry: 2000" (the browser's reconnection delay) and then
 * sends every change to a call as
 *     event: call
 *     data: {"id", "change", "state", "queue", "server", "at"}
 * followed by a blank line, and a comment ": keepalive" every
 * EVENTS_KEEPALIVE_MS, so a proxy keeps the stream open and a client that went
 * away is noticed at the latest two keepalives later (the write fails). The
 * stream holds a worker thread until then: streams are capped
 * (--max-event-streams, admission.c) and end at once when the server stops
 * (service_events_close). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "server/internal.h"

#define EVENTS_KEEPALIVE_MS 10000

/* Writes all of text; 0, or -1 when the client is gone. */
static int events_write(struct mg_connection *conn, const char *text, size_t len) {
    return mg_write(conn, text, len) == (int)len ? 0 : -1;
}

int route_events(struct mg_connection *conn, server *srv) {
    int status = admission_events_acquire(conn, srv);
    if (status) return status;
    mg_disable_connection_keep_alive(conn); /* the body ends when the connection does */
    /* Readers start at the head of the feed: only changes from now on. */
    uint64_t cursor = service_events_cursor(srv->reg->events);
    char cors[512], head[1536];
    http_cors_header(conn, srv, cors, sizeof cors);
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\n"
                     "Content-Type: text/event-stream\r\n"
                     "Cache-Control: no-store\r\n" HTTP_SECURITY_HEADERS
                     "Connection: close\r\n"
                     "X-Accel-Buffering: no\r\n"
                     "%s"
                     "\r\n"
                     "retry: 2000\n\n",
                     cors);
    const struct mg_request_info *ri = mg_get_request_info(conn);
    int head_only = ri && ri->request_method && strcmp(ri->request_method, "HEAD") == 0;
    if (n > 0 && (size_t)n < sizeof head && events_write(conn, head, (size_t)n) == 0 && !head_only) {
        double next_keepalive = clock_now_ms() + EVENTS_KEEPALIVE_MS;
        for (;;) {
            double wait = next_keepalive - clock_now_ms();
            char *line = NULL;
            int got = service_events_next(srv->reg->events, &cursor, wait > 0 ? (int)wait : 0, &line);
            if (got < 0) break; /* the server is stopping */
            int failed = 0;
            if (got > 0) {
                size_t len = strlen(line);
                char *msg = malloc(len + 32);
                if (msg) {
                    int m = snprintf(msg, len + 32, "event: call\ndata: %s\n\n", line);
                    failed = events_write(conn, msg, (size_t)m);
                    free(msg);
                }
                free(line);
            }
            if (!failed && clock_now_ms() >= next_keepalive) {
                static const char keepalive[] = ": keepalive\n\n";
                failed = events_write(conn, keepalive, sizeof keepalive - 1);
                next_keepalive = clock_now_ms() + EVENTS_KEEPALIVE_MS;
            }
            if (failed) break; /* the client went away */
        }
    }
    admission_events_release(srv);
    return 200;
}
