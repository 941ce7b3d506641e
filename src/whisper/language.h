/* language.h — spoken-language identification (private to src/whisper/). */
#ifndef TRIDENT_WHISPER_LANGUAGE_H
#define TRIDENT_WHISPER_LANGUAGE_H

#include "whisper/session.h"

/* As the official detect_language: one decoder step from <|startoftranscript|>
 * over the window whose features are in s->enc_out, every token except the
 * language tokens masked, softmax. Fills r->language_probs (all languages of the
 * model, sorted by probability, descending; ties in token order) and
 * r->language with the most likely code. The result owns the array
 * (whisper_result_free). Returns 0 or a TRIDENT_E* code (TRIDENT_EUNSUPPORTED
 * for a model without language tokens). */
int whisper_language_detect(whisper_session *s, whisper_result *r, char *err, size_t err_size);

#endif
