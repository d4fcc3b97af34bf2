/*
 * test_sel_bytes.c - the size-aware selection policy Bn: a connection is offered at the first
 * enqueue at which the bytes its write or sendfile still has to send reach n KB, and never
 * twice; Tn and FCFS pay no attention to the sizes; the configuration reads and writes Bn and
 * names the field it rejects.
 *
 * The plug-in is checked alone (its hook, called with a view built here, as docs/policies.md
 * suggests for a new policy) and through the selector, which adds the room and the
 * considered-once rule.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "handoff/err.h"
#include "handoff/select.h"
#include "handoff/sim_config.h"
#include "policy_plugin.h"

#define KB 1024u

static struct ho_sel_policy bytes(uint32_t n)
{
    return (struct ho_sel_policy){.kind = HO_SEL_BYTES, .threshold = n};
}

/* The hook alone: OFFER exactly from n KB left, whatever was appended or counted before. */
static void test_hook_answers_at_n_kb(void **state)
{
    (void)state;
    struct ho_sel_policy b64 = bytes(64);
    union ho_sel_area shared = {{0}};
    struct ho_sel_view v = {.policy = &b64, .shared = &shared, .soft_limit = 10};
    struct ho_sel_conn c = {.enqueues = 1};
    const uint64_t lefts[] = {0, 1, 64 * KB - 1, 64 * KB, 64 * KB + 1, 1ull << 40};
    const enum ho_sel_answer want[] = {HO_SEL_ANSWER_KEEP,  HO_SEL_ANSWER_KEEP,
                                       HO_SEL_ANSWER_KEEP,  HO_SEL_ANSWER_OFFER,
                                       HO_SEL_ANSWER_OFFER, HO_SEL_ANSWER_OFFER};
    for (size_t i = 0; i < sizeof lefts / sizeof lefts[0]; i++) {
        struct ho_sel_enqueue e = {.appended = 4096, .left = lefts[i]};
        if (ho_sel_bytes.enqueued(&v, &c, &c.area, &e) != want[i]) {
            fail_msg("left %llu: wrong answer", (unsigned long long)lefts[i]);
        }
    }
    assert_null(ho_sel_bytes.established);
}

/* Through the selector: a header and a small body do not reach n KB; the first page of a
 * large body does; what follows never offers again. */
static void test_offers_when_left_reaches_n_kb_once(void **state)
{
    (void)state;
    struct ho_sel s;
    struct ho_sel_policy b64 = bytes(64);
    assert_int_equal(ho_sel_init(&s, &b64, 10), HO_OK);
    struct ho_sel_conn c;
    assert_int_equal(ho_sel_established(&s, &c, 80), HO_SEL_KEEP);
    assert_int_equal(c.state, HO_SEL_HOST);
    assert_int_equal(ho_sel_enqueued_bytes(&s, &c, 250, 250), HO_SEL_KEEP); /* a header */
    assert_int_equal(ho_sel_enqueued_bytes(&s, &c, 4096, 8 * KB), HO_SEL_KEEP);
    assert_int_equal(ho_sel_enqueued_bytes(&s, &c, 4096, 4 * KB), HO_SEL_KEEP);
    /* The next response on the persistent connection: 64 KB exactly. */
    assert_int_equal(ho_sel_enqueued_bytes(&s, &c, 250, 250), HO_SEL_KEEP);
    assert_int_equal(ho_sel_enqueued_bytes(&s, &c, 4096, 64 * KB - 1), HO_SEL_KEEP);
    assert_int_equal(c.state, HO_SEL_HOST);
    assert_int_equal(ho_sel_enqueued_bytes(&s, &c, 4096, 64 * KB), HO_SEL_OFFER);
    assert_int_equal(c.state, HO_SEL_OFFERED);
    assert_int_equal(s.on_nic, 1);
    /* Not while offered, not while on the NIC; once back from it, at its next large response
     * again (Bn considers connections again). */
    assert_int_equal(ho_sel_enqueued_bytes(&s, &c, 4096, 1ull << 30), HO_SEL_KEEP);
    assert_int_equal(ho_sel_reply(&s, &c, 1), HO_OK);
    assert_int_equal(ho_sel_enqueued_bytes(&s, &c, 4096, 1ull << 30), HO_SEL_KEEP);
    assert_int_equal(ho_sel_left_nic(&s, &c), HO_OK);
    assert_int_equal(c.state, HO_SEL_HOST);
    assert_int_equal(ho_sel_enqueued_bytes(&s, &c, 4096, 4 * KB), HO_SEL_KEEP);
    assert_int_equal(ho_sel_enqueued_bytes(&s, &c, 4096, 1ull << 30), HO_SEL_OFFER);
    assert_true(s.offered == 2 && s.accepted == 1);
    assert_int_equal(s.on_nic, 1);
    assert_int_equal(c.enqueues, 10);
}

/*
 * A drained connection (ho_sel_drained: on the NIC with nothing left to send) is given back only
 * once three quarters of the Soft limit are taken, so that slots are freed for the next large
 * transfer when they run short and kept when they are plenty; the paper's policies never give
 * back.
 */
static void test_drained_gives_back_when_slots_run_short(void **state)
{
    (void)state;
    struct ho_sel s;
    struct ho_sel_policy b1 = bytes(1);
    assert_int_equal(ho_sel_init(&s, &b1, 8), HO_OK);
    struct ho_sel_conn c[8];
    for (int i = 0; i < 8; i++) {
        ho_sel_established(&s, &c[i], 80);
        assert_int_equal(ho_sel_drained(&s, &c[i]), HO_SEL_KEEP); /* not on the NIC */
        assert_int_equal(ho_sel_enqueued_bytes(&s, &c[i], 4096, 2 * KB), HO_SEL_OFFER);
        assert_int_equal(ho_sel_reply(&s, &c[i], 1), HO_OK);
        /* 6 of 8 is the first count at three quarters. */
        assert_int_equal(ho_sel_drained(&s, &c[i]), i + 1 >= 6 ? HO_SEL_GIVE_BACK : HO_SEL_KEEP);
    }
    struct ho_sel_policy fcfs = {.kind = HO_SEL_FCFS};
    assert_int_equal(ho_sel_init(&s, &fcfs, 1), HO_OK);
    ho_sel_established(&s, &c[0], 80);
    assert_int_equal(ho_sel_reply(&s, &c[0], 1), HO_OK);
    assert_int_equal(ho_sel_drained(&s, &c[0]), HO_SEL_KEEP);
    assert_int_equal(ho_sel_left_nic(&s, &c[0]), HO_OK);
    assert_int_equal(c[0].state, HO_SEL_RETURNED); /* FCFS: considered once */
}

static void test_smallest_and_largest_n(void **state)
{
    (void)state;
    struct ho_sel s;
    struct ho_sel_policy b1 = bytes(1), bmax = bytes(UINT32_MAX);
    assert_int_equal(ho_sel_init(&s, &b1, 10), HO_OK);
    struct ho_sel_conn c;
    ho_sel_established(&s, &c, 80);
    assert_int_equal(ho_sel_enqueued_bytes(&s, &c, 1023, 1023), HO_SEL_KEEP);
    assert_int_equal(ho_sel_enqueued_bytes(&s, &c, 1024, 1024), HO_SEL_OFFER);
    /* n KB does not wrap for the largest n. */
    assert_int_equal(ho_sel_init(&s, &bmax, 10), HO_OK);
    ho_sel_established(&s, &c, 80);
    const uint64_t n_kb = (uint64_t)UINT32_MAX * KB;
    assert_int_equal(ho_sel_enqueued_bytes(&s, &c, 4096, n_kb - 1), HO_SEL_KEEP);
    assert_int_equal(ho_sel_enqueued_bytes(&s, &c, 4096, n_kb), HO_SEL_OFFER);
}

/* The moment found no room: under Bn the connection stays in the pool and is offered at its
 * next large response once there is room; a refused one likewise. */
static void test_no_room_waits_for_room(void **state)
{
    (void)state;
    struct ho_sel s;
    struct ho_sel_policy b8 = bytes(8);
    assert_int_equal(ho_sel_init(&s, &b8, 0), HO_OK);
    struct ho_sel_conn c;
    ho_sel_established(&s, &c, 80);
    assert_int_equal(ho_sel_enqueued_bytes(&s, &c, 4096, 100 * KB), HO_SEL_KEEP);
    assert_int_equal(c.state, HO_SEL_HOST);
    assert_true(s.no_room == 1);
    ho_sel_advertised(&s, 100);
    assert_int_equal(ho_sel_enqueued_bytes(&s, &c, 4096, 100 * KB), HO_SEL_OFFER);
    assert_int_equal(ho_sel_reply(&s, &c, 0), HO_OK);
    assert_int_equal(c.state, HO_SEL_HOST);
    assert_int_equal(ho_sel_enqueued_bytes(&s, &c, 4096, 100 * KB), HO_SEL_OFFER);
    assert_true(s.offered == 2 && s.refused == 1 && s.no_room == 1);
}

/* Without sizes (ho_sel_enqueued) Bn never offers; Tn and FCFS ignore the sizes. */
static void test_sizes_matter_only_to_bn(void **state)
{
    (void)state;
    struct ho_sel s;
    struct ho_sel_policy b1 = bytes(1);
    assert_int_equal(ho_sel_init(&s, &b1, 10), HO_OK);
    struct ho_sel_conn c;
    ho_sel_established(&s, &c, 80);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(ho_sel_enqueued(&s, &c), HO_SEL_KEEP);
    }
    assert_int_equal(c.state, HO_SEL_HOST);

    struct ho_sel_policy t3 = {.kind = HO_SEL_THRESH, .threshold = 3};
    assert_int_equal(ho_sel_init(&s, &t3, 10), HO_OK);
    ho_sel_established(&s, &c, 80);
    assert_int_equal(ho_sel_enqueued_bytes(&s, &c, 4096, 1ull << 30), HO_SEL_KEEP);
    assert_int_equal(ho_sel_enqueued_bytes(&s, &c, 0, 0), HO_SEL_KEEP);
    assert_int_equal(ho_sel_enqueued_bytes(&s, &c, 1, 1), HO_SEL_OFFER);

    struct ho_sel_policy fcfs = {.kind = HO_SEL_FCFS};
    assert_int_equal(ho_sel_init(&s, &fcfs, 10), HO_OK);
    assert_int_equal(ho_sel_established(&s, &c, 80), HO_SEL_OFFER);
    assert_int_equal(ho_sel_enqueued_bytes(&s, &c, 4096, 1ull << 30), HO_SEL_KEEP);
    assert_true(s.offered == 1);
}

/* Bn on one port, FCFS by default: each port's plug-in sees only its connections. */
static void test_per_port_bn(void **state)
{
    (void)state;
    struct ho_sel s;
    struct ho_sel_policy fcfs = {.kind = HO_SEL_FCFS}, b16 = bytes(16);
    assert_int_equal(ho_sel_init(&s, &fcfs, 10), HO_OK);
    assert_int_equal(ho_sel_set_port(&s, 8080, &b16), HO_OK);
    struct ho_sel_conn web, files;
    assert_int_equal(ho_sel_established(&s, &web, 80), HO_SEL_OFFER);
    assert_int_equal(ho_sel_established(&s, &files, 8080), HO_SEL_KEEP);
    assert_int_equal(ho_sel_enqueued_bytes(&s, &files, 4096, 15 * KB), HO_SEL_KEEP);
    assert_int_equal(ho_sel_enqueued_bytes(&s, &files, 4096, 16 * KB), HO_SEL_OFFER);
    assert_int_equal(s.on_nic, 2);
}

/* The shorthand's selection field and the os.selection key read Bn, write it back, and name
 * the field when they reject it. */
static void test_configuration(void **state)
{
    (void)state;
    struct sim_config c;
    struct sim_config_err e;
    char name[64];
    assert_int_equal(sim_config_load(&c, "W-256-P-L-B64-400", &e), 0);
    assert_int_equal(c.selection.kind, HO_SEL_BYTES);
    assert_int_equal(c.selection.threshold, 64);
    assert_string_equal(sim_config_name(&c, name, sizeof name), "W-256-P-L-B64-400");
    assert_int_equal(sim_config_load(&c, "W-256-P-L-FCFS-400,os.selection=B8", &e), 0);
    assert_string_equal(sim_config_name(&c, name, sizeof name), "W-256-P-L-B8-400");

    const struct {
        const char *text, *want;
    } bad[] = {
        {"W-256-P-L-B0-400", "selection policy 'B0'"},
        {"W-256-P-L-B-400", "selection policy 'B'"},
        {"W-256-P-L-Bx-400", "selection policy 'Bx'"},
        /* In the shorthand a '-' separates fields, so B-1 is two of them. */
        {"W-256-P-L-B-1-400", "six fields"},
        {"W-256-P-L-FCFS-400,os.selection=B0", "'os.selection': expected"},
        {"W-256-P-L-FCFS-400,os.selection=B", "'os.selection': expected"},
        {"W-256-P-L-FCFS-400,os.selection=B-1", "'os.selection': expected"},
        {"W-256-P-L-FCFS-400,os.selection=Bx", "'os.selection': expected"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        e.msg[0] = '\0';
        if (sim_config_load(&c, bad[i].text, &e) == 0) {
            fail_msg("'%s' accepted", bad[i].text);
        }
        if (!strstr(e.msg, bad[i].want)) {
            fail_msg("'%s': '%s' does not contain '%s'", bad[i].text, e.msg, bad[i].want);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hook_answers_at_n_kb),
        cmocka_unit_test(test_offers_when_left_reaches_n_kb_once),
        cmocka_unit_test(test_smallest_and_largest_n),
        cmocka_unit_test(test_no_room_waits_for_room),
        cmocka_unit_test(test_drained_gives_back_when_slots_run_short),
        cmocka_unit_test(test_sizes_matter_only_to_bn),
        cmocka_unit_test(test_per_port_bn),
        cmocka_unit_test(test_configuration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
