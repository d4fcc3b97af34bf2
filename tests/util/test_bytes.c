/*
 * test_bytes.c - the byte writer/reader: encodings, sticky overflow, measuring mode.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "handoff/bytes.h"
#include "handoff/err.h"

static void test_roundtrip_big_endian(void **state)
{
    (void)state;
    uint8_t buf[15];
    struct ho_wr w;
    ho_wr_init(&w, buf, sizeof buf);
    ho_wr_u8(&w, 0xab);
    ho_wr_u16(&w, 0x1234);
    ho_wr_u32(&w, 0xdeadbeef);
    ho_wr_u64(&w, 0x0102030405060708ULL);
    assert_int_equal(ho_wr_error(&w), HO_OK);
    assert_int_equal(w.len, 15);
    const uint8_t expect[15] = {0xab, 0x12, 0x34, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4, 5, 6, 7, 8};
    assert_memory_equal(buf, expect, 15);

    struct ho_rd r;
    ho_rd_init(&r, buf, sizeof buf);
    assert_int_equal(ho_rd_u8(&r), 0xab);
    assert_int_equal(ho_rd_u16(&r), 0x1234);
    assert_int_equal(ho_rd_u32(&r), 0xdeadbeef);
    assert_true(ho_rd_u64(&r) == 0x0102030405060708ULL);
    assert_int_equal(ho_rd_left(&r), 0);
    assert_int_equal(ho_rd_error(&r), HO_OK);
}

static void test_writer_overflow_is_sticky(void **state)
{
    (void)state;
    uint8_t buf[3] = {0};
    struct ho_wr w;
    ho_wr_init(&w, buf, sizeof buf);
    ho_wr_u16(&w, 0xffff);
    ho_wr_u16(&w, 0x1111); /* does not fit */
    ho_wr_u8(&w, 0x22);    /* would fit, but the writer has failed */
    assert_int_equal(ho_wr_error(&w), HO_EMSGSIZE);
    assert_int_equal(w.len, 2);
    assert_int_equal(buf[2], 0);
}

static void test_reader_overrun_is_sticky(void **state)
{
    (void)state;
    const uint8_t buf[3] = {1, 2, 3};
    struct ho_rd r;
    ho_rd_init(&r, buf, sizeof buf);
    assert_int_equal(ho_rd_u16(&r), 0x0102);
    assert_int_equal(ho_rd_u32(&r), 0); /* past the end */
    assert_int_equal(ho_rd_u8(&r), 0);  /* still failed */
    assert_int_equal(ho_rd_error(&r), HO_EMSGSIZE);
    assert_int_equal(ho_rd_left(&r), 0);
}

static void test_null_buffers(void **state)
{
    (void)state;
    struct ho_wr w;
    ho_wr_init(&w, NULL, 100);
    ho_wr_u8(&w, 1);
    assert_int_equal(ho_wr_error(&w), HO_EMSGSIZE);
    struct ho_rd r;
    ho_rd_init(&r, NULL, 100);
    ho_rd_bytes(&r, NULL, 1);
    assert_int_equal(ho_rd_error(&r), HO_EMSGSIZE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_big_endian),
        cmocka_unit_test(test_writer_overflow_is_sticky),
        cmocka_unit_test(test_reader_overrun_is_sticky),
        cmocka_unit_test(test_null_buffers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
