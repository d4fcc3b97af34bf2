/*
 * test_trace_wc.c - the World Cup 98 binary reader: record codec, status table, grouping into
 * connections by the 15-s rule, and every kind of bad input (truncated records, undefined
 * method and status values, time going backwards, empty and compressed files).
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

/* Builds a file of records and returns its path. */
static const char *write_records(const char *name, const struct ho_wc_record *r, size_t n)
{
    uint8_t *buf = malloc(n * HO_WC_RECORD_BYTES + 1);
    for (size_t i = 0; i < n; i++) {
        ho_wc_encode(&r[i], buf + i * HO_WC_RECORD_BYTES);
    }
    const char *p = wl_tmp_write(&tmp, name, buf, n * HO_WC_RECORD_BYTES);
    free(buf);
    return p;
}

static struct ho_wc_record rec(uint32_t t, uint32_t client, uint32_t object, uint32_t size,
                               unsigned status_index)
{
    return (struct ho_wc_record){.timestamp = t,
                                 .client = client,
                                 .object = object,
                                 .size = size,
                                 .method = 0,
                                 .status = (uint8_t)((1u << 6) | status_index)};
}

static int read_trace(const char *path, const struct ho_trace_params *p, struct ho_trace **t,
                      struct ho_wl_err *err)
{
    struct ho_trace_params d;
    if (!p) {
        ho_trace_params_default(&d);
        d.format = HO_TRACE_WC;
        p = &d;
    }
    return ho_trace_read(path, p, t, err);
}

static void test_codec_is_big_endian_field_by_field(void **state)
{
    (void)state;
    struct ho_wc_record r = {.timestamp = 0x01020304,
                             .client = 0x05060708,
                             .object = 0x090a0b0c,
                             .size = 0x0d0e0f10,
                             .method = 0x11,
                             .status = 0x12,
                             .type = 0x13,
                             .server = 0x14};
    uint8_t buf[HO_WC_RECORD_BYTES];
    ho_wc_encode(&r, buf);
    for (int i = 0; i < HO_WC_RECORD_BYTES; i++) {
        assert_int_equal(buf[i], i + 1);
    }
    struct ho_wc_record back;
    ho_wc_decode(buf, &back);
    assert_memory_equal(&back, &r, sizeof r);
}

static void test_status_table_anchors(void **state)
{
    (void)state;
    assert_int_equal(ho_wc_status_code(2), 200);
    assert_int_equal(ho_wc_status_code(8), 206);
    assert_int_equal(ho_wc_status_code(13), 304);
    assert_int_equal(ho_wc_status_code(19), 404);
    assert_int_equal(ho_wc_status_code(0), 100);
    assert_int_equal(ho_wc_status_code(36), 505);
    assert_int_equal(ho_wc_status_code(37), 0);
    assert_int_equal(ho_wc_status_code(38), HO_EINVAL);
    assert_int_equal(ho_wc_status_code(63), HO_EINVAL);
    for (unsigned i = 0; i < 37; i++) {
        assert_int_equal(ho_wc_status_index((unsigned)ho_wc_status_code(i)), i);
    }
    assert_int_equal(ho_wc_status_index(299), 37);
}

static void test_reads_and_groups_by_fifteen_seconds(void **state)
{
    (void)state;
    /* Client 7: t=100, 115 (gap 15: same connection), 131 (gap 16: new connection).
     * Client 9: t=100 and 101 in one connection; it starts at the same second as client 7's
     * first, after it in the file. Client 7's 304 has no size. */
    struct ho_wc_record r[] = {
        rec(100, 7, 1, 1000, 2), rec(100, 9, 2, 2000, 2),
        rec(101, 9, 3, 0, 19),   rec(115, 7, 4, HO_WC_SIZE_NONE, 13),
        rec(131, 7, 5, 5000, 8),
    };
    r[2].method = 1; /* HEAD */
    r[4].method = 2; /* POST */
    const char *path = write_records("ok.wc", r, 5);
    struct ho_trace *t;
    struct ho_wl_err err;
    assert_int_equal(read_trace(path, NULL, &t, &err), HO_OK);
    assert_int_equal(t->nreq, 5);
    assert_int_equal(t->nconn, 3);
    assert_int_equal(t->nclients, 2);
    assert_int_equal(t->nobjects, 5);
    assert_int_equal(t->t_first, 100);
    assert_int_equal(t->t_last, 131);
    /* Connections by start time, then file position. */
    assert_int_equal(t->conns[0].client, 7);
    assert_int_equal(t->conns[0].nreq, 2);
    assert_int_equal(t->conns[1].client, 9);
    assert_int_equal(t->conns[1].nreq, 2);
    assert_int_equal(t->conns[2].client, 7);
    assert_int_equal(t->conns[2].start, 131);
    const struct ho_req *q = &t->reqs[t->conns[0].first];
    assert_int_equal(q[0].object, 1);
    assert_int_equal(q[0].size, 1000);
    assert_int_equal(q[0].status, 200);
    assert_int_equal(q[1].object, 4);
    assert_int_equal(q[1].size, 0);
    assert_int_equal(q[1].status, 304);
    q = &t->reqs[t->conns[1].first];
    assert_int_equal(q[1].status, 404);
    assert_int_equal(q[1].method, HO_METHOD_HEAD);
    q = &t->reqs[t->conns[2].first];
    assert_int_equal(q[0].status, 206);
    assert_int_equal(q[0].method, HO_METHOD_POST);
    assert_int_equal(q[0].kind, HO_REQ_STATIC);
    ho_trace_free(t);
}

static void test_extreme_values_are_valid(void **state)
{
    (void)state;
    struct ho_wc_record r[] = {rec(UINT32_MAX - 1, UINT32_MAX, UINT32_MAX, UINT32_MAX - 1, 37),
                               rec(UINT32_MAX, UINT32_MAX, 0, 0, 2)};
    r[0].status |= 0xc0; /* HTTP version "other" */
    r[0].method = 8;
    const char *path = write_records("extreme.wc", r, 2);
    struct ho_trace *t;
    struct ho_wl_err err;
    assert_int_equal(read_trace(path, NULL, &t, &err), HO_OK);
    assert_int_equal(t->nconn, 1);
    assert_int_equal(t->reqs[0].size, UINT32_MAX - 1);
    assert_int_equal(t->reqs[0].status, 0);
    assert_int_equal(t->reqs[0].method, HO_METHOD_OTHER);
    ho_trace_free(t);
}

static void test_empty_file(void **state)
{
    (void)state;
    const char *path = wl_tmp_write(&tmp, "empty.wc", "", 0);
    struct ho_trace *t;
    struct ho_wl_err err;
    assert_int_equal(read_trace(path, NULL, &t, &err), HO_OK);
    assert_int_equal(t->nreq, 0);
    assert_int_equal(t->nconn, 0);
    ho_trace_free(t);
    /* Without a format an empty file cannot be told apart: a clear error, not a guess. */
    path = wl_tmp_write(&tmp, "empty", "", 0);
    struct ho_trace_params p;
    ho_trace_params_default(&p);
    assert_int_equal(ho_trace_read(path, &p, &t, &err), HO_EINVAL);
    assert_true(wl_contains(err.msg, path));
    assert_true(wl_contains(err.msg, "empty"));
}

static void test_truncated_record(void **state)
{
    (void)state;
    struct ho_wc_record r[] = {rec(1, 1, 1, 1, 2), rec(2, 1, 1, 1, 2), rec(3, 1, 1, 1, 2)};
    uint8_t buf[3 * HO_WC_RECORD_BYTES];
    for (int i = 0; i < 3; i++) {
        ho_wc_encode(&r[i], buf + i * HO_WC_RECORD_BYTES);
    }
    const char *path = wl_tmp_write(&tmp, "trunc.wc", buf, 2 * HO_WC_RECORD_BYTES + 7);
    struct ho_trace *t = NULL;
    struct ho_wl_err err;
    assert_int_equal(read_trace(path, NULL, &t, &err), HO_EPROTO);
    assert_null(t);
    assert_true(wl_contains(err.msg, path));
    assert_true(wl_contains(err.msg, "record 2 (byte offset 40)"));
    assert_true(wl_contains(err.msg, "truncated record: 7 of 20 bytes"));
}

static void test_undefined_method_and_status(void **state)
{
    (void)state;
    struct ho_wc_record r[] = {rec(1, 1, 1, 1, 2), rec(2, 1, 1, 1, 2)};
    r[1].method = 9;
    const char *path = write_records("method.wc", r, 2);
    struct ho_trace *t;
    struct ho_wl_err err;
    assert_int_equal(read_trace(path, NULL, &t, &err), HO_EPROTO);
    assert_true(wl_contains(err.msg, "record 1 (byte offset 20)"));
    assert_true(wl_contains(err.msg, "method 9"));
    r[1].method = 0;
    r[1].status = 0x40 | 50;
    path = write_records("status.wc", r, 2);
    assert_int_equal(read_trace(path, NULL, &t, &err), HO_EPROTO);
    assert_true(wl_contains(err.msg, path));
    assert_true(wl_contains(err.msg, "status code index 50"));
}

static void test_time_going_backwards(void **state)
{
    (void)state;
    struct ho_wc_record r[] = {rec(100, 1, 1, 1, 2), rec(110, 2, 1, 1, 2), rec(104, 1, 2, 1, 2),
                               rec(130, 1, 3, 1, 2)};
    const char *path = write_records("back.wc", r, 4);
    struct ho_trace *t;
    struct ho_wl_err err;
    assert_int_equal(read_trace(path, NULL, &t, &err), HO_EPROTO);
    assert_true(wl_contains(err.msg, "record 2 (byte offset 40)"));
    assert_true(wl_contains(err.msg, "backwards by 6 s"));

    /* Tolerated: the late record is put in its place for its client. Client 1 then has
     * 100, 104 (same connection) and 130 (26 s later: new connection). */
    struct ho_trace_params p;
    ho_trace_params_default(&p);
    p.format = HO_TRACE_WC;
    p.max_backstep_s = 6;
    assert_int_equal(ho_trace_read(path, &p, &t, &err), HO_OK);
    assert_int_equal(t->backsteps, 1);
    assert_int_equal(t->nconn, 3);
    assert_int_equal(t->conns[0].client, 1);
    assert_int_equal(t->conns[0].nreq, 2);
    assert_int_equal(t->reqs[t->conns[0].first + 1].object, 2);
    ho_trace_free(t);

    p.max_backstep_s = 5;
    assert_int_equal(ho_trace_read(path, &p, &t, &err), HO_EPROTO);
    assert_true(wl_contains(err.msg, "backwards"));
}

static void test_compressed_and_missing_files(void **state)
{
    (void)state;
    const uint8_t gz[] = {0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    const char *path = wl_tmp_write(&tmp, "wc_day5_1.gz", gz, sizeof gz);
    struct ho_trace *t;
    struct ho_wl_err err;
    assert_int_equal(read_trace(path, NULL, &t, &err), HO_EINVAL);
    assert_true(wl_contains(err.msg, "gzip"));
    char missing[600];
    snprintf(missing, sizeof missing, "%s/no-such-file.wc", tmp.dir);
    assert_int_equal(read_trace(missing, NULL, &t, &err), HO_ENOENT);
    assert_true(wl_contains(err.msg, missing));
}

static void test_detection_and_limit(void **state)
{
    (void)state;
    struct ho_wc_record r[] = {rec(1, 1, 1, 1, 2), rec(2, 2, 1, 1, 2), rec(3, 3, 1, 1, 2)};
    const char *path = write_records("wc_day6_1", r, 3);
    struct ho_wl_err err;
    assert_int_equal(ho_trace_detect(path, &err), HO_TRACE_WC);
    struct ho_trace_params p;
    ho_trace_params_default(&p);
    p.max_requests = 2;
    struct ho_trace *t;
    assert_int_equal(ho_trace_read(path, &p, &t, &err), HO_OK);
    assert_int_equal(t->format, HO_TRACE_WC);
    assert_int_equal(t->nreq, 2);
    ho_trace_free(t);
}

static void test_large_file_crosses_read_blocks(void **state)
{
    (void)state;
    /* More records than one read block holds, one client, one per second: one connection. */
    enum { N = 3000 };
    struct ho_wc_record *r = calloc(N, sizeof *r);
    for (uint32_t i = 0; i < N; i++) {
        r[i] = rec(1000 + i, 42, i, i, 2);
    }
    const char *path = write_records("big.wc", r, N);
    free(r);
    struct ho_trace *t;
    struct ho_wl_err err;
    assert_int_equal(read_trace(path, NULL, &t, &err), HO_OK);
    assert_int_equal(t->nreq, N);
    assert_int_equal(t->nconn, 1);
    for (uint32_t i = 0; i < N; i++) {
        assert_int_equal(t->reqs[i].object, i);
    }
    ho_trace_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_codec_is_big_endian_field_by_field),
        cmocka_unit_test(test_status_table_anchors),
        cmocka_unit_test(test_reads_and_groups_by_fifteen_seconds),
        cmocka_unit_test(test_extreme_values_are_valid),
        cmocka_unit_test(test_empty_file),
        cmocka_unit_test(test_truncated_record),
        cmocka_unit_test(test_undefined_method_and_status),
        cmocka_unit_test(test_time_going_backwards),
        cmocka_unit_test(test_compressed_and_missing_files),
        cmocka_unit_test(test_detection_and_limit),
        cmocka_unit_test(test_large_file_crosses_read_blocks),
    };
    wl_tmp_init(&tmp);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    wl_tmp_cleanup(&tmp);
    return rc;
}
