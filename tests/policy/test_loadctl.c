/*
 * test_loadctl.c - the load-control machine of Figure 3, arrow by arrow and in scenarios.
 *
 * The table test puts the machine in a chosen state (the struct is plain, so a test can place
 * it anywhere, as lwIP's tcp_helper does for TCBs), applies one event, and checks the state,
 * Soft limit, Cnum, return value and the trace. Its rows cover every arrow of the figure, every
 * "stay" case next to an arrow, and the limits where an arrow cannot be taken.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "handoff/cmd.h"
#include "handoff/err.h"
#include "handoff/loadctl.h"
#include "handoff/select.h"

enum { M = HO_LC_MONITOR, D = HO_LC_DECREASE, I = HO_LC_INCREASE };
enum { PKT = HO_LC_EV_PACKET, HO = HO_LC_EV_HANDOFF, END = HO_LC_EV_CONN_END };

/* Parameters of every table row: Hard limit 100, Hiwat 50, Lowat 10, step 8, floor 4. */
#define HARD  100
#define HIWAT 50
#define LOWAT 10
#define STEP  8
#define FLOOR 4

struct row {
    const char *what;
    int from;       /* state before */
    uint32_t soft;  /* Soft limit before */
    uint32_t cnum;  /* Cnum before */
    int event;      /* PKT, HO or END */
    uint32_t qlen;  /* Qlen at the event */
    int ret;        /* expected return */
    int to;         /* expected state after */
    uint32_t soft2; /* expected Soft limit after */
    uint32_t cnum2; /* expected Cnum after */
    int traced;     /* expected number of trace callbacks */
};

static const struct row rows[] = {
    /* MONITOR -> DECREASE: Qlen > Hiwat */
    {"monitor over hiwat decreases", M, 100, 30, PKT, 51, 1, D, 92, 30, 1},
    {"monitor at hiwat stays", M, 100, 30, PKT, 50, 0, M, 100, 30, 0},
    {"monitor over hiwat on handoff", M, 60, 30, HO, 80, 1, D, 52, 31, 1},
    {"monitor over hiwat on conn end", M, 60, 30, END, 80, 1, D, 52, 29, 1},
    {"monitor decrease clamps at floor", M, 10, 3, PKT, 51, 1, D, FLOOR, 3, 1},
    {"monitor at floor cannot decrease", M, FLOOR, 3, PKT, 99, 0, M, FLOOR, 3, 0},
    /* MONITOR -> INCREASE: Qlen < Lowat */
    {"monitor under lowat increases", M, 40, 40, PKT, 9, 1, I, 48, 40, 1},
    {"monitor at lowat stays", M, 40, 40, PKT, 10, 0, M, 40, 40, 0},
    {"monitor increase clamps at hard", M, 95, 95, PKT, 0, 1, I, HARD, 95, 1},
    {"monitor at hard cannot increase", M, HARD, 20, PKT, 0, 0, M, HARD, 20, 0},
    {"monitor between watermarks stays", M, 40, 40, PKT, 30, 0, M, 40, 40, 0},
    /* DECREASE -> MONITOR: Cnum < Soft limit */
    {"decrease waits while cnum >= soft", D, 40, 41, END, 80, 0, D, 40, 40, 0},
    {"decrease leaves when cnum < soft", D, 40, 40, END, 80, 0, M, 40, 39, 1},
    {"decrease ignores lowat", D, 40, 45, PKT, 0, 0, D, 40, 45, 0},
    {"decrease ignores hiwat", D, 40, 45, PKT, 99, 0, D, 40, 45, 0},
    {"decrease leaves on a packet too", D, 40, 20, PKT, 99, 0, M, 40, 20, 1},
    /* INCREASE -> DECREASE: Qlen > Hiwat */
    {"increase over hiwat decreases", I, 48, 40, PKT, 60, 1, D, 40, 40, 1},
    {"increase over hiwat on handoff", I, 48, 47, HO, 60, 1, D, 40, 48, 1},
    {"increase at floor over hiwat falls to cnum check", I, FLOOR, 2, PKT, 60, 0, I, FLOOR, 2, 0},
    /* INCREASE -> MONITOR: Cnum reaches Soft limit */
    {"increase waits below soft", I, 48, 40, HO, 30, 0, I, 48, 41, 0},
    {"increase leaves when cnum reaches soft", I, 48, 47, HO, 30, 0, M, 48, 48, 1},
    {"increase ignores lowat", I, 48, 40, PKT, 0, 0, I, 48, 40, 0},
    {"increase leaves on a packet when full", I, 48, 48, PKT, 30, 0, M, 48, 48, 1},
    /* Admission */
    {"admit refused at soft limit", M, 40, 40, HO, 30, HO_ELIMIT, M, 40, 40, 0},
    {"admit refused above soft limit", D, 40, 45, HO, 30, HO_ELIMIT, D, 40, 45, 0},
    {"conn end with no connections", M, 40, 0, END, 30, HO_ESTATE, M, 40, 0, 0},
};

static int traces;
static struct ho_lc_transition last;

static void count_trace(void *ctx, const struct ho_lc_transition *t)
{
    int *n = ctx;
    (*n)++;
    last = *t;
}

static int apply(struct ho_lc *lc, int event, uint32_t qlen, uint64_t now)
{
    switch (event) {
    case PKT:
        return ho_lc_packet(lc, qlen, now);
    case HO:
        return ho_lc_admit(lc, qlen, now);
    default:
        return ho_lc_conn_end(lc, qlen, now);
    }
}

static void test_every_arrow_of_figure_3(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        const struct row *r = &rows[i];
        struct ho_lc_params p = {
            .hard_limit = HARD,
            .hiwat = HIWAT,
            .lowat = LOWAT,
            .step = STEP,
            .min_soft_limit = FLOOR,
            .kind = HO_LC_FIGURE3,
            .trace = count_trace,
            .trace_ctx = &traces,
        };
        struct ho_lc lc;
        assert_int_equal(ho_lc_init(&lc, &p), HO_OK);
        lc.state = (enum ho_lc_state)r->from;
        lc.soft_limit = r->soft;
        lc.cnum = r->cnum;
        traces = 0;

        int ret = apply(&lc, r->event, r->qlen, 1000 + i);
        if (ret != r->ret || (int)ho_lc_state(&lc) != r->to || ho_lc_soft_limit(&lc) != r->soft2 ||
            ho_lc_cnum(&lc) != r->cnum2 || traces != r->traced) {
            fail_msg("row %zu '%s': got ret %d state %s soft %u cnum %u traces %d", i, r->what, ret,
                     ho_lc_state_name(ho_lc_state(&lc)), ho_lc_soft_limit(&lc), ho_lc_cnum(&lc),
                     traces);
        }
        if (traces) {
            assert_int_equal(last.from, r->from);
            assert_int_equal(last.to, r->to);
            assert_int_equal(last.event, r->event);
            assert_int_equal(last.qlen, r->qlen);
            assert_int_equal(last.soft_limit_old, r->soft);
            assert_int_equal(last.soft_limit_new, r->soft2);
            assert_int_equal(last.cnum, r->cnum2);
            assert_true(last.now == 1000 + i);
            assert_true(lc.transitions[r->from][r->to] == 1);
        }
        assert_true(lc.adverts == (uint64_t)(r->ret == 1));
    }
}

static void test_table_covers_every_arrow(void **state)
{
    (void)state;
    /* The five arrows of Figure 3, each reached by at least one row. */
    const int arrows[][2] = {{M, D}, {M, I}, {D, M}, {I, D}, {I, M}};
    for (size_t a = 0; a < 5; a++) {
        int seen = 0;
        for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
            seen += rows[i].from == arrows[a][0] && rows[i].to == arrows[a][1];
        }
        assert_true(seen > 0);
    }
}

static void test_init_validates(void **state)
{
    (void)state;
    struct ho_lc lc;
    struct ho_lc_params p;
    ho_lc_params_default(&p, 64);
    assert_int_equal(ho_lc_init(&lc, &p), HO_OK);
    assert_int_equal(ho_lc_state(&lc), HO_LC_MONITOR);
    assert_int_equal(ho_lc_soft_limit(&lc), 64);
    assert_int_equal(ho_lc_cnum(&lc), 0);

    struct ho_lc_params bad = p;
    bad.hard_limit = 0;
    assert_int_equal(ho_lc_init(&lc, &bad), HO_EINVAL);
    bad = p;
    bad.step = 0;
    assert_int_equal(ho_lc_init(&lc, &bad), HO_EINVAL);
    bad = p;
    bad.lowat = bad.hiwat;
    assert_int_equal(ho_lc_init(&lc, &bad), HO_EINVAL);
    bad = p;
    bad.min_soft_limit = 0;
    assert_int_equal(ho_lc_init(&lc, &bad), HO_EINVAL);
    bad = p;
    bad.min_soft_limit = 65;
    assert_int_equal(ho_lc_init(&lc, &bad), HO_EINVAL);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(ho_lc_state_name(HO_LC_MONITOR), "MONITOR");
    assert_string_equal(ho_lc_state_name(HO_LC_DECREASE), "DECREASE");
    assert_string_equal(ho_lc_state_name(HO_LC_INCREASE), "INCREASE");
    assert_string_equal(ho_lc_state_name((enum ho_lc_state)7), "?");
    assert_string_equal(ho_lc_event_name(HO_LC_EV_CONN_END), "conn-end");
    assert_string_equal(ho_lc_event_name((enum ho_lc_event)9), "?");
}

static void test_disabled_is_fixed_at_hard_limit(void **state)
{
    (void)state;
    struct ho_lc_params p;
    ho_lc_params_default(&p, 8);
    p.kind = HO_LC_NONE;
    struct ho_lc lc;
    assert_int_equal(ho_lc_init(&lc, &p), HO_OK);
    for (int i = 0; i < 8; i++) {
        assert_int_equal(ho_lc_admit(&lc, 5000, (uint64_t)i), 0);
    }
    assert_int_equal(ho_lc_admit(&lc, 0, 9), HO_ELIMIT);
    assert_int_equal(ho_lc_packet(&lc, 100000, 10), 0);
    assert_int_equal(ho_lc_conn_end(&lc, 0, 11), 0);
    assert_int_equal(ho_lc_state(&lc), HO_LC_MONITOR);
    assert_int_equal(ho_lc_soft_limit(&lc), 8);
    assert_true(lc.adverts == 0);
}

/*
 * A connection-level scenario: a NIC with Hard limit 400 whose receive queue grows with the
 * number of connections it holds (Qlen = 2 x (Cnum - 150) when positive: it can serve about
 * 150 connections). A host keeps offering connections as soon as Soft limit allows, and
 * connections end at a steady rate. Qlen rises above Hiwat and falls below Lowat again and
 * again as the load swings, and Soft limit must follow: fall while overloaded, rise while
 * underloaded, and settle around the NIC's capacity.
 */
static uint32_t toy_qlen(uint32_t cnum, uint32_t capacity)
{
    return cnum > capacity ? 2 * (cnum - capacity) : 0;
}

static void test_soft_limit_follows_qlen(void **state)
{
    (void)state;
    struct ho_lc_params p;
    ho_lc_params_default(&p, 400);
    p.hiwat = 100;
    p.lowat = 20;
    p.step = 10;
    struct ho_lc lc;
    assert_int_equal(ho_lc_init(&lc, &p), HO_OK);

    /* Capacity swings between 150 and 300 connections every 20000 steps. */
    uint32_t rises = 0, falls = 0;
    int prev_over = 0, prev_under = 0;
    uint32_t soft_at_end_of_phase[8];
    for (int phase = 0; phase < 8; phase++) {
        uint32_t capacity = phase % 2 ? 300 : 150;
        for (uint64_t t = 0; t < 20000; t++) {
            uint64_t now = (uint64_t)phase * 20000 + t;
            /* The OS offers a connection whenever its view of Soft limit has room. */
            if (ho_lc_cnum(&lc) < ho_lc_soft_limit(&lc)) {
                assert_true(ho_lc_admit(&lc, toy_qlen(ho_lc_cnum(&lc), capacity), now) >= 0);
            }
            /* One connection in 3 steps ends. */
            if (t % 3 == 0 && ho_lc_cnum(&lc) > 0) {
                assert_true(ho_lc_conn_end(&lc, toy_qlen(ho_lc_cnum(&lc), capacity), now) >= 0);
            }
            uint32_t q = toy_qlen(ho_lc_cnum(&lc), capacity);
            ho_lc_packet(&lc, q, now);
            int over = q > p.hiwat, under = q < p.lowat;
            rises += over && !prev_over;
            falls += under && !prev_under;
            prev_over = over;
            prev_under = under;
            assert_true(ho_lc_soft_limit(&lc) >= p.min_soft_limit);
            assert_true(ho_lc_soft_limit(&lc) <= p.hard_limit);
        }
        soft_at_end_of_phase[phase] = ho_lc_soft_limit(&lc);
        /* Settled: the NIC holds about its capacity, within the watermarks' band. */
        uint32_t cap_hi = capacity + p.hiwat / 2 + p.step;
        uint32_t cap_lo = capacity + p.lowat / 2 > p.step ? capacity + p.lowat / 2 - p.step : 0;
        assert_in_range(ho_lc_cnum(&lc), cap_lo, cap_hi);
        assert_in_range(soft_at_end_of_phase[phase], cap_lo, cap_hi + p.step);
    }
    /* Qlen crossed Hiwat upwards and Lowat downwards several times, and Soft limit moved with
     * it: down after a high-capacity phase turned low, up after a low one turned high. */
    assert_true(rises >= 4);
    assert_true(falls >= 4);
    for (int phase = 1; phase < 8; phase++) {
        if (phase % 2) {
            assert_true(soft_at_end_of_phase[phase] > soft_at_end_of_phase[phase - 1] + 100);
        } else {
            assert_true(soft_at_end_of_phase[phase] + 100 < soft_at_end_of_phase[phase - 1]);
        }
    }
    assert_true(lc.transitions[HO_LC_MONITOR][HO_LC_DECREASE] > 0);
    assert_true(lc.transitions[HO_LC_MONITOR][HO_LC_INCREASE] > 0);
    assert_true(lc.transitions[HO_LC_DECREASE][HO_LC_MONITOR] > 0);
    assert_true(lc.transitions[HO_LC_INCREASE][HO_LC_MONITOR] > 0);
}

/* Figure 6's opening: Soft limit starts at Hard limit with more connections than the NIC can
 * serve; it must come down to where Qlen stays under Hiwat. */
static void test_overload_from_the_start(void **state)
{
    (void)state;
    struct ho_lc_params p;
    ho_lc_params_default(&p, 4096);
    struct ho_lc lc;
    assert_int_equal(ho_lc_init(&lc, &p), HO_OK);
    const uint32_t capacity = 1000;
    uint64_t now = 0;
    /* The clients connect before any traffic flows: the queue is still empty. */
    for (int i = 0; i < 2048; i++) {
        ho_lc_admit(&lc, 0, now++);
    }
    assert_int_equal(ho_lc_cnum(&lc), 2048);
    uint32_t adverts_before = (uint32_t)lc.adverts;
    /* Connections end one per step and are replaced whenever Soft limit allows. */
    for (int t = 0; t < 40000; t++) {
        ho_lc_conn_end(&lc, toy_qlen(ho_lc_cnum(&lc), capacity), now);
        if (ho_lc_cnum(&lc) < ho_lc_soft_limit(&lc)) {
            ho_lc_admit(&lc, toy_qlen(ho_lc_cnum(&lc), capacity), now);
        }
        ho_lc_packet(&lc, toy_qlen(ho_lc_cnum(&lc), capacity), now);
        now++;
    }
    assert_true(lc.adverts > adverts_before);
    assert_in_range(ho_lc_soft_limit(&lc), capacity + p.lowat / 2 - p.step,
                    capacity + p.hiwat / 2 + 2 * p.step);
    assert_true(toy_qlen(ho_lc_cnum(&lc), capacity) <= p.hiwat + 2 * p.step);
}

/*
 * Every change of Soft limit becomes a SOFT_LIMIT message; the driver decodes it and its
 * selection policy then offers no more than the advertised value. Checked over a run where the
 * limit moves up and down many times.
 */
struct driver {
    struct ho_lc *lc;
    struct ho_sel sel;
    uint32_t seq, received, last_soft;
};

/* After each evaluation: if it returned 1, the NIC advertises and the driver takes it in. */
static void after_eval(struct driver *d, int rc)
{
    assert_int_equal(rc == 1, ho_lc_soft_limit(d->lc) != d->last_soft);
    if (rc != 1) {
        return;
    }
    struct ho_cmd adv, got;
    uint8_t buf[64];
    ho_lc_advert(d->lc, d->seq++, &adv);
    int len = ho_cmd_encode(&adv, buf, sizeof buf);
    assert_true(len > 0);
    assert_int_equal(ho_cmd_decode(buf, (size_t)len, &got), HO_OK);
    assert_int_equal(got.type, HO_CMD_SOFT_LIMIT);
    assert_int_equal(got.soft_limit.soft_limit, ho_lc_soft_limit(d->lc));
    assert_int_equal(got.soft_limit.lc_state, ho_lc_state(d->lc));
    ho_sel_advertised(&d->sel, got.soft_limit.soft_limit);
    d->received++;
    d->last_soft = got.soft_limit.soft_limit;
}

static void test_every_change_is_advertised(void **state)
{
    (void)state;
    struct ho_lc_params p;
    ho_lc_params_default(&p, 300);
    p.hiwat = 40;
    p.lowat = 10;
    p.step = 8;
    struct ho_lc lc;
    assert_int_equal(ho_lc_init(&lc, &p), HO_OK);
    struct driver d = {.lc = &lc, .last_soft = ho_lc_soft_limit(&lc)};
    const struct ho_sel_policy fcfs = {.kind = HO_SEL_FCFS};
    assert_int_equal(ho_sel_init(&d.sel, &fcfs, p.hard_limit), HO_OK);

    struct ho_sel_conn conns[400] = {0};
    uint32_t live = 0;
    for (uint64_t now = 0; now < 30000; now++) {
        uint32_t capacity = (now / 5000) % 2 ? 200 : 80;
        uint32_t q = toy_qlen(ho_lc_cnum(&lc), capacity) / 4;
        if (live < 400 && ho_sel_established(&d.sel, &conns[live], 80) == HO_SEL_OFFER) {
            int rc = ho_lc_admit(&lc, q, now);
            assert_int_equal(ho_sel_reply(&d.sel, &conns[live], rc >= 0), HO_OK);
            after_eval(&d, rc);
            live += rc >= 0;
        }
        if (now % 2 == 0 && live > 0) {
            live--;
            assert_int_equal(ho_sel_left_nic(&d.sel, &conns[live]), HO_OK);
            after_eval(&d, ho_lc_conn_end(&lc, q, now));
        }
        after_eval(&d, ho_lc_packet(&lc, q, now));
        /* The driver never has more on the NIC than the NIC allows. */
        assert_true(d.sel.on_nic == ho_lc_cnum(&lc));
    }
    assert_true(d.received > 20);
    assert_true(lc.adverts == d.received);
    /* The driver heard every advertisement at once, so the NIC never had to refuse. */
    assert_true(lc.refused == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_arrow_of_figure_3),
        cmocka_unit_test(test_table_covers_every_arrow),
        cmocka_unit_test(test_init_validates),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_disabled_is_fixed_at_hard_limit),
        cmocka_unit_test(test_soft_limit_follows_qlen),
        cmocka_unit_test(test_overload_from_the_start),
        cmocka_unit_test(test_every_change_is_advertised),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
