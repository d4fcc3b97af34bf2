/*
 * sched.h - the NIC's work queues and the scheduler that picks the next piece of work
 * (paper section 3.1, Figure 2).
 *
 * After the lookup layer has classified a received packet, the NIC holds the four queues of the
 * paper's section 3.1, and one more for the rest of the work in progress:
 *
 *   HOST_RX  received host packets: the lookup missed, the packet goes up to the host
 *   HOST_TX  host packets to send: frames the host's own TCP built
 *   NIC_RX   received NIC packets: for connections handed off, consumed by the NIC's TCP
 *   CMD      handoff command messages from the host (handoff, restore, socket operations)
 *   NIC_TX   the output of the work just done: segments the NIC's TCP generated while
 *            processing a NIC packet, a command or a timer, and messages to the host
 *
 * The firmware runs each piece of work to completion: the TCP output an ACK or a SEND command
 * triggers is part of processing that ACK or command, as tcp_output runs inside tcp_input in a
 * BSD stack. The paper's NIC has no queue of its own output for other work to overtake, and its
 * backlog therefore builds where load control watches it, on NIC_RX. NIC_TX keeps that output
 * as separate items only so that its cost can be charged item by item; it is always served
 * first, under either discipline.
 *
 * Two disciplines decide what comes next among the other four queues:
 * - FCFS: strict arrival order (Table 1, rows 2 and 3).
 * - HOST_FIRST: the two host queues, in arrival order between them, always before NIC_RX and
 *   CMD, which are served in arrival order among themselves (Table 1, row 4). Host packets
 *   need little processing on the NIC, so putting them first protects the connections the
 *   host kept at little cost to the ones handed off.
 * The discipline is fixed at creation, as it would be in firmware.
 *
 * The receive memory. HOST_RX and NIC_RX draw on one shared capacity, params.rx_capacity
 * packets: a NIC has one pool of receive buffers and a frame takes one before the lookup says
 * whose it is, so host and NIC packets compete for it, and when the NIC falls behind on NIC
 * packets, host packets are dropped too (the paper's row 3: "the NIC drops received packets as
 * the receive queue fills up"). The capacity is counted in packets, not bytes, since the paper
 * reasons in packets (Qlen, Hiwat, Lowat). HOST_TX, CMD and NIC_TX each have their own capacity:
 * they live in different memories (the host's descriptor ring, the command ring, the NIC TCP's
 * own buffers). An enqueue that finds no room fails with HO_ENOSPC and counts a drop against the
 * queue it was meant for.
 *
 * Every accepted item gets the next global arrival sequence number. Dequeue compares the heads
 * of the five queues, so it costs the same however long the queues are.
 * Items are small records; the handle and aux are the caller's (a packet buffer and its length,
 * a command and its connection slot, ...), and the enqueue time lets the caller measure the
 * delay across the NIC (Table 1's host packet delay).
 *
 * No allocation after ho_sched_create(); not thread-safe.
 */
#ifndef HANDOFF_SCHED_H
#define HANDOFF_SCHED_H

#include <stdbool.h>
#include <stdint.h>

/* The queues, host queues first (HO_SCHED_QUEUE_IS_HOST relies on the order). */
enum ho_sched_queue {
    HO_SCHED_HOST_RX = 0, /* received host packets */
    HO_SCHED_HOST_TX = 1, /* host packets to send */
    HO_SCHED_NIC_RX = 2,  /* received NIC packets (their count is Qlen) */
    HO_SCHED_CMD = 3,     /* handoff command messages from the host */
    HO_SCHED_NIC_TX = 4,  /* the output of the work just done, always served first */
    HO_SCHED_NQUEUES
};

/* Queues the HOST_FIRST discipline serves first. */
#define HO_SCHED_QUEUE_IS_HOST(q) ((q) <= HO_SCHED_HOST_TX)
/* Queues that share the receive memory. */
#define HO_SCHED_QUEUE_IS_RX(q) ((q) == HO_SCHED_HOST_RX || (q) == HO_SCHED_NIC_RX)

enum ho_sched_discipline {
    HO_SCHED_FCFS = 0,       /* arrival order (after NIC_TX) */
    HO_SCHED_HOST_FIRST = 1, /* host queues before NIC_RX and CMD (after NIC_TX) */
    HO_SCHED_NDISCIPLINES
};

/*
 * Arrival sequence numbers are compared modulo 2^64, as TCP compares its sequence numbers
 * (FreeBSD tcp_seq.h): a is before b when b - a, as a signed number, is positive. Valid while
 * the items compared are less than 2^63 arrivals apart, which bounded queues guarantee.
 */
#define HO_SCHED_SEQ_LT(a, b) ((int64_t)((uint64_t)(a) - (uint64_t)(b)) < 0)

/* Most items one queue (or the receive memory) may hold. */
#define HO_SCHED_MAX_CAPACITY (1u << 24)

/* One piece of work. */
struct ho_sched_item {
    uint64_t handle;           /* the caller's: a buffer, a command, ... (never looked at) */
    uint64_t enq_ns;           /* time of the enqueue, as the caller gave it */
    uint64_t seq;              /* global arrival number, assigned at enqueue */
    uint32_t aux;              /* the caller's: a length, a connection slot, ... */
    enum ho_sched_queue queue; /* the queue the item was on */
};

struct ho_sched_params {
    enum ho_sched_discipline discipline; /* fixed for the scheduler's lifetime */
    uint32_t rx_capacity;      /* receive memory in packets, shared by HOST_RX and NIC_RX */
    uint32_t host_tx_capacity; /* HOST_TX items */
    uint32_t cmd_capacity;     /* CMD items */
    uint32_t nic_tx_capacity;  /* NIC_TX items */
    uint64_t first_seq;        /* sequence number of the first accepted item; normally 0 */
};

/* Per-queue counters since creation (or the last ho_sched_reset_counters()). */
struct ho_sched_counters {
    uint64_t enqueued;      /* items accepted */
    uint64_t dequeued;      /* items taken by ho_sched_dequeue() */
    uint64_t dropped;       /* enqueues refused for lack of room */
    uint64_t wait_ns_total; /* sum of (dequeue time - enqueue time) over dequeued items */
    uint64_t wait_ns_max;   /* longest such wait */
    uint32_t max_len;       /* longest the queue has been */
};

/* The scheduler (opaque). */
struct ho_sched;

/*
 * Creates empty queues, allocating all their memory. Returns NULL if params is NULL, the
 * discipline is unknown, any capacity is 0 or above HO_SCHED_MAX_CAPACITY, or the allocation
 * fails. The caller owns the scheduler and frees it with ho_sched_destroy().
 */
struct ho_sched *ho_sched_create(const struct ho_sched_params *params);

/* Frees the scheduler. s may be NULL. Handles still queued are the caller's to reclaim (drain
 * with ho_sched_dequeue() first if they own memory). */
void ho_sched_destroy(struct ho_sched *s);

/*
 * Appends work to queue q at time now. Assigns the item the next arrival sequence number (a
 * refused item does not consume one). Returns HO_OK; HO_ENOSPC if the queue is full (for
 * HOST_RX and NIC_RX: if the shared receive memory is full), counting a drop on q; HO_EINVAL if
 * s is NULL or q is not a queue.
 */
int ho_sched_enqueue(struct ho_sched *s, enum ho_sched_queue q, uint64_t handle, uint32_t aux,
                     uint64_t now);

/*
 * Copies the item the next ho_sched_dequeue() would return into *out, without removing it.
 * Returns HO_OK, HO_EAGAIN if every queue is empty, or HO_EINVAL if s or out is NULL.
 */
int ho_sched_peek(const struct ho_sched *s, struct ho_sched_item *out);

/*
 * Removes the next item under the discipline and copies it into *out. now is the time the NIC
 * takes the item; the wait (now - out->enq_ns, or 0 if now is earlier) goes into the queue's
 * counters. Returns HO_OK, HO_EAGAIN if every queue is empty, or HO_EINVAL if s or out is NULL.
 */
int ho_sched_dequeue(struct ho_sched *s, uint64_t now, struct ho_sched_item *out);

/* Items on queue q now (0 if q is not a queue). */
uint32_t ho_sched_len(const struct ho_sched *s, enum ho_sched_queue q);

/* Qlen of load control (paper 3.2): received NIC packets waiting, i.e. the NIC_RX length. */
uint32_t ho_sched_qlen(const struct ho_sched *s);

/* Receive memory in use: HOST_RX plus NIC_RX lengths. */
uint32_t ho_sched_rx_len(const struct ho_sched *s);

/* Items on all queues. */
uint32_t ho_sched_total_len(const struct ho_sched *s);

/* Most items queue q may hold: rx_capacity for HOST_RX and NIC_RX (shared), its own capacity
 * for the others, 0 if q is not a queue. */
uint32_t ho_sched_capacity(const struct ho_sched *s, enum ho_sched_queue q);

/* The discipline given at creation. */
enum ho_sched_discipline ho_sched_get_discipline(const struct ho_sched *s);

/* Copies queue q's counters into *out. Returns HO_OK, or HO_EINVAL if s or out is NULL or q is
 * not a queue. */
int ho_sched_get_counters(const struct ho_sched *s, enum ho_sched_queue q,
                          struct ho_sched_counters *out);

/* Zeroes every queue's counters (e.g. at the end of a simulation's warm-up); max_len restarts
 * from the current length. */
void ho_sched_reset_counters(struct ho_sched *s);

/*
 * Moves the items of receive queue `from` that pick accepts to the other receive queue `to`
 * (HOST_RX and NIC_RX only), keeping their arrival numbers and times, so that both queues stay in
 * arrival order and the receive memory they share holds as much as before: a packet whose
 * connection left the NIC becomes a host packet while it waits. The counters count a moved item
 * as enqueued on `to`, not on `from`. Returns the number moved, or a negative HO_E* (HO_EINVAL
 * for other queues, HO_ENOMEM).
 */
int ho_sched_move(struct ho_sched *s, enum ho_sched_queue from, enum ho_sched_queue to,
                  bool (*pick)(void *ctx, const struct ho_sched_item *it), void *ctx);

/* Calls fn with each item on queue q, oldest first (for a rare scan, such as choosing
 * connections to give back by their queued packets). fn must not change the scheduler. */
void ho_sched_each(const struct ho_sched *s, enum ho_sched_queue q,
                   void (*fn)(void *ctx, const struct ho_sched_item *it), void *ctx);

/* Short constant names ("host_rx", "host_tx", "nic_rx", "cmd", "nic_tx"; "?" otherwise). */
const char *ho_sched_queue_name(enum ho_sched_queue q);
/* "fcfs", "host_first"; "?" otherwise. */
const char *ho_sched_discipline_name(enum ho_sched_discipline d);

#endif
