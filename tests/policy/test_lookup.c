/*
 * test_lookup.c - the NIC lookup table: contract cases, the hash, clusters that wrap around the
 * bucket array, and long random runs checked against a direct-indexed reference model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "handoff/err.h"
#include "handoff/lookup.h"
#include "handoff/rng.h"

#define SERVER_IP 0x0a000001u /* 10.0.0.1 */

static struct ho_lookup *make_table(uint32_t capacity, uint64_t seed)
{
    const struct ho_lookup_params p = {.capacity = capacity, .hash_seed = seed};
    struct ho_lookup *t = ho_lookup_create(&p);
    assert_non_null(t);
    return t;
}

/* A connection to the server's port 80 from client 192.168.x.y:port. */
static struct tcpe_tuple conn(uint32_t client_ip, uint16_t client_port)
{
    return (struct tcpe_tuple){.local_ip = SERVER_IP,
                               .remote_ip = client_ip,
                               .local_port = 80,
                               .remote_port = client_port};
}

/*
 * A universe of n distinct tuples shaped like a server's traffic: two server addresses, ports 80
 * and 443, clients from one /16, distinct client ports. Low-entropy keys like these are what a
 * weak hash clusters.
 */
static struct tcpe_tuple *make_universe(uint32_t n, struct ho_rng *r)
{
    assert_true(n <= 60000);
    struct tcpe_tuple *u = calloc(n, sizeof(*u));
    assert_non_null(u);
    for (uint32_t i = 0; i < n; i++) {
        u[i].local_ip = SERVER_IP + (i % 2);
        u[i].local_port = (i % 3 == 0) ? 443 : 80;
        u[i].remote_ip = 0xc0a80000u | (uint32_t)ho_rng_below(r, 1u << 16);
        u[i].remote_port = (uint16_t)(1024 + i);
    }
    return u;
}

static void test_create_rejects_bad_params(void **state)
{
    (void)state;
    assert_null(ho_lookup_create(NULL));
    const struct ho_lookup_params zero = {.capacity = 0, .hash_seed = 1};
    assert_null(ho_lookup_create(&zero));
    const struct ho_lookup_params huge = {.capacity = HO_LOOKUP_MAX_CAPACITY + 1, .hash_seed = 1};
    assert_null(ho_lookup_create(&huge));
    assert_int_equal(ho_lookup_footprint(0), 0);
    assert_int_equal(ho_lookup_footprint(HO_LOOKUP_MAX_CAPACITY + 1), 0);
    /* 2^25 buckets of 16 bytes, plus a header. */
    assert_true(ho_lookup_footprint(HO_LOOKUP_MAX_CAPACITY) > ((size_t)1 << 29));
    assert_true(ho_lookup_footprint(HO_LOOKUP_MAX_CAPACITY) < ((size_t)1 << 29) + 4096);
}

static void test_bucket_array_is_power_of_two_at_least_twice_capacity(void **state)
{
    (void)state;
    const uint32_t caps[] = {1, 2, 3, 4, 5, 1000, 1024, 1025, 4096};
    const uint32_t want[] = {2, 4, 8, 8, 16, 2048, 2048, 4096, 8192};
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        struct ho_lookup *t = make_table(caps[i], 7);
        assert_int_equal(ho_lookup_buckets(t), want[i]);
        assert_int_equal(ho_lookup_capacity(t), caps[i]);
        assert_int_equal(ho_lookup_count(t), 0);
        assert_true(ho_lookup_footprint(caps[i]) >= (size_t)want[i] * 16);
        ho_lookup_destroy(t);
    }
    ho_lookup_destroy(NULL);
}

static void test_insert_find_remove(void **state)
{
    (void)state;
    struct ho_lookup *t = make_table(16, 1);
    const struct tcpe_tuple a = conn(0xc0a80101u, 40000);
    const struct tcpe_tuple b = conn(0xc0a80101u, 40001);
    assert_int_equal(ho_lookup_find(t, &a), HO_ENOENT);
    assert_int_equal(ho_lookup_insert(t, &a, 0), HO_OK);
    assert_int_equal(ho_lookup_insert(t, &b, HO_LOOKUP_MAX_VALUE), HO_OK);
    assert_int_equal(ho_lookup_count(t), 2);
    assert_int_equal(ho_lookup_find(t, &a), 0);
    assert_int_equal(ho_lookup_find(t, &b), (int)HO_LOOKUP_MAX_VALUE);
    assert_int_equal(ho_lookup_remove(t, &a), 0);
    assert_int_equal(ho_lookup_find(t, &a), HO_ENOENT);
    assert_int_equal(ho_lookup_remove(t, &a), HO_ENOENT);
    assert_int_equal(ho_lookup_find(t, &b), (int)HO_LOOKUP_MAX_VALUE);
    assert_int_equal(ho_lookup_count(t), 1);
    assert_int_equal(ho_lookup_validate(t), HO_OK);
    ho_lookup_destroy(t);
}

static void test_every_field_is_part_of_the_key(void **state)
{
    (void)state;
    struct ho_lookup *t = make_table(8, 2);
    const struct tcpe_tuple k = {.local_ip = 1, .remote_ip = 2, .local_port = 3, .remote_port = 4};
    assert_int_equal(ho_lookup_insert(t, &k, 9), HO_OK);
    struct tcpe_tuple v[4] = {k, k, k, k};
    v[0].local_ip ^= 1;
    v[1].remote_ip ^= 1;
    v[2].local_port ^= 1;
    v[3].remote_port ^= 1;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(ho_lookup_find(t, &v[i]), HO_ENOENT);
    }
    /* Swapping the two sides names another connection. */
    const struct tcpe_tuple swapped = {
        .local_ip = 2, .remote_ip = 1, .local_port = 4, .remote_port = 3};
    assert_int_equal(ho_lookup_find(t, &swapped), HO_ENOENT);
    assert_int_equal(ho_lookup_find(t, &k), 9);
    ho_lookup_destroy(t);
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    struct ho_lookup *t = make_table(4, 3);
    const struct tcpe_tuple a = conn(1, 1);
    assert_int_equal(ho_lookup_insert(NULL, &a, 1), HO_EINVAL);
    assert_int_equal(ho_lookup_insert(t, NULL, 1), HO_EINVAL);
    assert_int_equal(ho_lookup_insert(t, &a, HO_LOOKUP_MAX_VALUE + 1), HO_EINVAL);
    assert_int_equal(ho_lookup_insert(t, &a, UINT32_MAX), HO_EINVAL);
    assert_int_equal(ho_lookup_find(NULL, &a), HO_EINVAL);
    assert_int_equal(ho_lookup_find(t, NULL), HO_EINVAL);
    assert_int_equal(ho_lookup_remove(NULL, &a), HO_EINVAL);
    assert_int_equal(ho_lookup_remove(t, NULL), HO_EINVAL);
    assert_int_equal(ho_lookup_validate(NULL), HO_EINVAL);
    assert_int_equal(ho_lookup_count(t), 0);
    ho_lookup_destroy(t);
}

static void test_duplicate_is_refused_and_keeps_old_value(void **state)
{
    (void)state;
    struct ho_lookup *t = make_table(2, 4);
    const struct tcpe_tuple a = conn(5, 5);
    const struct tcpe_tuple b = conn(6, 6);
    assert_int_equal(ho_lookup_insert(t, &a, 10), HO_OK);
    assert_int_equal(ho_lookup_insert(t, &a, 11), HO_EEXIST);
    assert_int_equal(ho_lookup_find(t, &a), 10);
    assert_int_equal(ho_lookup_count(t), 1);
    /* Full table: a duplicate is still reported as a duplicate. */
    assert_int_equal(ho_lookup_insert(t, &b, 12), HO_OK);
    assert_int_equal(ho_lookup_insert(t, &a, 13), HO_EEXIST);
    assert_int_equal(ho_lookup_insert(t, &b, 13), HO_EEXIST);
    assert_int_equal(ho_lookup_count(t), 2);
    struct ho_lookup_stats s;
    ho_lookup_get_stats(t, &s);
    assert_int_equal(s.inserts, 2);
    assert_int_equal(s.failed, 3);
    ho_lookup_destroy(t);
}

static void test_capacity_is_a_hard_limit(void **state)
{
    (void)state;
    const uint32_t cap = 100;
    struct ho_lookup *t = make_table(cap, 5);
    for (uint32_t i = 0; i < cap; i++) {
        const struct tcpe_tuple k = conn(0xc0a80000u + i, (uint16_t)(2000 + i));
        assert_int_equal(ho_lookup_insert(t, &k, i), HO_OK);
    }
    assert_int_equal(ho_lookup_count(t), cap);
    const struct tcpe_tuple extra = conn(0x01020304u, 9);
    assert_int_equal(ho_lookup_insert(t, &extra, 1), HO_ENOSPC);
    assert_int_equal(ho_lookup_find(t, &extra), HO_ENOENT);
    assert_int_equal(ho_lookup_count(t), cap);
    /* One leaves, one more fits; then full again. */
    const struct tcpe_tuple first = conn(0xc0a80000u, 2000);
    assert_int_equal(ho_lookup_remove(t, &first), 0);
    assert_int_equal(ho_lookup_insert(t, &extra, 777), HO_OK);
    assert_int_equal(ho_lookup_insert(t, &first, 0), HO_ENOSPC);
    assert_int_equal(ho_lookup_find(t, &extra), 777);
    for (uint32_t i = 1; i < cap; i++) {
        const struct tcpe_tuple k = conn(0xc0a80000u + i, (uint16_t)(2000 + i));
        assert_int_equal(ho_lookup_find(t, &k), (int)i);
    }
    assert_int_equal(ho_lookup_validate(t), HO_OK);
    ho_lookup_destroy(t);
}

static void test_capacity_one(void **state)
{
    (void)state;
    struct ho_lookup *t = make_table(1, 6);
    const struct tcpe_tuple a = conn(1, 1);
    const struct tcpe_tuple b = conn(2, 2);
    for (int round = 0; round < 100; round++) {
        const struct tcpe_tuple *in = (round % 2) ? &a : &b;
        const struct tcpe_tuple *out = (round % 2) ? &b : &a;
        assert_int_equal(ho_lookup_insert(t, in, (uint32_t)round), HO_OK);
        assert_int_equal(ho_lookup_insert(t, out, 0), HO_ENOSPC);
        assert_int_equal(ho_lookup_find(t, in), round);
        assert_int_equal(ho_lookup_find(t, out), HO_ENOENT);
        assert_int_equal(ho_lookup_remove(t, in), round);
        assert_int_equal(ho_lookup_count(t), 0);
    }
    ho_lookup_destroy(t);
}

static void test_remove_then_reinsert(void **state)
{
    (void)state;
    struct ho_lookup *t = make_table(64, 7);
    struct tcpe_tuple k[40];
    for (uint32_t i = 0; i < 40; i++) {
        k[i] = conn(0xc0a80a00u + i, 50000);
        assert_int_equal(ho_lookup_insert(t, &k[i], i), HO_OK);
    }
    /* Every key leaves and comes back with a new slot; the others are never disturbed. */
    for (uint32_t i = 0; i < 40; i++) {
        assert_int_equal(ho_lookup_remove(t, &k[i]), (int)i);
        assert_int_equal(ho_lookup_find(t, &k[i]), HO_ENOENT);
        assert_int_equal(ho_lookup_insert(t, &k[i], 1000 + i), HO_OK);
        for (uint32_t j = 0; j < 40; j++) {
            assert_int_equal(ho_lookup_find(t, &k[j]), (int)(j <= i ? 1000 + j : j));
        }
    }
    assert_int_equal(ho_lookup_count(t), 40);
    assert_int_equal(ho_lookup_validate(t), HO_OK);
    ho_lookup_destroy(t);
}

static void test_key_from_received_segment(void **state)
{
    (void)state;
    struct ho_lookup *t = make_table(8, 8);
    /* The server's view of a handed-off connection: 10.0.0.1:80 <-> 192.168.1.77:51234. */
    const struct tcpe_tuple server_side = conn(0xc0a8014du, 51234);
    assert_int_equal(ho_lookup_insert(t, &server_side, 3), HO_OK);
    /* The client's segment on the wire: source is the client, destination the server. */
    const struct tcpe_seg from_client = {.src_ip = 0xc0a8014du,
                                         .dst_ip = SERVER_IP,
                                         .src_port = 51234,
                                         .dst_port = 80,
                                         .flags = TCPE_ACK};
    const struct tcpe_tuple key = ho_lookup_key_from_rx(&from_client);
    assert_int_equal(key.local_ip, SERVER_IP);
    assert_int_equal(key.remote_ip, 0xc0a8014du);
    assert_int_equal(key.local_port, 80);
    assert_int_equal(key.remote_port, 51234);
    assert_int_equal(ho_lookup_find(t, &key), 3);
    /* The server's own segment, read as if received, names the mirror tuple: a miss. */
    const struct tcpe_seg from_server = {
        .src_ip = SERVER_IP, .dst_ip = 0xc0a8014du, .src_port = 80, .dst_port = 51234};
    const struct tcpe_tuple mirror = ho_lookup_key_from_rx(&from_server);
    assert_int_equal(ho_lookup_find(t, &mirror), HO_ENOENT);
    ho_lookup_destroy(t);
}

/*
 * The hash is SipHash-1-3 over the little-endian tuple, keyed by ho_rng's first two outputs.
 * Expected values computed independently with OpenSSL 3's SIPHASH MAC (c-rounds 1, d-rounds 3,
 * size 8; its 8 output bytes are the little-endian hash):
 *   seed 1:  key c510c70f6daff2b3ea4c364796553b85, message 0100000a4d01a8c0500022c8
 *   seed 42: key 16c72e0c2e0b78157e3a116d86d90461, message ffffffff00000000ffff0100
 */
static void test_hash_matches_siphash13(void **state)
{
    (void)state;
    struct ho_lookup *t1 = make_table(4, 1);
    const struct tcpe_tuple a = conn(0xc0a8014du, 51234);
    assert_true(ho_lookup_hash(t1, &a) == 0x3abf93505dfcd66cULL);
    struct ho_lookup *t42 = make_table(4, 42);
    const struct tcpe_tuple b = {
        .local_ip = 0xffffffffu, .remote_ip = 0, .local_port = 0xffff, .remote_port = 1};
    assert_true(ho_lookup_hash(t42, &b) == 0x8650c56121967639ULL);
    /* A different seed gives a different function. */
    assert_true(ho_lookup_hash(t42, &a) != ho_lookup_hash(t1, &a));
    ho_lookup_destroy(t1);
    ho_lookup_destroy(t42);
}

/* Sequential client ports from one client, the most regular keys there are, spread evenly. */
static void test_hash_spreads_regular_keys(void **state)
{
    (void)state;
    struct ho_lookup *t = make_table(512, 9); /* 1024 buckets */
    const uint32_t nb = ho_lookup_buckets(t);
    assert_int_equal(nb, 1024);
    uint32_t *hist = calloc(nb, sizeof(*hist));
    assert_non_null(hist);
    const uint32_t n = 65536; /* 64 a bucket on average, standard deviation 8 */
    for (uint32_t i = 0; i < n; i++) {
        const struct tcpe_tuple k = conn(0xc0a80001u, (uint16_t)i);
        hist[ho_lookup_hash(t, &k) & (nb - 1)]++;
    }
    double chi2 = 0;
    for (uint32_t b = 0; b < nb; b++) {
        assert_in_range(hist[b], 64 - 48, 64 + 48); /* 6 standard deviations */
        chi2 += ((double)hist[b] - 64.0) * ((double)hist[b] - 64.0) / 64.0;
    }
    /* 1023 degrees of freedom: mean 1023, standard deviation about 45. */
    assert_true(chi2 > 1023 - 6 * 45 && chi2 < 1023 + 6 * 45);
    free(hist);
    ho_lookup_destroy(t);
}

static void test_probe_counts(void **state)
{
    (void)state;
    struct ho_lookup *t = make_table(4, 10);
    assert_int_equal(ho_lookup_last_probes(t), 0);
    const struct tcpe_tuple a = conn(1, 1);
    /* Empty table: one bucket examined, found empty. */
    assert_int_equal(ho_lookup_find(t, &a), HO_ENOENT);
    assert_int_equal(ho_lookup_last_probes(t), 1);
    assert_int_equal(ho_lookup_insert(t, &a, 1), HO_OK);
    assert_int_equal(ho_lookup_last_probes(t), 1);
    assert_int_equal(ho_lookup_find(t, &a), 1);
    assert_int_equal(ho_lookup_last_probes(t), 1);
    /* A lone entry: its own bucket plus the empty one that ends the cluster. */
    assert_int_equal(ho_lookup_remove(t, &a), 1);
    assert_int_equal(ho_lookup_last_probes(t), 2);
    struct ho_lookup_stats s;
    ho_lookup_get_stats(t, &s);
    assert_int_equal(s.finds, 2);
    assert_int_equal(s.find_hits, 1);
    assert_int_equal(s.find_probes, 2);
    assert_int_equal(s.inserts, 1);
    assert_int_equal(s.removes, 1);
    assert_int_equal(s.update_probes, 3);
    assert_int_equal(s.max_probes, 2);
    assert_int_equal(s.shifts, 0);
    ho_lookup_reset_stats(t);
    ho_lookup_get_stats(t, &s);
    assert_int_equal(s.finds + s.find_probes + s.update_probes + s.max_probes, 0);
    ho_lookup_destroy(t);
}

/*
 * Finds up to n tuples whose home bucket is `home`, by trying client ports in order starting
 * at *next_port. Returns how many it found.
 */
static uint32_t keys_with_home(const struct ho_lookup *t, uint32_t home, struct tcpe_tuple *out,
                               uint32_t n, uint32_t *next_port)
{
    const uint32_t mask = ho_lookup_buckets(t) - 1;
    uint32_t got = 0;
    while (got < n && *next_port < 65536) {
        const struct tcpe_tuple k = conn(0xc0a80202u, (uint16_t)*next_port);
        (*next_port)++;
        if ((ho_lookup_hash(t, &k) & mask) == home) {
            out[got++] = k;
        }
    }
    return got;
}

/*
 * A cluster that wraps from the last bucket to the first: three keys homed at the last bucket,
 * two at bucket 0, one at bucket 1. Removing any one of them, in any position, must leave the
 * others reachable; this is where a backward shift that mishandles the wrap goes wrong.
 */
static void test_cluster_wrapping_the_array(void **state)
{
    (void)state;
    struct ho_lookup *t = make_table(8, 11); /* 16 buckets */
    const uint32_t last = ho_lookup_buckets(t) - 1;
    struct tcpe_tuple k[6];
    uint32_t port = 1;
    assert_int_equal(keys_with_home(t, last, &k[0], 3, &port), 3);
    port = 1;
    assert_int_equal(keys_with_home(t, 0, &k[3], 2, &port), 2);
    port = 1;
    assert_int_equal(keys_with_home(t, 1, &k[5], 1, &port), 1);

    for (int victim = 0; victim < 6; victim++) {
        /* Insert in an order that makes the cluster span buckets 15, 0, 1, 2, 3, 4. */
        for (uint32_t i = 0; i < 6; i++) {
            assert_int_equal(ho_lookup_insert(t, &k[i], i), HO_OK);
        }
        assert_int_equal(ho_lookup_validate(t), HO_OK);
        /* The key homed at bucket 1 sits at the cluster's end, bucket 4: four probes. */
        assert_int_equal(ho_lookup_find(t, &k[5]), 5);
        assert_int_equal(ho_lookup_last_probes(t), 4);
        assert_int_equal(ho_lookup_remove(t, &k[victim]), victim);
        assert_int_equal(ho_lookup_validate(t), HO_OK);
        for (int i = 0; i < 6; i++) {
            assert_int_equal(ho_lookup_find(t, &k[i]), i == victim ? HO_ENOENT : i);
        }
        for (int i = 0; i < 6; i++) {
            if (i != victim) {
                assert_int_equal(ho_lookup_remove(t, &k[i]), i);
                assert_int_equal(ho_lookup_validate(t), HO_OK);
            }
        }
        assert_int_equal(ho_lookup_count(t), 0);
    }
    ho_lookup_destroy(t);
}

/*
 * One random run against the reference model: ref_present[i] and ref_value[i] say what the
 * table should map universe[i] to. Phases alternate between filling (inserts dominate, so the
 * table runs into its capacity) and draining (removes dominate). After a successful removal,
 * every check_every-th time, every key of the universe is looked up and the table's invariants
 * are checked.
 */
struct outcome_counts {
    uint64_t ok, eexist, enospc, hit, miss, removed, remove_miss;
};

static void random_run(uint32_t capacity, uint32_t universe_size, uint32_t ops, uint64_t seed,
                       uint32_t check_every, struct outcome_counts *c)
{
    struct ho_rng r;
    ho_rng_seed_named(&r, seed, "lookup-test");
    struct tcpe_tuple *u = make_universe(universe_size, &r);
    uint8_t *ref_present = calloc(universe_size, 1);
    uint32_t *ref_value = calloc(universe_size, sizeof(uint32_t));
    assert_non_null(ref_present);
    assert_non_null(ref_value);
    uint32_t ref_count = 0;
    uint64_t finds = 0, hits = 0;
    struct ho_lookup *t = make_table(capacity, ho_rng_next(&r));

    for (uint32_t op = 0; op < ops; op++) {
        const int filling = (op / 20000) % 2 == 0;
        const uint32_t i = (uint32_t)ho_rng_below(&r, universe_size);
        const uint32_t dice = (uint32_t)ho_rng_below(&r, 100);
        const uint32_t p_insert = filling ? 50 : 15;
        const uint32_t p_remove = filling ? 15 : 50;
        if (dice < p_insert) {
            const uint32_t v = (uint32_t)ho_rng_below(&r, (uint64_t)HO_LOOKUP_MAX_VALUE + 1);
            const int rc = ho_lookup_insert(t, &u[i], v);
            if (ref_present[i]) {
                assert_int_equal(rc, HO_EEXIST);
                c->eexist++;
            } else if (ref_count == capacity) {
                assert_int_equal(rc, HO_ENOSPC);
                c->enospc++;
            } else {
                assert_int_equal(rc, HO_OK);
                ref_present[i] = 1;
                ref_value[i] = v;
                ref_count++;
                c->ok++;
            }
        } else if (dice < p_insert + p_remove) {
            const int rc = ho_lookup_remove(t, &u[i]);
            if (!ref_present[i]) {
                assert_int_equal(rc, HO_ENOENT);
                c->remove_miss++;
                continue;
            }
            assert_int_equal(rc, (int)ref_value[i]);
            ref_present[i] = 0;
            ref_count--;
            c->removed++;
            if (c->removed % check_every == 0) {
                assert_int_equal(ho_lookup_validate(t), HO_OK);
                for (uint32_t j = 0; j < universe_size; j++) {
                    const int want = ref_present[j] ? (int)ref_value[j] : HO_ENOENT;
                    assert_int_equal(ho_lookup_find(t, &u[j]), want);
                    finds++;
                    hits += ref_present[j];
                }
            }
        } else {
            const int rc = ho_lookup_find(t, &u[i]);
            finds++;
            if (ref_present[i]) {
                assert_int_equal(rc, (int)ref_value[i]);
                hits++;
                c->hit++;
            } else {
                assert_int_equal(rc, HO_ENOENT);
                c->miss++;
            }
        }
        assert_int_equal(ho_lookup_count(t), ref_count);
    }

    assert_int_equal(ho_lookup_validate(t), HO_OK);
    struct ho_lookup_stats s;
    ho_lookup_get_stats(t, &s);
    assert_int_equal(s.finds, finds);
    assert_int_equal(s.find_hits, hits);
    assert_int_equal(s.inserts, c->ok);
    assert_int_equal(s.removes, c->removed);
    assert_int_equal(s.failed, c->eexist + c->enospc + c->remove_miss);
    /*
     * Load factor at most 1/2: linear probing averages about 1.5 buckets on a hit and 2.5 on a
     * miss. A hash that clusters these regular keys, or a deletion that leaves debris, would
     * show here.
     */
    const double mean_find = (double)s.find_probes / (double)s.finds;
    assert_true(mean_find >= 1.0 && mean_find < 2.6);
    /* No cluster holds more than capacity entries: a find examines at most capacity + 1
     * buckets, and so does a removal (the search plus the rest of the cluster). */
    assert_true(s.max_probes <= capacity + 1);

    ho_lookup_destroy(t);
    free(ref_value);
    free(ref_present);
    free(u);
}

static void assert_all_outcomes_common(const struct outcome_counts *c, uint64_t floor)
{
    assert_true(c->ok > floor);
    assert_true(c->eexist > floor);
    assert_true(c->enospc > floor);
    assert_true(c->hit > floor);
    assert_true(c->miss > floor);
    assert_true(c->removed > floor);
    assert_true(c->remove_miss > floor);
}

/* The big one: 2.5 million operations over two table shapes. */
static void test_random_against_reference(void **state)
{
    (void)state;
    struct outcome_counts c1 = {0};
    random_run(1024, 3000, 1500000, 20240601, 64, &c1);
    assert_all_outcomes_common(&c1, 20000);
    struct outcome_counts c2 = {0};
    random_run(1500, 4000, 1000000, 77, 64, &c2);
    assert_all_outcomes_common(&c2, 20000);
}

/* Tiny tables, where nearly every key collides: full check after every single removal. */
static void test_random_tiny_tables(void **state)
{
    (void)state;
    const uint32_t caps[] = {1, 2, 3, 5, 8};
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        struct outcome_counts c = {0};
        random_run(caps[i], 3 * caps[i] + 2, 40000, 1000 + i, 1, &c);
        assert_true(c.removed > 1000);
        assert_true(c.enospc > 100);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_rejects_bad_params),
        cmocka_unit_test(test_bucket_array_is_power_of_two_at_least_twice_capacity),
        cmocka_unit_test(test_insert_find_remove),
        cmocka_unit_test(test_every_field_is_part_of_the_key),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_duplicate_is_refused_and_keeps_old_value),
        cmocka_unit_test(test_capacity_is_a_hard_limit),
        cmocka_unit_test(test_capacity_one),
        cmocka_unit_test(test_remove_then_reinsert),
        cmocka_unit_test(test_key_from_received_segment),
        cmocka_unit_test(test_hash_matches_siphash13),
        cmocka_unit_test(test_hash_spreads_regular_keys),
        cmocka_unit_test(test_probe_counts),
        cmocka_unit_test(test_cluster_wrapping_the_array),
        cmocka_unit_test(test_random_tiny_tables),
        cmocka_unit_test(test_random_against_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
