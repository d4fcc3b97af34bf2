/*
 * sim_cache.h - a set-associative LRU cache model for costing the host's memory accesses.
 *
 * The paper's argument for handoff is that each connection's ~1 KB of kernel state stops
 * fitting in the host's caches once there are thousands of connections, so per-packet cost
 * grows with the connection count. The simulator reproduces that by running the addresses the
 * host stack touches through this model and charging each miss (the paper's Table 2: 64 KB
 * 2-way L1 hit 1 cycle; 1 MB 16-way L2 hit 15 cycles, next-line prefetch on a miss; DRAM 195
 * cycles; 64-byte lines everywhere).
 *
 * The model tracks only which lines are present, not data:
 * - Placement: line number modulo the number of sets; replacement: true LRU within a set.
 * - Reads and writes are alike: write-allocate, and write-backs of dirty lines are not
 *   charged (they overlap with execution in a write-back cache).
 * - Optional next-line prefetch: a demand miss on line L also brings in L+1 if absent, as the
 *   most recently used line of its set, at no charge (the prefetch overlaps with the miss it
 *   rides on). A line already present is left where it is.
 * - DMA into memory removes the lines it overwrites (sim_cache_invalidate()), as the paper's
 *   simulator does; DMA out of memory does not disturb the cache.
 * - Levels are independent (non-inclusive): sim_cache_access2() looks a line up in L2 only on
 *   an L1 miss, and an L2 eviction does not remove the line from L1. Invalidate both levels
 *   for DMA.
 * Addresses are simulated (the simulator lays out its own memory map); an address's line
 * number divided by the number of sets must be below 2^32 - 1 (for the 1 MB cache, addresses
 * below 2^48), which is checked by assertion.
 */
#ifndef HANDOFF_SIM_CACHE_H
#define HANDOFF_SIM_CACHE_H

#include <stdbool.h>
#include <stdint.h>

#define SIM_CACHE_MAX_WAYS 64

struct sim_cache;

struct sim_cache_params {
    uint64_t size_bytes;     /* capacity; size / (ways * line_bytes) sets, a power of two */
    uint32_t ways;           /* associativity, 1..SIM_CACHE_MAX_WAYS */
    uint32_t line_bytes;     /* line size, a power of two, 4..4096 */
    bool next_line_prefetch; /* bring in line L+1 on a demand miss on line L */
};

struct sim_cache_stats {
    uint64_t accesses;      /* demand line accesses */
    uint64_t hits;          /* of those, lines found present */
    uint64_t misses;        /* of those, lines not present (accesses = hits + misses) */
    uint64_t prefetches;    /* lines brought in by next-line prefetch */
    uint64_t invalidations; /* lines removed by sim_cache_invalidate() */
};

/*
 * Creates an empty cache. Returns 0 and sets *out; HO_EINVAL if a parameter is out of range or
 * the number of sets is not a power of two; HO_ENOMEM if allocation fails. The caller owns *out
 * (sim_cache_destroy()).
 */
int sim_cache_create(const struct sim_cache_params *p, struct sim_cache **out);

/* Frees the cache. Accepts NULL. */
void sim_cache_destroy(struct sim_cache *c);

/*
 * Accesses every line overlapping [addr, addr + len), lowest first, updating LRU order (and
 * prefetching if enabled). Returns how many of those lines were not present. len 0 touches
 * nothing. addr + len must not wrap around 2^64 (checked by assertion).
 */
uint32_t sim_cache_access(struct sim_cache *c, uint64_t addr, uint64_t len);

/*
 * Accesses [addr, addr + len) through two levels: each line is looked up in l1, and in l2 only
 * if l1 missed (then it is installed in both). Returns the lines that missed both levels (the
 * DRAM accesses); if l1_misses is not NULL, stores there the lines that missed l1. The two
 * caches must have the same line size (checked by assertion).
 */
uint32_t sim_cache_access2(struct sim_cache *l1, struct sim_cache *l2, uint64_t addr, uint64_t len,
                           uint32_t *l1_misses);

/*
 * Removes every line overlapping [addr, addr + len) from the cache (a DMA write to memory).
 * Returns how many lines were present. The LRU order of the other lines is unchanged.
 */
uint32_t sim_cache_invalidate(struct sim_cache *c, uint64_t addr, uint64_t len);

/* Whether the line holding addr is present. Does not change LRU order or counters. */
bool sim_cache_contains(const struct sim_cache *c, uint64_t addr);

/* Removes every line. Counters are unchanged. */
void sim_cache_flush(struct sim_cache *c);

/* Fills *st with the counters since creation or the last reset. */
void sim_cache_stats(const struct sim_cache *c, struct sim_cache_stats *st);

/* Zeroes the counters (the end of a warm-up); the cache contents stay. */
void sim_cache_reset_stats(struct sim_cache *c);

#endif
