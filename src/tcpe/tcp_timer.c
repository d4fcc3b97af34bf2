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

/* RFC 6298 2.2-2.4 with alpha = 1/8, beta = 1/4, K = 4 and G = 1 ms. */
void tcp_rtt_sample(struct tcpe_conn *tp, uint64_t rtt)
{
    const struct tcpe_params *p = &tp->stack->p;
    if (rtt == 0) {
        rtt = 1; /* srtt 0 means "no sample yet" */
    }
    if (tp->t_srtt == 0) {
        tp->t_srtt = rtt;
        tp->t_rttvar = rtt / 2;
    } else {
        uint64_t delta = tp->t_srtt > rtt ? tp->t_srtt - rtt : rtt - tp->t_srtt;
        tp->t_rttvar = (3 * tp->t_rttvar + delta) / 4;
        tp->t_srtt = (7 * tp->t_srtt + rtt) / 8;
    }
    uint64_t var = 4 * tp->t_rttvar > TCP_RTO_CLOCK_G ? 4 * tp->t_rttvar : TCP_RTO_CLOCK_G;
    uint64_t rto = tp->t_srtt + var;
    tp->t_rto = rto < p->rto_min ? p->rto_min : rto > p->rto_max ? p->rto_max : rto;
    tp->t_rxtshift = 0; /* a valid sample ends the backoff (Karn, RFC 6298 5.7) */
}

/* (Re)starts the retransmission timer for the oldest outstanding segment (RFC 6298 5.1, 5.3). */
void tcp_rexmt_restart(struct tcpe_conn *tp, uint64_t now)
{
    tcp_timer_stop(tp, TCP_T_PERSIST);
    tcp_timer_set(tp, TCP_T_REXMT, now + tcp_rto_current(tp));
}

/* Arms the persist timer with its own backoff, within FreeBSD's 5 s .. 60 s. */
void tcp_setpersist(struct tcpe_conn *tp, uint64_t now)
{
    unsigned shift = tp->t_persist_shift < TCP_MAX_BACKOFF ? tp->t_persist_shift : TCP_MAX_BACKOFF;
    uint64_t t = tp->t_rto << shift;
    t = t < TCP_PERSIST_MIN ? TCP_PERSIST_MIN : t > TCP_PERSIST_MAX ? TCP_PERSIST_MAX : t;
    if (tp->t_persist_shift < TCP_MAX_BACKOFF) {
        tp->t_persist_shift++;
    }
    tcp_timer_set(tp, TCP_T_PERSIST, now + t);
}

/* Retransmission timeout: RFC 6298 5.4-5.6, RFC 5681 3.1 (eq. 4) and RFC 6582 section 4. */
static void tcp_timer_rexmt(struct tcpe_conn *tp, uint64_t now)
{
    const struct tcpe_params *p = &tp->stack->p;
    uint32_t limit = TCPE_HAVE_ESTABLISHED(tp->state) ? p->rexmt_limit : p->syn_limit;
    if (tp->t_rxtshift >= limit) {
        tcp_drop(tp, now, TCPE_EV_TIMEDOUT);
        return;
    }
    tp->t_rxtshift++;
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
        tp->snd_nxt = tp->snd_una;
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
