/*
 * lineio.h - a text line reader that refuses what a trace must not contain (private to
 * src/workload): lines longer than HO_TRACE_MAX_LINE and NUL bytes are errors naming the file
 * and line; a final line without a newline is read like any other; one trailing CR is dropped.
 */
#ifndef HO_WORKLOAD_LINEIO_H
#define HO_WORKLOAD_LINEIO_H

#include <stddef.h>
#include <stdio.h>

#include "handoff/workload.h"

struct ho_lines {
    FILE *f;
    const char *path;     /* for messages; borrowed */
    char *buf;            /* holds the unread part of the file's current block */
    size_t cap;           /* bytes allocated at buf */
    size_t len;           /* bytes held */
    size_t pos;           /* start of the next line */
    unsigned long lineno; /* number of the line last returned (1-based) */
    int eof;              /* the file is exhausted */
};

/* Opens path. Returns HO_OK, HO_ENOENT (err names the file and the system's reason) or
 * HO_ENOMEM. */
int ho_lines_open(struct ho_lines *l, const char *path, struct ho_wl_err *err);
/* Returns 1 and the next line in *line (NUL-terminated, without newline and trailing CR; valid
 * until the next call) and its length, 0 at the end of the file, or HO_EPROTO (a NUL byte or an
 * over-long line) / HO_ENOENT (read error) with err filled. */
int ho_lines_next(struct ho_lines *l, char **line, size_t *len, struct ho_wl_err *err);
void ho_lines_close(struct ho_lines *l);

#endif
