/*
 * nic.c - the NIC: its firmware's work queues and scheduler (src/policy/sched.c) and its
 * processor.
 *
 * Frames from the wire wait in the receive memory (HOST_RX; NIC_RX for handed-off
 * connections), frames from the host in HOST_TX. The firmware runs one piece of work at a time:
 * when its processor is idle it takes the next item under the configured discipline (FCFS or
 * host first), runs it for its cost in instructions, and only then acts on it: a received host
 * packet is DMA'd to the host, a host packet goes onto the wire. The time from a packet's
 * arrival at the NIC to the end of its processing is the "packet delay" of the paper's Table 1.
 */
#include "handoff/assert.h"
#include "handoff/err.h"
#include "world_priv.h"

static void nic_kick(struct sim_world *w, uint64_t now);

static void nic_done(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_world *w = ctx;
    uint32_t queue = (uint32_t)(arg >> 32);
    struct sim_pkt *p = pkt_at(w, (uint32_t)arg);
    w->nic_busy = false;
    switch (queue) {
    case HO_SCHED_HOST_RX:
        world_delay_sample(w, true, now - p->t_nic);
        host_rx(w, p, now);
        break;
    case HO_SCHED_HOST_TX:
        world_delay_sample(w, false, now - p->t_nic);
        wire_send(w, DIR_TO_CLIENT, p, now);
        break;
    default:
        HO_ASSERT(0, "NIC work on queue %u is not modelled", queue);
    }
    nic_kick(w, now);
}

static uint64_t nic_cost(const struct sim_world *w, enum ho_sched_queue q)
{
    switch (q) {
    case HO_SCHED_HOST_RX:
        return w->costs.nic_host_rx;
    case HO_SCHED_HOST_TX:
        return w->costs.nic_host_tx;
    default:
        return 0;
    }
}

/* If the processor is idle, starts the next piece of work. */
static void nic_kick(struct sim_world *w, uint64_t now)
{
    struct ho_sched_item it;
    if (w->nic_busy || ho_sched_dequeue(w->nic_q, now, &it) != HO_OK) {
        return;
    }
    w->nic_busy = true;
    struct sim_cpu_task t = {
        .cycles = nic_cost(w, it.queue),
        .done = nic_done,
        .ctx = w,
        .arg = ((uint64_t)it.queue << 32) | it.handle,
    };
    int rc = sim_cpu_submit(w->nic_cpu, now, &t);
    HO_ASSERT(rc == HO_OK, "NIC task refused: %s", ho_strerror(rc));
}

static void nic_enqueue(struct sim_world *w, enum ho_sched_queue q, struct sim_pkt *p, uint64_t now)
{
    p->t_nic = now;
    if (ho_sched_enqueue(w->nic_q, q, p->index, 0, now) != HO_OK) {
        pkt_free(w, p); /* counted by the scheduler as a drop on q */
        return;
    }
    nic_kick(w, now);
}

void nic_rx_arrive(struct sim_world *w, struct sim_pkt *p, uint64_t now)
{
    nic_enqueue(w, HO_SCHED_HOST_RX, p, now);
}

void nic_host_tx(struct sim_world *w, struct sim_pkt *p, uint64_t now)
{
    nic_enqueue(w, HO_SCHED_HOST_TX, p, now);
}

int nic_init(struct sim_world *w)
{
    struct sim_cpu_params cp = {
        .hz = (uint64_t)w->cfg.nic_mips * 1000000,
        .nprios = 1,
        .ncats = 1,
    };
    if (sim_cpu_create(&cp, w->evq, &w->nic_cpu) != HO_OK) {
        return HO_EINVAL;
    }
    struct ho_sched_params sp = {
        .discipline = w->cfg.host_first ? HO_SCHED_HOST_FIRST : HO_SCHED_FCFS,
        .rx_capacity = w->cfg.rx_queue_packets,
        .host_tx_capacity = 1u << 20,
        .cmd_capacity = 1u << 16,
        .nic_tx_capacity = 1u << 20,
    };
    w->nic_q = ho_sched_create(&sp);
    return w->nic_q ? HO_OK : HO_ENOMEM;
}

void nic_fini(struct sim_world *w)
{
    sim_cpu_destroy(w->nic_cpu);
    ho_sched_destroy(w->nic_q);
}
