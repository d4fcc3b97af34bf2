/*
 * test_tcp_close.c - every close ordering as scenario scripts (reliability 16): active,
 * passive and simultaneous close, FIN with data, lost FINs, TIME_WAIT and its restart, the
 * FIN_WAIT_2 limit, RSTs in the closing states, release with unread data and data after
 * release (RFC 1122 4.2.2.13), abort.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "handoff/tcpe.h"
#include "helpers/tt_script.h"

static void run(const char *script)
{
    struct tt_script_cfg cfg;
    tt_script_cfg_init(&cfg);
    assert_int_equal(tt_script_run_wrapped(script, &cfg), 0);
}

static void test_active_close(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2  call shutdown\n"
                        "0.2  > F. 1:1(0) ack 1\n"
                        "0.2  call state FIN_WAIT_1\n"
                        "0.3  < . 1:1(0) ack 2 win 65535\n"
                        "0.3  call state FIN_WAIT_2\n"
                        "0.3  call wake never\n" /* held by the application: no FIN_WAIT_2 limit */
                        "0.4  < F. 1:1(0) ack 2 win 65535\n"
                        "0.4  > . 2:2(0) ack 2\n"
                        "0.4  call state TIME_WAIT\n"
                        "0.4  call eof 1\n"
                        "0.4  call wake 60.4\n" /* 2 * MSL */
                        "60.3 call state TIME_WAIT\n"
                        "60.4 call state CLOSED\n"
                        "60.4 call release\n"
                        "60.4 call conns 1\n");
}

static void test_passive_close(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2 < F. 1:1(0) ack 1 win 65535\n"
                        "0.2 > . 1:1(0) ack 2\n"
                        "0.2 call state CLOSE_WAIT\n"
                        "0.2 call eof 1\n"
                        "0.3 call send 100\n" /* the other direction is still open */
                        "0.3 > P. 1:101(100) ack 2\n"
                        "0.4 call shutdown\n"
                        "0.4 > F. 101:101(0) ack 2\n"
                        "0.4 call state LAST_ACK\n"
                        "0.5 < . 2:2(0) ack 102 win 65535\n"
                        "0.5 call state CLOSED\n"
                        "0.5 call wake never\n");
}

static void test_simultaneous_close(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2 call shutdown\n"
                        "0.2 > F. 1:1(0) ack 1\n"
                        "0.2 < F. 1:1(0) ack 1 win 65535\n"
                        "0.2 > . 2:2(0) ack 2\n"
                        "0.2 call state CLOSING\n"
                        "0.3 < . 2:2(0) ack 2 win 65535\n"
                        "0.3 call state TIME_WAIT\n"
                        "0.3 call wake 60.3\n");
}

/* A FIN that also acknowledges ours takes FIN_WAIT_1 straight to TIME_WAIT. */
static void test_fin_ack_together(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2 call shutdown\n"
                        "0.2 > F. 1:1(0) ack 1\n"
                        "0.3 < F. 1:1(0) ack 2 win 65535\n"
                        "0.3 > . 2:2(0) ack 2\n"
                        "0.3 call state TIME_WAIT\n");
}

/* In TIME_WAIT a retransmitted FIN is acknowledged again and restarts the 2*MSL wait. */
static void test_time_wait_restart(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2 call shutdown\n"
                        "0.2 > F. 1:1(0) ack 1\n"
                        "0.3 < F. 1:1(0) ack 2 win 65535\n"
                        "0.3 > . 2:2(0) ack 2\n"
                        "10  < F. 1:1(0) ack 2 win 65535\n"
                        "10  > . 2:2(0) ack 2\n"
                        "10  call wake 70\n"
                        "70  call state CLOSED\n");
}

/* A RST in TIME_WAIT, CLOSE_WAIT: the connection goes (RFC 9293 3.10.7.4 step 2). */
static void test_rst_in_closing_states(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2 call shutdown\n"
                        "0.2 > F. 1:1(0) ack 1\n"
                        "0.3 < F. 1:1(0) ack 2 win 65535\n"
                        "0.3 > . 2:2(0) ack 2\n"
                        "0.4 < R. 2:2(0) ack 2 win 0\n"
                        "0.4 call state CLOSED\n"
                        "0.4 call stat conns_reset 0\n");
    run(TT_PASSIVE_OPEN "0.2 < F. 1:1(0) ack 1 win 65535\n"
                        "0.2 > . 1:1(0) ack 2\n"
                        "0.3 < R. 2:2(0) ack 1 win 0\n"
                        "0.3 call state CLOSED\n"
                        "0.3 call stat conns_reset 1\n");
}

/* A lost FIN is retransmitted by the timer like data. */
static void test_fin_retransmit(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2 call shutdown\n"
                        "0.2 > F. 1:1(0) ack 1\n"
                        "1.2 > F. 1:1(0) ack 1\n"
                        "3.2 > F. 1:1(0) ack 1\n"
                        "3.3 < . 1:1(0) ack 2 win 65535\n"
                        "3.3 call state FIN_WAIT_2\n"
                        "3.3 call stat rexmt_segs 2\n");
}

/* The FIN rides on the last data segment, even one Nagle was holding. */
static void test_fin_with_data(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2 call send 1500\n"
                        "0.2 > . 1:1001(1000) ack 1\n"
                        "0.2 call shutdown\n"
                        "0.2 > FP. 1001:1501(500) ack 1\n"
                        "0.3 < . 1:1(0) ack 1502 win 65535\n"
                        "0.3 call state FIN_WAIT_2\n"
                        "0.3 call info sndbuf 0\n");
}

/* Releasing with unread data resets (RFC 1122 4.2.2.13). */
static void test_release_unread(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2 < P. 1:101(100) ack 1 win 65535\n"
                        "0.3 > . 1:1(0) ack 101 win 65435\n"
                        "0.4 call release\n"
                        "0.4 > R. 1:1(0) ack 101\n"
                        "0.4 call conns 1\n");
}

/* Data for a released connection draws a RST; a released FIN_WAIT_2 ends after its limit. */
static void test_after_release(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2 call release\n"
                        "0.2 > F. 1:1(0) ack 1\n"
                        "0.3 < . 1:1(0) ack 2 win 65535\n"
                        "0.4 < P. 1:101(100) ack 2 win 65535\n"
                        "0.4 > R. 2:2(0) ack 1\n"
                        "0.4 call drop after_close 1\n"
                        "0.4 call conns 1\n");
    run(TT_PASSIVE_OPEN "0.2 call release\n"
                        "0.2 > F. 1:1(0) ack 1\n"
                        "0.3 < . 1:1(0) ack 2 win 65535\n"
                        "0.3 call conns 2\n"
                        "60.2 call conns 2\n"
                        "60.3 call conns 1\n");
}

/* A released connection in CLOSE_WAIT closes its side and is freed when the FIN is acked. */
static void test_release_after_eof(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2 < F. 1:1(0) ack 1 win 65535\n"
                        "0.2 > . 1:1(0) ack 2\n"
                        "0.3 call release\n"
                        "0.3 > F. 1:1(0) ack 2\n"
                        "0.4 < . 2:2(0) ack 2 win 65535\n"
                        "0.4 call conns 1\n");
}

static void test_abort(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2 call send 100\n"
                        "0.2 > P. 1:101(100) ack 1\n"
                        "0.3 call abort\n"
                        "0.3 > R. 101:101(0) ack 1\n"
                        "0.3 call state CLOSED\n"
                        "0.3 call wake never\n"
                        "0.4 < . 1:1(0) ack 101 win 65535\n" /* the tuple is free: a RST answers */
                        "0.4 > R 101:101(0)\n");
}

/* Releasing before the handshake completes just forgets the connection. */
static void test_release_syn_sent(void **state)
{
    (void)state;
    run("0   call connect\n"
        "0   > S 0:0(0) win 65535 <mss 1000,sackOK,wscale 0>\n"
        "0.1 call release\n"
        "0.1 call conns 0\n"
        "5   call nop\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_active_close),       cmocka_unit_test(test_passive_close),
        cmocka_unit_test(test_simultaneous_close), cmocka_unit_test(test_fin_ack_together),
        cmocka_unit_test(test_time_wait_restart),  cmocka_unit_test(test_rst_in_closing_states),
        cmocka_unit_test(test_fin_retransmit),     cmocka_unit_test(test_fin_with_data),
        cmocka_unit_test(test_release_unread),     cmocka_unit_test(test_after_release),
        cmocka_unit_test(test_release_after_eof),  cmocka_unit_test(test_abort),
        cmocka_unit_test(test_release_syn_sent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
