/* triage.c — the decision matrix, early exits, reasoning and dispatcher
 * guidance (see triage.h for the rules). */
#include "triage/triage.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"

/* One matrix cell: index = C*4 + S*2 + D with 1 = high. */
typedef struct {
    triage_queue queue;
    const char *why; /* the clause that explains the decision */
} triage_cell;

static const triage_cell triage_matrix[8] = {
    /* LLL */ {TRIAGE_Q5_REVIEW,
               "the transcript is unreliable and neither the words nor the voice signal an emergency, "
               "so a person must review the call"},
    /* LLH */ {TRIAGE_Q1_IMMEDIATE,
               "the transcript is unreliable but the caller sounds distressed; ASR failure with distress "
               "often means a frightened caller who has switched to Patois, so the call goes first"},
    /* LHL */ {TRIAGE_Q2_ELEVATED,
               "even the unreliable transcript describes a serious emergency while the caller sounds calm"},
    /* LHH */ {TRIAGE_Q1_IMMEDIATE,
               "the transcript is unreliable, yet it describes a serious emergency and the caller sounds "
               "distressed"},
    /* HLL */ {TRIAGE_Q5_ROUTINE,
               "a clear transcript with no serious emergency content and a calm voice"},
    /* HLH */ {TRIAGE_Q3_MONITOR,
               "the transcript is clear and describes no serious emergency, but the caller sounds distressed"},
    /* HHL */ {TRIAGE_Q2_ELEVATED,
               "a clear transcript describes a serious emergency while the caller sounds calm"},
    /* HHH */ {TRIAGE_Q1_IMMEDIATE,
               "a clear transcript describes a serious emergency and the caller sounds distressed"},
};

static const char *const triage_actions[] = {
    [TRIAGE_Q1_IMMEDIATE] =
        "Dispatch immediately: send the nearest available units now; stay on the line, confirm the "
        "exact location and give life-saving instructions until help arrives.",
    [TRIAGE_Q2_ELEVATED] =
        "Dispatch with priority: assign units ahead of routine calls, confirm the location and the "
        "nature of the emergency, and call back at once if the line drops.",
    [TRIAGE_Q3_MONITOR] =
        "Monitor: keep the line open or call back to find out what is happening; upgrade the priority "
        "if the caller's distress or new details warrant it.",
    [TRIAGE_Q5_ROUTINE] =
        "Routine: handle in queue order; confirm the details and refer to a non-emergency service if "
        "no emergency is confirmed.",
    [TRIAGE_Q5_REVIEW] =
        "Review: a dispatcher must listen to the call and call back to establish whether there is an "
        "emergency.",
};

static const char *const triage_names[] = {
    [TRIAGE_Q1_IMMEDIATE] = "Q1-IMMEDIATE", [TRIAGE_Q2_ELEVATED] = "Q2-ELEVATED",
    [TRIAGE_Q3_MONITOR] = "Q3-MONITOR",     [TRIAGE_Q5_ROUTINE] = "Q5-ROUTINE",
    [TRIAGE_Q5_REVIEW] = "Q5-REVIEW",
};

static const int triage_levels[] = {
    [TRIAGE_Q1_IMMEDIATE] = 1, [TRIAGE_Q2_ELEVATED] = 2, [TRIAGE_Q3_MONITOR] = 3,
    [TRIAGE_Q5_ROUTINE] = 5,   [TRIAGE_Q5_REVIEW] = 5,
};

void triage_params_init(triage_params *p) {
    p->rules = TRIAGE_RULES_CRITICAL;
    p->conf_high = 0.7;
    p->content_high = 0.4;
    p->distress_high = 0.5;
    p->early_distress = 0.8;
    p->early_conf = 0.4;
    p->extreme_distress = 0.9;
}

int triage_rules_parse(const char *s, triage_rules *rules) {
    if (s && strcmp(s, "critical") == 0)
        *rules = TRIAGE_RULES_CRITICAL;
    else if (s && strcmp(s, "paper") == 0)
        *rules = TRIAGE_RULES_PAPER;
    else
        return TRIDENT_EINVAL;
    return 0;
}

const char *triage_rules_name(triage_rules rules) { return rules == TRIAGE_RULES_PAPER ? "paper" : "critical"; }

int triage_params_check(const triage_params *p, char *err, size_t err_size) {
    if (p->rules != TRIAGE_RULES_CRITICAL && p->rules != TRIAGE_RULES_PAPER)
        return error_set(err, err_size, TRIDENT_EINVAL, "triage rules must be paper or critical");
    const struct {
        const char *name;
        double v;
    } f[] = {{"conf_high", p->conf_high},         {"content_high", p->content_high},
             {"distress_high", p->distress_high}, {"early_distress", p->early_distress},
             {"early_conf", p->early_conf},       {"extreme_distress", p->extreme_distress}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (!isfinite(f[i].v) || f[i].v < 0.0 || f[i].v > 1.0)
            return error_set(err, err_size, TRIDENT_EINVAL, "triage threshold %s must be in [0, 1] (got %g)",
                             f[i].name, f[i].v);
    return 0;
}

const char *triage_queue_name(triage_queue q) {
    if ((int)q < 0 || q > TRIAGE_Q5_REVIEW) return "unknown";
    return triage_names[q];
}

static double triage_clamp(double x) { return x < 0.0 ? 0.0 : x > 1.0 ? 1.0 : x; }

/* Appends printf-style text to buf (size bytes) at *n, truncating. */
static void triage_append(char *buf, size_t size, size_t *n, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void triage_append(char *buf, size_t size, size_t *n, const char *fmt, ...) {
    if (*n >= size - 1) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *n, size - *n, fmt, ap);
    va_end(ap);
    if (k > 0) *n += (size_t)k < size - *n ? (size_t)k : size - 1 - *n;
}

/* The (C, S, D) order of the signals is the matrix notation of DESIGN.md and
 * the API the issue fixes, hence the lint exception. */
// NOLINTBEGIN(bugprone-easily-swappable-parameters)
int triage_decide_words(const triage_params *params, double confidence, double content, double distress,
                        const triage_words *words, triage_result *r) {
    // NOLINTEND(bugprone-easily-swappable-parameters)
    triage_params defaults;
    memset(r, 0, sizeof *r);
    if (!params) {
        triage_params_init(&defaults);
        params = &defaults;
    }
    if (triage_params_check(params, NULL, 0) != 0) return TRIDENT_EINVAL;
    if (isnan(confidence) || isnan(content) || isnan(distress)) return TRIDENT_EINVAL;
    const triage_words none = {0};
    if (!words) words = &none;
    const double c = triage_clamp(confidence), s = triage_clamp(content), d = triage_clamp(distress);
    r->confidence = c;
    r->content = s;
    r->distress = d;

    const int ch = c >= params->conf_high, sh = s > params->content_high, dh = d > params->distress_high;
    r->cell[0] = ch ? 'H' : 'L';
    r->cell[1] = sh ? 'H' : 'L';
    r->cell[2] = dh ? 'H' : 'L';
    r->cell[3] = '\0';

    char signals[256];
    snprintf(signals, sizeof signals,
             "ASR confidence %s (%.2f %s %.2f), content score %s (%.2f %s %.2f), vocal distress %s (%.2f %s %.2f)",
             ch ? "high" : "low", c, ch ? ">=" : "<", params->conf_high, sh ? "high" : "low", s, sh ? ">" : "<=",
             params->content_high, dh ? "high" : "low", d, dh ? ">" : "<=", params->distress_high);

    size_t n = 0;
    const size_t rs = sizeof r->reasoning;
    if (d > params->extreme_distress) {
        r->queue = TRIAGE_Q1_IMMEDIATE;
        r->early_exit = 1;
        triage_append(r->reasoning, rs, &n,
                      "Early exit to Q1-IMMEDIATE: extreme vocal distress (%.2f > %.2f) decides on its own, "
                      "whatever the transcript says. %s.",
                      d, params->extreme_distress, signals);
    } else if (d > params->early_distress && c < params->early_conf) {
        r->queue = TRIAGE_Q1_IMMEDIATE;
        r->early_exit = 1;
        triage_append(r->reasoning, rs, &n,
                      "Early exit to Q1-IMMEDIATE: very high vocal distress (%.2f > %.2f) with a transcript "
                      "that failed (confidence %.2f < %.2f) — likely a frightened caller the ASR could not "
                      "follow. %s.",
                      d, params->early_distress, c, params->early_conf, signals);
    } else {
        const triage_cell *cell = &triage_matrix[ch * 4 + sh * 2 + dh];
        r->queue = cell->queue;
        triage_append(r->reasoning, rs, &n, "%s → %s: %s; %s.", r->cell, triage_names[cell->queue], signals,
                      cell->why);
        const triage_cell *low = &triage_matrix[ch * 4 + dh];
        if (params->rules == TRIAGE_RULES_CRITICAL && words->minor && !words->critical && !words->serious && sh &&
            low->queue != r->queue) {
            r->rule = "minor";
            triage_append(r->reasoning, rs, &n,
                          " Minor rule: the words say the call is over, past or minor and describe nothing serious, "
                          "so their score does not raise it: read with content low, %c%c%c → %s; %s.",
                          r->cell[0], 'L', r->cell[2], triage_names[low->queue], low->why);
            r->queue = low->queue;
        }
    }
    const char *matched = words->critical_matched && *words->critical_matched ? words->critical_matched : NULL;
    if (params->rules == TRIAGE_RULES_CRITICAL && words->critical) {
        if (r->queue != TRIAGE_Q1_IMMEDIATE) r->rule = "critical_indicator";
        triage_append(r->reasoning, rs, &n,
                      " Critical-indicator rule: the words report %s%s%s%s, a life at risk now, so the call is "
                      "Q1-IMMEDIATE whatever the matrix cell%s%s.",
                      words->critical, matched ? " (\"" : "", matched ? matched : "", matched ? "\")" : "",
                      r->rule ? ", which gave " : "", r->rule ? triage_names[r->queue] : "");
        r->queue = TRIAGE_Q1_IMMEDIATE;
    } else if (params->rules == TRIAGE_RULES_CRITICAL && words->serious && r->queue != TRIAGE_Q1_IMMEDIATE &&
               r->queue != TRIAGE_Q2_ELEVATED) {
        r->rule = "serious_floor";
        triage_append(r->reasoning, rs, &n,
                      " Serious-emergency rule: the words describe a serious emergency (a hazard, an injury or "
                      "altered consciousness) without a critical indicator, so the call is at least Q2-ELEVATED "
                      "(the matrix gave %s).",
                      triage_names[r->queue]);
        r->queue = TRIAGE_Q2_ELEVATED;
    } else if (params->rules == TRIAGE_RULES_CRITICAL && words->concern && !words->minor &&
               (r->queue == TRIAGE_Q5_ROUTINE || r->queue == TRIAGE_Q5_REVIEW)) {
        r->rule = "concern_floor";
        triage_append(r->reasoning, rs, &n,
                      " Safety net: the words carry a sign that a person may be in trouble and do not say it is "
                      "over, past or minor, so the call is at least Q3-MONITOR (the matrix gave %s).",
                      triage_names[r->queue]);
        r->queue = TRIAGE_Q3_MONITOR;
    } else if (params->rules == TRIAGE_RULES_CRITICAL && !words->routine && !words->minor &&
               r->queue == TRIAGE_Q5_ROUTINE) {
        r->rule = "routine_unnamed";
        triage_append(r->reasoning, rs, &n,
                      " Routine needs words: the words name no routine matter (a nuisance, a fault to repair, a "
                      "lost thing, a question, a misdial) and do not say it is over, past or minor — an emergency "
                      "in words TRIDENT does not know looks like this — so the call is Q3-MONITOR, not Q5-ROUTINE.");
        r->queue = TRIAGE_Q3_MONITOR;
    }
    r->queue_name = triage_names[r->queue];
    r->priority_level = triage_levels[r->queue];
    r->flag_audio_review = !ch;
    r->escalation_required = r->queue == TRIAGE_Q1_IMMEDIATE || words->escalating;
    if (words->escalating)
        triage_append(r->reasoning, rs, &n,
                      " The caller describes an escalating situation, so escalation is required.");

    /* Guidance: the queue's action, then what the flags add, never beyond the queue. */
    const size_t as = sizeof r->dispatcher_action;
    const int dispatching = r->queue == TRIAGE_Q1_IMMEDIATE || r->queue == TRIAGE_Q2_ELEVATED;
    n = 0;
    triage_append(r->dispatcher_action, as, &n, "%s", triage_actions[r->queue]);
    if (params->rules == TRIAGE_RULES_CRITICAL && words->critical) {
        char what[64]; /* "not_breathing" → "not breathing" */
        snprintf(what, sizeof what, "%s", words->critical);
        for (char *p = what; *p; p++)
            if (*p == '_') *p = ' ';
        triage_append(r->dispatcher_action, as, &n,
                      " The caller reports %s: coach them through first aid for it until units arrive.", what);
    }
    if (r->flag_audio_review)
        triage_append(r->dispatcher_action, as, &n,
                      " Listen to the recording — the caller may have switched to Patois; do not rely "
                      "on the transcript alone.");
    if (words->escalating)
        triage_append(r->dispatcher_action, as, &n, "%s",
                      dispatching ? " The situation is escalating: request additional units and notify the supervisor."
                                  : " The caller says the situation is getting worse: call back at once and raise "
                                    "the priority if it is confirmed.");
    return 0;
}

int triage_decide(const triage_params *params, double confidence, double content, double distress, int escalating,
                  triage_result *r) {
    triage_params paper;
    if (params)
        paper = *params;
    else
        triage_params_init(&paper);
    paper.rules = TRIAGE_RULES_PAPER;
    const triage_words words = {.escalating = escalating};
    return triage_decide_words(&paper, confidence, content, distress, &words, r);
}

json_t *triage_result_to_json(const triage_result *r) {
    return json_pack("{s:s, s:i, s:b, s:s, s:s, s:b, s:b}", "queue", r->queue_name ? r->queue_name : "unknown",
                     "priority_level", r->priority_level, "flag_audio_review", r->flag_audio_review, "reasoning",
                     r->reasoning, "dispatcher_action", r->dispatcher_action, "escalation_required",
                     r->escalation_required, "early_exit", r->early_exit);
}
