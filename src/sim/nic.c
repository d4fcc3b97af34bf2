/*
 * nic.c - the NIC: its firmware's work queues and scheduler (src/policy/sched.c), its processor,
 * and, with handoff, its lookup layer, load control and its own TCP stack for the connections
 * handed to it.
 *
 * Frames from the wire first go through the lookup layer (when handoff is on): a hit is a NIC
 * packet (NIC_RX), a miss a host packet (HOST_RX); both wait in the shared receive memory and a
 * full memory drops. Host packets to send wait in HOST_TX, the driver's commands in CMD. The
 * firmware runs one piece of work at a time, to completion: when its processor is idle it takes
 * the next item under the configured discipline (FCFS or host first), runs it for its cost in
 * instructions, and only then acts on it; the segments and messages that work produced (NIC_TX)
 * are then paid for and sent before anything else is taken, as tcp_output runs inside the
 * tcp_input that triggered it. Load control is evaluated when a packet arrives, a connection is
 * handed off and a connection ends (paper section 3.2); each change of Soft limit is advertised
 * to the driver. The time from a host packet's arrival at the NIC to the end of its processing
 * is the "packet delay" of the paper's Table 1.
 */
#include <stdlib.h>
#include <string.h>

#include "handoff/assert.h"
#include "handoff/err.h"
#include "handoff/lookup.h"
#include "world_priv.h"

/* NIC_TX items: aux says whether the handle is a packet or a message to the host. */
#define AUX_MSG 0x80000000u

static void nic_kick(struct sim_world *w, uint64_t now);

bool nic_item_is_msg(const struct ho_sched_item *it)
{
    return it->queue == HO_SCHED_CMD || (it->queue == HO_SCHED_NIC_TX && (it->aux & AUX_MSG));
}

/* ---- messages to the driver ------------------------------------------------------------- */

static void advertise(struct sim_world *w, int changed, uint64_t now)
{
    if (changed != 1) {
        return;
    }
    struct ho_cmd cmd;
    ho_lc_advert(&w->lc, 0, &cmd);
    pci_to_host(w, &cmd, now);
}

static void ack_flush(struct sim_world *w, uint64_t now)
{
    while (ho_ackagg_count(w->ackagg) > 0) {
        struct ho_cmd cmd;
        int rc = ho_ackagg_flush(w->ackagg, 0, &cmd);
        HO_ASSERT(rc > 0, "ACK aggregation flush: %s", ho_strerror(rc));
        pci_to_host(w, &cmd, now);
    }
}

static void ack_timer(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_world *w = ctx;
    (void)arg;
    w->ack_timer_armed = false;
    if (ho_ackagg_due(w->ackagg, now)) {
        ack_flush(w, now);
    }
    uint64_t d = ho_ackagg_deadline(w->ackagg);
    if (d != UINT64_MAX) {
        w->ack_timer_armed = true;
        sim_evq_schedule(w->evq, d > now ? d : now, ack_timer, w, 0, NULL);
    }
}

static void ack_add(struct sim_world *w, uint32_t conn_id, uint32_t bytes, uint64_t now)
{
    if (ho_ackagg_add(w->ackagg, conn_id, bytes, now) == HO_ENOSPC) {
        ack_flush(w, now);
        ho_ackagg_add(w->ackagg, conn_id, bytes, now);
    }
    if (ho_ackagg_due(w->ackagg, now)) {
        ack_flush(w, now);
    } else if (!w->ack_timer_armed && ho_ackagg_deadline(w->ackagg) != UINT64_MAX) {
        w->ack_timer_armed = true;
        sim_evq_schedule(w->evq, ho_ackagg_deadline(w->ackagg), ack_timer, w, 0, NULL);
    }
}

/* ---- the NIC's TCP ---------------------------------------------------------------------- */

static void nic_timer(void *ctx, uint64_t arg, uint64_t now);

static void nic_rearm(struct sim_world *w, uint64_t now)
{
    if (w->nic_stack) {
        world_stack_timer(w, w->nic_stack, &w->nic_timer_at, &w->nic_timer_handle, nic_timer, now);
    }
}

static void nic_timer(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_world *w = ctx;
    (void)arg;
    w->nic_timer_at = TCPE_NEVER;
    /* The firmware runs one item at a time, so the expiries' instructions are paid just before
     * the next item it takes (the segments they send are such items). Those segments wake an
     * idle firmware, as any other work does: otherwise a retransmission or delayed ACK would
     * wait for the next packet to arrive, for ever once the clients are quiet. */
    w->nic_timer_debt += world_run_timers(w->nic_stack, now) * w->cfg.costs.nic_timer *
                         w->cfg.costs.nic_scale_pct / 100;
    nic_rearm(w, now);
    nic_kick(w, now);
}

static void nic_output(void *ctx, const struct tcpe_seg *seg)
{
    struct sim_world *w = ctx;
    struct sim_pkt *p = pkt_new(w, seg);
    HO_ASSERT(p, "out of memory for packets");
    uint64_t now = sim_evq_now(w->evq);
    p->t_nic = now;
    int rc = ho_sched_enqueue(w->nic_q, HO_SCHED_NIC_TX, p->index, 0, now);
    HO_ASSERT(rc == HO_OK, "NIC transmit queue full");
}

/* A connection leaves the NIC: its entries go, the driver hears of it, load control counts. */
static void nic_conn_gone(struct sim_world *w, uint32_t ns, uint8_t how, uint64_t now)
{
    struct nic_slot *n = &w->nic_slots[ns];
    ack_flush(w, now);
    int rc = ho_lookup_remove(w->lookup, &n->tuple);
    HO_ASSERT(rc == (int)ns, "lookup entry of NIC connection %u missing (%d)", ns, rc);
    advertise(w, ho_lc_conn_end(&w->lc, ho_sched_qlen(w->nic_q), now), now);
    struct ho_cmd cmd = {.type = HO_CMD_CLOSED};
    cmd.closed.conn_id = n->host_id;
    cmd.closed.how = how;
    w->closes_in_flight++;
    pci_to_host(w, &cmd, now);
    tcpe_release(n->conn, now);
    w->nic_of_host[n->host_id] = UINT32_MAX;
    memset(n, 0, sizeof *n);
    n->next_free = w->nic_free;
    w->nic_free = ns;
}

/* Moves what the connection has received into the host's socket buffer (a RECV message). */
static void deliver(struct sim_world *w, struct nic_slot *n, uint64_t now)
{
    int got = tcpe_recv(n->conn, NULL, UINT32_MAX >> 1, now);
    bool fin = tcpe_conn_eof(n->conn) && !n->fin_told;
    if (got > 0 || fin) {
        struct ho_cmd cmd = {.type = HO_CMD_RECV};
        cmd.recv.conn_id = n->host_id;
        cmd.recv.len = got > 0 ? (uint32_t)got : 0;
        cmd.recv.flags = fin ? HO_CMD_RECV_FIN : 0;
        n->fin_told |= fin;
        pci_to_host(w, &cmd, now);
    }
}

static void nic_event(void *ctx, struct tcpe_conn *c, unsigned ev)
{
    struct sim_world *w = ctx;
    uint64_t now = sim_evq_now(w->evq);
    uint32_t ns = (uint32_t)(uintptr_t)tcpe_conn_user(c) - 1;
    struct nic_slot *n = &w->nic_slots[ns];
    if (ev & (TCPE_EV_RESET | TCPE_EV_TIMEDOUT)) {
        world_fail(w, "NIC connection %s", ev & TCPE_EV_RESET ? "reset" : "timed out");
        nic_conn_gone(w, ns, ev & TCPE_EV_RESET ? HO_CMD_CLOSED_RESET : HO_CMD_CLOSED_TIMEOUT, now);
        return;
    }
    if (ev & TCPE_EV_ACKED) {
        uint64_t acked = n->sent - tcpe_conn_unacked(c);
        if (acked > n->acked) {
            ack_add(w, n->host_id, (uint32_t)(acked - n->acked), now);
            n->acked = acked;
        }
    }
    if (ev & TCPE_EV_READABLE) {
        deliver(w, n, now);
    }
    if (ev & TCPE_EV_CLOSED) {
        nic_conn_gone(w, ns, HO_CMD_CLOSED_NORMAL, now);
    }
}

/* ---- commands from the driver ----------------------------------------------------------- */

static void take_handoff(struct sim_world *w, const struct ho_cmd *cmd, uint64_t now)
{
    const struct ho_cmd_handoff *h = &cmd->handoff;
    struct ho_cmd reply = {.type = HO_CMD_HANDOFF_REPLY};
    reply.handoff_reply.conn_id = h->conn_id;
    reply.handoff_reply.req_seq = cmd->seq;
    int adm = ho_lc_admit(&w->lc, ho_sched_qlen(w->nic_q), now);
    advertise(w, adm, now);
    if (adm < 0) {
        reply.handoff_reply.status = HO_CMD_REFUSED_SOFT_LIMIT;
    } else {
        uint32_t ns = w->nic_free;
        struct tcpe_conn *c = NULL;
        HO_ASSERT(ns != UINT32_MAX, "NIC connection memory exhausted below Hard limit");
        int rc = tcpe_import(w->nic_stack, h->state.data, h->state.len, now, &c);
        if (rc != HO_OK || ho_lookup_insert(w->lookup, &h->tuple, ns) != HO_OK) {
            if (c) {
                tcpe_detach(c);
            }
            advertise(w, ho_lc_conn_end(&w->lc, ho_sched_qlen(w->nic_q), now), now);
            reply.handoff_reply.status = HO_CMD_REFUSED_BAD_STATE;
        } else {
            struct nic_slot *n = &w->nic_slots[ns];
            w->nic_free = n->next_free;
            memset(n, 0, sizeof *n);
            n->conn = c;
            n->host_id = h->conn_id;
            n->tuple = h->tuple;
            n->sent = tcpe_conn_unacked(c);
            tcpe_conn_set_user(c, (void *)(uintptr_t)(ns + 1));
            world_nic_of_host_set(w, h->conn_id, ns);
            reply.handoff_reply.status = HO_CMD_ACCEPTED;
        }
    }
    reply.handoff_reply.soft_limit = ho_lc_soft_limit(&w->lc);
    w->accepts_in_flight += reply.handoff_reply.status == HO_CMD_ACCEPTED;
    pci_to_host(w, &reply, now);
    if (reply.handoff_reply.status == HO_CMD_ACCEPTED) {
        /* Data the host had received but the application had not read came with the state. */
        deliver(w, &w->nic_slots[w->nic_of_host[h->conn_id]], now);
    }
}

static void take_command(struct sim_world *w, uint64_t handle, uint64_t now)
{
    struct ho_cmd cmd;
    pci_msg_decode(w, handle, &cmd, &w->seq_to_nic_got);
    uint32_t ns;
    switch (cmd.type) {
    case HO_CMD_HANDOFF:
        take_handoff(w, &cmd, now);
        break;
    case HO_CMD_SEND:
        ns = w->nic_of_host[cmd.send.conn_id];
        HO_ASSERT(ns != UINT32_MAX, "SEND for connection %u, not on the NIC", cmd.send.conn_id);
        {
            int n = tcpe_send(w->nic_slots[ns].conn, NULL, cmd.send.len, now);
            HO_ASSERT(n == (int)cmd.send.len, "NIC send buffer refused %u bytes (%d)", cmd.send.len,
                      n);
            w->nic_slots[ns].sent += cmd.send.len;
        }
        break;
    case HO_CMD_CLOSE:
        ns = w->nic_of_host[cmd.close.conn_id];
        HO_ASSERT(ns != UINT32_MAX, "CLOSE for connection %u, not on the NIC", cmd.close.conn_id);
        tcpe_shutdown(w->nic_slots[ns].conn, now);
        break;
    default:
        HO_ASSERT(0, "the NIC does not expect %s", ho_cmd_type_name(cmd.type));
    }
    pci_msg_free(w, handle);
    nic_rearm(w, now);
}

/* ---- the firmware's loop ---------------------------------------------------------------- */

static void nic_done(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_world *w = ctx;
    struct ho_sched_item *it = &w->nic_item;
    (void)arg;
    w->nic_busy = false;
    struct sim_pkt *p = nic_item_is_msg(it) ? NULL : pkt_at(w, (uint32_t)it->handle);
    switch (it->queue) {
    case HO_SCHED_HOST_RX:
        world_delay_sample(w, true, now - p->t_nic);
        host_rx(w, p, now);
        break;
    case HO_SCHED_HOST_TX:
        world_delay_sample(w, false, now - p->t_nic);
        wire_send(w, DIR_TO_CLIENT, p, now);
        break;
    case HO_SCHED_NIC_RX:
        world_nic_packet(w);
        tcpe_stack_input(w->nic_stack, &p->seg, now);
        pkt_free(w, p);
        nic_rearm(w, now);
        break;
    case HO_SCHED_NIC_TX:
        if (p) {
            world_nic_packet(w);
            wire_send(w, DIR_TO_CLIENT, p, now);
        } else {
            pci_host_msg_arrive(w, it->handle, now);
        }
        break;
    case HO_SCHED_CMD:
        take_command(w, it->handle, now);
        break;
    default:
        HO_ASSERT(0, "NIC work on queue %u", it->queue);
    }
    nic_kick(w, now);
}

static uint64_t nic_cost(const struct sim_world *w, const struct ho_sched_item *it)
{
    const struct sim_costs *k = &w->cfg.costs;
    uint64_t probes = (uint64_t)(it->aux & 0xffff) * k->nic_lookup_probe;
    uint64_t own; /* the NIC's own TCP and messaging, which cost.nic_scale_pct scales */
    switch (it->queue) {
    case HO_SCHED_HOST_RX:
        return k->nic_host_rx + probes;
    case HO_SCHED_HOST_TX:
        return k->nic_host_tx;
    case HO_SCHED_NIC_RX:
        return k->nic_tcp_rx * (uint64_t)k->nic_scale_pct / 100 + probes;
    case HO_SCHED_NIC_TX:
        own = it->aux & AUX_MSG ? k->nic_msg : k->nic_tcp_tx;
        break;
    case HO_SCHED_CMD:
        own = k->nic_cmd + (it->aux == HO_CMD_HANDOFF ? k->nic_handoff : 0);
        break;
    default:
        return 0;
    }
    return own * k->nic_scale_pct / 100;
}

/* The accounting category of a piece of NIC work (struct sim_metrics: nic_*_pct). */
static unsigned nic_cat(const struct ho_sched_item *it)
{
    if (nic_item_is_msg(it)) {
        return NIC_CAT_MSG;
    }
    return it->queue == HO_SCHED_HOST_RX || it->queue == HO_SCHED_HOST_TX ? NIC_CAT_HOST
                                                                          : NIC_CAT_TCP;
}

/* If the processor is idle, starts the next piece of work (after any timer expiries owed). */
static void nic_kick(struct sim_world *w, uint64_t now)
{
    if (w->nic_busy || ho_sched_dequeue(w->nic_q, now, &w->nic_item) != HO_OK) {
        return;
    }
    w->nic_busy = true;
    w->msgs_in_nic_q -= nic_item_is_msg(&w->nic_item);
    if (w->nic_timer_debt > 0) {
        struct sim_cpu_task d = {.cat = NIC_CAT_TCP, .cycles = w->nic_timer_debt};
        w->nic_timer_debt = 0;
        int rc = sim_cpu_submit(w->nic_cpu, now, &d);
        HO_ASSERT(rc == HO_OK, "NIC task refused: %s", ho_strerror(rc));
    }
    struct sim_cpu_task t = {
        .cat = nic_cat(&w->nic_item),
        .cycles = nic_cost(w, &w->nic_item),
        .done = nic_done,
        .ctx = w,
    };
    int rc = sim_cpu_submit(w->nic_cpu, now, &t);
    HO_ASSERT(rc == HO_OK, "NIC task refused: %s", ho_strerror(rc));
}

static void nic_enqueue(struct sim_world *w, enum ho_sched_queue q, struct sim_pkt *p, uint32_t aux,
                        uint64_t now)
{
    p->t_nic = now;
    if (ho_sched_enqueue(w->nic_q, q, p->index, aux, now) != HO_OK) {
        pkt_free(w, p); /* counted by the scheduler as a drop on q */
        return;
    }
    nic_kick(w, now);
}

void nic_rx_arrive(struct sim_world *w, struct sim_pkt *p, uint64_t now)
{
    if (!w->lookup) {
        nic_enqueue(w, HO_SCHED_HOST_RX, p, 0, now);
        return;
    }
    struct tcpe_tuple key = ho_lookup_key_from_rx(&p->seg);
    int hit = ho_lookup_find(w->lookup, &key);
    uint32_t probes = ho_lookup_last_probes(w->lookup);
    nic_enqueue(w, hit >= 0 ? HO_SCHED_NIC_RX : HO_SCHED_HOST_RX, p, probes, now);
    advertise(w, ho_lc_packet(&w->lc, ho_sched_qlen(w->nic_q), now), now);
}

void nic_forward(struct sim_world *w, struct sim_pkt *p, uint64_t now)
{
    nic_enqueue(w, HO_SCHED_NIC_RX, p, 0, now);
}

void nic_host_tx(struct sim_world *w, struct sim_pkt *p, uint64_t now)
{
    nic_enqueue(w, HO_SCHED_HOST_TX, p, 0, now);
}

void nic_cmd_arrive(struct sim_world *w, uint64_t handle, uint64_t now)
{
    uint32_t type = pci_msg_type(w, handle);
    int rc = ho_sched_enqueue(w->nic_q, HO_SCHED_CMD, handle, type, now);
    HO_ASSERT(rc == HO_OK, "NIC command queue full");
    w->msgs_in_nic_q++;
    nic_kick(w, now);
}

void nic_post_msg(struct sim_world *w, uint64_t handle, uint64_t now)
{
    int rc = ho_sched_enqueue(w->nic_q, HO_SCHED_NIC_TX, handle, AUX_MSG, now);
    HO_ASSERT(rc == HO_OK, "NIC transmit queue full");
    w->msgs_in_nic_q++;
    nic_kick(w, now);
}

void world_nic_of_host_set(struct sim_world *w, uint32_t host_id, uint32_t ns)
{
    if (host_id >= w->nnic_of_host) {
        uint32_t n = w->nnic_of_host ? w->nnic_of_host : 1024;
        while (n <= host_id) {
            n *= 2;
        }
        uint32_t *m = realloc(w->nic_of_host, (size_t)n * sizeof *m);
        HO_ASSERT(m, "out of memory");
        for (uint32_t i = w->nnic_of_host; i < n; i++) {
            m[i] = UINT32_MAX;
        }
        w->nic_of_host = m;
        w->nnic_of_host = n;
    }
    w->nic_of_host[host_id] = ns;
}

int nic_init(struct sim_world *w)
{
    struct sim_cpu_params cp = {
        .hz = (uint64_t)w->cfg.nic_mips * 1000000,
        .nprios = 1,
        .ncats = NIC_NCATS,
    };
    if (sim_cpu_create(&cp, w->evq, &w->nic_cpu) != HO_OK) {
        return HO_EINVAL;
    }
    struct ho_sched_params sp = {
        .discipline = w->cfg.host_first ? HO_SCHED_HOST_FIRST : HO_SCHED_FCFS,
        .rx_capacity = w->cfg.rx_queue_packets,
        .host_tx_capacity = 1u << 20,
        .cmd_capacity = 1u << 20,
        .nic_tx_capacity = 1u << 20,
    };
    w->nic_q = ho_sched_create(&sp);
    if (!w->nic_q) {
        return HO_ENOMEM;
    }
    w->nic_timer_at = TCPE_NEVER;
    uint32_t hard = w->cfg.nic_conns;
    if (hard == 0) {
        return HO_OK;
    }
    struct ho_lookup_params lp = {.capacity = hard, .hash_seed = w->cfg.seed ^ 0x100c};
    w->lookup = ho_lookup_create(&lp);
    struct ho_lc_params lcp;
    ho_lc_params_default(&lcp, hard);
    lcp.hiwat = w->cfg.hiwat;
    lcp.lowat = w->cfg.lowat;
    lcp.step = w->cfg.lc_step;
    lcp.enabled = w->cfg.load_control;
    struct ho_ackagg_params ap;
    ho_ackagg_params_default(&ap);
    w->nic_slots = calloc(hard, sizeof *w->nic_slots);
    if (!w->lookup || ho_lc_init(&w->lc, &lcp) != HO_OK || !w->nic_slots ||
        ho_ackagg_create(&ap, &w->ackagg) != HO_OK) {
        return HO_ENOMEM;
    }
    for (uint32_t i = 0; i < hard; i++) {
        w->nic_slots[i].next_free = i + 1 < hard ? i + 1 : UINT32_MAX;
    }
    w->nic_free = 0;
    struct tcpe_params tp;
    tcpe_params_init(&tp);
    tp.ops.output = nic_output;
    tp.ops.event = nic_event;
    tp.ctx = w;
    tp.virtual_payload = true;
    tp.nodelay = true;
    tp.mss = (uint16_t)w->cfg.mss;
    /* The socket buffers live in host memory; the NIC's TCP only needs room for what the
     * driver lets be outstanding, which the host's send buffer bounds. */
    tp.sndbuf = 2 * w->cfg.sndbuf;
    tp.rcvbuf = w->cfg.rcvbuf;
    tp.delack = w->cfg.delack_ns;
    tp.seed = w->cfg.seed ^ 0x41c;
    tp.hash_buckets = hard;
    return tcpe_stack_create(&tp, &w->nic_stack);
}

void nic_fini(struct sim_world *w)
{
    sim_cpu_destroy(w->nic_cpu);
    ho_sched_destroy(w->nic_q);
    ho_lookup_destroy(w->lookup);
    ho_ackagg_destroy(w->ackagg);
    tcpe_stack_destroy(w->nic_stack);
    free(w->nic_slots);
    free(w->nic_of_host);
}
