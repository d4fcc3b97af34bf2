/*
 * test_tcp_regress.c - regressions for engine bugs found by fuzz/fuzz_tcpe_state.c, each a
 * connection the engine itself built that it then could not export, or worse:
 *
 *  - a window rounded up to the scale unit on every ACK let a peer sending segments shorter
 *    than the unit to an application that does not read grow the receive buffer without bound;
 *  - data accepted past the advertised edge left RCV.ADV behind RCV.NXT;
 *  - out-of-order data past the peer's FIN, or a FIN before queued data, was queued;
 *  - in-order data running past a FIN queued out of order replaced the FIN, and an in-order FIN
 *    before queued data ended the stream;
 *  - import accepted unread data and an offered window that together exceed the largest
 *    buffer, from which the engine could build a buffer past the limit.
 *
 * The connection under test is passive, driven by hand-made segments from a peer that exists
 * only in the test, on a clock the test advances; what the engine sends is kept for checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "handoff/err.h"
#include "handoff/tcpe.h"
#include "tcp_var.h"

#define MS       1000000ull
#define OUR_IP   0x0a000002u
#define PEER_IP  0x0a000001u
#define PEER_ISN 1000u

/* The last segment the engine sent, and how many. */
struct sent {
    struct tcpe_seg last;
    uint64_t n;
};

static int keep_output(void *ctx, const struct tcpe_seg *seg)
{
    struct sent *k = ctx;
    k->last = *seg;
    k->last.data = NULL;
    k->n++;
    return HO_OK;
}

struct env {
    struct tcpe_stack *s;
    struct tcpe_stack *other; /* where exported states are imported */
    struct tcpe_conn *c;      /* the accepted connection */
    struct sent sent;
    uint64_t now;
    uint8_t payload[4096];
};

static struct tcpe_seg peer_seg(const struct env *e, uint32_t seq, uint8_t flags, uint32_t len)
{
    struct tcpe_seg g;
    memset(&g, 0, sizeof g);
    g.src_ip = PEER_IP;
    g.dst_ip = OUR_IP;
    g.src_port = 5000;
    g.dst_port = 80;
    g.seq = seq;
    g.ack = e->sent.last.seq + ((e->sent.last.flags & TCPE_SYN) ? 1 : 0);
    g.flags = flags;
    g.wnd = 65535;
    g.len = len;
    g.data = len > 0 ? e->payload : NULL;
    return g;
}

/* A passive connection, established; the peer offers window scaling (shift 7), as Linux does. */
static void env_open(struct env *e, uint32_t rcvbuf, uint64_t delack)
{
    memset(e, 0, sizeof *e);
    e->now = 1000 * MS;
    for (size_t i = 0; i < sizeof e->payload; i++) {
        e->payload[i] = (uint8_t)(i * 11 + 5);
    }
    struct tcpe_params p;
    tcpe_params_init(&p);
    p.ops.output = keep_output;
    p.ctx = &e->sent;
    p.rcvbuf = rcvbuf;
    p.delack = delack;
    assert_int_equal(tcpe_stack_create(&p, &e->s), HO_OK);
    assert_int_equal(tcpe_stack_create(&p, &e->other), HO_OK);
    struct tcpe_conn *l;
    assert_int_equal(tcpe_listen(e->s, OUR_IP, 80, 8, &l), HO_OK);
    struct tcpe_seg syn = peer_seg(e, PEER_ISN, TCPE_SYN, 0);
    syn.opts = TCPE_OPT_MSS | TCPE_OPT_WSCALE;
    syn.mss = 1460;
    syn.wscale = 7;
    assert_int_equal(tcpe_stack_input(e->s, &syn, e->now), HO_OK);
    assert_true((e->sent.last.flags & (TCPE_SYN | TCPE_ACK)) == (TCPE_SYN | TCPE_ACK));
    struct tcpe_seg ack = peer_seg(e, PEER_ISN + 1, TCPE_ACK, 0);
    assert_int_equal(tcpe_stack_input(e->s, &ack, e->now), HO_OK);
    e->c = tcpe_accept(l);
    assert_non_null(e->c);
    assert_int_equal(tcpe_conn_state(e->c), TCPE_ESTABLISHED);
}

static void env_close(struct env *e)
{
    tcpe_stack_destroy(e->s);
    tcpe_stack_destroy(e->other);
}

/* The connection's state must export and import into the other stack. */
static void assert_moves(struct env *e)
{
    int n = tcpe_export(e->c, e->now, NULL, 0);
    assert_true(n > 0);
    uint8_t *buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(tcpe_export(e->c, e->now, buf, (size_t)n), n);
    struct tcpe_conn *c2 = NULL;
    assert_int_equal(tcpe_import(e->other, buf, (size_t)n, e->now, &c2), HO_OK);
    tcpe_detach(c2);
    free(buf);
}

/*
 * A peer sends one octet at a time (every segment acknowledged at once) to an application that
 * never reads. With a window scale of 1, rounding the window up to the scale unit on each ACK
 * gave back the octet each segment took, so the window never closed and the buffer grew past its
 * limit for as long as the peer kept sending. The window must close at the buffer's size.
 */
static void test_window_closes_on_small_segments(void **state)
{
    (void)state;
    struct env e;
    env_open(&e, 70000, 0); /* rcvbuf > 65535: a window scale of 1 */
    struct tcpe_info in;
    tcpe_conn_info(e.c, &in);
    assert_int_equal(in.rcv_wscale, 1);
    uint32_t seq = PEER_ISN + 1;
    bool closed = false;
    for (int i = 0; i < 80000 && !closed; i++) {
        struct tcpe_seg g = peer_seg(&e, seq, TCPE_ACK, 1);
        e.now += MS;
        assert_int_equal(tcpe_stack_input(e.s, &g, e.now), HO_OK);
        tcpe_conn_info(e.c, &in);
        seq = in.rcv_nxt; /* the peer sends only what is in the window; the rest is dropped */
        closed = e.sent.last.wnd == 0;
    }
    assert_true(closed);
    assert_true(tcpe_conn_readable(e.c) <= 70000);
    /* More octets at the closed window are not taken. */
    for (int i = 0; i < 100; i++) {
        struct tcpe_seg g = peer_seg(&e, seq, TCPE_ACK, 1);
        e.now += MS;
        assert_int_equal(tcpe_stack_input(e.s, &g, e.now), HO_OK);
        tcpe_conn_info(e.c, &in);
        seq = in.rcv_nxt;
    }
    assert_true(tcpe_conn_readable(e.c) <= 70000);
    assert_moves(&e);
    env_close(&e);
}

/*
 * Data accepted past the edge last advertised (the window check allows the free buffer space)
 * while the ACK is delayed: RCV.ADV was left behind RCV.NXT, a state import refuses.
 */
static void test_data_past_the_advertised_edge(void **state)
{
    (void)state;
    struct env e;
    env_open(&e, 65536, 100 * MS);
    struct tcpe_conn *tp = e.c;
    tp->rcv_adv = tp->rcv_nxt; /* as after a zero window, with the space since freed */
    struct tcpe_seg g = peer_seg(&e, tp->rcv_nxt, TCPE_ACK, 1000);
    uint64_t sent = e.sent.n;
    assert_int_equal(tcpe_stack_input(e.s, &g, e.now), HO_OK);
    assert_int_equal(e.sent.n, sent); /* the ACK is delayed: nothing has moved the edge */
    assert_int_equal(tcpe_conn_readable(e.c), 1000);
    assert_true(SEQ_GEQ(tp->rcv_adv, tp->rcv_nxt));
    assert_moves(&e);
    env_close(&e);
}

/* Out-of-order data past a queued FIN is not queued; the FIN ends the stream. */
static void test_no_data_past_a_queued_fin(void **state)
{
    (void)state;
    struct env e;
    env_open(&e, 65536, 100 * MS);
    uint32_t base = PEER_ISN + 1;
    struct tcpe_seg fin = peer_seg(&e, base + 100, TCPE_ACK | TCPE_FIN, 100);
    assert_int_equal(tcpe_stack_input(e.s, &fin, e.now), HO_OK);
    struct tcpe_seg past = peer_seg(&e, base + 300, TCPE_ACK, 100);
    assert_int_equal(tcpe_stack_input(e.s, &past, e.now), HO_OK);
    struct tcpe_seg across = peer_seg(&e, base + 150, TCPE_ACK, 200);
    assert_int_equal(tcpe_stack_input(e.s, &across, e.now), HO_OK);
    assert_moves(&e);
    struct tcpe_seg hole = peer_seg(&e, base, TCPE_ACK, 100);
    assert_int_equal(tcpe_stack_input(e.s, &hole, e.now), HO_OK);
    assert_int_equal(tcpe_conn_state(e.c), TCPE_CLOSE_WAIT);
    assert_int_equal(tcpe_conn_readable(e.c), 200);
    assert_int_equal(e.sent.last.ack, base + 201); /* 200 octets and the FIN */
    env_close(&e);
}

/* A FIN before out-of-order data already queued is ignored: the data was there first. */
static void test_fin_before_queued_data_ignored(void **state)
{
    (void)state;
    struct env e;
    env_open(&e, 65536, 100 * MS);
    uint32_t base = PEER_ISN + 1;
    struct tcpe_seg later = peer_seg(&e, base + 300, TCPE_ACK, 100);
    assert_int_equal(tcpe_stack_input(e.s, &later, e.now), HO_OK);
    struct tcpe_seg fin = peer_seg(&e, base + 100, TCPE_ACK | TCPE_FIN, 100);
    assert_int_equal(tcpe_stack_input(e.s, &fin, e.now), HO_OK);
    assert_moves(&e);
    struct tcpe_seg hole = peer_seg(&e, base, TCPE_ACK, 100);
    assert_int_equal(tcpe_stack_input(e.s, &hole, e.now), HO_OK);
    assert_int_equal(tcpe_conn_state(e.c), TCPE_ESTABLISHED);
    assert_int_equal(tcpe_conn_readable(e.c), 200); /* up to the hole at 200 */
    struct tcpe_seg rest = peer_seg(&e, base + 200, TCPE_ACK, 100);
    assert_int_equal(tcpe_stack_input(e.s, &rest, e.now), HO_OK);
    assert_int_equal(tcpe_conn_readable(e.c), 400);
    assert_false(tcpe_conn_eof(e.c));
    env_close(&e);
}

/*
 * In-order data whose end runs past a FIN already queued out of order is cut at the FIN, and
 * the FIN is then delivered: the queued FIN said first where the stream ends. The engine used
 * to append the whole segment, step past the queued FIN and lose it.
 */
static void test_in_order_data_cut_at_a_queued_fin(void **state)
{
    (void)state;
    struct env e;
    env_open(&e, 65536, 100 * MS);
    uint32_t base = PEER_ISN + 1;
    struct tcpe_seg fin = peer_seg(&e, base + 100, TCPE_ACK | TCPE_FIN, 100);
    assert_int_equal(tcpe_stack_input(e.s, &fin, e.now), HO_OK);
    assert_int_equal(e.sent.last.ack, base); /* queued: a duplicate ACK */
    struct tcpe_seg over = peer_seg(&e, base, TCPE_ACK, 300);
    assert_int_equal(tcpe_stack_input(e.s, &over, e.now), HO_OK);
    assert_int_equal(tcpe_conn_state(e.c), TCPE_CLOSE_WAIT);
    assert_int_equal(tcpe_conn_readable(e.c), 200);
    assert_int_equal(e.sent.last.ack, base + 201); /* 200 octets and the FIN */
    uint8_t buf[300];
    assert_int_equal(tcpe_recv(e.c, buf, sizeof buf, e.now), 200);
    assert_memory_equal(buf, e.payload, 200);
    assert_true(tcpe_conn_eof(e.c));
    assert_moves(&e);
    env_close(&e);
}

/* The same with a FIN of the segment's own beyond the queued one: the queued FIN wins. */
static void test_in_order_fin_past_a_queued_fin(void **state)
{
    (void)state;
    struct env e;
    env_open(&e, 65536, 100 * MS);
    uint32_t base = PEER_ISN + 1;
    struct tcpe_seg fin = peer_seg(&e, base + 100, TCPE_ACK | TCPE_FIN, 50);
    assert_int_equal(tcpe_stack_input(e.s, &fin, e.now), HO_OK);
    struct tcpe_seg over = peer_seg(&e, base, TCPE_ACK | TCPE_FIN, 400);
    assert_int_equal(tcpe_stack_input(e.s, &over, e.now), HO_OK);
    assert_int_equal(tcpe_conn_state(e.c), TCPE_CLOSE_WAIT);
    assert_int_equal(tcpe_conn_readable(e.c), 150);
    assert_int_equal(e.sent.last.ack, base + 151);
    env_close(&e);
}

/* An in-order FIN before out-of-order data already queued is ignored, as an out-of-order one
 * is: the queued data said first that the stream goes on. */
static void test_in_order_fin_before_queued_data_ignored(void **state)
{
    (void)state;
    struct env e;
    env_open(&e, 65536, 100 * MS);
    uint32_t base = PEER_ISN + 1;
    struct tcpe_seg later = peer_seg(&e, base + 300, TCPE_ACK, 100);
    assert_int_equal(tcpe_stack_input(e.s, &later, e.now), HO_OK);
    struct tcpe_seg fin = peer_seg(&e, base, TCPE_ACK | TCPE_FIN, 100);
    assert_int_equal(tcpe_stack_input(e.s, &fin, e.now), HO_OK);
    assert_int_equal(tcpe_conn_state(e.c), TCPE_ESTABLISHED);
    assert_int_equal(tcpe_conn_readable(e.c), 100);
    assert_int_equal(e.sent.last.ack, base + 100);
    struct tcpe_conn *tp = e.c;
    assert_int_equal(tp->ooo_count, 1);
    struct tcpe_seg rest = peer_seg(&e, base + 100, TCPE_ACK, 200);
    assert_int_equal(tcpe_stack_input(e.s, &rest, e.now), HO_OK);
    assert_int_equal(tcpe_conn_readable(e.c), 400);
    assert_false(tcpe_conn_eof(e.c));
    assert_moves(&e);
    env_close(&e);
}

/* Exports a virtual connection with `unread` octets waiting, RCV.ADV `adv` octets beyond
 * RCV.NXT and, if ooo_len > 0, one out-of-order segment; returns what import says. */
static int import_with(uint32_t unread, uint32_t adv, uint32_t ooo_off, uint32_t ooo_len)
{
    struct env e;
    env_open(&e, 65536, 100 * MS);
    struct tcpe_conn *tp = e.c;
    assert_int_equal(tcpe_conn_set_virtual(tp, true), HO_OK);
    assert_int_equal(tcp_buf_append(&tp->rcv, &tp->stack->alloc, NULL, unread), HO_OK);
    tp->rcv_adv = tp->rcv_nxt + adv;
    if (ooo_len > 0) {
        assert_int_equal(tcp_reass_insert(tp, tp->rcv_nxt + ooo_off, ooo_len, NULL, false), HO_OK);
    }
    int n = tcpe_export(tp, e.now, NULL, 0);
    assert_true(n > 0);
    uint8_t *buf = malloc((size_t)n);
    assert_non_null(buf);
    assert_int_equal(tcpe_export(tp, e.now, buf, (size_t)n), n);
    struct tcpe_conn *c2 = NULL;
    int err = tcpe_import(e.other, buf, (size_t)n, e.now, &c2);
    free(buf);
    env_close(&e);
    return err;
}

/* Import refuses unread data plus an offered window (or queued data) beyond the largest
 * buffer: from there the peer could legitimately fill the buffer past the limit. */
static void test_import_bounds_buffer_and_window(void **state)
{
    (void)state;
    const uint32_t lim = 1u << 30;
    assert_int_equal(import_with(lim - 1000, 1000, 0, 0), HO_OK);
    assert_int_equal(import_with(lim - 1000, 1001, 0, 0), HO_EPROTO);
    assert_int_equal(import_with(lim, 0, 0, 0), HO_OK);
    assert_int_equal(import_with(lim - 1000, 0, 500, 500), HO_OK);
    assert_int_equal(import_with(lim - 1000, 0, 500, 501), HO_EPROTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_closes_on_small_segments),
        cmocka_unit_test(test_data_past_the_advertised_edge),
        cmocka_unit_test(test_no_data_past_a_queued_fin),
        cmocka_unit_test(test_fin_before_queued_data_ignored),
        cmocka_unit_test(test_in_order_data_cut_at_a_queued_fin),
        cmocka_unit_test(test_in_order_fin_past_a_queued_fin),
        cmocka_unit_test(test_in_order_fin_before_queued_data_ignored),
        cmocka_unit_test(test_import_bounds_buffer_and_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
