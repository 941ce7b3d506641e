/* upload.c — POST /api/analyze: reads the whole multipart/form-data request,
 * finds the form field 'file', hands it to the service (service/upload.h) and
 * answers with its analysis or an HTTP error status. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/error.h"
#include "server/internal.h"
#include "service/upload.h"

#define UPLOAD_FORM_OVERHEAD (64 * 1024) /* multipart headers and other fields beyond the file */

/* Reads the request body into *out (malloc'ed, caller frees). Returns 0, or the
 * HTTP status sent for a refused body. */
static int body_read(struct mg_connection *conn, server *srv, size_t limit, unsigned char **out, size_t *out_size) {
    const struct mg_request_info *ri = mg_get_request_info(conn);
    *out = NULL;
    *out_size = 0;
    long long declared = ri->content_length; /* -1: chunked */
    size_t cap = declared >= 0 ? (size_t)declared : 65536, size = 0;
    unsigned char *buf = malloc(cap ? cap : 1);
    if (!buf) return http_send_error(conn, srv, 503, "Retry-After: 5\r\n", "out of memory receiving the upload");
    for (;;) {
        if (declared >= 0 && size == (size_t)declared) break;
        if (size == cap) {
            if (cap > limit) {
                free(buf);
                return http_send_error(conn, srv, 413, "Connection: close\r\n",
                                       "upload exceeds the limit of %zu bytes (--max-upload-mb)",
                                       limit - UPLOAD_FORM_OVERHEAD);
            }
            unsigned char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return http_send_error(conn, srv, 503, "Retry-After: 5\r\n", "out of memory receiving the upload");
            }
            buf = nb;
            cap *= 2;
        }
        int r = mg_read(conn, buf + size, cap - size);
        if (r <= 0) break;
        size += (size_t)r;
    }
    if (declared >= 0 && size < (size_t)declared) {
        free(buf);
        return http_send_error(conn, srv, 400, "Connection: close\r\n",
                               "the request body ended after %zu of its %lld bytes: the upload is truncated and "
                               "was not analysed or stored",
                               size, declared);
    }
    *out = buf;
    *out_size = size;
    return 0;
}

int route_analyze(struct mg_connection *conn, server *srv) {
    const struct mg_request_info *ri = mg_get_request_info(conn);
    size_t limit = srv->cfg.max_upload_bytes;
    const char *ctype = mg_get_header(conn, "Content-Type");
    if (!ctype || strncasecmp(ctype, "multipart/form-data", 19) != 0)
        return http_send_error(conn, srv, 415, "Connection: close\r\n",
                               "Content-Type must be multipart/form-data with the recording in a field named 'file' "
                               "(got %s)", ctype ? "another type" : "none");
    if (ri->content_length == 0)
        return http_send_error(conn, srv, 400, NULL, "empty request body: upload a recording in the form field 'file'");
    if (ri->content_length > 0 && (unsigned long long)ri->content_length > limit + UPLOAD_FORM_OVERHEAD)
        return http_send_error(conn, srv, 413, "Connection: close\r\n",
                               "upload of %lld bytes exceeds the limit of %zu bytes (--max-upload-mb)",
                               ri->content_length, limit);
    char boundary[80];
    if (multipart_boundary_parse(ctype, boundary, sizeof boundary) != 0)
        return http_send_error(conn, srv, 400, "Connection: close\r\n",
                               "the multipart/form-data Content-Type needs a boundary parameter of 1 to 70 "
                               "characters");
    unsigned char *body;
    size_t size;
    int status = body_read(conn, srv, limit + UPLOAD_FORM_OVERHEAD, &body, &size);
    if (status != 0) return status;
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
