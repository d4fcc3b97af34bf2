/*
 * test_rng.c - the seeded generator: reproducible, seed-sensitive, unbiased bounds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "handoff/rng.h"

static void test_same_seed_same_sequence(void **state)
{
    (void)state;
    struct ho_rng a, b;
    ho_rng_seed(&a, 42);
    ho_rng_seed(&b, 42);
    for (int i = 0; i < 1000; i++) {
        assert_true(ho_rng_next(&a) == ho_rng_next(&b));
    }
}

static void test_names_separate_streams(void **state)
{
    (void)state;
    struct ho_rng a, b;
    ho_rng_seed_named(&a, 7, "clients");
    ho_rng_seed_named(&b, 7, "channel");
    int same = 0;
    for (int i = 0; i < 64; i++) {
        same += ho_rng_next(&a) == ho_rng_next(&b);
    }
    assert_int_equal(same, 0);
}

static void test_below_is_in_range_and_roughly_uniform(void **state)
{
    (void)state;
    struct ho_rng r;
    ho_rng_seed(&r, 1);
    unsigned counts[6] = {0};
    const int n = 60000;
    for (int i = 0; i < n; i++) {
        uint64_t v = ho_rng_below(&r, 6);
        assert_true(v < 6);
        counts[v]++;
    }
    for (int i = 0; i < 6; i++) {
        /* expected 10000 each; 5 sigma is about 456 */
        assert_in_range(counts[i], 9500, 10500);
    }
    assert_int_equal(ho_rng_below(&r, 1), 0);
    assert_int_equal(ho_rng_below(&r, 0), 0);
}

static void test_unit_interval(void **state)
{
    (void)state;
    struct ho_rng r;
    ho_rng_seed(&r, 3);
    double sum = 0;
    for (int i = 0; i < 100000; i++) {
        double u = ho_rng_unit(&r);
        assert_true(u >= 0.0 && u < 1.0);
        sum += u;
    }
    assert_true(sum / 100000 > 0.49 && sum / 100000 < 0.51);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_seed_same_sequence),
        cmocka_unit_test(test_names_separate_streams),
        cmocka_unit_test(test_below_is_in_range_and_roughly_uniform),
        cmocka_unit_test(test_unit_interval),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
