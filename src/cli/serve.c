/* serve.c — `trident serve`: flags (each with an environment variable), start-up in
 * the original's order (database → model preload → ready), graceful shutdown. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "cli/cli.h"
#include "server/server.h"
#include "service/service.h"

typedef enum { OPT_STR, OPT_INT, OPT_NUM, OPT_FLAG } opt_kind;

typedef struct {
    const char *flag, *env, *arg, *help;
    opt_kind kind;
    const char *def; /* default as text ("" for none) */
    double min, max;
    const char *value; /* resolved text (flag > env > default) */
} serve_opt;

enum {
    O_MODEL, O_LORA, O_DB, O_HOST, O_PORT, O_SLOTS, O_THREADS, O_QUEUE, O_LANGUAGE, O_Q8, O_AUDIO_CTX_FIT,
    O_MAX_UPLOAD_MB, O_MAX_WS_KB, O_MAX_HEADER_KB, O_MAX_CALL_S, O_HANGOVER, O_DISTRESS_MODEL, O_MAX_LIVE,
    O_MAX_CLIENT, O_MAX_EVENTS, O_REQ_TIMEOUT, O_HTTP_THREADS, O_CORS, O_INSECURE, O_RETAIN_DAYS, O_WEB_ROOT, O_TRIAGE_RULES,
    O_OVERDUE, O_TLS_CERT, O_TLS_KEY, O_LOAD_DELAY, O_COUNT
};

static serve_opt opts[O_COUNT] = {
    [O_MODEL] = {"--model", "TRIDENT_MODEL", "DIR", "Whisper model directory (Hugging Face layout)", OPT_STR, "", 0, 0, 0},
    [O_LORA] = {"--lora", "TRIDENT_LORA", "DIR", "PEFT LoRA adapter directory, merged at load", OPT_STR, "", 0, 0, 0},
    [O_DB] = {"--db", "TRIDENT_DB", "PATH", "call store: SQLite file (recordings beside it) or postgres:// URL",
              OPT_STR, "trident.db", 0, 0, 0},
    [O_HOST] = {"--host", "TRIDENT_HOST", "ADDR", "listening address (loopback by default)", OPT_STR, "127.0.0.1", 0,
                0, 0},
    [O_PORT] = {"--port", "TRIDENT_PORT", "N", "listening port; 0 picks a free one (logged)", OPT_INT, "8000", 0, 65535,
                0},
    [O_SLOTS] = {"--slots", "TRIDENT_SLOTS", "N", "inference slots (each its own decoder state)", OPT_INT, "1", 1, 256,
                 0},
    [O_THREADS] = {"--threads", "TRIDENT_THREADS", "N", "threads per slot; 0 = all cores / slots", OPT_INT, "0", 0,
                   1024, 0},
    [O_QUEUE] = {"--queue", "TRIDENT_QUEUE", "N", "waiting inference jobs before requests get 503", OPT_INT, "16", 1,
                 100000, 0},
    [O_LANGUAGE] = {"--language", "TRIDENT_LANGUAGE", "CODE", "decoding language, or auto", OPT_STR, "en", 0, 0, 0},
    [O_Q8] = {"--q8", "TRIDENT_Q8", NULL, "8-bit weights (converted at load)", OPT_FLAG, "0", 0, 1, 0},
    [O_AUDIO_CTX_FIT] = {"--audio-ctx-fit", "TRIDENT_AUDIO_CTX_FIT", NULL,
                         "encode an utterance over its own frames, not 30 s (faster; changes the model's input)",
                         OPT_FLAG, "0", 0, 1, 0},
    [O_MAX_UPLOAD_MB] = {"--max-upload-mb", "TRIDENT_MAX_UPLOAD_MB", "N", "largest POST /api/analyze body", OPT_NUM,
                         "50", 0.001, 4096, 0},
    [O_MAX_WS_KB] = {"--max-ws-message-kb", "TRIDENT_MAX_WS_MESSAGE_KB", "N", "largest WebSocket message", OPT_NUM,
                     "1024", 1, 65536, 0},
    [O_MAX_HEADER_KB] = {"--max-header-kb", "TRIDENT_MAX_HEADER_KB", "N", "largest request line + headers", OPT_NUM,
                         "16", 1, 1024, 0},
    [O_MAX_CALL_S] = {"--max-call-s", "TRIDENT_MAX_CALL_S", "S", "longest live call or upload, seconds", OPT_NUM,
                      "3600", 1, 86400, 0},
    [O_HANGOVER] = {"--vad-hangover-s", "TRIDENT_VAD_HANGOVER_S", "S",
                    "silence that ends a live-call utterance (original: 1.5)", OPT_NUM, "0.6", 0.05, 10, 0},
    [O_DISTRESS_MODEL] = {"--distress-model", "TRIDENT_DISTRESS_MODEL", "M",
                          "calibrated: level- and line-independent distress; paper: the original formula",
                          OPT_STR, "calibrated", 0, 0, 0},
    [O_MAX_LIVE] = {"--max-live-calls", "TRIDENT_MAX_LIVE_CALLS", "N",
                    "live calls at once; the next WebSocket upgrade gets 503", OPT_INT, "16", 1, 4096, 0},
    [O_MAX_CLIENT] = {"--max-client-connections", "TRIDENT_MAX_CLIENT_CONNECTIONS", "N",
                      "connections one client address holds at once (live calls aside)", OPT_INT, "16", 1, 4096, 0},
    [O_MAX_EVENTS] = {"--max-event-streams", "TRIDENT_MAX_EVENT_STREAMS", "N",
                      "GET /api/events streams open at once (dashboards); the next gets 503", OPT_INT, "16", 1, 4096,
                      0},
    [O_REQ_TIMEOUT] = {"--request-timeout-s", "TRIDENT_REQUEST_TIMEOUT_S", "S",
                       "longest wait for a request's headers (and each body read)", OPT_NUM, "10", 0.1, 3600, 0},
    [O_HTTP_THREADS] = {"--http-threads", "TRIDENT_HTTP_THREADS", "N",
                        "HTTP worker threads; 0 = live calls + event streams + client connections + 8", OPT_INT, "0",
                        0, 16384, 0},
    [O_CORS] = {"--cors-origin", "TRIDENT_CORS_ORIGIN", "ORIGIN",
                "another site allowed to use the API and /ws/live (scheme://host[:port]; repeat the flag, or "
                "comma-separate in the variable); none: same origin only",
                OPT_STR, "", 0, 0, 0},
    [O_INSECURE] = {"--insecure", "TRIDENT_INSECURE", NULL,
                    "start on a non-loopback address with no API token in the store (everyone is served)", OPT_FLAG,
                    "0", 0, 1, 0},
    [O_RETAIN_DAYS] = {"--retain-days", "TRIDENT_RETAIN_DAYS", "N",
                       "delete closed calls' recordings and transcripts older than N days (at start-up and hourly); "
                       "-1: keep them",
                       OPT_NUM, "-1", -1, 36500, 0},
    [O_WEB_ROOT] = {"--web-root", "TRIDENT_WEB_ROOT", "DIR", "the dashboard's files, served under /dashboard/", OPT_STR,
                    TRIDENT_WEB_DIR, 0, 0, 0},
    [O_TRIAGE_RULES] = {"--triage-rules", "TRIDENT_TRIAGE_RULES", "RULES",
                         "critical: a critical indicator in the words is Q1, a serious emergency at least Q2; "
                         "paper: the paper's matrix alone",
                         OPT_STR, "critical", 0, 0, 0},
    [O_OVERDUE] = {"--overdue-s", "TRIDENT_OVERDUE_S", "S", "a Q2/Q3 call waiting longer is flagged overdue", OPT_NUM,
                   "120", 1, 86400, 0},
    [O_TLS_CERT] = {"--tls-cert", "TRIDENT_TLS_CERT", "FILE",
                    "PEM certificate (chain): the port speaks HTTPS and WSS only (with --tls-key)", OPT_STR, "", 0, 0,
                    0},
    [O_TLS_KEY] = {"--tls-key", "TRIDENT_TLS_KEY", "FILE", "PEM private key of --tls-cert (unencrypted)", OPT_STR, "",
                   0, 0, 0},
    [O_LOAD_DELAY] = {"--test-load-delay-ms", "TRIDENT_TEST_LOAD_DELAY_MS", "MS",
                      "testing aid: sleep before each model load (shows the loading state)", OPT_INT, "0", 0, 600000,
                      0},
};

static void serve_usage(FILE *out) {
    fprintf(out, "usage: trident serve [OPTIONS]\n\n"
                 "Runs the TRIDENT HTTP + WebSocket server. Start-up: database, then the ASR model\n"
                 "preload (on failure the model is loaded on the first request), then ready.\n"
                 "SIGINT/SIGTERM stop it gracefully (live calls are finalised).\n\n"
                 "options (each also read from the environment variable shown; flags win):\n");
    for (int i = 0; i < O_COUNT; i++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", opts[i].flag, opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
        fprintf(out, "  %-28s %-32s %s%s%s%s\n", left, opts[i].env, opts[i].help, opts[i].def[0] ? " [" : "",
                opts[i].def, opts[i].def[0] ? "]" : "");
    }
    fprintf(out, "  %-28s %-32s %s\n", "--help", "", "show this help");
    fprintf(out, "\nLogging: TRIDENT_LOG_LEVEL=debug|info|warn|error.\n");
}

static int opt_number(const serve_opt *o, double *v) {
    char *end;
    errno = 0;
    *v = strtod(o->value, &end);
    if (errno || end == o->value || *end || *v < o->min || *v > o->max ||
        (o->kind == OPT_INT && *v != (double)(long long)*v)) {
        fprintf(stderr, "trident serve: %s (%s) must be %s between %g and %g, got '%s'\n", o->flag, o->env,
                o->kind == OPT_INT ? "an integer" : "a number", o->min, o->max, o->value);
        return -1;
    }
    return 0;
}

/* The --cors-origin values given so far, comma-separated (the flag repeats). */
static char cors_list[4096];

static int serve_parse(int argc, char **argv, double num[O_COUNT]) {
    for (int i = 0; i < O_COUNT; i++) {
        const char *e = getenv(opts[i].env);
        opts[i].value = e && *e ? e : opts[i].def;
    }
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) return 1;
        int found = 0;
        for (int i = 0; i < O_COUNT && !found; i++) {
            size_t fl = strlen(opts[i].flag);
            if (strncmp(argv[a], opts[i].flag, fl) != 0 || (argv[a][fl] != '\0' && argv[a][fl] != '=')) continue;
            found = 1;
            if (opts[i].kind == OPT_FLAG) {
                opts[i].value = argv[a][fl] == '=' ? argv[a] + fl + 1 : "1";
            } else if (argv[a][fl] == '=') {
                opts[i].value = argv[a] + fl + 1;
            } else if (a + 1 < argc) {
                opts[i].value = argv[++a];
            } else {
                fprintf(stderr, "trident serve: %s needs a value (%s)\n", opts[i].flag, opts[i].arg);
                return -1;
            }
            if (i == O_CORS) { /* repeatable: the flags' values add up (and replace the variable's) */
                size_t used = strlen(cors_list);
                if (snprintf(cors_list + used, sizeof cors_list - used, "%s%s", used ? "," : "", opts[i].value) >=
                    (int)(sizeof cors_list - used)) {
                    fprintf(stderr, "trident serve: too many --cors-origin values\n");
                    return -1;
                }
                opts[i].value = cors_list;
            }
        }
        if (!found) {
            fprintf(stderr, "trident serve: unknown option '%s' (see trident serve --help)\n", argv[a]);
            return -1;
        }
    }
    for (int i = 0; i < O_COUNT; i++)
        if (opts[i].kind != OPT_STR && opt_number(&opts[i], &num[i]) != 0) return -1;
    bio_distress_model m;
    if (bio_distress_model_parse(opts[O_DISTRESS_MODEL].value, &m) != 0) {
        fprintf(stderr, "trident serve: %s (%s) must be calibrated or paper, got '%s'\n", opts[O_DISTRESS_MODEL].flag,
                opts[O_DISTRESS_MODEL].env, opts[O_DISTRESS_MODEL].value);
        return -1;
    }
    return 0;
}

static const char *opt_str(int i) { return opts[i].value && *opts[i].value ? opts[i].value : NULL; }

int cli_serve(int argc, char **argv) {
    double num[O_COUNT] = {0};
    int p = serve_parse(argc, argv, num);
    if (p == 1) {
        serve_usage(stdout);
        return 0;
    }
    if (p < 0) return 2;

    /* Signals are taken synchronously by this thread (sigwait); every thread
     * started from here on inherits the blocked mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    service_config cfg;
    service_config_default(&cfg);
    cfg.asr.model_dir = opt_str(O_MODEL);
    cfg.asr.lora_dir = opt_str(O_LORA);
    cfg.asr.n_threads = (int)num[O_THREADS];
    cfg.asr.q8 = num[O_Q8] != 0;
    cfg.asr.load_delay_ms = (int)num[O_LOAD_DELAY];
    cfg.sched.slots = (int)num[O_SLOTS];
    cfg.sched.threads_per_slot = (int)num[O_THREADS];
    cfg.sched.queue_max = (int)num[O_QUEUE];
    cfg.language = opt_str(O_LANGUAGE);
    cfg.audio_ctx_fit = num[O_AUDIO_CTX_FIT] != 0;
    cfg.db = opt_str(O_DB);
    cfg.max_call_s = num[O_MAX_CALL_S];
    cfg.decoder_exe = "/proc/self/exe"; /* uploads are decoded by this binary in a child process */
    cfg.vad.hangover_s = num[O_HANGOVER];
    cfg.retain_days = num[O_RETAIN_DAYS];
    if (triage_rules_parse(opt_str(O_TRIAGE_RULES), &cfg.triage.rules) != 0) {
        fprintf(stderr, "trident serve: --triage-rules (TRIDENT_TRIAGE_RULES) must be paper or critical, got '%s'\n",
                opts[O_TRIAGE_RULES].value);
        return 2;
    }
    bio_distress_model_parse(opts[O_DISTRESS_MODEL].value, &cfg.distress_model); /* checked in serve_parse */

    server_config scfg;
    server_config_default(&scfg);
    scfg.host = opt_str(O_HOST);
    scfg.port = (int)num[O_PORT];
    scfg.http_threads = (int)num[O_HTTP_THREADS];
    scfg.max_live_calls = (int)num[O_MAX_LIVE];
    scfg.max_client_connections = (int)num[O_MAX_CLIENT];
    scfg.max_event_streams = (int)num[O_MAX_EVENTS];
    scfg.request_timeout_ms = (int)(num[O_REQ_TIMEOUT] * 1000);
    scfg.max_upload_bytes = (size_t)(num[O_MAX_UPLOAD_MB] * 1024 * 1024);
    scfg.max_ws_message_bytes = (size_t)(num[O_MAX_WS_KB] * 1024);
    scfg.max_header_bytes = (size_t)(num[O_MAX_HEADER_KB] * 1024);
    scfg.cors_origins = opt_str(O_CORS);
    scfg.insecure = num[O_INSECURE] != 0;
    scfg.web_root = opt_str(O_WEB_ROOT);
    scfg.overdue_s = num[O_OVERDUE];
    scfg.tls_cert = opt_str(O_TLS_CERT);
    scfg.tls_key = opt_str(O_TLS_KEY);

    log_info("trident", "Starting TRIDENT backend version=%s slots=%d queue=%d host=%s port=%d", TRIDENT_VERSION,
             cfg.sched.slots, cfg.sched.queue_max, scfg.host ? scfg.host : "127.0.0.1", scfg.port);
    char err[TRIDENT_ERR_SIZE];
    service_registry *reg = NULL;
    if (service_registry_open(&cfg, &reg, err, sizeof err) != 0) {
        fprintf(stderr, "trident serve: %s\n", err);
        return 1;
    }
    server *srv = NULL;
    if (server_start(reg, &scfg, &srv, err, sizeof err) != 0) {
        fprintf(stderr, "trident serve: %s\n", err);
        service_registry_close(reg);
        return 1;
    }
    /* On failure the preload logs and falls back to lazy loading. */
    if (asr_service_preload(reg->asr) == 0) infer_scheduler_prepare(reg->sched);
    log_info("trident", "TRIDENT backend ready port=%d", server_port(srv));

    int sig = 0;
    while (sigwait(&sigs, &sig) != 0) {}
    log_info("trident", "Shutting down signal=%s", sig == SIGINT ? "SIGINT" : "SIGTERM");
    server_stop(srv);
    service_registry_close(reg);
    log_info("trident", "Shutdown complete");
    return 0;
}
