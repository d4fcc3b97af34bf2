/*
 * lookup.h - the NIC's lookup layer: which connection on the NIC, if any, a packet belongs to.
 *
 * Every packet received from the wire goes through this table first (paper section 2, Figure 1):
 * a hit means the connection was handed off and the NIC's own TCP consumes the packet (a "NIC
 * packet"); a miss means the packet is passed to the host (a "host packet"). The table maps a
 * TCP 4-tuple, named from the server's side (local = the server's address and port), to a
 * connection slot: a small integer below 2^31 chosen by the caller when the connection is handed
 * off, typically the index of its TCB in the firmware's connection array.
 *
 * Shaped for a NIC processor:
 * - Memory is fixed at creation by a capacity, the paper's Hard limit. Nothing is allocated after
 *   ho_lookup_create(), so the packet path never allocates and never fails for lack of memory.
 * - Open addressing with linear probing over a power-of-two bucket array at least twice the
 *   capacity, so the load factor never exceeds 1/2 and a lookup examines about 1.5 buckets on a
 *   hit and 2.5 on a miss on average (Knuth, TAOCP vol. 3, 6.4, Algorithm L). Linear probing
 *   walks adjacent buckets, which suits a small cache or a burst-oriented memory.
 * - Deletion shifts later entries of the cluster back (Knuth's Algorithm R) instead of leaving
 *   tombstones, so the table is always as if the remaining keys had been inserted afresh and
 *   lookups do not slow down under connection churn.
 * - Tuples are hashed with SipHash-1-3 (Aumasson and Bernstein, "SipHash: a fast short-input
 *   PRF", 2012; the 1-3 round variant is the one Rust's and Python's hash tables use) keyed from
 *   params.hash_seed, so a remote host that does not know the seed cannot choose tuples that pile
 *   up in one cluster.
 * - Every operation records how many buckets it examined, so a simulator can charge the NIC
 *   processor per probe (ho_lookup_last_probes(), struct ho_lookup_stats).
 *
 * The table is not thread-safe; the firmware owns it from one thread.
 */
#ifndef HANDOFF_LOOKUP_H
#define HANDOFF_LOOKUP_H

#include <stddef.h>
#include <stdint.h>

#include "handoff/tcpe_seg.h"

/* Largest capacity accepted: 2^24 connections, 2^25 buckets of 16 bytes (512 MiB). */
#define HO_LOOKUP_MAX_CAPACITY (1u << 24)
/* Values are connection slots in [0, HO_LOOKUP_MAX_VALUE]; they are returned as a plain int. */
#define HO_LOOKUP_MAX_VALUE 0x7fffffffu

struct ho_lookup_params {
    uint32_t capacity;  /* Hard limit: most entries ever held; 1..HO_LOOKUP_MAX_CAPACITY */
    uint64_t hash_seed; /* keys the hash; draw it from the run's seeded generator */
};

/* Cumulative counters since creation (or the last ho_lookup_reset_stats()). A probe is one
 * bucket examined; for removals that includes the buckets scanned while shifting the cluster
 * back. */
struct ho_lookup_stats {
    uint64_t finds;         /* ho_lookup_find() calls */
    uint64_t find_hits;     /* ... that found their key */
    uint64_t find_probes;   /* buckets examined by finds: the packet-path cost */
    uint64_t inserts;       /* ho_lookup_insert() calls that added an entry */
    uint64_t removes;       /* ho_lookup_remove() calls that removed an entry */
    uint64_t failed;        /* insert/remove calls refused (EEXIST, ENOSPC, ENOENT) */
    uint64_t update_probes; /* buckets examined by inserts and removes, failed ones included */
    uint64_t shifts;        /* entries moved back by removals */
    uint32_t max_probes;    /* most buckets examined by a single operation */
};

/* The table (opaque). */
struct ho_lookup;

/*
 * Creates an empty table for up to params->capacity entries, allocating all of its memory.
 * Returns NULL if params is NULL, the capacity is 0 or above HO_LOOKUP_MAX_CAPACITY, or the
 * allocation fails. The caller owns the table and frees it with ho_lookup_destroy().
 */
struct ho_lookup *ho_lookup_create(const struct ho_lookup_params *params);

/* Frees the table and everything it holds. t may be NULL. */
void ho_lookup_destroy(struct ho_lookup *t);

/*
 * Bytes of memory a table of this capacity holds (the table header and the bucket array), so a
 * NIC model can derive Hard limit from its memory. Returns 0 for an invalid capacity.
 */
size_t ho_lookup_footprint(uint32_t capacity);

/*
 * Adds key -> value. The key is copied. value must be <= HO_LOOKUP_MAX_VALUE.
 * Returns HO_OK; HO_EEXIST if the key is already present (its value is left unchanged; this is
 * reported even when the table is full); HO_ENOSPC if the table already holds capacity entries;
 * HO_EINVAL if t or key is NULL or value is out of range.
 */
int ho_lookup_insert(struct ho_lookup *t, const struct tcpe_tuple *key, uint32_t value);

/*
 * Looks key up. This is the per-packet operation. Returns the value (>= 0), HO_ENOENT if the key
 * is absent, or HO_EINVAL if t or key is NULL. Updates the probe statistics, hence the non-const
 * table.
 */
int ho_lookup_find(struct ho_lookup *t, const struct tcpe_tuple *key);

/*
 * Removes key. Returns the value it mapped to (>= 0), HO_ENOENT if the key is absent, or
 * HO_EINVAL if t or key is NULL.
 */
int ho_lookup_remove(struct ho_lookup *t, const struct tcpe_tuple *key);

/* Entries held now. */
uint32_t ho_lookup_count(const struct ho_lookup *t);

/* The capacity given at creation (Hard limit). */
uint32_t ho_lookup_capacity(const struct ho_lookup *t);

/* Buckets in the array: the smallest power of two >= 2 x capacity. */
uint32_t ho_lookup_buckets(const struct ho_lookup *t);

/* Buckets examined by the most recent insert, find or remove (0 before the first one). */
uint32_t ho_lookup_last_probes(const struct ho_lookup *t);

/* Copies the cumulative counters into *out. */
void ho_lookup_get_stats(const struct ho_lookup *t, struct ho_lookup_stats *out);

/* Zeroes the cumulative counters (e.g. at the end of a simulation's warm-up). */
void ho_lookup_reset_stats(struct ho_lookup *t);

/*
 * The table's keyed hash of a tuple: SipHash-1-3, keyed by the first two outputs of ho_rng
 * seeded with params.hash_seed (k0 then k1), over the 12 bytes local_ip, remote_ip (4 bytes
 * each), local_port, remote_port (2 bytes each), every field little-endian. A key's home bucket
 * is ho_lookup_hash() & (ho_lookup_buckets() - 1). Exposed for tests and for callers that want
 * to spread connections the way the table does.
 */
uint64_t ho_lookup_hash(const struct ho_lookup *t, const struct tcpe_tuple *key);

/*
 * The table key of a segment received from the wire. Such a segment was sent by the client to
 * the server, so the server's side (local) is the segment's destination and the client's side
 * (remote) its source.
 */
struct tcpe_tuple ho_lookup_key_from_rx(const struct tcpe_seg *seg);

/*
 * Checks the table's invariants: the count matches the occupied buckets, every entry is
 * reachable from its home bucket without crossing an empty bucket, every value is in range.
 * Costs a hash per entry; meant for tests and debug builds. Returns HO_OK, HO_ESTATE if an
 * invariant is broken, or HO_EINVAL if t is NULL.
 */
int ho_lookup_validate(const struct ho_lookup *t);

#endif
