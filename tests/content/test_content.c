/* test_content.c — entity extraction and the content score on a table of
 * transcripts (standard English and Patois) whose expected entities and
 * points are worked out by hand from the rules in content.h; the JSON shape,
 * the evidence, negation, loading errors, the TRIDENT_DATA override, sharing
 * one lexicon between threads, and a throughput figure (printed, not asserted). */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "check.h"
#include "content/content.h"

#define U "unknown"

typedef struct {
    const char *text;
    const char *hazard; /* NULL = none */
    const char *breathing, *consciousness, *bleeding, *mobility;
    int persons, vulnerable, escalating;
    const char *address, *landmark, *geo, *parish, *town; /* NULL = none */
    int n_urgency;
    int points; /* uncapped total; score = min(100, points) / 100 */
} content_case;

/* Arithmetic per row: hazard + life threat + vulnerable + persons/escalating + location + urgency.
 * Roads in data/content/places.tsv locate a call (geographic_ref, parish, coordinates) when no
 * town or landmark does; a town in a landmark's name is the town. */
static const content_case cases[] = {
    /* 1: fire 35 + 3 persons 15 + vulnerable (pickney) 15 + landmark 5 = 70 → 0.70
     * — with the extension: + entrapment 30 ("trapped") = 100 */
    {"There is a fire at the school in May Pen, three pickney trapped inside.", "fire", U, U, U, "immobile", 3, 1, 0,
     NULL, "school", "May Pen", "Clarendon", "May Pen", 0, 100},
    /* 2: medical 25 + not_breathing 30 + vulnerable 15 + 1 person 5 + address 5 + 3 keywords 15 = 95 → 0.95
     * — with the extension: + cardiac 30 ("collapse": a person collapsed) = 125 */
    {"Help! Him nah breathe, mi granny collapse at 12 Hope Road. Please hurry!", "medical", "not_breathing", U, U, U,
     1, 1, 0, "12 Hope Road", NULL, "Hope Road", "St. Andrew", NULL, 3, 125},
    /* 3: "is not breathing" → not_breathing 30, "not bleeding" → none 0 = 30 → 0.30
     * — with the extension: + medical 25 (clinical words with no hazard named are a medical call) = 55 */
    {"She is not breathing and she is not bleeding.", "medical", "not_breathing", U, "none", U, 0, 0, 0, NULL, NULL, NULL,
     NULL, NULL, 0, 55},
    /* 4: traffic 15 + address 5 = 20 → 0.20 ("nobody injured" negated; Spanish Town Road is not the town) */
    {"Car crash on Spanish Town Road, nobody injured, the driver breathing fine and walking around.", "traffic",
     "normal", U, U, "walking", 0, 0, 0, "Spanish Town Road", NULL, "Spanish Town Road", "St. Andrew", NULL, 0, 20},
    /* 5: violence 35 + heavy 30 + 2 persons 10 = 75 → 0.75
     * — with the extension: + weapon_injury 30 ("get shot") = 105 */
    {"Dem a shoot up the place! Two man get shot and one a bleed bad.", "violence", U, U, "heavy", U, 2, 0, 0, NULL,
     NULL, NULL, NULL, NULL, 0, 105},
    /* 6: violence 35 + 21 persons capped 20 + landmark 5 = 60 → 0.60 */
    {"Twenty one people inside di church in Mo Bay, gunmen a fire shot", "violence", U, U, U, U, 21, 0, 0, NULL,
     "church", "Montego Bay", "St. James", "Montego Bay", 0, 60},
    /* 7: impaired 15 + altered 15 + heavy 30 + 1 person (mi son) 5 = 65 → 0.65
     * — with the extension: ; "cyaan breathe" is not_breathing 30 (was impaired 15) + medical 25 (clinical words, no hazard named) = 105 */
    {"Mi son cyaan breathe, him a talk nonsense and blood everywhere", "medical", "not_breathing", "altered", "heavy", U, 1, 0,
     0, NULL, NULL, NULL, NULL, NULL, 0, 105},
    /* 8: flood 20 + vulnerable 15 + 2 persons 10 + escalating 10 + 1 keyword (fast) 5 = 60 → 0.60
     * — with the extension: + entrapment 30 ("on the roof") = 90 */
    {"Flood water rising fast in Old Harbour, my grandmother and two children stuck on the roof", "flood", U, U, U, U,
     2, 1, 1, NULL, NULL, "Old Harbour", "St. Catherine", "Old Harbour", 1, 90},
    /* 9: traffic 15 + unresponsive 30 + 1 person 5 + address 5 = 55 → 0.55 */
    {"A man was knocked down by a bus on Hagley Park Road, he is unconscious", "traffic", U, "unresponsive", U, U, 1,
     0, 0, "Hagley Park Road", NULL, "Hagley Park Road", "St. Andrew", NULL, 0, 55},
    /* 10: fire 35 (beats infrastructure 10) + address 5 = 40 → 0.40 */
    {"There's smoke coming from the transformer on Church Street, the light pole on fire", "fire", U, U, U, U, 0, 0,
     0, "Church Street", NULL, NULL, NULL, NULL, 0, 40},
    /* 11: infrastructure 10 = 10 → 0.10 (parish only: no town; "no one is hurt" negated)
     * — with the extension: ; landslide 20 (was infrastructure 10) = 20 */
    {"Landslide block the road in Portland, no one is hurt", "landslide", U, U, U, U, 0, 0, 0, NULL, NULL,
     "Portland", "Portland", NULL, 0, 20},
    /* 12: other 5 + vulnerable 15 + minor 5 = 25 → 0.25 */
    {"Dog bite mi pickney pon her foot, it a bleed likkle", "other", U, U, "minor", U, 0, 1, 0, NULL, NULL, NULL,
     NULL, NULL, 0, 25},
    /* 13: medical 25 + altered 15 + 1 person 5 + address 5 = 50 → 0.50 */
    {"My husband having chest pain and him dizzy, we at 45 Red Hills Road, Stony Hill", "medical", U, "altered", U, U,
     1, 0, 0, "45 Red Hills Road", NULL, "Stony Hill", "St. Andrew", "Stony Hill", 0, 50},
    /* 14: violence 35 + heavy 30 + 1 person 5 + landmark 5 = 75 → 0.75
     * — with the extension: + weapon_injury 30 ("get stab") = 105 */
    {"Somebody get stab outside the bar by Parade, blood a pour", "violence", U, U, "heavy", U, 1, 0, 0, NULL, "bar",
     NULL, NULL, NULL, 0, 105},
    /* 15: medical 25 + vulnerable 15 = 40 → 0.40 (alert 0, immobile 0) */
    {"The old lady fell down the stairs, she conscious but can't walk", "medical", U, "alert", U, "immobile", 0, 1, 0,
     NULL, NULL, NULL, NULL, NULL, 0, 40},
    /* 16: not_breathing 30 + vulnerable 15 + 2 keywords 10 = 55 → 0.55
     * — with the extension: + medical 25 (clinical words, no hazard named) = 80 */
    {"Baby not breathing! Please help, di baby turning blue", "medical", "not_breathing", U, U, U, 0, 1, 0, NULL, NULL,
     NULL, NULL, NULL, 2, 80},
    /* 17: violence 35 = 35 → 0.35 ("nobody nuh hurt" negated) */
    {"Tief bruk in a mi yard in Spanish Town, nobody nuh hurt", "violence", U, U, U, U, 0, 0, 0, NULL, NULL,
     "Spanish Town", "St. Catherine", "Spanish Town", 0, 35},
    /* 18: violence 35 + escalating 10 + 1 keyword 5 = 50 → 0.50
     * — with the word classes: + weapon_threat 30 (a weapon, "gunshot", and "shoot" in one call) = 80 */
    {"Gunshot! Gunshot! Dem still a shoot, hurry up", "violence", U, U, U, U, 0, 0, 1, NULL, NULL, NULL, NULL, NULL, 1,
     80},
    /* 19: traffic 15 + 15 persons capped 20 + address 5 = 40 → 0.40 ("main road" keeps Mandeville) */
    {"Bus overturn on the Mandeville main road with 15 passengers, some of them can't move", "traffic", U, U, U,
     "immobile", 15, 0, 0, "Mandeville main road", NULL, "Mandeville", "Manchester", "Mandeville", 0, 40},
    /* 20: medical 25 + unresponsive 30 + vulnerable 15 + 1 person 5 + landmark 5 = 80 → 0.80
     * — with the extension: ; drowning 25 (was medical) + drowning indicator 30 = 110 */
    {"A pickney drowning at the beach in Negril, him pass out", "drowning", U, "unresponsive", U, U, 1, 1, 0, NULL,
     "beach", "Negril", "Westmoreland", "Negril", 0, 110},
    /* 21: infrastructure 10 + altered 15 + landmark 5 = 30 → 0.30 */
    {"Gas leak at the plaza in Ocho Rios, people feeling dizzy", "infrastructure", U, "altered", U, U, 0, 0, 0, NULL,
     "plaza", "Ocho Rios", "St. Ann", "Ocho Rios", 0, 30},
    /* 22: medical 25 (beats traffic 15) + heavy 30 + 4 persons 20 + address 5 = 80 → 0.80
     * — with the extension: + entrapment 30 + mass_casualty 30 (four people injured); the hazard named is the mechanism, traffic (points: medical 25 stays the highest) = 140 */
    {"Three car crash on Washington Boulevard, four people injured, one woman trapped and bleeding heavily", "traffic",
     U, U, "heavy", "immobile", 4, 0, 0, "Washington Boulevard", NULL, "Washington Boulevard", "St. Andrew", NULL, 0, 140},
    /* 23: violence 35 + unresponsive 30 + landmark 5 = 70 → 0.70 ("two gunmen" is not a victim count) */
    {"Two gunmen rob the shop in Linstead and beat the owner, he unresponsive", "violence", U, "unresponsive", U, U, 0,
     0, 0, NULL, "shop", "Linstead", "St. Catherine", "Linstead", 0, 70},
    /* 24: medical 25 + unresponsive 30 = 55 → 0.55
     * — with the extension: + seizure 30 ("tek fit") + 1 person 5 ("mi breddah" is "my brother": spellings) = 90 */
    {"Mi breddah a tek fit in Portmore, him nah wake up", "medical", U, "unresponsive", U, U, 1, 0, 0, NULL, NULL,
     "Portmore", "St. Catherine", "Portmore", 0, 90},
    /* 25: other 5 = 5 → 0.05 ("no fire" negated) */
    {"There is no fire, just a strange smell in the building", "other", U, U, U, U, 0, 0, 0, NULL, NULL, NULL, NULL,
     NULL, 0, 5},
    /* 26: flood 20 (beats infrastructure 10) = 20 → 0.20 */
    {"Pipe burst and water a come in the house, nobody is injured", "flood", U, U, U, U, 0, 0, 0, NULL, NULL, NULL,
     NULL, NULL, 0, 20},
    /* 27: infrastructure 10 = 10 → 0.10 (no name before "road": no address)
     * — with the extension: ; electrical 15 (was infrastructure 10) = 15 */
    {"Wire down pon the road in Morant Bay, sparking", "electrical", U, U, U, U, 0, 0, 0, NULL, NULL, "Morant Bay",
     "St. Thomas", "Morant Bay", 0, 15},
    /* 28: minor 5 + 1 person 5 = 10 → 0.10 ("my baby mother" is not a baby)
     * — with the extension: + medical 25 (clinical words, no hazard named) = 35 */
    {"My baby mother cut her finger, it bleeding a little, she walking fine", "medical", U, U, "minor", "walking", 1, 0, 0,
     NULL, NULL, NULL, NULL, NULL, 0, 35},
    /* 29: fire 35 + escalating 10 + 2 keywords 10 = 55 → 0.55 */
    {"Electric fire in Savanna-la-Mar, the whole house ablaze and it spreading, please come quick", "fire", U, U, U, U,
     0, 0, 1, NULL, NULL, "Savanna-la-Mar", "Westmoreland", "Savanna-la-Mar", 2, 55},
    /* 30: violence 35 + not_breathing 30 + 2 persons 10 + landmark 5 = 80 → 0.80
     * — with the extension: + weapon_injury 30 ("shot") = 110 */
    {"Robbery at the Scotiabank in Half Way Tree, two security guards shot, one not breathing", "violence",
     "not_breathing", U, U, U, 2, 0, 0, NULL, "Scotiabank", "Half Way Tree", "St. Andrew", "Half Way Tree", 0, 110},
    /* 31: fire 35 + nuff (5) persons capped 20 + landmark 5 = 60 → 0.60 (town beats parish)
     * — with the word classes: + entrapment 30 (a fire and people inside) = 90 */
    {"Fire a bun inna St. Elizabeth, near Black River hospital, nuff people inside", "fire", U, U, U, U, 5, 0, 0, NULL,
     "Black River hospital", "Black River", "St. Elizabeth", "Black River", 0, 90},
    /* 32: traffic 15 + 1 person 5 = 20 → 0.20 */
    {"Accident in St. Catherine, somebody hit by a car and can't get up", "traffic", U, U, U, "immobile", 1, 0, 0,
     NULL, NULL, "St. Catherine", "St. Catherine", NULL, 0, 20},
    /* 33: not_breathing 30 + address 5 = 35 → 0.35
     * — with the extension: + medical 25 (clinical words, no hazard named) = 60
     * — and "doing CPR" is a cardiac arrest: + cardiac 30 = 90 */
    {"Him stop breathing, we doing CPR at 7 Lady Musgrave Road, St. Andrew", "medical", "not_breathing", U, U, U, 0, 0, 0,
     "7 Lady Musgrave Road", NULL, "Lady Musgrave Road", "St. Andrew", NULL, 0, 90},
    /* 34: violence 35 + 5 persons capped 20 + address 5 = 60 → 0.60
     * — with the extension: + weapon_injury 30 ("chop up") + mass_casualty 30 (five people) = 120 */
    {"Five of dem get chop up with machete down a Bull Bay district", "violence", U, U, U, U, 5, 0, 0,
     "Bull Bay district", NULL, "Bull Bay", "St. Andrew", "Bull Bay", 0, 120},
    /* 35: medical 25 + vulnerable 15 = 40 → 0.40 */
    {"Ambulance! Pregnant woman in labour, water break, she in pain", "medical", U, U, U, U, 0, 1, 0, NULL, NULL, NULL,
     NULL, NULL, 0, 40},
    /* 36: traffic 15 = 15 → 0.15 ("no one is hurt" negated; a vehicle + an impact word, "car ... hit", is traffic) */
    {"No one is hurt, the car just hit the wall", "traffic", U, U, U, U, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, 0, 15},
    /* 37: medical 25 + altered 15 + impaired 15 = 55 → 0.55 */
    {"Him head a spin and him chest a hurt, him breathing hard", "medical", "impaired", "altered", U, U, 0, 0, 0, NULL,
     NULL, NULL, NULL, NULL, 0, 55},
    /* 38: traffic 15 + landmark 5 = 20 → 0.20 (impaired beats walking for mobility; no points) */
    {"Man lick down by taxi in front of the Constant Spring police station, him leg broke, him can walk though",
     "traffic", U, U, U, "impaired", 0, 0, 0, NULL, "Constant Spring police station", "Constant Spring", "St. Andrew",
     "Constant Spring", 0, 20},
    /* 39: fire 35 + vulnerable 15 + 2 persons 10 + address 5 + 2 keywords 10 = 75 → 0.75
     * — with the word classes: + entrapment 30 (a fire and two girls inside) = 105 → 1.00 */
    {"Please help, fire at 23 Old Hope Road and two little girls inside, smoke everywhere", "fire", U, U, U, U, 2, 1,
     0, "23 Old Hope Road", NULL, "Old Hope Road", "St. Andrew", NULL, 2, 105},
    /* 40: medical 25 + altered 15 + landmark 5 = 45 → 0.45 (normal breathing 0)
     * — with the extension: + overdose 30 = 75 */
    {"Him tek an overdose, him drowsy but still breathing, we deh Falmouth square", "medical", "normal", "altered", U,
     U, 0, 0, 0, NULL, "Falmouth square", "Falmouth", "Trelawny", "Falmouth", 0, 75},
    /* 41: medical 25 + unresponsive 30 + vulnerable 15 + several (3) persons 15 + 2 keywords 10 = 95 → 0.95
     * — with the extension: + mass_casualty 30 (several people hurt); the hazard named is the mechanism, traffic = 125 */
    {"Several people hurt in a bus crash at Cross Roads, one child unconscious, pls hurry", "traffic", U,
     "unresponsive", U, U, 3, 1, 0, NULL, NULL, "Cross Roads", "St. Andrew", "Cross Roads", 2, 125},
    /* 42: medical 25 + altered 15 + vulnerable 15 + 1 person 5 = 60 → 0.60 ("no bleeding" → none) */
    {"Mi granny have sugar low and she confused, no bleeding", "medical", U, "altered", "none", U, 1, 1, 0, NULL, NULL,
     NULL, NULL, NULL, 0, 60},
    /* 43: violence 35 + (not_breathing 30 + unresponsive 30 + heavy 30) + vulnerable 15 + 5 persons 20 +
     *     escalating 10 + address 5 + 4 keywords capped 15 = 190 → capped 100 → 1.00
     * — with the extension: + weapon_injury 30 ("shot") + mass_casualty 30 (five people shot) = 250 */
    {"Help, emergency, please hurry! Gunmen shooting, five people shot, my baby not breathing, unconscious, blood "
     "everywhere, fire spreading at 10 King Street Kingston",
     "violence", "not_breathing", "unresponsive", "heavy", U, 5, 1, 1, "10 King Street", NULL, "Kingston", "Kingston",
     "Kingston", 4, 250},
    /* 44: violence 35 + minor 5 + 1 person 5 + landmark 5 = 50 → 0.50 */
    {"Dem a fight inna di market, one man get box down, him a bleed", "violence", U, U, "minor", U, 1, 0, 0, NULL,
     "market", NULL, NULL, NULL, 0, 50},
    /* 45: flood 20 + vulnerable 15 + 2 persons 10 = 45 → 0.45 ("pickney" is 3 words after "cyaan": outside the scope)
     * — with the extension: + entrapment 30 (children missing in a flooded house) = 75 */
    {"House flooded in Clarendon and mi cyaan find mi two pickney", "flood", U, U, U, U, 2, 1, 0, NULL, NULL,
     "Clarendon", "Clarendon", NULL, 0, 75},
    /* 46: empty transcript = 0 */
    {"", NULL, U, U, U, U, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, 0, 0},
    /* 47: infrastructure 10 + 4 persons 20 + address 5 = 35 → 0.35 (digits)
     * — with the extension: ; collapse 25 (was infrastructure 10) + entrapment 30 = 80 */
    {"Building collapse on Barry Street, 4 persons trapped", "collapse", U, U, U, "immobile", 4, 0, 0,
     "Barry Street", NULL, NULL, NULL, NULL, 0, 80},
    /* 48: fire 35 + escalating 10 + 2 persons 10 = 55 → 0.55 (standard English, number word)
     * — with the extension: + entrapment 30 (people still inside a burning building) = 85 */
    {"The fire is out of control and two people are still inside the building", "fire", U, U, U, U, 2, 0, 1, NULL,
     NULL, NULL, NULL, NULL, 0, 85},
    /* 49: medical 25 + alert 0 + walking 0 = 25 → 0.25 */
    {"He had a seizure but he is awake now and he can walk", "medical", U, "alert", U, "walking", 0, 0, 0, NULL, NULL,
     NULL, NULL, NULL, 0, 25},
    /* 50: traffic 15 + impaired breathing 15 + minor 5 + 1 person 5 + address 5 + 1 keyword 5 = 50 → 0.50 */
    {"Motorbike crash on Hope Road, a youth wheezing and him have a small cut, come quick", "traffic", "impaired", U,
     "minor", U, 1, 0, 0, "Hope Road", NULL, "Hope Road", "St. Andrew", NULL, 1, 50},
};

static int str_eq(const char *a, const char *b) {
    if (!a) a = "";
    if (!b) b = "";
    return strcmp(a, b) == 0;
}

static void check_case(const content_lexicon *lex, int row, const content_case *c) {
    content_result r;
    int rc = content_extract(lex, c->text, &r);
    CHECK(rc == 0, "row %d: extract rc=%d", row, rc);
    if (rc) return;
    const char *hazard = content_hazard_name(r.hazard);
    CHECK(str_eq(hazard, c->hazard), "row %d hazard: %s, expected %s", row, hazard ? hazard : "null",
          c->hazard ? c->hazard : "null");
    CHECK(str_eq(content_breathing_name(r.breathing), c->breathing), "row %d breathing: %s, expected %s", row,
          content_breathing_name(r.breathing), c->breathing);
    CHECK(str_eq(content_consciousness_name(r.consciousness), c->consciousness),
          "row %d consciousness: %s, expected %s", row, content_consciousness_name(r.consciousness), c->consciousness);
    CHECK(str_eq(content_bleeding_name(r.bleeding), c->bleeding), "row %d bleeding: %s, expected %s", row,
          content_bleeding_name(r.bleeding), c->bleeding);
    CHECK(str_eq(content_mobility_name(r.mobility), c->mobility), "row %d mobility: %s, expected %s", row,
          content_mobility_name(r.mobility), c->mobility);
    CHECK(r.persons_affected == c->persons, "row %d persons: %d, expected %d", row, r.persons_affected, c->persons);
    CHECK(r.vulnerable_population == c->vulnerable, "row %d vulnerable: %d", row, r.vulnerable_population);
    CHECK(r.escalating == c->escalating, "row %d escalating: %d", row, r.escalating);
    CHECK(str_eq(r.address, c->address), "row %d address: \"%s\", expected \"%s\"", row, r.address,
          c->address ? c->address : "");
    CHECK(str_eq(r.landmark, c->landmark), "row %d landmark: \"%s\", expected \"%s\"", row, r.landmark,
          c->landmark ? c->landmark : "");
    CHECK(str_eq(r.geographic_ref, c->geo), "row %d geographic_ref: \"%s\", expected \"%s\"", row, r.geographic_ref,
          c->geo ? c->geo : "");
    CHECK(str_eq(r.parish, c->parish), "row %d parish: \"%s\", expected \"%s\"", row, r.parish,
          c->parish ? c->parish : "");
    CHECK(str_eq(r.town, c->town), "row %d town: \"%s\", expected \"%s\"", row, r.town, c->town ? c->town : "");
    CHECK(r.has_coordinates == (c->geo != NULL), "row %d coordinates", row);
    if (r.has_coordinates)
        CHECK(r.lat > 17.6 && r.lat < 18.6 && r.lng > -78.5 && r.lng < -76.1, "row %d: %g,%g is not in Jamaica", row,
              r.lat, r.lng);
    CHECK(r.n_urgency_keywords == c->n_urgency, "row %d urgency keywords: %d, expected %d", row, r.n_urgency_keywords,
          c->n_urgency);
    CHECK(r.points_total == c->points, "row %d points: %d, expected %d", row, r.points_total, c->points);
    CHECK_NEAR(r.content_score, (c->points > 100 ? 100 : c->points) / 100.0, 1e-12, "content score");
    /* Invariant: the evidence weights add up to the uncapped total. */
    int sum = 0;
    for (size_t i = 0; i < r.n_evidence; i++) {
        sum += r.evidence[i].weight;
        CHECK(strncmp(c->text + r.evidence[i].start, r.evidence[i].matched, strlen(r.evidence[i].matched)) == 0,
              "row %d: evidence \"%s\" is the transcript's own text", row, r.evidence[i].matched);
        if (i) CHECK(r.evidence[i - 1].start <= r.evidence[i].start, "row %d: evidence in transcript order", row);
    }
    CHECK(sum == r.points_total, "row %d: evidence weights sum %d != total %d", row, sum, r.points_total);
    content_result_clear(&r);
}

/* Finds the first evidence row for entity with the given value. */
static const content_evidence *find_evidence(const content_result *r, const char *entity, const char *value) {
    for (size_t i = 0; i < r->n_evidence; i++)
        if (strcmp(r->evidence[i].entity, entity) == 0 && (!value || strcmp(r->evidence[i].value, value) == 0))
            return &r->evidence[i];
    return NULL;
}

static void check_json(const content_lexicon *lex) {
    content_result r;
    const char *text = "Him nah breathe! Mi granny collapse by di Texaco gas station in Spanish Town. Please hurry.";
    CHECK(content_extract(lex, text, &r) == 0, "extract");
    json_t *j = content_result_to_json(&r);
    CHECK(j && json_is_object(j), "JSON object");
    if (!j) return;
    CHECK(json_object_size(j) == 4, "top-level keys: %zu", json_object_size(j));
    json_t *ent = json_object_get(j, "entities");
    CHECK(json_is_object(ent) && json_object_size(ent) == 10, "entities has 10 keys (indicators, serious, minor, routine and concern added)");
    json_t *loc = json_object_get(ent, "location");
    const char *loc_keys[] = {"address", "landmark", "geographic_ref", "parish", "town", "lat", "lng"};
    for (size_t i = 0; i < 7; i++) CHECK(json_object_get(loc, loc_keys[i]) != NULL, "location.%s", loc_keys[i]);
    CHECK(json_is_null(json_object_get(loc, "address")), "no address → null");
    CHECK(str_eq(json_string_value(json_object_get(loc, "landmark")), "Texaco gas station"), "landmark");
    CHECK(str_eq(json_string_value(json_object_get(loc, "town")), "Spanish Town"), "town");
    CHECK(str_eq(json_string_value(json_object_get(loc, "parish")), "St. Catherine"), "parish");
    CHECK_NEAR(json_real_value(json_object_get(loc, "lat")), 17.9911, 1e-9, "lat");
    CHECK_NEAR(json_real_value(json_object_get(loc, "lng")), -76.9574, 1e-9, "lng");
    CHECK(str_eq(json_string_value(json_object_get(ent, "mechanism_hazard")), "medical"), "hazard");
    json_t *clin = json_object_get(ent, "clinical_indicators");
    CHECK(str_eq(json_string_value(json_object_get(clin, "breathing")), "not_breathing"), "breathing");
    CHECK(str_eq(json_string_value(json_object_get(clin, "mobility")), "unknown"), "mobility unknown");
    json_t *scale = json_object_get(ent, "scale");
    CHECK(json_integer_value(json_object_get(scale, "persons_affected")) == 1, "persons");
    CHECK(json_is_true(json_object_get(scale, "vulnerable_population")), "vulnerable");
    CHECK(json_is_false(json_object_get(scale, "escalating")), "escalating");
    json_t *kw = json_object_get(ent, "urgency_keywords");
    CHECK(json_array_size(kw) == 2 && str_eq(json_string_value(json_array_get(kw, 0)), "please") &&
              str_eq(json_string_value(json_array_get(kw, 1)), "hurry"),
          "urgency keywords");
    /* medical 25 + not_breathing 30 + cardiac 30 (collapse) + vulnerable 15 + 1 person 5 + landmark 5 + 2 keywords
     * 10 = 120 → 1.00 */
    CHECK_NEAR(json_real_value(json_object_get(j, "content_score")), 1.0, 1e-12, "content_score");
    json_t *bd = json_object_get(j, "score_breakdown");
    CHECK(json_integer_value(json_object_get(bd, "life_threat")) == 60 &&
              json_integer_value(json_object_get(bd, "total")) == 120,
          "score_breakdown");
    json_t *ev = json_object_get(j, "evidence");
    CHECK(json_is_array(ev) && json_array_size(ev) == r.n_evidence && r.n_evidence >= 7, "evidence array (%zu)",
          r.n_evidence);
    json_t *first = json_array_get(ev, 0);
    CHECK(str_eq(json_string_value(json_object_get(first, "entity")), "clinical_indicators.breathing") &&
              str_eq(json_string_value(json_object_get(first, "value")), "not_breathing") &&
              str_eq(json_string_value(json_object_get(first, "matched")), "nah breathe") &&
              json_integer_value(json_object_get(first, "weight")) == 30 &&
              json_is_false(json_object_get(first, "negated")) &&
              json_integer_value(json_object_get(first, "start")) == 4 &&
              json_integer_value(json_object_get(first, "end")) == 15,
          "first evidence row");
    for (size_t i = 0; i < json_array_size(ev); i++) {
        json_t *e = json_array_get(ev, i);
        CHECK(json_object_size(e) == 7 && json_is_string(json_object_get(e, "entity")) &&
                  json_is_string(json_object_get(e, "matched")) && json_is_integer(json_object_get(e, "weight")),
              "evidence row %zu shape", i);
    }
    const content_evidence *p = find_evidence(&r, "scale.persons_affected", "1");
    CHECK(p && strcmp(p->matched, "Mi granny") == 0 && p->weight == 5, "persons evidence");
    json_decref(j);
    content_result_clear(&r);

    /* Negated evidence is reported with weight 0. */
    CHECK(content_extract(lex, "No one is hurt, there is no fire", &r) == 0, "extract");
    const content_evidence *h = find_evidence(&r, "mechanism_hazard", "medical");
    CHECK(h && h->negated && h->weight == 0 && strcmp(h->matched, "hurt") == 0, "negated hurt");
    h = find_evidence(&r, "mechanism_hazard", "fire");
    CHECK(h && h->negated && h->weight == 0, "negated fire");
    CHECK(r.hazard == CONTENT_HAZARD_NONE && r.content_score == 0.0, "nothing scored");
    j = content_result_to_json(&r);
    CHECK(j && json_is_null(json_object_get(json_object_get(j, "entities"), "mechanism_hazard")), "hazard null");
    json_decref(j);
    content_result_clear(&r);

    /* "no one is bleeding": bleeding negated takes its negated value, none. */
    CHECK(content_extract(lex, "no one is bleeding", &r) == 0 && r.bleeding == CONTENT_BLEEDING_NONE,
          "negated bleeding → none");
    content_result_clear(&r);
    /* A clause boundary ends the negation scope. */
    CHECK(content_extract(lex, "No, the house is on fire", &r) == 0 && r.hazard == CONTENT_HAZARD_FIRE,
          "comma ends negation");
    content_result_clear(&r);
    CHECK(content_extract(lex, "nothing wrong but my son is bleeding", &r) == 0 && r.bleeding == CONTENT_BLEEDING_MINOR,
          "\"but\" ends negation");
    content_result_clear(&r);
    /* Curly apostrophes and case are normalised; repeated keywords count once. */
    CHECK(content_extract(lex, "She CAN\u2019T BREATHE! help help HELP", &r) == 0 &&
              r.breathing == CONTENT_BREATHING_NOT_BREATHING && r.n_urgency_keywords == 1 && r.points_urgency == 5,
          "normalisation");
    content_result_clear(&r);
    /* Explicit phrase beats the overlap rule: "not bleeding bad" is minor. */
    CHECK(content_extract(lex, "him not bleeding bad", &r) == 0 && r.bleeding == CONTENT_BLEEDING_MINOR,
          "not bleeding bad → minor");
    content_result_clear(&r);
    /* Overlap: "breathing hard" (impaired) beats "he is breathing" (normal). */
    CHECK(content_extract(lex, "he is breathing hard", &r) == 0 && r.breathing == CONTENT_BREATHING_IMPAIRED,
          "overlap: more severe reading wins");
    content_result_clear(&r);
    /* Invalid UTF-8 inside a matched span still gives valid JSON strings. */
    CHECK(content_extract(lex, "fire at 12 H\xffpe Road", &r) == 0 && strcmp(r.address, "12 H?pe Road") == 0,
          "invalid UTF-8 replaced: %s", r.address);
    j = content_result_to_json(&r);
    CHECK(j != NULL, "JSON with invalid UTF-8 input");
    json_decref(j);
    content_result_clear(&r);
    CHECK(content_extract(lex, NULL, &r) == TRIDENT_EINVAL, "NULL text");
    CHECK(content_extract(NULL, "x", &r) == TRIDENT_EINVAL, "NULL lexicon");
}

/* Does r report indicator name (standing)? */
static int has_indicator(const content_result *r, const char *name) {
    for (int i = 0; i < r->n_indicators; i++)
        if (strcmp(content_indicator_name(r->indicators[i].id), name) == 0) return 1;
    return 0;
}

typedef struct {
    const char *text;
    const char *has;     /* an indicator that must be reported, NULL = none required */
    const char *hasnt;   /* an indicator that must not be reported, NULL = none */
    int critical;        /* 1: some critical indicator, 0: none */
    const char *hazard;  /* NULL: not checked */
} indicator_case;

/* The examples, negation scope and recovery. */
static const indicator_case indicator_cases[] = {
    /* the examples that went to Q5-ROUTINE */
    {"The whole building is on fire and people are trapped on the second floor", "entrapment", NULL, 1, "fire"},
    {"my daughter took a whole bottle of pills and now she is unconscious", "overdose", NULL, 1, "medical"},
    {"my daughter took a whole bottle of pills and now she is unconscious", "unresponsive", NULL, 1, NULL},
    {"a boy is drowning at Hellshire beach, he went under and didn't come up", "drowning", NULL, 1, "drowning"},
    {"water coming in the house fast up to mi neck, mi an di pickney dem deh pon di roof", "entrapment", NULL, 1,
     "flood"},
    {"the hillside slide down on the houses in Gordon Town and people are buried under the mud", "entrapment", NULL,
     1, "landslide"},
    {"My husband is clutching his chest and sweating, I think he's having a heart attack", "cardiac", NULL, 1,
     "medical"},
    {"Mi madda fall dung an she nuh wake up", "unresponsive", NULL, 1, "medical"},
    {"Somebody shot the shopkeeper, he is on the ground not breathing", "not_breathing", NULL, 1, "violence"},
    {"Somebody shot the shopkeeper, he is on the ground not breathing", "weapon_injury", NULL, 1, NULL},
    {"she is barely responsive", "altered", "unresponsive", 0, NULL},
    /* negation keeps its scope */
    {"no one is hurt", NULL, "injury", 0, NULL},
    {"nobody got hurt in the accident", NULL, "injury", 0, "traffic"},
    {"he is not bleeding", NULL, "minor_bleeding", 0, NULL},
    {"she nah breathe", "not_breathing", NULL, 1, NULL},
    {"him cyaan breathe", "not_breathing", NULL, 1, NULL},
    {"he is not trapped, he walked out", NULL, "entrapment", 0, NULL},
    {"the man is not seriously injured", NULL, "injury", 0, NULL},
    /* recovery */
    {"she is okay now, breathing fine", NULL, "not_breathing", 0, NULL},
    {"she stopped breathing for a minute but she is okay now, breathing fine", NULL, "not_breathing", 0, NULL},
    {"he had a seizure but he is awake now and he can walk", NULL, "seizure", 0, "medical"},
    {"she was unconscious but she came to", NULL, "unresponsive", 0, NULL},
    {"she was fine now she is not breathing", "not_breathing", NULL, 1, NULL},
    {"him pass out, him okay now but the baby is not breathing", "not_breathing", "unresponsive", 1, NULL},
    {"she is not okay now, she stopped breathing", "not_breathing", NULL, 1, NULL},
    /* spellings and cues */
    {"two worker unda di concrete", "entrapment", NULL, 1, "collapse"},
    {"a man with a machete is threatening the students", "weapon_threat", NULL, 1, "violence"},
    {"a man with a gun in his waist, he is just standing there", NULL, "weapon_threat", 0, "violence"},
    {"he keeps threatening me on the phone", NULL, "weapon_threat", 0, "violence"},
    {"the car crash and the driver cant get out", "entrapment", NULL, 1, "traffic"},
    {"a car is parked in front of my gate and i cant get out", NULL, "entrapment", 0, NULL},
    /* word classes combined within a few words (composite rules) */
    {"my stepfather got a knife and he keep saying he gonna kill my mom", "weapon_threat", NULL, 1, "violence"},
    {"him have a ice pick to har throat", "weapon_threat", NULL, 1, "violence"},
    {"a farmer walked in with a cutlass wound to the shoulder", "weapon_injury", NULL, 1, "violence"},
    {"they knifed my cousin in the ribs", "weapon_injury", NULL, 1, "violence"},
    {"he is not armed, he is just shouting", NULL, "weapon_threat", 0, NULL},
    {"nuff people burned at the cookshop", "mass_casualty", NULL, 1, NULL},
    {"three cars damaged in the car park", NULL, "mass_casualty", 0, NULL},
    {"the wall fell and my grandfather is under the blocks", "entrapment", NULL, 1, "collapse"},
    {"our house is burning and my two kids are upstairs", "entrapment", NULL, 1, "fire"},
    {"the fire is in the shed, nobody is inside", NULL, "entrapment", 0, "fire"},
    {"my toddler drank some bleach", "overdose", NULL, 1, "medical"},
    {"she took her pressure tablets this morning", NULL, "overdose", 0, NULL},
    {"she swallowed a handful of her sleeping pills", "overdose", NULL, 1, "medical"},
    {"my baby lips are blue", "not_breathing", NULL, 1, "medical"},
    {"di pickney a jerk an him nah ansa mi", "seizure", NULL, 1, "medical"},
    {"blood is gushing from his leg", "heavy_bleeding", NULL, 1, NULL},
    {"one a dem sink inna di river", "drowning", NULL, 1, "drowning"},
    {"his chest is crushing and he is wet with sweat", "cardiac", NULL, 1, "medical"},
    /* spelling tolerance: stems and one-edit slips of long words; real words stay themselves */
    {"my father is not breating", "not_breathing", NULL, 1, "medical"},
    {"she is unconsious", "unresponsive", NULL, 1, "medical"},
    {"she is sitting up drinking water", NULL, "seizure", 0, NULL},
    /* inanimate subjects and frames */
    {"my phone is nearly dead, there is a pothole on the road", NULL, "unresponsive", 0, NULL},
    {"one dog dead inna di road", NULL, "unresponsive", 0, NULL},
    {"the old shed fell in during the night", NULL, "cardiac", 0, "collapse"},
    {"what should I do if my baby stops breathing", NULL, "not_breathing", 0, NULL},
    {"somebody got stabbed in the movie, everything is fine", NULL, "weapon_injury", 0, NULL},
    {"my cousin got stabbed last year", NULL, "weapon_injury", 0, NULL},
    {"he fell yesterday and now he is not breathing", "not_breathing", NULL, 1, NULL},
    {"please cancel the ambulance, she is talking now", NULL, NULL, 0, NULL},
    {"workers chopped down the big tree next to my neighbour's house", NULL, "weapon_injury", 0, NULL},
    {"my son shot a video of the accident", NULL, "weapon_injury", 0, NULL},
    {"smaddy tief mi phone", NULL, NULL, 0, "violence"},
    {"my mother took all of her tablets this morning like the doctor said", NULL, "overdose", 0, NULL},
    {"stray dogs are chasing people at the bus stop", NULL, "weapon_threat", 0, NULL},
    {"a man is chasing people with a machete", "weapon_threat", NULL, 1, "violence"},
    /* ASR confusions: real words written for the emergency word */
    {"um she not breeding", "not_breathing", NULL, 1, "medical"},
    {"my husband is having a hard attack", "cardiac", NULL, 1, "medical"},
    {"her throat is closing up, she can barely get air in", "not_breathing", NULL, 1, "medical"},
    {"i found my brother with a belt around his neck", "suicide_attempt", NULL, 1, "medical"},
    {"a swarm of bees in the tree, nobody has been stung", NULL, "injury", 0, NULL},
};

static void check_indicators(const content_lexicon *lex) {
    for (size_t i = 0; i < sizeof indicator_cases / sizeof indicator_cases[0]; i++) {
        const indicator_case *k = &indicator_cases[i];
        content_result r;
        CHECK(content_extract(lex, k->text, &r) == 0, "extract");
        if (k->has) CHECK(has_indicator(&r, k->has), "\"%s\": %s expected", k->text, k->has);
        if (k->hasnt) CHECK(!has_indicator(&r, k->hasnt), "\"%s\": no %s expected", k->text, k->hasnt);
        CHECK((content_result_critical(&r) != NULL) == k->critical, "\"%s\": critical %d expected", k->text,
              k->critical);
        if (k->hazard) {
            const char *h = content_hazard_name(r.hazard);
            CHECK(h && strcmp(h, k->hazard) == 0, "\"%s\": hazard %s, expected %s", k->text, h ? h : "null",
                  k->hazard);
        }
        content_result_clear(&r);
    }
    content_result r;
    /* "cyaan find mi pickney" does not negate the children */
    CHECK(content_extract(lex, "Di house a bun dung and mi cyaan find mi pickney dem", &r) == 0 &&
              r.vulnerable_population && r.hazard == CONTENT_HAZARD_FIRE && r.serious,
          "cyaan find mi pickney: vulnerable");
    content_result_clear(&r);
    CHECK(content_extract(lex, "no pickney inside", &r) == 0 && !r.vulnerable_population, "no pickney: negated");
    content_result_clear(&r);
    /* The indicators in the JSON, with their words and offsets; critical first. */
    const char *text = "Dem stab him, him a bleed bad and him nah breathe";
    CHECK(content_extract(lex, text, &r) == 0, "extract");
    const content_indicator_hit *c = content_result_critical(&r);
    CHECK(c && c->id == CONTENT_IND_NOT_BREATHING && strcmp(c->matched, "nah breathe") == 0 &&
              c->start == (size_t)(strstr(text, "nah breathe") - text) && c->end == c->start + 11,
          "first critical indicator");
    /* violence 35 + not_breathing 30 + heavy 30 + weapon_injury 30 = 125 */
    CHECK(r.points_life_threat == 90 && r.points_total == 125, "life threat %d total %d", r.points_life_threat,
          r.points_total);
    json_t *j = content_result_to_json(&r);
    json_t *list = json_object_get(json_object_get(j, "entities"), "indicators");
    CHECK(json_array_size(list) == 3, "3 indicators (%zu)", json_array_size(list));
    json_t *first = json_array_get(list, 0);
    CHECK(str_eq(json_string_value(json_object_get(first, "name")), "not_breathing") &&
              json_is_true(json_object_get(first, "critical")) &&
              str_eq(json_string_value(json_object_get(first, "matched")), "nah breathe") &&
              json_integer_value(json_object_get(first, "start")) == (json_int_t)c->start,
          "indicator JSON");
    CHECK(str_eq(json_string_value(json_object_get(json_array_get(list, 2), "name")), "weapon_injury"),
          "weapon_injury listed");
    CHECK(json_is_true(json_object_get(json_object_get(j, "entities"), "serious")), "serious");
    const content_evidence *e = find_evidence(&r, "indicators", "weapon_injury");
    CHECK(e && e->weight == 30 && strcmp(e->matched, "stab") == 0, "indicator evidence");
    json_decref(j);
    content_result_clear(&r);
    /* Non-critical only: a routine call is not serious. */
    CHECK(content_extract(lex, "my neighbour is playing loud music", &r) == 0 && !r.serious && r.n_indicators == 0,
          "routine: nothing");
    content_result_clear(&r);
    CHECK(content_extract(lex, "he fell and hurt his ankle", &r) == 0 && r.serious && has_indicator(&r, "injury") &&
              !content_result_critical(&r),
          "an injury is serious, not critical");
    content_result_clear(&r);
    /* serious, minor and concern (content.h) */
    static const struct {
        const char *text;
        int serious, minor, concern, routine;
    } sm[] = {
        {"the fire is out now, everybody is safe", 0, 1, 0, 0},
        {"there is a small fire in the kitchen", 1, 0, 1, 0},
        {"gas leak in the building, nobody hurt", 1, 0, 1, 0},
        {"landslide block the road, nobody hurt", 1, 0, 1, 0},
        {"small accident on Hope Road, no one is hurt", 0, 1, 0, 0},
        {"somebody stole my phone yesterday", 0, 1, 0, 1},
        {"she is okay now, breathing fine", 0, 1, 0, 0},
        {"she had a seizure but it stopped and she is awake now", 1, 0, 1, 0},
        {"my son had a seizure last week, he is fine right now", 0, 1, 0, 0},
        {"mi cyaan find mi pickney", 1, 0, 1, 0},
        {"my neighbour plays loud music", 0, 0, 0, 1},
        {"the power is out on our street", 0, 0, 0, 1},
        /* the safety net: a sign of trouble no rule completes */
        {"my father is just not right, he is moaning and pale", 0, 0, 1, 0},
        {"the battery on my phone is dead", 0, 0, 0, 1},
        {"there is a dead dog in the road", 0, 0, 0, 0},
        {"sorry, my son was playing with the phone", 0, 0, 0, 1},
        /* a routine matter names itself; it cancels nothing */
        {"the music next door is too loud, can you tell them to stop", 0, 0, 0, 1},
        {"wrong number, sorry", 0, 0, 0, 1},
        {"there's a pothole on the main road in Old Harbour", 0, 0, 0, 1},
        {"the music is loud and now they are fighting in the road", 1, 0, 1, 0},
        {"my neighbour is sitting outside, she keeps staring at nothing", 0, 0, 0, 0},
        /* a year after "in" is the past */
        {"my grandfather drowned in 1987 and I need the report", 0, 1, 0, 0},
    };
    for (size_t i = 0; i < sizeof sm / sizeof sm[0]; i++) {
        CHECK(content_extract(lex, sm[i].text, &r) == 0 && r.serious == sm[i].serious && r.minor == sm[i].minor &&
                  r.concern == sm[i].concern && r.routine == sm[i].routine,
              "\"%s\": serious %d minor %d concern %d routine %d, expected %d %d %d %d", sm[i].text, r.serious, r.minor,
              r.concern, r.routine, sm[i].serious, sm[i].minor, sm[i].concern, sm[i].routine);
        CHECK(!content_result_critical(&r), "\"%s\": not critical", sm[i].text);
        content_result_clear(&r);
    }
    /* a dispatcher's question answered no (content_answers) */
    static const struct {
        const char *text;
        content_breathing breathing;
        content_consciousness consciousness;
    } qa[] = {
        {"Is he breathing? No.", CONTENT_BREATHING_NOT_BREATHING, CONTENT_CONSCIOUSNESS_UNKNOWN},
        {"you asked if shes breathing no shes not", CONTENT_BREATHING_NOT_BREATHING, CONTENT_CONSCIOUSNESS_UNKNOWN},
        {"Is she awake? Nah.", CONTENT_BREATHING_UNKNOWN, CONTENT_CONSCIOUSNESS_UNRESPONSIVE},
        {"Is he breathing? No blood though, he is talking", CONTENT_BREATHING_NORMAL, CONTENT_CONSCIOUSNESS_ALERT},
        {"He is breathing. No, he isn't bleeding.", CONTENT_BREATHING_NORMAL, CONTENT_CONSCIOUSNESS_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof qa / sizeof qa[0]; i++) {
        CHECK(content_extract(lex, qa[i].text, &r) == 0 && r.breathing == qa[i].breathing &&
                  r.consciousness == qa[i].consciousness,
              "\"%s\": breathing %d consciousness %d, expected %d %d", qa[i].text, (int)r.breathing,
              (int)r.consciousness, (int)qa[i].breathing, (int)qa[i].consciousness);
        content_result_clear(&r);
    }
    /* ASR repeats are one word; cues combine with other findings */
    CHECK(content_extract(lex, "my uncle is under the the mud", &r) == 0 && has_indicator(&r, "entrapment"),
          "the the → the");
    content_result_clear(&r);
    CHECK(content_extract(lex, "chest pain since this morning", &r) == 0 && !has_indicator(&r, "cardiac") &&
              r.hazard == CONTENT_HAZARD_MEDICAL && r.serious,
          "chest pain alone: serious, not cardiac");
    content_result_clear(&r);
    CHECK(content_extract(lex, "chest pain and he is sweating", &r) == 0 && has_indicator(&r, "cardiac"),
          "chest pain with sweating: cardiac");
    content_result_clear(&r);
    CHECK(content_extract(lex, "she just had the baby and she is bleeding bad", &r) == 0 &&
              has_indicator(&r, "childbirth_bleeding") && !has_indicator(&r, "heavy_bleeding") &&
              r.bleeding == CONTENT_BLEEDING_HEAVY,
          "childbirth + bleeding: childbirth_bleeding (the more specific name)");
    content_result_clear(&r);
    CHECK(content_extract(lex, "three people shot outside the bar", &r) == 0 && has_indicator(&r, "mass_casualty"),
          "three people shot: mass casualty");
    content_result_clear(&r);
    CHECK(content_extract(lex, "they pulled him out of the pool and he is not breathing", &r) == 0 &&
              has_indicator(&r, "drowning") && r.hazard == CONTENT_HAZARD_DROWNING,
          "pulled from the water, not breathing: drowning");
    content_result_clear(&r);
    CHECK(content_extract(lex, "car crash on the highway and the driver is bleeding", &r) == 0 &&
              r.hazard == CONTENT_HAZARD_TRAFFIC,
          "the mechanism names the hazard: traffic");
    content_result_clear(&r);
}

/* The two files of a temporary data directory. */
typedef struct {
    char lexicon[160], gazetteer[160];
} data_files;

/* Writes text to the lexicon (which = 0) or the gazetteer (which = 1). */
static void write_data(const data_files *files, int which, const char *text) {
    const char *path = which ? files->gazetteer : files->lexicon;
    FILE *f = fopen(path, "w");
    CHECK(f != NULL, "create %s", path);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static void check_loading(void) {
    char err[TRIDENT_ERR_SIZE];
    content_lexicon *lex = (content_lexicon *)1;
    int rc = content_lexicon_load("/nonexistent/trident-data", &lex, err, sizeof err);
    CHECK(rc == TRIDENT_ENOTFOUND && lex == NULL, "missing data dir rc=%d", rc);
    CHECK(strstr(err, "/nonexistent/trident-data/content/lexicon.tsv") != NULL, "message names the file: %s", err);

    char dir[] = "/tmp/trident-content-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char sub[128];
    data_files files;
    snprintf(sub, sizeof sub, "%s/content", dir);
    snprintf(files.lexicon, sizeof files.lexicon, "%s/lexicon.tsv", sub);
    snprintf(files.gazetteer, sizeof files.gazetteer, "%s/gazetteer.tsv", sub);
    CHECK(mkdir(sub, 0700) == 0, "mkdir");
    const char *gaz = "# test\nparish\tSt. Andrew\tSt. Andrew\t18.07\t-76.78\tst andrew\n"
                      "town\tPapine\tSt. Andrew\t18.017\t-76.742\n";
    write_data(&files, 1, gaz);
    write_data(&files, 0, "negation\tcue\tnot\nhazard\tfire\tfire\nhazard\tsmoke\tsmoke\n");
    rc = content_lexicon_load(dir, &lex, err, sizeof err);
    CHECK(rc == TRIDENT_EFORMAT && strstr(err, "lexicon.tsv:3") && strstr(err, "smoke"), "bad value: %s", err);
    write_data(&files, 0, "hazard\tfire\n");
    rc = content_lexicon_load(dir, &lex, err, sizeof err);
    CHECK(rc == TRIDENT_EFORMAT && strstr(err, "lexicon.tsv:1"), "too few fields: %s", err);
    write_data(&files, 0, "flavour\tx\ty\n");
    rc = content_lexicon_load(dir, &lex, err, sizeof err);
    CHECK(rc == TRIDENT_EFORMAT && strstr(err, "unknown category"), "unknown category: %s", err);
    write_data(&files, 0, "breathing\tnot_breathing\tnot breathing\tnormal\nnumber\tx\tfive\n");
    rc = content_lexicon_load(dir, &lex, err, sizeof err);
    CHECK(rc == TRIDENT_EFORMAT && strstr(err, "lexicon.tsv:2"), "bad number: %s", err);
    write_data(&files, 0, "hazard\tfire\tfire\nnegation\tcue\tnot\n");
    write_data(&files, 1, "town\tPapine\tNowhere\t18\t-76\n");
    rc = content_lexicon_load(dir, &lex, err, sizeof err);
    CHECK(rc == TRIDENT_EFORMAT && strstr(err, "unknown parish"), "unknown parish: %s", err);
    write_data(&files, 1, "parish\tSt. Andrew\tSt. Andrew\t95\t-76\n");
    rc = content_lexicon_load(dir, &lex, err, sizeof err);
    CHECK(rc == TRIDENT_EFORMAT && strstr(err, "coordinates"), "bad latitude: %s", err);

    /* A valid small data set, found through TRIDENT_DATA. */
    write_data(&files, 1, gaz);
    setenv("TRIDENT_DATA", dir, 1);
    rc = content_lexicon_load(NULL, &lex, err, sizeof err);
    unsetenv("TRIDENT_DATA");
    CHECK(rc == 0, "TRIDENT_DATA override: %s", rc ? err : "");
    if (rc == 0) {
        CHECK(content_lexicon_place_count(lex) == 2 && content_lexicon_phrase_count(lex) == 5, "counts %zu %zu",
              content_lexicon_place_count(lex), content_lexicon_phrase_count(lex));
        content_result r;
        CHECK(content_extract(lex, "fire near Papine, st andrew, not fire", &r) == 0 && r.hazard == CONTENT_HAZARD_FIRE &&
                  strcmp(r.town, "Papine") == 0 && strcmp(r.parish, "St. Andrew") == 0 && r.points_total == 35,
              "small data set");
        content_result_clear(&r);
        content_lexicon_free(lex);
    }
    /* Indicator and recovery values are checked. */
    write_data(&files, 0, "indicator\tnot_breathing\tno breath\n");
    rc = content_lexicon_load(dir, &lex, err, sizeof err);
    CHECK(rc == TRIDENT_EFORMAT && strstr(err, "lexicon.tsv:1") && strstr(err, "breathing"), "clinical indicator: %s",
          err);
    write_data(&files, 0, "spelling\tunder\tunda di\n");
    rc = content_lexicon_load(dir, &lex, err, sizeof err);
    CHECK(rc == TRIDENT_EFORMAT && strstr(err, "one word to one word"), "bad spelling: %s", err);
    write_data(&files, 0, "recovery\tsoon\tok now\n");
    rc = content_lexicon_load(dir, &lex, err, sizeof err);
    CHECK(rc == TRIDENT_EFORMAT && strstr(err, "recovery value"), "bad recovery: %s", err);
    write_data(&files, 0, "hazard\tfire\tfire\nclass\tsword\tknife\n");
    rc = content_lexicon_load(dir, &lex, err, sizeof err);
    CHECK(rc == TRIDENT_EFORMAT && strstr(err, "lexicon.tsv:2") && strstr(err, "not a word class"), "bad class: %s",
          err);
    /* Word classes, a composite rule, a guessed spelling and known.tsv's real words. */
    write_data(&files, 0,
               "negation\tcue\tnot\nnegation\tcue\tno\nnegation\tcue\tnobody\nclass\tweapon\tknife\nclass\tthreat\tkill\n"
               "bleeding\theavy\tbleeding\n"
               "hazard\tfire\tfire\n");
    write_data(&files, 1, gaz);
    char known[200];
    snprintf(known, sizeof known, "%s/known.tsv", sub);
    FILE *kf = fopen(known, "w");
    CHECK(kf != NULL, "create known.tsv");
    if (kf) {
        fputs("known\t-\tbreeding\nknown\t-\ttwo words\n", kf);
        fclose(kf);
    }
    rc = content_lexicon_load(dir, &lex, err, sizeof err);
    CHECK(rc == TRIDENT_EFORMAT && strstr(err, "known.tsv:2") && strstr(err, "single word"), "bad known word: %s", err);
    kf = fopen(known, "w");
    if (kf) {
        fputs("# real words\nknown\t-\tbreeding\n", kf);
        fclose(kf);
    }
    rc = content_lexicon_load(dir, &lex, err, sizeof err);
    CHECK(rc == 0, "classes and known words: %s", rc ? err : "");
    if (rc == 0) {
        content_result r;
        const char *text = "he has a knife and he says he will kill her";
        CHECK(content_extract(lex, text, &r) == 0 && r.n_indicators == 1 &&
                  r.indicators[0].id == CONTENT_IND_WEAPON_THREAT && strcmp(r.indicators[0].matched, "knife and he says he will kill") == 0 &&
                  r.indicators[0].start == (size_t)(strstr(text, "knife") - text) && r.points_total == 30 + 35,
              "weapon + threat: %d indicators, %s, %d points", r.n_indicators,
              r.n_indicators ? r.indicators[0].matched : "-", r.points_total);
        content_result_clear(&r);
        CHECK(content_extract(lex, "he has no knife, nobody will kill", &r) == 0 && r.n_indicators == 0, "negated classes");
        content_result_clear(&r);
        CHECK(content_extract(lex, "he is bleding", &r) == 0 && r.bleeding == CONTENT_BLEEDING_HEAVY, "a slip is corrected");
        content_result_clear(&r);
        CHECK(content_extract(lex, "the dogs are breeding", &r) == 0 && r.bleeding == CONTENT_BLEEDING_UNKNOWN,
              "a known word is not");
        content_result_clear(&r);
        content_lexicon_free(lex);
    }
    unlink(known);
    /* Roads and landmarks, in the gazetteer or in an optional places.tsv. */
    write_data(&files, 0, "hazard\tfire\tfire\nnegation\tcue\tnot\n");
    write_data(&files, 1, "parish\tSt. Andrew\tSt. Andrew\t18.07\t-76.78\nriver\tHope\tSt. Andrew\t18\t-76\n");
    rc = content_lexicon_load(dir, &lex, err, sizeof err);
    CHECK(rc == TRIDENT_EFORMAT && strstr(err, "gazetteer.tsv:2") && strstr(err, "landmark"), "bad kind: %s", err);
    write_data(&files, 1, "parish\tSt. Andrew\tSt. Andrew\t18.07\t-76.78\nroad\tHope Road\tSt. Andrew\t18.02\t-76.77\n");
    char places[200];
    snprintf(places, sizeof places, "%s/places.tsv", sub);
    FILE *f = fopen(places, "w");
    CHECK(f != NULL, "create places.tsv");
    if (f) {
        fputs("landmark\tUniversity Hospital\tSt. Andrew\t18.005\t-76.745\tUHWI\n", f);
        fclose(f);
    }
    rc = content_lexicon_load(dir, &lex, err, sizeof err);
    CHECK(rc == 0, "roads and landmarks: %s", rc ? err : "");
    if (rc == 0) {
        content_result r;
        CHECK(content_extract(lex, "fire at 12 Hope Road near UHWI", &r) == 0 && strcmp(r.address, "12 Hope Road") == 0 &&
                  strcmp(r.landmark, "UHWI") == 0 && strcmp(r.geographic_ref, "University Hospital") == 0 &&
                  strcmp(r.parish, "St. Andrew") == 0 && r.town[0] == '\0' && r.has_coordinates && r.lat == 18.005,
              "road → address, landmark → landmark and coordinates: %s / %s / %s", r.address, r.landmark,
              r.geographic_ref);
        content_result_clear(&r);
        content_lexicon_free(lex);
    }
    unlink(places);
    unlink(files.lexicon);
    unlink(files.gazetteer);
    rmdir(sub);
    rmdir(dir);
}

/* The shipped gazetteer: derived communities resolve to their parish (by name or
 * alias), and the names its derivation reviewed out (everyday words, people's names,
 * places abroad, ambiguous names) locate nothing. */
static void check_gazetteer(const content_lexicon *lex) {
    static const struct {
        const char *text, *town, *parish; /* town NULL = no location */
    } rows[] = {
        {"Two yute a bade inna di Martha Brae an one a dem sink", "Martha Brae", "Trelawny"},
        {"a man get shot down in Rema, him bleeding bad", "Wilton Gardens", "St. Andrew"},
        {"the hillside slide down on the houses in Glengoffe", "Glengoffe", "St. Catherine"},
        {"mi madda fall dung a Hagley Gap an she nuh wake up", "Hagley Gap", "St. Thomas"},
        {"my son Devon fell and he is not breathing", NULL, NULL},
        {"Mr Dawkins collapse in the yard, him nah breathe", NULL, NULL},
        {"he ran into the cave and now he is trapped", NULL, NULL},
        {"she just come from New York and she is bleeding", NULL, NULL},
        {"wait a bit, the junction by the big bridge is flooded", NULL, NULL},
        {"my brother at Prospect get chop with a machete", NULL, NULL},
    };
    CHECK(content_lexicon_place_count(lex) >= 14 + 600, "gazetteer: parishes, towns and communities (%zu)",
          content_lexicon_place_count(lex));
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        content_result r;
        if (content_extract(lex, rows[i].text, &r) != 0) {
            CHECK(0, "gazetteer row %zu: extract failed", i);
            continue;
        }
        if (rows[i].town)
            CHECK(strcmp(r.town, rows[i].town) == 0 && strcmp(r.parish, rows[i].parish) == 0 && r.has_coordinates,
                  "gazetteer row %zu: %s, %s (expected %s, %s)", i, r.town, r.parish, rows[i].town, rows[i].parish);
        else
            CHECK(r.town[0] == '\0' && r.parish[0] == '\0' && !r.has_coordinates,
                  "gazetteer row %zu: located at %s, %s (%s)", i, r.town, r.parish, r.geographic_ref);
        content_result_clear(&r);
    }
}

/* Several threads share one lexicon and must all get the same answer. */
typedef struct {
    const content_lexicon *lex;
    int bad;
} thread_arg;

static void *thread_main(void *p) {
    thread_arg *a = p;
    for (int it = 0; it < 200; it++)
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            content_result r;
            if (content_extract(a->lex, cases[i].text, &r) != 0 || r.points_total != cases[i].points) a->bad++;
            content_result_clear(&r);
        }
    return NULL;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(void) {
    char err[TRIDENT_ERR_SIZE];
    content_lexicon *lex = NULL;
    double t0 = now_seconds();
    int rc = content_lexicon_load(NULL, &lex, err, sizeof err);
    double load_ms = (now_seconds() - t0) * 1e3;
    CHECK(rc == 0, "load the shipped lexicon: %s", rc ? err : "");
    if (rc) return check_summary();
    CHECK(content_lexicon_place_count(lex) >= 14 + 20, "gazetteer: 14 parishes and their towns (%zu)",
          content_lexicon_place_count(lex));

    size_t n = sizeof cases / sizeof cases[0];
    CHECK(n >= 40, "at least 40 transcripts (%zu)", n);
    for (size_t i = 0; i < n; i++) check_case(lex, (int)i + 1, &cases[i]);
    check_json(lex);
    check_indicators(lex);
    check_gazetteer(lex);
    check_loading();

    pthread_t th[4];
    thread_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i].lex = lex;
        args[i].bad = 0;
        CHECK(pthread_create(&th[i], NULL, thread_main, &args[i]) == 0, "pthread_create");
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CHECK(args[i].bad == 0, "thread %d: %d mismatches", i, args[i].bad);
    }

    /* Throughput (printed, not asserted). */
    size_t bytes = 0, iters = 2000;
    t0 = now_seconds();
    for (size_t it = 0; it < iters; it++)
        for (size_t i = 0; i < n; i++) {
            content_result r;
            content_extract(lex, cases[i].text, &r);
            bytes += strlen(cases[i].text);
            content_result_clear(&r);
        }
    double dt = now_seconds() - t0;
    printf("lexicon: %zu phrases, %zu places, loaded in %.2f ms\n", content_lexicon_phrase_count(lex),
           content_lexicon_place_count(lex), load_ms);
    printf("throughput: %.2f us per transcript (%.1f MB/s) over %zu extractions\n", dt * 1e6 / (double)(iters * n),
           (double)bytes / dt / 1e6, iters * n);
    content_lexicon_free(lex);
    return check_summary();
}
