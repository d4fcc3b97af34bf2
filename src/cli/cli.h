/*
 * cli.h - the subcommands of the handoff program, one file each (src/cli/cmd_*.c).
 *
 * Each takes the arguments after its own name (argv[0] is the subcommand's name) and returns
 * the process exit status: 0 on success, 1 on a failed run, 2 on a usage error. Errors go to
 * stderr, prefixed "handoff <subcommand>: ".
 */
#ifndef HANDOFF_CLI_H
#define HANDOFF_CLI_H

int cli_run(int argc, char **argv);
int cli_trace(int argc, char **argv);
int cli_reproduce(int argc, char **argv);
int cli_sweep(int argc, char **argv);
int cli_calibrate(int argc, char **argv);
int cli_emu(int argc, char **argv);

#endif
