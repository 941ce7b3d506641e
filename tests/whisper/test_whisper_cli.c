/* test_whisper_cli.c — `trident transcribe` as other tools use it: the --json
 * shape (fields, types, tokens equal to the reference greedy decode), the plain
 * text output, --help, and exit status 2 with a clear message for every bad
 * option or value. Runs the built binary (TRIDENT_BINARY). */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

typedef struct {
    char *out, *err;
    int status;
} run_result;

/* The file's text, or "" when it cannot be read (caller frees). */
static char *slurp(const char *path) {
    char *s = check_read_file(path, NULL);
    return s ? s : strdup("");
}

static run_result run(const char *args) {
    char cmd[4096], out[64], err[64];
    snprintf(out, sizeof out, "/tmp/trident-cli-test-%d.out", (int)getpid());
    snprintf(err, sizeof err, "/tmp/trident-cli-test-%d.err", (int)getpid());
    snprintf(cmd, sizeof cmd, "TRIDENT_MODEL= TRIDENT_LORA= '%s' transcribe %s >%s 2>%s", TRIDENT_BINARY, args, out, err);
    int st = system(cmd);
    run_result r;
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    remove(out);
    remove(err);
    return r;
}

static void run_clear(run_result *r) {
    free(r->out);
    free(r->err);
}

static char model_v2[512], model_en[512], lora_v2[512], jfk[512], long_wav[512];

static void expect_rejected(const char *what, const char *args, const char *needle) {
    run_result r = run(args);
    CHECK(r.status == 2, "%s: exit status %d, want 2", what, r.status);
    CHECK(strstr(r.err, needle) != NULL, "%s: stderr '%s' lacks '%s'", what, r.err, needle);
    CHECK(r.out[0] == '\0', "%s: nothing on stdout", what);
    run_clear(&r);
}

static int is_num(json_t *j) { return json_is_number(j); }

static void test_json(void) {
    char args[2048];
    snprintf(args, sizeof args, "--model '%s' --lora '%s' --json --language en --no-timestamps --threads 2 '%s'",
             model_v2, lora_v2, jfk);
    run_result r = run(args);
    CHECK(r.status == 0, "--json exit status %d: %s", r.status, r.err);
    json_error_t e;
    json_t *j = json_loads(r.out, 0, &e);
    CHECK(j && json_is_object(j), "--json prints one JSON object (%s)", j ? "" : e.text);
    json_t *g = json_load_file(check_shared_path("whisper-ref/expected/tiny-random-v2+tiny-random-v2-lora-r8/greedy.json"),
                               0, &e);
    if (j && g) {
        CHECK(json_is_string(json_object_get(j, "text")), "text");
        CHECK(json_is_string(json_object_get(j, "language")) &&
                  strcmp(json_string_value(json_object_get(j, "language")), "en") == 0, "language en");
        CHECK(is_num(json_object_get(j, "confidence")) && is_num(json_object_get(j, "avg_logprob")) &&
                  is_num(json_object_get(j, "no_speech_prob")), "confidence, avg_logprob, no_speech_prob");
        double avg = json_number_value(json_object_get(j, "avg_logprob"));
        CHECK_NEAR(json_number_value(json_object_get(j, "confidence")), exp(avg), 1e-9, "confidence = exp(avg_logprob)");
        CHECK_NEAR(avg, json_number_value(json_object_get(g, "avg_logprob")), 1e-3, "avg_logprob vs greedy.json");
        json_t *segs = json_object_get(j, "segments");
        CHECK(json_is_array(segs) && json_array_size(segs) >= 1, "segments");
        size_t i;
        json_t *s;
        json_array_foreach(segs, i, s) {
            CHECK(json_is_integer(json_object_get(s, "seek")) && is_num(json_object_get(s, "start")) &&
                      is_num(json_object_get(s, "end")) && json_is_string(json_object_get(s, "text")) &&
                      json_is_array(json_object_get(s, "tokens")) && is_num(json_object_get(s, "avg_logprob")) &&
                      is_num(json_object_get(s, "no_speech_prob")) && is_num(json_object_get(s, "confidence")),
                  "segment %zu fields", i);
        }
        json_t *wins = json_object_get(j, "windows");
        CHECK(json_is_array(wins) && json_array_size(wins) == 1, "one window");
        json_t *w = json_array_get(wins, 0);
        CHECK(json_is_integer(json_object_get(w, "seek")) && is_num(json_object_get(w, "temperature")) &&
                  is_num(json_object_get(w, "sum_logprob")) && is_num(json_object_get(w, "avg_logprob")) &&
                  is_num(json_object_get(w, "no_speech_prob")) && is_num(json_object_get(w, "compression_ratio")),
              "window fields");
        json_t *toks = json_object_get(w, "tokens"), *ref = json_object_get(g, "tokens");
        CHECK(json_array_size(toks) == json_array_size(ref), "window tokens: %zu, greedy.json %zu",
              json_array_size(toks), json_array_size(ref));
        int same = 1;
        json_t *t;
        json_array_foreach(toks, i, t) {
            if (!json_is_integer(json_object_get(t, "id")) || !json_is_string(json_object_get(t, "text")) ||
                !is_num(json_object_get(t, "logprob")))
                same = 0;
            if (json_integer_value(json_object_get(t, "id")) != json_integer_value(json_array_get(ref, i))) same = 0;
        }
        CHECK(same, "window tokens are {id, text, logprob} and equal greedy.json");
        CHECK_NEAR(json_number_value(json_object_get(w, "sum_logprob")), json_number_value(json_object_get(g, "sum_logprob")),
                   0.25, "window sum_logprob");
        json_t *tm = json_object_get(j, "timings");
        CHECK(is_num(json_object_get(tm, "load_ms")) && is_num(json_object_get(tm, "mel_ms")) &&
                  is_num(json_object_get(tm, "encode_ms")) && is_num(json_object_get(tm, "decode_ms")) &&
                  json_integer_value(json_object_get(tm, "n_tokens")) == (json_int_t)json_array_size(ref),
              "timings");
    }
    json_decref(g);
    json_decref(j);
    run_clear(&r);

    /* plain text: the transcript on one line, English-only model without --language */
    snprintf(args, sizeof args, "--model '%s' '%s'", model_en, jfk);
    r = run(args);
    CHECK(r.status == 0 && strlen(r.out) > 10 && r.out[0] != '{', "plain output (%d): %s", r.status, r.err);
    run_clear(&r);
}

int main(void) {
    snprintf(model_v2, sizeof model_v2, "%s", check_shared_path("whisper-ref/models/tiny-random-v2"));
    snprintf(model_en, sizeof model_en, "%s", check_shared_path("whisper-ref/models/tiny-random-en"));
    snprintf(lora_v2, sizeof lora_v2, "%s", check_shared_path("whisper-ref/lora/tiny-random-v2-lora-r8"));
    snprintf(jfk, sizeof jfk, "%s", check_shared_path("whisper-ref/jfk.wav"));
    snprintf(long_wav, sizeof long_wav, "%s", check_shared_path("whisper-ref/calls_long_16k.wav"));

    run_result r = run("--help");
    CHECK(r.status == 0 && strstr(r.out, "--model DIR") && strstr(r.out, "--condition-on-previous-text"),
          "--help: %d", r.status);
    run_clear(&r);

    test_json();

    char args[2048];
    /* issue 5's options are implemented (tests/whisper/test_whisper_decoding.c); invalid values are refused */
    snprintf(args, sizeof args, "--model '%s' --beam-size 17 '%s'", model_v2, jfk);
    expect_rejected("beam size above 16", args, "--beam-size");
    snprintf(args, sizeof args, "--model '%s' --task translate '%s'", model_en, jfk);
    expect_rejected("translate on an English-only model", args, "translate");
    snprintf(args, sizeof args, "--model '%s' --task summarise '%s'", model_v2, jfk);
    expect_rejected("unknown task", args, "--task");
    snprintf(args, sizeof args, "--model '%s' --output-format docx '%s'", model_v2, jfk);
    expect_rejected("unknown output format", args, "--output-format");
    snprintf(args, sizeof args, "--model '%s' --temperature -1 '%s'", model_v2, jfk);
    expect_rejected("negative temperature", args, "--temperature");
    snprintf(args, sizeof args, "--model '%s' --bogus '%s'", model_v2, jfk);
    expect_rejected("unknown option", args, "unknown option");
    snprintf(args, sizeof args, "--model '%s' --beam-size many '%s'", model_v2, jfk);
    expect_rejected("bad number", args, "--beam-size");
    snprintf(args, sizeof args, "'%s'", jfk);
    expect_rejected("no model", args, "--model");
    snprintf(args, sizeof args, "--model '%s' --condition-on-previous-text maybe '%s'", model_v2, jfk);
    expect_rejected("bad on/off", args, "on or off");
    snprintf(args, sizeof args, "--model '%s' --quant q4 '%s'", model_v2, jfk);
    expect_rejected("unknown quantisation", args, "--quant");

    /* --quant q8 loads 8-bit weights (the load log says so) and transcribes */
    snprintf(args, sizeof args, "--model '%s' --quant q8 '%s'", model_v2, jfk);
    r = run(args);
    CHECK(r.status == 0 && r.out[0] != '\0' && strstr(r.err, "weights=q8"), "--quant q8: status %d, %s", r.status,
          r.err);
    run_clear(&r);

    snprintf(args, sizeof args, "--model /nonexistent/model '%s'", jfk);
    r = run(args);
    CHECK(r.status == 1 && strstr(r.err, "/nonexistent/model"), "missing model: status %d, %s", r.status, r.err);
    run_clear(&r);
    snprintf(args, sizeof args, "--model '%s' /nonexistent/audio.wav", model_v2);
    r = run(args);
    CHECK(r.status == 1 && strstr(r.err, "audio.wav"), "missing audio: status %d, %s", r.status, r.err);
    run_clear(&r);
    snprintf(args, sizeof args, "--model '%s' --language xx '%s'", model_v2, jfk);
    r = run(args);
    CHECK(r.status == 2 && strstr(r.err, "xx"), "unknown language: status %d, %s", r.status, r.err);
    run_clear(&r);
    return check_summary();
}
