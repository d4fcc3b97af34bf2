/*
 * test_cpu.c - the processor model: priorities, FIFO within a priority, preemption, callbacks,
 * busy/idle accounting exact to the cycle on hand-computed scenarios, reset at the end of a
 * warm-up, backlog, and drift-free timing at clock rates that are not whole nanoseconds; plus
 * the time/unit conversions it is built on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "handoff/err.h"
#include "handoff/sim_cpu.h"
#include "handoff/sim_evq.h"
#include "handoff/sim_time.h"

enum { CAT_USER, CAT_OS, NCATS };
enum { PRIO_INTR, PRIO_NET, PRIO_APP, NPRIOS };

#define GHZ 1000000000ULL /* 1 cycle = 1 ns keeps hand computations readable */

/* ---- fixture ------------------------------------------------------------------------------- */

struct rec {
    uint64_t arg;
    uint64_t now;
    int phase; /* 's' start, 'd' done */
};

struct bench {
    struct sim_evq *q;
    struct sim_cpu *cpu;
    struct rec recs[256];
    int n;
    uint64_t start_extra; /* returned by the start callback */
};

static void record(struct bench *b, uint64_t arg, uint64_t now, int phase)
{
    assert_true(b->n < 256);
    b->recs[b->n++] = (struct rec){arg, now, phase};
}

static uint64_t on_start(void *ctx, uint64_t arg, uint64_t now)
{
    struct bench *b = ctx;
    record(b, arg, now, 's');
    return b->start_extra;
}

static void on_done(void *ctx, uint64_t arg, uint64_t now)
{
    record(ctx, arg, now, 'd');
}

static void setup(struct bench *b, uint64_t hz, bool preempt)
{
    *b = (struct bench){0};
    assert_int_equal(sim_evq_create(NULL, &b->q), HO_OK);
    struct sim_cpu_params p = {.hz = hz, .nprios = NPRIOS, .ncats = NCATS, .preempt = preempt};
    assert_int_equal(sim_cpu_create(&p, b->q, &b->cpu), HO_OK);
}

static void teardown(struct bench *b)
{
    sim_cpu_destroy(b->cpu);
    sim_evq_destroy(b->q);
}

static struct sim_cpu_task task(unsigned prio, unsigned cat, uint64_t cycles, uint64_t arg,
                                struct bench *b)
{
    return (struct sim_cpu_task){
        .prio = prio, .cat = cat, .cycles = cycles, .done = on_done, .ctx = b, .arg = arg};
}

static void submit(struct bench *b, unsigned prio, unsigned cat, uint64_t cycles, uint64_t arg)
{
    struct sim_cpu_task t = task(prio, cat, cycles, arg, b);
    assert_int_equal(sim_cpu_submit(b->cpu, sim_evq_now(b->q), &t), HO_OK);
}

/* Asserts the done records, in order, are exactly (arg, time) pairs. */
static void expect_done(const struct bench *b, const uint64_t (*want)[2], int n)
{
    int k = 0;
    for (int i = 0; i < b->n; i++) {
        if (b->recs[i].phase != 'd') {
            continue;
        }
        assert_true(k < n);
        if (b->recs[i].arg != want[k][0] || b->recs[i].now != want[k][1]) {
            fail_msg("completion %d: task %llu at %llu, expected task %llu at %llu", k,
                     (unsigned long long)b->recs[i].arg, (unsigned long long)b->recs[i].now,
                     (unsigned long long)want[k][0], (unsigned long long)want[k][1]);
        }
        k++;
    }
    assert_int_equal(k, n);
}

/* An event that submits a task at its time: arg packs prio << 56 | cat << 48 | cycles << 16 | id.
 */
static void submit_event(void *ctx, uint64_t arg, uint64_t now)
{
    struct bench *b = ctx;
    struct sim_cpu_task t = task((unsigned)(arg >> 56), (unsigned)(arg >> 48) & 0xff,
                                 (arg >> 16) & 0xffffffff, arg & 0xffff, b);
    assert_int_equal(sim_cpu_submit(b->cpu, now, &t), HO_OK);
}

static void submit_at(struct bench *b, uint64_t when, unsigned prio, unsigned cat, uint64_t cycles,
                      uint64_t id)
{
    uint64_t arg = (uint64_t)prio << 56 | (uint64_t)cat << 48 | cycles << 16 | id;
    assert_int_equal(sim_evq_schedule(b->q, when, submit_event, b, arg, NULL), HO_OK);
}

static void run_all(struct bench *b)
{
    while (sim_evq_run_next(b->q)) {
    }
}

/* ---- scheduling ---------------------------------------------------------------------------- */

static void test_one_task(void **state)
{
    (void)state;
    struct bench b;
    setup(&b, GHZ, false);
    assert_false(sim_cpu_busy(b.cpu, 0));
    submit(&b, PRIO_NET, CAT_OS, 100, 1);
    assert_true(sim_cpu_busy(b.cpu, 0));
    run_all(&b);
    const uint64_t want[][2] = {{1, 100}};
    expect_done(&b, want, 1);
    assert_false(sim_cpu_busy(b.cpu, 100));
    sim_evq_run_until(b.q, 250, 0);
    struct sim_cpu_stats st;
    sim_cpu_stats(b.cpu, 250, &st);
    assert_int_equal(st.elapsed_cycles, 250);
    assert_int_equal(st.busy_cycles[CAT_OS], 100);
    assert_int_equal(st.busy_cycles[CAT_USER], 0);
    assert_int_equal(st.idle_cycles, 150);
    assert_int_equal(st.tasks_done[CAT_OS], 1);
    teardown(&b);
}

static void test_priorities_and_fifo_without_preemption(void **state)
{
    (void)state;
    struct bench b;
    setup(&b, GHZ, false);
    submit(&b, PRIO_APP, CAT_USER, 100, 1); /* starts at once and runs to completion */
    submit(&b, PRIO_APP, CAT_USER, 10, 2);
    submit(&b, PRIO_INTR, CAT_OS, 20, 3);
    submit(&b, PRIO_NET, CAT_OS, 30, 4);
    submit(&b, PRIO_INTR, CAT_OS, 5, 5);
    submit(&b, PRIO_NET, CAT_OS, 7, 6);
    run_all(&b);
    const uint64_t want[][2] = {{1, 100}, {3, 120}, {5, 125}, {4, 155}, {6, 162}, {2, 172}};
    expect_done(&b, want, 6);
    struct sim_cpu_stats st;
    sim_cpu_stats(b.cpu, 172, &st);
    assert_int_equal(st.busy_cycles[CAT_USER], 110);
    assert_int_equal(st.busy_cycles[CAT_OS], 62);
    assert_int_equal(st.idle_cycles, 0);
    assert_int_equal(st.preemptions, 0);
    teardown(&b);
}

static void test_higher_priority_waits_without_preemption(void **state)
{
    (void)state;
    struct bench b;
    setup(&b, GHZ, false);
    submit_at(&b, 0, PRIO_APP, CAT_USER, 100, 1);
    submit_at(&b, 30, PRIO_INTR, CAT_OS, 20, 2);
    run_all(&b);
    const uint64_t want[][2] = {{1, 100}, {2, 120}};
    expect_done(&b, want, 2);
    teardown(&b);
}

static void test_preemption_suspends_and_resumes(void **state)
{
    (void)state;
    struct bench b;
    setup(&b, GHZ, true);
    struct sim_cpu_task low = task(PRIO_APP, CAT_USER, 100, 1, &b);
    low.start = on_start;
    assert_int_equal(sim_cpu_submit(b.cpu, 0, &low), HO_OK);
    submit_at(&b, 30, PRIO_INTR, CAT_OS, 20, 2);
    submit_at(&b, 40, PRIO_NET, CAT_OS, 5, 3);   /* queued behind the interrupt */
    submit_at(&b, 60, PRIO_APP, CAT_USER, 1, 4); /* same priority: no preemption */
    sim_evq_run_until(b.q, 45, 0);
    struct sim_cpu_stats st;
    sim_cpu_stats(b.cpu, 45, &st);
    assert_int_equal(st.busy_cycles[CAT_USER], 30);
    assert_int_equal(st.busy_cycles[CAT_OS], 15);
    run_all(&b);
    /* low runs 0-30, interrupt 30-50, net task 50-55, low resumes 55-125, then task 4. */
    const uint64_t want[][2] = {{2, 50}, {3, 55}, {1, 125}, {4, 126}};
    expect_done(&b, want, 4);
    int starts = 0;
    for (int i = 0; i < b.n; i++) {
        starts += b.recs[i].phase == 's';
    }
    assert_int_equal(starts, 1); /* the start callback runs once, not on resumption */
    sim_cpu_stats(b.cpu, 126, &st);
    assert_int_equal(st.busy_cycles[CAT_USER], 101);
    assert_int_equal(st.busy_cycles[CAT_OS], 25);
    assert_int_equal(st.idle_cycles, 0);
    assert_int_equal(st.preemptions, 1);
    teardown(&b);
}

/* ---- callbacks ----------------------------------------------------------------------------- */

struct chain {
    struct bench b;
    int submitted;
};

/* Task 1's completion submits task 7 at the highest priority; it must run before task 6
 * (queued earlier at a lower priority) and after task 5 (queued earlier at the same). */
static void chain_done(void *ctx, uint64_t arg, uint64_t now)
{
    struct chain *c = ctx;
    record(&c->b, arg, now, 'd');
    if (arg == 1 && !c->submitted) {
        c->submitted = 1;
        struct sim_cpu_task t = task(PRIO_INTR, CAT_OS, 10, 7, &c->b);
        assert_int_equal(sim_cpu_submit(c->b.cpu, now, &t), HO_OK);
        assert_true(sim_cpu_busy(c->b.cpu, now) == false); /* nothing starts inside a callback */
    }
}

static void test_done_callback_submissions_respect_priority(void **state)
{
    (void)state;
    struct chain c = {0};
    setup(&c.b, GHZ, false);
    struct sim_cpu_task t1 = task(PRIO_APP, CAT_USER, 100, 1, &c.b);
    t1.done = chain_done;
    t1.ctx = &c;
    assert_int_equal(sim_cpu_submit(c.b.cpu, 0, &t1), HO_OK);
    submit(&c.b, PRIO_NET, CAT_OS, 10, 6);
    submit(&c.b, PRIO_INTR, CAT_OS, 10, 5);
    run_all(&c.b);
    const uint64_t want[][2] = {{1, 100}, {5, 110}, {7, 120}, {6, 130}};
    expect_done(&c.b, want, 4);
    teardown(&c.b);
}

static void test_start_callback_adds_cycles(void **state)
{
    (void)state;
    struct bench b;
    setup(&b, GHZ, false);
    b.start_extra = 50;
    struct sim_cpu_task t = task(PRIO_NET, CAT_OS, 100, 1, &b);
    t.start = on_start;
    assert_int_equal(sim_cpu_submit(b.cpu, 0, &t), HO_OK);
    assert_int_equal(b.n, 1); /* started at once, inside submit */
    assert_int_equal(b.recs[0].phase, 's');
    submit_at(&b, 10, PRIO_NET, CAT_OS, 20, 2); /* waits for task 1's extended run */
    run_all(&b);
    const uint64_t want[][2] = {{1, 150}, {2, 170}};
    expect_done(&b, want, 2);
    struct sim_cpu_stats st;
    sim_cpu_stats(b.cpu, 170, &st);
    assert_int_equal(st.busy_cycles[CAT_OS], 170);
    teardown(&b);
}

/* ---- accounting ---------------------------------------------------------------------------- */

static void test_accounting_with_idle_gaps(void **state)
{
    (void)state;
    struct bench b;
    setup(&b, GHZ, false);
    submit_at(&b, 0, PRIO_NET, CAT_OS, 50, 1);
    submit_at(&b, 200, PRIO_APP, CAT_USER, 100, 2);
    submit_at(&b, 250, PRIO_NET, CAT_OS, 25, 3);
    sim_evq_run_until(b.q, 400, 0);
    struct sim_cpu_stats st;
    sim_cpu_stats(b.cpu, 400, &st);
    assert_int_equal(st.elapsed_cycles, 400);
    assert_int_equal(st.busy_cycles[CAT_OS], 75);
    assert_int_equal(st.busy_cycles[CAT_USER], 100);
    assert_int_equal(st.idle_cycles, 225);
    assert_int_equal(st.tasks_done[CAT_OS], 2);
    assert_int_equal(st.tasks_done[CAT_USER], 1);
    /* A reading mid-task counts the part run so far. */
    submit_at(&b, 500, PRIO_APP, CAT_USER, 100, 4);
    sim_evq_run_until(b.q, 530, 0);
    sim_cpu_stats(b.cpu, 530, &st);
    assert_int_equal(st.busy_cycles[CAT_USER], 130);
    assert_int_equal(st.idle_cycles, 530 - 130 - 75);
    teardown(&b);
}

static void test_reset_mid_task(void **state)
{
    (void)state;
    struct bench b;
    setup(&b, GHZ, false);
    submit_at(&b, 0, PRIO_APP, CAT_USER, 100, 1);
    submit_at(&b, 10, PRIO_NET, CAT_OS, 10, 2); /* waits, then runs 100-110 */
    sim_evq_run_until(b.q, 40, 0);
    sim_cpu_reset_stats(b.cpu, 40);
    struct sim_cpu_stats st;
    sim_cpu_stats(b.cpu, 40, &st);
    assert_int_equal(st.elapsed_cycles, 0);
    assert_int_equal(st.busy_cycles[CAT_USER], 0);
    sim_evq_run_until(b.q, 70, 0);
    sim_cpu_stats(b.cpu, 70, &st);
    assert_int_equal(st.elapsed_cycles, 30);
    assert_int_equal(st.busy_cycles[CAT_USER], 30);
    sim_evq_run_until(b.q, 160, 0);
    sim_cpu_stats(b.cpu, 160, &st);
    assert_int_equal(st.elapsed_cycles, 120);
    assert_int_equal(st.busy_cycles[CAT_USER], 60); /* 40..100 only */
    assert_int_equal(st.busy_cycles[CAT_OS], 10);
    assert_int_equal(st.idle_cycles, 50);
    assert_int_equal(st.tasks_done[CAT_USER], 1); /* completed after the reset */
    assert_int_equal(st.tasks_done[CAT_OS], 1);
    teardown(&b);
}

static void test_backlog(void **state)
{
    (void)state;
    struct bench b;
    setup(&b, GHZ, false);
    struct sim_cpu_backlog bl;
    sim_cpu_backlog(b.cpu, 0, &bl);
    assert_int_equal(bl.cycles, 0);
    assert_int_equal(bl.tasks, 0);
    submit(&b, PRIO_NET, CAT_OS, 100, 1);
    submit(&b, PRIO_NET, CAT_OS, 50, 2);
    submit(&b, PRIO_INTR, CAT_OS, 30, 3);
    sim_cpu_backlog(b.cpu, 0, &bl);
    assert_int_equal(bl.cycles, 180);
    assert_int_equal(bl.tasks, 3);
    sim_evq_run_until(b.q, 40, 0);
    sim_cpu_backlog(b.cpu, 40, &bl);
    assert_int_equal(bl.cycles, 140);
    assert_int_equal(bl.tasks, 3);
    sim_evq_run_until(b.q, 100, 0);
    sim_cpu_backlog(b.cpu, 100, &bl);
    assert_int_equal(bl.cycles, 80);
    assert_int_equal(bl.tasks, 2);
    run_all(&b);
    sim_cpu_backlog(b.cpu, sim_evq_now(b.q), &bl);
    assert_int_equal(bl.cycles, 0);
    assert_int_equal(bl.tasks, 0);
    teardown(&b);
}

/* ---- clock rates --------------------------------------------------------------------------- */

static void test_no_drift_at_600_mhz(void **state)
{
    (void)state;
    struct bench b;
    setup(&b, 600000000ULL, false); /* 1 cycle = 1.666... ns */
    for (uint64_t i = 1; i <= 200; i++) {
        submit(&b, PRIO_NET, CAT_OS, 1, i);
    }
    run_all(&b);
    assert_int_equal(b.n, 200);
    for (int i = 0; i < 200; i++) {
        uint64_t k = (uint64_t)i + 1;
        assert_int_equal(b.recs[i].now, (k * 5 + 2) / 3); /* ceil(k * 5/3) */
    }
    assert_int_equal(sim_evq_now(b.q),
                     334); /* 200 cycles = 333.33 ns; summing 2 ns would give 400 */
    struct sim_cpu_stats st;
    sim_cpu_stats(b.cpu, 334, &st);
    assert_int_equal(st.elapsed_cycles, 200); /* floor(334 * 0.6) */
    assert_int_equal(st.busy_cycles[CAT_OS], 200);
    assert_int_equal(st.idle_cycles, 0);
    teardown(&b);
}

static void test_preemption_at_600_mhz(void **state)
{
    (void)state;
    struct bench b;
    setup(&b, 600000000ULL, true);
    submit_at(&b, 0, PRIO_APP, CAT_USER, 100, 1);
    submit_at(&b, 10, PRIO_INTR, CAT_OS, 10, 2);
    run_all(&b);
    /* At 10 ns cycle 6 is in progress: the interrupt runs cycles 6-16 (done at 26.67 ns), the
     * application resumes at cycle 16 and ends at cycle 110 (183.33 ns). */
    const uint64_t want[][2] = {{2, 27}, {1, 184}};
    expect_done(&b, want, 2);
    struct sim_cpu_stats st;
    sim_cpu_stats(b.cpu, 184, &st);
    assert_int_equal(st.elapsed_cycles, 110);
    assert_int_equal(st.busy_cycles[CAT_USER], 100);
    assert_int_equal(st.busy_cycles[CAT_OS], 10);
    assert_int_equal(st.idle_cycles, 0);
    teardown(&b);
}

static void test_zero_cycle_task(void **state)
{
    (void)state;
    struct bench b;
    setup(&b, 600000000ULL, false);
    submit_at(&b, 1000, PRIO_NET, CAT_OS, 0, 1);
    run_all(&b);
    const uint64_t want[][2] = {{1, 1000}};
    expect_done(&b, want, 1);
    teardown(&b);
}

static void test_time_unit_conversions(void **state)
{
    (void)state;
    /* A 1518-byte frame plus 8 bytes of preamble and 12 of gap is 12304 bits: 1230.4 ns. */
    const uint64_t bits = 12304, rate = 10000000000ULL;
    assert_int_equal(sim_units_to_time(bits, rate), 1231);
    assert_int_equal(sim_units_to_time(1000000 * bits, rate), 1230400000ULL);
    assert_int_equal(sim_time_to_units(1230400000ULL, rate), 1000000 * bits);
    assert_int_equal(sim_time_to_units(1231, rate), 12310);
    assert_int_equal(sim_units_to_time(0, rate), 0);
    assert_int_equal(sim_units_to_time(3, 600000000ULL), 5);
    assert_int_equal(sim_units_to_time(1, 600000000ULL), 2);
    assert_int_equal(sim_time_to_units(1, 600000000ULL), 0);
    assert_int_equal(sim_time_to_units(2, 600000000ULL), 1);
    /* Beyond 64-bit intermediate products: an hour at 2 GHz, and a year. */
    assert_int_equal(sim_time_to_units(3600ULL * SIM_NS_PER_S, 2000000000ULL), 7200000000000ULL);
    assert_int_equal(sim_units_to_time(7200000000000ULL, 2000000000ULL), 3600ULL * SIM_NS_PER_S);
    uint64_t year = 365ULL * 86400 * SIM_NS_PER_S;
    assert_int_equal(sim_time_to_units(year, 800000000ULL), 365ULL * 86400 * 800000000ULL);
    assert_int_equal(sim_time_to_units(UINT64_MAX, SIM_RATE_MAX), UINT64_MAX); /* saturates */
    for (uint64_t u = 0; u < 5000; u += 7) {
        uint64_t t = sim_units_to_time(u, 600000000ULL);
        assert_true(sim_time_to_units(t, 600000000ULL) >= u);
        assert_true(t == 0 || sim_time_to_units(t - 1, 600000000ULL) < u);
    }
}

/* ---- errors -------------------------------------------------------------------------------- */

/* A change of clock rate mid-task (sim_cpu_set_hz): the task's remaining cycles run at the new
 * rate, later tasks too, and cycle counts go on where they were. */
static void set_hz_event(void *ctx, uint64_t arg, uint64_t now)
{
    struct bench *b = ctx;
    assert_int_equal(sim_cpu_set_hz(b->cpu, arg, now), HO_OK);
}

static void test_clock_rate_change(void **state)
{
    (void)state;
    struct bench b;
    setup(&b, GHZ, false);
    submit(&b, PRIO_NET, CAT_OS, 100, 1); /* cycles 0..100 */
    submit_at(&b, 150, PRIO_NET, CAT_OS, 100, 2);
    /* At 50 ns the rate halves: task 1's last 50 cycles take 100 ns, ending at 150; task 2's
     * 100 cycles take 200 ns, from 150 to 350. */
    assert_int_equal(sim_evq_schedule(b.q, 50, set_hz_event, &b, GHZ / 2, NULL), HO_OK);
    run_all(&b);
    const uint64_t want[][2] = {{1, 150}, {2, 350}};
    expect_done(&b, want, 2);
    assert_int_equal(sim_cpu_hz(b.cpu), GHZ / 2);
    sim_evq_run_until(b.q, 450, 0);
    struct sim_cpu_stats st;
    sim_cpu_stats(b.cpu, 450, &st);
    /* 50 cycles before the change, then 400 ns at 0.5 cycle/ns. */
    assert_int_equal(st.elapsed_cycles, 250);
    assert_int_equal(st.busy_cycles[CAT_OS], 200);
    assert_int_equal(st.idle_cycles, 50);
    /* Back up to 1 GHz while idle: the next task runs at the new rate at once. */
    assert_int_equal(sim_cpu_set_hz(b.cpu, GHZ, 450), HO_OK);
    submit(&b, PRIO_NET, CAT_OS, 30, 3);
    run_all(&b);
    assert_int_equal(b.recs[b.n - 1].now, 480);
    assert_int_equal(sim_cpu_set_hz(b.cpu, 0, sim_evq_now(b.q)), HO_EINVAL);
    assert_int_equal(sim_cpu_set_hz(b.cpu, GHZ, sim_evq_now(b.q) + 1), HO_EINVAL);
    teardown(&b);
}

static void test_invalid_arguments(void **state)
{
    (void)state;
    struct sim_evq *q;
    struct sim_cpu *c = NULL;
    assert_int_equal(sim_evq_create(NULL, &q), HO_OK);
    struct sim_cpu_params p = {.hz = 0, .nprios = 1, .ncats = 1};
    assert_int_equal(sim_cpu_create(&p, q, &c), HO_EINVAL);
    p = (struct sim_cpu_params){.hz = SIM_CPU_MAX_HZ + 1, .nprios = 1, .ncats = 1};
    assert_int_equal(sim_cpu_create(&p, q, &c), HO_EINVAL);
    p = (struct sim_cpu_params){.hz = GHZ, .nprios = SIM_CPU_MAX_PRIOS + 1, .ncats = 1};
    assert_int_equal(sim_cpu_create(&p, q, &c), HO_EINVAL);
    p = (struct sim_cpu_params){.hz = GHZ, .nprios = 1, .ncats = 0};
    assert_int_equal(sim_cpu_create(&p, q, &c), HO_EINVAL);
    p = (struct sim_cpu_params){.hz = GHZ, .nprios = 2, .ncats = 2};
    assert_int_equal(sim_cpu_create(&p, NULL, &c), HO_EINVAL);
    assert_null(c);
    assert_int_equal(sim_cpu_create(&p, q, &c), HO_OK);
    struct sim_cpu_task t = {.prio = 2, .cat = 0, .cycles = 1};
    assert_int_equal(sim_cpu_submit(c, 0, &t), HO_EINVAL);
    t = (struct sim_cpu_task){.prio = 1, .cat = 2, .cycles = 1};
    assert_int_equal(sim_cpu_submit(c, 0, &t), HO_EINVAL);
    t = (struct sim_cpu_task){.prio = 1, .cat = 1, .cycles = 1};
    assert_int_equal(sim_cpu_submit(c, 5, &t), HO_EINVAL); /* not the queue's time */
    assert_int_equal(sim_cpu_submit(c, 0, &t), HO_OK);
    assert_int_equal(sim_cpu_hz(c), GHZ);
    sim_cpu_destroy(c); /* with a completion pending */
    assert_int_equal(sim_evq_pending(q), 0);
    sim_cpu_destroy(NULL);
    sim_evq_destroy(q);
}

static void test_many_tasks_grow_the_pool(void **state)
{
    (void)state;
    struct bench b;
    setup(&b, GHZ, true);
    uint64_t total = 0;
    for (uint64_t i = 0; i < 5000; i++) {
        struct sim_cpu_task t = {
            .prio = (unsigned)(i % NPRIOS), .cat = (unsigned)(i % NCATS), .cycles = i % 13};
        assert_int_equal(sim_cpu_submit(b.cpu, 0, &t), HO_OK);
        total += i % 13;
    }
    struct sim_cpu_backlog bl;
    sim_cpu_backlog(b.cpu, 0, &bl);
    assert_int_equal(bl.tasks, 5000);
    assert_int_equal(bl.cycles, total);
    run_all(&b);
    assert_int_equal(sim_evq_now(b.q), total);
    struct sim_cpu_stats st;
    sim_cpu_stats(b.cpu, total, &st);
    assert_int_equal(st.busy_cycles[CAT_USER] + st.busy_cycles[CAT_OS], total);
    assert_int_equal(st.tasks_done[CAT_USER] + st.tasks_done[CAT_OS], 5000);
    assert_int_equal(st.idle_cycles, 0);
    teardown(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_task),
        cmocka_unit_test(test_priorities_and_fifo_without_preemption),
        cmocka_unit_test(test_higher_priority_waits_without_preemption),
        cmocka_unit_test(test_preemption_suspends_and_resumes),
        cmocka_unit_test(test_done_callback_submissions_respect_priority),
        cmocka_unit_test(test_start_callback_adds_cycles),
        cmocka_unit_test(test_accounting_with_idle_gaps),
        cmocka_unit_test(test_reset_mid_task),
        cmocka_unit_test(test_backlog),
        cmocka_unit_test(test_no_drift_at_600_mhz),
        cmocka_unit_test(test_preemption_at_600_mhz),
        cmocka_unit_test(test_zero_cycle_task),
        cmocka_unit_test(test_time_unit_conversions),
        cmocka_unit_test(test_clock_rate_change),
        cmocka_unit_test(test_invalid_arguments),
        cmocka_unit_test(test_many_tasks_grow_the_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
