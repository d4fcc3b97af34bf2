/*
 * tcp_usr.c - what the application asks of a connection: listen, connect, accept, send,
 * receive, shut down, release, abort, and the read-only queries.
 *
 * Called by the owner of the stack (a socket layer, the NIC firmware's command handlers, the
 * simulator's clients). Each call does its work, runs tcp_output if the work may allow a
 * segment, and ends with tcp_leave, which delivers the events the call raised. The RFC 9293
 * user-call semantics (3.10.1-3.10.5) decide which states accept which call.
 */
#include "handoff/assert.h"
#include "handoff/err.h"
#include "tcp_var.h"

int tcpe_listen(struct tcpe_stack *s, uint32_t local_ip, uint16_t port, uint32_t backlog,
                struct tcpe_conn **out)
{
    *out = NULL;
    if (port == 0) {
        return HO_EINVAL;
    }
    struct tcpe_tuple t = {local_ip, 0, port, 0};
    if (tcp_hash_find(s, &t) != NULL) {
        return HO_EEXIST;
    }
    struct tcpe_conn *l = tcp_conn_new(s, &t);
    if (l == NULL) {
        return HO_ENOMEM;
    }
    l->backlog = backlog ? backlog : 128;
    (void)tcp_hash_insert(l); /* cannot fail: just looked */
    tcp_set_state(l, TCPE_LISTEN, 0);
    *out = l;
    return HO_OK;
}

struct tcpe_conn *tcpe_accept(struct tcpe_conn *l)
{
    if (l->state != TCPE_LISTEN || l->acc_head == NULL) {
        return NULL;
    }
    struct tcpe_conn *tp = l->acc_head;
    tcp_listener_unlink(tp);
    tp->t_flags &= ~TF_RELEASED;
    /* Whatever arrived while it waited in the queue is news to the new owner. */
    unsigned ev = TCPE_EV_CONNECTED | TCPE_EV_WRITABLE;
    if (tp->rcv.len > 0 || TCPE_HAVE_RCVD_FIN(tp->state)) {
        ev |= TCPE_EV_READABLE;
    }
    tcp_event(tp, ev);
    return tp;
}

int tcpe_connect(struct tcpe_stack *s, const struct tcpe_tuple *t, uint64_t now,
                 struct tcpe_conn **out)
{
    *out = NULL;
    if (t->local_port == 0 || t->remote_port == 0 || t->remote_ip == 0) {
        return HO_EINVAL;
    }
    if (tcp_hash_find(s, t) != NULL) {
        return HO_EEXIST;
    }
    struct tcpe_conn *tp = tcp_conn_new(s, t);
    if (tp == NULL) {
        return HO_ENOMEM;
    }
    (void)tcp_hash_insert(tp);
    tp->iss = tcp_new_isn(s, t, now);
    tp->snd_una = tp->snd_nxt = tp->snd_max = tp->iss;
    tp->snd_recover = tp->iss;
    tcp_set_state(tp, TCPE_SYN_SENT, now);
    tcp_output(tp, now);
    *out = tp;
    tcp_leave_stack(s);
    return HO_OK;
}

/* May the application still queue data? (RFC 9293 3.10.2) */
static bool tcp_can_send(const struct tcpe_conn *tp)
{
    if (tp->t_flags & TF_NEEDFIN) {
        return false;
    }
    switch (tp->state) {
    case TCPE_SYN_SENT:
    case TCPE_SYN_RECEIVED:
    case TCPE_ESTABLISHED:
    case TCPE_CLOSE_WAIT:
        return true;
    default:
        return false;
    }
}

int tcpe_send(struct tcpe_conn *c, const void *data, uint32_t len, uint64_t now)
{
    bool virt = (c->t_flags & TF_VIRTUAL) != 0;
    if (len > INT32_MAX || (virt != (data == NULL) && len > 0)) {
        return HO_EINVAL;
    }
    if (!tcp_can_send(c)) {
        return HO_ESTATE;
    }
    uint32_t room = c->snd.len < c->sndbuf ? c->sndbuf - c->snd.len : 0;
    uint32_t n = len < room ? len : room;
    if (n > 0) {
        int err = tcp_buf_append(&c->snd, &c->stack->alloc, virt ? NULL : data, n);
        if (err < 0) {
            tcp_leave(c);
            return err;
        }
        tcp_output(c, now);
    }
    tcp_leave(c);
    return (int)n;
}

int tcpe_recv(struct tcpe_conn *c, void *buf, uint32_t len, uint64_t now)
{
    bool virt = (c->t_flags & TF_VIRTUAL) != 0;
    if (len > INT32_MAX || (!virt && buf == NULL && len > 0)) {
        return HO_EINVAL;
    }
    uint32_t n = len < c->rcv.len ? len : c->rcv.len;
    if (n > 0) {
        if (!virt) {
            tcp_buf_copy(&c->rcv, 0, buf, n);
        }
        tcp_buf_drop(&c->rcv, &c->stack->alloc, n);
        if (TCPE_HAVE_ESTABLISHED(c->state) && tcp_window_update_due(c)) {
            tcp_send_ack_now(c, now);
        }
    }
    tcp_leave(c);
    return (int)n;
}

/* RFC 9293 3.10.4 for a half close: the FIN follows the queued data; the state moves now. */
static int tcp_usr_shutdown(struct tcpe_conn *tp, uint64_t now)
{
    if (tp->state == TCPE_CLOSED || tp->state == TCPE_LISTEN) {
        return HO_ESTATE;
    }
    if (tp->t_flags & TF_NEEDFIN) {
        return HO_OK;
    }
    tp->t_flags |= TF_NEEDFIN;
    if (tp->state == TCPE_ESTABLISHED) {
        tcp_set_state(tp, TCPE_FIN_WAIT_1, now);
    } else if (tp->state == TCPE_CLOSE_WAIT) {
        tcp_set_state(tp, TCPE_LAST_ACK, now);
    }
    /* SYN_SENT and SYN_RECEIVED move to FIN_WAIT_1 when the handshake completes. */
    tcp_output(tp, now);
    return HO_OK;
}

int tcpe_shutdown(struct tcpe_conn *c, uint64_t now)
{
    int err = tcp_usr_shutdown(c, now);
    tcp_leave(c);
    return err;
}

/* Releases a listener: its unaccepted children are reset, then it goes. */
static void tcp_release_listener(struct tcpe_conn *l, uint64_t now)
{
    struct tcpe_stack *s = l->stack;
    struct tcpe_conn *next;
    for (struct tcpe_conn *tp = s->all; tp != NULL; tp = next) {
        next = tp->all_next;
        if (tp->listener == l) {
            tcp_drop(tp, now, 0);
            tcp_free_conn(tp);
        }
    }
    tcp_close(l, now, 0);
    tcp_free_conn(l);
}

void tcpe_release(struct tcpe_conn *c, uint64_t now)
{
    struct tcpe_stack *s = c->stack;
    if (c->state == TCPE_LISTEN) {
        tcp_release_listener(c, now);
        tcp_leave_stack(s);
        return;
    }
    c->t_flags |= TF_RELEASED;
    c->ev = 0;
    switch (c->state) {
    case TCPE_CLOSED:
    case TCPE_TIME_WAIT:
        break; /* freed now, or when 2*MSL ends */
    case TCPE_SYN_SENT:
        tcp_close(c, now, 0); /* RFC 9293 3.10.4: nothing to tell the peer */
        break;
    default:
        if (c->rcv.len > 0) {
            /* Unread data is lost: tell the peer (RFC 1122 4.2.2.13). */
            tcp_drop(c, now, 0);
        } else {
            (void)tcp_usr_shutdown(c, now);
            if (c->state == TCPE_FIN_WAIT_2 && s->p.fin_wait_2_timeout > 0) {
                tcp_timer_set(c, TCP_T_2MSL, now + s->p.fin_wait_2_timeout);
            }
        }
        break;
    }
    tcp_leave(c);
}

void tcpe_abort(struct tcpe_conn *c, uint64_t now)
{
    if (c->state == TCPE_LISTEN) {
        return; /* a listener is closed by tcpe_release */
    }
    if (c->state != TCPE_CLOSED) {
        tcp_drop(c, now, 0);
    }
    tcp_leave(c);
}

/* ---- queries ---- */

unsigned tcpe_conn_poll(struct tcpe_conn *c)
{
    unsigned ev = c->ev;
    c->ev = 0;
    return ev;
}

int tcpe_conn_state(const struct tcpe_conn *c)
{
    return c->state;
}

const struct tcpe_tuple *tcpe_conn_tuple(const struct tcpe_conn *c)
{
    return &c->tuple;
}

struct tcpe_stack *tcpe_conn_stack(const struct tcpe_conn *c)
{
    return c->stack;
}

void tcpe_conn_set_user(struct tcpe_conn *c, void *user)
{
    c->user = user;
}

void *tcpe_conn_user(const struct tcpe_conn *c)
{
    return c->user;
}

uint32_t tcpe_conn_readable(const struct tcpe_conn *c)
{
    return c->rcv.len;
}

bool tcpe_conn_eof(const struct tcpe_conn *c)
{
    return c->rcv.len == 0 && (c->t_flags & TF_GOTFIN);
}

uint32_t tcpe_conn_writable(const struct tcpe_conn *c)
{
    if (!tcp_can_send(c)) {
        return 0;
    }
    return c->snd.len < c->sndbuf ? c->sndbuf - c->snd.len : 0;
}

uint32_t tcpe_conn_unacked(const struct tcpe_conn *c)
{
    return c->snd.len;
}

void tcpe_conn_info(const struct tcpe_conn *c, struct tcpe_info *info)
{
    info->state = c->state;
    info->snd_una = c->snd_una;
    info->snd_nxt = c->snd_nxt;
    info->snd_max = c->snd_max;
    info->rcv_nxt = c->rcv_nxt;
    info->snd_wnd = c->snd_wnd;
    info->rcv_wnd = tcp_rcv_window(c);
    info->cwnd = c->snd_cwnd;
    info->ssthresh = c->snd_ssthresh;
    info->maxseg = c->t_maxseg;
    info->snd_wscale = c->snd_wscale;
    info->rcv_wscale = c->rcv_wscale;
    info->srtt = c->t_srtt;
    info->rttvar = c->t_rttvar;
    info->rto = tcp_rto_current(c);
    info->rxtshift = c->t_rxtshift;
    info->dupacks = c->t_dupacks;
    info->in_recovery = (c->t_flags & TF_RECOVERY) != 0;
    info->ooo_count = c->ooo_count;
    info->sndbuf_len = c->snd.len;
    info->rcvbuf_len = c->rcv.len;
    info->virtual_payload = (c->t_flags & TF_VIRTUAL) != 0;
    info->timestamps = (c->t_flags & TF_TSTAMP) != 0;
    info->sack = (c->t_flags & TF_SACK) != 0;
    info->sack_ranges = c->sb_n;
    info->ts_recent = c->ts_recent;
    info->stats = c->stats;
}

int tcpe_conn_set_virtual(struct tcpe_conn *c, bool virtual_payload)
{
    if (c->snd.len > 0 || c->rcv.len > 0 || c->ooo != NULL) {
        return HO_ESTATE;
    }
    if (virtual_payload) {
        c->t_flags |= TF_VIRTUAL;
    } else {
        c->t_flags &= ~TF_VIRTUAL;
    }
    return HO_OK;
}

void tcpe_conn_set_nodelay(struct tcpe_conn *c, bool nodelay)
{
    if (nodelay) {
        c->t_flags |= TF_NODELAY;
    } else {
        c->t_flags &= ~TF_NODELAY;
    }
}
