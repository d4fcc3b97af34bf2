/*
 * outdir.h - every file the handoff program writes, written atomically; and the output directory
 * of a reproduction.
 *
 * A file is written to a temporary name beside it (".NAME.tmp.PID" in the same directory, so
 * that the rename cannot cross file systems), flushed to the disk, and renamed into place when
 * complete. A reader never sees a partial file; a write that fails (a full disk, an I/O error, a
 * process killed midway) leaves the previous file, if any, untouched and no file of that name
 * otherwise. A path that exists and is not a regular file (a device such as /dev/null or
 * /dev/full, a pipe, a symbolic link) is written in place: renaming over it would replace the
 * device or the link.
 *
 * Errors are printed to stderr, starting with prog (the command's name, "handoff sweep run"),
 * as "PROG: cannot write 'PATH': REASON", where PATH is the file asked for (never the temporary)
 * and REASON the system's errno text.
 */
#ifndef HANDOFF_CLI_OUTDIR_H
#define HANDOFF_CLI_OUTDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define OUTFILE_PATH_MAX 4096

/* One file being written. */
struct outfile {
    FILE *f;                     /* the open file (outfile_open), or NULL (outfile_reserve) */
    char path[OUTFILE_PATH_MAX]; /* the file asked for */
    char tmp[OUTFILE_PATH_MAX];  /* the temporary beside it; "" when writing in place */
};

/*
 * Opens path for writing through a temporary beside it. Returns 0 with o->f open, or -1 after
 * printing why (o then holds nothing to close).
 */
int outfile_open(const char *prog, struct outfile *o, const char *path);

/*
 * Like outfile_open, for a writer that opens the file by name itself (libpcap, gnuplot): creates
 * the temporary and leaves o->f NULL; outfile_name() is the name to write to.
 */
int outfile_reserve(const char *prog, struct outfile *o, const char *path);

/* The name the data goes to: the temporary, or the path itself when written in place. */
const char *outfile_name(const struct outfile *o);

/*
 * Finishes the file: flushes and closes o->f (if open), syncs the temporary to the disk and
 * renames it into place. On any failure the temporary is removed. Returns 0, or -1 after
 * printing why. o is finished either way.
 */
int outfile_commit(const char *prog, struct outfile *o);

/* Abandons the file: closes o->f (if open) and removes the temporary. */
void outfile_abort(struct outfile *o);

/* The temporary name process pid uses for path, so that a parent can remove what a child it
 * killed was writing. */
void outfile_tmp_name(char *buf, size_t len, const char *path, pid_t pid);

/* Whether name (a directory entry) is a temporary of outfile_open, and if so whose (*pid). */
bool outfile_is_tmp(const char *name, pid_t *pid);

/* Writes j (a jansson json_t) to path atomically (json_dumpf with flags). Returns 0, or -1
 * after printing why. */
struct json_t;
int outfile_write_json(const char *prog, const char *path, const struct json_t *j, size_t flags);

/* Creates dir (and its parents) if needed. Returns 0, or -1 after printing why. */
int outdir_make(const char *prog, const char *dir);

/* Opens dir/name for writing (creating name's subdirectories), as outfile_open. */
int outdir_open(const char *prog, struct outfile *o, const char *dir, const char *name);

/*
 * Runs gnuplot on dir/script_name; vars (may be NULL) is gnuplot's -e argument, run before the
 * script. Returns 0, -1 if gnuplot cannot be started, or its nonzero exit status.
 */
int outdir_gnuplot(const char *dir, const char *script_name, const char *vars);

#endif
