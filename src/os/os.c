/*
 * os.c - the OS side's core: its life, the host TCP stack (tcpe) and the processing of the
 * packets it receives and sends, its timers, and the work the platform runs for it (see
 * include/handoff/os.h).
 *
 * Every piece of work is handed to the platform with its cost and takes effect when the platform
 * says it has run: a received packet enters the TCP stack at the end of its processing, a sent
 * one goes to the NIC at the end of its. Network work (packets, messages, timer expiries) has
 * priority over the processes, as interrupts and the network software interrupt do. A packet's
 * work touches two things in memory: its header buffer, which the NIC's DMA has just written
 * and so is never cached, and its connection's state (TCB, inpcb, socket: about 1 KB, paper
 * section 2), which stays cached only while few enough connections are active.
 */
#include <stdlib.h>
#include <string.h>

#include "handoff/assert.h"
#include "handoff/cmd.h"
#include "handoff/err.h"
#include "os_priv.h"

void os_run(struct ho_os *os, unsigned prio, unsigned cat, uint64_t cycles, bool touches,
            uint64_t arg)
{
    struct ho_os_work w = {
        .prio = (uint8_t)prio,
        .cat = (uint8_t)cat,
        .touches = touches,
        .notify = arg != 0,
        .cycles = cycles,
        .arg = arg,
    };
    os->ops.run(os->ctx, &w, os->now);
}

void os_rearm(struct ho_os *os)
{
    uint64_t next = tcpe_stack_next_wake(os->stack);
    if (next != os->tcp_wake) {
        os->tcp_wake = next;
        os->ops.timer(os->ctx, next, os->now);
    }
}

void os_call_done(struct ho_os *os)
{
    if (os->nested == 0) {
        os_rearm(os);
    }
}

void os_app_event(struct ho_os *os, uint32_t sock, unsigned events)
{
    if (os->app.event) {
        os->app.event(os->app.ctx, sock, events, os->now);
    }
}

/* ---- the host's TCP --------------------------------------------------------------------- */

/* The socket whose state a packet's processing touches: its connection's, or the listener's. */
static uint32_t pkt_sock(struct ho_os *os, const struct tcpe_seg *seg, bool rx)
{
    struct tcpe_tuple t = rx ? (struct tcpe_tuple){.local_ip = seg->dst_ip,
                                                   .remote_ip = seg->src_ip,
                                                   .local_port = seg->dst_port,
                                                   .remote_port = seg->src_port}
                             : (struct tcpe_tuple){.local_ip = seg->src_ip,
                                                   .remote_ip = seg->dst_ip,
                                                   .local_port = seg->src_port,
                                                   .remote_port = seg->dst_port};
    struct tcpe_conn *c = tcpe_stack_lookup(os->stack, &t);
    uintptr_t u = c ? (uintptr_t)tcpe_conn_user(c) : 0;
    return u ? (uint32_t)(u - 1) : OS_LISTEN_SOCK;
}

static int tcp_output(void *ctx, const struct tcpe_seg *seg)
{
    struct ho_os *os = ctx;
    if (!os_if_admit(os)) {
        return HO_ENOSPC;
    }
    struct ho_pkt *p = os->ops.pkt_alloc(os->ctx, seg);
    HO_ASSERT(p, "out of memory for packets");
    p->host_slot = pkt_sock(os, seg, false);
    os->pkts_working++;
    os_run(os, HO_OS_PRIO_NET, HO_OS_CAT_NET, os->p.costs.tx_pkt, true, OS_W_ARG(OS_W_TX, p->id));
    return HO_OK;
}

static void tcp_event(void *ctx, struct tcpe_conn *c, unsigned ev)
{
    struct ho_os *os = ctx;
    if (c == os->listener) {
        if (ev & TCPE_EV_ACCEPT) {
            os_app_event(os, OS_LISTEN_SOCK, HO_SO_ACCEPT);
        }
        return;
    }
    uintptr_t u = (uintptr_t)tcpe_conn_user(c);
    if (!u) {
        return; /* not yet accepted: the application finds it when it accepts */
    }
    uint32_t sock = (uint32_t)(u - 1);
    if (ev & (TCPE_EV_RESET | TCPE_EV_TIMEDOUT)) {
        os->ops.fault(os->ctx, ev & TCPE_EV_RESET ? "server connection reset"
                                                  : "server connection timed out");
        tcpe_release(c, os->now);
        os_sock_free(os, sock);
        return;
    }
    unsigned events =
        (ev & TCPE_EV_READABLE ? HO_SO_READABLE : 0) | (ev & TCPE_EV_WRITABLE ? HO_SO_WRITABLE : 0);
    if (events) {
        os_app_event(os, sock, events);
    }
}

void ho_os_timer(struct ho_os *os, uint64_t now)
{
    os->now = now;
    os->nested++;
    os->tcp_wake = TCPE_NEVER; /* the platform's timer has fired */
    /* The timers act at their deadline (the clock interrupt preempts everything); the
     * processor pays for the expiries right after. Packets they send cost as packets. */
    uint64_t fired = tcpe_stack_timers(os->stack, now);
    if (fired > 0) {
        os_run(os, HO_OS_PRIO_NET, HO_OS_CAT_NET, fired * os->p.costs.timer, false, 0);
    }
    os_rearm(os);
    os->nested--;
}

/* ---- packets ---------------------------------------------------------------------------- */

void ho_os_rx(struct ho_os *os, struct ho_pkt *p, uint64_t now)
{
    os->now = now;
    os_nic_alive(os);
    os->pkts_working++;
    os_run(os, HO_OS_PRIO_NET, HO_OS_CAT_NET, os->p.costs.rx_pkt, true, OS_W_ARG(OS_W_RX, p->id));
}

/* A receive buffer is OS_BUF_BYTES long, all of it written by the DMA; processing the packet
 * reads its first pkt_hdr_bytes (the headers). */
struct ho_os_mem ho_os_rx_buf(const struct ho_os *os, const struct ho_pkt *p)
{
    (void)os;
    return (struct ho_os_mem){OS_BUF_BASE + (uint64_t)(p->id % OS_BUF_COUNT) * OS_BUF_BYTES,
                              OS_BUF_BYTES};
}

static uint64_t state_addr(const struct ho_os *os, uint32_t sock)
{
    uint64_t line = os->p.line_bytes;
    uint64_t stride = (os->p.costs.conn_state_bytes + line - 1) / line * line;
    return OS_STATE_BASE + (uint64_t)sock * stride;
}

unsigned ho_os_work_mem(struct ho_os *os, uint64_t arg, struct ho_os_mem *mem)
{
    unsigned kind = OS_W_KIND(arg);
    if (kind != OS_W_RX && kind != OS_W_TX) {
        return 0;
    }
    struct ho_pkt *p = os->ops.pkt_at(os->ctx, (uint32_t)OS_W_VAL(arg));
    if (kind == OS_W_RX) {
        /* The connection is found when its processing starts: it may have been accepted or
         * handed off since the packet arrived. */
        p->host_slot = pkt_sock(os, &p->seg, true);
    }
    mem[0] = ho_os_rx_buf(os, p);
    mem[0].len = os->p.costs.pkt_hdr_bytes;
    mem[1] = (struct ho_os_mem){state_addr(os, p->host_slot), os->p.costs.conn_state_bytes};
    return 2;
}

static void rx_done(struct ho_os *os, struct ho_pkt *p)
{
    os->pkts_working--;
    os->pkts++;
    /* A connection the host's stack holds is not bypassed: only the others need looking up
     * (the stack cannot change under a receive, which nothing else interrupts). */
    if (p->host_slot == OS_LISTEN_SOCK && os_bypass_rx(os, p)) {
        return;
    }
    tcpe_stack_input(os->stack, &p->seg, os->now);
    os->ops.pkt_free(os->ctx, p);
    os_rearm(os);
}

static void tx_done(struct ho_os *os, struct ho_pkt *p)
{
    os->pkts_working--;
    os->pkts++;
    os_if_start(os, p);
}

void ho_os_work_done(struct ho_os *os, uint64_t arg, uint64_t now)
{
    os->now = now;
    os->nested++;
    uint64_t v = OS_W_VAL(arg);
    switch (OS_W_KIND(arg)) {
    case OS_W_RX:
        rx_done(os, os->ops.pkt_at(os->ctx, (uint32_t)v));
        break;
    case OS_W_TX:
        tx_done(os, os->ops.pkt_at(os->ctx, (uint32_t)v));
        break;
    case OS_W_MSG_IN:
        os_msg_in_done(os, (uint32_t)v);
        break;
    case OS_W_MSG_OUT:
        os_msg_out_done(os, (uint32_t)v);
        break;
    case OS_W_APP:
        os->app.done(os->app.ctx, v, now);
        os_rearm(os);
        break;
    default:
        HO_ASSERT(0, "host work of unknown kind %u", OS_W_KIND(arg));
    }
    os->nested--;
}

/* ---- life and inspection ---------------------------------------------------------------- */

int ho_os_create(const struct ho_os_params *p, const struct ho_os_ops *ops, void *ctx,
                 struct ho_os **out)
{
    if (!p || !ops || !out || p->conns == 0 || p->line_bytes == 0 || p->tx_ring == 0 ||
        p->tx_ring > OS_TX_RING_MAX ||
        (!p->virtual_payload && p->nic_conns > 0 && !ops->host_take)) {
        return HO_EINVAL;
    }
    struct ho_os *os = calloc(1, sizeof *os);
    if (!os) {
        return HO_ENOMEM;
    }
    os->p = *p;
    os->ops = *ops;
    os->ctx = ctx;
    os->tcp_wake = TCPE_NEVER;
    ho_bufpool_init(&os->msgs, sizeof(struct ho_cmd));
    struct tcpe_params tp;
    tcpe_params_init(&tp);
    tp.ops.output = tcp_output;
    tp.ops.event = tcp_event;
    tp.ctx = os;
    tp.virtual_payload = p->virtual_payload;
    tp.nodelay = true;
    tp.mss = (uint16_t)p->mss;
    tp.sndbuf = p->sndbuf;
    tp.rcvbuf = p->rcvbuf;
    tp.delack = p->delack_ns;
    tp.delack_one_segment = p->delack_one_segment;
    tp.backlog_accept_queue = true;
    if (p->rto_init_ns) {
        tp.rto_init = p->rto_init_ns;
    }
    tp.seed = p->seed ^ 0x5e;
    tp.hash_buckets = p->conns;
    int rc = tcpe_stack_create(&tp, &os->stack);
    if (rc == HO_OK) {
        rc = os_driver_init(os);
    }
    if (rc == HO_OK) {
        rc = os_socks_init(os);
    }
    if (rc != HO_OK) {
        ho_os_destroy(os);
        return rc;
    }
    *out = os;
    return HO_OK;
}

void ho_os_destroy(struct ho_os *os)
{
    if (!os) {
        return;
    }
    os_socks_fini(os);
    os_driver_fini(os);
    tcpe_stack_destroy(os->stack);
    free(os);
}

void ho_os_set_app(struct ho_os *os, const struct ho_os_app *app)
{
    os->app = *app;
}

void ho_os_info(const struct ho_os *os, struct ho_os_info *info)
{
    memset(info, 0, sizeof *info);
    info->pkts = os->pkts;
    info->pkts_working = os->pkts_working;
    info->pkts_held = os->pkts_held;
    for (uint32_t i = 0; i < os->nsocks; i++) {
        const struct os_sock *s = &os->socks[i];
        info->on_nic += s->in_use && (s->where == OS_ON_NIC || s->where == OS_RESTORING);
        info->offered += s->in_use && s->where == OS_OFFERED;
    }
    info->sel_on_nic = os->sel.on_nic;
    info->nic_resets = os->nic_resets;
    info->conns_recovered = os->conns_recovered;
    info->conns_reset = os->conns_reset;
    info->last_fw_up = os->last_fw_up;
    info->accepted_at_fw_up = os->accepted_at_fw_up;
    info->closed_at_fw_up = os->closed_at_fw_up;
    info->restored = os->restored;
    info->restored_at_fw_up = os->restored_at_fw_up;
    info->watchdog_resets = os->watchdog_resets;
    info->last_watchdog_reset = os->last_watchdog_reset;
    info->uploaded = os->uploaded;
    info->given_back = os->given_back;
    info->accepted = os->accepted;
    info->closed = os->closed;
    info->ifq_drops = os->ifq_drops;
    info->ifq_len = os->ifq_len;
    info->tx_posted = os->tx_posted;
    info->tcp = tcpe_stack_stats(os->stack);
}

int ho_os_check(const struct ho_os *os, char *why, size_t len)
{
    for (uint32_t i = 0; i < os->nsocks; i++) {
        const struct os_sock *s = &os->socks[i];
        if (s->in_use && (s->where == OS_HOST) != (s->conn != NULL)) {
            snprintf(why, len, "server connection %u: host ownership inconsistent", i);
            return -1;
        }
    }
    return 0;
}
