/*
 * test_nic.c - the NIC firmware (include/handoff/nic.h) against a fake platform, not the
 * simulator.
 *
 * The fake platform implements struct ho_nic_ops and records everything the firmware does to
 * it: frames sent to the wire, packets and messages given to the host (each message decoded with
 * ho_cmd_decode and checked to travel to the host with the next sequence number), doorbells,
 * timer requests, faults, and every packet it allocates (malloc, numbered) and gets back through
 * pkt_free. It never starts work on its own: each test drives the firmware with explicit times
 * through ho_nic_wire_rx / ho_nic_host_tx / ho_nic_forward / ho_nic_cmd / ho_nic_timer and runs
 * the work itself with ho_nic_begin + ho_nic_end, spending one nanosecond per instruction, and
 * checks each piece's queue, cost and category against the cost table in the parameters. At the
 * end of every test the firmware is destroyed and packets are counted: every packet allocated
 * must have gone to the wire, to the host or back through pkt_free.
 *
 * The connections handed to the NIC are real: a "host" TCP engine stack and a "peer" stack
 * (virtual payload, as in the simulator) open them by exchanging segments in memory, the host's
 * end is exported with tcpe_export and wrapped in a HANDOFF command, and from then on the peer's
 * segments reach the firmware as frames from the wire and the firmware's frames go back to the
 * peer. The expected number of lookup probes of every received frame comes from a second lookup
 * table built as nic.h documents the firmware's (same capacity, seed ^ 0x100c, same inserts and
 * removes).
 *
 * Covered: the plain NIC (no handoff), the receive memory and its drops, the two scheduling
 * disciplines with NIC_TX always first, handoff accepted and refused, receiving and sending on
 * the NIC with the ACK and RECV/ACKED messages they produce (ACK aggregation by timer and by
 * byte count), load control's Soft limit and its advertisements, the Hard limit and slot reuse,
 * connections ending (close, reset, timeout), malformed commands, the TCP timer debt, destroy
 * returning every packet, and giving connections back: RESTORE_REQUEST and its RESTORE (whose
 * state the host's stack imports and carries on with), NIC packets of a restored connection
 * already queued, and commands that arrive late for connections no longer on the NIC. Four
 * tests hold the firmware to finer clauses of its contract, each quoted where it is checked:
 * parameters out of range (test_create_out_of_range), a connection id handed off twice
 * (test_handoff_duplicate_id), commands checked when they arrive (test_cmd_checked_on_arrival),
 * and the doorbell (test_doorbell).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/ackagg.h"
#include "handoff/cmd.h"
#include "handoff/err.h"
#include "handoff/lookup.h"
#include "handoff/nic.h"
#include "handoff/pkt.h"
#include "handoff/sched.h"
#include "handoff/tcpe.h"

#define US  1000ull
#define MS  1000000ull
#define SEC 1000000000ull

#define CLIENT_IP   0x0a000001u /* the peer */
#define SERVER_IP   0x0a000002u /* the host, and the NIC for the connections handed to it */
#define SERVER_PORT 80
#define OTHER_IP    0x0a000063u /* a client with no connection on the NIC */

#define HR HO_SCHED_HOST_RX
#define HT HO_SCHED_HOST_TX
#define NR HO_SCHED_NIC_RX
#define CM HO_SCHED_CMD
#define NT HO_SCHED_NIC_TX

#define CAT_HOST HO_NIC_CAT_HOST
#define CAT_TCP  HO_NIC_CAT_TCP
#define CAT_MSG  HO_NIC_CAT_MSG

#define MAXREC 1024 /* records of each kind one test may produce */
#define MAXID  8192 /* packets one test may allocate */

/* ---- the fake platform ------------------------------------------------------------------ */

struct rec_pkt {
    struct ho_pkt *p; /* the platform's from now on */
    uint64_t t;       /* when the firmware handed it over */
};

struct rec_msg {
    struct ho_cmd cmd; /* decoded; a RESTORE's state points into blob */
    uint8_t *blob;     /* a RESTORE's state blob, copied (the message is valid only during the
                          call) */
    uint64_t t;
};

struct fake {
    struct ho_nic *nic;
    struct ho_nic_params params;
    uint64_t now; /* the test's clock */

    struct rec_pkt wire[MAXREC]; /* frames for the wire */
    size_t nwire, wire_seen;     /* recorded; of those, given to the peer */
    struct rec_pkt host[MAXREC]; /* packets for the host */
    size_t nhost;
    struct rec_msg msg[MAXREC]; /* messages for the driver */
    size_t nmsg, msg_seen;      /* recorded; of those, looked at by the test */
    uint32_t msg_seq;           /* sequence number the next message must carry */

    unsigned ready; /* doorbells */
    unsigned timer_calls[HO_NIC_NTIMERS];
    uint64_t timer_when[HO_NIC_NTIMERS]; /* the last deadline asked for, HO_NIC_NEVER if none */
    uint64_t timer_set_at[HO_NIC_NTIMERS];
    unsigned faults;
    char fault[64];
    unsigned tx_done; /* send-ring descriptors freed (ops.host_tx_done) */

    uint32_t next_id;      /* ids of the packets allocated */
    unsigned allocs;       /* packets allocated (by the test and for the firmware) */
    unsigned fw_allocs;    /* of those, through ops.pkt_alloc */
    unsigned fw_frees;     /* ops.pkt_free calls */
    uint32_t last_freed;   /* id of the last packet given back */
    uint8_t probes[MAXID]; /* expected lookup probes of each received frame, by id */

    uint32_t cmd_seq;         /* sequence number of the next command to the NIC */
    uint8_t cmd_type[MAXREC]; /* the commands given to the NIC, in order */
    size_t ncmd, cmd_taken;   /* given; taken from CMD by work */

    struct ho_lookup *oracle; /* the lookup table the firmware should have */
};

static struct fake *fake_of(void *ctx)
{
    return ctx;
}

static struct ho_pkt *fake_pkt(struct fake *f, const struct tcpe_seg *seg)
{
    assert_true(f->next_id < MAXID);
    struct ho_pkt *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->seg = *seg;
    p->seg.data = NULL; /* virtual payload */
    p->frame_bytes = 54 + seg->len;
    p->id = f->next_id++;
    p->t_nic = UINT64_MAX; /* the firmware sets it */
    f->allocs++;
    return p;
}

static void op_wire_tx(void *ctx, struct ho_pkt *p, uint64_t now)
{
    struct fake *f = fake_of(ctx);
    assert_true(f->nwire < MAXREC);
    f->wire[f->nwire++] = (struct rec_pkt){p, now};
}

static void op_host_rx(void *ctx, struct ho_pkt *p, uint64_t now)
{
    struct fake *f = fake_of(ctx);
    assert_true(f->nhost < MAXREC);
    f->host[f->nhost++] = (struct rec_pkt){p, now};
}

static void op_host_msg(void *ctx, const uint8_t *msg, uint32_t len, uint64_t now)
{
    struct fake *f = fake_of(ctx);
    assert_true(f->nmsg < MAXREC);
    struct rec_msg *m = &f->msg[f->nmsg++];
    assert_int_equal(ho_cmd_decode(msg, len, &m->cmd), HO_OK);
    assert_int_equal(ho_cmd_type_dir(m->cmd.type), HO_CMD_TO_HOST);
    assert_int_equal(m->cmd.seq, f->msg_seq);
    f->msg_seq++;
    m->t = now;
    m->blob = NULL;
    if (m->cmd.type == HO_CMD_RESTORE && m->cmd.restore.state.len > 0) {
        m->blob = malloc(m->cmd.restore.state.len);
        assert_non_null(m->blob);
        memcpy(m->blob, m->cmd.restore.state.data, m->cmd.restore.state.len);
        m->cmd.restore.state.data = m->blob;
    }
}

static void op_ready(void *ctx, uint64_t now)
{
    struct fake *f = fake_of(ctx);
    assert_true(now == f->now);
    f->ready++;
}

static void op_timer(void *ctx, enum ho_nic_timer which, uint64_t when, uint64_t now)
{
    struct fake *f = fake_of(ctx);
    assert_true((unsigned)which < HO_NIC_NTIMERS);
    assert_true(now == f->now);
    f->timer_calls[which]++;
    f->timer_when[which] = when;
    f->timer_set_at[which] = now;
}

static struct ho_pkt *op_pkt_alloc(void *ctx, const struct tcpe_seg *seg)
{
    struct fake *f = fake_of(ctx);
    f->fw_allocs++;
    return fake_pkt(f, seg);
}

static void op_pkt_free(void *ctx, struct ho_pkt *p)
{
    struct fake *f = fake_of(ctx);
    assert_non_null(p);
    f->fw_frees++;
    f->last_freed = p->id;
    free(p);
}

static void op_fault(void *ctx, const char *what)
{
    struct fake *f = fake_of(ctx);
    f->faults++;
    snprintf(f->fault, sizeof f->fault, "%s", what);
}

static void op_host_tx_done(void *ctx, uint64_t now)
{
    struct fake *f = fake_of(ctx);
    assert_true(now == f->now);
    f->tx_done++;
}

static const struct ho_nic_ops fake_ops = {
    .wire_tx = op_wire_tx,
    .host_rx = op_host_rx,
    .host_msg = op_host_msg,
    .ready = op_ready,
    .timer = op_timer,
    .pkt_alloc = op_pkt_alloc,
    .pkt_free = op_pkt_free,
    .fault = op_fault,
    .host_tx_done = op_host_tx_done,
};

/* Parameters with distinct costs, so that one charged in place of another shows. */
static struct ho_nic_params base_params(uint32_t hard_limit)
{
    struct ho_nic_params p = {
        .hard_limit = hard_limit,
        .host_first = false,
        .load_control = false,
        .hiwat = 64,
        .lowat = 8,
        .lc_step = 4,
        .rx_queue = 256,
        .tx_ring = 64,
        .virtual_payload = true,
        .mss = 1460,
        .sndbuf = 1u << 17,
        .rcvbuf = 1u << 16,
        .delack_ns = 0,
        .seed = 0x5eed,
        .costs =
            {
                .host_rx = 1000,
                .host_tx = 1100,
                .lookup_probe = 7,
                .tcp_rx = 3000,
                .tcp_tx = 2000,
                .timer = 900,
                .cmd = 500,
                .handoff = 10000,
                .msg = 400,
                .scale_pct = 150,
            },
    };
    return p;
}

static struct fake *fake_new(const struct ho_nic_params *p)
{
    struct fake *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->params = *p;
    for (int i = 0; i < HO_NIC_NTIMERS; i++) {
        f->timer_when[i] = HO_NIC_NEVER;
    }
    f->next_id = 1;
    assert_int_equal(ho_nic_create(p, &fake_ops, f, &f->nic), HO_OK);
    assert_non_null(f->nic);
    if (p->hard_limit > 0) {
        struct ho_lookup_params lp = {.capacity = p->hard_limit, .hash_seed = p->seed ^ 0x100c};
        f->oracle = ho_lookup_create(&lp);
        assert_non_null(f->oracle);
    }
    return f;
}

/* Destroys the firmware and checks that every packet is accounted for. */
static void fake_free(struct fake *f)
{
    ho_nic_destroy(f->nic);
    f->nic = NULL;
    assert_int_equal(f->allocs, f->fw_frees + f->nwire + f->nhost);
    for (size_t i = 0; i < f->nwire; i++) {
        free(f->wire[i].p);
    }
    for (size_t i = 0; i < f->nhost; i++) {
        free(f->host[i].p);
    }
    for (size_t i = 0; i < f->nmsg; i++) {
        free(f->msg[i].blob);
    }
    ho_lookup_destroy(f->oracle);
    free(f);
}

static uint64_t scaled(const struct fake *f, uint64_t instr)
{
    return instr * f->params.costs.scale_pct / 100;
}

static struct ho_nic_info info_of(const struct fake *f)
{
    struct ho_nic_info i;
    ho_nic_info(f->nic, &i);
    return i;
}

/* ---- driving the firmware ----------------------------------------------------------------- */

static struct tcpe_seg mkseg(uint32_t src, uint16_t sport, uint32_t dst, uint16_t dport,
                             uint8_t flags, uint32_t len)
{
    struct tcpe_seg s;
    memset(&s, 0, sizeof s);
    s.src_ip = src;
    s.dst_ip = dst;
    s.src_port = sport;
    s.dst_port = dport;
    s.seq = 1000;
    s.ack = 2000;
    s.flags = flags;
    s.wnd = 65535;
    s.len = len;
    return s;
}

/* A frame arrives from the wire at f->now; its expected probes come from the oracle. */
static struct ho_pkt *wire_in(struct fake *f, const struct tcpe_seg *seg)
{
    struct ho_pkt *p = fake_pkt(f, seg);
    if (f->oracle) {
        struct tcpe_tuple key = ho_lookup_key_from_rx(seg);
        (void)ho_lookup_find(f->oracle, &key);
        f->probes[p->id] = (uint8_t)ho_lookup_last_probes(f->oracle);
        assert_true(f->probes[p->id] >= 1);
    }
    ho_nic_wire_rx(f->nic, p, f->now);
    return p;
}

static struct ho_pkt *host_out(struct fake *f, const struct tcpe_seg *seg)
{
    struct ho_pkt *p = fake_pkt(f, seg);
    assert_int_equal(ho_nic_host_tx(f->nic, p, f->now), HO_OK);
    return p;
}

static struct ho_pkt *forward_in(struct fake *f, const struct tcpe_seg *seg)
{
    struct ho_pkt *p = fake_pkt(f, seg);
    ho_nic_forward(f->nic, p, f->now); /* no lookup: probes stay 0 */
    return p;
}

/* Encodes cmd with the next command sequence number and gives it to the firmware. */
static int cmd_in(struct fake *f, struct ho_cmd *cmd)
{
    cmd->seq = f->cmd_seq;
    int len = ho_cmd_size(cmd);
    assert_true(len > 0);
    uint8_t *buf = malloc((size_t)len);
    assert_non_null(buf);
    assert_int_equal(ho_cmd_encode(cmd, buf, (size_t)len), len);
    int rc = ho_nic_cmd(f->nic, buf, (uint32_t)len, f->now);
    free(buf);
    if (rc == HO_OK) {
        assert_true(f->ncmd < MAXREC);
        f->cmd_type[f->ncmd++] = cmd->type;
        f->cmd_seq++;
    }
    return rc;
}

static void send_cmd(struct fake *f, uint32_t conn_id, uint32_t len)
{
    struct ho_cmd c = {.type = HO_CMD_SEND};
    c.send.conn_id = conn_id;
    c.send.len = len;
    c.send.addr = 0x1000;
    assert_int_equal(cmd_in(f, &c), HO_OK);
}

static void close_cmd(struct fake *f, uint32_t conn_id)
{
    struct ho_cmd c = {.type = HO_CMD_CLOSE};
    c.close.conn_id = conn_id;
    c.close.how = HO_CMD_CLOSE_CLOSE;
    assert_int_equal(cmd_in(f, &c), HO_OK);
}

static void restore_cmd(struct fake *f, uint32_t conn_id)
{
    struct ho_cmd c = {.type = HO_CMD_RESTORE_REQUEST};
    c.restore_request.conn_id = conn_id;
    c.restore_request.reason = HO_CMD_RREQ_RECLAIM;
    assert_int_equal(cmd_in(f, &c), HO_OK);
}

/* What a piece of work should cost and where its instructions go, from the cost table. */
static uint64_t model_cost(struct fake *f, const struct ho_nic_work *w, uint8_t *cat)
{
    const struct ho_nic_costs *k = &f->params.costs;
    uint64_t probes = w->pkt ? f->probes[w->pkt->id] : 0;
    switch (w->item.queue) {
    case HO_SCHED_HOST_RX:
        *cat = CAT_HOST;
        return k->host_rx + probes * k->lookup_probe;
    case HO_SCHED_HOST_TX:
        *cat = CAT_HOST;
        return k->host_tx;
    case HO_SCHED_NIC_RX:
        *cat = CAT_TCP;
        return scaled(f, k->tcp_rx) + probes * k->lookup_probe;
    case HO_SCHED_NIC_TX:
        *cat = w->pkt ? CAT_TCP : CAT_MSG;
        return scaled(f, w->pkt ? k->tcp_tx : k->msg);
    case HO_SCHED_CMD: {
        *cat = CAT_MSG;
        assert_true(f->cmd_taken < f->ncmd);
        uint8_t type = f->cmd_type[f->cmd_taken];
        /* A RESTORE_REQUEST exports a connection: it costs what a HANDOFF's import does. */
        bool moves = type == HO_CMD_HANDOFF || type == HO_CMD_RESTORE_REQUEST;
        return scaled(f, k->cmd + (moves ? k->handoff : 0));
    }
    default:
        fail_msg("work from queue %d", (int)w->item.queue);
    }
    return 0;
}

/* One piece of work, as the platform sees it. */
struct done {
    struct ho_nic_work w;
    uint32_t id;    /* its packet's id, 0 for a message */
    uint64_t t_nic; /* its packet's t_nic at begin */
    uint64_t ended; /* when its instructions had run (ho_nic_end) */
    unsigned rang;  /* doorbells during ho_nic_end */
    uint32_t grew;  /* items it queued: on the queues after ho_nic_end minus before */
};

/*
 * Takes the next piece of work at f->now, checks its cost and category against the cost table
 * and that peek announced it, spends its instructions (and any timer debt) and carries it out.
 */
static struct done run_one(struct fake *f)
{
    struct done d;
    memset(&d, 0, sizeof d);
    struct ho_sched_item peeked;
    assert_int_equal(ho_nic_peek(f->nic, &peeked), HO_OK);
    assert_true(ho_nic_begin(f->nic, f->now, &d.w));
    assert_int_equal(peeked.queue, d.w.item.queue);
    assert_true(peeked.seq == d.w.item.seq);
    if (d.w.pkt) {
        d.id = d.w.pkt->id;
        d.t_nic = d.w.pkt->t_nic;
        assert_true(d.t_nic <= f->now);
    }
    uint8_t cat;
    uint64_t cost = model_cost(f, &d.w, &cat);
    if (d.w.item.queue == HO_SCHED_CMD) {
        f->cmd_taken++;
    }
    assert_int_equal(d.w.cost, cost);
    assert_int_equal(d.w.cat, cat);
    f->now += d.w.timer_cost + d.w.cost;
    d.ended = f->now;
    uint32_t before = info_of(f).queued;
    unsigned ready = f->ready;
    struct ho_nic_work mine = d.w; /* the platform's own copy */
    ho_nic_end(f->nic, &mine, f->now);
    d.rang = f->ready - ready;
    uint32_t after = info_of(f).queued;
    d.grew = after > before ? after - before : 0;
    return d;
}

/* run_one, expecting work from queue q with the given cost and category. */
static struct done expect_work(struct fake *f, enum ho_sched_queue q, uint64_t cost, uint8_t cat)
{
    struct ho_sched_item peeked;
    assert_int_equal(ho_nic_peek(f->nic, &peeked), HO_OK);
    if (peeked.queue != q) {
        fail_msg("next work from %s, expected %s", ho_sched_queue_name(peeked.queue),
                 ho_sched_queue_name(q));
    }
    struct done d = run_one(f);
    assert_int_equal(d.w.cost, cost);
    assert_int_equal(d.w.cat, cat);
    return d;
}

/* Runs every piece of work there is. Returns how many. */
static unsigned run_all(struct fake *f)
{
    unsigned n = 0;
    struct ho_sched_item it;
    while (ho_nic_peek(f->nic, &it) == HO_OK) {
        run_one(f);
        n++;
    }
    struct ho_nic_work w;
    assert_false(ho_nic_begin(f->nic, f->now, &w));
    return n;
}

static void expect_idle(struct fake *f)
{
    struct ho_sched_item it;
    assert_int_equal(ho_nic_peek(f->nic, &it), HO_EAGAIN);
    struct ho_nic_info i = info_of(f);
    assert_int_equal(i.queued, 0);
    assert_int_equal(i.queued_pkts, 0);
    assert_int_equal(i.qlen, 0);
}

/* The next message the test has not looked at; it must be of the given type. */
static const struct ho_cmd *next_msg(struct fake *f, uint8_t type)
{
    if (f->msg_seen >= f->nmsg) {
        fail_msg("no message, expected %s", ho_cmd_type_name(type));
    }
    const struct ho_cmd *c = &f->msg[f->msg_seen++].cmd;
    if (c->type != type) {
        fail_msg("message %s, expected %s", ho_cmd_type_name(c->type), ho_cmd_type_name(type));
    }
    return c;
}

static void no_more_msgs(const struct fake *f)
{
    if (f->msg_seen != f->nmsg) {
        fail_msg("unexpected message %s", ho_cmd_type_name(f->msg[f->msg_seen].cmd.type));
    }
}

/* ---- the TCP peer and the host's stack ---------------------------------------------------- */

#define MAXSEGS 512

struct segq {
    struct tcpe_seg s[MAXSEGS];
    size_t n;
};

struct net {
    struct tcpe_stack *peer; /* the clients, on the other side of the wire */
    struct tcpe_stack *host; /* the host's stack, where connections open */
    struct tcpe_conn *lsn;
    struct segq peer_out, host_out;
};

static int q_output(void *ctx, const struct tcpe_seg *seg)
{
    struct segq *q = ctx;
    assert_true(q->n < MAXSEGS);
    q->s[q->n] = *seg;
    q->s[q->n].data = NULL;
    q->n++;
    return HO_OK;
}

static struct net *net_new(void)
{
    struct net *nt = calloc(1, sizeof *nt);
    assert_non_null(nt);
    struct tcpe_params p;
    tcpe_params_init(&p);
    p.virtual_payload = true;
    p.nodelay = true;
    p.delack = 0; /* the peer ACKs every segment at once */
    p.ops.output = q_output;
    p.ctx = &nt->peer_out;
    p.seed = 11;
    assert_int_equal(tcpe_stack_create(&p, &nt->peer), HO_OK);
    p.ctx = &nt->host_out;
    p.seed = 12;
    assert_int_equal(tcpe_stack_create(&p, &nt->host), HO_OK);
    assert_int_equal(tcpe_listen(nt->host, SERVER_IP, SERVER_PORT, 0, &nt->lsn), HO_OK);
    return nt;
}

static void net_free(struct net *nt)
{
    tcpe_stack_destroy(nt->peer);
    tcpe_stack_destroy(nt->host);
    free(nt);
}

/* A connection between the peer and the host's stack, established at now. */
struct conn {
    struct tcpe_conn *peer;  /* the peer's end */
    struct tcpe_conn *srv;   /* the host's end, until it is handed off */
    struct tcpe_tuple tuple; /* from the server's side */
    uint32_t id;             /* the driver's id */
};

static void net_open(struct net *nt, struct conn *c, uint16_t port, uint32_t id, uint64_t now)
{
    struct tcpe_tuple t = {.local_ip = CLIENT_IP,
                           .remote_ip = SERVER_IP,
                           .local_port = port,
                           .remote_port = SERVER_PORT};
    assert_int_equal(nt->peer_out.n, 0);
    assert_int_equal(tcpe_connect(nt->peer, &t, now, &c->peer), HO_OK);
    while (nt->peer_out.n || nt->host_out.n) {
        struct segq q = nt->peer_out;
        nt->peer_out.n = 0;
        for (size_t i = 0; i < q.n; i++) {
            tcpe_stack_input(nt->host, &q.s[i], now);
        }
        q = nt->host_out;
        nt->host_out.n = 0;
        for (size_t i = 0; i < q.n; i++) {
            tcpe_stack_input(nt->peer, &q.s[i], now);
        }
    }
    c->srv = tcpe_accept(nt->lsn);
    assert_non_null(c->srv);
    assert_int_equal(tcpe_conn_state(c->srv), TCPE_ESTABLISHED);
    assert_int_equal(tcpe_conn_state(c->peer), TCPE_ESTABLISHED);
    c->tuple = *tcpe_conn_tuple(c->srv);
    assert_int_equal(c->tuple.local_ip, SERVER_IP);
    assert_int_equal(c->tuple.remote_port, port);
    c->id = id;
}

/* Exchanges segments between the peer and the host's stack (no NIC between them: a connection
 * the NIC gave back) until neither has anything to send. */
static void net_pump(struct net *nt, uint64_t now)
{
    for (int round = 0; nt->peer_out.n || nt->host_out.n; round++) {
        assert_true(round < 1000);
        struct segq q = nt->peer_out;
        nt->peer_out.n = 0;
        for (size_t i = 0; i < q.n; i++) {
            tcpe_stack_input(nt->host, &q.s[i], now);
        }
        q = nt->host_out;
        nt->host_out.n = 0;
        for (size_t i = 0; i < q.n; i++) {
            tcpe_stack_input(nt->peer, &q.s[i], now);
        }
    }
}

/* Gives the firmware the peer's pending segments, as frames from the wire. */
static size_t to_nic(struct fake *f, struct net *nt)
{
    size_t n = nt->peer_out.n;
    for (size_t i = 0; i < n; i++) {
        wire_in(f, &nt->peer_out.s[i]);
    }
    nt->peer_out.n = 0;
    return n;
}

/* Gives the peer the frames the firmware sent since last time. */
static size_t to_peer(struct fake *f, struct net *nt)
{
    size_t n = 0;
    for (; f->wire_seen < f->nwire; f->wire_seen++, n++) {
        tcpe_stack_input(nt->peer, &f->wire[f->wire_seen].p->seg, f->now);
    }
    return n;
}

/* Loses the frames the firmware sent since last time. */
static size_t lose_wire(struct fake *f)
{
    size_t n = f->nwire - f->wire_seen;
    f->wire_seen = f->nwire;
    return n;
}

/* Runs the firmware and the peer until neither has anything left to do (no timers fire). */
static void settle(struct fake *f, struct net *nt)
{
    for (int round = 0; round < 1000; round++) {
        size_t moved = run_all(f);
        moved += to_peer(f, nt);
        moved += to_nic(f, nt);
        if (moved == 0) {
            return;
        }
        f->now += 1 * US;
    }
    fail_msg("the firmware and the peer did not settle");
}

/* Exports the host's end of c and hands it to the firmware (HANDOFF); detaches it from the
 * host's stack if detach. Returns the command's sequence number. */
static uint32_t handoff_cmd(struct fake *f, struct conn *c, bool detach)
{
    int need = tcpe_export(c->srv, f->now, NULL, 0);
    assert_true(need > 0);
    uint8_t *blob = malloc((size_t)need);
    assert_non_null(blob);
    assert_int_equal(tcpe_export(c->srv, f->now, blob, (size_t)need), need);
    struct ho_cmd cmd = {.type = HO_CMD_HANDOFF};
    cmd.handoff.conn_id = c->id;
    cmd.handoff.tuple = c->tuple;
    cmd.handoff.sockbuf.snd_unacked = tcpe_conn_unacked(c->srv);
    cmd.handoff.sockbuf.rcv_space = 65536;
    cmd.handoff.state.len = (uint32_t)need;
    cmd.handoff.state.data = blob;
    uint32_t seq = f->cmd_seq;
    assert_int_equal(cmd_in(f, &cmd), HO_OK);
    free(blob);
    if (detach) {
        tcpe_detach(c->srv);
        c->srv = NULL;
    }
    return seq;
}

/*
 * Runs the HANDOFF just queued (the next work must be it) and the NIC_TX messages up to its
 * reply, and returns the reply. A SOFT_LIMIT the admission causes comes before the reply (it is
 * skipped here: callers check the Soft limit through ho_nic_info); a RECV of data that came with
 * the state comes after it and is left queued.
 */
static struct ho_cmd_handoff_reply take_handoff(struct fake *f, const struct conn *c, uint32_t seq)
{
    const struct ho_nic_costs *k = &f->params.costs;
    assert_int_equal(f->msg_seen, f->nmsg); /* the caller has seen every earlier message */
    expect_work(f, CM, scaled(f, k->cmd + k->handoff), CAT_MSG);
    assert_int_equal(f->nmsg, f->msg_seen); /* the reply waits on NIC_TX */
    for (;;) {
        expect_work(f, NT, scaled(f, k->msg), CAT_MSG);
        assert_int_equal(f->nmsg, f->msg_seen + 1);
        if (f->msg[f->msg_seen].cmd.type != HO_CMD_SOFT_LIMIT) {
            break;
        }
        f->msg_seen++;
    }
    struct ho_cmd_handoff_reply r = next_msg(f, HO_CMD_HANDOFF_REPLY)->handoff_reply;
    assert_int_equal(r.conn_id, c->id);
    assert_int_equal(r.req_seq, seq);
    if (r.status == HO_CMD_ACCEPTED) {
        assert_int_equal(ho_lookup_insert(f->oracle, &c->tuple, c->id), HO_OK);
    }
    return r;
}

/* Hands c off and checks it is accepted. */
static void handoff_ok(struct fake *f, struct conn *c)
{
    uint32_t seq = handoff_cmd(f, c, true);
    struct ho_cmd_handoff_reply r = take_handoff(f, c, seq);
    assert_int_equal(r.status, HO_CMD_ACCEPTED);
}

static void oracle_forget(struct fake *f, const struct conn *c)
{
    assert_true(ho_lookup_remove(f->oracle, &c->tuple) >= 0);
}

/* A client port, from `from` on, whose frames to the server take the lookup at least two
 * probes in the table as it is now: its home bucket is taken by another connection. */
static uint16_t colliding_port(struct fake *f, uint16_t from)
{
    for (uint16_t port = from; port < from + 10000; port++) {
        struct tcpe_tuple t = {SERVER_IP, CLIENT_IP, SERVER_PORT, port};
        (void)ho_lookup_find(f->oracle, &t);
        if (ho_lookup_last_probes(f->oracle) >= 2) {
            return port;
        }
    }
    fail_msg("no colliding port");
    return 0;
}

/* ---- tests: creation ---------------------------------------------------------------------- */

struct create_case {
    const char *name;
    uint32_t hard_limit;
    bool load_control;
    uint32_t hiwat, lowat, lc_step;
    uint32_t rx_queue;
    uint32_t mss;
    uint32_t scale_pct;
    int want;
};

static const struct create_case create_cases[] = {
    {"plain NIC", 0, false, 64, 8, 4, 256, 1460, 150, HO_OK},
    {"handoff", 16, false, 64, 8, 4, 256, 1460, 150, HO_OK},
    {"handoff, load control", 16, true, 64, 8, 4, 256, 1460, 100, HO_OK},
    {"scale 0", 0, false, 64, 8, 4, 256, 1460, 0, HO_EINVAL},
    {"scale 0 with handoff", 16, false, 64, 8, 4, 256, 1460, 0, HO_EINVAL},
    {"lowat == hiwat", 16, true, 8, 8, 4, 256, 1460, 100, HO_EINVAL},
    {"lc step 0", 16, true, 64, 8, 0, 256, 1460, 100, HO_EINVAL},
    {"mss below the TCP's minimum", 16, false, 64, 8, 4, 256, 10, 100, HO_EINVAL},
};

static void test_create(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof create_cases / sizeof create_cases[0]; i++) {
        const struct create_case *c = &create_cases[i];
        struct ho_nic_params p = base_params(c->hard_limit);
        p.load_control = c->load_control;
        p.hiwat = c->hiwat;
        p.lowat = c->lowat;
        p.lc_step = c->lc_step;
        p.rx_queue = c->rx_queue;
        p.mss = c->mss;
        p.costs.scale_pct = c->scale_pct;
        struct fake *f = calloc(1, sizeof *f);
        assert_non_null(f);
        struct ho_nic *n = NULL;
        int rc = ho_nic_create(&p, &fake_ops, f, &n);
        if (rc != c->want) {
            fail_msg("%s: ho_nic_create returned %d, expected %d", c->name, rc, c->want);
        }
        if (rc == HO_OK) {
            struct ho_nic_info i0;
            ho_nic_info(n, &i0);
            assert_int_equal(i0.queued, 0);
            assert_int_equal(i0.soft_limit, c->hard_limit); /* 0 without handoff */
            assert_int_equal(i0.cnum, 0);
            assert_int_equal(i0.conns, 0);
            ho_nic_destroy(n);
        }
        assert_int_equal(f->ready + f->allocs + f->timer_calls[0] + f->timer_calls[1], 0);
        free(f);
    }
    struct ho_nic_params p = base_params(0);
    struct ho_nic *n = NULL;
    assert_int_equal(ho_nic_create(NULL, &fake_ops, NULL, &n), HO_EINVAL);
    assert_int_equal(ho_nic_create(&p, NULL, NULL, &n), HO_EINVAL);
    assert_int_equal(ho_nic_create(&p, &fake_ops, NULL, NULL), HO_EINVAL);
    assert_null(n);
    ho_nic_destroy(NULL);
}

/* nic.h: ho_nic_create returns "HO_EINVAL if a parameter is out of range". */
static void test_create_out_of_range(void **state)
{
    (void)state;
    static const uint32_t rx_queues[] = {0, HO_SCHED_MAX_CAPACITY + 1};
    char wrong[512] = "";
    for (size_t i = 0; i < sizeof rx_queues / sizeof rx_queues[0]; i++) {
        for (uint32_t hard = 0; hard <= 4; hard += 4) {
            struct ho_nic_params p = base_params(hard);
            p.rx_queue = rx_queues[i];
            struct ho_nic *n = NULL;
            int rc = ho_nic_create(&p, &fake_ops, NULL, &n);
            if (rc == HO_OK) {
                ho_nic_destroy(n);
            }
            if (rc != HO_EINVAL) {
                size_t used = strlen(wrong);
                snprintf(wrong + used, sizeof wrong - used, "%srx_queue %u, hard limit %u: %s",
                         used ? "; " : "", rx_queues[i], hard, ho_strerror(rc));
            }
        }
    }
    for (size_t i = 0; i < sizeof rx_queues / sizeof rx_queues[0]; i++) {
        struct ho_nic_params p = base_params(4);
        p.tx_ring = rx_queues[i];
        struct ho_nic *n = NULL;
        int rc = ho_nic_create(&p, &fake_ops, NULL, &n);
        if (rc == HO_OK) {
            ho_nic_destroy(n);
        }
        if (rc != HO_EINVAL) {
            size_t used = strlen(wrong);
            snprintf(wrong + used, sizeof wrong - used, "%stx_ring %u: %s", used ? "; " : "",
                     rx_queues[i], ho_strerror(rc));
        }
    }
    if (wrong[0]) {
        fail_msg("expected HO_EINVAL: %s", wrong);
    }
}

/* ---- tests: the plain NIC ------------------------------------------------------------------- */

struct plain_case {
    const char *name;
    uint32_t hard_limit; /* 0: no lookup; else an empty table costs one probe per frame */
    bool from_wire;      /* a frame from the wire, else a packet from the host */
    uint32_t scale_pct;  /* must not touch host packets */
};

static const struct plain_case plain_cases[] = {
    {"wire frame, no handoff", 0, true, 100},
    {"wire frame, no handoff, scale 250", 0, true, 250},
    {"host packet, no handoff", 0, false, 100},
    {"host packet, no handoff, scale 37", 0, false, 37},
    {"wire frame, empty lookup table", 8, true, 150},
    {"host packet, handoff NIC", 8, false, 150},
};

static void test_plain_paths(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof plain_cases / sizeof plain_cases[0]; i++) {
        const struct plain_case *c = &plain_cases[i];
        struct ho_nic_params p = base_params(c->hard_limit);
        p.costs.scale_pct = c->scale_pct;
        struct fake *f = fake_new(&p);
        const uint64_t arrival = 1000 + i;
        f->now = arrival;
        struct tcpe_seg seg = c->from_wire
                                  ? mkseg(CLIENT_IP, 4000, SERVER_IP, SERVER_PORT, TCPE_ACK, 100)
                                  : mkseg(SERVER_IP, SERVER_PORT, CLIENT_IP, 4000, TCPE_ACK, 700);
        struct ho_pkt *pk = c->from_wire ? wire_in(f, &seg) : host_out(f, &seg);
        uint32_t id = pk->id;
        assert_int_equal(f->ready, 1);
        struct ho_nic_info in = info_of(f);
        assert_int_equal(in.queued, 1);
        assert_int_equal(in.queued_pkts, 1);
        assert_int_equal(in.qlen, 0); /* host packets are not Qlen */
        struct ho_sched_item it;
        assert_int_equal(ho_nic_peek(f->nic, &it), HO_OK);
        assert_true(it.enq_ns == arrival);

        f->now = arrival + 5000; /* it waits 5 us */
        enum ho_sched_queue q = c->from_wire ? HR : HT;
        uint64_t cost = c->from_wire ? p.costs.host_rx + (c->hard_limit ? p.costs.lookup_probe : 0)
                                     : p.costs.host_tx;
        struct done d = expect_work(f, q, cost, CAT_HOST);
        assert_int_equal(d.id, id);
        assert_true(d.t_nic == arrival);
        assert_true(d.w.timer_cost == 0);
        assert_int_equal(d.grew, 0);
        if (c->from_wire) {
            assert_int_equal(f->nhost, 1);
            assert_int_equal(f->nwire, 0);
            assert_ptr_equal(f->host[0].p, pk);
            assert_true(f->host[0].t == d.ended);
            assert_true(f->host[0].p->t_nic == arrival);
            assert_int_equal(f->host[0].p->seg.len, 100);
        } else {
            assert_int_equal(f->nwire, 1);
            assert_int_equal(f->nhost, 0);
            assert_ptr_equal(f->wire[0].p, pk);
            assert_true(f->wire[0].t == d.ended);
            assert_int_equal(f->wire[0].p->seg.len, 700);
        }
        assert_int_equal(f->nmsg, 0);
        assert_int_equal(f->fw_frees, 0);
        assert_int_equal(f->fw_allocs, 0);
        assert_int_equal(f->timer_calls[HO_NIC_TIMER_TCP] + f->timer_calls[HO_NIC_TIMER_ACK], 0);
        expect_idle(f);
        struct ho_nic_work w;
        assert_false(ho_nic_begin(f->nic, f->now, &w));
        fake_free(f);
    }
}

/* The receive memory: HOST_RX and NIC_RX share params.rx_queue packets. */
enum fill_kind { FILL_WIRE, FILL_FORWARD };

struct rxfull_case {
    const char *name;
    uint32_t hard_limit;
    enum fill_kind fill;  /* what fills the memory */
    enum fill_kind extra; /* what then finds it full */
};

static const struct rxfull_case rxfull_cases[] = {
    {"plain NIC, host frames", 0, FILL_WIRE, FILL_WIRE},
    {"host frames, then a NIC packet", 8, FILL_WIRE, FILL_FORWARD},
    {"NIC packets, then a host frame", 8, FILL_FORWARD, FILL_WIRE},
};

static struct ho_pkt *rx_one(struct fake *f, enum fill_kind k)
{
    struct tcpe_seg s = mkseg(CLIENT_IP, 4001, SERVER_IP, SERVER_PORT, TCPE_RST, 0);
    return k == FILL_WIRE ? wire_in(f, &s) : forward_in(f, &s);
}

static void test_rx_memory_full(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rxfull_cases / sizeof rxfull_cases[0]; i++) {
        const struct rxfull_case *c = &rxfull_cases[i];
        struct ho_nic_params p = base_params(c->hard_limit);
        p.rx_queue = 3;
        struct fake *f = fake_new(&p);
        f->now = 100;
        for (int k = 0; k < 3; k++) {
            rx_one(f, c->fill);
        }
        assert_int_equal(f->ready, 3);
        assert_int_equal(info_of(f).rx_drops, 0);
        uint32_t id = f->next_id; /* the next packet, dropped: do not touch it */
        rx_one(f, c->extra);
        assert_int_equal(f->fw_frees, 1);
        assert_int_equal(f->last_freed, id);
        assert_true(f->ready >= 3);
        struct ho_nic_info in = info_of(f);
        assert_int_equal(in.rx_drops, 1);
        assert_int_equal(in.queued, 3);
        assert_int_equal(in.qlen, c->fill == FILL_FORWARD ? 3 : 0);
        /* Other memories are not the receive memory. */
        struct tcpe_seg s = mkseg(SERVER_IP, SERVER_PORT, CLIENT_IP, 4001, TCPE_ACK, 10);
        host_out(f, &s);
        assert_int_equal(f->ready, 4);
        assert_int_equal(info_of(f).queued, 4);
        /* One served makes room for one. */
        run_one(f);
        rx_one(f, c->extra);
        assert_int_equal(info_of(f).rx_drops, 1);
        /* Served, a frame goes to the host: a forwarded one too, as the NIC holds no
         * connection of it. */
        assert_int_equal(f->fw_frees, 1);
        assert_int_equal(f->nhost, 1);
        ho_nic_reset_counters(f->nic);
        assert_int_equal(info_of(f).rx_drops, 0);
        rx_one(f, c->fill);
        assert_int_equal(info_of(f).rx_drops, 1);
        run_all(f);
        expect_idle(f);
        fake_free(f);
    }
}

/*
 * The send ring (nic.h): it holds tx_ring host packets; a driver that posts one more has it
 * dropped and counted. Each host packet sent frees its descriptor through host_tx_done, once,
 * when it has gone to the wire; nothing else does.
 */
static void test_send_ring(void **state)
{
    (void)state;
    for (uint32_t hard = 0; hard <= 8; hard += 8) {
        struct ho_nic_params p = base_params(hard);
        p.tx_ring = 3;
        struct fake *f = fake_new(&p);
        f->now = 100;
        struct tcpe_seg s = mkseg(SERVER_IP, SERVER_PORT, CLIENT_IP, 4001, TCPE_ACK, 10);
        for (int k = 0; k < 3; k++) {
            host_out(f, &s);
        }
        uint32_t id = f->next_id;
        struct ho_pkt *x = fake_pkt(f, &s);
        assert_int_equal(ho_nic_host_tx(f->nic, x, f->now), HO_ENOSPC);
        assert_int_equal(f->fw_frees, 1);
        assert_int_equal(f->last_freed, id);
        struct ho_nic_info in = info_of(f);
        assert_int_equal(in.tx_ring_drops, 1);
        assert_int_equal(in.rx_drops, 0);
        assert_int_equal(in.queued, 3);
        /* The receive memory is another memory. */
        rx_one(f, FILL_WIRE);
        assert_int_equal(info_of(f).queued, 4);
        assert_int_equal(f->tx_done, 0);
        /* FCFS: the three host packets go first, each freeing its descriptor as it leaves. */
        for (unsigned k = 1; k <= 3; k++) {
            run_one(f);
            assert_int_equal(f->nwire, k);
            assert_int_equal(f->tx_done, k);
        }
        host_out(f, &s); /* room again */
        run_all(f);
        assert_int_equal(f->nwire, 4);
        assert_int_equal(f->nhost, 1);
        assert_int_equal(f->tx_done, 4); /* the received frame freed none */
        assert_int_equal(info_of(f).tx_ring_drops, 1);
        ho_nic_reset_counters(f->nic);
        assert_int_equal(info_of(f).tx_ring_drops, 0);
        expect_idle(f);
        fake_free(f);
    }
}

/* ---- tests: scheduling ---------------------------------------------------------------------- */

/* The arrivals: a host frame, a NIC packet, a command, a host packet to send, a host frame. */
enum { ARR_A, ARR_B, ARR_C, ARR_D, ARR_E, ARR_REPLY, NARR };

struct sched_case {
    const char *name;
    bool host_first;
    int order[NARR];
};

static const struct sched_case sched_cases[] = {
    /* The reply to C is the output of the work just done: it comes next, before D. */
    {"FCFS", false, {ARR_A, ARR_B, ARR_C, ARR_REPLY, ARR_D, ARR_E}},
    /* Host queues first; NIC_RX and CMD after them, in arrival order; the reply at once. */
    {"host first", true, {ARR_A, ARR_D, ARR_E, ARR_B, ARR_C, ARR_REPLY}},
};

static void test_schedule(void **state)
{
    (void)state;
    static const uint8_t garbage[40] = "not the state of any TCP connection...";
    for (size_t i = 0; i < sizeof sched_cases / sizeof sched_cases[0]; i++) {
        const struct sched_case *c = &sched_cases[i];
        struct ho_nic_params p = base_params(8);
        p.host_first = c->host_first;
        struct fake *f = fake_new(&p);
        uint32_t id[NARR] = {0};
        enum ho_sched_queue want_q[NARR] = {HR, NR, CM, HT, HR, NT};

        f->now = 100;
        struct tcpe_seg s = mkseg(OTHER_IP, 5000, SERVER_IP, SERVER_PORT, TCPE_ACK, 10);
        id[ARR_A] = wire_in(f, &s)->id;
        f->now = 200;
        s = mkseg(CLIENT_IP, 5001, SERVER_IP, SERVER_PORT, TCPE_RST, 0); /* nobody answers */
        id[ARR_B] = forward_in(f, &s)->id;
        f->now = 300;
        struct ho_cmd cmd = {.type = HO_CMD_HANDOFF};
        cmd.handoff.conn_id = 9;
        cmd.handoff.tuple = (struct tcpe_tuple){SERVER_IP, CLIENT_IP, SERVER_PORT, 5002};
        cmd.handoff.state.len = sizeof garbage;
        cmd.handoff.state.data = garbage;
        assert_int_equal(cmd_in(f, &cmd), HO_OK);
        f->now = 400;
        s = mkseg(SERVER_IP, SERVER_PORT, OTHER_IP, 5000, TCPE_ACK, 20);
        id[ARR_D] = host_out(f, &s)->id;
        f->now = 500;
        s = mkseg(OTHER_IP, 5003, SERVER_IP, SERVER_PORT, TCPE_ACK, 30);
        id[ARR_E] = wire_in(f, &s)->id;
        assert_int_equal(f->ready, 5);
        struct ho_nic_info in = info_of(f);
        assert_int_equal(in.queued, 5);
        assert_int_equal(in.queued_pkts, 4);
        assert_int_equal(in.qlen, 1);

        f->now = 1000;
        for (int k = 0; k < NARR; k++) {
            int a = c->order[k];
            struct done d = run_one(f);
            if (d.w.item.queue != want_q[a]) {
                fail_msg("%s: work %d from %s, expected %s", c->name, k,
                         ho_sched_queue_name(d.w.item.queue), ho_sched_queue_name(want_q[a]));
            }
            assert_int_equal(d.id, id[a]);
            if (a == ARR_C) {
                assert_int_equal(d.grew, 1); /* the reply */
                assert_int_equal(d.rang, 1);
            }
        }
        assert_int_equal(next_msg(f, HO_CMD_HANDOFF_REPLY)->handoff_reply.status,
                         HO_CMD_REFUSED_BAD_STATE);
        expect_idle(f);
        assert_int_equal(f->nhost, 3); /* B too: forwarded, but no connection on the NIC */
        assert_int_equal(f->nwire, 1);
        assert_int_equal(f->fw_frees, 0);
        fake_free(f);
    }
}

/* ---- tests: handoff and the NIC's TCP ------------------------------------------------------- */

struct recv_case {
    const char *name;
    uint32_t scale_pct;
    uint32_t hard_limit;
    uint32_t bytes; /* the peer sends */
};

static const struct recv_case recv_cases[] = {
    {"scale 100", 100, 4, 1000},
    {"scale 150", 150, 4, 1000},
    {"scale 37", 37, 64, 1460},
    {"two segments at once", 100, 4, 2000},
};

static void test_handoff_receive(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof recv_cases / sizeof recv_cases[0]; i++) {
        const struct recv_case *c = &recv_cases[i];
        struct ho_nic_params p = base_params(c->hard_limit);
        p.costs.scale_pct = c->scale_pct;
        const struct ho_nic_costs *k = &p.costs;
        struct fake *f = fake_new(&p);
        struct net *nt = net_new();
        struct conn a;
        f->now = 1 * MS;
        net_open(nt, &a, 40000, 7, f->now);

        /* The HANDOFF: one command, then the reply on NIC_TX. */
        f->now = 2 * MS;
        uint32_t seq = handoff_cmd(f, &a, true);
        assert_int_equal(seq, 0);
        assert_int_equal(f->ready, 1);
        assert_int_equal(info_of(f).queued, 1);
        assert_int_equal(info_of(f).queued_pkts, 0);
        f->now += 10 * US;
        struct done d = expect_work(f, CM, scaled(f, k->cmd + k->handoff), CAT_MSG);
        assert_null(d.w.pkt);
        assert_int_equal(d.grew, 1);
        assert_int_equal(d.rang, 1);
        assert_int_equal(f->nmsg, 0);
        struct ho_nic_info in = info_of(f);
        assert_int_equal(in.conns, 1);
        assert_int_equal(in.cnum, 1);
        assert_int_equal(in.soft_limit, c->hard_limit);
        assert_int_equal(in.accepted, 1);
        d = expect_work(f, NT, scaled(f, k->msg), CAT_MSG);
        assert_null(d.w.pkt);
        assert_int_equal(f->nmsg, 1);
        assert_true(f->msg[0].t == d.ended);
        const struct ho_cmd *r = next_msg(f, HO_CMD_HANDOFF_REPLY);
        assert_int_equal(r->seq, 0);
        assert_int_equal(r->handoff_reply.conn_id, 7);
        assert_int_equal(r->handoff_reply.req_seq, 0);
        assert_int_equal(r->handoff_reply.status, HO_CMD_ACCEPTED);
        assert_int_equal(r->handoff_reply.soft_limit, c->hard_limit);
        assert_int_equal(ho_lookup_insert(f->oracle, &a.tuple, 0), HO_OK);
        expect_idle(f);

        /* The peer sends; its frames are NIC packets. */
        f->now = 3 * MS;
        assert_int_equal(tcpe_send(a.peer, NULL, c->bytes, f->now), (int)c->bytes);
        size_t nseg = to_nic(f, nt);
        assert_true(nseg >= 1);
        in = info_of(f);
        assert_int_equal(in.qlen, nseg);
        assert_int_equal(in.queued, nseg);
        assert_int_equal(f->ready, 2 + nseg);
        uint32_t probes = f->probes[f->next_id - 1];
        assert_int_equal(probes, 1); /* the only entry, in its home bucket */
        uint32_t delivered = 0;
        for (size_t s = 0; s < nseg; s++) {
            unsigned frees = f->fw_frees;
            d = expect_work(f, NR, scaled(f, k->tcp_rx) + probes * k->lookup_probe, CAT_TCP);
            assert_int_equal(f->fw_frees, frees + 1); /* consumed */
            assert_int_equal(f->last_freed, d.id);
            assert_true(d.t_nic == 3 * MS);
            /* Its output: the RECV for the host, then the ACK for the wire, both on NIC_TX (the
             * ACK never leaves before the host has the bytes it covers). */
            assert_int_equal(d.grew, 2);
            d = expect_work(f, NT, scaled(f, k->msg), CAT_MSG);
            const struct ho_cmd *rv = next_msg(f, HO_CMD_RECV);
            struct done ackd = expect_work(f, NT, scaled(f, k->tcp_tx), CAT_TCP);
            assert_non_null(f->wire[f->nwire - 1].p);
            const struct tcpe_seg *ack = &f->wire[f->nwire - 1].p->seg;
            assert_int_equal(ack->flags & (TCPE_ACK | TCPE_SYN | TCPE_FIN | TCPE_RST), TCPE_ACK);
            assert_int_equal(ack->len, 0);
            assert_int_equal(ack->src_ip, SERVER_IP);
            assert_int_equal(ack->dst_port, 40000);
            assert_int_equal(rv->recv.conn_id, 7);
            assert_int_equal(rv->recv.flags, 0);
            assert_true(rv->recv.len > 0);
            delivered += rv->recv.len;
            assert_true(f->msg[f->nmsg - 1].t == d.ended);
            assert_true(f->wire[f->nwire - 1].t == ackd.ended);
        }
        assert_int_equal(delivered, c->bytes);
        expect_idle(f);
        /* The peer takes the ACKs: everything it sent is acknowledged. */
        struct tcpe_info pi;
        to_peer(f, nt);
        tcpe_conn_info(a.peer, &pi);
        assert_int_equal(pi.snd_una, pi.snd_nxt);
        assert_int_equal(tcpe_conn_unacked(a.peer), 0);
        assert_int_equal(nt->peer_out.n, 0);

        /* A packet the driver forwards is a NIC packet too, without a lookup. The RECV of its
         * bytes goes to the host before the ACK that covers them goes to the wire: a reset
         * between the two must not leave the peer thinking delivered what the host never got. */
        f->now = 4 * MS;
        assert_int_equal(tcpe_send(a.peer, NULL, 100, f->now), 100);
        assert_int_equal(nt->peer_out.n, 1);
        forward_in(f, &nt->peer_out.s[0]);
        nt->peer_out.n = 0;
        assert_int_equal(info_of(f).qlen, 1);
        expect_work(f, NR, scaled(f, k->tcp_rx), CAT_TCP);
        size_t wire_before = f->nwire;
        expect_work(f, NT, scaled(f, k->msg), CAT_MSG);
        assert_int_equal(next_msg(f, HO_CMD_RECV)->recv.len, 100);
        assert_int_equal(f->nwire, wire_before);
        expect_work(f, NT, scaled(f, k->tcp_tx), CAT_TCP);
        assert_int_equal(f->nwire, wire_before + 1);

        /* A frame of another connection misses and goes to the host, lookup probes charged:
         * its home bucket is A's, so the miss takes two. */
        f->now = 5 * MS;
        uint16_t port = colliding_port(f, 50000);
        struct tcpe_seg other = mkseg(CLIENT_IP, port, SERVER_IP, SERVER_PORT, TCPE_ACK, 10);
        struct ho_pkt *op = wire_in(f, &other);
        uint32_t miss = f->probes[op->id];
        assert_true(miss >= 2);
        assert_int_equal(info_of(f).qlen, 0);
        d = expect_work(f, HR, k->host_rx + miss * k->lookup_probe, CAT_HOST);
        assert_ptr_equal(f->host[f->nhost - 1].p, op);
        no_more_msgs(f);
        expect_idle(f);

        /* The same port handed off: its frames hit after the same probes. */
        struct conn b;
        net_open(nt, &b, port, 8, f->now);
        handoff_ok(f, &b);
        assert_int_equal(tcpe_send(b.peer, NULL, 10, f->now), 10);
        op = wire_in(f, &nt->peer_out.s[0]);
        nt->peer_out.n = 0;
        assert_true(f->probes[op->id] >= 2);
        expect_work(f, NR, scaled(f, k->tcp_rx) + f->probes[op->id] * k->lookup_probe, CAT_TCP);
        expect_work(f, NT, scaled(f, k->msg), CAT_MSG);
        expect_work(f, NT, scaled(f, k->tcp_tx), CAT_TCP);
        const struct ho_cmd *rb = next_msg(f, HO_CMD_RECV);
        assert_int_equal(rb->recv.conn_id, 8);
        assert_int_equal(rb->recv.len, 10);
        assert_int_equal(info_of(f).conns, 2);
        expect_idle(f);
        net_free(nt);
        fake_free(f);
    }
}

/* SEND, and the ACKED messages the peer's ACKs produce. */
struct send_case {
    const char *name;
    uint32_t bytes;
    bool by_bytes; /* the byte threshold flushes before the timer */
};

static const struct send_case send_cases[] = {
    {"small send: ACKED by the timer", 3000, false},
    {"one segment", 1, false},
    {"large send: ACKED at the byte threshold", 40000, true},
};

static void test_send_acked(void **state)
{
    (void)state;
    struct ho_ackagg_params ap;
    ho_ackagg_params_default(&ap);
    for (size_t i = 0; i < sizeof send_cases / sizeof send_cases[0]; i++) {
        const struct send_case *c = &send_cases[i];
        assert_true((c->bytes >= ap.byte_threshold) == c->by_bytes);
        struct ho_nic_params p = base_params(4);
        /* Cheap work, so that the whole transfer takes less than the aggregation delay: only
         * the byte threshold can make an ACKED message due before the timer. */
        p.costs = (struct ho_nic_costs){.host_rx = 10,
                                        .host_tx = 11,
                                        .lookup_probe = 1,
                                        .tcp_rx = 30,
                                        .tcp_tx = 20,
                                        .timer = 9,
                                        .cmd = 5,
                                        .handoff = 100,
                                        .msg = 4,
                                        .scale_pct = 100};
        const struct ho_nic_costs *k = &p.costs;
        struct fake *f = fake_new(&p);
        struct net *nt = net_new();
        struct conn a;
        f->now = 1 * MS;
        net_open(nt, &a, 40001, 3, f->now);
        handoff_ok(f, &a);
        expect_idle(f);

        f->now = 2 * MS;
        send_cmd(f, 3, c->bytes);
        size_t w0 = f->nwire;
        struct done d = expect_work(f, CM, scaled(f, k->cmd), CAT_MSG);
        assert_true(d.grew >= 1);                              /* data segments */
        assert_int_equal(f->timer_calls[HO_NIC_TIMER_TCP], 1); /* retransmission timer */
        assert_true(f->timer_when[HO_NIC_TIMER_TCP] > f->now);
        assert_true(f->timer_when[HO_NIC_TIMER_TCP] != HO_NIC_NEVER);
        uint32_t first = (uint32_t)d.grew;
        for (uint32_t s = 0; s < first; s++) {
            expect_work(f, NT, scaled(f, k->tcp_tx), CAT_TCP);
        }
        expect_idle(f);
        uint32_t sent = 0;
        for (size_t s = w0; s < f->nwire; s++) {
            sent += f->wire[s].p->seg.len;
            assert_true(f->wire[s].p->seg.len <= p.mss);
        }
        assert_true(sent > 0 && sent <= c->bytes);
        assert_int_equal(f->timer_calls[HO_NIC_TIMER_ACK], 0);

        /* The peer acknowledges, and the firmware keeps going until everything is sent. */
        settle(f, nt);
        assert_int_equal(tcpe_conn_readable(a.peer), c->bytes);
        uint32_t acked = 0;
        size_t nacked = 0;
        while (f->msg_seen < f->nmsg) {
            const struct ho_cmd *m = next_msg(f, HO_CMD_ACKED);
            assert_int_equal(m->acked.count, 1);
            assert_int_equal(m->acked.entries[0].conn_id, 3);
            assert_true(m->acked.entries[0].bytes >= ap.byte_threshold);
            acked += m->acked.entries[0].bytes;
            nacked++;
        }
        assert_int_equal(nacked > 0, c->by_bytes);
        /* The rest waits for the ACK timer, due max_delay after the first pending ACK. A timer
         * asked for before a flush by bytes comes first and finds nothing due yet: the firmware
         * then asks for the one of what is pending now. */
        assert_true(f->timer_calls[HO_NIC_TIMER_ACK] >= 1);
        unsigned tcalls;
        uint64_t when;
        for (int firings = 1;; firings++) {
            assert_true(firings <= 2);
            when = f->timer_when[HO_NIC_TIMER_ACK];
            if (firings == 1) { /* asked for when the first ACK became pending */
                assert_true(when == f->timer_set_at[HO_NIC_TIMER_ACK] + ap.max_delay);
            } else { /* asked for at the stale deadline, for an entry pending since before */
                assert_true(when < f->timer_set_at[HO_NIC_TIMER_ACK] + ap.max_delay);
            }
            assert_true(when > f->now);
            unsigned ready = f->ready;
            tcalls = f->timer_calls[HO_NIC_TIMER_ACK];
            f->now = when;
            ho_nic_timer(f->nic, HO_NIC_TIMER_ACK, f->now);
            if (info_of(f).queued > 0) {
                assert_int_equal(f->ready, ready + 1);
                break;
            }
            assert_true(c->by_bytes);
            assert_int_equal(f->timer_calls[HO_NIC_TIMER_ACK], tcalls + 1);
        }
        assert_int_equal(f->nmsg, f->msg_seen); /* queued, not yet posted */
        d = expect_work(f, NT, scaled(f, k->msg), CAT_MSG);
        assert_true(d.w.timer_cost == 0);
        const struct ho_cmd *m = next_msg(f, HO_CMD_ACKED);
        assert_int_equal(m->acked.count, 1);
        assert_int_equal(m->acked.entries[0].conn_id, 3);
        acked += m->acked.entries[0].bytes;
        assert_int_equal(acked, c->bytes);
        expect_idle(f);
        /* Nothing pending: the timer is not asked for again. */
        assert_true(f->timer_when[HO_NIC_TIMER_ACK] == when);
        assert_int_equal(tcalls, f->timer_calls[HO_NIC_TIMER_ACK]);
        no_more_msgs(f);
        net_free(nt);
        fake_free(f);
    }
}

/*
 * The example of the issue: a frame arrives; the lookup says NIC; the work item waits in NIC_RX;
 * running it costs tcp_rx instructions and produces an ACK for the wire and an aggregated ACK
 * message for the host. The frame carries the peer's data and acknowledges the NIC's; an earlier
 * pure ACK of the same connection has been pending longer than the aggregation delay, so the
 * ACKED message, with both ACKs in one entry, is due inside this work.
 */
static void test_ack_frame_example(void **state)
{
    (void)state;
    struct ho_ackagg_params ap;
    ho_ackagg_params_default(&ap);
    struct ho_nic_params p = base_params(4);
    p.costs.scale_pct = 100;
    const struct ho_nic_costs *k = &p.costs;
    struct fake *f = fake_new(&p);
    struct net *nt = net_new();
    struct conn a;
    f->now = 1 * MS;
    net_open(nt, &a, 40002, 5, f->now);
    handoff_ok(f, &a);

    /* The NIC sends 3000 bytes; the peer gets them, its own ACKs are lost. */
    f->now = 2 * MS;
    send_cmd(f, 5, 3000);
    size_t w0 = f->nwire;
    run_all(f);
    assert_true(f->nwire - w0 >= 2);
    uint32_t iss = f->wire[w0].p->seg.seq; /* the first byte */
    uint32_t first_len = f->wire[w0].p->seg.len;
    to_peer(f, nt);
    assert_int_equal(tcpe_conn_readable(a.peer), 3000);
    nt->peer_out.n = 0;
    struct tcpe_info pi;
    tcpe_conn_info(a.peer, &pi);

    /* A pure ACK of the first segment: nothing for the wire, the ACK waits to be aggregated. */
    f->now = 3 * MS;
    struct tcpe_seg ack1 = mkseg(CLIENT_IP, 40002, SERVER_IP, SERVER_PORT, TCPE_ACK, 0);
    ack1.seq = pi.snd_nxt;
    ack1.ack = iss + first_len;
    wire_in(f, &ack1);
    struct done d =
        expect_work(f, NR, k->tcp_rx + f->probes[f->next_id - 1] * k->lookup_probe, CAT_TCP);
    assert_int_equal(d.grew, 0);
    assert_int_equal(f->nmsg, f->msg_seen);
    assert_int_equal(f->timer_calls[HO_NIC_TIMER_ACK], 1);
    assert_true(f->timer_when[HO_NIC_TIMER_ACK] == d.ended + ap.max_delay);
    uint64_t stale = f->timer_when[HO_NIC_TIMER_ACK];

    /* The frame: 500 bytes of data that acknowledge everything, after the deadline. */
    f->now = stale + 1 * US;
    assert_int_equal(tcpe_send(a.peer, NULL, 500, f->now), 500);
    assert_int_equal(nt->peer_out.n, 1);
    assert_int_equal(nt->peer_out.s[0].ack, iss + 3000);
    struct ho_pkt *frame = wire_in(f, &nt->peer_out.s[0]);
    nt->peer_out.n = 0;
    uint32_t probes = f->probes[frame->id];
    assert_int_equal(probes, 1); /* the only connection in the table */
    struct ho_nic_info in = info_of(f);
    assert_int_equal(in.qlen, 1);
    struct ho_sched_item it;
    assert_int_equal(ho_nic_peek(f->nic, &it), HO_OK);
    assert_int_equal(it.queue, NR);
    assert_true(it.enq_ns == f->now);
    f->now += 2 * US; /* it waits */
    d = expect_work(f, NR, k->tcp_rx + k->lookup_probe, CAT_TCP);
    assert_true(d.t_nic == stale + 1 * US);
    assert_int_equal(d.grew, 3);
    /* An ACK for the wire ... */
    size_t nw = f->nwire;
    expect_work(f, NT, k->tcp_tx, CAT_TCP);
    assert_int_equal(f->nwire, nw + 1);
    const struct tcpe_seg *ack = &f->wire[nw].p->seg;
    assert_int_equal(ack->flags & (TCPE_ACK | TCPE_SYN | TCPE_FIN | TCPE_RST), TCPE_ACK);
    assert_int_equal(ack->len, 0);
    assert_int_equal(ack->ack, pi.snd_nxt + 500);
    /* ... the aggregated ACK message: both ACKs, one entry ... */
    expect_work(f, NT, k->msg, CAT_MSG);
    const struct ho_cmd *m = next_msg(f, HO_CMD_ACKED);
    assert_int_equal(m->acked.count, 1);
    assert_int_equal(m->acked.entries[0].conn_id, 5);
    assert_int_equal(m->acked.entries[0].bytes, 3000);
    /* ... and the data for the host. */
    expect_work(f, NT, k->msg, CAT_MSG);
    const struct ho_cmd *rv = next_msg(f, HO_CMD_RECV);
    assert_int_equal(rv->recv.conn_id, 5);
    assert_int_equal(rv->recv.len, 500);
    expect_idle(f);
    /* The ACK timer, when it comes, finds nothing to do. */
    f->now = stale > f->now ? stale : f->now;
    ho_nic_timer(f->nic, HO_NIC_TIMER_ACK, f->now);
    expect_idle(f);
    no_more_msgs(f);
    to_peer(f, nt);
    tcpe_conn_info(a.peer, &pi);
    assert_int_equal(pi.snd_una, pi.snd_nxt);
    net_free(nt);
    fake_free(f);
}

/* ---- tests: refusals and load control --------------------------------------------------- */

enum refuse_kind { REFUSE_GARBAGE, REFUSE_SAME_TUPLE, REFUSE_TRUNCATED_STATE };

struct refuse_case {
    const char *name;
    enum refuse_kind kind;
};

static const struct refuse_case refuse_cases[] = {
    {"state blob that is not a TCP export", REFUSE_GARBAGE},
    {"a 4-tuple already on the NIC", REFUSE_SAME_TUPLE},
    {"state blob cut short", REFUSE_TRUNCATED_STATE},
};

static void test_handoff_refused_bad_state(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof refuse_cases / sizeof refuse_cases[0]; i++) {
        const struct refuse_case *c = &refuse_cases[i];
        struct ho_nic_params p = base_params(4);
        struct fake *f = fake_new(&p);
        struct net *nt = net_new();
        struct conn a;
        f->now = 1 * MS;
        net_open(nt, &a, 40003, 1, f->now);
        uint32_t conns = 0;
        if (c->kind == REFUSE_SAME_TUPLE) {
            /* Export once without detaching, hand it off, then again under another id. */
            uint32_t seq = handoff_cmd(f, &a, false);
            assert_int_equal(take_handoff(f, &a, seq).status, HO_CMD_ACCEPTED);
            conns = 1;
            a.id = 2;
        }
        int need = tcpe_export(a.srv, f->now, NULL, 0);
        assert_true(need > 8);
        uint8_t *blob = malloc((size_t)need);
        assert_non_null(blob);
        assert_int_equal(tcpe_export(a.srv, f->now, blob, (size_t)need), need);
        struct ho_cmd cmd = {.type = HO_CMD_HANDOFF};
        cmd.handoff.conn_id = a.id;
        cmd.handoff.tuple = a.tuple;
        cmd.handoff.state.data = blob;
        cmd.handoff.state.len = (uint32_t)need;
        if (c->kind == REFUSE_GARBAGE) {
            memset(blob, 0xa5, (size_t)need);
        } else if (c->kind == REFUSE_TRUNCATED_STATE) {
            cmd.handoff.state.len = (uint32_t)need / 2;
        }
        uint32_t seq = f->cmd_seq;
        assert_int_equal(cmd_in(f, &cmd), HO_OK);
        free(blob);
        f->now += 1 * US;
        struct ho_cmd_handoff_reply r = take_handoff(f, &a, seq);
        assert_int_equal(r.status, HO_CMD_REFUSED_BAD_STATE);
        assert_int_equal(r.soft_limit, 4);
        struct ho_nic_info in = info_of(f);
        assert_int_equal(in.conns, conns);
        assert_int_equal(in.cnum, conns);
        assert_int_equal(in.accepted, conns);
        expect_idle(f);
        no_more_msgs(f);
        net_free(nt);
        fake_free(f);
    }
}

/*
 * cmd.h, HO_CMD_REFUSED_BAD_STATE: "the connection (id or 4-tuple) cannot be taken". A second
 * connection under the id of one already on the NIC must be refused: the driver could no longer
 * tell them apart, and the firmware's id -> slot map keeps only one of them.
 */
static void test_handoff_duplicate_id(void **state)
{
    (void)state;
    struct ho_nic_params p = base_params(4);
    struct fake *f = fake_new(&p);
    struct net *nt = net_new();
    struct conn a, b;
    f->now = 1 * MS;
    net_open(nt, &a, 40010, 1, f->now);
    net_open(nt, &b, 40011, 1, f->now); /* the same id, another 4-tuple */
    handoff_ok(f, &a);
    uint32_t seq = handoff_cmd(f, &b, false);
    f->now += 1 * US;
    struct ho_cmd_handoff_reply r = take_handoff(f, &b, seq);
    struct ho_nic_info in = info_of(f);
    net_free(nt);
    fake_free(f);
    if (r.status != HO_CMD_REFUSED_BAD_STATE || in.conns != 1) {
        fail_msg("HANDOFF of a second connection with id 1: status %s, %u connections on the NIC;"
                 " expected bad-state and 1",
                 ho_cmd_status_name(r.status), in.conns);
    }
}

/* The Hard limit without load control: a refusal, then a slot freed by a connection's end is
 * taken again. */
static void test_hard_limit(void **state)
{
    (void)state;
    struct ho_nic_params p = base_params(1);
    const struct ho_nic_costs *k = &p.costs;
    struct fake *f = fake_new(&p);
    struct net *nt = net_new();
    struct conn a, b;
    f->now = 1 * MS;
    net_open(nt, &a, 47000, 10, f->now);
    net_open(nt, &b, 47001, 11, f->now);
    handoff_ok(f, &a);
    uint32_t seq = handoff_cmd(f, &b, false);
    struct ho_cmd_handoff_reply r = take_handoff(f, &b, seq);
    /* Cnum is at both limits: either refusal names it. */
    assert_true(r.status == HO_CMD_REFUSED_SOFT_LIMIT || r.status == HO_CMD_REFUSED_HARD_LIMIT);
    assert_int_equal(r.soft_limit, 1);
    struct ho_nic_info in = info_of(f);
    assert_int_equal(in.cnum, 1);
    assert_int_equal(in.conns, 1);
    assert_int_equal(in.soft_limit, 1);
    /* A ends: the host closes first this time. */
    f->now = 2 * MS;
    close_cmd(f, 10);
    settle(f, nt);
    assert_int_equal(tcpe_conn_state(a.peer), TCPE_CLOSE_WAIT);
    no_more_msgs(f);
    assert_int_equal(tcpe_shutdown(a.peer, f->now), HO_OK);
    settle(f, nt);
    const struct ho_cmd *fin = next_msg(f, HO_CMD_RECV);
    assert_int_equal(fin->recv.conn_id, 10);
    assert_int_equal(fin->recv.flags, HO_CMD_RECV_FIN);
    /* The NIC's end is in TIME_WAIT: the connection is gone from the NIC after 2 MSL. */
    assert_int_equal(info_of(f).conns, 1);
    no_more_msgs(f);
    uint64_t when = f->timer_when[HO_NIC_TIMER_TCP];
    assert_true(when != HO_NIC_NEVER && when > f->now + 1 * SEC);
    f->now = when;
    ho_nic_timer(f->nic, HO_NIC_TIMER_TCP, f->now);
    struct done d = expect_work(f, NT, scaled(f, k->msg), CAT_MSG);
    assert_true(d.w.timer_cost == k->timer * k->scale_pct / 100);
    const struct ho_cmd *cl = next_msg(f, HO_CMD_CLOSED);
    assert_int_equal(cl->closed.conn_id, 10);
    assert_int_equal(cl->closed.how, HO_CMD_CLOSED_NORMAL);
    oracle_forget(f, &a);
    in = info_of(f);
    assert_int_equal(in.cnum, 0);
    assert_int_equal(in.conns, 0);
    assert_int_equal(in.closed, 1);
    /* B again: accepted into the freed slot, and it works. */
    f->now += 1 * MS;
    handoff_ok(f, &b);
    assert_int_equal(tcpe_send(b.peer, NULL, 700, f->now), 700);
    settle(f, nt);
    const struct ho_cmd *rv = next_msg(f, HO_CMD_RECV);
    assert_int_equal(rv->recv.conn_id, 11);
    assert_int_equal(rv->recv.len, 700);
    no_more_msgs(f);
    net_free(nt);
    fake_free(f);
}

/* Load control: hiwat 2, lowat 1, step 2, Hard limit 4. */
static void test_load_control(void **state)
{
    (void)state;
    struct ho_nic_params p = base_params(4);
    p.load_control = true;
    p.hiwat = 2;
    p.lowat = 1;
    p.lc_step = 2;
    const struct ho_nic_costs *k = &p.costs;
    struct fake *f = fake_new(&p);
    struct net *nt = net_new();
    struct conn a, b, c;
    f->now = 1 * MS;
    net_open(nt, &a, 41000, 100, f->now);
    net_open(nt, &b, 41001, 101, f->now);
    net_open(nt, &c, 41002, 102, f->now);
    assert_int_equal(info_of(f).soft_limit, 4);

    f->now = 2 * MS;
    handoff_ok(f, &a);
    assert_int_equal(info_of(f).cnum, 1);
    assert_int_equal(info_of(f).conns, 1);
    assert_int_equal(info_of(f).soft_limit, 4);

    /* Three NIC packets waiting: Qlen 3 > Hiwat 2 lowers the Soft limit by a step. */
    f->now = 3 * MS;
    for (int s = 0; s < 3; s++) {
        assert_int_equal(tcpe_send(a.peer, NULL, 100, f->now), 100);
    }
    assert_int_equal(nt->peer_out.n, 3);
    unsigned ready = f->ready;
    for (size_t s = 0; s < 3; s++) {
        wire_in(f, &nt->peer_out.s[s]);
        struct ho_nic_info in = info_of(f);
        assert_int_equal(in.qlen, s + 1);
        assert_int_equal(in.soft_limit, s < 2 ? 4 : 2);
    }
    nt->peer_out.n = 0;
    assert_int_equal(f->ready, ready + 4); /* three packets and the advertisement */
    struct ho_nic_info in = info_of(f);
    assert_int_equal(in.queued, 4);
    assert_int_equal(in.queued_pkts, 3);
    /* The advertisement is NIC_TX: served before the packets that arrived earlier. */
    expect_work(f, NT, scaled(f, k->msg), CAT_MSG);
    const struct ho_cmd *m = next_msg(f, HO_CMD_SOFT_LIMIT);
    assert_int_equal(m->soft_limit.soft_limit, 2);
    assert_int_equal(m->soft_limit.hard_limit, 4);
    assert_int_equal(m->soft_limit.cnum, 1);
    assert_int_equal(m->soft_limit.lc_state, HO_CMD_LC_DECREASE);
    settle(f, nt);
    for (int s = 0; s < 3; s++) {
        assert_int_equal(next_msg(f, HO_CMD_RECV)->recv.len, 100);
    }
    no_more_msgs(f);

    /* B fits under the Soft limit; C does not. */
    f->now = 4 * MS;
    handoff_ok(f, &b);
    in = info_of(f);
    assert_int_equal(in.cnum, 2);
    assert_int_equal(in.conns, 2);
    assert_int_equal(in.soft_limit, 2);
    uint32_t seq = handoff_cmd(f, &c, false);
    struct ho_cmd_handoff_reply r = take_handoff(f, &c, seq);
    assert_int_equal(r.status, HO_CMD_REFUSED_SOFT_LIMIT);
    assert_int_equal(r.soft_limit, 2);
    in = info_of(f);
    assert_int_equal(in.cnum, 2);
    assert_int_equal(in.conns, 2);
    assert_int_equal(in.accepted, 2);
    no_more_msgs(f);
    /* C stays with the host: its frames miss. */
    assert_int_equal(tcpe_send(c.peer, NULL, 50, f->now), 50);
    to_nic(f, nt);
    expect_work(f, HR, k->host_rx + f->probes[f->next_id - 1] * k->lookup_probe, CAT_HOST);
    assert_int_equal(f->host[f->nhost - 1].p->seg.src_port, 41002);

    /* B ends: the peer closes, then the host. Cnum drops, the Soft limit does not move. */
    f->now = 5 * MS;
    assert_int_equal(tcpe_shutdown(b.peer, f->now), HO_OK);
    settle(f, nt);
    const struct ho_cmd *fin = next_msg(f, HO_CMD_RECV);
    assert_int_equal(fin->recv.conn_id, 101);
    assert_int_equal(fin->recv.len, 0);
    assert_int_equal(fin->recv.flags, HO_CMD_RECV_FIN);
    no_more_msgs(f);
    close_cmd(f, 101);
    settle(f, nt);
    const struct ho_cmd *cl = next_msg(f, HO_CMD_CLOSED);
    assert_int_equal(cl->closed.conn_id, 101);
    assert_int_equal(cl->closed.how, HO_CMD_CLOSED_NORMAL);
    no_more_msgs(f);
    oracle_forget(f, &b);
    in = info_of(f);
    assert_int_equal(in.cnum, 1);
    assert_int_equal(in.conns, 1);
    assert_int_equal(in.closed, 1);
    assert_int_equal(in.soft_limit, 2);
    assert_int_equal(tcpe_conn_state(b.peer), TCPE_TIME_WAIT);

    /* A host packet with Qlen 0 < Lowat: the Soft limit rises again. */
    f->now = 6 * MS;
    assert_int_equal(tcpe_send(c.peer, NULL, 50, f->now), 50);
    to_nic(f, nt);
    assert_int_equal(info_of(f).soft_limit, 4);
    run_all(f);
    m = next_msg(f, HO_CMD_SOFT_LIMIT);
    assert_int_equal(m->soft_limit.soft_limit, 4);
    assert_int_equal(m->soft_limit.cnum, 1);
    assert_int_equal(m->soft_limit.lc_state, HO_CMD_LC_INCREASE);
    no_more_msgs(f);
    net_free(nt);
    fake_free(f);
}

/*
 * Active restoration (nic.h, enum ho_nic_restore): when Qlen passes Hiwat and load control
 * lowers the Soft limit from 4 to 2 with three connections on the NIC, the firmware gives two
 * back at once, RESTORE with reason overload, in the rule's order. A was handed off at 2 ms and
 * got a packet at 3 ms; B got two at 4 ms, the second of which makes Qlen 3; C got none since its
 * handoff at 2 ms. By queued packets and by recent rate B goes first, then A (one queued, a
 * rate of one packet); by idleness C, then A. Without the rule nobody goes (the paper's passive
 * DECREASE). The packets queued for a connection given back then go to the host.
 */
static void test_active_restore(void **state)
{
    (void)state;
    static const struct {
        uint8_t rule;
        uint32_t first, second; /* the connections given back, in order; 0: none */
    } rows[] = {
        {HO_NIC_RESTORE_NONE, 0, 0},
        {HO_NIC_RESTORE_QUEUED, 201, 200},
        {HO_NIC_RESTORE_RATE, 201, 200},
        {HO_NIC_RESTORE_IDLE, 202, 200},
    };
    for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
        struct ho_nic_params p = base_params(4);
        p.load_control = true;
        p.hiwat = 2;
        p.lowat = 1;
        p.lc_step = 2;
        p.restore = rows[r].rule;
        struct fake *f = fake_new(&p);
        struct net *nt = net_new();
        struct conn a, b, c;
        f->now = 1 * MS;
        net_open(nt, &a, 42000, 200, f->now);
        net_open(nt, &b, 42001, 201, f->now);
        net_open(nt, &c, 42002, 202, f->now);
        f->now = 2 * MS;
        handoff_ok(f, &a);
        handoff_ok(f, &b);
        handoff_ok(f, &c);
        f->now = 3 * MS;
        assert_int_equal(tcpe_send(a.peer, NULL, 100, f->now), 100);
        assert_int_equal(nt->peer_out.n, 1);
        wire_in(f, &nt->peer_out.s[0]);
        nt->peer_out.n = 0;
        f->now = 4 * MS;
        for (int s = 0; s < 2; s++) {
            assert_int_equal(tcpe_send(b.peer, NULL, 100, f->now), 100);
        }
        assert_int_equal(nt->peer_out.n, 2);
        for (size_t s = 0; s < 2; s++) {
            wire_in(f, &nt->peer_out.s[s]);
        }
        nt->peer_out.n = 0;
        struct ho_nic_info in = info_of(f);
        assert_int_equal(in.soft_limit, 2);
        if (!rows[r].first) {
            assert_int_equal(in.cnum, 3);
            assert_int_equal(in.shed, 0);
        } else {
            assert_int_equal(in.cnum, 1);
            assert_int_equal(in.shed, 2);
            assert_int_equal(in.restored, 2);
        }
        run_all(f);
        next_msg(f, HO_CMD_SOFT_LIMIT);
        if (rows[r].first) {
            const struct ho_cmd *m = next_msg(f, HO_CMD_RESTORE);
            assert_int_equal(m->restore.conn_id, rows[r].first);
            assert_int_equal(m->restore.reason, HO_CMD_RESTORE_OVERLOAD);
            m = next_msg(f, HO_CMD_RESTORE);
            assert_int_equal(m->restore.conn_id, rows[r].second);
            assert_int_equal(m->restore.reason, HO_CMD_RESTORE_OVERLOAD);
            /* The packets queued for those given back went to the host, not to the NIC's TCP. */
            assert_true(f->nhost >= (rows[r].first == 201 ? 3u : 1u));
        }
        net_free(nt);
        fake_free(f);
    }
}

/* ---- tests: connections ending ---------------------------------------------------------- */

struct end_case {
    const char *name;
    bool timeout; /* else the peer resets */
    uint8_t how;
    const char *fault;
};

static const struct end_case end_cases[] = {
    {"peer resets", false, HO_CMD_CLOSED_RESET, "NIC connection reset"},
    {"peer stops answering", true, HO_CMD_CLOSED_TIMEOUT, "NIC connection timed out"},
};

static void test_conn_fails(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof end_cases / sizeof end_cases[0]; i++) {
        const struct end_case *c = &end_cases[i];
        struct ho_nic_params p = base_params(4);
        struct fake *f = fake_new(&p);
        struct net *nt = net_new();
        struct conn a;
        f->now = 1 * MS;
        net_open(nt, &a, 42000, 77, f->now);
        handoff_ok(f, &a);
        f->now = 2 * MS;
        if (c->timeout) {
            send_cmd(f, 77, 500);
            run_all(f);
            lose_wire(f);
            int expiries = 0;
            while (info_of(f).conns > 0) {
                assert_true(++expiries < 100);
                uint64_t when = f->timer_when[HO_NIC_TIMER_TCP];
                assert_true(when != HO_NIC_NEVER && when > f->now);
                f->now = when;
                ho_nic_timer(f->nic, HO_NIC_TIMER_TCP, f->now);
                run_all(f);
                lose_wire(f);
            }
            assert_true(expiries > 3);
        } else {
            tcpe_abort(a.peer, f->now);
            assert_int_equal(nt->peer_out.n, 1);
            assert_true(nt->peer_out.s[0].flags & TCPE_RST);
            to_nic(f, nt);
            run_all(f);
        }
        assert_int_equal(f->faults, 1);
        assert_string_equal(f->fault, c->fault);
        const struct ho_cmd *m = next_msg(f, HO_CMD_CLOSED);
        assert_int_equal(m->closed.conn_id, 77);
        assert_int_equal(m->closed.how, c->how);
        no_more_msgs(f);
        struct ho_nic_info in = info_of(f);
        assert_int_equal(in.conns, 0);
        assert_int_equal(in.cnum, 0);
        assert_int_equal(in.closed, 1);
        expect_idle(f);
        /* Its frames now miss. */
        oracle_forget(f, &a);
        struct tcpe_seg s = mkseg(CLIENT_IP, 42000, SERVER_IP, SERVER_PORT, TCPE_ACK, 10);
        wire_in(f, &s);
        expect_work(f, HR, p.costs.host_rx + f->probes[f->next_id - 1] * p.costs.lookup_probe,
                    CAT_HOST);
        net_free(nt);
        fake_free(f);
    }
}

/* ---- tests: bad commands ------------------------------------------------------------------ */

#define WHOLE UINT32_MAX /* the whole valid message */

struct bad_case {
    const char *name;
    uint32_t len;  /* bytes given, or WHOLE */
    int byte;      /* which byte to change, -1 none */
    uint8_t value; /* its new value */
};

static const struct bad_case bad_cases[] = {
    {"empty", 0, -1, 0},
    {"one byte", 1, -1, 0},
    {"header cut short", HO_CMD_HDR_SIZE - 1, -1, 0},
    {"version 0", WHOLE, 0, 0},
    {"version 2", WHOLE, 0, HO_CMD_VERSION + 1},
    {"version 255", WHOLE, 0, 0xff},
    {"type 0", WHOLE, 1, 0},
    {"HANDOFF_REPLY", WHOLE, 1, HO_CMD_HANDOFF_REPLY},
    {"RESTORE", WHOLE, 1, HO_CMD_RESTORE},
    {"SOFT_LIMIT", WHOLE, 1, HO_CMD_SOFT_LIMIT},
    {"RECV", WHOLE, 1, HO_CMD_RECV},
    {"CLOSED", WHOLE, 1, HO_CMD_CLOSED},
    {"ACKED", WHOLE, 1, HO_CMD_ACKED},
    {"type past the last", WHOLE, 1, HO_CMD_TYPE_LAST + 1},
    {"type 255", WHOLE, 1, 0xff},
};

static void test_bad_commands(void **state)
{
    (void)state;
    for (uint32_t hard = 0; hard <= 4; hard += 4) {
        struct ho_nic_params p = base_params(hard);
        struct fake *f = fake_new(&p);
        struct ho_cmd send = {.type = HO_CMD_SEND};
        send.send.conn_id = 1;
        send.send.len = 10;
        uint8_t good[64];
        int glen = ho_cmd_encode(&send, good, sizeof good);
        assert_true(glen > HO_CMD_HDR_SIZE);
        for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
            const struct bad_case *c = &bad_cases[i];
            uint8_t msg[64];
            memcpy(msg, good, sizeof msg);
            uint32_t len = c->len == WHOLE ? (uint32_t)glen : c->len;
            if (c->byte >= 0) {
                msg[c->byte] = c->value;
            }
            f->now += 1000;
            int rc = ho_nic_cmd(f->nic, msg, len, f->now);
            if (rc != HO_EPROTO) {
                fail_msg("%s (hard limit %u): ho_nic_cmd returned %d", c->name, hard, rc);
            }
            assert_int_equal(f->ready, 0);
            expect_idle(f);
            struct ho_nic_work w;
            assert_false(ho_nic_begin(f->nic, f->now, &w));
        }
        if (hard > 0) {
            /* Nothing was consumed: the first command taken is still number 0. */
            struct net *nt = net_new();
            struct conn a;
            net_open(nt, &a, 43000, 1, f->now);
            handoff_ok(f, &a);
            net_free(nt);
        }
        fake_free(f);
    }
}

/*
 * ho_nic_cmd: "HO_EPROTO (and nothing is queued) if the message is not a command the NIC
 * takes"; nic.h: without handoff the firmware takes no commands. Each row is a message the
 * firmware cannot carry out; queued, it would stop the firmware (HO_ASSERT) when taken, so the
 * test only checks the answer and destroys the firmware without running the work.
 */
enum arrive_kind {
    A_PLAIN_SEND,
    A_PLAIN_HANDOFF,
    A_RCVD,
    A_RESTORE_REQUEST,
    A_SHORT_BODY,
    A_TRAILING_BYTE,
    A_ZERO_LENGTH,
    A_HDR_FLAG
};

struct arrive_case {
    const char *name;
    uint32_t hard_limit;
    enum arrive_kind kind;
};

static const struct arrive_case arrive_cases[] = {
    {"plain NIC: SEND", 0, A_PLAIN_SEND},
    {"plain NIC: HANDOFF", 0, A_PLAIN_HANDOFF},
    {"RCVD, which this firmware refuses", 4, A_RCVD},
    {"plain NIC: RESTORE_REQUEST", 0, A_RESTORE_REQUEST},
    {"SEND cut short", 4, A_SHORT_BODY},
    {"SEND with a trailing byte", 4, A_TRAILING_BYTE},
    {"SEND of 0 bytes", 4, A_ZERO_LENGTH},
    {"header flag bit set", 4, A_HDR_FLAG},
};

static void test_cmd_checked_on_arrival(void **state)
{
    (void)state;
    static const uint8_t blob[16] = "some TCP state";
    char taken[512] = "";
    for (size_t i = 0; i < sizeof arrive_cases / sizeof arrive_cases[0]; i++) {
        const struct arrive_case *c = &arrive_cases[i];
        struct ho_nic_params p = base_params(c->hard_limit);
        struct fake *f = fake_new(&p);
        struct ho_cmd cmd;
        memset(&cmd, 0, sizeof cmd);
        switch (c->kind) {
        case A_PLAIN_HANDOFF:
            cmd.type = HO_CMD_HANDOFF;
            cmd.handoff.conn_id = 1;
            cmd.handoff.state.len = sizeof blob;
            cmd.handoff.state.data = blob;
            break;
        case A_RCVD:
            cmd.type = HO_CMD_RCVD;
            cmd.rcvd.conn_id = 1;
            cmd.rcvd.len = 10;
            break;
        case A_RESTORE_REQUEST:
            cmd.type = HO_CMD_RESTORE_REQUEST;
            cmd.restore_request.conn_id = 1;
            break;
        default:
            cmd.type = HO_CMD_SEND;
            cmd.send.conn_id = 1;
            cmd.send.len = 10;
            break;
        }
        uint8_t msg[128];
        memset(msg, 0, sizeof msg);
        int len = ho_cmd_encode(&cmd, msg, sizeof msg);
        assert_true(len > HO_CMD_HDR_SIZE);
        if (c->kind == A_SHORT_BODY) {
            len -= 4;
        } else if (c->kind == A_TRAILING_BYTE) {
            len += 1;
        } else if (c->kind == A_ZERO_LENGTH) {
            memset(msg + HO_CMD_HDR_SIZE + 4, 0, 4); /* SEND's length field */
        } else if (c->kind == A_HDR_FLAG) {
            msg[2] = 0x80;
        }
        if (c->kind >= A_SHORT_BODY) {
            struct ho_cmd out;
            assert_int_not_equal(ho_cmd_decode(msg, (size_t)len, &out), HO_OK);
        }
        f->now = 1000;
        int rc = ho_nic_cmd(f->nic, msg, (uint32_t)len, f->now);
        if (rc != HO_EPROTO || f->ready != 0 || info_of(f).queued != 0) {
            size_t used = strlen(taken);
            snprintf(taken + used, sizeof taken - used, "%s%s (returned %d)", used ? "; " : "",
                     c->name, rc);
        }
        fake_free(f); /* without running what was queued */
    }
    if (taken[0]) {
        fail_msg("ho_nic_cmd took commands the firmware cannot carry out: %s", taken);
    }
}

/* ---- tests: the TCP timers ---------------------------------------------------------------- */

enum timer_kind { TIMER_RTO, TIMER_TWO_RTOS, TIMER_DELACK };

struct timer_case {
    const char *name;
    enum timer_kind kind;
    uint32_t scale_pct;
    uint64_t expiries;
};

static const struct timer_case timer_cases[] = {
    {"retransmission timeout", TIMER_RTO, 100, 1},
    {"retransmission timeout, scale 150", TIMER_RTO, 150, 1},
    {"two connections time out, timer late", TIMER_TWO_RTOS, 130, 2},
    {"delayed ACK", TIMER_DELACK, 70, 1},
};

static void test_timer_debt(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof timer_cases / sizeof timer_cases[0]; i++) {
        const struct timer_case *c = &timer_cases[i];
        struct ho_nic_params p = base_params(4);
        p.costs.scale_pct = c->scale_pct;
        if (c->kind == TIMER_DELACK) {
            p.delack_ns = 40 * MS;
        }
        const struct ho_nic_costs *k = &p.costs;
        struct fake *f = fake_new(&p);
        struct net *nt = net_new();
        struct conn a, b;
        f->now = 1 * MS;
        net_open(nt, &a, 44000, 1, f->now);
        net_open(nt, &b, 44001, 2, f->now);
        handoff_ok(f, &a);
        handoff_ok(f, &b);
        assert_int_equal(f->timer_calls[HO_NIC_TIMER_TCP], 0); /* idle connections */
        f->now = 2 * MS;
        uint32_t seq = 0, len = 0;
        if (c->kind == TIMER_DELACK) {
            /* One small segment: its ACK is delayed. */
            assert_int_equal(tcpe_send(a.peer, NULL, 100, f->now), 100);
            to_nic(f, nt);
            struct done d = expect_work(
                f, NR, scaled(f, k->tcp_rx) + f->probes[f->next_id - 1] * k->lookup_probe, CAT_TCP);
            assert_int_equal(d.grew, 1); /* the RECV, no ACK */
            expect_work(f, NT, scaled(f, k->msg), CAT_MSG);
            assert_int_equal(next_msg(f, HO_CMD_RECV)->recv.len, 100);
            assert_int_equal(f->nwire, 0);
            assert_int_equal(f->timer_calls[HO_NIC_TIMER_TCP], 1);
            assert_true(f->timer_when[HO_NIC_TIMER_TCP] == d.ended + p.delack_ns);
        } else {
            send_cmd(f, 1, 1000);
            if (c->kind == TIMER_TWO_RTOS) {
                send_cmd(f, 2, 700);
            }
            run_all(f);
            assert_int_equal(f->nwire, c->kind == TIMER_TWO_RTOS ? 2 : 1);
            seq = f->wire[0].p->seg.seq;
            len = f->wire[0].p->seg.len;
            assert_int_equal(len, 1000);
            lose_wire(f);
            assert_true(f->timer_calls[HO_NIC_TIMER_TCP] >= 1);
        }
        expect_idle(f);
        uint64_t when = f->timer_when[HO_NIC_TIMER_TCP];
        assert_true(when != HO_NIC_NEVER && when > f->now);
        /* Early: nothing is due, nothing is owed. */
        unsigned ready = f->ready;
        size_t nwire = f->nwire;
        if (c->kind == TIMER_TWO_RTOS) {
            f->now = when + 1 * MS; /* both are due by now */
        } else {
            f->now = when;
        }
        ho_nic_timer(f->nic, HO_NIC_TIMER_TCP, f->now);
        assert_true(f->ready > ready);     /* the output wakes an idle processor */
        assert_int_equal(f->nwire, nwire); /* queued, not yet sent */
        struct ho_nic_info in = info_of(f);
        assert_int_equal(in.queued, c->expiries);
        assert_int_equal(in.queued_pkts, c->expiries);
        uint64_t debt = c->expiries * k->timer * c->scale_pct / 100;
        uint64_t t0 = f->now;
        struct done d = expect_work(f, NT, scaled(f, k->tcp_tx), CAT_TCP);
        assert_true(d.w.timer_cost == debt);
        assert_true(d.ended == t0 + debt + d.w.cost);
        const struct tcpe_seg *out = &f->wire[nwire].p->seg;
        if (c->kind == TIMER_DELACK) {
            assert_int_equal(out->len, 0);
            assert_true(out->flags & TCPE_ACK);
            struct tcpe_info pi;
            tcpe_conn_info(a.peer, &pi);
            assert_int_equal(out->ack, pi.snd_nxt);
        } else {
            assert_int_equal(out->seq, seq); /* the same bytes again */
            assert_int_equal(out->len, len);
        }
        /* The debt is paid once. */
        if (c->expiries > 1) {
            d = expect_work(f, NT, scaled(f, k->tcp_tx), CAT_TCP);
            assert_true(d.w.timer_cost == 0);
        }
        expect_idle(f);
        struct tcpe_seg s = mkseg(OTHER_IP, 1, SERVER_IP, SERVER_PORT, TCPE_ACK, 1);
        wire_in(f, &s);
        d = run_one(f);
        assert_true(d.w.timer_cost == 0);
        /* A timer with nothing due owes nothing. */
        f->now += 1 * US;
        ho_nic_timer(f->nic, HO_NIC_TIMER_TCP, f->now);
        wire_in(f, &s);
        d = run_one(f);
        assert_true(d.w.timer_cost == 0);
        net_free(nt);
        fake_free(f);
    }
}

/* ---- tests: destroy ----------------------------------------------------------------------- */

enum destroy_kind {
    D_PLAIN_QUEUED,
    D_PLAIN_WORKING,
    D_HANDOFF_QUEUED,
    D_HANDOFF_WORKING_RX,
    D_HANDOFF_WORKING_MSG
};

struct destroy_case {
    const char *name;
    enum destroy_kind kind;
};

static const struct destroy_case destroy_cases[] = {
    {"plain NIC, packets queued", D_PLAIN_QUEUED},
    {"plain NIC, mid-work", D_PLAIN_WORKING},
    {"handoff, every queue busy", D_HANDOFF_QUEUED},
    {"handoff, mid NIC_RX work", D_HANDOFF_WORKING_RX},
    {"handoff, mid message work", D_HANDOFF_WORKING_MSG},
};

static void test_destroy(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof destroy_cases / sizeof destroy_cases[0]; i++) {
        const struct destroy_case *c = &destroy_cases[i];
        bool handoff = c->kind >= D_HANDOFF_QUEUED;
        struct ho_nic_params p = base_params(handoff ? 4 : 0);
        struct fake *f = fake_new(&p);
        struct net *nt = net_new();
        struct conn a;
        f->now = 1 * MS;
        struct tcpe_seg in = mkseg(OTHER_IP, 7, SERVER_IP, SERVER_PORT, TCPE_ACK, 10);
        struct tcpe_seg out = mkseg(SERVER_IP, SERVER_PORT, OTHER_IP, 7, TCPE_ACK, 10);
        if (handoff) {
            net_open(nt, &a, 45000, 1, f->now);
            handoff_ok(f, &a);
            f->now = 2 * MS;
            send_cmd(f, 1, 5000);
            if (c->kind != D_HANDOFF_WORKING_MSG) {
                run_one(f); /* the SEND: data segments wait on NIC_TX */
                assert_true(info_of(f).queued_pkts >= 2);
            }
            assert_int_equal(tcpe_send(a.peer, NULL, 300, f->now), 300);
            assert_int_equal(to_nic(f, nt), 1); /* a NIC packet */
            struct tcpe_seg rst = mkseg(CLIENT_IP, 45001, SERVER_IP, SERVER_PORT, TCPE_RST, 0);
            forward_in(f, &rst);
            send_cmd(f, 1, 10); /* a command */
        }
        wire_in(f, &in);
        wire_in(f, &in);
        host_out(f, &out);
        if (c->kind == D_HANDOFF_WORKING_RX) {
            struct ho_sched_item it;
            while (ho_nic_peek(f->nic, &it) == HO_OK && it.queue == NT) {
                run_one(f); /* the data segments go to the wire */
            }
        }
        uint32_t held = info_of(f).queued_pkts;
        assert_true(held >= 3);
        if (c->kind == D_PLAIN_WORKING || c->kind == D_HANDOFF_WORKING_RX ||
            c->kind == D_HANDOFF_WORKING_MSG) {
            struct ho_nic_work w;
            assert_true(ho_nic_begin(f->nic, f->now, &w));
            enum ho_sched_queue want = c->kind == D_PLAIN_WORKING        ? HR
                                       : c->kind == D_HANDOFF_WORKING_RX ? NR
                                                                         : CM;
            assert_int_equal(w.item.queue, want);
            if (want == CM) {
                assert_null(w.pkt);
                assert_int_equal(info_of(f).queued_pkts, held);
            } else {
                assert_non_null(w.pkt);
                assert_int_equal(info_of(f).queued_pkts, held - 1);
            }
        }
        unsigned frees = f->fw_frees;
        unsigned allocs = f->allocs;
        ho_nic_destroy(f->nic);
        f->nic = NULL;
        assert_int_equal(f->fw_frees - frees, held);
        assert_int_equal(f->allocs, allocs);
        net_free(nt);
        fake_free(f); /* checks allocs == frees + wire + host */
    }
}

/* ---- tests: the doorbell ------------------------------------------------------------------ */

/*
 * nic.h: "An entry point that queues work rings the platform's doorbell (ops.ready) before it
 * returns, so that an idle processor can begin it; ho_nic_end need not, since the platform
 * begins the next piece after each piece anyway." Each row feeds the firmware through an entry
 * point (which must ring), runs the piece of work that follows, which queues output on NIC_TX,
 * and checks that the next piece the platform begins is that output.
 */
enum bell_kind { BELL_DATA_IN, BELL_SEND, BELL_CLOSE, BELL_OUT_OF_ORDER, BELL_ACK_OPENS };

struct bell_case {
    const char *name;
    enum bell_kind kind;
};

static const struct bell_case bell_cases[] = {
    {"NIC_RX data: ACK and RECV", BELL_DATA_IN},
    {"CMD SEND: data segments", BELL_SEND},
    {"CMD CLOSE: a FIN", BELL_CLOSE},
    {"NIC_RX out-of-order data: a duplicate ACK", BELL_OUT_OF_ORDER},
    {"NIC_RX ACK opening the window: more data", BELL_ACK_OPENS},
};

static void test_doorbell(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof bell_cases / sizeof bell_cases[0]; i++) {
        const struct bell_case *c = &bell_cases[i];
        struct ho_nic_params p = base_params(4);
        struct fake *f = fake_new(&p);
        struct net *nt = net_new();
        struct conn a;
        f->now = 1 * MS;
        net_open(nt, &a, 46000, 1, f->now);
        handoff_ok(f, &a);
        f->now = 2 * MS;
        unsigned rang = f->ready;
        struct done d;
        switch (c->kind) {
        case BELL_DATA_IN:
            assert_int_equal(tcpe_send(a.peer, NULL, 100, f->now), 100);
            to_nic(f, nt);
            assert_true(f->ready > rang);
            d = run_one(f);
            assert_int_equal(d.w.item.queue, NR);
            break;
        case BELL_SEND:
            send_cmd(f, 1, 1000);
            assert_true(f->ready > rang);
            d = run_one(f);
            assert_int_equal(d.w.item.queue, CM);
            break;
        case BELL_CLOSE:
            close_cmd(f, 1);
            assert_true(f->ready > rang);
            d = run_one(f);
            assert_int_equal(d.w.item.queue, CM);
            break;
        case BELL_OUT_OF_ORDER:
            assert_int_equal(tcpe_send(a.peer, NULL, 2000, f->now), 2000);
            assert_int_equal(nt->peer_out.n, 2);
            wire_in(f, &nt->peer_out.s[1]); /* the first is lost */
            nt->peer_out.n = 0;
            assert_true(f->ready > rang);
            d = run_one(f);
            assert_int_equal(d.w.item.queue, NR);
            break;
        case BELL_ACK_OPENS:
        default:
            send_cmd(f, 1, 60000); /* more than the first window */
            run_all(f);
            to_peer(f, nt);
            assert_true(nt->peer_out.n >= 1);
            rang = f->ready;
            wire_in(f, &nt->peer_out.s[0]); /* the first ACK */
            nt->peer_out.n = 0;
            assert_true(f->ready > rang);
            d = run_one(f);
            assert_int_equal(d.w.item.queue, NR);
            assert_int_equal(f->nmsg, f->msg_seen); /* the ACK is aggregated, not posted */
            break;
        }
        if (d.grew == 0) {
            fail_msg("%s: the work queued no output", c->name);
        }
        struct ho_sched_item next;
        assert_int_equal(ho_nic_peek(f->nic, &next), HO_OK);
        if (next.queue != HO_SCHED_NIC_TX) {
            fail_msg("%s: the next piece is on %s, not the output", c->name,
                     ho_sched_queue_name(next.queue));
        }
        run_all(f);
        net_free(nt);
        fake_free(f);
    }
}

/* ---- tests: restoring a connection to the host ---------------------------------------------- */

/*
 * nic.h, ho_nic_cmd: "RESTORE_REQUEST gives a connection back: what it has received goes to the
 * host first (RECV), then its state, with the bytes it still has to send, in a RESTORE message,
 * and it leaves the NIC." Each row brings connection A to a different point on the NIC (B, a
 * second connection, stays there throughout), then asks for A back and checks: the command's
 * cost (cmd + handoff, like a HANDOFF); the messages about A, in order (RECV for everything A
 * received, ACKED for every pending ACK, then the RESTORE, its last); the RESTORE's fields; that
 * A left the NIC (lookup table, Cnum, ho_nic_info.restored, no TCP timer left for it, its
 * frames now host packets) while B goes on; that the state imports into the host's stack as the
 * same connection (tuple, state, SND.UNA, SND.NXT and RCV.NXT against the peer's view and the
 * handoff's, nothing readable left in it) which then talks to the peer directly, the lost bytes
 * retransmitted from the host; and that the same connection, handed off again under the same
 * id, is taken and works.
 */
enum restore_kind {
    R_IDLE,          /* nothing happened on the NIC */
    R_STATE_DATA,    /* the host had received 100 bytes, unread, before the handoff */
    R_PEER_DATA_FIN, /* the peer sent 700 bytes and its FIN, delivered by the NIC */
    R_SENDING,       /* the NIC sent 3000 bytes, acknowledged (the ACK still aggregating), and
                        1000 more, lost on the wire */
};

struct restore_case {
    const char *name;
    enum restore_kind kind;
    uint32_t received; /* bytes the RECV messages about A must carry in all */
    bool fin;          /* one of them carries the peer's FIN */
    uint32_t nic_sent; /* bytes A sent from the NIC */
    uint32_t acked;    /* of those, reported in an ACKED inside the restore */
    uint32_t unacked;  /* the RESTORE's sockbuf.snd_unacked */
};

static const struct restore_case restore_cases[] = {
    {"idle connection", R_IDLE, 0, false, 0, 0, 0},
    {"data that came with the state", R_STATE_DATA, 100, false, 0, 0, 0},
    {"peer data and FIN, delivered", R_PEER_DATA_FIN, 700, true, 0, 0, 0},
    {"pending ACKs and unacknowledged bytes", R_SENDING, 0, false, 4000, 3000, 1000},
};

/* Lets the host's stack and the peer talk, timers included, until the peer holds `want`
 * readable bytes; returns the time reached. */
static uint64_t net_run_until_readable(struct net *nt, struct tcpe_conn *peer, uint32_t want,
                                       uint64_t now)
{
    for (int step = 0;; step++) {
        assert_true(step < 100);
        net_pump(nt, now);
        if (tcpe_conn_readable(peer) >= want) {
            return now;
        }
        uint64_t h = tcpe_stack_next_wake(nt->host), p = tcpe_stack_next_wake(nt->peer);
        uint64_t next = h < p ? h : p;
        assert_true(next != TCPE_NEVER);
        now = next > now ? next : now;
        tcpe_stack_timers(nt->host, now);
        tcpe_stack_timers(nt->peer, now);
    }
}

static void test_restore_request(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof restore_cases / sizeof restore_cases[0]; i++) {
        const struct restore_case *c = &restore_cases[i];
        struct ho_nic_params p = base_params(4);
        const struct ho_nic_costs *k = &p.costs;
        struct fake *f = fake_new(&p);
        struct net *nt = net_new();
        struct conn a, b;
        f->now = 1 * MS;
        net_open(nt, &a, 48000, 21, f->now);
        net_open(nt, &b, 48001, 22, f->now);
        handoff_ok(f, &b);
        if (c->kind == R_STATE_DATA) {
            assert_int_equal(tcpe_send(a.peer, NULL, 100, f->now), 100);
            net_pump(nt, f->now);
            assert_int_equal(tcpe_conn_readable(a.srv), 100);
        }
        struct tcpe_info h0; /* the host's end as it was handed off */
        tcpe_conn_info(a.srv, &h0);
        handoff_ok(f, &a);
        struct ho_nic_info in = info_of(f);
        assert_int_equal(in.conns, 2);
        assert_int_equal(in.cnum, 2);
        assert_int_equal(in.restored, 0);

        f->now = 2 * MS;
        if (c->kind == R_PEER_DATA_FIN) {
            assert_int_equal(tcpe_send(a.peer, NULL, 700, f->now), 700);
            assert_int_equal(tcpe_shutdown(a.peer, f->now), HO_OK);
            settle(f, nt);
        } else if (c->kind == R_SENDING) {
            send_cmd(f, 21, 3000);
            settle(f, nt); /* the peer's ACKs wait in aggregation: no ACKED yet */
            assert_int_equal(tcpe_conn_readable(a.peer), 3000);
            for (size_t m = f->msg_seen; m < f->nmsg; m++) {
                assert_int_not_equal(f->msg[m].cmd.type, HO_CMD_ACKED);
            }
            send_cmd(f, 21, 1000);
            run_all(f);
            assert_int_equal(lose_wire(f), 1);
            assert_true(f->timer_when[HO_NIC_TIMER_TCP] != HO_NIC_NEVER);
        } else {
            run_all(f);
        }
        expect_idle(f);

        /* The request: one command that costs what a handoff does. */
        f->now += 10 * US;
        restore_cmd(f, 21);
        struct done d = expect_work(f, CM, scaled(f, k->cmd + k->handoff), CAT_MSG);
        assert_null(d.w.pkt);
        in = info_of(f);
        assert_int_equal(in.conns, 1);
        assert_int_equal(in.cnum, 1);
        assert_int_equal(in.restored, 1);
        assert_int_equal(in.accepted, 2);
        assert_int_equal(in.closed, 0);
        assert_int_equal(in.late_cmds, 0);
        run_all(f);
        oracle_forget(f, &a);

        /* Its messages, from the handoff on: RECVs and ACKED, then the RESTORE, last. */
        uint32_t received = 0, acked = 0;
        bool fin = false;
        const struct ho_cmd *rs = NULL;
        while (f->msg_seen < f->nmsg) {
            const struct ho_cmd *m = &f->msg[f->msg_seen++].cmd;
            assert_null(rs); /* nothing after the RESTORE */
            switch (m->type) {
            case HO_CMD_RECV:
                assert_int_equal(m->recv.conn_id, 21);
                received += m->recv.len;
                fin |= (m->recv.flags & HO_CMD_RECV_FIN) != 0;
                break;
            case HO_CMD_ACKED:
                for (unsigned e = 0; e < m->acked.count; e++) {
                    assert_int_equal(m->acked.entries[e].conn_id, 21);
                    acked += m->acked.entries[e].bytes;
                }
                break;
            case HO_CMD_RESTORE:
                rs = m;
                break;
            default:
                fail_msg("%s: unexpected %s", c->name, ho_cmd_type_name(m->type));
            }
        }
        if (!rs) {
            fail_msg("%s: no RESTORE", c->name);
        }
        assert_int_equal(received, c->received);
        assert_int_equal(fin, c->fin);
        assert_int_equal(acked, c->acked);
        assert_int_equal(rs->restore.conn_id, 21);
        assert_int_equal(rs->restore.reason, HO_CMD_RESTORE_REQUESTED);
        assert_int_equal(rs->restore.sockbuf.snd_unacked, c->unacked);
        assert_true(rs->restore.state.len > 0);
        /* B was idle: with A gone, the NIC's TCP has no timer left (no retransmission of A's
         * lost bytes from the NIC). */
        assert_true(f->timer_when[HO_NIC_TIMER_TCP] == HO_NIC_NEVER);

        /* The state is A's connection, as the peer sees it, with nothing left unread. */
        struct tcpe_conn *back = NULL;
        assert_int_equal(
            tcpe_import(nt->host, rs->restore.state.data, rs->restore.state.len, f->now, &back),
            HO_OK);
        assert_memory_equal(tcpe_conn_tuple(back), &a.tuple, sizeof a.tuple);
        struct tcpe_info bi, pi;
        tcpe_conn_info(back, &bi);
        tcpe_conn_info(a.peer, &pi);
        assert_int_equal(bi.state, c->fin ? TCPE_CLOSE_WAIT : TCPE_ESTABLISHED);
        assert_int_equal(bi.rcv_nxt, pi.snd_nxt); /* everything the peer sent, FIN included */
        assert_int_equal(bi.rcv_nxt, h0.rcv_nxt + (c->kind == R_PEER_DATA_FIN ? 700 + 1 : 0));
        assert_int_equal(bi.snd_una, pi.rcv_nxt); /* everything the peer got, acknowledged */
        assert_int_equal(bi.snd_nxt, h0.snd_nxt + c->nic_sent);
        assert_int_equal(bi.snd_nxt - bi.snd_una, c->unacked);
        assert_int_equal(tcpe_conn_unacked(back), c->unacked);
        assert_int_equal(tcpe_conn_readable(back), 0); /* it all went to the host in RECV */
        assert_int_equal(tcpe_conn_eof(back), c->fin);

        /* Back on the host, it talks to the peer directly: the lost bytes come from there. */
        assert_int_equal(tcpe_send(back, NULL, 500, f->now), 500);
        f->now = net_run_until_readable(nt, a.peer, c->nic_sent + 500, f->now);
        assert_int_equal(tcpe_conn_readable(a.peer), c->nic_sent + 500);
        assert_int_equal(tcpe_conn_unacked(back), 0);

        /* Its frames are host packets now; B's are still the NIC's. */
        struct tcpe_seg s = mkseg(CLIENT_IP, 48000, SERVER_IP, SERVER_PORT, TCPE_ACK, 10);
        struct ho_pkt *hp = wire_in(f, &s);
        expect_work(f, HR, k->host_rx + f->probes[hp->id] * k->lookup_probe, CAT_HOST);
        assert_ptr_equal(f->host[f->nhost - 1].p, hp);
        assert_int_equal(tcpe_send(b.peer, NULL, 10, f->now), 10);
        settle(f, nt);
        const struct ho_cmd *rb = next_msg(f, HO_CMD_RECV);
        assert_int_equal(rb->recv.conn_id, 22);
        assert_int_equal(rb->recv.len, 10);
        no_more_msgs(f);

        /* A again, under the same id: taken into the freed slot, and its frames hit. */
        a.srv = back;
        f->now += 1 * MS;
        handoff_ok(f, &a);
        in = info_of(f);
        assert_int_equal(in.conns, 2);
        assert_int_equal(in.cnum, 2);
        if (!c->fin) {
            assert_int_equal(tcpe_send(a.peer, NULL, 30, f->now), 30);
            settle(f, nt);
            const struct ho_cmd *ra = next_msg(f, HO_CMD_RECV);
            assert_int_equal(ra->recv.conn_id, 21);
            assert_int_equal(ra->recv.len, 30);
        }
        no_more_msgs(f);
        assert_int_equal(f->faults, 0);
        net_free(nt);
        fake_free(f);
    }
}

/*
 * nic.h: "The packets of a restored connection waiting on NIC_RX become host packets at once."
 * The RESTORE_REQUEST is queued first, then a packet of A (from the wire, where the lookup still
 * hits, or forwarded by the driver), then one of B. The restore runs first and takes A's packet
 * out of Qlen; it then goes to the host (ops.host_rx) at a host packet's cost, untouched by the
 * NIC's TCP: no RST, nothing consumed or counted; the host's stack, given the RESTORE's state,
 * takes its bytes. B's packet still goes to the NIC's TCP.
 */
struct queued_case {
    const char *name;
    bool host_first;
    bool forwarded; /* A's packet comes from the driver (ho_nic_forward), else from the wire */
};

static const struct queued_case queued_cases[] = {
    {"FCFS, a frame from the wire", false, false},
    {"host first, a frame from the wire", true, false},
    {"FCFS, a packet the driver forwarded", false, true},
};

static void test_restore_queued_packet(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof queued_cases / sizeof queued_cases[0]; i++) {
        const struct queued_case *c = &queued_cases[i];
        struct ho_nic_params p = base_params(4);
        p.host_first = c->host_first;
        const struct ho_nic_costs *k = &p.costs;
        struct fake *f = fake_new(&p);
        struct net *nt = net_new();
        struct conn a, b;
        f->now = 1 * MS;
        net_open(nt, &a, 48100, 31, f->now);
        net_open(nt, &b, 48101, 32, f->now);
        handoff_ok(f, &a);
        handoff_ok(f, &b);
        expect_idle(f);

        f->now = 2 * MS;
        restore_cmd(f, 31);
        assert_int_equal(tcpe_send(a.peer, NULL, 100, f->now), 100);
        assert_int_equal(nt->peer_out.n, 1);
        struct ho_pkt *pa =
            c->forwarded ? forward_in(f, &nt->peer_out.s[0]) : wire_in(f, &nt->peer_out.s[0]);
        nt->peer_out.n = 0;
        assert_int_equal(tcpe_send(b.peer, NULL, 50, f->now), 50);
        struct ho_pkt *pb = wire_in(f, &nt->peer_out.s[0]);
        nt->peer_out.n = 0;
        uint32_t ida = pa->id, idb = pb->id; /* the firmware owns them now */
        assert_int_equal(info_of(f).qlen, 2);

        expect_work(f, CM, scaled(f, k->cmd + k->handoff), CAT_MSG);
        oracle_forget(f, &a);
        assert_int_equal(info_of(f).qlen, 1); /* A's packet is a host packet now */

        /* The RESTORE goes to the driver and A's packet to the host as a host packet, in the
         * scheduler's order; the NIC's TCP never sees the packet. */
        struct tcpe_stats before = *info_of(f).tcp;
        size_t nwire = f->nwire, nhost = f->nhost;
        unsigned frees = f->fw_frees;
        bool restored = false, delivered = false;
        uint64_t delivered_at = 0;
        while (!restored || !delivered) {
            struct ho_sched_item peeked;
            assert_int_equal(ho_nic_peek(f->nic, &peeked), HO_OK);
            if (peeked.queue == NT) {
                expect_work(f, NT, scaled(f, k->msg), CAT_MSG);
                restored = true;
            } else {
                struct done d =
                    expect_work(f, HR, k->host_rx + f->probes[ida] * k->lookup_probe, CAT_HOST);
                assert_int_equal(d.id, ida);
                delivered = true;
                delivered_at = d.ended;
            }
        }
        const struct ho_cmd *rs = next_msg(f, HO_CMD_RESTORE);
        assert_int_equal(rs->restore.conn_id, 31);
        assert_int_equal(f->nhost, nhost + 1);
        assert_int_equal(f->host[nhost].p->id, ida);
        assert_true(f->host[nhost].t == delivered_at);
        assert_int_equal(f->host[nhost].p->seg.len, 100);
        assert_int_equal(f->nwire, nwire);    /* no RST, no ACK */
        assert_int_equal(f->fw_frees, frees); /* not consumed */
        const struct tcpe_stats *after = info_of(f).tcp;
        assert_true(after->segs_in == before.segs_in);
        assert_true(after->rsts_out == before.rsts_out);
        assert_true(after->drops[TCPE_DROP_NO_CONN] == before.drops[TCPE_DROP_NO_CONN]);
        no_more_msgs(f);

        /* B's packet is the NIC's TCP's. */
        struct done d =
            expect_work(f, NR, scaled(f, k->tcp_rx) + f->probes[idb] * k->lookup_probe, CAT_TCP);
        assert_int_equal(d.id, idb);
        run_all(f);
        const struct ho_cmd *rb = next_msg(f, HO_CMD_RECV);
        assert_int_equal(rb->recv.conn_id, 32);
        assert_int_equal(rb->recv.len, 50);
        no_more_msgs(f);
        expect_idle(f);

        /* The host's stack, with the state, takes the packet the NIC gave it. */
        struct tcpe_conn *back = NULL;
        assert_int_equal(
            tcpe_import(nt->host, rs->restore.state.data, rs->restore.state.len, f->now, &back),
            HO_OK);
        assert_int_equal(tcpe_conn_readable(back), 0);
        assert_int_equal(tcpe_stack_input(nt->host, &f->host[nhost].p->seg, f->now), HO_OK);
        assert_int_equal(tcpe_conn_readable(back), 100);
        net_pump(nt, f->now);
        assert_int_equal(tcpe_conn_unacked(a.peer), 0);
        assert_int_equal(f->faults, 0);
        net_free(nt);
        fake_free(f);
    }
}

/*
 * nic.h: "A SEND, CLOSE or RESTORE_REQUEST for a connection that has ended on the NIC meanwhile
 * is late, not wrong: it is dropped and counted." A (id 51) is reset by its peer, or was given
 * back already, or was never on the NIC; a command naming it is taken at its usual cost, does
 * nothing (no message, no frame, no output queued, the NIC's counts unchanged) and counts in
 * ho_nic_info.late_cmds. B (id 52) goes on, and the next command is taken in sequence.
 */
enum late_why { LATE_RESET, LATE_RESTORED, LATE_NEVER, LATE_UNSEEN_ID };

struct late_case {
    const char *name;
    uint8_t type;
    enum late_why why;
};

static const struct late_case late_cases[] = {
    {"SEND, reset by the peer", HO_CMD_SEND, LATE_RESET},
    {"CLOSE, reset by the peer", HO_CMD_CLOSE, LATE_RESET},
    {"RESTORE_REQUEST, reset by the peer", HO_CMD_RESTORE_REQUEST, LATE_RESET},
    {"SEND, given back already", HO_CMD_SEND, LATE_RESTORED},
    {"CLOSE, given back already", HO_CMD_CLOSE, LATE_RESTORED},
    {"RESTORE_REQUEST, given back already", HO_CMD_RESTORE_REQUEST, LATE_RESTORED},
    {"SEND, never on the NIC", HO_CMD_SEND, LATE_NEVER},
    {"CLOSE, never on the NIC", HO_CMD_CLOSE, LATE_NEVER},
    {"RESTORE_REQUEST, never on the NIC", HO_CMD_RESTORE_REQUEST, LATE_NEVER},
    {"SEND, an id far past any handed off", HO_CMD_SEND, LATE_UNSEEN_ID},
    {"RESTORE_REQUEST, an id far past any handed off", HO_CMD_RESTORE_REQUEST, LATE_UNSEEN_ID},
};

static void test_late_commands(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof late_cases / sizeof late_cases[0]; i++) {
        const struct late_case *c = &late_cases[i];
        struct ho_nic_params p = base_params(4);
        const struct ho_nic_costs *k = &p.costs;
        struct fake *f = fake_new(&p);
        struct net *nt = net_new();
        struct conn a, b;
        f->now = 1 * MS;
        net_open(nt, &a, 48200, 51, f->now);
        net_open(nt, &b, 48201, 52, f->now);
        handoff_ok(f, &b);
        uint32_t id = 51;
        f->now = 2 * MS;
        switch (c->why) {
        case LATE_RESET:
            handoff_ok(f, &a);
            tcpe_abort(a.peer, f->now);
            to_nic(f, nt);
            run_all(f);
            assert_int_equal(next_msg(f, HO_CMD_CLOSED)->closed.how, HO_CMD_CLOSED_RESET);
            oracle_forget(f, &a);
            break;
        case LATE_RESTORED:
            handoff_ok(f, &a);
            restore_cmd(f, 51);
            run_all(f);
            assert_int_equal(next_msg(f, HO_CMD_RESTORE)->restore.conn_id, 51);
            oracle_forget(f, &a);
            break;
        case LATE_NEVER:
            break;
        case LATE_UNSEEN_ID:
        default:
            id = 100000;
            break;
        }
        no_more_msgs(f);
        expect_idle(f);
        struct ho_nic_info in0 = info_of(f);
        assert_int_equal(in0.late_cmds, 0);

        f->now += 1 * MS;
        struct ho_cmd cmd = {.type = c->type};
        if (c->type == HO_CMD_SEND) {
            cmd.send.conn_id = id;
            cmd.send.len = 500;
            cmd.send.addr = 0x1000;
        } else if (c->type == HO_CMD_CLOSE) {
            cmd.close.conn_id = id;
            cmd.close.how = HO_CMD_CLOSE_CLOSE;
        } else {
            cmd.restore_request.conn_id = id;
            cmd.restore_request.reason = HO_CMD_RREQ_RECLAIM;
        }
        assert_int_equal(cmd_in(f, &cmd), HO_OK); /* only known late when carried out */
        size_t nwire = f->nwire, nhost = f->nhost;
        uint64_t handoff = c->type == HO_CMD_RESTORE_REQUEST ? k->handoff : 0;
        struct done d = expect_work(f, CM, scaled(f, k->cmd + handoff), CAT_MSG);
        if (d.grew != 0) {
            fail_msg("%s: the dropped command queued %u items", c->name, d.grew);
        }
        expect_idle(f);
        no_more_msgs(f);
        assert_int_equal(f->nwire, nwire);
        assert_int_equal(f->nhost, nhost);
        struct ho_nic_info in = info_of(f);
        assert_int_equal(in.late_cmds, 1);
        assert_int_equal(in.conns, in0.conns);
        assert_int_equal(in.cnum, in0.cnum);
        assert_int_equal(in.accepted, in0.accepted);
        assert_int_equal(in.closed, in0.closed);
        assert_int_equal(in.restored, in0.restored);
        assert_true(in.tcp->segs_out == in0.tcp->segs_out);

        /* B goes on; its SEND is the next command in sequence. */
        send_cmd(f, 52, 100);
        run_all(f);
        assert_int_equal(f->nwire, nwire + 1);
        assert_int_equal(f->wire[nwire].p->seg.len, 100);
        assert_int_equal(f->wire[nwire].p->seg.dst_port, 48201);
        assert_int_equal(info_of(f).late_cmds, 1);
        net_free(nt);
        fake_free(f);
    }
}

/* ---- regression: RESTORE_REQUEST for a connection in TIME_WAIT ---------------------------- */

/* B5. nic.h: RESTORE_REQUEST "gives a connection back"; a command for a connection that ended
 * is dropped and counted. A connection the host closed first sits in TIME_WAIT on the NIC for
 * 2 MSL (60 s with tcpe's default MSL), still in its slot (its CLOSED comes only at the end), so
 * the driver, which still has its socket ON_NIC waiting for that CLOSED, may ask for it back
 * (ho_os_restore returns HO_OK; `handoff emu restore ADDR:PORT` does exactly this). The firmware
 * then aborts: take_restore_request asserts that tcpe_export succeeds, and tcpe_export refuses
 * TIME_WAIT (HO_ESTATE, TCPE_CAN_EXPORT is ESTABLISHED..LAST_ACK). It must be dropped as late,
 * and the connection's CLOSED still come. */
static void test_restore_request_in_time_wait(void **state)
{
    (void)state;
    struct ho_nic_params p = base_params(4);
    struct fake *f = fake_new(&p);
    struct net *nt = net_new();
    struct conn a;
    f->now = 1 * MS;
    net_open(nt, &a, 48300, 61, f->now);
    handoff_ok(f, &a);
    f->now = 2 * MS;
    close_cmd(f, 61);
    settle(f, nt);
    assert_int_equal(tcpe_shutdown(a.peer, f->now), HO_OK);
    settle(f, nt);
    assert_int_equal(next_msg(f, HO_CMD_RECV)->recv.flags, HO_CMD_RECV_FIN);
    no_more_msgs(f);
    assert_int_equal(info_of(f).conns, 1); /* TIME_WAIT: still on the NIC, no CLOSED yet */
    restore_cmd(f, 61);
    run_all(f);
    struct ho_nic_info in = info_of(f);
    assert_int_equal(in.late_cmds, 1);
    assert_int_equal(in.restored, 0);
    assert_int_equal(in.conns, 1); /* still in TIME_WAIT */
    no_more_msgs(f);
    net_free(nt);
    fake_free(f);
}

/* ---- tests: faults ------------------------------------------------------------------------ */

/* A reset empties the firmware: queues, connections, timers; the work under way is void; FW_UP
 * announces the new boot; commands are dropped until its INIT; then handoff works again. */
static void test_reset(void **state)
{
    (void)state;
    struct ho_nic_params p = base_params(4);
    struct fake *f = fake_new(&p);
    struct net *nt = net_new();
    struct conn a, b, c;
    f->now = 1 * MS;
    net_open(nt, &a, 48400, 71, f->now);
    net_open(nt, &b, 48401, 72, f->now);
    handoff_ok(f, &a);
    handoff_ok(f, &b);
    run_all(f);
    f->msg_seen = f->nmsg;
    assert_int_equal(info_of(f).conns, 2);

    /* Data from a's peer: its frame is taken up, and the reset comes while it is processed. */
    f->now = 2 * MS;
    assert_int_equal(tcpe_send(a.peer, NULL, 500, f->now), 500);
    assert_int_equal(to_nic(f, nt), 1);
    struct ho_nic_work w;
    assert_true(ho_nic_begin(f->nic, f->now, &w));
    assert_int_equal(w.item.queue, NR);
    assert_int_equal(w.boot, 1);
    /* More waits behind it: a host packet to send, a SEND, b's peer's data. */
    struct tcpe_seg hs = mkseg(SERVER_IP, SERVER_PORT, CLIENT_IP, 47000, TCPE_ACK, 0);
    host_out(f, &hs);
    send_cmd(f, 72, 1000);
    assert_int_equal(tcpe_send(b.peer, NULL, 300, f->now), 300);
    assert_int_equal(to_nic(f, nt), 1);
    assert_int_equal(info_of(f).queued_pkts, 2);
    unsigned frees = f->fw_frees;
    f->msg_seq = 0; /* the new boot numbers its messages from 0 */
    ho_nic_reset(f->nic, f->now);
    struct ho_nic_info in = info_of(f);
    assert_int_equal(f->fw_frees, frees + 2); /* the two queued packets */
    assert_int_equal(in.conns, 0);
    assert_int_equal(in.cnum, 0);
    assert_int_equal(in.soft_limit, 4);
    assert_int_equal(in.queued, 1); /* FW_UP */
    assert_int_equal(in.queued_pkts, 0);
    assert_int_equal(in.boot, 2);
    assert_true(in.awaiting_init);
    assert_int_equal(in.lost_conns, 2);
    assert_int_equal(in.accepted, 2); /* counters run on */
    assert_int_equal(f->timer_when[HO_NIC_TIMER_TCP], HO_NIC_NEVER);
    assert_int_equal(f->timer_when[HO_NIC_TIMER_ACK], HO_NIC_NEVER);
    f->cmd_taken = f->ncmd; /* the queued SEND is gone */
    oracle_forget(f, &a);
    oracle_forget(f, &b);

    /* The work begun before the reset ends with nothing but its packet freed. */
    size_t nwire = f->nwire, nhost = f->nhost, nmsg = f->nmsg;
    struct ho_nic_work mine = w;
    ho_nic_end(f->nic, &mine, f->now);
    assert_int_equal(f->fw_frees, frees + 3);
    assert_int_equal(f->nwire, nwire);
    assert_int_equal(f->nhost, nhost);
    assert_int_equal(f->nmsg, nmsg);

    run_all(f);
    const struct ho_cmd *up = next_msg(f, HO_CMD_FW_UP);
    assert_int_equal(up->seq, 0);
    assert_int_equal(up->fw_up.boot, 2);
    assert_int_equal(up->fw_up.hard_limit, 4);
    assert_int_equal(up->fw_up.soft_limit, 4);
    no_more_msgs(f);

    /* a's peer retransmits: the frame misses the lookup and goes to the host. */
    f->now = 3 * MS;
    struct tcpe_seg as = mkseg(CLIENT_IP, 48400, SERVER_IP, SERVER_PORT, TCPE_ACK, 500);
    wire_in(f, &as);
    expect_work(f, HR, p.costs.host_rx + p.costs.lookup_probe, CAT_HOST);
    assert_int_equal(f->nhost, nhost + 1);

    /* Commands for the boot before are dropped, an INIT for another boot too. */
    send_cmd(f, 71, 100);
    struct ho_cmd init = {.type = HO_CMD_INIT};
    init.init.boot = 1;
    assert_int_equal(cmd_in(f, &init), HO_OK);
    run_all(f);
    in = info_of(f);
    assert_int_equal(in.stale_cmds, 2);
    assert_true(in.awaiting_init);
    no_more_msgs(f);

    /* The INIT of this boot, numbered 0, and commands numbered after it are taken again. */
    f->cmd_seq = 0;
    init.init.boot = 2;
    assert_int_equal(cmd_in(f, &init), HO_OK);
    run_all(f);
    in = info_of(f);
    assert_false(in.awaiting_init);
    assert_int_equal(in.stale_cmds, 2);
    net_open(nt, &c, 48402, 73, f->now);
    handoff_ok(f, &c);
    assert_int_equal(info_of(f).conns, 1);
    net_free(nt);
    fake_free(f);
}

/* Upload: every connection goes back unasked, RESTORE with reason error, its received bytes
 * first; the export work is owed and paid before the next piece. */
static void test_upload(void **state)
{
    (void)state;
    struct ho_nic_params p = base_params(4);
    struct fake *f = fake_new(&p);
    struct net *nt = net_new();
    struct conn a, b;
    f->now = 1 * MS;
    net_open(nt, &a, 48600, 91, f->now);
    net_open(nt, &b, 48601, 92, f->now);
    handoff_ok(f, &a);
    handoff_ok(f, &b);
    run_all(f);
    f->msg_seen = f->nmsg;
    f->now = 2 * MS;
    assert_int_equal(tcpe_send(a.peer, NULL, 300, f->now), 300);
    settle(f, nt);
    assert_int_equal(next_msg(f, HO_CMD_RECV)->recv.len, 300);
    f->msg_seen = f->nmsg;
    assert_int_equal(ho_nic_upload(f->nic, f->now), 2);
    struct ho_nic_info in = info_of(f);
    assert_int_equal(in.conns, 0);
    assert_int_equal(in.cnum, 0);
    assert_int_equal(in.uploaded, 2);
    assert_int_equal(in.restored, 2);
    run_all(f);
    unsigned restores = 0;
    for (size_t m = f->msg_seen; m < f->nmsg; m++) {
        if (f->msg[m].cmd.type == HO_CMD_RESTORE) {
            assert_int_equal(f->msg[m].cmd.restore.reason, HO_CMD_RESTORE_ERROR);
            restores++;
        }
    }
    assert_int_equal(restores, 2);
    assert_int_equal(ho_nic_upload(f->nic, f->now), 0); /* nothing left */
    net_free(nt);
    fake_free(f);
}

/* While refusing, every HANDOFF is refused for lack of memory and load control is untouched;
 * afterwards handoffs are taken again. */
static void test_refuse(void **state)
{
    (void)state;
    struct ho_nic_params p = base_params(4);
    struct fake *f = fake_new(&p);
    struct net *nt = net_new();
    struct conn a, b;
    f->now = 1 * MS;
    net_open(nt, &a, 48500, 81, f->now);
    net_open(nt, &b, 48501, 82, f->now);
    ho_nic_refuse(f->nic, true, f->now);
    assert_true(info_of(f).refusing);
    uint32_t seq = handoff_cmd(f, &a, false);
    struct ho_cmd_handoff_reply r = take_handoff(f, &a, seq);
    assert_int_equal(r.status, HO_CMD_REFUSED_NOMEM);
    assert_int_equal(r.soft_limit, 4);
    struct ho_nic_info in = info_of(f);
    assert_int_equal(in.conns, 0);
    assert_int_equal(in.cnum, 0);
    assert_int_equal(in.accepted, 0);
    ho_nic_refuse(f->nic, false, f->now);
    handoff_ok(f, &b);
    assert_int_equal(info_of(f).conns, 1);
    net_free(nt);
    fake_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_restore_request_in_time_wait),
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_create_out_of_range),
        cmocka_unit_test(test_plain_paths),
        cmocka_unit_test(test_rx_memory_full),
        cmocka_unit_test(test_send_ring),
        cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_handoff_receive),
        cmocka_unit_test(test_send_acked),
        cmocka_unit_test(test_ack_frame_example),
        cmocka_unit_test(test_handoff_refused_bad_state),
        cmocka_unit_test(test_handoff_duplicate_id),
        cmocka_unit_test(test_hard_limit),
        cmocka_unit_test(test_load_control),
        cmocka_unit_test(test_active_restore),
        cmocka_unit_test(test_conn_fails),
        cmocka_unit_test(test_bad_commands),
        cmocka_unit_test(test_cmd_checked_on_arrival),
        cmocka_unit_test(test_timer_debt),
        cmocka_unit_test(test_destroy),
        cmocka_unit_test(test_doorbell),
        cmocka_unit_test(test_restore_request),
        cmocka_unit_test(test_restore_queued_packet),
        cmocka_unit_test(test_late_commands),
        cmocka_unit_test(test_reset),
        cmocka_unit_test(test_refuse),
        cmocka_unit_test(test_upload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
