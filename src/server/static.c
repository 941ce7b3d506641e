/* static.c — the dispatcher dashboard: static files from the web root under /dashboard/.
 *
 * GET /dashboard → 301 to /dashboard/; GET /dashboard/ → index.html; GET /dashboard/NAME
 * → the file NAME under the web root (--web-root, TRIDENT_WEB_ROOT, else the compiled-in
 * TRIDENT_WEB_DIR). Names are checked before the file system is touched: only
 * [A-Za-z0-9._-] in '/'-separated segments, no empty segment, no segment starting with
 * '.' (so no "..", no hidden files); the resolved real path must still lie inside the
 * real web root (no escape through symbolic links) and be a regular file. Anything
 * else is 404 {"detail"}. Responses carry the file's content type, an ETag
 * (size + mtime) with 304 on If-None-Match, "Cache-Control: no-cache" (always
 * revalidated, so an upgraded dashboard is never served stale), nosniff, no
 * framing and a Content-Security-Policy that only allows the server's own
 * origin. The files are public (the sign-in page is one); the data they show
 * comes from the API, which checks the session. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/error.h"
#include "base/log.h"
#include "server/internal.h"

#define STATIC_NAME_MAX 256

typedef struct {
    const char *ext, *type;
} static_mime;

static const static_mime static_mimes[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
    {".txt", "text/plain; charset=utf-8"},
    {".wav", "audio/wav"},
    {".woff2", "font/woff2"},
};

static const char *static_mime_type(const char *name) {
    const char *dot = strrchr(name, '.');
    if (dot)
        for (size_t i = 0; i < sizeof static_mimes / sizeof static_mimes[0]; i++)
            if (strcmp(dot, static_mimes[i].ext) == 0) return static_mimes[i].type;
    return "application/octet-stream";
}

/* 1 when name (relative, already URL-decoded by civetweb) is a safe file name under the root. */
static int static_name_check(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n >= STATIC_NAME_MAX) return 0;
    const char *seg = name;
    for (const char *p = name;; p++) {
        char c = *p;
        if (c == '/' || c == '\0') {
            if (p == seg || *seg == '.') return 0; /* empty segment, ".", "..", hidden file */
            if (c == '\0') return 1;
            seg = p + 1;
        } else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
                     c == '_' || c == '-')) {
            return 0;
        }
    }
}

int static_root_resolve(const char *dir, char *out, size_t out_size, char *err, size_t err_size) {
    if (!dir || !*dir) dir = TRIDENT_WEB_DIR;
    char real[PATH_MAX];
    if (!realpath(dir, real))
        return error_set(err, err_size, TRIDENT_ENOTFOUND, "web root %s: %s", dir, strerror(errno));
    struct stat st;
    if (stat(real, &st) != 0 || !S_ISDIR(st.st_mode))
        return error_set(err, err_size, TRIDENT_EINVAL, "web root %s is not a directory", dir);
    if (strlen(real) >= out_size) return error_set(err, err_size, TRIDENT_ELIMIT, "web root path %s is too long", real);
    snprintf(out, out_size, "%s", real);
    return 0;
}

static int static_not_found(struct mg_connection *conn, server *srv) {
    return http_send_error(conn, srv, 404, NULL, "Not Found");
}

int route_static(struct mg_connection *conn, server *srv, const char *path) {
    /* path (URL-decoded by civetweb) starts with "/dashboard" (the router checked) */
    const char *rest = path + strlen("/dashboard");
    if (*rest == '\0') return http_send_bytes(conn, srv, 301, NULL, NULL, 0, "Location: /dashboard/\r\n");
    if (*rest != '/') return static_not_found(conn, srv);
    const char *name = rest[1] ? rest + 1 : "index.html";
    if (!srv->web_root[0])
        return http_send_error(conn, srv, 404, NULL, "the dashboard is not available: %s", srv->web_root_error);
    if (!static_name_check(name)) return static_not_found(conn, srv);

    char joined[PATH_MAX + STATIC_NAME_MAX + 2], real[PATH_MAX];
    snprintf(joined, sizeof joined, "%s/%s", srv->web_root, name);
    size_t root_len = strlen(srv->web_root);
    struct stat st;
    if (!realpath(joined, real) || strncmp(real, srv->web_root, root_len) != 0 || real[root_len] != '/' ||
        stat(real, &st) != 0 || !S_ISREG(st.st_mode))
        return static_not_found(conn, srv);

    char etag[64];
    snprintf(etag, sizeof etag, "\"%llx-%llx\"", (unsigned long long)st.st_size, (unsigned long long)st.st_mtime);
    const char *inm = mg_get_header(conn, "If-None-Match");
    char cors[512];
    http_cors_header(conn, srv, cors, sizeof cors);
    if (inm && strstr(inm, etag)) {
        mg_printf(conn,
                  "HTTP/1.1 304 Not Modified\r\nETag: %s\r\nCache-Control: no-cache\r\n"
                  "%sContent-Length: 0\r\n\r\n",
                  etag, cors);
        return 304;
    }
    FILE *f = fopen(real, "rb");
    if (!f) return static_not_found(conn, srv);
    mg_printf(conn,
              "HTTP/1.1 200 OK\r\n"
              "Content-Type: %s\r\n"
              "Content-Length: %lld\r\n"
              "ETag: %s\r\n"
              "Cache-Control: no-cache\r\n"
              "X-Content-Type-Options: nosniff\r\n"
              "Referrer-Policy: no-referrer\r\n"
              "X-Frame-Options: DENY\r\n"
              "Content-Security-Policy: default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; "
              "media-src 'self' blob:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'\r\n"
              "%s"
              "\r\n",
              static_mime_type(real), (long long)st.st_size, etag, cors);
    const struct mg_request_info *ri = mg_get_request_info(conn);
    if (strcmp(ri->request_method, "HEAD") != 0) {
        char buf[16384];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
            if (mg_write(conn, buf, n) <= 0) break;
    }
    fclose(f);
    return 200;
}
