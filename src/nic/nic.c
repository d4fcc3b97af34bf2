/*
 * nic.c - the NIC firmware's loop: the work queues and their scheduler, the lookup layer that
 * classifies received frames, load control's evaluation on packet arrival and on each NIC
 * packet taken off the receive queue (with its wait), and host packets (see
 * include/handoff/nic.h for the contract with the platform).
 *
 * The firmware runs one piece of work at a time, to completion. ho_nic_begin takes the next item
 * under the discipline (FCFS or host first) and prices it from the cost table; ho_nic_end then
 * acts on it. The segments and messages that work produces go on NIC_TX, which the scheduler
 * always serves first, so they are paid for and sent before anything else is taken, as
 * tcp_output runs inside the tcp_input that triggered it. Timer expiries of the NIC's TCP act at
 * their deadline; their instructions are owed and paid just before the next piece of work.
 */
#include <stdlib.h>
#include <string.h>

#include "handoff/assert.h"
#include "handoff/err.h"
#include "nic_priv.h"

static bool item_is_msg(const struct ho_sched_item *it)
{
    return it->queue == HO_SCHED_CMD || (it->queue == HO_SCHED_NIC_TX && (it->aux & NIC_AUX_MSG));
}

void nic_advertise(struct ho_nic *n, int changed)
{
    if (changed != 1) {
        return;
    }
    struct ho_cmd cmd;
    ho_lc_advert(&n->lc, 0, &cmd);
    nic_post(n, &cmd);
    bool lowered = cmd.soft_limit.soft_limit < n->advertised;
    n->advertised = cmd.soft_limit.soft_limit;
    if (lowered) {
        nic_shed(n); /* active restoration, if on */
    }
}

const char *ho_nic_restore_name(enum ho_nic_restore r)
{
    static const char *const names[HO_NIC_NRESTORES] = {
        [HO_NIC_RESTORE_NONE] = "none",
        [HO_NIC_RESTORE_QUEUED] = "queued",
        [HO_NIC_RESTORE_RATE] = "rate",
        [HO_NIC_RESTORE_IDLE] = "idle",
    };
    return (unsigned)r < HO_NIC_NRESTORES ? names[r] : "?";
}

int ho_nic_restore_parse(const char *text, enum ho_nic_restore *out)
{
    for (unsigned r = 0; text && r < HO_NIC_NRESTORES; r++) {
        if (!strcmp(text, ho_nic_restore_name((enum ho_nic_restore)r))) {
            *out = (enum ho_nic_restore)r;
            return HO_OK;
        }
    }
    return HO_EINVAL;
}

int nic_enqueue(struct ho_nic *n, enum ho_sched_queue q, struct ho_pkt *p, uint32_t aux)
{
    p->t_nic = n->now;
    if (ho_sched_enqueue(n->q, q, (uint64_t)(uintptr_t)p, aux, n->now) != HO_OK) {
        n->ops.pkt_free(n->ctx, p); /* counted by the scheduler as a drop on q */
        return HO_ENOSPC;
    }
    n->ops.ready(n->ctx, n->now);
    return HO_OK;
}

/* ---- entry points ----------------------------------------------------------------------- */

void ho_nic_wire_rx(struct ho_nic *n, struct ho_pkt *p, uint64_t now)
{
    n->now = now;
    if (!n->lookup) {
        (void)nic_enqueue(n, HO_SCHED_HOST_RX, p, 0);
        return;
    }
    struct tcpe_tuple key = ho_lookup_key_from_rx(&p->seg);
    int hit = ho_lookup_find(n->lookup, &key);
    uint32_t probes = ho_lookup_last_probes(n->lookup);
    if (hit >= 0) {
        nic_slot_rx(n, (uint32_t)hit);
    }
    (void)nic_enqueue(n, hit >= 0 ? HO_SCHED_NIC_RX : HO_SCHED_HOST_RX, p, probes);
    nic_advertise(n, ho_lc_packet(&n->lc, ho_sched_qlen(n->q), now));
}

int ho_nic_host_tx(struct ho_nic *n, struct ho_pkt *p, uint64_t now)
{
    n->now = now;
    if (n->awaiting_init && !n->init_arrived) {
        /* Posted on the ring of the boot before: the driver sets the ring up again, with its
         * INIT, and counts what it had posted as lost. */
        n->stale_host_tx++;
        n->ops.pkt_free(n->ctx, p);
        return HO_OK;
    }
    return nic_enqueue(n, HO_SCHED_HOST_TX, p, 0);
}

void ho_nic_forward(struct ho_nic *n, struct ho_pkt *p, uint64_t now)
{
    n->now = now;
    (void)nic_enqueue(n, HO_SCHED_NIC_RX, p, NIC_AUX_FORWARDED);
}

/* Whether the lookup table holds the connection of a received segment. */
static bool nic_holds(struct ho_nic *n, const struct tcpe_seg *seg)
{
    struct tcpe_tuple key = ho_lookup_key_from_rx(seg);
    return n->lookup && ho_lookup_find(n->lookup, &key) >= 0;
}

int ho_nic_cmd(struct ho_nic *n, const uint8_t *msg, uint32_t len, uint64_t now)
{
    n->now = now;
    /* Decoded once, on arrival, from the firmware's own copy (a HANDOFF's state stays in it), so
     * that what is queued can be carried out: a command that does not decode, or that this
     * firmware does not take, is refused here. */
    int h = ho_bufpool_put(&n->msgs, msg, len);
    struct ho_cmd *cmd = h >= 0 ? ho_bufpool_rec(&n->msgs, (uint32_t)h) : NULL;
    HO_ASSERT(cmd, "out of memory for commands");
    uint32_t got;
    const uint8_t *copy = ho_bufpool_get(&n->msgs, (uint32_t)h, &got);
    if (ho_cmd_decode(copy, got, cmd) != HO_OK || !nic_takes(n, cmd->type)) {
        ho_bufpool_free(&n->msgs, (uint32_t)h);
        return HO_EPROTO;
    }
    if (n->awaiting_init && cmd->type == HO_CMD_INIT && cmd->init.boot == n->boot) {
        n->init_arrived = true; /* host packets posted from now on are the new ring's */
    }
    int rc = ho_sched_enqueue(n->q, HO_SCHED_CMD, (uint64_t)h, cmd->type, now);
    HO_ASSERT(rc == HO_OK, "NIC command queue full");
    n->msgs_queued++;
    n->ops.ready(n->ctx, now);
    return HO_OK;
}

void ho_nic_timer(struct ho_nic *n, enum ho_nic_timer which, uint64_t now)
{
    n->now = now;
    if (which == HO_NIC_TIMER_ACK) {
        nic_ack_timer(n);
        return;
    }
    /* The expiries act now; their instructions are paid just before the next piece of work.
     * The segments they send are such work, and wake an idle firmware like any other: else a
     * retransmission or delayed ACK would wait for the next packet to arrive. */
    const struct ho_nic_costs *k = &n->p.costs;
    n->timer_debt += nic_tcp_timers(n) * k->timer * k->scale_pct / 100;
    nic_tcp_rearm(n);
    n->ops.ready(n->ctx, now);
}

/* ---- the loop --------------------------------------------------------------------------- */

static uint64_t work_cost(const struct ho_nic *n, const struct ho_sched_item *it)
{
    const struct ho_nic_costs *k = &n->p.costs;
    uint64_t probes = (uint64_t)(it->aux & 0xffff) * k->lookup_probe;
    uint64_t own; /* the NIC's own TCP and messaging, which scale_pct scales */
    switch (it->queue) {
    case HO_SCHED_HOST_RX:
        return k->host_rx + probes;
    case HO_SCHED_HOST_TX:
        return k->host_tx;
    case HO_SCHED_NIC_RX:
        return k->tcp_rx * (uint64_t)k->scale_pct / 100 + probes;
    case HO_SCHED_NIC_TX:
        own = it->aux & NIC_AUX_MSG ? k->msg : k->tcp_tx;
        break;
    case HO_SCHED_CMD:
        /* Exporting a connection back (RESTORE_REQUEST) costs what importing one does. */
        own = k->cmd +
              (it->aux == HO_CMD_HANDOFF || it->aux == HO_CMD_RESTORE_REQUEST ? k->handoff : 0);
        break;
    default:
        return 0;
    }
    return own * k->scale_pct / 100;
}

static uint8_t work_cat(const struct ho_sched_item *it)
{
    if (item_is_msg(it)) {
        return HO_NIC_CAT_MSG;
    }
    return HO_SCHED_QUEUE_IS_HOST(it->queue) ? HO_NIC_CAT_HOST : HO_NIC_CAT_TCP;
}

bool ho_nic_begin(struct ho_nic *n, uint64_t now, struct ho_nic_work *w)
{
    n->now = now;
    if (ho_sched_dequeue(n->q, now, &w->item) != HO_OK) {
        return false;
    }
    bool msg = item_is_msg(&w->item);
    n->msgs_queued -= msg;
    w->pkt = msg ? NULL : (struct ho_pkt *)(uintptr_t)w->item.handle;
    w->cost = work_cost(n, &w->item);
    w->cat = work_cat(&w->item);
    w->timer_cost = n->timer_debt;
    w->boot = n->boot;
    n->timer_debt = 0;
    n->working = true;
    n->working_pkt = w->pkt;
    n->work_began = now;
    return true;
}

void ho_nic_end(struct ho_nic *n, const struct ho_nic_work *w, uint64_t now)
{
    n->now = now;
    n->working = false;
    n->working_pkt = NULL;
    struct ho_pkt *p = w->pkt;
    if (w->boot != n->boot) {
        /* Begun before a reset: the work is void, and the memory it held freed. */
        if (p) {
            n->ops.pkt_free(n->ctx, p);
        } else {
            ho_bufpool_free(&n->msgs, (uint32_t)w->item.handle);
        }
        return;
    }
    if (w->item.queue == HO_SCHED_NIC_RX && n->lookup) {
        /* Load control's delay signal: how long this NIC packet waited on the receive queue
         * before ho_nic_begin took it. Told here, not there: an advertisement posts a message,
         * and the platform may begin the next piece of work at once. */
        uint64_t wait = n->work_began > w->item.enq_ns ? n->work_began - w->item.enq_ns : 0;
        nic_advertise(n, ho_lc_dequeue(&n->lc, ho_sched_qlen(n->q), wait, now));
    }
    switch (w->item.queue) {
    case HO_SCHED_HOST_RX:
        n->ops.host_rx(n->ctx, p, now);
        break;
    case HO_SCHED_HOST_TX:
        n->ops.wire_tx(n->ctx, p, now);
        n->ops.host_tx_done(n->ctx, now);
        break;
    case HO_SCHED_NIC_RX:
        if (!nic_holds(n, &p->seg)) {
            /* Its connection left the NIC after the lookup classified the packet: restored, ended
             * (a client reusing the ports of one in TIME_WAIT resets it, and its SYN queued
             * behind must reach the host's listener, not the NIC's TCP), or lost in a reset, or
             * the driver handed it back thinking it on the NIC. */
            n->ops.host_rx(n->ctx, p, now);
            break;
        }
        nic_tcp_input(n, &p->seg);
        n->ops.pkt_free(n->ctx, p);
        nic_tcp_rearm(n);
        break;
    case HO_SCHED_NIC_TX:
        if (p) {
            n->ops.wire_tx(n->ctx, p, now);
        } else {
            uint32_t len;
            const uint8_t *msg = ho_bufpool_get(&n->msgs, (uint32_t)w->item.handle, &len);
            n->ops.host_msg(n->ctx, msg, len, now);
            ho_bufpool_free(&n->msgs, (uint32_t)w->item.handle);
        }
        break;
    case HO_SCHED_CMD:
        nic_take_command(n, (uint32_t)w->item.handle);
        break;
    default:
        HO_ASSERT(0, "NIC work on queue %u", w->item.queue);
    }
}

/* ---- life and inspection ---------------------------------------------------------------- */

int ho_nic_create(const struct ho_nic_params *p, const struct ho_nic_ops *ops, void *ctx,
                  struct ho_nic **out)
{
    if (!p || !ops || !out || p->costs.scale_pct == 0 || p->rx_queue == 0 ||
        (!p->virtual_payload && (!ops->host_read || !ops->host_place)) ||
        p->rx_queue > HO_SCHED_MAX_CAPACITY || p->tx_ring == 0 ||
        p->tx_ring > HO_SCHED_MAX_CAPACITY || p->hard_limit > HO_LOOKUP_MAX_CAPACITY ||
        p->restore >= HO_NIC_NRESTORES) {
        return HO_EINVAL;
    }
    struct ho_nic *n = calloc(1, sizeof *n);
    if (!n) {
        return HO_ENOMEM;
    }
    n->p = *p;
    n->ops = *ops;
    n->ctx = ctx;
    n->boot = 1;
    ho_bufpool_init(&n->msgs, sizeof(struct ho_cmd));
    /* The receive memory and the send ring are bounded; the command ring and the TCP's output
     * are bounded only by what feeds them (the driver's send buffers, the connections' windows). */
    struct ho_sched_params sp = {
        .discipline = p->host_first ? HO_SCHED_HOST_FIRST : HO_SCHED_FCFS,
        .rx_capacity = p->rx_queue,
        .host_tx_capacity = p->tx_ring,
        .cmd_capacity = 1u << 20,
        .nic_tx_capacity = 1u << 20,
    };
    n->q = ho_sched_create(&sp);
    int rc = n->q ? nic_conn_init(n) : HO_ENOMEM;
    if (rc != HO_OK) {
        ho_nic_destroy(n);
        return rc;
    }
    *out = n;
    return HO_OK;
}

void ho_nic_destroy(struct ho_nic *n)
{
    if (!n) {
        return;
    }
    struct ho_sched_item it;
    while (n->q && ho_sched_dequeue(n->q, n->now, &it) == HO_OK) {
        if (!item_is_msg(&it)) {
            n->ops.pkt_free(n->ctx, (struct ho_pkt *)(uintptr_t)it.handle);
        }
    }
    if (n->working_pkt) {
        n->ops.pkt_free(n->ctx, n->working_pkt);
    }
    nic_conn_fini(n);
    ho_sched_destroy(n->q);
    ho_bufpool_fini(&n->msgs);
    free(n);
}

void ho_nic_info(const struct ho_nic *n, struct ho_nic_info *info)
{
    memset(info, 0, sizeof *info);
    info->queued = ho_sched_total_len(n->q);
    info->queued_pkts = info->queued - n->msgs_queued;
    info->qlen = ho_sched_qlen(n->q);
    for (int q = 0; q < HO_SCHED_NQUEUES; q++) {
        ho_sched_get_counters(n->q, (enum ho_sched_queue)q, &info->queue[q]);
    }
    info->rx_drops = info->queue[HO_SCHED_HOST_RX].dropped + info->queue[HO_SCHED_NIC_RX].dropped;
    info->tx_ring_drops = info->queue[HO_SCHED_HOST_TX].dropped;
    if (n->lookup) {
        info->soft_limit = ho_lc_soft_limit(&n->lc);
        info->cnum = ho_lc_cnum(&n->lc);
        info->conns = ho_lookup_count(n->lookup);
    }
    if (n->stack)
        info->tcp = tcpe_stack_stats(n->stack);
    info->accepted = n->accepted;
    info->closed = n->closed;
    info->restored = n->restored;
    info->late_cmds = n->late_cmds;
    info->boot = n->boot;
    info->awaiting_init = n->awaiting_init;
    info->refusing = n->refusing;
    info->stale_cmds = n->stale_cmds;
    info->lost_conns = n->lost_conns;
    info->stale_host_tx = n->stale_host_tx;
    info->uploaded = n->uploaded;
    info->shed = n->shed;
    info->accepted_at_reset = n->accepted_at_reset;
    info->closed_at_reset = n->closed_at_reset;
    info->restored_at_reset = n->restored_at_reset;
}

int ho_nic_peek(const struct ho_nic *n, struct ho_sched_item *out)
{
    return ho_sched_peek(n->q, out);
}

void ho_nic_reset(struct ho_nic *n, uint64_t now)
{
    n->now = now;
    struct ho_sched_item it;
    while (ho_sched_dequeue(n->q, now, &it) == HO_OK) {
        if (item_is_msg(&it)) {
            ho_bufpool_free(&n->msgs, (uint32_t)it.handle);
        } else {
            n->ops.pkt_free(n->ctx, (struct ho_pkt *)(uintptr_t)it.handle);
        }
    }
    n->msgs_queued = 0;
    n->timer_debt = 0;
    n->boot++; /* voids a piece of work under way (ho_nic_end) */
    n->accepted_at_reset = n->accepted;
    n->closed_at_reset = n->closed;
    n->restored_at_reset = n->restored;
    if (n->lookup) {
        n->lost_conns += ho_lookup_count(n->lookup);
    }
    nic_conn_fini(n);
    n->lookup = NULL;
    n->ackagg = NULL;
    n->ack_armed = false;
    n->stack = NULL;
    n->slots = NULL;
    n->slot_of_host = NULL;
    n->nslot_of_host = 0;
    n->rx_bytes = NULL;
    n->lc = (struct ho_lc){0};
    int rc = nic_conn_init(n);
    HO_ASSERT(rc == HO_OK, "the firmware cannot start again: %s", ho_strerror(rc));
    n->ops.timer(n->ctx, HO_NIC_TIMER_TCP, HO_NIC_NEVER, now);
    n->ops.timer(n->ctx, HO_NIC_TIMER_ACK, HO_NIC_NEVER, now);
    n->awaiting_init = true;
    n->init_arrived = false;
    n->seq_out = 0;
    struct ho_cmd up = {.type = HO_CMD_FW_UP};
    up.fw_up.boot = n->boot;
    up.fw_up.hard_limit = n->p.hard_limit;
    up.fw_up.soft_limit = n->lookup ? ho_lc_soft_limit(&n->lc) : 0;
    n->advertised = up.fw_up.soft_limit;
    nic_post(n, &up);
}

uint32_t ho_nic_upload(struct ho_nic *n, uint64_t now)
{
    n->now = now;
    if (!n->stack || n->awaiting_init) {
        return 0;
    }
    uint32_t moved = nic_upload_all(n);
    /* Each export costs what a RESTORE_REQUEST's does, owed like a timer's work. */
    const struct ho_nic_costs *k = &n->p.costs;
    n->timer_debt += (uint64_t)moved * k->handoff * k->scale_pct / 100;
    n->uploaded += moved;
    nic_tcp_rearm(n);
    return moved;
}

void ho_nic_refuse(struct ho_nic *n, bool refuse, uint64_t now)
{
    n->now = now;
    n->refusing = refuse;
}

void ho_nic_reset_counters(struct ho_nic *n)
{
    ho_sched_reset_counters(n->q);
}
