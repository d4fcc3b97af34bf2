/*
 * tt_host.h - a fake host platform for the OS side (include/handoff/os.h), shared by the tests
 * of the OS side (tests/os) and of the server on it (tests/app).
 *
 * It implements struct ho_os_ops and records everything: `run` appends the work to a FIFO (and
 * to a log of every work ever queued) that the test runs by hand, calling ho_os_work_mem when
 * the work touches memory and ho_os_work_done when it asks to be notified; `timer` records the
 * requested wake-up; nic_tx puts the packet on a wire to the client, and the "NIC" frees its
 * send-ring descriptor when the client takes it; nic_forward and nic_cmd record what the driver
 * gives the NIC (commands are copied); packets come from malloc with ids that pkt_at maps back,
 * and allocations are counted against frees. The "client" is a tcpe stack with the OS's payload
 * mode (virtual, or real bytes, which packets then carry in copies of their own):
 * its segments become packets given to ho_os_rx, and the packets the OS sends reach it from the
 * wire. An optional application records the events and done calls the OS gives it.
 *
 * tt_host_settle() runs queued work, network priority first as on the host, and the wire until
 * nothing is left; tt_host_advance() also lets time pass through both sides' timers.
 */
#ifndef HANDOFF_TT_HOST_H
#define HANDOFF_TT_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handoff/os.h"
#include "handoff/pkt.h"
#include "handoff/select.h"
#include "handoff/tcpe.h"

#define TT_HOST_SERVER_IP   0x0a000002u /* 10.0.0.2 */
#define TT_HOST_CLIENT_IP   0x0a000001u /* 10.0.0.1 */
#define TT_HOST_SERVER_PORT 80
#define TT_HOST_WORK_NS     1000u /* the fake processor's clock moves this much per work run */
#define TT_HOST_MAX_CLIENTS 8
#define TT_HOST_MAX_STEPS   200000
#define TT_HOST_START_NS    1000000000ull /* the clock when the platform is built */
#define TT_HOST_LINE_BYTES  64u           /* cache line of tt_host_os_params */
#define TT_HOST_TX_RING     64u           /* the NIC's send ring of tt_host_os_params */
#define TT_HOST_RCVBUF      65536u        /* receive buffer of tt_host_os_params */
#define TT_HOST_DELACK_NS   40000000ull   /* delayed-ACK timer of tt_host_os_params */

struct tt_host_work {
    struct ho_os_work w;
    uint64_t queued_at;
};

struct tt_host_timer {
    uint64_t when, now;
};

struct tt_host_msg {
    uint8_t *bytes;
    uint32_t len;
};

struct tt_host_ev {
    uint32_t sock;
    unsigned events;
};

struct tt_host {
    struct ho_os *os;
    uint64_t now;
    /* ops.run: the FIFO of work to run, and every work ever queued. */
    struct tt_host_work *q, *log;
    size_t nq, capq, nlog, caplog;
    /* What ho_os_work_mem said for the last work run. */
    struct ho_os_mem mem[HO_OS_MEM_MAX];
    unsigned nmem;
    /* ops.timer */
    uint64_t timer_when;
    struct tt_host_timer *timers;
    size_t ntimers, captimers;
    /* Packets: live ones by id. */
    struct ho_pkt **live;
    uint32_t capids, next_id;
    uint64_t allocs, frees;
    struct ho_pkt **wire, **fwd; /* nic_tx (to the client), nic_forward */
    size_t nwire, capwire, nfwd, capfwd;
    uint64_t ntx;
    struct tt_host_msg *cmds; /* nic_cmd */
    size_t ncmds, capcmds;
    unsigned faults;
    const char *last_fault;
    unsigned nestablished, nhanded_off;
    uint32_t last_established, last_handed_off;
    unsigned nconn_done;             /* ops.conn_done */
    struct ho_conn_record last_done; /* the last record it gave, its moves copied into: */
    struct ho_conn_move last_moves[8];
    uint32_t nic_seq; /* the next message number from the "NIC" */
    uint32_t last_rx_id;
    /* The client. */
    struct tcpe_stack *client;
    struct tcpe_conn *cc[TT_HOST_MAX_CLIENTS];
    bool real;                            /* real payload (op->virtual_payload false) */
    uint64_t crecv[TT_HOST_MAX_CLIENTS];  /* bytes each client has received */
    uint8_t *cbytes[TT_HOST_MAX_CLIENTS]; /* real payload: those bytes */
    bool ceof[TT_HOST_MAX_CLIENTS];
    int ncc;
    /* The recording application (tt_host_record_app). */
    struct tt_host_ev *evs;
    size_t nevs, capevs;
    uint64_t *dones;
    size_t ndones, capdones;
    bool accept_on_readable; /* accept from inside READABLE events */
    int accepted_in_event;   /* what that accept returned */
};

/* The OS parameters the tests share: 64 connections, virtual payload, MSS 1460, the TT_HOST_*
 * buffer, timer, line and ring values above, seed 7; the test's own costs and send buffer. */
struct ho_os_params tt_host_os_params(uint32_t nic_conns, struct ho_sel_policy sel,
                                      const struct ho_os_costs *costs, uint32_t sndbuf);

/* Builds the client stack and the OS (op) on h, which must be zeroed or freed; the clock starts
 * at TT_HOST_START_NS. No application is attached. Fails the test on any error. */
void tt_host_init(struct tt_host *h, const struct ho_os_params *op);

/* Attaches the recording application: events go to h->evs, done calls to h->dones. */
void tt_host_record_app(struct tt_host *h);

/* Destroys the OS (which gives back what it holds) and the client, then frees what the
 * platform still has and zeroes h. Returns whether every packet allocated was freed by someone
 * before the platform's own clean-up. */
bool tt_host_free(struct tt_host *h);

/* The platform's ops (ctx: the struct tt_host). */
extern const struct ho_os_ops tt_host_ops;

/* A packet holding seg (payload dropped), and giving it back. */
struct ho_pkt *tt_host_pkt_new(struct tt_host *h, const struct tcpe_seg *seg);
void tt_host_pkt_release(struct tt_host *h, struct ho_pkt *p);

/* Runs queued work number i (0 = the oldest) on the fake processor; returns it. */
struct tt_host_work tt_host_run_at(struct tt_host *h, size_t i);

/* The client reads everything that arrived. */
void tt_host_client_drain(struct tt_host *h);

/* Gives the client the oldest packet on the wire. */
void tt_host_deliver_one(struct tt_host *h);

/* Runs work (network priority first) and the wire until nothing is left to do now. */
void tt_host_settle(struct tt_host *h);

/* Settles, then lets time pass through the timers of both sides up to `until`. */
void tt_host_advance(struct tt_host *h, uint64_t until);

/* Connects a new client from port to the server's port and runs the handshake. Returns the
 * client's index. */
int tt_host_connect(struct tt_host *h, uint16_t port);

/* Client i sends n (virtual) bytes. */
void tt_host_client_send(struct tt_host *h, int i, uint32_t n);

/* On real payload: client i sends buf[0..n). What it receives collects in h->cbytes[i]. */
void tt_host_client_send_bytes(struct tt_host *h, int i, const void *buf, uint32_t n);

#endif
