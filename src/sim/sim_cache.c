/*
 * sim_cache.c - the set-associative LRU cache model (see include/handoff/sim_cache.h), called by
 * the host cost model for every piece of kernel state a simulated operation touches.
 *
 * This is on the simulator's hot path (about a kilobyte, sixteen lines, of connection state per
 * packet), so a set is kept as a small array of 32-bit tags in recency order, most recently
 * used first: a 16-way set of the 1 MB cache is exactly one 64-byte host cache line, and LRU
 * needs no stamps. An access walks the set once, shifting each tag down a place as it compares
 * it, until it meets the tag (a hit: the tag's old place is overwritten) or runs off the end (a
 * miss: the least recently used tag falls off); either way the tag ends up in front. Recently
 * used lines are met early, so a hit is cheap. Empty ways hold tag 0 and stay at the end of the
 * order, so a set fills its empty ways before it evicts anything. Stored tags are the line
 * number divided by the number of sets, plus one, so that 0 never names a line.
 */
#include "handoff/sim_cache.h"

#include <stdlib.h>
#include <string.h>

#include "handoff/assert.h"
#include "handoff/err.h"

#define EMPTY 0u

struct sim_cache {
    uint32_t *tags;     /* sets * ways tags, each set in recency order */
    uint32_t ways;      /* associativity */
    uint32_t set_bits;  /* log2 of the number of sets */
    uint64_t set_mask;  /* number of sets - 1 */
    uint32_t line_bits; /* log2 of the line size */
    bool prefetch;      /* next-line prefetch on a miss */
    struct sim_cache_stats st;
};

static bool is_pow2(uint64_t v)
{
    return v != 0 && (v & (v - 1)) == 0;
}

static uint32_t log2_exact(uint64_t v)
{
    uint32_t b = 0;
    while ((UINT64_C(1) << b) < v) {
        b++;
    }
    return b;
}

static uint32_t *set_of(const struct sim_cache *c, uint64_t line)
{
    return &c->tags[(size_t)(line & c->set_mask) * c->ways];
}

static uint32_t tag_of(const struct sim_cache *c, uint64_t line)
{
    uint64_t t = line >> c->set_bits;
    HO_ASSERT(t < UINT32_MAX, "line %llu is beyond the modelled address space",
              (unsigned long long)line);
    return (uint32_t)t + 1;
}

/* The way holding tag in set w, or ways if absent. */
static uint32_t find(const struct sim_cache *c, const uint32_t *w, uint32_t tag)
{
    for (uint32_t k = 0; k < c->ways; k++) {
        if (w[k] == tag) {
            return k;
        }
    }
    return c->ways;
}

/*
 * Makes tag the most recently used of set w in one pass: each way is shifted down one place
 * while it is compared, until the tag is found (its old way is overwritten) or the end is
 * reached (the last way falls off: the LRU eviction). Returns whether the tag was present.
 */
static bool promote(const struct sim_cache *c, uint32_t *w, uint32_t tag)
{
    uint32_t carried = w[0];
    w[0] = tag;
    if (carried == tag) {
        return true;
    }
    for (uint32_t k = 1; k < c->ways; k++) {
        uint32_t cur = w[k];
        w[k] = carried;
        if (cur == tag) {
            return true;
        }
        carried = cur;
    }
    return false;
}

/* Brings line in behind a miss, if absent, without touching the LRU order otherwise. */
static void prefetch_line(struct sim_cache *c, uint64_t line)
{
    uint32_t *w = set_of(c, line);
    uint32_t tag = tag_of(c, line);
    if (find(c, w, tag) == c->ways) {
        promote(c, w, tag);
        c->st.prefetches++;
    }
}

/* One demand access to a line; returns 1 on a miss, 0 on a hit. */
static uint32_t touch_line(struct sim_cache *c, uint64_t line)
{
    c->st.accesses++;
    if (promote(c, set_of(c, line), tag_of(c, line))) {
        c->st.hits++;
        return 0;
    }
    c->st.misses++;
    if (c->prefetch) {
        prefetch_line(c, line + 1);
    }
    return 1;
}

/* The first and last line numbers of a non-empty range. */
static void line_range(const struct sim_cache *c, uint64_t addr, uint64_t len, uint64_t *first,
                       uint64_t *last)
{
    HO_ASSERT(addr + len - 1 >= addr, "range at %llu of %llu bytes wraps around",
              (unsigned long long)addr, (unsigned long long)len);
    *first = addr >> c->line_bits;
    *last = (addr + len - 1) >> c->line_bits;
}

int sim_cache_create(const struct sim_cache_params *p, struct sim_cache **out)
{
    if (p == NULL || p->ways == 0 || p->ways > SIM_CACHE_MAX_WAYS || !is_pow2(p->line_bytes) ||
        p->line_bytes < 4 || p->line_bytes > 4096) {
        return HO_EINVAL;
    }
    uint64_t set_bytes = (uint64_t)p->ways * p->line_bytes;
    if (p->size_bytes == 0 || p->size_bytes % set_bytes != 0 ||
        !is_pow2(p->size_bytes / set_bytes)) {
        return HO_EINVAL;
    }
    uint64_t sets = p->size_bytes / set_bytes;
    if (sets > (UINT64_C(1) << 26)) {
        return HO_EINVAL; /* far beyond any cache the simulator models */
    }
    struct sim_cache *c = calloc(1, sizeof *c);
    if (c == NULL) {
        return HO_ENOMEM;
    }
    /* Aligned so that a 16-way set is one host cache line rather than straddling two. */
    size_t bytes = (size_t)sets * p->ways * sizeof *c->tags;
    c->tags = aligned_alloc(64, (bytes + 63) / 64 * 64);
    if (c->tags == NULL) {
        free(c);
        return HO_ENOMEM;
    }
    memset(c->tags, 0, bytes);
    c->ways = p->ways;
    c->set_bits = log2_exact(sets);
    c->set_mask = sets - 1;
    c->line_bits = log2_exact(p->line_bytes);
    c->prefetch = p->next_line_prefetch;
    *out = c;
    return HO_OK;
}

void sim_cache_destroy(struct sim_cache *c)
{
    if (c == NULL) {
        return;
    }
    free(c->tags);
    free(c);
}

uint32_t sim_cache_access(struct sim_cache *c, uint64_t addr, uint64_t len)
{
    if (len == 0) {
        return 0;
    }
    uint64_t first, last;
    line_range(c, addr, len, &first, &last);
    uint32_t misses = 0;
    for (uint64_t line = first; line <= last; line++) {
        misses += touch_line(c, line);
    }
    return misses;
}

uint32_t sim_cache_access2(struct sim_cache *l1, struct sim_cache *l2, uint64_t addr, uint64_t len,
                           uint32_t *l1_misses)
{
    HO_ASSERT(l1->line_bits == l2->line_bits, "levels with different line sizes");
    uint32_t m1 = 0, m2 = 0;
    if (len > 0) {
        uint64_t first, last;
        line_range(l1, addr, len, &first, &last);
        for (uint64_t line = first; line <= last; line++) {
            if (touch_line(l1, line)) {
                m1++;
                m2 += touch_line(l2, line);
            }
        }
    }
    if (l1_misses != NULL) {
        *l1_misses = m1;
    }
    return m2;
}

uint32_t sim_cache_invalidate(struct sim_cache *c, uint64_t addr, uint64_t len)
{
    if (len == 0) {
        return 0;
    }
    uint64_t first, last;
    line_range(c, addr, len, &first, &last);
    uint32_t removed = 0;
    for (uint64_t line = first; line <= last; line++) {
        uint32_t *w = set_of(c, line);
        uint32_t k = find(c, w, tag_of(c, line));
        if (k < c->ways) {
            memmove(w + k, w + k + 1, (c->ways - 1 - k) * sizeof *w);
            w[c->ways - 1] = EMPTY;
            removed++;
        }
    }
    c->st.invalidations += removed;
    return removed;
}

bool sim_cache_contains(const struct sim_cache *c, uint64_t addr)
{
    uint64_t line = addr >> c->line_bits;
    return find(c, set_of(c, line), tag_of(c, line)) < c->ways;
}

void sim_cache_flush(struct sim_cache *c)
{
    memset(c->tags, 0, (size_t)(c->set_mask + 1) * c->ways * sizeof *c->tags);
}

void sim_cache_stats(const struct sim_cache *c, struct sim_cache_stats *st)
{
    *st = c->st;
}

void sim_cache_reset_stats(struct sim_cache *c)
{
    memset(&c->st, 0, sizeof c->st);
}
