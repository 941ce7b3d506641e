/* error.h — the project's error convention.
 *
 * Functions return 0 on success or a negative TRIDENT_E* code, and fill a
 * caller-provided message buffer (`char *err, size_t err_size`, TRIDENT_ERR_SIZE
 * bytes is always enough) with a sentence the caller can show to a user.
 * Both functions keep no state and are thread-safe. */
#ifndef TRIDENT_BASE_ERROR_H
#define TRIDENT_BASE_ERROR_H

#include <stddef.h>

#define TRIDENT_ERR_SIZE 512

enum {
    TRIDENT_OK = 0,
    TRIDENT_EINVAL = -1,   /* bad argument or malformed input */
    TRIDENT_ENOMEM = -2,   /* allocation failed */
    TRIDENT_EIO = -3,      /* file or socket I/O failed */
    TRIDENT_EFORMAT = -4,  /* input is not in the expected format */
    TRIDENT_EUNSUPPORTED = -5, /* well-formed but not supported */
    TRIDENT_ENOTFOUND = -6,    /* a file, record or key does not exist */
    TRIDENT_EBUSY = -7,    /* a bounded queue or resource is full */
    TRIDENT_ELIMIT = -8,   /* a configured limit was exceeded */
    TRIDENT_EDB = -9,      /* database error */
    TRIDENT_ECONFLICT = -10, /* the record's current state forbids the change (another holder, a final state) */
};

/* Formats a message into err (if err is non-NULL) and returns code, so that
 * callers can write `return error_set(err, n, TRIDENT_EINVAL, "bad %s", x);`. */
int error_set(char *err, size_t err_size, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* A short static name for a code ("invalid input", "out of memory", ...). */
const char *error_name(int code);

#endif
