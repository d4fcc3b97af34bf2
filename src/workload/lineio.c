/*
 * lineio.c - line reader for the text trace formats (see lineio.h).
 *
 * Called by the CLF and httperf session readers. It reads blocks with fread and hands out
 * lines from its own buffer, so that a line's length is known before it is accepted (a
 * gigabyte without a newline costs one buffer, not a gigabyte) and NUL bytes are seen instead
 * of silently ending a C string.
 */
#include "lineio.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/err.h"
#include "handoff/workload_trace.h"

#define LINES_BLOCK 65536

int ho_lines_open(struct ho_lines *l, const char *path, struct ho_wl_err *err)
{
    memset(l, 0, sizeof *l);
    l->path = path;
    l->f = fopen(path, "rb");
    if (!l->f) {
        snprintf(err->msg, sizeof err->msg, "%s: cannot open: %s", path, strerror(errno));
        return HO_ENOENT;
    }
    l->cap = HO_TRACE_MAX_LINE + 2 + LINES_BLOCK;
    l->buf = malloc(l->cap);
    if (!l->buf) {
        fclose(l->f);
        l->f = NULL;
        snprintf(err->msg, sizeof err->msg, "%s: out of memory", path);
        return HO_ENOMEM;
    }
    return HO_OK;
}

void ho_lines_close(struct ho_lines *l)
{
    if (l->f) {
        fclose(l->f);
    }
    free(l->buf);
    l->f = NULL;
    l->buf = NULL;
}

/* Moves the unread bytes to the front and reads more behind them. */
static int fill(struct ho_lines *l, struct ho_wl_err *err)
{
    memmove(l->buf, l->buf + l->pos, l->len - l->pos);
    l->len -= l->pos;
    l->pos = 0;
    size_t room = l->cap - 1 - l->len; /* keep one byte for a terminating NUL */
    size_t n = fread(l->buf + l->len, 1, room, l->f);
    l->len += n;
    if (n < room) {
        if (ferror(l->f)) {
            snprintf(err->msg, sizeof err->msg, "%s:%lu: read error: %s", l->path, l->lineno + 1,
                     strerror(errno));
            return HO_ENOENT;
        }
        l->eof = 1;
    }
    return HO_OK;
}

int ho_lines_next(struct ho_lines *l, char **line, size_t *len, struct ho_wl_err *err)
{
    char *nl;
    for (;;) {
        nl = memchr(l->buf + l->pos, '\n', l->len - l->pos);
        if (nl || l->eof) {
            break;
        }
        if (l->len - l->pos > HO_TRACE_MAX_LINE) {
            snprintf(err->msg, sizeof err->msg, "%s:%lu: line longer than %d bytes", l->path,
                     l->lineno + 1, HO_TRACE_MAX_LINE);
            return HO_EPROTO;
        }
        int rc = fill(l, err);
        if (rc != HO_OK) {
            return rc;
        }
    }
    char *start = l->buf + l->pos;
    size_t n;
    if (nl) {
        n = (size_t)(nl - start);
        l->pos += n + 1;
    } else {
        n = l->len - l->pos; /* the last line, without a newline */
        if (n == 0) {
            return 0;
        }
        l->pos = l->len;
    }
    l->lineno++;
    if (n > HO_TRACE_MAX_LINE) {
        snprintf(err->msg, sizeof err->msg, "%s:%lu: line longer than %d bytes", l->path, l->lineno,
                 HO_TRACE_MAX_LINE);
        return HO_EPROTO;
    }
    start[n] = '\0'; /* the newline's place, or the spare byte fill() keeps */
    char *nul = memchr(start, '\0', n);
    if (nul) {
        snprintf(err->msg, sizeof err->msg, "%s:%lu: NUL byte at column %zu", l->path, l->lineno,
                 (size_t)(nul - start) + 1);
        return HO_EPROTO;
    }
    if (n > 0 && start[n - 1] == '\r') {
        start[--n] = '\0';
    }
    *line = start;
    *len = n;
    return 1;
}
