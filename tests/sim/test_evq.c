/*
 * test_evq.c - the event queue: (time, sequence) order with ties and cancellations, checked
 * against a sorted reference under randomized workloads and under several window geometries
 * (so that the heap, the calendar buckets, the overflow and the jumps over empty time are all
 * exercised); handle semantics; the clock; capacity limits; purges.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "handoff/err.h"
#include "handoff/rng.h"
#include "handoff/sim_evq.h"

/* ---- helpers ------------------------------------------------------------------------------- */

struct log {
    uint64_t args[64];
    uint64_t times[64];
    int n;
};

static void log_event(void *ctx, uint64_t arg, uint64_t now)
{
    struct log *l = ctx;
    if (l->n < 64) {
        l->args[l->n] = arg;
        l->times[l->n] = now;
    }
    l->n++;
}

static struct sim_evq *make_queue(uint32_t wbits, uint32_t nbits)
{
    struct sim_evq_params p = {
        .initial_capacity = 4, .window_ns_log2 = wbits, .windows_log2 = nbits};
    struct sim_evq *q = NULL;
    assert_int_equal(sim_evq_create(&p, &q), HO_OK);
    assert_non_null(q);
    return q;
}

/* The window geometries every ordering test runs under: default, tiny windows with a short
 * ring (most events in the overflow), 2 ns windows, and huge windows (everything in the heap). */
static const uint32_t geometries[][2] = {{0, 0}, {4, 6}, {1, 6}, {30, 6}};
#define NGEOMETRIES (sizeof geometries / sizeof geometries[0])

/* ---- basic order --------------------------------------------------------------------------- */

static void test_ties_run_in_scheduling_order(void **state)
{
    (void)state;
    for (size_t g = 0; g < NGEOMETRIES; g++) {
        struct sim_evq *q = make_queue(geometries[g][0], geometries[g][1]);
        struct log l = {0};
        const uint64_t times[] = {5000, 3, 5000, 3, 5000, 0, 1u << 20, 3};
        for (uint64_t i = 0; i < 8; i++) {
            assert_int_equal(sim_evq_schedule(q, times[i], log_event, &l, i, NULL), HO_OK);
        }
        while (sim_evq_run_next(q)) {
        }
        const uint64_t order[] = {5, 1, 3, 7, 0, 2, 4, 6};
        assert_int_equal(l.n, 8);
        for (int i = 0; i < 8; i++) {
            assert_int_equal(l.args[i], order[i]);
            assert_int_equal(l.times[i], times[order[i]]);
        }
        assert_int_equal(sim_evq_now(q), 1u << 20);
        sim_evq_destroy(q);
    }
}

struct chain {
    struct sim_evq *q;
    struct log log;
};

/* Event 0 schedules event 9 at its own time; 9 must run after 1, which was already pending. */
static void chain_event(void *ctx, uint64_t arg, uint64_t now)
{
    struct chain *c = ctx;
    log_event(&c->log, arg, now);
    if (arg == 0) {
        assert_int_equal(sim_evq_schedule(c->q, now, chain_event, c, 9, NULL), HO_OK);
    }
}

static void test_same_time_from_handler_runs_after_pending(void **state)
{
    (void)state;
    for (size_t g = 0; g < NGEOMETRIES; g++) {
        struct chain c = {.q = make_queue(geometries[g][0], geometries[g][1])};
        assert_int_equal(sim_evq_schedule(c.q, 10, chain_event, &c, 0, NULL), HO_OK);
        assert_int_equal(sim_evq_schedule(c.q, 10, chain_event, &c, 1, NULL), HO_OK);
        assert_int_equal(sim_evq_schedule(c.q, 11, chain_event, &c, 2, NULL), HO_OK);
        while (sim_evq_run_next(c.q)) {
        }
        assert_int_equal(c.log.n, 4);
        assert_int_equal(c.log.args[0], 0);
        assert_int_equal(c.log.args[1], 1);
        assert_int_equal(c.log.args[2], 9);
        assert_int_equal(c.log.args[3], 2);
        sim_evq_destroy(c.q);
    }
}

/* ---- randomized, against a sorted reference ------------------------------------------------ */

struct ref_ev {
    uint64_t time;
    uint64_t order; /* scheduling order: the tie-breaker */
    uint64_t handle;
};

static int ref_cmp(const void *a, const void *b)
{
    const struct ref_ev *x = a, *y = b;
    if (x->time != y->time) {
        return x->time < y->time ? -1 : 1;
    }
    return x->order < y->order ? -1 : x->order > y->order;
}

static uint64_t draw_time(struct ho_rng *r, uint64_t now)
{
    uint64_t u = ho_rng_below(r, 100);
    if (u < 20) {
        return now; /* ties with the clock */
    }
    if (u < 50) {
        return now + ho_rng_below(r, 64); /* ties among themselves */
    }
    if (u < 80) {
        return now + ho_rng_below(r, 1u << 16);
    }
    if (u < 95) {
        return now + ho_rng_below(r, 1u << 30);
    }
    return now + ho_rng_below(r, UINT64_C(1) << 44);
}

/*
 * Rounds of: schedule a batch, cancel a random part of what is pending (and some handles that
 * are no longer pending), then pop a random number of events, which must be exactly the
 * smallest (time, order) of the pending set, in order. About 250,000 operations per geometry.
 */
static void run_reference(uint32_t wbits, uint32_t nbits, uint64_t seed)
{
    struct sim_evq *q = make_queue(wbits, nbits);
    struct ho_rng r;
    ho_rng_seed(&r, seed);
    size_t cap = 8192;
    struct ref_ev *live = malloc(cap * sizeof *live);
    uint64_t *gone = malloc(4096 * sizeof *gone); /* handles no longer pending */
    assert_non_null(live);
    assert_non_null(gone);
    size_t nlive = 0, ngone = 0;
    uint64_t order = 0, ops = 0;
    for (int round = 0; round < 60; round++) {
        size_t batch = (size_t)ho_rng_below(&r, 1500);
        for (size_t i = 0; i < batch && nlive < cap; i++) {
            struct ref_ev e = {.time = draw_time(&r, sim_evq_now(q)), .order = order++};
            assert_int_equal(sim_evq_schedule(q, e.time, log_event, NULL, e.order, &e.handle),
                             HO_OK);
            assert_true(e.handle != 0);
            live[nlive++] = e;
            ops++;
        }
        size_t cancels = nlive ? (size_t)ho_rng_below(&r, nlive / 3 + 1) : 0;
        for (size_t i = 0; i < cancels && nlive > 0; i++) {
            size_t k = (size_t)ho_rng_below(&r, nlive);
            assert_int_equal(sim_evq_cancel(q, live[k].handle), HO_OK);
            if (ngone < 4096) {
                gone[ngone++] = live[k].handle;
            }
            live[k] = live[--nlive];
            ops++;
        }
        for (size_t i = 0; i < 50 && ngone > 0; i++) {
            assert_int_equal(sim_evq_cancel(q, gone[ho_rng_below(&r, ngone)]), HO_ENOENT);
        }
        assert_int_equal(sim_evq_pending(q), nlive);
        qsort(live, nlive, sizeof *live, ref_cmp);
        size_t pops = round == 59 ? nlive : (size_t)ho_rng_below(&r, nlive + 1);
        for (size_t i = 0; i < pops; i++) {
            struct sim_event ev;
            if (i % 7 == 0) {
                uint64_t t;
                assert_int_equal(sim_evq_peek_time(q, &t), HO_OK);
                assert_int_equal(t, live[i].time);
            }
            assert_int_equal(sim_evq_pop(q, &ev), 1);
            if (ev.arg != live[i].order || ev.time != live[i].time || ev.handle != live[i].handle) {
                fail_msg("round %d pop %zu: got (t=%llu, #%llu), expected (t=%llu, #%llu)", round,
                         i, (unsigned long long)ev.time, (unsigned long long)ev.arg,
                         (unsigned long long)live[i].time, (unsigned long long)live[i].order);
            }
            assert_int_equal(sim_evq_now(q), ev.time);
            if (ngone < 4096) {
                gone[ngone++] = ev.handle;
            }
            ops++;
        }
        memmove(live, live + pops, (nlive - pops) * sizeof *live);
        nlive -= pops;
    }
    struct sim_event ev;
    assert_int_equal(sim_evq_pop(q, &ev), 0);
    assert_int_equal(sim_evq_pending(q), 0);
    assert_true(ops > 50000);
    free(live);
    free(gone);
    sim_evq_destroy(q);
}

static void test_random_against_sorted_reference(void **state)
{
    (void)state;
    for (size_t g = 0; g < NGEOMETRIES; g++) {
        run_reference(geometries[g][0], geometries[g][1], 100 + g);
    }
}

/*
 * Fully interleaved: handlers schedule and cancel while the queue runs. Checked without a
 * reference: the popped (time, order) sequence must increase strictly, an event may only be
 * cancelled if it orders after the last one popped (otherwise it was skipped), and in the end
 * every event ran or was cancelled exactly once.
 */
struct storm {
    struct sim_evq *q;
    struct ho_rng r;
    uint64_t *time;   /* per event */
    uint64_t *handle; /* per event */
    uint8_t *fate;    /* 0 pending, 1 ran, 2 cancelled */
    uint64_t n, cap;
    uint64_t last_time, last_order;
    uint64_t ran;
};

static void storm_event(void *ctx, uint64_t arg, uint64_t now);

static void storm_schedule(struct storm *s, uint64_t when)
{
    if (s->n == s->cap) {
        return;
    }
    uint64_t id = s->n++;
    s->time[id] = when;
    assert_int_equal(sim_evq_schedule(s->q, when, storm_event, s, id, &s->handle[id]), HO_OK);
}

static void storm_event(void *ctx, uint64_t arg, uint64_t now)
{
    struct storm *s = ctx;
    if (now < s->last_time || (now == s->last_time && arg <= s->last_order && s->ran > 0)) {
        fail_msg("event #%llu at %llu after #%llu at %llu", (unsigned long long)arg,
                 (unsigned long long)now, (unsigned long long)s->last_order,
                 (unsigned long long)s->last_time);
    }
    assert_int_equal(now, s->time[arg]);
    assert_int_equal(s->fate[arg], 0);
    s->fate[arg] = 1;
    s->last_time = now;
    s->last_order = arg;
    s->ran++;
    uint64_t children = ho_rng_below(&s->r, 4);
    for (uint64_t i = 0; i < children; i++) {
        storm_schedule(s, draw_time(&s->r, now));
    }
    if (s->n > 0 && ho_rng_below(&s->r, 2) == 0) {
        uint64_t victim = ho_rng_below(&s->r, s->n);
        int err = sim_evq_cancel(s->q, s->handle[victim]);
        if (s->fate[victim] == 0) {
            assert_int_equal(err, HO_OK);
            if (s->time[victim] < now || (s->time[victim] == now && victim < arg)) {
                fail_msg("event #%llu was still pending after its turn",
                         (unsigned long long)victim);
            }
            s->fate[victim] = 2;
        } else {
            assert_int_equal(err, HO_ENOENT);
        }
    }
}

static void test_interleaved_handlers_keep_order(void **state)
{
    (void)state;
    for (size_t g = 0; g < NGEOMETRIES; g++) {
        struct storm s = {.q = make_queue(geometries[g][0], geometries[g][1]), .cap = 150000};
        ho_rng_seed(&s.r, 7 + g);
        s.time = calloc(s.cap, sizeof *s.time);
        s.handle = calloc(s.cap, sizeof *s.handle);
        s.fate = calloc(s.cap, 1);
        assert_true(s.time && s.handle && s.fate);
        for (int i = 0; i < 500; i++) {
            storm_schedule(&s, draw_time(&s.r, 0));
        }
        while (sim_evq_run_next(s.q)) {
        }
        uint64_t ran = 0, cancelled = 0;
        for (uint64_t i = 0; i < s.n; i++) {
            assert_true(s.fate[i] == 1 || s.fate[i] == 2);
            ran += s.fate[i] == 1;
            cancelled += s.fate[i] == 2;
        }
        assert_int_equal(ran, s.ran);
        struct sim_evq_stats st;
        sim_evq_stats(s.q, &st);
        assert_int_equal(st.scheduled, s.n);
        assert_int_equal(st.popped, ran);
        assert_int_equal(st.cancelled, cancelled);
        assert_int_equal(st.pending, 0);
        assert_true(s.n > 100000);
        free(s.time);
        free(s.handle);
        free(s.fate);
        sim_evq_destroy(s.q);
    }
}

/* ---- handles, clock, limits ---------------------------------------------------------------- */

static void test_cancel_semantics(void **state)
{
    (void)state;
    struct sim_evq *q = make_queue(0, 0);
    struct log l = {0};
    uint64_t a, b, c;
    assert_int_equal(sim_evq_schedule(q, 10, log_event, &l, 1, &a), HO_OK);
    assert_int_equal(sim_evq_schedule(q, 20, log_event, &l, 2, &b), HO_OK);
    assert_true(a != b);
    assert_int_equal(sim_evq_cancel(q, 0), HO_ENOENT);
    assert_int_equal(sim_evq_cancel(q, UINT64_MAX), HO_ENOENT);
    assert_int_equal(sim_evq_cancel(q, b), HO_OK);
    assert_int_equal(sim_evq_cancel(q, b), HO_ENOENT);
    assert_int_equal(sim_evq_pending(q), 1);
    assert_int_equal(sim_evq_run_next(q), 1);
    assert_int_equal(sim_evq_cancel(q, a), HO_ENOENT); /* already ran */
    /* The next event reuses a freed slot; the old handles must not reach it. */
    assert_int_equal(sim_evq_schedule(q, 30, log_event, &l, 3, &c), HO_OK);
    assert_true(c != a && c != b);
    assert_int_equal(sim_evq_cancel(q, a), HO_ENOENT);
    assert_int_equal(sim_evq_cancel(q, b), HO_ENOENT);
    assert_int_equal(sim_evq_run_next(q), 1);
    assert_int_equal(sim_evq_run_next(q), 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.args[0], 1);
    assert_int_equal(l.args[1], 3);
    sim_evq_destroy(q);
}

static void test_clock_and_past_events(void **state)
{
    (void)state;
    struct sim_evq *q = make_queue(0, 0);
    struct log l = {0};
    assert_int_equal(sim_evq_now(q), 0);
    assert_int_equal(sim_evq_schedule(q, 100, NULL, &l, 0, NULL), HO_EINVAL);
    assert_int_equal(sim_evq_schedule(q, 100, log_event, &l, 0, NULL), HO_OK);
    uint64_t t = 0;
    assert_int_equal(sim_evq_peek_time(q, &t), HO_OK);
    assert_int_equal(t, 100);
    assert_int_equal(sim_evq_now(q), 0); /* peeking does not move the clock */
    assert_int_equal(sim_evq_run_next(q), 1);
    assert_int_equal(sim_evq_now(q), 100);
    assert_int_equal(sim_evq_schedule(q, 99, log_event, &l, 0, NULL), HO_EINVAL);
    assert_int_equal(sim_evq_schedule(q, 100, log_event, &l, 0, NULL), HO_OK);
    assert_int_equal(sim_evq_run_next(q), 1);
    assert_int_equal(sim_evq_peek_time(q, &t), HO_ENOENT);
    sim_evq_destroy(q);
}

static void test_run_until(void **state)
{
    (void)state;
    struct sim_evq *q = make_queue(0, 0);
    struct log l = {0};
    for (uint64_t t = 10; t <= 50; t += 10) {
        assert_int_equal(sim_evq_schedule(q, t, log_event, &l, t, NULL), HO_OK);
    }
    assert_int_equal(sim_evq_run_until(q, 20, 0), 2);
    assert_int_equal(sim_evq_now(q), 20);
    assert_int_equal(sim_evq_run_until(q, 25, 0), 0);
    assert_int_equal(sim_evq_now(q), 25);
    assert_int_equal(sim_evq_run_until(q, 5, 0), 0);
    assert_int_equal(sim_evq_now(q), 25);               /* never backwards */
    assert_int_equal(sim_evq_run_until(q, 1000, 1), 1); /* stopped by the limit */
    assert_int_equal(sim_evq_now(q), 30);
    assert_int_equal(sim_evq_run_until(q, 1000, 0), 2);
    assert_int_equal(sim_evq_now(q), 1000);
    assert_int_equal(l.n, 5);
    sim_evq_destroy(q);
}

static void test_far_future_and_empty_stretches(void **state)
{
    (void)state;
    for (size_t g = 0; g < NGEOMETRIES; g++) {
        struct sim_evq *q = make_queue(geometries[g][0], geometries[g][1]);
        struct log l = {0};
        const uint64_t times[] = {UINT64_MAX, 5000000000ULL, 1000000000ULL, UINT64_MAX - 1, 7};
        for (uint64_t i = 0; i < 5; i++) {
            assert_int_equal(sim_evq_schedule(q, times[i], log_event, &l, i, NULL), HO_OK);
        }
        while (sim_evq_run_next(q)) {
        }
        const uint64_t order[] = {4, 2, 1, 3, 0};
        assert_int_equal(l.n, 5);
        for (int i = 0; i < 5; i++) {
            assert_int_equal(l.args[i], order[i]);
        }
        assert_int_equal(sim_evq_now(q), UINT64_MAX);
        sim_evq_destroy(q);
    }
}

static void test_capacity_limit(void **state)
{
    (void)state;
    struct sim_evq_params p = {.initial_capacity = 2, .max_pending = 4};
    struct sim_evq *q;
    assert_int_equal(sim_evq_create(&p, &q), HO_OK);
    struct log l = {0};
    uint64_t h[4];
    for (int i = 0; i < 4; i++) {
        assert_int_equal(sim_evq_schedule(q, 10 + i, log_event, &l, i, &h[i]), HO_OK);
    }
    assert_int_equal(sim_evq_schedule(q, 10, log_event, &l, 9, NULL), HO_ENOSPC);
    /* A cancelled event's slot is reclaimed when the queue is full. */
    assert_int_equal(sim_evq_cancel(q, h[1]), HO_OK);
    assert_int_equal(sim_evq_schedule(q, 5, log_event, &l, 4, NULL), HO_OK);
    assert_int_equal(sim_evq_schedule(q, 10, log_event, &l, 9, NULL), HO_ENOSPC);
    while (sim_evq_run_next(q)) {
    }
    const uint64_t order[] = {4, 0, 2, 3};
    assert_int_equal(l.n, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(l.args[i], order[i]);
    }
    sim_evq_destroy(q);
}

static void test_mass_cancel_purges_and_keeps_order(void **state)
{
    (void)state;
    for (size_t g = 0; g < NGEOMETRIES; g++) {
        struct sim_evq *q = make_queue(geometries[g][0], geometries[g][1]);
        struct ho_rng r;
        ho_rng_seed(&r, 3);
        uint64_t h[2000], t[2000];
        for (int i = 0; i < 2000; i++) {
            t[i] = ho_rng_below(&r, 1u << 24);
            assert_int_equal(sim_evq_schedule(q, t[i], log_event, NULL, (uint64_t)i, &h[i]), HO_OK);
        }
        for (int i = 0; i < 2000; i++) {
            if (i % 10 != 0) {
                assert_int_equal(sim_evq_cancel(q, h[i]), HO_OK);
            }
        }
        struct sim_evq_stats st;
        sim_evq_stats(q, &st);
        assert_true(st.compactions >= 1);
        assert_int_equal(st.pending, 200);
        uint64_t last_t = 0, last_i = 0, n = 0;
        struct sim_event ev;
        while (sim_evq_pop(q, &ev)) {
            assert_int_equal(ev.arg % 10, 0);
            assert_int_equal(ev.time, t[ev.arg]);
            assert_true(n == 0 || ev.time > last_t || (ev.time == last_t && ev.arg > last_i));
            last_t = ev.time;
            last_i = ev.arg;
            n++;
        }
        assert_int_equal(n, 200);
        sim_evq_destroy(q);
    }
}

static void test_create_rejects_bad_params(void **state)
{
    (void)state;
    struct sim_evq *q = NULL;
    struct sim_evq_params p = {.max_pending = SIM_EVQ_MAX_PENDING + 1};
    assert_int_equal(sim_evq_create(&p, &q), HO_EINVAL);
    p = (struct sim_evq_params){.initial_capacity = 10, .max_pending = 5};
    assert_int_equal(sim_evq_create(&p, &q), HO_EINVAL);
    p = (struct sim_evq_params){.window_ns_log2 = 41};
    assert_int_equal(sim_evq_create(&p, &q), HO_EINVAL);
    p = (struct sim_evq_params){.windows_log2 = 5};
    assert_int_equal(sim_evq_create(&p, &q), HO_EINVAL);
    p = (struct sim_evq_params){.windows_log2 = 21};
    assert_int_equal(sim_evq_create(&p, &q), HO_EINVAL);
    assert_null(q);
    assert_int_equal(sim_evq_create(NULL, &q), HO_OK);
    sim_evq_destroy(q);
    sim_evq_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ties_run_in_scheduling_order),
        cmocka_unit_test(test_same_time_from_handler_runs_after_pending),
        cmocka_unit_test(test_random_against_sorted_reference),
        cmocka_unit_test(test_interleaved_handlers_keep_order),
        cmocka_unit_test(test_cancel_semantics),
        cmocka_unit_test(test_clock_and_past_events),
        cmocka_unit_test(test_run_until),
        cmocka_unit_test(test_far_future_and_empty_stretches),
        cmocka_unit_test(test_capacity_limit),
        cmocka_unit_test(test_mass_cancel_purges_and_keeps_order),
        cmocka_unit_test(test_create_rejects_bad_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
