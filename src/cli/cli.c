/*
 * cli.c - what the subcommands of the handoff program share (see cli.h): naming a refused
 * option, strict numbers, whether progress may redraw itself, and the end of standard output.
 *
 * Each command calls getopt_long itself, with its own table; only the reporting of what
 * getopt_long refuses lives here, so that every command words it alike and names the option the
 * way the user typed it (getopt_long's own messages, with opterr set, would not carry the
 * command's name).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Whether word ("--name=value") gives a value to a long option of opts that takes none. */
static bool value_to_flag(const char *word, const struct option *opts)
{
    const char *eq = strchr(word, '=');
    if (strncmp(word, "--", 2) != 0 || !eq) {
        return false;
    }
    size_t n = (size_t)(eq - word - 2);
    for (const struct option *o = opts; o->name; o++) {
        if (o->has_arg == no_argument && strncmp(o->name, word + 2, n) == 0) {
            return true; /* getopt_long takes unambiguous prefixes as well */
        }
    }
    return false;
}

int cli_opt_error(const char *prog, int ch, char *const argv[], const struct option *opts)
{
    /* A long option is always a word of its own, which getopt_long has stepped past; a short
     * one may sit inside a cluster ("-qx"), and optopt holds it. */
    const char *word = optind > 0 ? argv[optind - 1] : "";
    bool is_long = strncmp(word, "--", 2) == 0;
    if (ch == ':') {
        if (is_long) {
            fprintf(stderr, "%s: %s needs a value\n", prog, word);
        } else {
            fprintf(stderr, "%s: -%c needs a value\n", prog, optopt);
        }
    } else if (optopt == 0) {
        fprintf(stderr, "%s: unknown option '%.*s' (see %s --help)\n", prog,
                (int)strcspn(word, "="), word, prog);
    } else if (is_long && value_to_flag(word, opts)) {
        fprintf(stderr, "%s: %.*s takes no value\n", prog, (int)strcspn(word, "="), word);
    } else {
        fprintf(stderr, "%s: unknown option '-%c' (see %s --help)\n", prog, optopt, prog);
    }
    return 2;
}

int cli_parse_uint(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (!s || !*s) {
        return -1;
    }
    uint64_t v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') {
            return -1;
        }
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return -1;
        }
        v = v * 10 + d;
    }
    if (v < lo || v > hi) {
        return -1;
    }
    *out = v;
    return 0;
}

bool cli_stderr_is_tty(void)
{
    return isatty(STDERR_FILENO) == 1;
}

int cli_close_stdout(const char *prog, int status)
{
    /* A write that failed while the command ran leaves the error flag set, and usually the
     * unwritten bytes in the buffer, so the flush fails again and names the cause. */
    bool failed_before = ferror(stdout) != 0;
    errno = 0;
    int flush = fflush(stdout);
    int flush_errno = errno;
    int close = fclose(stdout);
    int close_errno = errno;
    if (flush == 0 && close == 0 && !failed_before) {
        return status;
    }
    int e = flush != 0 ? flush_errno : close != 0 ? close_errno : 0;
    fprintf(stderr, "%s: cannot write standard output: %s\n", prog,
            e ? strerror(e) : "a write failed");
    return status ? status : 1;
}
