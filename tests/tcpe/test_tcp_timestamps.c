/*
 * test_tcp_timestamps.c - RFC 7323 timestamps and PAWS (sections 3-5) as scenario scripts, and
 * transfers whose timestamps wrap.
 *
 * Negotiation both ways, and no timestamps when either side lacks them; the option on every
 * segment and its cost to the MSS; PAWS dropping an old duplicate that the sequence numbers
 * alone would take, and the RST exemption; a segment without the option; which TSval is echoed
 * (TS.Recent's update rule, 4.3 cases A-C); the 24-day expiry of TS.Recent; RTT samples from the
 * echo, after a retransmission too, weighted per appendix G. Every script runs twice, the second
 * time with sequence numbers and both sides' timestamps just below 2^32, so the comparisons are
 * checked across the wrap; a script hands its connection off mid-stream, so the timestamp state
 * is checked to move. Last, transfers over a lossy, duplicating, reordering channel between two
 * engines whose timestamp clocks wrap during the run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "handoff/tcpe.h"
#include "helpers/tt_script.h"
#include "helpers/tt_world.h"
#include "helpers/tt_xfer.h"

static void run_cfg(const char *script, const struct tt_script_cfg *cfg)
{
    assert_int_equal(tt_script_run_wrapped(script, cfg), 0);
}

/* Both sides with timestamps; the peer's clock, like ours, counts milliseconds from 0. */
static void run(const char *script)
{
    struct tt_script_cfg cfg;
    tt_script_cfg_init(&cfg);
    cfg.params.timestamps = true;
    run_cfg(script, &cfg);
}

/* A passive open with timestamps: established at 0.1 s, TS.Recent 100, one RTT sample of
 * 100 ms, and 988 octets per segment (1000 less the option). */
#define TS_PASSIVE_OPEN                                                                            \
    "0     call listen\n"                                                                          \
    "0     < S  0:0(0) win 65535 <mss 1000,TS val 0 ecr 0>\n"                                      \
    "0     > S. 0:0(0) ack 1 win 65535 <mss 1000,TS val 0 ecr 0>\n"                                \
    "0.1   < .  1:1(0) ack 1 win 65535 <TS val 100 ecr 0>\n"                                       \
    "0.1   call accept\n"                                                                          \
    "0.1   call state ESTABLISHED\n"                                                               \
    "0.1   call info timestamps 1\n"                                                               \
    "0.1   call info maxseg 988\n"

static void test_negotiated_passive(void **state)
{
    (void)state;
    run(TS_PASSIVE_OPEN "0.1  call info srtt_ms 100\n"
                        "0.2  < P. 1:1001(1000) ack 1 win 65535 <TS val 200 ecr 0>\n"
                        "0.3  > .  1:1(0) ack 1001 <TS val 300 ecr 200>\n" /* delayed */
                        "0.3  call send 988\n"
                        "0.3  > P. 1:989(988) ack 1001 <TS val 300 ecr 200>\n"
                        "0.45 < .  1001:1001(0) ack 989 win 65535 <TS val 450 ecr 300>\n"
                        "0.45 call info srtt_ms 106\n" /* 7/8 * 100 + 1/8 * 150 */
                        "0.5  call recv 1000\n");
}

static void test_negotiated_active(void **state)
{
    (void)state;
    run("0    call connect\n"
        "0    > S  0:0(0) win 65535 <mss 1000,sackOK,TS val 0 ecr 0,wscale 0>\n"
        "0.1  < S. 0:0(0) ack 1 win 65535 <mss 1000,TS val 50 ecr 0>\n"
        "0.1  > .  1:1(0) ack 1 <TS val 100 ecr 50>\n"
        "0.1  call state ESTABLISHED\n"
        "0.1  call info timestamps 1\n"
        "0.1  call info maxseg 988\n"
        "0.1  call info srtt_ms 100\n"
        "0.2  call send 1976\n"
        "0.2  > . 1:989(988) ack 1 <TS val 200 ecr 50>\n"
        "0.2  > P. 989:1977(988) ack 1 <TS val 200 ecr 50>\n");
}

/* Our SYN was lost: the retransmission carries a fresh TSval, and its echo times the handshake
 * where RFC 6298 5.7 would otherwise fall back to a 3 s RTO. */
static void test_syn_retransmission_is_timed(void **state)
{
    (void)state;
    run("0    call connect\n"
        "0    > S  0:0(0) win 65535 <mss 1000,sackOK,TS val 0 ecr 0,wscale 0>\n"
        "1    > S  0:0(0) win 65535 <mss 1000,sackOK,TS val 1000 ecr 0,wscale 0>\n"
        "1.1  < S. 0:0(0) ack 1 win 65535 <mss 1000,TS val 50 ecr 1000>\n"
        "1.1  > .  1:1(0) ack 1 <TS val 1100 ecr 50>\n"
        "1.1  call info srtt_ms 100\n"
        "1.1  call info rto_ms 1000\n");
}

/* Either side without timestamps: no option on any segment, the whole MSS for data, and the
 * peer's options ignored, not dropped. */
static void test_not_negotiated(void **state)
{
    (void)state;
    /* The peer's SYN has none. */
    run("0    call listen\n"
        "0    < S  0:0(0) win 65535 <mss 1000>\n"
        "0    > S. 0:0(0) ack 1 win 65535 <mss 1000>\n"
        "0.1  < .  1:1(0) ack 1 win 65535\n"
        "0.1  call accept\n"
        "0.1  call info timestamps 0\n"
        "0.1  call info maxseg 1000\n"
        "0.2  call send 1000\n"
        "0.2  > P. 1:1001(1000) ack 1 <>\n"
        "0.3  < .  1:1(0) ack 1001 win 65535 <TS val 5 ecr 7>\n" /* ignored */
        "0.3  call drop no_timestamp 0\n"
        "0.3  call drop paws 0\n"
        "0.3  call stat bytes_acked 1000\n");
    /* The peer's SYN-ACK has none. */
    run("0    call connect\n"
        "0    > S  0:0(0) win 65535 <mss 1000,sackOK,TS val 0 ecr 0,wscale 0>\n"
        "0.1  < S. 0:0(0) ack 1 win 65535 <mss 1000>\n"
        "0.1  > .  1:1(0) ack 1 <>\n"
        "0.1  call info timestamps 0\n"
        "0.1  call info maxseg 1000\n");
    /* We have none: nothing offered, nothing answered. */
    struct tt_script_cfg cfg;
    tt_script_cfg_init(&cfg);
    run_cfg("0    call listen\n"
            "0    < S  0:0(0) win 65535 <mss 1000,TS val 0 ecr 0>\n"
            "0    > S. 0:0(0) ack 1 win 65535 <mss 1000>\n"
            "0.1  < .  1:1(0) ack 1 win 65535 <TS val 100 ecr 0>\n"
            "0.1  call accept\n"
            "0.1  call info timestamps 0\n"
            "0.2  < P. 1:1001(1000) ack 1 win 65535 <TS val 1 ecr 0>\n" /* older: no PAWS */
            "0.2  call info rcvbuf 1000\n",
            &cfg);
    run_cfg("0    call connect\n"
            "0    > S  0:0(0) win 65535 <mss 1000,sackOK,wscale 0>\n"
            "0.1  < S. 0:0(0) ack 1 win 65535 <mss 1000,TS val 50 ecr 0>\n"
            "0.1  > .  1:1(0) ack 1 <>\n"
            "0.1  call info timestamps 0\n",
            &cfg);
}

/*
 * PAWS (5.3): a segment inside the window, carrying data the receiver has not seen, but with a
 * TSval older than TS.Recent is an old duplicate from an earlier wrap of the sequence space.
 * It is dropped and answered with an ACK; the genuine segment is then taken. RSTs need no
 * timestamp and are not judged by it.
 */
static void test_paws_drops_old_duplicate(void **state)
{
    (void)state;
    run(TS_PASSIVE_OPEN "0.2  < .  1:1001(1000) ack 1 win 65535 <TS val 200 ecr 0>\n"
                        "0.2  < .  1001:2001(1000) ack 1 win 65535 <TS val 150 ecr 0>\n"
                        "0.2  > .  1:1(0) ack 1001 <TS val 200 ecr 200>\n"
                        "0.2  call drop paws 1\n"
                        "0.2  call info rcvbuf 1000\n"
                        "0.21 < .  1001:2001(1000) ack 1 win 65535 <TS val 210 ecr 0>\n"
                        "0.21 call info rcvbuf 2000\n"
                        "0.21 call handoff\n"
                        "0.31 > .  1:1(0) ack 2001 <TS val 310 ecr 210>\n"
                        "0.4  < .  2001:2001(0) ack 1 win 65535 <TS val 10 ecr 0>\n" /* bare */
                        "0.4  > .  1:1(0) ack 2001 <TS val 400 ecr 210>\n"
                        "0.4  call drop paws 2\n"
                        "0.5  < R. 2001:2001(0) ack 1 win 65535 <TS val 5 ecr 0>\n"
                        "0.5  call state CLOSED\n");
    /* A RST without the option is taken too. */
    run(TS_PASSIVE_OPEN "0.2  < R. 1:1(0) ack 1 win 65535\n"
                        "0.2  call state CLOSED\n"
                        "0.2  call drop no_timestamp 0\n");
}

/* Once negotiated, a segment without the option is dropped silently (3.2). */
static void test_segment_without_timestamp(void **state)
{
    (void)state;
    run(TS_PASSIVE_OPEN "0.2  < .  1:1001(1000) ack 1 win 65535\n"
                        "0.2  call drop no_timestamp 1\n"
                        "0.2  call info rcvbuf 0\n"
                        "0.3  < .  1:1001(1000) ack 1 win 65535 <TS val 300 ecr 0>\n"
                        "0.4  > .  1:1(0) ack 1001 <TS val 400 ecr 300>\n");
}

/*
 * Which TSval is echoed (4.3): TS.Recent takes a segment's TSval only when the segment starts
 * at or before what we last acknowledged and the value is no older. A delayed ACK for two
 * segments echoes the first (case A); an ACK for out-of-order data echoes the last in-order
 * segment (B); when the hole fills, the filler's (C). An equal TSval passes PAWS and updates;
 * an unacceptable segment never updates, however new its TSval.
 */
static void test_ts_recent_rules(void **state)
{
    (void)state;
    run(TS_PASSIVE_OPEN "0.2  < .  1:1001(1000) ack 1 win 65535 <TS val 200 ecr 0>\n"
                        "0.25 < .  1001:2001(1000) ack 1 win 65535 <TS val 250 ecr 0>\n"
                        "0.25 > .  1:1(0) ack 2001 <TS val 250 ecr 200>\n" /* A */
                        "0.3  < .  3001:4001(1000) ack 1 win 65535 <TS val 300 ecr 0>\n"
                        "0.3  > .  1:1(0) ack 2001 <TS val 300 ecr 200>\n" /* B */
                        "0.35 < .  2001:3001(1000) ack 1 win 65535 <TS val 350 ecr 0>\n"
                        "0.35 > .  1:1(0) ack 4001 <TS val 350 ecr 350>\n" /* C */
                        "0.4  < .  4001:5001(1000) ack 1 win 65535 <TS val 350 ecr 0>\n"
                        "0.5  > .  1:1(0) ack 5001 <TS val 500 ecr 350>\n"
                        "0.6  < .  1:1001(1000) ack 1 win 65535 <TS val 600 ecr 0>\n"
                        "0.6  > .  1:1(0) ack 5001 <TS val 600 ecr 350>\n"
                        "0.6  call drop out_of_window 1\n"
                        "0.6  call drop paws 0\n"
                        "0.6  call recv 5000\n"
                        "0.6  > .  1:1(0) ack 5001 <TS val 600 ecr 350>\n"); /* window update */
}

/*
 * 5.5: TS.Recent set more than 24 days ago no longer judges a segment. After 23 days of silence
 * an older TSval is still refused; after 25 days it is taken and becomes TS.Recent.
 */
static void test_ts_recent_expires_after_24_days(void **state)
{
    (void)state;
    run(TS_PASSIVE_OPEN "0.2        < .  1:1001(1000) ack 1 win 65535 <TS val 200 ecr 0>\n"
                        "0.3        > .  1:1(0) ack 1001 <TS val 300 ecr 200>\n"
                        "1987200.3  < .  1001:2001(1000) ack 1 win 65535 <TS val 100 ecr 0>\n"
                        "1987200.3  > .  1:1(0) ack 1001 <TS val 1987200300 ecr 200>\n"
                        "1987200.3  call drop paws 1\n"
                        "1987200.3  call handoff\n" /* the age of TS.Recent moves too */
                        "2160000.3  < .  1001:2001(1000) ack 1 win 65535 <TS val 100 ecr 0>\n"
                        "2160000.4  > .  1:1(0) ack 2001 <TS val 2160000400 ecr 100>\n"
                        "2160000.4  call drop paws 1\n"
                        "2160000.4  call recv 2000\n"
                        "2160000.4  > .  1:1(0) ack 2001 <TS val 2160000400 ecr 100>\n");
}

/* RTT from the echo: a retransmission's echo is a valid sample (no Karn ambiguity), which ends
 * the backoff. */
static void test_rtt_after_retransmission(void **state)
{
    (void)state;
    run(TS_PASSIVE_OPEN "0.2  call send 988\n"
                        "0.2  > P. 1:989(988) ack 1 <TS val 200 ecr 100>\n"
                        "1.2  > P. 1:989(988) ack 1 <TS val 1200 ecr 100>\n"
                        "1.2  call info rxtshift 1\n"
                        "1.3  < .  1:1(0) ack 989 win 65535 <TS val 1300 ecr 1200>\n"
                        "1.3  call info srtt_ms 100\n"
                        "1.3  call info rxtshift 0\n"
                        "1.3  call info rto_ms 1000\n");
}

/*
 * Appendix G: with FlightSize 4 x 988 one ACK is one of ceil(3952 / 1976) = 2 samples expected
 * per RTT, so alpha and beta are halved: from srtt 100 ms, rttvar 50 ms, a 260 ms sample gives
 * srtt 110 ms and rttvar 63.75 ms (RTO 365 ms), where one sample per RTT would give 120 ms.
 * Only ACKs that advance SND.UNA are samples (4.2), and an echo from the future is none.
 */
static void test_rtt_samples_weighted(void **state)
{
    (void)state;
    struct tt_script_cfg cfg;
    tt_script_cfg_init(&cfg);
    cfg.params.timestamps = true;
    cfg.params.rto_min = 10000000; /* 10 ms */
    run_cfg(TS_PASSIVE_OPEN "0.1  call info rto_ms 300\n"
                            "0.2  call send 3952\n"
                            "0.2  > .  1:989(988) ack 1 <TS val 200 ecr 100>\n"
                            "0.2  > .  989:1977(988) ack 1 <TS val 200 ecr 100>\n"
                            "0.2  > .  1977:2965(988) ack 1 <TS val 200 ecr 100>\n"
                            "0.2  > P. 2965:3953(988) ack 1 <TS val 200 ecr 100>\n"
                            "0.46 < .  1:1(0) ack 1977 win 65535 <TS val 460 ecr 200>\n"
                            "0.46 call info srtt_ms 110\n"
                            "0.46 call info rto_ms 365\n"
                            "0.5  < .  1:1(0) ack 1977 win 65535 <TS val 500 ecr 0>\n" /* dup */
                            "0.5  call info srtt_ms 110\n"
                            "0.6  < .  1:1(0) ack 3953 win 65535 <TS val 600 ecr 5000000>\n"
                            "0.6  call info srtt_ms 110\n"
                            "0.6  call stat bytes_acked 3952\n",
            &cfg);
}

/* ---- transfers across the wrap of both timestamp clocks ---- */

/* Offsets that put every clock 0.5 to 1 s before its wrap at the start of the run. */
static uint32_t near_wrap(void *ctx, const struct tcpe_tuple *t)
{
    (void)ctx;
    return 0u - 1000u + (uint32_t)(t->local_port ^ t->remote_port) % 500u;
}

static void test_transfers_across_the_wrap(void **state)
{
    (void)state;
    uint64_t paws = 0, no_ts = 0, opened = 0;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        struct tt_chan_params cp = {
            .seed = seed,
            .loss = 0.03,
            .dup = 0.03,
            .reorder = 0.05,
            .delay = 20 * TT_MS,
            .jitter = 2 * TT_MS,
            .reorder_delay = 8 * TT_MS,
        };
        struct tt_world w;
        tt_world_init(&w, &cp);
        struct tt_xfers xs;
        struct tcpe_params pc, ps;
        tcpe_params_init(&pc);
        pc.msl = 1 * TT_SEC;
        pc.timestamps = true;
        pc.ops.ts_offset = near_wrap;
        pc.seed = seed;
        ps = pc;
        ps.seed = seed + 100;
        struct tcpe_stack *cli = tt_world_add_stack(&w, 0, &pc, tt_xfers_event, &xs);
        struct tcpe_stack *srv = tt_world_add_stack(&w, 1, &ps, tt_xfers_event, &xs);
        tt_xfers_init(&xs, &w, cli, srv, 40, seed, 200000);
        assert_true(tt_xfers_run(&xs, 8, 1000 * TT_SEC, NULL, NULL));
        assert_true(w.now > 2 * TT_SEC); /* every clock wrapped */
        tt_world_run(&w, w.now + 10 * TT_SEC, NULL, NULL);
        assert_int_equal(tcpe_stack_conn_count(cli), 0);
        assert_int_equal(tcpe_stack_conn_count(srv), 1);
        for (int i = 0; i < 2; i++) {
            const struct tcpe_stats *st = tcpe_stack_stats(i == 0 ? cli : srv);
            paws += st->drops[TCPE_DROP_PAWS];
            no_ts += st->drops[TCPE_DROP_NO_TS];
            opened += st->conns_opened;
        }
        tt_xfers_fini(&xs);
        tt_world_fini(&w);
    }
    fprintf(stderr, "%llu connections, %llu old duplicates dropped by PAWS\n",
            (unsigned long long)opened, (unsigned long long)paws);
    assert_int_equal(no_ts, 0); /* every segment carried the option */
    assert_int_equal(opened, 3 * 2 * 40);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_negotiated_passive),
        cmocka_unit_test(test_negotiated_active),
        cmocka_unit_test(test_syn_retransmission_is_timed),
        cmocka_unit_test(test_not_negotiated),
        cmocka_unit_test(test_paws_drops_old_duplicate),
        cmocka_unit_test(test_segment_without_timestamp),
        cmocka_unit_test(test_ts_recent_rules),
        cmocka_unit_test(test_ts_recent_expires_after_24_days),
        cmocka_unit_test(test_rtt_after_retransmission),
        cmocka_unit_test(test_rtt_samples_weighted),
        cmocka_unit_test(test_transfers_across_the_wrap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
