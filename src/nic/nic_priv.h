/*
 * nic_priv.h - the firmware's state, shared by its two files: nic.c (the work queues and the
 * loop that runs them, the lookup layer, load control, host packets) and nic_conn.c (the
 * connections handed to the NIC: commands from the driver, the NIC's TCP stack, ACK aggregation
 * and the messages to the driver).
 */
#ifndef HANDOFF_NIC_PRIV_H
#define HANDOFF_NIC_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "handoff/ackagg.h"
#include "handoff/bufpool.h"
#include "handoff/cmd.h"
#include "handoff/loadctl.h"
#include "handoff/lookup.h"
#include "handoff/nic.h"
#include "handoff/sched.h"
#include "handoff/tcpe.h"

/* NIC_TX items: aux says whether the handle is a packet or a message to the host. */
#define NIC_AUX_MSG 0x80000000u
/* NIC_RX items: the driver handed the packet back (ho_nic_forward) rather than the lookup
 * classifying it. */
#define NIC_AUX_FORWARDED 0x40000000u

/* A connection on the NIC. */
struct nic_slot {
    struct tcpe_conn *conn; /* in the NIC's TCP stack */
    struct tcpe_tuple tuple;
    uint32_t host_id; /* the driver's id for it */
    uint64_t sent;    /* bytes queued by the driver's SEND commands (and at import) */
    uint64_t acked;   /* of those, acknowledged and reported to the driver */
    bool fin_told;    /* the driver has heard of the peer's FIN */
    uint32_t next_free;
    /* Active restoration's view of it. */
    uint64_t last_active; /* a packet of it was received, or the driver sent a SEND */
    uint64_t rate_at;     /* rate was last brought up to date then */
    uint32_t rate;        /* received packets, each worth 1024, halving every
                             HO_NIC_RATE_HALF_LIFE_NS */
};

struct ho_nic {
    struct ho_nic_params p;
    struct ho_nic_ops ops;
    void *ctx;
    uint64_t now; /* the time of the entry point running (the TCP's callbacks have none) */

    /* The work queues, and the messages queued on them (by handle in a pool). */
    struct ho_sched *q;
    struct ho_bufpool msgs;
    uint32_t msgs_queued; /* messages on CMD and NIC_TX */
    uint64_t timer_debt;  /* instructions of TCP timer expiries not yet charged */
    bool working;         /* a piece of work is between ho_nic_begin and ho_nic_end */
    struct ho_pkt *working_pkt;
    uint64_t work_began; /* when ho_nic_begin took the piece of work under way */

    /* Handoff: all NULL or unused without it. */
    struct ho_lookup *lookup;
    struct ho_lc lc;
    struct ho_ackagg *ackagg;
    bool ack_armed;
    struct tcpe_stack *stack;
    uint64_t tcp_wake;      /* the TCP timer time last given to the platform */
    struct nic_slot *slots; /* Hard limit of them */
    uint32_t free_slot;
    uint32_t *slot_of_host; /* driver id -> slot, UINT32_MAX if none */
    uint32_t nslot_of_host;
    uint32_t seq_out, seq_in; /* message numbers, to the driver and from it */
    uint64_t accepted, closed, restored;
    uint64_t late_cmds; /* SEND, CLOSE or RESTORE_REQUEST for a connection that had ended */
    /* Resets (ho_nic_reset): the boot running, and what the resets cost. */
    uint32_t boot;
    bool awaiting_init; /* commands are dropped until the driver's INIT for this boot */
    bool refusing;      /* every HANDOFF is refused (ho_nic_refuse) */
    uint64_t stale_cmds, lost_conns;
    bool init_arrived;          /* the INIT awaited has reached the command ring */
    uint64_t stale_host_tx;     /* host packets posted on the send ring before the INIT came */
    uint64_t accepted_at_reset, closed_at_reset, restored_at_reset;
    uint64_t uploaded; /* connections given back unasked (ho_nic_upload) */
    uint64_t shed;     /* connections given back by active restoration */
    uint32_t advertised; /* the Soft limit last advertised */
    bool shedding;     /* active restoration is running: its own ends do not start it again */
    uint32_t *queued_of; /* active restoration by queued packets: per slot, a scratch count */
    /* Segments the NIC's TCP sends while it takes a received segment, held until the call ends
     * so that a RECV the call posts leaves first (nic_conn.c). */
    bool holding;
    struct ho_pkt **held;
    uint32_t nheld, cap_held;
    uint8_t *rx_bytes;                 /* real payload: what a connection received, to place */
};

/* nic.c */
/* Queues p on q (its time in the NIC starts now) and rings the doorbell: HO_OK. Or drops it, if
 * q is full: HO_ENOSPC (the scheduler counts the drop). */
int nic_enqueue(struct ho_nic *n, enum ho_sched_queue q, struct ho_pkt *p, uint32_t aux);
/* Advertises the Soft limit if load control's evaluation says it changed (lc returned 1). */
void nic_advertise(struct ho_nic *n, int changed);

/* nic_conn.c */
int nic_conn_init(struct ho_nic *n);
/* Whether the firmware takes commands of this type (none without handoff). */
bool nic_takes(const struct ho_nic *n, unsigned type);
void nic_conn_fini(struct ho_nic *n);
/* Sends a message to the driver: numbered, encoded, queued on NIC_TX. */
void nic_post(struct ho_nic *n, struct ho_cmd *cmd);
/* Takes a received segment into the NIC's TCP. The segments it sends in that call follow any
 * RECV the call posts, so that no ACK leaves the NIC before the host has the bytes it covers
 * (what the driver needs to take the connection back after a reset: docs/failures.md). */
void nic_tcp_input(struct ho_nic *n, const struct tcpe_seg *seg);
/* Carries out a command taken from CMD. */
void nic_take_command(struct ho_nic *n, uint32_t handle);
/* Tells the platform when the NIC's TCP next needs its timers, if that changed. */
void nic_tcp_rearm(struct ho_nic *n);
/* Gives every connection that can move back to the driver (RESTORE, reason ERROR); returns
 * how many. Those in TIME_WAIT stay until their CLOSED. */
uint32_t nic_upload_all(struct ho_nic *n);
/* Runs the NIC's due TCP timers; returns how many expired. */
uint64_t nic_tcp_timers(struct ho_nic *n);
void nic_ack_timer(struct ho_nic *n);

/* Active restoration (nic_conn.c): a packet of slot ns arrived; the Soft limit may have moved
 * below Cnum. */
void nic_slot_rx(struct ho_nic *n, uint32_t ns);
void nic_shed(struct ho_nic *n);

#endif
