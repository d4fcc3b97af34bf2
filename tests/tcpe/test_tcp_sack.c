/*
 * test_tcp_sack.c - selective acknowledgment, the receiver's half, as scenario scripts:
 * SACK-permitted on the SYNs and when it holds (RFC 2018 2); the SACK blocks our ACKs carry for
 * out-of-order data, the block of the latest segment first, then the most recently reported
 * ones, as many as fit beside timestamps (RFC 2018 3-4); D-SACK blocks for duplicates below and
 * above RCV.NXT, reported once (RFC 2883 4); the payload giving way to the blocks; blocks that
 * survive a handoff; and nonsense SACK blocks from the peer, which change nothing. Every script
 * also runs across sequence-number zero (reliability 11).
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

/* A passive open where both SYNs carry SACK-permitted: established at 0.1 s. */
#define SACK_PASSIVE_OPEN                                                                          \
    "0     call listen\n"                                                                          \
    "0     < S  0:0(0) win 65535 <mss 1000,sackOK>\n"                                              \
    "0     > S. 0:0(0) ack 1 win 65535 <mss 1000,sackOK>\n"                                        \
    "0.1   < .  1:1(0) ack 1 win 65535\n"                                                          \
    "0.1   call accept\n"                                                                          \
    "0.1   call info sack 1\n"

/* SACK holds only when both SYNs carry SACK-permitted; a stack with sack off offers nothing and
 * answers no offer; a connection without SACK sends no blocks. */
static void test_negotiation(void **state)
{
    (void)state;
    /* Active: our SYN offers, the SYN-ACK agrees or not. */
    run("0   call connect\n"
        "0   > S 0:0(0) win 65535 <mss 1000,sackOK,wscale 0>\n"
        "0.1 < S. 0:0(0) ack 1 win 65535 <mss 1000,sackOK>\n"
        "0.1 > . 1:1(0) ack 1 win 65535 <>\n"
        "0.1 call info sack 1\n");
    run("0   call connect\n"
        "0   > S 0:0(0) win 65535 <mss 1000,sackOK,wscale 0>\n"
        "0.1 < S. 0:0(0) ack 1 win 65535 <mss 1000>\n"
        "0.1 > . 1:1(0) ack 1 win 65535 <>\n"
        "0.1 call info sack 0\n"
        "0.2 < . 1001:2001(1000) ack 1\n"
        "0.2 > . 1:1(0) ack 1 <>\n");
    /* Passive without the peer's offer: no SACK-permitted on the SYN-ACK, no blocks, none kept
     * either (a hole partly filled, then a handoff: the state has none to carry). */
    run(TT_PASSIVE_OPEN "0.1 call info sack 0\n"
                        "0.2 < . 1001:2001(1000) ack 1\n"
                        "0.2 > . 1:1(0) ack 1 <>\n"
                        "0.3 < . 3001:4001(1000) ack 1\n"
                        "0.3 > . 1:1(0) ack 1 <>\n"
                        "0.4 < . 1:1001(1000) ack 1\n"
                        "0.4 > . 1:1(0) ack 2001 <>\n"
                        "0.45 call handoff\n"
                        "0.5 < . 2001:3001(1000) ack 1\n"
                        "0.5 > . 1:1(0) ack 4001 <>\n");
    /* The stack's sack off: the peer's offer is not answered. */
    struct tt_script_cfg cfg;
    tt_script_cfg_init(&cfg);
    cfg.params.sack = false;
    run_cfg("0   call listen\n"
            "0   < S 0:0(0) win 65535 <mss 1000,sackOK>\n"
            "0   > S. 0:0(0) ack 1 win 65535 <mss 1000>\n"
            "0.1 < . 1:1(0) ack 1 win 65535\n"
            "0.1 call accept\n"
            "0.1 call info sack 0\n"
            "0.2 < . 1001:2001(1000) ack 1\n"
            "0.2 > . 1:1(0) ack 1 <>\n",
            &cfg);
    run_cfg("0   call connect\n"
            "0   > S 0:0(0) win 65535 <mss 1000,wscale 0>\n"
            "0.1 < S. 0:0(0) ack 1 win 65535 <mss 1000,sackOK>\n"
            "0.1 > . 1:1(0) ack 1 win 65535 <>\n"
            "0.1 call info sack 0\n",
            &cfg);
}

/*
 * RFC 2018 4: the first block holds the segment that arrived last, the others follow most
 * recent first; four fit without timestamps, so a fifth hole pushes the oldest block out; a
 * segment that extends or joins blocks makes the whole run the first block, and a place that
 * frees up goes to a run not reported lately; blocks that RCV.NXT reaches go, and the ACK that
 * acknowledges everything carries none.
 */
static void test_block_order(void **state)
{
    (void)state;
    run(SACK_PASSIVE_OPEN "0.2 < . 1001:2001(1000) ack 1\n"
                          "0.2 > . 1:1(0) ack 1 <sack 1001:2001>\n"
                          "0.3 < . 3001:4001(1000) ack 1\n"
                          "0.3 > . 1:1(0) ack 1 <sack 3001:4001 1001:2001>\n"
                          "0.4 < . 5001:6001(1000) ack 1\n"
                          "0.4 > . 1:1(0) ack 1 <sack 5001:6001 3001:4001 1001:2001>\n"
                          "0.5 < . 7001:8001(1000) ack 1\n"
                          "0.5 > . 1:1(0) ack 1 <sack 7001:8001 5001:6001 3001:4001 1001:2001>\n"
                          "0.6 < . 9001:10001(1000) ack 1\n"
                          "0.6 > . 1:1(0) ack 1 <sack 9001:10001 7001:8001 5001:6001 3001:4001>\n"
                          "0.6 call info ooo 5\n"
                          /* the forgotten oldest block is extended: it comes back, first */
                          "0.7 < . 2001:2501(500) ack 1\n"
                          "0.7 > . 1:1(0) ack 1 <sack 1001:2501 9001:10001 7001:8001 5001:6001>\n"
                          /* a segment joining two blocks: one block, first */
                          "0.8 < . 6001:7001(1000) ack 1\n"
                          "0.8 > . 1:1(0) ack 1 <sack 5001:8001 1001:2501 9001:10001 3001:4001>\n"
                          /* a segment inside a block already reported: it comes first */
                          "0.85 < . 9001:10001(1000) ack 1\n"
                          "0.85 > . 1:1(0) ack 1 <sack 9001:10001 9001:10001 5001:8001 1001:2501>\n"
                          /* holes fill: RCV.NXT takes the blocks it reaches */
                          "0.9 < . 1:1001(1000) ack 1\n"
                          "0.9 > . 1:1(0) ack 2501 <sack 9001:10001 5001:8001 3001:4001>\n"
                          "1.0 < . 2501:3001(500) ack 1\n"
                          "1.0 > . 1:1(0) ack 4001 <sack 9001:10001 5001:8001>\n"
                          "1.1 < . 4001:5001(1000) ack 1\n"
                          "1.1 > . 1:1(0) ack 8001 <sack 9001:10001>\n"
                          "1.2 < . 8001:9001(1000) ack 1\n"
                          "1.2 > . 1:1(0) ack 10001 <>\n"
                          "1.2 call info ooo 0\n"
                          "1.3 call recv 10000\n"
                          "1.3 > . 1:1(0) ack 10001 <>\n"); /* the window update */
}

/* With timestamps 3 blocks fit beside them (RFC 2018 3), a D-SACK block included. */
static void test_blocks_beside_timestamps(void **state)
{
    (void)state;
    struct tt_script_cfg cfg;
    tt_script_cfg_init(&cfg);
    cfg.params.timestamps = true;
    run_cfg("0   call listen\n"
            "0   < S 0:0(0) win 65535 <mss 1000,sackOK,TS val 0 ecr 0>\n"
            "0   > S. 0:0(0) ack 1 win 65535 <mss 1000,sackOK,TS val 0 ecr 0>\n"
            "0.1 < . 1:1(0) ack 1 win 65535 <TS val 100 ecr 0>\n"
            "0.1 call accept\n"
            "0.1 call info sack 1\n"
            "0.1 call info maxseg 988\n"
            "0.2 < . 989:1977(988) ack 1 <TS val 200 ecr 100>\n"
            "0.2 > . 1:1(0) ack 1 <TS val 200 ecr 100,sack 989:1977>\n"
            "0.3 < . 2965:3953(988) ack 1 <TS val 300 ecr 100>\n"
            "0.3 > . 1:1(0) ack 1 <TS val 300 ecr 100,sack 2965:3953 989:1977>\n"
            "0.4 < . 4941:5929(988) ack 1 <TS val 400 ecr 100>\n"
            "0.4 > . 1:1(0) ack 1 <TS val 400 ecr 100,sack 4941:5929 2965:3953 989:1977>\n"
            "0.5 < . 6917:7905(988) ack 1 <TS val 500 ecr 100>\n"
            "0.5 > . 1:1(0) ack 1 <TS val 500 ecr 100,sack 6917:7905 4941:5929 2965:3953>\n"
            /* a duplicate: D-SACK first, then its block, then one more */
            "0.6 < . 4941:5929(988) ack 1 <TS val 600 ecr 100>\n"
            "0.6 > . 1:1(0) ack 1 <TS val 600 ecr 100,sack 4941:5929 4941:5929 6917:7905>\n",
            &cfg);
}

/*
 * RFC 2883 4: a duplicate is reported once, in a D-SACK block ahead of the SACK blocks: all
 * below RCV.NXT (4.1.1), partly below (only the old part), above RCV.NXT (then the run holding
 * it is the next block, 4.1.2), and an in-order segment that brings octets already queued.
 */
static void test_dsack(void **state)
{
    (void)state;
    run(SACK_PASSIVE_OPEN "0.2 < . 1:1001(1000) ack 1\n"
                          "0.3 > . 1:1(0) ack 1001 <>\n" /* delayed */
                          "0.4 < . 1:1001(1000) ack 1\n"
                          "0.4 > . 1:1(0) ack 1001 <sack 1:1001>\n"
                          "0.5 < . 501:1501(1000) ack 1\n"
                          "0.5 > . 1:1(0) ack 1501 <sack 501:1001>\n"
                          "0.6 < . 2001:3001(1000) ack 1\n"
                          "0.6 > . 1:1(0) ack 1501 <sack 2001:3001>\n" /* D-SACK said once */
                          "0.7 < . 3501:4001(500) ack 1\n"
                          "0.7 > . 1:1(0) ack 1501 <sack 3501:4001 2001:3001>\n"
                          "0.8 < . 2001:3001(1000) ack 1\n"
                          "0.8 > . 1:1(0) ack 1501 <sack 2001:3001 2001:3001 3501:4001>\n"
                          "0.85 < . 2501:3001(500) ack 1\n"
                          "0.85 > . 1:1(0) ack 1501 <sack 2501:3001 2001:3001 3501:4001>\n"
                          "0.9 < . 1501:2501(1000) ack 1\n"
                          "0.9 > . 1:1(0) ack 3001 <sack 2001:2501 3501:4001>\n"
                          "1.0 < . 3001:3501(500) ack 1\n"
                          "1.0 > . 1:1(0) ack 4001 <>\n"
                          "1.0 call stat bytes_in 4000\n"
                          "1.1 call recv 4000\n"
                          "1.1 > . 1:1(0) ack 4001 <>\n"); /* the window update */
}

/* A duplicate at a zero window (the segment is unacceptable: the ACK answers it at once) is
 * reported too; a window probe is not data and reports nothing. */
static void test_dsack_at_zero_window(void **state)
{
    (void)state;
    struct tt_script_cfg cfg;
    tt_script_cfg_init(&cfg);
    cfg.params.rcvbuf = 2000;
    run_cfg("0   call listen\n"
            "0   < S 0:0(0) win 65535 <mss 1000,sackOK>\n"
            "0   > S. 0:0(0) ack 1 win 2000 <mss 1000,sackOK>\n"
            "0.1 < . 1:1(0) ack 1 win 65535\n"
            "0.1 call accept\n"
            "0.2 < . 1:2001(2000) ack 1\n"
            "0.2 > . 1:1(0) ack 2001 win 0 <>\n"
            "0.3 < . 1001:2001(1000) ack 1\n"
            "0.3 > . 1:1(0) ack 2001 win 0 <sack 1001:2001>\n"
            "0.4 < . 2000:2000(0) ack 1\n"
            "0.4 > . 1:1(0) ack 2001 win 0 <>\n",
            &cfg);
}

/* The blocks come out of the payload of the data segments that carry them, as timestamps do:
 * 1000 - 12 octets with one block; the whole MSS again once the hole is filled. */
static void test_payload_gives_way(void **state)
{
    (void)state;
    run(SACK_PASSIVE_OPEN "0.2 < . 1001:2001(1000) ack 1\n"
                          "0.2 > . 1:1(0) ack 1 <sack 1001:2001>\n"
                          "0.3 call send 1976\n"
                          "0.3 > . 1:989(988) ack 1 <sack 1001:2001>\n"
                          "0.3 > P. 989:1977(988) ack 1 <sack 1001:2001>\n"
                          "0.4 < . 1:1001(1000) ack 1977\n"
                          "0.4 > . 1977:1977(0) ack 2001 <>\n"
                          "0.5 call send 1000\n"
                          "0.5 > P. 1977:2977(1000) ack 2001 <>\n");
}

/* The blocks and their order move with the connection: after a handoff the next ACK reports
 * what the exporter's would have. */
static void test_blocks_survive_handoff(void **state)
{
    (void)state;
    run(SACK_PASSIVE_OPEN "0.2 < . 1001:2001(1000) ack 1\n"
                          "0.2 > . 1:1(0) ack 1 <sack 1001:2001>\n"
                          "0.3 < . 3001:4001(1000) ack 1\n"
                          "0.3 > . 1:1(0) ack 1 <sack 3001:4001 1001:2001>\n"
                          "0.35 call handoff\n"
                          "0.35 call info sack 1\n"
                          "0.4 < . 5001:6001(1000) ack 1\n"
                          "0.4 > . 1:1(0) ack 1 <sack 5001:6001 3001:4001 1001:2001>\n"
                          "0.45 call handoff\n"
                          "0.5 < . 1:1001(1000) ack 1\n"
                          "0.5 > . 1:1(0) ack 2001 <sack 5001:6001 3001:4001>\n");
}

/*
 * SACK blocks from the peer are not used yet, and nonsense ones (reversed, empty, beyond what
 * was sent, below SND.UNA, or on a connection that never agreed to SACK) change nothing: the
 * ACK is processed as if the option were not there.
 */
static void test_hostile_blocks_ignored(void **state)
{
    (void)state;
    static const char *const script =
        "0.2 call send 2000\n"
        "0.2 > . 1:1001(1000) ack 1\n"
        "0.2 > P. 1001:2001(1000) ack 1\n"
        "0.3 < . 1:1(0) ack 1001 win 65535 <sack 2001:1001 1500:1500 -100:-50 9000:90000>\n"
        "0.3 call state ESTABLISHED\n"
        "0.3 call info sndbuf 1000\n"
        "0.3 call info dupacks 0\n"
        "0.4 < . 1:1(0) ack 1001 win 65535 <sack 1001:2001 1:2001 -2147483000:2147483000>\n"
        "0.4 call info dupacks 1\n"
        "0.5 < . 1:1(0) ack 2001 win 65535 <sack 1:2001>\n"
        "0.5 call info sndbuf 0\n"
        "0.5 call stat bytes_acked 2000\n"
        "0.5 call drop bad_ack 0\n"
        "0.5 call drop malformed 0\n"
        "0.6 call send 500\n"
        "0.6 > P. 2001:2501(500) ack 1\n";
    char buf[2048];
    snprintf(buf, sizeof buf, "%s%s", SACK_PASSIVE_OPEN, script);
    run(buf);
    snprintf(buf, sizeof buf, "%s%s", TT_PASSIVE_OPEN, script);
    run(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_negotiation),
        cmocka_unit_test(test_block_order),
        cmocka_unit_test(test_blocks_beside_timestamps),
        cmocka_unit_test(test_dsack),
        cmocka_unit_test(test_dsack_at_zero_window),
        cmocka_unit_test(test_payload_gives_way),
        cmocka_unit_test(test_blocks_survive_handoff),
        cmocka_unit_test(test_hostile_blocks_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
