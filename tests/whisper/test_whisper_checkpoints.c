/* test_whisper_checkpoints.c — checkpoint variants the shared fixtures do not
 * ship, built from them at test time in a temporary directory:
 *  - bfloat16 weights: tiny-random-v2 rounded to bf16 and stored as BF16 must
 *    decode exactly like the same rounded values stored as F32 (the bf16 path
 *    converts in registers, it does not change the math);
 *  - a distil-style model with fewer decoder than encoder layers (tiny-random-v2
 *    with its second decoder layer removed) loads and decodes;
 *  - `trident model-gen --arch tiny` writes a checkpoint of the real tiny size
 *    that loads with the right dimensions and transcribes a window. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audio/audio.h"
#include "base/error.h"
#include "base/file.h"
#include "check.h"
#include "whisper/engine.h"

typedef enum { REWRITE_COPY, REWRITE_BF16, REWRITE_BF16_AS_F32 } rewrite_mode;

static uint16_t bf16_round(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    x += 0x7fffu + ((x >> 16) & 1u); /* round to nearest even */
    return (uint16_t)(x >> 16);
}

/* Copies src/model.safetensors to dst/model.safetensors, converting F32 tensors
 * per mode and leaving out tensors whose name contains drop (if non-NULL). */
static int rewrite_safetensors(const char *src_dir, const char *dst_dir, rewrite_mode mode, const char *drop) {
    char path[1024], err[TRIDENT_ERR_SIZE];
    snprintf(path, sizeof path, "%s/model.safetensors", src_dir);
    file_map map;
    if (file_map_open(path, &map, err, sizeof err)) return -1;
    const unsigned char *base = map.data;
    uint64_t hlen;
    memcpy(&hlen, base, 8);
    json_error_t jerr;
    json_t *hdr = json_loadb((const char *)base + 8, (size_t)hlen, 0, &jerr);
    const unsigned char *data = base + 8 + hlen;
    json_t *out_hdr = json_object();
    size_t cap = map.size * 2, used = 0;
    unsigned char *blob = malloc(cap);
    const char *name;
    json_t *t;
    int rc = hdr && blob ? 0 : -1;
    json_object_foreach(hdr, name, t) {
        if (rc || strcmp(name, "__metadata__") == 0) continue;
        if (drop && strstr(name, drop)) continue;
        const char *dtype = json_string_value(json_object_get(t, "dtype"));
        json_t *offs = json_object_get(t, "data_offsets");
        size_t b = (size_t)json_integer_value(json_array_get(offs, 0));
        size_t e = (size_t)json_integer_value(json_array_get(offs, 1));
        const char *new_dtype = dtype;
        size_t start = used;
        if (strcmp(dtype, "F32") == 0 && mode != REWRITE_COPY) {
            size_t n = (e - b) / 4;
            for (size_t i = 0; i < n; i++) {
                float f;
                memcpy(&f, data + b + 4 * i, 4);
                uint16_t h = bf16_round(f);
                if (mode == REWRITE_BF16) {
                    memcpy(blob + used, &h, 2);
                    used += 2;
                } else {
                    uint32_t x = (uint32_t)h << 16;
                    memcpy(blob + used, &x, 4);
                    used += 4;
                }
            }
            if (mode == REWRITE_BF16) new_dtype = "BF16";
        } else {
            memcpy(blob + used, data + b, e - b);
            used += e - b;
        }
        json_object_set_new(out_hdr, name,
                            json_pack("{s:s,s:O,s:[I,I]}", "dtype", new_dtype, "shape", json_object_get(t, "shape"),
                                      "data_offsets", (json_int_t)start, (json_int_t)used));
    }
    char *text = rc ? NULL : json_dumps(out_hdr, JSON_COMPACT);
    if (text) {
        snprintf(path, sizeof path, "%s/model.safetensors", dst_dir);
        FILE *f = fopen(path, "wb");
        /* the header is padded with spaces to 8 bytes, as published files are */
        uint64_t len = strlen(text), n = (len + 7) / 8 * 8;
        rc = !f || fwrite(&n, 8, 1, f) != 1 || fwrite(text, 1, len, f) != len ||
             fwrite("        ", 1, n - len, f) != n - len || fwrite(blob, 1, used, f) != used;
        if (f && fclose(f)) rc = -1;
    } else {
        rc = -1;
    }
    free(text);
    free(blob);
    json_decref(hdr);
    json_decref(out_hdr);
    file_unmap(&map);
    return rc ? -1 : 0;
}

/* A model directory dst with the tokenizer and configs of src linked in and
 * (optionally) decoder_layers overridden in config.json. */
static int make_model_dir(const char *src, const char *dst, int decoder_layers) {
    static const char *const files[] = {"generation_config.json", "vocab.json", "merges.txt", "added_tokens.json",
                                        "preprocessor_config.json", "special_tokens_map.json", "tokenizer_config.json"};
    if (mkdir(dst, 0755)) return -1;
    char a[1024], b[1024];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(a, sizeof a, "%s/%s", src, files[i]);
        snprintf(b, sizeof b, "%s/%s", dst, files[i]);
        if (symlink(a, b)) return -1;
    }
    snprintf(a, sizeof a, "%s/config.json", src);
    json_t *cfg = json_load_file(a, 0, NULL);
    if (!cfg) return -1;
    if (decoder_layers > 0) json_object_set_new(cfg, "decoder_layers", json_integer(decoder_layers));
    snprintf(b, sizeof b, "%s/config.json", dst);
    int rc = json_dump_file(cfg, b, JSON_INDENT(2));
    json_decref(cfg);
    return rc;
}

static whisper_result *transcribe_dir(const char *dir, const audio_pcm *pcm, whisper_model_info *info) {
    char err[TRIDENT_ERR_SIZE];
    whisper_load_params lp = {.model_dir = dir, .n_threads = 2};
    whisper_model *m = NULL;
    int rc = whisper_model_load(&lp, &m, err, sizeof err);
    CHECK(rc == 0, "load %s: %s", dir, err);
    if (rc) return NULL;
    if (info) *info = whisper_model_info_get(m);
    whisper_session *s = NULL;
    whisper_result *r = NULL;
    rc = whisper_session_new(m, 0, &s, err, sizeof err);
    CHECK(rc == 0, "session %s: %s", dir, err);
    whisper_transcribe_params p = whisper_transcribe_params_default();
    p.language = "en";
    p.max_windows = 1;
    if (!rc) rc = whisper_transcribe(s, pcm->samples, pcm->n_samples, &p, &r, err, sizeof err);
    CHECK(rc == 0, "transcribe %s: %s", dir, err);
    whisper_session_free(s);
    whisper_model_free(m);
    return rc ? NULL : r;
}

int main(void) {
    char tmp[] = "/tmp/trident-ckpt-XXXXXX";
    if (!mkdtemp(tmp)) return 1;
    char err[TRIDENT_ERR_SIZE], v2[1024], bf16[1024], f32r[1024], distil[1024], gen[1024];
    snprintf(v2, sizeof v2, "%s", check_shared_path("whisper-ref/models/tiny-random-v2"));
    snprintf(bf16, sizeof bf16, "%s/bf16", tmp);
    snprintf(f32r, sizeof f32r, "%s/f32-rounded", tmp);
    snprintf(distil, sizeof distil, "%s/distil", tmp);
    snprintf(gen, sizeof gen, "%s/tiny-real", tmp);

    audio_pcm pcm;
    int rc = audio_decode_file(check_shared_path("whisper-ref/jfk.wav"), NULL, &pcm, err, sizeof err);
    CHECK(rc == 0, "decode jfk.wav: %s", err);
    if (rc) return check_summary();

    /* bf16 storage vs the same values stored as f32 */
    CHECK(make_model_dir(v2, bf16, 0) == 0 && rewrite_safetensors(v2, bf16, REWRITE_BF16, NULL) == 0, "write bf16 model");
    CHECK(make_model_dir(v2, f32r, 0) == 0 && rewrite_safetensors(v2, f32r, REWRITE_BF16_AS_F32, NULL) == 0,
          "write rounded f32 model");
    whisper_result *rb = transcribe_dir(bf16, &pcm, NULL), *rf = transcribe_dir(f32r, &pcm, NULL);
    if (rb && rf) {
        CHECK(rb->n_windows == 1 && rf->n_windows == 1, "one window each");
        int same = rb->windows[0].n_tokens == rf->windows[0].n_tokens;
        for (int i = 0; same && i < rb->windows[0].n_tokens; i++)
            same = rb->windows[0].tokens[i].id == rf->windows[0].tokens[i].id;
        CHECK(same && rb->windows[0].n_tokens > 0, "bf16 tokens identical to the rounded f32 model (%d vs %d tokens)",
              rb->windows[0].n_tokens, rf->windows[0].n_tokens);
        CHECK_NEAR(rb->avg_logprob, rf->avg_logprob, 1e-5, "bf16 avg_logprob");
        CHECK(strcmp(rb->text, rf->text) == 0, "bf16 text identical");
    }
    whisper_result_free(rb);
    whisper_result_free(rf);

    /* fewer decoder layers than encoder layers (distil / turbo layout) */
    whisper_model_info info;
    CHECK(make_model_dir(v2, distil, 1) == 0 && rewrite_safetensors(v2, distil, REWRITE_COPY, "decoder.layers.1.") == 0,
          "write 2/1-layer model");
    whisper_result *rd = transcribe_dir(distil, &pcm, &info);
    CHECK(rd && info.n_encoder_layers == 2 && info.n_decoder_layers == 1, "distil layout loads: %d/%d layers",
          info.n_encoder_layers, info.n_decoder_layers);
    CHECK(rd && rd->windows[0].n_tokens > 0 && isfinite(rd->avg_logprob), "distil layout decodes");
    whisper_result_free(rd);

    /* a real-size checkpoint from model-gen */
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' model-gen --arch tiny --dtype f16 --seed 7 --out '%s' --vocab-from '%s' 2>/dev/null",
             TRIDENT_BINARY, gen, v2);
    int st = system(cmd);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "model-gen --arch tiny");
    whisper_result *rg = transcribe_dir(gen, &pcm, &info);
    CHECK(info.d_model == 384 && info.n_heads == 6 && info.n_encoder_layers == 4 && info.n_decoder_layers == 4 &&
              info.n_mels == 80 && info.n_vocab == 51865,
          "tiny dimensions: d=%d heads=%d layers=%d/%d mels=%d vocab=%d", info.d_model, info.n_heads,
          info.n_encoder_layers, info.n_decoder_layers, info.n_mels, info.n_vocab);
    CHECK(rg && rg->windows[0].n_tokens > 0 && isfinite(rg->avg_logprob), "tiny-size model decodes");
    whisper_result_free(rg);
    snprintf(cmd, sizeof cmd, "'%s' model-gen --arch huge --out '%s/x' 2>/dev/null", TRIDENT_BINARY, tmp);
    st = system(cmd);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2, "model-gen rejects an unknown architecture");

    audio_pcm_clear(&pcm);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp);
    return check_summary();
}
