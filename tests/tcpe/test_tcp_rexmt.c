/*
 * test_tcp_rexmt.c - retransmission and congestion control as scenario scripts: the RFC 6298
 * timer (1 s initial, doubling, Karn's rule, the estimator's arithmetic, giving up:
 * reliability 13), RFC 5681 slow start and congestion avoidance, NewReno fast retransmit
 * and recovery (RFC 6582: reliability 14), and limited transmit (RFC 3042). Every script also runs
 * across sequence-number zero (reliability 11).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
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

/* Backoff 1, 2, 4 s; after rexmt_limit retransmissions the connection is reset. */
static void test_rto_backoff_and_give_up(void **state)
{
    (void)state;
    struct tt_script_cfg cfg;
    tt_script_cfg_init(&cfg);
    cfg.params.rexmt_limit = 3;
    run_cfg(TT_PASSIVE_OPEN "0.2  call send 1000\n"
                            "0.2  > P. 1:1001(1000) ack 1\n"
                            "1.2  > P. 1:1001(1000) ack 1\n"
                            "1.2  call info rto_ms 2000\n"
                            "1.2  call info cwnd 1000\n"
                            "1.2  call info ssthresh 2000\n"
                            "3.2  > P. 1:1001(1000) ack 1\n"
                            "7.2  > P. 1:1001(1000) ack 1\n"
                            "15.2 > R. 1001:1001(0) ack 1\n"
                            "15.2 call state CLOSED\n"
                            "15.2 call stat timeouts 3\n"
                            "15.2 call stat conns_timedout 1\n",
            &cfg);
}

/*
 * rexmt_limit counts timeouts in a row without progress (RFC 1122 4.2.3.5: retransmissions of
 * one segment), not the backoff, which Karn's rule keeps until an RTT sample. Here every timeout
 * moves SND.UNA but no ACK is a sample (all of them acknowledge retransmissions): with a limit
 * of 2 the connection survives three timeouts, the backoff doubling all along.
 */
static void test_give_up_counts_timeouts_without_progress(void **state)
{
    (void)state;
    struct tt_script_cfg cfg;
    tt_script_cfg_init(&cfg);
    cfg.params.rexmt_limit = 2;
    run_cfg(TT_PASSIVE_OPEN "0.2  call send 3000\n"
                            "0.2  > . 1:1001(1000) ack 1\n"
                            "0.2  > . 1001:2001(1000) ack 1\n"
                            "0.2  > P. 2001:3001(1000) ack 1\n"
                            "1.2  > . 1:1001(1000) ack 1\n"
                            "1.3  < . 1:1(0) ack 1001 win 65535\n"
                            "1.3  > . 1001:2001(1000) ack 1\n"
                            "1.3  > P. 2001:3001(1000) ack 1\n"
                            "1.3  call info rxtshift 1\n"
                            "3.3  > . 1001:2001(1000) ack 1\n"
                            "3.4  < . 1:1(0) ack 2001 win 65535\n"
                            "3.4  > P. 2001:3001(1000) ack 1\n"
                            "7.4  > P. 2001:3001(1000) ack 1\n"
                            "7.4  call info rxtshift 3\n"
                            "7.5  < . 1:1(0) ack 3001 win 65535\n"
                            "7.5  call state ESTABLISHED\n"
                            "7.5  call stat timeouts 3\n"
                            "7.5  call stat conns_timedout 0\n"
                            "7.5  call wake never\n",
            &cfg);
}

/* The backoff is capped by rto_max (60 s). */
static void test_rto_cap(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2   call send 10\n"
                        "0.2   > P. 1:11(10) ack 1\n"
                        "1.2   > P. 1:11(10) ack 1\n"
                        "3.2   > P. 1:11(10) ack 1\n"
                        "7.2   > P. 1:11(10) ack 1\n"
                        "15.2  > P. 1:11(10) ack 1\n"
                        "31.2  > P. 1:11(10) ack 1\n"
                        "63.2  > P. 1:11(10) ack 1\n"
                        "123.2 > P. 1:11(10) ack 1\n"
                        "183.2 > P. 1:11(10) ack 1\n"
                        "183.3 < . 1:1(0) ack 11 win 65535\n"
                        "183.3 call state ESTABLISHED\n");
}

/* Karn: an ACK for a retransmitted segment gives no RTT sample and keeps the backoff; the next
 * new segment is timed and its sample ends the backoff. */
static void test_karn(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2 call send 1000\n"
                        "0.2 > P. 1:1001(1000) ack 1\n"
                        "1.2 > P. 1:1001(1000) ack 1\n"
                        "1.3 < . 1:1(0) ack 1001 win 65535\n"
                        "1.3 call info srtt_ms 100\n"
                        "1.3 call info rxtshift 1\n"
                        "1.3 call info rto_ms 2000\n"
                        "1.4 call send 1000\n"
                        "1.4 > P. 1001:2001(1000) ack 1\n"
                        "1.4 call wake 3.4\n" /* still backed off */
                        "1.7 < . 1:1(0) ack 2001 win 65535\n"
                        "1.7 call info rxtshift 0\n"
                        "1.7 call info srtt_ms 125\n" /* 7/8 * 100 + 1/8 * 300 */
                        "1.7 call info rto_ms 1000\n");
}

/* RFC 6298 2.2-2.3 arithmetic with a low minimum: R = 100 ms, then 250 ms:
 * srtt 100 -> 118.75, rttvar 50 -> 75, RTO = 118.75 + 4 * 75 = 418.75 ms. */
static void test_rto_estimator(void **state)
{
    (void)state;
    struct tt_script_cfg cfg;
    tt_script_cfg_init(&cfg);
    cfg.params.rto_min = 200000000;                      /* 200 ms */
    run_cfg(TT_PASSIVE_OPEN "0.1 call info rto_ms 300\n" /* 100 + 4 * 50 */
                            "0.2 call send 1000\n"
                            "0.2 > P. 1:1001(1000) ack 1\n"
                            "0.45 < . 1:1(0) ack 1001 win 65535\n"
                            "0.45 call info srtt_ms 118\n"
                            "0.45 call info rto_ms 418\n",
            &cfg);
}

/* Slow start to ssthresh, then one segment per window (RFC 5681 3.1). */
static void test_congestion_avoidance(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN
        /* a timeout sets ssthresh = max(flight / 2, 2 * SMSS) = 2000 and cwnd = 1000 */
        "0.2 call send 1000\n"
        "0.2 > P. 1:1001(1000) ack 1\n"
        "1.2 > P. 1:1001(1000) ack 1\n"
        "1.3 < . 1:1(0) ack 1001 win 65535\n"
        "1.3 call info cwnd 2000\n" /* slow start: + 1 SMSS */
        "1.3 call info ssthresh 2000\n"
        "1.4 call send 2000\n"
        "1.4 > . 1001:2001(1000) ack 1\n"
        "1.4 > P. 2001:3001(1000) ack 1\n"
        "1.5 < . 1:1(0) ack 2001 win 65535\n"
        "1.5 call info cwnd 2000\n" /* avoidance: 1000 of 2000 counted */
        "1.5 < . 1:1(0) ack 3001 win 65535\n"
        "1.5 call info cwnd 3000\n");
}

/*
 * Fast retransmit and NewReno recovery: the third duplicate ACK resends the hole and sets
 * ssthresh = flight / 2 (floor 2 SMSS), cwnd = ssthresh + 3 SMSS; further duplicates inflate;
 * a partial ACK resends the next hole and deflates; the full ACK ends recovery with
 * cwnd = min(ssthresh, flight + SMSS).
 */
static void test_fast_retransmit_newreno(void **state)
{
    (void)state;
    struct tt_script_cfg cfg;
    tt_script_cfg_init(&cfg);
    cfg.params.limited_transmit = false; /* duplicate ACKs 1 and 2 send nothing */
    run_cfg(TT_PASSIVE_OPEN
            "0.2  call send 8000\n"
            "0.2  > . 1:1001(1000) ack 1\n"
            "0.2  > . 1001:2001(1000) ack 1\n"
            "0.2  > . 2001:3001(1000) ack 1\n"
            "0.2  > . 3001:4001(1000) ack 1\n"
            "0.3  < . 1:1(0) ack 1001 win 65535\n"
            "0.3  > . 4001:5001(1000) ack 1\n"
            "0.3  > . 5001:6001(1000) ack 1\n"
            "0.31 < . 1:1(0) ack 1001 win 65535\n"
            "0.32 < . 1:1(0) ack 1001 win 65535\n"
            "0.33 < . 1:1(0) ack 1001 win 65535\n"
            "0.33 > . 1001:2001(1000) ack 1\n"
            "0.33 call info in_recovery 1\n"
            "0.33 call info ssthresh 2500\n" /* flight 5000 / 2 */
            "0.33 call info cwnd 5500\n"
            "0.34 < . 1:1(0) ack 1001 win 65535\n"
            "0.34 > . 6001:7001(1000) ack 1\n" /* inflated window lets new data out */
            "0.34 call info cwnd 6500\n"
            "0.4  < . 1:1(0) ack 3001 win 65535\n" /* partial */
            "0.4  > . 3001:4001(1000) ack 1\n"
            "0.4  > P. 7001:8001(1000) ack 1\n" /* and new data if cwnd allows */
            "0.4  call info cwnd 5500\n"        /* 6500 - 2000 + 1000 */
            "0.4  call info in_recovery 1\n"
            "0.5  < . 1:1(0) ack 6001 win 65535\n" /* covers recover (6001): full */
            "0.5  call info in_recovery 0\n"
            "0.5  call info cwnd 2500\n" /* min(ssthresh 2500, flight 2000 + 1000) */
            "0.5  call stat fast_rexmts 1\n"
            "0.5  call stat dupacks_in 4\n"
            "0.6  < . 1:1(0) ack 8001 win 65535\n"
            "0.6  call stat limited_xmits 0\n"
            "0.6  call wake never\n",
            &cfg);
}

/*
 * Limited transmit (RFC 3042): duplicate ACKs 1 and 2 each send one new segment while cwnd stays
 * where it was; on the third, ssthresh halves FlightSize without those two segments (RFC 5681
 * 3.2 step 2) and recovery covers them (recover = SND.MAX).
 */
/* The script of test_limited_transmit; each %s is an optional extra step (a handoff). */
static const char limited_script[] =
    TT_PASSIVE_OPEN "0.2  call send 8000\n"
                    "0.2  > . 1:1001(1000) ack 1\n"
                    "0.2  > . 1001:2001(1000) ack 1\n"
                    "0.2  > . 2001:3001(1000) ack 1\n"
                    "0.2  > . 3001:4001(1000) ack 1\n"
                    "0.3  < . 1:1(0) ack 1001 win 65535\n"
                    "0.3  > . 4001:5001(1000) ack 1\n"
                    "0.3  > . 5001:6001(1000) ack 1\n"
                    "0.31 < . 1:1(0) ack 1001 win 65535\n"
                    "0.31 > . 6001:7001(1000) ack 1\n" /* limited transmit */
                    "0.31 call info cwnd 5000\n"
                    "0.31 call info dupacks 1\n"
                    "%s"
                    "0.32 < . 1:1(0) ack 1001 win 65535\n"
                    "0.32 > P. 7001:8001(1000) ack 1\n" /* and again */
                    "0.32 call info cwnd 5000\n"
                    "0.32 call stat limited_xmits 2\n"
                    "%s"
                    "0.33 < . 1:1(0) ack 1001 win 65535\n"
                    "0.33 > . 1001:2001(1000) ack 1\n"
                    "0.33 call info in_recovery 1\n"
                    "0.33 call info ssthresh 2500\n" /* (7000 - 2000) / 2 */
                    "0.33 call info cwnd 5500\n"
                    "0.34 < . 1:1(0) ack 1001 win 65535\n" /* inflated, still full */
                    "0.34 call info cwnd 6500\n"
                    "0.4  < . 1:1(0) ack 3001 win 65535\n" /* partial: 8001 is recover */
                    "0.4  > . 3001:4001(1000) ack 1\n"
                    "0.4  call info in_recovery 1\n"
                    "0.5  < . 1:1(0) ack 8001 win 65535\n"
                    "0.5  call info in_recovery 0\n"
                    "0.5  call info cwnd 2000\n" /* min(ssthresh 2500, 0 + 2 SMSS) */
                    "0.5  call stat fast_rexmts 1\n"
                    "0.5  call stat limited_xmits 2\n"
                    "0.5  call wake never\n";

/*
 * Limited transmit (RFC 3042): duplicate ACKs 1 and 2 each send one new segment while cwnd stays
 * where it was; on the third, ssthresh halves FlightSize without those two segments (RFC 5681
 * 3.2 step 2) and recovery covers them (recover = SND.MAX). Run again with the connection
 * handed off after each of the first two duplicates: what limited transmit sent moves with it.
 */
static void test_limited_transmit(void **state)
{
    (void)state;
    char script[sizeof limited_script + 64];
    snprintf(script, sizeof script, limited_script, "", "");
    run(script);
    const char *ho1 = "0.31 call handoff\n";
    const char *ho2 = "0.32 call handoff\n";
    snprintf(script, sizeof script, limited_script, ho1, ho2);
    run(script);
}

/* The peer's window decides: room for one segment on the first duplicate ACK, none on the
 * second; ssthresh leaves out only the one that went. */
static void test_limited_transmit_window(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2  call send 8000\n"
                        "0.2  > . 1:1001(1000) ack 1\n"
                        "0.2  > . 1001:2001(1000) ack 1\n"
                        "0.2  > . 2001:3001(1000) ack 1\n"
                        "0.2  > . 3001:4001(1000) ack 1\n"
                        "0.3  < . 1:1(0) ack 1001 win 6000\n" /* right edge 7001 */
                        "0.3  > . 4001:5001(1000) ack 1\n"
                        "0.3  > . 5001:6001(1000) ack 1\n"
                        "0.31 < . 1:1(0) ack 1001 win 6000\n"
                        "0.31 > . 6001:7001(1000) ack 1\n"
                        "0.32 < . 1:1(0) ack 1001 win 6000\n" /* the window is full */
                        "0.32 call stat limited_xmits 1\n"
                        "0.32 call info dupacks 2\n"
                        "0.33 < . 1:1(0) ack 1001 win 6000\n"
                        "0.33 > . 1001:2001(1000) ack 1\n"
                        "0.33 call info ssthresh 2500\n" /* (6000 - 1000) / 2 */
                        "0.33 call info cwnd 5500\n");
    /* No window at all for new data: nothing on either duplicate. */
    run(TT_PASSIVE_OPEN "0.2  call send 8000\n"
                        "0.2  > . 1:1001(1000) ack 1\n"
                        "0.2  > . 1001:2001(1000) ack 1\n"
                        "0.2  > . 2001:3001(1000) ack 1\n"
                        "0.2  > . 3001:4001(1000) ack 1\n"
                        "0.3  < . 1:1(0) ack 1001 win 3000\n" /* exactly what is in flight */
                        "0.31 < . 1:1(0) ack 1001 win 3000\n"
                        "0.32 < . 1:1(0) ack 1001 win 3000\n"
                        "0.32 call stat limited_xmits 0\n"
                        "0.33 < . 1:1(0) ack 1001 win 3000\n"
                        "0.33 > . 1001:2001(1000) ack 1\n"
                        "0.33 call info ssthresh 2000\n"); /* max(3000 / 2, 2 SMSS) */
}

/* Nothing new to send: the duplicates only count. */
static void test_limited_transmit_no_data(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2  call send 4000\n"
                        "0.2  > . 1:1001(1000) ack 1\n"
                        "0.2  > . 1001:2001(1000) ack 1\n"
                        "0.2  > . 2001:3001(1000) ack 1\n"
                        "0.2  > P. 3001:4001(1000) ack 1\n"
                        "0.3  < . 1:1(0) ack 1001 win 65535\n"
                        "0.31 < . 1:1(0) ack 1001 win 65535\n"
                        "0.32 < . 1:1(0) ack 1001 win 65535\n"
                        "0.32 call stat limited_xmits 0\n"
                        "0.33 < . 1:1(0) ack 1001 win 65535\n"
                        "0.33 > . 1001:2001(1000) ack 1\n");
}

/* Duplicate ACKs that change the window, or carry data, are not duplicates (RFC 5681 2). */
static void test_not_dupacks(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2  call send 3000\n"
                        "0.2  > . 1:1001(1000) ack 1\n"
                        "0.2  > . 1001:2001(1000) ack 1\n"
                        "0.2  > P. 2001:3001(1000) ack 1\n"
                        "0.3  < . 1:1(0) ack 1 win 60000\n"
                        "0.3  < . 1:1(0) ack 1 win 50000\n"
                        "0.3  < . 1:11(10) ack 1 win 50000\n"
                        "0.3  < . 11:21(10) ack 1 win 50000\n"
                        "0.3  call stat dupacks_in 0\n"
                        "0.3  call info in_recovery 0\n"
                        "0.4  > . 3001:3001(0) ack 21\n"); /* a pure ACK carries SND.MAX */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rto_backoff_and_give_up),
        cmocka_unit_test(test_rto_cap),
        cmocka_unit_test(test_give_up_counts_timeouts_without_progress),
        cmocka_unit_test(test_karn),
        cmocka_unit_test(test_rto_estimator),
        cmocka_unit_test(test_congestion_avoidance),
        cmocka_unit_test(test_fast_retransmit_newreno),
        cmocka_unit_test(test_limited_transmit),
        cmocka_unit_test(test_limited_transmit_window),
        cmocka_unit_test(test_limited_transmit_no_data),
        cmocka_unit_test(test_not_dupacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
