/* store.c — the backend-independent half of the call store: opening by URL or
 * path, id generation and validation, argument checks and text clean-up before
 * any backend sees them, recording paths, record freeing and the API's JSON. */
#include "store/backend.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/file.h"
#include "base/json.h"
#include "base/log.h"
#include "base/utf8.h"

/* Longest values accepted for short text fields. */
#define STORE_QUEUE_MAX 64
#define STORE_FILENAME_MAX 1024
#define STORE_AUDIO_PATH_MAX 255

char *store_strdup_or_null(const char *s, int *failed) {
    if (!s) return NULL;
    char *d = strdup(s);
    if (!d) *failed = 1;
    return d;
}

/* ---- names ---------------------------------------------------------------- */

const char *store_kind_name(store_kind kind) {
    switch (kind) {
    case STORE_KIND_UPLOAD: return "upload";
    case STORE_KIND_LIVE: return "live";
    default: return "any";
    }
}

const char *store_status_name(store_status status) {
    switch (status) {
    case STORE_STATUS_IN_PROGRESS: return "in_progress";
    case STORE_STATUS_COMPLETED: return "completed";
    case STORE_STATUS_FAILED: return "failed";
    case STORE_STATUS_INTERRUPTED: return "interrupted";
    case STORE_STATUS_TRUNCATED: return "truncated";
    case STORE_STATUS_ABANDONED: return "abandoned";
    default: return "any";
    }
}

store_kind store_kind_parse(const char *name) {
    if (name && strcmp(name, "upload") == 0) return STORE_KIND_UPLOAD;
    if (name && strcmp(name, "live") == 0) return STORE_KIND_LIVE;
    return STORE_KIND_ANY;
}

store_status store_status_parse(const char *name) {
    if (!name) return STORE_STATUS_ANY;
    for (int s = STORE_STATUS_IN_PROGRESS; s <= STORE_STATUS_ABANDONED; s++)
        if (strcmp(name, store_status_name((store_status)s)) == 0) return (store_status)s;
    return STORE_STATUS_ANY;
}

static const char *const dispatch_names[] = {"waiting", "claimed", "dispatched", "resolved", "cancelled", "duplicate"};
static const char *const action_names[] = {"claim", "release", "dispatch", "resolve", "cancel", "duplicate", "override",
                                           "note"};

const char *store_dispatch_name(store_dispatch_state st) {
    return st >= STORE_DISPATCH_WAITING && st <= STORE_DISPATCH_DUPLICATE ? dispatch_names[st] : "any";
}

store_dispatch_state store_dispatch_parse(const char *name) {
    for (int i = 0; name && i <= STORE_DISPATCH_DUPLICATE; i++)
        if (strcmp(name, dispatch_names[i]) == 0) return (store_dispatch_state)i;
    return STORE_DISPATCH_ANY;
}

const char *store_action_name(store_action a) {
    return a >= STORE_ACTION_CLAIM && a < STORE_ACTION_COUNT ? action_names[a] : "unknown";
}

store_action store_action_parse(const char *name) {
    for (int i = 0; name && i < STORE_ACTION_COUNT; i++)
        if (strcmp(name, action_names[i]) == 0) return (store_action)i;
    return STORE_ACTION_COUNT;
}

/* ---- ids ------------------------------------------------------------------ */

int store_id_generate(char id[STORE_ID_SIZE], char *err, size_t err_size) {
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t r = getrandom(b + got, sizeof b - got, 0);
        if (r < 0) {
            if (errno == EINTR) continue;
            return error_set(err, err_size, TRIDENT_EIO, "cannot read random bytes for a call id: %s", strerror(errno));
        }
        got += (size_t)r;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) id[o++] = '-';
        id[o++] = hex[b[i] >> 4];
        id[o++] = hex[b[i] & 15];
    }
    id[o] = '\0';
    return TRIDENT_OK;
}

static int is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

int store_id_valid(const char *id) {
    if (!id) return 0;
    for (size_t i = 0; i < STORE_ID_SIZE - 1; i++) {
        char c = id[i];
        if (c == '\0') return 0;
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-') return 0;
        } else if (!is_hex(c)) {
            return 0;
        }
    }
    return id[STORE_ID_SIZE - 1] == '\0';
}

/* Validates an untrusted id and writes its lowercase form into out. */
static int id_normalize(const char *id, char out[STORE_ID_SIZE], char *err, size_t n) {
    if (!store_id_valid(id)) return error_set(err, n, TRIDENT_ENOTFOUND, "call not found (not a valid call id)");
    for (size_t i = 0; i < STORE_ID_SIZE; i++) {
        out[i] = id[i];
        if (id[i] >= 'A' && id[i] <= 'F') out[i] = "abcdef"[id[i] - 'A'];
    }
    return TRIDENT_OK;
}

/* ---- text ----------------------------------------------------------------- */

/* A copy of s as valid UTF-8 without NULs or control characters other than
 * tab and newline: invalid bytes become U+FFFD. NULL → NULL. Sets *failed
 * when out of memory. Stored text must be valid UTF-8 for PostgreSQL and for
 * the JSON the API returns (ASR output can end inside a multi-byte character). */
static char *text_clean(const char *s, int *failed) {
    if (!s) return NULL;
    size_t n = strlen(s);
    if (n > (SIZE_MAX - 1) / 3) {
        *failed = 1;
        return NULL;
    }
    char *out = malloc(3 * n + 1);
    if (!out) {
        *failed = 1;
        return NULL;
    }
    utf8_repair((const unsigned char *)s, n, out, UTF8_REPAIR_BYTES | UTF8_REPAIR_CONTROLS);
    return out;
}

/* Checked, cleaned copies of the caller's fields; strings owned here. */
typedef struct {
    store_fields f;
    char *transcript, *queue, *analysis, *reason;
} fields_copy;

static void fields_copy_clear(fields_copy *c) {
    free(c->transcript);
    free(c->queue);
    free(c->analysis);
    free(c->reason);
}

static int check_unit(double v, const char *what, char *err, size_t n) {
    if (!isfinite(v)) return error_set(err, n, TRIDENT_EINVAL, "%s is not a finite number", what);
    return TRIDENT_OK;
}

static int fields_prepare(const store_fields *in, fields_copy *out, char *err, size_t n) {
    memset(out, 0, sizeof *out);
    if (!in) {
        out->f.transcript = "";
        return TRIDENT_OK;
    }
    out->f = *in;
    int rc;
    if ((rc = check_unit(in->duration_s, "duration", err, n)) || (rc = check_unit(in->confidence, "confidence", err, n)) ||
        (rc = check_unit(in->content_score, "content score", err, n)) ||
        (rc = check_unit(in->distress_score, "distress score", err, n)))
        return rc;
    if (in->duration_s < 0) return error_set(err, n, TRIDENT_EINVAL, "duration is negative");
    if (in->utterance_count < 0) return error_set(err, n, TRIDENT_EINVAL, "utterance count is negative");
    if (in->priority_level < 0 || in->priority_level > 100)
        return error_set(err, n, TRIDENT_EINVAL, "priority level %d is out of range", in->priority_level);
    out->f.flag_audio_review = in->flag_audio_review != 0;
    out->f.escalation_required = in->escalation_required != 0;
    if (in->queue && (in->queue[0] == '\0' || strlen(in->queue) > STORE_QUEUE_MAX))
        return error_set(err, n, TRIDENT_EINVAL, "queue name is empty or longer than %d bytes", STORE_QUEUE_MAX);
    if (in->analysis_json) {
        json_error_t jerr;
        json_t *j = json_loads(in->analysis_json, JSON_REJECT_DUPLICATES, &jerr);
        if (!j) return error_set(err, n, TRIDENT_EINVAL, "analysis is not valid JSON: %s", jerr.text);
        int is_object = json_is_object(j);
        json_decref(j);
        if (!is_object) return error_set(err, n, TRIDENT_EINVAL, "analysis JSON is not an object");
    }
    int failed = 0;
    out->transcript = text_clean(in->transcript ? in->transcript : "", &failed);
    out->queue = text_clean(in->queue, &failed);
    out->analysis = store_strdup_or_null(in->analysis_json, &failed);
    out->reason = text_clean(in->status_reason, &failed);
    if (failed) {
        fields_copy_clear(out);
        return error_set(err, n, TRIDENT_ENOMEM, "out of memory copying a call record");
    }
    out->f.transcript = out->transcript;
    out->f.queue = out->queue;
    out->f.analysis_json = out->analysis;
    out->f.status_reason = out->reason;
    return TRIDENT_OK;
}

/* A recording's file name: relative, one component, printable, not hidden. */
static int audio_path_check(const char *p, char *err, size_t n) {
    if (!p) return TRIDENT_OK;
    size_t len = strlen(p);
    if (len == 0 || len > STORE_AUDIO_PATH_MAX || p[0] == '.')
        return error_set(err, n, TRIDENT_EINVAL, "recording file name must be 1..%d bytes and not start with '.'",
                         STORE_AUDIO_PATH_MAX);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f)
            return error_set(err, n, TRIDENT_EINVAL, "recording file name must be a plain file name in the recordings directory");
    }
    return TRIDENT_OK;
}

/* ---- open / close --------------------------------------------------------- */

static int starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

static int recordings_dir_make(const char *dir, char *err, size_t n) {
    if (mkdir(dir, 0750) != 0 && errno != EEXIST)
        return error_set(err, n, TRIDENT_EIO, "cannot create the recordings directory '%s': %s", dir, strerror(errno));
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return error_set(err, n, TRIDENT_EIO, "recordings path '%s' is not a directory", dir);
    return TRIDENT_OK;
}

int store_open(const char *url_or_path, const store_options *opt, store **out, char *err, size_t err_size) {
    if (!out) return error_set(err, err_size, TRIDENT_EINVAL, "store_open: no output handle");
    *out = NULL;
    if (!url_or_path || !url_or_path[0]) return error_set(err, err_size, TRIDENT_EINVAL, "no database path or URL given");
    store_options defaults = {0};
    if (!opt) opt = &defaults;
    store *s = calloc(1, sizeof *s);
    if (!s) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory opening the store");

    int rc;
    if (starts_with(url_or_path, "postgres://") || starts_with(url_or_path, "postgresql://")) {
        rc = store_postgres_open(s, url_or_path, opt, err, err_size);
    } else {
        const char *path = url_or_path;
        if (starts_with(path, "sqlite://")) path += strlen("sqlite://");
        else if (starts_with(path, "sqlite:")) path += strlen("sqlite:");
        if (path == url_or_path && strstr(path, "://"))
            rc = error_set(err, err_size, TRIDENT_EUNSUPPORTED,
                           "unknown database URL '%.64s': use a file path, sqlite:PATH or postgres://...", url_or_path);
        else if (!path[0])
            rc = error_set(err, err_size, TRIDENT_EINVAL, "empty SQLite database path");
        else
            rc = store_sqlite_open(s, path, opt, err, err_size);
    }
    if (rc != TRIDENT_OK) {
        free(s);
        return rc;
    }
    if (opt->recordings_dir) {
        if (snprintf(s->recordings_dir, sizeof s->recordings_dir, "%s", opt->recordings_dir) >=
            (int)sizeof s->recordings_dir) {
            store_close(s);
            return error_set(err, err_size, TRIDENT_ELIMIT, "recordings directory path is too long");
        }
    }
    if (s->recordings_dir[0] && (rc = recordings_dir_make(s->recordings_dir, err, err_size)) != TRIDENT_OK) {
        store_close(s);
        return rc;
    }
    if (s->recovered > 0)
        log_warn("store", "marked calls interrupted by a previous run count=%lld", (long long)s->recovered);
    *out = s;
    return TRIDENT_OK;
}

void store_close(store *s) {
    if (!s) return;
    if (s->ops) s->ops->close(s->impl);
    free(s);
}

void store_info_get(const store *s, store_info *out) {
    out->backend = s->ops->name;
    out->location = s->location;
    out->recordings_dir = s->recordings_dir;
    out->schema_version = s->schema_version;
    out->recovered = s->recovered;
}

/* ---- notifications ------------------------------------------------------- */

struct store_listener {
    const store_backend *ops;
    void *impl;
};

int store_shared(const store *s) { return s && s->ops->notify != NULL; }

int store_notify(store *s, const char *payload, char *err, size_t err_size) {
    if (!store_shared(s)) return error_set(err, err_size, TRIDENT_EUNSUPPORTED, "this store has no other servers to notify");
    if (!payload || strlen(payload) > STORE_NOTIFY_MAX)
        return error_set(err, err_size, TRIDENT_EINVAL, "a notification is 0 to %d bytes of text", STORE_NOTIFY_MAX);
    return s->ops->notify(s->impl, payload, err, err_size);
}

int store_listener_open(const store *s, store_listener **out, char *err, size_t err_size) {
    *out = NULL;
    if (!store_shared(s)) return error_set(err, err_size, TRIDENT_EUNSUPPORTED, "this store has no other servers to listen to");
    store_listener *l = calloc(1, sizeof *l);
    if (!l) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory opening a listener");
    l->ops = s->ops;
    int rc = s->ops->listener_open(s->impl, &l->impl, err, err_size);
    if (rc) {
        free(l);
        return rc;
    }
    *out = l;
    return TRIDENT_OK;
}

int store_listener_wait(store_listener *l, int timeout_ms, char **payload, char *err, size_t err_size) {
    *payload = NULL;
    return l->ops->listener_wait(l->impl, timeout_ms, payload, err, err_size);
}

void store_listener_close(store_listener *l) {
    if (!l) return;
    l->ops->listener_close(l->impl);
    free(l);
}

/* ---- recordings ----------------------------------------------------------- */

int store_recording_path(const store *s, const char *id, char *out, size_t out_size, char *err, size_t err_size) {
    char norm[STORE_ID_SIZE];
    int rc = id_normalize(id, norm, err, err_size);
    if (rc) return rc;
    if (!s->recordings_dir[0])
        return error_set(err, err_size, TRIDENT_EUNSUPPORTED, "this store has no recordings directory");
    char name[STORE_ID_SIZE + 4];
    snprintf(name, sizeof name, "%s.wav", norm);
    if (path_join(out, out_size, s->recordings_dir, name) != 0)
        return error_set(err, err_size, TRIDENT_ELIMIT, "recording path does not fit in %zu bytes", out_size);
    return TRIDENT_OK;
}

int store_call_audio_file(store *s, const char *id, char *out, size_t out_size, char *err, size_t err_size) {
    store_call *c = NULL;
    int rc = store_call_get(s, id, &c, err, err_size);
    if (rc) return rc;
    if (!c->audio_path || !s->recordings_dir[0]) {
        rc = error_set(err, err_size, TRIDENT_ENOTFOUND, "call %s has no recording", c->id);
    } else if (audio_path_check(c->audio_path, NULL, 0) != 0) {
        rc = error_set(err, err_size, TRIDENT_ENOTFOUND, "call %s has no usable recording", c->id);
    } else if (path_join(out, out_size, s->recordings_dir, c->audio_path) != 0) {
        rc = error_set(err, err_size, TRIDENT_ELIMIT, "recording path does not fit in %zu bytes", out_size);
    } else {
        struct stat st;
        if (stat(out, &st) != 0 || !S_ISREG(st.st_mode))
            rc = error_set(err, err_size, TRIDENT_ENOTFOUND, "the recording of call %s is missing", c->id);
    }
    store_call_free(c);
    return rc;
}

/* ---- writes --------------------------------------------------------------- */

int store_caller_check(const char *caller, char *err, size_t n) {
    size_t len = caller ? strlen(caller) : 0;
    if (len == 0) return error_set(err, n, TRIDENT_EINVAL, "the caller is empty");
    if (len > STORE_CALLER_MAX)
        return error_set(err, n, TRIDENT_EINVAL, "the caller is %zu bytes long; at most %d are kept", len, STORE_CALLER_MAX);
    const unsigned char *p = (const unsigned char *)caller;
    for (size_t i = 0; i < len;) {
        size_t k = utf8_sequence_len(p + i, len - i);
        if (k == 0) return error_set(err, n, TRIDENT_EINVAL, "the caller is not valid UTF-8 (byte %zu)", i);
        /* C0 and DEL are single bytes; C1 (U+0080..U+009F) is C2 80..C2 9F */
        if ((k == 1 && (p[i] < 0x20 || p[i] == 0x7f)) || (k == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0))
            return error_set(err, n, TRIDENT_EINVAL, "the caller holds a control character (byte %zu): printable text only", i);
        i += k;
    }
    return TRIDENT_OK;
}

static int row_insert(store *s, store_kind kind, store_status status, char id[STORE_ID_SIZE], const char *filename,
                      const char *caller, const store_fields *fields, const char *audio_path, char *err, size_t n) {
    if (!s || !id) return error_set(err, n, TRIDENT_EINVAL, "store: missing handle or id buffer");
    if (kind != STORE_KIND_UPLOAD && kind != STORE_KIND_LIVE)
        return error_set(err, n, TRIDENT_EINVAL, "call kind must be upload or live");
    int rc;
    char norm[STORE_ID_SIZE];
    if (id[0] == '\0') {
        if ((rc = store_id_generate(norm, err, n))) return rc;
    } else if (id_normalize(id, norm, NULL, 0) != 0) {
        return error_set(err, n, TRIDENT_EINVAL, "'%.40s' is not a valid call id", id);
    }
    if ((rc = audio_path_check(audio_path, err, n))) return rc;
    if (filename && strlen(filename) > STORE_FILENAME_MAX)
        return error_set(err, n, TRIDENT_EINVAL, "file name is longer than %d bytes", STORE_FILENAME_MAX);
    if (caller && (rc = store_caller_check(caller, err, n))) return rc;
    fields_copy fc;
    if ((rc = fields_prepare(fields, &fc, err, n))) return rc;
    int failed = 0;
    char *fname = text_clean(filename, &failed);
    if (failed) {
        fields_copy_clear(&fc);
        return error_set(err, n, TRIDENT_ENOMEM, "out of memory copying a call record");
    }
    store_row row = {.id = norm, .kind = kind, .status = status, .now = clock_wall_s(), .filename = fname,
                     .caller = caller, .fields = &fc.f, .audio_path = audio_path};
    rc = s->ops->insert(s->impl, &row, err, n);
    free(fname);
    fields_copy_clear(&fc);
    if (rc == TRIDENT_OK) memcpy(id, norm, STORE_ID_SIZE);
    return rc;
}

int store_call_create(store *s, store_kind kind, char id[STORE_ID_SIZE], const char *filename, const char *caller,
                      const store_fields *fields, const char *audio_path, char *err, size_t err_size) {
    return row_insert(s, kind, STORE_STATUS_IN_PROGRESS, id, filename, caller, fields, audio_path, err, err_size);
}

int store_call_insert_complete(store *s, store_kind kind, char id[STORE_ID_SIZE], const char *filename,
                               const store_fields *fields, const char *audio_path, char *err, size_t err_size) {
    return row_insert(s, kind, STORE_STATUS_COMPLETED, id, filename, NULL, fields, audio_path, err, err_size);
}

static int row_update(store *s, const char *id, store_status status, const store_fields *fields, const char *audio_path,
                      char *err, size_t n) {
    if (!s) return error_set(err, n, TRIDENT_EINVAL, "store: missing handle");
    char norm[STORE_ID_SIZE];
    int rc = id_normalize(id, norm, err, n);
    if (rc) return rc;
    if ((rc = audio_path_check(audio_path, err, n))) return rc;
    fields_copy fc;
    if (fields && (rc = fields_prepare(fields, &fc, err, n))) return rc;
    rc = s->ops->update(s->impl, norm, status, clock_wall_s(), fields ? &fc.f : NULL, audio_path, err, n);
    if (fields) fields_copy_clear(&fc);
    return rc;
}

int store_call_update_progress(store *s, const char *id, const store_fields *fields, char *err, size_t err_size) {
    if (!fields) return error_set(err, err_size, TRIDENT_EINVAL, "store_call_update_progress: no fields");
    return row_update(s, id, STORE_STATUS_IN_PROGRESS, fields, NULL, err, err_size);
}

int store_call_finalize(store *s, const char *id, store_status status, const store_fields *fields,
                        const char *audio_path, char *err, size_t err_size) {
    if (status == STORE_STATUS_IN_PROGRESS || status < STORE_STATUS_IN_PROGRESS || status > STORE_STATUS_ABANDONED)
        return error_set(err, err_size, TRIDENT_EINVAL,
                         "a call is finalised as completed, failed, interrupted, truncated or abandoned");
    return row_update(s, id, status, fields, audio_path, err, err_size);
}

/* ---- reads ---------------------------------------------------------------- */

int store_call_get(store *s, const char *id, store_call **out, char *err, size_t err_size) {
    if (!s || !out) return error_set(err, err_size, TRIDENT_EINVAL, "store_call_get: missing handle or output");
    *out = NULL;
    char norm[STORE_ID_SIZE];
    int rc = id_normalize(id, norm, err, err_size);
    if (rc) return rc;
    return s->ops->get(s->impl, norm, out, err, err_size);
}

int store_call_row_read(const store_row_reader *r, store_call *c) {
    memset(c, 0, sizeof *c);
    int failed = 0;
    const char *id = r->text(r->row, STORE_COL_ID, &failed);
    snprintf(c->id, sizeof c->id, "%s", id ? id : "");
    c->kind = store_kind_parse(r->text(r->row, STORE_COL_KIND, &failed));
    c->status = store_status_parse(r->text(r->row, STORE_COL_STATUS, &failed));
    c->created_at = r->real(r->row, STORE_COL_CREATED_AT);
    c->updated_at = r->real(r->row, STORE_COL_UPDATED_AT);
    c->duration_s = r->real(r->row, STORE_COL_DURATION);
    const char *transcript = r->text(r->row, STORE_COL_TRANSCRIPT, &failed);
    c->transcript = store_strdup_or_null(transcript ? transcript : "", &failed);
    c->confidence = r->real(r->row, STORE_COL_CONFIDENCE);
    c->content_score = r->real(r->row, STORE_COL_CONTENT_SCORE);
    c->distress_score = r->real(r->row, STORE_COL_DISTRESS_SCORE);
    c->queue = store_strdup_or_null(r->text(r->row, STORE_COL_QUEUE, &failed), &failed);
    c->priority_level = (int)r->integer(r->row, STORE_COL_PRIORITY_LEVEL);
    c->flag_audio_review = r->integer(r->row, STORE_COL_FLAG_AUDIO_REVIEW) != 0;
    c->escalation_required = r->integer(r->row, STORE_COL_ESCALATION_REQUIRED) != 0;
    c->analysis_json = store_strdup_or_null(r->text(r->row, STORE_COL_ANALYSIS_JSON, &failed), &failed);
    c->audio_path = store_strdup_or_null(r->text(r->row, STORE_COL_AUDIO_PATH, &failed), &failed);
    c->filename = store_strdup_or_null(r->text(r->row, STORE_COL_FILENAME, &failed), &failed);
    c->utterance_count = (int)r->integer(r->row, STORE_COL_UTTERANCE_COUNT);
    c->status_reason = store_strdup_or_null(r->text(r->row, STORE_COL_STATUS_REASON, &failed), &failed);
    c->dispatch_state = store_dispatch_parse(r->text(r->row, STORE_COL_DISPATCH_STATE, &failed));
    c->claimed_by = store_strdup_or_null(r->text(r->row, STORE_COL_CLAIMED_BY, &failed), &failed);
    c->duplicate_of = store_strdup_or_null(r->text(r->row, STORE_COL_DUPLICATE_OF, &failed), &failed);
    c->queue_override = store_strdup_or_null(r->text(r->row, STORE_COL_QUEUE_OVERRIDE, &failed), &failed);
    c->waiting_since = r->real(r->row, STORE_COL_WAITING_SINCE);
    c->dispatch_updated_at = r->real(r->row, STORE_COL_DISPATCH_UPDATED_AT);
    c->caller = store_strdup_or_null(r->text(r->row, STORE_COL_CALLER, &failed), &failed);
    return failed ? TRIDENT_ENOMEM : TRIDENT_OK;
}

static void call_strings_clear(store_call *c) {
    free(c->transcript);
    free(c->queue);
    free(c->analysis_json);
    free(c->audio_path);
    free(c->filename);
    free(c->status_reason);
    free(c->claimed_by);
    free(c->duplicate_of);
    free(c->queue_override);
    free(c->caller);
}

void store_call_free(store_call *c) {
    if (!c) return;
    call_strings_clear(c);
    free(c);
}

int store_call_list(store *s, const store_filter *filter, store_page *out, char *err, size_t err_size) {
    if (!s || !out) return error_set(err, err_size, TRIDENT_EINVAL, "store_call_list: missing handle or output");
    memset(out, 0, sizeof *out);
    store_filter f = {.kind = STORE_KIND_ANY, .status = STORE_STATUS_ANY};
    if (filter) f = *filter;
    if (f.kind != STORE_KIND_ANY && f.kind != STORE_KIND_UPLOAD && f.kind != STORE_KIND_LIVE)
        return error_set(err, err_size, TRIDENT_EINVAL, "unknown call kind filter");
    if (f.status < STORE_STATUS_ANY || f.status > STORE_STATUS_ABANDONED)
        return error_set(err, err_size, TRIDENT_EINVAL, "unknown call status filter");
    if (f.limit < 0) return error_set(err, err_size, TRIDENT_EINVAL, "limit must not be negative");
    if (f.offset < 0) return error_set(err, err_size, TRIDENT_EINVAL, "offset must not be negative");
    if (f.limit == 0) f.limit = STORE_LIST_DEFAULT;
    if (f.limit > STORE_LIST_MAX) f.limit = STORE_LIST_MAX;
    if (f.queue && strlen(f.queue) > STORE_QUEUE_MAX) {
        /* No stored queue is that long: an empty page, without a query. */
        out->total = 0;
        return TRIDENT_OK;
    }
    return s->ops->list(s->impl, &f, out, err, err_size);
}

void store_page_clear(store_page *page) {
    if (!page) return;
    for (size_t i = 0; i < page->count; i++) call_strings_clear(&page->items[i]);
    free(page->items);
    memset(page, 0, sizeof *page);
}

int store_page_finish(store_page *page, store_call *items, size_t count, int64_t total, int rc) {
    store_page got = {.items = items, .count = count, .total = total};
    if (rc != TRIDENT_OK) {
        store_page_clear(&got);
        return rc;
    }
    *page = got;
    return TRIDENT_OK;
}

int store_counts_get(store *s, store_counts *out, char *err, size_t err_size) {
    if (!s || !out) return error_set(err, err_size, TRIDENT_EINVAL, "store_counts_get: missing handle or output");
    memset(out, 0, sizeof *out);
    return s->ops->counts(s->impl, out, err, err_size);
}

/* ---- dispatch ------------------------------------------------------------- */

/* The call's state forbids the action: a message naming who holds it. */
static int conflict(const char *id, const store_dispatch_request *req, store_dispatch_state cur, const char *holder,
                    char *err, size_t n) {
    if ((cur == STORE_DISPATCH_CLAIMED || cur == STORE_DISPATCH_DISPATCHED) && holder && strcmp(holder, req->actor) != 0)
        return error_set(err, n, TRIDENT_ECONFLICT, "call %s is %s by %s; %s is not possible", id,
                         store_dispatch_name(cur), holder, store_action_name(req->action));
    return error_set(err, n, TRIDENT_ECONFLICT, "call %s is %s; %s is not possible", id, store_dispatch_name(cur),
                     store_action_name(req->action));
}

int store_dispatch_decide(const char *id, const store_dispatch_request *req, store_dispatch_state cur,
                          const char *claimed_by, store_dispatch_decision *d, char *err, size_t n) {
    int mine = claimed_by && strcmp(claimed_by, req->actor) == 0;
    int held_by_me = (cur == STORE_DISPATCH_CLAIMED || cur == STORE_DISPATCH_DISPATCHED) && mine;
    int open_to_me = cur == STORE_DISPATCH_WAITING || (cur == STORE_DISPATCH_CLAIMED && mine);
    d->to = cur;
    d->claimed_by = claimed_by;
    d->wait_again = 0;
    switch (req->action) {
    case STORE_ACTION_CLAIM:
        if (cur != STORE_DISPATCH_WAITING) return conflict(id, req, cur, claimed_by, err, n);
        d->to = STORE_DISPATCH_CLAIMED;
        d->claimed_by = req->actor;
        return TRIDENT_OK;
    case STORE_ACTION_RELEASE:
        if (!(cur == STORE_DISPATCH_CLAIMED && mine)) return conflict(id, req, cur, claimed_by, err, n);
        d->to = STORE_DISPATCH_WAITING;
        d->claimed_by = NULL;
        d->wait_again = 1;
        return TRIDENT_OK;
    case STORE_ACTION_DISPATCH:
        if (!(cur == STORE_DISPATCH_CLAIMED && mine)) return conflict(id, req, cur, claimed_by, err, n);
        d->to = STORE_DISPATCH_DISPATCHED;
        return TRIDENT_OK;
    case STORE_ACTION_RESOLVE:
        if (!held_by_me) return conflict(id, req, cur, claimed_by, err, n);
        d->to = STORE_DISPATCH_RESOLVED;
        return TRIDENT_OK;
    case STORE_ACTION_CANCEL:
    case STORE_ACTION_DUPLICATE:
        if (!open_to_me) return conflict(id, req, cur, claimed_by, err, n);
        d->to = req->action == STORE_ACTION_CANCEL ? STORE_DISPATCH_CANCELLED : STORE_DISPATCH_DUPLICATE;
        d->claimed_by = req->actor;
        return TRIDENT_OK;
    case STORE_ACTION_OVERRIDE:
        if (!open_to_me) return conflict(id, req, cur, claimed_by, err, n);
        return TRIDENT_OK;
    case STORE_ACTION_NOTE: return TRIDENT_OK;
    default: return error_set(err, n, TRIDENT_EINVAL, "unknown dispatch action");
    }
}

/* 1 when s is well-formed UTF-8 throughout. */
static int utf8_ok(const char *s) {
    size_t n = strlen(s);
    for (size_t i = 0; i < n;) {
        size_t k = utf8_sequence_len((const unsigned char *)s + i, n - i);
        if (!k) return 0;
        i += k;
    }
    return 1;
}

static int text_ok(const char *t, size_t max) { return t && t[0] && strlen(t) <= max && utf8_ok(t); }

/* Checks a request before any backend sees it. */
static int request_check(const char *id, const store_dispatch_request *req, char *err, size_t n) {
    if (!req || req->action < STORE_ACTION_CLAIM || req->action >= STORE_ACTION_COUNT)
        return error_set(err, n, TRIDENT_EINVAL, "unknown dispatch action");
    if (!text_ok(req->actor, STORE_ACTOR_MAX))
        return error_set(err, n, TRIDENT_EINVAL, "a dispatcher name of 1..%d bytes of UTF-8 is required", STORE_ACTOR_MAX);
    if (req->note && (strlen(req->note) > STORE_NOTE_MAX || !utf8_ok(req->note)))
        return error_set(err, n, TRIDENT_EINVAL, "a note is at most %d bytes of UTF-8", STORE_NOTE_MAX);
    int needs_note = req->action == STORE_ACTION_OVERRIDE || req->action == STORE_ACTION_NOTE;
    if (needs_note && !text_ok(req->note, STORE_NOTE_MAX))
        return error_set(err, n, TRIDENT_EINVAL, "%s needs a non-empty %s", store_action_name(req->action),
                         req->action == STORE_ACTION_OVERRIDE ? "reason" : "note");
    if (req->action == STORE_ACTION_OVERRIDE && !text_ok(req->queue, STORE_QUEUE_MAX))
        return error_set(err, n, TRIDENT_EINVAL, "override needs the queue to move the call to");
    if (req->action == STORE_ACTION_DUPLICATE) {
        if (!store_id_valid(req->of)) return error_set(err, n, TRIDENT_EINVAL, "duplicate needs the id of the original call");
        if (id && strcasecmp(req->of, id) == 0) return error_set(err, n, TRIDENT_EINVAL, "a call cannot duplicate itself");
    }
    return TRIDENT_OK;
}

int store_call_dispatch(store *s, const char *id, const store_dispatch_request *req, store_call **out, char *err,
                        size_t err_size) {
    if (out) *out = NULL;
    if (!s) return error_set(err, err_size, TRIDENT_EINVAL, "store: missing handle");
    char norm[STORE_ID_SIZE], of[STORE_ID_SIZE], acted[STORE_ID_SIZE] = "";
    int rc = id_normalize(id, norm, err, err_size);
    if (rc) return rc;
    if ((rc = request_check(norm, req, err, err_size))) return rc;
    store_dispatch_request r = *req;
    if (r.action == STORE_ACTION_DUPLICATE) {
        id_normalize(req->of, of, NULL, 0);
        r.of = of;
    }
    rc = s->ops->dispatch(s->impl, norm, &r, clock_wall_s(), acted, err, err_size);
    if ((rc == TRIDENT_OK || rc == TRIDENT_ECONFLICT) && out) {
        char gerr[TRIDENT_ERR_SIZE];
        int g = store_call_get(s, norm, out, gerr, sizeof gerr);
        if (g && rc == TRIDENT_OK) return error_set(err, err_size, g, "%s", gerr);
    }
    return rc;
}

int store_queue_next(store *s, const char *actor, store_call **out, char *err, size_t err_size) {
    if (!s || !out) return error_set(err, err_size, TRIDENT_EINVAL, "store_queue_next: missing handle or output");
    *out = NULL;
    store_dispatch_request r = {.action = STORE_ACTION_CLAIM, .actor = actor};
    int rc = request_check(NULL, &r, err, err_size);
    if (rc) return rc;
    char acted[STORE_ID_SIZE] = "";
    rc = s->ops->dispatch(s->impl, NULL, &r, clock_wall_s(), acted, err, err_size);
    if (rc) return rc;
    return store_call_get(s, acted, out, err, err_size);
}

int store_queue_list(store *s, int64_t limit, store_page *out, char *err, size_t err_size) {
    if (!s || !out) return error_set(err, err_size, TRIDENT_EINVAL, "store_queue_list: missing handle or output");
    memset(out, 0, sizeof *out);
    if (limit < 0) return error_set(err, err_size, TRIDENT_EINVAL, "limit must not be negative");
    if (limit == 0) limit = STORE_LIST_DEFAULT;
    if (limit > STORE_LIST_MAX) limit = STORE_LIST_MAX;
    return s->ops->queue(s->impl, NULL, limit, out, err, err_size);
}

int store_held_list(store *s, const char *holder, int64_t limit, store_page *out, char *err, size_t err_size) {
    if (!s || !out || !holder) return error_set(err, err_size, TRIDENT_EINVAL, "store_held_list: missing argument");
    memset(out, 0, sizeof *out);
    if (limit < 0) return error_set(err, err_size, TRIDENT_EINVAL, "limit must not be negative");
    if (limit == 0) limit = STORE_LIST_DEFAULT;
    if (limit > STORE_LIST_MAX) limit = STORE_LIST_MAX;
    if (!*holder || strlen(holder) > STORE_ACTOR_MAX) return TRIDENT_OK; /* nobody of that name holds a call */
    return s->ops->queue(s->impl, holder, limit, out, err, err_size);
}

int store_call_history(store *s, const char *id, store_history_entry **out, size_t *count, char *err, size_t err_size) {
    if (!s || !out || !count) return error_set(err, err_size, TRIDENT_EINVAL, "store_call_history: missing output");
    *out = NULL;
    *count = 0;
    char norm[STORE_ID_SIZE];
    int rc = id_normalize(id, norm, err, err_size);
    if (rc) return rc;
    return s->ops->history(s->impl, norm, out, count, err, err_size);
}

void store_history_free(store_history_entry *h, size_t count) {
    if (!h) return;
    for (size_t i = 0; i < count; i++) {
        free(h[i].actor);
        free(h[i].action);
        free(h[i].from_state);
        free(h[i].to_state);
        free(h[i].note);
    }
    free(h);
}

const char *store_call_effective_queue(const store_call *c) { return c->queue_override ? c->queue_override : c->queue; }

/* ---- JSON ----------------------------------------------------------------- */

/* json_object_set_new that records failure (a NULL value or a failed set). */
static void jset(json_t *o, const char *key, json_t *v, int *failed) {
    if (!v || json_object_set_new(o, key, v) != 0) *failed = 1;
}

json_t *store_call_to_json(const store_call *c) {
    if (!c) return NULL;
    json_t *o = json_object();
    if (!o) return NULL;
    int failed = 0;
    char created[32], updated[32];
    clock_iso8601(c->created_at, created, sizeof created);
    clock_iso8601(c->updated_at, updated, sizeof updated);
    jset(o, "id", json_string(c->id), &failed);
    jset(o, "kind", json_string(store_kind_name(c->kind)), &failed);
    jset(o, "status", json_string(store_status_name(c->status)), &failed);
    jset(o, "created_at", json_string(created), &failed);
    jset(o, "updated_at", json_string(updated), &failed);
    jset(o, "duration", json_real(c->duration_s), &failed);
    jset(o, "transcript", json_text(c->transcript), &failed);
    jset(o, "confidence", json_real(c->confidence), &failed);
    jset(o, "content_score", json_real(c->content_score), &failed);
    jset(o, "distress_score", json_real(c->distress_score), &failed);
    jset(o, "queue", json_text_or_null(c->queue), &failed);
    jset(o, "priority_level", json_integer(c->priority_level), &failed);
    jset(o, "flag_audio_review", json_boolean(c->flag_audio_review), &failed);
    jset(o, "escalation_required", json_boolean(c->escalation_required), &failed);
    json_t *flags = json_object();
    if (flags) {
        jset(flags, "audio_review", json_boolean(c->flag_audio_review), &failed);
        jset(flags, "escalation_required", json_boolean(c->escalation_required), &failed);
    }
    jset(o, "flags", flags, &failed);
    jset(o, "filename", json_text_or_null(c->filename), &failed);
    jset(o, "caller", json_text_or_null(c->caller), &failed);
    jset(o, "utterance_count", json_integer(c->utterance_count), &failed);
    jset(o, "status_reason", json_text_or_null(c->status_reason), &failed);
    json_t *analysis = NULL;
    if (c->analysis_json) analysis = json_loads(c->analysis_json, 0, NULL);
    jset(o, "analysis", analysis ? analysis : json_null(), &failed);
    jset(o, "dispatch", store_dispatch_to_json(c), &failed);
    if (c->audio_path) {
        char url[80];
        snprintf(url, sizeof url, "/api/calls/%s/audio", c->id);
        jset(o, "audio_url", json_string(url), &failed);
    }
    if (failed) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *store_dispatch_to_json(const store_call *c) {
    json_t *o = json_object();
    if (!o) return NULL;
    int failed = 0;
    char since[32], updated[32];
    clock_iso8601(c->waiting_since, since, sizeof since);
    clock_iso8601(c->dispatch_updated_at, updated, sizeof updated);
    jset(o, "state", json_string(store_dispatch_name(c->dispatch_state)), &failed);
    jset(o, "claimed_by", json_text_or_null(c->claimed_by), &failed);
    jset(o, "duplicate_of", json_text_or_null(c->duplicate_of), &failed);
    jset(o, "queue", json_text_or_null(store_call_effective_queue(c)), &failed);
    jset(o, "queue_override", json_text_or_null(c->queue_override), &failed);
    jset(o, "waiting_since", json_string(since), &failed);
    jset(o, "updated_at", json_string(updated), &failed);
    if (failed) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *store_history_to_json(const store_history_entry *h, size_t count) {
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < count; i++) {
        char at[32];
        clock_iso8601(h[i].at, at, sizeof at);
        json_t *e = json_pack("{s:i, s:s, s:o, s:o, s:o, s:o, s:o}", "seq", h[i].seq, "at", at, "by",
                              json_text(h[i].actor), "action", json_text(h[i].action), "from", json_text(h[i].from_state),
                              "to", json_text(h[i].to_state), "note", json_text_or_null(h[i].note));
        if (!e || json_array_append_new(arr, e) != 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    return arr;
}
