/*
 * main.c - the handoff program: dispatches to one subcommand (src/cli/cmd_*.c), answers
 * `handoff help [COMMAND]` and `handoff version`, and checks, once the subcommand is done, that
 * its standard output was written in full (cli_close_stdout).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "provenance.h"

struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
    const char *verbs[3]; /* its own subcommands, which messages name too ("handoff sweep run") */
};

static const struct subcommand subcommands[] = {
    {"run", cli_run, "simulate one configuration (e.g. W-0-N-N-FCFS-400)", {NULL}},
    {"reproduce", cli_reproduce, "regenerate the paper's evaluation into a report", {NULL}},
    {"sweep",
     cli_sweep,
     "the reproduction as shardable jobs: list, run a shard, merge",
     {"list", "run", "merge"}},
    {"trace", cli_trace, "generate or summarise workload traces (gen, stats)", {"gen", "stats"}},
    {"calibrate",
     cli_calibrate,
     "fit the cost model on the baseline W-0-N-N-FCFS-400 alone",
     {NULL}},
    {"emu",
     cli_emu,
     "serve HTTP on real packets: the firmware and the OS side on two threads",
     {"ls", "restore"}},
};
#define NSUBCOMMANDS (sizeof subcommands / sizeof subcommands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: handoff <command> [options]\n"
               "       handoff <command> --help\n"
               "       handoff help <command>\n"
               "\n"
               "TCP connection handoff between a host stack and an offload NIC, with the\n"
               "prioritisation, load-control and selection policies of the paper.\n"
               "\n"
               "commands:\n");
    for (size_t i = 0; i < NSUBCOMMANDS; i++) {
        fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
    }
    fprintf(f, "  %-10s %s\n", "version",
            "print the version (git describe of the build's source tree), as results record it");
    fprintf(f, "  %-10s %s\n", "help", "print this message, or a command's (as COMMAND --help)");
    fprintf(f, "\n"
               "Options take their value as `--opt value` or `--opt=value`. Exit status: 0\n"
               "success, 1 a failed run (the message says why), 2 a usage error.\n");
}

static const struct subcommand *find(const char *name)
{
    for (size_t i = 0; i < NSUBCOMMANDS; i++) {
        if (!strcmp(name, subcommands[i].name)) {
            return &subcommands[i];
        }
    }
    return NULL;
}

/* The name messages start with: "handoff run", "handoff sweep list". */
static void command_name(char *buf, size_t len, const struct subcommand *s, const char *verb)
{
    snprintf(buf, len, "handoff %s", s->name);
    for (size_t v = 0; verb && v < sizeof s->verbs / sizeof s->verbs[0] && s->verbs[v]; v++) {
        if (!strcmp(verb, s->verbs[v])) {
            snprintf(buf, len, "handoff %s %s", s->name, verb);
        }
    }
}

/* `handoff help COMMAND [VERB]` is `handoff COMMAND [VERB] --help`. */
static int help(int argc, char **argv)
{
    if (argc < 3 || !strcmp(argv[2], "help") || !strcmp(argv[2], "version")) {
        usage(stdout);
        return 0;
    }
    const struct subcommand *s = find(argv[2]);
    if (!s) {
        fprintf(stderr, "handoff help: unknown command '%s' (handoff help lists them)\n", argv[2]);
        return 2;
    }
    if (argc > 4) {
        fprintf(stderr, "handoff help: unexpected argument '%s'\n", argv[4]);
        return 2;
    }
    char help_opt[] = "--help";
    char *args[4] = {argv[2], NULL, NULL, NULL};
    int n = 1;
    if (argc == 4) {
        args[n++] = argv[3];
    }
    args[n++] = help_opt;
    return s->run(n, args);
}

int main(int argc, char **argv)
{
    /* Off a terminal, standard output goes out in 64 KB writes: a command's whole text in one,
     * so that a failed write is seen, with its cause, when it is flushed (cli_close_stdout). */
    static char outbuf[1 << 16];
    if (!isatty(STDOUT_FILENO)) {
        setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    }
    if (argc < 2) {
        fprintf(stderr, "handoff: missing the command\n");
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        return cli_close_stdout("handoff help", help(argc, argv));
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("handoff %s\n", prov_version());
        return cli_close_stdout("handoff version", 0);
    }
    const struct subcommand *s = find(cmd);
    if (!s) {
        fprintf(stderr, "handoff: unknown command '%s'\n", cmd);
        usage(stderr);
        return 2;
    }
    char name[64];
    command_name(name, sizeof name, s, argc > 2 ? argv[2] : NULL);
    return cli_close_stdout(name, s->run(argc - 1, argv + 1));
}
