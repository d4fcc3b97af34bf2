/*
 * tcp_out.c - deciding what to send, building segments, and RSTs.
 *
 * tcp_output is called after anything that may allow or require sending: the application
 * queued data, read data (window update), shut down; input processed a segment; a timer fired.
 * Like FreeBSD's tcp_output it looks at the whole TCB and sends as many segments as the send
 * window (min of the peer's window and cwnd), Nagle's algorithm (RFC 896) and sender-side SWS
 * avoidance (RFC 9293 3.8.6.2.1) allow, plus an ACK or window update if one is owed. It is also
 * how retransmission works: the timer and fast retransmit pull SND.NXT back and call it.
 *
 * A pure ACK carries SND.MAX rather than SND.NXT, so that while a retransmission is in
 * progress the peer never sees a sequence number go backwards on an ACK (as FreeBSD does).
 */
#include <string.h>

#include "handoff/assert.h"
#include "handoff/err.h"
#include "tcp_var.h"

/* ---- windows ---- */

uint32_t tcp_rcv_space(const struct tcpe_conn *tp)
{
    return tp->rcv.len < tp->rcvbuf ? tp->rcvbuf - tp->rcv.len : 0;
}

static uint32_t tcp_adv_edge(const struct tcpe_conn *tp)
{
    return SEQ_GT(tp->rcv_adv, tp->rcv_nxt) ? tp->rcv_adv - tp->rcv_nxt : 0;
}

/* The window acceptability is judged against: what we could offer now, but never less than
 * what we already offered (a window is never shrunk, RFC 9293 3.8.6.2.2). */
uint32_t tcp_rcv_window(const struct tcpe_conn *tp)
{
    uint32_t space = tcp_rcv_space(tp);
    uint32_t edge = tcp_adv_edge(tp);
    return space > edge ? space : edge;
}

/* The window we would offer, with receiver-side SWS avoidance: no new space is offered in
 * steps smaller than min(a quarter of the buffer, one segment), as FreeBSD does. */
static uint32_t tcp_offer(const struct tcpe_conn *tp)
{
    uint32_t space = tcp_rcv_space(tp);
    if (space < tp->rcvbuf / 4 && space < tp->t_maxseg) {
        space = 0;
    }
    uint32_t max = (uint32_t)TCP_MAXWIN << tp->rcv_wscale;
    return space < max ? space : max;
}

/*
 * Computes the window field for a non-SYN segment and records the edge it advertises. The
 * window is shifted right, truncating, as RFC 7323 2.3 says (SEG.WND = RCV.WND >> Rcv.Wind.Shift)
 * and FreeBSD does. When the edge already offered is not a multiple of the scale, the peer may
 * then see it recede by less than one unit; the edge itself stays where it was (rcv_adv), and
 * data up to it is still accepted. Rounding up instead would move the edge right without any
 * buffer having been freed: each segment shorter than a scale unit would buy the peer that much
 * more window, and a peer that keeps sending to an application that does not read could grow the
 * receive buffer without bound.
 */
static uint16_t tcp_window_field(struct tcpe_conn *tp)
{
    uint32_t win = tcp_offer(tp);
    uint32_t edge = tcp_adv_edge(tp);
    if (win < edge) {
        win = edge;
    }
    uint32_t field = win >> tp->rcv_wscale;
    if (field > TCP_MAXWIN) {
        field = TCP_MAXWIN;
    }
    uint32_t right = tp->rcv_nxt + (field << tp->rcv_wscale);
    if (SEQ_GT(right, tp->rcv_adv)) {
        tp->rcv_adv = right;
    }
    return (uint16_t)field;
}

/* After the application read: a window update is worth a segment when the window opens by at
 * least two segments or half the buffer (FreeBSD's rule, RFC 9293 3.8.6.2.2). */
bool tcp_window_update_due(const struct tcpe_conn *tp)
{
    if (TCPE_HAVE_RCVD_FIN(tp->state)) {
        return false;
    }
    uint32_t win = tcp_offer(tp);
    uint32_t edge = tcp_adv_edge(tp);
    if (win <= edge) {
        return false;
    }
    uint32_t more = win - edge;
    return more >= 2u * tp->t_maxseg || 2ull * more >= tp->rcvbuf;
}

/* ---- congestion-window helpers ---- */

/* RFC 5681 3.1 (as RFC 3390): 4 segments up to 1095 octets, 3 up to 2190, else 2; one segment
 * if the SYN was lost. */
uint32_t tcp_initial_cwnd(const struct tcpe_conn *tp)
{
    uint32_t mss = tp->t_maxseg;
    if (tp->t_flags & TF_SYN_REXMT) {
        return mss;
    }
    return mss > 2190 ? 2 * mss : mss > 1095 ? 3 * mss : 4 * mss;
}

uint32_t tcp_flight_size(const struct tcpe_conn *tp)
{
    return tp->snd_max - tp->snd_una;
}

/* ---- building and sending ---- */

/* Addresses the segment and sends it. With timestamps (RFC 7323 3.2) every segment carries
 * the option: TSval from the connection's clock, TSecr echoing TS.Recent when the ACK bit is
 * set (zero on our SYN). With SACK every ACK carries the blocks there are (RFC 2018 4). RSTs are
 * sent by tcp_respond and carry none, as Linux's do. */
static int tcp_emit(struct tcpe_conn *tp, struct tcpe_seg *seg, uint64_t now)
{
    struct tcpe_stack *s = tp->stack;
    if (tp->t_flags & TF_TSTAMP) {
        seg->opts |= TCPE_OPT_TS;
        seg->ts_val = tcp_ts_now(tp, now);
        seg->ts_ecr = (seg->flags & TCPE_ACK) ? tp->ts_recent : 0;
    }
    tcp_sack_fill(tp, seg);
    seg->src_ip = tp->tuple.local_ip;
    seg->dst_ip = tp->tuple.remote_ip;
    seg->src_port = tp->tuple.local_port;
    seg->dst_port = tp->tuple.remote_port;
    TCP_STAT_INC(tp, segs_out);
    int rc = s->p.ops.output(s->p.ctx, seg);
    if (rc != HO_OK) {
        TCP_STAT_INC(tp, output_refused);
    }
    return rc;
}

/*
 * The owner's interface queue refused the segment just built (FreeBSD's ENOBUFS): it was lost
 * before it left. As FreeBSD's tcp_output does, the sequence advance is backed out (seqlen: its
 * data and FIN), so the next output sends it again; the window drops to one segment
 * (tcp_quench); and an ACK that was owed (acknow) is still owed. FreeBSD then arms the
 * retransmission timer if neither it nor the persist timer runs; that happens here only for a
 * lone ACK, since sending data or a FIN has armed it already, and a lone ACK is sent again by the
 * delayed-ACK timer instead, as our retransmission timer stands for data in flight.
 */
static void tcp_refused(struct tcpe_conn *tp, uint32_t seqlen, unsigned acknow, uint64_t now)
{
    tp->snd_nxt -= seqlen;
    tp->t_flags |= acknow;
    tp->snd_cwnd = tp->t_maxseg;
    if (acknow && !tcp_timer_on(tp, TCP_T_REXMT) && !tcp_timer_on(tp, TCP_T_PERSIST) &&
        !tcp_timer_on(tp, TCP_T_DELACK)) {
        tcp_timer_set(tp, TCP_T_DELACK, now + tp->stack->p.delack);
    }
}

/* After any segment carrying an ACK: the peer is up to date. */
static void tcp_ack_sent(struct tcpe_conn *tp)
{
    tp->last_ack_sent = tp->rcv_nxt;
    tp->t_flags &= ~TF_ACKNOW;
    tcp_timer_stop(tp, TCP_T_DELACK);
}

/* SYN_SENT and SYN_RECEIVED: the SYN (or SYN-ACK), or an ACK we owe. */
static void tcp_output_syn(struct tcpe_conn *tp, uint64_t now)
{
    struct tcpe_seg seg;
    memset(&seg, 0, sizeof seg);
    if (tp->snd_nxt == tp->iss) {
        bool rexmt = SEQ_GT(tp->snd_max, tp->iss);
        seg.seq = tp->iss;
        seg.flags = TCPE_SYN;
        seg.opts = TCPE_OPT_MSS;
        seg.mss = tp->stack->p.mss;
        /* Our SYN always offers scaling; a SYN-ACK only answers an offer (RFC 7323 1.3). */
        if (tp->state == TCPE_SYN_SENT || (tp->t_flags & TF_WSCALE)) {
            seg.opts |= TCPE_OPT_WSCALE;
            seg.wscale = tp->rcv_wscale;
        }
        /* TF_SACK: on our SYN, the stack offers SACK; on a SYN-ACK, the peer's SYN did too. */
        if (tp->t_flags & TF_SACK) {
            seg.opts |= TCPE_OPT_SACK_OK;
        }
        uint32_t space = tcp_rcv_space(tp);
        seg.wnd = (uint16_t)(space < TCP_MAXWIN ? space : TCP_MAXWIN); /* never scaled */
        if (tp->state == TCPE_SYN_RECEIVED) {
            seg.flags |= TCPE_ACK;
            seg.ack = tp->rcv_nxt;
            tp->rcv_adv = tp->rcv_nxt + seg.wnd;
            tcp_ack_sent(tp);
        }
        tp->snd_nxt = tp->iss + 1;
        tp->snd_max = tp->iss + 1;
        if (rexmt) {
            TCP_STAT_INC(tp, rexmt_segs);
        } else {
            tp->t_rtseq = tp->iss;
            tp->t_rtstart = now;
            tp->t_flags |= TF_RTTIMING;
        }
        if (!tcp_timer_on(tp, TCP_T_REXMT)) {
            tcp_rexmt_restart(tp, now);
        }
        (void)tcp_emit(tp, &seg, now); /* if refused, the retransmission timer sends it again */
    } else if ((tp->t_flags & TF_ACKNOW) && tp->state == TCPE_SYN_RECEIVED) {
        seg.seq = tp->snd_max;
        seg.ack = tp->rcv_nxt;
        seg.flags = TCPE_ACK;
        seg.wnd = tcp_window_field(tp);
        tcp_ack_sent(tp);
        (void)tcp_emit(tp, &seg, now);
    }
    tp->t_flags &= ~TF_ACKNOW;
}

/* A zero-window probe, as Linux sends it: an ACK with an old sequence number, which any
 * receiver must answer with an ACK carrying its current window (RFC 9293 3.10.7.4 step 1). */
static void tcp_output_probe(struct tcpe_conn *tp, uint64_t now)
{
    struct tcpe_seg seg;
    memset(&seg, 0, sizeof seg);
    seg.seq = tp->snd_una - 1;
    seg.ack = tp->rcv_nxt;
    seg.flags = TCPE_ACK;
    seg.wnd = tcp_window_field(tp);
    tcp_ack_sent(tp);
    TCP_STAT_INC(tp, persist_probes);
    (void)tcp_emit(tp, &seg, now); /* if refused, the persist timer probes again */
}

/*
 * Decides on and sends one segment. Returns true if it sent one (the caller loops: there may
 * be more), false when nothing more is to be sent now. A full-sized segment is t_maxseg less
 * the SACK blocks it will carry, which come out of the payload as timestamps do (RFC 6691).
 */
static bool tcp_output_one(struct tcpe_conn *tp, uint64_t now)
{
    struct tcpe_stack *s = tp->stack;
    uint32_t maxseg = tp->t_maxseg - tcp_sack_optlen(tp);
    uint32_t avail = tp->snd.len;             /* octets in the buffer, from SND.UNA */
    uint32_t off = tp->snd_nxt - tp->snd_una; /* of which already sent (FIN counts once sent) */
    uint32_t wnd = tp->snd_wnd < tp->snd_cwnd ? tp->snd_wnd : tp->snd_cwnd;
    uint32_t usable = avail < wnd ? avail : wnd;
    uint32_t len = usable > off ? usable - off : 0;
    bool more = false;
    if (len > maxseg) {
        len = maxseg;
        more = true;
    }
    uint32_t fin_seq = tp->snd_una + avail;
    bool fin = (tp->t_flags & TF_NEEDFIN) && tp->snd_nxt + len == fin_seq &&
               (!(tp->t_flags & TF_SENTFIN) || SEQ_LT(tp->snd_nxt, tp->snd_max));
    bool rexmt = SEQ_LT(tp->snd_nxt, tp->snd_max);

    bool send = false;
    if (len > 0) {
        bool idle = tp->snd_una == tp->snd_max;
        bool empties = off + len == avail;
        if (len == maxseg || rexmt || (tp->t_flags & TF_FORCE)) {
            send = true;
        } else if (empties && (idle || (tp->t_flags & TF_NODELAY))) {
            send = true; /* Nagle: a small segment only when nothing is in flight */
        } else if (tp->max_sndwnd > 0 && len >= tp->max_sndwnd / 2) {
            send = true; /* sender SWS avoidance: at least half the largest window */
        }
    }
    if (fin) {
        send = true; /* the FIN carries the last data out with it, Nagle or not */
    }
    if (!send && !(tp->t_flags & TF_ACKNOW)) {
        return false;
    }

    /* Restart after idle (RFC 5681 4.1): cwnd is no more than the initial window. */
    if (len > 0 && tp->snd_una == tp->snd_max && tp->t_sndtime != 0 &&
        now - tp->t_sndtime > tcp_rto_current(tp)) {
        uint32_t iw = tcp_initial_cwnd(tp);
        if (tp->snd_cwnd > iw) {
            tp->snd_cwnd = iw;
        }
    }

    struct tcpe_seg seg;
    memset(&seg, 0, sizeof seg);
    if (!send) {
        len = 0; /* an ACK, window update or bare FIN only */
    }
    seg.seq = (len == 0 && !fin) ? tp->snd_max : tp->snd_nxt;
    seg.ack = tp->rcv_nxt;
    seg.flags = TCPE_ACK | (fin ? TCPE_FIN : 0);
    if (len > 0 && off + len == avail) {
        seg.flags |= TCPE_PSH;
    }
    seg.wnd = tcp_window_field(tp);
    seg.len = len;
    seg.data = len > 0 ? tcp_buf_peek(&tp->snd, off, len, s->scratch) : NULL;

    if (len > 0 || fin) {
        uint32_t start = tp->snd_nxt;
        if (rexmt) {
            uint32_t old = tp->snd_max - start;
            TCP_STAT_INC(tp, rexmt_segs);
            TCP_STAT_ADD(tp, rexmt_bytes, len < old ? len : old);
            tp->t_flags &= ~TF_RTTIMING; /* Karn: never time across a retransmission */
        }
        TCP_STAT_ADD(tp, bytes_out, len);
        tp->snd_nxt += len + (fin ? 1 : 0);
        if (SEQ_GT(tp->snd_nxt, tp->snd_max)) {
            /* One segment at a time is timed, unless timestamps time every ACK. */
            if (!rexmt && !(tp->t_flags & (TF_RTTIMING | TF_TSTAMP))) {
                tp->t_rtseq = start;
                tp->t_rtstart = now;
                tp->t_flags |= TF_RTTIMING;
            }
            tp->snd_max = tp->snd_nxt;
        }
        if (fin) {
            tp->t_flags |= TF_SENTFIN;
        }
        if (!tcp_timer_on(tp, TCP_T_REXMT)) {
            tp->t_persist_shift = 0;
            tcp_rexmt_restart(tp, now);
        }
        tp->t_sndtime = now;
        tp->t_flags &= ~TF_FORCE;
    }
    unsigned acknow = tp->t_flags & TF_ACKNOW;
    tcp_ack_sent(tp);
    if (tcp_emit(tp, &seg, now) != HO_OK) {
        tcp_refused(tp, len + (fin ? 1u : 0u), acknow, now);
        return false;
    }
    return len > 0 && (more || off + len < usable);
}

void tcp_output(struct tcpe_conn *tp, uint64_t now)
{
    switch (tp->state) {
    case TCPE_CLOSED:
    case TCPE_LISTEN:
        return;
    case TCPE_SYN_SENT:
    case TCPE_SYN_RECEIVED:
        tcp_output_syn(tp, now);
        return;
    default:
        break;
    }
    if (tp->snd_wnd == 0 && tp->snd.len > 0 && SEQ_GT(tp->snd_nxt, tp->snd_una)) {
        /* The window closed on data in flight: stop retransmitting into it and probe instead
         * (as FreeBSD does), so a receiver that is merely slow is never given up on. */
        tcp_timer_stop(tp, TCP_T_REXMT);
        tp->t_rxtshift = 0;
        tp->t_rxtcount = 0;
        tp->snd_nxt = tp->snd_una;
        if (tcp_sb_recovering(tp)) {
            /* What is in flight may be dropped at a closed window, SACKed or not: when it
             * opens, everything goes again from SND.UNA, as after a timeout. */
            tp->t_flags &= ~(uint32_t)TF_RECOVERY;
            tcp_sb_clear(tp);
        }
    }
    if (tp->t_flags & TF_WINDOW_PROBE) {
        tcp_output_probe(tp, now);
    } else if (tcp_sb_recovering(tp)) {
        tcp_sb_output(tp, now); /* RFC 6675: pipe, not cwnd - FlightSize, says what may go */
    } else {
        while (tcp_output_one(tp, now)) {
        }
    }
    /* Data waits and nothing is in flight to bring an ACK: the persist timer will probe (zero
     * window) or force a send (small window), FreeBSD's tcp_output epilogue. */
    bool unsent = tp->snd.len > tp->snd_nxt - tp->snd_una ||
                  ((tp->t_flags & TF_NEEDFIN) && !(tp->t_flags & TF_SENTFIN));
    if (unsent && !tcp_timer_on(tp, TCP_T_REXMT) && !tcp_timer_on(tp, TCP_T_PERSIST)) {
        tcp_setpersist(tp, now);
    }
}

/*
 * Sends at most one segment starting at seq, of at most `limit` sequence numbers (fewer if a
 * segment, the data or the peer's window end first; a FIN follows the last octet as output
 * decides), whatever cwnd says: the SACK sender's pipe has allowed it (tcp_sb.c). With limit 0
 * it sends only a FIN or an ACK that is owed. SND.NXT is left at SND.MAX. Returns the sequence
 * space sent, 0 if nothing went. If the owner refused the segment, cwnd stays at the one
 * segment tcp_refused set.
 */
uint32_t tcp_output_at(struct tcpe_conn *tp, uint32_t seq, uint32_t limit, uint64_t now)
{
    uint32_t cwnd = tp->snd_cwnd;
    uint64_t refused = tp->stats.output_refused;
    uint64_t w = (uint64_t)(seq - tp->snd_una) + limit;
    tp->snd_nxt = seq;
    tp->snd_cwnd = w < UINT32_MAX ? (uint32_t)w : UINT32_MAX;
    (void)tcp_output_one(tp, now);
    uint32_t sent = tp->snd_nxt - seq;
    tp->snd_cwnd = tp->stats.output_refused == refused ? cwnd : tp->t_maxseg;
    tp->snd_nxt = tp->snd_max;
    return sent;
}

void tcp_send_ack_now(struct tcpe_conn *tp, uint64_t now)
{
    tp->t_flags |= TF_ACKNOW;
    tcp_output(tp, now);
}

/*
 * The per-connection limit on ACKs answering invalid segments (RFC 5961 7). A per-connection
 * budget rather than CVE-2016-5696's global counter, whose exhaustion an off-path attacker
 * could observe. Returns whether one more may be sent now.
 */
bool tcp_ack_allowed(struct tcpe_conn *tp, uint64_t now)
{
    const uint64_t second = 1000000000ull;
    if (now - tp->chal_start >= second || now < tp->chal_start) {
        tp->chal_start = now;
        tp->chal_count = 0;
    }
    if (tp->chal_count >= tp->stack->p.challenge_ack_limit) {
        TCP_STAT_INC(tp, challenge_limited);
        return false;
    }
    tp->chal_count++;
    return true;
}

void tcp_send_challenge_ack(struct tcpe_conn *tp, uint64_t now)
{
    if (tcp_ack_allowed(tp, now)) {
        TCP_STAT_INC(tp, challenge_acks);
        tcp_send_ack_now(tp, now);
    }
}

/* Sends a RST (or RST+ACK) from t's local end, for a connection or for none (tp NULL). */
void tcp_respond(struct tcpe_stack *s, struct tcpe_conn *tp, const struct tcpe_tuple *t,
                 uint32_t seq, uint32_t ack, uint8_t flags)
{
    struct tcpe_seg seg;
    memset(&seg, 0, sizeof seg);
    seg.src_ip = t->local_ip;
    seg.dst_ip = t->remote_ip;
    seg.src_port = t->local_port;
    seg.dst_port = t->remote_port;
    seg.seq = seq;
    seg.ack = (flags & TCPE_ACK) ? ack : 0;
    seg.flags = flags;
    if (tp != NULL) {
        TCP_STAT_INC(tp, segs_out);
        TCP_STAT_INC(tp, rsts_out);
    } else {
        s->stats.segs_out++;
        s->stats.rsts_out++;
    }
    /* A refused RST is not sent again, as in FreeBSD, but it is counted like any refusal. */
    if (s->p.ops.output(s->p.ctx, &seg) != HO_OK) {
        if (tp != NULL) {
            TCP_STAT_INC(tp, output_refused);
        } else {
            s->stats.output_refused++;
        }
    }
}
