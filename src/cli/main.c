/* main.c — `trident COMMAND ...`: dispatch to the subcommands in this directory. */
#include <stdio.h>
#include <string.h>

#include "audio/audio.h"
#include "base/log.h"
#include "cli/cli.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} cli_command;

static const cli_command commands[] = {
    {"serve", cli_serve, "run the HTTP + WebSocket triage server"},
    {"transcribe", cli_transcribe, "transcribe a recording with Whisper (+ LoRA)"},
    {"analyze", cli_analyze, "run the whole triage pipeline on a recording or a transcript"},
    {"model-gen", cli_model_gen, "write a random-weight Whisper checkpoint at a real size (for benchmarks)"},
    {"bench", cli_bench, "measure load, mel, encoder and decoder speed"},
    {"eval-content", cli_eval_content, "score content extraction + triage on a labelled transcript corpus"},
    {"token", cli_token, "add, list or revoke the API tokens `serve` checks"},
};

static void usage(FILE *out) {
    fprintf(out, "TRIDENT %s — emergency-call triage\n\nusage: trident COMMAND [OPTIONS]\n\ncommands:\n",
            TRIDENT_VERSION);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-13s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n`trident COMMAND --help` describes each command's options.\n");
}

int main(int argc, char **argv) {
    log_level_from_env();
    /* the server's audio decoder process (audio/isolate.c), started from this binary */
    if (argc > 1 && strcmp(argv[1], AUDIO_DECODER_ARG) == 0) return audio_decoder_main(argc, argv);
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("trident %s\n", TRIDENT_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "trident: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
