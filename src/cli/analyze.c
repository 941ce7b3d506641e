/* analyze.c — `trident analyze`: the server's analysis pipeline on one recording, or
 * content + triage alone on a given transcript. Prints the /api/analyze JSON. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "base/error.h"
#include "base/log.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "service/pipeline.h"
#include "service/service.h"

static void analyze_usage(FILE *out) {
    fprintf(out,
            "usage: trident analyze [--model DIR] [--lora DIR] [--quant q8] [--no-asr]\n"
            "                       [--triage-rules R] [--distress-model calibrated|paper] [--json] FILE\n"
            "       trident analyze --transcript TEXT [--confidence C] [--distress D] [--triage-rules R] --json\n\n"
            "Runs the triage pipeline (decode → ASR ‖ bio-acoustics → content → triage) on a\n"
            "recording in any format libsndfile reads (" AUDIO_ACCEPTED_FORMATS "),\n"
            "at any rate and channel count (resampled to 16 kHz mono), and prints the JSON that\n"
            "POST /api/analyze returns. Without --model (or with --no-asr) ASR is skipped: the\n"
            "transcript is empty, confidence 0, and triage runs on the distress path.\n\n"
            "With --transcript, runs content extraction and triage alone on TEXT\n"
            "(confidence default 1, distress default 0) and prints {\"nlp\", \"triage\"}.\n\n"
            "options:\n"
            "  --model DIR        Whisper model directory (Hugging Face layout)\n"
            "  --lora DIR         PEFT LoRA adapter merged at load\n"
            "  --quant q8         8-bit decoder weights converted at load (faster)\n"
            "  --no-asr           skip ASR even with a model\n"
            "  --distress-model M calibrated (default): distress terms independent of recording\n"
            "                     level and line; paper: the original formula, for comparison\n"
            "                     (environment TRIDENT_DISTRESS_MODEL; the flag wins)\n"
            "  --audio-ctx-fit    encode a recording shorter than 30 s over its own frames only\n"
            "                     (faster; changes the model's input) [TRIDENT_AUDIO_CTX_FIT=1]\n"
            "  --threads N        inference threads (default: all cores)\n"
            "  --language CODE    decoding language (default en; auto detects)\n"
            "  --json             print JSON (default: a short human-readable summary)\n"
            "  --transcript TEXT  analyse this transcript instead of a recording\n"
            "  --confidence C     ASR confidence for --transcript, in [0, 1] (default 1)\n"
            "  --distress D       vocal distress for --transcript, in [0, 1] (default 0)\n"
            "  --triage-rules R   critical (default): a critical indicator in the words is Q1, a\n"
            "                     serious emergency at least Q2; paper: the paper's matrix alone\n"
            "                     (environment: TRIDENT_TRIAGE_RULES)\n");
}

static int parse_unit(const char *flag, const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0 && v <= 1)) {
        fprintf(stderr, "trident analyze: %s must be a number in [0, 1], got '%s'\n", flag, s);
        return -1;
    }
    *out = v;
    return 0;
}

static void print_summary(json_t *o) {
    json_t *tr = json_object_get(o, "triage");
    json_t *bio = json_object_get(o, "bio_acoustic");
    json_t *nlp = json_object_get(o, "nlp");
    const char *text = json_string_value(json_object_get(o, "transcript"));
    if (text) printf("transcript:      %s\n", text[0] ? text : "(empty)");
    json_t *asr = json_object_get(o, "asr");
    const char *reason = json_string_value(json_object_get(asr, "reason"));
    if (reason) printf("asr:             %s\n", reason);
    if (json_object_get(o, "confidence")) printf("confidence:      %.3f\n", json_number_value(json_object_get(o, "confidence")));
    if (bio) {
        const char *model = json_string_value(json_object_get(bio, "distress_model"));
        json_t *models = json_object_get(bio, "models");
        const char *other = model && strcmp(model, "paper") == 0 ? "calibrated" : "paper";
        printf("distress:        %.3f (%s model; %s: %.3f)\n", json_number_value(json_object_get(bio, "distress_score")),
               model ? model : "?", other,
               json_number_value(json_object_get(json_object_get(models, other), "distress_score")));
    }
    printf("content score:   %.3f\n", json_number_value(json_object_get(nlp, "content_score")));
    printf("queue:           %s (priority %lld)%s%s\n", json_string_value(json_object_get(tr, "queue")),
           (long long)json_integer_value(json_object_get(tr, "priority_level")),
           json_is_true(json_object_get(tr, "flag_audio_review")) ? ", audio review" : "",
           json_is_true(json_object_get(tr, "escalation_required")) ? ", escalation required" : "");
    printf("reasoning:       %s\n", json_string_value(json_object_get(tr, "reasoning")));
    printf("dispatcher:      %s\n", json_string_value(json_object_get(tr, "dispatcher_action")));
}

static int print_result(json_t *o, int as_json) {
    if (as_json) {
        char *s = json_dumps(o, JSON_INDENT(2));
        if (!s) {
            fprintf(stderr, "trident analyze: out of memory\n");
            return 1;
        }
        puts(s);
        free(s);
    } else {
        print_summary(o);
    }
    return 0;
}

int cli_analyze(int argc, char **argv) {
    const char *model = NULL, *lora = NULL, *file = NULL, *transcript = NULL, *language = "en";
    const char *distress_model = NULL;
    int no_asr = 0, audio_ctx_fit = cli_audio_ctx_fit_env(), as_json = 0, threads = 0, have_conf = 0, have_dist = 0;
    whisper_weights weights = WHISPER_WEIGHTS_NATIVE;
    double confidence = 1, distress = 0;
    const char *rules = getenv("TRIDENT_TRIAGE_RULES");
    if (rules && !*rules) rules = NULL;
    for (int a = 1; a < argc; a++) {
        const char *o = argv[a];
        int has_val = a + 1 < argc;
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            analyze_usage(stdout);
            return 0;
        } else if (strcmp(o, "--json") == 0) {
            as_json = 1;
        } else if (strcmp(o, "--no-asr") == 0) {
            no_asr = 1;
        } else if (strcmp(o, "--audio-ctx-fit") == 0) {
            audio_ctx_fit = 1;
        } else if (has_val && strcmp(o, "--model") == 0) {
            model = argv[++a];
        } else if (has_val && strcmp(o, "--lora") == 0) {
            lora = argv[++a];
        } else if (has_val && strcmp(o, "--distress-model") == 0) {
            distress_model = argv[++a];
        } else if (has_val && strcmp(o, "--language") == 0) {
            language = argv[++a];
        } else if (has_val && strcmp(o, "--quant") == 0) {
            if (cli_quant_parse(argv[++a], &weights) != 0) {
                fprintf(stderr, "trident analyze: --quant takes q8 or none, not '%s'\n", argv[a]);
                return 2;
            }
        } else if (has_val && strcmp(o, "--threads") == 0) {
            threads = atoi(argv[++a]);
        } else if (has_val && strcmp(o, "--triage-rules") == 0) {
            rules = argv[++a];
        } else if (has_val && strcmp(o, "--transcript") == 0) {
            transcript = argv[++a];
        } else if (has_val && strcmp(o, "--confidence") == 0) {
            if (parse_unit(o, argv[++a], &confidence) != 0) return 2;
            have_conf = 1;
        } else if (has_val && strcmp(o, "--distress") == 0) {
            if (parse_unit(o, argv[++a], &distress) != 0) return 2;
            have_dist = 1;
        } else if (o[0] == '-' && o[1] != '\0') {
            fprintf(stderr, "trident analyze: unknown option or missing value '%s' (see --help)\n", o);
            return 2;
        } else if (!file) {
            file = o;
        } else {
            fprintf(stderr, "trident analyze: more than one input file ('%s', '%s')\n", file, o);
            return 2;
        }
    }
    if (transcript && file) {
        fprintf(stderr, "trident analyze: give either --transcript TEXT or a FILE, not both\n");
        return 2;
    }
    if (!transcript && !file) {
        analyze_usage(stderr);
        return 2;
    }
    bio_distress_model dmodel = BIO_DISTRESS_CALIBRATED;
    const char *dm_env = getenv("TRIDENT_DISTRESS_MODEL");
    if (!distress_model && dm_env && *dm_env && bio_distress_model_parse(dm_env, &dmodel) != 0) {
        fprintf(stderr, "trident analyze: TRIDENT_DISTRESS_MODEL must be calibrated or paper, not '%s'\n", dm_env);
        return 2;
    }
    if (distress_model && bio_distress_model_parse(distress_model, &dmodel) != 0) {
        fprintf(stderr, "trident analyze: --distress-model takes calibrated or paper, not '%s'\n", distress_model);
        return 2;
    }
    if (!transcript && (have_conf || have_dist)) {
        fprintf(stderr, "trident analyze: --confidence and --distress apply to --transcript only\n");
        return 2;
    }

    /* stdout carries the result; stderr only warnings and errors unless TRIDENT_LOG_LEVEL says otherwise */
    if (!getenv("TRIDENT_LOG_LEVEL")) log_level_set(LOG_WARN);
    service_config cfg;
    service_config_default(&cfg);
    cfg.asr.model_dir = transcript || no_asr ? NULL : model;
    cfg.asr.lora_dir = lora;
    cfg.asr.n_threads = threads;
    cfg.asr.q8 = weights == WHISPER_WEIGHTS_Q8;
    cfg.language = language;
    cfg.audio_ctx_fit = audio_ctx_fit;
    cfg.sched.threads_per_slot = threads;
    if (rules && triage_rules_parse(rules, &cfg.triage.rules) != 0) {
        fprintf(stderr, "trident analyze: --triage-rules (TRIDENT_TRIAGE_RULES) must be paper or critical, got '%s'\n",
                rules);
        return 2;
    }
    cfg.distress_model = dmodel;
    char err[TRIDENT_ERR_SIZE];
    service_registry *reg = NULL;
    if (service_registry_open(&cfg, &reg, err, sizeof err) != 0) {
        fprintf(stderr, "trident analyze: %s\n", err);
        return 1;
    }
    int status = 1;
    json_t *out = NULL;
    if (transcript) {
        pipeline_assessment a;
        if (pipeline_assess(reg, transcript, confidence, distress, &a, err, sizeof err) != 0) {
            fprintf(stderr, "trident analyze: %s\n", err);
            goto done;
        }
        out = json_pack("{s:O, s:O}", "nlp", a.nlp, "triage", a.triage);
        pipeline_assessment_clear(&a);
    } else {
        audio_pcm pcm;
        if (audio_decode_file(file, NULL, &pcm, err, sizeof err) != 0) {
            fprintf(stderr, "trident analyze: %s\n", err);
            goto done;
        }
        if (cfg.asr.model_dir) { /* a model that does not load is a usage error here, not a degraded result */
            const whisper_model *m;
            if (asr_service_model_get(reg->asr, &m, err, sizeof err) != 0) {
                fprintf(stderr, "trident analyze: %s\n", err);
                audio_pcm_clear(&pcm);
                goto done;
            }
        }
        pipeline_options opt = {.no_asr = no_asr, .unbounded = 1};
        int rc = pipeline_analyze_pcm(reg, pcm.samples, pcm.n_samples, &opt, &out, NULL, NULL, err, sizeof err);
        audio_pcm_clear(&pcm);
        if (rc != 0) {
            fprintf(stderr, "trident analyze: %s\n", err);
            goto done;
        }
    }
    if (!out) {
        fprintf(stderr, "trident analyze: out of memory\n");
        goto done;
    }
    status = print_result(out, as_json);
done:
    json_decref(out);
    service_registry_close(reg);
    return status;
}
