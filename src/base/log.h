/* log.h — one line per event: `LEVEL module: message key=value`.
 *
 * Lines go to stderr (or the stream set with log_stream_set), each written with a
 * single fputs under a lock so that threads never interleave within a line.
 * Every function is thread-safe; the level and stream are process-wide. */
#ifndef TRIDENT_BASE_LOG_H
#define TRIDENT_BASE_LOG_H

#include <stdio.h>

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

/* Sets the lowest level that is printed (default LOG_INFO; TRIDENT_LOG_LEVEL=debug|info|warn|error
 * in the environment is read by log_level_from_env). */
void log_level_set(log_level level);
void log_level_from_env(void);
/* Redirects log lines (default stderr). The stream is not owned. */
void log_stream_set(FILE *stream);

/* Writes `LEVEL module: <formatted message>` as one line. */
void log_write(log_level level, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(module, ...) log_write(LOG_DEBUG, module, __VA_ARGS__)
#define log_info(module, ...) log_write(LOG_INFO, module, __VA_ARGS__)
#define log_warn(module, ...) log_write(LOG_WARN, module, __VA_ARGS__)
#define log_error(module, ...) log_write(LOG_ERROR, module, __VA_ARGS__)

#endif
