/* admission.c — what one client may hold of the server, on civetweb's
 * thread-per-connection model.
 *
 * Every connection holds a worker thread from accept to close (a WebSocket for the
 * whole call). So that no client can take them all:
 *   - each client address holds at most --max-client-connections connections at
 *     once (counted from accept; a live call, once accepted, counts against the
 *     live-call cap instead, so a telephony bridge on one address can carry many
 *     calls);
 *   - live calls are capped at --max-live-calls: the next upgrade is answered
 *     503 with Retry-After, like a full inference queue;
 *   - event streams (GET /api/events, held open while a dashboard watches) are
 *     capped at --max-event-streams the same way, and like a live call a stream
 *     counts against that cap instead of its address (a dispatch room behind
 *     one address has many dashboards);
 *   - the worker threads are at least live cap + event-stream cap + per-client limit + a reserve
 *     (server_start), so while one address holds everything it may, /health,
 *     /ready and the dashboard still find a thread for everyone else;
 *   - request_timeout_ms bounds the wait for a request's headers.
 *
 * A connection over its address's limit is refused at once, before its request is
 * read. civetweb 1.15 has no accept hook and hides a connection's address until
 * its request arrives, so the kernel's view is used: when a worker takes a new
 * connection (init_connection), every TCP socket of the process on the listening
 * port not seen before (/proc/self/fd, getpeername) is counted against its
 * client's address — the new connection is one of them; those over the limit get
 * a 503 and are shut down, and their worker reads end-of-file at once. If
 * /proc/self/fd cannot be read, the count happens at begin_request instead.
 *
 * The same scan learns each connection's socket, which the frame guard
 * (internal.h, admission_guard_start) watches on live calls: what one WebSocket
 * frame may make the server hold. */
#include <arpa/inet.h>
#include <dirent.h>
#include <linux/sockios.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include "base/log.h"
#include "server/internal.h"

void admission_init(server *srv) {
    pthread_mutex_init(&srv->admit_lock, NULL);
    srv->clients = NULL;
    srv->conns = NULL;
    srv->live_calls = 0;
    srv->event_streams = 0;
    srv->admit_blind = 0;
}

void admission_destroy(server *srv) {
    while (srv->clients) {
        admit_client *c = srv->clients;
        srv->clients = c->next;
        free(c);
    }
    while (srv->conns) {
        admit_conn *c = srv->conns;
        srv->conns = c->next;
        free(c);
    }
    pthread_mutex_destroy(&srv->admit_lock);
}

/* A socket address as (address, port); 0 for families other than IPv4/IPv6. */
static int addr_from_sockaddr(const struct sockaddr_storage *sa, admit_addr *a, int *port) {
    memset(a, 0, sizeof *a);
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        a->family = AF_INET;
        memcpy(a->addr, &in->sin_addr, 4);
        *port = ntohs(in->sin_port);
        return 1;
    }
    if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        a->family = AF_INET6;
        memcpy(a->addr, &in6->sin6_addr, 16);
        *port = ntohs(in6->sin6_port);
        return 1;
    }
    return 0;
}

/* civetweb's text form of a client address (request_info.remote_addr) as an admit_addr. */
static int addr_from_text(const char *text, admit_addr *a) {
    memset(a, 0, sizeof *a);
    if (inet_pton(AF_INET, text, a->addr) == 1) a->family = AF_INET;
    else if (inet_pton(AF_INET6, text, a->addr) == 1) a->family = AF_INET6;
    return a->family != 0;
}

static int addr_eq(const admit_addr *x, const admit_addr *y) {
    return x->family == y->family && memcmp(x->addr, y->addr, sizeof x->addr) == 0;
}

/* The client entry for a, created if needed (under admit_lock); NULL when out of memory. */
static admit_client *client_get(server *srv, const admit_addr *a) {
    for (admit_client *c = srv->clients; c; c = c->next)
        if (addr_eq(&c->addr, a)) return c;
    admit_client *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->addr = *a;
    c->next = srv->clients;
    srv->clients = c;
    return c;
}

/* Gives back one of a's slots (under admit_lock); forgets addresses holding none. */
static void client_release(server *srv, const admit_addr *a) {
    for (admit_client **p = &srv->clients; *p; p = &(*p)->next) {
        admit_client *c = *p;
        if (!addr_eq(&c->addr, a)) continue;
        if (--c->conns <= 0) {
            *p = c->next;
            free(c);
        }
        return;
    }
}

/* The connection entry of (a, port), or NULL (under admit_lock). With unlink set it
 * is taken out of the list (the caller frees it). */
static admit_conn *conn_find(server *srv, const admit_addr *a, int port, int unlink) {
    for (admit_conn **p = &srv->conns; *p; p = &(*p)->next) {
        admit_conn *c = *p;
        if (c->port != port || !addr_eq(&c->addr, a)) continue;
        if (unlink) *p = c->next;
        return c;
    }
    return NULL;
}

/* Counts a connection not seen before (its socket fd, -1 when unknown) against
 * its client (under admit_lock). Returns 1 when admitted, 0 when over the client's limit (or out of memory). */
static int conn_admit(server *srv, const admit_addr *a, int port, int fd) {
    admit_conn *e = calloc(1, sizeof *e);
    if (!e) return 0;
    e->addr = *a;
    e->port = port;
    e->fd = fd;
    e->next = srv->conns;
    srv->conns = e;
    admit_client *c = client_get(srv, a);
    if (!c || c->conns >= srv->cfg.max_client_connections) return 0;
    c->conns++;
    e->counted = 1;
    return 1;
}

static void refusal_log(const admit_addr *a, int limit) {
    char text[INET6_ADDRSTRLEN];
    if (!inet_ntop(a->family, a->addr, text, sizeof text)) snprintf(text, sizeof text, "?");
    log_warn("server", "connection refused: client over its limit addr=%s limit=%d (--max-client-connections)", text,
             limit);
}

/* Refuses an accepted socket no worker has read from yet: a 503, then shut down. */
static void socket_refuse(int fd, int limit) {
    char body[160], msg[400];
    int bn = snprintf(body, sizeof body,
                      "{\"detail\":\"too many connections from your address: at most %d at once "
                      "(--max-client-connections)\"}",
                      limit);
    int n = snprintf(msg, sizeof msg,
                     "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"
                     "Retry-After: 1\r\nConnection: close\r\n\r\n%s",
                     bn, body);
    (void)send(fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT); /* best effort: the refusal is the shutdown */
    shutdown(fd, SHUT_RDWR); /* its worker reads end-of-file and closes the socket */
}

/* Counts every connection on the listening port not seen before (under admit_lock).
 * Returns -1 when /proc/self/fd cannot be read. */
static int sockets_admit(server *srv) {
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        char *end;
        long fd = strtol(e->d_name, &end, 10);
        if (*end || end == e->d_name || fd == dirfd(d)) continue;
        struct sockaddr_storage peer, local;
        socklen_t pl = sizeof peer, ll = sizeof local;
        admit_addr pa, la;
        int pport, lport;
        if (getsockname((int)fd, (struct sockaddr *)&local, &ll) != 0 || !addr_from_sockaddr(&local, &la, &lport) ||
            lport != srv->port)
            continue;
        if (getpeername((int)fd, (struct sockaddr *)&peer, &pl) != 0 || !addr_from_sockaddr(&peer, &pa, &pport))
            continue; /* the listening socket, or a connection already shut */
        if (conn_find(srv, &pa, pport, 0)) continue;
        if (!conn_admit(srv, &pa, pport, (int)fd)) {
            refusal_log(&pa, srv->cfg.max_client_connections);
            metrics_refusal_record(&srv->metrics, METRICS_REFUSED_CLIENT_LIMIT);
            socket_refuse((int)fd, srv->cfg.max_client_connections);
        }
    }
    closedir(d);
    return 0;
}

int admission_connection_open(const struct mg_connection *conn, void **conn_data) {
    server *srv = mg_get_user_data(mg_get_context(conn));
    *conn_data = calloc(1, sizeof(server_conn)); /* NULL (out of memory): the connection gets no live call */
    if (!srv) return 0;
    pthread_mutex_lock(&srv->admit_lock);
    if (!srv->admit_blind && sockets_admit(srv) != 0) {
        srv->admit_blind = 1;
        log_warn("server", "/proc/self/fd is unreadable: clients are counted when their request arrives");
    }
    pthread_mutex_unlock(&srv->admit_lock);
    return 0;
}

int admission_request_check(struct mg_connection *conn, server *srv) {
    const struct mg_request_info *ri = mg_get_request_info(conn);
    admit_addr a;
    if (!ri || !addr_from_text(ri->remote_addr, &a)) return 0;
    int ok = 1;
    pthread_mutex_lock(&srv->admit_lock);
    if (!conn_find(srv, &a, ri->remote_port, 0)) ok = conn_admit(srv, &a, ri->remote_port, -1);
    pthread_mutex_unlock(&srv->admit_lock);
    if (ok) return 0;
    refusal_log(&a, srv->cfg.max_client_connections);
    metrics_refusal_record(&srv->metrics, METRICS_REFUSED_CLIENT_LIMIT);
    mg_disable_connection_keep_alive(conn);
    int status = http_send_error(conn, srv, 503, "Retry-After: 1\r\nConnection: close\r\n",
                                 "too many connections from %s: at most %d at once (--max-client-connections)",
                                 ri->remote_addr, srv->cfg.max_client_connections);
    metrics_request_record(&srv->metrics, ROUTE_OTHER, status, 0);
    return status;
}

/* Before the socket is closed: the live-call slot and the per-connection state. */
void admission_connection_close(const struct mg_connection *conn) {
    server *srv = mg_get_user_data(mg_get_context(conn));
    server_conn *sc = mg_get_user_connection_data(conn);
    const struct mg_request_info *ri = mg_get_request_info(conn);
    admit_addr a;
    if (srv) {
        pthread_mutex_lock(&srv->admit_lock);
        if (sc && sc->live) srv->live_calls--;
        /* the socket is about to close and its number may be reused: the guard lets go */
        admit_conn *e = ri && addr_from_text(ri->remote_addr, &a) ? conn_find(srv, &a, ri->remote_port, 0) : NULL;
        if (e) {
            e->fd = -1;
            e->live = NULL;
        }
        pthread_mutex_unlock(&srv->admit_lock);
    }
    free(sc);
}

/* After the socket is closed (so no scan can count it again): its client's slot. */
void admission_connection_closed(const struct mg_connection *conn) {
    server *srv = mg_get_user_data(mg_get_context(conn));
    const struct mg_request_info *ri = mg_get_request_info(conn);
    admit_addr a;
    if (!srv || !ri || !addr_from_text(ri->remote_addr, &a)) return;
    pthread_mutex_lock(&srv->admit_lock);
    admit_conn *e = conn_find(srv, &a, ri->remote_port, 1);
    if (e && e->counted) client_release(srv, &a);
    free(e);
    pthread_mutex_unlock(&srv->admit_lock);
}

int admission_live_acquire(struct mg_connection *conn, server *srv) {
    server_conn *sc = mg_get_user_connection_data(conn);
    const struct mg_request_info *ri = mg_get_request_info(conn);
    admit_addr a;
    int have_addr = ri && addr_from_text(ri->remote_addr, &a);
    int ok = 0, cap = srv->cfg.max_live_calls;
    pthread_mutex_lock(&srv->admit_lock);
    if (sc && !srv->stopping && srv->live_calls < cap) {
        srv->live_calls++;
        sc->live = 1;
        admit_conn *e = have_addr ? conn_find(srv, &a, ri->remote_port, 0) : NULL;
        if (e && e->counted) { /* a live call counts against the cap, not its client's connections */
            client_release(srv, &a);
            e->counted = 0;
        }
        if (e && e->fd >= 0) { /* the frame guard watches it from here */
            e->live = sc;
            e->guard_frames = 0;
            e->guard_base = 0;
        }
        ok = 1;
    }
    pthread_mutex_unlock(&srv->admit_lock);
    if (ok) return 0;
    metrics_refusal_record(&srv->metrics, METRICS_REFUSED_LIVE_CAP);
    mg_disable_connection_keep_alive(conn);
    int status = http_send_error(conn, srv, 503, "Retry-After: 5\r\nConnection: close\r\n",
                                 "%d live calls are in progress, the most this server takes (--max-live-calls); "
                                 "try again shortly",
                                 cap);
    metrics_request_record(&srv->metrics, ROUTE_WS_LIVE, status, 0);
    return 1;
}

int admission_events_acquire(struct mg_connection *conn, server *srv) {
    const struct mg_request_info *ri = mg_get_request_info(conn);
    admit_addr a;
    int have_addr = ri && addr_from_text(ri->remote_addr, &a);
    int ok = 0, cap = srv->cfg.max_event_streams;
    pthread_mutex_lock(&srv->admit_lock);
    if (!srv->stopping && srv->event_streams < cap) {
        srv->event_streams++;
        admit_conn *e = have_addr ? conn_find(srv, &a, ri->remote_port, 0) : NULL;
        if (e && e->counted) { /* a stream counts against the cap, not its client's connections */
            client_release(srv, &a);
            e->counted = 0;
        }
        ok = 1;
    }
    pthread_mutex_unlock(&srv->admit_lock);
    if (ok) return 0;
    metrics_refusal_record(&srv->metrics, METRICS_REFUSED_EVENT_CAP);
    mg_disable_connection_keep_alive(conn);
    return http_send_error(conn, srv, 503, "Retry-After: 5\r\nConnection: close\r\n",
                           "%d event streams are open, the most this server serves (--max-event-streams); "
                           "try again shortly",
                           cap);
}

void admission_events_release(server *srv) {
    pthread_mutex_lock(&srv->admit_lock);
    srv->event_streams--;
    pthread_mutex_unlock(&srv->admit_lock);
}

/* ---- the frame guard (internal.h) ------------------------------------------- */

#define GUARD_PERIOD_NS 20000000L /* 20 ms */

void admission_frame_seen(server_conn *sc) {
    if (sc) __atomic_fetch_add(&sc->frames, 1, __ATOMIC_RELAXED);
}

/* Bytes civetweb has taken from the socket so far: received less the unread
 * queue. Returns 0, or -1 when the kernel cannot say. */
static int socket_consumed(int fd, unsigned long long *out) {
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 ||
        len < offsetof(struct tcp_info, tcpi_bytes_received) + sizeof ti.tcpi_bytes_received)
        return -1;
    int unread = 0;
    if (ioctl(fd, SIOCINQ, &unread) != 0 || unread < 0) return -1;
    *out = ti.tcpi_bytes_received - (unsigned long long)unread;
    return 0;
}

/* Is fd still the socket of (a, port)? The entry's fd is dropped before the
 * socket closes, so this only guards against the unforeseen. */
static int socket_is(int fd, const admit_addr *a, int port) {
    struct sockaddr_storage peer;
    socklen_t pl = sizeof peer;
    admit_addr pa;
    int pport;
    return getpeername(fd, (struct sockaddr *)&peer, &pl) == 0 && addr_from_sockaddr(&peer, &pa, &pport) &&
           pport == port && addr_eq(&pa, a);
}

/* One look at every watched live call (under admit_lock). */
static void guard_look(server *srv, unsigned long long limit) {
    for (admit_conn *e = srv->conns; e; e = e->next) {
        if (!e->live || e->fd < 0) continue;
        unsigned long long consumed;
        if (socket_consumed(e->fd, &consumed) != 0) continue;
        unsigned long frames = __atomic_load_n(&e->live->frames, __ATOMIC_RELAXED);
        if (frames != e->guard_frames || e->guard_base == 0) { /* a frame went through: count from here */
            e->guard_frames = frames;
            e->guard_base = consumed ? consumed : 1;
            continue;
        }
        /* TCP_INFO and SIOCINQ are two reads: a segment arriving between them makes
         * consumed look smaller than before (seen: -6408 bytes, one 100-ms audio
         * frame, wrapping to 2^64 and cutting a sound call) — look again next time */
        if (consumed < e->guard_base) continue;
        if (consumed - e->guard_base <= limit || !socket_is(e->fd, &e->addr, e->port)) continue;
        char text[INET6_ADDRSTRLEN];
        if (!inet_ntop(e->addr.family, e->addr.addr, text, sizeof text)) snprintf(text, sizeof text, "?");
        log_warn("server",
                 "live call cut: a WebSocket frame of more than %zu bytes (--max-ws-message-kb) addr=%s "
                 "consumed=%llu",
                 srv->cfg.max_ws_message_bytes, text, consumed - e->guard_base);
        metrics_refusal_record(&srv->metrics, METRICS_REFUSED_FRAME);
        shutdown(e->fd, SHUT_RDWR); /* civetweb's read fails; the close handler ends the call */
        e->live = NULL;
    }
}

static void *guard_main(void *arg) {
    server *srv = arg;
    const unsigned long long max = srv->cfg.max_ws_message_bytes;
    const unsigned long long limit = max + max / 8 + 65536; /* frame header, TLS records, read-ahead */
    pthread_mutex_lock(&srv->admit_lock);
    while (!srv->guard_stop) {
        guard_look(srv, limit);
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        t.tv_nsec += GUARD_PERIOD_NS;
        if (t.tv_nsec >= 1000000000L) {
            t.tv_sec++;
            t.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&srv->guard_wake, &srv->admit_lock, &t);
    }
    pthread_mutex_unlock(&srv->admit_lock);
    return NULL;
}

int admission_guard_start(server *srv) {
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&srv->guard_wake, &attr);
    pthread_condattr_destroy(&attr);
    if (rc != 0) return rc;
    srv->guard_stop = 0;
    rc = pthread_create(&srv->guard, NULL, guard_main, srv);
    if (rc != 0) {
        pthread_cond_destroy(&srv->guard_wake);
        return rc;
    }
    srv->guard_running = 1;
    return 0;
}

void admission_guard_stop(server *srv) {
    if (!srv->guard_running) return;
    pthread_mutex_lock(&srv->admit_lock);
    srv->guard_stop = 1;
    pthread_cond_signal(&srv->guard_wake);
    pthread_mutex_unlock(&srv->admit_lock);
    pthread_join(srv->guard, NULL);
    pthread_cond_destroy(&srv->guard_wake);
    srv->guard_running = 0;
}
