/*
 * nic_run.c - the simulated NIC: the firmware on its processor (see nic_run.h).
 */
#include "nic_run.h"

#include <string.h>

#include "handoff/assert.h"
#include "handoff/err.h"

/* ---- the processor ---------------------------------------------------------------------- */

static void work_done(void *ctx, uint64_t arg, uint64_t now);

/* If the processor is idle, starts the next piece of work (after any timer expiries owed). */
static void kick(struct sim_nic *n, uint64_t now)
{
    if (n->busy || now < n->hung_until || !ho_nic_begin(n->fw, now, &n->work)) {
        return;
    }
    n->busy = true;
    if (n->work.timer_cost > 0) {
        struct sim_cpu_task d = {.cat = HO_NIC_CAT_TCP, .cycles = n->work.timer_cost};
        int rc = sim_cpu_submit(n->cpu, now, &d);
        HO_ASSERT(rc == HO_OK, "NIC task refused: %s", ho_strerror(rc));
    }
    struct sim_cpu_task t = {
        .cat = n->work.cat, .cycles = n->work.cost, .done = work_done, .ctx = n};
    int rc = sim_cpu_submit(n->cpu, now, &t);
    HO_ASSERT(rc == HO_OK, "NIC task refused: %s", ho_strerror(rc));
}

static void work_done(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_nic *n = ctx;
    (void)arg;
    n->busy = false;
    struct ho_nic_work w = n->work; /* the firmware may begin the next piece inside ho_nic_end */
    switch (w.item.queue) {
    case HO_SCHED_HOST_RX:
    case HO_SCHED_HOST_TX:
        meter_delay(n->meter, w.item.queue == HO_SCHED_HOST_RX, now - w.pkt->t_nic);
        break;
    case HO_SCHED_NIC_RX:
    case HO_SCHED_NIC_TX:
        n->meter->nic_pkts += w.pkt && meter_open(n->meter);
        break;
    default:
        break;
    }
    ho_nic_end(n->fw, &w, now);
    kick(n, now);
}

static void timer_event(void *ctx, uint64_t which, uint64_t now)
{
    struct sim_nic *n = ctx;
    n->timer[which] = 0;
    if (now < n->hung_until) {
        /* A hung processor runs no timer: it fires when the processor runs again. */
        int rc = sim_evq_schedule(n->evq, n->hung_until, timer_event, n, which, &n->timer[which]);
        HO_ASSERT(rc == HO_OK, "cannot schedule a NIC timer: %s", ho_strerror(rc));
        return;
    }
    ho_nic_timer(n->fw, (enum ho_nic_timer)which, now);
}

static void hang_over(void *ctx, uint64_t arg, uint64_t now)
{
    struct sim_nic *n = ctx;
    if (arg == n->hung_until) { /* not ended early by a reset, nor a later hang's */
        n->hung_until = 0;
        kick(n, now);
    }
}

void nic_run_hang(struct sim_nic *n, uint64_t until, uint64_t now)
{
    n->hung_until = until;
    int rc = sim_evq_schedule(n->evq, until, hang_over, n, until, NULL);
    HO_ASSERT(rc == HO_OK, "cannot schedule the end of a hang: %s", ho_strerror(rc));
    (void)now;
}

void nic_run_reset(void *ctx, uint64_t now)
{
    struct sim_nic *n = ctx;
    n->resets++;
    n->hung_until = 0;
    ho_nic_reset(n->fw, now); /* its FW_UP rings the doorbell: the processor starts on it */
}

/* ---- the firmware's ops ----------------------------------------------------------------- */

static void op_wire_tx(void *ctx, struct ho_pkt *p, uint64_t now)
{
    struct sim_nic *n = ctx;
    wire_send(n->wire, DIR_TO_CLIENT, p, now);
}

static void op_host_rx(void *ctx, struct ho_pkt *p, uint64_t now)
{
    struct sim_nic *n = ctx;
    pci_to_host_pkt(n->pci, p, now);
}

static void op_host_msg(void *ctx, const uint8_t *msg, uint32_t len, uint64_t now)
{
    struct sim_nic *n = ctx;
    pci_to_host_msg(n->pci, msg, len, now);
}

static void op_ready(void *ctx, uint64_t now)
{
    kick(ctx, now);
}

static void op_timer(void *ctx, enum ho_nic_timer which, uint64_t when, uint64_t now)
{
    struct sim_nic *n = ctx;
    if (n->timer[which]) {
        sim_evq_cancel(n->evq, n->timer[which]);
        n->timer[which] = 0;
    }
    if (when != HO_NIC_NEVER) {
        int rc = sim_evq_schedule(n->evq, when > now ? when : now, timer_event, n, which,
                                  &n->timer[which]);
        HO_ASSERT(rc == HO_OK, "cannot schedule a NIC timer: %s", ho_strerror(rc));
    }
}

static struct ho_pkt *op_pkt_alloc(void *ctx, const struct tcpe_seg *seg)
{
    struct sim_nic *n = ctx;
    return pool_alloc(n->pool, seg);
}

static void op_pkt_free(void *ctx, struct ho_pkt *p)
{
    struct sim_nic *n = ctx;
    pool_free(n->pool, p);
}

static void op_fault(void *ctx, const char *what)
{
    struct sim_nic *n = ctx;
    meter_fail(n->meter, "%s", what);
}

static void op_host_tx_done(void *ctx, uint64_t now)
{
    struct sim_nic *n = ctx;
    pci_to_host_tx_done(n->pci, now);
}

static const struct ho_nic_ops nic_ops = {
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

/* ---- the bus's end and the wire's --------------------------------------------------------- */

void nic_run_wire_rx(struct sim_nic *n, struct ho_pkt *p, uint64_t now)
{
    ho_nic_wire_rx(n->fw, p, now);
}

void nic_run_tx(void *ctx, struct ho_pkt *p, uint64_t now)
{
    struct sim_nic *n = ctx;
    (void)ho_nic_host_tx(n->fw, p, now); /* an overrun is counted; sim_world_check reports it */
}

void nic_run_forward(void *ctx, struct ho_pkt *p, uint64_t now)
{
    struct sim_nic *n = ctx;
    ho_nic_forward(n->fw, p, now);
}

void nic_run_cmd(void *ctx, const uint8_t *msg, uint32_t len, uint64_t now)
{
    struct sim_nic *n = ctx;
    int rc = ho_nic_cmd(n->fw, msg, len, now);
    HO_ASSERT(rc == HO_OK, "the NIC refused a command: %s", ho_strerror(rc));
}

/* ---- life ------------------------------------------------------------------------------- */

int nic_run_init(struct sim_nic *n, const struct sim_config *c)
{
    struct sim_cpu_params cp = {
        .hz = (uint64_t)c->nic_mips * 1000000,
        .nprios = 1,
        .ncats = HO_NIC_NCATS,
    };
    if (sim_cpu_create(&cp, n->evq, &n->cpu) != HO_OK) {
        return HO_EINVAL;
    }
    struct ho_nic_params p;
    sim_config_nic_params(c, &p);
    return ho_nic_create(&p, &nic_ops, n, &n->fw);
}

void nic_run_fini(struct sim_nic *n)
{
    ho_nic_destroy(n->fw);
    sim_cpu_destroy(n->cpu);
}
