/*
 * test_pci_ring.c - the emulator's PCI rings (src/emu/pci_ring.h): parameters, order, full and
 * empty, indices that wrap past 2^32, and two threads passing millions of entries, each checked
 * for order and content.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "handoff/err.h"
#include "pci_ring.h"

static void test_init_checks(void **state)
{
    (void)state;
    static const struct {
        uint32_t entry, cap;
        int want;
    } rows[] = {
        {8, 2, HO_OK},
        {1, 1024, HO_OK},
        {EMU_RING_MAX_ENTRY, 4, HO_OK},
        {8, EMU_RING_MAX_CAP, HO_OK},
        {0, 16, HO_EINVAL},
        {EMU_RING_MAX_ENTRY + 1, 16, HO_EINVAL},
        {8, 0, HO_EINVAL},
        {8, 1, HO_EINVAL},
        {8, 3, HO_EINVAL},
        {8, 1000, HO_EINVAL},
        {8, EMU_RING_MAX_CAP * 2, HO_EINVAL},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct emu_ring r;
        int rc = emu_ring_init(&r, rows[i].entry, rows[i].cap);
        if (rc != rows[i].want) {
            fail_msg("entry %u, capacity %u: %d, want %d", rows[i].entry, rows[i].cap, rc,
                     rows[i].want);
        }
        if (rc == HO_OK) {
            assert_int_equal(emu_ring_capacity(&r), rows[i].cap);
            assert_int_equal(emu_ring_len(&r), 0);
            emu_ring_fini(&r);
        }
    }
    assert_int_equal(emu_ring_init(NULL, 8, 16), HO_EINVAL);
    emu_ring_fini(NULL);
}

/* Fills, overfills, drains and overdrains a ring whose indices start at `start`. */
static void fill_and_drain(uint32_t start)
{
    struct emu_ring r;
    assert_int_equal(emu_ring_init(&r, sizeof(uint64_t), 8), HO_OK);
    atomic_store(&r.tail, start);
    atomic_store(&r.head, start);
    r.head_seen = r.tail_seen = start;
    for (int round = 0; round < 3; round++) {
        for (uint64_t v = 0; v < 8; v++) {
            uint64_t e = 1000 * (uint64_t)round + v;
            assert_int_equal(emu_ring_push(&r, &e), HO_OK);
            assert_int_equal(emu_ring_len(&r), v + 1);
        }
        uint64_t extra = 99;
        assert_int_equal(emu_ring_push(&r, &extra), HO_ENOSPC);
        for (uint64_t v = 0; v < 8; v++) {
            uint64_t e = 0;
            assert_int_equal(emu_ring_pop(&r, &e), HO_OK);
            assert_true(e == 1000 * (uint64_t)round + v);
        }
        uint64_t none = 7;
        assert_int_equal(emu_ring_pop(&r, &none), HO_EAGAIN);
        assert_true(none == 7);
        assert_int_equal(emu_ring_len(&r), 0);
    }
    /* Half full, then interleaved: first in, first out throughout. */
    uint64_t next_in = 0, next_out = 0;
    for (int k = 0; k < 4; k++, next_in++) {
        assert_int_equal(emu_ring_push(&r, &next_in), HO_OK);
    }
    for (int k = 0; k < 100; k++) {
        assert_int_equal(emu_ring_push(&r, &next_in), HO_OK);
        next_in++;
        uint64_t e;
        assert_int_equal(emu_ring_pop(&r, &e), HO_OK);
        assert_true(e == next_out++);
    }
    assert_int_equal(emu_ring_len(&r), 4);
    emu_ring_fini(&r);
}

static void test_order_full_empty(void **state)
{
    (void)state;
    fill_and_drain(0);
    fill_and_drain(UINT32_MAX - 3); /* the indices wrap in the first round */
    fill_and_drain(UINT32_MAX);
}

/* ---- two threads -------------------------------------------------------------------------- */

#define STRESS_ENTRIES 2000000u

struct entry {
    uint64_t seq;
    uint64_t check; /* a function of seq: a torn or stale entry shows */
    uint8_t pad[16];
};

static uint64_t check_of(uint64_t seq)
{
    uint64_t x = seq * 0x9e3779b97f4a7c15ull;
    return x ^ (x >> 29);
}

static void *producer(void *arg)
{
    struct emu_ring *r = arg;
    for (uint64_t seq = 0; seq < STRESS_ENTRIES; seq++) {
        struct entry e = {.seq = seq, .check = check_of(seq)};
        memset(e.pad, (int)(seq & 0xff), sizeof e.pad);
        while (emu_ring_push(r, &e) == HO_ENOSPC) {
            sched_yield();
        }
    }
    return NULL;
}

static void test_two_threads(void **state)
{
    (void)state;
    static const uint32_t caps[] = {2, 64, 4096};
    for (size_t c = 0; c < sizeof caps / sizeof caps[0]; c++) {
        struct emu_ring r;
        assert_int_equal(emu_ring_init(&r, sizeof(struct entry), caps[c]), HO_OK);
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, producer, &r), 0);
        uint64_t bad = 0;
        uint32_t most = 0;
        for (uint64_t want = 0; want < STRESS_ENTRIES;) {
            struct entry e;
            if (emu_ring_pop(&r, &e) != HO_OK) {
                sched_yield();
                continue;
            }
            uint8_t pad[sizeof e.pad];
            memset(pad, (int)(want & 0xff), sizeof pad);
            bad += e.seq != want || e.check != check_of(want) || memcmp(e.pad, pad, sizeof pad);
            uint32_t n = emu_ring_len(&r);
            most = n > most ? n : most;
            want++;
        }
        assert_int_equal(pthread_join(t, NULL), 0);
        struct entry e;
        assert_int_equal(emu_ring_pop(&r, &e), HO_EAGAIN);
        if (bad != 0) {
            fail_msg("capacity %u: %llu entries out of order or damaged", caps[c],
                     (unsigned long long)bad);
        }
        assert_true(most <= caps[c]);
        emu_ring_fini(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init_checks),
        cmocka_unit_test(test_order_full_empty),
        cmocka_unit_test(test_two_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
