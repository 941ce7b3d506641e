/* check.h — the assertions every C test uses.
 *
 * CHECK(cond, fmt, ...) records a failure with file:line and a message and goes
 * on; check_summary() prints "N passed, N failed" and returns the exit status. */
#ifndef TRIDENT_TEST_CHECK_H
#define TRIDENT_TEST_CHECK_H

#include <stddef.h>

void check_record(int ok, const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Prints the totals and returns 0 if nothing failed, 1 otherwise. */
int check_summary(void);
/* Number of failures so far. */
int check_failures(void);

#define CHECK(cond, ...) check_record(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define CHECK_NEAR(a, b, tol, what)                                                                   \
    do {                                                                                              \
        double check_a_ = (double)(a), check_b_ = (double)(b), check_t_ = (double)(tol);              \
        CHECK(check_a_ - check_b_ <= check_t_ && check_b_ - check_a_ <= check_t_,                    \
              "%s: %.9g vs %.9g (tolerance %g)", what, check_a_, check_b_, check_t_);                 \
    } while (0)

/* Path of a file under the shared fixtures directory (TRIDENT_SHARED or ../shared).
 * Returns a pointer to a static buffer that the next call overwrites. */
const char *check_shared_path(const char *relative);

/* The whole file at path, NUL-terminated (the NUL not counted in *size; size may
 * be NULL), or NULL when it cannot be read. The caller frees it. */
char *check_read_file(const char *path, size_t *size);

#endif
