/*
 * test_ackagg.c - ACK aggregation: merging per connection, the three flush triggers and their
 * order, capacity and overflow, and byte conservation over a long random run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "handoff/ackagg.h"
#include "handoff/cmd.h"
#include "handoff/err.h"
#include "handoff/rng.h"

static struct ho_ackagg *make(uint16_t max_entries, uint32_t byte_threshold, uint64_t max_delay)
{
    struct ho_ackagg_params p = {max_entries, byte_threshold, max_delay};
    struct ho_ackagg *ag = NULL;
    assert_int_equal(ho_ackagg_create(&p, &ag), HO_OK);
    assert_non_null(ag);
    return ag;
}

static void test_create_checks_params(void **state)
{
    (void)state;
    struct ho_ackagg_params p;
    ho_ackagg_params_default(&p);
    assert_int_equal(p.max_entries, HO_CMD_ACKED_MAX);
    assert_int_equal(p.byte_threshold, 16 * 1024);
    assert_true(p.max_delay == 50000);
    struct ho_ackagg *ag = NULL;
    assert_int_equal(ho_ackagg_create(&p, &ag), HO_OK);
    assert_int_equal(ho_ackagg_count(ag), 0);
    assert_true(ho_ackagg_deadline(ag) == UINT64_MAX);
    assert_int_equal(ho_ackagg_due(ag, 1000000), HO_ACKAGG_HOLD);
    ho_ackagg_destroy(ag);
    ho_ackagg_destroy(NULL);

    struct ho_ackagg *none = NULL;
    p.max_entries = 0;
    assert_int_equal(ho_ackagg_create(&p, &none), HO_EINVAL);
    p.max_entries = HO_CMD_ACKED_MAX + 1;
    assert_int_equal(ho_ackagg_create(&p, &none), HO_EINVAL);
    assert_null(none);
    p.max_entries = 1;
    assert_int_equal(ho_ackagg_create(NULL, &none), HO_EINVAL);
    assert_int_equal(ho_ackagg_create(&p, NULL), HO_EINVAL);
}

static void test_merge_per_connection(void **state)
{
    (void)state;
    struct ho_ackagg *ag = make(8, 0, UINT64_MAX);
    assert_int_equal(ho_ackagg_add(ag, 1, 100, 10), HO_ACKAGG_HOLD);
    assert_int_equal(ho_ackagg_add(ag, 2, 50, 20), HO_ACKAGG_HOLD);
    assert_int_equal(ho_ackagg_add(ag, 1, 200, 30), HO_ACKAGG_HOLD);
    assert_int_equal(ho_ackagg_add(ag, 7, 1, 40), HO_ACKAGG_HOLD);
    assert_int_equal(ho_ackagg_add(ag, 2, 25, 50), HO_ACKAGG_HOLD);
    assert_int_equal(ho_ackagg_count(ag), 3);

    uint32_t bytes = 0;
    assert_int_equal(ho_ackagg_pending(ag, 1, &bytes), HO_OK);
    assert_int_equal(bytes, 300);
    assert_int_equal(ho_ackagg_pending(ag, 2, &bytes), HO_OK);
    assert_int_equal(bytes, 75);
    assert_int_equal(ho_ackagg_pending(ag, 7, NULL), HO_OK);
    assert_int_equal(ho_ackagg_pending(ag, 3, &bytes), HO_ENOENT);

    struct ho_cmd c;
    assert_int_equal(ho_ackagg_flush(ag, 99, &c), 3);
    assert_int_equal(c.type, HO_CMD_ACKED);
    assert_int_equal(c.seq, 99);
    assert_int_equal(c.acked.count, 3);
    /* In order of creation, one entry per connection. */
    assert_int_equal(c.acked.entries[0].conn_id, 1);
    assert_int_equal(c.acked.entries[0].bytes, 300);
    assert_int_equal(c.acked.entries[1].conn_id, 2);
    assert_int_equal(c.acked.entries[1].bytes, 75);
    assert_int_equal(c.acked.entries[2].conn_id, 7);
    assert_int_equal(c.acked.entries[2].bytes, 1);
    /* The message is a valid ACKED: it encodes and decodes back. */
    uint8_t buf[128];
    int n = ho_cmd_encode(&c, buf, sizeof buf);
    assert_int_equal(n, HO_CMD_HDR_SIZE + 2 + 3 * 8);
    struct ho_cmd d;
    assert_int_equal(ho_cmd_decode(buf, (size_t)n, &d), HO_OK);
    assert_int_equal(d.acked.entries[1].bytes, 75);

    /* Empty again. */
    assert_int_equal(ho_ackagg_count(ag), 0);
    assert_int_equal(ho_ackagg_pending(ag, 1, &bytes), HO_ENOENT);
    memset(&c, 0xEE, sizeof c);
    assert_int_equal(ho_ackagg_flush(ag, 100, &c), HO_EAGAIN);
    assert_int_equal(c.type, 0xEE); /* untouched */

    struct ho_ackagg_stats st;
    ho_ackagg_stats(ag, &st);
    assert_true(st.acks == 5 && st.merged == 2 && st.messages == 1 && st.entries == 3 &&
                st.bytes == 376);
    ho_ackagg_destroy(ag);
}

static void test_full_trigger_and_capacity(void **state)
{
    (void)state;
    struct ho_ackagg *ag = make(4, 0, UINT64_MAX);
    for (uint32_t conn = 1; conn <= 3; conn++) {
        assert_int_equal(ho_ackagg_add(ag, conn, 10, 0), HO_ACKAGG_HOLD);
    }
    assert_int_equal(ho_ackagg_add(ag, 4, 10, 0), HO_ACKAGG_FULL);
    assert_int_equal(ho_ackagg_due(ag, 0), HO_ACKAGG_FULL);
    /* A fifth connection does not fit, and nothing changes. */
    assert_int_equal(ho_ackagg_add(ag, 5, 10, 0), HO_ENOSPC);
    assert_int_equal(ho_ackagg_count(ag), 4);
    assert_int_equal(ho_ackagg_pending(ag, 5, NULL), HO_ENOENT);
    /* An existing one still merges. */
    assert_int_equal(ho_ackagg_add(ag, 2, 5, 0), HO_ACKAGG_FULL);
    uint32_t bytes;
    assert_int_equal(ho_ackagg_pending(ag, 2, &bytes), HO_OK);
    assert_int_equal(bytes, 15);
    struct ho_cmd c;
    assert_int_equal(ho_ackagg_flush(ag, 1, &c), 4);
    assert_int_equal(ho_ackagg_add(ag, 5, 10, 0), HO_ACKAGG_HOLD);
    ho_ackagg_destroy(ag);

    /* One entry per message: every add is due at once. */
    ag = make(1, 0, UINT64_MAX);
    assert_int_equal(ho_ackagg_add(ag, 9, 1, 0), HO_ACKAGG_FULL);
    assert_int_equal(ho_ackagg_add(ag, 8, 1, 0), HO_ENOSPC);
    ho_ackagg_destroy(ag);

    /* The largest message the protocol allows. */
    ag = make(HO_CMD_ACKED_MAX, 0, UINT64_MAX);
    for (uint32_t conn = 0; conn < HO_CMD_ACKED_MAX; conn++) {
        int want = conn + 1 < HO_CMD_ACKED_MAX ? HO_ACKAGG_HOLD : HO_ACKAGG_FULL;
        assert_int_equal(ho_ackagg_add(ag, conn * 1000, conn + 1, 0), want);
    }
    assert_int_equal(ho_ackagg_flush(ag, 2, &c), HO_CMD_ACKED_MAX);
    assert_int_equal(ho_cmd_size(&c), HO_CMD_HDR_SIZE + 2 + 8 * HO_CMD_ACKED_MAX);
    ho_ackagg_destroy(ag);
}

static void test_bytes_trigger(void **state)
{
    (void)state;
    struct ho_ackagg *ag = make(16, 1000, UINT64_MAX);
    assert_int_equal(ho_ackagg_add(ag, 1, 600, 0), HO_ACKAGG_HOLD);
    assert_int_equal(ho_ackagg_add(ag, 2, 999, 0), HO_ACKAGG_HOLD);
    /* The threshold is per connection: 1599 bytes in all is not enough... */
    assert_int_equal(ho_ackagg_due(ag, 0), HO_ACKAGG_HOLD);
    /* ...but connection 1 reaching 1000 is. */
    assert_int_equal(ho_ackagg_add(ag, 1, 400, 0), HO_ACKAGG_BYTES);
    struct ho_cmd c;
    assert_int_equal(ho_ackagg_flush(ag, 1, &c), 2);
    assert_int_equal(ho_ackagg_add(ag, 1, 1, 0), HO_ACKAGG_HOLD);
    /* A single large ACK fires it directly. */
    assert_int_equal(ho_ackagg_add(ag, 3, 5000, 0), HO_ACKAGG_BYTES);
    ho_ackagg_destroy(ag);
}

static void test_delay_trigger(void **state)
{
    (void)state;
    struct ho_ackagg *ag = make(16, 0, 1000);
    assert_true(ho_ackagg_deadline(ag) == UINT64_MAX);
    assert_int_equal(ho_ackagg_add(ag, 1, 10, 5000), HO_ACKAGG_HOLD);
    assert_true(ho_ackagg_deadline(ag) == 6000);
    /* Later entries do not move the deadline: it belongs to the oldest. */
    assert_int_equal(ho_ackagg_add(ag, 2, 10, 5900), HO_ACKAGG_HOLD);
    assert_int_equal(ho_ackagg_add(ag, 1, 10, 5950), HO_ACKAGG_HOLD);
    assert_true(ho_ackagg_deadline(ag) == 6000);
    assert_int_equal(ho_ackagg_due(ag, 5999), HO_ACKAGG_HOLD);
    assert_int_equal(ho_ackagg_due(ag, 6000), HO_ACKAGG_DELAY);
    assert_int_equal(ho_ackagg_due(ag, 4000), HO_ACKAGG_HOLD); /* time went backwards */
    assert_int_equal(ho_ackagg_add(ag, 3, 10, 6001), HO_ACKAGG_DELAY);
    struct ho_cmd c;
    assert_int_equal(ho_ackagg_flush(ag, 1, &c), 3);
    assert_true(ho_ackagg_deadline(ag) == UINT64_MAX);
    assert_int_equal(ho_ackagg_due(ag, UINT64_MAX), HO_ACKAGG_HOLD);
    /* The next entry starts a new delay. */
    assert_int_equal(ho_ackagg_add(ag, 3, 10, 10000), HO_ACKAGG_HOLD);
    assert_true(ho_ackagg_deadline(ag) == 11000);
    /* The deadline saturates. */
    ho_ackagg_flush(ag, 2, &c);
    assert_int_equal(ho_ackagg_add(ag, 3, 10, UINT64_MAX - 10), HO_ACKAGG_HOLD);
    assert_true(ho_ackagg_deadline(ag) == UINT64_MAX); /* which means never */
    assert_int_equal(ho_ackagg_due(ag, UINT64_MAX), HO_ACKAGG_HOLD);
    ho_ackagg_destroy(ag);

    /* No delay: every add is due. */
    ag = make(16, 0, 0);
    assert_int_equal(ho_ackagg_add(ag, 1, 10, 77), HO_ACKAGG_DELAY);
    ho_ackagg_destroy(ag);

    /* Delay disabled: time alone never makes a message due. */
    ag = make(16, 0, UINT64_MAX);
    assert_int_equal(ho_ackagg_add(ag, 1, 10, 0), HO_ACKAGG_HOLD);
    assert_true(ho_ackagg_deadline(ag) == UINT64_MAX);
    assert_int_equal(ho_ackagg_due(ag, UINT64_MAX), HO_ACKAGG_HOLD);
    ho_ackagg_destroy(ag);
}

static void test_trigger_order(void **state)
{
    (void)state;
    /* All three hold at once: FULL is reported, then BYTES, then DELAY. */
    struct ho_ackagg *ag = make(2, 100, 10);
    assert_int_equal(ho_ackagg_add(ag, 1, 100, 0), HO_ACKAGG_BYTES);
    assert_int_equal(ho_ackagg_due(ag, 50), HO_ACKAGG_BYTES);
    assert_int_equal(ho_ackagg_add(ag, 2, 1, 50), HO_ACKAGG_FULL);
    struct ho_cmd c;
    ho_ackagg_flush(ag, 0, &c);
    assert_int_equal(ho_ackagg_add(ag, 1, 1, 100), HO_ACKAGG_HOLD);
    assert_int_equal(ho_ackagg_due(ag, 110), HO_ACKAGG_DELAY);
    assert_int_equal(ho_ackagg_add(ag, 1, 99, 110), HO_ACKAGG_BYTES);
    ho_ackagg_destroy(ag);
}

static void test_bad_adds(void **state)
{
    (void)state;
    struct ho_ackagg *ag = make(4, 0, UINT64_MAX);
    assert_int_equal(ho_ackagg_add(ag, 1, 0, 0), HO_EINVAL);
    assert_int_equal(ho_ackagg_count(ag), 0);
    assert_int_equal(ho_ackagg_add(ag, 1, UINT32_MAX - 1, 0), HO_ACKAGG_HOLD);
    assert_int_equal(ho_ackagg_add(ag, 1, 1, 0), HO_ACKAGG_HOLD);
    /* The entry's total would not fit the message's 32-bit field: refused, kept. */
    assert_int_equal(ho_ackagg_add(ag, 1, 1, 0), HO_ENOSPC);
    uint32_t bytes;
    assert_int_equal(ho_ackagg_pending(ag, 1, &bytes), HO_OK);
    assert_true(bytes == UINT32_MAX);
    struct ho_cmd c;
    assert_int_equal(ho_ackagg_flush(ag, 0, &c), 1);
    assert_true(c.acked.entries[0].bytes == UINT32_MAX);
    assert_int_equal(ho_ackagg_add(ag, 1, 1, 0), HO_ACKAGG_HOLD);
    struct ho_ackagg_stats st;
    ho_ackagg_stats(ag, &st);
    assert_true(st.acks == 3 && st.merged == 1);
    ho_ackagg_destroy(ag);
}

/* Random ACKs over many connections, flushed whenever due: every byte added arrives exactly
 * once, every message is a valid ACKED within the size limit, and no entry waits past the
 * delay by more than the time between two calls. */
static void test_random_conservation(void **state)
{
    (void)state;
    enum { CONNS = 40, ROUNDS = 200000 };
    const uint64_t delay = 20000;
    struct ho_ackagg *ag = make(12, 30000, delay);
    struct ho_rng rng;
    ho_rng_seed_named(&rng, 7, "ackagg");
    uint64_t added[CONNS] = {0}, flushed[CONNS] = {0};
    uint64_t now = 0, oldest = 0, messages = 0;
    uint32_t seq = 0;
    struct ho_cmd c;
    for (unsigned long i = 0; i < ROUNDS; i++) {
        now += ho_rng_below(&rng, 3000);
        if (ho_ackagg_count(ag) == 0) {
            oldest = now;
        }
        uint32_t conn = (uint32_t)ho_rng_below(&rng, CONNS);
        uint32_t bytes = 1 + (uint32_t)ho_rng_below(&rng, 4000);
        int rc = ho_ackagg_add(ag, conn, bytes, now);
        assert_true(rc >= HO_ACKAGG_HOLD);
        added[conn] += bytes;
        if (rc == HO_ACKAGG_HOLD) {
            rc = ho_ackagg_due(ag, now);
            assert_int_equal(rc, HO_ACKAGG_HOLD);
            continue;
        }
        if (rc == HO_ACKAGG_DELAY) {
            /* The caller looks at least every 3000 ns, so the wait is bounded. */
            assert_true(now - oldest >= delay && now - oldest < delay + 3000);
        }
        int n = ho_ackagg_flush(ag, seq++, &c);
        assert_true(n >= 1 && n <= 12);
        assert_true(ho_cmd_size(&c) > 0); /* valid: no duplicates, no zero entries */
        for (int k = 0; k < n; k++) {
            flushed[c.acked.entries[k].conn_id] += c.acked.entries[k].bytes;
        }
        messages++;
    }
    if (ho_ackagg_flush(ag, seq, &c) > 0) {
        for (unsigned k = 0; k < c.acked.count; k++) {
            flushed[c.acked.entries[k].conn_id] += c.acked.entries[k].bytes;
        }
        messages++;
    }
    for (int k = 0; k < CONNS; k++) {
        assert_true(added[k] == flushed[k]);
    }
    struct ho_ackagg_stats st;
    ho_ackagg_stats(ag, &st);
    assert_true(st.acks == ROUNDS && st.messages == messages);
    /* Aggregation did its job: several ACKs per message. */
    assert_true(messages < ROUNDS / 3);
    ho_ackagg_destroy(ag);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_checks_params),
        cmocka_unit_test(test_merge_per_connection),
        cmocka_unit_test(test_full_trigger_and_capacity),
        cmocka_unit_test(test_bytes_trigger),
        cmocka_unit_test(test_delay_trigger),
        cmocka_unit_test(test_trigger_order),
        cmocka_unit_test(test_bad_adds),
        cmocka_unit_test(test_random_conservation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
