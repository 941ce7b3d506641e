/* upload.c — POST /api/analyze: reads the whole multipart/form-data request
 * (upload_form_read, shared with the OpenAI-compatible routes), finds the form
 * field 'file', hands it to the service (service/upload.h) and answers with its
 * analysis or an HTTP error status. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/error.h"
#include "server/internal.h"
#include "service/upload.h"


/* Reads the request body into *out (malloc'ed, caller frees). Returns 0, or the
 * HTTP status of a refused body with its message and extra headers in *r. */
static int body_read(struct mg_connection *conn, size_t limit, unsigned char **out, size_t *out_size,
                     upload_refusal *r) {
    const struct mg_request_info *ri = mg_get_request_info(conn);
    *out = NULL;
    *out_size = 0;
    long long declared = ri->content_length; /* -1: chunked */
    size_t cap = declared >= 0 ? (size_t)declared : 65536, size = 0;
    unsigned char *buf = malloc(cap ? cap : 1);
    if (!buf) return upload_refuse(r, 503, "Retry-After: 5\r\n", "out of memory receiving the upload");
    for (;;) {
        if (declared >= 0 && size == (size_t)declared) break;
        if (size == cap) {
            if (cap > limit) {
                free(buf);
                return upload_refuse(r, 413, "Connection: close\r\n",
                                     "upload exceeds the limit of %zu bytes (--max-upload-mb)",
                                     limit - UPLOAD_FORM_OVERHEAD);
            }
            unsigned char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return upload_refuse(r, 503, "Retry-After: 5\r\n", "out of memory receiving the upload");
            }
            buf = nb;
            cap *= 2;
        }
        int n = mg_read(conn, buf + size, cap - size);
        if (n <= 0) break;
        size += (size_t)n;
    }
    if (declared >= 0 && size < (size_t)declared) {
        free(buf);
        return upload_refuse(r, 400, "Connection: close\r\n",
                             "the request body ended after %zu of its %lld bytes: the upload is truncated and "
                             "was not analysed or stored",
                             size, declared);
    }
    *out = buf;
    *out_size = size;
    return 0;
}

int upload_refuse(upload_refusal *r, int status, const char *headers, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
    r->status = status;
    r->headers = headers;
    return status;
}

int upload_form_read(struct mg_connection *conn, const server *srv, unsigned char **body, size_t *size,
                     char *boundary, size_t boundary_size, upload_refusal *r) {
    const struct mg_request_info *ri = mg_get_request_info(conn);
    size_t limit = srv->cfg.max_upload_bytes;
    *body = NULL;
    *size = 0;
    const char *ctype = mg_get_header(conn, "Content-Type");
    if (!ctype || strncasecmp(ctype, "multipart/form-data", 19) != 0)
        return upload_refuse(r, 415, "Connection: close\r\n",
                             "Content-Type must be multipart/form-data with the recording in a field named 'file' "
                             "(got %s)", ctype ? "another type" : "none");
    if (ri->content_length == 0)
        return upload_refuse(r, 400, NULL, "empty request body: upload a recording in the form field 'file'");
    if (ri->content_length > 0 && (unsigned long long)ri->content_length > limit + UPLOAD_FORM_OVERHEAD)
        return upload_refuse(r, 413, "Connection: close\r\n",
                             "upload of %lld bytes exceeds the limit of %zu bytes (--max-upload-mb)",
                             ri->content_length, limit);
    if (multipart_boundary_parse(ctype, boundary, boundary_size) != 0)
        return upload_refuse(r, 400, "Connection: close\r\n",
                             "the multipart/form-data Content-Type needs a boundary parameter of 1 to 70 "
                             "characters");
    return body_read(conn, limit + UPLOAD_FORM_OVERHEAD, body, size, r);
}

int route_analyze(struct mg_connection *conn, server *srv) {
    size_t limit = srv->cfg.max_upload_bytes;
    unsigned char *body;
    size_t size;
    char boundary[80];
    upload_refusal refusal;
    int status = upload_form_read(conn, srv, &body, &size, boundary, sizeof boundary, &refusal);
    if (status != 0) return http_send_error(conn, srv, status, refusal.headers, "%s", refusal.message);
    char err[TRIDENT_ERR_SIZE];
    multipart_file f;
    if (multipart_file_find(body, size, boundary, "file", &f, err, sizeof err) != 0) {
        status = http_send_error(conn, srv, 400, NULL, "%s; nothing was stored", err);
    } else if (!f.found) {
        status = http_send_error(conn, srv, 422, NULL,
                                 "Field required: the recording must be sent in the multipart form field 'file'");
    } else if (f.size == 0) {
        status = http_send_error(conn, srv, 400, NULL, "the uploaded file is empty");
    } else if (f.size > limit) {
        status = http_send_error(conn, srv, 413, NULL, "uploaded file exceeds the limit of %zu bytes (--max-upload-mb)",
                                 limit);
    } else {
        json_t *analysis = NULL;
        int rc = service_upload_analyze(srv->reg, f.data, f.size, f.filename, &analysis, err, sizeof err);
        if (rc == 0)
            status = http_send_json(conn, srv, 200, analysis, NULL);
        else if (rc == TRIDENT_ELIMIT)
            status = http_send_error(conn, srv, 413, NULL,
                                     "could not use the uploaded file: %s (the server's limit is --max-call-s)", err);
        else if (rc == TRIDENT_EBUSY)
            status = http_send_error(conn, srv, 503, "Retry-After: 5\r\n", "%s", err);
        else
            status = http_send_error(conn, srv, http_status_for(rc), NULL, "could not use the uploaded file: %s", err);
    }
    free(body);
    return status;
}
