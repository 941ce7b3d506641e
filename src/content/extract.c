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
 *     LEX_NEGATION_SCOPE words of the same clause when every unmatched word
 *     between them is a stopword or a transparent word ("no one is hurt",
 *     "nobody got hurt"; not "cyaan find mi pickney"). A negated match takes
 *     its lexicon "negated value" if it has one ("bleeding" → none) and is
 *     dropped otherwise. Phrases containing a negation word ("not breathing")
 *     are never negated again.
 *  3b. Word classes (lexicon.h, lex_class): matched on their own trie,
 *     negated by a negation word just before them; a breathing,
 *     consciousness or medical match said of a thing ("the phone is dead")
 *     is dropped (content_inanimate_mark).
 *  4. Entities, in transcript order: hazard points = the highest weight
 *     mentioned, hazard name = the mechanism (content_hazard_rank; ties: the
 *     first); clinical fields
 *     = most severe value mentioned; indicators = the first mention of each; a
 *     recovery phrase cancels the clinical values and indicators of its groups
 *     mentioned before it; flags; distinct urgency keywords. After the
 *     phrases, the composite rules (content_composites) make indicators,
 *     clinical values and hazards from classes close together.
 *  5. Persons: the largest count stated — a number followed within
 *     LEX_COUNT_WINDOW words by a person noun ("3 people", "two small
 *     pickney"), or a phrase that is a count ("somebody").
 *  6. Address: a street word preceded by up to 4 name words and/or a house
 *     number ("12 Hope Road", "Bull Bay district"). Landmark: a proximity cue
 *     followed by up to 3 name words ("near the big mango tree"), or a
 *     landmark word with up to 3 name words before it ("Kingston Public
 *     Hospital"). The first of each in the transcript is kept.
 *     A gazetteer road is an address (with a house number before it).
 *  7. Place: gazetteer names, except those that are part of a street name
 *     ("Spanish Town Road"); the first town wins, else the first landmark,
 *     road or parish (in that order). A gazetteer landmark is also the
 *     landmark when none was found from landmark words.
 *  8. Frames (content_frames) drop the critical findings in their scope;
 *     indicators: the clinical values under their indicator names, the
 *     indicator phrases and composites that stand, and the serious flag.
 * A transcript word not in the lexicon is read through lex_word_guess
 * (inflections, one-slip corrections of long words). */
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
#define LEX_INANIMATE_SCOPE 5 /* words between a thing and what is said of it ("the light at the corner is dead") */


typedef struct {
    uint32_t start, end; /* token range [start, end) */
    uint32_t node;
    int negated;
    int excluded_place;  /* a place that is part of a street name */
    int inanimate;       /* "dead" said of a phone, a battery, a dog: dropped */
    int consumed;        /* a landmark already inside a captured landmark */
} content_match;

/* A word-class match (lexicon.h, lex_class): tokens [start, end), the
 * classes it belongs to (a bit set), and whether a negation cue before it
 * applies ("nobody hurt", "he is not armed"). */
typedef struct {
    uint32_t start, end;
    uint64_t classes;
    int negated;
} content_class_match;

typedef struct {
    const content_lexicon *lex;
    const char *text;
    content_result *r;
    lex_token *tokens;
    size_t n_tokens;
    content_match *matches;
    size_t n_matches;
    int32_t *tok_match;   /* [n_tokens] index of the covering match or -1 */
    content_class_match *classes; /* word-class matches in transcript order */
    size_t n_classes;
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

static const char *const content_entity_names[LEX_N_CATEGORIES] = {
    [LEX_HAZARD] = "mechanism_hazard",
    [LEX_BREATHING] = "clinical_indicators.breathing",
    [LEX_CONSCIOUSNESS] = "clinical_indicators.consciousness",
    [LEX_BLEEDING] = "clinical_indicators.bleeding",
    [LEX_MOBILITY] = "clinical_indicators.mobility",
    [LEX_VULNERABLE] = "scale.vulnerable_population",
    [LEX_ESCALATING] = "scale.escalating",
    [LEX_URGENCY] = "urgency_keywords",
    [LEX_INDICATOR] = "indicators",
    [LEX_RECOVERY] = "recovery",
    [LEX_SERIOUS] = "serious",
    [LEX_MINOR] = "minor",
    [LEX_ROUTINE] = "routine",
    [LEX_CUE] = "cue",
    [LEX_PERSONS] = "scale.persons_affected",
    [LEX_STREET] = "location.address",
    [LEX_LANDMARK] = "location.landmark",
    [LEX_PLACE] = "location.geographic_ref",
    [LEX_CLASS] = "frame",
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
        if (t->word < 0) t->word = lex_word_guess(lex, buf, wl); /* "bleds", "unconsious" */
        t->number = -1;
        if (n > 0 && (boundary || (t->word >= 0 && (lex->word_flags[t->word] & LEX_WORD_BOUNDARY)))) clause++;
        /* A word said twice in a row is one ("the the mud", "blood blood"): ASR
         * repeats and Patois doubling ("bad bad") match as the single word. */
        if (n > 0 && t->word >= 0 && lex->word_number[t->word] < 0 && t->word == c->tokens[n - 1].word &&
            clause == c->tokens[n - 1].clause)
            continue;
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

/* Can a negation's scope pass over token t (an unmatched function word)? */
static int content_is_transparent(const content_ctx *c, size_t t) {
    int32_t w = c->tokens[t].word;
    return w >= 0 && (c->lex->word_flags[w] & (LEX_WORD_STOP | LEX_WORD_TRANSPARENT));
}

static void content_negate(content_ctx *c) {
    for (size_t i = 0; i < c->n_matches; i++) {
        const content_match *cue = &c->matches[i];
        if (!content_match_has(c, cue, LEX_NEGATION)) continue;
        uint32_t clause = c->tokens[cue->end - 1].clause;
        size_t prev_end = cue->end;
        for (size_t k = i + 1; k < c->n_matches; k++) {
            content_match *m = &c->matches[k];
            if (m->start - cue->end >= LEX_NEGATION_SCOPE || c->tokens[m->start].clause != clause) break;
            int open = 1; /* a content word between ends the scope: "cyaan find mi pickney" */
            for (size_t t = prev_end; t < m->start && open; t++) open = content_is_transparent(c, t);
            if (!open) break;
            m->negated = 1;
            prev_end = m->end;
        }
    }
}

/* Running state of one clinical field or the hazard. */
typedef struct {
    int value, points;
    long ev;
} content_best;

/* Offers a candidate: the hazard's points keep the most points (by_points),
 * a clinical field (and the hazard's name, by content_hazard_rank) the
 * highest value; ties keep the first mentioned. */
static void content_best_offer(content_best *best, content_best cand, int by_points) {
    if (cand.ev < 0) return;
    if (best->ev < 0 || (by_points ? cand.points > best->points : cand.value > best->value)) *best = cand;
}

/* Which hazard names the call — its mechanism: the extension's specific
 * mechanisms first, then violence, fire, flood and traffic, then medical (the
 * consequence of most mechanisms), infrastructure, other. */
static const int content_hazard_rank[CONTENT_HAZARD_COUNT] = {
    [CONTENT_HAZARD_OTHER] = 1,     [CONTENT_HAZARD_INFRASTRUCTURE] = 2, [CONTENT_HAZARD_MEDICAL] = 3,
    [CONTENT_HAZARD_TRAFFIC] = 6,   [CONTENT_HAZARD_FLOOD] = 6,          [CONTENT_HAZARD_FIRE] = 6,
    [CONTENT_HAZARD_VIOLENCE] = 6,  [CONTENT_HAZARD_LANDSLIDE] = 7,      [CONTENT_HAZARD_COLLAPSE] = 7,
    [CONTENT_HAZARD_EXPLOSION] = 7, [CONTENT_HAZARD_DROWNING] = 7,       [CONTENT_HAZARD_ELECTRICAL] = 7,
};

/* Offers a hazard mention to the points (most points) and to the name (highest rank). */
static void content_hazard_offer(content_best *points, content_best *name, int hazard, long ev) {
    content_best_offer(points, (content_best){hazard, lex_hazard_points[hazard], ev}, 1);
    content_best cand = {content_hazard_rank[hazard], hazard, ev}; /* value = rank, points = the hazard */
    content_best_offer(name, cand, 0);
}

/* The hazard an indicator phrase implies when the phrase names none itself
 * ("get stab" is violence). */
static const content_hazard content_indicator_hazard[CONTENT_IND_COUNT] = {
    [CONTENT_IND_CARDIAC] = CONTENT_HAZARD_MEDICAL,         [CONTENT_IND_DROWNING] = CONTENT_HAZARD_DROWNING,
    [CONTENT_IND_SEIZURE] = CONTENT_HAZARD_MEDICAL,         [CONTENT_IND_OVERDOSE] = CONTENT_HAZARD_MEDICAL,
    [CONTENT_IND_WEAPON_INJURY] = CONTENT_HAZARD_VIOLENCE,  [CONTENT_IND_BURNS] = CONTENT_HAZARD_FIRE,
    [CONTENT_IND_ELECTROCUTION] = CONTENT_HAZARD_ELECTRICAL, [CONTENT_IND_SUICIDE_ATTEMPT] = CONTENT_HAZARD_MEDICAL,
    [CONTENT_IND_CHILDBIRTH_BLEEDING] = CONTENT_HAZARD_MEDICAL, [CONTENT_IND_WEAPON_THREAT] = CONTENT_HAZARD_VIOLENCE,
    [CONTENT_IND_INJURY] = CONTENT_HAZARD_MEDICAL,
};

/* The recovery group of each indicator (0: no recovery phrase cancels it). */
static const int content_indicator_group[CONTENT_IND_COUNT] = {
    [CONTENT_IND_CARDIAC] = LEX_GROUP_CONSCIOUSNESS,
    [CONTENT_IND_DROWNING] = LEX_GROUP_BREATHING,
    [CONTENT_IND_SEIZURE] = LEX_GROUP_CONSCIOUSNESS,
    [CONTENT_IND_OVERDOSE] = LEX_GROUP_CONSCIOUSNESS,
    [CONTENT_IND_ELECTROCUTION] = LEX_GROUP_CONSCIOUSNESS,
    [CONTENT_IND_CHILDBIRTH_BLEEDING] = LEX_GROUP_BLEEDING,
};


/* The name of an entry's category value (value may differ from e->value when negated). */
static const char *content_value_name(const lex_entry *e, int value) {
    switch (e->category) {
    case LEX_HAZARD: return content_hazard_name((content_hazard)value);
    case LEX_BREATHING: return content_breathing_name((content_breathing)value);
    case LEX_CONSCIOUSNESS: return content_consciousness_name((content_consciousness)value);
    case LEX_BLEEDING: return content_bleeding_name((content_bleeding)value);
    case LEX_MOBILITY: return content_mobility_name((content_mobility)value);
    case LEX_INDICATOR: return content_indicator_name((content_indicator)value);
    case LEX_CUE: return lex_cue_name(value);
    case LEX_RECOVERY:
        return value == LEX_GROUP_BREATHING       ? "breathing"
               : value == LEX_GROUP_CONSCIOUSNESS ? "consciousness"
               : value == LEX_GROUP_BLEEDING      ? "bleeding"
                                                  : "all";
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
    content_best hazard, hazard_name, clinical[4]; /* hazard points and name; breathing, consciousness, bleeding, mobility */
    long indicator_ev[CONTENT_IND_COUNT]; /* the standing mention of each indicator phrase, or -1 */
    long vulnerable_ev, escalating_ev;
    int active;         /* a serious phrase stands */
    int minor_phrase;   /* a minor phrase stands: over, past or minor ("fire is out now", "last week") */
    int routine_phrase; /* a routine matter is named ("loud music", "pothole", "wrong number") */
    int unhurt;         /* an injury was negated ("nobody hurt") */
    int recovered;      /* a recovery phrase stands */
    int seizure_stopped; /* a recovery cancelled a seizure: it still needs care */
    size_t recovery_end[3];             /* the end of the last recovery of breathing, consciousness, bleeding (0: none) */
    content_best implied, implied_name; /* hazards implied by indicator phrases (used when none is named) */
    content_span clinical_first;        /* the first breathing / consciousness / bleeding mention ({0, 0}: none) */
    long cue_ev[LEX_CUE_COUNT];         /* the standing mention of each cue, or -1 */
    int persons;
    long persons_ev;
    long urgency_ev[CONTENT_KEYWORDS_MAX];
    long address_ev, landmark_ev;
    size_t landmark_tok;
    int place_first[4]; /* the first place mentioned of each lex_place_kind, or -1 */
} content_state;

static void content_persons_offer(content_state *s, int count, long ev) {
    if (ev >= 0 && count > s->persons) {
        s->persons = count;
        s->persons_ev = ev;
    }
}

static const content_match *content_match_at(const content_ctx *c, size_t t) {
    return c->tok_match[t] >= 0 ? &c->matches[c->tok_match[t]] : NULL;
}

static int content_is_stop(const content_ctx *c, size_t t) {
    int32_t w = c->tokens[t].word;
    return w >= 0 && (c->lex->word_flags[w] & LEX_WORD_STOP);
}

/* --- word classes ------------------------------------------------------------ */

#define LEX_CLASS_BIT(k) (UINT64_C(1) << (k))

/* Matches the `class` phrases (their own trie: a word may be in a phrase and
 * in classes; words an `ignore` phrase or a place name consumed are in
 * none; a year after "in" is in the class past), longest first,
 * and applies negation to each: a negation word
 * within LEX_NEGATION_SCOPE words before it in the clause, with only function
 * words between ("nobody is hurt", "he is not armed"), unless the class
 * phrase carries its own ("not answering"). */
static void content_classes_match(content_ctx *c) {
    const content_lexicon *lex = c->lex;
    const int32_t in_word = lex_word_find(lex, "in", 2);
    size_t i = 0;
    while (i < c->n_tokens) {
        uint32_t node;
        size_t len = lex_match_longest_from(lex, lex->class_root, c->tokens, c->n_tokens, i, &node);
        const content_match *covering = content_match_at(c, i);
        if (covering && (content_match_has(c, covering, LEX_IGNORE) || content_match_has(c, covering, LEX_PLACE)))
            len = 0; /* "tetanus shot" is no shooting, "Mavis Bank" no river bank */
        if (!len) {
            /* a year after "in" is the past ("drowned in 1987", "back in 2019") */
            const int32_t num = c->tokens[i].number;
            if (num >= 1900 && num <= 2100 && i > 0 && in_word >= 0 && c->tokens[i - 1].word == in_word)
                c->classes[c->n_classes++] = (content_class_match){(uint32_t)i, (uint32_t)i + 1,
                                                                   LEX_CLASS_BIT(LEX_CLASS_PAST), 0};
            i++;
            continue;
        }
        content_class_match *cm = &c->classes[c->n_classes++];
        cm->start = (uint32_t)i;
        cm->end = (uint32_t)(i + len);
        cm->classes = 0;
        cm->negated = 0;
        int self_negating = 0;
        const lex_node *nd = &lex->nodes[node];
        for (uint32_t k = 0; k < nd->count; k++) {
            const lex_entry *e = &lex->entries[nd->first + k];
            cm->classes |= LEX_CLASS_BIT(e->value);
            self_negating |= e->self_negating;
        }
        if (covering && covering->negated) cm->negated = 1;
        for (size_t back = 1; !self_negating && !cm->negated && back <= LEX_NEGATION_SCOPE && back <= i; back++) {
            const lex_token *t = &c->tokens[i - back];
            if (t->clause != c->tokens[i].clause || t->word < 0) break;
            if (lex->word_flags[t->word] & LEX_WORD_NEGATION)
                cm->negated = 1;
            else if (!content_is_transparent(c, i - back))
                break;
        }
        i += len;
    }
}

/* The nearest standing class match of class cls that starts within [lo, hi)
 * tokens, or NULL. */
static const content_class_match *content_class_find(const content_ctx *c, int cls, long lo, long hi) {
    for (size_t k = 0; k < c->n_classes; k++) {
        const content_class_match *cm = &c->classes[k];
        if ((long)cm->start >= hi) break;
        if ((long)cm->start >= lo && !cm->negated && (cm->classes & LEX_CLASS_BIT(cls))) return cm;
    }
    return NULL;
}

/* Is a wounding word ending at token `end` said of a thing — a thing word
 * within 4 words after it in its clause before any person or body part ("shot a video",
 * "chopped down the big tree"; an owner before the thing is no person:
 * "stabbing at her phone")? */
static int content_said_of_thing(const content_ctx *c, size_t end) {
    for (size_t k = 0; k < c->n_classes; k++) {
        const content_class_match *cm = &c->classes[k];
        if (cm->start < end) continue;
        if (cm->start >= end + 4 || (end > 0 && c->tokens[cm->start].clause != c->tokens[end - 1].clause)) break;
        const content_class_match *next = k + 1 < c->n_classes ? &c->classes[k + 1] : NULL;
        if ((cm->classes & LEX_CLASS_BIT(LEX_CLASS_PERSON)) && next && next->start <= cm->end + 1 &&
            (next->classes & LEX_CLASS_BIT(LEX_CLASS_INANIMATE)))
            continue; /* an owner before the thing: "stabbing at her phone", "fitting his new shoes" */
        if (cm->classes & (LEX_CLASS_BIT(LEX_CLASS_PERSON) | LEX_CLASS_BIT(LEX_CLASS_BODY))) return 0;
        if (cm->classes & LEX_CLASS_BIT(LEX_CLASS_INANIMATE)) return 1;
    }
    return 0;
}

/* Words said of a thing, not a person. Within LEX_INANIMATE_SCOPE words after
 * a thing, an animal, a structure or the land ("the phone is dead", "one dog
 * dead", "the stands collapsed", "the sign fall down"), with no person word
 * between, a breathing, consciousness or medical reading is dropped; after a
 * body part with its owner, a fire or violence word that names no injury
 * ("her face is burning", "my shoulder is killing me") is. Negated matches
 * are left to the negation. */
static void content_inanimate_mark(content_ctx *c) {
    const uint64_t things = LEX_CLASS_BIT(LEX_CLASS_INANIMATE) | LEX_CLASS_BIT(LEX_CLASS_STRUCTURE) |
                            LEX_CLASS_BIT(LEX_CLASS_LAND);
    static const char *const possessives[] = {"my", "his", "her", "their", "mi", "him", "your", "our"};
    int32_t owner[sizeof possessives / sizeof possessives[0]];
    for (size_t q = 0; q < sizeof possessives / sizeof possessives[0]; q++)
        owner[q] = lex_word_find(c->lex, possessives[q], strlen(possessives[q]));
    for (size_t k = 0; k < c->n_classes; k++) {
        const content_class_match *cm = &c->classes[k];
        const int thing = (cm->classes & things) != 0;
        int body = 0; /* a body part with its owner: "my shoulder", "har face" */
        for (size_t q = 0; cm->start > 0 && q < sizeof owner / sizeof owner[0]; q++)
            if (owner[q] >= 0 && c->tokens[cm->start - 1].word == owner[q]) body = (cm->classes & LEX_CLASS_BIT(LEX_CLASS_BODY)) != 0;
        if (!thing && !body) continue;
        for (size_t t = cm->end; t < c->n_tokens && t < cm->end + LEX_INANIMATE_SCOPE; t++) {
            if (c->tokens[t].clause != c->tokens[cm->start].clause) break;
            if (content_class_find(c, LEX_CLASS_PERSON, (long)t, (long)t + 1)) break;
            content_match *m = c->tok_match[t] >= 0 ? &c->matches[c->tok_match[t]] : NULL;
            if (!m || m->start != t || m->negated) continue; /* a negated match is read as negated */
            const lex_node *nd = &c->lex->nodes[m->node];
            int said_of_person = 0, fire_or_violence = 0, injury = 0;
            for (uint32_t q = 0; q < nd->count; q++) {
                const lex_entry *e = &c->lex->entries[nd->first + q];
                if (e->category == LEX_BREATHING || e->category == LEX_CONSCIOUSNESS ||
                    (e->category == LEX_HAZARD && e->value == CONTENT_HAZARD_MEDICAL) ||
                    (e->category == LEX_INDICATOR && e->value == CONTENT_IND_CARDIAC))
                    said_of_person = 1;
                /* a seizure, drowning or entrapment of an object or an animal ("the dog is shaking",
                 * "my phone is drowning in ...", "my car is trapped"), not of a structure or the land */
                if ((cm->classes & LEX_CLASS_BIT(LEX_CLASS_INANIMATE)) &&
                    ((e->category == LEX_HAZARD && e->value == CONTENT_HAZARD_DROWNING) ||
                     (e->category == LEX_INDICATOR &&
                      (e->value == CONTENT_IND_SEIZURE || e->value == CONTENT_IND_DROWNING ||
                       e->value == CONTENT_IND_ENTRAPMENT))))
                    said_of_person = 1;
                if (e->category == LEX_HAZARD && (e->value == CONTENT_HAZARD_FIRE || e->value == CONTENT_HAZARD_VIOLENCE))
                    fire_or_violence = 1;
                if (e->category == LEX_INDICATOR || e->category == LEX_BLEEDING) injury = 1;
            }
            if ((thing && said_of_person) || (body && fire_or_violence && !injury)) {
                m->inanimate = 1;
                break;
            }
        }
    }
    /* a wounding, cutting, breaking or convulsing word said of a thing: "shot a video",
     * "chopped down the tree", "cut my son's hair", "broke the window", "fitting his new
     * shoes", "shooting a music video" (not a theft:
     * "tief mi phone" is still violence) */
    for (size_t i = 0; i < c->n_matches; i++) {
        content_match *m = &c->matches[i];
        const lex_node *nd = &c->lex->nodes[m->node];
        int wounding = 0;
        for (uint32_t q = 0; q < nd->count; q++) {
            const lex_entry *e = &c->lex->entries[nd->first + q];
            wounding |= (e->category == LEX_INDICATOR &&
                         (e->value == CONTENT_IND_WEAPON_INJURY || e->value == CONTENT_IND_SEIZURE ||
                          e->value == CONTENT_IND_INJURY)) ||
                        (e->category == LEX_BLEEDING && e->value == CONTENT_BLEEDING_MINOR);
            wounding |= e->category == LEX_HAZARD && e->value == CONTENT_HAZARD_VIOLENCE &&
                        (content_class_find(c, LEX_CLASS_HARM, (long)m->start, (long)m->start + 1) ||
                         content_class_find(c, LEX_CLASS_THREAT, (long)m->start, (long)m->start + 1));
        }
        if (wounding && !m->negated && content_said_of_thing(c, m->end)) m->inanimate = 1;
    }
}

/* --- composite rules ------------------------------------------------------------ */

#define CONTENT_THREAT_WINDOW 20 /* tokens between a weapon and a threat (one call, one attacker) */
#define CONTENT_SEIZURE_WINDOW 10 /* between shaking and not answering */
#define CONTENT_HARM_WINDOW 6    /* between a harm verb and its victim */
#define CONTENT_NEAR_WINDOW 4    /* between a count and its people, a position and its material ... */
#define CONTENT_SCENE_WINDOW 8   /* between people and what happened to them */

static content_span content_span_of(const content_class_match *a, const content_class_match *b) {
    return (content_span){a->start < b->start ? a->start : b->start, a->end > b->end ? a->end : b->end};
}

/* Records a composite indicator over tokens sp (evidence "indicators", the
 * transcript's words from the first to the last class word) unless the
 * indicator already stands or a later recovery of its group cancels it. The
 * hazard it implies is named either way (the words named the mechanism:
 * "cutlass wound" is violence), except a burn's (scalded, burned by acid: the
 * fire only when nothing else is named). */
static void content_composite_add(content_ctx *c, content_state *s, content_indicator ind, content_span sp) {
    if (s->indicator_ev[ind] >= 0 || c->oom) return;
    content_hazard h = content_indicator_hazard[ind];
    if (h != CONTENT_HAZARD_NONE) {
        long hev = content_evidence_add(c, LEX_HAZARD, content_hazard_name(h), sp, 0);
        if (hev < 0) return;
        if (ind == CONTENT_IND_BURNS)
            content_hazard_offer(&s->implied, &s->implied_name, (int)h, hev);
        else
            content_hazard_offer(&s->hazard, &s->hazard_name, (int)h, hev);
    }
    for (int g = 0; g < 3; g++)
        if ((content_indicator_group[ind] & (1 << g)) && s->recovery_end[g] > sp.end) return;
    s->indicator_ev[ind] = content_evidence_add(c, LEX_INDICATOR, content_indicator_name(ind), sp, 0);
}

/* Offers a hazard named by two class words (a flood, a collapse, a crash ...);
 * at the name's rank, the first mentioned in the transcript names the call
 * ("the balcony gave way": collapse, though the phrase "gave way" alone is a
 * landslide). */
static void content_composite_hazard(content_ctx *c, content_state *s, content_hazard h, content_span sp) {
    long ev = content_evidence_add(c, LEX_HAZARD, content_hazard_name(h), sp, 0);
    if (ev < 0) return;
    const content_best *name = &s->hazard_name;
    if (name->ev >= 0 && name->value == content_hazard_rank[h] &&
        c->r->evidence[ev].start < c->r->evidence[name->ev].start)
        s->hazard_name = (content_best){content_hazard_rank[h], (int)h, ev};
    content_hazard_offer(&s->hazard, &s->hazard_name, (int)h, ev);
}

/* A clinical value made of two class words ("lips blue": not breathing). */
static void content_composite_clinical(content_ctx *c, content_state *s, int field, int category, int value, int points,
                                       const char *name, content_span sp) {
    if (s->clinical[field].ev >= 0 && s->clinical[field].value >= value) return;
    for (int g = 0; g < 3; g++)
        if (field == g && s->recovery_end[g] > sp.end) return;
    long ev = content_evidence_add(c, (lex_category)category, name, sp, 0);
    if (ev < 0) return;
    content_best_offer(&s->clinical[field], (content_best){value, points, ev}, 0);
    if (!s->clinical_first.end) s->clinical_first = sp;
}

/* Is there a count of 3 or more (a number or a `many` word) at token t? */
static int content_is_crowd(const content_ctx *c, size_t t) {
    const lex_token *tok = &c->tokens[t];
    if (tok->number >= 3 && tok->number < 100000) return 1;
    return content_class_find(c, LEX_CLASS_MANY, (long)t, (long)t + 1) != NULL;
}

/* The word-class rules (lexicon.h): each makes an indicator from class words
 * close together, whatever the phrasing. */
static void content_composites(content_ctx *c, content_state *s) {
    const content_lexicon *lex = c->lex;
    const int32_t in_word = lex_word_find(lex, "in", 2);
    const int32_t toward[] = {lex_word_find(lex, "to", 2), lex_word_find(lex, "over", 4), lex_word_find(lex, "at", 2),
                              lex_word_find(lex, "against", 7)};
    /* hazards named by two words: water + a level ("water is at the windows") → flood; a
     * structure + falling ("the shed fell in") → collapse; the land + sliding ("di hill a
     * slide") → landslide; a vehicle + an impact ("fly off him bike") → traffic; a person +
     * falling ("she fell") → medical */
    static const struct {
        int first, second;
        content_hazard hazard;
        long window;
    } pairs[] = {
        {LEX_CLASS_WATER, LEX_CLASS_LEVEL, CONTENT_HAZARD_FLOOD, CONTENT_NEAR_WINDOW},
        {LEX_CLASS_STRUCTURE, LEX_CLASS_FALL, CONTENT_HAZARD_COLLAPSE, CONTENT_NEAR_WINDOW - 1},
        {LEX_CLASS_LAND, LEX_CLASS_FALL, CONTENT_HAZARD_LANDSLIDE, CONTENT_NEAR_WINDOW - 1},
        {LEX_CLASS_VEHICLE, LEX_CLASS_IMPACT, CONTENT_HAZARD_TRAFFIC, CONTENT_NEAR_WINDOW},
        {LEX_CLASS_IMPACT, LEX_CLASS_VEHICLE, CONTENT_HAZARD_TRAFFIC, CONTENT_NEAR_WINDOW},
        {LEX_CLASS_PERSON, LEX_CLASS_FALL, CONTENT_HAZARD_MEDICAL, 2},
    };
    for (size_t q = 0; q < sizeof pairs / sizeof pairs[0]; q++)
        for (size_t k = 0; k < c->n_classes && !c->oom; k++) {
            const content_class_match *a = &c->classes[k], *b;
            if (a->negated || !(a->classes & LEX_CLASS_BIT(pairs[q].first))) continue;
            b = content_class_find(c, pairs[q].second, (long)a->end, (long)a->end + pairs[q].window);
            /* a structure or the land and its verb across a place phrase ("the old shed in my
             * yard in Bamboo fell in"), when no person comes between */
            if (!b && (pairs[q].hazard == CONTENT_HAZARD_COLLAPSE || pairs[q].hazard == CONTENT_HAZARD_LANDSLIDE) &&
                (b = content_class_find(c, LEX_CLASS_FALL, (long)a->end, (long)a->end + CONTENT_SCENE_WINDOW)) &&
                (content_class_find(c, LEX_CLASS_PERSON, (long)a->end, (long)b->start) ||
                 c->tokens[b->start].clause != c->tokens[a->start].clause))
                b = NULL;
            if (!b) continue;
            content_composite_hazard(c, s, pairs[q].hazard, content_span_of(a, b));
            break;
        }
    const content_hazard hz = (content_hazard)s->hazard_name.points;
    const int surroundings = s->hazard.ev >= 0 && (hz == CONTENT_HAZARD_FIRE || hz == CONTENT_HAZARD_FLOOD ||
                                                   hz == CONTENT_HAZARD_COLLAPSE || hz == CONTENT_HAZARD_LANDSLIDE ||
                                                   hz == CONTENT_HAZARD_EXPLOSION);
    const int watery = s->hazard.ev >= 0 && (hz == CONTENT_HAZARD_FLOOD || hz == CONTENT_HAZARD_DROWNING ||
                                             s->hazard.value == CONTENT_HAZARD_FLOOD ||
                                             s->hazard.value == CONTENT_HAZARD_DROWNING);
    for (size_t k = 0; k < c->n_classes && !c->oom; k++) {
        const content_class_match *a = &c->classes[k];
        if (a->negated) continue;
        const long s0 = (long)a->start, e0 = (long)a->end;
        const content_class_match *b;
        /* weapon + threat (kill, shoot, murder) → weapon_threat */
        if ((a->classes & LEX_CLASS_BIT(LEX_CLASS_WEAPON)) &&
            (b = content_class_find(c, LEX_CLASS_THREAT, s0 - CONTENT_THREAT_WINDOW, e0 + CONTENT_THREAT_WINDOW)))
            content_composite_add(c, s, CONTENT_IND_WEAPON_THREAT, content_span_of(a, b));
        /* weapon + wound ("cutlass wound"), weapon in a body part ("bullet in his leg") → weapon_injury */
        if (a->classes & LEX_CLASS_BIT(LEX_CLASS_WEAPON)) {
            if ((b = content_class_find(c, LEX_CLASS_WOUND, e0, e0 + 2)))
                content_composite_add(c, s, CONTENT_IND_WEAPON_INJURY, content_span_of(a, b));
            for (long t = e0; t < e0 + 2 && t < (long)c->n_tokens; t++)
                if (c->tokens[t].word == in_word && (b = content_class_find(c, LEX_CLASS_BODY, t + 1, t + 4)))
                    content_composite_add(c, s, CONTENT_IND_WEAPON_INJURY, content_span_of(a, b));
        }
        /* harm verb (shot, stab, chop, juk) + a person or body part → weapon_injury */
        if ((a->classes & LEX_CLASS_BIT(LEX_CLASS_HARM)) && !content_said_of_thing(c, a->end) &&
            ((b = content_class_find(c, LEX_CLASS_PERSON, s0 - CONTENT_HARM_WINDOW, e0 + CONTENT_HARM_WINDOW)) ||
             (b = content_class_find(c, LEX_CLASS_BODY, s0 - CONTENT_HARM_WINDOW, e0 + CONTENT_HARM_WINDOW))))
            content_composite_add(c, s, CONTENT_IND_WEAPON_INJURY, content_span_of(a, b));
        /* people under a heavy material ("granddad is under the blocks", "uncle deh unda it") → entrapment */
        /*   (after a slide or a collapse, an occupied vehicle or house under it: "a minibus is under the rocks") */
        if (a->classes & LEX_CLASS_BIT(LEX_CLASS_UNDER)) {
            const content_class_match *who = content_class_find(c, LEX_CLASS_PERSON, s0 - CONTENT_HARM_WINDOW, s0);
            if (!who && (hz == CONTENT_HAZARD_LANDSLIDE || hz == CONTENT_HAZARD_COLLAPSE) &&
                !(who = content_class_find(c, LEX_CLASS_VEHICLE, s0 - CONTENT_NEAR_WINDOW, s0)))
                who = content_class_find(c, LEX_CLASS_STRUCTURE, s0 - CONTENT_NEAR_WINDOW, s0);
            if (who && (b = content_class_find(c, LEX_CLASS_MATERIAL, e0, e0 + CONTENT_NEAR_WINDOW)))
                content_composite_add(c, s, CONTENT_IND_ENTRAPMENT, content_span_of(who, b));
        }
        /* a fire, flood, collapse or slide + people still inside / upstairs / locked in → entrapment */
        if (surroundings && (a->classes & LEX_CLASS_BIT(LEX_CLASS_INSIDE)) &&
            (b = content_class_find(c, LEX_CLASS_PERSON, s0 - CONTENT_HARM_WINDOW, e0 + CONTENT_NEAR_WINDOW)))
            content_composite_add(c, s, CONTENT_IND_ENTRAPMENT, content_span_of(a, b));
        /* swallowed / drank + a poison, or + many tablets → overdose */
        if (a->classes & LEX_CLASS_BIT(LEX_CLASS_INGEST)) {
            if ((b = content_class_find(c, LEX_CLASS_SUBSTANCE, s0 - 2, e0 + CONTENT_HARM_WINDOW)))
                content_composite_add(c, s, CONTENT_IND_OVERDOSE, content_span_of(a, b));
            else if ((b = content_class_find(c, LEX_CLASS_DRUG, s0 - 2, e0 + CONTENT_SCENE_WINDOW))) {
                int many = 0;
                for (long t = s0; t < (long)b->end + CONTENT_NEAR_WINDOW && t < (long)c->n_tokens && !many; t++)
                    many = content_is_crowd(c, (size_t)t); /* "a handful of pills", "pills, maybe six of them" */
                if (many) content_composite_add(c, s, CONTENT_IND_OVERDOSE, content_span_of(a, b));
            }
        }
        /* the throat closing up, something stuck in the windpipe → not breathing */
        if ((a->classes & LEX_CLASS_BIT(LEX_CLASS_AIRWAY)) && (b = content_class_find(c, LEX_CLASS_BLOCK, s0 - 4, e0 + 4)))
            content_composite_clinical(c, s, 0, LEX_BREATHING, CONTENT_BREATHING_NOT_BREATHING, lex_breathing_points[3],
                                       "not_breathing", content_span_of(a, b));
        /* lips / face blue or purple → not breathing */
        if ((a->classes & LEX_CLASS_BIT(LEX_CLASS_BLUE)) && (b = content_class_find(c, LEX_CLASS_BODY, s0 - 3, e0 + 3)))
            content_composite_clinical(c, s, 0, LEX_BREATHING, CONTENT_BREATHING_NOT_BREATHING, lex_breathing_points[3],
                                       "not_breathing", content_span_of(a, b));
        /* a weapon held to / over / at a person or a body part ("ice pick to her throat") → weapon_threat */
        if (a->classes & LEX_CLASS_BIT(LEX_CLASS_WEAPON))
            for (long t = e0; t < e0 + 3 && t < (long)c->n_tokens; t++)
                for (size_t w = 0; w < sizeof toward / sizeof toward[0]; w++)
                    if (toward[w] >= 0 && c->tokens[t].word == toward[w] &&
                        ((b = content_class_find(c, LEX_CLASS_BODY, t + 1, t + 5)) ||
                         (b = content_class_find(c, LEX_CLASS_PERSON, t + 1, t + 3))))
                        content_composite_add(c, s, CONTENT_IND_WEAPON_THREAT, content_span_of(a, b));
        /* chest + pain ("his chest is crushing") and sweat words: the cardiac cues */
        if ((a->classes & LEX_CLASS_BIT(LEX_CLASS_CHEST)) && s->cue_ev[LEX_CUE_CHEST_PAIN] < 0 &&
            (b = content_class_find(c, LEX_CLASS_PAIN, s0 - 3, e0 + 3))) {
            s->cue_ev[LEX_CUE_CHEST_PAIN] = content_evidence_add(c, LEX_CUE, lex_cue_name(LEX_CUE_CHEST_PAIN), content_span_of(a, b), 0);
            content_composite_hazard(c, s, CONTENT_HAZARD_MEDICAL, content_span_of(a, b));
        }
        if ((a->classes & LEX_CLASS_BIT(LEX_CLASS_SWEAT)) && s->cue_ev[LEX_CUE_SWEATING] < 0)
            s->cue_ev[LEX_CUE_SWEATING] = content_evidence_add(c, LEX_CUE, lex_cue_name(LEX_CUE_SWEATING), content_span_of(a, a), 0);
        /* blood + pouring, gushing, everywhere, won't stop → heavy bleeding */
        if ((a->classes & LEX_CLASS_BIT(LEX_CLASS_BLOOD)) && (b = content_class_find(c, LEX_CLASS_FLOW, s0 - 4, e0 + 4)))
            content_composite_clinical(c, s, 2, LEX_BLEEDING, CONTENT_BLEEDING_HEAVY, lex_bleeding_points[3], "heavy",
                                       content_span_of(a, b));
        /* a person who sank, went under, did not come up + in water → drowning */
        if ((a->classes & LEX_CLASS_BIT(LEX_CLASS_SINK)) &&
            content_class_find(c, LEX_CLASS_PERSON, s0 - CONTENT_HARM_WINDOW, s0) &&
            ((b = content_class_find(c, LEX_CLASS_WATER, s0 - 2 * CONTENT_HARM_WINDOW, e0 + 2 * CONTENT_HARM_WINDOW)) || watery))
            content_composite_add(c, s, CONTENT_IND_DROWNING, b ? content_span_of(a, b) : content_span_of(a, a));
        /* a person burned badly, all over, from head to foot → burns */
        if ((a->classes & LEX_CLASS_BIT(LEX_CLASS_BURNED)) &&
            (b = content_class_find(c, LEX_CLASS_PERSON, s0 - CONTENT_NEAR_WINDOW - 1, s0)) &&
            content_class_find(c, LEX_CLASS_SEVERE, s0 - CONTENT_NEAR_WINDOW, e0 + CONTENT_NEAR_WINDOW + 1))
            content_composite_add(c, s, CONTENT_IND_BURNS, content_span_of(b, content_class_find(c, LEX_CLASS_SEVERE, s0 - CONTENT_NEAR_WINDOW, e0 + CONTENT_NEAR_WINDOW + 1)));
        /* a structure or material that fell on a person ("the wall fell on him") → entrapment */
        if ((a->classes & LEX_CLASS_BIT(LEX_CLASS_ONTOP)) &&
            (content_class_find(c, LEX_CLASS_STRUCTURE, s0 - CONTENT_NEAR_WINDOW, s0) ||
             content_class_find(c, LEX_CLASS_MATERIAL, s0 - CONTENT_NEAR_WINDOW, s0)) &&
            (b = content_class_find(c, LEX_CLASS_PERSON, e0, e0 + 3)))
            content_composite_add(c, s, CONTENT_IND_ENTRAPMENT, content_span_of(a, b));
        /* himself / herself + a rope, a noose → suicide_attempt */
        if ((a->classes & LEX_CLASS_BIT(LEX_CLASS_SELF)) &&
            (b = content_class_find(c, LEX_CLASS_ROPE, s0 - 2 * CONTENT_HARM_WINDOW, e0 + 2 * CONTENT_HARM_WINDOW)))
            content_composite_add(c, s, CONTENT_IND_SUICIDE_ATTEMPT, content_span_of(a, b));
        /* shaking / jerking + not answering, eyes rolled, foaming → seizure (not the caller
         * shaking a person: "we tried shaking her") */
        if ((a->classes & LEX_CLASS_BIT(LEX_CLASS_CONVULSE)) && !content_class_find(c, LEX_CLASS_PERSON, e0, e0 + 1) &&
            (b = content_class_find(c, LEX_CLASS_NOANSWER, s0 - CONTENT_SEIZURE_WINDOW, e0 + CONTENT_SEIZURE_WINDOW)))
            content_composite_add(c, s, CONTENT_IND_SEIZURE, content_span_of(a, b));
    }
    /* a count of 3 or more (or many, nuff, whole heap) + people + hurt, down, burned, bleeding, dead → mass_casualty */
    for (size_t t = 0; t < c->n_tokens && !c->oom && s->indicator_ev[CONTENT_IND_MASS_CASUALTY] < 0; t++) {
        if (!content_is_crowd(c, t)) continue;
        const content_class_match *p = content_class_find(c, LEX_CLASS_PERSON, (long)t + 1, (long)t + CONTENT_NEAR_WINDOW);
        const long from = p ? (long)p->end : (long)t + 1;
        const content_class_match *hurt = content_class_find(c, LEX_CLASS_CASUALTY, from, from + (p ? CONTENT_SCENE_WINDOW : CONTENT_NEAR_WINDOW));
        if (hurt) {
            content_class_match crowd = {(uint32_t)t, (uint32_t)t + 1, 0, 0};
            content_composite_add(c, s, CONTENT_IND_MASS_CASUALTY, content_span_of(&crowd, hurt));
        }
    }
}

/* Is token t one of the words ws (interned ids, -1 = not in the lexicon)? */
static int content_word_is(const content_ctx *c, size_t t, const int32_t *ws, size_t n) {
    for (size_t q = 0; q < n; q++)
        if (ws[q] >= 0 && c->tokens[t].word == ws[q]) return 1;
    return 0;
}

/* A dispatcher's question answered no: "Is he breathing? No.", "you asked if
 * she's breathing no she's not", "is she awake? nah" → not breathing /
 * unresponsive. The question runs from the start of its clause (an
 * auxiliary first: is, does, can ..., or an "if" in it) to the answer word
 * (no, nah, nope, nuh), which ends the text or its clause or is followed by a
 * function word, a negation, a pronoun or a person ("no blood" is no answer); the
 * question must name breathing or consciousness (a breathing or
 * consciousness phrase, not negated). */
static void content_answers(content_ctx *c, content_state *s) {
    const content_lexicon *lex = c->lex;
    static const char *const aux_s[] = {"is", "does", "can", "are", "was", "did", "has", "do"};
    static const char *const no_s[] = {"no", "nah", "nope", "nuh"};
    static const char *const after_s[] = {"he", "she", "hes", "shes", "him", "har", "her", "it", "its", "i", "nothing", "notn", "nutten"};
    int32_t aux[sizeof aux_s / sizeof aux_s[0]], no[sizeof no_s / sizeof no_s[0]], after[sizeof after_s / sizeof after_s[0]];
    for (size_t q = 0; q < sizeof aux / sizeof aux[0]; q++) aux[q] = lex_word_find(lex, aux_s[q], strlen(aux_s[q]));
    for (size_t q = 0; q < sizeof no / sizeof no[0]; q++) no[q] = lex_word_find(lex, no_s[q], strlen(no_s[q]));
    for (size_t q = 0; q < sizeof after / sizeof after[0]; q++) after[q] = lex_word_find(lex, after_s[q], strlen(after_s[q]));
    const int32_t if_word = lex_word_find(lex, "if", 2);
    for (size_t t = 1; t < c->n_tokens && !c->oom; t++) {
        if (!content_word_is(c, t, no, sizeof no / sizeof no[0])) continue;
        if (t + 1 < c->n_tokens && c->tokens[t + 1].clause == c->tokens[t].clause) {
            const int32_t w = c->tokens[t + 1].word;
            if (!(w >= 0 && (lex->word_flags[w] & (LEX_WORD_STOP | LEX_WORD_NEGATION))) &&
                !content_word_is(c, t + 1, no, sizeof no / sizeof no[0]) &&
                !content_word_is(c, t + 1, after, sizeof after / sizeof after[0]) &&
                !content_class_find(c, LEX_CLASS_PERSON, (long)t + 1, (long)t + 2))
                continue;
        }
        size_t q0 = t - 1;
        while (q0 > 0 && c->tokens[q0 - 1].clause == c->tokens[t - 1].clause) q0--;
        int question = content_word_is(c, q0, aux, sizeof aux / sizeof aux[0]);
        for (size_t u = q0; u < t && !question; u++) question = if_word >= 0 && c->tokens[u].word == if_word;
        if (!question) continue;
        for (size_t u = q0; u < t; u++) {
            const content_match *m = content_match_at(c, u);
            if (!m || m->start != u || m->negated || m->inanimate) continue;
            const content_span sp = {q0, t + 1};
            if (content_match_has(c, m, LEX_BREATHING))
                content_composite_clinical(c, s, 0, LEX_BREATHING, CONTENT_BREATHING_NOT_BREATHING,
                                           lex_breathing_points[3], "not_breathing", sp);
            else if (content_match_has(c, m, LEX_CONSCIOUSNESS))
                content_composite_clinical(c, s, 1, LEX_CONSCIOUSNESS, CONTENT_CONSCIOUSNESS_UNRESPONSIVE,
                                           lex_consciousness_points[3], "unresponsive", sp);
        }
    }
}

/* The token at byte offset `start` (an evidence row's first token). */
static size_t content_token_at(const content_ctx *c, size_t start) {
    size_t lo = 0, hi = c->n_tokens;
    while (lo + 1 < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->tokens[mid].start <= start) lo = mid; else hi = mid;
    }
    return lo;
}

/* Frames: words that say the emergency is not real or not now. A
 * hypothetical ("what should I do if"), a drill, a film or TV, a medicine
 * taken as prescribed, the past
 * ("last year", not crossing a present word: "since yesterday", "now") drop
 * the critical findings within their scope; cancelling the ambulance drops
 * them all. A frame that applies makes the call minor (content.h). */
static void content_frames(content_ctx *c, content_state *s) {
    static const struct {
        int cls;
        long before, after; /* scope in tokens around the frame */
    } frames[] = {
        {LEX_CLASS_HYPOTHETICAL, 8, 15}, {LEX_CLASS_DRILL, 12, 12}, {LEX_CLASS_FICTION, 6, 6},
        {LEX_CLASS_PAST, 6, 4},          {LEX_CLASS_CANCEL, 100000, 100000}, {LEX_CLASS_NORMAL, 10, 4},
    };
    for (size_t k = 0; k < c->n_classes && !c->oom; k++) {
        const content_class_match *f = &c->classes[k];
        if (f->negated) continue;
        for (size_t q = 0; q < sizeof frames / sizeof frames[0]; q++) {
            if (!(f->classes & LEX_CLASS_BIT(frames[q].cls))) continue;
            const long lo = (long)f->start - frames[q].before, hi = (long)f->end + frames[q].after;
            int applied = frames[q].cls != LEX_CLASS_PAST;
            /* every standing critical finding: the indicators, the clinical values, the cues */
            long *evs[CONTENT_IND_COUNT + 3 + LEX_CUE_COUNT];
            size_t n = 0;
            for (int i = 0; i < CONTENT_IND_CRITICAL_COUNT; i++) evs[n++] = &s->indicator_ev[i];
            for (int g = 0; g < 3; g++)
                if (s->clinical[g].ev >= 0 && s->clinical[g].value == 3) evs[n++] = &s->clinical[g].ev;
            for (int q2 = 0; q2 < LEX_CUE_COUNT; q2++) evs[n++] = &s->cue_ev[q2];
            for (size_t i = 0; i < n; i++) {
                if (*evs[i] < 0) continue;
                long t = (long)content_token_at(c, c->r->evidence[*evs[i]].start);
                if (t < lo || t >= hi) continue;
                if (frames[q].cls == LEX_CLASS_PAST) {
                    long a = t < (long)f->start ? t : (long)f->end, b = t < (long)f->start ? (long)f->start : t;
                    if (content_class_find(c, LEX_CLASS_PRESENT, a, b)) continue; /* "... yesterday and now ..." */
                }
                *evs[i] = -1;
                applied = 1;
            }
            for (int g = 0; g < 3; g++)
                if (s->clinical[g].ev < 0) s->clinical[g] = (content_best){0, 0, -1};
            if (!applied) continue;
            s->minor_phrase = 1;
            content_evidence_add(c, LEX_CLASS, lex_class_name(frames[q].cls), (content_span){f->start, f->end}, 0);
        }
    }
}

/* Does a word of a sign class stand (not negated): harm, casualty, blue,
 * convulse, noanswer, blood, sink, burned, sweat or a vague sign ("not
 * right", "gasping") — the safety net's evidence that a person may be in
 * trouble even when no rule completes a finding? */
static int content_sign_stands(const content_ctx *c) {
    const uint64_t signs = LEX_CLASS_BIT(LEX_CLASS_HARM) | LEX_CLASS_BIT(LEX_CLASS_CASUALTY) |
                           LEX_CLASS_BIT(LEX_CLASS_BLUE) | LEX_CLASS_BIT(LEX_CLASS_CONVULSE) |
                           LEX_CLASS_BIT(LEX_CLASS_NOANSWER) | LEX_CLASS_BIT(LEX_CLASS_BLOOD) |
                           LEX_CLASS_BIT(LEX_CLASS_SINK) | LEX_CLASS_BIT(LEX_CLASS_BURNED) |
                           LEX_CLASS_BIT(LEX_CLASS_SWEAT) | LEX_CLASS_BIT(LEX_CLASS_SIGN);
    const uint64_t things = LEX_CLASS_BIT(LEX_CLASS_INANIMATE) | LEX_CLASS_BIT(LEX_CLASS_STRUCTURE) |
                            LEX_CLASS_BIT(LEX_CLASS_LAND);
    for (size_t k = 0; k < c->n_classes; k++) {
        const content_class_match *cm = &c->classes[k];
        if (cm->negated || !(cm->classes & signs)) continue;
        if (content_said_of_thing(c, cm->end)) continue; /* "a dead dog", "chopped down the tree" */
        int of_thing = 0; /* "the phone is dead", "one dog dead": the nearest thing or person before it */
        for (size_t b = k; b-- > 0;) {
            const content_class_match *p = &c->classes[b];
            if (p->end + LEX_INANIMATE_SCOPE <= cm->start ||
                c->tokens[p->start].clause != c->tokens[cm->start].clause)
                break;
            if (p->classes & LEX_CLASS_BIT(LEX_CLASS_PERSON)) break;
            if (p->classes & things) {
                of_thing = 1;
                break;
            }
        }
        if (!of_thing) return 1;
    }
    return 0;
}

/* Step 4: entities from the lexicon matches. */
static void content_entities(content_ctx *c, content_state *s) {
    content_result *r = c->r;
    for (size_t i = 0; i < c->n_matches && !c->oom; i++) {
        const content_match *m = &c->matches[i];
        const lex_node *nd = &c->lex->nodes[m->node];
        /* a recovery meaning first: "woke up" cancels, then says alert */
        for (uint32_t k = 0; k < 2 * nd->count; k++) {
            const lex_entry *e = &c->lex->entries[nd->first + k % nd->count];
            int negated = m->negated && !e->self_negating;
            int cat = e->category;
            if (cat > LEX_PERSONS || cat == LEX_PERSON || (cat == LEX_RECOVERY) != (k < nd->count)) continue;
            int value = e->value;
            if (negated) /* a negated value (clinical only) or dropped */
                value = cat >= LEX_BREATHING && cat <= LEX_MOBILITY && e->negated_value ? e->negated_value : -1;
            if (m->inanimate) { /* "the phone is dead": every meaning dropped */
                long ev = content_evidence_add(c, (lex_category)cat, content_value_name(e, e->value),
                                               (content_span){m->start, m->end}, 0);
                if (ev < 0) return;
                continue;
            }
            char vbuf[32];
            const char *vname = cat == LEX_URGENCY ? e->text : content_value_name(e, value < 0 ? e->value : value);
            if (cat == LEX_PERSONS) {
                snprintf(vbuf, sizeof vbuf, "%d", (int)e->number);
                vname = vbuf;
            }
            long ev = content_evidence_add(c, (lex_category)cat, vname, (content_span){m->start, m->end}, negated);
            if (ev < 0) return;
            if (value < 0 && cat == LEX_INDICATOR && e->value == CONTENT_IND_INJURY) s->unhurt = 1; /* "nobody hurt" */
            if (value < 0 && cat >= LEX_BREATHING && cat <= LEX_BLEEDING && !s->clinical_first.end)
                s->clinical_first = (content_span){m->start, m->end}; /* "he is not bleeding": still a medical call */
            if (value < 0) continue; /* negated and dropped */
            switch (cat) {
            case LEX_HAZARD:
                content_hazard_offer(&s->hazard, &s->hazard_name, value, ev);
                break;
            case LEX_BREATHING:
            case LEX_CONSCIOUSNESS:
            case LEX_BLEEDING:
                if (!s->clinical_first.end) s->clinical_first = (content_span){m->start, m->end};
                /* fall through */
            case LEX_MOBILITY:
                content_best_offer(&s->clinical[cat - LEX_BREATHING],
                                   (content_best){value, content_clinical_points(e, value), ev}, 0);
                break;
            case LEX_INDICATOR: {
                if (s->indicator_ev[value] < 0) s->indicator_ev[value] = ev;
                content_hazard h = content_indicator_hazard[value];
                if (h != CONTENT_HAZARD_NONE && !content_match_has(c, m, LEX_HAZARD)) {
                    long hev = content_evidence_add(c, LEX_HAZARD, content_hazard_name(h),
                                                    (content_span){m->start, m->end}, 0);
                    if (hev < 0) return;
                    content_hazard_offer(&s->implied, &s->implied_name, (int)h, hev);
                }
                break;
            }
            case LEX_SERIOUS: s->active = 1; break;
            case LEX_CUE:
                if (s->cue_ev[value] < 0) s->cue_ev[value] = ev;
                break;
            case LEX_MINOR: s->minor_phrase = 1; break;
            case LEX_ROUTINE: s->routine_phrase = 1; break;
            case LEX_RECOVERY: /* what was said before about these functions no longer holds */
                s->recovered = 1;
                for (int g = 0; g < 3; g++)
                    if (value & (1 << g)) s->recovery_end[g] = m->end;
                if ((value & content_indicator_group[CONTENT_IND_SEIZURE]) && s->indicator_ev[CONTENT_IND_SEIZURE] >= 0)
                    s->seizure_stopped = 1;
                for (int f = 0; f < 3; f++)
                    if (value & (1 << f)) s->clinical[f] = (content_best){0, 0, -1};
                for (int q = 0; q < CONTENT_IND_COUNT; q++)
                    if (content_indicator_group[q] & value) s->indicator_ev[q] = -1;
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
    content_composites(c, s);
    content_answers(c, s);
    /* No hazard named: an indicator's ("get stab": violence), else the clinical words ("she nah breathe"). */
    if (s->hazard.ev < 0 && s->implied.ev >= 0) {
        s->hazard = s->implied;
        s->hazard_name = s->implied_name;
    }
    if (s->hazard.ev < 0 && s->clinical_first.end && !c->oom) {
        long hev = content_evidence_add(c, LEX_HAZARD, content_hazard_name(CONTENT_HAZARD_MEDICAL), s->clinical_first, 0);
        if (hev >= 0) content_hazard_offer(&s->hazard, &s->hazard_name, CONTENT_HAZARD_MEDICAL, hev);
    }
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
    /* Places: the first of each kind; a gazetteer road is an address, a
     * gazetteer landmark the landmark when landmark words gave none. */
    for (size_t i = 0; i < c->n_matches && !c->oom; i++) {
        const content_match *m = &c->matches[i];
        if (m->excluded_place) continue;
        const lex_node *nd = &c->lex->nodes[m->node];
        int place = -1;
        for (uint32_t k = 0; k < nd->count; k++) {
            const lex_entry *e = &c->lex->entries[nd->first + k];
            if (e->category != LEX_PLACE) continue;
            if (place < 0 || (c->lex->places[e->number].kind == LEX_PLACE_TOWN &&
                              c->lex->places[place].kind != LEX_PLACE_TOWN))
                place = e->number;
        }
        if (place < 0) continue;
        const lex_place *pl = &c->lex->places[place];
        long ev = content_evidence_add(c, LEX_PLACE, pl->name, (content_span){m->start, m->end}, 0);
        if (ev < 0) return;
        if (s->place_first[pl->kind] < 0) s->place_first[pl->kind] = place;
        if (pl->kind == LEX_PLACE_ROAD) {
            size_t first = m->start;
            if (first > 0 && c->tokens[first - 1].number >= 0 && c->tokens[first - 1].clause == c->tokens[first].clause)
                first--; /* a house number: "12 Hope Road" */
            char span[CONTENT_TEXT_MAX];
            content_copy_span(span, sizeof span, c->text, c->tokens[first].start, c->tokens[m->end - 1].end);
            long aev = content_evidence_add(c, LEX_STREET, span, (content_span){first, m->end}, 0);
            if (aev >= 0 && s->address_ev < 0) {
                s->address_ev = aev;
                snprintf(r->address, sizeof r->address, "%s", span);
            }
        } else if (pl->kind == LEX_PLACE_LANDMARK) {
            if (s->landmark_ev < 0) content_landmark_offer(c, s, m->start, m->end);
            /* a town in a landmark's name is where it is ("Black River Hospital"); a
             * road's names where it leads ("Spanish Town Road") */
            for (size_t u = m->start; u < m->end && s->place_first[LEX_PLACE_TOWN] < 0; u++) {
                uint32_t node;
                size_t len = lex_match_longest(c->lex, c->tokens, m->end - (u == m->start), u, &node);
                const lex_node *inner = &c->lex->nodes[node];
                for (uint32_t k = 0; len && k < inner->count; k++) {
                    const lex_entry *e = &c->lex->entries[inner->first + k];
                    if (e->category != LEX_PLACE || c->lex->places[e->number].kind != LEX_PLACE_TOWN) continue;
                    if (content_evidence_add(c, LEX_PLACE, c->lex->places[e->number].name, (content_span){u, u + len},
                                             0) < 0)
                        return;
                    s->place_first[LEX_PLACE_TOWN] = e->number;
                    break;
                }
            }
        }
    }
    static const int order[] = {LEX_PLACE_TOWN, LEX_PLACE_LANDMARK, LEX_PLACE_ROAD, LEX_PLACE_PARISH};
    int place = -1;
    for (int k = 0; k < 4 && place < 0; k++) place = s->place_first[order[k]];
    if (place >= 0) {
        const lex_place *pl = &c->lex->places[place];
        snprintf(r->geographic_ref, sizeof r->geographic_ref, "%s", pl->name);
        snprintf(r->parish, sizeof r->parish, "%s", c->lex->places[pl->parish].name);
        if (pl->kind == LEX_PLACE_TOWN) snprintf(r->town, sizeof r->town, "%s", pl->name);
        r->has_coordinates = 1;
        r->lat = pl->lat;
        r->lng = pl->lng;
    }
}

static void content_score(content_ctx *c, content_state *s) {
    content_result *r = c->r;
    content_frames(c, s);
    content_evidence *ev = r->evidence;
    if (s->hazard.ev >= 0) {
        r->hazard = (content_hazard)s->hazard_name.points;
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
    /* Indicators: the clinical values under their names, then the phrases;
     * each critical phrase indicator scores as the paper's critical values. */
    long ind[CONTENT_IND_COUNT];
    for (int i = 0; i < CONTENT_IND_COUNT; i++) ind[i] = s->indicator_ev[i];
    if (r->breathing == CONTENT_BREATHING_NOT_BREATHING) ind[CONTENT_IND_NOT_BREATHING] = s->clinical[0].ev;
    if (r->consciousness == CONTENT_CONSCIOUSNESS_UNRESPONSIVE) ind[CONTENT_IND_UNRESPONSIVE] = s->clinical[1].ev;
    if (r->consciousness == CONTENT_CONSCIOUSNESS_ALTERED) ind[CONTENT_IND_ALTERED] = s->clinical[1].ev;
    if (r->bleeding == CONTENT_BLEEDING_HEAVY) ind[CONTENT_IND_HEAVY_BLEEDING] = s->clinical[2].ev;
    if (r->bleeding == CONTENT_BLEEDING_MINOR) ind[CONTENT_IND_MINOR_BLEEDING] = s->clinical[2].ev;
    /* Cues with other findings (lexicon.h): chest pain with sweating or a
     * collapse, a person missing in a fire or under a slide, someone who
     * cannot get out of one, a weapon with a threat, a drowning victim not
     * breathing, bleeding in childbirth, many people hurt. */
    const long *cue = s->cue_ev;
    if (ind[CONTENT_IND_CARDIAC] < 0 && cue[LEX_CUE_CHEST_PAIN] >= 0 &&
        (cue[LEX_CUE_SWEATING] >= 0 || r->breathing == CONTENT_BREATHING_NOT_BREATHING ||
         r->consciousness == CONTENT_CONSCIOUSNESS_UNRESPONSIVE))
        ind[CONTENT_IND_CARDIAC] = cue[LEX_CUE_CHEST_PAIN];
    const content_hazard hz = r->hazard;
    if (cue[LEX_CUE_MISSING] >= 0 && ind[CONTENT_IND_ENTRAPMENT] < 0 &&
        (hz == CONTENT_HAZARD_FIRE || hz == CONTENT_HAZARD_COLLAPSE || hz == CONTENT_HAZARD_LANDSLIDE ||
         hz == CONTENT_HAZARD_FLOOD || hz == CONTENT_HAZARD_EXPLOSION))
        ind[CONTENT_IND_ENTRAPMENT] = cue[LEX_CUE_MISSING];
    if (cue[LEX_CUE_STUCK] >= 0 && ind[CONTENT_IND_ENTRAPMENT] < 0 &&
        (hz == CONTENT_HAZARD_FIRE || hz == CONTENT_HAZARD_COLLAPSE || hz == CONTENT_HAZARD_LANDSLIDE ||
         hz == CONTENT_HAZARD_FLOOD || hz == CONTENT_HAZARD_EXPLOSION || hz == CONTENT_HAZARD_ELECTRICAL ||
         hz == CONTENT_HAZARD_TRAFFIC || hz == CONTENT_HAZARD_DROWNING))
        ind[CONTENT_IND_ENTRAPMENT] = cue[LEX_CUE_STUCK];
    if (cue[LEX_CUE_WEAPON] >= 0 && cue[LEX_CUE_THREAT] >= 0 && ind[CONTENT_IND_WEAPON_THREAT] < 0)
        ind[CONTENT_IND_WEAPON_THREAT] = cue[LEX_CUE_THREAT];
    if (hz == CONTENT_HAZARD_DROWNING && ind[CONTENT_IND_DROWNING] < 0) {
        long victim = cue[LEX_CUE_MISSING] >= 0 ? cue[LEX_CUE_MISSING]
                      : ind[CONTENT_IND_NOT_BREATHING] >= 0 ? ind[CONTENT_IND_NOT_BREATHING]
                                                           : ind[CONTENT_IND_UNRESPONSIVE];
        ind[CONTENT_IND_DROWNING] = victim;
    }
    if (cue[LEX_CUE_CHILDBIRTH] >= 0 && ind[CONTENT_IND_CHILDBIRTH_BLEEDING] < 0 &&
        (r->bleeding == CONTENT_BLEEDING_HEAVY || r->bleeding == CONTENT_BLEEDING_MINOR))
        ind[CONTENT_IND_CHILDBIRTH_BLEEDING] = cue[LEX_CUE_CHILDBIRTH];
    if (ind[CONTENT_IND_CHILDBIRTH_BLEEDING] >= 0) /* the more specific name */
        ind[CONTENT_IND_HEAVY_BLEEDING] = ind[CONTENT_IND_MINOR_BLEEDING] = -1;
    if (ind[CONTENT_IND_MASS_CASUALTY] < 0 && s->persons >= 3 && s->persons_ev >= 0 &&
        (ind[CONTENT_IND_WEAPON_INJURY] >= 0 || ind[CONTENT_IND_BURNS] >= 0 || ind[CONTENT_IND_INJURY] >= 0 ||
         ind[CONTENT_IND_UNRESPONSIVE] >= 0 || ind[CONTENT_IND_HEAVY_BLEEDING] >= 0))
        ind[CONTENT_IND_MASS_CASUALTY] = s->persons_ev;
    for (int i = 0; i < CONTENT_IND_COUNT; i++) {
        if (ind[i] < 0) continue;
        content_indicator_hit *h = &r->indicators[r->n_indicators++];
        h->id = (content_indicator)i;
        h->start = ev[ind[i]].start;
        h->end = ev[ind[i]].end;
        memcpy(h->matched, ev[ind[i]].matched, sizeof h->matched);
        /* the paper's clinical values scored above; every other critical indicator as they do */
        if (i < CONTENT_IND_CRITICAL_COUNT && i != CONTENT_IND_NOT_BREATHING && i != CONTENT_IND_UNRESPONSIVE &&
            i != CONTENT_IND_HEAVY_BLEEDING) {
            r->points_life_threat += LEX_INDICATOR_POINTS;
            ev[ind[i]].weight += LEX_INDICATOR_POINTS;
        }
    }
    if (cue[LEX_CUE_MISSING] >= 0) s->active = 1; /* a person missing */
    /* Serious (content.h): an active emergency; harm (unless a minor phrase
     * says it is minor, except after violence); a hazard of the
     * surroundings (fire, explosion, collapse, landslide, flood, live wire)
     * unless a minor phrase says it is over; a hazard to a person (violence,
     * traffic, medical, drowning) unless a minor phrase, "nobody hurt" or a
     * recovery says so; a seizure that stopped, unless a minor phrase. */
    const int surroundings = hz == CONTENT_HAZARD_FIRE || hz == CONTENT_HAZARD_EXPLOSION || hz == CONTENT_HAZARD_COLLAPSE ||
                             hz == CONTENT_HAZARD_LANDSLIDE || hz == CONTENT_HAZARD_FLOOD ||
                             hz == CONTENT_HAZARD_ELECTRICAL;
    const int person = hz == CONTENT_HAZARD_VIOLENCE || hz == CONTENT_HAZARD_TRAFFIC || hz == CONTENT_HAZARD_MEDICAL ||
                       hz == CONTENT_HAZARD_DROWNING;
    const int harm = ind[CONTENT_IND_INJURY] >= 0 || ind[CONTENT_IND_ALTERED] >= 0 ||
                     ind[CONTENT_IND_MINOR_BLEEDING] >= 0 || r->breathing == CONTENT_BREATHING_IMPAIRED;
    r->serious = s->active || s->escalating_ev >= 0 || (harm && (!s->minor_phrase || hz == CONTENT_HAZARD_VIOLENCE)) ||
                 (surroundings && !s->minor_phrase) ||
                 (person && !s->minor_phrase && !s->unhurt && !s->recovered) || (s->seizure_stopped && !s->minor_phrase);
    r->minor = !r->serious && (s->minor_phrase || s->unhurt || s->recovered);
    r->routine = !r->serious && s->routine_phrase && !r->vulnerable_population; /* a child is no routine matter */
    r->concern = !r->minor && (r->serious || r->n_indicators > 0 || content_sign_stands(c) || r->breathing > CONTENT_BREATHING_NORMAL ||
                               r->consciousness > CONTENT_CONSCIOUSNESS_ALERT || r->bleeding > CONTENT_BLEEDING_NONE ||
                               r->mobility > CONTENT_MOBILITY_WALKING ||
                               (hz != CONTENT_HAZARD_NONE && hz != CONTENT_HAZARD_OTHER && hz != CONTENT_HAZARD_INFRASTRUCTURE));
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

const content_indicator_hit *content_result_critical(const content_result *r) {
    return r && r->n_indicators > 0 && content_indicator_is_critical(r->indicators[0].id) ? &r->indicators[0] : NULL;
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
    content_class_match stack_classes[LEX_STACK_TOKENS];
    content_ctx c = {.lex = lex, .text = text, .r = r};
    void *heap = NULL;
    if (max_tokens <= LEX_STACK_TOKENS) {
        c.tokens = stack_tokens;
        c.matches = stack_matches;
        c.tok_match = stack_tok_match;
        c.classes = stack_classes;
    } else {
        size_t per = sizeof(lex_token) + sizeof(content_match) + sizeof(content_class_match) + sizeof(int32_t);
        if (max_tokens > SIZE_MAX / per) return TRIDENT_ENOMEM;
        heap = malloc(max_tokens * per);
        if (!heap) return TRIDENT_ENOMEM;
        c.matches = heap;
        c.tokens = (lex_token *)(c.matches + max_tokens);
        c.classes = (content_class_match *)(c.tokens + max_tokens);
        c.tok_match = (int32_t *)(c.classes + max_tokens);
    }
    content_state s;
    memset(&s, 0, sizeof s);
    s.hazard.ev = s.hazard_name.ev = s.vulnerable_ev = s.escalating_ev = s.persons_ev = s.address_ev = s.landmark_ev = -1;
    for (int k = 0; k < 4; k++) s.place_first[k] = -1;
    for (int f = 0; f < 4; f++) s.clinical[f].ev = -1;
    for (int i = 0; i < CONTENT_IND_COUNT; i++) s.indicator_ev[i] = -1;
    for (int i = 0; i < LEX_CUE_COUNT; i++) s.cue_ev[i] = -1;
    s.implied.ev = s.implied_name.ev = -1;

    content_tokenize(&c, len);
    content_match_all(&c);
    content_negate(&c);
    content_classes_match(&c);
    content_inanimate_mark(&c);
    content_entities(&c, &s);
    content_counts(&c, &s);
    content_location(&c, &s);
    if (!c.oom) content_score(&c, &s);
    free(heap);
    if (c.oom) {
        content_result_clear(r);
        return TRIDENT_ENOMEM;
    }
    if (r->n_evidence > 1) qsort(r->evidence, r->n_evidence, sizeof *r->evidence, content_evidence_cmp);
    return 0;
}
