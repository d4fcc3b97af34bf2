/*
 * tcp_in.c - segment arrival, in the order of RFC 9293 3.10.7 ("SEGMENT ARRIVES").
 *
 * Called by tcpe_stack_input / tcpe_conn_input (tcp_stack.c) once the connection is found:
 *
 *   tcp_input
 *     CLOSED        -> tcp_input_no_conn          (3.10.7.1: RST)
 *     LISTEN        -> tcp_input_listen           (3.10.7.2: new SYN_RECEIVED child)
 *     SYN_SENT      -> tcp_input_syn_sent         (3.10.7.3), then the data steps
 *     otherwise, 3.10.7.4 step by step:
 *           tcp_input_paws                                RFC 7323 5.3 R1 (with timestamps)
 *        1. tcp_seq_acceptable / tcp_input_unacceptable   acceptability, RFC 5961 throttling
 *        2. tcp_input_rst                                 RFC 5961 3: exact, challenge, drop
 *        4. SYN                                           RFC 5961 4: challenge ACK
 *           tcp_ts_recent_update                          RFC 7323 4.3, 5.3 R3
 *           tcp_trim                                      to RCV.NXT and the window
 *        5. tcp_input_ack -> tcp_ack_new / tcp_ack_dup    RFC 5681, RFC 6582, RFC 6298, RFC 3042
 *           tcp_sb_update (tcp_sb.c)                      the peer's SACK blocks, RFC 6675
 *           tcp_window_update                             SND.WL1 / SND.WL2
 *        7. tcp_input_data (+ tcp_reass.c)                in order, out of order, delayed ACK
 *        8. FIN                                           state transitions
 *     tcp_output                                          whatever is now owed or allowed
 *
 * Step 3 (security/compartment) and step 6 (URG) do not apply: the engine has no compartments
 * and ignores the urgent pointer, as RFC 9293 3.8.5 allows new applications to.
 * The segment being processed lives in a local struct tcp_in, trimmed as the steps go; nothing
 * is kept in file-level state (lwIP's tcp_in.c does, which is why it is single-instance).
 */
#include "handoff/assert.h"
#include "handoff/err.h"
#include "tcp_var.h"

/* The segment as the steps trim it. */
struct tcp_in {
    uint32_t seq;                       /* sequence number of the first octet (or the SYN) */
    uint32_t ack;                       /* acknowledgment number */
    uint8_t flags;                      /* TCPE_* flags still to process */
    uint16_t wnd;                       /* window field, unscaled */
    uint32_t len;                       /* payload octets left */
    const uint8_t *data;                /* payload, or NULL for virtual payload */
    bool ts;                            /* it carried a timestamps option (RFC 7323) */
    uint32_t ts_val;                    /* its TSval */
    uint32_t ts_ecr;                    /* its TSecr */
    uint8_t nsack;                      /* SACK blocks it carried (RFC 2018) */
    const struct tcpe_sack_block *sack; /* the blocks, as on the wire */
};

static uint32_t seg_space(const struct tcp_in *in)
{
    return in->len + ((in->flags & TCPE_SYN) ? 1 : 0) + ((in->flags & TCPE_FIN) ? 1 : 0);
}

/* ---- no connection, listeners, options ---- */

/* RFC 9293 3.10.7.1: answer anything but a RST with a RST the sender will accept. */
void tcp_input_no_conn(struct tcpe_stack *s, const struct tcpe_seg *seg)
{
    if (seg->flags & TCPE_RST) {
        return;
    }
    struct tcpe_tuple t = {seg->dst_ip, seg->src_ip, seg->dst_port, seg->src_port};
    if (seg->flags & TCPE_ACK) {
        tcp_respond(s, NULL, &t, seg->ack, 0, TCPE_RST);
    } else {
        uint32_t n =
            seg->len + ((seg->flags & TCPE_SYN) ? 1 : 0) + ((seg->flags & TCPE_FIN) ? 1 : 0);
        tcp_respond(s, NULL, &t, 0, seg->seq + n, TCPE_RST | TCPE_ACK);
    }
}

/*
 * The options of the peer's SYN: its MSS (536 if absent, RFC 9293 3.7.1; below 48 raised to 48
 * as Linux does, so a tiny MSS cannot make us send a flood of tiny segments, CVE-2019-11479),
 * and window scaling, which holds only if both SYNs carry the option (RFC 7323 1.3), with shifts
 * above 14 taken as 14 (RFC 7323 2.3). Timestamps too hold only if both SYNs carry them (RFC
 * 7323 3.2; TF_TSTAMP says we offered them); their 12 octets on every segment then come out of
 * the payload (RFC 9293 3.7.1, RFC 6691), as Linux does. SACK holds only if both SYNs carry
 * SACK-permitted (RFC 2018 2; TF_SACK says we offered it).
 */
static void tcp_syn_options(struct tcpe_conn *tp, const struct tcpe_seg *seg, uint64_t now)
{
    uint32_t peer = (seg->opts & TCPE_OPT_MSS) ? seg->mss : TCP_MSS_DEFAULT;
    if (peer < TCP_MSS_MIN) {
        peer = TCP_MSS_MIN;
    }
    uint32_t ours = tp->stack->p.mss;
    tp->t_maxseg = (uint16_t)(peer < ours ? peer : ours);
    if (seg->opts & TCPE_OPT_WSCALE) {
        tp->snd_wscale = seg->wscale < TCP_MAX_WSCALE ? seg->wscale : TCP_MAX_WSCALE;
        tp->t_flags |= TF_WSCALE;
    } else {
        tp->snd_wscale = 0;
        tp->rcv_wscale = 0;
        tp->t_flags &= ~TF_WSCALE;
    }
    if ((tp->t_flags & TF_TSTAMP) && (seg->opts & TCPE_OPT_TS)) {
        tp->ts_recent = seg->ts_val;
        tp->ts_recent_time = now;
        tp->t_maxseg = (uint16_t)(tp->t_maxseg - TCP_TS_OPTLEN);
    } else {
        tp->t_flags &= ~TF_TSTAMP;
    }
    if (!(seg->opts & TCPE_OPT_SACK_OK)) {
        tp->t_flags &= ~TF_SACK;
    }
}

/* The receive side of a SYN: IRS, RCV.NXT, and the peer's unscaled window. */
static void tcp_syn_received(struct tcpe_conn *tp, const struct tcpe_seg *seg, uint64_t now)
{
    tp->irs = seg->seq;
    tp->rcv_nxt = seg->seq + 1;
    tp->rcv_adv = tp->rcv_nxt;
    tp->last_ack_sent = tp->rcv_nxt;
    tp->snd_wnd = seg->wnd; /* a SYN's window is never scaled (RFC 7323 2.2) */
    tp->max_sndwnd = seg->wnd;
    tp->snd_wl1 = seg->seq;
    tcp_syn_options(tp, seg, now);
}

/* RFC 9293 3.10.7.2, with a bounded backlog of half-open and unaccepted connections. */
static void tcp_input_listen(struct tcpe_conn *l, const struct tcpe_seg *seg, uint64_t now)
{
    struct tcpe_stack *s = l->stack;
    struct tcpe_tuple t = {seg->dst_ip, seg->src_ip, seg->dst_port, seg->src_port};
    if (seg->flags & TCPE_RST) {
        tcp_drop_count(s, l, TCPE_DROP_BAD_FLAGS);
        return;
    }
    if (seg->flags & TCPE_ACK) {
        tcp_respond(s, l, &t, seg->ack, 0, TCPE_RST);
        tcp_drop_count(s, l, TCPE_DROP_BAD_ACK);
        return;
    }
    /* SYN+FIN is not an opening anyone means (Linux drops it too). */
    if (!(seg->flags & TCPE_SYN) || (seg->flags & TCPE_FIN)) {
        tcp_drop_count(s, l, TCPE_DROP_BAD_FLAGS);
        return;
    }
    if (s->p.backlog_accept_queue ? l->acc_qlen > l->backlog : l->qlen >= l->backlog) {
        tcp_drop_count(s, l, TCPE_DROP_BACKLOG);
        return;
    }
    struct tcpe_conn *tp = tcp_conn_new(s, &t);
    if (tp == NULL) {
        tcp_drop_count(s, l, TCPE_DROP_NOMEM);
        return;
    }
    /* Born a clone of the listener (as BSD's sonewconn), held by no one until accepted. */
    tp->state = TCPE_LISTEN;
    tp->t_flags = (l->t_flags & (TF_VIRTUAL | TF_NODELAY | TF_LIMITED | TF_TSTAMP | TF_SACK)) |
                  TF_PASSIVE | TF_RELEASED;
    tp->sndbuf = l->sndbuf;
    tp->rcvbuf = l->rcvbuf;
    if (tcp_hash_insert(tp) < 0) {
        /* Only when a caller hands a listener a segment of an existing connection. */
        tcp_free_conn(tp);
        tcp_drop_count(s, l, TCPE_DROP_MALFORMED);
        return;
    }
    tp->listener = l;
    l->qlen++;
    tcp_syn_received(tp, seg, now);
    tp->iss = tcp_new_isn(s, &t, now);
    tp->snd_una = tp->snd_nxt = tp->snd_max = tp->iss;
    tp->snd_recover = tp->iss;
    tp->snd_wl2 = tp->iss;
    tp->t_rcvtime = now;
    tcp_set_state(tp, TCPE_SYN_RECEIVED, now);
    tcp_output(tp, now);
}

/*
 * Our SYN is acknowledged (from SYN_SENT or SYN_RECEIVED): start the data phase with the
 * initial congestion window (RFC 5681 3.1) and, if the SYN had to be retransmitted and gave no
 * RTT sample, a 3 s RTO (RFC 6298 5.7). With timestamps the sample comes from the echo.
 */
static void tcp_established(struct tcpe_conn *tp, const struct tcp_in *in, uint64_t now)
{
    const struct tcpe_params *p = &tp->stack->p;
    tp->snd_una = tp->iss + 1;
    tcp_sb_clear(tp);
    if (SEQ_LT(tp->snd_nxt, tp->snd_una)) {
        tp->snd_nxt = tp->snd_una;
    }
    tcp_timer_stop(tp, TCP_T_REXMT);
    bool sampled = false;
    if (tp->t_flags & TF_TSTAMP) {
        sampled = tcp_rtt_sample_ts(tp, in->ts_ecr, 0, now);
    } else if ((tp->t_flags & TF_RTTIMING) && SEQ_GT(in->ack, tp->t_rtseq)) {
        tcp_rtt_sample(tp, now - tp->t_rtstart);
        sampled = true;
    }
    if (!sampled && (tp->t_flags & TF_SYN_REXMT) && tp->t_srtt == 0) {
        uint64_t rto = TCP_RTO_SYN_FALLBACK;
        tp->t_rto = rto < p->rto_min ? p->rto_min : rto > p->rto_max ? p->rto_max : rto;
    }
    tp->t_flags &= ~TF_RTTIMING;
    tp->t_rxtshift = 0;
    tp->t_rxtcount = 0;
    tp->snd_cwnd = tcp_initial_cwnd(tp);
    tp->snd_recover = tp->iss;
    tcp_set_state(tp, (tp->t_flags & TF_NEEDFIN) ? TCPE_FIN_WAIT_1 : TCPE_ESTABLISHED, now);
    struct tcpe_conn *l = tp->listener;
    if (l != NULL) {
        if (l->acc_tail != NULL) {
            l->acc_tail->acc_next = tp;
        } else {
            l->acc_head = tp;
        }
        l->acc_tail = tp;
        l->acc_qlen++;
        tcp_event(l, TCPE_EV_ACCEPT);
    } else {
        tcp_event(tp, TCPE_EV_CONNECTED | TCPE_EV_WRITABLE);
    }
}

/* RFC 9293 3.10.7.3. Returns true when a SYN-ACK completed the handshake and the segment's
 * data and FIN (in) remain to be processed. */
static bool tcp_input_syn_sent(struct tcpe_conn *tp, const struct tcpe_seg *seg, struct tcp_in *in,
                               uint64_t now)
{
    struct tcpe_stack *s = tp->stack;
    bool ack = (in->flags & TCPE_ACK) != 0;
    if (ack && (SEQ_LEQ(in->ack, tp->iss) || SEQ_GT(in->ack, tp->snd_max))) {
        if (!(in->flags & TCPE_RST)) {
            tcp_respond(s, tp, &tp->tuple, in->ack, 0, TCPE_RST);
        }
        tcp_drop_count(s, tp, TCPE_DROP_BAD_ACK);
        return false;
    }
    if (in->flags & TCPE_RST) {
        /* Only a RST acknowledging our SYN is believed (RFC 5961 3.2): connection refused. */
        if (ack) {
            tcp_close(tp, now, TCPE_EV_RESET);
        } else {
            tcp_drop_count(s, tp, TCPE_DROP_RST_INVALID);
        }
        return false;
    }
    if (!(in->flags & TCPE_SYN)) {
        tcp_drop_count(s, tp, TCPE_DROP_BAD_FLAGS);
        return false;
    }
    tcp_syn_received(tp, seg, now);
    tp->t_rcvtime = now;
    if (!ack) {
        /* Simultaneous open (RFC 9293 Figure 8): answer with SYN-ACK from SYN_RECEIVED. */
        tp->snd_wl2 = tp->iss;
        tcp_set_state(tp, TCPE_SYN_RECEIVED, now);
        tp->snd_nxt = tp->iss;
        tcp_output(tp, now);
        return false;
    }
    tp->snd_wl2 = in->ack;
    tcp_established(tp, in, now);
    tp->t_flags |= TF_ACKNOW;
    in->seq++;
    in->flags &= (uint8_t)~TCPE_SYN;
    return true;
}

/* ---- step 1: acceptability ---- */

/* RFC 9293 3.10.7.4's table, plus Linux's allowance for a bare FIN at a zero window (it takes no
 * buffer, and some stacks repeat it forever otherwise). */
static bool tcp_seq_acceptable(const struct tcpe_conn *tp, const struct tcp_in *in)
{
    uint32_t wnd = tcp_rcv_window(tp);
    uint32_t n = seg_space(in);
    uint32_t lo = tp->rcv_nxt;
    uint32_t hi = tp->rcv_nxt + wnd;
    if (n == 0) {
        return wnd == 0 ? in->seq == lo : SEQ_IN(in->seq, lo, hi);
    }
    if (wnd == 0) {
        return in->seq == lo && in->len == 0 && (in->flags & (TCPE_FIN | TCPE_SYN)) == TCPE_FIN;
    }
    return SEQ_IN(in->seq, lo, hi) || SEQ_IN(in->seq + n - 1, lo, hi);
}

/*
 * An unacceptable segment is answered with an ACK (never a RST) and dropped. Segments that
 * carry data or a FIN are always answered: the ACK is how the peer learns its retransmission was
 * a duplicate. Bare ACKs and SYNs draw at most the challenge-ACK budget (RFC 5961 4 and 7), so
 * two endpoints that disagree cannot ping-pong ACKs at line rate.
 */
static void tcp_input_unacceptable(struct tcpe_conn *tp, const struct tcp_in *in, uint64_t now)
{
    struct tcpe_stack *s = tp->stack;
    if (in->flags & TCPE_RST) {
        tcp_drop_count(s, tp, TCPE_DROP_OUT_OF_WINDOW);
        return;
    }
    if (in->flags & TCPE_SYN) {
        tcp_drop_count(s, tp, TCPE_DROP_SYN_INVALID);
        tcp_send_challenge_ack(tp, now);
        return;
    }
    tcp_drop_count(s, tp, TCPE_DROP_OUT_OF_WINDOW);
    if (in->len > 0 && SEQ_LT(in->seq, tp->rcv_nxt)) {
        /* Octets we already have (all of them, or the window is closed): RFC 2883 4.1.1. */
        tcp_sack_duplicate(tp, in->seq, SEQ_MIN(in->seq + in->len, tp->rcv_nxt));
    }
    if (tp->state == TCPE_TIME_WAIT && (in->flags & TCPE_FIN)) {
        /* The peer's FIN again: our last ACK was lost. ACK it and wait 2*MSL afresh. */
        tcp_timer_set(tp, TCP_T_2MSL, now + 2 * s->p.msl);
    }
    if (in->len > 0 || (in->flags & TCPE_FIN) || tcp_ack_allowed(tp, now)) {
        tcp_send_ack_now(tp, now);
    }
}

/* ---- timestamps (RFC 7323): PAWS before step 1, TS.Recent after step 4 ---- */

/*
 * On a connection that uses timestamps, before the acceptability test (5.3 R1): a segment
 * without the option is dropped silently (3.2 says SHOULD; RSTs need none); one whose TSval is
 * older than TS.Recent is an old duplicate, perhaps from an earlier wrap of the sequence space:
 * dropped and answered as an unacceptable segment is (data or FIN always, bare ACKs within the
 * challenge-ACK budget). A TS.Recent set more than 24 days ago judges nothing (5.5): the
 * segment's TSval replaces it. Returns false when the segment was dropped.
 */
static bool tcp_input_paws(struct tcpe_conn *tp, const struct tcp_in *in, uint64_t now)
{
    struct tcpe_stack *s = tp->stack;
    if (!(tp->t_flags & TF_TSTAMP) || (in->flags & TCPE_RST)) {
        return true;
    }
    if (!in->ts) {
        tcp_drop_count(s, tp, TCPE_DROP_NO_TS);
        return false;
    }
    if ((int32_t)(in->ts_val - tp->ts_recent) >= 0) {
        return true;
    }
    if (now >= tp->ts_recent_time && now - tp->ts_recent_time > TCP_PAWS_IDLE) {
        tp->ts_recent = in->ts_val;
        tp->ts_recent_time = now;
        return true;
    }
    tcp_drop_count(s, tp, TCPE_DROP_PAWS);
    if (in->len > 0 || (in->flags & TCPE_FIN) || tcp_ack_allowed(tp, now)) {
        tcp_send_ack_now(tp, now);
    }
    return false;
}

/* 4.3 rule (2), 5.3 R3: an acceptable segment's TSval becomes TS.Recent when it is no older and
 * the segment starts no later than what we last acknowledged. So a delayed ACK echoes the
 * earliest segment it covers, and one for out-of-order data echoes the last in-order segment:
 * the peer measures the time its data really waited. */
static void tcp_ts_recent_update(struct tcpe_conn *tp, const struct tcp_in *in, uint64_t now)
{
    if ((tp->t_flags & TF_TSTAMP) && in->ts && SEQ_LEQ(in->seq, tp->last_ack_sent) &&
        (int32_t)(in->ts_val - tp->ts_recent) >= 0) {
        tp->ts_recent = in->ts_val;
        tp->ts_recent_time = now;
    }
}

/* ---- step 2: RST (RFC 5961 3) ---- */

static void tcp_input_rst(struct tcpe_conn *tp, const struct tcp_in *in, uint64_t now)
{
    if (in->seq != tp->rcv_nxt) {
        tcp_drop_count(tp->stack, tp, TCPE_DROP_RST_INVALID);
        tcp_send_challenge_ack(tp, now);
        return;
    }
    switch (tp->state) {
    case TCPE_SYN_RECEIVED:
        /* A passive child just goes away (the listener stays); an active one was refused. */
        tcp_close(tp, now, (tp->t_flags & TF_PASSIVE) ? 0 : TCPE_EV_RESET);
        break;
    case TCPE_ESTABLISHED:
    case TCPE_FIN_WAIT_1:
    case TCPE_FIN_WAIT_2:
    case TCPE_CLOSE_WAIT:
        tcp_close(tp, now, TCPE_EV_RESET);
        break;
    default: /* CLOSING, LAST_ACK, TIME_WAIT: the peer is done anyway */
        tcp_close(tp, now, TCPE_EV_CLOSED);
        break;
    }
}

/* ---- trimming to the window (RFC 9293 3.10.7.4, "the idealized segment") ---- */

static void tcp_trim(struct tcpe_conn *tp, struct tcp_in *in)
{
    int32_t old = SEQ_DIFF(tp->rcv_nxt, in->seq);
    if (old > 0) {
        /* Octets we already have; acceptability guarantees something new (or the FIN) follows. */
        uint32_t n = (uint32_t)old < in->len ? (uint32_t)old : in->len;
        tcp_sack_duplicate(tp, in->seq, in->seq + n); /* RFC 2883 4.1.1 */
        in->seq += n;
        in->len -= n;
        if (in->data != NULL) {
            in->data += n;
        }
        tp->t_flags |= TF_ACKNOW;
    }
    uint32_t right = tp->rcv_nxt + tcp_rcv_window(tp);
    int32_t excess = SEQ_DIFF(in->seq + in->len, right);
    if (excess > 0) {
        /* Beyond the window: cut, lose the FIN with it, and repeat the window in an ACK. */
        in->len -= (uint32_t)excess;
        in->flags &= (uint8_t)~TCPE_FIN;
        tp->t_flags |= TF_ACKNOW;
    }
}

/* ---- step 5: ACK ---- */

/* Retransmits one segment from SND.UNA, leaving SND.NXT and cwnd as they were (FreeBSD's
 * fast-retransmit idiom). */
static void tcp_rexmt_first(struct tcpe_conn *tp, uint64_t now)
{
    uint32_t nxt = tp->snd_nxt;
    uint32_t cwnd = tp->snd_cwnd;
    tp->snd_nxt = tp->snd_una;
    tp->snd_cwnd = tp->t_maxseg;
    tcp_output(tp, now);
    tp->snd_cwnd = cwnd;
    if (SEQ_GT(nxt, tp->snd_nxt)) {
        tp->snd_nxt = nxt;
    }
}

/*
 * Limited transmit (RFC 3042, RFC 5681 3.2 step 1), on the first and second duplicate ACK: one
 * segment of data never sent before, if the peer's window allows it and FlightSize stays within
 * cwnd + 2 SMSS. cwnd itself does not change: it is raised for this one call to output, to
 * FlightSize + 1 SMSS (so at most one segment leaves, and Nagle and sender SWS avoidance still
 * apply), and restored. What was sent is remembered: ssthresh must not count it.
 */
static void tcp_limited_transmit(struct tcpe_conn *tp, uint64_t now)
{
    if (!(tp->t_flags & TF_LIMITED) || tp->snd_nxt != tp->snd_max) {
        return; /* off, or a retransmission is in progress: nothing new may go */
    }
    uint32_t flight = tcp_flight_size(tp);
    uint64_t cap = (uint64_t)tp->snd_cwnd + 2ull * tp->t_maxseg;
    uint64_t room = (uint64_t)flight + tp->t_maxseg;
    if (room > cap) {
        room = cap;
    }
    if (room <= flight) {
        return;
    }
    uint32_t cwnd = tp->snd_cwnd;
    uint32_t max = tp->snd_max;
    tp->snd_cwnd = (uint32_t)room;
    tcp_output(tp, now);
    tp->snd_cwnd = cwnd;
    uint32_t sent = tp->snd_max - max;
    if (sent > 0) {
        tp->snd_limited += sent;
        TCP_STAT_INC(tp, limited_xmits);
    }
}

/*
 * A duplicate ACK (RFC 5681 2): limited transmit on the first two, fast retransmit on the third,
 * NewReno's guard against a second reduction for one window (RFC 6582 3.2 step 1), and cwnd
 * inflation during recovery. With SACK (RFC 6675 5): recovery also starts before the third when
 * IsLost(SND.UNA), the guard is HighACK >= RecoveryPoint (5.1), and in recovery nothing is
 * inflated: the output that follows sends what pipe allows.
 */
static void tcp_ack_dup(struct tcpe_conn *tp, const struct tcp_in *in, uint64_t now)
{
    bool sack = (tp->t_flags & TF_SACK) != 0;
    TCP_STAT_INC(tp, dupacks_in);
    if (tp->t_flags & TF_RECOVERY) {
        if (!sack) {
            tp->snd_cwnd += tp->t_maxseg;
        }
        return;
    }
    ++tp->t_dupacks;
    if (sack) {
        if (tp->t_dupacks < TCP_DUPTHRESH && !tcp_sb_lost_una(tp)) {
            tcp_limited_transmit(tp, now);
            return;
        }
        if (!SEQ_GEQ(in->ack, tp->snd_recover)) {
            return;
        }
    } else {
        if (tp->t_dupacks < TCP_DUPTHRESH) {
            tcp_limited_transmit(tp, now);
            return;
        }
        if (tp->t_dupacks != TCP_DUPTHRESH || !SEQ_GT(in->ack, tp->snd_recover)) {
            return;
        }
    }
    /* RFC 5681 3.2 step 2: what limited transmit sent is not part of the FlightSize halved. */
    uint32_t half = (tcp_flight_size(tp) - tp->snd_limited) / 2;
    tp->snd_limited = 0;
    tp->snd_ssthresh = half > 2u * tp->t_maxseg ? half : 2u * tp->t_maxseg;
    tp->snd_recover = tp->snd_max;
    tp->t_flags |= TF_RECOVERY;
    tp->t_flags &= ~TF_PARTIALACK;
    tp->t_flags &= ~TF_RTTIMING;
    TCP_STAT_INC(tp, fast_rexmts);
    tcp_timer_stop(tp, TCP_T_REXMT);
    if (sack) {
        tcp_sb_enter(tp, now);
        return;
    }
    tcp_rexmt_first(tp, now);
    tp->snd_cwnd = tp->snd_ssthresh + 3u * tp->t_maxseg;
}

/* The largest window the peer could offer: a bound for cwnd. */
static uint32_t tcp_max_window(const struct tcpe_conn *tp)
{
    return (uint32_t)TCP_MAXWIN << tp->snd_wscale;
}

/* An ACK of new data: RTT sample, congestion window, freeing the buffer, timers, FIN. */
static void tcp_ack_new(struct tcpe_conn *tp, const struct tcp_in *in, uint64_t now)
{
    struct tcpe_stack *s = tp->stack;
    uint32_t acked = in->ack - tp->snd_una;
    bool fin_acked = (tp->t_flags & TF_SENTFIN) && in->ack == tp->snd_max;
    uint32_t data_acked = acked - (fin_acked ? 1 : 0);
    HO_ASSERT(data_acked <= tp->snd.len, "ACK of %u octets with %u buffered", data_acked,
              tp->snd.len);

    if (tp->t_flags & TF_TSTAMP) {
        (void)tcp_rtt_sample_ts(tp, in->ts_ecr, tcp_flight_size(tp), now);
    } else if ((tp->t_flags & TF_RTTIMING) && SEQ_GT(in->ack, tp->t_rtseq)) {
        tcp_rtt_sample(tp, now - tp->t_rtstart);
        tp->t_flags &= ~TF_RTTIMING;
    }

    bool partial = false;
    uint32_t mss = tp->t_maxseg;
    if (tp->t_flags & TF_RECOVERY) {
        if (SEQ_GEQ(in->ack, tp->snd_recover)) {
            /* Full ACK (RFC 6582 3.2 step 3, option 1). */
            uint32_t flight = tp->snd_max - in->ack;
            uint32_t w = (flight > mss ? flight : mss) + mss;
            tp->snd_cwnd = w < tp->snd_ssthresh ? w : tp->snd_ssthresh;
            tp->t_flags &= ~(TF_RECOVERY | TF_PARTIALACK);
            tp->t_dupacks = 0;
        } else {
            partial = (tp->t_flags & TF_SACK) == 0; /* NewReno's; RFC 6675 needs no such step */
        }
    } else {
        tp->t_dupacks = 0;
        tp->snd_limited = 0;
        if (tp->snd_cwnd < tp->snd_ssthresh) {
            tp->snd_cwnd += acked < mss ? acked : mss; /* slow start, L = 1 SMSS (RFC 3465) */
        } else {
            tp->bytes_acked += acked; /* congestion avoidance by bytes (RFC 5681 3.1) */
            if (tp->bytes_acked >= tp->snd_cwnd) {
                tp->bytes_acked -= tp->snd_cwnd;
                tp->snd_cwnd += mss;
            }
        }
        if (tp->snd_cwnd > tcp_max_window(tp)) {
            tp->snd_cwnd = tcp_max_window(tp);
        }
    }

    tcp_buf_drop(&tp->snd, &s->alloc, data_acked);
    TCP_STAT_ADD(tp, bytes_acked, data_acked);
    tp->snd_una = in->ack;
    tcp_sb_prune(tp);
    tp->t_rxtcount = 0; /* progress: the give-up count starts again (the backoff does not) */
    if (SEQ_LT(tp->snd_nxt, tp->snd_una)) {
        tp->snd_nxt = tp->snd_una;
    }
    /* Keep "recover" within 2^31 of SND.UNA so the NewReno check survives wraparound. */
    if (!(tp->t_flags & TF_RECOVERY) && SEQ_LT(tp->snd_recover, tp->snd_una)) {
        tp->snd_recover = tp->snd_una - 1;
    }

    if (tp->snd_una == tp->snd_max) {
        tcp_timer_stop(tp, TCP_T_REXMT);
    } else if (!partial || !(tp->t_flags & TF_PARTIALACK)) {
        tcp_rexmt_restart(tp, now); /* RFC 6298 5.3; RFC 6582: first partial ACK only */
    }
    if (partial) {
        /* RFC 6582 3.2 step 4: resend the next hole, deflate by what was acknowledged. */
        tp->t_flags |= TF_PARTIALACK;
        tcp_rexmt_first(tp, now);
        tp->snd_cwnd = tp->snd_cwnd > acked ? tp->snd_cwnd - acked : 0;
        if (acked >= mss) {
            tp->snd_cwnd += mss;
        }
        if (tp->snd_cwnd < mss) {
            tp->snd_cwnd = mss;
        }
    }

    unsigned ev = TCPE_EV_ACKED;
    if (data_acked > 0 && !(tp->t_flags & TF_NEEDFIN)) {
        ev |= TCPE_EV_WRITABLE;
    }
    tcp_event(tp, ev);

    if (fin_acked) {
        switch (tp->state) {
        case TCPE_FIN_WAIT_1:
            tcp_set_state(tp, TCPE_FIN_WAIT_2, now);
            if ((tp->t_flags & TF_RELEASED) && s->p.fin_wait_2_timeout > 0) {
                tcp_timer_set(tp, TCP_T_2MSL, now + s->p.fin_wait_2_timeout);
            }
            break;
        case TCPE_CLOSING:
            tcp_enter_time_wait(tp, now);
            break;
        case TCPE_LAST_ACK:
            tcp_close(tp, now, TCPE_EV_CLOSED);
            break;
        default:
            break;
        }
    }
}

/* RFC 9293 3.10.7.4 step 5, "update the send window", guarded by SND.WL1 and SND.WL2. */
static void tcp_window_update(struct tcpe_conn *tp, const struct tcp_in *in)
{
    if (SEQ_LT(in->ack, tp->snd_una) ||
        !(SEQ_LT(tp->snd_wl1, in->seq) ||
          (tp->snd_wl1 == in->seq && SEQ_LEQ(tp->snd_wl2, in->ack)))) {
        return;
    }
    uint32_t w = (uint32_t)in->wnd << tp->snd_wscale;
    tp->snd_wnd = w;
    tp->snd_wl1 = in->seq;
    tp->snd_wl2 = in->ack;
    if (w > tp->max_sndwnd) {
        tp->max_sndwnd = w;
    }
    if (w > 0 && tcp_timer_on(tp, TCP_T_PERSIST)) {
        tcp_timer_stop(tp, TCP_T_PERSIST); /* the window opened: output sends at once */
        tp->t_persist_shift = 0;
    }
}

/* Step 5. Returns false when processing stops (dropped, or the connection closed). */
static bool tcp_input_ack(struct tcpe_conn *tp, const struct tcp_in *in, uint64_t now)
{
    struct tcpe_stack *s = tp->stack;
    if (!(in->flags & TCPE_ACK)) {
        tcp_drop_count(s, tp, TCPE_DROP_BAD_FLAGS);
        return false;
    }
    if (tp->state == TCPE_SYN_RECEIVED) {
        if (!(SEQ_LT(tp->snd_una, in->ack) && SEQ_LEQ(in->ack, tp->snd_max))) {
            tcp_respond(s, tp, &tp->tuple, in->ack, 0, TCPE_RST);
            tcp_drop_count(s, tp, TCPE_DROP_BAD_ACK);
            return false;
        }
        tcp_established(tp, in, now);
    }
    /* RFC 5961 5.2: acceptable from SND.UNA - MAX.SND.WND up to what was sent. */
    if (SEQ_GT(in->ack, tp->snd_max) || SEQ_LT(in->ack, tp->snd_una - tp->max_sndwnd)) {
        tcp_drop_count(s, tp, TCPE_DROP_BAD_ACK);
        tcp_send_challenge_ack(tp, now);
        return false;
    }
    tp->t_probes = 0; /* the peer is alive */
    bool dup = in->ack == tp->snd_una && in->len == 0 && !(in->flags & TCPE_FIN) &&
               tp->snd_una != tp->snd_max;
    bool same_wnd = ((uint32_t)in->wnd << tp->snd_wscale) == tp->snd_wnd;
    if (SEQ_GT(in->ack, tp->snd_una)) {
        tcp_ack_new(tp, in, now);
        if (tp->state != TCPE_CLOSED) {
            (void)tcp_sb_update(tp, in->sack, in->nsack, in->ack);
        }
    } else {
        /* With SACK a duplicate counts only if it SACKs something new (RFC 6675 2), so that
         * a D-SACK for a duplicated segment is no sign of loss; and one that does counts even
         * if the window moved, as in FreeBSD: a receiver that tunes its buffer (Linux) moves
         * it on nearly every ACK, and the new block is evidence enough. An ACK without usable
         * blocks is judged as without SACK (RFC 5681: the window unchanged too). */
        enum tcp_sb_news news = tcp_sb_update(tp, in->sack, in->nsack, in->ack);
        if (dup && (news == TCP_SB_NEW || (news == TCP_SB_NOINFO && same_wnd))) {
            tcp_ack_dup(tp, in, now);
        }
    }
    if (tp->state == TCPE_CLOSED) {
        return false;
    }
    tcp_window_update(tp, in);
    return true;
}

/* ---- steps 7 and 8: data and FIN ---- */

/* In-order data: ACK every second full-sized segment at once, others after the delayed-ACK
 * timeout (RFC 9293 3.8.6.3, RFC 5681 4.2); or, with delack_one_segment, every second segment
 * of any size, as BSD does: an ACK already delayed is sent now. */
static void tcp_delack(struct tcpe_conn *tp, uint64_t now)
{
    const struct tcpe_params *p = &tp->stack->p;
    if (tp->rcv_nxt == tp->last_ack_sent) {
        return; /* the application answered at once: its segment carried the ACK */
    }
    if (p->delack == 0 || tp->rcv_nxt - tp->last_ack_sent >= 2u * tp->t_maxseg ||
        (p->delack_one_segment && tcp_timer_on(tp, TCP_T_DELACK))) {
        tp->t_flags |= TF_ACKNOW;
    } else if (!tcp_timer_on(tp, TCP_T_DELACK)) {
        tcp_timer_set(tp, TCP_T_DELACK, now + p->delack);
    }
}

static void tcp_input_fin(struct tcpe_conn *tp, uint64_t now)
{
    tp->rcv_nxt++;
    tp->t_flags |= TF_ACKNOW | TF_GOTFIN;
    tcp_event(tp, TCPE_EV_READABLE);
    switch (tp->state) {
    case TCPE_ESTABLISHED:
        tcp_set_state(tp, TCPE_CLOSE_WAIT, now);
        break;
    case TCPE_FIN_WAIT_1: /* our FIN is not yet acknowledged: simultaneous close */
        tcp_set_state(tp, TCPE_CLOSING, now);
        break;
    case TCPE_FIN_WAIT_2:
        tcp_enter_time_wait(tp, now);
        break;
    default:
        HO_ASSERT(false, "FIN processed in state %s", tcpe_state_name(tp->state));
    }
}

static void tcp_input_data(struct tcpe_conn *tp, const struct tcp_in *in, uint64_t now)
{
    struct tcpe_stack *s = tp->stack;
    if (in->len == 0 && !(in->flags & TCPE_FIN)) {
        return;
    }
    if (tp->state != TCPE_ESTABLISHED && tp->state != TCPE_FIN_WAIT_1 &&
        tp->state != TCPE_FIN_WAIT_2) {
        return; /* after the peer's FIN nothing more can come (RFC 9293 step 7) */
    }
    if (in->len > 0 && (tp->t_flags & TF_RELEASED) && tp->listener == NULL) {
        /* Nobody will read it: say so with a RST (RFC 1122 4.2.2.13). */
        tcp_drop_count(s, tp, TCPE_DROP_AFTER_CLOSE);
        tcp_drop(tp, now, 0);
        return;
    }
    uint32_t dup_start, dup_end;
    if (in->len > 0 && tcp_reass_overlap(tp, in->seq, in->seq + in->len, &dup_start, &dup_end)) {
        tcp_sack_duplicate(tp, dup_start, dup_end); /* queued before: RFC 2883 4.1.2 */
    }
    if (in->seq != tp->rcv_nxt) {
        int err = tcp_reass_insert(tp, in->seq, in->len, in->data, (in->flags & TCPE_FIN) != 0);
        if (err == HO_ENOSPC) {
            tcp_drop_count(s, tp, TCPE_DROP_OOO_FULL);
        } else if (err < 0) {
            tcp_drop_count(s, tp, TCPE_DROP_NOMEM);
        } else {
            TCP_STAT_INC(tp, ooo_segs);
        }
        tcp_sack_arrived(tp, in->seq); /* its block goes first (RFC 2018 4) */
        tp->t_flags |= TF_ACKNOW;      /* a duplicate ACK at once (RFC 5681 4.2) */
        return;
    }
    bool fin = (in->flags & TCPE_FIN) != 0;
    uint32_t len = in->len;
    tcp_reass_clip(tp, in->seq, &len, &fin); /* what is queued was said first */
    if (len > 0) {
        if (tcp_buf_append(&tp->rcv, &s->alloc, in->data, len) < 0) {
            tcp_drop_count(s, tp, TCPE_DROP_NOMEM);
            return; /* not acknowledged: the peer will send it again */
        }
        tp->rcv_nxt += len;
        TCP_STAT_ADD(tp, bytes_in, len);
        tcp_event(tp, TCPE_EV_READABLE);
    }
    if (tp->ooo != NULL) {
        if (fin) {
            tcp_reass_free(tp); /* the segment covered the whole queue */
        } else {
            fin = tcp_reass_pull(tp);
        }
        tcp_sack_prune(tp);
        tp->t_flags |= TF_ACKNOW; /* a hole filled: ACK at once (RFC 5681 4.2) */
    } else if (len > 0) {
        tcp_delack(tp, now);
    }
    if (fin) {
        tcp_input_fin(tp, now);
    }
    /* Data may be accepted past the edge we advertised (the window check allows the buffer's
     * free space): keep the edge no lower than RCV.NXT, so that it stays a meaningful sequence
     * number, within 2^31 of RCV.NXT, and the connection stays exportable. */
    if (SEQ_GT(tp->rcv_nxt, tp->rcv_adv)) {
        tp->rcv_adv = tp->rcv_nxt;
    }
}

/* ---- the driver ---- */

void tcp_input(struct tcpe_conn *tp, const struct tcpe_seg *seg, uint64_t now)
{
    struct tcp_in in = {
        .seq = seg->seq,
        .ack = seg->ack,
        .flags = seg->flags,
        .wnd = seg->wnd,
        .len = seg->len,
        .data = (tp->t_flags & TF_VIRTUAL) ? NULL : seg->data,
        .ts = (seg->opts & TCPE_OPT_TS) != 0,
        .ts_val = seg->ts_val,
        .ts_ecr = seg->ts_ecr,
        .nsack = !(seg->opts & TCPE_OPT_SACK) ? 0
                 : seg->nsack < TCPE_SACK_MAX ? seg->nsack
                                              : TCPE_SACK_MAX,
        .sack = seg->sack,
    };
    TCP_STAT_INC(tp, segs_in);
    switch (tp->state) {
    case TCPE_CLOSED:
        tcp_drop_count(tp->stack, tp, TCPE_DROP_NO_CONN);
        tcp_input_no_conn(tp->stack, seg);
        return;
    case TCPE_LISTEN:
        tcp_input_listen(tp, seg, now);
        return;
    case TCPE_SYN_SENT:
        if (tcp_input_syn_sent(tp, seg, &in, now)) {
            tcp_trim(tp, &in);
            tcp_input_data(tp, &in, now);
            tcp_output(tp, now);
        }
        return;
    case TCPE_SYN_RECEIVED:
        if ((in.flags & TCPE_SYN) && in.seq == tp->irs) {
            if (!(in.flags & TCPE_ACK)) {
                /* The peer repeated its SYN: our SYN-ACK was lost. Send it again, echoing the
                 * repeated SYN's timestamp if it is newer (it starts at Last.ACK.sent). */
                tcp_ts_recent_update(tp, &in, now);
                tp->snd_nxt = tp->iss;
                tcp_output(tp, now);
                return;
            }
            if (in.ack == tp->snd_max) {
                /* Simultaneous open: the peer's SYN-ACK acknowledges our SYN. */
                in.seq++;
                in.flags &= (uint8_t)~TCPE_SYN;
            }
        }
        break;
    default:
        break;
    }
    if (!tcp_input_paws(tp, &in, now)) {
        return;
    }
    if (!tcp_seq_acceptable(tp, &in)) {
        tcp_input_unacceptable(tp, &in, now);
        return;
    }
    if (in.flags & TCPE_RST) {
        tcp_input_rst(tp, &in, now);
        return;
    }
    if (in.flags & TCPE_SYN) {
        tcp_drop_count(tp->stack, tp, TCPE_DROP_SYN_INVALID);
        tcp_send_challenge_ack(tp, now);
        return;
    }
    tcp_ts_recent_update(tp, &in, now);
    tcp_trim(tp, &in);
    tp->t_rcvtime = now;
    if (!tcp_input_ack(tp, &in, now)) {
        return;
    }
    tcp_input_data(tp, &in, now);
    tcp_output(tp, now);
}
