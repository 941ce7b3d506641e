/* test_whisper_loader.c — loader and adapter errors (run under ASan in CI):
 * missing files, truncated or lying safetensors headers, wrong dtypes, config
 * mismatches, malformed and mismatched PEFT adapters — each must be a clear error
 * naming the problem, never a crash or an out-of-bounds read. Also the positive
 * paths that need written fixtures: sharded checkpoints, regex targets,
 * rank_pattern / alpha_pattern / layers_to_transform. Broken fixtures are
 * written into a temporary directory; ../shared is only read. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/file.h"
#include "check.h"
#include "whisper/engine.h"
#include "whisper/model.h"
#include "whisper/safetensors.h"

static char tmp_root[256];

static const char *tmp_path(const char *name) {
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmp_root, name);
    return buf[k];
}

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    if (n && fwrite(data, 1, n, f) != n) exit(1);
    fclose(f);
}

static void write_text(const char *path, const char *text) { write_bytes(path, text, strlen(text)); }

/* A safetensors file: header JSON text, padded with spaces to 8 bytes, then data. */
static void write_st_raw(const char *path, const char *header, const void *data, size_t data_len) {
    size_t hl = strlen(header), padded = (hl + 7) / 8 * 8;
    size_t total = 8 + padded + data_len;
    unsigned char *buf = calloc(1, total);
    uint64_t h = padded;
    for (int i = 0; i < 8; i++) buf[i] = (unsigned char)(h >> (8 * i));
    memcpy(buf + 8, header, hl);
    memset(buf + 8 + hl, ' ', padded - hl);
    if (data_len) memcpy(buf + 8 + padded, data, data_len);
    write_bytes(path, buf, total);
    free(buf);
}

/* Expects opening path to fail with an error containing needle. */
static void expect_st_error(const char *what, const char *path, const char *needle) {
    char err[TRIDENT_ERR_SIZE] = "";
    safetensors *st = NULL;
    int rc = safetensors_open(path, &st, err, sizeof err);
    CHECK(rc < 0 && st == NULL, "%s: expected an error, got rc %d", what, rc);
    CHECK(strstr(err, needle) != NULL, "%s: message '%s' lacks '%s'", what, err, needle);
    if (st) safetensors_free(st);
}

static void test_safetensors(void) {
    float data[16] = {0};
    for (int i = 0; i < 16; i++) data[i] = (float)i;
    const char *p = tmp_path("t.safetensors");

    expect_st_error("missing file", tmp_path("nope.safetensors"), "nope.safetensors");
    write_bytes(p, "\x10\0\0", 3);
    expect_st_error("3-byte file", p, "truncated");
    write_bytes(p, "", 0);
    expect_st_error("empty file", p, "truncated");
    {
        unsigned char b[16] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, '{', '}'};
        write_bytes(p, b, sizeof b);
        expect_st_error("header length beyond file", p, "header length");
    }
    write_st_raw(p, "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]", data, 8);
    expect_st_error("bad JSON", p, "not valid JSON");
    write_st_raw(p, "[1, 2]", data, 8);
    expect_st_error("JSON array", p, "not a JSON object");
    write_st_raw(p, "{\"a\": {\"dtype\": \"I64\", \"shape\": [2], \"data_offsets\": [0, 16]}}", data, 16);
    expect_st_error("wrong dtype", p, "dtype I64");
    write_st_raw(p, "{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", data, 8);
    expect_st_error("offsets beyond the data", p, "outside");
    write_st_raw(p, "{\"weight\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 16]}}", data, 16);
    expect_st_error("shape lies", p, "weight");
    write_st_raw(p, "{\"a\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296], \"data_offsets\": [0, 16]}}",
                 data, 16);
    expect_st_error("huge shape", p, "shape");
    write_st_raw(p, "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 0]}}", data, 16);
    expect_st_error("begin > end", p, "data_offsets");
    write_st_raw(p, "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [-8, 0]}}", data, 16);
    expect_st_error("negative offset", p, "data_offsets");
    write_st_raw(p,
                 "{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]},"
                 " \"b\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [8, 24]}}",
                 data, 32);
    expect_st_error("overlap", p, "overlap");
    write_st_raw(p, "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [2, 10]}}", data, 16);
    expect_st_error("misaligned", p, "aligned");
    write_st_raw(p, "{\"a\": {\"dtype\": \"F32\", \"shape\": \"2\", \"data_offsets\": [0, 8]}}", data, 8);
    expect_st_error("shape not an array", p, "shape");
    write_st_raw(p, "{\"a\": {\"dtype\": \"F32\", \"shape\": [1,1,1,1,2], \"data_offsets\": [0, 8]}}", data, 8);
    expect_st_error("too many dims", p, "dimensions");

    /* a good one, with a scalar, bf16 and f16 */
    write_st_raw(p,
                 "{\"__metadata__\": {\"format\": \"pt\"}, \"s\": {\"dtype\": \"F32\", \"shape\": [], \"data_offsets\": "
                 "[0, 4]}, \"h\": {\"dtype\": \"F16\", \"shape\": [2], \"data_offsets\": [4, 8]}, \"b\": {\"dtype\": "
                 "\"BF16\", \"shape\": [2, 2], \"data_offsets\": [8, 16]}}",
                 data, 16);
    char err[TRIDENT_ERR_SIZE] = "";
    safetensors *st = NULL;
    CHECK(safetensors_open(p, &st, err, sizeof err) == 0, "good file: %s", err);
    if (st) {
        const safetensors_tensor *t = safetensors_find(st, "b");
        CHECK(t && t->dtype == WHISPER_DTYPE_BF16 && t->ndim == 2 && t->nbytes == 8, "bf16 tensor");
        CHECK(safetensors_find(st, "s") && safetensors_find(st, "s")->ndim == 0, "scalar tensor");
        CHECK(safetensors_find(st, "__metadata__") == NULL, "metadata is not a tensor");
        safetensors_free(st);
    }

    /* the real model cut short at several points: always an error, never a read past the end */
    char *whole = NULL;
    size_t n = 0;
    if (file_read_all(check_shared_path("whisper-ref/models/tiny-random-v2/model.safetensors"), 0, &whole, &n, err,
                      sizeof err) == 0) {
        size_t cuts[] = {4, 8, 100, 9000, n / 2, n - 1};
        for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
            write_bytes(p, whole, cuts[i]);
            char what[64];
            snprintf(what, sizeof what, "model cut at %zu bytes", cuts[i]);
            expect_st_error(what, p, "t.safetensors");
        }
        free(whole);
    }
}

/* A model directory in tmp that links every file of a fixture model except those named in skip. */
static const char *model_copy(const char *name, const char *fixture, const char *const *skip) {
    const char *dir = tmp_path(name);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (system(cmd) != 0) exit(1);
    const char *files[] = {"config.json", "generation_config.json", "model.safetensors", "vocab.json", "merges.txt",
                           "added_tokens.json", "special_tokens_map.json", "tokenizer_config.json",
                           "preprocessor_config.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        int skipped = 0;
        for (int k = 0; skip && skip[k]; k++) skipped |= strcmp(skip[k], files[i]) == 0;
        if (skipped) continue;
        char src[512], dst[1024];
        snprintf(src, sizeof src, "whisper-ref/models/%s/%s", fixture, files[i]);
        snprintf(dst, sizeof dst, "%s/%s", dir, files[i]);
        if (symlink(check_shared_path(src), dst) != 0) perror(dst);
    }
    return dir;
}

static void expect_load_error(const char *what, const char *model, const char *lora, const char *needle) {
    char err[TRIDENT_ERR_SIZE] = "";
    whisper_load_params lp = {model, lora, 1, WHISPER_WEIGHTS_NATIVE};
    whisper_model *m = NULL;
    int rc = whisper_model_load(&lp, &m, err, sizeof err);
    CHECK(rc < 0 && m == NULL, "%s: expected an error, got rc %d", what, rc);
    CHECK(strstr(err, needle) != NULL, "%s: message '%s' lacks '%s'", what, err, needle);
    printf("  %-40s -> %s\n", what, err);
    whisper_model_free(m);
}

static whisper_model *load_ok(const char *what, const char *model, const char *lora) {
    char err[TRIDENT_ERR_SIZE] = "";
    whisper_load_params lp = {model, lora, 1, WHISPER_WEIGHTS_NATIVE};
    whisper_model *m = NULL;
    int rc = whisper_model_load(&lp, &m, err, sizeof err);
    CHECK(rc == 0 && m, "%s: %s", what, err);
    return m;
}

static void test_model_errors(void) {
    expect_load_error("missing directory", tmp_path("no-such-model"), NULL, "does not exist");
    const char *no_cfg[] = {"config.json", NULL};
    expect_load_error("no config.json", model_copy("m-nocfg", "tiny-random-v2", no_cfg), NULL, "config.json");
    const char *no_st[] = {"model.safetensors", NULL};
    expect_load_error("no model.safetensors", model_copy("m-nost", "tiny-random-v2", no_st), NULL, "model.safetensors");
    const char *no_vocab[] = {"vocab.json", NULL};
    expect_load_error("no vocab.json", model_copy("m-novocab", "tiny-random-v2", no_vocab), NULL, "vocab.json");

    /* config.json that disagrees with the weights: the error names the tensor */
    const char *dir = model_copy("m-badcfg", "tiny-random-v2", no_cfg);
    char *cfg = NULL, err[TRIDENT_ERR_SIZE];
    size_t n;
    if (file_read_all(check_shared_path("whisper-ref/models/tiny-random-v2/config.json"), 0, &cfg, &n, err,
                      sizeof err) == 0) {
        char *at = strstr(cfg, "\"encoder_ffn_dim\": 256");
        CHECK(at != NULL, "config has encoder_ffn_dim");
        if (at) {
            memcpy(at, "\"encoder_ffn_dim\": 512", 22);
            char path[1024];
            snprintf(path, sizeof path, "%s/config.json", dir);
            write_text(path, cfg);
            expect_load_error("config/weights mismatch", dir, NULL, "model.encoder.layers.0.fc1.weight");
        }
        free(cfg);
    }
    /* garbage config */
    dir = model_copy("m-garbagecfg", "tiny-random-v2", no_cfg);
    char path[1024];
    snprintf(path, sizeof path, "%s/config.json", dir);
    write_text(path, "{\"d_model\": ");
    expect_load_error("malformed config.json", dir, NULL, "config.json");
    /* truncated weights inside a model directory */
    dir = model_copy("m-trunc", "tiny-random-v2", no_st);
    char *whole = NULL;
    if (file_read_all(check_shared_path("whisper-ref/models/tiny-random-v2/model.safetensors"), 0, &whole, &n, err,
                      sizeof err) == 0) {
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        write_bytes(path, whole, n - 1000);
        expect_load_error("truncated model.safetensors", dir, NULL, "outside");
        free(whole);
    }
}

/* The tiny-random-v2 weights split into two shards with an index: loads, same tensors. */
static void test_sharded(void) {
    char err[TRIDENT_ERR_SIZE];
    safetensors *st = NULL;
    if (safetensors_open(check_shared_path("whisper-ref/models/tiny-random-v2/model.safetensors"), &st, err,
                         sizeof err) != 0) {
        CHECK(0, "open: %s", err);
        return;
    }
    const char *skip[] = {"model.safetensors", NULL};
    const char *dir = model_copy("m-sharded", "tiny-random-v2", skip);
    size_t n;
    const safetensors_tensor *ts = safetensors_tensors(st, &n);
    /* write shard k with the tensors i % 2 == k */
    size_t index_cap = 1 << 16;
    char *index = calloc(1, index_cap);
    strcat(index, "{\"metadata\": {}, \"weight_map\": {");
    for (int k = 0; k < 2; k++) {
        size_t hcap = 1 << 16, off = 0;
        char *header = calloc(1, hcap);
        unsigned char *data = malloc(20u << 20);
        strcat(header, "{");
        int first = 1;
        for (size_t i = k; i < n; i += 2) {
            const char *dt = safetensors_dtype_name(ts[i].dtype);
            char shape[64] = "";
            for (int d = 0; d < ts[i].ndim; d++)
                snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%lld", d ? "," : "",
                         (long long)ts[i].shape[d]);
            snprintf(header + strlen(header), hcap - strlen(header),
                     "%s\"%s\": {\"dtype\": \"%s\", \"shape\": [%s], \"data_offsets\": [%zu, %zu]}", first ? "" : ", ",
                     ts[i].name, dt, shape, off, off + ts[i].nbytes);
            memcpy(data + off, ts[i].data, ts[i].nbytes);
            off += ts[i].nbytes;
            snprintf(index + strlen(index), index_cap - strlen(index), "%s\"%s\": \"model-0000%d-of-00002.safetensors\"",
                     (i == 0) ? "" : ", ", ts[i].name, k + 1);
            first = 0;
        }
        strcat(header, "}");
        char path[1024];
        snprintf(path, sizeof path, "%s/model-0000%d-of-00002.safetensors", dir, k + 1);
        write_st_raw(path, header, data, off);
        free(header);
        free(data);
    }
    strcat(index, "}}");
    char path[1024];
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    write_text(path, index);
    free(index);
    whisper_model *m = load_ok("sharded model", dir, NULL);
    if (m) {
        const safetensors_tensor *a = safetensors_find(st, "model.decoder.layers.1.fc2.weight");
        CHECK(a && memcmp(a->data, m->dec[1].fc2.w.data, a->nbytes) == 0, "sharded weights equal the single file");
        whisper_model_free(m);
    }
    /* an index that names a shard that is not there */
    write_text(path, "{\"weight_map\": {\"model.encoder.conv1.weight\": \"model-00009-of-00009.safetensors\"}}");
    expect_load_error("index names a missing shard", dir, NULL, "model-00009-of-00009.safetensors");
    write_text(path, "{\"weight_map\": {\"model.encoder.conv1.weight\": \"../model.safetensors\"}}");
    expect_load_error("index escapes the directory", dir, NULL, "not a plain file name");
    safetensors_free(st);
}

/* --quant q8 on a model with a decoder matrix q8 cannot hold (one weight of 1e9:
 * its block's scale is beyond fp16's range): the model loads, that matrix stays
 * as loaded, the others become 8-bit. */
static void test_q8_unrepresentable(void) {
    const char *no_st[] = {"model.safetensors", NULL};
    const char *dir = model_copy("m-q8-huge", "tiny-random-v2", no_st);
    char *whole = NULL, err[TRIDENT_ERR_SIZE] = "";
    size_t n, at = 0;
    if (file_read_all(check_shared_path("whisper-ref/models/tiny-random-v2/model.safetensors"), 0, &whole, &n, err,
                      sizeof err) != 0) {
        CHECK(0, "read the fixture: %s", err);
        return;
    }
    uint64_t header_len;
    memcpy(&header_len, whole, sizeof header_len);
    char *header = strndup(whole + 8, (size_t)header_len);
    const char *key = header ? strstr(header, "\"model.decoder.layers.0.fc1.weight\"") : NULL;
    const char *offsets = key ? strstr(key, "\"data_offsets\"") : NULL;
    const char *open = offsets ? strchr(offsets, '[') : NULL;
    CHECK(key && strstr(key, "\"F32\"") && open && sscanf(open + 1, "%zu", &at) == 1,
          "the fixture's fc1 weight is fp32 with data offsets");
    float huge = 1e9f;
    memcpy(whole + 8 + header_len + at, &huge, sizeof huge);
    char path[1024];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    write_bytes(path, whole, n);
    free(header);
    free(whole);
    whisper_load_params lp = {dir, NULL, 1, WHISPER_WEIGHTS_Q8};
    whisper_model *m = NULL;
    int rc = whisper_model_load(&lp, &m, err, sizeof err);
    CHECK(rc == 0 && m, "q8 load with a weight of 1e9: %s", err);
    if (!m) return;
    float row[256];
    CHECK(m->dec[0].fc1.w.dtype == WHISPER_DTYPE_F32 && m->dec[0].fc1.w.cols <= 256,
          "the matrix q8 cannot hold stays fp32 (dtype %d)", m->dec[0].fc1.w.dtype);
    whisper_matrix_row(&m->dec[0].fc1.w, 0, row);
    CHECK(row[0] == huge, "its weight of 1e9 is kept (%g)", row[0]);
    CHECK(m->dec[0].fc2.w.dtype == WHISPER_DTYPE_Q8 && m->dec[1].fc1.w.dtype == WHISPER_DTYPE_Q8,
          "the other decoder matrices are 8-bit");
    whisper_model_free(m);
}

/* An adapter directory: the fixture's tensors (or none) and a config text. */
static const char *adapter_dir(const char *name, const char *config, int link_tensors) {
    const char *dir = tmp_path(name);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
    if (system(cmd) != 0) exit(1);
    char path[1024];
    snprintf(path, sizeof path, "%s/adapter_config.json", dir);
    if (config) write_text(path, config);
    if (link_tensors) {
        snprintf(path, sizeof path, "%s/adapter_model.safetensors", dir);
        if (symlink(check_shared_path("whisper-ref/lora/tiny-random-v2-lora-r8/adapter_model.safetensors"), path) != 0)
            perror(path);
    }
    return dir;
}

#define CFG(extra) "{\"peft_type\": \"LORA\", \"r\": 8, \"lora_alpha\": 16, \"use_rslora\": false, " extra "}"

static void test_adapters(void) {
    char base[512];
    snprintf(base, sizeof base, "%s", check_shared_path("whisper-ref/models/tiny-random-v2"));
    const char *list = "\"target_modules\": [\"q_proj\", \"v_proj\"]";
    char cfg[1024];

    expect_load_error("missing adapter dir", base, tmp_path("no-adapter"), "does not exist");
    expect_load_error("no adapter_config.json", base, adapter_dir("a-nocfg", NULL, 1), "adapter_config.json");
    expect_load_error("malformed adapter_config.json", base, adapter_dir("a-badjson", "{\"r\": ", 1),
                      "adapter_config.json");
    {
        const char *dir = adapter_dir("a-bin", CFG("\"target_modules\": [\"q_proj\", \"v_proj\"]"), 0);
        char path[1024];
        snprintf(path, sizeof path, "%s/adapter_model.bin", dir);
        write_text(path, "PK\x03\x04 not really a pickle");
        expect_load_error("pickle adapter_model.bin", base, dir, "convert it to");
    }
    expect_load_error("no weights at all", base, adapter_dir("a-none", CFG("\"target_modules\": [\"q_proj\"]"), 0),
                      "adapter_model.safetensors");
    snprintf(cfg, sizeof cfg, CFG("%s, \"use_dora\": true"), list);
    expect_load_error("DoRA", base, adapter_dir("a-dora", cfg, 1), "DoRA");
    expect_load_error("targets match nothing", base,
                      adapter_dir("a-nothing", CFG("\"target_modules\": [\"query\", \"value\"]"), 1), "matches no");
    expect_load_error("regex matches nothing", base,
                      adapter_dir("a-renothing", CFG("\"target_modules\": \".*\\\\.qkv\""), 1), "matches no");
    /* found by tests/fuzz/fuzz_json: stacked and nested repetitions made regcomp run for minutes */
    expect_load_error("regex with stacked repetitions", base,
                      adapter_dir("a-restack", CFG("\"target_modules\": \".*encoder.A+++++++++++++++++++++++++++++++"
                                                   "+++++++++++++++++++++++++++(proj)\""), 1),
                      "too complex");
    expect_load_error("regex with nested counted repetitions", base,
                      adapter_dir("a-renest", CFG("\"target_modules\": \"(((((q{9}){9}){9}){9}){9})_proj\""), 1),
                      "too complex");
    /* found by fuzz_json in CI: a bracket then 40 stacked stars; regcomp's epsilon closures took minutes */
    expect_load_error("regex with stars stacked after a bracket", base,
                      adapter_dir("a-restar", CFG("\"target_modules\": \".+ed]|||er.*(q[p*****]**********"
                                                  "******************************]***|{{{{{[{{?]or|)\""), 1),
                      "too complex");
    expect_load_error("target is not linear", base,
                      adapter_dir("a-conv", CFG("\"target_modules\": [\"conv1\", \"q_proj\"]"), 1), "conv1");
    expect_load_error("tensors for untargeted modules", base,
                      adapter_dir("a-untargeted", CFG("\"target_modules\": [\"q_proj\"]"), 1), "v_proj");
    snprintf(cfg, sizeof cfg, CFG("%s, \"rank_pattern\": {\"q_proj\": 4}"), list);
    expect_load_error("rank_pattern disagrees with the tensors", base, adapter_dir("a-rank", cfg, 1), "lora_A.weight");
    snprintf(cfg, sizeof cfg, CFG("%s, \"layers_to_transform\": [0]"), list);
    expect_load_error("layers_to_transform excludes tensors", base, adapter_dir("a-layers", cfg, 1), "layers.1");
    snprintf(cfg, sizeof cfg, "{\"peft_type\": \"PREFIX_TUNING\", \"r\": 8, %s}", list);
    expect_load_error("not LoRA", base, adapter_dir("a-prefix", cfg, 1), "PREFIX_TUNING");
    snprintf(cfg, sizeof cfg, "{\"peft_type\": \"LORA\", \"r\": 0, %s}", list);
    expect_load_error("r = 0", base, adapter_dir("a-r0", cfg, 1), "\"r\"");

    /* an adapter for another base: A is [8, 32] where the model needs [8, 64] */
    {
        snprintf(cfg, sizeof cfg, CFG("%s"), list);
        const char *dir = adapter_dir("a-shape", cfg, 0);
        static const float z[64 * 64];
        char path[1024];
        snprintf(path, sizeof path, "%s/adapter_model.safetensors", dir);
        write_st_raw(path,
                     "{\"base_model.model.model.encoder.layers.0.self_attn.q_proj.lora_A.weight\": {\"dtype\": \"F32\", "
                     "\"shape\": [8, 32], \"data_offsets\": [0, 1024]}, "
                     "\"base_model.model.model.encoder.layers.0.self_attn.q_proj.lora_B.weight\": {\"dtype\": \"F32\", "
                     "\"shape\": [64, 8], \"data_offsets\": [1024, 3072]}}",
                     z, 3072);
        expect_load_error("shape mismatch", base, dir, "encoder.layers.0.self_attn.q_proj.lora_A.weight");
        /* a module the model does not have */
        write_st_raw(path,
                     "{\"base_model.model.model.encoder.layers.7.self_attn.q_proj.lora_A.weight\": {\"dtype\": \"F32\", "
                     "\"shape\": [8, 64], \"data_offsets\": [0, 2048]}}",
                     z, 2048);
        expect_load_error("module the model lacks", base, dir, "layers.7");
        /* A without B */
        write_st_raw(path,
                     "{\"base_model.model.model.encoder.layers.0.self_attn.q_proj.lora_A.weight\": {\"dtype\": \"F32\", "
                     "\"shape\": [8, 64], \"data_offsets\": [0, 2048]}}",
                     z, 2048);
        expect_load_error("lora_A without lora_B", base, dir, "lora_B");
        /* a non-LoRA tensor */
        write_st_raw(path,
                     "{\"base_model.model.model.encoder.layers.0.self_attn.q_proj.lora_magnitude_vector\": {\"dtype\": "
                     "\"F32\", \"shape\": [64], \"data_offsets\": [0, 256]}}",
                     z, 256);
        expect_load_error("DoRA magnitude tensor", base, dir, "lora_magnitude_vector");
        /* a truncated adapter file */
        write_bytes(path, "\x40\0\0\0\0\0\0\0{\"a\"", 12);
        expect_load_error("truncated adapter", base, dir, "adapter_model.safetensors");
    }

    /* positive: the same adapter with a regex target gives the same merged weights as the list */
    whisper_model *ref = load_ok("list targets", base, check_shared_path("whisper-ref/lora/tiny-random-v2-lora-r8"));
    whisper_model *re = load_ok("regex targets", base,
                                adapter_dir("a-regex", CFG("\"target_modules\": \".*\\\\.(q_proj|v_proj)\""), 1));
    whisper_model *plain = load_ok("no adapter", base, NULL);
    if (ref && re && plain) {
        size_t nq = (size_t)64 * 64;
        CHECK(memcmp(ref->dec[1].cross.v.w.data, re->dec[1].cross.v.w.data, nq * sizeof(float)) == 0,
              "regex and list targets merge the same weights");
        CHECK(memcmp(ref->enc[0].self.q.w.data, plain->enc[0].self.q.w.data, nq * sizeof(float)) != 0,
              "the adapter changes q_proj");
        CHECK(ref->enc[0].self.k.w.data == plain->enc[0].self.k.w.data ||
                  memcmp(ref->enc[0].self.k.w.data, plain->enc[0].self.k.w.data, nq * sizeof(float)) == 0,
              "untargeted k_proj unchanged");
        CHECK(ref->enc[0].self.k.w.dtype == WHISPER_DTYPE_F32, "k_proj stays a view");
        /* alpha_pattern: alpha 0 for q_proj leaves it at the base weights; v_proj still merged */
        snprintf(cfg, sizeof cfg, CFG("%s, \"alpha_pattern\": {\"q_proj\": 0}"), list);
        whisper_model *ap = load_ok("alpha_pattern", base, adapter_dir("a-alpha", cfg, 1));
        if (ap) {
            CHECK(memcmp(ap->enc[1].self.q.w.data, plain->enc[1].self.q.w.data, nq * sizeof(float)) == 0,
                  "alpha_pattern q_proj: 0 leaves q_proj unchanged");
            CHECK(memcmp(ap->enc[1].self.v.w.data, ref->enc[1].self.v.w.data, nq * sizeof(float)) == 0,
                  "alpha_pattern leaves v_proj at the default alpha");
            whisper_model_free(ap);
        }
        /* use_rslora doubles the scale at r = 4... here r = 8: alpha/sqrt(8) vs alpha/8 */
        snprintf(cfg, sizeof cfg, "{\"peft_type\": \"LORA\", \"r\": 8, \"lora_alpha\": 16, \"use_rslora\": true, %s}",
                 list);
        whisper_model *rs = load_ok("use_rslora", base, adapter_dir("a-rslora", cfg, 1));
        if (rs) {
            const float *w0 = plain->enc[0].self.q.w.data, *w1 = ref->enc[0].self.q.w.data,
                        *w2 = rs->enc[0].self.q.w.data;
            double worst = 0.0;
            for (size_t i = 0; i < nq; i++) {
                double expect = (double)w0[i] + ((double)w1[i] - w0[i]) * (16.0 / sqrt(8.0)) / (16.0 / 8.0);
                if (fabs(expect - w2[i]) > worst) worst = fabs(expect - w2[i]);
            }
            CHECK(worst < 1e-5, "rslora scale alpha/sqrt(r): worst %g", worst);
            whisper_model_free(rs);
        }
        /* layers_to_transform with an adapter that has only layer-0 tensors is fine; here check the
         * config form with an integer */
        snprintf(cfg, sizeof cfg, CFG("%s, \"layers_to_transform\": 1"), list);
        expect_load_error("layers_to_transform as integer", base, adapter_dir("a-layer-int", cfg, 1), "layers.0");
    }
    whisper_model_free(ref);
    whisper_model_free(re);
    whisper_model_free(plain);
}

int main(void) {
    snprintf(tmp_root, sizeof tmp_root, "/tmp/trident-whisper-loader-XXXXXX");
    if (!mkdtemp(tmp_root)) {
        perror("mkdtemp");
        return 1;
    }
    test_safetensors();
    test_model_errors();
    test_sharded();
    test_q8_unrepresentable();
    test_adapters();
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp_root);
    return check_summary();
}
