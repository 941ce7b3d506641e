/* content.h — entity extraction from an emergency-call transcript and the
 * content score (DESIGN.md).
 *
 * A content_lexicon is loaded once at start-up from data files
 * (<data_dir>/content/lexicon.tsv and gazetteer.tsv; formats in
 * data/content/README.md). It is immutable afterwards and may be shared by any
 * number of threads calling content_extract concurrently.
 *
 * Matching, in short: the transcript is normalised (lowercase, apostrophes
 * dropped, punctuation → spaces, number words and digits → numbers), lexicon
 * phrases are matched left to right by longest match on word boundaries
 * (where two phrases overlap, the more severe reading wins, then the longer).
 * A negation cue ("no", "not", "nah", "nobody", "no one" ...) negates the
 * matches starting within the next 3 words of the same clause, as long as
 * every word in between is a function word (stopword or `transparent`): "no
 * one is hurt" negates "hurt", "cyaan find mi pickney" does not negate the
 * children. Phrases that contain a negation word carry their own meaning ("not
 * breathing", "nah breathe", "cyaan breathe": the emergency itself). When
 * several values of one entity match, the most severe wins (not_breathing >
 * impaired > normal), except that a recovery phrase ("okay now", "breathing
 * again", "woke up") cancels what was said before it about the functions it
 * names (breathing, consciousness, bleeding, or all three). Every match is
 * reported as evidence with the points it contributed.
 *
 * Word classes: besides phrases, the lexicon puts words in classes (weapon,
 * harm, threat, person, body part, many, casualty, under, material, inside,
 * ingest, substance, blue, convulse, not answering, blood, flow, sink,
 * water, ...), matched on their own and negated like phrases. Composite
 * rules make indicators from classes within a few words of each other — a
 * weapon + a threat → weapon_threat, a harm verb + a person → weapon_injury,
 * a count of 3+ people + hurt → mass_casualty, a person under rubble or
 * inside a fire → entrapment, swallowing + a poison → overdose, lips + blue
 * → not breathing, shaking + not answering → seizure — with the words from
 * the first class word to the last as evidence (data/content/README.md has
 * the table). A dispatcher's question answered no ("Is he breathing? No.",
 * "is she awake? nah") is not breathing / unresponsive. Words said of a thing ("the phone is dead") and frames (a
 * hypothetical, a drill, a film, the past, "cancel the ambulance") drop the
 * critical findings they cover. A word not in the lexicon is read through
 * its inflection ("bleedin") or, when 6 letters or more, as the lexicon word
 * one slip away ("bleding", "unconsious"); real words (known.tsv) never are.
 *
 * Indicators: named findings of a life at risk. Critical (a life at risk
 * now): cardiac, not_breathing, drowning, unresponsive, seizure, overdose,
 * heavy_bleeding, weapon_injury, burns, entrapment, electrocution,
 * suicide_attempt, childbirth_bleeding, weapon_threat, mass_casualty.
 * Non-critical: altered, minor_bleeding, injury. not_breathing, unresponsive,
 * heavy_bleeding, altered and minor_bleeding are the clinical values
 * (breathing, consciousness, bleeding) under their indicator names; the others
 * come from `indicator` phrases in the lexicon.
 *
 * Content score = min(100, hazard + life threat + vulnerable + scale +
 * location + urgency) / 100, the formula fixed by DESIGN.md:
 *   hazard: the paper's seven keep their weights — violence 35, fire 35,
 *           medical 25, flood 20, traffic 15, infrastructure 10, other 5 —
 *           and the extension takes the weight of the paper hazard it is
 *           closest to: explosion 35 (as fire), collapse 25 and drowning 25
 *           (as medical: people under rubble or in the water), landslide 20
 *           (as flood), electrical 15 (as traffic: above infrastructure, a
 *           live wire can kill). The highest weight mentioned scores; the
 *           hazard reported is the mechanism: the extension's five first, then
 *           violence, fire, flood and traffic, then medical (the consequence
 *           of the others), infrastructure, other (ties: the first mentioned).
 *   life threat: the paper's terms — not_breathing, unresponsive, heavy
 *           bleeding +30 each; impaired breathing, altered consciousness +15
 *           each; minor bleeding +5 — and +30 for each other distinct critical
 *           indicator (the paper's +30 is what a life at risk now scores;
 *           cardiac, drowning, seizure, ... are such findings). injury: 0
 *           (the hazard term already scores it).
 *   vulnerable population +15
 *   scale: 5 per person capped at 20; escalating +10
 *   location: address or landmark +5
 *   urgency: 5 per distinct urgency keyword capped at 15 */
#ifndef TRIDENT_CONTENT_CONTENT_H
#define TRIDENT_CONTENT_CONTENT_H

#include <jansson.h>
#include <stddef.h>

typedef struct content_lexicon content_lexicon;

/* Hazards: the paper's seven in ascending weight order, then the extension
 * (CONTENT_HAZARD_NONE = not mentioned). Weights above. */
typedef enum {
    CONTENT_HAZARD_NONE = 0,
    CONTENT_HAZARD_OTHER,
    CONTENT_HAZARD_INFRASTRUCTURE,
    CONTENT_HAZARD_TRAFFIC,
    CONTENT_HAZARD_FLOOD,
    CONTENT_HAZARD_MEDICAL,
    CONTENT_HAZARD_FIRE,
    CONTENT_HAZARD_VIOLENCE,
    CONTENT_HAZARD_LANDSLIDE,
    CONTENT_HAZARD_COLLAPSE,
    CONTENT_HAZARD_EXPLOSION,
    CONTENT_HAZARD_DROWNING,
    CONTENT_HAZARD_ELECTRICAL,
    CONTENT_HAZARD_COUNT
} content_hazard;

/* Indicators (names above); the critical ones first. */
typedef enum {
    CONTENT_IND_CARDIAC = 0,
    CONTENT_IND_NOT_BREATHING,
    CONTENT_IND_DROWNING,
    CONTENT_IND_UNRESPONSIVE,
    CONTENT_IND_SEIZURE,
    CONTENT_IND_OVERDOSE,
    CONTENT_IND_HEAVY_BLEEDING,
    CONTENT_IND_WEAPON_INJURY,
    CONTENT_IND_BURNS,
    CONTENT_IND_ENTRAPMENT,
    CONTENT_IND_ELECTROCUTION,
    CONTENT_IND_SUICIDE_ATTEMPT,
    CONTENT_IND_CHILDBIRTH_BLEEDING,
    CONTENT_IND_WEAPON_THREAT,
    CONTENT_IND_MASS_CASUALTY,
    CONTENT_IND_ALTERED,          /* first non-critical */
    CONTENT_IND_MINOR_BLEEDING,
    CONTENT_IND_INJURY,
    CONTENT_IND_COUNT
} content_indicator;
#define CONTENT_IND_CRITICAL_COUNT CONTENT_IND_ALTERED

/* Clinical values: 0 = unknown, then ascending severity (the winner when
 * several values match is the highest). */
typedef enum { CONTENT_BREATHING_UNKNOWN = 0, CONTENT_BREATHING_NORMAL, CONTENT_BREATHING_IMPAIRED, CONTENT_BREATHING_NOT_BREATHING } content_breathing;
typedef enum { CONTENT_CONSCIOUSNESS_UNKNOWN = 0, CONTENT_CONSCIOUSNESS_ALERT, CONTENT_CONSCIOUSNESS_ALTERED, CONTENT_CONSCIOUSNESS_UNRESPONSIVE } content_consciousness;
typedef enum { CONTENT_BLEEDING_UNKNOWN = 0, CONTENT_BLEEDING_NONE, CONTENT_BLEEDING_MINOR, CONTENT_BLEEDING_HEAVY } content_bleeding;
typedef enum { CONTENT_MOBILITY_UNKNOWN = 0, CONTENT_MOBILITY_WALKING, CONTENT_MOBILITY_IMPAIRED, CONTENT_MOBILITY_IMMOBILE } content_mobility;

#define CONTENT_TEXT_MAX 128   /* address / landmark / evidence text (truncated on a UTF-8 boundary) */
#define CONTENT_NAME_MAX 48    /* place names, values */
#define CONTENT_KEYWORDS_MAX 16

/* One indicator found: the first mention that stands (not negated, not
 * cancelled by a later recovery). */
typedef struct {
    content_indicator id;
    char matched[CONTENT_TEXT_MAX]; /* the transcript's own words */
    size_t start, end;              /* byte offsets of `matched` in the transcript */
} content_indicator_hit;

/* One reason for the score: which words produced which entity value. */
typedef struct {
    const char *entity;             /* static: "mechanism_hazard", "clinical_indicators.breathing", ... */
    char value[CONTENT_TEXT_MAX];   /* "fire", "not_breathing", "3", "true", a place name, an address ... */
    char matched[CONTENT_TEXT_MAX]; /* the transcript's own words that matched */
    size_t start, end;              /* byte offsets of `matched` in the transcript */
    int weight;                     /* points contributed (0 when overridden, repeated or negated) */
    int negated;                    /* 1 when a negation cue applied to this match */
} content_evidence;

typedef struct {
    /* location */
    char address[CONTENT_TEXT_MAX];        /* "" when none */
    char landmark[CONTENT_TEXT_MAX];       /* "" when none */
    char geographic_ref[CONTENT_NAME_MAX]; /* gazetteer name ("Spanish Town"), "" when none */
    char parish[CONTENT_NAME_MAX];         /* resolved parish, "" when unresolved */
    char town[CONTENT_NAME_MAX];           /* resolved town, "" when only a parish matched */
    int has_coordinates;
    double lat, lng;
    content_hazard hazard;
    content_breathing breathing;
    content_consciousness consciousness;
    content_bleeding bleeding;
    content_mobility mobility;
    /* scale */
    /* indicators found, in the order of content_indicator (critical first) */
    content_indicator_hit indicators[CONTENT_IND_COUNT];
    int n_indicators;
    /* a serious emergency (critical indicators aside): a `serious` phrase
     * ("gas leak", "a bruk in"), a person missing or an escalating situation;
     * harm (injury, minor bleeding, altered consciousness, impaired
     * breathing) unless a minor phrase says it is minor (not after
     * violence); a hazard of the surroundings (fire, explosion, collapse,
     * landslide, flood, electrical) unless a `minor` phrase says it is over
     * ("fire is out now"); a hazard to a person (violence, traffic, medical,
     * drowning) unless a minor phrase, "nobody hurt" or a recovery says so; a
     * seizure that stopped, unless a minor phrase */
    int serious;
    /* not serious, and the words say the call is over, past or minor (a
     * minor phrase, "nobody hurt", a recovery) */
    int minor;
    /* not serious, and the words name a routine matter (a `routine` phrase:
     * a nuisance, a fault to repair, a lost thing, a question, a misdial)
     * and no vulnerable person (a child, an elder: "my toddler is locked in
     * the car in the parking lot" is no parking matter).
     * Triage keeps a call in Q5-ROUTINE only when this or minor holds: an
     * emergency described in words the lexicon does not know names nothing,
     * so it is not taken for routine */
    int routine;
    /* a person may be in trouble (triage: never Q5): serious, an indicator,
     * a clinical value beyond normal, a hazard other than infrastructure or
     * other, or a standing word of a sign class (harm, casualty, blue,
     * convulse, noanswer, blood, sink, burned, sweat, sign: "he's not
     * right", "she's gasping") not negated and not said of a thing ("the
     * battery is dead"); never when minor */
    int concern;
    int persons_affected;  /* 0 when no count was stated */
    int vulnerable_population;
    int escalating;
    /* distinct urgency keywords in order of first mention (canonical forms,
     * pointing into the lexicon: valid while the lexicon lives) */
    const char *urgency_keywords[CONTENT_KEYWORDS_MAX];
    int n_urgency_keywords;
    /* the score */
    int points_hazard, points_life_threat, points_vulnerable, points_scale, points_location, points_urgency;
    int points_total;      /* uncapped sum */
    double content_score;  /* min(100, points_total) / 100 */
    /* evidence, in transcript order; owned by the result */
    content_evidence *evidence;
    size_t n_evidence;
} content_result;

/* Loads <data_dir>/content/lexicon.tsv and <data_dir>/content/gazetteer.tsv.
 * data_dir NULL or "" means $TRIDENT_DATA if set, else the compiled-in
 * TRIDENT_DATA_DIR. On success *lex is a new lexicon the caller owns (free with
 * content_lexicon_free) and 0 is returned; otherwise a negative TRIDENT_E* code
 * and a message naming the file and line. */
int content_lexicon_load(const char *data_dir, content_lexicon **lex, char *err, size_t err_size);
void content_lexicon_free(content_lexicon *lex);

/* Number of phrases and gazetteer places loaded (for start-up logging). */
size_t content_lexicon_phrase_count(const content_lexicon *lex);
size_t content_lexicon_place_count(const content_lexicon *lex);

/* Extracts entities, score and evidence from text (UTF-8, NUL-terminated,
 * may be empty). *result is overwritten (free an earlier result first) and
 * owns its evidence array: release with content_result_clear. Returns 0, or
 * TRIDENT_EINVAL (NULL argument) / TRIDENT_ENOMEM, leaving *result empty. */
int content_extract(const content_lexicon *lex, const char *text, content_result *result);
void content_result_clear(content_result *result);

/* Static names of the enum values ("fire", "not_breathing", ...); hazard NONE → NULL. */
const char *content_hazard_name(content_hazard h);
const char *content_indicator_name(content_indicator i);
int content_indicator_is_critical(content_indicator i);
/* The result's first critical indicator (the most urgent in the order of
 * content_indicator), or NULL when there is none. Points into r. */
const content_indicator_hit *content_result_critical(const content_result *r);
const char *content_breathing_name(content_breathing v);
const char *content_consciousness_name(content_consciousness v);
const char *content_bleeding_name(content_bleeding v);
const char *content_mobility_name(content_mobility v);

/* {"entities": {"location": {"address", "landmark", "geographic_ref", "parish",
 *                            "town", "lat", "lng"},          (null when absent)
 *               "mechanism_hazard": "fire" | ... | null,
 *               "clinical_indicators": {"breathing", "consciousness", "bleeding", "mobility"},
 *               "scale": {"persons_affected": int, "vulnerable_population": bool, "escalating": bool},
 *               "urgency_keywords": [string, ...],
 *               "indicators": [{"name", "critical", "matched", "start", "end"}, ...],
 *               "serious": bool, "minor": bool},
 *  "content_score": number,
 *  "score_breakdown": {"hazard", "life_threat", "vulnerable", "scale", "location", "urgency", "total"},
 *  "evidence": [{"entity", "value", "matched", "weight", "negated", "start", "end"}, ...]}
 * Evidence "value" is an integer for scale.persons_affected, true for the
 * scale flags, a string otherwise. Returns a new reference the caller owns
 * (json_decref), or NULL when out of memory. */
json_t *content_result_to_json(const content_result *result);

#endif
