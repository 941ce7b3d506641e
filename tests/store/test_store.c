/* test_store.c — the call store on real SQLite files in a fresh temporary
 * directory: uploads and live calls, reads, filters and paging, counts,
 * reopening, migrations and refused databases, malicious ids, bad input,
 * concurrent writers, the API's JSON, the dispatch lifecycle (every
 * transition, conflicts, the history, the queue order) and concurrent claims.
 *
 * `test_store postgresql://...` runs the backend-independent tests against a
 * PostgreSQL server instead (tests/store/run_postgres.sh starts a throw-away
 * one); its tables calls and schema_version are dropped and recreated. */
#include <errno.h>
#include <libpq-fe.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sndfile.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "check.h"
#include "store/backend.h"
#include "store/store.h"

static char tmpdir[256];
static char err[TRIDENT_ERR_SIZE];
/* PostgreSQL mode: the server URL, and the "database names" already wiped. */
static const char *pg_url;
static char pg_seen[32][32];
static int pg_seen_count;

/* Runs constant SQL on the PostgreSQL server directly; returns 0 on success. */
static int pg_raw(const char *sql) {
    PGconn *c = PQconnectdb(pg_url);
    int ok = PQstatus(c) == CONNECTION_OK;
    if (ok) {
        PQclear(PQexec(c, "SET client_min_messages = warning"));
        PGresult *r = PQexec(c, sql);
        ok = r && (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK);
        if (!ok) fprintf(stderr, "pg_raw: %s", PQerrorMessage(c));
        PQclear(r);
    }
    PQfinish(c);
    return ok ? 0 : -1;
}

static void path_in(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", tmpdir, name); }

/* Opens the store "name": a SQLite file in tmpdir, or (PostgreSQL mode) the
 * server's tables, wiped the first time a name is used. */
static int open_at(const char *name, store **s, const store_options *opt) {
    char path[512];
    err[0] = '\0';
    if (pg_url) {
        int seen = 0;
        for (int i = 0; i < pg_seen_count; i++) seen |= strcmp(pg_seen[i], name) == 0;
        if (!seen) {
            CHECK(pg_raw("DROP TABLE IF EXISTS audit_log, sessions, api_tokens, call_history, calls, schema_version") == 0, "wipe PostgreSQL tables");
            if (pg_seen_count < 32) snprintf(pg_seen[pg_seen_count++], sizeof pg_seen[0], "%s", name);
        }
        store_options o = {0};
        if (opt) o = *opt;
        path_in(path, sizeof path, "recordings");
        if (!o.recordings_dir) o.recordings_dir = path;
        return store_open(pg_url, &o, s, err, sizeof err);
    }
    path_in(path, sizeof path, name);
    return store_open(path, opt, s, err, sizeof err);
}

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL, "create %s", path);
    if (!f) return;
    CHECK(fwrite(data, 1, n, f) == n, "write %s", path);
    fclose(f);
}

/* Runs constant SQL on a database file directly (the test's view from outside the store). */
static int raw_exec(const char *path, const char *sql) {
    sqlite3 *db = NULL;
    int rc = sqlite3_open(path, &db);
    if (rc == SQLITE_OK) rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    sqlite3_close(db);
    return rc;
}

static long long raw_int(const char *path, const char *sql) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_open(path, &db) == SQLITE_OK && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static const char *ANALYSIS =
    "{\"transcript\":\"fire at the market\",\"confidence\":0.82,"
    "\"nlp\":{\"entities\":{\"mechanism_hazard\":\"fire\"},\"content_score\":0.55},"
    "\"bio_acoustic\":{\"distress_score\":0.61},"
    "\"triage\":{\"queue\":\"Q1-IMMEDIATE\",\"priority_level\":1,\"flag_audio_review\":false,"
    "\"escalation_required\":true}}";

static store_fields sample_fields(void) {
    store_fields f = {0};
    f.duration_s = 12.5;
    f.transcript = "fire at the market";
    f.confidence = 0.82;
    f.content_score = 0.55;
    f.distress_score = 0.61;
    f.queue = "Q1-IMMEDIATE";
    f.priority_level = 1;
    f.flag_audio_review = 0;
    f.escalation_required = 1;
    f.analysis_json = ANALYSIS;
    f.utterance_count = 1;
    return f;
}

/* A real 16-kHz mono WAV written with libsndfile (as the audio module would). */
static int write_wav(const char *path) {
    SF_INFO info = {.samplerate = 16000, .channels = 1, .format = SF_FORMAT_WAV | SF_FORMAT_PCM_16};
    SNDFILE *f = sf_open(path, SFM_WRITE, &info);
    if (!f) return -1;
    float pcm[1600];
    for (int i = 0; i < 1600; i++) pcm[i] = 0.25f * sinf(2.0f * 3.14159265f * 440.0f * (float)i / 16000.0f);
    sf_count_t w = sf_writef_float(f, pcm, 1600);
    sf_close(f);
    return w == 1600 ? 0 : -1;
}

/* ---- uploads, reads and JSON ----------------------------------------------- */

static void test_upload_roundtrip(void) {
    store *s = NULL;
    int rc = open_at("main.db", &s, NULL);
    CHECK(rc == 0, "open main.db: %s", err);
    if (rc) return;
    store_info info;
    store_info_get(s, &info);
    CHECK(strcmp(info.backend, pg_url ? "postgresql" : "sqlite") == 0, "backend %s", info.backend);
    CHECK(info.schema_version == STORE_SCHEMA_VERSION, "schema version %d", info.schema_version);
    char expect_rec[512];
    /* one recordings directory per database: <db>-recordings (PostgreSQL: the one given) */
    path_in(expect_rec, sizeof expect_rec, pg_url ? "recordings" : "main.db-recordings");
    char real_rec[PATH_MAX];
    CHECK(realpath(expect_rec, real_rec) != NULL, "recordings directory created");
    CHECK(strcmp(info.recordings_dir, real_rec) == 0, "recordings dir %s vs %s", info.recordings_dir, real_rec);

    char id[STORE_ID_SIZE] = "";
    CHECK(store_id_generate(id, err, sizeof err) == 0, "generate id");
    CHECK(store_id_valid(id), "generated id valid: %s", id);
    CHECK(id[14] == '4', "UUID version 4: %s", id);
    CHECK(strchr("89ab", id[19]) != NULL, "RFC 4122 variant: %s", id);
    char rec[PATH_MAX];
    CHECK(store_recording_path(s, id, rec, sizeof rec, err, sizeof err) == 0, "recording path: %s", err);
    char expect[PATH_MAX + 64];
    snprintf(expect, sizeof expect, "%s/%s.wav", real_rec, id);
    CHECK(strcmp(rec, expect) == 0, "recording path %s vs %s", rec, expect);
    CHECK(write_wav(rec) == 0, "write wav %s", rec);
    char audio_name[64];
    snprintf(audio_name, sizeof audio_name, "%s.wav", id);

    store_fields f = sample_fields();
    char saved_id[STORE_ID_SIZE];
    memcpy(saved_id, id, sizeof id);
    rc = store_call_insert_complete(s, STORE_KIND_UPLOAD, id, "caller 1.wav", &f, audio_name, err, sizeof err);
    CHECK(rc == 0, "insert upload: %s", err);
    CHECK(strcmp(id, saved_id) == 0, "given id kept");

    store_call *c = NULL;
    rc = store_call_get(s, id, &c, err, sizeof err);
    CHECK(rc == 0 && c, "get upload: %s", err);
    if (c) {
        CHECK(strcmp(c->id, id) == 0, "id");
        CHECK(c->kind == STORE_KIND_UPLOAD, "kind");
        CHECK(c->status == STORE_STATUS_COMPLETED, "status %d", c->status);
        CHECK(c->created_at > 1.6e9 && c->updated_at >= c->created_at, "times %f %f", c->created_at, c->updated_at);
        CHECK_NEAR(c->duration_s, 12.5, 0, "duration");
        CHECK(strcmp(c->transcript, "fire at the market") == 0, "transcript %s", c->transcript);
        CHECK_NEAR(c->confidence, 0.82, 0, "confidence");
        CHECK_NEAR(c->content_score, 0.55, 0, "content");
        CHECK_NEAR(c->distress_score, 0.61, 0, "distress");
        CHECK(c->queue && strcmp(c->queue, "Q1-IMMEDIATE") == 0, "queue");
        CHECK(c->priority_level == 1, "priority");
        CHECK(!c->flag_audio_review && c->escalation_required, "flags");
        CHECK(c->analysis_json && strcmp(c->analysis_json, ANALYSIS) == 0, "analysis json kept verbatim");
        CHECK(c->audio_path && strcmp(c->audio_path, audio_name) == 0, "audio path");
        CHECK(c->filename && strcmp(c->filename, "caller 1.wav") == 0, "filename");
        CHECK(c->utterance_count == 1, "utterances");

        json_t *j = store_call_to_json(c);
        CHECK(j != NULL, "to json");
        if (j) {
            CHECK(strcmp(json_string_value(json_object_get(j, "id")), id) == 0, "json id");
            CHECK(strcmp(json_string_value(json_object_get(j, "kind")), "upload") == 0, "json kind");
            CHECK(strcmp(json_string_value(json_object_get(j, "status")), "completed") == 0, "json status");
            const char *created = json_string_value(json_object_get(j, "created_at"));
            CHECK(created && strlen(created) == 24 && created[10] == 'T' && created[23] == 'Z', "iso time %s",
                  created ? created : "(null)");
            CHECK_NEAR(json_real_value(json_object_get(j, "duration")), 12.5, 0, "json duration");
            CHECK_NEAR(json_real_value(json_object_get(j, "confidence")), 0.82, 0, "json confidence");
            CHECK(strcmp(json_string_value(json_object_get(j, "queue")), "Q1-IMMEDIATE") == 0, "json queue");
            CHECK(json_integer_value(json_object_get(j, "priority_level")) == 1, "json priority");
            CHECK(json_is_true(json_object_get(j, "escalation_required")), "json escalation");
            CHECK(json_is_false(json_object_get(j, "flag_audio_review")), "json audio review");
            CHECK(json_is_true(json_object_get(json_object_get(j, "flags"), "escalation_required")), "json flags");
            json_t *a = json_object_get(j, "analysis");
            CHECK(json_is_object(a), "analysis is an object");
            CHECK(strcmp(json_string_value(json_object_get(json_object_get(a, "triage"), "queue")), "Q1-IMMEDIATE") == 0,
                  "analysis.triage.queue");
            char url[96];
            snprintf(url, sizeof url, "/api/calls/%s/audio", id);
            const char *au = json_string_value(json_object_get(j, "audio_url"));
            CHECK(au && strcmp(au, url) == 0, "audio_url %s", au ? au : "(null)");
            char *dump = json_dumps(j, 0);
            CHECK(dump != NULL, "json dumps");
            free(dump);
            json_decref(j);
        }
        store_call_free(c);
    }

    char audio[PATH_MAX];
    rc = store_call_audio_file(s, id, audio, sizeof audio, err, sizeof err);
    CHECK(rc == 0 && strcmp(audio, rec) == 0, "audio file: %s", err);
    SF_INFO in = {0};
    SNDFILE *sf = sf_open(audio, SFM_READ, &in);
    CHECK(sf && in.frames == 1600 && in.samplerate == 16000, "stored recording readable");
    if (sf) sf_close(sf);

    /* Upper-case hex finds the same call. */
    char upper[STORE_ID_SIZE];
    for (int i = 0; i < STORE_ID_SIZE; i++) {
        upper[i] = id[i];
        if (id[i] >= 'a' && id[i] <= 'f') upper[i] = "ABCDEF"[id[i] - 'a'];
    }
    c = NULL;
    CHECK(store_call_get(s, upper, &c, err, sizeof err) == 0 && c && strcmp(c->id, id) == 0, "upper-case id found");
    store_call_free(c);

    /* A generated id; no recording, no analysis: JSON has no audio_url, analysis null. */
    char id2[STORE_ID_SIZE] = "";
    store_fields f2 = {.transcript = NULL, .confidence = 0.3};
    rc = store_call_insert_complete(s, STORE_KIND_UPLOAD, id2, NULL, &f2, NULL, err, sizeof err);
    CHECK(rc == 0 && store_id_valid(id2), "insert with generated id: %s", err);
    CHECK(strcmp(id2, id) != 0, "distinct ids");
    c = NULL;
    CHECK(store_call_get(s, id2, &c, err, sizeof err) == 0, "get second");
    if (c) {
        CHECK(c->transcript && c->transcript[0] == '\0', "NULL transcript reads back empty");
        CHECK(!c->queue && !c->analysis_json && !c->audio_path && !c->filename, "NULLs read back NULL");
        json_t *j = store_call_to_json(c);
        CHECK(j && json_is_null(json_object_get(j, "analysis")) && !json_object_get(j, "audio_url") &&
                  json_is_null(json_object_get(j, "queue")),
              "json without recording or analysis");
        json_decref(j);
        store_call_free(c);
    }
    CHECK(store_call_audio_file(s, id2, audio, sizeof audio, err, sizeof err) == TRIDENT_ENOTFOUND,
          "no recording → not found");

    /* Recording row present but file deleted → not found, cleanly. */
    char id3[STORE_ID_SIZE] = "";
    CHECK(store_call_insert_complete(s, STORE_KIND_UPLOAD, id3, NULL, &f, "gone.wav", err, sizeof err) == 0, "insert 3");
    CHECK(store_call_audio_file(s, id3, audio, sizeof audio, err, sizeof err) == TRIDENT_ENOTFOUND,
          "missing recording file → not found");
    store_close(s);
}

/* ---- live calls ----------------------------------------------------------- */

static void test_live_lifecycle(void) {
    store *s = NULL;
    int rc = open_at("live.db", &s, NULL);
    CHECK(rc == 0, "open live.db: %s", err);
    if (rc) return;
    char id[STORE_ID_SIZE] = "";
    rc = store_call_create(s, STORE_KIND_LIVE, id, NULL, NULL, NULL, NULL, err, sizeof err);
    CHECK(rc == 0 && store_id_valid(id), "create live: %s", err);
    store_call *c = NULL;
    CHECK(store_call_get(s, id, &c, err, sizeof err) == 0 && c && c->status == STORE_STATUS_IN_PROGRESS &&
              c->kind == STORE_KIND_LIVE && c->utterance_count == 0,
          "fresh live call in progress");
    store_call_free(c);
    store_counts n;
    CHECK(store_counts_get(s, &n, err, sizeof err) == 0 && n.in_progress == 1 && n.live_calls_saved == 1, "counts live");

    const char *parts[] = {"help", "help my granny", "help my granny not breathing"};
    for (int u = 0; u < 3; u++) {
        store_fields f = {.duration_s = 2.0 * (u + 1), .transcript = parts[u], .confidence = 0.5 + 0.1 * u,
                          .content_score = 0.2 * u, .distress_score = 0.7, .queue = u ? "Q1-IMMEDIATE" : "Q3-MONITOR",
                          .priority_level = u ? 1 : 3, .flag_audio_review = 1, .analysis_json = "{\"utterance\":1}",
                          .utterance_count = u + 1};
        rc = store_call_update_progress(s, id, &f, err, sizeof err);
        CHECK(rc == 0, "progress %d: %s", u, err);
        c = NULL;
        CHECK(store_call_get(s, id, &c, err, sizeof err) == 0 && c, "get after progress");
        if (c) {
            CHECK(strcmp(c->transcript, parts[u]) == 0, "transcript so far %s", c->transcript);
            CHECK(c->utterance_count == u + 1, "utterances %d", c->utterance_count);
            CHECK(c->status == STORE_STATUS_IN_PROGRESS, "still in progress");
            CHECK(!c->audio_path, "no recording while live");
            store_call_free(c);
        }
    }
    char rec[PATH_MAX], name[64];
    CHECK(store_recording_path(s, id, rec, sizeof rec, err, sizeof err) == 0, "rec path");
    CHECK(write_wav(rec) == 0, "write live wav");
    snprintf(name, sizeof name, "%s.wav", id);
    store_fields final = sample_fields();
    final.utterance_count = 3;
    rc = store_call_finalize(s, id, STORE_STATUS_COMPLETED, &final, name, err, sizeof err);
    CHECK(rc == 0, "finalize: %s", err);
    c = NULL;
    CHECK(store_call_get(s, id, &c, err, sizeof err) == 0 && c, "get final");
    if (c) {
        CHECK(c->status == STORE_STATUS_COMPLETED, "completed");
        CHECK(c->audio_path && strcmp(c->audio_path, name) == 0, "audio stored");
        CHECK(c->utterance_count == 3 && strcmp(c->transcript, "fire at the market") == 0, "final fields");
        CHECK(c->updated_at >= c->created_at, "updated_at");
        store_call_free(c);
    }
    char audio[PATH_MAX];
    CHECK(store_call_audio_file(s, id, audio, sizeof audio, err, sizeof err) == 0, "live audio file: %s", err);

    /* A finished call no longer takes progress or a second finalisation. */
    store_fields late = {.transcript = "late"};
    CHECK(store_call_update_progress(s, id, &late, err, sizeof err) == TRIDENT_EINVAL, "progress after end: %s", err);
    CHECK(store_call_finalize(s, id, STORE_STATUS_FAILED, NULL, NULL, err, sizeof err) == TRIDENT_EINVAL,
          "second finalize refused");
    c = NULL;
    CHECK(store_call_get(s, id, &c, err, sizeof err) == 0 && c && strcmp(c->transcript, "fire at the market") == 0 &&
              c->status == STORE_STATUS_COMPLETED && c->audio_path,
          "finished call unchanged");
    store_call_free(c);

    /* A failed call, finalised without new fields: the last progress is kept. */
    char id2[STORE_ID_SIZE] = "";
    CHECK(store_call_create(s, STORE_KIND_LIVE, id2, NULL, NULL, NULL, NULL, err, sizeof err) == 0, "create 2");
    store_fields p = {.transcript = "partial", .utterance_count = 1, .duration_s = 1.0};
    CHECK(store_call_update_progress(s, id2, &p, err, sizeof err) == 0, "progress 2");
    CHECK(store_call_finalize(s, id2, STORE_STATUS_FAILED, NULL, NULL, err, sizeof err) == 0, "fail 2: %s", err);
    c = NULL;
    CHECK(store_call_get(s, id2, &c, err, sizeof err) == 0 && c && c->status == STORE_STATUS_FAILED &&
              strcmp(c->transcript, "partial") == 0 && !c->audio_path,
          "failed call keeps progress");
    store_call_free(c);

    /* Wrong arguments. */
    CHECK(store_call_finalize(s, id2, STORE_STATUS_IN_PROGRESS, NULL, NULL, err, sizeof err) == TRIDENT_EINVAL,
          "finalize to in_progress refused");
    CHECK(store_call_update_progress(s, "00000000-0000-4000-8000-000000000000", &p, err, sizeof err) ==
              TRIDENT_ENOTFOUND,
          "progress on unknown id");
    CHECK(store_call_finalize(s, "00000000-0000-4000-8000-000000000000", STORE_STATUS_COMPLETED, NULL, NULL, err,
                              sizeof err) == TRIDENT_ENOTFOUND,
          "finalize unknown id");
    char dup[STORE_ID_SIZE];
    memcpy(dup, id, sizeof dup);
    CHECK(store_call_create(s, STORE_KIND_LIVE, dup, NULL, NULL, NULL, NULL, err, sizeof err) == TRIDENT_EINVAL, "duplicate id: %s",
          err);
    char bad[STORE_ID_SIZE] = "not-a-uuid";
    CHECK(store_call_create(s, STORE_KIND_LIVE, bad, NULL, NULL, NULL, NULL, err, sizeof err) == TRIDENT_EINVAL, "invalid given id");
    char gen[STORE_ID_SIZE] = "";
    CHECK(store_call_create(s, (store_kind)7, gen, NULL, NULL, NULL, NULL, err, sizeof err) == TRIDENT_EINVAL, "bad kind");

    CHECK(store_counts_get(s, &n, err, sizeof err) == 0, "counts");
    CHECK(n.total_calls == 2 && n.live_calls_saved == 2 && n.uploads == 0 && n.in_progress == 0, "counts %lld %lld",
          (long long)n.total_calls, (long long)n.in_progress);
    store_close(s);
}

/* ---- bad field values ----------------------------------------------------- */

static void test_bad_fields(void) {
    store *s = NULL;
    if (open_at("fields.db", &s, NULL) != 0) {
        CHECK(0, "open fields.db: %s", err);
        return;
    }
    char id[STORE_ID_SIZE] = "";
    store_fields f = sample_fields();
    f.analysis_json = "{not json";
    CHECK(store_call_insert_complete(s, STORE_KIND_UPLOAD, id, NULL, &f, NULL, err, sizeof err) == TRIDENT_EINVAL,
          "analysis not JSON refused: %s", err);
    f = sample_fields();
    f.analysis_json = "[1,2]";
    CHECK(store_call_insert_complete(s, STORE_KIND_UPLOAD, id, NULL, &f, NULL, err, sizeof err) == TRIDENT_EINVAL,
          "analysis not an object refused");
    f = sample_fields();
    f.confidence = NAN;
    CHECK(store_call_insert_complete(s, STORE_KIND_UPLOAD, id, NULL, &f, NULL, err, sizeof err) == TRIDENT_EINVAL,
          "NaN refused");
    f = sample_fields();
    f.duration_s = INFINITY;
    CHECK(store_call_insert_complete(s, STORE_KIND_UPLOAD, id, NULL, &f, NULL, err, sizeof err) == TRIDENT_EINVAL,
          "Inf refused");
    f = sample_fields();
    const char *bad_paths[] = {"../x.wav", "/etc/passwd", "a/b.wav", ".hidden", "", "x\n.wav"};
    for (size_t i = 0; i < sizeof bad_paths / sizeof bad_paths[0]; i++)
        CHECK(store_call_insert_complete(s, STORE_KIND_UPLOAD, id, NULL, &f, bad_paths[i], err, sizeof err) ==
                  TRIDENT_EINVAL,
              "audio path '%s' refused", bad_paths[i]);
    store_counts n;
    CHECK(store_counts_get(s, &n, err, sizeof err) == 0 && n.total_calls == 0, "nothing stored by refused inserts");
    CHECK(id[0] == '\0', "id untouched by a failed insert");

    /* Non-UTF-8 text and control characters are stored cleaned; JSON still works. */
    f = sample_fields();
    f.transcript = "caf\xc3\xa9 \xff\xfe broken \xe2\x82 end\x01";
    int rc = store_call_insert_complete(s, STORE_KIND_UPLOAD, id, "name\xc0.wav", &f, NULL, err, sizeof err);
    CHECK(rc == 0, "insert non-UTF-8: %s", err);
    store_call *c = NULL;
    CHECK(store_call_get(s, id, &c, err, sizeof err) == 0 && c, "get non-UTF-8");
    if (c) {
        CHECK(strcmp(c->transcript, "caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd broken \xef\xbf\xbd\xef\xbf\xbd end ") == 0,
              "cleaned transcript '%s'", c->transcript);
        json_t *j = store_call_to_json(c);
        CHECK(j != NULL, "json of cleaned record");
        json_decref(j);
        store_call_free(c);
    }
    store_close(s);
}

/* ---- listing -------------------------------------------------------------- */

static void test_list(void) {
    store *s = NULL;
    if (open_at("list.db", &s, NULL) != 0) {
        CHECK(0, "open list.db: %s", err);
        return;
    }
    const char *queues[] = {"Q1-IMMEDIATE", "Q2-ELEVATED", "Q3-MONITOR", "Q5-ROUTINE"};
    char ids[40][STORE_ID_SIZE];
    for (int i = 0; i < 40; i++) {
        store_fields f = sample_fields();
        f.queue = queues[i % 4];
        f.utterance_count = i;
        ids[i][0] = '\0';
        int rc = i < 30 ? store_call_insert_complete(s, STORE_KIND_UPLOAD, ids[i], "u.wav", &f, NULL, err, sizeof err)
                        : store_call_create(s, STORE_KIND_LIVE, ids[i], NULL, NULL, &f, NULL, err, sizeof err);
        CHECK(rc == 0, "insert %d: %s", i, err);
        if (i >= 35) CHECK(store_call_finalize(s, ids[i], STORE_STATUS_COMPLETED, NULL, NULL, err, sizeof err) == 0, "fin");
    }
    store_page p;
    CHECK(store_call_list(s, NULL, &p, err, sizeof err) == 0, "list all: %s", err);
    CHECK(p.total == 40 && p.count == 40, "all: total %lld count %zu", (long long)p.total, p.count);
    for (size_t i = 1; i < p.count; i++)
        CHECK(p.items[i - 1].created_at > p.items[i].created_at ||
                  (p.items[i - 1].created_at == p.items[i].created_at && strcmp(p.items[i - 1].id, p.items[i].id) > 0),
              "newest first at %zu", i);
    CHECK(p.count == 40 && p.items[0].utterance_count == 39, "newest is the last inserted");
    store_page_clear(&p);
    CHECK(p.items == NULL && p.count == 0, "page freed and cleared");

    /* Paging through uploads 7 at a time visits each exactly once. */
    int seen[40] = {0};
    for (int64_t off = 0; off < 35; off += 7) {
        store_filter f = {.kind = STORE_KIND_UPLOAD, .status = STORE_STATUS_ANY, .limit = 7, .offset = off};
        CHECK(store_call_list(s, &f, &p, err, sizeof err) == 0, "page %lld", (long long)off);
        CHECK(p.total == 30, "upload total %lld", (long long)p.total);
        CHECK(p.count == (size_t)(off + 7 <= 30 ? 7 : 30 - off), "page size %zu at %lld", p.count, (long long)off);
        for (size_t i = 0; i < p.count; i++) {
            CHECK(p.items[i].kind == STORE_KIND_UPLOAD, "upload kind");
            int u = p.items[i].utterance_count;
            if (u >= 0 && u < 40) seen[u]++;
        }
        store_page_clear(&p);
    }
    int once = 1;
    for (int i = 0; i < 40; i++) once &= seen[i] == (i < 30 ? 1 : 0);
    CHECK(once, "every upload seen exactly once across pages");

    store_filter f = {.kind = STORE_KIND_LIVE, .status = STORE_STATUS_ANY, .queue = "Q1-IMMEDIATE"};
    CHECK(store_call_list(s, &f, &p, err, sizeof err) == 0, "live Q1");
    /* live calls are i = 30..39; Q1 when i % 4 == 0: 32, 36 */
    CHECK(p.total == 2 && p.count == 2, "live Q1 total %lld", (long long)p.total);
    for (size_t i = 0; i < p.count; i++)
        CHECK(p.items[i].kind == STORE_KIND_LIVE && strcmp(p.items[i].queue, "Q1-IMMEDIATE") == 0, "live Q1 item");
    store_page_clear(&p);

    f = (store_filter){.kind = STORE_KIND_LIVE, .status = STORE_STATUS_IN_PROGRESS};
    CHECK(store_call_list(s, &f, &p, err, sizeof err) == 0 && p.total == 5, "live in progress %lld", (long long)p.total);
    store_page_clear(&p);

    f = (store_filter){.kind = STORE_KIND_ANY, .status = STORE_STATUS_ANY, .limit = 10, .offset = 1000};
    CHECK(store_call_list(s, &f, &p, err, sizeof err) == 0 && p.count == 0 && p.total == 40, "offset past the end");
    store_page_clear(&p);

    f = (store_filter){.kind = STORE_KIND_ANY, .status = STORE_STATUS_ANY, .queue = "'; DROP TABLE calls;--"};
    CHECK(store_call_list(s, &f, &p, err, sizeof err) == 0 && p.total == 0, "hostile queue filter matches nothing");
    store_page_clear(&p);

    f = (store_filter){.kind = STORE_KIND_ANY, .status = STORE_STATUS_ANY, .limit = -1};
    CHECK(store_call_list(s, &f, &p, err, sizeof err) == TRIDENT_EINVAL, "negative limit");
    f = (store_filter){.kind = STORE_KIND_ANY, .status = STORE_STATUS_ANY, .offset = -5};
    CHECK(store_call_list(s, &f, &p, err, sizeof err) == TRIDENT_EINVAL, "negative offset");
    f = (store_filter){.kind = (store_kind)9, .status = STORE_STATUS_ANY};
    CHECK(store_call_list(s, &f, &p, err, sizeof err) == TRIDENT_EINVAL, "bad kind filter");
    f = (store_filter){.kind = STORE_KIND_ANY, .status = STORE_STATUS_ANY, .limit = 5000};
    CHECK(store_call_list(s, &f, &p, err, sizeof err) == 0 && p.count == 40, "huge limit clamped");
    store_page_clear(&p);
    f = (store_filter){.kind = STORE_KIND_ANY, .status = STORE_STATUS_ANY, .limit = 3};
    CHECK(store_call_list(s, &f, &p, err, sizeof err) == 0 && p.count == 3 && p.total == 40, "limit 3");
    store_page_clear(&p);

    store_counts n;
    CHECK(store_counts_get(s, &n, err, sizeof err) == 0, "counts");
    CHECK(n.total_calls == 40 && n.uploads == 30 && n.live_calls_saved == 10 && n.in_progress == 5 && n.interrupted == 0,
          "counts %lld/%lld/%lld/%lld", (long long)n.total_calls, (long long)n.uploads, (long long)n.live_calls_saved,
          (long long)n.in_progress);
    store_close(s);

    /* Reopen: everything survives; crash recovery marks the 5 live calls interrupted only when asked. */
    CHECK(open_at("list.db", &s, NULL) == 0, "reopen: %s", err);
    if (!s) return;
    CHECK(store_counts_get(s, &n, err, sizeof err) == 0 && n.total_calls == 40 && n.in_progress == 5,
          "records survive reopen");
    store_call *c = NULL;
    CHECK(store_call_get(s, ids[3], &c, err, sizeof err) == 0 && c && c->utterance_count == 3 &&
              strcmp(c->analysis_json, ANALYSIS) == 0,
          "record intact after reopen");
    store_call_free(c);
    store_close(s);

    if (pg_url) return; /* PostgreSQL leaves in-progress calls to the instances that own them. */
    store_options opt = {.recover_interrupted = 1};
    CHECK(open_at("list.db", &s, &opt) == 0, "reopen with recovery: %s", err);
    if (!s) return;
    store_info info;
    store_info_get(s, &info);
    CHECK(info.recovered == 5, "recovered %lld", (long long)info.recovered);
    CHECK(store_counts_get(s, &n, err, sizeof err) == 0 && n.in_progress == 0 && n.interrupted == 5 &&
              n.total_calls == 40,
          "interrupted %lld", (long long)n.interrupted);
    c = NULL;
    CHECK(store_call_get(s, ids[31], &c, err, sizeof err) == 0 && c && c->status == STORE_STATUS_INTERRUPTED &&
              strcmp(c->transcript, "fire at the market") == 0,
          "interrupted call kept with its transcript");
    if (c) {
        json_t *j = store_call_to_json(c);
        CHECK(j && strcmp(json_string_value(json_object_get(j, "status")), "interrupted") == 0, "json interrupted");
        json_decref(j);
    }
    store_call_free(c);
    store_fields late = {.transcript = "x"};
    CHECK(store_call_update_progress(s, ids[31], &late, err, sizeof err) == TRIDENT_EINVAL,
          "interrupted call takes no progress");
    store_close(s);
}

/* ---- malicious ids -------------------------------------------------------- */

static void test_malicious_ids(void) {
    store *s = NULL;
    if (open_at("ids.db", &s, NULL) != 0) {
        CHECK(0, "open ids.db: %s", err);
        return;
    }
    char id[STORE_ID_SIZE] = "";
    store_fields f = sample_fields();
    CHECK(store_call_insert_complete(s, STORE_KIND_UPLOAD, id, NULL, &f, NULL, err, sizeof err) == 0, "insert");
    char live[STORE_ID_SIZE] = "";
    CHECK(store_call_create(s, STORE_KIND_LIVE, live, NULL, NULL, NULL, NULL, err, sizeof err) == 0, "create live");

    char *big = malloc(10241);
    CHECK(big != NULL, "alloc");
    if (!big) return;
    memset(big, 'a', 10240);
    big[10240] = '\0';
    char with_id_prefix[64];
    snprintf(with_id_prefix, sizeof with_id_prefix, "%s/../../x", id);
    char id_nul_tail[STORE_ID_SIZE + 8];
    snprintf(id_nul_tail, sizeof id_nul_tail, "%s' OR", id);
    const char *bad[] = {
        "../../etc/passwd", "1 OR 1=1", "'; DROP TABLE calls;--", big, "", "\xff\xfe\xfd\x80",
        "00000000-0000-4000-8000-00000000000g", "00000000_0000_4000_8000_000000000000", "%", "*",
        "00000000-0000-4000-8000-0000000000000", "0000000-00000-4000-8000-000000000000", with_id_prefix, id_nul_tail,
        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9-0000-4000-8000-000000000000", "00000000-0000-4000-8000-000000000000",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        store_call *c = NULL;
        char shown[48];
        snprintf(shown, sizeof shown, "%.40s", bad[i]);
        CHECK(store_call_get(s, bad[i], &c, err, sizeof err) == TRIDENT_ENOTFOUND && c == NULL, "get '%s' not found",
              shown);
        store_fields p = {.transcript = "pwned"};
        CHECK(store_call_update_progress(s, bad[i], &p, err, sizeof err) == TRIDENT_ENOTFOUND, "progress '%s'", shown);
        CHECK(store_call_finalize(s, bad[i], STORE_STATUS_COMPLETED, &p, NULL, err, sizeof err) == TRIDENT_ENOTFOUND,
              "finalize '%s'", shown);
        char path[PATH_MAX];
        int rc = store_recording_path(s, bad[i], path, sizeof path, err, sizeof err);
        CHECK(i == sizeof bad / sizeof bad[0] - 1 ? rc == 0 : rc == TRIDENT_ENOTFOUND, "recording path '%s' rc %d",
              shown, rc);
        CHECK(store_call_audio_file(s, bad[i], path, sizeof path, err, sizeof err) == TRIDENT_ENOTFOUND,
              "audio '%s' not found", shown);
    }
    CHECK(store_call_get(s, NULL, &(store_call *){NULL}, err, sizeof err) == TRIDENT_ENOTFOUND, "NULL id");
    free(big);

    store_counts n;
    CHECK(store_counts_get(s, &n, err, sizeof err) == 0 && n.total_calls == 2 && n.in_progress == 1,
          "nothing broken: %lld calls", (long long)n.total_calls);
    store_call *c = NULL;
    CHECK(store_call_get(s, live, &c, err, sizeof err) == 0 && c && c->transcript[0] == '\0' &&
              c->status == STORE_STATUS_IN_PROGRESS,
          "live call untouched");
    store_call_free(c);
    char path[512];
    path_in(path, sizeof path, "ids.db");
    store_close(s);
    if (!pg_url) CHECK(raw_int(path, "SELECT count(*) FROM calls") == 2, "table intact from outside");
}

/* ---- refusing databases --------------------------------------------------- */

static void test_refusals(void) {
    store *s = NULL;
    char path[512];

    /* Migration from an empty (0-byte) file. */
    path_in(path, sizeof path, "empty.db");
    write_file(path, "", 0);
    CHECK(open_at("empty.db", &s, NULL) == 0, "open empty file: %s", err);
    store_close(s);
    s = NULL;
    CHECK(raw_int(path, "SELECT max(version) FROM schema_version") == STORE_SCHEMA_VERSION, "schema_version recorded");
    CHECK(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'calls'") == 1,
          "calls table created");
    {
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        int wal = 0;
        if (sqlite3_open(path, &db) == SQLITE_OK && sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL) == 0 &&
            sqlite3_step(st) == SQLITE_ROW)
            wal = strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
        sqlite3_finalize(st);
        sqlite3_close(db);
        CHECK(wal, "database is in WAL mode");
    }
    /* Reopening does not re-apply migrations. */
    CHECK(open_at("empty.db", &s, NULL) == 0, "reopen migrated: %s", err);
    store_close(s);
    s = NULL;
    CHECK(raw_int(path, "SELECT count(*) FROM schema_version") == STORE_SCHEMA_VERSION, "one row per migration");

    /* A future schema version is refused and the file left alone. */
    path_in(path, sizeof path, "future.db");
    CHECK(open_at("future.db", &s, NULL) == 0, "create future.db: %s", err);
    store_close(s);
    s = NULL;
    CHECK(raw_exec(path, "INSERT INTO schema_version (version, applied_at) VALUES (99, 0)") == SQLITE_OK, "bump version");
    int rc = open_at("future.db", &s, NULL);
    CHECK(rc == TRIDENT_EUNSUPPORTED && s == NULL, "future schema refused rc %d", rc);
    CHECK(strstr(err, "99") && strstr(err, "newer"), "future message: %s", err);
    CHECK(raw_int(path, "SELECT max(version) FROM schema_version") == 99, "future db untouched");

    /* A file that is not a database. */
    path_in(path, sizeof path, "notadb.db");
    char junk[4096];
    for (size_t i = 0; i < sizeof junk; i++) junk[i] = (char)("This is not a database. "[i % 24]);
    write_file(path, junk, sizeof junk);
    rc = open_at("notadb.db", &s, NULL);
    CHECK(rc == TRIDENT_EFORMAT && s == NULL, "non-database refused rc %d: %s", rc, err);
    CHECK(strstr(err, "not a SQLite database") && strstr(err, "notadb.db"), "clear message: %s", err);
    {
        FILE *fp = fopen(path, "rb");
        char back[4096 + 1];
        size_t got = fp ? fread(back, 1, sizeof back, fp) : 0;
        if (fp) fclose(fp);
        CHECK(got == sizeof junk && memcmp(back, junk, sizeof junk) == 0, "non-database file left unchanged");
    }
    /* A short non-database file. */
    path_in(path, sizeof path, "short.db");
    write_file(path, "hello", 5);
    rc = open_at("short.db", &s, NULL);
    CHECK(rc == TRIDENT_EFORMAT && s == NULL, "short junk refused rc %d: %s", rc, err);

    /* A SQLite database that is somebody else's. */
    path_in(path, sizeof path, "other.db");
    CHECK(raw_exec(path, "CREATE TABLE users (name TEXT)") == SQLITE_OK, "make other db");
    rc = open_at("other.db", &s, NULL);
    CHECK(rc == TRIDENT_EFORMAT && s == NULL && strstr(err, "not a TRIDENT"), "foreign database refused: %s", err);
    CHECK(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'calls'") == 0, "foreign db not migrated");

    /* A directory as the database; a missing directory. */
    rc = open_at("main.db-recordings", &s, NULL);
    CHECK(rc != 0 && s == NULL, "directory refused: %s", err);
    rc = open_at("no/such/dir/x.db", &s, NULL);
    CHECK(rc == TRIDENT_EIO && s == NULL && strstr(err, "does not exist"), "missing dir: %s", err);

    /* A read-only directory (root ignores permissions: skip the check then). */
    char ro[512];
    path_in(ro, sizeof ro, "ro");
    CHECK(mkdir(ro, 0700) == 0, "mkdir ro");
    CHECK(chmod(ro, 0500) == 0, "chmod ro");
    if (geteuid() != 0) {
        rc = open_at("ro/x.db", &s, NULL);
        CHECK(rc == TRIDENT_EIO && s == NULL && strstr(err, "not writable"), "read-only dir: rc %d %s", rc, err);
    }
    chmod(ro, 0700);

    /* URLs. */
    rc = store_open("postgres://user:secret@localhost/trident", NULL, &s, err, sizeof err);
    CHECK((rc == TRIDENT_EUNSUPPORTED || rc == TRIDENT_EDB || rc == TRIDENT_EIO) && s == NULL, "postgres rc %d: %s", rc,
          err);
    CHECK(!strstr(err, "secret"), "password never in messages: %s", err);
    rc = store_open("mysql://localhost/x", NULL, &s, err, sizeof err);
    CHECK(rc == TRIDENT_EUNSUPPORTED && s == NULL, "unknown scheme: %s", err);
    rc = store_open("", NULL, &s, err, sizeof err);
    CHECK(rc == TRIDENT_EINVAL && s == NULL, "empty path");
    rc = store_open("sqlite:", NULL, &s, err, sizeof err);
    CHECK(rc == TRIDENT_EINVAL && s == NULL, "empty sqlite path");
    char url[600];
    snprintf(url, sizeof url, "sqlite:%s/url.db", tmpdir);
    rc = store_open(url, NULL, &s, err, sizeof err);
    CHECK(rc == 0, "sqlite: URL: %s", err);
    store_close(s);
    s = NULL;
    path_in(path, sizeof path, "url.db");
    CHECK(access(path, F_OK) == 0, "sqlite: URL made the file");

    /* In memory: works, has no recordings directory unless given one. */
    rc = store_open(":memory:", NULL, &s, err, sizeof err);
    CHECK(rc == 0, "memory: %s", err);
    if (s) {
        char id[STORE_ID_SIZE] = "", p[PATH_MAX];
        CHECK(store_call_create(s, STORE_KIND_LIVE, id, NULL, NULL, NULL, NULL, err, sizeof err) == 0, "memory create");
        CHECK(store_recording_path(s, id, p, sizeof p, err, sizeof err) == TRIDENT_EUNSUPPORTED, "memory: no recordings");
        store_close(s);
        s = NULL;
    }
    char recdir[512];
    path_in(recdir, sizeof recdir, "elsewhere");
    store_options opt = {.recordings_dir = recdir};
    rc = store_open(":memory:", &opt, &s, err, sizeof err);
    CHECK(rc == 0, "memory with recordings dir: %s", err);
    if (s) {
        char id[STORE_ID_SIZE] = "00000000-0000-4000-8000-000000000001", p[PATH_MAX], e[600];
        CHECK(store_recording_path(s, id, p, sizeof p, err, sizeof err) == 0, "recording path");
        snprintf(e, sizeof e, "%s/%s.wav", recdir, id);
        CHECK(strcmp(p, e) == 0, "custom recordings dir %s", p);
        struct stat st;
        CHECK(stat(recdir, &st) == 0 && S_ISDIR(st.st_mode), "custom recordings dir created");
        char small[16];
        CHECK(store_recording_path(s, id, small, sizeof small, err, sizeof err) == TRIDENT_ELIMIT, "small buffer");
        store_close(s);
    }
    store_close(NULL);
}

/* ---- crash safety ------------------------------------------------------- */

/* A process killed mid-call (SIGKILL, no close) keeps every utterance it
 * committed; reopening with recovery marks the call interrupted. */
static void test_crash(void) {
    store *pre = NULL; /* create (and in PostgreSQL mode wipe) before the child uses it */
    CHECK(open_at("crash.db", &pre, NULL) == 0, "create crash.db: %s", err);
    store_close(pre);
    int fd[2];
    if (pipe(fd) != 0) {
        CHECK(0, "pipe");
        return;
    }
    pid_t pid = fork();
    if (pid == 0) {
        close(fd[0]);
        store *s = NULL;
        char id[STORE_ID_SIZE] = "";
        if (open_at("crash.db", &s, NULL) != 0 || store_id_generate(id, err, sizeof err) != 0) _exit(2);
        char rec[64];
        snprintf(rec, sizeof rec, "%s.wav", id);
        if (store_call_create(s, STORE_KIND_LIVE, id, NULL, NULL, NULL, rec, err, sizeof err)) _exit(2);
        store_fields f = {.transcript = "one", .utterance_count = 1, .duration_s = 1};
        if (store_call_update_progress(s, id, &f, err, sizeof err)) _exit(3);
        f.transcript = "one two";
        f.utterance_count = 2;
        if (store_call_update_progress(s, id, &f, err, sizeof err)) _exit(4);
        if (write(fd[1], id, STORE_ID_SIZE) != STORE_ID_SIZE) _exit(5);
        kill(getpid(), SIGKILL);
        _exit(6);
    }
    close(fd[1]);
    char id[STORE_ID_SIZE] = "";
    ssize_t got = read(fd[0], id, sizeof id);
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(got == STORE_ID_SIZE && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child killed mid-call (status %d)",
          status);
    store_options opt = {.recover_interrupted = 1};
    store *s = NULL;
    CHECK(open_at("crash.db", &s, &opt) == 0, "reopen after crash: %s", err);
    if (!s) return;
    store_call *c = NULL;
    CHECK(store_call_get(s, id, &c, err, sizeof err) == 0 && c, "crashed call kept: %s", err);
    if (c) {
        CHECK(c->utterance_count == 2 && strcmp(c->transcript, "one two") == 0, "committed utterances kept: %d '%s'",
              c->utterance_count, c->transcript);
        CHECK(c->status == (pg_url ? STORE_STATUS_IN_PROGRESS : STORE_STATUS_INTERRUPTED), "status after crash %s",
              store_status_name(c->status));
        char rec[64];
        snprintf(rec, sizeof rec, "%s.wav", id);
        CHECK(c->audio_path && strcmp(c->audio_path, rec) == 0, "the recording stays linked after the crash");
        CHECK(pg_url ? !c->status_reason : c->status_reason && strstr(c->status_reason, "server stopped") != NULL,
              "the interruption's reason");
        store_call_free(c);
    }
    store_close(s);
}

/* ---- final states (schema 2) and the migration to it ---------------------- */

/* Every final status with its reason, the recording linked from creation. */
static void test_final_states(void) {
    store *s = NULL;
    CHECK(open_at("final.db", &s, NULL) == 0, "open final.db: %s", err);
    if (!s) return;
    const store_status finals[] = {STORE_STATUS_COMPLETED, STORE_STATUS_TRUNCATED, STORE_STATUS_ABANDONED,
                                   STORE_STATUS_FAILED, STORE_STATUS_INTERRUPTED};
    for (size_t i = 0; i < sizeof finals / sizeof finals[0]; i++) {
        char id[STORE_ID_SIZE] = "", name[64], why[64];
        CHECK(store_id_generate(id, err, sizeof err) == 0, "id");
        snprintf(name, sizeof name, "%s.wav", id);
        snprintf(why, sizeof why, "reason %zu", i);
        CHECK(store_call_create(s, STORE_KIND_LIVE, id, NULL, NULL, NULL, name, err, sizeof err) == 0, "create: %s", err);
        store_call *c = NULL;
        CHECK(store_call_get(s, id, &c, err, sizeof err) == 0 && c && c->audio_path && strcmp(c->audio_path, name) == 0 &&
                  !c->status_reason,
              "recording linked while in progress");
        store_call_free(c);
        store_fields f = sample_fields();
        f.status_reason = why;
        CHECK(store_call_finalize(s, id, finals[i], &f, name, err, sizeof err) == 0, "finalize %s: %s",
              store_status_name(finals[i]), err);
        c = NULL;
        CHECK(store_call_get(s, id, &c, err, sizeof err) == 0 && c && c->status == finals[i] && c->status_reason &&
                  strcmp(c->status_reason, why) == 0,
              "final state %s stored", store_status_name(finals[i]));
        if (c) {
            json_t *j = store_call_to_json(c);
            CHECK(j && strcmp(json_string_value(json_object_get(j, "status")), store_status_name(finals[i])) == 0 &&
                      strcmp(json_string_value(json_object_get(j, "status_reason")), why) == 0,
                  "json status and reason");
            json_decref(j);
        }
        store_call_free(c);
        CHECK(store_status_parse(store_status_name(finals[i])) == finals[i], "status name round trip");
        store_filter flt = {.kind = STORE_KIND_ANY, .status = finals[i]};
        store_page page;
        CHECK(store_call_list(s, &flt, &page, err, sizeof err) == 0 && page.total == 1, "filter by %s",
              store_status_name(finals[i]));
        store_page_clear(&page);
    }
    store_close(s);
}

/* A database at schema version 1 with a call in it migrates to 2: the call kept,
 * the new statuses accepted. */
static void test_migration_from_1(void) {
    char path[512];
    const char *v1 =
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL);"
        "INSERT INTO schema_version VALUES (1, 0);"
        "CREATE TABLE calls (id TEXT PRIMARY KEY CHECK (length(id) = 36), kind TEXT NOT NULL CHECK (kind IN "
        "('upload', 'live')), status TEXT NOT NULL CHECK (status IN ('in_progress', 'completed', 'failed', "
        "'interrupted')), created_at DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION NOT NULL, duration_s "
        "DOUBLE PRECISION NOT NULL DEFAULT 0, transcript TEXT NOT NULL DEFAULT '', confidence DOUBLE PRECISION NOT "
        "NULL DEFAULT 0, content_score DOUBLE PRECISION NOT NULL DEFAULT 0, distress_score DOUBLE PRECISION NOT NULL "
        "DEFAULT 0, queue TEXT, priority_level INTEGER NOT NULL DEFAULT 0, flag_audio_review INTEGER NOT NULL DEFAULT "
        "0 CHECK (flag_audio_review IN (0, 1)), escalation_required INTEGER NOT NULL DEFAULT 0 CHECK "
        "(escalation_required IN (0, 1)), analysis_json TEXT, audio_path TEXT, filename TEXT, utterance_count INTEGER "
        "NOT NULL DEFAULT 0);"
        "CREATE INDEX calls_created_idx ON calls (created_at, id);"
        "CREATE INDEX calls_status_idx ON calls (status);"
        "INSERT INTO calls (id, kind, status, created_at, updated_at, transcript, queue, priority_level, audio_path,"
        " utterance_count) VALUES ('6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab', 'live', 'interrupted', 1, 2,"
        " 'fire at the market', 'Q1-IMMEDIATE', 1, '6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab.wav', 2)";
    store *s = NULL;
    if (pg_url) {
        CHECK(pg_raw("DROP TABLE IF EXISTS audit_log, sessions, api_tokens, call_history, calls, schema_version") == 0 && pg_raw(v1) == 0, "make a v1 database");
        if (pg_seen_count < 32) snprintf(pg_seen[pg_seen_count++], sizeof pg_seen[0], "%s", "v1.db");
    } else {
        path_in(path, sizeof path, "v1.db");
        CHECK(raw_exec(path, v1) == SQLITE_OK, "make a v1 database");
    }
    CHECK(open_at("v1.db", &s, NULL) == 0, "open v1.db: %s", err);
    if (!s) return;
    store_info info;
    store_info_get(s, &info);
    CHECK(info.schema_version == STORE_SCHEMA_VERSION, "migrated to %d", info.schema_version);
    store_call *c = NULL;
    CHECK(store_call_get(s, "6f1c2d3e-4a5b-4c6d-8e7f-0123456789ab", &c, err, sizeof err) == 0 && c &&
              c->status == STORE_STATUS_INTERRUPTED && strcmp(c->transcript, "fire at the market") == 0 &&
              c->utterance_count == 2 && c->audio_path && !c->status_reason,
          "the v1 call survives the migration: %s", err);
    store_call_free(c);
    char id[STORE_ID_SIZE] = "";
    store_fields f = {.status_reason = "no speech in 2.0 s of audio"};
    CHECK(store_call_create(s, STORE_KIND_LIVE, id, NULL, NULL, NULL, NULL, err, sizeof err) == 0 &&
              store_call_finalize(s, id, STORE_STATUS_ABANDONED, &f, NULL, err, sizeof err) == 0,
          "a new status after the migration: %s", err);
    store_close(s);
}

/* ---- concurrency ---------------------------------------------------------- */

typedef struct {
    store *s;
    int thread;
    int failures;
} worker;

#define WORKERS 8
#define CALLS_PER_WORKER 6
#define UTTERANCES 8

static void *worker_run(void *arg) {
    worker *w = arg;
    char e[TRIDENT_ERR_SIZE];
    for (int k = 0; k < CALLS_PER_WORKER; k++) {
        char id[STORE_ID_SIZE] = "";
        if (w->thread % 2 == 0 || k % 2 == 0) {
            if (store_call_create(w->s, STORE_KIND_LIVE, id, NULL, NULL, NULL, NULL, e, sizeof e) != 0) {
                w->failures++;
                fprintf(stderr, "worker %d create: %s\n", w->thread, e);
                continue;
            }
            char text[256] = "";
            for (int u = 0; u < UTTERANCES; u++) {
                size_t len = strlen(text);
                snprintf(text + len, sizeof text - len, "%sw%d", u ? " " : "", u);
                store_fields f = {.transcript = text, .utterance_count = u + 1, .duration_s = u + 1.0,
                                  .confidence = 0.9, .queue = "Q2-ELEVATED", .priority_level = 2,
                                  .analysis_json = "{\"ok\":true}"};
                if (store_call_update_progress(w->s, id, &f, e, sizeof e) != 0) {
                    w->failures++;
                    fprintf(stderr, "worker %d progress: %s\n", w->thread, e);
                }
            }
            if (store_call_finalize(w->s, id, STORE_STATUS_COMPLETED, NULL, NULL, e, sizeof e) != 0) {
                w->failures++;
                fprintf(stderr, "worker %d finalize: %s\n", w->thread, e);
            }
        } else {
            store_fields f = {.transcript = "upload", .utterance_count = UTTERANCES};
            if (store_call_insert_complete(w->s, STORE_KIND_UPLOAD, id, "f.wav", &f, NULL, e, sizeof e) != 0) {
                w->failures++;
                fprintf(stderr, "worker %d insert: %s\n", w->thread, e);
            }
        }
        /* Readers beside the writers. */
        store_page p;
        store_filter flt = {.kind = STORE_KIND_ANY, .status = STORE_STATUS_ANY, .limit = 5};
        if (store_call_list(w->s, &flt, &p, e, sizeof e) != 0) {
            w->failures++;
            fprintf(stderr, "worker %d list: %s\n", w->thread, e);
        } else {
            store_page_clear(&p);
        }
        store_counts n;
        if (store_counts_get(w->s, &n, e, sizeof e) != 0) w->failures++;
    }
    return NULL;
}

static void test_concurrency(void) {
    /* Two handles on one file (as two processes would be), four threads on each. */
    store *a = NULL, *b = NULL;
    CHECK(open_at("busy.db", &a, NULL) == 0, "open a: %s", err);
    CHECK(open_at("busy.db", &b, NULL) == 0, "open b: %s", err);
    if (!a || !b) {
        store_close(a);
        store_close(b);
        return;
    }
    pthread_t th[WORKERS];
    worker w[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        w[i] = (worker){.s = i < WORKERS / 2 ? a : b, .thread = i};
        CHECK(pthread_create(&th[i], NULL, worker_run, &w[i]) == 0, "thread %d", i);
    }
    int failures = 0;
    for (int i = 0; i < WORKERS; i++) {
        pthread_join(th[i], NULL);
        failures += w[i].failures;
    }
    CHECK(failures == 0, "concurrent operations failed: %d", failures);
    /* Even threads: 6 live calls; odd threads: 3 live + 3 uploads. */
    int live = (WORKERS / 2) * CALLS_PER_WORKER + (WORKERS / 2) * (CALLS_PER_WORKER / 2);
    int uploads = (WORKERS / 2) * (CALLS_PER_WORKER / 2);
    store_counts n;
    CHECK(store_counts_get(a, &n, err, sizeof err) == 0, "counts");
    CHECK(n.total_calls == live + uploads && n.live_calls_saved == live && n.uploads == uploads && n.in_progress == 0,
          "concurrent totals %lld live %lld uploads %lld", (long long)n.total_calls, (long long)n.live_calls_saved,
          (long long)n.uploads);
    store_filter f = {.kind = STORE_KIND_LIVE, .status = STORE_STATUS_COMPLETED, .limit = STORE_LIST_MAX};
    store_page p;
    CHECK(store_call_list(b, &f, &p, err, sizeof err) == 0 && p.total == live, "completed live calls");
    int whole = 1;
    for (size_t i = 0; i < p.count; i++)
        whole &= p.items[i].utterance_count == UTTERANCES && strcmp(p.items[i].transcript, "w0 w1 w2 w3 w4 w5 w6 w7") == 0;
    CHECK(whole, "every live call has all its utterances");
    store_page_clear(&p);
    store_close(a);
    store_close(b);
}

/* ---- dispatch ------------------------------------------------------------- */

/* Stores an upload triaged into queue (NULL: untriaged) and returns its id in id. */
static int upload_in(store *s, const char *queue, char id[STORE_ID_SIZE]) {
    store_fields f = {.transcript = "help", .queue = queue, .priority_level = queue ? queue[1] - '0' : 0};
    id[0] = '\0';
    return store_call_insert_complete(s, STORE_KIND_UPLOAD, id, "u.wav", &f, NULL, err, sizeof err);
}

/* Runs one action; returns its code and checks the call's state afterwards. */
static int act(store *s, const char *id, store_action a, const char *actor, const char *note, const char *extra,
               store_dispatch_state want_state, const char *want_holder) {
    store_dispatch_request r = {.action = a, .actor = actor, .note = note};
    if (a == STORE_ACTION_DUPLICATE) r.of = extra;
    if (a == STORE_ACTION_OVERRIDE) r.queue = extra;
    store_call *c = NULL;
    err[0] = '\0';
    int rc = store_call_dispatch(s, id, &r, &c, err, sizeof err);
    if (rc == 0 || rc == TRIDENT_ECONFLICT) {
        CHECK(c && c->dispatch_state == want_state, "%s by %s: state %s, want %s (%s)", store_action_name(a), actor,
              c ? store_dispatch_name(c->dispatch_state) : "none", store_dispatch_name(want_state), err);
        if (c && want_holder)
            CHECK(c->claimed_by && strcmp(c->claimed_by, want_holder) == 0, "%s by %s: held by %s, want %s",
                  store_action_name(a), actor, c->claimed_by ? c->claimed_by : "nobody", want_holder);
    }
    store_call_free(c);
    return rc;
}

/* The ids of the open queue, in order, into ids (at most max); returns the count or -1. */
static int queue_ids(store *s, char ids[][STORE_ID_SIZE], int max, int64_t *total) {
    store_page p;
    if (store_queue_list(s, max, &p, err, sizeof err) != 0) return -1;
    int n = (int)p.count;
    for (int i = 0; i < n; i++) memcpy(ids[i], p.items[i].id, STORE_ID_SIZE);
    *total = p.total;
    store_page_clear(&p);
    return n;
}

static void test_dispatch_lifecycle(void) {
    store *s = NULL;
    CHECK(open_at("dispatch.db", &s, NULL) == 0, "open: %s", err);
    if (!s) return;
    enum { Q3, Q1, Q2, NONE, LIVE };
    char id[5][STORE_ID_SIZE];
    CHECK(upload_in(s, "Q3-MONITOR", id[Q3]) == 0 && upload_in(s, "Q1-IMMEDIATE", id[Q1]) == 0 &&
              upload_in(s, "Q2-ELEVATED", id[Q2]) == 0 && upload_in(s, NULL, id[NONE]) == 0,
          "store calls: %s", err);
    /* A live connection that carried no speech never waits. */
    id[LIVE][0] = '\0';
    store_fields nf = {.status_reason = "no speech"};
    CHECK(store_call_create(s, STORE_KIND_LIVE, id[LIVE], NULL, NULL, NULL, NULL, err, sizeof err) == 0 &&
              store_call_finalize(s, id[LIVE], STORE_STATUS_ABANDONED, &nf, NULL, err, sizeof err) == 0,
          "abandoned live call: %s", err);

    char q[8][STORE_ID_SIZE];
    int64_t total = 0;
    int n = queue_ids(s, q, 8, &total);
    CHECK(n == 4 && total == 4 && strcmp(q[0], id[Q1]) == 0 && strcmp(q[1], id[Q2]) == 0 && strcmp(q[2], id[Q3]) == 0 &&
              strcmp(q[3], id[NONE]) == 0,
          "queue order Q1, Q2, Q3, untriaged without the abandoned call (%d, total %lld): %s", n, (long long)total, err);

    /* Claim-next hands out the most urgent call. */
    store_call *c = NULL;
    CHECK(store_queue_next(s, "alice", &c, err, sizeof err) == 0 && c && strcmp(c->id, id[Q1]) == 0 &&
              c->dispatch_state == STORE_DISPATCH_CLAIMED && c->claimed_by && strcmp(c->claimed_by, "alice") == 0,
          "alice takes the Q1 call: %s", err);
    store_call_free(c);
    /* Someone else's call: every change but a note is a conflict. */
    CHECK(act(s, id[Q1], STORE_ACTION_CLAIM, "bob", NULL, NULL, STORE_DISPATCH_CLAIMED, "alice") == TRIDENT_ECONFLICT &&
              strstr(err, "alice"),
          "bob cannot claim alice's call: %s", err);
    CHECK(act(s, id[Q1], STORE_ACTION_RELEASE, "bob", NULL, NULL, STORE_DISPATCH_CLAIMED, "alice") == TRIDENT_ECONFLICT,
          "bob cannot release it");
    CHECK(act(s, id[Q1], STORE_ACTION_DISPATCH, "bob", NULL, NULL, STORE_DISPATCH_CLAIMED, "alice") == TRIDENT_ECONFLICT,
          "bob cannot dispatch it");
    CHECK(act(s, id[Q1], STORE_ACTION_CANCEL, "bob", NULL, NULL, STORE_DISPATCH_CLAIMED, "alice") == TRIDENT_ECONFLICT,
          "bob cannot cancel it");
    CHECK(act(s, id[Q1], STORE_ACTION_RELEASE, "alice", "wrong desk", NULL, STORE_DISPATCH_WAITING, NULL) == 0,
          "alice releases: %s", err);
    CHECK(act(s, id[Q1], STORE_ACTION_CLAIM, "bob", NULL, NULL, STORE_DISPATCH_CLAIMED, "bob") == 0, "bob claims: %s", err);
    CHECK(act(s, id[Q1], STORE_ACTION_RESOLVE, "alice", NULL, NULL, STORE_DISPATCH_CLAIMED, "bob") == TRIDENT_ECONFLICT,
          "alice cannot resolve bob's call");
    CHECK(act(s, id[Q1], STORE_ACTION_DISPATCH, "bob", "2 units", NULL, STORE_DISPATCH_DISPATCHED, "bob") == 0,
          "bob dispatches: %s", err);
    CHECK(act(s, id[Q1], STORE_ACTION_DISPATCH, "bob", NULL, NULL, STORE_DISPATCH_DISPATCHED, "bob") == TRIDENT_ECONFLICT,
          "no second dispatch");
    CHECK(act(s, id[Q1], STORE_ACTION_RESOLVE, "bob", NULL, NULL, STORE_DISPATCH_RESOLVED, "bob") == 0,
          "bob resolves: %s", err);
    CHECK(act(s, id[Q1], STORE_ACTION_RESOLVE, "bob", NULL, NULL, STORE_DISPATCH_RESOLVED, NULL) == TRIDENT_ECONFLICT,
          "a resolved call stays resolved");
    CHECK(act(s, id[Q1], STORE_ACTION_CLAIM, "carol", NULL, NULL, STORE_DISPATCH_RESOLVED, NULL) == TRIDENT_ECONFLICT,
          "a resolved call cannot be claimed");
    CHECK(act(s, id[Q1], STORE_ACTION_NOTE, "carol", "caller rang back", NULL, STORE_DISPATCH_RESOLVED, NULL) == 0,
          "a note on a resolved call: %s", err);
    CHECK(act(s, id[Q1], STORE_ACTION_NOTE, "carol", NULL, NULL, STORE_DISPATCH_RESOLVED, NULL) == TRIDENT_EINVAL,
          "a note without text is refused");

    /* Its history, in order, with who and the notes. */
    store_history_entry *h = NULL;
    size_t hn = 0;
    CHECK(store_call_history(s, id[Q1], &h, &hn, err, sizeof err) == 0 && hn == 6, "history of 6, got %zu: %s", hn, err);
    const char *want[6][4] = {{"claim", "alice", "waiting", "claimed"},  {"release", "alice", "claimed", "waiting"},
                              {"claim", "bob", "waiting", "claimed"},    {"dispatch", "bob", "claimed", "dispatched"},
                              {"resolve", "bob", "dispatched", "resolved"}, {"note", "carol", "resolved", "resolved"}};
    for (size_t i = 0; h && i < hn && i < 6; i++)
        CHECK(h[i].seq == (int)i + 1 && strcmp(h[i].action, want[i][0]) == 0 && strcmp(h[i].actor, want[i][1]) == 0 &&
                  strcmp(h[i].from_state, want[i][2]) == 0 && strcmp(h[i].to_state, want[i][3]) == 0 && h[i].at > 0,
              "history %zu: %s by %s %s → %s", i, h[i].action, h[i].actor, h[i].from_state, h[i].to_state);
    CHECK(hn == 6 && h[1].note && strcmp(h[1].note, "wrong desk") == 0 && !h[0].note &&
              strcmp(h[5].note, "caller rang back") == 0,
          "notes kept");
    json_t *hj = store_history_to_json(h, hn);
    CHECK(hj && json_array_size(hj) == hn &&
              strcmp(json_string_value(json_object_get(json_array_get(hj, 3), "by")), "bob") == 0,
          "history JSON");
    json_decref(hj);
    store_history_free(h, hn);

    /* Override: a reason is mandatory; the call moves in the queue. */
    CHECK(act(s, id[Q3], STORE_ACTION_OVERRIDE, "alice", NULL, "Q1-IMMEDIATE", STORE_DISPATCH_WAITING, NULL) ==
              TRIDENT_EINVAL,
          "override without a reason is refused");
    CHECK(act(s, id[Q3], STORE_ACTION_OVERRIDE, "alice", "child not breathing", "Q1-IMMEDIATE", STORE_DISPATCH_WAITING,
              NULL) == 0,
          "override: %s", err);
    n = queue_ids(s, q, 8, &total);
    CHECK(n == 3 && strcmp(q[0], id[Q3]) == 0 && strcmp(q[1], id[Q2]) == 0, "the overridden call leads the queue");
    CHECK(store_call_get(s, id[Q3], &c, err, sizeof err) == 0 && c->queue_override &&
              strcmp(store_call_effective_queue(c), "Q1-IMMEDIATE") == 0 && strcmp(c->queue, "Q3-MONITOR") == 0,
          "override kept beside the triage queue");
    json_t *j = c ? store_call_to_json(c) : NULL;
    json_t *d = j ? json_object_get(j, "dispatch") : NULL;
    CHECK(d && strcmp(json_string_value(json_object_get(d, "state")), "waiting") == 0 &&
              strcmp(json_string_value(json_object_get(d, "queue")), "Q1-IMMEDIATE") == 0,
          "dispatch JSON");
    json_decref(j);
    store_call_free(c);

    /* Duplicate: of another, existing call only. */
    CHECK(act(s, id[Q2], STORE_ACTION_DUPLICATE, "alice", NULL, id[Q2], STORE_DISPATCH_WAITING, NULL) == TRIDENT_EINVAL,
          "a call cannot duplicate itself");
    CHECK(act(s, id[Q2], STORE_ACTION_DUPLICATE, "alice", NULL, "00000000-0000-4000-8000-000000000000",
              STORE_DISPATCH_WAITING, NULL) == TRIDENT_ENOTFOUND,
          "duplicate of an unknown call: %s", err);
    CHECK(act(s, id[Q2], STORE_ACTION_DUPLICATE, "alice", "same fire", id[Q3], STORE_DISPATCH_DUPLICATE, "alice") == 0,
          "duplicate: %s", err);
    CHECK(store_call_get(s, id[Q2], &c, err, sizeof err) == 0 && c->duplicate_of && strcmp(c->duplicate_of, id[Q3]) == 0,
          "duplicate_of kept");
    store_call_free(c);
    CHECK(act(s, id[Q2], STORE_ACTION_CLAIM, "bob", NULL, NULL, STORE_DISPATCH_DUPLICATE, NULL) == TRIDENT_ECONFLICT,
          "a duplicate cannot be claimed");
    /* Cancel. */
    CHECK(act(s, id[Q3], STORE_ACTION_CANCEL, "alice", "hoax", NULL, STORE_DISPATCH_CANCELLED, "alice") == 0,
          "cancel: %s", err);
    CHECK(act(s, id[Q3], STORE_ACTION_CANCEL, "alice", NULL, NULL, STORE_DISPATCH_CANCELLED, NULL) == TRIDENT_ECONFLICT,
          "cancel twice");
    CHECK(act(s, id[Q3], STORE_ACTION_OVERRIDE, "alice", "why", "Q2-ELEVATED", STORE_DISPATCH_CANCELLED, NULL) ==
              TRIDENT_ECONFLICT,
          "no override on a closed call");
    CHECK(act(s, id[LIVE], STORE_ACTION_CLAIM, "alice", NULL, NULL, STORE_DISPATCH_CANCELLED, NULL) == TRIDENT_ECONFLICT,
          "an abandoned call cannot be claimed");
    /* The untriaged call is the last one waiting; then the queue is empty. */
    CHECK(store_queue_next(s, "bob", &c, err, sizeof err) == 0 && strcmp(c->id, id[NONE]) == 0, "last call: %s", err);
    store_call_free(c);
    c = NULL;
    CHECK(store_queue_next(s, "bob", &c, err, sizeof err) == TRIDENT_ENOTFOUND && !c, "empty queue: %s", err);
    /* Bad requests. */
    store_dispatch_request bad = {.action = STORE_ACTION_CLAIM, .actor = ""};
    CHECK(store_call_dispatch(s, id[Q1], &bad, NULL, err, sizeof err) == TRIDENT_EINVAL, "no actor");
    bad = (store_dispatch_request){.action = STORE_ACTION_COUNT, .actor = "x"};
    CHECK(store_call_dispatch(s, id[Q1], &bad, NULL, err, sizeof err) == TRIDENT_EINVAL, "unknown action");
    bad = (store_dispatch_request){.action = STORE_ACTION_CLAIM, .actor = "x"};
    CHECK(store_call_dispatch(s, "../etc/passwd", &bad, NULL, err, sizeof err) == TRIDENT_ENOTFOUND, "bad id");
    CHECK(store_call_dispatch(s, "00000000-0000-4000-8000-000000000000", &bad, NULL, err, sizeof err) ==
              TRIDENT_ENOTFOUND,
          "unknown id");
    CHECK(store_call_history(s, "00000000-0000-4000-8000-000000000000", &h, &hn, err, sizeof err) == 0 && hn == 0,
          "no history for an unknown id");
    store_close(s);
}

/* The ids of the calls holder holds, in order (at most max); returns the count or -1. */
static int held_ids(store *s, const char *holder, char ids[][STORE_ID_SIZE], int max, int64_t *total) {
    store_page p;
    if (store_held_list(s, holder, max, &p, err, sizeof err) != 0) return -1;
    int n = (int)p.count;
    for (int i = 0; i < n; i++) memcpy(ids[i], p.items[i].id, STORE_ID_SIZE);
    *total = p.total;
    store_page_clear(&p);
    return n;
}

/* store_held_list: a dispatcher's claimed and dispatched calls in queue order,
 * whatever else is stored (older calls, other dispatchers' calls, closed ones);
 * released, resolved and cancelled calls leave it; a name nobody has holds nothing. */
static void test_held_calls(void) {
    store *s = NULL;
    CHECK(open_at("held.db", &s, NULL) == 0, "open: %s", err);
    if (!s) return;
    enum { N = 8 };
    const char *queues[N] = {"Q3-MONITOR", "Q1-IMMEDIATE", "Q5-ROUTINE", "Q2-ELEVATED",
                             "Q1-IMMEDIATE", NULL,         "Q2-ELEVATED", "Q3-MONITOR"};
    char id[N][STORE_ID_SIZE];
    for (int i = 0; i < N; i++) CHECK(upload_in(s, queues[i], id[i]) == 0, "store call %d: %s", i, err);
    /* alice: 0 (claimed, Q3), 1 (dispatched, Q1), 2 (claimed then released), 3 (resolved);
     * bob: 4 (claimed, Q1); 5 (untriaged) claimed by alice; 6, 7 waiting */
    CHECK(act(s, id[0], STORE_ACTION_CLAIM, "alice", NULL, NULL, STORE_DISPATCH_CLAIMED, "alice") == 0 &&
              act(s, id[1], STORE_ACTION_CLAIM, "alice", NULL, NULL, STORE_DISPATCH_CLAIMED, "alice") == 0 &&
              act(s, id[1], STORE_ACTION_DISPATCH, "alice", NULL, NULL, STORE_DISPATCH_DISPATCHED, "alice") == 0 &&
              act(s, id[2], STORE_ACTION_CLAIM, "alice", NULL, NULL, STORE_DISPATCH_CLAIMED, "alice") == 0 &&
              act(s, id[2], STORE_ACTION_RELEASE, "alice", NULL, NULL, STORE_DISPATCH_WAITING, NULL) == 0 &&
              act(s, id[3], STORE_ACTION_CLAIM, "alice", NULL, NULL, STORE_DISPATCH_CLAIMED, "alice") == 0 &&
              act(s, id[3], STORE_ACTION_RESOLVE, "alice", NULL, NULL, STORE_DISPATCH_RESOLVED, NULL) == 0 &&
              act(s, id[4], STORE_ACTION_CLAIM, "bob", NULL, NULL, STORE_DISPATCH_CLAIMED, "bob") == 0 &&
              act(s, id[5], STORE_ACTION_CLAIM, "alice", NULL, NULL, STORE_DISPATCH_CLAIMED, "alice") == 0,
          "the calls' dispatch states: %s", err);
    char got[N][STORE_ID_SIZE];
    int64_t total = -1;
    int n = held_ids(s, "alice", got, N, &total);
    CHECK(n == 3 && total == 3 && strcmp(got[0], id[1]) == 0 && strcmp(got[1], id[0]) == 0 && strcmp(got[2], id[5]) == 0,
          "alice holds the dispatched Q1, the claimed Q3 and the untriaged call, in queue order (%d, total %lld): %s",
          n, (long long)total, err);
    n = held_ids(s, "alice", got, 1, &total);
    CHECK(n == 1 && total == 3 && strcmp(got[0], id[1]) == 0, "a page of one, total 3");
    n = held_ids(s, "bob", got, N, &total);
    CHECK(n == 1 && total == 1 && strcmp(got[0], id[4]) == 0, "bob holds his Q1 call");
    n = held_ids(s, "carol", got, N, &total);
    CHECK(n == 0 && total == 0, "carol holds nothing");
    n = held_ids(s, "", got, N, &total);
    CHECK(n == 0 && total == 0, "an empty name holds nothing");
    /* resolving and cancelling take calls off alice's list */
    CHECK(act(s, id[1], STORE_ACTION_RESOLVE, "alice", NULL, NULL, STORE_DISPATCH_RESOLVED, NULL) == 0 &&
              act(s, id[5], STORE_ACTION_CANCEL, "alice", "hoax", NULL, STORE_DISPATCH_CANCELLED, NULL) == 0,
          "resolve and cancel: %s", err);
    n = held_ids(s, "alice", got, N, &total);
    CHECK(n == 1 && total == 1 && strcmp(got[0], id[0]) == 0, "alice holds only the claimed Q3 call now");
    store_page p;
    CHECK(store_held_list(s, "alice", -1, &p, err, sizeof err) == TRIDENT_EINVAL, "a negative limit is refused");
    CHECK(store_held_list(s, NULL, 10, &p, err, sizeof err) == TRIDENT_EINVAL, "no holder is refused");
    store_close(s);
}

/* A live call waits from its start (untriaged: last) and moves as its triage changes. */
static void test_live_call_in_queue(void) {
    store *s = NULL;
    CHECK(open_at("live-queue.db", &s, NULL) == 0, "open: %s", err);
    if (!s) return;
    char up[STORE_ID_SIZE], live[STORE_ID_SIZE] = "";
    CHECK(upload_in(s, "Q3-MONITOR", up) == 0, "upload: %s", err);
    CHECK(store_call_create(s, STORE_KIND_LIVE, live, NULL, NULL, NULL, NULL, err, sizeof err) == 0, "live call: %s", err);
    char q[4][STORE_ID_SIZE];
    int64_t total = 0;
    CHECK(queue_ids(s, q, 4, &total) == 2 && strcmp(q[1], live) == 0, "the new live call waits, untriaged last");
    store_fields f = {.transcript = "he is not breathing", .queue = "Q1-IMMEDIATE", .priority_level = 1,
                      .utterance_count = 1};
    CHECK(store_call_update_progress(s, live, &f, err, sizeof err) == 0, "progress: %s", err);
    CHECK(queue_ids(s, q, 4, &total) == 2 && strcmp(q[0], live) == 0, "triaged Q1, it leads the queue");
    store_call *c = NULL;
    CHECK(store_queue_next(s, "alice", &c, err, sizeof err) == 0 && strcmp(c->id, live) == 0 &&
              c->status == STORE_STATUS_IN_PROGRESS,
          "a live call can be claimed while in progress: %s", err);
    store_call_free(c);
    CHECK(store_call_finalize(s, live, STORE_STATUS_COMPLETED, NULL, NULL, err, sizeof err) == 0, "finalize: %s", err);
    CHECK(store_call_get(s, live, &c, err, sizeof err) == 0 && c->dispatch_state == STORE_DISPATCH_CLAIMED &&
              strcmp(c->claimed_by, "alice") == 0,
          "ending the call keeps its claim");
    store_call_free(c);
    store_close(s);
}

/* A database at schema version 2 with calls in it migrates to 3: every call
 * kept; older than a day → resolved, younger → waiting, abandoned → cancelled. */
static void test_migration_from_2(void) {
    char sql[8192];
    double now = (double)time(NULL);
    snprintf(sql, sizeof sql,
             STORE_SCHEMA_VERSION_TABLE ";%s;%s;INSERT INTO schema_version VALUES (1, 0), (2, 0);"
             "INSERT INTO calls (id, kind, status, created_at, updated_at, transcript, queue) VALUES "
             "('11111111-1111-4111-8111-111111111111', 'upload', 'completed', %.0f, %.0f, 'old', 'Q1-IMMEDIATE'),"
             "('22222222-2222-4222-8222-222222222222', 'upload', 'completed', %.0f, %.0f, 'recent', 'Q2-ELEVATED'),"
             "('33333333-3333-4333-8333-333333333333', 'live', 'abandoned', %.0f, %.0f, '', NULL)",
             store_schema_sql(1), store_schema_sql(2), now - 3 * 86400, now - 3 * 86400, now - 60, now - 60, now - 30,
             now - 30);
    char path[512];
    if (pg_url) {
        CHECK(pg_raw("DROP TABLE IF EXISTS audit_log, sessions, api_tokens, call_history, calls, schema_version") == 0 && pg_raw(sql) == 0,
              "make a v2 database");
        if (pg_seen_count < 32) snprintf(pg_seen[pg_seen_count++], sizeof pg_seen[0], "%s", "v2.db");
    } else {
        path_in(path, sizeof path, "v2.db");
        CHECK(raw_exec(path, sql) == SQLITE_OK, "make a v2 database");
    }
    store *s = NULL;
    CHECK(open_at("v2.db", &s, NULL) == 0, "open v2.db: %s", err);
    if (!s) return;
    const char *ids[3] = {"11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222",
                          "33333333-3333-4333-8333-333333333333"};
    const store_dispatch_state want[3] = {STORE_DISPATCH_RESOLVED, STORE_DISPATCH_WAITING, STORE_DISPATCH_CANCELLED};
    for (int i = 0; i < 3; i++) {
        store_call *c = NULL;
        CHECK(store_call_get(s, ids[i], &c, err, sizeof err) == 0 && c && c->dispatch_state == want[i] &&
                  c->waiting_since == c->created_at,
              "v2 call %d kept as %s, got %s: %s", i, store_dispatch_name(want[i]),
              c ? store_dispatch_name(c->dispatch_state) : "none", err);
        store_call_free(c);
    }
    store_call *c = NULL;
    CHECK(store_queue_next(s, "alice", &c, err, sizeof err) == 0 && strcmp(c->id, ids[1]) == 0,
          "the recent call is claimable: %s", err);
    store_call_free(c);
    store_close(s);
}

/* Schema 5: a live call's caller is kept (checked: printable UTF-8, 1..64 bytes);
 * a database at schema 3 migrates with its calls (caller NULL); on SQLite each
 * database's recordings, formerly in the folder's shared recordings/, move to its
 * own <db>-recordings/ — another database's files stay where they are. */
static void test_caller_and_migration_from_3(void) {
    const char *good[] = {"+18765550100", "Dr. Ana María Pérez (cell)", "\xe2\x98\x8e 876-555-0100"};
    const char *bad[] = {"", "tab\there", "line\nbreak", "del\x7f", "c1\xc2\x85", "bad\xff\xfe",
                         "1234567890123456789012345678901234567890123456789012345678901234567"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CHECK(store_caller_check(good[i], err, sizeof err) == 0, "caller '%s' accepted: %s", good[i], err);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(store_caller_check(bad[i], err, sizeof err) == TRIDENT_EINVAL && err[0], "caller %zu refused", i);

    char sql[8192];
    double now = (double)time(NULL);
    const char *ids[2] = {"44444444-4444-4444-8444-444444444444", "55555555-5555-4555-8555-555555555555"};
    char folder[512], db[2][600];
    path_in(folder, sizeof folder, "folder");
    CHECK(pg_url || mkdir(folder, 0700) == 0, "mkdir %s", folder);
    for (int d = 0; d < (pg_url ? 1 : 2); d++) {
        snprintf(sql, sizeof sql,
                 STORE_SCHEMA_VERSION_TABLE ";%s;%s;%s;INSERT INTO schema_version VALUES (1, 0), (2, 0), (3, 0);"
                 "INSERT INTO calls (id, kind, status, created_at, updated_at, transcript, queue, audio_path,"
                 " waiting_since) VALUES ('%s', 'upload', 'completed', %.0f, %.0f, 'v3', 'Q2-ELEVATED', '%s.wav', %.0f)",
                 store_schema_sql(1), store_schema_sql(2), store_schema_sql(3), ids[d], now, now, ids[d], now);
        snprintf(db[d], sizeof db[d], "%s/%s.db", folder, d ? "beta" : "alpha");
        if (pg_url) {
            CHECK(pg_raw("DROP TABLE IF EXISTS audit_log, sessions, api_tokens, call_history, calls, schema_version") == 0 && pg_raw(sql) == 0,
                  "make a v3 database");
            if (pg_seen_count < 32) snprintf(pg_seen[pg_seen_count++], sizeof pg_seen[0], "%s", "v3.db");
            continue;
        }
        CHECK(raw_exec(db[d], sql) == SQLITE_OK, "make v3 database %d", d);
        char rec[700], wav[800];
        snprintf(rec, sizeof rec, "%s/recordings", folder);
        mkdir(rec, 0700);
        snprintf(wav, sizeof wav, "%s/%s.wav", rec, ids[d]);
        CHECK(write_wav(wav) == 0, "write %s", wav);
    }
    store *s = NULL;
    CHECK((pg_url ? open_at("v3.db", &s, NULL) : store_open(db[0], NULL, &s, err, sizeof err)) == 0, "open v3: %s", err);
    if (!s) return;
    store_info info;
    store_info_get(s, &info);
    CHECK(info.schema_version == STORE_SCHEMA_VERSION, "migrated to %d", info.schema_version);
    store_call *c = NULL;
    CHECK(store_call_get(s, ids[0], &c, err, sizeof err) == 0 && c && c->caller == NULL &&
              c->dispatch_state == STORE_DISPATCH_WAITING && strcmp(c->transcript, "v3") == 0,
          "the v3 call survives, no caller: %s", err);
    store_call_free(c);
    c = NULL;
    if (!pg_url) {
        char path[800];
        CHECK(store_call_audio_file(s, ids[0], path, sizeof path, err, sizeof err) == 0, "its recording moved: %s", err);
        char want[800], real_want[PATH_MAX];
        snprintf(want, sizeof want, "%s-recordings/%s.wav", db[0], ids[0]);
        CHECK(realpath(want, real_want) && strcmp(path, real_want) == 0, "to alpha.db-recordings: %s", path);
        snprintf(want, sizeof want, "%s/recordings/%s.wav", folder, ids[1]);
        CHECK(access(want, F_OK) == 0, "beta's recording stays in the shared folder until beta migrates");
        snprintf(want, sizeof want, "%s/recordings/%s.wav", folder, ids[0]);
        CHECK(access(want, F_OK) != 0, "alpha's recording left the shared folder");
    }
    char id[STORE_ID_SIZE] = "";
    CHECK(store_call_create(s, STORE_KIND_LIVE, id, NULL, "+1 876 555 0100", NULL, NULL, err, sizeof err) == 0,
          "create with caller: %s", err);
    CHECK(store_call_get(s, id, &c, err, sizeof err) == 0 && c->caller && strcmp(c->caller, "+1 876 555 0100") == 0,
          "caller kept: %s", c && c->caller ? c->caller : "(null)");
    json_t *j = c ? store_call_to_json(c) : NULL;
    CHECK(j && json_is_string(json_object_get(j, "caller")), "caller in the JSON");
    json_decref(j);
    store_call_free(c);
    char id2[STORE_ID_SIZE] = "";
    CHECK(store_call_create(s, STORE_KIND_LIVE, id2, NULL, "ring\r\n", NULL, NULL, err, sizeof err) == TRIDENT_EINVAL &&
              id2[0] == '\0',
          "a caller with control characters is refused: %s", err);
    store_close(s);
    if (!pg_url) {
        CHECK(store_open(db[1], NULL, &s, err, sizeof err) == 0, "open beta: %s", err);
        char path[800];
        CHECK(s && store_call_audio_file(s, ids[1], path, sizeof path, err, sizeof err) == 0 &&
                  strstr(path, "beta.db-recordings/"),
              "beta's recording moved to its own directory: %s", err);
        store_close(s);
    }
}

/* Four threads on two handles (two connections, as two servers would be) claim
 * 100 waiting calls as fast as they can: each call exactly once. */
#define CLAIM_CALLS 100
#define CLAIMERS 4
typedef struct {
    store *s;
    char name[16];
    char got[CLAIM_CALLS][STORE_ID_SIZE];
    int count, failures;
} claimer;

static void *claimer_run(void *arg) {
    claimer *w = arg;
    char e[TRIDENT_ERR_SIZE];
    for (;;) {
        store_call *c = NULL;
        int rc = store_queue_next(w->s, w->name, &c, e, sizeof e);
        if (rc == TRIDENT_ENOTFOUND) break;
        if (rc != 0 || w->count >= CLAIM_CALLS || strcmp(c->claimed_by, w->name) != 0) {
            fprintf(stderr, "%s: %s\n", w->name, rc ? e : "claimed by someone else");
            w->failures++;
            store_call_free(c);
            if (rc == TRIDENT_EBUSY) continue;
            break;
        }
        memcpy(w->got[w->count++], c->id, STORE_ID_SIZE);
        store_call_free(c);
    }
    return NULL;
}

static int id_cmp(const void *a, const void *b) { return strcmp(a, b); }

static void test_concurrent_claims(void) {
    store *a = NULL, *b = NULL;
    CHECK(open_at("claims.db", &a, NULL) == 0 && open_at("claims.db", &b, NULL) == 0, "open: %s", err);
    if (!a || !b) {
        store_close(a);
        store_close(b);
        return;
    }
    static char stored[CLAIM_CALLS][STORE_ID_SIZE];
    static const char *queues[] = {"Q1-IMMEDIATE", "Q2-ELEVATED", "Q3-MONITOR", "Q5-REVIEW", "Q5-ROUTINE"};
    for (int i = 0; i < CLAIM_CALLS; i++) CHECK(upload_in(a, queues[i % 5], stored[i]) == 0, "store: %s", err);
    static claimer w[CLAIMERS];
    pthread_t th[CLAIMERS];
    for (int i = 0; i < CLAIMERS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].s = i % 2 ? b : a;
        snprintf(w[i].name, sizeof w[i].name, "d%d", i);
        CHECK(pthread_create(&th[i], NULL, claimer_run, &w[i]) == 0, "thread %d", i);
    }
    static char all[CLAIMERS * CLAIM_CALLS][STORE_ID_SIZE];
    int n = 0, failures = 0;
    for (int i = 0; i < CLAIMERS; i++) {
        pthread_join(th[i], NULL);
        failures += w[i].failures;
        for (int k = 0; k < w[i].count; k++) memcpy(all[n++], w[i].got[k], STORE_ID_SIZE);
    }
    CHECK(failures == 0, "claim failures: %d", failures);
    qsort(all, (size_t)n, STORE_ID_SIZE, id_cmp);
    qsort(stored, CLAIM_CALLS, STORE_ID_SIZE, id_cmp);
    int same = n == CLAIM_CALLS;
    for (int i = 0; same && i < n; i++) same = strcmp(all[i], stored[i]) == 0;
    CHECK(same, "every call claimed exactly once: %d claims of %d calls", n, CLAIM_CALLS);
    store_page p;
    CHECK(store_queue_list(b, 0, &p, err, sizeof err) == 0 && p.total == CLAIM_CALLS, "all claimed and open");
    int claimed = 1;
    for (size_t i = 0; i < p.count; i++) claimed &= p.items[i].dispatch_state == STORE_DISPATCH_CLAIMED;
    CHECK(claimed, "every open call is claimed");
    store_page_clear(&p);
    store_close(a);
    store_close(b);
}

/* ---- names ---------------------------------------------------------------- */

static void test_names(void) {
    CHECK(store_kind_parse("live") == STORE_KIND_LIVE && store_kind_parse("upload") == STORE_KIND_UPLOAD &&
              store_kind_parse("LIVE") == STORE_KIND_ANY && store_kind_parse(NULL) == STORE_KIND_ANY,
          "kind parse");
    for (int st = STORE_STATUS_IN_PROGRESS; st <= STORE_STATUS_INTERRUPTED; st++)
        CHECK(store_status_parse(store_status_name((store_status)st)) == st, "status round trip %d", st);
    CHECK(store_status_parse("done") == STORE_STATUS_ANY, "unknown status");
    CHECK(store_id_valid("3f2b9c1e-8a4d-4c6b-9e21-5d7f0a1b2c3d"), "valid id");
    CHECK(!store_id_valid("3f2b9c1e-8a4d-4c6b-9e21-5d7f0a1b2c3"), "short id");
    CHECK(!store_id_valid("3f2b9c1e-8a4d-4c6b-9e21-5d7f0a1b2c3dd"), "long id");
    CHECK(!store_id_valid(NULL), "NULL id");
    char a[STORE_ID_SIZE], b[STORE_ID_SIZE];
    CHECK(store_id_generate(a, err, sizeof err) == 0 && store_id_generate(b, err, sizeof err) == 0 && strcmp(a, b) != 0,
          "ids differ");
}

/* PostgreSQL: a future schema version and a foreign calls table are refused. */
static void test_pg_refusals(void) {
    store *s = NULL;
    CHECK(open_at("pg-future", &s, NULL) == 0, "open: %s", err);
    store_close(s);
    s = NULL;
    CHECK(open_at("pg-future", &s, NULL) == 0, "reopen (no second migration): %s", err);
    store_close(s);
    s = NULL;
    CHECK(pg_raw("INSERT INTO schema_version (version, applied_at) VALUES (99, 0)") == 0, "bump version");
    int rc = open_at("pg-future", &s, NULL);
    CHECK(rc == TRIDENT_EUNSUPPORTED && s == NULL && strstr(err, "99"), "future schema refused: %s", err);
    CHECK(pg_raw("DROP TABLE schema_version") == 0, "drop version table");
    rc = open_at("pg-future", &s, NULL);
    CHECK(rc == TRIDENT_EFORMAT && s == NULL, "calls table without schema_version refused: %s", err);
    rc = store_open("postgresql://nobody:secret@127.0.0.1:1/none?connect_timeout=2", NULL, &s, err, sizeof err);
    CHECK(rc == TRIDENT_EIO && s == NULL && !strstr(err, "secret"), "unreachable server: %s", err);
}

static void cleanup(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

/* Schema 4: tokens (by hash, revocable), sessions (expiring, ended with their
 * token), the audit log, and the retention sweep — on either backend. */
static void test_access_tables(void) {
    store *s = NULL;
    CHECK(open_at("access.db", &s, NULL) == 0, "open: %s", err);
    if (!s) return;
    char ha[65], hb[65], hs[65];
    memset(ha, 'a', 64), memset(hb, 'b', 64), memset(hs, 'c', 64);
    ha[64] = hb[64] = hs[64] = '\0';
    double now = 1.9e9;
    CHECK(store_token_insert(s, "Ann", "dispatcher", ha, now, err, sizeof err) == 0, "insert: %s", err);
    CHECK(store_token_insert(s, "Ann", "viewer", hb, now, err, sizeof err) == TRIDENT_ECONFLICT, "a taken name: %s", err);
    CHECK(store_token_insert(s, "Bo", "viewer", ha, now, err, sizeof err) == TRIDENT_ECONFLICT, "a taken hash: %s", err);
    CHECK(store_token_insert(s, "Bo", "admin", hb, now, err, sizeof err) != 0, "an unknown role is refused");
    CHECK(store_token_insert(s, "Bo", "viewer", "short", now, err, sizeof err) != 0, "a hash that is no SHA-256");
    store_token t;
    CHECK(store_token_find(s, ha, &t, err, sizeof err) == 0 && strcmp(t.name, "Ann") == 0 &&
              strcmp(t.role, "dispatcher") == 0 && t.created_at == now && t.last_used_at == 0 && t.revoked_at == 0,
          "find by hash: %s", err);
    store_token_clear(&t);
    CHECK(store_token_find(s, hb, &t, err, sizeof err) == TRIDENT_ENOTFOUND, "an unknown hash");
    CHECK(store_token_touch(s, "Ann", now + 5, err, sizeof err) == 0, "touch: %s", err);
    int64_t n = -1;
    CHECK(store_token_active_count(s, &n, err, sizeof err) == 0 && n == 1, "one active token (%lld)", (long long)n);
    /* sessions: found until they expire; one for an unknown token is refused */
    CHECK(store_session_insert(s, hs, "Ann", now, now + 100, err, sizeof err) == 0, "session: %s", err);
    CHECK(store_session_find(s, hs, now + 50, &t, err, sizeof err) == 0 && strcmp(t.name, "Ann") == 0 &&
              t.last_used_at == now + 5,
          "session → token: %s", err);
    store_token_clear(&t);
    CHECK(store_session_find(s, hs, now + 101, &t, err, sizeof err) == TRIDENT_ENOTFOUND, "an expired session");
    CHECK(store_session_insert(s, hb, "Zed", now, now + 100, err, sizeof err) == TRIDENT_ECONFLICT,
          "a session for no token: %s", err);
    /* revocation ends the token and its sessions */
    CHECK(store_token_revoke(s, "Ann", now + 10, err, sizeof err) == 0, "revoke: %s", err);
    CHECK(store_token_find(s, ha, &t, err, sizeof err) == TRIDENT_ENOTFOUND, "a revoked token is not found");
    CHECK(store_session_find(s, hs, now + 50, &t, err, sizeof err) == TRIDENT_ENOTFOUND, "nor its session");
    CHECK(store_token_revoke(s, "Ann", now + 11, err, sizeof err) == TRIDENT_ECONFLICT, "revoked twice: %s", err);
    CHECK(store_token_revoke(s, "Nobody", now, err, sizeof err) == TRIDENT_ENOTFOUND, "an unknown name: %s", err);
    CHECK(store_token_active_count(s, &n, err, sizeof err) == 0 && n == 0, "none active");
    store_token *list = NULL;
    size_t count = 0;
    CHECK(store_token_list(s, &list, &count, err, sizeof err) == 0 && count == 1 && list[0].revoked_at == now + 10,
          "the revoked token stays listed: %s", err);
    store_token_list_free(list, count);

    /* the audit log: appended, newest first, by call */
    const char *calls[3] = {"11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222",
                            "11111111-1111-4111-8111-111111111111"};
    for (int i = 0; i < 3; i++) {
        store_audit_entry e = {.at = now + i, .actor = "Ann", .role = "dispatcher", .action = i ? "call" : "recording",
                               .call_id = (char *)calls[i], .address = "192.0.2.7"};
        CHECK(store_audit_insert(s, &e, err, sizeof err) == 0, "audit insert: %s", err);
    }
    store_audit_entry *a = NULL;
    int64_t total = 0;
    CHECK(store_audit_list(s, NULL, 0, 0, &a, &count, &total, err, sizeof err) == 0 && count == 3 && total == 3 &&
              a[0].at == now + 2 && a[2].at == now && strcmp(a[2].action, "recording") == 0 &&
              strcmp(a[0].address, "192.0.2.7") == 0,
          "audit list: %s", err);
    store_audit_free(a, count);
    CHECK(store_audit_list(s, calls[0], 1, 1, &a, &count, &total, err, sizeof err) == 0 && count == 1 && total == 2 &&
              a[0].at == now,
          "audit by call, a page: %s", err);
    store_audit_free(a, count);

    /* retention: closed calls go with their recordings; open ones stay */
    char done[STORE_ID_SIZE], gone[STORE_ID_SIZE], open_[STORE_ID_SIZE], held[STORE_ID_SIZE], path[PATH_MAX];
    CHECK(store_id_generate(done, err, sizeof err) == 0 &&
              store_recording_path(s, done, path, sizeof path, err, sizeof err) == 0, "recording path: %s", err);
    write_file(path, "RIFF", 4);
    char rel[64];
    snprintf(rel, sizeof rel, "%s.wav", done);
    store_fields f = {.transcript = "help"};
    CHECK(store_call_insert_complete(s, STORE_KIND_UPLOAD, done, "u.wav", &f, rel, err, sizeof err) == 0 &&
              upload_in(s, NULL, gone) == 0 && upload_in(s, NULL, open_) == 0 && upload_in(s, NULL, held) == 0,
          "store calls: %s", err);
    CHECK(act(s, done, STORE_ACTION_CLAIM, "Ann", NULL, NULL, STORE_DISPATCH_CLAIMED, "Ann") == 0 &&
              act(s, done, STORE_ACTION_RESOLVE, "Ann", NULL, NULL, STORE_DISPATCH_RESOLVED, "Ann") == 0 &&
              act(s, gone, STORE_ACTION_CANCEL, "Ann", NULL, NULL, STORE_DISPATCH_CANCELLED, NULL) == 0 &&
              act(s, held, STORE_ACTION_CLAIM, "Ann", NULL, NULL, STORE_DISPATCH_CLAIMED, "Ann") == 0,
          "close two, claim one: %s", err);
    int64_t deleted = -1;
    CHECK(store_retention_sweep(s, 1000.0, &deleted, err, sizeof err) == 0 && deleted == 0,
          "nothing older than 1970: %lld %s", (long long)deleted, err);
    CHECK(store_retention_sweep(s, now + 1e8, &deleted, err, sizeof err) == 0 && deleted == 2,
          "the two closed calls: %lld %s", (long long)deleted, err);
    struct stat st;
    CHECK(stat(path, &st) != 0 && errno == ENOENT, "the recording is deleted");
    store_call *c = NULL;
    CHECK(store_call_get(s, done, &c, err, sizeof err) == TRIDENT_ENOTFOUND &&
              store_call_get(s, gone, &c, err, sizeof err) == TRIDENT_ENOTFOUND, "their rows are deleted");
    store_history_entry *h = NULL;
    size_t hn = 9;
    CHECK(store_call_history(s, done, &h, &hn, err, sizeof err) == 0 && hn == 0, "and their history");
    store_history_free(h, hn);
    CHECK(store_call_get(s, open_, &c, err, sizeof err) == 0, "a waiting call is kept");
    store_call_free(c);
    CHECK(store_call_get(s, held, &c, err, sizeof err) == 0, "a claimed call is kept");
    store_call_free(c);
    store_close(s);
}

int main(int argc, char **argv) {
    if (argc > 1) pg_url = argv[1];
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/trident-store-XXXXXX", base && base[0] ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        fprintf(stderr, "mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    test_names();
    test_upload_roundtrip();
    test_live_lifecycle();
    test_bad_fields();
    test_list();
    test_malicious_ids();
    if (pg_url) test_pg_refusals();
    else test_refusals();
    test_crash();
    test_final_states();
    test_migration_from_1();
    test_concurrency();
    test_dispatch_lifecycle();
    test_live_call_in_queue();
    test_held_calls();
    test_migration_from_2();
    test_caller_and_migration_from_3();
    test_concurrent_claims();
    test_access_tables();
    if (check_failures() == 0) cleanup(tmpdir);
    else fprintf(stderr, "kept %s for inspection\n", tmpdir);
    return check_summary();
}
