/* result.c — a content_result as JSON ({"entities", "content_score",
 * "score_breakdown", "evidence"}) and its release. */
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "content/content.h"

void content_result_clear(content_result *r) {
    if (!r) return;
    free(r->evidence);
    r->evidence = NULL;
    r->n_evidence = 0;
}

/* Adds key → value to obj, taking the reference; returns 0 or -1 (value NULL or set failed). */
static int content_json_set(json_t *obj, const char *key, json_t *value) {
    return value ? json_object_set_new(obj, key, value) : -1;
}

/* obj when everything went into it (bad == 0), else NULL (obj released). */
static json_t *content_json_done(json_t *obj, int bad) {
    if (!bad) return obj;
    json_decref(obj);
    return NULL;
}

static json_t *content_json_location(const content_result *r) {
    json_t *loc = json_object();
    if (!loc) return NULL;
    int bad = 0;
    bad |= content_json_set(loc, "address", json_text_or_null(r->address));
    bad |= content_json_set(loc, "landmark", json_text_or_null(r->landmark));
    bad |= content_json_set(loc, "geographic_ref", json_text_or_null(r->geographic_ref));
    bad |= content_json_set(loc, "parish", json_text_or_null(r->parish));
    bad |= content_json_set(loc, "town", json_text_or_null(r->town));
    bad |= content_json_set(loc, "lat", r->has_coordinates ? json_real(r->lat) : json_null());
    bad |= content_json_set(loc, "lng", r->has_coordinates ? json_real(r->lng) : json_null());
    return content_json_done(loc, bad);
}

static json_t *content_json_keywords(const content_result *r) {
    json_t *kw = json_array();
    if (!kw) return NULL;
    int bad = 0;
    for (int i = 0; i < r->n_urgency_keywords && !bad; i++) {
        json_t *s = json_string(r->urgency_keywords[i]);
        bad |= s ? json_array_append_new(kw, s) : -1;
    }
    return content_json_done(kw, bad);
}

static json_t *content_json_indicators(const content_result *r) {
    json_t *list = json_array();
    if (!list) return NULL;
    int bad = 0;
    for (int i = 0; i < r->n_indicators && !bad; i++) {
        const content_indicator_hit *h = &r->indicators[i];
        json_t *o = json_pack("{s:s, s:b, s:s, s:I, s:I}", "name", content_indicator_name(h->id), "critical",
                              content_indicator_is_critical(h->id), "matched", h->matched, "start", (json_int_t)h->start,
                              "end", (json_int_t)h->end);
        bad |= o ? json_array_append_new(list, o) : -1;
    }
    return content_json_done(list, bad);
}

static json_t *content_json_entities(const content_result *r) {
    json_t *ent = json_object();
    if (!ent) return NULL;
    const char *hazard = content_hazard_name(r->hazard);
    int bad = 0;
    bad |= content_json_set(ent, "location", content_json_location(r));
    bad |= content_json_set(ent, "mechanism_hazard", hazard ? json_string(hazard) : json_null());
    bad |= content_json_set(ent, "clinical_indicators",
                            json_pack("{s:s, s:s, s:s, s:s}", "breathing", content_breathing_name(r->breathing),
                                      "consciousness", content_consciousness_name(r->consciousness), "bleeding",
                                      content_bleeding_name(r->bleeding), "mobility", content_mobility_name(r->mobility)));
    bad |= content_json_set(ent, "scale",
                            json_pack("{s:i, s:b, s:b}", "persons_affected", r->persons_affected,
                                      "vulnerable_population", r->vulnerable_population, "escalating", r->escalating));
    bad |= content_json_set(ent, "urgency_keywords", content_json_keywords(r));
    bad |= content_json_set(ent, "indicators", content_json_indicators(r));
    bad |= content_json_set(ent, "serious", json_boolean(r->serious));
    bad |= content_json_set(ent, "minor", json_boolean(r->minor));
    bad |= content_json_set(ent, "routine", json_boolean(r->routine));
    bad |= content_json_set(ent, "concern", json_boolean(r->concern));
    return content_json_done(ent, bad);
}

static json_t *content_json_evidence(const content_evidence *e) {
    json_t *value;
    if (strcmp(e->entity, "scale.persons_affected") == 0)
        value = json_integer(atoi(e->value));
    else if (strcmp(e->entity, "scale.vulnerable_population") == 0 || strcmp(e->entity, "scale.escalating") == 0)
        value = json_true();
    else
        value = json_string(e->value);
    if (!value) return NULL;
    return json_pack("{s:s, s:o, s:s, s:i, s:b, s:I, s:I}", "entity", e->entity, "value", value, "matched",
                     e->matched, "weight", e->weight, "negated", e->negated, "start", (json_int_t)e->start, "end",
                     (json_int_t)e->end);
}

static json_t *content_json_evidence_list(const content_result *r) {
    json_t *ev = json_array();
    if (!ev) return NULL;
    int bad = 0;
    for (size_t i = 0; i < r->n_evidence && !bad; i++) {
        json_t *e = content_json_evidence(&r->evidence[i]);
        bad |= e ? json_array_append_new(ev, e) : -1;
    }
    return content_json_done(ev, bad);
}

json_t *content_result_to_json(const content_result *r) {
    if (!r) return NULL;
    json_t *root = json_object();
    if (!root) return NULL;
    int bad = 0;
    bad |= content_json_set(root, "entities", content_json_entities(r));
    bad |= content_json_set(root, "content_score", json_real(r->content_score));
    bad |= content_json_set(root, "score_breakdown",
                            json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "hazard", r->points_hazard, "life_threat",
                                      r->points_life_threat, "vulnerable", r->points_vulnerable, "scale",
                                      r->points_scale, "location", r->points_location, "urgency", r->points_urgency,
                                      "total", r->points_total));
    bad |= content_json_set(root, "evidence", content_json_evidence_list(r));
    return content_json_done(root, bad);
}
