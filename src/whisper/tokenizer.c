/* tokenizer.c — Whisper's byte-level BPE: loading vocab.json / merges.txt /
 * added_tokens.json, the special tokens, encoding (GPT-2 pre-tokenizer, byte to
 * unicode mapping, BPE by merge rank) and decoding with replacement characters.
 *
 * Layout: every id 0 … n_vocab-1 has its raw bytes in one pool (special tokens
 * hold their text, e.g. "<|en|>"). Two open-addressing hash maps serve encoding:
 * raw bytes → id for the ordinary vocabulary (vocab.json only, so that special
 * token text in the input is encoded as ordinary text, as the reference's
 * encode does), and (left id, right id) → (merge rank, merged id) for merges.txt.
 * BPE on one pre-token keeps its parts in a linked list and the candidate merges
 * in a min-heap ordered by (rank, position), so that the lowest-ranked pair is
 * merged first and equal ranks merge left to right. */
#include "whisper/tokenizer.h"

#include <ctype.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/file.h"
#include "base/utf8.h"
#include "whisper/utf8.h"

#define TOK_MAX_FILE ((size_t)256 << 20) /* no tokenizer file is near this */
#define TOK_MAX_ID 10000000              /* ids above this are rejected as malformed */
#define TOK_N_TIMESTAMPS 1501            /* <|0.00|> … <|30.00|> */
#define TOK_MULTILINGUAL_VOCAB 51865     /* the reference: multilingual iff n_vocab >= 51865 */

typedef struct {
    uint32_t off, len; /* off is TOK_UNDEFINED while loading until the id is defined */
} tok_span;
#define TOK_UNDEFINED UINT32_MAX

typedef struct {
    uint64_t key; /* (left << 32) | right; UINT64_MAX when empty */
    int rank;
    int merged;
} tok_merge;

struct whisper_tokenizer {
    whisper_special_tokens sp;
    int multilingual;
    int n_vocab;
    tok_span *spans; /* n_vocab entries */
    unsigned char *pool;
    size_t pool_len, pool_cap;
    int *bytes_map; /* slots hold an ordinary token id or -1 */
    size_t bytes_mask;
    tok_merge *merges;
    size_t merges_mask;
    int byte_token[256]; /* id of each single byte */
    char (*lang_codes)[8]; /* n_languages codes, NUL-terminated */
};

/* ---- language names (the reference's LANGUAGES order, plus its aliases) ---- */

typedef struct {
    const char *code, *name;
} tok_language;

static const tok_language tok_languages[] = {
    {"en", "english"}, {"zh", "chinese"}, {"de", "german"}, {"es", "spanish"}, {"ru", "russian"},
    {"ko", "korean"}, {"fr", "french"}, {"ja", "japanese"}, {"pt", "portuguese"}, {"tr", "turkish"},
    {"pl", "polish"}, {"ca", "catalan"}, {"nl", "dutch"}, {"ar", "arabic"}, {"sv", "swedish"},
    {"it", "italian"}, {"id", "indonesian"}, {"hi", "hindi"}, {"fi", "finnish"}, {"vi", "vietnamese"},
    {"he", "hebrew"}, {"uk", "ukrainian"}, {"el", "greek"}, {"ms", "malay"}, {"cs", "czech"},
    {"ro", "romanian"}, {"da", "danish"}, {"hu", "hungarian"}, {"ta", "tamil"}, {"no", "norwegian"},
    {"th", "thai"}, {"ur", "urdu"}, {"hr", "croatian"}, {"bg", "bulgarian"}, {"lt", "lithuanian"},
    {"la", "latin"}, {"mi", "maori"}, {"ml", "malayalam"}, {"cy", "welsh"}, {"sk", "slovak"},
    {"te", "telugu"}, {"fa", "persian"}, {"lv", "latvian"}, {"bn", "bengali"}, {"sr", "serbian"},
    {"az", "azerbaijani"}, {"sl", "slovenian"}, {"kn", "kannada"}, {"et", "estonian"}, {"mk", "macedonian"},
    {"br", "breton"}, {"eu", "basque"}, {"is", "icelandic"}, {"hy", "armenian"}, {"ne", "nepali"},
    {"mn", "mongolian"}, {"bs", "bosnian"}, {"kk", "kazakh"}, {"sq", "albanian"}, {"sw", "swahili"},
    {"gl", "galician"}, {"mr", "marathi"}, {"pa", "punjabi"}, {"si", "sinhala"}, {"km", "khmer"},
    {"sn", "shona"}, {"yo", "yoruba"}, {"so", "somali"}, {"af", "afrikaans"}, {"oc", "occitan"},
    {"ka", "georgian"}, {"be", "belarusian"}, {"tg", "tajik"}, {"sd", "sindhi"}, {"gu", "gujarati"},
    {"am", "amharic"}, {"yi", "yiddish"}, {"lo", "lao"}, {"uz", "uzbek"}, {"fo", "faroese"},
    {"ht", "haitian creole"}, {"ps", "pashto"}, {"tk", "turkmen"}, {"nn", "nynorsk"}, {"mt", "maltese"},
    {"sa", "sanskrit"}, {"lb", "luxembourgish"}, {"my", "myanmar"}, {"bo", "tibetan"}, {"tl", "tagalog"},
    {"mg", "malagasy"}, {"as", "assamese"}, {"tt", "tatar"}, {"haw", "hawaiian"}, {"ln", "lingala"},
    {"ha", "hausa"}, {"ba", "bashkir"}, {"jw", "javanese"}, {"su", "sundanese"}, {"yue", "cantonese"},
    /* aliases */
    {"my", "burmese"}, {"ca", "valencian"}, {"nl", "flemish"}, {"ht", "haitian"}, {"lb", "letzeburgesch"},
    {"ps", "pushto"}, {"pa", "panjabi"}, {"ro", "moldavian"}, {"ro", "moldovan"}, {"si", "sinhalese"},
    {"es", "castilian"}, {"zh", "mandarin"},
};

const char *whisper_language_name(const char *code) {
    if (!code) return NULL;
    for (size_t i = 0; i < sizeof tok_languages / sizeof tok_languages[0]; i++)
        if (strcmp(tok_languages[i].code, code) == 0) return tok_languages[i].name; /* the first is the name */
    return NULL;
}

/* ---- GPT-2 byte <-> unicode mapping ----
 * Printable bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for themselves; the other
 * 68 bytes are given the code points 256, 257, … in byte order. */

static int tok_byte_is_printable(int b) { return (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174); }

/* Fills unicode_to_byte (indexed by code point < 512; -1 where none). */
static void tok_unicode_map(int unicode_to_byte[512]) {
    for (int i = 0; i < 512; i++) unicode_to_byte[i] = -1;
    int next = 256;
    for (int b = 0; b < 256; b++) {
        if (tok_byte_is_printable(b)) unicode_to_byte[b] = b;
        else unicode_to_byte[next++] = b;
    }
}

/* ---- hash maps ---- */

static uint64_t tok_hash_bytes(const unsigned char *s, size_t n) {
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static uint64_t tok_hash_pair(uint64_t key) {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    key *= 0xc4ceb9fe1a85ec53ULL;
    return key ^ (key >> 33);
}

static size_t tok_table_size(size_t n) {
    size_t size = 64;
    while (size < 2 * n) size *= 2;
    return size;
}

/* Id of the ordinary token with exactly these bytes, or -1. */
static int tok_lookup_bytes(const whisper_tokenizer *tok, const unsigned char *s, size_t n) {
    size_t i = (size_t)tok_hash_bytes(s, n) & tok->bytes_mask;
    for (;;) {
        int id = tok->bytes_map[i];
        if (id < 0) return -1;
        const tok_span *sp = &tok->spans[id];
        if (sp->len == n && memcmp(tok->pool + sp->off, s, n) == 0) return id;
        i = (i + 1) & tok->bytes_mask;
    }
}

/* Inserts id (whose bytes are already in the pool). Returns 0, or 1 if an
 * ordinary token with the same bytes exists. */
static int tok_insert_bytes(whisper_tokenizer *tok, int id) {
    const tok_span *sp = &tok->spans[id];
    const unsigned char *s = tok->pool + sp->off;
    size_t i = (size_t)tok_hash_bytes(s, sp->len) & tok->bytes_mask;
    for (;;) {
        int other = tok->bytes_map[i];
        if (other < 0) {
            tok->bytes_map[i] = id;
            return 0;
        }
        const tok_span *osp = &tok->spans[other];
        if (osp->len == sp->len && memcmp(tok->pool + osp->off, s, sp->len) == 0) return 1;
        i = (i + 1) & tok->bytes_mask;
    }
}

static const tok_merge *tok_lookup_merge(const whisper_tokenizer *tok, int left, int right) {
    uint64_t key = ((uint64_t)(uint32_t)left << 32) | (uint32_t)right;
    size_t i = (size_t)tok_hash_pair(key) & tok->merges_mask;
    for (;;) {
        const tok_merge *m = &tok->merges[i];
        if (m->key == UINT64_MAX) return NULL;
        if (m->key == key) return m;
        i = (i + 1) & tok->merges_mask;
    }
}

/* Returns 0, or 1 when the pair is already present (the first rank is kept). */
static int tok_insert_merge(whisper_tokenizer *tok, int left, int right, int rank, int merged) {
    uint64_t key = ((uint64_t)(uint32_t)left << 32) | (uint32_t)right;
    size_t i = (size_t)tok_hash_pair(key) & tok->merges_mask;
    for (;;) {
        tok_merge *m = &tok->merges[i];
        if (m->key == UINT64_MAX) {
            m->key = key;
            m->rank = rank;
            m->merged = merged;
            return 0;
        }
        if (m->key == key) return 1;
        i = (i + 1) & tok->merges_mask;
    }
}

/* ---- loading ---- */

static int tok_pool_add(whisper_tokenizer *tok, int id, const unsigned char *s, size_t n) {
    if (n >= UINT32_MAX || tok->pool_len + n >= UINT32_MAX) return TRIDENT_ELIMIT;
    if (tok->pool_len + n > tok->pool_cap) {
        size_t cap = tok->pool_cap ? tok->pool_cap : 1 << 20;
        while (cap < tok->pool_len + n) cap *= 2;
        unsigned char *grown = realloc(tok->pool, cap);
        if (!grown) return TRIDENT_ENOMEM;
        tok->pool = grown;
        tok->pool_cap = cap;
    }
    if (n) memcpy(tok->pool + tok->pool_len, s, n);
    tok->spans[id].off = (uint32_t)tok->pool_len;
    tok->spans[id].len = (uint32_t)n;
    tok->pool_len += n;
    return 0;
}

/* Reads and parses a JSON object file. The caller owns *root (json_decref). */
static int tok_read_json(const char *dir, const char *name, json_t **root, char *err, size_t err_size) {
    char path[4096];
    *root = NULL;
    if (path_join(path, sizeof path, dir, name) != 0)
        return error_set(err, err_size, TRIDENT_ELIMIT, "tokenizer path too long: %s/%s", dir, name);
    char *data;
    size_t size;
    int rc = file_read_all(path, TOK_MAX_FILE, &data, &size, err, err_size);
    if (rc) return rc;
    json_error_t jerr;
    json_t *j = json_loadb(data, size, 0, &jerr);
    free(data);
    if (!j)
        return error_set(err, err_size, TRIDENT_EFORMAT, "%s: malformed JSON at line %d column %d: %s", path,
                         jerr.line, jerr.column, jerr.text);
    if (!json_is_object(j)) {
        json_decref(j);
        return error_set(err, err_size, TRIDENT_EFORMAT, "%s: expected a JSON object of token -> id", path);
    }
    *root = j;
    return 0;
}

/* Largest id in a token -> id object, checking that every value is an id. */
static int tok_max_id(json_t *obj, const char *name, int *max_id, char *err, size_t err_size) {
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value) {
        if (!json_is_integer(value) || json_integer_value(value) < 0 || json_integer_value(value) > TOK_MAX_ID)
            return error_set(err, err_size, TRIDENT_EFORMAT, "%s: token \"%.64s\" does not map to a valid id", name,
                             key);
        if ((int)json_integer_value(value) > *max_id) *max_id = (int)json_integer_value(value);
    }
    return 0;
}

/* Converts a byte-to-unicode mapped vocabulary string into raw bytes (out holds
 * strlen(key) bytes). Returns the length, or -1 if a character is not in the mapping. */
static long tok_key_bytes(const char *key, const int unicode_to_byte[512], unsigned char *out) {
    size_t n = strlen(key), pos = 0;
    long len = 0;
    while (pos < n) {
        uint32_t cp;
        if (whisper_utf8_next((const unsigned char *)key, n, &pos, &cp) != 0) return -1;
        if (cp >= 512 || unicode_to_byte[cp] < 0) return -1;
        out[len++] = (unsigned char)unicode_to_byte[cp];
    }
    return len;
}

static int tok_load_vocab(whisper_tokenizer *tok, json_t *vocab, const int unicode_to_byte[512], char *err,
                          size_t err_size) {
    size_t count = json_object_size(vocab);
    tok->bytes_mask = tok_table_size(count) - 1;
    tok->bytes_map = malloc((tok->bytes_mask + 1) * sizeof *tok->bytes_map);
    if (!tok->bytes_map) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory loading vocab.json");
    memset(tok->bytes_map, 0xff, (tok->bytes_mask + 1) * sizeof *tok->bytes_map);
    for (int b = 0; b < 256; b++) tok->byte_token[b] = -1;

    unsigned char *buf = NULL;
    size_t buf_cap = 0;
    const char *key;
    json_t *value;
    int rc = 0;
    json_object_foreach(vocab, key, value) {
        int id = (int)json_integer_value(value);
        size_t klen = strlen(key);
        if (klen + 1 > buf_cap) {
            unsigned char *grown = realloc(buf, klen + 64);
            if (!grown) {
                rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory loading vocab.json");
                break;
            }
            buf = grown;
            buf_cap = klen + 64;
        }
        long n = tok_key_bytes(key, unicode_to_byte, buf);
        if (n < 0) {
            rc = error_set(err, err_size, TRIDENT_EFORMAT,
                           "vocab.json: token \"%.64s\" is not a byte-level BPE token", key);
            break;
        }
        if (tok->spans[id].off != TOK_UNDEFINED) {
            rc = error_set(err, err_size, TRIDENT_EFORMAT, "vocab.json: id %d is used twice", id);
            break;
        }
        if ((rc = tok_pool_add(tok, id, buf, (size_t)n)) != 0) {
            rc = error_set(err, err_size, rc, "out of memory loading vocab.json");
            break;
        }
        if (n > 0 && tok_insert_bytes(tok, id)) { /* an empty entry exists in the multilingual vocabulary */
            rc = error_set(err, err_size, TRIDENT_EFORMAT, "vocab.json: token \"%.64s\" appears twice", key);
            break;
        }
        if (n == 1) tok->byte_token[buf[0]] = id;
    }
    free(buf);
    if (rc) return rc;
    for (int b = 0; b < 256; b++)
        if (tok->byte_token[b] < 0)
            return error_set(err, err_size, TRIDENT_EFORMAT, "vocab.json: no token for byte 0x%02x", b);
    return 0;
}

static int tok_load_merges(whisper_tokenizer *tok, const char *dir, const int unicode_to_byte[512], char *err,
                           size_t err_size) {
    char path[4096];
    if (path_join(path, sizeof path, dir, "merges.txt") != 0)
        return error_set(err, err_size, TRIDENT_ELIMIT, "tokenizer path too long: %s", dir);
    char *data;
    size_t size;
    int rc = file_read_all(path, TOK_MAX_FILE, &data, &size, err, err_size);
    if (rc) return rc;

    size_t lines = 1;
    for (size_t i = 0; i < size; i++) lines += data[i] == '\n';
    tok->merges_mask = tok_table_size(lines) - 1;
    tok->merges = malloc((tok->merges_mask + 1) * sizeof *tok->merges);
    unsigned char *a = malloc(size + 1), *b = malloc(size + 1), *ab = malloc(2 * size + 2);
    if (!tok->merges || !a || !b || !ab) {
        free(data);
        free(a);
        free(b);
        free(ab);
        return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory loading %s", path);
    }
    for (size_t i = 0; i <= tok->merges_mask; i++) tok->merges[i].key = UINT64_MAX;

    int rank = 0, line_no = 0;
    char *line = data;
    while (line && *line) {
        char *end = strchr(line, '\n');
        if (end) *end = '\0';
        line_no++;
        size_t len = strlen(line);
        if (len && line[len - 1] == '\r') line[--len] = '\0';
        if (len == 0 || (line_no == 1 && strncmp(line, "#version", 8) == 0)) {
            line = end ? end + 1 : NULL;
            continue;
        }
        char *space = strchr(line, ' ');
        if (!space || space == line || space[1] == '\0' || strchr(space + 1, ' ')) {
            rc = error_set(err, err_size, TRIDENT_EFORMAT, "%s line %d: expected two tokens separated by a space",
                           path, line_no);
            break;
        }
        *space = '\0';
        long na = tok_key_bytes(line, unicode_to_byte, a);
        long nb = tok_key_bytes(space + 1, unicode_to_byte, b);
        int left = na > 0 ? tok_lookup_bytes(tok, a, (size_t)na) : -1;
        int right = nb > 0 ? tok_lookup_bytes(tok, b, (size_t)nb) : -1;
        int merged = -1;
        if (left >= 0 && right >= 0) {
            memcpy(ab, a, (size_t)na);
            memcpy(ab + na, b, (size_t)nb);
            merged = tok_lookup_bytes(tok, ab, (size_t)(na + nb));
        }
        if (merged < 0) {
            rc = error_set(err, err_size, TRIDENT_EFORMAT,
                           "%s line %d: \"%.64s %.64s\" does not merge tokens of vocab.json into one", path,
                           line_no, line, space + 1);
            break;
        }
        tok_insert_merge(tok, left, right, rank++, merged);
        line = end ? end + 1 : NULL;
    }
    free(data);
    free(a);
    free(b);
    free(ab);
    return rc;
}

/* Id of an added token by its text, or -1. */
static int tok_added_id(json_t *added, const char *text) {
    json_t *v = json_object_get(added, text);
    return v ? (int)json_integer_value(v) : -1;
}

/* If text is "<|code|>" with a code of the reference's LANGUAGES, copies the code. */
static int tok_language_of(const unsigned char *s, size_t n, char code[8]) {
    if (n < 6 || n > 9 || memcmp(s, "<|", 2) != 0 || memcmp(s + n - 2, "|>", 2) != 0) return 0;
    memcpy(code, s + 2, n - 4);
    code[n - 4] = '\0';
    for (size_t i = 0; i < 100; i++) /* the first 100 entries are LANGUAGES, the rest aliases */
        if (strcmp(tok_languages[i].code, code) == 0) return 1;
    return 0;
}

static int tok_load_specials(whisper_tokenizer *tok, json_t *added, char *err, size_t err_size) {
    whisper_special_tokens *sp = &tok->sp;
    sp->eot = tok_added_id(added, "<|endoftext|>");
    sp->sot = tok_added_id(added, "<|startoftranscript|>");
    if (sp->eot < 0 || sp->sot < 0)
        return error_set(err, err_size, TRIDENT_EFORMAT,
                         "added_tokens.json: <|endoftext|> and <|startoftranscript|> are required");
    sp->translate = tok_added_id(added, "<|translate|>");
    sp->transcribe = tok_added_id(added, "<|transcribe|>");
    sp->sot_lm = tok_added_id(added, "<|startoflm|>");
    sp->sot_prev = tok_added_id(added, "<|startofprev|>");
    sp->no_speech = tok_added_id(added, "<|nospeech|>");
    if (sp->no_speech < 0) sp->no_speech = tok_added_id(added, "<|nocaptions|>");
    sp->no_timestamps = tok_added_id(added, "<|notimestamps|>");
    sp->timestamp_begin = tok_added_id(added, "<|0.00|>");
    if (sp->timestamp_begin < 0 && sp->no_timestamps >= 0) sp->timestamp_begin = sp->no_timestamps + 1;
    sp->lang_begin = -1;
    sp->n_languages = 0;
    return 0;
}

/* Ids below eot must come from vocab.json; ids from eot on are special. Gaps are
 * an error, except timestamps (their text is derived). */
static int tok_fill_specials(whisper_tokenizer *tok, json_t *added, char *err, size_t err_size) {
    const char *key;
    json_t *value;
    json_object_foreach(added, key, value) {
        int id = (int)json_integer_value(value);
        if (tok->spans[id].off != TOK_UNDEFINED)
            return error_set(err, err_size, TRIDENT_EFORMAT, "added_tokens.json: id %d of \"%.64s\" is already used",
                             id, key);
        int rc = tok_pool_add(tok, id, (const unsigned char *)key, strlen(key));
        if (rc) return error_set(err, err_size, rc, "out of memory loading added_tokens.json");
    }
    whisper_special_tokens *sp = &tok->sp;
    if (sp->timestamp_begin >= 0) {
        for (int k = 0; k < TOK_N_TIMESTAMPS; k++) {
            int id = sp->timestamp_begin + k;
            if (tok->spans[id].off != TOK_UNDEFINED) continue;
            char text[32];
            int n = snprintf(text, sizeof text, "<|%.2f|>", k * 0.02);
            int rc = tok_pool_add(tok, id, (const unsigned char *)text, (size_t)n);
            if (rc) return error_set(err, err_size, rc, "out of memory deriving timestamp tokens");
        }
    }
    for (int id = 0; id < tok->n_vocab; id++)
        if (tok->spans[id].off == TOK_UNDEFINED)
            return error_set(err, err_size, TRIDENT_EFORMAT,
                             "vocab.json and added_tokens.json define no token for id %d", id);
    return 0;
}

static int tok_find_languages(whisper_tokenizer *tok, char *err, size_t err_size) {
    whisper_special_tokens *sp = &tok->sp;
    if (!tok->multilingual) return 0;
    int n = 0;
    char code[8];
    for (int id = sp->sot + 1; id < tok->n_vocab; id++, n++) {
        if (sp->translate >= 0 && id >= sp->translate) break;
        if (!tok_language_of(tok->pool + tok->spans[id].off, tok->spans[id].len, code)) break;
    }
    if (n == 0) return 0;
    tok->lang_codes = malloc((size_t)n * sizeof *tok->lang_codes);
    if (!tok->lang_codes) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory loading languages");
    for (int i = 0; i < n; i++) {
        const tok_span *s = &tok->spans[sp->sot + 1 + i];
        tok_language_of(tok->pool + s->off, s->len, tok->lang_codes[i]);
    }
    sp->lang_begin = sp->sot + 1;
    sp->n_languages = n;
    return 0;
}

int whisper_tokenizer_load(const char *dir, whisper_tokenizer **out, char *err, size_t err_size) {
    *out = NULL;
    json_t *vocab = NULL, *added = NULL;
    int rc = tok_read_json(dir, "vocab.json", &vocab, err, err_size);
    if (!rc) rc = tok_read_json(dir, "added_tokens.json", &added, err, err_size);
    int max_id = -1;
    if (!rc) rc = tok_max_id(vocab, "vocab.json", &max_id, err, err_size);
    if (!rc) rc = tok_max_id(added, "added_tokens.json", &max_id, err, err_size);
    whisper_tokenizer *tok = NULL;
    if (!rc) {
        tok = calloc(1, sizeof *tok);
        if (!tok) rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory loading the tokenizer");
    }
    if (!rc) rc = tok_load_specials(tok, added, err, err_size);
    if (!rc) {
        tok->n_vocab = max_id + 1;
        if (tok->sp.timestamp_begin >= 0 && tok->sp.timestamp_begin + TOK_N_TIMESTAMPS > tok->n_vocab)
            tok->n_vocab = tok->sp.timestamp_begin + TOK_N_TIMESTAMPS;
        tok->sp.n_vocab = tok->n_vocab;
        tok->multilingual = tok->n_vocab >= TOK_MULTILINGUAL_VOCAB;
        tok->spans = malloc((size_t)tok->n_vocab * sizeof *tok->spans);
        if (!tok->spans) rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory loading the tokenizer");
        for (int id = 0; !rc && id < tok->n_vocab; id++) tok->spans[id] = (tok_span){TOK_UNDEFINED, 0};
    }
    if (!rc) {
        /* the ordinary vocabulary must lie below eot, the special tokens from eot on */
        const char *key;
        json_t *value;
        void *iter_next;
        json_object_foreach_safe(vocab, iter_next, key, value) {
            if ((int)json_integer_value(value) >= tok->sp.eot && json_object_get(added, key) == NULL) {
                rc = error_set(err, err_size, TRIDENT_EFORMAT,
                               "vocab.json: token \"%.64s\" has id %d, not below <|endoftext|> (%d)", key,
                               (int)json_integer_value(value), tok->sp.eot);
                break;
            }
            if (json_object_get(added, key)) json_object_del(vocab, key); /* listed twice: it is special */
        }
    }
    if (!rc) {
        int unicode_to_byte[512];
        tok_unicode_map(unicode_to_byte);
        rc = tok_load_vocab(tok, vocab, unicode_to_byte, err, err_size);
        if (!rc) rc = tok_load_merges(tok, dir, unicode_to_byte, err, err_size);
    }
    if (!rc) rc = tok_fill_specials(tok, added, err, err_size);
    if (!rc) rc = tok_find_languages(tok, err, err_size);
    json_decref(vocab);
    json_decref(added);
    if (rc) {
        whisper_tokenizer_free(tok);
        return rc;
    }
    *out = tok;
    return 0;
}

void whisper_tokenizer_free(whisper_tokenizer *tok) {
    if (!tok) return;
    free(tok->spans);
    free(tok->pool);
    free(tok->bytes_map);
    free(tok->merges);
    free(tok->lang_codes);
    free(tok);
}

const whisper_special_tokens *whisper_tokenizer_specials(const whisper_tokenizer *tok) { return &tok->sp; }

int whisper_tokenizer_multilingual(const whisper_tokenizer *tok) { return tok->multilingual; }

/* ---- encoding ---- */

/* A growable id list. */
typedef struct {
    int *ids;
    size_t n, cap;
} tok_ids;

static int tok_ids_push(tok_ids *l, int id) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        int *grown = realloc(l->ids, cap * sizeof *grown);
        if (!grown) return TRIDENT_ENOMEM;
        l->ids = grown;
        l->cap = cap;
    }
    l->ids[l->n++] = id;
    return 0;
}

typedef struct {
    int rank, pos;
} tok_heap_item;

static int tok_heap_less(tok_heap_item a, tok_heap_item b) { return a.rank < b.rank || (a.rank == b.rank && a.pos < b.pos); }

static void tok_heap_push(tok_heap_item *heap, size_t *n, tok_heap_item item) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!tok_heap_less(item, heap[parent])) break;
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = item;
}

static tok_heap_item tok_heap_pop(tok_heap_item *heap, size_t *n) {
    tok_heap_item top = heap[0], last = heap[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= *n) break;
        if (child + 1 < *n && tok_heap_less(heap[child + 1], heap[child])) child++;
        if (!tok_heap_less(heap[child], last)) break;
        heap[i] = heap[child];
        i = child;
    }
    if (*n) heap[i] = last;
    return top;
}

/* Scratch for BPE on one pre-token, reused across pre-tokens. */
typedef struct {
    int *id, *next, *prev;
    tok_heap_item *heap;
    size_t cap;
} tok_bpe_scratch;

static int tok_bpe_reserve(tok_bpe_scratch *s, size_t n) {
    if (n <= s->cap) return 0;
    size_t cap = s->cap ? s->cap : 64;
    while (cap < n) cap *= 2;
    int *id = realloc(s->id, cap * sizeof *id);
    if (id) s->id = id;
    int *next = realloc(s->next, cap * sizeof *next);
    if (next) s->next = next;
    int *prev = realloc(s->prev, cap * sizeof *prev);
    if (prev) s->prev = prev;
    tok_heap_item *heap = realloc(s->heap, 3 * cap * sizeof *heap);
    if (heap) s->heap = heap;
    if (!id || !next || !prev || !heap) return TRIDENT_ENOMEM;
    s->cap = cap;
    return 0;
}

static void tok_bpe_push_pair(const whisper_tokenizer *tok, tok_bpe_scratch *s, size_t *heap_n, int pos) {
    int right = s->next[pos];
    if (right < 0) return;
    const tok_merge *m = tok_lookup_merge(tok, s->id[pos], s->id[right]);
    if (m) tok_heap_push(s->heap, heap_n, (tok_heap_item){m->rank, pos});
}

/* Appends the BPE tokens of one pre-token (raw bytes) to out. */
static int tok_bpe(const whisper_tokenizer *tok, const unsigned char *s, size_t n, tok_bpe_scratch *scr,
                   tok_ids *out) {
    int whole = tok_lookup_bytes(tok, s, n);
    if (whole >= 0) return tok_ids_push(out, whole);
    if (n > INT32_MAX / 4) return TRIDENT_ELIMIT;
    if (tok_bpe_reserve(scr, n)) return TRIDENT_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        scr->id[i] = tok->byte_token[s[i]];
        scr->prev[i] = (int)i - 1;
        scr->next[i] = i + 1 < n ? (int)i + 1 : -1;
    }
    size_t heap_n = 0;
    for (size_t i = 0; i + 1 < n; i++) tok_bpe_push_pair(tok, scr, &heap_n, (int)i);
    while (heap_n) {
        tok_heap_item item = tok_heap_pop(scr->heap, &heap_n);
        int pos = item.pos, right = scr->next[pos];
        if (scr->id[pos] < 0 || right < 0) continue; /* merged away or now last */
        const tok_merge *m = tok_lookup_merge(tok, scr->id[pos], scr->id[right]);
        if (!m || m->rank != item.rank) continue; /* stale: a neighbour changed */
        scr->id[pos] = m->merged;
        scr->id[right] = -1;
        scr->next[pos] = scr->next[right];
        if (scr->next[pos] >= 0) scr->prev[scr->next[pos]] = pos;
        if (scr->prev[pos] >= 0) tok_bpe_push_pair(tok, scr, &heap_n, scr->prev[pos]);
        tok_bpe_push_pair(tok, scr, &heap_n, pos);
    }
    for (int pos = 0; pos >= 0; pos = scr->next[pos])
        if (tok_ids_push(out, scr->id[pos])) return TRIDENT_ENOMEM;
    return 0;
}

/* End (exclusive, in code points) of the pre-token starting at i, following
 *   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 * with the first alternative that matches, as a backtracking regex engine does. */
static size_t tok_pretoken_end(const uint32_t *cp, const unsigned char *cls, size_t n, size_t i) {
    if (cp[i] == '\'' && i + 1 < n) {
        uint32_t c1 = cp[i + 1];
        if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return i + 2;
        if (i + 2 < n) {
            uint32_t c2 = cp[i + 2];
            if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return i + 3;
        }
    }
    size_t s = cp[i] == ' ' ? i + 1 : i; /* the optional leading space */
    if (s < n && cls[s] != WHISPER_UTF8_SPACE) {
        unsigned char c = cls[s];
        size_t j = s + 1;
        while (j < n && cls[j] == c) j++;
        return j;
    }
    /* white space: \s+(?!\S) leaves the last space before a non-space, else \s+ */
    size_t j = i + 1;
    while (j < n && cls[j] == WHISPER_UTF8_SPACE) j++;
    if (j < n && j - i >= 2) return j - 1;
    return j;
}

int whisper_tokenizer_encode(const whisper_tokenizer *tok, const char *text, int **ids, size_t *n_ids) {
    *ids = NULL;
    *n_ids = 0;
    const unsigned char *s = (const unsigned char *)text;
    size_t len = strlen(text);
    uint32_t *cp = malloc((len + 1) * sizeof *cp);
    size_t *off = malloc((len + 1) * sizeof *off);
    unsigned char *cls = malloc(len + 1);
    tok_ids out = {0};
    tok_bpe_scratch scr = {0};
    int rc = (!cp || !off || !cls) ? TRIDENT_ENOMEM : 0;
    size_t n = 0;
    for (size_t pos = 0; !rc && pos < len; n++) {
        off[n] = pos;
        if (whisper_utf8_next(s, len, &pos, &cp[n]) != 0) rc = TRIDENT_EINVAL; /* not UTF-8 */
        else cls[n] = (unsigned char)whisper_utf8_class(cp[n]);
    }
    if (!rc) off[n] = len;
    for (size_t i = 0; !rc && i < n;) {
        size_t j = tok_pretoken_end(cp, cls, n, i);
        rc = tok_bpe(tok, s + off[i], off[j] - off[i], &scr, &out);
        i = j;
    }
    if (!rc && !out.ids) rc = (out.ids = malloc(sizeof *out.ids)) ? 0 : TRIDENT_ENOMEM; /* never NULL on success */
    free(cp);
    free(off);
    free(cls);
    free(scr.id);
    free(scr.next);
    free(scr.prev);
    free(scr.heap);
    if (rc) {
        free(out.ids);
        return rc;
    }
    *ids = out.ids;
    *n_ids = out.n;
    return 0;
}

/* ---- decoding ---- */

enum { TOK_SPECIAL_AS_TEXT = 0, TOK_SPECIAL_SKIP = 1, TOK_SPECIAL_DROP_TIMESTAMPS = 2 };

static int tok_keep(const whisper_tokenizer *tok, int id, int mode) {
    if (id < 0 || id >= tok->n_vocab) return 0;
    if (mode == TOK_SPECIAL_SKIP) return id < tok->sp.eot;
    if (mode == TOK_SPECIAL_DROP_TIMESTAMPS) return tok->sp.timestamp_begin < 0 || id < tok->sp.timestamp_begin;
    return 1;
}

static char *tok_decode(const whisper_tokenizer *tok, const int *ids, size_t n_ids, int mode) {
    size_t total = 0;
    for (size_t i = 0; i < n_ids; i++)
        if (tok_keep(tok, ids[i], mode)) total += tok->spans[ids[i]].len;
    if (total > (SIZE_MAX - 1) / 3) return NULL;
    unsigned char *joined = malloc(total + 1);
    char *text = malloc(3 * total + 1);
    if (!joined || !text) {
        free(joined);
        free(text);
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < n_ids; i++) {
        if (!tok_keep(tok, ids[i], mode)) continue;
        const tok_span *sp = &tok->spans[ids[i]];
        memcpy(joined + o, tok->pool + sp->off, sp->len);
        o += sp->len;
    }
    size_t len = utf8_repair(joined, total, text, UTF8_REPAIR_SUBPARTS);
    free(joined);
    char *shrunk = realloc(text, len + 1);
    return shrunk ? shrunk : text;
}

char *whisper_tokenizer_decode(const whisper_tokenizer *tok, const int *ids, size_t n_ids, int skip_special) {
    return tok_decode(tok, ids, n_ids, skip_special ? TOK_SPECIAL_SKIP : TOK_SPECIAL_AS_TEXT);
}

char *whisper_tokenizer_decode_text(const whisper_tokenizer *tok, const int *ids, size_t n_ids) {
    return tok_decode(tok, ids, n_ids, TOK_SPECIAL_DROP_TIMESTAMPS);
}

const unsigned char *whisper_tokenizer_token_bytes(const whisper_tokenizer *tok, int id, size_t *len) {
    if (id < 0 || id >= tok->n_vocab) {
        *len = 0;
        return NULL;
    }
    *len = tok->spans[id].len;
    return tok->pool + tok->spans[id].off;
}

/* ---- languages ---- */

const char *whisper_tokenizer_language_code(const whisper_tokenizer *tok, int index) {
    if (index < 0 || index >= tok->sp.n_languages) return NULL;
    return tok->lang_codes[index];
}

int whisper_tokenizer_language_token(const whisper_tokenizer *tok, const char *code) {
    if (!code) return -1;
    char lower[32];
    size_t n = strlen(code);
    if (n == 0 || n >= sizeof lower) return -1;
    for (size_t i = 0; i <= n; i++) lower[i] = (char)tolower((unsigned char)code[i]);
    const char *want = lower;
    for (size_t i = 0; i < sizeof tok_languages / sizeof tok_languages[0]; i++)
        if (strcmp(tok_languages[i].name, lower) == 0) {
            want = tok_languages[i].code;
            break;
        }
    for (int i = 0; i < tok->sp.n_languages; i++)
        if (strcmp(tok->lang_codes[i], want) == 0) return tok->sp.lang_begin + i;
    return -1;
}

/* ---- non-speech tokens ---- */

static int tok_cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

/* Encodes text and returns its first token (or -1) and the token count. */
static int tok_encode_first(const whisper_tokenizer *tok, const char *text, int *first, size_t *count) {
    int *ids;
    int rc = whisper_tokenizer_encode(tok, text, &ids, count);
    if (rc) return rc;
    *first = *count ? ids[0] : -1;
    free(ids);
    return 0;
}

int whisper_tokenizer_non_speech_tokens(const whisper_tokenizer *tok, int **ids, size_t *n_ids) {
    /* Speaker tags and annotations that are not speech; basic punctuation stays. */
    static const char *const symbols[] = {
        "\"", "#", "(", ")", "*", "+", "/", ":", ";", "<", "=", ">", "@", "[", "\\", "]", "^", "_", "`",
        "{", "|", "}", "~", "「", "」", "『", "』", "<<", ">>", "<<<", ">>>", "--", "---", "-(", "-[",
        "('", "(\"", "((", "))", "(((", ")))", "[[", "]]", "{{", "}}", "♪♪", "♪♪♪",
    };
    /* Symbols of U+2640–U+267F: when they take several tokens, the first is
     * suppressed (they share their first UTF-8 bytes). */
    static const char *const misc[] = {"♩", "♪", "♫", "♬", "♭", "♮", "♯"};
    size_t n_sym = sizeof symbols / sizeof symbols[0], n_misc = sizeof misc / sizeof misc[0];
    int *out = malloc((2 * (n_sym + n_misc) + 2) * sizeof *out);
    if (!out) return TRIDENT_ENOMEM;
    size_t n = 0, count;
    int first, rc = 0;
    /* hyphens and apostrophes are allowed between words, not at a word's start */
    if (!(rc = tok_encode_first(tok, " -", &first, &count)) && first >= 0) out[n++] = first;
    if (!rc && !(rc = tok_encode_first(tok, " '", &first, &count)) && first >= 0) out[n++] = first;
    for (size_t i = 0; !rc && i < n_sym + n_misc; i++) {
        int is_misc = i >= n_sym;
        const char *sym = is_misc ? misc[i - n_sym] : symbols[i];
        char spaced[16];
        snprintf(spaced, sizeof spaced, " %s", sym);
        const char *forms[2] = {sym, spaced};
        for (int f = 0; !rc && f < 2; f++) {
            rc = tok_encode_first(tok, forms[f], &first, &count);
            if (!rc && (count == 1 || (is_misc && count > 0))) out[n++] = first;
        }
    }
    if (rc) {
        free(out);
        return rc;
    }
    qsort(out, n, sizeof *out, tok_cmp_int);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (u == 0 || out[u - 1] != out[i]) out[u++] = out[i];
    *ids = out;
    *n_ids = u;
    return 0;
}
