/* error.c — error messages and code names. */
#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>

int error_set(char *err, size_t err_size, int code, const char *fmt, ...) {
    if (err && err_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    return code;
}

const char *error_name(int code) {
    switch (code) {
    case TRIDENT_OK: return "ok";
    case TRIDENT_EINVAL: return "invalid input";
    case TRIDENT_ENOMEM: return "out of memory";
    case TRIDENT_EIO: return "I/O error";
    case TRIDENT_EFORMAT: return "bad format";
    case TRIDENT_EUNSUPPORTED: return "unsupported";
    case TRIDENT_ENOTFOUND: return "not found";
    case TRIDENT_EBUSY: return "busy";
    case TRIDENT_ELIMIT: return "limit exceeded";
    case TRIDENT_EDB: return "database error";
    case TRIDENT_ECONFLICT: return "conflict";
    default: return "error";
    }
}
