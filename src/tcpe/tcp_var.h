/*
 * tcp_var.h - the engine's private structures: the TCB, the stack, and the functions the
 * tcp_*.c files call in one another.
 *
 * The files divide the work as FreeBSD's netinet does:
 *   tcp_stack.c   the stack object: demux hash, timer heap, event delivery, connection lifetime
 *   tcp_usr.c     the application's calls: listen, connect, accept, send, recv, shutdown, release
 *   tcp_in.c      segment arrival, RFC 9293 3.10.7 step by step
 *   tcp_reass.c   the bounded out-of-order queue
 *   tcp_out.c     deciding what to send and building segments; RSTs
 *   tcp_timer.c   RTO estimation (RFC 6298) and the four timers
 *   tcp_state.c   the state names and the one function that changes state
 *   tcp_sack.c    SACK, the receiver's half: the blocks our ACKs report
 *   tcp_sb.c      SACK, the sender's half: the scoreboard and RFC 6675 loss recovery
 *   tcp_export.c  the handoff codec
 *   tcp_buf.c     send and receive buffers
 *
 * The TCB (struct tcpe_conn) is a plain struct, one commented field per line. Everything below
 * "what moves" is exported on handoff; the links above it belong to one stack and are rebuilt
 * by import. Times are absolute nanoseconds on the caller's clock; timers are absolute deadlines
 * (TCP_TIMER_OFF when stopped) so the earliest is one comparison away.
 */
#ifndef TCPE_TCP_VAR_H
#define TCPE_TCP_VAR_H

#include <stdbool.h>
#include <stdint.h>

#include "handoff/tcpe.h"
#include "tcp_buf.h"
#include "tcp_seq.h"

/* Protocol constants. */
#define TCP_MSS_DEFAULT      536u          /* no MSS option (RFC 9293 3.7.1) */
#define TCP_MSS_MIN          48u           /* floor for a peer's MSS, as Linux's tcp_min_snd_mss */
#define TCP_MSS_MAX          65495u        /* largest IPv4 MSS: 65535 - 20 - 20 */
#define TCP_MAX_WSCALE       14u           /* RFC 7323 2.3 */
#define TCP_MAXWIN           65535u        /* largest unscaled window field */
#define TCP_BUF_LIMIT        (1u << 30)    /* largest send or receive buffer */
#define TCP_RTO_CLOCK_G      1000000ull    /* the G of RFC 6298 2.2-2.3: 1 ms */
#define TCP_RTO_SYN_FALLBACK 3000000000ull /* RFC 6298 5.7: 3 s after a lost SYN */
#define TCP_MAX_BACKOFF      16u           /* beyond this, doubling cannot matter below rto_max */
#define TCP_MAX_RXTSHIFT     64u           /* where the backoff exponent stops counting */
#define TCP_SCRATCH          65536u        /* one segment's payload, copied when the ring wraps */
#define TCP_TS_TICK          1000000ull    /* timestamp clock: 1 ms (RFC 7323 5.4: 1 ms .. 1 s) */
#define TCP_TS_PERIOD        (TCP_TS_TICK << 32) /* 2^32 ticks: the TSval clock's period */
#define TCP_TS_OPTLEN        12u /* NOP, NOP, TSopt: what every segment then carries */
#define TCP_PAWS_IDLE        (24ull * 86400 * 1000000000ull) /* RFC 7323 5.5: TS.Recent expires */
#define TCP_TS_RTT_MAX       3600000u      /* ticks: a longer "RTT" is a bogus echo (an hour) */
#define TCP_SACK_BLKS        TCPE_SACK_MAX /* SACK blocks remembered for our ACKs */
#define TCP_SB_MAX           8u /* ranges in the sender's SACK scoreboard (tcp_sb.c says why) */
#define TCP_DUPTHRESH        3u /* RFC 5681 3.2, RFC 6675 2: duplicate ACKs that mean a loss */

/* The timers. Retransmission and persist never run together. */
enum tcp_timer {
    TCP_T_REXMT = 0,   /* retransmission of data, SYN or FIN (RFC 6298) */
    TCP_T_PERSIST = 1, /* zero-window probe, or a forced send past sender SWS avoidance */
    TCP_T_DELACK = 2,  /* delayed ACK (RFC 9293 3.8.6.3) */
    TCP_T_2MSL = 3,    /* TIME_WAIT, or the FIN_WAIT_2 limit of a released connection */
    TCP_NTIMERS = 4,
};
#define TCP_TIMER_OFF UINT64_MAX

/* t_flags. The ones in TF_EXPORTED move with the connection. */
enum {
    TF_ACKNOW = 0x0001,       /* send an ACK at the next output */
    TF_NEEDFIN = 0x0002,      /* the application shut down: a FIN follows the data */
    TF_SENTFIN = 0x0004,      /* the FIN has been sent (SND.MAX covers it) */
    TF_WSCALE = 0x0008,       /* window scaling negotiated (both SYNs carried the option) */
    TF_NODELAY = 0x0010,      /* Nagle's algorithm off */
    TF_RECOVERY = 0x0020,     /* in loss recovery: NewReno's, or RFC 6675's with TF_SACK */
    TF_PARTIALACK = 0x0040,   /* a partial ACK already restarted the timer in this recovery */
    TF_SYN_REXMT = 0x0080,    /* our SYN was retransmitted (RFC 5681 3.1, RFC 6298 5.7) */
    TF_VIRTUAL = 0x0100,      /* payload is virtual: lengths only */
    TF_FORCE = 0x0200,        /* output: send even if sender SWS avoidance says wait */
    TF_PASSIVE = 0x0400,      /* created by a listener */
    TF_RELEASED = 0x0800,     /* no application handle: the stack frees it when closed */
    TF_WINDOW_PROBE = 0x1000, /* output: send a zero-window probe */
    TF_GOTFIN = 0x2000,       /* the peer's FIN has been received (end of its data) */
    TF_RTTIMING = 0x4000,     /* a segment is being timed (t_rtseq, t_rtstart) */
    TF_LIMITED = 0x8000,      /* limited transmit on (RFC 3042), from tcpe_params */
    TF_TSTAMP = 0x10000,      /* timestamps: offered (before the handshake), then negotiated */
    TF_SACK = 0x20000,        /* SACK permitted: offered (before the handshake), then agreed */
};
#define TF_EXPORTED                                                                                \
    (TF_NEEDFIN | TF_SENTFIN | TF_WSCALE | TF_NODELAY | TF_RECOVERY | TF_PARTIALACK |              \
     TF_SYN_REXMT | TF_VIRTUAL | TF_GOTFIN | TF_RTTIMING | TF_LIMITED | TF_TSTAMP | TF_SACK)

/* One out-of-order segment (tcp_reass.c). */
struct tcp_ooo {
    struct tcp_ooo *next; /* next segment, higher in sequence */
    uint32_t seq;         /* sequence number of the first octet */
    uint32_t len;         /* payload octets */
    bool fin;             /* the peer's FIN follows the last octet */
    uint8_t data[];       /* len octets (none for virtual payload) */
};

struct tcpe_conn {
    /* --- links inside one stack (rebuilt by import, never exported) --- */
    struct tcpe_stack *stack;    /* owner */
    struct tcpe_conn *hash_next; /* demux bucket chain */
    struct tcpe_conn *all_prev;  /* list of every connection of the stack */
    struct tcpe_conn *all_next;
    struct tcpe_conn *ev_next;  /* list of connections with events to deliver */
    struct tcpe_conn *listener; /* the listener of a not yet accepted passive connection */
    struct tcpe_conn *acc_next; /* a listener's accept queue */
    struct tcpe_conn *acc_head; /* listener only: oldest established child */
    struct tcpe_conn *acc_tail; /* listener only: newest established child */
    uint32_t backlog;           /* listener only: most children (half-open + unaccepted) */
    uint32_t qlen;              /* listener only: children now */
    uint32_t acc_qlen;          /* listener only: of those, established and not yet accepted */
    uint32_t heap_idx;          /* position in the stack's timer heap, UINT32_MAX if absent */
    uint64_t wake;              /* heap key: earliest timer when inserted */
    uint64_t id;                /* creation order in this stack, breaks heap ties */
    void *user;                 /* the application's pointer */
    unsigned ev;                /* events not yet delivered (TCPE_EV_*) */
    bool ev_queued;             /* on the stack's event list */
    bool in_hash;               /* in the demux table */

    /* --- what moves on handoff --- */
    struct tcpe_tuple tuple; /* local and remote address and port */
    uint8_t state;           /* enum tcpe_state */
    uint32_t t_flags;        /* TF_* */
    uint64_t chal_start;     /* start of the current challenge-ACK second (RFC 5961 7) */
    uint32_t chal_count;     /* challenge ACKs sent in it (the peer can observe both) */

    /* send sequence space (RFC 9293 3.3.1) */
    uint32_t iss;        /* initial send sequence number */
    uint32_t snd_una;    /* oldest unacknowledged sequence number */
    uint32_t snd_nxt;    /* next sequence number to send (below snd_max after RTO) */
    uint32_t snd_max;    /* highest sequence number sent, plus one */
    uint32_t snd_wl1;    /* SEG.SEQ of the last window update */
    uint32_t snd_wl2;    /* SEG.ACK of the last window update */
    uint32_t snd_wnd;    /* peer's receive window, scaled, octets */
    uint32_t max_sndwnd; /* largest window the peer offered (RFC 5961 5.2) */
    uint8_t snd_wscale;  /* shift applied to the peer's window field */
    uint8_t rcv_wscale;  /* shift applied to our window field */
    uint16_t t_maxseg;   /* octets per segment we send: min(peer MSS, ours) */

    /* receive sequence space */
    uint32_t irs;           /* initial receive sequence number */
    uint32_t rcv_nxt;       /* next sequence number expected */
    uint32_t rcv_adv;       /* right edge of the window we advertised */
    uint32_t last_ack_sent; /* RCV.NXT in the last ACK we sent (delayed-ACK counting) */

    /* congestion control (RFC 5681, RFC 6582) */
    uint32_t snd_cwnd;     /* congestion window, octets */
    uint32_t snd_ssthresh; /* slow-start threshold, octets */
    uint32_t snd_recover;  /* SND.MAX when recovery began ("recover", RFC 6582) */
    uint32_t bytes_acked;  /* acked octets counted toward the next cwnd step (RFC 3465) */
    uint32_t t_dupacks;    /* consecutive duplicate ACKs */
    uint32_t snd_limited;  /* octets limited transmit sent since t_dupacks was last 0 */

    /* round-trip timing (RFC 6298) */
    uint64_t t_srtt;         /* smoothed RTT, ns; 0 before the first sample */
    uint64_t t_rttvar;       /* RTT variation, ns */
    uint64_t t_rto;          /* RTO before backoff, ns */
    uint32_t t_rtseq;        /* sequence number being timed */
    uint64_t t_rtstart;      /* when it was sent (valid with TF_RTTIMING) */
    uint8_t t_rxtshift;      /* retransmission backoff exponent (reset by an RTT sample) */
    uint8_t t_rxtcount;      /* timeouts since SND.UNA last advanced: the give-up count */
    uint8_t t_persist_shift; /* persist backoff exponent */
    uint8_t t_probes;        /* zero-window probes sent since the peer last spoke */
    uint64_t t_rcvtime;      /* when a segment last arrived (for idle restart) */
    uint64_t t_sndtime;      /* when a segment carrying data was last sent */

    /* timestamps (RFC 7323), with TF_TSTAMP */
    uint64_t ts_offset;      /* TSval = ((now + ts_offset) mod TCP_TS_PERIOD) / TCP_TS_TICK */
    uint32_t ts_recent;      /* TS.Recent: the peer's TSval to echo (4.3) */
    uint64_t ts_recent_time; /* when TS.Recent was last set (5.5) */

    /* selective acknowledgment, receiver side (RFC 2018, RFC 2883), with TF_SACK (tcp_sack.c) */
    struct tcpe_sack_block sack_blks[TCP_SACK_BLKS]; /* out-of-order ranges to report, the most
                                                        recently changed first */
    uint8_t sack_nblks;                              /* blocks in sack_blks */
    bool dsack_pending;           /* dsack is reported in the next ACK, then forgotten */
    struct tcpe_sack_block dsack; /* duplicate octets received (RFC 2883) */

    /* selective acknowledgment, sender side (RFC 6675), with TF_SACK (tcp_sb.c) */
    struct tcpe_sack_block sb[TCP_SB_MAX]; /* the scoreboard: octets the peer SACKed, ascending,
                                              disjoint, not touching, in (SND.UNA, SND.MAX] */
    uint8_t sb_n;                          /* ranges in sb */
    uint32_t high_rxt; /* HighRxt + 1: the end of the highest retransmission of this recovery;
                          SND.UNA .. SND.MAX, meaningful only in SACK recovery */

    /* timers, absolute deadlines */
    uint64_t t_timer[TCP_NTIMERS];

    /* buffers */
    struct tcp_buf snd;  /* octets from SND.UNA on: unacknowledged then unsent */
    struct tcp_buf rcv;  /* in-order octets not yet read */
    struct tcp_ooo *ooo; /* out-of-order segments, ascending */
    uint32_t ooo_count;  /* segments in ooo */
    uint32_t sndbuf;     /* send-buffer limit, octets */
    uint32_t rcvbuf;     /* receive-buffer limit, octets */

    struct tcpe_stats stats; /* this connection's counters */
};

struct tcpe_stack {
    struct tcpe_params p;      /* parameters, defaults applied */
    struct tcp_alloc alloc;    /* p.ops.realloc or the C library */
    struct tcpe_conn **hash;   /* demux buckets */
    uint32_t hash_mask;        /* buckets - 1 */
    struct tcpe_conn **heap;   /* connections with a timer, min-heap on (wake, id) */
    uint32_t heap_len;         /* entries in heap */
    uint32_t heap_cap;         /* entries allocated */
    struct tcpe_conn *all;     /* every connection */
    uint32_t nconns;           /* entries in all */
    struct tcpe_conn *ev_head; /* connections with events to deliver, FIFO */
    struct tcpe_conn *ev_tail;
    uint64_t next_id;        /* id of the next connection */
    uint8_t rcv_wscale;      /* shift that lets rcvbuf fit the window field */
    struct tcpe_stats stats; /* totals */
    uint8_t *scratch;        /* TCP_SCRATCH octets for building segments */
};

/* Counting: every counter is bumped on the connection and on its stack together. */
#define TCP_STAT_ADD(tp, field, n)                                                                 \
    do {                                                                                           \
        (tp)->stats.field += (n);                                                                  \
        (tp)->stack->stats.field += (n);                                                           \
    } while (0)
#define TCP_STAT_INC(tp, field) TCP_STAT_ADD(tp, field, 1)

/* tcp_stack.c */
void *tcp_malloc(struct tcpe_stack *s, size_t size);
void tcp_free(struct tcpe_stack *s, void *p);
struct tcpe_conn *tcp_conn_new(struct tcpe_stack *s, const struct tcpe_tuple *t);
int tcp_hash_insert(struct tcpe_conn *tp);
void tcp_hash_remove(struct tcpe_conn *tp);
void tcp_heap_update(struct tcpe_conn *tp);
struct tcpe_conn *tcp_hash_find(struct tcpe_stack *s, const struct tcpe_tuple *t);
void tcp_event(struct tcpe_conn *tp, unsigned ev);
void tcp_drop_count(struct tcpe_stack *s, struct tcpe_conn *tp, enum tcpe_drop why);
void tcp_leave(struct tcpe_conn *tp);
void tcp_leave_stack(struct tcpe_stack *s);
void tcp_free_conn(struct tcpe_conn *tp);
uint32_t tcp_new_isn(struct tcpe_stack *s, const struct tcpe_tuple *t, uint64_t now);

/* tcp_state.c */
void tcp_set_state(struct tcpe_conn *tp, enum tcpe_state to, uint64_t now);
void tcp_close(struct tcpe_conn *tp, uint64_t now, unsigned ev);
void tcp_drop(struct tcpe_conn *tp, uint64_t now, unsigned ev);
void tcp_enter_time_wait(struct tcpe_conn *tp, uint64_t now);
void tcp_listener_unlink(struct tcpe_conn *tp);

/* tcp_in.c */
void tcp_input(struct tcpe_conn *tp, const struct tcpe_seg *seg, uint64_t now);
void tcp_input_no_conn(struct tcpe_stack *s, const struct tcpe_seg *seg);
void tcp_mss_from_option(struct tcpe_conn *tp, const struct tcpe_seg *seg);

/* tcp_sack.c */
void tcp_sack_arrived(struct tcpe_conn *tp, uint32_t seq);
void tcp_sack_prune(struct tcpe_conn *tp);
void tcp_sack_duplicate(struct tcpe_conn *tp, uint32_t start, uint32_t end);
uint32_t tcp_sack_optlen(const struct tcpe_conn *tp);
void tcp_sack_fill(struct tcpe_conn *tp, struct tcpe_seg *seg);

/* tcp_sb.c */
/* What an ACK's SACK blocks told the scoreboard (tcp_sb_update). */
enum tcp_sb_news {
    TCP_SB_NOINFO = 0, /* no blocks, or none that could be true: as if it carried none */
    TCP_SB_OLD = 1,    /* only a D-SACK, or octets the scoreboard held already */
    TCP_SB_NEW = 2,    /* octets SACKed for the first time */
};
bool tcp_sb_recovering(const struct tcpe_conn *tp);
enum tcp_sb_news tcp_sb_update(struct tcpe_conn *tp, const struct tcpe_sack_block *blk, uint8_t n,
                               uint32_t ack);
void tcp_sb_prune(struct tcpe_conn *tp);
void tcp_sb_clear(struct tcpe_conn *tp);
bool tcp_sb_lost_una(const struct tcpe_conn *tp);
uint32_t tcp_sb_pipe(const struct tcpe_conn *tp);
void tcp_sb_enter(struct tcpe_conn *tp, uint64_t now);
void tcp_sb_output(struct tcpe_conn *tp, uint64_t now);
bool tcp_sb_valid(const struct tcpe_conn *tp);

/* tcp_reass.c */
int tcp_reass_insert(struct tcpe_conn *tp, uint32_t seq, uint32_t len, const uint8_t *data,
                     bool fin);
/* Applies the queue's rule to in-order data [seq, seq + *len) (+ FIN if *fin) about to be
 * taken: cut at a queued FIN; a FIN before the end of queued data is ignored. */
void tcp_reass_clip(const struct tcpe_conn *tp, uint32_t seq, uint32_t *len, bool *fin);
bool tcp_reass_pull(struct tcpe_conn *tp);
/* The queued run of contiguous octets that holds seq: true and [*start, *end), or false when
 * no queued octet is seq. */
bool tcp_reass_block(const struct tcpe_conn *tp, uint32_t seq, uint32_t *start, uint32_t *end);
/* The first run of [seq, end) that is already queued: true and [*start, *end_dup), or false. */
bool tcp_reass_overlap(const struct tcpe_conn *tp, uint32_t seq, uint32_t end, uint32_t *start,
                       uint32_t *end_dup);
void tcp_reass_free(struct tcpe_conn *tp);

/* tcp_out.c */
void tcp_output(struct tcpe_conn *tp, uint64_t now);
uint32_t tcp_output_at(struct tcpe_conn *tp, uint32_t seq, uint32_t limit, uint64_t now);
void tcp_send_ack_now(struct tcpe_conn *tp, uint64_t now);
void tcp_send_challenge_ack(struct tcpe_conn *tp, uint64_t now);
void tcp_respond(struct tcpe_stack *s, struct tcpe_conn *tp, const struct tcpe_tuple *t,
                 uint32_t seq, uint32_t ack, uint8_t flags);
bool tcp_ack_allowed(struct tcpe_conn *tp, uint64_t now);
uint32_t tcp_rcv_space(const struct tcpe_conn *tp);
uint32_t tcp_rcv_window(const struct tcpe_conn *tp);
uint32_t tcp_initial_cwnd(const struct tcpe_conn *tp);
uint32_t tcp_flight_size(const struct tcpe_conn *tp);
bool tcp_window_update_due(const struct tcpe_conn *tp);

/* tcp_timer.c */
void tcp_timer_set(struct tcpe_conn *tp, enum tcp_timer which, uint64_t deadline);
void tcp_timer_stop(struct tcpe_conn *tp, enum tcp_timer which);
bool tcp_timer_on(const struct tcpe_conn *tp, enum tcp_timer which);
uint64_t tcp_earliest_timer(const struct tcpe_conn *tp);
uint64_t tcp_rto_current(const struct tcpe_conn *tp);
void tcp_rtt_sample(struct tcpe_conn *tp, uint64_t rtt);
uint32_t tcp_ts_now(const struct tcpe_conn *tp, uint64_t now);
bool tcp_rtt_sample_ts(struct tcpe_conn *tp, uint32_t ecr, uint32_t flight, uint64_t now);
void tcp_rexmt_restart(struct tcpe_conn *tp, uint64_t now);
void tcp_setpersist(struct tcpe_conn *tp, uint64_t now);
void tcp_run_timers(struct tcpe_conn *tp, uint64_t now);

#endif
