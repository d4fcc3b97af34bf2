/*
 * ackagg.h - ACK aggregation on the NIC (paper section 2): many ACKs, one ACKED message.
 *
 * For a connection handed off to the NIC, ACKs from the peer are consumed on the NIC, and the
 * host only needs to learn how many bytes of its send socket buffer it may now drop. The
 * firmware adds each ACK's newly acknowledged byte count here; the accumulator keeps one entry
 * per connection (a later ACK of the same connection adds to its entry), so one ACKED message
 * lets the host free each connection's acknowledged data in a single socket operation.
 *
 * The policy: a message is due as soon as any of these holds, checked in this order and
 * reported as the trigger that fired:
 *   HO_ACKAGG_FULL   the entries reach params.max_entries (nothing more would fit);
 *   HO_ACKAGG_BYTES  one connection's pending bytes reach params.byte_threshold, because the
 *                    application behind it may be blocked on a full send socket buffer;
 *   HO_ACKAGG_DELAY  params.max_delay has passed since the oldest pending entry was created,
 *                    which bounds how long any acknowledged byte waits to be freed.
 * The firmware asks after every add (the answer is add's return value) and, while entries are
 * pending, at the deadline ho_ackagg_deadline() gives (its next wake); then it calls flush.
 *
 * Ordering rule for the firmware: pending bytes of a connection must reach the host before the
 * message that ends the connection's life on the NIC (CLOSED or RESTORE), so before sending one
 * of those it flushes if ho_ackagg_pending() finds an entry for that connection.
 *
 * Entries are kept in order of creation and flushed in that order. The lookup is a linear scan:
 * at most HO_CMD_ACKED_MAX entries, on memory the firmware owns. Nothing is allocated after
 * ho_ackagg_create(). Time is the caller's clock, in nanoseconds.
 */
#ifndef HANDOFF_ACKAGG_H
#define HANDOFF_ACKAGG_H

#include <stdint.h>

#include "handoff/cmd.h"

struct ho_ackagg;

struct ho_ackagg_params {
    uint16_t max_entries;    /* entries per message, 1..HO_CMD_ACKED_MAX */
    uint32_t byte_threshold; /* pending bytes of one connection that force a flush; 0: never */
    uint64_t max_delay;      /* ns the oldest entry may wait; 0: flush on every add;
                                UINT64_MAX: never */
};

/* What makes a message due; add and due return one of these. */
enum ho_ackagg_trigger {
    HO_ACKAGG_HOLD = 0,  /* not due: keep aggregating */
    HO_ACKAGG_FULL = 1,  /* max_entries reached */
    HO_ACKAGG_BYTES = 2, /* a connection reached byte_threshold */
    HO_ACKAGG_DELAY = 3, /* the oldest entry has waited max_delay */
};

struct ho_ackagg_stats {
    uint64_t acks;     /* successful adds */
    uint64_t merged;   /* adds folded into an existing entry */
    uint64_t messages; /* ACKED messages flushed */
    uint64_t entries;  /* entries flushed, over all messages */
    uint64_t bytes;    /* acknowledged bytes flushed */
};

/*
 * Fills p with the defaults: 64 entries (HO_CMD_ACKED_MAX), 16 KiB per connection (a quarter
 * of a 64 KiB send socket buffer), 50 us (a few ACK arrivals at the paper's packet rates, and
 * well under a round-trip time).
 */
void ho_ackagg_params_default(struct ho_ackagg_params *p);

/*
 * Creates an empty accumulator in *out. Returns HO_OK, HO_EINVAL (p or out NULL, max_entries
 * out of 1..HO_CMD_ACKED_MAX), or HO_ENOMEM. The caller owns *out and frees it with
 * ho_ackagg_destroy().
 */
int ho_ackagg_create(const struct ho_ackagg_params *p, struct ho_ackagg **out);

/* Frees ag (NULL is ignored). Pending entries are dropped. */
void ho_ackagg_destroy(struct ho_ackagg *ag);

/*
 * Records that bytes more of connection conn_id's data were acknowledged at time now: adds to
 * the connection's entry, or creates one at the end (the first pending entry also starts the
 * delay). Returns the trigger now in force (HO_ACKAGG_HOLD, or which one makes a message due),
 * HO_EINVAL if bytes is 0, or HO_ENOSPC (nothing changed) if a new entry does not fit or the
 * entry's total would exceed UINT32_MAX: flush, then add again.
 */
int ho_ackagg_add(struct ho_ackagg *ag, uint32_t conn_id, uint32_t bytes, uint64_t now);

/* The trigger in force at time now, as add reports it; HO_ACKAGG_HOLD when nothing is pending. */
int ho_ackagg_due(const struct ho_ackagg *ag, uint64_t now);

/*
 * When the delay trigger fires for what is pending: the creation time of the oldest entry plus
 * max_delay. UINT64_MAX means never: nothing is pending, the delay is disabled, or the sum
 * overflows.
 */
uint64_t ho_ackagg_deadline(const struct ho_ackagg *ag);

/* Number of pending entries (connections). */
unsigned ho_ackagg_count(const struct ho_ackagg *ag);

/* If conn_id has a pending entry, stores its bytes in *bytes (if not NULL) and returns HO_OK;
 * otherwise returns HO_ENOENT. */
int ho_ackagg_pending(const struct ho_ackagg *ag, uint32_t conn_id, uint32_t *bytes);

/*
 * Moves every pending entry, in order of creation, into an ACKED message *out with header
 * sequence number seq, and empties the accumulator. Returns the number of entries (>= 1), or
 * HO_EAGAIN (out untouched) if nothing is pending.
 */
int ho_ackagg_flush(struct ho_ackagg *ag, uint32_t seq, struct ho_cmd *out);

/* Copies the counters into *out. */
void ho_ackagg_stats(const struct ho_ackagg *ag, struct ho_ackagg_stats *out);

#endif
