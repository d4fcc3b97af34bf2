/*
 * lookup.c - the NIC lookup layer: a 4-tuple -> connection slot hash table (see
 * include/handoff/lookup.h for the contract and the design).
 *
 * The NIC firmware calls ho_lookup_find() for every received segment, ho_lookup_insert() when it
 * accepts a handoff and ho_lookup_remove() when a connection on the NIC ends or is restored to
 * the host.
 *
 * Layout: one allocation, the table header followed by a power-of-two array of 16-byte buckets,
 * each holding a tuple and its value inline (no pointers to chase, four buckets per 64-byte
 * line). A bucket is empty when its value is HO_LOOKUP_EMPTY, which no valid value can equal.
 * Buckets do not store the hash: the removal's backward shift recomputes the home bucket of each
 * entry it considers, which keeps a bucket at 16 bytes and moves the cost to removals, which
 * are off the packet path.
 *
 * Invariant (linear probing): every entry sits in its home bucket or after it, with no empty
 * bucket between its home and itself, walking forward and wrapping at the end of the array.
 * find() relies on it to stop at the first empty bucket; remove() restores it by shifting back.
 */
#include <stdlib.h>

#include "handoff/err.h"
#include "handoff/lookup.h"
#include "handoff/rng.h"

/* Marks an empty bucket; above HO_LOOKUP_MAX_VALUE, so never a stored value. */
#define HO_LOOKUP_EMPTY UINT32_MAX

struct ho_lookup_bucket {
    struct tcpe_tuple key; /* 12 bytes: the tuple, server side local */
    uint32_t value;        /* connection slot, or HO_LOOKUP_EMPTY */
};

struct ho_lookup {
    uint64_t k0, k1;              /* SipHash key, derived from params.hash_seed */
    uint32_t capacity;            /* Hard limit: most entries held */
    uint32_t mask;                /* buckets - 1 */
    uint32_t count;               /* entries held */
    uint32_t last_probes;         /* buckets examined by the last operation */
    struct ho_lookup_stats stats; /* cumulative counters */
    struct ho_lookup_bucket bucket[];
};

/* ---- SipHash-1-3 ------------------------------------------------------------------------- */

static uint64_t rotl64(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

/* One SipRound (Aumasson and Bernstein 2012, section 2). */
static void sipround(uint64_t v[4])
{
    v[0] += v[1];
    v[1] = rotl64(v[1], 13);
    v[1] ^= v[0];
    v[0] = rotl64(v[0], 32);
    v[2] += v[3];
    v[3] = rotl64(v[3], 16);
    v[3] ^= v[2];
    v[0] += v[3];
    v[3] = rotl64(v[3], 21);
    v[3] ^= v[0];
    v[2] += v[1];
    v[1] = rotl64(v[1], 17);
    v[1] ^= v[2];
    v[2] = rotl64(v[2], 32);
}

/*
 * SipHash-1-3 of the fixed 12-byte message described in lookup.h. The message is one full
 * 8-byte word (local_ip, remote_ip) and a final word carrying the last 4 bytes (local_port,
 * remote_port) with the message length, 12, in its top byte, as the algorithm pads. Reading
 * the fields as little-endian words is what lets the tuple be hashed without serializing it.
 */
static uint64_t siphash13_tuple(uint64_t k0, uint64_t k1, const struct tcpe_tuple *key)
{
    const uint64_t m0 = (uint64_t)key->local_ip | ((uint64_t)key->remote_ip << 32);
    const uint64_t m1 =
        (uint64_t)key->local_port | ((uint64_t)key->remote_port << 16) | ((uint64_t)12 << 56);
    uint64_t v[4] = {
        k0 ^ 0x736f6d6570736575ULL, /* "somepseu" */
        k1 ^ 0x646f72616e646f6dULL, /* "dorandom" */
        k0 ^ 0x6c7967656e657261ULL, /* "lygenera" */
        k1 ^ 0x7465646279746573ULL, /* "tedbytes" */
    };

    v[3] ^= m0;
    sipround(v); /* c = 1 compression round per word */
    v[0] ^= m0;
    v[3] ^= m1;
    sipround(v);
    v[0] ^= m1;
    v[2] ^= 0xff;
    sipround(v); /* d = 3 finalization rounds */
    sipround(v);
    sipround(v);
    return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* ---- helpers ----------------------------------------------------------------------------- */

static int tuple_equal(const struct tcpe_tuple *a, const struct tcpe_tuple *b)
{
    return a->local_ip == b->local_ip && a->remote_ip == b->remote_ip &&
           a->local_port == b->local_port && a->remote_port == b->remote_port;
}

static int bucket_empty(const struct ho_lookup_bucket *b)
{
    return b->value == HO_LOOKUP_EMPTY;
}

static uint32_t home_of(const struct ho_lookup *t, const struct tcpe_tuple *key)
{
    return (uint32_t)siphash13_tuple(t->k0, t->k1, key) & t->mask;
}

/* Smallest power of two >= 2 x capacity; capacity is already checked against the maximum. */
static uint32_t buckets_for(uint32_t capacity)
{
    uint32_t n = 2;
    while (n < 2 * capacity) {
        n <<= 1;
    }
    return n;
}

static int capacity_valid(uint32_t capacity)
{
    return capacity >= 1 && capacity <= HO_LOOKUP_MAX_CAPACITY;
}

/* Records the buckets examined by one operation. */
static void note_probes(struct ho_lookup *t, uint32_t probes, uint64_t *counter)
{
    t->last_probes = probes;
    *counter += probes;
    if (probes > t->stats.max_probes) {
        t->stats.max_probes = probes;
    }
}

/*
 * Walks the probe sequence of key from its home bucket. Returns the index of the bucket holding
 * key, or of the first empty bucket if key is absent (there always is one: at most half the
 * buckets are full). *found says which; *probes counts the buckets examined.
 */
static uint32_t probe(const struct ho_lookup *t, const struct tcpe_tuple *key, int *found,
                      uint32_t *probes)
{
    uint32_t i = home_of(t, key);
    uint32_t n = 1;
    for (;;) {
        const struct ho_lookup_bucket *b = &t->bucket[i];
        if (bucket_empty(b)) {
            *found = 0;
            break;
        }
        if (tuple_equal(&b->key, key)) {
            *found = 1;
            break;
        }
        i = (i + 1) & t->mask;
        n++;
    }
    *probes = n;
    return i;
}

/*
 * Empties bucket hole and closes the gap (Knuth, TAOCP vol. 3, 6.4, Algorithm R): walk the rest
 * of the cluster; an entry whose home is not cyclically in (hole, j] would become unreachable
 * across the hole, so it moves into the hole and its old bucket becomes the new hole. Stops at
 * the first empty bucket, the end of the cluster. Returns the buckets examined.
 */
static uint32_t remove_at(struct ho_lookup *t, uint32_t hole)
{
    uint32_t examined = 0;
    uint32_t j = hole;
    for (;;) {
        j = (j + 1) & t->mask;
        examined++;
        struct ho_lookup_bucket *b = &t->bucket[j];
        if (bucket_empty(b)) {
            break;
        }
        const uint32_t home = home_of(t, &b->key);
        /* Distances measured forward from home, modulo the array size. */
        const uint32_t dist_to_j = (j - home) & t->mask;
        const uint32_t dist_to_hole = (hole - home) & t->mask;
        if (dist_to_hole < dist_to_j) {
            /* home lies cyclically in (j, hole]: the hole is on this entry's probe path. */
            t->bucket[hole] = *b;
            hole = j;
            t->stats.shifts++;
        }
    }
    t->bucket[hole].value = HO_LOOKUP_EMPTY;
    return examined;
}

/* ---- public API -------------------------------------------------------------------------- */

size_t ho_lookup_footprint(uint32_t capacity)
{
    if (!capacity_valid(capacity)) {
        return 0;
    }
    return sizeof(struct ho_lookup) +
           (size_t)buckets_for(capacity) * sizeof(struct ho_lookup_bucket);
}

struct ho_lookup *ho_lookup_create(const struct ho_lookup_params *params)
{
    if (params == NULL || !capacity_valid(params->capacity)) {
        return NULL;
    }
    struct ho_lookup *t = malloc(ho_lookup_footprint(params->capacity));
    if (t == NULL) {
        return NULL;
    }
    const uint32_t nbuckets = buckets_for(params->capacity);
    struct ho_rng r;
    ho_rng_seed(&r, params->hash_seed);
    t->k0 = ho_rng_next(&r);
    t->k1 = ho_rng_next(&r);
    t->capacity = params->capacity;
    t->mask = nbuckets - 1;
    t->count = 0;
    t->last_probes = 0;
    t->stats = (struct ho_lookup_stats){0};
    for (uint32_t i = 0; i < nbuckets; i++) {
        t->bucket[i] = (struct ho_lookup_bucket){.value = HO_LOOKUP_EMPTY};
    }
    return t;
}

void ho_lookup_destroy(struct ho_lookup *t)
{
    free(t);
}

int ho_lookup_insert(struct ho_lookup *t, const struct tcpe_tuple *key, uint32_t value)
{
    if (t == NULL || key == NULL || value > HO_LOOKUP_MAX_VALUE) {
        return HO_EINVAL;
    }
    int found;
    uint32_t probes;
    const uint32_t i = probe(t, key, &found, &probes);
    note_probes(t, probes, &t->stats.update_probes);
    /* A duplicate is reported before a full table: it is the more specific error. */
    if (found) {
        t->stats.failed++;
        return HO_EEXIST;
    }
    if (t->count >= t->capacity) {
        t->stats.failed++;
        return HO_ENOSPC;
    }
    t->bucket[i].key = *key;
    t->bucket[i].value = value;
    t->count++;
    t->stats.inserts++;
    return HO_OK;
}

int ho_lookup_find(struct ho_lookup *t, const struct tcpe_tuple *key)
{
    if (t == NULL || key == NULL) {
        return HO_EINVAL;
    }
    int found;
    uint32_t probes;
    const uint32_t i = probe(t, key, &found, &probes);
    t->stats.finds++;
    note_probes(t, probes, &t->stats.find_probes);
    if (!found) {
        return HO_ENOENT;
    }
    t->stats.find_hits++;
    return (int)t->bucket[i].value;
}

int ho_lookup_remove(struct ho_lookup *t, const struct tcpe_tuple *key)
{
    if (t == NULL || key == NULL) {
        return HO_EINVAL;
    }
    int found;
    uint32_t probes;
    const uint32_t i = probe(t, key, &found, &probes);
    if (!found) {
        note_probes(t, probes, &t->stats.update_probes);
        t->stats.failed++;
        return HO_ENOENT;
    }
    const int value = (int)t->bucket[i].value;
    probes += remove_at(t, i);
    note_probes(t, probes, &t->stats.update_probes);
    t->count--;
    t->stats.removes++;
    return value;
}

uint32_t ho_lookup_count(const struct ho_lookup *t)
{
    return t->count;
}

uint32_t ho_lookup_capacity(const struct ho_lookup *t)
{
    return t->capacity;
}

uint32_t ho_lookup_buckets(const struct ho_lookup *t)
{
    return t->mask + 1;
}

uint32_t ho_lookup_last_probes(const struct ho_lookup *t)
{
    return t->last_probes;
}

void ho_lookup_get_stats(const struct ho_lookup *t, struct ho_lookup_stats *out)
{
    *out = t->stats;
}

void ho_lookup_reset_stats(struct ho_lookup *t)
{
    t->stats = (struct ho_lookup_stats){0};
}

uint64_t ho_lookup_hash(const struct ho_lookup *t, const struct tcpe_tuple *key)
{
    return siphash13_tuple(t->k0, t->k1, key);
}

struct tcpe_tuple ho_lookup_key_from_rx(const struct tcpe_seg *seg)
{
    return (struct tcpe_tuple){
        .local_ip = seg->dst_ip,
        .remote_ip = seg->src_ip,
        .local_port = seg->dst_port,
        .remote_port = seg->src_port,
    };
}

int ho_lookup_validate(const struct ho_lookup *t)
{
    if (t == NULL) {
        return HO_EINVAL;
    }
    uint32_t occupied = 0;
    for (uint32_t j = 0; j <= t->mask; j++) {
        const struct ho_lookup_bucket *b = &t->bucket[j];
        if (bucket_empty(b)) {
            continue;
        }
        if (b->value > HO_LOOKUP_MAX_VALUE) {
            return HO_ESTATE;
        }
        occupied++;
        /* Every bucket from the entry's home up to the entry must be occupied. */
        for (uint32_t i = home_of(t, &b->key); i != j; i = (i + 1) & t->mask) {
            if (bucket_empty(&t->bucket[i])) {
                return HO_ESTATE;
            }
        }
    }
    if (occupied != t->count || t->count > t->capacity) {
        return HO_ESTATE;
    }
    return HO_OK;
}
