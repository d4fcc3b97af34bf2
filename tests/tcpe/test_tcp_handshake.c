/*
 * test_tcp_handshake.c - opening connections, as scenario scripts: passive and active opens,
 * the MSS option (absent, tiny, zero: reliability 4), lost SYNs and SYN-ACKs with backoff and
 * give-up (reliability 13), simultaneous open, and what listeners, half-open connections and
 * closed ports answer to stray segments (reliability 10, 16).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "handoff/tcpe.h"
#include "helpers/tt_script.h"

static void run_cfg(const char *script, const struct tt_script_cfg *cfg)
{
    assert_int_equal(tt_script_run_wrapped(script, cfg), 0);
}

static void run(const char *script)
{
    struct tt_script_cfg cfg;
    tt_script_cfg_init(&cfg);
    run_cfg(script, &cfg);
}

static void test_passive_open(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.1 call stat conns_opened 1\n"
                        "0.1 call info maxseg 1000\n"
                        "0.1 call info snd_wnd 65535\n"
                        "0.1 call info cwnd 4000\n"   /* RFC 5681: 4 segments of 1000 */
                        "0.1 call info srtt_ms 100\n" /* the SYN-ACK was timed */
                        "0.1 call info rto_ms 1000\n"
                        "0.1 call wake never\n");
}

static void test_active_open(void **state)
{
    (void)state;
    run(TT_ACTIVE_OPEN "0.1 call stat conns_opened 1\n"
                       "0.1 call info srtt_ms 100\n"
                       "0.1 call info rto_ms 1000\n"
                       "0.1 call wake never\n");
}

/* Data queued before the handshake completes goes out with the first window. */
static void test_send_before_established(void **state)
{
    (void)state;
    run("0   call connect\n"
        "0   > S 0:0(0) win 65535 <mss 1000,sackOK,wscale 0>\n"
        "0   call send 1500\n"
        "0.1 < S. 0:0(0) ack 1 win 65535 <mss 1000>\n"
        "0.1 > . 1:1001(1000) ack 1 win 65535\n"
        "0.2 < . 1:1(0) ack 1001 win 65535\n" /* Nagle held the small rest until now */
        "0.2 > P. 1001:1501(500) ack 1 win 65535\n");
}

/* No MSS option means 536 (RFC 9293 3.7.1); no window scaling either. */
static void test_mss_default(void **state)
{
    (void)state;
    run("0   call listen\n"
        "0   < S 0:0(0) win 65535\n"
        "0   > S. 0:0(0) ack 1 win 65535 <mss 1000>\n"
        "0.1 < . 1:1(0) ack 1 win 65535\n"
        "0.1 call accept\n"
        "0.1 call info maxseg 536\n"
        "0.1 call send 1000\n"
        "0.1 > . 1:537(536) ack 1\n"
        "0.2 < . 1:1(0) ack 537 win 65535\n"
        "0.2 > P. 537:1001(464) ack 1\n");
}

/* A tiny or zero MSS is raised to 48 (reliability 4; CVE-2019-11479). */
static void test_mss_floor(void **state)
{
    (void)state;
    run("0   call listen\n"
        "0   < S 0:0(0) win 65535 <mss 1>\n"
        "0   > S. 0:0(0) ack 1 win 65535 <mss 1000>\n"
        "0.1 < . 1:1(0) ack 1 win 65535\n"
        "0.1 call accept\n"
        "0.1 call info maxseg 48\n"
        "0.1 call info cwnd 192\n");
    run("0   call connect\n"
        "0   > S 0:0(0) win 65535 <mss 1000,sackOK,wscale 0>\n"
        "0.1 < S. 0:0(0) ack 1 win 65535 <mss 0>\n"
        "0.1 > . 1:1(0) ack 1 win 65535\n"
        "0.1 call info maxseg 48\n");
}

/* Lost SYNs (RFC 6298 5.5, reliability 13): retransmitted after 1, 2, 4, ... s (capped at
 * 60 s), given up after syn_limit retransmissions, without a RST (the peer never spoke). The
 * default limit keeps trying for at least three minutes (RFC 9293 3.8.3, MUST-23): 183 s. */
static void test_syn_retransmit_and_give_up(void **state)
{
    (void)state;
    run("0   call connect\n"
        "0   > S 0:0(0) win 65535 <mss 1000,sackOK,wscale 0>\n"
        "1   > S 0:0(0) win 65535 <mss 1000,sackOK,wscale 0>\n"
        "3   > S 0:0(0) win 65535 <mss 1000,sackOK,wscale 0>\n"
        "7   > S 0:0(0) win 65535 <mss 1000,sackOK,wscale 0>\n"
        "15  > S 0:0(0) win 65535 <mss 1000,sackOK,wscale 0>\n"
        "31  > S 0:0(0) win 65535 <mss 1000,sackOK,wscale 0>\n"
        "63  > S 0:0(0) win 65535 <mss 1000,sackOK,wscale 0>\n"
        "123 > S 0:0(0) win 65535 <mss 1000,sackOK,wscale 0>\n"
        "182 call state SYN_SENT\n"
        "183 call state CLOSED\n"
        "183 call stat conns_timedout 1\n"
        "183 call stat rexmt_segs 7\n"
        "183 call wake never\n");
}

/* A SYN-ACK after a lost SYN: one-segment initial window (RFC 5681 3.1), no RTT sample (Karn)
 * and a 3 s RTO (RFC 6298 5.7). */
static void test_lost_syn_small_start(void **state)
{
    (void)state;
    run("0   call connect\n"
        "0   > S 0:0(0) win 65535 <mss 1000,sackOK,wscale 0>\n"
        "1   > S 0:0(0) win 65535 <mss 1000,sackOK,wscale 0>\n"
        "1.1 < S. 0:0(0) ack 1 win 65535 <mss 1000>\n"
        "1.1 > . 1:1(0) ack 1 win 65535\n"
        "1.1 call info cwnd 1000\n"
        "1.1 call info srtt_ms 0\n"
        "1.1 call info rto_ms 3000\n"
        "1.1 call send 2000\n"
        "1.1 > . 1:1001(1000) ack 1\n"
        "4.1 > . 1:1001(1000) ack 1\n");
}

/* The passive side: SYN-ACK retransmitted with backoff; a repeated SYN is answered with the
 * SYN-ACK again at once. */
static void test_synack_retransmit(void **state)
{
    (void)state;
    run("0   call listen\n"
        "0   < S 0:0(0) win 65535 <mss 1000>\n"
        "0   > S. 0:0(0) ack 1 win 65535 <mss 1000>\n"
        "1   > S. 0:0(0) ack 1 win 65535 <mss 1000>\n"
        "1.5 < S 0:0(0) win 65535 <mss 1000>\n"
        "1.5 > S. 0:0(0) ack 1 win 65535 <mss 1000>\n"
        "3   > S. 0:0(0) ack 1 win 65535 <mss 1000>\n"
        "3.1 < . 1:1(0) ack 1 win 65535\n"
        "3.1 call accept\n"
        "3.1 call state ESTABLISHED\n"
        "3.1 call info cwnd 1000\n");
}

/* An ACK that does not acknowledge our SYN-ACK draws a RST; the half-open connection stays. */
static void test_synrcvd_bad_ack(void **state)
{
    (void)state;
    run("0   call listen\n"
        "0   < S 0:0(0) win 65535 <mss 1000>\n"
        "0   > S. 0:0(0) ack 1 win 65535 <mss 1000>\n"
        "0.1 < . 1:1(0) ack 77 win 65535\n"
        "0.1 > R 77:77(0)\n"
        "0.1 call drop bad_ack 1\n"
        "0.2 < . 1:1(0) ack 1 win 65535\n"
        "0.2 call accept\n"
        "0.2 call state ESTABLISHED\n");
}

/* A RST at RCV.NXT removes a half-open passive connection quietly. */
static void test_synrcvd_rst(void **state)
{
    (void)state;
    run("0   call listen\n"
        "0   < S 0:0(0) win 65535 <mss 1000>\n"
        "0   > S. 0:0(0) ack 1 win 65535 <mss 1000>\n"
        "0.1 call conns 2\n"
        "0.1 < R 1:1(0) win 0\n"
        "0.1 call conns 1\n" /* only the listener */
        "5   call nop\n");
}

/* Simultaneous open (RFC 9293 Figure 8): SYN crosses SYN, both answer SYN-ACK, both are
 * established without a further ACK. */
static void test_simultaneous_open(void **state)
{
    (void)state;
    run("0   call connect\n"
        "0   > S 0:0(0) win 65535 <mss 1000,sackOK,wscale 0>\n"
        "0.1 < S 0:0(0) win 65535 <mss 1000>\n"
        "0.1 > S. 0:0(0) ack 1 win 65535 <mss 1000>\n"
        "0.1 call state SYN_RECEIVED\n"
        "0.2 < S. 0:0(0) ack 1 win 65535 <mss 1000>\n"
        "0.2 call state ESTABLISHED\n"
        "0.3 call send 10\n"
        "0.3 > P. 1:11(10) ack 1\n");
}

/* SYN_SENT (RFC 9293 3.10.7.3): a RST that acknowledges the SYN refuses the connection; one
 * that does not is ignored; an ACK of something else draws a RST. */
static void test_syn_sent_rst(void **state)
{
    (void)state;
    run("0   call connect\n"
        "0   > S 0:0(0) win 65535 <mss 1000,sackOK,wscale 0>\n"
        "0.1 < R 0:0(0) win 0\n"
        "0.1 call state SYN_SENT\n"
        "0.1 call drop rst_invalid 1\n"
        "0.2 < S. 0:0(0) ack 5 win 65535\n"
        "0.2 > R 5:5(0)\n"
        "0.2 call state SYN_SENT\n"
        "0.3 < R. 0:0(0) ack 1 win 0\n"
        "0.3 call state CLOSED\n"
        "0.3 call stat conns_reset 1\n"
        "0.3 call wake never\n");
}

/* A listener (RFC 9293 3.10.7.2) ignores RSTs, answers ACKs with a RST, and drops SYN+FIN and
 * segments without SYN (reliability 10). */
static void test_listener_strays(void **state)
{
    (void)state;
    run("0   call listen\n"
        "0   < R 0:0(0) win 0\n"
        "0   < . 1:1(0) ack 99 win 65535\n"
        "0   > R 99:99(0)\n"
        "0   < SF 0:0(0) win 65535\n"
        "0   < 0 0:10(10) win 65535\n"
        "0   < P 0:10(10) win 65535\n"
        "0   call drop bad_flags 4\n"
        "0   call drop bad_ack 1\n"
        "0.1 < S 0:0(0) win 65535 <mss 1000>\n"
        "0.1 > S. 0:0(0) ack 1 win 65535 <mss 1000>\n");
}

/* No connection and no listener (RFC 9293 3.10.7.1): RST, with ACK = SEQ + LEN unless the
 * segment had an ACK; nothing for a RST (reliability 16). */
static void test_closed_port(void **state)
{
    (void)state;
    struct tt_script_cfg cfg;
    tt_script_cfg_init(&cfg);
    cfg.our_isn = 0; /* a RST without ACK has sequence number 0 */
    assert_int_equal(tt_script_run("0   < S 0:0(0) win 65535\n"
                                   "0   > R. 0:0(0) ack 1\n"
                                   "0   < P. 1:101(100) ack 300 win 65535\n"
                                   "0   > R 300:300(0)\n"
                                   "0   < F 7:7(0) win 65535\n"
                                   "0   > R. 0:0(0) ack 8\n"
                                   "0   < R 1:1(0) win 0\n"
                                   "0   call drop no_conn 4\n"
                                   "0   call stat rsts_out 3\n",
                                   &cfg),
                     0);
}

/* Shut down before the handshake completes: the FIN follows as soon as it does. */
static void test_shutdown_in_syn_sent(void **state)
{
    (void)state;
    run("0   call connect\n"
        "0   > S 0:0(0) win 65535 <mss 1000,sackOK,wscale 0>\n"
        "0   call send 10\n"
        "0   call shutdown\n"
        "0   call state SYN_SENT\n"
        "0.1 < S. 0:0(0) ack 1 win 65535 <mss 1000>\n"
        "0.1 > FP. 1:11(10) ack 1 win 65535\n"
        "0.1 call state FIN_WAIT_1\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_passive_open),
        cmocka_unit_test(test_active_open),
        cmocka_unit_test(test_send_before_established),
        cmocka_unit_test(test_mss_default),
        cmocka_unit_test(test_mss_floor),
        cmocka_unit_test(test_syn_retransmit_and_give_up),
        cmocka_unit_test(test_lost_syn_small_start),
        cmocka_unit_test(test_synack_retransmit),
        cmocka_unit_test(test_synrcvd_bad_ack),
        cmocka_unit_test(test_synrcvd_rst),
        cmocka_unit_test(test_simultaneous_open),
        cmocka_unit_test(test_syn_sent_rst),
        cmocka_unit_test(test_listener_strays),
        cmocka_unit_test(test_closed_port),
        cmocka_unit_test(test_shutdown_in_syn_sent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
