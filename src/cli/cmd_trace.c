/*
 * cmd_trace.c - `handoff trace`: generate and summarise workload traces.
 */
#include <stdio.h>

#include "cli.h"

int cli_trace(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "handoff trace: not available in this build\n");
    return 2;
}
