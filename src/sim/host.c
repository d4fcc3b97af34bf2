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
#define LISTEN_SLOT 0u    /* the listening socket's state: SYNs touch it */
#define PAGE_BYTES  4096u /* sendfile appends a file to the socket page by page */

/* What a server task does when it completes. */
enum srv_op { OP_ACCEPT, OP_READ, OP_PARSE, OP_RESPOND, OP_SENDMORE, OP_CLOSE };

static uint64_t state_addr(const struct sim_world *w, uint32_t slot)
{
    uint64_t line = w->cfg.line_bytes;
    uint64_t stride = (w->cfg.costs.conn_state_bytes + line - 1) / line * line;
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
    /* The timers act at their deadline (the clock interrupt preempts everything); the
     * processor pays for the expiries right after. Packets they send cost as packets. */
    uint64_t fired = world_run_timers(w->host_stack, now);
    if (fired > 0) {
        submit(w, PRIO_NET, CAT_NET, fired * w->cfg.costs.host_timer, NULL, NULL, 0, now);
    }
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
    p->conn_slot = pkt_slot(w, &p->seg, true);
    return touch(w, buf_addr(p), w->cfg.costs.pkt_hdr_bytes) +
           touch(w, state_addr(w, p->conn_slot), w->cfg.costs.conn_state_bytes);
}

static void rx_done(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_world *w = ctx;
    struct sim_pkt *p = pkt_at(w, (uint32_t)arg);
    w->pkts_in_host_tasks--;
    if (w->measuring) {
        w->m_host_pkts++;
    }
    /* A connection the host's stack holds is not bypassed: only the others need looking up
     * (the stack cannot change under a receive task, which nothing else interrupts). */
    if (p->conn_slot == LISTEN_SLOT && w->bypassed && ho_lookup_count(w->bypassed) > 0) {
        struct tcpe_tuple key = ho_lookup_key_from_rx(&p->seg);
        int slot = ho_lookup_find(w->bypassed, &key);
        if (slot >= 0 && w->srv[slot].where == SRV_ON_NIC) {
            /* The NIC classified it as a host packet before it imported the connection, and
             * its reply overtook it: the driver hands it back to the NIC's TCP. */
            nic_forward(w, p, now);
            return;
        }
        if (slot >= 0) {
            struct srv_conn *s = &w->srv[slot];
            if (s->nheld == s->cap_held) {
                s->cap_held = s->cap_held ? 2 * s->cap_held : 8;
                s->held = realloc(s->held, s->cap_held * sizeof *s->held);
                HO_ASSERT(s->held, "out of memory");
            }
            s->held[s->nheld++] = p->index;
            w->pkts_held++;
            return;
        }
    }
    tcpe_stack_input(w->host_stack, &p->seg, now);
    pkt_free(w, p);
    host_rearm(w, now);
}

void host_rx(struct sim_world *w, struct sim_pkt *p, uint64_t now)
{
    /* The NIC wrote the frame into a receive buffer: those lines leave the cache. */
    sim_cache_invalidate(w->l2, buf_addr(p), BUF_BYTES);
    w->pkts_in_host_tasks++;
    submit(w, PRIO_NET, CAT_NET, w->cfg.costs.host_rx_pkt, rx_start, rx_done, p->index, now);
}

static uint64_t tx_start(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_world *w = ctx;
    (void)now;
    struct sim_pkt *p = pkt_at(w, (uint32_t)arg);
    return touch(w, buf_addr(p), w->cfg.costs.pkt_hdr_bytes) +
           touch(w, state_addr(w, p->conn_slot), w->cfg.costs.conn_state_bytes);
}

static void tx_done(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_world *w = ctx;
    struct sim_pkt *p = pkt_at(w, (uint32_t)arg);
    w->pkts_in_host_tasks--;
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
    w->pkts_in_host_tasks++;
    submit(w, PRIO_NET, CAT_NET, w->cfg.costs.host_tx_pkt, tx_start, tx_done, p->index,
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
    free(s->blob);
    free(s->held);
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
    w->srv[slot].reads_queued += op == OP_READ;
    submit(w, PRIO_APP, cat, cycles, NULL, srv_done, op_arg(w, slot, op), now);
}

/*
 * The driver hands a connection to the NIC: its state is exported and leaves the host's stack,
 * the socket switches to the bypass protocol, and packets that reach the host before the NIC
 * answers are held (then forwarded to the NIC, or given back to the stack if it refuses).
 */
static void host_offer(struct sim_world *w, uint32_t slot, uint64_t now)
{
    struct srv_conn *s = &w->srv[slot];
    int len = tcpe_export(s->conn, now, NULL, 0);
    HO_ASSERT(len > 0, "connection in state %s cannot be exported",
              tcpe_state_name(tcpe_conn_state(s->conn)));
    s->blob = malloc((size_t)len);
    HO_ASSERT(s->blob, "out of memory");
    HO_ASSERT(tcpe_export(s->conn, now, s->blob, (size_t)len) == len, "export");
    s->blob_len = (uint32_t)len;
    s->snd_inflight = tcpe_conn_unacked(s->conn);
    tcpe_detach(s->conn);
    s->conn = NULL;
    s->where = SRV_OFFERED;
    int rc = ho_lookup_insert(w->bypassed, &s->tuple, slot);
    HO_ASSERT(rc == HO_OK, "connection offered twice (%d)", rc);
    struct ho_cmd cmd = {.type = HO_CMD_HANDOFF};
    cmd.handoff.conn_id = slot;
    cmd.handoff.tuple = s->tuple;
    cmd.handoff.sockbuf.snd_unacked = (uint32_t)s->snd_inflight;
    cmd.handoff.sockbuf.rcv_space = w->cfg.rcvbuf;
    cmd.handoff.state.len = s->blob_len;
    cmd.handoff.state.data = s->blob;
    pci_to_nic(w, &cmd, w->cfg.costs.host_handoff, now);
}

/* Sends the rest of the response if the socket buffer has room: through the host's TCP, or as
 * SEND commands to the NIC for a connection handed off (the buffer stays in host memory). */
static void srv_push(struct sim_world *w, uint32_t slot, uint64_t now)
{
    struct srv_conn *s = &w->srv[slot];
    if (s->where == SRV_ON_NIC) {
        uint64_t room = w->cfg.sndbuf > s->snd_inflight ? w->cfg.sndbuf - s->snd_inflight : 0;
        uint32_t n = (uint32_t)(s->resp_left < room ? s->resp_left : room);
        if (n > 0) {
            struct ho_cmd cmd = {.type = HO_CMD_SEND};
            cmd.send.conn_id = slot;
            cmd.send.len = n;
            cmd.send.addr = slot;
            cmd.send.flags = HO_CMD_SEND_PUSH;
            s->snd_inflight += n;
            s->resp_left -= n;
            pci_to_nic(w, &cmd, 0, now);
        }
        return;
    }
    if (s->where != SRV_HOST) {
        return; /* on its way to the NIC: the reply will resume the send */
    }
    /* One call queues what fits; the Tn policies count its appends to the socket buffer: one
     * for the written header (with a dynamic body, written too), then one per page of the
     * file, as FreeBSD's sendfile appends a file page by page. */
    while (s->resp_left > 0) {
        uint32_t chunk = s->resp_left > (1u << 30) ? 1u << 30 : (uint32_t)s->resp_left;
        int n = tcpe_send(s->conn, NULL, chunk, now);
        if (n <= 0) {
            break;
        }
        s->resp_left -= (uint32_t)n;
        uint64_t written = (uint64_t)n < s->write_left ? (uint64_t)n : s->write_left;
        uint64_t file = (uint64_t)n - written;
        uint64_t appends = (written > 0) + (s->file_queued + file + PAGE_BYTES - 1) / PAGE_BYTES -
                           (s->file_queued + PAGE_BYTES - 1) / PAGE_BYTES;
        s->write_left -= written;
        s->file_queued += file;
        bool offer = false;
        while (appends-- > 0) {
            offer |= ho_sel_enqueued(&w->sel, &s->sel) == HO_SEL_OFFER;
        }
        if (offer) {
            host_offer(w, slot, now);
            return;
        }
    }
}

static void srv_accept(struct sim_world *w, uint64_t now)
{
    struct tcpe_conn *c;
    while ((c = tcpe_accept(w->listener)) != NULL) {
        uint32_t slot = slot_alloc(w);
        struct srv_conn *s = &w->srv[slot];
        s->in_use = true;
        s->where = SRV_HOST;
        s->conn = c;
        s->client = -1;
        s->tuple = *tcpe_conn_tuple(c);
        tcpe_conn_set_user(c, (void *)(uintptr_t)(slot + 1));
        s->counted = world_conn_established(w);
        if (ho_sel_established(&w->sel, &s->sel, SERVER_PORT) == HO_SEL_OFFER) {
            host_offer(w, slot, now); /* what it has received goes with its state */
        } else if (tcpe_conn_readable(c) > 0 || tcpe_conn_eof(c)) {
            /* The request arrived before accept(): its event found no socket to wake. */
            srv_task(w, slot, OP_READ, CAT_OS, w->cfg.costs.sys_read, now);
        }
    }
}

/* Reads what the socket has (from the host's TCP, or delivered by the NIC). */
static void srv_read(struct sim_world *w, uint32_t slot, uint64_t now)
{
    struct srv_conn *s = &w->srv[slot];
    const struct sim_costs *k = &w->cfg.costs;
    int n = 0;
    bool eof = false;
    if (s->where == SRV_HOST) {
        n = tcpe_recv(s->conn, NULL, UINT32_MAX >> 1, now);
        eof = tcpe_conn_eof(s->conn);
    } else if (s->where == SRV_ON_NIC) {
        n = (int)s->rx_ready;
        s->rx_ready = 0;
        eof = s->nic_eof;
    }
    if (n > 0 && s->req_need == 0 && s->client < 0) {
        s->client = clients_of_tuple(w, &s->tuple);
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
    if (eof && !s->closing) {
        s->closing = true;
        srv_task(w, slot, OP_CLOSE, CAT_OS, k->sys_close, now);
    }
}

static void srv_close(struct sim_world *w, uint32_t slot, uint64_t now)
{
    struct srv_conn *s = &w->srv[slot];
    if (s->where == SRV_HOST) {
        tcpe_release(s->conn, now);
        slot_free(w, slot);
    } else if (s->where == SRV_ON_NIC) {
        struct ho_cmd cmd = {.type = HO_CMD_CLOSE};
        cmd.close.conn_id = slot;
        cmd.close.how = HO_CMD_CLOSE_CLOSE;
        pci_to_nic(w, &cmd, 0, now); /* the slot is freed when the NIC says CLOSED */
    } else {
        s->close_pending = true; /* closed once the NIC has answered the handoff */
    }
}

static void srv_done(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_world *w = ctx;
    uint32_t slot = (uint32_t)(arg & 0x0fffffff);
    enum srv_op op = (enum srv_op)((arg >> 28) & 0xf);
    const struct sim_costs *k = &w->cfg.costs;
    if (op == OP_ACCEPT) {
        srv_accept(w, now);
        host_rearm(w, now);
        return;
    }
    struct srv_conn *s = &w->srv[slot];
    if (slot >= w->nsrv || s->gen != (uint32_t)(arg >> 32) || !s->in_use) {
        return; /* the connection was closed before this task ran */
    }
    switch (op) {
    case OP_READ:
        s->reads_queued--;
        srv_read(w, slot, now);
        break;
    case OP_PARSE: {
        /* The header is written (copied); a static body goes by sendfile, a dynamic one is
         * generated in user space and copied too. */
        const struct ho_req *r = clients_request(w, (uint32_t)s->client);
        uint64_t resp = clients_response_bytes(w, (uint32_t)s->client);
        uint64_t copied = r->kind == HO_REQ_STATIC ? resp - r->size : resp;
        uint64_t cycles = k->sys_write + copied * k->copy_per_kb / 1024 +
                          (r->kind == HO_REQ_STATIC && r->size ? k->sys_sendfile : 0);
        s->resp_left = resp;
        s->write_left = copied;
        s->file_queued = 0;
        s->client = -1;
        srv_task(w, slot, OP_RESPOND, CAT_OS, cycles, now);
        break;
    }
    case OP_RESPOND:
    case OP_SENDMORE:
        srv_push(w, slot, now);
        break;
    case OP_CLOSE:
        srv_close(w, slot, now);
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
    const struct sim_costs *k = &w->cfg.costs;
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

/* ---- messages from the NIC -------------------------------------------------------------- */

static void handoff_answered(struct sim_world *w, const struct ho_cmd_handoff_reply *r,
                             uint64_t now)
{
    uint32_t slot = r->conn_id;
    struct srv_conn *s = &w->srv[slot];
    HO_ASSERT(s->in_use && s->where == SRV_OFFERED, "reply for connection %u not offered", slot);
    bool accepted = r->status == HO_CMD_ACCEPTED;
    if (!accepted) {
        ho_lookup_remove(w->bypassed, &s->tuple);
    }
    ho_sel_reply(&w->sel, &s->sel, accepted);
    ho_sel_advertised(&w->sel, r->soft_limit);
    if (accepted) {
        w->accepts_in_flight--;
        s->where = SRV_ON_NIC;
        if (s->counted) {
            world_conn_handed_off(w);
        }
        for (uint32_t i = 0; i < s->nheld; i++) {
            nic_forward(w, pkt_at(w, s->held[i]), now);
        }
    } else {
        int rc = tcpe_import(w->host_stack, s->blob, s->blob_len, now, &s->conn);
        HO_ASSERT(rc == HO_OK, "a refused connection cannot come back: %s", ho_strerror(rc));
        tcpe_conn_set_user(s->conn, (void *)(uintptr_t)(slot + 1));
        s->where = SRV_HOST;
        for (uint32_t i = 0; i < s->nheld; i++) {
            struct sim_pkt *p = pkt_at(w, s->held[i]);
            tcpe_stack_input(w->host_stack, &p->seg, now);
            pkt_free(w, p);
        }
        /* Data that came back inside the state raises no event: read it now. */
        if (tcpe_conn_readable(s->conn) > 0 || tcpe_conn_eof(s->conn)) {
            srv_task(w, slot, OP_READ, CAT_OS, w->cfg.costs.sys_event + w->cfg.costs.sys_read, now);
        }
    }
    w->pkts_held -= s->nheld;
    s->nheld = 0;
    free(s->blob);
    s->blob = NULL;
    if (s->close_pending) {
        srv_close(w, slot, now);
    } else if (s->resp_left > 0) {
        srv_push(w, slot, now);
    }
}

void host_msg_arrive(struct sim_world *w, uint64_t handle, uint64_t now)
{
    struct ho_cmd cmd;
    pci_msg_decode(w, handle, &cmd, &w->seq_to_host_got);
    const struct sim_costs *k = &w->cfg.costs;
    struct srv_conn *s;
    switch (cmd.type) {
    case HO_CMD_HANDOFF_REPLY:
        handoff_answered(w, &cmd.handoff_reply, now);
        break;
    case HO_CMD_SOFT_LIMIT:
        ho_sel_advertised(&w->sel, cmd.soft_limit.soft_limit);
        break;
    case HO_CMD_RECV:
        s = &w->srv[cmd.recv.conn_id];
        s->rx_ready += cmd.recv.len;
        s->nic_eof |= (cmd.recv.flags & HO_CMD_RECV_FIN) != 0;
        srv_task(w, cmd.recv.conn_id, OP_READ, CAT_OS, k->sys_event + k->sys_read, now);
        break;
    case HO_CMD_ACKED:
        for (unsigned i = 0; i < cmd.acked.count; i++) {
            s = &w->srv[cmd.acked.entries[i].conn_id];
            HO_ASSERT(s->snd_inflight >= cmd.acked.entries[i].bytes, "ACKED more than sent");
            s->snd_inflight -= cmd.acked.entries[i].bytes;
            if (s->resp_left > 0) {
                srv_task(w, cmd.acked.entries[i].conn_id, OP_SENDMORE, CAT_OS,
                         k->sys_event + k->sys_sendfile, now);
            }
        }
        break;
    case HO_CMD_CLOSED:
        s = &w->srv[cmd.closed.conn_id];
        HO_ASSERT(s->in_use && s->where == SRV_ON_NIC, "CLOSED for a connection not on the NIC");
        ho_sel_left_nic(&w->sel, &s->sel);
        ho_lookup_remove(w->bypassed, &s->tuple);
        w->closes_in_flight--;
        slot_free(w, cmd.closed.conn_id);
        break;
    default:
        HO_ASSERT(0, "the driver does not expect %s", ho_cmd_type_name(cmd.type));
    }
    pci_msg_free(w, handle);
    host_rearm(w, now);
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
    struct ho_sel_policy never = {.kind = HO_SEL_NEVER};
    if (ho_sel_init(&w->sel, w->cfg.nic_conns ? &w->cfg.selection : &never, w->cfg.nic_conns) !=
        HO_OK) {
        return HO_EINVAL;
    }
    if (w->cfg.nic_conns) {
        /* Every server connection may be bypassed; a client's next connection can open while
         * its last one closes, hence twice the clients, and room to spare for probing. */
        struct ho_lookup_params tlp = {.capacity = w->nclients * 4, .hash_seed = w->cfg.seed};
        w->bypassed = ho_lookup_create(&tlp);
        if (!w->bypassed) {
            return HO_ENOMEM;
        }
    }
    /* Create the slot array (slot LISTEN_SLOT stays reserved) and give the first slot back. */
    uint32_t first = slot_alloc(w);
    w->free_slots[w->nfree_slots++] = first;
    return HO_OK;
}

int host_check(struct sim_world *w)
{
    /* The server never sleeps on a socket that has data: a lost wake-up loses a request. */
    for (uint32_t i = 0; i < w->nsrv; i++) {
        const struct srv_conn *s = &w->srv[i];
        if (!s->in_use || s->reads_queued > 0) {
            continue;
        }
        bool unread = s->where == SRV_HOST ? tcpe_conn_readable(s->conn) > 0
                                           : s->where == SRV_ON_NIC && s->rx_ready > 0;
        if (unread) {
            world_fail(w, "server connection %u (%s) has unread data and no read pending", i,
                       s->where == SRV_HOST ? "on the host" : "on the NIC");
            return -1;
        }
    }
    return 0;
}

void host_fini(struct sim_world *w)
{
    tcpe_stack_destroy(w->host_stack);
    sim_cache_destroy(w->l2);
    sim_cpu_destroy(w->host_cpu);
    for (uint32_t i = 0; i < w->nsrv; i++) {
        free(w->srv[i].blob);
        free(w->srv[i].held);
    }
    free(w->srv);
    free(w->free_slots);
    ho_lookup_destroy(w->bypassed);
}
