/* model.c — loading a Hugging Face Whisper directory: config.json, the
 * (sharded) safetensors weights bound by name and shape-checked, the tokenizer,
 * the mel filter bank, the decoding constants, and the optional LoRA merge. */
#include "whisper/model.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"
#include "whisper/lora.h"
#include "whisper/quant.h"

float *whisper_model_alloc(whisper_model *m, size_t n) {
    if (m->n_owned == m->cap_owned) {
        size_t cap = m->cap_owned ? m->cap_owned * 2 : 64;
        void **grown = realloc(m->owned, cap * sizeof *grown);
        if (!grown) return NULL;
        m->owned = grown;
        m->cap_owned = cap;
    }
    float *p = mem_alloc_streamed((n ? n : 1) * sizeof(float));
    if (!p) return NULL;
    m->owned[m->n_owned++] = p;
    return p;
}

whisper_module *whisper_model_module_find(whisper_model *m, const char *name) {
    for (int i = 0; i < m->n_modules; i++)
        if (strcmp(m->modules[i].name, name) == 0) return &m->modules[i];
    return NULL;
}

void whisper_model_free(whisper_model *m) {
    if (!m) return;
    for (size_t i = 0; i < m->n_owned; i++) free(m->owned[i]);
    free(m->owned);
    free(m->enc);
    free(m->dec);
    free(m->modules);
    free(m->suppress_tokens);
    free(m->blank_tokens);
    if (m->tok) whisper_tokenizer_free(m->tok);
    if (m->mel) whisper_mel_free(m->mel);
    if (m->st) safetensors_free(m->st);
    free(m->name);
    free(m->lora_name);
    free(m);
}

/* ---- config.json ---- */

static int config_int(json_t *root, const char *key, int min, int max, int *out, const char *path, char *err,
                      size_t err_size) {
    json_t *v = json_object_get(root, key);
    if (!json_is_integer(v))
        return error_set(err, err_size, TRIDENT_EFORMAT, "%s: \"%s\" is missing or not an integer", path, key);
    json_int_t i = json_integer_value(v);
    if (i < min || i > max)
        return error_set(err, err_size, TRIDENT_EFORMAT, "%s: \"%s\" = %lld is out of range [%d, %d]", path, key,
                         (long long)i, min, max);
    *out = (int)i;
    return 0;
}

static int config_load(whisper_model *m, const char *dir, char *err, size_t err_size) {
    char path[4096];
    if (path_join(path, sizeof path, dir, "config.json") != 0)
        return error_set(err, err_size, TRIDENT_ELIMIT, "path too long: %s", dir);
    char *text;
    size_t len;
    int rc = file_read_all(path, 16u << 20, &text, &len, err, err_size);
    if (rc == TRIDENT_ENOTFOUND)
        return error_set(err, err_size, rc, "%s is not a Whisper model directory: config.json is missing", dir);
    if (rc != 0) return rc;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, 0, &jerr);
    free(text);
    if (!root || !json_is_object(root)) {
        json_decref(root);
        return error_set(err, err_size, TRIDENT_EFORMAT, "%s is not a JSON object (%s)", path, root ? "" : jerr.text);
    }
    whisper_hparams *hp = &m->hp;
    json_t *mt = json_object_get(root, "model_type");
    if (mt && (!json_is_string(mt) || strcmp(json_string_value(mt), "whisper") != 0)) {
        json_decref(root);
        return error_set(err, err_size, TRIDENT_EUNSUPPORTED, "%s: model_type is not \"whisper\"", path);
    }
    json_t *act = json_object_get(root, "activation_function");
    if (act && (!json_is_string(act) || strcmp(json_string_value(act), "gelu") != 0)) {
        json_decref(root);
        return error_set(err, err_size, TRIDENT_EUNSUPPORTED, "%s: activation_function must be \"gelu\"", path);
    }
    if (json_is_true(json_object_get(root, "scale_embedding"))) {
        json_decref(root);
        return error_set(err, err_size, TRIDENT_EUNSUPPORTED, "%s: scale_embedding=true is not supported", path);
    }
    if ((rc = config_int(root, "num_mel_bins", 1, 1024, &hp->n_mels, path, err, err_size)) ||
        (rc = config_int(root, "vocab_size", 1, 1 << 20, &hp->n_vocab, path, err, err_size)) ||
        (rc = config_int(root, "d_model", 1, 1 << 16, &hp->d_model, path, err, err_size)) ||
        (rc = config_int(root, "encoder_layers", 1, 1024, &hp->enc_layers, path, err, err_size)) ||
        (rc = config_int(root, "decoder_layers", 1, 1024, &hp->dec_layers, path, err, err_size)) ||
        (rc = config_int(root, "encoder_attention_heads", 1, 1024, &hp->enc_heads, path, err, err_size)) ||
        (rc = config_int(root, "decoder_attention_heads", 1, 1024, &hp->dec_heads, path, err, err_size)) ||
        (rc = config_int(root, "encoder_ffn_dim", 1, 1 << 18, &hp->enc_ffn, path, err, err_size)) ||
        (rc = config_int(root, "decoder_ffn_dim", 1, 1 << 18, &hp->dec_ffn, path, err, err_size)) ||
        (rc = config_int(root, "max_source_positions", 1, 1 << 16, &hp->n_audio_ctx, path, err, err_size)) ||
        (rc = config_int(root, "max_target_positions", 2, 1 << 16, &hp->n_text_ctx, path, err, err_size))) {
        json_decref(root);
        return rc;
    }
    json_decref(root);
    if (hp->d_model % hp->enc_heads || hp->d_model % hp->dec_heads)
        return error_set(err, err_size, TRIDENT_EFORMAT, "%s: d_model %d is not a multiple of the head count", path,
                         hp->d_model);
    if (hp->d_model / hp->dec_heads > WHISPER_MAX_D_HEAD)
        return error_set(err, err_size, TRIDENT_EUNSUPPORTED, "%s: decoder heads of %d dimensions (at most %d)", path,
                         hp->d_model / hp->dec_heads, WHISPER_MAX_D_HEAD);
    return 0;
}

/* ---- weight binding ---- */

typedef struct {
    whisper_model *m;
    char *err;
    size_t err_size;
} binder;

static const safetensors_tensor *bind_find(binder *b, const char *name, int ndim, const int64_t *shape, int *rc) {
    const safetensors_tensor *t = safetensors_find(b->m->st, name);
    if (!t) {
        *rc = error_set(b->err, b->err_size, TRIDENT_EFORMAT, "model weights lack tensor %s", name);
        return NULL;
    }
    int ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++) ok = t->shape[i] == shape[i];
    if (!ok) {
        char want[96] = "", got[96] = "";
        for (int i = 0; i < ndim; i++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", i ? ", " : "", (long long)shape[i]);
        for (int i = 0; i < t->ndim; i++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", i ? ", " : "", (long long)t->shape[i]);
        *rc = error_set(b->err, b->err_size, TRIDENT_EFORMAT,
                        "tensor %s has shape [%s] but config.json implies [%s]", name, got, want);
        return NULL;
    }
    b->m->weight_bytes += t->nbytes;
    return t;
}

/* An fp32 view of a vector or table (copied only when stored as fp16/bf16). */
static int bind_floats(binder *b, const char *name, int ndim, const int64_t *shape, const float **out) {
    int rc = 0;
    const safetensors_tensor *t = bind_find(b, name, ndim, shape, &rc);
    if (!t) return rc;
    size_t n = t->nbytes / whisper_dtype_size(t->dtype);
    if (t->dtype == WHISPER_DTYPE_F32) {
        *out = t->data;
        return 0;
    }
    float *copy = whisper_model_alloc(b->m, n);
    if (!copy) return error_set(b->err, b->err_size, TRIDENT_ENOMEM, "out of memory converting %s", name);
    whisper_convert_fp32(copy, t->data, t->dtype, n);
    *out = copy;
    return 0;
}

static int bind_vector(binder *b, const char *name, int n, const float **out) {
    int64_t shape[1] = {n};
    return bind_floats(b, name, 1, shape, out);
}

static int bind_matrix(binder *b, const char *name, int rows, int cols, whisper_matrix *out) {
    int rc = 0;
    int64_t shape[2] = {rows, cols};
    const safetensors_tensor *t = bind_find(b, name, 2, shape, &rc);
    if (!t) return rc;
    out->data = t->data;
    out->dtype = t->dtype;
    out->rows = rows;
    out->cols = cols;
    return 0;
}

static int bind_conv(binder *b, const char *name, int out_ch, int in_ch, whisper_matrix *out) {
    int rc = 0;
    int64_t shape[3] = {out_ch, in_ch, 3};
    const safetensors_tensor *t = bind_find(b, name, 3, shape, &rc);
    if (!t) return rc;
    out->data = t->data;
    out->dtype = t->dtype;
    out->rows = out_ch;
    out->cols = in_ch * 3;
    return 0;
}

/* Writes "<prefix>.<suffix>" into out (out_size bytes); an over-long name is an error. */
static int bind_name(binder *b, char *out, size_t out_size, const char *prefix, const char *suffix) {
    int n = snprintf(out, out_size, "%s%s%s", prefix, *suffix ? "." : "", suffix);
    if (n < 0 || (size_t)n >= out_size)
        return error_set(b->err, b->err_size, TRIDENT_ELIMIT, "tensor name too long: %s.%s", prefix, suffix);
    return 0;
}

static int bind_linear(binder *b, const char *prefix, int layer, int out_f, int in_f, int bias,
                       whisper_linear_weights *lin) {
    char name[160];
    int rc = bind_name(b, name, sizeof name, prefix, "weight");
    if (rc || (rc = bind_matrix(b, name, out_f, in_f, &lin->w))) return rc;
    lin->b = NULL;
    if (bias) {
        if ((rc = bind_name(b, name, sizeof name, prefix, "bias"))) return rc;
        if ((rc = bind_vector(b, name, out_f, &lin->b))) return rc;
    }
    whisper_module *mod = &b->m->modules[b->m->n_modules];
    if ((rc = bind_name(b, mod->name, sizeof mod->name, prefix, ""))) return rc;
    b->m->n_modules++;
    mod->lin = lin;
    mod->layer = layer;
    return 0;
}

static int bind_norm(binder *b, const char *prefix, int n, whisper_norm_weights *ln) {
    char name[160];
    int rc;
    if ((rc = bind_name(b, name, sizeof name, prefix, "weight")) || (rc = bind_vector(b, name, n, &ln->g))) return rc;
    if ((rc = bind_name(b, name, sizeof name, prefix, "bias"))) return rc;
    return bind_vector(b, name, n, &ln->b);
}

static int bind_attn(binder *b, const char *prefix, int layer, int d, whisper_attn_weights *a, const char *ln_name) {
    char name[160];
    int rc;
    snprintf(name, sizeof name, "%s.%s", prefix, ln_name);
    if ((rc = bind_norm(b, name, d, &a->ln))) return rc;
    const char *which = strstr(ln_name, "encoder_attn") ? "encoder_attn" : "self_attn";
    snprintf(name, sizeof name, "%s.%s.q_proj", prefix, which);
    if ((rc = bind_linear(b, name, layer, d, d, 1, &a->q))) return rc;
    snprintf(name, sizeof name, "%s.%s.k_proj", prefix, which);
    if ((rc = bind_linear(b, name, layer, d, d, 0, &a->k))) return rc;
    snprintf(name, sizeof name, "%s.%s.v_proj", prefix, which);
    if ((rc = bind_linear(b, name, layer, d, d, 1, &a->v))) return rc;
    snprintf(name, sizeof name, "%s.%s.out_proj", prefix, which);
    return bind_linear(b, name, layer, d, d, 1, &a->o);
}

static int bind_layer(binder *b, const char *side, int i, int d, int ffn, int cross, whisper_layer_weights *L) {
    char prefix[96], name[160];
    int rc;
    snprintf(prefix, sizeof prefix, "model.%s.layers.%d", side, i);
    if ((rc = bind_attn(b, prefix, i, d, &L->self, "self_attn_layer_norm"))) return rc;
    if (cross && (rc = bind_attn(b, prefix, i, d, &L->cross, "encoder_attn_layer_norm"))) return rc;
    snprintf(name, sizeof name, "%s.final_layer_norm", prefix);
    if ((rc = bind_norm(b, name, d, &L->ln_mlp))) return rc;
    snprintf(name, sizeof name, "%s.fc1", prefix);
    if ((rc = bind_linear(b, name, i, ffn, d, 1, &L->fc1))) return rc;
    snprintf(name, sizeof name, "%s.fc2", prefix);
    return bind_linear(b, name, i, d, ffn, 1, &L->fc2);
}

/* The official encoder's positional embedding is sinusoids(n_ctx, d) computed in
 * fp32 (openai/whisper registers it as a buffer; Hugging Face stores the same
 * table). An fp16/bf16 checkpoint stores it rounded, so when the stored table is
 * that sinusoid up to its storage rounding, the fp32 table is recomputed the way
 * the reference computes it (the fixtures' oracle does); otherwise (a checkpoint
 * with other positions) the stored values are used. */
static int encoder_positions_refine(whisper_model *m, char *err, size_t err_size) {
    const safetensors_tensor *t = safetensors_find(m->st, "model.encoder.embed_positions.weight");
    if (!t || t->dtype == WHISPER_DTYPE_F32 || m->hp.d_model % 2 || m->hp.d_model < 4) return 0;
    int n = m->hp.n_audio_ctx, d = m->hp.d_model, half = d / 2;
    float *pos = whisper_model_alloc(m, (size_t)n * d);
    if (!pos) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory computing positional embeddings");
    double inc = log(10000.0) / (half - 1);
    for (int i = 0; i < half; i++) {
        float inv = expf(-(float)inc * (float)i);
        for (int p = 0; p < n; p++) {
            float st = (float)p * inv;
            pos[(size_t)p * d + i] = sinf(st);
            pos[(size_t)p * d + half + i] = cosf(st);
        }
    }
    double tol = t->dtype == WHISPER_DTYPE_F16 ? 5e-4 : 4.5e-3, worst = 0.0;
    for (size_t i = 0; i < (size_t)n * d; i++) {
        double diff = fabs((double)pos[i] - m->enc_pos[i]);
        if (diff > worst) worst = diff;
    }
    if (worst <= tol) m->enc_pos = pos;
    else log_info("whisper", "encoder positional embedding is not sinusoidal; using the stored values max_diff=%g", worst);
    return 0;
}

static int weights_bind(whisper_model *m, char *err, size_t err_size) {
    const whisper_hparams *hp = &m->hp;
    int d = hp->d_model, rc;
    binder b = {m, err, err_size};
    m->enc = calloc((size_t)hp->enc_layers, sizeof *m->enc);
    m->dec = calloc((size_t)hp->dec_layers, sizeof *m->dec);
    m->modules = calloc((size_t)hp->enc_layers * 6 + (size_t)hp->dec_layers * 10, sizeof *m->modules);
    if (!m->enc || !m->dec || !m->modules) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory loading weights");
    if ((rc = bind_conv(&b, "model.encoder.conv1.weight", d, hp->n_mels, &m->conv1)) ||
        (rc = bind_vector(&b, "model.encoder.conv1.bias", d, &m->conv1_b)) ||
        (rc = bind_conv(&b, "model.encoder.conv2.weight", d, d, &m->conv2)) ||
        (rc = bind_vector(&b, "model.encoder.conv2.bias", d, &m->conv2_b)))
        return rc;
    int64_t pos_shape[2] = {hp->n_audio_ctx, d};
    if ((rc = bind_floats(&b, "model.encoder.embed_positions.weight", 2, pos_shape, &m->enc_pos))) return rc;
    if ((rc = encoder_positions_refine(m, err, err_size))) return rc;
    for (int i = 0; i < hp->enc_layers; i++)
        if ((rc = bind_layer(&b, "encoder", i, d, hp->enc_ffn, 0, &m->enc[i]))) return rc;
    if ((rc = bind_norm(&b, "model.encoder.layer_norm", d, &m->enc_ln))) return rc;
    if ((rc = bind_matrix(&b, "model.decoder.embed_tokens.weight", hp->n_vocab, d, &m->embed_tokens))) return rc;
    int64_t dpos_shape[2] = {hp->n_text_ctx, d};
    if ((rc = bind_floats(&b, "model.decoder.embed_positions.weight", 2, dpos_shape, &m->dec_pos))) return rc;
    for (int i = 0; i < hp->dec_layers; i++)
        if ((rc = bind_layer(&b, "decoder", i, d, hp->dec_ffn, 1, &m->dec[i]))) return rc;
    if ((rc = bind_norm(&b, "model.decoder.layer_norm", d, &m->dec_ln))) return rc;
    /* an untied output projection must equal the embedding (Whisper ties them) */
    const safetensors_tensor *proj = safetensors_find(m->st, "proj_out.weight");
    if (proj && proj->data != m->embed_tokens.data &&
        (proj->nbytes != (size_t)hp->n_vocab * d * whisper_dtype_size(m->embed_tokens.dtype) ||
         memcmp(proj->data, m->embed_tokens.data, proj->nbytes) != 0))
        return error_set(err, err_size, TRIDENT_EUNSUPPORTED,
                         "tensor proj_out.weight differs from model.decoder.embed_tokens.weight; untied output "
                         "projections are not supported");
    return 0;
}

/* ---- decoding constants ---- */

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int decoding_constants(whisper_model *m, char *err, size_t err_size) {
    const whisper_special_tokens *sp = whisper_tokenizer_specials(m->tok);
    int *ns = NULL;
    size_t n_ns = 0;
    if (whisper_tokenizer_non_speech_tokens(m->tok, &ns, &n_ns) != 0)
        return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory building the suppressed tokens");
    m->suppress_tokens = malloc((n_ns + 6) * sizeof(int));
    if (!m->suppress_tokens) {
        free(ns);
        return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory building the suppressed tokens");
    }
    size_t n = 0;
    for (size_t i = 0; i < n_ns; i++) m->suppress_tokens[n++] = ns[i];
    free(ns);
    int extra[6] = {sp->transcribe, sp->translate, sp->sot, sp->sot_prev, sp->sot_lm, sp->no_speech};
    for (int i = 0; i < 6; i++)
        if (extra[i] >= 0) m->suppress_tokens[n++] = extra[i];
    qsort(m->suppress_tokens, n, sizeof(int), cmp_int);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if ((u == 0 || m->suppress_tokens[u - 1] != m->suppress_tokens[i]) && m->suppress_tokens[i] >= 0 &&
            m->suppress_tokens[i] < m->hp.n_vocab)
            m->suppress_tokens[u++] = m->suppress_tokens[i];
    m->n_suppress = u;

    int *sp_ids = NULL;
    size_t n_sp = 0;
    if (whisper_tokenizer_encode(m->tok, " ", &sp_ids, &n_sp) != 0)
        return error_set(err, err_size, TRIDENT_ENOMEM, "cannot encode the blank token");
    m->blank_tokens = malloc((n_sp + 1) * sizeof(int));
    if (!m->blank_tokens) {
        free(sp_ids);
        return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory");
    }
    memcpy(m->blank_tokens, sp_ids, n_sp * sizeof(int));
    free(sp_ids);
    m->blank_tokens[n_sp] = sp->eot;
    m->n_blank = n_sp + 1;
    return 0;
}

/* generation_config.json's suppress_tokens should be the set we derive; say so when not. */
static void generation_config_check(whisper_model *m, const char *dir) {
    char path[4096], err[TRIDENT_ERR_SIZE];
    if (path_join(path, sizeof path, dir, "generation_config.json") != 0 || !file_exists(path)) return;
    char *text;
    size_t len;
    if (file_read_all(path, 16u << 20, &text, &len, err, sizeof err) != 0) return;
    json_t *root = json_loadb(text, len, 0, NULL);
    free(text);
    json_t *st = json_object_get(root, "suppress_tokens");
    if (json_is_array(st)) {
        size_t i, missing = 0;
        json_t *v;
        json_array_foreach(st, i, v) {
            int id = (int)json_integer_value(v);
            if (!bsearch(&id, m->suppress_tokens, m->n_suppress, sizeof(int), cmp_int)) missing++;
        }
        if (missing)
            log_warn("whisper", "generation_config.json suppress_tokens has %zu ids outside the reference's non-speech "
                                "set; decoding uses the reference set path=%s", missing, path);
    }
    json_decref(root);
}

/* ---- load ---- */

static char *base_name(const char *dir) {
    size_t len = strlen(dir);
    while (len > 1 && dir[len - 1] == '/') len--;
    size_t start = len;
    while (start > 0 && dir[start - 1] != '/') start--;
    char *s = malloc(len - start + 1);
    if (s) {
        memcpy(s, dir + start, len - start);
        s[len - start] = '\0';
    }
    return s;
}

static int model_owns(const whisper_model *m, const void *p) {
    for (size_t i = 0; i < m->n_owned; i++)
        if (m->owned[i] == p) return 1;
    return 0;
}

/* The matrices a decoder step streams (per layer self q/k/v/o, cross q/o, fc1,
 * fc2; the vocabulary projection) into buffers the model owns, on huge pages
 * where the kernel gives them (mem_alloc_streamed), unless they are already
 * owned (LoRA-merged, 8-bit). A memory-mapped file's 4-KB pages cost a step
 * 10-16 %: a TLB miss every 4 KB and prefetchers stopped at every page
 * (bench/RESULTS.md). q8 models read their 8-bit projection, not the 16-bit
 * embedding. Returns 0 or TRIDENT_ENOMEM; *copied gets the bytes copied. */
static int decoder_weights_own(whisper_model *m, size_t *copied) {
    *copied = 0;
    int n = 8 * m->hp.dec_layers + 1;
    for (int i = 0; i < n; i++) {
        whisper_matrix *w;
        if (i == n - 1) {
            if (m->proj_q8.data) break;
            w = &m->embed_tokens;
        } else {
            whisper_layer_weights *L = &m->dec[i / 8];
            whisper_matrix *layer[] = {&L->self.q.w,  &L->self.k.w,  &L->self.v.w, &L->self.o.w,
                                       &L->cross.q.w, &L->cross.o.w, &L->fc1.w,    &L->fc2.w};
            w = layer[i % 8];
        }
        if (model_owns(m, w->data)) continue;
        size_t bytes = whisper_matrix_bytes(w);
        float *copy = whisper_model_alloc(m, (bytes + sizeof(float) - 1) / sizeof(float));
        if (!copy) return TRIDENT_ENOMEM;
        memcpy(copy, w->data, bytes);
        w->data = copy;
        *copied += bytes;
    }
    return 0;
}

int whisper_model_load(const whisper_load_params *params, whisper_model **out, char *err, size_t err_size) {
    *out = NULL;
    if (!params || !params->model_dir)
        return error_set(err, err_size, TRIDENT_EINVAL, "no model directory given");
    if (params->weights != WHISPER_WEIGHTS_NATIVE && params->weights != WHISPER_WEIGHTS_Q8)
        return error_set(err, err_size, TRIDENT_EINVAL, "unknown weight format %d", (int)params->weights);
    double t0 = clock_now_ms();
    const char *dir = params->model_dir;
    if (!file_exists(dir)) return error_set(err, err_size, TRIDENT_ENOTFOUND, "model directory %s does not exist", dir);
    whisper_model *m = calloc(1, sizeof *m);
    if (!m) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory loading %s", dir);
    m->n_threads = params->n_threads;
    int rc;
    m->name = base_name(dir);
    if (!m->name) {
        rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory");
        goto fail;
    }
    if ((rc = config_load(m, dir, err, err_size))) goto fail;
    if ((rc = safetensors_open_dir(dir, "model", &m->st, err, err_size))) goto fail;
    if ((rc = weights_bind(m, err, err_size))) goto fail;
    if ((rc = whisper_tokenizer_load(dir, &m->tok, err, err_size))) goto fail;
    const whisper_special_tokens *sp = whisper_tokenizer_specials(m->tok);
    if (sp->n_vocab > m->hp.n_vocab || sp->eot < 0 || sp->sot < 0 || sp->no_timestamps < 0 ||
        sp->timestamp_begin < 0) {
        rc = error_set(err, err_size, TRIDENT_EFORMAT,
                       "%s: the tokenizer (%d ids) does not fit the model (vocab_size %d) or lacks special tokens", dir,
                       sp->n_vocab, m->hp.n_vocab);
        goto fail;
    }
    m->multilingual = whisper_tokenizer_multilingual(m->tok);
    if ((rc = whisper_mel_new(m->hp.n_mels, &m->mel, err, err_size))) goto fail;
    if ((rc = decoding_constants(m, err, err_size))) goto fail;
    generation_config_check(m, dir);
    if (params->lora_dir) {
        if ((rc = whisper_lora_apply(m, params->lora_dir, err, err_size))) goto fail;
        m->lora_name = base_name(params->lora_dir);
        if (!m->lora_name) {
            rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory");
            goto fail;
        }
    }
    if (params->weights == WHISPER_WEIGHTS_Q8 && (rc = whisper_q8_model_convert(m, params->n_threads, err, err_size)))
        goto fail;
    size_t copied;
    if ((rc = decoder_weights_own(m, &copied))) {
        rc = error_set(err, err_size, rc, "out of memory copying the decoder's weights of %s", dir);
        goto fail;
    }
    if (copied) log_info("whisper", "decoder weights copied out of the memory map mb=%.0f", copied / 1e6);
    m->weights = params->weights;
    m->load_ms = clock_now_ms() - t0;
    log_info("whisper", "model loaded name=%s lora=%s d_model=%d layers=%d/%d vocab=%d kernels=%s weights=%s ms=%.0f",
             m->name, m->lora_name ? m->lora_name : "none", m->hp.d_model, m->hp.enc_layers, m->hp.dec_layers,
             m->hp.n_vocab, whisper_kernels_path(), params->weights == WHISPER_WEIGHTS_Q8 ? "q8" : "native",
             m->load_ms);
    *out = m;
    return 0;
fail:
    whisper_model_free(m);
    return rc;
}

whisper_model_info whisper_model_info_get(const whisper_model *m) {
    whisper_model_info info;
    memset(&info, 0, sizeof info);
    info.name = m->name;
    info.lora = m->lora_name;
    info.n_mels = m->hp.n_mels;
    info.n_vocab = m->hp.n_vocab;
    info.d_model = m->hp.d_model;
    info.n_encoder_layers = m->hp.enc_layers;
    info.n_decoder_layers = m->hp.dec_layers;
    info.n_heads = m->hp.enc_heads;
    info.multilingual = m->multilingual;
    info.load_ms = m->load_ms;
    info.weight_bytes = m->weight_bytes;
    return info;
}
