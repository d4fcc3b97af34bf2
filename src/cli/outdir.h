/*
 * outdir.h - writing a command's results into an output directory.
 *
 * Files are written to "NAME.tmp" and renamed into place when closed, so a reader never sees a
 * half-written report and an interrupted run leaves the previous results intact. Errors are
 * printed to stderr, starting with prog (the command's name, "handoff sweep run") and naming the
 * file and the cause.
 */
#ifndef HANDOFF_CLI_OUTDIR_H
#define HANDOFF_CLI_OUTDIR_H

#include <stddef.h>
#include <stdio.h>

/* Creates dir (and its parents) if needed. Returns 0, or -1 after printing why. */
int outdir_make(const char *prog, const char *dir);

/* Opens dir/name for writing (creating name's subdirectories). Returns NULL after printing why. */
FILE *outdir_open(const char *prog, const char *dir, const char *name);

/* Closes f (from outdir_open) and moves it into place as dir/name. On a write error the
 * temporary file is removed. Returns 0, or -1 after printing why. */
int outdir_close(const char *prog, FILE *f, const char *dir, const char *name);

/* Runs gnuplot on dir/script_name. Returns 0, -1 if gnuplot cannot be started, or its nonzero
 * exit status. */
int outdir_gnuplot(const char *dir, const char *script_name);

#endif
