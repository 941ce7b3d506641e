/* extract.c — content_extract: tokens → longest phrase matches → negation
 * scopes → entities (most severe value wins) → counts, addresses, landmarks,
 * places → the content score, with one evidence row per match.
 *
 * The rules, in the order they run:
 *  1. Tokenize (lexicon.c): words, clause breaks, numbers (digits, number
 *     words, "twenty one" → 21).
 *  2. Match: from left to right, the longest lexicon phrase starting at each
 *     word; matched words are consumed. When a phrase starting inside the
 *     current one reaches beyond it, the more severe reading wins (safety
 *     first), then the longer one, then the earlier one.
 *  3. Negation: a negation cue negates the matches that start within the next
 *     LEX_NEGATION_SCOPE words of the same clause. A negated match takes its
 *     lexicon "negated value" if it has one ("bleeding" → none) and is dropped
 *     otherwise. Phrases containing a negation word ("not breathing") are
 *     never negated again.
 *  4. Entities: hazard = highest weight mentioned (ties: the first);
 *     clinical fields = most severe value mentioned; flags; distinct urgency
 *     keywords.
 *  5. Persons: the largest count stated — a number followed within
 *     LEX_COUNT_WINDOW words by a person noun ("3 people", "two small
 *     pickney"), or a phrase that is a count ("somebody").
 *  6. Address: a street word preceded by up to 4 name words and/or a house
 *     number ("12 Hope Road", "Bull Bay district"). Landmark: a proximity cue
 *     followed by up to 3 name words ("near the big mango tree"), or a
 *     landmark word with up to 3 name words before it ("Kingston Public
 *     Hospital"). The first of each in the transcript is kept.
 *  7. Place: gazetteer names, except those that are part of a street name
 *     ("Spanish Town Road"); the first town wins, else the first parish. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/utf8.h"
#include "content/content.h"
#include "content/lexicon.h"

#define LEX_NEGATION_SCOPE 3
#define LEX_COUNT_WINDOW 3
#define LEX_ADDRESS_NAMES 4
#define LEX_LANDMARK_NAMES 3
#define LEX_STACK_TOKENS 256


typedef struct {
    uint32_t start, end; /* token range [start, end) */
    uint32_t node;
    int negated;
    int excluded_place;  /* a place that is part of a street name */
    int consumed;        /* a landmark already inside a captured landmark */
} content_match;

typedef struct {
    const content_lexicon *lex;
    const char *text;
    content_result *r;
    lex_token *tokens;
    size_t n_tokens;
    content_match *matches;
    size_t n_matches;
    int32_t *tok_match;   /* [n_tokens] index of the covering match or -1 */
    size_t ev_cap;
    int oom;
} content_ctx;

/* Copies text[start, end) into out (size bytes) as valid UTF-8: invalid bytes
 * become '?', and a character that does not fit is left out whole. */
static void content_copy_span(char *out, size_t size, const char *text, size_t start, size_t end) {
    const unsigned char *s = (const unsigned char *)text + start;
    size_t n = end > start ? end - start : 0, o = 0;
    for (size_t i = 0; i < n;) {
        size_t k = utf8_sequence_len(s + i, n - i);
        if (o + (k ? k : 1) > size - 1) break;
        if (k) {
            memcpy(out + o, s + i, k);
            o += k;
            i += k;
        } else {
            out[o++] = '?';
            i++;
        }
    }
    out[o] = '\0';
}

/* A run of tokens [first, end). */
typedef struct {
    size_t first, end;
} content_span;

static const char *const content_entity_names[] = {
    [LEX_HAZARD] = "mechanism_hazard",
    [LEX_BREATHING] = "clinical_indicators.breathing",
    [LEX_CONSCIOUSNESS] = "clinical_indicators.consciousness",
    [LEX_BLEEDING] = "clinical_indicators.bleeding",
    [LEX_MOBILITY] = "clinical_indicators.mobility",
    [LEX_VULNERABLE] = "scale.vulnerable_population",
    [LEX_ESCALATING] = "scale.escalating",
    [LEX_URGENCY] = "urgency_keywords",
    [LEX_PERSONS] = "scale.persons_affected",
    [LEX_STREET] = "location.address",
    [LEX_LANDMARK] = "location.landmark",
    [LEX_PLACE] = "location.geographic_ref",
};

/* Adds an evidence row for the entity of a category (LEX_STREET: the
 * address, LEX_PLACE: the geographic reference ...) and returns its index,
 * or -1 when out of memory. */
static long content_evidence_add(content_ctx *c, lex_category entity, const char *value, content_span span,
                                 int negated) {
    const size_t t0 = span.first, t1 = span.end;
    content_result *r = c->r;
    if (r->n_evidence >= c->ev_cap) {
        size_t cap = c->ev_cap ? c->ev_cap * 2 : 16;
        content_evidence *ev = realloc(r->evidence, cap * sizeof *ev);
        if (!ev) {
            c->oom = 1;
            return -1;
        }
        r->evidence = ev;
        c->ev_cap = cap;
    }
    content_evidence *e = &r->evidence[r->n_evidence];
    e->entity = content_entity_names[entity];
    snprintf(e->value, sizeof e->value, "%s", value);
    e->start = c->tokens[t0].start;
    e->end = c->tokens[t1 - 1].end;
    content_copy_span(e->matched, sizeof e->matched, c->text, e->start, e->end);
    e->weight = 0;
    e->negated = negated;
    return (long)r->n_evidence++;
}

static void content_tokenize(content_ctx *c, size_t len) {
    const content_lexicon *lex = c->lex;
    char buf[LEX_WORD_MAX];
    size_t pos = 0, s, e, wl, n = 0;
    uint32_t clause = 0;
    int boundary;
    while ((wl = lex_word_next(c->text, len, &pos, buf, &s, &e, &boundary)) > 0) {
        lex_token *t = &c->tokens[n];
        t->start = (uint32_t)s;
        t->end = (uint32_t)e;
        t->word = lex_word_find(lex, buf, wl);
        t->number = -1;
        if (n > 0 && (boundary || (t->word >= 0 && (lex->word_flags[t->word] & LEX_WORD_BOUNDARY)))) clause++;
        t->clause = clause;
        int digits = 1;
        for (size_t k = 0; k < wl; k++)
            if (buf[k] < '0' || buf[k] > '9') digits = 0;
        if (digits) {
            t->number = wl <= 6 ? atoi(buf) : 1000000;
        } else if (t->word >= 0 && lex->word_number[t->word] >= 0) {
            t->number = lex->word_number[t->word];
            /* "twenty one": a tens word followed by a units word in one clause */
            lex_token *p = n > 0 ? &c->tokens[n - 1] : NULL;
            if (p && p->clause == t->clause && p->word >= 0 && p->number >= 20 && p->number <= 90 &&
                p->number % 10 == 0 && t->number >= 1 && t->number <= 9) {
                p->number += t->number;
                t->number = -2;
            }
        }
        n++;
    }
    c->n_tokens = n;
}

static void content_match_all(content_ctx *c) {
    for (size_t i = 0; i < c->n_tokens; i++) c->tok_match[i] = -1;
    size_t i = 0;
    while (i < c->n_tokens) {
        uint32_t node;
        size_t len = lex_match_longest(c->lex, c->tokens, c->n_tokens, i, &node);
        if (!len) {
            i++;
            continue;
        }
        /* Overlap: a phrase starting inside this one and reaching beyond it
         * wins if it is more severe, or as severe and longer ("him breathing
         * hard": "breathing hard" beats "him breathing"). */
        int yield = 0;
        const int sev = c->lex->nodes[node].severity;
        for (size_t j = i + 1; j < i + len && !yield; j++) {
            uint32_t other;
            size_t olen = lex_match_longest(c->lex, c->tokens, c->n_tokens, j, &other);
            int osev = olen ? c->lex->nodes[other].severity : -1;
            if (olen && j + olen > i + len && (osev > sev || (osev == sev && olen > len))) yield = 1;
        }
        if (yield) {
            i++;
            continue;
        }
        content_match *m = &c->matches[c->n_matches];
        memset(m, 0, sizeof *m);
        m->start = (uint32_t)i;
        m->end = (uint32_t)(i + len);
        m->node = node;
        for (size_t k = i; k < i + len; k++) c->tok_match[k] = (int32_t)c->n_matches;
        c->n_matches++;
        i += len;
    }
}

static int content_match_has(const content_ctx *c, const content_match *m, int category) {
    const lex_node *nd = &c->lex->nodes[m->node];
    for (uint32_t k = 0; k < nd->count; k++)
        if (c->lex->entries[nd->first + k].category == category) return 1;
    return 0;
}

static void content_negate(content_ctx *c) {
    for (size_t i = 0; i < c->n_matches; i++) {
        const content_match *cue = &c->matches[i];
        if (!content_match_has(c, cue, LEX_NEGATION)) continue;
        uint32_t clause = c->tokens[cue->end - 1].clause;
        for (size_t k = i + 1; k < c->n_matches; k++) {
            content_match *m = &c->matches[k];
            if (m->start - cue->end >= LEX_NEGATION_SCOPE || c->tokens[m->start].clause != clause) break;
            m->negated = 1;
        }
    }
}

/* Running state of one clinical field or the hazard. */
typedef struct {
    int value, points;
    long ev;
} content_best;

/* Offers a candidate: the hazard keeps the most points (by_points), a
 * clinical field the most severe value; ties keep the first mentioned. */
static void content_best_offer(content_best *best, content_best cand, int by_points) {
    if (cand.ev < 0) return;
    if (best->ev < 0 || (by_points ? cand.points > best->points : cand.value > best->value)) *best = cand;
}


/* The name of an entry's category value (value may differ from e->value when negated). */
static const char *content_value_name(const lex_entry *e, int value) {
    switch (e->category) {
    case LEX_HAZARD: return content_hazard_name((content_hazard)value);
    case LEX_BREATHING: return content_breathing_name((content_breathing)value);
    case LEX_CONSCIOUSNESS: return content_consciousness_name((content_consciousness)value);
    case LEX_BLEEDING: return content_bleeding_name((content_bleeding)value);
    case LEX_MOBILITY: return content_mobility_name((content_mobility)value);
    default: return "true";
    }
}

static int content_clinical_points(const lex_entry *e, int value) {
    switch (e->category) {
    case LEX_BREATHING: return lex_breathing_points[value];
    case LEX_CONSCIOUSNESS: return lex_consciousness_points[value];
    case LEX_BLEEDING: return lex_bleeding_points[value];
    default: return 0;
    }
}

typedef struct {
    content_best hazard, clinical[4]; /* breathing, consciousness, bleeding, mobility */
    long vulnerable_ev, escalating_ev;
    int persons;
    long persons_ev;
    long urgency_ev[CONTENT_KEYWORDS_MAX];
    long address_ev, landmark_ev;
    size_t landmark_tok;
    long place_town_ev, place_parish_ev;
    int place_town, place_parish;
} content_state;

static void content_persons_offer(content_state *s, int count, long ev) {
    if (ev >= 0 && count > s->persons) {
        s->persons = count;
        s->persons_ev = ev;
    }
}

/* Step 4: entities from the lexicon matches. */
static void content_entities(content_ctx *c, content_state *s) {
    content_result *r = c->r;
    for (size_t i = 0; i < c->n_matches && !c->oom; i++) {
        const content_match *m = &c->matches[i];
        const lex_node *nd = &c->lex->nodes[m->node];
        for (uint32_t k = 0; k < nd->count; k++) {
            const lex_entry *e = &c->lex->entries[nd->first + k];
            int negated = m->negated && !e->self_negating;
            int cat = e->category;
            if (cat > LEX_PERSONS || cat == LEX_PERSON) continue;
            int value = e->value;
            if (negated) /* a negated value (clinical only) or dropped */
                value = cat >= LEX_BREATHING && cat <= LEX_MOBILITY && e->negated_value ? e->negated_value : -1;
            char vbuf[32];
            const char *vname = cat == LEX_URGENCY ? e->text : content_value_name(e, value < 0 ? e->value : value);
            if (cat == LEX_PERSONS) {
                snprintf(vbuf, sizeof vbuf, "%d", (int)e->number);
                vname = vbuf;
            }
            long ev = content_evidence_add(c, (lex_category)cat, vname, (content_span){m->start, m->end}, negated);
            if (ev < 0) return;
            if (value < 0) continue; /* negated and dropped */
            switch (cat) {
            case LEX_HAZARD:
                content_best_offer(&s->hazard, (content_best){value, lex_hazard_points[value], ev}, 1);
                break;
            case LEX_BREATHING:
            case LEX_CONSCIOUSNESS:
            case LEX_BLEEDING:
            case LEX_MOBILITY:
                content_best_offer(&s->clinical[cat - LEX_BREATHING],
                                   (content_best){value, content_clinical_points(e, value), ev}, 0);
                break;
            case LEX_VULNERABLE:
                if (s->vulnerable_ev < 0) s->vulnerable_ev = ev;
                break;
            case LEX_ESCALATING:
                if (s->escalating_ev < 0) s->escalating_ev = ev;
                break;
            case LEX_URGENCY: {
                int seen = 0;
                for (int u = 0; u < r->n_urgency_keywords; u++)
                    if (strcmp(r->urgency_keywords[u], e->text) == 0) seen = 1;
                if (!seen && r->n_urgency_keywords < CONTENT_KEYWORDS_MAX) {
                    s->urgency_ev[r->n_urgency_keywords] = ev;
                    r->urgency_keywords[r->n_urgency_keywords++] = e->text;
                }
                break;
            }
            case LEX_PERSONS: content_persons_offer(s, e->number, ev); break;
            default: break;
            }
        }
    }
}

static const content_match *content_match_at(const content_ctx *c, size_t t) {
    return c->tok_match[t] >= 0 ? &c->matches[c->tok_match[t]] : NULL;
}

static int content_is_stop(const content_ctx *c, size_t t) {
    int32_t w = c->tokens[t].word;
    return w >= 0 && (c->lex->word_flags[w] & LEX_WORD_STOP);
}

/* Step 5: "3 people", "two small pickney", "twenty one passengers". */
static void content_counts(content_ctx *c, content_state *s) {
    char vbuf[32];
    for (size_t t = 0; t < c->n_tokens && !c->oom; t++) {
        const lex_token *tok = &c->tokens[t];
        if (tok->number < 0 || c->tok_match[t] >= 0) continue;
        for (size_t k = t + 1; k < c->n_tokens && k <= t + LEX_COUNT_WINDOW; k++) {
            if (c->tokens[k].clause != tok->clause || c->tokens[k].number >= 0) break;
            const content_match *m = content_match_at(c, k);
            if (!m) continue;
            if (m->start == k && content_match_has(c, m, LEX_PERSON)) {
                snprintf(vbuf, sizeof vbuf, "%d", (int)tok->number);
                int negated = m->negated;
                long ev = content_evidence_add(c, LEX_PERSONS, vbuf, (content_span){t, m->end}, negated);
                if (!negated) content_persons_offer(s, tok->number, ev);
            }
            break;
        }
    }
}

/* Is token t a place match (returns it) that may be part of a name? */
static content_match *content_place_at(content_ctx *c, size_t t) {
    if (c->tok_match[t] < 0) return NULL;
    content_match *m = &c->matches[c->tok_match[t]];
    return content_match_has(c, m, LEX_PLACE) ? m : NULL;
}

/* The name before a street or landmark match m. */
typedef struct {
    size_t first; /* first token of the name (m->start when there is none) */
    int names;    /* name words (a place name counts as one) */
    int number;   /* 1 when a house number starts it */
} content_name;

/* Walks back from m over up to LEX_ADDRESS_NAMES (street) or
 * LEX_LANDMARK_NAMES name words in the same clause. Place names count as one
 * word each; for a street, landmark words are names too ("Hagley Park Road")
 * and a house number ends the walk. Stopwords and other matches stop it. */
static content_name content_name_before(content_ctx *c, const content_match *m, int street) {
    content_name nm = {m->start, 0, 0};
    const int max = street ? LEX_ADDRESS_NAMES : LEX_LANDMARK_NAMES;
    size_t j = m->start;
    while (j > 0 && nm.names < max) {
        size_t p = j - 1;
        if (c->tokens[p].clause != c->tokens[j].clause) break;
        content_match *pl = content_place_at(c, p);
        if (!pl && street && c->tok_match[p] >= 0 && content_match_has(c, &c->matches[c->tok_match[p]], LEX_LANDMARK))
            pl = &c->matches[c->tok_match[p]];
        if (pl) {
            nm.first = pl->start;
            nm.names++;
            j = pl->start;
            continue;
        }
        if (c->tok_match[p] >= 0 || content_is_stop(c, p)) break;
        if (c->tokens[p].number == -2) { /* "one" of "twenty one" */
            j = p;
            continue;
        }
        if (c->tokens[p].number >= 0) {
            if (street) {
                nm.first = p;
                nm.number = 1;
            }
            break;
        }
        nm.first = p;
        nm.names++;
        j = p;
    }
    return nm;
}

/* Records tokens [first, last) as landmark evidence; the landmark that starts
 * earliest in the transcript becomes the result's. */
static void content_landmark_offer(content_ctx *c, content_state *s, size_t first, size_t last) {
    char span[CONTENT_TEXT_MAX];
    content_copy_span(span, sizeof span, c->text, c->tokens[first].start, c->tokens[last - 1].end);
    long ev = content_evidence_add(c, LEX_LANDMARK, span, (content_span){first, last}, 0);
    if (ev >= 0 && (s->landmark_ev < 0 || first < s->landmark_tok)) {
        s->landmark_ev = ev;
        s->landmark_tok = first;
        snprintf(c->r->landmark, sizeof c->r->landmark, "%s", span);
    }
}

static void content_location(content_ctx *c, content_state *s) {
    content_result *r = c->r;
    /* Addresses. */
    for (size_t i = 0; i < c->n_matches && !c->oom; i++) {
        content_match *m = &c->matches[i];
        const lex_node *nd = &c->lex->nodes[m->node];
        int kind = 0;
        for (uint32_t k = 0; k < nd->count; k++)
            if (c->lex->entries[nd->first + k].category == LEX_STREET) kind = (int)c->lex->entries[nd->first + k].value;
        if (!kind) continue;
        const content_name nm = content_name_before(c, m, 1);
        const size_t first = nm.first;
        if (nm.names + nm.number == 0) continue;
        for (size_t t = first; t < m->start; t++) {
            content_match *inner = c->tok_match[t] >= 0 ? &c->matches[c->tok_match[t]] : NULL;
            if (!inner) continue;
            if (content_match_has(c, inner, LEX_LANDMARK)) inner->consumed = 1;
            if (kind == LEX_STREET_NAME && content_match_has(c, inner, LEX_PLACE)) inner->excluded_place = 1;
        }
        char span[CONTENT_TEXT_MAX];
        content_copy_span(span, sizeof span, c->text, c->tokens[first].start, c->tokens[m->end - 1].end);
        long ev = content_evidence_add(c, LEX_STREET, span, (content_span){first, m->end}, 0);
        if (ev >= 0 && s->address_ev < 0) {
            s->address_ev = ev;
            snprintf(r->address, sizeof r->address, "%s", span);
        }
    }
    /* Landmarks after a proximity cue: "near the big mango tree", "by di Texaco gas station". */
    for (size_t i = 0; i < c->n_matches && !c->oom; i++) {
        const content_match *cue = &c->matches[i];
        if (!content_match_has(c, cue, LEX_NEAR)) continue;
        size_t k = cue->end, skipped = 0;
        uint32_t clause = c->tokens[cue->end - 1].clause;
        while (k < c->n_tokens && skipped < 2 && c->tok_match[k] < 0 && content_is_stop(c, k) &&
               c->tokens[k].clause == clause) {
            k++;
            skipped++;
        }
        size_t first = k, last = k, words = 0;
        int own_words = 0;
        while (k < c->n_tokens && words < LEX_LANDMARK_NAMES && c->tokens[k].clause == clause) {
            content_match *m = c->tok_match[k] >= 0 ? &c->matches[c->tok_match[k]] : NULL;
            if (m && !m->consumed && content_match_has(c, m, LEX_LANDMARK)) {
                m->consumed = 1;
                last = m->end;
                own_words = 1;
                break;
            }
            if (m && content_match_has(c, m, LEX_PLACE)) {
                k = last = m->end;
                words++;
                continue;
            }
            if (m || content_is_stop(c, k)) break;
            k = last = k + 1;
            words++;
            own_words = 1;
        }
        if (!own_words || last <= first) continue;
        content_landmark_offer(c, s, first, last);
    }
    /* Landmark words with the name before them: "Kingston Public Hospital". */
    for (size_t i = 0; i < c->n_matches && !c->oom; i++) {
        const content_match *m = &c->matches[i];
        if (m->consumed || !content_match_has(c, m, LEX_LANDMARK)) continue;
        content_landmark_offer(c, s, content_name_before(c, m, 0).first, m->end);
    }
    /* Places. */
    for (size_t i = 0; i < c->n_matches && !c->oom; i++) {
        const content_match *m = &c->matches[i];
        if (m->excluded_place) continue;
        const lex_node *nd = &c->lex->nodes[m->node];
        int place = -1;
        for (uint32_t k = 0; k < nd->count; k++) {
            const lex_entry *e = &c->lex->entries[nd->first + k];
            if (e->category != LEX_PLACE) continue;
            if (place < 0 || (c->lex->places[e->number].is_town && !c->lex->places[place].is_town)) place = e->number;
        }
        if (place < 0) continue;
        const lex_place *pl = &c->lex->places[place];
        long ev = content_evidence_add(c, LEX_PLACE, pl->name, (content_span){m->start, m->end}, 0);
        if (ev < 0) return;
        if (pl->is_town && s->place_town < 0) {
            s->place_town = place;
            s->place_town_ev = ev;
        } else if (!pl->is_town && s->place_parish < 0) {
            s->place_parish = place;
            s->place_parish_ev = ev;
        }
    }
    int place = s->place_town >= 0 ? s->place_town : s->place_parish;
    if (place >= 0) {
        const lex_place *pl = &c->lex->places[place];
        snprintf(r->geographic_ref, sizeof r->geographic_ref, "%s", pl->name);
        snprintf(r->parish, sizeof r->parish, "%s", c->lex->places[pl->parish].name);
        if (pl->is_town) snprintf(r->town, sizeof r->town, "%s", pl->name);
        r->has_coordinates = 1;
        r->lat = pl->lat;
        r->lng = pl->lng;
    }
}

static void content_score(content_ctx *c, content_state *s) {
    content_result *r = c->r;
    content_evidence *ev = r->evidence;
    if (s->hazard.ev >= 0) {
        r->hazard = (content_hazard)s->hazard.value;
        r->points_hazard = s->hazard.points;
        ev[s->hazard.ev].weight = s->hazard.points;
    }
    r->breathing = (content_breathing)s->clinical[0].value;
    r->consciousness = (content_consciousness)s->clinical[1].value;
    r->bleeding = (content_bleeding)s->clinical[2].value;
    r->mobility = (content_mobility)s->clinical[3].value;
    for (int f = 0; f < 3; f++)
        if (s->clinical[f].ev >= 0) {
            r->points_life_threat += s->clinical[f].points;
            ev[s->clinical[f].ev].weight = s->clinical[f].points;
        }
    if (s->vulnerable_ev >= 0) {
        r->vulnerable_population = 1;
        r->points_vulnerable = 15;
        ev[s->vulnerable_ev].weight = 15;
    }
    r->persons_affected = s->persons;
    if (s->persons_ev >= 0) {
        int p = s->persons >= 4 ? 20 : 5 * s->persons;
        r->points_scale += p;
        ev[s->persons_ev].weight = p;
    }
    if (s->escalating_ev >= 0) {
        r->escalating = 1;
        r->points_scale += 10;
        ev[s->escalating_ev].weight = 10;
    }
    long loc = s->address_ev >= 0 ? s->address_ev : s->landmark_ev;
    if (loc >= 0) {
        r->points_location = 5;
        ev[loc].weight = 5;
    }
    for (int u = 0; u < r->n_urgency_keywords && u < 3; u++) {
        r->points_urgency += 5;
        ev[s->urgency_ev[u]].weight = 5;
    }
    r->points_total = r->points_hazard + r->points_life_threat + r->points_vulnerable + r->points_scale +
                      r->points_location + r->points_urgency;
    r->content_score = (r->points_total > 100 ? 100 : r->points_total) / 100.0;
}

static int content_evidence_cmp(const void *lhs, const void *rhs) {
    const content_evidence *x = lhs, *y = rhs;
    if (x->start != y->start) return x->start < y->start ? -1 : 1;
    if (x->end != y->end) return x->end > y->end ? -1 : 1; /* longer span first */
    int k = strcmp(x->entity, y->entity);
    if (k) return k;
    k = strcmp(x->value, y->value);
    return k ? k : (x->weight > y->weight) - (x->weight < y->weight);
}

int content_extract(const content_lexicon *lex, const char *text, content_result *r) {
    if (!r) return TRIDENT_EINVAL;
    memset(r, 0, sizeof *r);
    if (!lex || !text) return TRIDENT_EINVAL;
    size_t len = strlen(text);
    if (len > UINT32_MAX / 2) return TRIDENT_EINVAL;
    size_t max_tokens = len / 2 + 1;
    lex_token stack_tokens[LEX_STACK_TOKENS];
    content_match stack_matches[LEX_STACK_TOKENS];
    int32_t stack_tok_match[LEX_STACK_TOKENS];
    content_ctx c = {.lex = lex, .text = text, .r = r};
    void *heap = NULL;
    if (max_tokens <= LEX_STACK_TOKENS) {
        c.tokens = stack_tokens;
        c.matches = stack_matches;
        c.tok_match = stack_tok_match;
    } else {
        size_t per = sizeof(lex_token) + sizeof(content_match) + sizeof(int32_t);
        if (max_tokens > SIZE_MAX / per) return TRIDENT_ENOMEM;
        heap = malloc(max_tokens * per);
        if (!heap) return TRIDENT_ENOMEM;
        c.matches = heap;
        c.tokens = (lex_token *)(c.matches + max_tokens);
        c.tok_match = (int32_t *)(c.tokens + max_tokens);
    }
    content_state s;
    memset(&s, 0, sizeof s);
    s.hazard.ev = s.vulnerable_ev = s.escalating_ev = s.persons_ev = s.address_ev = s.landmark_ev = -1;
    s.place_town_ev = s.place_parish_ev = -1;
    s.place_town = s.place_parish = -1;
    for (int f = 0; f < 4; f++) s.clinical[f].ev = -1;

    content_tokenize(&c, len);
    content_match_all(&c);
    content_negate(&c);
    content_entities(&c, &s);
    content_counts(&c, &s);
    content_location(&c, &s);
    free(heap);
    if (c.oom) {
        content_result_free(r);
        return TRIDENT_ENOMEM;
    }
    content_score(&c, &s);
    if (r->n_evidence > 1) qsort(r->evidence, r->n_evidence, sizeof *r->evidence, content_evidence_cmp);
    return 0;
}
