/*
 * cli.h - the subcommands of the handoff program, one file each (src/cli/cmd_*.c), and the few
 * things they share (src/cli/cli.c).
 *
 * One convention for every command:
 *   - Options are parsed with getopt_long: `--opt value` and `--opt=value` alike, short forms
 *     where a command has them, options before or after the positional arguments.
 *   - Each command takes the arguments after its own name (argv[0] is the subcommand's name) and
 *     returns the process exit status: 0 on success, 1 on a failed run, 2 on a usage error.
 *   - Every message to stderr starts with the command's name and a colon: "handoff run: ...",
 *     "handoff sweep run: ...". Progress lines redrawn in place ('\r', escape codes) appear only
 *     when stderr is a terminal.
 *   - main.c checks that standard output was written completely once the command returns.
 */
#ifndef HANDOFF_CLI_H
#define HANDOFF_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

int cli_run(int argc, char **argv);
int cli_trace(int argc, char **argv);
int cli_reproduce(int argc, char **argv);
int cli_sweep(int argc, char **argv);
int cli_calibrate(int argc, char **argv);
int cli_emu(int argc, char **argv);

/*
 * Reports the option getopt_long just refused and returns 2, the exit status of a usage error.
 * ch is what getopt_long returned ('?' for an unknown option or a value given to an option that
 * takes none, ':' for a missing value; the option string must start with ':' and opterr be 0),
 * argv and opts what it was given. The message names the option as the user wrote it, e.g.
 * "handoff run: unknown option '--bogus' (see handoff run --help)" or
 * "handoff run: --json needs a value". prog is the command's name ("handoff run").
 */
int cli_opt_error(const char *prog, int ch, char *const argv[], const struct option *opts);

/*
 * Parses s as a plain unsigned decimal (digits only: no sign, no blanks, no base prefix) in
 * [lo, hi]. Returns 0 and *out, or -1 leaving *out alone; the caller names the option.
 */
int cli_parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);

/* Whether stderr is a terminal: only then do progress lines redraw themselves in place. */
bool cli_stderr_is_tty(void);

/*
 * Flushes and closes standard output once the command is done, and reports a failed write
 * ("handoff run: cannot write standard output: No space left on device"), also one that failed
 * earlier while the command ran. Returns status, or 1 when status was 0 and the output is
 * incomplete.
 */
int cli_close_stdout(const char *prog, int status);

#endif
