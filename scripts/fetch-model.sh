#!/bin/sh
# fetch-model.sh — downloads a Hugging Face Whisper checkpoint (and optionally a
# PEFT LoRA adapter) in the layout `trident transcribe --model/--lora` reads.
#
#   scripts/fetch-model.sh NAME [ADAPTER_REPO] [DEST]
#
# NAME is an official size (tiny, base.en, small, medium, large-v2, large-v3,
# large-v3-turbo, ...) meaning openai/whisper-NAME, or any "owner/repo"
# (e.g. distil-whisper/distil-large-v3). ADAPTER_REPO ("owner/repo", or "-" for
# none) is a PEFT adapter repository. DEST defaults to models/; the model goes to
# DEST/<repo name> and the adapter to DEST/<adapter name>.
# HF_TOKEN is sent when set (gated or private repositories); HF_ENDPOINT
# overrides https://huggingface.co. Needs curl. Safetensors only: a repository
# that ships only pytorch_model.bin must be converted first.
set -eu

usage() {
    sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
    exit "${1:-2}"
}

[ $# -ge 1 ] || usage 2
case "$1" in -h|--help) usage 0 ;; esac
name=$1
adapter=${2:--}
dest=${3:-models}
endpoint=${HF_ENDPOINT:-https://huggingface.co}
command -v curl >/dev/null 2>&1 || { echo "fetch-model: curl is required" >&2; exit 1; }

case "$name" in
    */*) repo=$name ;;
    *) repo=openai/whisper-$name ;;
esac

# fetch REPO FILE OUTDIR [optional] — 0 on success, 1 when optional and absent
fetch() {
    url="$endpoint/$1/resolve/main/$2"
    out="$3/$2"
    if [ -n "${HF_TOKEN:-}" ]; then
        code=$(curl -sSL -w '%{http_code}' -H "Authorization: Bearer $HF_TOKEN" -o "$out.part" "$url") || code=000
    else
        code=$(curl -sSL -w '%{http_code}' -o "$out.part" "$url") || code=000
    fi
    if [ "$code" = 200 ]; then
        mv "$out.part" "$out"
        echo "  $2"
        return 0
    fi
    rm -f "$out.part"
    if [ "${4:-}" = optional ] && [ "$code" = 404 ]; then return 1; fi
    echo "fetch-model: $url: HTTP $code" >&2
    exit 1
}

model_dir=$dest/${repo##*/}
mkdir -p "$model_dir"
echo "Fetching $repo into $model_dir"
for f in config.json generation_config.json preprocessor_config.json vocab.json merges.txt \
         added_tokens.json special_tokens_map.json tokenizer_config.json normalizer.json; do
    case $f in
        config.json|vocab.json|merges.txt) fetch "$repo" "$f" "$model_dir" ;;
        *) fetch "$repo" "$f" "$model_dir" optional || true ;;
    esac
done
if ! fetch "$repo" model.safetensors "$model_dir" optional; then
    if fetch "$repo" model.safetensors.index.json "$model_dir" optional; then
        for shard in $(grep -o '"[^"/]*\.safetensors"' "$model_dir/model.safetensors.index.json" | tr -d '"' | sort -u); do
            fetch "$repo" "$shard" "$model_dir"
        done
    else
        echo "fetch-model: $repo has neither model.safetensors nor model.safetensors.index.json" \
             "(convert its pytorch_model.bin to safetensors first)" >&2
        exit 1
    fi
fi

if [ "$adapter" != - ]; then
    adapter_dir=$dest/${adapter##*/}
    mkdir -p "$adapter_dir"
    echo "Fetching adapter $adapter into $adapter_dir"
    fetch "$adapter" adapter_config.json "$adapter_dir"
    if ! fetch "$adapter" adapter_model.safetensors "$adapter_dir" optional; then
        echo "fetch-model: $adapter has no adapter_model.safetensors; convert its adapter_model.bin with" \
             "safetensors.torch.save_file and place it in $adapter_dir" >&2
        exit 1
    fi
    echo "Done: trident transcribe --model $model_dir --lora $adapter_dir FILE"
else
    echo "Done: trident transcribe --model $model_dir FILE"
fi
