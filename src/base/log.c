/* log.c — the process-wide log sink (level, stream, line lock). */
#include "base/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
/* Atomic: log_write reads it on every thread without taking log_lock. */
static atomic_int log_min = LOG_INFO;
static FILE *log_out;

static const char *const log_names[] = {"DEBUG", "INFO", "WARN", "ERROR"};

void log_level_set(log_level level) { atomic_store(&log_min, (int)level); }

void log_level_from_env(void) {
    const char *v = getenv("TRIDENT_LOG_LEVEL");
    if (!v) return;
    for (int i = 0; i < 4; i++)
        if (strcasecmp(v, log_names[i]) == 0 || (i == 2 && strcasecmp(v, "warning") == 0)) atomic_store(&log_min, i);
}

void log_stream_set(FILE *stream) {
    pthread_mutex_lock(&log_lock);
    log_out = stream;
    pthread_mutex_unlock(&log_lock);
}

void log_write(log_level level, const char *module, const char *fmt, ...) {
    if ((int)level < atomic_load(&log_min)) return;
    if ((unsigned)level > LOG_ERROR) level = LOG_ERROR;
    char line[2048];
    int n = snprintf(line, sizeof line, "%s %s: ", log_names[level], module);
    if (n < 0) return;
    if ((size_t)n >= sizeof line) n = (int)sizeof line - 1; /* an absurdly long module name: keep it, cut the rest */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    size_t len = strlen(line);
    if (len + 1 < sizeof line) {
        line[len] = '\n';
        line[len + 1] = '\0';
    } else {
        line[sizeof line - 2] = '\n';
    }
    pthread_mutex_lock(&log_lock);
    FILE *out = log_out ? log_out : stderr;
    fputs(line, out);
    fflush(out);
    pthread_mutex_unlock(&log_lock);
}
