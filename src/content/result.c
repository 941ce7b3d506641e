/* result.c — a content_result as JSON ({"entities", "content_score",
 * "score_breakdown", "evidence"}) and its release. */
#include <stdlib.h>
#include <string.h>

#include "content/content.h"

void content_result_free(content_result *r) {
    if (!r) return;
    free(r->evidence);
    r->evidence = NULL;
    r->n_evidence = 0;
}

/* A string, or JSON null when empty. */
static json_t *content_json_text(const char *s) { return s && *s ? json_string(s) : json_null(); }

/* Adds key → value to obj, taking the reference; returns 0 or -1 (value NULL or set failed). */
static int content_json_set(json_t *obj, const char *key, json_t *value) {
    return value ? json_object_set_new(obj, key, value) : -1;
}

static json_t *content_json_entities(const content_result *r) {
    json_t *ent = json_object(), *loc = json_object(), *clin = json_object(), *scale = json_object(),
           *kw = json_array();
    int bad = !ent || !loc || !clin || !scale || !kw;
    if (!bad) {
        bad |= content_json_set(loc, "address", content_json_text(r->address));
        bad |= content_json_set(loc, "landmark", content_json_text(r->landmark));
        bad |= content_json_set(loc, "geographic_ref", content_json_text(r->geographic_ref));
        bad |= content_json_set(loc, "parish", content_json_text(r->parish));
        bad |= content_json_set(loc, "town", content_json_text(r->town));
        bad |= content_json_set(loc, "lat", r->has_coordinates ? json_real(r->lat) : json_null());
        bad |= content_json_set(loc, "lng", r->has_coordinates ? json_real(r->lng) : json_null());
        const char *hazard = content_hazard_name(r->hazard);
        bad |= content_json_set(clin, "breathing", json_string(content_breathing_name(r->breathing)));
        bad |= content_json_set(clin, "consciousness", json_string(content_consciousness_name(r->consciousness)));
        bad |= content_json_set(clin, "bleeding", json_string(content_bleeding_name(r->bleeding)));
        bad |= content_json_set(clin, "mobility", json_string(content_mobility_name(r->mobility)));
        bad |= content_json_set(scale, "persons_affected", json_integer(r->persons_affected));
        bad |= content_json_set(scale, "vulnerable_population", json_boolean(r->vulnerable_population));
        bad |= content_json_set(scale, "escalating", json_boolean(r->escalating));
        for (int i = 0; i < r->n_urgency_keywords && !bad; i++) {
            json_t *s = json_string(r->urgency_keywords[i]);
            bad |= s ? json_array_append_new(kw, s) : -1;
        }
        bad |= json_object_set_new(ent, "location", loc);
        loc = NULL;
        bad |= content_json_set(ent, "mechanism_hazard", hazard ? json_string(hazard) : json_null());
        bad |= json_object_set_new(ent, "clinical_indicators", clin);
        clin = NULL;
        bad |= json_object_set_new(ent, "scale", scale);
        scale = NULL;
        bad |= json_object_set_new(ent, "urgency_keywords", kw);
        kw = NULL;
    }
    json_decref(loc);
    json_decref(clin);
    json_decref(scale);
    json_decref(kw);
    if (bad) {
        json_decref(ent);
        return NULL;
    }
    return ent;
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

json_t *content_result_to_json(const content_result *r) {
    if (!r) return NULL;
    json_t *root = json_object(), *ev = json_array();
    json_t *ent = content_json_entities(r);
    json_t *breakdown = json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i}", "hazard", r->points_hazard, "life_threat",
                                  r->points_life_threat, "vulnerable", r->points_vulnerable, "scale", r->points_scale,
                                  "location", r->points_location, "urgency", r->points_urgency, "total",
                                  r->points_total);
    int bad = !root || !ev || !ent || !breakdown;
    for (size_t i = 0; i < r->n_evidence && !bad; i++) {
        json_t *e = content_json_evidence(&r->evidence[i]);
        bad |= e ? json_array_append_new(ev, e) : -1;
    }
    if (!bad) {
        bad |= json_object_set_new(root, "entities", ent);
        ent = NULL;
        bad |= content_json_set(root, "content_score", json_real(r->content_score));
        bad |= json_object_set_new(root, "score_breakdown", breakdown);
        breakdown = NULL;
        bad |= json_object_set_new(root, "evidence", ev);
        ev = NULL;
    }
    json_decref(ent);
    json_decref(breakdown);
    json_decref(ev);
    if (bad) {
        json_decref(root);
        return NULL;
    }
    return root;
}
