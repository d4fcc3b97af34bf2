/*
 * outdir.c - atomic output files and the output directory of the handoff program (see outdir.h).
 *
 * Every command writes through outfile_open (or outfile_reserve for libpcap and gnuplot, which
 * open files by name) and outfile_commit, so there is one place that decides what a failed write
 * leaves behind: nothing but the previous file.
 */
#include "outdir.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* mkdir -p of path; returns 0 or -1 with errno set. */
static int make_dirs(const char *path)
{
    char buf[OUTFILE_PATH_MAX];
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

void outfile_tmp_name(char *buf, size_t len, const char *path, pid_t pid)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    int dirlen = slash ? (int)(slash - path + 1) : 0;
    snprintf(buf, len, "%.*s.%s.tmp.%ld", dirlen, path, base, (long)pid);
}

bool outfile_is_tmp(const char *name, pid_t *pid)
{
    const char *t = strstr(name, ".tmp.");
    if (name[0] != '.' || !t) {
        return false;
    }
    while (strstr(t + 1, ".tmp.")) {
        t = strstr(t + 1, ".tmp.");
    }
    char *end;
    long p = strtol(t + 5, &end, 10);
    if (*end != '\0' || end == t + 5 || p <= 0) {
        return false;
    }
    *pid = (pid_t)p;
    return true;
}

static int report(const char *prog, const char *path, int e)
{
    fprintf(stderr, "%s: cannot write '%s': %s\n", prog, path, e ? strerror(e) : "write error");
    return -1;
}

/* Creates the temporary of path (or decides to write in place) and opens it if want_file. */
static int start(const char *prog, struct outfile *o, const char *path, bool want_file)
{
    memset(o, 0, sizeof *o);
    if (snprintf(o->path, sizeof o->path, "%s", path) >= (int)sizeof o->path) {
        return report(prog, path, ENAMETOOLONG);
    }
    struct stat st;
    bool in_place = lstat(path, &st) == 0 && !S_ISREG(st.st_mode);
    int fd;
    if (in_place) {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    } else {
        outfile_tmp_name(o->tmp, sizeof o->tmp, path, getpid());
        if (strlen(o->tmp) + 1 >= sizeof o->tmp) {
            return report(prog, path, ENAMETOOLONG);
        }
        fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd < 0 && errno == EEXIST) { /* left by an earlier process of the same id */
            unlink(o->tmp);
            fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
        }
    }
    if (fd < 0) {
        int e = errno;
        o->tmp[0] = '\0';
        return report(prog, path, e);
    }
    if (!want_file) {
        close(fd);
        return 0;
    }
    o->f = fdopen(fd, "w");
    if (!o->f) {
        int e = errno;
        close(fd);
        outfile_abort(o);
        return report(prog, path, e);
    }
    return 0;
}

int outfile_open(const char *prog, struct outfile *o, const char *path)
{
    return start(prog, o, path, true);
}

int outfile_reserve(const char *prog, struct outfile *o, const char *path)
{
    return start(prog, o, path, false);
}

const char *outfile_name(const struct outfile *o)
{
    return o->tmp[0] ? o->tmp : o->path;
}

void outfile_abort(struct outfile *o)
{
    if (o->f) {
        fclose(o->f);
        o->f = NULL;
    }
    if (o->tmp[0]) {
        unlink(o->tmp);
        o->tmp[0] = '\0';
    }
}

/* fsync of a file by name (for files a library wrote and closed). Returns 0 or an errno. */
static int sync_by_name(const char *name)
{
    int fd = open(name, O_RDONLY);
    if (fd < 0) {
        return errno;
    }
    int e = fsync(fd) != 0 ? errno : 0;
    close(fd);
    return e;
}

int outfile_commit(const char *prog, struct outfile *o)
{
    int e = 0;
    if (o->f) {
        /* A write that failed earlier leaves the error flag set, and usually its bytes still
         * buffered, so the flush fails again and says why. */
        bool failed = ferror(o->f) != 0;
        errno = 0;
        if (fflush(o->f) != 0 || failed) {
            e = errno ? errno : EIO;
        } else if (o->tmp[0] && fsync(fileno(o->f)) != 0) {
            e = errno;
        }
        errno = 0;
        if (fclose(o->f) != 0 && e == 0) {
            e = errno ? errno : EIO;
        }
        o->f = NULL;
    } else if (o->tmp[0]) {
        e = sync_by_name(o->tmp);
    }
    if (e == 0 && o->tmp[0] && rename(o->tmp, o->path) != 0) {
        e = errno;
    }
    if (e != 0) {
        outfile_abort(o);
        return report(prog, o->path, e);
    }
    o->tmp[0] = '\0';
    return 0;
}

int outfile_write_json(const char *prog, const char *path, const struct json_t *j, size_t flags)
{
    struct outfile o;
    if (outfile_open(prog, &o, path) != 0) {
        return -1;
    }
    errno = 0;
    if (json_dumpf(j, o.f, flags) != 0) {
        int e = errno;
        outfile_abort(&o);
        return report(prog, path, e);
    }
    return outfile_commit(prog, &o);
}

int outdir_open(const char *prog, struct outfile *o, const char *dir, const char *name)
{
    char path[OUTFILE_PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) {
        fprintf(stderr, "%s: path too long: '%s/%s'\n", prog, dir, name);
        return -1;
    }
    char *slash = strrchr(path, '/');
    *slash = '\0';
    if (outdir_make(prog, path) != 0) {
        return -1;
    }
    *slash = '/';
    return outfile_open(prog, o, path);
}

int outdir_gnuplot(const char *dir, const char *script_name, const char *vars)
{
    char script[OUTFILE_PATH_MAX], e_arg[2 * OUTFILE_PATH_MAX + 64];
    snprintf(script, sizeof script, "%s/%s", dir, script_name);
    snprintf(e_arg, sizeof e_arg, "%s", vars ? vars : "");
    /* posix_spawnp takes non-const strings for historical reasons; it does not write them. */
    char prog[] = "gnuplot", e_opt[] = "-e";
    char *argv_e[] = {prog, e_opt, e_arg, script, NULL};
    char *argv_plain[] = {prog, script, NULL};
    pid_t pid;
    if (posix_spawnp(&pid, "gnuplot", NULL, NULL, vars ? argv_e : argv_plain, environ) != 0) {
        return -1;
    }
    int st;
    if (waitpid(pid, &st, 0) < 0) {
        return -1;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
