/*
 * test_tcp_sack_send.c - selective acknowledgment, the sender's half: the scoreboard and loss
 * recovery by RFC 6675 (src/tcpe/tcp_sb.c).
 *
 * Scripts (every one also across sequence-number zero): two losses in one window repaired in one
 * round trip, each lost segment sent exactly once more and no timeout, with cwnd and pipe checked
 * through what leaves; the same with a handoff in the middle of the recovery; reneging (the peer
 * SACKs, then the timeout clears the scoreboard and the SACKed octets go again); D-SACK and
 * blocks that cannot be true, which neither fill the scoreboard nor start a recovery of their
 * own; and the same losses without SACK, recovered by NewReno as before. Then, on a tt_world
 * channel, a peer that sends hundreds of distinct blocks: the scoreboard stays within its eight
 * ranges, nothing is allocated for it, and the transfer still completes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "handoff/err.h"
#include "handoff/rng.h"
#include "handoff/tcpe.h"
#include "helpers/tt_script.h"
#include "helpers/tt_world.h"

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

/* Passive open, both SYNs with SACK-permitted, MSS 1000: the initial window is 4 segments. */
#define SACK_OPEN                                                                                  \
    "0     call listen\n"                                                                          \
    "0     < S  0:0(0) win 65535 <mss 1000,sackOK>\n"                                              \
    "0     > S. 0:0(0) ack 1 win 65535 <mss 1000,sackOK>\n"                                        \
    "0.1   < .  1:1(0) ack 1 win 65535\n"                                                          \
    "0.1   call accept\n"                                                                          \
    "0.1   call info sack 1\n"

/*
 * Eight segments in flight, of which 1001:2001 and 3001:4001 are lost; the peer's duplicate ACKs
 * SACK what arrives. The first two duplicates each send one new segment (limited transmit): two
 * ranges, 2000 octets, deem nothing lost yet. The third starts recovery: ssthresh = cwnd =
 * (7000 - 2000 sent by limited transmit) / 2 = 2500, 1001:2001 goes again, and pipe (1000 resent
 * + 1000 in 3001:4001, not yet lost, + 2000 above the last range) allows no more. At 0.34
 * 3001:4001 is deemed lost (3000 SACKed above it) but pipe is 2000; at 0.35 pipe is 1000 and the
 * second hole goes (NextSeg rule 1).
 */
#define TWO_LOSSES                                                                                 \
    "0.2  call send 10000\n"                                                                       \
    "0.2  > . 1:1001(1000) ack 1\n"                                                                \
    "0.2  > . 1001:2001(1000) ack 1\n"                                                             \
    "0.2  > . 2001:3001(1000) ack 1\n"                                                             \
    "0.2  > . 3001:4001(1000) ack 1\n"                                                             \
    "0.3  < . 1:1(0) ack 1001 win 65535\n"                                                         \
    "0.3  > . 4001:5001(1000) ack 1\n"                                                             \
    "0.3  > . 5001:6001(1000) ack 1\n"                                                             \
    "0.31 < . 1:1(0) ack 1001 win 65535 <sack 2001:3001>\n"                                        \
    "0.31 > . 6001:7001(1000) ack 1\n"                                                             \
    "0.32 < . 1:1(0) ack 1001 win 65535 <sack 4001:5001 2001:3001>\n"                              \
    "0.32 > . 7001:8001(1000) ack 1\n"                                                             \
    "0.32 call info sack_ranges 2\n"                                                               \
    "0.32 call info in_recovery 0\n"                                                               \
    "0.33 < . 1:1(0) ack 1001 win 65535 <sack 4001:6001 2001:3001>\n"                              \
    "0.33 > . 1001:2001(1000) ack 1\n"                                                             \
    "0.33 call info in_recovery 1\n"                                                               \
    "0.33 call info cwnd 2500\n"                                                                   \
    "0.33 call info ssthresh 2500\n"                                                               \
    "0.34 < . 1:1(0) ack 1001 win 65535 <sack 4001:7001 2001:3001>\n"                              \
    "0.35 < . 1:1(0) ack 1001 win 65535 <sack 4001:8001 2001:3001>\n"                              \
    "0.35 > . 3001:4001(1000) ack 1\n"                                                             \
    "0.35 call info cwnd 2500\n"

/*
 * What follows TWO_LOSSES: the retransmissions arrive, a round trip after the losses showed. A
 * partial ACK leaves pipe 1000 and NextSeg only new data (rule 2); the ACK of RecoveryPoint (8001)
 * ends recovery with cwnd = min(ssthresh, FlightSize + SMSS) = 2000. Each lost segment went
 * exactly once more, and no timer fired.
 */
#define TWO_LOSSES_END                                                                             \
    "0.43 < . 1:1(0) ack 3001 win 65535 <sack 4001:8001>\n"                                        \
    "0.43 > . 8001:9001(1000) ack 1\n"                                                             \
    "0.43 call info in_recovery 1\n"                                                               \
    "0.45 < . 1:1(0) ack 8001 win 65535\n"                                                         \
    "0.45 > P. 9001:10001(1000) ack 1\n"                                                           \
    "0.45 call info in_recovery 0\n"                                                               \
    "0.45 call info cwnd 2000\n"                                                                   \
    "0.45 call info sack_ranges 0\n"                                                               \
    "0.55 < . 1:1(0) ack 10001 win 65535\n"                                                        \
    "0.55 call info sndbuf 0\n"                                                                    \
    "0.55 call stat rexmt_segs 2\n"                                                                \
    "0.55 call stat fast_rexmts 1\n"                                                               \
    "0.55 call stat timeouts 0\n"

/* RFC 6675: several losses in one window are repaired in one round trip, without a timeout. */
static void test_two_losses_one_round_trip(void **state)
{
    (void)state;
    run(SACK_OPEN TWO_LOSSES TWO_LOSSES_END);
}

/* A handoff in the middle of the recovery: the scoreboard, HighRxt and RecoveryPoint move,
 * and the other side goes on exactly as the first would have. */
static void test_handoff_during_recovery(void **state)
{
    (void)state;
    run(SACK_OPEN TWO_LOSSES "0.36 call handoff\n"
                             "0.36 call info sack_ranges 2\n"
                             "0.36 call info in_recovery 1\n" TWO_LOSSES_END);
    /* And between the third duplicate and the next, where only the first hole is repaired. */
    run(SACK_OPEN
        "0.2  call send 4000\n"
        "0.2  > . 1:1001(1000) ack 1\n"
        "0.2  > . 1001:2001(1000) ack 1\n"
        "0.2  > . 2001:3001(1000) ack 1\n"
        "0.2  > P. 3001:4001(1000) ack 1\n"
        "0.3  < . 1:1(0) ack 1 win 65535 <sack 1001:2001>\n"
        "0.31 < . 1:1(0) ack 1 win 65535 <sack 3001:4001 1001:2001>\n"
        "0.32 < . 1:1(0) ack 1 win 65535 <sack 3001:4001 1001:2001>\n" /* nothing new: no count */
        "0.32 call info dupacks 2\n"
        "0.33 call handoff\n"
        "0.34 < . 1:1(0) ack 1 win 65535 <sack 1001:4001>\n"
        "0.34 > . 1:1001(1000) ack 1\n"
        "0.34 call handoff\n"
        "0.34 call info in_recovery 1\n"
        "0.44 < . 1:1(0) ack 4001 win 65535\n"
        "0.44 call info in_recovery 0\n"
        "0.44 call stat rexmt_segs 1\n"
        "0.44 call stat timeouts 0\n");
}

/*
 * Reneging (RFC 2018 8, RFC 6675 5.1): the peer SACKs 1001:4001 and then drops it. The hole at
 * SND.UNA is sent again in recovery; when that is lost too the timeout clears the scoreboard, and
 * the octets once SACKed are sent again in slow start as the peer acknowledges.
 */
static void test_reneging(void **state)
{
    (void)state;
    run(SACK_OPEN "0.2  call send 4000\n"
                  "0.2  > . 1:1001(1000) ack 1\n"
                  "0.2  > . 1001:2001(1000) ack 1\n"
                  "0.2  > . 2001:3001(1000) ack 1\n"
                  "0.2  > P. 3001:4001(1000) ack 1\n"
                  "0.3  < . 1:1(0) ack 1 win 65535 <sack 1001:2001>\n"
                  "0.31 < . 1:1(0) ack 1 win 65535 <sack 1001:3001>\n"
                  "0.32 < . 1:1(0) ack 1 win 65535 <sack 1001:4001>\n"
                  "0.32 > . 1:1001(1000) ack 1\n"
                  "0.32 call info sack_ranges 1\n"
                  "0.32 call info in_recovery 1\n"
                  /* the retransmission is lost: one RTO later */
                  "1.32 > . 1:1001(1000) ack 1\n"
                  "1.32 call info sack_ranges 0\n"
                  "1.32 call info in_recovery 0\n"
                  "1.32 call stat timeouts 1\n"
                  "1.32 call info cwnd 1000\n"
                  /* the peer kept none of what it SACKed */
                  "1.4  < . 1:1(0) ack 1001 win 65535\n"
                  "1.4  > . 1001:2001(1000) ack 1\n"
                  "1.4  > . 2001:3001(1000) ack 1\n"
                  "1.5  < . 1:1(0) ack 3001 win 65535\n"
                  "1.5  > P. 3001:4001(1000) ack 1\n"
                  "1.6  < . 1:1(0) ack 4001 win 65535\n"
                  "1.6  call info sndbuf 0\n");
}

/*
 * Blocks that cannot be true are ignored, whole: reversed, empty, at or below SND.UNA, beyond
 * SND.MAX, spanning half the sequence space. An ACK carrying only such blocks is judged as one
 * without SACK (three of them are three duplicate ACKs). A D-SACK (RFC 2883: below the ACK, or
 * inside the second block) is not news: the duplicate it reports is no sign of loss, and three
 * such ACKs start no recovery.
 */
static void test_blocks_that_cannot_be_true(void **state)
{
    (void)state;
    static const char *const sent = "0.2  call send 4000\n"
                                    "0.2  > . 1:1001(1000) ack 1\n"
                                    "0.2  > . 1001:2001(1000) ack 1\n"
                                    "0.2  > . 2001:3001(1000) ack 1\n"
                                    "0.2  > P. 3001:4001(1000) ack 1\n";
    char buf[4096];
    snprintf(buf, sizeof buf, "%s%s%s", SACK_OPEN, sent,
             "0.3  < . 1:1(0) ack 1 win 65535 <sack 2001:1001 1001:1001 1:1001 -500:1>\n"
             "0.3  call info sack_ranges 0\n"
             "0.3  call info dupacks 1\n"
             "0.31 < . 1:1(0) ack 1 win 65535 <sack 3001:5001 4001:4002 -2147483000:2147483000>\n"
             "0.31 call info sack_ranges 0\n"
             "0.31 call info dupacks 2\n"
             /* the third: NewReno's rule would say recovery; so does RFC 6675's */
             "0.32 < . 1:1(0) ack 1 win 65535 <sack 1:4001>\n"
             "0.32 > . 1:1001(1000) ack 1\n"
             "0.32 call info in_recovery 1\n"
             "0.32 call info sack_ranges 0\n"
             "0.42 < . 1:1(0) ack 4001 win 65535\n"
             "0.42 call stat rexmt_segs 1\n");
    run(buf);
    /* D-SACKs: the same octets twice, then a D-SACK inside the second block. */
    snprintf(buf, sizeof buf, "%s%s%s", SACK_OPEN, sent,
             "0.3  < . 1:1(0) ack 1001 win 65535\n"
             "0.31 < . 1:1(0) ack 1001 win 65535 <sack 1:1001>\n"
             "0.32 < . 1:1(0) ack 1001 win 65535 <sack 501:1001>\n"
             "0.32 call info dupacks 0\n"
             "0.33 < . 1:1(0) ack 1001 win 65535 <sack 2001:3001>\n"
             "0.33 call info dupacks 1\n"
             "0.34 < . 1:1(0) ack 1001 win 65535 <sack 2001:2501 2001:3001>\n"
             "0.35 < . 1:1(0) ack 1001 win 65535 <sack 2501:3001 2001:3001>\n"
             "0.35 call info dupacks 1\n"
             "0.35 call info sack_ranges 1\n"
             "0.35 call info in_recovery 0\n"
             "0.35 call stat rexmt_segs 0\n");
    run(buf);
}

/* Without SACK the same losses are NewReno's, as before: one hole per round trip. */
static void test_newreno_without_sack(void **state)
{
    (void)state;
    struct tt_script_cfg cfg;
    tt_script_cfg_init(&cfg);
    cfg.params.sack = false;
    run_cfg(TT_PASSIVE_OPEN "0.2  call send 6000\n"
                            "0.2  > . 1:1001(1000) ack 1\n"
                            "0.2  > . 1001:2001(1000) ack 1\n"
                            "0.2  > . 2001:3001(1000) ack 1\n"
                            "0.2  > . 3001:4001(1000) ack 1\n"
                            "0.3  < . 1:1(0) ack 1 win 65535 <sack 1001:2001>\n"
                            "0.3  > . 4001:5001(1000) ack 1\n"
                            "0.31 < . 1:1(0) ack 1 win 65535 <sack 3001:4001 1001:2001>\n"
                            "0.31 > P. 5001:6001(1000) ack 1\n"
                            "0.32 < . 1:1(0) ack 1 win 65535 <sack 3001:5001 1001:2001>\n"
                            "0.32 > . 1:1001(1000) ack 1\n"
                            "0.32 call info sack_ranges 0\n"
                            "0.42 < . 1:1(0) ack 1001 win 65535\n"
                            "0.42 > . 1001:2001(1000) ack 1\n"
                            "0.52 < . 1:1(0) ack 2001 win 65535\n"
                            "0.52 > . 2001:3001(1000) ack 1\n",
            &cfg);
}

/* ---- a peer that sends hundreds of distinct blocks ---- */

#define CLI_IP   0x0a000001u
#define SRV_IP   0x0a000002u
#define SRV_PORT 80

/* An ACK from the client to the server's connection s, at SND.UNA, with four random blocks
 * within what s has in flight (some beyond it, some nonsense). */
static void hostile_ack(struct tt_world *w, struct tcpe_conn *s, struct ho_rng *r)
{
    const struct tcpe_tuple *t = tcpe_conn_tuple(s);
    struct tcpe_info in;
    tcpe_conn_info(s, &in);
    struct tcpe_seg g;
    memset(&g, 0, sizeof g);
    g.src_ip = t->remote_ip;
    g.dst_ip = t->local_ip;
    g.src_port = t->remote_port;
    g.dst_port = t->local_port;
    g.seq = in.rcv_nxt;
    g.ack = in.snd_una;
    g.flags = TCPE_ACK;
    g.wnd = (uint16_t)(in.snd_wnd >> in.snd_wscale);
    g.opts = TCPE_OPT_SACK;
    g.nsack = TCPE_SACK_MAX;
    uint32_t flight = in.snd_max - in.snd_una;
    for (unsigned k = 0; k < TCPE_SACK_MAX; k++) {
        /* 10 octets on a 20-octet grid: blocks that never touch unless equal */
        uint32_t at = 20 * (uint32_t)ho_rng_below(r, flight / 20 + 100) + 1;
        g.sack[k].start = in.snd_una + at;
        g.sack[k].end = in.snd_una + at + 10;
        if (ho_rng_below(r, 8) == 0) {
            g.sack[k].start = (uint32_t)ho_rng_next(r);
            g.sack[k].end = (uint32_t)ho_rng_next(r);
        }
    }
    assert_int_equal(tcpe_conn_input(s, &g, tt_world_clock(w, tcpe_conn_stack(s))), HO_OK);
}

static void test_hostile_blocks_bounded(void **state)
{
    (void)state;
    struct tt_chan_params cp = {.seed = 3, .delay = 10 * TT_MS};
    struct tt_world w;
    tt_world_init(&w, &cp);
    struct tcpe_params prm;
    tcpe_params_init(&prm);
    prm.sndbuf = 200000;
    prm.rcvbuf = 200000;
    struct tcpe_stack *cli = tt_world_add_stack(&w, 0, &prm, NULL, NULL);
    struct tcpe_stack *srv = tt_world_add_stack(&w, 1, &prm, NULL, NULL);
    struct tcpe_conn *lsn = NULL, *c = NULL;
    assert_int_equal(tcpe_listen(srv, SRV_IP, SRV_PORT, 0, &lsn), 0);
    struct tcpe_tuple t = {CLI_IP, SRV_IP, 1234, SRV_PORT};
    assert_int_equal(tcpe_connect(cli, &t, w.now, &c), 0);
    tt_world_run(&w, w.now + TT_SEC, NULL, NULL);
    struct tcpe_conn *s = tcpe_accept(lsn);
    assert_non_null(s);
    struct tcpe_info in;
    tcpe_conn_info(s, &in);
    assert_true(in.sack);

    /* Everything the server sends is lost; the "client" answers with hostile ACKs. */
    const uint32_t total = 150000;
    uint8_t *data = malloc(total);
    tt_pattern_fill(9, 0, data, total);
    w.drop_all[0] = true;
    assert_int_equal(tcpe_send(s, data, total, w.now), (int)total);
    struct ho_rng r;
    ho_rng_seed(&r, 77);
    struct tt_ep *ep = tt_world_ep(&w, srv);
    uint64_t live = ep->bytes_live, allocs = ep->allocs;
    uint32_t most = 0;
    for (int i = 0; i < 600; i++) {
        hostile_ack(&w, s, &r);
        tcpe_conn_info(s, &in);
        most = in.sack_ranges > most ? in.sack_ranges : most;
        assert_true(in.sack_ranges <= 8);
        assert_int_equal(tcpe_conn_state(s), TCPE_ESTABLISHED);
    }
    assert_int_equal(most, 8);           /* the bound was reached, and held */
    assert_true(ep->bytes_live == live); /* the scoreboard is inside the TCB */
    assert_true(ep->allocs == allocs);
    tcpe_conn_info(s, &in);
    assert_true(in.in_recovery);

    /* The peer turns honest: the data still gets through, whole. */
    w.drop_all[0] = false;
    uint8_t *got = malloc(total);
    uint32_t n = 0;
    for (int step = 0; step < 200000 && n < total; step++) {
        if (!tt_world_step(&w, w.now + 3600 * TT_SEC)) {
            break;
        }
        int k = tcpe_recv(c, got + n, total - n, w.now);
        if (k > 0) {
            n += (uint32_t)k;
        }
    }
    assert_int_equal(n, total);
    assert_memory_equal(got, data, total);
    free(got);
    free(data);
    tt_world_fini(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_two_losses_one_round_trip),
        cmocka_unit_test(test_handoff_during_recovery),
        cmocka_unit_test(test_reneging),
        cmocka_unit_test(test_blocks_that_cannot_be_true),
        cmocka_unit_test(test_newreno_without_sack),
        cmocka_unit_test(test_hostile_blocks_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
