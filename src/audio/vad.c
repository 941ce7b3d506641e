/* vad.c — streaming energy-based voice-activity detection for live calls:
 * 30-ms frames, an adaptive noise floor, onset/hangover hysteresis, a minimum
 * utterance length and a hard cap (30 s) per utterance. The detector keeps
 * only the audio it may still have to return (the open utterance, or a short
 * pre-roll while silent), so memory stays bounded however long the call. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "audio/audio.h"
#include "audio/internal.h"
#include "base/error.h"

struct audio_vad {
    audio_vad_config cfg;
    size_t frame_len, hangover, min_len, max_len, pre_roll, post_roll;
    double rise_per_frame; /* dB the floor may rise per frame */

    audio_fbuf buf;    /* stream samples [buf_base, buf_base + buf.len) */
    size_t buf_base;
    size_t total;      /* samples fed */
    size_t next_frame; /* stream position of the next frame to analyse */

    double floor_db;
    int have_floor;
    int in_speech;
    size_t utt_start;       /* open utterance start (with pre-roll) */
    size_t speech_start;    /* its first speech frame */
    size_t last_speech_end; /* end of the last speech frame */
    int onset_count;        /* consecutive speech frames while silent */
    size_t onset_start;     /* first of them */
    size_t prev_end;        /* end of the last closed utterance */

    audio_utterance *queue; /* completed utterances [q_head, q_len) */
    size_t q_head, q_len, q_cap;
};

void audio_vad_config_default(audio_vad_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->sample_rate = 16000;
    cfg->frame_ms = 30.0;
    cfg->threshold_db = 10.0;
    cfg->min_energy_db = -50.0;
    cfg->noise_rise_db_s = 15.0;
    cfg->noise_fall = 0.5;
    cfg->initial_floor_db = -60.0;
    cfg->onset_frames = 2;
    cfg->hangover_s = 0.6;
    cfg->min_utterance_s = 0.25;
    cfg->max_utterance_s = 30.0;
    cfg->pre_roll_s = 0.2;
    cfg->post_roll_s = 0.2;
}

static int config_check(const audio_vad_config *c, char *err, size_t err_size) {
#define BAD(field, why) return error_set(err, err_size, TRIDENT_EINVAL, "VAD configuration: %s %s", field, why)
    if (c->sample_rate < 1000 || c->sample_rate > 768000) BAD("sample_rate", "must be 1000..768000 Hz");
    if (!(c->frame_ms >= 5 && c->frame_ms <= 100)) BAD("frame_ms", "must be 5..100");
    if (!(c->threshold_db > 0 && c->threshold_db < 80)) BAD("threshold_db", "must be in (0, 80)");
    if (!(c->min_energy_db >= -140 && c->min_energy_db <= 0)) BAD("min_energy_db", "must be -140..0 dBFS");
    if (!(c->noise_rise_db_s >= 0 && c->noise_rise_db_s <= 100)) BAD("noise_rise_db_s", "must be 0..100");
    if (!(c->noise_fall > 0 && c->noise_fall <= 1)) BAD("noise_fall", "must be in (0, 1]");
    if (!(c->initial_floor_db >= -140 && c->initial_floor_db <= 0)) BAD("initial_floor_db", "must be -140..0 dBFS");
    if (c->onset_frames < 1 || c->onset_frames > 100) BAD("onset_frames", "must be 1..100");
    if (!(c->hangover_s >= 0 && c->hangover_s <= 10)) BAD("hangover_s", "must be 0..10 s");
    if (!(c->max_utterance_s >= 1 && c->max_utterance_s <= 600)) BAD("max_utterance_s", "must be 1..600 s");
    if (!(c->min_utterance_s >= 0 && c->min_utterance_s < c->max_utterance_s))
        BAD("min_utterance_s", "must be >= 0 and below max_utterance_s");
    if (!(c->pre_roll_s >= 0 && c->pre_roll_s <= 2)) BAD("pre_roll_s", "must be 0..2 s");
    if (!(c->post_roll_s >= 0 && c->post_roll_s <= 2)) BAD("post_roll_s", "must be 0..2 s");
#undef BAD
    return TRIDENT_OK;
}

int audio_vad_new(const audio_vad_config *cfg, audio_vad **out, char *err, size_t err_size) {
    *out = NULL;
    audio_vad_config def;
    if (!cfg) {
        audio_vad_config_default(&def);
        cfg = &def;
    }
    int rc = config_check(cfg, err, err_size);
    if (rc) return rc;
    audio_vad *v = calloc(1, sizeof *v);
    if (!v) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory creating a VAD");
    v->cfg = *cfg;
    double sr = cfg->sample_rate;
    v->frame_len = (size_t)lround(sr * cfg->frame_ms / 1000.0);
    v->hangover = (size_t)lround(sr * cfg->hangover_s);
    v->min_len = (size_t)lround(sr * cfg->min_utterance_s);
    v->max_len = (size_t)lround(sr * cfg->max_utterance_s);
    v->pre_roll = (size_t)lround(sr * cfg->pre_roll_s);
    v->post_roll = (size_t)lround(sr * cfg->post_roll_s);
    v->rise_per_frame = cfg->noise_rise_db_s * cfg->frame_ms / 1000.0;
    v->floor_db = cfg->initial_floor_db;
    *out = v;
    return TRIDENT_OK;
}

void audio_utterance_clear(audio_utterance *u) {
    if (!u) return;
    free(u->samples);
    memset(u, 0, sizeof *u);
}

void audio_vad_free(audio_vad *vad) {
    if (!vad) return;
    for (size_t i = vad->q_head; i < vad->q_len; i++) free(vad->queue[i].samples);
    free(vad->queue);
    free(vad->buf.data);
    free(vad);
}

/* Queues a copy of stream samples [start, end). */
static int vad_emit(audio_vad *v, size_t start, size_t end, int capped) {
    if (v->q_len == v->q_cap) {
        if (v->q_head > 0) { /* reuse the consumed front */
            memmove(v->queue, v->queue + v->q_head, (v->q_len - v->q_head) * sizeof *v->queue);
            v->q_len -= v->q_head;
            v->q_head = 0;
        }
        if (v->q_len == v->q_cap) {
            size_t cap = v->q_cap ? v->q_cap * 2 : 4;
            audio_utterance *q = realloc(v->queue, cap * sizeof *q);
            if (!q) return TRIDENT_ENOMEM;
            v->queue = q;
            v->q_cap = cap;
        }
    }
    size_t n = end - start;
    float *s = malloc(n * sizeof(float));
    if (!s) return TRIDENT_ENOMEM;
    memcpy(s, v->buf.data + (start - v->buf_base), n * sizeof(float));
    v->queue[v->q_len++] = (audio_utterance){.start = start, .end = end, .samples = s, .n_samples = n,
                                             .capped = capped};
    return TRIDENT_OK;
}

/* Ends the open utterance at end (kept if long enough). */
static int vad_close(audio_vad *v, size_t end) {
    int rc = TRIDENT_OK;
    size_t speech = v->last_speech_end > v->speech_start ? v->last_speech_end - v->speech_start : 0;
    if (end > v->utt_start && speech >= v->min_len && speech > 0) rc = vad_emit(v, v->utt_start, end, 0);
    v->prev_end = end > v->utt_start ? end : v->utt_start;
    v->in_speech = 0;
    v->onset_count = 0;
    return rc;
}

/* Classifies stream samples [start, start + len) and advances the state machine. */
static int vad_frame(audio_vad *v, size_t start, size_t len) {
    const float *x = v->buf.data + (start - v->buf_base);
    double acc = 0;
    for (size_t i = 0; i < len; i++) acc += (double)x[i] * x[i];
    double e_db = 10.0 * log10(acc / (double)len + 1e-12);
    if (!v->have_floor) { /* the first frame sets the floor: calls start with background, not speech */
        v->floor_db = e_db < v->cfg.initial_floor_db ? v->cfg.initial_floor_db : e_db;
        if (e_db > v->cfg.min_energy_db + v->cfg.threshold_db) v->floor_db = v->cfg.initial_floor_db;
        v->have_floor = 1;
    }
    int speech = e_db > v->floor_db + v->cfg.threshold_db && e_db > v->cfg.min_energy_db;

    /* Noise floor: falls quickly towards quiet frames, rises slowly. */
    if (e_db < v->floor_db)
        v->floor_db += (e_db - v->floor_db) * v->cfg.noise_fall;
    else
        v->floor_db += fmin(e_db - v->floor_db, v->rise_per_frame);
    if (v->floor_db < -140.0) v->floor_db = -140.0;

    size_t frame_end = start + len;
    int rc = TRIDENT_OK;
    if (!v->in_speech) {
        if (speech) {
            if (v->onset_count++ == 0) v->onset_start = start;
            if (v->onset_count >= v->cfg.onset_frames) {
                size_t s = v->onset_start > v->pre_roll ? v->onset_start - v->pre_roll : 0;
                if (s < v->prev_end) s = v->prev_end;
                if (s < v->buf_base) s = v->buf_base;
                v->utt_start = s;
                v->speech_start = v->onset_start;
                v->in_speech = 1;
                v->last_speech_end = frame_end;
                v->onset_count = 0;
            }
        } else {
            v->onset_count = 0;
        }
    } else if (speech) {
        v->last_speech_end = frame_end;
    } else if (frame_end - v->last_speech_end >= v->hangover) {
        size_t end = v->last_speech_end + v->post_roll;
        rc = vad_close(v, end < frame_end ? end : frame_end);
    }
    /* Hard cap: cut at exactly max_len; speech goes on in the next utterance. */
    while (!rc && v->in_speech && frame_end - v->utt_start >= v->max_len) {
        size_t cut = v->utt_start + v->max_len;
        rc = vad_emit(v, v->utt_start, cut, 1);
        v->utt_start = cut;
        v->speech_start = cut;
        v->prev_end = cut;
        if (v->last_speech_end < cut) v->last_speech_end = cut;
    }
    return rc;
}

/* Drops buffered samples that no utterance can still need. */
static void vad_trim(audio_vad *v) {
    size_t keep;
    if (v->in_speech)
        keep = v->utt_start;
    else {
        size_t from = v->onset_count ? v->onset_start : v->next_frame;
        keep = from > v->pre_roll ? from - v->pre_roll : 0;
    }
    if (keep > v->next_frame) keep = v->next_frame;
    if (keep <= v->buf_base) return;
    size_t drop = keep - v->buf_base;
    if (drop < 16384 && drop * 2 < v->buf.len) return; /* amortise the memmove */
    memmove(v->buf.data, v->buf.data + drop, (v->buf.len - drop) * sizeof(float));
    v->buf.len -= drop;
    v->buf_base = keep;
}

int audio_vad_feed(audio_vad *vad, const float *samples, size_t n, char *err, size_t err_size) {
    if (!vad) return error_set(err, err_size, TRIDENT_EINVAL, "no VAD");
    if (n == 0) return TRIDENT_OK;
    int rc = audio_pcm_validate(samples, n, err, err_size);
    if (rc) return rc;
    if (audio_fbuf_reserve(&vad->buf, n))
        return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory buffering %zu samples", n);
    memcpy(vad->buf.data + vad->buf.len, samples, n * sizeof(float));
    vad->buf.len += n;
    vad->total += n;
    while (vad->next_frame + vad->frame_len <= vad->total) {
        rc = vad_frame(vad, vad->next_frame, vad->frame_len);
        vad->next_frame += vad->frame_len;
        if (rc) return error_set(err, err_size, rc, "out of memory queueing an utterance");
    }
    vad_trim(vad);
    return TRIDENT_OK;
}

int audio_vad_flush(audio_vad *vad, char *err, size_t err_size) {
    if (!vad) return error_set(err, err_size, TRIDENT_EINVAL, "no VAD");
    int rc = TRIDENT_OK;
    if (vad->total > vad->next_frame) {
        rc = vad_frame(vad, vad->next_frame, vad->total - vad->next_frame);
        vad->next_frame = vad->total;
    }
    if (!rc && vad->in_speech) {
        size_t end = vad->last_speech_end + vad->post_roll;
        rc = vad_close(vad, end < vad->total ? end : vad->total);
    }
    vad->onset_count = 0;
    if (rc) return error_set(err, err_size, rc, "out of memory queueing an utterance");
    vad_trim(vad);
    return TRIDENT_OK;
}

int audio_vad_next(audio_vad *vad, audio_utterance *out) {
    memset(out, 0, sizeof *out);
    if (!vad || vad->q_head == vad->q_len) return 0;
    *out = vad->queue[vad->q_head++];
    if (vad->q_head == vad->q_len) vad->q_head = vad->q_len = 0;
    return 1;
}

int audio_vad_in_speech(const audio_vad *vad) { return vad ? vad->in_speech : 0; }
size_t audio_vad_position(const audio_vad *vad) { return vad ? vad->total : 0; }
double audio_vad_noise_floor_db(const audio_vad *vad) { return vad ? vad->floor_db : 0.0; }
