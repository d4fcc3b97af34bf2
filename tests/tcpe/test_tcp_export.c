/*
 * test_tcp_export.c - the handoff codec on its own: which states export, the encoding's size
 * and round trip (export . import . export is the identity), and hostile input: every
 * truncation, trailing bytes, wrong magic and version, the checks on the fields of limited
 * transmit, timestamps, SACK and the SACK scoreboard, the previous versions (5, before the
 * scoreboard; 4, before SACK) still read, and thousands of random corruptions (of connections
 * with and without timestamps, with SACK blocks, and in SACK recovery with a scoreboard), each of
 * which must either be refused or yield a connection the engine can run without tripping an
 * assertion.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "handoff/err.h"
#include "handoff/rng.h"
#include "handoff/tcpe.h"
#include "helpers/tt_world.h"

#define CLI_IP   0x0a000001u
#define SRV_IP   0x0a000002u
#define SRV_PORT 80

/* A client and a server over a clean channel, and a third stack to import into. */
struct pair {
    struct tt_world w;
    struct tcpe_stack *cli;
    struct tcpe_stack *srv;
    struct tcpe_stack *other;
    struct tcpe_conn *lsn;
    struct tcpe_conn *c; /* client end */
    struct tcpe_conn *s; /* server end (accepted) */
};

static void pair_init_opts(struct pair *p, bool virt, uint32_t rcvbuf, bool timestamps, bool sack)
{
    struct tt_chan_params cp = {.seed = 1, .delay = 10 * TT_MS};
    tt_world_init(&p->w, &cp);
    struct tcpe_params prm;
    tcpe_params_init(&prm);
    prm.virtual_payload = virt;
    prm.rcvbuf = rcvbuf;
    prm.timestamps = timestamps;
    prm.sack = sack;
    p->cli = tt_world_add_stack(&p->w, 0, &prm, NULL, NULL);
    p->srv = tt_world_add_stack(&p->w, 1, &prm, NULL, NULL);
    p->other = tt_world_add_stack(&p->w, 1, &prm, NULL, NULL);
    tt_world_set_offset(&p->w, p->other, 5000 * TT_SEC);
    assert_int_equal(tcpe_listen(p->srv, SRV_IP, SRV_PORT, 0, &p->lsn), 0);
    struct tcpe_tuple t = {CLI_IP, SRV_IP, 1234, SRV_PORT};
    assert_int_equal(tcpe_connect(p->cli, &t, p->w.now, &p->c), 0);
    tt_world_run(&p->w, p->w.now + TT_SEC, NULL, NULL);
    p->s = tcpe_accept(p->lsn);
    assert_non_null(p->s);
    assert_int_equal(tcpe_conn_state(p->s), TCPE_ESTABLISHED);
}

static void pair_init_ts(struct pair *p, bool virt, uint32_t rcvbuf, bool timestamps)
{
    pair_init_opts(p, virt, rcvbuf, timestamps, true);
}

static void pair_init(struct pair *p, bool virt, uint32_t rcvbuf)
{
    pair_init_ts(p, virt, rcvbuf, false);
}

static void pair_fini(struct pair *p)
{
    tt_world_fini(&p->w);
}

static void send_bytes(struct pair *p, struct tcpe_conn *c, uint32_t n, bool virt)
{
    uint8_t *b = malloc(n ? n : 1);
    tt_pattern_fill(7, 0, b, n);
    assert_int_equal(tcpe_send(c, virt ? NULL : b, n, tt_world_clock(&p->w, tcpe_conn_stack(c))),
                     (int)n);
    free(b);
}

/* Exports c into a fresh buffer; returns its length. */
static size_t export_conn(struct pair *p, struct tcpe_conn *c, uint8_t **out)
{
    uint64_t now = tt_world_clock(&p->w, tcpe_conn_stack(c));
    int n = tcpe_export(c, now, NULL, 0);
    assert_true(n > 0);
    *out = malloc((size_t)n);
    assert_int_equal(tcpe_export(c, now, *out, (size_t)n), n);
    return (size_t)n;
}

static void test_refused_states(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, false, 65536);
    uint8_t buf[4096];
    assert_int_equal(tcpe_export(p.lsn, p.w.now, buf, sizeof buf), HO_ESTATE);
    /* SYN_SENT and SYN_RECEIVED: a handshake in flight. */
    struct tcpe_tuple t = {CLI_IP, SRV_IP, 1235, SRV_PORT};
    struct tcpe_conn *c2 = NULL;
    assert_int_equal(tcpe_connect(p.cli, &t, p.w.now, &c2), 0);
    assert_int_equal(tcpe_export(c2, p.w.now, buf, sizeof buf), HO_ESTATE);
    tt_world_step(&p.w, p.w.now + TT_SEC); /* the SYN arrives */
    struct tcpe_tuple st = {SRV_IP, CLI_IP, SRV_PORT, 1235};
    struct tcpe_conn *half = tcpe_stack_lookup(p.srv, &st);
    assert_non_null(half);
    assert_int_equal(tcpe_conn_state(half), TCPE_SYN_RECEIVED);
    assert_int_equal(tcpe_export(half, p.w.now, buf, sizeof buf), HO_ESTATE);
    /* TIME_WAIT and CLOSED. */
    tcpe_shutdown(p.c, p.w.now);
    tcpe_shutdown(p.s, p.w.now);
    tt_world_run(&p.w, p.w.now + TT_SEC, NULL, NULL);
    assert_int_equal(tcpe_conn_state(p.c), TCPE_TIME_WAIT);
    assert_int_equal(tcpe_export(p.c, p.w.now, buf, sizeof buf), HO_ESTATE);
    tt_world_run(&p.w, p.w.now + 100 * TT_SEC, NULL, NULL);
    assert_int_equal(tcpe_conn_state(p.s), TCPE_CLOSED);
    assert_int_equal(tcpe_export(p.s, p.w.now, buf, sizeof buf), HO_ESTATE);
    pair_fini(&p);
}

/* Export, import elsewhere at another time, export again: the same bytes. */
static void roundtrip(struct pair *p, struct tcpe_conn **cp)
{
    struct tcpe_conn *c = *cp;
    struct tcpe_stack *from = tcpe_conn_stack(c);
    struct tcpe_stack *to = from == p->srv ? p->other : p->srv;
    uint8_t *a = NULL, *b = NULL;
    size_t n = export_conn(p, c, &a);
    uint64_t wake = tcpe_conn_next_wake(c);
    uint64_t now_from = tt_world_clock(&p->w, from);
    tcpe_detach(c);
    struct tcpe_conn *n2 = NULL;
    uint64_t now_to = tt_world_clock(&p->w, to);
    assert_int_equal(tcpe_import(to, a, n, now_to, &n2), HO_OK);
    /* Timers keep their remaining time on the new clock. */
    if (wake == TCPE_NEVER) {
        assert_true(tcpe_conn_next_wake(n2) == TCPE_NEVER);
    } else {
        assert_true(tcpe_conn_next_wake(n2) - now_to == wake - now_from);
    }
    size_t m = export_conn(p, n2, &b);
    assert_int_equal(m, n);
    assert_memory_equal(a, b, n);
    free(a);
    free(b);
    *cp = n2;
}

static void test_roundtrip_states(void **state)
{
    (void)state;
    for (int virt = 0; virt <= 1; virt++) {
        struct pair p;
        pair_init(&p, virt, 4000);
        /* ESTABLISHED with unsent, unacknowledged and unread data both ways. */
        send_bytes(&p, p.c, 3000, virt);
        send_bytes(&p, p.s, 20000, virt);
        tt_world_step(&p.w, TCPE_NEVER);
        tt_world_step(&p.w, TCPE_NEVER);
        roundtrip(&p, &p.s);
        tt_world_run(&p.w, p.w.now + 30 * TT_SEC, NULL, NULL); /* persist fills the window */
        roundtrip(&p, &p.s);                                   /* back, now at a zero window */
        struct tcpe_info in;
        tcpe_conn_info(p.s, &in);
        assert_int_equal(in.snd_wnd, 0);
        assert_true(in.rcvbuf_len == 3000);
        /* CLOSE_WAIT, then LAST_ACK. */
        tcpe_shutdown(p.c, tt_world_clock(&p.w, p.cli));
        tt_world_run(&p.w, p.w.now + TT_SEC, NULL, NULL);
        assert_int_equal(tcpe_conn_state(p.s), TCPE_CLOSE_WAIT);
        roundtrip(&p, &p.s);
        tcpe_shutdown(p.s, tt_world_clock(&p.w, tcpe_conn_stack(p.s)));
        assert_int_equal(tcpe_conn_state(p.s), TCPE_LAST_ACK);
        roundtrip(&p, &p.s);
        /* Let it finish: the client reads everything, both sides close. */
        uint8_t *buf = malloc(65536);
        for (int i = 0; i < 400 && tcpe_conn_state(p.s) != TCPE_CLOSED; i++) {
            tcpe_recv(p.c, virt ? NULL : buf, 65536, tt_world_clock(&p.w, p.cli));
            tcpe_recv(p.s, virt ? NULL : buf, 65536, tt_world_clock(&p.w, tcpe_conn_stack(p.s)));
            tt_world_step(&p.w, p.w.now + 10 * TT_SEC);
        }
        free(buf);
        assert_int_equal(tcpe_conn_state(p.s), TCPE_CLOSED);
        assert_true(tcpe_conn_eof(p.c));
        pair_fini(&p);
    }
}

/* FIN_WAIT_1, FIN_WAIT_2 and CLOSING, and out-of-order data in the encoding. */
static void test_roundtrip_closing_and_ooo(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, false, 65536);
    /* Lose one segment toward the server so that later ones wait out of order. */
    send_bytes(&p, p.c, 1000, false);
    p.w.drop_all[1] = true;
    tt_world_step(&p.w, TCPE_NEVER);
    p.w.drop_all[1] = false;
    tt_world_run(&p.w, p.w.now + 500 * TT_MS, NULL, NULL); /* the first was acked: cwnd grew */
    p.w.drop_all[1] = true;
    send_bytes(&p, p.c, 1000, false);
    p.w.drop_all[1] = false;
    send_bytes(&p, p.c, 3000, false);
    tt_world_run(&p.w, p.w.now + 15 * TT_MS, NULL, NULL);
    struct tcpe_info in;
    tcpe_conn_info(p.s, &in);
    assert_true(in.ooo_count > 0);
    roundtrip(&p, &p.s);
    tcpe_shutdown(p.s, tt_world_clock(&p.w, tcpe_conn_stack(p.s)));
    assert_int_equal(tcpe_conn_state(p.s), TCPE_FIN_WAIT_1);
    roundtrip(&p, &p.s);
    tt_world_run(&p.w, p.w.now + 50 * TT_MS, NULL, NULL);
    assert_int_equal(tcpe_conn_state(p.s), TCPE_FIN_WAIT_2);
    roundtrip(&p, &p.s);
    tt_world_run(&p.w, p.w.now + 5 * TT_SEC, NULL, NULL);
    uint8_t buf[8192];
    assert_int_equal(tcpe_recv(p.s, buf, sizeof buf, tt_world_clock(&p.w, tcpe_conn_stack(p.s))),
                     5000);
    for (int i = 0; i < 5000; i++) {
        assert_int_equal(buf[i], tt_pattern(7, (uint64_t)(i < 1000   ? i
                                                          : i < 2000 ? i - 1000
                                                                     : i - 2000)));
    }
    pair_fini(&p);

    /* CLOSING: both FINs cross. */
    pair_init(&p, false, 65536);
    tcpe_shutdown(p.s, p.w.now);
    tcpe_shutdown(p.c, p.w.now);
    tt_world_step(&p.w, TCPE_NEVER); /* both FINs arrive */
    assert_int_equal(tcpe_conn_state(p.s), TCPE_CLOSING);
    roundtrip(&p, &p.s);
    tt_world_run(&p.w, p.w.now + TT_SEC, NULL, NULL);
    assert_int_equal(tcpe_conn_state(p.s), TCPE_TIME_WAIT);
    pair_fini(&p);
}

static void test_size_and_small_buffers(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, true, 65536); /* virtual: no payload octets, only the fixed part */
    send_bytes(&p, p.s, 5000, true);
    assert_int_equal(tcpe_export(p.s, p.w.now, NULL, 0), 517);
    pair_fini(&p);

    pair_init(&p, false, 65536);
    send_bytes(&p, p.s, 5000, false);
    int n = tcpe_export(p.s, p.w.now, NULL, 0);
    assert_true(n > 5000);
    uint8_t *buf = malloc((size_t)n);
    for (int cap = 0; cap < n; cap += 97) {
        assert_int_equal(tcpe_export(p.s, p.w.now, buf, (size_t)cap), HO_EMSGSIZE);
    }
    assert_int_equal(tcpe_export(p.s, p.w.now, buf, (size_t)n), n);
    free(buf);
    pair_fini(&p);
}

/* Every truncation and any trailing byte is refused, and the stack is left as it was. */
static void test_truncated_and_trailing(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, false, 65536);
    send_bytes(&p, p.s, 3000, false);
    uint8_t *a = NULL;
    size_t n = export_conn(&p, p.s, &a);
    struct tcpe_conn *c = NULL;
    uint32_t before = tcpe_stack_conn_count(p.other);
    for (size_t len = 0; len < n; len++) {
        int err = tcpe_import(p.other, a, len, p.w.now, &c);
        assert_true(err == HO_EMSGSIZE || err == HO_EPROTO);
        assert_null(c);
        assert_int_equal(tcpe_stack_conn_count(p.other), before);
    }
    uint8_t *longer = malloc(n + 1);
    memcpy(longer, a, n);
    longer[n] = 0;
    assert_int_equal(tcpe_import(p.other, longer, n + 1, p.w.now, &c), HO_EPROTO);
    /* Wrong magic, wrong version. */
    longer[0] ^= 1;
    assert_int_equal(tcpe_import(p.other, longer, n, p.w.now, &c), HO_EPROTO);
    longer[0] ^= 1;
    longer[5] ^= 8;
    assert_int_equal(tcpe_import(p.other, longer, n, p.w.now, &c), HO_EVERSION);
    /* The same 4-tuple cannot be imported twice. */
    assert_int_equal(tcpe_import(p.other, a, n, p.w.now, &c), HO_OK);
    struct tcpe_conn *dup = NULL;
    assert_int_equal(tcpe_import(p.other, a, n, p.w.now, &dup), HO_EEXIST);
    free(longer);
    free(a);
    pair_fini(&p);
}

/* Offsets of fields in the encoding (docs/tcpe.md). */
#define OFF_FLAGS     19
#define OFF_MAXSEG    57
#define OFF_DUPACKS   91
#define OFF_LIMITED   95
#define OFF_TS_CLOCK  167
#define OFF_TS_RECENT 175
#define OFF_TS_AGE    179
#define F_RTTIMING    0x4000u
#define F_LIMITED     0x8000u
#define F_TSTAMP      0x10000u
#define TS_PERIOD     (1000000ull << 32)           /* the timestamp clock's period, ns */
#define TS_AGE_CAP    (24ull * 86400 * TT_SEC + 1) /* TS.Recent expired */

static void put32(uint8_t *b, size_t off, uint32_t v)
{
    b[off] = (uint8_t)(v >> 24);
    b[off + 1] = (uint8_t)(v >> 16);
    b[off + 2] = (uint8_t)(v >> 8);
    b[off + 3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *b, size_t off)
{
    return (uint32_t)b[off] << 24 | (uint32_t)b[off + 1] << 16 | (uint32_t)b[off + 2] << 8 |
           b[off + 3];
}

static void put64(uint8_t *b, size_t off, uint64_t v)
{
    put32(b, off, (uint32_t)(v >> 32));
    put32(b, off + 4, (uint32_t)v);
}

static uint64_t get64(const uint8_t *b, size_t off)
{
    return (uint64_t)get32(b, off) << 32 | get32(b, off + 4);
}

/* Imports a copy of a[0..n) with one 32-bit field replaced; returns what import says. */
static int import_with32(struct pair *p, const uint8_t *a, size_t n, size_t off, uint32_t v)
{
    uint8_t *b = malloc(n);
    memcpy(b, a, n);
    put32(b, off, v);
    struct tcpe_conn *c = NULL;
    int err = tcpe_import(p->other, b, n, tt_world_clock(&p->w, p->other), &c);
    if (err == HO_OK) {
        tcpe_detach(c);
    }
    free(b);
    return err;
}

/* What limited transmit sent is checked against what it could have sent: at most two
 * segments, in flight, after a first duplicate ACK, on a connection that uses it. */
static void test_limited_transmit_fields(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, true, 65536);
    send_bytes(&p, p.s, 20000, true);
    uint8_t *a = NULL;
    size_t n = export_conn(&p, p.s, &a);
    struct tcpe_info in;
    tcpe_conn_info(p.s, &in);
    uint32_t mss = in.maxseg;
    assert_true(in.snd_max - in.snd_una >= 3 * mss); /* the initial window is in flight */
    assert_int_equal(get32(a, OFF_DUPACKS), 0);
    assert_int_equal(get32(a, OFF_LIMITED), 0);
    uint32_t flags = get32(a, OFF_FLAGS);
    assert_true(flags & F_LIMITED); /* limited transmit is on by default */

    uint8_t *b = malloc(n);
    memcpy(b, a, n);
    put32(b, OFF_DUPACKS, 2);
    assert_int_equal(import_with32(&p, b, n, OFF_LIMITED, 2 * mss), HO_OK);
    assert_int_equal(import_with32(&p, b, n, OFF_LIMITED, 1), HO_OK);
    assert_int_equal(import_with32(&p, b, n, OFF_LIMITED, 2 * mss + 1), HO_EPROTO);
    assert_int_equal(import_with32(&p, a, n, OFF_LIMITED, mss), HO_EPROTO); /* no duplicate */
    put32(b, OFF_LIMITED, mss);
    assert_int_equal(import_with32(&p, b, n, OFF_FLAGS, flags & ~F_LIMITED), HO_EPROTO);
    assert_int_equal(import_with32(&p, b, n, OFF_FLAGS, flags), HO_OK);
    free(b);
    free(a);
    pair_fini(&p);
}

/* Imports a copy of a[0..n) with one 64-bit field replaced; returns what import says. */
static int import_with64(struct pair *p, const uint8_t *a, size_t n, size_t off, uint64_t v)
{
    uint8_t *b = malloc(n);
    memcpy(b, a, n);
    put64(b, off, v);
    struct tcpe_conn *c = NULL;
    int err = tcpe_import(p->other, b, n, tt_world_clock(&p->w, p->other), &c);
    if (err == HO_OK) {
        tcpe_detach(c);
    }
    free(b);
    return err;
}

/*
 * A connection with timestamps round-trips to another clock, its TSval clock continuing where
 * it was; the timestamp fields are checked: zero without the flag, the clock below its period,
 * TS.Recent's age at most "expired", no one-segment RTT timing alongside, and an MSS that may be
 * 12 octets below the floor (the option's cost) only with timestamps.
 */
static void test_timestamp_fields(void **state)
{
    (void)state;
    struct pair p;
    pair_init_ts(&p, false, 65536, true);
    send_bytes(&p, p.s, 20000, false);
    send_bytes(&p, p.c, 3000, false);
    tt_world_step(&p.w, TCPE_NEVER);
    tt_world_step(&p.w, TCPE_NEVER);
    struct tcpe_info in;
    tcpe_conn_info(p.s, &in);
    assert_true(in.timestamps);
    assert_int_equal(in.maxseg, 1460 - 12);
    roundtrip(&p, &p.s); /* to a clock 5000 s ahead, and the bytes re-export identically */
    roundtrip(&p, &p.s);
    uint8_t *a = NULL;
    size_t n = export_conn(&p, p.s, &a);
    uint32_t flags = get32(a, OFF_FLAGS);
    assert_true(flags & F_TSTAMP);
    assert_false(flags & F_RTTIMING);
    assert_true(get64(a, OFF_TS_CLOCK) < TS_PERIOD);
    assert_int_equal(get32(a, OFF_TS_RECENT), in.ts_recent);
    assert_true(get64(a, OFF_TS_AGE) < TT_SEC);
    /* Accepted at the edges, refused past them. */
    assert_int_equal(import_with64(&p, a, n, OFF_TS_CLOCK, TS_PERIOD - 1), HO_OK);
    assert_int_equal(import_with64(&p, a, n, OFF_TS_CLOCK, TS_PERIOD), HO_EPROTO);
    assert_int_equal(import_with64(&p, a, n, OFF_TS_AGE, TS_AGE_CAP), HO_OK);
    assert_int_equal(import_with64(&p, a, n, OFF_TS_AGE, TS_AGE_CAP + 1), HO_EPROTO);
    assert_int_equal(import_with32(&p, a, n, OFF_FLAGS, flags | F_RTTIMING), HO_EPROTO);
    assert_int_equal(import_with32(&p, a, n, OFF_FLAGS, flags & ~F_TSTAMP), HO_EPROTO);
    uint8_t *b = malloc(n);
    memcpy(b, a, n);
    b[OFF_MAXSEG] = 0;
    b[OFF_MAXSEG + 1] = 36;
    assert_int_equal(import_with32(&p, b, n, OFF_FLAGS, flags), HO_OK);
    assert_int_equal(import_with32(&p, b, n, OFF_FLAGS, flags & ~F_TSTAMP), HO_EPROTO);
    b[OFF_MAXSEG + 1] = 35;
    assert_int_equal(import_with32(&p, b, n, OFF_FLAGS, flags), HO_EPROTO);
    free(b);
    free(a);
    pair_fini(&p);

    /* Without timestamps every timestamp field is zero, and must be. (Nothing is in flight,
     * so nothing is being timed, and the flag alone may be set: a clock reading zero.) */
    pair_init(&p, false, 65536);
    n = export_conn(&p, p.s, &a);
    flags = get32(a, OFF_FLAGS);
    assert_false(flags & (F_TSTAMP | F_RTTIMING));
    assert_true(get64(a, OFF_TS_CLOCK) == 0 && get32(a, OFF_TS_RECENT) == 0 &&
                get64(a, OFF_TS_AGE) == 0);
    assert_int_equal(import_with64(&p, a, n, OFF_TS_CLOCK, 1), HO_EPROTO);
    assert_int_equal(import_with32(&p, a, n, OFF_TS_RECENT, 1), HO_EPROTO);
    assert_int_equal(import_with64(&p, a, n, OFF_TS_AGE, 1), HO_EPROTO);
    assert_int_equal(import_with32(&p, a, n, OFF_FLAGS, flags | F_TSTAMP), HO_OK);
    free(a);
    pair_fini(&p);
}

/* Gives c an out-of-order segment of len octets, off octets past RCV.NXT, from its peer. */
static void inject_ooo(struct pair *p, struct tcpe_conn *c, uint32_t off, uint32_t len)
{
    const struct tcpe_tuple *t = tcpe_conn_tuple(c);
    struct tcpe_info in;
    tcpe_conn_info(c, &in);
    static uint8_t data[2000];
    assert_true(len <= sizeof data);
    struct tcpe_seg g;
    memset(&g, 0, sizeof g);
    g.src_ip = t->remote_ip;
    g.dst_ip = t->local_ip;
    g.src_port = t->remote_port;
    g.dst_port = t->local_port;
    g.seq = in.rcv_nxt + off;
    g.ack = in.snd_una;
    g.flags = TCPE_ACK;
    g.wnd = 65535;
    g.len = len;
    g.data = in.virtual_payload ? NULL : data;
    assert_int_equal(tcpe_conn_input(c, &g, tt_world_clock(&p->w, tcpe_conn_stack(c))), HO_OK);
}

/*
 * SACK (export version 5): the flag and the blocks in their order round-trip; blocks are checked
 * against the out-of-order queue (a block must lie inside one queued run, be non-empty, overlap
 * no other, at most 4, none without the flag). Version 4 is still read: the same encoding
 * without the block count and the scoreboard, and without the flag, which it did not have.
 */
#define F_SACK     0x20000u
#define F_RECOVERY 0x20u
#define NSTATS_X   (sizeof(struct tcpe_stats) / 8)
#define SB_EMPTY   5u /* an empty scoreboard: its count and HighRxt */

static int import_bytes(struct pair *p, const uint8_t *b, size_t n)
{
    struct tcpe_conn *c = NULL;
    int err = tcpe_import(p->other, b, n, tt_world_clock(&p->w, p->other), &c);
    if (err == HO_OK) {
        tcpe_detach(c);
    }
    return err;
}

static void test_sack_fields(void **state)
{
    (void)state;
    struct pair p;
    pair_init(&p, false, 65536);
    struct tcpe_info in;
    tcpe_conn_info(p.s, &in);
    assert_true(in.sack);
    uint32_t base = in.rcv_nxt;
    inject_ooo(&p, p.s, 1000, 500); /* [1000, 1500) */
    inject_ooo(&p, p.s, 3000, 500); /* [3000, 3500), the first block */
    roundtrip(&p, &p.s);            /* to the third stack and back, the same bytes each way */
    roundtrip(&p, &p.s);
    uint8_t *a = NULL;
    size_t n = export_conn(&p, p.s, &a);
    assert_int_equal(a[5], 6); /* the version */
    assert_true(get32(a, OFF_FLAGS) & F_SACK);
    size_t off = n - 1 - 8 * NSTATS_X - SB_EMPTY - 1 - 2 * 8; /* the block count */
    assert_int_equal(a[off], 2);
    assert_int_equal(get32(a, off + 1), base + 3000);
    assert_int_equal(get32(a, off + 5), base + 3500);
    assert_int_equal(get32(a, off + 9), base + 1000);
    assert_int_equal(get32(a, off + 13), base + 1500);
    /* Inside a run, smaller: accepted; beyond it, empty, reversed, overlapping: refused. */
    assert_int_equal(import_with32(&p, a, n, off + 1, base + 3100), HO_OK);
    assert_int_equal(import_with32(&p, a, n, off + 1, base + 2999), HO_EPROTO);
    assert_int_equal(import_with32(&p, a, n, off + 5, base + 3501), HO_EPROTO);
    assert_int_equal(import_with32(&p, a, n, off + 5, base + 3000), HO_EPROTO);
    assert_int_equal(import_with32(&p, a, n, off + 5, base + 2000), HO_EPROTO);
    assert_int_equal(import_with32(&p, a, n, off + 9, base + 3000), HO_EPROTO);
    assert_int_equal(import_with32(&p, a, n, OFF_FLAGS, get32(a, OFF_FLAGS) & ~F_SACK), HO_EPROTO);
    uint8_t *b = malloc(n + 16);
    memcpy(b, a, n);
    b[off] = 5; /* more blocks than an option holds */
    assert_int_equal(import_bytes(&p, b, n), HO_EPROTO);
    b[off] = 3; /* a count that runs into the counters */
    assert_int_equal(import_bytes(&p, b, n), HO_EPROTO);
    /* Version 4 is refused with the SACK fields, read without them, refused with the flag. */
    memcpy(b, a, n);
    b[5] = 4;
    assert_true(import_bytes(&p, b, n) == HO_EPROTO);
    b[5] = 5; /* and version 5 with the scoreboard */
    assert_true(import_bytes(&p, b, n) == HO_EPROTO);
    free(b);
    free(a);
    pair_fini(&p);

    /* A version 4 encoding of a connection without SACK, as the previous engine wrote it. */
    pair_init_opts(&p, false, 65536, false, false);
    tcpe_conn_info(p.s, &in);
    assert_false(in.sack);
    send_bytes(&p, p.s, 3000, false);
    inject_ooo(&p, p.s, 1000, 500);
    n = export_conn(&p, p.s, &a);
    off = n - 1 - 8 * NSTATS_X - SB_EMPTY - 1;
    assert_int_equal(a[off], 0);
    size_t cut = 1 + SB_EMPTY; /* the block count and the scoreboard */
    b = malloc(n);
    memcpy(b, a, off);
    memcpy(b + off, a + off + cut, n - off - cut);
    b[5] = 4;
    struct tcpe_conn *c = NULL;
    uint64_t now = tt_world_clock(&p.w, p.other);
    assert_int_equal(tcpe_import(p.other, b, n - cut, now, &c), HO_OK);
    tcpe_conn_info(c, &in);
    assert_false(in.sack);
    assert_int_equal(in.ooo_count, 1);
    int m = tcpe_export(c, now, NULL, 0);
    assert_int_equal(m, (int)n); /* written back as version 6 */
    tcpe_detach(c);
    assert_int_equal(import_with32(&p, b, n - cut, OFF_FLAGS, get32(b, OFF_FLAGS) | F_SACK),
                     HO_EPROTO);
    assert_int_equal(import_bytes(&p, b, n - cut + 1), HO_EPROTO); /* a byte too many for v4 */
    free(b);
    free(a);
    pair_fini(&p);
}

/* Gives c a duplicate ACK from its peer that SACKs [start, end) (absolute sequence numbers). */
static void inject_sack(struct pair *p, struct tcpe_conn *c, uint32_t start, uint32_t end)
{
    const struct tcpe_tuple *t = tcpe_conn_tuple(c);
    struct tcpe_info in;
    tcpe_conn_info(c, &in);
    struct tcpe_seg g;
    memset(&g, 0, sizeof g);
    g.src_ip = t->remote_ip;
    g.dst_ip = t->local_ip;
    g.src_port = t->remote_port;
    g.dst_port = t->local_port;
    g.seq = in.rcv_nxt;
    g.ack = in.snd_una;
    g.flags = TCPE_ACK;
    g.wnd = (uint16_t)(in.snd_wnd >> in.snd_wscale);
    g.opts = TCPE_OPT_SACK;
    g.nsack = 1;
    g.sack[0].start = start;
    g.sack[0].end = end;
    assert_int_equal(tcpe_conn_input(c, &g, tt_world_clock(&p->w, tcpe_conn_stack(c))), HO_OK);
}

/* A server connection in SACK recovery: a window in flight toward a client that hears nothing
 * (the channel drops it all), and three duplicate ACKs that SACK three separate segments. */
static void pair_in_sack_recovery(struct pair *p, struct tcpe_info *in)
{
    pair_init(p, false, 65536);
    send_bytes(p, p->s, 40000, false); /* slow start opens the window */
    tt_world_run(&p->w, p->w.now + 500 * TT_MS, NULL, NULL);
    uint8_t *buf = malloc(40000);
    assert_int_equal(tcpe_recv(p->c, buf, 40000, p->w.now), 40000);
    free(buf);
    tt_world_run(&p->w, p->w.now + 100 * TT_MS, NULL, NULL); /* not idle an RTO: cwnd stays */
    p->w.drop_all[0] = true;
    send_bytes(p, p->s, 30000, false);
    tcpe_conn_info(p->s, in);
    uint32_t una = in->snd_una, mss = in->maxseg;
    assert_true(in->snd_max - una >= 8u * mss);
    for (uint32_t k = 1; k <= 3; k++) {
        inject_sack(p, p->s, una + 2 * k * mss, una + (2 * k + 1) * mss);
    }
    tcpe_conn_info(p->s, in);
    assert_true(in->in_recovery);
    assert_int_equal(in->sack_ranges, 3);
    assert_int_equal(in->snd_una, una);
}

/*
 * The SACK scoreboard (export version 6): the ranges and HighRxt of a connection in SACK
 * recovery round-trip; import refuses ranges out of order, overlapping, touching, empty, at or
 * below SND.UNA or beyond SND.MAX, more than 8, any without SACK, and a HighRxt outside
 * [SND.UNA, SND.MAX] (or other than SND.UNA outside recovery). Version 5 is still read: the
 * connection arrives in recovery with an empty scoreboard.
 */
static void test_scoreboard_fields(void **state)
{
    (void)state;
    struct pair p;
    struct tcpe_info in;
    pair_in_sack_recovery(&p, &in);
    uint32_t una = in.snd_una, mss = in.maxseg, max = in.snd_max;
    roundtrip(&p, &p.s);
    roundtrip(&p, &p.s);
    uint8_t *a = NULL;
    size_t n = export_conn(&p, p.s, &a);
    assert_int_equal(a[5], 6);
    size_t off = n - 1 - 8 * NSTATS_X - 4 - 3 * 8 - 1; /* the range count */
    size_t rxt = off + 1 + 3 * 8;                      /* HighRxt */
    assert_int_equal(a[off], 3);
    for (uint32_t k = 0; k < 3; k++) {
        assert_int_equal(get32(a, off + 1 + 8 * k), una + 2 * (k + 1) * mss);
        assert_int_equal(get32(a, off + 5 + 8 * k), una + (2 * (k + 1) + 1) * mss);
    }
    assert_int_equal(get32(a, rxt), una + mss); /* the segment at SND.UNA went again */
    uint32_t flags = get32(a, OFF_FLAGS);
    assert_true((flags & (F_SACK | F_RECOVERY)) == (F_SACK | F_RECOVERY));
    size_t r0 = off + 1, r1 = off + 9, r2 = off + 17;
    /* Acceptable changes: a range smaller, the last one up to SND.MAX, HighRxt at either end. */
    assert_int_equal(import_with32(&p, a, n, r0, una + 2 * mss + 1), HO_OK);
    assert_int_equal(import_with32(&p, a, n, r2 + 4, max), HO_OK);
    assert_int_equal(import_with32(&p, a, n, rxt, una), HO_OK);
    assert_int_equal(import_with32(&p, a, n, rxt, max), HO_OK);
    /* Refused: */
    assert_int_equal(import_with32(&p, a, n, r0, una), HO_EPROTO);               /* at SND.UNA */
    assert_int_equal(import_with32(&p, a, n, r0, una - 10), HO_EPROTO);          /* below */
    assert_int_equal(import_with32(&p, a, n, r0 + 4, una + 2 * mss), HO_EPROTO); /* empty */
    assert_int_equal(import_with32(&p, a, n, r0 + 4, una + mss), HO_EPROTO);     /* reversed */
    assert_int_equal(import_with32(&p, a, n, r1, una + 3 * mss), HO_EPROTO);     /* touching */
    assert_int_equal(import_with32(&p, a, n, r1, una + 3 * mss - 1), HO_EPROTO); /* overlapping */
    assert_int_equal(import_with32(&p, a, n, r1, una + 7 * mss), HO_EPROTO);     /* unordered */
    assert_int_equal(import_with32(&p, a, n, r2 + 4, max + 1), HO_EPROTO);       /* unsent */
    assert_int_equal(import_with32(&p, a, n, r2 + 4, una + 0x80000000u), HO_EPROTO);
    assert_int_equal(import_with32(&p, a, n, rxt, una - 1), HO_EPROTO);
    assert_int_equal(import_with32(&p, a, n, rxt, max + 1), HO_EPROTO);
    assert_int_equal(import_with32(&p, a, n, OFF_FLAGS, flags & ~F_SACK), HO_EPROTO);
    assert_int_equal(import_with32(&p, a, n, OFF_FLAGS, flags & ~F_RECOVERY), HO_EPROTO);
    uint8_t *b = malloc(n + 64);
    memcpy(b, a, n);
    for (unsigned count = 0; count <= 255; count++) { /* a count that disagrees with the ranges */
        if (count != 3) {
            b[off] = (uint8_t)count;
            int err = import_bytes(&p, b, n);
            assert_true(err == HO_EPROTO || err == HO_EMSGSIZE);
        }
    }
    /* Nine ranges, well formed: still too many. */
    memcpy(b, a, off);
    b[off] = 9;
    for (uint32_t k = 0; k < 9; k++) {
        put32(b, off + 1 + 8 * k, una + (2 * k + 1) * 100);
        put32(b, off + 5 + 8 * k, una + (2 * k + 2) * 100);
    }
    size_t tail = n - rxt; /* HighRxt and the counters */
    memcpy(b + off + 1 + 72, a + rxt, tail);
    assert_int_equal(import_bytes(&p, b, off + 1 + 72 + tail), HO_EPROTO);
    b[off] = 8; /* eight are allowed: move the tail down one range */
    memcpy(b + off + 1 + 64, a + rxt, tail);
    assert_int_equal(import_bytes(&p, b, off + 1 + 64 + tail), HO_OK);
    /* Version 5: the same without the scoreboard; in recovery, with an empty scoreboard. */
    memcpy(b, a, off);
    memcpy(b + off, a + rxt + 4, n - rxt - 4);
    b[5] = 5;
    struct tcpe_conn *c = NULL;
    uint64_t now = tt_world_clock(&p.w, p.other);
    assert_int_equal(tcpe_import(p.other, b, off + n - rxt - 4, now, &c), HO_OK);
    tcpe_conn_info(c, &in);
    assert_true(in.sack && in.in_recovery);
    assert_int_equal(in.sack_ranges, 0);
    assert_int_equal(tcpe_export(c, now, NULL, 0), (int)(n - 3 * 8));
    tcpe_detach(c);
    free(b);
    free(a);
    pair_fini(&p);
}

/* Drives an imported connection through segments and timers: no assertion may trip. */
static void exercise(struct tcpe_stack *s, struct tcpe_conn *c, struct ho_rng *r, uint64_t now)
{
    const struct tcpe_tuple *t = tcpe_conn_tuple(c);
    struct tcpe_info in;
    tcpe_conn_info(c, &in);
    uint8_t data[3000];
    memset(data, 0x5a, sizeof data);
    for (int i = 0; i < 20; i++) {
        struct tcpe_seg g;
        memset(&g, 0, sizeof g);
        g.src_ip = t->remote_ip;
        g.dst_ip = t->local_ip;
        g.src_port = t->remote_port;
        g.dst_port = t->local_port;
        g.seq = in.rcv_nxt + (uint32_t)ho_rng_below(r, 4000) - 1000;
        g.ack = in.snd_una + (uint32_t)ho_rng_below(r, 4000) - 1000;
        g.flags = (uint8_t)(TCPE_ACK | (ho_rng_below(r, 8) == 0 ? TCPE_FIN : 0) |
                            (ho_rng_below(r, 16) == 0 ? TCPE_RST : 0));
        g.wnd = (uint16_t)ho_rng_below(r, 65536);
        g.len = (uint32_t)ho_rng_below(r, 3000);
        g.data = in.virtual_payload ? NULL : data;
        if (ho_rng_below(r, 4) == 0) {
            /* SACK blocks near what was sent, or anything at all (they fill the scoreboard,
             * and nothing they say may break it). */
            g.opts |= TCPE_OPT_SACK;
            g.nsack = (uint8_t)(1 + ho_rng_below(r, TCPE_SACK_MAX));
            for (unsigned k = 0; k < g.nsack; k++) {
                bool any = ho_rng_below(r, 4) == 0;
                g.sack[k].start = any ? (uint32_t)ho_rng_next(r)
                                      : in.snd_una + (uint32_t)ho_rng_below(r, 20000) - 5000;
                g.sack[k].end = any ? (uint32_t)ho_rng_next(r)
                                    : g.sack[k].start + (uint32_t)ho_rng_below(r, 6000) - 1000;
            }
        }
        if (ho_rng_below(r, 4) != 0) {
            /* Mostly near TS.Recent, on either side of it; sometimes any value. */
            g.opts |= TCPE_OPT_TS;
            g.ts_val = in.ts_recent + (uint32_t)ho_rng_below(r, 2000) - 500;
            g.ts_ecr = ho_rng_below(r, 8) == 0 ? (uint32_t)ho_rng_next(r)
                                               : (uint32_t)ho_rng_below(r, 100000);
        }
        if (tcpe_conn_input(c, &g, now) < 0 || tcpe_conn_state(c) == TCPE_CLOSED) {
            break;
        }
        now += ho_rng_below(r, 2 * TT_SEC);
        tcpe_stack_timers(s, now);
        if (tcpe_conn_state(c) == TCPE_CLOSED) {
            break;
        }
        tcpe_conn_info(c, &in);
    }
    tcpe_stack_timers(s, now + 3600 * TT_SEC);
}

static void test_corruption_fuzz(void **state)
{
    (void)state;
    struct ho_rng r;
    ho_rng_seed(&r, 2024);
    int accepted = 0, refused = 0;
    for (int kind = 0; kind < 5; kind++) {
        bool virt = kind == 1;
        struct pair p;
        /* real, virtual, real with timestamps, real with out-of-order data and SACK blocks,
         * real in SACK recovery with a scoreboard */
        if (kind == 4) {
            struct tcpe_info in;
            pair_in_sack_recovery(&p, &in);
        } else {
            pair_init_ts(&p, virt, 8000, kind == 2);
            send_bytes(&p, p.c, 3000, virt);
            send_bytes(&p, p.s, 12000, virt);
            tt_world_step(&p.w, TCPE_NEVER);
        }
        if (kind == 3) {
            inject_ooo(&p, p.s, 1000, 500);
            inject_ooo(&p, p.s, 3000, 700);
            inject_ooo(&p, p.s, 2000, 200);
        }
        uint8_t *a = NULL;
        size_t n = export_conn(&p, p.s, &a);
        uint8_t *b = malloc(n);
        /* TCPE_FUZZ_ITERS raises the count for a longer local search. */
        const char *env = getenv("TCPE_FUZZ_ITERS");
        int iters = env != NULL ? atoi(env) : 2000;
        for (int iter = 0; iter < iters; iter++) {
            memcpy(b, a, n);
            int flips = 1 + (int)ho_rng_below(&r, 4);
            for (int k = 0; k < flips; k++) {
                size_t at = ho_rng_below(&r, n < 260 ? n : 260); /* mostly the fixed part */
                if (ho_rng_below(&r, 4) == 0) {
                    at = ho_rng_below(&r, n);
                }
                b[at] = ho_rng_below(&r, 2) ? (uint8_t)ho_rng_next(&r)
                                            : (uint8_t)(b[at] ^ (1u << ho_rng_below(&r, 8)));
            }
            struct tcpe_stack *s = p.other;
            uint64_t now = tt_world_clock(&p.w, s);
            struct tcpe_conn *c = NULL;
            int err = tcpe_import(s, b, n, now, &c);
            if (err == HO_OK) {
                accepted++;
                exercise(s, c, &r, now);
                if (tcpe_conn_state(c) == TCPE_CLOSED) {
                    tcpe_release(c, now);
                } else {
                    tcpe_detach(c);
                }
            } else {
                refused++;
                assert_true(err == HO_EPROTO || err == HO_EMSGSIZE || err == HO_EVERSION ||
                            err == HO_EEXIST);
            }
            assert_int_equal(tcpe_stack_conn_count(s), 0);
        }
        free(a);
        free(b);
        pair_fini(&p);
    }
    /* Both outcomes occurred: the checks are neither blind nor paranoid. */
    assert_true(accepted > 100);
    assert_true(refused > 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_states),
        cmocka_unit_test(test_roundtrip_states),
        cmocka_unit_test(test_roundtrip_closing_and_ooo),
        cmocka_unit_test(test_size_and_small_buffers),
        cmocka_unit_test(test_truncated_and_trailing),
        cmocka_unit_test(test_limited_transmit_fields),
        cmocka_unit_test(test_timestamp_fields),
        cmocka_unit_test(test_sack_fields),
        cmocka_unit_test(test_scoreboard_fields),
        cmocka_unit_test(test_corruption_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
