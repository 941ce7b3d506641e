/* bench.c — `trident bench`: the engine's speed on one model directory.
 *
 * Measures model load, the log-mel spectrogram, one 30-s encoder window (and its
 * GFLOP/s), single-token decoder steps at context 1, 100 and 200 (and the GB/s of
 * weights they read), the end-to-end real-time factor of transcribing the
 * recordings in an audio directory, and the peak RSS. Every figure is the median
 * of --runs runs after one warm-up run. Progress goes to stderr; the results to
 * stdout as a table or, with --json, as one JSON object. */
#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/resource.h>

#include "audio/audio.h"
#include "base/clock.h"
#include "cli/cli.h"
#include "cli/options.h"
#include "whisper/bench.h"
#include "whisper/engine.h"

#define MAX_FILES 16
#define N_CONTEXTS 3

static const int contexts[N_CONTEXTS] = {1, 100, 200};

static void usage(FILE *out) {
    fprintf(out,
            "usage: trident bench --model DIR [--lora DIR] [--threads N] [--runs N] [--quant q8] [--json]\n"
            "                     [--audio DIR] [--steps N] [--rtf-runs N]\n"
            "\n"
            "Measures the Whisper engine on DIR: load ms, mel ms, encoder ms per 30-s window\n"
            "(GFLOP/s), decoder ms/token at context 1, 100 and 200 (GB/s of weights read),\n"
            "end-to-end real-time factor on the recordings in --audio, peak RSS.\n"
            "Each figure is the median of --runs runs after a warm-up.\n"
            "\n"
            "  --model DIR     Whisper directory                                  [TRIDENT_MODEL]\n"
            "  --lora DIR      PEFT adapter merged at load\n"
            "  --threads N     compute threads (default: online cores)            [TRIDENT_THREADS]\n"
            "  --runs N        timed runs per figure (default 5)\n"
            "  --quant q8      8-bit weights converted at load\n"
            "  --json          one JSON object on stdout\n"
            "  --audio DIR     recordings for the real-time factor (default ../shared/audio; \"\" skips)\n"
            "  --steps N       decoder steps timed per run (default 8)\n"
            "  --rtf-runs N    timed transcriptions per recording (default: --runs)\n"
            "  --peak-gflops X the machine's GEMM peak, to print the encoder's share of it\n"
            "  --stages LIST   which of load,encode,decode,rtf to run (default all; load always runs)\n"
            "\n"
            "The memory read bandwidth is measured (512 MB read once per run) and the\n"
            "decoder's GB/s printed beside it.\n");
}

typedef struct {
    const char *model, *lora, *audio;
    int threads, runs, steps, rtf_runs, json, q8;
    int do_encode, do_decode; /* --stages */
    double peak_gflops;
} options;

static int options_parse(int argc, char **argv, options *o) {
    memset(o, 0, sizeof *o);
    o->model = getenv("TRIDENT_MODEL");
    o->audio = TRIDENT_DATA_DIR "/../../shared/audio";
    o->runs = 5;
    o->steps = 8;
    o->rtf_runs = -1;
    o->do_encode = o->do_decode = 1;
    const char *t = getenv("TRIDENT_THREADS");
    if (t && *t && cli_int_parse(t, 1, 1024, &o->threads) != 0) {
        fprintf(stderr, "trident bench: TRIDENT_THREADS=%s is not a thread count\n", t);
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 1;
        }
        if (strcmp(a, "--json") == 0) {
            o->json = 1;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "trident bench: %s needs a value (see --help)\n", a);
            return 2;
        }
        const char *v = argv[++i];
        int bad = 0;
        if (strcmp(a, "--model") == 0) o->model = v;
        else if (strcmp(a, "--lora") == 0) o->lora = *v ? v : NULL;
        else if (strcmp(a, "--audio") == 0) o->audio = v;
        else if (strcmp(a, "--threads") == 0) bad = cli_int_parse(v, 1, 1024, &o->threads);
        else if (strcmp(a, "--runs") == 0) bad = cli_int_parse(v, 1, 1000, &o->runs);
        else if (strcmp(a, "--steps") == 0) bad = cli_int_parse(v, 1, 200, &o->steps);
        else if (strcmp(a, "--rtf-runs") == 0) bad = cli_int_parse(v, 0, 1000, &o->rtf_runs);
        else if (strcmp(a, "--stages") == 0) {
            o->do_encode = strstr(v, "encode") != NULL;
            o->do_decode = strstr(v, "decode") != NULL;
            if (!strstr(v, "rtf")) o->rtf_runs = 0;
            bad = !strstr(v, "load") && !o->do_encode && !o->do_decode && !strstr(v, "rtf");
        } else if (strcmp(a, "--peak-gflops") == 0) {
            char *end;
            o->peak_gflops = strtod(v, &end);
            bad = end == v || *end || o->peak_gflops <= 0;
        }
        else if (strcmp(a, "--quant") == 0) {
            whisper_weights wt = o->q8 ? WHISPER_WEIGHTS_Q8 : WHISPER_WEIGHTS_NATIVE;
            bad = cli_quant_parse(v, &wt) != 0;
            o->q8 = wt == WHISPER_WEIGHTS_Q8;
        } else {
            fprintf(stderr, "trident bench: unknown option %s (see --help)\n", a);
            return 2;
        }
        if (bad) {
            fprintf(stderr, "trident bench: bad value for %s: %s\n", a, v);
            return 2;
        }
    }
    if (!o->model || !*o->model) {
        fprintf(stderr, "trident bench: --model DIR is required\n");
        return 2;
    }
    if (o->rtf_runs < 0) o->rtf_runs = o->runs;
    else if (o->rtf_runs == 0 && !o->do_encode && !o->do_decode) o->audio = "";
    return 0;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Decodes every .wav/.flac/.ogg/.mp3 in dir (sorted by name) to 16-kHz mono. */
static int audio_load_dir(const char *dir, audio_pcm *pcm, char **names, int *n_files) {
    *n_files = 0;
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "trident bench: cannot open audio directory %s: %s\n", dir, strerror(errno));
        return -1;
    }
    char *found[MAX_FILES];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < MAX_FILES) {
        const char *dot = strrchr(e->d_name, '.');
        if (!dot || (strcmp(dot, ".wav") && strcmp(dot, ".flac") && strcmp(dot, ".ogg") && strcmp(dot, ".mp3")))
            continue;
        if (!(found[n] = strdup(e->d_name))) break;
        n++;
    }
    closedir(d);
    qsort(found, (size_t)n, sizeof *found, cmp_str);
    int rc = 0;
    for (int i = 0; i < n; i++) {
        char path[4096], err[512];
        snprintf(path, sizeof path, "%s/%s", dir, found[i]);
        if (rc == 0 && audio_decode_file(path, NULL, &pcm[*n_files], err, sizeof err) != 0) {
            fprintf(stderr, "trident bench: %s\n", err);
            rc = -1;
        }
        if (rc == 0) names[(*n_files)++] = found[i];
        else free(found[i]);
    }
    return rc;
}

/* Memory read bandwidth in GB/s: the median of `runs` passes over 512 MB (one
 * thread; on the machines this targets one core saturates the memory system).
 * Returns 0 when the buffer cannot be allocated. */
static double bandwidth_measure(int runs) {
    size_t n = (size_t)64 << 20; /* 64 Mi uint64 = 512 MB */
    uint64_t *buf = malloc(n * sizeof *buf);
    double *t = calloc((size_t)runs + 1, sizeof *t);
    if (!buf || !t) {
        free(buf);
        free(t);
        return 0.0;
    }
    for (size_t i = 0; i < n; i++) buf[i] = i * 0x9e3779b97f4a7c15ull;
    volatile uint64_t sink = 0;
    for (int r = 0; r <= runs; r++) {
        double t0 = clock_now_ms();
        uint64_t a = 0, b = 0, c = 0, d = 0;
        for (size_t i = 0; i < n; i += 4) a ^= buf[i], b ^= buf[i + 1], c ^= buf[i + 2], d ^= buf[i + 3];
        sink ^= a ^ b ^ c ^ d;
        if (r > 0) t[r - 1] = clock_now_ms() - t0;
    }
    (void)sink;
    double gbps = (double)n * sizeof *buf / (median(t, runs) * 1e6);
    free(buf);
    free(t);
    return gbps;
}

int cli_bench(int argc, char **argv) {
    options o;
    int rc = options_parse(argc, argv, &o);
    if (rc) return rc == 1 ? 0 : rc;
    char err[1024];
    whisper_load_params lp = {o.model, o.lora, o.threads, o.q8 ? WHISPER_WEIGHTS_Q8 : WHISPER_WEIGHTS_NATIVE};
    int runs = o.runs, status = 1;
    double *samples = calloc((size_t)runs + 1, sizeof *samples);
    double *samples2 = calloc((size_t)runs + 1, sizeof *samples2);
    audio_pcm pcm[MAX_FILES];
    char *names[MAX_FILES];
    int n_files = 0;
    memset(pcm, 0, sizeof pcm);
    whisper_model *model = NULL;
    whisper_session *session = NULL;
    if (!samples || !samples2) {
        fprintf(stderr, "trident bench: out of memory\n");
        goto done;
    }

    /* load: warm-up (fills the page cache), then timed loads; the last one is kept */
    fprintf(stderr, "bench: loading %s (%d+1 runs)\n", o.model, runs);
    for (int r = 0; r <= runs; r++) {
        double t0 = clock_now_ms();
        if (whisper_model_load(&lp, &model, err, sizeof err) != 0) {
            fprintf(stderr, "trident bench: %s\n", err);
            goto done;
        }
        if (r > 0) samples[r - 1] = clock_now_ms() - t0;
        if (r < runs) {
            whisper_model_free(model);
            model = NULL;
        }
    }
    double load_ms = median(samples, runs);
    whisper_model_info info = whisper_model_info_get(model);
    whisper_bench_costs costs = whisper_bench_costs_get(model);
    if (whisper_session_new(model, o.threads, &session, err, sizeof err) != 0) {
        fprintf(stderr, "trident bench: %s\n", err);
        goto done;
    }

    if (o.audio && *o.audio && audio_load_dir(o.audio, pcm, names, &n_files) != 0) goto done;
    float silence[1] = {0.0f};
    const float *enc_pcm = n_files ? pcm[0].samples : silence;
    size_t enc_n = n_files ? pcm[0].n_samples : 1;

    double mel_ms = 0, encode_ms = 0;
    if (o.do_encode) fprintf(stderr, "bench: mel + encoder (%d+1 runs, kernels=%s)\n", runs, costs.kernels);
    for (int r = 0; o.do_encode && r <= runs; r++) {
        double one_mel, one_enc;
        if (whisper_bench_encode(session, enc_pcm, enc_n, &one_mel, &one_enc, err, sizeof err) != 0) {
            fprintf(stderr, "trident bench: %s\n", err);
            goto done;
        }
        if (r > 0) samples[r - 1] = one_mel, samples2[r - 1] = one_enc;
    }
    if (o.do_encode) mel_ms = median(samples, runs), encode_ms = median(samples2, runs);

    double dec_ms[N_CONTEXTS] = {0};
    for (int c = 0; o.do_decode && c < N_CONTEXTS; c++) {
        fprintf(stderr, "bench: decoder at context %d (%d+1 runs of %d steps)\n", contexts[c], runs, o.steps);
        for (int r = 0; r <= runs; r++) {
            double ms;
            if (whisper_bench_decode(session, contexts[c], o.steps, &ms, err, sizeof err) != 0) {
                fprintf(stderr, "trident bench: %s\n", err);
                goto done;
            }
            if (r > 0) samples[r - 1] = ms;
        }
        dec_ms[c] = median(samples, runs);
    }

    /* end-to-end: transcribe every recording (first window, greedy) */
    double rtf = 0.0, audio_s = 0.0;
    int rtf_tokens = 0;
    if (n_files && o.rtf_runs > 0) {
        whisper_transcribe_params tp = whisper_transcribe_params_default();
        tp.language = info.multilingual ? "en" : NULL;
        tp.max_windows = 1;
        fprintf(stderr, "bench: end-to-end on %d recordings (%d+1 runs)\n", n_files, o.rtf_runs);
        double *tot = calloc((size_t)o.rtf_runs, sizeof *tot);
        if (!tot) goto done;
        for (int r = 0; r <= o.rtf_runs; r++) {
            double t0 = clock_now_ms();
            int tokens = 0;
            for (int f = 0; f < n_files; f++) {
                whisper_result *res = NULL;
                if (whisper_transcribe(session, pcm[f].samples, pcm[f].n_samples, &tp, &res, err, sizeof err) != 0) {
                    fprintf(stderr, "trident bench: %s: %s\n", names[f], err);
                    free(tot);
                    goto done;
                }
                tokens += res->n_tokens;
                whisper_result_free(res);
            }
            if (r > 0) tot[r - 1] = clock_now_ms() - t0;
            rtf_tokens = tokens;
        }
        for (int f = 0; f < n_files; f++) audio_s += (double)pcm[f].n_samples / WHISPER_SAMPLE_RATE;
        rtf = median(tot, o.rtf_runs) / 1000.0 / audio_s;
        free(tot);
    }

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru); /* before the bandwidth probe's 512 MB buffer */
    double bw = 0;
    if (o.do_decode) {
        fprintf(stderr, "bench: memory read bandwidth (%d+1 runs)\n", runs);
        bw = bandwidth_measure(runs);
    }
    double peak_rss_mb = ru.ru_maxrss / 1024.0;
    double gflops = encode_ms > 0 ? costs.encoder_flops / (encode_ms * 1e6) : 0;
    if (o.json) {
        json_t *j = json_object(), *dj = json_object(), *gj = json_object();
        json_object_set_new(j, "model", json_string(info.name));
        json_object_set_new(j, "kernels", json_string(costs.kernels));
        json_object_set_new(j, "quant", json_string(o.q8 ? "q8" : "none"));
        json_object_set_new(j, "threads", json_integer(o.threads ? o.threads : 0));
        json_object_set_new(j, "runs", json_integer(runs));
        json_object_set_new(j, "load_ms", json_real(load_ms));
        json_object_set_new(j, "mel_ms", json_real(mel_ms));
        json_object_set_new(j, "encode_ms", json_real(encode_ms));
        json_object_set_new(j, "encode_gflops", json_real(gflops));
        for (int c = 0; c < N_CONTEXTS; c++) {
            char key[16];
            snprintf(key, sizeof key, "%d", contexts[c]);
            json_object_set_new(dj, key, json_real(dec_ms[c]));
            json_object_set_new(gj, key, json_real(dec_ms[c] > 0 ? costs.decoder_bytes / (dec_ms[c] * 1e6) : 0));
        }
        json_object_set_new(j, "decode_ms_per_token", dj);
        json_object_set_new(j, "decode_gb_per_s", gj);
        json_object_set_new(j, "decoder_weight_mb", json_real(costs.decoder_bytes / 1e6));
        json_object_set_new(j, "memory_read_gb_per_s", json_real(bw));
        if (o.peak_gflops > 0) json_object_set_new(j, "peak_gflops", json_real(o.peak_gflops));
        json_object_set_new(j, "rtf", json_real(rtf));
        json_object_set_new(j, "rtf_audio_s", json_real(audio_s));
        json_object_set_new(j, "rtf_tokens", json_integer(rtf_tokens));
        json_object_set_new(j, "peak_rss_mb", json_real(peak_rss_mb));
        char *text = json_dumps(j, JSON_INDENT(2) | JSON_REAL_PRECISION(6));
        json_decref(j);
        if (!text) goto done;
        printf("%s\n", text);
        free(text);
    } else {
        printf("model            %s (%s weights, kernels %s)\n", info.name, o.q8 ? "q8" : "native", costs.kernels);
        printf("load             %.1f ms\n", load_ms);
        if (o.do_encode) {
            printf("mel              %.1f ms\n", mel_ms);
            printf("encoder          %.1f ms per window (%.1f GFLOP, %.1f GFLOP/s", encode_ms,
                   costs.encoder_flops / 1e9, gflops);
            if (o.peak_gflops > 0) printf(", %.0f%% of %.0f", 100.0 * gflops / o.peak_gflops, o.peak_gflops);
            printf(")\n");
        }
        for (int c = 0; o.do_decode && c < N_CONTEXTS; c++) {
            double gbps = costs.decoder_bytes / (dec_ms[c] * 1e6);
            printf("decoder ctx %-4d %.2f ms/token (%.1f MB of weights, %.1f GB/s", contexts[c], dec_ms[c],
                   costs.decoder_bytes / 1e6, gbps);
            if (bw > 0) printf(", %.0f%% of the %.1f GB/s read bandwidth", 100.0 * gbps / bw, bw);
            printf(")\n");
        }
        if (n_files && o.rtf_runs > 0)
            printf("end-to-end       RTF %.3f (%.1f s of audio in %d files, %d tokens)\n", rtf, audio_s, n_files,
                   rtf_tokens);
        printf("peak RSS         %.1f MB\n", peak_rss_mb);
    }
    status = 0;
done:
    whisper_session_free(session);
    whisper_model_free(model);
    for (int f = 0; f < n_files; f++) {
        audio_pcm_clear(&pcm[f]);
        free(names[f]);
    }
    free(samples);
    free(samples2);
    return status;
}
