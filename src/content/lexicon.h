/* lexicon.h — private to src/content: the compiled lexicon (interned words,
 * a phrase trie keyed by word ids, the gazetteer) and the tokenizer that turns
 * a transcript into normalised word tokens. Other modules include content.h. */
#ifndef TRIDENT_CONTENT_LEXICON_H
#define TRIDENT_CONTENT_LEXICON_H

#include <stddef.h>
#include <stdint.h>

#include "content/content.h"

/* Phrase categories (the first column of lexicon.tsv). */
typedef enum {
    LEX_HAZARD = 0,
    LEX_BREATHING,
    LEX_CONSCIOUSNESS,
    LEX_BLEEDING,
    LEX_MOBILITY,
    LEX_VULNERABLE,
    LEX_ESCALATING,
    LEX_URGENCY,
    LEX_INDICATOR, /* a named indicator that is not a clinical value ("heart attack" → cardiac) */
    LEX_RECOVERY,  /* cancels what came before about breathing, consciousness and/or bleeding */
    LEX_SERIOUS,   /* an emergency still active by itself ("gas leak", "breaking in right now") */
    LEX_MINOR,     /* the call is over, past or minor ("fire is out now", "last week", "fender bender") */
    LEX_ROUTINE,   /* a routine matter ("loud music", "pothole", "wrong number"): lets a call with nothing
                    * else in its words stay in Q5-ROUTINE; it cancels nothing */
    LEX_CUE,       /* a word that makes an indicator together with another finding (lex_cue) */
    LEX_PERSON,    /* a noun that a number can count: "people", "pickney" */
    LEX_PERSONS,   /* a phrase that states a count itself: "somebody" = 1 */
    LEX_NEGATION,  /* a negation cue */
    LEX_STREET,    /* a street word ending an address */
    LEX_LANDMARK,  /* a landmark word */
    LEX_NEAR,      /* a proximity cue introducing a landmark */
    LEX_IGNORE,    /* consumes its words and means nothing ("baby mother") */
    LEX_PLACE,     /* a gazetteer name (from gazetteer.tsv) */
    LEX_CLASS,     /* a member of a word class (lex_class) that composite rules combine; matched
                    * apart from the phrases above (its own trie root), so a word can be both */
    /* word-level categories: not phrases, they annotate single words */
    LEX_NUMBER,
    LEX_STOPWORD,
    LEX_BOUNDARY,
    LEX_TRANSPARENT, /* a word a negation's scope passes over ("got", "seriously") */
    LEX_SPELLING,    /* a spelling variant read as its canonical word ("unda" → "under") */
    LEX_KNOWN,       /* a real word that is never read as a misspelling of a lexicon word ("shouting") */
    LEX_N_CATEGORIES
} lex_category;

/* Recovery groups (the value of a recovery entry, a bit set). */
enum { LEX_GROUP_BREATHING = 1, LEX_GROUP_CONSCIOUSNESS = 2, LEX_GROUP_BLEEDING = 4 };

/* Cues (the value of a cue entry) and the indicators they make (extract.c):
 *   chest_pain + sweating (or collapse, not breathing, unresponsive) → cardiac
 *   missing + a fire, collapse, landslide, flood or explosion → entrapment;
 *     + drowning → drowning; + a person → a serious call (a missing child)
 *   childbirth + bleeding → childbirth_bleeding
 *   stuck ("cant get out") + a fire, collapse, landslide, flood, explosion,
 *     live wire, crash or drowning → entrapment
 *   weapon ("machete") + threat ("threatening", "chasing") → weapon_threat */
typedef enum {
    LEX_CUE_CHEST_PAIN = 0,
    LEX_CUE_SWEATING,
    LEX_CUE_MISSING,
    LEX_CUE_CHILDBIRTH,
    LEX_CUE_STUCK,
    LEX_CUE_WEAPON,
    LEX_CUE_THREAT,
    LEX_CUE_COUNT
} lex_cue;

/* The static name of a cue ("chest_pain" ...). */
const char *lex_cue_name(int cue);

/* Word classes (the value of a `class` entry): what a dispatcher's protocol
 * keys on. Composite rules in extract.c (content_composites) combine them
 * within a window of tokens into indicators; the frames (hypothetical ...
 * cancel) and inanimate subjects keep words from being read as a real,
 * current emergency. */
typedef enum {
    LEX_CLASS_WEAPON = 0, /* gun, cutlass, machete, knife, ice pick, razor, broken bottle, acid */
    LEX_CLASS_HARM,       /* a violent harm verb: shot, stab, chop, juk, cut up, knifed */
    LEX_CLASS_THREAT,     /* kill, murder, shoot, chop up (said as a threat) */
    LEX_CLASS_PERSON,     /* man, woman, pickney, granny, baby, him, har, dem, smaddy ... */
    LEX_CLASS_BODY,       /* a body part: head, chest, belly, neck, arm ... */
    LEX_CLASS_MANY,       /* many, nuff, whole heap, lots of, several, bunch of */
    LEX_CLASS_CASUALTY,   /* hurt, injured, down, on the ground, burned, bleeding, dead, unconscious */
    LEX_CLASS_UNDER,      /* under, beneath, pinned, buried, inside, behind, trapped in */
    LEX_CLASS_MATERIAL,   /* rubble, rocks, blocks, mud, dirt, concrete, car, tractor, wall, roof, tree */
    LEX_CLASS_INSIDE,     /* inside, upstairs, in there, locked in, on the roof: still in a fire or flood */
    LEX_CLASS_INGEST,     /* swallow, drink, ate, took, inject */
    LEX_CLASS_SUBSTANCE,  /* poisonous in any amount: bleach, poison, roach killer, kerosene, weed killer */
    LEX_CLASS_DRUG,       /* harmful in quantity: tablets, pills, medicine, insulin (with many or a count) */
    LEX_CLASS_BLUE,       /* blue, purple, grey (cyanosis, with a body part: lips, face) */
    LEX_CLASS_WOUND,      /* wound, gash, cut: after a weapon, a weapon injury ("cutlass wound") */
    LEX_CLASS_CONVULSE,   /* shaking, jerking, fitting, convulsing */
    LEX_CLASS_NOANSWER,   /* not answering, eyes rolled back, foaming: with convulse, a seizure */
    LEX_CLASS_INANIMATE,  /* phone, battery, line, car, light, dog, goat: "the phone is dead" */
    LEX_CLASS_HYPOTHETICAL, /* what should I do if, is it true, in case, school project */
    LEX_CLASS_DRILL,      /* drill, exercise, simulation */
    LEX_CLASS_FICTION,    /* in the movie, on tv, on the news */
    LEX_CLASS_PAST,       /* last year, last week, yesterday, las night, years ago */
    LEX_CLASS_PRESENT,    /* now, right now, still, again: ends a past frame's scope */
    LEX_CLASS_CANCEL,     /* cancel the ambulance, dont need the ambulance */
    LEX_CLASS_CHEST,      /* chest, heart: with pain, the chest-pain cue */
    LEX_CLASS_PAIN,       /* pain, hurts, crushing, tight, pressure, squeezing */
    LEX_CLASS_SWEAT,      /* sweating, sweaty, clammy, cold sweat: the sweating cue */
    LEX_CLASS_BLOOD,      /* blood, bleeding */
    LEX_CLASS_FLOW,       /* pouring, gushing, spurting, everywhere, wont stop: with blood, heavy bleeding */
    LEX_CLASS_SINK,       /* sink, went under, going down, not come up: in water, drowning */
    LEX_CLASS_WATER,      /* water, river, sea, pool, gully */
    LEX_CLASS_LEVEL,      /* rising, up to, at the windows, getting higher: after water, a flood */
    LEX_CLASS_BURNED,     /* burned, burnt, scalded, on fire */
    LEX_CLASS_SEVERE,     /* badly, all over, from head to foot, skin peeling: with burned, burns */
    LEX_CLASS_STRUCTURE,  /* shed, fence, wall, stands, tank stand, building: falling, a collapse */
    LEX_CLASS_LAND,       /* hill, hillside, mountain, bank, slope: sliding, a landslide */
    LEX_CLASS_FALL,       /* fell, fall down, collapsed, gave way, came down, slide */
    LEX_CLASS_ONTOP,      /* fell on, came down on, on top of: a structure on a person, entrapment */
    LEX_CLASS_VEHICLE,    /* car, bike, bus, taxi, truck: with an impact, traffic */
    LEX_CLASS_IMPACT,     /* hit, crash, flip, fly off, run off the road, knocked off */
    LEX_CLASS_SELF,       /* himself, herself, locked himself: with a rope, a suicide attempt */
    LEX_CLASS_ROPE,       /* rope, noose, belt, cord */
    LEX_CLASS_NORMAL,     /* as prescribed, like the doctor said: a frame, the normal use of a medicine */
    LEX_CLASS_AIRWAY,     /* throat, windpipe, air in: with a blockage, not breathing */
    LEX_CLASS_BLOCK,      /* closing up, blocked, stuck, lodged, barely get */
    LEX_CLASS_SIGN,       /* a vague sign of a person in trouble: not right, gasping, limp, pale, moaning */
    LEX_CLASS_COUNT
} lex_class;

/* The static name of a class ("weapon" ...). */
const char *lex_class_name(int cls);

/* Street kinds (the value of a street entry). */
enum { LEX_STREET_NAME = 1, LEX_STREET_AREA = 2 };

/* One meaning of a phrase. A phrase may have several (pickney: vulnerable + person). */
typedef struct {
    uint8_t category;       /* lex_category */
    uint8_t value;          /* enum value (hazard, clinical, indicator), street kind, recovery groups, or 1 */
    uint8_t negated_value;  /* value taken when negated; 0: the match is dropped */
    uint8_t self_negating;  /* the phrase contains a negation word itself ("not breathing") */
    int32_t number;         /* LEX_PERSONS: the count; LEX_PLACE: gazetteer index */
    const char *text;       /* the value column (canonical urgency keyword, landmark kind) */
    const char *phrase;     /* the phrase as written in the file */
} lex_entry;

typedef struct {
    uint32_t first, count;  /* range in entries[] */
    int severity;           /* the most points any entry can score (overlap resolution) */
} lex_node;

/* The points fixed by DESIGN.md, indexed by the enum values of content.h
 * (hazards: the paper's seven, then landslide, collapse, explosion, drowning,
 * electrical with the weight of the paper hazard each is closest to). */
static const int lex_hazard_points[CONTENT_HAZARD_COUNT] = {0, 5, 10, 15, 20, 25, 35, 35, 20, 25, 35, 25, 15};
#define LEX_INDICATOR_POINTS 30 /* a critical indicator that is not a clinical value */
static const int lex_breathing_points[] = {0, 0, 15, 30};
static const int lex_consciousness_points[] = {0, 0, 15, 30};
static const int lex_bleeding_points[] = {0, 0, 5, 30};

/* Gazetteer kinds (the first column of gazetteer.tsv / places.tsv). */
typedef enum { LEX_PLACE_PARISH = 0, LEX_PLACE_TOWN, LEX_PLACE_ROAD, LEX_PLACE_LANDMARK } lex_place_kind;

typedef struct {
    const char *name;       /* "Spanish Town", "St. Catherine", "Hagley Park Road", "Kingston Public Hospital" */
    int kind;               /* lex_place_kind */
    int parish;             /* index of the parish place (itself for a parish) */
    double lat, lng;
} lex_place;

/* Word flags (per interned word). */
enum { LEX_WORD_STOP = 1, LEX_WORD_BOUNDARY = 2, LEX_WORD_NEGATION = 4, LEX_WORD_TRANSPARENT = 8, LEX_WORD_KNOWN = 16 };

struct content_lexicon {
    uint32_t class_root;      /* trie root of the `class` phrases (the other phrases start at node 0) */
    /* interned words: open addressing, string keys in the arena */
    const char **word_keys;   /* [word_cap], NULL = empty slot */
    int32_t *word_ids;        /* [word_cap] */
    size_t word_cap, n_words;
    int32_t *word_number;     /* [n_words] number value or -1 */
    int32_t *word_canon;      /* [n_words] the canonical word of a spelling variant, else the word itself */
    uint8_t *word_flags;      /* [n_words] */
    const char **word_text;   /* [n_words] the word (in the arena) */
    size_t word_meta_cap;
    /* trie edges: key = node << 32 | word, open addressing */
    uint64_t *edge_keys;      /* UINT64_MAX = empty */
    uint32_t *edge_child;
    size_t edge_cap, n_edges;
    lex_node *nodes;
    size_t n_nodes, nodes_cap;
    lex_entry *entries;
    size_t n_entries;
    size_t n_phrases;
    lex_place *places;
    size_t n_places;
    /* spelling tolerance: every one-letter deletion of the lexicon's long words
     * (LEX_FUZZY_MIN letters or more) → the word's id (a key may repeat, one
     * slot per word) */
    const char **del_keys;    /* [del_cap], NULL = empty slot */
    int32_t *del_ids;
    size_t del_cap, n_del;
    /* storage: file buffers and an arena of strings */
    char *files[4];           /* lexicon.tsv, gazetteer.tsv, places.tsv and known.tsv (both optional) */
    struct lex_chunk *arena;
};

/* --- tokenizer ------------------------------------------------------------- */

#define LEX_WORD_MAX 48

/* Reads the next word of text[*pos..len): lowercase ASCII, apostrophes
 * (' ’ ‘) dropped, every other non-alphanumeric ASCII byte a separator,
 * non-ASCII bytes kept. Writes the word (truncated to LEX_WORD_MAX-1 bytes,
 * NUL-terminated) to buf, its byte range in text to *start and *end, and sets
 * *boundary when a clause break (. , ; : ! ? newline, parentheses) lies
 * between the previous word and this one. Returns the word length, or 0 at
 * the end of the text. */
size_t lex_word_next(const char *text, size_t len, size_t *pos, char buf[LEX_WORD_MAX], size_t *start,
                     size_t *end, int *boundary);

/* The id of an interned word (a spelling variant's canonical word), or -1. */
int32_t lex_word_find(const content_lexicon *lex, const char *word, size_t n);

#define LEX_FUZZY_MIN 6 /* letters: shorter words are never corrected */

/* The lexicon word an unknown transcript word stands for, or -1: its stem
 * when an inflection is stripped ("bleeds", "bleedin" → "bleeding",
 * "stabbin"), else — for words of LEX_FUZZY_MIN letters or more — the
 * lexicon word of LEX_FUZZY_MIN letters or more within one edit, preferring
 * a letter left out, then two neighbours swapped, then a letter replaced,
 * then a letter added ("bleding", "unconsious", "breating"); -1 when two
 * words tie. A `known` word (a real word) is found as itself, never guessed. */
int32_t lex_word_guess(const content_lexicon *lex, const char *word, size_t n);

typedef struct {
    uint32_t start, end;   /* byte range in the transcript */
    int32_t word;          /* interned id or -1 */
    int32_t number;        /* value, -1 when not a number, -2 for the second word of "twenty one" */
    uint32_t clause;       /* clause index (increments at boundaries) */
} lex_token;

/* The longest phrase starting at tokens[i]: returns its length in tokens and
 * sets *node, or returns 0. (Overlaps between phrases are resolved by the
 * caller: see content_match_all in extract.c.) */
size_t lex_match_longest(const content_lexicon *lex, const lex_token *tokens, size_t n, size_t i,
                         uint32_t *node);
/* The same from another trie root (lex->class_root: the word classes). */
size_t lex_match_longest_from(const content_lexicon *lex, uint32_t root, const lex_token *tokens, size_t n, size_t i,
                              uint32_t *node);

#endif
