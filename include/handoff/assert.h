/*
 * assert.h - assertions that say what broke.
 *
 * HO_ASSERT stays on in every build: the simulator's conservation checks and the engines'
 * invariants are part of what makes a result trustworthy, and they cost a predictable branch.
 * On failure it prints the file, line, function and a formatted message, then aborts.
 */
#ifndef HANDOFF_ASSERT_H
#define HANDOFF_ASSERT_H

#include <stdio.h>
#include <stdlib.h>

#define HO_ASSERT(cond, ...)                                                                       \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: %s: assertion '%s' failed: ", __FILE__, __LINE__, __func__,    \
                    #cond);                                                                        \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
