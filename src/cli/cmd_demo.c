/*
 * cmd_demo.c - `handoff demo`: the policy engine on synthetic load.
 */
#include <stdio.h>

#include "cli.h"

int cli_demo(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "handoff demo: not available in this build\n");
    return 2;
}

int cli_reproduce(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "handoff reproduce: not available in this build\n");
    return 2;
}
