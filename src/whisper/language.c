/* language.c — language identification from the first decoder step (see
 * language.h). The probabilities are a softmax over the language tokens'
 * logits only, computed in double. */
#include "whisper/language.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/error.h"
#include "whisper/decoder.h"
#include "whisper/decoding.h"

int whisper_language_detect(whisper_session *s, whisper_result *r, char *err, size_t err_size) {
    const whisper_model *m = s->model;
    const whisper_special_tokens *sp = whisper_tokenizer_specials(m->tok);
    int n_vocab = m->hp.n_vocab, n_lang = sp->n_languages, lb = sp->lang_begin;
    if (!m->multilingual || lb < 0 || n_lang <= 0 || lb + n_lang > n_vocab)
        return error_set(err, err_size, TRIDENT_EUNSUPPORTED, "%s has no language tokens; it cannot detect a language",
                         m->name);
    float *logits = malloc((size_t)n_vocab * sizeof *logits);
    int *order = malloc((size_t)n_lang * sizeof *order);
    r->language_probs = malloc((size_t)n_lang * sizeof *r->language_probs);
    if (!logits || !order || !r->language_probs) {
        free(logits);
        free(order);
        return error_set(err, err_size, TRIDENT_ENOMEM, "out of memory detecting the language");
    }
    whisper_decoder_begin(s);
    s->kv.n = 0;
    int sot = sp->sot;
    int rc = whisper_decoder_forward(s, &s->kv, &sot, 1, 0, logits);
    if (rc) {
        free(logits);
        free(order);
        return error_set(err, err_size, rc, "the decoder failed detecting the language");
    }
    double lse = whisper_log_sum_exp(logits + lb, n_lang);
    /* sort language indices by logit, descending; stable (insertion sort on a short list) */
    for (int i = 0; i < n_lang; i++) {
        int j = i;
        while (j > 0 && logits[lb + order[j - 1]] < logits[lb + i]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    for (int i = 0; i < n_lang; i++) {
        const char *code = whisper_tokenizer_language_code(m->tok, order[i]);
        snprintf(r->language_probs[i].code, sizeof r->language_probs[i].code, "%s", code ? code : "?");
        r->language_probs[i].prob = exp((double)logits[lb + order[i]] - lse);
    }
    r->n_language_probs = n_lang;
    snprintf(r->language, sizeof r->language, "%s", r->language_probs[0].code);
    free(logits);
    free(order);
    return 0;
}
