/*
 * test_wl.c - the pull API on a trace (connections handed out in trace order to whichever
 * client asks, wrapping around), parameter checks, the statistics against values worked out
 * by hand, the packet rule, and the distributions the generators stand on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "dist.h"
#include "handoff/err.h"
#include "handoff/workload.h"
#include "handoff/workload_stats.h"
#include "handoff/workload_trace.h"
#include "workload/wl_test.h"

static struct wl_tmp tmp;

static struct ho_trace *small_trace(void)
{
    /* Three sessions of 2, 1 and 3 requests. */
    const char *text = "/a size=10\n/b size=20\n\n/c size=30 status=404\n\n"
                       "/d size=40\n/e size=50\n/f size=0 status=304\n";
    const char *path = wl_tmp_text(&tmp, "t.wsesslog", text);
    struct ho_trace *t;
    struct ho_wl_err err;
    struct ho_trace_params p;
    ho_trace_params_default(&p);
    assert_int_equal(ho_trace_read(path, &p, &t, &err), HO_OK);
    assert_int_equal(t->nconn, 3);
    return t;
}

static void test_trace_replay_in_order_and_wraps(void **state)
{
    (void)state;
    struct ho_trace *t = small_trace();
    struct ho_wl *wl;
    struct ho_wl_err err;
    struct ho_wl_params p = {.type = HO_WL_TRACE, .clients = 2, .trace = t};
    assert_int_equal(ho_wl_create(&p, &wl, &err), HO_OK);
    const uint32_t sizes[] = {10, 20, 30, 40, 50, 0};
    const uint32_t lens[] = {2, 1, 3};
    int k = 0;
    for (int i = 0; i < 7; i++) {
        struct ho_conn conn;
        uint32_t client = (uint32_t)(i * 7 % 2);
        assert_int_equal(ho_wl_next_conn(wl, client, &conn), HO_OK);
        assert_int_equal(conn.seq, i);
        assert_int_equal(conn.client, client);
        assert_int_equal(conn.origin, i % 3); /* the session index */
        assert_int_equal(conn.nreq, lens[i % 3]);
        struct ho_req r;
        while (ho_wl_next_req(wl, &conn, &r)) {
            assert_int_equal(r.size, sizes[k % 6]);
            k++;
        }
        assert_int_equal(ho_wl_wraps(wl), i / 3);
    }
    struct ho_conn conn;
    assert_int_equal(ho_wl_next_conn(wl, 2, &conn), HO_EINVAL);
    ho_wl_destroy(wl);
    ho_trace_free(t);
}

static void test_bad_parameters(void **state)
{
    (void)state;
    struct ho_wl *wl = NULL;
    struct ho_wl_err err;
    struct ho_wl_params p = {.type = HO_WL_WORLDCUP, .clients = 0};
    assert_int_equal(ho_wl_create(&p, &wl, &err), HO_EINVAL);
    assert_true(wl_contains(err.msg, "clients"));
    p.clients = 1;
    p.type = HO_WL_TYPE_COUNT;
    assert_int_equal(ho_wl_create(&p, &wl, &err), HO_EINVAL);
    p.type = HO_WL_TRACE;
    assert_int_equal(ho_wl_create(&p, &wl, &err), HO_EINVAL);
    assert_true(wl_contains(err.msg, "needs a trace"));
    assert_null(wl);
    ho_wl_destroy(NULL);
}

/* Streams (workload.h, ho_wl_params.streams): the clients after the workload's own each get one
 * connection that does not end, asking for the same segment size at the same pacing; their start
 * is a share of one gap; the web clients see what they would see without them. */
static void test_streams(void **state)
{
    (void)state;
    struct ho_wl *wl = NULL, *plain = NULL;
    struct ho_wl_err err;
    struct ho_wl_params p = {.type = HO_WL_WORLDCUP, .seed = 9, .clients = 4, .streams = 2,
                             .stream_bytes = 1500000, .stream_gap_us = 6000000};
    assert_int_equal(ho_wl_create(&p, &wl, &err), HO_OK);
    struct ho_wl_params q = p;
    q.streams = 0;
    assert_int_equal(ho_wl_create(&q, &plain, &err), HO_OK);
    struct ho_conn c, d;
    for (uint32_t k = 0; k < 2; k++) {
        assert_int_equal(ho_wl_next_conn(wl, 4 + k, &c), HO_OK);
        assert_int_equal(c.nreq, UINT32_MAX);
        for (int i = 0; i < 1000; i++) {
            struct ho_req r;
            assert_int_equal(ho_wl_next_req(wl, &c, &r), 1);
            assert_int_equal(r.object, HO_WL_STREAM_OBJECT + k);
            assert_int_equal(r.size, 1500000);
            assert_int_equal(r.gap_us, 6000000);
            assert_int_equal(r.status, 200);
        }
        assert_true(ho_wl_start_delay_us(wl, 4 + k) < 6000000);
    }
    assert_true(ho_wl_start_delay_us(wl, 4) != ho_wl_start_delay_us(wl, 5));
    assert_int_equal(ho_wl_next_conn(wl, 6, &c), HO_EINVAL);
    assert_int_equal(ho_wl_start_delay_us(wl, 0), 0); /* W is not paced */
    for (uint32_t i = 0; i < 4; i++) {
        assert_int_equal(ho_wl_next_conn(wl, i, &c), HO_OK);
        assert_int_equal(ho_wl_next_conn(plain, i, &d), HO_OK);
        assert_int_equal(c.nreq, d.nreq);
        struct ho_req a, b;
        assert_int_equal(ho_wl_next_req(wl, &c, &a), 1);
        assert_int_equal(ho_wl_next_req(plain, &d, &b), 1);
        assert_int_equal(a.object, b.object);
        assert_int_equal(a.size, b.size);
    }
    ho_wl_destroy(wl);
    ho_wl_destroy(plain);
    /* A stream needs a segment and a gap. */
    p.stream_bytes = 0;
    wl = NULL;
    assert_int_equal(ho_wl_create(&p, &wl, &err), HO_EINVAL);
    assert_true(wl_contains(err.msg, "stream"));
    p.stream_bytes = 1;
    p.stream_gap_us = 0;
    assert_int_equal(ho_wl_create(&p, &wl, &err), HO_EINVAL);
    assert_null(wl);
}

static void test_names(void **state)
{
    (void)state;
    assert_int_equal(ho_wl_type_parse("W"), HO_WL_WORLDCUP);
    assert_int_equal(ho_wl_type_parse("i"), HO_WL_IBM);
    assert_int_equal(ho_wl_type_parse("D"), HO_WL_SPECWEB);
    assert_int_equal(ho_wl_type_parse("S"), HO_WL_SPECWEB_STATIC);
    assert_int_equal(ho_wl_type_parse("X"), HO_EINVAL);
    assert_int_equal(ho_wl_type_parse("WW"), HO_EINVAL);
    assert_int_equal(ho_wl_type_parse(""), HO_EINVAL);
    assert_string_equal(ho_wl_type_name(HO_WL_SPECWEB), "D");
    assert_string_equal(ho_method_name(HO_METHOD_POST), "POST");
    assert_string_equal(ho_req_kind_name(HO_REQ_DYN_AD_GET), "dynamic-ad-get");
    assert_string_equal(ho_req_kind_name(99), "?");
    assert_int_equal(ho_trace_format_parse("clf"), HO_TRACE_CLF);
    assert_int_equal(ho_trace_format_parse("CLF"), HO_EINVAL);
    assert_string_equal(ho_trace_format_name(HO_TRACE_WSESSLOG), "wsesslog");
}

static void test_packet_rule(void **state)
{
    (void)state;
    assert_int_equal(ho_wl_resp_packets(0), 1);
    assert_int_equal(ho_wl_resp_packets(1), 2);
    assert_int_equal(ho_wl_resp_packets(1460), 2);
    assert_int_equal(ho_wl_resp_packets(1461), 3);
    assert_int_equal(ho_wl_resp_packets(4096), 4); /* 1460 + 1460 + 1176 */
    assert_int_equal(ho_wl_resp_packets(4097), 5); /* and 1 on the next page */
    assert_int_equal(ho_wl_resp_packets(3 * 4096 + 2921), 1 + 9 + 3);
    assert_int_equal(ho_wl_resp_packets(UINT32_MAX), 1 + (UINT32_MAX / 4096) * 3 + 3);
}

static void test_stats_by_hand(void **state)
{
    (void)state;
    /* Ten connections; connection i (1..10) has i requests of 1448 bytes (2 packets each), so
     * it sends 2i packets and 1448i bytes. Totals: 55 requests, 110 packets. The shortest 5
     * send 2(1+..+5) = 30 packets; the longest (10 %) sends 20. */
    struct ho_wl_stats_acc *a;
    assert_int_equal(ho_wl_stats_acc_create(&a), HO_OK);
    for (uint32_t i = 1; i <= 10; i++) {
        for (uint32_t j = 0; j < i; j++) {
            struct ho_req r = {.size = 1448, .status = j == 0 ? 304 : 200, .kind = HO_REQ_STATIC};
            assert_int_equal(ho_wl_stats_acc_req(a, &r), HO_OK);
        }
        assert_int_equal(ho_wl_stats_acc_end_conn(a), HO_OK);
        assert_int_equal(ho_wl_stats_acc_end_conn(a), HO_OK); /* empty: ignored */
    }
    struct ho_req unknown = {.size = HO_REQ_SIZE_UNKNOWN, .status = 200, .upload = 7};
    assert_int_equal(ho_wl_stats_acc_req(a, &unknown), HO_OK);
    struct ho_wl_stats s;
    assert_int_equal(ho_wl_stats_acc_finish(a, &s), HO_OK);
    ho_wl_stats_acc_free(a);
    assert_int_equal(s.requests, 56);
    assert_int_equal(s.connections, 11);
    assert_int_equal(s.sized, 55);
    assert_int_equal(s.unknown_size, 1);
    assert_int_equal(s.upload_bytes, 7);
    assert_int_equal(s.packets, 110);
    assert_int_equal(s.bytes, 55 * 1448);
    assert_true(fabs(s.size_mean - 1448) < 1e-9);
    assert_int_equal(s.size_median, 1448);
    assert_int_equal(s.nstatus, 2);
    assert_int_equal(s.status_code[0], 200);
    assert_int_equal(s.status_count[0], 46);
    assert_int_equal(s.status_code[1], 304);
    assert_int_equal(s.status_count[1], 10);
    /* 11 connections with 1..10 requests and one of 1 (the unknown-size one, no packets). */
    assert_int_equal(s.reqs_per_conn_median, 5);
    assert_int_equal(s.reqs_per_conn_max, 10);
    /* Ranked: 0, 2, 4, ..., 20 packets; floor(11 k / 10) shortest. */
    assert_true(fabs(s.cdf_packets[5] - (0 + 2 + 4 + 6 + 8) / 110.0) < 1e-12);
    assert_true(fabs(s.top10_packet_share - (18 + 20) / 110.0) < 1e-12);
    assert_true(fabs(s.cdf_bytes[5] - s.cdf_packets[5]) < 1e-12);
    assert_true(fabs(s.cdf_packets[10] - 1) < 1e-12);
}

static void test_stats_of_empty_and_of_trace(void **state)
{
    (void)state;
    struct ho_wl_stats_acc *a;
    struct ho_wl_stats s;
    assert_int_equal(ho_wl_stats_acc_create(&a), HO_OK);
    assert_int_equal(ho_wl_stats_acc_finish(a, &s), HO_OK);
    ho_wl_stats_acc_free(a);
    assert_int_equal(s.requests, 0);
    assert_true(s.top10_packet_share == 0 && s.size_mean == 0);

    struct ho_trace *t = small_trace();
    assert_int_equal(ho_wl_stats_of_trace(t, &s), HO_OK);
    assert_int_equal(s.requests, 6);
    assert_int_equal(s.connections, 3);
    assert_int_equal(s.bytes, 150);
    assert_int_equal(s.size_max, 50);
    assert_int_equal(s.size_median, 20); /* 0 10 20 30 40 50: the 3rd smallest */
    assert_int_equal(s.size_p90, 50);
    ho_trace_free(t);
}

static void test_distributions(void **state)
{
    (void)state;
    /* The quantile inverts the tail, including far out. */
    const double us[] = {1e-10, 0.001, 0.1, 0.5, 0.9, 0.999, 1 - 1e-10};
    for (size_t i = 0; i < sizeof us / sizeof us[0]; i++) {
        double z = ho_dist_probit(us[i], 3.0);
        assert_true(fabs((1 - ho_dist_normal_tail(z)) - us[i]) < 1e-12 + 1e-9 * us[i]);
    }
    assert_true(fabs(ho_dist_probit(0.5, -7)) < 1e-12);
    /* Slice means add up to the whole mean, and an uncapped Pareto's mean is k a/(a-1). */
    double whole = ho_dist_pareto_slice_mean(1000, 1.5, 1e6, 0, 1);
    double parts = 0;
    for (int j = 0; j < 10; j++) {
        parts += ho_dist_pareto_slice_mean(1000, 1.5, 1e6, j / 10.0, (j + 1) / 10.0) / 10;
    }
    assert_true(fabs(whole - parts) / whole < 1e-12);
    assert_true(fabs(ho_dist_pareto_slice_mean(1000, 2.5, 1e300, 0, 1) - 1000 * 2.5 / 1.5) < 1e-6);
    /* Capped: the top slice is all cap. */
    assert_true(ho_dist_pareto_slice_mean(1000, 1.5, 5000, 0.99, 1.0) == 5000);
    /* Lognormal sample mean. */
    struct ho_rng r;
    ho_rng_seed(&r, 1);
    double sum = 0;
    for (int i = 0; i < 200000; i++) {
        sum += ho_dist_lognormal(&r, 1.0, 0.5);
    }
    assert_true(fabs(sum / 200000 - exp(1.125)) < 0.02);
    /* Zipf: probabilities and draws. */
    struct ho_zipf z;
    assert_int_equal(ho_zipf_init(&z, 0, 1.0), HO_EINVAL);
    assert_int_equal(ho_zipf_init(&z, 4, 1.0), HO_OK);
    double h = 1 + 0.5 + 1 / 3.0 + 0.25;
    assert_true(fabs(ho_zipf_prob(&z, 0) - 1 / h) < 1e-12);
    assert_true(fabs(ho_zipf_prob(&z, 3) - 0.25 / h) < 1e-12);
    assert_true(ho_zipf_prob(&z, 4) == 0);
    unsigned counts[4] = {0};
    for (int i = 0; i < 100000; i++) {
        uint32_t k = ho_zipf_draw(&z, &r);
        assert_true(k < 4);
        counts[k]++;
    }
    for (int k = 0; k < 4; k++) {
        assert_true(fabs(counts[k] / 100000.0 - ho_zipf_prob(&z, (uint32_t)k)) < 0.006);
    }
    ho_zipf_free(&z);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trace_replay_in_order_and_wraps),
        cmocka_unit_test(test_bad_parameters),
        cmocka_unit_test(test_streams),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_packet_rule),
        cmocka_unit_test(test_stats_by_hand),
        cmocka_unit_test(test_stats_of_empty_and_of_trace),
        cmocka_unit_test(test_distributions),
    };
    wl_tmp_init(&tmp);
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    wl_tmp_cleanup(&tmp);
    return rc;
}
