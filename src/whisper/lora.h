/* lora.h — PEFT LoRA adapters merged into a model at load (private to src/whisper/).
 *
 * Reads adapter_config.json + adapter_model.safetensors and, for every targeted
 * linear layer, replaces its weight view by an owned fp32 copy W' = W + scale·B·A
 * (scale = alpha / r, or alpha / sqrt(r) with use_rslora; rank_pattern and
 * alpha_pattern override r and alpha per module; target_modules as a list of
 * name suffixes or a regex string that must match the whole module name;
 * layers_to_transform restricts the layer indices). fan_in_fan_out is ignored as
 * PEFT does for torch.nn.Linear layers (with a warning). */
#ifndef TRIDENT_WHISPER_LORA_H
#define TRIDENT_WHISPER_LORA_H

#include <stddef.h>

typedef struct whisper_model whisper_model;

/* Merges the adapter in dir into m. Returns 0 or a TRIDENT_E* code with a message
 * naming the offending file, field or tensor; m may be partly merged on error
 * (the caller then frees it). */
int whisper_lora_apply(whisper_model *m, const char *dir, char *err, size_t err_size);

#endif
