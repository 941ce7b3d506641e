/* lora.c — reading and merging a PEFT LoRA adapter (see lora.h). Target
 * matching follows PEFT: list entries match a module name exactly or as its last
 * dotted components; a regex string must match the whole name (re.fullmatch);
 * Python's \d, \D, \s, \S are translated for POSIX extended regexes. */
#include "whisper/lora.h"

#include <jansson.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "whisper/model.h"

#define LORA_PREFIX "base_model.model."

/* Patterns (target_modules, rank/alpha_pattern keys) come from the adapter's
 * files: glibc's regcomp copies a repeated sub-expression once per bound of its
 * repetition, so stacked or nested repetitions ("a+++…", "((a{9}){9}){9}")
 * grow its work exponentially. A pattern whose expansion passes this many
 * nodes is refused before regcomp sees it. */
#define LORA_REGEX_MAX_NODES 20000.0

/* An upper estimate of the nodes regcomp builds for the extended regex re;
 * LORA_REGEX_MAX_NODES * 2 for a quantifier stacked on a quantifier ("a**",
 * "a+{3}"), which Python's re refuses as "multiple repeat" and whose epsilon
 * closures glibc computes in exponential time (found by fuzz_json). A lone '?'
 * after a quantifier, Python's lazy form, is allowed: it matches the same. */
static double regex_expanded_size(const char *re) {
    double outer_sum[32];
    int depth = 0;
    double sum = 0, atom = 0;
    int quantified = 0; /* the previous token was a quantifier (1), or a lazy '?' after one (2) */
    for (const char *p = re; *p; p++) {
        char c = *p;
        int is_quantifier = c == '*' || c == '+' || c == '?' || c == '{';
        if (is_quantifier && quantified && !(c == '?' && quantified == 1)) return LORA_REGEX_MAX_NODES * 2;
        quantified = is_quantifier ? (quantified ? 2 : 1) : 0;
        if (c == '\\' && p[1]) {
            p++;
            sum += 1, atom = 1;
        } else if (c == '[') {
            /* a bracket expression is one node: skip to its closing ']' */
            const char *q = p + 1;
            if (*q == '^') q++;
            if (*q == ']') q++;
            while (*q && *q != ']') {
                if (*q == '[' && (q[1] == ':' || q[1] == '=' || q[1] == '.')) {
                    char close = q[1];
                    q += 2;
                    while (*q && !(q[0] == close && q[1] == ']')) q++;
                    if (*q) q += 2;
                } else {
                    q++;
                }
            }
            p = *q ? q : q - 1;
            sum += 1, atom = 1;
        } else if (c == '(') {
            if (depth == 32) return LORA_REGEX_MAX_NODES * 2;
            outer_sum[depth] = sum;
            depth++;
            sum = 0, atom = 0;
        } else if (c == ')' && depth > 0) {
            depth--;
            atom = sum + 1;
            sum = outer_sum[depth] + atom;
        } else if (c == '*' || c == '+' || c == '?' || c == '{') {
            double copies = c == '+' ? 2 : 1;
            if (c == '{') {
                char *end;
                double lo = strtod(p + 1, &end), hi = lo;
                if (*end == ',') hi = end[1] == '}' ? lo + 1 : strtod(end + 1, &end);
                while (*end && *end != '}') end++;
                p = *end ? end : end - 1;
                copies = hi > lo ? hi : lo;
                if (copies < 1) copies = 1;
            }
            sum += atom * (copies - 1) + 1;
            atom = atom * copies + 1;
        } else {
            sum += 1, atom = c == '|' ? 0 : 1;
        }
        if (sum > LORA_REGEX_MAX_NODES) return sum;
    }
    return sum;
}

/* Compiles "^(" pattern ")$" (prefix_any: "^(.*\.)?(" pattern ")$") with Python
 * shorthand classes translated. Returns 0 or a regcomp error. */
static int regex_compile(regex_t *re, const char *pattern, int prefix_any) {
    size_t n = strlen(pattern);
    char *buf = malloc(n * 12 + 32);
    if (!buf) return REG_ESPACE;
    char *o = buf;
    o += sprintf(o, prefix_any ? "^(.*\\.)?(" : "^(");
    int in_class = 0;
    for (size_t i = 0; i < n; i++) {
        char c = pattern[i];
        if (c == '\\' && i + 1 < n) {
            char e = pattern[i + 1];
            const char *rep = NULL;
            if (e == 'd') rep = in_class ? "0-9" : "[0-9]";
            else if (e == 'D' && !in_class) rep = "[^0-9]";
            else if (e == 's') rep = in_class ? "[:space:]" : "[[:space:]]";
            else if (e == 'S' && !in_class) rep = "[^[:space:]]";
            if (rep) {
                o += sprintf(o, "%s", rep);
                i++;
                continue;
            }
            *o++ = c;
            *o++ = e;
            i++;
            continue;
        }
        if (c == '[' && !in_class) in_class = 1;
        else if (c == ']' && in_class) in_class = 0;
        *o++ = c;
    }
    o += sprintf(o, ")$");
    if (regex_expanded_size(buf) > LORA_REGEX_MAX_NODES) {
        free(buf);
        return REG_ESIZE;
    }
    int rc = regcomp(re, buf, REG_EXTENDED | REG_NOSUB);
    free(buf);
    return rc;
}

static int name_ends_with(const char *name, const char *suffix) {
    size_t n = strlen(name), s = strlen(suffix);
    if (n == s) return strcmp(name, suffix) == 0;
    return n > s && name[n - s - 1] == '.' && strcmp(name + n - s, suffix) == 0;
}

typedef struct {
    json_t *cfg;
    const char *path;       /* adapter_config.json */
    int r;
    double alpha;
    int rslora;
    json_t *targets;        /* list or string */
    regex_t target_re;
    int have_re;
    json_t *layers;         /* int, list or NULL */
    json_t *rank_pattern, *alpha_pattern;
} lora_config;

static int config_targets(const lora_config *c, const char *name, int layer) {
    int hit = 0;
    if (c->have_re) {
        hit = regexec(&c->target_re, name, 0, NULL, 0) == 0;
    } else {
        size_t i;
        json_t *t;
        json_array_foreach(c->targets, i, t) if (json_is_string(t) && name_ends_with(name, json_string_value(t))) hit = 1;
    }
    if (!hit || !c->layers || json_is_null(c->layers)) return hit;
    if (layer < 0) return 0;
    if (json_is_integer(c->layers)) return json_integer_value(c->layers) == layer;
    size_t i;
    json_t *l;
    json_array_foreach(c->layers, i, l) if (json_is_integer(l) && json_integer_value(l) == layer) return 1;
    return 0;
}

/* The value of the first pattern key in obj matching name as "(.*\.)?(key)$", or NULL. */
static json_t *pattern_lookup(json_t *obj, const char *name) {
    if (!json_is_object(obj)) return NULL;
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val) {
        regex_t re;
        if (regex_compile(&re, key, 1) != 0) continue;
        int hit = regexec(&re, name, 0, NULL, 0) == 0;
        regfree(&re);
        if (hit) return val;
    }
    return NULL;
}

/* Non-linear module names a target may hit by mistake. */
static int nonlinear_check(const whisper_model *m, const lora_config *c, char *err, size_t err_size) {
    static const char *const fixed[] = {
        "model", "model.encoder", "model.decoder", "model.encoder.conv1", "model.encoder.conv2",
        "model.encoder.embed_positions", "model.encoder.layer_norm", "model.encoder.layers",
        "model.decoder.embed_tokens", "model.decoder.embed_positions", "model.decoder.layer_norm",
        "model.decoder.layers", "proj_out",
    };
    char name[128];
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (config_targets(c, fixed[i], -1))
            return error_set(err, err_size, TRIDENT_EUNSUPPORTED,
                             "%s: target_modules matches %s, which is not a linear layer (LoRA is supported on linear "
                             "layers only)", c->path, fixed[i]);
    static const char *const per_layer[] = {"", ".self_attn", ".encoder_attn", ".self_attn_layer_norm",
                                            ".encoder_attn_layer_norm", ".final_layer_norm"};
    for (int side = 0; side < 2; side++) {
        int n = side ? m->hp.dec_layers : m->hp.enc_layers;
        for (int l = 0; l < n; l++)
            for (size_t i = 0; i < sizeof per_layer / sizeof per_layer[0]; i++) {
                snprintf(name, sizeof name, "model.%s.layers.%d%s", side ? "decoder" : "encoder", l, per_layer[i]);
                if (config_targets(c, name, l))
                    return error_set(err, err_size, TRIDENT_EUNSUPPORTED,
                                     "%s: target_modules matches %s, which is not a linear layer (LoRA is supported "
                                     "on linear layers only)", c->path, name);
            }
    }
    return 0;
}

static int config_read(lora_config *c, const char *dir, char *path, size_t path_size, char *err, size_t err_size) {
    if (path_join(path, path_size, dir, "adapter_config.json") != 0)
        return error_set(err, err_size, TRIDENT_ELIMIT, "path too long: %s", dir);
    c->path = path;
    if (!file_exists(dir)) return error_set(err, err_size, TRIDENT_ENOTFOUND, "adapter directory %s does not exist", dir);
    char *text;
    size_t len;
    int rc = file_read_all(path, 16u << 20, &text, &len, err, err_size);
    if (rc == TRIDENT_ENOTFOUND)
        return error_set(err, err_size, rc, "%s is not a PEFT adapter directory: adapter_config.json is missing", dir);
    if (rc) return rc;
    json_error_t jerr;
    c->cfg = json_loadb(text, len, 0, &jerr);
    free(text);
    if (!c->cfg || !json_is_object(c->cfg))
        return error_set(err, err_size, TRIDENT_EFORMAT, "%s is not a JSON object%s%s", path, c->cfg ? "" : ": ",
                         c->cfg ? "" : jerr.text);
    json_t *cfg = c->cfg, *v;
    v = json_object_get(cfg, "peft_type");
    if (v && (!json_is_string(v) || strcmp(json_string_value(v), "LORA") != 0))
        return error_set(err, err_size, TRIDENT_EUNSUPPORTED, "%s: peft_type %s is not supported (only LORA)", path,
                         json_is_string(v) ? json_string_value(v) : "?");
    if (json_is_true(json_object_get(cfg, "use_dora")))
        return error_set(err, err_size, TRIDENT_EUNSUPPORTED,
                         "%s: use_dora is true; DoRA adapters are not supported (only plain LoRA)", path);
    v = json_object_get(cfg, "bias");
    if (v && !json_is_null(v) && (!json_is_string(v) || strcmp(json_string_value(v), "none") != 0))
        return error_set(err, err_size, TRIDENT_EUNSUPPORTED, "%s: bias \"%s\" is not supported (only \"none\")", path,
                         json_is_string(v) ? json_string_value(v) : "?");
    v = json_object_get(cfg, "modules_to_save");
    if (v && !json_is_null(v) && !(json_is_array(v) && json_array_size(v) == 0))
        return error_set(err, err_size, TRIDENT_EUNSUPPORTED, "%s: modules_to_save is not supported", path);
    v = json_object_get(cfg, "r");
    if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > 65536)
        return error_set(err, err_size, TRIDENT_EFORMAT, "%s: \"r\" must be a positive integer", path);
    c->r = (int)json_integer_value(v);
    v = json_object_get(cfg, "lora_alpha");
    if (!v) c->alpha = 8; /* PEFT's default */
    else if (json_is_number(v)) c->alpha = json_number_value(v);
    else return error_set(err, err_size, TRIDENT_EFORMAT, "%s: \"lora_alpha\" must be a number", path);
    c->rslora = json_is_true(json_object_get(cfg, "use_rslora"));
    c->targets = json_object_get(cfg, "target_modules");
    if (json_is_string(c->targets)) {
        if (regex_compile(&c->target_re, json_string_value(c->targets), 0) != 0)
            return error_set(err, err_size, TRIDENT_EFORMAT,
                             "%s: target_modules regex \"%.200s\" does not compile or is too complex (stacked or "
                             "nested repetitions)",
                             path, json_string_value(c->targets));
        c->have_re = 1;
    } else if (!json_is_array(c->targets) || json_array_size(c->targets) == 0) {
        return error_set(err, err_size, TRIDENT_EFORMAT, "%s: target_modules must be a non-empty list or a regex string",
                         path);
    }
    c->layers = json_object_get(cfg, "layers_to_transform");
    if (c->layers && !json_is_null(c->layers) && !json_is_integer(c->layers) && !json_is_array(c->layers))
        return error_set(err, err_size, TRIDENT_EFORMAT, "%s: layers_to_transform must be an integer or a list", path);
    c->rank_pattern = json_object_get(cfg, "rank_pattern");
    c->alpha_pattern = json_object_get(cfg, "alpha_pattern");
    if ((c->rank_pattern && !json_is_null(c->rank_pattern) && !json_is_object(c->rank_pattern)) ||
        (c->alpha_pattern && !json_is_null(c->alpha_pattern) && !json_is_object(c->alpha_pattern)))
        return error_set(err, err_size, TRIDENT_EFORMAT, "%s: rank_pattern and alpha_pattern must be objects", path);
    if (json_is_true(json_object_get(cfg, "fan_in_fan_out")))
        log_warn("whisper", "fan_in_fan_out is true but Whisper's layers are torch.nn.Linear; ignoring it as PEFT does "
                            "path=%s", path);
    return 0;
}

/* Per targeted module: its A and B tensors. */
typedef struct {
    const safetensors_tensor *a, *b;
} lora_pair;

static int merge_module(whisper_model *m, const whisper_module *mod, const lora_pair *p, const lora_config *c,
                        char *err, size_t err_size) {
    int r = c->r;
    double alpha = c->alpha;
    json_t *rv = pattern_lookup(c->rank_pattern, mod->name), *av = pattern_lookup(c->alpha_pattern, mod->name);
    if (rv && json_is_integer(rv) && json_integer_value(rv) > 0) r = (int)json_integer_value(rv);
    if (av && json_is_number(av)) alpha = json_number_value(av);
    int out_f = mod->lin->w.rows, in_f = mod->lin->w.cols;
    if (p->a->ndim != 2 || p->a->shape[0] != r || p->a->shape[1] != in_f)
        return error_set(err, err_size, TRIDENT_EFORMAT,
                         "adapter tensor %s has shape [%lld, %lld] but %s needs [%d, %d] (rank %d, in_features %d): "
                         "adapter made for another base model or rank?",
                         p->a->name, (long long)p->a->shape[0], (long long)(p->a->ndim > 1 ? p->a->shape[1] : 0),
                         mod->name, r, in_f, r, in_f);
    if (p->b->ndim != 2 || p->b->shape[0] != out_f || p->b->shape[1] != r)
        return error_set(err, err_size, TRIDENT_EFORMAT,
                         "adapter tensor %s has shape [%lld, %lld] but %s needs [%d, %d] (out_features %d, rank %d): "
                         "adapter made for another base model or rank?",
                         p->b->name, (long long)p->b->shape[0], (long long)(p->b->ndim > 1 ? p->b->shape[1] : 0),
                         mod->name, out_f, r, out_f, r);
    double scale = c->rslora ? alpha / sqrt((double)r) : alpha / r;
    size_t nw = (size_t)out_f * in_f;
    float *w = whisper_model_alloc(m, nw);
    float *A = malloc((size_t)r * in_f * sizeof *A), *B = malloc((size_t)out_f * r * sizeof *B);
    if (!w || !A || !B) {
        free(A);
        free(B);
        return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory merging %s", mod->name);
    }
    whisper_convert_fp32(w, mod->lin->w.data, mod->lin->w.dtype, nw);
    whisper_convert_fp32(A, p->a->data, p->a->dtype, (size_t)r * in_f);
    whisper_convert_fp32(B, p->b->data, p->b->dtype, (size_t)out_f * r);
    for (int o = 0; o < out_f; o++) {
        float *row = w + (size_t)o * in_f;
        for (int k = 0; k < r; k++) {
            float s = (float)(scale * B[(size_t)o * r + k]);
            const float *a = A + (size_t)k * in_f;
            for (int i = 0; i < in_f; i++) row[i] += s * a[i];
        }
    }
    free(A);
    free(B);
    mod->lin->w.data = w;
    mod->lin->w.dtype = WHISPER_DTYPE_F32;
    return 0;
}

int whisper_lora_apply(whisper_model *m, const char *dir, char *err, size_t err_size) {
    lora_config c;
    memset(&c, 0, sizeof c);
    char cfg_path[4096], path[4096];
    safetensors *st = NULL;
    lora_pair *pairs = NULL;
    int rc = config_read(&c, dir, cfg_path, sizeof cfg_path, err, err_size);
    if (rc) goto done;
    if ((rc = nonlinear_check(m, &c, err, err_size))) goto done;

    int n_targeted = 0;
    for (int i = 0; i < m->n_modules; i++) n_targeted += config_targets(&c, m->modules[i].name, m->modules[i].layer);
    if (n_targeted == 0) {
        char *t = json_dumps(c.targets, JSON_ENCODE_ANY | JSON_COMPACT);
        rc = error_set(err, err_size, TRIDENT_EFORMAT,
                       "%s: target_modules %s matches no linear layer of the model (names look like "
                       "model.encoder.layers.0.self_attn.q_proj)", cfg_path, t ? t : "?");
        free(t);
        goto done;
    }

    rc = safetensors_open_dir(dir, "adapter_model", &st, err, err_size);
    if (rc == TRIDENT_ENOTFOUND) {
        if (path_join(path, sizeof path, dir, "adapter_model.bin") == 0 && file_exists(path))
            rc = error_set(err, err_size, TRIDENT_EUNSUPPORTED,
                           "%s is a pickle checkpoint, which is not read (unsafe); convert it to "
                           "adapter_model.safetensors (e.g. with safetensors.torch.save_file)", path);
        else
            rc = error_set(err, err_size, TRIDENT_ENOTFOUND, "%s has no adapter_model.safetensors", dir);
    }
    if (rc) goto done;

    pairs = calloc((size_t)m->n_modules, sizeof *pairs);
    if (!pairs) {
        rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory reading %s", dir);
        goto done;
    }
    size_t n_t;
    const safetensors_tensor *ts = safetensors_tensors(st, &n_t);
    for (size_t i = 0; i < n_t; i++) {
        const char *key = ts[i].name;
        char mod_name[256];
        const char *rest = strncmp(key, LORA_PREFIX, strlen(LORA_PREFIX)) == 0 ? key + strlen(LORA_PREFIX) : key;
        const char *suffixes[] = {".lora_A.weight", ".lora_B.weight", ".lora_A.default.weight", ".lora_B.default.weight"};
        int which = -1;
        size_t rl = strlen(rest), base_len = 0;
        for (int s = 0; s < 4 && which < 0; s++) {
            size_t sl = strlen(suffixes[s]);
            if (rl > sl && strcmp(rest + rl - sl, suffixes[s]) == 0) {
                which = s % 2;
                base_len = rl - sl;
            }
        }
        if (which < 0 || base_len + 7 >= sizeof mod_name) {
            rc = error_set(err, err_size, TRIDENT_EUNSUPPORTED,
                           "adapter tensor %s is not a LoRA A/B matrix (only plain LoRA weights are supported)", key);
            goto done;
        }
        /* adapters saved from WhisperModel lack the leading "model." */
        if (strncmp(rest, "model.", 6) == 0) snprintf(mod_name, sizeof mod_name, "%.*s", (int)base_len, rest);
        else snprintf(mod_name, sizeof mod_name, "model.%.*s", (int)base_len, rest);
        whisper_module *mod = whisper_model_module_find(m, mod_name);
        if (!mod) {
            rc = error_set(err, err_size, TRIDENT_EFORMAT,
                           "adapter tensor %s is for module %s, which this model does not have (adapter made for "
                           "another base model?)", key, mod_name);
            goto done;
        }
        if (!config_targets(&c, mod->name, mod->layer)) {
            rc = error_set(err, err_size, TRIDENT_EFORMAT,
                           "adapter tensor %s is for module %s, which target_modules/layers_to_transform in %s do not "
                           "select", key, mod->name, cfg_path);
            goto done;
        }
        lora_pair *p = &pairs[mod - m->modules];
        if (which == 0) p->a = &ts[i];
        else p->b = &ts[i];
    }
    int n_merged = 0;
    for (int i = 0; i < m->n_modules; i++) {
        whisper_module *mod = &m->modules[i];
        if (!config_targets(&c, mod->name, mod->layer)) continue;
        lora_pair *p = &pairs[i];
        if (!p->a && !p->b) {
            log_warn("whisper", "adapter has no weights for targeted module %s; left unchanged", mod->name);
            continue;
        }
        if (!p->a || !p->b) {
            rc = error_set(err, err_size, TRIDENT_EFORMAT, "adapter has %s for %s but not %s", p->a ? "lora_A" : "lora_B",
                           mod->name, p->a ? "lora_B" : "lora_A");
            goto done;
        }
        if ((rc = merge_module(m, mod, p, &c, err, err_size))) goto done;
        n_merged++;
    }
    log_info("whisper", "LoRA adapter merged path=%s r=%d alpha=%g rslora=%d modules=%d", dir, c.r, c.alpha, c.rslora,
             n_merged);
done:
    free(pairs);
    if (st) safetensors_free(st);
    if (c.have_re) regfree(&c.target_re);
    json_decref(c.cfg);
    return rc;
}
