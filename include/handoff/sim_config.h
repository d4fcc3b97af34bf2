/*
 * sim_config.h - the parameters of one simulation run, from the paper's shorthand or a file.
 *
 * A run is named as in the paper's Table 3: Workload-NICConnections-Priority-LoadControl-
 * Selection-MIPS, e.g. "W-4096-P-L-FCFS-400" or "I-256-P-L-T20-600". That shorthand sets the
 * six fields it names; every other parameter of the model has a default. LoadControl is L (the
 * paper's Figure 3), N (none) or A, ours (adaptive: steered from the NIC's queueing delay). A
 * configuration file starts from a shorthand and overrides any parameter by key:
 *
 *     # my experiment
 *     base = W-4096-P-L-FCFS-400
 *     nic.hiwat = 512
 *     run.seed = 7
 *
 * One "key = value" per line; '#' starts a comment; blank lines and CRLF line ends are fine; the
 * base line may come anywhere (it is applied first); a key may appear once. Every key, its
 * meaning, range and default are listed by sim_config_describe() (`handoff run --print-config`).
 * Every error names the file and line and what was wrong.
 *
 * The cost model's parameters are keys too (cost.*, struct sim_costs). They are one set for
 * every run (docs/cost-model.md), calibrated on the baseline alone, so a file that overrides them
 * describes a different model, not a different experiment: use it to ask "what if the NIC's TCP
 * cost twice as much", never to make one row match.
 */
#ifndef HANDOFF_SIM_CONFIG_H
#define HANDOFF_SIM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "handoff/app.h"
#include "handoff/nic.h"
#include "handoff/os.h"
#include "handoff/select.h"

/* The paper's four workloads (section 4.2, Table 3). */
enum sim_workload {
    SIM_WL_W = 0, /* World Cup 98 trace replay, 2048 clients */
    SIM_WL_I = 1, /* IBM trace replay, 2048 clients */
    SIM_WL_D = 2, /* SPECweb99, 2048 clients */
    SIM_WL_S = 3, /* SPECweb99 static content only, 4096 clients */
    SIM_WL_COUNT
};

#define SIM_CONFIG_PATH_MAX 1024

/*
 * The cost model: every number the simulator charges, one table for each part that does work:
 * the host's OS side and its web server (cycles of its processor before memory stalls, which the
 * cache model adds) and the NIC's firmware (instructions of its single-issue processor).
 * docs/cost-model.md gives each one's meaning and origin.
 */
struct sim_costs {
    struct ho_os_costs os;
    struct ho_app_costs app;
    struct ho_nic_costs nic;
};

struct sim_config {
    /* The six fields of the shorthand. */
    enum sim_workload workload;     /* W, I, D or S */
    uint32_t nic_conns;             /* NIC Hard limit; 0 = no handoff */
    bool host_first;                /* host-first packet processing (P) or FCFS (N) */
    uint8_t load_control;           /* enum ho_lc_kind: N (0), L (1) or A (2) */
    struct ho_sel_policy selection; /* FCFS or Tn */
    uint8_t restore;                /* enum ho_nic_restore: active restoration (nic.restore) */
    uint32_t nic_mips;              /* NIC instruction rate, millions per second */

    /* The run. */
    uint32_t clients;                     /* simultaneous clients; 0 = the workload's default */
    uint32_t streams;       /* streaming clients mixed in, besides those (workload.streams) */
    uint32_t stream_kbps;   /* their bit rate: a segment is stream_kbps x stream_segment_ms */
    uint32_t stream_segment_ms; /* one segment every this long */
    uint64_t warmup_packets;              /* packets on the wire before measuring */
    uint64_t measure_packets;             /* packets on the wire measured */
    uint64_t seed;                        /* seed of every random stream */
    char trace_file[SIM_CONFIG_PATH_MAX]; /* replay this trace instead of the synthetic one */

    /* The NIC. */
    uint32_t hiwat;            /* load control: Qlen above this is overload */
    uint32_t lowat;            /* load control: Qlen below this is underload */
    uint32_t lc_step;          /* load control: connections per Soft-limit move */
    uint32_t lc_target_pct;    /* load control A: target standing delay, % of rx_queue's drain */
    uint32_t lc_cut_pct;       /* load control A: % of the excess's share one decrease removes */
    uint32_t lc_raise_pct;     /* load control A: % of Cnum x dry share one increase adds */
    uint32_t rx_queue_packets; /* receive memory shared by host and NIC packets */
    uint32_t tx_ring;          /* send ring, host packets; the interface queue holds one fewer */

    /* The wire. */
    uint64_t wire_bps;      /* bit rate of each direction */
    uint64_t wire_delay_ns; /* one-way propagation delay */

    /* The host. */
    uint64_t host_hz;     /* processor clock */
    uint32_t l2_bytes;    /* L2 cache size (Table 2: 1 MB) */
    uint32_t l2_ways;     /* L2 associativity (Table 2: 16) */
    uint32_t line_bytes;  /* cache line (Table 2: 64 B) */
    uint32_t dram_cycles; /* DRAM access latency (Table 2: 195 cycles) */

    /* TCP, on every machine. */
    uint32_t mss;            /* maximum segment size (1518-byte frames: 1460) */
    uint64_t delack_ns;      /* delayed-ACK timer (FreeBSD 4.7: 100 ms) */
    bool delack_one_segment; /* ACK a second segment at once whatever its size (FreeBSD 4.7) */
    bool sack;               /* the clients offer SACK (FreeBSD 4.7 had none: false) */
    uint64_t rto_init_ns;    /* initial retransmission timeout, a SYN's (FreeBSD 4.7: 3 s) */
    uint32_t somaxconn;      /* the host's cap on a listen backlog (FreeBSD 4.7: 128) */
    uint32_t sndbuf;         /* send socket buffer, bytes */
    uint32_t rcvbuf;         /* receive socket buffer, bytes */
    uint64_t watchdog_ms;    /* the driver resets a NIC silent this long with work (ti(4): 5 s) */

    /* The cost model (keys cost.*): one set for every run. */
    struct sim_costs costs;

    /* Faults to inject (keys fault.*; docs/failures.md), in ms from the start of the run; 0:
     * none. */
    struct sim_faults {
        uint64_t nic_reset_at_ms; /* the NIC's firmware restarts (ho_nic_reset) */
        uint64_t refuse_at_ms;    /* from then on the NIC refuses every handoff */
        uint64_t wire_drop_at_ms; /* every frame on the wire is lost for wire_drop_ms */
        uint64_t wire_drop_ms;
        uint64_t nic_hang_at_ms; /* the NIC's processor stops for nic_hang_ms */
        uint64_t nic_hang_ms;
        uint64_t nic_upload_at_ms;   /* the NIC gives every connection back (ho_nic_upload) */
        uint64_t host_reclaim_at_ms; /* the host asks for every one back (ho_os_restore_all) */
    } fault;
    /* A step in load: the NIC's processor changes rate (a slower or faster NIC, or one that
     * other work takes a share of). */
    struct sim_steps {
        uint64_t nic_mips_at_ms; /* when, ms from the start (0 = never) */
        uint32_t nic_mips;       /* the NIC's instruction rate from then on, millions/s */
    } step;
};

/* An error message naming the file and line (or the argument) at fault. */
struct sim_config_err {
    char msg[512];
};

/* Fills c with the defaults of every parameter, for shorthand W-0-N-N-FCFS-400. */
void sim_config_defaults(struct sim_config *c);

/*
 * Sets the six shorthand fields of c from text (e.g. "I-256-P-L-T20-600"), leaving the other
 * parameters alone. Returns 0, or -1 with err filled (err may be NULL) if text is not a valid
 * shorthand; c is then unchanged.
 */
int sim_config_shorthand(struct sim_config *c, const char *text, struct sim_config_err *err);

/* Writes the canonical shorthand of c's six fields into buf ("W-4096-P-L-FCFS-400"). */
const char *sim_config_name(const struct sim_config *c, char *buf, size_t len);

/*
 * Sets one parameter by key from its text value, as a configuration line would. Returns 0, or
 * -1 with err filled ("unknown key", "expected an integer in [a, b]", ...). A path (run.trace)
 * must be one a configuration file can hold: no control character, no '#', no blank at either
 * end, so that sim_config_describe's output always loads back.
 */
int sim_config_set(struct sim_config *c, const char *key, const char *value,
                   struct sim_config_err *err);

/*
 * Builds c from defaults, a shorthand or a configuration file:
 *  - if spec is a shorthand, c is the defaults with that shorthand;
 *  - otherwise spec is a file's path, read as described above;
 *  - either may be followed by overrides, ",key=value" each, applied in order
 *    ("W-1024-P-N-FCFS-400,nic.hiwat=512,run.seed=2"); a spec naming an existing file is a
 *    file even if it contains a comma.
 * Then checks the parameters against each other. Returns 0, or -1 with err filled; err names the
 * file and line ("exp.conf:3: unknown key 'nic.hiwatt'") when the fault is in a file, and the
 * override when the fault is there.
 */
int sim_config_load(struct sim_config *c, const char *spec, struct sim_config_err *err);

/* Checks the parameters against each other (e.g. lowat < hiwat). Returns 0 or -1 with err. */
int sim_config_check(const struct sim_config *c, struct sim_config_err *err);

/* The number of clients a run uses: c->clients, or the workload's default (2048 or 4096). */
uint32_t sim_config_clients(const struct sim_config *c);

/* Writes every parameter as a configuration file (key = value, each with its meaning and
 * range as a comment), so the output can be edited and loaded back. */
void sim_config_describe(const struct sim_config *c, FILE *out);

/* The firmware's parameters a configuration gives (virtual payload: the simulator's). */
void sim_config_nic_params(const struct sim_config *c, struct ho_nic_params *p);

/* The OS side's parameters a configuration gives, its tables sized for `conns` connections at
 * once (virtual payload: the simulator's). */
void sim_config_os_params(const struct sim_config *c, uint32_t conns, struct ho_os_params *p);

/* "W", "I", "D", "S", or "?". */
const char *sim_workload_name(enum sim_workload w);

#endif
