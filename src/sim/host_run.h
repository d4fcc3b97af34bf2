/*
 * host_run.h - the simulated host: the OS side of src/os/ and the web server of src/app/ on a
 * 2 GHz processor with a 1 MB L2 cache (the paper's Table 2), behind the PCI bus.
 *
 * The processor (sim_cpu.h) runs the OS's work by priority, the network stack preempting the
 * server as interrupts do, and charges each cycle to the OS's category for it. A packet's work
 * also pays for the memory it touches, through the cache model: every line that misses costs the
 * DRAM latency. The NIC's DMA of a received packet removes its buffer's lines from the cache.
 */
#ifndef HANDOFF_SIM_HOST_RUN_H
#define HANDOFF_SIM_HOST_RUN_H

#include <stdint.h>
#include <stdio.h>

#include "clients.h"
#include "handoff/app.h"
#include "handoff/os.h"
#include "handoff/sim_cache.h"
#include "handoff/sim_config.h"
#include "handoff/sim_cpu.h"
#include "handoff/sim_evq.h"
#include "meter.h"
#include "pci.h"
#include "pool.h"

struct sim_host {
    struct ho_os *os;
    struct ho_app *app;
    struct sim_cpu *cpu;
    struct sim_cache *l2;
    uint32_t dram_cycles;
    uint64_t timer;    /* the pending TCP timer event, 0 if none */
    uint64_t watchdog; /* the pending watchdog event, 0 if none */
    uint8_t *counted; /* by socket: established while measuring */
    uint32_t ncounted;
    struct sim_evq *evq;
    struct sim_pool *pool;
    struct sim_pci *pci;
    struct sim_meter *meter;
    struct sim_clients *clients; /* what requests ask for: payload is virtual */
    FILE *conn_log;              /* one JSON line per connection released, or NULL */
    int conn_log_errno;          /* the first failed write's errno, 0 if none */
};

/* Writes r as a line of the connection log (h->conn_log set). */
void host_run_log_conn(struct sim_host *h, const struct ho_conn_record *r);

/* Builds the host of configuration c for nclients clients; the links (evq ... clients) must be
 * set. Returns HO_OK or an HO_E* error. */
int host_run_init(struct sim_host *h, const struct sim_config *c, uint32_t nclients);
void host_run_fini(struct sim_host *h);

/* The bus's host end (struct sim_pci's host.*, ctx = the struct sim_host). */
void host_run_rx(void *ctx, struct ho_pkt *p, uint64_t now);
void host_run_msg(void *ctx, const uint8_t *msg, uint32_t len, uint64_t now);
void host_run_tx_done(void *ctx, uint64_t now);

#endif
