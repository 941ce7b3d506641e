/* openapi.c — GET /openapi.json: the OpenAPI 3 document of every route, kept in
 * docs/openapi.json and compiled into the binary at build time
 * (scripts/embed-file.cmake), so the file in the repository is the one source
 * and the server needs no path to it. tests/server/test_openapi.py checks it
 * against the routes the server registers. */
#include "server/internal.h"

extern const unsigned char server_openapi_json[];
extern const size_t server_openapi_json_size;

int route_openapi(struct mg_connection *conn, server *srv) {
    return http_send_bytes(conn, srv, 200, "application/json", server_openapi_json, server_openapi_json_size, NULL);
}
