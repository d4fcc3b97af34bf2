/*
 * test_cache.c - the cache model: hand-computed hit/miss sequences on a tiny cache, LRU
 * eviction order, multi-line ranges, DMA invalidation, next-line prefetch, two levels, working
 * sets that fit and that do not, and agreement with a plain reference model on random traffic.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "handoff/err.h"
#include "handoff/rng.h"
#include "handoff/sim_cache.h"

static struct sim_cache *make(uint64_t size, uint32_t ways, uint32_t line, bool prefetch)
{
    struct sim_cache_params p = {
        .size_bytes = size, .ways = ways, .line_bytes = line, .next_line_prefetch = prefetch};
    struct sim_cache *c = NULL;
    assert_int_equal(sim_cache_create(&p, &c), HO_OK);
    return c;
}

/* 4 sets x 2 ways x 64-byte lines: line L lives in set L % 4. */
static struct sim_cache *tiny(bool prefetch)
{
    return make(512, 2, 64, prefetch);
}

#define LINE(n) ((uint64_t)(n)*64)

/* ---- hand-computed sequences --------------------------------------------------------------- */

static void test_lru_sequence_in_one_set(void **state)
{
    (void)state;
    struct sim_cache *c = tiny(false);
    /* Lines 0, 4, 8 all map to set 0 (2 ways). */
    const uint32_t lines[] = {0, 4, 0, 8, 0, 4, 8, 8, 4, 0};
    /* 0 M; 4 M; 0 H; 8 M evicts 4 (LRU); 0 H; 4 M evicts 8; 8 M evicts 0; 8 H; 4 H; 0 M evicts 8 */
    const uint32_t miss[] = {1, 1, 0, 1, 0, 1, 1, 0, 0, 1};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        if (sim_cache_access(c, LINE(lines[i]), 1) != miss[i]) {
            fail_msg("access %zu (line %u): expected %s", i, lines[i], miss[i] ? "miss" : "hit");
        }
    }
    assert_true(sim_cache_contains(c, LINE(0)));
    assert_true(sim_cache_contains(c, LINE(4)));
    assert_false(sim_cache_contains(c, LINE(8)));
    struct sim_cache_stats st;
    sim_cache_stats(c, &st);
    assert_int_equal(st.accesses, 10);
    assert_int_equal(st.misses, 6);
    assert_int_equal(st.hits, 4);
    assert_int_equal(st.prefetches, 0);
    sim_cache_destroy(c);
}

static void test_sets_are_independent(void **state)
{
    (void)state;
    struct sim_cache *c = tiny(false);
    /* Eight lines, two per set, fill the cache exactly; a second pass hits everywhere. */
    for (uint32_t l = 0; l < 8; l++) {
        assert_int_equal(sim_cache_access(c, LINE(l), 64), 1);
    }
    for (uint32_t l = 0; l < 8; l++) {
        assert_int_equal(sim_cache_access(c, LINE(l) + 63, 1), 0);
    }
    /* A ninth line in set 1 evicts line 1, the least recently used there, and nothing else. */
    assert_int_equal(sim_cache_access(c, LINE(9), 1), 1);
    assert_false(sim_cache_contains(c, LINE(1)));
    for (uint32_t l = 0; l < 8; l++) {
        if (l != 1) {
            assert_true(sim_cache_contains(c, LINE(l)));
        }
    }
    sim_cache_destroy(c);
}

static void test_ranges_cover_every_line_they_touch(void **state)
{
    (void)state;
    struct sim_cache *c = tiny(false);
    assert_int_equal(sim_cache_access(c, 32, 64), 2); /* bytes 32..95: lines 0 and 1 */
    assert_int_equal(sim_cache_access(c, 60, 8), 0);  /* bytes 60..67: same two lines */
    assert_int_equal(sim_cache_access(c, 64, 64), 0); /* exactly line 1 */
    assert_int_equal(sim_cache_access(c, 128, 0), 0); /* nothing */
    assert_int_equal(sim_cache_access(c, 127, 2), 1); /* lines 1 and 2 */
    assert_int_equal(sim_cache_access(c, 0, 512), 5); /* lines 0..7, 0-2 present */
    struct sim_cache_stats st;
    sim_cache_stats(c, &st);
    assert_int_equal(st.accesses, 2 + 2 + 1 + 2 + 8);
    assert_int_equal(st.misses, 8);
    sim_cache_destroy(c);
}

static void test_invalidate(void **state)
{
    (void)state;
    struct sim_cache *c = tiny(false);
    sim_cache_access(c, LINE(0), 1);
    sim_cache_access(c, LINE(4), 1); /* set 0: 4 most recent, 0 least */
    sim_cache_access(c, LINE(1), 1);
    assert_int_equal(sim_cache_invalidate(c, LINE(4), 64), 1);
    assert_false(sim_cache_contains(c, LINE(4)));
    /* The freed way is used first: line 8 does not evict line 0. */
    assert_int_equal(sim_cache_access(c, LINE(8), 1), 1);
    assert_true(sim_cache_contains(c, LINE(0)));
    /* A range invalidation counts only the lines present. */
    assert_int_equal(sim_cache_invalidate(c, LINE(0), LINE(3)), 2); /* lines 0..2: 0 and 1 */
    assert_int_equal(sim_cache_invalidate(c, LINE(0), LINE(3)), 0);
    assert_int_equal(sim_cache_invalidate(c, LINE(0), 0), 0);
    assert_int_equal(sim_cache_access(c, LINE(0), 1), 1); /* a DMA'd line misses again */
    struct sim_cache_stats st;
    sim_cache_stats(c, &st);
    assert_int_equal(st.invalidations, 3);
    sim_cache_destroy(c);
}

static void test_next_line_prefetch(void **state)
{
    (void)state;
    struct sim_cache *c = tiny(true);
    assert_int_equal(sim_cache_access(c, LINE(0), 1), 1);
    assert_true(sim_cache_contains(c, LINE(1))); /* brought in behind the miss */
    assert_int_equal(sim_cache_access(c, LINE(1), 1), 0);
    /* A hit does not prefetch. */
    assert_false(sim_cache_contains(c, LINE(2)));
    /* A sequential run of 8 lines misses every other line. */
    sim_cache_flush(c);
    sim_cache_reset_stats(c);
    assert_int_equal(sim_cache_access(c, 0, 512), 4);
    struct sim_cache_stats st;
    sim_cache_stats(c, &st);
    assert_int_equal(st.accesses, 8);
    assert_int_equal(st.misses, 4);
    assert_int_equal(st.prefetches, 4);
    /* A prefetch of a present line leaves LRU order alone: set 1 holds 1 (older) and 5. */
    sim_cache_flush(c);
    sim_cache_access(c, LINE(1), 1); /* miss, prefetches 2 */
    sim_cache_access(c, LINE(5), 1); /* miss, prefetches 6; set 1: 5, 1 */
    sim_cache_access(c, LINE(0), 1); /* miss, prefetch of 1 finds it present */
    sim_cache_access(c, LINE(9), 1); /* miss in set 1 evicts line 1, still the LRU */
    assert_false(sim_cache_contains(c, LINE(1)));
    assert_true(sim_cache_contains(c, LINE(5)));
    sim_cache_destroy(c);
}

static void test_two_levels(void **state)
{
    (void)state;
    struct sim_cache *l1 = make(128, 1, 64, false); /* 2 lines, direct mapped */
    struct sim_cache *l2 = tiny(false);
    uint32_t m1 = 99;
    assert_int_equal(sim_cache_access2(l1, l2, LINE(0), 128, &m1), 2); /* cold: both miss */
    assert_int_equal(m1, 2);
    assert_int_equal(sim_cache_access2(l1, l2, LINE(0), 128, &m1), 0); /* L1 hits */
    assert_int_equal(m1, 0);
    sim_cache_access2(l1, l2, LINE(2), 1, NULL); /* evicts line 0 from L1 only */
    assert_int_equal(sim_cache_access2(l1, l2, LINE(0), 1, &m1), 0); /* L1 miss, L2 hit */
    assert_int_equal(m1, 1);
    struct sim_cache_stats s1, s2;
    sim_cache_stats(l1, &s1);
    sim_cache_stats(l2, &s2);
    assert_int_equal(s1.accesses, 6);
    assert_int_equal(s1.misses, 4);
    assert_int_equal(s2.accesses, 4); /* only L1 misses reach L2 */
    assert_int_equal(s2.misses, 3);
    sim_cache_destroy(l1);
    sim_cache_destroy(l2);
}

/* ---- the paper's L2: working sets -------------------------------------------------------- */

static struct sim_cache *paper_l2(bool prefetch)
{
    return make(1 << 20, 16, 64, prefetch);
}

static uint64_t random_state_traffic(struct sim_cache *c, uint32_t conns, int accesses,
                                     uint64_t seed)
{
    struct ho_rng r;
    ho_rng_seed(&r, seed);
    uint64_t misses = 0;
    for (int i = 0; i < accesses; i++) {
        uint64_t conn = ho_rng_below(&r, conns);
        misses += sim_cache_access(c, 0x40000000 + conn * 1024, 1024);
    }
    return misses;
}

static void test_working_set_that_fits(void **state)
{
    (void)state;
    for (int prefetch = 0; prefetch <= 1; prefetch++) {
        struct sim_cache *c = paper_l2(prefetch);
        /* 512 connections x 1 KB = half the cache: 8 lines per 16-way set. */
        for (uint32_t i = 0; i < 512; i++) {
            sim_cache_access(c, 0x40000000 + (uint64_t)i * 1024, 1024);
        }
        sim_cache_reset_stats(c);
        assert_int_equal(random_state_traffic(c, 512, 20000, 1), 0);
        struct sim_cache_stats st;
        sim_cache_stats(c, &st);
        assert_int_equal(st.accesses, 20000 * 16);
        assert_int_equal(st.hits, st.accesses);
        sim_cache_destroy(c);
    }
}

static void test_working_set_that_does_not_fit(void **state)
{
    (void)state;
    struct sim_cache *c = paper_l2(false);
    /* 4096 connections x 1 KB = 4 MB: 64 lines compete for each 16-way set, so under random
     * access about 3/4 of the lines miss. */
    random_state_traffic(c, 4096, 20000, 2);
    sim_cache_reset_stats(c);
    uint64_t misses = random_state_traffic(c, 4096, 20000, 3);
    struct sim_cache_stats st;
    sim_cache_stats(c, &st);
    assert_int_equal(misses, st.misses);
    double ratio = (double)st.misses / (double)st.accesses;
    assert_true(ratio > 0.70 && ratio < 0.80);
    sim_cache_destroy(c);
    /* With next-line prefetch, every other line of a sequential 1 KB block is prefetched. */
    c = paper_l2(true);
    random_state_traffic(c, 4096, 20000, 2);
    sim_cache_reset_stats(c);
    misses = random_state_traffic(c, 4096, 20000, 3);
    ratio = (double)misses / (20000.0 * 16);
    assert_true(ratio > 0.35 && ratio < 0.45);
    sim_cache_destroy(c);
}

/* ---- random traffic against a reference model ---------------------------------------------- */

/* The obvious model: per way a valid bit, a line number and a last-use time; evict the valid
 * way used longest ago, or an invalid one. */
struct ref {
    uint32_t sets, ways;
    uint32_t line_bits;
    bool prefetch;
    uint64_t *line; /* sets * ways */
    uint64_t *used; /* last use time, 0 = invalid */
    uint64_t clock;
    uint64_t hits, misses, prefetches, invalidations;
};

static int64_t ref_find(const struct ref *r, uint64_t line)
{
    uint64_t set = line % r->sets;
    for (uint32_t w = 0; w < r->ways; w++) {
        size_t i = set * r->ways + w;
        if (r->used[i] != 0 && r->line[i] == line) {
            return (int64_t)i;
        }
    }
    return -1;
}

static void ref_insert(struct ref *r, uint64_t line)
{
    uint64_t set = line % r->sets;
    size_t victim = set * r->ways;
    for (uint32_t w = 0; w < r->ways; w++) {
        size_t i = set * r->ways + w;
        if (r->used[i] < r->used[victim]) {
            victim = i; /* invalid ways have used == 0, the smallest */
        }
    }
    r->line[victim] = line;
    r->used[victim] = ++r->clock;
}

static uint32_t ref_access(struct ref *r, uint64_t addr, uint64_t len)
{
    uint32_t misses = 0;
    if (len == 0) {
        return 0;
    }
    for (uint64_t l = addr >> r->line_bits; l <= (addr + len - 1) >> r->line_bits; l++) {
        int64_t i = ref_find(r, l);
        if (i >= 0) {
            r->used[i] = ++r->clock;
            r->hits++;
        } else {
            ref_insert(r, l);
            r->misses++;
            misses++;
            if (r->prefetch && ref_find(r, l + 1) < 0) {
                ref_insert(r, l + 1);
                r->prefetches++;
            }
        }
    }
    return misses;
}

static uint32_t ref_invalidate(struct ref *r, uint64_t addr, uint64_t len)
{
    uint32_t n = 0;
    if (len == 0) {
        return 0;
    }
    for (uint64_t l = addr >> r->line_bits; l <= (addr + len - 1) >> r->line_bits; l++) {
        int64_t i = ref_find(r, l);
        if (i >= 0) {
            r->used[i] = 0;
            n++;
        }
    }
    r->invalidations += n;
    return n;
}

static void compare_with_reference(uint32_t sets, uint32_t ways, uint32_t line, bool prefetch,
                                   uint64_t seed)
{
    struct sim_cache *c = make((uint64_t)sets * ways * line, ways, line, prefetch);
    struct ref r = {.sets = sets, .ways = ways, .prefetch = prefetch};
    while ((1u << r.line_bits) < line) {
        r.line_bits++;
    }
    r.line = calloc((size_t)sets * ways, sizeof *r.line);
    r.used = calloc((size_t)sets * ways, sizeof *r.used);
    assert_true(r.line && r.used);
    struct ho_rng rng;
    ho_rng_seed(&rng, seed);
    uint64_t span = 3ull * sets * ways * line; /* three times the cache: plenty of conflicts */
    for (int op = 0; op < 40000; op++) {
        uint64_t addr = ho_rng_below(&rng, span);
        uint64_t len = ho_rng_below(&rng, 4 * line);
        uint64_t kind = ho_rng_below(&rng, 10);
        if (kind == 0) {
            assert_int_equal(sim_cache_invalidate(c, addr, len), ref_invalidate(&r, addr, len));
        } else if (kind == 1) {
            assert_int_equal(sim_cache_contains(c, addr), ref_find(&r, addr / line) >= 0);
        } else {
            uint32_t got = sim_cache_access(c, addr, len);
            uint32_t want = ref_access(&r, addr, len);
            if (got != want) {
                fail_msg("op %d: access(%llu, %llu) missed %u lines, reference %u", op,
                         (unsigned long long)addr, (unsigned long long)len, got, want);
            }
        }
    }
    for (uint64_t l = 0; l < span / line; l++) {
        assert_int_equal(sim_cache_contains(c, l * line), ref_find(&r, l) >= 0);
    }
    struct sim_cache_stats st;
    sim_cache_stats(c, &st);
    assert_int_equal(st.hits, r.hits);
    assert_int_equal(st.misses, r.misses);
    assert_int_equal(st.accesses, r.hits + r.misses);
    assert_int_equal(st.prefetches, r.prefetches);
    assert_int_equal(st.invalidations, r.invalidations);
    assert_true(r.hits > 1000 && r.misses > 1000); /* the traffic exercised both */
    free(r.line);
    free(r.used);
    sim_cache_destroy(c);
}

static void test_random_traffic_matches_reference(void **state)
{
    (void)state;
    compare_with_reference(4, 2, 64, false, 1);
    compare_with_reference(4, 2, 64, true, 2);
    compare_with_reference(16, 4, 32, true, 3);
    compare_with_reference(1, 8, 64, false, 4);  /* fully associative */
    compare_with_reference(8, 1, 64, true, 5);   /* direct mapped */
    compare_with_reference(64, 16, 64, true, 6); /* the paper's associativity */
}

/* ---- parameters and housekeeping ----------------------------------------------------------- */

static void test_create_rejects_bad_geometry(void **state)
{
    (void)state;
    struct sim_cache *c = NULL;
    struct sim_cache_params bad[] = {
        {.size_bytes = 512, .ways = 0, .line_bytes = 64},
        {.size_bytes = 512, .ways = SIM_CACHE_MAX_WAYS + 1, .line_bytes = 64},
        {.size_bytes = 512, .ways = 2, .line_bytes = 48}, /* line not a power of two */
        {.size_bytes = 512, .ways = 2, .line_bytes = 2},  /* line too small */
        {.size_bytes = 0, .ways = 2, .line_bytes = 64},
        {.size_bytes = 500, .ways = 2, .line_bytes = 64}, /* not whole sets */
        {.size_bytes = 384, .ways = 2, .line_bytes = 64}, /* 3 sets */
        {.size_bytes = 65536, .ways = 2, .line_bytes = 8192},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(sim_cache_create(&bad[i], &c), HO_EINVAL);
    }
    assert_int_equal(sim_cache_create(NULL, &c), HO_EINVAL);
    assert_null(c);
    /* The paper's two caches. */
    struct sim_cache_params l1 = {.size_bytes = 64 * 1024, .ways = 2, .line_bytes = 64};
    struct sim_cache_params l2 = {
        .size_bytes = 1 << 20, .ways = 16, .line_bytes = 64, .next_line_prefetch = true};
    assert_int_equal(sim_cache_create(&l1, &c), HO_OK);
    sim_cache_destroy(c);
    assert_int_equal(sim_cache_create(&l2, &c), HO_OK);
    sim_cache_destroy(c);
    sim_cache_destroy(NULL);
}

static void test_flush_and_reset(void **state)
{
    (void)state;
    struct sim_cache *c = tiny(false);
    sim_cache_access(c, 0, 512);
    sim_cache_reset_stats(c);
    struct sim_cache_stats st;
    sim_cache_stats(c, &st);
    assert_int_equal(st.accesses + st.hits + st.misses + st.prefetches + st.invalidations, 0);
    assert_int_equal(sim_cache_access(c, 0, 512), 0); /* contents survive a reset */
    sim_cache_flush(c);
    assert_int_equal(sim_cache_access(c, 0, 512), 8); /* but not a flush */
    sim_cache_stats(c, &st);
    assert_int_equal(st.accesses, 16); /* counters survive a flush */
    sim_cache_destroy(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lru_sequence_in_one_set),
        cmocka_unit_test(test_sets_are_independent),
        cmocka_unit_test(test_ranges_cover_every_line_they_touch),
        cmocka_unit_test(test_invalidate),
        cmocka_unit_test(test_next_line_prefetch),
        cmocka_unit_test(test_two_levels),
        cmocka_unit_test(test_working_set_that_fits),
        cmocka_unit_test(test_working_set_that_does_not_fit),
        cmocka_unit_test(test_random_traffic_matches_reference),
        cmocka_unit_test(test_create_rejects_bad_geometry),
        cmocka_unit_test(test_flush_and_reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
