/*
 * test_tcp_data.c - the data path as scenario scripts: delayed ACKs, window updates, Nagle,
 * segment acceptability and trimming, the out-of-order queue and its bound, window scaling,
 * zero windows and persist probes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "handoff/tcpe.h"
#include "helpers/tt_script.h"

static void run_cfg(const char *script, struct tt_script_cfg *cfg)
{
    assert_int_equal(tt_script_run_wrapped(script, cfg), 0);
}

static void run(const char *script)
{
    struct tt_script_cfg cfg;
    tt_script_cfg_init(&cfg);
    run_cfg(script, &cfg);
}

/* RFC 9293 3.8.6.3 / RFC 5681 4.2: a lone segment is ACKed when the delayed-ACK timer fires
 * (100 ms), every second full-sized segment at once; reading opens the window with an update. */
static void test_delayed_ack(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2 < P. 1:1001(1000) ack 1 win 65535\n"
                        "0.3 > . 1:1(0) ack 1001 win 64535\n"
                        "0.4 < . 1001:2001(1000) ack 1 win 65535\n"
                        "0.4 < . 2001:3001(1000) ack 1 win 65535\n"
                        "0.4 > . 1:1(0) ack 3001 win 62535\n"
                        "0.4 call stat delayed_acks 1\n"
                        "0.5 call recv 3000\n"
                        "0.5 > . 1:1(0) ack 3001 win 65535\n"
                        "0.6 call eof 0\n");
}

/* delack_one_segment (4.4BSD and FreeBSD 4): a segment that arrives while an ACK is delayed is
 * acknowledged at once whatever its size; a lone one still waits for the timer. */
static void test_delayed_ack_one_segment(void **state)
{
    (void)state;
    struct tt_script_cfg cfg;
    tt_script_cfg_init(&cfg);
    cfg.params.delack_one_segment = true;
    run_cfg(TT_PASSIVE_OPEN "0.2 < P. 1:251(250) ack 1 win 65535\n"
                            "0.2 < P. 251:501(250) ack 1 win 65535\n"
                            "0.2 > . 1:1(0) ack 501 win 65035\n"
                            "0.3 < P. 501:601(100) ack 1 win 65535\n"
                            "0.4 > . 1:1(0) ack 601 win 64935\n"
                            "0.4 call stat delayed_acks 1\n",
            &cfg);
    /* Without it, two small segments are one delayed ACK. */
    tt_script_cfg_init(&cfg);
    run_cfg(TT_PASSIVE_OPEN "0.2 < P. 1:251(250) ack 1 win 65535\n"
                            "0.2 < P. 251:501(250) ack 1 win 65535\n"
                            "0.3 > . 1:1(0) ack 501 win 65035\n"
                            "0.3 call stat delayed_acks 1\n",
            &cfg);
}

/* Sending: the initial window is 4 segments; ACKs grow cwnd by one segment each in slow
 * start; the last segment of what is queued carries PSH. */
static void test_send_slow_start(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2 call send 6000\n"
                        "0.2 > . 1:1001(1000) ack 1\n"
                        "0.2 > . 1001:2001(1000) ack 1\n"
                        "0.2 > . 2001:3001(1000) ack 1\n"
                        "0.2 > . 3001:4001(1000) ack 1\n"
                        "0.3 < . 1:1(0) ack 2001 win 65535\n"
                        "0.3 > . 4001:5001(1000) ack 1\n"
                        "0.3 > P. 5001:6001(1000) ack 1\n"
                        "0.3 call info cwnd 5000\n"
                        "0.3 call info srtt_ms 100\n"
                        "0.4 < . 1:1(0) ack 6001 win 65535\n"
                        "0.4 call info cwnd 6000\n"
                        "0.4 call info sndbuf 0\n"
                        "0.4 call wake never\n");
}

/* Nagle (RFC 896): with data in flight a small segment waits for the ACK. */
static void test_nagle(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2 call send 100\n"
                        "0.2 > P. 1:101(100) ack 1\n"
                        "0.2 call send 100\n"
                        "0.3 < . 1:1(0) ack 101 win 65535\n"
                        "0.3 > P. 101:201(100) ack 1\n");
}

/* RFC 9293 3.10.7.4: data beyond the window is cut off and the ACK repeats the window
 * (reliability case 6); an old duplicate is answered with an ACK at once. */
static void test_trim_to_window(void **state)
{
    (void)state;
    struct tt_script_cfg cfg;
    tt_script_cfg_init(&cfg);
    cfg.params.rcvbuf = 4000;
    run_cfg("0   call listen\n"
            "0   < S 0:0(0) win 65535 <mss 1000>\n"
            "0   > S. 0:0(0) ack 1 win 4000 <mss 1000>\n"
            "0.1 < . 1:1(0) ack 1 win 65535\n"
            "0.1 call accept\n"
            "0.2 < . 1:3001(3000) ack 1 win 65535\n"
            "0.2 > . 1:1(0) ack 3001 win 1000\n"
            "0.3 < . 3001:5001(2000) ack 1 win 65535\n" /* only 1000 fit */
            "0.3 > . 1:1(0) ack 4001 win 0\n"
            "0.3 call info rcvbuf 4000\n"
            "0.4 < . 1:1001(1000) ack 1 win 65535\n" /* old: ACK at once */
            "0.4 > . 1:1(0) ack 4001 win 0\n"
            "0.4 call drop out_of_window 1\n"
            "0.5 call recv 4000\n"
            "0.5 > . 1:1(0) ack 4001 win 4000\n",
            &cfg);
}

/* Out of order: an immediate duplicate ACK; filling the hole ACKs everything at once. */
static void test_out_of_order(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2 < . 1001:2001(1000) ack 1 win 65535\n"
                        "0.2 > . 1:1(0) ack 1 win 65535\n"
                        "0.2 < . 3001:4001(1000) ack 1 win 65535\n"
                        "0.2 > . 1:1(0) ack 1 win 65535\n"
                        "0.2 call info ooo 2\n"
                        "0.3 < . 1:1001(1000) ack 1 win 65535\n"
                        "0.3 > . 1:1(0) ack 2001 win 63535\n"
                        "0.4 < . 2001:3001(1000) ack 1 win 65535\n"
                        "0.4 > . 1:1(0) ack 4001 win 61535\n"
                        "0.4 call info ooo 0\n"
                        "0.4 call recv 4000\n"
                        "0.4 > . 1:1(0) ack 4001 win 65535\n"
                        "0.4 call stat ooo_segs 2\n");
}

/* The out-of-order queue is bounded (reliability 15, CVE-2019-11478): beyond ooo_max the
 * segment is dropped and counted, and the connection still completes. Overlaps are trimmed. */
static void test_ooo_bound(void **state)
{
    (void)state;
    struct tt_script_cfg cfg;
    tt_script_cfg_init(&cfg);
    cfg.params.ooo_max = 2;
    run_cfg(TT_PASSIVE_OPEN "0.2 < . 1001:1101(100) ack 1 win 65535\n"
                            "0.2 > . 1:1(0) ack 1 win 65535\n"
                            "0.2 < . 1201:1301(100) ack 1 win 65535\n"
                            "0.2 > . 1:1(0) ack 1 win 65535\n"
                            "0.2 < . 1401:1501(100) ack 1 win 65535\n"
                            "0.2 > . 1:1(0) ack 1 win 65535\n"
                            "0.2 call drop ooo_full 1\n"
                            "0.2 call info ooo 2\n"
                            /* covers both queued segments: replaces them, fits */
                            "0.3 < . 1051:1351(300) ack 1 win 65535\n"
                            "0.3 > . 1:1(0) ack 1 win 65535\n"
                            "0.3 call info ooo 2\n"
                            "0.4 < . 1:1001(1000) ack 1 win 65535\n"
                            "0.4 > . 1:1(0) ack 1351 win 64185\n"
                            "0.4 call info ooo 0\n"
                            "0.4 call recv 1350\n", /* opens less than 2 segments: no update */
            &cfg);
}

/* Window scaling (RFC 7323): both SYNs carry it, so the peer's window field is shifted; a
 * shift above 14 counts as 14 (reliability 5). */
static void test_window_scaling(void **state)
{
    (void)state;
    struct tt_script_cfg cfg;
    tt_script_cfg_init(&cfg);
    cfg.params.rcvbuf = 1 << 20;
    run_cfg("0   call listen\n"
            "0   < S 0:0(0) win 65535 <mss 1000,wscale 20>\n"
            "0   > S. 0:0(0) ack 1 win 65535 <mss 1000,wscale 5>\n"
            "0.1 < . 1:1(0) ack 1 win 2\n"
            "0.1 call accept\n"
            "0.1 call info snd_wscale 14\n"
            "0.1 call info rcv_wscale 5\n"
            "0.1 call info snd_wnd 32768\n"
            "0.2 < . 1:1001(1000) ack 1 win 2\n"
            "0.3 > . 1:1(0) ack 1001 win 32736\n",
            &cfg);
}

/* No scaling unless both ask: our offer is withdrawn when the peer's SYN lacks it. */
static void test_no_window_scaling(void **state)
{
    (void)state;
    struct tt_script_cfg cfg;
    tt_script_cfg_init(&cfg);
    cfg.params.rcvbuf = 1 << 20;
    run_cfg("0   call listen\n"
            "0   < S 0:0(0) win 65535 <mss 1000>\n"
            "0   > S. 0:0(0) ack 1 win 65535 <mss 1000>\n"
            "0.1 < . 1:1(0) ack 1 win 65535\n"
            "0.1 call accept\n"
            "0.1 call info rcv_wscale 0\n"
            "0.1 call info snd_wscale 0\n"
            "0.2 < . 1:1001(1000) ack 1 win 65535\n"
            "0.3 > . 1:1(0) ack 1001 win 65535\n",
            &cfg);
}

/* Zero window (reliability 12): the first probe goes one RTO after the window closes (RFC 9293
 * 3.8.6.1, RFC 1122 4.2.2.17), then the interval doubles up to rto_max (60 s); the connection
 * stays up while the probes are answered, and data flows when the window opens. */
static void test_zero_window_persist(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2 call send 2000\n"
                        "0.2 > . 1:1001(1000) ack 1\n"
                        "0.2 > P. 1001:2001(1000) ack 1\n"
                        "0.3 < . 1:1(0) ack 1001 win 0\n"
                        "0.3 call info snd_wnd 0\n"
                        "0.3 call wake 1.3\n" /* the retransmission timer gave way to persist */
                        "1.3 > . 1000:1000(0) ack 1\n" /* probe: SND.UNA - 1, no data */
                        "1.4 < . 1:1(0) ack 1001 win 0\n"
                        "3.3 > . 1000:1000(0) ack 1\n" /* RTO 1 s, doubling */
                        "3.4 < . 1:1(0) ack 1001 win 0\n"
                        "7.3 > . 1000:1000(0) ack 1\n"
                        "7.4 < . 1:1(0) ack 1001 win 0\n"
                        "15.3 > . 1000:1000(0) ack 1\n"
                        "15.4 < . 1:1(0) ack 1001 win 0\n"
                        "31.3 > . 1000:1000(0) ack 1\n"
                        "31.4 < . 1:1(0) ack 1001 win 0\n"
                        "63.3 > . 1000:1000(0) ack 1\n"
                        "63.4 < . 1:1(0) ack 1001 win 0\n"
                        "123.3 > . 1000:1000(0) ack 1\n" /* capped at rto_max, 60 s */
                        "123.4 < . 1:1(0) ack 1001 win 0\n"
                        "183.3 > . 1000:1000(0) ack 1\n"
                        "183.4 < . 1:1(0) ack 1001 win 0\n"
                        "243.3 > . 1000:1000(0) ack 1\n"
                        "243.4 < . 1:1(0) ack 1001 win 1000\n"
                        "243.4 > P. 1001:2001(1000) ack 1\n"
                        "243.5 < . 1:1(0) ack 2001 win 65535\n"
                        "243.5 call stat persist_probes 9\n"
                        "243.5 call stat timeouts 0\n"
                        "243.5 call state ESTABLISHED\n"
                        "243.5 call wake never\n");
}

/*
 * The first probe waits the RTO as measured, not a fixed minimum. With rto_min 200 ms, the
 * handshake's 100 ms sample gives an RTO of 300 ms (SRTT 100 ms + 4 x RTTVAR 50 ms) and the
 * first segment's 100 ms sample 250 ms (RTTVAR 37.5 ms). The window closes as everything sent
 * is acknowledged, so no retransmission timer gives way: persist starts when data waits, and
 * probes 250, 500, 1000 ms apart, then at rto_max, 1.5 s.
 */
static void test_zero_window_first_probe_after_rto(void **state)
{
    (void)state;
    struct tt_script_cfg cfg;
    tt_script_cfg_init(&cfg);
    cfg.params.rto_min = 200000000ull;
    cfg.params.rto_max = 1500000000ull;
    run_cfg(TT_PASSIVE_OPEN "0.1 call info rto_ms 300\n"
                            "0.2 call send 1000\n"
                            "0.2 > P. 1:1001(1000) ack 1\n"
                            "0.3 < . 1:1(0) ack 1001 win 0\n"
                            "0.3 call info rto_ms 250\n"
                            "0.3 call send 500\n"
                            "0.3 call wake 0.55\n"
                            "0.55 > . 1000:1000(0) ack 1\n"
                            "0.56 < . 1:1(0) ack 1001 win 0\n"
                            "1.05 > . 1000:1000(0) ack 1\n"
                            "1.06 < . 1:1(0) ack 1001 win 0\n"
                            "2.05 > . 1000:1000(0) ack 1\n"
                            "2.06 < . 1:1(0) ack 1001 win 0\n"
                            "3.55 > . 1000:1000(0) ack 1\n" /* 2 s, capped at 1.5 s */
                            "3.56 < . 1:1(0) ack 1001 win 0\n"
                            "5.05 > . 1000:1000(0) ack 1\n"
                            "5.06 < . 1:1(0) ack 1001 win 500\n"
                            "5.06 > P. 1001:1501(500) ack 1\n"
                            "5.06 call stat persist_probes 5\n",
            &cfg);
}

/* Probes that nobody answers give up after the retry limit. */
static void test_zero_window_unanswered(void **state)
{
    (void)state;
    struct tt_script_cfg cfg;
    tt_script_cfg_init(&cfg);
    cfg.params.rexmt_limit = 3;
    run_cfg(TT_PASSIVE_OPEN "0.2 < . 1:1(0) ack 1 win 0\n"
                            "0.3 call send 1000\n"
                            "1.3 > . 0:0(0) ack 1\n"
                            "3.3 > . 0:0(0) ack 1\n"
                            "7.3 > . 0:0(0) ack 1\n"
                            "15.3 > R. 1:1(0) ack 1\n"
                            "15.3 call state CLOSED\n"
                            "15.3 call stat conns_timedout 1\n",
            &cfg);
}

/* A bare FIN at a zero window is accepted (it takes no buffer), as Linux does. */
static void test_fin_at_zero_window(void **state)
{
    (void)state;
    struct tt_script_cfg cfg;
    tt_script_cfg_init(&cfg);
    cfg.params.rcvbuf = 2000;
    run_cfg("0   call listen\n"
            "0   < S 0:0(0) win 65535 <mss 1000>\n"
            "0   > S. 0:0(0) ack 1 win 2000 <mss 1000>\n"
            "0.1 < . 1:1(0) ack 1 win 65535\n"
            "0.1 call accept\n"
            "0.2 < . 1:2001(2000) ack 1 win 65535\n"
            "0.2 > . 1:1(0) ack 2001 win 0\n"
            "0.3 < F. 2001:2001(0) ack 1 win 65535\n"
            "0.3 > . 1:1(0) ack 2002 win 0\n"
            "0.3 call state CLOSE_WAIT\n"
            "0.4 call recv 2000\n"
            "0.4 call eof 1\n",
            &cfg);
}

/* Our FIN goes out even into a zero window (it takes no buffer), and data waiting behind the
 * window keeps the FIN behind it. */
static void test_send_fin_at_zero_window(void **state)
{
    (void)state;
    run(TT_PASSIVE_OPEN "0.2 < . 1:1(0) ack 1 win 0\n"
                        "0.3 call shutdown\n"
                        "0.3 > F. 1:1(0) ack 1\n"
                        "0.4 < . 1:1(0) ack 2 win 0\n"
                        "0.4 call state FIN_WAIT_2\n");
    run(TT_PASSIVE_OPEN "0.2 < . 1:1(0) ack 1 win 0\n"
                        "0.3 call send 500\n"
                        "0.3 call shutdown\n"
                        "1.3 > . 0:0(0) ack 1\n" /* only a probe: the FIN waits for the data */
                        "1.4 < . 1:1(0) ack 1 win 1000\n"
                        "1.4 > FP. 1:501(500) ack 1\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delayed_ack),
        cmocka_unit_test(test_delayed_ack_one_segment),
        cmocka_unit_test(test_send_slow_start),
        cmocka_unit_test(test_nagle),
        cmocka_unit_test(test_trim_to_window),
        cmocka_unit_test(test_out_of_order),
        cmocka_unit_test(test_ooo_bound),
        cmocka_unit_test(test_window_scaling),
        cmocka_unit_test(test_no_window_scaling),
        cmocka_unit_test(test_zero_window_persist),
        cmocka_unit_test(test_zero_window_first_probe_after_rto),
        cmocka_unit_test(test_zero_window_unanswered),
        cmocka_unit_test(test_fin_at_zero_window),
        cmocka_unit_test(test_send_fin_at_zero_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
