/* retention.h — --retain-days: recordings and transcripts past their
 * retention are deleted, at start-up and then every hour, by a thread of
 * their own (store_retention_sweep keeps calls in progress and calls
 * waiting, claimed or dispatched). */
#ifndef TRIDENT_SERVICE_RETENTION_H
#define TRIDENT_SERVICE_RETENTION_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* Seconds between two sweeps after the one at start-up. */
#define RETENTION_SWEEP_INTERVAL_S 3600

typedef struct retention_sweeper retention_sweeper;

/* Sweeps s once (calls older than days x 86400 s; logged with the count) and
 * starts the hourly sweeps. The caller owns *out (retention_stop). The store
 * must outlive it. */
int retention_start(store *s, double days, retention_sweeper **out, char *err, size_t err_size);
/* Calls deleted by every sweep so far. */
int64_t retention_deleted(retention_sweeper *r);
/* Stops the sweeps (waits for one in flight) and frees r. NULL-safe. */
void retention_stop(retention_sweeper *r);

#endif
