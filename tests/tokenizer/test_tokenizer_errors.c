/* test_tokenizer_errors.c — the tokenizer loader on a small synthetic Whisper
 * tokenizer written to a temporary directory: the good case (incl. timestamps
 * derived when added_tokens.json does not list them) and every kind of broken
 * input (missing files, malformed JSON, wrong types, bad merges, id gaps), each a
 * clear error and never a crash. Runs under AddressSanitizer in CI (label asan). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "check.h"
#include "whisper/tokenizer.h"
#include "whisper/utf8.h"

static char dir[64];

static void put_file(const char *name, const char *content) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL, "create %s", path);
    if (!f) return;
    fputs(content, f);
    fclose(f);
}

static void remove_file(const char *name) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    unlink(path);
}

/* The GPT-2 byte-to-unicode form of byte b, UTF-8 encoded into out. */
static void byte_key(int b, char out[8]) {
    int printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
    uint32_t cp = (uint32_t)b;
    if (!printable) {
        cp = 256;
        for (int x = 0; x < b; x++)
            if (!((x >= 33 && x <= 126) || (x >= 161 && x <= 172) || x >= 174)) cp++;
    }
    size_t n = whisper_utf8_encode(cp, (unsigned char *)out);
    out[n] = '\0';
}

/* vocab.json: the 256 bytes as ids 0..255, then "he" 256, "ll" 257, "hell" 258,
 * "hello" 259; skip_byte (or -1) is left out; extra_key/extra_id add one entry. */
static void put_vocab(int skip_byte, const char *extra_key, json_t *extra_value) {
    json_t *v = json_object();
    for (int b = 0; b < 256; b++) {
        if (b == skip_byte) continue;
        char key[8];
        byte_key(b, key);
        json_object_set_new(v, key, json_integer(b));
    }
    json_object_set_new(v, "he", json_integer(256));
    json_object_set_new(v, "ll", json_integer(257));
    json_object_set_new(v, "hell", json_integer(258));
    json_object_set_new(v, "hello", json_integer(259));
    if (extra_key) json_object_set_new(v, extra_key, extra_value);
    char *text = json_dumps(v, JSON_COMPACT);
    CHECK(text != NULL, "dump vocab");
    if (text) put_file("vocab.json", text);
    free(text);
    json_decref(v);
}

static const char *const good_merges = "#version: 0.2\nh e\nl l\nhe ll\nhell o\n";
/* no timestamps listed: they must be derived from <|notimestamps|> + 1 */
static const char *const good_added =
    "{\"<|endoftext|>\": 260, \"<|startoftranscript|>\": 261, \"<|translate|>\": 262, \"<|transcribe|>\": 263,"
    " \"<|startoflm|>\": 264, \"<|startofprev|>\": 265, \"<|nocaptions|>\": 266, \"<|notimestamps|>\": 267}";

static void put_good(void) {
    put_vocab(-1, NULL, NULL);
    put_file("merges.txt", good_merges);
    put_file("added_tokens.json", good_added);
}

/* Loads dir and expects code with a message containing what (when non-NULL). */
static void expect_error(const char *label, int code, const char *what) {
    char err[TRIDENT_ERR_SIZE] = "";
    whisper_tokenizer *tok = (whisper_tokenizer *)&tok; /* must be reset to NULL */
    int rc = whisper_tokenizer_load(dir, &tok, err, sizeof err);
    CHECK(rc == code, "%s: rc=%d (want %d) %s", label, rc, code, err);
    CHECK(code == 0 || tok == NULL, "%s: no tokenizer on error", label);
    CHECK(!what || strstr(err, what) != NULL, "%s: message \"%s\" mentions \"%s\"", label, err, what);
    if (rc == 0) whisper_tokenizer_free(tok);
}

static void test_good(void) {
    put_good();
    char err[TRIDENT_ERR_SIZE] = "";
    whisper_tokenizer *tok = NULL;
    int rc = whisper_tokenizer_load(dir, &tok, err, sizeof err);
    CHECK(rc == 0, "synthetic tokenizer loads: %s", err);
    if (rc) return;
    const whisper_special_tokens *sp = whisper_tokenizer_specials(tok);
    CHECK(sp->eot == 260 && sp->sot == 261 && sp->translate == 262 && sp->transcribe == 263, "specials");
    CHECK(sp->sot_lm == 264 && sp->sot_prev == 265 && sp->no_speech == 266 && sp->no_timestamps == 267,
          "specials 2");
    CHECK(sp->timestamp_begin == 268, "timestamp_begin derived: %d", sp->timestamp_begin);
    CHECK(sp->n_vocab == 268 + 1501, "n_vocab %d", sp->n_vocab);
    CHECK(sp->lang_begin == -1 && sp->n_languages == 0 && !whisper_tokenizer_multilingual(tok), "no languages");
    size_t len;
    const unsigned char *b = whisper_tokenizer_token_bytes(tok, 268 + 50, &len);
    CHECK(b && len == 8 && memcmp(b, "<|1.00|>", 8) == 0, "derived timestamp text");
    b = whisper_tokenizer_token_bytes(tok, 268 + 1500, &len);
    CHECK(b && len == 9 && memcmp(b, "<|30.00|>", 9) == 0, "last derived timestamp text");
    b = whisper_tokenizer_token_bytes(tok, 32, &len);
    CHECK(b && len == 1 && b[0] == ' ', "byte token 32 is the space byte");

    /* "hello" is one vocabulary entry; "shell": h e -> he, l l -> ll, he ll -> hell */
    int *ids = NULL;
    size_t n = 0;
    rc = whisper_tokenizer_encode(tok, "hello shell", &ids, &n);
    CHECK(rc == 0 && n == 4 && ids[0] == 259 && ids[1] == ' ' && ids[2] == 's' && ids[3] == 258,
          "encode hello shell: n=%zu", n);
    char *text = rc == 0 ? whisper_tokenizer_decode(tok, ids, n, 1) : NULL;
    CHECK(text && strcmp(text, "hello shell") == 0, "decode hello shell");
    free(text);
    free(ids);
    int seq[] = {261, 268 + 50, 259, 268 + 75, 260, -5, 99999};
    text = whisper_tokenizer_decode(tok, seq, 7, 0);
    CHECK(text && strcmp(text, "<|startoftranscript|><|1.00|>hello<|1.50|><|endoftext|>") == 0, "as text: %s",
          text ? text : "(null)");
    free(text);
    text = whisper_tokenizer_decode_text(tok, seq, 7);
    CHECK(text && strcmp(text, "<|startoftranscript|>hello<|endoftext|>") == 0, "decode_text: %s",
          text ? text : "(null)");
    free(text);
    int *ns = NULL;
    rc = whisper_tokenizer_non_speech_tokens(tok, &ns, &n);
    CHECK(rc == 0 && n > 0, "non_speech on a byte-only vocabulary");
    free(ns);
    whisper_tokenizer_free(tok);
    whisper_tokenizer_free(NULL);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/trident-tok-XXXXXX");
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");

    test_good();

    remove_file("vocab.json");
    expect_error("missing vocab.json", TRIDENT_ENOTFOUND, "vocab.json");
    put_file("vocab.json", "{\"a\": 1, ");
    expect_error("truncated vocab.json", TRIDENT_EFORMAT, "vocab.json");
    put_file("vocab.json", "");
    expect_error("empty vocab.json", TRIDENT_EFORMAT, "vocab.json");
    put_file("vocab.json", "[1, 2, 3]");
    expect_error("vocab.json not an object", TRIDENT_EFORMAT, "vocab.json");
    put_vocab(-1, "xyz", json_string("7"));
    expect_error("vocab value not an integer", TRIDENT_EFORMAT, "xyz");
    put_vocab(-1, "xyz", json_integer(-3));
    expect_error("negative id", TRIDENT_EFORMAT, "xyz");
    put_vocab(-1, "xyz", json_integer(2000000000));
    expect_error("absurd id", TRIDENT_EFORMAT, "xyz");
    put_vocab(-1, "\xe2\x82\xac", json_integer(100)); /* "€" is not a byte-level character */
    expect_error("character outside the byte mapping", TRIDENT_EFORMAT, "vocab.json");
    put_vocab('z', NULL, NULL);
    expect_error("a byte without a token", TRIDENT_EFORMAT, "0x7a");
    put_vocab(-1, "xyz", json_integer(300));
    expect_error("ordinary token above endoftext", TRIDENT_EFORMAT, "xyz");
    put_good();

    remove_file("added_tokens.json");
    expect_error("missing added_tokens.json", TRIDENT_ENOTFOUND, "added_tokens.json");
    put_file("added_tokens.json", "{\"<|endoftext|>\": 260,,}");
    expect_error("malformed added_tokens.json", TRIDENT_EFORMAT, "added_tokens.json");
    put_file("added_tokens.json", "{\"<|endoftext|>\": 260}");
    expect_error("no startoftranscript", TRIDENT_EFORMAT, "startoftranscript");
    put_file("added_tokens.json", "{\"<|endoftext|>\": 260, \"<|startoftranscript|>\": 259}");
    expect_error("special id clashes with vocab", TRIDENT_EFORMAT, "added_tokens.json");
    put_file("added_tokens.json", "{\"<|endoftext|>\": 260, \"<|startoftranscript|>\": 262}");
    expect_error("gap in the ids", TRIDENT_EFORMAT, "no token for id 261");
    put_good();

    remove_file("merges.txt");
    expect_error("missing merges.txt", TRIDENT_ENOTFOUND, "merges.txt");
    put_file("merges.txt", "#version: 0.2\nh e\nhq\n");
    expect_error("merge line without a space", TRIDENT_EFORMAT, "line 3");
    put_file("merges.txt", "#version: 0.2\nh e\nh q\n");
    expect_error("merge whose result is not a token", TRIDENT_EFORMAT, "line 3");
    put_file("merges.txt", "#version: 0.2\nh e\nzz q\n");
    expect_error("merge of an unknown token", TRIDENT_EFORMAT, "merges.txt");
    put_file("merges.txt", "#version: 0.2\nh e x\n");
    expect_error("merge line with three parts", TRIDENT_EFORMAT, "line 2");
    put_file("merges.txt", "");
    expect_error("empty merges.txt is valid (no merges)", 0, NULL);
    put_good();

    char saved[64];
    snprintf(saved, sizeof saved, "%s", dir);
    snprintf(dir, sizeof dir, "/nonexistent/trident-tokenizer");
    expect_error("missing directory", TRIDENT_ENOTFOUND, "/nonexistent/trident-tokenizer");
    snprintf(dir, sizeof dir, "%s", saved);

    remove_file("vocab.json");
    remove_file("merges.txt");
    remove_file("added_tokens.json");
    rmdir(dir);
    return check_summary();
}
