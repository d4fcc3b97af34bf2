/*
 * tcpe.h - the TCP engine: one RFC 9293 implementation for the host stack, the NIC firmware and
 * the simulated clients, whose connections can be exported from one stack and imported into
 * another mid-transfer without the peer noticing.
 *
 * The engine works on parsed segments (struct tcpe_seg, include/handoff/tcpe_seg.h); turning
 * frames into segments and back is the packet codec's job. It never reads a clock: every entry
 * point takes `now` (nanoseconds on the caller's clock, which must not go backwards), and the
 * stack and each connection say when they next need to be woken. It has no globals: a
 * struct tcpe_stack owns its connections, its demultiplexing table, its timer heap and its
 * counters, so a host stack and a NIC firmware can live in one process.
 *
 * Everything the engine says goes through struct tcpe_ops: segments to send, events on
 * connections (also pollable, when no event callback is set), state transitions for tracing.
 *
 * Payload is either real bytes or virtual (lengths only: the simulator, which moves sendfile-like
 * references and never copies). The mode is chosen per stack and may be overridden per
 * connection; a virtual connection's segments carry data == NULL.
 *
 * Typical use:
 *     tcpe_params_init(&p); p.ops.output = my_output; p.ctx = me;
 *     tcpe_stack_create(&p, &stack);
 *     tcpe_listen(stack, ip, 80, 128, &lsn);            or  tcpe_connect(stack, &tuple, now, &c);
 *     for each received segment:  tcpe_stack_input(stack, &seg, now);
 *     at tcpe_stack_next_wake(stack):  tcpe_stack_timers(stack, now);
 *     on TCPE_EV_ACCEPT:  c = tcpe_accept(lsn);
 *     tcpe_send(c, buf, n, now); tcpe_recv(c, buf, n, now); tcpe_shutdown(c, now); tcpe_release(c,
 * now);
 *
 * Handoff: n = tcpe_export(c, now, buf, cap); tcpe_detach(c); ... then on the other stack
 * tcpe_import(other, buf, n, now2, &c2). See docs/tcpe.md for the encoding.
 */
#ifndef HANDOFF_TCPE_H
#define HANDOFF_TCPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "handoff/err.h"
#include "handoff/tcpe_seg.h"

struct tcpe_stack;
struct tcpe_conn;

/* "Never": the value of a next-wake time when no timer is running. */
#define TCPE_NEVER UINT64_MAX

/*
 * Connection states in the order of RFC 9293 3.3.2, so that the questions the engine asks most
 * are ranges: every state from SYN_RECEIVED on has received a SYN, every state from ESTABLISHED
 * on is synchronized, every state from CLOSE_WAIT on has received the peer's FIN, and export is
 * allowed from ESTABLISHED to LAST_ACK.
 */
enum tcpe_state {
    TCPE_CLOSED = 0,       /* no connection (final state; the handle awaits tcpe_release) */
    TCPE_LISTEN = 1,       /* waiting for SYNs */
    TCPE_SYN_SENT = 2,     /* active open: SYN sent, waiting for SYN-ACK */
    TCPE_SYN_RECEIVED = 3, /* SYN received and SYN-ACK sent, waiting for its ACK */
    TCPE_ESTABLISHED = 4,  /* data flows both ways */
    TCPE_FIN_WAIT_1 = 5,   /* we closed; our FIN not yet acknowledged */
    TCPE_FIN_WAIT_2 = 6,   /* we closed and our FIN is acknowledged; waiting for the peer's FIN */
    TCPE_CLOSE_WAIT = 7,   /* the peer closed; we may still send */
    TCPE_CLOSING = 8,      /* both closed at once; waiting for the ACK of our FIN */
    TCPE_LAST_ACK = 9,     /* the peer closed, then we did; waiting for the ACK of our FIN */
    TCPE_TIME_WAIT = 10,   /* both FINs acknowledged; absorbing strays for 2*MSL */
    TCPE_NSTATES = 11,
};

#define TCPE_HAVE_RCVD_SYN(s)    ((s) >= TCPE_SYN_RECEIVED)
#define TCPE_HAVE_ESTABLISHED(s) ((s) >= TCPE_ESTABLISHED)
#define TCPE_HAVE_RCVD_FIN(s)    ((s) >= TCPE_CLOSE_WAIT)
#define TCPE_CAN_EXPORT(s)       ((s) >= TCPE_ESTABLISHED && (s) <= TCPE_LAST_ACK)

/* Returns the state's name ("ESTABLISHED"), or "?" for a value out of range. */
const char *tcpe_state_name(int state);

/* Events on a connection, OR-ed together. */
enum {
    TCPE_EV_CONNECTED = 0x01, /* the handshake completed (active opens; accepted ones are) */
    TCPE_EV_READABLE = 0x02,  /* new in-order data, or the peer's FIN (see tcpe_conn_eof) */
    TCPE_EV_WRITABLE = 0x04,  /* send-buffer space was freed */
    TCPE_EV_ACKED = 0x08,     /* the peer acknowledged data (or our FIN) */
    TCPE_EV_CLOSED = 0x10,    /* the connection reached CLOSED in an orderly way */
    TCPE_EV_RESET = 0x20,     /* the peer reset the connection (it is now CLOSED) */
    TCPE_EV_TIMEDOUT = 0x40,  /* retransmissions or probes gave up (it is now CLOSED) */
    TCPE_EV_ACCEPT = 0x80,    /* on a listener: tcpe_accept has a connection to give */
};

/* Why a segment was dropped (counters, tcpe_stats.drops[]). */
enum tcpe_drop {
    TCPE_DROP_NO_CONN = 0,   /* no connection or listener (answered with RST unless RST) */
    TCPE_DROP_MALFORMED,     /* impossible segment (payload mode mismatch, no ACK where needed) */
    TCPE_DROP_BAD_FLAGS,     /* a flag combination the state does not accept (SYN+FIN, ...) */
    TCPE_DROP_OUT_OF_WINDOW, /* sequence number not acceptable (RFC 9293 3.10.7.4) */
    TCPE_DROP_BAD_ACK,       /* ACK of data never sent, or too old (RFC 5961 5) */
    TCPE_DROP_RST_INVALID,   /* RST not exactly at RCV.NXT (RFC 5961 3) */
    TCPE_DROP_SYN_INVALID,   /* SYN on a synchronized connection (RFC 5961 4) */
    TCPE_DROP_OOO_FULL,      /* out-of-order queue at its bound */
    TCPE_DROP_BACKLOG,       /* SYN to a listener whose backlog is full */
    TCPE_DROP_NOMEM,         /* an allocation failed */
    TCPE_DROP_AFTER_CLOSE,   /* data for a connection the application has released */
    TCPE_DROP_PAWS,          /* TSval older than TS.Recent: an old duplicate (RFC 7323 5.3) */
    TCPE_DROP_NO_TS,         /* no timestamps option on a connection that uses them (7323 3.2) */
    TCPE_NDROPS,
};

/* Returns the drop reason's name ("out_of_window"), or "?" for a value out of range. */
const char *tcpe_drop_name(int reason);

/* Counters; the same struct serves one connection and a whole stack (the sum, plus stack-only
 * events such as segments to no connection). */
struct tcpe_stats {
    uint64_t segs_in;            /* segments received (all, including dropped ones) */
    uint64_t segs_out;           /* segments sent (all, including RSTs and retransmissions) */
    uint64_t bytes_in;           /* payload octets accepted in order */
    uint64_t bytes_out;          /* payload octets sent, retransmissions included */
    uint64_t bytes_acked;        /* payload octets the peer acknowledged */
    uint64_t rexmt_segs;         /* segments that carried retransmitted data, SYN or FIN */
    uint64_t rexmt_bytes;        /* payload octets retransmitted */
    uint64_t timeouts;           /* retransmission timer expiries */
    uint64_t fast_rexmts;        /* fast retransmits (three duplicate ACKs, or a partial ACK) */
    uint64_t dupacks_in;         /* duplicate ACKs received */
    uint64_t limited_xmits;      /* new segments sent on duplicate ACKs 1 and 2 (RFC 3042) */
    uint64_t persist_probes;     /* zero-window probes sent */
    uint64_t delayed_acks;       /* ACKs sent by the delayed-ACK timer */
    uint64_t challenge_acks;     /* challenge ACKs sent (RFC 5961) */
    uint64_t challenge_limited;  /* challenge ACKs suppressed by the rate limit */
    uint64_t ooo_segs;           /* segments queued out of order */
    uint64_t rsts_out;           /* RSTs sent */
    uint64_t output_refused;     /* segments the owner's output refused (interface queue full) */
    uint64_t conns_opened;       /* connections that reached ESTABLISHED */
    uint64_t conns_reset;        /* connections reset by the peer */
    uint64_t conns_timedout;     /* connections given up on */
    uint64_t drops[TCPE_NDROPS]; /* segments dropped, by enum tcpe_drop */
};

/* What the engine asks of its owner. Only output is required. */
struct tcpe_ops {
    /* Sends seg. seg and seg->data are valid only during the call; copy what you keep. For a
     * virtual-payload connection seg->data is NULL and seg->len is the payload length. Returns
     * HO_OK, or HO_ENOSPC if the interface queue is full and seg is dropped (FreeBSD's
     * ENOBUFS): the engine then backs out the sequence space seg took, drops the congestion
     * window to one segment, keeps an ACK it owed, and sends nothing more in this call; its
     * timers send again. */
    int (*output)(void *ctx, const struct tcpe_seg *seg);
    /* Reports events (TCPE_EV_*) on c, at the end of the engine call that caused them, when the
     * engine's state is consistent; the callback may call any tcpe_* function, including
     * tcpe_release(c). When NULL, events accumulate for tcpe_conn_poll. */
    void (*event)(void *ctx, struct tcpe_conn *c, unsigned events);
    /* Traces every state transition (optional). */
    void (*trace)(void *ctx, const struct tcpe_conn *c, int from, int to, uint64_t now);
    /* Chooses an initial sequence number (optional; the default is RFC 6528's clock plus a keyed
     * hash of the 4-tuple, keyed by tcpe_params.seed). */
    uint32_t (*isn)(void *ctx, const struct tcpe_tuple *t, uint64_t now);
    /* Chooses a connection's timestamp offset: its TSval is now / 1 ms plus this, modulo 2^32
     * (optional; the default is a keyed hash of the 4-tuple, keyed by tcpe_params.seed, so the
     * values say nothing of the clock, RFC 7323 5.4). Used only with tcpe_params.timestamps. */
    uint32_t (*ts_offset)(void *ctx, const struct tcpe_tuple *t);
    /* Allocates (size > 0), resizes or frees (size 0, returns NULL) memory, like realloc
     * (optional; the default is the C library). May fail: the engine survives every failure. */
    void *(*realloc)(void *ctx, void *p, size_t size);
};

/* Stack parameters. tcpe_params_init fills the defaults given in brackets. */
struct tcpe_params {
    struct tcpe_ops ops;          /* callbacks (output required) */
    void *ctx;                    /* passed to every callback */
    bool virtual_payload;         /* connections move lengths, not bytes [false] */
    bool nodelay;                 /* disable Nagle's algorithm (RFC 896) [false] */
    bool limited_transmit;        /* RFC 3042: on the first and second duplicate ACK, send one
                                     new segment if the peer's window allows, cwnd unchanged
                                     [true] */
    bool timestamps;              /* RFC 7323 timestamps and PAWS, when the peer agrees: offer
                                     the option on our SYN, accept it on the peer's. Every
                                     segment then carries 12 octets more, taken from the MSS
                                     [false] */
    bool sack;                    /* RFC 2018 selective acknowledgments, when the peer agrees:
                                     offer SACK-permitted on our SYN, answer it on the peer's.
                                     Then our ACKs report out-of-order data in SACK blocks and
                                     duplicates in D-SACK blocks (RFC 2883); the blocks come out
                                     of the payload of a segment that carries them. The blocks
                                     the peer sends fill a scoreboard, and losses are recovered
                                     by RFC 6675 instead of NewReno [true] */
    uint16_t mss;                 /* MSS we advertise and the most we send (48..65495) [1460] */
    uint32_t sndbuf;              /* send-buffer limit, octets (1 .. 2^30) [65536] */
    uint32_t rcvbuf;              /* receive-buffer limit = largest window, octets [65536] */
    uint64_t rto_init;            /* initial retransmission timeout (RFC 6298 2.1) [1 s] */
    bool backlog_accept_queue;    /* a listener's backlog bounds the connections established
                                     and not yet accepted, and a SYN is dropped while more than
                                     backlog wait (BSD's so_qlen > so_qlimit; the half-open,
                                     which BSD's syncache holds, are not counted); else it bounds
                                     half-open and unaccepted together [false] */
    uint64_t rto_min;             /* lower bound of the RTO (RFC 6298 2.4) [1 s] */
    uint64_t rto_max;             /* upper bound of the RTO and of backoff (RFC 6298 2.5) [60 s] */
    uint64_t delack;              /* delayed-ACK timeout (RFC 9293 3.8.6.3) [100 ms] */
    bool delack_one_segment;      /* delay the ACK of one segment at most: a segment that
                                     arrives while an ACK is delayed is acknowledged at once,
                                     whatever its size (4.4BSD and FreeBSD 4's DELAY_ACK), rather
                                     than every second full-sized segment (RFC 5681 4.2) [false] */
    uint64_t msl;                 /* maximum segment lifetime; TIME_WAIT lasts 2*MSL [30 s] */
    uint64_t fin_wait_2_timeout;  /* a released connection's FIN_WAIT_2 limit, 0 = none [60 s] */
    uint32_t rexmt_limit;         /* retransmissions (and unanswered probes) before abort [12] */
    uint32_t syn_limit;           /* SYN / SYN-ACK retransmissions before abort: with the default
                                     RTOs the last one goes at 123 s and the open is given up at
                                     183 s, past RFC 9293's 3 minutes (MUST-23) [7] */
    uint32_t ooo_max;             /* out-of-order segments kept per connection (0..1024) [64] */
    uint32_t challenge_ack_limit; /* challenge ACKs per connection per second (RFC 5961 7) [10] */
    uint32_t hash_buckets;        /* demultiplexing buckets, rounded up to a power of 2 [1024] */
    uint64_t seed;                /* key of the default ISN hash and the demux hash [0] */
};

/* Fills p with the defaults above (ops and ctx zeroed). A struct not filled by this function
 * gets false for every boolean, limited_transmit and sack included. Per-connection choices
 * (payload mode, Nagle, limited transmit, timestamps and SACK as negotiated) are taken from the
 * stack when a connection is created and travel with it on handoff, whatever the importing stack's
 * parameters say. */
void tcpe_params_init(struct tcpe_params *p);

/*
 * Creates a stack. p is copied. Returns HO_OK and *out, HO_EINVAL if p->ops.output is NULL or a
 * parameter is out of its documented range, HO_ENOMEM if allocation fails.
 */
int tcpe_stack_create(const struct tcpe_params *p, struct tcpe_stack **out);

/* Frees the stack and every connection it owns, silently (nothing is sent). NULL is allowed.
 * Every handle into the stack becomes invalid. */
void tcpe_stack_destroy(struct tcpe_stack *s);

/* The stack's counters (the sum over its connections, plus segments to no connection). */
const struct tcpe_stats *tcpe_stack_stats(const struct tcpe_stack *s);

/* Number of connections the stack owns (listeners and closed, unreleased handles included). */
uint32_t tcpe_stack_conn_count(const struct tcpe_stack *s);

/*
 * Processes a received segment: finds its connection by the 4-tuple (local = seg's destination),
 * else a listener on the destination port (a specific address first, then 0 = any), else answers
 * as RFC 9293 3.10.7.1 says (RST unless the segment is one). Returns HO_OK when a connection or
 * listener took the segment (even if it then dropped it, which is counted), HO_ENOENT when none
 * did, HO_EINVAL for an impossible segment (real payload length with data == NULL is allowed
 * only for virtual connections; it is then counted as malformed).
 */
int tcpe_stack_input(struct tcpe_stack *s, const struct tcpe_seg *seg, uint64_t now);

/* When the stack next needs tcpe_stack_timers: the earliest timer of all its connections, or
 * TCPE_NEVER. O(1): connections sit in a binary heap keyed by their earliest timer. */
uint64_t tcpe_stack_next_wake(const struct tcpe_stack *s);

/*
 * Runs every timer due at or before now, on every connection. Returns how many timer expiries
 * that was, for a caller that charges them: delayed ACKs sent, retransmission timeouts, persist
 * probes, and connections that ended (2MSL, or given up).
 */
uint64_t tcpe_stack_timers(struct tcpe_stack *s, uint64_t now);

/* Finds the connection (not a listener) with this 4-tuple (local = ours), or NULL. */
struct tcpe_conn *tcpe_stack_lookup(struct tcpe_stack *s, const struct tcpe_tuple *t);

/*
 * Per-connection entry points, for callers that find the connection themselves (the NIC
 * firmware's lookup layer): exactly what tcpe_stack_input / tcpe_stack_timers do once they have
 * found c. The segment must belong to c (its addresses are not checked again).
 * tcpe_conn_input returns HO_OK or HO_EINVAL as tcpe_stack_input does.
 */
int tcpe_conn_input(struct tcpe_conn *c, const struct tcpe_seg *seg, uint64_t now);
uint64_t tcpe_conn_next_wake(const struct tcpe_conn *c);
void tcpe_conn_timers(struct tcpe_conn *c, uint64_t now);

/*
 * Opens a listener on local_ip (0 = any address) and port, keeping at most backlog connections
 * that are half-open or established but not yet accepted (0 = 128). Returns HO_OK and *out,
 * HO_EEXIST if that address and port already listen, HO_ENOMEM.
 */
int tcpe_listen(struct tcpe_stack *s, uint32_t local_ip, uint16_t port, uint32_t backlog,
                struct tcpe_conn **out);

/* Takes the oldest established connection from a listener's queue, or NULL if none. The
 * caller then owns the handle (and must tcpe_release it). */
struct tcpe_conn *tcpe_accept(struct tcpe_conn *listener);

/*
 * Starts an active open to t->remote from t->local and sends the SYN. Returns HO_OK and *out,
 * HO_EINVAL for a zero port or address, HO_EEXIST if the 4-tuple is in use, HO_ENOMEM.
 */
int tcpe_connect(struct tcpe_stack *s, const struct tcpe_tuple *t, uint64_t now,
                 struct tcpe_conn **out);

/*
 * Queues up to len octets for sending (data must be NULL for a virtual connection, non-NULL
 * otherwise) and sends what the windows allow. Returns the number queued (0 when the send buffer
 * is full: wait for TCPE_EV_WRITABLE), HO_EINVAL, HO_ENOMEM (nothing queued: try again later),
 * or HO_ESTATE after tcpe_shutdown or in a state that cannot send (allowed: SYN_SENT,
 * SYN_RECEIVED, ESTABLISHED, CLOSE_WAIT).
 */
int tcpe_send(struct tcpe_conn *c, const void *data, uint32_t len, uint64_t now);

/*
 * Takes up to len in-order octets into buf (NULL for a virtual connection: they are only
 * counted) and opens the window accordingly. Returns the number taken, 0 when nothing is
 * waiting (see tcpe_conn_eof), or HO_EINVAL (len above INT32_MAX, or buf NULL on a real one).
 */
int tcpe_recv(struct tcpe_conn *c, void *buf, uint32_t len, uint64_t now);

/* Half-closes: a FIN follows the queued data. Idempotent. Returns HO_OK, or HO_ESTATE on a
 * listener or a closed connection. */
int tcpe_shutdown(struct tcpe_conn *c, uint64_t now);

/*
 * Gives the handle back: shuts down (if not yet) and lets the stack finish the close and free the
 * connection when it is done; a closed connection is freed at once, a listener and its
 * unaccepted connections are reset and freed, a connection still in SYN_SENT is forgotten.
 * Releasing with unread data, or data arriving afterwards, resets the connection (RFC 1122
 * 4.2.2.13). No event is reported after release. The handle is invalid after the call.
 */
void tcpe_release(struct tcpe_conn *c, uint64_t now);

/* Resets the connection (sends RST when synchronized) and moves it to CLOSED. The handle stays
 * valid until tcpe_release. */
void tcpe_abort(struct tcpe_conn *c, uint64_t now);

/* Returns and clears the events accumulated on c (only when ops.event is NULL). */
unsigned tcpe_conn_poll(struct tcpe_conn *c);

/* The connection's state, tuple, stack, and an opaque pointer for the caller. */
int tcpe_conn_state(const struct tcpe_conn *c);
const struct tcpe_tuple *tcpe_conn_tuple(const struct tcpe_conn *c);
struct tcpe_stack *tcpe_conn_stack(const struct tcpe_conn *c);
void tcpe_conn_set_user(struct tcpe_conn *c, void *user);
void *tcpe_conn_user(const struct tcpe_conn *c);

/* Octets ready for tcpe_recv; true once the peer's FIN is received and all data is read. */
uint32_t tcpe_conn_readable(const struct tcpe_conn *c);
bool tcpe_conn_eof(const struct tcpe_conn *c);
/* Free space in the send buffer (0 after shutdown or when the state cannot send). */
uint32_t tcpe_conn_writable(const struct tcpe_conn *c);
/* Octets queued to send that the peer has not acknowledged (sent or not). */
uint32_t tcpe_conn_unacked(const struct tcpe_conn *c);

/* A snapshot of a connection's transmission state (for tests, observability and the sim). */
struct tcpe_info {
    int state;               /* enum tcpe_state */
    uint32_t snd_una;        /* oldest unacknowledged sequence number */
    uint32_t snd_nxt;        /* next sequence number to send */
    uint32_t snd_max;        /* highest sequence number sent */
    uint32_t rcv_nxt;        /* next sequence number expected */
    uint32_t snd_wnd;        /* peer's window, scaled, octets */
    uint32_t rcv_wnd;        /* window we offer now, octets */
    uint32_t cwnd;           /* congestion window, octets */
    uint32_t ssthresh;       /* slow-start threshold, octets */
    uint16_t maxseg;         /* octets per segment we send */
    uint8_t snd_wscale;      /* peer's window scale shift */
    uint8_t rcv_wscale;      /* our window scale shift */
    uint64_t srtt;           /* smoothed RTT, ns (0 before the first sample) */
    uint64_t rttvar;         /* RTT variation, ns */
    uint64_t rto;            /* current timeout including backoff, ns */
    uint32_t rxtshift;       /* retransmission backoff count */
    uint32_t dupacks;        /* consecutive duplicate ACKs */
    bool in_recovery;        /* loss recovery in progress (NewReno, or RFC 6675 with sack) */
    uint32_t ooo_count;      /* segments in the out-of-order queue */
    uint32_t sndbuf_len;     /* octets in the send buffer (unacknowledged + unsent) */
    uint32_t rcvbuf_len;     /* octets waiting for tcpe_recv */
    bool virtual_payload;    /* lengths only */
    bool timestamps;         /* RFC 7323 timestamps negotiated */
    bool sack;               /* RFC 2018 SACK permitted by both sides */
    uint32_t sack_ranges;    /* ranges in the SACK scoreboard (what the peer's blocks report) */
    uint32_t ts_recent;      /* TS.Recent, the peer's TSval we echo (with timestamps) */
    struct tcpe_stats stats; /* this connection's counters */
};

/* Fills *info from c. */
void tcpe_conn_info(const struct tcpe_conn *c, struct tcpe_info *info);

/* Sets a connection's payload mode; only before any data was queued or received (HO_ESTATE
 * otherwise). */
int tcpe_conn_set_virtual(struct tcpe_conn *c, bool virtual_payload);

/* Enables or disables Nagle's algorithm on one connection. */
void tcpe_conn_set_nodelay(struct tcpe_conn *c, bool nodelay);

/* How far a connection got after it was exported, as its exporter heard from the holder it was
 * exported to (tcpe_conn_resync). */
struct tcpe_resync {
    uint64_t acked;          /* octets of the send buffer the peer acknowledged since the export
                                (those of the export's buffer first) */
    const uint8_t *appended; /* the octets appended to the send buffer since the export that the
                                peer has not acknowledged (NULL on virtual payload) */
    uint64_t appended_len;   /* how many */
    uint64_t delivered;      /* octets delivered to the application since, the ones that were
                                unread at the export first */
    bool fin_received;       /* the peer's FIN followed them */
    bool shutdown;           /* the application had shut the connection down since: our FIN
                                follows the data, and may have been sent already */
};

/*
 * Brings c, just imported from an old export, up to date when the holder it was exported to was
 * lost without giving it back: SND.UNA moves on by r->acked, which leave the send buffer, and
 * r->appended, the unacknowledged rest of what was appended, joins its end; RCV.NXT moves on by
 * what was delivered and by the FIN, which moves ESTABLISHED to CLOSE_WAIT. How far the lost holder
 * had sent is unknown: every octet in the send buffer counts as sent and goes again from SND.UNA at
 * once, with a congestion window of one segment; out-of-order data is dropped, and an ACK goes out.
 * With r->shutdown the FIN follows the data, counted as sent too (an ACK of it is taken), and
 * the state moves on as tcpe_shutdown moves it. Only ESTABLISHED and CLOSE_WAIT, before any
 * shutdown of the export's own. Returns HO_OK; HO_ESTATE in another state;
 * HO_EINVAL if r does not fit c (more octets than the send buffer holds, counts beyond any buffer,
 * a second FIN, payload of the wrong kind); HO_ENOMEM (c unchanged). Events the change raises are
 * delivered before it returns.
 */
int tcpe_conn_resync(struct tcpe_conn *c, const struct tcpe_resync *r, uint64_t now);

/*
 * Export / import (docs/tcpe.md gives the encoding and the reasons for its rules).
 *
 * tcpe_export encodes the complete state of c (allowed when TCPE_CAN_EXPORT(state)) as of now
 * into buf[0..cap). With buf NULL and cap 0 it only measures. It changes nothing and sends
 * nothing. Returns the encoding's length, HO_ESTATE in a state that cannot be exported (or on
 * a listener), HO_EMSGSIZE if cap is too small.
 *
 * tcpe_detach removes c from its stack and frees it without sending anything or reporting any
 * event: after a successful export the state lives on only in the encoding.
 *
 * tcpe_import rebuilds the connection in s as of now (timers keep their remaining time). Returns
 * HO_OK and *out (owned by the caller, like an accepted connection); HO_EVERSION for an unknown
 * version; HO_EPROTO or HO_EMSGSIZE for a malformed encoding; HO_EEXIST if the 4-tuple is in use
 * in s; HO_ENOMEM. A failed import leaves s unchanged.
 */
int tcpe_export(const struct tcpe_conn *c, uint64_t now, uint8_t *buf, size_t cap);
void tcpe_detach(struct tcpe_conn *c);
int tcpe_import(struct tcpe_stack *s, const uint8_t *buf, size_t len, uint64_t now,
                struct tcpe_conn **out);

#endif
