/*
 * test_tcp_handoff.c - connections exported from one stack and imported into another
 * mid-transfer, differentially checked against runs without handoff.
 *
 * The server side has two stacks, a host and a NIC, the NIC on a clock far from the host's.
 * At random instants a server connection moves host -> NIC or back: export at the exporter's
 * time, detach, import at the importer's. Transfers run over a lossy channel with sequence
 * numbers that wrap mid-transfer and with clients that stop reading for a while (zero windows).
 * The check is differential, as TCP-Fuzz does it: the same seed without handoff must produce
 * exactly the same segments at exactly the same times (the order-independent trace), so the
 * peer cannot tell; and every byte must arrive. Counters show the moves covered loss recovery,
 * zero windows and the closing states. Both sides agree on SACK (the default), so loss recovery
 * is RFC 6675's and the moves cover connections with a SACK scoreboard and in the middle of SACK
 * recovery; again without SACK (NewReno), with RFC 7323 timestamps, whose values the trace
 * includes, and under harsh randomized parameters (timestamps and SACK on or off per side).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "handoff/err.h"
#include "handoff/rng.h"
#include "handoff/tcpe.h"
#include "helpers/tt_world.h"
#include "helpers/tt_xfer.h"

#define NIC_CLOCK_OFFSET (123456789ull * TT_SEC + 987654321ull)

struct moves {
    struct ho_rng rng;       /* when and what to move */
    double rate;             /* probability of a move after a world step */
    bool enabled;            /* false: the reference run */
    struct tcpe_stack *host; /* server stacks */
    struct tcpe_stack *nic;
    uint8_t *buf; /* export buffer */
    size_t cap;
    uint64_t moved;                  /* connections moved */
    uint64_t to_nic;                 /* of which host -> NIC */
    uint64_t in_state[TCPE_NSTATES]; /* moves by state */
    uint64_t in_recovery;            /* moves during fast recovery */
    uint64_t in_sack_recovery;       /* of which RFC 6675 recovery (SACK agreed) */
    uint64_t with_scoreboard;        /* moves with SACKed ranges on the scoreboard */
    uint64_t with_sack;              /* moves of connections that agreed on SACK */
    uint64_t at_zero_window;         /* moves while the peer's window was closed */
    uint64_t with_ooo;               /* moves with out-of-order data queued */
    uint64_t with_unacked;           /* moves with data in flight */
    uint64_t backed_off;             /* moves after a retransmission timeout */
    uint64_t with_ts;                /* moves of connections that use timestamps */
    uint64_t before_wrap;            /* moves with sequence numbers still below 2^32 */
    uint64_t after_wrap;             /* moves after they crossed zero */
    uint64_t unpause_at[64];         /* per paused transfer: when its client resumes reading */
};

/* ISNs near 2^32 so that most transfers cross zero. */
static uint32_t wrap_isn(void *ctx, const struct tcpe_tuple *t, uint64_t now)
{
    (void)ctx;
    (void)now;
    uint32_t k = (uint32_t)(t->local_port ^ t->remote_port) * 2654435761u;
    return 0u - 1u - (k % 60000u);
}

static void move_one(struct tt_xfers *xs, struct moves *m, struct tt_half *h)
{
    struct tcpe_conn *c = h->c;
    struct tcpe_stack *from = tcpe_conn_stack(c);
    struct tcpe_stack *to = from == m->host ? m->nic : m->host;
    uint64_t now_from = tt_world_clock(xs->w, from);
    uint64_t now_to = tt_world_clock(xs->w, to);

    struct tcpe_info info;
    tcpe_conn_info(c, &info);
    int need = tcpe_export(c, now_from, NULL, 0);
    assert_true(need > 0);
    if ((size_t)need > m->cap) {
        m->cap = (size_t)need;
        m->buf = realloc(m->buf, m->cap);
        assert_non_null(m->buf);
    }
    /* One octet short must fail cleanly; the exact size must succeed. */
    assert_int_equal(tcpe_export(c, now_from, m->buf, (size_t)need - 1), HO_EMSGSIZE);
    assert_int_equal(tcpe_export(c, now_from, m->buf, m->cap), need);
    uint64_t segs_before = tcpe_stack_stats(from)->segs_out;
    tcpe_detach(c);
    assert_int_equal(tcpe_stack_stats(from)->segs_out, segs_before); /* detach is silent */

    struct tcpe_conn *n = NULL;
    assert_int_equal(tcpe_import(to, m->buf, (size_t)need, now_to, &n), HO_OK);
    /* The same state, as far as the public view goes. */
    struct tcpe_info after;
    tcpe_conn_info(n, &after);
    assert_int_equal(after.state, info.state);
    assert_int_equal(after.snd_una, info.snd_una);
    assert_int_equal(after.snd_nxt, info.snd_nxt);
    assert_int_equal(after.rcv_nxt, info.rcv_nxt);
    assert_int_equal(after.cwnd, info.cwnd);
    assert_true(after.rto == info.rto && after.srtt == info.srtt);
    assert_int_equal(after.ooo_count, info.ooo_count);
    assert_int_equal(after.timestamps, info.timestamps);
    assert_int_equal(after.ts_recent, info.ts_recent);
    assert_int_equal(after.sndbuf_len, info.sndbuf_len);
    assert_true(after.stats.bytes_out == info.stats.bytes_out);
    assert_int_equal(after.in_recovery, info.in_recovery);
    assert_int_equal(after.sack, info.sack);
    assert_int_equal(after.sack_ranges, info.sack_ranges);
    assert_true(tcpe_conn_next_wake(n) >= now_to);
    tt_xfer_rehome(xs, h, n);

    m->moved++;
    m->to_nic += to == m->nic;
    m->in_state[info.state]++;
    m->in_recovery += info.in_recovery;
    m->in_sack_recovery += info.in_recovery && info.sack;
    m->with_scoreboard += info.sack_ranges > 0;
    m->with_sack += info.sack;
    m->at_zero_window += info.snd_wnd == 0;
    m->with_ooo += info.ooo_count > 0;
    m->with_unacked += info.snd_una != info.snd_max;
    m->backed_off += info.rxtshift > 0;
    m->with_ts += info.timestamps;
    m->before_wrap += info.snd_una > 0x80000000u;
    m->after_wrap += info.snd_una < 0x80000000u;
}

static void hook(struct tt_xfers *xs, void *arg)
{
    struct moves *m = arg;
    /* Paused clients resume (the same in both runs). */
    for (int i = 0; i < xs->n && i < 64; i++) {
        struct tt_half *h = &xs->x[i].cli;
        if (h->paused && xs->w->now >= m->unpause_at[i]) {
            h->paused = false;
            tt_xfers_pump(xs, h);
        }
    }
    if (!m->enabled || ho_rng_unit(&m->rng) >= m->rate) {
        return;
    }
    /* Pick a random server connection that can move. */
    int start = (int)ho_rng_below(&m->rng, (uint64_t)xs->n);
    for (int k = 0; k < xs->n; k++) {
        struct tt_half *h = &xs->x[(start + k) % xs->n].srv;
        if (h->c != NULL && TCPE_CAN_EXPORT(tcpe_conn_state(h->c))) {
            move_one(xs, m, h);
            return;
        }
    }
}

struct outcome {
    bool ok;
    uint64_t trace_set;
    uint64_t emitted;
};

/* What a run varies: the channel and the two sides' parameters (host and NIC share theirs). */
struct setup {
    struct tt_chan_params cp;
    struct tcpe_params cli;
    struct tcpe_params srv;
    uint64_t max_size;
};

static void default_setup(struct setup *su, uint64_t seed, double loss)
{
    struct tt_chan_params cp = {
        .seed = seed,
        .loss = loss,
        .dup = loss / 4,
        .reorder = loss,
        .delay = 10 * TT_MS,
        .jitter = 1 * TT_MS,
        .reorder_delay = 4 * TT_MS,
    };
    su->cp = cp;
    tcpe_params_init(&su->cli);
    su->cli.msl = 1 * TT_SEC;
    su->cli.rcvbuf = 16384; /* small, so paused readers close their window */
    su->cli.ops.isn = wrap_isn;
    su->srv = su->cli;
    su->max_size = 120000;
}

static struct outcome run_setup(const struct setup *su, bool handoff, int n, struct moves *m)
{
    struct tt_chan_params cp = su->cp;
    uint64_t seed = cp.seed;
    struct tt_world w;
    tt_world_init(&w, &cp);
    char *dump = getenv("TT_DUMP");
    char path[256];
    if (dump != NULL) {
        snprintf(path, sizeof path, "%s.%llu.%d", dump, (unsigned long long)seed, handoff);
        w.dump = fopen(path, "w");
    }
    struct tt_xfers xs;
    struct tcpe_params pc = su->cli, ph = su->srv, pn = su->srv;
    struct tcpe_stack *cli = tt_world_add_stack(&w, 0, &pc, tt_xfers_event, &xs);
    struct tcpe_stack *host = tt_world_add_stack(&w, 1, &ph, tt_xfers_event, &xs);
    struct tcpe_stack *nic = tt_world_add_stack(&w, 1, &pn, tt_xfers_event, &xs);
    tt_world_set_offset(&w, nic, NIC_CLOCK_OFFSET);
    tt_xfers_init(&xs, &w, cli, host, n, seed, su->max_size);
    memset(m, 0, sizeof *m);
    ho_rng_seed_named(&m->rng, seed, "moves");
    m->rate = 0.05;
    m->enabled = handoff;
    m->host = host;
    m->nic = nic;
    /* Odd transfers are request/response: the server answers after the client's FIN. */
    for (int i = 1; i < n; i += 2) {
        xs.x[i].srv.reply = true;
    }
    /* Every fifth client stops reading for a while. */
    for (int i = 0; i < n && i < 64; i += 5) {
        xs.x[i].cli.paused = true;
        m->unpause_at[i] = (uint64_t)(2 + i % 7) * TT_SEC;
    }
    struct outcome o;
    o.ok = tt_xfers_run(&xs, 16, 20000 * TT_SEC, hook, m);
    if (!o.ok) {
        fprintf(stderr, "seed %llu handoff %d: %d/%d finished, %d failures\n",
                (unsigned long long)seed, handoff, xs.finished, n, xs.failures);
        tt_xfers_dump(&xs, 10);
    }
    tt_world_run(&w, w.now + 10 * TT_SEC, NULL, NULL);
    o.ok = o.ok && tcpe_stack_conn_count(cli) == 0 && tcpe_stack_conn_count(host) == 1 &&
           tcpe_stack_conn_count(nic) == 0;
    o.trace_set = w.trace_set;
    if (w.dump != NULL) {
        fclose(w.dump);
    }
    o.emitted = w.emitted;
    free(m->buf);
    m->buf = NULL;
    tt_xfers_fini(&xs);
    tt_world_fini(&w);
    return o;
}

/* Runs each seed without and with handoff, compares, and sums the moves into *total. */
static void invisible_seeds(bool timestamps, bool sack, uint64_t seeds, struct moves *total)
{
    struct moves *m = calloc(1, sizeof *m);
    memset(total, 0, sizeof *total);
    for (uint64_t seed = 1; seed <= seeds; seed++) {
        struct setup su;
        default_setup(&su, seed * 31, 0.03);
        su.cli.timestamps = su.srv.timestamps = timestamps;
        su.cli.sack = su.srv.sack = sack;
        struct outcome ref = run_setup(&su, false, 60, m);
        assert_true(ref.ok);
        assert_int_equal(m->moved, 0);
        struct outcome got = run_setup(&su, true, 60, m);
        assert_true(got.ok);
        assert_true(m->moved > 0);
        assert_int_equal(got.emitted, ref.emitted);
        assert_true(got.trace_set == ref.trace_set);
        total->moved += m->moved;
        total->to_nic += m->to_nic;
        total->in_recovery += m->in_recovery;
        total->in_sack_recovery += m->in_sack_recovery;
        total->with_scoreboard += m->with_scoreboard;
        total->with_sack += m->with_sack;
        total->at_zero_window += m->at_zero_window;
        total->with_ooo += m->with_ooo;
        total->with_unacked += m->with_unacked;
        total->backed_off += m->backed_off;
        total->with_ts += m->with_ts;
        total->before_wrap += m->before_wrap;
        total->after_wrap += m->after_wrap;
        for (int s = 0; s < TCPE_NSTATES; s++) {
            total->in_state[s] += m->in_state[s];
        }
    }
    free(m);
}

static void test_handoff_is_invisible(void **state)
{
    (void)state;
    struct moves total;
    /* TCPE_SOAK_SEEDS runs more seeds (a longer local search); the default is the CI size. */
    const char *env = getenv("TCPE_SOAK_SEEDS");
    invisible_seeds(false, true, env != NULL ? strtoull(env, NULL, 0) : 12, &total);
    fprintf(stderr,
            "moves %llu (to NIC %llu): recovery %llu, zero window %llu, ooo %llu, in flight %llu,"
            " backed off %llu; EST %llu FW1 %llu FW2 %llu CW %llu CLOSING %llu LA %llu\n",
            (unsigned long long)total.moved, (unsigned long long)total.to_nic,
            (unsigned long long)total.in_recovery, (unsigned long long)total.at_zero_window,
            (unsigned long long)total.with_ooo, (unsigned long long)total.with_unacked,
            (unsigned long long)total.backed_off,
            (unsigned long long)total.in_state[TCPE_ESTABLISHED],
            (unsigned long long)total.in_state[TCPE_FIN_WAIT_1],
            (unsigned long long)total.in_state[TCPE_FIN_WAIT_2],
            (unsigned long long)total.in_state[TCPE_CLOSE_WAIT],
            (unsigned long long)total.in_state[TCPE_CLOSING],
            (unsigned long long)total.in_state[TCPE_LAST_ACK]);
    fprintf(stderr, "moves with SACK %llu: in SACK recovery %llu, with a scoreboard %llu\n",
            (unsigned long long)total.with_sack, (unsigned long long)total.in_sack_recovery,
            (unsigned long long)total.with_scoreboard);
    /* The moves covered the hard cases. */
    assert_true(total.to_nic > 0 && total.to_nic < total.moved);
    assert_true(total.in_recovery > 0);
    assert_true(total.at_zero_window > 0);
    assert_true(total.with_ooo > 0);
    assert_true(total.backed_off > 0);
    assert_true(total.before_wrap > 0 && total.after_wrap > 0);
    assert_true(total.in_state[TCPE_ESTABLISHED] > 0);
    assert_true(total.in_state[TCPE_FIN_WAIT_2] > 0);
    assert_true(total.in_state[TCPE_CLOSE_WAIT] > 0);
    assert_true(total.in_state[TCPE_LAST_ACK] > 0);
    assert_int_equal(total.with_ts, 0);
    assert_true(total.with_sack == total.moved);
    assert_true(total.in_sack_recovery > 0);
    assert_true(total.with_scoreboard > 0);
}

/* The same without SACK: NewReno's recovery moves, and nothing of SACK's does. */
static void test_handoff_newreno(void **state)
{
    (void)state;
    struct moves total;
    const char *env = getenv("TCPE_SOAK_SEEDS");
    invisible_seeds(false, false, env != NULL ? strtoull(env, NULL, 0) : 8, &total);
    fprintf(stderr, "moves without SACK %llu: recovery %llu, zero window %llu, ooo %llu\n",
            (unsigned long long)total.moved, (unsigned long long)total.in_recovery,
            (unsigned long long)total.at_zero_window, (unsigned long long)total.with_ooo);
    assert_true(total.in_recovery > 0);
    assert_int_equal(total.with_sack, 0);
    assert_int_equal(total.in_sack_recovery, 0);
    assert_int_equal(total.with_scoreboard, 0);
}

/*
 * The same with RFC 7323 timestamps on both sides. The NIC's clock is offset from the host's by
 * a time that is no whole number of milliseconds, so a moved connection's timestamp clock must
 * continue to the nanosecond for its TSvals (which the trace includes) to tick when they would
 * have; TS.Recent, its age and the echo must move too.
 */
static void test_handoff_with_timestamps(void **state)
{
    (void)state;
    struct moves total;
    const char *env = getenv("TCPE_SOAK_SEEDS");
    invisible_seeds(true, true, env != NULL ? strtoull(env, NULL, 0) : 8, &total);
    fprintf(stderr, "moves with timestamps %llu: recovery %llu, zero window %llu, ooo %llu\n",
            (unsigned long long)total.with_ts, (unsigned long long)total.in_recovery,
            (unsigned long long)total.at_zero_window, (unsigned long long)total.with_ooo);
    assert_true(total.with_ts > 0 && total.with_ts == total.moved);
    assert_true(total.in_recovery > 0);
    assert_true(total.at_zero_window > 0);
    assert_true(total.with_ooo > 0);
    assert_true(total.before_wrap > 0 && total.after_wrap > 0);
}

/* The same differential check under varied, harsh parameters: tiny segments and buffers,
 * heavy loss, duplication and reordering, Nagle, delayed ACKs and timestamps on or off. */
static void test_handoff_harsh(void **state)
{
    (void)state;
    static const uint16_t mss[] = {48, 536, 1460};
    static const uint32_t bufs[] = {500, 3000, 65535};
    struct moves *m = calloc(1, sizeof *m);
    uint64_t moved = 0, sack_recovery = 0;
    const char *env = getenv("TCPE_SOAK_SEEDS");
    uint64_t seeds = env != NULL ? strtoull(env, NULL, 0) : 8;
    const char *first = getenv("TCPE_SOAK_FIRST"); /* to replay one seed */
    uint64_t runs = 0;
    for (uint64_t seed = first != NULL ? strtoull(first, NULL, 0) : 1; seed <= seeds; seed++) {
        runs++;
        struct ho_rng r;
        ho_rng_seed_named(&r, seed, "harsh-handoff");
        struct setup su;
        default_setup(&su, seed * 977, 0.15 * ho_rng_unit(&r));
        su.cp.dup = 0.05 * ho_rng_unit(&r);
        su.cp.reorder = 0.2 * ho_rng_unit(&r);
        su.max_size = 20000;
        struct tcpe_params *ps[2] = {&su.cli, &su.srv};
        for (int i = 0; i < 2; i++) {
            ps[i]->mss = mss[ho_rng_below(&r, 3)];
            ps[i]->rcvbuf = bufs[ho_rng_below(&r, 3)];
            ps[i]->sndbuf = bufs[ho_rng_below(&r, 3)];
            ps[i]->nodelay = ho_rng_below(&r, 2);
            ps[i]->delack = ho_rng_below(&r, 2) ? 0 : 150 * TT_MS;
            ps[i]->ooo_max = (uint32_t)ho_rng_below(&r, 6);
            ps[i]->rto_min = ps[i]->rto_init = 300 * TT_MS;
            ps[i]->rexmt_limit = 40;
            ps[i]->syn_limit = 40;
            ps[i]->timestamps = ho_rng_below(&r, 2);
        }
        /* SACK on or off per side, from a generator of its own (the draws above stay as they
         * were before SACK was varied). */
        struct ho_rng rs;
        ho_rng_seed_named(&rs, seed, "harsh-sack");
        su.cli.sack = ho_rng_below(&rs, 4) != 0;
        su.srv.sack = ho_rng_below(&rs, 4) != 0;
        struct outcome ref = run_setup(&su, false, 30, m);
        assert_true(ref.ok);
        struct outcome got = run_setup(&su, true, 30, m);
        assert_true(got.ok);
        if (got.emitted != ref.emitted || got.trace_set != ref.trace_set) {
            fprintf(stderr, "harsh handoff seed %llu diverges\n", (unsigned long long)seed);
        }
        assert_int_equal(got.emitted, ref.emitted);
        assert_true(got.trace_set == ref.trace_set);
        moved += m->moved;
        sack_recovery += m->in_sack_recovery;
    }
    fprintf(stderr, "harsh: moves %llu, in SACK recovery %llu\n", (unsigned long long)moved,
            (unsigned long long)sack_recovery);
    assert_true(moved > runs * 10);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handoff_is_invisible),
        cmocka_unit_test(test_handoff_newreno),
        cmocka_unit_test(test_handoff_with_timestamps),
        cmocka_unit_test(test_handoff_harsh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
