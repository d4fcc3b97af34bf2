/*
 * bench_sim_core.c - throughput of the simulator's core data structures.
 *
 * Build and run from the top of the tree (optimised, no sanitizers):
 *
 *   cc -O2 -std=c11 -D_POSIX_C_SOURCE=200809L -Iinclude bench/bench_sim_core.c \
 *      src/sim/sim_evq.c src/sim/sim_cache.c src/sim/sim_time.c src/util/rng.c src/util/err.c \
 *      -o /tmp/bench_sim_core && /tmp/bench_sim_core
 *
 * Measures:
 * 1. The event queue under a simulator-like mix, at several pending sizes: connections each own
 *    one retransmission timer (far in the future, 200 ms to 1 s), and packet events (near, 0.1
 *    to 100 us) run; each packet event schedules the connection's next packet event and, as an
 *    acknowledgment would, cancels and re-arms the connection's timer with probability 1/2.
 *    Reported: events run per second and queue operations (schedule + cancel + pop) per second.
 * 2. The same workload on a plain binary heap of whole events with a position index for
 *    cancellation (the textbook discrete-event queue), for comparison.
 * 3. The cache model: 1 KB of state per connection touched per packet, over a 1 MB 16-way
 *    cache with 64-byte lines and next-line prefetch, for connection counts that fit in the
 *    cache and that do not. Reported: 1 KB accesses per second, lines per second, miss ratio.
 *
 * A benchmark measures wall time, so this file reads the clock; nothing in the library does.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "handoff/rng.h"
#include "handoff/sim_cache.h"
#include "handoff/sim_evq.h"

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- the workload, shared by both queues ---------------------------------------------- */

#define TIMER_FLAG (UINT64_C(1) << 63)

/*
 * The spread of a connection's next packet event. In the "dense" workload every pending packet
 * event falls within 100 us, the worst case for a calendar. In the "simulator" workload the
 * events of all connections together arrive at SIM_EVENT_RATE per simulated second (the host
 * processes about 3*10^5 packets/s in the paper's runs, with a few events per packet), so each
 * connection's next event is on average conns / SIM_EVENT_RATE seconds away.
 */
#define SIM_EVENT_RATE 2000000ULL
static uint64_t near_span = 100000;

static uint64_t near_delay(struct ho_rng *r)
{
    return 100 + ho_rng_below(r, near_span);
}

static void set_near_span(int dense, uint32_t conns)
{
    near_span = dense ? 100000 : 2 * (uint64_t)conns * 1000000000ULL / SIM_EVENT_RATE;
}

static uint64_t timer_delay(struct ho_rng *r)
{
    return 200000000 + ho_rng_below(r, 800000000); /* 200 ms .. 1 s */
}

/* ---- a plain binary heap with a position index, the baseline ---------------------------- */

struct bh_ent {
    uint64_t time;
    uint64_t seq;
    uint64_t arg;
    uint32_t id; /* index into pos[] */
    uint32_t pad;
};

struct bh {
    struct bh_ent *h;
    uint32_t *pos; /* id -> heap index, UINT32_MAX when not pending */
    uint32_t *free_ids;
    uint32_t nfree;
    uint32_t len;
    uint32_t cap;
    uint64_t seq;
};

static void bh_init(struct bh *b, uint32_t cap)
{
    b->h = malloc((size_t)cap * sizeof *b->h);
    b->pos = malloc((size_t)cap * sizeof *b->pos);
    b->free_ids = malloc((size_t)cap * sizeof *b->free_ids);
    if (!b->h || !b->pos || !b->free_ids) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (uint32_t i = 0; i < cap; i++) {
        b->free_ids[i] = cap - 1 - i;
        b->pos[i] = UINT32_MAX;
    }
    b->nfree = cap;
    b->len = 0;
    b->cap = cap;
    b->seq = 0;
}

static void bh_free(struct bh *b)
{
    free(b->h);
    free(b->pos);
    free(b->free_ids);
}

static int bh_less(const struct bh_ent *a, const struct bh_ent *b)
{
    return a->time < b->time || (a->time == b->time && a->seq < b->seq);
}

static void bh_place(struct bh *b, uint32_t i, struct bh_ent e)
{
    b->h[i] = e;
    b->pos[e.id] = i;
}

static void bh_up(struct bh *b, uint32_t i, struct bh_ent e)
{
    while (i > 0) {
        uint32_t p = (i - 1) / 2;
        if (!bh_less(&e, &b->h[p])) {
            break;
        }
        bh_place(b, i, b->h[p]);
        i = p;
    }
    bh_place(b, i, e);
}

static void bh_down(struct bh *b, uint32_t i, struct bh_ent e)
{
    for (;;) {
        uint32_t c = 2 * i + 1;
        if (c >= b->len) {
            break;
        }
        if (c + 1 < b->len && bh_less(&b->h[c + 1], &b->h[c])) {
            c++;
        }
        if (!bh_less(&b->h[c], &e)) {
            break;
        }
        bh_place(b, i, b->h[c]);
        i = c;
    }
    bh_place(b, i, e);
}

static uint32_t bh_schedule(struct bh *b, uint64_t when, uint64_t arg)
{
    if (b->nfree == 0) {
        fprintf(stderr, "binary heap full\n");
        exit(1);
    }
    uint32_t id = b->free_ids[--b->nfree];
    struct bh_ent e = {when, b->seq++, arg, id, 0};
    bh_up(b, b->len++, e);
    return id;
}

static void bh_remove_at(struct bh *b, uint32_t i)
{
    uint32_t id = b->h[i].id;
    b->pos[id] = UINT32_MAX;
    b->free_ids[b->nfree++] = id;
    struct bh_ent last = b->h[--b->len];
    if (i == b->len) {
        return;
    }
    if (i > 0 && bh_less(&last, &b->h[(i - 1) / 2])) {
        bh_up(b, i, last);
    } else {
        bh_down(b, i, last);
    }
}

static int bh_cancel(struct bh *b, uint32_t id)
{
    if (b->pos[id] == UINT32_MAX) {
        return -1;
    }
    bh_remove_at(b, b->pos[id]);
    return 0;
}

static int bh_pop(struct bh *b, uint64_t *time, uint64_t *arg)
{
    if (b->len == 0) {
        return 0;
    }
    *time = b->h[0].time;
    *arg = b->h[0].arg;
    bh_remove_at(b, 0);
    return 1;
}

/* ---- event-queue benchmarks --------------------------------------------------------------- */

struct result {
    double seconds;
    uint64_t events; /* events popped and handled */
    uint64_t ops;    /* schedules + cancels + pops */
    uint64_t checksum;
};

static void noop_event(void *ctx, uint64_t arg, uint64_t now)
{
    (void)ctx;
    (void)arg;
    (void)now;
}

/* conns connections, each with one timer and one packet event pending. */
static struct result run_evq(uint32_t conns, uint64_t events, uint64_t seed)
{
    struct ho_rng r;
    ho_rng_seed(&r, seed);
    struct sim_evq_params p = {.initial_capacity = 4 * conns};
    struct sim_evq *q;
    if (sim_evq_create(&p, &q) != 0) {
        fprintf(stderr, "sim_evq_create failed\n");
        exit(1);
    }
    uint64_t *timer = malloc((size_t)conns * sizeof *timer);
    for (uint32_t c = 0; c < conns; c++) {
        sim_evq_schedule(q, timer_delay(&r), noop_event, NULL, c | TIMER_FLAG, &timer[c]);
        sim_evq_schedule(q, near_delay(&r), noop_event, NULL, c, NULL);
    }
    struct result res = {0};
    double t0 = wall_seconds();
    struct sim_event ev;
    for (uint64_t i = 0; i < events; i++) {
        sim_evq_pop(q, &ev);
        uint64_t now = ev.time;
        uint32_t c = (uint32_t)ev.arg;
        res.checksum += now ^ ev.arg;
        if (ev.arg & TIMER_FLAG) {
            sim_evq_schedule(q, now + timer_delay(&r), noop_event, NULL, ev.arg, &timer[c]);
            res.ops += 2;
            continue;
        }
        sim_evq_schedule(q, now + near_delay(&r), noop_event, NULL, c, NULL);
        res.ops += 2;
        if (ho_rng_next(&r) & 1) {
            sim_evq_cancel(q, timer[c]);
            sim_evq_schedule(q, now + timer_delay(&r), noop_event, NULL, c | TIMER_FLAG, &timer[c]);
            res.ops += 2;
        }
    }
    res.seconds = wall_seconds() - t0;
    res.events = events;
    free(timer);
    sim_evq_destroy(q);
    return res;
}

static struct result run_bh(uint32_t conns, uint64_t events, uint64_t seed)
{
    struct ho_rng r;
    ho_rng_seed(&r, seed);
    struct bh b;
    bh_init(&b, 4 * conns);
    uint32_t *timer = malloc((size_t)conns * sizeof *timer);
    for (uint32_t c = 0; c < conns; c++) {
        timer[c] = bh_schedule(&b, timer_delay(&r), c | TIMER_FLAG);
        bh_schedule(&b, near_delay(&r), c);
    }
    struct result res = {0};
    double t0 = wall_seconds();
    for (uint64_t i = 0; i < events; i++) {
        uint64_t now = 0, arg = 0;
        bh_pop(&b, &now, &arg);
        uint32_t c = (uint32_t)arg;
        res.checksum += now ^ arg;
        if (arg & TIMER_FLAG) {
            timer[c] = bh_schedule(&b, now + timer_delay(&r), arg);
            res.ops += 2;
            continue;
        }
        bh_schedule(&b, now + near_delay(&r), c);
        res.ops += 2;
        if (ho_rng_next(&r) & 1) {
            bh_cancel(&b, timer[c]);
            timer[c] = bh_schedule(&b, now + timer_delay(&r), c | TIMER_FLAG);
            res.ops += 2;
        }
    }
    res.seconds = wall_seconds() - t0;
    res.events = events;
    free(timer);
    bh_free(&b);
    return res;
}

/* Pure hold model without cancels: pop one, schedule one at now + near delay. */
static struct result run_evq_hold(uint32_t pending, uint64_t events, uint64_t seed)
{
    struct ho_rng r;
    ho_rng_seed(&r, seed);
    struct sim_evq_params p = {.initial_capacity = pending + 16};
    struct sim_evq *q;
    if (sim_evq_create(&p, &q) != 0) {
        exit(1);
    }
    for (uint32_t i = 0; i < pending; i++) {
        sim_evq_schedule(q, near_delay(&r), noop_event, NULL, i, NULL);
    }
    struct result res = {0};
    double t0 = wall_seconds();
    struct sim_event ev;
    for (uint64_t i = 0; i < events; i++) {
        sim_evq_pop(q, &ev);
        res.checksum += ev.time ^ ev.arg;
        sim_evq_schedule(q, ev.time + near_delay(&r), noop_event, NULL, ev.arg, NULL);
    }
    res.seconds = wall_seconds() - t0;
    res.events = events;
    res.ops = 2 * events;
    sim_evq_destroy(q);
    return res;
}

static struct result run_bh_hold(uint32_t pending, uint64_t events, uint64_t seed)
{
    struct ho_rng r;
    ho_rng_seed(&r, seed);
    struct bh b;
    bh_init(&b, pending + 16);
    for (uint32_t i = 0; i < pending; i++) {
        bh_schedule(&b, near_delay(&r), i);
    }
    struct result res = {0};
    double t0 = wall_seconds();
    for (uint64_t i = 0; i < events; i++) {
        uint64_t now = 0, arg = 0;
        bh_pop(&b, &now, &arg);
        res.checksum += now ^ arg;
        bh_schedule(&b, now + near_delay(&r), arg);
    }
    res.seconds = wall_seconds() - t0;
    res.events = events;
    res.ops = 2 * events;
    bh_free(&b);
    return res;
}

static void print_result(const char *name, uint32_t size, struct result r)
{
    printf("  %-28s %8u  %7.2f M events/s  %7.2f M ops/s  (%.3f s, checksum %016llx)\n", name, size,
           r.events / r.seconds / 1e6, r.ops / r.seconds / 1e6, r.seconds,
           (unsigned long long)r.checksum);
}

/* ---- cache benchmark ---------------------------------------------------------------------- */

static void run_cache(uint32_t conns, uint64_t accesses, uint64_t seed)
{
    struct sim_cache_params p = {
        .size_bytes = 1 << 20, .ways = 16, .line_bytes = 64, .next_line_prefetch = true};
    struct sim_cache *c;
    if (sim_cache_create(&p, &c) != 0) {
        exit(1);
    }
    struct ho_rng r;
    ho_rng_seed(&r, seed);
    const uint64_t base = 0x10000000, stride = 1024; /* connection state blocks of 1 KB */
    for (uint32_t i = 0; i < conns; i++) {
        sim_cache_access(c, base + (uint64_t)i * stride, stride);
    }
    sim_cache_reset_stats(c);
    uint64_t misses = 0;
    double t0 = wall_seconds();
    for (uint64_t i = 0; i < accesses; i++) {
        uint64_t conn = ho_rng_below(&r, conns);
        misses += sim_cache_access(c, base + conn * stride, stride);
    }
    double s = wall_seconds() - t0;
    struct sim_cache_stats st;
    sim_cache_stats(c, &st);
    printf("  %6u conns x 1 KB: %6.2f M accesses/s  %7.1f M lines/s  miss ratio %.3f "
           "(%.1f misses per 1 KB access)\n",
           conns, accesses / s / 1e6, st.accesses / s / 1e6, (double)st.misses / st.accesses,
           (double)misses / accesses);
    sim_cache_destroy(c);
}

int main(int argc, char **argv)
{
    uint64_t events = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000;
    const uint32_t sizes[] = {1000, 10000, 100000, 1000000};
    for (int dense = 0; dense <= 1; dense++) {
        printf("event queue, %s mix: per connection a timer 0.2..1 s out and a packet event %s,\n"
               "1/2 of packet events cancel and re-arm the timer\n",
               dense ? "dense" : "simulator",
               dense ? "0.1..100 us out" : "at 2 M events/s overall");
        printf("  %-28s %8s\n", "queue", "pending");
        for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
            uint32_t conns = sizes[i] / 2;
            set_near_span(dense, conns);
            struct result a = run_evq(conns, events, 1);
            print_result("sim_evq", sizes[i], a);
            struct result b = run_bh(conns, events, 1);
            print_result("binary heap", sizes[i], b);
            if (a.checksum != b.checksum) {
                printf("  !! the two queues popped different events\n");
                return 1;
            }
        }
    }
    set_near_span(1, 0);
    printf("event queue, hold model (pop one, schedule one 0.1..100 us later, no cancels)\n");
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        struct result a = run_evq_hold(sizes[i], events, 2);
        print_result("sim_evq", sizes[i], a);
        struct result b = run_bh_hold(sizes[i], events, 2);
        print_result("binary heap", sizes[i], b);
        if (a.checksum != b.checksum) {
            printf("  !! the two queues popped different events\n");
            return 1;
        }
    }
    printf("cache model, 1 MB 16-way 64 B lines, next-line prefetch, 1 KB per access\n");
    const uint32_t conns[] = {256, 1024, 4096, 16384};
    for (size_t i = 0; i < sizeof conns / sizeof conns[0]; i++) {
        run_cache(conns[i], events / 4, 3);
    }
    return 0;
}
