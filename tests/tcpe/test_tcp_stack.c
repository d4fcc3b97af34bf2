/*
 * test_tcp_stack.c - the stack object: parameter checks, demultiplexing (exact, listener on an
 * address, listener on any), the bounded SYN backlog, the timer heap against brute force, the
 * per-connection entry points, events that re-enter the engine, allocation failure everywhere
 * (reliability 15), memory per connection, and counters that add up.
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

/* ---- a bare stack whose segments are collected ---- */

struct sink {
    struct tcpe_seg segs[64];
    int n;
};

static int sink_output(void *ctx, const struct tcpe_seg *seg)
{
    struct sink *k = ctx;
    if (k->n < 64) {
        k->segs[k->n] = *seg;
        k->segs[k->n].data = NULL;
    }
    k->n++;
    return HO_OK;
}

static struct tcpe_stack *bare_stack(struct sink *k)
{
    struct tcpe_params p;
    tcpe_params_init(&p);
    p.ops.output = sink_output;
    p.ctx = k;
    struct tcpe_stack *s = NULL;
    assert_int_equal(tcpe_stack_create(&p, &s), 0);
    return s;
}

static struct tcpe_seg syn_to(uint32_t dst_ip, uint16_t dst_port, uint16_t src_port)
{
    struct tcpe_seg g;
    memset(&g, 0, sizeof g);
    g.src_ip = 0x0b000001u;
    g.dst_ip = dst_ip;
    g.src_port = src_port;
    g.dst_port = dst_port;
    g.seq = 1000u * src_port;
    g.flags = TCPE_SYN;
    g.wnd = 65535;
    return g;
}

/*
 * RFC 9293 3.8.3 (MUST-23): with the default parameters an unanswered connect() keeps trying for
 * at least three minutes. Only the public API and virtual time: the stack's timers are run at
 * each next wake until the connection reports that it timed out.
 */
static void test_unanswered_syn_lasts_three_minutes(void **state)
{
    (void)state;
    struct sink k = {.n = 0};
    struct tcpe_stack *s = bare_stack(&k);
    const uint64_t start = 5000000000ull; /* any clock reading */
    struct tcpe_tuple t = {0x0a000001u, 0x0a000002u, 40000, 80};
    struct tcpe_conn *c = NULL;
    assert_int_equal(tcpe_connect(s, &t, start, &c), HO_OK);
    uint64_t now = start;
    unsigned ev = 0;
    for (int i = 0; i < 100 && !(ev & TCPE_EV_TIMEDOUT); i++) {
        now = tcpe_stack_next_wake(s);
        assert_true(now != TCPE_NEVER);
        tcpe_stack_timers(s, now);
        ev |= tcpe_conn_poll(c);
    }
    assert_true(ev & TCPE_EV_TIMEDOUT);
    assert_int_equal(tcpe_conn_state(c), TCPE_CLOSED);
    assert_true(now - start >= 180000000000ull);
    /* Every segment sent was a SYN, none a RST: the peer never spoke. */
    assert_true(k.n >= 2 && k.n <= 64);
    for (int i = 0; i < k.n; i++) {
        assert_int_equal(k.segs[i].flags, TCPE_SYN);
    }
    tcpe_release(c, now);
    tcpe_stack_destroy(s);
}

static void test_params_checked(void **state)
{
    (void)state;
    struct tcpe_params p;
    struct tcpe_stack *s = NULL;
    tcpe_params_init(&p);
    assert_int_equal(tcpe_stack_create(&p, &s), HO_EINVAL); /* no output */
    p.ops.output = sink_output;
    p.mss = 47;
    assert_int_equal(tcpe_stack_create(&p, &s), HO_EINVAL);
    tcpe_params_init(&p);
    p.ops.output = sink_output;
    p.rto_min = 0;
    assert_int_equal(tcpe_stack_create(&p, &s), HO_EINVAL);
    tcpe_params_init(&p);
    p.ops.output = sink_output;
    p.rcvbuf = 0;
    assert_int_equal(tcpe_stack_create(&p, &s), HO_EINVAL);
    assert_null(s);
    assert_string_equal(tcpe_state_name(TCPE_FIN_WAIT_2), "FIN_WAIT_2");
    assert_string_equal(tcpe_state_name(99), "?");
    assert_string_equal(tcpe_drop_name(TCPE_DROP_OOO_FULL), "ooo_full");
    assert_string_equal(tcpe_drop_name(-1), "?");
}

/* A specific-address listener wins over an any-address one; duplicates are refused. */
static void test_listener_demux(void **state)
{
    (void)state;
    struct sink k = {0};
    struct tcpe_stack *s = bare_stack(&k);
    struct tcpe_conn *any = NULL, *one = NULL, *dup = NULL;
    assert_int_equal(tcpe_listen(s, 0, 80, 0, &any), 0);
    assert_int_equal(tcpe_listen(s, 0x0a000002u, 80, 0, &one), 0);
    assert_int_equal(tcpe_listen(s, 0x0a000002u, 80, 0, &dup), HO_EEXIST);
    assert_int_equal(tcpe_listen(s, 0, 0, 0, &dup), HO_EINVAL);
    struct tcpe_seg g = syn_to(0x0a000002u, 80, 5000);
    assert_int_equal(tcpe_stack_input(s, &g, 0), 0);
    g = syn_to(0x0a000003u, 80, 5001);
    assert_int_equal(tcpe_stack_input(s, &g, 0), 0);
    g = syn_to(0x0a000003u, 81, 5002);
    assert_int_equal(tcpe_stack_input(s, &g, 0), HO_ENOENT);
    assert_int_equal(k.n, 3); /* two SYN-ACKs and a RST */
    assert_int_equal(k.segs[0].flags, TCPE_SYN | TCPE_ACK);
    assert_int_equal(k.segs[0].src_ip, 0x0a000002u);
    assert_int_equal(k.segs[1].src_ip, 0x0a000003u);
    assert_int_equal(k.segs[2].flags, TCPE_RST | TCPE_ACK);
    /* Each half-open child is attributed to its own listener. */
    struct tcpe_info info;
    tcpe_conn_info(one, &info);
    assert_int_equal(info.stats.segs_in, 1);
    tcpe_conn_info(any, &info);
    assert_int_equal(info.stats.segs_in, 1);
    assert_int_equal(tcpe_stack_conn_count(s), 4);
    tcpe_release(one, 0); /* resets its child */
    assert_int_equal(k.n, 4);
    assert_int_equal(k.segs[3].flags, TCPE_RST | TCPE_ACK);
    assert_int_equal(tcpe_stack_conn_count(s), 2);
    tcpe_stack_destroy(s);
}

/* The backlog bounds half-open plus unaccepted connections; accepting makes room. */
static void test_backlog(void **state)
{
    (void)state;
    struct sink k = {0};
    struct tcpe_stack *s = bare_stack(&k);
    struct tcpe_conn *l = NULL;
    assert_int_equal(tcpe_listen(s, 0, 80, 2, &l), 0);
    for (uint16_t port = 1; port <= 5; port++) {
        struct tcpe_seg g = syn_to(0x0a000002u, 80, port);
        tcpe_stack_input(s, &g, 0);
    }
    assert_int_equal(k.n, 2);
    assert_int_equal(tcpe_stack_stats(s)->drops[TCPE_DROP_BACKLOG], 3);
    assert_null(tcpe_accept(l));
    /* Complete the first handshake: still counted until accepted. */
    struct tcpe_seg a;
    memset(&a, 0, sizeof a);
    a.src_ip = 0x0b000001u;
    a.dst_ip = 0x0a000002u;
    a.src_port = 1;
    a.dst_port = 80;
    a.seq = 1001;
    a.ack = k.segs[0].seq + 1;
    a.flags = TCPE_ACK;
    a.wnd = 65535;
    tcpe_stack_input(s, &a, 1000);
    struct tcpe_seg g = syn_to(0x0a000002u, 80, 6);
    tcpe_stack_input(s, &g, 1000);
    assert_int_equal(k.n, 2);
    struct tcpe_conn *c = tcpe_accept(l);
    assert_non_null(c);
    assert_int_equal(tcpe_conn_state(c), TCPE_ESTABLISHED);
    assert_int_equal(tcpe_conn_tuple(c)->remote_port, 1);
    assert_int_equal(tcpe_conn_poll(c), TCPE_EV_CONNECTED | TCPE_EV_WRITABLE);
    tcpe_stack_input(s, &g, 2000);
    assert_int_equal(k.n, 3);
    tcpe_stack_destroy(s); /* with live connections: nothing may leak */
}

/* backlog_accept_queue (BSD): half-open connections are not counted; a SYN is dropped while
 * more than backlog established connections wait to be accepted, and accepting one makes room. */
static void test_backlog_accept_queue(void **state)
{
    (void)state;
    struct sink k = {0};
    struct tcpe_params p;
    tcpe_params_init(&p);
    p.ops.output = sink_output;
    p.ctx = &k;
    p.backlog_accept_queue = true;
    struct tcpe_stack *s = NULL;
    assert_int_equal(tcpe_stack_create(&p, &s), 0);
    struct tcpe_conn *l = NULL;
    assert_int_equal(tcpe_listen(s, 0, 80, 2, &l), 0);
    /* Five half-open: all answered. */
    for (uint16_t port = 1; port <= 5; port++) {
        struct tcpe_seg g = syn_to(0x0a000002u, 80, port);
        tcpe_stack_input(s, &g, 0);
    }
    assert_int_equal(k.n, 5);
    assert_int_equal(tcpe_stack_stats(s)->drops[TCPE_DROP_BACKLOG], 0);
    /* Three complete their handshakes: more than the backlog (2) now wait. */
    for (uint16_t port = 1; port <= 3; port++) {
        struct tcpe_seg a;
        memset(&a, 0, sizeof a);
        a.src_ip = 0x0b000001u;
        a.dst_ip = 0x0a000002u;
        a.src_port = port;
        a.dst_port = 80;
        a.seq = 1000u * port + 1;
        a.ack = k.segs[port - 1].seq + 1;
        a.flags = TCPE_ACK;
        a.wnd = 65535;
        tcpe_stack_input(s, &a, 1000);
    }
    struct tcpe_seg g = syn_to(0x0a000002u, 80, 6);
    tcpe_stack_input(s, &g, 1000);
    assert_int_equal(k.n, 5); /* dropped, silently */
    assert_int_equal(tcpe_stack_stats(s)->drops[TCPE_DROP_BACKLOG], 1);
    assert_non_null(tcpe_accept(l)); /* two wait now: the next SYN is answered */
    tcpe_stack_input(s, &g, 2000);
    assert_int_equal(k.n, 6);
    assert_int_equal(k.segs[5].flags, TCPE_SYN | TCPE_ACK);
    tcpe_stack_destroy(s);
}

/* The heap's top is always the earliest timer of all connections. */
static void test_timer_heap(void **state)
{
    (void)state;
    struct sink k = {0};
    struct tcpe_stack *s = bare_stack(&k);
    enum { N = 600 };
    struct tcpe_conn *c[N];
    struct ho_rng r;
    ho_rng_seed(&r, 5);
    uint64_t now = 0;
    for (int i = 0; i < N; i++) {
        now += ho_rng_below(&r, 5 * TT_MS);
        struct tcpe_tuple t = {0x0a000001u, 0x0a000002u, (uint16_t)(1000 + i), 80};
        assert_int_equal(tcpe_connect(s, &t, now, &c[i]), 0);
    }
    int alive = N;
    while (alive > 0) {
        uint64_t min = TCPE_NEVER;
        for (int i = 0; i < N; i++) {
            if (c[i] != NULL && tcpe_conn_next_wake(c[i]) < min) {
                min = tcpe_conn_next_wake(c[i]);
            }
        }
        assert_true(tcpe_stack_next_wake(s) == min);
        if (min == TCPE_NEVER) {
            break;
        }
        now = min;
        if (ho_rng_below(&r, 3) == 0) {
            int i = (int)ho_rng_below(&r, N);
            if (c[i] != NULL) {
                tcpe_release(c[i], now);
                c[i] = NULL;
                alive--;
            }
        }
        tcpe_stack_timers(s, now);
        assert_true(tcpe_stack_next_wake(s) > now);
        for (int i = 0; i < N; i++) {
            if (c[i] != NULL && tcpe_conn_state(c[i]) == TCPE_CLOSED) {
                assert_int_equal(tcpe_conn_poll(c[i]), TCPE_EV_TIMEDOUT);
                tcpe_release(c[i], now);
                c[i] = NULL;
                alive--;
            }
        }
    }
    assert_int_equal(tcpe_stack_conn_count(s), 0);
    assert_true(tcpe_stack_stats(s)->timeouts > 0);
    tcpe_stack_destroy(s);
}

/* The NIC's path: a connection it found itself, driven through the per-connection calls. */
static void test_per_connection_entry_points(void **state)
{
    (void)state;
    struct sink k = {0};
    struct tcpe_stack *s = bare_stack(&k);
    struct tcpe_tuple t = {0x0a000001u, 0x0a000002u, 1000, 80};
    struct tcpe_conn *c = NULL;
    assert_int_equal(tcpe_connect(s, &t, 0, &c), 0);
    assert_int_equal(k.n, 1);
    assert_true(tcpe_conn_next_wake(c) == TT_SEC);
    tcpe_conn_timers(c, TT_SEC / 2); /* not due: nothing */
    assert_int_equal(k.n, 1);
    tcpe_conn_timers(c, TT_SEC);
    assert_int_equal(k.n, 2);
    assert_true(tcpe_conn_next_wake(c) == 3 * TT_SEC);
    assert_true(tcpe_stack_next_wake(s) == 3 * TT_SEC);
    struct tcpe_seg g;
    memset(&g, 0, sizeof g);
    g.src_ip = t.remote_ip;
    g.dst_ip = t.local_ip;
    g.src_port = 80;
    g.dst_port = 1000;
    g.seq = 77;
    g.ack = k.segs[0].seq + 1;
    g.flags = TCPE_SYN | TCPE_ACK;
    g.wnd = 1000;
    assert_int_equal(tcpe_conn_input(c, &g, 2 * TT_SEC), 0);
    assert_int_equal(tcpe_conn_state(c), TCPE_ESTABLISHED);
    assert_true(tcpe_conn_next_wake(c) == TCPE_NEVER);
    assert_true(tcpe_stack_lookup(s, &t) == c);
    /* A real connection refuses virtual payload. */
    g.flags = TCPE_ACK;
    g.seq = 78;
    g.len = 10;
    assert_int_equal(tcpe_conn_input(c, &g, 2 * TT_SEC), HO_EINVAL);
    assert_int_equal(tcpe_stack_stats(s)->drops[TCPE_DROP_MALFORMED], 1);
    tcpe_stack_destroy(s);
}

/* Event callbacks may release connections and call back into the engine. */
struct releaser {
    int events;
};

static void release_on_event(void *app, struct tcpe_conn *c, unsigned ev)
{
    struct releaser *r = app;
    r->events++;
    if (ev & TCPE_EV_ACCEPT) {
        return;
    }
    uint8_t b[100] = {0};
    tcpe_send(c, b, sizeof b, 0); /* re-entry */
    tcpe_release(c, 0);
}

static void test_release_inside_callback(void **state)
{
    (void)state;
    struct tt_chan_params cp = {.seed = 3, .delay = TT_MS};
    struct tt_world w;
    tt_world_init(&w, &cp);
    struct releaser r = {0};
    struct tcpe_params p;
    tcpe_params_init(&p);
    p.msl = TT_SEC;
    struct tcpe_stack *a = tt_world_add_stack(&w, 0, &p, release_on_event, &r);
    struct tcpe_stack *b = tt_world_add_stack(&w, 1, &p, NULL, NULL);
    struct tcpe_conn *l = NULL, *c = NULL;
    assert_int_equal(tcpe_listen(b, 0, 80, 0, &l), 0);
    struct tcpe_tuple t = {1, 2, 1000, 80};
    assert_int_equal(tcpe_connect(a, &t, 0, &c), 0);
    tt_world_run(&w, 100 * TT_SEC, NULL, NULL);
    assert_int_equal(r.events, 1);
    assert_int_equal(tcpe_stack_conn_count(a), 0);
    struct tcpe_conn *s = tcpe_accept(l);
    assert_non_null(s);
    assert_int_equal(tcpe_conn_state(s), TCPE_CLOSE_WAIT);
    assert_int_equal(tcpe_conn_readable(s), 100);
    tt_world_fini(&w);
}

/* Allocation failure anywhere (reliability 15): transfers still complete, byte-exact. */
static void poke(struct tt_xfers *xs, void *arg)
{
    uint64_t *last = arg;
    if (xs->w->now - *last >= 50 * TT_MS) {
        *last = xs->w->now;
        tt_xfers_poke(xs);
    }
}

static void test_allocation_failures(void **state)
{
    (void)state;
    struct tt_chan_params cp = {.seed = 11, .loss = 0.01, .delay = 5 * TT_MS, .jitter = TT_MS};
    struct tt_world w;
    tt_world_init(&w, &cp);
    struct tt_xfers xs;
    struct tcpe_params p;
    tcpe_params_init(&p);
    p.msl = TT_SEC;
    p.rexmt_limit = 30;
    p.syn_limit = 30;
    struct tcpe_stack *cli = tt_world_add_stack(&w, 0, &p, tt_xfers_event, &xs);
    struct tcpe_stack *srv = tt_world_add_stack(&w, 1, &p, tt_xfers_event, &xs);
    tt_xfers_init(&xs, &w, cli, srv, 150, 11, 60000);
    uint64_t base = tt_world_ep(&w, cli)->bytes_live;
    w.alloc_fail = 0.05; /* from now on one allocation in twenty fails */
    uint64_t last = 0;
    bool ok = tt_xfers_run(&xs, 30, 100000 * TT_SEC, poke, &last);
    if (!ok) {
        tt_xfers_dump(&xs, 5);
    }
    assert_true(ok);
    struct tt_ep *ec = tt_world_ep(&w, cli);
    struct tt_ep *es = tt_world_ep(&w, srv);
    /* The failing allocator really bit, many times on both sides (a bound with room: the count
     * depends on the traffic, not on the engine's correctness). */
    assert_true(ec->allocs_failed > 20 && es->allocs_failed > 20);
    assert_true(tcpe_stack_stats(srv)->drops[TCPE_DROP_NOMEM] > 0);
    tt_world_run(&w, w.now + 10 * TT_SEC, NULL, NULL);
    assert_int_equal(tcpe_stack_conn_count(cli), 0);
    assert_true(ec->bytes_live <= base + 4096); /* all buffers given back (the heap may grow) */
    tt_xfers_fini(&xs);
    tt_world_fini(&w);
}

/*
 * Memory per connection: ten thousand established connections with virtual payload, data in
 * flight both ways, must cost each stack well under the 4 KB budget per connection.
 */
static void test_memory_per_connection(void **state)
{
    (void)state;
    struct tt_chan_params cp = {.seed = 9, .delay = 20 * TT_MS};
    struct tt_world w;
    tt_world_init(&w, &cp);
    struct tcpe_params p;
    tcpe_params_init(&p);
    p.virtual_payload = true;
    p.hash_buckets = 16384;
    struct tcpe_stack *a = tt_world_add_stack(&w, 0, &p, NULL, NULL);
    struct tcpe_stack *b = tt_world_add_stack(&w, 1, &p, NULL, NULL);
    struct tcpe_conn *l = NULL;
    assert_int_equal(tcpe_listen(b, 0, 80, 20000, &l), 0);
    enum { N = 10000 };
    struct tcpe_conn **cs = calloc(N, sizeof *cs);
    for (int i = 0; i < N; i++) {
        struct tcpe_tuple t = {0x0a000000u + (uint32_t)(i / 1000) + 1, 0x0b000001u,
                               (uint16_t)(1000 + i % 1000), 80};
        assert_int_equal(tcpe_connect(a, &t, w.now, &cs[i]), 0);
        assert_int_equal(tcpe_send(cs[i], NULL, 50000, w.now), 50000);
    }
    tt_world_run(&w, w.now + 30 * TT_MS, NULL, NULL); /* SYN-ACKs sent back, data queued */
    tt_world_run(&w, w.now + 25 * TT_MS, NULL, NULL); /* first windows of data in flight */
    struct tt_ep *ea = tt_world_ep(&w, a);
    struct tt_ep *eb = tt_world_ep(&w, b);
    fprintf(stderr, "client %llu B/conn, server %llu B/conn (TCB and buffers included)\n",
            (unsigned long long)(ea->bytes_live / N), (unsigned long long)(eb->bytes_live / N));
    assert_true(ea->bytes_live / N < 1024);
    assert_true(eb->bytes_live / N < 1024);
    assert_int_equal(tcpe_stack_conn_count(b), N + 1);
    free(cs);
    tt_world_fini(&w);
}

/* Counters add up: what the stacks sent is what the channel saw; what arrived is what was
 * delivered. */
static void test_counters_add_up(void **state)
{
    (void)state;
    struct tt_chan_params cp = {
        .seed = 21, .loss = 0.02, .dup = 0.01, .delay = 5 * TT_MS, .jitter = TT_MS};
    struct tt_world w;
    tt_world_init(&w, &cp);
    struct tt_xfers xs;
    struct tcpe_params p;
    tcpe_params_init(&p);
    /* TIME_WAIT (2 MSL) must outlast any retransmission backoff of the peer's FIN, or a late
     * FIN is answered with RST and its connection's last bytes are never acknowledged. */
    p.msl = 120 * TT_SEC;
    struct tcpe_stack *cli = tt_world_add_stack(&w, 0, &p, tt_xfers_event, &xs);
    struct tcpe_stack *srv = tt_world_add_stack(&w, 1, &p, tt_xfers_event, &xs);
    tt_world_ep(&w, srv)->per_conn = true; /* the NIC-style path for the server */
    tt_xfers_init(&xs, &w, cli, srv, 60, 21, 50000);
    assert_true(tt_xfers_run(&xs, 20, 10000 * TT_SEC, NULL, NULL));
    tt_world_run(&w, w.now + 10 * TT_SEC, NULL, NULL);
    const struct tcpe_stats *a = tcpe_stack_stats(cli);
    const struct tcpe_stats *b = tcpe_stack_stats(srv);
    assert_true(a->segs_out + b->segs_out == w.emitted);
    assert_true(a->segs_in + b->segs_in == w.emitted - w.lost + w.duplicated);
    uint64_t sent = 0, got = 0;
    for (int i = 0; i < xs.n; i++) {
        sent += xs.x[i].cli.to_send;
        got += xs.x[i].srv.received;
    }
    assert_true(b->bytes_in == got && a->bytes_acked == sent);
    assert_true(a->bytes_out >= sent && a->bytes_out - a->rexmt_bytes == sent);
    assert_int_equal(a->conns_opened, 60);
    assert_int_equal(b->conns_opened, 60);
    tt_xfers_fini(&xs);
    tt_world_fini(&w);
}

/* Every transition reaches ops.trace, in order, from the one function that changes state. */
struct transitions {
    int from[32];
    int to[32];
    int n;
};

static void record(void *ctx, const struct tcpe_conn *c, int from, int to, uint64_t now)
{
    (void)c;
    (void)now;
    struct transitions *t = ((struct tt_ep *)ctx)->app;
    if (t->n < 32) {
        t->from[t->n] = from;
        t->to[t->n] = to;
    }
    t->n++;
}

static void expect_path(const struct transitions *t, const int *states, int n)
{
    assert_int_equal(t->n, n - 1);
    for (int i = 0; i + 1 < n; i++) {
        assert_string_equal(tcpe_state_name(t->from[i]), tcpe_state_name(states[i]));
        assert_string_equal(tcpe_state_name(t->to[i]), tcpe_state_name(states[i + 1]));
    }
}

static void test_transition_trace(void **state)
{
    (void)state;
    struct tt_chan_params cp = {.seed = 1, .delay = 10 * TT_MS};
    struct tt_world w;
    tt_world_init(&w, &cp);
    struct transitions tc = {0}, ts = {0};
    struct tcpe_params p;
    tcpe_params_init(&p);
    p.ops.trace = record;
    struct tcpe_stack *a = tt_world_add_stack(&w, 0, &p, NULL, &tc);
    struct tcpe_stack *b = tt_world_add_stack(&w, 1, &p, NULL, &ts);
    struct tcpe_conn *l = NULL, *c = NULL;
    assert_int_equal(tcpe_listen(b, 0, 80, 0, &l), 0);
    struct tcpe_tuple t = {1, 2, 1000, 80};
    assert_int_equal(tcpe_connect(a, &t, 0, &c), 0);
    tt_world_run(&w, TT_SEC, NULL, NULL);
    struct tcpe_conn *s = tcpe_accept(l);
    assert_non_null(s);
    tcpe_shutdown(c, w.now);
    tt_world_run(&w, w.now + TT_SEC, NULL, NULL);
    tcpe_shutdown(s, w.now);
    tt_world_run(&w, w.now + 100 * TT_SEC, NULL, NULL);
    const int client[] = {TCPE_CLOSED,     TCPE_SYN_SENT,  TCPE_ESTABLISHED, TCPE_FIN_WAIT_1,
                          TCPE_FIN_WAIT_2, TCPE_TIME_WAIT, TCPE_CLOSED};
    expect_path(&tc, client, 7);
    const int server[] = {TCPE_CLOSED,     TCPE_LISTEN,   TCPE_SYN_RECEIVED, TCPE_ESTABLISHED,
                          TCPE_CLOSE_WAIT, TCPE_LAST_ACK, TCPE_CLOSED};
    expect_path(&ts, server, 7);
    tt_world_fini(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_checked),
        cmocka_unit_test(test_unanswered_syn_lasts_three_minutes),
        cmocka_unit_test(test_listener_demux),
        cmocka_unit_test(test_backlog),
        cmocka_unit_test(test_backlog_accept_queue),
        cmocka_unit_test(test_timer_heap),
        cmocka_unit_test(test_per_connection_entry_points),
        cmocka_unit_test(test_release_inside_callback),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_memory_per_connection),
        cmocka_unit_test(test_counters_add_up),
        cmocka_unit_test(test_transition_trace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
