/* http.c — HTTP responses: JSON bodies, {"detail"} errors, raw bytes, the CORS
 * and security headers; JSON request bodies. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/json.h"
#include "server/internal.h"

/* The status line and headers of a response, into buf (n bytes); returns the
 * length snprintf reports. */
static int head_format(char *buf, size_t n, const char *cors, int status, const char *reason, size_t size,
                       const char *content_type, const char *extra_headers) {
    return snprintf(buf, n,
                    "HTTP/1.1 %d %s\r\n"
                    "Content-Length: %zu\r\n"
                    "%s%s%s"
                    "%s"
                    "Cache-Control: no-store\r\n" HTTP_SECURITY_HEADERS
                    "%s"
                    "\r\n",
                    status, reason ? reason : "", size, content_type ? "Content-Type: " : "",
                    content_type ? content_type : "", content_type ? "\r\n" : "", cors,
                    extra_headers ? extra_headers : "");
}

int http_send_bytes(struct mg_connection *conn, const server *srv, int status, const char *content_type,
                    const void *data, size_t size, const char *extra_headers) {
    const char *reason = mg_get_response_code_text(conn, status);
    /* formatted here and written with mg_write: civetweb's mg_printf formats on
     * its worker's small stack, which overflows under AddressSanitizer */
    char cors[512];
    http_cors_header(conn, srv, cors, sizeof cors);
    int n = head_format(NULL, 0, cors, status, reason, size, content_type, extra_headers);
    char *head = n > 0 ? malloc((size_t)n + 1) : NULL;
    if (!head) return status; /* out of memory: the client sees the connection close */
    head_format(head, (size_t)n + 1, cors, status, reason, size, content_type, extra_headers);
    mg_write(conn, head, (size_t)n);
    free(head);
    const struct mg_request_info *ri = mg_get_request_info(conn);
    /* request_method is NULL when civetweb could not parse the request (http_error callback) */
    if (size && !(ri && ri->request_method && strcmp(ri->request_method, "HEAD") == 0)) mg_write(conn, data, size);
    return status;
}

int http_send_json(struct mg_connection *conn, const server *srv, int status, json_t *body, const char *extra_headers) {
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    if (!text) {
        static const char oom[] = "{\"detail\":\"out of memory building the response\"}";
        return http_send_bytes(conn, srv, 500, "application/json", oom, sizeof oom - 1, NULL);
    }
    int rc = http_send_bytes(conn, srv, status, "application/json", text, strlen(text), extra_headers);
    free(text);
    return rc;
}

int http_send_error(struct mg_connection *conn, const server *srv, int status, const char *extra_headers,
                    const char *fmt, ...) {
    char msg[TRIDENT_ERR_SIZE];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* messages may quote untrusted bytes: json_text turns invalid UTF-8 into U+FFFD */
    const struct mg_request_info *ri = mg_get_request_info(conn);
    const char *path = ri && ri->local_uri ? ri->local_uri : "";
    if (strncmp(path, "/v1/", 4) == 0) {
        const char *code = status == 401 ? "invalid_api_key" : status == 403 ? "insufficient_permissions" : NULL;
        return http_send_json(conn, srv, status, http_openai_error(status, NULL, code, msg), extra_headers);
    }
    return http_send_json(conn, srv, status, json_pack("{s:o}", "detail", json_text(msg)), extra_headers);
}

json_t *http_openai_error(int status, const char *param, const char *code, const char *message) {
    json_t *e = json_pack("{s:o, s:s, s:o, s:o}", "message", json_text(message), "type",
                          status >= 500 ? "server_error" : "invalid_request_error", "param", json_text_or_null(param),
                          "code", json_text_or_null(code));
    return e ? json_pack("{s:o}", "error", e) : NULL;
}

int http_status_for(int code) {
    switch (code) {
    case TRIDENT_EINVAL:
    case TRIDENT_EFORMAT: return 400;
    case TRIDENT_EUNSUPPORTED: return 415;
    case TRIDENT_ENOTFOUND: return 404;
    case TRIDENT_ELIMIT: return 413;
    case TRIDENT_EBUSY: return 503;
    case TRIDENT_ECONFLICT: return 409;
    default: return 500;
    }
}

int http_body_json(struct mg_connection *conn, server *srv, size_t max, json_t **out) {
    *out = NULL;
    const struct mg_request_info *ri = mg_get_request_info(conn);
    if (ri->content_length > (long long)max)
        return http_send_error(conn, srv, 413, "Connection: close\r\n", "the body is larger than %zu bytes", max);
    char *buf = malloc(max + 1);
    if (!buf) return http_send_error(conn, srv, 503, "Retry-After: 5\r\n", "out of memory");
    size_t size = 0;
    for (;;) {
        int r = mg_read(conn, buf + size, max + 1 - size);
        if (r <= 0) break;
        size += (size_t)r;
        if (size > max) {
            free(buf);
            return http_send_error(conn, srv, 413, "Connection: close\r\n", "the body is larger than %zu bytes", max);
        }
    }
    if (ri->content_length > 0 && size < (size_t)ri->content_length) {
        free(buf);
        return http_send_error(conn, srv, 400, "Connection: close\r\n", "the body ended before its Content-Length");
    }
    if (size == 0) {
        free(buf);
        return 0;
    }
    char err[TRIDENT_ERR_SIZE];
    int rc = json_input_parse(buf, size, out, err, sizeof err);
    free(buf);
    if (rc) return http_send_error(conn, srv, 400, NULL, "%s", err);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return http_send_error(conn, srv, 400, NULL, "the body must be a JSON object");
    }
    return 0;
}
