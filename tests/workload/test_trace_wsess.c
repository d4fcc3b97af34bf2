/*
 * test_trace_wsess.c - the httperf --wsesslog reader: sessions, bursts and think times,
 * methods and contents, our size=/status= keys and SPECweb99 size inference, and bad input
 * (unknown keys, bad numbers, unterminated quotes, NUL bytes, long lines) reported with the
 * file and the line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "handoff/err.h"
#include "handoff/workload.h"
#include "handoff/workload_trace.h"
#include "workload/wl_test.h"

static struct wl_tmp tmp;

static int read_wsess(const char *path, double default_think, struct ho_trace **t,
                      struct ho_wl_err *err)
{
    struct ho_trace_params p;
    ho_trace_params_default(&p);
    p.format = HO_TRACE_WSESSLOG;
    p.wsess_default_think_s = default_think;
    return ho_trace_read(path, &p, t, err);
}

static void test_sessions_bursts_and_keys(void **state)
{
    (void)state;
    const char *text = "# two sessions, httperf style\n"
                       "\n"
                       "/foo.html think=2.0 size=1000\n"
                       "\t/pict1.gif size=200\n"
                       "    /pict2.gif size=300 status=304\n"
                       "/foo2.html method=POST contents='Post data' size=10\n"
                       "\t/pict3.gif size=5\n"
                       "/last.html size=7 think=9\n"
                       "\n"
                       "\n"
                       "# session 2: SPECweb99 names carry their size\n"
                       "/file_set/dir00001/class1_3 method=GET\r\n"
                       "/file_set/dir00001/class3_8 think=0.5\r\n"
                       "/x method=HEAD\r\n"
                       "/foo3.html method=POST contents=\"Multi\\nline \\\"q\\\"\"";
    const char *path = wl_tmp_text(&tmp, "s.wsesslog", text);
    struct ho_trace *t;
    struct ho_wl_err err;
    assert_int_equal(read_wsess(path, 1.5, &t, &err), HO_OK);
    assert_int_equal(t->nconn, 2);
    assert_int_equal(t->nreq, 10);
    assert_int_equal(t->nclients, 2);
    assert_int_equal(t->unknown_size, 1); /* /foo3.html */
    const struct ho_req *q = &t->reqs[t->conns[0].first];
    assert_int_equal(t->conns[0].nreq, 6);
    /* Burst 1: /foo.html + two items; think=2.0 lands on its last request. */
    assert_int_equal(q[0].size, 1000);
    assert_int_equal(q[0].think_us, 0);
    assert_int_equal(q[0].flags & HO_REQ_F_BURST, 0);
    assert_int_equal(q[1].flags & HO_REQ_F_BURST, HO_REQ_F_BURST);
    assert_int_equal(q[2].flags & HO_REQ_F_BURST, HO_REQ_F_BURST);
    assert_int_equal(q[2].status, 304);
    assert_int_equal(q[2].think_us, 2000000);
    /* Burst 2: no think= so the default 1.5 s. */
    assert_int_equal(q[3].method, HO_METHOD_POST);
    assert_int_equal(q[3].upload, 9);
    assert_int_equal(q[4].think_us, 1500000);
    /* The session's last burst waits for nothing. */
    assert_int_equal(q[5].size, 7);
    assert_int_equal(q[5].think_us, 0);

    q = &t->reqs[t->conns[1].first];
    assert_int_equal(t->conns[1].nreq, 4);
    assert_int_equal(q[0].size, 10240 * 4 / 10);
    assert_int_equal(q[0].think_us, 1500000);
    assert_int_equal(q[1].size, 1024000 * 9 / 10);
    assert_int_equal(q[1].think_us, 500000);
    assert_int_equal(q[2].method, HO_METHOD_HEAD);
    assert_int_equal(q[2].size, 0);
    assert_int_equal(q[3].upload, strlen("Multi\nline \"q\""));
    assert_int_equal(q[3].size, HO_REQ_SIZE_UNKNOWN);
    ho_trace_free(t);
}

static void test_unknown_sizes_cannot_be_replayed(void **state)
{
    (void)state;
    const char *path = wl_tmp_text(&tmp, "u.wsesslog", "/a size=1\n/b\n\n/c\n");
    struct ho_trace *t;
    struct ho_wl_err err;
    assert_int_equal(read_wsess(path, 0, &t, &err), HO_OK);
    assert_int_equal(t->unknown_size, 2);
    struct ho_wl *wl;
    struct ho_wl_params p = {.type = HO_WL_TRACE, .clients = 4, .trace = t};
    assert_int_equal(ho_wl_create(&p, &wl, &err), HO_EINVAL);
    assert_true(wl_contains(err.msg, "2 requests"));
    assert_true(wl_contains(err.msg, "size="));
    ho_trace_free(t);
}

struct bad_case {
    const char *line;
    const char *why;
};

static void test_bad_lines_name_file_and_line(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {"/a speed=3", "unknown key"},
        {"/a think=nan", "think= needs"},
        {"/a think=inf", "think= needs"},
        {"/a think=-1", "think= needs"},
        {"/a think=1e999", "think= needs"},
        {"/a think=0x10", "think= needs"},
        {"/a think=", "think= needs"},
        {"/a think=5000", "above 4294 s"},
        {"/a size=-3", "size= needs"},
        {"/a size=99999999999", "does not fit"},
        {"/a size=12kB", "size= needs"},
        {"/a status=99", "status= needs"},
        {"/a status=2000", "status= needs"},
        {"/a method=FETCH", "unknown method"},
        {"/a method=get", "unknown method"},
        {"/a contents='unterminated", "unterminated quote"},
        {"/a contents=trailing\\", "unterminated quote"},
        {"/a stray", "expected key=value"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512];
        snprintf(text, sizeof text, "/ok size=1\n%s\n", cases[i].line);
        const char *path = wl_tmp_text(&tmp, "bad.wsesslog", text);
        char where[600];
        snprintf(where, sizeof where, "%s:2: ", path);
        struct ho_trace *t = NULL;
        struct ho_wl_err err;
        int rc = read_wsess(path, 0, &t, &err);
        if (rc != HO_EPROTO) {
            fprintf(stderr, "case %zu (%s) gave %d\n", i, cases[i].line, rc);
        }
        assert_int_equal(rc, HO_EPROTO);
        assert_null(t);
        assert_true(wl_contains(err.msg, where));
        assert_true(wl_contains(err.msg, cases[i].why));
    }
}

static void test_nul_long_empty(void **state)
{
    (void)state;
    struct ho_trace *t;
    struct ho_wl_err err;
    const char nul[] = "/a size=1\n/b\0 size=2\n";
    const char *path = wl_tmp_write(&tmp, "nul.wsess", nul, sizeof nul - 1);
    assert_int_equal(read_wsess(path, 0, &t, &err), HO_EPROTO);
    assert_true(wl_contains(err.msg, ":2: NUL byte at column 3"));

    size_t n = HO_TRACE_MAX_LINE * 3;
    char *big = malloc(n + 1);
    memset(big, 'p', n);
    big[0] = '/';
    big[n] = '\0';
    path = wl_tmp_text(&tmp, "long.wsess", big);
    assert_int_equal(read_wsess(path, 0, &t, &err), HO_EPROTO);
    assert_true(wl_contains(err.msg, ":1: line longer than"));
    free(big);

    path = wl_tmp_text(&tmp, "empty.wsess", "");
    assert_int_equal(read_wsess(path, 0, &t, &err), HO_OK);
    assert_int_equal(t->nconn, 0);
    ho_trace_free(t);
    path = wl_tmp_text(&tmp, "comments.wsess", "# nothing\n\n#at all");
    assert_int_equal(read_wsess(path, 0, &t, &err), HO_OK);
    assert_int_equal(t->nconn, 0);
    ho_trace_free(t);
    /* An empty trace cannot be replayed. */
    struct ho_trace_params tp;
    ho_trace_params_default(&tp);
    tp.format = HO_TRACE_WSESSLOG;
    assert_int_equal(ho_trace_read(path, &tp, &t, &err), HO_OK);
    struct ho_wl *wl;
    struct ho_wl_params p = {.type = HO_WL_TRACE, .clients = 1, .trace = t};
    assert_int_equal(ho_wl_create(&p, &wl, &err), HO_EINVAL);
    assert_true(wl_contains(err.msg, "no requests"));
    ho_trace_free(t);
}

static void test_detection_and_bad_default_think(void **state)
{
    (void)state;
    struct ho_wl_err err;
    const char *path = wl_tmp_text(&tmp, "plain", "# comment [x] \"y\"\n/index.html think=1\n");
    assert_int_equal(ho_trace_detect(path, &err), HO_TRACE_WSESSLOG);
    path = wl_tmp_text(&tmp, "x.sess", "h - - [01/Jan/2000:00:00:02 +0000] \"GET /\" 200 1\n");
    assert_int_equal(ho_trace_detect(path, &err), HO_TRACE_WSESSLOG); /* the name wins */
    struct ho_trace *t;
    assert_int_equal(read_wsess(path, -1, &t, &err), HO_EINVAL);
    assert_int_equal(read_wsess(path, 0.0 / 0.0, &t, &err), HO_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sessions_bursts_and_keys),
        cmocka_unit_test(test_unknown_sizes_cannot_be_replayed),
        cmocka_unit_test(test_bad_lines_name_file_and_line),
        cmocka_unit_test(test_nul_long_empty),
        cmocka_unit_test(test_detection_and_bad_default_think),
    };
    wl_tmp_init(&tmp);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    wl_tmp_cleanup(&tmp);
    return rc;
}
