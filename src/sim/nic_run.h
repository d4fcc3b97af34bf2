/*
 * nic_run.h - the simulated NIC: the firmware of src/nic/ on a processor of nic.mips
 * instructions per second (sim_cpu.h), between the wire and the PCI bus.
 *
 * The processor runs one piece of the firmware's work at a time, for the instructions the
 * firmware says it costs, and the work takes effect when they have run. The firmware's timers are
 * events on the simulated clock. The NIC also reports what the paper measures of it: the delay of
 * host packets across it and the packets its TCP consumes or sends.
 */
#ifndef HANDOFF_SIM_NIC_RUN_H
#define HANDOFF_SIM_NIC_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "handoff/nic.h"
#include "handoff/sim_config.h"
#include "handoff/sim_cpu.h"
#include "handoff/sim_evq.h"
#include "meter.h"
#include "pci.h"
#include "pool.h"
#include "wire.h"

struct sim_nic {
    struct ho_nic *fw;
    struct sim_cpu *cpu;
    bool busy;                      /* a piece of work is on the processor */
    struct ho_nic_work work;        /* that piece */
    uint64_t timer[HO_NIC_NTIMERS]; /* pending timer events, 0 if none */
    uint64_t hung_until;            /* fault.nic_hang_*: the processor takes no work before */
    uint64_t resets;                /* resets by the driver (nic_run_reset) */
    struct sim_evq *evq;
    struct sim_pool *pool;
    struct sim_wire *wire;
    struct sim_pci *pci;
    struct sim_meter *meter;
};

/* Builds the NIC of configuration c; the links (evq ... meter) must be set. Returns HO_OK or an
 * HO_E* error. */
int nic_run_init(struct sim_nic *n, const struct sim_config *c);
void nic_run_fini(struct sim_nic *n);

/* A frame arrived from the wire. */
void nic_run_wire_rx(struct sim_nic *n, struct ho_pkt *p, uint64_t now);

/* The bus's NIC end (struct sim_pci's nic.*, ctx = the struct sim_nic). */
void nic_run_tx(void *ctx, struct ho_pkt *p, uint64_t now);
void nic_run_forward(void *ctx, struct ho_pkt *p, uint64_t now);
void nic_run_cmd(void *ctx, const uint8_t *msg, uint32_t len, uint64_t now);
/* The driver pulls the reset line: the firmware starts again (ho_nic_reset), a hang ends. */
void nic_run_reset(void *ctx, uint64_t now);

/* The processor hangs until `until`: it takes no work and its timers wait; frames and commands
 * still arrive, and queue or drop (fault.nic_hang_*). */
void nic_run_hang(struct sim_nic *n, uint64_t until, uint64_t now);

#endif
