/* record.c — an analysis as the fields of a stored call (uploads and live calls). */
#include "service/record.h"

#include <string.h>

void record_fields_fill(store_fields *f, double duration_s, const char *transcript, double confidence,
                        double distress, const pipeline_assessment *a, const char *analysis_json,
                        int utterance_count) {
    memset(f, 0, sizeof *f);
    f->duration_s = duration_s;
    f->transcript = transcript ? transcript : "";
    f->confidence = confidence;
    f->distress_score = distress;
    f->content_score = a->content_score;
    f->queue = a->triage ? a->decision.queue_name : NULL;
    f->priority_level = a->triage ? a->decision.priority_level : 0;
    f->flag_audio_review = a->decision.flag_audio_review;
    f->escalation_required = a->decision.escalation_required;
    f->analysis_json = analysis_json;
    f->utterance_count = utterance_count;
}
