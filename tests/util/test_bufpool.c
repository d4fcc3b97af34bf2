/*
 * test_bufpool.c - numbered byte buffers: contents kept until freed, numbers reused last in
 * first out, memory kept for the next buffer, records beside the bytes, and empty buffers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "handoff/bufpool.h"
#include "handoff/err.h"

static void test_put_get_free(void **state)
{
    (void)state;
    struct ho_bufpool p;
    ho_bufpool_init(&p, 0);
    uint8_t data[3000];
    for (size_t i = 0; i < sizeof data; i++) {
        data[i] = (uint8_t)(i * 7);
    }
    /* Lengths around the smallest buffer, so that some buffers must grow when reused. */
    const uint32_t lens[] = {0, 1, 12, 1023, 1024, 1025, 3000};
    int h[7];
    for (int i = 0; i < 7; i++) {
        h[i] = ho_bufpool_put(&p, data, lens[i]);
        assert_true(h[i] >= 0);
    }
    assert_int_equal(p.live, 7);
    for (int i = 0; i < 7; i++) {
        uint32_t len;
        const uint8_t *b = ho_bufpool_get(&p, (uint32_t)h[i], &len);
        assert_int_equal(len, lens[i]);
        assert_non_null(b);
        assert_memory_equal(b, data, len);
    }
    /* Freed numbers come back last in, first out, and hold the new contents. */
    ho_bufpool_free(&p, (uint32_t)h[1]);
    ho_bufpool_free(&p, (uint32_t)h[6]);
    assert_int_equal(p.live, 5);
    int a = ho_bufpool_put(&p, data + 5, 2000);
    int b = ho_bufpool_put(&p, data + 9, 2500); /* larger than buffer h[1] had */
    assert_int_equal(a, h[6]);
    assert_int_equal(b, h[1]);
    uint32_t len;
    assert_memory_equal(ho_bufpool_get(&p, (uint32_t)a, &len), data + 5, 2000);
    assert_int_equal(len, 2000);
    assert_memory_equal(ho_bufpool_get(&p, (uint32_t)b, &len), data + 9, 2500);
    ho_bufpool_fini(&p); /* frees what is still held */
}

static void test_alloc_in_place_and_many(void **state)
{
    (void)state;
    struct ho_bufpool p;
    ho_bufpool_init(&p, 0);
    /* More buffers than the pool starts with: it grows, and numbers stay distinct. */
    uint32_t hs[500];
    for (uint32_t i = 0; i < 500; i++) {
        uint8_t *b = ho_bufpool_alloc(&p, 4, &hs[i]);
        assert_non_null(b);
        memcpy(b, &i, 4);
    }
    for (uint32_t i = 0; i < 500; i++) {
        uint32_t len, v;
        memcpy(&v, ho_bufpool_get(&p, hs[i], &len), 4);
        assert_int_equal(v, i);
        assert_int_equal(len, 4);
    }
    for (uint32_t i = 0; i < 500; i++) {
        ho_bufpool_free(&p, hs[i]);
    }
    assert_int_equal(p.live, 0);
    ho_bufpool_fini(&p);
}

struct rec {
    uint64_t a, b;
};

static void test_records(void **state)
{
    (void)state;
    struct ho_bufpool p;
    ho_bufpool_init(&p, sizeof(struct rec));
    int h = ho_bufpool_put(&p, (const uint8_t *)"x", 1);
    assert_true(h >= 0);
    struct rec *r = ho_bufpool_rec(&p, (uint32_t)h);
    assert_non_null(r);
    r->a = 11;
    r->b = 22;
    /* Another buffer has its own record; the first one's stays. */
    int g = ho_bufpool_put(&p, (const uint8_t *)"y", 1);
    struct rec *q = ho_bufpool_rec(&p, (uint32_t)g);
    assert_non_null(q);
    assert_ptr_not_equal(q, r);
    q->a = 33;
    assert_true(((struct rec *)ho_bufpool_rec(&p, (uint32_t)h))->a == 11);
    ho_bufpool_free(&p, (uint32_t)h);
    ho_bufpool_free(&p, (uint32_t)g);
    ho_bufpool_fini(&p);
    /* Without records, none is given. */
    ho_bufpool_init(&p, 0);
    h = ho_bufpool_put(&p, NULL, 0);
    assert_true(h >= 0);
    assert_null(ho_bufpool_rec(&p, (uint32_t)h));
    ho_bufpool_fini(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_get_free),
        cmocka_unit_test(test_alloc_in_place_and_many),
        cmocka_unit_test(test_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
