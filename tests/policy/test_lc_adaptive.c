/*
 * test_lc_adaptive.c - the load-control policy A on event sequences computed by hand: a standing
 * delay over the target lowers the Soft limit multiplicatively and by at most the cut, a queue
 * that ran dry raises it by a step that does not depend on it, a delay in between holds it, and
 * it never leaves [min_soft_limit, hard_limit]; Figure 3 and N ignore the dequeues A lives on;
 * the registry and the configuration know A by its letter.
 *
 * Every scenario uses a NIC whose service time per NIC packet is 1 us: the firmware reports a
 * take every 1000 ns while packets are left waiting, so A measures s = 1000 ns, and with a
 * target of 10 service times a window lasts T = 10 us, the 11th take of a window closing it.
 * The machine is a plain struct, so a test puts Soft limit and Cnum where it needs them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "handoff/err.h"
#include "handoff/loadctl.h"
#include "handoff/sim_config.h"

#define HARD   1000
#define FLOOR  10
#define TARGET 10   /* service times */
#define SVC    1000 /* ns */
#define T_NS   (TARGET * SVC)
#define T0     4000000000ull /* the first take; later than any wait below, so packets are fresh */

static struct ho_lc machine(uint32_t soft, uint32_t cnum)
{
    struct ho_lc_params p;
    ho_lc_params_default(&p, HARD);
    p.kind = HO_LC_ADAPTIVE;
    p.min_soft_limit = FLOOR;
    p.target_pkts = TARGET;
    p.cut_pct = 25;
    p.raise_pct = 6;
    struct ho_lc lc;
    assert_int_equal(ho_lc_init(&lc, &p), HO_OK);
    lc.soft_limit = soft;
    lc.cnum = cnum;
    return lc;
}

/*
 * One window of a backlogged NIC: `wait` after *now (so that its packets, which waited that
 * long, all arrived after the window before closed), 11 takes 1 us apart, each after waiting
 * `wait`, the first ten with packets left behind and the last leaving the queue empty (so that
 * the next window does not count the time in between as service). Returns what the last take
 * returned and checks that the first ten did not move the machine; *now ends 1 us after the
 * last take.
 */
static int busy_window(struct ho_lc *lc, uint64_t *now, uint64_t wait)
{
    uint32_t soft = ho_lc_soft_limit(lc);
    *now += wait;
    for (int k = 0; k < 10; k++, *now += SVC) {
        assert_int_equal(ho_lc_dequeue(lc, 5, wait, *now), 0);
        assert_int_equal(ho_lc_soft_limit(lc), soft);
    }
    int rc = ho_lc_dequeue(lc, 0, wait, *now);
    *now += SVC;
    return rc;
}

/*
 * One window in which the queue ran dry: 2 us after *now, five takes 1 us apart of packets that
 * waited 2 us (the fifth leaves the queue empty), then nothing until a packet that waited 0 is
 * taken 10 us after the first take. Backlogged: 4 gaps of 1 us, plus 1 us for each of the two
 * takes without a gap before them, 6 us of 10: a dry share of 40 %. The standing delay is 0,
 * under one service time.
 */
static int dry_window(struct ho_lc *lc, uint64_t *now)
{
    uint64_t first = *now + 2 * SVC;
    for (int k = 0; k < 5; k++) {
        assert_int_equal(ho_lc_dequeue(lc, k < 4 ? 3 : 0, 2 * SVC, first + (uint64_t)k * SVC), 0);
    }
    int rc = ho_lc_dequeue(lc, 0, 0, first + T_NS);
    *now = first + T_NS + SVC;
    return rc;
}

static void test_registry_and_parameters(void **state)
{
    (void)state;
    assert_int_equal(ho_lc_find("A"), HO_LC_ADAPTIVE);
    assert_string_equal(ho_lc_kind_name(HO_LC_ADAPTIVE), "A");
    assert_int_equal(ho_lc_find("a"), HO_ENOENT);
    assert_int_equal(ho_lc_find("AA"), HO_ENOENT);
    assert_string_equal(ho_lc_event_name(HO_LC_EV_DEQUEUE), "dequeue");
    struct ho_lc_params p;
    ho_lc_params_default(&p, 64);
    assert_int_equal(p.kind, HO_LC_FIGURE3);
    p.kind = HO_LC_ADAPTIVE;
    struct ho_lc lc;
    assert_int_equal(ho_lc_init(&lc, &p), HO_OK);
    assert_int_equal(ho_lc_kind(&lc), HO_LC_ADAPTIVE);
    assert_int_equal(ho_lc_soft_limit(&lc), 64);
    const struct {
        uint32_t target, cut, raise;
    } bad[] = {{0, 25, 6}, {10, 0, 6}, {10, 101, 6}, {10, 25, 0}, {10, 25, 101}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ho_lc_params q = p;
        q.target_pkts = bad[i].target;
        q.cut_pct = bad[i].cut;
        q.raise_pct = bad[i].raise;
        assert_int_equal(ho_lc_init(&lc, &q), HO_EINVAL);
        q.kind = HO_LC_FIGURE3; /* A's parameters do not concern L */
        assert_int_equal(ho_lc_init(&lc, &q), HO_OK);
    }
    p.kind = HO_LC_NKINDS;
    assert_int_equal(ho_lc_init(&lc, &p), HO_EINVAL);
}

/* A standing delay of 2T: cut = 25 % x (2T - T) / 2T = 12.5 % of 800 = 100. */
static void test_over_target_cuts_by_the_excess_share(void **state)
{
    (void)state;
    struct ho_lc lc = machine(800, 800);
    uint64_t now = T0;
    assert_int_equal(busy_window(&lc, &now, 2 * T_NS), 1);
    assert_int_equal(ho_lc_soft_limit(&lc), 700);
    assert_int_equal(ho_lc_state(&lc), HO_LC_DECREASE);
    assert_true(lc.transitions[HO_LC_MONITOR][HO_LC_DECREASE] == 1);
}

/* However long the standing delay, one cut takes at most a quarter: 1 s against T = 10 us
 * gives 25 % x (1 - 10^-5) of 800 = 199.998, rounded up to 200. */
static void test_cut_is_bounded(void **state)
{
    (void)state;
    struct ho_lc lc = machine(800, 800);
    uint64_t now = T0;
    assert_int_equal(busy_window(&lc, &now, 1000000000ull), 1);
    assert_int_equal(ho_lc_soft_limit(&lc), 600);
}

/* A cut applies to what the NIC holds when that is less than the Soft limit: 400 connections
 * under a limit of 1000 lose 12.5 % of 400. */
static void test_cut_bites_below_an_unused_limit(void **state)
{
    (void)state;
    struct ho_lc lc = machine(HARD, 400);
    uint64_t now = T0;
    assert_int_equal(busy_window(&lc, &now, 2 * T_NS), 1);
    assert_int_equal(ho_lc_soft_limit(&lc), 350);
    assert_int_equal(ho_lc_state(&lc), HO_LC_DECREASE);
}

/*
 * After a cut the machine waits in DECREASE for Cnum to fall under the limit, whatever the
 * delay, then returns to MONITOR and judges only packets that arrived after that. A standing
 * delay that is over the target but falling is already draining: hold. The same delay in the
 * next window is not falling: cut, from 699 connections: 25 % x (1.5T - T) / 1.5T = 1/12 of
 * 699 = 58.25, rounded up to 59.
 */
static void test_decrease_waits_then_cuts_only_what_does_not_drain(void **state)
{
    (void)state;
    struct ho_lc lc = machine(800, 800);
    uint64_t now = T0;
    assert_int_equal(busy_window(&lc, &now, 2 * T_NS), 1);
    assert_int_equal(busy_window(&lc, &now, 3 * T_NS), 0);
    assert_int_equal(ho_lc_soft_limit(&lc), 700);
    for (int i = 0; i < 100; i++) {
        assert_int_equal(ho_lc_conn_end(&lc, 5, now), 0);
        assert_int_equal(ho_lc_state(&lc), HO_LC_DECREASE);
    }
    assert_int_equal(ho_lc_conn_end(&lc, 5, now), 0);
    assert_int_equal(ho_lc_cnum(&lc), 699);
    assert_int_equal(ho_lc_state(&lc), HO_LC_MONITOR);
    uint64_t restarted = now;
    now += SVC;
    /* Packets that arrived before the restart do not count, however long they waited (a
     * window with none that did, and an empty queue after it, would be a dry one). */
    for (int k = 0; k < 5; k++, now += SVC) {
        assert_int_equal(ho_lc_dequeue(&lc, k < 4 ? 5 : 0, now - restarted + 1, now), 0);
    }
    assert_int_equal(ho_lc_soft_limit(&lc), 700);
    /* Packets that arrived since: standing 1.5T, less than the 2T that led to the cut. */
    assert_int_equal(busy_window(&lc, &now, 3 * T_NS / 2), 0);
    assert_int_equal(ho_lc_state(&lc), HO_LC_MONITOR);
    assert_int_equal(ho_lc_soft_limit(&lc), 700);
    assert_int_equal(busy_window(&lc, &now, 3 * T_NS / 2), 1);
    assert_int_equal(ho_lc_soft_limit(&lc), 640);
}

/* Between an empty queue and the target the NIC is busy and nothing is at risk: hold. */
static void test_between_dry_and_target_holds(void **state)
{
    (void)state;
    struct ho_lc lc = machine(800, 800);
    uint64_t now = T0;
    const uint64_t waits[] = {SVC, T_NS / 2, T_NS};
    for (int w = 0; w < 3; w++) {
        assert_int_equal(busy_window(&lc, &now, waits[w]), 0);
        assert_int_equal(busy_window(&lc, &now, waits[w]), 0);
    }
    assert_int_equal(ho_lc_soft_limit(&lc), 800);
    assert_int_equal(ho_lc_state(&lc), HO_LC_MONITOR);
    assert_true(lc.adverts == 0);
}

/*
 * The queue ran dry 40 % of a window: raise by 6 % x 40 % of Cnum. 500 connections: + 12.
 * INCREASE waits for the host to use the room, then the same window raises by the same step
 * again (512 x 2.4 % = 12.29, rounded down): additive, not a share of the Soft limit.
 */
static void test_dry_queue_raises_additively(void **state)
{
    (void)state;
    struct ho_lc lc = machine(500, 500);
    uint64_t now = T0;
    assert_int_equal(busy_window(&lc, &now, 2 * SVC), 0); /* measures s: a hold */
    assert_int_equal(dry_window(&lc, &now), 1);
    assert_int_equal(ho_lc_soft_limit(&lc), 512);
    assert_int_equal(ho_lc_state(&lc), HO_LC_INCREASE);
    assert_int_equal(dry_window(&lc, &now), 0); /* waiting for the host */
    for (int i = 0; i < 11; i++) {
        assert_int_equal(ho_lc_admit(&lc, 0, now), 0);
        assert_int_equal(ho_lc_state(&lc), HO_LC_INCREASE);
    }
    assert_int_equal(ho_lc_admit(&lc, 0, now), 0);
    assert_int_equal(ho_lc_state(&lc), HO_LC_MONITOR);
    now += SVC;
    assert_int_equal(dry_window(&lc, &now), 1);
    assert_int_equal(ho_lc_soft_limit(&lc), 524);
}

/* A limit the host does not use is not raised: 500 connections under 900 stay under 900. */
static void test_dry_queue_does_not_raise_an_unused_limit(void **state)
{
    (void)state;
    struct ho_lc lc = machine(900, 500);
    uint64_t now = T0;
    assert_int_equal(busy_window(&lc, &now, 2 * SVC), 0);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(dry_window(&lc, &now), 0);
    }
    assert_int_equal(ho_lc_soft_limit(&lc), 900);
}

/*
 * Before its first window A knows nothing of the NIC's speed. Connections that come in a flood
 * (keep-alive clients opening theirs at once) are admitted until the receive queue holds more
 * than the target's worth of packets; the next handoff then stops admission at Cnum, in
 * MONITOR, so that the first window judges the load. Once A has measured the NIC, a queue over
 * the target at a handoff is the windows' business, not the brake's.
 */
static void test_brake_before_the_first_window(void **state)
{
    (void)state;
    struct ho_lc lc = machine(HARD, 0);
    uint64_t now = T0;
    for (uint32_t i = 0; i < 300; i++) {
        assert_int_equal(ho_lc_admit(&lc, i / 30, now), 0); /* the queue grows to 9 */
    }
    assert_int_equal(ho_lc_soft_limit(&lc), HARD);
    assert_int_equal(ho_lc_admit(&lc, TARGET + 1, now), 1);
    assert_int_equal(ho_lc_soft_limit(&lc), 301);
    assert_int_equal(ho_lc_state(&lc), HO_LC_MONITOR);
    assert_int_equal(ho_lc_admit(&lc, TARGET + 1, now), HO_ELIMIT);

    struct ho_lc measured = machine(800, 700);
    now = T0;
    assert_int_equal(busy_window(&measured, &now, 2 * SVC), 0); /* measures s: a hold */
    assert_int_equal(ho_lc_admit(&measured, TARGET + 5, now), 0);
    assert_int_equal(ho_lc_soft_limit(&measured), 800);
}

/* The limits: a raise stops at Hard limit, a cut at the floor, and at either nothing moves. */
static void test_limits(void **state)
{
    (void)state;
    struct ho_lc lc = machine(995, 995); /* + 995 x 2.4 % = 23, clamped to 1000 */
    uint64_t now = T0;
    assert_int_equal(busy_window(&lc, &now, 2 * SVC), 0);
    assert_int_equal(dry_window(&lc, &now), 1);
    assert_int_equal(ho_lc_soft_limit(&lc), HARD);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(ho_lc_admit(&lc, 0, now), 0);
    }
    assert_int_equal(ho_lc_state(&lc), HO_LC_MONITOR);
    assert_int_equal(dry_window(&lc, &now), 0);
    assert_int_equal(ho_lc_soft_limit(&lc), HARD);

    lc = machine(12, 12); /* - 12 x 12.5 % = 1.5, rounded up to 2: the floor, 10 */
    now = T0;
    assert_int_equal(busy_window(&lc, &now, 2 * T_NS), 1);
    assert_int_equal(ho_lc_soft_limit(&lc), FLOOR);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ho_lc_conn_end(&lc, 5, now), 0);
    }
    assert_int_equal(ho_lc_state(&lc), HO_LC_MONITOR);
    for (int w = 0; w < 3; w++) {
        assert_int_equal(busy_window(&lc, &now, 4 * T_NS), 0);
    }
    assert_int_equal(ho_lc_soft_limit(&lc), FLOOR);
}

/* Events drawn at random never take the Soft limit out of [floor, Hard limit] (lc_evaluate
 * asserts it on every move) and Cnum never above it but through a cut. */
static void test_random_events_stay_in_bounds(void **state)
{
    (void)state;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int run = 0; run < 20; run++) {
        struct ho_lc lc = machine(HARD, 0);
        uint64_t now = T0;
        uint64_t moves = 0;
        for (int i = 0; i < 20000; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            now += x % 3000;
            uint32_t qlen = (uint32_t)(x >> 20) % 50;
            int rc;
            switch ((x >> 8) % 4) {
            case 0:
                rc = ho_lc_admit(&lc, qlen, now);
                break;
            case 1:
                rc = ho_lc_cnum(&lc) ? ho_lc_conn_end(&lc, qlen, now) : 0;
                break;
            default:
                rc = ho_lc_dequeue(&lc, qlen, (x >> 32) % (40 * T_NS), now);
                break;
            }
            moves += rc == 1;
            assert_in_range(ho_lc_soft_limit(&lc), FLOOR, HARD);
            assert_in_range(ho_lc_cnum(&lc), 0, HARD);
        }
        assert_true(moves > 0);
    }
}

/* Figure 3 and N take no arrow on a dequeue, however long the queue. */
static void test_l_and_n_ignore_dequeues(void **state)
{
    (void)state;
    for (int k = HO_LC_NONE; k <= HO_LC_FIGURE3; k++) {
        struct ho_lc_params p;
        ho_lc_params_default(&p, 100);
        p.hiwat = 20;
        p.lowat = 10;
        p.kind = (enum ho_lc_kind)k;
        struct ho_lc lc;
        assert_int_equal(ho_lc_init(&lc, &p), HO_OK);
        for (uint64_t t = 1; t < 1000; t++) {
            assert_int_equal(ho_lc_dequeue(&lc, (uint32_t)(t % 2 ? 500 : 0), t * 1000, t * 2000),
                             0);
        }
        assert_int_equal(ho_lc_state(&lc), HO_LC_MONITOR);
        assert_int_equal(ho_lc_soft_limit(&lc), 100);
        assert_true(lc.adverts == 0);
    }
}

/* The configuration: A in the shorthand's load-control field and in nic.load_control, the old
 * booleans, bad letters named with their field or key, and --print-config's output loading
 * back. */
static void test_configuration(void **state)
{
    (void)state;
    struct sim_config c;
    struct sim_config_err e;
    char name[64];
    assert_int_equal(sim_config_load(&c, "W-4096-P-A-FCFS-400", &e), 0);
    assert_int_equal(c.load_control, HO_LC_ADAPTIVE);
    assert_string_equal(sim_config_name(&c, name, sizeof name), "W-4096-P-A-FCFS-400");
    assert_int_equal(sim_config_load(&c, "S-1024-N-L-T20-600", &e), 0);
    assert_int_equal(c.load_control, HO_LC_FIGURE3);
    assert_int_equal(sim_config_load(&c, "S-1024-N-N-T20-600", &e), 0);
    assert_int_equal(c.load_control, HO_LC_NONE);
    struct ho_nic_params np;
    assert_int_equal(sim_config_load(&c, "I-256-P-A-FCFS-800", &e), 0);
    sim_config_nic_params(&c, &np);
    assert_int_equal(np.load_control, HO_LC_ADAPTIVE);
    assert_int_equal(np.lc_target_pct, 50);
    assert_int_equal(np.lc_cut_pct, 25);
    assert_int_equal(np.lc_raise_pct, 6);

    const struct {
        const char *spec;
        int kind;
    } keys[] = {
        {"W-4096-P-L-FCFS-400,nic.load_control=A", HO_LC_ADAPTIVE},
        {"W-4096-P-A-FCFS-400,nic.load_control=N", HO_LC_NONE},
        {"W-4096-P-A-FCFS-400,nic.load_control=true", HO_LC_FIGURE3},
        {"W-4096-P-A-FCFS-400,nic.load_control=yes", HO_LC_FIGURE3},
        {"W-4096-P-L-FCFS-400,nic.load_control=false", HO_LC_NONE},
        {"W-4096-P-L-FCFS-400,nic.load_control=0", HO_LC_NONE},
        /* Hiwat is Figure 3's: under A it may exceed the receive memory. */
        {"W-4096-P-A-FCFS-400,nic.rx_queue=512", HO_LC_ADAPTIVE},
    };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (sim_config_load(&c, keys[i].spec, &e) != 0) {
            fail_msg("'%s': %s", keys[i].spec, e.msg);
        }
        assert_int_equal(c.load_control, keys[i].kind);
    }

    const struct {
        const char *spec, *msg;
    } bad[] = {
        {"W-4096-P-X-FCFS-400", "load control 'X' must be L, A or N"},
        {"W-4096-P-a-FCFS-400", "load control 'a' must be L, A or N"},
        {"W-4096-P-AL-FCFS-400", "load control 'AL' must be L, A or N"},
        {"W-4096-P--FCFS-400", "load control '' must be L, A or N"},
        {"W-4096-P-L-FCFS-400,nic.load_control=maybe",
         "'nic.load_control': expected L, A or N (or true for L, false for N), got 'maybe'"},
        {"W-4096-P-L-FCFS-400,nic.load_control=a", "'nic.load_control': expected L, A or N"},
        {"W-4096-P-A-FCFS-400,nic.lc_cut_pct=0",
         "'nic.lc_cut_pct': expected an integer in [1, 100]"},
        {"W-4096-P-A-FCFS-400,nic.lc_raise_pct=101",
         "'nic.lc_raise_pct': expected an integer in [1, 100]"},
        {"W-4096-P-A-FCFS-400,nic.rx_queue=1", "nic.lc_target_pct (50) of nic.rx_queue (1)"},
        {"W-4096-P-L-FCFS-400,nic.rx_queue=512", "nic.hiwat (1024) must be below nic.rx_queue"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (sim_config_load(&c, bad[i].spec, &e) == 0 || !strstr(e.msg, bad[i].msg)) {
            fail_msg("'%s': wanted '%s', got '%s'", bad[i].spec, bad[i].msg, e.msg);
        }
    }

    /* --print-config's output loads back to the same machine. */
    assert_int_equal(sim_config_load(&c, "D-2048-N-A-T4-600,nic.lc_target_pct=30", &e), 0);
    char path[] = "/tmp/test_lc_adaptive_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    sim_config_describe(&c, f);
    fclose(f);
    struct sim_config back;
    if (sim_config_load(&back, path, &e) != 0) {
        fail_msg("%s", e.msg);
    }
    unlink(path);
    assert_int_equal(back.load_control, HO_LC_ADAPTIVE);
    assert_int_equal(back.lc_target_pct, 30);
    assert_memory_equal(&back, &c, sizeof c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry_and_parameters),
        cmocka_unit_test(test_over_target_cuts_by_the_excess_share),
        cmocka_unit_test(test_cut_is_bounded),
        cmocka_unit_test(test_cut_bites_below_an_unused_limit),
        cmocka_unit_test(test_decrease_waits_then_cuts_only_what_does_not_drain),
        cmocka_unit_test(test_between_dry_and_target_holds),
        cmocka_unit_test(test_dry_queue_raises_additively),
        cmocka_unit_test(test_dry_queue_does_not_raise_an_unused_limit),
        cmocka_unit_test(test_brake_before_the_first_window),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_random_events_stay_in_bounds),
        cmocka_unit_test(test_l_and_n_ignore_dequeues),
        cmocka_unit_test(test_configuration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
