/* multipart.c — a multipart/form-data body held in memory (RFC 7578 over
 * RFC 2046): the boundary parameter of the Content-Type (1 to 70 characters,
 * quoted or not, among other parameters), the parts between the delimiters,
 * each part's Content-Disposition name and filename. A body is well-formed
 * only up to its closing delimiter: one that ends before it (a truncated
 * upload) is refused. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/error.h"
#include "server/internal.h"

#define MULTIPART_BOUNDARY_MAX 70

/* Skips optional white space. */
static const char *skip_ws(const char *p) {
    while (*p == ' ' || *p == '\t') p++;
    return p;
}

/* Reads a parameter value at p (a quoted string with \-escapes, or a token up
 * to ';' or white space) into out. Returns the position after it, or NULL when
 * it is malformed or longer than out. */
static const char *param_value(const char *p, const char *end, char *out, size_t out_size) {
    size_t n = 0;
    if (p < end && *p == '"') {
        for (p++; p < end && *p != '"'; p++) {
            if (*p == '\\' && p + 1 < end) p++;
            if (n + 1 >= out_size) return NULL;
            out[n++] = *p;
        }
        if (p >= end) return NULL; /* unterminated quote */
        p++;
    } else {
        for (; p < end && *p != ';' && *p != ' ' && *p != '\t'; p++) {
            if (n + 1 >= out_size) return NULL;
            out[n++] = *p;
        }
    }
    out[n] = '\0';
    return p;
}

/* Finds parameter name (case-insensitive) in the "; a=b; c=d" list starting at p
 * (up to end). Returns 1 and fills out, 0 when absent, -1 when malformed. */
static int param_find(const char *p, const char *end, const char *name, char *out, size_t out_size) {
    size_t nl = strlen(name);
    while (p < end) {
        const char *semi = memchr(p, ';', (size_t)(end - p));
        if (!semi) return 0;
        p = skip_ws(semi + 1);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq) return 0;
        const char *k_end = eq;
        while (k_end > p && (k_end[-1] == ' ' || k_end[-1] == '\t')) k_end--;
        const char *v = skip_ws(eq + 1);
        if ((size_t)(k_end - p) == nl && strncasecmp(p, name, nl) == 0)
            return param_value(v, end, out, out_size) ? 1 : -1;
        /* skip this value (it may be quoted and hold ';') */
        char scratch[1024];
        const char *after = param_value(v, end, scratch, sizeof scratch);
        if (!after) return -1;
        p = after;
    }
    return 0;
}

int multipart_boundary_parse(const char *content_type, char *out, size_t out_size) {
    if (!content_type) return -1;
    const char *end = content_type + strlen(content_type);
    char b[MULTIPART_BOUNDARY_MAX + 2];
    if (param_find(content_type, end, "boundary", b, sizeof b) != 1) return -1;
    size_t n = strlen(b);
    if (n < 1 || n > MULTIPART_BOUNDARY_MAX || n >= out_size) return -1;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)b[i] < 0x20 || (unsigned char)b[i] >= 0x7f) return -1;
    memcpy(out, b, n + 1);
    return 0;
}

/* The end of the header block starting at p (the position of its blank line's
 * CRLF CRLF), or NULL. */
static const unsigned char *headers_end(const unsigned char *p, const unsigned char *end) {
    if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') return p; /* no headers */
    for (const unsigned char *q = p; end - q >= 4; q++)
        if (q[0] == '\r' && q[1] == '\n' && q[2] == '\r' && q[3] == '\n') return q + 2;
    return NULL;
}

/* The Content-Disposition of one part's header block [p, end): name and filename. */
static int part_disposition(const unsigned char *p, const unsigned char *end, char *name, size_t name_size,
                            char *filename, size_t filename_size, int *has_filename) {
    name[0] = filename[0] = '\0';
    *has_filename = 0;
    while (p < end) {
        const unsigned char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (!eol) eol = end;
        static const char cd[] = "content-disposition:";
        size_t line = (size_t)(eol - p);
        if (line > sizeof cd - 1 && strncasecmp((const char *)p, cd, sizeof cd - 1) == 0) {
            const char *v = skip_ws((const char *)p + sizeof cd - 1);
            const char *vend = (const char *)eol;
            if (param_find(v, vend, "name", name, name_size) < 0) return -1;
            int f = param_find(v, vend, "filename", filename, filename_size);
            if (f < 0) return -1;
            *has_filename = f == 1;
            return 0;
        }
        p = eol + 2;
    }
    return 0;
}

int multipart_parts_walk(const void *body, size_t size, const char *boundary,
                         void (*fn)(void *ctx, const multipart_part *part), void *ctx, char *err, size_t err_size) {
    const unsigned char *b = body, *end = b + size;
    char delim[MULTIPART_BOUNDARY_MAX + 5];
    int dl = snprintf(delim, sizeof delim, "\r\n--%s", boundary);
    /* the first delimiter may open the body without the CRLF before it */
    const unsigned char *p;
    if (size >= (size_t)dl - 2 && memcmp(b, delim + 2, (size_t)dl - 2) == 0) {
        p = b + dl - 2;
    } else {
        p = memmem(b, size, delim, (size_t)dl);
        if (!p)
            return error_set(err, err_size, TRIDENT_EFORMAT,
                             "malformed multipart/form-data body: no part starts with the boundary given in the "
                             "Content-Type");
        p += dl;
    }
    for (;;) {
        /* after a delimiter: "--" closes the body; else padding, CRLF, a part */
        if (end - p >= 2 && p[0] == '-' && p[1] == '-') return 0;
        while (p < end && (*p == ' ' || *p == '\t')) p++;
        if (end - p < 2 || p[0] != '\r' || p[1] != '\n')
            return error_set(err, err_size, TRIDENT_EFORMAT,
                             end - p < 2 ? "the multipart/form-data body ends without its closing boundary: the upload "
                                           "is incomplete (truncated)"
                                         : "malformed multipart/form-data body: a boundary line is followed by other "
                                           "text");
        p += 2;
        const unsigned char *hend = headers_end(p, end);
        if (!hend)
            return error_set(err, err_size, TRIDENT_EFORMAT,
                             "the multipart/form-data body ends inside a part's headers: the upload is incomplete "
                             "(truncated)");
        char name[128], filename[sizeof ((multipart_file *)0)->filename];
        int has_filename;
        if (part_disposition(p, hend, name, sizeof name, filename, sizeof filename, &has_filename) != 0)
            return error_set(err, err_size, TRIDENT_EFORMAT,
                             "malformed multipart/form-data body: a part's Content-Disposition cannot be parsed");
        const unsigned char *content = hend + 2;
        const unsigned char *next = memmem(content, (size_t)(end - content), delim, (size_t)dl);
        if (!next)
            return error_set(err, err_size, TRIDENT_EFORMAT,
                             "the multipart/form-data body ends without its closing boundary: the upload is "
                             "incomplete (truncated)");
        multipart_part part = {name, content, (size_t)(next - content), filename, has_filename};
        fn(ctx, &part);
        p = next + dl;
    }
}

typedef struct {
    const char *field;
    multipart_file *out;
} file_find_ctx;

static void file_find_part(void *ctx, const multipart_part *part) {
    file_find_ctx *c = ctx;
    multipart_file *out = c->out;
    if (out->found || strcmp(part->name, c->field) != 0) return;
    out->found = 1;
    out->data = part->data;
    out->size = part->size;
    snprintf(out->filename, sizeof out->filename, "%s", part->filename);
    out->has_filename = part->has_filename;
}

int multipart_file_find(const void *body, size_t size, const char *boundary, const char *field, multipart_file *out,
                        char *err, size_t err_size) {
    memset(out, 0, sizeof *out);
    file_find_ctx c = {field, out};
    return multipart_parts_walk(body, size, boundary, file_find_part, &c, err, err_size);
}
