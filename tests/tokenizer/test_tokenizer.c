/* test_tokenizer.c — the Whisper tokenizer against the fixture models and the
 * reference outputs in ../shared/whisper-ref: special-token ids, decoding of every
 * reference token list to the reference text, encodings worked out by hand from
 * vocab.json/merges.txt, round trips, UTF-8 replacement, languages, non-speech set. */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "check.h"
#include "whisper/tokenizer.h"
#include "whisper/utf8.h"

enum { V2, V3, EN, N_MODELS };
static const char *const model_names[N_MODELS] = {"tiny-random-v2", "tiny-random-v3", "tiny-random-en"};

static whisper_tokenizer *load_model(const char *name) {
    char rel[256], dir[4096], err[TRIDENT_ERR_SIZE];
    snprintf(rel, sizeof rel, "whisper-ref/models/%s", name);
    snprintf(dir, sizeof dir, "%s", check_shared_path(rel));
    whisper_tokenizer *tok = NULL;
    int rc = whisper_tokenizer_load(dir, &tok, err, sizeof err);
    CHECK(rc == 0 && tok != NULL, "load %s: rc=%d %s", name, rc, rc ? err : "");
    return rc == 0 ? tok : NULL;
}

static json_t *load_json(const char *rel) {
    json_error_t jerr;
    json_t *j = json_load_file(check_shared_path(rel), 0, &jerr);
    CHECK(j != NULL, "read %s: %s", rel, j ? "" : jerr.text);
    return j;
}

/* Copies a JSON array of integers; the caller frees. */
static int *json_ids(json_t *arr, size_t *n) {
    *n = json_array_size(arr);
    int *ids = malloc((*n + 1) * sizeof *ids);
    if (!ids) return NULL;
    for (size_t i = 0; i < *n; i++) ids[i] = (int)json_integer_value(json_array_get(arr, i));
    return ids;
}

/* Python's str.strip(): removes leading and trailing characters for which
 * str.isspace() holds (White_Space plus U+001C..U+001F). Modifies s in place. */
static char *py_strip(char *s) {
    size_t n = strlen(s), pos = 0, first = n, last = 0;
    while (pos < n) {
        size_t start = pos;
        uint32_t cp;
        if (whisper_utf8_next((const unsigned char *)s, n, &pos, &cp) != 0) {
            pos = start + 1;
            cp = 0xFFFD;
        }
        int space = whisper_utf8_class(cp) == WHISPER_UTF8_SPACE || (cp >= 0x1C && cp <= 0x1F);
        if (!space) {
            if (first == n) first = start;
            last = pos;
        }
    }
    if (first == n) {
        s[0] = '\0';
        return s;
    }
    memmove(s, s + first, last - first);
    s[last - first] = '\0';
    return s;
}

static int ids_equal(const int *a, size_t na, const int *b, size_t nb) {
    return na == nb && (na == 0 || memcmp(a, b, na * sizeof *a) == 0);
}

static void check_encoding(const whisper_tokenizer *tok, const char *model, const char *text, const int *want,
                           size_t n_want) {
    int *ids = NULL;
    size_t n = 0;
    int rc = whisper_tokenizer_encode(tok, text, &ids, &n);
    CHECK(rc == 0, "%s: encode \"%s\" rc=%d", model, text, rc);
    int same = rc == 0 && ids_equal(ids, n, want, n_want);
    char got[512] = "";
    for (size_t i = 0; i < n && strlen(got) < 480; i++) snprintf(got + strlen(got), sizeof got - strlen(got), " %d", ids[i]);
    CHECK(same, "%s: encode \"%s\" gave [%s ]", model, text, got);
    free(ids);
}

/* ---- special tokens ---- */

static void test_specials(whisper_tokenizer *const toks[N_MODELS]) {
    /* from added_tokens.json of each fixture; timestamps start right after <|notimestamps|> */
    static const struct {
        int eot, sot, translate, transcribe, sot_lm, sot_prev, no_speech, no_timestamps, timestamp_begin;
        int lang_begin, n_languages, n_vocab, multilingual;
    } want[N_MODELS] = {
        [V2] = {50257, 50258, 50358, 50359, 50360, 50361, 50362, 50363, 50364, 50259, 99, 51865, 1},
        [V3] = {50257, 50258, 50359, 50360, 50361, 50362, 50363, 50364, 50365, 50259, 100, 51866, 1},
        [EN] = {50256, 50257, 50357, 50358, 50359, 50360, 50361, 50362, 50363, -1, 0, 51864, 0},
    };
    for (int m = 0; m < N_MODELS; m++) {
        const whisper_tokenizer *tok = toks[m];
        if (!tok) continue;
        const whisper_special_tokens *sp = whisper_tokenizer_specials(tok);
        const char *name = model_names[m];
        CHECK(sp->eot == want[m].eot, "%s eot %d", name, sp->eot);
        CHECK(sp->sot == want[m].sot, "%s sot %d", name, sp->sot);
        CHECK(sp->translate == want[m].translate, "%s translate %d", name, sp->translate);
        CHECK(sp->transcribe == want[m].transcribe, "%s transcribe %d", name, sp->transcribe);
        CHECK(sp->sot_lm == want[m].sot_lm, "%s sot_lm %d", name, sp->sot_lm);
        CHECK(sp->sot_prev == want[m].sot_prev, "%s sot_prev %d", name, sp->sot_prev);
        CHECK(sp->no_speech == want[m].no_speech, "%s no_speech %d", name, sp->no_speech);
        CHECK(sp->no_timestamps == want[m].no_timestamps, "%s no_timestamps %d", name, sp->no_timestamps);
        CHECK(sp->timestamp_begin == want[m].timestamp_begin, "%s timestamp_begin %d", name, sp->timestamp_begin);
        CHECK(sp->lang_begin == want[m].lang_begin, "%s lang_begin %d", name, sp->lang_begin);
        CHECK(sp->n_languages == want[m].n_languages, "%s n_languages %d", name, sp->n_languages);
        CHECK(sp->n_vocab == want[m].n_vocab, "%s n_vocab %d", name, sp->n_vocab);
        CHECK(whisper_tokenizer_multilingual(tok) == want[m].multilingual, "%s multilingual", name);

        /* the same ids as generation_config.json states */
        char rel[256];
        snprintf(rel, sizeof rel, "whisper-ref/models/%s/generation_config.json", name);
        json_t *gen = load_json(rel);
        if (gen) {
            CHECK(json_integer_value(json_object_get(gen, "eos_token_id")) == sp->eot, "%s eos", name);
            CHECK(json_integer_value(json_object_get(gen, "decoder_start_token_id")) == sp->sot, "%s sot", name);
            CHECK(json_integer_value(json_object_get(gen, "no_timestamps_token_id")) == sp->no_timestamps,
                  "%s no_timestamps_token_id", name);
            CHECK(json_integer_value(json_object_get(gen, "prev_sot_token_id")) == sp->sot_prev, "%s prev_sot", name);
            json_t *langs = json_object_get(gen, "lang_to_id");
            CHECK(json_object_size(langs) == (size_t)sp->n_languages, "%s lang_to_id size %zu", name,
                  json_object_size(langs));
            const char *key;
            json_t *value;
            json_object_foreach(langs, key, value) {
                char code[16];
                snprintf(code, sizeof code, "%.*s", (int)strlen(key) - 4, key + 2); /* "<|en|>" -> "en" */
                CHECK(whisper_tokenizer_language_token(tok, code) == (int)json_integer_value(value),
                      "%s language %s", name, code);
            }
            json_decref(gen);
        }

        /* special tokens as text; timestamps are written as <|t|> with t = 0.02 s steps */
        size_t len;
        const unsigned char *b = whisper_tokenizer_token_bytes(tok, sp->timestamp_begin + 1500, &len);
        CHECK(b && len == 9 && memcmp(b, "<|30.00|>", 9) == 0, "%s last timestamp text", name);
        b = whisper_tokenizer_token_bytes(tok, sp->eot, &len);
        CHECK(b && len == 13 && memcmp(b, "<|endoftext|>", 13) == 0, "%s eot text", name);
        CHECK(whisper_tokenizer_token_bytes(tok, sp->n_vocab, &len) == NULL, "%s id n_vocab out of range", name);
        CHECK(whisper_tokenizer_token_bytes(tok, -1, &len) == NULL, "%s id -1 out of range", name);
        int seq[] = {sp->sot, sp->transcribe, sp->no_timestamps, sp->timestamp_begin + 62, sp->eot};
        char *text = whisper_tokenizer_decode(tok, seq, 5, 0);
        CHECK(text && strcmp(text, "<|startoftranscript|><|transcribe|><|notimestamps|><|1.24|><|endoftext|>") == 0,
              "%s specials as text: %s", name, text ? text : "(null)");
        free(text);
        text = whisper_tokenizer_decode(tok, seq, 5, 1);
        CHECK(text && strcmp(text, "") == 0, "%s specials skipped: %s", name, text ? text : "(null)");
        free(text);
        text = whisper_tokenizer_decode_text(tok, seq, 5);
        CHECK(text && strcmp(text, "<|startoftranscript|><|transcribe|><|notimestamps|><|endoftext|>") == 0,
              "%s decode_text drops timestamps: %s", name, text ? text : "(null)");
        free(text);
    }
}

/* ---- decoding the reference outputs ---- */

static void test_fixture_result(const whisper_tokenizer *tok, const char *rel) {
    json_t *j = load_json(rel);
    if (!j) return;
    size_t n;
    int *ids = json_ids(json_object_get(j, "tokens"), &n);
    const char *want = json_string_value(json_object_get(j, "text"));
    CHECK(ids && want && n > 0, "%s has tokens and text", rel);
    if (ids && want) {
        /* the reference's result text: decode without timestamps, then strip() */
        char *text = whisper_tokenizer_decode_text(tok, ids, n);
        CHECK(text && strcmp(py_strip(text), want) == 0, "%s text differs:\n got  %s\n want %s", rel,
              text ? text : "(null)", want);
        free(text);
        /* with timestamps written as text the first timestamp shows up */
        const whisper_special_tokens *sp = whisper_tokenizer_specials(tok);
        if (ids[0] >= sp->timestamp_begin) {
            char mark[32];
            snprintf(mark, sizeof mark, "<|%.2f|>", (ids[0] - sp->timestamp_begin) * 0.02);
            text = whisper_tokenizer_decode(tok, ids, n, 0);
            CHECK(text && strncmp(text, mark, strlen(mark)) == 0, "%s starts with %s", rel, mark);
            free(text);
        }
    }
    free(ids);
    json_decref(j);
}

static void test_fixture_long(const whisper_tokenizer *tok, const char *rel) {
    json_t *j = load_json(rel);
    if (!j) return;
    json_t *segments = json_object_get(j, "segments");
    CHECK(json_array_size(segments) > 0, "%s has segments", rel);
    int *all = NULL;
    size_t n_all = 0;
    for (size_t s = 0; s < json_array_size(segments); s++) {
        json_t *seg = json_array_get(segments, s);
        size_t n;
        int *ids = json_ids(json_object_get(seg, "tokens"), &n);
        const char *want = json_string_value(json_object_get(seg, "text"));
        /* a segment's text: the tokens below eot, decoded (not stripped) */
        char *text = ids ? whisper_tokenizer_decode(tok, ids, n, 1) : NULL;
        CHECK(text && want && strcmp(text, want) == 0, "%s segment %zu:\n got  %s\n want %s", rel, s,
              text ? text : "(null)", want ? want : "(null)");
        free(text);
        int *grown = ids ? realloc(all, (n_all + n + 1) * sizeof *all) : NULL;
        if (grown) {
            all = grown;
            memcpy(all + n_all, ids, n * sizeof *ids);
            n_all += n;
        }
        free(ids);
    }
    /* the whole text: every segment's tokens decoded at once, timestamps dropped */
    const char *want = json_string_value(json_object_get(j, "text"));
    char *text = whisper_tokenizer_decode_text(tok, all, n_all);
    CHECK(text && want && strcmp(text, want) == 0, "%s whole text:\n got  %s\n want %s", rel, text ? text : "(null)",
          want ? want : "(null)");
    free(text);
    free(all);
    json_decref(j);
}

static void test_fixtures(whisper_tokenizer *const toks[N_MODELS]) {
    DIR *d = opendir(check_shared_path("whisper-ref/expected"));
    CHECK(d != NULL, "open whisper-ref/expected");
    if (!d) return;
    int dirs = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        const whisper_tokenizer *tok = NULL;
        for (int m = 0; m < N_MODELS; m++) {
            size_t len = strlen(model_names[m]);
            if (strncmp(e->d_name, model_names[m], len) == 0 && (e->d_name[len] == '\0' || e->d_name[len] == '+'))
                tok = toks[m];
        }
        CHECK(tok != NULL, "expected/%s names a fixture model", e->d_name);
        if (!tok) continue;
        dirs++;
        static const char *const results[] = {"greedy.json", "beam5.json", "greedy_timestamps.json"};
        char rel[512];
        for (int r = 0; r < 3; r++) {
            snprintf(rel, sizeof rel, "whisper-ref/expected/%s/%s", e->d_name, results[r]);
            test_fixture_result(tok, rel);
        }
        snprintf(rel, sizeof rel, "whisper-ref/expected/%s/long.json", e->d_name);
        FILE *f = fopen(check_shared_path(rel), "r");
        if (f) {
            fclose(f);
            test_fixture_long(tok, rel);
        }
    }
    closedir(d);
    CHECK(dirs >= 5, "found %d expected-output directories", dirs);
}

/* ---- encodings worked out by hand ---- */

static void test_hand_encodings(whisper_tokenizer *const toks[N_MODELS]) {
    /* Ids read from vocab.json (`grep -o '"Ġfire": [0-9]*' vocab.json`; Ġ is the
     * byte-to-unicode form of the space byte) and merge ranks from merges.txt
     * (`grep -n '^a n$' merges.txt`: rank = line number - 2, line 1 is "#version").
     *
     * A word that is a whole vocabulary entry is one token:
     *   " fire"  -> "Ġfire"  = 2046 (gpt2, .en) / 2610 (multilingual)
     *   "Hello"  -> "Hello"  = 15496 / (multilingual) 15947
     *   " world" -> "Ġworld" = 995 / 1002 */
    if (toks[EN]) {
        check_encoding(toks[EN], "en", " fire", (const int[]){2046}, 1);
        check_encoding(toks[EN], "en", "Hello world", (const int[]){15496, 995}, 2);
    }
    if (toks[V3]) {
        check_encoding(toks[V3], "v3", " fire", (const int[]){2610}, 1);
        check_encoding(toks[V3], "v3", "Hello world", (const int[]){15947, 1002}, 2);
    }
    if (toks[V2]) check_encoding(toks[V2], "v2", "Hello world", (const int[]){15947, 1002}, 2);
    /* "Caribbean" is not in either vocabulary; BPE from the letters C a r i b b e a n.
     * gpt2 merges.txt lines: "a n" 18, "a r" 29, "i b" 317, "b e" 1096, "C ar" 9660,
     * "be an" 14035 (there is no "Car ib", "ib be", "ib bean" merge), so:
     *   C a r i b b e an -> C ar i b b e an -> C ar ib b e an -> C ar ib be an
     *   -> Car ib be an -> Car ib bean = "Car" 9914, "ib" 571, "bean" 14289.
     * multilingual merges.txt lines: "a n" 28, "a r" 35, "b e" 396, "i b" 643,
     * "be an" 16843, "C ar" 24183 — a different order, the same pieces:
     *   "Car" 24437, "ib" 897, "bean" 17097. */
    if (toks[EN]) check_encoding(toks[EN], "en", "Caribbean", (const int[]){9914, 571, 14289}, 3);
    if (toks[V3]) check_encoding(toks[V3], "v3", "Caribbean", (const int[]){24437, 897, 17097}, 3);
    /* " pickney" (multilingual): lines "Ġ p" 26, "i c" 45, "ic k" 364, "n e" 462,
     * "Ġp ick" 1634, "ne y" 2143 -> "Ġpick" 1888 + "ney" 2397. */
    if (toks[V3]) check_encoding(toks[V3], "v3", " pickney", (const int[]){1888, 2397}, 2);
    /* Pre-tokenizer splits (gpt2): "a  b" -> "a" 64, " " ("Ġ") 220, " b" ("Ġb") 275
     * (the run of two spaces leaves its last space to the word); "I'm here" ->
     * "I" 40, "'m" 1101, " here" 994; "hello\n\nworld  " -> "hello" 31373, "\n" ("Ċ")
     * 198 twice (a single \n before a letter is its own piece), "world" 6894, and
     * the trailing "  " with no "Ġ Ġ" merge in gpt2 -> 220 220. */
    if (toks[EN]) {
        check_encoding(toks[EN], "en", "a  b", (const int[]){64, 220, 275}, 3);
        check_encoding(toks[EN], "en", "I'm here", (const int[]){40, 1101, 994}, 3);
        check_encoding(toks[EN], "en", "hello\n\nworld  ", (const int[]){31373, 198, 198, 6894, 220, 220}, 6);
        /* "Help" 22087, "!" 0, "ĠFire" 3764, "Ġat" 379, "Ġ12" 1105, "ĠHope" 13408, "ĠRoad" 5567 */
        check_encoding(toks[EN], "en", "Help! Fire at 12 Hope Road",
                       (const int[]){22087, 0, 3764, 379, 1105, 13408, 5567}, 7);
    }
    /* Chinese (multilingual): the UTF-8 bytes of 我的 merge into one token
     * "æĪĳçļĦ" 14200; 房 -> "æĪ¿" 38242, 子 -> "åŃĲ" 7626, 着 -> "çĿĢ" 20708,
     * 火 -> "çģ«" 26171, 了 -> "äºĨ" 2289. "José" -> "J" 41, "os" 329, "Ã©" (é) 526. */
    if (toks[V3]) {
        check_encoding(toks[V3], "v3", "我的房子着火了", (const int[]){14200, 38242, 7626, 20708, 26171, 2289}, 6);
        check_encoding(toks[V3], "v3", "José", (const int[]){41, 329, 526}, 3);
    }
}

/* ---- round trips ---- */

static void test_round_trips(whisper_tokenizer *const toks[N_MODELS]) {
    static const char *const texts[] = {
        "Mi granny cyaan breathe, di pickney dem a bawl",
        " Wah gwaan? Mi deh a Half Way Tree — di house a bun dung!",
        "José Martí, Zoë, Ñandú",
        "我的房子着火了",
        "Help 🚑🔥 now!! 👩🏽‍🚒",
        "Пожар! Φωτιά! حريق! आग लगी है! 불이야! שריפה",
        "  leading, trailing  \n\n tabs\t\there  \r\n",
        "I'm sure it's what we'll do; they're here, we've gone, he'd go. IT'S",
        "<|endoftext|><|en|> is plain text here",
        "12½ miles… «urgent» ½ ⅓ ²",
        "",
    };
    for (int m = 0; m < N_MODELS; m++) {
        const whisper_tokenizer *tok = toks[m];
        if (!tok) continue;
        int eot = whisper_tokenizer_specials(tok)->eot;
        for (size_t t = 0; t < sizeof texts / sizeof texts[0]; t++) {
            int *ids = NULL;
            size_t n = 0;
            int rc = whisper_tokenizer_encode(tok, texts[t], &ids, &n);
            CHECK(rc == 0 && ids != NULL, "%s encode \"%s\" rc=%d", model_names[m], texts[t], rc);
            int ordinary = 1;
            for (size_t i = 0; i < n; i++) ordinary &= ids[i] >= 0 && ids[i] < eot;
            CHECK(ordinary, "%s: \"%s\" encodes to ordinary tokens only", model_names[m], texts[t]);
            char *back = whisper_tokenizer_decode(tok, ids, n, 1);
            CHECK(back && strcmp(back, texts[t]) == 0, "%s round trip \"%s\" -> \"%s\"", model_names[m], texts[t],
                  back ? back : "(null)");
            free(back);
            free(ids);
        }
        /* a long piece without spaces exercises the merge heap */
        size_t big = 30000;
        char *s = malloc(big + 1);
        if (s) {
            for (size_t i = 0; i < big; i++) s[i] = "abracadabra"[i % 11];
            s[big] = '\0';
            int *ids = NULL;
            size_t n = 0;
            int rc = whisper_tokenizer_encode(tok, s, &ids, &n);
            CHECK(rc == 0 && n > 0 && n < big / 2, "%s long word: rc=%d n=%zu", model_names[m], rc, n);
            char *back = rc == 0 ? whisper_tokenizer_decode(tok, ids, n, 1) : NULL;
            CHECK(back && strcmp(back, s) == 0, "%s long word round trip", model_names[m]);
            free(back);
            free(ids);
            free(s);
        }
        int *ids = NULL;
        size_t n = 7;
        CHECK(whisper_tokenizer_encode(tok, "bad \xff byte", &ids, &n) == TRIDENT_EINVAL && ids == NULL && n == 0,
              "%s invalid UTF-8 input is rejected", model_names[m]);
    }
}

/* ---- UTF-8 with replacement, as bytes.decode("utf-8", errors="replace") ---- */

static void test_replacement(const whisper_tokenizer *tok) {
    /* id of each single byte */
    int byte_id[256];
    for (int b = 0; b < 256; b++) byte_id[b] = -1;
    int eot = whisper_tokenizer_specials(tok)->eot;
    for (int id = 0; id < eot; id++) {
        size_t len;
        const unsigned char *p = whisper_tokenizer_token_bytes(tok, id, &len);
        if (p && len == 1) byte_id[p[0]] = id;
    }
    int all = 1;
    for (int b = 0; b < 256; b++) all &= byte_id[b] >= 0;
    CHECK(all, "every byte has a token");
    if (!all) return;
    /* expected strings are what Python 3 prints for each byte string */
    static const struct {
        const char *bytes, *want;
    } cases[] = {
        {"\xe6\x88", "\xef\xbf\xbd"},                       /* truncated at the end: one U+FFFD */
        {"\xe6\x88" "A", "\xef\xbf\xbd" "A"},               /* truncated before ASCII */
        {"\xf0\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* F0 needs 90..BF next */
        {"\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* surrogate */
        {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"},           /* overlong */
        {"\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"}, /* > U+10FFFF */
        {"\xe0\x9f\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xf0\x9f\x98", "\xef\xbf\xbd"},                   /* truncated emoji */
        {"\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80"},           /* U+1F600 */
        {"\xff\xfe" "A\x80", "\xef\xbf\xbd\xef\xbf\xbd" "A\xef\xbf\xbd"},
        {"\xe0\xa0", "\xef\xbf\xbd"},
        {"\xf1\x80\x80\xe6\x88\xbf", "\xef\xbf\xbd\xe6\x88\xbf"}, /* 3 of 4 bytes, then 房 */
        {"\xc2", "\xef\xbf\xbd"},
        {"\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"},           /* U+10FFFF */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int ids[8];
        size_t n = strlen(cases[c].bytes);
        for (size_t i = 0; i < n; i++) ids[i] = byte_id[(unsigned char)cases[c].bytes[i]];
        char *text = whisper_tokenizer_decode(tok, ids, n, 1);
        CHECK(text && strcmp(text, cases[c].want) == 0, "replacement case %zu", c);
        free(text);
    }
    /* bytes split across tokens join before decoding: 火 = E7 81 AB */
    int split[] = {byte_id[0xe7], byte_id[0x81], byte_id[0xab]};
    char *text = whisper_tokenizer_decode(tok, split, 3, 1);
    CHECK(text && strcmp(text, "火") == 0, "split character joined");
    free(text);
}

/* ---- languages ---- */

static void test_languages(whisper_tokenizer *const toks[N_MODELS]) {
    const whisper_tokenizer *v2 = toks[V2], *v3 = toks[V3], *en = toks[EN];
    if (v3) {
        CHECK(strcmp(whisper_tokenizer_language_code(v3, 0), "en") == 0, "v3 code 0");
        CHECK(strcmp(whisper_tokenizer_language_code(v3, 1), "zh") == 0, "v3 code 1");
        CHECK(strcmp(whisper_tokenizer_language_code(v3, 99), "yue") == 0, "v3 code 99");
        CHECK(whisper_tokenizer_language_code(v3, 100) == NULL, "v3 code 100");
        CHECK(whisper_tokenizer_language_code(v3, -1) == NULL, "v3 code -1");
        CHECK(whisper_tokenizer_language_token(v3, "en") == 50259, "v3 en");
        CHECK(whisper_tokenizer_language_token(v3, "yue") == 50358, "v3 yue");
        CHECK(whisper_tokenizer_language_token(v3, "cantonese") == 50358, "v3 cantonese");
        CHECK(whisper_tokenizer_language_token(v3, "English") == 50259, "v3 English");
        CHECK(whisper_tokenizer_language_token(v3, "EN") == 50259, "v3 EN");
        CHECK(whisper_tokenizer_language_token(v3, "mandarin") == 50260, "v3 mandarin alias");
        CHECK(whisper_tokenizer_language_token(v3, "haitian creole") == whisper_tokenizer_language_token(v3, "ht"),
              "v3 haitian creole");
        CHECK(whisper_tokenizer_language_token(v3, "xx") == -1, "v3 unknown code");
        CHECK(whisper_tokenizer_language_token(v3, "") == -1, "v3 empty code");
        CHECK(whisper_tokenizer_language_token(v3, NULL) == -1, "v3 NULL code");
    }
    if (v2) {
        CHECK(strcmp(whisper_tokenizer_language_code(v2, 98), "su") == 0, "v2 code 98");
        CHECK(whisper_tokenizer_language_code(v2, 99) == NULL, "v2 has 99 languages");
        CHECK(whisper_tokenizer_language_token(v2, "yue") == -1, "v2 has no yue");
        CHECK(whisper_tokenizer_language_token(v2, "es") == 50262, "v2 es");
    }
    if (en) {
        CHECK(whisper_tokenizer_language_code(en, 0) == NULL, "en has no languages");
        CHECK(whisper_tokenizer_language_token(en, "en") == -1, "en: no language token");
    }
}

/* ---- the non-speech set ---- */

static void test_non_speech(whisper_tokenizer *const toks[N_MODELS]) {
    for (int m = 0; m < N_MODELS; m++) {
        if (!toks[m]) continue;
        int *ids = NULL;
        size_t n = 0;
        int rc = whisper_tokenizer_non_speech_tokens(toks[m], &ids, &n);
        CHECK(rc == 0, "%s non_speech rc=%d", model_names[m], rc);
        char rel[256];
        snprintf(rel, sizeof rel, "whisper-ref/models/%s/generation_config.json", model_names[m]);
        json_t *gen = load_json(rel);
        size_t n_want = 0;
        int *want = gen ? json_ids(json_object_get(gen, "suppress_tokens"), &n_want) : NULL;
        CHECK(want && n_want > 50, "%s suppress_tokens present", model_names[m]);
        CHECK(rc == 0 && want && ids_equal(ids, n, want, n_want),
              "%s non_speech (%zu ids) equals generation_config suppress_tokens (%zu ids)", model_names[m], n,
              n_want);
        for (size_t i = 0; rc == 0 && want && i < n && i < n_want; i++)
            if (ids[i] != want[i]) {
                CHECK(0, "%s first difference at %zu: %d vs %d", model_names[m], i, ids[i], want[i]);
                break;
            }
        free(want);
        free(ids);
        json_decref(gen);
    }
}

int main(void) {
    whisper_tokenizer *toks[N_MODELS];
    for (int m = 0; m < N_MODELS; m++) toks[m] = load_model(model_names[m]);
    test_specials(toks);
    test_fixtures(toks);
    test_hand_encodings(toks);
    test_round_trips(toks);
    if (toks[V3]) test_replacement(toks[V3]);
    if (toks[EN]) test_replacement(toks[EN]);
    test_languages(toks);
    test_non_speech(toks);
    for (int m = 0; m < N_MODELS; m++) whisper_tokenizer_free(toks[m]);
    return check_summary();
}
