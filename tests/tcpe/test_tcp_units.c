/*
 * test_tcp_units.c - unit tests of the engine's pieces, through its private headers: the
 * sequence macros across wraparound, the ring buffers (wrap, growth, shrinking, virtual), the
 * out-of-order queue's trimming and merging, and the RFC 6298 estimator and backoff.
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
#include "handoff/tcpe.h"
#include "tcp_var.h"

/* ---- sequence arithmetic ---- */

static void test_seq_macros(void **state)
{
    (void)state;
    assert_true(SEQ_LT(1, 2));
    assert_false(SEQ_LT(2, 2));
    assert_true(SEQ_LEQ(2, 2));
    assert_true(SEQ_LT(0xfffffff0u, 0x10u)); /* across zero */
    assert_true(SEQ_GT(0x10u, 0xfffffff0u));
    assert_true(SEQ_GEQ(0u, 0xffffffffu));
    assert_false(SEQ_GT(0xffffffffu, 0u));
    assert_true(SEQ_LT(0u, 0x7fffffffu)); /* just under half the space apart */
    assert_true(SEQ_GT(0u, 0x80000001u)); /* just over: the other way */
    assert_int_equal(SEQ_MAX(0xfffffff0u, 5u), 5u);
    assert_int_equal(SEQ_MIN(0xfffffff0u, 5u), 0xfffffff0u);
    assert_true(SEQ_IN(0u, 0xfffffffeu, 2u));
    assert_false(SEQ_IN(2u, 0xfffffffeu, 2u));
    assert_int_equal(SEQ_DIFF(3u, 0xfffffffeu), 5);
    /* Against a model on 64-bit integers, random pairs within 2^31 of each other. */
    struct ho_rng r;
    ho_rng_seed(&r, 1);
    for (int i = 0; i < 100000; i++) {
        uint64_t a = ho_rng_next(&r) & 0xffffffffu;
        int64_t d = (int64_t)ho_rng_below(&r, 0xfffffffeu) - 0x7fffffff;
        uint32_t b = (uint32_t)(a + (uint64_t)d);
        assert_int_equal(SEQ_LT((uint32_t)a, b), d > 0);
        assert_int_equal(SEQ_GEQ((uint32_t)a, b), d <= 0);
    }
}

/* ---- buffers ---- */

static void *counting_realloc(void *ctx, void *p, size_t size)
{
    int *live = ctx;
    if (size == 0) {
        if (p != NULL) {
            (*live)--;
        }
        free(p);
        return NULL;
    }
    if (p == NULL) {
        (*live)++;
    }
    return realloc(p, size);
}

static void test_buffer_ring(void **state)
{
    (void)state;
    int live = 0;
    struct tcp_alloc a = {counting_realloc, &live};
    struct tcp_buf b = {0};
    uint8_t src[5000], dst[5000], scratch[5000];
    for (int i = 0; i < 5000; i++) {
        src[i] = (uint8_t)(i * 13 + 7);
    }
    /* Fill, drain part, refill: the ring wraps. */
    assert_int_equal(tcp_buf_append(&b, &a, src, 200), 0);
    assert_int_equal(b.cap, 256);
    tcp_buf_drop(&b, &a, 150);
    assert_int_equal(tcp_buf_append(&b, &a, src + 200, 100), 0);
    assert_int_equal(b.cap, 256); /* 150 octets fit without growing */
    assert_true(b.head + b.len > b.cap);
    tcp_buf_copy(&b, 0, dst, 150);
    assert_memory_equal(dst, src + 150, 150);
    const uint8_t *p = tcp_buf_peek(&b, 50, 100, scratch);
    assert_ptr_equal(p, scratch); /* wrapped: copied */
    assert_memory_equal(p, src + 200, 100);
    p = tcp_buf_peek(&b, 0, 50, scratch);
    assert_ptr_not_equal(p, scratch); /* contiguous: in place */
    assert_memory_equal(p, src + 150, 50);
    /* Growth keeps the order. */
    assert_int_equal(tcp_buf_append(&b, &a, src + 300, 4000), 0);
    assert_int_equal(b.len, 4150);
    tcp_buf_copy(&b, 0, dst, 4150);
    assert_memory_equal(dst, src + 150, 4150);
    /* Draining shrinks, and empty frees. */
    uint32_t big = b.cap;
    tcp_buf_drop(&b, &a, 4000);
    assert_true(b.cap < big);
    tcp_buf_copy(&b, 0, dst, 150);
    assert_memory_equal(dst, src + 4150, 150);
    tcp_buf_drop(&b, &a, 150);
    assert_null(b.data);
    assert_int_equal(live, 0);
    /* Virtual octets are only counted. */
    assert_int_equal(tcp_buf_append(&b, &a, NULL, 1u << 29), 0);
    assert_null(tcp_buf_peek(&b, 0, 10, scratch));
    tcp_buf_drop(&b, &a, 1u << 28);
    assert_int_equal(b.len, 1u << 28);
    assert_int_equal(live, 0);
    tcp_buf_free(&b, &a);
    assert_int_equal(b.len, 0);
}

static void *failing_realloc(void *ctx, void *p, size_t size)
{
    (void)ctx;
    if (size == 0) {
        free(p);
    }
    return NULL;
}

static void test_buffer_nomem(void **state)
{
    (void)state;
    struct tcp_alloc a = {failing_realloc, NULL};
    struct tcp_buf b = {0};
    uint8_t src[10] = {0};
    assert_int_equal(tcp_buf_append(&b, &a, src, 10), HO_ENOMEM);
    assert_int_equal(b.len, 0);
    assert_null(b.data);
}

/* ---- the out-of-order queue ---- */

static int null_output(void *ctx, const struct tcpe_seg *seg)
{
    (void)ctx;
    (void)seg;
    return HO_OK;
}

struct reass_env {
    struct tcpe_stack *s;
    struct tcpe_conn *tp;
    uint8_t data[4000];
};

static void reass_env(struct reass_env *e, uint32_t rcv_nxt, uint32_t max)
{
    struct tcpe_params p;
    tcpe_params_init(&p);
    p.ops.output = null_output;
    p.ooo_max = max;
    assert_int_equal(tcpe_stack_create(&p, &e->s), 0);
    struct tcpe_tuple t = {1, 2, 3, 4};
    e->tp = tcp_conn_new(e->s, &t);
    assert_non_null(e->tp);
    e->tp->rcv_nxt = rcv_nxt;
    for (int i = 0; i < 4000; i++) {
        e->data[i] = (uint8_t)(i * 7 + 1);
    }
}

/* Inserts [off, off + len) of the stream (relative to rcv_nxt). */
static int ins(struct reass_env *e, uint32_t off, uint32_t len, bool fin)
{
    return tcp_reass_insert(e->tp, e->tp->rcv_nxt + off, len, e->data + off, fin);
}

/* Checks the queue is exactly these (off, len) ranges. */
static void expect_ranges(struct reass_env *e, const uint32_t *r, int n)
{
    const struct tcp_ooo *q = e->tp->ooo;
    for (int i = 0; i < n; i++, q = q->next) {
        assert_non_null(q);
        assert_int_equal(q->seq - e->tp->rcv_nxt, r[2 * i]);
        assert_int_equal(q->len, r[2 * i + 1]);
        assert_memory_equal(q->data, e->data + r[2 * i], q->len);
    }
    assert_null(q);
    assert_int_equal(e->tp->ooo_count, (uint32_t)n);
}

static void test_reass_trimming(void **state)
{
    (void)state;
    for (int wrap = 0; wrap <= 1; wrap++) {
        struct reass_env e;
        reass_env(&e, wrap ? 0xfffffc00u : 1000u, 16);
        assert_int_equal(ins(&e, 100, 100, false), 0);
        assert_int_equal(ins(&e, 300, 100, false), 0);
        expect_ranges(&e, (const uint32_t[]){100, 100, 300, 100}, 2);
        assert_int_equal(ins(&e, 120, 50, false), 0); /* inside: nothing new */
        expect_ranges(&e, (const uint32_t[]){100, 100, 300, 100}, 2);
        assert_int_equal(ins(&e, 150, 100, false), 0); /* front overlap: trimmed to 200..250 */
        expect_ranges(&e, (const uint32_t[]){100, 100, 200, 50, 300, 100}, 3);
        assert_int_equal(ins(&e, 260, 60, false), 0); /* tail overlap: trimmed to 260..300 */
        expect_ranges(&e, (const uint32_t[]){100, 100, 200, 50, 260, 40, 300, 100}, 4);
        assert_int_equal(ins(&e, 50, 500, false), 0); /* covers all: replaces them */
        expect_ranges(&e, (const uint32_t[]){50, 500}, 1);
        /* Pull: nothing until the hole at 0 is filled. */
        assert_false(tcp_reass_pull(e.tp));
        assert_int_equal(tcp_buf_append(&e.tp->rcv, &e.s->alloc, e.data, 50), 0);
        e.tp->rcv_nxt += 50;
        uint32_t start = e.tp->rcv_nxt - 50;
        assert_false(tcp_reass_pull(e.tp));
        assert_int_equal(e.tp->rcv_nxt, start + 550);
        assert_null(e.tp->ooo);
        uint8_t got[550];
        tcp_buf_copy(&e.tp->rcv, 0, got, 550);
        assert_memory_equal(got, e.data, 550);
        tcpe_stack_destroy(e.s);
    }
}

static void test_reass_fin_and_bound(void **state)
{
    (void)state;
    struct reass_env e;
    reass_env(&e, 5000, 2);
    assert_int_equal(ins(&e, 10, 10, false), 0);
    assert_int_equal(ins(&e, 30, 10, true), 0);
    assert_int_equal(ins(&e, 50, 10, false), HO_ENOSPC); /* bound */
    assert_int_equal(ins(&e, 0, 35, false), 0);          /* replaces [10,20), joins */
    assert_int_equal(e.tp->ooo_count, 2);
    assert_int_equal(ins(&e, 25, 15, true), 0); /* overlaps, brings the same FIN */
    assert_int_equal(e.tp->ooo_count, 2);
    /* The queue starts at RCV.NXT: everything up to the FIN comes out. */
    assert_true(tcp_reass_pull(e.tp));
    assert_int_equal(e.tp->rcv_nxt, 5040);
    assert_int_equal(e.tp->rcv.len, 40);
    assert_int_equal(e.tp->ooo_count, 0);
    tcpe_stack_destroy(e.s);
}

/* A bare FIN out of order joins the segment that ends where it is. */
static void test_reass_bare_fin(void **state)
{
    (void)state;
    struct reass_env e;
    reass_env(&e, 100, 8);
    assert_int_equal(ins(&e, 10, 10, false), 0);
    assert_int_equal(tcp_reass_insert(e.tp, e.tp->rcv_nxt + 20, 0, NULL, true), 0);
    assert_int_equal(e.tp->ooo_count, 1);
    assert_true(e.tp->ooo->fin);
    tcpe_stack_destroy(e.s);
}

/* ---- RTO ---- */

static void test_rto_estimator(void **state)
{
    (void)state;
    struct reass_env e;
    reass_env(&e, 0, 8);
    struct tcpe_conn *tp = e.tp;
    const uint64_t ms = 1000000;
    e.s->p.rto_min = 1;
    tcp_rtt_sample(tp, 100 * ms);
    assert_true(tp->t_srtt == 100 * ms && tp->t_rttvar == 50 * ms && tp->t_rto == 300 * ms);
    tcp_rtt_sample(tp, 100 * ms);
    assert_true(tp->t_srtt == 100 * ms && tp->t_rttvar == 37500000ull);
    assert_true(tp->t_rto == 250 * ms);
    /* A constant RTT drives RTTVAR toward 0; the G term (1 ms) keeps RTO above SRTT. */
    for (int i = 0; i < 200; i++) {
        tcp_rtt_sample(tp, 100 * ms);
    }
    assert_true(tp->t_rto == 101 * ms);
    /* Backoff doubles and saturates at rto_max; a sample resets it. */
    e.s->p.rto_max = 60000 * ms;
    tp->t_rto = 1000 * ms;
    tp->t_rxtshift = 3;
    assert_true(tcp_rto_current(tp) == 8000 * ms);
    tp->t_rxtshift = 200;
    assert_true(tcp_rto_current(tp) == 60000 * ms);
    tcp_rtt_sample(tp, 100 * ms);
    assert_int_equal(tp->t_rxtshift, 0);
    /* The floor. */
    e.s->p.rto_min = 1000 * ms;
    tcp_rtt_sample(tp, 10 * ms);
    assert_true(tp->t_rto == 1000 * ms);
    tcpe_stack_destroy(e.s);
}

static void test_state_predicates(void **state)
{
    (void)state;
    assert_false(TCPE_HAVE_RCVD_SYN(TCPE_SYN_SENT));
    assert_true(TCPE_HAVE_RCVD_SYN(TCPE_SYN_RECEIVED));
    assert_false(TCPE_HAVE_ESTABLISHED(TCPE_SYN_RECEIVED));
    assert_true(TCPE_HAVE_ESTABLISHED(TCPE_TIME_WAIT));
    assert_false(TCPE_HAVE_RCVD_FIN(TCPE_FIN_WAIT_2));
    assert_true(TCPE_HAVE_RCVD_FIN(TCPE_CLOSE_WAIT));
    assert_true(TCPE_HAVE_RCVD_FIN(TCPE_TIME_WAIT));
    int exportable = 0;
    for (int s = 0; s < TCPE_NSTATES; s++) {
        exportable += TCPE_CAN_EXPORT(s);
        assert_true(strlen(tcpe_state_name(s)) > 0);
    }
    assert_int_equal(exportable, 6);
    assert_false(TCPE_CAN_EXPORT(TCPE_TIME_WAIT));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seq_macros),          cmocka_unit_test(test_buffer_ring),
        cmocka_unit_test(test_buffer_nomem),        cmocka_unit_test(test_reass_trimming),
        cmocka_unit_test(test_reass_fin_and_bound), cmocka_unit_test(test_reass_bare_fin),
        cmocka_unit_test(test_rto_estimator),       cmocka_unit_test(test_state_predicates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
