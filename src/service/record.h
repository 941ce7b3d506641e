/* record.h — the one mapping from an analysis to the fields of a stored call,
 * shared by uploads (service/upload.c) and live calls (service/live.c). */
#ifndef TRIDENT_SERVICE_RECORD_H
#define TRIDENT_SERVICE_RECORD_H

#include "service/pipeline.h"
#include "store/store.h"

/* Fills *f (strings borrowed: transcript, a's queue name and analysis_json must
 * outlive the use of f). confidence and distress are the call's (an upload's
 * own, a live call's duration-weighted averages); a is the latest assessment —
 * without a triage (a live call before its first utterance) the queue stays
 * NULL and the priority 0. */
void record_fields_fill(store_fields *f, double duration_s, const char *transcript, double confidence,
                        double distress, const pipeline_assessment *a, const char *analysis_json,
                        int utterance_count);

#endif
