/*
 * meter.h - what a run measures: the measured window (warm-up over, measure count not yet
 * reached), the paper's counters the parts add to while it is open, and the run's first failure.
 * The world opens and closes the window (world.c); every other part only reports to it.
 */
#ifndef HANDOFF_SIM_METER_H
#define HANDOFF_SIM_METER_H

#include <stdbool.h>
#include <stdint.h>

struct sim_meter {
    bool measuring;                         /* the warm-up is over */
    bool done;                              /* the measured packets have all crossed the wire */
    uint64_t requests, resp_bytes, resp_ns; /* requests completed, their bytes and times */
    uint64_t conns, conns_nic;              /* connections established, of them handed off */
    uint64_t nic_pkts;                      /* packets the NIC's TCP consumed or sent */
    uint64_t host_misses;                   /* DRAM accesses of host packet processing */
    float *delay_rx, *delay_tx;             /* host-packet delays across the NIC, us */
    uint64_t ndelay_rx, ndelay_tx, cap_delay_rx, cap_delay_tx;
    float *handoff_lat;                     /* handoffs accepted: HANDOFF sent to reply, us */
    uint64_t nhandoff_lat, cap_handoff_lat;
    uint64_t bad_responses; /* responses that got more or fewer bytes than they should */
    uint64_t all_requests;  /* requests completed, warm-up included */
    char failure[256];      /* the first failure, or "" */
};

/* Whether the measured window is open. */
static inline bool meter_open(const struct sim_meter *m)
{
    return m->measuring && !m->done;
}

void meter_fini(struct sim_meter *m);
/* Records the first failure; later ones are dropped. */
void meter_fail(struct sim_meter *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A host packet crossed the NIC in ns (received: rx). */
void meter_delay(struct sim_meter *m, bool rx, uint64_t ns);
/* A handoff was accepted ns after it was offered. */
void meter_handoff(struct sim_meter *m, uint64_t ns);
/* A request completed after response_ns with bytes of body; exact: it got exactly its bytes. */
void meter_request(struct sim_meter *m, uint64_t response_ns, uint32_t bytes, bool exact);

#endif
