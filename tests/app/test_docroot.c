/*
 * test_docroot.c - the server's real-file layer (src/app/docroot.c, include/handoff/docroot.h):
 * one table of request paths over a tree built for it (plain and nested files, index.html,
 * symlinks inside the root and leading out of it, a FIFO and a socket, names and paths too
 * long, paths the parser would never pass), run under both resolvers, openat2 and the walk,
 * with the status, the return code, and for a served file its bytes, size, mtime, content type
 * and descriptor flags; then the roots that cannot be opened, the bad arguments, running out of
 * descriptors (500), and a generated SPECweb99 file set (ho_fileset_generate) served byte for
 * byte as ho_fileset_fill says.
 *
 * The tree lives in a mkdtemp() directory under /tmp, made by the group setup and removed by
 * its teardown. Tests run as root in CI, so no case relies on permission bits. A FIFO opened
 * the blocking way would hang the program: an alarm turns that into a failure. Every lookup is
 * closed and the count of /proc/self/fd is the same before and after the table.
 */
#define _XOPEN_SOURCE 700 /* nftw */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "handoff/docroot.h"
#include "handoff/err.h"
#include "handoff/workload.h"
#include "helpers/tt_fs.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define PLAIN_MTIME   INT64_C(1000000000) /* 2001-09-09, set on plain.txt */
#define ALARM_SECONDS 20                  /* a blocked open fails the program instead of hanging */

/* The tree: tmp/secret.txt outside the root, everything else beneath tmp/root. */
struct fixture {
    char tmp[64];
    char root[96];
};

/* ---- building and removing the tree ------------------------------------------------------- */

static void path_in(const struct fixture *fx, const char *rel, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", fx->root, rel);
}

static void put_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(close(fd), 0);
}

static void put(const struct fixture *fx, const char *rel, const char *text)
{
    char path[256];
    path_in(fx, rel, path, sizeof path);
    put_file(path, text);
}

static void put_dir(const struct fixture *fx, const char *rel)
{
    char path[256];
    path_in(fx, rel, path, sizeof path);
    assert_int_equal(mkdir(path, 0755), 0);
}

static void put_link(const struct fixture *fx, const char *rel, const char *target)
{
    char path[256];
    path_in(fx, rel, path, sizeof path);
    assert_int_equal(symlink(target, path), 0);
}

/* A Unix socket's file; the socket itself is closed, the file stays. */
static void put_socket(const struct fixture *fx, const char *rel)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    path_in(fx, rel, sa.sun_path, sizeof sa.sun_path);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(s >= 0);
    assert_int_equal(bind(s, (const struct sockaddr *)&sa, sizeof sa), 0);
    close(s);
}

static int setup_tree(void **state)
{
    struct fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    snprintf(fx->tmp, sizeof fx->tmp, "/tmp/ho-docroot-XXXXXX");
    assert_non_null(mkdtemp(fx->tmp));
    snprintf(fx->root, sizeof fx->root, "%s/root", fx->tmp);
    assert_int_equal(mkdir(fx->root, 0755), 0);

    char path[256];
    snprintf(path, sizeof path, "%s/secret.txt", fx->tmp);
    put_file(path, "outside the root\n");

    put(fx, "plain.txt", "hello, docroot\n");
    path_in(fx, "plain.txt", path, sizeof path);
    const struct timespec t[2] = {{.tv_sec = PLAIN_MTIME}, {.tv_sec = PLAIN_MTIME}};
    assert_int_equal(utimensat(AT_FDCWD, path, t, 0), 0);
    put_dir(fx, "a");
    put_dir(fx, "a/b");
    put_dir(fx, "a/b/c");
    put(fx, "a/b/c/deep.html", "<p>deep</p>\n");
    put_dir(fx, "site");
    put(fx, "site/index.html", "<h1>site</h1>\n");
    put_dir(fx, "empty");
    put_dir(fx, "weird");
    put_dir(fx, "weird/index.html");
    put(fx, "data.bin", "");

    put_link(fx, "link.txt", "plain.txt");
    put_link(fx, "linkdir", "a/b");
    put_link(fx, "passwd", "/etc/passwd");
    put_link(fx, "a/b/chain", "../hop");
    put_link(fx, "a/hop", "../../secret.txt"); /* from root/a: tmp/secret.txt */
    put_link(fx, "a/detour.txt", "../../root/plain.txt");
    put_link(fx, "dangling", "nowhere");
    put_link(fx, "loop", "loop");
    put_link(fx, "proc", "/proc/self/root/etc/passwd");
    put_dir(fx, "escindex");
    put_link(fx, "escindex/index.html", "/etc/passwd");

    path_in(fx, "fifo", path, sizeof path);
    assert_int_equal(mkfifo(path, 0644), 0);
    put_socket(fx, "sock");
    *state = fx;
    return 0;
}

static int teardown_tree(void **state)
{
    struct fixture *fx = *state;
    int rc = tt_remove_tree(fx->tmp);
    free(fx);
    return rc;
}

/* ---- helpers ------------------------------------------------------------------------------ */

static int open_fds(void)
{
    int n = tt_open_fds();
    assert_true(n > 0);
    return n;
}

/* The return code that goes with a status. */
static int code_for(int status)
{
    switch (status) {
    case 200:
        return HO_OK;
    case 400:
        return HO_EPROTO;
    case 403:
        return HO_ELIMIT;
    case 404:
        return HO_ENOENT;
    case 414:
        return HO_EMSGSIZE;
    default:
        fail_msg("no code for status %d", status);
        return 0;
    }
}

/* Reads the whole of fd from its start into buf (at most cap bytes); returns the bytes read. */
static size_t read_fd(int fd, char *buf, size_t cap)
{
    size_t got = 0;
    for (;;) {
        ssize_t k = pread(fd, buf + got, cap - got, (off_t)got);
        assert_true(k >= 0);
        if (k == 0 || got + (size_t)k == cap) {
            return got + (size_t)k;
        }
        got += (size_t)k;
    }
}

/* ---- the table ---------------------------------------------------------------------------- */

struct lookup_case {
    const char *name;
    const char *path;
    int status;       /* with the openat2 resolver */
    int walk_status;  /* with the walk, 0: the same */
    const char *body; /* a 200's bytes */
    const char *content_type;
    int64_t mtime; /* checked when not 0 */
};

static const struct lookup_case lookup_cases[] = {
    {"plain file", "/plain.txt", 200, 0, "hello, docroot\n", "text/plain", PLAIN_MTIME},
    {"nested path", "/a/b/c/deep.html", 200, 0, "<p>deep</p>\n", "text/html", 0},
    {"empty file", "/data.bin", 200, 0, "", "application/octet-stream", 0},
    {"missing file", "/nope.txt", 404, 0, NULL, NULL, 0},
    {"missing directory", "/nope/x.txt", 404, 0, NULL, NULL, 0},
    {"file used as a directory", "/plain.txt/x", 404, 0, NULL, NULL, 0},
    {"file with a trailing slash", "/plain.txt/", 404, 0, NULL, NULL, 0},
    {"directory with index.html", "/site/", 200, 0, "<h1>site</h1>\n", "text/html", 0},
    {"directory without its slash", "/site", 200, 0, "<h1>site</h1>\n", "text/html", 0},
    {"root without index.html", "/", 404, 0, NULL, NULL, 0},
    {"directory without index.html", "/empty/", 404, 0, NULL, NULL, 0},
    {"same, without its slash", "/empty", 404, 0, NULL, NULL, 0},
    {"index.html is a directory", "/weird/", 403, 0, NULL, NULL, 0},
    /* Symlinks inside the root: followed by openat2, refused by the walk. */
    {"symlink to a file inside", "/link.txt", 200, 404, "hello, docroot\n", "text/plain", 0},
    {"symlink to a directory inside", "/linkdir/c/deep.html", 200, 404, "<p>deep</p>\n",
     "text/html", 0},
    /* Symlinks leading out: 404 whether or not the target exists. */
    {"symlink to /etc/passwd", "/passwd", 404, 0, NULL, NULL, 0},
    {"chain escaping by ../../", "/a/b/chain", 404, 0, NULL, NULL, 0},
    {"out and back in", "/a/detour.txt", 404, 0, NULL, NULL, 0},
    {"through /proc", "/proc", 404, 0, NULL, NULL, 0},
    {"index.html leading out", "/escindex/", 404, 0, NULL, NULL, 0},
    {"dangling symlink", "/dangling", 404, 0, NULL, NULL, 0},
    {"symlink loop", "/loop", 404, 0, NULL, NULL, 0},
    /* Only regular files. */
    {"FIFO", "/fifo", 403, 0, NULL, NULL, 0},
    {"socket", "/sock", 403, 0, NULL, NULL, 0},
    /* Not what ho_http_parse passes. */
    {"empty path", "", 400, 0, NULL, NULL, 0},
    {"relative path", "plain.txt", 400, 0, NULL, NULL, 0},
    {"dot segment", "/./plain.txt", 400, 0, NULL, NULL, 0},
    {"dot segment at the end", "/site/.", 400, 0, NULL, NULL, 0},
    {"dot-dot segment", "/a/../plain.txt", 400, 0, NULL, NULL, 0},
    {"dot-dot above the root", "/../etc/passwd", 400, 0, NULL, NULL, 0},
    {"empty segment", "/a//b/c/deep.html", 400, 0, NULL, NULL, 0},
    {"root with two slashes", "//", 400, 0, NULL, NULL, 0},
};

/* Runs lookup_cases on a root with this resolver. */
static void run_table(const struct fixture *fx, enum ho_docroot_resolver how)
{
    struct ho_docroot *dr;
    assert_int_equal(ho_docroot_open_with(fx->root, how, &dr), HO_OK);
    bool walk = ho_docroot_resolver(dr) == HO_DOCROOT_WALK;
    if (how == HO_DOCROOT_AUTO && walk) {
        print_message("note: this kernel has no usable openat2; AUTO resolves by the walk\n");
    }
    for (size_t i = 0; i < ARRAY_LEN(lookup_cases); i++) {
        const struct lookup_case *t = &lookup_cases[i];
        int want = walk && t->walk_status != 0 ? t->walk_status : t->status;
        struct ho_docfile f;
        int status = 0;
        int rc = ho_docroot_lookup(dr, t->path, &f, &status);
        if (status != want || rc != code_for(want)) {
            fail_msg("%s (%s, %s): status %d rc %d, want %d rc %d", t->name, t->path,
                     walk ? "walk" : "openat2", status, rc, want, code_for(want));
        }
        if (want != 200) {
            assert_int_equal(f.fd, -1);
            ho_docfile_close(&f); /* safe on a failed lookup */
            continue;
        }
        char body[256];
        size_t n = read_fd(f.fd, body, sizeof body);
        assert_int_equal(n, strlen(t->body));
        assert_memory_equal(body, t->body, n);
        assert_int_equal(f.size, strlen(t->body));
        assert_string_equal(f.content_type, t->content_type);
        if (t->mtime != 0) {
            assert_int_equal(f.mtime, t->mtime);
        }
        /* Blocking again, read-only, closed on exec. */
        int fl = fcntl(f.fd, F_GETFL);
        assert_int_equal(fl & O_NONBLOCK, 0);
        assert_int_equal(fl & O_ACCMODE, O_RDONLY);
        assert_true(fcntl(f.fd, F_GETFD) & FD_CLOEXEC);
        ho_docfile_close(&f);
        assert_int_equal(f.fd, -1);
        ho_docfile_close(&f); /* twice is fine */
    }
    ho_docroot_close(dr);
}

static void test_lookup_openat2(void **state)
{
    const struct fixture *fx = *state;
    int fds = open_fds();
    alarm(ALARM_SECONDS);
    run_table(fx, HO_DOCROOT_AUTO);
    alarm(0);
    assert_int_equal(open_fds(), fds);
}

static void test_lookup_walk(void **state)
{
    const struct fixture *fx = *state;
    int fds = open_fds();
    alarm(ALARM_SECONDS);
    run_table(fx, HO_DOCROOT_WALK);
    alarm(0);
    assert_int_equal(open_fds(), fds);
}

/*
 * Too long: a segment over NAME_MAX is 414 (ENAMETOOLONG), not 404, under both resolvers: the
 * client asked for a name no file can have, which is its request's fault; and a path of
 * PATH_MAX bytes or more is 414 before anything is opened.
 */
static void test_too_long(void **state)
{
    const struct fixture *fx = *state;
    static char long_name[1 + NAME_MAX + 2];
    static char long_path[PATH_MAX + 2];
    long_name[0] = '/';
    memset(long_name + 1, 'n', NAME_MAX + 1);
    long_name[sizeof long_name - 1] = '\0';
    for (size_t i = 0; i + 1 < sizeof long_path; i += 2) {
        long_path[i] = '/';
        long_path[i + 1] = 'p';
    }
    long_path[sizeof long_path - 1] = '\0';
    /* "/site" followed by a long name inside it: the long segment is not the first. */
    static char nested[6 + NAME_MAX + 2];
    snprintf(nested, sizeof nested, "/site%s", long_name);

    const char *paths[] = {long_name, long_path, nested};
    const enum ho_docroot_resolver resolvers[] = {HO_DOCROOT_AUTO, HO_DOCROOT_WALK};
    for (size_t r = 0; r < ARRAY_LEN(resolvers); r++) {
        struct ho_docroot *dr;
        assert_int_equal(ho_docroot_open_with(fx->root, resolvers[r], &dr), HO_OK);
        for (size_t i = 0; i < ARRAY_LEN(paths); i++) {
            struct ho_docfile f;
            int status = 0;
            assert_int_equal(ho_docroot_lookup(dr, paths[i], &f, &status), HO_EMSGSIZE);
            assert_int_equal(status, 414);
            assert_int_equal(f.fd, -1);
        }
        ho_docroot_close(dr);
    }
}

static void test_open_errors(void **state)
{
    const struct fixture *fx = *state;
    int fds = open_fds();
    struct ho_docroot *dr = NULL;
    char path[256];
    assert_int_equal(ho_docroot_open(NULL, &dr), HO_EINVAL);
    assert_int_equal(ho_docroot_open("", &dr), HO_EINVAL);
    assert_int_equal(ho_docroot_open(fx->root, NULL), HO_EINVAL);
    path_in(fx, "nope", path, sizeof path);
    assert_int_equal(ho_docroot_open(path, &dr), HO_ENOENT);
    path_in(fx, "plain.txt", path, sizeof path);
    assert_int_equal(ho_docroot_open(path, &dr), HO_ENOENT);
    assert_int_equal(ho_docroot_open_with(fx->root, HO_DOCROOT_OPENAT2, &dr), HO_EINVAL);
    assert_int_equal(ho_docroot_open_with(fx->root, (enum ho_docroot_resolver)99, &dr), HO_EINVAL);
    assert_null(dr); /* untouched by every failure */
    /* A symlink to a directory is fine as the root itself: the caller named it. */
    path_in(fx, "linkdir", path, sizeof path);
    assert_int_equal(ho_docroot_open_with(path, HO_DOCROOT_WALK, &dr), HO_OK);
    struct ho_docfile f;
    int status;
    assert_int_equal(ho_docroot_lookup(dr, "/c/deep.html", &f, &status), HO_OK);
    ho_docfile_close(&f);
    ho_docroot_close(dr);
    ho_docroot_close(NULL);
    assert_int_equal(open_fds(), fds);
}

static void test_lookup_bad_arguments(void **state)
{
    const struct fixture *fx = *state;
    struct ho_docroot *dr;
    assert_int_equal(ho_docroot_open(fx->root, &dr), HO_OK);
    struct ho_docfile f = {.fd = 12345};
    int status = 0;
    assert_int_equal(ho_docroot_lookup(NULL, "/plain.txt", &f, &status), HO_EINVAL);
    assert_int_equal(f.fd, -1);
    assert_int_equal(status, 500);
    status = 0;
    assert_int_equal(ho_docroot_lookup(dr, NULL, &f, &status), HO_EINVAL);
    assert_int_equal(status, 500);
    assert_int_equal(ho_docroot_lookup(dr, "/plain.txt", NULL, &status), HO_EINVAL);
    f.fd = 12345;
    assert_int_equal(ho_docroot_lookup(dr, "/plain.txt", &f, NULL), HO_EINVAL);
    assert_int_equal(f.fd, -1);
    ho_docfile_close(NULL);
    ho_docroot_close(dr);
}

/* With no descriptor left, a lookup is the server's 500 (HO_ENOSPC), never a 404. */
static void test_out_of_descriptors(void **state)
{
    const struct fixture *fx = *state;
    const enum ho_docroot_resolver resolvers[] = {HO_DOCROOT_AUTO, HO_DOCROOT_WALK};
    for (size_t r = 0; r < ARRAY_LEN(resolvers); r++) {
        struct ho_docroot *dr;
        assert_int_equal(ho_docroot_open_with(fx->root, resolvers[r], &dr), HO_OK);
        /* The lowest free descriptor becomes the limit: the next open fails with EMFILE. */
        int lowest = open("/dev/null", O_RDONLY | O_CLOEXEC);
        assert_true(lowest >= 0);
        close(lowest);
        struct rlimit saved, tight;
        assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
        tight = saved;
        tight.rlim_cur = (rlim_t)lowest;
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &tight), 0);
        struct ho_docfile f;
        int status = 0;
        int rc = ho_docroot_lookup(dr, "/a/b/c/deep.html", &f, &status);
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
        assert_int_equal(rc, HO_ENOSPC);
        assert_int_equal(status, 500);
        assert_int_equal(f.fd, -1);
        ho_docroot_close(dr);
    }
}

/* The emulator's default: a generated SPECweb99 set opened as the root, served as generated. */
static void test_serves_generated_file_set(void **state)
{
    const struct fixture *fx = *state;
    const uint64_t seed = 2006;
    char dir[256];
    snprintf(dir, sizeof dir, "%s/spec", fx->tmp);
    struct ho_wl_err err;
    int rc = ho_fileset_generate(dir, 1, seed, NULL, NULL, &err);
    if (rc != HO_OK) {
        fail_msg("generate: %d: %s", rc, err.msg);
    }
    int fds = open_fds();
    struct ho_docroot *dr;
    assert_int_equal(ho_docroot_open(dir, &dr), HO_OK);
    static const uint32_t objects[] = {0, 4, 13, 22, 35, 36 * 24 + 35};
    static unsigned char got[921600], want[921600];
    for (size_t i = 0; i < ARRAY_LEN(objects); i++) {
        struct ho_fileset_file file;
        assert_int_equal(ho_fileset_file(1, objects[i], &file), HO_OK);
        struct ho_docfile f;
        int status = 0;
        assert_int_equal(ho_docroot_lookup(dr, file.path, &f, &status), HO_OK);
        assert_int_equal(status, 200);
        assert_int_equal(f.size, file.size);
        assert_string_equal(f.content_type, "application/octet-stream");
        size_t n = read_fd(f.fd, (char *)got, sizeof got);
        assert_int_equal(n, file.size);
        assert_int_equal(ho_fileset_fill(file.path, seed, 0, want, n), HO_OK);
        assert_memory_equal(got, want, n);
        ho_docfile_close(&f);
    }
    ho_docroot_close(dr);
    assert_int_equal(open_fds(), fds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_openat2),
        cmocka_unit_test(test_lookup_walk),
        cmocka_unit_test(test_too_long),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_lookup_bad_arguments),
        cmocka_unit_test(test_out_of_descriptors),
        cmocka_unit_test(test_serves_generated_file_set),
    };
    return cmocka_run_group_tests(tests, setup_tree, teardown_tree);
}
