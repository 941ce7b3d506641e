/* metrics.c — Prometheus text exposition: requests and latency per route, inference
 * queue, model state, live sessions, stored calls. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/internal.h"

static const double bucket_le[METRICS_BUCKETS] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};

static const char *const route_labels[ROUTE_COUNT] = {
    "/", "/health", "/ready", "/metrics", "/api/analyze", "/api/calls", "/api/calls/{id}", "/api/calls/{id}/audio",
    "/api/live-calls", "/api/live-calls/{id}", "/ws/live", "/dashboard/", "/api/queue", "/api/queue/next",
    "/api/calls/{id}/{action}", "/api/events", "/api/session", "/api/audit", "/api/tokens", "/v1/audio/transcriptions",
    "/v1/audio/translations", "/v1/models", "/v1/models/{id}", "/v1/other", "/openapi.json", "other"};

const char *route_label(server_route route) { return route_labels[route]; }

void metrics_init(server_metrics *m) {
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->lock, NULL);
}

void metrics_destroy(server_metrics *m) { pthread_mutex_destroy(&m->lock); }

void metrics_request_record(server_metrics *m, server_route route, int status, double seconds) {
    int cls = status / 100;
    if (cls < 1 || cls > 5) cls = 5;
    pthread_mutex_lock(&m->lock);
    m->requests[route][cls]++;
    for (int b = 0; b < METRICS_BUCKETS; b++)
        if (seconds <= bucket_le[b]) m->latency_buckets[route][b]++;
    m->latency_count[route]++;
    m->latency_sum[route] += seconds;
    pthread_mutex_unlock(&m->lock);
}

void metrics_ws_record(server_metrics *m, int is_error) {
    pthread_mutex_lock(&m->lock);
    m->ws_messages++;
    if (is_error) m->ws_errors++;
    pthread_mutex_unlock(&m->lock);
}

void metrics_auth_record(server_metrics *m, int status) {
    pthread_mutex_lock(&m->lock);
    if (status == 401) m->auth_401++;
    else m->auth_403++;
    pthread_mutex_unlock(&m->lock);
}

void metrics_refusal_record(server_metrics *m, metrics_refusal why) {
    pthread_mutex_lock(&m->lock);
    m->refused[why]++;
    pthread_mutex_unlock(&m->lock);
}

/* A growing text buffer; on allocation failure it stops growing and marks failed. */
typedef struct {
    char *data;
    size_t len, cap;
    int failed;
} text_buf;

static void tb_printf(text_buf *tb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tb_printf(text_buf *tb, const char *fmt, ...) {
    if (tb->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(tb->data + tb->len, tb->cap - tb->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            tb->failed = 1;
            return;
        }
        if ((size_t)n < tb->cap - tb->len) {
            tb->len += (size_t)n;
            return;
        }
        size_t cap = tb->cap * 2 + (size_t)n + 1;
        char *d = realloc(tb->data, cap);
        if (!d) {
            tb->failed = 1;
            return;
        }
        tb->data = d;
        tb->cap = cap;
    }
}

char *metrics_render(server *srv) {
    text_buf tb = {malloc(8192), 0, 8192, 0};
    if (!tb.data) return NULL;
    tb.data[0] = '\0';
    server_metrics *m = &srv->metrics;
    service_registry *reg = srv->reg;

    pthread_mutex_lock(&m->lock);
    server_metrics snap = *m;
    pthread_mutex_unlock(&m->lock);

    tb_printf(&tb, "# HELP trident_http_requests_total HTTP requests by route and status class.\n"
                   "# TYPE trident_http_requests_total counter\n");
    for (int r = 0; r < ROUTE_COUNT; r++)
        for (int c = 1; c <= 5; c++)
            if (snap.requests[r][c])
                tb_printf(&tb, "trident_http_requests_total{route=\"%s\",code=\"%dxx\"} %lld\n", route_labels[r], c,
                          snap.requests[r][c]);
    tb_printf(&tb, "# HELP trident_http_request_duration_seconds HTTP request latency by route.\n"
                   "# TYPE trident_http_request_duration_seconds histogram\n");
    for (int r = 0; r < ROUTE_COUNT; r++) {
        if (!snap.latency_count[r]) continue;
        for (int b = 0; b < METRICS_BUCKETS; b++)
            tb_printf(&tb, "trident_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %lld\n", route_labels[r],
                      bucket_le[b], snap.latency_buckets[r][b]);
        tb_printf(&tb, "trident_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %lld\n", route_labels[r],
                  snap.latency_count[r]);
        tb_printf(&tb, "trident_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", route_labels[r],
                  snap.latency_sum[r]);
        tb_printf(&tb, "trident_http_request_duration_seconds_count{route=\"%s\"} %lld\n", route_labels[r],
                  snap.latency_count[r]);
    }
    tb_printf(&tb, "# HELP trident_ws_messages_total WebSocket messages received on /ws/live.\n"
                   "# TYPE trident_ws_messages_total counter\ntrident_ws_messages_total %lld\n"
                   "# HELP trident_ws_errors_total WebSocket messages answered with an error event.\n"
                   "# TYPE trident_ws_errors_total counter\ntrident_ws_errors_total %lld\n",
              snap.ws_messages, snap.ws_errors);
    tb_printf(&tb,
              "# HELP trident_connections_refused_total Connections refused: over the client's limit "
              "(--max-client-connections), the live-call cap (--max-live-calls) or the event-stream cap "
              "(--max-event-streams), or live calls cut for a WebSocket frame beyond --max-ws-message-kb.\n"
              "# TYPE trident_connections_refused_total counter\n"
              "trident_connections_refused_total{reason=\"client_limit\"} %lld\n"
              "trident_connections_refused_total{reason=\"live_cap\"} %lld\n"
              "trident_connections_refused_total{reason=\"frame_too_large\"} %lld\n"
              "trident_connections_refused_total{reason=\"event_streams_cap\"} %lld\n",
              snap.refused[METRICS_REFUSED_CLIENT_LIMIT], snap.refused[METRICS_REFUSED_LIVE_CAP],
              snap.refused[METRICS_REFUSED_FRAME], snap.refused[METRICS_REFUSED_EVENT_CAP]);
    pthread_mutex_lock(&srv->admit_lock);
    int streams = srv->event_streams;
    pthread_mutex_unlock(&srv->admit_lock);
    service_events_stats es;
    service_events_stats_get(reg->events, &es);
    tb_printf(&tb,
              "# HELP trident_event_streams Open GET /api/events streams.\n"
              "# TYPE trident_event_streams gauge\ntrident_event_streams %d\n"
              "# HELP trident_event_streams_max The cap on open event streams (--max-event-streams).\n"
              "# TYPE trident_event_streams_max gauge\ntrident_event_streams_max %d\n"
              "# HELP trident_events_total Call changes in the feed: made here, or relayed from other servers.\n"
              "# TYPE trident_events_total counter\n"
              "trident_events_total{origin=\"local\"} %lld\ntrident_events_total{origin=\"relayed\"} %lld\n"
              "# HELP trident_events_dropped_total Changes a slow event stream skipped (over the feed's ring).\n"
              "# TYPE trident_events_dropped_total counter\ntrident_events_dropped_total %lld\n",
              streams, srv->cfg.max_event_streams, es.published, es.relayed, es.dropped);
    if (es.relay)
        tb_printf(&tb,
                  "# HELP trident_event_relay_up 1 while the relay from other servers (PostgreSQL LISTEN) is connected.\n"
                  "# TYPE trident_event_relay_up gauge\ntrident_event_relay_up %d\n",
                  es.relay_up);
    tb_printf(&tb,
              "# HELP trident_auth_refused_total Requests refused by access control: no or a bad credential (401), "
              "a role without the right (403).\n"
              "# TYPE trident_auth_refused_total counter\n"
              "trident_auth_refused_total{code=\"401\"} %lld\ntrident_auth_refused_total{code=\"403\"} %lld\n",
              snap.auth_401, snap.auth_403);
    if (reg->retention)
        tb_printf(&tb,
                  "# HELP trident_retention_deleted_calls_total Calls (recording, transcript, history) deleted past "
                  "--retain-days.\n"
                  "# TYPE trident_retention_deleted_calls_total counter\ntrident_retention_deleted_calls_total %lld\n",
                  (long long)retention_deleted(reg->retention));

    infer_scheduler_stats st;
    infer_scheduler_stats_get(reg->sched, &st);
    long long jobs = st.jobs_done + st.jobs_failed;
    tb_printf(&tb,
              "# HELP trident_inference_slots Inference slots (each with its own decoder state).\n"
              "# TYPE trident_inference_slots gauge\ntrident_inference_slots %d\n"
              "# HELP trident_inference_slots_busy Slots running a job now.\n"
              "# TYPE trident_inference_slots_busy gauge\ntrident_inference_slots_busy %d\n"
              "# HELP trident_inference_queue_depth Jobs (30-s windows) waiting for a slot.\n"
              "# TYPE trident_inference_queue_depth gauge\ntrident_inference_queue_depth %d\n"
              "# HELP trident_inference_queue_capacity Waiting jobs beyond which requests get 503.\n"
              "# TYPE trident_inference_queue_capacity gauge\ntrident_inference_queue_capacity %d\n"
              "# HELP trident_inference_reserved Queue places held by admitted uploads not yet queued (they count toward capacity).\n"
              "# TYPE trident_inference_reserved gauge\ntrident_inference_reserved %d\n"
              "# HELP trident_inference_jobs_total Finished inference jobs by outcome.\n"
              "# TYPE trident_inference_jobs_total counter\n"
              "trident_inference_jobs_total{outcome=\"ok\"} %lld\ntrident_inference_jobs_total{outcome=\"error\"} %lld\n"
              "# HELP trident_inference_rejected_total Requests refused because the queue was full.\n"
              "# TYPE trident_inference_rejected_total counter\ntrident_inference_rejected_total %lld\n"
              "# HELP trident_inference_queue_wait_seconds Time jobs waited in the queue.\n"
              "# TYPE trident_inference_queue_wait_seconds summary\n"
              "trident_inference_queue_wait_seconds_sum %.6f\ntrident_inference_queue_wait_seconds_count %lld\n"
              "# HELP trident_inference_seconds Time spent in the engine.\n"
              "# TYPE trident_inference_seconds summary\n"
              "trident_inference_seconds_sum %.6f\ntrident_inference_seconds_count %lld\n",
              st.slots, st.busy_slots, st.queue_depth, st.queue_max, st.reserved, st.jobs_done, st.jobs_failed,
              st.requests_rejected, st.wait_ms_sum / 1000.0, jobs, st.infer_ms_sum / 1000.0, jobs);

    asr_status as;
    asr_service_status(reg->asr, &as);
    tb_printf(&tb, "# HELP trident_model_state ASR model state (1 for the current state).\n"
                   "# TYPE trident_model_state gauge\n");
    for (int s = ASR_STATE_LAZY; s <= ASR_STATE_FAILED; s++)
        tb_printf(&tb, "trident_model_state{state=\"%s\"} %d\n", asr_state_name((asr_state)s), as.state == (asr_state)s);
    tb_printf(&tb,
              "# HELP trident_model_loads_total ASR model load attempts and successes.\n"
              "# TYPE trident_model_loads_total counter\n"
              "trident_model_loads_total{outcome=\"started\"} %d\ntrident_model_loads_total{outcome=\"succeeded\"} %d\n"
              "# HELP trident_model_load_seconds Duration of the successful model load.\n"
              "# TYPE trident_model_load_seconds gauge\ntrident_model_load_seconds %.6f\n",
              as.loads_started, as.loads_succeeded, as.load_ms / 1000.0);

    pthread_mutex_lock(&reg->live_lock);
    int live = reg->live_active;
    long long live_started = reg->live_started, utt = reg->utterances_done;
    pthread_mutex_unlock(&reg->live_lock);
    tb_printf(&tb,
              "# HELP trident_live_sessions Live calls in progress.\n"
              "# TYPE trident_live_sessions gauge\ntrident_live_sessions %d\n"
              "# HELP trident_live_sessions_total Live calls started.\n"
              "# TYPE trident_live_sessions_total counter\ntrident_live_sessions_total %lld\n"
              "# HELP trident_live_utterances_total Live-call utterances analysed.\n"
              "# TYPE trident_live_utterances_total counter\ntrident_live_utterances_total %lld\n",
              live, live_started, utt);

    if (reg->store) {
        store_counts sc;
        char err[256];
        if (store_counts_get(reg->store, &sc, err, sizeof err) == 0)
            tb_printf(&tb,
                      "# HELP trident_stored_calls Calls in the store by kind.\n"
                      "# TYPE trident_stored_calls gauge\n"
                      "trident_stored_calls{kind=\"upload\"} %lld\ntrident_stored_calls{kind=\"live\"} %lld\n"
                      "# HELP trident_stored_calls_total Every stored call.\n"
                      "# TYPE trident_stored_calls_total gauge\ntrident_stored_calls_total %lld\n",
                      (long long)sc.uploads, (long long)sc.live_calls_saved, (long long)sc.total_calls);
    }
    tb_printf(&tb, "# HELP trident_uptime_seconds Seconds since start-up.\n"
                   "# TYPE trident_uptime_seconds gauge\ntrident_uptime_seconds %.3f\n",
              service_registry_uptime_s(reg));
    if (tb.failed) {
        free(tb.data);
        return NULL;
    }
    return tb.data;
}
