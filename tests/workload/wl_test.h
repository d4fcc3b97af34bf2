/*
 * wl_test.h - helpers shared by the workload tests: a private temporary directory per test
 * program, files written into it, and substring checks on error messages.
 */
#ifndef HO_TESTS_WL_TEST_H
#define HO_TESTS_WL_TEST_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handoff/workload.h"

struct wl_tmp {
    char dir[256];
    char path[512]; /* the last file made by wl_tmp_file */
};

/* Makes a fresh directory under $TMPDIR (or /tmp); aborts the test program on failure. */
static inline void wl_tmp_init(struct wl_tmp *t)
{
    const char *base = getenv("TMPDIR");
    snprintf(t->dir, sizeof t->dir, "%s/ho-wltest-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(t->dir)) {
        perror("mkdtemp");
        abort();
    }
}

/* Writes n bytes to dir/name and returns the path (valid until the next call). */
static inline const char *wl_tmp_write(struct wl_tmp *t, const char *name, const void *data,
                                       size_t n)
{
    snprintf(t->path, sizeof t->path, "%s/%s", t->dir, name);
    FILE *f = fopen(t->path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        perror(t->path);
        abort();
    }
    return t->path;
}

/* Same, for a NUL-terminated text. */
static inline const char *wl_tmp_text(struct wl_tmp *t, const char *name, const char *text)
{
    return wl_tmp_write(t, name, text, strlen(text));
}

/* Removes the files this program made (it never makes subdirectories) and the directory. */
static inline void wl_tmp_cleanup(struct wl_tmp *t)
{
    DIR *d = opendir(t->dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(t->path, sizeof t->path, "%s/%s", t->dir, e->d_name);
                unlink(t->path);
            }
        }
        closedir(d);
    }
    if (rmdir(t->dir) != 0) {
        fprintf(stderr, "could not remove %s\n", t->dir);
    }
}

/* Whether two requests are the same, field by field (padding bytes are not compared). */
static inline int wl_req_equal(const struct ho_req *a, const struct ho_req *b)
{
    return a->object == b->object && a->size == b->size && a->upload == b->upload &&
           a->think_us == b->think_us && a->gap_us == b->gap_us && a->status == b->status &&
           a->method == b->method && a->kind == b->kind && a->flags == b->flags;
}

/* Whether haystack contains needle; prints both when it does not, to explain a failure. */
static inline int wl_contains(const char *haystack, const char *needle)
{
    if (strstr(haystack, needle)) {
        return 1;
    }
    fprintf(stderr, "expected \"%s\" in \"%s\"\n", needle, haystack);
    return 0;
}

#endif
