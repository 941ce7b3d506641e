/* lexicon.c — loads data/content/lexicon.tsv and gazetteer.tsv into an
 * immutable, thread-shareable content_lexicon: interned words, a phrase trie
 * over word ids (longest match), word-level annotations (numbers, stopwords,
 * clause boundaries), and the gazetteer places. Also the tokenizer shared by
 * loading (phrases) and extraction (transcripts), so both normalise alike. */
#include "content/lexicon.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/file.h"

#define LEX_FILE_MAX (16u << 20)
#define LEX_PHRASE_WORDS_MAX 8

/* --- arena ------------------------------------------------------------------ */

struct lex_chunk {
    struct lex_chunk *next;
    size_t used, size;
    char data[];
};

static char *lex_arena_strdup(content_lexicon *lex, const char *s, size_t n) {
    struct lex_chunk *c = lex->arena;
    if (!c || c->size - c->used < n + 1) {
        size_t size = n + 1 > 16384 ? n + 1 : 16384;
        c = malloc(sizeof *c + size);
        if (!c) return NULL;
        c->next = lex->arena;
        c->used = 0;
        c->size = size;
        lex->arena = c;
    }
    char *p = c->data + c->used;
    memcpy(p, s, n);
    p[n] = '\0';
    c->used += n + 1;
    return p;
}

/* --- tokenizer -------------------------------------------------------------- */

static int lex_is_word_byte(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

/* Length of an apostrophe at text[p] (' or U+2018/U+2019), else 0. */
static size_t lex_apostrophe_len(const char *text, size_t len, size_t p) {
    const unsigned char *u = (const unsigned char *)text;
    if (u[p] == '\'') return 1;
    if (p + 2 < len && u[p] == 0xE2 && u[p + 1] == 0x80 && (u[p + 2] == 0x98 || u[p + 2] == 0x99)) return 3;
    return 0;
}

/* Length of a UTF-8 punctuation separator at text[p] (quotes, dashes, ellipsis), else 0. */
static size_t lex_utf8_separator_len(const char *text, size_t len, size_t p, int *boundary) {
    const unsigned char *u = (const unsigned char *)text;
    if (p + 2 < len && u[p] == 0xE2 && u[p + 1] == 0x80) {
        unsigned char c = u[p + 2];
        if (c == 0x9C || c == 0x9D || c == 0x93 || c == 0x94) return 3;
        if (c == 0xA6) {
            *boundary = 1;
            return 3;
        }
    }
    return 0;
}

/* Is the '.' at text[p] an abbreviation dot ("St. Ann", "Dr. Smith") or a decimal point? */
static int lex_dot_is_abbreviation(const char *text, size_t len, size_t p) {
    static const char *const abbrev[] = {"st", "mr", "mrs", "ms", "dr", "mt", "ft"};
    if (p > 0 && p + 1 < len && text[p - 1] >= '0' && text[p - 1] <= '9' && text[p + 1] >= '0' && text[p + 1] <= '9')
        return 1;
    size_t b = p;
    while (b > 0 && ((text[b - 1] >= 'a' && text[b - 1] <= 'z') || (text[b - 1] >= 'A' && text[b - 1] <= 'Z'))) b--;
    size_t n = p - b;
    if (n == 0 || n > 3 || (b > 0 && lex_is_word_byte((unsigned char)text[b - 1]))) return 0;
    for (size_t i = 0; i < sizeof abbrev / sizeof abbrev[0]; i++) {
        if (strlen(abbrev[i]) != n) continue;
        size_t k = 0;
        while (k < n && (text[b + k] | 0x20) == abbrev[i][k]) k++;
        if (k == n) return 1;
    }
    return 0;
}

size_t lex_word_next(const char *text, size_t len, size_t *pos, char buf[LEX_WORD_MAX], size_t *start,
                     size_t *end, int *boundary) {
    size_t p = *pos;
    *boundary = 0;
    while (p < len) {
        unsigned char c = (unsigned char)text[p];
        size_t k;
        if ((k = lex_apostrophe_len(text, len, p)) > 0 || (k = lex_utf8_separator_len(text, len, p, boundary)) > 0) {
            p += k;
        } else if (lex_is_word_byte(c)) {
            break;
        } else {
            if (c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == '\n' || c == '(' || c == ')' ||
                (c == '.' && !lex_dot_is_abbreviation(text, len, p)))
                *boundary = 1;
            p++;
        }
    }
    if (p >= len) {
        *pos = p;
        return 0;
    }
    size_t n = 0;
    *start = p;
    *end = p;
    while (p < len) {
        unsigned char c = (unsigned char)text[p];
        size_t k;
        int ignored;
        if ((k = lex_apostrophe_len(text, len, p)) > 0) {
            p += k;
        } else if (lex_utf8_separator_len(text, len, p, &ignored) > 0 || !lex_is_word_byte(c)) {
            break;
        } else {
            if (n < LEX_WORD_MAX - 1) buf[n++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            p++;
            *end = p;
        }
    }
    buf[n] = '\0';
    *pos = p;
    return n;
}

/* --- interned words ---------------------------------------------------------- */

static uint64_t lex_hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* The interned id of word itself (not its canonical spelling), or -1. */
static int32_t lex_word_lookup(const content_lexicon *lex, const char *word, size_t n) {
    if (!lex->word_cap) return -1;
    size_t mask = lex->word_cap - 1;
    for (size_t i = (size_t)lex_hash(word, n) & mask;; i = (i + 1) & mask) {
        const char *k = lex->word_keys[i];
        if (!k) return -1;
        if (strncmp(k, word, n) == 0 && k[n] == '\0') return lex->word_ids[i];
    }
}

int32_t lex_word_find(const content_lexicon *lex, const char *word, size_t n) {
    int32_t id = lex_word_lookup(lex, word, n);
    return id >= 0 ? lex->word_canon[id] : -1;
}

static int lex_word_table_grow(content_lexicon *lex) {
    size_t cap = lex->word_cap ? lex->word_cap * 2 : 1024;
    const char **keys = calloc(cap, sizeof *keys);
    int32_t *ids = calloc(cap, sizeof *ids);
    if (!keys || !ids) {
        free(keys);
        free(ids);
        return TRIDENT_ENOMEM;
    }
    for (size_t i = 0; i < lex->word_cap; i++) {
        const char *k = lex->word_keys[i];
        if (!k) continue;
        size_t j = (size_t)lex_hash(k, strlen(k)) & (cap - 1);
        while (keys[j]) j = (j + 1) & (cap - 1);
        keys[j] = k;
        ids[j] = lex->word_ids[i];
    }
    free(lex->word_keys);
    free(lex->word_ids);
    lex->word_keys = keys;
    lex->word_ids = ids;
    lex->word_cap = cap;
    return 0;
}

/* Returns the id of word (interning it), or a negative error code. */
static int32_t lex_word_intern(content_lexicon *lex, const char *word, size_t n) {
    int32_t id = lex_word_find(lex, word, n);
    if (id >= 0) return id;
    if ((lex->n_words + 1) * 2 > lex->word_cap && lex_word_table_grow(lex) != 0) return TRIDENT_ENOMEM;
    if (lex->n_words >= lex->word_meta_cap) {
        size_t cap = lex->word_meta_cap ? lex->word_meta_cap * 2 : 512;
        int32_t *num = realloc(lex->word_number, cap * sizeof *num);
        if (!num) return TRIDENT_ENOMEM;
        lex->word_number = num;
        int32_t *canon = realloc(lex->word_canon, cap * sizeof *canon);
        if (!canon) return TRIDENT_ENOMEM;
        lex->word_canon = canon;
        uint8_t *flags = realloc(lex->word_flags, cap * sizeof *flags);
        if (!flags) return TRIDENT_ENOMEM;
        lex->word_flags = flags;
        const char **texts = realloc(lex->word_text, cap * sizeof *texts);
        if (!texts) return TRIDENT_ENOMEM;
        lex->word_text = texts;
        lex->word_meta_cap = cap;
    }
    char *key = lex_arena_strdup(lex, word, n);
    if (!key) return TRIDENT_ENOMEM;
    size_t mask = lex->word_cap - 1, i = (size_t)lex_hash(word, n) & mask;
    while (lex->word_keys[i]) i = (i + 1) & mask;
    id = (int32_t)lex->n_words++;
    lex->word_keys[i] = key;
    lex->word_ids[i] = id;
    lex->word_number[id] = -1;
    lex->word_canon[id] = id;
    lex->word_flags[id] = 0;
    lex->word_text[id] = key;
    return id;
}

/* --- trie -------------------------------------------------------------------- */

static uint64_t lex_edge_key(uint32_t node, int32_t word) { return (uint64_t)node << 32 | (uint32_t)word; }

static uint64_t lex_mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x;
}

static int64_t lex_edge_find(const content_lexicon *lex, uint32_t node, int32_t word) {
    if (!lex->edge_cap || word < 0) return -1;
    uint64_t key = lex_edge_key(node, word);
    size_t mask = lex->edge_cap - 1;
    for (size_t i = (size_t)lex_mix(key) & mask;; i = (i + 1) & mask) {
        if (lex->edge_keys[i] == UINT64_MAX) return -1;
        if (lex->edge_keys[i] == key) return lex->edge_child[i];
    }
}

static int lex_edge_table_grow(content_lexicon *lex) {
    size_t cap = lex->edge_cap ? lex->edge_cap * 2 : 2048;
    uint64_t *keys = malloc(cap * sizeof *keys);
    uint32_t *child = malloc(cap * sizeof *child);
    if (!keys || !child) {
        free(keys);
        free(child);
        return TRIDENT_ENOMEM;
    }
    memset(keys, 0xff, cap * sizeof *keys);
    for (size_t i = 0; i < lex->edge_cap; i++) {
        if (lex->edge_keys[i] == UINT64_MAX) continue;
        size_t j = (size_t)lex_mix(lex->edge_keys[i]) & (cap - 1);
        while (keys[j] != UINT64_MAX) j = (j + 1) & (cap - 1);
        keys[j] = lex->edge_keys[i];
        child[j] = lex->edge_child[i];
    }
    free(lex->edge_keys);
    free(lex->edge_child);
    lex->edge_keys = keys;
    lex->edge_child = child;
    lex->edge_cap = cap;
    return 0;
}

static int64_t lex_node_new(content_lexicon *lex) {
    if (lex->n_nodes >= lex->nodes_cap) {
        size_t cap = lex->nodes_cap ? lex->nodes_cap * 2 : 1024;
        lex_node *nodes = realloc(lex->nodes, cap * sizeof *nodes);
        if (!nodes) return TRIDENT_ENOMEM;
        lex->nodes = nodes;
        lex->nodes_cap = cap;
    }
    lex->nodes[lex->n_nodes].first = 0;
    lex->nodes[lex->n_nodes].count = 0;
    lex->nodes[lex->n_nodes].severity = 0;
    return (int64_t)lex->n_nodes++;
}

/* The node for a word path, creating it; or a negative error code. */
static int64_t lex_trie_path(content_lexicon *lex, uint32_t root, const int32_t *words, size_t n) {
    uint32_t node = root;
    for (size_t i = 0; i < n; i++) {
        int64_t child = lex_edge_find(lex, node, words[i]);
        if (child < 0) {
            if ((lex->n_edges + 1) * 2 > lex->edge_cap && lex_edge_table_grow(lex) != 0) return TRIDENT_ENOMEM;
            child = lex_node_new(lex);
            if (child < 0) return child;
            uint64_t key = lex_edge_key(node, words[i]);
            size_t mask = lex->edge_cap - 1, j = (size_t)lex_mix(key) & mask;
            while (lex->edge_keys[j] != UINT64_MAX) j = (j + 1) & mask;
            lex->edge_keys[j] = key;
            lex->edge_child[j] = (uint32_t)child;
            lex->n_edges++;
        }
        node = (uint32_t)child;
    }
    return node;
}

size_t lex_match_longest(const content_lexicon *lex, const lex_token *tokens, size_t n, size_t i,
                         uint32_t *node) {
    return lex_match_longest_from(lex, 0, tokens, n, i, node);
}

size_t lex_match_longest_from(const content_lexicon *lex, uint32_t root, const lex_token *tokens, size_t n, size_t i,
                              uint32_t *node) {
    uint32_t cur = root;
    size_t best = 0;
    for (size_t k = i; k < n && k - i < LEX_PHRASE_WORDS_MAX; k++) {
        int64_t child = lex_edge_find(lex, cur, tokens[k].word);
        if (child < 0) break;
        cur = (uint32_t)child;
        if (lex->nodes[cur].count) {
            best = k - i + 1;
            *node = cur;
        }
    }
    return best;
}

/* --- loading ----------------------------------------------------------------- */

/* A pending entry: which node it belongs to (entries are grouped by node at the end). */
typedef struct {
    uint32_t node;
    uint32_t order;
    lex_entry entry;
} lex_pending;

typedef struct {
    lex_pending *items;
    size_t n, cap;
} lex_pending_list;

static int lex_pending_add(lex_pending_list *l, uint32_t node, const lex_entry *e) {
    if (l->n >= l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        lex_pending *items = realloc(l->items, cap * sizeof *items);
        if (!items) return TRIDENT_ENOMEM;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->n].node = node;
    l->items[l->n].order = (uint32_t)l->n;
    l->items[l->n].entry = *e;
    l->n++;
    return 0;
}

static int lex_pending_cmp(const void *lhs, const void *rhs) {
    const lex_pending *x = lhs, *y = rhs;
    if (x->node != y->node) return x->node < y->node ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Splits a phrase into interned word ids. Returns the number of words (>= 1)
 * or a negative code with a message. */
static int lex_phrase_words(content_lexicon *lex, const char *phrase, int32_t *words, const char *where,
                            char *err, size_t err_size) {
    char buf[LEX_WORD_MAX];
    size_t pos = 0, len = strlen(phrase), s, e, n = 0, wl;
    int boundary;
    while ((wl = lex_word_next(phrase, len, &pos, buf, &s, &e, &boundary)) > 0) {
        if (n >= LEX_PHRASE_WORDS_MAX)
            return error_set(err, err_size, TRIDENT_EFORMAT, "%s: phrase \"%s\" has more than %d words", where,
                             phrase, LEX_PHRASE_WORDS_MAX);
        int32_t id = lex_word_intern(lex, buf, wl);
        if (id < 0) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory loading the lexicon");
        words[n++] = id;
    }
    if (n == 0) return error_set(err, err_size, TRIDENT_EFORMAT, "%s: empty phrase \"%s\"", where, phrase);
    return (int)n;
}

static int lex_add_phrase(content_lexicon *lex, lex_pending_list *pending, const char *phrase, lex_entry *e,
                          const char *where, char *err, size_t err_size) {
    int32_t words[LEX_PHRASE_WORDS_MAX];
    int n = lex_phrase_words(lex, phrase, words, where, err, err_size);
    if (n < 0) return n;
    e->self_negating = 0;
    for (int i = 0; i < n; i++)
        if (lex->word_flags[words[i]] & LEX_WORD_NEGATION) e->self_negating = 1;
    int64_t node = lex_trie_path(lex, e->category == LEX_CLASS ? lex->class_root : 0, words, (size_t)n);
    if (node < 0 || lex_pending_add(pending, (uint32_t)node, e) != 0)
        return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory loading the lexicon");
    lex->n_phrases++;
    return 0;
}

/* Splits buf into lines and each line into up to max_fields tab-separated
 * fields (in place). Blank lines and '#' comments give nfields 0. */
typedef struct {
    char *field[8];
    int nfields;
    int lineno;
} lex_line;

static int lex_lines_split(char *buf, lex_line **out, size_t *n_out) {
    size_t cap = 256, n = 0;
    lex_line *lines = malloc(cap * sizeof *lines);
    if (!lines) return TRIDENT_ENOMEM;
    int lineno = 0;
    char *p = buf;
    while (*p) {
        char *nl = strchr(p, '\n');
        char *next = nl ? nl + 1 : p + strlen(p);
        if (nl) *nl = '\0';
        lineno++;
        size_t l = strlen(p);
        if (l && p[l - 1] == '\r') p[--l] = '\0';
        if (l && p[0] != '#') {
            if (n >= cap) {
                cap *= 2;
                lex_line *grown = realloc(lines, cap * sizeof *lines);
                if (!grown) {
                    free(lines);
                    return TRIDENT_ENOMEM;
                }
                lines = grown;
            }
            lex_line *ln = &lines[n++];
            ln->lineno = lineno;
            ln->nfields = 0;
            char *f = p;
            for (;;) {
                char *tab = strchr(f, '\t');
                if (ln->nfields < 8) ln->field[ln->nfields] = f;
                ln->nfields++;
                if (!tab) break;
                *tab = '\0';
                f = tab + 1;
            }
        }
        p = next;
    }
    *out = lines;
    *n_out = n;
    return 0;
}

static const char *const lex_category_names[LEX_N_CATEGORIES] = {
    [LEX_HAZARD] = "hazard",         [LEX_BREATHING] = "breathing",   [LEX_CONSCIOUSNESS] = "consciousness",
    [LEX_BLEEDING] = "bleeding",     [LEX_MOBILITY] = "mobility",     [LEX_VULNERABLE] = "vulnerable",
    [LEX_ESCALATING] = "escalating", [LEX_URGENCY] = "urgency",       [LEX_INDICATOR] = "indicator",
    [LEX_RECOVERY] = "recovery",     [LEX_SERIOUS] = "serious",       [LEX_MINOR] = "minor",
    [LEX_ROUTINE] = "routine",       [LEX_CUE] = "cue",
    [LEX_PERSON] = "person",
    [LEX_PERSONS] = "persons",       [LEX_NEGATION] = "negation",     [LEX_STREET] = "street",
    [LEX_LANDMARK] = "landmark",     [LEX_NEAR] = "near",             [LEX_IGNORE] = "ignore",
    [LEX_PLACE] = "place",           [LEX_NUMBER] = "number",         [LEX_STOPWORD] = "stopword",
    [LEX_BOUNDARY] = "boundary",     [LEX_TRANSPARENT] = "transparent", [LEX_SPELLING] = "spelling",
    [LEX_CLASS] = "class",           [LEX_KNOWN] = "known",
};

static const char *const lex_class_values[LEX_CLASS_COUNT] = {
    [LEX_CLASS_WEAPON] = "weapon",         [LEX_CLASS_HARM] = "harm",           [LEX_CLASS_THREAT] = "threat",
    [LEX_CLASS_PERSON] = "person",         [LEX_CLASS_BODY] = "body",           [LEX_CLASS_MANY] = "many",
    [LEX_CLASS_CASUALTY] = "casualty",     [LEX_CLASS_UNDER] = "under",         [LEX_CLASS_MATERIAL] = "material",
    [LEX_CLASS_INSIDE] = "inside",         [LEX_CLASS_INGEST] = "ingest",       [LEX_CLASS_SUBSTANCE] = "substance", [LEX_CLASS_DRUG] = "drug", [LEX_CLASS_WOUND] = "wound",
    [LEX_CLASS_BLUE] = "blue",             [LEX_CLASS_CONVULSE] = "convulse",   [LEX_CLASS_NOANSWER] = "noanswer",
    [LEX_CLASS_INANIMATE] = "inanimate",   [LEX_CLASS_HYPOTHETICAL] = "hypothetical", [LEX_CLASS_DRILL] = "drill",
    [LEX_CLASS_FICTION] = "fiction",       [LEX_CLASS_PAST] = "past",           [LEX_CLASS_PRESENT] = "present",
    [LEX_CLASS_CANCEL] = "cancel",         [LEX_CLASS_CHEST] = "chest",         [LEX_CLASS_PAIN] = "pain",
    [LEX_CLASS_SWEAT] = "sweat",           [LEX_CLASS_BLOOD] = "blood",         [LEX_CLASS_FLOW] = "flow",
    [LEX_CLASS_SINK] = "sink",             [LEX_CLASS_WATER] = "water",         [LEX_CLASS_LEVEL] = "level",
    [LEX_CLASS_BURNED] = "burned",         [LEX_CLASS_SEVERE] = "severe",       [LEX_CLASS_STRUCTURE] = "structure",
    [LEX_CLASS_LAND] = "land",             [LEX_CLASS_FALL] = "fall",           [LEX_CLASS_ONTOP] = "ontop",
    [LEX_CLASS_VEHICLE] = "vehicle",       [LEX_CLASS_IMPACT] = "impact",       [LEX_CLASS_SELF] = "self",
    [LEX_CLASS_ROPE] = "rope",             [LEX_CLASS_NORMAL] = "normal",       [LEX_CLASS_AIRWAY] = "airway",
    [LEX_CLASS_BLOCK] = "block",           [LEX_CLASS_SIGN] = "sign",
};
_Static_assert(LEX_CLASS_COUNT <= 64, "word classes are a 64-bit set");

const char *lex_class_name(int cls) { return cls >= 0 && cls < LEX_CLASS_COUNT ? lex_class_values[cls] : "unknown"; }

/* Value names per clinical/hazard category, indexed by enum value. */
static const char *const lex_hazard_values[CONTENT_HAZARD_COUNT] = {
    NULL,       "other",    "infrastructure", "traffic",  "flood",     "medical",   "fire",
    "violence", "landslide", "collapse",      "explosion", "drowning", "electrical"};
static const char *const lex_indicator_values[CONTENT_IND_COUNT] = {
    [CONTENT_IND_CARDIAC] = "cardiac",
    [CONTENT_IND_NOT_BREATHING] = "not_breathing",
    [CONTENT_IND_DROWNING] = "drowning",
    [CONTENT_IND_UNRESPONSIVE] = "unresponsive",
    [CONTENT_IND_SEIZURE] = "seizure",
    [CONTENT_IND_OVERDOSE] = "overdose",
    [CONTENT_IND_HEAVY_BLEEDING] = "heavy_bleeding",
    [CONTENT_IND_WEAPON_INJURY] = "weapon_injury",
    [CONTENT_IND_BURNS] = "burns",
    [CONTENT_IND_ENTRAPMENT] = "entrapment",
    [CONTENT_IND_ELECTROCUTION] = "electrocution",
    [CONTENT_IND_SUICIDE_ATTEMPT] = "suicide_attempt",
    [CONTENT_IND_CHILDBIRTH_BLEEDING] = "childbirth_bleeding",
    [CONTENT_IND_WEAPON_THREAT] = "weapon_threat",
    [CONTENT_IND_MASS_CASUALTY] = "mass_casualty",
    [CONTENT_IND_ALTERED] = "altered",
    [CONTENT_IND_MINOR_BLEEDING] = "minor_bleeding",
    [CONTENT_IND_INJURY] = "injury",
};
static const char *const lex_breathing_values[] = {NULL, "normal", "impaired", "not_breathing"};
static const char *const lex_consciousness_values[] = {NULL, "alert", "altered", "unresponsive"};
static const char *const lex_bleeding_values[] = {NULL, "none", "minor", "heavy"};
static const char *const lex_mobility_values[] = {NULL, "walking", "impaired", "immobile"};

static int lex_enum_value(const char *const *names, int n, const char *s) {
    for (int i = 1; i < n; i++)
        if (strcmp(names[i], s) == 0) return i;
    return -1;
}

#define LEX_ENUM(names, s) lex_enum_value((names), (int)(sizeof(names) / sizeof((names)[0])), (s))

/* An indicator written as an `indicator` phrase: the clinical ones
 * (not_breathing, unresponsive, heavy_bleeding, altered, minor_bleeding) are
 * written under breathing / consciousness / bleeding instead, so -1. */
static int lex_indicator_value(const char *s) {
    for (int i = 0; i < CONTENT_IND_COUNT; i++)
        if (strcmp(lex_indicator_values[i], s) == 0)
            return i == CONTENT_IND_NOT_BREATHING || i == CONTENT_IND_UNRESPONSIVE || i == CONTENT_IND_HEAVY_BLEEDING ||
                           i == CONTENT_IND_ALTERED || i == CONTENT_IND_MINOR_BLEEDING
                       ? -1
                       : i;
    return -1;
}

static const char *const lex_cue_values[LEX_CUE_COUNT] = {"chest_pain", "sweating", "missing", "childbirth",
                                                          "stuck",      "weapon",   "threat"};

const char *lex_cue_name(int cue) { return cue >= 0 && cue < LEX_CUE_COUNT ? lex_cue_values[cue] : "unknown"; }

/* A recovery value: the groups it cancels, or -1. */
static int lex_recovery_value(const char *s) {
    if (strcmp(s, "breathing") == 0) return LEX_GROUP_BREATHING;
    if (strcmp(s, "consciousness") == 0) return LEX_GROUP_CONSCIOUSNESS;
    if (strcmp(s, "bleeding") == 0) return LEX_GROUP_BLEEDING;
    if (strcmp(s, "all") == 0) return LEX_GROUP_BREATHING | LEX_GROUP_CONSCIOUSNESS | LEX_GROUP_BLEEDING;
    return -1;
}

static int lex_clinical_value(int category, const char *s) {
    switch (category) {
    case LEX_HAZARD: return LEX_ENUM(lex_hazard_values, s);
    case LEX_BREATHING: return LEX_ENUM(lex_breathing_values, s);
    case LEX_CONSCIOUSNESS: return LEX_ENUM(lex_consciousness_values, s);
    case LEX_BLEEDING: return LEX_ENUM(lex_bleeding_values, s);
    case LEX_MOBILITY: return LEX_ENUM(lex_mobility_values, s);
    default: return -1;
    }
}

static int lex_parse_int(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

/* Applies a word-level line (number, stopword, boundary, single-word negation flag). */
static int lex_load_word_line(content_lexicon *lex, const lex_line *ln, int category, const char *where, char *err,
                              size_t err_size) {
    int32_t words[LEX_PHRASE_WORDS_MAX];
    if (category == LEX_SPELLING) { /* variant (column 3) → canonical (column 2), single words */
        int32_t canon[LEX_PHRASE_WORDS_MAX];
        int nc = lex_phrase_words(lex, ln->field[1], canon, where, err, err_size);
        if (nc < 0) return nc;
        char buf[LEX_WORD_MAX];
        size_t pos = 0, len = strlen(ln->field[2]), ws, we;
        int boundary;
        size_t wl = lex_word_next(ln->field[2], len, &pos, buf, &ws, &we, &boundary);
        char rest[LEX_WORD_MAX];
        if (nc != 1 || wl == 0 || lex_word_next(ln->field[2], len, &pos, rest, &ws, &we, &boundary) != 0)
            return error_set(err, err_size, TRIDENT_EFORMAT, "%s: a spelling maps one word to one word", where);
        if (lex->word_canon[canon[0]] != canon[0] || lex_word_lookup(lex, buf, wl) >= 0)
            return error_set(err, err_size, TRIDENT_EFORMAT,
                             "%s: \"%s\" is a variant itself, or \"%s\" is already a word of its own", where,
                             ln->field[1], ln->field[2]);
        int32_t id = lex_word_intern(lex, buf, wl);
        if (id < 0) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory loading the lexicon");
        lex->word_canon[id] = canon[0];
        return 0;
    }
    int n = lex_phrase_words(lex, ln->field[2], words, where, err, err_size);
    if (n < 0) return n;
    if (category == LEX_NEGATION) {
        if (n == 1) lex->word_flags[words[0]] |= LEX_WORD_NEGATION;
        return 0;
    }
    if (n != 1)
        return error_set(err, err_size, TRIDENT_EFORMAT, "%s: a %s must be a single word (\"%s\")", where,
                         lex_category_names[category], ln->field[2]);
    if (category == LEX_NUMBER) {
        long v;
        if (lex_parse_int(ln->field[1], 0, 1000000, &v) != 0)
            return error_set(err, err_size, TRIDENT_EFORMAT, "%s: number value \"%s\" is not an integer in [0, 1000000]",
                             where, ln->field[1]);
        lex->word_number[words[0]] = (int32_t)v;
    } else if (category == LEX_STOPWORD) {
        lex->word_flags[words[0]] |= LEX_WORD_STOP;
    } else if (category == LEX_TRANSPARENT) {
        lex->word_flags[words[0]] |= LEX_WORD_TRANSPARENT;
    } else if (category == LEX_KNOWN) {
        lex->word_flags[words[0]] |= LEX_WORD_KNOWN; /* never a correction's target (found as itself) */
    } else {
        lex->word_flags[words[0]] |= LEX_WORD_BOUNDARY;
    }
    return 0;
}

static int lex_load_phrase_line(content_lexicon *lex, lex_pending_list *pending, const lex_line *ln, int category,
                                const char *where, char *err, size_t err_size) {
    lex_entry e;
    memset(&e, 0, sizeof e);
    e.category = (uint8_t)category;
    e.negated_value = 0;
    e.value = 1;
    e.phrase = ln->field[2];
    e.text = ln->field[1];
    const char *value = ln->field[1];
    switch (category) {
    case LEX_HAZARD:
    case LEX_BREATHING:
    case LEX_CONSCIOUSNESS:
    case LEX_BLEEDING:
    case LEX_MOBILITY: {
        int v = lex_clinical_value(category, value);
        if (v < 0)
            return error_set(err, err_size, TRIDENT_EFORMAT, "%s: \"%s\" is not a %s value", where, value,
                             lex_category_names[category]);
        e.value = (uint8_t)v;
        if (ln->nfields == 4 && strcmp(ln->field[3], "-") != 0) {
            int nv = lex_clinical_value(category, ln->field[3]);
            if (nv < 0 || category == LEX_HAZARD)
                return error_set(err, err_size, TRIDENT_EFORMAT, "%s: \"%s\" is not a %s value for the negated column",
                                 where, ln->field[3], lex_category_names[category]);
            e.negated_value = (uint8_t)nv;
        }
        break;
    }
    case LEX_INDICATOR: {
        int v = lex_indicator_value(value);
        if (v < 0)
            return error_set(err, err_size, TRIDENT_EFORMAT,
                             "%s: \"%s\" is not an indicator (not_breathing, unresponsive, heavy_bleeding, altered and "
                             "minor_bleeding are written as breathing / consciousness / bleeding values)",
                             where, value);
        e.value = (uint8_t)v;
        break;
    }
    case LEX_CUE: {
        int v = LEX_ENUM(lex_cue_values, value);
        if (strcmp(value, lex_cue_values[0]) == 0) v = 0; /* LEX_ENUM skips index 0 */
        if (v < 0)
            return error_set(err, err_size, TRIDENT_EFORMAT,
                             "%s: cue value must be chest_pain, sweating, missing, childbirth, stuck, weapon or threat (got \"%s\")", where,
                             value);
        e.value = (uint8_t)v;
        break;
    }
    case LEX_CLASS: {
        int v = -1;
        for (int k = 0; k < LEX_CLASS_COUNT; k++)
            if (strcmp(lex_class_values[k], value) == 0) v = k;
        if (v < 0) return error_set(err, err_size, TRIDENT_EFORMAT, "%s: \"%s\" is not a word class", where, value);
        e.value = (uint8_t)v;
        break;
    }
    case LEX_RECOVERY: {
        int v = lex_recovery_value(value);
        if (v < 0)
            return error_set(err, err_size, TRIDENT_EFORMAT,
                             "%s: recovery value must be breathing, consciousness, bleeding or all (got \"%s\")", where,
                             value);
        e.value = (uint8_t)v;
        break;
    }
    case LEX_VULNERABLE:
    case LEX_ESCALATING:
    case LEX_SERIOUS:
    case LEX_MINOR:
    case LEX_ROUTINE:
        if (strcmp(value, "yes") != 0)
            return error_set(err, err_size, TRIDENT_EFORMAT, "%s: the %s value must be \"yes\"", where,
                             lex_category_names[category]);
        break;
    case LEX_PERSONS: {
        long v;
        if (lex_parse_int(value, 1, 100000, &v) != 0)
            return error_set(err, err_size, TRIDENT_EFORMAT, "%s: persons value \"%s\" is not a count", where, value);
        e.number = (int32_t)v;
        break;
    }
    case LEX_STREET:
        if (strcmp(value, "name") == 0)
            e.value = LEX_STREET_NAME;
        else if (strcmp(value, "area") == 0)
            e.value = LEX_STREET_AREA;
        else
            return error_set(err, err_size, TRIDENT_EFORMAT, "%s: street value must be \"name\" or \"area\"", where);
        break;
    default:
        if (!*value) return error_set(err, err_size, TRIDENT_EFORMAT, "%s: empty value", where);
        break;
    }
    if (ln->nfields == 4 && category > LEX_MOBILITY && strcmp(ln->field[3], "-") != 0)
        return error_set(err, err_size, TRIDENT_EFORMAT, "%s: only clinical categories have a negated value", where);
    return lex_add_phrase(lex, pending, ln->field[2], &e, where, err, err_size);
}

/* A data file being loaded: its path (for messages) and its text (split in place). */
typedef struct {
    const char *path;
    char *text;
} lex_file;

static int lex_load_lexicon(content_lexicon *lex, lex_pending_list *pending, const lex_file *file, char *err,
                            size_t err_size) {
    const char *path = file->path;
    lex_line *lines;
    size_t n;
    if (lex_lines_split(file->text, &lines, &n) != 0)
        return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory loading %s", path);
    int rc = 0;
    char where[4400];
    /* Pass 0: spellings (every later word is read through them); pass 1:
     * word-level lines (numbers, stopwords, boundaries, negation cue words)
     * so that pass 2 knows which phrases negate themselves. */
    for (int pass = 0; pass < 3 && rc == 0; pass++) {
        for (size_t i = 0; i < n && rc == 0; i++) {
            const lex_line *ln = &lines[i];
            snprintf(where, sizeof where, "%s:%d", path, ln->lineno);
            if (ln->nfields < 3 || ln->nfields > 4) {
                rc = error_set(err, err_size, TRIDENT_EFORMAT,
                               "%s: expected category<TAB>value<TAB>phrase[<TAB>negated value], got %d field(s)", where,
                               ln->nfields);
                break;
            }
            int category = -1;
            for (int c = 0; c < LEX_N_CATEGORIES; c++)
                if (c != LEX_PLACE && strcmp(lex_category_names[c], ln->field[0]) == 0) category = c;
            if (category < 0) {
                rc = error_set(err, err_size, TRIDENT_EFORMAT, "%s: unknown category \"%s\"", where, ln->field[0]);
                break;
            }
            int word_level = category == LEX_NUMBER || category == LEX_STOPWORD || category == LEX_BOUNDARY ||
                             category == LEX_TRANSPARENT || category == LEX_SPELLING || category == LEX_KNOWN;
            if (pass == 0 && category == LEX_SPELLING)
                rc = lex_load_word_line(lex, ln, category, where, err, err_size);
            else if (pass == 1 && category != LEX_SPELLING && (word_level || category == LEX_NEGATION))
                rc = lex_load_word_line(lex, ln, category, where, err, err_size);
            else if (pass == 2 && !word_level)
                rc = lex_load_phrase_line(lex, pending, ln, category, where, err, err_size);
        }
    }
    free(lines);
    return rc;
}

static int lex_place_kind_parse(const char *s) {
    static const char *const kinds[] = {"parish", "town", "road", "landmark"};
    for (int i = 0; i < 4; i++)
        if (strcmp(s, kinds[i]) == 0) return i;
    return -1;
}

/* Loads a gazetteer file (gazetteer.tsv, places.tsv). Parishes are loaded
 * first (pass 0), then the rows that name a parish; a parish is looked up
 * among the places loaded so far, so places.tsv may name gazetteer.tsv's. */
static int lex_load_gazetteer(content_lexicon *lex, lex_pending_list *pending, const lex_file *file, char *err,
                              size_t err_size) {
    const char *path = file->path;
    lex_line *lines;
    size_t n;
    if (lex_lines_split(file->text, &lines, &n) != 0)
        return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory loading %s", path);
    int rc = 0;
    lex_place *grown = realloc(lex->places, (lex->n_places + n + 1) * sizeof *lex->places);
    if (!grown)
        rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory loading %s", path);
    else
        lex->places = grown;
    char where[4400];
    for (int pass = 0; pass < 2 && rc == 0; pass++) {
        for (size_t i = 0; i < n && rc == 0; i++) {
            const lex_line *ln = &lines[i];
            snprintf(where, sizeof where, "%s:%d", path, ln->lineno);
            if (ln->nfields < 5 || ln->nfields > 6) {
                rc = error_set(err, err_size, TRIDENT_EFORMAT,
                               "%s: expected kind<TAB>name<TAB>parish<TAB>lat<TAB>lng[<TAB>aliases], got %d field(s)",
                               where, ln->nfields);
                break;
            }
            int kind = lex_place_kind_parse(ln->field[0]);
            if (kind < 0) {
                rc = error_set(err, err_size, TRIDENT_EFORMAT,
                               "%s: kind must be \"parish\", \"town\", \"road\" or \"landmark\"", where);
                break;
            }
            if ((kind != LEX_PLACE_PARISH) != pass) continue;
            char *end1, *end2;
            double lat = strtod(ln->field[3], &end1), lng = strtod(ln->field[4], &end2);
            if (*end1 || *end2 || end1 == ln->field[3] || end2 == ln->field[4] || !(lat >= -90 && lat <= 90) ||
                !(lng >= -180 && lng <= 180)) {
                rc = error_set(err, err_size, TRIDENT_EFORMAT, "%s: bad coordinates \"%s\", \"%s\"", where, ln->field[3],
                               ln->field[4]);
                break;
            }
            int parish = -1;
            for (size_t p = 0; p < lex->n_places && parish < 0; p++)
                if (lex->places[p].kind == LEX_PLACE_PARISH && strcmp(lex->places[p].name, ln->field[2]) == 0)
                    parish = (int)p;
            if (kind != LEX_PLACE_PARISH && parish < 0) {
                rc = error_set(err, err_size, TRIDENT_EFORMAT, "%s: unknown parish \"%s\"", where, ln->field[2]);
                break;
            }
            if (kind == LEX_PLACE_PARISH && strcmp(ln->field[1], ln->field[2]) != 0) {
                rc = error_set(err, err_size, TRIDENT_EFORMAT, "%s: a parish row names itself as its parish", where);
                break;
            }
            int index = (int)lex->n_places++;
            lex_place *pl = &lex->places[index];
            pl->name = ln->field[1];
            pl->kind = kind;
            pl->parish = kind != LEX_PLACE_PARISH ? parish : index;
            pl->lat = lat;
            pl->lng = lng;
            lex_entry e;
            memset(&e, 0, sizeof e);
            e.category = LEX_PLACE;
            e.value = 1;
            e.negated_value = 0;
            e.number = index;
            e.text = pl->name;
            e.phrase = pl->name;
            rc = lex_add_phrase(lex, pending, pl->name, &e, where, err, err_size);
            if (rc == 0 && ln->nfields == 6 && ln->field[5][0]) {
                /* aliases: comma-separated */
                char *a = ln->field[5];
                while (rc == 0 && a) {
                    char *comma = strchr(a, ',');
                    if (comma) *comma = '\0';
                    while (*a == ' ') a++;
                    if (*a) {
                        e.phrase = a;
                        rc = lex_add_phrase(lex, pending, a, &e, where, err, err_size);
                    }
                    a = comma ? comma + 1 : NULL;
                }
            }
        }
    }
    free(lines);
    return rc;
}

/* The most points an entry can contribute (used to resolve overlapping phrases). */
static int lex_entry_severity(const lex_entry *e) {
    switch (e->category) {
    case LEX_HAZARD: return lex_hazard_points[e->value];
    case LEX_BREATHING: return lex_breathing_points[e->value];
    case LEX_CONSCIOUSNESS: return lex_consciousness_points[e->value];
    case LEX_BLEEDING: return lex_bleeding_points[e->value];
    case LEX_INDICATOR: return e->value < CONTENT_IND_CRITICAL_COUNT ? LEX_INDICATOR_POINTS : 5;
    case LEX_SERIOUS: return 5;
    case LEX_VULNERABLE: return 15;
    case LEX_ESCALATING: return 10;
    case LEX_URGENCY: return 5;
    case LEX_PERSONS: return e->number >= 4 ? 20 : 5 * e->number;
    default: return 0;
    }
}

/* --- spelling tolerance ---------------------------------------------------------- */

/* Adds (deletion key, word id) to the index, once per canonical word. */
static int lex_deletion_add(content_lexicon *lex, const char *key, size_t n, int32_t id) {
    size_t mask = lex->del_cap - 1, i = (size_t)lex_hash(key, n) & mask;
    for (; lex->del_keys[i]; i = (i + 1) & mask)
        if (strncmp(lex->del_keys[i], key, n) == 0 && lex->del_keys[i][n] == '\0' &&
            lex->word_canon[lex->del_ids[i]] == lex->word_canon[id])
            return 0;
    char *k = lex_arena_strdup(lex, key, n);
    if (!k) return TRIDENT_ENOMEM;
    lex->del_keys[i] = k;
    lex->del_ids[i] = id;
    lex->n_del++;
    return 0;
}

/* Is word w a word that may be corrected to, or guessed as (letters only, not a number)? */
static int lex_word_correctable(const char *w, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (w[i] < 'a' || w[i] > 'z') return 0;
    return 1;
}

/* Indexes every one-letter deletion of every interned word of LEX_FUZZY_MIN
 * letters or more (spelling variants under their canonical word). */
static int lex_deletions_build(content_lexicon *lex) {
    size_t n_keys = 0;
    for (size_t i = 0; i < lex->word_cap; i++) {
        const char *k = lex->word_keys[i];
        size_t n = k ? strlen(k) : 0;
        if (n >= LEX_FUZZY_MIN) n_keys += n;
    }
    size_t cap = 1024;
    while (cap < 2 * n_keys + 2) cap *= 2;
    lex->del_keys = calloc(cap, sizeof *lex->del_keys);
    lex->del_ids = calloc(cap, sizeof *lex->del_ids);
    if (!lex->del_keys || !lex->del_ids) return TRIDENT_ENOMEM;
    lex->del_cap = cap;
    char buf[LEX_WORD_MAX];
    for (size_t i = 0; i < lex->word_cap; i++) {
        const char *k = lex->word_keys[i];
        size_t n = k ? strlen(k) : 0;
        if (n < LEX_FUZZY_MIN || n >= LEX_WORD_MAX || !lex_word_correctable(k, n)) continue;
        int32_t id = lex->word_ids[i];
        if (lex->word_number[lex->word_canon[id]] >= 0 || (lex->word_flags[id] & LEX_WORD_KNOWN)) continue;
        for (size_t d = 0; d < n; d++) {
            memcpy(buf, k, d);
            memcpy(buf + d, k + d + 1, n - d - 1);
            if (lex_deletion_add(lex, buf, n - 1, id) != 0) return TRIDENT_ENOMEM;
        }
    }
    return 0;
}

/* How b is a one-edit misspelling of a: LEX_EDIT_OMITTED (a letter of a left
 * out), LEX_EDIT_SWAPPED (two neighbours swapped), LEX_EDIT_REPLACED,
 * LEX_EDIT_ADDED (a letter added), or LEX_EDIT_NONE (equal, or further apart).
 * The lower the value, the likelier the slip; a correction prefers it. */
enum { LEX_EDIT_OMITTED = 0, LEX_EDIT_SWAPPED, LEX_EDIT_REPLACED, LEX_EDIT_ADDED, LEX_EDIT_NONE };

static int lex_edit_kind(const char *a, size_t na, const char *b, size_t nb) {
    if (na > nb + 1 || nb > na + 1) return LEX_EDIT_NONE;
    size_t i = 0;
    while (i < na && i < nb && a[i] == b[i]) i++;
    if (i == na && i == nb) return LEX_EDIT_NONE;
    const char *ra = a + i, *rb = b + i;
    size_t la = na - i, lb = nb - i;
    if (la == lb) {
        if (la >= 2 && ra[0] == rb[1] && ra[1] == rb[0] && strncmp(ra + 2, rb + 2, la - 2) == 0) return LEX_EDIT_SWAPPED;
        return strncmp(ra + 1, rb + 1, la - 1) == 0 ? LEX_EDIT_REPLACED : LEX_EDIT_NONE;
    }
    if (la == lb + 1) return strncmp(ra + 1, rb, lb) == 0 ? LEX_EDIT_OMITTED : LEX_EDIT_NONE;
    return strncmp(ra, rb + 1, la) == 0 ? LEX_EDIT_ADDED : LEX_EDIT_NONE;
}

/* The correction being chosen: the canonical word of the likeliest kind of
 * slip, -2 when two different words tie at that kind. */
typedef struct {
    int32_t word;
    int kind;
} lex_guess;

/* Offers a candidate word id (in its own spelling) for the transcript word. */
static void lex_guess_offer(const content_lexicon *lex, const char *word, size_t n, int32_t id, lex_guess *g) {
    if (id < 0) return;
    const char *w = lex->word_text[id];
    int kind = lex_edit_kind(w, strlen(w), word, n);
    if (kind == LEX_EDIT_NONE || kind > g->kind) return;
    int32_t canon = lex->word_canon[id];
    if (kind < g->kind)
        *g = (lex_guess){canon, kind};
    else if (g->word != canon)
        g->word = -2;
}

/* Offers every word that has the deletion key. */
static void lex_deletion_offer(const content_lexicon *lex, const char *key, size_t kn, const char *word, size_t n,
                               lex_guess *g) {
    if (!lex->del_cap) return;
    size_t mask = lex->del_cap - 1;
    for (size_t i = (size_t)lex_hash(key, kn) & mask; lex->del_keys[i]; i = (i + 1) & mask)
        if (strncmp(lex->del_keys[i], key, kn) == 0 && lex->del_keys[i][kn] == '\0')
            lex_guess_offer(lex, word, n, lex->del_ids[i], g);
}

int32_t lex_word_guess(const content_lexicon *lex, const char *word, size_t n) {
    if (n < 4 || n >= LEX_WORD_MAX || !lex_word_correctable(word, n)) return -1;
    char buf[LEX_WORD_MAX + 2];
    /* inflections: "bleedin" → "bleeding", "bleeds" → "bleed", "stabbed" → "stab" */
    static const struct {
        const char *suffix, *replace;
    } stems[] = {{"in", "ing"}, {"s", ""}, {"es", ""}, {"ed", ""}, {"d", ""}, {"ing", ""}, {"ing", "e"}, {"", "ed"}, {"", "ing"}};
    for (size_t k = 0; k < sizeof stems / sizeof stems[0]; k++) {
        size_t ls = strlen(stems[k].suffix), lr = strlen(stems[k].replace);
        if (n < ls + 3 || memcmp(word + n - ls, stems[k].suffix, ls) != 0) continue;
        memcpy(buf, word, n - ls);
        memcpy(buf + n - ls, stems[k].replace, lr);
        int32_t id = lex_word_find(lex, buf, n - ls + lr);
        if (id >= 0 && lex->word_number[id] < 0 && !(lex->word_flags[id] & LEX_WORD_STOP)) return id;
    }
    if (n < LEX_FUZZY_MIN) return -1;
    lex_guess g = {-1, LEX_EDIT_NONE};
    lex_deletion_offer(lex, word, n, word, n, &g); /* a letter left out */
    for (size_t d = 0; d < n; d++) {
        memcpy(buf, word, d);
        memcpy(buf + d, word + d + 1, n - d - 1);
        if (n - 1 >= LEX_FUZZY_MIN) {
            int32_t id = lex_word_lookup(lex, buf, n - 1); /* a letter added */
            if (id >= 0 && lex->word_number[lex->word_canon[id]] < 0 && !(lex->word_flags[id] & LEX_WORD_KNOWN))
                lex_guess_offer(lex, word, n, id, &g);
        }
        lex_deletion_offer(lex, buf, n - 1, word, n, &g); /* replaced or swapped */
    }
    return g.word >= 0 ? g.word : -1;
}

static int lex_read(const char *dir, const char *name, char **buf, char *path, size_t path_size, char *err,
                    size_t err_size) {
    if (path_join(path, path_size, dir, name) != 0)
        return error_set(err, err_size, TRIDENT_ELIMIT, "data path too long: %s/%s", dir, name);
    size_t size;
    return file_read_all(path, LEX_FILE_MAX, buf, &size, err, err_size);
}

int content_lexicon_load(const char *data_dir, content_lexicon **out, char *err, size_t err_size) {
    if (!out) return error_set(err, err_size, TRIDENT_EINVAL, "content_lexicon_load: NULL output");
    *out = NULL;
    if (!data_dir || !*data_dir) data_dir = getenv("TRIDENT_DATA");
    if (!data_dir || !*data_dir) data_dir = TRIDENT_DATA_DIR;
    char dir[4096], path[4200];
    if (path_join(dir, sizeof dir, data_dir, "content") != 0)
        return error_set(err, err_size, TRIDENT_ELIMIT, "data directory path too long");

    content_lexicon *lex = calloc(1, sizeof *lex);
    if (!lex) return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory");
    lex_pending_list pending = {0};
    int rc = lex_node_new(lex) < 0 ? error_set(err, err_size, TRIDENT_ENOMEM, "out of memory") : 0;
    int64_t class_root = rc == 0 ? lex_node_new(lex) : 0;
    if (class_root < 0) rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory");
    lex->class_root = (uint32_t)class_root;
    if (rc == 0) rc = lex_word_table_grow(lex) ? error_set(err, err_size, TRIDENT_ENOMEM, "out of memory") : 0;
    if (rc == 0) rc = lex_edge_table_grow(lex) ? error_set(err, err_size, TRIDENT_ENOMEM, "out of memory") : 0;
    if (rc == 0) rc = lex_read(dir, "lexicon.tsv", &lex->files[0], path, sizeof path, err, err_size);
    if (rc == 0) rc = lex_load_lexicon(lex, &pending, &(lex_file){path, lex->files[0]}, err, err_size);
    if (rc == 0) rc = lex_read(dir, "gazetteer.tsv", &lex->files[1], path, sizeof path, err, err_size);
    if (rc == 0) rc = lex_load_gazetteer(lex, &pending, &(lex_file){path, lex->files[1]}, err, err_size);
    if (rc == 0) { /* places.tsv (roads, landmarks ...) is optional */
        rc = lex_read(dir, "places.tsv", &lex->files[2], path, sizeof path, err, err_size);
        if (rc == TRIDENT_ENOTFOUND) {
            rc = 0;
            if (err && err_size) err[0] = '\0';
        } else if (rc == 0) {
            rc = lex_load_gazetteer(lex, &pending, &(lex_file){path, lex->files[2]}, err, err_size);
        }
    }
    if (rc == 0) { /* known.tsv (words never corrected) is optional */
        rc = lex_read(dir, "known.tsv", &lex->files[3], path, sizeof path, err, err_size);
        if (rc == TRIDENT_ENOTFOUND) {
            rc = 0;
            if (err && err_size) err[0] = '\0';
        } else if (rc == 0) {
            rc = lex_load_lexicon(lex, &pending, &(lex_file){path, lex->files[3]}, err, err_size);
        }
    }
    if (rc == 0) {
        /* Group entries by trie node. */
        qsort(pending.items, pending.n, sizeof *pending.items, lex_pending_cmp);
        lex->entries = malloc((pending.n ? pending.n : 1) * sizeof *lex->entries);
        if (!lex->entries) rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory");
    }
    if (rc == 0) {
        size_t n = 0;
        for (size_t i = 0; i < pending.n; i++) {
            lex_node *nd = &lex->nodes[pending.items[i].node];
            const lex_entry *e = &pending.items[i].entry;
            int dup = 0; /* the same meaning twice (spelling variants of one phrase: "nah breathe", "nuh breathe") */
            for (uint32_t k = 0; k < nd->count && !dup; k++) {
                const lex_entry *o = &lex->entries[nd->first + k];
                dup = o->category == e->category && o->value == e->value && o->negated_value == e->negated_value &&
                      o->number == e->number && strcmp(o->text, e->text) == 0;
            }
            if (dup) continue;
            if (nd->count == 0) nd->first = (uint32_t)n;
            nd->count++;
            lex->entries[n] = *e;
            int sev = lex_entry_severity(e);
            if (sev > nd->severity) nd->severity = sev;
            n++;
        }
        lex->n_entries = n;
    }
    free(pending.items);
    if (rc == 0 && lex_deletions_build(lex) != 0) rc = error_set(err, err_size, TRIDENT_ENOMEM, "out of memory");
    if (rc != 0) {
        content_lexicon_free(lex);
        return rc;
    }
    *out = lex;
    return 0;
}

void content_lexicon_free(content_lexicon *lex) {
    if (!lex) return;
    free(lex->word_keys);
    free(lex->word_ids);
    free(lex->word_number);
    free(lex->word_canon);
    free(lex->word_flags);
    free(lex->word_text);
    free(lex->edge_keys);
    free(lex->edge_child);
    free(lex->nodes);
    free(lex->entries);
    free(lex->places);
    free(lex->del_keys);
    free(lex->del_ids);
    for (int i = 0; i < 4; i++) free(lex->files[i]);
    while (lex->arena) {
        struct lex_chunk *next = lex->arena->next;
        free(lex->arena);
        lex->arena = next;
    }
    free(lex);
}

size_t content_lexicon_phrase_count(const content_lexicon *lex) { return lex ? lex->n_phrases : 0; }
size_t content_lexicon_place_count(const content_lexicon *lex) { return lex ? lex->n_places : 0; }

const char *content_indicator_name(content_indicator i) {
    return (int)i >= 0 && i < CONTENT_IND_COUNT ? lex_indicator_values[i] : "unknown";
}

int content_indicator_is_critical(content_indicator i) { return (int)i >= 0 && i < CONTENT_IND_CRITICAL_COUNT; }

const char *content_hazard_name(content_hazard h) {
    return (int)h > 0 && (int)h < (int)(sizeof lex_hazard_values / sizeof *lex_hazard_values) ? lex_hazard_values[h]
                                                                                              : NULL;
}

static const char *lex_clinical_name(const char *const *names, int n, int v) {
    return v > 0 && v < n ? names[v] : "unknown";
}

const char *content_breathing_name(content_breathing v) { return lex_clinical_name(lex_breathing_values, 4, (int)v); }
const char *content_consciousness_name(content_consciousness v) {
    return lex_clinical_name(lex_consciousness_values, 4, (int)v);
}
const char *content_bleeding_name(content_bleeding v) { return lex_clinical_name(lex_bleeding_values, 4, (int)v); }
const char *content_mobility_name(content_mobility v) { return lex_clinical_name(lex_mobility_values, 4, (int)v); }
