/*
 * test_filecache.c - the server's cache of mapped files (src/app/filecache.c, filecache.h), on
 * real files in a mkdtemp() document root made afresh for each test and removed after it.
 *
 * What is checked, against filecache.h's contract:
 *  - a hit: two fc_get of a path within the revalidation interval give the same fc_file (the
 *    same bytes), equal to the file's content, with its size, mtime and content type, one
 *    mapping of the file, and no descriptor left open;
 *  - revalidation: a file replaced (renamed over: other inode, other size or the same size and
 *    mtime) or rewritten in place (same inode, other mtime or other size) is served old until
 *    the interval has passed and new from then on; a response that holds the old file reads the
 *    old bytes until its last fc_put, which unmaps them; an unchanged file keeps its mapping
 *    and the interval starts again from the check;
 *  - removal: a deleted file is served from the cache within the interval, then HO_ENOENT/404;
 *  - failures are not cached: a path that fails (404, 403, 400) is served at once when the file
 *    appears, without waiting for an interval;
 *  - eviction by count: with two entries at most, the least recently used (not the first
 *    inserted) is the one dropped, and entries in use are never dropped (the cache goes over
 *    its bound instead);
 *  - eviction by bytes: a cache smaller than two files keeps one, but a held file stays mapped
 *    and readable while others are got; a file larger than the whole cache is still served;
 *  - empty files (size 0, bytes NULL, nothing mapped), and directories served by index.html;
 *  - fc_destroy with everything given back unmaps and frees everything (mappings counted in
 *    /proc/self/maps; the heap by LeakSanitizer in the sanitizer build), fc_destroy(NULL).
 *
 * Which entries are cached is never judged by an address alone (a new mapping or allocation may
 * come back at a freed one's address): files are renamed over with other content, so an entry
 * still cached serves the old content and one looked up again the new; an fc_file compared by
 * address is held, so it cannot have been freed and reused. Mappings are counted by the file
 * names in /proc/self/maps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "filecache.h"
#include "handoff/docroot.h"
#include "handoff/err.h"
#include "helpers/tt_fs.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define SEC       UINT64_C(1000000000)
#define IVL       SEC                    /* the revalidation interval */
#define LONG      (UINT64_C(1000) * SEC) /* an interval no test reaches */
#define T0        (UINT64_C(100) * SEC)  /* the time of a test's first fc_get */
#define M0        INT64_C(1000000000)    /* the mtime files are written with (2001-09-09) */
#define ANY_BYTES (UINT64_C(1) << 40)
#define BODY_MAX  8192

struct fixture {
    char root[64];
    struct ho_docroot *dr;
    int fds; /* descriptors open after the setup */
};

static int setup_root(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    snprintf(fx->root, sizeof fx->root, "/tmp/ho-filecache-XXXXXX");
    assert_non_null(mkdtemp(fx->root));
    assert_int_equal(ho_docroot_open(fx->root, &fx->dr), HO_OK);
    fx->fds = tt_open_fds();
    assert_true(fx->fds > 0);
    *state = fx;
    return 0;
}

static int teardown_root(void **state)
{
    struct fixture *fx = *state;
    ho_docroot_close(fx->dr);
    int rc = tt_remove_tree(fx->root);
    free(fx);
    return rc;
}

/* ---- files -------------------------------------------------------------------------------- */

static void path_of(const struct fixture *fx, const char *rel, char *buf, size_t cap)
{
    int n = snprintf(buf, cap, "%s/%s", fx->root, rel);
    assert_true(n > 0 && (size_t)n < cap);
}

static void write_all(int fd, const char *data, size_t len)
{
    assert_int_equal(write(fd, data, len), (ssize_t)len);
}

static void set_mtime(int fd, int64_t mtime)
{
    const struct timespec t[2] = {{.tv_sec = (time_t)mtime}, {.tv_sec = (time_t)mtime}};
    assert_int_equal(futimens(fd, t), 0);
}

/* Writes rel afresh as a deploy does: a new file (a new inode) renamed over the old one. */
static void put_file(const struct fixture *fx, const char *rel, const char *data, size_t len,
                     int64_t mtime)
{
    char path[200], tmp[220];
    path_of(fx, rel, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.new", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    write_all(fd, data, len);
    set_mtime(fd, mtime);
    assert_int_equal(close(fd), 0);
    assert_int_equal(rename(tmp, path), 0);
}

static void put_text(const struct fixture *fx, const char *rel, const char *text)
{
    put_file(fx, rel, text, strlen(text), M0);
}

/* Rewrites rel in place: the same inode, truncated and written, then given mtime. */
static void rewrite_in_place(const struct fixture *fx, const char *rel, const char *text,
                             int64_t mtime)
{
    char path[200];
    path_of(fx, rel, path, sizeof path);
    int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
    assert_true(fd >= 0);
    write_all(fd, text, strlen(text));
    set_mtime(fd, mtime);
    assert_int_equal(close(fd), 0);
}

static void make_dir(const struct fixture *fx, const char *rel)
{
    char path[200];
    path_of(fx, rel, path, sizeof path);
    assert_int_equal(mkdir(path, 0755), 0);
}

static void remove_file(const struct fixture *fx, const char *rel)
{
    char path[200];
    path_of(fx, rel, path, sizeof path);
    assert_int_equal(unlink(path), 0);
}

static void make_fifo(const struct fixture *fx, const char *rel)
{
    char path[200];
    path_of(fx, rel, path, sizeof path);
    assert_int_equal(mkfifo(path, 0644), 0);
}

/* Version `version` of file `name`: size bytes of "name vN|" repeated. */
static void body_of(char *buf, size_t size, const char *name, int version)
{
    char unit[64];
    int n = snprintf(unit, sizeof unit, "%s v%d|", name, version);
    assert_true(n > 0 && (size_t)n < sizeof unit);
    assert_true(size < BODY_MAX);
    for (size_t i = 0; i < size; i++) {
        buf[i] = unit[i % (size_t)n];
    }
    buf[size] = '\0';
}

/* Writes <name>.txt at its version (renamed over). */
static void put_version(const struct fixture *fx, const char *name, int version, size_t size)
{
    char rel[64], body[BODY_MAX];
    snprintf(rel, sizeof rel, "%s.txt", name);
    body_of(body, size, name, version);
    put_file(fx, rel, body, size, M0);
}

/*
 * The number of mappings of the file rel beneath the root (replaced or not: the kernel names a
 * mapped file that was renamed over or removed "<path> (deleted)"), or, for rel NULL, of any
 * file beneath the root.
 */
static int mappings(const struct fixture *fx, const char *rel)
{
    char want[200];
    if (rel) {
        path_of(fx, rel, want, sizeof want);
    } else {
        snprintf(want, sizeof want, "%s/", fx->root);
    }
    size_t wlen = strlen(want);
    FILE *m = fopen("/proc/self/maps", "r");
    assert_non_null(m);
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, m)) {
        line[strcspn(line, "\n")] = '\0';
        const char *p = strchr(line, '/');
        if (!p || strncmp(p, want, wlen) != 0) {
            continue;
        }
        if (!rel || p[wlen] == '\0' || strcmp(p + wlen, " (deleted)") == 0) {
            n++;
        }
    }
    fclose(m);
    return n;
}

static void assert_no_fd_leak(const struct fixture *fx)
{
    assert_int_equal(tt_open_fds(), fx->fds);
}

/* ---- the cache ---------------------------------------------------------------------------- */

static const struct fc_file *get_ok(struct fc *c, const struct fixture *fx, const char *path,
                                    uint64_t now)
{
    const struct fc_file *f = NULL;
    int status = 0;
    int rc = fc_get(c, fx->dr, path, now, &f, &status);
    if (rc != HO_OK) {
        print_error("fc_get(%s): %s, status %d\n", path, ho_strerror(rc), status);
    }
    assert_int_equal(rc, HO_OK);
    assert_int_equal(status, 200);
    assert_non_null(f);
    return f;
}

static void get_fails(struct fc *c, const struct fixture *fx, const char *path, uint64_t now,
                      int want_rc, int want_status)
{
    const struct fc_file *f = NULL;
    int status = 0;
    int rc = fc_get(c, fx->dr, path, now, &f, &status);
    if (rc != want_rc) {
        print_error("fc_get(%s): %s, wanted %s\n", path, ho_strerror(rc), ho_strerror(want_rc));
    }
    assert_int_equal(rc, want_rc);
    assert_int_equal(status, want_status);
}

static void assert_bytes(const struct fc_file *f, const char *data, size_t len)
{
    assert_int_equal(f->size, len);
    if (len == 0) {
        assert_null(f->bytes);
    } else {
        assert_non_null(f->bytes);
        assert_memory_equal(f->bytes, data, len);
    }
}

static void assert_text(const struct fc_file *f, const char *text)
{
    assert_bytes(f, text, strlen(text));
}

static void assert_version(const struct fc_file *f, const char *name, int version, size_t size)
{
    char body[BODY_MAX];
    body_of(body, size, name, version);
    assert_bytes(f, body, size);
}

/* ---- a hit -------------------------------------------------------------------------------- */

static void test_hit_same_file(void **state)
{
    const struct fixture *fx = *state;
    static const struct {
        const char *rel, *path, *text, *type;
    } files[] = {
        {"a.txt", "/a.txt", "hello, cache\n", "text/plain"},
        {"page.html", "/page.html", "<p>a page</p>\n", "text/html"},
        {"raw", "/raw", "\x01\x02\xff\xfe raw bytes", "application/octet-stream"},
        {"d/e/deep.css", "/d/e/deep.css", "p { margin: 0 }\n", "text/css"},
    };
    make_dir(fx, "d");
    make_dir(fx, "d/e");
    for (size_t i = 0; i < ARRAY_LEN(files); i++) {
        put_text(fx, files[i].rel, files[i].text);
    }
    struct fc *c = fc_create(16, ANY_BYTES, IVL);
    assert_non_null(c);
    const struct fc_file *first[ARRAY_LEN(files)];
    for (size_t i = 0; i < ARRAY_LEN(files); i++) {
        const struct fc_file *f1 = get_ok(c, fx, files[i].path, T0);
        assert_no_fd_leak(fx); /* the mapping outlives the descriptor */
        const struct fc_file *f2 = get_ok(c, fx, files[i].path, T0 + IVL - 1);
        assert_no_fd_leak(fx);
        assert_ptr_equal(f2, f1);
        assert_ptr_equal(f2->bytes, f1->bytes);
        assert_text(f1, files[i].text);
        assert_int_equal(f1->mtime, M0);
        assert_string_equal(f1->content_type, files[i].type);
        assert_int_equal(mappings(fx, files[i].rel), 1);
        fc_put(c, f1);
        fc_put(c, f2);
        first[i] = f1;
    }
    /* All four are cached at once: each is still a hit, with one mapping each. */
    assert_int_equal(mappings(fx, NULL), (int)ARRAY_LEN(files));
    const struct fc_file *again[ARRAY_LEN(files)];
    for (size_t i = 0; i < ARRAY_LEN(files); i++) {
        again[i] = get_ok(c, fx, files[i].path, T0 + IVL / 2);
        assert_text(again[i], files[i].text);
    }
    for (size_t i = 0; i < ARRAY_LEN(files); i++) {
        /* The first one got is held now, so this cannot be an address reused. */
        assert_ptr_equal(again[i], first[i]);
        fc_put(c, again[i]);
    }
    assert_int_equal(mappings(fx, NULL), (int)ARRAY_LEN(files));
    assert_no_fd_leak(fx);
    fc_destroy(c);
    assert_int_equal(mappings(fx, NULL), 0);
}

/* ---- revalidation ------------------------------------------------------------------------- */

#define ORIGINAL "version one\n"

static void test_revalidation_changed(void **state)
{
    const struct fixture *fx = *state;
    enum how { RENAMED_OVER, IN_PLACE };
    static const struct {
        const char *what;
        enum how how;
        const char *text; /* the new content */
        int64_t mtime;    /* the new mtime */
    } changes[] = {
        /* other inode and size */
        {"renamed over, longer", RENAMED_OVER, "version two, longer\n", M0},
        /* other inode, nothing else */
        {"renamed over, same size and mtime", RENAMED_OVER, "VERSION ONE\n", M0},
        /* other inode and mtime, shorter */
        {"renamed over, shorter, later", RENAMED_OVER, "v2\n", M0 + 60},
        /* the same inode, other mtime only */
        {"in place, same size, other mtime", IN_PLACE, "VERSION ONE\n", M0 + 1},
        /* the same inode, other size only */
        {"in place, longer, same mtime", IN_PLACE, "version one, and more\n", M0},
    };
    for (size_t i = 0; i < ARRAY_LEN(changes); i++) {
        print_message("revalidation: %s\n", changes[i].what);
        put_text(fx, "r.txt", ORIGINAL);
        struct fc *c = fc_create(16, ANY_BYTES, IVL);
        assert_non_null(c);
        /* A response keeps the old file while it is replaced. Only a file renamed over keeps
         * its old bytes: a mapping of a file rewritten in place shows the new ones (and past
         * the new end of a shorter one, SIGBUS), so that one is given back first. */
        bool hold = changes[i].how == RENAMED_OVER;
        const struct fc_file *f1 = get_ok(c, fx, "/r.txt", T0);
        assert_text(f1, ORIGINAL);
        if (!hold) {
            fc_put(c, f1);
        }

        if (changes[i].how == RENAMED_OVER) {
            put_file(fx, "r.txt", changes[i].text, strlen(changes[i].text), changes[i].mtime);
        } else {
            rewrite_in_place(fx, "r.txt", changes[i].text, changes[i].mtime);
        }

        /* Within the interval: the cached entry, as it was. */
        const struct fc_file *f2 = get_ok(c, fx, "/r.txt", T0 + IVL - 1);
        assert_ptr_equal(f2, f1);
        assert_int_equal(f2->size, strlen(ORIGINAL));
        assert_int_equal(f2->mtime, M0);
        if (hold) {
            assert_text(f2, ORIGINAL);
        }
        fc_put(c, f2);

        /* Once it has passed: the new file. */
        const struct fc_file *f3 = get_ok(c, fx, "/r.txt", T0 + IVL);
        assert_text(f3, changes[i].text);
        assert_int_equal(f3->mtime, changes[i].mtime);
        if (hold) {
            /* The old file lives on for its holder, mapped beside the new one. */
            assert_ptr_not_equal(f3, f1);
            assert_int_equal(mappings(fx, "r.txt"), 2);
            assert_text(f1, ORIGINAL);
            assert_int_equal(f1->mtime, M0);
            fc_put(c, f1); /* its last holder: unmapped now */
        }
        assert_int_equal(mappings(fx, "r.txt"), 1);

        /* The new entry is cached from its check on. */
        const struct fc_file *f4 = get_ok(c, fx, "/r.txt", T0 + IVL + 1);
        assert_ptr_equal(f4, f3);
        assert_text(f4, changes[i].text);
        fc_put(c, f4);
        fc_put(c, f3);
        assert_no_fd_leak(fx);
        fc_destroy(c);
        assert_int_equal(mappings(fx, NULL), 0);
    }
}

static void test_revalidation_unchanged(void **state)
{
    const struct fixture *fx = *state;
    put_text(fx, "u.txt", ORIGINAL);
    struct fc *c = fc_create(16, ANY_BYTES, IVL);
    assert_non_null(c);
    const struct fc_file *f1 = get_ok(c, fx, "/u.txt", T0); /* held throughout */

    /* Checked again long after, unchanged: the same entry and mapping. */
    const struct fc_file *f2 = get_ok(c, fx, "/u.txt", T0 + 3 * IVL);
    assert_ptr_equal(f2, f1);
    assert_ptr_equal(f2->bytes, f1->bytes);
    assert_int_equal(mappings(fx, "u.txt"), 1);
    fc_put(c, f2);

    /* The interval runs from that check, not from the first lookup. */
    put_text(fx, "u.txt", "version two\n");
    const struct fc_file *f3 = get_ok(c, fx, "/u.txt", T0 + 4 * IVL - 1);
    assert_ptr_equal(f3, f1);
    assert_text(f3, ORIGINAL);
    fc_put(c, f3);
    const struct fc_file *f4 = get_ok(c, fx, "/u.txt", T0 + 4 * IVL);
    assert_text(f4, "version two\n");
    assert_text(f1, ORIGINAL);
    fc_put(c, f4);
    fc_put(c, f1);
    assert_int_equal(mappings(fx, "u.txt"), 1);

    /* An interval of 0: every fc_get looks the file up, and still keeps an unchanged one. */
    struct fc *c0 = fc_create(16, ANY_BYTES, 0);
    assert_non_null(c0);
    const struct fc_file *g1 = get_ok(c0, fx, "/u.txt", T0);
    const struct fc_file *g2 = get_ok(c0, fx, "/u.txt", T0);
    assert_ptr_equal(g2, g1);
    fc_put(c0, g2);
    put_text(fx, "u.txt", "version three\n");
    const struct fc_file *g3 = get_ok(c0, fx, "/u.txt", T0);
    assert_text(g3, "version three\n");
    assert_text(g1, "version two\n");
    fc_put(c0, g3);
    fc_put(c0, g1);

    assert_no_fd_leak(fx);
    fc_destroy(c0);
    fc_destroy(c);
    assert_int_equal(mappings(fx, NULL), 0);
}

/* ---- removal ------------------------------------------------------------------------------ */

static void test_removed_file(void **state)
{
    const struct fixture *fx = *state;
    static const struct {
        const char *rel, *path;
        bool hold; /* a response holds the file while it goes */
    } cases[] = {
        {"gone.txt", "/gone.txt", false},
        {"gone.txt", "/gone.txt", true},
        {"dir/index.html", "/dir/", false},
        {"dir/index.html", "/dir", true},
    };
    make_dir(fx, "dir");
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("removal: %s%s\n", cases[i].path, cases[i].hold ? ", held" : "");
        put_text(fx, cases[i].rel, "here for now\n");
        struct fc *c = fc_create(16, ANY_BYTES, IVL);
        assert_non_null(c);
        const struct fc_file *f1 = get_ok(c, fx, cases[i].path, T0);
        if (!cases[i].hold) {
            fc_put(c, f1);
        }
        remove_file(fx, cases[i].rel);

        /* Within the interval the cache still has it (a lookup could not find it). */
        const struct fc_file *f2 = get_ok(c, fx, cases[i].path, T0 + IVL - 1);
        assert_text(f2, "here for now\n");
        fc_put(c, f2);

        /* Then it is gone, for good. */
        get_fails(c, fx, cases[i].path, T0 + IVL, HO_ENOENT, 404);
        if (cases[i].hold) {
            assert_int_equal(mappings(fx, cases[i].rel), 1);
            assert_text(f1, "here for now\n");
            fc_put(c, f1);
        }
        assert_int_equal(mappings(fx, cases[i].rel), 0);
        get_fails(c, fx, cases[i].path, T0 + IVL + 1, HO_ENOENT, 404);

        /* Back again: served at once, as the 404 was not cached. */
        put_text(fx, cases[i].rel, "back again\n");
        const struct fc_file *f3 = get_ok(c, fx, cases[i].path, T0 + IVL + 1);
        assert_text(f3, "back again\n");
        fc_put(c, f3);
        remove_file(fx, cases[i].rel);

        assert_no_fd_leak(fx);
        fc_destroy(c);
        assert_int_equal(mappings(fx, NULL), 0);
    }
}

/* ---- failures are not cached -------------------------------------------------------------- */

static void test_errors_not_cached(void **state)
{
    const struct fixture *fx = *state;
    enum prep { NOTHING, DIR_ONLY, FIFO };
    static const struct {
        const char *path;
        enum prep prep;  /* what is there when it fails */
        int rc, status;  /* how it fails */
        const char *fix; /* the file that then appears (NULL: nothing can fix the path) */
    } cases[] = {
        {"/late.txt", NOTHING, HO_ENOENT, 404, "late.txt"},
        {"/sub/late.txt", NOTHING, HO_ENOENT, 404, "sub/late.txt"},
        {"/docs/", DIR_ONLY, HO_ENOENT, 404, "docs/index.html"},
        {"/docs2", DIR_ONLY, HO_ENOENT, 404, "docs2/index.html"},
        {"/fifo.txt", FIFO, HO_ELIMIT, 403, "fifo.txt"},
        {"relative.txt", NOTHING, HO_EPROTO, 400, NULL},
        {"/a/../late.txt", NOTHING, HO_EPROTO, 400, NULL},
    };
    struct fc *c = fc_create(16, ANY_BYTES, LONG);
    assert_non_null(c);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("not cached: %s\n", cases[i].path);
        if (cases[i].prep == DIR_ONLY) {
            char dir[64];
            snprintf(dir, sizeof dir, "%.*s", (int)strcspn(cases[i].fix, "/"), cases[i].fix);
            make_dir(fx, dir);
        } else if (cases[i].prep == FIFO) {
            make_fifo(fx, cases[i].fix);
        }
        get_fails(c, fx, cases[i].path, T0, cases[i].rc, cases[i].status);
        get_fails(c, fx, cases[i].path, T0, cases[i].rc, cases[i].status);
        assert_no_fd_leak(fx);
        if (!cases[i].fix) {
            continue;
        }
        if (cases[i].prep == FIFO) {
            remove_file(fx, cases[i].fix);
        }
        const char *slash = strchr(cases[i].fix, '/');
        if (slash && cases[i].prep == NOTHING) {
            char dir[64];
            snprintf(dir, sizeof dir, "%.*s", (int)(slash - cases[i].fix), cases[i].fix);
            make_dir(fx, dir);
        }
        put_text(fx, cases[i].fix, "now it is here\n");
        /* At the same instant: no interval to wait out. */
        const struct fc_file *f = get_ok(c, fx, cases[i].path, T0);
        assert_text(f, "now it is here\n");
        fc_put(c, f);
        assert_no_fd_leak(fx);
    }
    fc_destroy(c);
    assert_int_equal(mappings(fx, NULL), 0);
}

/* ---- eviction by count -------------------------------------------------------------------- */

#define SMALL 40 /* the size of the files of the eviction by count */

enum op { GET, WRITE_ALL };

struct step {
    enum op op;
    const char *name; /* GET: the file, <name>.txt */
    int version;      /* GET: the version served; WRITE_ALL: the version written */
};

static void test_evict_lru_by_count(void **state)
{
    const struct fixture *fx = *state;
    /* The cache holds two; files are rewritten under it so that what it kept serves the old
     * version and what it dropped is looked up again and serves the new. */
    static const struct step steps[] = {
        {WRITE_ALL, NULL, 1}, {GET, "a", 1},
        {GET, "b", 1},        {GET, "a", 1}, /* a is now the most recently used, though first in */
        {GET, "c", 1},                       /* so b goes */
        {WRITE_ALL, NULL, 2}, {GET, "a", 1}, /* kept */
        {GET, "b", 2}, /* dropped, so looked up again: c goes (a was used since) */
        {GET, "c", 2}, /* dropped: a goes */
        {WRITE_ALL, NULL, 3}, {GET, "b", 2}, /* kept */
        {GET, "c", 2},                       /* kept */
        {GET, "a", 3},                       /* dropped: b goes */
        {GET, "c", 2},                       /* kept */
        {GET, "b", 3},                       /* dropped: a goes */
        {GET, "c", 2},                       /* kept */
        {GET, "a", 3},                       /* dropped */
    };
    static const char *const names[] = {"a", "b", "c"};
    struct fc *c = fc_create(2, ANY_BYTES, LONG);
    assert_non_null(c);
    uint64_t now = T0;
    int disk = 0;
    for (size_t i = 0; i < ARRAY_LEN(steps); i++) {
        const struct step *s = &steps[i];
        if (s->op == WRITE_ALL) {
            for (size_t k = 0; k < ARRAY_LEN(names); k++) {
                put_version(fx, names[k], s->version, SMALL);
            }
            disk = s->version;
            continue;
        }
        char path[32];
        snprintf(path, sizeof path, "/%s.txt", s->name);
        print_message("step %zu: %s, version %d (on disk %d)\n", i, path, s->version, disk);
        const struct fc_file *f = get_ok(c, fx, path, now++);
        assert_version(f, s->name, s->version, SMALL);
        fc_put(c, f);
        assert_true(mappings(fx, NULL) <= 2);
    }
    assert_no_fd_leak(fx);
    fc_destroy(c);
    assert_int_equal(mappings(fx, NULL), 0);
}

static void test_held_not_evicted_by_count(void **state)
{
    const struct fixture *fx = *state;
    static const char *const names[] = {"a", "b", "c", "d"};
    for (size_t k = 0; k < ARRAY_LEN(names); k++) {
        put_version(fx, names[k], 1, SMALL);
    }
    struct fc *c = fc_create(2, ANY_BYTES, LONG);
    assert_non_null(c);
    uint64_t now = T0;

    /* Three held at once in a cache of two: all served and readable, none dropped. */
    const struct fc_file *fa = get_ok(c, fx, "/a.txt", now++);
    const struct fc_file *fb = get_ok(c, fx, "/b.txt", now++);
    const struct fc_file *fcc = get_ok(c, fx, "/c.txt", now++);
    assert_int_equal(mappings(fx, NULL), 3);
    assert_version(fa, "a", 1, SMALL);
    assert_version(fb, "b", 1, SMALL);
    assert_version(fcc, "c", 1, SMALL);
    const struct fc_file *fa2 = get_ok(c, fx, "/a.txt", now++);
    assert_ptr_equal(fa2, fa);
    fc_put(c, fa2);
    fc_put(c, fa);
    fc_put(c, fb);
    fc_put(c, fcc);

    for (size_t k = 0; k < ARRAY_LEN(names); k++) {
        put_version(fx, names[k], 2, SMALL);
    }
    const struct fc_file *f = get_ok(c, fx, "/a.txt", now++); /* still cached */
    assert_version(f, "a", 1, SMALL);
    fc_put(c, f);
    /* A new file brings the cache back within its bound: the least recently used go, b and c,
     * and a stays. */
    f = get_ok(c, fx, "/d.txt", now++);
    assert_version(f, "d", 2, SMALL);
    fc_put(c, f);
    assert_true(mappings(fx, NULL) <= 2);
    f = get_ok(c, fx, "/a.txt", now++);
    assert_version(f, "a", 1, SMALL);
    fc_put(c, f);
    f = get_ok(c, fx, "/b.txt", now++);
    assert_version(f, "b", 2, SMALL);
    fc_put(c, f);
    f = get_ok(c, fx, "/c.txt", now++);
    assert_version(f, "c", 2, SMALL);
    fc_put(c, f);
    assert_true(mappings(fx, NULL) <= 2);

    assert_no_fd_leak(fx);
    fc_destroy(c);
    assert_int_equal(mappings(fx, NULL), 0);
}

/* ---- eviction by bytes -------------------------------------------------------------------- */

#define MID      3000 /* two of them do not fit in the cache */
#define MID_MAX  5000 /* the cache's bytes */
#define HUGE_ONE 8000 /* more than the whole cache */

static void test_evict_by_bytes(void **state)
{
    const struct fixture *fx = *state;
    static const char *const names[] = {"a", "b", "c"};
    for (size_t k = 0; k < ARRAY_LEN(names); k++) {
        put_version(fx, names[k], 1, MID);
    }
    struct fc *c = fc_create(100, MID_MAX, LONG);
    assert_non_null(c);
    uint64_t now = T0;

    /* Unheld, only one fits: getting b drops a. */
    const struct fc_file *f = get_ok(c, fx, "/a.txt", now++);
    assert_version(f, "a", 1, MID);
    fc_put(c, f);
    f = get_ok(c, fx, "/b.txt", now++);
    assert_version(f, "b", 1, MID);
    fc_put(c, f);
    assert_int_equal(mappings(fx, NULL), 1);
    for (size_t k = 0; k < ARRAY_LEN(names); k++) {
        put_version(fx, names[k], 2, MID);
    }
    f = get_ok(c, fx, "/b.txt", now++); /* kept */
    assert_version(f, "b", 1, MID);
    fc_put(c, f);
    f = get_ok(c, fx, "/a.txt", now++); /* dropped, so looked up again; b goes */
    assert_version(f, "a", 2, MID);
    fc_put(c, f);

    /* Held, a stays mapped and readable while b, then c, are got: the cache goes over. */
    const struct fc_file *fa = get_ok(c, fx, "/a.txt", now++);
    assert_version(fa, "a", 2, MID);
    const struct fc_file *fb = get_ok(c, fx, "/b.txt", now++);
    assert_version(fb, "b", 2, MID);
    assert_int_equal(mappings(fx, "a.txt"), 1);
    assert_int_equal(mappings(fx, "b.txt"), 1);
    assert_version(fa, "a", 2, MID);
    fc_put(c, fb);
    const struct fc_file *fcc = get_ok(c, fx, "/c.txt", now++); /* b goes, a cannot */
    assert_version(fcc, "c", 2, MID);
    assert_version(fa, "a", 2, MID);
    assert_int_equal(mappings(fx, "a.txt"), 1);
    assert_int_equal(mappings(fx, "b.txt"), 0);
    fc_put(c, fcc);

    for (size_t k = 0; k < ARRAY_LEN(names); k++) {
        put_version(fx, names[k], 3, MID);
    }
    f = get_ok(c, fx, "/a.txt", now++); /* the held one is still cached */
    assert_ptr_equal(f, fa);
    assert_version(f, "a", 2, MID);
    fc_put(c, f);
    fc_put(c, fa);
    /* From now on only one fits again: each get drops the one before. */
    static const char *const order[] = {"b", "c", "a", "b"};
    for (size_t k = 0; k < ARRAY_LEN(order); k++) {
        char path[16];
        snprintf(path, sizeof path, "/%s.txt", order[k]);
        f = get_ok(c, fx, path, now++);
        assert_version(f, order[k], 3, MID);
        fc_put(c, f);
        assert_int_equal(mappings(fx, NULL), 1);
    }

    /* A file larger than the whole cache is still served. */
    put_version(fx, "huge", 1, HUGE_ONE);
    f = get_ok(c, fx, "/huge.txt", now++);
    assert_version(f, "huge", 1, HUGE_ONE);
    const struct fc_file *fh = get_ok(c, fx, "/huge.txt", now++);
    assert_version(fh, "huge", 1, HUGE_ONE);
    fc_put(c, fh);
    fc_put(c, f);
    f = get_ok(c, fx, "/a.txt", now++);
    assert_version(f, "a", 3, MID);
    fc_put(c, f);
    assert_int_equal(mappings(fx, NULL), 1);

    assert_no_fd_leak(fx);
    fc_destroy(c);
    assert_int_equal(mappings(fx, NULL), 0);
}

/* ---- empty files, directories ------------------------------------------------------------- */

static void test_empty_files(void **state)
{
    const struct fixture *fx = *state;
    put_text(fx, "empty.txt", "");
    make_dir(fx, "e");
    put_text(fx, "e/index.html", "");
    struct fc *c = fc_create(16, ANY_BYTES, IVL);
    assert_non_null(c);

    const struct fc_file *f1 = get_ok(c, fx, "/empty.txt", T0);
    assert_int_equal(f1->size, 0);
    assert_null(f1->bytes);
    assert_int_equal(f1->mtime, M0);
    assert_string_equal(f1->content_type, "text/plain");
    const struct fc_file *f2 = get_ok(c, fx, "/empty.txt", T0 + 1);
    assert_ptr_equal(f2, f1);
    const struct fc_file *fe = get_ok(c, fx, "/e/", T0);
    assert_int_equal(fe->size, 0);
    assert_null(fe->bytes);
    assert_string_equal(fe->content_type, "text/html");
    assert_int_equal(mappings(fx, NULL), 0);
    fc_put(c, f2);
    fc_put(c, fe);

    /* Empty to not, then back to empty, a holder keeping each. */
    put_text(fx, "empty.txt", "not empty now\n");
    const struct fc_file *f3 = get_ok(c, fx, "/empty.txt", T0 + IVL);
    assert_text(f3, "not empty now\n");
    assert_null(f1->bytes);
    assert_int_equal(f1->size, 0);
    put_text(fx, "empty.txt", "");
    const struct fc_file *f4 = get_ok(c, fx, "/empty.txt", T0 + 2 * IVL);
    assert_int_equal(f4->size, 0);
    assert_null(f4->bytes);
    assert_text(f3, "not empty now\n");
    fc_put(c, f1);
    fc_put(c, f3);
    fc_put(c, f4);
    assert_int_equal(mappings(fx, NULL), 0);
    fc_destroy(c);

    /* Empty files in and out of a cache of one, and of no bytes at all. */
    put_text(fx, "full.txt", "some bytes\n");
    static const struct {
        uint32_t max_files;
        uint64_t max_bytes;
    } small[] = {{1, ANY_BYTES}, {16, 0}};
    for (size_t i = 0; i < ARRAY_LEN(small); i++) {
        struct fc *s = fc_create(small[i].max_files, small[i].max_bytes, LONG);
        assert_non_null(s);
        static const char *const paths[] = {"/empty.txt", "/full.txt", "/e/",       "/empty.txt",
                                            "/e",         "/full.txt", "/empty.txt"};
        for (size_t k = 0; k < ARRAY_LEN(paths); k++) {
            const struct fc_file *f = get_ok(s, fx, paths[k], T0 + k);
            assert_int_equal(f->size, strcmp(paths[k], "/full.txt") == 0 ? 11 : 0);
            fc_put(s, f);
        }
        fc_destroy(s);
        assert_int_equal(mappings(fx, NULL), 0);
    }
    assert_no_fd_leak(fx);
}

static void test_directories_index(void **state)
{
    const struct fixture *fx = *state;
    make_dir(fx, "docs");
    make_dir(fx, "docs/sub");
    put_text(fx, "index.html", "the root's index\n");
    put_text(fx, "docs/index.html", "docs index\n");
    put_text(fx, "docs/sub/index.html", "sub index\n");
    put_text(fx, "docs/page.txt", "a page beside\n");
    static const struct {
        const char *path, *text, *type;
        bool docs; /* served by docs/index.html */
    } cases[] = {
        {"/", "the root's index\n", "text/html", false},
        {"/docs", "docs index\n", "text/html", true},
        {"/docs/", "docs index\n", "text/html", true},
        {"/docs/sub", "sub index\n", "text/html", false},
        {"/docs/sub/", "sub index\n", "text/html", false},
        {"/docs/page.txt", "a page beside\n", "text/plain", false},
    };
    struct fc *c = fc_create(16, ANY_BYTES, IVL);
    assert_non_null(c);
    const struct fc_file *held[ARRAY_LEN(cases)];
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        held[i] = get_ok(c, fx, cases[i].path, T0);
        assert_text(held[i], cases[i].text);
        assert_string_equal(held[i]->content_type, cases[i].type);
        assert_int_equal(held[i]->mtime, M0);
    }
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct fc_file *f = get_ok(c, fx, cases[i].path, T0 + IVL - 1);
        assert_ptr_equal(f, held[i]);
        fc_put(c, f);
    }

    /* docs/index.html replaced: both ways to ask for it serve it old, then new. */
    put_text(fx, "docs/index.html", "docs index, second edition\n");
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct fc_file *f = get_ok(c, fx, cases[i].path, T0 + IVL - 1);
        assert_text(f, cases[i].text);
        fc_put(c, f);
        f = get_ok(c, fx, cases[i].path, T0 + IVL);
        assert_text(f, cases[i].docs ? "docs index, second edition\n" : cases[i].text);
        fc_put(c, f);
        assert_text(held[i], cases[i].text);
    }
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        fc_put(c, held[i]);
    }
    assert_no_fd_leak(fx);
    fc_destroy(c);
    assert_int_equal(mappings(fx, NULL), 0);
}

/* ---- destroy ------------------------------------------------------------------------------ */

#define MANY 150 /* more entries than a first allocation would likely hold */

static void test_destroy_frees_everything(void **state)
{
    const struct fixture *fx = *state;
    fc_destroy(NULL);
    fc_destroy(fc_create(4, ANY_BYTES, IVL)); /* never used */

    /* Many entries, all held at once, some empty; then replaced ones, removed ones, evicted
     * ones, every file given back; fc_destroy unmaps the rest. */
    char name[16];
    for (int k = 0; k < MANY; k++) {
        snprintf(name, sizeof name, "f%d", k);
        put_version(fx, name, 1, k % 10 == 0 ? 0 : 20 + (size_t)k);
    }
    struct fc *c = fc_create(MANY, ANY_BYTES, IVL);
    assert_non_null(c);
    const struct fc_file *held[MANY];
    for (int k = 0; k < MANY; k++) {
        char path[24];
        snprintf(name, sizeof name, "f%d", k);
        snprintf(path, sizeof path, "/%s.txt", name);
        held[k] = get_ok(c, fx, path, T0);
    }
    for (int k = 0; k < MANY; k++) {
        char path[24];
        snprintf(name, sizeof name, "f%d", k);
        snprintf(path, sizeof path, "/%s.txt", name);
        const struct fc_file *f = get_ok(c, fx, path, T0 + 1);
        assert_ptr_equal(f, held[k]);
        assert_version(f, name, 1, k % 10 == 0 ? 0 : 20 + (size_t)k);
        fc_put(c, f);
    }
    assert_int_equal(mappings(fx, NULL), MANY - MANY / 10);
    for (int k = 0; k < MANY; k += 3) { /* replaced while held */
        snprintf(name, sizeof name, "f%d", k);
        put_version(fx, name, 2, 33);
    }
    for (int k = 1; k < MANY; k += 7) { /* removed while held */
        char rel[24];
        snprintf(rel, sizeof rel, "f%d.txt", k);
        remove_file(fx, rel);
    }
    for (int k = 0; k < MANY; k++) {
        char path[24];
        snprintf(path, sizeof path, "/f%d.txt", k);
        const struct fc_file *f = NULL;
        int status = 0;
        if (fc_get(c, fx->dr, path, T0 + IVL, &f, &status) == HO_OK) {
            fc_put(c, f);
        }
    }
    for (int k = 0; k < MANY; k++) {
        fc_put(c, held[k]);
    }
    /* A cache of a few afterwards: most are evicted as these come in. */
    struct fc *few = fc_create(4, 100, IVL);
    assert_non_null(few);
    for (int k = 2; k < MANY; k += 7) {
        char path[24];
        snprintf(path, sizeof path, "/f%d.txt", k);
        const struct fc_file *f = get_ok(few, fx, path, T0);
        fc_put(few, f);
        f = get_ok(c, fx, path, T0 + IVL + 1);
        fc_put(c, f);
    }
    assert_true(mappings(fx, NULL) > 0);
    assert_no_fd_leak(fx);
    fc_destroy(few);
    fc_destroy(c);
    assert_int_equal(mappings(fx, NULL), 0);
    /* What is left on the heap, LeakSanitizer reports when the program ends. */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hit_same_file, setup_root, teardown_root),
        cmocka_unit_test_setup_teardown(test_revalidation_changed, setup_root, teardown_root),
        cmocka_unit_test_setup_teardown(test_revalidation_unchanged, setup_root, teardown_root),
        cmocka_unit_test_setup_teardown(test_removed_file, setup_root, teardown_root),
        cmocka_unit_test_setup_teardown(test_errors_not_cached, setup_root, teardown_root),
        cmocka_unit_test_setup_teardown(test_evict_lru_by_count, setup_root, teardown_root),
        cmocka_unit_test_setup_teardown(test_held_not_evicted_by_count, setup_root, teardown_root),
        cmocka_unit_test_setup_teardown(test_evict_by_bytes, setup_root, teardown_root),
        cmocka_unit_test_setup_teardown(test_empty_files, setup_root, teardown_root),
        cmocka_unit_test_setup_teardown(test_directories_index, setup_root, teardown_root),
        cmocka_unit_test_setup_teardown(test_destroy_frees_everything, setup_root, teardown_root),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
