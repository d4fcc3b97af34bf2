/*
 * test_gen_web.c - the W and I generators: determinism, independence from how clients
 * interleave, the catalog, and the properties the paper and the brief ask of them, measured
 * over a large sample: Figure 4's bands (half of the connections send under 10 % of packets;
 * the top 10 % carry over 45 % of traffic, and for W over 60 % of packets, section 5.2), W's
 * 19 % of 304s and mean transfer of a few KB, I's 2.5 KB per request and 12 requests per
 * connection.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include "gen.h"
#include "handoff/err.h"
#include "handoff/workload.h"
#include "handoff/workload_stats.h"
#include "workload/wl_test.h"

static struct ho_wl *make(enum ho_wl_type type, uint64_t seed, uint32_t clients)
{
    struct ho_wl *wl = NULL;
    struct ho_wl_err err;
    struct ho_wl_params p = {.type = type, .seed = seed, .clients = clients};
    assert_int_equal(ho_wl_create(&p, &wl, &err), HO_OK);
    return wl;
}

/* A checksum of everything client c sees over n connections. */
static uint64_t client_digest(struct ho_wl *wl, uint32_t c, int n)
{
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < n; i++) {
        struct ho_conn conn;
        struct ho_req r;
        assert_int_equal(ho_wl_next_conn(wl, c, &conn), HO_OK);
        h = (h ^ conn.nreq) * 1099511628211ULL;
        while (ho_wl_next_req(wl, &conn, &r)) {
            h = (h ^ r.object) * 1099511628211ULL;
            h = (h ^ r.size) * 1099511628211ULL;
            h = (h ^ r.status) * 1099511628211ULL;
        }
    }
    return h;
}

static void test_same_seed_same_output_different_seed_different(void **state)
{
    (void)state;
    for (int type = HO_WL_WORLDCUP; type <= HO_WL_IBM; type++) {
        struct ho_wl *a = make(type, 7, 8), *b = make(type, 7, 8), *c = make(type, 8, 8);
        for (uint32_t cl = 0; cl < 8; cl++) {
            uint64_t da = client_digest(a, cl, 50);
            assert_true(da == client_digest(b, cl, 50));
            assert_true(da != client_digest(c, cl, 50));
        }
        ho_wl_destroy(a);
        ho_wl_destroy(b);
        ho_wl_destroy(c);
    }
}

static void test_clients_do_not_depend_on_interleaving(void **state)
{
    (void)state;
    /* Client 3 pulls alone in one workload and after everybody else in the other. */
    struct ho_wl *a = make(HO_WL_WORLDCUP, 5, 16), *b = make(HO_WL_WORLDCUP, 5, 16);
    uint64_t alone = client_digest(a, 3, 40);
    for (uint32_t c = 0; c < 16; c++) {
        if (c != 3) {
            client_digest(b, c, 17);
        }
    }
    assert_true(alone == client_digest(b, 3, 40));
    /* Different clients see different streams. */
    assert_true(client_digest(a, 4, 40) != client_digest(b, 5, 40));
    ho_wl_destroy(a);
    ho_wl_destroy(b);
}

static void test_lookahead_copy_of_a_connection(void **state)
{
    (void)state;
    struct ho_wl *wl = make(HO_WL_IBM, 3, 2);
    struct ho_conn conn;
    do {
        assert_int_equal(ho_wl_next_conn(wl, 1, &conn), HO_OK);
    } while (conn.nreq < 3);
    struct ho_conn peek = conn;
    struct ho_req a, b;
    uint32_t n = 0;
    while (ho_wl_next_req(wl, &peek, &a)) {
        assert_int_equal(ho_wl_next_req(wl, &conn, &b), 1);
        assert_true(wl_req_equal(&a, &b));
        n++;
    }
    assert_int_equal(n, conn.nreq);
    assert_int_equal(ho_wl_next_req(wl, &conn, &b), 0);
    assert_int_equal(ho_wl_next_conn(wl, 2, &conn), HO_EINVAL);
    ho_wl_destroy(wl);
}

static void test_catalog(void **state)
{
    (void)state;
    for (int type = HO_WL_WORLDCUP; type <= HO_WL_IBM; type++) {
        const struct ho_web_model *m = ho_genweb_model(type);
        struct ho_genweb g1, g2;
        assert_int_equal(ho_genweb_init(&g1, type, 1), HO_OK);
        assert_int_equal(ho_genweb_init(&g2, type, 2), HO_OK);
        /* The same sizes whatever the seed, on different ids. */
        assert_true(ho_genweb_catalog_mean(&g1) == ho_genweb_catalog_mean(&g2));
        uint32_t moved = 0;
        for (uint32_t i = 0; i < m->objects; i++) {
            assert_true(g1.size[i] >= 1 && g1.size[i] <= m->size_max);
            moved += g1.size[i] != g2.size[i];
        }
        assert_true(moved > m->objects / 2);
        /* The stratified catalog hits the model's analytic mean: the lognormal mean for the
         * body (capping it is negligible) and the exact capped Pareto mean for the tail. */
        double body = exp(m->body_mu + m->body_sigma * m->body_sigma / 2);
        double tail = ho_dist_pareto_slice_mean(m->tail_k, m->tail_alpha, m->size_max, 0, 1);
        double model = (1 - m->tail_p) * body + m->tail_p * tail;
        double mean = ho_genweb_catalog_mean(&g1);
        assert_true(fabs(mean - model) / model < 0.02);
        ho_genweb_free(&g1);
        ho_genweb_free(&g2);
    }
}

static void test_mean_requests_per_connection_is_twelve(void **state)
{
    (void)state;
    assert_true(fabs(ho_genweb_mean_requests(ho_genweb_model(HO_WL_WORLDCUP)) - 12.0) < 0.05);
    assert_true(fabs(ho_genweb_mean_requests(ho_genweb_model(HO_WL_IBM)) - 12.0) < 0.05);
    assert_null(ho_genweb_model(HO_WL_SPECWEB));
}

/* Summary of `conns` connections of a workload pulled by 64 clients. */
static struct ho_wl_stats sample(enum ho_wl_type type, uint64_t seed, uint64_t conns)
{
    struct ho_wl *wl = make(type, seed, 64);
    struct ho_wl_stats s;
    assert_int_equal(ho_wl_stats_of_workload(wl, 64, conns, &s), HO_OK);
    ho_wl_destroy(wl);
    return s;
}

static double share_of(const struct ho_wl_stats *s, unsigned code)
{
    for (unsigned i = 0; i < s->nstatus; i++) {
        if (s->status_code[i] == code) {
            return (double)s->status_count[i] / (double)s->requests;
        }
    }
    return 0;
}

static void test_worldcup_shape_and_means(void **state)
{
    (void)state;
    struct ho_wl_stats s = sample(HO_WL_WORLDCUP, 11, 40000);
    /* Figure 4. */
    assert_true(s.bottom50_packet_share < 0.10);
    assert_true(s.bottom50_byte_share < 0.10);
    assert_true(s.top10_packet_share > 0.60);
    assert_true(s.top10_byte_share > 0.45);
    /* Monotone, from 0 to 1. */
    assert_true(s.cdf_packets[0] == 0 && fabs(s.cdf_packets[10] - 1) < 1e-12);
    for (int k = 1; k <= 10; k++) {
        assert_true(s.cdf_packets[k] >= s.cdf_packets[k - 1]);
    }
    /* 19 % 304 Not Modified, with no body; the rest 200. */
    assert_true(fabs(share_of(&s, 304) - 0.19) < 0.005);
    assert_true(share_of(&s, 304) + share_of(&s, 200) > 0.999999);
    /* A mean transfer of a few KB: the model's 0.81 x 4.44 KB = 3.6 KB. */
    assert_true(s.size_mean > 3300 && s.size_mean < 3900);
    assert_true(s.reqs_per_conn_mean > 11.4 && s.reqs_per_conn_mean < 12.6);
    assert_true(s.reqs_per_conn_max <= ho_genweb_model(HO_WL_WORLDCUP)->n_max);
    assert_int_equal(s.kind_count[HO_REQ_STATIC], s.requests);
    assert_int_equal(s.method_count[HO_METHOD_GET], s.requests);
}

static void test_ibm_shape_and_means(void **state)
{
    (void)state;
    struct ho_wl_stats s = sample(HO_WL_IBM, 12, 40000);
    assert_true(s.bottom50_packet_share < 0.10);
    assert_true(s.bottom50_byte_share < 0.10);
    assert_true(s.top10_packet_share > 0.45);
    assert_true(s.top10_byte_share > 0.45);
    /* About 2.5 KB of content per request and 12 requests per connection. */
    assert_true(fabs(s.size_mean - 2500) < 125);
    assert_true(fabs(s.reqs_per_conn_mean - 12) < 0.6);
    assert_true(share_of(&s, 200) == 1.0);
    /* Heavy-tailed, not just long: many one-request connections and a long tail. */
    assert_true(s.reqs_per_conn_median <= 5);
    assert_true(s.reqs_per_conn_max > 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_output_different_seed_different),
        cmocka_unit_test(test_clients_do_not_depend_on_interleaving),
        cmocka_unit_test(test_lookahead_copy_of_a_connection),
        cmocka_unit_test(test_catalog),
        cmocka_unit_test(test_mean_requests_per_connection_is_twelve),
        cmocka_unit_test(test_worldcup_shape_and_means),
        cmocka_unit_test(test_ibm_shape_and_means),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
