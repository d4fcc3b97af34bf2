/*
 * nic_conn.c - the connections handed to the NIC: the driver's commands (HANDOFF, SEND, CLOSE,
 * RESTORE_REQUEST),
 * the NIC's own TCP stack and its connection slots, ACK aggregation, and the messages the
 * firmware sends the driver (HANDOFF_REPLY, RECV, ACKED, CLOSED, SOFT_LIMIT, RESTORE).
 *
 * Socket buffers stay in host memory (paper section 2): a SEND command says how many bytes the
 * driver appended, RECV how many the NIC placed in the host's receive buffer. A connection
 * reports what its peer acknowledged through ACK aggregation, which gathers the ACKs of many
 * connections into one ACKED message, due at the latest when its oldest entry has waited the
 * aggregation delay. Every message is numbered, encoded and queued on NIC_TX, where posting it
 * costs NIC instructions like any other work.
 */
#include <stdlib.h>
#include <string.h>

#include "handoff/assert.h"
#include "handoff/err.h"
#include "nic_priv.h"

/* ---- messages to the driver ------------------------------------------------------------- */

static void enqueue_segment(struct ho_nic *n, struct ho_pkt *p)
{
    int rc = ho_sched_enqueue(n->q, HO_SCHED_NIC_TX, (uint64_t)(uintptr_t)p, 0, n->now);
    HO_ASSERT(rc == HO_OK, "NIC transmit queue full");
}

/* Queues the segments held back so far, in the order the TCP sent them. */
static void release_held(struct ho_nic *n)
{
    for (uint32_t i = 0; i < n->nheld; i++) {
        enqueue_segment(n, n->held[i]);
    }
    n->nheld = 0;
}

void nic_tcp_input(struct ho_nic *n, const struct tcpe_seg *seg)
{
    n->holding = true;
    tcpe_stack_input(n->stack, seg, n->now);
    n->holding = false;
    release_held(n);
}

void nic_post(struct ho_nic *n, struct ho_cmd *cmd)
{
    /* Inside nic_tcp_input: a RECV overtakes the segments held back, anything else follows
     * them, as it would have without the holding. */
    if (cmd->type != HO_CMD_RECV) {
        release_held(n);
    }
    cmd->seq = n->seq_out++;
    int len = ho_cmd_size(cmd);
    HO_ASSERT(len > 0, "message of type %s cannot be encoded (%d)", ho_cmd_type_name(cmd->type),
              len);
    uint32_t h;
    uint8_t *buf = ho_bufpool_alloc(&n->msgs, (uint32_t)len, &h);
    HO_ASSERT(buf, "out of memory for messages");
    int rc = ho_cmd_encode(cmd, buf, (size_t)len);
    HO_ASSERT(rc == len, "encoding %s: %d", ho_cmd_type_name(cmd->type), rc);
    rc = ho_sched_enqueue(n->q, HO_SCHED_NIC_TX, h, NIC_AUX_MSG, n->now);
    HO_ASSERT(rc == HO_OK, "NIC transmit queue full");
    n->msgs_queued++;
    release_held(n);
    n->ops.ready(n->ctx, n->now);
}

static void ack_flush(struct ho_nic *n)
{
    while (ho_ackagg_count(n->ackagg) > 0) {
        struct ho_cmd cmd;
        int rc = ho_ackagg_flush(n->ackagg, 0, &cmd);
        HO_ASSERT(rc > 0, "ACK aggregation flush: %s", ho_strerror(rc));
        nic_post(n, &cmd);
    }
}

static void ack_arm(struct ho_nic *n)
{
    n->ack_armed = true;
    n->ops.timer(n->ctx, HO_NIC_TIMER_ACK, ho_ackagg_deadline(n->ackagg), n->now);
}

void nic_ack_timer(struct ho_nic *n)
{
    n->ack_armed = false;
    if (ho_ackagg_due(n->ackagg, n->now)) {
        ack_flush(n);
    }
    if (ho_ackagg_deadline(n->ackagg) != UINT64_MAX) {
        ack_arm(n);
    }
}

static void ack_add(struct ho_nic *n, uint32_t conn_id, uint32_t bytes)
{
    if (ho_ackagg_add(n->ackagg, conn_id, bytes, n->now) == HO_ENOSPC) {
        ack_flush(n);
        ho_ackagg_add(n->ackagg, conn_id, bytes, n->now);
    }
    if (ho_ackagg_due(n->ackagg, n->now)) {
        ack_flush(n);
    } else if (!n->ack_armed && ho_ackagg_deadline(n->ackagg) != UINT64_MAX) {
        ack_arm(n);
    }
}

/* ---- the NIC's TCP ---------------------------------------------------------------------- */

void nic_tcp_rearm(struct ho_nic *n)
{
    if (!n->stack) {
        return;
    }
    uint64_t next = tcpe_stack_next_wake(n->stack);
    if (next != n->tcp_wake) {
        n->tcp_wake = next;
        n->ops.timer(n->ctx, HO_NIC_TIMER_TCP, next, n->now);
    }
}

uint64_t nic_tcp_timers(struct ho_nic *n)
{
    n->tcp_wake = TCPE_NEVER; /* the platform's timer has fired */
    return tcpe_stack_timers(n->stack, n->now);
}

static int tcp_output(void *ctx, const struct tcpe_seg *seg)
{
    struct ho_nic *n = ctx;
    struct ho_pkt *p = n->ops.pkt_alloc(n->ctx, seg);
    HO_ASSERT(p, "out of memory for packets");
    p->t_nic = n->now;
    if (n->holding) {
        if (n->nheld == n->cap_held) {
            uint32_t cap = n->cap_held ? 2 * n->cap_held : 16;
            struct ho_pkt **h = realloc(n->held, (size_t)cap * sizeof *h);
            HO_ASSERT(h, "out of memory for held segments");
            n->held = h;
            n->cap_held = cap;
        }
        n->held[n->nheld++] = p;
        return HO_OK;
    }
    enqueue_segment(n, p);
    return HO_OK;
}

static void slot_of_host_set(struct ho_nic *n, uint32_t host_id, uint32_t slot)
{
    if (host_id >= n->nslot_of_host) {
        uint32_t size = n->nslot_of_host ? n->nslot_of_host : 1024;
        while (size <= host_id) {
            size *= 2;
        }
        uint32_t *m = realloc(n->slot_of_host, (size_t)size * sizeof *m);
        HO_ASSERT(m, "out of memory");
        for (uint32_t i = n->nslot_of_host; i < size; i++) {
            m[i] = UINT32_MAX;
        }
        n->slot_of_host = m;
        n->nslot_of_host = size;
    }
    n->slot_of_host[host_id] = slot;
}

/* The slot of the driver's connection host_id, or NULL if it is not on the NIC: it ended here
 * (reset by its peer, say) while the driver's command was on its way, and the CLOSED that tells
 * the driver is on its way back. Such a command is late, not wrong, and is dropped. */
static struct nic_slot *slot_of_host(struct ho_nic *n, uint32_t host_id)
{
    uint32_t ns = host_id < n->nslot_of_host ? n->slot_of_host[host_id] : UINT32_MAX;
    if (ns == UINT32_MAX) {
        n->late_cmds++;
        return NULL;
    }
    return &n->slots[ns];
}

/* A connection leaves the NIC: its entries go, the driver hears of it, load control counts. */
static void conn_gone(struct ho_nic *n, uint32_t ns, uint8_t how)
{
    struct nic_slot *s = &n->slots[ns];
    ack_flush(n);
    int rc = ho_lookup_remove(n->lookup, &s->tuple);
    HO_ASSERT(rc == (int)ns, "lookup entry of NIC connection %u missing (%d)", ns, rc);
    nic_advertise(n, ho_lc_conn_end(&n->lc, ho_sched_qlen(n->q), n->now));
    struct ho_cmd cmd = {.type = HO_CMD_CLOSED};
    cmd.closed.conn_id = s->host_id;
    cmd.closed.how = how;
    n->closed++;
    nic_post(n, &cmd);
    tcpe_release(s->conn, n->now);
    n->slot_of_host[s->host_id] = UINT32_MAX;
    memset(s, 0, sizeof *s);
    s->next_free = n->free_slot;
    n->free_slot = ns;
}

/* Moves what the connection has received into the host's socket buffer (a RECV message): on
 * real payload its bytes go to a host receive buffer first (ops.host_place). */
static void deliver(struct ho_nic *n, struct nic_slot *s)
{
    int got;
    uint64_t addr = 0;
    if (n->p.virtual_payload) {
        got = tcpe_recv(s->conn, NULL, UINT32_MAX >> 1, n->now);
    } else {
        got = tcpe_recv(s->conn, n->rx_bytes, n->p.rcvbuf, n->now);
        if (got > 0) {
            addr = n->ops.host_place(n->ctx, n->rx_bytes, (uint32_t)got);
        }
    }
    bool fin = tcpe_conn_eof(s->conn) && !s->fin_told;
    if (got > 0 || fin) {
        struct ho_cmd cmd = {.type = HO_CMD_RECV};
        cmd.recv.conn_id = s->host_id;
        cmd.recv.len = got > 0 ? (uint32_t)got : 0;
        cmd.recv.addr = addr;
        cmd.recv.flags = fin ? HO_CMD_RECV_FIN : 0;
        s->fin_told |= fin;
        nic_post(n, &cmd);
    }
}

static void tcp_event(void *ctx, struct tcpe_conn *c, unsigned ev)
{
    struct ho_nic *n = ctx;
    uint32_t ns = (uint32_t)(uintptr_t)tcpe_conn_user(c) - 1;
    struct nic_slot *s = &n->slots[ns];
    if (ev & (TCPE_EV_RESET | TCPE_EV_TIMEDOUT)) {
        bool reset = (ev & TCPE_EV_RESET) != 0;
        n->ops.fault(n->ctx, reset ? "NIC connection reset" : "NIC connection timed out");
        conn_gone(n, ns, reset ? HO_CMD_CLOSED_RESET : HO_CMD_CLOSED_TIMEOUT);
        return;
    }
    if (ev & TCPE_EV_ACKED) {
        uint64_t acked = s->sent - tcpe_conn_unacked(c);
        if (acked > s->acked) {
            ack_add(n, s->host_id, (uint32_t)(acked - s->acked));
            s->acked = acked;
        }
    }
    if (ev & TCPE_EV_READABLE) {
        deliver(n, s);
    }
    if (ev & TCPE_EV_CLOSED) {
        conn_gone(n, ns, HO_CMD_CLOSED_NORMAL);
    }
}

/* ---- commands from the driver ----------------------------------------------------------- */

bool nic_takes(const struct ho_nic *n, unsigned type)
{
    return type == HO_CMD_INIT ||
           (n->stack && (type == HO_CMD_HANDOFF || type == HO_CMD_SEND || type == HO_CMD_CLOSE ||
                         type == HO_CMD_RESTORE_REQUEST));
}

static bool same_tuple(const struct tcpe_tuple *a, const struct tcpe_tuple *b)
{
    return a->local_ip == b->local_ip && a->remote_ip == b->remote_ip &&
           a->local_port == b->local_port && a->remote_port == b->remote_port;
}

/* A received packet of the connection whose tuple (from our side) is ctx. */
static bool of_tuple(void *ctx, const struct ho_sched_item *it)
{
    const struct ho_pkt *p = (const struct ho_pkt *)(uintptr_t)it->handle;
    struct tcpe_tuple key = ho_lookup_key_from_rx(&p->seg);
    return same_tuple(&key, ctx);
}

/* Gives the connection of slot s back to the driver: what it received first (RECV), then its
 * state (RESTORE, for reason), and it leaves the NIC. */
static void restore_slot(struct ho_nic *n, struct nic_slot *s, uint8_t reason)
{
    uint32_t ns = (uint32_t)(s - n->slots);
    struct tcpe_tuple tuple = s->tuple;
    deliver(n, s); /* what it received reaches the host before its state */
    ack_flush(n);
    int len = tcpe_export(s->conn, n->now, NULL, 0);
    HO_ASSERT(len > 0 && len <= (int)HO_CMD_BLOB_MAX, "NIC connection %u cannot be exported (%d)",
              s->host_id, len);
    uint8_t *blob = malloc((size_t)len);
    HO_ASSERT(blob, "out of memory");
    HO_ASSERT(tcpe_export(s->conn, n->now, blob, (size_t)len) == len, "export");
    struct ho_cmd cmd = {.type = HO_CMD_RESTORE};
    cmd.restore.conn_id = s->host_id;
    cmd.restore.reason = reason;
    cmd.restore.sockbuf.snd_unacked = tcpe_conn_unacked(s->conn);
    cmd.restore.state.len = (uint32_t)len;
    cmd.restore.state.data = blob;
    nic_post(n, &cmd);
    free(blob);
    n->restored++;
    int rc = ho_lookup_remove(n->lookup, &s->tuple);
    HO_ASSERT(rc == (int)ns, "lookup entry of NIC connection %u missing (%d)", ns, rc);
    tcpe_detach(s->conn);
    n->slot_of_host[s->host_id] = UINT32_MAX;
    memset(s, 0, sizeof *s);
    s->next_free = n->free_slot;
    n->free_slot = ns;
    /* Its packets waiting on the receive queue are host packets now: they leave Qlen, and reach
     * the host as a host packet would (ahead of NIC work, under host-first). */
    (void)ho_sched_move(n->q, HO_SCHED_NIC_RX, HO_SCHED_HOST_RX, of_tuple, &tuple);
    /* Load control hears of the end last: a lower Soft limit it advertises may give more
     * connections back (nic_shed), and this one must be gone from the slots by then. */
    nic_advertise(n, ho_lc_conn_end(&n->lc, ho_sched_qlen(n->q), n->now));
}

static void take_restore_request(struct ho_nic *n, const struct ho_cmd_restore_request *r)
{
    struct nic_slot *s = slot_of_host(n, r->conn_id);
    if (!s) {
        return; /* it ended on the NIC meanwhile: the driver will take its CLOSED */
    }
    if (!TCPE_CAN_EXPORT(tcpe_conn_state(s->conn))) {
        n->late_cmds++; /* closed on both sides, in TIME_WAIT: its CLOSED will follow */
        return;
    }
    restore_slot(n, s, HO_CMD_RESTORE_REQUESTED);
}

uint32_t nic_upload_all(struct ho_nic *n)
{
    uint32_t moved = 0;
    for (uint32_t i = 0; n->slots && i < n->p.hard_limit; i++) {
        struct nic_slot *s = &n->slots[i];
        if (s->conn && TCPE_CAN_EXPORT(tcpe_conn_state(s->conn))) {
            restore_slot(n, s, HO_CMD_RESTORE_ERROR);
            moved++;
        }
    }
    return moved;
}

/* ---- active restoration (nic.h, enum ho_nic_restore) ------------------------------------- */

/* The slot's rate brought up to now: halved once per half life gone by. */
static void rate_decay(struct nic_slot *s, uint64_t now)
{
    uint64_t halves = (now - s->rate_at) / HO_NIC_RATE_HALF_LIFE_NS;
    s->rate = halves >= 32 ? 0 : s->rate >> halves;
    s->rate_at += halves * HO_NIC_RATE_HALF_LIFE_NS;
}

void nic_slot_rx(struct ho_nic *n, uint32_t ns)
{
    struct nic_slot *s = &n->slots[ns];
    s->last_active = n->now;
    if (n->p.restore == HO_NIC_RESTORE_RATE) {
        rate_decay(s, n->now);
        s->rate = s->rate > UINT32_MAX - 1024 ? UINT32_MAX : s->rate + 1024;
    }
}

static void count_queued(void *ctx, const struct ho_sched_item *it)
{
    struct ho_nic *n = ctx;
    const struct ho_pkt *p = (const struct ho_pkt *)(uintptr_t)it->handle;
    struct tcpe_tuple key = ho_lookup_key_from_rx(&p->seg);
    int ns = ho_lookup_find(n->lookup, &key);
    if (ns >= 0) {
        n->queued_of[ns]++;
    }
}

/* The connection the rule gives back first, or NULL if none can go. Ties go to the lowest
 * slot, so that a run is deterministic. */
static struct nic_slot *pick_victim(struct ho_nic *n)
{
    struct nic_slot *best = NULL;
    uint64_t best_key = 0;
    for (uint32_t i = 0; i < n->p.hard_limit; i++) {
        struct nic_slot *s = &n->slots[i];
        if (!s->conn || !TCPE_CAN_EXPORT(tcpe_conn_state(s->conn))) {
            continue;
        }
        uint64_t key; /* the larger goes first */
        switch (n->p.restore) {
        case HO_NIC_RESTORE_QUEUED:
            key = n->queued_of[i];
            break;
        case HO_NIC_RESTORE_RATE:
            rate_decay(s, n->now);
            key = s->rate;
            break;
        default: /* HO_NIC_RESTORE_IDLE: the longest idle */
            key = n->now - s->last_active;
            break;
        }
        if (!best || key > best_key) {
            best = s;
            best_key = key;
        }
    }
    return best;
}

void nic_shed(struct ho_nic *n)
{
    if (n->p.restore == HO_NIC_RESTORE_NONE || n->shedding || !n->stack || n->awaiting_init) {
        return;
    }
    n->shedding = true; /* the ends below move load control, and advertise, but shed no more */
    if (n->p.restore == HO_NIC_RESTORE_QUEUED) {
        memset(n->queued_of, 0, n->p.hard_limit * sizeof *n->queued_of);
        ho_sched_each(n->q, HO_SCHED_NIC_RX, count_queued, n);
    }
    uint32_t moved = 0;
    while (ho_lc_cnum(&n->lc) >= ho_lc_soft_limit(&n->lc)) {
        struct nic_slot *s = pick_victim(n);
        if (!s) {
            break;
        }
        if (n->p.restore == HO_NIC_RESTORE_QUEUED) {
            n->queued_of[s - n->slots] = 0;
        }
        restore_slot(n, s, HO_CMD_RESTORE_OVERLOAD);
        moved++;
    }
    /* Each export costs what a RESTORE_REQUEST's does, owed like a timer's work. */
    const struct ho_nic_costs *k = &n->p.costs;
    n->timer_debt += (uint64_t)moved * k->handoff * k->scale_pct / 100;
    n->shed += moved;
    n->shedding = false;
    nic_tcp_rearm(n);
}

static void take_handoff(struct ho_nic *n, const struct ho_cmd *cmd)
{
    const struct ho_cmd_handoff *h = &cmd->handoff;
    struct ho_cmd reply = {.type = HO_CMD_HANDOFF_REPLY};
    reply.handoff_reply.conn_id = h->conn_id;
    reply.handoff_reply.req_seq = cmd->seq;
    int adm = n->refusing ? -1 : ho_lc_admit(&n->lc, ho_sched_qlen(n->q), n->now);
    nic_advertise(n, adm);
    struct nic_slot *s = NULL;
    if (n->refusing) {
        reply.handoff_reply.status = HO_CMD_REFUSED_NOMEM;
    } else if (adm < 0) {
        reply.handoff_reply.status = HO_CMD_REFUSED_SOFT_LIMIT;
    } else {
        uint32_t ns = n->free_slot;
        struct tcpe_conn *c = NULL;
        HO_ASSERT(ns != UINT32_MAX, "NIC connection memory exhausted below Hard limit");
        /* A connection id the NIC holds already, or a state that is not the tuple's, is a bad
         * state (cmd.h). */
        bool known = h->conn_id < n->nslot_of_host && n->slot_of_host[h->conn_id] != UINT32_MAX;
        int rc = known ? HO_EEXIST : tcpe_import(n->stack, h->state.data, h->state.len, n->now, &c);
        if (rc != HO_OK || !same_tuple(tcpe_conn_tuple(c), &h->tuple) ||
            ho_lookup_insert(n->lookup, &h->tuple, ns) != HO_OK) {
            if (c) {
                tcpe_detach(c);
            }
            nic_advertise(n, ho_lc_conn_end(&n->lc, ho_sched_qlen(n->q), n->now));
            reply.handoff_reply.status = HO_CMD_REFUSED_BAD_STATE;
        } else {
            s = &n->slots[ns];
            n->free_slot = s->next_free;
            memset(s, 0, sizeof *s);
            s->conn = c;
            s->host_id = h->conn_id;
            s->tuple = h->tuple;
            s->sent = tcpe_conn_unacked(c);
            s->last_active = s->rate_at = n->now;
            tcpe_conn_set_user(c, (void *)(uintptr_t)(ns + 1));
            slot_of_host_set(n, h->conn_id, ns);
            reply.handoff_reply.status = HO_CMD_ACCEPTED;
        }
    }
    reply.handoff_reply.soft_limit = ho_lc_soft_limit(&n->lc);
    n->accepted += s != NULL;
    nic_post(n, &reply);
    if (s) {
        /* Data the host had received but the application had not read came with the state. */
        deliver(n, s);
    }
}

void nic_take_command(struct ho_nic *n, uint32_t handle)
{
    const struct ho_cmd *cmd = ho_bufpool_rec(&n->msgs, handle); /* decoded on arrival */
    if (n->awaiting_init) {
        /* After a reset: everything but the INIT of this boot was meant for an earlier one. */
        if (cmd->type == HO_CMD_INIT && cmd->init.boot == n->boot) {
            n->awaiting_init = false;
            n->seq_in = cmd->seq + 1;
        } else {
            n->stale_cmds++;
        }
        ho_bufpool_free(&n->msgs, handle);
        return;
    }
    HO_ASSERT(ho_cmd_seq_gap(n->seq_in, cmd->seq) == 0, "command %u arrived where %u was expected",
              cmd->seq, n->seq_in);
    n->seq_in++;
    struct nic_slot *s;
    int rc;
    switch (cmd->type) {
    case HO_CMD_HANDOFF:
        take_handoff(n, cmd);
        break;
    case HO_CMD_SEND:
        s = slot_of_host(n, cmd->send.conn_id);
        if (!s) {
            break;
        }
        rc = tcpe_send(
            s->conn,
            n->p.virtual_payload ? NULL : n->ops.host_read(n->ctx, cmd->send.addr, cmd->send.len),
            cmd->send.len, n->now);
        HO_ASSERT(rc == (int)cmd->send.len, "NIC send buffer refused %u bytes (%d)", cmd->send.len,
                  rc);
        s->sent += cmd->send.len;
        s->last_active = n->now;
        break;
    case HO_CMD_CLOSE:
        s = slot_of_host(n, cmd->close.conn_id);
        if (s) {
            tcpe_shutdown(s->conn, n->now);
        }
        break;
    case HO_CMD_RESTORE_REQUEST:
        take_restore_request(n, &cmd->restore_request);
        break;
    case HO_CMD_INIT:
        /* An INIT with no reset before it: the driver's bug, or a second INIT for one boot. */
        HO_ASSERT(0, "INIT for boot %u, but boot %u started no reset", cmd->init.boot, n->boot);
        break;
    default:
        HO_ASSERT(0, "%s was queued, but the NIC does not take it", ho_cmd_type_name(cmd->type));
    }
    ho_bufpool_free(&n->msgs, handle);
    nic_tcp_rearm(n);
}

/* ---- life ------------------------------------------------------------------------------- */

int nic_conn_init(struct ho_nic *n)
{
    n->tcp_wake = TCPE_NEVER;
    n->free_slot = UINT32_MAX;
    uint32_t hard = n->p.hard_limit;
    if (hard == 0) {
        return HO_OK;
    }
    struct ho_lookup_params lp = {.capacity = hard, .hash_seed = n->p.seed ^ 0x100c};
    n->lookup = ho_lookup_create(&lp);
    struct ho_lc_params lcp;
    ho_lc_params_default(&lcp, hard);
    lcp.hiwat = n->p.hiwat;
    lcp.lowat = n->p.lowat;
    lcp.step = n->p.lc_step;
    lcp.kind = (enum ho_lc_kind)n->p.load_control;
    lcp.target_pkts = (uint32_t)((uint64_t)n->p.rx_queue * n->p.lc_target_pct / 100);
    lcp.cut_pct = n->p.lc_cut_pct;
    lcp.raise_pct = n->p.lc_raise_pct;
    if (ho_lc_init(&n->lc, &lcp) != HO_OK) {
        return HO_EINVAL;
    }
    struct ho_ackagg_params ap;
    ho_ackagg_params_default(&ap);
    n->slots = calloc(hard, sizeof *n->slots);
    n->queued_of = calloc(hard, sizeof *n->queued_of);
    if (!n->p.virtual_payload) {
        n->rx_bytes = malloc(n->p.rcvbuf);
    }
    if (!n->lookup || !n->slots || !n->queued_of || (!n->p.virtual_payload && !n->rx_bytes) ||
        ho_ackagg_create(&ap, &n->ackagg) != HO_OK) {
        return HO_ENOMEM;
    }
    for (uint32_t i = 0; i < hard; i++) {
        n->slots[i].next_free = i + 1 < hard ? i + 1 : UINT32_MAX;
    }
    n->free_slot = 0;
    n->advertised = hard; /* load control starts with the Soft limit at the Hard limit */
    struct tcpe_params tp;
    tcpe_params_init(&tp);
    tp.ops.output = tcp_output;
    tp.ops.event = tcp_event;
    tp.ctx = n;
    tp.virtual_payload = n->p.virtual_payload;
    tp.nodelay = true;
    tp.mss = (uint16_t)n->p.mss;
    tp.sndbuf = n->p.sndbuf;
    tp.rcvbuf = n->p.rcvbuf;
    tp.delack = n->p.delack_ns;
    tp.delack_one_segment = n->p.delack_one_segment;
    if (n->p.rto_init_ns) {
        tp.rto_init = n->p.rto_init_ns;
    }
    tp.seed = n->p.seed ^ 0x41c;
    tp.hash_buckets = hard;
    return tcpe_stack_create(&tp, &n->stack);
}

void nic_conn_fini(struct ho_nic *n)
{
    free(n->held);
    n->held = NULL;
    n->nheld = n->cap_held = 0;
    ho_lookup_destroy(n->lookup);
    free(n->rx_bytes);
    ho_ackagg_destroy(n->ackagg);
    tcpe_stack_destroy(n->stack);
    free(n->slots);
    free(n->queued_of);
    free(n->slot_of_host);
}
