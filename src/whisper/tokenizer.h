/* tokenizer.h — Whisper's byte-level BPE (private to src/whisper/).
 *
 * Reads vocab.json + merges.txt + added_tokens.json from a Hugging Face Whisper
 * directory. Encodes text as the reference tokenizer does (GPT-2 pre-tokenizer
 * regex, byte-to-unicode mapping, BPE by merge rank) and decodes token ids back
 * to UTF-8 exactly as the reference does (invalid byte sequences become U+FFFD).
 * Immutable after load; safe to share between threads. */
#ifndef TRIDENT_WHISPER_TOKENIZER_H
#define TRIDENT_WHISPER_TOKENIZER_H

#include <stddef.h>

typedef struct whisper_tokenizer whisper_tokenizer;

/* Special-token ids (-1 where the vocabulary has none). */
typedef struct {
    int eot;             /* <|endoftext|> */
    int sot;             /* <|startoftranscript|> */
    int translate, transcribe;
    int sot_lm, sot_prev;
    int no_speech;       /* <|nospeech|> (v3) or <|nocaptions|> (older) */
    int no_timestamps;
    int timestamp_begin; /* <|0.00|>; timestamp k is timestamp_begin + k (0.02 s steps) */
    int lang_begin;      /* first language token (<|en|>); -1 for English-only models */
    int n_languages;     /* language tokens present (0 for .en models) */
    int n_vocab;         /* total ids incl. special tokens */
} whisper_special_tokens;

/* Loads the tokenizer from dir. Returns 0 or a TRIDENT_E* code with a message
 * naming the file. The caller owns *out (whisper_tokenizer_free). */
int whisper_tokenizer_load(const char *dir, whisper_tokenizer **out, char *err, size_t err_size);
void whisper_tokenizer_free(whisper_tokenizer *tok);

/* The special-token ids; the struct belongs to the tokenizer (valid while it lives). */
const whisper_special_tokens *whisper_tokenizer_specials(const whisper_tokenizer *tok);
/* 1 for multilingual vocabularies, 0 for English-only. */
int whisper_tokenizer_multilingual(const whisper_tokenizer *tok);

/* Encodes UTF-8 text (no special tokens are recognised in it). Returns 0 or a
 * TRIDENT_E* code (TRIDENT_EINVAL when text is not valid UTF-8); the caller owns
 * *ids (free()), which is non-NULL on success even when *n_ids is 0. */
int whisper_tokenizer_encode(const whisper_tokenizer *tok, const char *text, int **ids, size_t *n_ids);

/* Decodes ids to UTF-8 as the reference does: the bytes of all tokens are joined
 * and then decoded with replacement characters. Special tokens (ids >= eot) are
 * skipped when skip_special is 1, otherwise written as their text ("<|en|>",
 * timestamps as "<|1.24|>"). Returns a string the caller frees, or NULL on OOM. */
char *whisper_tokenizer_decode(const whisper_tokenizer *tok, const int *ids, size_t n_ids, int skip_special);
/* Decodes ids as the reference's Tokenizer.decode does (the text of greedy /
 * beam results and of long-form transcripts): timestamp tokens (ids >=
 * timestamp_begin) are dropped, other special tokens are written as their text,
 * then the joined bytes are decoded with replacement characters. Ids out of range
 * are skipped. Returns a string the caller frees, or NULL on OOM. */
char *whisper_tokenizer_decode_text(const whisper_tokenizer *tok, const int *ids, size_t n_ids);

/* The raw bytes of one token (not NUL-terminated: *len bytes), or NULL for an id
 * out of range. The pointer belongs to the tokenizer. */
const unsigned char *whisper_tokenizer_token_bytes(const whisper_tokenizer *tok, int id, size_t *len);

/* Language codes in token order ("en", "zh", ... as in the reference's LANGUAGES);
 * index i corresponds to token lang_begin + i. NULL when out of range. The
 * string belongs to the tokenizer. */
const char *whisper_tokenizer_language_code(const whisper_tokenizer *tok, int index);
/* Token id of a language code ("en"), or -1. Also accepts full names ("english"). */
int whisper_tokenizer_language_token(const whisper_tokenizer *tok, const char *code);

/* The reference's non_speech_tokens set (symbols and their space-prefixed forms
 * that should not be predicted). Returns 0 or TRIDENT_ENOMEM; caller frees *ids. */
int whisper_tokenizer_non_speech_tokens(const whisper_tokenizer *tok, int **ids, size_t *n_ids);

#endif
