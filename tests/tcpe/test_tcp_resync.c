/*
 * test_tcp_resync.c - tcpe_conn_resync: a connection handed to another stack (the NIC's), which
 * is then lost with it, brought back from the old export and what its exporter heard since.
 *
 * The server side has a host stack and a NIC stack (tt_world routes a segment to whichever holds
 * the connection). The connection moves to the NIC, carries data both ways there, and the NIC is
 * then lost: the connection is detached from it without a word, as a firmware crash would, while
 * its segments may still be in flight. The host imports the export it kept and resyncs it with
 * the counts a driver learns from the bypass protocol (ACKED, RECV). The peer must see one
 * unbroken byte stream, every octet exactly once and in order, whatever the NIC had sent; and
 * the host must receive what the peer sends afterwards as the next octets of its stream.
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
#include "helpers/tt_world.h"

#define CLI_IP   0x0a000001u
#define SRV_IP   0x0a000002u
#define SRV_PORT 80
#define DOWN     1 /* stream id: server to client */
#define UP       2 /* stream id: client to server */

struct rig {
    struct tt_world w;
    struct tcpe_stack *cli, *host, *nic;
    struct tcpe_conn *lsn, *c, *s; /* listener; client end; server end (wherever it lives) */
    bool virt;
    uint64_t down_sent, down_read; /* the server's stream: octets sent and read by the client */
    uint64_t up_sent, up_read;     /* the client's stream */
    uint8_t *blob;
    size_t blob_len;
};

static uint64_t clock_of(struct rig *r, struct tcpe_conn *c)
{
    return tt_world_clock(&r->w, tcpe_conn_stack(c));
}

static void rig_init(struct rig *r, bool virt, double loss)
{
    memset(r, 0, sizeof *r);
    r->virt = virt;
    struct tt_chan_params cp = {.seed = 7, .delay = 5 * TT_MS, .loss = loss};
    tt_world_init(&r->w, &cp);
    struct tcpe_params prm;
    tcpe_params_init(&prm);
    prm.virtual_payload = virt;
    prm.timestamps = true;
    r->cli = tt_world_add_stack(&r->w, 0, &prm, NULL, NULL);
    r->host = tt_world_add_stack(&r->w, 1, &prm, NULL, NULL);
    r->nic = tt_world_add_stack(&r->w, 1, &prm, NULL, NULL);
    tt_world_set_offset(&r->w, r->nic, 777 * TT_SEC);
    assert_int_equal(tcpe_listen(r->host, SRV_IP, SRV_PORT, 0, &r->lsn), HO_OK);
    struct tcpe_tuple t = {CLI_IP, SRV_IP, 40000, SRV_PORT};
    assert_int_equal(tcpe_connect(r->cli, &t, r->w.now, &r->c), HO_OK);
    tt_world_run(&r->w, r->w.now + 10 * TT_SEC, NULL, NULL);
    r->s = tcpe_accept(r->lsn);
    assert_non_null(r->s);
}

static void rig_fini(struct rig *r)
{
    free(r->blob);
    tt_world_fini(&r->w);
}

/* Queues n octets of stream id from *sent on c; returns how many the buffer took. */
static uint32_t put(struct rig *r, struct tcpe_conn *c, uint64_t id, uint64_t *sent, uint32_t n)
{
    uint8_t *b = malloc(n);
    assert_non_null(b);
    tt_pattern_fill(id, *sent, b, n);
    int got = tcpe_send(c, r->virt ? NULL : b, n, clock_of(r, c));
    free(b);
    assert_true(got >= 0);
    *sent += (uint64_t)got;
    return (uint32_t)got;
}

/* Reads everything readable on c and checks it is the next octets of stream id. */
static uint32_t take(struct rig *r, struct tcpe_conn *c, uint64_t id, uint64_t *read)
{
    uint8_t buf[4096], want[4096];
    uint32_t total = 0;
    int n;
    while ((n = tcpe_recv(c, r->virt ? NULL : buf, sizeof buf, clock_of(r, c))) > 0) {
        if (!r->virt) {
            tt_pattern_fill(id, *read, want, (size_t)n);
            assert_memory_equal(buf, want, (size_t)n);
        }
        *read += (uint64_t)n;
        total += (uint32_t)n;
    }
    return total;
}

/* Runs the world for t, the client reading the server's stream as it comes. */
static void run_reading(struct rig *r, uint64_t t)
{
    uint64_t end = r->w.now + t;
    while (tt_world_step(&r->w, end)) {
        take(r, r->c, DOWN, &r->down_read);
    }
    take(r, r->c, DOWN, &r->down_read);
}

/* The server end moves to the NIC; the host keeps the export. */
static void to_nic(struct rig *r)
{
    uint64_t now = clock_of(r, r->s);
    int n = tcpe_export(r->s, now, NULL, 0);
    assert_true(n > 0);
    r->blob = malloc((size_t)n);
    r->blob_len = (size_t)n;
    assert_int_equal(tcpe_export(r->s, now, r->blob, r->blob_len), n);
    tcpe_detach(r->s);
    assert_int_equal(tcpe_import(r->nic, r->blob, r->blob_len, tt_world_clock(&r->w, r->nic),
                                 &r->s),
                     HO_OK);
}

/* What the driver knows when the NIC is lost: the counts of its messages. */
struct heard {
    uint64_t unacked_at_export; /* send buffer octets in the export */
    uint64_t appended;          /* SEND octets since */
    uint64_t appended_from;     /* the stream offset of the first of them */
    uint64_t acked;             /* ACKED octets */
    uint64_t delivered;         /* RECV octets */
    bool fin;                   /* a RECV with FIN */
};

/* The NIC is lost with the connection; the host brings it back from the export. */
static void nic_lost(struct rig *r, const struct heard *h)
{
    tcpe_detach(r->s); /* no word to anyone, like a crash */
    uint64_t now = tt_world_clock(&r->w, r->host);
    struct tcpe_conn *back = NULL;
    assert_int_equal(tcpe_import(r->host, r->blob, r->blob_len, now, &back), HO_OK);
    /* The driver keeps the appended octets until they are acknowledged. */
    uint64_t gone = h->acked > h->unacked_at_export ? h->acked - h->unacked_at_export : 0;
    uint64_t kept = h->appended - gone;
    uint8_t *app = NULL;
    if (!r->virt && kept > 0) {
        app = malloc(kept);
        tt_pattern_fill(DOWN, h->appended_from + gone, app, kept);
    }
    struct tcpe_resync rs = {.acked = h->acked,
                             .appended = app,
                             .appended_len = kept,
                             .delivered = h->delivered,
                             .fin_received = h->fin};
    assert_int_equal(tcpe_conn_resync(back, &rs, now), HO_OK);
    free(app);
    r->s = back;
}

/* Data both ways on the NIC, the NIC lost mid-transfer with segments in flight, the transfer
 * finished by the host: the peer's stream is whole and exact, and the host reads the peer's next
 * octets where the NIC left off. acked_short: some ACKED messages were lost with the NIC. */
static void transfer_across_loss(bool virt, double loss, uint64_t acked_short)
{
    struct rig r;
    rig_init(&r, virt, loss);
    put(&r, r.s, DOWN, &r.down_sent, 3000);
    run_reading(&r, 2 * TT_SEC);
    assert_int_equal(r.down_read, 3000);
    to_nic(&r);

    struct heard h = {.appended_from = r.down_sent};
    struct tcpe_info in;
    tcpe_conn_info(r.s, &in);
    h.unacked_at_export = in.sndbuf_len;
    h.appended = put(&r, r.s, DOWN, &r.down_sent, 60000);
    put(&r, r.c, UP, &r.up_sent, 700);
    /* A few round trips: part of the stream crosses, part is still to send. */
    run_reading(&r, 12 * TT_MS);
    h.delivered = take(&r, r.s, UP, &r.up_read);
    tcpe_conn_info(r.s, &in);
    h.acked = h.unacked_at_export + h.appended - in.sndbuf_len;
    assert_true(h.acked > 0 && in.sndbuf_len > 0); /* lost mid-transfer */
    assert_true(h.acked >= acked_short);
    h.acked -= acked_short;
    nic_lost(&r, &h);

    /* The host finishes the transfer. */
    for (int i = 0; i < 200 && r.down_read < r.down_sent; i++) {
        run_reading(&r, 500 * TT_MS);
    }
    assert_int_equal(r.down_read, r.down_sent);
    /* The peer's stream goes on where the NIC had delivered it. */
    for (int i = 0; i < 200 && r.up_read < r.up_sent; i++) {
        run_reading(&r, 500 * TT_MS);
        take(&r, r.s, UP, &r.up_read);
    }
    assert_int_equal(r.up_read, r.up_sent);
    put(&r, r.c, UP, &r.up_sent, 500);
    for (int i = 0; i < 200 && r.up_read < r.up_sent; i++) {
        run_reading(&r, 500 * TT_MS);
        take(&r, r.s, UP, &r.up_read);
    }
    assert_int_equal(r.up_read, r.up_sent);
    /* And it closes cleanly both ways. */
    assert_int_equal(tcpe_shutdown(r.s, clock_of(&r, r.s)), HO_OK);
    assert_int_equal(tcpe_shutdown(r.c, clock_of(&r, r.c)), HO_OK);
    run_reading(&r, 30 * TT_SEC);
    for (int side = 0; side < 2; side++) {
        int st = tcpe_conn_state(side ? r.s : r.c);
        assert_true(st == TCPE_TIME_WAIT || st == TCPE_CLOSED);
    }
    rig_fini(&r);
}

static void test_resync_real(void **state)
{
    (void)state;
    transfer_across_loss(false, 0.0, 0);
}

static void test_resync_virtual(void **state)
{
    (void)state;
    transfer_across_loss(true, 0.0, 0);
}

/* Some ACKED messages never reached the driver: the host sends again what the peer had. */
static void test_resync_acks_lost(void **state)
{
    (void)state;
    transfer_across_loss(false, 0.0, 2000);
    transfer_across_loss(true, 0.0, 2000);
}

/* The same on a channel that loses segments. */
static void test_resync_lossy(void **state)
{
    (void)state;
    transfer_across_loss(false, 0.02, 0);
}

/* The peer's FIN reached the NIC and the application heard it: the connection comes back in
 * CLOSE_WAIT and closes from there. */
static void test_resync_peer_fin(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, false, 0.0);
    to_nic(&r);
    put(&r, r.c, UP, &r.up_sent, 900);
    assert_int_equal(tcpe_shutdown(r.c, clock_of(&r, r.c)), HO_OK);
    run_reading(&r, 2 * TT_SEC);
    struct heard h = {.delivered = take(&r, r.s, UP, &r.up_read)};
    assert_int_equal(h.delivered, 900);
    assert_true(tcpe_conn_eof(r.s));
    h.fin = true;
    nic_lost(&r, &h);
    assert_int_equal(tcpe_conn_state(r.s), TCPE_CLOSE_WAIT);
    assert_int_equal(tcpe_conn_readable(r.s), 0);
    put(&r, r.s, DOWN, &r.down_sent, 1200);
    assert_int_equal(tcpe_shutdown(r.s, clock_of(&r, r.s)), HO_OK);
    run_reading(&r, 10 * TT_SEC);
    assert_int_equal(r.down_read, 1200);
    assert_int_equal(tcpe_conn_state(r.s), TCPE_CLOSED);
    rig_fini(&r);
}

/* The application had closed the connection and the NIC had finished the close (the peer, which
 * closed first, is in TIME_WAIT) when the NIC was lost: the host's FIN goes again, the peer
 * acknowledges it, and the connection ends without a reset on either side. */
static void test_resync_closed(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, false, 0.0);
    put(&r, r.s, DOWN, &r.down_sent, 500);
    run_reading(&r, 2 * TT_SEC);
    to_nic(&r);
    assert_int_equal(tcpe_shutdown(r.c, clock_of(&r, r.c)), HO_OK);
    run_reading(&r, 2 * TT_SEC);
    struct heard h = {.delivered = take(&r, r.s, UP, &r.up_read), .fin = true};
    assert_true(tcpe_conn_eof(r.s));
    assert_int_equal(tcpe_shutdown(r.s, clock_of(&r, r.s)), HO_OK);
    run_reading(&r, 2 * TT_SEC);
    assert_int_equal(tcpe_conn_state(r.s), TCPE_CLOSED);
    assert_int_equal(tcpe_conn_state(r.c), TCPE_TIME_WAIT);
    h.unacked_at_export = 0;
    tcpe_detach(r.s); /* no word to anyone, like a crash */
    uint64_t now = tt_world_clock(&r.w, r.host);
    struct tcpe_conn *back = NULL;
    assert_int_equal(tcpe_import(r.host, r.blob, r.blob_len, now, &back), HO_OK);
    struct tcpe_resync rs = {.delivered = h.delivered, .fin_received = true, .shutdown = true};
    assert_int_equal(tcpe_conn_resync(back, &rs, now), HO_OK);
    assert_int_equal(tcpe_conn_state(back), TCPE_LAST_ACK);
    r.s = back;
    uint64_t rst_host = tcpe_stack_stats(r.host)->rsts_out;
    uint64_t rst_cli = tcpe_stack_stats(r.cli)->rsts_out;
    run_reading(&r, 5 * TT_SEC);
    assert_int_equal(tcpe_conn_state(back), TCPE_CLOSED);
    assert_true(tcpe_stack_stats(r.host)->rsts_out == rst_host);
    assert_true(tcpe_stack_stats(r.cli)->rsts_out == rst_cli);
    rig_fini(&r);
}

/* Counts that cannot be true are refused, and change nothing. */
static void test_resync_refused(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, false, 0.0);
    to_nic(&r);
    tcpe_detach(r.s);
    uint64_t now = tt_world_clock(&r.w, r.host);
    struct tcpe_conn *back = NULL;
    assert_int_equal(tcpe_import(r.host, r.blob, r.blob_len, now, &back), HO_OK);
    struct tcpe_info before, after;
    memset(&before, 0, sizeof before);
    memset(&after, 0, sizeof after);
    tcpe_conn_info(back, &before);
    static uint8_t big[1 << 20];
    struct tcpe_resync bad[] = {
        {.appended = big, .appended_len = sizeof big}, /* more than the send buffer holds */
        {.appended = NULL, .appended_len = 10},        /* virtual octets on a real buffer */
        {.delivered = 1ull << 31},                     /* beyond any buffer */
        {.acked = 1ull << 31},                         /* likewise */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(tcpe_conn_resync(back, &bad[i], now), HO_EINVAL);
        tcpe_conn_info(back, &after);
        assert_memory_equal(&before, &after, sizeof before);
    }
    struct tcpe_resync fin = {.fin_received = true};
    assert_int_equal(tcpe_conn_resync(back, &fin, now), HO_OK);
    assert_int_equal(tcpe_conn_resync(back, &fin, now), HO_EINVAL); /* a second FIN */
    assert_int_equal(tcpe_shutdown(back, now), HO_OK);
    struct tcpe_resync none = {0};
    assert_int_equal(tcpe_conn_resync(back, &none, now), HO_ESTATE); /* after a shutdown */
    rig_fini(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resync_real),     cmocka_unit_test(test_resync_virtual),
        cmocka_unit_test(test_resync_acks_lost), cmocka_unit_test(test_resync_lossy),
        cmocka_unit_test(test_resync_peer_fin), cmocka_unit_test(test_resync_closed),
        cmocka_unit_test(test_resync_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
