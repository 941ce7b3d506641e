/* safetensors.c — strict, bounds-checked reader for (sharded) safetensors files.
 *
 * Nothing in a header is trusted: the length, every dtype, shape and offset pair
 * is validated against the mapped file before a tensor is handed out, so a
 * truncated or lying file gives an error that names it, never an out-of-bounds read. */
#include "whisper/safetensors.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/file.h"

#define SAFETENSORS_MAX_HEADER (100u << 20) /* the format's own limit is 100 MB */
#define SAFETENSORS_MAX_SHARDS 1024

struct safetensors {
    file_map *maps;
    char **paths;
    int n_files;
    safetensors_tensor *tensors; /* sorted by name */
    size_t n_tensors, cap_tensors;
    size_t mapped;
};

const char *safetensors_dtype_name(whisper_dtype dtype) {
    switch (dtype) {
    case WHISPER_DTYPE_F32: return "F32";
    case WHISPER_DTYPE_F16: return "F16";
    case WHISPER_DTYPE_BF16: return "BF16";
    case WHISPER_DTYPE_Q8: return "Q8 (engine-internal)";
    }
    return "?";
}

void safetensors_free(safetensors *st) {
    if (!st) return;
    for (int i = 0; i < st->n_files; i++) {
        file_unmap(&st->maps[i]);
        free(st->paths[i]);
    }
    for (size_t i = 0; i < st->n_tensors; i++) free((char *)st->tensors[i].name);
    free(st->maps);
    free(st->paths);
    free(st->tensors);
    free(st);
}

static int parse_dtype(const char *s, whisper_dtype *out) {
    if (strcmp(s, "F32") == 0) *out = WHISPER_DTYPE_F32;
    else if (strcmp(s, "F16") == 0) *out = WHISPER_DTYPE_F16;
    else if (strcmp(s, "BF16") == 0) *out = WHISPER_DTYPE_BF16;
    else return -1;
    return 0;
}

static int json_u64(const json_t *v, uint64_t *out) {
    if (!json_is_integer(v)) return -1;
    json_int_t i = json_integer_value(v);
    if (i < 0) return -1;
    *out = (uint64_t)i;
    return 0;
}

typedef struct {
    size_t index;   /* into the set's tensors */
    uint64_t begin, end;
} span;

static int span_cmp(const void *a, const void *b) {
    const span *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end < y->end ? -1 : x->end > y->end);
}

static int tensor_cmp(const void *a, const void *b) {
    return strcmp(((const safetensors_tensor *)a)->name, ((const safetensors_tensor *)b)->name);
}

/* Parses one mapped file (index file_index) and appends its tensors. */
static int parse_file(safetensors *st, int file_index, char *err, size_t err_size) {
    const file_map *m = &st->maps[file_index];
    const char *path = st->paths[file_index];
    const unsigned char *base = m->data;
    if (m->size < 8)
        return error_set(err, err_size, TRIDENT_EFORMAT, "%s: truncated safetensors file (%zu bytes, no header)",
                         path, m->size);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | base[i];
    if (hlen < 2 || hlen > SAFETENSORS_MAX_HEADER || hlen > m->size - 8)
        return error_set(err, err_size, TRIDENT_EFORMAT,
                         "%s: safetensors header length %llu does not fit the file (%zu bytes): truncated or not safetensors",
                         path, (unsigned long long)hlen, m->size);
    size_t data_size = m->size - 8 - (size_t)hlen;
    const unsigned char *data = base + 8 + hlen;

    json_error_t jerr;
    json_t *root = json_loadb((const char *)base + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return error_set(err, err_size, TRIDENT_EFORMAT, "%s: safetensors header is not valid JSON: %s", path, jerr.text);
    if (!json_is_object(root)) {
        json_decref(root);
        return error_set(err, err_size, TRIDENT_EFORMAT, "%s: safetensors header is not a JSON object", path);
    }
    size_t n = json_object_size(root);
    if (st->n_tensors + n > st->cap_tensors) {
        size_t cap = st->n_tensors + n;
        safetensors_tensor *grown = realloc(st->tensors, cap * sizeof *grown);
        if (!grown) {
            json_decref(root);
            return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory reading %s", path);
        }
        st->tensors = grown;
        st->cap_tensors = cap;
    }
    span *spans = calloc(n ? n : 1, sizeof *spans);
    if (!spans) {
        json_decref(root);
        return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory reading %s", path);
    }
    size_t n_spans = 0;
    int rc = 0;
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        if (strcmp(key, "__metadata__") == 0) {
            if (!json_is_object(val)) {
                rc = error_set(err, err_size, TRIDENT_EFORMAT, "%s: __metadata__ is not an object", path);
                break;
            }
            continue;
        }
        if (!json_is_object(val)) {
            rc = error_set(err, err_size, TRIDENT_EFORMAT, "%s: tensor %s: entry is not an object", path, key);
            break;
        }
        json_t *jd = json_object_get(val, "dtype"), *js = json_object_get(val, "shape"),
               *jo = json_object_get(val, "data_offsets");
        if (!json_is_string(jd) || !json_is_array(js) || !json_is_array(jo) || json_array_size(jo) != 2) {
            rc = error_set(err, err_size, TRIDENT_EFORMAT,
                           "%s: tensor %s: needs a string dtype, a shape array and two data_offsets", path, key);
            break;
        }
        safetensors_tensor t;
        memset(&t, 0, sizeof t);
        if (parse_dtype(json_string_value(jd), &t.dtype) != 0) {
            rc = error_set(err, err_size, TRIDENT_EUNSUPPORTED,
                           "%s: tensor %s has dtype %s; only F32, F16 and BF16 are supported", path, key,
                           json_string_value(jd));
            break;
        }
        size_t ndim = json_array_size(js);
        if (ndim > SAFETENSORS_MAX_DIMS) {
            rc = error_set(err, err_size, TRIDENT_EFORMAT, "%s: tensor %s has %zu dimensions (at most %d supported)",
                           path, key, ndim, SAFETENSORS_MAX_DIMS);
            break;
        }
        t.ndim = (int)ndim;
        uint64_t count = 1;
        int bad = 0;
        for (size_t d = 0; d < ndim; d++) {
            uint64_t dim;
            if (json_u64(json_array_get(js, d), &dim) != 0 || dim > ((uint64_t)1 << 40)) {
                bad = 1;
                break;
            }
            t.shape[d] = (int64_t)dim;
            if (dim && count > UINT64_MAX / dim) bad = 1;
            else count *= dim;
        }
        if (bad) {
            rc = error_set(err, err_size, TRIDENT_EFORMAT, "%s: tensor %s has an invalid shape", path, key);
            break;
        }
        uint64_t b, e, esize = whisper_dtype_size(t.dtype);
        if (json_u64(json_array_get(jo, 0), &b) != 0 || json_u64(json_array_get(jo, 1), &e) != 0 || b > e) {
            rc = error_set(err, err_size, TRIDENT_EFORMAT, "%s: tensor %s has invalid data_offsets", path, key);
            break;
        }
        if (e > data_size) {
            rc = error_set(err, err_size, TRIDENT_EFORMAT,
                           "%s: tensor %s: data_offsets [%llu, %llu] lie outside the %zu data bytes (truncated file?)",
                           path, key, (unsigned long long)b, (unsigned long long)e, data_size);
            break;
        }
        if (count > UINT64_MAX / esize || count * esize != e - b) {
            rc = error_set(err, err_size, TRIDENT_EFORMAT,
                           "%s: tensor %s: shape × %s size is %llu elements but data_offsets span %llu bytes", path,
                           key, safetensors_dtype_name(t.dtype), (unsigned long long)count,
                           (unsigned long long)(e - b));
            break;
        }
        t.data = data + b;
        if (((uintptr_t)t.data) % esize != 0) {
            rc = error_set(err, err_size, TRIDENT_EUNSUPPORTED, "%s: tensor %s is not aligned to its element size",
                           path, key);
            break;
        }
        t.nbytes = (size_t)(e - b);
        t.file = file_index;
        t.name = strdup(key);
        if (!t.name) {
            rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory reading %s", path);
            break;
        }
        spans[n_spans].index = st->n_tensors;
        spans[n_spans].begin = b;
        spans[n_spans].end = e;
        n_spans++;
        st->tensors[st->n_tensors++] = t;
    }
    json_decref(root);
    if (rc == 0) {
        qsort(spans, n_spans, sizeof *spans, span_cmp);
        for (size_t i = 1; i < n_spans; i++) {
            if (spans[i].begin == spans[i].end) continue;
            if (spans[i].begin < spans[i - 1].end) {
                rc = error_set(err, err_size, TRIDENT_EFORMAT, "%s: tensors %s and %s overlap", path,
                               st->tensors[spans[i - 1].index].name, st->tensors[spans[i].index].name);
                break;
            }
        }
    }
    free(spans);
    return rc;
}

static int set_add_file(safetensors *st, const char *path, char *err, size_t err_size) {
    if (st->n_files >= SAFETENSORS_MAX_SHARDS)
        return error_set(err, err_size, TRIDENT_ELIMIT, "%s: too many shards", path);
    file_map *maps = realloc(st->maps, (size_t)(st->n_files + 1) * sizeof *maps);
    if (!maps) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory opening %s", path);
    st->maps = maps;
    char **paths = realloc(st->paths, (size_t)(st->n_files + 1) * sizeof *paths);
    if (!paths) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory opening %s", path);
    st->paths = paths;
    char *copy = strdup(path);
    if (!copy) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory opening %s", path);
    file_map m;
    int rc = file_map_open(path, &m, err, err_size);
    if (rc != 0) {
        free(copy);
        return rc;
    }
    st->maps[st->n_files] = m;
    st->paths[st->n_files] = copy;
    st->n_files++;
    st->mapped += m.size;
    return parse_file(st, st->n_files - 1, err, err_size);
}

static int set_finish(safetensors *st, char *err, size_t err_size) {
    if (st->n_tensors > 1) qsort(st->tensors, st->n_tensors, sizeof *st->tensors, tensor_cmp);
    for (size_t i = 1; i < st->n_tensors; i++)
        if (strcmp(st->tensors[i].name, st->tensors[i - 1].name) == 0)
            return error_set(err, err_size, TRIDENT_EFORMAT, "tensor %s appears in two shards (%s and %s)",
                             st->tensors[i].name, st->paths[st->tensors[i - 1].file], st->paths[st->tensors[i].file]);
    return 0;
}

int safetensors_open(const char *path, safetensors **out, char *err, size_t err_size) {
    *out = NULL;
    safetensors *st = calloc(1, sizeof *st);
    if (!st) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory opening %s", path);
    int rc = set_add_file(st, path, err, err_size);
    if (rc == 0) rc = set_finish(st, err, err_size);
    if (rc != 0) {
        safetensors_free(st);
        return rc;
    }
    *out = st;
    return 0;
}

static int open_index(safetensors *st, const char *dir, const char *index_path, char *err, size_t err_size) {
    char *text = NULL;
    size_t len = 0;
    int rc = file_read_all(index_path, 64u << 20, &text, &len, err, err_size);
    if (rc != 0) return rc;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    free(text);
    if (!root) return error_set(err, err_size, TRIDENT_EFORMAT, "%s is not valid JSON: %s", index_path, jerr.text);
    json_t *wm = json_object_get(root, "weight_map");
    if (!json_is_object(wm)) {
        json_decref(root);
        return error_set(err, err_size, TRIDENT_EFORMAT, "%s has no weight_map object", index_path);
    }
    /* open every distinct shard once, in order of first mention */
    const char *key;
    json_t *val;
    json_object_foreach(wm, key, val) {
        if (!json_is_string(val)) {
            rc = error_set(err, err_size, TRIDENT_EFORMAT, "%s: weight_map entry %s is not a file name", index_path, key);
            break;
        }
        const char *shard = json_string_value(val);
        if (!*shard || strchr(shard, '/') || strcmp(shard, "..") == 0) {
            rc = error_set(err, err_size, TRIDENT_EFORMAT, "%s: shard name '%s' for %s is not a plain file name",
                           index_path, shard, key);
            break;
        }
        char path[4096];
        if (path_join(path, sizeof path, dir, shard) != 0) {
            rc = error_set(err, err_size, TRIDENT_ELIMIT, "%s: path too long", index_path);
            break;
        }
        int seen = 0;
        for (int i = 0; i < st->n_files && !seen; i++) seen = strcmp(st->paths[i], path) == 0;
        if (!seen && (rc = set_add_file(st, path, err, err_size)) != 0) break;
    }
    if (rc == 0) rc = set_finish(st, err, err_size);
    if (rc == 0) {
        /* every tensor the index names must be in the shard it names */
        json_object_foreach(wm, key, val) {
            const safetensors_tensor *t = safetensors_find(st, key);
            const char *shard = json_string_value(val);
            size_t sl = strlen(shard), pl = 0;
            if (t) pl = strlen(st->paths[t->file]);
            if (!t || pl < sl || strcmp(st->paths[t->file] + pl - sl, shard) != 0) {
                rc = error_set(err, err_size, TRIDENT_EFORMAT, "%s: tensor %s is not in shard %s", index_path, key,
                               shard);
                break;
            }
        }
    }
    json_decref(root);
    return rc;
}

int safetensors_open_dir(const char *dir, const char *stem, safetensors **out, char *err, size_t err_size) {
    *out = NULL;
    char path[4096], name[256];
    snprintf(name, sizeof name, "%s.safetensors.index.json", stem);
    if (path_join(path, sizeof path, dir, name) != 0)
        return error_set(err, err_size, TRIDENT_ELIMIT, "path too long: %s", dir);
    if (file_exists(path)) {
        safetensors *st = calloc(1, sizeof *st);
        if (!st) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory opening %s", path);
        int rc = open_index(st, dir, path, err, err_size);
        if (rc != 0) {
            safetensors_free(st);
            return rc;
        }
        *out = st;
        return 0;
    }
    snprintf(name, sizeof name, "%s.safetensors", stem);
    if (path_join(path, sizeof path, dir, name) != 0)
        return error_set(err, err_size, TRIDENT_ELIMIT, "path too long: %s", dir);
    if (!file_exists(path))
        return error_set(err, err_size, TRIDENT_ENOTFOUND, "%s: neither %s.safetensors nor %s.safetensors.index.json exists",
                         dir, stem, stem);
    return safetensors_open(path, out, err, err_size);
}

const safetensors_tensor *safetensors_find(const safetensors *st, const char *name) {
    size_t lo = 0, hi = st->n_tensors;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(st->tensors[mid].name, name);
        if (c == 0) return &st->tensors[mid];
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return NULL;
}

const safetensors_tensor *safetensors_tensors(const safetensors *st, size_t *n) {
    *n = st->n_tensors;
    return st->tensors;
}

size_t safetensors_mapped_bytes(const safetensors *st) { return st->mapped; }
