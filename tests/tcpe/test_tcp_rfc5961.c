/*
 * test_tcp_rfc5961.c - defences against blind in-window attacks (RFC 5961) and odd segments, as
 * scenario scripts: RST exact / in window / outside (reliability 7), SYN on a synchronized
 * connection (8), ACKs of unsent or ancient data and the challenge-ACK rate limit (9), odd flag
 * combinations (10), and left-edge trimming of partly old data (6).
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

static void test_rst_exact(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2 < R. 1:1(0) ack 1 win 0\n"
                        "0.2 call state CLOSED\n"
                        "0.2 call stat conns_reset 1\n");
}

static void test_rst_in_window(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2 < R. 500:500(0) ack 1 win 0\n"
                        "0.2 > . 1:1(0) ack 1\n"
                        "0.2 call state ESTABLISHED\n"
                        "0.2 call stat challenge_acks 1\n"
                        "0.2 call drop rst_invalid 1\n"
                        "0.3 < R 2:2(0) win 0\n" /* off by one is not exact */
                        "0.3 > . 1:1(0) ack 1\n"
                        "0.3 call state ESTABLISHED\n");
}

static void test_rst_out_of_window(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2 < R. 70000:70000(0) ack 1 win 0\n"
                        "0.2 < R. 0:0(0) ack 1 win 0\n"
                        "0.2 call state ESTABLISHED\n"
                        "0.2 call drop out_of_window 2\n"
                        "0.2 call stat challenge_acks 0\n");
}

static void test_syn_on_established(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN
        "0.2 < S 1:1(0) win 65535 <mss 1000>\n"
        "0.2 > . 1:1(0) ack 1\n"
        "0.2 < S 0:0(0) win 65535 <mss 1000>\n" /* a repeat of the original SYN */
        "0.2 > . 1:1(0) ack 1\n"
        "0.2 < S 90000:90000(0) win 65535 <mss 1000>\n" /* irrespective of the sequence */
        "0.2 > . 1:1(0) ack 1\n"
        "0.2 call state ESTABLISHED\n"
        "0.2 call drop syn_invalid 3\n"
        "0.2 call stat challenge_acks 3\n");
}

static void test_ack_of_unsent_data(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2 < P. 1:11(10) ack 5000 win 65535\n"
                        "0.2 > . 1:1(0) ack 1\n"
                        "0.2 call drop bad_ack 1\n"
                        "0.2 call info rcvbuf 0\n" /* the data went with it */
                        "0.2 call state ESTABLISHED\n");
}

/* RFC 5961 5.2: ACKs from SND.UNA - MAX.SND.WND on are acceptable (an old one is ignored and
 * its data kept); older ones are answered and dropped. */
static void test_ack_too_old(void **state)
{
    (void)state;
    run("0   call listen\n"
        "0   < S 0:0(0) win 1000 <mss 1000>\n"
        "0   > S. 0:0(0) ack 1 win 65535 <mss 1000>\n"
        "0.1 < . 1:1(0) ack 1 win 1000\n"
        "0.1 call accept\n"
        "0.2 < P. 1:11(10) ack -500 win 1000\n"
        "0.3 > . 1:1(0) ack 11 win 65525\n"
        "0.4 < P. 11:21(10) ack -1000 win 1000\n"
        "0.4 > . 1:1(0) ack 11 win 65525\n"
        "0.4 call drop bad_ack 1\n"
        "0.4 call info rcvbuf 10\n");
}

/* At most challenge_ack_limit (10) answers per second per connection (RFC 5961 7). */
static void test_challenge_rate_limit(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2 < R 100:100(0) win 0\n"
                        "0.2 > . 1:1(0) ack 1\n"
                        "0.2 < R 101:101(0) win 0\n"
                        "0.2 > . 1:1(0) ack 1\n"
                        "0.2 < R 102:102(0) win 0\n"
                        "0.2 > . 1:1(0) ack 1\n"
                        "0.2 < R 103:103(0) win 0\n"
                        "0.2 > . 1:1(0) ack 1\n"
                        "0.2 < R 104:104(0) win 0\n"
                        "0.2 > . 1:1(0) ack 1\n"
                        "0.2 < R 105:105(0) win 0\n"
                        "0.2 > . 1:1(0) ack 1\n"
                        "0.2 < S 106:106(0) win 0\n"
                        "0.2 > . 1:1(0) ack 1\n"
                        "0.2 < . 1:1(0) ack 9999 win 65535\n"
                        "0.2 > . 1:1(0) ack 1\n"
                        "0.2 < R 108:108(0) win 0\n"
                        "0.2 > . 1:1(0) ack 1\n"
                        "0.2 < R 109:109(0) win 0\n"
                        "0.2 > . 1:1(0) ack 1\n"
                        "0.2 < R 110:110(0) win 0\n"
                        "0.2 < S 111:111(0) win 0\n"
                        "0.2 < . 1:1(0) ack 9999 win 65535\n"
                        "0.2 call stat challenge_acks 10\n"
                        "0.2 call stat challenge_limited 3\n"
                        "1.2 < R 112:112(0) win 0\n"
                        "1.2 > . 1:1(0) ack 1\n"
                        "1.2 call state ESTABLISHED\n");
}

/* Odd flag combinations (reliability 10): handled without harm. */
static void test_odd_flags(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN
        "0.2 < 0 1:11(10) win 65535\n" /* no flags at all: no ACK, dropped */
        "0.2 < F 1:1(0) win 65535\n"   /* FIN without ACK: dropped */
        "0.2 call drop bad_flags 2\n"
        "0.2 call info rcvbuf 0\n"
        "0.2 < SF. 1:1(0) ack 1 win 65535\n" /* SYN+FIN: a SYN, so a challenge */
        "0.2 > . 1:1(0) ack 1\n"
        "0.2 < SR 50:50(0) win 65535\n" /* SYN+RST not at RCV.NXT: a challenge */
        "0.2 > . 1:1(0) ack 1\n"
        "0.2 < SFRP.UEC 60:60(0) ack 1 win 65535\n" /* all of them */
        "0.2 > . 1:1(0) ack 1\n"
        "0.2 call state ESTABLISHED\n"
        "0.2 < UEC. 1:11(10) ack 1 win 65535\n" /* URG/ECE/CWR are ignored */
        "0.3 > . 1:1(0) ack 11\n"
        "0.3 call recv 10\n"
        "0.3 < SR. 11:11(0) ack 1 win 65535\n" /* SYN+RST exactly at RCV.NXT: a reset */
        "0.3 call state CLOSED\n");
}

/* Partly old data: only the new part is kept, and acknowledged at once. */
static void test_left_edge_trim(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2 < . 1:1001(1000) ack 1 win 65535\n"
                        "0.3 > . 1:1(0) ack 1001\n"
                        "0.4 < . 501:1501(1000) ack 1 win 65535\n"
                        "0.4 > . 1:1(0) ack 1501\n"
                        "0.4 call recv 1500\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rst_exact),
        cmocka_unit_test(test_rst_in_window),
        cmocka_unit_test(test_rst_out_of_window),
        cmocka_unit_test(test_syn_on_established),
        cmocka_unit_test(test_ack_of_unsent_data),
        cmocka_unit_test(test_ack_too_old),
        cmocka_unit_test(test_challenge_rate_limit),
        cmocka_unit_test(test_odd_flags),
        cmocka_unit_test(test_left_edge_trim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
