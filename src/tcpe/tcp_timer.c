/*
 * tcp_timer.c - round-trip estimation (RFC 6298) and the four connection timers.
 *
 * Timers are absolute deadlines in the TCB; setting or stopping one updates the connection's
 * place in the stack's heap at once (tcp_heap_update), so the stack's next wake is always exact.
 * tcp_run_timers is called by tcpe_stack_timers / tcpe_conn_timers for a connection with a due
 * deadline; each handler stops or rearms its own timer, strictly in the future.
 *
 *   REXMT    retransmit from SND.UNA with exponential backoff; give up after the retry limit
 *   PERSIST  probe a zero window (or force a send sender-side SWS avoidance is holding back)
 *   DELACK   send the ACK we were delaying
 *   2MSL     end TIME_WAIT, or a released connection's wait in FIN_WAIT_2
 */
#include "handoff/assert.h"
#include "tcp_var.h"

void tcp_timer_set(struct tcpe_conn *tp, enum tcp_timer which, uint64_t deadline)
{
    HO_ASSERT(deadline != TCP_TIMER_OFF, "timer %d set to the 'off' value", which);
    tp->t_timer[which] = deadline;
    tcp_heap_update(tp);
}

void tcp_timer_stop(struct tcpe_conn *tp, enum tcp_timer which)
{
    if (tp->t_timer[which] != TCP_TIMER_OFF) {
        tp->t_timer[which] = TCP_TIMER_OFF;
        tcp_heap_update(tp);
    }
}

bool tcp_timer_on(const struct tcpe_conn *tp, enum tcp_timer which)
{
    return tp->t_timer[which] != TCP_TIMER_OFF;
}

uint64_t tcp_earliest_timer(const struct tcpe_conn *tp)
{
    uint64_t t = TCP_TIMER_OFF;
    for (int i = 0; i < TCP_NTIMERS; i++) {
        if (tp->t_timer[i] < t) {
            t = tp->t_timer[i];
        }
    }
    return t;
}

/* The timeout now in force: the estimate doubled per backoff, bounded by rto_max (RFC 6298
 * 5.5). */
uint64_t tcp_rto_current(const struct tcpe_conn *tp)
{
    uint64_t max = tp->stack->p.rto_max;
    unsigned shift = tp->t_rxtshift < TCP_MAX_BACKOFF ? tp->t_rxtshift : TCP_MAX_BACKOFF;
    uint64_t rto = tp->t_rto << shift;
    return rto < max ? rto : max;
}

/*
 * RFC 6298 2.2-2.4 with alpha = 1/8, beta = 1/4, K = 4 and G = 1 ms; with `samples` > 1
 * samples expected per RTT (timestamps, RFC 7323 appendix G), alpha / samples and
 * beta / samples, so that a window's worth of samples weighs what one did.
 */
static void tcp_rtt_update(struct tcpe_conn *tp, uint64_t rtt, uint32_t samples)
{
    const struct tcpe_params *p = &tp->stack->p;
    if (rtt == 0) {
        rtt = 1; /* srtt 0 means "no sample yet" */
    }
    if (tp->t_srtt == 0) {
        tp->t_srtt = rtt;
        tp->t_rttvar = rtt / 2;
    } else if (samples <= 1) {
        uint64_t delta = tp->t_srtt > rtt ? tp->t_srtt - rtt : rtt - tp->t_srtt;
        tp->t_rttvar = (3 * tp->t_rttvar + delta) / 4;
        tp->t_srtt = (7 * tp->t_srtt + rtt) / 8;
    } else {
        /* Moved by a fraction of the difference; every value is below a day in ns, so the
         * differences fit in 63 bits. */
        int64_t n = samples;
        uint64_t delta = tp->t_srtt > rtt ? tp->t_srtt - rtt : rtt - tp->t_srtt;
        tp->t_rttvar =
            (uint64_t)((int64_t)tp->t_rttvar + ((int64_t)delta - (int64_t)tp->t_rttvar) / (4 * n));
        tp->t_srtt =
            (uint64_t)((int64_t)tp->t_srtt + ((int64_t)rtt - (int64_t)tp->t_srtt) / (8 * n));
        if (tp->t_srtt == 0) {
            tp->t_srtt = 1;
        }
    }
    uint64_t var = 4 * tp->t_rttvar > TCP_RTO_CLOCK_G ? 4 * tp->t_rttvar : TCP_RTO_CLOCK_G;
    uint64_t rto = tp->t_srtt + var;
    tp->t_rto = rto < p->rto_min ? p->rto_min : rto > p->rto_max ? p->rto_max : rto;
    tp->t_rxtshift = 0; /* a valid sample ends the backoff (Karn, RFC 6298 5.7) */
    tp->t_rxtcount = 0; /* which needs an ACK of new data: no give-up either */
}

void tcp_rtt_sample(struct tcpe_conn *tp, uint64_t rtt)
{
    tcp_rtt_update(tp, rtt, 1);
}

/* The connection's timestamp clock (RFC 7323 5.4): milliseconds, offset per connection. Taken
 * modulo its period first, so no `now` can overflow. */
uint32_t tcp_ts_now(const struct tcpe_conn *tp, uint64_t now)
{
    return (uint32_t)((now % TCP_TS_PERIOD + tp->ts_offset) % TCP_TS_PERIOD / TCP_TS_TICK);
}

/*
 * An RTT sample from the TSecr of an ACK that advanced SND.UNA (RFC 7323 4.2, the RTTM rule):
 * the echo is the TSval of the segment that made the peer send it, retransmission or not, so
 * Karn's ambiguity does not arise. `flight` is FlightSize before the ACK, for the number of
 * samples expected per RTT, ceil(FlightSize / (2 * SMSS)) (appendix G). An echo from the future
 * or more than an hour old says nothing and is ignored. Returns whether a sample was taken.
 */
bool tcp_rtt_sample_ts(struct tcpe_conn *tp, uint32_t ecr, uint32_t flight, uint64_t now)
{
    uint32_t ticks = tcp_ts_now(tp, now) - ecr;
    if ((int32_t)ticks < 0 || ticks > TCP_TS_RTT_MAX) {
        return false;
    }
    uint32_t twice = 2u * tp->t_maxseg;
    uint32_t samples = (uint32_t)(((uint64_t)flight + twice - 1) / twice);
    tcp_rtt_update(tp, (uint64_t)ticks * TCP_TS_TICK, samples);
    return true;
}

/* (Re)starts the retransmission timer for the oldest outstanding segment (RFC 6298 5.1, 5.3). */
void tcp_rexmt_restart(struct tcpe_conn *tp, uint64_t now)
{
    tcp_timer_stop(tp, TCP_T_PERSIST);
    tcp_timer_set(tp, TCP_T_REXMT, now + tcp_rto_current(tp));
}

/*
 * Arms the persist timer with its own backoff: the first probe one RTO after the window closed
 * (RFC 9293 3.8.6.1, RFC 1122 4.2.2.17), each next one twice as late, never later than rto_max
 * (RFC 6298 5.5's bound). The RTO is the estimate before any retransmission backoff, which a
 * closing window ends (tcp_output). FreeBSD's 5 s floor (TCPTV_PERSMIN) is not copied: it
 * delays the first probe well past the RTO the RFCs ask for.
 */
void tcp_setpersist(struct tcpe_conn *tp, uint64_t now)
{
    uint64_t max = tp->stack->p.rto_max;
    unsigned shift = tp->t_persist_shift < TCP_MAX_BACKOFF ? tp->t_persist_shift : TCP_MAX_BACKOFF;
    uint64_t t = tp->t_rto << shift;
    if (tp->t_persist_shift < TCP_MAX_BACKOFF) {
        tp->t_persist_shift++;
    }
    tcp_timer_set(tp, TCP_T_PERSIST, now + (t < max ? t : max));
}

/*
 * Retransmission timeout: RFC 6298 5.4-5.6, RFC 5681 3.1 (eq. 4) and RFC 6582 section 4. The
 * connection is given up after `limit` timeouts in a row without SND.UNA advancing: RFC 1122
 * 4.2.3.5 counts the retransmissions of one segment. The backoff, by Karn's rule, lasts until
 * an RTT sample instead, and a connection that moves a little after each timeout may never get
 * one (every segment it times is lost or discarded beyond a hole and then resent); counting its
 * timeouts together would give up on a connection that is getting through.
 */
static void tcp_timer_rexmt(struct tcpe_conn *tp, uint64_t now)
{
    const struct tcpe_params *p = &tp->stack->p;
    uint32_t limit = TCPE_HAVE_ESTABLISHED(tp->state) ? p->rexmt_limit : p->syn_limit;
    if (tp->t_rxtcount >= limit) {
        tcp_drop(tp, now, TCPE_EV_TIMEDOUT);
        return;
    }
    tp->t_rxtcount++;
    if (tp->t_rxtshift < TCP_MAX_RXTSHIFT) {
        tp->t_rxtshift++;
    }
    TCP_STAT_INC(tp, timeouts);
    if (!TCPE_HAVE_ESTABLISHED(tp->state)) {
        /* Resend the SYN (or SYN-ACK); the first window will be one segment. */
        tp->t_flags |= TF_SYN_REXMT;
        tp->snd_nxt = tp->iss;
    } else {
        if (tp->t_rxtshift == 1) {
            /* Only the first timeout of a segment halves the threshold (RFC 5681 eq. 4). */
            uint32_t half = tcp_flight_size(tp) / 2;
            tp->snd_ssthresh = half > 2u * tp->t_maxseg ? half : 2u * tp->t_maxseg;
        }
        tp->snd_cwnd = tp->t_maxseg;
        tp->bytes_acked = 0;
        tp->snd_recover = tp->snd_max;
        tp->t_flags &= ~(TF_RECOVERY | TF_PARTIALACK);
        tp->t_dupacks = 0;
        tp->snd_limited = 0;
        tp->snd_nxt = tp->snd_una;
        tcp_sb_clear(tp); /* RFC 6675 5.1: what the peer SACKed counts as reneged */
    }
    tp->t_flags &= ~TF_RTTIMING; /* Karn: nothing sent before now can be timed */
    tcp_rexmt_restart(tp, now);
    tcp_output(tp, now);
}

/* Persist: probe a zero window, or force out what sender SWS avoidance holds back. Probes that
 * the peer answers keep the connection open forever (RFC 9293 3.8.6.1); unanswered ones count
 * toward the same limit as retransmissions. */
static void tcp_timer_persist(struct tcpe_conn *tp, uint64_t now)
{
    if (tp->snd_wnd == 0) {
        if (tp->t_probes >= tp->stack->p.rexmt_limit) {
            tcp_drop(tp, now, TCPE_EV_TIMEDOUT);
            return;
        }
        tp->t_probes++;
        tp->t_flags |= TF_WINDOW_PROBE;
    } else {
        tp->t_flags |= TF_FORCE;
    }
    tcp_output(tp, now);
    tp->t_flags &= ~(TF_WINDOW_PROBE | TF_FORCE);
}

static void tcp_timer_delack(struct tcpe_conn *tp, uint64_t now)
{
    TCP_STAT_INC(tp, delayed_acks);
    tcp_send_ack_now(tp, now);
}

static void tcp_timer_2msl(struct tcpe_conn *tp, uint64_t now)
{
    HO_ASSERT(tp->state == TCPE_TIME_WAIT || tp->state == TCPE_FIN_WAIT_2, "2MSL timer in state %s",
              tcpe_state_name(tp->state));
    tcp_close(tp, now, TCPE_EV_CLOSED);
}

void tcp_run_timers(struct tcpe_conn *tp, uint64_t now)
{
    static void (*const handlers[TCP_NTIMERS])(struct tcpe_conn *, uint64_t) = {
        [TCP_T_REXMT] = tcp_timer_rexmt,
        [TCP_T_PERSIST] = tcp_timer_persist,
        [TCP_T_DELACK] = tcp_timer_delack,
        [TCP_T_2MSL] = tcp_timer_2msl,
    };
    for (int i = 0; i < TCP_NTIMERS && tp->state != TCPE_CLOSED; i++) {
        if (tp->t_timer[i] <= now) {
            tcp_timer_stop(tp, (enum tcp_timer)i);
            handlers[i](tp, now);
        }
    }
}
