/* model.h — a loaded Whisper model: hyper-parameters, weight views, tokenizer,
 * mel filter bank and the decoding constants derived from them (private to
 * src/whisper/; other modules see the opaque whisper_model of engine.h).
 *
 * Weights are views into the memory-mapped safetensors; only LoRA-merged
 * matrices, the small fp32 vectors (biases, norms, positional embeddings of
 * fp16/bf16 checkpoints) and, when loaded with WHISPER_WEIGHTS_Q8, the 8-bit
 * copies of the decoder's linear layers and of the vocabulary projection
 * (quant.h) and the fp16 copies of fp32 matrices that stay 16-bit (the token
 * embedding, hard-attention inputs) are owned.
 * Immutable after whisper_model_load. */
#ifndef TRIDENT_WHISPER_MODEL_H
#define TRIDENT_WHISPER_MODEL_H

#include <stddef.h>

#include "whisper/engine.h"
#include "whisper/kernels.h"
#include "whisper/mel.h"
#include "whisper/safetensors.h"
#include "whisper/tokenizer.h"

#define WHISPER_LN_EPS 1e-5f

typedef struct {
    int n_mels, n_vocab, d_model;
    int n_audio_ctx, n_text_ctx;       /* 1500, 448 */
    int enc_layers, dec_layers, enc_heads, dec_heads, enc_ffn, dec_ffn;
} whisper_hparams;

typedef struct {
    whisper_matrix w;
    const float *b;  /* NULL: no bias (k_proj) */
} whisper_linear_weights;

typedef struct {
    const float *g, *b;
} whisper_norm_weights;

typedef struct {
    whisper_norm_weights ln;
    whisper_linear_weights q, k, v, o;
} whisper_attn_weights;

typedef struct {
    whisper_attn_weights self;
    whisper_attn_weights cross;  /* decoder layers only */
    whisper_norm_weights ln_mlp;
    whisper_linear_weights fc1, fc2;
} whisper_layer_weights;

/* A named linear layer (PEFT module name, e.g. "model.encoder.layers.0.self_attn.q_proj"). */
typedef struct {
    char name[96];
    whisper_linear_weights *lin;
    int layer;  /* layer index */
} whisper_module;

struct whisper_model {
    whisper_hparams hp;
    char *name, *lora_name;
    safetensors *st;
    whisper_tokenizer *tok;
    whisper_mel *mel;
    int multilingual;

    whisper_matrix conv1, conv2;   /* [d][n_mels·3], [d][d·3] (PyTorch's [out][in][k]) */
    const float *conv1_b, *conv2_b;
    const float *enc_pos;          /* [n_audio_ctx][d] */
    whisper_layer_weights *enc, *dec;
    whisper_norm_weights enc_ln, dec_ln;
    whisper_matrix embed_tokens;   /* [n_vocab][d]; also the (tied) output projection */
    whisper_matrix proj_q8;        /* q8 models: an 8-bit copy of embed_tokens for the logits'
                                      first pass (whisper_q8_linear_top_exact); data NULL otherwise */
    const float *dec_pos;          /* [n_text_ctx][d] */

    whisper_module *modules;       /* every linear layer, for LoRA targeting */
    int n_modules;

    int *suppress_tokens;          /* sorted: non-speech set + control tokens */
    size_t n_suppress;
    int *blank_tokens;             /* encode(" ") + eot: suppressed at the first sampled step */
    size_t n_blank;

    int n_threads;
    whisper_weights weights;       /* as loaded; WHISPER_WEIGHTS_Q8 sessions also keep
                                      the cross-attention keys/values in fp16 */
    double load_ms;
    size_t weight_bytes;

    void **owned;                  /* owned copies (merged matrices, fp32 vectors) */
    size_t n_owned, cap_owned;
};

/* Allocates n floats that the model owns (freed with it). NULL on OOM. */
float *whisper_model_alloc(whisper_model *m, size_t n);

/* The linear layer called name (PEFT module name), or NULL. */
whisper_module *whisper_model_module_find(whisper_model *m, const char *name);

#endif
