/*
 * tt_host.c - a fake host platform for the OS side (tt_host.h).
 */
#include "tt_host.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "handoff/err.h"

#define PUSH(arr, n, cap, val)                                                                     \
    do {                                                                                           \
        if ((n) == (cap)) {                                                                        \
            (cap) = (cap) ? 2 * (cap) : 16;                                                        \
            void *grown_ = realloc((arr), (cap) * sizeof *(arr));                                  \
            assert_non_null(grown_);                                                               \
            (arr) = grown_;                                                                        \
        }                                                                                          \
        (arr)[(n)++] = (val);                                                                      \
    } while (0)

struct ho_pkt *tt_host_pkt_new(struct tt_host *h, const struct tcpe_seg *seg)
{
    struct ho_pkt *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->seg = *seg;
    p->seg.data = NULL;
    if (seg->data && seg->len > 0) { /* real payload: the packet keeps a copy */
        uint8_t *d = malloc(seg->len);
        assert_non_null(d);
        memcpy(d, seg->data, seg->len);
        p->seg.data = d;
    }
    p->frame_bytes = 54 + seg->len;
    p->id = h->next_id++;
    if (p->id >= h->capids) {
        uint32_t n = h->capids ? 2 * h->capids : 256;
        while (n <= p->id) {
            n *= 2;
        }
        struct ho_pkt **l = realloc(h->live, n * sizeof *l);
        assert_non_null(l);
        memset(l + h->capids, 0, (n - h->capids) * sizeof *l);
        h->live = l;
        h->capids = n;
    }
    h->live[p->id] = p;
    h->allocs++;
    return p;
}

void tt_host_pkt_release(struct tt_host *h, struct ho_pkt *p)
{
    assert_true(p->id < h->capids && h->live[p->id] == p);
    h->live[p->id] = NULL;
    h->frees++;
    free((void *)(uintptr_t)p->seg.data);
    free(p);
}

/* Frees a packet the platform still holds at the end (not counted as freed by anyone). */
static void pkt_drop(struct ho_pkt *p)
{
    if (p) {
        free((void *)(uintptr_t)p->seg.data);
        free(p);
    }
}

static void op_run(void *ctx, const struct ho_os_work *w, uint64_t now)
{
    struct tt_host *h = ctx;
    struct tt_host_work r = {.w = *w, .queued_at = now};
    PUSH(h->q, h->nq, h->capq, r);
    PUSH(h->log, h->nlog, h->caplog, r);
}

static void op_timer(void *ctx, uint64_t when, uint64_t now)
{
    struct tt_host *h = ctx;
    h->timer_when = when;
    struct tt_host_timer t = {when, now};
    PUSH(h->timers, h->ntimers, h->captimers, t);
}

static void op_nic_tx(void *ctx, struct ho_pkt *p, uint64_t now)
{
    struct tt_host *h = ctx;
    (void)now;
    h->ntx++;
    PUSH(h->wire, h->nwire, h->capwire, p);
}

static void op_nic_forward(void *ctx, struct ho_pkt *p, uint64_t now)
{
    struct tt_host *h = ctx;
    (void)now;
    PUSH(h->fwd, h->nfwd, h->capfwd, p);
}

static void op_nic_cmd(void *ctx, const uint8_t *msg, uint32_t len, uint64_t now)
{
    struct tt_host *h = ctx;
    (void)now;
    struct tt_host_msg m = {.bytes = malloc(len), .len = len};
    assert_non_null(m.bytes);
    memcpy(m.bytes, msg, len);
    PUSH(h->cmds, h->ncmds, h->capcmds, m);
}

static struct ho_pkt *op_pkt_alloc(void *ctx, const struct tcpe_seg *seg)
{
    return tt_host_pkt_new(ctx, seg);
}

static void op_pkt_free(void *ctx, struct ho_pkt *p)
{
    tt_host_pkt_release(ctx, p);
}

static struct ho_pkt *op_pkt_at(void *ctx, uint32_t id)
{
    struct tt_host *h = ctx;
    assert_true(id < h->capids && h->live[id] != NULL);
    return h->live[id];
}

static void op_fault(void *ctx, const char *what)
{
    struct tt_host *h = ctx;
    h->faults++;
    h->last_fault = what;
}

static void op_established(void *ctx, uint32_t sock)
{
    struct tt_host *h = ctx;
    h->nestablished++;
    h->last_established = sock;
}

static void op_handed_off(void *ctx, uint32_t sock)
{
    struct tt_host *h = ctx;
    h->nhanded_off++;
    h->last_handed_off = sock;
}

static void op_conn_done(void *ctx, const struct ho_conn_record *r)
{
    struct tt_host *h = ctx;
    h->nconn_done++;
    h->last_done = *r;
    /* The OS frees the moves after the call. */
    uint32_t n = r->nmoves < 8 ? r->nmoves : 8;
    if (n > 0) {
        memcpy(h->last_moves, r->moves, n * sizeof *r->moves);
    }
    h->last_done.moves = n ? h->last_moves : NULL;
    h->last_done.nmoves = n;
}

const struct ho_os_ops tt_host_ops = {
    .run = op_run,
    .timer = op_timer,
    .nic_tx = op_nic_tx,
    .nic_forward = op_nic_forward,
    .nic_cmd = op_nic_cmd,
    .pkt_alloc = op_pkt_alloc,
    .pkt_free = op_pkt_free,
    .pkt_at = op_pkt_at,
    .fault = op_fault,
    .established = op_established,
    .handed_off = op_handed_off,
    .conn_done = op_conn_done,
};

static void app_event(void *ctx, uint32_t sock, unsigned events, uint64_t now)
{
    struct tt_host *h = ctx;
    struct tt_host_ev e = {sock, events};
    PUSH(h->evs, h->nevs, h->capevs, e);
    if (h->accept_on_readable && (events & HO_SO_READABLE)) {
        int got = ho_so_accept(h->os, now);
        if (got > 0) {
            h->accepted_in_event = got;
        }
    }
}

static void app_done(void *ctx, uint64_t arg, uint64_t now)
{
    struct tt_host *h = ctx;
    (void)now;
    PUSH(h->dones, h->ndones, h->capdones, arg);
}

void tt_host_record_app(struct tt_host *h)
{
    struct ho_os_app app = {.event = app_event, .done = app_done, .ctx = h};
    ho_os_set_app(h->os, &app);
}

/* The client's segments travel to the OS as received packets. */
static int client_out(void *ctx, const struct tcpe_seg *seg)
{
    struct tt_host *h = ctx;
    struct ho_pkt *p = tt_host_pkt_new(h, seg);
    h->last_rx_id = p->id;
    ho_os_rx(h->os, p, h->now);
    return HO_OK;
}

struct ho_os_params tt_host_os_params(uint32_t nic_conns, struct ho_sel_policy sel,
                                      const struct ho_os_costs *costs, uint32_t sndbuf)
{
    return (struct ho_os_params){
        .nic_conns = nic_conns,
        .selection = sel,
        .conns = 64,
        .virtual_payload = true,
        .mss = 1460,
        .sndbuf = sndbuf,
        .rcvbuf = TT_HOST_RCVBUF,
        .delack_ns = TT_HOST_DELACK_NS,
        .seed = 7,
        .line_bytes = TT_HOST_LINE_BYTES,
        .tx_ring = TT_HOST_TX_RING,
        .costs = *costs,
    };
}

void tt_host_init(struct tt_host *h, const struct ho_os_params *op)
{
    memset(h, 0, sizeof *h);
    h->now = TT_HOST_START_NS;
    h->timer_when = TCPE_NEVER;
    h->next_id = 1;
    struct tcpe_params tp;
    tcpe_params_init(&tp);
    tp.ops.output = client_out;
    tp.ctx = h;
    tp.virtual_payload = op->virtual_payload;
    tp.nodelay = true;
    tp.seed = 99;
    h->real = !op->virtual_payload;
    assert_int_equal(tcpe_stack_create(&tp, &h->client), HO_OK);
    assert_int_equal(ho_os_create(op, &tt_host_ops, h, &h->os), HO_OK);
}

/* Destroys the OS (which gives back what it holds), then frees what the platform still has.
 * Returns whether every packet allocated was freed by someone. */
bool tt_host_free(struct tt_host *h)
{
    ho_os_destroy(h->os);
    h->os = NULL;
    tcpe_stack_destroy(h->client);
    h->client = NULL;
    for (size_t i = 0; i < h->nwire; i++) {
        h->live[h->wire[i]->id] = NULL;
        pkt_drop(h->wire[i]);
        h->frees++;
    }
    for (size_t i = 0; i < h->nfwd; i++) {
        h->live[h->fwd[i]->id] = NULL;
        pkt_drop(h->fwd[i]);
        h->frees++;
    }
    bool balanced = h->allocs == h->frees;
    for (uint32_t i = 0; i < h->capids; i++) {
        pkt_drop(h->live[i]); /* a failed test's leftovers */
    }
    for (int i = 0; i < TT_HOST_MAX_CLIENTS; i++) {
        free(h->cbytes[i]);
    }
    for (size_t i = 0; i < h->ncmds; i++) {
        free(h->cmds[i].bytes);
    }
    free(h->q);
    free(h->log);
    free(h->timers);
    free(h->live);
    free(h->wire);
    free(h->fwd);
    free(h->cmds);
    free(h->evs);
    free(h->dones);
    memset(h, 0, sizeof *h);
    return balanced;
}

/* Runs queued work number i (0 = the oldest) on the fake processor. */
struct tt_host_work tt_host_run_at(struct tt_host *h, size_t i)
{
    assert_true(i < h->nq);
    struct tt_host_work r = h->q[i];
    memmove(&h->q[i], &h->q[i + 1], (h->nq - i - 1) * sizeof *h->q);
    h->nq--;
    h->now += TT_HOST_WORK_NS;
    h->nmem = 0;
    if (r.w.touches) {
        h->nmem = ho_os_work_mem(h->os, r.w.arg, h->mem);
    }
    if (r.w.notify) {
        ho_os_work_done(h->os, r.w.arg, h->now);
    }
    return r;
}

/* The client reads everything that arrived. */
void tt_host_client_drain(struct tt_host *h)
{
    for (int i = 0; i < h->ncc; i++) {
        if (!h->cc[i]) {
            continue;
        }
        int n;
        if (!h->real) {
            n = tcpe_recv(h->cc[i], NULL, 1u << 30, h->now);
        } else {
            uint32_t want = tcpe_conn_readable(h->cc[i]);
            uint8_t *b = realloc(h->cbytes[i], (size_t)h->crecv[i] + want + 1);
            assert_non_null(b);
            h->cbytes[i] = b;
            n = tcpe_recv(h->cc[i], b + h->crecv[i], want, h->now);
        }
        assert_true(n >= 0);
        h->crecv[i] += (uint64_t)n;
        h->ceof[i] = tcpe_conn_eof(h->cc[i]);
    }
}

/* Gives the client the oldest packet on the wire. */
void tt_host_deliver_one(struct tt_host *h)
{
    struct ho_pkt *p = h->wire[0];
    memmove(&h->wire[0], &h->wire[1], (h->nwire - 1) * sizeof *h->wire);
    h->nwire--;
    ho_os_tx_done(h->os, h->now); /* the "NIC" sent it: its send-ring descriptor is free */
    tcpe_stack_input(h->client, &p->seg, h->now);
    tt_host_pkt_release(h, p);
    tt_host_client_drain(h);
}

/* Runs work (network priority first) and the wire until nothing is left to do now. */
void tt_host_settle(struct tt_host *h)
{
    for (int steps = 0;; steps++) {
        assert_true(steps < TT_HOST_MAX_STEPS);
        if (h->nq > 0) {
            size_t pick = 0;
            for (size_t i = 0; i < h->nq; i++) {
                if (h->q[i].w.prio == HO_OS_PRIO_NET) {
                    pick = i;
                    break;
                }
            }
            tt_host_run_at(h, pick);
        } else if (h->nwire > 0) {
            tt_host_deliver_one(h);
        } else {
            return;
        }
    }
}

/* Settles, then lets time pass through the timers of both sides up to `until`. */
void tt_host_advance(struct tt_host *h, uint64_t until)
{
    tt_host_settle(h);
    for (int steps = 0;; steps++) {
        assert_true(steps < TT_HOST_MAX_STEPS);
        uint64_t c = tcpe_stack_next_wake(h->client);
        uint64_t next = h->timer_when < c ? h->timer_when : c;
        if (next == TCPE_NEVER || next > until) {
            return;
        }
        if (next > h->now) {
            h->now = next;
        }
        if (h->timer_when <= h->now) {
            h->timer_when = TCPE_NEVER;
            ho_os_timer(h->os, h->now);
        }
        tcpe_stack_timers(h->client, h->now);
        tt_host_settle(h);
    }
}

/* Connects a new client from port and runs the handshake. Returns the client's index. */
int tt_host_connect(struct tt_host *h, uint16_t port)
{
    struct tcpe_tuple t = {.local_ip = TT_HOST_CLIENT_IP,
                           .remote_ip = TT_HOST_SERVER_IP,
                           .local_port = port,
                           .remote_port = TT_HOST_SERVER_PORT};
    int i = h->ncc++;
    assert_true(i < TT_HOST_MAX_CLIENTS);
    assert_int_equal(tcpe_connect(h->client, &t, h->now, &h->cc[i]), HO_OK);
    tt_host_settle(h);
    assert_int_equal(tcpe_conn_state(h->cc[i]), TCPE_ESTABLISHED);
    return i;
}

void tt_host_client_send(struct tt_host *h, int i, uint32_t n)
{
    assert_int_equal(tcpe_send(h->cc[i], NULL, n, h->now), (int)n);
}

void tt_host_client_send_bytes(struct tt_host *h, int i, const void *buf, uint32_t n)
{
    assert_true(h->real);
    assert_int_equal(tcpe_send(h->cc[i], buf, n, h->now), (int)n);
}
