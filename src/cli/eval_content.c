/* eval_content.c — `trident eval-content FILE [--json]`: runs every labelled
 * transcript of a corpus (tests/content/corpus.tsv's format) through content
 * extraction and triage exactly as `trident analyze --transcript` does, with
 * confidence 0.9 and distress 0.2 — a clear recording of a calm caller, so the
 * words alone decide — and prints how the queues, hazards and indicators
 * compare with the labels: recall and precision per kind and per indicator,
 * hazard accuracy, and every miss. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "cli/cli.h"
#include "content/content.h"
#include "service/pipeline.h"
#include "service/service.h"

#define EVAL_CONFIDENCE 0.9
#define EVAL_DISTRESS 0.2
#define EVAL_FILE_MAX (64u << 20)

enum { KIND_CRITICAL = 0, KIND_SERIOUS, KIND_ROUTINE, KIND_COUNT };
static const char *const kind_names[KIND_COUNT] = {"critical", "serious", "routine"};

/* One labelled row (strings point into the file buffer). */
typedef struct {
    const char *id, *hazard, *style, *text;
    int kind, line;
    unsigned char want[CONTENT_IND_COUNT]; /* expected indicators */
} eval_row;

static void eval_usage(FILE *out) {
    fprintf(out,
            "usage: trident eval-content [--json] [--triage-rules paper|critical] FILE\n\n"
            "Runs each labelled transcript of FILE through content extraction and triage (as\n"
            "`trident analyze --transcript` does) with confidence %.1f and distress %.1f — a clear\n"
            "recording of a calm caller, so only the words decide — and prints: the share of\n"
            "critical rows in Q1, of critical+serious rows in Q1/Q2, of routine rows in Q3/Q5,\n"
            "recall and precision per kind (Q1 = critical, Q2 = serious, Q3/Q5 = routine) and per\n"
            "indicator, hazard accuracy, and the misses (id, expected, got, transcript).\n\n"
            "FILE: '#' comments; rows id<TAB>kind<TAB>hazard<TAB>indicators<TAB>style<TAB>transcript\n"
            "(kind critical|serious|routine; indicators comma-separated or '-'; style\n"
            "english|patois|asr). Exit status 0 when it ran, 1 for a bad file, 2 for bad usage.\n",
            EVAL_CONFIDENCE, EVAL_DISTRESS);
}

static int eval_kind_parse(const char *s) {
    for (int k = 0; k < KIND_COUNT; k++)
        if (strcmp(s, kind_names[k]) == 0) return k;
    return -1;
}

static int eval_hazard_valid(const char *s) {
    if (strcmp(s, "none") == 0) return 1;
    for (int h = 1; h < CONTENT_HAZARD_COUNT; h++)
        if (strcmp(s, content_hazard_name((content_hazard)h)) == 0) return 1;
    return 0;
}

static int eval_indicator_parse(const char *s, size_t n) {
    for (int i = 0; i < CONTENT_IND_COUNT; i++) {
        const char *name = content_indicator_name((content_indicator)i);
        if (strlen(name) == n && strncmp(name, s, n) == 0) return i;
    }
    return -1;
}

/* Splits the corpus text (in place) into rows. On success *rows (caller
 * frees) holds *n rows; otherwise a message naming path:line. */
static int eval_rows_parse(char *text, const char *path, eval_row **rows, size_t *n, char *err, size_t err_size) {
    size_t cap = 64, count = 0;
    eval_row *out = malloc(cap * sizeof *out);
    if (!out) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory");
    int line = 0;
    for (char *p = text; *p;) {
        char *nl = strchr(p, '\n');
        char *next = nl ? nl + 1 : p + strlen(p);
        if (nl) *nl = '\0';
        line++;
        size_t len = strlen(p);
        if (len && p[len - 1] == '\r') p[--len] = '\0';
        if (len == 0 || p[0] == '#') {
            p = next;
            continue;
        }
        char *f[6];
        int nf = 0;
        for (char *q = p; nf < 6;) {
            f[nf++] = q;
            char *tab = strchr(q, '\t');
            if (!tab || nf == 6) break;
            *tab = '\0';
            q = tab + 1;
        }
        int rc = 0;
        eval_row r;
        memset(&r, 0, sizeof r);
        if (nf != 6)
            rc = error_set(err, err_size, TRIDENT_EFORMAT,
                           "%s:%d: expected id<TAB>kind<TAB>hazard<TAB>indicators<TAB>style<TAB>transcript, got %d "
                           "field(s)",
                           path, line, nf);
        else if ((r.kind = eval_kind_parse(f[1])) < 0)
            rc = error_set(err, err_size, TRIDENT_EFORMAT, "%s:%d: kind \"%s\" is not critical, serious or routine",
                           path, line, f[1]);
        else if (!eval_hazard_valid(f[2]))
            rc = error_set(err, err_size, TRIDENT_EFORMAT, "%s:%d: \"%s\" is not a hazard", path, line, f[2]);
        else if (strcmp(f[4], "english") != 0 && strcmp(f[4], "patois") != 0 && strcmp(f[4], "asr") != 0)
            rc = error_set(err, err_size, TRIDENT_EFORMAT, "%s:%d: style \"%s\" is not english, patois or asr", path,
                           line, f[4]);
        else if (!f[0][0] || !f[5][0])
            rc = error_set(err, err_size, TRIDENT_EFORMAT, "%s:%d: empty id or transcript", path, line);
        if (rc == 0 && strcmp(f[3], "-") != 0) {
            for (const char *s = f[3]; rc == 0;) {
                const char *comma = strchr(s, ',');
                size_t k = comma ? (size_t)(comma - s) : strlen(s);
                int ind = eval_indicator_parse(s, k);
                if (ind < 0)
                    rc = error_set(err, err_size, TRIDENT_EFORMAT, "%s:%d: \"%.*s\" is not an indicator", path, line,
                                   (int)k, s);
                else
                    r.want[ind] = 1;
                if (!comma) break;
                s = comma + 1;
            }
        }
        if (rc != 0) {
            free(out);
            return rc;
        }
        if (count == cap) {
            eval_row *grown = realloc(out, 2 * cap * sizeof *out);
            if (!grown) {
                free(out);
                return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory");
            }
            out = grown;
            cap *= 2;
        }
        r.id = f[0];
        r.hazard = f[2];
        r.style = f[4];
        r.text = f[5];
        r.line = line;
        out[count++] = r;
        p = next;
    }
    if (count == 0) {
        free(out);
        return error_set(err, err_size, TRIDENT_EFORMAT, "%s: no rows", path);
    }
    *rows = out;
    *n = count;
    return 0;
}

/* What the pipeline gave for one row. */
typedef struct {
    triage_queue queue;
    char hazard[32];
    unsigned char got[CONTENT_IND_COUNT];
} eval_result;

static int eval_row_run(service_registry *reg, const eval_row *row, eval_result *out, char *err, size_t err_size) {
    pipeline_assessment a;
    int rc = pipeline_assess(reg, row->text, EVAL_CONFIDENCE, EVAL_DISTRESS, &a, err, err_size);
    if (rc != 0) return rc;
    memset(out, 0, sizeof *out);
    out->queue = a.decision.queue;
    json_t *ent = json_object_get(a.nlp, "entities");
    const char *h = json_string_value(json_object_get(ent, "mechanism_hazard"));
    snprintf(out->hazard, sizeof out->hazard, "%s", h ? h : "none");
    size_t i;
    json_t *ind;
    json_array_foreach(json_object_get(ent, "indicators"), i, ind) {
        const char *name = json_string_value(json_object_get(ind, "name"));
        int k = name ? eval_indicator_parse(name, strlen(name)) : -1;
        if (k >= 0) out->got[k] = 1;
    }
    pipeline_assessment_clear(&a);
    return 0;
}

/* The kind a queue stands for: Q1 critical, Q2 serious, Q3/Q5 routine. */
static int eval_queue_kind(triage_queue q) {
    return q == TRIAGE_Q1_IMMEDIATE ? KIND_CRITICAL : q == TRIAGE_Q2_ELEVATED ? KIND_SERIOUS : KIND_ROUTINE;
}

/* Did the row land where its kind must: critical Q1, serious Q1/Q2, routine Q3/Q5? */
static int eval_queue_ok(int kind, triage_queue q) {
    int k = eval_queue_kind(q);
    return kind == KIND_CRITICAL ? k == KIND_CRITICAL : kind == KIND_SERIOUS ? k != KIND_ROUTINE : k == KIND_ROUTINE;
}

static double eval_ratio(long num, long den) { return den ? (double)num / (double)den : 1.0; }

/* Comma-separated indicator names of a set ("-" when empty) into buf. */
static const char *eval_indicator_list(const unsigned char set[CONTENT_IND_COUNT], char *buf, size_t size) {
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < CONTENT_IND_COUNT; i++)
        if (set[i] && n < size) n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? "," : "", content_indicator_name((content_indicator)i));
    if (!n) snprintf(buf, size, "-");
    return buf;
}

static json_t *eval_share_json(long hit, long n) {
    return json_pack("{s:I, s:I, s:f}", "hit", (json_int_t)hit, "n", (json_int_t)n, "ratio", eval_ratio(hit, n));
}

int cli_eval_content(int argc, char **argv) {
    const char *path = NULL, *rules_s = NULL;
    int as_json = 0;
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
            eval_usage(stdout);
            return 0;
        } else if (strcmp(argv[a], "--json") == 0) {
            as_json = 1;
        } else if (strcmp(argv[a], "--triage-rules") == 0 && a + 1 < argc) {
            rules_s = argv[++a];
        } else if (argv[a][0] == '-' && argv[a][1]) {
            fprintf(stderr, "trident eval-content: unknown option or missing value '%s' (see --help)\n", argv[a]);
            return 2;
        } else if (!path) {
            path = argv[a];
        } else {
            fprintf(stderr, "trident eval-content: more than one FILE ('%s', '%s')\n", path, argv[a]);
            return 2;
        }
    }
    if (!path) {
        eval_usage(stderr);
        return 2;
    }
    service_config cfg;
    service_config_default(&cfg);
    if (rules_s && triage_rules_parse(rules_s, &cfg.triage.rules) != 0) {
        fprintf(stderr, "trident eval-content: --triage-rules must be paper or critical, got '%s'\n", rules_s);
        return 2;
    }
    char err[TRIDENT_ERR_SIZE];
    char *text = NULL;
    size_t size;
    if (file_read_all(path, EVAL_FILE_MAX, &text, &size, err, sizeof err) != 0) {
        fprintf(stderr, "trident eval-content: %s\n", err);
        return 1;
    }
    eval_row *rows = NULL;
    size_t n = 0;
    if (strlen(text) != size) {
        fprintf(stderr, "trident eval-content: %s: contains a NUL byte\n", path);
        free(text);
        return 1;
    }
    if (eval_rows_parse(text, path, &rows, &n, err, sizeof err) != 0) {
        fprintf(stderr, "trident eval-content: %s\n", err);
        free(text);
        return 1;
    }
    if (!getenv("TRIDENT_LOG_LEVEL")) log_level_set(LOG_WARN);
    service_registry *reg = NULL;
    eval_result *res = calloc(n, sizeof *res);
    int status = 1;
    if (!res) {
        fprintf(stderr, "trident eval-content: out of memory\n");
        goto done;
    }
    if (service_registry_open(&cfg, &reg, err, sizeof err) != 0) {
        fprintf(stderr, "trident eval-content: %s\n", err);
        goto done;
    }
    long kind_n[KIND_COUNT] = {0}, kind_ok[KIND_COUNT] = {0}, kind_exact[KIND_COUNT] = {0}, pred_n[KIND_COUNT] = {0};
    long in_q5[KIND_COUNT] = {0}; /* rows left in a Q5 queue, per kind */
    long hazard_ok = 0, tp[CONTENT_IND_COUNT] = {0}, fp[CONTENT_IND_COUNT] = {0}, fn[CONTENT_IND_COUNT] = {0};
    for (size_t i = 0; i < n; i++) {
        if (eval_row_run(reg, &rows[i], &res[i], err, sizeof err) != 0) {
            fprintf(stderr, "trident eval-content: %s:%d: %s\n", path, rows[i].line, err);
            goto done;
        }
        const int k = rows[i].kind, pk = eval_queue_kind(res[i].queue);
        kind_n[k]++;
        pred_n[pk]++;
        kind_ok[k] += eval_queue_ok(k, res[i].queue);
        kind_exact[k] += pk == k;
        in_q5[k] += res[i].queue == TRIAGE_Q5_ROUTINE || res[i].queue == TRIAGE_Q5_REVIEW;
        hazard_ok += strcmp(res[i].hazard, rows[i].hazard) == 0;
        for (int d = 0; d < CONTENT_IND_COUNT; d++) {
            tp[d] += rows[i].want[d] && res[i].got[d];
            fp[d] += !rows[i].want[d] && res[i].got[d];
            fn[d] += rows[i].want[d] && !res[i].got[d];
        }
    }
    const long emergencies = kind_n[KIND_CRITICAL] + kind_n[KIND_SERIOUS];
    const long emergencies_ok = kind_ok[KIND_CRITICAL] + kind_ok[KIND_SERIOUS];
    char want[512], got[512];
    if (as_json) {
        json_t *o = json_object(), *kinds = json_object(), *inds = json_object(), *misses = json_array();
        int bad = !o || !kinds || !inds || !misses;
        for (int k = 0; k < KIND_COUNT && !bad; k++)
            bad |= json_object_set_new(kinds, kind_names[k],
                                       json_pack("{s:I, s:I, s:f, s:f}", "n", (json_int_t)kind_n[k], "predicted",
                                                 (json_int_t)pred_n[k], "recall", eval_ratio(kind_exact[k], kind_n[k]),
                                                 "precision", eval_ratio(kind_exact[k], pred_n[k])));
        for (int d = 0; d < CONTENT_IND_COUNT && !bad; d++)
            bad |= json_object_set_new(inds, content_indicator_name((content_indicator)d),
                                       json_pack("{s:b, s:I, s:I, s:I, s:f, s:f}", "critical",
                                                 content_indicator_is_critical((content_indicator)d), "tp",
                                                 (json_int_t)tp[d], "fp", (json_int_t)fp[d], "fn", (json_int_t)fn[d],
                                                 "recall", eval_ratio(tp[d], tp[d] + fn[d]), "precision",
                                                 eval_ratio(tp[d], tp[d] + fp[d])));
        for (size_t i = 0; i < n && !bad; i++) {
            int qok = eval_queue_ok(rows[i].kind, res[i].queue), hok = strcmp(res[i].hazard, rows[i].hazard) == 0;
            int iok = memcmp(rows[i].want, res[i].got, sizeof res[i].got) == 0;
            if (qok && hok && iok) continue;
            bad |= json_array_append_new(
                misses, json_pack("{s:s, s:s, s:s, s:b, s:s, s:s, s:b, s:s, s:s, s:b, s:s}", "id", rows[i].id, "kind",
                                  kind_names[rows[i].kind], "queue", triage_queue_name(res[i].queue), "queue_ok", qok,
                                  "expected_hazard", rows[i].hazard, "hazard", res[i].hazard, "hazard_ok", hok,
                                  "expected_indicators", eval_indicator_list(rows[i].want, want, sizeof want),
                                  "indicators", eval_indicator_list(res[i].got, got, sizeof got), "indicators_ok", iok,
                                  "transcript", rows[i].text));
        }
        if (!bad)
            bad |= json_object_set_new(o, "file", json_string(path)) |
                   json_object_set_new(o, "rows", json_integer((json_int_t)n)) |
                   json_object_set_new(o, "confidence", json_real(EVAL_CONFIDENCE)) |
                   json_object_set_new(o, "distress", json_real(EVAL_DISTRESS)) |
                   json_object_set_new(o, "triage_rules", json_string(triage_rules_name(cfg.triage.rules))) |
                   json_object_set_new(o, "critical_q1", eval_share_json(kind_ok[KIND_CRITICAL], kind_n[KIND_CRITICAL])) |
                   json_object_set_new(o, "serious_q1_q2", eval_share_json(kind_ok[KIND_SERIOUS], kind_n[KIND_SERIOUS])) |
                   json_object_set_new(o, "emergency_q1_q2", eval_share_json(emergencies_ok, emergencies)) |
                   json_object_set_new(o, "routine_q3_q5", eval_share_json(kind_ok[KIND_ROUTINE], kind_n[KIND_ROUTINE])) |
                   json_object_set_new(o, "hazard_accuracy", eval_share_json(hazard_ok, (long)n)) |
                   json_object_set_new(o, "emergency_q5", eval_share_json(in_q5[KIND_CRITICAL] + in_q5[KIND_SERIOUS], emergencies)) |
                   json_object_set_new(o, "routine_q5", eval_share_json(in_q5[KIND_ROUTINE], kind_n[KIND_ROUTINE])) |
                   json_object_set(o, "kinds", kinds) | json_object_set(o, "indicators", inds) |
                   json_object_set(o, "misses", misses);
        char *s = bad ? NULL : json_dumps(o, JSON_INDENT(2));
        json_decref(o);
        json_decref(kinds);
        json_decref(inds);
        json_decref(misses);
        if (!s) {
            fprintf(stderr, "trident eval-content: out of memory\n");
            goto done;
        }
        puts(s);
        free(s);
    } else {
        printf("%s: %zu rows, confidence %.1f, distress %.1f, triage rules %s\n\n", path, n, EVAL_CONFIDENCE,
               EVAL_DISTRESS, triage_rules_name(cfg.triage.rules));
        printf("critical -> Q1                %4ld/%-4ld %6.1f %%\n", kind_ok[KIND_CRITICAL], kind_n[KIND_CRITICAL],
               100 * eval_ratio(kind_ok[KIND_CRITICAL], kind_n[KIND_CRITICAL]));
        printf("serious -> Q1/Q2              %4ld/%-4ld %6.1f %%\n", kind_ok[KIND_SERIOUS], kind_n[KIND_SERIOUS],
               100 * eval_ratio(kind_ok[KIND_SERIOUS], kind_n[KIND_SERIOUS]));
        printf("critical+serious -> Q1/Q2     %4ld/%-4ld %6.1f %%\n", emergencies_ok, emergencies,
               100 * eval_ratio(emergencies_ok, emergencies));
        printf("routine -> Q3/Q5              %4ld/%-4ld %6.1f %%\n", kind_ok[KIND_ROUTINE], kind_n[KIND_ROUTINE],
               100 * eval_ratio(kind_ok[KIND_ROUTINE], kind_n[KIND_ROUTINE]));
        printf("hazard right                  %4ld/%-4zu %6.1f %%\n", hazard_ok, n, 100 * eval_ratio(hazard_ok, (long)n));
        printf("critical+serious left in Q5   %4ld/%-4ld %6.1f %%\n", in_q5[KIND_CRITICAL] + in_q5[KIND_SERIOUS], emergencies,
               100 * eval_ratio(in_q5[KIND_CRITICAL] + in_q5[KIND_SERIOUS], emergencies));
        printf("routine in Q5 (rest Q3)       %4ld/%-4ld %6.1f %%\n\n", in_q5[KIND_ROUTINE], kind_n[KIND_ROUTINE],
               100 * eval_ratio(in_q5[KIND_ROUTINE], kind_n[KIND_ROUTINE]));
        printf("kind (Q1 = critical, Q2 = serious, Q3/Q5 = routine)   n  recall  precision\n");
        for (int k = 0; k < KIND_COUNT; k++)
            printf("  %-50s %4ld  %5.1f %%  %5.1f %%\n", kind_names[k], kind_n[k], 100 * eval_ratio(kind_exact[k], kind_n[k]),
                   100 * eval_ratio(kind_exact[k], pred_n[k]));
        printf("\nindicator                   tp   fp   fn  recall  precision\n");
        for (int d = 0; d < CONTENT_IND_COUNT; d++)
            printf("  %-22s %5ld %4ld %4ld  %5.1f %%  %5.1f %%\n", content_indicator_name((content_indicator)d), tp[d],
                   fp[d], fn[d], 100 * eval_ratio(tp[d], tp[d] + fn[d]), 100 * eval_ratio(tp[d], tp[d] + fp[d]));
        printf("\nmisses (id: expected -> got; transcript)\n");
        for (size_t i = 0; i < n; i++) {
            int qok = eval_queue_ok(rows[i].kind, res[i].queue), hok = strcmp(res[i].hazard, rows[i].hazard) == 0;
            int iok = memcmp(rows[i].want, res[i].got, sizeof res[i].got) == 0;
            if (qok && hok && iok) continue;
            printf("  %s:", rows[i].id);
            if (!qok) printf(" queue %s -> %s;", kind_names[rows[i].kind], triage_queue_name(res[i].queue));
            if (!hok) printf(" hazard %s -> %s;", rows[i].hazard, res[i].hazard);
            if (!iok)
                printf(" indicators %s -> %s;", eval_indicator_list(rows[i].want, want, sizeof want),
                       eval_indicator_list(res[i].got, got, sizeof got));
            printf(" \"%s\"\n", rows[i].text);
        }
    }
    status = 0;
done:
    service_registry_close(reg);
    free(res);
    free(rows);
    free(text);
    return status;
}
