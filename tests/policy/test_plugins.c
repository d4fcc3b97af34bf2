/*
 * test_plugins.c - the tables of selection and load-control plug-ins: every registered policy
 * is found by its name and no other, its name reads back from its configuration form, and the
 * load-control policy a machine runs is the one its parameters chose.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "handoff/err.h"
#include "handoff/loadctl.h"
#include "handoff/select.h"

static void test_selection_registry_finds_each_policy(void **state)
{
    (void)state;
    assert_int_equal(ho_sel_find("NEVER"), HO_SEL_NEVER);
    assert_int_equal(ho_sel_find("FCFS"), HO_SEL_FCFS);
    assert_int_equal(ho_sel_find("T"), HO_SEL_THRESH);
    assert_int_equal(ho_sel_find("B"), HO_SEL_BYTES);
    assert_int_equal(ho_sel_find("fcfs"), HO_SEL_FCFS);
    assert_int_equal(ho_sel_find("b"), HO_SEL_BYTES);
    /* Every kind's table name finds that kind, and the names are all different. */
    for (int k = 0; k < HO_SEL_NKINDS; k++) {
        const char *name = ho_sel_kind_name((enum ho_sel_kind)k);
        assert_int_equal(ho_sel_find(name), k);
    }
    assert_string_equal(ho_sel_kind_name(HO_SEL_NKINDS), "?");
}

static void test_selection_registry_rejects_unknown_names(void **state)
{
    (void)state;
    /* A name with its parameter is a configuration, not a table name. */
    const char *unknown[] = {"", "X", "FCF", "FCFSS", "T20", "B64", "TB", " FCFS", "NEVER ", NULL};
    for (int i = 0; unknown[i]; i++) {
        if (ho_sel_find(unknown[i]) != HO_ENOENT) {
            fail_msg("'%s' found", unknown[i]);
        }
    }
    assert_int_equal(ho_sel_find(NULL), HO_ENOENT);
    struct ho_sel_policy p = {.kind = HO_SEL_NKINDS};
    struct ho_sel s;
    assert_int_equal(ho_sel_init(&s, &p, 1), HO_EINVAL);
    char buf[16];
    assert_string_equal(ho_sel_format(&p, buf, sizeof buf), "?");
}

/* format(parse(x)) == x for the configurations the paper and docs write. */
static void test_parse_format_round_trip(void **state)
{
    (void)state;
    const char *names[] = {"FCFS", "NEVER", "T1", "T20", "B1", "B64", "B4294967295", NULL};
    for (int i = 0; names[i]; i++) {
        struct ho_sel_policy p;
        char buf[16];
        assert_int_equal(ho_sel_parse(names[i], &p), HO_OK);
        assert_string_equal(ho_sel_format(&p, buf, sizeof buf), names[i]);
    }
    struct ho_sel_policy p;
    assert_int_equal(ho_sel_parse("b64", &p), HO_OK);
    assert_int_equal(p.kind, HO_SEL_BYTES);
    assert_int_equal(p.threshold, 64);
    /* And parse(format(p)) == p for every kind. */
    for (int k = 0; k < HO_SEL_NKINDS; k++) {
        struct ho_sel_policy in = {.kind = (enum ho_sel_kind)k, .threshold = 7}, out;
        char buf[16];
        ho_sel_format(&in, buf, sizeof buf);
        assert_int_equal(ho_sel_parse(buf, &out), HO_OK);
        assert_int_equal(out.kind, in.kind);
        if (out.threshold != 0) {
            assert_int_equal(out.threshold, 7);
        }
    }
}

static void test_parse_rejects_bad_bn(void **state)
{
    (void)state;
    const char *bad[] = {"B", "B0", "B-1", "Bx", "B64x", "B 64", "B+1", "B4294967296", "BB1", NULL};
    for (int i = 0; bad[i]; i++) {
        struct ho_sel_policy p = {.kind = HO_SEL_FCFS};
        if (ho_sel_parse(bad[i], &p) != HO_EINVAL) {
            fail_msg("'%s' accepted", bad[i]);
        }
        assert_int_equal(p.kind, HO_SEL_FCFS); /* untouched */
    }
    struct ho_sel_policy b0 = {.kind = HO_SEL_BYTES, .threshold = 0};
    struct ho_sel s;
    assert_int_equal(ho_sel_init(&s, &b0, 1), HO_EINVAL);
}

static void test_load_control_registry(void **state)
{
    (void)state;
    assert_int_equal(ho_lc_find("L"), HO_LC_FIGURE3);
    assert_int_equal(ho_lc_find("N"), HO_LC_NONE);
    const char *unknown[] = {"", "X", "LL", "l", "n", NULL};
    for (int i = 0; unknown[i]; i++) {
        if (ho_lc_find(unknown[i]) != HO_ENOENT) {
            fail_msg("'%s' found", unknown[i]);
        }
    }
    assert_int_equal(ho_lc_find(NULL), HO_ENOENT);
    for (int k = 0; k < HO_LC_NKINDS; k++) {
        assert_int_equal(ho_lc_find(ho_lc_kind_name((enum ho_lc_kind)k)), k);
    }
    assert_string_equal(ho_lc_kind_name(HO_LC_NKINDS), "?");
}

/* The parameters choose the policy: "L" moves Soft limit under overload, "N" never does. */
static void test_load_control_policy_from_params(void **state)
{
    (void)state;
    struct ho_lc_params p;
    ho_lc_params_default(&p, 100);
    p.hiwat = 20;
    p.lowat = 10;
    struct ho_lc fig3, none;
    assert_int_equal(ho_lc_init(&fig3, &p), HO_OK);
    p.kind = HO_LC_NONE;
    assert_int_equal(ho_lc_init(&none, &p), HO_OK);
    assert_int_equal(ho_lc_kind(&fig3), HO_LC_FIGURE3);
    assert_int_equal(ho_lc_kind(&none), HO_LC_NONE);
    assert_int_equal(ho_lc_packet(&fig3, 50, 1), 1);
    assert_int_equal(ho_lc_state(&fig3), HO_LC_DECREASE);
    assert_true(ho_lc_soft_limit(&fig3) < 100);
    for (uint64_t now = 0; now < 100; now++) {
        assert_int_equal(ho_lc_packet(&none, (uint32_t)(now % 2 ? 0 : 500), now), 0);
        assert_true(ho_lc_admit(&none, 500, now) >= 0 || ho_lc_cnum(&none) == 100);
    }
    assert_int_equal(ho_lc_state(&none), HO_LC_MONITOR);
    assert_int_equal(ho_lc_soft_limit(&none), 100);
    assert_int_equal(ho_lc_cnum(&none), 100);
    assert_true(none.adverts == 0);
    /* A zeroed machine (a NIC without connections) runs no policy. */
    struct ho_lc zero = {0};
    assert_int_equal(ho_lc_kind(&zero), HO_LC_NONE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_selection_registry_finds_each_policy),
        cmocka_unit_test(test_selection_registry_rejects_unknown_names),
        cmocka_unit_test(test_parse_format_round_trip),
        cmocka_unit_test(test_parse_rejects_bad_bn),
        cmocka_unit_test(test_load_control_registry),
        cmocka_unit_test(test_load_control_policy_from_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
