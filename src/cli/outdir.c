/*
 * outdir.c - output files and figures of the handoff program (see outdir.h).
 */
#include "outdir.h"

#include <errno.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

extern char **environ;

/* mkdir -p of path; returns 0 or -1 with errno set. */
static int make_dirs(const char *path)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
                return -1;
            }
            *p = c;
            if (c == '\0') {
                return 0;
            }
        }
    }
}

int outdir_make(const char *prog, const char *dir)
{
    if (make_dirs(dir) != 0) {
        fprintf(stderr, "%s: cannot create directory '%s': %s\n", prog, dir, strerror(errno));
        return -1;
    }
    return 0;
}

FILE *outdir_open(const char *prog, const char *dir, const char *name)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s.tmp", dir, name) >= (int)sizeof path) {
        fprintf(stderr, "%s: path too long: '%s/%s'\n", prog, dir, name);
        return NULL;
    }
    char *slash = strrchr(path, '/');
    *slash = '\0';
    if (make_dirs(path) != 0) {
        fprintf(stderr, "%s: cannot create directory '%s': %s\n", prog, path, strerror(errno));
        return NULL;
    }
    *slash = '/';
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "%s: cannot write '%s': %s\n", prog, path, strerror(errno));
    }
    return f;
}

int outdir_close(const char *prog, FILE *f, const char *dir, const char *name)
{
    char tmp[4096], final[4096];
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, name);
    snprintf(final, sizeof final, "%s/%s", dir, name);
    int bad = ferror(f);
    errno = 0;
    if (fclose(f) != 0 || bad) {
        fprintf(stderr, "%s: error writing '%s': %s\n", prog, tmp,
                errno ? strerror(errno) : "write error");
        remove(tmp);
        return -1;
    }
    if (rename(tmp, final) != 0) {
        fprintf(stderr, "%s: cannot rename '%s' to '%s': %s\n", prog, tmp, final, strerror(errno));
        return -1;
    }
    return 0;
}

/* Runs `gnuplot script`; returns its exit status, or -1 if it could not be started. */
static int run_gnuplot(const char *script)
{
    pid_t pid;
    /* posix_spawnp takes non-const strings for historical reasons; it does not write them. */
    char prog[] = "gnuplot";
    char arg[4096];
    snprintf(arg, sizeof arg, "%s", script);
    char *const argv[] = {prog, arg, NULL};
    if (posix_spawnp(&pid, "gnuplot", NULL, NULL, argv, environ) != 0) {
        return -1;
    }
    int st;
    if (waitpid(pid, &st, 0) < 0) {
        return -1;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int outdir_gnuplot(const char *dir, const char *script_name)
{
    char script[4096];
    snprintf(script, sizeof script, "%s/%s", dir, script_name);
    return run_gnuplot(script);
}
