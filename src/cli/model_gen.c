/* model_gen.c — `trident model-gen`: writes a random-weight Whisper checkpoint at
 * a real architecture's size in the Hugging Face layout (config.json,
 * generation_config.json, model.safetensors and the tokenizer files copied from a
 * fixture directory), so that benchmarks run at real sizes without downloads.
 *
 * Weight statistics follow the fixtures in ../shared/whisper-ref: linear weights
 * uniform in ±1/sqrt(fan_in) (PyTorch's default), biases ~ ±0.1, LayerNorm gains
 * around 1, token embeddings with std 0.35, sinusoidal encoder positions. */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/file.h"
#include "base/floats.h"
#include "base/rng.h"
#include "cli/cli.h"

typedef struct {
    const char *name;
    int d_model, heads, enc_layers, dec_layers, n_mels, vocab;
    const char *vocab_fixture; /* fixture model whose tokenizer files match this vocabulary */
} arch_spec;

static const arch_spec arch_specs[] = {
    {"tiny", 384, 6, 4, 4, 80, 51865, "tiny-random-v2"},
    {"base", 512, 8, 6, 6, 80, 51865, "tiny-random-v2"},
    {"small", 768, 12, 12, 12, 80, 51865, "tiny-random-v2"},
    {"medium", 1024, 16, 24, 24, 80, 51865, "tiny-random-v2"},
    {"large-v3", 1280, 20, 32, 32, 128, 51866, "tiny-random-v3"},
    {"large-v3-turbo", 1280, 20, 32, 4, 128, 51866, "tiny-random-v3"},
};

typedef enum { INIT_LINEAR, INIT_BIAS, INIT_GAIN, INIT_TOKENS, INIT_DEC_POS, INIT_ENC_POS } init_kind;

typedef struct {
    char name[128];
    int shape[3];
    int ndim;
    init_kind init;
    int fan_in;
    uint64_t offset, bytes;
} gen_tensor;

typedef struct {
    gen_tensor *items;
    int n, cap;
} gen_list;

static int gen_add(gen_list *l, const char *name, int ndim, int a, int b, int c, init_kind init, int fan_in) {
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 256;
        gen_tensor *grown = realloc(l->items, (size_t)cap * sizeof *grown);
        if (!grown) return -1;
        l->items = grown;
        l->cap = cap;
    }
    gen_tensor *t = &l->items[l->n++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = ndim;
    t->shape[0] = a;
    t->shape[1] = b;
    t->shape[2] = c;
    t->init = init;
    t->fan_in = fan_in;
    return 0;
}

/* Writes "<prefix>.<suffix>" into name (128 bytes); -1 when it does not fit. */
static int gen_name(char name[128], const char *prefix, const char *suffix) {
    int n = snprintf(name, 128, "%s.%s", prefix, suffix);
    return n < 0 || n >= 128 ? -1 : 0;
}

/* Adds Linear weight [out, in] (+ bias unless no_bias). */
static int gen_linear(gen_list *l, const char *prefix, int out, int in, int no_bias) {
    char name[128];
    if (gen_name(name, prefix, "weight") || gen_add(l, name, 2, out, in, 0, INIT_LINEAR, in)) return -1;
    if (no_bias) return 0;
    if (gen_name(name, prefix, "bias")) return -1;
    return gen_add(l, name, 1, out, 0, 0, INIT_BIAS, 0);
}

static int gen_norm(gen_list *l, const char *prefix, int d) {
    char name[128];
    if (gen_name(name, prefix, "weight") || gen_add(l, name, 1, d, 0, 0, INIT_GAIN, 0)) return -1;
    if (gen_name(name, prefix, "bias")) return -1;
    return gen_add(l, name, 1, d, 0, 0, INIT_BIAS, 0);
}

static int gen_attention(gen_list *l, const char *prefix, int d) {
    char name[128];
    static const char *const projs[] = {"q_proj", "k_proj", "v_proj", "out_proj"};
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "%s.%s", prefix, projs[i]);
        if (gen_linear(l, name, d, d, i == 1)) return -1;
    }
    return 0;
}

/* One transformer block: self-attention, [cross-attention,] MLP, each with its layer norm. */
static int gen_block(gen_list *l, const char *prefix, int d, int cross) {
    char q[96];
    snprintf(q, sizeof q, "%s.self_attn", prefix);
    if (gen_attention(l, q, d)) return -1;
    snprintf(q, sizeof q, "%s.self_attn_layer_norm", prefix);
    if (gen_norm(l, q, d)) return -1;
    if (cross) {
        snprintf(q, sizeof q, "%s.encoder_attn", prefix);
        if (gen_attention(l, q, d)) return -1;
        snprintf(q, sizeof q, "%s.encoder_attn_layer_norm", prefix);
        if (gen_norm(l, q, d)) return -1;
    }
    snprintf(q, sizeof q, "%s.fc1", prefix);
    if (gen_linear(l, q, 4 * d, d, 0)) return -1;
    snprintf(q, sizeof q, "%s.fc2", prefix);
    if (gen_linear(l, q, d, 4 * d, 0)) return -1;
    snprintf(q, sizeof q, "%s.final_layer_norm", prefix);
    return gen_norm(l, q, d);
}

static int gen_layout(const arch_spec *a, gen_list *l) {
    int d = a->d_model;
    char p[40];
    if (gen_add(l, "model.encoder.conv1.weight", 3, d, a->n_mels, 3, INIT_LINEAR, a->n_mels * 3) ||
        gen_add(l, "model.encoder.conv1.bias", 1, d, 0, 0, INIT_BIAS, 0) ||
        gen_add(l, "model.encoder.conv2.weight", 3, d, d, 3, INIT_LINEAR, d * 3) ||
        gen_add(l, "model.encoder.conv2.bias", 1, d, 0, 0, INIT_BIAS, 0) ||
        gen_add(l, "model.encoder.embed_positions.weight", 2, 1500, d, 0, INIT_ENC_POS, 0))
        return -1;
    for (int i = 0; i < a->enc_layers; i++) {
        snprintf(p, sizeof p, "model.encoder.layers.%d", i);
        if (gen_block(l, p, d, 0)) return -1;
    }
    if (gen_norm(l, "model.encoder.layer_norm", d) ||
        gen_add(l, "model.decoder.embed_tokens.weight", 2, a->vocab, d, 0, INIT_TOKENS, 0) ||
        gen_add(l, "model.decoder.embed_positions.weight", 2, 448, d, 0, INIT_DEC_POS, 0))
        return -1;
    for (int i = 0; i < a->dec_layers; i++) {
        snprintf(p, sizeof p, "model.decoder.layers.%d", i);
        if (gen_block(l, p, d, 1)) return -1;
    }
    return gen_norm(l, "model.decoder.layer_norm", d);
}

/* Uniform in [-1, 1) from the top 24 bits of the generator's next value. */
static float gen_uniform(rng_state *r) { return (float)((double)(rng_next(r) >> 40) * (2.0 / 16777216.0) - 1.0); }

static float gen_value(const gen_tensor *t, rng_state *r, uint64_t index) {
    switch (t->init) {
    case INIT_LINEAR: return gen_uniform(r) / sqrtf((float)t->fan_in);
    case INIT_BIAS: return 0.17f * gen_uniform(r);
    case INIT_GAIN: return 1.0f + 0.17f * gen_uniform(r);
    case INIT_TOKENS: return 0.606f * gen_uniform(r);   /* std 0.35 */
    case INIT_DEC_POS: return 1.732f * gen_uniform(r);  /* std 1 */
    case INIT_ENC_POS: {
        /* the official sinusoids(1500, d): [sin(pos·inv_t) | cos(pos·inv_t)] */
        int d = t->shape[1], half = d / 2;
        int pos = (int)(index / (uint64_t)d), ch = (int)(index % (uint64_t)d);
        int k = ch < half ? ch : ch - half;
        double inc = log(10000.0) / (half - 1);
        double v = pos * exp(-inc * k);
        return (float)(ch < half ? sin(v) : cos(v));
    }
    }
    return 0.0f;
}

static int copy_file(const char *from_dir, const char *to_dir, const char *name, char *err, size_t n) {
    char src[4096], dst[4096];
    if (path_join(src, sizeof src, from_dir, name) || path_join(dst, sizeof dst, to_dir, name))
        return error_set(err, n, TRIDENT_ELIMIT, "path too long for %s", name);
    char *data;
    size_t size;
    int rc = file_read_all(src, 0, &data, &size, err, n);
    if (rc) return rc;
    FILE *f = fopen(dst, "wb");
    if (!f) {
        free(data);
        return error_set(err, n, TRIDENT_EIO, "cannot write %s: %s", dst, strerror(errno));
    }
    size_t wrote = fwrite(data, 1, size, f);
    free(data);
    if (fclose(f) != 0 || wrote != size) return error_set(err, n, TRIDENT_EIO, "cannot write %s", dst);
    return 0;
}

/* Writes config.json / generation_config.json / preprocessor_config.json from the
 * fixture's, with this architecture's dimensions. */
static int write_configs(const arch_spec *a, int f16, const char *fixture, const char *out, char *err, size_t n) {
    char path[4096];
    json_error_t jerr;
    path_join(path, sizeof path, fixture, "config.json");
    json_t *cfg = json_load_file(path, 0, &jerr);
    if (!cfg) return error_set(err, n, TRIDENT_EFORMAT, "cannot read %s: %s", path, jerr.text);
    char label[64];
    snprintf(label, sizeof label, "random-%s", a->name);
    json_object_set_new(cfg, "_name_or_path", json_string(label));
    json_object_set_new(cfg, "d_model", json_integer(a->d_model));
    json_object_set_new(cfg, "encoder_attention_heads", json_integer(a->heads));
    json_object_set_new(cfg, "decoder_attention_heads", json_integer(a->heads));
    json_object_set_new(cfg, "encoder_ffn_dim", json_integer(4 * a->d_model));
    json_object_set_new(cfg, "decoder_ffn_dim", json_integer(4 * a->d_model));
    json_object_set_new(cfg, "encoder_layers", json_integer(a->enc_layers));
    json_object_set_new(cfg, "decoder_layers", json_integer(a->dec_layers));
    json_object_set_new(cfg, "num_hidden_layers", json_integer(a->enc_layers));
    json_object_set_new(cfg, "num_mel_bins", json_integer(a->n_mels));
    json_object_set_new(cfg, "vocab_size", json_integer(a->vocab));
    json_object_set_new(cfg, "torch_dtype", json_string(f16 ? "float16" : "float32"));
    path_join(path, sizeof path, out, "config.json");
    int rc = json_dump_file(cfg, path, JSON_INDENT(2));
    json_decref(cfg);
    if (rc) return error_set(err, n, TRIDENT_EIO, "cannot write %s", path);

    path_join(path, sizeof path, fixture, "preprocessor_config.json");
    json_t *pre = json_load_file(path, 0, &jerr);
    if (!pre) return error_set(err, n, TRIDENT_EFORMAT, "cannot read %s: %s", path, jerr.text);
    json_object_set_new(pre, "feature_size", json_integer(a->n_mels));
    path_join(path, sizeof path, out, "preprocessor_config.json");
    rc = json_dump_file(pre, path, JSON_INDENT(2));
    json_decref(pre);
    if (rc) return error_set(err, n, TRIDENT_EIO, "cannot write %s", path);

    static const char *const copied[] = {"generation_config.json", "vocab.json", "merges.txt", "added_tokens.json",
                                         "special_tokens_map.json", "tokenizer_config.json"};
    for (size_t i = 0; i < sizeof copied / sizeof copied[0]; i++)
        if ((rc = copy_file(fixture, out, copied[i], err, n))) return rc;
    return 0;
}

static int write_safetensors(gen_list *l, int f16, uint64_t seed, const char *out, char *err, size_t n) {
    size_t esize = f16 ? 2 : 4;
    uint64_t offset = 0, total_bytes;
    json_t *hdr = json_object();
    if (!hdr) return error_set(err, n, TRIDENT_ENOMEM, "out of memory");
    json_object_set_new(hdr, "__metadata__", json_pack("{s:s}", "format", "pt"));
    for (int i = 0; i < l->n; i++) {
        gen_tensor *t = &l->items[i];
        uint64_t count = 1;
        json_t *shape = json_array();
        for (int k = 0; k < t->ndim; k++) {
            count *= (uint64_t)t->shape[k];
            json_array_append_new(shape, json_integer(t->shape[k]));
        }
        t->offset = offset;
        t->bytes = count * esize;
        offset += t->bytes;
        json_object_set_new(hdr, t->name,
                            json_pack("{s:s,s:o,s:[I,I]}", "dtype", f16 ? "F16" : "F32", "shape", shape, "data_offsets",
                                      (json_int_t)t->offset, (json_int_t)(t->offset + t->bytes)));
    }
    total_bytes = offset;
    char *text = json_dumps(hdr, JSON_COMPACT);
    json_decref(hdr);
    if (!text) return error_set(err, n, TRIDENT_ENOMEM, "out of memory");
    size_t hlen = strlen(text), padded = (hlen + 7) / 8 * 8;

    char path[4096];
    path_join(path, sizeof path, out, "model.safetensors");
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(text);
        return error_set(err, n, TRIDENT_EIO, "cannot write %s: %s", path, strerror(errno));
    }
    uint64_t hlen64 = padded;
    int ok = fwrite(&hlen64, 8, 1, f) == 1 && fwrite(text, 1, hlen, f) == hlen;
    for (size_t i = hlen; ok && i < padded; i++) ok = fputc(' ', f) != EOF;
    free(text);

    enum { CHUNK = 1 << 16 };
    float *buf = malloc(CHUNK * sizeof(float));
    uint16_t *hbuf = malloc(CHUNK * sizeof(uint16_t));
    rng_state rng;
    rng_seed(&rng, seed);
    uint64_t written = 0;
    double last_report = clock_now_ms();
    for (int i = 0; ok && buf && hbuf && i < l->n; i++) {
        const gen_tensor *t = &l->items[i];
        uint64_t count = t->bytes / esize;
        for (uint64_t start = 0; ok && start < count; start += CHUNK) {
            size_t m = (size_t)(count - start < CHUNK ? count - start : CHUNK);
            for (size_t j = 0; j < m; j++) buf[j] = gen_value(t, &rng, start + j);
            if (f16) {
                for (size_t j = 0; j < m; j++) hbuf[j] = floats_fp32_to_fp16(buf[j]);
                ok = fwrite(hbuf, 2, m, f) == m;
            } else {
                ok = fwrite(buf, 4, m, f) == m;
            }
            written += m * esize;
            if (clock_now_ms() - last_report > 2000) {
                fprintf(stderr, "model-gen: %.0f%% (%.0f / %.0f MB)\n", 100.0 * (double)written / (double)total_bytes,
                        (double)written / 1e6, (double)total_bytes / 1e6);
                last_report = clock_now_ms();
            }
        }
    }
    int alloc_failed = !buf || !hbuf;
    free(buf);
    free(hbuf);
    if (fclose(f) != 0) ok = 0;
    if (alloc_failed) return error_set(err, n, TRIDENT_ENOMEM, "out of memory");
    if (!ok) return error_set(err, n, TRIDENT_EIO, "cannot write %s (disk full?)", path);
    return 0;
}

static void model_gen_usage(FILE *out) {
    fprintf(out,
            "usage: trident model-gen --arch ARCH --out DIR [--dtype f32|f16] [--seed N] [--vocab-from DIR]\n"
            "\n"
            "Writes a random-weight Whisper checkpoint at a real architecture's size in the\n"
            "Hugging Face layout, for benchmarks without downloads.\n"
            "\n"
            "  --arch ARCH        tiny | base | small | medium | large-v3 | large-v3-turbo\n"
            "  --dtype f32|f16    weight type (default f16)\n"
            "  --seed N           random seed (default 1)\n"
            "  --out DIR          output directory (created)\n"
            "  --vocab-from DIR   directory with the tokenizer files to copy (default: the\n"
            "                     matching fixture in $TRIDENT_SHARED/whisper-ref/models, or ../shared/...)\n");
}

int cli_model_gen(int argc, char **argv) {
    const char *arch = NULL, *out = NULL, *vocab_from = NULL, *dtype = "f16";
    uint64_t seed = 1;
    for (int i = 1; i < argc; i += 2) { /* every option takes a value */
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            model_gen_usage(stdout);
            return 0;
        }
        if (!v) {
            fprintf(stderr, "model-gen: %s needs a value (see --help)\n", a);
            return 2;
        }
        if (strcmp(a, "--arch") == 0) arch = v;
        else if (strcmp(a, "--out") == 0) out = v;
        else if (strcmp(a, "--dtype") == 0) dtype = v;
        else if (strcmp(a, "--vocab-from") == 0) vocab_from = v;
        else if (strcmp(a, "--seed") == 0) seed = strtoull(v, NULL, 10);
        else {
            fprintf(stderr, "model-gen: unknown option %s (see --help)\n", a);
            return 2;
        }
    }
    const arch_spec *spec = NULL;
    for (size_t i = 0; arch && i < sizeof arch_specs / sizeof arch_specs[0]; i++)
        if (strcmp(arch, arch_specs[i].name) == 0) spec = &arch_specs[i];
    if (!spec || !out) {
        fprintf(stderr, "model-gen: %s\n", !out ? "--out DIR is required" : "--arch must be one of tiny, base, small, medium, large-v3, large-v3-turbo");
        return 2;
    }
    if (strcmp(dtype, "f16") != 0 && strcmp(dtype, "f32") != 0) {
        fprintf(stderr, "model-gen: --dtype must be f32 or f16\n");
        return 2;
    }
    char fixture[4096];
    if (vocab_from) {
        snprintf(fixture, sizeof fixture, "%s", vocab_from);
    } else {
        const char *shared = getenv("TRIDENT_SHARED");
        snprintf(fixture, sizeof fixture, "%s/whisper-ref/models/%s", shared && *shared ? shared : "../shared",
                 spec->vocab_fixture);
    }
    if (mkdir(out, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "model-gen: cannot create %s: %s\n", out, strerror(errno));
        return 1;
    }
    char err[TRIDENT_ERR_SIZE];
    int f16 = strcmp(dtype, "f16") == 0;
    gen_list list = {0};
    double t0 = clock_now_ms();
    int rc = gen_layout(spec, &list) ? error_set(err, sizeof err, TRIDENT_ENOMEM, "out of memory")
                                     : write_configs(spec, f16, fixture, out, err, sizeof err);
    if (!rc) rc = write_safetensors(&list, f16, seed, out, err, sizeof err);
    free(list.items);
    if (rc) {
        fprintf(stderr, "model-gen: %s\n", err);
        return 1;
    }
    fprintf(stderr, "model-gen: wrote %s (%s, %s, seed %" PRIu64 ") in %.1f s\n", out, spec->name, dtype, seed,
            (clock_now_ms() - t0) / 1000.0);
    return 0;
}
