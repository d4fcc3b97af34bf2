/*
 * test_sched.c - the NIC's queues and scheduler: exact service order under FCFS and
 * host-first (with the work in progress, NIC_TX, always first), the shared receive memory and
 * drop counting, ring and sequence-number wraparound, and random runs checked against a
 * sorted-list reference model.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "handoff/err.h"
#include "handoff/rng.h"
#include "handoff/sched.h"

/* Short queue names for the scripted scenarios. */
#define HR HO_SCHED_HOST_RX
#define HT HO_SCHED_HOST_TX
#define NR HO_SCHED_NIC_RX
#define CM HO_SCHED_CMD
#define NT HO_SCHED_NIC_TX

static struct ho_sched *make_sched(enum ho_sched_discipline d, uint32_t rx, uint32_t other,
                                   uint64_t first_seq)
{
    const struct ho_sched_params p = {.discipline = d,
                                      .rx_capacity = rx,
                                      .host_tx_capacity = other,
                                      .cmd_capacity = other,
                                      .nic_tx_capacity = other,
                                      .first_seq = first_seq};
    struct ho_sched *s = ho_sched_create(&p);
    assert_non_null(s);
    return s;
}

/* One arrival of a scripted scenario: the queue, and the handle that identifies it. */
struct arrival {
    enum ho_sched_queue q;
    uint64_t handle;
};

/* Enqueues the script at times 100, 200, ...; every enqueue must succeed. */
static void enqueue_script(struct ho_sched *s, const struct arrival *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(ho_sched_enqueue(s, a[i].q, a[i].handle, (uint32_t)i, 100 * (i + 1)),
                         HO_OK);
    }
}

/* Dequeues n items and checks their handles against want[]; peek must agree each time. */
static void expect_order(struct ho_sched *s, const uint64_t *want, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct ho_sched_item peeked, got;
        assert_int_equal(ho_sched_peek(s, &peeked), HO_OK);
        assert_int_equal(ho_sched_dequeue(s, 10000, &got), HO_OK);
        assert_int_equal(got.handle, want[i]);
        assert_memory_equal(&peeked, &got, sizeof(got));
    }
}

/* An interleaving that touches every queue, with handles that name their arrival rank. */
static const struct arrival mixed[] = {
    {NR, 1}, {CM, 2}, {HT, 3},  {NT, 4},  {HR, 5},  {NR, 6},  {HT, 7},
    {CM, 8}, {HR, 9}, {NT, 10}, {NR, 11}, {HR, 12}, {HT, 13},
};
#define NMIXED (sizeof(mixed) / sizeof(mixed[0]))

static void test_create_rejects_bad_params(void **state)
{
    (void)state;
    assert_null(ho_sched_create(NULL));
    const struct ho_sched_params good = {.discipline = HO_SCHED_FCFS,
                                         .rx_capacity = 4,
                                         .host_tx_capacity = 4,
                                         .cmd_capacity = 4,
                                         .nic_tx_capacity = 4};
    struct ho_sched *s = ho_sched_create(&good);
    assert_non_null(s);
    ho_sched_destroy(s);
    ho_sched_destroy(NULL);

    struct ho_sched_params p = good;
    p.discipline = HO_SCHED_NDISCIPLINES;
    assert_null(ho_sched_create(&p));
    uint32_t *fields[] = {&p.rx_capacity, &p.host_tx_capacity, &p.cmd_capacity, &p.nic_tx_capacity};
    for (size_t i = 0; i < 4; i++) {
        p = good;
        *fields[i] = 0;
        assert_null(ho_sched_create(&p));
        *fields[i] = HO_SCHED_MAX_CAPACITY + 1;
        assert_null(ho_sched_create(&p));
    }
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(ho_sched_queue_name(HO_SCHED_HOST_RX), "host_rx");
    assert_string_equal(ho_sched_queue_name(HO_SCHED_HOST_TX), "host_tx");
    assert_string_equal(ho_sched_queue_name(HO_SCHED_NIC_RX), "nic_rx");
    assert_string_equal(ho_sched_queue_name(HO_SCHED_CMD), "cmd");
    assert_string_equal(ho_sched_queue_name(HO_SCHED_NIC_TX), "nic_tx");
    assert_string_equal(ho_sched_queue_name(HO_SCHED_NQUEUES), "?");
    assert_string_equal(ho_sched_queue_name((enum ho_sched_queue) - 1), "?");
    assert_string_equal(ho_sched_discipline_name(HO_SCHED_FCFS), "fcfs");
    assert_string_equal(ho_sched_discipline_name(HO_SCHED_HOST_FIRST), "host_first");
    assert_string_equal(ho_sched_discipline_name(HO_SCHED_NDISCIPLINES), "?");
    assert_true(HO_SCHED_QUEUE_IS_HOST(HO_SCHED_HOST_RX) &&
                HO_SCHED_QUEUE_IS_HOST(HO_SCHED_HOST_TX));
    assert_false(HO_SCHED_QUEUE_IS_HOST(HO_SCHED_NIC_RX) || HO_SCHED_QUEUE_IS_HOST(HO_SCHED_CMD) ||
                 HO_SCHED_QUEUE_IS_HOST(HO_SCHED_NIC_TX));
}

static void test_empty_scheduler(void **state)
{
    (void)state;
    struct ho_sched *s = make_sched(HO_SCHED_HOST_FIRST, 4, 4, 0);
    struct ho_sched_item it;
    memset(&it, 0xa5, sizeof(it));
    const struct ho_sched_item before = it;
    assert_int_equal(ho_sched_dequeue(s, 5, &it), HO_EAGAIN);
    assert_int_equal(ho_sched_peek(s, &it), HO_EAGAIN);
    assert_memory_equal(&it, &before, sizeof(it)); /* untouched on failure */
    assert_int_equal(ho_sched_dequeue(NULL, 5, &it), HO_EINVAL);
    assert_int_equal(ho_sched_dequeue(s, 5, NULL), HO_EINVAL);
    assert_int_equal(ho_sched_peek(NULL, &it), HO_EINVAL);
    assert_int_equal(ho_sched_peek(s, NULL), HO_EINVAL);
    assert_int_equal(ho_sched_enqueue(NULL, HR, 1, 0, 0), HO_EINVAL);
    assert_int_equal(ho_sched_enqueue(s, HO_SCHED_NQUEUES, 1, 0, 0), HO_EINVAL);
    assert_int_equal(ho_sched_enqueue(s, (enum ho_sched_queue) - 1, 1, 0, 0), HO_EINVAL);
    assert_int_equal(ho_sched_total_len(s), 0);
    assert_int_equal(ho_sched_get_discipline(s), HO_SCHED_HOST_FIRST);
    struct ho_sched_counters c;
    assert_int_equal(ho_sched_get_counters(s, HO_SCHED_NQUEUES, &c), HO_EINVAL);
    assert_int_equal(ho_sched_get_counters(s, HR, NULL), HO_EINVAL);
    assert_int_equal(ho_sched_len(s, HO_SCHED_NQUEUES), 0);
    assert_int_equal(ho_sched_capacity(s, HO_SCHED_NQUEUES), 0);
    /* One item in, one out, then empty again. */
    assert_int_equal(ho_sched_enqueue(s, NT, 77, 3, 10), HO_OK);
    assert_int_equal(ho_sched_dequeue(s, 15, &it), HO_OK);
    assert_int_equal(it.handle, 77);
    assert_int_equal(ho_sched_dequeue(s, 16, &it), HO_EAGAIN);
    ho_sched_destroy(s);
}

static void test_fcfs_serves_arrival_order(void **state)
{
    (void)state;
    struct ho_sched *s = make_sched(HO_SCHED_FCFS, 16, 16, 1000);
    enqueue_script(s, mixed, NMIXED);
    assert_int_equal(ho_sched_total_len(s), NMIXED);
    /* The work in progress (NIC_TX: arrivals 4 and 10) first, then arrival order. */
    const size_t order[] = {3, 9, 0, 1, 2, 4, 5, 6, 7, 8, 10, 11, 12};
    for (size_t k = 0; k < NMIXED; k++) {
        size_t i = order[k];
        struct ho_sched_item it;
        assert_int_equal(ho_sched_dequeue(s, 5000, &it), HO_OK);
        /* Everything the item carries comes back. */
        assert_int_equal(it.handle, mixed[i].handle);
        assert_int_equal(it.queue, mixed[i].q);
        assert_int_equal(it.aux, i);
        assert_int_equal(it.enq_ns, 100 * (i + 1));
        assert_int_equal(it.seq, 1000 + i);
    }
    assert_int_equal(ho_sched_total_len(s), 0);
    ho_sched_destroy(s);
}

static void test_host_first_serves_host_queues_first(void **state)
{
    (void)state;
    struct ho_sched *s = make_sched(HO_SCHED_HOST_FIRST, 16, 16, 0);
    enqueue_script(s, mixed, NMIXED);
    /* The work in progress (4 NT, 10 NT), the host queues in arrival order (3 HT, 5 HR, 7 HT,
     * 9 HR, 12 HR, 13 HT), then NIC_RX and CMD in arrival order (1 NR, 2 CM, 6 NR, 8 CM,
     * 11 NR). */
    const uint64_t want[] = {4, 10, 3, 5, 7, 9, 12, 13, 1, 2, 6, 8, 11};
    expect_order(s, want, NMIXED);
    ho_sched_destroy(s);
}

/* A host packet that arrives while NIC work is waiting jumps ahead of all of it, except the
 * output of the work already done. */
static void test_host_first_preempts_waiting_nic_work(void **state)
{
    (void)state;
    struct ho_sched *s = make_sched(HO_SCHED_HOST_FIRST, 16, 16, 0);
    const struct arrival nic_work[] = {{NR, 1}, {CM, 2}, {NR, 3}};
    enqueue_script(s, nic_work, 3);
    expect_order(s, (const uint64_t[]){1}, 1);
    /* Processing NIC packet 1 produced two segments (NT 60, 61); a host packet and a NIC
     * packet arrived meanwhile. */
    assert_int_equal(ho_sched_enqueue(s, HT, 50, 0, 900), HO_OK);
    assert_int_equal(ho_sched_enqueue(s, NT, 60, 0, 901), HO_OK);
    assert_int_equal(ho_sched_enqueue(s, NR, 4, 0, 902), HO_OK);
    assert_int_equal(ho_sched_enqueue(s, NT, 61, 0, 903), HO_OK);
    assert_int_equal(ho_sched_enqueue(s, HR, 51, 0, 904), HO_OK);
    expect_order(s, (const uint64_t[]){60, 61, 50, 51, 2, 3, 4}, 7);

    /* Under FCFS the host packets wait their turn (after the output all the same). */
    struct ho_sched *f = make_sched(HO_SCHED_FCFS, 16, 16, 0);
    enqueue_script(f, nic_work, 3);
    expect_order(f, (const uint64_t[]){1}, 1);
    assert_int_equal(ho_sched_enqueue(f, HT, 50, 0, 900), HO_OK);
    assert_int_equal(ho_sched_enqueue(f, NT, 60, 0, 901), HO_OK);
    assert_int_equal(ho_sched_enqueue(f, NR, 4, 0, 902), HO_OK);
    assert_int_equal(ho_sched_enqueue(f, NT, 61, 0, 903), HO_OK);
    assert_int_equal(ho_sched_enqueue(f, HR, 51, 0, 904), HO_OK);
    expect_order(f, (const uint64_t[]){60, 61, 2, 3, 50, 4, 51}, 7);
    ho_sched_destroy(s);
    ho_sched_destroy(f);
}

static void expect_counters(const struct ho_sched *s, enum ho_sched_queue q, uint64_t enq,
                            uint64_t deq, uint64_t drop)
{
    struct ho_sched_counters c;
    assert_int_equal(ho_sched_get_counters(s, q, &c), HO_OK);
    assert_int_equal(c.enqueued, enq);
    assert_int_equal(c.dequeued, deq);
    assert_int_equal(c.dropped, drop);
}

/* ho_sched_move: the NIC packets picked (6 and 11, of a connection given back) become host
 * packets in their arrival place: under host-first they now go with the host queues; Qlen
 * counts only the NIC packets left, the counters follow them, and other queues are refused. */
static bool pick_6_11(void *ctx, const struct ho_sched_item *it)
{
    (void)ctx;
    return it->handle == 6 || it->handle == 11;
}

static void test_move_between_receive_queues(void **state)
{
    (void)state;
    struct ho_sched *s = make_sched(HO_SCHED_HOST_FIRST, 16, 16, 0);
    enqueue_script(s, mixed, NMIXED);
    assert_int_equal(ho_sched_qlen(s), 3);
    assert_int_equal(ho_sched_move(s, NR, HR, pick_6_11, NULL), 2);
    assert_int_equal(ho_sched_qlen(s), 1);
    assert_int_equal(ho_sched_len(s, HR), 5);
    assert_int_equal(ho_sched_rx_len(s), 6);
    expect_counters(s, NR, 1, 0, 0);
    expect_counters(s, HR, 5, 0, 0);
    assert_int_equal(ho_sched_move(s, CM, HR, pick_6_11, NULL), HO_EINVAL);
    assert_int_equal(ho_sched_move(s, NR, NR, pick_6_11, NULL), HO_EINVAL);
    /* 4 NT, 10 NT; then the host queues in arrival order, 6 and 11 among them; then 1 NR, 2 CM,
     * 8 CM. */
    const uint64_t want[] = {4, 10, 3, 5, 6, 7, 9, 11, 12, 13, 1, 2, 8};
    expect_order(s, want, NMIXED);
    ho_sched_destroy(s);
}

static void test_receive_memory_is_shared(void **state)
{
    (void)state;
    struct ho_sched *s = make_sched(HO_SCHED_FCFS, 4, 2, 0);
    assert_int_equal(ho_sched_capacity(s, HR), 4);
    assert_int_equal(ho_sched_capacity(s, NR), 4);
    assert_int_equal(ho_sched_capacity(s, HT), 2);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(ho_sched_enqueue(s, HR, (uint64_t)i, 0, 0), HO_OK);
    }
    assert_int_equal(ho_sched_enqueue(s, NR, 10, 0, 0), HO_OK);
    assert_int_equal(ho_sched_rx_len(s), 4);
    assert_int_equal(ho_sched_qlen(s), 1);
    /* The memory is full for both receive queues; each drop is charged to its own queue. */
    assert_int_equal(ho_sched_enqueue(s, NR, 11, 0, 0), HO_ENOSPC);
    assert_int_equal(ho_sched_enqueue(s, NR, 12, 0, 0), HO_ENOSPC);
    assert_int_equal(ho_sched_enqueue(s, HR, 13, 0, 0), HO_ENOSPC);
    expect_counters(s, HR, 3, 0, 1);
    expect_counters(s, NR, 1, 0, 2);
    /* Other queues have their own room. */
    assert_int_equal(ho_sched_enqueue(s, HT, 20, 0, 0), HO_OK);
    assert_int_equal(ho_sched_enqueue(s, CM, 21, 0, 0), HO_OK);
    /* Serving a host packet frees a buffer a NIC packet can take. */
    struct ho_sched_item it;
    assert_int_equal(ho_sched_dequeue(s, 1, &it), HO_OK);
    assert_int_equal(it.queue, HR);
    assert_int_equal(ho_sched_enqueue(s, NT, 22, 0, 0), HO_OK);
    assert_int_equal(ho_sched_enqueue(s, NR, 14, 0, 0), HO_OK);
    assert_int_equal(ho_sched_qlen(s), 2);
    assert_int_equal(ho_sched_len(s, HR), 2);
    assert_int_equal(ho_sched_rx_len(s), 4);
    expect_counters(s, NR, 2, 0, 2);
    /* Drain, then NIC packets alone may use the whole memory. */
    while (ho_sched_dequeue(s, 2, &it) == HO_OK) {
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(ho_sched_enqueue(s, NR, (uint64_t)i, 0, 0), HO_OK);
    }
    assert_int_equal(ho_sched_qlen(s), 4);
    assert_int_equal(ho_sched_enqueue(s, HR, 99, 0, 0), HO_ENOSPC);
    expect_counters(s, HR, 3, 3, 2);
    expect_counters(s, NR, 6, 2, 2);
    ho_sched_destroy(s);
}

static void test_own_capacities_and_drops(void **state)
{
    (void)state;
    const struct ho_sched_params p = {.discipline = HO_SCHED_HOST_FIRST,
                                      .rx_capacity = 8,
                                      .host_tx_capacity = 1,
                                      .cmd_capacity = 2,
                                      .nic_tx_capacity = 3};
    struct ho_sched *s = ho_sched_create(&p);
    assert_non_null(s);
    const enum ho_sched_queue qs[] = {HT, CM, NT};
    const uint32_t caps[] = {1, 2, 3};
    for (int k = 0; k < 3; k++) {
        assert_int_equal(ho_sched_capacity(s, qs[k]), caps[k]);
        for (uint32_t i = 0; i < caps[k]; i++) {
            assert_int_equal(ho_sched_enqueue(s, qs[k], i, 0, 0), HO_OK);
        }
        for (int extra = 0; extra <= k; extra++) {
            assert_int_equal(ho_sched_enqueue(s, qs[k], 9, 0, 0), HO_ENOSPC);
        }
        assert_int_equal(ho_sched_len(s, qs[k]), caps[k]);
        expect_counters(s, qs[k], caps[k], 0, (uint64_t)k + 1);
    }
    /* The receive memory is untouched by those. */
    assert_int_equal(ho_sched_rx_len(s), 0);
    assert_int_equal(ho_sched_enqueue(s, NR, 1, 0, 0), HO_OK);
    assert_int_equal(ho_sched_total_len(s), 7);
    ho_sched_destroy(s);
}

/* Rings of three slots driven through thousands of fill/drain cycles of varying depth. */
static void test_rings_wrap_many_times(void **state)
{
    (void)state;
    struct ho_sched *s = make_sched(HO_SCHED_FCFS, 3, 3, 0);
    uint64_t next_in[HO_SCHED_NQUEUES] = {0};
    uint64_t next_out[HO_SCHED_NQUEUES] = {0};
    uint64_t seq = 0;
    for (uint32_t cycle = 0; cycle < 20000; cycle++) {
        const enum ho_sched_queue q = (enum ho_sched_queue)(cycle % HO_SCHED_NQUEUES);
        const uint32_t depth = 1 + cycle % 3;
        for (uint32_t i = 0; i < depth; i++) {
            assert_int_equal(ho_sched_enqueue(s, q, next_in[q]++, 0, cycle), HO_OK);
        }
        for (uint32_t i = 0; i < depth; i++) {
            struct ho_sched_item it;
            assert_int_equal(ho_sched_dequeue(s, cycle, &it), HO_OK);
            assert_int_equal(it.queue, q);
            assert_int_equal(it.handle, next_out[q]++);
            assert_int_equal(it.seq, seq++);
        }
        assert_int_equal(ho_sched_total_len(s), 0);
    }
    for (int q = 0; q < HO_SCHED_NQUEUES; q++) {
        expect_counters(s, (enum ho_sched_queue)q, next_in[q], next_out[q], 0);
    }
    ho_sched_destroy(s);
}

/* Sequence numbers that cross 2^64 keep arrival order under both disciplines. */
static void test_sequence_numbers_wrap(void **state)
{
    (void)state;
    for (int d = 0; d < HO_SCHED_NDISCIPLINES; d++) {
        struct ho_sched *s = make_sched((enum ho_sched_discipline)d, 16, 16, UINT64_MAX - 5);
        enqueue_script(s, mixed, NMIXED);
        const uint64_t fcfs[] = {4, 10, 1, 2, 3, 5, 6, 7, 8, 9, 11, 12, 13};
        const uint64_t host_first[] = {4, 10, 3, 5, 7, 9, 12, 13, 1, 2, 6, 8, 11};
        expect_order(s, d == HO_SCHED_FCFS ? fcfs : host_first, NMIXED);
        ho_sched_destroy(s);
    }
    assert_true(HO_SCHED_SEQ_LT(UINT64_MAX, 0));
    assert_false(HO_SCHED_SEQ_LT(0, UINT64_MAX));
    assert_false(HO_SCHED_SEQ_LT(7, 7));
}

static void test_wait_counters(void **state)
{
    (void)state;
    struct ho_sched *s = make_sched(HO_SCHED_FCFS, 8, 8, 0);
    assert_int_equal(ho_sched_enqueue(s, HR, 1, 0, 1000), HO_OK);
    assert_int_equal(ho_sched_enqueue(s, HR, 2, 0, 1500), HO_OK);
    assert_int_equal(ho_sched_enqueue(s, CM, 3, 0, 5000), HO_OK);
    struct ho_sched_item it;
    assert_int_equal(ho_sched_dequeue(s, 3000, &it), HO_OK); /* waited 2000 */
    assert_int_equal(ho_sched_dequeue(s, 3100, &it), HO_OK); /* waited 1600 */
    assert_int_equal(ho_sched_dequeue(s, 4000, &it), HO_OK); /* clock behind: counts 0 */
    struct ho_sched_counters c;
    assert_int_equal(ho_sched_get_counters(s, HR, &c), HO_OK);
    assert_int_equal(c.wait_ns_total, 3600);
    assert_int_equal(c.wait_ns_max, 2000);
    assert_int_equal(c.max_len, 2);
    assert_int_equal(ho_sched_get_counters(s, CM, &c), HO_OK);
    assert_int_equal(c.wait_ns_total, 0);
    assert_int_equal(c.dequeued, 1);
    /* Reset keeps the present length as the new maximum. */
    assert_int_equal(ho_sched_enqueue(s, NT, 4, 0, 0), HO_OK);
    ho_sched_reset_counters(s);
    assert_int_equal(ho_sched_get_counters(s, NT, &c), HO_OK);
    assert_int_equal(c.enqueued + c.dequeued + c.dropped + c.wait_ns_total, 0);
    assert_int_equal(c.max_len, 1);
    assert_int_equal(ho_sched_get_counters(s, HR, &c), HO_OK);
    assert_int_equal(c.max_len + c.enqueued, 0);
    ho_sched_destroy(s);
}

/*
 * The reference model: an unordered list of the items held, each with its true arrival rank
 * (a plain counter, so the model needs no modular comparison); the next item is the one with
 * the smallest (class, rank). Capacities follow the contract directly.
 */
struct ref_item {
    enum ho_sched_queue q;
    uint64_t handle, enq_ns, rank;
    uint32_t aux;
};

#define REF_MAX 64

struct ref_model {
    enum ho_sched_discipline d;
    uint32_t cap[HO_SCHED_NQUEUES]; /* rx queues: the shared capacity */
    struct ref_item items[REF_MAX];
    uint32_t n;
    uint32_t len[HO_SCHED_NQUEUES];
    uint64_t next_rank;
    struct ho_sched_counters counters[HO_SCHED_NQUEUES];
};

static int ref_class(const struct ref_model *m, enum ho_sched_queue q)
{
    if (q == HO_SCHED_NIC_TX) {
        return -1; /* the work in progress: first under both disciplines */
    }
    return m->d == HO_SCHED_HOST_FIRST && q != HO_SCHED_HOST_RX && q != HO_SCHED_HOST_TX;
}

static int ref_enqueue(struct ref_model *m, enum ho_sched_queue q, uint64_t handle, uint32_t aux,
                       uint64_t now)
{
    const int rx = q == HO_SCHED_HOST_RX || q == HO_SCHED_NIC_RX;
    const uint32_t used = rx ? m->len[HO_SCHED_HOST_RX] + m->len[HO_SCHED_NIC_RX] : m->len[q];
    if (used >= m->cap[q]) {
        m->counters[q].dropped++;
        return HO_ENOSPC;
    }
    assert_true(m->n < REF_MAX);
    m->items[m->n++] = (struct ref_item){
        .q = q, .handle = handle, .enq_ns = now, .rank = m->next_rank++, .aux = aux};
    m->len[q]++;
    m->counters[q].enqueued++;
    return HO_OK;
}

/* Index of the next item in m->items, or -1. */
static int ref_next(const struct ref_model *m)
{
    int best = -1;
    for (uint32_t i = 0; i < m->n; i++) {
        const struct ref_item *a = &m->items[i];
        if (best < 0) {
            best = (int)i;
            continue;
        }
        const struct ref_item *b = &m->items[best];
        const int ca = ref_class(m, a->q), cb = ref_class(m, b->q);
        if (ca < cb || (ca == cb && a->rank < b->rank)) {
            best = (int)i;
        }
    }
    return best;
}

static void random_run(enum ho_sched_discipline d, uint64_t first_seq, uint32_t ops, uint64_t seed)
{
    struct ho_rng r;
    ho_rng_seed_named(&r, seed, "sched-test");
    struct ref_model m = {.d = d};
    const uint32_t rx_cap = 1 + (uint32_t)ho_rng_below(&r, 12);
    const struct ho_sched_params p = {.discipline = d,
                                      .rx_capacity = rx_cap,
                                      .host_tx_capacity = 1 + (uint32_t)ho_rng_below(&r, 8),
                                      .cmd_capacity = 1 + (uint32_t)ho_rng_below(&r, 8),
                                      .nic_tx_capacity = 1 + (uint32_t)ho_rng_below(&r, 8),
                                      .first_seq = first_seq};
    m.cap[HO_SCHED_HOST_RX] = m.cap[HO_SCHED_NIC_RX] = rx_cap;
    m.cap[HO_SCHED_HOST_TX] = p.host_tx_capacity;
    m.cap[HO_SCHED_CMD] = p.cmd_capacity;
    m.cap[HO_SCHED_NIC_TX] = p.nic_tx_capacity;
    struct ho_sched *s = ho_sched_create(&p);
    assert_non_null(s);
    uint64_t now = 0, drops = 0, served = 0;

    for (uint32_t op = 0; op < ops; op++) {
        now += ho_rng_below(&r, 1000);
        /* Alternate bursts (enqueues dominate, queues fill and drop) and drains. */
        const uint32_t p_enqueue = (op / 5000) % 2 == 0 ? 70 : 35;
        const uint32_t dice = (uint32_t)ho_rng_below(&r, 100);
        if (dice < p_enqueue) {
            const enum ho_sched_queue q = (enum ho_sched_queue)ho_rng_below(&r, HO_SCHED_NQUEUES);
            const uint64_t handle = ho_rng_next(&r);
            const uint32_t aux = (uint32_t)ho_rng_next(&r);
            const int want = ref_enqueue(&m, q, handle, aux, now);
            assert_int_equal(ho_sched_enqueue(s, q, handle, aux, now), want);
            drops += want == HO_ENOSPC;
        } else {
            const int i = ref_next(&m);
            struct ho_sched_item peeked, got;
            const int prc = ho_sched_peek(s, &peeked);
            const int rc = ho_sched_dequeue(s, now, &got);
            if (i < 0) {
                assert_int_equal(prc, HO_EAGAIN);
                assert_int_equal(rc, HO_EAGAIN);
                continue;
            }
            assert_int_equal(prc, HO_OK);
            assert_int_equal(rc, HO_OK);
            assert_memory_equal(&peeked, &got, sizeof(got));
            const struct ref_item want = m.items[i];
            assert_int_equal(got.queue, want.q);
            assert_int_equal(got.handle, want.handle);
            assert_int_equal(got.aux, want.aux);
            assert_int_equal(got.enq_ns, want.enq_ns);
            assert_true(got.seq == first_seq + want.rank);
            struct ho_sched_counters *c = &m.counters[want.q];
            c->dequeued++;
            c->wait_ns_total += now - want.enq_ns;
            m.items[i] = m.items[--m.n];
            m.len[want.q]--;
            served++;
        }
        for (int q = 0; q < HO_SCHED_NQUEUES; q++) {
            assert_int_equal(ho_sched_len(s, (enum ho_sched_queue)q), m.len[q]);
        }
        assert_int_equal(ho_sched_qlen(s), m.len[HO_SCHED_NIC_RX]);
        assert_int_equal(ho_sched_rx_len(s), m.len[HO_SCHED_HOST_RX] + m.len[HO_SCHED_NIC_RX]);
        assert_true(ho_sched_rx_len(s) <= rx_cap);
        assert_int_equal(ho_sched_total_len(s), m.n);
    }
    for (int q = 0; q < HO_SCHED_NQUEUES; q++) {
        struct ho_sched_counters c;
        assert_int_equal(ho_sched_get_counters(s, (enum ho_sched_queue)q, &c), HO_OK);
        assert_int_equal(c.enqueued, m.counters[q].enqueued);
        assert_int_equal(c.dequeued, m.counters[q].dequeued);
        assert_int_equal(c.dropped, m.counters[q].dropped);
        assert_int_equal(c.wait_ns_total, m.counters[q].wait_ns_total);
    }
    /* The run exercised what it is meant to. */
    assert_true(drops > ops / 100);
    assert_true(served > ops / 4);
    ho_sched_destroy(s);
}

static void test_random_against_reference(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        random_run(HO_SCHED_FCFS, 0, 50000, seed);
        random_run(HO_SCHED_HOST_FIRST, 0, 50000, seed);
    }
    /* Sequence numbers crossing 2^64 during the first burst, while the queues are full. */
    random_run(HO_SCHED_FCFS, UINT64_MAX - 500, 50000, 9);
    random_run(HO_SCHED_HOST_FIRST, UINT64_MAX - 500, 50000, 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_rejects_bad_params),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_empty_scheduler),
        cmocka_unit_test(test_fcfs_serves_arrival_order),
        cmocka_unit_test(test_host_first_serves_host_queues_first),
        cmocka_unit_test(test_host_first_preempts_waiting_nic_work),
        cmocka_unit_test(test_move_between_receive_queues),
        cmocka_unit_test(test_receive_memory_is_shared),
        cmocka_unit_test(test_own_capacities_and_drops),
        cmocka_unit_test(test_rings_wrap_many_times),
        cmocka_unit_test(test_sequence_numbers_wrap),
        cmocka_unit_test(test_wait_counters),
        cmocka_unit_test(test_random_against_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
