/*
 * test_trace_clf.c - the Common/Combined Log Format reader: fields, times and time zones,
 * request shapes, connections, and every bad line the reliability list names (NUL bytes, very
 * long lines, negative, overflowing and non-numeric numbers, impossible dates, time going
 * backwards, unknown trailing text), each reported with the file and the line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "handoff/err.h"
#include "handoff/workload_trace.h"
#include "workload/wl_test.h"

static struct wl_tmp tmp;

static int read_clf(const char *path, struct ho_trace **t, struct ho_wl_err *err)
{
    struct ho_trace_params p;
    ho_trace_params_default(&p);
    p.format = HO_TRACE_CLF;
    return ho_trace_read(path, &p, t, err);
}

static void test_common_and_combined_lines(void **state)
{
    (void)state;
    /* CRLF line endings, a blank line, a Combined line with escaped quotes, a missing final
     * newline. a.example sends at 13:55:36 and 13:55:51 (15 s: one connection) and 13:56:07
     * (16 s: a new one); b.example's request at the same instant is written in another zone. */
    const char *text =
        "a.example - frank [10/Oct/2000:13:55:36 -0700] \"GET /apache_pb.gif HTTP/1.0\" 200 "
        "2326\r\n"
        "b.example - - [10/Oct/2000:22:55:36 +0200] \"GET /index.html HTTP/1.1\" 304 -\r\n"
        "\r\n"
        "a.example - frank [10/Oct/2000:13:55:51 -0700] \"HEAD /apache_pb.gif HTTP/1.0\" 200 0 "
        "\"http://ref.example/\" \"Mozilla/4.08 \\\"quoted\\\" [en]\"\n"
        "a.example - frank [10/Oct/2000:13:56:07 -0700] \"POST /cgi-bin/form HTTP/1.0\" 404 "
        "1234";
    const char *path = wl_tmp_text(&tmp, "access.log", text);
    struct ho_trace *t;
    struct ho_wl_err err;
    assert_int_equal(read_clf(path, &t, &err), HO_OK);
    assert_int_equal(t->nreq, 4);
    assert_int_equal(t->nclients, 2);
    assert_int_equal(t->nobjects, 3);
    assert_int_equal(t->nconn, 3);
    assert_int_equal(t->t_first, 971211336);
    assert_int_equal(t->t_last, 971211336 + 31);
    /* a.example (host id 0) first in the file, so its connection comes first. */
    assert_int_equal(t->conns[0].start, 971211336);
    assert_int_equal(t->conns[0].client, 0);
    assert_int_equal(t->conns[0].nreq, 2);
    assert_int_equal(t->conns[1].start, 971211336);
    assert_int_equal(t->conns[1].client, 1);
    assert_int_equal(t->conns[2].start, 971211336 + 31);
    const struct ho_req *q = &t->reqs[t->conns[0].first];
    assert_int_equal(q[0].size, 2326);
    assert_int_equal(q[0].status, 200);
    assert_int_equal(q[0].method, HO_METHOD_GET);
    assert_int_equal(q[1].method, HO_METHOD_HEAD);
    assert_int_equal(q[1].object, q[0].object); /* same URL, same object */
    q = &t->reqs[t->conns[1].first];
    assert_int_equal(q[0].status, 304);
    assert_int_equal(q[0].size, 0);
    q = &t->reqs[t->conns[2].first];
    assert_int_equal(q[0].method, HO_METHOD_POST);
    assert_int_equal(q[0].status, 404);
    assert_int_equal(q[0].size, 1234);
    ho_trace_free(t);
}

static void test_dates(void **state)
{
    (void)state;
    const char *text = "h - - [29/Feb/2024:23:59:59 +0000] \"GET / HTTP/1.1\" 200 1\n"
                       "h - - [01/Mar/2024:00:00:00 +0000] \"GET / HTTP/1.1\" 200 1\n"
                       "h - - [01/Mar/2024:01:00:00 +0100] \"GET / HTTP/1.1\" 200 1\n";
    const char *path = wl_tmp_text(&tmp, "dates.log", text);
    struct ho_trace *t;
    struct ho_wl_err err;
    assert_int_equal(read_clf(path, &t, &err), HO_OK);
    assert_int_equal(t->t_first, 1709251199);
    assert_int_equal(t->t_last, 1709251200);
    assert_int_equal(t->nconn, 1);
    ho_trace_free(t);
}

static void test_request_shapes(void **state)
{
    (void)state;
    const char *text = "h - - [01/Jan/2000:00:00:00 +0000] \"GET /a HTTP/1.0\" 200 1\n"
                       "h - - [01/Jan/2000:00:00:01 +0000] \"GET /a\" 200 1\n"
                       "h - - [01/Jan/2000:00:00:02 +0000] \"-\" 408 -\n"
                       "h - - [01/Jan/2000:00:00:03 +0000] \"\\x16\\x03\\x01 junk\" 400 226\n"
                       "h - - [01/Jan/2000:00:00:04 +0000] \"PUT /up HTTP/1.1\" 201 0\n"
                       "h - - [01/Jan/2000:00:00:05 +0000] \"\" 400 0\n";
    const char *path = wl_tmp_text(&tmp, "shapes.log", text);
    struct ho_trace *t;
    struct ho_wl_err err;
    assert_int_equal(read_clf(path, &t, &err), HO_OK);
    assert_int_equal(t->nreq, 6);
    assert_int_equal(t->reqs[0].method, HO_METHOD_GET);
    assert_int_equal(t->reqs[1].method, HO_METHOD_GET);
    assert_int_equal(t->reqs[1].object, t->reqs[0].object);
    assert_int_equal(t->reqs[2].method, HO_METHOD_OTHER);
    assert_int_equal(t->reqs[3].method, HO_METHOD_OTHER);
    assert_int_equal(t->reqs[4].method, HO_METHOD_OTHER);
    assert_int_equal(t->nobjects, 5);
    ho_trace_free(t);
}

struct bad_case {
    const char *line; /* written as the file's second line */
    const char *why;  /* expected in the message */
};

static void test_bad_lines_name_file_and_line(void **state)
{
    (void)state;
    static const struct bad_case cases[] = {
        {"h - - [01/Jan/2000:00:00:01 +0000] \"GET / HTTP/1.0\" 200 -5", "negative size"},
        {"h - - [01/Jan/2000:00:00:01 +0000] \"GET / HTTP/1.0\" 200 99999999999",
         "does not fit in 32 bits"},
        {"h - - [01/Jan/2000:00:00:01 +0000] \"GET / HTTP/1.0\" 200 4294967295",
         "does not fit in 32 bits"},
        {"h - - [01/Jan/2000:00:00:01 +0000] \"GET / HTTP/1.0\" 200 nan", "not a number"},
        {"h - - [01/Jan/2000:00:00:01 +0000] \"GET / HTTP/1.0\" 200 1e3", "not a number"},
        {"h - - [01/Jan/2000:00:00:01 +0000] \"GET / HTTP/1.0\" 20x 1", "3-digit"},
        {"h - - [01/Jan/2000:00:00:01 +0000] \"GET / HTTP/1.0\" 999 1", "3-digit"},
        {"h - - [01/Jan/2000:00:00:01 +0000] \"GET / HTTP/1.0\" 200", "missing size"},
        {"h - - [01/Jan/2000:00:00:01 +0000] \"GET / HTTP/1.0\"", "missing status"},
        {"h - - [01/Jan/2000:00:00:01 +0000] \"GET / HTTP/1.0\" 200 1 junk", "unexpected text"},
        {"h - - [01/Jan/2000:00:00:01 +0000] \"GET / HTTP/1.0 200 1", "no closing quote"},
        {"h - - [01/Jan/2000:00:00:01 +0000] GET / 200 1", "quoted request"},
        {"h - - 01/Jan/2000:00:00:01 +0000 \"GET /\" 200 1", "'['"},
        {"h - - [01/Jan/2000:00:00:01 +0000 \"GET /\" 200 1", "']'"},
        {"h - - [30/Feb/2000:00:00:01 +0000] \"GET /\" 200 1", "does not exist"},
        {"h - - [29/Feb/1900:00:00:01 +0000] \"GET /\" 200 1", "does not exist"},
        {"h - - [01/Foo/2000:00:00:01 +0000] \"GET /\" 200 1", "unknown month"},
        {"h - - [01/Jan/2000:24:00:01 +0000] \"GET /\" 200 1", "time of day"},
        {"h - - [01/Jan/2000:00:-1:01 +0000] \"GET /\" 200 1", "non-digit"},
        {"h - - [01/Jan/2000:00:00:01 +2500] \"GET /\" 200 1", "time zone"},
        {"h - - [1/Jan/2000:00:00:01 +0000] \"GET /\" 200 1", "dd/Mon/yyyy"},
        {"h - - [01/Jan/2000:00:00:00 +0000] \"GET /\" 200 1", "backwards by 2 s"},
        {"h -", "host, ident and user"},
    };
    const char *first = "h - - [01/Jan/2000:00:00:02 +0000] \"GET / HTTP/1.0\" 200 1\n";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[1024];
        snprintf(text, sizeof text, "%s%s\n", first, cases[i].line);
        const char *path = wl_tmp_text(&tmp, "bad.log", text);
        char where[600];
        snprintf(where, sizeof where, "%s:2: ", path);
        struct ho_trace *t = NULL;
        struct ho_wl_err err;
        int rc = read_clf(path, &t, &err);
        if (rc != HO_EPROTO) {
            fprintf(stderr, "case %zu (%s) gave %d\n", i, cases[i].line, rc);
        }
        assert_int_equal(rc, HO_EPROTO);
        assert_null(t);
        assert_true(wl_contains(err.msg, where));
        assert_true(wl_contains(err.msg, cases[i].why));
    }
}

static void test_nul_byte_and_long_line(void **state)
{
    (void)state;
    const char text[] = "h - - [01/Jan/2000:00:00:02 +0000] \"GET / HTTP/1.0\" 200 1\n"
                        "h - - [01/Jan/2000:00:00:02 +0000] \"GET /\0x HTTP/1.0\" 200 1\n";
    const char *path = wl_tmp_write(&tmp, "nul.log", text, sizeof text - 1);
    struct ho_trace *t;
    struct ho_wl_err err;
    assert_int_equal(read_clf(path, &t, &err), HO_EPROTO);
    assert_true(wl_contains(err.msg, ":2: NUL byte at column 42"));

    size_t n = HO_TRACE_MAX_LINE + 100;
    char *big = malloc(n + 200);
    int k = snprintf(big, n + 200,
                     "h - - [01/Jan/2000:00:00:02 +0000] \"GET / HTTP/1.0\" 200 1\n"
                     "h - - [01/Jan/2000:00:00:02 +0000] \"GET /");
    memset(big + k, 'a', n);
    strcpy(big + k + n, " HTTP/1.0\" 200 1\n");
    path = wl_tmp_text(&tmp, "long.log", big);
    assert_int_equal(read_clf(path, &t, &err), HO_EPROTO);
    assert_true(wl_contains(err.msg, ":2: line longer than 65536 bytes"));
    /* The same without any newline at all. */
    path = wl_tmp_write(&tmp, "long2.log", big + 58, strlen(big + 58) - 1);
    assert_int_equal(read_clf(path, &t, &err), HO_EPROTO);
    assert_true(wl_contains(err.msg, ":1: line longer than"));
    free(big);

    /* A line of exactly the limit is fine. */
    char *edge = malloc(HO_TRACE_MAX_LINE + 2);
    const char *head = "h - - [01/Jan/2000:00:00:02 +0000] \"GET /";
    const char *tail = "\" 200 1";
    size_t fill = HO_TRACE_MAX_LINE - strlen(head) - strlen(tail);
    strcpy(edge, head);
    memset(edge + strlen(head), 'b', fill);
    strcpy(edge + strlen(head) + fill, tail);
    assert_int_equal(strlen(edge), HO_TRACE_MAX_LINE);
    path = wl_tmp_text(&tmp, "edge.log", edge);
    assert_int_equal(read_clf(path, &t, &err), HO_OK);
    assert_int_equal(t->nreq, 1);
    ho_trace_free(t);
    free(edge);
}

static void test_empty_and_blank_files(void **state)
{
    (void)state;
    struct ho_trace *t;
    struct ho_wl_err err;
    const char *path = wl_tmp_text(&tmp, "empty.log", "");
    assert_int_equal(read_clf(path, &t, &err), HO_OK);
    assert_int_equal(t->nreq, 0);
    ho_trace_free(t);
    path = wl_tmp_text(&tmp, "blank.log", "\n  \r\n\t\n");
    assert_int_equal(read_clf(path, &t, &err), HO_OK);
    assert_int_equal(t->nreq, 0);
    ho_trace_free(t);
}

static void test_detection(void **state)
{
    (void)state;
    struct ho_wl_err err;
    const char *line = "h - - [01/Jan/2000:00:00:02 +0000] \"GET / HTTP/1.0\" 200 1\n";
    assert_int_equal(ho_trace_detect(wl_tmp_text(&tmp, "x.log", line), &err), HO_TRACE_CLF);
    assert_int_equal(ho_trace_detect(wl_tmp_text(&tmp, "noext", line), &err), HO_TRACE_CLF);
    struct ho_trace *t;
    struct ho_trace_params p;
    ho_trace_params_default(&p);
    assert_int_equal(ho_trace_read(tmp.path, &p, &t, &err), HO_OK);
    assert_int_equal(t->format, HO_TRACE_CLF);
    ho_trace_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_common_and_combined_lines),
        cmocka_unit_test(test_dates),
        cmocka_unit_test(test_request_shapes),
        cmocka_unit_test(test_bad_lines_name_file_and_line),
        cmocka_unit_test(test_nul_byte_and_long_line),
        cmocka_unit_test(test_empty_and_blank_files),
        cmocka_unit_test(test_detection),
    };
    wl_tmp_init(&tmp);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    wl_tmp_cleanup(&tmp);
    return rc;
}
