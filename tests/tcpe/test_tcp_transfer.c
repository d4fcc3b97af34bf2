/*
 * test_tcp_transfer.c - two engines through a lossy in-memory channel.
 *
 * Thousands of transfers of random sizes in both directions over a channel that loses,
 * duplicates, reorders and delays segments: every byte must arrive once and in order, every
 * connection must close cleanly, and the same seed must give the same trace of segments.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "handoff/rng.h"
#include "handoff/tcpe.h"
#include "helpers/tt_world.h"
#include "helpers/tt_xfer.h"

struct run_result {
    bool ok;
    uint64_t trace;
    uint64_t emitted;
    uint64_t lost;
    struct tcpe_stats cli;
    struct tcpe_stats srv;
    uint64_t refused[2]; /* by each side's interface */
};

static void params(struct tcpe_params *p, bool virt)
{
    tcpe_params_init(p);
    p->msl = 1 * TT_SEC; /* keep TIME_WAIT short: connections are many */
    p->virtual_payload = virt;
}

static struct run_result run_refusing(uint64_t seed, int n, int conc, uint64_t max_size,
                                      double loss, bool virt, uint32_t refuse_every)
{
    struct tt_chan_params cp = {
        .refuse_every = refuse_every,
        .seed = seed,
        .loss = loss,
        .dup = loss / 2,
        .reorder = loss,
        .delay = 5 * TT_MS,
        .jitter = loss > 0 ? 2 * TT_MS : 0, /* jitter reorders, and reordering costs */
        .reorder_delay = 8 * TT_MS,
    };
    struct tt_world w;
    tt_world_init(&w, &cp);
    struct tt_xfers xs;
    struct tcpe_params pc, ps;
    params(&pc, virt);
    params(&ps, virt);
    pc.seed = seed;
    ps.seed = seed + 1;
    struct tcpe_stack *cli = tt_world_add_stack(&w, 0, &pc, tt_xfers_event, &xs);
    struct tcpe_stack *srv = tt_world_add_stack(&w, 1, &ps, tt_xfers_event, &xs);
    tt_xfers_init(&xs, &w, cli, srv, n, seed, max_size);
    xs.virtual_payload = virt;
    struct run_result r = {0};
    r.ok = tt_xfers_run(&xs, conc, 100000 * TT_SEC, NULL, NULL);
    if (!r.ok) {
        fprintf(stderr, "seed %llu: %d of %d finished, %d failures, t=%.3f s\n",
                (unsigned long long)seed, xs.finished, n, xs.failures, (double)w.now / 1e9);
        for (int i = 0; i < n; i++) {
            struct tt_xfer *x = &xs.x[i];
            if (x->cli.failed || x->srv.failed || !(x->cli.closed && x->srv.closed)) {
                fprintf(stderr,
                        "  xfer %d: cli sent %llu/%llu got %llu/%llu eof %d closed %d failed %d"
                        " state %s | srv sent %llu/%llu got %llu/%llu eof %d closed %d failed %d "
                        "state %s\n",
                        i, (unsigned long long)x->cli.sent, (unsigned long long)x->cli.to_send,
                        (unsigned long long)x->cli.received, (unsigned long long)x->cli.expect,
                        x->cli.eof, x->cli.closed, x->cli.failed,
                        x->cli.c ? tcpe_state_name(tcpe_conn_state(x->cli.c)) : "-",
                        (unsigned long long)x->srv.sent, (unsigned long long)x->srv.to_send,
                        (unsigned long long)x->srv.received, (unsigned long long)x->srv.expect,
                        x->srv.eof, x->srv.closed, x->srv.failed,
                        x->srv.c ? tcpe_state_name(tcpe_conn_state(x->srv.c)) : "-");
                break;
            }
        }
    }
    /* Everything released and past TIME_WAIT: only the listener remains. */
    tt_world_run(&w, w.now + 10 * TT_SEC, NULL, NULL);
    if (r.ok) {
        r.ok = tcpe_stack_conn_count(cli) == 0 && tcpe_stack_conn_count(srv) == 1;
    }
    r.trace = w.trace;
    r.emitted = w.emitted;
    r.lost = w.lost;
    r.cli = *tcpe_stack_stats(cli);
    r.srv = *tcpe_stack_stats(srv);
    r.refused[0] = w.ep[0].refused;
    r.refused[1] = w.ep[1].refused;
    tt_xfers_fini(&xs);
    tt_world_fini(&w);
    return r;
}

static struct run_result run(uint64_t seed, int n, int conc, uint64_t max_size, double loss,
                             bool virt)
{
    return run_refusing(seed, n, conc, max_size, loss, virt, 0);
}

static void test_clean_channel(void **state)
{
    (void)state;
    struct run_result r = run(1, 50, 10, 100000, 0.0, false);
    fprintf(stderr,
            "emitted %llu rexmt %llu/%llu timeouts %llu/%llu fast %llu/%llu probes %llu/%llu bytes "
            "%llu/%llu\n",
            (unsigned long long)r.emitted, (unsigned long long)r.cli.rexmt_segs,
            (unsigned long long)r.srv.rexmt_segs, (unsigned long long)r.cli.timeouts,
            (unsigned long long)r.srv.timeouts, (unsigned long long)r.cli.fast_rexmts,
            (unsigned long long)r.srv.fast_rexmts, (unsigned long long)r.cli.persist_probes,
            (unsigned long long)r.srv.persist_probes, (unsigned long long)r.cli.bytes_out,
            (unsigned long long)r.srv.bytes_out);
    assert_true(r.ok);
    assert_int_equal(r.cli.rexmt_segs + r.srv.rexmt_segs, 0);
    assert_int_equal(r.cli.conns_opened, 50);
}

static void test_lossy_channel_many_transfers(void **state)
{
    (void)state;
    uint64_t retransmits = 0, fast = 0, timeouts = 0, ooo = 0;
    int transfers = 0;
    /* TCPE_SOAK_SEEDS runs more seeds (a longer local search); the default is the CI size. */
    const char *env = getenv("TCPE_SOAK_SEEDS");
    uint64_t seeds = env != NULL ? strtoull(env, NULL, 0) : 8;
    for (uint64_t seed = 1; seed <= seeds; seed++) {
        struct run_result r = run(seed * 7919, 500, 50, 200000, seed % 2 ? 0.01 : 0.04, false);
        assert_true(r.ok);
        assert_true(r.lost > 0);
        retransmits += r.cli.rexmt_segs + r.srv.rexmt_segs;
        fast += r.cli.fast_rexmts + r.srv.fast_rexmts;
        timeouts += r.cli.timeouts + r.srv.timeouts;
        ooo += r.cli.ooo_segs + r.srv.ooo_segs;
        transfers += 500;
    }
    /* The channel really exercised recovery. */
    fprintf(stderr, "rexmt %llu fast %llu timeouts %llu ooo %llu\n",
            (unsigned long long)retransmits, (unsigned long long)fast, (unsigned long long)timeouts,
            (unsigned long long)ooo);
    assert_true(fast > 10);
    assert_true(timeouts > 10);
    assert_true(ooo > 100);
    assert_true(retransmits > fast + timeouts);
    assert_int_equal(transfers, 500 * (int)seeds);
}

/* Harsh and varied: per seed a different MSS (down to the 48 floor), buffer sizes (down to a
 * few hundred octets), Nagle, delayed-ACK timer, window scale, timestamps (each side may offer
 * them or not) and limited transmit, over a channel that loses up to a fifth of all segments and
 * duplicates and reorders heavily. */
static void test_harsh_conditions(void **state)
{
    (void)state;
    static const uint16_t mss[] = {48, 100, 536, 1460, 9000};
    static const uint32_t bufs[] = {300, 1000, 4000, 65535, 1u << 20};
    static const uint64_t delack[] = {0, 40 * TT_MS, 200 * TT_MS};
    const char *env = getenv("TCPE_SOAK_SEEDS");
    uint64_t seeds = env != NULL ? strtoull(env, NULL, 0) : 10;
    for (uint64_t seed = 1; seed <= seeds; seed++) {
        struct ho_rng r;
        ho_rng_seed_named(&r, seed, "harsh");
        double loss = 0.2 * ho_rng_unit(&r);
        struct tt_chan_params cp = {
            .seed = seed,
            .loss = loss,
            .dup = 0.1 * ho_rng_unit(&r),
            .reorder = 0.3 * ho_rng_unit(&r),
            .delay = (1 + ho_rng_below(&r, 50)) * TT_MS,
            .jitter = ho_rng_below(&r, 5) * TT_MS,
            .reorder_delay = (1 + ho_rng_below(&r, 30)) * TT_MS,
        };
        struct tt_world w;
        tt_world_init(&w, &cp);
        struct tt_xfers xs;
        struct tcpe_params p[2];
        for (int i = 0; i < 2; i++) {
            tcpe_params_init(&p[i]);
            p[i].msl = TT_SEC;
            p[i].mss = mss[ho_rng_below(&r, 5)];
            p[i].rcvbuf = bufs[ho_rng_below(&r, 5)];
            p[i].sndbuf = bufs[ho_rng_below(&r, 5)];
            p[i].nodelay = ho_rng_below(&r, 2);
            p[i].delack = delack[ho_rng_below(&r, 3)];
            p[i].ooo_max = (uint32_t)ho_rng_below(&r, 10);
            p[i].rto_min = p[i].rto_init = 200 * TT_MS;
            p[i].rexmt_limit = 40; /* a fifth lost, both ways: long runs of losses happen */
            p[i].syn_limit = 40;
            p[i].timestamps = ho_rng_below(&r, 2);
            p[i].limited_transmit = ho_rng_below(&r, 4) != 0;
        }
        struct tcpe_stack *cli = tt_world_add_stack(&w, 0, &p[0], tt_xfers_event, &xs);
        struct tcpe_stack *srv = tt_world_add_stack(&w, 1, &p[1], tt_xfers_event, &xs);
        tt_xfers_init(&xs, &w, cli, srv, 25, seed, 30000);
        bool ok = tt_xfers_run(&xs, 10, 1000000 * TT_SEC, NULL, NULL);
        if (!ok) {
            fprintf(stderr,
                    "harsh seed %llu: loss %.3f mss %u/%u rcvbuf %u/%u sndbuf %u/%u ts %d/%d\n",
                    (unsigned long long)seed, loss, p[0].mss, p[1].mss, p[0].rcvbuf, p[1].rcvbuf,
                    p[0].sndbuf, p[1].sndbuf, p[0].timestamps, p[1].timestamps);
            tt_xfers_dump(&xs, 5);
        }
        assert_true(ok);
        tt_xfers_fini(&xs);
        tt_world_fini(&w);
    }
}

/* The checks can fail: a channel that flips payload octets must be caught. */
static void test_corruption_is_detected(void **state)
{
    (void)state;
    struct tt_chan_params cp = {.seed = 5, .delay = 5 * TT_MS, .corrupt = 0.01};
    struct tt_world w;
    tt_world_init(&w, &cp);
    struct tt_xfers xs;
    struct tcpe_params p;
    tcpe_params_init(&p);
    p.msl = TT_SEC;
    struct tcpe_stack *cli = tt_world_add_stack(&w, 0, &p, tt_xfers_event, &xs);
    struct tcpe_stack *srv = tt_world_add_stack(&w, 1, &p, tt_xfers_event, &xs);
    tt_xfers_init(&xs, &w, cli, srv, 40, 5, 100000);
    assert_false(tt_xfers_run(&xs, 10, 10000 * TT_SEC, NULL, NULL));
    assert_true(xs.failures > 0);
    tt_xfers_fini(&xs);
    tt_world_fini(&w);
}

static void test_virtual_payload(void **state)
{
    (void)state;
    struct run_result r = run(99, 1000, 100, 300000, 0.02, true);
    assert_true(r.ok);
}

/*
 * Interfaces that refuse one segment in five (tcpe.h: output returns HO_ENOSPC), on a channel
 * that also loses some: every byte still arrives once and in order, every connection closes, and
 * each refusal is counted once, as output_refused, by the side that met it.
 */
static void test_refused_output(void **state)
{
    (void)state;
    for (int virt = 0; virt <= 1; virt++) {
        struct run_result r = run_refusing(11, 40, 8, 200000, 0.01, virt, 5);
        assert_true(r.ok);
        assert_true(r.refused[0] > 0 && r.refused[1] > 0);
        assert_true(r.cli.output_refused == r.refused[0]);
        assert_true(r.srv.output_refused == r.refused[1]);
    }
}

static void test_same_seed_same_trace(void **state)
{
    (void)state;
    struct run_result a = run(4242, 60, 20, 60000, 0.03, false);
    struct run_result b = run(4242, 60, 20, 60000, 0.03, false);
    struct run_result c = run(4243, 60, 20, 60000, 0.03, false);
    assert_true(a.ok && b.ok && c.ok);
    assert_true(a.trace == b.trace);
    assert_int_equal(a.emitted, b.emitted);
    assert_true(a.trace != c.trace);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_channel),
        cmocka_unit_test(test_lossy_channel_many_transfers),
        cmocka_unit_test(test_harsh_conditions),
        cmocka_unit_test(test_corruption_is_detected),
        cmocka_unit_test(test_virtual_payload),
        cmocka_unit_test(test_refused_output),
        cmocka_unit_test(test_same_seed_same_trace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
