/*
 * docroot.h - the web server's real files: a document root, and the lookup that turns a request
 * path into an open file, or into the status to answer instead.
 *
 * Used by the server (src/app/) when it runs on real packets, as the emulator's will, after
 * ho_http_parse() has decoded and normalized the path; the simulator's server never opens a
 * file. The layer only reads: the SPECweb99 file set the emulator serves when it is given no
 * --docroot is written by the workload (ho_fileset_generate() in workload.h), and this layer
 * serves it like any other directory, knowing nothing of SPECweb99.
 *
 * Containment is the point. Every path is resolved strictly beneath the root, with openat2(2)
 * and RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS: symlinks that stay inside the root are followed,
 * any resolution that would leave it (an absolute symlink, a "../" that climbs above the root,
 * even one that climbs back in) fails and is answered 404, so nothing outside the root is
 * served or even shown to exist. On a kernel without openat2 (before Linux 5.6, or where a
 * seccomp filter hides it) the layer walks the path one component at a time with openat() and
 * O_NOFOLLOW and refuses every symlink, inside the root or not (also 404): stricter, never
 * weaker.
 *
 * No global state: a lookup reads only the root's descriptor and its resolver, both fixed at
 * open, so one root may be shared by any number of threads.
 */
#ifndef HANDOFF_DOCROOT_H
#define HANDOFF_DOCROOT_H

#include <stdint.h>

struct ho_docroot;

/* How a root resolves paths. */
enum ho_docroot_resolver {
    HO_DOCROOT_AUTO = 0, /* asked for at open: openat2 if the kernel has it, else the walk */
    HO_DOCROOT_OPENAT2,  /* openat2 with RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS */
    HO_DOCROOT_WALK,     /* openat() one component at a time, O_NOFOLLOW, no symlinks */
};

/* A file to send, from ho_docroot_lookup(). */
struct ho_docfile {
    int fd;                   /* open O_RDONLY | O_CLOEXEC, blocking; -1 when there is none */
    uint64_t size;            /* bytes */
    int64_t mtime;            /* last modification, seconds since the epoch (Last-Modified,
                                 If-Modified-Since) */
    const char *content_type; /* ho_http_content_type() of the file served (for a directory,
                                 of its index.html); constant */
};

/*
 * Opens the directory dir as a document root (O_DIRECTORY | O_CLOEXEC; dir itself is resolved
 * as given, symlinks included) and decides its resolver: openat2 if a probe of the root with it
 * succeeds, else the walk. Stores the root in *out and returns HO_OK. Errors, with *out
 * untouched: HO_EINVAL (dir or out NULL, dir empty); HO_ENOENT (dir is missing, is not a
 * directory, or cannot be opened, e.g. for permission); HO_ENOSPC (the process or the system is
 * out of file descriptors); HO_ENOMEM.
 */
int ho_docroot_open(const char *dir, struct ho_docroot **out);

/* The same, choosing the resolver: HO_DOCROOT_AUTO is ho_docroot_open(); HO_DOCROOT_WALK forces
 * the walk (for tests, and to compare). HO_EINVAL for HO_DOCROOT_OPENAT2 or any other value:
 * openat2 is only ever chosen by the probe. */
int ho_docroot_open_with(const char *dir, enum ho_docroot_resolver how, struct ho_docroot **out);

/* The resolver the root uses: HO_DOCROOT_OPENAT2 or HO_DOCROOT_WALK. dr must not be NULL. */
enum ho_docroot_resolver ho_docroot_resolver(const struct ho_docroot *dr);

/* Closes the root's descriptor and frees it (NULL is fine). Files already looked up stay open
 * and valid. */
void ho_docroot_close(struct ho_docroot *dr);

/*
 * Opens the file that request path `path` names beneath the root. path is what ho_http_parse()
 * gives (ho_http_req.path): it starts with '/' and has no empty, "." or ".." segment, except
 * that it may end with a '/'. A path that is not of that form is refused (400) rather than
 * trusted.
 *
 * A directory is served by its index.html, whether or not the path ends with '/' ("/docs" and
 * "/docs/" both serve docs/index.html; a full server would redirect "/docs" to "/docs/" so that
 * relative links resolve, which this layer leaves to its caller). A directory without an
 * index.html is 404 (no listings). Only regular files are served: the file is opened with
 * O_NONBLOCK (so a FIFO never blocks the opener) and O_NOCTTY, checked with fstat, and its
 * O_NONBLOCK is cleared only once it is known to be a regular file.
 *
 * On success returns HO_OK, *status = 200 and *out filled; the caller owns out->fd and closes
 * it with ho_docfile_close(). On failure out->fd is -1 (ho_docfile_close() is still safe),
 * *status is the status to answer, and the return value says why:
 *  - HO_EPROTO, 400: path is not a normalized absolute path (see above);
 *  - HO_ENOENT, 404: no such file (ENOENT, ENOTDIR, a file path ending in '/'), a directory
 *    without index.html, a symlink leading out of the root (EXDEV), a magic link or a symlink
 *    loop (ELOOP), any symlink under the walk;
 *  - HO_ELIMIT, 403: refused by the system (EACCES, EPERM) or not a regular file (a FIFO, a
 *    socket (ENXIO), a device, a directory whose index.html is not a regular file);
 *  - HO_EMSGSIZE, 414: a segment longer than NAME_MAX or a path of PATH_MAX bytes or more
 *    (ENAMETOOLONG);
 *  - 500, the server's fault and maybe passing: HO_ENOSPC (out of file descriptors, EMFILE or
 *    ENFILE), HO_ENOMEM (ENOMEM), HO_EAGAIN (openat2 kept reporting a concurrent rename, EAGAIN),
 *    HO_ESTATE (any other error of the system, e.g. EIO);
 *  - HO_EINVAL: dr, path, out or status is NULL (what is not NULL of out and status is set as
 *    for a 500).
 */
int ho_docroot_lookup(const struct ho_docroot *dr, const char *path, struct ho_docfile *out,
                      int *status);

/* Closes f->fd if it is open and sets it to -1 (f may be NULL). */
void ho_docfile_close(struct ho_docfile *f);

#endif
