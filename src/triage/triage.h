/* triage.h — the 3D decision matrix: ASR confidence × content score × vocal
 * distress → a priority queue, flags, reasoning and dispatcher guidance.
 *
 * The matrix and the early exits are fixed by DESIGN.md; only the thresholds
 * are configurable (triage_params). Each signal is "high" or "low":
 *   confidence high  when C >= conf_high      (default 0.7)
 *   content    high  when S >  content_high   (default 0.4)
 *   distress   high  when D >  distress_high  (default 0.5)
 *   (C,S,D): HLL Q5-ROUTINE  HHL Q2-ELEVATED  HLH Q3-MONITOR  HHH Q1-IMMEDIATE
 *            LLL Q5-REVIEW   LHL Q2-ELEVATED  LLH Q1-IMMEDIATE LHH Q1-IMMEDIATE
 * Early exit to Q1 (before the matrix) when D > early_distress (0.8) and
 * C < early_conf (0.4), or when D > extreme_distress (0.9).
 * Every low-confidence decision (early exits included) is flagged for audio
 * review. escalation_required = queue is Q1 or the content says the situation
 * is escalating.
 *
 * Rules (triage_params.rules): TRIAGE_RULES_PAPER is the matrix and the early
 * exits alone. TRIAGE_RULES_CRITICAL (the default) adds these rules on what the
 * words say (triage_words), after the matrix:
 *   critical indicator: a life at risk now in the words (not breathing,
 *     unresponsive, heavy bleeding, entrapment, drowning, a weapon used on a
 *     person, ...) → Q1-IMMEDIATE whatever the cell, the indicator and its
 *     words named in the reasoning;
 *   serious floor: a serious emergency without one (a real hazard, an injury,
 *     altered consciousness) → at least Q2-ELEVATED;
 *   minor: neither, and the words say the call is over, past or minor ("the
 *     fire is out now", "nobody hurt", "she is okay now") → the cell is read
 *     with the content low (the score of the words it describes does not
 *     raise the call; the voice still can);
 *   concern floor (the safety net): the words carry any sign that a person
 *     may be in trouble (triage_words.concern) and do not call it over, past
 *     or minor → at least Q3-MONITOR: such a call is never left in a Q5
 *     queue, however vaguely it is described;
 *   routine needs words: a clear call left in Q5-ROUTINE whose words name
 *     no routine matter either (triage_words.routine: a nuisance, a fault to
 *     repair, a lost thing, a question, a misdial, or over/past/minor) →
 *     Q3-MONITOR. A caller describing an emergency in words the lexicon does
 *     not know looks exactly like this, and Q5 is where a life-threatening
 *     call must never wait; a dispatcher calls back instead.
 * The dispatcher guidance follows the queue: only Q1 and Q2 ask for units
 * (and, when escalating, for additional units); Q3 and Q5 ask for a call-back.
 *
 * Pure functions, no allocation except triage_result_to_json; thread-safe. */
#ifndef TRIDENT_TRIAGE_TRIAGE_H
#define TRIDENT_TRIAGE_TRIAGE_H

#include <jansson.h>
#include <stddef.h>

typedef enum {
    TRIAGE_Q1_IMMEDIATE = 0,
    TRIAGE_Q2_ELEVATED,
    TRIAGE_Q3_MONITOR,
    TRIAGE_Q5_ROUTINE,
    TRIAGE_Q5_REVIEW,
} triage_queue;

typedef enum { TRIAGE_RULES_CRITICAL = 0, TRIAGE_RULES_PAPER } triage_rules;

typedef struct {
    triage_rules rules;      /* TRIAGE_RULES_CRITICAL (default) or TRIAGE_RULES_PAPER */
    double conf_high;        /* confidence is high when C >= conf_high (0.7) */
    double content_high;     /* content is high when S > content_high (0.4) */
    double distress_high;    /* distress is high when D > distress_high (0.5) */
    double early_distress;   /* early exit when D > early_distress (0.8) ... */
    double early_conf;       /* ... and C < early_conf (0.4) */
    double extreme_distress; /* early exit when D > extreme_distress (0.9) */
} triage_params;

/* What the words say, beyond the content score (from the content module's
 * result; strings borrowed for the call). */
typedef struct {
    int escalating;               /* the content says the situation is escalating */
    const char *critical;         /* a critical indicator's name ("not_breathing"), NULL when none */
    const char *critical_matched; /* the transcript's words for it, NULL or "" when unknown */
    int serious;                  /* a serious emergency (hazard, injury, altered consciousness) */
    int minor;                    /* not serious, and the words say it is over, past or minor */
    int concern;                  /* a sign that a person may be in trouble, not over/past/minor */
    int routine;                  /* not serious; the words name a routine matter (a nuisance, a fault ...) */
} triage_words;

#define TRIAGE_REASONING_MAX 1024
#define TRIAGE_ACTION_MAX 640

typedef struct {
    triage_queue queue;
    const char *queue_name;       /* "Q1-IMMEDIATE" ... static string */
    int priority_level;           /* 1..5 (Q1 → 1, Q2 → 2, Q3 → 3, Q5-* → 5) */
    int flag_audio_review;        /* 1 on every low-confidence decision */
    int escalation_required;      /* Q1, or the content says escalating */
    int early_exit;               /* 1 when an early-exit rule decided */
    const char *rule;             /* static: "critical_indicator", "serious_floor", "concern_floor", "routine_unnamed" or
                                   * "minor" when a rule
                                   * of TRIAGE_RULES_CRITICAL changed the queue, else NULL */
    char cell[4];                 /* "HLH" etc. (C,S,D); always filled */
    double confidence, content, distress; /* the inputs (clamped to [0,1]) */
    char reasoning[TRIAGE_REASONING_MAX];
    char dispatcher_action[TRIAGE_ACTION_MAX];
} triage_result;

/* Fills p with the defaults listed above. */
void triage_params_init(triage_params *p);

/* Returns 0 if every threshold is a finite number in [0, 1], else
 * TRIDENT_EINVAL with a message naming the field. */
int triage_params_check(const triage_params *p, char *err, size_t err_size);

/* "paper" | "critical" → *rules; returns 0, or TRIDENT_EINVAL for anything else. */
int triage_rules_parse(const char *s, triage_rules *rules);
const char *triage_rules_name(triage_rules rules);

/* Decides the queue. params NULL means the defaults. confidence, content and
 * distress are clamped to [0, 1]; NaN inputs or invalid params give
 * TRIDENT_EINVAL (result is then zeroed). words NULL: nothing beyond the
 * score is known. Returns 0 on success. */
int triage_decide_words(const triage_params *params, double confidence, double content, double distress,
                        const triage_words *words, triage_result *result);

/* The paper's matrix and early exits on the three signals alone, with only
 * the escalating flag known (nonzero when the content extraction found
 * scale.escalating): TRIAGE_RULES_PAPER whatever params->rules says, since
 * the word rules have no words to read. */
int triage_decide(const triage_params *params, double confidence, double content, double distress,
                  int escalating, triage_result *result);

/* Static name of a queue ("Q1-IMMEDIATE", ..., "Q5-REVIEW"). */
const char *triage_queue_name(triage_queue q);

/* {"queue", "priority_level", "flag_audio_review", "reasoning",
 *  "dispatcher_action", "escalation_required", "early_exit"}.
 * Returns a new reference the caller owns (json_decref), or NULL when out of
 * memory. */
json_t *triage_result_to_json(const triage_result *result);

#endif
