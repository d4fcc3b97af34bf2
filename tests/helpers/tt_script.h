/*
 * tt_script.h - packetdrill-style scenario scripts for the TCP engine: time, segment in,
 * segments expected out, on a simulated clock, against one stack.
 *
 * One line per step; '#' starts a comment. Time is in seconds, absolute ("1.5") or relative to
 * the previous step ("+0.2"). Before each step every timer due by its time runs.
 *
 *   0.1   < S  0:0(0) win 65535 <mss 1460,wscale 7>   inject a segment from the peer
 *   0.1   > S. 0:0(0) ack 1 win 65535 <mss 1460,wscale 1>   expect our next segment
 *   0.2   call send 1000                              an application call or a check
 *
 * Flags: S F R P U E W C, '.' for ACK, '0' for none. Segments are "seq:end(len)"; sequence
 * numbers are relative to the sender's ISN (the peer's for '<', ours for '>'), acknowledgment
 * numbers to the other side's, so one script runs at any ISN (wraparound tests). "ack", "win"
 * and the option list are optional; on '>' lines an omitted one is not checked.
 *
 * Options: mss N, wscale N, sackOK, nop, "TS val V ecr E" (RFC 7323) and "sack A:B C:D" (RFC
 * 2018 blocks, first block first). Timestamps are relative too: a TSval to the sender's
 * timestamp base (cfg.our_ts, cfg.peer_ts), a TSecr to the other side's; on a segment without
 * ACK the TSecr is taken as written (a SYN's is 0). SACK blocks are relative like acknowledgment
 * numbers (to the ISN of the side whose data they report). The engine's timestamp clock ticks in
 * milliseconds from its base, so its TSval at 1.5 s is 1500. A '>' line with an option list must
 * list exactly the options sent, and the same SACK blocks in the same order.
 *
 * An expected segment must have been emitted exactly at its line's time, with exactly its flags,
 * numbers and length, and its payload must be the pattern `send` queued. Any segment the script
 * does not expect before the next '<' or call is an error, as is one left over at the end.
 *
 * Calls: listen [backlog] | connect | accept | send N | recv N | shutdown | release | abort |
 *        handoff (export, detach and import again: the script must go on as if nothing happened) |
 *        nop | conns N | state NAME | eof 0|1 | wake SECONDS|never | stat NAME N | drop NAME N |
 *        info FIELD N (cwnd ssthresh snd_wnd rcv_wnd maxseg snd_wscale rcv_wscale rto_ms
 *        rxtshift dupacks in_recovery ooo sndbuf rcvbuf srtt_ms timestamps sack sack_ranges) |
 *        anything else
 * goes to cfg.call.
 *
 * Payload: the peer's stream and ours are fixed byte patterns (tt_pattern), so `recv` checks
 * every octet received and '>' lines every octet sent. With cfg.params.virtual_payload the
 * segments carry lengths only.
 */
#ifndef TT_SCRIPT_H
#define TT_SCRIPT_H

#include <stdbool.h>
#include <stdint.h>

#include "handoff/tcpe.h"

#define TT_LOCAL_IP    0xc0a80001u /* 192.168.0.1, the engine under test */
#define TT_REMOTE_IP   0xc0a80002u /* 192.168.0.2, the scripted peer */
#define TT_LOCAL_PORT  8080
#define TT_REMOTE_PORT 40000

struct tt_script;

struct tt_script_cfg {
    struct tcpe_params params; /* the stack's parameters (ops and ctx are the runner's) */
    uint32_t our_isn;          /* the engine's ISN */
    uint32_t peer_isn;         /* the scripted peer's ISN */
    uint32_t our_ts;           /* the engine's timestamp offset (ops.ts_offset) */
    uint32_t peer_ts;          /* the scripted peer's timestamp base */
    /* Extra calls: return 0 if handled, -1 to fail the script, 1 if unknown. */
    int (*call)(void *arg, struct tt_script *sc, const char *name, const char *args);
    void *arg;
};

/* Defaults: tcpe_params_init, then mss 1000, rcvbuf 65535 (scale 0... set it to test scaling),
 * ISNs 1000 and 5000, timestamp bases 100000 and 700000. */
void tt_script_cfg_init(struct tt_script_cfg *cfg);

/* Runs a script. Returns 0, or -1 after printing "script line N: what went wrong". */
int tt_script_run(const char *text, const struct tt_script_cfg *cfg);

/* Runs a script twice: with cfg's ISNs and timestamp bases, then with ISNs 2500 and 1500 below
 * 2^32 and timestamp bases 300 and 200 below it, so that any exchange of more than about 1500
 * octets crosses sequence-number zero, and timestamps wrap after 0.3 s (ours) or 200 ticks
 * (the peer's). */
int tt_script_run_wrapped(const char *text, const struct tt_script_cfg *cfg);

/* For cfg.call: the script's stack, its connection (NULL if none) and the current time. */
struct tcpe_stack *tt_script_stack(struct tt_script *sc);
struct tcpe_conn *tt_script_conn(struct tt_script *sc);
uint64_t tt_script_now(struct tt_script *sc);

/* Preludes to concatenate in front of a script: a passive open ending in ESTABLISHED at 0.1 s
 * (peer window 65535 unscaled, MSS 1000 both ways), and the same reached by an active open. */
#define TT_PASSIVE_OPEN                                                                            \
    "0     call listen\n"                                                                          \
    "0     < S  0:0(0) win 65535 <mss 1000>\n"                                                     \
    "0     > S. 0:0(0) ack 1 win 65535 <mss 1000>\n"                                               \
    "0.1   < .  1:1(0) ack 1 win 65535\n"                                                          \
    "0.1   call accept\n"                                                                          \
    "0.1   call state ESTABLISHED\n"

#define TT_ACTIVE_OPEN                                                                             \
    "0     call connect\n"                                                                         \
    "0     > S  0:0(0) win 65535 <mss 1000,sackOK,wscale 0>\n"                                     \
    "0.1   < S. 0:0(0) ack 1 win 65535 <mss 1000>\n"                                               \
    "0.1   > .  1:1(0) ack 1 win 65535\n"                                                          \
    "0.1   call state ESTABLISHED\n"

#endif
