/*
 * nic.h - the NIC's firmware: the offload side of connection handoff (paper sections 2 and 3,
 * Figure 2).
 *
 * The firmware owns the NIC's work queues and their scheduler (sched.h), the lookup layer that
 * tells host packets from NIC packets (lookup.h), load control (loadctl.h), the NIC's own TCP
 * stack for the connections handed to it (tcpe), ACK aggregation (ackagg.h), and its end of the
 * command protocol with the host's driver (cmd.h). It is one object, built from a parameters
 * struct, and it never reads a clock, never sleeps and never spends time itself. Its platform,
 * the simulator or the emulator, drives it from outside, always passing the time:
 *
 *   a frame arrives from the wire          ho_nic_wire_rx
 *   the host's stack sends a packet        ho_nic_host_tx
 *   the driver hands back a packet         ho_nic_forward  (one that belongs to the NIC's TCP)
 *   the driver sends a command             ho_nic_cmd
 *   a timer the firmware asked for is due  ho_nic_timer
 *   the processor is free                  ho_nic_begin, then ho_nic_end
 *
 * Work is done one piece at a time, to completion. ho_nic_begin takes the next piece under the
 * scheduling discipline and says what it costs in instructions of the NIC's processor (from the
 * cost table in the parameters); the platform spends that time as it must (simulated processor
 * time, or real time at the configured instruction rate), then calls ho_nic_end, which carries
 * the work out. What the work produces leaves through the ops: frames for the wire, packets and
 * messages for the host. An entry point that queues work rings the platform's doorbell
 * (ops.ready) before it returns, so that an idle processor can begin it; ho_nic_end need not,
 * since the platform begins the next piece after each piece anyway.
 *
 * Received frames first go through the lookup layer: a hit is a NIC packet (NIC_RX), a miss a
 * host packet (HOST_RX). Both wait in the shared receive memory, and a full memory drops.
 * Load control is evaluated when a packet arrives, when a connection is handed off and when one
 * ends, and each change of the Soft limit is advertised to the driver. The time from a host
 * packet's arrival at the NIC to the end of its processing is the paper's host-packet delay
 * (Table 1); the platform measures it from ho_pkt.t_nic when the work ends.
 *
 * Without handoff (hard_limit 0) the firmware is a plain NIC: no lookup, no TCP, no commands.
 */
#ifndef HANDOFF_NIC_H
#define HANDOFF_NIC_H

#include <stdbool.h>
#include <stdint.h>

#include "handoff/pkt.h"
#include "handoff/sched.h"

struct tcpe_stats;

/* Instructions of the NIC's processor for each kind of work (docs/cost-model.md). */
struct ho_nic_costs {
    uint32_t host_rx;      /* receive a host packet: MAC, lookup miss, DMA to the host */
    uint32_t host_tx;      /* send a host packet: DMA from the host, MAC */
    uint32_t lookup_probe; /* one probe of the lookup table */
    uint32_t tcp_rx;       /* TCP input of a NIC packet, with any DMA it causes */
    uint32_t tcp_tx;       /* TCP output of a NIC packet, with the DMA of its payload */
    uint32_t timer;        /* one TCP timer expiry (the packets it sends cost apart) */
    uint32_t cmd;          /* take one command message from the driver */
    uint32_t handoff;      /* import a handed-off connection, or export one back (on top of
                              cmd) */
    uint32_t msg;          /* post one message to the driver */
    uint32_t scale_pct;    /* what-if: percent applied to the NIC's own work (tcp_rx, tcp_tx,
                              timer, cmd, handoff, msg), 100 = none */
};

/*
 * Active restoration (section 3.2 describes it; the paper's NIC does not do it): when load
 * control lowers the Soft limit to or below the connections the NIC holds (Cnum), the firmware
 * gives connections back at once, each with its state in a RESTORE (reason
 * HO_CMD_RESTORE_OVERLOAD) after a RECV of what it received, until Cnum is under the Soft limit,
 * instead of waiting for connections to end (the paper's passive DECREASE). The rule picks which
 * go first; a connection that cannot be exported (closed on both sides) is never picked.
 */
enum ho_nic_restore {
    HO_NIC_RESTORE_NONE = 0,   /* passive: wait for connections to end (the paper's) */
    HO_NIC_RESTORE_QUEUED = 1, /* most of its packets waiting on the receive queue */
    HO_NIC_RESTORE_RATE = 2,   /* highest recent rate of received packets (decayed count, half
                                  life HO_NIC_RATE_HALF_LIFE_NS) */
    HO_NIC_RESTORE_IDLE = 3,   /* least recently active (a packet received, or a SEND) */
    HO_NIC_NRESTORES
};
#define HO_NIC_RATE_HALF_LIFE_NS 10000000ull /* 10 ms */

/* "none", "queued", "rate", "idle", or "?". */
const char *ho_nic_restore_name(enum ho_nic_restore r);
/* Parses one of those names; returns HO_OK, or HO_EINVAL. */
int ho_nic_restore_parse(const char *text, enum ho_nic_restore *out);

struct ho_nic_params {
    uint32_t hard_limit;     /* connections the NIC can hold (Hard limit); 0 = no handoff */
    bool host_first;         /* host-first scheduling (P), else FCFS (N) */
    uint8_t load_control;    /* enum ho_lc_kind: HO_LC_NONE (0, N: the Soft limit stays at the
                                Hard limit), HO_LC_FIGURE3 (1, L), HO_LC_ADAPTIVE (2, A); 0 and
                                1 are what false and true meant when this was a flag */
    uint32_t hiwat;          /* load control L: Qlen above this is overload */
    uint32_t lowat;          /* load control L: Qlen below this is underload */
    uint32_t lc_step;        /* load control L: connections per Soft-limit move */
    uint32_t lc_target_pct;  /* load control A: the target standing delay, in percent of the
                                receive memory (rx_queue) in NIC service times per packet */
    uint32_t lc_cut_pct;     /* load control A: ho_lc_params.cut_pct */
    uint32_t lc_raise_pct;   /* load control A: ho_lc_params.raise_pct */
    uint32_t rx_queue;       /* receive memory, packets, shared by host and NIC packets */
    uint32_t tx_ring;        /* the send ring: descriptors of host packets the driver has posted
                                and the firmware has not yet sent */
    bool virtual_payload;    /* packets carry lengths, not bytes (the simulator) */
    uint32_t mss;            /* the NIC's TCP: maximum segment size */
    uint32_t sndbuf;         /* the NIC's TCP: send buffer (room for what the driver may send) */
    uint32_t rcvbuf;         /* the NIC's TCP: receive window */
    uint64_t delack_ns;      /* the NIC's TCP: delayed-ACK timer */
    bool delack_one_segment; /* the NIC's TCP: tcpe_params.delack_one_segment */
    uint64_t rto_init_ns;    /* the NIC's TCP: initial retransmission timeout, 0 = tcpe's */
    uint64_t seed;           /* seeds the lookup hash (seed ^ 0x100c) and the TCP (seed ^ 0x41c) */
    uint8_t restore;         /* enum ho_nic_restore: active restoration and its victims */
    struct ho_nic_costs costs;
};

/* The firmware's timers; the platform keeps one deadline for each. */
enum ho_nic_timer {
    HO_NIC_TIMER_TCP = 0, /* the NIC's TCP: retransmission, delayed ACK, persist, 2MSL */
    HO_NIC_TIMER_ACK = 1, /* ACK aggregation: the oldest pending ACK must reach the host */
    HO_NIC_NTIMERS
};

/* Where the NIC's instructions go, for the platform's accounting. */
enum ho_nic_cat {
    HO_NIC_CAT_HOST = 0, /* host packets */
    HO_NIC_CAT_TCP = 1,  /* its own TCP: NIC packets and timers */
    HO_NIC_CAT_MSG = 2,  /* messages to and from the driver (a handoff's import included) */
    HO_NIC_NCATS
};

#define HO_NIC_NEVER UINT64_MAX

/* One piece of work, from ho_nic_begin to ho_nic_end. */
struct ho_nic_work {
    struct ho_sched_item item; /* the queue it came from (item.queue) and the firmware's data */
    struct ho_pkt *pkt;        /* the packet it processes or sends; NULL for a message */
    uint64_t cost;             /* its instructions */
    uint8_t cat;               /* enum ho_nic_cat of cost */
    uint64_t timer_cost;       /* instructions of TCP timer expiries owed, paid before it
                                  (category HO_NIC_CAT_TCP); 0 if none */
    uint32_t boot;             /* the firmware's boot that began it: a reset in between voids it */
};

/*
 * The platform. Every op is required, except the two of real payload on virtual payload. Calls
 * come from inside the entry points, with the time the entry point was given.
 */
struct ho_nic_ops {
    /* A frame for the wire; the platform owns p from now on. */
    void (*wire_tx)(void *ctx, struct ho_pkt *p, uint64_t now);
    /* A received host packet, placed in host memory; the platform owns p from now on. */
    void (*host_rx)(void *ctx, struct ho_pkt *p, uint64_t now);
    /* A message for the driver, len bytes of the command protocol (valid during the call). */
    void (*host_msg)(void *ctx, const uint8_t *msg, uint32_t len, uint64_t now);
    /* Work was queued: if the processor is idle, ho_nic_begin may be called now (even from
     * inside this op). */
    void (*ready)(void *ctx, uint64_t now);
    /* From now on call ho_nic_timer(which) at `when` (at once if `when` is not after now) instead
     * of at any time given before; HO_NIC_NEVER: not at all. */
    void (*timer)(void *ctx, enum ho_nic_timer which, uint64_t when, uint64_t now);
    /* A new packet holding seg (the NIC's TCP sends it), or NULL when memory is exhausted. */
    struct ho_pkt *(*pkt_alloc)(void *ctx, const struct tcpe_seg *seg);
    /* Gives a packet back (consumed, or dropped by a full queue). */
    void (*pkt_free)(void *ctx, struct ho_pkt *p);
    /* Something the platform should know went wrong (a connection on the NIC was reset or timed
     * out); the firmware goes on. */
    void (*fault)(void *ctx, const char *what);
    /* A host packet has been sent and its send-ring descriptor is free again (the Tigon moves
     * its send consumer index on); the driver may post another. */
    void (*host_tx_done)(void *ctx, uint64_t now);
    /* Real payload only (NULL on virtual payload). DMA from the host: the len bytes at host
     * address addr (a SEND's), valid during the firmware's current entry point. */
    const uint8_t *(*host_read)(void *ctx, uint64_t addr, uint32_t len);
    /* DMA to the host: places len bytes received on a connection in a host receive buffer and
     * returns its address, which a RECV message carries to the driver (ho_os_ops.host_take). */
    uint64_t (*host_place)(void *ctx, const uint8_t *data, uint32_t len);
};

/* What the firmware holds and has done, for the platform's metrics and checks. */
struct ho_nic_info {
    uint32_t queued;        /* items on the queues */
    uint32_t queued_pkts;   /* of those, packets (the others are messages) */
    uint32_t qlen;          /* Qlen: NIC packets waiting in the receive memory */
    uint32_t soft_limit;    /* load control's Soft limit; 0 without handoff */
    uint32_t cnum;          /* load control's Cnum: connections counted on the NIC */
    uint32_t conns;         /* connections in the lookup table */
    uint64_t rx_drops;      /* received frames dropped by the full receive memory, since the last
                               ho_nic_reset_counters */
    uint64_t tx_ring_drops; /* host packets dropped because the driver overran the send ring,
                               since the last ho_nic_reset_counters */
    uint64_t accepted;      /* HANDOFF_REPLYs sent that accepted a connection */
    uint64_t closed;        /* CLOSED messages sent */
    uint64_t restored;      /* RESTORE messages sent */
    uint64_t late_cmds;     /* commands for connections that had ended on the NIC (dropped) */
    uint32_t boot;          /* starts of the firmware: 1, and one more after each reset */
    bool awaiting_init;     /* reset, and the driver's INIT has not come yet */
    bool refusing;          /* refusing every handoff (ho_nic_refuse) */
    uint64_t stale_cmds;    /* commands dropped because they were meant for an earlier boot */
    uint64_t lost_conns;    /* connections the resets took from the NIC's memory */
    uint64_t stale_host_tx; /* host packets posted after a reset, before the INIT: dropped */
    uint64_t accepted_at_reset, closed_at_reset, restored_at_reset; /* at the last reset */
    uint64_t uploaded;      /* connections given back unasked (ho_nic_upload); also in restored */
    uint64_t shed;          /* connections given back by active restoration; also in restored */
    const struct tcpe_stats *tcp; /* the NIC TCP's counters; NULL without handoff */
    struct ho_sched_counters queue[HO_SCHED_NQUEUES]; /* each work queue's counters, since the
                                                        last ho_nic_reset_counters */
};

struct ho_nic;

/*
 * Builds the firmware. ops is copied; ctx is passed to every op. Returns HO_OK and *out,
 * HO_EINVAL if a parameter is out of range (scale_pct 0; rx_queue 0 or above
 * HO_SCHED_MAX_CAPACITY; hard_limit above HO_LOOKUP_MAX_CAPACITY; with handoff, load control's
 * hiwat, lowat and lc_step as ho_lc_init checks them, even when load control is off, and under
 * A a target that comes to no packet or lc_cut_pct or lc_raise_pct outside [1, 100]), or
 * HO_ENOMEM.
 */
int ho_nic_create(const struct ho_nic_params *p, const struct ho_nic_ops *ops, void *ctx,
                  struct ho_nic **out);

/* Frees the firmware; packets it still holds go back through ops.pkt_free. NULL is allowed. */
void ho_nic_destroy(struct ho_nic *n);

/* A frame arrived from the wire: classified, queued or dropped. The firmware owns p. */
void ho_nic_wire_rx(struct ho_nic *n, struct ho_pkt *p, uint64_t now);

/* The host's stack sends p (HOST_TX), posted on the send ring. The firmware owns p. Returns
 * HO_OK, or HO_ENOSPC if the ring already holds tx_ring packets: the driver overran it, and p is
 * dropped and counted (ho_nic_info.tx_ring_drops). A driver that counts its posts against
 * host_tx_done never overruns it. */
int ho_nic_host_tx(struct ho_nic *n, struct ho_pkt *p, uint64_t now);

/* The driver hands back a received packet that belongs to a connection on the NIC (it reached
 * the host while the connection was on its way): NIC_RX. The firmware owns p. */
void ho_nic_forward(struct ho_nic *n, struct ho_pkt *p, uint64_t now);

/*
 * A command message from the driver (len bytes, copied), queued on CMD. Returns HO_OK, or
 * HO_EPROTO (and nothing is queued) if the message does not decode or is not a command this
 * firmware takes (INIT; HANDOFF, SEND, CLOSE and RESTORE_REQUEST, with handoff). Sequence numbers are
 * checked when the command is carried out: a gap is the driver's bug, and an assertion names it.
 *
 * RESTORE_REQUEST gives a connection back: what it has received goes to the host first (RECV),
 * then its state, with the bytes it still has to send, in a RESTORE message, and it leaves the
 * NIC. A SEND, CLOSE or RESTORE_REQUEST for a connection that has ended on the NIC meanwhile
 * is late, not wrong: it is dropped and counted (its CLOSED is on its way to the driver); so is
 * a RESTORE_REQUEST for one that can no longer move (in TIME_WAIT: its CLOSED will follow). The
 * packets of a restored connection waiting on NIC_RX become host packets at once (HOST_RX, in
 * their arrival order): they leave Qlen. A packet queued on NIC_RX whose connection is no longer
 * on the NIC when its turn comes (ended, lost in a reset) goes to the host.
 */
int ho_nic_cmd(struct ho_nic *n, const uint8_t *msg, uint32_t len, uint64_t now);

/* Timer `which` is due (see ops.timer). */
void ho_nic_timer(struct ho_nic *n, enum ho_nic_timer which, uint64_t now);

/*
 * Takes the next piece of work, if any, and fills *w. Returns false when every queue is empty.
 * Exactly one piece is in progress at a time: after a true return, call ho_nic_end before the
 * next ho_nic_begin.
 */
bool ho_nic_begin(struct ho_nic *n, uint64_t now, struct ho_nic_work *w);

/*
 * The work's instructions have run: carries it out. What it queues rings ops.ready, and the
 * platform may begin the next piece from inside this call, so w must be the platform's own copy
 * of the work, not the struct ho_nic_begin fills next.
 */
void ho_nic_end(struct ho_nic *n, const struct ho_nic_work *w, uint64_t now);

/* Fills *info. */
void ho_nic_info(const struct ho_nic *n, struct ho_nic_info *info);

/* The item at the head of the queues, for a report (HO_EAGAIN if none). */
int ho_nic_peek(const struct ho_nic *n, struct ho_sched_item *out);

/*
 * The firmware restarts, as after a crash or a reset by the driver: every packet it holds is
 * given back (ops.pkt_free), the messages and commands on its queues are dropped, every
 * connection is forgotten (their frames miss the lookup from now on and go to the host as host
 * packets), ACK aggregation and load control start again from their initial state, and both
 * timers are cancelled. A piece of work between ho_nic_begin and ho_nic_end is void: ho_nic_end
 * gives its packet back and does nothing else. Then the new boot announces itself to the driver
 * with FW_UP (sequence number 0) and drops every command until an INIT naming this boot comes
 * (stale_cmds counts them), and every host packet posted on the send ring until that INIT has
 * arrived (stale_host_tx; no host_tx_done follows: the driver sets its ring up again). A packet
 * the driver hands back (ho_nic_forward) for a connection the firmware does not hold goes to the
 * host. The counters of ho_nic_info run on across resets.
 */
void ho_nic_reset(struct ho_nic *n, uint64_t now);

/*
 * The firmware gives every connection it holds back to the host, unasked, as TCP Chimney's
 * offload target uploads its connections (before a firmware update, or when it cannot go on
 * serving them): for each, RECV of what it received, then RESTORE with reason
 * HO_CMD_RESTORE_ERROR, and it leaves the NIC. Connections in TIME_WAIT stay until their CLOSED.
 * The exports cost what a RESTORE_REQUEST's does, owed and paid before the next piece of work.
 * Returns how many went; 0 without handoff or while awaiting INIT.
 */
uint32_t ho_nic_upload(struct ho_nic *n, uint64_t now);

/* From now on (refuse) the firmware refuses every HANDOFF with HO_CMD_REFUSED_NOMEM, as a NIC
 * whose connection memory cannot be allocated; the connections it holds go on. !refuse: it takes
 * them again, as load control allows. */
void ho_nic_refuse(struct ho_nic *n, bool refuse, uint64_t now);

/* Restarts the counters of the queues (drops, waits): the end of a warm-up. */
void ho_nic_reset_counters(struct ho_nic *n);

#endif
