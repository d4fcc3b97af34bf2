/*
 * tcp_state.c - the state names, the one function that changes a connection's state, and the
 * transitions that take a connection apart: closing, dropping, TIME_WAIT.
 *
 * Every state change in the engine goes through tcp_set_state, which checks the transition
 * against RFC 9293's diagram (Figure 5) and hands it to the trace callback, so a trace of the
 * transitions is complete by construction.
 */
#include "handoff/assert.h"
#include "tcp_var.h"

static const char *const tcp_state_names[TCPE_NSTATES] = {
    [TCPE_CLOSED] = "CLOSED",           [TCPE_LISTEN] = "LISTEN",
    [TCPE_SYN_SENT] = "SYN_SENT",       [TCPE_SYN_RECEIVED] = "SYN_RECEIVED",
    [TCPE_ESTABLISHED] = "ESTABLISHED", [TCPE_FIN_WAIT_1] = "FIN_WAIT_1",
    [TCPE_FIN_WAIT_2] = "FIN_WAIT_2",   [TCPE_CLOSE_WAIT] = "CLOSE_WAIT",
    [TCPE_CLOSING] = "CLOSING",         [TCPE_LAST_ACK] = "LAST_ACK",
    [TCPE_TIME_WAIT] = "TIME_WAIT",
};

const char *tcpe_state_name(int state)
{
    return state >= 0 && state < TCPE_NSTATES ? tcp_state_names[state] : "?";
}

static const char *const tcp_drop_names[TCPE_NDROPS] = {
    [TCPE_DROP_NO_CONN] = "no_conn",         [TCPE_DROP_MALFORMED] = "malformed",
    [TCPE_DROP_BAD_FLAGS] = "bad_flags",     [TCPE_DROP_OUT_OF_WINDOW] = "out_of_window",
    [TCPE_DROP_BAD_ACK] = "bad_ack",         [TCPE_DROP_RST_INVALID] = "rst_invalid",
    [TCPE_DROP_SYN_INVALID] = "syn_invalid", [TCPE_DROP_OOO_FULL] = "ooo_full",
    [TCPE_DROP_BACKLOG] = "backlog",         [TCPE_DROP_NOMEM] = "nomem",
    [TCPE_DROP_AFTER_CLOSE] = "after_close", [TCPE_DROP_PAWS] = "paws",
    [TCPE_DROP_NO_TS] = "no_timestamp",
};

const char *tcpe_drop_name(int reason)
{
    return reason >= 0 && reason < TCPE_NDROPS ? tcp_drop_names[reason] : "?";
}

/*
 * The transitions RFC 9293 Figure 5 allows, plus the ones its text adds (any state to CLOSED on
 * RST, abort or timeout; SYN_SENT with a FIN queued going straight to FIN_WAIT_1 when the
 * handshake completes, as FreeBSD does). One bit per target state.
 */
#define B(s) (1u << (s))
static const uint16_t tcp_allowed[TCPE_NSTATES] = {
    [TCPE_CLOSED] = B(TCPE_LISTEN) | B(TCPE_SYN_SENT),
    [TCPE_LISTEN] = B(TCPE_CLOSED) | B(TCPE_SYN_RECEIVED),
    [TCPE_SYN_SENT] =
        B(TCPE_CLOSED) | B(TCPE_SYN_RECEIVED) | B(TCPE_ESTABLISHED) | B(TCPE_FIN_WAIT_1),
    [TCPE_SYN_RECEIVED] = B(TCPE_CLOSED) | B(TCPE_ESTABLISHED) | B(TCPE_FIN_WAIT_1),
    [TCPE_ESTABLISHED] = B(TCPE_CLOSED) | B(TCPE_FIN_WAIT_1) | B(TCPE_CLOSE_WAIT),
    [TCPE_FIN_WAIT_1] = B(TCPE_CLOSED) | B(TCPE_FIN_WAIT_2) | B(TCPE_CLOSING) | B(TCPE_TIME_WAIT),
    [TCPE_FIN_WAIT_2] = B(TCPE_CLOSED) | B(TCPE_TIME_WAIT),
    [TCPE_CLOSE_WAIT] = B(TCPE_CLOSED) | B(TCPE_LAST_ACK),
    [TCPE_CLOSING] = B(TCPE_CLOSED) | B(TCPE_TIME_WAIT),
    [TCPE_LAST_ACK] = B(TCPE_CLOSED),
    [TCPE_TIME_WAIT] = B(TCPE_CLOSED),
};
#undef B

void tcp_set_state(struct tcpe_conn *tp, enum tcpe_state to, uint64_t now)
{
    enum tcpe_state from = tp->state;
    HO_ASSERT(from < TCPE_NSTATES && to < TCPE_NSTATES && (tcp_allowed[from] & (1u << to)),
              "transition %s -> %s", tcpe_state_name(from), tcpe_state_name(to));
    tp->state = (uint8_t)to;
    if (to == TCPE_ESTABLISHED || (to == TCPE_FIN_WAIT_1 && from < TCPE_ESTABLISHED)) {
        TCP_STAT_INC(tp, conns_opened);
    }
    struct tcpe_stack *s = tp->stack;
    if (s->p.ops.trace != NULL) {
        s->p.ops.trace(s->p.ctx, tp, from, to, now);
    }
}

/* Takes a passive connection off its listener's books (queue length and accept queue). */
void tcp_listener_unlink(struct tcpe_conn *tp)
{
    struct tcpe_conn *l = tp->listener;
    if (l == NULL) {
        return;
    }
    struct tcpe_conn **pp = &l->acc_head;
    struct tcpe_conn *prev = NULL;
    while (*pp != NULL && *pp != tp) {
        prev = *pp;
        pp = &(*pp)->acc_next;
    }
    if (*pp == tp) {
        *pp = tp->acc_next;
        if (l->acc_tail == tp) {
            l->acc_tail = prev;
        }
        HO_ASSERT(l->acc_qlen > 0, "accept queue length underflow");
        l->acc_qlen--;
    }
    tp->acc_next = NULL;
    tp->listener = NULL;
    HO_ASSERT(l->qlen > 0, "listener queue length underflow");
    l->qlen--;
}

/*
 * Moves tp to CLOSED and reports ev (0 for none). It leaves the demux table at once, so the
 * 4-tuple is free for a new connection, and its timers stop. An unaccepted passive connection
 * is freed by tcp_leave (it carries TF_RELEASED). A reset or abort discards the data; an orderly
 * close keeps unread data for tcpe_recv.
 */
void tcp_close(struct tcpe_conn *tp, uint64_t now, unsigned ev)
{
    struct tcpe_stack *s = tp->stack;
    if (tp->state != TCPE_CLOSED) {
        tcp_set_state(tp, TCPE_CLOSED, now);
    }
    for (int i = 0; i < TCP_NTIMERS; i++) {
        tcp_timer_stop(tp, (enum tcp_timer)i);
    }
    tcp_hash_remove(tp);
    tcp_listener_unlink(tp);
    tcp_buf_free(&tp->snd, &s->alloc);
    tcp_reass_free(tp);
    if (ev & (TCPE_EV_RESET | TCPE_EV_TIMEDOUT)) {
        tcp_buf_free(&tp->rcv, &s->alloc);
    }
    if (ev & TCPE_EV_RESET) {
        TCP_STAT_INC(tp, conns_reset);
    }
    if (ev & TCPE_EV_TIMEDOUT) {
        TCP_STAT_INC(tp, conns_timedout);
    }
    if (ev != 0) {
        tcp_event(tp, ev);
    }
}

/* Aborts tp: a RST to the peer if it knows of the connection, then CLOSED with ev. */
void tcp_drop(struct tcpe_conn *tp, uint64_t now, unsigned ev)
{
    if (TCPE_HAVE_RCVD_SYN(tp->state) && tp->state != TCPE_TIME_WAIT) {
        tcp_respond(tp->stack, tp, &tp->tuple, tp->snd_max, tp->rcv_nxt, TCPE_RST | TCPE_ACK);
    }
    tcp_close(tp, now, ev);
}

/* Both FINs are acknowledged: wait 2*MSL for strays (RFC 9293 3.6), holding only the TCB and
 * any data the application has not read. */
void tcp_enter_time_wait(struct tcpe_conn *tp, uint64_t now)
{
    struct tcpe_stack *s = tp->stack;
    tcp_set_state(tp, TCPE_TIME_WAIT, now);
    for (int i = 0; i < TCP_NTIMERS; i++) {
        tcp_timer_stop(tp, (enum tcp_timer)i);
    }
    tcp_timer_set(tp, TCP_T_2MSL, now + 2 * s->p.msl);
    tcp_buf_free(&tp->snd, &s->alloc);
    tcp_reass_free(tp);
}
