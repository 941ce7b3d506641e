/* clock.h — monotonic and wall-clock time. No state; every function is thread-safe. */
#ifndef TRIDENT_BASE_CLOCK_H
#define TRIDENT_BASE_CLOCK_H

#include <stdint.h>

/* Milliseconds on a monotonic clock (for durations). */
double clock_now_ms(void);
/* Seconds since the Unix epoch (for timestamps stored with records). */
double clock_wall_s(void);
/* Writes an ISO-8601 UTC timestamp ("2026-11-26T15:52:23.123Z") of epoch seconds t into out (>= 32 bytes).
 * A t that is not a finite time (NaN, ±Inf, beyond any calendar) is written as the epoch. */
void clock_iso8601(double t, char *out, unsigned out_size);

#endif
