/* test_triage.c — the 3D decision matrix: all 8 cells, both early exits, the
 * threshold edges (0.7, 0.4, 0.5, 0.8, 0.9), configurable thresholds, the
 * flags, the reasoning/guidance text and the JSON shape. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "check.h"
#include "triage/triage.h"

typedef struct {
    double c, s, d;
    int escalating;
    const char *queue;
    int level, audio, escalation, early;
    const char *cell;
} triage_case;

static const triage_case cases[] = {
    /* the 8 cells (no early exit: D <= 0.8) */
    {0.90, 0.20, 0.30, 0, "Q5-ROUTINE", 5, 0, 0, 0, "HLL"},
    {0.90, 0.60, 0.30, 0, "Q2-ELEVATED", 2, 0, 0, 0, "HHL"},
    {0.90, 0.20, 0.70, 0, "Q3-MONITOR", 3, 0, 0, 0, "HLH"},
    {0.90, 0.60, 0.70, 0, "Q1-IMMEDIATE", 1, 0, 1, 0, "HHH"},
    {0.30, 0.20, 0.30, 0, "Q5-REVIEW", 5, 1, 0, 0, "LLL"},
    {0.30, 0.60, 0.30, 0, "Q2-ELEVATED", 2, 1, 0, 0, "LHL"},
    {0.50, 0.20, 0.70, 0, "Q1-IMMEDIATE", 1, 1, 1, 0, "LLH"},
    {0.50, 0.60, 0.70, 0, "Q1-IMMEDIATE", 1, 1, 1, 0, "LHH"},
    /* early exit 1: D > 0.8 and C < 0.4 (cell would be LLH anyway, but it is an early exit) */
    {0.30, 0.10, 0.85, 0, "Q1-IMMEDIATE", 1, 1, 1, 1, "LLH"},
    /* early exit 2: D > 0.9 even with a clear, harmless transcript (HLH would be Q3) */
    {0.95, 0.00, 0.95, 0, "Q1-IMMEDIATE", 1, 0, 1, 1, "HLH"},
    /* edges: exactly 0.7 confidence is high */
    {0.70, 0.20, 0.30, 0, "Q5-ROUTINE", 5, 0, 0, 0, "HLL"},
    {0.6999999, 0.20, 0.30, 0, "Q5-REVIEW", 5, 1, 0, 0, "LLL"},
    /* exactly 0.4 content is low */
    {0.90, 0.40, 0.30, 0, "Q5-ROUTINE", 5, 0, 0, 0, "HLL"},
    {0.90, 0.4000001, 0.30, 0, "Q2-ELEVATED", 2, 0, 0, 0, "HHL"},
    /* exactly 0.5 distress is low */
    {0.90, 0.20, 0.50, 0, "Q5-ROUTINE", 5, 0, 0, 0, "HLL"},
    {0.90, 0.20, 0.5000001, 0, "Q3-MONITOR", 3, 0, 0, 0, "HLH"},
    /* D exactly 0.8 with C < 0.4: no early exit (the LLH cell still gives Q1) */
    {0.30, 0.10, 0.80, 0, "Q1-IMMEDIATE", 1, 1, 1, 0, "LLH"},
    /* D > 0.8 but C exactly 0.4: no early exit */
    {0.40, 0.10, 0.85, 0, "Q1-IMMEDIATE", 1, 1, 1, 0, "LLH"},
    /* D exactly 0.9 with high confidence: no early exit → HLH Q3 */
    {0.95, 0.00, 0.90, 0, "Q3-MONITOR", 3, 0, 0, 0, "HLH"},
    {0.95, 0.00, 0.9000001, 0, "Q1-IMMEDIATE", 1, 0, 1, 1, "HLH"},
    /* escalating content requires escalation whatever the queue */
    {0.90, 0.60, 0.30, 1, "Q2-ELEVATED", 2, 0, 1, 0, "HHL"},
    {0.90, 0.10, 0.10, 1, "Q5-ROUTINE", 5, 0, 1, 0, "HLL"},
    /* inputs are clamped to [0, 1] */
    {1.2, -0.5, 1.5, 0, "Q1-IMMEDIATE", 1, 0, 1, 1, "HLH"},
};

static void check_case(const triage_params *p, int row, const triage_case *k) {
    triage_result r;
    int rc = triage_decide(p, k->c, k->s, k->d, k->escalating, &r);
    CHECK(rc == 0, "row %d rc=%d", row, rc);
    CHECK(strcmp(r.queue_name, k->queue) == 0, "row %d (C=%g S=%g D=%g): %s, expected %s", row, k->c, k->s, k->d,
          r.queue_name, k->queue);
    CHECK(r.priority_level == k->level, "row %d level %d", row, r.priority_level);
    CHECK(r.flag_audio_review == k->audio, "row %d audio review %d", row, r.flag_audio_review);
    CHECK(r.escalation_required == k->escalation, "row %d escalation %d", row, r.escalation_required);
    CHECK(r.early_exit == k->early, "row %d early exit %d", row, r.early_exit);
    CHECK(strcmp(r.cell, k->cell) == 0, "row %d cell %s, expected %s", row, r.cell, k->cell);
    CHECK(strlen(r.reasoning) > 40 && strlen(r.dispatcher_action) > 40, "row %d texts", row);
    CHECK((strstr(r.dispatcher_action, "Patois") != NULL) == k->audio, "row %d: audio review guidance", row);
    CHECK((strstr(r.reasoning, "Early exit") != NULL) == k->early, "row %d: reasoning names the early exit", row);
}

/* The critical-indicator rule and the serious floor against the paper's matrix. */
static void check_rules(void) {
    triage_params paper, critical;
    triage_params_init(&critical);
    CHECK(critical.rules == TRIAGE_RULES_CRITICAL, "critical rules by default");
    paper = critical;
    paper.rules = TRIAGE_RULES_PAPER;
    const triage_words shot = {.critical = "not_breathing", .critical_matched = "not breathing"};
    triage_result r;
    /* HHL: Q2 by the matrix, Q1 by the rule, the indicator and its words named */
    CHECK(triage_decide_words(NULL, 0.9, 0.75, 0.2, &shot, &r) == 0 && r.queue == TRIAGE_Q1_IMMEDIATE &&
              strstr(r.reasoning, "not_breathing (\"not breathing\")") && strstr(r.reasoning, "HHL → Q2-ELEVATED") &&
              strcmp(r.rule, "critical_indicator") == 0 && r.escalation_required && !r.early_exit,
          "critical rule over HHL: %s", r.reasoning);
    CHECK(strstr(r.dispatcher_action, "reports not breathing"), "guidance names it: %s", r.dispatcher_action);
    CHECK(triage_decide_words(&paper, 0.9, 0.75, 0.2, &shot, &r) == 0 && r.queue == TRIAGE_Q2_ELEVATED &&
              !strstr(r.reasoning, "not_breathing") && r.rule == NULL,
          "paper: the matrix alone");
    /* HLL (a low score): Q5-ROUTINE by the matrix */
    CHECK(triage_decide_words(&critical, 0.9, 0.3, 0.2, &shot, &r) == 0 && r.queue == TRIAGE_Q1_IMMEDIATE,
          "critical rule over HLL");
    CHECK(triage_decide_words(&paper, 0.9, 0.3, 0.2, &shot, &r) == 0 && r.queue == TRIAGE_Q5_ROUTINE, "paper HLL");
    /* LLL: Q5-REVIEW; the rule gives Q1 and keeps the audio review */
    CHECK(triage_decide_words(&critical, 0.3, 0.3, 0.2, &shot, &r) == 0 && r.queue == TRIAGE_Q1_IMMEDIATE &&
              r.flag_audio_review,
          "critical rule over LLL");
    /* already Q1 (HHH): named, rule not recorded as changing the queue */
    CHECK(triage_decide_words(&critical, 0.9, 0.75, 0.7, &shot, &r) == 0 && r.queue == TRIAGE_Q1_IMMEDIATE &&
              r.rule == NULL && strstr(r.reasoning, "not_breathing"),
          "HHH with an indicator");
    /* early exits stay in both */
    CHECK(triage_decide_words(&paper, 0.2, 0.1, 0.85, NULL, &r) == 0 && r.early_exit && r.queue == TRIAGE_Q1_IMMEDIATE,
          "paper early exit");
    CHECK(triage_decide_words(&critical, 0.2, 0.1, 0.85, NULL, &r) == 0 && r.early_exit &&
              r.queue == TRIAGE_Q1_IMMEDIATE,
          "critical early exit");
    /* the serious floor: Q5 and Q3 become Q2; Q1 stays */
    const triage_words serious = {.serious = 1};
    CHECK(triage_decide_words(&critical, 0.9, 0.25, 0.2, &serious, &r) == 0 && r.queue == TRIAGE_Q2_ELEVATED &&
              strcmp(r.rule, "serious_floor") == 0 && strstr(r.reasoning, "the matrix gave Q5-ROUTINE"),
          "serious floor over HLL: %s", r.reasoning);
    CHECK(triage_decide_words(&critical, 0.9, 0.25, 0.7, &serious, &r) == 0 && r.queue == TRIAGE_Q2_ELEVATED,
          "serious floor over HLH");
    CHECK(triage_decide_words(&critical, 0.3, 0.25, 0.2, &serious, &r) == 0 && r.queue == TRIAGE_Q2_ELEVATED &&
              r.flag_audio_review,
          "serious floor over LLL");
    CHECK(triage_decide_words(&critical, 0.9, 0.6, 0.7, &serious, &r) == 0 && r.queue == TRIAGE_Q1_IMMEDIATE &&
              r.rule == NULL,
          "serious HHH stays Q1");
    CHECK(triage_decide_words(&paper, 0.9, 0.25, 0.2, &serious, &r) == 0 && r.queue == TRIAGE_Q5_ROUTINE,
          "paper: no floor");
    /* the minor rule: content high but the words say it is over → read with content low */
    const triage_words minor = {.minor = 1};
    CHECK(triage_decide_words(&critical, 0.9, 0.45, 0.2, &minor, &r) == 0 && r.queue == TRIAGE_Q5_ROUTINE &&
              strcmp(r.rule, "minor") == 0 && strstr(r.reasoning, "HLL → Q5-ROUTINE"),
          "minor rule over HHL: %s", r.reasoning);
    CHECK(triage_decide_words(&critical, 0.9, 0.45, 0.7, &minor, &r) == 0 && r.queue == TRIAGE_Q3_MONITOR,
          "minor rule over HHH: the voice still raises it to Q3");
    CHECK(triage_decide_words(&critical, 0.3, 0.45, 0.7, &minor, &r) == 0 && r.queue == TRIAGE_Q1_IMMEDIATE &&
              r.rule == NULL,
          "minor rule over LHH: LLH is Q1 too");
    CHECK(triage_decide_words(&paper, 0.9, 0.45, 0.2, &minor, &r) == 0 && r.queue == TRIAGE_Q2_ELEVATED,
          "paper: no minor rule");
    const triage_words minor_but_critical = {.minor = 1, .critical = "entrapment"};
    CHECK(triage_decide_words(&critical, 0.9, 0.45, 0.2, &minor_but_critical, &r) == 0 &&
              r.queue == TRIAGE_Q1_IMMEDIATE,
          "a critical indicator beats a minor word");
    /* the concern floor (safety net): a sign of trouble is never left in Q5 */
    const triage_words concern = {.concern = 1};
    CHECK(triage_decide_words(&critical, 0.9, 0.1, 0.2, &concern, &r) == 0 && r.queue == TRIAGE_Q3_MONITOR &&
              strcmp(r.rule, "concern_floor") == 0 && strstr(r.reasoning, "Q5-ROUTINE") &&
              strstr(r.dispatcher_action, "Monitor"),
          "concern floor over HLL: %s", r.reasoning);
    CHECK(triage_decide_words(&critical, 0.3, 0.1, 0.2, &concern, &r) == 0 && r.queue == TRIAGE_Q3_MONITOR &&
              r.flag_audio_review,
          "concern floor over LLL: Q3, still flagged for review");
    CHECK(triage_decide_words(&critical, 0.9, 0.45, 0.2, &concern, &r) == 0 && r.queue == TRIAGE_Q2_ELEVATED &&
              r.rule == NULL,
          "concern floor never lowers");
    const triage_words concern_minor = {.concern = 1, .minor = 1};
    CHECK(triage_decide_words(&critical, 0.9, 0.1, 0.2, &concern_minor, &r) == 0 && r.queue == TRIAGE_Q5_ROUTINE,
          "over, past or minor: no floor");
    CHECK(triage_decide_words(&paper, 0.9, 0.1, 0.2, &concern, &r) == 0 && r.queue == TRIAGE_Q5_ROUTINE,
          "paper: no concern floor");
    /* routine needs words: a clear, calm call whose words name nothing is Q3, not Q5 */
    const triage_words nothing = {0}, routine = {.routine = 1};
    CHECK(triage_decide_words(&critical, 0.9, 0.1, 0.2, &nothing, &r) == 0 && r.queue == TRIAGE_Q3_MONITOR &&
              strcmp(r.rule, "routine_unnamed") == 0 && strstr(r.reasoning, "HLL → Q5-ROUTINE") &&
              strncmp(r.dispatcher_action, "Monitor", 7) == 0,
          "routine needs words over HLL: %s", r.reasoning);
    CHECK(triage_decide_words(&critical, 0.9, 0.1, 0.2, NULL, &r) == 0 && r.queue == TRIAGE_Q3_MONITOR,
          "no words known: not routine");
    CHECK(triage_decide_words(&critical, 0.9, 0.1, 0.2, &routine, &r) == 0 && r.queue == TRIAGE_Q5_ROUTINE &&
              r.rule == NULL,
          "a routine matter stays Q5-ROUTINE");
    CHECK(triage_decide_words(&critical, 0.3, 0.1, 0.2, &nothing, &r) == 0 && r.queue == TRIAGE_Q5_REVIEW,
          "LLL stays Q5-REVIEW: a person reviews it already");
    CHECK(triage_decide_words(&paper, 0.9, 0.1, 0.2, &nothing, &r) == 0 && r.queue == TRIAGE_Q5_ROUTINE,
          "paper: no routine rule");
    CHECK(triage_decide(&critical, 0.9, 0.1, 0.2, 0, &r) == 0 && r.queue == TRIAGE_Q5_ROUTINE,
          "triage_decide: the matrix alone");
    /* parsing */
    triage_rules rules;
    CHECK(triage_rules_parse("paper", &rules) == 0 && rules == TRIAGE_RULES_PAPER, "parse paper");
    CHECK(triage_rules_parse("critical", &rules) == 0 && rules == TRIAGE_RULES_CRITICAL, "parse critical");
    CHECK(triage_rules_parse("Paper", &rules) == TRIDENT_EINVAL && triage_rules_parse(NULL, &rules) == TRIDENT_EINVAL,
          "bad rules");
    CHECK(strcmp(triage_rules_name(TRIAGE_RULES_PAPER), "paper") == 0, "rules name");
}

/* The guidance never contradicts the queue, for every queue and flag combination. */
static const char *const action_start[] = {
    [TRIAGE_Q1_IMMEDIATE] = "Dispatch immediately", [TRIAGE_Q2_ELEVATED] = "Dispatch with priority",
    [TRIAGE_Q3_MONITOR] = "Monitor", [TRIAGE_Q5_ROUTINE] = "Routine", [TRIAGE_Q5_REVIEW] = "Review"};

/* One combination: rules (0 critical, 1 paper), the three signals, the words' flags. */
static void check_guidance_case(int paper, double c, double s, double d, int esc, int crit, int ser, int mnr,
                                int seen[5][2]) {
    triage_params p;
    triage_params_init(&p);
    p.rules = paper ? TRIAGE_RULES_PAPER : TRIAGE_RULES_CRITICAL;
    const triage_words w = {.escalating = esc,
                            .critical = crit ? "heavy_bleeding" : NULL,
                            .critical_matched = crit ? "blood everywhere" : NULL,
                            .serious = ser,
                            .minor = mnr,
                            .routine = esc && !ser};
    triage_result r;
    CHECK(triage_decide_words(&p, c, s, d, &w, &r) == 0, "decide");
    const char *a = r.dispatcher_action;
    const int dispatching = r.queue == TRIAGE_Q1_IMMEDIATE || r.queue == TRIAGE_Q2_ELEVATED;
    seen[r.queue][esc] = 1;
    CHECK(strncmp(a, action_start[r.queue], strlen(action_start[r.queue])) == 0, "%s guidance starts with its action: %s",
          r.queue_name, a);
    CHECK(dispatching || (!strstr(a, "units") && !strstr(a, "Dispatch") && !strstr(a, "first aid")),
          "%s guidance asks for no units: %s", r.queue_name, a);
    CHECK(r.queue != TRIAGE_Q1_IMMEDIATE || (!strstr(a, "Routine") && !strstr(a, "non-emergency") &&
                                             !strstr(a, "queue order") && !strstr(a, "Monitor")),
          "Q1 guidance is not routine: %s", a);
    CHECK(!esc || strstr(a, dispatching ? "additional units" : "call back at once"), "%s escalating guidance: %s",
          r.queue_name, a);
    CHECK((strstr(a, "Patois") != NULL) == r.flag_audio_review, "audio review text");
    CHECK(!(crit && !paper) || (r.queue == TRIAGE_Q1_IMMEDIATE && strstr(r.reasoning, "heavy_bleeding") &&
                                strstr(a, "heavy bleeding")),
          "critical rule → Q1 named");
    CHECK(!paper || !strstr(r.reasoning, "rule:"), "paper mode adds no rule");
    CHECK(!(ser && !crit && !paper) || dispatching, "serious floor → Q1/Q2");
}

static void check_guidance(void) {
    const double confs[] = {0.3, 0.9}, contents[] = {0.2, 0.6}, distresses[] = {0.2, 0.7, 0.85, 0.95};
    int seen[5][2] = {{0}}; /* queue × escalating */
    int combos = 0;
    for (int k = 0; k < 2 * 2 * 2 * 4 * 16; k++, combos++)
        check_guidance_case(k & 1, confs[(k >> 1) & 1], contents[(k >> 2) & 1], distresses[(k >> 3) & 3],
                            (k >> 5) & 1, (k >> 6) & 1, (k >> 7) & 1, (k >> 8) & 1, seen);
    for (int q = 0; q < 5; q++)
        for (int e = 0; e < 2; e++)
            CHECK(seen[q][e], "queue %s escalating=%d covered", triage_queue_name((triage_queue)q), e);
    CHECK(combos == 512, "combinations %d", combos);
}

int main(void) {
    triage_params p;
    triage_params_init(&p);
    CHECK(p.conf_high == 0.7 && p.content_high == 0.4 && p.distress_high == 0.5 && p.early_distress == 0.8 &&
              p.early_conf == 0.4 && p.extreme_distress == 0.9,
          "defaults");
    size_t n = sizeof cases / sizeof cases[0];
    for (size_t i = 0; i < n; i++) {
        check_case(&p, (int)i + 1, &cases[i]);
        check_case(NULL, (int)i + 1, &cases[i]); /* NULL params = defaults */
    }

    /* Reasoning and guidance content. */
    triage_result r;
    triage_decide(NULL, 0.9, 0.6, 0.7, 0, &r);
    CHECK(strstr(r.reasoning, "ASR confidence high (0.90 >= 0.70)") && strstr(r.reasoning, "content score high") &&
              strstr(r.reasoning, "vocal distress high"),
          "reasoning names the signals: %s", r.reasoning);
    CHECK(strncmp(r.dispatcher_action, "Dispatch immediately", 20) == 0 && strstr(r.dispatcher_action, "stay on the line"),
          "Q1 guidance: %s", r.dispatcher_action);
    triage_decide(NULL, 0.3, 0.2, 0.7, 0, &r);
    CHECK(strstr(r.reasoning, "Patois") && strstr(r.reasoning, "ASR confidence low (0.30 < 0.70)"), "LLH reasoning: %s",
          r.reasoning);
    CHECK(strstr(r.dispatcher_action, "listen") || strstr(r.dispatcher_action, "Listen"), "LLH guidance");
    triage_decide(NULL, 0.3, 0.2, 0.3, 0, &r);
    CHECK(strncmp(r.dispatcher_action, "Review", 6) == 0, "Q5-REVIEW guidance");
    triage_decide(NULL, 0.9, 0.6, 0.3, 1, &r);
    CHECK(strstr(r.reasoning, "escalating") && strstr(r.dispatcher_action, "additional units"), "escalating text");

    /* JSON shape. */
    triage_decide(NULL, 0.3, 0.1, 0.85, 0, &r);
    json_t *j = triage_result_to_json(&r);
    CHECK(j && json_object_size(j) == 7, "7 keys");
    CHECK(strcmp(json_string_value(json_object_get(j, "queue")), "Q1-IMMEDIATE") == 0, "queue");
    CHECK(json_integer_value(json_object_get(j, "priority_level")) == 1, "priority_level");
    CHECK(json_is_true(json_object_get(j, "flag_audio_review")), "flag_audio_review");
    CHECK(json_is_string(json_object_get(j, "reasoning")) && json_is_string(json_object_get(j, "dispatcher_action")),
          "texts");
    CHECK(json_is_true(json_object_get(j, "escalation_required")) && json_is_true(json_object_get(j, "early_exit")),
          "flags");
    json_decref(j);

    /* Configurable thresholds. */
    triage_params q = p;
    q.conf_high = 0.5;
    q.content_high = 0.2;
    q.distress_high = 0.6;
    triage_decide(&q, 0.55, 0.25, 0.55, 0, &r); /* H H L under q; L L H under defaults */
    CHECK(strcmp(r.queue_name, "Q2-ELEVATED") == 0 && !r.flag_audio_review, "custom thresholds: %s", r.queue_name);
    triage_decide(&p, 0.55, 0.25, 0.55, 0, &r);
    CHECK(strcmp(r.queue_name, "Q1-IMMEDIATE") == 0 && r.flag_audio_review, "defaults on the same input");
    q = p;
    q.extreme_distress = 0.95;
    triage_decide(&q, 0.95, 0.0, 0.93, 0, &r);
    CHECK(!r.early_exit && strcmp(r.queue_name, "Q3-MONITOR") == 0, "raised extreme threshold");
    q = p;
    q.early_distress = 0.7;
    q.early_conf = 0.6;
    triage_decide(&q, 0.5, 0.6, 0.75, 0, &r);
    CHECK(r.early_exit && r.queue == TRIAGE_Q1_IMMEDIATE, "custom early exit");
    triage_decide(&p, 0.5, 0.6, 0.75, 0, &r);
    CHECK(!r.early_exit && r.queue == TRIAGE_Q1_IMMEDIATE, "LHH without early exit");

    /* Bad input. */
    char err[TRIDENT_ERR_SIZE];
    q = p;
    q.content_high = 1.5;
    CHECK(triage_params_check(&q, err, sizeof err) == TRIDENT_EINVAL && strstr(err, "content_high"), "check: %s", err);
    CHECK(triage_decide(&q, 0.5, 0.5, 0.5, 0, &r) == TRIDENT_EINVAL, "invalid params rejected");
    q.content_high = NAN;
    CHECK(triage_params_check(&q, err, sizeof err) == TRIDENT_EINVAL, "NaN threshold");
    CHECK(triage_decide(NULL, NAN, 0.5, 0.5, 0, &r) == TRIDENT_EINVAL, "NaN confidence");
    CHECK(triage_decide(NULL, 0.5, 0.5, NAN, 0, &r) == TRIDENT_EINVAL, "NaN distress");
    CHECK(strcmp(triage_queue_name(TRIAGE_Q5_REVIEW), "Q5-REVIEW") == 0, "queue name");
    check_rules();
    check_guidance();
    return check_summary();
}
