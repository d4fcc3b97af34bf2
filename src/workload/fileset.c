/*
 * fileset.c - the SPECweb99 file set as named files (include/handoff/workload.h, "The SPECweb99
 * file set, as files"): their names and sizes, their contents, and writing them to a directory.
 *
 * Called by the emulator, which serves the set from disk when it is given no document root, and
 * by tests that check a download against ho_fileset_fill(). The simulator never calls it: its
 * clients ask for object ids, and ho_fileset_object_path() is how those ids become the paths
 * the emulator's clients ask for.
 *
 * One definition: the number of directories, the sizes and the object numbering come from the
 * simulator's generator (gen.h: ho_genspec_dirs, ho_genspec_file_size, ho_genspec_object); this
 * file adds only the SPECweb99 spelling of the names. A file's index is its object id, so the
 * set's files and the simulated objects are the same list.
 *
 * Why the writer is here and not beside the server's file layer (src/app/docroot.c): the set is
 * part of the workload, as wc_gen.c's synthetic traces are, and the server must serve any
 * directory without knowing SPECweb99 exists. Keeping it here leaves src/app/ free of the
 * workload (tests/arch/layers.sh) and the server's file layer read-only; the emulator, which may
 * use both, generates the set and then opens it as its document root.
 *
 * The writer works relative to directory descriptors, and opens file_set and each dirNNNNN
 * with O_NOFOLLOW, so a symlink placed inside the target directory cannot redirect a write
 * elsewhere; the target directory itself is the caller's and is resolved as given.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gen.h"
#include "handoff/err.h"
#include "handoff/workload.h"

#define FILL_GOLDEN       UINT64_C(0x9E3779B97F4A7C15) /* splitmix64's increment */
#define WRITE_CHUNK       65536                        /* bytes filled and written per write() */
#define FILESET_DIR_MODE  0755
#define FILESET_FILE_MODE 0644

/* ---- names and sizes ------------------------------------------------------------------------ */

int ho_fileset_count(uint32_t connections)
{
    if (connections == 0 || ho_genspec_dirs(connections) > HO_FILESET_MAX_DIRS) {
        return HO_EINVAL;
    }
    /* At most 100,000 x 36 = 3.6 million: an int holds it. */
    return (int)(ho_genspec_dirs(connections) * HO_SPEC_DIR_FILES);
}

int ho_fileset_object_path(uint32_t object, char *buf, size_t cap)
{
    /* The inverse of ho_genspec_object(dir, cls, file) = dir x 36 + cls x 9 + file. */
    uint32_t dir = object / HO_SPEC_DIR_FILES;
    unsigned cls = (object % HO_SPEC_DIR_FILES) / HO_SPEC_FILES;
    unsigned file = object % HO_SPEC_FILES;
    if (buf == NULL || dir >= HO_FILESET_MAX_DIRS) {
        return HO_EINVAL;
    }
    if (cap < HO_FILESET_PATH_MAX) {
        return HO_EMSGSIZE;
    }
    return snprintf(buf, cap, "/file_set/dir%05u/class%u_%u", (unsigned)dir, cls, file);
}

int ho_fileset_file(uint32_t connections, uint32_t index, struct ho_fileset_file *out)
{
    int count = ho_fileset_count(connections);
    if (out == NULL || count < 0 || index >= (uint32_t)count) {
        return HO_EINVAL;
    }
    int len = ho_fileset_object_path(index, out->path, sizeof out->path);
    if (len < 0) {
        return len;
    }
    unsigned in_dir = index % HO_SPEC_DIR_FILES;
    out->size = ho_genspec_file_size(in_dir / HO_SPEC_FILES, in_dir % HO_SPEC_FILES);
    out->object = index;
    return HO_OK;
}

/* ---- contents ------------------------------------------------------------------------------- */

/* splitmix64's output function (Steele, Lea and Flood, 2014). */
static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* FNV-1a, 64 bits. */
static uint64_t fnv1a64(const char *s)
{
    uint64_t h = UINT64_C(0xCBF29CE484222325);
    for (; *s != '\0'; s++) {
        h ^= (unsigned char)*s;
        h *= UINT64_C(0x100000001B3);
    }
    return h;
}

int ho_fileset_fill(const char *path, uint64_t seed, uint64_t offset, void *buf, size_t len)
{
    if (path == NULL || (buf == NULL && len > 0)) {
        return HO_EINVAL;
    }
    uint64_t key = mix(fnv1a64(path) ^ mix(seed));
    uint64_t word = offset / 8;
    unsigned byte = (unsigned)(offset % 8);
    unsigned char *p = buf;
    while (len > 0) {
        /* The counter wraps modulo 2^64 like the offsets it numbers: defined, and never reached
         * by a real file. */
        uint64_t x = mix(key + (word + 1) * FILL_GOLDEN);
        for (; byte < 8 && len > 0; byte++, len--) {
            *p++ = (unsigned char)(x >> (8 * byte));
        }
        byte = 0;
        word++;
    }
    return HO_OK;
}

/* ---- writing the set ------------------------------------------------------------------------ */

struct fs_writer {
    const char *dir;    /* the target, for messages */
    uint64_t seed;      /* of every file's contents */
    unsigned char *buf; /* WRITE_CHUNK bytes */
    uint64_t done;      /* bytes written */
    uint64_t total;     /* bytes of the whole set */
    uint64_t told;      /* done when progress was last called */
    ho_fileset_progress_cb progress;
    void *ctx;
    struct ho_wl_err *err;
};

/* The HO_E* code for a system error while making directories or writing files. */
static int from_errno(int e)
{
    switch (e) {
    case EEXIST:
        return HO_EEXIST;
    case ENOSPC:
#ifdef EDQUOT
    case EDQUOT:
#endif
    case EMFILE:
    case ENFILE:
        return HO_ENOSPC;
    case ENOMEM:
        return HO_ENOMEM;
    default:
        return HO_ENOENT;
    }
}

/* Records why writing `path` (relative to w->dir, NULL for w->dir itself) failed with errno e
 * and returns rc. */
static int fail(struct fs_writer *w, int rc, const char *path, const char *what, int e)
{
    if (w->err != NULL) {
        snprintf(w->err->msg, sizeof w->err->msg, "%s%s: %s: %s", w->dir, path ? path : "", what,
                 strerror(e));
    }
    return rc;
}

/* mkdir -p dir, then opens it. Returns its descriptor or an HO_E* code. */
static int open_target(struct fs_writer *w)
{
    size_t n = strlen(w->dir);
    char *p = malloc(n + 1);
    if (p == NULL) {
        return fail(w, HO_ENOMEM, NULL, "cannot make", ENOMEM);
    }
    memcpy(p, w->dir, n + 1);
    /* Each prefix that ends before a '/', then the whole path; what exists already is used. */
    for (size_t i = 1; i <= n; i++) {
        if (i < n && p[i] != '/') {
            continue;
        }
        p[i] = '\0';
        int rc = mkdir(p, FILESET_DIR_MODE) == 0 || errno == EEXIST ? 0 : errno;
        if (i < n) {
            p[i] = '/';
        }
        if (rc != 0) {
            free(p);
            return fail(w, from_errno(rc), NULL, "cannot make", rc);
        }
    }
    free(p);
    int fd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        /* dir, or a parent of it, is something other than a directory (ENOTDIR): the
         * caller's mistake, HO_ENOENT, not something of the set in the way. */
        return fail(w, from_errno(errno), NULL, "cannot open", errno);
    }
    return fd;
}

/* Makes (or reuses) the directory `name` in parent_fd and opens it without following a
 * symlink. `shown` is its path for messages. Returns its descriptor or an HO_E* code. */
static int open_subdir(struct fs_writer *w, int parent_fd, const char *name, const char *shown)
{
    if (mkdirat(parent_fd, name, FILESET_DIR_MODE) != 0 && errno != EEXIST) {
        return fail(w, from_errno(errno), shown, "cannot make", errno);
    }
    int fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        /* A file (ENOTDIR) or a symlink (ELOOP) holds the name the set needs. */
        int rc = e == ENOTDIR || e == ELOOP ? HO_EEXIST : from_errno(e);
        return fail(w, rc, shown, "cannot open as a directory", e);
    }
    return fd;
}

/* Writes p[0..n) to fd whatever write() does short or interrupted. Returns 0 or an errno. */
static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        }
        if (k == 0) {
            return EIO; /* a regular file never takes nothing; do not spin */
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Creates `name` in dir_fd (its set path is f->path) and fills it; removes it if it cannot be
 * completed. */
static int write_file(struct fs_writer *w, int dir_fd, const char *name,
                      const struct ho_fileset_file *f)
{
    int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                    FILESET_FILE_MODE);
    if (fd < 0) {
        return fail(w, from_errno(errno), f->path, "cannot create", errno);
    }
    int e = 0;
    for (uint32_t off = 0; off < f->size && e == 0;) {
        size_t n = f->size - off < WRITE_CHUNK ? f->size - off : WRITE_CHUNK;
        ho_fileset_fill(f->path, w->seed, off, w->buf, n);
        e = write_all(fd, w->buf, n);
        off += (uint32_t)n;
    }
    /* Linux releases the descriptor even when close() fails; EINTR loses nothing written. */
    if (close(fd) != 0 && e == 0 && errno != EINTR) {
        e = errno;
    }
    if (e != 0) {
        /* O_EXCL made it ours: remove it rather than leave a short file that looks whole. */
        unlinkat(dir_fd, name, 0);
        return fail(w, from_errno(e), f->path, "cannot write", e);
    }
    w->done += f->size;
    if (w->progress != NULL && (w->done == w->total || (w->done - w->told) * 100 >= w->total)) {
        w->told = w->done;
        w->progress(w->ctx, w->done, w->total);
    }
    return HO_OK;
}

/*
 * Splits a set path "/file_set/dirNNNNN/classC_F" into its three names, in place in buf (a copy
 * of the path): the names come from ho_fileset_object_path(), the one place that spells them.
 */
static void split_path(char *buf, const char **top, const char **dir, const char **leaf)
{
    char *slash = strrchr(buf, '/');
    *slash = '\0';
    *leaf = slash + 1;
    slash = strrchr(buf, '/');
    *slash = '\0';
    *dir = slash + 1;
    *top = buf + 1;
}

/* Writes every file in order, one dirNNNNN at a time, with set_fd open on file_set. */
static int write_dirs(struct fs_writer *w, int set_fd, uint32_t connections)
{
    int count = ho_fileset_count(connections);
    int dir_fd = -1;
    int rc = HO_OK;
    for (int i = 0; i < count && rc == HO_OK; i++) {
        struct ho_fileset_file f;
        char names[HO_FILESET_PATH_MAX];
        const char *top, *dir, *leaf;
        ho_fileset_file(connections, (uint32_t)i, &f);
        memcpy(names, f.path, sizeof names);
        split_path(names, &top, &dir, &leaf);
        if (i % HO_SPEC_DIR_FILES == 0) {
            if (dir_fd >= 0) {
                close(dir_fd);
            }
            /* f.path cut after its directory, for messages. */
            char shown[HO_FILESET_PATH_MAX];
            snprintf(shown, sizeof shown, "/%s/%s", top, dir);
            dir_fd = open_subdir(w, set_fd, dir, shown);
            if (dir_fd < 0) {
                return dir_fd;
            }
        }
        rc = write_file(w, dir_fd, leaf, &f);
    }
    if (dir_fd >= 0) {
        close(dir_fd);
    }
    return rc;
}

int ho_fileset_generate(const char *dir, uint32_t connections, uint64_t seed,
                        ho_fileset_progress_cb progress, void *ctx, struct ho_wl_err *err)
{
    if (err != NULL) {
        err->msg[0] = '\0';
    }
    int count = ho_fileset_count(connections);
    if (dir == NULL || dir[0] == '\0' || count < 0) {
        if (err != NULL) {
            snprintf(err->msg, sizeof err->msg, "file set: %s",
                     count < 0 ? "connections out of range" : "no directory given");
        }
        return HO_EINVAL;
    }
    struct fs_writer w = {.dir = dir, .seed = seed, .progress = progress, .ctx = ctx, .err = err};
    /* Every directory holds the same 36 sizes. */
    uint64_t per_dir = 0;
    for (uint32_t i = 0; i < HO_SPEC_DIR_FILES; i++) {
        per_dir += ho_genspec_file_size(i / HO_SPEC_FILES, i % HO_SPEC_FILES);
    }
    w.total = per_dir * (uint64_t)(count / HO_SPEC_DIR_FILES);

    w.buf = malloc(WRITE_CHUNK);
    if (w.buf == NULL) {
        return fail(&w, HO_ENOMEM, NULL, "cannot write", ENOMEM);
    }
    int rc = open_target(&w);
    if (rc >= 0) {
        int root_fd = rc;
        char names[HO_FILESET_PATH_MAX];
        const char *top, *sub, *leaf;
        ho_fileset_object_path(0, names, sizeof names);
        split_path(names, &top, &sub, &leaf);
        char shown[HO_FILESET_PATH_MAX];
        snprintf(shown, sizeof shown, "/%s", top);
        rc = open_subdir(&w, root_fd, top, shown);
        if (rc >= 0) {
            int set_fd = rc;
            rc = write_dirs(&w, set_fd, connections);
            close(set_fd);
        }
        close(root_fd);
    }
    free(w.buf);
    return rc < 0 ? rc : HO_OK;
}
