/* cli.h — the trident subcommands. Each takes the arguments after its name
 * (argv[0] is the subcommand) and returns the process exit status. */
#ifndef TRIDENT_CLI_H
#define TRIDENT_CLI_H

int cli_serve(int argc, char **argv);
int cli_transcribe(int argc, char **argv);
int cli_analyze(int argc, char **argv);
int cli_model_gen(int argc, char **argv);
int cli_bench(int argc, char **argv);
int cli_eval_content(int argc, char **argv);
int cli_token(int argc, char **argv);

#endif
