/*
 * test_select.c - the OS-side selection policies: FCFS, Tn, per-port policies, the Soft-limit
 * bound on offers, and the no-retry rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "handoff/err.h"
#include "handoff/rng.h"
#include "handoff/select.h"

static const struct ho_sel_policy fcfs = {.kind = HO_SEL_FCFS};
static const struct ho_sel_policy never = {.kind = HO_SEL_NEVER};

static struct ho_sel_policy thresh(uint32_t n)
{
    return (struct ho_sel_policy){.kind = HO_SEL_THRESH, .threshold = n};
}

static void test_fcfs_offers_at_establishment_only(void **state)
{
    (void)state;
    struct ho_sel s;
    assert_int_equal(ho_sel_init(&s, &fcfs, 2), HO_OK);
    struct ho_sel_conn a, b, c;
    assert_int_equal(ho_sel_established(&s, &a, 80), HO_SEL_OFFER);
    assert_int_equal(ho_sel_established(&s, &b, 80), HO_SEL_OFFER);
    /* Soft limit 2 reached by connections in flight: the third is passed for good. */
    assert_int_equal(ho_sel_established(&s, &c, 80), HO_SEL_KEEP);
    assert_int_equal(c.state, HO_SEL_PASSED);
    assert_true(s.no_room == 1);
    /* Room appears, but c's moment has gone: sends never offer it. */
    assert_int_equal(ho_sel_reply(&s, &a, 1), HO_OK);
    assert_int_equal(ho_sel_left_nic(&s, &a), HO_OK);
    for (int i = 0; i < 50; i++) {
        assert_int_equal(ho_sel_enqueued(&s, &c), HO_SEL_KEEP);
    }
    assert_int_equal(s.on_nic, 1);
}

static void test_threshold_offers_at_nth_enqueue(void **state)
{
    (void)state;
    struct ho_sel s;
    struct ho_sel_policy t4 = thresh(4);
    assert_int_equal(ho_sel_init(&s, &t4, 10), HO_OK);
    struct ho_sel_conn c;
    assert_int_equal(ho_sel_established(&s, &c, 80), HO_SEL_KEEP);
    assert_int_equal(c.state, HO_SEL_HOST);
    for (int i = 1; i <= 3; i++) {
        assert_int_equal(ho_sel_enqueued(&s, &c), HO_SEL_KEEP);
    }
    assert_int_equal(ho_sel_enqueued(&s, &c), HO_SEL_OFFER);
    assert_int_equal(c.state, HO_SEL_OFFERED);
    assert_int_equal(c.enqueues, 4);
    /* Later enqueues do not offer again. */
    assert_int_equal(ho_sel_enqueued(&s, &c), HO_SEL_KEEP);
    assert_true(s.offered == 1);
}

static void test_threshold_without_room_passes(void **state)
{
    (void)state;
    struct ho_sel s;
    struct ho_sel_policy t2 = thresh(2);
    assert_int_equal(ho_sel_init(&s, &t2, 0), HO_OK);
    struct ho_sel_conn c;
    ho_sel_established(&s, &c, 80);
    assert_int_equal(ho_sel_enqueued(&s, &c), HO_SEL_KEEP);
    assert_int_equal(ho_sel_enqueued(&s, &c), HO_SEL_KEEP);
    assert_int_equal(c.state, HO_SEL_PASSED);
    ho_sel_advertised(&s, 100);
    assert_int_equal(ho_sel_enqueued(&s, &c), HO_SEL_KEEP);
    assert_true(s.offered == 0);
}

static void test_refused_is_not_retried(void **state)
{
    (void)state;
    struct ho_sel s;
    assert_int_equal(ho_sel_init(&s, &fcfs, 4), HO_OK);
    struct ho_sel_conn c;
    assert_int_equal(ho_sel_established(&s, &c, 80), HO_SEL_OFFER);
    assert_int_equal(s.on_nic, 1);
    assert_int_equal(ho_sel_reply(&s, &c, 0), HO_OK);
    assert_int_equal(c.state, HO_SEL_PASSED);
    assert_int_equal(s.on_nic, 0);
    assert_true(s.refused == 1);
    assert_int_equal(ho_sel_enqueued(&s, &c), HO_SEL_KEEP);
    /* Replies and departures out of order are state errors. */
    assert_int_equal(ho_sel_reply(&s, &c, 1), HO_ESTATE);
    assert_int_equal(ho_sel_left_nic(&s, &c), HO_ESTATE);
}

static void test_per_port_policies(void **state)
{
    (void)state;
    struct ho_sel s;
    assert_int_equal(ho_sel_init(&s, &never, 100), HO_OK);
    struct ho_sel_policy t2 = thresh(2);
    assert_int_equal(ho_sel_set_port(&s, 80, &fcfs), HO_OK);
    assert_int_equal(ho_sel_set_port(&s, 8080, &t2), HO_OK);
    struct ho_sel_conn web, alt, ssh;
    assert_int_equal(ho_sel_established(&s, &web, 80), HO_SEL_OFFER);
    assert_int_equal(ho_sel_established(&s, &alt, 8080), HO_SEL_KEEP);
    assert_int_equal(ho_sel_enqueued(&s, &alt), HO_SEL_KEEP);
    assert_int_equal(ho_sel_enqueued(&s, &alt), HO_SEL_OFFER);
    assert_int_equal(ho_sel_established(&s, &ssh, 22), HO_SEL_KEEP);
    assert_int_equal(ssh.state, HO_SEL_PASSED);
    /* Replacing a port's policy. */
    assert_int_equal(ho_sel_set_port(&s, 80, &never), HO_OK);
    assert_int_equal(ho_sel_policy_for(&s, 80)->kind, HO_SEL_NEVER);
    assert_int_equal(s.nports, 2);
    /* The table is bounded. */
    for (uint16_t p = 1000; s.nports < HO_SEL_MAX_PORTS; p++) {
        assert_int_equal(ho_sel_set_port(&s, p, &fcfs), HO_OK);
    }
    assert_int_equal(ho_sel_set_port(&s, 9999, &fcfs), HO_ENOSPC);
    struct ho_sel_policy t0 = thresh(0);
    assert_int_equal(ho_sel_set_port(&s, 80, &t0), HO_EINVAL);
    assert_int_equal(ho_sel_init(&s, &t0, 1), HO_EINVAL);
}

/*
 * Random lives of many connections against a NIC whose Soft limit moves: the number of
 * connections offered or on the NIC never exceeds the last advertised Soft limit at the moment
 * of an offer, and the selector's count always equals the truth.
 */
static void test_never_exceeds_soft_limit(void **state)
{
    (void)state;
    enum { N = 2000 };
    static struct ho_sel_conn conns[N];
    static int alive[N];
    struct ho_sel s;
    struct ho_sel_policy t3 = thresh(3);
    assert_int_equal(ho_sel_init(&s, &t3, 64), HO_OK);
    assert_int_equal(ho_sel_set_port(&s, 80, &fcfs), HO_OK);
    struct ho_rng rng;
    ho_rng_seed(&rng, 99);
    for (int step = 0; step < 200000; step++) {
        uint32_t i = (uint32_t)ho_rng_below(&rng, N);
        struct ho_sel_conn *c = &conns[i];
        uint64_t what = ho_rng_below(&rng, 100);
        if (what < 2) {
            ho_sel_advertised(&s, (uint32_t)ho_rng_below(&rng, 128));
        } else if (!alive[i]) {
            alive[i] = 1;
            if (ho_sel_established(&s, c, ho_rng_below(&rng, 2) ? 80 : 443) == HO_SEL_OFFER) {
                assert_true(s.on_nic <= s.soft_limit);
            }
        } else if (what < 60) {
            if (ho_sel_enqueued(&s, c) == HO_SEL_OFFER) {
                assert_true(s.on_nic <= s.soft_limit);
            }
        } else if (what < 80 && c->state == HO_SEL_OFFERED) {
            assert_int_equal(ho_sel_reply(&s, c, ho_rng_below(&rng, 4) != 0), HO_OK);
        } else if (what < 90) {
            /* The connection ends, wherever it is. */
            if (c->state == HO_SEL_ON_NIC) {
                assert_int_equal(ho_sel_left_nic(&s, c), HO_OK);
            } else if (c->state == HO_SEL_OFFERED) {
                assert_int_equal(ho_sel_reply(&s, c, 1), HO_OK);
                assert_int_equal(ho_sel_left_nic(&s, c), HO_OK);
            }
            alive[i] = 0;
        }
        if (step % 1000 == 0) {
            uint32_t truth = 0;
            for (int k = 0; k < N; k++) {
                truth += alive[k] &&
                         (conns[k].state == HO_SEL_OFFERED || conns[k].state == HO_SEL_ON_NIC);
            }
            assert_int_equal(truth, s.on_nic);
        }
    }
    assert_true(s.offered > 1000);
    assert_true(s.no_room > 100);
}

static void test_parse_and_format(void **state)
{
    (void)state;
    struct ho_sel_policy p;
    char buf[16];
    assert_int_equal(ho_sel_parse("FCFS", &p), HO_OK);
    assert_int_equal(p.kind, HO_SEL_FCFS);
    assert_int_equal(ho_sel_parse("fcfs", &p), HO_OK);
    assert_int_equal(ho_sel_parse("T20", &p), HO_OK);
    assert_int_equal(p.kind, HO_SEL_THRESH);
    assert_int_equal(p.threshold, 20);
    assert_string_equal(ho_sel_format(&p, buf, sizeof buf), "T20");
    assert_int_equal(ho_sel_parse("never", &p), HO_OK);
    assert_string_equal(ho_sel_format(&p, buf, sizeof buf), "NEVER");
    const char *bad[] = {"", "T", "T0", "T-1", "T2x", "X20", "T99999999999", "FCFS ", NULL};
    for (int i = 0; bad[i]; i++) {
        assert_int_equal(ho_sel_parse(bad[i], &p), HO_EINVAL);
    }
    assert_int_equal(ho_sel_parse(NULL, &p), HO_EINVAL);
    assert_string_equal(ho_sel_state_name(HO_SEL_ON_NIC), "on-nic");
    assert_string_equal(ho_sel_state_name((enum ho_sel_state)42), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fcfs_offers_at_establishment_only),
        cmocka_unit_test(test_threshold_offers_at_nth_enqueue),
        cmocka_unit_test(test_threshold_without_room_passes),
        cmocka_unit_test(test_refused_is_not_retried),
        cmocka_unit_test(test_per_port_policies),
        cmocka_unit_test(test_never_exceeds_soft_limit),
        cmocka_unit_test(test_parse_and_format),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
