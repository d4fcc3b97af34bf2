/*
 * host.c - the server host: a 2 GHz processor, its L2 cache, the host TCP stack (tcpe) and a
 * Flash-like event-driven web server.
 *
 * Work is charged to the processor (src/sim/sim_cpu.c) as tasks in three categories, so the run
 * can report where the cycles went: NET, the network stack below the system calls (packet
 * receive and transmit: interrupt, driver, IP, TCP); OS, the system calls the server makes
 * (event wait, accept, read, write, sendfile, close); USER, the server itself. Network
 * processing has priority over the application and preempts it, as interrupts and the network
 * software interrupt do.
 *
 * Each task's effect happens when it completes: a received packet enters the TCP stack at the
 * end of its receive task, a response is queued to its socket at the end of the sendfile call.
 * A packet-processing task also pays for the memory it touches, through the cache model: the
 * packet's header buffer (just written by DMA, so never cached) and the connection's state
 * (TCB, inpcb, socket: about 1 KB per connection, paper section 2), which stays cached only
 * while few enough connections are active. Every line that misses costs the DRAM latency.
 */
#include <stdlib.h>
#include <string.h>

#include "handoff/assert.h"
#include "handoff/err.h"
#include "world_priv.h"

/* The host's simulated memory map. */
#define STATE_BASE  0x100000000ull /* connection state, one slot per connection */
#define BUF_BASE    0x010000000ull /* packet header buffers (mbufs), a ring */
#define BUF_COUNT   4096u
#define BUF_BYTES   256u
#define LISTEN_SLOT 0u /* the listening socket's state: SYNs touch it */

/* What a server task does when it completes. */
enum srv_op { OP_ACCEPT, OP_READ, OP_PARSE, OP_RESPOND, OP_SENDMORE, OP_CLOSE };

static uint64_t state_addr(const struct sim_world *w, uint32_t slot)
{
    uint64_t line = w->cfg.line_bytes;
    uint64_t stride = (w->costs.conn_state_bytes + line - 1) / line * line;
    return STATE_BASE + (uint64_t)slot * stride;
}

static uint64_t buf_addr(const struct sim_pkt *p)
{
    return BUF_BASE + (uint64_t)(p->index % BUF_COUNT) * BUF_BYTES;
}

/* Memory stall cycles of touching [addr, addr + len). */
static uint64_t touch(struct sim_world *w, uint64_t addr, uint64_t len)
{
    uint32_t misses = sim_cache_access(w->l2, addr, len);
    if (w->measuring) {
        w->m_host_misses += misses;
    }
    return (uint64_t)misses * w->cfg.dram_cycles;
}

static void submit(struct sim_world *w, unsigned prio, unsigned cat, uint64_t cycles,
                   sim_cpu_start_fn start, sim_cpu_done_fn done, uint64_t arg, uint64_t now)
{
    struct sim_cpu_task t = {
        .prio = prio,
        .cat = cat,
        .cycles = cycles,
        .start = start,
        .done = done,
        .ctx = w,
        .arg = arg,
    };
    int rc = sim_cpu_submit(w->host_cpu, now, &t);
    HO_ASSERT(rc == HO_OK, "host task refused: %s", ho_strerror(rc));
}

/* ---- the host's TCP timers -------------------------------------------------------------- */

static void host_timer(void *ctx, uint64_t arg, uint64_t now);

static void host_rearm(struct sim_world *w, uint64_t now)
{
    world_stack_timer(w, w->host_stack, &w->host_timer_at, &w->host_timer_handle, host_timer, now);
}

static void host_timer(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_world *w = ctx;
    (void)arg;
    w->host_timer_at = TCPE_NEVER;
    tcpe_stack_timers(w->host_stack, now);
    host_rearm(w, now);
}

/* ---- packets ---------------------------------------------------------------------------- */

/* The connection-state slot a packet's processing touches. */
static uint32_t pkt_slot(struct sim_world *w, const struct tcpe_seg *seg, bool rx)
{
    struct tcpe_tuple t = rx ? (struct tcpe_tuple){.local_ip = seg->dst_ip,
                                                   .remote_ip = seg->src_ip,
                                                   .local_port = seg->dst_port,
                                                   .remote_port = seg->src_port}
                             : (struct tcpe_tuple){.local_ip = seg->src_ip,
                                                   .remote_ip = seg->dst_ip,
                                                   .local_port = seg->src_port,
                                                   .remote_port = seg->dst_port};
    struct tcpe_conn *c = tcpe_stack_lookup(w->host_stack, &t);
    uintptr_t u = c ? (uintptr_t)tcpe_conn_user(c) : 0;
    return u ? (uint32_t)(u - 1) : LISTEN_SLOT;
}

static uint64_t rx_start(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_world *w = ctx;
    (void)now;
    struct sim_pkt *p = pkt_at(w, (uint32_t)arg);
    uint32_t slot = pkt_slot(w, &p->seg, true);
    return touch(w, buf_addr(p), w->costs.pkt_hdr_bytes) +
           touch(w, state_addr(w, slot), w->costs.conn_state_bytes);
}

static void rx_done(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_world *w = ctx;
    struct sim_pkt *p = pkt_at(w, (uint32_t)arg);
    if (w->measuring) {
        w->m_host_pkts++;
    }
    tcpe_stack_input(w->host_stack, &p->seg, now);
    pkt_free(w, p);
    host_rearm(w, now);
}

void host_rx(struct sim_world *w, struct sim_pkt *p, uint64_t now)
{
    /* The NIC wrote the frame into a receive buffer: those lines leave the cache. */
    sim_cache_invalidate(w->l2, buf_addr(p), BUF_BYTES);
    submit(w, PRIO_NET, CAT_NET, w->costs.host_rx_pkt, rx_start, rx_done, p->index, now);
}

static uint64_t tx_start(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_world *w = ctx;
    (void)now;
    struct sim_pkt *p = pkt_at(w, (uint32_t)arg);
    return touch(w, buf_addr(p), w->costs.pkt_hdr_bytes) +
           touch(w, state_addr(w, p->conn_slot), w->costs.conn_state_bytes);
}

static void tx_done(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_world *w = ctx;
    struct sim_pkt *p = pkt_at(w, (uint32_t)arg);
    if (w->measuring) {
        w->m_host_pkts++;
    }
    nic_host_tx(w, p, now);
}

static void host_output(void *ctx, const struct tcpe_seg *seg)
{
    struct sim_world *w = ctx;
    struct sim_pkt *p = pkt_new(w, seg);
    HO_ASSERT(p, "out of memory for packets");
    p->conn_slot = pkt_slot(w, seg, false);
    submit(w, PRIO_NET, CAT_NET, w->costs.host_tx_pkt, tx_start, tx_done, p->index,
           sim_evq_now(w->evq));
}

/* ---- the web server ------------------------------------------------------------------- */

static uint32_t slot_alloc(struct sim_world *w)
{
    if (w->nfree_slots == 0) {
        uint32_t n = w->nsrv ? w->nsrv * 2 : 1024;
        struct srv_conn *s = realloc(w->srv, (size_t)n * sizeof *s);
        uint32_t *f = realloc(w->free_slots, (size_t)n * sizeof *f);
        HO_ASSERT(s && f, "out of memory for %u server connections", n);
        w->srv = s;
        w->free_slots = f;
        for (uint32_t i = n; i-- > w->nsrv;) {
            memset(&s[i], 0, sizeof s[i]);
            if (i != LISTEN_SLOT) {
                f[w->nfree_slots++] = i;
            }
        }
        w->nsrv = n;
    }
    return w->free_slots[--w->nfree_slots];
}

static void slot_free(struct sim_world *w, uint32_t slot)
{
    struct srv_conn *s = &w->srv[slot];
    uint32_t gen = s->gen + 1;
    memset(s, 0, sizeof *s);
    s->gen = gen;
    w->free_slots[w->nfree_slots++] = slot;
}

static uint64_t op_arg(const struct sim_world *w, uint32_t slot, enum srv_op op)
{
    return ((uint64_t)w->srv[slot].gen << 32) | ((uint64_t)op << 28) | slot;
}

static void srv_done(void *ctx, uint64_t arg, uint64_t now);

static void srv_task(struct sim_world *w, uint32_t slot, enum srv_op op, unsigned cat,
                     uint64_t cycles, uint64_t now)
{
    submit(w, PRIO_APP, cat, cycles, NULL, srv_done, op_arg(w, slot, op), now);
}

/* Queues as much of the response as the send socket buffer takes (sendfile semantics). */
static void srv_push(struct sim_world *w, uint32_t slot, uint64_t now)
{
    struct srv_conn *s = &w->srv[slot];
    while (s->resp_left > 0) {
        uint32_t chunk = s->resp_left > (1u << 30) ? 1u << 30 : (uint32_t)s->resp_left;
        int n = tcpe_send(s->conn, NULL, chunk, now);
        if (n <= 0) {
            break;
        }
        s->resp_left -= (uint32_t)n;
    }
}

static void srv_done(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_world *w = ctx;
    uint32_t slot = (uint32_t)(arg & 0x0fffffff);
    enum srv_op op = (enum srv_op)((arg >> 28) & 0xf);
    const struct sim_costs *k = &w->costs;
    if (op == OP_ACCEPT) {
        struct tcpe_conn *c;
        while ((c = tcpe_accept(w->listener)) != NULL) {
            uint32_t s = slot_alloc(w);
            w->srv[s].conn = c;
            w->srv[s].client = -1;
            tcpe_conn_set_user(c, (void *)(uintptr_t)(s + 1));
            world_conn_established(w, false);
        }
        host_rearm(w, now);
        return;
    }
    struct srv_conn *s = &w->srv[slot];
    if (slot >= w->nsrv || s->gen != (uint32_t)(arg >> 32) || !s->conn) {
        return; /* the connection was closed before this task ran */
    }
    switch (op) {
    case OP_READ: {
        int n = tcpe_recv(s->conn, NULL, UINT32_MAX >> 1, now);
        if (n > 0 && s->req_need == 0 && s->client < 0) {
            s->client = clients_of_tuple(w, tcpe_conn_tuple(s->conn));
            HO_ASSERT(s->client >= 0, "request bytes from a client with no request");
            s->req_need = clients_request_bytes(w, (uint32_t)s->client);
        }
        if (n > 0) {
            s->req_need = (uint32_t)n >= s->req_need ? 0 : s->req_need - (uint32_t)n;
            if (s->req_need == 0) {
                const struct ho_req *r = clients_request(w, (uint32_t)s->client);
                uint64_t user = k->user_request + (r->kind != HO_REQ_STATIC ? k->user_dynamic : 0);
                srv_task(w, slot, OP_PARSE, CAT_USER, user, now);
            }
        }
        if (tcpe_conn_eof(s->conn) && !s->closing) {
            s->closing = true;
            srv_task(w, slot, OP_CLOSE, CAT_OS, k->sys_close, now);
        }
        break;
    }
    case OP_PARSE: {
        /* The header is written (copied); a static body goes by sendfile, a dynamic one is
         * generated in user space and copied too. */
        const struct ho_req *r = clients_request(w, (uint32_t)s->client);
        uint64_t resp = clients_response_bytes(w, (uint32_t)s->client);
        uint64_t copied = r->kind == HO_REQ_STATIC ? resp - r->size : resp;
        uint64_t cycles = k->sys_write + copied * k->copy_per_kb / 1024 +
                          (r->kind == HO_REQ_STATIC && r->size ? k->sys_sendfile : 0);
        s->resp_left = resp;
        s->client = -1;
        srv_task(w, slot, OP_RESPOND, CAT_OS, cycles, now);
        break;
    }
    case OP_RESPOND:
    case OP_SENDMORE:
        srv_push(w, slot, now);
        break;
    case OP_CLOSE:
        tcpe_release(s->conn, now);
        slot_free(w, slot);
        break;
    case OP_ACCEPT:
        break;
    }
    host_rearm(w, now);
}

static void host_event(void *ctx, struct tcpe_conn *c, unsigned ev)
{
    struct sim_world *w = ctx;
    uint64_t now = sim_evq_now(w->evq);
    const struct sim_costs *k = &w->costs;
    if (c == w->listener) {
        if (ev & TCPE_EV_ACCEPT) {
            submit(w, PRIO_APP, CAT_OS, k->sys_event + k->sys_accept, NULL, srv_done,
                   (uint64_t)OP_ACCEPT << 28, now);
        }
        return;
    }
    uintptr_t u = (uintptr_t)tcpe_conn_user(c);
    if (!u) {
        return; /* not yet accepted: the accept task will pick it up */
    }
    uint32_t slot = (uint32_t)(u - 1);
    struct srv_conn *s = &w->srv[slot];
    if (ev & (TCPE_EV_RESET | TCPE_EV_TIMEDOUT)) {
        world_fail(w, "server connection %s", ev & TCPE_EV_RESET ? "reset" : "timed out");
        tcpe_release(c, now);
        slot_free(w, slot);
        return;
    }
    if (ev & TCPE_EV_READABLE) {
        srv_task(w, slot, OP_READ, CAT_OS, k->sys_event + k->sys_read, now);
    }
    if ((ev & TCPE_EV_WRITABLE) && s->resp_left > 0) {
        srv_task(w, slot, OP_SENDMORE, CAT_OS, k->sys_event + k->sys_sendfile, now);
    }
}

int host_init(struct sim_world *w)
{
    struct sim_cpu_params cp = {
        .hz = w->cfg.host_hz,
        .nprios = 2,
        .ncats = HOST_NCATS,
        .preempt = true,
    };
    if (sim_cpu_create(&cp, w->evq, &w->host_cpu) != HO_OK) {
        return HO_EINVAL;
    }
    struct sim_cache_params lp = {
        .size_bytes = w->cfg.l2_bytes,
        .ways = w->cfg.l2_ways,
        .line_bytes = w->cfg.line_bytes,
        .next_line_prefetch = true,
    };
    if (sim_cache_create(&lp, &w->l2) != HO_OK) {
        return HO_EINVAL;
    }
    struct tcpe_params tp;
    tcpe_params_init(&tp);
    tp.ops.output = host_output;
    tp.ops.event = host_event;
    tp.ctx = w;
    tp.virtual_payload = true;
    tp.nodelay = true;
    tp.mss = (uint16_t)w->cfg.mss;
    tp.sndbuf = w->cfg.sndbuf;
    tp.rcvbuf = w->cfg.rcvbuf;
    tp.delack = w->cfg.delack_ns;
    tp.seed = w->cfg.seed ^ 0x5e;
    tp.hash_buckets = w->nclients * 2;
    if (tcpe_stack_create(&tp, &w->host_stack) != HO_OK) {
        return HO_ENOMEM;
    }
    if (tcpe_listen(w->host_stack, SERVER_IP, SERVER_PORT, w->nclients * 2, &w->listener) !=
        HO_OK) {
        return HO_ENOMEM;
    }
    w->host_timer_at = TCPE_NEVER;
    /* Create the slot array (slot LISTEN_SLOT stays reserved) and give the first slot back. */
    uint32_t first = slot_alloc(w);
    w->free_slots[w->nfree_slots++] = first;
    return HO_OK;
}

void host_fini(struct sim_world *w)
{
    tcpe_stack_destroy(w->host_stack);
    sim_cache_destroy(w->l2);
    sim_cpu_destroy(w->host_cpu);
    free(w->srv);
    free(w->free_slots);
}
