/*
 * demo_model.h - a small queueing model of an offload NIC that drives the real policy engine.
 *
 * Used by `handoff demo` until the full simulator exists. The NIC is one processor serving the
 * queues of src/policy/sched.c; packets arrive from a fixed population of connections as a
 * Poisson stream; the lookup layer, load control, connection selection and the command codec
 * are the real modules. What is not modelled: the host's processor, TCP (no windows, no
 * retransmissions: traffic is open-loop), the wire, and clients that wait for answers. So the
 * model shows the mechanisms of the paper's Table 1 and Figure 6 (host-packet delay under FCFS
 * and host-first scheduling, Soft limit following the receive queue), not its numbers.
 */
#ifndef HANDOFF_CLI_DEMO_MODEL_H
#define HANDOFF_CLI_DEMO_MODEL_H

#include <stdbool.h>
#include <stdint.h>

struct demo_params {
    char name[32];          /* configuration name, e.g. "1024-P-N" */
    uint32_t clients;       /* connections alive at any time */
    uint32_t hard_limit;    /* NIC connection limit; 0 = no handoff */
    bool host_first;        /* host-first scheduling (P) or FCFS (N) */
    bool load_control;      /* load control (L) or not (N) */
    double nic_mips;        /* NIC instruction rate, millions per second */
    double conn_rate;       /* request/response exchanges per connection per second */
    double lifetime_alpha;  /* Pareto shape of exchanges per connection */
    double lifetime_min;    /* Pareto scale (minimum exchanges per connection) */
    uint32_t cost_host_pkt; /* NIC instructions to move a host packet (lookup, DMA) */
    uint32_t cost_nic_rx;   /* NIC instructions of TCP receive processing */
    uint32_t cost_nic_tx;   /* NIC instructions of TCP transmit processing */
    uint32_t cost_cmd;      /* NIC instructions to take a handoff command */
    uint32_t cost_probe;    /* NIC instructions per lookup-table probe */
    uint32_t rx_capacity;   /* receive memory, packets */
    uint32_t hiwat;         /* load control */
    uint32_t lowat;
    uint32_t lc_step;
    double warmup_s;  /* simulated seconds before measuring */
    double measure_s; /* simulated seconds measured */
    double sample_s;  /* time-series interval */
    uint64_t seed;
};

struct demo_result {
    double nic_idle_pct;           /* NIC processor idle, % of measured time */
    double nic_packet_share;       /* packets processed as NIC packets, 0..1 */
    double host_recv_delay_med_us; /* median time for a received host packet to cross the NIC */
    double host_send_delay_med_us; /* median time for a host packet to be sent by the NIC */
    double host_recv_delay_p99_us;
    double host_send_delay_p99_us;
    uint64_t rx_drops;       /* packets dropped by the full receive queue */
    uint64_t packets;        /* packets processed in the measured time */
    uint64_t connections;    /* connections started in the measured time */
    double handed_off_share; /* of those, the share accepted by the NIC, 0..1 */
    double soft_limit_mean;  /* time averages over the samples */
    double cnum_mean;
    double qlen_mean;
    uint64_t adverts; /* Soft-limit advertisements, whole run */
};

/* One time-series sample. */
struct demo_sample {
    double t_s;          /* simulated time */
    uint32_t soft_limit; /* Soft limit (Hard limit when load control is off) */
    uint32_t cnum;       /* connections on the NIC */
    uint32_t qlen;       /* NIC packets on the receive queue */
    double nic_busy;     /* busy fraction of the NIC over the last interval */
};

typedef void (*demo_sample_fn)(void *ctx, const struct demo_sample *s);

/* Fills p with the demo's defaults for a configuration "H-P-L" (e.g. "1024-P-N"). Returns 0,
 * or -1 if the name is not of that form. */
int demo_params_for(struct demo_params *p, const char *config);

/* Runs the model. sample (may be NULL) is called every p->sample_s. Returns 0, or a negative
 * HO_E* code if a module could not be created (bad parameters, no memory). */
int demo_run(const struct demo_params *p, struct demo_result *r, demo_sample_fn sample, void *ctx);

#endif
