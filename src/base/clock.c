/* clock.c — monotonic and wall-clock time. */
#include "base/clock.h"

#include <math.h>
#include <stdio.h>
#include <time.h>

double clock_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

double clock_wall_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void clock_iso8601(double t, char *out, unsigned out_size) {
    /* A stored time may come from anywhere: converting NaN, ±Inf or a value
     * beyond time_t to time_t is undefined, and gmtime_r fails for years that
     * do not fit an int. Such times are written as the epoch. */
    if (!isfinite(t) || fabs(t) > 1e15) t = 0;
    double whole = floor(t);
    time_t secs = (time_t)whole;
    int ms = (int)((t - whole) * 1000.0);
    struct tm tm;
    if (!gmtime_r(&secs, &tm)) {
        snprintf(out, out_size, "1970-01-01T00:00:00.000Z");
        return;
    }
    snprintf(out, out_size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
             tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}
