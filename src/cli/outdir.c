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

int outdir_make(const char *dir)
{
    if (make_dirs(dir) != 0) {
        fprintf(stderr, "handoff: cannot create directory '%s': %s\n", dir, strerror(errno));
        return -1;
    }
    return 0;
}

FILE *outdir_open(const char *dir, const char *name)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s.tmp", dir, name) >= (int)sizeof path) {
        fprintf(stderr, "handoff: path too long: '%s/%s'\n", dir, name);
        return NULL;
    }
    char *slash = strrchr(path, '/');
    *slash = '\0';
    if (make_dirs(path) != 0) {
        fprintf(stderr, "handoff: cannot create directory '%s': %s\n", path, strerror(errno));
        return NULL;
    }
    *slash = '/';
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "handoff: cannot write '%s': %s\n", path, strerror(errno));
    }
    return f;
}

int outdir_close(FILE *f, const char *dir, const char *name)
{
    char tmp[4096], final[4096];
    snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, name);
    snprintf(final, sizeof final, "%s/%s", dir, name);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) {
        fprintf(stderr, "handoff: error writing '%s'\n", tmp);
        remove(tmp);
        return -1;
    }
    if (rename(tmp, final) != 0) {
        fprintf(stderr, "handoff: cannot rename '%s' to '%s': %s\n", tmp, final, strerror(errno));
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

void outdir_plot_timeseries(const char *dir, const char *config, char *note, size_t len)
{
    char name[256];
    snprintf(name, sizeof name, "figures/demo-%s.gp", config);
    FILE *f = outdir_open(dir, name);
    if (!f) {
        snprintf(note, len, "No figure: the gnuplot script could not be written.");
        return;
    }
    static const char *const terms[][2] = {
        {"svg size 900,500 dynamic font 'sans,11'", "svg"},
        {"pngcairo size 900,500 font 'sans,10'", "png"},
    };
    fprintf(f,
            "set datafile separator ','\n"
            "set key top right\n"
            "set xlabel 'simulated time (s)'\n"
            "set ylabel 'connections / packets'\n"
            "set title 'Load control, %s: Soft limit, Cnum and NIC receive-queue length'\n"
            "set grid\n",
            config);
    for (int i = 0; i < 2; i++) {
        fprintf(f,
                "set terminal %s\n"
                "set output '%s/figures/demo-%s.%s'\n"
                "plot '%s/timeseries/demo-%s.csv' using 1:2 with lines lw 2 title 'Soft limit', "
                "'' using 1:3 with lines lw 2 title 'Cnum', "
                "'' using 1:4 with lines title 'Qlen (NIC receive queue)'\n",
                terms[i][0], dir, config, terms[i][1], dir, config);
    }
    if (outdir_close(f, dir, name) != 0) {
        snprintf(note, len, "No figure: the gnuplot script could not be written.");
        return;
    }
    int rc = outdir_gnuplot(dir, name);
    if (rc != 0) {
        snprintf(note, len,
                 "No figure: gnuplot %s (install Debian's gnuplot-nox; the data is in "
                 "`timeseries/demo-%s.csv`).",
                 rc < 0 ? "is not installed" : "failed", config);
        return;
    }
    snprintf(note, len,
             "![Soft limit, Cnum and Qlen for %s](figures/demo-%s.svg)\n\n"
             "(also `figures/demo-%s.png`)",
             config, config, config);
}
