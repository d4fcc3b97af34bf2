/*
 * main.c - the handoff program: dispatches to one subcommand (src/cli/cmd_*.c).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define HANDOFF_VERSION "0.1.0"

struct subcommand {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
};

static const struct subcommand subcommands[] = {
    {"run", cli_run, "simulate one configuration (e.g. W-0-N-N-FCFS-400)"},
    {"reproduce", cli_reproduce, "regenerate the paper's evaluation into a report"},
    {"sweep", cli_sweep, "the reproduction as shardable jobs: list, run a shard, merge"},
    {"trace", cli_trace, "generate or summarise workload traces (gen, stats)"},
    {"calibrate", cli_calibrate, "fit the cost model on the baseline W-0-N-N-FCFS-400 alone"},
    {"emu", cli_emu, "serve HTTP on real packets: the firmware and the OS side on two threads"},
};

static void usage(FILE *f)
{
    fprintf(f, "usage: handoff <command> [options]\n"
               "       handoff <command> --help\n"
               "\n"
               "TCP connection handoff between a host stack and an offload NIC, with the\n"
               "prioritisation, load-control and selection policies of the paper.\n"
               "\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++) {
        fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
    }
    fprintf(f, "  %-10s %s\n", "version", "print the version");
    fprintf(f, "  %-10s %s\n", "help", "print this message");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("handoff %s\n", HANDOFF_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof subcommands / sizeof subcommands[0]; i++) {
        if (!strcmp(cmd, subcommands[i].name)) {
            return subcommands[i].run(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "handoff: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
