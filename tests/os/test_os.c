/*
 * test_os.c - the host OS side (include/handoff/os.h): host TCP, socket layer, device driver with
 * handoff and the bypass protocol, against a fake platform.
 *
 * The fake platform is tests/helpers/tt_host.h: it records every op, runs the OS's work by hand
 * (network first), and has a tcpe client at the other end of a wire. The "NIC" is the test
 * itself: it reads the commands (decoded with ho_cmd_decode) and answers with messages encoded
 * by ho_cmd_encode, numbered from 0. The application is the platform's recorder of events and
 * done calls. The private header is used once, to show that ho_os_check does catch an
 * inconsistency.
 *
 * Covered: the cost, category, priority and memory of every kind of work; the socket layer on
 * the host; handoff under FCFS (the HANDOFF command, held packets, accepted and refused
 * replies); the bypass protocol (SEND bounded by the send buffer, ACKED, RECV, CLOSE, CLOSED);
 * threshold selection Tn; restoring a connection from the NIC (ho_os_restore and its
 * RESTORE_REQUEST, the socket on its way back taking RECV, ACKED and CLOSED, the RESTORE putting
 * the connection back in the host's TCP, a close that waits for it), where the test's NIC is a
 * tcpe stack of its own that imports the HANDOFF's state and talks to the client; messages the
 * driver must refuse; ho_os_check and ho_os_destroy.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "handoff/cmd.h"
#include "handoff/err.h"
#include "handoff/os.h"
#include "handoff/pkt.h"
#include "handoff/select.h"
#include "handoff/tcpe.h"
#include "helpers/tt_host.h"
/* Only for the negative case of ho_os_check, which no public call can bring about. */
#include "os_priv.h"

#define SERVER_IP   TT_HOST_SERVER_IP
#define CLIENT_IP   TT_HOST_CLIENT_IP
#define SERVER_PORT TT_HOST_SERVER_PORT
#define WORK_NS     TT_HOST_WORK_NS
#define MAX_CLIENTS TT_HOST_MAX_CLIENTS
#define MS          1000000ull

/* Distinct costs, so that a work's cycles say what it is. */
static const struct ho_os_costs costs = {
    .rx_pkt = 1101,
    .tx_pkt = 1202,
    .timer = 1303,
    .msg_out = 1404,
    .msg_in = 1505,
    .handoff = 20000,
    .sys_event = 1,
    .sys_accept = 10,
    .sys_read = 100,
    .sys_write = 1000,
    .sys_sendfile = 10000,
    .sys_close = 100000,
    .copy_per_kb = 700,
    .conn_state_bytes = 1000, /* not a multiple of the line: the slots are 1024 apart */
    .pkt_hdr_bytes = 128,
};

#define SLOT_STRIDE 1024u
#define SNDBUF      32768u
#define RCVBUF      TT_HOST_RCVBUF
#define DELACK_NS   TT_HOST_DELACK_NS

/* ---- the fake platform ------------------------------------------------------------------ */

/* The platform of the test running, cleaned up by the teardown if the test fails. */
static struct tt_host *current;
/* The NIC's TCP a restore test plays (struct tnic), freed by the teardown likewise. */
static void current_nic_free(void);

static int no_output(void *ctx, const struct tcpe_seg *seg)
{
    (void)ctx;
    (void)seg;
    fail_msg("an imported connection sent a segment");
    return HO_OK;
}

static struct ho_os_params os_params(uint32_t nic_conns, struct ho_sel_policy sel)
{
    return tt_host_os_params(nic_conns, sel, &costs, SNDBUF);
}

static const struct ho_sel_policy never = {.kind = HO_SEL_NEVER};
static const struct ho_sel_policy fcfs = {.kind = HO_SEL_FCFS};

/* Tests use this one platform, which outlives them, so that the teardown can free it after a
 * failure. */
static struct tt_host *plat_new(const struct ho_os_params *op)
{
    static struct tt_host storage;
    assert_null(current);
    tt_host_init(&storage, op);
    tt_host_record_app(&storage);
    current = &storage;
    return &storage;
}

static void plat_fini(struct tt_host *pl)
{
    current = NULL;
    assert_true(tt_host_free(pl));
}

static int teardown(void **state)
{
    (void)state;
    current_nic_free();
    if (current) {
        tt_host_free(current);
        current = NULL;
    }
    return 0;
}

static bool has_event(const struct tt_host *pl, uint32_t sock, unsigned ev)
{
    for (size_t i = 0; i < pl->nevs; i++) {
        if (pl->evs[i].sock == sock && (pl->evs[i].events & ev)) {
            return true;
        }
    }
    return false;
}

/* Sends a message from the "NIC", numbered in order. */
static int nic_msg(struct tt_host *pl, struct ho_cmd *c)
{
    c->seq = pl->nic_seq++;
    int size = ho_cmd_size(c); /* a RESTORE carries a state blob */
    assert_true(size > 0);
    uint8_t *buf = malloc((size_t)size);
    assert_non_null(buf);
    int n = ho_cmd_encode(c, buf, (size_t)size);
    assert_int_equal(n, size);
    int rc = ho_os_msg(pl->os, buf, (uint32_t)n, pl->now);
    free(buf);
    return rc;
}

static void cmd_at(const struct tt_host *pl, size_t i, struct ho_cmd *out)
{
    assert_true(i < pl->ncmds);
    assert_int_equal(ho_cmd_decode(pl->cmds[i].bytes, pl->cmds[i].len, out), HO_OK);
}

static void assert_work(const struct tt_host_work *r, unsigned prio, unsigned cat, uint64_t cycles,
                        bool touches, bool notify)
{
    assert_int_equal(r->w.prio, prio);
    assert_int_equal(r->w.cat, cat);
    assert_true(r->w.cycles == cycles);
    assert_int_equal(r->w.touches, touches);
    assert_int_equal(r->w.notify, notify);
}

static void assert_consistent(const struct tt_host *pl)
{
    char why[128] = "";
    assert_int_equal(ho_os_check(pl->os, why, sizeof why), 0);
}

/* Listens, connects one client, accepts it. Returns the socket. */
static uint32_t open_conn(struct tt_host *pl, uint16_t port, int *client)
{
    assert_int_equal(ho_so_listen(pl->os, 0, SERVER_PORT, 16), 0);
    *client = tt_host_connect(pl, port);
    assert_true(has_event(pl, 0, HO_SO_ACCEPT));
    int sock = ho_so_accept(pl->os, pl->now);
    assert_true(sock > 0);
    return (uint32_t)sock;
}

/* ---- 0. parameters ---------------------------------------------------------------------- */

static void test_create_checks_params(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        uint32_t conns, line_bytes, mss, nic_conns;
        struct ho_sel_policy sel;
        int rc;
    } rows[] = {
        {"valid, no handoff", 64, 64, 1460, 0, {HO_SEL_NEVER, 0}, HO_OK},
        {"valid, FCFS", 64, 64, 1460, 8, {HO_SEL_FCFS, 0}, HO_OK},
        {"no connections", 0, 64, 1460, 0, {HO_SEL_NEVER, 0}, HO_EINVAL},
        {"no cache line", 64, 0, 1460, 0, {HO_SEL_NEVER, 0}, HO_EINVAL},
        {"MSS out of the TCP's range", 64, 64, 0, 0, {HO_SEL_NEVER, 0}, HO_EINVAL},
        {"T0 with handoff", 64, 64, 1460, 8, {HO_SEL_THRESH, 0}, HO_EINVAL},
        {"T0 without handoff: never used", 64, 64, 1460, 0, {HO_SEL_THRESH, 0}, HO_OK},
        {"unknown policy", 64, 64, 1460, 8, {(enum ho_sel_kind)7, 0}, HO_EINVAL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct ho_os_params p = os_params(rows[i].nic_conns, rows[i].sel);
        p.conns = rows[i].conns;
        p.line_bytes = rows[i].line_bytes;
        p.mss = rows[i].mss;
        struct ho_os *os = NULL;
        int rc = ho_os_create(&p, &tt_host_ops, NULL, &os);
        if (rc != rows[i].rc) {
            fail_msg("%s: got %d, want %d", rows[i].what, rc, rows[i].rc);
        }
        assert_true((os != NULL) == (rc == HO_OK));
        ho_os_destroy(os);
    }
    struct ho_os_params p = os_params(0, never);
    struct ho_os *os = NULL;
    assert_int_equal(ho_os_create(NULL, &tt_host_ops, NULL, &os), HO_EINVAL);
    assert_int_equal(ho_os_create(&p, NULL, NULL, &os), HO_EINVAL);
    assert_int_equal(ho_os_create(&p, &tt_host_ops, NULL, NULL), HO_EINVAL);
    ho_os_destroy(NULL);
}

/* ---- 1. costs, categories and memory ---------------------------------------------------- */

/* What a packet's processing should touch: its header buffer and one connection's state. */
static void assert_pkt_mem(const struct tt_host *pl, const struct ho_pkt *p, uint64_t state_addr)
{
    assert_int_equal(pl->nmem, 2);
    struct ho_os_mem buf = ho_os_rx_buf(pl->os, p);
    assert_true(pl->mem[0].addr == buf.addr);
    assert_int_equal(pl->mem[0].len, costs.pkt_hdr_bytes);
    assert_true(pl->mem[1].addr == state_addr);
    assert_int_equal(pl->mem[1].len, costs.conn_state_bytes);
}

enum pkt_act {
    ACT_CONNECT,      /* the client connects */
    ACT_NONE,         /* the packet is already queued */
    ACT_DELIVER,      /* the wire gives the client what the server sent */
    ACT_ACCEPT_SEND,  /* the server accepts; the client sends 100 bytes */
    ACT_SERVER_SEND,  /* the server sends 500 bytes */
    ACT_CLIENT_CLOSE, /* the client shuts down */
};

/*
 * One connection's packets, in order: each is one work of (NET, NET, rx_pkt or tx_pkt) that
 * touches the packet's header buffer and the state of the listener (slot 0) until the
 * connection is accepted, then of the connection's socket.
 */
static void test_packet_work(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        enum pkt_act act;
        bool rx;
        uint8_t flags; /* SYN, ACK and FIN bits expected */
        uint32_t slot;
        uint32_t len;
    } rows[] = {
        {"client SYN", ACT_CONNECT, true, TCPE_SYN, 0, 0},
        {"SYN-ACK", ACT_NONE, false, TCPE_SYN | TCPE_ACK, 0, 0},
        {"handshake ACK, not yet accepted", ACT_DELIVER, true, TCPE_ACK, 0, 0},
        {"client data, accepted", ACT_ACCEPT_SEND, true, TCPE_ACK, 1, 100},
        {"server data", ACT_SERVER_SEND, false, TCPE_ACK, 1, 500},
        {"client FIN", ACT_CLIENT_CLOSE, true, TCPE_ACK | TCPE_FIN, 1, 0},
    };
    struct ho_os_params op = os_params(0, never);
    struct tt_host *pl = plat_new(&op);
    assert_int_equal(ho_so_listen(pl->os, 0, SERVER_PORT, 16), 0);
    uint64_t listen_state = 0;
    uint64_t ran = 0;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct tcpe_tuple t = {CLIENT_IP, SERVER_IP, 2001, SERVER_PORT};
        switch (rows[i].act) {
        case ACT_CONNECT:
            pl->ncc = 1;
            assert_int_equal(tcpe_connect(pl->client, &t, pl->now, &pl->cc[0]), HO_OK);
            break;
        case ACT_NONE:
            break;
        case ACT_DELIVER:
            assert_int_equal(pl->nwire, 1);
            tt_host_deliver_one(pl);
            break;
        case ACT_ACCEPT_SEND:
            assert_true(has_event(pl, 0, HO_SO_ACCEPT));
            assert_int_equal(ho_so_accept(pl->os, pl->now), 1);
            tt_host_client_send(pl, 0, 100);
            break;
        case ACT_SERVER_SEND:
            assert_true(ho_so_send(pl->os, 1, 500, 0, 500, pl->now) == 500);
            break;
        case ACT_CLIENT_CLOSE:
            tt_host_deliver_one(pl);
            assert_int_equal(tcpe_shutdown(pl->cc[0], pl->now), HO_OK);
            break;
        }
        if (pl->nq != 1) {
            fail_msg("%s: %zu works queued, want 1", rows[i].what, pl->nq);
        }
        assert_true(pl->q[0].queued_at == pl->now);
        assert_work(&pl->q[0], HO_OS_PRIO_NET, HO_OS_CAT_NET,
                    rows[i].rx ? costs.rx_pkt : costs.tx_pkt, true, true);
        struct ho_pkt *p = NULL;
        if (rows[i].rx) {
            p = pl->live[pl->last_rx_id];
            assert_true((p->seg.flags & (TCPE_SYN | TCPE_ACK | TCPE_FIN)) == rows[i].flags);
            assert_int_equal(p->seg.len, rows[i].len);
            /* A received packet is the OS's from ho_os_rx on: keep a copy for its buffer. */
            struct ho_pkt copy = *p;
            tt_host_run_at(pl, 0);
            p = &copy;
            if (i == 0) {
                listen_state = pl->mem[1].addr;
            }
            assert_pkt_mem(pl, p, listen_state + rows[i].slot * SLOT_STRIDE);
        } else {
            size_t w = pl->nwire;
            tt_host_run_at(pl, 0);
            assert_int_equal(pl->nwire, w + 1); /* it goes to the NIC once its work has run */
            p = pl->wire[w];
            assert_true((p->seg.flags & (TCPE_SYN | TCPE_ACK | TCPE_FIN)) == rows[i].flags);
            assert_int_equal(p->seg.len, rows[i].len);
            assert_true(p->seg.src_ip == SERVER_IP && p->seg.src_port == SERVER_PORT);
            assert_pkt_mem(pl, p, listen_state + rows[i].slot * SLOT_STRIDE);
        }
        ran++;
        struct ho_os_info info;
        ho_os_info(pl->os, &info);
        assert_true(info.pkts == ran);
        size_t working = 0; /* packets whose work is still queued */
        for (size_t k = 0; k < pl->nq; k++) {
            working += pl->q[k].w.touches;
        }
        assert_true(info.pkts_working == working);
    }
    assert_true(listen_state != 0);
    tt_host_settle(pl);
    plat_fini(pl);
}

/*
 * The TCP's timers reach the platform through ops.timer: the SYN-ACK's retransmission timer,
 * cancelled by the handshake's ACK, then the delayed ACK of a data segment, whose expiry costs
 * one timer's work and sends the ACK as a packet.
 */
static void test_timers(void **state)
{
    (void)state;
    struct ho_os_params op = os_params(0, never);
    struct tt_host *pl = plat_new(&op);
    assert_int_equal(ho_so_listen(pl->os, 0, SERVER_PORT, 16), 0);
    struct tcpe_tuple t = {CLIENT_IP, SERVER_IP, 2002, SERVER_PORT};
    pl->ncc = 1;
    assert_int_equal(tcpe_connect(pl->client, &t, pl->now, &pl->cc[0]), HO_OK);
    tt_host_run_at(pl, 0); /* the SYN: the SYN-ACK is sent, its retransmission timer set */
    uint64_t t_syn = pl->now;
    assert_int_equal(pl->ntimers, 1);
    assert_true(pl->timers[0].when == t_syn + 1000 * MS); /* the TCP's initial RTO, 1 s */
    assert_true(pl->timers[0].now == t_syn);
    tt_host_settle(pl); /* the handshake completes: no timer left */
    assert_int_equal(pl->ntimers, 2);
    assert_true(pl->timers[1].when == TCPE_NEVER);
    assert_int_equal(ho_so_accept(pl->os, pl->now), 1);
    tt_host_client_send(pl, 0, 100);
    assert_int_equal(pl->nq, 1);
    tt_host_run_at(pl, 0);
    uint64_t t_data = pl->now;
    assert_int_equal(pl->ntimers, 3);
    assert_true(pl->timers[2].when == t_data + DELACK_NS);
    assert_int_equal(pl->nq, 0); /* the ACK waits */
    /* The timer fires: one expiry's work, and the ACK's. */
    pl->now = pl->timer_when;
    pl->timer_when = TCPE_NEVER;
    ho_os_timer(pl->os, pl->now);
    assert_int_equal(pl->nq, 2);
    size_t timer_work = pl->q[0].w.cycles == costs.timer ? 0 : 1;
    assert_work(&pl->q[timer_work], HO_OS_PRIO_NET, HO_OS_CAT_NET, costs.timer, false, false);
    assert_work(&pl->q[1 - timer_work], HO_OS_PRIO_NET, HO_OS_CAT_NET, costs.tx_pkt, true, true);
    assert_int_equal(pl->ntimers, 3); /* nothing else to wake for */
    tt_host_settle(pl);
    assert_int_equal(pl->nwire, 0);
    struct ho_os_info info;
    ho_os_info(pl->os, &info);
    assert_true(info.tcp->delayed_acks == 1);
    /* Two connections' delayed ACKs expire together: one work costs both expiries. */
    tt_host_connect(pl, 2003);
    assert_int_equal(ho_so_accept(pl->os, pl->now), 2);
    tt_host_client_send(pl, 0, 100);
    tt_host_client_send(pl, 1, 100);
    tt_host_settle(pl);
    uint64_t first = pl->timer_when;
    assert_true(first != TCPE_NEVER);
    uint64_t last = pl->now + DELACK_NS; /* both are due by then */
    pl->now = last;
    pl->timer_when = TCPE_NEVER;
    ho_os_timer(pl->os, pl->now);
    size_t timers = 0, acks = 0;
    for (size_t i = 0; i < pl->nq; i++) {
        if (!pl->q[i].w.touches) {
            timers++;
            assert_work(&pl->q[i], HO_OS_PRIO_NET, HO_OS_CAT_NET, 2 * costs.timer, false, false);
        } else {
            acks++;
        }
    }
    assert_true(timers == 1 && acks == 2);
    tt_host_settle(pl);
    ho_os_info(pl->os, &info);
    assert_true(info.tcp->delayed_acks == 3);
    plat_fini(pl);
}

static void test_syscall_and_user_work(void **state)
{
    (void)state;
    struct ho_os_params op = os_params(0, never);
    struct tt_host *pl = plat_new(&op);
    static const struct {
        unsigned calls;
        uint64_t copy;
        uint64_t cycles;
    } rows[] = {
        {0, 0, 0},
        {HO_SYS_EVENT, 0, 1},
        {HO_SYS_ACCEPT, 0, 10},
        {HO_SYS_EVENT | HO_SYS_ACCEPT, 0, 11},
        {HO_SYS_EVENT | HO_SYS_READ, 0, 101},
        {HO_SYS_WRITE, 250, 1000 + 250 * 700 / 1024},
        {HO_SYS_WRITE | HO_SYS_SENDFILE, 250, 11000 + 170},
        {HO_SYS_EVENT | HO_SYS_SENDFILE, 0, 10001},
        {HO_SYS_CLOSE, 0, 100000},
        {HO_SYS_WRITE, 1024, 1000 + 700},
        {HO_SYS_WRITE, 3000, 1000 + 2050}, /* 3000 * 700 / 1024 = 2050.78: rounded down */
        {0x3f, 1u << 20, 111111 + 700 * 1024},
    };
    size_t n = sizeof rows / sizeof rows[0];
    for (size_t i = 0; i < n; i++) {
        ho_os_syscall(pl->os, rows[i].calls, rows[i].copy, 1000 + i, pl->now);
        assert_int_equal(pl->nq, 1);
        struct tt_host_work r = pl->q[0];
        if (r.w.cycles != rows[i].cycles) {
            fail_msg("row %zu: %llu cycles, want %llu", i, (unsigned long long)r.w.cycles,
                     (unsigned long long)rows[i].cycles);
        }
        assert_work(&r, HO_OS_PRIO_PROC, HO_OS_CAT_SYS, rows[i].cycles, false, true);
        assert_true(r.queued_at == pl->now); /* queued with the caller's time */
        size_t before = pl->ndones;
        tt_host_run_at(pl, 0);
        assert_int_equal(pl->ndones, before + 1);
        assert_true(pl->dones[before] == 1000 + i);
    }
    /* The application's own work, and the largest argument, which comes back unchanged. */
    static const uint64_t user_args[] = {0, 1, 12345, HO_OS_APP_ARG_MAX};
    for (size_t i = 0; i < sizeof user_args / sizeof user_args[0]; i++) {
        ho_os_user(pl->os, 5555 + i, user_args[i], pl->now);
        assert_int_equal(pl->nq, 1);
        assert_work(&pl->q[0], HO_OS_PRIO_PROC, HO_OS_CAT_USER, 5555 + i, false, true);
        tt_host_run_at(pl, 0);
        assert_true(pl->dones[pl->ndones - 1] == user_args[i]);
    }
    ho_os_syscall(pl->os, HO_SYS_READ, 0, HO_OS_APP_ARG_MAX, pl->now);
    tt_host_run_at(pl, 0);
    assert_true(pl->dones[pl->ndones - 1] == HO_OS_APP_ARG_MAX);
    assert_int_equal(pl->nmem, 0); /* system calls touch no packet memory */
    plat_fini(pl);
}

/* ---- 2. the socket layer on the host ---------------------------------------------------- */

static void test_socket_layer_on_host(void **state)
{
    (void)state;
    static const struct {
        uint32_t in;  /* bytes the client sends */
        uint32_t out; /* bytes the server sends back */
    } rows[] = {{1, 1}, {100, 0}, {1460, 3000}, {20000, SNDBUF}};
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        struct ho_os_params op = os_params(0, never);
        struct tt_host *pl = plat_new(&op);
        int c;
        uint32_t sock = open_conn(pl, (uint16_t)(3000 + r), &c);
        assert_int_equal(sock, 1);
        assert_int_equal(pl->nestablished, 1);
        assert_int_equal(pl->last_established, sock);
        assert_int_equal(ho_so_accept(pl->os, pl->now), HO_EAGAIN);
        assert_int_equal(ho_so_listen(pl->os, 0, SERVER_PORT, 16), HO_EEXIST);
        const struct tcpe_tuple *t = ho_so_tuple(pl->os, sock);
        assert_true(t->local_ip == SERVER_IP && t->remote_ip == CLIENT_IP);
        assert_true(t->local_port == SERVER_PORT && t->remote_port == 3000 + r);

        tt_host_client_send(pl, c, rows[r].in);
        tt_host_advance(pl, pl->now + 2000 * MS);
        assert_true(has_event(pl, sock, HO_SO_READABLE));
        assert_int_equal(ho_so_readable(pl->os, sock), rows[r].in);
        assert_false(ho_so_eof(pl->os, sock));
        bool eof = true;
        assert_int_equal(ho_so_read(pl->os, sock, pl->now, &eof), (int)rows[r].in);
        assert_false(eof);
        assert_int_equal(ho_so_readable(pl->os, sock), 0);
        assert_int_equal(ho_so_read(pl->os, sock, pl->now, &eof), 0);

        uint64_t tx_before = pl->ntx;
        assert_true(ho_so_send(pl->os, sock, rows[r].out, 0, rows[r].out, pl->now) ==
                    (int64_t)rows[r].out);
        tt_host_advance(pl, pl->now + 4000 * MS);
        assert_true(pl->crecv[c] == rows[r].out);
        assert_int_equal(pl->ntx > tx_before, rows[r].out > 0);
        if (rows[r].out > 0) {
            assert_true(has_event(pl, sock, HO_SO_WRITABLE));
        }

        /* The client closes: end of file, then our close releases the socket at once. */
        assert_int_equal(tcpe_shutdown(pl->cc[c], pl->now), HO_OK);
        size_t nevs = pl->nevs;
        tt_host_settle(pl);
        assert_true(pl->nevs > nevs && (pl->evs[pl->nevs - 1].events & HO_SO_READABLE));
        assert_true(ho_so_eof(pl->os, sock));
        assert_int_equal(ho_so_read(pl->os, sock, pl->now, &eof), 0);
        assert_true(eof);
        assert_false(has_event(pl, sock, HO_SO_RELEASED));
        ho_so_close(pl->os, sock, pl->now);
        assert_true(pl->evs[pl->nevs - 1].sock == sock &&
                    pl->evs[pl->nevs - 1].events == HO_SO_RELEASED);
        tt_host_advance(pl, pl->now + 4000 * MS);
        assert_true(pl->ceof[c]);
        struct ho_os_info info;
        ho_os_info(pl->os, &info);
        assert_true(info.tcp->bytes_in == rows[r].in);
        assert_true(info.tcp->bytes_acked == rows[r].out);
        assert_true(info.pkts_working == 0 && info.on_nic == 0 && info.offered == 0);
        assert_int_equal(pl->faults, 0);
        assert_int_equal(pl->ncmds, 0);
        assert_int_equal(pl->nfwd, 0);
        /* The number comes back for the next connection. */
        tt_host_connect(pl, (uint16_t)(4000 + r));
        assert_int_equal(ho_so_accept(pl->os, pl->now), (int)sock);
        assert_consistent(pl);
        plat_fini(pl);
    }
}

/* A peer's reset frees the socket: the platform hears of it, the application sees RELEASED. */
static void test_reset_releases_socket(void **state)
{
    (void)state;
    struct ho_os_params op = os_params(0, never);
    struct tt_host *pl = plat_new(&op);
    int c;
    uint32_t sock = open_conn(pl, 3100, &c);
    tcpe_abort(pl->cc[c], pl->now);
    tt_host_settle(pl);
    assert_int_equal(pl->faults, 1);
    assert_string_equal(pl->last_fault, "server connection reset");
    assert_true(pl->evs[pl->nevs - 1].sock == sock &&
                pl->evs[pl->nevs - 1].events == HO_SO_RELEASED);
    tcpe_release(pl->cc[c], pl->now);
    pl->cc[c] = NULL;
    assert_consistent(pl);
    plat_fini(pl);
}

/* ---- 3. handoff under FCFS -------------------------------------------------------------- */

static void test_handoff_fcfs(void **state)
{
    (void)state;
    static const struct {
        uint8_t status;
        bool hold; /* the client sends while the connection is on its way */
    } rows[] = {
        {HO_CMD_ACCEPTED, true},           {HO_CMD_ACCEPTED, false},
        {HO_CMD_REFUSED_SOFT_LIMIT, true}, {HO_CMD_REFUSED_HARD_LIMIT, true},
        {HO_CMD_REFUSED_NOMEM, true},      {HO_CMD_REFUSED_BAD_STATE, true},
        {HO_CMD_REFUSED_BAD_STATE, false},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        bool accepted = rows[r].status == HO_CMD_ACCEPTED;
        struct ho_os_params op = os_params(4, fcfs);
        struct tt_host *pl = plat_new(&op);
        assert_int_equal(ho_so_listen(pl->os, 0, SERVER_PORT, 16), 0);
        uint16_t port = (uint16_t)(5000 + r);
        int c = tt_host_connect(pl, port);
        tt_host_client_send(pl, c, 100); /* before accept: it travels with the state */
        tt_host_settle(pl);
        uint64_t ntx = pl->ntx;

        int sock = ho_so_accept(pl->os, pl->now);
        assert_int_equal(sock, 1);
        assert_int_equal(pl->nq, 1);
        assert_work(&pl->q[0], HO_OS_PRIO_NET, HO_OS_CAT_NET, costs.msg_out + costs.handoff, false,
                    true);
        struct ho_os_info info;
        ho_os_info(pl->os, &info);
        assert_true(info.offered == 1 && info.on_nic == 0 && info.sel_on_nic == 1);
        assert_int_equal(ho_so_readable(pl->os, 1), 0); /* on its way: nothing to read */
        assert_false(ho_so_eof(pl->os, 1));
        assert_consistent(pl);
        assert_int_equal(pl->ncmds, 0); /* posted when its work has run */
        tt_host_run_at(pl, 0);
        assert_int_equal(pl->ncmds, 1);
        struct ho_cmd cmd;
        cmd_at(pl, 0, &cmd);
        assert_int_equal(cmd.type, HO_CMD_HANDOFF);
        assert_int_equal(cmd.seq, 0);
        assert_int_equal(cmd.handoff.conn_id, 1);
        assert_true(cmd.handoff.tuple.local_ip == SERVER_IP);
        assert_true(cmd.handoff.tuple.remote_ip == CLIENT_IP);
        assert_int_equal(cmd.handoff.tuple.local_port, SERVER_PORT);
        assert_int_equal(cmd.handoff.tuple.remote_port, port);
        assert_memory_equal(&cmd.handoff.tuple, ho_so_tuple(pl->os, 1), sizeof cmd.handoff.tuple);
        assert_int_equal(cmd.handoff.sockbuf.rcv_space, RCVBUF);
        assert_int_equal(cmd.handoff.sockbuf.snd_unacked, 0);
        /* The state imports into another stack: the connection with what it received. */
        struct tcpe_params tp;
        tcpe_params_init(&tp);
        tp.ops.output = no_output; /* never called: the import sends nothing */
        tp.ctx = pl;
        struct tcpe_stack *nic;
        assert_int_equal(tcpe_stack_create(&tp, &nic), HO_OK);
        struct tcpe_conn *nc = NULL;
        assert_int_equal(
            tcpe_import(nic, cmd.handoff.state.data, cmd.handoff.state.len, pl->now, &nc), HO_OK);
        assert_int_equal(tcpe_conn_state(nc), TCPE_ESTABLISHED);
        assert_memory_equal(tcpe_conn_tuple(nc), &cmd.handoff.tuple, sizeof cmd.handoff.tuple);
        assert_int_equal(tcpe_conn_readable(nc), 100);
        tcpe_stack_destroy(nic);

        /* Packets that arrive before the reply are held. */
        uint32_t held = rows[r].hold ? 1500 : 0;
        if (rows[r].hold) {
            tt_host_client_send(pl, c, 1000);
            tt_host_client_send(pl, c, 500);
        }
        tt_host_settle(pl);
        ho_os_info(pl->os, &info);
        assert_true(info.pkts_held == (rows[r].hold ? 2 : 0));
        assert_int_equal(pl->nfwd, 0);
        assert_true(info.tcp->bytes_in == 100);

        struct ho_cmd reply = {.type = HO_CMD_HANDOFF_REPLY};
        reply.handoff_reply.conn_id = 1;
        reply.handoff_reply.req_seq = cmd.seq;
        reply.handoff_reply.status = rows[r].status;
        reply.handoff_reply.soft_limit = 4;
        assert_int_equal(nic_msg(pl, &reply), HO_OK);
        assert_int_equal(pl->nq, 1);
        assert_work(&pl->q[0], HO_OS_PRIO_NET, HO_OS_CAT_NET, costs.msg_in, false, true);
        assert_true(pl->nevs == 1); /* only the listener's ACCEPT so far */
        tt_host_run_at(pl, 0);
        ho_os_info(pl->os, &info);
        assert_true(info.pkts_held == 0 && info.offered == 0);
        assert_true(has_event(pl, 1, HO_SO_RESUMED));
        if (accepted) {
            assert_int_equal(pl->nfwd, rows[r].hold ? 2 : 0);
            if (rows[r].hold) {
                assert_int_equal(pl->fwd[0]->seg.len, 1000);
                assert_int_equal(pl->fwd[1]->seg.len, 500);
            }
            assert_true(info.on_nic == 1 && info.sel_on_nic == 1 && info.accepted == 1);
            assert_int_equal(pl->nhanded_off, 1);
            assert_int_equal(pl->last_handed_off, 1);
            assert_int_equal(ho_so_readable(pl->os, 1), 0); /* until the NIC's RECV */
            /* A packet the NIC had classified for the host: straight on to the NIC. */
            size_t nfwd = pl->nfwd;
            tt_host_client_send(pl, c, 300);
            tt_host_settle(pl);
            assert_int_equal(pl->nfwd, nfwd + 1);
            assert_int_equal(pl->fwd[nfwd]->seg.len, 300);
            ho_os_info(pl->os, &info);
            assert_true(info.pkts_held == 0 && info.tcp->bytes_in == 100);
            assert_true(pl->ntx == ntx); /* the host's TCP sent nothing for it since */
        } else {
            assert_int_equal(pl->nfwd, 0);
            assert_true(info.on_nic == 0 && info.sel_on_nic == 0 && info.accepted == 0);
            assert_int_equal(pl->nhanded_off, 0);
            /* Told even when what it received came back only inside the state. */
            assert_true(has_event(pl, 1, HO_SO_READABLE));
            assert_int_equal(ho_so_readable(pl->os, 1), 100 + held);
            bool eof = true;
            assert_int_equal(ho_so_read(pl->os, 1, pl->now, &eof), (int)(100 + held));
            assert_false(eof);
            tt_host_client_send(pl, c, 300);
            tt_host_settle(pl);
            assert_int_equal(ho_so_read(pl->os, 1, pl->now, &eof), 300);
            assert_true(ho_so_send(pl->os, 1, 2000, 0, 2000, pl->now) == 2000);
            tt_host_advance(pl, pl->now + 3000 * MS);
            assert_true(pl->crecv[c] == 2000);
            ho_os_info(pl->os, &info);
            assert_true(info.tcp->bytes_in == 100 + held + 300);
            assert_int_equal(pl->ncmds, 1); /* no command for a connection on the host */
        }
        assert_int_equal(pl->faults, 0);
        assert_consistent(pl);
        plat_fini(pl);
    }
}

/* A close while the connection is on its way waits for the reply: then CLOSE goes to the NIC,
 * or the connection, back on the host, is closed there and the socket released. */
static void test_close_while_offered(void **state)
{
    (void)state;
    static const uint8_t statuses[] = {HO_CMD_ACCEPTED, HO_CMD_REFUSED_HARD_LIMIT};
    for (size_t r = 0; r < sizeof statuses / sizeof statuses[0]; r++) {
        bool accepted = statuses[r] == HO_CMD_ACCEPTED;
        struct ho_os_params op = os_params(4, fcfs);
        struct tt_host *pl = plat_new(&op);
        int c;
        uint32_t sock = open_conn(pl, (uint16_t)(5200 + r), &c);
        tt_host_settle(pl);
        assert_int_equal(pl->ncmds, 1);
        ho_so_close(pl->os, sock, pl->now);
        assert_int_equal(pl->nq, 0);
        assert_false(has_event(pl, sock, HO_SO_RELEASED));
        struct ho_os_info info;
        ho_os_info(pl->os, &info);
        assert_int_equal(info.offered, 1);
        struct ho_cmd reply = {.type = HO_CMD_HANDOFF_REPLY};
        reply.handoff_reply.conn_id = sock;
        reply.handoff_reply.status = statuses[r];
        reply.handoff_reply.soft_limit = 4;
        assert_int_equal(nic_msg(pl, &reply), HO_OK);
        tt_host_settle(pl);
        assert_false(has_event(pl, sock, HO_SO_RESUMED));
        ho_os_info(pl->os, &info);
        assert_int_equal(info.offered, 0);
        if (accepted) {
            assert_int_equal(pl->ncmds, 2);
            struct ho_cmd cmd;
            cmd_at(pl, 1, &cmd);
            assert_int_equal(cmd.type, HO_CMD_CLOSE);
            assert_int_equal(cmd.seq, 1);
            assert_int_equal(cmd.close.conn_id, sock);
            assert_int_equal(cmd.close.how, HO_CMD_CLOSE_CLOSE);
            assert_false(has_event(pl, sock, HO_SO_RELEASED));
            assert_true(info.on_nic == 1 && info.sel_on_nic == 1);
            struct ho_cmd closed = {.type = HO_CMD_CLOSED};
            closed.closed.conn_id = sock;
            assert_int_equal(nic_msg(pl, &closed), HO_OK);
            tt_host_settle(pl);
            ho_os_info(pl->os, &info);
        } else {
            assert_int_equal(pl->ncmds, 1);
            tt_host_advance(pl, pl->now + 3000 * MS);
            assert_true(pl->ceof[c]); /* the host's TCP sent the FIN */
            assert_int_equal(tcpe_conn_state(pl->cc[c]), TCPE_CLOSE_WAIT);
        }
        assert_true(pl->evs[pl->nevs - 1].sock == sock &&
                    pl->evs[pl->nevs - 1].events == HO_SO_RELEASED);
        assert_true(info.on_nic == 0 && info.sel_on_nic == 0);
        assert_int_equal(pl->faults, 0);
        assert_consistent(pl);
        plat_fini(pl);
    }
}

/* A SOFT_LIMIT message moves the room the selection policy counts with. */
static void test_soft_limit_message(void **state)
{
    (void)state;
    struct ho_os_params op = os_params(4, fcfs);
    struct tt_host *pl = plat_new(&op);
    struct ho_cmd m = {.type = HO_CMD_SOFT_LIMIT};
    m.soft_limit.soft_limit = 0;
    m.soft_limit.hard_limit = 4;
    assert_int_equal(nic_msg(pl, &m), HO_OK);
    assert_work(&pl->q[0], HO_OS_PRIO_NET, HO_OS_CAT_NET, costs.msg_in, false, true);
    tt_host_settle(pl);
    int c;
    uint32_t a = open_conn(pl, 5100, &c);
    assert_int_equal(pl->nq, 0); /* no room: kept on the host for good */
    m.soft_limit.soft_limit = 1;
    assert_int_equal(nic_msg(pl, &m), HO_OK);
    tt_host_settle(pl);
    tt_host_connect(pl, 5101);
    int b = ho_so_accept(pl->os, pl->now);
    assert_int_equal(pl->nq, 1);
    assert_true(pl->q[0].w.cycles == costs.msg_out + costs.handoff);
    tt_host_settle(pl);
    struct ho_cmd cmd;
    cmd_at(pl, 0, &cmd);
    assert_int_equal(cmd.handoff.conn_id, (uint32_t)b);
    assert_true((uint32_t)b != a);
    struct ho_os_info info;
    ho_os_info(pl->os, &info);
    assert_true(info.sel_on_nic == 1 && info.offered == 1);
    plat_fini(pl);
}

/* ---- 4. the bypass protocol, and threshold selection ------------------------------------ */

/* Connects, accepts (FCFS) and has the NIC accept it. Returns the socket. */
static uint32_t on_nic_conn(struct tt_host *pl, uint16_t port, int *client)
{
    if (pl->ncc == 0) {
        assert_int_equal(ho_so_listen(pl->os, 0, SERVER_PORT, 16), 0);
    }
    *client = tt_host_connect(pl, port);
    int sock = ho_so_accept(pl->os, pl->now);
    assert_true(sock > 0);
    tt_host_settle(pl);
    struct ho_cmd cmd;
    cmd_at(pl, pl->ncmds - 1, &cmd);
    assert_int_equal(cmd.type, HO_CMD_HANDOFF);
    assert_int_equal(cmd.handoff.conn_id, (uint32_t)sock);
    struct ho_cmd reply = {.type = HO_CMD_HANDOFF_REPLY};
    reply.handoff_reply.conn_id = (uint32_t)sock;
    reply.handoff_reply.req_seq = cmd.seq;
    reply.handoff_reply.status = HO_CMD_ACCEPTED;
    reply.handoff_reply.soft_limit = 4;
    assert_int_equal(nic_msg(pl, &reply), HO_OK);
    tt_host_settle(pl);
    return (uint32_t)sock;
}

static void nic_acked(struct tt_host *pl, uint32_t sock, uint32_t bytes)
{
    struct ho_cmd m = {.type = HO_CMD_ACKED};
    m.acked.count = 1;
    m.acked.entries[0].conn_id = sock;
    m.acked.entries[0].bytes = bytes;
    assert_int_equal(nic_msg(pl, &m), HO_OK);
}

static void nic_recv(struct tt_host *pl, uint32_t sock, uint32_t len, bool fin)
{
    struct ho_cmd m = {.type = HO_CMD_RECV};
    m.recv.conn_id = sock;
    m.recv.len = len;
    m.recv.addr = sock;
    m.recv.flags = fin ? HO_CMD_RECV_FIN : 0;
    assert_int_equal(nic_msg(pl, &m), HO_OK);
}

/*
 * Bn gives a connection's slot back when its transfer has ended (select.h, ho_sel_drained): on a
 * NIC of one slot, a connection offered at its 2 KB response is asked back (RESTORE_REQUEST) by
 * the ACKED that acknowledges its last byte, and not before: not while the application still
 * has bytes to hand over, nor while bytes are unacknowledged (test_sel_bytes.c shows it offered
 * again once back).
 */
static void test_bn_gives_back_when_drained(void **state)
{
    (void)state;
    struct ho_sel_policy b1 = {.kind = HO_SEL_BYTES, .threshold = 1};
    struct ho_os_params op = os_params(1, b1);
    struct tt_host *pl = plat_new(&op);
    int c;
    uint32_t sock = open_conn(pl, 7900, &c);
    /* A 2 KB response: offered at its first append. */
    int64_t n = ho_so_send(pl->os, sock, 0, 0, 2048, pl->now);
    assert_true(n == 2048);
    tt_host_settle(pl);
    struct ho_cmd cmd;
    cmd_at(pl, pl->ncmds - 1, &cmd);
    assert_int_equal(cmd.type, HO_CMD_HANDOFF);
    struct ho_cmd reply = {.type = HO_CMD_HANDOFF_REPLY};
    reply.handoff_reply.conn_id = sock;
    reply.handoff_reply.req_seq = cmd.seq;
    reply.handoff_reply.status = HO_CMD_ACCEPTED;
    reply.handoff_reply.soft_limit = 1;
    assert_int_equal(nic_msg(pl, &reply), HO_OK);
    tt_host_settle(pl);
    /* The next response goes to the NIC; half of it is acknowledged: not drained. */
    n = ho_so_send(pl->os, sock, 0, 0, 3000, pl->now);
    assert_true(n == 3000);
    tt_host_settle(pl);
    size_t ncmds = pl->ncmds;
    uint32_t inflight = (uint32_t)(cmd.handoff.sockbuf.snd_unacked + 3000);
    nic_acked(pl, sock, inflight / 2);
    tt_host_settle(pl);
    assert_int_equal(pl->ncmds, ncmds);
    /* The last byte acknowledged: asked back. */
    nic_acked(pl, sock, inflight - inflight / 2);
    tt_host_settle(pl);
    assert_int_equal(pl->ncmds, ncmds + 1);
    cmd_at(pl, pl->ncmds - 1, &cmd);
    assert_int_equal(cmd.type, HO_CMD_RESTORE_REQUEST);
    assert_int_equal(cmd.restore_request.conn_id, sock);
    struct ho_os_info info;
    ho_os_info(pl->os, &info);
    assert_int_equal(info.given_back, 1);
    assert_consistent(pl);
    plat_fini(pl);
}

static void test_bypass_protocol(void **state)
{
    (void)state;
    struct ho_os_params op = os_params(4, fcfs);
    struct tt_host *pl = plat_new(&op);
    int c;
    uint32_t sock = on_nic_conn(pl, 6000, &c);
    uint64_t ntx = pl->ntx;

    /* Sends become SEND commands bounded by the send buffer less what is unacknowledged. */
    static const struct {
        char op;      /* 'S': ho_so_send(len = arg), 'A': ACKED arg bytes */
        uint32_t arg; /* bytes */
        int64_t want; /* 'S': what the send returns */
    } script[] = {
        {'S', 50000, SNDBUF}, {'S', 1000, 0},
        {'A', 10000, 0},      {'S', 50000, 10000},
        {'A', 1, 0},          {'S', 1, 1},
        {'S', 1, 0},          {'A', SNDBUF, 0},
        {'S', 7, 7},          {'S', SNDBUF, SNDBUF - 7},
    };
    size_t ncmds = pl->ncmds;
    uint32_t seq = 1; /* after the HANDOFF */
    for (size_t i = 0; i < sizeof script / sizeof script[0]; i++) {
        if (script[i].op == 'A') {
            size_t nevs = pl->nevs;
            nic_acked(pl, sock, script[i].arg);
            assert_work(&pl->q[0], HO_OS_PRIO_NET, HO_OS_CAT_NET, costs.msg_in, false, true);
            tt_host_settle(pl);
            assert_int_equal(pl->nevs, nevs + 1);
            assert_int_equal(pl->evs[nevs].sock, sock);
            assert_int_equal(pl->evs[nevs].events, HO_SO_WRITABLE);
            continue;
        }
        int64_t n = ho_so_send(pl->os, sock, 0, 0, script[i].arg, pl->now);
        if (n != script[i].want) {
            fail_msg("step %zu: send of %u returned %lld, want %lld", i, script[i].arg,
                     (long long)n, (long long)script[i].want);
        }
        if (n == 0) {
            assert_int_equal(pl->nq, 0);
            continue;
        }
        /* One SEND per append: the file a 4096-byte page at a time. */
        size_t sends = ((size_t)n + 4095) / 4096;
        assert_int_equal(pl->nq, sends);
        for (size_t k = 0; k < sends; k++) {
            assert_work(&pl->q[k], HO_OS_PRIO_NET, HO_OS_CAT_NET, costs.msg_out, false, true);
        }
        tt_host_settle(pl);
        assert_int_equal(pl->ncmds, ncmds + sends);
        uint64_t total = 0;
        for (size_t k = 0; k < sends; k++) {
            struct ho_cmd cmd;
            cmd_at(pl, ncmds++, &cmd);
            assert_int_equal(cmd.type, HO_CMD_SEND);
            assert_int_equal(cmd.seq, seq++);
            assert_int_equal(cmd.send.conn_id, sock);
            assert_true(cmd.send.len == (k + 1 < sends ? 4096 : (uint64_t)n - total));
            assert_int_equal(cmd.send.flags, HO_CMD_SEND_PUSH);
            total += cmd.send.len;
        }
        assert_true(total == (uint64_t)n);
    }

    /* RECV: data, then the peer's FIN. */
    nic_recv(pl, sock, 700, false);
    tt_host_settle(pl);
    assert_true(pl->evs[pl->nevs - 1].sock == sock &&
                pl->evs[pl->nevs - 1].events == HO_SO_READABLE);
    assert_int_equal(ho_so_readable(pl->os, sock), 700);
    assert_false(ho_so_eof(pl->os, sock));
    bool eof = true;
    assert_int_equal(ho_so_read(pl->os, sock, pl->now, &eof), 700);
    assert_false(eof);
    assert_int_equal(ho_so_readable(pl->os, sock), 0);
    nic_recv(pl, sock, 300, false);
    nic_recv(pl, sock, 0, true);
    tt_host_settle(pl);
    assert_int_equal(ho_so_readable(pl->os, sock), 300);
    assert_true(ho_so_eof(pl->os, sock));
    assert_int_equal(ho_so_read(pl->os, sock, pl->now, &eof), 300);
    assert_true(eof);

    /* ACKED for two connections in one message. */
    int c2;
    uint32_t sock2 = on_nic_conn(pl, 6001, &c2);
    assert_true(sock2 != sock);
    ncmds = pl->ncmds;
    assert_true(ho_so_send(pl->os, sock2, 0, 0, 100, pl->now) == 100);
    tt_host_settle(pl);
    struct ho_cmd m = {.type = HO_CMD_ACKED};
    m.acked.count = 2;
    m.acked.entries[0] = (struct ho_cmd_ack_entry){sock, 5};
    m.acked.entries[1] = (struct ho_cmd_ack_entry){sock2, 100};
    size_t nevs = pl->nevs;
    assert_int_equal(nic_msg(pl, &m), HO_OK);
    tt_host_settle(pl);
    assert_int_equal(pl->nevs, nevs + 2);
    assert_true(pl->evs[nevs].sock == sock && pl->evs[nevs].events == HO_SO_WRITABLE);
    assert_true(pl->evs[nevs + 1].sock == sock2 && pl->evs[nevs + 1].events == HO_SO_WRITABLE);
    assert_true(ho_so_send(pl->os, sock, 0, 0, 100, pl->now) == 5);
    tt_host_settle(pl);

    /* Close: a CLOSE command; the socket lives on until the NIC says CLOSED. */
    ncmds = pl->ncmds;
    ho_so_close(pl->os, sock, pl->now);
    assert_int_equal(pl->nq, 1);
    assert_work(&pl->q[0], HO_OS_PRIO_NET, HO_OS_CAT_NET, costs.msg_out, false, true);
    tt_host_settle(pl);
    struct ho_cmd cmd;
    cmd_at(pl, ncmds, &cmd);
    assert_int_equal(cmd.type, HO_CMD_CLOSE);
    assert_int_equal(cmd.close.conn_id, sock);
    assert_int_equal(cmd.close.how, HO_CMD_CLOSE_CLOSE);
    assert_false(has_event(pl, sock, HO_SO_RELEASED));
    struct ho_os_info info;
    ho_os_info(pl->os, &info);
    assert_true(info.on_nic == 2 && info.sel_on_nic == 2 && info.closed == 0);
    struct ho_cmd closed = {.type = HO_CMD_CLOSED};
    closed.closed.conn_id = sock;
    closed.closed.how = HO_CMD_CLOSED_NORMAL;
    assert_int_equal(nic_msg(pl, &closed), HO_OK);
    tt_host_settle(pl);
    assert_true(pl->evs[pl->nevs - 1].sock == sock &&
                pl->evs[pl->nevs - 1].events == HO_SO_RELEASED);
    ho_os_info(pl->os, &info);
    assert_true(info.on_nic == 1 && info.sel_on_nic == 1 && info.closed == 1);
    assert_true(info.accepted == 2);
    /* The NIC may also end a connection on its own (a reset there). */
    closed.closed.conn_id = sock2;
    closed.closed.how = HO_CMD_CLOSED_RESET;
    assert_int_equal(nic_msg(pl, &closed), HO_OK);
    tt_host_settle(pl);
    assert_true(pl->evs[pl->nevs - 1].sock == sock2 &&
                pl->evs[pl->nevs - 1].events == HO_SO_RELEASED);
    ho_os_info(pl->os, &info);
    assert_true(info.on_nic == 0 && info.sel_on_nic == 0 && info.closed == 2);
    assert_true(pl->ntx == ntx + 1); /* only the second connection's SYN-ACK, from the host */
    assert_consistent(pl);
    plat_fini(pl);
}

/*
 * Tn: the offer comes at the n-th append to the send buffer, one for the written bytes and one
 * per file page. Three sends: 250 written bytes and two pages (appends 1-3), a third page (4),
 * a fourth (5). Once offered, sends take nothing until the reply, which raises RESUMED; then
 * they go to the NIC, bounded by the send buffer less what travelled with the state.
 */
static void test_threshold_selection(void **state)
{
    (void)state;
    static const struct {
        uint64_t written, file_off, len;
    } sends[] = {
        {250, 0, 250 + 8192},
        {0, 8192, 4096},
        {0, 12288, 4096},
    };
    static const struct {
        uint32_t n;    /* Tn */
        int offer_at;  /* the send that offers it, or -1 */
        uint64_t upto; /* that send's bytes up to and including its n-th append */
    } rows[] = {{1, 0, 250},  {2, 0, 250 + 4096}, {3, 0, 250 + 8192}, {4, 1, 4096},
                {5, 2, 4096}, {6, -1, 0},         {100, -1, 0}};
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        struct ho_sel_policy tn = {.kind = HO_SEL_THRESH, .threshold = rows[r].n};
        struct ho_os_params op = os_params(4, tn);
        struct tt_host *pl = plat_new(&op);
        int c;
        uint32_t sock = open_conn(pl, (uint16_t)(7000 + r), &c);
        assert_int_equal(pl->nq, 0); /* not at accept */
        uint64_t queued = 0;
        for (int k = 0; k < (int)(sizeof sends / sizeof sends[0]); k++) {
            size_t nq = pl->nq;
            int64_t n = ho_so_send(pl->os, sock, sends[k].written, sends[k].file_off, sends[k].len,
                                   pl->now);
            bool handoff = false;
            for (size_t i = nq; i < pl->nq; i++) {
                handoff |= pl->q[i].w.cycles == costs.msg_out + costs.handoff;
            }
            if (handoff != (k == rows[r].offer_at)) {
                fail_msg("T%u, send %d: offered %d", rows[r].n, k, handoff);
            }
            if (rows[r].offer_at >= 0 && k > rows[r].offer_at) {
                assert_true(n == 0); /* on its way: the send waits for RESUMED */
                assert_int_equal(pl->nq, nq);
            } else if (k == rows[r].offer_at) {
                /* The call stops at the n-th append. */
                assert_true((uint64_t)n == rows[r].upto);
            } else {
                assert_true(n == (int64_t)sends[k].len);
            }
            queued += (uint64_t)n;
        }
        struct ho_os_info info;
        ho_os_info(pl->os, &info);
        assert_int_equal(info.offered, rows[r].offer_at >= 0);
        tt_host_settle(pl);
        if (rows[r].offer_at < 0) {
            assert_int_equal(pl->ncmds, 0);
            assert_true(queued == 250 + 4 * 4096);
            tt_host_advance(pl, pl->now + 3000 * MS);
            assert_true(pl->crecv[c] == queued);
            plat_fini(pl);
            continue;
        }
        assert_int_equal(pl->ncmds, 1);
        struct ho_cmd cmd;
        cmd_at(pl, 0, &cmd);
        assert_int_equal(cmd.type, HO_CMD_HANDOFF);
        assert_int_equal(cmd.handoff.conn_id, sock);
        /* Everything queued travels with the state, unacknowledged (the client has not yet
         * acknowledged anything: the export came within the send). */
        assert_true(cmd.handoff.sockbuf.snd_unacked == queued);
        struct ho_cmd reply = {.type = HO_CMD_HANDOFF_REPLY};
        reply.handoff_reply.conn_id = sock;
        reply.handoff_reply.req_seq = cmd.seq;
        reply.handoff_reply.status = HO_CMD_ACCEPTED;
        reply.handoff_reply.soft_limit = 4;
        size_t held = 0;
        ho_os_info(pl->os, &info);
        held = info.pkts_held; /* the client's ACKs of what the host had sent, if any */
        assert_int_equal(nic_msg(pl, &reply), HO_OK);
        size_t nevs = pl->nevs;
        tt_host_settle(pl);
        assert_int_equal(pl->nfwd, held);
        assert_true(pl->nevs == nevs + 1 && pl->evs[nevs].sock == sock &&
                    pl->evs[nevs].events == HO_SO_RESUMED);
        uint64_t room = SNDBUF - queued;
        int64_t n = ho_so_send(pl->os, sock, 0, 0, 1u << 20, pl->now);
        assert_true((uint64_t)n == room);
        tt_host_settle(pl);
        /* SEND commands of a page each (the last one less), from the second command on. */
        uint64_t total = 0;
        for (size_t k = 1; k < pl->ncmds; k++) {
            cmd_at(pl, k, &cmd);
            assert_int_equal(cmd.type, HO_CMD_SEND);
            assert_true(cmd.send.len <= 4096 && (cmd.send.len == 4096 || k + 1 == pl->ncmds));
            total += cmd.send.len;
        }
        assert_true(total == room);
        assert_consistent(pl);
        plat_fini(pl);
    }
}

/* ---- 5. restoring a connection from the NIC --------------------------------------------- */

/*
 * The NIC's TCP for one connection, played by the test: the HANDOFF's state imported into a
 * tcpe stack of its own (virtual payload). It talks to the client through the platform (the
 * driver forwards the client's packets to it; its segments go to the client's stack), takes
 * SEND and CLOSE, reports what it receives in RECV and what the client acknowledges in ACKED
 * (both held back while hold_reports: they are then still on their way when the driver asks for
 * the connection back), and answers a RESTORE_REQUEST as the firmware does: RECV, ACKED, then a
 * RESTORE with its own export.
 */
#define TNIC_MAXOUT 512

struct tnic {
    struct tt_host *pl;
    struct tcpe_stack *stack;
    struct tcpe_conn *conn; /* NULL once given back */
    uint32_t sock;
    size_t cmds_seen, fwd_seen; /* of pl->cmds and pl->fwd */
    struct tcpe_seg out[TNIC_MAXOUT];
    size_t nout;
    uint64_t sent, acked; /* bytes it had to send (the state's and SENDs'), reported acked */
    bool fin_told;
    bool hold_reports;
    bool answer_restore; /* take RESTORE_REQUEST at once, else leave it to the test */
    size_t rreq_at;      /* index in pl->cmds of the RESTORE_REQUEST taken, or SIZE_MAX */
};

/* The stack of the test's NIC in use (the struct tnic is the test's, on its stack). */
static struct tcpe_stack *current_nic;

static void current_nic_free(void)
{
    tcpe_stack_destroy(current_nic);
    current_nic = NULL;
}

static int tnic_output(void *ctx, const struct tcpe_seg *seg)
{
    struct tnic *t = ctx;
    assert_true(t->nout < TNIC_MAXOUT);
    t->out[t->nout] = *seg;
    t->out[t->nout].data = NULL;
    t->nout++;
    return HO_OK;
}

/* Takes the connection of the HANDOFF at pl->cmds[at] (answered already, by on_nic_conn). */
static void tnic_attach(struct tnic *t, struct tt_host *pl, size_t at)
{
    memset(t, 0, sizeof *t);
    t->pl = pl;
    t->answer_restore = true;
    t->rreq_at = SIZE_MAX;
    struct tcpe_params tp;
    tcpe_params_init(&tp);
    tp.ops.output = tnic_output;
    tp.ctx = t;
    tp.virtual_payload = true;
    tp.nodelay = true;
    tp.delack = 0;
    tp.sndbuf = 1u << 17;
    tp.seed = 31;
    assert_int_equal(tcpe_stack_create(&tp, &t->stack), HO_OK);
    current_nic = t->stack;
    struct ho_cmd h;
    cmd_at(pl, at, &h);
    assert_int_equal(h.type, HO_CMD_HANDOFF);
    assert_int_equal(
        tcpe_import(t->stack, h.handoff.state.data, h.handoff.state.len, pl->now, &t->conn), HO_OK);
    t->sock = h.handoff.conn_id;
    t->sent = tcpe_conn_unacked(t->conn);
    t->cmds_seen = at + 1;
    t->fwd_seen = pl->nfwd; /* packets forwarded before are the held ones, part of the state */
}

static void tnic_free(struct tnic *t)
{
    current_nic = NULL;
    tcpe_stack_destroy(t->stack);
    t->stack = NULL;
    t->conn = NULL;
}

/* RECV for what the connection received; ACKED for what the client acknowledged (unless held
 * back and not flush). Returns whether a message went to the driver. */
static bool tnic_report(struct tnic *t, bool flush)
{
    bool posted = false;
    if (t->hold_reports && !flush) {
        return false;
    }
    int got = tcpe_recv(t->conn, NULL, 1u << 30, t->pl->now);
    assert_true(got >= 0);
    bool fin = tcpe_conn_eof(t->conn) && !t->fin_told;
    if (got > 0 || fin) {
        nic_recv(t->pl, t->sock, (uint32_t)got, fin);
        t->fin_told |= fin;
        posted = true;
    }
    uint64_t acked = t->sent - tcpe_conn_unacked(t->conn);
    if (acked > t->acked) {
        nic_acked(t->pl, t->sock, (uint32_t)(acked - t->acked));
        t->acked = acked;
        posted = true;
    }
    return posted;
}

/* The firmware's answer to RESTORE_REQUEST: what was received, the pending ACKs, the state. */
static void tnic_restore(struct tnic *t)
{
    tnic_report(t, true);
    int len = tcpe_export(t->conn, t->pl->now, NULL, 0);
    assert_true(len > 0);
    uint8_t *blob = malloc((size_t)len);
    assert_non_null(blob);
    assert_int_equal(tcpe_export(t->conn, t->pl->now, blob, (size_t)len), len);
    struct ho_cmd m = {.type = HO_CMD_RESTORE};
    m.restore.conn_id = t->sock;
    m.restore.reason = HO_CMD_RESTORE_REQUESTED;
    m.restore.sockbuf.snd_unacked = tcpe_conn_unacked(t->conn);
    m.restore.state.len = (uint32_t)len;
    m.restore.state.data = blob;
    assert_int_equal(nic_msg(t->pl, &m), HO_OK);
    free(blob);
    tcpe_detach(t->conn);
    t->conn = NULL;
}

static void tnic_command(struct tnic *t, size_t i)
{
    struct ho_cmd c;
    cmd_at(t->pl, i, &c);
    switch (c.type) {
    case HO_CMD_SEND:
        assert_int_equal(c.send.conn_id, t->sock);
        assert_non_null(t->conn);
        assert_int_equal(tcpe_send(t->conn, NULL, c.send.len, t->pl->now), (int)c.send.len);
        t->sent += c.send.len;
        break;
    case HO_CMD_CLOSE:
        assert_int_equal(c.close.conn_id, t->sock);
        assert_int_equal(tcpe_shutdown(t->conn, t->pl->now), HO_OK);
        break;
    case HO_CMD_RESTORE_REQUEST:
        assert_int_equal(c.restore_request.conn_id, t->sock);
        t->rreq_at = i;
        tnic_restore(t);
        break;
    default:
        fail_msg("the NIC got %s", ho_cmd_type_name(c.type));
    }
}

/* Runs the host, the test's NIC and the client until nothing is left to do now. */
static void tnic_pump(struct tnic *t)
{
    struct tt_host *pl = t->pl;
    for (int round = 0;; round++) {
        assert_true(round < 10000);
        tt_host_settle(pl);
        bool moved = false;
        for (; t->cmds_seen < pl->ncmds; t->cmds_seen++, moved = true) {
            struct ho_cmd c;
            cmd_at(pl, t->cmds_seen, &c);
            if (c.type == HO_CMD_RESTORE_REQUEST && !t->answer_restore) {
                break;
            }
            tnic_command(t, t->cmds_seen);
        }
        for (; t->fwd_seen < pl->nfwd; t->fwd_seen++, moved = true) {
            if (!t->conn) {
                /* Given back already: the firmware hands the packet to the host, as its
                 * memory of restored connections says (nic.h). */
                ho_os_rx(pl->os, tt_host_pkt_new(pl, &pl->fwd[t->fwd_seen]->seg), pl->now);
                continue;
            }
            tcpe_stack_input(t->stack, &pl->fwd[t->fwd_seen]->seg, pl->now);
        }
        if (t->conn) {
            moved |= tnic_report(t, false);
        }
        if (t->nout > 0) {
            size_t n = t->nout;
            t->nout = 0;
            for (size_t i = 0; i < n; i++) {
                tcpe_stack_input(pl->client, &t->out[i], pl->now);
            }
            tt_host_client_drain(pl);
            moved = true;
        }
        if (!moved && pl->nq == 0 && pl->nwire == 0) {
            return;
        }
    }
}

/* tnic_pump, and time passing through the timers of the host, the client and the test's NIC,
 * up to `until`. */
static void tnic_run(struct tnic *t, uint64_t until)
{
    struct tt_host *pl = t->pl;
    for (int steps = 0;; steps++) {
        assert_true(steps < 10000);
        tnic_pump(t);
        uint64_t next = pl->timer_when;
        uint64_t c = tcpe_stack_next_wake(pl->client);
        uint64_t n = tcpe_stack_next_wake(t->stack);
        next = c < next ? c : next;
        next = n < next ? n : next;
        if (next == TCPE_NEVER || next > until) {
            return;
        }
        if (next > pl->now) {
            pl->now = next;
        }
        if (pl->timer_when <= pl->now) {
            pl->timer_when = TCPE_NEVER;
            ho_os_timer(pl->os, pl->now);
        }
        tcpe_stack_timers(pl->client, pl->now);
        tcpe_stack_timers(t->stack, pl->now);
    }
}

static struct ho_so_info so_info(const struct tt_host *pl, uint32_t sock)
{
    struct ho_so_info si;
    assert_int_equal(ho_so_info(pl->os, sock, &si), HO_OK);
    return si;
}

/* The index of the first event at or after `from` on sock with any of ev, or SIZE_MAX. */
static size_t event_at(const struct tt_host *pl, size_t from, uint32_t sock, unsigned ev)
{
    for (size_t i = from; i < pl->nevs; i++) {
        if (pl->evs[i].sock == sock && (pl->evs[i].events & ev)) {
            return i;
        }
    }
    return SIZE_MAX;
}

/*
 * ho_os_restore (os.h): "Returns HO_OK, or HO_ESTATE if the connection is not on the NIC (on
 * the host, or on its way), HO_ENOENT if sock is not open." A refused call queues nothing and
 * changes nothing. The one taken posts a RESTORE_REQUEST (cmd.h: conn_id, the reason
 * HO_CMD_RREQ_RECLAIM) at the cost of one command, and the socket is on its way back
 * (HO_SO_RESTORING): it still counts as on the NIC, and sends queue nothing.
 */
enum rc_where { RC_NEVER, RC_PAST_TABLE, RC_RELEASED, RC_HOST, RC_OFFERED, RC_NIC, RC_RESTORING };

static void test_restore_calls(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        enum rc_where where;
        int rc;
    } rows[] = {
        {"a number never opened", RC_NEVER, HO_ENOENT},
        {"a number past the table", RC_PAST_TABLE, HO_ENOENT},
        {"a socket closed and released", RC_RELEASED, HO_ENOENT},
        {"on the host", RC_HOST, HO_ESTATE},
        {"on its way to the NIC", RC_OFFERED, HO_ESTATE},
        {"on the NIC", RC_NIC, HO_OK},
        {"on its way back already", RC_RESTORING, HO_ESTATE},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        bool handoff = rows[r].where >= RC_OFFERED;
        struct ho_os_params op = os_params(handoff ? 4 : 0, handoff ? fcfs : never);
        struct tt_host *pl = plat_new(&op);
        uint16_t port = (uint16_t)(9200 + r);
        uint32_t sock = 0;
        int c;
        switch (rows[r].where) {
        case RC_NEVER:
            sock = open_conn(pl, port, &c) + 5;
            break;
        case RC_PAST_TABLE:
            sock = 1u << 20;
            break;
        case RC_RELEASED:
            sock = open_conn(pl, port, &c);
            ho_so_close(pl->os, sock, pl->now);
            assert_true(has_event(pl, sock, HO_SO_RELEASED));
            break;
        case RC_HOST:
            sock = open_conn(pl, port, &c);
            break;
        case RC_OFFERED:
            sock = open_conn(pl, port, &c);
            tt_host_settle(pl);
            assert_int_equal(so_info(pl, sock).where, HO_SO_OFFERED);
            break;
        case RC_NIC:
        case RC_RESTORING:
        default:
            sock = on_nic_conn(pl, port, &c);
            if (rows[r].where == RC_RESTORING) {
                assert_int_equal(ho_os_restore(pl->os, sock, pl->now), HO_OK);
                tt_host_settle(pl);
            }
            break;
        }
        tt_host_settle(pl);
        struct ho_so_info before = {0};
        bool open = ho_so_info(pl->os, sock, &before) == HO_OK;
        assert_int_equal(open, rows[r].rc != HO_ENOENT);
        struct ho_os_info info0;
        ho_os_info(pl->os, &info0);
        size_t ncmds = pl->ncmds, nevs = pl->nevs;
        int rc = ho_os_restore(pl->os, sock, pl->now);
        if (rc != rows[r].rc) {
            fail_msg("%s: ho_os_restore returned %d, want %d", rows[r].what, rc, rows[r].rc);
        }
        if (rc != HO_OK) {
            assert_int_equal(pl->nq, 0); /* nothing queued, nothing changed */
            tt_host_settle(pl);
            assert_int_equal(pl->ncmds, ncmds);
            assert_int_equal(pl->nevs, nevs);
            if (open) {
                assert_int_equal(so_info(pl, sock).where, before.where);
            }
            assert_consistent(pl);
            plat_fini(pl);
            continue;
        }
        assert_int_equal(pl->nq, 1);
        assert_work(&pl->q[0], HO_OS_PRIO_NET, HO_OS_CAT_NET, costs.msg_out, false, true);
        assert_int_equal(so_info(pl, sock).where, HO_SO_RESTORING);
        tt_host_settle(pl);
        assert_int_equal(pl->ncmds, ncmds + 1);
        struct ho_cmd cmd;
        cmd_at(pl, ncmds, &cmd);
        assert_int_equal(cmd.type, HO_CMD_RESTORE_REQUEST);
        assert_int_equal(cmd.seq, ncmds); /* the HANDOFF was 0 */
        assert_int_equal(cmd.restore_request.conn_id, sock);
        assert_int_equal(cmd.restore_request.reason, HO_CMD_RREQ_RECLAIM);
        struct ho_so_info si = so_info(pl, sock);
        assert_int_equal(si.where, HO_SO_RESTORING);
        assert_int_equal(si.moves, 1);
        assert_memory_equal(&si.tuple, ho_so_tuple(pl->os, sock), sizeof si.tuple);
        struct ho_os_info info;
        ho_os_info(pl->os, &info);
        assert_int_equal(info.on_nic, 1);
        assert_int_equal(info.offered, 0);
        assert_int_equal(info.sel_on_nic, info0.sel_on_nic);
        /* On its way back: a send takes nothing and posts nothing, until RESUMED. */
        assert_true(ho_so_send(pl->os, sock, 0, 0, 1000, pl->now) == 0);
        assert_true(ho_so_send(pl->os, sock, 100, 0, 100, pl->now) == 0);
        assert_int_equal(pl->nq, 0);
        tt_host_settle(pl);
        assert_int_equal(pl->ncmds, ncmds + 1);
        assert_int_equal(so_info(pl, sock).bytes_out, 0);
        assert_true(event_at(pl, nevs, sock, HO_SO_RESUMED | HO_SO_RELEASED) == SIZE_MAX);
        assert_int_equal(pl->faults, 0);
        assert_consistent(pl);
        plat_fini(pl);
    }
}

/*
 * A connection back from the NIC (os.h, ho_os_restore; cmd.h, RESTORE). The test's NIC takes the
 * handoff, sends 3000 bytes the application gave it and delivers 200 the client sent. Then,
 * while its reports are on their way (held back), the client sends more (each row: data, its
 * FIN, both or neither) and acknowledges 1000 more bytes, and the application asks for the
 * connection back: the NIC's RECV and ACKED reach the socket while it is on its way back, before
 * the RESTORE. They are taken (READABLE, WRITABLE; what was delivered is readable, the FIN is
 * seen); then the RESTORE puts the connection in the host's TCP: HO_SO_HOST, two moves,
 * consistent, HO_SO_RESUMED (after the RESTORE, not before), off the NIC for the selection
 * policy. The host's TCP carries on from the NIC's sequence numbers: what the application sends
 * next reaches the client after the NIC's bytes, and what the client sends next is the host's.
 */
static void test_restore_round_trip(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        uint32_t data; /* the client sends while the NIC's reports are on their way */
        bool fin;
    } rows[] = {
        {"data", 300, false},
        {"data and FIN", 300, true},
        {"FIN only", 0, true},
        {"nothing", 0, false},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        struct ho_os_params op = os_params(4, fcfs);
        struct tt_host *pl = plat_new(&op);
        int c;
        uint32_t sock = on_nic_conn(pl, (uint16_t)(9300 + r), &c);
        struct tnic nic;
        tnic_attach(&nic, pl, pl->ncmds - 1);
        struct ho_os_info info;
        ho_os_info(pl->os, &info);
        assert_true(info.on_nic == 1 && info.sel_on_nic == 1);

        /* On the NIC: the application's bytes go out, the client's come in. */
        assert_true(ho_so_send(pl->os, sock, 0, 0, 3000, pl->now) == 3000);
        tnic_run(&nic, pl->now + 500 * MS);
        assert_true(pl->crecv[c] == 3000);
        assert_true(nic.acked == 3000);
        tt_host_client_send(pl, c, 200);
        tnic_pump(&nic);
        assert_int_equal(ho_so_readable(pl->os, sock), 200);
        bool eof = true;
        assert_int_equal(ho_so_read(pl->os, sock, pl->now, &eof), 200);
        assert_false(eof);

        /* The NIC's reports are on their way: 1000 bytes more, acknowledged, and what the
         * client sends now. */
        nic.hold_reports = true;
        nic.answer_restore = false;
        assert_true(ho_so_send(pl->os, sock, 0, 0, 1000, pl->now) == 1000);
        if (rows[r].data > 0) {
            tt_host_client_send(pl, c, rows[r].data);
        }
        if (rows[r].fin) {
            assert_int_equal(tcpe_shutdown(pl->cc[c], pl->now), HO_OK);
        }
        tnic_run(&nic, pl->now + 500 * MS);
        assert_true(pl->crecv[c] == 4000);
        assert_int_equal(tcpe_conn_unacked(nic.conn), 0);
        assert_true(nic.acked == 3000);
        assert_int_equal(tcpe_conn_readable(nic.conn), rows[r].data);
        assert_int_equal(ho_so_readable(pl->os, sock), 0);

        /* The request. */
        size_t ncmds = pl->ncmds;
        assert_int_equal(ho_os_restore(pl->os, sock, pl->now), HO_OK);
        tnic_pump(&nic);
        assert_int_equal(pl->ncmds, ncmds + 1);
        assert_int_equal(so_info(pl, sock).where, HO_SO_RESTORING);

        /* The NIC answers: RECV (if anything came), ACKED, then RESTORE. */
        size_t nevs = pl->nevs;
        uint32_t nic_seq = pl->nic_seq;
        assert_int_equal(pl->nq, 0);
        tnic_command(&nic, nic.cmds_seen++);
        assert_true(nic.rreq_at == ncmds);
        uint32_t msgs = pl->nic_seq - nic_seq;
        assert_int_equal(msgs, (rows[r].data > 0 || rows[r].fin) + 1 + 1);
        assert_int_equal(pl->nq, msgs);
        /* The RECV and ACKED are taken while the socket is on its way back. */
        for (uint32_t m = 0; m + 1 < msgs; m++) {
            tt_host_run_at(pl, 0);
            assert_int_equal(so_info(pl, sock).where, HO_SO_RESTORING);
        }
        if (rows[r].data > 0 || rows[r].fin) {
            assert_true(event_at(pl, nevs, sock, HO_SO_READABLE) != SIZE_MAX);
            assert_int_equal(ho_so_readable(pl->os, sock), rows[r].data);
            assert_int_equal(ho_so_eof(pl->os, sock), rows[r].fin);
        }
        assert_true(event_at(pl, nevs, sock, HO_SO_WRITABLE) != SIZE_MAX);
        assert_true(event_at(pl, nevs, sock, HO_SO_RESUMED) == SIZE_MAX);
        ho_os_info(pl->os, &info);
        assert_true(info.on_nic == 1 && info.sel_on_nic == 1);
        assert_true(ho_so_send(pl->os, sock, 0, 0, 100, pl->now) == 0);
        size_t before_restore = pl->nevs;
        tt_host_run_at(pl, 0); /* the RESTORE */
        assert_int_equal(pl->nq, 0);

        struct ho_so_info si = so_info(pl, sock);
        assert_int_equal(si.where, HO_SO_HOST);
        assert_int_equal(si.moves, 2);
        assert_true(si.bytes_out == 4000);
        assert_consistent(pl);
        assert_true(event_at(pl, before_restore, sock, HO_SO_RESUMED) != SIZE_MAX);
        ho_os_info(pl->os, &info);
        assert_true(info.on_nic == 0 && info.offered == 0 && info.sel_on_nic == 0);
        if (rows[r].data == 0) {
            assert_int_equal(ho_so_eof(pl->os, sock), rows[r].fin); /* the FIN came back */
        }
        assert_int_equal(ho_os_restore(pl->os, sock, pl->now), HO_ESTATE);

        /* The host's TCP goes on where the NIC's stopped. */
        uint64_t ntx = pl->ntx, bytes_in = info.tcp->bytes_in;
        size_t nfwd = pl->nfwd;
        assert_true(ho_so_send(pl->os, sock, 0, 0, 5000, pl->now) == 5000);
        if (!rows[r].fin) {
            tt_host_client_send(pl, c, 100);
        }
        tnic_run(&nic, pl->now + 3000 * MS);
        assert_true(pl->ntx > ntx);
        assert_true(pl->crecv[c] == 4000 + 5000);
        assert_int_equal(pl->nfwd, nfwd); /* nothing goes to the NIC any more */
        assert_int_equal(pl->ncmds, ncmds + 1);
        ho_os_info(pl->os, &info);
        assert_true(info.tcp->bytes_in == bytes_in + (rows[r].fin ? 0 : 100));
        assert_true(info.pkts_held == 0);
        assert_true(so_info(pl, sock).bytes_out == 9000);
        assert_int_equal(pl->faults, 0);
        assert_consistent(pl);
        /* And it closes on the host, everything read: released at once, the client sees the
         * FIN. */
        (void)ho_so_read(pl->os, sock, pl->now, &eof);
        assert_int_equal(ho_so_readable(pl->os, sock), 0);
        ho_so_close(pl->os, sock, pl->now);
        assert_true(pl->evs[pl->nevs - 1].sock == sock &&
                    pl->evs[pl->nevs - 1].events == HO_SO_RELEASED);
        tnic_run(&nic, pl->now + 3000 * MS);
        assert_true(pl->ceof[c]);
        assert_int_equal(pl->ncmds, ncmds + 1);
        /* Once the connection is gone from both ends, its 4-tuple is no one's: the client
         * connects again from the same port and is accepted (not held as bypassed). */
        if (!rows[r].fin) {
            assert_int_equal(tcpe_shutdown(pl->cc[c], pl->now), HO_OK);
        }
        tcpe_release(pl->cc[c], pl->now);
        pl->cc[c] = NULL;
        tnic_run(&nic, pl->now + 200000 * MS); /* TIME_WAIT ends */
        assert_int_equal(tcpe_stack_conn_count(pl->client), 0);
        tt_host_connect(pl, (uint16_t)(9300 + r));
        assert_true(ho_so_accept(pl->os, pl->now) > 0);
        ho_os_info(pl->os, &info);
        assert_true(info.pkts_held == 0);
        tnic_free(&nic);
        plat_fini(pl);
    }
}

/*
 * The connection ends on the NIC before the RESTORE_REQUEST gets there (cmd.h: the firmware
 * drops the late request and its CLOSED is what comes back): the CLOSED frees the restoring
 * socket as for one on the NIC (HO_SO_RELEASED), closed by the application meanwhile or not.
 */
static void test_restore_then_closed(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        uint8_t how;
        bool app_closed; /* the application closed the socket while it was on its way back */
    } rows[] = {
        {"reset by the peer", HO_CMD_CLOSED_RESET, false},
        {"timed out", HO_CMD_CLOSED_TIMEOUT, false},
        {"closed normally", HO_CMD_CLOSED_NORMAL, false},
        {"reset, the application had closed it", HO_CMD_CLOSED_RESET, true},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        struct ho_os_params op = os_params(4, fcfs);
        struct tt_host *pl = plat_new(&op);
        int c;
        uint32_t sock = on_nic_conn(pl, (uint16_t)(9400 + r), &c);
        int c2;
        uint32_t other = on_nic_conn(pl, (uint16_t)(9450 + r), &c2);
        assert_int_equal(ho_os_restore(pl->os, sock, pl->now), HO_OK);
        tt_host_settle(pl);
        size_t ncmds = pl->ncmds;
        if (rows[r].app_closed) {
            ho_so_close(pl->os, sock, pl->now);
            assert_int_equal(pl->nq, 0);
            assert_false(has_event(pl, sock, HO_SO_RELEASED));
        }
        size_t nevs = pl->nevs;
        struct ho_cmd closed = {.type = HO_CMD_CLOSED};
        closed.closed.conn_id = sock;
        closed.closed.how = rows[r].how;
        assert_int_equal(nic_msg(pl, &closed), HO_OK);
        tt_host_settle(pl);
        assert_int_equal(pl->nevs, nevs + 1); /* released once, nothing else */
        assert_true(pl->evs[nevs].sock == sock && pl->evs[nevs].events == HO_SO_RELEASED);
        struct ho_so_info si;
        assert_int_equal(ho_so_info(pl->os, sock, &si), HO_ENOENT);
        assert_int_equal(ho_os_restore(pl->os, sock, pl->now), HO_ENOENT);
        assert_int_equal(pl->ncmds, ncmds);
        struct ho_os_info info;
        ho_os_info(pl->os, &info);
        assert_true(info.on_nic == 1 && info.sel_on_nic == 1 && info.closed == 1);
        assert_int_equal(so_info(pl, other).where, HO_SO_NIC);
        /* The tuple is no longer bypassed: a late packet of it goes to the host's TCP (which
         * answers with a reset), not to the NIC, and is not held. */
        size_t nfwd = pl->nfwd;
        tt_host_client_send(pl, c, 10);
        tt_host_settle(pl);
        ho_os_info(pl->os, &info);
        assert_int_equal(pl->nfwd, nfwd);
        assert_true(info.pkts_held == 0);
        assert_int_equal(tcpe_conn_state(pl->cc[c]), TCPE_CLOSED); /* reset by the host */
        assert_int_equal(pl->faults, 0);
        assert_consistent(pl);
        plat_fini(pl);
    }
}

/*
 * A connection's record (os.h, struct ho_conn_record, ops.conn_done): given once, when its
 * socket is released, with the times of what happened to it; ho_so_record gives it while it
 * lives; ho_conn_record_json writes it as one line, null for what never happened.
 */
static void test_conn_record(void **state)
{
    (void)state;
    struct ho_os_params op = os_params(4, fcfs);
    struct tt_host *pl = plat_new(&op);
    /* On the NIC: offered when accepted, answered (accepted), asked back, then ended there. */
    int c;
    pl->now = 1000000;
    uint32_t sock = on_nic_conn(pl, 9700, &c);
    struct ho_conn_record r;
    ho_so_record(pl->os, sock, &r);
    assert_int_equal(r.sock, sock);
    assert_true(r.accepted >= 1000000 && r.accepted <= pl->now);
    assert_int_equal(r.offered, r.accepted); /* FCFS: offered when accepted */
    uint64_t t_acc = r.accepted;
    assert_true(r.answered >= r.offered && r.answered != HO_CONN_NEVER);
    assert_int_equal(r.reply, HO_CMD_ACCEPTED);
    assert_int_equal(r.closed, HO_CONN_NEVER);
    assert_int_equal(r.restore_asked, HO_CONN_NEVER);
    assert_int_equal(pl->nconn_done, 0);
    pl->now += 5000;
    uint64_t t_ask = pl->now;
    assert_int_equal(ho_os_restore(pl->os, sock, pl->now), HO_OK);
    tt_host_settle(pl);
    struct ho_cmd closed = {.type = HO_CMD_CLOSED};
    closed.closed.conn_id = sock;
    closed.closed.how = HO_CMD_CLOSED_NORMAL;
    pl->now += 7000;
    assert_int_equal(nic_msg(pl, &closed), HO_OK);
    tt_host_settle(pl);
    assert_int_equal(pl->nconn_done, 1);
    r = pl->last_done;
    assert_int_equal(r.sock, sock);
    assert_int_equal(r.restore_asked, t_ask);
    assert_int_equal(r.back, HO_CONN_BACK_NONE);
    assert_true(r.closed >= t_ask + 7000 && r.closed != HO_CONN_NEVER);
    assert_true(r.closed_on_nic);
    /* Its one move, as the record's own fields tell it. */
    assert_int_equal(r.nmoves, 1);
    assert_int_equal(r.moves_untold, 0);
    assert_true(r.moves[0].offered == r.offered && r.moves[0].answered == r.answered);
    assert_int_equal(r.moves[0].reply, HO_CMD_ACCEPTED);
    assert_true(r.moves[0].restore_asked == t_ask && r.moves[0].back_at == HO_CONN_NEVER);
    assert_int_equal(r.moves[0].back, HO_CONN_BACK_NONE);
    char line[1024];
    int n = ho_conn_record_json(&r, line, sizeof line);
    assert_true(n > 0 && (size_t)n == strlen(line));
    char want[128];
    snprintf(want, sizeof want, "\"accepted_ms\":%.6f,\"offered_ms\":%.6f,", t_acc / 1e6,
             t_acc / 1e6);
    assert_non_null(strstr(line, want));
    assert_non_null(strstr(line, "\"reply\":\"accepted\""));
    snprintf(want, sizeof want, "\"restore_asked_ms\":%.6f,\"back\":\"none\",\"back_ms\":null",
             t_ask / 1e6);
    assert_non_null(strstr(line, want));
    assert_non_null(strstr(line, "\"closed_on\":\"nic\""));
    snprintf(want, sizeof want, "\"moves\":[{\"move\":1,\"offered_ms\":%.6f,", t_acc / 1e6);
    assert_non_null(strstr(line, want));
    assert_non_null(strstr(line, "\"back\":\"none\",\"back_ms\":null}],\"moves_untold\":0}"));
    assert_int_equal(line[0], '{');
    assert_int_equal(line[n - 1], '}');
    /* Cut short, it says how long it would be and stays a string. */
    char small[16];
    assert_int_equal(ho_conn_record_json(&r, small, sizeof small), n);
    assert_int_equal(strlen(small), sizeof small - 1);

    plat_fini(pl);

    /* Never offered: a host connection (the NIC's Hard limit 0). */
    struct ho_os_params op0 = os_params(0, never);
    struct tt_host *p0 = plat_new(&op0);
    int c0;
    uint32_t s0 = open_conn(p0, 9750, &c0);
    ho_so_close(p0->os, s0, p0->now);
    tcpe_shutdown(p0->cc[c0], p0->now);
    tt_host_settle(p0);
    for (int i = 0; i < 100 && p0->nconn_done == 0; i++) {
        p0->now += 100 * 1000000ull;
        tt_host_settle(p0);
    }
    assert_int_equal(p0->nconn_done, 1);
    r = p0->last_done;
    assert_int_equal(r.sock, s0);
    assert_int_equal(r.offered, HO_CONN_NEVER);
    assert_false(r.closed_on_nic);
    n = ho_conn_record_json(&r, line, sizeof line);
    assert_non_null(strstr(line, "\"offered_ms\":null,\"answered_ms\":null,\"reply\":null,"
                                 "\"handoff_latency_us\":null"));
    assert_int_equal(r.nmoves, 0);
    assert_non_null(strstr(line, "\"moves\":[],\"moves_untold\":0}"));
    assert_non_null(strstr(line, "\"closed_on\":\"host\""));
    plat_fini(p0);
}

/*
 * ho_so_close on a socket on its way back waits for the RESTORE (as one on its way to the NIC
 * waits for the reply): no CLOSE goes to the NIC, nothing is released; when the connection is
 * back in the host's TCP it is closed there, the socket released, and the host's TCP sends the
 * FIN after the bytes still unacknowledged.
 */
static void test_close_while_restoring(void **state)
{
    (void)state;
    struct ho_os_params op = os_params(4, fcfs);
    struct tt_host *pl = plat_new(&op);
    int c;
    uint32_t sock = on_nic_conn(pl, 9500, &c);
    struct tnic nic;
    tnic_attach(&nic, pl, pl->ncmds - 1);
    assert_true(ho_so_send(pl->os, sock, 0, 0, 2000, pl->now) == 2000);
    tnic_pump(&nic); /* sent from the NIC; the client's ACK is delayed */
    assert_true(pl->crecv[c] == 2000);
    assert_int_equal(tcpe_conn_unacked(nic.conn), 2000);

    nic.answer_restore = false;
    size_t ncmds = pl->ncmds;
    assert_int_equal(ho_os_restore(pl->os, sock, pl->now), HO_OK);
    tnic_pump(&nic);
    assert_int_equal(pl->ncmds, ncmds + 1);
    ho_so_close(pl->os, sock, pl->now);
    assert_int_equal(pl->nq, 0);
    tnic_pump(&nic);
    assert_int_equal(pl->ncmds, ncmds + 1); /* no CLOSE for the NIC */
    assert_false(has_event(pl, sock, HO_SO_RELEASED));
    assert_int_equal(so_info(pl, sock).where, HO_SO_RESTORING);
    struct ho_os_info info;
    ho_os_info(pl->os, &info);
    assert_true(info.on_nic == 1 && info.sel_on_nic == 1);

    size_t nevs = pl->nevs;
    nic.answer_restore = true;
    tnic_pump(&nic); /* the NIC answers: RESTORE, its 2000 bytes still unacknowledged */
    assert_true(nic.conn == NULL);
    assert_true(event_at(pl, nevs, sock, HO_SO_RELEASED) != SIZE_MAX);
    assert_true(event_at(pl, nevs, sock, HO_SO_RESUMED) == SIZE_MAX);
    assert_true(pl->evs[pl->nevs - 1].sock == sock &&
                pl->evs[pl->nevs - 1].events == HO_SO_RELEASED);
    struct ho_so_info si;
    assert_int_equal(ho_so_info(pl->os, sock, &si), HO_ENOENT);
    ho_os_info(pl->os, &info);
    assert_true(info.on_nic == 0 && info.sel_on_nic == 0 && info.closed == 0);
    assert_consistent(pl);
    tnic_run(&nic, pl->now + 3000 * MS);
    assert_true(pl->ceof[c]); /* the host's TCP sent the FIN */
    assert_true(pl->crecv[c] == 2000);
    assert_int_equal(tcpe_conn_state(pl->cc[c]), TCPE_CLOSE_WAIT);
    assert_int_equal(pl->ncmds, ncmds + 1);
    assert_int_equal(pl->faults, 0);
    tnic_free(&nic);
    plat_fini(pl);
}

/* ---- 6. bad input ----------------------------------------------------------------------- */

static void test_bad_messages(void **state)
{
    (void)state;
    struct ho_os_params op = os_params(4, fcfs);
    struct tt_host *pl = plat_new(&op);
    struct ho_cmd m = {.type = HO_CMD_SOFT_LIMIT};
    m.soft_limit.soft_limit = 2;
    m.soft_limit.hard_limit = 4;
    uint8_t good[64];
    int len = ho_cmd_encode(&m, good, sizeof good);
    assert_true(len > HO_CMD_HDR_SIZE);
    const struct {
        const char *what;
        int len;     /* -1: the whole message */
        int version; /* -1: as encoded */
        int type;    /* -1: as encoded */
    } rows[] = {
        {"empty", 0, -1, -1},
        {"one byte", 1, -1, -1},
        {"shorter than the header", HO_CMD_HDR_SIZE - 1, -1, -1},
        {"version 0", -1, 0, -1},
        {"version 2", -1, 2, -1},
        {"version 255", -1, 255, -1},
        {"HANDOFF goes to the NIC", -1, -1, HO_CMD_HANDOFF},
        {"RESTORE_REQUEST goes to the NIC", -1, -1, HO_CMD_RESTORE_REQUEST},
        {"SEND goes to the NIC", -1, -1, HO_CMD_SEND},
        {"RCVD goes to the NIC", -1, -1, HO_CMD_RCVD},
        {"CLOSE goes to the NIC", -1, -1, HO_CMD_CLOSE},
        {"type 0", -1, -1, 0},
        {"type 12", -1, -1, HO_CMD_TYPE_LAST + 1},
        {"type 255", -1, -1, 255},
        {"RESTORE's type on a SOFT_LIMIT's body", -1, -1, HO_CMD_RESTORE},
        {"a byte short of its length field", len - 1, -1, -1},
        {"a byte past its length field", len + 1, -1, -1},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        uint8_t buf[64] = {0};
        memcpy(buf, good, (size_t)len);
        if (rows[i].version >= 0) {
            buf[0] = (uint8_t)rows[i].version;
        }
        if (rows[i].type >= 0) {
            buf[1] = (uint8_t)rows[i].type;
        }
        uint32_t n = rows[i].len >= 0 ? (uint32_t)rows[i].len : (uint32_t)len;
        int rc = ho_os_msg(pl->os, buf, n, pl->now);
        if (rc != HO_EPROTO) {
            fail_msg("%s: %d, want HO_EPROTO", rows[i].what, rc);
        }
        assert_int_equal(pl->nlog, 0); /* nothing queued */
    }
    /* The good one is taken, and costs one message's work. */
    assert_int_equal(ho_os_msg(pl->os, good, (uint32_t)len, pl->now), HO_OK);
    assert_int_equal(pl->nq, 1);
    assert_work(&pl->q[0], HO_OS_PRIO_NET, HO_OS_CAT_NET, costs.msg_in, false, true);
    tt_host_settle(pl);
    assert_int_equal(pl->ncmds, 0);
    assert_consistent(pl);
    plat_fini(pl);
}

/*
 * An application may open sockets from inside its events. Here the NIC refuses a connection
 * whose client sent data while it was offered; the driver gives the data back and raises
 * READABLE, and the application accepts a waiting connection from inside that event, which
 * fills the OS's table of 1024 sockets and makes it grow. The driver must not use its pointer to
 * the refused socket after the event (AddressSanitizer reports a use after free if it does).
 */
static void test_accept_from_event(void **state)
{
    (void)state;
    struct ho_os_params op = os_params(1, fcfs);
    struct tt_host *pl = plat_new(&op);
    assert_int_equal(ho_so_listen(pl->os, 0, SERVER_PORT, 2048), 0);
    int a = tt_host_connect(pl, 7000);
    int sa = ho_so_accept(pl->os, pl->now); /* offered: the Soft limit's one connection */
    assert_true(sa > 0);
    tt_host_settle(pl);
    assert_int_equal(pl->ncmds, 1);
    /* Fill the table: socket 0 is the listener's, so 1022 more take the rest. */
    for (uint16_t i = 0; i < 1023; i++) {
        struct tcpe_tuple t = {.local_ip = CLIENT_IP,
                               .remote_ip = SERVER_IP,
                               .local_port = (uint16_t)(20000 + i),
                               .remote_port = SERVER_PORT};
        struct tcpe_conn *c;
        assert_int_equal(tcpe_connect(pl->client, &t, pl->now, &c), HO_OK);
        tt_host_settle(pl);
        if (i < 1022) {
            assert_true(ho_so_accept(pl->os, pl->now) > 0); /* on the host: no room on the NIC */
        }
    }
    tt_host_client_send(pl, a, 100);
    tt_host_settle(pl);
    struct ho_os_info info;
    ho_os_info(pl->os, &info);
    assert_true(info.pkts_held >= 1);
    pl->accept_on_readable = true;
    struct ho_cmd r = {.type = HO_CMD_HANDOFF_REPLY};
    r.handoff_reply.conn_id = (uint32_t)sa;
    r.handoff_reply.status = HO_CMD_REFUSED_SOFT_LIMIT;
    r.handoff_reply.soft_limit = 1;
    assert_int_equal(nic_msg(pl, &r), HO_OK);
    tt_host_settle(pl);
    assert_int_equal(pl->accepted_in_event, 1024);
    assert_int_equal(ho_so_readable(pl->os, (uint32_t)sa), 100);
    assert_true(has_event(pl, (uint32_t)sa, HO_SO_RESUMED));
    pl->accept_on_readable = false;
    assert_consistent(pl);
    plat_fini(pl);
}

/*
 * A socket call made from outside the OS's callbacks (an application on its own thread, as the
 * emulator's may be) still arms the TCP's timers: data sent that way is retransmitted when lost.
 */
static void test_call_from_outside_arms_timers(void **state)
{
    (void)state;
    struct ho_os_params op = os_params(0, never);
    struct tt_host *pl = plat_new(&op);
    int c;
    uint32_t s = open_conn(pl, 7100, &c);
    tt_host_settle(pl);
    assert_int_equal(pl->timer_when, TCPE_NEVER);
    assert_int_equal(ho_so_send(pl->os, s, 100, 0, 100, pl->now), 100);
    assert_true(pl->timer_when != TCPE_NEVER && pl->timer_when > pl->now);
    tt_host_settle(pl);
    plat_fini(pl);
}

/* ---- 7. consistency and teardown -------------------------------------------------------- */

static void test_check(void **state)
{
    (void)state;
    struct ho_os_params op = os_params(4, fcfs);
    struct tt_host *pl = plat_new(&op);
    assert_consistent(pl);
    /* Sockets in every place: on the NIC, on its way, on the host (the Soft limit lowered). */
    int c;
    uint32_t a = on_nic_conn(pl, 8000, &c);
    assert_consistent(pl);
    tt_host_connect(pl, 8001);
    int b = ho_so_accept(pl->os, pl->now);
    assert_true(b > 0);
    assert_consistent(pl);
    tt_host_settle(pl);
    struct ho_cmd m = {.type = HO_CMD_SOFT_LIMIT};
    m.soft_limit.soft_limit = 0;
    m.soft_limit.hard_limit = 4;
    assert_int_equal(nic_msg(pl, &m), HO_OK);
    tt_host_settle(pl);
    tt_host_connect(pl, 8002);
    int h = ho_so_accept(pl->os, pl->now);
    assert_true(h > 0);
    struct ho_os_info info;
    ho_os_info(pl->os, &info);
    assert_true(info.on_nic == 1 && info.offered == 1);
    assert_consistent(pl);
    /* The checker does catch an inconsistency (made through the private state: no public call
     * can make one). */
    char why[128] = "";
    pl->os->socks[h].where = OS_ON_NIC; /* on the NIC, yet the host's TCP holds it */
    assert_int_equal(ho_os_check(pl->os, why, sizeof why), -1);
    char want[64];
    snprintf(want, sizeof want, "server connection %d", h);
    assert_non_null(strstr(why, want));
    pl->os->socks[h].where = OS_HOST;
    pl->os->socks[a].where = OS_HOST; /* on the host, yet the host's TCP lacks it */
    assert_int_equal(ho_os_check(pl->os, why, sizeof why), -1);
    pl->os->socks[a].where = OS_ON_NIC;
    assert_consistent(pl);
    plat_fini(pl);
}

static void test_destroy_frees_held_packets(void **state)
{
    (void)state;
    static const uint32_t held[] = {0, 1, 3, 20};
    for (size_t r = 0; r < sizeof held / sizeof held[0]; r++) {
        struct ho_os_params op = os_params(4, fcfs);
        struct tt_host *pl = plat_new(&op);
        assert_int_equal(ho_so_listen(pl->os, 0, SERVER_PORT, 16), 0);
        int c = tt_host_connect(pl, 9000);
        assert_true(ho_so_accept(pl->os, pl->now) > 0);
        tt_host_settle(pl);
        for (uint32_t i = 0; i < held[r]; i++) {
            tt_host_client_send(pl, c, 10);
        }
        tt_host_settle(pl);
        struct ho_os_info info;
        ho_os_info(pl->os, &info);
        assert_true(info.pkts_held == held[r]);
        assert_int_equal(pl->nq, 0);
        uint64_t frees = pl->frees;
        uint64_t live = pl->allocs - pl->frees;
        assert_true(live == held[r] + pl->nwire + pl->nfwd);
        ho_os_destroy(pl->os);
        pl->os = NULL;
        assert_true(pl->frees - frees == held[r]);
        assert_true(pl->allocs - pl->frees == pl->nwire + pl->nfwd);
        plat_fini(pl);
    }
}

/*
 * The send side of the interface (os.h: tx_ring, ho_os_tx_done). The NIC's send ring takes
 * tx_ring packets and the interface queue in front of it tx_ring - 1 more; each descriptor the
 * NIC frees lets the oldest queued packet onto the ring. The TCP's next segment is refused
 * (ENOBUFS): counted, its sequence space backed out, and sent again, so the whole response still
 * arrives.
 */
static void test_send_ring(void **state)
{
    (void)state;
    const uint32_t seg = 1460;
    struct ho_os_info info;

    /* Ring 2, queue 1: the initial window's three segments fit, the third waits its turn. */
    struct ho_os_params op = os_params(0, never);
    op.tx_ring = 2;
    struct tt_host *pl = plat_new(&op);
    int c;
    uint32_t sock = open_conn(pl, 9100, &c);
    tt_host_settle(pl);
    assert_true(ho_so_send(pl->os, sock, 3 * seg, 0, 3 * seg, pl->now) == 3 * seg);
    assert_int_equal(pl->nq, 3);
    for (int k = 0; k < 3; k++) {
        tt_host_run_at(pl, 0);
    }
    ho_os_info(pl->os, &info);
    assert_int_equal(pl->nwire, 2);
    assert_int_equal(info.tx_posted, 2);
    assert_int_equal(info.ifq_len, 1);
    assert_true(info.ifq_drops == 0);
    tt_host_deliver_one(pl); /* its descriptor freed, the queued packet takes it */
    ho_os_info(pl->os, &info);
    assert_int_equal(pl->nwire, 2);
    assert_int_equal(info.tx_posted, 2);
    assert_int_equal(info.ifq_len, 0);
    tt_host_advance(pl, pl->now + 5000 * MS);
    assert_true(pl->crecv[c] == 3 * seg);
    plat_fini(pl);

    /* Ring 1, no queue: the second segment is refused, and comes later. */
    op.tx_ring = 1;
    pl = plat_new(&op);
    sock = open_conn(pl, 9101, &c);
    tt_host_settle(pl);
    assert_true(ho_so_send(pl->os, sock, 3 * seg, 0, 3 * seg, pl->now) == 3 * seg);
    assert_int_equal(pl->nq, 1);
    ho_os_info(pl->os, &info);
    assert_true(info.ifq_drops == 1);
    assert_true(info.tcp->output_refused == 1);
    assert_true(info.tcp->rexmt_segs == 0);
    tt_host_run_at(pl, 0);
    ho_os_info(pl->os, &info);
    assert_int_equal(pl->nwire, 1);
    assert_int_equal(info.tx_posted, 1);
    /* The client's ACKs let the rest go, the refused segment from where the first ended: its
     * sequence space was backed out, so it is no hole for a timeout (1 s) to find. */
    tt_host_advance(pl, pl->now + 500 * MS);
    ho_os_info(pl->os, &info);
    assert_true(pl->crecv[c] == 3 * seg);
    assert_true(info.ifq_drops == info.tcp->output_refused);
    assert_true(info.tcp->rexmt_segs >= 1); /* the refused segment, sent again */
    assert_true(info.tcp->timeouts == 0);
    assert_int_equal(info.tx_posted, 0);
    assert_int_equal(info.ifq_len, 0);
    plat_fini(pl);
}

/* ---- regressions: restoring sockets ------------------------------------------------------- */

/* os.h, ho_os_restore: "Until the RESTORE arrives the socket reads what was delivered": a RECV
 * for a restoring socket raises READABLE, and ho_so_read (virtual payload) reads it (it once
 * read only sockets on the NIC). */
static void test_read_while_restoring(void **state)
{
    (void)state;
    struct ho_os_params op = os_params(4, fcfs);
    struct tt_host *pl = plat_new(&op);
    int c;
    uint32_t sock = on_nic_conn(pl, 9600, &c);
    assert_int_equal(ho_os_restore(pl->os, sock, pl->now), HO_OK);
    tt_host_settle(pl);
    nic_recv(pl, sock, 300, false);
    tt_host_settle(pl);
    assert_true(has_event(pl, sock, HO_SO_READABLE));
    assert_int_equal(ho_so_readable(pl->os, sock), 300);
    bool eof = true;
    int n = ho_so_read(pl->os, sock, pl->now, &eof);
    if (n != 300) {
        fail_msg("ho_so_read on a restoring socket returned %d; ho_so_readable said 300", n);
    }
    plat_fini(pl);
}

/* Bytes the NIC delivered (RECV) and the application has not read stay readable when the
 * RESTORE comes (virtual payload, where no buffer holds them and rx_ready counts them), and eof
 * waits until they are read (they were once dropped, and eof said with 300 bytes unread). */
static void test_delivered_bytes_lost_at_restore(void **state)
{
    (void)state;
    static const bool fins[] = {false, true};
    char wrong[256] = "";
    for (size_t r = 0; r < 2; r++) {
        struct ho_os_params op = os_params(4, fcfs);
        struct tt_host *pl = plat_new(&op);
        int c;
        uint32_t sock = on_nic_conn(pl, (uint16_t)(9610 + r), &c);
        struct tnic nic;
        tnic_attach(&nic, pl, pl->ncmds - 1);
        tt_host_client_send(pl, c, 300);
        if (fins[r]) {
            assert_int_equal(tcpe_shutdown(pl->cc[c], pl->now), HO_OK);
        }
        tnic_pump(&nic); /* RECV 300 (and FIN): the application has not read yet */
        assert_int_equal(ho_so_readable(pl->os, sock), 300);
        assert_int_equal(ho_os_restore(pl->os, sock, pl->now), HO_OK);
        tnic_pump(&nic); /* RESTORE */
        assert_int_equal(so_info(pl, sock).where, HO_SO_HOST);
        uint32_t left = ho_so_readable(pl->os, sock);
        bool eof = ho_so_eof(pl->os, sock);
        tnic_free(&nic);
        plat_fini(pl);
        if (left != 300 || eof) {
            size_t used = strlen(wrong);
            snprintf(wrong + used, sizeof wrong - used,
                     "%s%s: after the RESTORE ho_so_readable is %u (want 300), ho_so_eof %d "
                     "(want 0)",
                     used ? "; " : "", fins[r] ? "data and FIN" : "data", left, eof);
        }
    }
    if (wrong[0]) {
        fail_msg("%s", wrong);
    }
}

/* A packet of the connection that reaches the host while the socket is restoring goes to the
 * NIC, which still holds the connection until its RESTORE (it was once held for ever, never
 * given to anyone). Its bytes then come back inside the state and reach the application. */
static void test_packet_held_while_restoring(void **state)
{
    (void)state;
    struct ho_os_params op = os_params(4, fcfs);
    struct tt_host *pl = plat_new(&op);
    int c;
    uint32_t sock = on_nic_conn(pl, 9620, &c);
    struct tnic nic;
    tnic_attach(&nic, pl, pl->ncmds - 1);
    nic.answer_restore = false;
    assert_int_equal(ho_os_restore(pl->os, sock, pl->now), HO_OK);
    tnic_pump(&nic);
    size_t fwd = pl->nfwd;
    tt_host_client_send(pl, c, 100); /* reaches the host before the RESTORE is taken */
    tt_host_settle(pl);
    struct ho_os_info info;
    ho_os_info(pl->os, &info);
    assert_int_equal(info.pkts_held, 0);
    assert_int_equal(pl->nfwd, fwd + 1); /* forwarded to the NIC */
    nic.answer_restore = true;
    tnic_pump(&nic); /* the NIC's TCP takes it, then the RESTORE */
    assert_int_equal(so_info(pl, sock).where, HO_SO_HOST);
    ho_os_info(pl->os, &info);
    assert_int_equal(info.pkts_held, 0);
    assert_int_equal(ho_so_readable(pl->os, sock), 100);
    bool eof;
    assert_int_equal(ho_so_read(pl->os, sock, pl->now, &eof), 100);
    ho_so_close(pl->os, sock, pl->now);
    tnic_run(&nic, pl->now + 3000 * MS);
    tnic_free(&nic);
    plat_fini(pl);
}

/* ho_os_restore on a socket the application has closed (its CLOSE sent, waiting for the
 * CLOSED) is refused: a RESTORE would bring the connection back as if it were open, resume an
 * application that closed it, and leave the socket unreleased. */
static void test_restore_after_close(void **state)
{
    (void)state;
    struct ho_os_params op = os_params(4, fcfs);
    struct tt_host *pl = plat_new(&op);
    int c;
    uint32_t sock = on_nic_conn(pl, 9630, &c);
    struct tnic nic;
    tnic_attach(&nic, pl, pl->ncmds - 1);
    ho_so_close(pl->os, sock, pl->now);
    tnic_pump(&nic); /* CLOSE: the NIC's TCP sends its FIN (FIN_WAIT_1, then FIN_WAIT_2) */
    assert_false(has_event(pl, sock, HO_SO_RELEASED));
    int rc = ho_os_restore(pl->os, sock, pl->now);
    size_t nevs = pl->nevs;
    if (rc == HO_OK) {
        tnic_pump(&nic); /* RESTORE */
        tnic_run(&nic, pl->now + 100000 * MS);
    }
    bool resumed = event_at(pl, nevs, sock, HO_SO_RESUMED) != SIZE_MAX;
    bool released = has_event(pl, sock, HO_SO_RELEASED);
    tnic_free(&nic);
    plat_fini(pl);
    if (rc == HO_OK && (resumed || !released)) {
        fail_msg("restore of a closed socket: HO_OK, then RESUMED %d, RELEASED %d", resumed,
                 released);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_conn_record, teardown),
        cmocka_unit_test_teardown(test_bn_gives_back_when_drained, teardown),
        cmocka_unit_test_teardown(test_read_while_restoring, teardown),
        cmocka_unit_test_teardown(test_delivered_bytes_lost_at_restore, teardown),
        cmocka_unit_test_teardown(test_packet_held_while_restoring, teardown),
        cmocka_unit_test_teardown(test_restore_after_close, teardown),
        cmocka_unit_test_teardown(test_create_checks_params, teardown),
        cmocka_unit_test_teardown(test_packet_work, teardown),
        cmocka_unit_test_teardown(test_timers, teardown),
        cmocka_unit_test_teardown(test_send_ring, teardown),
        cmocka_unit_test_teardown(test_syscall_and_user_work, teardown),
        cmocka_unit_test_teardown(test_socket_layer_on_host, teardown),
        cmocka_unit_test_teardown(test_reset_releases_socket, teardown),
        cmocka_unit_test_teardown(test_handoff_fcfs, teardown),
        cmocka_unit_test_teardown(test_close_while_offered, teardown),
        cmocka_unit_test_teardown(test_soft_limit_message, teardown),
        cmocka_unit_test_teardown(test_bypass_protocol, teardown),
        cmocka_unit_test_teardown(test_threshold_selection, teardown),
        cmocka_unit_test_teardown(test_restore_calls, teardown),
        cmocka_unit_test_teardown(test_restore_round_trip, teardown),
        cmocka_unit_test_teardown(test_restore_then_closed, teardown),
        cmocka_unit_test_teardown(test_close_while_restoring, teardown),
        cmocka_unit_test_teardown(test_bad_messages, teardown),
        cmocka_unit_test_teardown(test_accept_from_event, teardown),
        cmocka_unit_test_teardown(test_call_from_outside_arms_timers, teardown),
        cmocka_unit_test_teardown(test_check, teardown),
        cmocka_unit_test_teardown(test_destroy_frees_held_packets, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
