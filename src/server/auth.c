/* auth.c — access control over HTTP and WebSocket: who is asking (a bearer
 * token, or the dashboard's session cookie), what their role allows
 * (service/access.h), when the server may run without tokens, the sign-in
 * routes (/api/session), the audit log (its rows and GET /api/audit), the
 * token list for supervisors (GET /api/tokens), and the CORS allow-list with
 * the WebSocket Origin check. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/json.h"
#include "base/log.h"
#include "server/internal.h"

#define SESSION_COOKIE "trident_session"
/* Largest POST /api/session body. */
#define SESSION_BODY_MAX 4096

/* ---- configuration ---------------------------------------------------------- */

/* 1 for a loopback address (127.0.0.0/8, ::1, localhost). */
static int host_loopback(const char *host) {
    if (!host || !*host || strcmp(host, "localhost") == 0) return 1;
    unsigned char a[16];
    if (inet_pton(AF_INET, host, a) == 1) return a[0] == 127;
    if (inet_pton(AF_INET6, host, a) == 1) return memcmp(a, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0;
    return 0;
}

/* An origin as browsers send it: http(s)://host[:port], nothing after. */
static int origin_valid(const char *o) {
    const char *rest = strncmp(o, "https://", 8) == 0 ? o + 8 : strncmp(o, "http://", 7) == 0 ? o + 7 : NULL;
    if (!rest || !*rest) return 0;
    for (const char *c = rest; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '.' ||
              *c == '-' || *c == ':' || *c == '[' || *c == ']'))
            return 0;
    return 1;
}

void auth_clear(server *srv) {
    for (size_t i = 0; i < srv->n_cors; i++) free(srv->cors[i]);
    free(srv->cors);
    srv->cors = NULL;
    srv->n_cors = 0;
}

/* Splits the comma-separated --cors-origin list into srv->cors. */
static int cors_parse(server *srv, const char *list, char *err, size_t n) {
    const char *p = list ? list : "";
    while (*p) {
        size_t len = strcspn(p, ", ");
        if (len) {
            char *o = strndup(p, len);
            char **grown = o ? realloc(srv->cors, (srv->n_cors + 1) * sizeof *grown) : NULL;
            if (!grown) {
                free(o);
                return error_set(err, n, TRIDENT_ENOMEM, "out of memory reading --cors-origin");
            }
            srv->cors = grown;
            srv->cors[srv->n_cors++] = o;
            if (!origin_valid(o))
                return error_set(err, n, TRIDENT_EINVAL,
                                 "--cors-origin '%s' is not an origin: give scheme://host[:port] (no path, no '*'); "
                                 "repeat the flag for several",
                                 o);
        }
        p += len;
        p += strspn(p, ", ");
    }
    return TRIDENT_OK;
}

int auth_init(server *srv, char *err, size_t n) {
    int rc = cors_parse(srv, srv->cfg.cors_origins, err, n);
    if (rc) return rc;
    const char *host = srv->cfg.host && *srv->cfg.host ? srv->cfg.host : "127.0.0.1";
    int loopback = host_loopback(host);
    srv->auth_may_open = loopback || srv->cfg.insecure;
    int64_t tokens = 0;
    if (srv->reg->store && (rc = store_token_active_count(srv->reg->store, &tokens, err, n))) return rc;
    if (tokens > 0) {
        log_info("auth", "auth is on tokens=%lld cors_origins=%zu", (long long)tokens, srv->n_cors);
        srv->auth_state = 1;
    } else if (loopback) {
        log_warn("auth", "auth is off: no API tokens in the store and the server listens on loopback only (%s); "
                         "create one with `trident token add` to turn it on", host);
        srv->auth_state = 0;
    } else if (srv->cfg.insecure) {
        log_warn("auth", "auth is OFF on a network address (%s) because --insecure was given: anyone who reaches this "
                         "port can read every call; create a token with `trident token add`", host);
        srv->auth_state = 0;
    } else {
        rc = error_set(err, n, TRIDENT_EINVAL,
                       "refusing to listen on %s without authentication: the store holds no API token. Create one "
                       "with `trident token add --db DB --name NAME --role supervisor`, listen on 127.0.0.1, or give "
                       "--insecure to serve everyone who reaches the port",
                       host);
        log_error("auth", "%s", err);
        return rc;
    }
    return TRIDENT_OK;
}

/* ---- who is asking ---------------------------------------------------------- */

static int origin_ok(const struct mg_connection *conn, const server *srv);

/* A cookie-carrying request that changes something must come from a page of
 * this server or a listed origin (cross-site request forgery, beside SameSite). */
static int cookie_write_refused(struct mg_connection *conn, server *srv) {
    const char *m = mg_get_request_info(conn)->request_method;
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || origin_ok(conn, srv)) return 0;
    metrics_auth_record(&srv->metrics, 403);
    return http_send_error(conn, srv, 403, NULL, "a request from another site's page is refused (Origin %.200s)",
                           mg_get_header(conn, "Origin"));
}

/* 1 when requests without credentials are served (as "local", a supervisor):
 * no active token in the store and the server may run open. Logs changes. */
static int auth_open(server *srv) {
    int64_t tokens = 1;
    char err[TRIDENT_ERR_SIZE];
    if (srv->auth_may_open && srv->reg->store && store_token_active_count(srv->reg->store, &tokens, err, sizeof err))
        tokens = 1; /* cannot tell: stay closed */
    int open = srv->auth_may_open && (!srv->reg->store || tokens == 0);
    int was_on = __atomic_exchange_n(&srv->auth_state, !open, __ATOMIC_RELAXED);
    if (was_on != !open) log_warn("auth", open ? "auth is off: no active API token left" : "auth is on: tokens exist");
    return open;
}

static int send_401(struct mg_connection *conn, server *srv, const char *why) {
    metrics_auth_record(&srv->metrics, 401);
    return http_send_error(conn, srv, 401, "WWW-Authenticate: Bearer realm=\"trident\"\r\n",
                           "%s: send Authorization: Bearer TOKEN, or sign in at /dashboard/signin.html", why);
}

/* With auth off, only requests addressed to a loopback name are served: a page
 * of another site that re-points its own name at 127.0.0.1 (DNS rebinding) is
 * same-origin to the browser, but its Host is still that name. */
static int host_rebound(struct mg_connection *conn, server *srv) {
    const char *host = mg_get_header(conn, "Host");
    if (!host || srv->cfg.insecure) return 0;
    char name[256];
    const char *end = host[0] == '[' ? strchr(host, ']') : strrchr(host, ':');
    size_t len = end ? (size_t)(end - host) : strlen(host);
    if (host[0] == '[') host++, len = len ? len - 1 : 0;
    snprintf(name, sizeof name, "%.*s", (int)len, host);
    if (host_loopback(name) && name[0]) return 0;
    metrics_auth_record(&srv->metrics, 403);
    return http_send_error(conn, srv, 403, NULL,
                           "auth is off and this server answers only requests addressed to a loopback name, not %.200s",
                           mg_get_header(conn, "Host"));
}

int auth_identify(struct mg_connection *conn, server *srv, access_identity *who) {
    char err[TRIDENT_ERR_SIZE];
    const char *auth = mg_get_header(conn, "Authorization");
    store *st = srv->reg->store;
    /* With auth off a credential that does not check out is ignored, as an expired session is: an
     * OpenAI client always sends some API key. */
    if (auth) {
        const int bearer = strncasecmp(auth, "Bearer ", 7) == 0 && auth[7];
        if (!bearer && !auth_open(srv)) return send_401(conn, srv, "malformed Authorization header");
        if (bearer && !st) return send_401(conn, srv, "no token store (--db)");
        int rc = bearer ? access_token_check(st, auth + 7, who, err, sizeof err) : TRIDENT_ENOTFOUND;
        if (rc == 0) return 0;
        if (rc != TRIDENT_ENOTFOUND)
            return http_send_error(conn, srv, 503, "Retry-After: 5\r\n", "cannot check the token: %s", err);
        if (!auth_open(srv)) return send_401(conn, srv, "unknown or revoked token");
    }
    char session[ACCESS_SECRET_SIZE + 8];
    const char *cookies = mg_get_header(conn, "Cookie");
    if (!auth && st && cookies && mg_get_cookie(cookies, SESSION_COOKIE, session, sizeof session) > 0) {
        int rc = access_session_check(st, session, who, err, sizeof err);
        if (rc == 0) return cookie_write_refused(conn, srv);
        if (rc != TRIDENT_ENOTFOUND)
            return http_send_error(conn, srv, 503, "Retry-After: 5\r\n", "cannot check the session: %s", err);
        if (!auth_open(srv)) return send_401(conn, srv, "the session has expired or was signed out");
    } else if (!auth_open(srv)) {
        return send_401(conn, srv, "authentication required");
    }
    int status = host_rebound(conn, srv);
    if (status) return status;
    snprintf(who->name, sizeof who->name, "local");
    who->role = ACCESS_ROLE_SUPERVISOR;
    return 0;
}

int auth_require(struct mg_connection *conn, server *srv, access_permission p, access_identity *who) {
    int status = auth_identify(conn, srv, who);
    if (status) return status;
    if (access_role_allows(who->role, p)) return 0;
    metrics_auth_record(&srv->metrics, 403);
    return http_send_error(conn, srv, 403, NULL, "%s is a%s %s and may not %s", who->name,
                           who->role == ACCESS_ROLE_INGEST ? "n" : "", access_role_name(who->role),
                           access_permission_text(p));
}

/* ---- CORS and Origin ---------------------------------------------------------- */

static int origin_listed(const server *srv, const char *origin) {
    for (size_t i = 0; origin && i < srv->n_cors; i++)
        if (strcasecmp(origin, srv->cors[i]) == 0) return 1;
    return 0;
}

int http_cors_header(const struct mg_connection *conn, const server *srv, char *out, size_t n) {
    out[0] = '\0';
    const char *origin = conn ? mg_get_header(conn, "Origin") : NULL;
    if (!origin_listed(srv, origin)) return 0;
    return snprintf(out, n, "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n", origin) < (int)n ? 1 : 0;
}

/* 1 when origin is this server's own (scheme and the Host the browser asked for). */
static int origin_same(const struct mg_connection *conn, const char *origin) {
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const char *host = mg_get_header(conn, "Host");
    if (!host || !ri) return 0;
    const char *scheme = ri->is_ssl ? "https://" : "http://";
    size_t sl = strlen(scheme);
    return strncasecmp(origin, scheme, sl) == 0 && strcasecmp(origin + sl, host) == 0;
}

/* 1 when the request has no Origin (not a browser's page) or its Origin is this server's or listed. */
static int origin_ok(const struct mg_connection *conn, const server *srv) {
    const char *origin = mg_get_header(conn, "Origin");
    return !origin || origin_same(conn, origin) || origin_listed(srv, origin);
}

int auth_ws_check(struct mg_connection *conn, server *srv) {
    const char *origin = mg_get_header(conn, "Origin");
    int status;
    if (!origin_ok(conn, srv)) {
        metrics_auth_record(&srv->metrics, 403);
        status = http_send_error(conn, srv, 403, "Connection: close\r\n",
                                 "a WebSocket from origin %.200s is refused: only this server's own pages and "
                                 "--cors-origin origins may open one",
                                 origin);
    } else {
        access_identity who;
        status = auth_require(conn, srv, ACCESS_INGEST, &who);
        if (!status) log_debug("auth", "live call opened by=%s role=%s", who.name, access_role_name(who.role));
    }
    if (status) metrics_request_record(&srv->metrics, ROUTE_WS_LIVE, status, 0);
    return status;
}

/* ---- audit --------------------------------------------------------------------- */

int auth_audit(struct mg_connection *conn, server *srv, const access_identity *who, const char *action,
               const char *call_id) {
    const struct mg_request_info *ri = mg_get_request_info(conn);
    char id[STORE_ID_SIZE]; /* ids are stored in lower case */
    size_t i = 0;
    for (; call_id[i] && i + 1 < sizeof id; i++) id[i] = (char)((call_id[i] >= 'A' && call_id[i] <= 'F') ? call_id[i] + 32 : call_id[i]);
    id[i] = '\0';
    store_audit_entry e = {.at = clock_wall_s(), .actor = (char *)who->name, .role = (char *)access_role_name(who->role),
                           .action = (char *)action, .call_id = id,
                           .address = ri ? (char *)ri->remote_addr : ""};
    char err[TRIDENT_ERR_SIZE];
    int rc = store_audit_insert(srv->reg->store, &e, err, sizeof err);
    if (rc) {
        log_error("auth", "cannot write the audit log: %s", err);
        return http_send_error(conn, srv, 503, "Retry-After: 5\r\n",
                               "cannot record this access in the audit log; nothing is shown without it");
    }
    return 0;
}

int route_audit(struct mg_connection *conn, server *srv) {
    if (!srv->reg->store) return http_send_error(conn, srv, 503, NULL, "no call store is configured (--db)");
    const char *qs = mg_get_request_info(conn)->query_string;
    long long limit = STORE_LIST_DEFAULT, offset = 0;
    if (http_query_int(qs, "limit", STORE_LIST_MAX, &limit) < 0)
        return http_send_error(conn, srv, 400, NULL, "limit must be an integer between 0 and %d", STORE_LIST_MAX);
    if (http_query_int(qs, "offset", 1LL << 40, &offset) < 0)
        return http_send_error(conn, srv, 400, NULL, "offset must be a non-negative integer");
    char call_id[64] = "";
    int got = qs ? mg_get_var(qs, strlen(qs), "call_id", call_id, sizeof call_id) : -1;
    if (got < -1 || (got >= 0 && !store_id_valid(call_id)))
        return http_send_error(conn, srv, 400, NULL, "call_id must be a call's id");
    store_audit_entry *a = NULL;
    size_t count = 0;
    int64_t total = 0;
    char err[TRIDENT_ERR_SIZE];
    int rc = store_audit_list(srv->reg->store, got >= 0 ? call_id : NULL, limit, offset, &a, &count, &total, err,
                              sizeof err);
    if (rc) return http_send_error(conn, srv, 500, NULL, "%s", err);
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < count; i++) {
        char at[40];
        clock_iso8601(a[i].at, at, sizeof at);
        json_t *row = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o}", "at", at, "by", json_text_or_null(a[i].actor), "role",
                                json_text_or_null(a[i].role), "action", json_text_or_null(a[i].action), "call_id",
                                json_text_or_null(a[i].call_id), "address", json_text_or_null(a[i].address));
        if (!row || json_array_append_new(arr, row) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    store_audit_free(a, count);
    json_t *o = arr ? json_pack("{s:o, s:I, s:I, s:I}", "entries", arr, "total", (json_int_t)total, "limit",
                                (json_int_t)limit, "offset", (json_int_t)offset)
                    : NULL;
    if (!o) return http_send_error(conn, srv, 500, NULL, "out of memory listing the audit log");
    return http_send_json(conn, srv, 200, o, NULL);
}

/* An epoch time as ISO-8601 text, or null for 0 (never). */
static json_t *time_or_null(double t) {
    if (t <= 0) return json_null();
    char at[40];
    clock_iso8601(t, at, sizeof at);
    return json_string(at);
}

int route_tokens(struct mg_connection *conn, server *srv) {
    if (!srv->reg->store) return http_send_error(conn, srv, 503, NULL, "no call store is configured (--db)");
    store_token *t = NULL;
    size_t count = 0;
    char err[TRIDENT_ERR_SIZE];
    int rc = store_token_list(srv->reg->store, &t, &count, err, sizeof err);
    if (rc) return http_send_error(conn, srv, 500, NULL, "%s", err);
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < count; i++) {
        json_t *row = json_pack("{s:o, s:o, s:o, s:o, s:o}", "name", json_text_or_null(t[i].name), "role",
                                json_text_or_null(t[i].role), "created_at", time_or_null(t[i].created_at),
                                "last_used_at", time_or_null(t[i].last_used_at), "revoked_at",
                                time_or_null(t[i].revoked_at));
        if (!row || json_array_append_new(arr, row) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    store_token_list_free(t, count);
    json_t *o = arr ? json_pack("{s:o}", "tokens", arr) : NULL;
    if (!o) return http_send_error(conn, srv, 500, NULL, "out of memory listing tokens");
    return http_send_json(conn, srv, 200, o, NULL);
}

/* ---- sign-in ------------------------------------------------------------------- */

static json_t *identity_json(const access_identity *who, int auth_on) {
    return json_pack("{s:o, s:s, s:b}", "name", json_text_or_null(who->name), "role", access_role_name(who->role),
                     "auth", auth_on);
}

/* The session cookie's attributes: HttpOnly, SameSite=Strict, the whole site, Secure over TLS. */
static void cookie_header(const struct mg_connection *conn, const char *value, double max_age, char *out, size_t n) {
    const struct mg_request_info *ri = mg_get_request_info(conn);
    snprintf(out, n, "Set-Cookie: " SESSION_COOKIE "=%s; Path=/; Max-Age=%.0f; HttpOnly; SameSite=Strict%s\r\n", value,
             max_age, ri && ri->is_ssl ? "; Secure" : "");
}

int route_session(struct mg_connection *conn, server *srv) {
    const struct mg_request_info *ri = mg_get_request_info(conn);
    char err[TRIDENT_ERR_SIZE];
    access_identity who;
    int status;
    if (strcmp(ri->request_method, "GET") == 0 || strcmp(ri->request_method, "HEAD") == 0) {
        status = auth_identify(conn, srv, &who);
        if (status) return status;
        return http_send_json(conn, srv, 200, identity_json(&who, srv->auth_state), NULL);
    }
    /* signing in or out from another site's page (login CSRF) is refused */
    if ((status = cookie_write_refused(conn, srv)) != 0) return status;
    if (strcmp(ri->request_method, "DELETE") == 0) {
        char session[ACCESS_SECRET_SIZE + 8];
        const char *cookies = mg_get_header(conn, "Cookie");
        if (srv->reg->store && cookies && mg_get_cookie(cookies, SESSION_COOKIE, session, sizeof session) > 0 &&
            access_session_close(srv->reg->store, session, err, sizeof err) != 0)
            return http_send_error(conn, srv, 503, "Retry-After: 5\r\n", "cannot sign out: %s", err);
        char hdr[256];
        cookie_header(conn, "", 0, hdr, sizeof hdr);
        return http_send_json(conn, srv, 200, json_pack("{s:b}", "signed_out", 1), hdr);
    }
    if (strcmp(ri->request_method, "POST") != 0) return -405;
    if (!srv->reg->store) return http_send_error(conn, srv, 503, NULL, "no token store is configured (--db)");
    json_t *body = NULL;
    status = http_body_json(conn, srv, SESSION_BODY_MAX, &body);
    if (status) return status;
    const char *token = json_string_value(json_object_get(body, "token"));
    if (!token) {
        json_decref(body);
        return http_send_error(conn, srv, 400, NULL, "send {\"token\": \"trd_...\"}");
    }
    char session[ACCESS_SECRET_SIZE];
    double expires = 0;
    int rc = access_session_open(srv->reg->store, token, session, &who, &expires, err, sizeof err);
    json_decref(body);
    if (rc == TRIDENT_ENOTFOUND) return send_401(conn, srv, "unknown or revoked token");
    if (rc) return http_send_error(conn, srv, 503, "Retry-After: 5\r\n", "cannot sign in: %s", err);
    log_info("auth", "signed in name=%s role=%s from=%s", who.name, access_role_name(who.role), ri->remote_addr);
    char hdr[256];
    cookie_header(conn, session, ACCESS_SESSION_S, hdr, sizeof hdr);
    json_t *o = identity_json(&who, 1);
    if (o) json_object_set_new(o, "expires_at", time_or_null(expires));
    return http_send_json(conn, srv, 200, o, hdr);
}
