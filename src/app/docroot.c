/*
 * docroot.c - the server's real files: resolves request paths strictly beneath a document root
 * and opens what may be served (include/handoff/docroot.h).
 *
 * Called by the web server for each request once ho_http_parse() has given it a path; nothing
 * here writes, and the only state is the root's descriptor and its resolver, both chosen at
 * open and read-only after, which is what makes lookups safe from any thread.
 *
 * A lookup has three steps, the same for both resolvers:
 *   1. check_path() refuses what the parser should never have passed (400, 414);
 *   2. open_served() opens the path beneath the root, non-blocking, and fstat()s it; for a
 *      directory it does the same for the directory's index.html, resolved again from the root
 *      so that an index.html symlink obeys the same containment as any path;
 *   3. only a regular file has its O_NONBLOCK cleared and is handed out (anything else,
 *      an index.html that is a directory included, is 403).
 * Errors of the system become statuses in one place, refusal(): everything that could tell a
 * client whether something exists outside the root (EXDEV, ELOOP) is a plain 404.
 *
 * The openat2 resolver is one system call per open. The walk (kernels without openat2) opens
 * each directory of the path in turn with O_DIRECTORY | O_NOFOLLOW and the last component with
 * O_NOFOLLOW, so no symlink is ever followed and ".." never occurs (check_path refused it).
 */
/* syscall() is a glibc extension: _DEFAULT_SOURCE on top of the project's _POSIX_C_SOURCE. */
#define _DEFAULT_SOURCE

#include "handoff/docroot.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "handoff/err.h"
#include "handoff/http.h"

#define INDEX_NAME "index.html"
/* How often an openat2 that reports a concurrent rename (EAGAIN) is tried again. */
#define OPENAT2_TRIES 3
/* The flags of every open of a file that may be served. */
#define SERVE_FLAGS (O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)

struct ho_docroot {
    int fd;                            /* the root directory, O_DIRECTORY */
    enum ho_docroot_resolver resolver; /* HO_DOCROOT_OPENAT2 or HO_DOCROOT_WALK */
};

/* ---- resolving beneath the root --------------------------------------------------------- */

/* openat2(2), which glibc 2.36 does not wrap. Returns a descriptor or -errno. */
static int openat2_beneath(int root_fd, const char *rel, int flags)
{
    struct open_how how = {
        .flags = (uint64_t)flags,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    for (int tries = 1;; tries++) {
        long fd = syscall(SYS_openat2, root_fd, rel, &how, sizeof how);
        if (fd >= 0) {
            return (int)fd;
        }
        /* EAGAIN: a rename raced with the resolution and the kernel could not prove that no
         * ".." escaped; it asks to be tried again. */
        if (errno != EINTR && (errno != EAGAIN || tries >= OPENAT2_TRIES)) {
            return -errno;
        }
    }
}

/* openat() without following a symlink, tried again when interrupted. Returns a descriptor or
 * -errno. */
static int openat_nofollow(int dir_fd, const char *name, int flags)
{
    for (;;) {
        int fd = openat(dir_fd, name, flags | O_NOFOLLOW);
        if (fd >= 0) {
            return fd;
        }
        if (errno != EINTR) {
            return -errno;
        }
    }
}

/*
 * Opens rel ("." or "a/b/c", maybe ending in '/') beneath root_fd one component at a time.
 * Every component but the last is opened as a directory; the last with `flags`, as a directory
 * too if rel ends in '/'. A symlink anywhere gives ELOOP (or ENOTDIR). Returns a descriptor or
 * -errno.
 */
static int walk_beneath(int root_fd, const char *rel, int flags)
{
    int dir_fd = root_fd;
    const char *name = rel;
    for (;;) {
        const char *slash = strchr(name, '/');
        size_t len = slash != NULL ? (size_t)(slash - name) : strlen(name);
        bool last = slash == NULL || slash[1] == '\0';
        char part[NAME_MAX + 1];
        int fd;
        if (len > NAME_MAX) {
            fd = -ENAMETOOLONG;
        } else {
            memcpy(part, name, len);
            part[len] = '\0';
            int how = last ? flags : O_RDONLY | O_CLOEXEC;
            fd = openat_nofollow(dir_fd, part, slash != NULL ? how | O_DIRECTORY : how);
        }
        if (dir_fd != root_fd) {
            close(dir_fd);
        }
        if (fd < 0 || last) {
            return fd;
        }
        dir_fd = fd;
        name = slash + 1;
    }
}

static int open_beneath(const struct ho_docroot *dr, const char *rel, int flags)
{
    if (dr->resolver == HO_DOCROOT_OPENAT2) {
        return openat2_beneath(dr->fd, rel, flags);
    }
    return walk_beneath(dr->fd, rel, flags);
}

/* ---- a lookup --------------------------------------------------------------------------- */

/* The status and the HO_E* code for an errno of open, fstat or fcntl. */
static int refusal(int e, int *status)
{
    switch (e) {
    case ENOENT:
    case ENOTDIR:
    case ELOOP:
    case EXDEV:
        *status = 404;
        return HO_ENOENT;
    case EACCES:
    case EPERM:
    case ENXIO:
        *status = 403;
        return HO_ELIMIT;
    case ENAMETOOLONG:
        *status = 414;
        return HO_EMSGSIZE;
    case EMFILE:
    case ENFILE:
        *status = 500;
        return HO_ENOSPC;
    case ENOMEM:
        *status = 500;
        return HO_ENOMEM;
    case EAGAIN:
        *status = 500;
        return HO_EAGAIN;
    default:
        *status = 500;
        return HO_ESTATE;
    }
}

/* Whether path is absolute and normalized as ho_http_parse() leaves it: no empty, "." or ".."
 * segment, except one empty segment at the end ("/" or a trailing '/'). */
static bool path_is_normal(const char *path)
{
    if (path[0] != '/') {
        return false;
    }
    for (const char *seg = path + 1;;) {
        const char *slash = strchr(seg, '/');
        size_t len = slash != NULL ? (size_t)(slash - seg) : strlen(seg);
        if (len == 0) {
            return slash == NULL;
        }
        if (seg[0] == '.' && (len == 1 || (len == 2 && seg[1] == '.'))) {
            return false;
        }
        if (slash == NULL) {
            return true;
        }
        seg = slash + 1;
    }
}

/* Step 1: HO_OK, or the refusal of a path that is not normalized (400) or too long (414). */
static int check_path(const char *path, int *status)
{
    if (!path_is_normal(path)) {
        *status = 400;
        return HO_EPROTO;
    }
    if (strlen(path) >= PATH_MAX) {
        return refusal(ENAMETOOLONG, status);
    }
    return HO_OK;
}

/* Opens rel beneath the root for serving and fstat()s it. Returns a descriptor or -errno. */
static int open_and_stat(const struct ho_docroot *dr, const char *rel, struct stat *st)
{
    int fd = open_beneath(dr, rel, SERVE_FLAGS);
    if (fd >= 0 && fstat(fd, st) != 0) {
        int e = errno;
        close(fd);
        fd = -e;
    }
    return fd;
}

/*
 * Step 2: opens what path serves, the path itself or, for a directory, its index.html, with
 * *st its status. *served is the name whose extension gives the content type. Returns a
 * descriptor, or an HO_E* code with *status set.
 */
static int open_served(const struct ho_docroot *dr, const char *path, struct stat *st,
                       const char **served, int *status)
{
    /* Relative to the root: "/" is the root itself. */
    const char *rel = path[1] != '\0' ? path + 1 : ".";
    int fd = open_and_stat(dr, rel, st);
    *served = path;
    if (fd >= 0 && S_ISDIR(st->st_mode)) {
        close(fd);
        /* "docs" -> "docs/index.html", "docs/" -> "docs/index.html", "/" -> "index.html". */
        char index[PATH_MAX];
        const char *sep = path[strlen(path) - 1] == '/' ? "" : "/";
        int n = snprintf(index, sizeof index, "%s%s%s", path + 1, sep, INDEX_NAME);
        if (n < 0 || (size_t)n >= sizeof index) {
            return refusal(ENAMETOOLONG, status);
        }
        fd = open_and_stat(dr, index, st);
        *served = INDEX_NAME;
    }
    return fd >= 0 ? fd : refusal(-fd, status);
}

int ho_docroot_lookup(const struct ho_docroot *dr, const char *path, struct ho_docfile *out,
                      int *status)
{
    if (out != NULL) {
        *out = (struct ho_docfile){.fd = -1};
    }
    if (status != NULL) {
        *status = 500;
    }
    if (dr == NULL || path == NULL || out == NULL || status == NULL) {
        return HO_EINVAL;
    }
    int rc = check_path(path, status);
    if (rc != HO_OK) {
        return rc;
    }
    struct stat st;
    const char *served;
    int fd = open_served(dr, path, &st, &served, status);
    if (fd < 0) {
        return fd;
    }
    /* Step 3: a FIFO, a socket or a device was opened without blocking and goes no further. */
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        *status = 403;
        return HO_ELIMIT;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
        int e = errno;
        close(fd);
        return refusal(e, status);
    }
    out->fd = fd;
    out->size = (uint64_t)st.st_size;
    out->mtime = (int64_t)st.st_mtim.tv_sec;
    out->content_type = ho_http_content_type(served);
    *status = 200;
    return HO_OK;
}

void ho_docfile_close(struct ho_docfile *f)
{
    if (f != NULL && f->fd >= 0) {
        close(f->fd);
        f->fd = -1;
    }
}

/* ---- the root --------------------------------------------------------------------------- */

/* Whether openat2 works beneath root_fd: HO_OK (it does), HO_ENOENT (use the walk), or the
 * HO_E* of a failure that is not about openat2 (out of descriptors, memory). */
static int probe_openat2(int root_fd)
{
    int fd = openat2_beneath(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        close(fd);
        return HO_OK;
    }
    switch (-fd) {
    case ENOSYS: /* before Linux 5.6 */
    case EPERM:  /* a seccomp filter that does not know the call */
    case EINVAL: /* a kernel that knows openat2 but not these resolve flags */
    case E2BIG:  /* ... or not this struct open_how */
        return HO_ENOENT;
    default: {
        int status;
        return refusal(-fd, &status);
    }
    }
}

int ho_docroot_open_with(const char *dir, enum ho_docroot_resolver how, struct ho_docroot **out)
{
    if (dir == NULL || dir[0] == '\0' || out == NULL ||
        (how != HO_DOCROOT_AUTO && how != HO_DOCROOT_WALK)) {
        return HO_EINVAL;
    }
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        switch (errno) {
        case EMFILE:
        case ENFILE:
            return HO_ENOSPC;
        case ENOMEM:
            return HO_ENOMEM;
        default:
            return HO_ENOENT;
        }
    }
    enum ho_docroot_resolver resolver = HO_DOCROOT_WALK;
    if (how == HO_DOCROOT_AUTO) {
        int rc = probe_openat2(fd);
        if (rc == HO_OK) {
            resolver = HO_DOCROOT_OPENAT2;
        } else if (rc != HO_ENOENT) {
            close(fd);
            return rc;
        }
    }
    struct ho_docroot *dr = malloc(sizeof *dr);
    if (dr == NULL) {
        close(fd);
        return HO_ENOMEM;
    }
    dr->fd = fd;
    dr->resolver = resolver;
    *out = dr;
    return HO_OK;
}

int ho_docroot_open(const char *dir, struct ho_docroot **out)
{
    return ho_docroot_open_with(dir, HO_DOCROOT_AUTO, out);
}

enum ho_docroot_resolver ho_docroot_resolver(const struct ho_docroot *dr)
{
    return dr->resolver;
}

void ho_docroot_close(struct ho_docroot *dr)
{
    if (dr != NULL) {
        close(dr->fd);
        free(dr);
    }
}
